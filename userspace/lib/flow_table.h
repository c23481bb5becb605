/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow table: one entry per media direction, at (relay address slot,
 * local port). Relay addresses get their slot on first use and keep it.
 */
#ifndef XTRUNK_FLOW_TABLE_H
#define XTRUNK_FLOW_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "xtrunk_abi.h"
#include "endpoint.h"
#include "nexthop.h"
#include "relay_maps.h"

#define XT_DEFAULT_DSCP 46 /* EF, RFC 3246: what voice is marked with */

/* "A UDP packet that arrives at local (from src) leaves from relay to peer." */
struct xt_flow_spec {
	struct xt_endpoint local;
	struct xt_endpoint peer;
	struct xt_endpoint relay;
	struct xt_endpoint src; /* valid when has_src; src.port 0: any port */
	bool has_src;
	bool latch; /* with has_src and src.port 0: learn the port from the first packet */
	uint32_t rtp_clock_hz; /* an RTP flow: track its quality with this timestamp rate */
	uint8_t dscp;
	struct xt_nexthop nexthop; /* valid when has_nexthop */
	bool has_nexthop;
};

/* A flow as read back from the table. */
struct xt_flow_entry {
	struct xt_endpoint local;
	struct xt_flow flow;
	struct xt_rtp_stats rtp; /* meaningful with XT_FLOW_F_RTP_STATS */
};

/* RTP quality of a flow, derived from its statistics (RFC 3550 A.3, A.8). */
struct xt_rtp_quality {
	uint32_t ssrc;
	uint64_t expected, lost, received, duplicates, reordered;
	double loss_fraction; /* lost / expected */
	double jitter_ms;
	double mos; /* E-model (ITU-T G.107, simplified) for G.711 */
};

/* false when the flow has seen no RTP yet. */
bool xt_rtp_quality(const struct xt_rtp_stats *stats, struct xt_rtp_quality *q);

/*
 * Checks a spec for what the data path cannot do (mixed families, DSCP > 63,
 * port 0). Returns 0 or -EINVAL with the reason in err.
 */
int xt_flow_spec_validate(const struct xt_flow_spec *spec, char *err, size_t errlen);

/* -EEXIST: a flow is already installed at spec->local; -ENOSPC: no free address slot. */
int xt_flow_add(const struct xt_maps *maps, const struct xt_flow_spec *spec);
/* -ENOENT: no flow at local. */
int xt_flow_del(const struct xt_maps *maps, const struct xt_endpoint *local);
int xt_flow_get(const struct xt_maps *maps, const struct xt_endpoint *local,
		struct xt_flow_entry *entry);

typedef int (*xt_flow_visit_fn)(const struct xt_flow_entry *entry, void *arg);
/* Calls visit for each installed flow, in (address, port) order; stops on non-zero. */
int xt_flow_foreach(const struct xt_maps *maps, xt_flow_visit_fn visit, void *arg);

void xt_flow_spec_from_entry(const struct xt_flow_entry *entry, struct xt_flow_spec *spec);

#endif
