/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Attaching the relay to interfaces through libxdp, with its maps pinned. */
#ifndef XTRUNK_LOADER_H
#define XTRUNK_LOADER_H

#include <stdint.h>
#include <xdp/libxdp.h>

#include "xtrunk_abi.h"
#include "xdp_egress.h"

struct xt_iface_info {
	char name[16]; /* IF_NAMESIZE; "?" when not in this network namespace */
	uint32_t ifindex;
	enum xdp_attach_mode mode;
	uint32_t prog_id;
	bool xdp_egress;	   /* in xt_tx_ports: XDP may transmit frames to it */
	struct xt_iface_xmit xmit; /* what the kernel failed to transmit for it */
};

const char *xt_attach_mode_name(enum xdp_attach_mode mode);

/*
 * Attach xtrunk_relay to ifname, list it in xt_ifaces and, when XDP may
 * transmit to it (see xt_iface_egress_sync), in the redirect map. The maps
 * and the transmit watcher are created and pinned under pin_dir on first
 * attach (with nslots relay-address slots) and reused afterwards. egress
 * (may be NULL) receives the egress check, for the caller to warn. On
 * failure err explains it.
 */
int xt_iface_attach(const char *ifname, enum xdp_attach_mode mode, const char *pin_dir,
		    uint32_t nslots, struct xt_egress *egress, char *err, size_t errlen);
/*
 * Make xt_tx_ports say whether XDP may transmit to ifindex: in native mode
 * a veth whose peer has no NAPI is taken out (the relay then passes its
 * packets to the stack), and put back once the peer can take frames. In skb
 * mode a redirect transmits an skb, which needs no NAPI. Returns 1 when the
 * map changed, 0 when not, or -errno; e says what the check found.
 */
int xt_iface_egress_sync(int tx_ports_fd, uint32_t ifindex, enum xdp_attach_mode mode,
			 struct xt_egress *e);
/* Detach; after the last interface the pins (and every flow) are removed. */
int xt_iface_detach(const char *ifname, const char *pin_dir, char *err, size_t errlen);
/* Interfaces xtrunk is attached to (xt_ifaces); returns the count or -errno. */
int xt_iface_list(const char *pin_dir, struct xt_iface_info *out, unsigned int max);

/* 0 when path is on a BPF filesystem, else -errno (-ENOTSUP when not bpffs). */
int xt_bpffs_check(const char *path);

#endif
