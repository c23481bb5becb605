// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Fuzz target: the SDP rewriter (sdp_rewrite.c: xt_sdp_parse, xt_sdp_describe,
 * xt_sdp_render), a pure function: no su_root, no sockets, no data path.
 *
 * Input: SDP bodies separated by "=====" lines. The first is the PBX's
 * offer, the next the trunk's answer, then re-offers and answers
 * alternating sides. A part "REJECT" rolls the call back to before the
 * previous SDP, as a rejected offer does (RFC 3264 8). Between the SDPs the
 * target keeps what the media session would: the call's family and stream
 * count, and gives each accepted stream relay ports of its own.
 *
 * After every SDP the rewriter accepts: what it renders parses again, names
 * only the relay (c=, o=, a=rtcp) and the relay ports it was given (m=),
 * refused streams keep port 0, it describes again as the same streams, and
 * rendering twice gives the same text. An SDP it refuses says why.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include "xtrunk_abi.h"
#include "fuzz_common.h"
#include "sdp_rewrite.h"

#define PBX_ADDR "127.0.0.1"
#define TRUNK_ADDR "127.0.0.2"
#define PORT_BASE 42000

enum { PBX, TRUNK };

/* The relay's address on side `to` for a family; NULL: none (IPv6 on the trunk side). */
static const char *relay_address_for(int to, uint8_t family)
{
	if (family == XT_AF_INET6)
		return to == PBX ? "::1" : NULL;
	return to == PBX ? PBX_ADDR : TRUNK_ADDR;
}

/* The relay's own address on side. */
static bool relay_address(int side, const char *text)
{
	return text && (!strcmp(text, side == PBX ? PBX_ADDR : TRUNK_ADDR) ||
			(side == PBX && !strcmp(text, "::1")));
}

/* A c= the relay may pass on: its own address, or the unspecified one (RFC 2543 hold). */
static bool connection_address(int side, const char *text)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (relay_address(side, text))
		return true;
	return text && ((inet_pton(AF_INET, text, &a4) == 1 && a4.s_addr == 0) ||
			(inet_pton(AF_INET6, text, &a6) == 1 && IN6_IS_ADDR_UNSPECIFIED(&a6)));
}

/* Relay ports for stream i on side `to`: what a port pool would hand out, without sockets. */
static uint16_t relay_port(int to, unsigned int i)
{
	return (uint16_t)(PORT_BASE + to * 100 + 2 * i);
}

static void check_media(int to, const sdp_media_t *m, unsigned int i, const struct xt_sdp_stream *d,
			const char *out)
{
	const sdp_attribute_t *a = sdp_attribute_find(m->m_attributes, "rtcp");

	for (const sdp_connection_t *c = m->m_connections; c; c = c->c_next)
		fuzz_assert(connection_address(to, c->c_address), "media c= names %s\n%s",
			    c->c_address, out);
	if (!d->accepted) {
		fuzz_assert(m->m_port == 0, "refused stream %u has port %lu\n%s", i + 1, m->m_port,
			    out);
		return;
	}
	fuzz_assert(m->m_port == relay_port(to, i), "m= port %lu is not the relay's %u\n%s",
		    m->m_port, relay_port(to, i), out);
	if (a && a->a_value) {
		char addr[64];

		fuzz_assert(strtoul(a->a_value, NULL, 10) == m->m_port + 1,
			    "a=rtcp:%s is not the relay's RTCP port\n%s", a->a_value, out);
		if (sscanf(a->a_value, "%*u IN IP%*1[46] %63s", addr) == 1)
			fuzz_assert(relay_address(to, addr), "a=rtcp names %s\n%s", addr, out);
	}
}

/* What the relay sends to side `to` parses, names the relay only, and describes as the input. */
static void check_output(int to, const char *out, const struct xt_sdp_description *desc)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct xt_sdp_call call = { .family = desc->family, .nstreams = desc->nstreams };
	struct xt_sdp_description again;
	sdp_parser_t *parser;
	const sdp_session_t *sdp;
	const sdp_media_t *m;
	unsigned int i;
	char err[256];
	int rc;

	rc = xt_sdp_parse(home, out, strlen(out), &parser, err, sizeof(err));
	fuzz_assert(!rc, "output does not parse: %s\n%s", err, out);
	sdp = sdp_session(parser);
	if (sdp->sdp_origin)
		fuzz_assert(relay_address(to, sdp->sdp_origin->o_address->c_address),
			    "o= names %s\n%s", sdp->sdp_origin->o_address->c_address, out);
	for (const sdp_connection_t *c = sdp->sdp_connection; c; c = c->c_next)
		fuzz_assert(connection_address(to, c->c_address), "session c= names %s\n%s",
			    c->c_address, out);
	for (m = sdp->sdp_media, i = 0; m; m = m->m_next, i++) {
		fuzz_assert(i < desc->nstreams, "output has more m= lines than %u\n%s",
			    desc->nstreams, out);
		check_media(to, m, i, &desc->streams[i], out);
	}
	fuzz_assert(i == desc->nstreams, "output has %u m= lines, not %u\n%s", i, desc->nstreams,
		    out);
	rc = xt_sdp_describe(sdp, &call, &again, err, sizeof(err));
	fuzz_assert(!rc, "output does not describe: %s\n%s", err, out);
	fuzz_assert(again.hold == desc->hold && again.family == desc->family,
		    "output holds %d (family %u), the input %d (family %u)\n%s", again.hold,
		    again.family, desc->hold, desc->family, out);
	for (i = 0; i < desc->nstreams; i++)
		fuzz_assert(again.streams[i].accepted == desc->streams[i].accepted &&
				    again.streams[i].direction == desc->streams[i].direction &&
				    again.streams[i].rtcp_mux == desc->streams[i].rtcp_mux,
			    "stream %u is described otherwise from the output\n%s", i + 1, out);
	sdp_parser_free(parser);
	su_home_deinit(home);
}

/* What the description says of itself, whatever the SDP. */
static void check_description(const struct xt_sdp_description *desc)
{
	bool any = false, all_hold = true;

	fuzz_assert(desc->nstreams >= 1 && desc->nstreams <= XT_MAX_STREAMS, "%u streams",
		    desc->nstreams);
	fuzz_assert(desc->family == XT_AF_INET || desc->family == XT_AF_INET6, "family %u",
		    desc->family);
	for (unsigned int i = 0; i < desc->nstreams; i++) {
		const struct xt_sdp_stream *d = &desc->streams[i];

		if (!d->accepted) {
			fuzz_assert(d->peer_rtp.family == 0, "refused stream %u has a peer", i + 1);
			continue;
		}
		any = true;
		all_hold &= d->holds;
		fuzz_assert(d->peer_rtp.family == desc->family &&
				    d->peer_rtcp.family == desc->family,
			    "stream %u: peer family %u, the call's %u", i + 1, d->peer_rtp.family,
			    desc->family);
		fuzz_assert(d->peer_rtp.port != 0, "accepted stream %u with port 0", i + 1);
		fuzz_assert(d->rtcp_attr || d->peer_rtcp.port == (uint16_t)(d->peer_rtp.port + 1),
			    "stream %u: RTCP on %u without a=rtcp", i + 1, d->peer_rtcp.port);
		fuzz_assert(!d->clock_hz || d->rtp, "stream %u: a clock without RTP", i + 1);
	}
	fuzz_assert(desc->hold == (any && all_hold), "hold %d, streams say %d", desc->hold,
		    any && all_hold);
}

/* One SDP from side `from`: 0 and the call moved on, or refused. */
static int rewrite(struct xt_sdp_call *call, int from, const uint8_t *data, size_t len)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct xt_sdp_description desc;
	struct xt_sdp_relay relay = { .origin_id = 7, .origin_version = 1 };
	sdp_parser_t *parser = NULL;
	char *body, *out = NULL, *again = NULL, err[256] = "";
	const char *address;
	int to = 1 - from, rc;

	/* exactly the bytes given: the rewriter must not read past them */
	body = malloc(len ? len : 1);
	memcpy(body, data, len);
	rc = xt_sdp_parse(home, body, len, &parser, err, sizeof(err));
	free(body);
	if (!rc)
		rc = xt_sdp_describe(sdp_session(parser), call, &desc, err, sizeof(err));
	if (rc) {
		fuzz_assert(rc == -EBADMSG || rc == -EINVAL, "unexpected error %d (%s)", rc, err);
		fuzz_assert(err[0], "an error without its reason");
		goto out;
	}
	check_description(&desc);
	address = relay_address_for(to, desc.family);
	if (!address) {
		rc = -EINVAL; /* what the media session refuses: no relay address there */
		goto out;
	}
	snprintf(relay.address, sizeof(relay.address), "%s", address);
	for (unsigned int i = 0; i < desc.nstreams; i++) {
		relay.ports[i].rtp = relay_port(to, i);
		relay.ports[i].rtcp = (uint16_t)(relay_port(to, i) + 1);
	}
	rc = xt_sdp_render(sdp_session(parser), &desc, &relay, &out, err, sizeof(err));
	if (rc) {
		fuzz_assert(!out && err[0], "a render error without its reason");
		goto out;
	}
	check_output(to, out, &desc);
	fuzz_assert(!xt_sdp_render(sdp_session(parser), &desc, &relay, &again, err, sizeof(err)) &&
			    !strcmp(out, again),
		    "rendered twice, differs\n%s", out);
	call->family = desc.family;
	call->nstreams = desc.nstreams;
out:
	free(out);
	free(again);
	if (parser)
		sdp_parser_free(parser);
	su_home_deinit(home);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_part parts[FUZZ_MAX_PARTS];
	struct xt_sdp_call call = { 0 }, before = { 0 };
	unsigned int nparts = fuzz_split(data, size, parts);
	int from = PBX;

	for (unsigned int i = 0; i < nparts; i++) {
		struct xt_sdp_call now = call;

		if (parts[i].len == 6 && !memcmp(parts[i].data, "REJECT", 6)) {
			call = before;
			continue;
		}
		if (rewrite(&call, from, parts[i].data, parts[i].len) == 0)
			from = 1 - from;
		before = now;
	}
	return 0;
}
