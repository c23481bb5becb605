/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The control socket: a unix stream socket on the daemon's event loop where
 * xtrunkctl asks about calls, trunks and relay ports, and hangs calls up. The
 * protocol (commands, keys, limits) is in control_proto.h. control_server.c
 * serves the socket (clients, buffers, one reply per request line);
 * control_cmds.c answers the requests from the modules' snapshots.
 */
#ifndef XTRUNKD_CONTROL_H
#define XTRUNKD_CONTROL_H

#include <stddef.h>

#include <sofia-sip/su_wait.h>

#include "control_proto.h"
#include "daemon_sources.h"

#define XT_CONTROL_MAX_CLIENTS 16

struct xt_control;

/*
 * Listen on path (mode 0660; its directory is made when missing). A socket
 * left by a daemon that is gone is replaced; one a running daemon answers on
 * is not (errno EADDRINUSE). NULL with err and errno set on failure.
 */
struct xt_control *xt_control_create(su_root_t *root, const char *path,
				     const struct xt_daemon_sources *sources, char *err,
				     size_t errlen);
void xt_control_destroy(struct xt_control *control);

/* The reply line (with its newline) to one request line, malloc'd. */
char *xt_control_handle(const struct xt_daemon_sources *sources, const char *request, size_t len,
			size_t *reply_len);
/* The reply line {"error": msg}, malloc'd; NULL when out of memory. */
char *xt_control_error_reply(const char *msg, size_t *len);

#endif
