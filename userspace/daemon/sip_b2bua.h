/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The SIP back-to-back user agent on sofia-sip's nta layer: one agent per
 * endpoint (each PBX, each trunk). A call from one endpoint becomes a new
 * call to another, with its own Call-ID, tags, Via and Contact: neither sees
 * the other's topology. Media goes through a media session.
 */
#ifndef XTRUNKD_SIP_B2BUA_H
#define XTRUNKD_SIP_B2BUA_H

#include <stdint.h>

#include <sofia-sip/su_wait.h>

#include "admission.h"
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
	uint64_t calls_busy; /* 486 Busy Here, 600 Busy Everywhere (not in calls_failed) */
	unsigned int calls_active;
	/* everything by endpoint is indexed as config->endpoint[] */
	unsigned int channels_active[XT_ENDPOINTS_MAX]; /* calls in progress through each */
	unsigned int setup_active[XT_ENDPOINTS_MAX];	/* calls from each not answered yet */
	uint64_t calls_rejected_setup; /* 503: setup_calls or setup_calls_per_source reached */
	uint64_t calls_rejected_limit; /* 503: an endpoint's channel limit reached */
	uint64_t calls_rejected_acl;   /* 403 or dropped: source outside allow */
	uint64_t sip_requests[XT_ENDPOINTS_MAX][XT_SIP_METHODS]; /* received, by method */
	uint64_t sip_responses[XT_ENDPOINTS_MAX][7];		 /* ... by class 1xx-6xx */
	uint64_t sip_response_codes[XT_ENDPOINTS_MAX][600]; /* ... by code (index: code - 100) */
	/* messages the SIP stack could not parse: 400 when it can answer, else dropped */
	uint64_t sip_malformed[XT_ENDPOINTS_MAX];
	struct xt_quality_stats quality;
	/* SIP requests refused, by endpoint and reason */
	struct xt_admission_stats admission;
	uint64_t calls_terminated; /* hung up through the control socket */
};

/* Listen for SIP from every endpoint. Returns NULL with err set on failure. */
struct xt_b2bua *xt_b2bua_create(su_root_t *root, const struct xt_config *config,
				 struct xt_media_env *media, char *err, size_t errlen);
/* Hang up every call (BYE, CANCEL or 503), free their media, stop listening. */
void xt_b2bua_destroy(struct xt_b2bua *b2b);
/*
 * Once a second: end calls whose media has been silent for the configured
 * media timeout (counted from the answer), calls ringing past ring_timeout
 * (CANCEL, 408), 2xx never ACKed (BYE both legs after 64*T1) and CANCELs
 * never answered (forgotten after 64*T1). now_ns: CLOCK_MONOTONIC (clock.h),
 * given so that the fuzzer can let hours pass in a moment.
 */
void xt_b2bua_tick(struct xt_b2bua *b2b, uint64_t now_ns);
void xt_b2bua_get_stats(const struct xt_b2bua *b2b, struct xt_b2bua_stats *stats);

/* ---- control interface (the control socket: xtrunkctl call ...) ---- */

struct xt_call_leg_info {
	const char *side;  /* the name of the endpoint the leg faces */
	const char *peer;  /* the endpoint's SIP peer, host:port */
	bool caller;	   /* this leg placed the call */
	char call_id[256]; /* the leg's own dialog: Call-ID and tags; "" unknown yet */
	char local_tag[128];
	char remote_tag[128];
};

struct xt_call_info {
	const char *id;
	const char *state;		  /* inviting, early, confirmed, ending */
	uint64_t started_ns, answered_ns; /* CLOCK_MONOTONIC; answered_ns 0: not answered */
	struct xt_call_leg_info legs[XT_LEGS];
	struct xt_media_session *media; /* NULL once the media is let go */
};

typedef void (*xt_call_visit_fn)(const struct xt_call_info *info, void *arg);

/* Visit every call (oldest first), or the one named id. Returns how many were visited. */
unsigned int xt_b2bua_foreach_call(struct xt_b2bua *b2b, const char *id, xt_call_visit_fn visit,
				   void *arg);

/* The most calls xt_b2bua_foreach_call_after visits at once. */
#define XT_B2BUA_CALL_BATCH 64

/*
 * A list read a batch at a time, between which calls come and go: visit the
 * oldest XT_B2BUA_CALL_BATCH calls of those started after call number `after`
 * (0: from the first), oldest first; *last is the number of the last one
 * visited. A call started since the list began is in it, one gone before its
 * batch is not. Returns how many were visited: fewer than a batch, the end.
 * Costs a walk over the calls newer than `after`.
 */
unsigned int xt_b2bua_foreach_call_after(struct xt_b2bua *b2b, uint64_t after,
					 xt_call_visit_fn visit, void *arg, uint64_t *last);

/*
 * Hang up a call: BYE to both legs when answered; else 503 to the caller and
 * CANCEL to the callee. Counted in calls_terminated. -ENOENT: no such call;
 * -EALREADY: it is ending already.
 */
int xt_b2bua_terminate(struct xt_b2bua *b2b, const char *id);
/* The SIP peer (host:port) of an endpoint. */
const char *xt_b2bua_peer(const struct xt_b2bua *b2b, int endpoint);

#endif
