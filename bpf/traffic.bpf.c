// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Traffic for the benchmarks, made and counted in the kernel:
 *
 * rtpgen_tx  run with BPF_PROG_TEST_RUN in live-frames mode on the sending
 *            veth: turns every frame into the next packet of one of N RTP
 *            streams (G.711 20 ms: 172-byte payload, sequence and timestamp
 *            advancing per stream, SSRC = stream number) and transmits it
 *            (XDP_TX). Stream i goes to address dst + i / ports_per_addr,
 *            port base + step * (i % ports_per_addr): a million streams need
 *            several relay addresses. Paced: a stream sends when its next
 *            20 ms slot is due, other frames are dropped unsent; flat out:
 *            every frame is sent, round robin over the streams in a scattered
 *            order, with no per-stream state, so that the generator's cost
 *            does not grow with the stream count.
 * rtpsink    on the receiving veth: counts and drops the packets, per stream
 *            (by SSRC, whatever the relay did to addresses and ports) when
 *            paced, in one per-CPU total when flat out (same reason).
 * bare_fwd   the baseline relay: redirects every frame to one device, no parsing.
 *
 * Plain sockets top out near 0.45 Mpps here; this is what lets the relay,
 * not the generator, be the limit.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xtrunk_abi.h"
#include "parsing.h"

#define RTP_PAYLOAD_BYTES 172 /* 12-byte RTP header + 160 bytes of G.711 */
#define RTP_TS_PER_PACKET 160 /* 20 ms at 8 kHz */
#define MAX_STREAMS 1048576
#define SCATTER_STRIDE 2654435761ull /* prime */

/* Set by tools/rtpgen before loading. */
const volatile __u32 gen_streams = 1;
const volatile __u32 gen_interval_ns = 0;	      /* per stream; 0: flat out */
const volatile __u32 gen_src_addr = 0;		      /* network order */
const volatile __u32 gen_dst_addr = 0;		      /* network order */
const volatile __u16 gen_src_port = 0;		      /* host order */
const volatile __u16 gen_dst_port_base = 0;	      /* host order */
const volatile __u32 gen_port_step = 2;		      /* 2: RTP ports only; 1: every port */
const volatile __u32 gen_ports_per_addr = 0xffffffff; /* streams per destination address */
/*
 * Paced: a stream that fell behind (the generator pauses ~25 ms between its
 * BPF_PROG_TEST_RUN calls) catches up at once, in a burst, so every stream
 * sends exactly its rate; smooth: it catches up at most SMOOTH_BURST packets
 * and skips the rest of what it missed, for receivers a long burst would
 * overflow (userspace relays' socket buffers), sending a little under its rate.
 */
const volatile __u8 gen_smooth = 0;
#define SMOOTH_BURST 8

struct stream_state {
	__u64 next_due_ns;
	__u32 seq;
	__u32 ts;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_STREAMS);
	__type(key, __u32);
	__type(value, struct stream_state);
} gen_state SEC(".maps");

struct stream_count {
	__u64 packets;
	__u32 last_seq;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_STREAMS);
	__type(key, __u32);
	__type(value, struct stream_count);
} sink_counts SEC(".maps");

/* Flat out: every stream's packets, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} sink_total SEC(".maps");

/* Frames the sink saw that were not one of the streams. */
__u64 sink_other;
/* The generator's cursor over the streams, its rounds, and what it sent. */
__u32 gen_cursor;
__u32 gen_round;
__u64 gen_sent;

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} fwd_port SEC(".maps");

SEC("xdp")
int rtpgen_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	__u8 *rtp = (void *)(udp + 1);
	struct stream_state *st;
	__u32 pos, stream, seq, ts, addr_index;

	if ((void *)(rtp + 12) > data_end)
		return XDP_ABORTED;
	pos = gen_cursor++;
	if (pos >= gen_streams) {
		pos = 0;
		gen_cursor = 1;
		gen_round++;
	}
	/*
	 * The streams in a scattered order, the same every round: stream i's
	 * flow sits next to stream i+1's, and in index order the CPU would
	 * prefetch the next flow and hide the cache misses of real traffic.
	 * A prime stride larger than any stream count is a permutation.
	 */
	stream = (__u32)(((__u64)pos * SCATTER_STRIDE) % gen_streams);
	if (gen_interval_ns) {
		__u64 now = bpf_ktime_get_ns();

		st = bpf_map_lookup_elem(&gen_state, &pos);
		if (!st)
			return XDP_ABORTED;
		/* calls do not start in the same microsecond: spread the first packets */
		if (!st->next_due_ns)
			st->next_due_ns = now + (__u64)pos * (gen_interval_ns / gen_streams);
		if (now < st->next_due_ns)
			return XDP_DROP; /* not this stream's turn yet */
		if (gen_smooth && now - st->next_due_ns > SMOOTH_BURST * (__u64)gen_interval_ns)
			st->next_due_ns = now;
		st->next_due_ns += gen_interval_ns;
		seq = st->seq++;
		ts = st->ts;
		st->ts += RTP_TS_PER_PACKET;
	} else {
		/* round robin: a stream's packets are the rounds */
		seq = gen_round;
		ts = gen_round * RTP_TS_PER_PACKET;
	}
	addr_index = stream / gen_ports_per_addr;

	ip->saddr = gen_src_addr;
	ip->daddr = bpf_htonl(bpf_ntohl(gen_dst_addr) + addr_index);
	ip->check = 0;
	{
		__u16 *w = (__u16 *)ip;
		__u32 sum = 0;
		int i;

#pragma unroll
		for (i = 0; i < 10; i++)
			sum += w[i];
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		ip->check = (__u16)~sum;
	}
	udp->source = bpf_htons(gen_src_port + 2 * (stream % 10000));
	udp->dest = bpf_htons(gen_dst_port_base +
			      gen_port_step * (stream - addr_index * gen_ports_per_addr));
	udp->check = 0; /* none, as IPv4 allows: the relay keeps it 0 */
	rtp[2] = seq >> 8;
	rtp[3] = seq;
	rtp[4] = ts >> 24;
	rtp[5] = ts >> 16;
	rtp[6] = ts >> 8;
	rtp[7] = ts;
	/* SSRC: the stream number, so the sink could tell streams apart too */
	rtp[8] = stream >> 24;
	rtp[9] = stream >> 16;
	rtp[10] = stream >> 8;
	rtp[11] = stream;
	gen_sent++;
	return XDP_TX;
}

SEC("xdp")
int rtpsink(struct xdp_md *ctx)
{
	struct pkt p = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
	};
	struct stream_count *count;
	__u32 stream, zero = 0;
	__u64 *total;
	__u8 *rtp;

	if (parse_udp_packet(&p) != XT_STAT_MAX || p.family != XT_AF_INET)
		return XDP_PASS; /* ARP and the like: not ours to drop */
	rtp = (void *)(p.udp + 1);
	if ((void *)(rtp + 12) > p.data_end || rtp[0] != 0x80) {
		__sync_fetch_and_add(&sink_other, 1);
		return XDP_DROP;
	}
	stream = ((__u32)rtp[8] << 24) | ((__u32)rtp[9] << 16) | ((__u32)rtp[10] << 8) | rtp[11];
	if (stream >= gen_streams) {
		__sync_fetch_and_add(&sink_other, 1);
		return XDP_DROP;
	}
	if (!gen_interval_ns) {
		total = bpf_map_lookup_elem(&sink_total, &zero);
		if (total)
			*total += 1;
		return XDP_DROP;
	}
	count = bpf_map_lookup_elem(&sink_counts, &stream);
	if (!count) {
		__sync_fetch_and_add(&sink_other, 1);
		return XDP_DROP;
	}
	count->packets++;
	count->last_seq = (rtp[2] << 8) | rtp[3];
	return XDP_DROP;
}

SEC("xdp")
int bare_fwd(struct xdp_md *ctx)
{
	return bpf_redirect_map(&fwd_port, 0, 0);
}

char _license[] SEC("license") = "Dual BSD/GPL";
