// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What the kernel failed to transmit after the relay's verdict. XDP_TX and
 * redirect only queue a frame; the driver's ndo_xdp_xmit may still refuse it
 * (a veth whose peer has no NAPI refuses every frame), and the relay's own
 * counters have already counted it as relayed. The xdp tracepoints report
 * those failures per device; these programs add them to xt_ifaces, which has
 * entries only for the interfaces xtrunk is attached to, so other XDP users
 * on the host are not counted. The tracepoints fire once per bulk of frames
 * (up to 16), or per failed redirect, never per relayed packet.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "xtrunk_abi.h"

/*
 * The few kernel fields read, relocated against the running kernel's BTF
 * (CO-RE), instead of a generated vmlinux.h.
 */
#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
struct ns_common {
	unsigned int inum;
};

struct net {
	struct ns_common ns;
};

typedef struct {
	struct net *net;
} possible_net_t;

struct net_device {
	int ifindex;
	possible_net_t nd_net;
};
#pragma clang attribute pop

/*
 * ifindexes are per network namespace and tracepoints see every namespace:
 * count only devices in the namespace whose interfaces xt_ifaces names (its
 * inode number, set by the loader).
 */
const volatile __u32 xt_netns_ino;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XT_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct xt_iface_xmit);
} xt_ifaces SEC(".maps");

static __always_inline struct xt_iface_xmit *iface_of(const struct net_device *dev)
{
	__u32 ifindex;

	if (!dev || dev->nd_net.net->ns.inum != xt_netns_ino)
		return NULL;
	ifindex = (__u32)dev->ifindex;
	return bpf_map_lookup_elem(&xt_ifaces, &ifindex);
}

SEC("tp_btf/xdp_devmap_xmit")
int BPF_PROG(xt_watch_devmap_xmit, const struct net_device *from_dev,
	     const struct net_device *to_dev, int sent, int drops, int err)
{
	struct xt_iface_xmit *x;

	if (drops <= 0)
		return 0;
	x = iface_of(to_dev);
	if (x)
		__sync_fetch_and_add(&x->redirect_drops, (__u64)drops);
	return 0;
}

/* veth's XDP_TX: frames sent back out of dev, to its peer. */
SEC("tp_btf/xdp_bulk_tx")
int BPF_PROG(xt_watch_bulk_tx, const struct net_device *dev, int sent, int drops, int err)
{
	struct xt_iface_xmit *x;

	if (drops <= 0)
		return 0;
	x = iface_of(dev);
	if (x)
		__sync_fetch_and_add(&x->tx_drops, (__u64)drops);
	return 0;
}

/*
 * A redirect that failed before any driver saw it: the kernel refuses a
 * device that does not take XDP frames (a veth whose peer has no NAPI), one
 * that is down, a frame over its MTU. A devmap hash's index is the target's
 * ifindex (xt_tx_ports' keys are), so the failure is counted on the device it
 * was for; otherwise on the one it came in on.
 */
SEC("tp_btf/xdp_redirect_err")
int BPF_PROG(xt_watch_redirect_err, const struct net_device *dev, const void *xdp, const void *tgt,
	     int err, int map_type, __u32 map_id, __u32 index)
{
	struct xt_iface_xmit *x = iface_of(dev), *to;

	if (!x)
		return 0;
	if (map_type == BPF_MAP_TYPE_DEVMAP_HASH) {
		to = bpf_map_lookup_elem(&xt_ifaces, &index);
		if (to)
			x = to;
	}
	__sync_fetch_and_add(&x->redirect_errors, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
