/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The control socket: a unix stream socket on the daemon's event loop where
 * xtrunkctl asks about calls, trunks and relay ports, and hangs calls up.
 *
 * Protocol: the client writes one request a line, a JSON object
 *   {"command": "call list"}
 *   {"command": "call show", "id": "c1"}
 *   {"command": "call terminate", "id": "c1"}
 *   {"command": "trunk list"}
 *   {"command": "trunk show", "side": "pbx"}
 *   {"command": "port list"}
 * and reads one reply a line: {"result": VALUE} or {"error": "why"}. A client
 * may send several requests on one connection. A line longer than
 * XT_CONTROL_MAX_REQUEST gets an error and the connection is closed.
 */
#ifndef XTRUNKD_CONTROL_H
#define XTRUNKD_CONTROL_H

#include <stddef.h>

#include <sofia-sip/su_wait.h>

#include "config.h"
#include "dataplane.h"
#include "media_session.h"
#include "sip_b2bua.h"

#define XT_CONTROL_MAX_CLIENTS 16

struct xt_control;

struct xt_control_sources {
	const struct xt_config *config;
	struct xt_dataplane *dp;
	struct xt_media_env *media;
	struct xt_b2bua *b2b;
};

/*
 * Listen on path (mode 0660; its directory is made when missing). A socket
 * left by a daemon that is gone is replaced; one a running daemon answers on
 * is not (errno EADDRINUSE). NULL with err and errno set on failure.
 */
struct xt_control *xt_control_create(su_root_t *root, const char *path,
				     const struct xt_control_sources *sources, char *err,
				     size_t errlen);
void xt_control_destroy(struct xt_control *control);

/* The reply line (with its newline) to one request line, malloc'd. */
char *xt_control_handle(const struct xt_control_sources *sources, const char *request, size_t len,
			size_t *reply_len);

#endif
