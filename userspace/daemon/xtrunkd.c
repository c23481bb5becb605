// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xtrunkd: the SIP trunk media relay's controller. Answers SIP on the PBX and
 * trunk sides, anchors each call's media on relay ports and relays it through
 * the XDP program (or in userspace with --no-xdp).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "config.h"
#include "control.h"
#include "dataplane.h"
#include "log.h"
#include "media_session.h"
#include "metrics.h"
#include "sip_b2bua.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: xtrunkd [-c FILE] [--no-xdp] [--check-config] [-v]\n"
		     "  -c, --config FILE   configuration (default: the built-in demo lab's)\n"
		     "      --no-xdp        relay media in userspace only\n"
		     "      --check-config  read the configuration, report, and exit\n"
		     "  -v, --verbose       more logging (twice: debug)\n");
}

/*
 * Every TRIM_TICKS seconds, give the heap's free pages back to the kernel.
 * A call's set-up transactions (the messages, parsed) outlive its answer by
 * 32 s (RFC 6026 timers L and M) and dwarf what the call keeps; after a burst
 * of calls, malloc keeps their pages unless asked.
 */
#define TRIM_TICKS 30

static void on_tick(su_root_magic_t *magic, su_timer_t *timer, su_timer_arg_t *arg)
{
	static unsigned int ticks;

	xt_b2bua_tick((struct xt_b2bua *)arg);
	if (++ticks % TRIM_TICKS == 0)
		malloc_trim(0);
}

static int on_signal(su_root_magic_t *magic, su_wait_t *wait, su_wakeup_arg_t *arg)
{
	su_root_t *root = (su_root_t *)arg;
	int fd = wait->fd;
	struct signalfd_siginfo info;

	if (read(fd, &info, sizeof(info)) == sizeof(info))
		pr_info("xtrunkd: signal %u, stopping\n", info.ssi_signo);
	su_root_break(root);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' }, { "no-xdp", no_argument, NULL, 'X' },
		{ "check-config", no_argument, NULL, 'C' }, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },	    { 0 }
	};
	const char *config_path = NULL;
	bool use_xdp = true, check_only = false;
	int opt, verbosity = 0, rc = 1, sigfd = -1, sig_registration = -1;
	struct xt_config config;
	struct xt_dataplane dp;
	struct xt_media_env media;
	struct xt_b2bua *b2b = NULL;
	struct xt_metrics *metrics = NULL;
	struct xt_control *control = NULL;
	su_timer_t *tick = NULL;
	su_root_t *root = NULL;
	su_wait_t wait[1];
	sigset_t signals;
	char err[512];

	while ((opt = getopt_long(argc, argv, "c:vh", options, NULL)) >= 0) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 'X':
			use_xdp = false;
			break;
		case 'C':
			check_only = true;
			break;
		case 'v':
			verbosity++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	xt_log_set_level(verbosity >= 2 ? XT_LOG_DEBUG : verbosity ? XT_LOG_INFO : XT_LOG_WARN);
	xt_log_route_libraries();

	xt_config_defaults(&config);
	if (config_path && xt_config_load(&config, config_path, err, sizeof(err))) {
		fprintf(stderr, "xtrunkd: %s\n", err);
		return 1;
	}
	if (check_only) {
		printf("xtrunkd: configuration %s is valid\n",
		       config_path ? config_path : "(built-in)");
		return 0;
	}

	memset(&media, 0, sizeof(media));
	media.config = &config;
	media.dp = &dp;
	for (int side = 0; side < XT_SIDES; side++) {
		const struct xt_side_config *sc = &config.side[side];

		if (xt_port_pool_init(&media.pools[side], sc->name, sc->port_min, sc->port_max)) {
			fprintf(stderr, "xtrunkd: side %s: bad port range\n", sc->name);
			return 1;
		}
	}

	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	su_init();
	root = su_root_create(NULL);
	if (!root) {
		fprintf(stderr, "xtrunkd: cannot create the event loop\n");
		goto out;
	}
	if (xt_dataplane_open(&dp, &config, root, use_xdp)) {
		fprintf(stderr, "xtrunkd: cannot set up the XDP data path (see above); "
				"--no-xdp relays in userspace\n");
		goto out_root;
	}
	b2b = xt_b2bua_create(root, &config, &media, err, sizeof(err));
	if (!b2b) {
		fprintf(stderr, "xtrunkd: %s\n", err);
		goto out_dataplane;
	}
	if (config.metrics.family) {
		struct xt_daemon_sources sources = {
			.config = &config, .dp = &dp, .media = &media, .b2b = b2b
		};

		metrics = xt_metrics_create(root, &config.metrics, &sources, err, sizeof(err));
		if (!metrics) {
			fprintf(stderr, "xtrunkd: %s\n", err);
			goto out_b2bua;
		}
	}
	if (config.control[0]) {
		struct xt_daemon_sources sources = {
			.config = &config, .dp = &dp, .media = &media, .b2b = b2b
		};

		control = xt_control_create(root, config.control, &sources, err, sizeof(err));
		/* another xtrunkd owns the socket: run on, without one */
		if (!control && errno != EADDRINUSE) {
			fprintf(stderr, "xtrunkd: %s\n", err);
			goto out_b2bua;
		}
		if (!control)
			fprintf(stderr, "xtrunkd: warning: %s; no control socket\n", err);
	}
	sigfd = signalfd(-1, &signals, SFD_CLOEXEC);
	if (sigfd >= 0 && !su_wait_create(wait, sigfd, SU_WAIT_IN))
		sig_registration =
			su_root_register(root, wait, on_signal, (su_wakeup_arg_t *)root, 0);
	if (sig_registration < 0) {
		fprintf(stderr, "xtrunkd: cannot watch signals\n");
		goto out_b2bua;
	}

	tick = su_timer_create(su_root_task(root), 1000);
	if (!tick || su_timer_run(tick, on_tick, (su_timer_arg_t *)b2b)) {
		fprintf(stderr, "xtrunkd: cannot start the call timer\n");
		goto out_b2bua;
	}
	fprintf(stderr, "xtrunkd: ready (media in %s)\n", dp.xdp ? "XDP" : "userspace");
	su_root_run(root);
	rc = 0;

out_b2bua:
	su_timer_destroy(tick);
	xt_metrics_destroy(metrics);
	xt_control_destroy(control);
	if (sig_registration >= 0)
		su_root_deregister(root, sig_registration);
	xt_b2bua_destroy(b2b);
	/* let the BYEs and CANCELs leave before the sockets close */
	su_root_step(root, 50);
out_dataplane:
	xt_dataplane_close(&dp);
out_root:
	su_root_destroy(root);
out:
	if (sigfd >= 0)
		close(sigfd);
	for (int side = 0; side < XT_SIDES; side++)
		xt_port_pool_fini(&media.pools[side]);
	su_deinit();
	fprintf(stderr, "xtrunkd: stopped\n");
	return rc;
}
