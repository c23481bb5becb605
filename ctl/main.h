/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* xtrunkctl: command tables, argument helpers, output mode (after bpftool). */
#ifndef XTRUNKCTL_MAIN_H
#define XTRUNKCTL_MAIN_H

#include <stdbool.h>

#include "json_writer.h"

/* One command of an object: its name, handler and the usage line help prints. */
struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args; /* usage after "xtrunkctl OBJECT NAME", NULL: none */
	const char *help;
};

extern bool json_output;
extern struct json_writer *json_wtr;
extern const char *pin_dir;
extern const char *bin_name;

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

extern const struct cmd iface_cmds[];
extern const struct cmd flow_cmds[];
extern const struct cmd stats_cmds[];

#endif
