/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What xtrunkd's readers (the control socket, the Prometheus exporter) read
 * from: the modules that own the calls, media and flows.
 */
#ifndef XTRUNKD_DAEMON_SOURCES_H
#define XTRUNKD_DAEMON_SOURCES_H

struct xt_config;
struct xt_dataplane;
struct xt_media_env;
struct xt_b2bua;

struct xt_daemon_sources {
	const struct xt_config *config;
	struct xt_dataplane *dp;
	struct xt_media_env *media;
	struct xt_b2bua *b2b;
};

#endif
