/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Next-hop resolution over rtnetlink: the route from a relay address to a
 * peer, and the neighbour's link-layer address on that route's device. The
 * result is cached in the flow so that XDP needs no FIB lookup per packet.
 */
#ifndef XTRUNK_NEXTHOP_H
#define XTRUNK_NEXTHOP_H

#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"

struct xt_nexthop {
	uint32_t ifindex;
	uint8_t smac[6];
	uint8_t dmac[6];
};

/*
 * Resolve the next hop for packets from relay to peer, in the caller's
 * network namespace. Returns 0; -ENETUNREACH when no route; -EAGAIN when the
 * route's neighbour has no valid link-layer address yet; other -errno.
 */
int xt_nexthop_resolve(const struct xt_endpoint *relay, const struct xt_endpoint *peer,
		       struct xt_nexthop *nh);

#endif
