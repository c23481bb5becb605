// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xtrunkctl [-j|-p] [-v] [--pin-dir DIR] [--socket PATH] OBJECT COMMAND ... */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xtrunk_abi.h"
#include "log.h"
#include "main.h"

bool json_output;
struct json_writer *json_wtr;
const char *pin_dir = XT_PIN_DIR;
const char *bin_name = "xtrunkctl";
/* xtrunkd's control socket, unless --socket or XTRUNK_SOCKET says otherwise */
const char *control_socket = XT_CONTROL_SOCKET;

static int do_help(int argc, char **argv);
static int do_batch(int argc, char **argv);

const struct cmd objects[] = {
	{ "iface", do_iface, NULL, "attach, detach and list the relay's interfaces" },
	{ "flow", do_flow, NULL, "add, delete and inspect relay flows" },
	{ "stats", do_stats, NULL, "global verdict and drop counters" },
	{ "call", do_call, NULL, "calls in progress: list, show, terminate (xtrunkd)" },
	{ "trunk", do_trunk, NULL, "channels in use and limit per side (xtrunkd)" },
	{ "port", do_port, NULL, "relay ports used and free per side (xtrunkd)" },
	{ "batch", do_batch, "file FILE", "run the commands of FILE (- for stdin), one a line" },
	{ "help", do_help, "[--man]", "this text; --man: the manual page (troff)" },
	{ 0 }
};

const struct object_table object_tables[] = { { "iface", iface_cmds },
					      { "flow", flow_cmds },
					      { "stats", stats_cmds },
					      { "call", call_cmds },
					      { "trunk", trunk_cmds },
					      { "port", port_cmds },
					      { 0 } };

const struct option_doc option_docs[] = {
	{ "-j, --json", NULL, "print JSON (errors too: {\"error\": \"...\"} on stdout)" },
	{ "-p, --pretty", NULL, "print pretty JSON" },
	{ "-v, --verbose", NULL, "more messages on stderr (twice: debug)" },
	{ "--pin-dir", "DIR", "where the relay's maps are pinned (default " XT_PIN_DIR ")" },
	{ "--socket", "PATH",
	  "xtrunkd's control socket (default $XTRUNK_SOCKET, else " XT_CONTROL_SOCKET ")" },
	{ "-h, --help", NULL, "this text" },
	{ 0 }
};

bool is_prefix(const char *word, const char *full)
{
	size_t len = strlen(word);

	return len > 0 && !strncmp(word, full, len);
}

int p_err(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (json_output) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "error", msg);
		jsonw_end_object(json_wtr);
	} else {
		fprintf(stderr, "Error: %s\n", msg);
	}
	return -1;
}

/*
 * Help fits an 80-column terminal: words (bracketed groups kept whole) go
 * on a line while they fit, the rest continue on lines indented by indent.
 */
#define HELP_WIDTH 80

static void print_words(FILE *out, int col, int indent, const char *text)
{
	const char *p = text;

	while (*p) {
		const char *end = p;
		int depth = 0, len;

		while (*p == ' ' || *p == '\n')
			p++;
		if (!*p)
			break;
		for (end = p; *end && *end != '\n' && (depth || *end != ' '); end++)
			depth += *end == '[' ? 1 : *end == ']' ? -1 : 0;
		len = (int)(end - p);
		if (col > indent && col + 1 + len > HELP_WIDTH) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", len, p);
		col += len;
		p = end;
	}
	fputc('\n', out);
}

/* "  xtrunkctl OBJECT COMMAND ARGS", wrapped; returns nothing. */
static void print_usage_line(FILE *out, const char *prefix, const char *object, const struct cmd *c)
{
	int col = fprintf(out, "  %s%s%s%s%s", prefix, object ? object : "", object ? " " : "",
			  c->name, c->args ? "" : "");

	if (c->args)
		print_words(out, col, 8, c->args);
	else
		fputc('\n', out);
}

void print_object_help(const struct cmd *cmds, const char *object)
{
	FILE *out = json_output ? stderr : stdout;
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "%s [-j|-p] ", bin_name);
	fprintf(out, "Usage:\n");
	for (const struct cmd *c = cmds; c->name; c++) {
		print_usage_line(out, prefix, object, c);
		fprintf(out, "      ");
		print_words(out, 6, 6, c->help);
	}
}

int cmd_select(const struct cmd *cmds, const char *object, int argc, char **argv)
{
	const struct cmd *match = NULL;

	if (argc < 1 || !strcmp(argv[0], "help")) {
		print_object_help(cmds, object);
		return argc < 1 ? -1 : 0;
	}
	for (const struct cmd *c = cmds; c->name; c++) {
		if (!strcmp(argv[0], c->name)) {
			match = c;
			break;
		}
		if (is_prefix(argv[0], c->name)) {
			if (match)
				return p_err("'%s' is ambiguous: %s or %s", argv[0], match->name,
					     c->name);
			match = c;
		}
	}
	if (!match)
		return object ? p_err("unknown %s command '%s' (try: %s %s help)", object, argv[0],
				      bin_name, object) :
				p_err("unknown object '%s' (try: %s help)", argv[0], bin_name);
	return match->fn(argc - 1, argv + 1);
}

#define BATCH_MAX_ARGS 64

/* Split a line into words: blanks separate, double quotes group, # comments. */
static int split_words(char *line, char **words, int max)
{
	int n = 0;
	char *p = line;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			break;
		if (n == max)
			return -1;
		if (*p == '"') {
			words[n++] = ++p;
			while (*p && *p != '"')
				p++;
			if (*p != '"')
				return -1;
		} else {
			words[n++] = p;
			while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
				p++;
		}
		if (*p)
			*p++ = '\0';
	}
	return n;
}

/* bpftool's batch: every line is "OBJECT COMMAND ..."; the first failure stops it. */
static int do_batch(int argc, char **argv)
{
	char line[4096], *words[BATCH_MAX_ARGS];
	unsigned int lineno = 0, done = 0;
	FILE *f;
	int rc = 0;

	if (argc != 2 || strcmp(argv[0], "file"))
		return p_err("usage: %s batch file FILE", bin_name);
	f = strcmp(argv[1], "-") ? fopen(argv[1], "r") : stdin;
	if (!f)
		return p_err("cannot read %s: %s", argv[1], strerror(errno));
	if (json_output)
		jsonw_start_array(json_wtr);
	while (fgets(line, sizeof(line), f)) {
		int n;

		lineno++;
		n = split_words(line, words, BATCH_MAX_ARGS);
		if (n < 0) {
			rc = p_err("%s:%u: unterminated quote or too many words", argv[1], lineno);
			break;
		}
		if (n == 0)
			continue;
		if (!strcmp(words[0], "batch")) {
			rc = p_err("%s:%u: batch inside a batch", argv[1], lineno);
			break;
		}
		rc = cmd_select(objects, NULL, n, words);
		if (rc) {
			if (!json_output)
				fprintf(stderr,
					"Error: %s:%u: command failed (%u done before it)\n",
					argv[1], lineno, done);
			break;
		}
		done++;
	}
	if (json_output)
		jsonw_end_array(json_wtr);
	if (f != stdin)
		fclose(f);
	if (!rc && !json_output)
		printf("processed %u commands\n", done);
	return rc;
}

static void usage(FILE *out)
{
	char prefix[32];
	int col;

	fprintf(out, "Usage: %s [OPTIONS] OBJECT { COMMAND | help }\n", bin_name);
	col = fprintf(out, "OBJECT := {");
	for (const struct cmd *o = objects; o->name; o++)
		col += fprintf(out, " %s%s", o->name, o[1].name ? " |" : " }\n");
	fprintf(out, "OPTIONS:\n");
	for (const struct option_doc *d = option_docs; d->flags; d++) {
		col = fprintf(out, "  %s%s%s", d->flags, d->arg ? " " : "", d->arg ? d->arg : "");
		fprintf(out, "%*s", col < 18 ? 18 - col : 1, "");
		print_words(out, col < 18 ? 18 : col + 1, 18, d->help);
	}
	fprintf(out, "\n");
	for (const struct cmd *o = objects; o->name; o++)
		fprintf(out, "  %-6s %s\n", o->name, o->help);
	fprintf(out, "\n");
	snprintf(prefix, sizeof(prefix), "%s ", bin_name);
	for (const struct object_table *t = object_tables; t->name; t++)
		for (const struct cmd *c = t->cmds; c->name; c++)
			print_usage_line(out, prefix, t->name, c);
	fprintf(out,
		"\nMaps are pinned under %s; call, trunk and port ask xtrunkd.\n"
		"Exit status: 0 on success, 1 on error.\n",
		XT_PIN_DIR);
	(void)col;
}

static int do_help(int argc, char **argv)
{
	if (argc == 1 && !strcmp(argv[0], "--man"))
		return print_man_page();
	if (argc)
		return p_err("unexpected '%s' (help takes only --man)", argv[0]);
	usage(json_output ? stderr : stdout);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = { { "json", no_argument, NULL, 'j' },
						 { "pretty", no_argument, NULL, 'p' },
						 { "verbose", no_argument, NULL, 'v' },
						 { "pin-dir", required_argument, NULL, 'P' },
						 { "socket", required_argument, NULL, 'S' },
						 { "help", no_argument, NULL, 'h' },
						 { 0 } };
	bool pretty = false;
	int opt, rc, verbosity = 0;

	if (getenv("XTRUNK_SOCKET") && *getenv("XTRUNK_SOCKET"))
		control_socket = getenv("XTRUNK_SOCKET");
	while ((opt = getopt_long(argc, argv, "+jpvhP:", options, NULL)) >= 0) {
		switch (opt) {
		case 'j':
			json_output = true;
			break;
		case 'p':
			json_output = pretty = true;
			break;
		case 'v':
			verbosity++;
			break;
		case 'P':
			pin_dir = optarg;
			break;
		case 'S':
			control_socket = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	argc -= optind;
	argv += optind;

	xt_log_set_level(verbosity >= 2 ? XT_LOG_DEBUG : verbosity ? XT_LOG_INFO : XT_LOG_WARN);
	xt_log_route_libraries();
	if (json_output) {
		json_wtr = jsonw_new(stdout, pretty);
		if (!json_wtr) {
			fprintf(stderr, "Error: out of memory\n");
			return 1;
		}
	}
	if (argc < 1) {
		usage(stderr);
		rc = -1;
	} else if (is_prefix(argv[0], "help")) {
		rc = do_help(argc - 1, argv + 1);
	} else {
		rc = cmd_select(objects, NULL, argc, argv);
	}
	if (json_output)
		jsonw_destroy(&json_wtr);
	return rc ? 1 : 0;
}
