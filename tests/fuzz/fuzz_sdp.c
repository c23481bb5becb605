// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Fuzz target: the SDP rewriter (xt_media_session_sdp) of one call, with a
 * real port pool on loopback and the data path in userspace only.
 *
 * Input: SDP bodies separated by "=====" lines. The first is the PBX's
 * offer, the next the trunk's answer, then re-offers and answers
 * alternating sides. A part "REJECT" rolls the session back to before the
 * previous SDP, as a rejected offer does (RFC 3264 8).
 *
 * After every SDP the relay accepts: what it sends parses again, names only
 * the relay (c=, o=, a=rtcp) and relay ports (m=); ports held and flows
 * installed match the streams. An SDP it refuses leaves the session as it
 * was (the B2BUA restores it). After the call ends every port is free and
 * no flow is left.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_wait.h>

#include "xtrunk_abi.h"
#include "fuzz_common.h"
#include "log.h"
#include "media_session.h"

#define PBX_ADDR "127.0.0.1"
#define TRUNK_ADDR "127.0.0.2"
#define PAIRS 12 /* fewer than XT_MAX_STREAMS: the pool can run out */

static struct {
	su_root_t *root;
	struct xt_config config;
	struct xt_dataplane dp;
	struct xt_media_env env;
	const char *addr_text[XT_SIDES];
} fz;

static void setup(void)
{
	static const char *const v4[XT_SIDES] = { PBX_ADDR ":0", TRUNK_ADDR ":0" };
	const char *base = getenv("XT_FUZZ_PORT_BASE");
	unsigned int port = base ? (unsigned int)atoi(base) : 42000;
	char err[128];

	su_init();
	fz.root = su_root_create(NULL);
	xt_config_defaults(&fz.config);
	fz.config.xdp = XT_XDP_OFF;
	for (int side = 0; side < XT_SIDES; side++) {
		struct xt_side_config *sc = &fz.config.side[side];

		xt_endpoint_parse(v4[side], &sc->address, err, sizeof(err));
		/* IPv6 media on the PBX side only: the trunk refuses it */
		if (side == XT_SIDE_PBX)
			xt_endpoint_parse("[::1]:0", &sc->address6, err, sizeof(err));
		else
			memset(&sc->address6, 0, sizeof(sc->address6));
		sc->port_min = (uint16_t)(port + side * 100);
		sc->port_max = (uint16_t)(sc->port_min + 2 * PAIRS - 1);
		xt_port_pool_init(&fz.env.pools[side], sc->name, sc->port_min, sc->port_max);
	}
	fz.addr_text[XT_SIDE_PBX] = PBX_ADDR;
	fz.addr_text[XT_SIDE_TRUNK] = TRUNK_ADDR;
	xt_dataplane_open(&fz.dp, &fz.config, fz.root, false);
	fz.env.config = &fz.config;
	fz.env.dp = &fz.dp;
}

/* The relay's own address on side, in the family of the call. */
static bool relay_address(int side, const char *text)
{
	return text &&
	       (!strcmp(text, fz.addr_text[side]) || (side == XT_SIDE_PBX && !strcmp(text, "::1")));
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

static bool in_pool(int side, unsigned long port)
{
	const struct xt_port_pool *pool = &fz.env.pools[side];

	return port >= pool->port_min && port <= pool->port_max;
}

/* What the relay sends to side `to` parses, and names the relay only. */
static void check_output(int to, const char *out)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	sdp_parser_t *parser = sdp_parse(home, out, (issize_t)strlen(out), sdp_f_mode_manual);
	sdp_session_t *sdp = sdp_session(parser);
	const sdp_connection_t *c;
	const sdp_media_t *m;

	fuzz_assert(sdp, "output does not parse: %s\n%s", sdp_parsing_error(parser), out);
	if (sdp->sdp_origin)
		fuzz_assert(relay_address(to, sdp->sdp_origin->o_address->c_address),
			    "o= names %s\n%s", sdp->sdp_origin->o_address->c_address, out);
	for (c = sdp->sdp_connection; c; c = c->c_next)
		fuzz_assert(connection_address(to, c->c_address), "session c= names %s\n%s",
			    c->c_address, out);
	for (m = sdp->sdp_media; m; m = m->m_next) {
		const sdp_attribute_t *a = sdp_attribute_find(m->m_attributes, "rtcp");

		for (c = m->m_connections; c; c = c->c_next)
			fuzz_assert(connection_address(to, c->c_address), "media c= names %s\n%s",
				    c->c_address, out);
		if (m->m_port == 0)
			continue;
		fuzz_assert(in_pool(to, m->m_port) && m->m_port % 2 == 0,
			    "m= port %lu is no relay RTP port\n%s", m->m_port, out);
		if (a && a->a_value) {
			char addr[64];

			fuzz_assert(strtoul(a->a_value, NULL, 10) == m->m_port + 1,
				    "a=rtcp:%s is not the relay's RTCP port\n%s", a->a_value, out);
			if (sscanf(a->a_value, "%*u IN IP%*1[46] %63s", addr) == 1)
				fuzz_assert(relay_address(to, addr), "a=rtcp names %s\n%s", addr,
					    out);
		}
	}
	sdp_parser_free(parser);
	su_home_deinit(home);
}

/* Ports held and flows installed are exactly those of the session's streams. */
static void check_resources(const struct xt_media_session *ms)
{
	unsigned int allocated = 0, installed = 0;

	for (unsigned int i = 0; i < XT_MAX_STREAMS; i++) {
		allocated += ms->streams[i] && ms->streams[i]->allocated;
		installed += ms->streams[i] && ms->streams[i]->installed;
	}
	for (int side = 0; side < XT_SIDES; side++)
		fuzz_assert(fz.env.pools[side].in_use == allocated,
			    "side %d holds %u port pairs for %u streams", side,
			    fz.env.pools[side].in_use, allocated);
	fuzz_assert(fz.dp.flows == 4 * installed, "%u flows for %u installed streams", fz.dp.flows,
		    installed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_part parts[FUZZ_MAX_PARTS];
	struct xt_media_checkpoint before;
	struct xt_media_session ms;
	struct xt_endpoint pbx_signal;
	unsigned int nparts;
	char err[256];
	int from = XT_SIDE_PBX;

	if (!fz.root)
		setup();
	nparts = fuzz_split(data, size, parts);
	xt_media_session_init(&ms, &fz.env, "fuzz");
	/* the PBX's SIP comes from 10.0.0.1: an SDP naming another address is behind NAT */
	xt_endpoint_parse("10.0.0.1:5060", &pbx_signal, err, sizeof(err));
	xt_media_session_signal_source(&ms, XT_SIDE_PBX, &pbx_signal);
	xt_media_session_save(&ms, &before);

	for (unsigned int i = 0; i < nparts; i++) {
		char *body, *out = NULL;
		int rc;

		if (parts[i].len == 6 && !memcmp(parts[i].data, "REJECT", 6)) {
			xt_media_session_restore(&ms, &before);
			check_resources(&ms);
			continue;
		}
		/* exactly the bytes given: the rewriter must not read past them */
		body = malloc(parts[i].len ? parts[i].len : 1);
		memcpy(body, parts[i].data, parts[i].len);
		xt_media_session_save(&ms, &before);
		err[0] = '\0';
		rc = xt_media_session_sdp(&ms, from, body, parts[i].len, &out, err, sizeof(err));
		free(body);
		if (rc == 0) {
			fuzz_assert(out, "accepted SDP with no output");
			check_output(1 - from, out);
			from = 1 - from;
		} else {
			fuzz_assert(rc == -EBADMSG || rc == -EINVAL || rc == -ENOSPC,
				    "unexpected error %d (%s)", rc, err);
			fuzz_assert(!out && err[0], "an error without its reason");
			/* what the B2BUA does with an SDP it refuses: back to before it */
			xt_media_session_restore(&ms, &before);
		}
		free(out);
		check_resources(&ms);
	}

	xt_media_session_end(&ms);
	for (int side = 0; side < XT_SIDES; side++)
		fuzz_assert(fz.env.pools[side].in_use == 0, "side %d: %u port pairs leaked", side,
			    fz.env.pools[side].in_use);
	fuzz_assert(fz.dp.flows == 0, "%u flows leaked", fz.dp.flows);
	return 0;
}
