// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xtrunkctl call { list | show | terminate }: calls in progress, from xtrunkd. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "main.h"

/* A member's string, "-" when it is missing or null. */
static const char *str(const struct xt_json *object, const char *key)
{
	const char *value = xt_json_get_str(object, key);

	return value && *value ? value : "-";
}

static uint64_t num(const struct xt_json *object, const char *key)
{
	return xt_json_get_uint(object, key, 0);
}

/* "4.40", or "-" when the member is null (no RTP seen yet). */
static const char *fixed(const struct xt_json *object, const char *key)
{
	const struct xt_json *v = xt_json_get(object, key);

	return v && v->type == XT_JSON_NUMBER ? v->text : "-";
}

static void print_duration(const char *label, const struct xt_json *v)
{
	uint64_t s;

	if (!v || v->type != XT_JSON_NUMBER)
		return;
	s = strtoull(v->text, NULL, 10);
	if (s >= 3600)
		printf("  %s %" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s", label, s / 3600,
		       s / 60 % 60, s % 60);
	else if (s >= 60)
		printf("  %s %" PRIu64 "m%02" PRIu64 "s", label, s / 60, s % 60);
	else
		printf("  %s %" PRIu64 "s", label, s);
}

static void print_totals(const struct xt_json *call)
{
	printf("\tpackets %" PRIu64 "  bytes %" PRIu64 "  drops %" PRIu64 "  MOS %s\n",
	       num(call, "packets"), num(call, "bytes"), num(call, "drops"), fixed(call, "mos"));
}

static void print_call_head(const struct xt_json *call)
{
	printf("%s  %s  %s -> %s\n", str(call, "id"), str(call, "state"), str(call, "from"),
	       str(call, "to"));
	printf("\tstarted %s", str(call, "started"));
	print_duration("up", xt_json_get(call, "duration_s"));
	print_duration("answered", xt_json_get(call, "answered_s"));
	printf("\n");
}

static int do_list(int argc, char **argv)
{
	const struct xt_json *result;
	struct xt_json *reply;

	if (argc)
		return p_err("unexpected '%s'", argv[0]);
	if (control_request(XT_CTL_CALL_LIST, NULL, NULL, &reply, &result))
		return -1;
	if (json_output) {
		print_json_result(result);
	} else {
		for (const struct xt_json *call = result->child; call; call = call->next) {
			print_call_head(call);
			printf("\tstreams %" PRIu64 "  flows %" PRIu64 "\n", num(call, "streams"),
			       num(call, "flows"));
			print_totals(call);
		}
	}
	xt_json_free(reply);
	return 0;
}

static void print_flow(const struct xt_json *flow)
{
	const struct xt_json *rtp = xt_json_get(flow, "rtp");

	printf("\t%-4s %s -> %s via %s\n", str(flow, "kind"), str(flow, "local"), str(flow, "to"),
	       str(flow, "via"));
	printf("\t\tfrom %s  %s  packets %" PRIu64 "  bytes %" PRIu64 "  drops %" PRIu64 "\n",
	       str(flow, "from_side"), xt_json_get_bool(flow, "xdp") ? "xdp" : "userspace",
	       num(flow, "packets"), num(flow, "bytes"), num(flow, "drops"));
	if (num(flow, "userspace_packets"))
		printf("\t\tuserspace packets %" PRIu64 "  bytes %" PRIu64 "  drops %" PRIu64 "\n",
		       num(flow, "userspace_packets"), num(flow, "userspace_bytes"),
		       num(flow, "userspace_drops"));
	if (rtp && rtp->type == XT_JSON_OBJECT) {
		if (xt_json_get(rtp, "ssrc"))
			printf("\t\tssrc 0x%08" PRIx64 "  lost %" PRIu64 "/%" PRIu64
			       "  jitter %s ms  MOS %s\n",
			       num(rtp, "ssrc"), num(rtp, "lost"), num(rtp, "expected"),
			       fixed(rtp, "jitter_ms"), fixed(rtp, "mos"));
		else
			printf("\t\trtp no packets yet\n");
	}
}

/* RTP and RTCP endpoints: "IP:RTP/RTCP" when they share the address, else both. */
static void print_pair(const char *rtp, const char *rtcp)
{
	const char *rtp_port = strrchr(rtp, ':'), *rtcp_port = strrchr(rtcp, ':');

	if (rtp_port && rtcp_port && rtp_port - rtp == rtcp_port - rtcp &&
	    !strncmp(rtp, rtcp, (size_t)(rtp_port - rtp)))
		printf("%s/%s", rtp, rtcp_port + 1);
	else
		printf("%s, %s", rtp, rtcp);
}

static void print_call(const struct xt_json *call)
{
	const struct xt_json *legs = xt_json_get(call, "legs");
	const struct xt_json *streams = xt_json_get(call, "streams");

	print_call_head(call);
	for (const struct xt_json *leg = legs ? legs->child : NULL; leg; leg = leg->next) {
		printf("\tleg %s (%s)  peer %s\n", str(leg, "side"), str(leg, "role"),
		       str(leg, "peer"));
		printf("\t\tcall-id %s\n", str(leg, "call_id"));
		printf("\t\ttags local %s  remote %s\n", str(leg, "local_tag"),
		       str(leg, "remote_tag"));
	}
	for (const struct xt_json *st = streams ? streams->child : NULL; st; st = st->next) {
		const struct xt_json *sides = xt_json_get(st, "sides");
		const struct xt_json *flows = xt_json_get(st, "flows");

		printf("\tstream %" PRIu64 "  clock %" PRIu64 " Hz  %s\n", num(st, "index"),
		       num(st, "clock_hz"),
		       xt_json_get_bool(st, "installed") ? "flows installed" : "not installed");
		for (const struct xt_json *s = sides ? sides->child : NULL; s; s = s->next) {
			printf("\t%-5s relay ", str(s, "side"));
			print_pair(str(s, "relay_rtp"), str(s, "relay_rtcp"));
			printf("  peer ");
			print_pair(str(s, "peer_rtp"), str(s, "peer_rtcp"));
			printf("\n");
		}
		for (const struct xt_json *f = flows ? flows->child : NULL; f; f = f->next)
			print_flow(f);
	}
	printf("\ttotal flows %" PRIu64 "\n", num(call, "flows"));
	print_totals(call);
}

static int one_call(const char *command, int argc, char **argv, bool show)
{
	const struct xt_json *result;
	struct xt_json *reply;

	REQ_ARGS(1);
	if (argc > 1)
		return p_err("unexpected '%s' after the call's ID", argv[1]);
	if (control_request(command, XT_CTL_KEY_ID, argv[0], &reply, &result))
		return -1;
	if (json_output)
		print_json_result(result);
	else if (show)
		print_call(result);
	else
		printf("call %s terminated\n", argv[0]);
	xt_json_free(reply);
	return 0;
}

static int do_show(int argc, char **argv)
{
	return one_call(XT_CTL_CALL_SHOW, argc, argv, true);
}

static int do_terminate(int argc, char **argv)
{
	return one_call(XT_CTL_CALL_TERMINATE, argc, argv, false);
}

const struct cmd call_cmds[] = {
	{ "list", do_list, NULL, "list the calls in progress, with their media totals" },
	{ "show", do_show, "ID",
	  "show call ID: its legs (Call-ID, tags, peer), its streams (relay ports,\n"
	  "      peers) and their flows with counters and RTP quality (MOS)" },
	{ "terminate", do_terminate, "ID",
	  "hang up call ID: BYE to both legs, or when not answered yet 503 to the\n"
	  "      caller and CANCEL to the callee" },
	{ 0 }
};

int do_call(int argc, char **argv)
{
	return cmd_select(call_cmds, "call", argc, argv);
}
