/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Where media is relayed: the XDP program's flow table when XDP is on, and
 * always a userspace path on the relay port's socket, which relays whatever
 * XDP passes up (first packets, unresolved neighbours) or everything when
 * XDP is off. The media session installs and removes flows only through here.
 */
#ifndef XTRUNKD_DATAPLANE_H
#define XTRUNKD_DATAPLANE_H

#include <stdbool.h>
#include <stdint.h>

#include <sofia-sip/su_wait.h>

#include "config.h"
#include "flow_table.h"
#include "relay_maps.h"

/*
 * How often the endpoints' interfaces are checked for whether XDP may transmit to
 * them: a veth's peer changes (GRO, an XDP program) in its own namespace,
 * where ours sees no event.
 */
#define XT_EGRESS_CHECK_MS 2000

struct xt_dataplane {
	const struct xt_config *config;
	su_root_t *root;
	bool xdp;
	bool attached[XT_ENDPOINTS_MAX]; /* XDP attached to that endpoint's interface by us */
	struct xt_maps maps;
	struct xt_flow_view view; /* the per-flow maps, mapped: the activity poll reads them */
	int pin_dir_fd;		  /* flock()ed: one xtrunkd per pin directory */
	su_timer_t *lease_timer;  /* renews xt_lease */
	/* totals over every path, alive or gone, by the endpoint the packets came from */
	uint64_t userspace_packets[XT_ENDPOINTS_MAX], userspace_bytes[XT_ENDPOINTS_MAX];
	uint64_t userspace_drops[XT_ENDPOINTS_MAX];
	uint64_t userspace_relatched[XT_ENDPOINTS_MAX]; /* re-latches after a quiet period */
	uint64_t xdp_packets[XT_ENDPOINTS_MAX], xdp_bytes[XT_ENDPOINTS_MAX],
		xdp_drops[XT_ENDPOINTS_MAX];
	unsigned int flows;
	/* rtnetlink route/neighbour/link changes keep the next-hop table current */
	int nl_fd;
	int nl_registration;
	struct xt_nexthop_events nexthop_events;
	/* used while the monitor above runs: emptied by any of its events */
	struct xt_nexthop_cache nexthop_cache;
	/* whether XDP may transmit to each endpoint's interface, as last logged */
	su_timer_t *egress_timer;
	enum xt_egress_logged {
		XT_EGRESS_UNKNOWN = 0, /* not checked yet */
		XT_EGRESS_YES,
		XT_EGRESS_NO,
		XT_EGRESS_FAILED, /* the check itself failed */
	} egress_logged[XT_ENDPOINTS_MAX];
};

/* One direction of one stream, as installed. */
struct xt_relay_path {
	struct xt_dataplane *dp;
	struct xt_flow_spec spec;
	int in_fd;  /* socket bound to spec.local */
	int out_fd; /* socket bound to spec.relay */
	int registration;
	int endpoint; /* where its packets come from: the endpoint spec.local faces */
	bool in_xdp;
	uint32_t flow_index;		/* with in_xdp: where its flow sits in the maps */
	uint64_t packets, bytes, drops; /* userspace path's own */
	uint64_t last_seen_ns;		/* CLOCK_MONOTONIC of its last relayed packet */
	/* NAT latching in userspace, as XDP does it (spec.latch): the port the
	 * first packet came from, and the path that then answers to it */
	uint16_t latched_port;
	uint16_t peer_port; /* when not 0: latched by the reverse path, instead of spec.peer's */
	struct xt_relay_path *reverse;
};

int xt_dataplane_open(struct xt_dataplane *dp, const struct xt_config *config, su_root_t *root,
		      bool use_xdp);
void xt_dataplane_close(struct xt_dataplane *dp);
/*
 * Check the endpoints' interfaces now (see xt_iface_egress_sync), put them in or
 * take them out of XDP's redirect map, and log each change once.
 */
void xt_dataplane_egress_check(struct xt_dataplane *dp);

/* Install spec in XDP (when on) and the userspace path on in_fd, for packets from endpoint. */
int xt_dataplane_install(struct xt_dataplane *dp, struct xt_relay_path *path,
			 const struct xt_flow_spec *spec, int in_fd, int out_fd, int endpoint);
/*
 * Whether endpoint i is the first of the endpoints on its interface: the
 * one the interface is attached, checked and counted for.
 */
bool xt_dataplane_iface_first(const struct xt_config *config, unsigned int i);
/* path latches (spec.latch); reverse, the other direction of its stream, answers there. */
/*
 * What path's XDP flow relayed, and when it last did, read from the mapped
 * flow table: no bpf(2) call. -ENOENT when the path is not in XDP.
 */
int xt_dataplane_xdp_counters(struct xt_relay_path *path, struct xt_flow_counters *counters);
/* Its RTP statistics, the same way; -ENOENT when it has none. */
int xt_dataplane_xdp_rtp(struct xt_relay_path *path, struct xt_rtp_stats *rtp);

/* A path as readers (the control socket) see it: copied, so they hold no pointer into it. */
struct xt_path_snapshot {
	struct xt_flow_spec spec;	/* as installed: the peer the SDP gave */
	bool in_xdp;			/* in XDP and read back from there: xdp is valid */
	struct xt_flow_entry xdp;	/* the flow table's entry: counters, latched peer, RTP */
	uint64_t packets, bytes, drops; /* the userspace path's own */
};

/* Read path and, when in XDP, its flow entry (one bpf(2) call). */
void xt_dataplane_path_snapshot(const struct xt_relay_path *path, struct xt_path_snapshot *snap);

/* What the data plane relayed, per endpoint the packets came from: live and ended flows. */
struct xt_media_totals {
	uint64_t xdp_packets[XT_ENDPOINTS_MAX], xdp_bytes[XT_ENDPOINTS_MAX];
	uint64_t xdp_drops[XT_ENDPOINTS_MAX];
	uint64_t userspace_packets[XT_ENDPOINTS_MAX], userspace_bytes[XT_ENDPOINTS_MAX];
	uint64_t userspace_drops[XT_ENDPOINTS_MAX];
	uint64_t userspace_relatched[XT_ENDPOINTS_MAX]; /* re-latches after a quiet period */
	unsigned int flows;				/* installed now */
};

/* The totals: one batched pass over the live flows (no bpf(2) call per flow). */
void xt_dataplane_media_totals(const struct xt_dataplane *dp, struct xt_media_totals *totals);
/* The XDP program's verdict counters (XT_STAT_*), summed over CPUs; zeros when XDP is off. */
void xt_dataplane_verdicts(const struct xt_dataplane *dp, uint64_t *totals, unsigned int n);

/* An interface as the data plane sees it. */
struct xt_iface_snapshot {
	bool xdp;		   /* XDP is on */
	bool egress;		   /* XDP may transmit to it (in the redirect map) */
	struct xt_iface_xmit xmit; /* what the kernel failed to transmit after XDP */
};

void xt_dataplane_iface_snapshot(const struct xt_dataplane *dp, const char *ifname,
				 struct xt_iface_snapshot *snap);

void xt_dataplane_pair(struct xt_relay_path *path, struct xt_relay_path *reverse);
/* Remove both; adds the path's final counters (XDP's and userspace's) to the totals. */
void xt_dataplane_remove(struct xt_relay_path *path);

#endif
