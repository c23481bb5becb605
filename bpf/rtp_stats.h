/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Call quality from the relayed RTP packets: RFC 3550 A.1 (sequence) and
 * A.8 (jitter).
 *
 * Jitter needs each packet's own arrival time, and bpf_ktime_get_ns() costs
 * ~30 ns here: more than the rest of the relay's work on a packet. So the
 * arrival time is read only for the packets whose sequence number is 0 or 1
 * modulo XT_RTP_JITTER_EVERY, and A.8's estimator, J += (|D| - J) / 16, is
 * fed the transit difference D of each such pair of consecutive packets:
 * the same quantity, from one pair in XT_RTP_JITTER_EVERY instead of every
 * one (an eighth of the clock reads at 16). A pair broken by loss or
 * reordering is skipped.
 */
#ifndef XTRUNK_RTP_STATS_H
#define XTRUNK_RTP_STATS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xtrunk_abi.h"
#include "parsing.h"
#include "maps.h"

struct rtp_header {
	__u8 vpxcc;	/* version 2 bits, padding, extension, CSRC count */
	__u8 marker_pt; /* marker bit, payload type 7 bits */
	__be16 seq;
	__be32 timestamp;
	__be32 ssrc;
};

/*
 * RTCP multiplexed on the RTP port (RFC 5761 section 4): a second byte (the
 * RTP marker and payload type, RTCP's packet type) of 192-223 is RTCP. It is
 * relayed like RTP, but is not part of the RTP statistics.
 */
#define RTCP_MUX_TYPE_FIRST 192
#define RTCP_MUX_TYPE_LAST 223

/* Now, in RTP timestamp units: the exact clock, not the per-jiffy one. */
static __always_inline __u32 rtp_arrival(__u32 clock_hz)
{
	return (__u32)(bpf_ktime_get_ns() / 1000 * clock_hz / 1000000);
}

static __always_inline void rtp_stats_update(const struct pkt *p, __u32 index)
{
	struct rtp_header *rtp = (void *)(p->udp + 1);
	struct xt_rtp_stats *st;
	__u32 seq, ts, ssrc, transit;
	__u16 delta;
	int timed;

	if ((void *)(rtp + 1) > p->data_end || (rtp->vpxcc >> 6) != 2)
		return;
	if (rtp->marker_pt >= RTCP_MUX_TYPE_FIRST && rtp->marker_pt <= RTCP_MUX_TYPE_LAST)
		return;
	st = bpf_map_lookup_elem(&xt_rtp_stats, &index);
	if (!st)
		return;
	seq = bpf_ntohs(rtp->seq);
	ts = bpf_ntohl(rtp->timestamp);
	ssrc = bpf_ntohl(rtp->ssrc);
	timed = st->clock_hz && (seq & (XT_RTP_JITTER_EVERY - 1)) <= 1;

	if (!st->received || st->ssrc != ssrc) {
		st->ssrc = ssrc;
		st->base_seq = seq;
		st->max_seq = seq;
		st->jitter = 0;
		if (timed)
			st->transit = rtp_arrival(st->clock_hz) - ts;
		st->received = 1;
		st->duplicates = 0;
		st->reordered = 0;
		return;
	}
	delta = (__u16)(seq - st->max_seq);
	if (delta == 0) {
		if (st->duplicates < XT_RTP_DUPLICATES_MAX)
			st->duplicates++;
		return;
	}
	st->received++;
	if (delta >= 0x8000) {
		st->reordered++;
		return;
	}
	st->max_seq += delta; /* in order, maybe after a gap; wraps into the cycles */
	if (!timed)
		return;
	transit = rtp_arrival(st->clock_hz) - ts;
	/* the second of a pair, right after the first: one jitter sample */
	if ((seq & (XT_RTP_JITTER_EVERY - 1)) == 1 && delta == 1) {
		__s32 d = (__s32)(transit - st->transit);

		if (d < 0)
			d = -d;
		st->jitter += (__u32)d - ((st->jitter + 8) >> 4);
	}
	st->transit = transit;
}

#endif /* XTRUNK_RTP_STATS_H */
