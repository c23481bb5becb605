// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdio.h>
#include <string.h>

#include "flow_json.h"
#include "rtp_quality.h"

void xt_flow_text(const struct xt_flow_entry *entry, struct xt_flow_text *text)
{
	struct xt_flow_spec *spec = &text->spec;

	memset(text, 0, sizeof(*text));
	xt_flow_spec_from_entry(entry, spec);
	xt_endpoint_format(&spec->local, text->local, sizeof(text->local));
	xt_endpoint_format(&spec->peer, text->to, sizeof(text->to));
	xt_endpoint_format(&spec->relay, text->via, sizeof(text->via));
	if (spec->has_src) {
		xt_endpoint_format(&spec->src, text->from, sizeof(text->from));
		if (!spec->src.port) /* address-only check: any port */
			strcpy(strrchr(text->from, ':') + 1, "*");
	}
	if (spec->has_reverse)
		xt_endpoint_format(&spec->reverse, text->reverse, sizeof(text->reverse));
	if (spec->has_nexthop) {
		const uint8_t *m = spec->nexthop.dmac;

		if (!if_indextoname(spec->nexthop.ifindex, text->nexthop_dev))
			snprintf(text->nexthop_dev, sizeof(text->nexthop_dev), "if%u",
				 spec->nexthop.ifindex);
		snprintf(text->nexthop_mac, sizeof(text->nexthop_mac),
			 "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	}
}

void xt_rtp_quality_json(struct json_writer *w, const struct xt_flow_entry *entry,
			 unsigned int flags)
{
	struct xt_rtp_quality q;

	if (!(entry->flow.flags & XT_FLOW_F_RTP_STATS)) {
		jsonw_null_field(w, "rtp");
		return;
	}
	jsonw_name(w, "rtp");
	jsonw_start_object(w);
	jsonw_uint_field(w, "clock_hz", entry->rtp.clock_hz);
	if (xt_rtp_quality(&entry->rtp, &q)) {
		jsonw_uint_field(w, "ssrc", q.ssrc);
		jsonw_uint_field(w, "expected", q.expected);
		jsonw_uint_field(w, "received", q.received);
		jsonw_uint_field(w, "lost", q.lost);
		jsonw_uint_field(w, "duplicates", q.duplicates);
		jsonw_uint_field(w, "reordered", q.reordered);
		if (flags & XT_RTP_JSON_JITTER)
			jsonw_uint_field(w, "jitter", entry->rtp.jitter >> 4);
		/* decimals as numbers, fixed precision */
		jsonw_fixed_field(w, "jitter_ms", 3, q.jitter_ms);
		jsonw_fixed_field(w, "mos", 2, q.mos);
	}
	jsonw_end_object(w);
}

static void optional_string_field(struct json_writer *w, const char *name, bool present,
				  const char *value)
{
	if (present)
		jsonw_string_field(w, name, value);
	else
		jsonw_null_field(w, name);
}

void xt_flow_json(struct json_writer *w, const struct xt_flow_entry *entry, uint64_t now_ns)
{
	const struct xt_flow_state *flow = &entry->flow;
	struct xt_flow_text t;

	xt_flow_text(entry, &t);
	jsonw_start_object(w);
	jsonw_string_field(w, "local", t.local);
	jsonw_string_field(w, "to", t.to);
	jsonw_string_field(w, "via", t.via);
	optional_string_field(w, "from", t.spec.has_src, t.from);
	jsonw_bool_field(w, "latch", t.spec.latch);
	optional_string_field(w, "reverse", t.spec.has_reverse, t.reverse);
	jsonw_uint_field(w, "dscp", flow->dscp);
	jsonw_string_field(w, "owner", t.spec.owned ? "xtrunkd" : "manual");
	jsonw_uint_field(w, "packets", flow->packets);
	jsonw_uint_field(w, "bytes", flow->bytes);
	jsonw_uint_field(w, "drops", flow->src_drops);
	if (flow->last_seen_ns)
		jsonw_uint_field(
			w, "idle_ms",
			now_ns > flow->last_seen_ns ? (now_ns - flow->last_seen_ns) / 1000000 : 0);
	else
		jsonw_null_field(w, "idle_ms");
	xt_rtp_quality_json(w, entry, XT_RTP_JSON_JITTER);
	if (t.spec.has_nexthop) {
		jsonw_name(w, "nexthop");
		jsonw_start_object(w);
		jsonw_string_field(w, "dev", t.nexthop_dev);
		jsonw_uint_field(w, "ifindex", t.spec.nexthop.ifindex);
		jsonw_string_field(w, "lladdr", t.nexthop_mac);
		jsonw_end_object(w);
	} else {
		jsonw_null_field(w, "nexthop");
	}
	jsonw_end_object(w);
}
