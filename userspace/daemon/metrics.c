// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include <bpf/bpf.h>

#include "xtrunk_abi.h"
#include "http_server.h"
#include "log.h"
#include "metrics.h"

#ifndef XTRUNK_VERSION
#define XTRUNK_VERSION "0.1.0"
#endif

#define EXPOSITION_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct xt_metrics {
	struct xt_daemon_sources sources;
	struct xt_http_server *http;
};

static void family(FILE *out, const char *name, const char *type, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Data-path counters: verdicts and why packets were passed or dropped. */
static void render_datapath(FILE *out, const struct xt_dataplane *dp)
{
	static const struct {
		enum xt_stat stat;
		const char *verdict, *reason;
	} rows[] = {
		{ XT_STAT_TX, "tx", "relayed" },
		{ XT_STAT_REDIRECT, "redirect", "relayed" },
		{ XT_STAT_DROP_SRC, "drop", "source_check" },
		{ XT_STAT_DROP_FRAGMENT, "drop", "fragment" },
		{ XT_STAT_DROP_IP_OPTIONS, "drop", "ip_options" },
		{ XT_STAT_DROP_IPV6_EXT, "drop", "ipv6_ext_header" },
		{ XT_STAT_PASS_NOT_IP, "pass", "not_ip" },
		{ XT_STAT_PASS_NOT_UDP, "pass", "not_udp" },
		{ XT_STAT_PASS_FRAGMENT, "pass", "fragment" },
		{ XT_STAT_PASS_IP_OPTIONS, "pass", "ip_options" },
		{ XT_STAT_PASS_IPV6_EXT, "pass", "ipv6_ext_header" },
		{ XT_STAT_PASS_MALFORMED, "pass", "malformed" },
		{ XT_STAT_PASS_NO_ADDR, "pass", "no_relay_addr" },
		{ XT_STAT_PASS_NO_FLOW, "pass", "no_flow" },
		{ XT_STAT_PASS_NO_NEIGH, "pass", "no_neighbour" },
		{ XT_STAT_PASS_NO_ROUTE, "pass", "no_route" },
		{ XT_STAT_PASS_FWD_DISABLED, "pass", "fib_forwarding_disabled" },
		{ XT_STAT_PASS_NO_TXPORT, "pass", "no_tx_port" },
		{ XT_STAT_PASS_FAMILY, "pass", "family_mismatch" },
		{ XT_STAT_PASS_CSUM_TOO_LONG, "pass", "partial_csum_too_long" },
		{ XT_STAT_PASS_LEASE_EXPIRED, "pass", "lease_expired" },
	};
	uint64_t totals[XT_STAT_MAX];

	xt_dataplane_verdicts(dp, totals, XT_STAT_MAX);
	family(out, "xtrunk_xdp_packets_total", "counter",
	       "Packets the XDP program handled, by verdict and reason.");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		fprintf(out, "xtrunk_xdp_packets_total{verdict=\"%s\",reason=\"%s\"} %llu\n",
			rows[i].verdict, rows[i].reason, (unsigned long long)totals[rows[i].stat]);
	family(out, "xtrunk_xdp_latched_total", "counter",
	       "Flows that learned their peer's source port from its first packet (NAT).");
	fprintf(out, "xtrunk_xdp_latched_total %llu\n",
		(unsigned long long)totals[XT_STAT_LATCHED]);
	family(out, "xtrunk_xdp_relatched_total", "counter",
	       "Latched flows that took a new source port of their peer's address after "
	       "2 s without media (NAT rebinding).");
	fprintf(out, "xtrunk_xdp_relatched_total %llu\n",
		(unsigned long long)totals[XT_STAT_RELATCHED]);
	family(out, "xtrunk_xdp_csum_completed_total", "counter",
	       "Relayed packets whose sender left the UDP checksum partial (checksum offload "
	       "on a local veth or container), completed by XDP.");
	fprintf(out, "xtrunk_xdp_csum_completed_total %llu\n",
		(unsigned long long)totals[XT_STAT_CSUM_COMPLETED]);
}

/* Media relayed per path: live flows (one batched pass) plus the ended ones. */
static void render_media(FILE *out, const struct xt_dataplane *dp)
{
	const struct xt_config *config = dp->config;
	static struct xt_media_totals t; /* one scrape at a time: the event loop's */

	xt_dataplane_media_totals(dp, &t);

	const struct {
		const char *name, *help;
		const uint64_t *xdp, *userspace;
	} families[] = {
		{ "xtrunk_media_packets_total",
		  "Media packets relayed, by path (in XDP or by the userspace relay) and direction "
		  "(the endpoint they came from, to the one they went to).",
		  t.xdp_packets, t.userspace_packets },
		{ "xtrunk_media_bytes_total",
		  "Media bytes relayed (IP length in XDP, UDP payload in userspace), by path and "
		  "direction.",
		  t.xdp_bytes, t.userspace_bytes },
		{ "xtrunk_media_source_drops_total",
		  "Media packets dropped because they did not come from the call's peer, by path "
		  "and the endpoint they came from.",
		  t.xdp_drops, t.userspace_drops },
	};

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		family(out, families[i].name, "counter", families[i].help);
		for (unsigned int in = 0; in < config->endpoints; in++) {
			/* until routes exist, media from an endpoint goes to its default route */
			int route = xt_config_route(config, (int)in);
			const char *from = config->endpoint[in].name;
			const char *to = route >= 0 ? config->endpoint[route].name : "none";

			fprintf(out, "%s{path=\"xdp\",direction=\"%s_to_%s\"} %llu\n",
				families[i].name, from, to,
				(unsigned long long)families[i].xdp[in]);
			fprintf(out, "%s{path=\"userspace\",direction=\"%s_to_%s\"} %llu\n",
				families[i].name, from, to,
				(unsigned long long)families[i].userspace[in]);
		}
	}
	family(out, "xtrunk_media_relatched_total", "counter",
	       "Streams the userspace relay re-latched to a new source port of their peer's "
	       "address after 2 s without media (NAT rebinding), by the endpoint they came "
	       "from; XDP's are in xtrunk_xdp_relatched_total.");
	for (unsigned int in = 0; in < config->endpoints; in++)
		fprintf(out, "xtrunk_media_relatched_total{path=\"userspace\",side=\"%s\"} %llu\n",
			config->endpoint[in].name, (unsigned long long)t.userspace_relatched[in]);
	family(out, "xtrunk_flows", "gauge", "Media flows installed (one per stream direction).");
	fprintf(out, "xtrunk_flows %u\n", t.flows);
}

static void render_ports(FILE *out, const struct xt_daemon_sources *src)
{
	family(out, "xtrunk_relay_ports", "gauge", "Relay ports per endpoint, in use or free.");
	for (unsigned int side = 0; side < src->config->endpoints; side++) {
		const struct xt_port_pool *pool = &src->media->pools[side];

		fprintf(out, "xtrunk_relay_ports{side=\"%s\",state=\"used\"} %u\n",
			src->config->endpoint[side].name, 2 * pool->in_use);
		fprintf(out, "xtrunk_relay_ports{side=\"%s\",state=\"free\"} %u\n",
			src->config->endpoint[side].name, 2 * (pool->pairs - pool->in_use));
	}
}

/* SDPs refused for where they aimed media, by the endpoint that sent them and why. */
static void render_media_refused(FILE *out, const struct xt_daemon_sources *src)
{
	family(out, "xtrunk_sdp_media_refused_total", "counter",
	       "SDPs refused (488) for a media address the relay never sends to (loopback, "
	       "multicast, link-local, broadcast, unspecified, a relay port, media_deny, outside "
	       "allow), by endpoint and reason.");
	for (unsigned int side = 0; side < src->config->endpoints; side++)
		for (int r = 0; r < XT_MEDIA_REFUSALS; r++)
			fprintf(out,
				"xtrunk_sdp_media_refused_total{side=\"%s\",reason=\"%s\"} %llu\n",
				src->config->endpoint[side].name, xt_media_refusal_names[r],
				(unsigned long long)src->media->refused[side][r]);
	family(out, "xtrunk_sdp_streams_refused_total", "counter",
	       "Media streams refused (port 0 in the SDP sent on, no relay port held) past the "
	       "call's streams limit, by the endpoint whose SDP had them.");
	for (unsigned int side = 0; side < src->config->endpoints; side++)
		fprintf(out, "xtrunk_sdp_streams_refused_total{side=\"%s\"} %llu\n",
			src->config->endpoint[side].name,
			(unsigned long long)src->media->streams_refused[side]);
}

static void render_calls(FILE *out, const struct xt_b2bua *b2b)
{
	struct xt_b2bua_stats stats;

	xt_b2bua_get_stats(b2b, &stats);
	family(out, "xtrunk_calls_active", "gauge", "Calls in progress.");
	fprintf(out, "xtrunk_calls_active %u\n", stats.calls_active);
	family(out, "xtrunk_calls_total", "counter", "Calls ended or answered, by result.");
	fprintf(out, "xtrunk_calls_total{result=\"answered\"} %llu\n",
		(unsigned long long)stats.calls_answered);
	fprintf(out, "xtrunk_calls_total{result=\"busy\"} %llu\n",
		(unsigned long long)stats.calls_busy);
	fprintf(out, "xtrunk_calls_total{result=\"failed\"} %llu\n",
		(unsigned long long)stats.calls_failed);
	fprintf(out, "xtrunk_calls_total{result=\"cancelled\"} %llu\n",
		(unsigned long long)stats.calls_cancelled);
	fprintf(out, "xtrunk_calls_total{result=\"timeout\"} %llu\n",
		(unsigned long long)stats.calls_timeout);
	fprintf(out, "xtrunk_calls_total{result=\"rejected_limit\"} %llu\n",
		(unsigned long long)stats.calls_rejected_limit);
	fprintf(out, "xtrunk_calls_total{result=\"rejected_setup\"} %llu\n",
		(unsigned long long)stats.calls_rejected_setup);
	fprintf(out, "xtrunk_calls_total{result=\"rejected_acl\"} %llu\n",
		(unsigned long long)stats.calls_rejected_acl);
	fprintf(out, "xtrunk_calls_total{result=\"terminated\"} %llu\n",
		(unsigned long long)stats.calls_terminated);
	family(out, "xtrunk_calls_started_total", "counter", "Calls offered to the relay.");
	fprintf(out, "xtrunk_calls_started_total %llu\n", (unsigned long long)stats.calls_started);
}

static void render_sip(FILE *out, const struct xt_b2bua_stats *stats,
		       const struct xt_config *config)
{
	family(out, "xtrunk_sip_requests_total", "counter",
	       "SIP requests received, by endpoint (side) and method (the stack absorbs ACKs of 2xx).");
	for (unsigned int side = 0; side < config->endpoints; side++)
		for (int m = 0; m < XT_SIP_METHODS; m++)
			fprintf(out, "xtrunk_sip_requests_total{side=\"%s\",method=\"%s\"} %llu\n",
				config->endpoint[side].name, xt_sip_method_names[m],
				(unsigned long long)stats->sip_requests[side][m]);
	family(out, "xtrunk_sip_responses_total", "counter",
	       "SIP responses received to the relay's requests, by endpoint, class and code (a code "
	       "appears once seen).");
	for (unsigned int side = 0; side < config->endpoints; side++)
		for (int code = 100; code <= 699; code++)
			if (stats->sip_response_codes[side][code - 100])
				fprintf(out,
					"xtrunk_sip_responses_total{side=\"%s\",class=\"%dxx\","
					"code=\"%d\"} %llu\n",
					config->endpoint[side].name, code / 100, code,
					(unsigned long long)
						stats->sip_response_codes[side][code - 100]);
	family(out, "xtrunk_sip_malformed_total", "counter",
	       "SIP messages the relay could not parse, by endpoint: answered 400 when they can be, "
	       "dropped when there is nothing to answer to (no request line, no Via).");
	for (unsigned int side = 0; side < config->endpoints; side++)
		fprintf(out, "xtrunk_sip_malformed_total{side=\"%s\"} %llu\n",
			config->endpoint[side].name,
			(unsigned long long)stats->sip_malformed[side]);
}

/* Admission: channels per endpoint and the SIP requests refused, by endpoint and reason. */
static void render_admission(FILE *out, const struct xt_b2bua_stats *stats,
			     const struct xt_config *config)
{
	const struct xt_admission_stats *adm = &stats->admission;

	family(out, "xtrunk_channels_active", "gauge",
	       "Calls in progress through each endpoint (a call holds one on both of its endpoints).");
	for (unsigned int side = 0; side < config->endpoints; side++)
		fprintf(out, "xtrunk_channels_active{side=\"%s\"} %u\n",
			config->endpoint[side].name, stats->channels_active[side]);
	family(out, "xtrunk_calls_setup", "gauge",
	       "Calls from each endpoint in set-up: INVITE received, not answered yet (setup_calls).");
	for (unsigned int side = 0; side < config->endpoints; side++)
		fprintf(out, "xtrunk_calls_setup{side=\"%s\"} %u\n", config->endpoint[side].name,
			stats->setup_active[side]);
	family(out, "xtrunk_channels_limit", "gauge",
	       "Most calls each endpoint carries at once (channels); 0: no limit.");
	for (unsigned int side = 0; side < config->endpoints; side++)
		fprintf(out, "xtrunk_channels_limit{side=\"%s\"} %u\n", config->endpoint[side].name,
			config->endpoint[side].channels);
	family(out, "xtrunk_sip_requests_dropped_total", "counter",
	       "SIP requests dropped unanswered, by endpoint and reason (acl: source outside the "
	       "allowed networks with deny = drop; rate: source over sip_rate; rate_global: "
	       "sources other than the peer over sip_rate_global together; rate_peer: the peer "
	       "over sip_rate_peer).");
	for (unsigned int side = 0; side < config->endpoints; side++)
		for (int r = XT_REFUSED_ACL; r <= XT_REFUSED_RATE_PEER; r++)
			fprintf(out,
				"xtrunk_sip_requests_dropped_total{side=\"%s\",reason=\"%s\"} "
				"%llu\n",
				config->endpoint[side].name, xt_refusal_names[r],
				(unsigned long long)adm->dropped[side][r]);
	family(out, "xtrunk_sip_requests_rejected_total", "counter",
	       "SIP requests refused with an answer, by endpoint and reason (acl: 403, "
	       "channel_limit: 503 to an INVITE; setup_limit, setup_limit_source: 503 to an INVITE "
	       "over setup_calls, setup_calls_per_source).");
	for (unsigned int side = 0; side < config->endpoints; side++)
		for (int r = 0; r < XT_REFUSALS; r++) {
			if (r != XT_REFUSED_ACL && r < XT_REFUSED_CHANNEL_LIMIT)
				continue; /* over a rate is never answered */
			fprintf(out,
				"xtrunk_sip_requests_rejected_total{side=\"%s\",reason=\"%s\"} "
				"%llu\n",
				config->endpoint[side].name, xt_refusal_names[r],
				(unsigned long long)adm->rejected[side][r]);
		}
	family(out, "xtrunk_sip_rate_sources", "gauge",
	       "Source addresses the SIP rate limit tracks per endpoint (bounded; the least "
	       "recently seen is forgotten first).");
	for (unsigned int side = 0; side < config->endpoints; side++)
		fprintf(out, "xtrunk_sip_rate_sources{side=\"%s\"} %u\n",
			config->endpoint[side].name, adm->rate_sources[side]);
}

static void histogram(FILE *out, const char *name, const char *help, const double *bounds,
		      const uint64_t *le, int n, uint64_t count, double sum)
{
	family(out, name, "histogram", help);
	for (int i = 0; i < n; i++)
		fprintf(out, "%s_bucket{le=\"%g\"} %llu\n", name, bounds[i],
			(unsigned long long)le[i]);
	fprintf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)count);
	fprintf(out, "%s_sum %g\n%s_count %llu\n", name, sum, name, (unsigned long long)count);
}

/* Quality of ended calls' RTP streams, as the data path measured it. */
static void render_quality(FILE *out, const struct xt_quality_stats *q)
{
	family(out, "xtrunk_rtp_packets_expected_total", "counter",
	       "RTP packets expected over ended calls' streams (RFC 3550 A.3).");
	fprintf(out, "xtrunk_rtp_packets_expected_total %llu\n", (unsigned long long)q->expected);
	family(out, "xtrunk_rtp_packets_lost_total", "counter",
	       "RTP packets lost before the relay over ended calls' streams.");
	fprintf(out, "xtrunk_rtp_packets_lost_total %llu\n", (unsigned long long)q->lost);
	histogram(out, "xtrunk_rtp_jitter_seconds",
		  "Interarrival jitter (RFC 3550 A.8) of ended calls' RTP streams.",
		  xt_jitter_bounds_s, q->jitter_le, XT_JITTER_BUCKETS, q->streams,
		  q->jitter_sum_ms / 1000.0);
	histogram(out, "xtrunk_rtp_mos", "E-model MOS estimate of ended calls' RTP streams.",
		  xt_mos_bounds, q->mos_le, XT_MOS_BUCKETS, q->streams, q->mos_sum);
}

static void render_build(FILE *out, const struct xt_daemon_sources *src)
{
	family(out, "xtrunk_build_info", "gauge", "Version of xtrunkd; the value is always 1.");
	fprintf(out, "xtrunk_build_info{version=\"%s\"} 1\n", XTRUNK_VERSION);
	family(out, "xtrunk_xdp_attached", "gauge",
	       "1 for each interface the XDP program is attached to, with its mode.");
	for (unsigned int side = 0; side < src->config->endpoints; side++) {
		const char *mode = !src->dp->xdp		  ? "off" :
				   src->config->xdp == XT_XDP_SKB ? "skb" :
								    "native";

		fprintf(out, "xtrunk_xdp_attached{interface=\"%s\",side=\"%s\",mode=\"%s\"} %d\n",
			src->config->endpoint[side].interface, src->config->endpoint[side].name,
			mode, src->dp->xdp ? 1 : 0);
	}
}

/*
 * Per endpoint interface: whether XDP may transmit to it, and the frames the
 * kernel failed to transmit after the relay's verdict (which the verdict
 * counters count as relayed).
 */
static void render_xmit(FILE *out, const struct xt_daemon_sources *src)
{
	static const char *const reasons[] = { "redirect_drop", "tx_drop", "redirect_error" };
	struct xt_iface_snapshot snap[XT_ENDPOINTS_MAX];

	for (unsigned int side = 0; side < src->config->endpoints; side++)
		xt_dataplane_iface_snapshot(src->dp, src->config->endpoint[side].interface,
					    &snap[side]);
	family(out, "xtrunk_xdp_egress", "gauge",
	       "1 when XDP may transmit frames to the interface; 0 when not (a veth whose peer "
	       "has no NAPI: media to it is relayed in userspace) or XDP is off.");
	for (unsigned int side = 0; side < src->config->endpoints; side++)
		fprintf(out, "xtrunk_xdp_egress{interface=\"%s\",side=\"%s\"} %d\n",
			src->config->endpoint[side].interface, src->config->endpoint[side].name,
			snap[side].egress ? 1 : 0);
	family(out, "xtrunk_xdp_xmit_errors_total", "counter",
	       "Frames the kernel failed to transmit after XDP_TX or redirect, by interface and "
	       "reason (refused by the device it was redirected or sent back to, or a failed "
	       "redirect from it).");
	for (unsigned int side = 0; side < src->config->endpoints; side++) {
		const struct xt_iface_xmit *x = &snap[side].xmit;
		const __u64 counts[] = { x->redirect_drops, x->tx_drops, x->redirect_errors };

		for (int r = 0; r < 3; r++)
			fprintf(out,
				"xtrunk_xdp_xmit_errors_total{interface=\"%s\",side=\"%s\","
				"reason=\"%s\"} %llu\n",
				src->config->endpoint[side].interface,
				src->config->endpoint[side].name, reasons[r],
				(unsigned long long)counts[r]);
	}
}

char *xt_metrics_render(const struct xt_daemon_sources *src, size_t *len)
{
	char *text = NULL;
	FILE *out = open_memstream(&text, len);

	if (!out)
		return NULL;
	render_build(out, src);
	render_xmit(out, src);
	render_calls(out, src->b2b);
	{
		struct xt_b2bua_stats stats;

		xt_b2bua_get_stats(src->b2b, &stats);
		render_sip(out, &stats, src->config);
		render_admission(out, &stats, src->config);
		render_quality(out, &stats.quality);
	}
	render_media(out, src->dp);
	render_datapath(out, src->dp);
	render_ports(out, src);
	render_media_refused(out, src);
	if (fclose(out)) {
		free(text);
		return NULL;
	}
	return text;
}

/* gzip (RFC 1952) of text into a malloc'd buffer. */
static unsigned char *gzip_text(const char *text, size_t len, size_t *out_len)
{
	z_stream z = { 0 };
	uLong bound;
	unsigned char *out;

	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return NULL;
	bound = deflateBound(&z, (uLong)len) + 32;
	out = malloc(bound);
	if (!out) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_in = (Bytef *)text;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)bound;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*out_len = z.total_out;
	deflateEnd(&z);
	return out;
}

static void serve(void *arg, const char *method, const char *path, bool gzip,
		  struct xt_http_response *resp)
{
	struct xt_metrics *metrics = arg;
	unsigned char *gz = NULL;
	size_t len = 0, gz_len = 0;
	char *text;

	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		resp->status = 405;
		resp->allow = "GET, HEAD";
		return;
	}
	if (strcmp(path, "/") && strcmp(path, "/metrics")) {
		resp->status = 404;
		return;
	}
	text = xt_metrics_render(&metrics->sources, &len);
	if (!text) {
		resp->status = 500;
		return;
	}
	gz = gzip ? gzip_text(text, len, &gz_len) : NULL;
	resp->status = 200;
	resp->content_type = EXPOSITION_TYPE;
	if (gz) {
		free(text);
		resp->content_encoding = "gzip";
		resp->body = (char *)gz;
		resp->body_len = gz_len;
	} else {
		resp->body = text;
		resp->body_len = len;
	}
}

struct xt_metrics *xt_metrics_create(su_root_t *root, const struct xt_endpoint *listen,
				     const struct xt_daemon_sources *sources, char *err,
				     size_t errlen)
{
	struct xt_metrics *metrics = calloc(1, sizeof(*metrics));
	char host[64], url[96], why[128];

	if (!metrics) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	metrics->sources = *sources;
	xt_addr_format(listen->family, listen->addr, host, sizeof(host));
	snprintf(url, sizeof(url),
		 listen->family == XT_AF_INET6 ? "http://[%s]:%u" : "http://%s:%u", host,
		 listen->port);
	metrics->http = xt_http_server_create(root, listen, serve, metrics, why, sizeof(why));
	if (!metrics->http) {
		snprintf(err, errlen, "metrics: cannot listen on %s: %s", url, why);
		free(metrics);
		return NULL;
	}
	pr_info("metrics on %s/metrics (at most %d connections, idle ones closed after %d s)\n",
		url, XT_HTTP_MAX_CONNECTIONS, XT_HTTP_IDLE_S);
	return metrics;
}

void xt_metrics_destroy(struct xt_metrics *metrics)
{
	if (!metrics)
		return;
	xt_http_server_destroy(metrics->http);
	free(metrics);
}
