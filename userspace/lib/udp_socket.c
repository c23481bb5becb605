// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
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

int xt_udp_socket_find(const struct xt_endpoint *ep)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *d;
	int found = -ENOENT;

	if (!dir)
		return -errno;
	while ((d = readdir(dir))) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct xt_endpoint bound;
		int fd, type;
		socklen_t tlen = sizeof(type);

		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		fd = atoi(d->d_name);
		if (fd == dirfd(dir) || getsockname(fd, (struct sockaddr *)&ss, &len) ||
		    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) ||
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) || type != SOCK_DGRAM)
			continue;
		xt_endpoint_from_sockaddr(&ss, &bound);
		if (bound.port == ep->port && xt_endpoint_addr_equal(&bound, ep)) {
			found = fd;
			break;
		}
	}
	closedir(dir);
	return found;
}
