/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xtrunkd's control protocol, shared by the daemon (control_server.c,
 * control_cmds.c) and xtrunkctl (ctl/control.c): a unix stream socket where
 * the client writes one request a line, a JSON object
 *   {"command": "call list"}
 *   {"command": "call show", "id": "c1"}
 *   {"command": "call terminate", "id": "c1"}
 *   {"command": "trunk list"}
 *   {"command": "trunk show", "side": "pbx"}
 *   {"command": "port list"}
 * and reads one reply a line: {"result": VALUE} or {"error": "why"}. A reply
 * has no length limit (call list: every call, however many), so a client
 * reads up to the newline. A client may send several requests on one
 * connection: they are answered in turn. A line longer than
 * XT_CONTROL_MAX_REQUEST gets an error and the connection is closed.
 */
#ifndef XTRUNK_CONTROL_PROTO_H
#define XTRUNK_CONTROL_PROTO_H

/* where xtrunkd listens unless its configuration ([relay] control) says otherwise */
#define XT_CONTROL_SOCKET "/run/xtrunk/xtrunkd.sock"

/* the longest request line, newline excluded */
#define XT_CONTROL_MAX_REQUEST 4096

/* commands */
#define XT_CTL_CALL_LIST "call list"
#define XT_CTL_CALL_SHOW "call show"
#define XT_CTL_CALL_TERMINATE "call terminate"
#define XT_CTL_TRUNK_LIST "trunk list"
#define XT_CTL_TRUNK_SHOW "trunk show"
#define XT_CTL_PORT_LIST "port list"

/* request keys */
#define XT_CTL_KEY_COMMAND "command"
#define XT_CTL_KEY_ID "id"     /* call show, call terminate: the call */
#define XT_CTL_KEY_SIDE "side" /* trunk show: the side's name */

/* reply keys: exactly one of them */
#define XT_CTL_KEY_RESULT "result"
#define XT_CTL_KEY_ERROR "error"

#endif
