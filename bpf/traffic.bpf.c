// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Traffic for the benchmarks, made and counted in the kernel:
 *
 * rtpgen_tx  run with BPF_PROG_TEST_RUN in live-frames mode on the sending
 *            veth: turns every frame into the next packet of one of N RTP
 *            streams (G.711 20 ms: 172-byte payload, sequence and timestamp
 *            advancing per stream) and transmits it (XDP_TX). Paced: a stream
 *            sends when its next 20 ms slot is due, other frames are dropped
 *            unsent; flat out: every frame is sent.
 * rtpsink    on the receiving veth: counts each stream's packets and drops them.
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

/* Set by tools/rtpgen before loading. */
const volatile __u32 gen_streams = 1;
const volatile __u32 gen_interval_ns = 0;   /* per stream; 0: flat out */
const volatile __u32 gen_src_addr = 0;	    /* network order */
const volatile __u32 gen_dst_addr = 0;	    /* network order */
const volatile __u16 gen_src_port = 0;	    /* host order */
const volatile __u16 gen_dst_port_base = 0; /* stream i goes to base + 2i (RTP ports) */
const volatile __u32 sink_port_base = 0;    /* stream of a received packet: (dport - base) / 2 */

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

/* Frames the sink saw that were not one of the streams. */
__u64 sink_other;
/* The generator's cursor over the streams, and what it sent. */
__u32 gen_cursor;
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
	__u32 stream, seq, ts;

	if ((void *)(rtp + 12) > data_end)
		return XDP_ABORTED;
	stream = gen_cursor++;
	if (stream >= gen_streams) {
		stream = 0;
		gen_cursor = 1;
	}
	st = bpf_map_lookup_elem(&gen_state, &stream);
	if (!st)
		return XDP_ABORTED;
	if (gen_interval_ns) {
		__u64 now = bpf_ktime_get_ns();

		/* calls do not start in the same microsecond: spread the first packets */
		if (!st->next_due_ns)
			st->next_due_ns = now + (__u64)stream * (gen_interval_ns / gen_streams);
		if (now < st->next_due_ns)
			return XDP_DROP; /* not this stream's turn yet */
		st->next_due_ns += gen_interval_ns;
	}
	seq = st->seq++;
	ts = st->ts;
	st->ts += RTP_TS_PER_PACKET;

	ip->saddr = gen_src_addr;
	ip->daddr = gen_dst_addr;
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
	udp->source = bpf_htons(gen_src_port + 2 * stream);
	udp->dest = bpf_htons(gen_dst_port_base + 2 * stream);
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
	__u32 stream, port;
	__u8 *rtp;

	if (parse_udp_packet(&p) != XT_STAT_MAX || p.family != XT_AF_INET)
		return XDP_PASS; /* ARP and the like: not ours to drop */
	port = bpf_ntohs(p.udp->dest);
	stream = (port - sink_port_base) / 2;
	rtp = (void *)(p.udp + 1);
	count = bpf_map_lookup_elem(&sink_counts, &stream);
	if (port < sink_port_base || stream >= gen_streams || !count ||
	    (void *)(rtp + 4) > p.data_end) {
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
