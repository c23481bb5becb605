/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Relay ports of one side: RTP on an even port, RTCP on the next one, both
 * bound, so the port is reserved and whatever XDP passes up lands here.
 */
#ifndef XTRUNKD_PORT_POOL_H
#define XTRUNKD_PORT_POOL_H

#include <stdint.h>

#include "endpoint.h"

struct xt_port_pair {
	struct xt_endpoint rtp;	 /* relay address and RTP port */
	struct xt_endpoint rtcp; /* same address, RTP port + 1 */
	int rtp_fd;
	int rtcp_fd;
};

struct xt_port_pool {
	const char *side;
	uint16_t port_min, port_max;
	uint16_t next; /* after the last pair handed out: where a search starts without random bytes */
	uint8_t *used; /* one byte per pair */
	unsigned int pairs, in_use;
};

int xt_port_pool_init(struct xt_port_pool *pool, const char *side, uint16_t port_min,
		      uint16_t port_max);
void xt_port_pool_fini(struct xt_port_pool *pool);

/*
 * Take a free pair, from a random place in the range, on address (its family
 * picks the socket family) and bind both sockets. -ENOSPC when none is free;
 * -EMFILE, -ENFILE, -ENOMEM, -ENOBUFS when the process or the system is out
 * of descriptors or memory. Ports some other program holds are skipped.
 */
int xt_port_pool_get(struct xt_port_pool *pool, const struct xt_endpoint *address,
		     struct xt_port_pair *pair);
/* Close both sockets and free the pair. Safe on a pair never taken (fds -1). */
void xt_port_pool_put(struct xt_port_pool *pool, struct xt_port_pair *pair);

#endif
