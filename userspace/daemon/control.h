/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The control socket: a unix stream socket on the daemon's event loop where
 * xtrunkctl asks about calls, trunks and relay ports, and hangs calls up. The
 * protocol (commands, keys, limits) is in control_proto.h. control_server.c
 * serves the socket (clients, buffers, one reply per request line, in turn);
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

/*
 * The reply line (with its newline) to one request line, handed out a part
 * at a time as the client reads (control_cmds.c): a command's whole result
 * is one part; call list's parts are XT_B2BUA_CALL_BATCH calls each, so a
 * reply of any length costs one part's memory at a time (the bound:
 * control_server.c).
 */
struct xt_control_reply;

/* The reply to one request line (no newline); NULL when out of memory. */
struct xt_control_reply *xt_control_reply_start(const struct xt_daemon_sources *sources,
						const char *request, size_t len);
/* The reply {"error": msg}; NULL when out of memory. */
struct xt_control_reply *xt_control_reply_error(const char *msg);
/*
 * The reply's next part into *data and *len, valid until the next call: 1;
 * 0 when the reply is complete; -ENOMEM when it cannot be written (only
 * after its first part: a first part that fails is an error reply).
 */
int xt_control_reply_next(struct xt_control_reply *reply, const char **data, size_t *len);
void xt_control_reply_free(struct xt_control_reply *reply);

#endif
