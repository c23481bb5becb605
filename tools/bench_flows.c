// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_flows: the flow table at scale, on an attached xtrunk's pinned maps.
 *
 *   bench_flows --pin-dir DIR {add|del|memory} --flows N --relay-base IP
 *               --ports-per-addr K --first-port P --via IP --peer IP --src IP
 *
 * Flow i arrives at relay address relay-base + i / K, port first-port + i % K
 * (every port: RTP and RTCP), from src (any port), and leaves from via to
 * peer, with the next hop resolved once and DSCP EF, and RTP statistics at
 * 8 kHz on even ports (RTP) but not odd ones (RTCP): the flows xtrunkd
 * installs for G.711 calls. add and del time N flows
 * through the batched library calls (userspace/lib/flow_batch.c), building
 * the specs included, as a controller would; memory prints the kernel memory
 * of the flow table. Run it in the relay's network namespace (nsenter).
 *
 * Prints one line of "name value" pairs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow_batch.h"
#include "nexthop.h"
#include "relay_maps.h"

#define CHUNK 65536u /* specs built and installed at a time */

struct options {
	const char *pin_dir, *command;
	size_t flows;
	uint32_t relay_base, via, peer, src; /* host order */
	uint32_t ports_per_addr, first_port;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void endpoint_v4(struct xt_endpoint *ep, uint32_t addr, uint16_t port)
{
	uint32_t be = htonl(addr);

	memset(ep, 0, sizeof(*ep));
	ep->family = XT_AF_INET;
	memcpy(ep->addr, &be, 4);
	ep->port = port;
}

static void local_of(const struct options *o, size_t i, struct xt_endpoint *ep)
{
	endpoint_v4(ep, o->relay_base + (uint32_t)(i / o->ports_per_addr),
		    (uint16_t)(o->first_port + i % o->ports_per_addr));
}

static void spec_of(const struct options *o, size_t i, const struct xt_nexthop *nh,
		    struct xt_flow_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	local_of(o, i, &spec->local);
	endpoint_v4(&spec->relay, o->via, spec->local.port);
	endpoint_v4(&spec->peer, o->peer, (uint16_t)(1024 + i % 64000));
	endpoint_v4(&spec->src, o->src, 0);
	spec->has_src = true;
	spec->rtp_clock_hz = spec->local.port % 2 ? 0 : 8000;
	spec->dscp = XT_DEFAULT_DSCP;
	spec->nexthop = *nh;
	spec->has_nexthop = true;
}

static int run_add(const struct options *o, const struct xt_maps *maps)
{
	struct xt_flow_spec *specs = calloc(CHUNK, sizeof(*specs));
	struct xt_endpoint via, peer;
	struct xt_nexthop nh;
	double start, elapsed;
	size_t done = 0, n;
	int err;

	if (!specs)
		return -ENOMEM;
	endpoint_v4(&via, o->via, 1);
	endpoint_v4(&peer, o->peer, 1);
	err = xt_nexthop_resolve(&via, &peer, &nh);
	if (err) {
		fprintf(stderr, "bench_flows: next hop to the peer: %s\n", strerror(-err));
		goto out;
	}
	start = now_s();
	while (done < o->flows) {
		size_t count = o->flows - done < CHUNK ? o->flows - done : CHUNK;

		for (size_t i = 0; i < count; i++)
			spec_of(o, done + i, &nh, &specs[i]);
		err = xt_flow_add_batch(maps, specs, count, &n);
		done += n;
		if (err) {
			fprintf(stderr, "bench_flows: add, after %zu flows: %s\n", done,
				strerror(-err));
			goto out;
		}
	}
	elapsed = now_s() - start;
	printf("add flows %zu seconds %.3f flows_per_s %.0f\n", done, elapsed, done / elapsed);
out:
	free(specs);
	return err;
}

static int run_del(const struct options *o, const struct xt_maps *maps)
{
	struct xt_endpoint *locals = calloc(CHUNK, sizeof(*locals));
	double start, elapsed;
	size_t done = 0, n;
	int err = 0;

	if (!locals)
		return -ENOMEM;
	start = now_s();
	while (done < o->flows) {
		size_t count = o->flows - done < CHUNK ? o->flows - done : CHUNK;

		for (size_t i = 0; i < count; i++)
			local_of(o, done + i, &locals[i]);
		err = xt_flow_del_batch(maps, locals, count, &n);
		done += n;
		if (err) {
			fprintf(stderr, "bench_flows: del, after %zu flows: %s\n", done,
				strerror(-err));
			goto out;
		}
	}
	elapsed = now_s() - start;
	printf("del flows %zu seconds %.3f flows_per_s %.0f\n", done, elapsed, done / elapsed);
out:
	free(locals);
	return err;
}

static int run_memory(const struct options *o, const struct xt_maps *maps)
{
	struct xt_flow_table_memory mem;
	int err = xt_flow_table_memory(maps, &mem);
	uint64_t total;

	if (err) {
		fprintf(stderr, "bench_flows: map memory: %s\n", strerror(-err));
		return err;
	}
	total = mem.flows_bytes + mem.flows_slow_bytes + mem.rtp_stats_bytes;
	printf("memory flows_map_bytes %llu flows_slow_map_bytes %llu rtp_stats_map_bytes %llu "
	       "capacity %u flow_value %u flow_slow_value %u rtp_stats_value %u flows %zu "
	       "bytes_per_flow %.1f\n",
	       (unsigned long long)mem.flows_bytes, (unsigned long long)mem.flows_slow_bytes,
	       (unsigned long long)mem.rtp_stats_bytes, mem.capacity, mem.flow_value_size,
	       mem.flow_slow_value_size, mem.rtp_stats_value_size, o->flows,
	       o->flows ? (double)total / (double)o->flows : 0);
	return 0;
}

static int parse_v4(const char *text, uint32_t *addr)
{
	struct in_addr a;

	if (inet_pton(AF_INET, text, &a) != 1)
		return -EINVAL;
	*addr = ntohl(a.s_addr);
	return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = { { "pin-dir", required_argument, NULL, 'd' },
					      { "flows", required_argument, NULL, 'n' },
					      { "relay-base", required_argument, NULL, 'r' },
					      { "ports-per-addr", required_argument, NULL, 'k' },
					      { "first-port", required_argument, NULL, 'p' },
					      { "via", required_argument, NULL, 'v' },
					      { "peer", required_argument, NULL, 'e' },
					      { "src", required_argument, NULL, 's' },
					      { 0 } };
	int opt, err = 0;

	memset(o, 0, sizeof(*o));
	o->pin_dir = XT_PIN_DIR;
	o->ports_per_addr = 62500;
	o->first_port = 2000;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
		switch (opt) {
		case 'd':
			o->pin_dir = optarg;
			break;
		case 'n':
			o->flows = strtoul(optarg, NULL, 10);
			break;
		case 'r':
			err |= parse_v4(optarg, &o->relay_base);
			break;
		case 'k':
			o->ports_per_addr = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			o->first_port = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'v':
			err |= parse_v4(optarg, &o->via);
			break;
		case 'e':
			err |= parse_v4(optarg, &o->peer);
			break;
		case 's':
			err |= parse_v4(optarg, &o->src);
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc - 1)
		return -EINVAL;
	o->command = argv[optind];
	if (err || !o->ports_per_addr || !o->first_port ||
	    o->first_port + o->ports_per_addr > 65536)
		return -EINVAL;
	if (strcmp(o->command, "memory") && (!o->flows || !o->relay_base || !o->via || !o->peer))
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct xt_maps maps;
	struct options o;
	int err;

	if (parse_options(argc, argv, &o)) {
		fprintf(stderr, "usage: bench_flows [--pin-dir DIR] {add|del|memory} --flows N "
				"--relay-base IP [--ports-per-addr K] [--first-port P] --via IP "
				"--peer IP --src IP\n");
		return 2;
	}
	err = xt_maps_open_pinned(&maps, o.pin_dir);
	if (err) {
		fprintf(stderr, "bench_flows: maps pinned in %s: %s\n", o.pin_dir, strerror(-err));
		return 1;
	}
	if (!strcmp(o.command, "add"))
		err = run_add(&o, &maps);
	else if (!strcmp(o.command, "del"))
		err = run_del(&o, &maps);
	else if (!strcmp(o.command, "memory"))
		err = run_memory(&o, &maps);
	else
		err = -EINVAL;
	xt_maps_close(&maps);
	return err ? 1 : 0;
}
