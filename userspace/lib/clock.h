/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one clock for intervals, timeouts and "last seen": CLOCK_MONOTONIC, the
 * clock the XDP program stamps flows with (bpf_ktime_get_ns), so the two
 * compare directly.
 */
#ifndef XTRUNK_CLOCK_H
#define XTRUNK_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t xt_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
