/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Many flows at once: one bpf_map_update_batch system call per
 * XT_FLOW_BATCH_SIZE flows instead of one map update (and one address-slot
 * lookup) per flow, for a controller that installs or removes thousands of
 * flows together (start-up, restart, a mass hang-up) and for the flow-scale
 * benchmark.
 */
#ifndef XTRUNK_FLOW_BATCH_H
#define XTRUNK_FLOW_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "flow_table.h"

#define XT_FLOW_BATCH_SIZE 8192u

/*
 * Install n flows. Unlike xt_flow_add, a flow already at a spec's local
 * endpoint is replaced, not refused: the caller owns those ports (it checks
 * first when it has to). Specs must be valid (xt_flow_spec_validate).
 * Returns 0 or -errno; *done says how many were installed, in order.
 */
int xt_flow_add_batch(const struct xt_maps *maps, const struct xt_flow_spec *specs, size_t n,
		      size_t *done);

/* Remove the flows at n local endpoints; an endpoint with no flow is not an error. */
int xt_flow_del_batch(const struct xt_maps *maps, const struct xt_endpoint *locals, size_t n,
		      size_t *done);

/*
 * Kernel memory the flow table is charged for: the maps with an entry per
 * flow (flows, their slow part, RTP statistics), not the small fixed tables.
 */
struct xt_flow_table_memory {
	uint64_t flows_bytes;	   /* memlock of xt_flows */
	uint64_t rtp_stats_bytes;  /* memlock of xt_rtp_stats */
	uint64_t flows_slow_bytes; /* memlock of xt_flows_slow (drops, reverse flow) */
	uint32_t capacity;	   /* entries (slots * 65536) */
	uint32_t flow_value_size, flow_slow_value_size, rtp_stats_value_size;
};

int xt_flow_table_memory(const struct xt_maps *maps, struct xt_flow_table_memory *mem);

#endif
