// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xmit_watch.skel.h"
#include "xmit_watch.h"

/* Pin names of the links, in the order of progs() below. */
static const char *const link_names[XT_XMIT_WATCH_LINKS] = {
	"xt_watch_devmap_xmit",
	"xt_watch_bulk_tx",
	"xt_watch_redirect_err",
};

static void progs(struct xmit_watch_bpf *skel, struct bpf_program **out)
{
	out[0] = skel->progs.xt_watch_devmap_xmit;
	out[1] = skel->progs.xt_watch_bulk_tx;
	out[2] = skel->progs.xt_watch_redirect_err;
}

static bool pinned(const char *pin_dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", pin_dir, name);
	return access(path, F_OK) == 0;
}

/* Reuse a pinned xt_ifaces of this layout, refuse one of another, or pin a new one. */
static int set_map_pin(struct bpf_map *map, const char *pin_dir, char *err, size_t errlen)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd, rc;

	snprintf(path, sizeof(path), "%s/xt_ifaces", pin_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return bpf_map__set_pin_path(map, path);
	rc = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	if (!rc && (info.key_size != bpf_map__key_size(map) ||
		    info.value_size != bpf_map__value_size(map))) {
		snprintf(err, errlen,
			 "%s was pinned by another version of xtrunk (key %u, value %u bytes; this "
			 "one has key %u, value %u): detach that version from every interface "
			 "(its pins go with the last), then attach this one",
			 path, info.key_size, info.value_size, bpf_map__key_size(map),
			 bpf_map__value_size(map));
		rc = -ESTALE;
	}
	if (!rc)
		rc = bpf_map__reuse_fd(map, fd);
	close(fd);
	return rc;
}

static int attach_and_pin(struct xmit_watch_bpf *skel, const char *pin_dir, char *err,
			  size_t errlen)
{
	struct bpf_program *prog[XT_XMIT_WATCH_LINKS];
	char path[PATH_MAX];

	progs(skel, prog);
	for (int i = 0; i < XT_XMIT_WATCH_LINKS; i++) {
		struct bpf_link *link;
		int rc;

		if (pinned(pin_dir, link_names[i]))
			continue;
		link = bpf_program__attach(prog[i]);
		rc = (int)libbpf_get_error(link);
		if (rc) {
			snprintf(err, errlen, "cannot attach %s: %s", link_names[i], strerror(-rc));
			return rc;
		}
		snprintf(path, sizeof(path), "%s/%s", pin_dir, link_names[i]);
		rc = bpf_link__pin(link, path);
		bpf_link__destroy(link); /* the pin keeps it attached */
		if (rc) {
			snprintf(err, errlen, "cannot pin %s: %s", path, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int xt_xmit_watch_ensure(const char *pin_dir, char *err, size_t errlen)
{
	struct xmit_watch_bpf *skel;
	struct stat ns;
	int i, rc;

	for (i = 0; i < XT_XMIT_WATCH_LINKS && pinned(pin_dir, link_names[i]); i++)
		;
	if (i == XT_XMIT_WATCH_LINKS && pinned(pin_dir, "xt_ifaces"))
		return 0;
	if (stat("/proc/self/ns/net", &ns)) {
		rc = -errno;
		snprintf(err, errlen, "cannot read this network namespace: %s", strerror(errno));
		return rc;
	}
	skel = xmit_watch_bpf__open();
	if (!skel) {
		rc = -errno;
		snprintf(err, errlen, "cannot open the transmit watcher: %s", strerror(-rc));
		return rc;
	}
	skel->rodata->xt_netns_ino = (__u32)ns.st_ino;
	rc = set_map_pin(skel->maps.xt_ifaces, pin_dir, err, errlen);
	if (rc) {
		if (rc != -ESTALE)
			snprintf(err, errlen, "cannot use %s/xt_ifaces: %s", pin_dir,
				 strerror(-rc));
		goto out;
	}
	rc = xmit_watch_bpf__load(skel);
	if (rc) {
		snprintf(err, errlen, "cannot load the transmit watcher (xdp tracepoints): %s",
			 strerror(-rc));
		goto out;
	}
	rc = attach_and_pin(skel, pin_dir, err, errlen);
out:
	xmit_watch_bpf__destroy(skel);
	return rc;
}

void xt_xmit_watch_unpin(const char *pin_dir)
{
	char path[PATH_MAX];

	for (unsigned int i = 0; i < XT_XMIT_WATCH_LINKS; i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, link_names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/xt_ifaces", pin_dir);
	unlink(path);
}
