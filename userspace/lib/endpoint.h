/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A UDP endpoint: address family, address and port, as written IP:PORT or [IPv6]:PORT. */
#ifndef XTRUNK_ENDPOINT_H
#define XTRUNK_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "xtrunk_abi.h"

struct xt_endpoint {
	uint8_t family;	  /* XT_AF_INET or XT_AF_INET6 */
	uint8_t addr[16]; /* network order; IPv4 uses the first 4 bytes */
	uint16_t port;	  /* host order */
};

/* Bytes of an address of family (XT_AF_INET6: 16, otherwise 4). */
static inline size_t xt_addr_len(uint8_t family)
{
	return family == XT_AF_INET6 ? 16 : 4;
}

/* "[IPv6]:PORT" is long enough for any endpoint, with the terminating NUL. */
#define XT_ENDPOINT_STRLEN 56

/*
 * Parse IP:PORT or [IPv6]:PORT. Returns 0, or -EINVAL with a reason a person
 * can act on written to err.
 */
int xt_endpoint_parse(const char *text, struct xt_endpoint *ep, char *err, size_t errlen);
void xt_endpoint_format(const struct xt_endpoint *ep, char *buf, size_t len);
void xt_addr_format(uint8_t family, const uint8_t *addr, char *buf, size_t len);
int xt_endpoint_addr_equal(const struct xt_endpoint *a, const struct xt_endpoint *b);
/* Same family, address and port. */
int xt_endpoint_equal(const struct xt_endpoint *a, const struct xt_endpoint *b);

#endif
