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

/*
 * xt_relay_addrs also holds addresses flows only leave from: their slot is
 * XT_SLOT_NONE, so no flow is found under them.
 */
#define XT_SLOT_NONE 0xffffffffu

/* Flow flags. */
#define XT_FLOW_F_ACTIVE (1u << 0)	   /* entry in use */
#define XT_FLOW_F_CHECK_SRC_ADDR (1u << 1) /* drop unless saddr == src_addr */
#define XT_FLOW_F_CHECK_SRC_PORT (1u << 2) /* drop unless sport == src_port */
#define XT_FLOW_F_NEXTHOP (1u << 3)	   /* nexthop indexes xt_nexthops */
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
 * With XT_FLOW_F_LATCH: the flow at xt_flows_slow[index].reverse is the other
 * direction of the same stream; latching also points its peer_port at the
 * latched port, so the media goes back through the NAT binding.
 */
#define XT_FLOW_F_REVERSE (1u << 6)
/* Set by the one CPU that latches the flow, while it writes the ports. */
#define XT_FLOW_F_LATCHING (1u << 7)
/*
 * Installed by xtrunkd, not by hand (xtrunkctl flow add): only xtrunkd may
 * replace or remove it, and it stops relaying when xtrunkd's lease
 * (xt_lease) runs out, so a killed xtrunkd leaves no flow relaying forever.
 */
#define XT_FLOW_F_OWNED (1u << 8)

/* last_seen counts CLOCK_MONOTONIC in units of 2^20 ns (~1.05 ms); it wraps after ~52 days. */
#define XT_LAST_SEEN_SHIFT 20

/*
 * Re-latching (NAT rebinding): a latched flow whose source has sent nothing
 * relayed for this long takes the next packet from its signalled address,
 * whatever its port, as the new latch. A stream that talks keeps its port;
 * only its own address can take over a silent one (a NAT that moved the
 * binding, a phone that restarted its socket). XDP and xtrunkd's userspace
 * relay apply the same rule.
 */
#define XT_RELATCH_QUIET_MS 2000u
#define XT_RELATCH_QUIET_UNITS ((XT_RELATCH_QUIET_MS * 1000000ull) >> XT_LAST_SEEN_SHIFT)

/*
 * One direction of one media stream: a UDP packet arriving at
 * (slot address, index port) [from src_addr:src_port] leaves from
 * relay_addr:relay_port to peer_addr:peer_port with DSCP dscp.
 *
 * One cache line: everything a relayed packet reads and writes, so a
 * million flows cost one cold line per packet. What the line has no room
 * for lives in small tables that stay cache-hot (the relay's addresses,
 * next hops) or in xt_flows_slow (drops, the reverse flow), which only a
 * dropped or a latching packet touches.
 * Addresses are in network byte order; IPv4 addresses use the first 4 bytes.
 */
struct xt_flow {
	__u32 flags;	 /* XT_FLOW_F_*; 32 bits so the data path can set bits atomically */
	__u8 dscp;	 /* 0-63; the ECN bits of the packet are kept */
	__u8 family;	 /* of the key, repeated so a dump is self-describing */
	__u8 relay_addr; /* index in xt_relay_addrs of the address it leaves from */
	__u8 pad;
	__be16 relay_port;
	__be16 peer_port;
	__be16 src_port;
	__u16 nexthop; /* index in xt_nexthops, with XT_FLOW_F_NEXTHOP */
	__u8 peer_addr[16];
	__u8 src_addr[16];
	/* counters, written through the lookup pointer (atomic adds) */
	__u64 bytes;
	__u32 packets;
	__u32 last_seen; /* of the last relayed packet, XT_LAST_SEEN_SHIFT units; 0: never */
} __attribute__((aligned(64)));

/* The rarely touched part of a flow, at the same index as the flow. */
struct xt_flow_slow {
	__u64 src_drops; /* packets dropped by the source check */
	__u32 reverse;	 /* index of the reverse flow, with XT_FLOW_F_REVERSE */
	__u32 pad;
};

/*
 * xt_nexthops: next hops as the controller resolved them (route +
 * neighbour), shared by every flow that goes through the same neighbour, so
 * the data path needs no bpf_fib_lookup per packet and a neighbour change
 * rewrites one entry. bpf_fib_lookup also refuses to work unless the ingress
 * device forwards, and a relay is an endpoint, not a router. A flow without
 * XT_FLOW_F_NEXTHOP, or whose entry has ifindex 0 (neighbour lost), asks
 * the FIB. Entries are found by a hash of their key and XT_NEXTHOP_PROBES
 * following entries; they are never freed (one per neighbour).
 */
#define XT_MAX_NEXTHOPS 4096u
#define XT_NEXTHOP_PROBES 8u

struct xt_nexthop_entry {
	/* what the data path reads */
	__u32 ifindex; /* egress device; 0: unresolved, ask the FIB */
	__u8 smac[6];
	__u8 dmac[6];
	/* the controller's key: neighbour neigh on device oif */
	__u32 oif;   /* 0: free entry */
	__u8 family; /* of neigh; 0: given by hand, keyed by its MACs */
	__u8 pad[3];
	__u8 neigh[16];
};

/*
 * RTP reception statistics of one flow (RFC 3550 appendix A.1 and A.8),
 * computed from the relayed packets themselves. The controller writes the
 * entry (clock_hz from the SDP, the rest 0) when it installs the flow; the
 * data path keeps it. Expected = max_seq - base_seq + 1; lost = expected -
 * received (never below 0), computed by readers.
 *
 * 32 bytes, so that an entry never straddles two cache lines: at a million
 * flows each line is a miss.
 */
/*
 * Jitter is sampled: the data path times the packets whose sequence number
 * is 0 or 1 modulo this, and feeds A.8's estimator one transit difference
 * per such pair (see bpf/rtp_stats.h). A power of two.
 */
#define XT_RTP_JITTER_EVERY 16u
#define XT_RTP_DUPLICATES_MAX 0xffffu /* duplicates stops there */

struct xt_rtp_stats {
	__u32 clock_hz; /* RTP timestamp rate; 0: no jitter */
	__u32 ssrc;	/* of the current source; a new SSRC restarts the statistics */
	__u32 max_seq;	/* extended highest sequence number (cycles << 16 | seq) */
	__u32 jitter;	/* interarrival jitter in timestamp units, times 16 (A.8, sampled) */
	__u32 transit;	/* relative transit time of the last timed packet */
	/*
	 * RTP packets of this SSRC, late ones included, duplicates not; 0: no
	 * RTP packet yet. 32 bits: 2.7 years of 50 packets/s.
	 */
	__u32 received;
	__u32 reordered;  /* older than the highest: late or reordered */
	__u16 base_seq;	  /* first sequence number seen */
	__u16 duplicates; /* same sequence number as the highest; saturates */
};

#ifndef __BPF__
_Static_assert(sizeof(struct xt_flow) == 64, "a flow is one cache line");
_Static_assert(sizeof(struct xt_flow) + sizeof(struct xt_flow_slow) + sizeof(struct xt_rtp_stats) <=
		       128,
	       "a flow's map memory, all parts, is at most 128 bytes");
#endif

/*
 * xt_ifaces (pinned beside the relay's maps): one entry per interface xtrunk
 * is attached to, created and removed by the loader, so it is also the list
 * of attached interfaces (xt_tx_ports holds only those XDP may transmit to).
 * The value counts frames the kernel failed to transmit after the relay said
 * XDP_TX or redirect, from the xdp tracepoints (bpf/xmit_watch.bpf.c): the
 * program's own counters stop at its verdict, and a frame that a veth whose
 * peer has no NAPI refuses is otherwise lost without a trace.
 */
struct xt_iface_xmit {
	__u64 redirect_drops; /* redirected to this device, refused by it (xdp_devmap_xmit) */
	__u64 tx_drops;	      /* XDP_TX on this device, refused (xdp_bulk_tx) */
	/*
	 * redirects to this device the kernel refused before a driver saw them
	 * (xdp_redirect_err: a device without ndo_xdp_xmit, down, MTU); when the
	 * target is unknown, counted on the device the frame came in on
	 */
	__u64 redirect_errors;
};

/*
 * xt_lease (one entry): until when the flows xtrunkd owns (XT_FLOW_F_OWNED)
 * may relay, CLOCK_MONOTONIC ns. xtrunkd moves it forward while it runs;
 * when it dies without stopping, its flows fall back to the stack (no socket
 * is left on their ports) once the lease is over. 0: no lease, never expires.
 */
struct xt_lease {
	__u64 expires_ns;
};

/* The watcher's programs, pinned as links under the pin directory. */
#define XT_XMIT_WATCH_LINKS 3

/* Global per-CPU counters, indexed by enum xt_stat. */
enum xt_stat {
	XT_STAT_RX = 0,		   /* every packet the program saw */
	XT_STAT_TX,		   /* relayed with XDP_TX */
	XT_STAT_REDIRECT,	   /* relayed with bpf_redirect_map */
	XT_STAT_DROP_SRC,	   /* dropped: flow's source check failed */
	XT_STAT_PASS_NOT_IP,	   /* passed: not IPv4/IPv6 (ARP, LLDP, ...) */
	XT_STAT_PASS_NOT_UDP,	   /* passed: IP but not UDP */
	XT_STAT_PASS_FRAGMENT,	   /* passed: IPv4 fragment, not aimed at a flow or not the first */
	XT_STAT_PASS_IP_OPTIONS,   /* passed: IPv4 header with options, not aimed at a flow */
	XT_STAT_PASS_IPV6_EXT,	   /* passed: IPv6 extension header, not aimed at a flow */
	XT_STAT_PASS_MALFORMED,	   /* passed: truncated or inconsistent headers */
	XT_STAT_PASS_NO_ADDR,	   /* passed: destination is not a relay address */
	XT_STAT_PASS_NO_FLOW,	   /* passed: relay address, but no flow on the port */
	XT_STAT_PASS_NO_NEIGH,	   /* passed: next hop's neighbour not resolved */
	XT_STAT_PASS_NO_ROUTE,	   /* passed: fib lookup found no usable route */
	XT_STAT_PASS_FWD_DISABLED, /* passed: fib lookup refused, forwarding off */
	XT_STAT_PASS_NO_TXPORT,	   /* passed: egress device has no xtrunk attached */
	XT_STAT_PASS_FAMILY,	   /* passed: flow's family differs from the packet's */
	XT_STAT_LATCHED,	   /* event: a flow latched its source port (not a verdict) */
	XT_STAT_CSUM_COMPLETED,	   /* event: a partial UDP checksum was completed (not a verdict) */
	XT_STAT_PASS_CSUM_TOO_LONG, /* passed: partial UDP checksum over more than XDP completes */
	XT_STAT_PASS_LEASE_EXPIRED, /* passed: xtrunkd's flow, and xtrunkd's lease ran out */
	XT_STAT_RELATCHED,	    /* event: a quiet latched flow took a new source port */
	/*
	 * Dropped: aimed at an active flow, but not relayable. Passed, the stack
	 * would reassemble or accept it and deliver it to xtrunkd's socket for
	 * the port, around the source check. Dropping an IPv4 first fragment is
	 * enough: the later ones (no UDP header) can never be reassembled.
	 */
	XT_STAT_DROP_FRAGMENT,	 /* an IPv4 first fragment (offset 0, more fragments) */
	XT_STAT_DROP_IP_OPTIONS, /* an unfragmented IPv4 packet with options */
	XT_STAT_DROP_IPV6_EXT,	 /* IPv6 UDP behind extension headers (a first fragment too) */
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
	[XT_STAT_CSUM_COMPLETED] = "csum_completed",
	[XT_STAT_PASS_CSUM_TOO_LONG] = "pass_partial_csum_too_long",
	[XT_STAT_PASS_LEASE_EXPIRED] = "pass_lease_expired",
	[XT_STAT_RELATCHED] = "relatched",
	[XT_STAT_DROP_FRAGMENT] = "drop_fragment",
	[XT_STAT_DROP_IP_OPTIONS] = "drop_ip_options",
	[XT_STAT_DROP_IPV6_EXT] = "drop_ipv6_ext_header",
};
#endif

#endif /* XTRUNK_ABI_H */
