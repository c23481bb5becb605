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

static void stream_uninstall(struct xt_stream *st)
{
	if (!st->installed)
		return;
	for (int i = 0; i < 4; i++)
		xt_dataplane_remove(&st->paths[i]);
	st->installed = false;
}

static void stream_release(struct xt_media_env *env, struct xt_stream *st)
{
	stream_uninstall(st);
	if (st->allocated)
		for (int side = 0; side < XT_SIDES; side++)
			xt_port_pool_put(&env->pools[side], &st->relay[side]);
	memset(st, 0, sizeof(*st));
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
static void path_spec(const struct xt_media_env *env, const struct xt_stream *st, int in, bool rtcp,
		      struct xt_flow_spec *spec)
{
	int out = 1 - in;

	memset(spec, 0, sizeof(*spec));
	spec->local = rtcp ? st->relay[in].rtcp : st->relay[in].rtp;
	spec->relay = rtcp ? st->relay[out].rtcp : st->relay[out].rtp;
	spec->peer = rtcp ? st->peer_rtcp[out] : st->peer_rtp[out];
	/* Only the address the SDP gave may send; any port of it (RTP is
	 * often not symmetric: NAT latching, issue #4, narrows it further). */
	spec->has_src = true;
	spec->src = rtcp ? st->peer_rtcp[in] : st->peer_rtp[in];
	spec->src.port = 0;
	spec->dscp = env->config->dscp;
	/* call quality is measured on RTP; RTCP is not RTP */
	spec->rtp_clock_hz = rtcp ? 0 : st->clock_hz;
}

static int stream_install(struct xt_media_env *env, struct xt_stream *st, const char *id)
{
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

		path_spec(env, st, in, dirs[i].rtcp, &spec);
		rc = xt_dataplane_install(env->dp, &st->paths[i], &spec, in_fd, out_fd);
		if (rc) {
			pr_warn("call %s: cannot install a flow: %s\n", id, strerror(-rc));
			while (--i >= 0)
				xt_dataplane_remove(&st->paths[i]);
			return rc;
		}
	}
	st->installed = true;
	return 0;
}

/* Installed paths still match what the SDPs now say? */
static bool stream_paths_current(const struct xt_media_env *env, const struct xt_stream *st)
{
	for (int i = 0; i < 4; i++) {
		struct xt_flow_spec spec;

		path_spec(env, st, i == PATH_RTP_BA || i == PATH_RTCP_BA, i >= PATH_RTCP_AB, &spec);
		if (memcmp(&spec.peer, &st->paths[i].spec.peer, sizeof(spec.peer)) ||
		    memcmp(&spec.src, &st->paths[i].spec.src, sizeof(spec.src)))
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

static int render(su_home_t *home, sdp_session_t *sdp, char **out, char *err, size_t errlen)
{
	sdp_printer_t *printer = sdp_print(home, sdp, NULL, 0, SDP_FLAGS);
	const char *text = printer ? sdp_message(printer) : NULL;

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

	*out = NULL;
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
		/* every stream rejected: still a valid SDP; keep IPv4 addresses */
		ms->family = XT_AF_INET;
	}

	for (m = sdp->sdp_media, i = 0; m; m = m->m_next, i++) {
		struct xt_stream *st = &ms->streams[i];
		sdp_connection_t *c = m->m_connections ? m->m_connections : sdp->sdp_connection;
		sdp_attribute_t *rtcp_attr;
		const struct xt_endpoint *relay;

		if (m->m_port == 0) {
			/* rejected or removed stream: keeps port 0, holds no relay port */
			stream_release(env, st);
			continue;
		}
		if (!st->allocated) {
			rc = stream_allocate(env, st, ms->family, err, errlen);
			if (rc)
				goto out;
		}
		/* RTP timestamps run at the first codec's clock (8000 for G.711) */
		if (m->m_rtpmaps && m->m_rtpmaps->rm_rate)
			st->clock_hz = (uint32_t)m->m_rtpmaps->rm_rate;
		else if (!st->clock_hz && m->m_type == sdp_media_audio)
			st->clock_hz = 8000;
		parse_sdp_address(c, &st->peer_rtp[from]);
		st->peer_rtp[from].port = (uint16_t)m->m_port;
		learn_rtcp(m, &st->peer_rtp[from], &st->peer_rtcp[from]);
		st->peer_known[from] = !endpoint_unspecified(&st->peer_rtp[from]);

		/* Rewrite for the other side: our port, our address. */
		relay = &st->relay[to].rtp;
		m->m_port = relay->port;
		sdp_address_text(env, to, relay, addr_text[to][i], sizeof(addr_text[to][i]));
		if (m->m_connections) {
			conns[i] = *m->m_connections;
			conns[i].c_next = NULL;
			conns[i].c_addrtype = ms->family == XT_AF_INET6 ? sdp_addr_ip6 :
									  sdp_addr_ip4;
			conns[i].c_address = addr_text[to][i];
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
	{
		const struct xt_endpoint *relay = side_address(env, to, ms->family);

		sdp_address_text(env, to, relay, session_addr, sizeof(session_addr));
	}
	if (sdp->sdp_connection) {
		session_conn = *sdp->sdp_connection;
		session_conn.c_next = NULL;
		session_conn.c_addrtype = ms->family == XT_AF_INET6 ? sdp_addr_ip6 : sdp_addr_ip4;
		session_conn.c_address = session_addr;
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
		struct xt_stream *st = &ms->streams[i];

		if (!st->allocated || !st->peer_known[0] || !st->peer_known[1]) {
			stream_uninstall(st);
			continue;
		}
		if (st->installed && stream_paths_current(env, st))
			continue;
		stream_uninstall(st);
		rc = stream_install(env, st, ms->id);
		if (rc) {
			snprintf(err, errlen, "cannot install the media flows: %s", strerror(-rc));
			goto out;
		}
	}
out:
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
		stream_release(ms->env, &ms->streams[i]);
	for (int side = 0; side < XT_SIDES; side++) {
		free(ms->last_sdp[side]);
		ms->last_sdp[side] = NULL;
	}
	ms->nstreams = 0;
}

void xt_media_session_activity(struct xt_media_session *ms, struct xt_media_activity *activity)
{
	memset(activity, 0, sizeof(*activity));
	for (unsigned int i = 0; i < ms->nstreams; i++) {
		struct xt_stream *st = &ms->streams[i];

		if (!st->installed)
			continue;
		for (int p = 0; p < 4; p++) {
			struct xt_relay_path *path = &st->paths[p];
			struct xt_flow_entry entry;

			activity->userspace_packets += path->packets;
			if (path->last_seen_ns > activity->last_ns)
				activity->last_ns = path->last_seen_ns;
			if (!path->in_xdp ||
			    xt_flow_get(&ms->env->dp->maps, &path->spec.local, &entry))
				continue;
			activity->xdp_packets += entry.flow.packets;
			if (entry.flow.last_seen_ns > activity->last_ns)
				activity->last_ns = entry.flow.last_seen_ns;
		}
	}
}

void xt_media_session_quality(struct xt_media_session *ms,
			      void (*visit)(const struct xt_rtp_quality *q, void *arg), void *arg)
{
	for (unsigned int i = 0; i < ms->nstreams; i++) {
		struct xt_stream *st = &ms->streams[i];

		if (!st->installed)
			continue;
		for (int p = PATH_RTP_AB; p <= PATH_RTP_BA; p++) {
			struct xt_relay_path *path = &st->paths[p];
			struct xt_flow_entry entry;
			struct xt_rtp_quality q;

			if (path->in_xdp &&
			    !xt_flow_get(&ms->env->dp->maps, &path->spec.local, &entry) &&
			    xt_rtp_quality(&entry.rtp, &q))
				visit(&q, arg);
		}
	}
}
