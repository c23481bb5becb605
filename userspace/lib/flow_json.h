/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A flow and its RTP quality as JSON, written one way for every reader:
 * xtrunkctl flow {list,show,add} -j and the flows of xtrunkd's call show.
 */
#ifndef XTRUNK_FLOW_JSON_H
#define XTRUNK_FLOW_JSON_H

#include <net/if.h>
#include <stdint.h>

#include "flow_table.h"
#include "json_writer.h"

/* A flow's fields as text, for the JSON below and xtrunkctl's prose alike. */
struct xt_flow_text {
	struct xt_flow_spec spec;
	char local[XT_ENDPOINT_STRLEN], to[XT_ENDPOINT_STRLEN], via[XT_ENDPOINT_STRLEN];
	char from[XT_ENDPOINT_STRLEN];	  /* with spec.has_src; port 0 (any) written "*" */
	char reverse[XT_ENDPOINT_STRLEN]; /* with spec.has_reverse */
	char nexthop_dev[IF_NAMESIZE];	  /* with spec.has_nexthop: its name, or "ifN" */
	char nexthop_mac[18];
};

void xt_flow_text(const struct xt_flow_entry *entry, struct xt_flow_text *text);

/*
 * XT_RTP_JSON_JITTER: also "jitter", RFC 3550's interarrival jitter in RTP
 * timestamp units, which xtrunkctl's flow objects have always carried and
 * xtrunkd's call show never has.
 */
#define XT_RTP_JSON_JITTER 0x1u

/*
 * "rtp": the flow's call quality; null when it tracks none, {"clock_hz"}
 * alone before its first packet.
 */
void xt_rtp_quality_json(struct json_writer *w, const struct xt_flow_entry *entry,
			 unsigned int flags);

/*
 * One flow as an object: local, to, via, from, latch, reverse, dscp,
 * counters, idle_ms (now_ns: CLOCK_MONOTONIC), rtp (with "jitter") and nexthop.
 */
void xt_flow_json(struct json_writer *w, const struct xt_flow_entry *entry, uint64_t now_ns);

#endif
