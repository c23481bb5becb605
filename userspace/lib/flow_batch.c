// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "flow_batch.h"
#include "relay_addrs.h"

/* The last relay address resolved: flows come in runs of one address. */
struct slot_cache {
	struct xt_endpoint addr;
	uint32_t slot;
	int valid;
};

static int slot_of(const struct xt_maps *maps, struct slot_cache *cache,
		   const struct xt_endpoint *local, int allocate, uint32_t *slot)
{
	int err;

	if (cache->valid && xt_endpoint_addr_equal(&cache->addr, local)) {
		*slot = cache->slot;
		return 0;
	}
	err = xt_relay_addr_find(maps->relay_addrs_fd, local, slot);
	if (!err && *slot == XT_SLOT_NONE) /* an address flows only leave from */
		err = -ENOENT;
	if (err == -ENOENT && allocate) {
		/* xt_flow_add allocates a slot on first use: let it, with the
		 * first flow of this address, then overwrite that flow below. */
		return -EAGAIN;
	}
	if (err)
		return err;
	cache->addr = *local;
	cache->slot = *slot;
	cache->valid = 1;
	return 0;
}

/* Slot of a relay address, given a slot by xt_flow_add when it has none yet. */
static int slot_for_add(const struct xt_maps *maps, struct slot_cache *cache,
			const struct xt_flow_spec *spec, uint32_t *slot)
{
	int err = slot_of(maps, cache, &spec->local, 1, slot);

	if (err != -EAGAIN)
		return err;
	err = xt_flow_add(maps, spec);
	if (err && err != -EEXIST)
		return err;
	return slot_of(maps, cache, &spec->local, 0, slot);
}

static int update_batch(int fd, uint32_t *keys, void *values, uint32_t count)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	__u32 n = count;

	if (bpf_map_update_batch(fd, keys, values, &n, &opts))
		return -errno;
	return n == count ? 0 : -EIO;
}

int xt_flow_add_batch(const struct xt_maps *maps, const struct xt_flow_spec *specs, size_t n,
		      size_t *done)
{
	struct slot_cache cache = {};
	struct xt_flow_encoder enc;
	struct xt_rtp_stats *stats;
	struct xt_flow *flows;
	struct xt_flow_slow *slows;
	uint32_t *keys, *stats_keys;
	int err = 0;

	*done = 0;
	xt_flow_encoder_init(&enc, maps);
	keys = calloc(XT_FLOW_BATCH_SIZE, sizeof(*keys));
	stats_keys = calloc(XT_FLOW_BATCH_SIZE, sizeof(*stats_keys));
	flows = aligned_alloc(sizeof(*flows), XT_FLOW_BATCH_SIZE * sizeof(*flows));
	slows = calloc(XT_FLOW_BATCH_SIZE, sizeof(*slows));
	stats = calloc(XT_FLOW_BATCH_SIZE, sizeof(*stats));
	if (!keys || !stats_keys || !flows || !slows || !stats) {
		err = -ENOMEM;
		goto out;
	}
	while (*done < n) {
		uint32_t count = 0, nstats = 0, slot;

		for (; count < XT_FLOW_BATCH_SIZE && *done + count < n; count++) {
			const struct xt_flow_spec *spec = &specs[*done + count];

			err = slot_for_add(maps, &cache, spec, &slot);
			if (err)
				goto out;
			keys[count] = slot * XT_PORTS_PER_SLOT + spec->local.port;
			err = xt_flow_encode(&enc, spec, &flows[count], &slows[count]);
			if (err)
				goto out;
			if (spec->rtp_clock_hz) {
				memset(&stats[nstats], 0, sizeof(stats[nstats]));
				stats[nstats].clock_hz = spec->rtp_clock_hz;
				stats_keys[nstats++] = keys[count];
			}
		}
		/* fresh statistics before the flows go live, as xt_flow_add does */
		if (nstats) {
			err = update_batch(maps->rtp_stats_fd, stats_keys, stats, nstats);
			if (err)
				goto out;
		}
		err = update_batch(maps->flows_slow_fd, keys, slows, count);
		if (err)
			goto out;
		err = update_batch(maps->flows_fd, keys, flows, count);
		if (err)
			goto out;
		*done += count;
	}
out:
	free(keys);
	free(stats_keys);
	free(flows);
	free(slows);
	free(stats);
	return err;
}

int xt_flow_del_batch(const struct xt_maps *maps, const struct xt_endpoint *locals, size_t n,
		      size_t *done)
{
	struct slot_cache cache = {};
	struct xt_flow *empty;
	uint32_t *keys;
	int err = 0;

	*done = 0;
	keys = calloc(XT_FLOW_BATCH_SIZE, sizeof(*keys));
	empty = aligned_alloc(sizeof(*empty), XT_FLOW_BATCH_SIZE * sizeof(*empty));
	if (empty)
		memset(empty, 0, XT_FLOW_BATCH_SIZE * sizeof(*empty));
	if (!keys || !empty) {
		err = -ENOMEM;
		goto out;
	}
	while (*done < n) {
		uint32_t count = 0, skipped = 0, slot;

		while (count < XT_FLOW_BATCH_SIZE && *done + count + skipped < n) {
			err = slot_of(maps, &cache, &locals[*done + count + skipped], 0, &slot);
			if (err == -ENOENT) { /* no relay address: no flow there */
				skipped++;
				continue;
			}
			if (err)
				goto out;
			keys[count] =
				slot * XT_PORTS_PER_SLOT + locals[*done + count + skipped].port;
			count++;
		}
		/* an array entry cannot be deleted: an all-zero one is inactive */
		if (count) {
			err = update_batch(maps->flows_fd, keys, empty, count);
			if (err)
				goto out;
		}
		*done += count + skipped;
	}
out:
	free(keys);
	free(empty);
	return err;
}

/* The "memlock:" line of a map's /proc/self/fdinfo entry. */
static int map_memlock(int fd, uint64_t *bytes)
{
	char path[64], line[128];
	unsigned long long value;
	FILE *f;
	int err = -ENOENT;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "memlock: %llu", &value) == 1) {
			*bytes = value;
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

static int map_value_size(int fd, uint32_t *value_size, uint32_t *max_entries)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*value_size = info.value_size;
	if (max_entries)
		*max_entries = info.max_entries;
	return 0;
}

int xt_flow_table_memory(const struct xt_maps *maps, struct xt_flow_table_memory *mem)
{
	int err;

	memset(mem, 0, sizeof(*mem));
	err = map_memlock(maps->flows_fd, &mem->flows_bytes);
	if (!err)
		err = map_memlock(maps->rtp_stats_fd, &mem->rtp_stats_bytes);
	if (!err)
		err = map_memlock(maps->flows_slow_fd, &mem->flows_slow_bytes);
	if (!err)
		err = map_value_size(maps->flows_fd, &mem->flow_value_size, &mem->capacity);
	if (!err)
		err = map_value_size(maps->rtp_stats_fd, &mem->rtp_stats_value_size, NULL);
	if (!err)
		err = map_value_size(maps->flows_slow_fd, &mem->flow_slow_value_size, NULL);
	return err;
}
