/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The transmit watcher (bpf/xmit_watch.bpf.c): tracing programs that count,
 * per attached interface, the frames the kernel failed to transmit after the
 * relay said XDP_TX or redirect. Its links and its map xt_ifaces are pinned
 * under the pin directory like the relay's maps, so the counters outlive
 * xtrunkd and go with the last detach.
 */
#ifndef XTRUNK_XMIT_WATCH_H
#define XTRUNK_XMIT_WATCH_H

#include <stddef.h>
#include <stdint.h>

#include "xtrunk_abi.h"

/*
 * Load and attach the watcher under pin_dir unless it is there already (its
 * links pinned). -ESTALE: an xt_ifaces of another layout is pinned there.
 * On failure err explains it.
 */
int xt_xmit_watch_ensure(const char *pin_dir, char *err, size_t errlen);

/* Removes the watcher's pins (its links, xt_ifaces) under pin_dir, nothing else. */
void xt_xmit_watch_unpin(const char *pin_dir);

/* xmit_drops: the three counters added up, what a reader usually wants. */
static inline uint64_t xt_iface_xmit_errors(const struct xt_iface_xmit *x)
{
	return x->redirect_drops + x->tx_drops + x->redirect_errors;
}

#endif
