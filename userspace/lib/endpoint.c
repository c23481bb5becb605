// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xtrunk_abi.h"
#include "endpoint.h"

static int parse_port(const char *text, uint16_t *port)
{
	char *end;
	unsigned long value;

	if (*text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno || *end || value > 65535)
		return -EINVAL;
	*port = (uint16_t)value;
	return 0;
}

int xt_endpoint_parse(const char *text, struct xt_endpoint *ep, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_text;
	size_t host_len;

	memset(ep, 0, sizeof(*ep));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':') {
			snprintf(err, errlen, "'%s': expected [IPv6]:PORT", text);
			return -EINVAL;
		}
		host_len = (size_t)(close - text - 1);
		if (host_len >= sizeof(host)) {
			snprintf(err, errlen, "'%s': IPv6 address too long", text);
			return -EINVAL;
		}
		memcpy(host, text + 1, host_len);
		host[host_len] = '\0';
		if (inet_pton(AF_INET6, host, ep->addr) != 1) {
			snprintf(err, errlen, "'%s': '%s' is not an IPv6 address", text, host);
			return -EINVAL;
		}
		ep->family = XT_AF_INET6;
		port_text = close + 2;
	} else {
		const char *colon = strrchr(text, ':');

		if (!colon || strchr(text, ':') != colon) {
			snprintf(err, errlen, "'%s': expected IP:PORT (write IPv6 as [ADDR]:PORT)",
				 text);
			return -EINVAL;
		}
		host_len = (size_t)(colon - text);
		if (host_len >= sizeof(host)) {
			snprintf(err, errlen, "'%s': address too long", text);
			return -EINVAL;
		}
		memcpy(host, text, host_len);
		host[host_len] = '\0';
		if (inet_pton(AF_INET, host, ep->addr) != 1) {
			snprintf(err, errlen, "'%s': '%s' is not an IPv4 address", text, host);
			return -EINVAL;
		}
		ep->family = XT_AF_INET;
		port_text = colon + 1;
	}
	if (parse_port(port_text, &ep->port)) {
		snprintf(err, errlen, "'%s': port '%s' is not a number from 0 to 65535", text,
			 port_text);
		return -EINVAL;
	}
	return 0;
}

void xt_addr_format(uint8_t family, const uint8_t *addr, char *buf, size_t len)
{
	if (!inet_ntop(family == XT_AF_INET6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

void xt_endpoint_format(const struct xt_endpoint *ep, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	xt_addr_format(ep->family, ep->addr, host, sizeof(host));
	if (ep->family == XT_AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, ep->port);
	else
		snprintf(buf, len, "%s:%u", host, ep->port);
}

int xt_endpoint_addr_equal(const struct xt_endpoint *a, const struct xt_endpoint *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, xt_addr_len(a->family));
}

int xt_endpoint_equal(const struct xt_endpoint *a, const struct xt_endpoint *b)
{
	return xt_endpoint_addr_equal(a, b) && a->port == b->port;
}
