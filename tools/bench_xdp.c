// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench_xdp: ns per packet of the XDP relay against a baseline that only
 * parses and bounces the packet, with 1, 10,000 and 1,000,000 flows installed
 * and the packets spread over all of them (bpf/bench.bpf.c aims each packet at
 * the next flow of a scattered sequence).
 *
 * Both programs run through BPF_PROG_TEST_RUN on the same CPU, interleaved,
 * round after round; each figure is the median over the rounds. A round's
 * figure is the thread's CPU time over the run divided by its repetitions:
 * the kernel's own duration field is whole nanoseconds, too coarse for a
 * program that costs a few of them, and CPU time, like that field, leaves out
 * the time the thread was preempted.
 *
 * Flows carry the next hop resolved once, as the controller installs them;
 * with --fib they carry none and the relay asks bpf_fib_lookup per packet, its
 * fallback. Either way it must run in the network namespace of the interface
 * given with -i, where the first relay address is local and the peer subnet
 * is routed through a gateway with a resolved neighbour (tools/bench.sh).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xtrunk_abi.h"
#include "relay_addrs.h"
#include "bench.skel.h"
#include "endpoint.h"
#include "log.h"
#include "nexthop.h"

#define RELAY_GOAL 1.50 /* relay / baseline */
#define SCALE_GOAL 1.30 /* relay at the most flows / relay at the fewest */
/* The relay's own ns a packet (relay - baseline), up to this many flows. */
#define OWN_GOAL_NS 15.0
#define OWN_GOAL_RTP_NS 22.0
#define OWN_GOAL_MAX_FLOWS 10000

/* The same odd multiplier as bench_aim() in bpf/bench.bpf.c. */
#define AIM_STRIDE 2654435761u

/* A G.711 20 ms RTP packet: 160 bytes of audio behind a 12-byte RTP header. */
#define RTP_HDR_LEN 12
#define G711_PAYLOAD_LEN 160
#define FRAME_LEN \
	(ETH_HLEN + sizeof(struct iphdr) + sizeof(struct udphdr) + RTP_HDR_LEN + G711_PAYLOAD_LEN)

#define FIRST_PORT 2000	      /* relay ports of every slot start here */
#define PEER_FIRST_PORT 16384 /* peers' RTP ports, even, from here */
#define SRC_PORT 40000	      /* the sending PBX's port */
#define DSCP_EF 46

struct bench_config {
	const char *ifname;
	unsigned int ifindex;
	__u32 relay_base; /* host order: slot s's relay address is relay_base + s */
	__u32 peer_net;	  /* host order */
	__u32 peer_hosts; /* usable host addresses in the peer subnet */
	__u32 src_addr;	  /* host order */
	bool fib;	  /* flows without a next hop: bpf_fib_lookup per packet */
	bool rtp;	  /* flows keep RTP statistics (8 kHz audio), as xtrunkd installs audio */
	bool partial;	  /* packets carry a partial UDP checksum, as a veth sender leaves it */
	/*
	 * a program built with steps left out (bpf/ablation.h): check only its
	 * verdicts, as its counters or rewritten addresses may be what it lacks
	 */
	bool ablated;
	struct xt_nexthop nexthop;
	int repeat;
	int rounds;
	__u32 flow_counts[8];
	int ncases;
};

/* Where the flows of one case live in the table. */
struct flow_layout {
	__u32 nflows;
	__u32 nslots;
	__u32 ports_per_slot;
};

struct bench_result {
	__u32 nflows;
	double baseline_ns;
	double relay_ns;
	/* the relay's own cost: relay minus baseline, round by round */
	double own_ns, own_min_ns, own_max_ns;
};

static void layout_plan(struct flow_layout *lay, __u32 nflows)
{
	__u32 max_ports = XT_PORTS_PER_SLOT - FIRST_PORT;

	lay->nflows = nflows;
	lay->nslots = (nflows + max_ports - 1) / max_ports;
	lay->ports_per_slot = (nflows + lay->nslots - 1) / lay->nslots;
}

static __u32 flow_index(const struct flow_layout *lay, __u32 flow)
{
	__u32 slot = flow / lay->ports_per_slot;

	return slot * XT_PORTS_PER_SLOT + FIRST_PORT + flow % lay->ports_per_slot;
}

/* The flow bench_aim() sends the packet of the given cursor to. */
static __u32 aimed_flow(const struct flow_layout *lay, __u32 cursor)
{
	return (__u32)((__u64)cursor * AIM_STRIDE % lay->nflows);
}

/* Where each slot's address sits in xt_relay_addrs, and the shared next hop's entry. */
static __u8 slot_bucket[XT_MAX_SLOTS];
static __u16 nexthop_index;

static void flow_fill(struct xt_flow *flow, const struct bench_config *cfg,
		      const struct flow_layout *lay, __u32 i)
{
	__u32 slot = i / lay->ports_per_slot;
	__be32 peer = htonl(cfg->peer_net + 1 + i % cfg->peer_hosts);

	memset(flow, 0, sizeof(*flow));
	/* No source check: the aiming rewrites the source of every packet anyway. */
	flow->flags = XT_FLOW_F_ACTIVE;
	flow->family = XT_AF_INET;
	flow->dscp = DSCP_EF;
	flow->relay_port = htons(FIRST_PORT + i % lay->ports_per_slot);
	flow->peer_port = htons(PEER_FIRST_PORT + 2 * (i % 16384));
	flow->relay_addr = slot_bucket[slot];
	memcpy(flow->peer_addr, &peer, sizeof(peer));
	if (!cfg->fib) {
		flow->flags |= XT_FLOW_F_NEXTHOP;
		flow->nexthop = nexthop_index;
	}
	if (cfg->rtp)
		flow->flags |= XT_FLOW_F_RTP_STATS;
}

/*
 * What the controller does per flow, done once: every peer sits behind the
 * same gateway, so they all share its answer.
 */
static int nexthop_resolve(struct bench_config *cfg)
{
	struct xt_endpoint relay = { .family = XT_AF_INET }, peer = { .family = XT_AF_INET };
	__be32 relay_addr = htonl(cfg->relay_base), peer_addr = htonl(cfg->peer_net + 1);
	char relay_text[XT_ENDPOINT_STRLEN], peer_text[XT_ENDPOINT_STRLEN];
	int err;

	memcpy(relay.addr, &relay_addr, sizeof(relay_addr));
	memcpy(peer.addr, &peer_addr, sizeof(peer_addr));
	err = xt_nexthop_resolve(&relay, &peer, &cfg->nexthop);
	if (!err)
		return 0;
	xt_addr_format(XT_AF_INET, relay.addr, relay_text, sizeof(relay_text));
	xt_addr_format(XT_AF_INET, peer.addr, peer_text, sizeof(peer_text));
	if (err == -EAGAIN)
		pr_warn("next hop from %s to %s: the gateway has no resolved neighbour entry\n",
			relay_text, peer_text);
	else
		pr_warn("next hop from %s to %s: %s (the relay address must be local, the peer "
			"subnet routed)\n",
			relay_text, peer_text, strerror(-err));
	return err;
}

static int install_relay_addrs(struct bench_bpf *skel, const struct bench_config *cfg,
			       const struct flow_layout *lay)
{
	int fd = bpf_map__fd(skel->maps.xt_relay_addrs);
	__u32 s;

	for (s = 0; s < lay->nslots; s++) {
		struct xt_endpoint relay = { .family = XT_AF_INET };
		__be32 addr = htonl(cfg->relay_base + s);
		int err;

		__u32 bucket, found;

		memcpy(relay.addr, &addr, sizeof(addr));
		err = xt_relay_addr_set(fd, &relay, s) ?:
			      xt_relay_addr_bucket(fd, &relay, &bucket, &found);
		if (err)
			return err;
		slot_bucket[s] = (__u8)bucket;
	}
	/* as attaching xtrunk does: XDP may send out of the device */
	fd = bpf_map__fd(skel->maps.xt_tx_ports);
	if (bpf_map_update_elem(fd, &cfg->ifindex, &cfg->ifindex, 0))
		return -errno;
	if (cfg->fib)
		return 0;
	return xt_nexthop_table_get(bpf_map__fd(skel->maps.xt_nexthops), &cfg->nexthop,
				    &nexthop_index);
}

/* One batch per slot: a million single updates would take longer than the benchmark. */
static int install_flows(struct bench_bpf *skel, const struct bench_config *cfg,
			 const struct flow_layout *lay)
{
	int fd = bpf_map__fd(skel->maps.xt_flows);
	int rtp_fd = bpf_map__fd(skel->maps.xt_rtp_stats);
	struct xt_rtp_stats *rtp = NULL;
	struct xt_flow *values;
	__u32 *keys, first, i;
	int err = 0;

	keys = calloc(lay->ports_per_slot, sizeof(*keys));
	values = aligned_alloc(sizeof(*values), lay->ports_per_slot * sizeof(*values));
	if (cfg->rtp)
		rtp = calloc(lay->ports_per_slot, sizeof(*rtp));
	if (!keys || !values || (cfg->rtp && !rtp)) {
		err = -ENOMEM;
		goto out;
	}
	for (first = 0; first < lay->nflows; first += lay->ports_per_slot) {
		__u32 count = 0;

		for (i = first; i < lay->nflows && i < first + lay->ports_per_slot; i++) {
			keys[count] = flow_index(lay, i);
			flow_fill(&values[count], cfg, lay, i);
			if (rtp)
				rtp[count].clock_hz = 8000;
			count++;
		}
		/* the statistics first: the flow must not find them unset */
		if ((rtp && bpf_map_update_batch(rtp_fd, keys, rtp, &count, NULL)) ||
		    bpf_map_update_batch(fd, keys, values, &count, NULL)) {
			err = -errno;
			goto out;
		}
	}
out:
	free(rtp);
	free(keys);
	free(values);
	return err;
}

static __u16 ip_checksum(const void *data, size_t len)
{
	const __u16 *word = data;
	__u32 sum = 0;

	for (; len > 1; len -= 2)
		sum += *word++;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* A well-formed IPv4/UDP RTP frame; bench_aim() fills in addresses and ports. */
static void frame_build(__u8 *frame, const struct bench_config *cfg)
{
	struct ethhdr *eth = (struct ethhdr *)frame;
	struct iphdr *ip = (struct iphdr *)(eth + 1);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	__u8 *rtp = (__u8 *)(udp + 1);

	memset(frame, 0, FRAME_LEN);
	memcpy(eth->h_dest, "\x02\x00\x00\x00\x00\x01", ETH_ALEN);
	memcpy(eth->h_source, "\x02\x00\x00\x00\x00\x02", ETH_ALEN);
	eth->h_proto = htons(ETH_P_IP);

	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(FRAME_LEN - ETH_HLEN);
	ip->frag_off = htons(0x4000); /* DF */
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = htonl(cfg->src_addr);
	ip->daddr = htonl(cfg->relay_base);
	ip->check = ip_checksum(ip, sizeof(*ip));

	udp->source = htons(SRC_PORT);
	udp->dest = htons(FIRST_PORT);
	udp->len = htons(FRAME_LEN - ETH_HLEN - sizeof(*ip));
	/* Any non-zero value: the relay updates it incrementally, it never verifies it. */
	udp->check = htons(0x1234);

	/* RTP version 2, payload type 0 (PCMU), carrying mu-law silence. */
	rtp[0] = 0x80;
	rtp[1] = 0;
	memset(rtp + RTP_HDR_LEN, 0xff, G711_PAYLOAD_LEN);
}

static int prog_run(const struct bpf_program *prog, const struct bench_config *cfg,
		    const __u8 *frame, void *frame_out, int repeat, __u32 *retval, double *ns)
{
	struct xdp_md md = {
		.data_end = FRAME_LEN,
		.ingress_ifindex = cfg->ifindex,
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = FRAME_LEN,
		    .data_out = frame_out, .data_size_out = frame_out ? FRAME_LEN : 0,
		    .ctx_in = &md, .ctx_size_in = sizeof(md), .repeat = repeat);
	struct timespec start, end;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
	if (bpf_prog_test_run_opts(bpf_program__fd(prog), &opts))
		return -errno;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end);
	*retval = opts.retval;
	*ns = ((end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec)) / repeat;
	return 0;
}

static bool verdict_relays(__u32 action)
{
	return action == XDP_TX || action == XDP_REDIRECT;
}

static int stats_read(struct bench_bpf *skel, __u64 *totals)
{
	int fd = bpf_map__fd(skel->maps.xt_stats);
	int ncpus = libbpf_num_possible_cpus();
	__u64 *percpu;
	__u32 stat;
	int cpu;

	if (ncpus < 0)
		return ncpus;
	percpu = calloc(ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (stat = 0; stat < XT_STAT_MAX; stat++) {
		if (bpf_map_lookup_elem(fd, &stat, percpu)) {
			free(percpu);
			return -errno;
		}
		totals[stat] = 0;
		for (cpu = 0; cpu < ncpus; cpu++)
			totals[stat] += percpu[cpu];
	}
	free(percpu);
	return 0;
}

/* Name the counters that moved between two snapshots: why the relay did not relay. */
static void stats_explain(const struct bench_config *cfg, const __u64 *before, const __u64 *after)
{
	int stat;

	for (stat = XT_STAT_TX; stat < XT_STAT_MAX; stat++)
		if (after[stat] != before[stat])
			pr_warn("  counter %s +%llu\n", xt_stat_names[stat],
				(unsigned long long)(after[stat] - before[stat]));
	if (after[XT_STAT_PASS_FWD_DISABLED] != before[XT_STAT_PASS_FWD_DISABLED])
		pr_warn("  bpf_fib_lookup refuses while forwarding is off on the ingress device "
			"(sysctl net.ipv4.conf.%s.forwarding=1)\n",
			cfg->ifname);
	if (after[XT_STAT_PASS_NO_ROUTE] != before[XT_STAT_PASS_NO_ROUTE])
		pr_warn("  bpf_fib_lookup found no route to the peer subnet\n");
	if (after[XT_STAT_PASS_NO_NEIGH] != before[XT_STAT_PASS_NO_NEIGH])
		pr_warn("  the gateway to the peer subnet needs a resolved (permanent) "
			"neighbour entry\n");
}

/*
 * A benchmark of a program that passes everything measures nothing: relay one
 * packet first and check the verdict, the flow's counters and the new address.
 */
static int relay_check(struct bench_bpf *skel, const struct bench_config *cfg,
		       const struct flow_layout *lay, const __u8 *frame)
{
	int fd = bpf_map__fd(skel->maps.xt_flows);
	__u32 index = flow_index(lay, aimed_flow(lay, skel->bss->bench_cursor));
	struct xt_flow before, after;
	__u64 stats_before[XT_STAT_MAX], stats_after[XT_STAT_MAX];
	__u8 out[FRAME_LEN];
	const struct iphdr *ip = (const struct iphdr *)(out + ETH_HLEN);
	__u32 action;
	double ns;
	int err;

	err = stats_read(skel, stats_before);
	if (!err && bpf_map_lookup_elem(fd, &index, &before))
		err = -errno;
	if (!err)
		err = prog_run(skel->progs.bench_relay, cfg, frame, out, 1, &action, &ns);
	if (!err)
		err = stats_read(skel, stats_after);
	if (!err && bpf_map_lookup_elem(fd, &index, &after))
		err = -errno;
	if (err) {
		pr_warn("flows=%u: test run of bench_relay failed: %s\n", lay->nflows,
			strerror(-err));
		return err;
	}
	if (!verdict_relays(action)) {
		pr_warn("flows=%u: bench_relay does not relay (verdict %u, want XDP_TX or "
			"XDP_REDIRECT): refusing to time it\n",
			lay->nflows, action);
		stats_explain(cfg, stats_before, stats_after);
		return -EINVAL;
	}
	if (!cfg->ablated &&
	    (after.packets != before.packets + 1 || memcmp(&ip->daddr, after.peer_addr, 4))) {
		pr_warn("flows=%u: bench_relay returned %u but flow entry %u was not counted or the "
			"packet not sent to its peer\n",
			lay->nflows, action, index);
		return -EINVAL;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *values, int count)
{
	qsort(values, count, sizeof(*values), cmp_double);
	if (count % 2)
		return values[count / 2];
	return (values[count / 2 - 1] + values[count / 2]) / 2;
}

/* Baseline and relay in turn, round after round, so drift hits both alike. */
static int measure(struct bench_bpf *skel, const struct bench_config *cfg,
		   const struct flow_layout *lay, const __u8 *frame, struct bench_result *res)
{
	double baseline[cfg->rounds], relay[cfg->rounds], own[cfg->rounds], ns;
	__u64 before[XT_STAT_MAX], after[XT_STAT_MAX], sent, relayed;
	__u32 action;
	int round, err;

	err = stats_read(skel, before);
	for (round = -1; !err && round < cfg->rounds; round++) {
		/* Round -1 warms caches and the flow table; it is not counted. */
		err = prog_run(skel->progs.bench_baseline, cfg, frame, NULL, cfg->repeat, &action,
			       &ns);
		if (err)
			break;
		if (action != XDP_TX) {
			pr_warn("flows=%u: bench_baseline returned %u, want XDP_TX\n", lay->nflows,
				action);
			return -EINVAL;
		}
		if (round >= 0)
			baseline[round] = ns;

		err = prog_run(skel->progs.bench_relay, cfg, frame, NULL, cfg->repeat, &action,
			       &ns);
		if (err)
			break;
		if (round >= 0) {
			relay[round] = ns;
			own[round] = relay[round] - baseline[round];
		}
	}
	if (!err)
		err = stats_read(skel, after);
	if (err) {
		pr_warn("flows=%u: test run failed: %s\n", lay->nflows, strerror(-err));
		return err;
	}

	/* Every timed packet must have been relayed, not only the checked one. */
	sent = (__u64)(cfg->rounds + 1) * cfg->repeat;
	relayed = after[XT_STAT_TX] - before[XT_STAT_TX];
	relayed += after[XT_STAT_REDIRECT] - before[XT_STAT_REDIRECT];
	if (relayed != sent && !cfg->ablated) {
		pr_warn("flows=%u: bench_relay relayed %llu of the %llu packets it ran\n",
			lay->nflows, (unsigned long long)relayed, (unsigned long long)sent);
		stats_explain(cfg, before, after);
		return -EINVAL;
	}

	/* ...and, with --partial, had its checksum completed */
	if (cfg->partial && !cfg->ablated &&
	    after[XT_STAT_CSUM_COMPLETED] - before[XT_STAT_CSUM_COMPLETED] != sent) {
		pr_warn("flows=%u: bench_relay completed %llu partial checksums of %llu\n",
			lay->nflows,
			(unsigned long long)(after[XT_STAT_CSUM_COMPLETED] -
					     before[XT_STAT_CSUM_COMPLETED]),
			(unsigned long long)sent);
		return -EINVAL;
	}

	res->nflows = lay->nflows;
	res->baseline_ns = median(baseline, cfg->rounds);
	res->relay_ns = median(relay, cfg->rounds);
	res->own_ns = median(own, cfg->rounds); /* sorts own */
	res->own_min_ns = own[0];
	res->own_max_ns = own[cfg->rounds - 1];
	return 0;
}

static int bench_case(const struct bench_config *cfg, __u32 nflows, struct bench_result *res)
{
	struct flow_layout lay;
	struct bench_bpf *skel;
	__u8 frame[FRAME_LEN];
	int err;

	layout_plan(&lay, nflows);
	skel = bench_bpf__open();
	if (!skel) {
		err = -errno;
		pr_warn("flows=%u: opening the bench skeleton failed: %s\n", nflows,
			strerror(-err));
		return err;
	}
	skel->rodata->bench_nflows = lay.nflows;
	skel->rodata->bench_ports_per_slot = lay.ports_per_slot;
	skel->rodata->bench_first_port = FIRST_PORT;
	skel->rodata->bench_addr_base = cfg->relay_base;
	skel->rodata->bench_src_addr = htonl(cfg->src_addr);
	skel->rodata->bench_src_port = htons(SRC_PORT);
	skel->rodata->bench_partial = cfg->partial;
	err = bpf_map__set_max_entries(skel->maps.xt_flows, lay.nslots * XT_PORTS_PER_SLOT) ?:
		      bpf_map__set_max_entries(skel->maps.xt_rtp_stats, lay.nslots * XT_PORTS_PER_SLOT) ?:
		      bpf_map__set_max_entries(skel->maps.xt_flows_slow,
					       lay.nslots * XT_PORTS_PER_SLOT);
	if (err) {
		pr_warn("flows=%u: sizing the flow table failed: %s\n", nflows, strerror(-err));
		goto out;
	}
	err = bench_bpf__load(skel);
	if (err) {
		pr_warn("flows=%u: loading the bench programs failed: %s (-v shows libbpf's log)\n",
			nflows, strerror(-err));
		goto out;
	}
	err = install_relay_addrs(skel, cfg, &lay);
	if (!err)
		err = install_flows(skel, cfg, &lay);
	if (err) {
		pr_warn("flows=%u: installing the flows failed: %s\n", nflows, strerror(-err));
		goto out;
	}

	frame_build(frame, cfg);
	err = relay_check(skel, cfg, &lay, frame);
	if (!err)
		err = measure(skel, cfg, &lay, frame, res);
out:
	bench_bpf__destroy(skel);
	return err;
}

static const char *goal_verdict(double ratio, double goal)
{
	return ratio <= goal ? "met" : "MISSED";
}

/* "relay", or "fib" for the relay that asks the FIB per packet. */
static const char *relay_label(const struct bench_config *cfg)
{
	if (cfg->partial)
		return cfg->rtp ? "part+rtp" : "part";
	if (cfg->rtp)
		return cfg->fib ? "fib+rtp" : "rtp";
	return cfg->fib ? "fib" : "relay";
}

static void result_print(const struct bench_config *cfg, const struct bench_result *res)
{
	double ratio = res->relay_ns / res->baseline_ns;

	double own_goal = cfg->rtp ? OWN_GOAL_RTP_NS : OWN_GOAL_NS;

	printf("%-5s  flows=%-8u baseline %5.1f ns/pkt (%5.2f Mpps)  relay %5.1f ns/pkt "
	       "(%5.2f Mpps)  ratio %.2f (goal <= %.2f) %s\n",
	       relay_label(cfg), res->nflows, res->baseline_ns, 1e3 / res->baseline_ns,
	       res->relay_ns, 1e3 / res->relay_ns, ratio, RELAY_GOAL,
	       goal_verdict(ratio, RELAY_GOAL));
	/*
	 * The relay's own cost holds on any CPU where the ratio does not: the
	 * baseline's share (test-run overhead, parsing) varies with the machine.
	 * Its goal is for flow tables that fit the caches; a million flows pay
	 * for cache misses (the flows benchmark and tools/memlat say how many).
	 */
	bool has_goal = res->nflows <= OWN_GOAL_MAX_FLOWS && !cfg->partial;

	printf("own    flows=%-8u %s's own cost %5.1f ns/pkt (relay - baseline, median of the "
	       "rounds; %.1f-%.1f)%s",
	       res->nflows, relay_label(cfg), res->own_ns, res->own_min_ns, res->own_max_ns,
	       has_goal ? "" : "\n");
	if (has_goal)
		printf("  (goal <= %.0f) %s\n", own_goal,
		       res->own_ns <= own_goal ? "met" : "MISSED");
	fflush(stdout);
}

static void scale_print(const struct bench_config *cfg, const struct bench_result *few,
			const struct bench_result *many)
{
	double ratio = many->relay_ns / few->relay_ns;

	printf("scale  %u flows vs %u flow%s: %s %.1f vs %.1f ns/pkt, ratio %.2f "
	       "(goal <= %.2f) %s\n",
	       many->nflows, few->nflows, few->nflows == 1 ? "" : "s", relay_label(cfg),
	       many->relay_ns, few->relay_ns, ratio, SCALE_GOAL, goal_verdict(ratio, SCALE_GOAL));
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: bench_xdp -i DEV [OPTIONS]\n"
		     "Time the XDP relay against a parse-and-XDP_TX baseline (BPF_PROG_TEST_RUN).\n"
		     "Run it in DEV's network namespace, with a route to the peer subnet.\n"
		     "\n"
		     "  -i, --interface DEV   ingress device the packets arrive on (required)\n"
		     "  -a, --relay-addr A    first relay address; slot s uses A + s (10.200.1.1)\n"
		     "  -p, --peer-net A/LEN  subnet the peers live in (10.201.0.0/16)\n"
		     "  -s, --source A        address the packets come from (10.202.0.10)\n"
		     "  -f, --flows N,...     flow counts, fewest first (1,10000,1000000)\n"
		     "  -n, --repeat N        packets per timed run (2000000)\n"
		     "  -r, --rounds N        timed runs of each program per case (7)\n"
		     "      --fib             install flows without a next hop: the relay asks\n"
		     "                        bpf_fib_lookup per packet (its fallback)\n"
		     "      --rtp             flows keep RTP statistics (8 kHz), as xtrunkd\n"
		     "                        installs audio streams\n"
		     "      --partial         packets carry a partial UDP checksum (a local\n"
		     "                        sender's checksum offload): the relay completes it\n"
		     "      --ablated         the program was built with steps left out\n"
		     "                        (bpf/ablation.h): check its verdicts only\n"
		     "  -v, --verbose         show libbpf's messages\n"
		     "  -h, --help            this text\n");
}

static int parse_addr(const char *text, __u32 *addr)
{
	struct in_addr in;

	if (inet_pton(AF_INET, text, &in) != 1)
		return -EINVAL;
	*addr = ntohl(in.s_addr);
	return 0;
}

static int parse_subnet(const char *text, __u32 *net, __u32 *hosts)
{
	char buf[INET_ADDRSTRLEN + 4], *slash, *end;
	unsigned long len;

	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	len = strtoul(slash + 1, &end, 10);
	if (*end || len < 8 || len > 30 || parse_addr(buf, net))
		return -EINVAL;
	*net &= ~0u << (32 - len);
	*hosts = (1u << (32 - len)) - 2;
	return 0;
}

static int parse_flow_counts(char *text, struct bench_config *cfg)
{
	char *item, *end;
	unsigned long n;

	cfg->ncases = 0;
	for (item = strtok(text, ","); item; item = strtok(NULL, ",")) {
		n = strtoul(item, &end, 10);
		if (*end || n < 1 || n > XT_MAX_SLOTS * (XT_PORTS_PER_SLOT - FIRST_PORT) ||
		    cfg->ncases == (int)(sizeof(cfg->flow_counts) / sizeof(cfg->flow_counts[0])))
			return -EINVAL;
		cfg->flow_counts[cfg->ncases++] = n;
	}
	return cfg->ncases ? 0 : -EINVAL;
}

static int parse_positive(const char *text, int *value, long max)
{
	char *end;
	long n = strtol(text, &end, 10);

	if (*end || n < 1 || n > max)
		return -EINVAL;
	*value = n;
	return 0;
}

static int parse_args(int argc, char **argv, struct bench_config *cfg)
{
	static const struct option long_opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "relay-addr", required_argument, NULL, 'a' },
		{ "peer-net", required_argument, NULL, 'p' },
		{ "source", required_argument, NULL, 's' },
		{ "flows", required_argument, NULL, 'f' },
		{ "repeat", required_argument, NULL, 'n' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "fib", no_argument, NULL, 'F' },
		{ "rtp", no_argument, NULL, 'R' },
		{ "partial", no_argument, NULL, 'P' },
		{ "ablated", no_argument, NULL, 'A' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	char default_flows[] = "1,10000,1000000";
	int opt, err = 0;

	parse_addr("10.200.1.1", &cfg->relay_base);
	parse_subnet("10.201.0.0/16", &cfg->peer_net, &cfg->peer_hosts);
	parse_addr("10.202.0.10", &cfg->src_addr);
	parse_flow_counts(default_flows, cfg);
	cfg->repeat = 2000000;
	cfg->rounds = 7;

	while (!err && (opt = getopt_long(argc, argv, "i:a:p:s:f:n:r:vh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			cfg->ifname = optarg;
			break;
		case 'a':
			err = parse_addr(optarg, &cfg->relay_base);
			break;
		case 'p':
			err = parse_subnet(optarg, &cfg->peer_net, &cfg->peer_hosts);
			break;
		case 's':
			err = parse_addr(optarg, &cfg->src_addr);
			break;
		case 'f':
			err = parse_flow_counts(optarg, cfg);
			break;
		case 'n':
			err = parse_positive(optarg, &cfg->repeat, 1000000000);
			break;
		case 'r':
			err = parse_positive(optarg, &cfg->rounds, 1000);
			break;
		case 'F':
			cfg->fib = true;
			break;
		case 'R':
			cfg->rtp = true;
			break;
		case 'P':
			cfg->partial = true;
			break;
		case 'A':
			cfg->ablated = true;
			break;
		case 'v':
			xt_log_set_level(XT_LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			err = -EINVAL;
		}
		if (err && opt != '?')
			pr_warn("bench_xdp: bad value for -%c: %s\n", opt, optarg);
	}
	if (!err && (!cfg->ifname || optind != argc)) {
		pr_warn("bench_xdp: %s\n",
			cfg->ifname ? "unexpected argument" : "-i DEV is required");
		err = -EINVAL;
	}
	if (err)
		usage(stderr);
	return err;
}

int main(int argc, char **argv)
{
	struct bench_config cfg = {};
	struct bench_result results[8];
	int i, err;

	xt_log_route_libraries();
	if (parse_args(argc, argv, &cfg))
		return 2;
	cfg.ifindex = if_nametoindex(cfg.ifname);
	if (!cfg.ifindex) {
		pr_warn("interface %s: %s (run bench_xdp in its network namespace)\n", cfg.ifname,
			strerror(errno));
		return 1;
	}
	if (!cfg.fib && nexthop_resolve(&cfg))
		return 1;

	printf("xdp %s vs baseline (parse + XDP_TX): BPF_PROG_TEST_RUN on %s, %zu-byte "
	       "IPv4/UDP G.711 frames spread over all flows, next hop %s%s, median of %d rounds "
	       "x %d packets\n",
	       relay_label(&cfg), cfg.ifname, (size_t)FRAME_LEN,
	       cfg.fib ? "from bpf_fib_lookup per packet" : "cached in the flow",
	       cfg.rtp ? ", RTP statistics kept" : "", cfg.rounds, cfg.repeat);
	if (cfg.partial)
		printf("%s: every packet's UDP checksum is partial (the pseudo-header's sum, as a "
		       "sender with checksum offload leaves it); the relay completes it\n",
		       relay_label(&cfg));
	fflush(stdout);
	for (i = 0; i < cfg.ncases; i++) {
		err = bench_case(&cfg, cfg.flow_counts[i], &results[i]);
		if (err)
			return 1;
		result_print(&cfg, &results[i]);
	}
	if (cfg.ncases > 1)
		scale_print(&cfg, &results[0], &results[cfg.ncases - 1]);
	return 0;
}
