// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Admission hooks: ACL, SIP rate, channels, calls in set-up (admission.c decides and counts). */
#include "b2bua_private.h"
#include "clock.h"
#include "log.h"

#define RATE_WARN_INTERVAL_NS 10000000000ull

/*
 * The peer over its own bucket, or everyone else over the shared one, is
 * something to tell an operator (a busy trunk, a flood); at most once every
 * 10 s per endpoint and reason, the counters say the rest.
 */
static void warn_rate(struct xt_b2bua *b2b, int endpoint, enum xt_refusal why)
{
	const struct xt_endpoint_config *sc = &b2b->config->endpoint[endpoint];
	uint64_t now = xt_monotonic_ns();

	if (why != XT_REFUSED_RATE_GLOBAL && why != XT_REFUSED_RATE_PEER)
		return;
	if (b2b->warned_ns[endpoint][why] &&
	    now - b2b->warned_ns[endpoint][why] < RATE_WARN_INTERVAL_NS)
		return;
	b2b->warned_ns[endpoint][why] = now;
	if (why == XT_REFUSED_RATE_PEER)
		pr_warn("endpoint %s: the peer sends more than sip_rate_peer = %u requests a second "
			"outside a dialog: the rest are dropped\n",
			sc->name, sc->sip_rate_peer);
	else
		pr_warn("endpoint %s: sources other than the peer send more than sip_rate_global = "
			"%u requests a second outside a dialog: the rest are dropped\n",
			sc->name, sc->sip_rate_global);
}

static void log_refusal(const char *what, const char *method, msg_t *msg, enum xt_refusal why,
			const char *config_name)
{
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
	char src[64];

	xt_admission_source_text(ai ? ai->ai_addr : NULL, ai ? (socklen_t)ai->ai_addrlen : 0, src,
				 sizeof(src));
	pr_debug("endpoint %s: %s %s from %s (%s)\n", config_name, what, method, src,
		 xt_refusal_names[why]);
}

bool b2bua_admit_new_request(struct xt_b2bua *b2b, int endpoint, nta_agent_t *agent, msg_t *msg,
			     sip_t *sip)
{
	su_addrinfo_t *ai = msg_addrinfo(msg);
	bool invite = sip->sip_request->rq_method == sip_method_invite;
	bool ack = sip->sip_request->rq_method == sip_method_ack;
	enum xt_refusal why = XT_REFUSED_ACL;
	enum xt_admission_verdict verdict;

	verdict = xt_admission_request(b2b->admission, endpoint, ai ? ai->ai_addr : NULL,
				       ai ? (socklen_t)ai->ai_addrlen : 0,
				       XT_ADMIT_RATED | (ack ? XT_ADMIT_NO_ANSWER : 0), &why);
	if (verdict == XT_ADMIT)
		return true;
	if (invite && why == XT_REFUSED_ACL)
		b2b->stats.calls_rejected_acl++;
	warn_rate(b2b, endpoint, why);
	log_refusal(verdict == XT_ADMIT_REJECT ? "403 to" : "dropped",
		    sip->sip_request->rq_method_name, msg, why,
		    b2b->config->endpoint[endpoint].name);
	if (verdict == XT_ADMIT_REJECT)
		nta_msg_treply(agent, msg, SIP_403_FORBIDDEN, SIPTAG_USER_AGENT_STR(USER_AGENT),
			       TAG_END());
	else
		nta_msg_discard(agent, msg);
	return false;
}

bool b2bua_admit_in_dialog(struct xt_b2bua *b2b, int endpoint, nta_incoming_t *irq,
			   sip_t const *sip)
{
	msg_t *msg = nta_incoming_getrequest(irq);
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
	bool ack = sip->sip_request->rq_method == sip_method_ack;
	enum xt_refusal why = XT_REFUSED_ACL;
	enum xt_admission_verdict verdict;

	verdict = xt_admission_request(b2b->admission, endpoint, ai ? ai->ai_addr : NULL,
				       ai ? (socklen_t)ai->ai_addrlen : 0,
				       ack ? XT_ADMIT_NO_ANSWER : XT_ADMIT_MUST_ANSWER, &why);
	if (verdict != XT_ADMIT)
		log_refusal(verdict == XT_ADMIT_REJECT ? "403 to" : "dropped",
			    sip->sip_request->rq_method_name, msg, why,
			    b2b->config->endpoint[endpoint].name);
	if (msg)
		msg_destroy(msg);
	/*
	 * Never dropped but for an ACK: nta has no way to forget a transaction
	 * it matched to a dialog without answering it, and would keep one per
	 * dropped request until xtrunkd stops (XT_ADMIT_MUST_ANSWER: 403).
	 */
	return verdict == XT_ADMIT;
}

/* Calls from endpoint, not answered yet, whose INVITE came from src. */
static unsigned int setup_from(const struct xt_b2bua *b2b, int endpoint,
			       const struct xt_endpoint *src)
{
	unsigned int n = 0;

	for (const struct xt_call *c = b2b->setup; c; c = c->setup_next)
		n += call_endpoint(c, c->in) == endpoint &&
		     xt_endpoint_addr_equal(&c->setup_source, src);
	return n;
}

bool b2bua_setup_full(struct xt_b2bua *b2b, int endpoint, nta_agent_t *agent, msg_t *msg)
{
	const struct xt_endpoint_config *sc = &b2b->config->endpoint[endpoint];
	bool peer = b2bua_from_peer(b2b, endpoint, msg);
	unsigned int from_source = 0;
	struct xt_endpoint src;
	uint64_t now;
	int why;

	if (!peer && sc->setup_calls_per_source && b2bua_msg_source(msg, &src))
		from_source = setup_from(b2b, endpoint, &src);
	why = xt_admission_setup(b2b->admission, endpoint, b2b->stats.setup_active[endpoint],
				 from_source, peer);
	if (why < 0)
		return false;
	b2b->stats.calls_rejected_setup++;
	log_refusal("503 to", "INVITE", msg, why, sc->name);
	now = xt_monotonic_ns();
	if (!b2b->warned_ns[endpoint][why] ||
	    now - b2b->warned_ns[endpoint][why] >= RATE_WARN_INTERVAL_NS) {
		b2b->warned_ns[endpoint][why] = now;
		if (why == XT_REFUSED_SETUP_LIMIT)
			pr_warn("endpoint %s: %u calls in set-up (setup_calls): new INVITEs get "
				"503\n",
				sc->name, sc->setup_calls);
		else
			pr_warn("endpoint %s: a source has %u calls in set-up "
				"(setup_calls_per_source): its new INVITEs get 503\n",
				sc->name, sc->setup_calls_per_source);
	}
	nta_msg_treply(agent, msg, SIP_503_SERVICE_UNAVAILABLE,
		       SIPTAG_RETRY_AFTER_STR(XT_CHANNELS_RETRY_AFTER),
		       SIPTAG_USER_AGENT_STR(USER_AGENT), TAG_END());
	return true;
}

bool b2bua_channels_full(struct xt_b2bua *b2b, int in, int out, nta_agent_t *agent, msg_t *msg)
{
	int full = xt_admission_channels(b2b->admission, in, out, b2b->stats.channels_active);

	if (full < 0)
		return false;
	b2b->stats.calls_rejected_limit++;
	pr_info("endpoint %s: INVITE refused (503): endpoint %s has all %u channels in use\n",
		b2b->config->endpoint[in].name, b2b->config->endpoint[full].name,
		b2b->config->endpoint[full].channels);
	nta_msg_treply(agent, msg, SIP_503_SERVICE_UNAVAILABLE,
		       SIPTAG_RETRY_AFTER_STR(XT_CHANNELS_RETRY_AFTER),
		       SIPTAG_USER_AGENT_STR(USER_AGENT), TAG_END());
	return true;
}
