/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
#ifndef XTRUNK_LOG_H
#define XTRUNK_LOG_H

enum xt_log_level { XT_LOG_WARN, XT_LOG_INFO, XT_LOG_DEBUG };

void xt_log_set_level(enum xt_log_level level);
/* Route libbpf's and libxdp's messages through our levels. */
void xt_log_route_libraries(void);
void xt_log(enum xt_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_warn(...) xt_log(XT_LOG_WARN, __VA_ARGS__)
#define pr_info(...) xt_log(XT_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) xt_log(XT_LOG_DEBUG, __VA_ARGS__)

#endif
