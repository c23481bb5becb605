/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The relay itself: find the flow a UDP packet arrived for, check who sent it,
 * rewrite it as if the relay had sent it to the flow's peer, and send it on.
 * Kept in a header so the benchmark runs exactly this code.
 */
#ifndef XTRUNK_RELAY_H
#define XTRUNK_RELAY_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xtrunk_abi.h"
#include "parsing.h"
#include "csum.h"
#include "maps.h"
#include "rtp_stats.h"
#include "ablation.h"

#ifndef AF_INET
#define AF_INET 2
#endif
#ifndef AF_INET6
#define AF_INET6 10
#endif

#define XT_RELAY_TTL 64

static __always_inline int addr_eq(const __u8 *a, const __u8 *b, int family)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	if (family == XT_AF_INET)
		return x[0] == y[0];
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

/*
 * NAT latching: the first CPU to claim the flow (XT_FLOW_F_LATCHING, set
 * with compare-and-swap) writes the source port, then the reverse flow's
 * peer port, and only then sets XT_FLOW_F_CHECK_SRC_PORT; packets racing
 * with it from the signalled address are relayed unlatched, as before.
 * Each port is one aligned 16-bit store, so no flow is ever seen half
 * written. A re-latch (flags already have XT_FLOW_F_CHECK_SRC_PORT) takes
 * the same steps: packets racing with it are checked against the old port
 * or the new one, never a torn one.
 */
static __always_inline int latch(struct xt_flow *flow, __u32 flags, __u32 index, __be16 sport)
{
	struct xt_flow_slow *slow;
	struct xt_flow *reverse;

	if (__sync_val_compare_and_swap(&flow->flags, flags, flags | XT_FLOW_F_LATCHING) != flags)
		return 0;
	*(volatile __be16 *)&flow->src_port = sport;
	if (flags & XT_FLOW_F_REVERSE) {
		slow = bpf_map_lookup_elem(&xt_flows_slow, &index);
		if (slow) {
			__u32 rindex = slow->reverse;

			reverse = bpf_map_lookup_elem(&xt_flows, &rindex);
			if (reverse && (reverse->flags & XT_FLOW_F_ACTIVE))
				*(volatile __be16 *)&reverse->peer_port = sport;
		}
	}
	/* this CPU holds XT_FLOW_F_LATCHING: one xor releases it (and, on a
	 * first latch, sets XT_FLOW_F_CHECK_SRC_PORT, which was clear) */
	if (flags & XT_FLOW_F_CHECK_SRC_PORT) {
		__sync_fetch_and_xor(&flow->flags, XT_FLOW_F_LATCHING);
		stat_inc(XT_STAT_RELATCHED);
	} else {
		__sync_fetch_and_xor(&flow->flags, XT_FLOW_F_CHECK_SRC_PORT | XT_FLOW_F_LATCHING);
		stat_inc(XT_STAT_LATCHED);
	}
	return 1;
}

/* A latched flow's source quiet long enough for another port to take over. */
static __always_inline int latch_quiet(const struct xt_flow *flow, const struct xt_clock *clock)
{
	__u32 now = clock ? (__u32)(clock->ns >> XT_LAST_SEEN_SHIFT) : 0;

	return !flow->last_seen || (__u32)(now - flow->last_seen) > XT_RELATCH_QUIET_UNITS;
}

/*
 * Source check: the security boundary. Only the signalled peer may send; a
 * latching flow learns the peer's port (behind NAT) from its first packet,
 * and again from its address's next packet after a quiet period.
 * family is a constant: each family gets its own copy of the relay.
 */
static __always_inline int source_ok(struct xt_flow *flow, const struct pkt *p, __u32 index,
				     const struct xt_clock *clock, const int family)
{
	__u32 flags = flow->flags;

	if (flags & XT_FLOW_F_CHECK_SRC_ADDR) {
		const __u8 *saddr = family == XT_AF_INET ?
					    (const __u8 *)&((struct iphdr *)p->l3)->saddr :
					    (const __u8 *)&((struct ipv6hdr *)p->l3)->saddr;

		if (!addr_eq(saddr, flow->src_addr, family))
			return 0;
	}
	if (flags & XT_FLOW_F_CHECK_SRC_PORT) {
		if (p->udp->source == flow->src_port)
			return 1;
		/* another port: only a latched flow's own address, after a quiet period */
		return (flags &
			(XT_FLOW_F_LATCH | XT_FLOW_F_CHECK_SRC_ADDR | XT_FLOW_F_LATCHING)) ==
			       (XT_FLOW_F_LATCH | XT_FLOW_F_CHECK_SRC_ADDR) &&
		       latch_quiet(flow, clock) && latch(flow, flags, index, p->udp->source);
	}
	if ((flags & (XT_FLOW_F_LATCH | XT_FLOW_F_CHECK_SRC_ADDR | XT_FLOW_F_LATCHING)) ==
	    (XT_FLOW_F_LATCH | XT_FLOW_F_CHECK_SRC_ADDR))
		latch(flow, flags, index, p->udp->source);
	return 1;
}

/* The slot of the packet's destination address, or -1 when it is not the relay's. */
static __always_inline int relay_addr_slot(const struct pkt *p, __u32 *slot, const int family)
{
	const __u32 *daddr = family == XT_AF_INET ?
				     (const __u32 *)&((struct iphdr *)p->l3)->daddr :
				     (const __u32 *)&((struct ipv6hdr *)p->l3)->daddr;
	__u32 bucket;
	int i;

	bucket = xt_addr_hash(daddr, family);

#pragma unroll
	for (i = 0; i < (int)XT_ADDR_PROBES; i++) {
		__u32 index = (bucket + i) & (XT_ADDR_BUCKETS - 1);
		struct xt_addr_entry *entry = bpf_map_lookup_elem(&xt_relay_addrs, &index);

		if (!entry)
			return -1;
		if (entry->family == family && addr_eq(entry->addr, (const __u8 *)daddr, family)) {
			*slot = entry->slot;
			return 0;
		}
	}
	return -1;
}

static __always_inline struct xt_flow *flow_lookup(const struct pkt *p, __u32 *index,
						   const int family)
{
	__u32 slot;

	if (relay_addr_slot(p, &slot, family) || slot >= XT_MAX_SLOTS)
		return NULL;
	*index = slot * XT_PORTS_PER_SLOT + bpf_ntohs(p->udp->dest);
	return bpf_map_lookup_elem(&xt_flows, index);
}

struct nexthop {
	__u32 ifindex;
	__u8 smac[ETH_ALEN];
	__u8 dmac[ETH_ALEN];
};

/*
 * The address a flow's packets leave from, from the relay's address table;
 * as words, so that the compiler reads it a word at a time, not bytewise.
 */
static __always_inline const __u32 *relay_addr_of(const struct xt_flow *flow)
{
	__u32 bucket = flow->relay_addr;
	struct xt_addr_entry *entry = bpf_map_lookup_elem(&xt_relay_addrs, &bucket);

	return entry ? (const __u32 *)entry->addr : NULL;
}

/* Where the packet goes next: the flow's cached next hop, or the FIB's answer. */
static __always_inline int nexthop_find(struct xdp_md *ctx, const struct pkt *p,
					const struct xt_flow *flow, const __u32 *relay_addr,
					struct nexthop *nh, const int family)
{
	struct bpf_fib_lookup fib = {};
	int rc;

	if (flow->flags & XT_FLOW_F_NEXTHOP) {
		__u32 key = flow->nexthop;
		struct xt_nexthop_entry *cached = bpf_map_lookup_elem(&xt_nexthops, &key);

		/* ifindex 0: the controller lost the neighbour; the FIB decides */
		if (cached && cached->ifindex) {
			nh->ifindex = cached->ifindex;
			__builtin_memcpy(nh->smac, cached->smac, ETH_ALEN);
			__builtin_memcpy(nh->dmac, cached->dmac, ETH_ALEN);
			return XT_STAT_MAX;
		}
	}

	fib.ifindex = ctx->ingress_ifindex;
	fib.l4_protocol = IPPROTO_UDP;
	fib.sport = flow->relay_port;
	fib.dport = flow->peer_port;
	fib.tot_len = p->l3_len;
	if (family == XT_AF_INET) {
		fib.family = AF_INET;
		fib.tos = (flow->dscp & 0x3f) << 2;
		fib.ipv4_src = relay_addr[0];
		__builtin_memcpy(&fib.ipv4_dst, flow->peer_addr, 4);
	} else {
		fib.family = AF_INET6;
		__builtin_memcpy(fib.ipv6_src, relay_addr, 16);
		__builtin_memcpy(fib.ipv6_dst, flow->peer_addr, 16);
	}
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		/* Userspace relays it; its send resolves the neighbour. */
		return XT_STAT_PASS_NO_NEIGH;
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		return XT_STAT_PASS_FWD_DISABLED;
	default:
		return XT_STAT_PASS_NO_ROUTE;
	}
	nh->ifindex = fib.ifindex;
	__builtin_memcpy(nh->smac, fib.smac, ETH_ALEN);
	__builtin_memcpy(nh->dmac, fib.dmac, ETH_ALEN);
	return XT_STAT_MAX;
}

/* A partial UDP checksum (csum.h): the sender's NIC was to finish it. */
static __always_inline int udp_csum_is_partial(const struct pkt *p, const int family)
{
	return family == XT_AF_INET ? udp_csum_partial_v4(p->l3, p->udp) :
				      udp_csum_partial_v6(p->l3, p->udp);
}

/*
 * The peer port is read once: latching the reverse flow may rewrite it while
 * a packet of that flow is being rewritten on another CPU. csum is where the
 * UDP checksum's incremental update starts.
 */
static __always_inline void rewrite_ipv4(struct pkt *p, const struct xt_flow *flow,
					 const __u32 *relay_addr, __u32 csum)
{
	struct iphdr *ip = p->l3;
	struct udphdr *udp = p->udp;
	__be16 peer_port = *(volatile const __be16 *)&flow->peer_port;
	__u32 new_saddr, new_daddr;

	new_saddr = relay_addr[0];
	__builtin_memcpy(&new_daddr, flow->peer_addr, 4);

	/* A zero UDP checksum over IPv4 means "none" and stays so (RFC 768). */
	if (udp->check) {
		__u64 sum = csum;

		sum = csum_replace32(sum, ip->saddr, new_saddr);
		sum = csum_replace32(sum, ip->daddr, new_daddr);
		sum = csum_replace16(sum, udp->source, flow->relay_port);
		sum = csum_replace16(sum, udp->dest, peer_port);
		udp->check = csum_fold64(sum) ?: 0xffff;
	}
	udp->source = flow->relay_port;
	udp->dest = peer_port;

	ip->saddr = new_saddr;
	ip->daddr = new_daddr;
	ip->tos = ((flow->dscp & 0x3f) << 2) | (ip->tos & 0x3);
	ip->ttl = XT_RELAY_TTL;
	ip->check = ipv4_header_csum(ip);
}

static __always_inline void rewrite_ipv6(struct pkt *p, const struct xt_flow *flow,
					 const __u32 *relay_addr, __u32 csum)
{
	struct ipv6hdr *ip6 = p->l3;
	struct udphdr *udp = p->udp;
	__be16 peer_port = *(volatile const __be16 *)&flow->peer_port;
	__u32 *old_s = (__u32 *)&ip6->saddr, *old_d = (__u32 *)&ip6->daddr;
	const __u32 *new_s = relay_addr;
	const __u32 *new_d = (const __u32 *)flow->peer_addr;
	__u64 sum = csum;
	__be32 *first = (__be32 *)ip6;
	__u32 word;
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		sum = csum_replace32(sum, old_s[i], new_s[i]);
		sum = csum_replace32(sum, old_d[i], new_d[i]);
	}
	sum = csum_replace16(sum, udp->source, flow->relay_port);
	sum = csum_replace16(sum, udp->dest, peer_port);
	/* IPv6 UDP always carries a checksum; a computed 0 goes out as 0xffff. */
	udp->check = csum_fold64(sum) ?: 0xffff;
	udp->source = flow->relay_port;
	udp->dest = peer_port;

#pragma unroll
	for (i = 0; i < 4; i++) {
		old_s[i] = new_s[i];
		old_d[i] = new_d[i];
	}
	/* version(4) | traffic class(8) | flow label(20); keep the ECN bits. */
	word = bpf_ntohl(*first);
	word = (word & ~(0xfcu << 20)) | ((__u32)(flow->dscp & 0x3f) << 22);
	*first = bpf_htonl(word);
	ip6->hop_limit = XT_RELAY_TTL;
}

/* The relay for one address family: family is a constant, so each gets its own straight path. */
static __always_inline int relay_family(struct xdp_md *ctx, struct pkt *p, const int family)
{
	struct nexthop nh;
	struct xt_flow *flow;
	struct xt_clock *clock;
	const __u32 *relay_addr;
	__u32 index = 0;
	int reason, action, csum;

	flow = flow_lookup(p, &index, family);
	if (!flow) {
		reason = XT_STAT_PASS_NO_ADDR;
		goto pass;
	}
	if (!(flow->flags & XT_FLOW_F_ACTIVE)) {
		reason = XT_STAT_PASS_NO_FLOW;
		goto pass;
	}
	if (flow->family != family) {
		reason = XT_STAT_PASS_FAMILY;
		goto pass;
	}
	/* an xtrunkd that died without stopping: its flows go back to the stack */
	clock = clock_get();
	if ((flow->flags & XT_FLOW_F_OWNED) && clock && clock->lease_over) {
		reason = XT_STAT_PASS_LEASE_EXPIRED;
		goto pass;
	}
	if (XT_STEP(SOURCE_CHECK) && !source_ok(flow, p, index, clock, family)) {
		struct xt_flow_slow *slow = bpf_map_lookup_elem(&xt_flows_slow, &index);

		if (slow)
			__sync_fetch_and_add(&slow->src_drops, 1);
		stat_inc(XT_STAT_DROP_SRC);
		return XDP_DROP;
	}
	relay_addr = relay_addr_of(flow);
	if (!relay_addr) {
		reason = XT_STAT_PASS_NO_ADDR;
		goto pass;
	}

	reason = nexthop_find(ctx, p, flow, relay_addr, &nh, family);
	if (reason != XT_STAT_MAX)
		goto pass;

	/*
	 * Only to devices in xt_tx_ports, XDP_TX included: the controller
	 * leaves out a device whose link cannot take XDP frames (a veth whose
	 * peer has no NAPI), so its media goes through the stack, not lost.
	 * Decide before rewriting: a packet we pass must stay untouched.
	 */
	if (nh.ifindex == ctx->ingress_ifindex) {
		action = !XT_STEP(TX_PORT_CHECK) || bpf_map_lookup_elem(&xt_tx_ports, &nh.ifindex) ?
				 XDP_TX :
				 XDP_PASS;
	} else {
		action = bpf_redirect_map(&xt_tx_ports, nh.ifindex, XDP_PASS);
	}
	if (action == XDP_PASS) {
		reason = XT_STAT_PASS_NO_TXPORT;
		goto pass;
	}
	/* where the UDP checksum's incremental update starts */
	csum = (__u16)~p->udp->check;
	if (XT_STEP(PARTIAL_TEST) && udp_csum_is_partial(p, family)) {
		csum = xt_csum_datagram(ctx, (void *)p->udp - p->data, bpf_ntohs(p->udp->len));
		if (csum < 0) {
			reason = XT_STAT_PASS_CSUM_TOO_LONG;
			goto pass;
		}
		stat_inc(XT_STAT_CSUM_COMPLETED);
	}

	if (flow->flags & XT_FLOW_F_RTP_STATS)
		rtp_stats_update(p, index);
	if (XT_STEP(REWRITE) && family == XT_AF_INET)
		rewrite_ipv4(p, flow, relay_addr, csum);
	else if (XT_STEP(REWRITE))
		rewrite_ipv6(p, flow, relay_addr, csum);
	if (XT_STEP(MACS)) {
		__builtin_memcpy(p->eth->h_dest, nh.dmac, ETH_ALEN);
		__builtin_memcpy(p->eth->h_source, nh.smac, ETH_ALEN);
	}

	/*
	 * Plain adds, not atomic ones: a locked add costs more than the rest of
	 * the relay's work, and one flow's packets arrive on one CPU (RSS
	 * hashes a 5-tuple to one queue), so no increment is lost in practice.
	 */
	if (XT_STEP(FLOW_COUNTERS)) {
		flow->packets += 1;
		flow->bytes += p->l3_len;
	}
	if (XT_STEP(LAST_SEEN))
		flow->last_seen =
			(__u32)((clock ? clock->ns : bpf_ktime_get_ns()) >> XT_LAST_SEEN_SHIFT) ?:
												  1;
	if (XT_STEP(GLOBAL_COUNTERS))
		stat_inc(action == XDP_TX ? XT_STAT_TX : XT_STAT_REDIRECT);
	return action;

pass:
	stat_inc(reason);
	return XDP_PASS;
}

/*
 * A packet parse_udp_packet() found the relay cannot handle goes to the
 * stack, counted under reason; but not when it carries a UDP header aimed at
 * an active flow behind IPv4 options, as an IPv4 first fragment or behind
 * IPv6 extension headers: the stack would reassemble or accept it and
 * deliver it to xtrunkd's socket for the port, around the source check, to
 * be read on the SIP event loop. That one is dropped, counted globally; the
 * flow's own drops stay the source check's.
 *
 * A function of its own (a BPF-to-BPF call) for every passed packet, which
 * parses those few again: inlined, or with the three reasons told apart in
 * the caller, it cost the relayed packets' code stack spills and moves (seen
 * in the compiled object). As it is, that code is the same as before.
 */
static __noinline int pass_unparsed(struct xdp_md *ctx, int reason)
{
	struct pkt p = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
	};
	struct xt_flow *flow;
	__u32 index;
	int drop_reason;

	if (reason != XT_STAT_PASS_FRAGMENT && reason != XT_STAT_PASS_IP_OPTIONS &&
	    reason != XT_STAT_PASS_IPV6_EXT)
		goto pass;
	/* the same answer as the caller's; it also says where the IP header is */
	if (parse_udp_packet(&p) != reason)
		goto pass;
	drop_reason = parse_unrelayable_udp(&p, reason);
	if (drop_reason == reason)
		goto pass;
	if (p.family == XT_AF_INET)
		flow = flow_lookup(&p, &index, XT_AF_INET);
	else
		flow = flow_lookup(&p, &index, XT_AF_INET6);
	if (!flow || !(flow->flags & XT_FLOW_F_ACTIVE) || flow->family != p.family)
		goto pass;
	stat_inc(drop_reason);
	return XDP_DROP;
pass:
	stat_inc(reason);
	return XDP_PASS;
}

static __always_inline int xt_relay(struct xdp_md *ctx)
{
	struct pkt p = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
	};
	int reason;

	if (XT_STEP(GLOBAL_COUNTERS))
		stat_inc(XT_STAT_RX);
	reason = parse_udp_packet(&p);
	if (reason != XT_STAT_MAX)
		return pass_unparsed(ctx, reason);
	if (p.family == XT_AF_INET)
		return relay_family(ctx, &p, XT_AF_INET);
	return relay_family(ctx, &p, XT_AF_INET6);
}

#endif /* XTRUNK_RELAY_H */
