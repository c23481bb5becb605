// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "xtrunk_abi.h"
#include "admission.h"
#include "clock.h"
#include "hash.h"
#include "log.h"

#define RATE_BUCKETS (2 * XT_RATE_SOURCES) /* hash chains: a power of two */
#define NONE (-1)

const char *const xt_refusal_names[XT_REFUSALS] = {
	"acl",		 "rate",	"rate_global",	     "rate_peer",
	"channel_limit", "setup_limit", "setup_limit_source"
};

/* A token bucket: rate tokens a second, as many at most; a request takes one. */
struct rate_bucket {
	double tokens;
	uint64_t last_ns;
};

/* One source address's token bucket, in a hash chain and the recency list. */
struct rate_source {
	uint8_t family;
	uint8_t addr[16];
	struct rate_bucket bucket;
	int32_t hash_next;
	int32_t newer, older;
};

/*
 * A bounded table: a flood from spoofed addresses cannot grow it, it only
 * recycles the least recently seen sources (whose buckets were full anyway
 * unless they were flooding a moment ago).
 */
struct rate_table {
	struct rate_source source[XT_RATE_SOURCES];
	int32_t chain[RATE_BUCKETS];
	int32_t newest, oldest;
	unsigned int used;
};

struct xt_admission {
	const struct xt_config *config;
	uint32_t seed;		 /* keyed hash: the chains cannot be aimed at from outside */
	struct rate_table *rate; /* one per endpoint */
	/*
	 * Per endpoint: one bucket all sources but the peer share, so that a
	 * flood from many addresses (spoofed: each new one gets a full bucket in
	 * the table) is held to sip_rate_global; and the peer's own, so that
	 * such a flood cannot starve it.
	 */
	struct rate_bucket global[XT_ENDPOINTS_MAX];
	struct rate_bucket peer[XT_ENDPOINTS_MAX];
	struct xt_admission_stats stats;
};

struct xt_admission *xt_admission_create(const struct xt_config *config)
{
	struct xt_admission *adm = calloc(1, sizeof(*adm));

	if (!adm)
		return NULL;
	adm->config = config;
	adm->rate = calloc(config->endpoints, sizeof(*adm->rate));
	if (!adm->rate) {
		free(adm);
		return NULL;
	}
	if (getrandom(&adm->seed, sizeof(adm->seed), GRND_NONBLOCK) != sizeof(adm->seed))
		adm->seed = (uint32_t)xt_monotonic_ns();
	for (unsigned int e = 0; e < config->endpoints; e++) {
		struct rate_table *t = &adm->rate[e];
		uint64_t now = xt_monotonic_ns();

		for (int i = 0; i < RATE_BUCKETS; i++)
			t->chain[i] = NONE;
		t->newest = t->oldest = NONE;
		adm->global[e] = (struct rate_bucket){ config->endpoint[e].sip_rate_global, now };
		adm->peer[e] = (struct rate_bucket){ config->endpoint[e].sip_rate_peer, now };
	}
	return adm;
}

void xt_admission_destroy(struct xt_admission *adm)
{
	if (adm)
		free(adm->rate);
	free(adm);
}

/* family and address of a socket address (IPv4-mapped IPv6 counts as IPv4); 0 if neither. */
static uint8_t source_addr(const struct sockaddr *src, socklen_t len, uint8_t addr[16])
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(addr, 0, 16);
	if (src && src->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		memcpy(addr, &((const struct sockaddr_in *)src)->sin_addr, 4);
		return XT_AF_INET;
	}
	if (src && src->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const uint8_t *a6 = ((const struct sockaddr_in6 *)src)->sin6_addr.s6_addr;

		if (!memcmp(a6, v4mapped, sizeof(v4mapped))) {
			memcpy(addr, a6 + 12, 4);
			return XT_AF_INET;
		}
		memcpy(addr, a6, 16);
		return XT_AF_INET6;
	}
	return 0;
}

void xt_admission_source_text(const struct sockaddr *src, socklen_t srclen, char *buf, size_t len)
{
	uint8_t addr[16], family = source_addr(src, srclen, addr);

	if (family)
		xt_addr_format(family, addr, buf, len);
	else
		snprintf(buf, len, "(unknown)");
}

static uint32_t source_hash(uint32_t seed, uint8_t family, const uint8_t *addr)
{
	uint32_t h = xt_fnv1a(XT_FNV1A_INIT ^ seed, &family, 1);

	h = xt_fnv1a(h, addr, xt_addr_len(family));
	return h ^ (h >> 15);
}

static void recency_unlink(struct rate_table *t, int32_t i)
{
	struct rate_source *s = &t->source[i];

	if (s->newer != NONE)
		t->source[s->newer].older = s->older;
	else
		t->newest = s->older;
	if (s->older != NONE)
		t->source[s->older].newer = s->newer;
	else
		t->oldest = s->newer;
}

static void recency_push(struct rate_table *t, int32_t i)
{
	struct rate_source *s = &t->source[i];

	s->newer = NONE;
	s->older = t->newest;
	if (t->newest != NONE)
		t->source[t->newest].newer = i;
	t->newest = i;
	if (t->oldest == NONE)
		t->oldest = i;
}

/* The bucket of (family, addr), created full (or recycled) if it is not there. */
static struct rate_source *rate_source(struct xt_admission *adm, int endpoint, uint8_t family,
				       const uint8_t *addr, unsigned int burst, uint64_t now)
{
	struct rate_table *t = &adm->rate[endpoint];
	uint32_t b = source_hash(adm->seed, family, addr) & (RATE_BUCKETS - 1);
	int32_t i;

	for (i = t->chain[b]; i != NONE; i = t->source[i].hash_next) {
		struct rate_source *s = &t->source[i];

		if (s->family == family && !memcmp(s->addr, addr, 16)) {
			recency_unlink(t, i);
			recency_push(t, i);
			return s;
		}
	}
	if (t->used < XT_RATE_SOURCES) {
		i = (int32_t)t->used++;
	} else {
		struct rate_source *old;
		uint32_t ob;
		int32_t *pp;

		i = t->oldest;
		old = &t->source[i];
		ob = source_hash(adm->seed, old->family, old->addr) & (RATE_BUCKETS - 1);
		for (pp = &t->chain[ob]; *pp != i; pp = &t->source[*pp].hash_next)
			;
		*pp = old->hash_next;
		recency_unlink(t, i);
	}
	t->source[i] = (struct rate_source){ .family = family, .bucket = { burst, now } };
	memcpy(t->source[i].addr, addr, 16);
	t->source[i].hash_next = t->chain[b];
	t->chain[b] = i;
	recency_push(t, i);
	return &t->source[i];
}

/* Take a token from b, which refills at rate a second up to rate; false when it is empty. */
static bool bucket_take(struct rate_bucket *b, unsigned int rate, uint64_t now)
{
	if (now > b->last_ns) {
		b->tokens += (double)(now - b->last_ns) * rate / 1e9;
		if (b->tokens > rate)
			b->tokens = rate;
		b->last_ns = now;
	}
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

/*
 * A request outside a dialog from (family, addr): within the endpoint's rates,
 * or the reason it is not. The peer has a bucket of its own; any other source
 * takes from its own bucket and then from the one they all share.
 */
static bool within_rate(struct xt_admission *adm, int endpoint, uint8_t family, const uint8_t *addr,
			enum xt_refusal *why)
{
	const struct xt_endpoint_config *sc = &adm->config->endpoint[endpoint];
	uint64_t now = xt_monotonic_ns();

	if (xt_endpoint_is_peer(sc, family, addr)) {
		*why = XT_REFUSED_RATE_PEER;
		return !sc->sip_rate_peer ||
		       bucket_take(&adm->peer[endpoint], sc->sip_rate_peer, now);
	}
	*why = XT_REFUSED_RATE;
	if (sc->sip_rate &&
	    !bucket_take(&rate_source(adm, endpoint, family, addr, sc->sip_rate, now)->bucket,
			 sc->sip_rate, now))
		return false;
	*why = XT_REFUSED_RATE_GLOBAL;
	return !sc->sip_rate_global ||
	       bucket_take(&adm->global[endpoint], sc->sip_rate_global, now);
}

enum xt_admission_verdict xt_admission_request(struct xt_admission *adm, int endpoint,
					       const struct sockaddr *src, socklen_t srclen,
					       unsigned int flags, enum xt_refusal *why)
{
	const struct xt_endpoint_config *sc = &adm->config->endpoint[endpoint];
	uint8_t addr[16], family = source_addr(src, srclen, addr);
	/* secure by default: the endpoint's peer, and the networks allow adds */
	bool inside = family && xt_endpoint_allows(sc, family, addr);

	if (!inside && sc->deny == XT_DENY_DROP && !(flags & XT_ADMIT_MUST_ANSWER)) {
		adm->stats.dropped[endpoint][XT_REFUSED_ACL]++;
		*why = XT_REFUSED_ACL;
		return XT_ADMIT_DROP;
	}
	if (!inside && (flags & XT_ADMIT_NO_ANSWER)) {
		/* the ACK of our 403: absorbed, not counted again */
		*why = XT_REFUSED_ACL;
		return XT_ADMIT_DROP;
	}
	/* Outsiders are rate-limited too: a flood must not turn into a flood of 403s.
	 * The endpoint's own peer (the PBX, the provider's proxy) has a generous
	 * bucket of its own: a busy trunk sends hundreds of calls a second from
	 * one address, and a flood from other addresses must not starve it. */
	if ((flags & XT_ADMIT_RATED) && family && !within_rate(adm, endpoint, family, addr, why)) {
		adm->stats.dropped[endpoint][*why]++;
		return XT_ADMIT_DROP;
	}
	if (!inside) {
		adm->stats.rejected[endpoint][XT_REFUSED_ACL]++;
		*why = XT_REFUSED_ACL;
		return XT_ADMIT_REJECT;
	}
	return XT_ADMIT;
}

bool xt_admission_from_peer(const struct xt_admission *adm, int endpoint,
			    const struct sockaddr *src, socklen_t srclen)
{
	uint8_t addr[16], family = source_addr(src, srclen, addr);

	return family && xt_endpoint_is_peer(&adm->config->endpoint[endpoint], family, addr);
}

int xt_admission_channels(struct xt_admission *adm, int in, int out, const unsigned int *active)
{
	const int ends[2] = { in, out };

	for (int i = 0; i < 2; i++) {
		unsigned int limit = adm->config->endpoint[ends[i]].channels;

		if (limit && active[ends[i]] >= limit) {
			adm->stats.rejected[in][XT_REFUSED_CHANNEL_LIMIT]++;
			return ends[i];
		}
	}
	return -1;
}

int xt_admission_setup(struct xt_admission *adm, int endpoint, unsigned int setup,
		       unsigned int from_source, bool is_peer)
{
	const struct xt_endpoint_config *sc = &adm->config->endpoint[endpoint];
	int why = -1;

	if (sc->setup_calls && setup >= sc->setup_calls)
		why = XT_REFUSED_SETUP_LIMIT;
	else if (!is_peer && sc->setup_calls_per_source &&
		 from_source >= sc->setup_calls_per_source)
		why = XT_REFUSED_SETUP_SOURCE;
	if (why >= 0)
		adm->stats.rejected[endpoint][why]++;
	return why;
}

void xt_admission_get_stats(const struct xt_admission *adm, struct xt_admission_stats *stats)
{
	*stats = adm->stats;
	for (unsigned int e = 0; e < adm->config->endpoints; e++)
		stats->rate_sources[e] = adm->rate[e].used;
}
