/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The Prometheus exporter: /metrics over HTTP (sofia-sip's nth) on the
 * daemon's own event loop, text exposition format 0.0.4, gzip-compressed
 * (zlib) when the scraper accepts it.
 */
#ifndef XTRUNKD_METRICS_H
#define XTRUNKD_METRICS_H

#include <sofia-sip/su_wait.h>

#include "config.h"
#include "daemon_sources.h"
#include "dataplane.h"
#include "media_session.h"
#include "sip_b2bua.h"

struct xt_metrics;

/* Serve /metrics on listen (IP:PORT). NULL with err set on failure. */
struct xt_metrics *xt_metrics_create(su_root_t *root, const struct xt_endpoint *listen,
				     const struct xt_daemon_sources *sources, char *err,
				     size_t errlen);
void xt_metrics_destroy(struct xt_metrics *metrics);

/* The exposition text, malloc'd (for tests and the exporter). */
char *xt_metrics_render(const struct xt_daemon_sources *sources, size_t *len);

#endif
