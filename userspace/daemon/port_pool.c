// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <sys/random.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "xtrunk_abi.h"
#include "port_pool.h"
#include "udp_socket.h"

int xt_port_pool_init(struct xt_port_pool *pool, const char *side, uint16_t port_min,
		      uint16_t port_max)
{
	memset(pool, 0, sizeof(*pool));
	pool->side = side;
	pool->port_min = (uint16_t)((port_min + 1u) & ~1u);
	pool->port_max = port_max;
	if (pool->port_max < pool->port_min + 1)
		return -EINVAL;
	pool->pairs = (unsigned int)(pool->port_max - pool->port_min + 1) / 2;
	pool->used = calloc(pool->pairs, 1);
	return pool->used ? 0 : -ENOMEM;
}

void xt_port_pool_fini(struct xt_port_pool *pool)
{
	free(pool->used);
	pool->used = NULL;
}

/* Out of descriptors or memory: no other port would do better. */
static bool fatal(int err)
{
	return err == -EMFILE || err == -ENFILE || err == -ENOMEM || err == -ENOBUFS;
}

/*
 * Where the search starts: at random, so the next call's ports cannot be
 * guessed from the last one's (an attacker racing a call's first packet to
 * its relay port has to find the port first).
 */
static unsigned int search_start(const struct xt_port_pool *pool)
{
	uint32_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = pool->next;
	return r % pool->pairs;
}

int xt_port_pool_get(struct xt_port_pool *pool, const struct xt_endpoint *address,
		     struct xt_port_pair *pair)
{
	unsigned int start = pool->pairs ? search_start(pool) : 0;

	pair->rtp_fd = pair->rtcp_fd = -1;
	for (unsigned int tried = 0; tried < pool->pairs; tried++) {
		unsigned int i = (start + tried) % pool->pairs;
		uint16_t port = (uint16_t)(pool->port_min + 2 * i);

		if (pool->used[i])
			continue;
		pair->rtp = *address;
		pair->rtp.port = port;
		pair->rtcp = *address;
		pair->rtcp.port = (uint16_t)(port + 1);
		pair->rtp_fd = xt_udp_socket_bind(&pair->rtp);
		if (pair->rtp_fd < 0) {
			int err = pair->rtp_fd;

			pair->rtp_fd = -1;
			if (fatal(err))
				return err;
			continue; /* held by someone else: try the next pair */
		}
		pair->rtcp_fd = xt_udp_socket_bind(&pair->rtcp);
		if (pair->rtcp_fd < 0) {
			int err = pair->rtcp_fd;

			close(pair->rtp_fd);
			pair->rtp_fd = pair->rtcp_fd = -1;
			if (fatal(err))
				return err;
			continue;
		}
		pool->used[i] = 1;
		pool->in_use++;
		pool->next = (i + 1) % pool->pairs;
		return 0;
	}
	return -ENOSPC;
}

void xt_port_pool_put(struct xt_port_pool *pool, struct xt_port_pair *pair)
{
	if (pair->rtp_fd >= 0) {
		unsigned int i = (unsigned int)(pair->rtp.port - pool->port_min) / 2;

		close(pair->rtp_fd);
		if (i < pool->pairs && pool->used[i]) {
			pool->used[i] = 0;
			pool->in_use--;
		}
	}
	if (pair->rtcp_fd >= 0)
		close(pair->rtcp_fd);
	pair->rtp_fd = pair->rtcp_fd = -1;
}
