// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xtrunkctl iface { attach | detach | list | show } */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xtrunk_abi.h"
#include "loader.h"
#include "main.h"
#include "xmit_watch.h"

/* xtrunkctl has no userspace relay: say what that means for media to such a device. */
#define NO_RELAY_CONSEQUENCE                                                                \
	"XDP will not relay media to it (its packets go to the local stack, and xtrunkctl " \
	"has no userspace relay: run xtrunkd, or fix the peer)"

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
	struct xt_egress egress;
	char err[512], warning[768];
	const char *ifname;

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

	if (xt_iface_attach(ifname, mode, pin_dir, slots, &egress, err, sizeof(err)))
		return p_err("%s", err);
	if (!egress.capable)
		xt_egress_warning(ifname, &egress, NO_RELAY_CONSEQUENCE, warning, sizeof(warning));
	if (json_output) {
		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "ifname", ifname);
		jsonw_string_field(json_wtr, "mode", xt_attach_mode_name(mode));
		jsonw_string_field(json_wtr, "pin_dir", pin_dir);
		jsonw_bool_field(json_wtr, "xdp_egress", egress.capable);
		if (egress.capable)
			jsonw_null_field(json_wtr, "warning");
		else
			jsonw_string_field(json_wtr, "warning", warning);
		jsonw_end_object(json_wtr);
	} else if (!egress.capable) {
		fprintf(stderr, "Warning: %s\n", warning);
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

static void json_xmit(const struct xt_iface_xmit *x)
{
	jsonw_uint_field(json_wtr, "xmit_errors", xt_iface_xmit_errors(x));
	jsonw_name(json_wtr, "xmit");
	jsonw_start_object(json_wtr);
	jsonw_uint_field(json_wtr, "redirect_drops", x->redirect_drops);
	jsonw_uint_field(json_wtr, "tx_drops", x->tx_drops);
	jsonw_uint_field(json_wtr, "redirect_errors", x->redirect_errors);
	jsonw_end_object(json_wtr);
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
		const struct xt_iface_info *info = &ifaces[i];

		if (json_output) {
			jsonw_start_object(json_wtr);
			jsonw_string_field(json_wtr, "ifname", info->name);
			jsonw_uint_field(json_wtr, "ifindex", info->ifindex);
			jsonw_string_field(json_wtr, "mode", xt_attach_mode_name(info->mode));
			jsonw_uint_field(json_wtr, "prog_id", info->prog_id);
			jsonw_bool_field(json_wtr, "xdp_egress", info->xdp_egress);
			json_xmit(&info->xmit);
			jsonw_end_object(json_wtr);
		} else {
			printf("%u: %s  mode %s  prog_id %u  xdp_egress %s  xmit_errors %" PRIu64
			       "\n",
			       info->ifindex, info->name, xt_attach_mode_name(info->mode),
			       info->prog_id, info->xdp_egress ? "yes" : "no",
			       xt_iface_xmit_errors(&info->xmit));
		}
	}
	if (json_output)
		jsonw_end_array(json_wtr);
	return 0;
}

/*
 * "xdp egress" as xt_tx_ports says, with the reason when no, and a peer
 * that lost its NAPI since the last check (nothing re-checks without
 * xtrunkd) named as the cause of the transmit errors.
 */
static void egress_status(const struct xt_iface_info *info, const struct xt_egress *live, char *buf,
			  size_t len)
{
	char reason[160];

	xt_egress_reason(live, reason, sizeof(reason));
	if (info->xdp_egress && live->capable)
		snprintf(buf, len, "yes");
	else if (info->xdp_egress)
		snprintf(buf, len, "yes, but %s now: frames XDP sends to it are dropped",
			 reason + strlen("no: "));
	else if (!live->capable)
		snprintf(buf, len, "%s", reason);
	else
		snprintf(buf, len, "no: left out at the last check; its peer takes XDP frames now");
}

static void show_json(const struct xt_iface_info *info, const struct xt_egress *live,
		      const char *status)
{
	jsonw_start_object(json_wtr);
	jsonw_string_field(json_wtr, "ifname", info->name);
	jsonw_uint_field(json_wtr, "ifindex", info->ifindex);
	jsonw_string_field(json_wtr, "mode", xt_attach_mode_name(info->mode));
	jsonw_uint_field(json_wtr, "prog_id", info->prog_id);
	jsonw_bool_field(json_wtr, "xdp_egress", info->xdp_egress);
	jsonw_string_field(json_wtr, "xdp_egress_status", status);
	if (live->veth && live->known)
		jsonw_bool_field(json_wtr, "peer_napi", live->peer_napi);
	else
		jsonw_null_field(json_wtr, "peer_napi");
	json_xmit(&info->xmit);
	jsonw_end_object(json_wtr);
}

static int do_show(int argc, char **argv)
{
	struct xt_iface_info ifaces[XT_MAX_IFACES], *info = NULL;
	struct xt_egress live;
	char status[320];
	int n;

	REQ_ARGS(1);
	if (argc > 1)
		return p_err("unexpected '%s' after the interface name", argv[1]);
	n = xt_iface_list(pin_dir, ifaces, XT_MAX_IFACES);
	if (n < 0)
		return p_err("cannot read the interfaces from %s: %s", pin_dir, strerror(-n));
	for (int i = 0; i < n && !info; i++)
		if (!strcmp(ifaces[i].name, argv[0]))
			info = &ifaces[i];
	if (!info)
		return p_err("interface %s: xtrunk is not attached", argv[0]);
	/* read-only: checks the peer as it is now, changes nothing */
	if (info->mode != XDP_MODE_NATIVE || xt_egress_check(info->ifindex, &live)) {
		memset(&live, 0, sizeof(live));
		live.capable = true;
	}
	egress_status(info, &live, status, sizeof(status));
	if (json_output) {
		show_json(info, &live, status);
		return 0;
	}
	printf("%s (ifindex %u)\n", info->name, info->ifindex);
	printf("  mode         %s\n", xt_attach_mode_name(info->mode));
	printf("  prog_id      %u\n", info->prog_id);
	printf("  xdp egress:  %s\n", status);
	printf("  xmit errors: %" PRIu64 " (redirect drops %llu, XDP_TX drops %llu, redirect "
	       "errors %llu)\n",
	       xt_iface_xmit_errors(&info->xmit), (unsigned long long)info->xmit.redirect_drops,
	       (unsigned long long)info->xmit.tx_drops,
	       (unsigned long long)info->xmit.redirect_errors);
	return 0;
}

const struct cmd iface_cmds[] = {
	{ "attach", do_attach, "DEV [mode {native|skb}] [slots N]",
	  "attach the relay to DEV; pins the maps under " XT_PIN_DIR
	  " (N relay-address slots, default 8)" },
	{ "detach", do_detach, "DEV", "detach the relay from DEV (the last one removes the pins)" },
	{ "list", do_list, NULL, "list the interfaces the relay is attached to" },
	{ "show", do_show, "DEV",
	  "DEV's mode, whether XDP may transmit to it (a veth needs its peer to have NAPI: GRO "
	  "on or an XDP program) and the frames the kernel failed to transmit for it" },
	{ 0 }
};

int do_iface(int argc, char **argv)
{
	return cmd_select(iface_cmds, "iface", argc, argv);
}
