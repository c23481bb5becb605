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

/* Methods counted apart; the rest counts as "other". */
enum xt_sip_method_index {
	XT_SIP_INVITE,
	XT_SIP_ACK,
	XT_SIP_BYE,
	XT_SIP_CANCEL,
	XT_SIP_OPTIONS,
	XT_SIP_UPDATE,
	XT_SIP_INFO,
	XT_SIP_OTHER,
	XT_SIP_METHODS
};

extern const char *const xt_sip_method_names[XT_SIP_METHODS];

#define XT_MOS_BUCKETS 7
#define XT_JITTER_BUCKETS 7
extern const double xt_mos_bounds[XT_MOS_BUCKETS]; /* upper bounds; +Inf implied */
extern const double xt_jitter_bounds_ms[XT_JITTER_BUCKETS];
extern const double xt_jitter_bounds_s[XT_JITTER_BUCKETS];

/* Call quality over ended calls' RTP streams (XDP-measured). */
struct xt_quality_stats {
	uint64_t streams, expected, lost;
	uint64_t mos_le[XT_MOS_BUCKETS];       /* count of streams with MOS <= bound */
	uint64_t jitter_le[XT_JITTER_BUCKETS]; /* ... with jitter <= bound */
	double mos_sum, jitter_sum_ms;
};

struct xt_b2bua_stats {
	uint64_t calls_started, calls_answered, calls_failed, calls_cancelled, calls_timeout;
	unsigned int calls_active;
	unsigned int channels_active[XT_SIDES]; /* calls in progress through each side */
	uint64_t calls_rejected_limit; /* 503: a side's channel limit reached */
	uint64_t calls_rejected_acl;   /* 403 or dropped: source outside the allowed networks */
	uint64_t sip_requests[XT_SIDES][XT_SIP_METHODS]; /* received, by side and method */
	uint64_t sip_responses[XT_SIDES][7];		 /* received, by side and class 1xx-6xx */
	struct xt_quality_stats quality;
};

/* Listen for SIP on both sides. Returns NULL with err set on failure. */
struct xt_b2bua *xt_b2bua_create(su_root_t *root, const struct xt_config *config,
				 struct xt_media_env *media, char *err, size_t errlen);
/* Hang up every call (BYE, CANCEL or 503), free their media, stop listening. */
void xt_b2bua_destroy(struct xt_b2bua *b2b);
/*
 * Once a second: end calls whose media has been silent for the configured
 * media timeout (counted from the answer), which also ends calls abandoned
 * before their ACK or BYE.
 */
void xt_b2bua_tick(struct xt_b2bua *b2b);
void xt_b2bua_get_stats(const struct xt_b2bua *b2b, struct xt_b2bua_stats *stats);

#endif
