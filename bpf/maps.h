/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The relay's maps. Pin paths are set by the loader, not here, so that tests
 * and benchmarks can load private copies. */
#ifndef XTRUNK_MAPS_H
#define XTRUNK_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "xtrunk_abi.h"

/* Relay-local address -> slot (see xtrunk_abi.h); small, so always cache-hot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XT_ADDR_BUCKETS);
	__type(key, __u32);
	__type(value, struct xt_addr_entry);
} xt_relay_addrs SEC(".maps");

/*
 * slot * 65536 + local port -> flow. max_entries is set by the loader.
 * Mmapable so that its values start on a page: with 64-byte values every
 * flow then sits in exactly one cache line.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XT_DEFAULT_SLOTS *XT_PORTS_PER_SLOT);
	__type(key, __u32);
	__type(value, struct xt_flow);
} xt_flows SEC(".maps");

/*
 * Source-check drops and the reverse flow, at the flow's index; sized with
 * xt_flows. Mmapable, like xt_flows, so that a walk of the table (a scrape,
 * xtrunkctl flow list) reads it without a bpf(2) call per entry.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XT_DEFAULT_SLOTS *XT_PORTS_PER_SLOT);
	__type(key, __u32);
	__type(value, struct xt_flow_slow);
} xt_flows_slow SEC(".maps");

/* Next hops shared by the flows (see xtrunk_abi.h); small, so cache-hot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XT_MAX_NEXTHOPS);
	__type(key, __u32);
	__type(value, struct xt_nexthop_entry);
} xt_nexthops SEC(".maps");

/* RTP statistics, at the same index as the flow; sized with xt_flows by the loader; mmapable. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XT_DEFAULT_SLOTS *XT_PORTS_PER_SLOT);
	__type(key, __u32);
	__type(value, struct xt_rtp_stats);
} xt_rtp_stats SEC(".maps");

/* Devices a relayed packet may be redirected to: every attached interface. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, XT_MAX_IFACES);
	__type(key, __u32);
	__type(value, __u32);
} xt_tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XT_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} xt_stats SEC(".maps");

/* xtrunkd's lease on the flows it owns (see xtrunk_abi.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_lease);
} xt_lease SEC(".maps");

/*
 * A per-CPU clock for last-seen times: bpf_ktime_get_ns() costs ~40 ns a
 * packet here, bpf_jiffies64() ~3 ns, so the nanosecond time is read once a
 * jiffy per CPU and reused: last-seen times are exact to one jiffy (1-4 ms).
 * Whether xtrunkd's lease is over is decided at the same time, so a packet
 * pays one test of a line it reads anyway.
 */
struct xt_clock {
	__u64 jiffies;
	__u64 ns;
	__u64 lease_over; /* ns is past a lease that is not 0 */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xt_clock);
} xt_clock SEC(".maps");

/* This CPU's clock, brought up to this jiffy; NULL only if the map is broken. */
static __always_inline struct xt_clock *clock_get(void)
{
	__u32 zero = 0;
	struct xt_clock *clock = bpf_map_lookup_elem(&xt_clock, &zero);
	__u64 jiffies = bpf_jiffies64();

	if (clock && clock->jiffies != jiffies) {
		struct xt_lease *lease = bpf_map_lookup_elem(&xt_lease, &zero);

		clock->jiffies = jiffies;
		clock->ns = bpf_ktime_get_ns();
		clock->lease_over = lease && lease->expires_ns && clock->ns > lease->expires_ns;
	}
	return clock;
}

static __always_inline void stat_inc(__u32 reason)
{
	__u64 *count = bpf_map_lookup_elem(&xt_stats, &reason);

	if (count)
		*count += 1;
}

#endif /* XTRUNK_MAPS_H */
