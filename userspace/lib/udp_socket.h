/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* UDP sockets on xt_endpoints, for relay ports. */
#ifndef XTRUNKD_UDP_SOCKET_H
#define XTRUNKD_UDP_SOCKET_H

#include <sys/socket.h>

#include "endpoint.h"

/* A non-blocking UDP socket bound to ep. Returns the fd or -errno. */
int xt_udp_socket_bind(const struct xt_endpoint *ep);
socklen_t xt_sockaddr_from_endpoint(const struct xt_endpoint *ep, struct sockaddr_storage *ss);
void xt_endpoint_from_sockaddr(const struct sockaddr_storage *ss, struct xt_endpoint *ep);
/* Mark what fd sends with DSCP dscp (IP_TOS / IPV6_TCLASS, ECN 0). */
int xt_udp_socket_set_dscp(int fd, uint8_t family, uint8_t dscp);

/*
 * The descriptor of this process's UDP socket bound to ep, found by asking
 * every open descriptor: for sockets a library opened and keeps to itself.
 * Returns the fd or -ENOENT.
 */
int xt_udp_socket_find(const struct xt_endpoint *ep);

#endif
