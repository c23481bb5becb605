// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xtrunkctl flow { add | del | list | show } */
#include <errno.h>
#include <net/if.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xtrunk_abi.h"
#include "clock.h"
#include "flow_json.h"
#include "flow_table.h"
#include "relay_maps.h"
#include "main.h"

static int parse_endpoint(const char *what, const char *text, struct xt_endpoint *ep)
{
	char err[256];

	if (xt_endpoint_parse(text, ep, err, sizeof(err)))
		return p_err("%s %s", what, err);
	return 0;
}

static int open_maps(struct xt_maps *maps)
{
	int rc = xt_maps_open_pinned(maps, pin_dir);

	if (rc == -ENOENT)
		return p_err("no relay maps under %s: attach xtrunk to an interface first "
			     "(%s iface attach DEV)",
			     pin_dir, bin_name);
	if (rc)
		return p_err("cannot open the maps under %s: %s", pin_dir, xt_maps_strerror(rc));
	return 0;
}

static void print_rtp_text(const struct xt_flow_entry *entry)
{
	struct xt_rtp_quality q;

	if (!(entry->flow.flags & XT_FLOW_F_RTP_STATS))
		return;
	if (!xt_rtp_quality(&entry->rtp, &q)) {
		printf("\trtp no packets yet (clock %u Hz)\n", entry->rtp.clock_hz);
		return;
	}
	/* two lines: one would not fit 80 columns */
	printf("\trtp ssrc 0x%08x  lost %" PRIu64 "/%" PRIu64 "  jitter %.1f ms  MOS %.2f\n"
	       "\t    duplicates %" PRIu64 "  reordered %" PRIu64 "\n",
	       q.ssrc, q.lost, q.expected, q.jitter_ms, q.mos, q.duplicates, q.reordered);
}

static void print_flow(const struct xt_flow_entry *entry, uint64_t now_ns)
{
	const struct xt_flow_state *flow = &entry->flow;
	struct xt_flow_text t;

	if (json_output) {
		xt_flow_json(json_wtr, entry, now_ns);
		return;
	}
	xt_flow_text(entry, &t);
	/* two lines, so that an IPv4 flow fits 80 columns whatever it checks */
	printf("%s -> %s via %s dscp %u\n", t.local, t.to, t.via, flow->dscp);
	if (t.spec.has_src) {
		printf("\tfrom %s", t.from);
		if (t.spec.latch)
			printf(" latch%s", t.spec.src.port ? "ed" : "");
		if (t.spec.has_reverse)
			printf(" reverse %s", t.reverse);
		printf("\n");
	}
	print_rtp_text(entry);
	if (t.spec.has_nexthop)
		printf("\tnexthop dev %s lladdr %s\n", t.nexthop_dev, t.nexthop_mac);
	else
		printf("\tnexthop unresolved (FIB lookup per packet)\n");
	printf("\tpackets %" PRIu64 "  bytes %" PRIu64 "  drops %" PRIu64, (uint64_t)flow->packets,
	       (uint64_t)flow->bytes, (uint64_t)flow->src_drops);
	if (flow->last_seen_ns)
		printf("  idle %.1fs", now_ns > flow->last_seen_ns ?
					       (double)(now_ns - flow->last_seen_ns) / 1e9 :
					       0.0);
	printf("\n");
}

/*
 * Cache the next hop in the flow. No route is an error; an unresolved
 * neighbour is not: the flow then asks the FIB per packet and passes packets
 * up (to the controller's userspace path) until it resolves.
 */
static int resolve_nexthop(struct xt_flow_spec *spec)
{
	char peer[XT_ENDPOINT_STRLEN], relay[XT_ENDPOINT_STRLEN];
	int rc = xt_nexthop_resolve(&spec->relay, &spec->peer, &spec->nexthop);

	xt_endpoint_format(&spec->peer, peer, sizeof(peer));
	xt_endpoint_format(&spec->relay, relay, sizeof(relay));
	if (rc == 0) {
		spec->has_nexthop = true;
		return 0;
	}
	if (rc == -EAGAIN) {
		if (!json_output)
			fprintf(stderr,
				"Warning: next hop to %s not resolved yet (no neighbour "
				"entry): the flow falls back to a FIB lookup per packet\n",
				peer);
		return 0;
	}
	if (rc == -ENETUNREACH)
		return p_err("no route from %s to %s", relay, peer);
	return p_err("cannot resolve the next hop from %s to %s: %s", relay, peer, strerror(-rc));
}

static int do_add(int argc, char **argv)
{
	struct xt_flow_spec spec = { .dscp = XT_DEFAULT_DSCP };
	struct xt_maps maps;
	char err[256];
	int rc;

	/* LOCAL to PEER via RELAY [from SRC [latch [reverse LOCAL]]] [rtp HZ] [dscp N] */
	REQ_ARGS(5);
	if (parse_endpoint("local", argv[0], &spec.local))
		return -1;
	NEXT_ARG();
	if (!is_prefix(argv[0], "to"))
		return p_err("expected 'to PEER' after LOCAL, got '%s'", argv[0]);
	NEXT_ARG();
	if (parse_endpoint("peer", argv[0], &spec.peer))
		return -1;
	NEXT_ARG();
	if (!is_prefix(argv[0], "via"))
		return p_err("expected 'via RELAY' after PEER, got '%s'", argv[0]);
	NEXT_ARG();
	REQ_ARGS(1);
	if (parse_endpoint("relay", argv[0], &spec.relay))
		return -1;
	NEXT_ARG();
	while (argc) {
		if (is_prefix(argv[0], "from")) {
			NEXT_ARG();
			REQ_ARGS(1);
			if (parse_endpoint("source", argv[0], &spec.src))
				return -1;
			spec.has_src = true;
		} else if (is_prefix(argv[0], "latch")) {
			spec.latch = true;
		} else if (is_prefix(argv[0], "reverse")) {
			NEXT_ARG();
			REQ_ARGS(1);
			if (parse_endpoint("reverse", argv[0], &spec.reverse))
				return -1;
			spec.has_reverse = true;
		} else if (is_prefix(argv[0], "rtp")) {
			char *end;
			unsigned long hz;

			NEXT_ARG();
			REQ_ARGS(1);
			hz = strtoul(argv[0], &end, 10);
			if (argv[0][0] < '1' || argv[0][0] > '9' || *end || hz > 1000000)
				return p_err(
					"rtp '%s': expected the RTP clock rate in Hz (e.g. 8000)",
					argv[0]);
			spec.rtp_clock_hz = (uint32_t)hz;
		} else if (is_prefix(argv[0], "dscp")) {
			char *end;
			unsigned long dscp;

			NEXT_ARG();
			REQ_ARGS(1);
			dscp = strtoul(argv[0], &end, 0);
			if (argv[0][0] < '0' || argv[0][0] > '9' || *end || dscp > 63)
				return p_err("dscp '%s': expected a number from 0 to 63", argv[0]);
			spec.dscp = (uint8_t)dscp;
		} else {
			return p_err("unexpected '%s' (expected from, latch, reverse, rtp or dscp)",
				     argv[0]);
		}
		NEXT_ARG();
	}
	if (xt_flow_spec_validate(&spec, err, sizeof(err)))
		return p_err("%s", err);
	if (resolve_nexthop(&spec))
		return -1;

	if (open_maps(&maps))
		return -1;
	rc = xt_flow_add(&maps, &spec);
	if (!rc && json_output) {
		struct xt_flow_entry entry;

		if (!xt_flow_get(&maps, &spec.local, &entry))
			print_flow(&entry, xt_monotonic_ns());
	}
	xt_maps_close(&maps);
	if (rc == -EEXIST)
		return p_err(
			"a flow already exists at that LOCAL address and port (delete it first)");
	if (rc == -ENOSPC)
		return p_err("no free relay-address slot for the local address: every slot is "
			     "taken (attach with a larger 'slots')");
	if (rc)
		return p_err("cannot add the flow: %s", strerror(-rc));
	return 0;
}

static int parse_local_only(int argc, char **argv, struct xt_endpoint *local)
{
	REQ_ARGS(1);
	if (argc > 1)
		return p_err("unexpected '%s' after LOCAL", argv[1]);
	return parse_endpoint("local", argv[0], local);
}

static int do_del(int argc, char **argv)
{
	struct xt_endpoint local;
	struct xt_maps maps;
	int rc;

	if (parse_local_only(argc, argv, &local) || open_maps(&maps))
		return -1;
	rc = xt_flow_del(&maps, &local, false);
	xt_maps_close(&maps);
	if (rc == -ENOENT)
		return p_err("no flow at %s", argv[0]);
	if (rc == -EPERM)
		return p_err("the flow at %s is xtrunkd's: it goes when its call ends (xtrunkctl "
			     "call terminate), or when xtrunkd starts again if it died",
			     argv[0]);
	if (rc)
		return p_err("cannot delete the flow at %s: %s", argv[0], strerror(-rc));
	if (json_output) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "deleted", argv[0]);
		jsonw_end_object(json_wtr);
	}
	return 0;
}

static int do_show(int argc, char **argv)
{
	struct xt_flow_entry entry;
	struct xt_endpoint local;
	struct xt_maps maps;
	int rc;

	if (parse_local_only(argc, argv, &local) || open_maps(&maps))
		return -1;
	rc = xt_flow_get(&maps, &local, &entry);
	xt_maps_close(&maps);
	if (rc == -ENOENT)
		return p_err("no flow at %s", argv[0]);
	if (rc)
		return p_err("cannot read the flow at %s: %s", argv[0], strerror(-rc));
	print_flow(&entry, xt_monotonic_ns());
	return 0;
}

static int list_one(const struct xt_flow_entry *entry, void *arg)
{
	print_flow(entry, *(uint64_t *)arg);
	return 0;
}

static int do_list(int argc, char **argv)
{
	uint64_t now = xt_monotonic_ns();
	struct xt_maps maps;
	int rc;

	if (argc)
		return p_err("unexpected '%s'", argv[0]);
	rc = xt_maps_open_pinned(&maps, pin_dir);
	if (rc == -ENOENT) {
		/* Nothing attached: no flows, like an empty table. */
		if (json_output) {
			jsonw_start_array(json_wtr);
			jsonw_end_array(json_wtr);
		}
		return 0;
	}
	if (rc)
		return p_err("cannot open the maps under %s: %s", pin_dir, xt_maps_strerror(rc));
	if (json_output)
		jsonw_start_array(json_wtr);
	rc = xt_flow_foreach(&maps, list_one, &now);
	if (json_output)
		jsonw_end_array(json_wtr);
	xt_maps_close(&maps);
	if (rc)
		return p_err("cannot read the flows: %s", strerror(-rc));
	return 0;
}

const struct cmd flow_cmds[] = {
	{ "add", do_add,
	  "LOCAL to PEER via RELAY [from SRC [latch [reverse LOCAL]]] [rtp HZ] [dscp N]",
	  "a UDP packet arriving at LOCAL (from SRC, when given; SRC port 0: any port)\n"
	  "      leaves from RELAY to PEER, marked with DSCP N (default 46, EF);\n"
	  "      latch (SRC port 0): the first packet from SRC's address fixes the port;\n"
	  "      reverse LOCAL: the flow at LOCAL (the other direction) then sends there;\n"
	  "      rtp HZ: track RTP loss and jitter (RTP clock rate HZ)" },
	{ "del", do_del, "LOCAL", "delete the flow at LOCAL" },
	{ "list", do_list, NULL, "list every flow with its counters" },
	{ "show", do_show, "LOCAL", "show the flow at LOCAL with its counters" },
	{ 0 }
};

int do_flow(int argc, char **argv)
{
	return cmd_select(flow_cmds, "flow", argc, argv);
}
