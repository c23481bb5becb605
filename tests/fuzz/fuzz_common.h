/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the fuzz targets share: an input is several messages, one after the
 * other, separated by a line "=====" (so the corpus stays readable text).
 */
#ifndef XTRUNK_FUZZ_COMMON_H
#define XTRUNK_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_SEPARATOR "\n=====\n"
#define FUZZ_MAX_PARTS 8

struct fuzz_part {
	const uint8_t *data;
	size_t len;
};

/* Split data at each separator; returns how many parts (at most FUZZ_MAX_PARTS, the last takes the rest). */
static inline unsigned int fuzz_split(const uint8_t *data, size_t len, struct fuzz_part *parts)
{
	const size_t seplen = sizeof(FUZZ_SEPARATOR) - 1;
	unsigned int n = 0;

	while (n < FUZZ_MAX_PARTS - 1) {
		const uint8_t *sep = memmem(data, len, FUZZ_SEPARATOR, seplen);

		if (!sep)
			break;
		parts[n].data = data;
		parts[n].len = (size_t)(sep - data);
		n++;
		len -= (size_t)(sep - data) + seplen;
		data = sep + seplen;
	}
	parts[n].data = data;
	parts[n].len = len;
	return n + 1;
}

/* A fuzz target's invariant does not hold: say which, then crash so the fuzzer keeps the input. */
#define fuzz_assert(cond, ...)                                                                 \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "invariant broken at %s:%d: %s: ", __FILE__, __LINE__, \
				#cond);                                                        \
			fprintf(stderr, __VA_ARGS__);                                          \
			fputc('\n', stderr);                                                   \
			abort();                                                               \
		}                                                                              \
	} while (0)

#endif
