// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Golden-packet tests of the XDP relay (xtrunk_relay), run through
 * BPF_PROG_TEST_RUN with repeat = 1.
 *
 * Each case is one line of the specification: the packet as it arrives, the
 * verdict, the packet as it must leave and the counter that must count it.
 * The expected packet is built here, independently of the BPF code, by the
 * same builder as the input with the rewritten fields, and every checksum in
 * it is computed from scratch. A packet the relay passes must come out
 * byte for byte as it went in.
 *
 * tests/pkt/run.sh builds the network namespace this runs in: the devices
 * whose ifindexes are the arguments, the relay addresses, the routes and the
 * permanent neighbours that bpf_fib_lookup() resolves. The addresses and
 * neighbour MACs below are the ones it installs: change both files together.
 *
 * Usage: test_packets INGRESS EGRESS UNATTACHED NO_FORWARDING (ifindexes)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xtrunk_abi.h"
#include "endpoint.h"
#include "relay_addrs.h"
#include "flow_table.h"
#include "relay_maps.h"
#include "xtrunk.skel.h"

/* ---- The namespace, as tests/pkt/run.sh sets it up ---------------------- */

/* Devices, in the order of the command line arguments. */
enum test_device {
	IFACE_INGRESS,	  /* where packets arrive; xtrunk attached; forwarding on */
	IFACE_EGRESS,	  /* the other attached device (in xt_tx_ports) */
	IFACE_UNATTACHED, /* a device without xtrunk (not in xt_tx_ports) */
	IFACE_NO_FORWARD, /* forwarding disabled on it, no addresses */
	IFACE_COUNT,
};

static const char *const iface_roles[IFACE_COUNT] = {
	[IFACE_INGRESS] = "ingress",
	[IFACE_EGRESS] = "egress",
	[IFACE_UNATTACHED] = "unattached",
	[IFACE_NO_FORWARD] = "no-forwarding",
};

#define RELAY_V4 "10.10.1.1" /* relay address on the ingress device */
#define RELAY_V6 "fd10:1::1"
#define RELAY_OUT_V4 "10.10.2.1" /* relay address on the egress device */
#define RELAY_OUT_V6 "fd10:2::1"
#define RELAY_BARE_V4 "10.10.3.1" /* relay address on the unattached device */
#define RELAY_BARE_V6 "fd10:3::1"
#define PBX_V4 "10.10.1.2" /* the media source the flows were signalled with */
#define PBX_V6 "fd10:1::2"
#define STRANGER_V4 "10.10.1.3" /* a host on the same link nobody signalled */
#define STRANGER_V6 "fd10:1::3"
#define TRUNK_V4 "10.30.0.5" /* the ITSP, routed via the gateway on the ingress link */
#define TRUNK_V6 "fd10:30::5"
#define PBX_B_V4 "10.10.2.2" /* a peer on the egress device's link */
#define PBX_B_V6 "fd10:2::2"
#define BARE_PEER_V4 "10.10.3.2" /* a peer on the unattached device's link */
#define BARE_PEER_V6 "fd10:3::2"
#define UNRESOLVED_V4 "10.10.1.9" /* on the ingress link, no neighbour entry */
#define UNRESOLVED_V6 "fd10:1::9"
#define UNROUTED_V4 "10.99.0.1" /* no route at all */
#define UNROUTED_V6 "fd10:99::1"
#define NOT_RELAY_V4 "10.10.1.77" /* on the relay's subnet, but not a relay address */
#define NOT_RELAY_V6 "fd10:1::77"

/* MACs a packet can carry: the devices' own, read at start-up, and neighbours'. */
enum mac_id {
	MAC_INGRESS_DEV, /* the devices' own, in the order of enum test_device */
	MAC_EGRESS_DEV,
	MAC_UNATTACHED_DEV,
	MAC_NO_FORWARD_DEV,
	MAC_PBX,     /* sender of arriving packets; not a next hop */
	MAC_GATEWAY, /* permanent neighbour: the next hop to the trunk */
	MAC_PBX_B,   /* permanent neighbour on the egress link */
	MAC_COUNT,
};

static const __u8 pbx_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x01, 0x00, 0x02 };
static const __u8 gateway_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x01, 0x00, 0xfe };
static const __u8 pbx_b_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x02, 0x00, 0x02 };

/* ---- The flows ---------------------------------------------------------- */

/* Relay ports on the ingress relay address, one flow each. */
#define PORT_RTP 30000		 /* source checked (address and port); XDP_TX */
#define PORT_RTCP 30001		 /* the same stream's RTCP: odd port, own flow */
#define PORT_SRC_ADDR_ONLY 30002 /* source address checked, any port */
#define PORT_REDIRECT 30004	 /* peer on the egress device: XDP_REDIRECT */
#define PORT_UNATTACHED 30006	 /* peer on a device without xtrunk */
#define PORT_UNRESOLVED 30008	 /* next hop without neighbour entry */
#define PORT_UNROUTED 30010	 /* peer without route */
#define PORT_INACTIVE 30012	 /* entry filled in but not active */
#define PORT_WRONG_FAMILY 30014	 /* entry of the other address family */
#define PORT_COUNTED 30016	 /* used by the flow counter case only */
/* Flows with the next hop the controller resolved: no FIB lookup. */
#define PORT_CACHED_TX 30020	     /* via the gateway, though the peer has no route */
#define PORT_CACHED_NO_FORWARD 30022 /* arriving on, and leaving by, the no-forwarding device */
#define PORT_CACHED_REDIRECT 30024   /* next hop on the egress device */
#define PORT_CACHED_UNATTACHED 30026 /* next hop on a device without xtrunk */
#define PORT_LATCH 30028	     /* NAT latching: the first packet fixes the source port */
#define PORT_RTP_STATS 30030	     /* RTP quality tracked (RFC 3550 A.1, A.8) */
#define RTP_STATS_CLOCK_HZ 8000
#define PORT_LATCH_REVERSE 30032 /* latching, and names its reverse flow */
#define PORT_LATCH_BACK 30034	 /* that reverse flow: trunk -> PBX */
#define PORT_RTCP_MUX 30036	 /* RTP statistics on a port that also carries RTCP */
#define PORT_NO_FLOW 30098	 /* never written */

/* Ports of the peers and of the relay's other leg, where packets leave from. */
#define PBX_RTP_PORT 5004
#define PBX_RTCP_PORT 5005
#define PBX_UNSIGNALLED_PORT 5098
#define PBX_NAT_PORT 40000 /* where the PBX's NAT maps its RTP port */
#define TRUNK_RTP_PORT 6000
#define TRUNK_RTCP_PORT 6001
#define TRUNK_ADDR_ONLY_PORT 6002
#define TRUNK_COUNTED_PORT 6016
#define PBX_B_RTP_PORT 7000
#define FAR_PORT 9000 /* peer port of flows whose packets never leave */
#define LEG_RTP_PORT 31000
#define LEG_RTCP_PORT 31001
#define LEG_ADDR_ONLY_PORT 31002
#define LEG_REDIRECT_PORT 32004
#define LEG_COUNTED_PORT 31016
#define LEG_CACHED_PORT 31020
#define LEG_FAR_PORT 31999
#define LEG_LATCH_PORT 31032
#define LEG_LATCH_BACK_PORT 31034

#define DSCP_EF 46   /* expedited forwarding: voice */
#define DSCP_AF41 34 /* RTCP gets its own marking, to show it is per flow */
#define TOS_OF(dscp) ((__u8)((dscp) << 2))
#define TOS_EF TOS_OF(DSCP_EF)
#define TOS_AF41 TOS_OF(DSCP_AF41)
#define ECN_CE 0x03

#define ARRIVING_TTL 61 /* TTL or hop limit of an arriving packet unless a case says */
#define RELAYED_TTL 64	/* every relayed packet leaves with this */

/* Relay address -> slot. Slot numbers are not in address order on purpose. */
#define TEST_SLOTS 3
static const struct relay_slot {
	__u8 family;
	const char *addr;
	__u32 slot;
} relay_slots[] = {
	{ XT_AF_INET, RELAY_V4, 2 },
	{ XT_AF_INET6, RELAY_V6, 1 },
};

#define FLOW_CHECK_SOURCE (XT_FLOW_F_ACTIVE | XT_FLOW_F_CHECK_SRC_ADDR | XT_FLOW_F_CHECK_SRC_PORT)
#define FLOW_CHECK_ADDR (XT_FLOW_F_ACTIVE | XT_FLOW_F_CHECK_SRC_ADDR)
#define FLOW_NO_CHECK XT_FLOW_F_ACTIVE
#define FLOW_LATCH (XT_FLOW_F_ACTIVE | XT_FLOW_F_CHECK_SRC_ADDR | XT_FLOW_F_LATCH)
#define FLOW_CACHED_NEXTHOP (XT_FLOW_F_ACTIVE | XT_FLOW_F_NEXTHOP)

struct endpoint {
	const char *addr;
	__u16 port;
};

struct flow_spec {
	__u8 family; /* of the relay address the flow is found under */
	__u16 local_port;
	__u16 flags;
	__u8 entry_family; /* written into the entry; 0: the same as family */
	__u8 dscp;
	struct endpoint source, relay, peer;
	/* with XT_FLOW_F_NEXTHOP: the cached next hop, leaving by the device's MAC */
	enum test_device nh_device;
	enum mac_id nh_dmac;
	__u16 reverse_port; /* with XT_FLOW_F_REVERSE: the reverse flow's local port */
};

static const struct flow_spec flows[] = {
	{
		.family = XT_AF_INET,
		.local_port = PORT_RTP,
		.flags = FLOW_CHECK_SOURCE,
		.dscp = DSCP_EF,
		.source = { PBX_V4, PBX_RTP_PORT },
		.relay = { RELAY_V4, LEG_RTP_PORT },
		.peer = { TRUNK_V4, TRUNK_RTP_PORT },
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_RTCP,
		.flags = FLOW_CHECK_SOURCE,
		.dscp = DSCP_AF41,
		.source = { PBX_V4, PBX_RTCP_PORT },
		.relay = { RELAY_V4, LEG_RTCP_PORT },
		.peer = { TRUNK_V4, TRUNK_RTCP_PORT },
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_SRC_ADDR_ONLY,
		.flags = FLOW_CHECK_ADDR,
		.dscp = DSCP_EF,
		.source = { PBX_V4, 0 },
		.relay = { RELAY_V4, LEG_ADDR_ONLY_PORT },
		.peer = { TRUNK_V4, TRUNK_ADDR_ONLY_PORT },
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_REDIRECT,
		.flags = FLOW_CHECK_SOURCE,
		.dscp = DSCP_EF,
		.source = { PBX_V4, PBX_RTP_PORT },
		.relay = { RELAY_OUT_V4, LEG_REDIRECT_PORT },
		.peer = { PBX_B_V4, PBX_B_RTP_PORT },
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_UNATTACHED,
		.flags = FLOW_NO_CHECK,
		.dscp = DSCP_EF,
		.relay = { RELAY_BARE_V4, LEG_FAR_PORT },
		.peer = { BARE_PEER_V4, FAR_PORT },
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_UNRESOLVED,
		.flags = FLOW_NO_CHECK,
		.dscp = DSCP_EF,
		.relay = { RELAY_V4, LEG_FAR_PORT },
		.peer = { UNRESOLVED_V4, FAR_PORT },
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_UNROUTED,
		.flags = FLOW_NO_CHECK,
		.dscp = DSCP_EF,
		.relay = { RELAY_V4, LEG_FAR_PORT },
		.peer = { UNROUTED_V4, FAR_PORT },
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_INACTIVE,
		.flags = 0,
		.dscp = DSCP_EF,
		.relay = { RELAY_V4, LEG_FAR_PORT },
		.peer = { TRUNK_V4, FAR_PORT },
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_WRONG_FAMILY,
		.flags = FLOW_NO_CHECK,
		.entry_family = XT_AF_INET6,
		.dscp = DSCP_EF,
		.relay = { RELAY_V6, LEG_FAR_PORT },
		.peer = { TRUNK_V6, FAR_PORT },
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_COUNTED,
		.flags = FLOW_NO_CHECK,
		.dscp = DSCP_EF,
		.relay = { RELAY_V4, LEG_COUNTED_PORT },
		.peer = { TRUNK_V4, TRUNK_COUNTED_PORT },
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_RTP_STATS,
		.flags = XT_FLOW_F_ACTIVE | XT_FLOW_F_RTP_STATS,
		.dscp = DSCP_EF,
		.relay = { RELAY_V4, LEG_COUNTED_PORT },
		.peer = { TRUNK_V4, TRUNK_COUNTED_PORT },
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_LATCH,
		.flags = FLOW_LATCH,
		.dscp = DSCP_EF,
		.source = { PBX_V4, 0 },
		.relay = { RELAY_V4, LEG_COUNTED_PORT },
		.peer = { TRUNK_V4, TRUNK_COUNTED_PORT },
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_LATCH_REVERSE,
		.flags = FLOW_LATCH | XT_FLOW_F_REVERSE,
		.dscp = DSCP_EF,
		.source = { PBX_V4, 0 },
		.relay = { RELAY_V4, LEG_LATCH_PORT },
		.peer = { TRUNK_V4, TRUNK_RTP_PORT },
		.reverse_port = PORT_LATCH_BACK,
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_LATCH_BACK,
		.flags = FLOW_CHECK_SOURCE | XT_FLOW_F_NEXTHOP,
		.dscp = DSCP_EF,
		.source = { TRUNK_V4, TRUNK_RTP_PORT },
		.relay = { RELAY_V4, LEG_LATCH_BACK_PORT },
		.peer = { PBX_V4, PBX_RTP_PORT }, /* as signalled, before the NAT is known */
		.nh_device = IFACE_INGRESS,
		.nh_dmac = MAC_PBX,
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_RTCP_MUX,
		.flags = XT_FLOW_F_ACTIVE | XT_FLOW_F_RTP_STATS,
		.dscp = DSCP_EF,
		.relay = { RELAY_V4, LEG_COUNTED_PORT },
		.peer = { TRUNK_V4, TRUNK_COUNTED_PORT },
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_CACHED_TX,
		.flags = FLOW_CACHED_NEXTHOP,
		.dscp = DSCP_EF,
		.relay = { RELAY_V4, LEG_CACHED_PORT },
		.peer = { UNROUTED_V4, FAR_PORT },
		.nh_device = IFACE_INGRESS,
		.nh_dmac = MAC_GATEWAY,
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_CACHED_NO_FORWARD,
		.flags = FLOW_CACHED_NEXTHOP,
		.dscp = DSCP_EF,
		.relay = { RELAY_V4, LEG_CACHED_PORT },
		.peer = { TRUNK_V4, FAR_PORT },
		.nh_device = IFACE_NO_FORWARD,
		.nh_dmac = MAC_GATEWAY,
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_CACHED_REDIRECT,
		.flags = FLOW_CACHED_NEXTHOP,
		.dscp = DSCP_EF,
		.relay = { RELAY_OUT_V4, LEG_CACHED_PORT },
		.peer = { PBX_B_V4, FAR_PORT },
		.nh_device = IFACE_EGRESS,
		.nh_dmac = MAC_PBX_B,
	},
	{
		.family = XT_AF_INET,
		.local_port = PORT_CACHED_UNATTACHED,
		.flags = FLOW_CACHED_NEXTHOP,
		.dscp = DSCP_EF,
		.relay = { RELAY_BARE_V4, LEG_CACHED_PORT },
		.peer = { BARE_PEER_V4, FAR_PORT },
		.nh_device = IFACE_UNATTACHED,
		.nh_dmac = MAC_PBX_B,
	},
	{
		.family = XT_AF_INET6,
		.local_port = PORT_RTP,
		.flags = FLOW_CHECK_SOURCE,
		.dscp = DSCP_EF,
		.source = { PBX_V6, PBX_RTP_PORT },
		.relay = { RELAY_V6, LEG_RTP_PORT },
		.peer = { TRUNK_V6, TRUNK_RTP_PORT },
	},
	{
		.family = XT_AF_INET6,
		.local_port = PORT_RTCP,
		.flags = FLOW_CHECK_SOURCE,
		.dscp = DSCP_AF41,
		.source = { PBX_V6, PBX_RTCP_PORT },
		.relay = { RELAY_V6, LEG_RTCP_PORT },
		.peer = { TRUNK_V6, TRUNK_RTCP_PORT },
	},
	{
		.family = XT_AF_INET6,
		.local_port = PORT_SRC_ADDR_ONLY,
		.flags = FLOW_CHECK_ADDR,
		.dscp = DSCP_EF,
		.source = { PBX_V6, 0 },
		.relay = { RELAY_V6, LEG_ADDR_ONLY_PORT },
		.peer = { TRUNK_V6, TRUNK_ADDR_ONLY_PORT },
	},
	{
		.family = XT_AF_INET6,
		.local_port = PORT_REDIRECT,
		.flags = FLOW_CHECK_SOURCE,
		.dscp = DSCP_EF,
		.source = { PBX_V6, PBX_RTP_PORT },
		.relay = { RELAY_OUT_V6, LEG_REDIRECT_PORT },
		.peer = { PBX_B_V6, PBX_B_RTP_PORT },
	},
	{
		.family = XT_AF_INET6,
		.local_port = PORT_UNATTACHED,
		.flags = FLOW_NO_CHECK,
		.dscp = DSCP_EF,
		.relay = { RELAY_BARE_V6, LEG_FAR_PORT },
		.peer = { BARE_PEER_V6, FAR_PORT },
	},
	{
		.family = XT_AF_INET6,
		.local_port = PORT_UNRESOLVED,
		.flags = FLOW_NO_CHECK,
		.dscp = DSCP_EF,
		.relay = { RELAY_V6, LEG_FAR_PORT },
		.peer = { UNRESOLVED_V6, FAR_PORT },
	},
	{
		.family = XT_AF_INET6,
		.local_port = PORT_UNROUTED,
		.flags = FLOW_NO_CHECK,
		.dscp = DSCP_EF,
		.relay = { RELAY_V6, LEG_FAR_PORT },
		.peer = { UNROUTED_V6, FAR_PORT },
	},
	{
		.family = XT_AF_INET6,
		.local_port = PORT_INACTIVE,
		.flags = 0,
		.dscp = DSCP_EF,
		.relay = { RELAY_V6, LEG_FAR_PORT },
		.peer = { TRUNK_V6, FAR_PORT },
	},
	{
		.family = XT_AF_INET6,
		.local_port = PORT_WRONG_FAMILY,
		.flags = FLOW_NO_CHECK,
		.entry_family = XT_AF_INET,
		.dscp = DSCP_EF,
		.relay = { RELAY_V4, LEG_FAR_PORT },
		.peer = { TRUNK_V4, FAR_PORT },
	},
	{
		.family = XT_AF_INET6,
		.local_port = PORT_CACHED_TX,
		.flags = FLOW_CACHED_NEXTHOP,
		.dscp = DSCP_EF,
		.relay = { RELAY_V6, LEG_CACHED_PORT },
		.peer = { UNROUTED_V6, FAR_PORT },
		.nh_device = IFACE_INGRESS,
		.nh_dmac = MAC_GATEWAY,
	},
	{
		.family = XT_AF_INET6,
		.local_port = PORT_CACHED_NO_FORWARD,
		.flags = FLOW_CACHED_NEXTHOP,
		.dscp = DSCP_EF,
		.relay = { RELAY_V6, LEG_CACHED_PORT },
		.peer = { TRUNK_V6, FAR_PORT },
		.nh_device = IFACE_NO_FORWARD,
		.nh_dmac = MAC_GATEWAY,
	},
	{
		.family = XT_AF_INET6,
		.local_port = PORT_CACHED_REDIRECT,
		.flags = FLOW_CACHED_NEXTHOP,
		.dscp = DSCP_EF,
		.relay = { RELAY_OUT_V6, LEG_CACHED_PORT },
		.peer = { PBX_B_V6, FAR_PORT },
		.nh_device = IFACE_EGRESS,
		.nh_dmac = MAC_PBX_B,
	},
	{
		.family = XT_AF_INET6,
		.local_port = PORT_CACHED_UNATTACHED,
		.flags = FLOW_CACHED_NEXTHOP,
		.dscp = DSCP_EF,
		.relay = { RELAY_BARE_V6, LEG_CACHED_PORT },
		.peer = { BARE_PEER_V6, FAR_PORT },
		.nh_device = IFACE_UNATTACHED,
		.nh_dmac = MAC_PBX_B,
	},
};

/* ---- Packet builder ------------------------------------------------------ */

#define FRAME_MAX 2048
#define VLAN_ID_FIRST 100
#define VLAN_PCP_VOICE 5
#define IPV4_HEADER_LEN 20
#define IPV4_MAX_HEADER_LEN 60
#define IPV4_CHECK_OFFSET 10
#define IPV4_SADDR_OFFSET 12
#define IPV6_SADDR_OFFSET 8
#define IPV4_VERSION 4
#define IPV4_ID 0x1c46
#define IP_DF 0x4000
#define IP_MF 0x2000
#define IPV4_FRAGMENT_OFFSET_1480 (1480 / 8)
#define IPOPT_ROUTER_ALERT 0x94
#define IPOPT_ROUTER_ALERT_LEN 4
#define IPOPT_NOP 0x01
#define IPV6_VERSION 6
#define IPV6_EXT_HEADER_LEN 8 /* the unit of the length field, and the shortest */
#define IPV6_OPT_PADN 1
#define IPV6_FRAGMENT_MORE 0x0001
#define IPV6_FRAGMENT_OFFSET_1480 (1480 / 8 << 3)
#define IPV6_FRAGMENT_ID 0x2a2a2a2au
#define IPV6_ROUTING_EXPERIMENT 253 /* RFC 4727; with no segments left, skipped */
#define IPV6_EXT_CHAIN_MAX 6
#define IPV6_FLOW_LABEL 0x12345
#define UDP_HEADER_LEN 8
#define UDP_CHECK_OFFSET 6
#define UDP_LEN_OFFSET 4
#define TCP_HEADER_LEN 20
#define TCP_FLAG_ACK 0x10
#define TCP_WINDOW 0xfaf0
#define TCP_CHECK_OFFSET 16
#define ARP_HTYPE_ETHER 1
#define ARP_OP_REQUEST 1
#define RTP_HEADER_LEN 12
#define RTP_VERSION_2 0x80
#define RTP_PT_PCMU 0
#define RTP_SSRC 0x5eed1234u
#define G711_20MS_BYTES 160
#define G711_SILENCE 0xff

enum ipv6_ext_kind {
	IPV6_EXT_NONE,
	IPV6_EXT_HOP_BY_HOP,	/* one with only padding: 8 bytes */
	IPV6_EXT_DEST_OPTIONS,	/* one with only padding: 16 bytes */
	IPV6_EXT_ROUTING,	/* an experimental type, no segments left: 8 bytes */
	IPV6_EXT_FRAGMENT,	/* first fragment: offset 0, more fragments */
	IPV6_EXT_FRAGMENT_LAST, /* last fragment: offset 1480, no more */
};

enum payload_kind {
	PAYLOAD_RTP,  /* RTP header and 20 ms of G.711 */
	PAYLOAD_WORD, /* the two bytes of payload_word */
	/* two bytes chosen so that the relayed packet's UDP checksum computes to 0 */
	PAYLOAD_ZERO_CSUM_AFTER_RELAY,
	PAYLOAD_BYTES, /* payload_len bytes of a pattern */
	/*
	 * two bytes chosen so that the full UDP checksum as sent equals the
	 * pseudo-header's sum: what a partial checksum holds
	 */
	PAYLOAD_FULL_CSUM_LOOKS_PARTIAL,
};

/* What a packet looks like; zero fields take the usual value. */
struct pkt_spec {
	__u8 family; /* XT_AF_INET or XT_AF_INET6 */
	enum mac_id eth_src, eth_dst;
	__u16 ether_type; /* 0: IPv4 or IPv6 as family says */
	int vlan_tags;	  /* 0-3 tags; the outermost of two or more is 802.1ad */
	struct endpoint src, dst;
	__u8 tos; /* IPv4 TOS or IPv6 traffic class: DSCP << 2 | ECN */
	__u32 flow_label;
	__u8 ttl;	/* TTL or hop limit; 0: ARRIVING_TTL */
	__u8 protocol;	/* 0: UDP */
	__u16 frag_off; /* IPv4 flags and fragment offset */
	__u8 ipv4_option_words;
	__u8 ipv4_ihl; /* 0: 5 + ipv4_option_words */
	/* extension headers before UDP, in this order; up to the first IPV6_EXT_NONE */
	enum ipv6_ext_kind ipv6_ext[IPV6_EXT_CHAIN_MAX];
	bool udp_csum_zero; /* IPv4: sent without UDP checksum */
	/*
	 * sent as a local sender with checksum offload leaves it
	 * (CHECKSUM_PARTIAL): the field holds the pseudo-header's sum only
	 */
	bool udp_csum_partial;
	__u16 payload_len;  /* PAYLOAD_BYTES */
	int ip_len_excess;  /* added to the IP length field */
	int udp_len_excess; /* added to the UDP length field */
	enum payload_kind payload;
	__u16 payload_word;
	bool pad_to_min_frame; /* Ethernet padding up to ETH_ZLEN after the IP packet */
	bool rtp_set;	       /* PAYLOAD_RTP with these instead of fixed values: */
	__u16 rtp_seq;
	__u32 rtp_timestamp;
	__u8 rtp_second_byte; /* marker and payload type, or RTCP's packet type; 0: PCMU */
};

/* A built packet and where its parts are, for diagnostics. */
struct frame {
	__u8 bytes[FRAME_MAX];
	size_t len;
	size_t l3_off, l4_off, payload_off, padding_off;
	size_t ip_len;		/* IP header + payload, as the relay counts bytes */
	__u16 l4_csum_computed; /* before the 0 -> 0xffff rule of UDP */
};

static __u8 *put8(__u8 *at, __u8 value)
{
	*at = value;
	return at + 1;
}

static __u8 *put16(__u8 *at, __u16 value)
{
	at[0] = value >> 8;
	at[1] = value & 0xff;
	return at + 2;
}

static __u8 *put32(__u8 *at, __u32 value)
{
	at = put16(at, value >> 16);
	return put16(at, value & 0xffff);
}

static __u8 *put_bytes(__u8 *at, const void *bytes, size_t len)
{
	memcpy(at, bytes, len);
	return at + len;
}

static __u16 get16(const __u8 *at)
{
	return (__u16)(at[0] << 8 | at[1]);
}

static size_t addr_len(__u8 family)
{
	return family == XT_AF_INET ? 4 : 16;
}

/* Addresses are constants of this file: one that does not parse is a bug here. */
static void addr_bytes(__u8 family, const char *text, __u8 out[16])
{
	memset(out, 0, 16);
	if (inet_pton(family == XT_AF_INET ? AF_INET : AF_INET6, text, out) != 1) {
		fprintf(stderr, "test_packets: bad address %s\n", text);
		abort();
	}
}

/* RFC 1071: one's complement sum of big-endian 16-bit words. */
static __u64 sum_words(const __u8 *bytes, size_t len, __u64 sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(bytes + i);
	if (len & 1)
		sum += (__u16)(bytes[len - 1] << 8);
	return sum;
}

static __u16 fold_complement(__u64 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Header checksum computed over the whole header, its check field taken as 0. */
static __u16 ipv4_header_checksum(const __u8 *ip, size_t header_len)
{
	__u8 copy[IPV4_MAX_HEADER_LEN];

	memcpy(copy, ip, header_len);
	put16(copy + IPV4_CHECK_OFFSET, 0);
	return fold_complement(sum_words(copy, header_len, 0));
}

/*
 * UDP or TCP checksum over the pseudo-header and the segment, its check field
 * taken as 0; length_field is what the pseudo-header carries.
 */
static __u16 l4_checksum(__u8 family, const __u8 *ip, __u8 protocol, const __u8 *l4, size_t l4_len,
			 size_t check_offset, __u16 length_field)
{
	__u8 copy[FRAME_MAX];
	size_t alen = addr_len(family);
	const __u8 *saddr = ip + (family == XT_AF_INET ? IPV4_SADDR_OFFSET : IPV6_SADDR_OFFSET);
	__u64 sum;

	memcpy(copy, l4, l4_len);
	put16(copy + check_offset, 0);
	sum = sum_words(saddr, 2 * alen, 0); /* saddr and daddr are adjacent */
	sum += protocol + length_field;
	return fold_complement(sum_words(copy, l4_len, sum));
}

/* The pseudo-header's sum, folded, not complemented: what CHECKSUM_PARTIAL leaves. */
static __u16 pseudo_header_sum(__u8 family, const __u8 *ip, __u16 length_field)
{
	const __u8 *saddr = ip + (family == XT_AF_INET ? IPV4_SADDR_OFFSET : IPV6_SADDR_OFFSET);
	__u64 sum = sum_words(saddr, 2 * addr_len(family), 0) + IPPROTO_UDP + length_field;

	return (__u16)~fold_complement(sum);
}

static size_t put_payload(__u8 *at, const struct pkt_spec *spec)
{
	__u8 *start = at;
	int i;

	if (spec->payload == PAYLOAD_BYTES) {
		for (i = 0; i < spec->payload_len; i++)
			at = put8(at, (__u8)(i * 37 + 11));
		return spec->payload_len;
	}
	if (spec->payload != PAYLOAD_RTP) {
		put16(at, spec->payload_word);
		return 2;
	}
	at = put8(at, RTP_VERSION_2);
	at = put8(at, spec->rtp_second_byte ?: RTP_PT_PCMU);
	at = put16(at, spec->rtp_set ? spec->rtp_seq : 0x1234);		  /* sequence number */
	at = put32(at, spec->rtp_set ? spec->rtp_timestamp : 0x00a0b0c0); /* timestamp */
	at = put32(at, RTP_SSRC);
	for (i = 0; i < G711_20MS_BYTES; i++)
		at = put8(at, i % 7 ? G711_SILENCE : (__u8)i); /* not all alike */
	return at - start;
}

static __u8 *put_ethernet(__u8 *at, const struct pkt_spec *spec, const __u8 macs[][ETH_ALEN])
{
	__u16 ether_type = spec->ether_type;
	int i;

	if (!ether_type)
		ether_type = spec->family == XT_AF_INET ? ETH_P_IP : ETH_P_IPV6;
	at = put_bytes(at, macs[spec->eth_dst], ETH_ALEN);
	at = put_bytes(at, macs[spec->eth_src], ETH_ALEN);
	for (i = 0; i < spec->vlan_tags; i++) {
		bool service_tag = i == 0 && spec->vlan_tags > 1;

		at = put16(at, service_tag ? ETH_P_8021AD : ETH_P_8021Q);
		at = put16(at, VLAN_PCP_VOICE << 13 | (VLAN_ID_FIRST + i));
	}
	return put16(at, ether_type);
}

static __u8 *put_arp_request(__u8 *at, const struct pkt_spec *spec, const __u8 macs[][ETH_ALEN])
{
	__u8 addr[16];

	at = put16(at, ARP_HTYPE_ETHER);
	at = put16(at, ETH_P_IP);
	at = put8(at, ETH_ALEN);
	at = put8(at, 4);
	at = put16(at, ARP_OP_REQUEST);
	at = put_bytes(at, macs[spec->eth_src], ETH_ALEN);
	addr_bytes(XT_AF_INET, spec->src.addr, addr);
	at = put_bytes(at, addr, 4);
	memset(at, 0, ETH_ALEN);
	at += ETH_ALEN;
	addr_bytes(XT_AF_INET, spec->dst.addr, addr);
	return put_bytes(at, addr, 4);
}

static __u8 *put_ipv4(__u8 *at, const struct pkt_spec *spec, __u8 protocol, size_t l4_len)
{
	size_t options_len = spec->ipv4_option_words * 4u;
	__u8 ihl = spec->ipv4_ihl ?: 5 + spec->ipv4_option_words;
	__u8 addr[16];
	size_t i;

	at = put8(at, IPV4_VERSION << 4 | ihl);
	at = put8(at, spec->tos);
	at = put16(at, IPV4_HEADER_LEN + options_len + l4_len + spec->ip_len_excess);
	at = put16(at, IPV4_ID);
	at = put16(at, spec->frag_off);
	at = put8(at, spec->ttl ?: ARRIVING_TTL);
	at = put8(at, protocol);
	at = put16(at, 0); /* checksum, filled in last */
	addr_bytes(XT_AF_INET, spec->src.addr, addr);
	at = put_bytes(at, addr, 4);
	addr_bytes(XT_AF_INET, spec->dst.addr, addr);
	at = put_bytes(at, addr, 4);
	for (i = 0; i < options_len; i += 4) {
		if (i == 0) {
			at = put8(at, IPOPT_ROUTER_ALERT);
			at = put8(at, IPOPT_ROUTER_ALERT_LEN);
			at = put16(at, 0);
		} else {
			at = put32(at, IPOPT_NOP * 0x01010101u);
		}
	}
	return at;
}

static __u8 *put_ipv6(__u8 *at, const struct pkt_spec *spec, __u8 next_header, size_t payload_len)
{
	__u8 addr[16];

	at = put32(at, (__u32)IPV6_VERSION << 28 | (__u32)spec->tos << 20 | spec->flow_label);
	at = put16(at, payload_len + spec->ip_len_excess);
	at = put8(at, next_header);
	at = put8(at, spec->ttl ?: ARRIVING_TTL);
	addr_bytes(XT_AF_INET6, spec->src.addr, addr);
	at = put_bytes(at, addr, 16);
	addr_bytes(XT_AF_INET6, spec->dst.addr, addr);
	return put_bytes(at, addr, 16);
}

static __u8 ipv6_ext_header_type(enum ipv6_ext_kind kind)
{
	switch (kind) {
	case IPV6_EXT_DEST_OPTIONS:
		return IPPROTO_DSTOPTS;
	case IPV6_EXT_ROUTING:
		return IPPROTO_ROUTING;
	case IPV6_EXT_FRAGMENT:
	case IPV6_EXT_FRAGMENT_LAST:
		return IPPROTO_FRAGMENT;
	default:
		return IPPROTO_HOPOPTS;
	}
}

static size_t ipv6_ext_len(enum ipv6_ext_kind kind)
{
	return kind == IPV6_EXT_DEST_OPTIONS ? 2 * IPV6_EXT_HEADER_LEN : IPV6_EXT_HEADER_LEN;
}

/* The extension headers of spec, how many in *count and their bytes in *len. */
static void ipv6_ext_chain(const struct pkt_spec *spec, int *count, size_t *len)
{
	*count = 0;
	*len = 0;
	while (*count < IPV6_EXT_CHAIN_MAX && spec->ipv6_ext[*count] != IPV6_EXT_NONE)
		*len += ipv6_ext_len(spec->ipv6_ext[(*count)++]);
}

static __u8 *put_ipv6_ext(__u8 *at, enum ipv6_ext_kind kind, __u8 next_header)
{
	size_t len = ipv6_ext_len(kind);
	size_t i;

	at = put8(at, next_header);
	if (kind == IPV6_EXT_FRAGMENT || kind == IPV6_EXT_FRAGMENT_LAST) {
		at = put8(at, 0);
		at = put16(at, kind == IPV6_EXT_FRAGMENT ? IPV6_FRAGMENT_MORE :
							   IPV6_FRAGMENT_OFFSET_1480);
		return put32(at, IPV6_FRAGMENT_ID);
	}
	at = put8(at, len / IPV6_EXT_HEADER_LEN - 1);
	if (kind == IPV6_EXT_ROUTING) {
		at = put8(at, IPV6_ROUTING_EXPERIMENT);
		at = put8(at, 0); /* segments left */
		return put32(at, 0);
	}
	/* hop-by-hop or destination options: one PadN over the rest */
	at = put8(at, IPV6_OPT_PADN);
	at = put8(at, len - 4);
	for (i = 4; i < len; i++)
		at = put8(at, 0);
	return at;
}

static __u8 *put_l4_header(__u8 *at, const struct pkt_spec *spec, __u8 protocol, size_t l4_len)
{
	at = put16(at, spec->src.port);
	at = put16(at, spec->dst.port);
	if (protocol == IPPROTO_UDP) {
		at = put16(at, l4_len + spec->udp_len_excess);
		return put16(at, 0); /* checksum, filled in last */
	}
	at = put32(at, 1); /* sequence */
	at = put32(at, 1); /* acknowledgment */
	at = put8(at, (TCP_HEADER_LEN / 4) << 4);
	at = put8(at, TCP_FLAG_ACK);
	at = put16(at, TCP_WINDOW);
	at = put16(at, 0); /* checksum, filled in last */
	return put16(at, 0);
}

static void fill_checksums(struct frame *f, const struct pkt_spec *spec, __u8 protocol)
{
	__u8 *ip = f->bytes + f->l3_off, *l4 = f->bytes + f->l4_off;
	size_t l4_len = f->padding_off - f->l4_off;
	size_t check_offset = protocol == IPPROTO_UDP ? UDP_CHECK_OFFSET : TCP_CHECK_OFFSET;
	__u16 length_field = protocol == IPPROTO_UDP ? get16(l4 + UDP_LEN_OFFSET) : l4_len;
	__u16 csum;

	if (spec->family == XT_AF_INET)
		put16(ip + IPV4_CHECK_OFFSET, ipv4_header_checksum(ip, f->l4_off - f->l3_off));
	csum = l4_checksum(spec->family, ip, protocol, l4, l4_len, check_offset, length_field);
	f->l4_csum_computed = csum;
	if (protocol == IPPROTO_UDP) {
		if (spec->udp_csum_zero)
			csum = 0;
		else if (spec->udp_csum_partial)
			csum = pseudo_header_sum(spec->family, ip, length_field);
		else if (csum == 0)
			csum = 0xffff; /* RFC 768: a computed 0 is sent as all ones */
	}
	put16(l4 + check_offset, csum);
}

/* Build the frame spec describes, with every checksum computed in full. */
static void build_frame(const struct pkt_spec *spec, const __u8 macs[][ETH_ALEN], struct frame *f)
{
	__u8 protocol = spec->protocol ?: IPPROTO_UDP;
	__u8 payload[FRAME_MAX];
	size_t payload_len = put_payload(payload, spec);
	size_t l4_len = (protocol == IPPROTO_UDP ? UDP_HEADER_LEN : TCP_HEADER_LEN) + payload_len;
	__u8 *at;

	memset(f, 0, sizeof(*f));
	at = put_ethernet(f->bytes, spec, macs);
	f->l3_off = at - f->bytes;
	if (spec->ether_type == ETH_P_ARP) {
		at = put_arp_request(at, spec, macs);
		f->len = f->l4_off = f->payload_off = f->padding_off = at - f->bytes;
		return;
	}
	if (spec->family == XT_AF_INET) {
		at = put_ipv4(at, spec, protocol, l4_len);
	} else {
		size_t ext_len;
		int ext_count, i;

		ipv6_ext_chain(spec, &ext_count, &ext_len);
		at = put_ipv6(at, spec,
			      ext_count ? ipv6_ext_header_type(spec->ipv6_ext[0]) : protocol,
			      ext_len + l4_len);
		for (i = 0; i < ext_count; i++)
			at = put_ipv6_ext(at, spec->ipv6_ext[i],
					  i + 1 < ext_count ?
						  ipv6_ext_header_type(spec->ipv6_ext[i + 1]) :
						  protocol);
	}
	f->l4_off = at - f->bytes;
	at = put_l4_header(at, spec, protocol, l4_len);
	f->payload_off = at - f->bytes;
	at = put_bytes(at, payload, payload_len);
	f->padding_off = at - f->bytes;
	f->ip_len = f->padding_off - f->l3_off;
	f->len = f->padding_off;
	if (spec->pad_to_min_frame && f->len < ETH_ZLEN)
		f->len = ETH_ZLEN; /* bytes already zeroed */
	fill_checksums(f, spec, protocol);
}

/* ---- The cases ----------------------------------------------------------- */

struct pkt_case {
	const char *description;
	enum test_device ingress; /* 0: IFACE_INGRESS */
	struct pkt_spec in;
	int verdict;	     /* XDP_TX, XDP_REDIRECT, XDP_PASS or XDP_DROP */
	struct pkt_spec out; /* when relayed; a passed packet must leave as it came */
	enum xt_stat stat;   /* the counter that counts it, besides rx */
	enum xt_stat event;  /* 0: none; an event counter it also counts */
};

/* Packets as they arrive on the ingress device, for a relay port. */
#define V4_ARRIVING_ON(dev_mac, from_addr, from_port, to_addr, to_port) \
	.family = XT_AF_INET, .eth_src = MAC_PBX, .eth_dst = dev_mac,   \
	.src = { from_addr, from_port }, .dst = { to_addr, to_port }
#define V6_ARRIVING_ON(dev_mac, from_addr, from_port, to_addr, to_port) \
	.family = XT_AF_INET6, .eth_src = MAC_PBX, .eth_dst = dev_mac,  \
	.src = { from_addr, from_port }, .dst = { to_addr, to_port }
#define V4_ARRIVING_AT(from_addr, from_port, to_addr, to_port) \
	V4_ARRIVING_ON(MAC_INGRESS_DEV, from_addr, from_port, to_addr, to_port)
#define V6_ARRIVING_AT(from_addr, from_port, to_addr, to_port) \
	V6_ARRIVING_ON(MAC_INGRESS_DEV, from_addr, from_port, to_addr, to_port)
#define V4_ARRIVING(from_addr, from_port, to_port) \
	V4_ARRIVING_AT(from_addr, from_port, RELAY_V4, to_port)
#define V6_ARRIVING(from_addr, from_port, to_port) \
	V6_ARRIVING_AT(from_addr, from_port, RELAY_V6, to_port)
#define V4_FROM_PBX(to_port) V4_ARRIVING(PBX_V4, PBX_RTP_PORT, to_port)
#define V6_FROM_PBX(to_port) V6_ARRIVING(PBX_V6, PBX_RTP_PORT, to_port)
/* ...or on the device with forwarding off. */
#define V4_FROM_PBX_ON_NO_FORWARD(to_port) \
	V4_ARRIVING_ON(MAC_NO_FORWARD_DEV, PBX_V4, PBX_RTP_PORT, RELAY_V4, to_port)
#define V6_FROM_PBX_ON_NO_FORWARD(to_port) \
	V6_ARRIVING_ON(MAC_NO_FORWARD_DEV, PBX_V6, PBX_RTP_PORT, RELAY_V6, to_port)

/* The same packets as the relay sends them on: to the trunk via the gateway... */
#define V4_TO_TRUNK(leg_port, trunk_port)                                         \
	.family = XT_AF_INET, .eth_src = MAC_INGRESS_DEV, .eth_dst = MAC_GATEWAY, \
	.src = { RELAY_V4, leg_port }, .dst = { TRUNK_V4, trunk_port }, .ttl = RELAYED_TTL
#define V6_TO_TRUNK(leg_port, trunk_port)                                          \
	.family = XT_AF_INET6, .eth_src = MAC_INGRESS_DEV, .eth_dst = MAC_GATEWAY, \
	.src = { RELAY_V6, leg_port }, .dst = { TRUNK_V6, trunk_port }, .ttl = RELAYED_TTL
#define V4_RTP_TO_TRUNK V4_TO_TRUNK(LEG_RTP_PORT, TRUNK_RTP_PORT)
#define V6_RTP_TO_TRUNK V6_TO_TRUNK(LEG_RTP_PORT, TRUNK_RTP_PORT)
/* ...or out of the egress device to PBX B. */
#define V4_RTP_TO_PBX_B                                                                  \
	.family = XT_AF_INET, .eth_src = MAC_EGRESS_DEV, .eth_dst = MAC_PBX_B,           \
	.src = { RELAY_OUT_V4, LEG_REDIRECT_PORT }, .dst = { PBX_B_V4, PBX_B_RTP_PORT }, \
	.ttl = RELAYED_TTL
#define V6_RTP_TO_PBX_B                                                                  \
	.family = XT_AF_INET6, .eth_src = MAC_EGRESS_DEV, .eth_dst = MAC_PBX_B,          \
	.src = { RELAY_OUT_V6, LEG_REDIRECT_PORT }, .dst = { PBX_B_V6, PBX_B_RTP_PORT }, \
	.ttl = RELAYED_TTL

/* ...or as a flow with a cached next hop sends them: EF, from LEG_CACHED_PORT to FAR_PORT. */
#define V4_CACHED(mac_src, mac_dst, relay_addr, peer_addr)                      \
	.family = XT_AF_INET, .eth_src = mac_src, .eth_dst = mac_dst,           \
	.src = { relay_addr, LEG_CACHED_PORT }, .dst = { peer_addr, FAR_PORT }, \
	.ttl = RELAYED_TTL, .tos = TOS_EF
#define V6_CACHED(mac_src, mac_dst, relay_addr, peer_addr)                      \
	.family = XT_AF_INET6, .eth_src = mac_src, .eth_dst = mac_dst,          \
	.src = { relay_addr, LEG_CACHED_PORT }, .dst = { peer_addr, FAR_PORT }, \
	.ttl = RELAYED_TTL, .tos = TOS_EF

/* A partial checksum over LEN bytes of payload: every chunk and tail of the completion. */
#define PARTIAL_LEN_CASE(fam, len)                                                           \
	{                                                                                    \
		.description = #fam " partial UDP checksum over " #len " bytes of payload: " \
				    "completed",                                             \
		.in = { .family = fam,                                                       \
			.eth_src = MAC_PBX,                                                  \
			.eth_dst = MAC_INGRESS_DEV,                                          \
			.src = { fam == XT_AF_INET ? PBX_V4 : PBX_V6, PBX_RTP_PORT },        \
			.dst = { fam == XT_AF_INET ? RELAY_V4 : RELAY_V6, PORT_RTP },        \
			.udp_csum_partial = true,                                            \
			.payload = PAYLOAD_BYTES,                                            \
			.payload_len = len },                                                \
		.verdict = XDP_TX,                                                           \
		.out = { .family = fam,                                                      \
			 .eth_src = MAC_INGRESS_DEV,                                         \
			 .eth_dst = MAC_GATEWAY,                                             \
			 .src = { fam == XT_AF_INET ? RELAY_V4 : RELAY_V6, LEG_RTP_PORT },   \
			 .dst = { fam == XT_AF_INET ? TRUNK_V4 : TRUNK_V6, TRUNK_RTP_PORT }, \
			 .ttl = RELAYED_TTL,                                                 \
			 .tos = TOS_EF,                                                      \
			 .payload = PAYLOAD_BYTES,                                           \
			 .payload_len = len },                                               \
		.stat = XT_STAT_TX, .event = XT_STAT_CSUM_COMPLETED,                         \
	}

static const struct pkt_case cases[] = {
	/* Relaying */
	{
		.description = "IPv4 RTP from the PBX leaves for the trunk by the same device",
		.in = { V4_FROM_PBX(PORT_RTP) },
		.verdict = XDP_TX,
		.out = { V4_RTP_TO_TRUNK, .tos = TOS_EF },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv6 RTP from the PBX leaves for the trunk by the same device",
		.in = { V6_FROM_PBX(PORT_RTP) },
		.verdict = XDP_TX,
		.out = { V6_RTP_TO_TRUNK, .tos = TOS_EF },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv4 in one 802.1Q tag is relayed with its tag",
		.in = { V4_FROM_PBX(PORT_RTP), .vlan_tags = 1 },
		.verdict = XDP_TX,
		.out = { V4_RTP_TO_TRUNK, .tos = TOS_EF, .vlan_tags = 1 },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv6 in one 802.1Q tag is relayed with its tag",
		.in = { V6_FROM_PBX(PORT_RTP), .vlan_tags = 1 },
		.verdict = XDP_TX,
		.out = { V6_RTP_TO_TRUNK, .tos = TOS_EF, .vlan_tags = 1 },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv4 in QinQ (802.1ad + 802.1Q) is relayed with both tags",
		.in = { V4_FROM_PBX(PORT_RTP), .vlan_tags = 2 },
		.verdict = XDP_TX,
		.out = { V4_RTP_TO_TRUNK, .tos = TOS_EF, .vlan_tags = 2 },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv6 in QinQ (802.1ad + 802.1Q) is relayed with both tags",
		.in = { V6_FROM_PBX(PORT_RTP), .vlan_tags = 2 },
		.verdict = XDP_TX,
		.out = { V6_RTP_TO_TRUNK, .tos = TOS_EF, .vlan_tags = 2 },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv4 RTCP on the odd port is relayed by its own flow and DSCP",
		.in = { V4_ARRIVING(PBX_V4, PBX_RTCP_PORT, PORT_RTCP) },
		.verdict = XDP_TX,
		.out = { V4_TO_TRUNK(LEG_RTCP_PORT, TRUNK_RTCP_PORT), .tos = TOS_AF41 },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv6 RTCP on the odd port is relayed by its own flow and DSCP",
		.in = { V6_ARRIVING(PBX_V6, PBX_RTCP_PORT, PORT_RTCP) },
		.verdict = XDP_TX,
		.out = { V6_TO_TRUNK(LEG_RTCP_PORT, TRUNK_RTCP_PORT), .tos = TOS_AF41 },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv4 with don't-fragment set is not a fragment: relayed, DF kept",
		.in = { V4_FROM_PBX(PORT_RTP), .frag_off = IP_DF },
		.verdict = XDP_TX,
		.out = { V4_RTP_TO_TRUNK, .tos = TOS_EF, .frag_off = IP_DF },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv4 in a frame padded to 60 bytes is relayed, padding kept",
		.in = { V4_FROM_PBX(PORT_RTP), .payload = PAYLOAD_WORD, .payload_word = 0xbeef,
			.pad_to_min_frame = true },
		.verdict = XDP_TX,
		.out = { V4_RTP_TO_TRUNK, .tos = TOS_EF, .payload = PAYLOAD_WORD,
			 .payload_word = 0xbeef, .pad_to_min_frame = true },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv4 to a peer on the egress device is redirected there",
		.in = { V4_FROM_PBX(PORT_REDIRECT) },
		.verdict = XDP_REDIRECT,
		.out = { V4_RTP_TO_PBX_B, .tos = TOS_EF },
		.stat = XT_STAT_REDIRECT,
	},
	{
		.description = "IPv6 to a peer on the egress device is redirected there",
		.in = { V6_FROM_PBX(PORT_REDIRECT) },
		.verdict = XDP_REDIRECT,
		.out = { V6_RTP_TO_PBX_B, .tos = TOS_EF },
		.stat = XT_STAT_REDIRECT,
	},

	/* Partial UDP checksums: local senders with checksum offload (veth, containers) */
	{
		.description = "IPv4 RTP with a partial UDP checksum leaves with the full one",
		.in = { V4_FROM_PBX(PORT_RTP), .udp_csum_partial = true },
		.verdict = XDP_TX,
		.out = { V4_RTP_TO_TRUNK, .tos = TOS_EF },
		.stat = XT_STAT_TX,
		.event = XT_STAT_CSUM_COMPLETED,
	},
	{
		.description = "IPv6 RTP with a partial UDP checksum leaves with the full one",
		.in = { V6_FROM_PBX(PORT_RTP), .udp_csum_partial = true },
		.verdict = XDP_TX,
		.out = { V6_RTP_TO_TRUNK, .tos = TOS_EF },
		.stat = XT_STAT_TX,
		.event = XT_STAT_CSUM_COMPLETED,
	},
	{
		.description =
			"IPv4 in one 802.1Q tag with a partial UDP checksum leaves with the full one",
		.in = { V4_FROM_PBX(PORT_RTP), .vlan_tags = 1, .udp_csum_partial = true },
		.verdict = XDP_TX,
		.out = { V4_RTP_TO_TRUNK, .tos = TOS_EF, .vlan_tags = 1 },
		.stat = XT_STAT_TX,
		.event = XT_STAT_CSUM_COMPLETED,
	},
	{
		.description =
			"IPv6 in one 802.1Q tag with a partial UDP checksum leaves with the full one",
		.in = { V6_FROM_PBX(PORT_RTP), .vlan_tags = 1, .udp_csum_partial = true },
		.verdict = XDP_TX,
		.out = { V6_RTP_TO_TRUNK, .tos = TOS_EF, .vlan_tags = 1 },
		.stat = XT_STAT_TX,
		.event = XT_STAT_CSUM_COMPLETED,
	},
	{
		.description = "IPv4 in QinQ with a partial UDP checksum leaves with the full one",
		.in = { V4_FROM_PBX(PORT_RTP), .vlan_tags = 2, .udp_csum_partial = true },
		.verdict = XDP_TX,
		.out = { V4_RTP_TO_TRUNK, .tos = TOS_EF, .vlan_tags = 2 },
		.stat = XT_STAT_TX,
		.event = XT_STAT_CSUM_COMPLETED,
	},
	{
		.description = "IPv6 in QinQ with a partial UDP checksum leaves with the full one",
		.in = { V6_FROM_PBX(PORT_RTP), .vlan_tags = 2, .udp_csum_partial = true },
		.verdict = XDP_TX,
		.out = { V6_RTP_TO_TRUNK, .tos = TOS_EF, .vlan_tags = 2 },
		.stat = XT_STAT_TX,
		.event = XT_STAT_CSUM_COMPLETED,
	},
	{
		.description =
			"IPv4 redirected to the other device with a partial UDP checksum: full one",
		.in = { V4_FROM_PBX(PORT_REDIRECT), .udp_csum_partial = true },
		.verdict = XDP_REDIRECT,
		.out = { V4_RTP_TO_PBX_B, .tos = TOS_EF },
		.stat = XT_STAT_REDIRECT,
		.event = XT_STAT_CSUM_COMPLETED,
	},
	{
		.description =
			"IPv6 redirected to the other device with a partial UDP checksum: full one",
		.in = { V6_FROM_PBX(PORT_REDIRECT), .udp_csum_partial = true },
		.verdict = XDP_REDIRECT,
		.out = { V6_RTP_TO_PBX_B, .tos = TOS_EF },
		.stat = XT_STAT_REDIRECT,
		.event = XT_STAT_CSUM_COMPLETED,
	},
	PARTIAL_LEN_CASE(XT_AF_INET, 1),
	PARTIAL_LEN_CASE(XT_AF_INET, 3),
	PARTIAL_LEN_CASE(XT_AF_INET, 4),
	PARTIAL_LEN_CASE(XT_AF_INET, 255),
	PARTIAL_LEN_CASE(XT_AF_INET, 504),
	PARTIAL_LEN_CASE(XT_AF_INET, 505),
	PARTIAL_LEN_CASE(XT_AF_INET, 1201),
	PARTIAL_LEN_CASE(XT_AF_INET, 1472),
	PARTIAL_LEN_CASE(XT_AF_INET6, 1),
	PARTIAL_LEN_CASE(XT_AF_INET6, 507),
	PARTIAL_LEN_CASE(XT_AF_INET6, 1452),
	/* jumbo datagrams: a cached next hop, as the FIB refuses what exceeds the MTU */
	{
		.description = "IPv4 partial UDP checksum over 1536 bytes, the most XDP completes: "
			       "completed",
		.in = { V4_FROM_PBX(PORT_CACHED_TX), .udp_csum_partial = true,
			.payload = PAYLOAD_BYTES, .payload_len = 1528 },
		.verdict = XDP_TX,
		.out = { V4_CACHED(MAC_INGRESS_DEV, MAC_GATEWAY, RELAY_V4, UNROUTED_V4),
			 .payload = PAYLOAD_BYTES, .payload_len = 1528 },
		.stat = XT_STAT_TX,
		.event = XT_STAT_CSUM_COMPLETED,
	},
	{
		.description =
			"IPv4 partial UDP checksum over 1537 bytes, more than XDP completes: "
			"passed untouched",
		.in = { V4_FROM_PBX(PORT_CACHED_TX), .udp_csum_partial = true,
			.payload = PAYLOAD_BYTES, .payload_len = 1529 },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_CSUM_TOO_LONG,
	},
	{
		.description = "IPv6 partial UDP checksum over 1537 bytes: passed untouched",
		.in = { V6_FROM_PBX(PORT_CACHED_TX), .udp_csum_partial = true,
			.payload = PAYLOAD_BYTES, .payload_len = 1529 },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_CSUM_TOO_LONG,
	},
	{
		.description = "IPv4 full UDP checksum over 1537 bytes is relayed as usual",
		.in = { V4_FROM_PBX(PORT_CACHED_TX), .payload = PAYLOAD_BYTES,
			.payload_len = 1529 },
		.verdict = XDP_TX,
		.out = { V4_CACHED(MAC_INGRESS_DEV, MAC_GATEWAY, RELAY_V4, UNROUTED_V4),
			 .payload = PAYLOAD_BYTES, .payload_len = 1529 },
		.stat = XT_STAT_TX,
	},
	{
		.description =
			"IPv4 full UDP checksum that equals the pseudo-header sum stays right",
		.in = { V4_FROM_PBX(PORT_RTP), .payload = PAYLOAD_FULL_CSUM_LOOKS_PARTIAL },
		.verdict = XDP_TX,
		.out = { V4_RTP_TO_TRUNK, .tos = TOS_EF, .payload = PAYLOAD_WORD },
		.stat = XT_STAT_TX,
		.event = XT_STAT_CSUM_COMPLETED,
	},
	{
		.description =
			"IPv6 full UDP checksum that equals the pseudo-header sum stays right",
		.in = { V6_FROM_PBX(PORT_RTP), .payload = PAYLOAD_FULL_CSUM_LOOKS_PARTIAL },
		.verdict = XDP_TX,
		.out = { V6_RTP_TO_TRUNK, .tos = TOS_EF, .payload = PAYLOAD_WORD },
		.stat = XT_STAT_TX,
		.event = XT_STAT_CSUM_COMPLETED,
	},

	/* Rewritten fields */
	{
		.description = "IPv4 UDP without checksum (0) is relayed without checksum",
		.in = { V4_FROM_PBX(PORT_RTP), .udp_csum_zero = true },
		.verdict = XDP_TX,
		.out = { V4_RTP_TO_TRUNK, .tos = TOS_EF, .udp_csum_zero = true },
		.stat = XT_STAT_TX,
	},
	{
		.description =
			"IPv6 UDP without checksum (0) is passed: IPv6 requires one (RFC 8200)",
		.in = { V6_FROM_PBX(PORT_RTP), .udp_csum_zero = true },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_MALFORMED,
	},
	{
		.description = "IPv4 UDP checksum that becomes 0 after rewriting is sent as 0xffff",
		.in = { V4_FROM_PBX(PORT_RTP), .payload = PAYLOAD_ZERO_CSUM_AFTER_RELAY },
		.verdict = XDP_TX,
		.out = { V4_RTP_TO_TRUNK, .tos = TOS_EF, .payload = PAYLOAD_ZERO_CSUM_AFTER_RELAY },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv6 UDP checksum that becomes 0 after rewriting is sent as 0xffff",
		.in = { V6_FROM_PBX(PORT_RTP), .payload = PAYLOAD_ZERO_CSUM_AFTER_RELAY },
		.verdict = XDP_TX,
		.out = { V6_RTP_TO_TRUNK, .tos = TOS_EF, .payload = PAYLOAD_ZERO_CSUM_AFTER_RELAY },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv4 TOS 0x03 (ECN CE): DSCP replaced by EF, ECN kept (0xbb)",
		.in = { V4_FROM_PBX(PORT_RTP), .tos = ECN_CE },
		.verdict = XDP_TX,
		.out = { V4_RTP_TO_TRUNK, .tos = TOS_EF | ECN_CE },
		.stat = XT_STAT_TX,
	},
	{
		.description =
			"IPv6 traffic class 0x03: DSCP replaced by EF, ECN and flow label kept",
		.in = { V6_FROM_PBX(PORT_RTP), .tos = ECN_CE, .flow_label = IPV6_FLOW_LABEL },
		.verdict = XDP_TX,
		.out = { V6_RTP_TO_TRUNK, .tos = TOS_EF | ECN_CE, .flow_label = IPV6_FLOW_LABEL },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv4 DSCP already set (AF41) is replaced by the flow's EF",
		.in = { V4_FROM_PBX(PORT_RTP), .tos = TOS_AF41 },
		.verdict = XDP_TX,
		.out = { V4_RTP_TO_TRUNK, .tos = TOS_EF },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv4 TTL 3 leaves as 64",
		.in = { V4_FROM_PBX(PORT_RTP), .ttl = 3 },
		.verdict = XDP_TX,
		.out = { V4_RTP_TO_TRUNK, .tos = TOS_EF },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv4 TTL 255 leaves as 64",
		.in = { V4_FROM_PBX(PORT_RTP), .ttl = 255 },
		.verdict = XDP_TX,
		.out = { V4_RTP_TO_TRUNK, .tos = TOS_EF },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv6 hop limit 3 leaves as 64",
		.in = { V6_FROM_PBX(PORT_RTP), .ttl = 3 },
		.verdict = XDP_TX,
		.out = { V6_RTP_TO_TRUNK, .tos = TOS_EF },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv6 hop limit 255 leaves as 64",
		.in = { V6_FROM_PBX(PORT_RTP), .ttl = 255 },
		.verdict = XDP_TX,
		.out = { V6_RTP_TO_TRUNK, .tos = TOS_EF },
		.stat = XT_STAT_TX,
	},

	/* Source check: the security boundary */
	{
		.description = "IPv4 from an address the flow was not signalled with is dropped",
		.in = { V4_ARRIVING(STRANGER_V4, PBX_RTP_PORT, PORT_RTP) },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_SRC,
	},
	{
		.description = "IPv4 from the right address but another port is dropped",
		.in = { V4_ARRIVING(PBX_V4, PBX_UNSIGNALLED_PORT, PORT_RTP) },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_SRC,
	},
	{
		.description = "IPv6 from an address the flow was not signalled with is dropped",
		.in = { V6_ARRIVING(STRANGER_V6, PBX_RTP_PORT, PORT_RTP) },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_SRC,
	},
	{
		.description = "IPv6 from the right address but another port is dropped",
		.in = { V6_ARRIVING(PBX_V6, PBX_UNSIGNALLED_PORT, PORT_RTP) },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_SRC,
	},
	{
		.description = "IPv4 address-only source check accepts any port",
		.in = { V4_ARRIVING(PBX_V4, PBX_UNSIGNALLED_PORT, PORT_SRC_ADDR_ONLY) },
		.verdict = XDP_TX,
		.out = { V4_TO_TRUNK(LEG_ADDR_ONLY_PORT, TRUNK_ADDR_ONLY_PORT), .tos = TOS_EF },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv4 address-only source check still drops another address",
		.in = { V4_ARRIVING(STRANGER_V4, PBX_RTP_PORT, PORT_SRC_ADDR_ONLY) },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_SRC,
	},
	{
		.description = "IPv6 address-only source check accepts any port",
		.in = { V6_ARRIVING(PBX_V6, PBX_UNSIGNALLED_PORT, PORT_SRC_ADDR_ONLY) },
		.verdict = XDP_TX,
		.out = { V6_TO_TRUNK(LEG_ADDR_ONLY_PORT, TRUNK_ADDR_ONLY_PORT), .tos = TOS_EF },
		.stat = XT_STAT_TX,
	},

	/* Not ours: passed to the stack, untouched */
	{
		.description = "IPv4 to a relay port without flow is passed",
		.in = { V4_FROM_PBX(PORT_NO_FLOW) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_FLOW,
	},
	{
		.description = "IPv6 to a relay port without flow is passed",
		.in = { V6_FROM_PBX(PORT_NO_FLOW) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_FLOW,
	},
	{
		.description = "IPv4 to a flow entry that is not active is passed",
		.in = { V4_FROM_PBX(PORT_INACTIVE) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_FLOW,
	},
	{
		.description = "IPv6 to a flow entry that is not active is passed",
		.in = { V6_FROM_PBX(PORT_INACTIVE) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_FLOW,
	},
	{
		.description = "IPv4 to a flow entry of family IPv6 is passed",
		.in = { V4_FROM_PBX(PORT_WRONG_FAMILY) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_FAMILY,
	},
	{
		.description = "IPv6 to a flow entry of family IPv4 is passed",
		.in = { V6_FROM_PBX(PORT_WRONG_FAMILY) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_FAMILY,
	},
	{
		.description = "IPv4 to an address that is not a relay address is passed",
		.in = { V4_ARRIVING_AT(PBX_V4, PBX_RTP_PORT, NOT_RELAY_V4, PORT_RTP) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_ADDR,
	},
	{
		.description = "IPv6 to an address that is not a relay address is passed",
		.in = { V6_ARRIVING_AT(PBX_V6, PBX_RTP_PORT, NOT_RELAY_V6, PORT_RTP) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_ADDR,
	},
	{
		.description = "IPv4 TCP to a relay port is passed",
		.in = { V4_FROM_PBX(PORT_RTP), .protocol = IPPROTO_TCP },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NOT_UDP,
	},
	{
		.description = "IPv6 TCP to a relay port is passed",
		.in = { V6_FROM_PBX(PORT_RTP), .protocol = IPPROTO_TCP },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NOT_UDP,
	},
	{
		.description = "ARP request for the relay address is passed",
		.in = { V4_FROM_PBX(0), .ether_type = ETH_P_ARP },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NOT_IP,
	},
	{
		.description = "IPv4 under three VLAN tags is passed (two are parsed)",
		.in = { V4_FROM_PBX(PORT_RTP), .vlan_tags = 3 },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NOT_IP,
	},

	/*
	 * What the relay does not handle: dropped when its UDP header is aimed
	 * at an active flow (the stack would hand it to xtrunkd's socket for the
	 * port, around the source check), otherwise passed, untouched
	 */
	{
		.description = "IPv4 first fragment (offset 0, more fragments) to an active flow "
			       "is dropped",
		.in = { V4_FROM_PBX(PORT_RTP), .frag_off = IP_MF },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_FRAGMENT,
	},
	{
		.description = "IPv4 first fragment to an active flow from a stranger is dropped "
			       "as a fragment, before any source check",
		.in = { V4_ARRIVING(STRANGER_V4, PBX_RTP_PORT, PORT_RTP), .frag_off = IP_MF },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_FRAGMENT,
	},
	{
		.description = "IPv4 first fragment in one 802.1Q tag to an active flow is dropped",
		.in = { V4_FROM_PBX(PORT_RTP), .vlan_tags = 1, .frag_off = IP_MF },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_FRAGMENT,
	},
	{
		.description = "IPv4 first fragment with options (ihl 6) to an active flow is "
			       "dropped as a fragment",
		.in = { V4_FROM_PBX(PORT_RTP), .frag_off = IP_MF, .ipv4_option_words = 1 },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_FRAGMENT,
	},
	{
		.description =
			"IPv4 later fragment (offset set, no UDP header) to a flow's port is "
			"passed",
		.in = { V4_FROM_PBX(PORT_RTP), .frag_off = IPV4_FRAGMENT_OFFSET_1480 },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_FRAGMENT,
	},
	{
		.description = "IPv4 middle fragment (offset and more fragments) to a flow's port "
			       "is passed",
		.in = { V4_FROM_PBX(PORT_RTP), .frag_off = IP_MF | IPV4_FRAGMENT_OFFSET_1480 },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_FRAGMENT,
	},
	{
		.description = "IPv4 first fragment to a relay port without flow is passed (SIP "
			       "over UDP)",
		.in = { V4_FROM_PBX(PORT_NO_FLOW), .frag_off = IP_MF },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_FRAGMENT,
	},
	{
		.description = "IPv4 first fragment to a flow entry that is not active is passed",
		.in = { V4_FROM_PBX(PORT_INACTIVE), .frag_off = IP_MF },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_FRAGMENT,
	},
	{
		.description = "IPv4 first fragment to a flow entry of family IPv6 is passed",
		.in = { V4_FROM_PBX(PORT_WRONG_FAMILY), .frag_off = IP_MF },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_FRAGMENT,
	},
	{
		.description = "IPv4 first fragment to an address that is not a relay address is "
			       "passed",
		.in = { V4_ARRIVING_AT(PBX_V4, PBX_RTP_PORT, NOT_RELAY_V4, PORT_RTP),
			.frag_off = IP_MF },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_FRAGMENT,
	},
	{
		.description = "IPv4 TCP first fragment to a flow's port is passed",
		.in = { V4_FROM_PBX(PORT_RTP), .protocol = IPPROTO_TCP, .frag_off = IP_MF },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_FRAGMENT,
	},
	{
		.description =
			"IPv4 with options (ihl 6, router alert) to an active flow is dropped",
		.in = { V4_FROM_PBX(PORT_RTP), .ipv4_option_words = 1 },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_IP_OPTIONS,
	},
	{
		.description = "IPv4 with the most options (ihl 15) in QinQ to an active flow is "
			       "dropped",
		.in = { V4_FROM_PBX(PORT_RTP), .vlan_tags = 2, .ipv4_option_words = 10 },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_IP_OPTIONS,
	},
	{
		.description = "IPv4 with options to an address that is not a relay address is "
			       "passed",
		.in = { V4_ARRIVING_AT(PBX_V4, PBX_RTP_PORT, NOT_RELAY_V4, PORT_RTP),
			.ipv4_option_words = 1 },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_IP_OPTIONS,
	},
	{
		.description = "IPv4 with options to a relay port without flow is passed",
		.in = { V4_FROM_PBX(PORT_NO_FLOW), .ipv4_option_words = 1 },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_IP_OPTIONS,
	},
	{
		.description = "IPv4 TCP with options to a flow's port is passed",
		.in = { V4_FROM_PBX(PORT_RTP), .protocol = IPPROTO_TCP, .ipv4_option_words = 1 },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_IP_OPTIONS,
	},
	{
		.description = "IPv4 later fragment with options to a flow's port is passed",
		.in = { V4_FROM_PBX(PORT_RTP), .frag_off = IPV4_FRAGMENT_OFFSET_1480,
			.ipv4_option_words = 1 },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_IP_OPTIONS,
	},
	{
		.description = "IPv6 with a hop-by-hop options header to an active flow is dropped",
		.in = { V6_FROM_PBX(PORT_RTP), .ipv6_ext = { IPV6_EXT_HOP_BY_HOP } },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_IPV6_EXT,
	},
	{
		.description =
			"IPv6 with a 16-byte destination options header to an active flow is "
			"dropped",
		.in = { V6_FROM_PBX(PORT_RTP), .ipv6_ext = { IPV6_EXT_DEST_OPTIONS } },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_IPV6_EXT,
	},
	{
		.description = "IPv6 with a routing header (no segments left) to an active flow is "
			       "dropped",
		.in = { V6_FROM_PBX(PORT_RTP), .ipv6_ext = { IPV6_EXT_ROUTING } },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_IPV6_EXT,
	},
	{
		.description = "IPv6 first fragment (fragment header, offset 0) to an active flow "
			       "is dropped",
		.in = { V6_FROM_PBX(PORT_RTP), .ipv6_ext = { IPV6_EXT_FRAGMENT } },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_IPV6_EXT,
	},
	{
		.description = "IPv6 first fragment in one 802.1Q tag to an active flow is dropped",
		.in = { V6_FROM_PBX(PORT_RTP), .vlan_tags = 1, .ipv6_ext = { IPV6_EXT_FRAGMENT } },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_IPV6_EXT,
	},
	{
		.description = "IPv6 hop-by-hop, destination options, routing and fragment headers "
			       "(four) in QinQ to an active flow is dropped",
		.in = { V6_FROM_PBX(PORT_RTP), .vlan_tags = 2,
			.ipv6_ext = { IPV6_EXT_HOP_BY_HOP, IPV6_EXT_DEST_OPTIONS, IPV6_EXT_ROUTING,
				      IPV6_EXT_FRAGMENT } },
		.verdict = XDP_DROP,
		.stat = XT_STAT_DROP_IPV6_EXT,
	},
	{
		.description = "IPv6 with five extension headers before UDP is passed (not looked "
			       "behind)",
		.in = { V6_FROM_PBX(PORT_RTP),
			.ipv6_ext = { IPV6_EXT_HOP_BY_HOP, IPV6_EXT_DEST_OPTIONS, IPV6_EXT_ROUTING,
				      IPV6_EXT_DEST_OPTIONS, IPV6_EXT_FRAGMENT } },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_IPV6_EXT,
	},
	{
		.description = "IPv6 later fragment (fragment header, offset set) to a flow's port "
			       "is passed",
		.in = { V6_FROM_PBX(PORT_RTP), .ipv6_ext = { IPV6_EXT_FRAGMENT_LAST } },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_IPV6_EXT,
	},
	{
		.description = "IPv6 first fragment to a relay port without flow is passed",
		.in = { V6_FROM_PBX(PORT_NO_FLOW), .ipv6_ext = { IPV6_EXT_FRAGMENT } },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_IPV6_EXT,
	},
	{
		.description = "IPv6 with a hop-by-hop header to an address that is not a relay "
			       "address is passed",
		.in = { V6_ARRIVING_AT(PBX_V6, PBX_RTP_PORT, NOT_RELAY_V6, PORT_RTP),
			.ipv6_ext = { IPV6_EXT_HOP_BY_HOP } },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_IPV6_EXT,
	},
	{
		.description = "IPv6 TCP behind a hop-by-hop header to a flow's port is passed",
		.in = { V6_FROM_PBX(PORT_RTP), .protocol = IPPROTO_TCP,
			.ipv6_ext = { IPV6_EXT_HOP_BY_HOP } },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_IPV6_EXT,
	},

	/* Malformed: passed, untouched */
	{
		.description = "IPv4 total length beyond the frame is passed as malformed",
		.in = { V4_FROM_PBX(PORT_RTP), .ip_len_excess = 1 },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_MALFORMED,
	},
	{
		.description = "IPv6 payload length beyond the frame is passed as malformed",
		.in = { V6_FROM_PBX(PORT_RTP), .ip_len_excess = 1 },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_MALFORMED,
	},
	{
		.description = "IPv4 header length below 5 words is passed as malformed",
		.in = { V4_FROM_PBX(PORT_RTP), .ipv4_ihl = 4 },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_MALFORMED,
	},
	{
		.description = "IPv4 UDP length longer than the IP payload is passed as malformed",
		.in = { V4_FROM_PBX(PORT_RTP), .udp_len_excess = 2 },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_MALFORMED,
	},
	{
		.description = "IPv4 UDP length shorter than the IP payload is passed as malformed",
		.in = { V4_FROM_PBX(PORT_RTP), .udp_len_excess = -2 },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_MALFORMED,
	},
	{
		.description = "IPv6 UDP length shorter than the IP payload is passed as malformed",
		.in = { V6_FROM_PBX(PORT_RTP), .udp_len_excess = -2 },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_MALFORMED,
	},

	/* Where the packet would go: the stack relays what XDP cannot */
	{
		.description = "IPv4 to a peer behind a device without xtrunk is passed untouched",
		.in = { V4_FROM_PBX(PORT_UNATTACHED) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_TXPORT,
	},
	{
		.description = "IPv6 to a peer behind a device without xtrunk is passed untouched",
		.in = { V6_FROM_PBX(PORT_UNATTACHED) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_TXPORT,
	},
	{
		.description = "IPv4 to a next hop without neighbour entry is passed untouched",
		.in = { V4_FROM_PBX(PORT_UNRESOLVED) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_NEIGH,
	},
	{
		.description = "IPv6 to a next hop without neighbour entry is passed untouched",
		.in = { V6_FROM_PBX(PORT_UNRESOLVED) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_NEIGH,
	},
	{
		.description = "IPv4 to a peer without route is passed untouched",
		.in = { V4_FROM_PBX(PORT_UNROUTED) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_ROUTE,
	},
	{
		.description = "IPv6 to a peer without route is passed untouched",
		.in = { V6_FROM_PBX(PORT_UNROUTED) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_ROUTE,
	},
	{
		.description = "IPv4 arriving on a device with forwarding off: the FIB refuses, "
			       "passed",
		.ingress = IFACE_NO_FORWARD,
		.in = { V4_FROM_PBX_ON_NO_FORWARD(PORT_RTP) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_FWD_DISABLED,
	},
	{
		.description = "IPv6 arriving on a device with forwarding off: the FIB refuses, "
			       "passed",
		.ingress = IFACE_NO_FORWARD,
		.in = { V6_FROM_PBX_ON_NO_FORWARD(PORT_RTP) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_FWD_DISABLED,
	},

	/* The next hop the controller resolved: no FIB lookup, no forwarding needed */
	{
		.description = "IPv4 flow with a cached next hop is relayed without the FIB "
			       "(its peer has no route)",
		.in = { V4_FROM_PBX(PORT_CACHED_TX) },
		.verdict = XDP_TX,
		.out = { V4_CACHED(MAC_INGRESS_DEV, MAC_GATEWAY, RELAY_V4, UNROUTED_V4) },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv6 flow with a cached next hop is relayed without the FIB "
			       "(its peer has no route)",
		.in = { V6_FROM_PBX(PORT_CACHED_TX) },
		.verdict = XDP_TX,
		.out = { V6_CACHED(MAC_INGRESS_DEV, MAC_GATEWAY, RELAY_V6, UNROUTED_V6) },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv4 flow with a cached next hop is relayed on a device with "
			       "forwarding off",
		.ingress = IFACE_NO_FORWARD,
		.in = { V4_FROM_PBX_ON_NO_FORWARD(PORT_CACHED_NO_FORWARD) },
		.verdict = XDP_TX,
		.out = { V4_CACHED(MAC_NO_FORWARD_DEV, MAC_GATEWAY, RELAY_V4, TRUNK_V4) },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv6 flow with a cached next hop is relayed on a device with "
			       "forwarding off",
		.ingress = IFACE_NO_FORWARD,
		.in = { V6_FROM_PBX_ON_NO_FORWARD(PORT_CACHED_NO_FORWARD) },
		.verdict = XDP_TX,
		.out = { V6_CACHED(MAC_NO_FORWARD_DEV, MAC_GATEWAY, RELAY_V6, TRUNK_V6) },
		.stat = XT_STAT_TX,
	},
	{
		.description = "IPv4 sent back out of a device left out of xt_tx_ports (a veth "
			       "peer without NAPI) is passed untouched, not XDP_TX",
		.ingress = IFACE_UNATTACHED,
		.in = { V4_ARRIVING_ON(MAC_UNATTACHED_DEV, PBX_V4, PBX_RTP_PORT, RELAY_V4,
				       PORT_CACHED_UNATTACHED) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_TXPORT,
	},
	{
		.description = "IPv6 sent back out of a device left out of xt_tx_ports (a veth "
			       "peer without NAPI) is passed untouched, not XDP_TX",
		.ingress = IFACE_UNATTACHED,
		.in = { V6_ARRIVING_ON(MAC_UNATTACHED_DEV, PBX_V6, PBX_RTP_PORT, RELAY_V6,
				       PORT_CACHED_UNATTACHED) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_TXPORT,
	},
	{
		.description = "IPv4 flow with a cached next hop on the egress device is "
			       "redirected there",
		.in = { V4_FROM_PBX(PORT_CACHED_REDIRECT) },
		.verdict = XDP_REDIRECT,
		.out = { V4_CACHED(MAC_EGRESS_DEV, MAC_PBX_B, RELAY_OUT_V4, PBX_B_V4) },
		.stat = XT_STAT_REDIRECT,
	},
	{
		.description = "IPv6 flow with a cached next hop on the egress device is "
			       "redirected there",
		.in = { V6_FROM_PBX(PORT_CACHED_REDIRECT) },
		.verdict = XDP_REDIRECT,
		.out = { V6_CACHED(MAC_EGRESS_DEV, MAC_PBX_B, RELAY_OUT_V6, PBX_B_V6) },
		.stat = XT_STAT_REDIRECT,
	},
	{
		.description = "IPv4 flow with a cached next hop on a device without xtrunk is "
			       "passed untouched",
		.in = { V4_FROM_PBX(PORT_CACHED_UNATTACHED) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_TXPORT,
	},
	{
		.description = "IPv6 flow with a cached next hop on a device without xtrunk is "
			       "passed untouched",
		.in = { V6_FROM_PBX(PORT_CACHED_UNATTACHED) },
		.verdict = XDP_PASS,
		.stat = XT_STAT_PASS_NO_TXPORT,
	},
};

/* Relayable packets whose every truncation must be passed as malformed. */
static const struct truncation_case {
	const char *description;
	struct pkt_spec packet;
} truncation_cases[] = {
	{ "IPv4 RTP", { V4_FROM_PBX(PORT_RTP) } },
	{ "IPv6 RTP", { V6_FROM_PBX(PORT_RTP) } },
	{ "IPv4 RTP in one VLAN tag", { V4_FROM_PBX(PORT_RTP), .vlan_tags = 1 } },
	{ "IPv6 RTP in one VLAN tag", { V6_FROM_PBX(PORT_RTP), .vlan_tags = 1 } },
	{ "IPv4 RTP in QinQ", { V4_FROM_PBX(PORT_RTP), .vlan_tags = 2 } },
	{ "IPv6 RTP in QinQ", { V6_FROM_PBX(PORT_RTP), .vlan_tags = 2 } },
};

/* ---- Running the program ------------------------------------------------- */

struct testbed {
	int ifindex[IFACE_COUNT];
	__u8 macs[MAC_COUNT][ETH_ALEN];
	struct xtrunk_bpf *skel;
	int prog_fd;
	int ncpus;
	__u64 *percpu; /* one stats value per possible CPU */
	int passed, failed;
};

struct stats {
	__u64 count[XT_STAT_MAX];
};

/* Why a case failed, for its "not ok" line. */
struct failure {
	char text[768];
	size_t used;
};

static bool failf(struct failure *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool failf(struct failure *why, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (why->used >= sizeof(why->text))
		return false;
	if (why->used)
		why->used += snprintf(why->text + why->used, sizeof(why->text) - why->used, "; ");
	if (why->used >= sizeof(why->text))
		return false;
	va_start(ap, fmt);
	n = vsnprintf(why->text + why->used, sizeof(why->text) - why->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		why->used += n;
	return false;
}

static void report(struct testbed *tb, const char *description, const struct failure *why)
{
	int number = tb->passed + tb->failed + 1;

	if (why->used) {
		tb->failed++;
		printf("not ok %d - %s: %s\n", number, description, why->text);
	} else {
		tb->passed++;
		printf("ok %d - %s\n", number, description);
	}
}

static const char *verdict_name(int verdict)
{
	switch (verdict) {
	case XDP_ABORTED:
		return "XDP_ABORTED";
	case XDP_DROP:
		return "XDP_DROP";
	case XDP_PASS:
		return "XDP_PASS";
	case XDP_TX:
		return "XDP_TX";
	case XDP_REDIRECT:
		return "XDP_REDIRECT";
	}
	return "unknown verdict";
}

static int read_stats(struct testbed *tb, struct stats *stats)
{
	__u32 key;
	int i, err;

	for (key = 0; key < XT_STAT_MAX; key++) {
		err = bpf_map__lookup_elem(tb->skel->maps.xt_stats, &key, sizeof(key), tb->percpu,
					   sizeof(__u64) * tb->ncpus, 0);
		if (err)
			return err;
		stats->count[key] = 0;
		for (i = 0; i < tb->ncpus; i++)
			stats->count[key] += tb->percpu[i];
	}
	return 0;
}

/*
 * The packet counted rx and stat once, and nothing else; with stat
 * XT_STAT_MAX, the program never saw it and nothing counted.
 */
static void check_stats(const struct stats *before, const struct stats *after, enum xt_stat stat,
			enum xt_stat event, struct failure *why)
{
	bool seen = stat != XT_STAT_MAX;
	int i;

	for (i = 0; i < XT_STAT_MAX; i++) {
		__u64 expected =
			seen && (i == XT_STAT_RX || i == (int)stat || (event && i == (int)event)) ?
				1 :
				0;
		__u64 delta = after->count[i] - before->count[i];

		if (delta != expected)
			failf(why, "counter %s +%llu, expected +%llu", xt_stat_names[i],
			      (unsigned long long)delta, (unsigned long long)expected);
	}
}

/* The flow a packet to (family, address, port) is found under, if any. */
static bool flow_index(__u8 family, const char *addr, __u16 port, __u32 *index)
{
	__u8 want[16], have[16];
	size_t i;

	if (!addr)
		return false;
	addr_bytes(family, addr, want);
	for (i = 0; i < sizeof(relay_slots) / sizeof(relay_slots[0]); i++) {
		if (relay_slots[i].family != family)
			continue;
		addr_bytes(family, relay_slots[i].addr, have);
		if (!memcmp(want, have, 16)) {
			*index = relay_slots[i].slot * XT_PORTS_PER_SLOT + port;
			return true;
		}
	}
	return false;
}

/* A flow as the data path keeps it: its cache line and its rarely touched part. */
struct flow_state {
	struct xt_flow line;
	struct xt_flow_slow slow;
};

static int read_flow(struct testbed *tb, __u32 index, struct flow_state *flow)
{
	memset(flow, 0, sizeof(*flow));
	return bpf_map__lookup_elem(tb->skel->maps.xt_flows, &index, sizeof(index), &flow->line, sizeof(flow->line), 0) ?:
		       bpf_map__lookup_elem(tb->skel->maps.xt_flows_slow, &index, sizeof(index),
					    &flow->slow, sizeof(flow->slow), 0);
}

/*
 * A relayed packet adds one packet and its IP length to its flow and stamps
 * it; one the source check dropped adds one source-check drop; any other
 * changes nothing.
 */
/* The data path's clock ticks once a jiffy: 10 ms at the coarsest HZ (100). */
#define LAST_SEEN_RESOLUTION_NS 10000000ull

static void check_flow(const struct flow_state *before, const struct flow_state *after, int verdict,
		       enum xt_stat stat, size_t ip_len, struct failure *why)
{
	struct flow_state expected = *before;

	if (verdict == XDP_TX || verdict == XDP_REDIRECT) {
		expected.line.packets++;
		expected.line.bytes += ip_len;
		/* stamped from a per-CPU clock refreshed once a jiffy: never
		 * earlier than before, not necessarily later within a jiffy */
		if (!after->line.last_seen ||
		    (__s32)(after->line.last_seen - before->line.last_seen) < 0)
			failf(why, "flow last_seen not stamped (%u, before %u)",
			      after->line.last_seen, before->line.last_seen);
		expected.line.last_seen = after->line.last_seen;
	} else if (verdict == XDP_DROP && stat == XT_STAT_DROP_SRC) {
		expected.slow.src_drops++;
	}
	if (after->line.packets != expected.line.packets)
		failf(why, "flow packets %u, expected %u", after->line.packets,
		      expected.line.packets);
	if (after->line.bytes != expected.line.bytes)
		failf(why, "flow bytes %llu, expected %llu", (unsigned long long)after->line.bytes,
		      (unsigned long long)expected.line.bytes);
	if (after->slow.src_drops != expected.slow.src_drops)
		failf(why, "flow src_drops %llu, expected %llu",
		      (unsigned long long)after->slow.src_drops,
		      (unsigned long long)expected.slow.src_drops);
	if (memcmp(after, &expected, sizeof(expected)))
		failf(why, "flow entry changed beyond its counters");
}

static const char *frame_part(const struct frame *f, size_t offset, size_t *within)
{
	if (offset < f->l3_off) {
		*within = offset;
		return "Ethernet header";
	}
	if (offset < f->l4_off) {
		*within = offset - f->l3_off;
		return "IP header";
	}
	if (offset < f->payload_off) {
		*within = offset - f->l4_off;
		return "L4 header";
	}
	if (offset < f->padding_off) {
		*within = offset - f->payload_off;
		return "payload";
	}
	*within = offset - f->padding_off;
	return "padding";
}

#define HEX_DUMP_BYTES 8

static void hex_dump(char *buf, size_t size, const __u8 *bytes, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < len && i < HEX_DUMP_BYTES && used + 4 < size; i++)
		used += snprintf(buf + used, size - used, "%s%02x", i ? " " : "", bytes[i]);
}

static void compare_bytes(const __u8 *got, size_t got_len, const struct frame *expected,
			  struct failure *why)
{
	char got_hex[3 * HEX_DUMP_BYTES + 1], want_hex[3 * HEX_DUMP_BYTES + 1];
	size_t common = got_len < expected->len ? got_len : expected->len;
	size_t offset, within;
	const char *part;

	if (got_len != expected->len)
		failf(why, "output is %zu bytes, expected %zu", got_len, expected->len);
	for (offset = 0; offset < common; offset++)
		if (got[offset] != expected->bytes[offset])
			break;
	if (offset == common)
		return;
	part = frame_part(expected, offset, &within);
	hex_dump(got_hex, sizeof(got_hex), got + offset, common - offset);
	hex_dump(want_hex, sizeof(want_hex), expected->bytes + offset, common - offset);
	failf(why, "output differs at offset %zu (%s +%zu): got %s, expected %s", offset, part,
	      within, got_hex, want_hex);
}

/* Checksums of a relayed packet, recomputed in full from what came out. */
static void verify_checksums(const __u8 *got, const struct frame *layout, __u8 family,
			     struct failure *why)
{
	const __u8 *ip = got + layout->l3_off, *udp = got + layout->l4_off;
	size_t udp_len = layout->padding_off - layout->l4_off;
	__u16 field = get16(udp + UDP_CHECK_OFFSET), computed;

	if (family == XT_AF_INET) {
		computed = ipv4_header_checksum(ip, layout->l4_off - layout->l3_off);
		if (get16(ip + IPV4_CHECK_OFFSET) != computed)
			failf(why, "IPv4 header checksum 0x%04x, full recompute gives 0x%04x",
			      get16(ip + IPV4_CHECK_OFFSET), computed);
		if (field == 0)
			return; /* none, RFC 768 */
	}
	computed = l4_checksum(family, ip, IPPROTO_UDP, udp, udp_len, UDP_CHECK_OFFSET,
			       get16(udp + UDP_LEN_OFFSET));
	if (field != (computed ?: 0xffff))
		failf(why, "UDP checksum 0x%04x, full recompute gives 0x%04x", field,
		      computed ?: 0xffff);
}

/* Run the program once on len bytes of data arriving on ifindex. */
static int run_program(struct testbed *tb, int ifindex, const __u8 *data, size_t len, __u8 *out,
		       size_t *out_len, int *verdict)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = len, .data_out = out,
		    .data_size_out = FRAME_MAX, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(tb->prog_fd, &opts);
	if (err)
		return err;
	*out_len = opts.data_size_out;
	*verdict = opts.retval;
	return 0;
}

/*
 * Make a PAYLOAD_ZERO_CSUM_AFTER_RELAY case concrete: find the two payload
 * bytes for which the relayed packet's UDP checksum computes to 0.
 */
static int resolve_payload(struct testbed *tb, struct pkt_spec *in, struct pkt_spec *out)
{
	bool looks_partial = in->payload == PAYLOAD_FULL_CSUM_LOOKS_PARTIAL;
	struct frame *f;
	__u32 word;

	if (in->payload != PAYLOAD_ZERO_CSUM_AFTER_RELAY && !looks_partial)
		return 0;
	f = malloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	out->payload = in->payload = PAYLOAD_WORD;
	for (word = 0; word <= 0xffff; word++) {
		struct pkt_spec *built = looks_partial ? in : out;
		const __u8 *ip;

		built->payload_word = word;
		build_frame(built, tb->macs, f);
		ip = f->bytes + f->l3_off;
		if (!looks_partial && f->l4_csum_computed == 0)
			break;
		if (looks_partial &&
		    get16(f->bytes + f->l4_off + UDP_CHECK_OFFSET) ==
			    pseudo_header_sum(in->family, ip,
					      get16(f->bytes + f->l4_off + UDP_LEN_OFFSET)))
			break;
	}
	free(f);
	if (looks_partial)
		out->payload_word = in->payload_word;
	else
		in->payload_word = out->payload_word;
	return word <= 0xffff ? 0 : -ENOENT;
}

struct case_buffers {
	struct frame in, expected;
	__u8 out[FRAME_MAX];
};

static void run_case(struct testbed *tb, const struct pkt_case *c, struct case_buffers *buf)
{
	bool relayed = c->verdict == XDP_TX || c->verdict == XDP_REDIRECT;
	struct pkt_spec in = c->in, out = c->out;
	struct flow_state flow_before, flow_after;
	struct stats stats_before, stats_after;
	struct failure why = { .used = 0 };
	bool has_flow = false;
	size_t out_len;
	__u32 index;
	int verdict, err;

	if (resolve_payload(tb, &in, &out)) {
		failf(&why, "no payload makes the case's UDP checksum");
		goto out;
	}
	build_frame(&in, tb->macs, &buf->in);
	if (relayed)
		build_frame(&out, tb->macs, &buf->expected);
	else
		buf->expected = buf->in;

	if (in.ether_type != ETH_P_ARP && flow_index(in.family, in.dst.addr, in.dst.port, &index)) {
		if (read_flow(tb, index, &flow_before)) {
			failf(&why, "reading flow %u: %s", index, strerror(errno));
			goto out;
		}
		has_flow = true;
	}
	if (read_stats(tb, &stats_before)) {
		failf(&why, "reading stats: %s", strerror(errno));
		goto out;
	}

	err = run_program(tb, tb->ifindex[c->ingress], buf->in.bytes, buf->in.len, buf->out,
			  &out_len, &verdict);
	if (err) {
		failf(&why, "BPF_PROG_TEST_RUN: %s", strerror(-err));
		goto out;
	}

	if (verdict != c->verdict)
		failf(&why, "verdict %s, expected %s", verdict_name(verdict),
		      verdict_name(c->verdict));
	if (c->verdict != XDP_DROP)
		compare_bytes(buf->out, out_len, &buf->expected, &why);
	if (relayed && verdict == c->verdict && out_len == buf->expected.len)
		verify_checksums(buf->out, &buf->expected, out.family, &why);

	if (read_stats(tb, &stats_after))
		failf(&why, "reading stats: %s", strerror(errno));
	else
		check_stats(&stats_before, &stats_after, c->stat, c->event, &why);
	if (has_flow) {
		if (read_flow(tb, index, &flow_after))
			failf(&why, "reading flow %u: %s", index, strerror(errno));
		else
			check_flow(&flow_before, &flow_after, c->verdict, c->stat, buf->in.ip_len,
				   &why);
	}
out:
	report(tb, c->description, &why);
}

/*
 * Every truncation of a relayable packet is passed unchanged as malformed;
 * BPF_PROG_TEST_RUN itself refuses frames shorter than an Ethernet header.
 */
static void run_truncations(struct testbed *tb, const struct truncation_case *t,
			    struct case_buffers *buf)
{
	struct failure why = { .used = 0 };
	struct stats before, after;
	char description[160];
	size_t len, out_len, failed_lengths = 0;
	int verdict, err;

	build_frame(&t->packet, tb->macs, &buf->in);
	snprintf(description, sizeof(description),
		 "%s truncated to each of 0..%zu bytes is never relayed", t->description,
		 buf->in.len - 1);

	for (len = 0; len < buf->in.len; len++) {
		struct failure at_len = { .used = 0 };

		if (read_stats(tb, &before)) {
			failf(&at_len, "reading stats: %s", strerror(errno));
			goto next;
		}
		err = run_program(tb, tb->ifindex[IFACE_INGRESS], buf->in.bytes, len, buf->out,
				  &out_len, &verdict);
		if (len < ETH_HLEN) {
			if (err != -EINVAL)
				failf(&at_len, "BPF_PROG_TEST_RUN returned %d, expected -EINVAL",
				      err);
			if (read_stats(tb, &after))
				failf(&at_len, "reading stats: %s", strerror(errno));
			else
				check_stats(&before, &after, XT_STAT_MAX, 0, &at_len);
			goto next;
		}
		if (err) {
			failf(&at_len, "BPF_PROG_TEST_RUN: %s", strerror(-err));
			goto next;
		}
		if (verdict != XDP_PASS)
			failf(&at_len, "verdict %s", verdict_name(verdict));
		buf->expected = buf->in;
		buf->expected.len = len;
		compare_bytes(buf->out, out_len, &buf->expected, &at_len);
		if (read_stats(tb, &after))
			failf(&at_len, "reading stats: %s", strerror(errno));
		else
			check_stats(&before, &after, XT_STAT_PASS_MALFORMED, 0, &at_len);
next:
		if (at_len.used && !failed_lengths++)
			failf(&why, "at %zu bytes: %s", len, at_len.text);
	}
	if (failed_lengths > 1)
		failf(&why, "%zu lengths failed in all", failed_lengths);
	report(tb, description, &why);
}

/* A flow's counters after two relayed packets, as absolute values. */
static void run_flow_counters(struct testbed *tb, struct case_buffers *buf)
{
	static const struct pkt_spec rtp = { V4_FROM_PBX(PORT_COUNTED) };
	static const struct pkt_spec small = { V4_FROM_PBX(PORT_COUNTED), .payload = PAYLOAD_WORD,
					       .pad_to_min_frame = true };
	const struct pkt_spec *packets[] = { &rtp, &small };
	struct failure why = { .used = 0 };
	struct timespec start, end;
	__u64 start_ns, end_ns, ip_bytes = 0;
	struct flow_state flow;
	size_t i, out_len;
	int verdict, err;
	__u32 index;

	flow_index(XT_AF_INET, RELAY_V4, PORT_COUNTED, &index);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < sizeof(packets) / sizeof(packets[0]); i++) {
		build_frame(packets[i], tb->macs, &buf->in);
		ip_bytes += buf->in.ip_len;
		err = run_program(tb, tb->ifindex[IFACE_INGRESS], buf->in.bytes, buf->in.len,
				  buf->out, &out_len, &verdict);
		if (err)
			failf(&why, "BPF_PROG_TEST_RUN: %s", strerror(-err));
		else if (verdict != XDP_TX)
			failf(&why, "packet %zu: verdict %s, expected XDP_TX", i + 1,
			      verdict_name(verdict));
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	start_ns = start.tv_sec * 1000000000ull + start.tv_nsec;
	end_ns = end.tv_sec * 1000000000ull + end.tv_nsec;

	if (read_flow(tb, index, &flow)) {
		failf(&why, "reading flow %u: %s", index, strerror(errno));
	} else {
		__u32 earliest =
			(__u32)((start_ns - LAST_SEEN_RESOLUTION_NS) >> XT_LAST_SEEN_SHIFT);
		__u32 latest = (__u32)(end_ns >> XT_LAST_SEEN_SHIFT);

		if (flow.line.packets != 2)
			failf(&why, "packets %u, expected 2", flow.line.packets);
		if (flow.line.bytes != ip_bytes)
			failf(&why, "bytes %llu, expected %llu (IP lengths)",
			      (unsigned long long)flow.line.bytes, (unsigned long long)ip_bytes);
		if ((__s32)(flow.line.last_seen - earliest) < 0 ||
		    (__s32)(latest - flow.line.last_seen) < 0)
			failf(&why, "last_seen %u outside the run [%u, %u] (2^%u ns units)",
			      flow.line.last_seen, earliest, latest, XT_LAST_SEEN_SHIFT);
		if (flow.slow.src_drops)
			failf(&why, "src_drops %llu, expected 0",
			      (unsigned long long)flow.slow.src_drops);
	}
	report(tb, "a flow counts relayed packets, their IP bytes and when it last relayed", &why);
}

/* Set xtrunkd's lease, and make every CPU's clock look at it on its next packet. */
static int set_lease(struct testbed *tb, __u64 expires_ns)
{
	struct xt_lease lease = { .expires_ns = expires_ns };
	size_t clock_size = bpf_map__value_size(tb->skel->maps.xt_clock);
	void *stale = calloc(tb->ncpus, clock_size);
	__u32 zero = 0;
	int err;

	if (!stale)
		return -ENOMEM;
	/* jiffies 0: the clock is refreshed, lease included, on the next packet */
	err = bpf_map__update_elem(tb->skel->maps.xt_lease, &zero, sizeof(zero), &lease, sizeof(lease), BPF_ANY) ?:
		      bpf_map__update_elem(tb->skel->maps.xt_clock, &zero, sizeof(zero), stale,
					   clock_size * tb->ncpus, BPF_ANY);
	free(stale);
	return err;
}

static int set_flow_flags(struct testbed *tb, __u32 index, __u32 flags)
{
	struct flow_state flow;
	int err = read_flow(tb, index, &flow);

	if (err)
		return err;
	flow.line.flags = flags;
	return bpf_map__update_elem(tb->skel->maps.xt_flows, &index, sizeof(index), &flow.line,
				    sizeof(flow.line), BPF_ANY);
}

/*
 * xtrunkd's lease (issue 13 point 7): a flow xtrunkd owns relays while the
 * lease runs and goes back to the stack, untouched and counted, once it is
 * over; a flow added by hand, or a lease of 0, never expires.
 */
static void run_lease(struct testbed *tb, struct case_buffers *buf)
{
	static const struct pkt_spec rtp = { V4_FROM_PBX(PORT_COUNTED) };
	static const struct {
		const char *what;
		bool owned;
		int lease; /* 1: running, -1: over, 0: none */
		int verdict;
		enum xt_stat stat;
	} steps[] = {
		{ "xtrunkd's flow, lease running: relayed", true, 1, XDP_TX, XT_STAT_TX },
		{ "xtrunkd's flow, lease over: passed, untouched", true, -1, XDP_PASS,
		  XT_STAT_PASS_LEASE_EXPIRED },
		{ "a flow added by hand, lease over: relayed", false, -1, XDP_TX, XT_STAT_TX },
		{ "xtrunkd's flow, no lease (0): relayed", true, 0, XDP_TX, XT_STAT_TX },
	};
	struct flow_state original;
	struct timespec now;
	__u32 index;

	flow_index(XT_AF_INET, RELAY_V4, PORT_COUNTED, &index);
	if (read_flow(tb, index, &original)) {
		struct failure why = { .used = 0 };

		failf(&why, "reading flow %u: %s", index, strerror(errno));
		report(tb, "lease: the flow to test with", &why);
		return;
	}
	build_frame(&rtp, tb->macs, &buf->in);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct failure why = { .used = 0 };
		struct stats before, after;
		char what[128];
		__u64 now_ns, expires = 0;
		size_t out_len;
		int verdict, err;

		clock_gettime(CLOCK_MONOTONIC, &now);
		now_ns = now.tv_sec * 1000000000ull + now.tv_nsec;
		if (steps[i].lease)
			expires = steps[i].lease > 0 ? now_ns + 60000000000ull :
						       now_ns - 1000000000ull;
		err = set_flow_flags(tb, index, original.line.flags | (steps[i].owned ? XT_FLOW_F_OWNED : 0)) ?:
			      set_lease(tb, expires) ?:
						       read_stats(tb, &before);
		if (!err)
			err = run_program(tb, tb->ifindex[IFACE_INGRESS], buf->in.bytes,
					  buf->in.len, buf->out, &out_len, &verdict);
		if (!err)
			err = read_stats(tb, &after);
		if (err) {
			failf(&why, "setting up or running: %s", strerror(-err));
		} else {
			if (verdict != steps[i].verdict)
				failf(&why, "verdict %s, expected %s", verdict_name(verdict),
				      verdict_name(steps[i].verdict));
			check_stats(&before, &after, steps[i].stat, 0, &why);
			if (verdict == XDP_PASS &&
			    (out_len != buf->in.len || memcmp(buf->out, buf->in.bytes, out_len)))
				failf(&why, "the passed packet was changed");
		}
		snprintf(what, sizeof(what), "lease: %s", steps[i].what);
		report(tb, what, &why);
	}
	set_lease(tb, 0);
	set_flow_flags(tb, index, original.line.flags);
}

/*
 * NAT latching, packet by packet: the first packet from the signalled
 * address fixes the source port; the same source keeps being relayed, any
 * other port or address is dropped.
 */
static void run_nat_latching(struct testbed *tb, struct case_buffers *buf)
{
	static const struct {
		struct pkt_spec packet;
		int verdict;
		const char *what;
	} steps[] = {
		{ { V4_ARRIVING(PBX_V4, PBX_RTP_PORT, PORT_LATCH) }, XDP_TX, "first packet" },
		{ { V4_ARRIVING(PBX_V4, PBX_RTP_PORT, PORT_LATCH) }, XDP_TX, "same source again" },
		{ { V4_ARRIVING(PBX_V4, PBX_RTP_PORT + 2, PORT_LATCH) }, XDP_DROP, "other port" },
		{ { V4_ARRIVING(TRUNK_V4, PBX_RTP_PORT, PORT_LATCH) }, XDP_DROP, "other address" },
	};
	struct failure why = { .used = 0 };
	struct stats before, after;
	struct flow_state flow;
	size_t i, out_len;
	int verdict, err;
	__u32 index;

	flow_index(XT_AF_INET, RELAY_V4, PORT_LATCH, &index);
	if (read_stats(tb, &before))
		failf(&why, "reading stats: %s", strerror(errno));
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		build_frame(&steps[i].packet, tb->macs, &buf->in);
		err = run_program(tb, tb->ifindex[IFACE_INGRESS], buf->in.bytes, buf->in.len,
				  buf->out, &out_len, &verdict);
		if (err)
			failf(&why, "BPF_PROG_TEST_RUN: %s", strerror(-err));
		else if (verdict != steps[i].verdict)
			failf(&why, "%s: verdict %s, expected %s", steps[i].what,
			      verdict_name(verdict), verdict_name(steps[i].verdict));
		if (i == 0 && !read_flow(tb, index, &flow) &&
		    (!(flow.line.flags & XT_FLOW_F_CHECK_SRC_PORT) ||
		     flow.line.src_port != htons(PBX_RTP_PORT)))
			failf(&why,
			      "after the first packet: flags 0x%x, src_port %u: not latched to %u",
			      flow.line.flags, ntohs(flow.line.src_port), PBX_RTP_PORT);
	}
	if (read_flow(tb, index, &flow)) {
		failf(&why, "reading flow %u: %s", index, strerror(errno));
	} else {
		if (flow.line.packets != 2 || flow.slow.src_drops != 2)
			failf(&why, "packets %u, drops %llu: expected 2 and 2", flow.line.packets,
			      (unsigned long long)flow.slow.src_drops);
	}
	if (read_stats(tb, &after))
		failf(&why, "reading stats: %s", strerror(errno));
	else if (after.count[XT_STAT_LATCHED] != before.count[XT_STAT_LATCHED] + 1)
		failf(&why, "latched counter moved by %llu, expected 1",
		      (unsigned long long)(after.count[XT_STAT_LATCHED] -
					   before.count[XT_STAT_LATCHED]));
	report(tb, "a latching flow learns the source port from the first packet, then checks it",
	       &why);
}

/*
 * Symmetric RTP through a NAT: the PBX signalled PBX_RTP_PORT, its NAT sends
 * from PBX_NAT_PORT. A packet from an address nobody signalled latches
 * nothing and is dropped; the first from the PBX's address latches its port
 * and points the reverse flow at it, so the trunk's media goes back through
 * the NAT binding; then any other port of that address is dropped and
 * counted.
 */
static void run_latch_reverse(struct testbed *tb, struct case_buffers *buf)
{
	static const struct {
		struct pkt_spec packet;
		int verdict;
		const char *what;
	} steps[] = {
		{ { V4_ARRIVING(STRANGER_V4, PBX_NAT_PORT, PORT_LATCH_REVERSE) },
		  XDP_DROP,
		  "a packet from an unsignalled address before latching" },
		{ { V4_ARRIVING(PBX_V4, PBX_NAT_PORT, PORT_LATCH_REVERSE) },
		  XDP_TX,
		  "first packet" },
		{ { V4_ARRIVING(PBX_V4, PBX_NAT_PORT + 2, PORT_LATCH_REVERSE) },
		  XDP_DROP,
		  "another port of the signalled address" },
		{ { V4_ARRIVING(STRANGER_V4, PBX_NAT_PORT, PORT_LATCH_REVERSE) },
		  XDP_DROP,
		  "the unsignalled address with the latched port" },
	};
	/* the trunk's packet on the reverse flow, and how it must leave */
	static const struct pkt_spec back_in = {
		V4_ARRIVING_ON(MAC_GATEWAY, TRUNK_V4, TRUNK_RTP_PORT, RELAY_V4, PORT_LATCH_BACK),
	};
	static const struct pkt_spec back_out = {
		.family = XT_AF_INET,
		.eth_src = MAC_INGRESS_DEV,
		.eth_dst = MAC_PBX,
		.src = { RELAY_V4, LEG_LATCH_BACK_PORT },
		.dst = { PBX_V4, PBX_NAT_PORT },
		.ttl = RELAYED_TTL,
		.tos = TOS_EF,
	};
	struct failure why = { .used = 0 };
	struct flow_state flow, back_before, back_after;
	struct stats before, after;
	__u32 index, back_index;
	size_t i, out_len;
	int verdict, err;

	flow_index(XT_AF_INET, RELAY_V4, PORT_LATCH_REVERSE, &index);
	flow_index(XT_AF_INET, RELAY_V4, PORT_LATCH_BACK, &back_index);
	if (read_stats(tb, &before) || read_flow(tb, back_index, &back_before))
		failf(&why, "reading stats or the reverse flow: %s", strerror(errno));
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		build_frame(&steps[i].packet, tb->macs, &buf->in);
		err = run_program(tb, tb->ifindex[IFACE_INGRESS], buf->in.bytes, buf->in.len,
				  buf->out, &out_len, &verdict);
		if (err)
			failf(&why, "BPF_PROG_TEST_RUN: %s", strerror(-err));
		else if (verdict != steps[i].verdict)
			failf(&why, "%s: verdict %s, expected %s", steps[i].what,
			      verdict_name(verdict), verdict_name(steps[i].verdict));
		if (i == 0 && !read_flow(tb, index, &flow) &&
		    (flow.line.flags & (XT_FLOW_F_CHECK_SRC_PORT | XT_FLOW_F_LATCHING)))
			failf(&why, "an unsignalled address latched the flow (flags 0x%x)",
			      flow.line.flags);
		if (i == 1 && !read_flow(tb, index, &flow) &&
		    (!(flow.line.flags & XT_FLOW_F_CHECK_SRC_PORT) ||
		     flow.line.src_port != htons(PBX_NAT_PORT)))
			failf(&why,
			      "after the first packet: flags 0x%x, src_port %u: not latched "
			      "to %u",
			      flow.line.flags, ntohs(flow.line.src_port), PBX_NAT_PORT);
	}
	if (read_flow(tb, back_index, &back_after)) {
		failf(&why, "reading the reverse flow: %s", strerror(errno));
	} else {
		/* latching changed the reverse flow's peer port and nothing else */
		back_before.line.peer_port = htons(PBX_NAT_PORT);
		if (memcmp(&back_before, &back_after, sizeof(back_after)))
			failf(&why, "reverse flow: peer port %u, expected %u, or more changed",
			      ntohs(back_after.line.peer_port), PBX_NAT_PORT);
	}

	/* the trunk's media now goes to the NAT's port, checksums intact */
	build_frame(&back_in, tb->macs, &buf->in);
	build_frame(&back_out, tb->macs, &buf->expected);
	err = run_program(tb, tb->ifindex[IFACE_INGRESS], buf->in.bytes, buf->in.len, buf->out,
			  &out_len, &verdict);
	if (err) {
		failf(&why, "BPF_PROG_TEST_RUN: %s", strerror(-err));
	} else if (verdict != XDP_TX) {
		failf(&why, "reverse flow: verdict %s, expected XDP_TX", verdict_name(verdict));
	} else {
		compare_bytes(buf->out, out_len, &buf->expected, &why);
		if (out_len == buf->expected.len)
			verify_checksums(buf->out, &buf->expected, XT_AF_INET, &why);
	}

	if (read_flow(tb, index, &flow))
		failf(&why, "reading flow %u: %s", index, strerror(errno));
	else if (flow.line.packets != 1 || flow.slow.src_drops != 3)
		failf(&why, "packets %u, drops %llu: expected 1 and 3", flow.line.packets,
		      (unsigned long long)flow.slow.src_drops);
	if (read_stats(tb, &after)) {
		failf(&why, "reading stats: %s", strerror(errno));
	} else {
		if (after.count[XT_STAT_LATCHED] != before.count[XT_STAT_LATCHED] + 1)
			failf(&why, "latched counter moved by %llu, expected 1",
			      (unsigned long long)(after.count[XT_STAT_LATCHED] -
						   before.count[XT_STAT_LATCHED]));
		if (after.count[XT_STAT_DROP_SRC] != before.count[XT_STAT_DROP_SRC] + 3)
			failf(&why, "source-check drops moved by %llu, expected 3",
			      (unsigned long long)(after.count[XT_STAT_DROP_SRC] -
						   before.count[XT_STAT_DROP_SRC]));
	}
	report(tb,
	       "latching a flow points its reverse flow at the latched port; other ports and "
	       "addresses are dropped",
	       &why);
}

/*
 * RTCP multiplexed on the RTP port (RFC 5761): a second byte of 192-223 is
 * RTCP, relayed but kept out of the RTP statistics; 191 and 224 (marker set,
 * payload types 63 and 96) are RTP.
 */
/* Make a flow's source look quiet for longer than the re-latch period. */
static int make_quiet(struct testbed *tb, __u32 index)
{
	struct flow_state flow;
	struct timespec now;
	__u64 now_ns;
	int err = read_flow(tb, index, &flow);

	if (err)
		return err;
	clock_gettime(CLOCK_MONOTONIC, &now);
	now_ns = now.tv_sec * 1000000000ull + now.tv_nsec;
	flow.line.last_seen =
		(__u32)(now_ns >> XT_LAST_SEEN_SHIFT) - (__u32)XT_RELATCH_QUIET_UNITS - 100;
	return bpf_map__update_elem(tb->skel->maps.xt_flows, &index, sizeof(index), &flow.line,
				    sizeof(flow.line), BPF_ANY);
}

/*
 * Re-latching (issue 13 point 8), after run_latch_reverse latched the flow
 * to PBX_NAT_PORT: another port of the signalled address is dropped while
 * the stream talks, takes over once it has been quiet (NAT rebinding),
 * counted, and moves the reverse flow's peer port with it; the old port is
 * then the stranger; another address never re-latches.
 */
static void run_relatch(struct testbed *tb, struct case_buffers *buf)
{
	static const struct {
		struct pkt_spec packet;
		bool quiet; /* make the flow quiet first */
		int verdict;
		__u16 latched; /* the flow's source port after the packet */
		const char *what;
	} steps[] = {
		{ { V4_ARRIVING(PBX_V4, PBX_NAT_PORT + 4, PORT_LATCH_REVERSE) },
		  false,
		  XDP_DROP,
		  PBX_NAT_PORT,
		  "a new port while the stream talks" },
		{ { V4_ARRIVING(STRANGER_V4, PBX_NAT_PORT + 4, PORT_LATCH_REVERSE) },
		  true,
		  XDP_DROP,
		  PBX_NAT_PORT,
		  "another address after a quiet period" },
		{ { V4_ARRIVING(PBX_V4, PBX_NAT_PORT + 4, PORT_LATCH_REVERSE) },
		  true,
		  XDP_TX,
		  PBX_NAT_PORT + 4,
		  "the signalled address's new port after a quiet period" },
		{ { V4_ARRIVING(PBX_V4, PBX_NAT_PORT, PORT_LATCH_REVERSE) },
		  false,
		  XDP_DROP,
		  PBX_NAT_PORT + 4,
		  "the old port, once the new one talks" },
	};
	struct failure why = { .used = 0 };
	struct flow_state flow, back;
	struct stats before, after;
	__u32 index, back_index;
	size_t out_len;
	int verdict, err;

	flow_index(XT_AF_INET, RELAY_V4, PORT_LATCH_REVERSE, &index);
	flow_index(XT_AF_INET, RELAY_V4, PORT_LATCH_BACK, &back_index);
	if (read_stats(tb, &before))
		failf(&why, "reading stats: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		build_frame(&steps[i].packet, tb->macs, &buf->in);
		err = steps[i].quiet ? make_quiet(tb, index) : 0;
		if (!err)
			err = run_program(tb, tb->ifindex[IFACE_INGRESS], buf->in.bytes,
					  buf->in.len, buf->out, &out_len, &verdict);
		if (err)
			failf(&why, "%s: %s", steps[i].what, strerror(-err));
		else if (verdict != steps[i].verdict)
			failf(&why, "%s: verdict %s, expected %s", steps[i].what,
			      verdict_name(verdict), verdict_name(steps[i].verdict));
		if (read_flow(tb, index, &flow) || read_flow(tb, back_index, &back))
			failf(&why, "reading the flows: %s", strerror(errno));
		else if (flow.line.src_port != htons(steps[i].latched) ||
			 back.line.peer_port != htons(steps[i].latched) ||
			 (flow.line.flags & XT_FLOW_F_LATCHING))
			failf(&why,
			      "%s: source port %u, reverse flow's peer port %u, flags 0x%x: "
			      "expected %u, %u, not latching",
			      steps[i].what, ntohs(flow.line.src_port), ntohs(back.line.peer_port),
			      flow.line.flags, steps[i].latched, steps[i].latched);
	}
	if (read_stats(tb, &after))
		failf(&why, "reading stats: %s", strerror(errno));
	else if (after.count[XT_STAT_RELATCHED] - before.count[XT_STAT_RELATCHED] != 1 ||
		 after.count[XT_STAT_LATCHED] != before.count[XT_STAT_LATCHED])
		failf(&why, "relatched +%llu, latched +%llu: expected +1 and +0",
		      (unsigned long long)(after.count[XT_STAT_RELATCHED] -
					   before.count[XT_STAT_RELATCHED]),
		      (unsigned long long)(after.count[XT_STAT_LATCHED] -
					   before.count[XT_STAT_LATCHED]));
	report(tb,
	       "a quiet latched flow re-latches to its own address's new port, counted, and "
	       "moves its reverse flow",
	       &why);
}

static void run_rtcp_mux(struct testbed *tb, struct case_buffers *buf)
{
	static const struct {
		__u8 second_byte;
		__u16 seq; /* RTP: its sequence number; RTCP: what its length field would seem */
	} packets[] = {
		{ RTP_PT_PCMU, 100 }, { 200, 6 }, /* SR */
		{ 201, 7 },			  /* RR */
		{ 192, 500 },			  /* the lowest RTCP type */
		{ 223, 900 },			  /* the highest */
		{ 0x80 | 96, 101 },		  /* marker + dynamic payload type 96 (224) */
		{ 0x80 | 63, 102 },		  /* marker + payload type 63 (191) */
	};
	enum { N = sizeof(packets) / sizeof(packets[0]) };
	struct xt_rtp_stats stats = { .clock_hz = RTP_STATS_CLOCK_HZ };
	struct failure why = { .used = 0 };
	struct flow_state flow;
	size_t i, out_len;
	int verdict, err;
	__u32 index;

	flow_index(XT_AF_INET, RELAY_V4, PORT_RTCP_MUX, &index);
	if (bpf_map__update_elem(tb->skel->maps.xt_rtp_stats, &index, sizeof(index), &stats,
				 sizeof(stats), 0))
		failf(&why, "writing the statistics entry: %s", strerror(errno));
	for (i = 0; i < N; i++) {
		struct pkt_spec p = { V4_FROM_PBX(PORT_RTCP_MUX), .rtp_set = true };

		p.rtp_second_byte = packets[i].second_byte;
		p.rtp_seq = packets[i].seq;
		p.rtp_timestamp = 1000 + 160 * (__u32)i;
		build_frame(&p, tb->macs, &buf->in);
		err = run_program(tb, tb->ifindex[IFACE_INGRESS], buf->in.bytes, buf->in.len,
				  buf->out, &out_len, &verdict);
		if (err || verdict != XDP_TX)
			failf(&why, "packet %zu (second byte %u): %s, expected XDP_TX", i + 1,
			      packets[i].second_byte, err ? strerror(-err) : verdict_name(verdict));
	}
	if (bpf_map__lookup_elem(tb->skel->maps.xt_rtp_stats, &index, sizeof(index), &stats,
				 sizeof(stats), 0) ||
	    read_flow(tb, index, &flow)) {
		failf(&why, "reading the flow or its statistics: %s", strerror(errno));
	} else {
		if (flow.line.packets != N)
			failf(&why, "relayed %u packets, expected %d", flow.line.packets, N);
		if (stats.received != 3 || stats.base_seq != 100 || stats.max_seq != 102 ||
		    stats.duplicates || stats.reordered)
			failf(&why,
			      "RTP received %llu base %u max %u dup %llu reordered %llu: expected "
			      "3 100 102 0 0 (RTCP counted as RTP)",
			      (unsigned long long)stats.received, stats.base_seq, stats.max_seq,
			      (unsigned long long)stats.duplicates,
			      (unsigned long long)stats.reordered);
	}
	report(tb, "RTCP multiplexed on the RTP port is relayed but kept out of the RTP statistics",
	       &why);
}

/*
 * RTP quality: a known sequence with a wrap, a loss, a duplicate and a late
 * packet, and timestamps that jitter against the arrival times, checked
 * against RFC 3550 A.1, and A.8 over the sampled pairs (XT_RTP_JITTER_EVERY),
 * computed here from the measured arrivals.
 */
static __u32 rtp_arrival_units(const struct timespec *t)
{
	__u64 ns = (__u64)t->tv_sec * 1000000000ull + (__u64)t->tv_nsec;

	return (__u32)(ns / 1000 * RTP_STATS_CLOCK_HZ / 1000000);
}

/*
 * A.8, J += (|D| - J) / 16 in the integer form the data path keeps (J * 16),
 * fed as the data path feeds it: D of each in-order pair of packets whose
 * sequence numbers are 0 and 1 modulo XT_RTP_JITTER_EVERY.
 */
static __u32 sampled_jitter(const __u16 *seq, const __u32 *arrival, const __u32 *timestamp,
			    size_t n)
{
	__u32 jitter = 0, transit = 0;
	__u16 max = seq[0];

	for (size_t i = 0; i < n; i++) {
		__u16 delta = (__u16)(seq[i] - max), phase = seq[i] % XT_RTP_JITTER_EVERY;
		__u32 now = arrival[i] - timestamp[i];

		if (i == 0) {
			if (phase <= 1)
				transit = now;
			continue;
		}
		if (delta == 0 || delta >= 0x8000)
			continue;
		max = seq[i];
		if (phase > 1)
			continue;
		if (phase == 1 && delta == 1) {
			__s32 d = (__s32)(now - transit);

			jitter += (__u32)(d < 0 ? -d : d) - ((jitter + 8) >> 4);
		}
		transit = now;
	}
	return jitter;
}

/* One RTP packet from the PBX to the statistics flow, which must relay it. */
static void send_rtp_stats(struct testbed *tb, struct case_buffers *buf, __u16 seq, __u32 ts,
			   size_t nth, struct failure *why)
{
	struct pkt_spec rtp = { V4_FROM_PBX(PORT_RTP_STATS), .rtp_set = true };
	size_t out_len;
	int verdict, err;

	rtp.rtp_seq = seq;
	rtp.rtp_timestamp = ts;
	build_frame(&rtp, tb->macs, &buf->in);
	err = run_program(tb, tb->ifindex[IFACE_INGRESS], buf->in.bytes, buf->in.len, buf->out,
			  &out_len, &verdict);
	if (err || verdict != XDP_TX)
		failf(why, "packet %zu: %s", nth, err ? strerror(-err) : verdict_name(verdict));
}

/* The statistics flow's entry; false (and a failure) when it cannot be read. */
static bool read_rtp_stats(struct testbed *tb, __u32 index, struct xt_rtp_stats *stats,
			   struct failure *why)
{
	if (!bpf_map__lookup_elem(tb->skel->maps.xt_rtp_stats, &index, sizeof(index), stats,
				  sizeof(*stats), 0))
		return true;
	failf(why, "reading the statistics: %s", strerror(errno));
	return false;
}

static void run_rtp_stats(struct testbed *tb, struct case_buffers *buf)
{
	/*
	 * seq 65533.. wraps to 0; 4 is lost, 3 repeats, 2 comes late; jitter
	 * pairs (0, 1) and (E, E + 1) are timed (E: XT_RTP_JITTER_EVERY);
	 * 2E + 1 follows a gap, so no pair
	 */
	enum { E = XT_RTP_JITTER_EVERY };
	static const __u16 seqs[] = { 65533, 65534, 65535, 0, 1, 3, 3, 2, 5, E, E + 1, 2 * E + 1 };
	static const __s32 ts_skew[] = { 0, 400, -200, 800, 0, 0, 0, 0, 1000, 300, -500, 0 };
	enum { N = sizeof(seqs) / sizeof(seqs[0]) };
	__u32 arrival_before[N], arrival_after[N], timestamp[N], index, lo, hi;
	struct failure why = { .used = 0 };
	struct xt_rtp_stats stats = { .clock_hz = RTP_STATS_CLOCK_HZ };
	struct xt_rtp_quality q;
	size_t i;

	flow_index(XT_AF_INET, RELAY_V4, PORT_RTP_STATS, &index);
	if (bpf_map__update_elem(tb->skel->maps.xt_rtp_stats, &index, sizeof(index), &stats,
				 sizeof(stats), 0))
		failf(&why, "writing the statistics entry: %s", strerror(errno));
	for (i = 0; i < N; i++) {
		struct timespec t;
		/* 160 timestamp units (20 ms at 8 kHz) per sequence step, then skewed */
		__u16 step = (__u16)(seqs[i] - seqs[0]);

		timestamp[i] = 100000u + 160u * step + (__u32)ts_skew[i];
		clock_gettime(CLOCK_MONOTONIC, &t);
		arrival_before[i] = rtp_arrival_units(&t);
		send_rtp_stats(tb, buf, seqs[i], timestamp[i], i + 1, &why);
		clock_gettime(CLOCK_MONOTONIC, &t);
		arrival_after[i] = rtp_arrival_units(&t);
	}
	if (!read_rtp_stats(tb, index, &stats, &why))
		goto out;
	if (!xt_rtp_quality(&stats, &q)) {
		failf(&why, "no RTP seen");
		goto out;
	}
	if (q.ssrc != RTP_SSRC || stats.base_seq != 65533 || stats.max_seq != 65536 + 2 * E + 1)
		failf(&why, "ssrc 0x%x base %u max %u, expected 0x%x 65533 %u", q.ssrc,
		      stats.base_seq, stats.max_seq, RTP_SSRC, 65536 + 2 * E + 1);
	/* 65533..2E+1 is 2E+5 packets; 12 came, one of them twice: 2E-6 never came */
	if (q.expected != 2 * E + 5 || q.received != 12 || q.lost != 2 * E - 6 ||
	    q.duplicates != 1 || q.reordered != 1)
		failf(&why,
		      "expected %llu received %llu lost %llu dup %llu reordered %llu, wanted %u 12 "
		      "%u 1 1",
		      (unsigned long long)q.expected, (unsigned long long)q.received,
		      (unsigned long long)q.lost, (unsigned long long)q.duplicates,
		      (unsigned long long)q.reordered, 2 * E + 5, 2 * E - 6);
	/* the program's arrival time lies between the two clock readings */
	lo = sampled_jitter(seqs, arrival_before, timestamp, N);
	hi = sampled_jitter(seqs, arrival_after, timestamp, N);
	if (lo > hi) {
		__u32 t = lo;

		lo = hi;
		hi = t;
	}
	if (stats.jitter + 16 < lo || stats.jitter > hi + 16)
		failf(&why, "jitter %u (x16), RFC 3550 A.8 over the timed pairs gives %u..%u",
		      stats.jitter, lo, hi);
	/* two samples: |D| of 640 and 800 units, so a jitter far from zero */
	if (stats.jitter < 16 * 40)
		failf(&why, "jitter %u (x16): the timed pairs were not sampled", stats.jitter);
out:
	report(tb,
	       "RTP loss, duplicates, reordering and jitter follow RFC 3550 A.1 and A.8 "
	       "(sampled pairs)",
	       &why);
}

/* The duplicate counter is 16 bits: it stops at its top, and loss stays right. */
static void run_rtp_duplicates_saturate(struct testbed *tb, struct case_buffers *buf)
{
	struct failure why = { .used = 0 };
	struct xt_rtp_stats stats = {
		.clock_hz = RTP_STATS_CLOCK_HZ,
		.ssrc = RTP_SSRC,
		.base_seq = 500,
		.max_seq = 509,
		.received = 10,
		.duplicates = XT_RTP_DUPLICATES_MAX - 1,
	};
	struct xt_rtp_quality q;
	__u32 index;
	size_t i;

	flow_index(XT_AF_INET, RELAY_V4, PORT_RTP_STATS, &index);
	if (bpf_map__update_elem(tb->skel->maps.xt_rtp_stats, &index, sizeof(index), &stats,
				 sizeof(stats), 0))
		failf(&why, "writing the statistics entry: %s", strerror(errno));
	/* 509 twice more: the first reaches the top, the second stays there; then 511 */
	for (i = 0; i < 3; i++) {
		__u16 seq = i < 2 ? 509 : 511;

		send_rtp_stats(tb, buf, seq, 100000u + 160u * seq, i + 1, &why);
	}
	if (!read_rtp_stats(tb, index, &stats, &why))
		goto out;
	if (stats.duplicates != XT_RTP_DUPLICATES_MAX || stats.received != 11)
		failf(&why, "duplicates %u received %u, expected %u 11", stats.duplicates,
		      stats.received, XT_RTP_DUPLICATES_MAX);
	/* 500..511 is 12 packets, 11 came (510 never): one lost, whatever the duplicates */
	if (!xt_rtp_quality(&stats, &q) || q.expected != 12 || q.lost != 1 ||
	    q.received != 11 + XT_RTP_DUPLICATES_MAX)
		failf(&why, "expected %llu lost %llu received %llu, wanted 12 1 %u",
		      (unsigned long long)q.expected, (unsigned long long)q.lost,
		      (unsigned long long)q.received, 11 + XT_RTP_DUPLICATES_MAX);
out:
	report(tb, "RTP duplicates stop at 65535 and do not hide a loss", &why);
}

/* ---- Set-up -------------------------------------------------------------- */

static enum mac_id device_mac_id(enum test_device device)
{
	return MAC_INGRESS_DEV + device;
}

static int device_mac(int ifindex, __u8 mac[ETH_ALEN])
{
	struct ifreq ifr = {};
	int fd, err = 0;

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	close(fd);
	return err;
}

/*
 * The entry of a test flow: its relay address goes into xt_relay_addrs (with
 * no slot unless the table above gives it one), its next hop into
 * xt_nexthops, as the controller would do.
 */
static int flow_entry(const struct testbed *tb, const struct flow_spec *spec, struct xt_flow *flow)
{
	__u8 entry_family = spec->entry_family ?: spec->family;
	int addrs_fd = bpf_map__fd(tb->skel->maps.xt_relay_addrs);
	struct xt_endpoint relay = { .family = entry_family };
	__u32 bucket, slot;
	int err;

	memset(flow, 0, sizeof(*flow));
	flow->flags = spec->flags;
	flow->dscp = spec->dscp;
	flow->family = entry_family;
	flow->relay_port = htons(spec->relay.port);
	flow->peer_port = htons(spec->peer.port);
	flow->src_port = htons(spec->source.port);
	addr_bytes(entry_family, spec->relay.addr, relay.addr);
	err = xt_relay_addr_bucket(addrs_fd, &relay, &bucket, &slot);
	if (err == -ENOENT)
		err = xt_relay_addr_set(addrs_fd, &relay, XT_SLOT_NONE) ?:
			      xt_relay_addr_bucket(addrs_fd, &relay, &bucket, &slot);
	if (err)
		return err;
	flow->relay_addr = (__u8)bucket;
	addr_bytes(entry_family, spec->peer.addr, flow->peer_addr);
	if (spec->source.addr)
		addr_bytes(entry_family, spec->source.addr, flow->src_addr);
	if (spec->flags & XT_FLOW_F_NEXTHOP) {
		struct xt_nexthop nh = { .ifindex = tb->ifindex[spec->nh_device] };

		memcpy(nh.smac, tb->macs[device_mac_id(spec->nh_device)], ETH_ALEN);
		memcpy(nh.dmac, tb->macs[spec->nh_dmac], ETH_ALEN);
		err = xt_nexthop_table_get(bpf_map__fd(tb->skel->maps.xt_nexthops), &nh,
					   &flow->nexthop);
	}
	return err;
}

static int fill_maps(struct testbed *tb)
{
	struct bpf_map *addrs = tb->skel->maps.xt_relay_addrs, *flow_map = tb->skel->maps.xt_flows;
	struct bpf_map *tx_ports = tb->skel->maps.xt_tx_ports;
	/* where the program runs, as attaching puts them in xt_tx_ports; not IFACE_UNATTACHED */
	const enum test_device attached[] = { IFACE_INGRESS, IFACE_EGRESS, IFACE_NO_FORWARD };
	struct xt_flow flow;
	size_t i;
	int err;

	for (i = 0; i < sizeof(relay_slots) / sizeof(relay_slots[0]); i++) {
		struct xt_endpoint relay = { .family = relay_slots[i].family };

		addr_bytes(relay.family, relay_slots[i].addr, relay.addr);
		err = xt_relay_addr_set(bpf_map__fd(addrs), &relay, relay_slots[i].slot);
		if (err) {
			fprintf(stderr, "relay address %s: %s\n", relay_slots[i].addr,
				strerror(-err));
			return err;
		}
	}
	for (i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		__u32 index;

		flow_index(flows[i].family, flows[i].family == XT_AF_INET ? RELAY_V4 : RELAY_V6,
			   flows[i].local_port, &index);
		err = flow_entry(tb, &flows[i], &flow) ?:
			      bpf_map__update_elem(flow_map, &index, sizeof(index), &flow,
						   sizeof(flow), 0);
		if (!err && (flows[i].flags & XT_FLOW_F_REVERSE)) {
			struct xt_flow_slow slow = { 0 };

			flow_index(flows[i].family,
				   flows[i].family == XT_AF_INET ? RELAY_V4 : RELAY_V6,
				   flows[i].reverse_port, &slow.reverse);
			err = bpf_map__update_elem(tb->skel->maps.xt_flows_slow, &index,
						   sizeof(index), &slow, sizeof(slow), 0);
		}
		if (err) {
			fprintf(stderr, "flow %u: %s\n", index, strerror(-err));
			return err;
		}
	}
	for (i = 0; i < sizeof(attached) / sizeof(attached[0]); i++) {
		__u32 ifindex = tb->ifindex[attached[i]];

		err = bpf_map__update_elem(tx_ports, &ifindex, sizeof(ifindex), &ifindex,
					   sizeof(ifindex), 0);
		if (err) {
			fprintf(stderr, "tx port %u: %s\n", ifindex, strerror(-err));
			return err;
		}
	}
	return 0;
}

static int load_relay(struct testbed *tb)
{
	int err;

	tb->skel = xtrunk_bpf__open();
	if (!tb->skel)
		return -errno;
	err = bpf_map__set_max_entries(tb->skel->maps.xt_flows, TEST_SLOTS * XT_PORTS_PER_SLOT) ?:
		      bpf_map__set_max_entries(tb->skel->maps.xt_rtp_stats, TEST_SLOTS * XT_PORTS_PER_SLOT) ?:
		      bpf_map__set_max_entries(tb->skel->maps.xt_flows_slow,
					       TEST_SLOTS * XT_PORTS_PER_SLOT);
	if (!err)
		err = xtrunk_bpf__load(tb->skel);
	if (err)
		return err;
	tb->prog_fd = bpf_program__fd(tb->skel->progs.xtrunk_relay);
	return fill_maps(tb);
}

static int parse_args(struct testbed *tb, int argc, char **argv)
{
	int i, err;

	if (argc != 1 + IFACE_COUNT) {
		fprintf(stderr,
			"usage: %s INGRESS EGRESS UNATTACHED NO_FORWARDING (ifindexes)\n"
			"run it through tests/pkt/run.sh, which builds the namespace\n",
			argv[0]);
		return -EINVAL;
	}
	for (i = 0; i < IFACE_COUNT; i++) {
		char *end;
		long ifindex = strtol(argv[1 + i], &end, 10);

		if (*end || ifindex <= 0) {
			fprintf(stderr, "%s ifindex: not a number: %s\n", iface_roles[i],
				argv[1 + i]);
			return -EINVAL;
		}
		tb->ifindex[i] = ifindex;
	}
	for (i = 0; i < IFACE_COUNT; i++) {
		err = device_mac(tb->ifindex[i], tb->macs[device_mac_id(i)]);
		if (err) {
			fprintf(stderr, "%s device (ifindex %d): %s\n", iface_roles[i],
				tb->ifindex[i], strerror(-err));
			return err;
		}
	}
	memcpy(tb->macs[MAC_PBX], pbx_mac, ETH_ALEN);
	memcpy(tb->macs[MAC_GATEWAY], gateway_mac, ETH_ALEN);
	memcpy(tb->macs[MAC_PBX_B], pbx_b_mac, ETH_ALEN);
	return 0;
}

/*
 * The library's walk of the flow table (xtrunkctl flow list, the scrape):
 * flows on both sides of the 4096-port blocks it reads at once come back in
 * port order, each exactly once, with the slow part (reverse flow) and the
 * RTP part (clock) only when asked for; removed flows are gone.
 */
#define WALK_ADDR "10.99.0.1"
static const __u16 walk_ports[] = { 1, 4095, 4096, 4097, 8191, 8192, 65535 };
#define WALK_FLOWS (sizeof(walk_ports) / sizeof(walk_ports[0]))

struct walk {
	unsigned int n;
	__u16 port[WALK_FLOWS + 1];
	__u32 clock[WALK_FLOWS + 1];
	bool reverse[WALK_FLOWS + 1];
};

static int walk_visit(const struct xt_flow_entry *entry, void *arg)
{
	struct walk *w = arg;
	struct xt_flow_spec spec;
	char local[XT_ENDPOINT_STRLEN];

	xt_flow_spec_from_entry(entry, &spec);
	xt_addr_format(spec.local.family, spec.local.addr, local, sizeof(local));
	if (strcmp(local, WALK_ADDR) || w->n > WALK_FLOWS)
		return 0;
	w->port[w->n] = spec.local.port;
	w->clock[w->n] = spec.rtp_clock_hz;
	w->reverse[w->n] = spec.has_reverse;
	w->n++;
	return 0;
}

static void walk_expect(struct failure *why, const char *what, const struct walk *w, bool parts)
{
	if (w->n != WALK_FLOWS) {
		failf(why, "%s: %u flows, expected %zu", what, w->n, WALK_FLOWS);
		return;
	}
	for (size_t i = 0; i < WALK_FLOWS; i++) {
		__u32 clock = parts && i % 2 ? 8000 : 0;
		bool reverse = parts && walk_ports[i] == 4096;

		if (w->port[i] != walk_ports[i] || w->clock[i] != clock || w->reverse[i] != reverse)
			failf(why, "%s: flow %zu: port %u clock %u reverse %d, expected %u %u %d",
			      what, i, w->port[i], w->clock[i], w->reverse[i], walk_ports[i], clock,
			      reverse);
	}
}

static void run_flow_walk(struct testbed *tb)
{
	struct failure why = { .used = 0 };
	struct walk w;
	struct xt_maps maps;
	char err[128];
	int rc;

	rc = xt_maps_from_object(&maps, tb->skel->obj);
	if (rc) {
		failf(&why, "maps: %s", strerror(-rc));
		goto out;
	}
	for (size_t i = 0; i < WALK_FLOWS; i++) {
		struct xt_flow_spec spec = { .dscp = 46 };
		char text[64];

		snprintf(text, sizeof(text), "%s:%u", WALK_ADDR, walk_ports[i]);
		xt_endpoint_parse(text, &spec.local, err, sizeof(err));
		xt_endpoint_parse("10.99.0.1:30000", &spec.relay, err, sizeof(err));
		snprintf(text, sizeof(text), "10.99.1.1:%u", 40000 + 2 * (unsigned int)i);
		xt_endpoint_parse(text, &spec.peer, err, sizeof(err));
		spec.has_src = true;
		xt_endpoint_parse("10.99.2.1:0", &spec.src, err, sizeof(err));
		spec.rtp_clock_hz = i % 2 ? 8000 : 0;
		if (walk_ports[i] == 4096) {
			spec.latch = true;
			spec.has_reverse = true;
			xt_endpoint_parse(WALK_ADDR ":4097", &spec.reverse, err, sizeof(err));
		}
		rc = xt_flow_add(&maps, &spec);
		if (rc)
			failf(&why, "adding %s: %s", text, strerror(-rc));
	}
	memset(&w, 0, sizeof(w));
	rc = xt_flow_foreach_parts(&maps, 0, walk_visit, &w);
	if (rc)
		failf(&why, "walk without parts: %s", strerror(-rc));
	walk_expect(&why, "walk without parts", &w, false);
	memset(&w, 0, sizeof(w));
	rc = xt_flow_foreach_parts(&maps, XT_FLOW_PART_SLOW | XT_FLOW_PART_RTP, walk_visit, &w);
	if (rc)
		failf(&why, "walk with both parts: %s", strerror(-rc));
	walk_expect(&why, "walk with both parts", &w, true);
	memset(&w, 0, sizeof(w));
	rc = xt_flow_foreach(&maps, walk_visit, &w);
	if (rc)
		failf(&why, "xt_flow_foreach: %s", strerror(-rc));
	walk_expect(&why, "xt_flow_foreach", &w, true);
	for (size_t i = 0; i < WALK_FLOWS; i++) {
		struct xt_endpoint local;
		char text[64];

		snprintf(text, sizeof(text), "%s:%u", WALK_ADDR, walk_ports[i]);
		xt_endpoint_parse(text, &local, err, sizeof(err));
		rc = xt_flow_del(&maps, &local, false);
		if (rc)
			failf(&why, "removing %s: %s", text, strerror(-rc));
	}
	memset(&w, 0, sizeof(w));
	xt_flow_foreach(&maps, walk_visit, &w);
	if (w.n)
		failf(&why, "after removing them the walk still finds %u flows", w.n);
out:
	report(tb,
	       "the flow table walk: every flow once, in port order across 4096-port blocks, "
	       "parts only when asked for",
	       &why);
}

/* The mapped flow table (xtrunkd's activity poll) shows what the flow's map entry does. */
static void run_flow_view(struct testbed *tb, struct case_buffers *buf)
{
	struct failure why = { .used = 0 };
	struct xt_flow_view view = { 0 };
	struct xt_maps maps;
	struct xt_flow flow;
	struct timespec t;
	struct xt_flow_counters c;
	struct xt_rtp_stats rtp, rtp_map;
	uint64_t before, after;
	__u32 index;
	int rc;

	flow_index(XT_AF_INET, RELAY_V4, PORT_RTP_STATS, &index);
	rc = xt_maps_from_object(&maps, tb->skel->obj);
	if (rc) {
		failf(&why, "maps: %s", strerror(-rc));
		goto out;
	}
	xt_flow_view_init(&maps, &view);
	clock_gettime(CLOCK_MONOTONIC, &t);
	before = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
	send_rtp_stats(tb, buf, 700, 100000u, 1, &why);
	clock_gettime(CLOCK_MONOTONIC, &t);
	after = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
	if (bpf_map__lookup_elem(tb->skel->maps.xt_flows, &index, sizeof(index), &flow,
				 sizeof(flow), 0)) {
		failf(&why, "reading the flow: %s", strerror(errno));
		goto out_view;
	}
	rc = xt_flow_view_counters(&view, index, &c);
	if (rc) {
		failf(&why, "counters of the flow: %s", strerror(-rc));
		goto out_view;
	}
	/* a slot is mapped when one of its flows is first read, and only then */
	for (__u32 slot = 0, mapped = 0; slot < XT_MAX_SLOTS; slot++) {
		mapped += view.flows[slot] != NULL;
		if (slot == XT_MAX_SLOTS - 1 && (mapped != 1 || !view.flows[index / 65536]))
			failf(&why, "%u slots mapped after reading one flow, wanted its own only",
			      mapped);
	}
	if (c.packets != flow.packets || !c.packets || c.bytes != flow.bytes)
		failf(&why, "the view says %llu packets %llu bytes, the map %u %llu",
		      (unsigned long long)c.packets, (unsigned long long)c.bytes, flow.packets,
		      (unsigned long long)flow.bytes);
	/* the data path's clock is read once a jiffy (up to 10 ms at HZ=100) */
	if (c.last_seen_ns + 10000000ull < before || c.last_seen_ns > after)
		failf(&why, "last seen %llu ns, the packet went through between %llu and %llu",
		      (unsigned long long)c.last_seen_ns, (unsigned long long)before,
		      (unsigned long long)after);
	if (xt_flow_view_rtp(&view, index, &rtp) ||
	    bpf_map__lookup_elem(tb->skel->maps.xt_rtp_stats, &index, sizeof(index), &rtp_map,
				 sizeof(rtp_map), 0) ||
	    memcmp(&rtp, &rtp_map, sizeof(rtp)) || rtp.max_seq % 65536 != 700)
		failf(&why, "the view's RTP statistics differ from the map's, or miss seq 700");
	/* slot 0, port 0: never a flow */
	if (xt_flow_view_counters(&view, 0, &c) != -ENOENT)
		failf(&why, "an empty entry reads as an active flow");
out_view:
	xt_flow_view_close(&view);
	xt_maps_close(&maps);
out:
	report(tb,
	       "the mapped flow table gives a flow's counters, last-seen time and RTP statistics",
	       &why);
}

int main(int argc, char **argv)
{
	struct testbed tb = { .prog_fd = -1 };
	struct case_buffers *buf = NULL;
	int err;
	size_t i;

	err = parse_args(&tb, argc, argv);
	if (err)
		return 2;
	tb.ncpus = libbpf_num_possible_cpus();
	if (tb.ncpus <= 0) {
		fprintf(stderr, "possible CPUs: %s\n", strerror(-tb.ncpus));
		return 2;
	}
	tb.percpu = calloc(tb.ncpus, sizeof(__u64));
	buf = malloc(sizeof(*buf));
	if (!tb.percpu || !buf) {
		err = -ENOMEM;
		goto out;
	}
	err = load_relay(&tb);
	if (err) {
		fprintf(stderr, "loading the relay: %s\n", strerror(-err));
		goto out;
	}

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&tb, &cases[i], buf);
	run_flow_counters(&tb, buf);
	run_lease(&tb, buf);
	run_nat_latching(&tb, buf);
	run_latch_reverse(&tb, buf);
	run_relatch(&tb, buf);
	run_rtp_stats(&tb, buf);
	run_rtp_duplicates_saturate(&tb, buf);
	run_rtcp_mux(&tb, buf);
	run_flow_walk(&tb);
	run_flow_view(&tb, buf);
	for (i = 0; i < sizeof(truncation_cases) / sizeof(truncation_cases[0]); i++)
		run_truncations(&tb, &truncation_cases[i], buf);

	printf("packets: %d passed, %d failed\n", tb.passed, tb.failed);
out:
	xtrunk_bpf__destroy(tb.skel);
	free(buf);
	free(tb.percpu);
	if (err)
		return 2;
	return tb.failed ? 1 : 0;
}
