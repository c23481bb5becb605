// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <net/if.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "xtrunk_abi.h"
#include "clock.h"
#include "dataplane.h"
#include "loader.h"
#include "log.h"
#include "udp_socket.h"

#define RELAY_BURST 64 /* datagrams read per wakeup before yielding to SIP */

static unsigned int nexthop_events_seen(const struct xt_nexthop_events *ev)
{
	return ev->neighbours + ev->routes + ev->links + ev->lost;
}

/*
 * Apply the route, neighbour and link changes the monitor has queued to the
 * shared next hops; any of them empties the resolution cache.
 */
static void nexthop_events_apply(struct xt_dataplane *dp)
{
	struct xt_nexthop_events *ev = &dp->nexthop_events;
	unsigned int before = ev->changed, seen = nexthop_events_seen(ev);
	int rc;

	rc = xt_nexthop_monitor_read(dp->nl_fd, dp->maps.nexthops_fd, ev);
	if (rc)
		pr_warn("next-hop refresh: %s\n", strerror(-rc));
	if (rc || nexthop_events_seen(ev) != seen)
		xt_nexthop_cache_clear(&dp->nexthop_cache);
	if (ev->changed != before)
		pr_info("next hops: %u entries updated after a neighbour, route or link change "
			"(%u so far)\n",
			ev->changed - before, ev->changed);
}

/* Routes, neighbours or links changed: bring the shared next hops up to date. */
static int nexthop_changed(su_root_magic_t *magic, su_wait_t *wait, su_wakeup_arg_t *arg)
{
	struct xt_dataplane *dp = (struct xt_dataplane *)arg;
	unsigned int links = dp->nexthop_events.links;

	nexthop_events_apply(dp);
	/* a link of ours changed: check the egress at once rather than at the next tick */
	if (dp->nexthop_events.links != links)
		xt_dataplane_egress_check(dp);
	return 0;
}

/*
 * xt_nexthop_resolve, through the cache while the monitor runs. Events the
 * kernel has queued are applied first, so a change is never answered from
 * before it; only resolved next hops are kept (an unresolved neighbour is
 * asked again).
 */
static int nexthop_lookup(struct xt_dataplane *dp, const struct xt_endpoint *relay,
			  const struct xt_endpoint *peer, struct xt_nexthop *nh)
{
	if (dp->nl_fd < 0)
		return xt_nexthop_resolve(relay, peer, nh);
	nexthop_events_apply(dp);
	return xt_nexthop_cache_resolve(&dp->nexthop_cache, relay, peer, nh);
}

/*
 * Without the monitor the relay still works: a changed neighbour then keeps
 * its old MAC in XDP until the flows are installed again.
 */
static void nexthop_monitor_start(struct xt_dataplane *dp)
{
	su_wait_t wait[1];

	dp->nl_fd = xt_nexthop_monitor_open();
	if (dp->nl_fd < 0) {
		pr_warn("cannot follow route and neighbour changes: %s\n", strerror(-dp->nl_fd));
		return;
	}
	if (su_wait_create(wait, dp->nl_fd, SU_WAIT_IN) ||
	    (dp->nl_registration = su_root_register(dp->root, wait, nexthop_changed,
						    (su_wakeup_arg_t *)dp, 0)) < 0) {
		pr_warn("cannot follow route and neighbour changes: su_root_register failed\n");
		close(dp->nl_fd);
		dp->nl_fd = -1;
	}
}

/* Log what changed for endpoint i's interface (e: the check's result), once per change. */
static void egress_log(struct xt_dataplane *dp, int i, const struct xt_egress *e)
{
	enum xt_egress_logged now = e->capable ? XT_EGRESS_YES : XT_EGRESS_NO;
	const char *ifname = dp->config->endpoint[i].interface;
	char msg[768];

	if (dp->egress_logged[i] == now)
		return;
	if (now == XT_EGRESS_NO) {
		xt_egress_warning(ifname, e, "media to it goes through xtrunkd's sockets instead",
				  msg, sizeof(msg));
		pr_warn("%s\n", msg);
	} else if (dp->egress_logged[i] == XT_EGRESS_NO) {
		pr_info("interface %s: its veth peer can take XDP frames again (GRO on or an XDP "
			"program); XDP relays media to it again\n",
			ifname);
	}
	dp->egress_logged[i] = now;
}

void xt_dataplane_egress_check(struct xt_dataplane *dp)
{
	enum xdp_attach_mode mode = dp->config->xdp == XT_XDP_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE;

	if (!dp->xdp || dp->maps.tx_ports_fd < 0)
		return;
	for (unsigned int i = 0; i < dp->config->endpoints; i++) {
		const char *ifname = dp->config->endpoint[i].interface;
		uint32_t ifindex = if_nametoindex(ifname);
		struct xt_egress e;
		int rc;

		if (!xt_dataplane_iface_first(dp->config, i))
			continue;
		if (!ifindex)
			continue; /* gone: the next check finds it back */
		rc = xt_iface_egress_sync(dp->maps.tx_ports_fd, ifindex, mode, &e);
		if (rc >= 0) {
			egress_log(dp, i, &e);
		} else if (dp->egress_logged[i] != XT_EGRESS_FAILED) {
			/* the redirect map keeps what it had: the last check's answer */
			pr_warn("interface %s: cannot check whether XDP may transmit to it: %s\n",
				ifname, strerror(-rc));
			dp->egress_logged[i] = XT_EGRESS_FAILED;
		}
	}
}

static void egress_tick(su_root_magic_t *magic, su_timer_t *timer, su_timer_arg_t *arg)
{
	xt_dataplane_egress_check((struct xt_dataplane *)arg);
}

static void egress_checks_start(struct xt_dataplane *dp)
{
	xt_dataplane_egress_check(dp);
	dp->egress_timer = su_timer_create(su_root_task(dp->root), XT_EGRESS_CHECK_MS);
	if (!dp->egress_timer ||
	    su_timer_run(dp->egress_timer, egress_tick, (su_timer_arg_t *)dp)) {
		pr_warn("cannot start the interface checks: a veth peer that changes will not be "
			"noticed\n");
		su_timer_destroy(dp->egress_timer);
		dp->egress_timer = NULL;
	}
}

/* ---- xtrunkd's own flows: one xtrunkd per pin directory, its lease, the sweep ---- */

/* Held until xtrunkd exits: a second xtrunkd would remove the first's flows at start. */
static int lock_pin_dir(struct xt_dataplane *dp)
{
	const char *dir = dp->config->pin_dir;
	int err;

	dp->pin_dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dp->pin_dir_fd < 0) {
		err = -errno;
		pr_warn("cannot open %s: %s\n", dir, strerror(-err));
		return err;
	}
	if (!flock(dp->pin_dir_fd, LOCK_EX | LOCK_NB))
		return 0;
	err = -errno;
	if (err == -EWOULDBLOCK)
		pr_warn("another xtrunkd is running on the maps under %s: one xtrunkd a pin "
			"directory (pin_dir)\n",
			dir);
	else
		pr_warn("cannot lock %s: %s\n", dir, strerror(-err));
	close(dp->pin_dir_fd);
	dp->pin_dir_fd = -1;
	return err == -EWOULDBLOCK ? -EBUSY : err;
}

static void lease_renew(struct xt_dataplane *dp)
{
	struct xt_lease lease = {
		.expires_ns =
			xt_monotonic_ns() + (uint64_t)dp->config->flow_lease_s * 1000000000ull,
	};
	__u32 zero = 0;

	if (bpf_map_update_elem(dp->maps.lease_fd, &zero, &lease, BPF_ANY))
		pr_warn("cannot renew the flows' lease: %s (XDP stops relaying calls' media "
			"when it runs out)\n",
			strerror(errno));
}

static void lease_tick(su_root_magic_t *magic, su_timer_t *timer, su_timer_arg_t *arg)
{
	(void)magic;
	(void)timer;
	lease_renew((struct xt_dataplane *)arg);
}

struct owned_flows {
	struct xt_endpoint *local;
	size_t n, cap;
};

static int collect_owned(const struct xt_flow_entry *entry, void *arg)
{
	struct owned_flows *o = arg;

	if (!entry->spec.owned)
		return 0;
	if (o->n == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 256;
		struct xt_endpoint *local = realloc(o->local, cap * sizeof(*local));

		if (!local)
			return -ENOMEM;
		o->local = local;
		o->cap = cap;
	}
	o->local[o->n++] = entry->local;
	return 0;
}

/*
 * Flows an xtrunkd that did not stop left behind (killed, crashed): none is
 * a call of ours, and their ports are ours to hand out again.
 */
static void sweep_owned_flows(struct xt_dataplane *dp)
{
	struct owned_flows o = {};
	size_t removed = 0;
	int rc = xt_flow_foreach_parts(&dp->maps, 0, collect_owned, &o);

	for (size_t i = 0; i < o.n; i++)
		removed += !xt_flow_del(&dp->maps, &o.local[i], true);
	if (rc)
		pr_warn("cannot read the flow table for flows a previous xtrunkd left: %s\n",
			strerror(-rc));
	if (removed)
		pr_warn("removed %zu flows a previous xtrunkd left behind (it did not stop "
			"cleanly)\n",
			removed);
	free(o.local);
}

static int own_flows_start(struct xt_dataplane *dp)
{
	unsigned int every_ms = dp->config->flow_lease_s * 1000 / 4;
	int rc = lock_pin_dir(dp);

	if (rc)
		return rc;
	sweep_owned_flows(dp);
	lease_renew(dp);
	dp->lease_timer = su_timer_create(su_root_task(dp->root), every_ms);
	if (!dp->lease_timer || su_timer_run(dp->lease_timer, lease_tick, (su_timer_arg_t *)dp)) {
		pr_warn("cannot start renewing the flows' lease\n");
		return -ENOMEM;
	}
	return 0;
}

int xt_dataplane_open(struct xt_dataplane *dp, const struct xt_config *config, su_root_t *root,
		      bool use_xdp)
{
	enum xdp_attach_mode mode = config->xdp == XT_XDP_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	char err[512];
	int rc;

	memset(dp, 0, sizeof(*dp));
	dp->config = config;
	dp->root = root;
	dp->maps.relay_addrs_fd = dp->maps.flows_fd = dp->maps.tx_ports_fd = dp->maps.stats_fd = -1;
	dp->maps.rtp_stats_fd = dp->maps.flows_slow_fd = dp->maps.nexthops_fd = -1;
	dp->maps.lease_fd = dp->maps.slot_lock_fd = -1;
	dp->maps.ifaces_fd = -1;
	dp->nl_fd = dp->nl_registration = dp->pin_dir_fd = -1;
	dp->xdp = use_xdp && config->xdp != XT_XDP_OFF;
	if (!dp->xdp) {
		pr_info("media relayed in userspace only (XDP off)\n");
		return 0;
	}
	for (unsigned int i = 0; i < config->endpoints; i++) {
		const char *ifname = config->endpoint[i].interface;

		if (!xt_dataplane_iface_first(config, i))
			continue;
		rc = xt_iface_attach(ifname, mode, config->pin_dir, config->slots, NULL, err,
				     sizeof(err));
		if (rc == -EEXIST) {
			pr_info("%s; using the program already attached\n", err);
			continue;
		}
		if (rc) {
			pr_warn("endpoint %s: %s\n", config->endpoint[i].name, err);
			xt_dataplane_close(dp);
			return rc;
		}
		dp->attached[i] = true;
	}
	rc = xt_maps_open_pinned(&dp->maps, config->pin_dir);
	if (rc) {
		pr_warn("cannot open the maps under %s: %s\n", config->pin_dir,
			xt_maps_strerror(rc));
		xt_dataplane_close(dp);
		return rc;
	}
	rc = own_flows_start(dp);
	if (rc) {
		xt_dataplane_close(dp);
		return rc;
	}
	xt_flow_view_init(&dp->maps, &dp->view);
	for (unsigned int i = 0; i < config->endpoints; i++)
		if (xt_dataplane_iface_first(config, i))
			pr_info("XDP attached to %s\n", config->endpoint[i].interface);
	nexthop_monitor_start(dp);
	egress_checks_start(dp);
	return 0;
}

void xt_dataplane_close(struct xt_dataplane *dp)
{
	char err[512];

	su_timer_destroy(dp->egress_timer);
	dp->egress_timer = NULL;
	su_timer_destroy(dp->lease_timer);
	dp->lease_timer = NULL;
	if (dp->nl_registration >= 0)
		su_root_deregister(dp->root, dp->nl_registration);
	dp->nl_registration = -1;
	if (dp->nl_fd >= 0)
		close(dp->nl_fd);
	dp->nl_fd = -1;
	if (dp->nexthop_cache.hits || dp->nexthop_cache.misses)
		pr_info("next hops: %u taken from the cache, %u asked of the kernel\n",
			dp->nexthop_cache.hits, dp->nexthop_cache.misses);
	xt_flow_view_close(&dp->view);
	if (dp->maps.flows_fd >= 0)
		xt_maps_close(&dp->maps);
	for (int i = (int)dp->config->endpoints - 1; i >= 0; i--) {
		if (!dp->attached[i])
			continue;
		if (xt_iface_detach(dp->config->endpoint[i].interface, dp->config->pin_dir, err,
				    sizeof(err)))
			pr_warn("%s\n", err);
		dp->attached[i] = false;
	}
	if (dp->pin_dir_fd >= 0)
		close(dp->pin_dir_fd);
	dp->pin_dir_fd = -1;
}

/* The stream's source now uses port: the reverse direction answers there. */
static void latch_to(struct xt_relay_path *path, uint16_t port)
{
	path->latched_port = port;
	if (path->reverse)
		path->reverse->peer_port = port;
}

/*
 * The source check of a packet userspace relays, XDP's rule: the signalled
 * address (and port, when signalled); a latching flow takes its first
 * packet's port, and after XT_RELATCH_QUIET_MS without media another port
 * of that address (NAT rebinding). Packets XDP passes up have already been
 * checked there, and XDP may have latched the flow: its latch comes first,
 * so that the two never hold different ports.
 */
static bool userspace_source_ok(struct xt_relay_path *path, const struct xt_endpoint *src)
{
	const struct xt_flow_spec *spec = &path->spec;
	uint64_t now = xt_monotonic_ns(), xdp_seen = 0, last = path->last_seen_ns;
	uint16_t xdp_port;

	if (!spec->has_src)
		return true;
	if (!xt_endpoint_addr_equal(src, &spec->src))
		return false;
	if (!spec->latch)
		return !spec->src.port || src->port == spec->src.port;
	if (path->in_xdp &&
	    !xt_flow_view_latched(&path->dp->view, path->flow_index, &xdp_port, &xdp_seen)) {
		if (xdp_port != path->latched_port)
			latch_to(path, xdp_port);
		if (xdp_seen > last)
			last = xdp_seen;
	}
	if (!path->latched_port) {
		latch_to(path, src->port);
		return true;
	}
	if (src->port == path->latched_port)
		return true;
	if (last && now - last <= XT_RELATCH_QUIET_MS * 1000000ull)
		return false;
	char from[XT_ENDPOINT_STRLEN];

	xt_endpoint_format(src, from, sizeof(from));
	pr_info("stream re-latched from port %u to %s after %.1f s without media (NAT "
		"rebinding)\n",
		path->latched_port, from, last ? (double)(now - last) / 1e9 : 0.0);
	latch_to(path, src->port);
	path->dp->userspace_relatched[path->endpoint]++;
	return true;
}

/* Relay what arrived on a relay port in userspace: the same checks as XDP. */
static int relay_readable(su_root_magic_t *magic, su_wait_t *wait, su_wakeup_arg_t *arg)
{
	struct xt_relay_path *path = (struct xt_relay_path *)arg;
	struct xt_dataplane *dp = path->dp;
	struct sockaddr_storage to, from;
	struct xt_endpoint peer = path->spec.peer;
	socklen_t tolen;
	uint8_t buf[2048];

	if (path->peer_port)
		peer.port = path->peer_port;
	tolen = xt_sockaddr_from_endpoint(&peer, &to);

	for (int i = 0; i < RELAY_BURST; i++) {
		socklen_t fromlen = sizeof(from);
		struct xt_endpoint src;
		ssize_t n;

		n = recvfrom(path->in_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			break;
		xt_endpoint_from_sockaddr(&from, &src);
		if (!userspace_source_ok(path, &src)) {
			path->drops++;
			dp->userspace_drops[path->endpoint]++;
			continue;
		}
		if (sendto(path->out_fd, buf, (size_t)n, 0, (struct sockaddr *)&to, tolen) < 0)
			continue;
		path->packets++;
		path->bytes += (uint64_t)n;
		path->last_seen_ns = xt_monotonic_ns();
		dp->userspace_packets[path->endpoint]++;
		dp->userspace_bytes[path->endpoint] += (uint64_t)n;
	}
	return 0;
}

int xt_dataplane_install(struct xt_dataplane *dp, struct xt_relay_path *path,
			 const struct xt_flow_spec *spec, int in_fd, int out_fd, int endpoint)
{
	su_wait_t wait[1];
	int rc;

	memset(path, 0, sizeof(*path));
	path->dp = dp;
	path->spec = *spec;
	path->in_fd = in_fd;
	path->out_fd = out_fd;
	path->registration = -1;
	path->endpoint = endpoint;

	if (dp->xdp) {
		/* A neighbour not resolved yet still gets its next-hop entry, marked
		 * unresolved (the FIB answers, userspace relays): the neighbour
		 * event that resolves it later moves the flow into XDP. */
		rc = nexthop_lookup(dp, &spec->relay, &spec->peer, &path->spec.nexthop);
		path->spec.has_nexthop = rc == 0 || (rc == -EAGAIN && path->spec.nexthop.ifindex &&
						     path->spec.nexthop.family && dp->nl_fd >= 0);
		path->spec.owned = true;
		/* one of ours already there (a path reinstalled): replace it; one
		 * added by hand (xtrunkctl flow add) is its owner's to remove */
		rc = xt_flow_replace(&dp->maps, &path->spec);
		if (rc == -EPERM) {
			char local[XT_ENDPOINT_STRLEN];

			xt_endpoint_format(&spec->local, local, sizeof(local));
			pr_warn("relay port %s has a flow added by hand (xtrunkctl flow add): "
				"left alone, and this stream cannot use the port\n",
				local);
			return -EADDRINUSE;
		}
		if (!rc)
			rc = xt_flow_index(&dp->maps, &spec->local, &path->flow_index);
		if (rc)
			return rc;
		path->in_xdp = true;
	}
	xt_udp_socket_set_dscp(out_fd, spec->relay.family, spec->dscp);
	if (su_wait_create(wait, in_fd, SU_WAIT_IN) ||
	    (path->registration = su_root_register(dp->root, wait, relay_readable,
						   (su_wakeup_arg_t *)path, 0)) < 0) {
		if (path->in_xdp)
			xt_flow_del(&dp->maps, &spec->local, true);
		path->in_xdp = false;
		return -ENOMEM;
	}
	dp->flows++;
	return 0;
}

bool xt_dataplane_iface_first(const struct xt_config *config, unsigned int i)
{
	for (unsigned int j = 0; j < i; j++)
		if (!strcmp(config->endpoint[j].interface, config->endpoint[i].interface))
			return false;
	return true;
}

int xt_dataplane_xdp_counters(struct xt_relay_path *path, struct xt_flow_counters *counters)
{
	if (!path->in_xdp || !path->dp)
		return -ENOENT;
	return xt_flow_view_counters(&path->dp->view, path->flow_index, counters);
}

int xt_dataplane_xdp_rtp(struct xt_relay_path *path, struct xt_rtp_stats *rtp)
{
	if (!path->in_xdp || !path->dp)
		return -ENOENT;
	return xt_flow_view_rtp(&path->dp->view, path->flow_index, rtp);
}

void xt_dataplane_path_snapshot(const struct xt_relay_path *path, struct xt_path_snapshot *snap)
{
	snap->spec = path->spec;
	snap->in_xdp = path->in_xdp && path->dp &&
		       !xt_flow_get(&path->dp->maps, &path->spec.local, &snap->xdp);
	if (!snap->in_xdp)
		memset(&snap->xdp, 0, sizeof(snap->xdp));
	snap->packets = path->packets;
	snap->bytes = path->bytes;
	snap->drops = path->drops;
}

void xt_dataplane_pair(struct xt_relay_path *path, struct xt_relay_path *reverse)
{
	path->reverse = reverse;
}

void xt_dataplane_remove(struct xt_relay_path *path)
{
	struct xt_dataplane *dp = path->dp;

	if (!dp)
		return;
	if (path->in_xdp) {
		struct xt_flow_counters c;

		if (!xt_dataplane_xdp_counters(path, &c)) {
			dp->xdp_packets[path->endpoint] += c.packets;
			dp->xdp_bytes[path->endpoint] += c.bytes;
			dp->xdp_drops[path->endpoint] += c.src_drops;
		}
		xt_flow_del(&dp->maps, &path->spec.local, true);
		path->in_xdp = false;
	}
	if (path->registration >= 0) {
		su_root_deregister(dp->root, path->registration);
		path->registration = -1;
	}
	dp->flows--;
	path->dp = NULL;
}

/* ---- the read side: what /metrics shows ---- */

static int add_live_flow(const struct xt_flow_entry *entry, void *arg)
{
	const struct xt_dataplane *dp = ((void **)arg)[0];
	struct xt_media_totals *t = ((void **)arg)[1];
	int e = xt_config_endpoint_of(dp->config, &entry->local);

	if (e < 0)
		return 0; /* not xtrunkd's: another writer's flow in the shared maps */
	t->xdp_packets[e] += entry->flow.packets;
	t->xdp_bytes[e] += entry->flow.bytes;
	t->xdp_drops[e] += entry->flow.src_drops;
	return 0;
}

void xt_dataplane_media_totals(const struct xt_dataplane *dp, struct xt_media_totals *t)
{
	void *arg[2] = { (void *)dp, t };

	memset(t, 0, sizeof(*t));
	memcpy(t->xdp_packets, dp->xdp_packets, sizeof(t->xdp_packets));
	memcpy(t->xdp_bytes, dp->xdp_bytes, sizeof(t->xdp_bytes));
	memcpy(t->xdp_drops, dp->xdp_drops, sizeof(t->xdp_drops));
	memcpy(t->userspace_packets, dp->userspace_packets, sizeof(t->userspace_packets));
	memcpy(t->userspace_bytes, dp->userspace_bytes, sizeof(t->userspace_bytes));
	memcpy(t->userspace_drops, dp->userspace_drops, sizeof(t->userspace_drops));
	memcpy(t->userspace_relatched, dp->userspace_relatched, sizeof(t->userspace_relatched));
	t->flows = dp->flows;
	/* counters only: the slow part has the drops, RTP statistics are not needed */
	if (dp->xdp)
		xt_flow_foreach_parts(&dp->maps, XT_FLOW_PART_SLOW, add_live_flow, arg);
}

void xt_dataplane_verdicts(const struct xt_dataplane *dp, uint64_t *totals, unsigned int n)
{
	if (!dp->xdp || xt_stats_read(&dp->maps, totals, n))
		memset(totals, 0, n * sizeof(*totals));
}

void xt_dataplane_iface_snapshot(const struct xt_dataplane *dp, const char *ifname,
				 struct xt_iface_snapshot *snap)
{
	__u32 key = if_nametoindex(ifname), port;

	memset(snap, 0, sizeof(*snap));
	snap->xdp = dp->xdp;
	if (!dp->xdp || !key)
		return;
	if (dp->maps.ifaces_fd >= 0)
		bpf_map_lookup_elem(dp->maps.ifaces_fd, &key, &snap->xmit);
	snap->egress = !bpf_map_lookup_elem(dp->maps.tx_ports_fd, &key, &port);
}
