// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of the userspace library (endpoint parsing, JSON output) and the call state machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xtrunk_abi.h"
#include "endpoint.h"
#include "flow_table.h"
#include "json_reader.h"
#include "json_writer.h"
#include "unit.h"

static int passed, failed;

void expect(int ok, const char *what, const char *detail)
{
	if (ok) {
		passed++;
		printf("ok - %s\n", what);
	} else {
		failed++;
		printf("not ok - %s: %s\n", what, detail);
	}
}

/* An endpoint that parses, and formats back to the canonical text. */
static void parses_as(const char *text, const char *canonical, uint8_t family)
{
	char what[160], out[XT_ENDPOINT_STRLEN], err[256] = "";
	struct xt_endpoint ep;
	int rc = xt_endpoint_parse(text, &ep, err, sizeof(err));

	snprintf(what, sizeof(what), "endpoint '%s' parses as %s", text, canonical);
	if (rc) {
		expect(0, what, err);
		return;
	}
	xt_endpoint_format(&ep, out, sizeof(out));
	expect(!strcmp(out, canonical) && ep.family == family, what, out);
}

/* An endpoint that is rejected with a reason containing reason. */
static void rejected(const char *text, const char *reason)
{
	char what[160], err[256] = "";
	struct xt_endpoint ep;
	int rc = xt_endpoint_parse(text, &ep, err, sizeof(err));

	snprintf(what, sizeof(what), "endpoint '%s' is rejected: %s", text, reason);
	expect(rc != 0 && strstr(err, reason), what, rc ? err : "accepted");
}

static void test_endpoints(void)
{
	parses_as("10.0.0.1:5004", "10.0.0.1:5004", XT_AF_INET);
	parses_as("[fd00::1]:5004", "[fd00::1]:5004", XT_AF_INET6);
	parses_as("[FD00:0::0001]:65535", "[fd00::1]:65535", XT_AF_INET6);
	parses_as("0.0.0.0:0", "0.0.0.0:0", XT_AF_INET);
	rejected("10.0.0.1", "expected IP:PORT");
	rejected("10.0.0.1:", "port '' is not a number");
	rejected("10.0.0.1:65536", "port '65536'");
	rejected("10.0.0.1:-1", "port '-1'");
	rejected("10.0.0.1:12ab", "port '12ab'");
	rejected("10.0.0.256:1", "not an IPv4 address");
	rejected("fd00::1:5004", "write IPv6 as [ADDR]:PORT");
	rejected("[fd00::1]5004", "expected [IPv6]:PORT");
	rejected("[10.0.0.1]:5004", "not an IPv6 address");
	rejected("", "expected IP:PORT");
}

static void spec_rejected(const char *what, struct xt_flow_spec spec, const char *reason)
{
	char err[256] = "";
	int rc = xt_flow_spec_validate(&spec, err, sizeof(err));

	expect(rc != 0 && strstr(err, reason), what, rc ? err : "accepted");
}

static void test_flow_spec(void)
{
	struct xt_flow_spec good = { .dscp = 46 };
	char err[256] = "";

	xt_endpoint_parse("10.0.0.1:20000", &good.local, err, sizeof(err));
	xt_endpoint_parse("10.0.1.2:6000", &good.peer, err, sizeof(err));
	xt_endpoint_parse("10.0.1.1:30000", &good.relay, err, sizeof(err));
	expect(xt_flow_spec_validate(&good, err, sizeof(err)) == 0,
	       "a consistent IPv4 flow is valid", err);

	struct xt_flow_spec mixed = good;
	xt_endpoint_parse("[fd00::2]:6000", &mixed.peer, err, sizeof(err));
	spec_rejected("a flow mixing IPv4 and IPv6 is rejected", mixed, "family");

	struct xt_flow_spec dscp = good;
	dscp.dscp = 64;
	spec_rejected("DSCP 64 is rejected", dscp, "DSCP 64");

	struct xt_flow_spec port0 = good;
	port0.peer.port = 0;
	spec_rejected("peer port 0 is rejected", port0, "port 0");

	/* symmetric RTP: the latching flow names the other direction's flow */
	struct xt_flow_spec latch = good;
	latch.has_src = latch.latch = true;
	xt_endpoint_parse("10.0.0.9:0", &latch.src, err, sizeof(err));
	latch.has_reverse = true;
	latch.reverse = good.relay;
	expect(xt_flow_spec_validate(&latch, err, sizeof(err)) == 0,
	       "a latching flow with a reverse flow is valid", err);

	struct xt_flow_spec no_latch = latch;
	no_latch.latch = false;
	spec_rejected("a reverse flow without latch is rejected", no_latch, "reverse needs latch");

	struct xt_flow_spec reverse6 = latch;
	xt_endpoint_parse("[fd00::1]:30000", &reverse6.reverse, err, sizeof(err));
	spec_rejected("a reverse flow of the other family is rejected", reverse6,
		      "reverse needs latch");
}

/* The flow map's entry is one cache line, its offsets what the data path was built for. */
static void test_flow_layout(void)
{
	char detail[160];

	snprintf(detail, sizeof(detail), "size %zu, align %zu", sizeof(struct xt_flow),
		 _Alignof(struct xt_flow));
	expect(sizeof(struct xt_flow) == 64 && _Alignof(struct xt_flow) == 64,
	       "a flow entry is one 64-byte, 64-aligned cache line", detail);
	snprintf(detail, sizeof(detail), "slow %zu, rtp %zu", sizeof(struct xt_flow_slow),
		 sizeof(struct xt_rtp_stats));
	expect(sizeof(struct xt_flow) + sizeof(struct xt_flow_slow) + sizeof(struct xt_rtp_stats) <=
		       128,
	       "a flow with its slow part and RTP statistics takes at most 128 bytes", detail);
	snprintf(detail, sizeof(detail), "nexthop entry %zu", sizeof(struct xt_nexthop_entry));
	expect(sizeof(struct xt_nexthop_entry) == 40 &&
		       __builtin_offsetof(struct xt_nexthop_entry, oif) == 16,
	       "the data path's part of a next-hop entry is its first 16 bytes", detail);
}

static void test_json(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct json_writer *w = jsonw_new(out, false);

	jsonw_start_array(w);
	jsonw_start_object(w);
	jsonw_string_field(w, "local", "10.0.0.1:5004");
	jsonw_uint_field(w, "packets", 18446744073709551615ull);
	jsonw_null_field(w, "from");
	jsonw_string_field(w, "error", "quote \" backslash \\ newline \n tab \t bell \a");
	jsonw_end_object(w);
	jsonw_start_object(w);
	jsonw_end_object(w);
	jsonw_end_array(w);
	jsonw_destroy(&w);
	fclose(out);
	expect(!strcmp(buf, "[{\"local\":\"10.0.0.1:5004\",\"packets\":18446744073709551615,"
			    "\"from\":null,\"error\":\"quote \\\" backslash \\\\ newline \\n tab "
			    "\\t bell \\u0007\"},{}]\n"),
	       "JSON writer output is exact and escaped", buf);
	free(buf);
}

/* A document written in parts, each to its own stream (the control socket's call list). */
static void test_json_parts(void)
{
	char *head = NULL, *rest = NULL, joined[64];
	size_t head_len = 0, rest_len = 0;
	FILE *first = open_memstream(&head, &head_len), *second = open_memstream(&rest, &rest_len);
	struct json_writer *w = jsonw_new(first, false);

	jsonw_start_object(w);
	jsonw_name(w, "result");
	jsonw_start_array(w);
	jsonw_uint(w, 1);
	jsonw_set_output(w, second);
	jsonw_uint(w, 2);
	jsonw_start_object(w);
	jsonw_end_object(w);
	jsonw_end_array(w);
	jsonw_end_object(w);
	jsonw_destroy(&w);
	fclose(first);
	fclose(second);
	snprintf(joined, sizeof(joined), "%s|%s", head, rest);
	expect(!strcmp(joined, "{\"result\":[1|,2,{}]}\n"),
	       "JSON writer: a document carried on in a second stream keeps its commas and nesting",
	       joined);
	free(head);
	free(rest);
}

/* The reader (control socket): what it parses writes back the same; bad input is named. */
static void reads_back(const char *text, const char *expected)
{
	char what[200], err[128] = "", *buf = NULL;
	struct xt_json *v = xt_json_parse(text, strlen(text), err, sizeof(err));
	size_t len = 0;
	FILE *out;
	struct json_writer *w;

	snprintf(what, sizeof(what), "JSON reader: '%s' reads and writes back as '%s'", text,
		 expected);
	if (!v) {
		expect(0, what, err);
		return;
	}
	out = open_memstream(&buf, &len);
	w = jsonw_new(out, false);
	xt_json_write(w, v);
	jsonw_destroy(&w);
	fclose(out);
	buf[strcspn(buf, "\n")] = '\0';
	expect(!strcmp(buf, expected), what, buf);
	free(buf);
	xt_json_free(v);
}

static void read_rejected(const char *text, size_t len, const char *reason)
{
	char what[200], err[128] = "";
	struct xt_json *v = xt_json_parse(text, len, err, sizeof(err));

	snprintf(what, sizeof(what), "JSON reader: %.40s is rejected: %s", text, reason);
	expect(!v && strstr(err, reason), what, v ? "accepted" : err);
	xt_json_free(v);
}

static void test_json_reader(void)
{
	char deep[80];
	struct xt_json *v;
	const char *req =
		"{\"command\": \"call show\", \"id\": \"c1\", \"n\": 18446744073709551615}";

	reads_back(" {\"a\": [1, -2.5e3, true, false, null, \"x\"], \"b\": {}} ",
		   "{\"a\":[1,-2.5e3,true,false,null,\"x\"],\"b\":{}}");
	reads_back("\"q\\\" b\\\\ \\u00e9 \\ud83d\\ude00 \\n\"",
		   "\"q\\\" b\\\\ \xc3\xa9 \xf0\x9f\x98\x80 \\n\"");
	/* a string ends at its first unescaped quote, wherever the document ends */
	reads_back("[\"a\\\"\", \"b\\\\\", \"\\u00e9\", \"\"]",
		   "[\"a\\\"\",\"b\\\\\",\"\xc3\xa9\",\"\"]");
	v = xt_json_parse(req, strlen(req), deep, sizeof(deep));
	expect(v && !strcmp(xt_json_get_str(v, "command"), "call show") &&
		       !strcmp(xt_json_get_str(v, "id"), "c1") && !xt_json_get_str(v, "n") &&
		       xt_json_get_uint(v, "n", 0) == 18446744073709551615ull &&
		       !xt_json_get(v, "missing"),
	       "JSON reader: members by name, typed", v ? "wrong values" : deep);
	xt_json_free(v);
	read_rejected("not json", 8, "expected a value");
	read_rejected("{\"a\": 1,}", 9, "expected a member name");
	read_rejected("{\"a\" 1}", 7, "expected ':'");
	read_rejected("[1 2]", 5, "expected ',' or ']'");
	read_rejected("\"abc", 4, "unterminated string");
	read_rejected("\"ab\\", 4, "unterminated string");
	read_rejected("{} {}", 5, "trailing characters");
	read_rejected("1.2.3", 5, "malformed number");
	read_rejected("\"a\x01\"", 4, "control character");
	read_rejected("\"\\x\"", 4, "bad escape");
	read_rejected("{\"a\": nul}", 10, "expected a value");
	read_rejected("", 0, "unexpected end");
	read_rejected("\"a\0b\"", 5, "control character");
	memset(deep, '[', sizeof(deep));
	read_rejected(deep, sizeof(deep), "nested too deep");
}

int main(void)
{
	test_endpoints();
	test_flow_spec();
	test_flow_layout();
	test_json();
	test_json_parts();
	test_json_reader();
	test_call_state();
	test_config();
	test_helpers();
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
