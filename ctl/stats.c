// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xtrunkctl stats: the data path's global verdict and drop counters. */
#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xtrunk_abi.h"
#include "loader.h"
#include "relay_maps.h"
#include "main.h"
#include "xmit_watch.h"

/*
 * What the kernel failed to transmit after the relay's verdict: the total,
 * then by interface (the global counters above it count such frames as relayed).
 */
static void show_xmit_errors(const struct xt_iface_info *ifaces, int n)
{
	uint64_t total = 0;

	for (int i = 0; i < n; i++)
		total += xt_iface_xmit_errors(&ifaces[i].xmit);
	if (!json_output) {
		printf("%-22s %" PRIu64 "\n", "xmit_errors", total);
		for (int i = 0; i < n; i++)
			printf("  %-20s %" PRIu64 "\n", ifaces[i].name,
			       xt_iface_xmit_errors(&ifaces[i].xmit));
		return;
	}
	jsonw_uint_field(json_wtr, "xmit_errors", total);
	jsonw_name(json_wtr, "interfaces");
	jsonw_start_array(json_wtr);
	for (int i = 0; i < n; i++) {
		const struct xt_iface_xmit *x = &ifaces[i].xmit;

		jsonw_start_object(json_wtr);
		jsonw_string_field(json_wtr, "ifname", ifaces[i].name);
		jsonw_uint_field(json_wtr, "xmit_errors", xt_iface_xmit_errors(x));
		jsonw_uint_field(json_wtr, "redirect_drops", x->redirect_drops);
		jsonw_uint_field(json_wtr, "tx_drops", x->tx_drops);
		jsonw_uint_field(json_wtr, "redirect_errors", x->redirect_errors);
		jsonw_end_object(json_wtr);
	}
	jsonw_end_array(json_wtr);
}

static int do_show(int argc, char **argv)
{
	struct xt_iface_info ifaces[XT_MAX_IFACES];
	uint64_t totals[XT_STAT_MAX];
	struct xt_maps maps;
	int rc, n;

	if (argc)
		return p_err("unexpected '%s'", argv[0]);
	rc = xt_maps_open_pinned(&maps, pin_dir);
	if (rc)
		return p_err("cannot open the maps under %s: %s%s", pin_dir, xt_maps_strerror(rc),
			     rc == -ESTALE ? "" : " (is xtrunk attached?)");
	rc = xt_stats_read(&maps, totals, XT_STAT_MAX);
	xt_maps_close(&maps);
	if (rc)
		return p_err("cannot read the counters: %s", strerror(-rc));
	n = xt_iface_list(pin_dir, ifaces, XT_MAX_IFACES);
	if (n < 0)
		return p_err("cannot read the interfaces from %s: %s", pin_dir, strerror(-n));

	if (json_output)
		jsonw_start_object(json_wtr);
	for (unsigned int i = 0; i < XT_STAT_MAX; i++) {
		if (json_output)
			jsonw_uint_field(json_wtr, xt_stat_names[i], totals[i]);
		else
			printf("%-22s %" PRIu64 "\n", xt_stat_names[i], totals[i]);
	}
	show_xmit_errors(ifaces, n);
	if (json_output)
		jsonw_end_object(json_wtr);
	return 0;
}

const struct cmd stats_cmds[] = {
	{ "show", do_show, NULL,
	  "print every counter (packets seen, relayed, passed and why, dropped, and frames the "
	  "kernel failed to transmit, by interface)" },
	{ 0 }
};

int do_stats(int argc, char **argv)
{
	/* "xtrunkctl stats" alone shows them, as the most common use. */
	if (!argc)
		return do_show(argc, argv);
	return cmd_select(stats_cmds, "stats", argc, argv);
}
