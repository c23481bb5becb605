// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xtrunkctl trunk { list | show }: each endpoint's channels in use and their limit, from xtrunkd. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "main.h"

static const char *str(const struct xt_json *object, const char *key)
{
	const char *value = xt_json_get_str(object, key);

	return value && *value ? value : "-";
}

static void print_trunk(const struct xt_json *t)
{
	const struct xt_json *limit = xt_json_get(t, "limit");

	printf("%-6s channels %" PRIu64 "/%s  sip %s  peer %s\n", str(t, "side"),
	       xt_json_get_uint(t, "channels", 0),
	       limit && limit->type == XT_JSON_NUMBER ? limit->text : "unlimited", str(t, "sip"),
	       str(t, "peer"));
}

static int do_list(int argc, char **argv)
{
	const struct xt_json *result;
	struct xt_json *reply;

	if (argc)
		return p_err("unexpected '%s'", argv[0]);
	if (control_request(XT_CTL_TRUNK_LIST, NULL, NULL, &reply, &result))
		return -1;
	if (json_output)
		print_json_result(result);
	else
		for (const struct xt_json *t = result->child; t; t = t->next)
			print_trunk(t);
	xt_json_free(reply);
	return 0;
}

/* "LABEL  NAME N  NAME N ...", continued on more lines to fit 80 columns. */
static void print_counters(const char *label, const struct xt_json *counters)
{
	int col = 8 + printf("\t%-9s", label) - 1;

	for (const struct xt_json *c = counters ? counters->child : NULL; c; c = c->next) {
		char item[64];
		int len = snprintf(item, sizeof(item), "  %s %s", c->key,
				   c->type == XT_JSON_NUMBER ? c->text : "-");

		if (col + len > 80) {
			col = 8 + printf("\n\t%9s", "") - 2;
		}
		col += printf("%s", item);
	}
	printf("\n");
}

static int do_show(int argc, char **argv)
{
	const struct xt_json *result;
	struct xt_json *reply;

	REQ_ARGS(1);
	if (argc > 1)
		return p_err("unexpected '%s' after the endpoint name", argv[1]);
	if (control_request(XT_CTL_TRUNK_SHOW, XT_CTL_KEY_SIDE, argv[0], &reply, &result))
		return -1;
	if (json_output) {
		print_json_result(result);
	} else {
		print_trunk(result);
		printf("\tinterface %s\n", str(result, "interface"));
		print_counters("requests", xt_json_get(result, "sip_requests"));
		print_counters("responses", xt_json_get(result, "sip_responses"));
	}
	xt_json_free(reply);
	return 0;
}

const struct cmd trunk_cmds[] = {
	{ "list", do_list, NULL, "each endpoint's calls in progress (channels) and its limit" },
	{ "show", do_show, "NAME",
	  "one endpoint, by name: channels, limit, SIP requests and responses" },
	{ 0 }
};

int do_trunk(int argc, char **argv)
{
	return cmd_select(trunk_cmds, "trunk", argc, argv);
}
