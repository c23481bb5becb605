// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "xtrunk_abi.h"
#include "xtrunk.skel.h"
#include "loader.h"
#include "log.h"
#include "relay_maps.h"
#include "xmit_watch.h"

const char *xt_attach_mode_name(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "skb";
	case XDP_MODE_HW:
		return "hw";
	default:
		return "unspec";
	}
}

int xt_bpffs_check(const char *path)
{
	struct statfs st;

	if (statfs(path, &st))
		return -errno;
	return st.f_type == BPF_FS_MAGIC ? 0 : -ENOTSUP;
}

static int ensure_pin_dir(const char *pin_dir, char *err, size_t errlen)
{
	char parent[PATH_MAX];
	char *slash;
	int rc;

	snprintf(parent, sizeof(parent), "%s", pin_dir);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = '\0';
	rc = xt_bpffs_check(parent);
	if (rc) {
		snprintf(err, errlen,
			 "%s is not a BPF filesystem (mount it: mount -t bpf bpf /sys/fs/bpf)",
			 parent);
		return rc;
	}
	if (mkdir(pin_dir, 0700) && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", pin_dir, strerror(errno));
		return rc;
	}
	return 0;
}

/* The relay program attached to ifindex, if any (caller closes mp). */
static struct xdp_program *find_relay_prog(int ifindex, struct xdp_multiprog **mp_out)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *prog = NULL;

	*mp_out = NULL;
	if (libxdp_get_error(mp) || !mp)
		return NULL;
	if (xdp_multiprog__is_legacy(mp)) {
		prog = xdp_multiprog__main_prog(mp);
		if (prog && strcmp(xdp_program__name(prog), XT_PROG_NAME))
			prog = NULL;
	} else {
		while ((prog = xdp_multiprog__next_prog(prog, mp)))
			if (!strcmp(xdp_program__name(prog), XT_PROG_NAME))
				break;
	}
	*mp_out = mp;
	return prog;
}

/*
 * A pinned map must have the layout this build's program and tools expect:
 * one pinned by another version of xtrunk (an entry grew or shrank) would be
 * adopted as it is, and read and written with the wrong offsets.
 */
static int pin_matches(const struct bpf_map *map, int fd, const char *path, char *err,
		       size_t errlen)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (info.type == bpf_map__type(map) && info.key_size == bpf_map__key_size(map) &&
	    info.value_size == bpf_map__value_size(map)) {
		/* a table indexed by a build's constants, e.g. xt_stats by enum xt_stat */
		if (info.max_entries == bpf_map__max_entries(map))
			return 0;
		snprintf(err, errlen,
			 "%s was pinned by another version of xtrunk (%u entries; this one has "
			 "%u): detach that version from every interface (its pins go with the "
			 "last), then attach this one",
			 path, info.max_entries, bpf_map__max_entries(map));
		return -ESTALE;
	}
	snprintf(err, errlen,
		 "%s was pinned by another version of xtrunk (type %u, key %u, value %u bytes; "
		 "this one has type %u, key %u, value %u): detach that version from every "
		 "interface (its pins go with the last), then attach this one",
		 path, info.type, info.key_size, info.value_size, bpf_map__type(map),
		 bpf_map__key_size(map), bpf_map__value_size(map));
	return -ESTALE;
}

/*
 * Reuse every map already pinned under pin_dir, pin the others on load. The
 * pinned fds are handed to libbpf directly because its own reuse check
 * compares map flags, and the kernel adds BPF_F_RDONLY_PROG to every devmap.
 */
static int set_pins(struct xtrunk_bpf *skel, const char *pin_dir, uint32_t nslots, char *err,
		    size_t errlen)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/xt_flows", pin_dir);
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		if (!bpf_obj_get_info_by_fd(fd, &info, &len))
			nslots = info.max_entries / XT_PORTS_PER_SLOT;
		close(fd);
	}
	if (nslots == 0 || nslots > XT_MAX_SLOTS)
		return -EINVAL;
	bpf_map__set_max_entries(skel->maps.xt_flows, nslots * XT_PORTS_PER_SLOT);
	bpf_map__set_max_entries(skel->maps.xt_rtp_stats, nslots * XT_PORTS_PER_SLOT);
	bpf_map__set_max_entries(skel->maps.xt_flows_slow, nslots * XT_PORTS_PER_SLOT);

	bpf_object__for_each_map(map, skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, bpf_map__name(map));
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			rc = pin_matches(map, fd, path, err, errlen);
			if (!rc)
				rc = bpf_map__reuse_fd(map, fd);
			close(fd);
			if (rc == -ESTALE)
				return rc;
		} else {
			rc = bpf_map__set_pin_path(map, path);
		}
		if (rc)
			return rc;
	}
	/* the relay's maps without the interface list: a build before it pinned them */
	snprintf(path, sizeof(path), "%s/xt_flows", pin_dir);
	if (!access(path, F_OK)) {
		snprintf(path, sizeof(path), "%s/xt_ifaces", pin_dir);
		if (access(path, F_OK)) {
			snprintf(
				err, errlen,
				"%s/xt_flows was pinned by another version of xtrunk (it has no "
				"xt_ifaces): detach that version from every interface (its pins go "
				"with the last), then attach this one",
				pin_dir);
			return -ESTALE;
		}
	}
	return 0;
}

/*
 * Remove what xtrunk pinned under pin_dir (the relay's maps, the transmit
 * watcher's links and map), then the directory if nothing else is in it: a
 * pin someone else put there is theirs.
 */
static void remove_pins(const char *pin_dir)
{
	struct xtrunk_bpf *skel = xtrunk_bpf__open();
	char path[PATH_MAX];
	struct bpf_map *map;

	if (skel) {
		bpf_object__for_each_map(map, skel->obj) {
			if (bpf_map__is_internal(map))
				continue;
			snprintf(path, sizeof(path), "%s/%s", pin_dir, bpf_map__name(map));
			unlink(path);
		}
		xtrunk_bpf__destroy(skel);
	}
	xt_xmit_watch_unpin(pin_dir);
	if (rmdir(pin_dir) && errno == ENOTEMPTY)
		pr_info("%s kept: it holds pins xtrunk did not make\n", pin_dir);
}

/* No interface listed in xt_ifaces (a first attach that failed, the last detach): remove the pins. */
static void remove_pins_if_unused(const char *pin_dir)
{
	char path[PATH_MAX];
	__u32 next;
	int fd;

	snprintf(path, sizeof(path), "%s/xt_ifaces", pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	if (bpf_map_get_next_key(fd, NULL, &next) && errno == ENOENT)
		remove_pins(pin_dir);
	close(fd);
}

int xt_iface_egress_sync(int tx_ports_fd, uint32_t ifindex, enum xdp_attach_mode mode,
			 struct xt_egress *e)
{
	__u32 key = ifindex, value;
	bool listed = !bpf_map_lookup_elem(tx_ports_fd, &key, &value);
	int rc;

	memset(e, 0, sizeof(*e));
	e->capable = true;
	e->peer_nsid = -1;
	if (mode == XDP_MODE_NATIVE) {
		rc = xt_egress_check(ifindex, e);
		if (rc)
			return rc;
	}
	if (e->capable == listed)
		return 0;
	if (e->capable ? bpf_map_update_elem(tx_ports_fd, &key, &key, BPF_ANY) :
			 bpf_map_delete_elem(tx_ports_fd, &key))
		return -errno;
	return 1;
}

/*
 * List ifindex in xt_ifaces (keeping its counters if it is there) and in the
 * redirect map when XDP may transmit to it.
 */
static int register_iface(const char *ifname, int ifindex, enum xdp_attach_mode mode,
			  const char *pin_dir, struct xt_egress *egress, char *err, size_t errlen)
{
	struct xt_iface_xmit zero = {};
	struct xt_maps maps;
	__u32 key = (__u32)ifindex;
	int rc;

	rc = xt_maps_open_pinned(&maps, pin_dir);
	if (rc) {
		snprintf(err, errlen, "maps not pinned under %s: %s", pin_dir,
			 xt_maps_strerror(rc));
		return rc;
	}
	if (bpf_map_update_elem(maps.ifaces_fd, &key, &zero, BPF_NOEXIST) && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "interface %s: cannot add to xt_ifaces: %s", ifname,
			 strerror(errno));
		goto out;
	}
	rc = xt_iface_egress_sync(maps.tx_ports_fd, key, mode, egress);
	/* a check that could not be made keeps the device, as before there was one */
	if (rc < 0 && bpf_map_update_elem(maps.tx_ports_fd, &key, &key, BPF_ANY)) {
		rc = -errno;
		snprintf(err, errlen, "interface %s: cannot add to the redirect map: %s", ifname,
			 strerror(errno));
		bpf_map_delete_elem(maps.ifaces_fd, &key);
		goto out;
	}
	if (rc < 0) {
		memset(egress, 0, sizeof(*egress));
		egress->capable = true;
		egress->peer_nsid = -1;
	}
	rc = 0;
out:
	xt_maps_close(&maps);
	return rc;
}

int xt_iface_attach(const char *ifname, enum xdp_attach_mode mode, const char *pin_dir,
		    uint32_t nslots, struct xt_egress *egress, char *err, size_t errlen)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, opts, .prog_name = XT_PROG_NAME);
	struct xdp_program *prog = NULL;
	struct xdp_multiprog *mp = NULL;
	struct xtrunk_bpf *skel = NULL;
	struct xt_egress ignored;
	int ifindex, rc;

	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		snprintf(err, errlen, "interface %s: no such device", ifname);
		return -ENODEV;
	}
	if (find_relay_prog(ifindex, &mp)) {
		xdp_multiprog__close(mp);
		snprintf(err, errlen, "interface %s: xtrunk is already attached", ifname);
		return -EEXIST;
	}
	xdp_multiprog__close(mp);

	rc = ensure_pin_dir(pin_dir, err, errlen);
	if (rc)
		return rc;

	skel = xtrunk_bpf__open();
	if (!skel) {
		rc = -errno;
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(-rc));
		return rc;
	}
	rc = set_pins(skel, pin_dir, nslots, err, errlen);
	if (rc) {
		if (rc != -ESTALE)
			snprintf(err, errlen, "cannot use the maps under %s: %s", pin_dir,
				 strerror(-rc));
		goto out;
	}
	rc = xt_xmit_watch_ensure(pin_dir, err, errlen);
	if (rc)
		goto out;
	opts.obj = skel->obj;
	prog = xdp_program__create(&opts);
	rc = (int)libxdp_get_error(prog);
	if (rc) {
		prog = NULL;
		snprintf(err, errlen, "cannot create the XDP program: %s", strerror(-rc));
		goto out;
	}
	rc = xdp_program__attach(prog, ifindex, mode, 0);
	if (rc) {
		char buf[256];

		libxdp_strerror(rc, buf, sizeof(buf));
		snprintf(err, errlen, "interface %s: attach failed: %s%s", ifname, buf,
			 mode == XDP_MODE_NATIVE && rc == -EOPNOTSUPP ?
				 " (XDP native mode unavailable, retry with mode skb)" :
				 "");
		goto out;
	}
	rc = register_iface(ifname, ifindex, mode, pin_dir, egress ? egress : &ignored, err,
			    errlen);
	if (rc)
		xdp_program__detach(prog, ifindex, mode, 0);
out:
	if (rc && rc != -ESTALE)
		remove_pins_if_unused(pin_dir);
	xdp_program__close(prog);
	xtrunk_bpf__destroy(skel);
	return rc;
}

int xt_iface_detach(const char *ifname, const char *pin_dir, char *err, size_t errlen)
{
	struct xdp_multiprog *mp = NULL;
	struct xdp_program *prog;
	struct xt_maps maps;
	int ifindex, rc;
	__u32 key;

	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		snprintf(err, errlen, "interface %s: no such device", ifname);
		return -ENODEV;
	}
	prog = find_relay_prog(ifindex, &mp);
	if (!prog) {
		xdp_multiprog__close(mp);
		snprintf(err, errlen, "interface %s: xtrunk is not attached", ifname);
		return -ENOENT;
	}
	rc = xdp_program__detach(prog, ifindex, xdp_multiprog__attach_mode(mp), 0);
	xdp_multiprog__close(mp);
	if (rc) {
		char buf[256];

		libxdp_strerror(rc, buf, sizeof(buf));
		snprintf(err, errlen, "interface %s: detach failed: %s", ifname, buf);
		return rc;
	}

	if (xt_maps_open_pinned(&maps, pin_dir))
		return 0;
	key = (__u32)ifindex;
	bpf_map_delete_elem(maps.tx_ports_fd, &key);
	bpf_map_delete_elem(maps.ifaces_fd, &key);
	xt_maps_close(&maps);
	/* The last interface gone: nothing can use the flows any more. */
	remove_pins_if_unused(pin_dir);
	return 0;
}

int xt_iface_list(const char *pin_dir, struct xt_iface_info *out, unsigned int max)
{
	struct xt_maps maps;
	__u32 key, next, *prev = NULL;
	unsigned int n = 0;
	int rc;

	rc = xt_maps_open_pinned(&maps, pin_dir);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	while (n < max && !bpf_map_get_next_key(maps.ifaces_fd, prev, &next)) {
		struct xt_iface_info *info = &out[n++];
		struct xdp_multiprog *mp = NULL;
		struct xdp_program *prog;
		__u32 port;

		memset(info, 0, sizeof(*info));
		info->ifindex = next;
		bpf_map_lookup_elem(maps.ifaces_fd, &next, &info->xmit);
		info->xdp_egress = !bpf_map_lookup_elem(maps.tx_ports_fd, &next, &port);
		if (!if_indextoname(next, info->name))
			snprintf(info->name, sizeof(info->name), "?");
		prog = find_relay_prog((int)next, &mp);
		if (prog) {
			info->mode = xdp_multiprog__attach_mode(mp);
			info->prog_id = xdp_program__id(prog);
		}
		xdp_multiprog__close(mp);
		key = next;
		prev = &key;
	}
	xt_maps_close(&maps);
	return (int)n;
}
