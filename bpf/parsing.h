/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Header parsing for the relay: Ethernet (up to two VLAN tags), IPv4/IPv6, UDP. */
#ifndef XTRUNK_PARSING_H
#define XTRUNK_PARSING_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xtrunk_abi.h"

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

#define IP_MF 0x2000
#define IP_OFFSET 0x1FFF
#define IP6_OFFSET 0xFFF8 /* fragment header: the offset, in 8-byte units, above 3 flag bits */

/* IPv6 extension headers looked through for a UDP header; behind more, it is not looked for. */
#define XT_IPV6_EXT_MAX 4

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

/* RFC 8200 4.5; the kernel's struct frag_hdr is not in its UAPI. */
struct ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

/* Where the headers of one packet are, and what they say. */
struct pkt {
	void *data;
	void *data_end;
	struct ethhdr *eth;
	void *l3; /* struct iphdr or struct ipv6hdr, as family says */
	struct udphdr *udp;
	__u32 l3_len; /* IP header + payload, as the IP header says */
	__u8 family;
};

/*
 * Parse up to the UDP header. Returns XT_STAT_MAX when the packet is a
 * well-formed, unfragmented UDP datagram the relay may handle, otherwise the
 * reason (enum xt_stat) it must be passed to the stack.
 */
static __always_inline int parse_udp_packet(struct pkt *p)
{
	void *data = p->data, *data_end = p->data_end;
	struct ethhdr *eth = data;
	__u16 proto;
	void *l3;
	int i;

	if ((void *)(eth + 1) > data_end)
		return XT_STAT_PASS_MALFORMED;
	p->eth = eth;
	proto = eth->h_proto;
	l3 = eth + 1;

#pragma unroll
	for (i = 0; i < 2; i++) {
		struct vlan_tag *tag = l3;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(tag + 1) > data_end)
			return XT_STAT_PASS_MALFORMED;
		proto = tag->proto;
		l3 = tag + 1;
	}

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;
		__u32 tot_len;

		if ((void *)(ip + 1) > data_end)
			return XT_STAT_PASS_MALFORMED;
		if (ip->version != 4 || ip->ihl < 5)
			return XT_STAT_PASS_MALFORMED;
		/* set before the reasons parse_unrelayable_udp() looks further into */
		p->l3 = ip;
		p->family = XT_AF_INET;
		if (ip->ihl != 5)
			return XT_STAT_PASS_IP_OPTIONS;
		if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
			return XT_STAT_PASS_FRAGMENT;
		if (ip->protocol != IPPROTO_UDP)
			return XT_STAT_PASS_NOT_UDP;
		tot_len = bpf_ntohs(ip->tot_len);
		if (tot_len < sizeof(*ip) + sizeof(struct udphdr) ||
		    (void *)ip + tot_len > data_end)
			return XT_STAT_PASS_MALFORMED;
		p->l3_len = tot_len;
		p->udp = (void *)(ip + 1);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		__u32 tot_len;

		if ((void *)(ip6 + 1) > data_end)
			return XT_STAT_PASS_MALFORMED;
		if (ip6->version != 6)
			return XT_STAT_PASS_MALFORMED;
		p->l3 = ip6;
		p->family = XT_AF_INET6;
		switch (ip6->nexthdr) {
		case IPPROTO_UDP:
			break;
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_FRAGMENT:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
		case IPPROTO_ESP:
		case 135: /* Mobility */
		case 139: /* HIP */
		case 140: /* Shim6 */
			return XT_STAT_PASS_IPV6_EXT;
		default:
			return XT_STAT_PASS_NOT_UDP;
		}
		tot_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
		if (tot_len < sizeof(*ip6) + sizeof(struct udphdr) ||
		    (void *)ip6 + tot_len > data_end)
			return XT_STAT_PASS_MALFORMED;
		p->l3_len = tot_len;
		p->udp = (void *)(ip6 + 1);
	} else {
		return XT_STAT_PASS_NOT_IP;
	}

	if ((void *)(p->udp + 1) > data_end)
		return XT_STAT_PASS_MALFORMED;
	/* IPv6 requires a UDP checksum (RFC 8200 8.1): a zero one is the stack's to drop. */
	if (p->family == XT_AF_INET6 && !p->udp->check)
		return XT_STAT_PASS_MALFORMED;
	/* The UDP length must cover exactly what the IP header says it carries. */
	{
		__u32 l4_len = p->l3_len - (p->family == XT_AF_INET ? sizeof(struct iphdr) :
								      sizeof(struct ipv6hdr));

		if (bpf_ntohs(p->udp->len) != l4_len)
			return XT_STAT_PASS_MALFORMED;
	}
	return XT_STAT_MAX;
}

/*
 * For a packet parse_udp_packet() passed as pass_reason (IPv4 options, an
 * IPv4 fragment, IPv6 extension headers): find the UDP header it carries,
 * set p->udp and return the reason to drop it if that header is aimed at
 * an active flow (XT_STAT_DROP_*). Returns pass_reason when there is none:
 * a later fragment, not UDP, an IPv6 header other than hop-by-hop, routing,
 * destination options or fragment, more than XT_IPV6_EXT_MAX of them, or a
 * truncated packet. No length is checked: such a packet is never relayed.
 * Only this slow path walks further than the fixed IP header.
 */
static __always_inline int parse_unrelayable_udp(struct pkt *p, int pass_reason)
{
	void *data_end = p->data_end;
	struct udphdr *udp;
	int drop_reason;

	if (p->family == XT_AF_INET) {
		struct iphdr *ip = p->l3;

		if ((void *)(ip + 1) > data_end)
			return pass_reason;
		if ((ip->frag_off & bpf_htons(IP_OFFSET)) || ip->protocol != IPPROTO_UDP)
			return pass_reason;
		drop_reason = ip->frag_off & bpf_htons(IP_MF) ? XT_STAT_DROP_FRAGMENT :
								XT_STAT_DROP_IP_OPTIONS;
		udp = (void *)ip + ip->ihl * 4;
	} else {
		struct ipv6hdr *ip6 = p->l3;
		void *hdr = ip6 + 1;
		__u32 len;
		__u8 next;
		int i;

		if ((void *)(ip6 + 1) > data_end)
			return pass_reason;
		next = ip6->nexthdr;
#pragma unroll
		for (i = 0; i < XT_IPV6_EXT_MAX; i++) {
			struct ipv6_opt_hdr *opt = hdr;
			struct ipv6_frag_hdr *frag = hdr;

			if (next == IPPROTO_UDP)
				break;
			/* every extension header is 8 bytes or more */
			if ((void *)(frag + 1) > data_end)
				return pass_reason;
			switch (next) {
			case IPPROTO_HOPOPTS:
			case IPPROTO_ROUTING:
			case IPPROTO_DSTOPTS:
				len = ((__u32)opt->hdrlen + 1) * 8;
				break;
			case IPPROTO_FRAGMENT:
				if (frag->frag_off & bpf_htons(IP6_OFFSET))
					return pass_reason;
				len = sizeof(*frag);
				break;
			default:
				return pass_reason;
			}
			next = opt->nexthdr;
			hdr += len;
		}
		if (next != IPPROTO_UDP)
			return pass_reason;
		drop_reason = XT_STAT_DROP_IPV6_EXT;
		udp = hdr;
	}
	if ((void *)(udp + 1) > data_end)
		return pass_reason;
	p->udp = udp;
	return drop_reason;
}

#endif /* XTRUNK_PARSING_H */
