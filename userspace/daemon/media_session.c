// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sofia-sip/su_alloc.h>

#include "xtrunk_abi.h"
#include "clock.h"
#include "log.h"
#include "media_session.h"

enum { PATH_RTP_AB, PATH_RTP_BA, PATH_RTCP_AB, PATH_RTCP_BA };

void xt_media_session_init(struct xt_media_session *ms, struct xt_media_env *env, const char *id,
			   const int endpoint[XT_LEGS])
{
	uint64_t seed = (uint64_t)time(NULL);

	memset(ms, 0, sizeof(*ms));
	ms->env = env;
	snprintf(ms->id, sizeof(ms->id), "%s", id);
	for (int i = 0; i < XT_LEGS; i++) {
		ms->endpoint[i] = endpoint[i];
		ms->origin_id[i] = seed + (uint64_t)random();
		ms->origin_version[i] = 1;
	}
}

/* The endpoint a leg faces, and its relay ports. */
static const struct xt_endpoint_config *leg_config(const struct xt_media_session *ms, int leg)
{
	return &ms->env->config->endpoint[ms->endpoint[leg]];
}

static struct xt_port_pool *leg_pool(const struct xt_media_session *ms, int leg)
{
	return &ms->env->pools[ms->endpoint[leg]];
}

/* The relay's media address toward a leg for a family, as configured. */
static const struct xt_endpoint *leg_address(const struct xt_media_session *ms, int leg,
					     uint8_t family)
{
	const struct xt_endpoint_config *sc = leg_config(ms, leg);

	if (family == XT_AF_INET6)
		return sc->address6.family ? &sc->address6 : NULL;
	return &sc->address;
}

/* What goes into the SDP for a leg: the advertised address when behind NAT. */
static void sdp_address_text(const struct xt_media_session *ms, int leg,
			     const struct xt_endpoint *ep, char *buf, size_t len)
{
	const struct xt_endpoint_config *sc = leg_config(ms, leg);
	const struct xt_endpoint *shown = sc->advertise.family == ep->family ? &sc->advertise : ep;

	xt_addr_format(shown->family, shown->addr, buf, len);
}

static bool endpoint_unspecified(const struct xt_endpoint *ep)
{
	static const uint8_t zero[16];

	return !memcmp(ep->addr, zero, xt_addr_len(ep->family));
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
	stream_uninstall(ms, st);
	if (st->allocated)
		for (int leg = 0; leg < XT_LEGS; leg++)
			xt_port_pool_put(leg_pool(ms, leg), &st->relay[leg]);
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

static int stream_allocate(struct xt_media_session *ms, struct xt_stream *st, uint8_t family,
			   char *err, size_t errlen)
{
	for (int leg = 0; leg < XT_LEGS; leg++) {
		const struct xt_endpoint *addr = leg_address(ms, leg, family);
		int rc;

		if (!addr) {
			snprintf(err, errlen, "endpoint %s has no %s media address",
				 leg_config(ms, leg)->name,
				 family == XT_AF_INET6 ? "IPv6" : "IPv4");
			while (--leg >= 0)
				xt_port_pool_put(leg_pool(ms, leg), &st->relay[leg]);
			return -EINVAL;
		}
		rc = xt_port_pool_get(leg_pool(ms, leg), addr, &st->relay[leg]);
		if (rc) {
			/* the cause, when it is not the range: the operator's to fix */
			if (rc == -ENOSPC)
				snprintf(err, errlen, "no free relay port on endpoint %s",
					 leg_config(ms, leg)->name);
			else
				snprintf(err, errlen,
					 "cannot open a relay port on endpoint %s: %s (raise the "
					 "open files limit, LimitNOFILE)",
					 leg_config(ms, leg)->name, strerror(-rc));
			rc = -ENOSPC; /* 503 either way */
			while (--leg >= 0)
				xt_port_pool_put(leg_pool(ms, leg), &st->relay[leg]);
			return rc;
		}
	}
	st->allocated = true;
	return 0;
}

/* A packet arriving at our port on `in` goes to the other leg's peer. */
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
	 * any port of it, as RTP is often not symmetric, unless the leg latches:
	 * then its first packet fixes the port and the reverse flow answers there. */
	spec->has_src = true;
	spec->src = rtcp ? st->peer_rtcp[in] : st->peer_rtp[in];
	spec->src.port = 0;
	if (ms->leg[in].latch) {
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
		rc = xt_dataplane_install(env->dp, &st->paths[i], &spec, in_fd, out_fd,
					  ms->endpoint[in]);
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
			leg_config(ms, 0)->name, a, ms->leg[0].latch ? " (latching)" : "",
			leg_config(ms, 1)->name, b, ms->leg[1].latch ? " (latching)" : "");
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

/* RTP timestamps run at the first codec's clock (8000 for G.711); 0 when not RTP (T.38). */
static uint32_t stream_clock(const struct xt_sdp_stream *d, uint32_t current)
{
	if (!d->rtp)
		return 0;
	if (d->clock_hz)
		return d->clock_hz;
	if (current)
		return current;
	return d->type == sdp_media_audio ? 8000 : 0;
}

/*
 * NAT: a leg whose SDP names another address than the one its SIP came
 * from is behind NAT; its media will come from the SIP source's address.
 * Latching follows its endpoint's configuration (auto: when behind NAT).
 */
static void learn_leg(struct xt_media_session *ms, int from, const struct xt_endpoint *sdp_addr)
{
	struct xt_leg_media *sm = &ms->leg[from];
	enum xt_latch_mode mode = leg_config(ms, from)->latch;

	sm->nat = sm->signal.family && sm->signal.family == sdp_addr->family &&
		  !endpoint_unspecified(sdp_addr) && !xt_endpoint_addr_equal(&sm->signal, sdp_addr);
	sm->latch = mode == XT_LATCH_ON || (mode == XT_LATCH_AUTO && sm->nat);
}

const char *const xt_media_refusal_names[XT_MEDIA_REFUSALS] = {
	"loopback",   "unspecified", "multicast", "broadcast",
	"link_local", "relay",	     "denied",	  "outside_allow",
};

/* The class of an address that is never a peer's media address, or -1. */
static int address_class(uint8_t family, const uint8_t *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t zero[16];

	if (family == XT_AF_INET6 && !memcmp(a, mapped, sizeof(mapped))) {
		family = XT_AF_INET; /* ::ffff:a.b.c.d is a.b.c.d */
		a += 12;
	}
	if (family == XT_AF_INET) {
		if (a[0] == 127)
			return XT_MEDIA_LOOPBACK;
		if (a[0] == 0)
			return XT_MEDIA_UNSPECIFIED;
		if (a[0] >= 224 && a[0] <= 239)
			return XT_MEDIA_MULTICAST;
		if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
			return XT_MEDIA_BROADCAST;
		if (a[0] == 169 && a[1] == 254)
			return XT_MEDIA_LINK_LOCAL;
		return -1;
	}
	if (!memcmp(a, zero, 15))
		return a[15] == 1 ? XT_MEDIA_LOOPBACK : a[15] == 0 ? XT_MEDIA_UNSPECIFIED : -1;
	if (a[0] == 0xff)
		return XT_MEDIA_MULTICAST;
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return XT_MEDIA_LINK_LOCAL;
	return -1;
}

/*
 * May media go to ep, an address a leg's SDP gave? -1 when it may, else why
 * not. A class of addresses (loopback, link-local) is refused unless the
 * relay's own address toward the endpoint is of that class: a lab, or a host
 * whose peers really are there.
 */
static int media_refusal(const struct xt_media_session *ms, int leg, const struct xt_endpoint *ep)
{
	const struct xt_endpoint_config *ec = leg_config(ms, leg);
	int class = address_class(ep->family, ep->addr);

	if (class >= 0 && class != address_class(ec->address.family, ec->address.addr) &&
	    (!ec->address6.family || class != address_class(XT_AF_INET6, ec->address6.addr)))
		return class;
	if (xt_config_endpoint_of(ms->env->config, ep) >= 0)
		return XT_MEDIA_RELAY;
	if (xt_cidr_list_contains(&ec->media_deny, ep->family, ep->addr))
		return XT_MEDIA_DENIED;
	if (ec->allow.count && !xt_endpoint_allows(ec, ep->family, ep->addr))
		return XT_MEDIA_OUTSIDE;
	return -1;
}

/* A stream's media addresses from a leg's SDP, checked; a refusal is counted and explained. */
static int check_media(struct xt_media_session *ms, int leg, const struct xt_stream *st, char *err,
		       size_t errlen)
{
	const struct xt_endpoint *eps[2] = { &st->peer_rtp[leg], &st->peer_rtcp[leg] };

	if (!st->peer_known[leg])
		return 0; /* on hold: c=0.0.0.0 */
	for (int i = 0; i < 2; i++) {
		int why = media_refusal(ms, leg, eps[i]);
		char text[XT_ENDPOINT_STRLEN];

		if (why < 0)
			continue;
		ms->env->refused[ms->endpoint[leg]][why]++;
		xt_endpoint_format(eps[i], text, sizeof(text));
		snprintf(err, errlen, "media address %s refused (%s)", text,
			 xt_media_refusal_names[why]);
		return -EINVAL;
	}
	return 0;
}

/* Where the leg's media comes from and goes to: its SDP's, or its SIP source's behind NAT. */
static void media_address(const struct xt_media_session *ms, int leg, struct xt_endpoint *ep)
{
	const struct xt_leg_media *sm = &ms->leg[leg];

	if (sm->nat && sm->latch && !endpoint_unspecified(ep))
		memcpy(ep->addr, sm->signal.addr, sizeof(ep->addr));
}

void xt_media_session_signal_source(struct xt_media_session *ms, int leg,
				    const struct xt_endpoint *source)
{
	ms->leg[leg].signal = *source;
	ms->leg[leg].signal.port = 0;
}

bool xt_media_session_on_hold(const struct xt_media_session *ms)
{
	return ms->leg[0].hold || ms->leg[1].hold;
}

/*
 * Stream i of an SDP from leg `from`: relay ports for a new one, the leg's
 * media addresses learnt (and NAT with them), our ports on the other leg
 * into relay for the rewriter. A refused stream lets go of its ports.
 */
static int learn_stream(struct xt_media_session *ms, int from, unsigned int i,
			const struct xt_sdp_stream *d, struct xt_sdp_relay *relay, char *err,
			size_t errlen)
{
	struct xt_stream *st = ms->streams[i];
	int to = 1 - from, rc;

	if (!d->accepted) {
		stream_drop(ms, i);
		return 0;
	}
	if (!st && !(st = stream_new(ms, i))) {
		snprintf(err, errlen, "out of memory");
		return -ENOSPC;
	}
	if (!st->allocated) {
		rc = stream_allocate(ms, st, ms->family, err, errlen);
		if (rc)
			return rc;
	}
	st->clock_hz = stream_clock(d, st->clock_hz);
	st->peer_rtp[from] = d->peer_rtp;
	learn_leg(ms, from, &st->peer_rtp[from]);
	st->peer_rtcp[from] = d->peer_rtcp;
	st->peer_known[from] = !d->unspecified;
	media_address(ms, from, &st->peer_rtp[from]);
	media_address(ms, from, &st->peer_rtcp[from]);
	rc = check_media(ms, from, st, err, errlen);
	if (rc)
		return rc;
	relay->ports[i].rtp = st->relay[to].rtp.port;
	relay->ports[i].rtcp = st->relay[to].rtcp.port;
	return 0;
}

/* What an SDP from leg `from` says, applied to the session: family, hold, ports, peers. */
static int apply_description(struct xt_media_session *ms, int from,
			     const struct xt_sdp_description *desc, struct xt_sdp_relay *relay,
			     bool *changed, char *err, size_t errlen)
{
	const struct xt_endpoint *address;
	int to = 1 - from;

	ms->family = desc->family;
	if (desc->hold != ms->leg[from].hold) {
		ms->leg[from].hold = desc->hold;
		*changed = true;
		pr_info("call %s: %s %s the call\n", ms->id, leg_config(ms, from)->name,
			desc->hold ? "holds" : "resumes");
	}
	/* The relay's address toward the other leg: the SDP names nothing else. */
	address = leg_address(ms, to, ms->family);
	if (!address) {
		snprintf(err, errlen, "endpoint %s has no IPv6 media address",
			 leg_config(ms, to)->name);
		return -EINVAL;
	}
	sdp_address_text(ms, to, address, relay->address, sizeof(relay->address));
	for (unsigned int i = 0; i < desc->nstreams; i++) {
		int rc = learn_stream(ms, from, i, &desc->streams[i], relay, err, errlen);

		if (rc)
			return rc;
	}
	ms->nstreams = desc->nstreams;
	return 0;
}

/*
 * The SDP for leg `to`. Its o= version goes up only when what we say
 * changes (RFC 3264 8): a refresh with the same SDP gets the same text.
 */
static int render_for(struct xt_media_session *ms, int to, const sdp_session_t *sdp,
		      const struct xt_sdp_description *desc, struct xt_sdp_relay *relay, char **out,
		      char *err, size_t errlen)
{
	int rc;

	relay->origin_id = ms->origin_id[to];
	relay->origin_version = ms->origin_version[to];
	rc = xt_sdp_render(sdp, desc, relay, out, err, errlen);
	if (rc)
		return rc;
	if (ms->last_sdp[to] && strcmp(ms->last_sdp[to], *out) && sdp->sdp_origin) {
		free(*out);
		relay->origin_version = ++ms->origin_version[to];
		rc = xt_sdp_render(sdp, desc, relay, out, err, errlen);
		if (rc)
			return rc;
	}
	free(ms->last_sdp[to]);
	ms->last_sdp[to] = strdup(*out);
	return 0;
}

/*
 * Flows for every stream whose two ends are known, none for the others;
 * reinstalled where a peer, source check, latch or clock moved. Sets
 * *changed when any flow came or went. Returns 0, or the first error of an
 * install (that stream is then left without flows; the others go on).
 */
static int reconcile_flows(struct xt_media_session *ms, bool *changed)
{
	int first = 0;

	for (unsigned int i = 0; i < ms->nstreams; i++) {
		struct xt_stream *st = ms->streams[i];
		int rc;

		if (!st)
			continue;
		if (!st->allocated || !st->peer_known[0] || !st->peer_known[1]) {
			*changed |= st->installed;
			stream_uninstall(ms, st);
			continue;
		}
		if (st->installed && stream_paths_current(ms, st))
			continue;
		*changed = true;
		stream_uninstall(ms, st);
		rc = stream_install(ms, st, i);
		if (rc) {
			pr_warn("call %s: stream %u left without flows\n", ms->id, i + 1);
			if (!first)
				first = rc;
		}
	}
	return first;
}

int xt_media_session_sdp(struct xt_media_session *ms, int from, const char *body, size_t len,
			 char **out, char *err, size_t errlen)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	struct xt_sdp_call call = { .family = ms->family, .nstreams = ms->nstreams };
	unsigned int limit0 = leg_config(ms, 0)->streams, limit1 = leg_config(ms, 1)->streams;
	struct xt_sdp_description desc;
	struct xt_sdp_relay relay;
	sdp_parser_t *parser;
	bool changed = false;
	int rc;

	*out = NULL;
	memset(&relay, 0, sizeof(relay));
	rc = xt_sdp_parse(home, body, len, &parser, err, errlen);
	if (rc)
		goto out;
	/* the call's limit is the stricter endpoint's: both legs carry every stream */
	call.max_streams = limit0 < limit1 ? limit0 : limit1;
	rc = xt_sdp_describe(sdp_session(parser), &call, &desc, err, errlen);
	if (!rc && desc.over_limit) {
		ms->env->streams_refused[ms->endpoint[from]] += desc.over_limit;
		pr_info("call %s: SDP from %s: %u streams past streams = %u refused (port 0)\n",
			ms->id, leg_config(ms, from)->name, desc.over_limit, call.max_streams);
	}
	if (!rc)
		rc = apply_description(ms, from, &desc, &relay, &changed, err, errlen);
	if (!rc)
		rc = render_for(ms, 1 - from, sdp_session(parser), &desc, &relay, out, err, errlen);
	if (!rc) {
		rc = reconcile_flows(ms, &changed);
		if (rc)
			snprintf(err, errlen, "cannot install the media flows: %s", strerror(-rc));
	}
	sdp_parser_free(parser);
out:
	if (changed)
		ms->changed_ns = xt_monotonic_ns();
	if (rc) {
		free(*out);
		*out = NULL;
	}
	su_home_deinit(home);
	return rc;
}

void xt_media_session_end(struct xt_media_session *ms)
{
	for (unsigned int i = 0; i < XT_MAX_STREAMS; i++)
		stream_drop(ms, i);
	for (int leg = 0; leg < XT_LEGS; leg++) {
		free(ms->last_sdp[leg]);
		ms->last_sdp[leg] = NULL;
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
		for (int leg = 0; leg < XT_LEGS; leg++) {
			cp->streams[i].peer_known[leg] = st->peer_known[leg];
			cp->streams[i].peer_rtp[leg] = st->peer_rtp[leg];
			cp->streams[i].peer_rtcp[leg] = st->peer_rtcp[leg];
		}
	}
	memcpy(cp->leg, ms->leg, sizeof(cp->leg));
}

void xt_media_session_restore(struct xt_media_session *ms, const struct xt_media_checkpoint *cp)
{
	bool changed = false;

	ms->family = cp->family;
	ms->nstreams = cp->nstreams;
	if (ms->leg[0].hold != cp->leg[0].hold || ms->leg[1].hold != cp->leg[1].hold)
		changed = true;
	memcpy(ms->leg, cp->leg, sizeof(ms->leg));
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
		for (int leg = 0; leg < XT_LEGS; leg++) {
			st->peer_known[leg] = cp->streams[i].peer_known[leg];
			st->peer_rtp[leg] = cp->streams[i].peer_rtp[leg];
			st->peer_rtcp[leg] = cp->streams[i].peer_rtcp[leg];
		}
	}
	reconcile_flows(ms, &changed);
	if (changed)
		ms->changed_ns = xt_monotonic_ns();
}

/* The one place the read side learns which endpoint each of a stream's ends faces. */
static void stream_snapshot(const struct xt_media_session *ms, const struct xt_stream *st,
			    unsigned int index, struct xt_stream_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	snap->index = index;
	snap->clock_hz = st->clock_hz;
	snap->installed = st->installed;
	for (int side = 0; side < XT_LEGS; side++) {
		struct xt_stream_side_snapshot *ss = &snap->sides[side];

		ss->side = ms->endpoint[side];
		ss->relay_rtp = st->relay[side].rtp;
		ss->relay_rtcp = st->relay[side].rtcp;
		ss->peer_known = st->peer_known[side];
		ss->peer_rtp = st->peer_rtp[side];
		ss->peer_rtcp = st->peer_rtcp[side];
	}
	if (!st->installed)
		return;
	snap->nflows = 4;
	for (int p = 0; p < 4; p++) {
		struct xt_stream_flow_snapshot *f = &snap->flows[p];
		int in = p == PATH_RTP_BA || p == PATH_RTCP_BA; /* a->b comes in at a */

		f->kind = p == PATH_RTCP_AB || p == PATH_RTCP_BA ? "rtcp" : "rtp";
		f->from_side = snap->sides[in].side;
		xt_dataplane_path_snapshot(&st->paths[p], &f->path);
	}
}

unsigned int xt_media_session_foreach_stream(const struct xt_media_session *ms,
					     xt_stream_visit_fn visit, void *arg)
{
	struct xt_stream_snapshot snap;
	unsigned int n = 0;

	for (unsigned int i = 0; ms && i < ms->nstreams; i++) {
		const struct xt_stream *st = ms->streams[i];

		if (!st || !st->allocated)
			continue;
		stream_snapshot(ms, st, i, &snap);
		visit(&snap, arg);
		n++;
	}
	return n;
}
