// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "xdp_egress.h"

/*
 * The netdev generic netlink family (Linux 6.3+, include/uapi/linux/netdev.h);
 * defined here because the build machine's headers may predate it.
 */
#define NETDEV_FAMILY "netdev"
#define NETDEV_CMD_DEV_GET 1
#define NETDEV_A_DEV_IFINDEX 1
#define NETDEV_A_DEV_XDP_FEATURES 3
#define NETDEV_XDP_ACT_BASIC 1ull
#define NETDEV_XDP_ACT_NDO_XMIT 4ull

#define NL_BUF 16384

struct nl_request {
	struct nlmsghdr nh;
	union {
		struct ifinfomsg ifi;
		struct genlmsghdr genl;
		struct rtgenmsg gen;
	};
	char attrs[128];
};

static void put_attr(struct nlmsghdr *nh, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Send req on a new socket of protocol proto; its answer lands in buf. 0 or -errno. */
static int nl_ask(int proto, struct nlmsghdr *req, char *buf, size_t buflen)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval timeout = { .tv_sec = 1 }; /* the kernel answers at once */
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	ssize_t n;
	int fd, rc = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	req->nlmsg_flags |= NLM_F_REQUEST;
	req->nlmsg_seq = 1;
	if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		rc = -errno;
		goto out;
	}
	n = recv(fd, buf, buflen, 0);
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	if (!NLMSG_OK(nh, (size_t)n))
		rc = -EIO;
	else if (nh->nlmsg_type == NLMSG_ERROR)
		rc = ((struct nlmsgerr *)NLMSG_DATA(nh))->error ?: -ENODATA;
out:
	close(fd);
	return rc;
}

/* The attributes of nh after its fixed header of hdrlen bytes, by type up to max. */
static void parse_attrs(struct nlmsghdr *nh, size_t hdrlen, struct rtattr **tb, unsigned int max)
{
	struct rtattr *rta = (struct rtattr *)((char *)NLMSG_DATA(nh) + NLMSG_ALIGN(hdrlen));
	int len = (int)nh->nlmsg_len - (int)NLMSG_SPACE(hdrlen);

	memset(tb, 0, sizeof(*tb) * (max + 1));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		unsigned short type = rta->rta_type & NLA_TYPE_MASK;

		if (type <= max)
			tb[type] = rta;
	}
}

static void attr_string(const struct rtattr *rta, char *out, size_t len)
{
	size_t n = RTA_PAYLOAD(rta) < len ? RTA_PAYLOAD(rta) : len - 1;

	memcpy(out, RTA_DATA(rta), n);
	out[n] = '\0';
	out[strnlen(out, n)] = '\0';
}

struct link_facts {
	char name[IF_NAMESIZE];
	char kind[16]; /* IFLA_INFO_KIND: "veth", ... */
	uint32_t link; /* IFLA_LINK: a veth's peer */
	int link_nsid; /* IFLA_LINK_NETNSID; -1: the peer is in the same namespace */
};

/* RTM_GETLINK of ifindex, in the namespace our namespace calls nsid (-1: ours). */
static int link_get(uint32_t ifindex, int nsid, struct link_facts *f)
{
	struct nl_request req = { .nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
				  .nh.nlmsg_type = RTM_GETLINK,
				  .ifi.ifi_index = (int)ifindex };
	struct rtattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];
	static char buf[NL_BUF];
	int rc;

	if (nsid >= 0)
		put_attr(&req.nh, IFLA_TARGET_NETNSID, &nsid, sizeof(nsid));
	rc = nl_ask(NETLINK_ROUTE, &req.nh, buf, sizeof(buf));
	if (rc)
		return rc;
	memset(f, 0, sizeof(*f));
	f->link_nsid = -1;
	parse_attrs((struct nlmsghdr *)buf, sizeof(struct ifinfomsg), tb, IFLA_MAX);
	if (tb[IFLA_IFNAME])
		attr_string(tb[IFLA_IFNAME], f->name, sizeof(f->name));
	if (tb[IFLA_LINK] && RTA_PAYLOAD(tb[IFLA_LINK]) >= 4)
		memcpy(&f->link, RTA_DATA(tb[IFLA_LINK]), 4);
	if (tb[IFLA_LINK_NETNSID] && RTA_PAYLOAD(tb[IFLA_LINK_NETNSID]) >= 4)
		memcpy(&f->link_nsid, RTA_DATA(tb[IFLA_LINK_NETNSID]), 4);
	if (tb[IFLA_LINKINFO]) {
		struct rtattr *rta = RTA_DATA(tb[IFLA_LINKINFO]);
		int len = (int)RTA_PAYLOAD(tb[IFLA_LINKINFO]);

		memset(info, 0, sizeof(info));
		for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
			if (rta->rta_type <= IFLA_INFO_MAX)
				info[rta->rta_type] = rta;
		if (info[IFLA_INFO_KIND])
			attr_string(info[IFLA_INFO_KIND], f->kind, sizeof(f->kind));
	}
	return 0;
}

static int genl_family_id(const char *name, uint16_t *id)
{
	struct nl_request req = { .nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN),
				  .nh.nlmsg_type = GENL_ID_CTRL,
				  .genl.cmd = CTRL_CMD_GETFAMILY,
				  .genl.version = 1 };
	struct rtattr *tb[CTRL_ATTR_MAX + 1];
	static char buf[NL_BUF];
	int rc;

	put_attr(&req.nh, CTRL_ATTR_FAMILY_NAME, name, strlen(name) + 1);
	rc = nl_ask(NETLINK_GENERIC, &req.nh, buf, sizeof(buf));
	if (rc)
		return rc;
	parse_attrs((struct nlmsghdr *)buf, GENL_HDRLEN, tb, CTRL_ATTR_MAX);
	if (!tb[CTRL_ATTR_FAMILY_ID] || RTA_PAYLOAD(tb[CTRL_ATTR_FAMILY_ID]) < 2)
		return -ENOENT;
	memcpy(id, RTA_DATA(tb[CTRL_ATTR_FAMILY_ID]), 2);
	return 0;
}

/* The device's XDP features (enum netdev_xdp_act) as the kernel states them. */
static int xdp_features(uint32_t ifindex, uint64_t *features)
{
	struct nl_request req = { .nh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN),
				  .genl.cmd = NETDEV_CMD_DEV_GET,
				  .genl.version = 1 };
	struct rtattr *tb[NETDEV_A_DEV_XDP_FEATURES + 1];
	static char buf[NL_BUF];
	uint16_t family;
	int rc;

	rc = genl_family_id(NETDEV_FAMILY, &family);
	if (rc)
		return rc;
	req.nh.nlmsg_type = family;
	put_attr(&req.nh, NETDEV_A_DEV_IFINDEX, &ifindex, sizeof(ifindex));
	rc = nl_ask(NETLINK_GENERIC, &req.nh, buf, sizeof(buf));
	if (rc)
		return rc;
	parse_attrs((struct nlmsghdr *)buf, GENL_HDRLEN, tb, NETDEV_A_DEV_XDP_FEATURES);
	if (!tb[NETDEV_A_DEV_XDP_FEATURES] || RTA_PAYLOAD(tb[NETDEV_A_DEV_XDP_FEATURES]) < 8)
		return -ENODATA;
	memcpy(features, RTA_DATA(tb[NETDEV_A_DEV_XDP_FEATURES]), 8);
	return 0;
}

/* The id our namespace gives the namespace ns_fd refers to (RTM_GETNSID), or -errno. */
static int netns_id_of(int ns_fd)
{
	struct nl_request req = { .nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg)),
				  .nh.nlmsg_type = RTM_GETNSID,
				  .gen.rtgen_family = AF_UNSPEC };
	struct rtattr *tb[NETNSA_MAX + 1];
	static char buf[4096];
	uint32_t fd = (uint32_t)ns_fd;
	int32_t nsid;
	int rc;

	put_attr(&req.nh, NETNSA_FD, &fd, sizeof(fd));
	rc = nl_ask(NETLINK_ROUTE, &req.nh, buf, sizeof(buf));
	if (rc)
		return rc;
	parse_attrs((struct nlmsghdr *)buf, sizeof(struct rtgenmsg), tb, NETNSA_MAX);
	if (!tb[NETNSA_NSID] || RTA_PAYLOAD(tb[NETNSA_NSID]) < 4)
		return -ENODATA;
	memcpy(&nsid, RTA_DATA(tb[NETNSA_NSID]), 4);
	return nsid < 0 ? -ENOENT : nsid;
}

/* Copy src into out, cut to len - 1 bytes (names here are short). */
static void copy_name(char *out, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(out, src, n);
	out[n] = '\0';
}

static bool path_has_nsid(const char *path, int nsid)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool match;

	if (fd < 0)
		return false;
	match = netns_id_of(fd) == nsid;
	close(fd);
	return match;
}

/*
 * A name for the namespace our namespace calls nsid: its name under
 * /run/netns (ip netns), else /proc/PID/ns/net of a process in it
 * (containers). Each namespace is asked once, however many processes share it.
 */
static bool netns_name(int nsid, char *out, size_t len)
{
	ino_t seen[256];
	unsigned int nseen = 0;
	char path[300];
	struct dirent *d;
	bool found = false;
	DIR *dir;

	if ((dir = opendir("/run/netns"))) {
		while (!found && (d = readdir(dir))) {
			if (d->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/run/netns/%s", d->d_name);
			if ((found = path_has_nsid(path, nsid)))
				copy_name(out, len, d->d_name);
		}
		closedir(dir);
	}
	if (found || !(dir = opendir("/proc")))
		return found;
	while (!found && (d = readdir(dir))) {
		struct stat st;
		unsigned int i;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", d->d_name);
		if (stat(path, &st))
			continue;
		for (i = 0; i < nseen && seen[i] != st.st_ino; i++)
			;
		if (i < nseen)
			continue;
		if (nseen < sizeof(seen) / sizeof(seen[0]))
			seen[nseen++] = st.st_ino;
		if ((found = path_has_nsid(path, nsid)))
			copy_name(out, len, path);
	}
	closedir(dir);
	return found;
}

/*
 * Names found for peers, kept NAME_TTL_S: a peer without NAPI is checked
 * again every few seconds, and finding a container's namespace walks /proc.
 */
#define NAME_CACHE 8
#define NAME_TTL_S 30

static struct {
	uint32_t peer_ifindex;
	int peer_nsid;
	time_t found_at; /* 0: empty */
	char peer_name[IF_NAMESIZE];
	char peer_netns[64];
	bool peer_netns_found;
} name_cache[NAME_CACHE];

/* Name the veth peer of a device XDP may not transmit to, for the message. */
static void name_peer(struct xt_egress *e)
{
	unsigned int slot = (e->peer_ifindex * 31u + (unsigned int)e->peer_nsid) % NAME_CACHE;
	struct link_facts peer;
	struct timespec ts;
	time_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec + 1; /* never 0, the empty mark */

	if (name_cache[slot].found_at && now - name_cache[slot].found_at < NAME_TTL_S &&
	    name_cache[slot].peer_ifindex == e->peer_ifindex &&
	    name_cache[slot].peer_nsid == e->peer_nsid) {
		memcpy(e->peer_name, name_cache[slot].peer_name, sizeof(e->peer_name));
		memcpy(e->peer_netns, name_cache[slot].peer_netns, sizeof(e->peer_netns));
		e->peer_netns_found = name_cache[slot].peer_netns_found;
		return;
	}
	if (e->peer_nsid >= 0)
		e->peer_netns_found =
			netns_name(e->peer_nsid, e->peer_netns, sizeof(e->peer_netns));
	if (!link_get(e->peer_ifindex, e->peer_nsid, &peer))
		copy_name(e->peer_name, sizeof(e->peer_name), peer.name);
	name_cache[slot].peer_ifindex = e->peer_ifindex;
	name_cache[slot].peer_nsid = e->peer_nsid;
	name_cache[slot].found_at = now;
	memcpy(name_cache[slot].peer_name, e->peer_name, sizeof(e->peer_name));
	memcpy(name_cache[slot].peer_netns, e->peer_netns, sizeof(e->peer_netns));
	name_cache[slot].peer_netns_found = e->peer_netns_found;
}

int xt_egress_check(uint32_t ifindex, struct xt_egress *e)
{
	struct link_facts dev;
	uint64_t features;
	int rc;

	memset(e, 0, sizeof(*e));
	e->capable = true;
	e->peer_nsid = -1;
	rc = link_get(ifindex, -1, &dev);
	if (rc)
		return rc;
	if (strcmp(dev.kind, "veth"))
		return 0;
	e->veth = true;
	e->peer_ifindex = dev.link;
	e->peer_nsid = dev.link_nsid;
	/* an older kernel without the netdev family: cannot check, keep the device */
	if (xdp_features(ifindex, &features))
		return 0;
	e->known = true;
	e->peer_napi = features & NETDEV_XDP_ACT_NDO_XMIT;
	e->capable = e->peer_napi;
	if (!e->capable)
		name_peer(e);
	return 0;
}

/* "eth0" or "ifindex 7" */
static void peer_label(const struct xt_egress *e, char *buf, size_t len)
{
	if (e->peer_name[0])
		snprintf(buf, len, "%s", e->peer_name);
	else
		snprintf(buf, len, "ifindex %u", e->peer_ifindex);
}

void xt_egress_reason(const struct xt_egress *e, char *buf, size_t len)
{
	char peer[32];

	peer_label(e, peer, sizeof(peer));
	if (e->capable)
		snprintf(buf, len, "%s", "yes");
	else
		snprintf(buf, len, "no: veth peer %s has no NAPI (GRO off, no XDP program)", peer);
}

/* How to run a command in the peer's namespace, as a prefix ("" in ours). */
static void netns_prefix(const struct xt_egress *e, char *buf, size_t len)
{
	if (e->peer_nsid < 0)
		buf[0] = '\0';
	else if (!e->peer_netns_found)
		snprintf(buf, len, "%s", "(in the peer's network namespace) ");
	else if (e->peer_netns[0] == '/')
		snprintf(buf, len, "nsenter --net=%s ", e->peer_netns);
	else
		snprintf(buf, len, "ip netns exec %s ", e->peer_netns);
}

void xt_egress_warning(const char *ifname, const struct xt_egress *e, const char *consequence,
		       char *buf, size_t len)
{
	char peer[32], where[128], prefix[128];

	peer_label(e, peer, sizeof(peer));
	if (e->peer_nsid < 0)
		where[0] = '\0';
	else if (e->peer_netns_found)
		snprintf(where, sizeof(where), " (netns %s)", e->peer_netns);
	else
		snprintf(where, sizeof(where),
			 " (in the network namespace with id %d, not found under /run/netns or "
			 "/proc)",
			 e->peer_nsid);
	netns_prefix(e, prefix, sizeof(prefix));
	snprintf(buf, len,
		 "interface %s: its veth peer %s%s has no XDP program and GRO off, so frames XDP "
		 "sends to it would be dropped; %s. Fix: %sethtool -K %s gro on (or attach an XDP "
		 "program there)",
		 ifname, peer, where, consequence, prefix, e->peer_name[0] ? e->peer_name : "DEV");
}
