/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Internet checksum helpers: full IPv4 header sum, RFC 1624 incremental updates. */
#ifndef XTRUNK_CSUM_H
#define XTRUNK_CSUM_H

#include <linux/types.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/*
 * Incremental updates (RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m')) are summed
 * in 64 bits: 32-bit words and their complements add up without a carry to
 * propagate until the final fold, so an update costs one add a word and no
 * branch (BPF has no add-with-carry; a 32-bit end-around carry is a compare
 * and a jump).
 */
static __always_inline __u64 csum_replace32(__u64 sum, __u32 old, __u32 new)
{
	return sum + (__u32)~old + new;
}

static __always_inline __u64 csum_replace16(__u64 sum, __u16 old, __u16 new)
{
	return sum + (__u16)~old + new;
}

/* Fold a 64-bit one's complement sum to 16 bits, not complemented. */
static __always_inline __u16 csum_fold64_plain(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* The same, complemented: the checksum field. */
static __always_inline __u16 csum_fold64(__u64 sum)
{
	return (__u16)~csum_fold64_plain(sum);
}

/*
 * Header checksum of an IPv4 header without options (ihl == 5), summed a
 * 32-bit word at a time: the one's complement sum folds to the same 16 bits
 * (RFC 1071), in half the loads and adds.
 */
static __always_inline __u16 ipv4_header_csum(struct iphdr *ip)
{
	__u32 *word = (__u32 *)ip;
	__u64 sum = 0;
	int i;

	ip->check = 0;
#pragma unroll
	for (i = 0; i < (int)(sizeof(*ip) / 4); i++)
		sum += word[i];
	return csum_fold64(sum);
}

/*
 * A local sender with transmit checksum offload (CHECKSUM_PARTIAL: a veth
 * peer, a container) leaves in the UDP checksum field only the sum of the
 * pseudo-header, folded and not complemented, for the NIC to finish. XDP
 * cannot see the skb's ip_summed, but it can see that field: when it equals
 * the pseudo-header's folded sum, the datagram is completed in full. A full
 * checksum that happens to equal that sum is recomputed to the same value
 * (see csum_datagram), so the rule never breaks a correct packet.
 */
static __always_inline int udp_csum_partial_v4(const struct iphdr *ip, const struct udphdr *udp)
{
	__u64 sum = (__u64)ip->saddr + ip->daddr + bpf_htons(IPPROTO_UDP) + udp->len;

	return udp->check == csum_fold64_plain(sum);
}

static __always_inline int udp_csum_partial_v6(const struct ipv6hdr *ip6, const struct udphdr *udp)
{
	const __u32 *addr = (const __u32 *)&ip6->saddr; /* saddr, then daddr */
	__u64 sum = bpf_htons(IPPROTO_UDP) + (__u32)udp->len;
	int i;

#pragma unroll
	for (i = 0; i < 8; i++)
		sum += addr[i];
	return udp->check == csum_fold64_plain(sum);
}

/*
 * Largest datagram completed in XDP: a 1500-byte MTU's UDP datagram and some.
 * Longer partial datagrams (jumbo frames) are passed to the stack.
 */
#define XT_CSUM_MAX_LEN 1536

/*
 * The one's complement sum of the whole UDP datagram (header and payload,
 * len bytes from offset udp_off of the packet), check field included, in
 * memory byte order, folded to 16 bits; or -1 when it is too long or runs
 * past the packet. For a partial checksum (field = pseudo-header sum P) this
 * sum S is P plus the datagram's own sum, so ~S is the full checksum; for a
 * full checksum C that equals P it is ~P, whose complement is C again.
 *
 * Summed here, 8 bytes a load into a 64-bit accumulator (no carry to handle
 * until the fold): a chain of bpf_csum_diff() calls, one per power of two in
 * the length, cost twice as much for a G.711 packet. A global function: the
 * verifier checks it once, on its own, not once for every path of the relay
 * that leads to it, and only packets with a partial checksum call it.
 */
__noinline int xt_csum_datagram(struct xdp_md *ctx, __u32 udp_off, __u32 len)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u32 i, words = len / 8;
	__u64 sum = 0, word;
	__u8 *pos;

	if (udp_off > 256 || len > XT_CSUM_MAX_LEN)
		return -1;
	pos = data + udp_off;
	for (i = 0; i < XT_CSUM_MAX_LEN / 8; i++) {
		if (i >= words)
			break;
		/* opaque to clang, which otherwise moves the bound onto data_end */
		asm volatile("" : "+r"(pos));
		if ((void *)(pos + 8) > data_end)
			return -1;
		word = *(__u64 *)pos;
		sum += (__u32)word;
		sum += word >> 32;
		pos += 8;
	}
	if (len & 4) {
		if ((void *)(pos + 4) > data_end)
			return -1;
		sum += *(__u32 *)pos;
		pos += 4;
	}
	if (len & 2) {
		if ((void *)(pos + 2) > data_end)
			return -1;
		sum += *(__u16 *)pos;
		pos += 2;
	}
	if (len & 1) {
		if ((void *)(pos + 1) > data_end)
			return -1;
			/* the last byte, padded with a zero byte to a 16-bit word */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		sum += *pos;
#else
		sum += (__u32)*pos << 8;
#endif
	}
	return csum_fold64_plain(sum);
}

#endif /* XTRUNK_CSUM_H */
