/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The small HTTP/1.1 server /metrics runs on, on the event loop: GET and
 * HEAD without a body, keep-alive, and bounds on what clients can hold: at
 * most XT_HTTP_MAX_CONNECTIONS at once (a new one closes the one idle
 * longest), each closed after XT_HTTP_IDLE_S without a byte either way or a
 * request not complete XT_HTTP_IDLE_S after it began. sofia-sip's nth server
 * has neither bound: its idle timer starts only after a connection's first
 * byte (one that never sends stays forever) and nothing caps connections.
 */
#ifndef XTRUNKD_HTTP_SERVER_H
#define XTRUNKD_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/su_wait.h>

#include "endpoint.h"

#define XT_HTTP_MAX_CONNECTIONS 32
#define XT_HTTP_IDLE_S 10
#define XT_HTTP_MAX_REQUEST 8192 /* request line and headers */

struct xt_http_response {
	int status;		      /* 200, 404, ... */
	const char *content_type;     /* NULL: text/plain */
	const char *content_encoding; /* NULL: none */
	const char *allow;	      /* an Allow header (405), or NULL */
	char *body;		      /* malloc'd, the server frees it; NULL: empty */
	size_t body_len;
};

/*
 * Answer one request: method and path as they came ("GET", "/metrics"), gzip:
 * the client accepts gzip. Fills resp (a HEAD gets its headers only).
 */
typedef void xt_http_handler(void *arg, const char *method, const char *path, bool gzip,
			     struct xt_http_response *resp);

struct xt_http_server;

struct xt_http_server *xt_http_server_create(su_root_t *root, const struct xt_endpoint *listen,
					     xt_http_handler *handler, void *arg, char *err,
					     size_t errlen);
void xt_http_server_destroy(struct xt_http_server *server);

#endif
