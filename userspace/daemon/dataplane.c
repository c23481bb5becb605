// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "xtrunk_abi.h"
#include "dataplane.h"
#include "loader.h"
#include "log.h"
#include "udp_socket.h"

#define RELAY_BURST 64 /* datagrams read per wakeup before yielding to SIP */

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
	dp->maps.rtp_stats_fd = -1;
	dp->xdp = use_xdp && config->xdp != XT_XDP_OFF;
	if (!dp->xdp) {
		pr_info("media relayed in userspace only (XDP off)\n");
		return 0;
	}
	for (int i = 0; i < XT_SIDES; i++) {
		const char *ifname = config->side[i].interface;

		rc = xt_iface_attach(ifname, mode, config->pin_dir, config->slots, err,
				     sizeof(err));
		if (rc == -EEXIST) {
			pr_info("%s; using the program already attached\n", err);
			continue;
		}
		if (rc) {
			pr_warn("side %s: %s\n", config->side[i].name, err);
			xt_dataplane_close(dp);
			return rc;
		}
		dp->attached[i] = true;
	}
	rc = xt_maps_open_pinned(&dp->maps, config->pin_dir);
	if (rc) {
		pr_warn("cannot open the maps under %s: %s\n", config->pin_dir, strerror(-rc));
		xt_dataplane_close(dp);
		return rc;
	}
	pr_info("XDP attached to %s and %s\n", config->side[0].interface,
		config->side[1].interface);
	return 0;
}

void xt_dataplane_close(struct xt_dataplane *dp)
{
	char err[512];

	if (dp->maps.flows_fd >= 0)
		xt_maps_close(&dp->maps);
	for (int i = XT_SIDES - 1; i >= 0; i--) {
		if (!dp->attached[i])
			continue;
		if (xt_iface_detach(dp->config->side[i].interface, dp->config->pin_dir, err,
				    sizeof(err)))
			pr_warn("%s\n", err);
		dp->attached[i] = false;
	}
}

uint64_t xt_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Relay what arrived on a relay port in userspace: the same checks as XDP. */
static int relay_readable(su_root_magic_t *magic, su_wait_t *wait, su_wakeup_arg_t *arg)
{
	struct xt_relay_path *path = (struct xt_relay_path *)arg;
	struct xt_dataplane *dp = path->dp;
	struct sockaddr_storage to, from;
	socklen_t tolen = xt_sockaddr_from_endpoint(&path->spec.peer, &to);
	uint8_t buf[2048];

	for (int i = 0; i < RELAY_BURST; i++) {
		socklen_t fromlen = sizeof(from);
		struct xt_endpoint src;
		ssize_t n;

		n = recvfrom(path->in_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			break;
		xt_endpoint_from_sockaddr(&from, &src);
		if (path->spec.has_src &&
		    (!xt_endpoint_addr_equal(&src, &path->spec.src) ||
		     (path->spec.src.port && src.port != path->spec.src.port))) {
			path->drops++;
			dp->userspace_drops++;
			continue;
		}
		if (sendto(path->out_fd, buf, (size_t)n, 0, (struct sockaddr *)&to, tolen) < 0)
			continue;
		path->packets++;
		path->bytes += (uint64_t)n;
		path->last_seen_ns = xt_monotonic_ns();
		dp->userspace_packets++;
		dp->userspace_bytes += (uint64_t)n;
	}
	return 0;
}

int xt_dataplane_install(struct xt_dataplane *dp, struct xt_relay_path *path,
			 const struct xt_flow_spec *spec, int in_fd, int out_fd)
{
	su_wait_t wait[1];
	int rc;

	memset(path, 0, sizeof(*path));
	path->dp = dp;
	path->spec = *spec;
	path->in_fd = in_fd;
	path->out_fd = out_fd;
	path->registration = -1;

	if (dp->xdp) {
		rc = xt_nexthop_resolve(&spec->relay, &spec->peer, &path->spec.nexthop);
		path->spec.has_nexthop = rc == 0;
		rc = xt_flow_add(&dp->maps, &path->spec);
		if (rc == -EEXIST) {
			/* left behind by a crashed run: this port is ours now */
			xt_flow_del(&dp->maps, &spec->local);
			rc = xt_flow_add(&dp->maps, &path->spec);
		}
		if (rc)
			return rc;
		path->in_xdp = true;
	}
	xt_udp_socket_set_dscp(out_fd, spec->relay.family, spec->dscp);
	if (su_wait_create(wait, in_fd, SU_WAIT_IN) ||
	    (path->registration = su_root_register(dp->root, wait, relay_readable,
						   (su_wakeup_arg_t *)path, 0)) < 0) {
		if (path->in_xdp)
			xt_flow_del(&dp->maps, &spec->local);
		path->in_xdp = false;
		return -ENOMEM;
	}
	dp->flows++;
	return 0;
}

void xt_dataplane_remove(struct xt_relay_path *path)
{
	struct xt_dataplane *dp = path->dp;

	if (!dp)
		return;
	if (path->in_xdp) {
		struct xt_flow_entry entry;

		if (!xt_flow_get(&dp->maps, &path->spec.local, &entry)) {
			dp->xdp_packets += entry.flow.packets;
			dp->xdp_bytes += entry.flow.bytes;
			dp->xdp_drops += entry.flow.src_drops;
		}
		xt_flow_del(&dp->maps, &path->spec.local);
		path->in_xdp = false;
	}
	if (path->registration >= 0) {
		su_root_deregister(dp->root, path->registration);
		path->registration = -1;
	}
	dp->flows--;
	path->dp = NULL;
}
