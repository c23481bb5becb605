// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "flow_table.h"
#include "relay_addrs.h"

#define FLOW_BATCH 4096u

static size_t addr_len(uint8_t family)
{
	return family == XT_AF_INET6 ? 16 : 4;
}

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

static int slot_get_or_alloc(const struct xt_maps *maps, const struct xt_endpoint *ep,
			     uint32_t *slot)
{
	uint64_t used = 0;
	int err;

	err = xt_relay_addr_find(maps->relay_addrs_fd, ep, slot);
	if (err != -ENOENT)
		return err;
	err = xt_relay_addr_foreach(maps->relay_addrs_fd, mark_used, &used);
	if (err)
		return err;
	for (uint32_t s = 0; s < maps->nslots && s < XT_MAX_SLOTS; s++) {
		if (used & (1ull << s))
			continue;
		err = xt_relay_addr_set(maps->relay_addrs_fd, ep, s);
		if (err == -EEXIST) /* someone else just added it */
			return xt_relay_addr_find(maps->relay_addrs_fd, ep, slot);
		if (!err)
			*slot = s;
		return err;
	}
	return -ENOSPC;
}

static uint32_t flow_index(uint32_t slot, uint16_t port)
{
	return slot * XT_PORTS_PER_SLOT + port;
}

int xt_flow_add(const struct xt_maps *maps, const struct xt_flow_spec *spec)
{
	struct xt_flow flow = {};
	size_t alen = addr_len(spec->local.family);
	uint32_t slot, index;
	int err;

	err = slot_get_or_alloc(maps, &spec->local, &slot);
	if (err)
		return err;
	index = flow_index(slot, spec->local.port);
	if (bpf_map_lookup_elem(maps->flows_fd, &index, &flow))
		return -errno;
	if (flow.flags & XT_FLOW_F_ACTIVE)
		return -EEXIST;

	memset(&flow, 0, sizeof(flow));
	flow.flags = XT_FLOW_F_ACTIVE;
	flow.family = spec->local.family;
	flow.dscp = spec->dscp;
	flow.relay_port = htons(spec->relay.port);
	flow.peer_port = htons(spec->peer.port);
	memcpy(flow.relay_addr, spec->relay.addr, alen);
	memcpy(flow.peer_addr, spec->peer.addr, alen);
	if (spec->has_src) {
		flow.flags |= XT_FLOW_F_CHECK_SRC_ADDR;
		memcpy(flow.src_addr, spec->src.addr, alen);
		if (spec->src.port) {
			flow.flags |= XT_FLOW_F_CHECK_SRC_PORT;
			flow.src_port = htons(spec->src.port);
		}
		if (spec->latch)
			flow.flags |= XT_FLOW_F_LATCH;
	}
	if (spec->rtp_clock_hz) {
		struct xt_rtp_stats stats = { .clock_hz = spec->rtp_clock_hz };

		/* fresh statistics before the flow goes live */
		if (bpf_map_update_elem(maps->rtp_stats_fd, &index, &stats, BPF_ANY))
			return -errno;
		flow.flags |= XT_FLOW_F_RTP_STATS;
	}
	if (spec->has_nexthop) {
		flow.flags |= XT_FLOW_F_NEXTHOP;
		flow.nh_ifindex = spec->nexthop.ifindex;
		memcpy(flow.nh_smac, spec->nexthop.smac, sizeof(flow.nh_smac));
		memcpy(flow.nh_dmac, spec->nexthop.dmac, sizeof(flow.nh_dmac));
	}
	if (bpf_map_update_elem(maps->flows_fd, &index, &flow, BPF_ANY))
		return -errno;
	return 0;
}

int xt_flow_get(const struct xt_maps *maps, const struct xt_endpoint *local,
		struct xt_flow_entry *entry)
{
	uint32_t slot, index;
	int err;

	err = xt_relay_addr_find(maps->relay_addrs_fd, local, &slot);
	if (err)
		return err;
	index = flow_index(slot, local->port);
	if (bpf_map_lookup_elem(maps->flows_fd, &index, &entry->flow))
		return -errno;
	if (!(entry->flow.flags & XT_FLOW_F_ACTIVE))
		return -ENOENT;
	memset(&entry->rtp, 0, sizeof(entry->rtp));
	if ((entry->flow.flags & XT_FLOW_F_RTP_STATS) &&
	    bpf_map_lookup_elem(maps->rtp_stats_fd, &index, &entry->rtp))
		return -errno;
	entry->local = *local;
	return 0;
}

int xt_flow_del(const struct xt_maps *maps, const struct xt_endpoint *local)
{
	struct xt_flow_entry entry;
	struct xt_flow empty = {};
	uint32_t slot, index;
	int err;

	err = xt_flow_get(maps, local, &entry);
	if (err)
		return err;
	err = xt_relay_addr_find(maps->relay_addrs_fd, local, &slot);
	if (err)
		return err;
	index = flow_index(slot, local->port);
	if (bpf_map_update_elem(maps->flows_fd, &index, &empty, BPF_ANY))
		return -errno;
	return 0;
}

struct slot_addr {
	uint32_t slot;
	struct xt_endpoint addr;
};

struct slot_list {
	struct slot_addr slots[XT_MAX_SLOTS];
	unsigned int n;
	uint32_t nslots;
};

static int collect_slot(const struct xt_endpoint *addr, uint32_t slot, void *arg)
{
	struct slot_list *list = arg;

	if (slot < list->nslots && list->n < XT_MAX_SLOTS) {
		list->slots[list->n].slot = slot;
		list->slots[list->n].addr = *addr;
		list->n++;
	}
	return 0;
}

static int compare_slot_addr(const void *a, const void *b)
{
	const struct slot_addr *x = a, *y = b;

	if (x->addr.family != y->addr.family)
		return x->addr.family - y->addr.family;
	return memcmp(x->addr.addr, y->addr.addr, sizeof(x->addr.addr));
}

/* Visit the active flows of one slot, reading its 65536 entries in batches. */
static int foreach_in_slot(const struct xt_maps *maps, const struct slot_addr *sa,
			   struct xt_flow *values, uint32_t *keys, xt_flow_visit_fn visit,
			   void *arg)
{
	uint32_t first = sa->slot * XT_PORTS_PER_SLOT;

	for (uint32_t done = 0; done < XT_PORTS_PER_SLOT;) {
		__u32 count = FLOW_BATCH, in_batch = first + done - 1, out_batch;
		int err;

		/* For arrays the batch cursor is the last index read. */
		err = bpf_map_lookup_batch(maps->flows_fd, done || first ? &in_batch : NULL,
					   &out_batch, keys, values, &count, NULL);
		if (err && errno != ENOENT)
			return -errno;
		for (__u32 i = 0; i < count && done + i < XT_PORTS_PER_SLOT; i++) {
			struct xt_flow_entry entry;
			int rc;

			if (!(values[i].flags & XT_FLOW_F_ACTIVE))
				continue;
			entry.local = sa->addr;
			entry.local.port = (uint16_t)(keys[i] - first);
			entry.flow = values[i];
			memset(&entry.rtp, 0, sizeof(entry.rtp));
			if (entry.flow.flags & XT_FLOW_F_RTP_STATS)
				bpf_map_lookup_elem(maps->rtp_stats_fd, &keys[i], &entry.rtp);
			rc = visit(&entry, arg);
			if (rc)
				return rc;
		}
		if (err || !count)
			break;
		done += count;
	}
	return 0;
}

int xt_flow_foreach(const struct xt_maps *maps, xt_flow_visit_fn visit, void *arg)
{
	struct slot_list list = { .nslots = maps->nslots };
	struct xt_flow *values;
	uint32_t *keys;
	int err;

	err = xt_relay_addr_foreach(maps->relay_addrs_fd, collect_slot, &list);
	if (err)
		return err;
	qsort(list.slots, list.n, sizeof(list.slots[0]), compare_slot_addr);

	values = calloc(FLOW_BATCH, sizeof(*values));
	keys = calloc(FLOW_BATCH, sizeof(*keys));
	if (!values || !keys) {
		err = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < list.n && !err; i++)
		err = foreach_in_slot(maps, &list.slots[i], values, keys, visit, arg);
out:
	free(values);
	free(keys);
	return err;
}

void xt_flow_spec_from_entry(const struct xt_flow_entry *entry, struct xt_flow_spec *spec)
{
	const struct xt_flow *flow = &entry->flow;
	size_t alen = addr_len(flow->family);

	memset(spec, 0, sizeof(*spec));
	spec->local = entry->local;
	spec->peer.family = spec->relay.family = spec->src.family = flow->family;
	memcpy(spec->peer.addr, flow->peer_addr, alen);
	memcpy(spec->relay.addr, flow->relay_addr, alen);
	spec->peer.port = ntohs(flow->peer_port);
	spec->relay.port = ntohs(flow->relay_port);
	spec->has_src = flow->flags & XT_FLOW_F_CHECK_SRC_ADDR;
	spec->latch = flow->flags & XT_FLOW_F_LATCH;
	spec->rtp_clock_hz = (flow->flags & XT_FLOW_F_RTP_STATS) ? entry->rtp.clock_hz : 0;
	if (spec->has_src) {
		memcpy(spec->src.addr, flow->src_addr, alen);
		if (flow->flags & XT_FLOW_F_CHECK_SRC_PORT)
			spec->src.port = ntohs(flow->src_port);
	}
	spec->dscp = flow->dscp;
	spec->has_nexthop = flow->flags & XT_FLOW_F_NEXTHOP;
	if (spec->has_nexthop) {
		spec->nexthop.ifindex = flow->nh_ifindex;
		memcpy(spec->nexthop.smac, flow->nh_smac, sizeof(spec->nexthop.smac));
		memcpy(spec->nexthop.dmac, flow->nh_dmac, sizeof(spec->nexthop.dmac));
	}
}

/*
 * E-model, ITU-T G.107 simplified for G.711 with packet loss concealment:
 * R = 93.2 - Id - Ie_eff, with Ie = 0 and Bpl = 25.1 (G.113 Appendix I), and
 * the delay impairment Id from a one-way delay estimated as 20 ms of
 * packetization plus a jitter buffer of twice the jitter.
 */
static double emodel_mos(double loss_percent, double jitter_ms)
{
	double delay = 20.0 + 2.0 * jitter_ms, r, id, ie_eff;

	id = 0.024 * delay + (delay > 177.3 ? 0.11 * (delay - 177.3) : 0.0);
	ie_eff = 95.0 * loss_percent / (loss_percent + 25.1);
	r = 93.2 - id - ie_eff;
	if (r <= 0.0)
		return 1.0;
	if (r >= 100.0)
		return 4.5;
	return 1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r);
}

bool xt_rtp_quality(const struct xt_rtp_stats *stats, struct xt_rtp_quality *q)
{
	memset(q, 0, sizeof(*q));
	if (!(stats->state & XT_RTP_STATE_STARTED))
		return false;
	q->ssrc = stats->ssrc;
	q->received = stats->received;
	q->duplicates = stats->duplicates;
	q->reordered = stats->reordered;
	q->expected = (uint64_t)(stats->max_seq - stats->base_seq) + 1;
	/* duplicates arrive but were not expected; late packets were counted when expected */
	q->lost = q->expected > stats->received - stats->duplicates ?
			  q->expected - (stats->received - stats->duplicates) :
			  0;
	q->loss_fraction = q->expected ? (double)q->lost / (double)q->expected : 0.0;
	q->jitter_ms = stats->clock_hz ? (double)(stats->jitter >> 4) * 1000.0 / stats->clock_hz :
					 0.0;
	q->mos = emodel_mos(100.0 * q->loss_fraction, q->jitter_ms);
	return true;
}
