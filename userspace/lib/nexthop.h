/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Next-hop resolution over rtnetlink: the route from a relay address to a
 * peer, and the neighbour's link-layer address on that route's device. The
 * result is cached in the flow so that XDP needs no FIB lookup per packet.
 */
#ifndef XTRUNK_NEXTHOP_H
#define XTRUNK_NEXTHOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"

struct xt_nexthop {
	uint32_t ifindex;
	uint8_t smac[6];
	uint8_t dmac[6];
	/* the neighbour the MACs belong to (the gateway, or the peer on-link), set
	 * by xt_nexthop_resolve; family 0 for a next hop given by hand */
	uint8_t family;
	uint8_t neigh[16];
};

/*
 * Resolve the next hop for packets from relay to peer, in the caller's
 * network namespace. Returns 0; -ENETUNREACH when no route; -EAGAIN when the
 * route's neighbour has no valid link-layer address yet; other -errno.
 */
int xt_nexthop_resolve(const struct xt_endpoint *relay, const struct xt_endpoint *peer,
		       struct xt_nexthop *nh);

/*
 * Next hops resolved for (relay address, peer address), for a controller that
 * follows route, neighbour and link changes (xt_nexthop_monitor_open below)
 * and empties the cache on any of them. A call's four flows go to two peers,
 * and most calls to the same few. Zeroed: empty.
 */
#define XT_NEXTHOP_CACHE 64

struct xt_nexthop_cache {
	struct xt_nexthop_cached {
		struct xt_endpoint relay, peer; /* addresses only: routes do not look at ports */
		struct xt_nexthop nexthop;
		bool valid;
	} slots[XT_NEXTHOP_CACHE];
	unsigned int hits, misses;
};

/*
 * xt_nexthop_resolve through the cache. Only resolved next hops are kept: an
 * unresolved neighbour is asked again.
 */
int xt_nexthop_cache_resolve(struct xt_nexthop_cache *cache, const struct xt_endpoint *relay,
			     const struct xt_endpoint *peer, struct xt_nexthop *nh);
/* Forget every entry (a route, neighbour or link changed); the counts stay. */
void xt_nexthop_cache_clear(struct xt_nexthop_cache *cache);

/*
 * The shared next-hop table (map xt_nexthops, see xtrunk_abi.h): the index
 * of nh's entry, entered on first use. A resolved next hop whose neighbour
 * has an entry updates that entry with its MACs. -ENOSPC: table full around
 * its hash.
 */
int xt_nexthop_table_get(int map_fd, const struct xt_nexthop *nh, uint16_t *index);

/*
 * A neighbour changed (rtnetlink RTM_NEWNEIGH / RTM_DELNEIGH): the entry for
 * (family, addr) on ifindex takes mac, or, with mac NULL (gone, failed), is
 * marked unresolved so that the data path falls back to the FIB. *changed
 * counts entries rewritten. No entry for it: nothing to do.
 */
int xt_nexthop_table_neigh(int map_fd, uint8_t family, const uint8_t *addr, uint32_t ifindex,
			   const uint8_t *mac, unsigned int *changed);

/*
 * Re-resolve every entry (a route or link changed): device MAC and
 * neighbour. oif 0: all devices, otherwise only entries on that device.
 */
int xt_nexthop_table_refresh(int map_fd, uint32_t oif, unsigned int *changed);

/*
 * The kernel's route, neighbour and link changes (rtnetlink multicast
 * groups), for a controller to keep the table current: a non-blocking
 * socket to poll; read it with xt_nexthop_monitor_read when readable.
 */
int xt_nexthop_monitor_open(void);

struct xt_nexthop_events {
	unsigned int neighbours, routes, links; /* events seen */
	unsigned int lost;			/* times the socket overflowed: events lost */
	unsigned int changed;			/* next-hop entries rewritten */
};

/* Drain the socket, applying what changed to the table at map_fd; adds to *ev. */
int xt_nexthop_monitor_read(int nl_fd, int map_fd, struct xt_nexthop_events *ev);

/* Nonzero for a neighbour state whose link-layer address can be used. */
int xt_neigh_state_usable(uint16_t state);

#endif
