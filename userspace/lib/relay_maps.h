/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* File descriptors of the relay's maps, opened from their pins or from a loaded object. */
#ifndef XTRUNK_RELAY_MAPS_H
#define XTRUNK_RELAY_MAPS_H

#include <stdint.h>

struct bpf_object;

struct xt_maps {
	int relay_addrs_fd;
	int flows_fd;
	int tx_ports_fd;
	int stats_fd;
	int rtp_stats_fd;
	int flows_slow_fd;
	int nexthops_fd;
	int lease_fd;	 /* xt_lease: xtrunkd's lease on the flows it owns */
	int ifaces_fd;	 /* xt_ifaces: attached interfaces (-1 from a relay object alone) */
	uint32_t nslots; /* flows array size / 65536 */
	/*
	 * The pinned xt_relay_addrs opened as a file (-1: maps from an object,
	 * or not openable): flock()ed while a writer gives an address a slot,
	 * so that two writers (xtrunkd, xtrunkctl flow add) never hand one slot
	 * to two addresses.
	 */
	int slot_lock_fd;
};

/*
 * Open the maps pinned under dir (XT_PIN_DIR). -ENOENT: xtrunk is not
 * attached anywhere; -ESTALE: another version of xtrunk pinned them.
 */
int xt_maps_open_pinned(struct xt_maps *maps, const char *dir);
/* What an error of xt_maps_open_pinned means, for a message. */
const char *xt_maps_strerror(int rc);
/* Borrow the maps of a loaded object (tests, benchmarks); closing does not close them. */
int xt_maps_from_object(struct xt_maps *maps, struct bpf_object *obj);
void xt_maps_close(struct xt_maps *maps);

/* Sum of the per-CPU global counters, indexed by enum xt_stat. */
int xt_stats_read(const struct xt_maps *maps, uint64_t *totals, unsigned int count);

#endif
