/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Admission control, per endpoint: which source addresses may send SIP (allow,
 * deny = reject|drop), how fast requests outside a dialog may come (token
 * buckets: one per source address other than the peer, sip_rate; one for all
 * of those together, sip_rate_global; one for the peer, sip_rate_peer), and
 * how many calls a side's trunk carries at once (channels). The SIP B2BUA
 * asks before it does any work on a request; this file keeps the verdicts
 * and their counters.
 */
#ifndef XTRUNKD_ADMISSION_H
#define XTRUNKD_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

/* Sources tracked for the rate limit of each endpoint; the least recently seen goes first. */
#define XT_RATE_SOURCES 4096

enum xt_admission_verdict {
	XT_ADMIT,	 /* go on */
	XT_ADMIT_REJECT, /* answer 403 Forbidden */
	XT_ADMIT_DROP,	 /* no answer, no state */
};

/* Why a request was refused. */
enum xt_refusal {
	XT_REFUSED_ACL,		  /* source outside the endpoint's allowed networks */
	XT_REFUSED_RATE,	  /* source over its sip_rate */
	XT_REFUSED_RATE_GLOBAL,	  /* sources other than the peer over sip_rate_global */
	XT_REFUSED_RATE_PEER,	  /* the peer over sip_rate_peer */
	XT_REFUSED_CHANNEL_LIMIT, /* INVITE while an endpoint's channels are all in use */
	XT_REFUSED_SETUP_LIMIT,	  /* INVITE while setup_calls calls from the endpoint ring */
	XT_REFUSED_SETUP_SOURCE,  /* ... while setup_calls_per_source from its source ring */
	XT_REFUSALS
};

extern const char *const xt_refusal_names[XT_REFUSALS];

struct xt_admission_stats {
	/* requests not answered, by endpoint and reason */
	uint64_t dropped[XT_ENDPOINTS_MAX][XT_REFUSALS];
	uint64_t rejected[XT_ENDPOINTS_MAX][XT_REFUSALS]; /* requests answered 403 or 503 */
	unsigned int rate_sources[XT_ENDPOINTS_MAX];	  /* sources in the rate table */
};

struct xt_admission;

struct xt_admission *xt_admission_create(const struct xt_config *config);
void xt_admission_destroy(struct xt_admission *adm);

/* How a request is judged. */
enum xt_admission_flags {
	XT_ADMIT_RATED = 1 << 0,     /* charge it to its source's token bucket */
	XT_ADMIT_NO_ANSWER = 1 << 1, /* it is never answered (ACK): refused means dropped */
	/* the stack holds a transaction for it (a request in a dialog): only an
	 * answer frees that, so refused means 403 whatever deny says */
	XT_ADMIT_MUST_ANSWER = 1 << 2,
};

/*
 * A request from src arrived for endpoint: admit it, reject it (403) or drop it.
 * Requests outside a dialog are rated: the peer against its own bucket, any
 * other source against its own and the shared one; those in a call's dialog
 * only answer to the ACL. Counts what it refuses and says why in *why.
 */
enum xt_admission_verdict xt_admission_request(struct xt_admission *adm, int endpoint,
					       const struct sockaddr *src, socklen_t srclen,
					       unsigned int flags, enum xt_refusal *why);

/*
 * A new call from endpoint in to endpoint out would take a channel on both:
 * the endpoint whose limit it would pass (and counts the 503 on in), or -1
 * when it fits. active: calls in progress through each endpoint.
 */
int xt_admission_channels(struct xt_admission *adm, int in, int out, const unsigned int *active);

/*
 * A new call from endpoint: over its calls in set-up (setup: calls from it
 * not answered yet, from_source: those of them from the INVITE's source, which
 * is the peer when is_peer)? The reason (and the 503 counted), or -1 when it fits.
 */
int xt_admission_setup(struct xt_admission *adm, int endpoint, unsigned int setup,
		       unsigned int from_source, bool is_peer);

void xt_admission_get_stats(const struct xt_admission *adm, struct xt_admission_stats *stats);

/* src is the endpoint's configured peer (its address; any port). */
bool xt_admission_from_peer(const struct xt_admission *adm, int endpoint,
			    const struct sockaddr *src, socklen_t srclen);

/* Text form of a source address, for logs. */
void xt_admission_source_text(const struct sockaddr *src, socklen_t srclen, char *buf, size_t len);

#endif
