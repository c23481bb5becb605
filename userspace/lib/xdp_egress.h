/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Whether XDP may transmit frames to an interface. A veth hands a frame that
 * XDP sends into it (redirect or XDP_TX) straight to its peer's NAPI
 * instance, and the peer has one only with an XDP program of its own or GRO
 * on; otherwise the kernel drops every such frame after the relay counted it
 * as relayed. The kernel states the result in the device's XDP features
 * (NETDEV_XDP_ACT_NDO_XMIT on a veth reflects its peer, drivers/net/veth.c
 * veth_set_xdp_features), which the netdev generic netlink family reports in
 * our own namespace; the peer itself, often in a container's namespace, is
 * looked up only to name it in the message.
 */
#ifndef XTRUNK_XDP_EGRESS_H
#define XTRUNK_XDP_EGRESS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xt_egress {
	bool veth;	/* only veths are checked; other drivers are trusted as before */
	bool known;	/* the kernel answered; false: cannot check, assume it can */
	bool capable;	/* XDP may transmit frames to the device */
	bool peer_napi; /* with veth and known: the peer has NAPI (XDP program or GRO) */
	uint32_t peer_ifindex;
	int peer_nsid; /* the peer's namespace as our namespace numbers it; -1: ours */
	char peer_name[IF_NAMESIZE]; /* "" when it could not be named */
	char peer_netns[64];   /* name under /run/netns, or /proc/PID/ns/net; "" ours/unknown */
	bool peer_netns_found; /* false: in another namespace that was not found */
};

/*
 * Fill e for the device ifindex in the caller's namespace. Returns 0 (e says
 * what is known) or -errno when the device itself cannot be read.
 */
int xt_egress_check(uint32_t ifindex, struct xt_egress *e);

/* Why XDP may not transmit to it, for a status line: "veth peer eth0 has no NAPI (...)". */
void xt_egress_reason(const struct xt_egress *e, char *buf, size_t len);

/*
 * The warning for a device XDP may not transmit to: what is wrong, its
 * consequence (the caller's words: what happens to media for it instead) and
 * the fix, as one line.
 */
void xt_egress_warning(const char *ifname, const struct xt_egress *e, const char *consequence,
		       char *buf, size_t len);

#endif
