// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <bpf/bpf.h>

#include "xtrunk_abi.h"
#include "relay_addrs.h"

static uint32_t bucket_of(const struct xt_endpoint *addr)
{
	uint32_t words[4] = { 0 };

	memcpy(words, addr->addr, xt_addr_len(addr->family));
	return xt_addr_hash(words, addr->family);
}

static bool entry_is(const struct xt_addr_entry *entry, const struct xt_endpoint *addr)
{
	return entry->family == addr->family &&
	       !memcmp(entry->addr, addr->addr, xt_addr_len(addr->family));
}

int xt_relay_addr_bucket(int map_fd, const struct xt_endpoint *addr, uint32_t *bucket,
			 uint32_t *slot)
{
	uint32_t first = bucket_of(addr);

	for (uint32_t i = 0; i < XT_ADDR_PROBES; i++) {
		uint32_t index = (first + i) & (XT_ADDR_BUCKETS - 1);
		struct xt_addr_entry entry;

		if (bpf_map_lookup_elem(map_fd, &index, &entry))
			return -errno;
		if (entry_is(&entry, addr)) {
			*slot = entry.slot;
			*bucket = index;
			return 0;
		}
	}
	return -ENOENT;
}

int xt_relay_addr_find(int map_fd, const struct xt_endpoint *addr, uint32_t *slot)
{
	uint32_t bucket;

	return xt_relay_addr_bucket(map_fd, addr, &bucket, slot);
}

int xt_relay_addr_set_slot(int map_fd, uint32_t bucket, uint32_t slot)
{
	struct xt_addr_entry entry;

	if (bpf_map_lookup_elem(map_fd, &bucket, &entry))
		return -errno;
	if (!entry.family)
		return -ENOENT;
	entry.slot = slot;
	if (bpf_map_update_elem(map_fd, &bucket, &entry, BPF_ANY))
		return -errno;
	return 0;
}

int xt_relay_addr_set(int map_fd, const struct xt_endpoint *addr, uint32_t slot)
{
	uint32_t bucket = bucket_of(addr), existing;

	if (!xt_relay_addr_find(map_fd, addr, &existing))
		return -EEXIST;
	for (uint32_t i = 0; i < XT_ADDR_PROBES; i++) {
		uint32_t index = (bucket + i) & (XT_ADDR_BUCKETS - 1);
		struct xt_addr_entry entry;

		if (bpf_map_lookup_elem(map_fd, &index, &entry))
			return -errno;
		if (entry.family)
			continue;
		/* Address and slot first, the family (which makes it valid) last, so
		 * the data path never matches a half-written entry. */
		memset(&entry, 0, sizeof(entry));
		entry.slot = slot;
		memcpy(entry.addr, addr->addr, xt_addr_len(addr->family));
		if (bpf_map_update_elem(map_fd, &index, &entry, BPF_ANY))
			return -errno;
		entry.family = addr->family;
		if (bpf_map_update_elem(map_fd, &index, &entry, BPF_ANY))
			return -errno;
		return 0;
	}
	return -ENOSPC;
}

int xt_relay_addr_foreach(int map_fd, xt_relay_addr_visit_fn visit, void *arg)
{
	for (uint32_t index = 0; index < XT_ADDR_BUCKETS; index++) {
		struct xt_addr_entry entry;
		struct xt_endpoint addr = { 0 };
		int rc;

		if (bpf_map_lookup_elem(map_fd, &index, &entry))
			return -errno;
		if (!entry.family)
			continue;
		addr.family = entry.family;
		memcpy(addr.addr, entry.addr, sizeof(addr.addr));
		rc = visit(&addr, entry.slot, arg);
		if (rc)
			return rc;
	}
	return 0;
}
