// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "log.h"

static enum xt_log_level current_level = XT_LOG_WARN;

void xt_log_set_level(enum xt_log_level level)
{
	current_level = level;
}

static void vlog(enum xt_log_level level, const char *fmt, va_list ap)
{
	if (level > current_level)
		return;
	vfprintf(stderr, fmt, ap);
}

void xt_log(enum xt_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf warns about things we handle (e.g. probing); show them with -v. */
	vlog(level == LIBBPF_WARN ? XT_LOG_INFO : XT_LOG_DEBUG, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	vlog(level == LIBXDP_WARN ? XT_LOG_INFO : XT_LOG_DEBUG, fmt, ap);
	return 0;
}

void xt_log_route_libraries(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
