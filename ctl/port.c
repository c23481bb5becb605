// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xtrunkctl port list: relay ports used and free per side, from xtrunkd. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "main.h"

static int do_list(int argc, char **argv)
{
	const struct xt_json *result;
	struct xt_json *reply;

	if (argc)
		return p_err("unexpected '%s'", argv[0]);
	if (control_request(XT_CTL_PORT_LIST, NULL, NULL, &reply, &result))
		return -1;
	if (json_output) {
		print_json_result(result);
		xt_json_free(reply);
		return 0;
	}
	for (const struct xt_json *p = result->child; p; p = p->next) {
		const struct xt_json *addrs = xt_json_get(p, "addresses");
		const char *side = xt_json_get_str(p, "side"),
			   *dev = xt_json_get_str(p, "interface");

		printf("%-6s %-8s ports %" PRIu64 "-%" PRIu64 "  used %" PRIu64 "  free %" PRIu64
		       "  of %" PRIu64 "\n",
		       side ? side : "-", dev ? dev : "-", xt_json_get_uint(p, "min", 0),
		       xt_json_get_uint(p, "max", 0), xt_json_get_uint(p, "used", 0),
		       xt_json_get_uint(p, "free", 0), xt_json_get_uint(p, "total", 0));
		for (const struct xt_json *a = addrs ? addrs->child : NULL; a; a = a->next)
			if (a->type == XT_JSON_STRING)
				printf("\taddress %s\n", a->text);
	}
	xt_json_free(reply);
	return 0;
}

const struct cmd port_cmds[] = {
	{ "list", do_list, NULL,
	  "relay ports per side: its interface, addresses, range, used and free" },
	{ 0 }
};

int do_port(int argc, char **argv)
{
	/* "xtrunkctl port" alone lists them */
	if (!argc)
		return do_list(argc, argv);
	return cmd_select(port_cmds, "port", argc, argv);
}
