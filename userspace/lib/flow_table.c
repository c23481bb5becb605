// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/file.h>
#include <sys/mman.h>

#include <bpf/bpf.h>

#include "clock.h"
#include "flow_table.h"
#include "relay_addrs.h"

#define FLOW_BATCH 4096u /* ports a walk reads at once */
#define NEXTHOP_CACHE 64u

int xt_flow_spec_validate(const struct xt_flow_spec *spec, char *err, size_t errlen)
{
	const struct xt_endpoint *eps[] = { &spec->peer, &spec->relay, &spec->src };
	const char *names[] = { "peer", "relay", "source" };

	for (unsigned int i = 0; i < 3; i++) {
		if (i == 2 && !spec->has_src)
			continue;
		if (eps[i]->family != spec->local.family) {
			snprintf(err, errlen,
				 "%s address family differs from the local address's: the relay "
				 "does not translate between IPv4 and IPv6",
				 names[i]);
			return -EINVAL;
		}
	}
	if (spec->local.port == 0 || spec->peer.port == 0 || spec->relay.port == 0) {
		snprintf(err, errlen, "UDP port 0 is not a valid local, peer or relay port");
		return -EINVAL;
	}
	if (spec->latch && (!spec->has_src || spec->src.port)) {
		snprintf(err, errlen, "latch needs a source address without port (from IP:0)");
		return -EINVAL;
	}
	if (spec->has_reverse &&
	    (!spec->latch || spec->reverse.family != spec->local.family || !spec->reverse.port)) {
		snprintf(err, errlen,
			 "reverse needs latch and a local endpoint of the same family with a port");
		return -EINVAL;
	}
	if (spec->dscp > 63) {
		snprintf(err, errlen, "DSCP %u out of range 0-63", spec->dscp);
		return -EINVAL;
	}
	return 0;
}

/* Slot of a relay address, allocating the lowest free one on first use. */
static int mark_used(const struct xt_endpoint *addr, uint32_t slot, void *arg)
{
	uint64_t *used = arg;

	if (slot < 64)
		*used |= 1ull << slot;
	return 0;
}

static int slot_alloc(const struct xt_maps *maps, const struct xt_endpoint *ep, uint32_t *slot)
{
	uint64_t used = 0;
	uint32_t bucket;
	bool egress_only;
	int err;

	err = xt_relay_addr_bucket(maps->relay_addrs_fd, ep, &bucket, slot);
	if (err && err != -ENOENT)
		return err;
	if (!err && *slot != XT_SLOT_NONE)
		return 0;
	/* flows so far only left from it: it keeps its bucket, gets a slot */
	egress_only = !err;
	err = xt_relay_addr_foreach(maps->relay_addrs_fd, mark_used, &used);
	if (err)
		return err;
	for (uint32_t s = 0; s < maps->nslots && s < XT_MAX_SLOTS; s++) {
		if (used & (1ull << s))
			continue;
		if (egress_only)
			err = xt_relay_addr_set_slot(maps->relay_addrs_fd, bucket, s);
		else
			err = xt_relay_addr_set(maps->relay_addrs_fd, ep, s);
		if (err == -EEXIST) /* someone else just added it */
			return xt_relay_addr_find(maps->relay_addrs_fd, ep, slot);
		if (!err)
			*slot = s;
		return err;
	}
	return -ENOSPC;
}

static int slot_get_or_alloc(const struct xt_maps *maps, const struct xt_endpoint *ep,
			     uint32_t *slot)
{
	int err = xt_relay_addr_find(maps->relay_addrs_fd, ep, slot);

	if (!err && *slot != XT_SLOT_NONE)
		return 0;
	if (err && err != -ENOENT)
		return err;
	/* an address without a slot: one writer at a time picks the lowest free slot */
	if (maps->slot_lock_fd >= 0 && flock(maps->slot_lock_fd, LOCK_EX))
		return -errno;
	err = slot_alloc(maps, ep, slot);
	if (maps->slot_lock_fd >= 0)
		flock(maps->slot_lock_fd, LOCK_UN);
	return err;
}

/* The flow index of a local endpoint whose address has a slot, or -ENOENT. */
int xt_flow_index(const struct xt_maps *maps, const struct xt_endpoint *local, uint32_t *index)
{
	uint32_t slot;
	int err = xt_relay_addr_find(maps->relay_addrs_fd, local, &slot);

	if (err)
		return err;
	if (slot >= maps->nslots)
		return -ENOENT;
	*index = slot * XT_PORTS_PER_SLOT + local->port;
	return 0;
}

static uint32_t flow_index(uint32_t slot, uint16_t port)
{
	return slot * XT_PORTS_PER_SLOT + port;
}

void xt_flow_encoder_init(struct xt_flow_encoder *enc, const struct xt_maps *maps)
{
	memset(enc, 0, sizeof(*enc));
	enc->maps = maps;
}

/* The bucket of the address flows leave from: entered without a slot when new. */
static int relay_bucket(struct xt_flow_encoder *enc, const struct xt_endpoint *relay,
			uint32_t *bucket)
{
	uint32_t slot;
	int err;

	if (enc->relay_valid && xt_endpoint_addr_equal(&enc->relay, relay)) {
		*bucket = enc->relay_bucket;
		return 0;
	}
	err = xt_relay_addr_bucket(enc->maps->relay_addrs_fd, relay, bucket, &slot);
	if (err == -ENOENT) {
		err = xt_relay_addr_set(enc->maps->relay_addrs_fd, relay, XT_SLOT_NONE);
		if (!err || err == -EEXIST)
			err = xt_relay_addr_bucket(enc->maps->relay_addrs_fd, relay, bucket, &slot);
	}
	if (err)
		return err;
	enc->relay = *relay;
	enc->relay_bucket = *bucket;
	enc->relay_valid = true;
	return 0;
}

static int nexthop_index(struct xt_flow_encoder *enc, const struct xt_nexthop *nh, uint16_t *index)
{
	int err;

	if (enc->nexthop_valid && !memcmp(&enc->nexthop, nh, sizeof(*nh))) {
		*index = enc->nexthop_index;
		return 0;
	}
	err = xt_nexthop_table_get(enc->maps->nexthops_fd, nh, index);
	if (err)
		return err;
	enc->nexthop = *nh;
	enc->nexthop_index = *index;
	enc->nexthop_valid = true;
	return 0;
}

int xt_flow_encode(struct xt_flow_encoder *enc, const struct xt_flow_spec *spec,
		   struct xt_flow *flow, struct xt_flow_slow *slow)
{
	size_t alen = xt_addr_len(spec->local.family);
	uint32_t bucket;
	int err;

	memset(flow, 0, sizeof(*flow));
	memset(slow, 0, sizeof(*slow));
	err = relay_bucket(enc, &spec->relay, &bucket);
	if (err)
		return err;
	flow->flags = XT_FLOW_F_ACTIVE;
	flow->family = spec->local.family;
	flow->dscp = spec->dscp;
	flow->relay_addr = (uint8_t)bucket;
	flow->relay_port = htons(spec->relay.port);
	flow->peer_port = htons(spec->peer.port);
	memcpy(flow->peer_addr, spec->peer.addr, alen);
	if (spec->has_src) {
		flow->flags |= XT_FLOW_F_CHECK_SRC_ADDR;
		memcpy(flow->src_addr, spec->src.addr, alen);
		if (spec->src.port) {
			flow->flags |= XT_FLOW_F_CHECK_SRC_PORT;
			flow->src_port = htons(spec->src.port);
		}
		if (spec->latch)
			flow->flags |= XT_FLOW_F_LATCH;
	}
	if (spec->has_reverse) {
		uint32_t slot;

		err = slot_get_or_alloc(enc->maps, &spec->reverse, &slot);
		if (err)
			return err;
		slow->reverse = flow_index(slot, spec->reverse.port);
		flow->flags |= XT_FLOW_F_REVERSE;
	}
	if (spec->rtp_clock_hz)
		flow->flags |= XT_FLOW_F_RTP_STATS;
	if (spec->owned)
		flow->flags |= XT_FLOW_F_OWNED;
	if (spec->has_nexthop) {
		/* a full next-hop table costs speed, not correctness: the FIB answers */
		if (!nexthop_index(enc, &spec->nexthop, &flow->nexthop))
			flow->flags |= XT_FLOW_F_NEXTHOP;
	}
	return 0;
}

/* Installs spec over whatever is at its index; replace: only over a flow of the same owner. */
static int flow_write(const struct xt_maps *maps, const struct xt_flow_spec *spec, bool replace)
{
	struct xt_flow_encoder enc;
	struct xt_flow flow = {};
	struct xt_flow_slow slow;
	uint32_t slot, index;
	int err;

	err = slot_get_or_alloc(maps, &spec->local, &slot);
	if (err)
		return err;
	index = flow_index(slot, spec->local.port);
	if (bpf_map_lookup_elem(maps->flows_fd, &index, &flow))
		return -errno;
	if ((flow.flags & XT_FLOW_F_ACTIVE) && !replace)
		return -EEXIST;
	if ((flow.flags & XT_FLOW_F_ACTIVE) && !(flow.flags & XT_FLOW_F_OWNED) != !spec->owned)
		return -EPERM;

	xt_flow_encoder_init(&enc, maps);
	err = xt_flow_encode(&enc, spec, &flow, &slow);
	if (err)
		return err;
	if (spec->rtp_clock_hz) {
		struct xt_rtp_stats stats = { .clock_hz = spec->rtp_clock_hz };

		/* fresh statistics before the flow goes live */
		if (bpf_map_update_elem(maps->rtp_stats_fd, &index, &stats, BPF_ANY))
			return -errno;
	}
	/* the slow part (drops, reverse) before the flow that uses it */
	if (bpf_map_update_elem(maps->flows_slow_fd, &index, &slow, BPF_ANY))
		return -errno;
	if (bpf_map_update_elem(maps->flows_fd, &index, &flow, BPF_ANY))
		return -errno;
	return 0;
}

int xt_flow_add(const struct xt_maps *maps, const struct xt_flow_spec *spec)
{
	return flow_write(maps, spec, false);
}

int xt_flow_replace(const struct xt_maps *maps, const struct xt_flow_spec *spec)
{
	return flow_write(maps, spec, true);
}

/* Reads back what decoding a flow needs besides its own line. */
struct flow_decoder {
	const struct xt_maps *maps;
	uint64_t now_ns;
	uint32_t bucket; /* the last relay-address bucket looked up alone, and its entry */
	struct xt_addr_entry addr;
	bool addr_valid;
	/* the whole relay-address table, read in one call once a walk or a
	 * reverse flow needs it, and which bucket holds each slot's address */
	struct xt_addr_entry addrs[XT_ADDR_BUCKETS];
	int16_t slot_bucket[XT_MAX_SLOTS]; /* -1: no address has the slot */
	bool addrs_loaded;
	/*
	 * Next hops by index, direct-mapped: a call's flows alternate between a
	 * few of them (one per neighbour), which a single cached entry would
	 * miss on every other flow.
	 */
	struct nexthop_cached {
		struct xt_nexthop_entry entry;
		uint16_t index;
		bool valid;
	} nexthops[NEXTHOP_CACHE];
};

/*
 * Only the validity flags: the tables behind them are ~9 KB, and zeroing
 * them was most of what reading one flow (xt_flow_get) cost.
 */
static void decoder_init(struct flow_decoder *dec, const struct xt_maps *maps)
{
	unsigned int i;

	dec->maps = maps;
	dec->now_ns = xt_monotonic_ns();
	dec->addr_valid = false;
	dec->addrs_loaded = false;
	for (i = 0; i < NEXTHOP_CACHE; i++)
		dec->nexthops[i].valid = false;
}

/* The 32-bit stamp back to nanoseconds: the latest time before now that has it. */
static uint64_t last_seen_ns(uint32_t stamp, uint64_t now_ns)
{
	uint32_t now = (uint32_t)(now_ns >> XT_LAST_SEEN_SHIFT), age = now - stamp;
	uint64_t age_ns = (uint64_t)age << XT_LAST_SEEN_SHIFT;

	if (!stamp)
		return 0;
	now_ns &= ~((1ull << XT_LAST_SEEN_SHIFT) - 1);
	return age_ns < now_ns ? now_ns - age_ns : 1;
}

/*
 * Entries first .. first + count - 1 of an array map into values, and their
 * indexes into keys, in one bpf(2) call (or a few, if the kernel stops
 * early). For arrays the batch cursor is the last index read.
 */
static int read_range(int fd, uint32_t first, uint32_t count, uint32_t *keys, void *values,
		      size_t value_size)
{
	for (uint32_t done = 0; done < count;) {
		__u32 n = count - done, cursor = first + done - 1, next;
		int err;

		err = bpf_map_lookup_batch(fd, first + done ? &cursor : NULL, &next, keys + done,
					   (char *)values + (size_t)done * value_size, &n, NULL);
		if (err && errno != ENOENT)
			return -errno;
		if (!n)
			return -ENOENT; /* past the end of the map */
		done += n;
	}
	return 0;
}

static int load_addrs(struct flow_decoder *dec)
{
	uint32_t keys[XT_ADDR_BUCKETS];
	int err;

	if (dec->addrs_loaded)
		return 0;
	err = read_range(dec->maps->relay_addrs_fd, 0, XT_ADDR_BUCKETS, keys, dec->addrs,
			 sizeof(dec->addrs[0]));
	if (err)
		return err;
	memset(dec->slot_bucket, 0xff, sizeof(dec->slot_bucket));
	for (uint32_t b = 0; b < XT_ADDR_BUCKETS; b++)
		if (dec->addrs[b].family && dec->addrs[b].slot < XT_MAX_SLOTS)
			dec->slot_bucket[dec->addrs[b].slot] = (int16_t)b;
	dec->addrs_loaded = true;
	return 0;
}

/* The relay-address entry at bucket: from the table when read, else looked up alone. */
static int relay_address(struct flow_decoder *dec, uint32_t bucket,
			 const struct xt_addr_entry **addr)
{
	if (dec->addrs_loaded && bucket < XT_ADDR_BUCKETS) {
		*addr = &dec->addrs[bucket];
		return 0;
	}
	if (!dec->addr_valid || dec->bucket != bucket) {
		dec->bucket = bucket;
		if (bpf_map_lookup_elem(dec->maps->relay_addrs_fd, &dec->bucket, &dec->addr))
			return -errno;
		dec->addr_valid = true;
	}
	*addr = &dec->addr;
	return 0;
}

/* The address whose slot is slot; false when no address has it. */
static bool slot_address(struct flow_decoder *dec, uint32_t slot, struct xt_endpoint *addr)
{
	const struct xt_addr_entry *entry;

	if (load_addrs(dec) || slot >= XT_MAX_SLOTS || dec->slot_bucket[slot] < 0)
		return false;
	entry = &dec->addrs[dec->slot_bucket[slot]];
	memset(addr, 0, sizeof(*addr));
	addr->family = entry->family;
	memcpy(addr->addr, entry->addr, sizeof(addr->addr));
	return true;
}

static int nexthop_entry(struct flow_decoder *dec, uint16_t index,
			 const struct xt_nexthop_entry **entry)
{
	struct nexthop_cached *cached = &dec->nexthops[index % NEXTHOP_CACHE];

	if (!cached->valid || cached->index != index) {
		__u32 key = index;

		cached->valid = false;
		if (bpf_map_lookup_elem(dec->maps->nexthops_fd, &key, &cached->entry))
			return -errno;
		cached->index = index;
		cached->valid = true;
	}
	*entry = &cached->entry;
	return 0;
}

/* A flow into an entry; slow and rtp may be NULL (not read): their fields stay zero. */
static int decode(struct flow_decoder *dec, uint32_t index, const struct xt_endpoint *local,
		  const struct xt_flow *flow, const struct xt_flow_slow *slow,
		  const struct xt_rtp_stats *rtp, struct xt_flow_entry *entry)
{
	struct xt_flow_spec *spec = &entry->spec;
	size_t alen = xt_addr_len(flow->family);
	const struct xt_addr_entry *relay = NULL;
	int err;

	memset(entry, 0, sizeof(*entry));
	entry->local = *local;
	entry->index = index;
	if (rtp && (flow->flags & XT_FLOW_F_RTP_STATS))
		entry->rtp = *rtp;
	err = relay_address(dec, flow->relay_addr, &relay);
	if (err)
		return err;

	entry->flow.flags = flow->flags;
	entry->flow.dscp = flow->dscp;
	entry->flow.family = flow->family;
	entry->flow.packets = flow->packets;
	entry->flow.bytes = flow->bytes;
	entry->flow.src_drops = slow ? slow->src_drops : 0;
	entry->flow.last_seen_ns = last_seen_ns(flow->last_seen, dec->now_ns);

	spec->local = *local;
	spec->peer.family = spec->relay.family = spec->src.family = flow->family;
	memcpy(spec->peer.addr, flow->peer_addr, alen);
	memcpy(spec->relay.addr, relay->addr, alen);
	spec->peer.port = ntohs(flow->peer_port);
	spec->relay.port = ntohs(flow->relay_port);
	spec->has_src = flow->flags & XT_FLOW_F_CHECK_SRC_ADDR;
	spec->latch = flow->flags & XT_FLOW_F_LATCH;
	spec->owned = flow->flags & XT_FLOW_F_OWNED;
	spec->rtp_clock_hz = entry->rtp.clock_hz;
	if (spec->has_src) {
		memcpy(spec->src.addr, flow->src_addr, alen);
		if (flow->flags & XT_FLOW_F_CHECK_SRC_PORT)
			spec->src.port = ntohs(flow->src_port);
	}
	spec->dscp = flow->dscp;
	if (slow && (flow->flags & XT_FLOW_F_REVERSE) &&
	    slot_address(dec, slow->reverse / XT_PORTS_PER_SLOT, &spec->reverse)) {
		spec->has_reverse = true;
		spec->reverse.port = (uint16_t)(slow->reverse % XT_PORTS_PER_SLOT);
	}
	if (flow->flags & XT_FLOW_F_NEXTHOP) {
		const struct xt_nexthop_entry *nh = NULL;

		err = nexthop_entry(dec, flow->nexthop, &nh);
		if (err)
			return err;
		/* ifindex 0: the neighbour is unresolved now, the FIB answers */
		spec->has_nexthop = nh->ifindex != 0;
		spec->nexthop.ifindex = nh->ifindex;
		memcpy(spec->nexthop.smac, nh->smac, sizeof(spec->nexthop.smac));
		memcpy(spec->nexthop.dmac, nh->dmac, sizeof(spec->nexthop.dmac));
		spec->nexthop.family = nh->family;
		memcpy(spec->nexthop.neigh, nh->neigh, sizeof(spec->nexthop.neigh));
	}
	return 0;
}

int xt_flow_get(const struct xt_maps *maps, const struct xt_endpoint *local,
		struct xt_flow_entry *entry)
{
	struct flow_decoder dec;
	struct xt_flow_slow slow;
	struct xt_rtp_stats rtp;
	struct xt_flow flow;
	uint32_t index;
	int err;

	err = xt_flow_index(maps, local, &index);
	if (err)
		return err;
	if (bpf_map_lookup_elem(maps->flows_fd, &index, &flow))
		return -errno;
	if (!(flow.flags & XT_FLOW_F_ACTIVE))
		return -ENOENT;
	if (bpf_map_lookup_elem(maps->flows_slow_fd, &index, &slow))
		return -errno;
	if ((flow.flags & XT_FLOW_F_RTP_STATS) &&
	    bpf_map_lookup_elem(maps->rtp_stats_fd, &index, &rtp))
		return -errno;
	decoder_init(&dec, maps);
	return decode(&dec, index, local, &flow, &slow, &rtp, entry);
}

int xt_flow_del(const struct xt_maps *maps, const struct xt_endpoint *local, bool owned)
{
	struct xt_flow flow, empty = {};
	uint32_t index;
	int err;

	err = xt_flow_index(maps, local, &index);
	if (err)
		return err;
	if (bpf_map_lookup_elem(maps->flows_fd, &index, &flow))
		return -errno;
	if (!(flow.flags & XT_FLOW_F_ACTIVE))
		return -ENOENT;
	if (!(flow.flags & XT_FLOW_F_OWNED) != !owned)
		return -EPERM;
	if (bpf_map_update_elem(maps->flows_fd, &index, &empty, BPF_ANY))
		return -errno;
	return 0;
}

/* One slot's entries of a per-flow map, mapped read-only; NULL when they cannot be. */
static const void *map_slot(int fd, uint32_t slot, size_t value_size)
{
	size_t len = (size_t)XT_PORTS_PER_SLOT * value_size;
	void *mapped = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)slot * (off_t)len);

	return mapped == MAP_FAILED ? NULL : mapped;
}

static void unmap_slot(const void *mapped, size_t value_size)
{
	if (mapped)
		munmap((void *)mapped, (size_t)XT_PORTS_PER_SLOT * value_size);
}

void xt_flow_view_init(const struct xt_maps *maps, struct xt_flow_view *view)
{
	memset(view, 0, sizeof(*view));
	view->flows_fd = maps->flows_fd;
	view->slow_fd = maps->flows_slow_fd;
	view->rtp_fd = maps->rtp_stats_fd;
	view->nslots = maps->nslots < XT_MAX_SLOTS ? maps->nslots : XT_MAX_SLOTS;
}

void xt_flow_view_close(struct xt_flow_view *view)
{
	for (uint32_t s = 0; s < XT_MAX_SLOTS; s++) {
		unmap_slot(view->flows[s], sizeof(struct xt_flow));
		unmap_slot(view->slow[s], sizeof(struct xt_flow_slow));
		unmap_slot(view->rtp[s], sizeof(struct xt_rtp_stats));
	}
	memset(view, 0, sizeof(*view));
}

/* The slot of index, mapped (all three maps); -1 when it is out of range or cannot be. */
static int view_slot_of(struct xt_flow_view *view, uint32_t index)
{
	uint32_t s = index / XT_PORTS_PER_SLOT;

	if (s >= view->nslots)
		return -1;
	if (!view->flows[s]) {
		view->flows[s] = map_slot(view->flows_fd, s, sizeof(struct xt_flow));
		view->slow[s] = map_slot(view->slow_fd, s, sizeof(struct xt_flow_slow));
		view->rtp[s] = map_slot(view->rtp_fd, s, sizeof(struct xt_rtp_stats));
		if (!view->flows[s] || !view->slow[s] || !view->rtp[s]) {
			unmap_slot(view->flows[s], sizeof(struct xt_flow));
			unmap_slot(view->slow[s], sizeof(struct xt_flow_slow));
			unmap_slot(view->rtp[s], sizeof(struct xt_rtp_stats));
			view->flows[s] = NULL;
			view->slow[s] = NULL;
			view->rtp[s] = NULL;
			return -1;
		}
	}
	return (int)s;
}

/* The active flow at index, or NULL. The data path writes it while we read: one load a field. */
static const struct xt_flow *view_flow(struct xt_flow_view *view, uint32_t index, int *slot)
{
	const struct xt_flow *flow;

	*slot = view_slot_of(view, index);
	if (*slot < 0)
		return NULL;
	flow = &view->flows[*slot][index % XT_PORTS_PER_SLOT];
	return __atomic_load_n(&flow->flags, __ATOMIC_RELAXED) & XT_FLOW_F_ACTIVE ? flow : NULL;
}

int xt_flow_view_counters(struct xt_flow_view *view, uint32_t index,
			  struct xt_flow_counters *counters)
{
	int slot;
	const struct xt_flow *flow = view_flow(view, index, &slot);

	if (!flow)
		return -ENOENT;
	counters->packets = __atomic_load_n(&flow->packets, __ATOMIC_RELAXED);
	counters->bytes = __atomic_load_n(&flow->bytes, __ATOMIC_RELAXED);
	counters->src_drops = __atomic_load_n(
		&view->slow[slot][index % XT_PORTS_PER_SLOT].src_drops, __ATOMIC_RELAXED);
	counters->last_seen_ns = last_seen_ns(__atomic_load_n(&flow->last_seen, __ATOMIC_RELAXED),
					      xt_monotonic_ns());
	return 0;
}

int xt_flow_view_latched(struct xt_flow_view *view, uint32_t index, uint16_t *port,
			 uint64_t *seen_ns)
{
	int slot;
	const struct xt_flow *flow = view_flow(view, index, &slot);
	uint32_t flags;

	if (!flow)
		return -ENOENT;
	flags = __atomic_load_n(&flow->flags, __ATOMIC_ACQUIRE);
	if (!(flags & XT_FLOW_F_LATCH))
		return -ENOENT;
	if (!(flags & XT_FLOW_F_CHECK_SRC_PORT))
		return -EAGAIN;
	*port = ntohs(__atomic_load_n(&flow->src_port, __ATOMIC_RELAXED));
	*seen_ns = last_seen_ns(__atomic_load_n(&flow->last_seen, __ATOMIC_RELAXED),
				xt_monotonic_ns());
	return 0;
}

int xt_flow_view_rtp(struct xt_flow_view *view, uint32_t index, struct xt_rtp_stats *rtp)
{
	int slot;
	const struct xt_flow *flow = view_flow(view, index, &slot);

	if (!flow || !(__atomic_load_n(&flow->flags, __ATOMIC_RELAXED) & XT_FLOW_F_RTP_STATS))
		return -ENOENT;
	memcpy(rtp, &view->rtp[slot][index % XT_PORTS_PER_SLOT], sizeof(*rtp));
	return 0;
}

/*
 * The entries of one of the per-flow maps, a slot at a time: mapped when the
 * map is mmapable (xt_flows is), so reading them costs no bpf(2) call and no
 * copy; read FLOW_BATCH at a time otherwise.
 */
struct map_view {
	int fd;
	size_t value_size;  /* the kernel's element size: all are multiples of 8 */
	const char *mapped; /* the current slot's entries, or NULL */
	uint32_t first;	    /* index of the current slot's first entry */
	bool unmappable;
	void *buf; /* FLOW_BATCH entries read without a mapping */
};

_Static_assert(sizeof(struct xt_flow) % 8 == 0 && sizeof(struct xt_flow_slow) % 8 == 0 &&
		       sizeof(struct xt_rtp_stats) % 8 == 0,
	       "array elements are rounded up to 8 bytes: mappings and batches agree");

static void view_init(struct map_view *view, int fd, size_t value_size)
{
	memset(view, 0, sizeof(*view));
	view->fd = fd;
	view->value_size = value_size;
}

static void view_unmap(struct map_view *view)
{
	if (view->mapped)
		munmap((void *)view->mapped, (size_t)XT_PORTS_PER_SLOT * view->value_size);
	view->mapped = NULL;
}

static void view_release(struct map_view *view)
{
	view_unmap(view);
	free(view->buf);
	view->buf = NULL;
}

static void view_slot(struct map_view *view, uint32_t slot)
{
	size_t len = (size_t)XT_PORTS_PER_SLOT * view->value_size;
	void *mapped;

	view_unmap(view);
	view->first = slot * XT_PORTS_PER_SLOT;
	if (view->unmappable)
		return;
	/* a slot's entries start on a page: 65536 of any size fill whole pages */
	mapped = mmap(NULL, len, PROT_READ, MAP_SHARED, view->fd, (off_t)slot * (off_t)len);
	if (mapped == MAP_FAILED) {
		view->unmappable = true; /* not BPF_F_MMAPABLE: read it in batches */
		return;
	}
	view->mapped = mapped;
}

/* Entries first .. first + count - 1, within the current slot and FLOW_BATCH. */
static int view_read(struct map_view *view, uint32_t first, uint32_t count, uint32_t *keys,
		     const void **values)
{
	if (view->mapped) {
		*values = view->mapped + (size_t)(first - view->first) * view->value_size;
		return 0;
	}
	if (!view->buf) {
		view->buf = aligned_alloc(64, FLOW_BATCH * view->value_size);
		if (!view->buf)
			return -ENOMEM;
	}
	*values = view->buf;
	return read_range(view->fd, first, count, keys, view->buf, view->value_size);
}

struct flow_walk {
	struct flow_decoder dec;
	unsigned int parts; /* XT_FLOW_PART_* */
	struct map_view flows, slow, rtp;
	uint32_t keys[FLOW_BATCH];
	xt_flow_visit_fn visit;
	void *arg;
};

/*
 * The active flows among FLOW_BATCH ports of a slot. The flows are scanned
 * first; the slow part and the RTP statistics are then read in one call each,
 * over the ports between the first and the last flow that needs them.
 */
static int walk_ports(struct flow_walk *w, const struct xt_endpoint *addr, uint32_t first)
{
	const struct xt_rtp_stats *rtp = NULL;
	const struct xt_flow_slow *slow = NULL;
	const struct xt_flow *flows;
	uint32_t lo = FLOW_BATCH, hi = 0, rtp_lo = FLOW_BATCH, rtp_hi = 0;
	int err;

	err = view_read(&w->flows, first, FLOW_BATCH, w->keys, (const void **)&flows);
	if (err)
		return err;
	for (uint32_t i = 0; i < FLOW_BATCH; i++) {
		uint32_t flags = flows[i].flags;

		if (!(flags & XT_FLOW_F_ACTIVE))
			continue;
		lo = lo < i ? lo : i;
		hi = i;
		if (flags & XT_FLOW_F_RTP_STATS) {
			rtp_lo = rtp_lo < i ? rtp_lo : i;
			rtp_hi = i;
		}
	}
	if (lo > hi)
		return 0;
	if (w->parts & XT_FLOW_PART_SLOW) {
		err = view_read(&w->slow, first + lo, hi - lo + 1, w->keys, (const void **)&slow);
		if (err)
			return err;
	}
	if ((w->parts & XT_FLOW_PART_RTP) && rtp_lo <= rtp_hi) {
		err = view_read(&w->rtp, first + rtp_lo, rtp_hi - rtp_lo + 1, w->keys,
				(const void **)&rtp);
		if (err)
			return err;
	}
	for (uint32_t i = lo; i <= hi; i++) {
		/* one copy of a line the data path keeps writing */
		struct xt_flow flow = flows[i];
		struct xt_flow_entry entry;
		struct xt_endpoint local;

		/* removed since the scan, or gone RTP after the statistics were read */
		if (!(flow.flags & XT_FLOW_F_ACTIVE))
			continue;
		local = *addr;
		local.port = (uint16_t)((first + i) % XT_PORTS_PER_SLOT);
		err = decode(&w->dec, first + i, &local, &flow, slow ? &slow[i - lo] : NULL,
			     rtp && i >= rtp_lo && i <= rtp_hi ? &rtp[i - rtp_lo] : NULL, &entry);
		if (!err)
			err = w->visit(&entry, w->arg);
		if (err)
			return err;
	}
	return 0;
}

static int walk_slot(struct flow_walk *w, uint32_t slot, const struct xt_endpoint *addr)
{
	int err = 0;

	view_slot(&w->flows, slot);
	if (w->parts & XT_FLOW_PART_SLOW)
		view_slot(&w->slow, slot);
	if (w->parts & XT_FLOW_PART_RTP)
		view_slot(&w->rtp, slot);
	for (uint32_t port = 0; port < XT_PORTS_PER_SLOT && !err; port += FLOW_BATCH)
		err = walk_ports(w, addr, slot * XT_PORTS_PER_SLOT + port);
	return err;
}

struct slot_addr {
	uint32_t slot;
	struct xt_endpoint addr;
};

static int compare_slot_addr(const void *a, const void *b)
{
	const struct slot_addr *x = a, *y = b;

	if (x->addr.family != y->addr.family)
		return x->addr.family - y->addr.family;
	return memcmp(x->addr.addr, y->addr.addr, sizeof(x->addr.addr));
}

int xt_flow_foreach_parts(const struct xt_maps *maps, unsigned int parts, xt_flow_visit_fn visit,
			  void *arg)
{
	struct slot_addr slots[XT_MAX_SLOTS];
	unsigned int nslots = 0;
	struct flow_walk *w;
	int err;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	decoder_init(&w->dec, maps);
	w->parts = parts;
	w->visit = visit;
	w->arg = arg;
	view_init(&w->flows, maps->flows_fd, sizeof(struct xt_flow));
	view_init(&w->slow, maps->flows_slow_fd, sizeof(struct xt_flow_slow));
	view_init(&w->rtp, maps->rtp_stats_fd, sizeof(struct xt_rtp_stats));

	err = load_addrs(&w->dec);
	for (uint32_t s = 0; !err && s < maps->nslots && s < XT_MAX_SLOTS; s++) {
		if (w->dec.slot_bucket[s] < 0)
			continue;
		slots[nslots].slot = s;
		slot_address(&w->dec, s, &slots[nslots].addr);
		nslots++;
	}
	qsort(slots, nslots, sizeof(slots[0]), compare_slot_addr);
	for (unsigned int i = 0; i < nslots && !err; i++)
		err = walk_slot(w, slots[i].slot, &slots[i].addr);

	view_release(&w->flows);
	view_release(&w->slow);
	view_release(&w->rtp);
	free(w);
	return err;
}

int xt_flow_foreach(const struct xt_maps *maps, xt_flow_visit_fn visit, void *arg)
{
	return xt_flow_foreach_parts(maps, XT_FLOW_PART_SLOW | XT_FLOW_PART_RTP, visit, arg);
}

void xt_flow_spec_from_entry(const struct xt_flow_entry *entry, struct xt_flow_spec *spec)
{
	*spec = entry->spec;
}
