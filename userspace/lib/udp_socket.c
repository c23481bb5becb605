// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "xtrunk_abi.h"
#include "udp_socket.h"

socklen_t xt_sockaddr_from_endpoint(const struct xt_endpoint *ep, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->family == XT_AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, ep->addr, 16);
		s6->sin6_port = htons(ep->port);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	s4->sin_family = AF_INET;
	memcpy(&s4->sin_addr, ep->addr, 4);
	s4->sin_port = htons(ep->port);
	return sizeof(*s4);
}

void xt_endpoint_from_sockaddr(const struct sockaddr_storage *ss, struct xt_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		ep->family = XT_AF_INET6;
		memcpy(ep->addr, &s6->sin6_addr, 16);
		ep->port = ntohs(s6->sin6_port);
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		ep->family = XT_AF_INET;
		memcpy(ep->addr, &s4->sin_addr, 4);
		ep->port = ntohs(s4->sin_port);
	}
}

int xt_udp_socket_bind(const struct xt_endpoint *ep)
{
	struct sockaddr_storage ss;
	socklen_t len = xt_sockaddr_from_endpoint(ep, &ss);
	int fd, err;

	fd = socket(ep->family == XT_AF_INET6 ? AF_INET6 : AF_INET,
		    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ep->family == XT_AF_INET6) {
		int one = 1;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int xt_udp_socket_set_dscp(int fd, uint8_t family, uint8_t dscp)
{
	int tos = dscp << 2;

	if (family == XT_AF_INET6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos)) ? -errno : 0;
	return setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) ? -errno : 0;
}
