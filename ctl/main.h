/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* xtrunkctl: command tables, argument helpers, output mode (after bpftool). */
#ifndef XTRUNKCTL_MAIN_H
#define XTRUNKCTL_MAIN_H

#include <stdbool.h>

#include "control_proto.h"
#include "json_reader.h"
#include "json_writer.h"

/* One command of an object: its name, handler and the usage line help prints. */
struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args; /* usage after "xtrunkctl OBJECT NAME", NULL: none */
	const char *help;
};

/* An object and its command table. */
struct object_table {
	const char *name;
	const struct cmd *cmds;
};

/* A command-line option, for the help and the man page. */
struct option_doc {
	const char *flags; /* "-j, --json" */
	const char *arg;   /* its argument, NULL: none */
	const char *help;
};

extern const struct cmd objects[];		  /* the top level: objects, batch, help */
extern const struct object_table object_tables[]; /* ends with a NULL name */
extern const struct option_doc option_docs[];

extern bool json_output;
extern struct json_writer *json_wtr;
extern const char *pin_dir;
extern const char *bin_name;
extern const char *control_socket; /* xtrunkd's: --socket, XTRUNK_SOCKET, or the default */

/*
 * Run the command of table whose name argv[0] is a prefix of (bpftool style:
 * "fl li" is "flow list"); "help" lists the table. Returns the exit status.
 */
int cmd_select(const struct cmd *cmds, const char *object, int argc, char **argv);
void print_object_help(const struct cmd *cmds, const char *object);

/* Report an error once: prose on stderr, or {"error": ...} in JSON mode. Returns -1. */
int p_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

bool is_prefix(const char *word, const char *full);

#define NEXT_ARG()      \
	({              \
		argc--; \
		argv++; \
	})
#define REQ_ARGS(n)                                                                   \
	({                                                                            \
		if (argc < (n)) {                                                     \
			p_err("missing argument%s: expected %d more (see '%s help')", \
			      (n)-argc == 1 ? "" : "s", (n)-argc, bin_name);          \
			return -1;                                                    \
		}                                                                     \
	})

int do_iface(int argc, char **argv);
int do_flow(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_call(int argc, char **argv);
int do_trunk(int argc, char **argv);
int do_port(int argc, char **argv);

extern const struct cmd iface_cmds[];
extern const struct cmd flow_cmds[];
extern const struct cmd stats_cmds[];
extern const struct cmd call_cmds[];
extern const struct cmd trunk_cmds[];
extern const struct cmd port_cmds[];

/*
 * Ask xtrunkd over its control socket: {"command": command[, key: value]}.
 * On success *reply is the whole reply (free it with xt_json_free) and
 * *result its "result"; otherwise the error is reported and -1 returned.
 */
int control_request(const char *command, const char *key, const char *value, struct xt_json **reply,
		    const struct xt_json **result);
/* Write a result as the command's -j output. */
void print_json_result(const struct xt_json *result);

/* The man page, from the same tables as the parser and the help (help --man). */
int print_man_page(void);

#endif
