/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Attaching the relay to interfaces through libxdp, with its maps pinned. */
#ifndef XTRUNK_LOADER_H
#define XTRUNK_LOADER_H

#include <stdint.h>
#include <xdp/libxdp.h>

struct xt_iface_info {
	char name[16]; /* IF_NAMESIZE; "?" when not in this network namespace */
	uint32_t ifindex;
	enum xdp_attach_mode mode;
	uint32_t prog_id;
};

const char *xt_attach_mode_name(enum xdp_attach_mode mode);

/*
 * Attach xtrunk_relay to ifname and add the interface to the redirect map.
 * The maps are created and pinned under pin_dir on first attach (with nslots
 * relay-address slots) and reused afterwards. On failure err explains it.
 */
int xt_iface_attach(const char *ifname, enum xdp_attach_mode mode, const char *pin_dir,
		    uint32_t nslots, char *err, size_t errlen);
/* Detach; after the last interface the pins (and every flow) are removed. */
int xt_iface_detach(const char *ifname, const char *pin_dir, char *err, size_t errlen);
/* Interfaces in the redirect map; returns the count or -errno. */
int xt_iface_list(const char *pin_dir, struct xt_iface_info *out, unsigned int max);

/* 0 when path is on a BPF filesystem, else -errno (-ENOTSUP when not bpffs). */
int xt_bpffs_check(const char *path);

#endif
