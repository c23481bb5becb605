/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The SIP back-to-back user agent on sofia-sip's nta layer: one agent per
 * side (PBX, trunk). A call from one side becomes a new call on the other,
 * with its own Call-ID, tags, Via and Contact: neither side sees the other's
 * topology. Media goes through a media session.
 */
#ifndef XTRUNKD_SIP_B2BUA_H
#define XTRUNKD_SIP_B2BUA_H

#include <stdint.h>

#include <sofia-sip/su_wait.h>

#include "config.h"
#include "media_session.h"

struct xt_b2bua;

struct xt_b2bua_stats {
	uint64_t calls_started, calls_answered, calls_failed, calls_cancelled, calls_timeout;
	unsigned int calls_active;
};

/* Listen for SIP on both sides. Returns NULL with err set on failure. */
struct xt_b2bua *xt_b2bua_create(su_root_t *root, const struct xt_config *config,
				 struct xt_media_env *media, char *err, size_t errlen);
/* Hang up every call (BYE, CANCEL or 503), free their media, stop listening. */
void xt_b2bua_destroy(struct xt_b2bua *b2b);
/*
 * Once a second: end calls whose caller never ACKed the 2xx (64*T1) and
 * calls whose media has been silent for the configured media timeout.
 */
void xt_b2bua_tick(struct xt_b2bua *b2b);
void xt_b2bua_get_stats(const struct xt_b2bua *b2b, struct xt_b2bua_stats *stats);

#endif
