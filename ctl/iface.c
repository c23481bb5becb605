// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xtrunkctl iface { attach | detach | list } */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xtrunk_abi.h"
#include "loader.h"
#include "main.h"

static int parse_slots(const char *text, uint32_t *slots)
{
	char *end;
	unsigned long value = strtoul(text, &end, 10);

	if (*text < '0' || *text > '9' || *end || value < 1 || value > XT_MAX_SLOTS)
		return p_err("slots '%s': expected a number from 1 to %u", text, XT_MAX_SLOTS);
	*slots = (uint32_t)value;
	return 0;
}

static int do_attach(int argc, char **argv)
{
	enum xdp_attach_mode mode = XDP_MODE_NATIVE;
	uint32_t slots = XT_DEFAULT_SLOTS;
	const char *ifname;
	char err[512];

	REQ_ARGS(1);
	ifname = argv[0];
	NEXT_ARG();
	while (argc) {
		if (is_prefix(argv[0], "mode")) {
			NEXT_ARG();
			REQ_ARGS(1);
			if (!strcmp(argv[0], "native"))
				mode = XDP_MODE_NATIVE;
			else if (!strcmp(argv[0], "skb"))
				mode = XDP_MODE_SKB;
			else
				return p_err("mode '%s': expected native or skb", argv[0]);
		} else if (is_prefix(argv[0], "slots")) {
			NEXT_ARG();
			REQ_ARGS(1);
			if (parse_slots(argv[0], &slots))
				return -1;
		} else {
			return p_err("unexpected '%s' (expected mode or slots)", argv[0]);
		}
		NEXT_ARG();
	}

	if (xt_iface_attach(ifname, mode, pin_dir, slots, err, sizeof(err)))
		return p_err("%s", err);
	if (json_output) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "ifname", ifname);
		jsonw_string_field(json_wtr, "mode", xt_attach_mode_name(mode));
		jsonw_string_field(json_wtr, "pin_dir", pin_dir);
		jsonw_end_object(json_wtr);
	}
	return 0;
}

static int do_detach(int argc, char **argv)
{
	char err[512];

	REQ_ARGS(1);
	if (argc > 1)
		return p_err("unexpected '%s' after the interface name", argv[1]);
	if (xt_iface_detach(argv[0], pin_dir, err, sizeof(err)))
		return p_err("%s", err);
	if (json_output) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "ifname", argv[0]);
		jsonw_bool_field(json_wtr, "detached", true);
		jsonw_end_object(json_wtr);
	}
	return 0;
}

static int do_list(int argc, char **argv)
{
	struct xt_iface_info ifaces[XT_MAX_IFACES];
	int n;

	if (argc)
		return p_err("unexpected '%s'", argv[0]);
	n = xt_iface_list(pin_dir, ifaces, XT_MAX_IFACES);
	if (n < 0)
		return p_err("cannot read the interfaces from %s: %s", pin_dir, strerror(-n));
	if (json_output)
		jsonw_start_array(json_wtr);
	for (int i = 0; i < n; i++) {
		if (json_output) {
			jsonw_start_object(json_wtr);
			jsonw_string_field(json_wtr, "ifname", ifaces[i].name);
			jsonw_uint_field(json_wtr, "ifindex", ifaces[i].ifindex);
			jsonw_string_field(json_wtr, "mode", xt_attach_mode_name(ifaces[i].mode));
			jsonw_uint_field(json_wtr, "prog_id", ifaces[i].prog_id);
			jsonw_end_object(json_wtr);
		} else {
			printf("%u: %s  mode %s  prog_id %u\n", ifaces[i].ifindex, ifaces[i].name,
			       xt_attach_mode_name(ifaces[i].mode), ifaces[i].prog_id);
		}
	}
	if (json_output)
		jsonw_end_array(json_wtr);
	return 0;
}

const struct cmd iface_cmds[] = {
	{ "attach", do_attach, "DEV [mode {native|skb}] [slots N]",
	  "attach the relay to DEV; pins the maps under " XT_PIN_DIR
	  " (N relay-address slots, default 8)" },
	{ "detach", do_detach, "DEV", "detach the relay from DEV (the last one removes the pins)" },
	{ "list", do_list, NULL, "list the interfaces the relay is attached to" },
	{ 0 }
};

int do_iface(int argc, char **argv)
{
	return cmd_select(iface_cmds, "iface", argc, argv);
}
