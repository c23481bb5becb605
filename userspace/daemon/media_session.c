// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include "xtrunk_abi.h"
#include "log.h"
#include "media_session.h"

#define SDP_FLAGS (sdp_f_all_rtpmaps | sdp_f_mode_manual)

enum { PATH_RTP_AB, PATH_RTP_BA, PATH_RTCP_AB, PATH_RTCP_BA };

void xt_media_session_init(struct xt_media_session *ms, struct xt_media_env *env, const char *id)
{
	uint64_t seed = (uint64_t)time(NULL);

	memset(ms, 0, sizeof(*ms));
	ms->env = env;
	snprintf(ms->id, sizeof(ms->id), "%s", id);
	for (int i = 0; i < XT_SIDES; i++) {
		ms->origin_id[i] = seed + (uint64_t)random();
		ms->origin_version[i] = 1;
	}
}

/* The relay's media address on a side for a family, as configured. */
static const struct xt_endpoint *side_address(const struct xt_media_env *env, int side,
					      uint8_t family)
{
	const struct xt_side_config *sc = &env->config->side[side];

	if (family == XT_AF_INET6)
		return sc->address6.family ? &sc->address6 : NULL;
	return &sc->address;
}

/* What goes into the SDP for a side: the advertised address when behind NAT. */
static void sdp_address_text(const struct xt_media_env *env, int side, const struct xt_endpoint *ep,
			     char *buf, size_t len)
{
	const struct xt_side_config *sc = &env->config->side[side];
	const struct xt_endpoint *shown = sc->advertise.family == ep->family ? &sc->advertise : ep;

	xt_addr_format(shown->family, shown->addr, buf, len);
}

static int parse_sdp_address(const sdp_connection_t *c, struct xt_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (!c || !c->c_address || c->c_nettype != sdp_net_in)
		return -EINVAL;
	if (c->c_addrtype == sdp_addr_ip4 && inet_pton(AF_INET, c->c_address, ep->addr) == 1)
		ep->family = XT_AF_INET;
	else if (c->c_addrtype == sdp_addr_ip6 && inet_pton(AF_INET6, c->c_address, ep->addr) == 1)
		ep->family = XT_AF_INET6;
	else
		return -EINVAL;
	return 0;
}

static bool endpoint_unspecified(const struct xt_endpoint *ep)
{
	static const uint8_t zero[16];

	return !memcmp(ep->addr, zero, ep->family == XT_AF_INET6 ? 16 : 4);
}

/* What a path relayed in XDP and in userspace, and when it last did. */
static void path_activity(struct xt_media_session *ms, struct xt_relay_path *path,
			  struct xt_media_activity *activity)
{
	struct xt_flow_counters c;

	activity->userspace_packets += path->packets;
	if (path->last_seen_ns > activity->last_ns)
		activity->last_ns = path->last_seen_ns;
	if (xt_dataplane_xdp_counters(path, &c))
		return;
	activity->xdp_packets += c.packets;
	if (c.last_seen_ns > activity->last_ns)
		activity->last_ns = c.last_seen_ns;
}

/* Remove a stream's flows; what they relayed stays in the session's totals. */
static void stream_uninstall(struct xt_media_session *ms, struct xt_stream *st)
{
	if (!st->installed)
		return;
	for (int i = 0; i < 4; i++) {
		path_activity(ms, &st->paths[i], &ms->gone);
		xt_dataplane_remove(&st->paths[i]);
	}
	st->installed = false;
}

static void stream_release(struct xt_media_session *ms, struct xt_stream *st)
{
	struct xt_media_env *env = ms->env;

	stream_uninstall(ms, st);
	if (st->allocated)
		for (int side = 0; side < XT_SIDES; side++)
			xt_port_pool_put(&env->pools[side], &st->relay[side]);
	memset(st, 0, sizeof(*st));
}

/* A new, empty stream at index i (streams are allocated as SDPs add them). */
static struct xt_stream *stream_new(struct xt_media_session *ms, unsigned int i)
{
	if (!ms->streams[i])
		ms->streams[i] = calloc(1, sizeof(*ms->streams[i]));
	return ms->streams[i];
}

/* Let go of the stream at index i: flows, ports, memory. */
static void stream_drop(struct xt_media_session *ms, unsigned int i)
{
	if (!ms->streams[i])
		return;
	stream_release(ms, ms->streams[i]);
	free(ms->streams[i]);
	ms->streams[i] = NULL;
}

static int stream_allocate(struct xt_media_env *env, struct xt_stream *st, uint8_t family,
			   char *err, size_t errlen)
{
	for (int side = 0; side < XT_SIDES; side++) {
		const struct xt_endpoint *addr = side_address(env, side, family);
		int rc;

		if (!addr) {
			snprintf(err, errlen, "side %s has no %s media address",
				 env->config->side[side].name,
				 family == XT_AF_INET6 ? "IPv6" : "IPv4");
			while (--side >= 0)
				xt_port_pool_put(&env->pools[side], &st->relay[side]);
			return -EINVAL;
		}
		rc = xt_port_pool_get(&env->pools[side], addr, &st->relay[side]);
		if (rc) {
			snprintf(err, errlen, "no free relay port on side %s",
				 env->config->side[side].name);
			while (--side >= 0)
				xt_port_pool_put(&env->pools[side], &st->relay[side]);
			return rc;
		}
	}
	st->allocated = true;
	return 0;
}

/* A packet arriving at our port on `in` goes to the other side's peer. */
static void path_spec(const struct xt_media_session *ms, const struct xt_stream *st, int in,
		      bool rtcp, struct xt_flow_spec *spec)
{
	const struct xt_media_env *env = ms->env;
	int out = 1 - in;

	memset(spec, 0, sizeof(*spec));
	spec->local = rtcp ? st->relay[in].rtcp : st->relay[in].rtp;
	spec->relay = rtcp ? st->relay[out].rtcp : st->relay[out].rtp;
	spec->peer = rtcp ? st->peer_rtcp[out] : st->peer_rtp[out];
	/* Only the address the SDP gave may send (the SIP source's, behind NAT);
	 * any port of it, as RTP is often not symmetric, unless the side latches:
	 * then its first packet fixes the port and the reverse flow answers there. */
	spec->has_src = true;
	spec->src = rtcp ? st->peer_rtcp[in] : st->peer_rtp[in];
	spec->src.port = 0;
	if (ms->side[in].latch) {
		spec->latch = true;
		spec->has_reverse = true;
		spec->reverse = rtcp ? st->relay[out].rtcp : st->relay[out].rtp;
	}
	spec->dscp = env->config->dscp;
	/* call quality is measured on RTP; RTCP is not RTP */
	spec->rtp_clock_hz = rtcp ? 0 : st->clock_hz;
}

static int stream_install(struct xt_media_session *ms, struct xt_stream *st, unsigned int index)
{
	struct xt_media_env *env = ms->env;

	static const struct {
		int in;
		bool rtcp;
	} dirs[4] = { [PATH_RTP_AB] = { 0, false },
		      [PATH_RTP_BA] = { 1, false },
		      [PATH_RTCP_AB] = { 0, true },
		      [PATH_RTCP_BA] = { 1, true } };

	for (int i = 0; i < 4; i++) {
		struct xt_flow_spec spec;
		int in = dirs[i].in, rc;
		int in_fd = dirs[i].rtcp ? st->relay[in].rtcp_fd : st->relay[in].rtp_fd;
		int out_fd = dirs[i].rtcp ? st->relay[1 - in].rtcp_fd : st->relay[1 - in].rtp_fd;

		path_spec(ms, st, in, dirs[i].rtcp, &spec);
		rc = xt_dataplane_install(env->dp, &st->paths[i], &spec, in_fd, out_fd);
		if (rc) {
			pr_warn("call %s: cannot install a flow: %s\n", ms->id, strerror(-rc));
			while (--i >= 0)
				xt_dataplane_remove(&st->paths[i]);
			return rc;
		}
	}
	/* userspace latching, as spec.reverse tells XDP: who answers whom */
	xt_dataplane_pair(&st->paths[PATH_RTP_AB], &st->paths[PATH_RTP_BA]);
	xt_dataplane_pair(&st->paths[PATH_RTP_BA], &st->paths[PATH_RTP_AB]);
	xt_dataplane_pair(&st->paths[PATH_RTCP_AB], &st->paths[PATH_RTCP_BA]);
	xt_dataplane_pair(&st->paths[PATH_RTCP_BA], &st->paths[PATH_RTCP_AB]);
	st->installed = true;
	{
		char a[XT_ENDPOINT_STRLEN], b[XT_ENDPOINT_STRLEN];

		xt_endpoint_format(&st->peer_rtp[0], a, sizeof(a));
		xt_endpoint_format(&st->peer_rtp[1], b, sizeof(b));
		pr_info("call %s: stream %u: media to %s %s%s, to %s %s%s\n", ms->id, index + 1,
			env->config->side[0].name, a, ms->side[0].latch ? " (latching)" : "",
			env->config->side[1].name, b, ms->side[1].latch ? " (latching)" : "");
	}
	return 0;
}

/* Installed paths still match what the SDPs now say? */
static bool stream_paths_current(const struct xt_media_session *ms, const struct xt_stream *st)
{
	for (int i = 0; i < 4; i++) {
		const struct xt_flow_spec *now = &st->paths[i].spec;
		struct xt_flow_spec spec;

		path_spec(ms, st, i == PATH_RTP_BA || i == PATH_RTCP_BA, i >= PATH_RTCP_AB, &spec);
		if (!xt_endpoint_equal(&spec.peer, &now->peer) ||
		    !xt_endpoint_equal(&spec.src, &now->src) || spec.latch != now->latch ||
		    spec.rtp_clock_hz != now->rtp_clock_hz)
			return false;
	}
	return true;
}

/* a=rtcp:PORT [IN IP4 ADDR] (RFC 3605): where the side wants RTCP. */
static void learn_rtcp(sdp_media_t *m, const struct xt_endpoint *rtp, struct xt_endpoint *rtcp)
{
	sdp_attribute_t *a = sdp_attribute_find(m->m_attributes, "rtcp");
	char addr[64];
	unsigned long port;

	*rtcp = *rtp;
	rtcp->port = (uint16_t)(rtp->port + 1);
	if (!a || !a->a_value)
		return;
	port = strtoul(a->a_value, NULL, 10);
	if (port > 0 && port < 65536)
		rtcp->port = (uint16_t)port;
	if (sscanf(a->a_value, "%*u IN IP%*1[46] %63s", addr) == 1) {
		struct xt_endpoint parsed;

		if (inet_pton(AF_INET, addr, parsed.addr) == 1 && rtp->family == XT_AF_INET)
			memcpy(rtcp->addr, parsed.addr, 4);
		else if (inet_pton(AF_INET6, addr, parsed.addr) == 1 && rtp->family == XT_AF_INET6)
			memcpy(rtcp->addr, parsed.addr, 16);
	}
}

/* A c= line of 0.0.0.0 (or ::). */
static bool session_unspecified(const sdp_connection_t *c)
{
	struct xt_endpoint ep;

	return !parse_sdp_address(c, &ep) && endpoint_unspecified(&ep);
}

/* a=NAME at media level, else at session level. */
static bool has_attribute(const sdp_session_t *sdp, const sdp_media_t *m, const char *name)
{
	return sdp_attribute_find(m->m_attributes, name) ||
	       sdp_attribute_find(sdp->sdp_attributes, name);
}

/*
 * Hold (RFC 3264 8.4, and RFC 2543's c=0.0.0.0): every stream the SDP keeps
 * is sendonly or inactive, or has no address to send to.
 */
static bool sdp_holds(const sdp_session_t *sdp)
{
	const sdp_media_t *m;
	bool any = false;

	for (m = sdp->sdp_media; m; m = m->m_next) {
		const sdp_connection_t *c = m->m_connections ? m->m_connections :
							       sdp->sdp_connection;
		struct xt_endpoint ep;

		if (m->m_port == 0)
			continue;
		any = true;
		if (has_attribute(sdp, m, "sendonly") || has_attribute(sdp, m, "inactive"))
			continue;
		if (!parse_sdp_address(c, &ep) && endpoint_unspecified(&ep))
			continue;
		return false;
	}
	return any;
}

/* The first codec's RTP clock, or 0 when the stream is not RTP (T.38 over UDPTL). */
static uint32_t stream_clock(const sdp_media_t *m, uint32_t current)
{
	if (!m->m_proto_name || strncasecmp(m->m_proto_name, "RTP/", 4))
		return 0;
	if (m->m_rtpmaps && m->m_rtpmaps->rm_rate)
		return (uint32_t)m->m_rtpmaps->rm_rate;
	if (current)
		return current;
	return m->m_type == sdp_media_audio ? 8000 : 0;
}

/*
 * NAT: a side whose SDP names another address than the one its SIP came
 * from is behind NAT; its media will come from the SIP source's address.
 * Latching follows the side's configuration (auto: when behind NAT).
 */
static void learn_side(struct xt_media_session *ms, int from, const struct xt_endpoint *sdp_addr)
{
	struct xt_side_media *sm = &ms->side[from];
	enum xt_latch_mode mode = ms->env->config->side[from].latch;

	sm->nat = sm->signal.family && sm->signal.family == sdp_addr->family &&
		  !endpoint_unspecified(sdp_addr) && !xt_endpoint_addr_equal(&sm->signal, sdp_addr);
	sm->latch = mode == XT_LATCH_ON || (mode == XT_LATCH_AUTO && sm->nat);
}

/* Where the side's media comes from and goes to: its SDP's, or its SIP source's behind NAT. */
static void media_address(const struct xt_media_session *ms, int side, struct xt_endpoint *ep)
{
	const struct xt_side_media *sm = &ms->side[side];

	if (sm->nat && sm->latch && !endpoint_unspecified(ep))
		memcpy(ep->addr, sm->signal.addr, sizeof(ep->addr));
}

void xt_media_session_signal_source(struct xt_media_session *ms, int side,
				    const struct xt_endpoint *source)
{
	ms->side[side].signal = *source;
	ms->side[side].signal.port = 0;
}

bool xt_media_session_on_hold(const struct xt_media_session *ms)
{
	return ms->side[0].hold || ms->side[1].hold;
}

/* RFC 4566 token-char: visible ASCII but "(),/:;<=>?@[\\]{} */
static bool token_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

/* One field of an m= line: tokens joined by "/" (at most slashes of them), or digits. */
static bool media_field(const char *p, size_t len, unsigned int slashes, bool digits)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '/' && run && slashes) {
			slashes--;
			run = 0;
		} else if (digits ? (ch >= '0' && ch <= '9') : token_char(ch)) {
			run++;
		} else {
			return false;
		}
	}
	return run > 0;
}

/*
 * An m= line is "media port[/count] proto[/proto...] fmt...", one SP between
 * fields (RFC 4566 5.14). sofia-sip's parser loops allocating until memory
 * runs out on formats it cannot split after a non-RTP protocol ("m=image 0
 * udptl \x7f", "m=audio 0 RP\t/AVP 8", "m=audio 70c RTP/AVP//"): such SDP
 * never reaches it. Returns the number of the first bad m= line, or 0.
 */
static unsigned int bad_media_line(const char *body, size_t len)
{
	unsigned int line = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned int field = 0;
		size_t start;

		if (i && body[i - 1] != '\n' && body[i - 1] != '\r')
			continue;
		while (i < len && (body[i] == ' ' || body[i] == '\t'))
			i++; /* sofia-sip skips them at the start of a line */
		if (len - i < 2 || body[i] != 'm' || body[i + 1] != '=')
			continue;
		line++;
		for (start = i += 2;; i++) {
			bool end = i == len || body[i] == '\r' || body[i] == '\n';
			/* port[/count], proto/proto..., then tokens */
			unsigned int slashes = field == 1 ? 1 : field == 2 ? 8 : 0;

			if (!end && body[i] != ' ')
				continue;
			if (!(end && field >= 4 && i == start) && /* a trailing SP is let be */
			    !media_field(body + start, i - start, slashes, field == 1))
				return line;
			field++;
			start = i + 1;
			if (end)
				break;
		}
		if (field < 4)
			return line; /* no format */
	}
	return 0;
}

static int render(su_home_t *home, sdp_session_t *sdp, char **out, char *err, size_t errlen)
{
	int flags = SDP_FLAGS;
	sdp_printer_t *printer;
	const char *text;

	/* A dynamic payload type the SDP gave no a=rtpmap for has no encoding:
	 * sdp_f_all_rtpmaps would print "a=rtpmap:96 /0", which no parser takes;
	 * then print only the a=rtpmap lines the SDP had. */
	for (sdp_media_t *m = sdp->sdp_media; m; m = m->m_next)
		for (sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next)
			if (!rm->rm_encoding || !rm->rm_encoding[0])
				flags &= ~sdp_f_all_rtpmaps;
	printer = sdp_print(home, sdp, NULL, 0, flags);
	text = printer ? sdp_message(printer) : NULL;
	if (!text) {
		snprintf(err, errlen, "cannot print SDP: %s",
			 printer ? sdp_printing_error(printer) : "out of memory");
		return -EINVAL;
	}
	*out = strdup(text);
	sdp_printer_free(printer);
	return *out ? 0 : -ENOMEM;
}

int xt_media_session_sdp(struct xt_media_session *ms, int from, const char *body, size_t len,
			 char **out, char *err, size_t errlen)
{
	struct xt_media_env *env = ms->env;
	su_home_t home[1] = { SU_HOME_INIT(home) };
	char addr_text[XT_SIDES][XT_MAX_STREAMS][INET6_ADDRSTRLEN];
	char rtcp_text[XT_MAX_STREAMS][96];
	char session_addr[INET6_ADDRSTRLEN], username[] = "xtrunk";
	sdp_connection_t conns[XT_MAX_STREAMS], session_conn, origin_conn;
	int to = 1 - from, rc = 0;
	sdp_parser_t *parser;
	sdp_session_t *sdp;
	sdp_media_t *m;
	unsigned int n = 0, i;
	bool hold, changed = false;

	*out = NULL;
	n = bad_media_line(body, len);
	if (n) {
		snprintf(err, errlen, "malformed SDP: m= line %u is not tokens", n);
		return -EBADMSG;
	}
	parser = sdp_parse(home, body, (issize_t)len, sdp_f_mode_manual);
	sdp = sdp_session(parser);
	if (!sdp) {
		snprintf(err, errlen, "malformed SDP: %s", sdp_parsing_error(parser));
		rc = -EBADMSG;
		goto out;
	}
	for (m = sdp->sdp_media; m; m = m->m_next)
		n++;
	if (n == 0 || n > XT_MAX_STREAMS) {
		snprintf(err, errlen, "SDP with %u m= lines (1 to %d supported)", n,
			 XT_MAX_STREAMS);
		rc = -EINVAL;
		goto out;
	}
	if (n < ms->nstreams) {
		snprintf(err, errlen,
			 "SDP has %u m= lines, fewer than the %u negotiated (RFC 3264)", n,
			 ms->nstreams);
		rc = -EINVAL;
		goto out;
	}

	/* Learn and validate every stream before changing anything. */
	for (m = sdp->sdp_media, i = 0; m; m = m->m_next, i++) {
		struct xt_endpoint addr;
		sdp_connection_t *c = m->m_connections ? m->m_connections : sdp->sdp_connection;

		/* sofia-sip takes "a=rtpmap:8\v..." with no encoding; it would print "(null)" */
		for (sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next)
			if (!rm->rm_predef && (!rm->rm_encoding || !rm->rm_encoding[0])) {
				snprintf(err, errlen,
					 "malformed SDP: m= line %u: a=rtpmap:%u, no encoding",
					 i + 1, rm->rm_pt);
				rc = -EBADMSG;
				goto out;
			}
		if (m->m_port == 0)
			continue;
		if (m->m_port > 65535 || parse_sdp_address(c, &addr)) {
			snprintf(err, errlen, "m= line %u: %s", i + 1,
				 m->m_port > 65535 ? "port out of range" :
						     "no usable c= address (IN IP4/IP6 unicast)");
			rc = -EINVAL;
			goto out;
		}
		if (ms->family && addr.family != ms->family) {
			snprintf(err, errlen, "m= line %u: address family differs from the call's",
				 i + 1);
			rc = -EINVAL;
			goto out;
		}
		ms->family = addr.family;
	}
	if (!ms->family) {
		/* A first offer with every port 0 asks for nothing to relay: 488.
		 * Later, every stream rejected is still a valid SDP (IPv4 kept). */
		if (!ms->nstreams) {
			snprintf(err, errlen, "no media to relay: every m= line has port 0");
			rc = -EINVAL;
			goto out;
		}
		ms->family = XT_AF_INET;
	}
	hold = sdp_holds(sdp);
	if (hold != ms->side[from].hold) {
		ms->side[from].hold = hold;
		changed = true;
		pr_info("call %s: %s %s the call\n", ms->id, env->config->side[from].name,
			hold ? "holds" : "resumes");
	}
	/* The relay's address on the other side: the SDP names nothing else. */
	{
		const struct xt_endpoint *relay = side_address(env, to, ms->family);

		if (!relay) {
			snprintf(err, errlen, "side %s has no IPv6 media address",
				 env->config->side[to].name);
			rc = -EINVAL;
			goto out;
		}
		sdp_address_text(env, to, relay, session_addr, sizeof(session_addr));
	}

	for (m = sdp->sdp_media, i = 0; m; m = m->m_next, i++) {
		struct xt_stream *st = ms->streams[i];
		sdp_connection_t *c = m->m_connections ? m->m_connections : sdp->sdp_connection;
		sdp_attribute_t *rtcp_attr;
		const struct xt_endpoint *relay;

		if (m->m_port == 0) {
			/* rejected or removed stream: keeps port 0, holds no relay port,
			 * and its c= (if any) names the relay too */
			stream_drop(ms, i);
			if (m->m_connections) {
				conns[i] = *m->m_connections;
				conns[i].c_next = NULL;
				conns[i].c_addrtype = ms->family == XT_AF_INET6 ? sdp_addr_ip6 :
										  sdp_addr_ip4;
				conns[i].c_address = session_addr;
				m->m_connections = &conns[i];
			}
			continue;
		}
		if (!st && !(st = stream_new(ms, i))) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOSPC;
			goto out;
		}
		if (!st->allocated) {
			rc = stream_allocate(env, st, ms->family, err, errlen);
			if (rc)
				goto out;
		}
		/* RTP timestamps run at the first codec's clock (8000 for G.711) */
		st->clock_hz = stream_clock(m, st->clock_hz);
		parse_sdp_address(c, &st->peer_rtp[from]);
		st->peer_rtp[from].port = (uint16_t)m->m_port;
		learn_side(ms, from, &st->peer_rtp[from]);
		learn_rtcp(m, &st->peer_rtp[from], &st->peer_rtcp[from]);
		st->peer_known[from] = !endpoint_unspecified(&st->peer_rtp[from]);
		media_address(ms, from, &st->peer_rtp[from]);
		media_address(ms, from, &st->peer_rtcp[from]);

		/* Rewrite for the other side: our port, our address. */
		relay = &st->relay[to].rtp;
		m->m_port = relay->port;
		sdp_address_text(env, to, relay, addr_text[to][i], sizeof(addr_text[to][i]));
		/* one c=, the relay's; but c=0.0.0.0 (RFC 2543 hold) says "send
		 * nothing" and stays as it is */
		if (m->m_connections) {
			conns[i] = *m->m_connections;
			conns[i].c_next = NULL;
			if (st->peer_known[from]) {
				conns[i].c_addrtype = ms->family == XT_AF_INET6 ? sdp_addr_ip6 :
										  sdp_addr_ip4;
				conns[i].c_address = addr_text[to][i];
			}
			m->m_connections = &conns[i];
		}
		rtcp_attr = sdp_attribute_find(m->m_attributes, "rtcp");
		if (rtcp_attr && rtcp_attr->a_value) {
			if (strstr(rtcp_attr->a_value, " IN "))
				snprintf(rtcp_text[i], sizeof(rtcp_text[i]), "%u IN IP%c %s",
					 st->relay[to].rtcp.port,
					 ms->family == XT_AF_INET6 ? '6' : '4', addr_text[to][i]);
			else
				snprintf(rtcp_text[i], sizeof(rtcp_text[i]), "%u",
					 st->relay[to].rtcp.port);
			rtcp_attr->a_value = rtcp_text[i];
		}
	}
	ms->nstreams = n;

	/* Session level: c= and o= name the relay, never the other side. */
	if (sdp->sdp_connection) {
		session_conn = *sdp->sdp_connection;
		session_conn.c_next = NULL;
		if (!session_unspecified(sdp->sdp_connection)) {
			session_conn.c_addrtype = ms->family == XT_AF_INET6 ? sdp_addr_ip6 :
									      sdp_addr_ip4;
			session_conn.c_address = session_addr;
		}
		sdp->sdp_connection = &session_conn;
	}
	if (sdp->sdp_origin) {
		memset(&origin_conn, 0, sizeof(origin_conn));
		origin_conn.c_size = sizeof(origin_conn);
		origin_conn.c_nettype = sdp_net_in;
		origin_conn.c_addrtype = ms->family == XT_AF_INET6 ? sdp_addr_ip6 : sdp_addr_ip4;
		origin_conn.c_address = session_addr;
		sdp->sdp_origin->o_username = username;
		sdp->sdp_origin->o_id = ms->origin_id[to];
		sdp->sdp_origin->o_version = ms->origin_version[to];
		sdp->sdp_origin->o_address = &origin_conn;
	}

	rc = render(home, sdp, out, err, errlen);
	if (rc)
		goto out;
	/* The version goes up only when what we say changes (RFC 3264 8). */
	if (ms->last_sdp[to] && strcmp(ms->last_sdp[to], *out) && sdp->sdp_origin) {
		free(*out);
		sdp->sdp_origin->o_version = ++ms->origin_version[to];
		rc = render(home, sdp, out, err, errlen);
		if (rc)
			goto out;
	}
	free(ms->last_sdp[to]);
	ms->last_sdp[to] = strdup(*out);

	/* Flows for every stream whose two ends are known; refreshed if a peer moved. */
	for (i = 0; i < ms->nstreams; i++) {
		struct xt_stream *st = ms->streams[i];

		if (!st)
			continue;
		if (!st->allocated || !st->peer_known[0] || !st->peer_known[1]) {
			changed |= st->installed;
			stream_uninstall(ms, st);
			continue;
		}
		if (st->installed && stream_paths_current(ms, st))
			continue;
		changed = true;
		stream_uninstall(ms, st);
		rc = stream_install(ms, st, i);
		if (rc) {
			snprintf(err, errlen, "cannot install the media flows: %s", strerror(-rc));
			goto out;
		}
	}
out:
	if (changed)
		ms->changed_ns = xt_monotonic_ns();
	if (rc) {
		free(*out);
		*out = NULL;
	}
	sdp_parser_free(parser);
	su_home_deinit(home);
	return rc;
}

void xt_media_session_end(struct xt_media_session *ms)
{
	for (unsigned int i = 0; i < XT_MAX_STREAMS; i++)
		stream_drop(ms, i);
	for (int side = 0; side < XT_SIDES; side++) {
		free(ms->last_sdp[side]);
		ms->last_sdp[side] = NULL;
	}
	ms->nstreams = 0;
}

void xt_media_session_activity(struct xt_media_session *ms, struct xt_media_activity *activity)
{
	*activity = ms->gone;
	for (unsigned int i = 0; i < ms->nstreams; i++) {
		struct xt_stream *st = ms->streams[i];

		if (!st || !st->installed)
			continue;
		for (int p = 0; p < 4; p++)
			path_activity(ms, &st->paths[p], activity);
	}
}

void xt_media_session_quality(struct xt_media_session *ms,
			      void (*visit)(const struct xt_rtp_quality *q, void *arg), void *arg)
{
	for (unsigned int i = 0; i < ms->nstreams; i++) {
		struct xt_stream *st = ms->streams[i];

		if (!st || !st->installed)
			continue;
		for (int p = PATH_RTP_AB; p <= PATH_RTP_BA; p++) {
			struct xt_relay_path *path = &st->paths[p];
			struct xt_rtp_stats rtp;
			struct xt_rtp_quality q;

			if (!xt_dataplane_xdp_rtp(path, &rtp) && xt_rtp_quality(&rtp, &q))
				visit(&q, arg);
		}
	}
}

void xt_media_session_save(const struct xt_media_session *ms, struct xt_media_checkpoint *cp)
{
	memset(cp, 0, sizeof(*cp));
	cp->family = ms->family;
	cp->nstreams = ms->nstreams;
	for (unsigned int i = 0; i < XT_MAX_STREAMS; i++) {
		const struct xt_stream *st = ms->streams[i];

		if (!st)
			continue;
		cp->streams[i].allocated = st->allocated;
		cp->streams[i].clock_hz = st->clock_hz;
		for (int side = 0; side < XT_SIDES; side++) {
			cp->streams[i].peer_known[side] = st->peer_known[side];
			cp->streams[i].peer_rtp[side] = st->peer_rtp[side];
			cp->streams[i].peer_rtcp[side] = st->peer_rtcp[side];
		}
	}
	memcpy(cp->side, ms->side, sizeof(cp->side));
}

void xt_media_session_restore(struct xt_media_session *ms, const struct xt_media_checkpoint *cp)
{
	bool changed = false;

	ms->family = cp->family;
	ms->nstreams = cp->nstreams;
	if (ms->side[0].hold != cp->side[0].hold || ms->side[1].hold != cp->side[1].hold)
		changed = true;
	memcpy(ms->side, cp->side, sizeof(ms->side));
	for (unsigned int i = 0; i < XT_MAX_STREAMS; i++) {
		struct xt_stream *st = ms->streams[i];

		if (!cp->streams[i].allocated) {
			/* added (or revived) by the rejected offer: its ports go back */
			changed |= st && st->installed;
			stream_drop(ms, i);
			continue;
		}
		/* a stream the offer removed has lost its ports: it stays removed */
		if (!st || !st->allocated)
			continue;
		st->clock_hz = cp->streams[i].clock_hz;
		for (int side = 0; side < XT_SIDES; side++) {
			st->peer_known[side] = cp->streams[i].peer_known[side];
			st->peer_rtp[side] = cp->streams[i].peer_rtp[side];
			st->peer_rtcp[side] = cp->streams[i].peer_rtcp[side];
		}
		if (!st->peer_known[0] || !st->peer_known[1]) {
			changed |= st->installed;
			stream_uninstall(ms, st);
			continue;
		}
		if (st->installed && stream_paths_current(ms, st))
			continue;
		changed = true;
		stream_uninstall(ms, st);
		if (stream_install(ms, st, i))
			pr_warn("call %s: stream %u left without flows\n", ms->id, i + 1);
	}
	if (changed)
		ms->changed_ns = xt_monotonic_ns();
}
