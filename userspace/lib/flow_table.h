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
#include "rtp_quality.h"

#define XT_DEFAULT_DSCP 46 /* EF, RFC 3246: what voice is marked with */

/* "A UDP packet that arrives at local (from src) leaves from relay to peer." */
struct xt_flow_spec {
	struct xt_endpoint local;
	struct xt_endpoint peer;
	struct xt_endpoint relay;
	struct xt_endpoint src; /* valid when has_src; src.port 0: any port */
	bool has_src;
	bool latch; /* with has_src and src.port 0: learn the port from the first packet */
	/* with latch: the flow whose local endpoint is reverse (the other
	 * direction of the stream) then sends to the latched port (symmetric
	 * RTP); it needs no flow there yet, only the same family */
	bool has_reverse;
	struct xt_endpoint reverse;
	uint32_t rtp_clock_hz; /* an RTP flow: track its quality with this timestamp rate */
	uint8_t dscp;
	struct xt_nexthop nexthop; /* valid when has_nexthop */
	bool has_nexthop;
	/* xtrunkd's (XT_FLOW_F_OWNED): under its lease, and only it removes it */
	bool owned;
};

/* A flow's flags and counters, widened from the map's compact entry. */
struct xt_flow_state {
	uint32_t flags; /* XT_FLOW_F_* */
	uint8_t dscp;
	uint8_t family;
	uint64_t packets;
	uint64_t bytes;
	uint64_t src_drops;    /* packets dropped by the source check */
	uint64_t last_seen_ns; /* CLOCK_MONOTONIC of the last relayed packet (~1 ms); 0: none */
};

/* A flow as read back from the table. */
struct xt_flow_entry {
	struct xt_endpoint local;
	struct xt_flow_state flow;
	/* what it does now: a latched source port shows in src, and in the
	 * reverse flow's peer */
	struct xt_flow_spec spec;
	uint32_t index;		 /* in xt_flows */
	struct xt_rtp_stats rtp; /* meaningful with XT_FLOW_F_RTP_STATS */
};

/*
 * The map entries of a spec, for writers of many flows (flow_batch.c): the
 * relay address, the next hop and the reverse flow's slot are entered in
 * their tables on the way. Keep one encoder for a run of specs: it caches
 * what consecutive flows share.
 */
struct xt_flow_encoder {
	const struct xt_maps *maps;
	struct xt_endpoint relay; /* the last relay address and its bucket */
	uint32_t relay_bucket;
	bool relay_valid;
	struct xt_nexthop nexthop; /* the last next hop and its index */
	uint16_t nexthop_index;
	bool nexthop_valid;
};

void xt_flow_encoder_init(struct xt_flow_encoder *enc, const struct xt_maps *maps);
int xt_flow_encode(struct xt_flow_encoder *enc, const struct xt_flow_spec *spec,
		   struct xt_flow *flow, struct xt_flow_slow *slow);

/*
 * Checks a spec for what the data path cannot do (mixed families, DSCP > 63,
 * port 0). Returns 0 or -EINVAL with the reason in err.
 */
int xt_flow_spec_validate(const struct xt_flow_spec *spec, char *err, size_t errlen);

/* -EEXIST: a flow is already installed at spec->local; -ENOSPC: no free address slot. */
int xt_flow_add(const struct xt_maps *maps, const struct xt_flow_spec *spec);
/*
 * xt_flow_add over a flow of the same owner (spec->owned) at spec->local;
 * -EPERM: the flow there is the other owner's (xtrunkd's, or added by hand).
 */
int xt_flow_replace(const struct xt_maps *maps, const struct xt_flow_spec *spec);
/*
 * Removes the flow at local if owned says whose it is: -ENOENT: no flow
 * there; -EPERM: the other owner's. One writer never removes another's flows.
 */
int xt_flow_del(const struct xt_maps *maps, const struct xt_endpoint *local, bool owned);
int xt_flow_get(const struct xt_maps *maps, const struct xt_endpoint *local,
		struct xt_flow_entry *entry);

typedef int (*xt_flow_visit_fn)(const struct xt_flow_entry *entry, void *arg);
/*
 * Calls visit for each installed flow, in (address, port) order; stops on
 * non-zero. A walk reads in bulk: a per-flow map that is mmapable (xt_flows
 * is) through a mapping, the others in one bpf(2) call per 4096 ports that
 * hold flows, so it makes a few calls to the kernel, not one per flow.
 */
int xt_flow_foreach(const struct xt_maps *maps, xt_flow_visit_fn visit, void *arg);

/* What a walk reads besides each flow's own entry. */
#define XT_FLOW_PART_SLOW (1u << 0) /* flow.src_drops, spec.reverse (xt_flows_slow) */
#define XT_FLOW_PART_RTP (1u << 1)  /* rtp, spec.rtp_clock_hz (xt_rtp_stats) */

/*
 * xt_flow_foreach reading only the parts asked for (XT_FLOW_PART_*): the
 * fields of the others are zero. For callers after counters (metrics), which
 * should not pay for what they do not show.
 */
int xt_flow_foreach_parts(const struct xt_maps *maps, unsigned int parts, xt_flow_visit_fn visit,
			  void *arg);

void xt_flow_spec_from_entry(const struct xt_flow_entry *entry, struct xt_flow_spec *spec);

/* Where the flow at local sits in the per-flow maps; -ENOENT: local's address has no slot. */
int xt_flow_index(const struct xt_maps *maps, const struct xt_endpoint *local, uint32_t *index);

/*
 * The per-flow maps (xt_flows, xt_flows_slow, xt_rtp_stats) mapped
 * read-only: a flow's counters read with no bpf(2) call. xtrunkd polls every
 * call's flows each second (media timeouts) and reads them again when a call
 * ends; with xt_flow_get that was six calls a flow. A slot's entries are
 * mapped when one of its flows is first read: the kernel maps a region's
 * pages all at once, and they count in the reader's RSS (as RssFile).
 */
struct xt_flow_view {
	int flows_fd, slow_fd, rtp_fd; /* the maps', not owned */
	uint32_t nslots;
	const struct xt_flow *flows[XT_MAX_SLOTS]; /* NULL: that slot not mapped yet */
	const struct xt_flow_slow *slow[XT_MAX_SLOTS];
	const struct xt_rtp_stats *rtp[XT_MAX_SLOTS];
};

/* Nothing is mapped yet; the maps must stay open while the view is used. */
void xt_flow_view_init(const struct xt_maps *maps, struct xt_flow_view *view);
void xt_flow_view_close(struct xt_flow_view *view);

struct xt_flow_counters {
	uint64_t packets, bytes, src_drops;
	uint64_t last_seen_ns; /* CLOCK_MONOTONIC of the last relayed packet; 0: never */
};

/* The counters of the active flow at index; -ENOENT when no flow is there. */
int xt_flow_view_counters(struct xt_flow_view *view, uint32_t index,
			  struct xt_flow_counters *counters);
/*
 * The source port XDP latched the flow at index to, and when it last relayed
 * (last_seen_ns, 0: never); -EAGAIN: a latching flow not latched yet;
 * -ENOENT: no flow there, or one that does not latch.
 */
int xt_flow_view_latched(struct xt_flow_view *view, uint32_t index, uint16_t *port,
			 uint64_t *last_seen_ns);
/* Its RTP statistics, as the data path has them now; -ENOENT without a flow or statistics. */
int xt_flow_view_rtp(struct xt_flow_view *view, uint32_t index, struct xt_rtp_stats *rtp);

#endif
