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

#include "xtrunk_abi.h"
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

static size_t addr_len(uint8_t family)
{
	return family == XT_AF_INET6 ? 16 : 4;
}

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
	size_t alen = addr_len(peer->family);
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

static int neigh_get(uint8_t family, const uint8_t *addr, uint32_t ifindex, uint8_t *mac)
{
	struct nl_request req = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg)),
		.nh.nlmsg_type = RTM_GETNEIGH,
		.nh.nlmsg_flags = NLM_F_REQUEST,
		.nd.ndm_family = family,
		.nd.ndm_ifindex = (int)ifindex,
	};
	const uint16_t valid = NUD_PERMANENT | NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
			       NUD_NOARP;
	char buf[NL_BUF];
	struct nlmsghdr *answer = (struct nlmsghdr *)buf;
	struct ndmsg *nd;
	struct rtattr *rta;
	int len, attrlen;

	add_attr(&req.nh, NDA_DST, addr, addr_len(family));
	len = nl_transact(&req.nh, buf, sizeof(buf));
	if (len == -ENOENT)
		return -EAGAIN;
	if (len < 0)
		return len;
	if (answer->nlmsg_type != RTM_NEWNEIGH)
		return -EBADMSG;
	nd = NLMSG_DATA(answer);
	if (!(nd->ndm_state & valid))
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
	return neigh_get(peer->family, via, nh->ifindex, nh->dmac);
}
