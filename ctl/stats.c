// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xtrunkctl stats: the data path's global verdict and drop counters. */
#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xtrunk_abi.h"
#include "relay_maps.h"
#include "main.h"

static int do_show(int argc, char **argv)
{
	uint64_t totals[XT_STAT_MAX];
	struct xt_maps maps;
	int rc;

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

	if (json_output)
		jsonw_start_object(json_wtr);
	for (unsigned int i = 0; i < XT_STAT_MAX; i++) {
		if (json_output)
			jsonw_uint_field(json_wtr, xt_stat_names[i], totals[i]);
		else
			printf("%-22s %" PRIu64 "\n", xt_stat_names[i], totals[i]);
	}
	if (json_output)
		jsonw_end_object(json_wtr);
	return 0;
}

const struct cmd stats_cmds[] = {
	{ "show", do_show, NULL,
	  "print every counter (packets seen, relayed, passed and why, dropped)" },
	{ 0 }
};

int do_stats(int argc, char **argv)
{
	/* "xtrunkctl stats" alone shows them, as the most common use. */
	if (!argc)
		return do_show(argc, argv);
	return cmd_select(stats_cmds, "stats", argc, argv);
}
