// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xtrunk_abi.h"
#include "relay_maps.h"

static const char *const map_names[] = { "xt_relay_addrs", "xt_flows",	   "xt_tx_ports",
					 "xt_stats",	   "xt_rtp_stats", "xt_flows_slow",
					 "xt_nexthops",	   "xt_lease",	   "xt_ifaces" };
#define NMAPS (sizeof(map_names) / sizeof(map_names[0]))

/* The value size of each, in map_names' order: what this build reads and writes. */
static const uint32_t value_sizes[] = {
	sizeof(struct xt_addr_entry),
	sizeof(struct xt_flow),
	sizeof(__u32),
	sizeof(__u64),
	sizeof(struct xt_rtp_stats),
	sizeof(struct xt_flow_slow),
	sizeof(struct xt_nexthop_entry),
	sizeof(struct xt_lease),
	sizeof(struct xt_iface_xmit),
};
/* xt_ifaces is the transmit watcher's (xmit_watch.bpf.c), not in the relay's object */
#define IFACES_MAP (NMAPS - 1)
_Static_assert(sizeof(value_sizes) / sizeof(value_sizes[0]) == NMAPS, "a size for every map");

static int *map_fd_slot(struct xt_maps *maps, unsigned int i)
{
	int *slots[] = { &maps->relay_addrs_fd, &maps->flows_fd,     &maps->tx_ports_fd,
			 &maps->stats_fd,	&maps->rtp_stats_fd, &maps->flows_slow_fd,
			 &maps->nexthops_fd,	&maps->lease_fd,     &maps->ifaces_fd };

	return slots[i];
}

static int read_nslots(struct xt_maps *maps)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(maps->flows_fd, &info, &len))
		return -errno;
	maps->nslots = info.max_entries / XT_PORTS_PER_SLOT;
	return 0;
}

int xt_maps_open_pinned(struct xt_maps *maps, const char *dir)
{
	char path[PATH_MAX];
	unsigned int i;
	int err;

	for (i = 0; i < NMAPS; i++)
		*map_fd_slot(maps, i) = -1;
	snprintf(path, sizeof(path), "%s/xt_relay_addrs", dir);
	maps->slot_lock_fd = open(path, O_RDONLY | O_CLOEXEC);
	for (i = 0; i < NMAPS; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, map_names[i]);
		*map_fd_slot(maps, i) = bpf_obj_get(path);
		if (*map_fd_slot(maps, i) < 0) {
			/* the first map there and not another: pinned by a build before it */
			err = i > 0 && errno == ENOENT ? -ESTALE : -errno;
			xt_maps_close(maps);
			return err;
		}
	}
	/* maps pinned by another version: lookups would write past our buffers */
	for (i = 0; i < NMAPS; i++) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(*map_fd_slot(maps, i), &info, &len) ||
		    info.value_size != value_sizes[i]) {
			xt_maps_close(maps);
			return -ESTALE;
		}
	}
	err = read_nslots(maps);
	if (err)
		xt_maps_close(maps);
	return err;
}

const char *xt_maps_strerror(int rc)
{
	if (rc == -ESTALE)
		return "pinned by another version of xtrunk (an entry's size differs, or a map is "
		       "missing): detach that version from every interface, then attach this one";
	return strerror(-rc);
}

int xt_maps_from_object(struct xt_maps *maps, struct bpf_object *obj)
{
	unsigned int i;

	maps->slot_lock_fd = -1;
	for (i = 0; i < NMAPS; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(obj, map_names[i]);

		*map_fd_slot(maps, i) = -1;
		if (!map && i == IFACES_MAP)
			continue;
		if (!map)
			return -ENOENT;
		/* dup so that xt_maps_close never closes the object's own fds */
		*map_fd_slot(maps, i) = dup(bpf_map__fd(map));
		if (*map_fd_slot(maps, i) < 0)
			return -errno;
	}
	return read_nslots(maps);
}

void xt_maps_close(struct xt_maps *maps)
{
	for (unsigned int i = 0; i < NMAPS; i++) {
		int *fd = map_fd_slot(maps, i);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
	if (maps->slot_lock_fd >= 0)
		close(maps->slot_lock_fd);
	maps->slot_lock_fd = -1;
}

int xt_stats_read(const struct xt_maps *maps, uint64_t *totals, unsigned int count)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *percpu;

	if (ncpus < 0)
		return ncpus;
	percpu = calloc((size_t)ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (unsigned int i = 0; i < count; i++) {
		__u32 key = i;

		totals[i] = 0;
		if (bpf_map_lookup_elem(maps->stats_fd, &key, percpu)) {
			int err = -errno;

			free(percpu);
			return err;
		}
		for (int cpu = 0; cpu < ncpus; cpu++)
			totals[i] += percpu[cpu];
	}
	free(percpu);
	return 0;
}
