/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ABI between the XDP relay and userspace: every struct and constant that
 * crosses the kernel/user boundary is defined here and only here.
 *
 * Flow table layout: the relay owns its ports, so a flow is found without
 * hashing. Each relay-local address the controller uses gets a small "slot"
 * number (map xt_relay_addrs, hashed but tiny and always cache-hot); the flow
 * itself lives in an array at index slot * 65536 + local port. At a million
 * flows this costs one cold cache line per packet instead of a hash bucket
 * walk plus a key compare.
 */
#ifndef XTRUNK_ABI_H
#define XTRUNK_ABI_H

#ifdef __BPF__
#include <linux/types.h>
#else
#include <linux/types.h>
#include <stdint.h>
#endif

#define XT_PORTS_PER_SLOT 65536u
#define XT_DEFAULT_SLOTS 8u /* relay-local addresses; 8 * 65536 flows */
#define XT_MAX_SLOTS 64u
#define XT_MAX_IFACES 64u

#define XT_PIN_DIR "/sys/fs/bpf/xtrunk"
#define XT_PROG_NAME "xtrunk_relay"

/* Address families as carried in maps (values of AF_INET / AF_INET6). */
#define XT_AF_INET 2
#define XT_AF_INET6 10

/*
 * xt_relay_addrs: the relay's own addresses, each with its slot, in an array
 * of XT_ADDR_BUCKETS entries looked up by xt_addr_hash() and up to
 * XT_ADDR_PROBES following entries. An array lookup is inlined by the
 * verifier; a hash map lookup cost ~26 ns a packet here.
 */
#define XT_ADDR_BUCKETS 256u
#define XT_ADDR_PROBES 4u

struct xt_addr_entry {
	__u8 family; /* 0: empty */
	__u8 pad[3];
	__u32 slot;
	__u8 addr[16]; /* network order; IPv4 uses the first 4 bytes */
};

/* Bucket of an address given as four 32-bit words in network order. */
static inline __u32 xt_addr_hash(const __u32 *words, __u8 family)
{
	__u32 h = words[0];

	if (family == XT_AF_INET6)
		h ^= words[1] ^ words[2] ^ words[3];
	h ^= h >> 16;
	h ^= h >> 8;
	return h & (XT_ADDR_BUCKETS - 1);
}

/* Flow flags. */
#define XT_FLOW_F_ACTIVE (1u << 0)	   /* entry in use */
#define XT_FLOW_F_CHECK_SRC_ADDR (1u << 1) /* drop unless saddr == src_addr */
#define XT_FLOW_F_CHECK_SRC_PORT (1u << 2) /* drop unless sport == src_port */
#define XT_FLOW_F_NEXTHOP (1u << 3)	   /* nh_* hold the resolved next hop */
/*
 * NAT latching (symmetric RTP): the first packet from src_addr fixes
 * src_port and sets XT_FLOW_F_CHECK_SRC_PORT; later packets from any other
 * source are dropped. Needs XT_FLOW_F_CHECK_SRC_ADDR: a packet from an
 * address the call never signalled is never relayed, latched or not.
 */
#define XT_FLOW_F_LATCH (1u << 4)
/* Track RTP quality (RFC 3550 A.1, A.8) in xt_rtp_stats at the flow's index. */
#define XT_FLOW_F_RTP_STATS (1u << 5)

/*
 * One direction of one media stream: a UDP packet arriving at
 * (slot address, index port) [from src_addr:src_port] leaves from
 * relay_addr:relay_port to peer_addr:peer_port with DSCP dscp.
 *
 * The first 64 bytes hold everything one packet reads and writes for an
 * IPv4 flow: flags, ports, addresses' first words, and the counters.
 * Addresses are in network byte order; IPv4 addresses use the first 4 bytes.
 */
struct xt_flow {
	__u32 flags; /* XT_FLOW_F_*; 32 bits so the data path can set bits atomically */
	__u8 dscp;   /* 0-63; the ECN bits of the packet are kept */
	__u8 family; /* of the key, repeated so a dump is self-describing */
	__be16 relay_port;
	__be16 peer_port;
	__be16 src_port;
	__u32 pad;
	/* counters, written through the lookup pointer (atomic adds) */
	__u64 packets;
	__u64 bytes;
	__u64 last_seen_ns; /* CLOCK_MONOTONIC of the last relayed packet, to a jiffy */
	__u64 src_drops;    /* packets dropped by the source check */
	__u8 relay_addr[16];
	__u8 peer_addr[16];
	__u8 src_addr[16];
	/*
	 * The next hop as the controller resolved it (route + neighbour), so the
	 * data path needs no bpf_fib_lookup per packet. bpf_fib_lookup also refuses
	 * to work unless the ingress device forwards, and a relay is an endpoint,
	 * not a router. Without XT_FLOW_F_NEXTHOP the program asks the FIB.
	 */
	__u32 nh_ifindex;
	__u8 nh_smac[6];
	__u8 nh_dmac[6];
};

/*
 * RTP reception statistics of one flow (RFC 3550 appendix A.1 and A.8),
 * computed from the relayed packets themselves. The controller writes the
 * entry (clock_hz from the SDP) when it installs the flow; the data path
 * keeps it. Lost = (max_seq - base_seq + 1) - received, computed by readers.
 */
#define XT_RTP_STATE_STARTED (1u << 0)

struct xt_rtp_stats {
	__u32 clock_hz; /* RTP timestamp rate; 0: no jitter */
	__u32 state;	/* XT_RTP_STATE_* */
	__u32 ssrc;	/* of the current source; a new SSRC restarts the statistics */
	__u32 base_seq; /* first sequence number seen */
	__u32 max_seq;	/* extended highest sequence number (cycles << 16 | seq) */
	__u32 jitter;	/* interarrival jitter in timestamp units, times 16 (A.8) */
	__u32 transit;	/* previous packet's relative transit time */
	__u32 pad;
	__u64 received;	  /* RTP packets of this SSRC, duplicates included */
	__u64 duplicates; /* same sequence number as the highest */
	__u64 reordered;  /* older than the highest: late or reordered */
};

/* Global per-CPU counters, indexed by enum xt_stat. */
enum xt_stat {
	XT_STAT_RX = 0,		   /* every packet the program saw */
	XT_STAT_TX,		   /* relayed with XDP_TX */
	XT_STAT_REDIRECT,	   /* relayed with bpf_redirect_map */
	XT_STAT_DROP_SRC,	   /* dropped: flow's source check failed */
	XT_STAT_PASS_NOT_IP,	   /* passed: not IPv4/IPv6 (ARP, LLDP, ...) */
	XT_STAT_PASS_NOT_UDP,	   /* passed: IP but not UDP */
	XT_STAT_PASS_FRAGMENT,	   /* passed: IPv4 fragment */
	XT_STAT_PASS_IP_OPTIONS,   /* passed: IPv4 header with options */
	XT_STAT_PASS_IPV6_EXT,	   /* passed: IPv6 extension header */
	XT_STAT_PASS_MALFORMED,	   /* passed: truncated or inconsistent headers */
	XT_STAT_PASS_NO_ADDR,	   /* passed: destination is not a relay address */
	XT_STAT_PASS_NO_FLOW,	   /* passed: relay address, but no flow on the port */
	XT_STAT_PASS_NO_NEIGH,	   /* passed: next hop's neighbour not resolved */
	XT_STAT_PASS_NO_ROUTE,	   /* passed: fib lookup found no usable route */
	XT_STAT_PASS_FWD_DISABLED, /* passed: fib lookup refused, forwarding off */
	XT_STAT_PASS_NO_TXPORT,	   /* passed: egress device has no xtrunk attached */
	XT_STAT_PASS_FAMILY,	   /* passed: flow's family differs from the packet's */
	XT_STAT_LATCHED,	   /* event: a flow latched its source port (not a verdict) */
	XT_STAT_MAX,
};

#ifndef __BPF__
static const char *const xt_stat_names[XT_STAT_MAX] = {
	[XT_STAT_RX] = "rx",
	[XT_STAT_TX] = "tx",
	[XT_STAT_REDIRECT] = "redirect",
	[XT_STAT_DROP_SRC] = "drop_source_check",
	[XT_STAT_PASS_NOT_IP] = "pass_not_ip",
	[XT_STAT_PASS_NOT_UDP] = "pass_not_udp",
	[XT_STAT_PASS_FRAGMENT] = "pass_fragment",
	[XT_STAT_PASS_IP_OPTIONS] = "pass_ip_options",
	[XT_STAT_PASS_IPV6_EXT] = "pass_ipv6_ext_header",
	[XT_STAT_PASS_MALFORMED] = "pass_malformed",
	[XT_STAT_PASS_NO_ADDR] = "pass_no_relay_addr",
	[XT_STAT_PASS_NO_FLOW] = "pass_no_flow",
	[XT_STAT_PASS_NO_NEIGH] = "pass_no_neighbour",
	[XT_STAT_PASS_NO_ROUTE] = "pass_no_route",
	[XT_STAT_PASS_FWD_DISABLED] = "pass_fib_forwarding_disabled",
	[XT_STAT_PASS_NO_TXPORT] = "pass_no_tx_port",
	[XT_STAT_PASS_FAMILY] = "pass_family_mismatch",
	[XT_STAT_LATCHED] = "latched",
};
#endif

#endif /* XTRUNK_ABI_H */
