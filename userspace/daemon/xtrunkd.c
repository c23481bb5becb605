// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xtrunkd: the SIP trunk media relay's controller. Answers SIP from each PBX
 * and trunk endpoint, anchors each call's media on relay ports and relays it through
 * the XDP program (or in userspace with --no-xdp).
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "clock.h"
#include "config.h"
#include "control.h"
#include "dataplane.h"
#include "log.h"
#include "media_session.h"
#include "metrics.h"
#include "sip_b2bua.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: xtrunkd [-c FILE] [--no-xdp] [--check-config] [--config-template] [-v]\n"
		"  -c, --config FILE     configuration (default: the built-in demo lab's)\n"
		"      --no-xdp          relay media in userspace only\n"
		"      --check-config    read the configuration, report, and exit\n"
		"      --config-template write every key with its help and default "
		"(etc/xtrunkd.conf)\n"
		"      --config-man      write xtrunkd.conf(5) from the same table\n"
		"  -v, --verbose         more logging (twice: debug)\n");
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

	xt_b2bua_tick((struct xt_b2bua *)arg, xt_monotonic_ns());
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

/* What the command line asked for. */
struct options {
	const char *config_path;
	bool use_xdp, check_only, template_only, man_only;
	int verbosity;
};

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option options[] = { { "config", required_argument, NULL, 'c' },
						 { "no-xdp", no_argument, NULL, 'X' },
						 { "check-config", no_argument, NULL, 'C' },
						 { "config-template", no_argument, NULL, 'T' },
						 { "config-man", no_argument, NULL, 'M' },
						 { "verbose", no_argument, NULL, 'v' },
						 { "help", no_argument, NULL, 'h' },
						 { 0 } };
	int opt;

	*o = (struct options){ .use_xdp = true };
	while ((opt = getopt_long(argc, argv, "c:vh", options, NULL)) >= 0) {
		switch (opt) {
		case 'c':
			o->config_path = optarg;
			break;
		case 'X':
			o->use_xdp = false;
			break;
		case 'C':
			o->check_only = true;
			break;
		case 'T':
			o->template_only = true;
			break;
		case 'M':
			o->man_only = true;
			break;
		case 'v':
			o->verbosity++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	return -1;
}

/* Everything that runs, in the order it starts (and stops backwards). */
struct daemon {
	struct xt_config config;
	struct xt_dataplane dp;
	struct xt_media_env media;
	struct xt_b2bua *b2b;
	struct xt_metrics *metrics;
	struct xt_control *control;
	su_timer_t *tick;
	su_root_t *root;
	int sigfd, sig_registration;
};

/*
 * A call holds four sockets (two relay port pairs): the soft open files
 * limit (often 1024) would stop xtrunkd near 250 calls. Raise it to the hard
 * limit, which is the operator's (LimitNOFILE, ulimit -Hn).
 */
static void raise_open_files(void)
{
	struct rlimit rl;
	rlim_t was;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	was = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			pr_warn("cannot raise the open files limit from %llu: %s\n",
				(unsigned long long)was, strerror(errno));
			return;
		}
	}
	pr_info("open files limit %llu (about %llu calls at 4 relay sockets each)%s\n",
		(unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_cur / 4,
		was < rl.rlim_cur ? ", raised to the hard limit" : "");
}

/* Each endpoint's relay port pool. */
static int pools_init(struct daemon *d)
{
	memset(&d->media, 0, sizeof(d->media));
	d->media.config = &d->config;
	d->media.dp = &d->dp;
	for (unsigned int i = 0; i < d->config.endpoints; i++) {
		const struct xt_endpoint_config *ec = &d->config.endpoint[i];

		if (xt_port_pool_init(&d->media.pools[i], ec->name, ec->port_min, ec->port_max)) {
			fprintf(stderr, "xtrunkd: endpoint %s: bad port range\n", ec->name);
			return -1;
		}
	}
	return 0;
}

/* /metrics and the control socket, when configured. */
static int front_ends_start(struct daemon *d)
{
	char err[512];

	if (d->config.metrics.family) {
		struct xt_daemon_sources sources = {
			.config = &d->config, .dp = &d->dp, .media = &d->media, .b2b = d->b2b
		};

		d->metrics =
			xt_metrics_create(d->root, &d->config.metrics, &sources, err, sizeof(err));
		if (!d->metrics) {
			fprintf(stderr, "xtrunkd: %s\n", err);
			return -1;
		}
	}
	if (d->config.control[0]) {
		struct xt_daemon_sources sources = {
			.config = &d->config, .dp = &d->dp, .media = &d->media, .b2b = d->b2b
		};

		d->control =
			xt_control_create(d->root, d->config.control, &sources, err, sizeof(err));
		/* another xtrunkd owns the socket: run on, without one */
		if (!d->control && errno != EADDRINUSE) {
			fprintf(stderr, "xtrunkd: %s\n", err);
			return -1;
		}
		if (!d->control)
			fprintf(stderr, "xtrunkd: warning: %s; no control socket\n", err);
	}
	return 0;
}

/* SIGINT and SIGTERM stop the loop; the call timer ticks once a second. */
static int loop_watch(struct daemon *d, sigset_t *signals)
{
	su_wait_t wait[1];

	d->sigfd = signalfd(-1, signals, SFD_CLOEXEC);
	if (d->sigfd >= 0 && !su_wait_create(wait, d->sigfd, SU_WAIT_IN))
		d->sig_registration =
			su_root_register(d->root, wait, on_signal, (su_wakeup_arg_t *)d->root, 0);
	if (d->sig_registration < 0) {
		fprintf(stderr, "xtrunkd: cannot watch signals\n");
		return -1;
	}
	d->tick = su_timer_create(su_root_task(d->root), 1000);
	if (!d->tick || su_timer_run(d->tick, on_tick, (su_timer_arg_t *)d->b2b)) {
		fprintf(stderr, "xtrunkd: cannot start the call timer\n");
		return -1;
	}
	return 0;
}

/* Run until a signal: returns the exit status. */
static int run(struct daemon *d, bool use_xdp)
{
	sigset_t signals;
	char err[512];
	int rc = 1;

	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	su_init();
	d->root = su_root_create(NULL);
	if (!d->root) {
		fprintf(stderr, "xtrunkd: cannot create the event loop\n");
		goto out;
	}
	if (xt_dataplane_open(&d->dp, &d->config, d->root, use_xdp)) {
		fprintf(stderr, "xtrunkd: cannot set up the XDP data path (see above); "
				"--no-xdp relays in userspace\n");
		goto out_root;
	}
	d->b2b = xt_b2bua_create(d->root, &d->config, &d->media, err, sizeof(err));
	if (!d->b2b) {
		fprintf(stderr, "xtrunkd: %s\n", err);
		goto out_dataplane;
	}
	if (front_ends_start(d) || loop_watch(d, &signals))
		goto out_b2bua;
	fprintf(stderr, "xtrunkd: ready (media in %s)\n", d->dp.xdp ? "XDP" : "userspace");
	su_root_run(d->root);
	rc = 0;

out_b2bua:
	su_timer_destroy(d->tick);
	xt_metrics_destroy(d->metrics);
	xt_control_destroy(d->control);
	if (d->sig_registration >= 0)
		su_root_deregister(d->root, d->sig_registration);
	xt_b2bua_destroy(d->b2b);
	/* let the BYEs and CANCELs leave before the sockets close */
	su_root_step(d->root, 50);
out_dataplane:
	xt_dataplane_close(&d->dp);
out_root:
	su_root_destroy(d->root);
out:
	if (d->sigfd >= 0)
		close(d->sigfd);
	su_deinit();
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct daemon *d;
	char err[512];
	int rc = parse_options(argc, argv, &o);

	if (rc >= 0)
		return rc;
	if (o.template_only || o.man_only) {
		(o.man_only ? xt_config_write_man : xt_config_write_template)(stdout);
		return 0;
	}
	xt_log_set_level(o.verbosity >= 2 ? XT_LOG_DEBUG : o.verbosity ? XT_LOG_INFO : XT_LOG_WARN);
	xt_log_route_libraries();

	d = calloc(1, sizeof(*d));
	if (!d) {
		fprintf(stderr, "xtrunkd: out of memory\n");
		return 1;
	}
	d->sigfd = d->sig_registration = -1;
	xt_config_defaults(&d->config);
	if (o.config_path && xt_config_load(&d->config, o.config_path, err, sizeof(err))) {
		fprintf(stderr, "xtrunkd: %s\n", err);
		free(d);
		return 1;
	}
	if (o.check_only) {
		printf("xtrunkd: configuration %s is valid\n",
		       o.config_path ? o.config_path : "(built-in)");
		free(d);
		return 0;
	}
	raise_open_files();
	rc = pools_init(d) ? 1 : run(d, o.use_xdp);
	for (unsigned int i = 0; i < d->config.endpoints; i++)
		xt_port_pool_fini(&d->media.pools[i]);
	free(d);
	fprintf(stderr, "xtrunkd: stopped\n");
	return rc;
}
