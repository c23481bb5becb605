// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <sofia-sip/su.h>

#include "xtrunk_abi.h"
#include "json_reader.h"
#include "json_writer.h"
#include "clock.h"
#include "log.h"
#include "control.h"

/* A client sending requests without reading the replies is dropped past this. */
#define MAX_PENDING_REPLY (4 * 1024 * 1024)

struct control_client {
	struct xt_control *control;
	int fd;
	int registration;
	int events; /* what the registration waits for */
	char in[XT_CONTROL_MAX_REQUEST + 1];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	bool closing;  /* close once the pending reply is sent */
	bool draining; /* reply sent, our side shut: discard input until the client closes */
};

struct xt_control {
	struct xt_control_sources sources;
	su_root_t *root;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev; /* the socket file we made: removed on exit only if still ours */
	ino_t ino;
	int fd;
	int registration;
	struct control_client *clients[XT_CONTROL_MAX_CLIENTS];
};

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

static void fixed_field(struct json_writer *w, const char *name, const char *fmt, double value)
{
	char number[32];

	snprintf(number, sizeof(number), fmt, value);
	jsonw_name(w, name);
	jsonw_raw(w, number);
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

static void rtp_quality_json(struct json_writer *w, const struct xt_flow_entry *entry)
{
	struct xt_rtp_quality q;

	if (!(entry->flow.flags & XT_FLOW_F_RTP_STATS)) {
		jsonw_null_field(w, "rtp");
		return;
	}
	jsonw_name(w, "rtp");
	jsonw_start_object(w);
	jsonw_uint_field(w, "clock_hz", entry->rtp.clock_hz);
	if (xt_rtp_quality(&entry->rtp, &q)) {
		jsonw_uint_field(w, "ssrc", q.ssrc);
		jsonw_uint_field(w, "expected", q.expected);
		jsonw_uint_field(w, "received", q.received);
		jsonw_uint_field(w, "lost", q.lost);
		jsonw_uint_field(w, "duplicates", q.duplicates);
		jsonw_uint_field(w, "reordered", q.reordered);
		fixed_field(w, "jitter_ms", "%.3f", q.jitter_ms);
		fixed_field(w, "mos", "%.2f", q.mos);
	}
	jsonw_end_object(w);
}

/* What one call's media relayed, summed over its live flows. */
struct call_totals {
	uint64_t packets, bytes, drops;
	unsigned int streams, flows;
	bool has_mos;
	double mos; /* the worst RTP flow's */
};

static const char *const path_kind[4] = { "rtp", "rtp", "rtcp", "rtcp" };
static const int path_in_side[4] = { 0, 1, 0, 1 };

/* One direction of a stream: the XDP flow's counters and the userspace path's. */
static void path_json(struct json_writer *w, const struct xt_control_sources *src,
		      const struct xt_relay_path *path, int index, struct call_totals *totals)
{
	struct xt_flow_entry entry;
	bool in_xdp = path->in_xdp && !xt_flow_get(&src->dp->maps, &path->spec.local, &entry);
	struct xt_rtp_quality q;

	if (!in_xdp)
		memset(&entry, 0, sizeof(entry));
	totals->packets += entry.flow.packets + path->packets;
	totals->bytes += entry.flow.bytes + path->bytes;
	totals->drops += entry.flow.src_drops + path->drops;
	totals->flows++;
	if (in_xdp && (entry.flow.flags & XT_FLOW_F_RTP_STATS) && xt_rtp_quality(&entry.rtp, &q) &&
	    (!totals->has_mos || q.mos < totals->mos)) {
		totals->has_mos = true;
		totals->mos = q.mos;
	}
	if (!w)
		return;
	jsonw_start_object(w);
	jsonw_string_field(w, "kind", path_kind[index]);
	jsonw_string_field(w, "from_side", src->config->side[path_in_side[index]].name);
	endpoint_field(w, "local", &path->spec.local);
	if (in_xdp) {
		struct xt_flow_spec spec;

		/* the table's peer: latching may have moved it since the SDP */
		xt_flow_spec_from_entry(&entry, &spec);
		endpoint_field(w, "to", &spec.peer);
	} else {
		endpoint_field(w, "to", &path->spec.peer);
	}
	endpoint_field(w, "via", &path->spec.relay);
	jsonw_bool_field(w, "xdp", in_xdp);
	jsonw_uint_field(w, "packets", entry.flow.packets);
	jsonw_uint_field(w, "bytes", entry.flow.bytes);
	jsonw_uint_field(w, "drops", entry.flow.src_drops);
	jsonw_uint_field(w, "userspace_packets", path->packets);
	jsonw_uint_field(w, "userspace_bytes", path->bytes);
	jsonw_uint_field(w, "userspace_drops", path->drops);
	if (in_xdp)
		rtp_quality_json(w, &entry);
	else
		jsonw_null_field(w, "rtp");
	jsonw_end_object(w);
}

static void stream_json(struct json_writer *w, const struct xt_control_sources *src,
			const struct xt_stream *st, unsigned int index, struct call_totals *totals)
{
	const struct xt_config *config = src->config;

	totals->streams++;
	if (w) {
		jsonw_start_object(w);
		jsonw_uint_field(w, "index", index);
		jsonw_uint_field(w, "clock_hz", st->clock_hz);
		jsonw_bool_field(w, "installed", st->installed);
		jsonw_name(w, "sides");
		jsonw_start_array(w);
		for (int side = 0; side < XT_SIDES; side++) {
			jsonw_start_object(w);
			jsonw_string_field(w, "side", config->side[side].name);
			endpoint_field(w, "relay_rtp", st->allocated ? &st->relay[side].rtp : NULL);
			endpoint_field(w, "relay_rtcp",
				       st->allocated ? &st->relay[side].rtcp : NULL);
			endpoint_field(w, "peer_rtp",
				       st->peer_known[side] ? &st->peer_rtp[side] : NULL);
			endpoint_field(w, "peer_rtcp",
				       st->peer_known[side] ? &st->peer_rtcp[side] : NULL);
			jsonw_end_object(w);
		}
		jsonw_end_array(w);
		jsonw_name(w, "flows");
		jsonw_start_array(w);
	}
	if (st->installed)
		for (int p = 0; p < 4; p++)
			path_json(w, src, &st->paths[p], p, totals);
	if (w) {
		jsonw_end_array(w);
		jsonw_end_object(w);
	}
}

static void media_json(struct json_writer *w, const struct xt_control_sources *src,
		       const struct xt_media_session *ms, struct call_totals *totals)
{
	if (w) {
		jsonw_name(w, "streams");
		jsonw_start_array(w);
	}
	for (unsigned int i = 0; ms && i < ms->nstreams; i++)
		if (ms->streams[i] && ms->streams[i]->allocated)
			stream_json(w, src, ms->streams[i], i, totals);
	if (w)
		jsonw_end_array(w);
}

struct call_visit {
	struct json_writer *w;
	const struct xt_control_sources *src;
	bool detail; /* call show: legs, streams and flows */
	uint64_t now_ns;
};

static void call_json(const struct xt_call_info *info, void *arg)
{
	struct call_visit *cv = arg;
	struct json_writer *w = cv->w;
	struct call_totals totals = { 0 };
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
		jsonw_name(w, "legs");
		jsonw_start_array(w);
		for (int side = 0; side < XT_SIDES; side++) {
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
		media_json(w, cv->src, info->media, &totals);
	} else {
		media_json(NULL, cv->src, info->media, &totals);
		jsonw_uint_field(w, "streams", totals.streams);
	}
	jsonw_uint_field(w, "flows", totals.flows);
	jsonw_uint_field(w, "packets", totals.packets);
	jsonw_uint_field(w, "bytes", totals.bytes);
	jsonw_uint_field(w, "drops", totals.drops);
	if (totals.has_mos)
		fixed_field(w, "mos", "%.2f", totals.mos);
	else
		jsonw_null_field(w, "mos");
	jsonw_end_object(w);
}

static int side_by_name(const struct xt_config *config, const char *name)
{
	for (int side = 0; side < XT_SIDES; side++)
		if (!strcmp(config->side[side].name, name))
			return side;
	return -1;
}

static void trunk_json(struct json_writer *w, const struct xt_control_sources *src, int side,
		       const struct xt_b2bua_stats *stats, bool detail)
{
	const struct xt_side_config *sc = &src->config->side[side];

	jsonw_start_object(w);
	jsonw_string_field(w, "side", sc->name);
	jsonw_string_field(w, "interface", sc->interface);
	endpoint_field(w, "sip", &sc->sip);
	jsonw_string_field(w, "peer", xt_b2bua_peer(src->b2b, side));
	jsonw_uint_field(w, "channels", stats->channels_active[side]);
	if (sc->channels)
		jsonw_uint_field(w, "limit", sc->channels);
	else
		jsonw_null_field(w, "limit");
	if (detail) {
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
	jsonw_end_object(w);
}

static void port_json(struct json_writer *w, const struct xt_control_sources *src, int side)
{
	const struct xt_side_config *sc = &src->config->side[side];
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
	const struct xt_control_sources *src;
	const struct xt_json *json;
	struct json_writer *w;
	char error[256];
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

static int call_list(struct request *rq)
{
	struct call_visit cv = { rq->w, rq->src, false, xt_monotonic_ns() };

	jsonw_start_array(rq->w);
	xt_b2bua_foreach_call(rq->src->b2b, NULL, call_json, &cv);
	jsonw_end_array(rq->w);
	return 0;
}

static int call_show(struct request *rq)
{
	const char *id = required_str(rq, "id");
	struct call_visit cv = { rq->w, rq->src, true, xt_monotonic_ns() };

	if (!id)
		return -1;
	if (!xt_b2bua_foreach_call(rq->src->b2b, id, call_json, &cv))
		return request_error(rq, "no call %s", id);
	return 0;
}

static int call_terminate(struct request *rq)
{
	const char *id = required_str(rq, "id");
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

static int trunk_list(struct request *rq)
{
	struct xt_b2bua_stats stats;

	xt_b2bua_get_stats(rq->src->b2b, &stats);
	jsonw_start_array(rq->w);
	for (int side = 0; side < XT_SIDES; side++)
		trunk_json(rq->w, rq->src, side, &stats, false);
	jsonw_end_array(rq->w);
	return 0;
}

static int trunk_show(struct request *rq)
{
	const char *name = required_str(rq, "side");
	struct xt_b2bua_stats stats;
	int side;

	if (!name)
		return -1;
	side = side_by_name(rq->src->config, name);
	if (side < 0)
		return request_error(rq, "no side %s (expected %s or %s)", name,
				     rq->src->config->side[0].name, rq->src->config->side[1].name);
	xt_b2bua_get_stats(rq->src->b2b, &stats);
	trunk_json(rq->w, rq->src, side, &stats, true);
	return 0;
}

static int port_list(struct request *rq)
{
	jsonw_start_array(rq->w);
	for (int side = 0; side < XT_SIDES; side++)
		port_json(rq->w, rq->src, side);
	jsonw_end_array(rq->w);
	return 0;
}

static const struct {
	const char *command;
	int (*fn)(struct request *rq);
} commands[] = {
	{ "call list", call_list },	      { "call show", call_show },
	{ "call terminate", call_terminate }, { "trunk list", trunk_list },
	{ "trunk show", trunk_show },	      { "port list", port_list },
};

static char *error_reply(const char *msg, size_t *len)
{
	char *text = NULL;
	FILE *out = open_memstream(&text, len);
	struct json_writer *w;

	if (!out)
		return NULL;
	w = jsonw_new(out, false);
	if (w) {
		jsonw_start_object(w);
		jsonw_string_field(w, "error", msg);
		jsonw_end_object(w);
		jsonw_destroy(&w);
	}
	if (fclose(out)) {
		free(text);
		return NULL;
	}
	return text;
}

/*
 * The result is written into its own buffer first, so that a command that
 * fails half way replies with its error alone.
 */
char *xt_control_handle(const struct xt_control_sources *src, const char *request, size_t len,
			size_t *reply_len)
{
	struct request rq = { .src = src };
	char perr[128], *result = NULL, *reply = NULL;
	const char *command;
	size_t result_len = 0;
	FILE *out;
	int rc = -1;

	rq.json = xt_json_parse(request, len, perr, sizeof(perr));
	if (!rq.json) {
		request_error(&rq, "request is not JSON: %s", perr);
		goto out;
	}
	if (rq.json->type != XT_JSON_OBJECT) {
		request_error(&rq, "request must be a JSON object");
		goto out;
	}
	command = required_str(&rq, "command");
	if (!command)
		goto out;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(command, commands[i].command))
			continue;
		out = open_memstream(&result, &result_len);
		if (!out || !(rq.w = jsonw_new(out, false))) {
			request_error(&rq, "out of memory");
			if (out)
				fclose(out);
			goto out;
		}
		jsonw_start_object(rq.w);
		jsonw_name(rq.w, "result");
		rc = commands[i].fn(&rq);
		jsonw_end_object(rq.w);
		jsonw_destroy(&rq.w);
		if (fclose(out) && !rc)
			rc = request_error(&rq, "out of memory");
		goto out;
	}
	request_error(&rq,
		      "unknown command '%.64s' (call list, call show, call terminate, "
		      "trunk list, trunk show, port list)",
		      command);
out:
	xt_json_free((struct xt_json *)rq.json);
	if (rc == 0) {
		*reply_len = result_len;
		return result;
	}
	free(result);
	reply = error_reply(rq.error, reply_len);
	return reply;
}

/* ---- connections ---- */

static void client_close(struct control_client *client)
{
	struct xt_control *control = client->control;

	for (int i = 0; i < XT_CONTROL_MAX_CLIENTS; i++)
		if (control->clients[i] == client)
			control->clients[i] = NULL;
	if (client->registration >= 0)
		su_root_deregister(control->root, client->registration);
	close(client->fd);
	free(client->out);
	free(client);
}

/* Send what is pending. Returns -1 when the client is gone (closed). */
static int client_flush(struct control_client *client)
{
	while (client->out_off < client->out_len) {
		ssize_t n = send(client->fd, client->out + client->out_off,
				 client->out_len - client->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			client_close(client);
			return -1;
		}
		client->out_off += (size_t)n;
	}
	if (client->out_off == client->out_len) {
		client->out_off = client->out_len = 0;
		/*
		 * Closing with unread input would reset the connection and could
		 * lose the reply: shut our side, let the client close its own.
		 */
		if (client->closing && !client->draining) {
			shutdown(client->fd, SHUT_WR);
			client->draining = true;
		}
	}
	{
		/* closing: no more input is read, so do not wait for it (its EOF would spin) */
		int events = client->draining ? SU_WAIT_IN :
			     client->closing  ? SU_WAIT_OUT :
			     client->out_len  ? SU_WAIT_IN | SU_WAIT_OUT :
						SU_WAIT_IN;

		if (events != client->events) {
			su_root_eventmask(client->control->root, client->registration, client->fd,
					  events);
			client->events = events;
		}
	}
	return 0;
}

static int client_queue(struct control_client *client, char *reply, size_t len)
{
	char *out;

	if (!reply)
		return -1;
	if (client->out_len + len > MAX_PENDING_REPLY) {
		free(reply);
		return -1;
	}
	out = realloc(client->out, client->out_len + len);
	if (!out) {
		free(reply);
		return -1;
	}
	memcpy(out + client->out_len, reply, len);
	client->out = out;
	client->out_len += len;
	free(reply);
	return 0;
}

/* Answer every complete line in the input buffer. */
static int client_requests(struct control_client *client)
{
	const struct xt_control_sources *src = &client->control->sources;
	char *nl;

	while ((nl = memchr(client->in, '\n', client->in_len))) {
		size_t line = (size_t)(nl - client->in), len = 0;
		char *reply = xt_control_handle(src, client->in, line, &len);

		if (client_queue(client, reply, len)) {
			client_close(client);
			return -1;
		}
		memmove(client->in, nl + 1, client->in_len - line - 1);
		client->in_len -= line + 1;
	}
	if (client->in_len == XT_CONTROL_MAX_REQUEST) {
		char msg[96];
		size_t len = 0;

		snprintf(msg, sizeof(msg), "request longer than %d bytes", XT_CONTROL_MAX_REQUEST);
		client->in_len = 0;
		client->closing = true;
		if (client_queue(client, error_reply(msg, &len), len)) {
			client_close(client);
			return -1;
		}
	}
	return 0;
}

static int client_event(su_root_magic_t *magic, su_wait_t *wait, su_wakeup_arg_t *arg)
{
	struct control_client *client = (struct control_client *)arg;
	int events = su_wait_events(wait, client->fd);

	if ((events & SU_WAIT_OUT) && client_flush(client))
		return 0;
	if (!(events & (SU_WAIT_IN | SU_WAIT_HUP | SU_WAIT_ERR)))
		return 0;
	if (client->draining) {
		char sink[4096];
		ssize_t n;

		while ((n = recv(client->fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
			;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			client_close(client);
		return 0;
	}
	if (client->closing) {
		/* the client is gone before reading its reply */
		if (events & (SU_WAIT_HUP | SU_WAIT_ERR))
			client_close(client);
		return 0;
	}
	for (;;) {
		ssize_t n = recv(client->fd, client->in + client->in_len,
				 XT_CONTROL_MAX_REQUEST - client->in_len, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			client_close(client);
			return 0;
		}
		if (n == 0) {
			/* the client shut its side: send what is left, then close */
			client->closing = true;
			break;
		}
		client->in_len += (size_t)n;
		if (client_requests(client))
			return 0;
		if (client->closing)
			break;
	}
	client_flush(client);
	return 0;
}

static int accept_event(su_root_magic_t *magic, su_wait_t *wait, su_wakeup_arg_t *arg)
{
	struct xt_control *control = (struct xt_control *)arg;
	struct control_client *client;
	su_wait_t cwait[1];
	int fd, slot = -1;

	fd = accept(control->fd, NULL, NULL);
	if (fd < 0)
		return 0;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) || fcntl(fd, F_SETFL, O_NONBLOCK)) {
		close(fd);
		return 0;
	}
	for (int i = 0; i < XT_CONTROL_MAX_CLIENTS; i++)
		if (!control->clients[i]) {
			slot = i;
			break;
		}
	if (slot < 0) {
		static const char busy[] = "{\"error\": \"too many control clients\"}\n";

		if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			pr_debug("control: %s\n", strerror(errno));
		close(fd);
		return 0;
	}
	client = calloc(1, sizeof(*client));
	if (!client) {
		close(fd);
		return 0;
	}
	client->control = control;
	client->fd = fd;
	client->registration = -1;
	client->events = SU_WAIT_IN;
	if (su_wait_create(cwait, fd, SU_WAIT_IN) ||
	    (client->registration = su_root_register(control->root, cwait, client_event,
						     (su_wakeup_arg_t *)client, 0)) < 0) {
		client->registration = -1;
		client_close(client);
		return 0;
	}
	control->clients[slot] = client;
	return 0;
}

/* Is a daemon answering on path? */
static bool socket_answers(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool answers;

	if (fd < 0)
		return false;
	answers = !connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	return answers;
}

static int make_parent_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int listen_on(struct xt_control *control, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int rc;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	rc = make_parent_dir(path);
	if (rc) {
		snprintf(err, errlen, "control socket %s: cannot make its directory: %s", path,
			 strerror(-rc));
		return rc;
	}
	control->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (control->fd < 0)
		goto fail;
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "control socket %s: exists and is not a socket",
				 path);
			return -EEXIST;
		}
		if (socket_answers(&sun)) {
			snprintf(err, errlen, "control socket %s: another xtrunkd answers there",
				 path);
			return -EADDRINUSE;
		}
		unlink(path); /* left by a daemon that is gone */
	}
	if (bind(control->fd, (struct sockaddr *)&sun, sizeof(sun)))
		goto fail;
	if (lstat(path, &st) || chmod(path, 0660) || listen(control->fd, 16))
		goto fail;
	control->dev = st.st_dev;
	control->ino = st.st_ino;
	snprintf(control->path, sizeof(control->path), "%s", path);
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
	return rc;
}

struct xt_control *xt_control_create(su_root_t *root, const char *path,
				     const struct xt_control_sources *sources, char *err,
				     size_t errlen)
{
	struct xt_control *control = calloc(1, sizeof(*control));
	su_wait_t wait[1];
	int rc = -EINVAL;

	if (!control) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	control->sources = *sources;
	control->root = root;
	control->fd = -1;
	control->registration = -1;
	if (strlen(path) >= sizeof(control->path)) {
		snprintf(err, errlen, "control socket %s: path too long", path);
		goto fail;
	}
	rc = listen_on(control, path, err, errlen);
	if (rc)
		goto fail;
	rc = -EIO;
	if (su_wait_create(wait, control->fd, SU_WAIT_ACCEPT) ||
	    (control->registration = su_root_register(root, wait, accept_event,
						      (su_wakeup_arg_t *)control, 0)) < 0) {
		snprintf(err, errlen, "control socket %s: cannot watch it", path);
		goto fail;
	}
	pr_info("control socket on %s\n", path);
	return control;
fail:
	xt_control_destroy(control);
	errno = -rc;
	return NULL;
}

void xt_control_destroy(struct xt_control *control)
{
	struct stat st;

	if (!control)
		return;
	for (int i = 0; i < XT_CONTROL_MAX_CLIENTS; i++)
		if (control->clients[i])
			client_close(control->clients[i]);
	if (control->registration >= 0)
		su_root_deregister(control->root, control->registration);
	if (control->fd >= 0)
		close(control->fd);
	/* remove the socket file if it is still the one we made */
	if (control->path[0] && !lstat(control->path, &st) && st.st_dev == control->dev &&
	    st.st_ino == control->ino)
		unlink(control->path);
	free(control);
}
