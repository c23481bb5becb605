// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Benchmark programs. BPF_PROG_TEST_RUN repeats one input buffer, which would
 * hit one hot flow; real traffic is spread over every call. So both programs
 * first aim the packet at the next flow of a scattered sequence over all
 * installed flows, then run either the real relay or a baseline that only
 * parses and bounces the packet. The aiming costs both the same.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "relay.h"

/* Set by the benchmark before running. */
const volatile __u32 bench_nflows = 1;
const volatile __u32 bench_ports_per_slot = 1;
const volatile __u32 bench_first_port = 1024;
const volatile __u32 bench_addr_base = 0; /* host order: slot s is base + s */
const volatile __u32 bench_src_addr = 0;  /* network order */
const volatile __u16 bench_src_port = 0;  /* network order */
const volatile __u8 bench_partial = 0;	  /* the UDP checksum as CHECKSUM_PARTIAL leaves it */

__u32 bench_cursor;

/* Aim the IPv4/UDP packet at flow (cursor * stride) mod nflows. */
static __always_inline int bench_aim(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 n, flow, slot, seq;
	__u8 *rtp;

	if ((void *)(udp + 1) > data_end)
		return -1;
	n = bench_cursor++;
	/* A large odd stride scatters consecutive packets across the table. */
	flow = (__u32)(((__u64)n * 2654435761u) % bench_nflows);
	slot = flow / bench_ports_per_slot;
	ip->daddr = bpf_htonl(bench_addr_base + slot);
	ip->saddr = bench_src_addr;
	udp->dest = bpf_htons(bench_first_port + flow % bench_ports_per_slot);
	udp->source = bench_src_port;
	if (bench_partial)
		udp->check = csum_fold64_plain((__u64)ip->saddr + ip->daddr +
					       bpf_htons(IPPROTO_UDP) + udp->len);
	/* RTP: each flow's packets are consecutive, 20 ms of 8 kHz apart */
	rtp = (void *)(udp + 1);
	if ((void *)(rtp + 8) > data_end)
		return -1;
	seq = n / bench_nflows;
	*(__be16 *)(rtp + 2) = bpf_htons((__u16)seq);
	*(__be32 *)(rtp + 4) = bpf_htonl(seq * 160);
	return 0;
}

SEC("xdp")
int bench_relay(struct xdp_md *ctx)
{
	if (bench_aim(ctx))
		return XDP_ABORTED;
	return xt_relay(ctx);
}

SEC("xdp")
int bench_baseline(struct xdp_md *ctx)
{
	struct pkt p = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
	};

	if (bench_aim(ctx))
		return XDP_ABORTED;
	if (parse_udp_packet(&p) != XT_STAT_MAX)
		return XDP_PASS;
	return XDP_TX;
}

char _license[] SEC("license") = "Dual BSD/GPL";
