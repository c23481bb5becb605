/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * FNV-1a, 32 bits: the one hash for small userspace tables (the next-hop
 * table's probe start, the next-hop cache, admission's rate buckets). Chain
 * calls to hash several fields: h = xt_fnv1a(xt_fnv1a(XT_FNV1A_INIT, a, n), b, m).
 */
#ifndef XTRUNK_HASH_H
#define XTRUNK_HASH_H

#include <stddef.h>
#include <stdint.h>

#define XT_FNV1A_INIT 2166136261u /* the offset basis */
#define XT_FNV1A_PRIME 16777619u

static inline uint32_t xt_fnv1a(uint32_t h, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * XT_FNV1A_PRIME;
	return h;
}

#endif
