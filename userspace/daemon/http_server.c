// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The HTTP server under /metrics: listening, accepting (bounded), each
 * connection's input and output on the event loop, idle ones closed. The
 * same shape as the control socket's server (control_server.c).
 */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sofia-sip/su.h>

#include "clock.h"
#include "http_server.h"
#include "log.h"
#include "udp_socket.h" /* xt_sockaddr_from_endpoint */

#define IDLE_NS ((uint64_t)XT_HTTP_IDLE_S * 1000000000ull)
#define CHECK_MS 1000 /* idle connections closed, accepting resumed after EMFILE */

struct http_conn {
	struct xt_http_server *server;
	int fd;
	int registration;
	int events; /* what the registration waits for */
	char in[XT_HTTP_MAX_REQUEST + 1];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	bool closing;  /* close once the pending response is sent */
	bool draining; /* response sent, our side shut: discard input until the client closes */
	uint64_t active_ns;  /* CLOCK_MONOTONIC of its last input or output */
	uint64_t request_ns; /* when the request being read began; 0: none */
};

struct xt_http_server {
	su_root_t *root;
	xt_http_handler *handler;
	void *arg;
	int fd;
	int registration; /* accept's; -1 while paused (out of descriptors) */
	su_timer_t *timer;
	bool emfile_logged;
	struct http_conn *conns[XT_HTTP_MAX_CONNECTIONS];
};

static void conn_close(struct http_conn *conn)
{
	struct xt_http_server *server = conn->server;

	for (int i = 0; i < XT_HTTP_MAX_CONNECTIONS; i++)
		if (server->conns[i] == conn)
			server->conns[i] = NULL;
	if (conn->registration >= 0)
		su_root_deregister(server->root, conn->registration);
	close(conn->fd);
	free(conn->out);
	free(conn);
}

/* Send what is pending. Returns -1 when the connection is gone (closed). */
static int conn_flush(struct http_conn *conn)
{
	int events;

	while (conn->out_off < conn->out_len) {
		ssize_t n = send(conn->fd, conn->out + conn->out_off, conn->out_len - conn->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_close(conn);
			return -1;
		}
		conn->out_off += (size_t)n;
		conn->active_ns = xt_monotonic_ns();
	}
	if (conn->out_off == conn->out_len) {
		free(conn->out);
		conn->out = NULL;
		conn->out_off = conn->out_len = 0;
		/* closing with unread input would reset the connection and could lose
		 * the response: shut our side, let the client close its own */
		if (conn->closing && !conn->draining) {
			shutdown(conn->fd, SHUT_WR);
			conn->draining = true;
		}
	}
	events = conn->draining ? SU_WAIT_IN :
		 conn->closing	? SU_WAIT_OUT :
		 conn->out_len	? SU_WAIT_IN | SU_WAIT_OUT :
				  SU_WAIT_IN;
	if (events != conn->events) {
		su_root_eventmask(conn->server->root, conn->registration, conn->fd, events);
		conn->events = events;
	}
	return 0;
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Internal Server Error";
	}
}

/* Queue the response (headers, and the body but for HEAD); resp->body is freed. */
static int conn_respond(struct http_conn *conn, struct xt_http_response *resp, bool head)
{
	size_t body = head ? 0 : resp->body_len;
	char hdr[512];
	int n;
	char *out;

	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %d %s\r\nServer: xtrunkd\r\nContent-Type: %s\r\n"
		     "Content-Length: %zu\r\n%s%s%s%s%s%s%s\r\n",
		     resp->status, reason_phrase(resp->status),
		     resp->content_type ? resp->content_type : "text/plain", resp->body_len,
		     resp->content_encoding ? "Content-Encoding: " : "",
		     resp->content_encoding ? resp->content_encoding : "",
		     resp->content_encoding ? "\r\n" : "", resp->allow ? "Allow: " : "",
		     resp->allow ? resp->allow : "", resp->allow ? "\r\n" : "",
		     conn->closing ? "Connection: close\r\n" : "");
	out = n > 0 && (size_t)n < sizeof(hdr) ?
		      realloc(conn->out, conn->out_len + (size_t)n + body) :
		      NULL;
	if (!out) {
		free(resp->body);
		return -1;
	}
	memcpy(out + conn->out_len, hdr, (size_t)n);
	if (body)
		memcpy(out + conn->out_len + n, resp->body, body);
	conn->out = out;
	conn->out_len += (size_t)n + body;
	free(resp->body);
	return 0;
}

/* A header's value in the header block [p, end) (lines after the request line), or NULL. */
static const char *header_value(const char *p, const char *end, const char *name, size_t *len)
{
	size_t nlen = strlen(name);

	while (p < end) {
		const char *eol = memchr(p, '\r', (size_t)(end - p));

		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > nlen && !strncasecmp(p, name, nlen) && p[nlen] == ':') {
			const char *v = p + nlen + 1;

			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*len = (size_t)(eol - v);
			return v;
		}
		p = eol + 2;
	}
	return NULL;
}

/* Accept-Encoding names gzip with a q-value other than 0. */
static bool accepts_gzip(const char *v, size_t len)
{
	char list[512], *save = NULL;

	if (!v || len >= sizeof(list))
		return false;
	memcpy(list, v, len);
	list[len] = '\0';
	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *q;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		if (strncasecmp(tok, "gzip", 4) || (tok[4] && tok[4] != ';' && tok[4] != ' '))
			continue;
		q = strstr(tok, "q=");
		return !q || strtod(q + 2, NULL) != 0.0;
	}
	return false;
}

/* Answer the request that ends at end (its blank line). */
static int conn_request(struct http_conn *conn, char *end)
{
	struct xt_http_server *server = conn->server;
	struct xt_http_response resp = { .status = 400 };
	char method[16], target[256], version[16];
	char *eol = strstr(conn->in, "\r\n"), *query;
	const char *v;
	size_t len;

	if (!eol || eol > end ||
	    sscanf(conn->in, "%15[A-Z] %255[^ \r] %15[^ \r]", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7)) {
		conn->closing = true;
		return conn_respond(conn, &resp, false);
	}
	/* no request body is read: one announced ends the connection after the answer */
	if (strcmp(version, "HTTP/1.1") ||
	    ((v = header_value(eol + 2, end, "Connection", &len)) && len >= 5 &&
	     !strncasecmp(v, "close", 5)) ||
	    ((v = header_value(eol + 2, end, "Content-Length", &len)) && strtoul(v, NULL, 10)) ||
	    header_value(eol + 2, end, "Transfer-Encoding", &len))
		conn->closing = true;
	query = strchr(target, '?');
	if (query)
		*query = '\0';
	v = header_value(eol + 2, end, "Accept-Encoding", &len);
	server->handler(server->arg, method, target, accepts_gzip(v, v ? len : 0), &resp);
	return conn_respond(conn, &resp, !strcmp(method, "HEAD"));
}

/* Answer every complete request in the input buffer. */
static int conn_requests(struct http_conn *conn)
{
	char *end;

	while (!conn->closing && (end = strstr(conn->in, "\r\n\r\n"))) {
		size_t used = (size_t)(end + 4 - conn->in);

		if (conn_request(conn, end)) {
			conn_close(conn);
			return -1;
		}
		memmove(conn->in, conn->in + used, conn->in_len - used + 1);
		conn->in_len -= used;
		conn->request_ns = conn->in_len ? xt_monotonic_ns() : 0;
	}
	if (!conn->closing && conn->in_len == XT_HTTP_MAX_REQUEST) {
		struct xt_http_response resp = { .status = 431 };

		conn->closing = true;
		if (conn_respond(conn, &resp, false)) {
			conn_close(conn);
			return -1;
		}
	}
	return 0;
}

static int conn_event(su_root_magic_t *magic, su_wait_t *wait, su_wakeup_arg_t *arg)
{
	struct http_conn *conn = (struct http_conn *)arg;
	int events = su_wait_events(wait, conn->fd);

	if ((events & SU_WAIT_OUT) && conn_flush(conn))
		return 0;
	if (!(events & (SU_WAIT_IN | SU_WAIT_HUP | SU_WAIT_ERR)))
		return 0;
	if (conn->draining) {
		char sink[4096];
		ssize_t n;

		while ((n = recv(conn->fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
			;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			conn_close(conn);
		return 0;
	}
	if (conn->closing) {
		if (events & (SU_WAIT_HUP | SU_WAIT_ERR))
			conn_close(conn);
		return 0;
	}
	for (;;) {
		ssize_t n = recv(conn->fd, conn->in + conn->in_len,
				 XT_HTTP_MAX_REQUEST - conn->in_len, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n == 0 && conn->out_len) {
			/* it shut its side: send what is left, then close */
			conn->closing = true;
			break;
		}
		if (n <= 0) {
			conn_close(conn);
			return 0;
		}
		if (!conn->in_len)
			conn->request_ns = xt_monotonic_ns();
		conn->in_len += (size_t)n;
		conn->in[conn->in_len] = '\0';
		conn->active_ns = xt_monotonic_ns();
		if (conn_requests(conn))
			return 0;
		if (conn->closing)
			break;
	}
	conn_flush(conn);
	return 0;
}

/* A free slot; when all are taken, the one idle longest is closed for it. */
static int free_slot(struct xt_http_server *server)
{
	int oldest = 0;

	for (int i = 0; i < XT_HTTP_MAX_CONNECTIONS; i++) {
		if (!server->conns[i])
			return i;
		if (server->conns[i]->active_ns < server->conns[oldest]->active_ns)
			oldest = i;
	}
	pr_debug("metrics: %d connections open: closing the one idle longest\n",
		 XT_HTTP_MAX_CONNECTIONS);
	conn_close(server->conns[oldest]);
	return oldest;
}

static int accept_event(su_root_magic_t *magic, su_wait_t *wait, su_wakeup_arg_t *arg)
{
	struct xt_http_server *server = (struct xt_http_server *)arg;
	struct http_conn *conn;
	su_wait_t cwait[1];
	int fd, slot;

	fd = accept4(server->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
		/* the connection stays queued; polling for it again now would spin */
		if (!server->emfile_logged)
			pr_warn("metrics: cannot accept a connection: %s; retrying in %d ms\n",
				strerror(errno), CHECK_MS);
		server->emfile_logged = true;
		su_root_deregister(server->root, server->registration);
		server->registration = -1;
		return 0;
	}
	if (fd < 0)
		return 0;
	server->emfile_logged = false;
	conn = calloc(1, sizeof(*conn));
	if (!conn) {
		close(fd);
		return 0;
	}
	slot = free_slot(server);
	conn->server = server;
	conn->fd = fd;
	conn->registration = -1;
	conn->active_ns = xt_monotonic_ns();
	conn->events = SU_WAIT_IN;
	if (su_wait_create(cwait, fd, SU_WAIT_IN) ||
	    (conn->registration = su_root_register(server->root, cwait, conn_event,
						   (su_wakeup_arg_t *)conn, 0)) < 0) {
		conn->registration = -1;
		conn_close(conn);
		return 0;
	}
	server->conns[slot] = conn;
	return 0;
}

static int watch_accept(struct xt_http_server *server)
{
	su_wait_t wait[1];

	if (su_wait_create(wait, server->fd, SU_WAIT_ACCEPT))
		return -1;
	server->registration =
		su_root_register(server->root, wait, accept_event, (su_wakeup_arg_t *)server, 0);
	return server->registration < 0 ? -1 : 0;
}

/* Once a second: close idle connections and requests too slow to complete; accept again. */
static void check_tick(su_root_magic_t *magic, su_timer_t *timer, su_timer_arg_t *arg)
{
	struct xt_http_server *server = (struct xt_http_server *)arg;
	uint64_t now = xt_monotonic_ns();

	for (int i = 0; i < XT_HTTP_MAX_CONNECTIONS; i++) {
		struct http_conn *conn = server->conns[i];

		if (conn && (now - conn->active_ns > IDLE_NS ||
			     (conn->request_ns && now - conn->request_ns > IDLE_NS))) {
			pr_debug("metrics: closing a connection idle (or a request incomplete) "
				 "for %d s\n",
				 XT_HTTP_IDLE_S);
			conn_close(conn);
		}
	}
	if (server->registration < 0 && server->fd >= 0)
		watch_accept(server);
}

struct xt_http_server *xt_http_server_create(su_root_t *root, const struct xt_endpoint *listen_on,
					     xt_http_handler *handler, void *arg, char *err,
					     size_t errlen)
{
	struct xt_http_server *server = calloc(1, sizeof(*server));
	struct sockaddr_storage ss;
	socklen_t sslen = xt_sockaddr_from_endpoint(listen_on, &ss);
	int one = 1;

	if (!server) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	server->root = root;
	server->handler = handler;
	server->arg = arg;
	server->registration = -1;
	server->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (server->fd < 0 || setsockopt(server->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(server->fd, (struct sockaddr *)&ss, sslen) || listen(server->fd, 64)) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	server->timer = su_timer_create(su_root_task(root), CHECK_MS);
	if (!server->timer || watch_accept(server) ||
	    su_timer_run(server->timer, check_tick, (su_timer_arg_t *)server)) {
		snprintf(err, errlen, "cannot watch the socket");
		goto fail;
	}
	return server;
fail:
	xt_http_server_destroy(server);
	return NULL;
}

void xt_http_server_destroy(struct xt_http_server *server)
{
	if (!server)
		return;
	su_timer_destroy(server->timer);
	for (int i = 0; i < XT_HTTP_MAX_CONNECTIONS; i++)
		if (server->conns[i])
			conn_close(server->conns[i]);
	if (server->registration >= 0)
		su_root_deregister(server->root, server->registration);
	if (server->fd >= 0)
		close(server->fd);
	free(server);
}
