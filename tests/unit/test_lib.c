// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Unit tests of the userspace library: endpoint parsing, JSON output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xtrunk_abi.h"
#include "endpoint.h"
#include "flow_table.h"
#include "json_writer.h"

static int passed, failed;

static void expect(int ok, const char *what, const char *detail)
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

int main(void)
{
	test_endpoints();
	test_flow_spec();
	test_json();
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
