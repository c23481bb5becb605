// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/if_arp.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <bpf/bpf.h>

#include "xtrunk_abi.h"
#include "hash.h"
#include "nexthop.h"

#define NL_BUF 8192

struct nl_request {
	struct nlmsghdr nh;
	union {
		struct rtmsg rt;
		struct ndmsg nd;
	};
	char attrs[256];
};

static void add_attr(struct nlmsghdr *nh, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/*
 * One rtnetlink socket for every lookup: a controller resolves four next hops
 * per call, and a socket per lookup cost more than the lookups. The daemon is
 * single-threaded; a failed socket is reopened on the next request.
 */
static int nl_socket = -1;
static uint32_t nl_seq;

static int nl_open(void)
{
	struct timeval timeout = { .tv_sec = 1 };

	if (nl_socket >= 0)
		return nl_socket;
	nl_socket = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl_socket < 0)
		return -errno;
	/* the kernel answers at once; never hang on a lost answer */
	setsockopt(nl_socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	return nl_socket;
}

static void nl_reset(void)
{
	if (nl_socket >= 0)
		close(nl_socket);
	nl_socket = -1;
}

/* Send one request, receive its answer into buf. Returns its length or -errno. */
static int nl_transact(struct nlmsghdr *req, char *buf, size_t buflen)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct nlmsghdr *answer;
	int fd = nl_open(), len;

	if (fd < 0)
		return fd;
	req->nlmsg_seq = ++nl_seq;
	if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		int err = -errno;

		nl_reset();
		return err;
	}
	for (;;) {
		len = (int)recv(fd, buf, buflen, 0);
		if (len < 0) {
			int err = -errno;

			nl_reset();
			return err;
		}
		answer = (struct nlmsghdr *)buf;
		if (!NLMSG_OK(answer, (unsigned int)len))
			return -EBADMSG;
		if (answer->nlmsg_seq == req->nlmsg_seq)
			break; /* an older request's late answer otherwise: skip it */
	}
	if (answer->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(answer);

		return e->error ? e->error : -ENOENT;
	}
	return len;
}

/* The device and the next-hop address (gateway, or the peer itself when on-link). */
static int route_get(const struct xt_endpoint *relay, const struct xt_endpoint *peer, uint32_t *oif,
		     uint8_t *via)
{
	struct nl_request req = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg)),
		.nh.nlmsg_type = RTM_GETROUTE,
		.nh.nlmsg_flags = NLM_F_REQUEST,
		.rt.rtm_family = peer->family,
	};
	size_t alen = xt_addr_len(peer->family);
	char buf[NL_BUF];
	struct nlmsghdr *answer = (struct nlmsghdr *)buf;
	struct rtmsg *rt;
	struct rtattr *rta;
	int len, attrlen;
	bool have_oif = false;

	req.rt.rtm_dst_len = (unsigned char)(alen * 8);
	req.rt.rtm_src_len = (unsigned char)(alen * 8);
	add_attr(&req.nh, RTA_DST, peer->addr, alen);
	add_attr(&req.nh, RTA_SRC, relay->addr, alen);
	len = nl_transact(&req.nh, buf, sizeof(buf));
	if (len < 0)
		return len == -ENETUNREACH || len == -EHOSTUNREACH ? -ENETUNREACH : len;
	if (answer->nlmsg_type != RTM_NEWROUTE)
		return -EBADMSG;

	rt = NLMSG_DATA(answer);
	if (rt->rtm_type != RTN_UNICAST)
		return -ENETUNREACH;
	memcpy(via, peer->addr, alen);
	attrlen = (int)RTM_PAYLOAD(answer);
	for (rta = RTM_RTA(rt); RTA_OK(rta, attrlen); rta = RTA_NEXT(rta, attrlen)) {
		if (rta->rta_type == RTA_OIF) {
			memcpy(oif, RTA_DATA(rta), sizeof(*oif));
			have_oif = true;
		} else if (rta->rta_type == RTA_GATEWAY && RTA_PAYLOAD(rta) == alen) {
			memcpy(via, RTA_DATA(rta), alen);
		}
	}
	return have_oif ? 0 : -ENETUNREACH;
}

int xt_neigh_state_usable(uint16_t state)
{
	return state &
	       (NUD_PERMANENT | NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_NOARP);
}

static int neigh_get(uint8_t family, const uint8_t *addr, uint32_t ifindex, uint8_t *mac)
{
	struct nl_request req = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
		.nh.nlmsg_type = RTM_GETNEIGH,
		.nh.nlmsg_flags = NLM_F_REQUEST,
		.nd.ndm_family = family,
		.nd.ndm_ifindex = (int)ifindex,
	};
	char buf[NL_BUF];
	struct nlmsghdr *answer = (struct nlmsghdr *)buf;
	struct ndmsg *nd;
	struct rtattr *rta;
	int len, attrlen;

	add_attr(&req.nh, NDA_DST, addr, xt_addr_len(family));
	len = nl_transact(&req.nh, buf, sizeof(buf));
	if (len == -ENOENT)
		return -EAGAIN;
	if (len < 0)
		return len;
	if (answer->nlmsg_type != RTM_NEWNEIGH)
		return -EBADMSG;
	nd = NLMSG_DATA(answer);
	if (!xt_neigh_state_usable(nd->ndm_state))
		return -EAGAIN;
	attrlen = (int)(answer->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
	for (rta = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd))); RTA_OK(rta, attrlen);
	     rta = RTA_NEXT(rta, attrlen)) {
		if (rta->rta_type == NDA_LLADDR && RTA_PAYLOAD(rta) == 6) {
			memcpy(mac, RTA_DATA(rta), 6);
			return 0;
		}
	}
	return -EAGAIN;
}

static int device_mac(uint32_t ifindex, uint8_t *mac)
{
	static int ioctl_socket = -1;
	struct ifreq ifr = {};

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return -ENODEV;
	if (ioctl_socket < 0) {
		ioctl_socket = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (ioctl_socket < 0)
			return -errno;
	}
	if (ioctl(ioctl_socket, SIOCGIFHWADDR, &ifr))
		return -errno;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EOPNOTSUPP; /* XDP rewrites Ethernet headers only */
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

int xt_nexthop_resolve(const struct xt_endpoint *relay, const struct xt_endpoint *peer,
		       struct xt_nexthop *nh)
{
	uint8_t via[16];
	int err;

	memset(nh, 0, sizeof(*nh));
	err = route_get(relay, peer, &nh->ifindex, via);
	if (err)
		return err;
	err = device_mac(nh->ifindex, nh->smac);
	if (err)
		return err;
	/* the neighbour is known even when its link-layer address is not yet */
	nh->family = peer->family;
	memcpy(nh->neigh, via, xt_addr_len(peer->family));
	err = neigh_get(peer->family, via, nh->ifindex, nh->dmac);
	if (err)
		memset(nh->dmac, 0, sizeof(nh->dmac));
	return err;
}

/* ---- the resolution cache ---------------------------------------------- */

static unsigned int nexthop_cache_slot(const struct xt_endpoint *relay,
				       const struct xt_endpoint *peer)
{
	uint32_t h = xt_fnv1a(XT_FNV1A_INIT, relay->addr, xt_addr_len(relay->family));

	h = xt_fnv1a(h, peer->addr, xt_addr_len(peer->family));
	return h % XT_NEXTHOP_CACHE;
}

int xt_nexthop_cache_resolve(struct xt_nexthop_cache *cache, const struct xt_endpoint *relay,
			     const struct xt_endpoint *peer, struct xt_nexthop *nh)
{
	struct xt_nexthop_cached *c = &cache->slots[nexthop_cache_slot(relay, peer)];
	int rc;

	if (c->valid && xt_endpoint_addr_equal(&c->relay, relay) &&
	    xt_endpoint_addr_equal(&c->peer, peer)) {
		cache->hits++;
		*nh = c->nexthop;
		return 0;
	}
	cache->misses++;
	rc = xt_nexthop_resolve(relay, peer, nh);
	c->valid = rc == 0;
	if (c->valid) {
		c->relay = *relay;
		c->peer = *peer;
		c->nexthop = *nh;
	}
	return rc;
}

void xt_nexthop_cache_clear(struct xt_nexthop_cache *cache)
{
	for (unsigned int i = 0; i < XT_NEXTHOP_CACHE; i++)
		cache->slots[i].valid = false;
}

/* ---- the shared next-hop table ---------------------------------------- */

static const uint8_t zero_mac[6];

/* Where an entry's probe sequence starts: its key is the neighbour, or the MACs by hand. */
static uint32_t nexthop_bucket(uint32_t oif, uint8_t family, const uint8_t *neigh,
			       const uint8_t *smac, const uint8_t *dmac)
{
	uint32_t h = xt_fnv1a(XT_FNV1A_INIT, &oif, sizeof(oif));

	h = xt_fnv1a(h, &family, 1);
	if (family) {
		h = xt_fnv1a(h, neigh, xt_addr_len(family));
	} else {
		h = xt_fnv1a(h, smac, 6);
		h = xt_fnv1a(h, dmac, 6);
	}
	return h % XT_MAX_NEXTHOPS;
}

static int entry_has_key(const struct xt_nexthop_entry *e, uint32_t oif, uint8_t family,
			 const uint8_t *neigh, const uint8_t *smac, const uint8_t *dmac)
{
	if (e->oif != oif || e->family != family)
		return 0;
	if (family)
		return !memcmp(e->neigh, neigh, xt_addr_len(family));
	return !memcmp(e->smac, smac, 6) && !memcmp(e->dmac, dmac, 6);
}

/* The entry of a key: 0 and its index, -ENOENT with the first free index, or -ENOSPC. */
static int nexthop_find(int map_fd, uint32_t oif, uint8_t family, const uint8_t *neigh,
			const uint8_t *smac, const uint8_t *dmac, uint32_t *index,
			struct xt_nexthop_entry *entry)
{
	uint32_t first = nexthop_bucket(oif, family, neigh, smac, dmac);
	int free_found = 0;

	for (uint32_t i = 0; i < XT_NEXTHOP_PROBES; i++) {
		uint32_t key = (first + i) % XT_MAX_NEXTHOPS;
		struct xt_nexthop_entry e;

		if (bpf_map_lookup_elem(map_fd, &key, &e))
			return -errno;
		if (!e.oif) {
			if (!free_found) {
				*index = key;
				free_found = 1;
			}
			continue;
		}
		if (entry_has_key(&e, oif, family, neigh, smac, dmac)) {
			*index = key;
			*entry = e;
			return 0;
		}
	}
	return free_found ? -ENOENT : -ENOSPC;
}

static int nexthop_table_get(int map_fd, const struct xt_nexthop *nh, uint16_t *index, int attempt)
{
	struct xt_nexthop_entry entry = {}, check;
	uint32_t key;
	int err;

	if (!nh->ifindex)
		return -EINVAL;
	err = nexthop_find(map_fd, nh->ifindex, nh->family, nh->neigh, nh->smac, nh->dmac, &key,
			   &entry);
	if (err && err != -ENOENT)
		return err;
	if (!err && entry.ifindex && entry.ifindex == nh->ifindex &&
	    !memcmp(entry.smac, nh->smac, 6) && !memcmp(entry.dmac, nh->dmac, 6)) {
		*index = (uint16_t)key;
		return 0;
	}
	/* new, or a fresher answer for the same neighbour: one write, whole entry */
	memset(&entry, 0, sizeof(entry));
	/* a neighbour without link-layer address yet: the FIB answers until it has one */
	entry.ifindex = nh->family && !memcmp(nh->dmac, zero_mac, 6) ? 0 : nh->ifindex;
	memcpy(entry.smac, nh->smac, 6);
	memcpy(entry.dmac, nh->dmac, 6);
	entry.oif = nh->ifindex;
	entry.family = nh->family;
	if (nh->family)
		memcpy(entry.neigh, nh->neigh, xt_addr_len(nh->family));
	if (bpf_map_update_elem(map_fd, &key, &entry, BPF_ANY))
		return -errno;
	/*
	 * Another process (xtrunkctl next to xtrunkd) may have claimed the same
	 * free entry for another neighbour at the same time: read it back, and
	 * look again if it is no longer ours. This narrows the race, it does not
	 * close it; the daemon is meant to be the only writer.
	 */
	if (bpf_map_lookup_elem(map_fd, &key, &check))
		return -errno;
	if (!entry_has_key(&check, entry.oif, entry.family, entry.neigh, entry.smac, entry.dmac)) {
		if (attempt < 3)
			return nexthop_table_get(map_fd, nh, index, attempt + 1);
		return -EBUSY;
	}
	*index = (uint16_t)key;
	return 0;
}

static int entry_write_if_changed(int map_fd, uint32_t key, const struct xt_nexthop_entry *old,
				  const struct xt_nexthop_entry *new, unsigned int *changed)
{
	if (!memcmp(old, new, sizeof(*new)))
		return 0;
	if (bpf_map_update_elem(map_fd, &key, new, BPF_ANY))
		return -errno;
	(*changed)++;
	return 0;
}

int xt_nexthop_table_neigh(int map_fd, uint8_t family, const uint8_t *addr, uint32_t ifindex,
			   const uint8_t *mac, unsigned int *changed)
{
	struct xt_nexthop_entry entry, updated;
	uint32_t key;
	int err;

	err = nexthop_find(map_fd, ifindex, family, addr, NULL, NULL, &key, &entry);
	if (err == -ENOENT || err == -ENOSPC)
		return 0;
	if (err)
		return err;
	updated = entry;
	if (mac) {
		updated.ifindex = entry.oif;
		memcpy(updated.dmac, mac, 6);
	} else {
		updated.ifindex = 0;
	}
	return entry_write_if_changed(map_fd, key, &entry, &updated, changed);
}

int xt_nexthop_table_refresh(int map_fd, uint32_t oif, unsigned int *changed)
{
	for (uint32_t key = 0; key < XT_MAX_NEXTHOPS; key++) {
		struct xt_nexthop_entry entry, updated;
		int err;

		if (bpf_map_lookup_elem(map_fd, &key, &entry))
			return -errno;
		if (!entry.oif || !entry.family || (oif && entry.oif != oif))
			continue;
		updated = entry;
		updated.ifindex = 0;
		if (!device_mac(entry.oif, updated.smac) &&
		    !neigh_get(entry.family, entry.neigh, entry.oif, updated.dmac))
			updated.ifindex = entry.oif;
		err = entry_write_if_changed(map_fd, key, &entry, &updated, changed);
		if (err)
			return err;
	}
	return 0;
}

int xt_nexthop_table_get(int map_fd, const struct xt_nexthop *nh, uint16_t *index)
{
	return nexthop_table_get(map_fd, nh, index, 0);
}

/* ---- following the kernel's changes ----------------------------------- */

int xt_nexthop_monitor_open(void)
{
	struct sockaddr_nl local = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_NEIGH | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE | RTMGRP_LINK,
	};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&local, sizeof(local))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int handle_neigh(int map_fd, struct nlmsghdr *msg, struct xt_nexthop_events *ev)
{
	struct ndmsg *nd = NLMSG_DATA(msg);
	int attrlen = (int)(msg->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
	const uint8_t *dst = NULL, *mac = NULL;
	struct rtattr *rta;

	if (attrlen < 0 || (nd->ndm_family != XT_AF_INET && nd->ndm_family != XT_AF_INET6))
		return 0;
	for (rta = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof(*nd))); RTA_OK(rta, attrlen);
	     rta = RTA_NEXT(rta, attrlen)) {
		if (rta->rta_type == NDA_DST && RTA_PAYLOAD(rta) == xt_addr_len(nd->ndm_family))
			dst = RTA_DATA(rta);
		else if (rta->rta_type == NDA_LLADDR && RTA_PAYLOAD(rta) == 6)
			mac = RTA_DATA(rta);
	}
	if (!dst)
		return 0;
	ev->neighbours++;
	/* gone, failed or still incomplete: unusable until it resolves again */
	if (msg->nlmsg_type == RTM_DELNEIGH || !xt_neigh_state_usable(nd->ndm_state))
		mac = NULL;
	return xt_nexthop_table_neigh(map_fd, nd->ndm_family, dst, (uint32_t)nd->ndm_ifindex, mac,
				      &ev->changed);
}

int xt_nexthop_monitor_read(int nl_fd, int map_fd, struct xt_nexthop_events *ev)
{
	char buf[NL_BUF];
	uint32_t link_oif = 0; /* the one device whose link changed */
	bool refresh_all = false;
	int err = 0;

	for (;;) {
		struct nlmsghdr *msg;
		int len = (int)recv(nl_fd, buf, sizeof(buf), 0);

		if (len < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) { /* events lost: look at everything */
				ev->lost++;
				refresh_all = true;
				continue;
			}
			return -errno;
		}
		for (msg = (struct nlmsghdr *)buf; NLMSG_OK(msg, (unsigned int)len);
		     msg = NLMSG_NEXT(msg, len)) {
			struct ifinfomsg *ifi;

			switch (msg->nlmsg_type) {
			case RTM_NEWNEIGH:
			case RTM_DELNEIGH:
				err = handle_neigh(map_fd, msg, ev);
				break;
			case RTM_NEWLINK:
			case RTM_DELLINK:
				/* a device's MAC or state: its entries, or all for several */
				ifi = NLMSG_DATA(msg);
				ev->links++;
				if (link_oif && link_oif != (uint32_t)ifi->ifi_index)
					refresh_all = true;
				link_oif = (uint32_t)ifi->ifi_index;
				break;
			case RTM_NEWROUTE:
			case RTM_DELROUTE:
				ev->routes++;
				refresh_all = true;
				break;
			default:
				break;
			}
			if (err)
				return err;
		}
	}
	if (refresh_all)
		return xt_nexthop_table_refresh(map_fd, 0, &ev->changed);
	if (link_oif)
		return xt_nexthop_table_refresh(map_fd, link_oif, &ev->changed);
	return 0;
}
