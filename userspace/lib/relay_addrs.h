/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The relay's own addresses and their flow-table slots (map xt_relay_addrs). */
#ifndef XTRUNK_RELAY_ADDRS_H
#define XTRUNK_RELAY_ADDRS_H

#include <stdint.h>

#include "endpoint.h"

/* Slot of addr (its port is ignored), or -ENOENT. */
int xt_relay_addr_find(int map_fd, const struct xt_endpoint *addr, uint32_t *slot);
/* Enter addr with slot. -EEXIST if present, -ENOSPC if its buckets are full. */
int xt_relay_addr_set(int map_fd, const struct xt_endpoint *addr, uint32_t slot);

/* Like xt_relay_addr_find, also saying which entry (bucket) of the table holds it. */
int xt_relay_addr_bucket(int map_fd, const struct xt_endpoint *addr, uint32_t *bucket,
			 uint32_t *slot);
/* Give the address in bucket a new slot (XT_SLOT_NONE -> a real one), in place. */
int xt_relay_addr_set_slot(int map_fd, uint32_t bucket, uint32_t slot);

typedef int (*xt_relay_addr_visit_fn)(const struct xt_endpoint *addr, uint32_t slot, void *arg);
/* Every address in the table; stops on a non-zero return and returns it. */
int xt_relay_addr_foreach(int map_fd, xt_relay_addr_visit_fn visit, void *arg);

#endif
