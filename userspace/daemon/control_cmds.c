// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control socket's commands: a table from command name to handler, and
 * the replies, rendered from the snapshots the owning modules hand out
 * (calls: sip_b2bua.c, streams: media_session.c, flows: dataplane.c).
 * A reply is written a part at a time as the client reads it: a command's
 * whole result is one part, call list a batch of calls a part, so a list
 * of any length is never held whole.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xtrunk_abi.h"
#include "clock.h"
#include "config.h"
#include "control.h"
#include "dataplane.h"
#include "flow_json.h"
#include "json_reader.h"
#include "json_writer.h"
#include "media_session.h"
#include "sip_b2bua.h"

/* ---- replies ---- */

static void endpoint_field(struct json_writer *w, const char *name, const struct xt_endpoint *ep)
{
	char text[XT_ENDPOINT_STRLEN];

	if (!ep || !ep->family) {
		jsonw_null_field(w, name);
		return;
	}
	xt_endpoint_format(ep, text, sizeof(text));
	jsonw_string_field(w, name, text);
}

/* A CLOCK_MONOTONIC instant as UTC wall-clock time, ISO 8601. */
static void time_field(struct json_writer *w, const char *name, uint64_t mono_ns, uint64_t now_ns)
{
	struct timespec real;
	struct tm tm;
	char text[32];
	time_t t;

	clock_gettime(CLOCK_REALTIME, &real);
	t = real.tv_sec - (time_t)((now_ns - mono_ns) / 1000000000ull);
	gmtime_r(&t, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	jsonw_string_field(w, name, text);
}

/* What one call's media relayed, summed over its live flows. */
struct call_totals {
	uint64_t packets, bytes, drops;
	unsigned int streams, flows;
	bool has_mos;
	double mos; /* the worst RTP flow's */
};

static void add_flow_totals(const struct xt_path_snapshot *path, struct call_totals *totals)
{
	const struct xt_flow_entry *entry = &path->xdp; /* zeroed when not in XDP */
	struct xt_rtp_quality q;

	totals->packets += entry->flow.packets + path->packets;
	totals->bytes += entry->flow.bytes + path->bytes;
	totals->drops += entry->flow.src_drops + path->drops;
	totals->flows++;
	if (path->in_xdp && (entry->flow.flags & XT_FLOW_F_RTP_STATS) &&
	    xt_rtp_quality(&entry->rtp, &q) && (!totals->has_mos || q.mos < totals->mos)) {
		totals->has_mos = true;
		totals->mos = q.mos;
	}
}

/* One direction of a stream: the XDP flow's counters and the userspace path's. */
static void flow_json(struct json_writer *w, const struct xt_config *config,
		      const struct xt_stream_flow_snapshot *flow)
{
	const struct xt_path_snapshot *path = &flow->path;
	const struct xt_flow_entry *entry = &path->xdp;

	jsonw_start_object(w);
	jsonw_string_field(w, "kind", flow->kind);
	jsonw_string_field(w, "from_side", config->endpoint[flow->from_side].name);
	endpoint_field(w, "local", &path->spec.local);
	/* in XDP, the table's peer: latching may have moved it since the SDP */
	endpoint_field(w, "to", path->in_xdp ? &entry->spec.peer : &path->spec.peer);
	endpoint_field(w, "via", &path->spec.relay);
	jsonw_bool_field(w, "xdp", path->in_xdp);
	jsonw_uint_field(w, "packets", entry->flow.packets);
	jsonw_uint_field(w, "bytes", entry->flow.bytes);
	jsonw_uint_field(w, "drops", entry->flow.src_drops);
	jsonw_uint_field(w, "userspace_packets", path->packets);
	jsonw_uint_field(w, "userspace_bytes", path->bytes);
	jsonw_uint_field(w, "userspace_drops", path->drops);
	if (path->in_xdp)
		xt_rtp_quality_json(w, entry, 0);
	else
		jsonw_null_field(w, "rtp");
	jsonw_end_object(w);
}

/* Each end of the stream, named by its endpoint. */
static void stream_sides_json(struct json_writer *w, const struct xt_config *config,
			      const struct xt_stream_snapshot *st)
{
	jsonw_name(w, "sides");
	jsonw_start_array(w);
	for (int side = 0; side < XT_LEGS; side++) {
		const struct xt_stream_side_snapshot *ss = &st->sides[side];

		jsonw_start_object(w);
		jsonw_string_field(w, "side", config->endpoint[ss->side].name);
		endpoint_field(w, "relay_rtp", &ss->relay_rtp);
		endpoint_field(w, "relay_rtcp", &ss->relay_rtcp);
		endpoint_field(w, "peer_rtp", ss->peer_known ? &ss->peer_rtp : NULL);
		endpoint_field(w, "peer_rtcp", ss->peer_known ? &ss->peer_rtcp : NULL);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

struct stream_visit {
	struct json_writer *w; /* NULL: totals only (call list) */
	const struct xt_config *config;
	struct call_totals *totals;
};

static void stream_json(const struct xt_stream_snapshot *st, void *arg)
{
	struct stream_visit *sv = arg;
	struct json_writer *w = sv->w;

	sv->totals->streams++;
	for (unsigned int f = 0; f < st->nflows; f++)
		add_flow_totals(&st->flows[f].path, sv->totals);
	if (!w)
		return;
	jsonw_start_object(w);
	jsonw_uint_field(w, "index", st->index);
	jsonw_uint_field(w, "clock_hz", st->clock_hz);
	jsonw_bool_field(w, "installed", st->installed);
	stream_sides_json(w, sv->config, st);
	jsonw_name(w, "flows");
	jsonw_start_array(w);
	for (unsigned int f = 0; f < st->nflows; f++)
		flow_json(w, sv->config, &st->flows[f]);
	jsonw_end_array(w);
	jsonw_end_object(w);
}

struct call_visit {
	struct json_writer *w;
	const struct xt_daemon_sources *src;
	bool detail; /* call show: legs, streams and flows */
	uint64_t now_ns;
};

/* The call's two legs, each named by the endpoint it faces. */
static void legs_json(struct json_writer *w, const struct xt_call_info *info)
{
	jsonw_name(w, "legs");
	jsonw_start_array(w);
	for (int side = 0; side < XT_LEGS; side++) {
		const struct xt_call_leg_info *leg = &info->legs[side];

		jsonw_start_object(w);
		jsonw_string_field(w, "side", leg->side);
		jsonw_string_field(w, "role", leg->caller ? "caller" : "callee");
		jsonw_string_field(w, "peer", leg->peer);
		jsonw_string_field(w, "call_id", leg->call_id);
		jsonw_string_field(w, "local_tag", leg->local_tag);
		jsonw_string_field(w, "remote_tag", leg->remote_tag);
		jsonw_end_object(w);
	}
	jsonw_end_array(w);
}

static void call_totals_json(struct json_writer *w, const struct call_totals *totals)
{
	jsonw_uint_field(w, "flows", totals->flows);
	jsonw_uint_field(w, "packets", totals->packets);
	jsonw_uint_field(w, "bytes", totals->bytes);
	jsonw_uint_field(w, "drops", totals->drops);
	if (totals->has_mos)
		jsonw_fixed_field(w, "mos", 2, totals->mos);
	else
		jsonw_null_field(w, "mos");
}

static void call_json(const struct xt_call_info *info, void *arg)
{
	struct call_visit *cv = arg;
	struct json_writer *w = cv->w;
	struct call_totals totals = { 0 };
	struct stream_visit sv = { cv->detail ? w : NULL, cv->src->config, &totals };
	const char *caller = info->legs[0].caller ? info->legs[0].side : info->legs[1].side;
	const char *callee = info->legs[0].caller ? info->legs[1].side : info->legs[0].side;

	jsonw_start_object(w);
	jsonw_string_field(w, "id", info->id);
	jsonw_string_field(w, "state", info->state);
	jsonw_string_field(w, "from", caller);
	jsonw_string_field(w, "to", callee);
	time_field(w, "started", info->started_ns, cv->now_ns);
	jsonw_uint_field(w, "duration_s", (cv->now_ns - info->started_ns) / 1000000000ull);
	if (info->answered_ns)
		jsonw_uint_field(w, "answered_s", (cv->now_ns - info->answered_ns) / 1000000000ull);
	else
		jsonw_null_field(w, "answered_s");
	if (cv->detail) {
		legs_json(w, info);
		jsonw_name(w, "streams");
		jsonw_start_array(w);
		xt_media_session_foreach_stream(info->media, stream_json, &sv);
		jsonw_end_array(w);
	} else {
		xt_media_session_foreach_stream(info->media, stream_json, &sv);
		jsonw_uint_field(w, "streams", totals.streams);
	}
	call_totals_json(w, &totals);
	jsonw_end_object(w);
}

static void sip_counts_json(struct json_writer *w, const struct xt_b2bua_stats *stats, int side)
{
	jsonw_name(w, "sip_requests");
	jsonw_start_object(w);
	for (int m = 0; m < XT_SIP_METHODS; m++)
		jsonw_uint_field(w, xt_sip_method_names[m], stats->sip_requests[side][m]);
	jsonw_end_object(w);
	jsonw_name(w, "sip_responses");
	jsonw_start_object(w);
	for (int c = 1; c <= 6; c++) {
		char name[8];

		snprintf(name, sizeof(name), "%dxx", c);
		jsonw_uint_field(w, name, stats->sip_responses[side][c]);
	}
	jsonw_end_object(w);
}

/* An endpoint's configuration, peer and channels. */
static void trunk_json(struct json_writer *w, const struct xt_daemon_sources *src, int side,
		       const struct xt_b2bua_stats *stats, bool detail)
{
	const struct xt_endpoint_config *sc = &src->config->endpoint[side];

	jsonw_start_object(w);
	jsonw_string_field(w, "side", sc->name);
	jsonw_string_field(w, "kind", xt_endpoint_kind_names[sc->kind]);
	jsonw_string_field(w, "interface", sc->interface);
	endpoint_field(w, "sip", &sc->sip);
	jsonw_string_field(w, "peer", xt_b2bua_peer(src->b2b, side));
	jsonw_uint_field(w, "channels", stats->channels_active[side]);
	if (sc->channels)
		jsonw_uint_field(w, "limit", sc->channels);
	else
		jsonw_null_field(w, "limit");
	if (detail)
		sip_counts_json(w, stats, side);
	jsonw_end_object(w);
}

/* An endpoint's relay addresses and its port pool. */
static void port_json(struct json_writer *w, const struct xt_daemon_sources *src, int side)
{
	const struct xt_endpoint_config *sc = &src->config->endpoint[side];
	const struct xt_port_pool *pool = &src->media->pools[side];
	char addr[64];

	jsonw_start_object(w);
	jsonw_string_field(w, "side", sc->name);
	jsonw_string_field(w, "interface", sc->interface);
	jsonw_name(w, "addresses");
	jsonw_start_array(w);
	xt_addr_format(sc->address.family, sc->address.addr, addr, sizeof(addr));
	jsonw_string(w, addr);
	if (sc->address6.family) {
		xt_addr_format(sc->address6.family, sc->address6.addr, addr, sizeof(addr));
		jsonw_string(w, addr);
	}
	jsonw_end_array(w);
	jsonw_uint_field(w, "min", pool->port_min);
	jsonw_uint_field(w, "max", pool->port_max);
	/* ports, not pairs: each stream holds an RTP and an RTCP port */
	jsonw_uint_field(w, "total", 2ull * pool->pairs);
	jsonw_uint_field(w, "used", 2ull * pool->in_use);
	jsonw_uint_field(w, "free", 2ull * (pool->pairs - pool->in_use));
	jsonw_end_object(w);
}

/* ---- requests ---- */

struct request {
	const struct xt_daemon_sources *src;
	const struct xt_json *json;
	struct json_writer *w;
	char error[256];
};

/*
 * A reply on its way to a client. Every part is written to out, a memory
 * stream rewound for each: its buffer holds one part, the largest so far.
 */
struct xt_control_reply {
	const struct xt_daemon_sources *src;
	FILE *out;
	char *buf; /* out's buffer, and the part's length in it (both set by fflush) */
	size_t len;
	bool handed; /* the part in buf has been handed out (or there is none yet) */
	/* a list command's: writes its next elements, false after the last; NULL: no more parts */
	bool (*list)(struct xt_control_reply *reply);
	struct json_writer *w; /* the list's writer, from its first part to its last */
	uint64_t after;	       /* call list: the last call listed */
};

static int request_error(struct request *rq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int request_error(struct request *rq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rq->error, sizeof(rq->error), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *required_str(struct request *rq, const char *key)
{
	const char *value = xt_json_get_str(rq->json, key);

	if (!value)
		request_error(rq, "missing \"%s\" (a string)", key);
	return value;
}

/*
 * call list's next XT_B2BUA_CALL_BATCH calls. A part holds no more: an entry
 * is under 512 bytes (an ID, a state, two endpoint names of at most 31
 * characters, a time and 8 numbers), so a part is under 32 KiB.
 */
static bool call_list_more(struct xt_control_reply *reply)
{
	struct call_visit cv = { reply->w, reply->src, false, xt_monotonic_ns() };

	return xt_b2bua_foreach_call_after(reply->src->b2b, reply->after, call_json, &cv,
					   &reply->after) == XT_B2BUA_CALL_BATCH;
}

static int call_show(struct request *rq)
{
	const char *id = required_str(rq, XT_CTL_KEY_ID);
	struct call_visit cv = { rq->w, rq->src, true, xt_monotonic_ns() };

	if (!id)
		return -1;
	if (!xt_b2bua_foreach_call(rq->src->b2b, id, call_json, &cv))
		return request_error(rq, "no call %s", id);
	return 0;
}

static int call_terminate(struct request *rq)
{
	const char *id = required_str(rq, XT_CTL_KEY_ID);
	int rc;

	if (!id)
		return -1;
	rc = xt_b2bua_terminate(rq->src->b2b, id);
	if (rc == -ENOENT)
		return request_error(rq, "no call %s", id);
	if (rc == -EALREADY)
		return request_error(rq, "call %s is ending already", id);
	if (rc)
		return request_error(rq, "cannot terminate call %s: %s", id, strerror(-rc));
	jsonw_start_object(rq->w);
	jsonw_string_field(rq->w, "terminated", id);
	jsonw_end_object(rq->w);
	return 0;
}

/* Every endpoint. */
static int trunk_list(struct request *rq)
{
	struct xt_b2bua_stats stats;

	xt_b2bua_get_stats(rq->src->b2b, &stats);
	jsonw_start_array(rq->w);
	for (unsigned int side = 0; side < rq->src->config->endpoints; side++)
		trunk_json(rq->w, rq->src, (int)side, &stats, false);
	jsonw_end_array(rq->w);
	return 0;
}

static int trunk_show(struct request *rq)
{
	const char *name = required_str(rq, XT_CTL_KEY_SIDE);
	struct xt_b2bua_stats stats;
	int side;

	if (!name)
		return -1;
	side = xt_config_endpoint_find(rq->src->config, name);
	if (side < 0)
		return request_error(rq, "no endpoint %s (xtrunkctl trunk list shows them)", name);
	xt_b2bua_get_stats(rq->src->b2b, &stats);
	trunk_json(rq->w, rq->src, side, &stats, true);
	return 0;
}

/* Every endpoint. */
static int port_list(struct request *rq)
{
	jsonw_start_array(rq->w);
	for (unsigned int side = 0; side < rq->src->config->endpoints; side++)
		port_json(rq->w, rq->src, (int)side);
	jsonw_end_array(rq->w);
	return 0;
}

/* A command writes its whole result (fn), or its result is a list written a part at a time. */
static const struct control_cmd {
	const char *name;
	int (*fn)(struct request *rq);
	bool (*list)(struct xt_control_reply *reply);
} commands[] = {
	{ XT_CTL_CALL_LIST, .list = call_list_more },	 { XT_CTL_CALL_SHOW, .fn = call_show },
	{ XT_CTL_CALL_TERMINATE, .fn = call_terminate }, { XT_CTL_TRUNK_LIST, .fn = trunk_list },
	{ XT_CTL_TRUNK_SHOW, .fn = trunk_show },	 { XT_CTL_PORT_LIST, .fn = port_list },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* "unknown command" names them all, from the table. */
static int unknown_command(struct request *rq, const char *command)
{
	char names[256] = "";
	size_t used = 0;

	for (size_t i = 0; i < NCOMMANDS && used < sizeof(names); i++)
		used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
					 commands[i].name);
	return request_error(rq, "unknown command '%.64s' (%s)", command, names);
}

/* Start the next part: out rewound, its old bytes to be overwritten. */
static void part_start(struct xt_control_reply *reply)
{
	clearerr(reply->out);
	fseeko(reply->out, 0, SEEK_SET);
}

/* The part is written: fflush sets buf and len (to the position, not the old end). */
static int part_end(struct xt_control_reply *reply)
{
	if (fflush(reply->out) || ferror(reply->out))
		return -ENOMEM;
	reply->handed = false;
	return 0;
}

/* {"error": msg} as the part, instead of whatever was written to it. */
static int write_error(struct xt_control_reply *reply, const char *msg)
{
	struct json_writer *w;

	part_start(reply);
	w = jsonw_new(reply->out, false);
	if (!w)
		return -ENOMEM;
	jsonw_start_object(w);
	jsonw_string_field(w, XT_CTL_KEY_ERROR, msg);
	jsonw_end_object(w);
	jsonw_destroy(&w); /* ends the line */
	return part_end(reply);
}

/* {"result": ...} from a command that writes it whole; failing half way, its error alone. */
static int write_whole(struct xt_control_reply *reply, struct request *rq,
		       const struct control_cmd *cmd)
{
	int rc;

	part_start(reply);
	rq->w = jsonw_new(reply->out, false);
	if (!rq->w)
		return write_error(reply, "out of memory");
	jsonw_start_object(rq->w);
	jsonw_name(rq->w, XT_CTL_KEY_RESULT);
	rc = cmd->fn(rq);
	jsonw_end_object(rq->w);
	jsonw_destroy(&rq->w);
	if (rc)
		return write_error(reply, rq->error);
	if (part_end(reply))
		return write_error(reply, "out of memory");
	return 0;
}

/* A list's next part: {"result": [ first, its next elements, ]} and the newline last. */
static int write_list_part(struct xt_control_reply *reply)
{
	bool first = !reply->w;

	part_start(reply);
	if (first) {
		reply->w = jsonw_new(reply->out, false);
		if (!reply->w) {
			reply->list = NULL;
			return write_error(reply, "out of memory");
		}
		jsonw_start_object(reply->w);
		jsonw_name(reply->w, XT_CTL_KEY_RESULT);
		jsonw_start_array(reply->w);
	}
	if (!reply->list(reply)) {
		jsonw_end_array(reply->w);
		jsonw_end_object(reply->w);
		jsonw_destroy(&reply->w);
		reply->list = NULL;
	}
	if (!part_end(reply))
		return 0;
	/* nothing is sent yet: the client can still be told */
	if (first) {
		reply->list = NULL;
		return write_error(reply, "out of memory");
	}
	return -ENOMEM;
}

static struct xt_control_reply *reply_new(const struct xt_daemon_sources *src)
{
	struct xt_control_reply *reply = calloc(1, sizeof(*reply));

	if (!reply)
		return NULL;
	reply->src = src;
	reply->handed = true; /* no part yet */
	reply->out = open_memstream(&reply->buf, &reply->len);
	if (!reply->out) {
		free(reply);
		return NULL;
	}
	return reply;
}

struct xt_control_reply *xt_control_reply_error(const char *msg)
{
	struct xt_control_reply *reply = reply_new(NULL);

	if (reply && write_error(reply, msg)) {
		xt_control_reply_free(reply);
		return NULL;
	}
	return reply;
}

struct xt_control_reply *xt_control_reply_start(const struct xt_daemon_sources *src,
						const char *request, size_t len)
{
	struct xt_control_reply *reply = reply_new(src);
	struct request rq = { .src = src };
	const struct control_cmd *cmd = NULL;
	const char *command;
	char perr[128];
	int rc = 0;

	if (!reply)
		return NULL;
	rq.json = xt_json_parse(request, len, perr, sizeof(perr));
	if (!rq.json)
		request_error(&rq, "request is not JSON: %s", perr);
	else if (rq.json->type != XT_JSON_OBJECT)
		request_error(&rq, "request must be a JSON object");
	else if ((command = required_str(&rq, XT_CTL_KEY_COMMAND))) {
		for (size_t i = 0; i < NCOMMANDS && !cmd; i++)
			if (!strcmp(command, commands[i].name))
				cmd = &commands[i];
		if (!cmd)
			unknown_command(&rq, command);
	}
	if (cmd && cmd->list)
		reply->list = cmd->list; /* written part by part, as the client reads */
	else if (cmd)
		rc = write_whole(reply, &rq, cmd);
	else
		rc = write_error(reply, rq.error);
	xt_json_free((struct xt_json *)rq.json);
	if (rc) {
		xt_control_reply_free(reply);
		return NULL;
	}
	return reply;
}

int xt_control_reply_next(struct xt_control_reply *reply, const char **data, size_t *len)
{
	if (reply->handed) {
		int rc;

		if (!reply->list)
			return 0;
		rc = write_list_part(reply);
		if (rc)
			return rc;
	}
	reply->handed = true;
	*data = reply->buf;
	*len = reply->len;
	return 1;
}

void xt_control_reply_free(struct xt_control_reply *reply)
{
	if (!reply)
		return;
	jsonw_destroy(&reply->w); /* a list cut off: its writer, into out still open */
	fclose(reply->out);
	free(reply->buf);
	free(reply);
}
