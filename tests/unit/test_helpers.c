// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of the library's small helpers: FNV-1a, address lengths, MOS, flow JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xtrunk_abi.h"
#include "clock.h"
#include "endpoint.h"
#include "flow_json.h"
#include "hash.h"
#include "rtp_quality.h"
#include "unit.h"

static void fnv1a_is(const char *text, uint32_t expected)
{
	uint32_t h = xt_fnv1a(XT_FNV1A_INIT, text, strlen(text));
	char what[96], detail[32];

	snprintf(what, sizeof(what), "FNV-1a of \"%s\" is 0x%08x", text, expected);
	snprintf(detail, sizeof(detail), "0x%08x", h);
	expect(h == expected, what, detail);
}

static void test_hash(void)
{
	/* the published 32-bit FNV-1a test vectors */
	fnv1a_is("", 0x811c9dc5u);
	fnv1a_is("a", 0xe40c292cu);
	fnv1a_is("foobar", 0xbf9cf968u);
	expect(xt_fnv1a(xt_fnv1a(XT_FNV1A_INIT, "foo", 3), "bar", 3) == 0xbf9cf968u,
	       "FNV-1a chained over two fields equals FNV-1a of both at once", "differs");
	expect(xt_addr_len(XT_AF_INET) == 4 && xt_addr_len(XT_AF_INET6) == 16,
	       "an IPv4 address is 4 bytes, an IPv6 one 16", "wrong length");
}

static void mos_is(double loss_percent, double jitter_ms, const char *expected)
{
	char what[96], got[16];

	snprintf(got, sizeof(got), "%.2f", xt_emodel_mos(loss_percent, jitter_ms));
	snprintf(what, sizeof(what), "MOS at %.0f%% loss and %.0f ms jitter is %s", loss_percent,
		 jitter_ms, expected);
	expect(!strcmp(got, expected), what, got);
}

static void test_mos(void)
{
	struct xt_rtp_stats none = { .clock_hz = 8000 };
	struct xt_rtp_quality q;

	mos_is(0, 0, "4.40");
	mos_is(2, 5, "4.21");
	mos_is(10, 20, "3.34");
	mos_is(100, 0, "1.16");
	mos_is(0, 200, "2.91");
	expect(!xt_rtp_quality(&none, &q), "no RTP received: no quality", "quality given");
}

/* The writer's output for one call of write, as a string. */
static char *json_of(void (*write)(struct json_writer *w, const struct xt_flow_entry *e),
		     const struct xt_flow_entry *entry)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct json_writer *w = jsonw_new(out, false);

	jsonw_start_object(w);
	write(w, entry);
	jsonw_end_object(w);
	jsonw_destroy(&w);
	fclose(out);
	return buf;
}

static void write_flow(struct json_writer *w, const struct xt_flow_entry *e)
{
	jsonw_name(w, "flow");
	xt_flow_json(w, e, e->flow.last_seen_ns + 1500000000ull);
}

static void write_rtp_ctl(struct json_writer *w, const struct xt_flow_entry *e)
{
	xt_rtp_quality_json(w, e, XT_RTP_JSON_JITTER);
}

static void write_rtp_daemon(struct json_writer *w, const struct xt_flow_entry *e)
{
	xt_rtp_quality_json(w, e, 0);
}

static void json_is(const char *what, char *got, const char *expected)
{
	expect(got && !strcmp(got, expected), what, got ? got : "(nothing)");
	free(got);
}

static void endpoint(const char *text, struct xt_endpoint *ep)
{
	char err[128];

	if (xt_endpoint_parse(text, ep, err, sizeof(err)))
		expect(0, text, err);
}

/* An RTP flow that latched, with a next hop on lo and 2% loss. */
static void flow_entry(struct xt_flow_entry *e)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };

	memset(e, 0, sizeof(*e));
	endpoint("10.0.0.1:5004", &e->spec.local);
	endpoint("192.0.2.10:4000", &e->spec.peer);
	endpoint("10.0.1.1:30000", &e->spec.relay);
	endpoint("192.0.2.10:0", &e->spec.src);
	endpoint("10.0.0.1:5006", &e->spec.reverse);
	e->spec.has_src = e->spec.latch = e->spec.has_reverse = true;
	e->spec.has_nexthop = true;
	e->spec.nexthop.ifindex = 1; /* lo, in any network namespace */
	memcpy(e->spec.nexthop.dmac, mac, 6);
	e->local = e->spec.local;
	e->flow = (struct xt_flow_state){ .flags = XT_FLOW_F_ACTIVE | XT_FLOW_F_RTP_STATS,
					  .dscp = 46,
					  .packets = 100,
					  .bytes = 17200,
					  .src_drops = 2,
					  .last_seen_ns = xt_monotonic_ns() };
	e->rtp = (struct xt_rtp_stats){ .clock_hz = 8000,
					.ssrc = 0x1234,
					.base_seq = 100,
					.max_seq = 199,
					.received = 98,
					.duplicates = 1,
					.reordered = 3,
					.jitter = 40 << 4 };
}

static void test_flow_json(void)
{
	struct xt_flow_entry e;

	flow_entry(&e);
	json_is("flow JSON is exact: addresses, latch, counters, idle, RTP with jitter, next hop",
		json_of(write_flow, &e),
		"{\"flow\":{\"local\":\"10.0.0.1:5004\",\"to\":\"192.0.2.10:4000\","
		"\"via\":\"10.0.1.1:30000\",\"from\":\"192.0.2.10:*\",\"latch\":true,"
		"\"reverse\":\"10.0.0.1:5006\",\"dscp\":46,\"owner\":\"manual\",\"packets\":100,\"bytes\":17200,"
		"\"drops\":2,\"idle_ms\":1500,\"rtp\":{\"clock_hz\":8000,\"ssrc\":4660,"
		"\"expected\":100,\"received\":99,\"lost\":2,\"duplicates\":1,\"reordered\":3,"
		"\"jitter\":40,\"jitter_ms\":5.000,\"mos\":4.21},\"nexthop\":{\"dev\":\"lo\","
		"\"ifindex\":1,\"lladdr\":\"02:00:00:00:00:01\"}}}\n");
	json_is("the control socket's RTP JSON is the same without \"jitter\"",
		json_of(write_rtp_daemon, &e),
		"{\"rtp\":{\"clock_hz\":8000,\"ssrc\":4660,\"expected\":100,\"received\":99,"
		"\"lost\":2,\"duplicates\":1,\"reordered\":3,\"jitter_ms\":5.000,\"mos\":4.21}}\n");
	e.rtp.received = 0;
	json_is("RTP JSON before the first packet: the clock alone", json_of(write_rtp_ctl, &e),
		"{\"rtp\":{\"clock_hz\":8000}}\n");
	e.flow.flags &= ~XT_FLOW_F_RTP_STATS;
	e.spec.has_src = e.spec.latch = e.spec.has_reverse = e.spec.has_nexthop = false;
	e.flow.last_seen_ns = 0;
	json_is("flow JSON without source check, RTP, next hop or packets: nulls",
		json_of(write_flow, &e),
		"{\"flow\":{\"local\":\"10.0.0.1:5004\",\"to\":\"192.0.2.10:4000\","
		"\"via\":\"10.0.1.1:30000\",\"from\":null,\"latch\":false,\"reverse\":null,"
		"\"dscp\":46,\"owner\":\"manual\",\"packets\":100,\"bytes\":17200,\"drops\":2,\"idle_ms\":null,"
		"\"rtp\":null,\"nexthop\":null}}\n");
}

void test_helpers(void)
{
	test_hash();
	test_mos();
	test_flow_json();
}
