// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the SDP rewriter (userspace/daemon/sdp_rewrite.c): fixed SDP
 * in; the description of its streams and the exact rewritten lines out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/su_alloc.h>

#include "xtrunk_abi.h"
#include "sdp_rewrite.h"

#define RELAY "192.0.2.1"
#define PORT 30000 /* stream i gets RTP port PORT + 2i, RTCP the next */

static int passed, failed;

static void expect(int ok, const char *what, const char *detail)
{
	if (ok) {
		passed++;
		printf("ok - sdp: %s\n", what);
	} else {
		failed++;
		printf("not ok - sdp: %s: %s\n", what, detail);
	}
}

/* One SDP through the three steps, as the media session calls them. */
struct rewrite {
	su_home_t home[1];
	sdp_parser_t *parser; /* the description points into it */
	struct xt_sdp_description desc;
	char *out; /* NULL when refused */
	char err[256];
	int rc;
};

static void rewrite(const char *text, const struct xt_sdp_call *call, const char *address,
		    struct rewrite *r)
{
	struct xt_sdp_relay relay = { .origin_id = 42, .origin_version = 3 };

	memset(r, 0, sizeof(*r));
	su_home_init(r->home);
	snprintf(relay.address, sizeof(relay.address), "%s", address);
	for (unsigned int i = 0; i < XT_MAX_STREAMS; i++) {
		relay.ports[i].rtp = (uint16_t)(PORT + 2 * i);
		relay.ports[i].rtcp = (uint16_t)(PORT + 2 * i + 1);
	}
	r->rc = xt_sdp_parse(r->home, text, strlen(text), &r->parser, r->err, sizeof(r->err));
	if (r->rc)
		return;
	r->rc = xt_sdp_describe(sdp_session(r->parser), call, &r->desc, r->err, sizeof(r->err));
	if (!r->rc)
		r->rc = xt_sdp_render(sdp_session(r->parser), &r->desc, &relay, &r->out, r->err,
				      sizeof(r->err));
}

static void rewrite_done(struct rewrite *r)
{
	free(r->out);
	r->out = NULL;
	if (r->parser)
		sdp_parser_free(r->parser);
	r->parser = NULL;
	su_home_deinit(r->home);
}

static const struct xt_sdp_call first_offer = { 0 };

/* The whole rewritten SDP is exactly want. */
static void renders_as(const char *what, const char *in, const char *want)
{
	struct rewrite r;

	rewrite(in, &first_offer, RELAY, &r);
	expect(r.rc == 0 && r.out && !strcmp(r.out, want), what, r.rc ? r.err : r.out);
	rewrite_done(&r);
}

/* The rewritten SDP has this line (CRLF-terminated, at the start of a line). */
static int has_line(const char *out, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, line, n) && p[n] == '\r')
			return 1;
	return 0;
}

/* An SDP refused with rc and a reason containing reason. */
static void refused(const char *what, const char *in, const struct xt_sdp_call *call, int rc,
		    const char *reason)
{
	struct rewrite r;
	char detail[320];

	rewrite(in, call, RELAY, &r);
	snprintf(detail, sizeof(detail), "rc %d: %s", r.rc, r.rc ? r.err : "accepted");
	expect(r.rc == rc && !r.out && strstr(r.err, reason), what, detail);
	rewrite_done(&r);
}

#define SDP_HEAD "v=0\r\no=pbx 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"

static void test_offer(void)
{
	struct rewrite r;
	const struct xt_sdp_stream *d = &r.desc.streams[0];

	renders_as("an offer names the relay in o=, c=, m= and a=rtcp, the rest as it came",
		   SDP_HEAD "m=audio 6000 RTP/AVP 8 101\r\n"
			    "a=rtpmap:8 PCMA/8000\r\n"
			    "a=rtpmap:101 telephone-event/8000\r\n"
			    "a=fmtp:101 0-15\r\n"
			    "a=rtcp:6001 IN IP4 10.0.0.1\r\n"
			    "a=sendrecv\r\n",
		   "v=0\r\n"
		   "o=xtrunk 42 3 IN IP4 " RELAY "\r\n"
		   "s=-\r\n"
		   "c=IN IP4 " RELAY "\r\n"
		   "t=0 0\r\n"
		   "m=audio 30000 RTP/AVP 8 101\r\n"
		   "a=rtpmap:8 PCMA/8000\r\n"
		   "a=rtpmap:101 telephone-event/8000\r\n"
		   "a=fmtp:101 0-15\r\n"
		   "a=rtcp:30001 IN IP4 " RELAY "\r\n"
		   "a=sendrecv\r\n");

	rewrite(SDP_HEAD "m=audio 6000 RTP/AVP 8 101\r\n"
			 "a=rtpmap:101 telephone-event/8000\r\n"
			 "a=rtcp:7001 IN IP4 10.0.0.9\r\n"
			 "a=rtcp-mux\r\n",
		&first_offer, RELAY, &r);
	expect(r.rc == 0 && r.desc.nstreams == 1 && r.desc.family == XT_AF_INET && d->accepted &&
		       d->rtp && d->type == sdp_media_audio && !strcmp(d->proto, "RTP/AVP") &&
		       d->direction == XT_SDP_SENDRECV && !r.desc.hold,
	       "an audio offer is described: one accepted RTP stream, IPv4, sendrecv", r.err);
	expect(d->peer_rtp.port == 6000 && !memcmp(d->peer_rtp.addr, "\x0a\x00\x00\x01", 4) &&
		       d->peer_rtcp.port == 7001 &&
		       !memcmp(d->peer_rtcp.addr, "\x0a\x00\x00\x09", 4) && d->rtcp_attr &&
		       d->rtcp_attr_address && d->rtcp_mux,
	       "the peer: RTP from c= and m=, RTCP from a=rtcp with its address, rtcp-mux",
	       "wrong peer");
	expect(d->ncodecs == 2 && d->codecs[0].pt == 8 && !strcmp(d->codecs[0].encoding, "PCMA") &&
		       d->codecs[0].clock_hz == 8000 && d->codecs[1].pt == 101 &&
		       !strcmp(d->codecs[1].encoding, "telephone-event") && d->clock_hz == 8000,
	       "codecs: a static type named without a=rtpmap, a dynamic one, the first's clock",
	       "wrong codecs");
	expect(r.out && has_line(r.out, "a=rtcp:30001 IN IP4 " RELAY) &&
		       has_line(r.out, "a=rtcp-mux") && !strstr(r.out, "10.0.0."),
	       "no address of the peer is left in the rewritten SDP", r.out ? r.out : r.err);
	rewrite_done(&r);

	rewrite(SDP_HEAD "m=audio 6000 RTP/AVP 0\r\na=rtcp:6003\r\n", &first_offer, RELAY, &r);
	expect(r.rc == 0 && d->rtcp_attr && !d->rtcp_attr_address && d->peer_rtcp.port == 6003 &&
		       r.out && has_line(r.out, "a=rtcp:30001") &&
		       !has_line(r.out, "a=rtcp:30001 IN IP4 " RELAY),
	       "a=rtcp without an address: only its port rewritten", r.out ? r.out : r.err);
	rewrite_done(&r);

	rewrite(SDP_HEAD "m=audio 6000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n", &first_offer,
		RELAY, &r);
	expect(r.rc == 0 && !d->rtcp_attr && d->peer_rtcp.port == 6001 && d->clock_hz == 48000 &&
		       r.out && !strstr(r.out, "a=rtcp"),
	       "no a=rtcp: RTCP on the RTP port + 1, none added; opus runs at 48000",
	       r.out ? r.out : r.err);
	rewrite_done(&r);
}

static void test_hold(void)
{
	struct rewrite r;
	const struct xt_sdp_stream *d = &r.desc.streams[0];

	rewrite(SDP_HEAD "m=audio 6000 RTP/AVP 8\r\na=sendonly\r\n", &first_offer, RELAY, &r);
	expect(r.rc == 0 && r.desc.hold && d->holds && d->direction == XT_SDP_SENDONLY && r.out &&
		       has_line(r.out, "a=sendonly"),
	       "a=sendonly holds the call, and is carried", r.out ? r.out : r.err);
	rewrite_done(&r);

	rewrite("v=0\r\no=pbx 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
		"a=inactive\r\nm=audio 6000 RTP/AVP 8\r\n",
		&first_offer, RELAY, &r);
	expect(r.rc == 0 && r.desc.hold && d->direction == XT_SDP_INACTIVE,
	       "a=inactive at session level holds every stream", r.err);
	rewrite_done(&r);

	rewrite("v=0\r\no=pbx 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
		"m=audio 6000 RTP/AVP 8\r\nc=IN IP4 0.0.0.0\r\n",
		&first_offer, RELAY, &r);
	expect(r.rc == 0 && r.desc.hold && d->unspecified && d->direction == XT_SDP_SENDRECV &&
		       r.out && has_line(r.out, "c=IN IP4 0.0.0.0") &&
		       !has_line(r.out, "c=IN IP4 " RELAY) &&
		       has_line(r.out, "o=xtrunk 42 3 IN IP4 " RELAY) &&
		       has_line(r.out, "m=audio 30000 RTP/AVP 8"),
	       "c=0.0.0.0 (RFC 2543 hold) holds, and is kept at session and media level",
	       r.out ? r.out : r.err);
	rewrite_done(&r);

	rewrite(SDP_HEAD "m=audio 6000 RTP/AVP 8\r\na=recvonly\r\n", &first_offer, RELAY, &r);
	expect(r.rc == 0 && !r.desc.hold && d->direction == XT_SDP_RECVONLY,
	       "a=recvonly does not hold", r.err);
	rewrite_done(&r);
}

static void test_streams(void)
{
	static const struct xt_sdp_call answered = { .family = XT_AF_INET, .nstreams = 2 };
	struct rewrite r;
	char big[4096];
	size_t n;

	rewrite(SDP_HEAD "m=audio 0 RTP/AVP 8\r\nc=IN IP4 10.0.0.7\r\n"
			 "m=image 6004 udptl t38\r\na=T38FaxVersion:0\r\n",
		&answered, RELAY, &r);
	expect(r.rc == 0 && r.desc.nstreams == 2 && !r.desc.streams[0].accepted &&
		       r.desc.streams[0].peer_rtp.family == 0 && r.desc.streams[1].accepted &&
		       !r.desc.streams[1].rtp && r.desc.streams[1].clock_hz == 0 &&
		       r.desc.streams[1].type == sdp_media_image,
	       "a refused stream is described without a peer; T.38 is no RTP", r.err);
	expect(r.out && has_line(r.out, "m=audio 0 RTP/AVP 8") &&
		       has_line(r.out, "m=image 30002 udptl t38") &&
		       has_line(r.out, "a=T38FaxVersion:0") && !strstr(r.out, "10.0.0.7"),
	       "a refused stream keeps port 0, its c= names the relay; the next gets its ports",
	       r.out ? r.out : r.err);
	rewrite_done(&r);

	rewrite(SDP_HEAD "m=audio 0 RTP/AVP 8\r\nm=video 0 RTP/AVP 96\r\n", &answered, RELAY, &r);
	expect(r.rc == 0 && !r.desc.hold && r.desc.family == XT_AF_INET,
	       "every stream refused after the first offer: valid, not on hold", r.err);
	rewrite_done(&r);
	refused("every stream refused in the first offer: nothing to relay",
		SDP_HEAD "m=audio 0 RTP/AVP 8\r\n", &first_offer, -EINVAL, "no media to relay");
	refused("fewer m= lines than negotiated (RFC 3264)", SDP_HEAD "m=audio 6000 RTP/AVP 8\r\n",
		&answered, -EINVAL, "fewer than the 2 negotiated");

	n = (size_t)snprintf(big, sizeof(big), "%s", SDP_HEAD);
	for (int i = 0; i < XT_MAX_STREAMS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "m=audio %d RTP/AVP 0\r\n",
				      6000 + 2 * i);
	rewrite(big, &first_offer, RELAY, &r);
	expect(r.rc == 0 && r.desc.nstreams == XT_MAX_STREAMS && r.out &&
		       has_line(r.out, "m=audio 30030 RTP/AVP 0"),
	       "16 streams are relayed", r.out ? r.out : r.err);
	rewrite_done(&r);
	snprintf(big + n, sizeof(big) - n, "m=audio 7000 RTP/AVP 0\r\n");
	refused("a 17th stream is refused, not truncated", big, &first_offer, -EINVAL,
		"SDP with 17 m= lines (1 to 16 supported)");
	rewrite(SDP_HEAD "m=audio 6000 RTP/AVP 8\r\nm=audio 0 RTP/AVP 8\r\n"
			 "m=video 6004 RTP/AVP 96\r\nm=audio 6006 RTP/AVP 8\r\n"
			 "a=rtcp:6007 IN IP4 127.0.0.1\r\n",
		&(struct xt_sdp_call){ .max_streams = 2 }, RELAY, &r);
	expect(r.rc == 0 && r.desc.nstreams == 4 && r.desc.over_limit == 1 &&
		       r.desc.streams[0].accepted && !r.desc.streams[1].accepted &&
		       r.desc.streams[2].accepted && !r.desc.streams[3].accepted,
	       "streams past max_streams (counting those with a port) are refused, not the SDP",
	       r.err);
	expect(r.out && has_line(r.out, "m=audio 30000 RTP/AVP 8") &&
		       has_line(r.out, "m=video 30004 RTP/AVP 96") &&
		       has_line(r.out, "m=audio 0 RTP/AVP 8") && !strstr(r.out, "6006") &&
		       !strstr(r.out, "127.0.0.1"),
	       "... sent on with port 0 (RFC 3264 6), its address unchecked and not shown",
	       r.out ? r.out : r.err);
	rewrite_done(&r);
}

static void test_families(void)
{
	static const struct xt_sdp_call ipv4 = { .family = XT_AF_INET, .nstreams = 1 };
	struct rewrite r;

	rewrite("v=0\r\no=pbx 1 1 IN IP6 fd00::1\r\ns=-\r\nc=IN IP6 fd00::1\r\nt=0 0\r\n"
		"m=audio 6000 RTP/AVP 8\r\na=rtcp:6001 IN IP6 fd00::2\r\n",
		&first_offer, "fd00:99::1", &r);
	expect(r.rc == 0 && r.desc.family == XT_AF_INET6 &&
		       r.desc.streams[0].peer_rtcp.addr[15] == 2 && r.out &&
		       has_line(r.out, "c=IN IP6 fd00:99::1") &&
		       has_line(r.out, "o=xtrunk 42 3 IN IP6 fd00:99::1") &&
		       has_line(r.out, "a=rtcp:30001 IN IP6 fd00:99::1"),
	       "an IPv6 offer names the relay's IPv6 address", r.out ? r.out : r.err);
	rewrite_done(&r);
	refused("an IPv6 stream in an IPv4 call",
		"v=0\r\no=pbx 1 1 IN IP6 fd00::1\r\ns=-\r\nc=IN IP6 fd00::1\r\nt=0 0\r\n"
		"m=audio 6000 RTP/AVP 8\r\n",
		&ipv4, -EINVAL, "m= line 1: address family differs from the call's");
	refused("two families in one SDP",
		SDP_HEAD "m=audio 6000 RTP/AVP 8\r\nm=audio 6002 RTP/AVP 8\r\nc=IN IP6 fd00::1\r\n",
		&first_offer, -EINVAL, "m= line 2: address family differs");
	refused("a multicast-less, addressless stream",
		"v=0\r\no=pbx 1 1 IN IP4 10.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8\r\n"
		"c=IN IP4 pbx.example\r\n",
		&first_offer, -EINVAL, "no usable c= address");
}

static void test_malformed(void)
{
	refused("an m= line that is not tokens is malformed (400)",
		SDP_HEAD "m=audio 60c0 RTP/AVP 8\r\n", &first_offer, -EBADMSG,
		"m= line 1 is not tokens");
	refused("a=rtpmap without an encoding is malformed (sofia-sip would print \"(null)\")",
		SDP_HEAD "m=audio 6000 RTP/AVP 8\r\na=rtpmap:8\v8000\r\n", &first_offer, -EBADMSG,
		"m= line 1: a=rtpmap:8, no encoding");
	refused("no m= line", SDP_HEAD, &first_offer, -EINVAL, "SDP with 0 m= lines");
	refused("a port out of range", SDP_HEAD "m=audio 99999 RTP/AVP 8\r\n", &first_offer,
		-EINVAL, "port out of range");
	refused("RTP on port 65535 leaves RTCP no port: refused (488), not relayed to port 0",
		SDP_HEAD "m=audio 65535 RTP/AVP 8\r\n", &first_offer, -EINVAL,
		"RTP port 65535 leaves no port for RTCP");
	refused("a port count (6000/2) is refused (488), not copied onto the relay's port",
		SDP_HEAD "m=audio 6000/2 RTP/AVP 8\r\n", &first_offer, -EINVAL,
		"a port count (PORT/N) is not supported");
	refused("not SDP at all", "hello", &first_offer, -EBADMSG, "malformed SDP");
}

/* Rendering changes nothing in the parsed SDP: twice gives the same text. */
static void test_pure(void)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	static const char text[] = SDP_HEAD "m=audio 6000 RTP/AVP 8\r\na=rtcp:6001\r\n";
	struct xt_sdp_call call = { 0 };
	struct xt_sdp_description desc;
	struct xt_sdp_relay relay = { .address = RELAY, .ports = { { 30000, 30001 } } };
	char *a = NULL, *b = NULL, err[256] = "";
	sdp_parser_t *parser;
	const sdp_session_t *sdp;
	int ok;

	ok = !xt_sdp_parse(home, text, strlen(text), &parser, err, sizeof(err));
	sdp = ok ? sdp_session(parser) : NULL;
	ok = ok && !xt_sdp_describe(sdp, &call, &desc, err, sizeof(err)) &&
	     !xt_sdp_render(sdp, &desc, &relay, &a, err, sizeof(err)) &&
	     !xt_sdp_render(sdp, &desc, &relay, &b, err, sizeof(err));
	expect(ok && !strcmp(a, b) && sdp->sdp_media->m_port == 6000 &&
		       !strcmp(sdp->sdp_connection->c_address, "10.0.0.1") &&
		       !strcmp(sdp_attribute_find(sdp->sdp_media->m_attributes, "rtcp")->a_value,
			       "6001"),
	       "render leaves the parsed SDP as it was and gives the same text twice",
	       ok ? a : err);
	free(a);
	free(b);
	if (sdp)
		sdp_parser_free(parser);
	su_home_deinit(home);
}

int main(void)
{
	test_offer();
	test_hold();
	test_streams();
	test_families();
	test_malformed();
	test_pure();
	printf("sdp: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
