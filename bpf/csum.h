/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Internet checksum helpers: full IPv4 header sum, RFC 1624 incremental updates. */
#ifndef XTRUNK_CSUM_H
#define XTRUNK_CSUM_H

#include <linux/types.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>

/* One's complement add with end-around carry. */
static __always_inline __u32 csum_add(__u32 sum, __u32 addend)
{
	sum += addend;
	return sum + (sum < addend);
}

/* Fold a 32-bit one's complement sum to 16 bits and complement it. */
static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), for a 32-bit field. */
static __always_inline __u32 csum_replace32(__u32 sum, __u32 old, __u32 new)
{
	return csum_add(csum_add(sum, ~old), new);
}

/* The same for a 16-bit field. */
static __always_inline __u32 csum_replace16(__u32 sum, __u16 old, __u16 new)
{
	return csum_add(csum_add(sum, (__u16)~old), new);
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
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

#endif /* XTRUNK_CSUM_H */
