// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <sys/socket.h>

struct xt_b2bua;
struct xt_call;
struct xt_relayed_request;

#define NTA_AGENT_MAGIC_T struct xt_b2bua
#define NTA_LEG_MAGIC_T void /* a call's legs: the call; default legs: the b2bua */
#define NTA_OUTGOING_MAGIC_T struct xt_call
#define NTA_INCOMING_MAGIC_T struct xt_call

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/url.h>

#include "xtrunk_abi.h"
#include "log.h"
#include "sip_b2bua.h"
#include "udp_socket.h"

#define ALLOWED_METHODS "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO"
#define USER_AGENT "xtrunk"
#define SDP_TYPE "application/sdp"
#define XT_CHANNELS_RETRY_AFTER "5" /* seconds a caller refused for channels waits */

enum call_state { CALL_INVITING, CALL_EARLY, CALL_CONFIRMED, CALL_ENDED };

/* An in-dialog request from one leg, waiting for the other leg's answer. */
struct xt_relayed_request {
	struct xt_relayed_request *next;
	struct xt_call *call;
	int from; /* side the request came from */
	nta_incoming_t *irq;
	nta_outgoing_t *orq;
	bool offer;			  /* it carried an SDP offer: rolled back if rejected */
	struct xt_media_checkpoint prior; /* the media before that offer */
};

/* A 2xx whose ACK waits for the other side's: the offer came in the 2xx (delayed offer). */
struct xt_pending_ack {
	bool waiting;
	int side;	     /* the side that sent the 2xx, to be ACKed */
	uint32_t cseq;	     /* of its INVITE */
	nta_incoming_t *irq; /* the other side's INVITE, whose ACK brings the answer */
};

struct xt_call {
	struct xt_call *next;
	struct xt_b2bua *b2b;
	su_home_t home[1];
	char id[24];
	int in, out; /* in: the side that placed the call */
	enum call_state state;
	uint64_t answered_ns; /* CLOCK_MONOTONIC when answered */
	uint64_t started_ns;  /* CLOCK_MONOTONIC when the INVITE came (control: duration) */
	bool media_ended;     /* flows and ports let go, counters logged */
	nta_leg_t *leg[XT_SIDES];
	nta_incoming_t *invite_irq; /* the caller's INVITE, until answered or failed */
	nta_outgoing_t *invite_orq; /* our INVITE to the callee */
	bool offer_in_invite;	    /* else the offer comes in the 2xx (delayed offer) */
	bool callee_acked;	    /* its 2xx was ACKed (retransmissions are ACKed again) */
	struct xt_pending_ack pending_ack;
	nta_leg_t *forks[4]; /* extra answered branches, ACKed and BYEd */
	struct xt_relayed_request *relayed;
	struct xt_media_session media;
};

struct xt_b2bua {
	su_root_t *root;
	const struct xt_config *config;
	struct xt_media_env *media;
	nta_agent_t *agent[XT_SIDES];
	sip_contact_t *contact[XT_SIDES];
	char host[XT_SIDES][80]; /* our SIP host:port text on each side */
	char peer_host[XT_SIDES][80];
	su_home_t home[1];
	struct xt_call *calls;
	unsigned int next_call;
	struct xt_b2bua_stats stats;
	struct xt_admission *admission; /* ACL, rate limit, channels */
};

static void host_text(const struct xt_endpoint *ep, char *buf, size_t len)
{
	char addr[64];

	xt_addr_format(ep->family, ep->addr, addr, sizeof(addr));
	if (ep->family == XT_AF_INET6)
		snprintf(buf, len, "[%s]:%u", addr, ep->port);
	else
		snprintf(buf, len, "%s:%u", addr, ep->port);
}

/*
 * Tell the media session where a side's SIP came from (the packet's source,
 * never Via or Contact): NAT detection and latching depend on it. Consumes
 * the message reference nta_*_get*() returned.
 */
static void note_source(struct xt_call *call, int side, msg_t *msg)
{
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
	struct sockaddr_storage ss;
	struct xt_endpoint ep;

	if (ai && ai->ai_addr && ai->ai_addrlen <= sizeof(ss) &&
	    (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)) {
		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
		xt_endpoint_from_sockaddr(&ss, &ep);
		xt_media_session_signal_source(&call->media, side, &ep);
	}
	if (msg)
		msg_destroy(msg);
}

/* ---- call lifetime ---- */

static struct xt_call *call_create(struct xt_b2bua *b2b, int in)
{
	struct xt_call *call = calloc(1, sizeof(*call));

	if (!call)
		return NULL;
	su_home_init(call->home);
	call->b2b = b2b;
	call->in = in;
	call->out = 1 - in;
	call->started_ns = xt_monotonic_ns();
	snprintf(call->id, sizeof(call->id), "c%u", ++b2b->next_call);
	xt_media_session_init(&call->media, b2b->media, call->id);
	call->next = b2b->calls;
	b2b->calls = call;
	b2b->stats.calls_started++;
	b2b->stats.calls_active++;
	/* a call holds a channel on both sides from its INVITE until it is gone */
	b2b->stats.channels_active[in]++;
	b2b->stats.channels_active[1 - in]++;
	return call;
}

static void call_log_media(struct xt_call *call)
{
	struct xt_media_activity activity;

	xt_media_session_activity(&call->media, &activity);
	pr_info("call %s: media relayed: %llu packets in XDP, %llu in userspace\n", call->id,
		(unsigned long long)activity.xdp_packets,
		(unsigned long long)activity.userspace_packets);
}

const char *const xt_sip_method_names[XT_SIP_METHODS] = { "INVITE",  "ACK",    "BYE",  "CANCEL",
							  "OPTIONS", "UPDATE", "INFO", "other" };
const double xt_mos_bounds[XT_MOS_BUCKETS] = { 1.0, 2.0, 3.0, 3.5, 4.0, 4.2, 4.4 };
const double xt_jitter_bounds_ms[XT_JITTER_BUCKETS] = { 1, 2, 5, 10, 20, 50, 100 };
const double xt_jitter_bounds_s[XT_JITTER_BUCKETS] = { 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1 };

static void count_request(struct xt_b2bua *b2b, int side, sip_t const *sip)
{
	static const sip_method_t methods[XT_SIP_OTHER] = { sip_method_invite,	sip_method_ack,
							    sip_method_bye,	sip_method_cancel,
							    sip_method_options, sip_method_update,
							    sip_method_info };
	int i;

	for (i = 0; i < XT_SIP_OTHER; i++)
		if (sip->sip_request->rq_method == methods[i])
			break;
	b2b->stats.sip_requests[side][i]++;
}

static void count_response(struct xt_b2bua *b2b, int side, sip_t const *sip)
{
	int code = sip ? (int)sip->sip_status->st_status : 0;

	if (code >= 100 && code <= 699) {
		b2b->stats.sip_responses[side][code / 100]++;
		b2b->stats.sip_response_codes[side][code - 100]++;
	}
}

static void add_quality(const struct xt_rtp_quality *q, void *arg)
{
	struct xt_quality_stats *qs = arg;

	qs->streams++;
	qs->expected += q->expected;
	qs->lost += q->lost;
	qs->mos_sum += q->mos;
	qs->jitter_sum_ms += q->jitter_ms;
	for (int i = 0; i < XT_MOS_BUCKETS; i++)
		qs->mos_le[i] += q->mos <= xt_mos_bounds[i];
	for (int i = 0; i < XT_JITTER_BUCKETS; i++)
		qs->jitter_le[i] += q->jitter_ms <= xt_jitter_bounds_ms[i];
}

/* Log what the call's media relayed and how it sounded, then let go of its flows and ports. */
static void call_end_media(struct xt_call *call)
{
	if (call->media_ended)
		return;
	call_log_media(call);
	xt_media_session_quality(&call->media, add_quality, &call->b2b->stats.quality);
	xt_media_session_end(&call->media);
	call->media_ended = true;
}

/* Forget the call: media, ports, legs, pending transactions. */
static void call_destroy(struct xt_call *call)
{
	struct xt_b2bua *b2b = call->b2b;
	struct xt_call **pp;

	call_end_media(call);
	while (call->relayed) {
		struct xt_relayed_request *rr = call->relayed;

		call->relayed = rr->next;
		if (rr->irq) {
			if (nta_incoming_status(rr->irq) < 200)
				nta_incoming_treply(rr->irq, SIP_481_NO_TRANSACTION, TAG_END());
			nta_incoming_destroy(rr->irq);
		}
		if (rr->orq)
			nta_outgoing_destroy(rr->orq);
		free(rr);
	}
	if (call->invite_irq) {
		if (nta_incoming_status(call->invite_irq) < 200)
			nta_incoming_treply(call->invite_irq, SIP_503_SERVICE_UNAVAILABLE,
					    TAG_END());
		nta_incoming_destroy(call->invite_irq);
	}
	if (call->pending_ack.irq && call->pending_ack.irq != call->invite_irq)
		nta_incoming_destroy(call->pending_ack.irq);
	if (call->invite_orq)
		nta_outgoing_destroy(call->invite_orq);
	for (unsigned int i = 0; i < sizeof(call->forks) / sizeof(call->forks[0]); i++)
		if (call->forks[i])
			nta_leg_destroy(call->forks[i]);
	for (int side = 0; side < XT_SIDES; side++)
		if (call->leg[side])
			nta_leg_destroy(call->leg[side]);
	for (pp = &b2b->calls; *pp; pp = &(*pp)->next)
		if (*pp == call) {
			*pp = call->next;
			break;
		}
	b2b->stats.calls_active--;
	b2b->stats.channels_active[call->in]--;
	b2b->stats.channels_active[call->out]--;
	su_home_deinit(call->home);
	free(call);
}

/* Final responses to BYEs we sent need nothing but cleaning up. */
static int bye_response(struct xt_call *unused, nta_outgoing_t *orq, sip_t const *sip)
{
	if (!sip || sip->sip_status->st_status >= 200)
		nta_outgoing_destroy(orq);
	return 0;
}

static void send_bye(struct xt_call *call, int side)
{
	if (!call->leg[side])
		return;
	if (!nta_outgoing_tcreate(call->leg[side], bye_response, NULL, NULL, SIP_METHOD_BYE, NULL,
				  SIPTAG_USER_AGENT_STR(USER_AGENT), TAG_END()))
		pr_warn("call %s: cannot send BYE to %s\n", call->id,
			call->b2b->config->side[side].name);
}

/* ---- SDP through the media session ---- */

/*
 * Rewrite the body of a message from side `from` for the other side.
 * Returns 0 (no body, or *sdp set), or the SIP status to answer with.
 */
static int rewrite_body(struct xt_call *call, int from, sip_t const *sip, char **sdp)
{
	char err[256];
	int rc;

	*sdp = NULL;
	if (!sip->sip_payload || !sip->sip_payload->pl_len)
		return 0;
	if (sip->sip_content_type && sip->sip_content_type->c_type &&
	    strcasecmp(sip->sip_content_type->c_type, SDP_TYPE)) {
		pr_info("call %s: body of type %s from %s not relayed\n", call->id,
			sip->sip_content_type->c_type, call->b2b->config->side[from].name);
		return 415;
	}
	rc = xt_media_session_sdp(&call->media, from, sip->sip_payload->pl_data,
				  sip->sip_payload->pl_len, sdp, err, sizeof(err));
	if (rc == 0)
		return 0;
	pr_warn("call %s: SDP from %s: %s\n", call->id, call->b2b->config->side[from].name, err);
	return rc == -EBADMSG ? 400 : rc == -ENOSPC ? 503 : 488;
}

/* ---- the callee's answers to our INVITE ---- */

/* ACK a 2xx to our INVITE with that CSeq on a leg, with the SDP answer when it brings one. */
static void send_ack(struct xt_call *call, nta_leg_t *leg, int side, uint32_t cseq, const char *sdp)
{
	nta_outgoing_t *ack;

	ack = nta_outgoing_tcreate(leg, NULL, NULL, NULL, SIP_METHOD_ACK, NULL,
				   SIPTAG_CSEQ(sip_cseq_create(call->home, cseq, SIP_METHOD_ACK)),
				   SIPTAG_USER_AGENT_STR(USER_AGENT),
				   TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
				   TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
	if (ack)
		nta_outgoing_destroy(ack);
	else
		pr_warn("call %s: cannot ACK the 2xx from %s\n", call->id,
			call->b2b->config->side[side].name);
}

static void ack_2xx(struct xt_call *call, int side, sip_t const *sip)
{
	send_ack(call, call->leg[side], side, sip->sip_cseq->cs_seq, NULL);
}

/*
 * A 2xx from another branch of a forked INVITE, after one branch answered:
 * that branch's dialog is ACKed and ended with BYE (RFC 3261 13.2.2.4).
 */
static void fork_hangup(struct xt_call *call, sip_t const *sip)
{
	const unsigned int max = sizeof(call->forks) / sizeof(call->forks[0]);
	const char *tag = sip->sip_to->a_tag;
	uint32_t cseq = sip->sip_cseq->cs_seq;
	nta_leg_t *leg;
	unsigned int i;

	for (i = 0; i < max && call->forks[i]; i++) {
		const char *rtag = nta_leg_get_rtag(call->forks[i]);

		if (rtag && !strcmp(rtag, tag)) {
			/* its 2xx again: the ACK was lost */
			send_ack(call, call->forks[i], call->out, cseq, NULL);
			return;
		}
	}
	if (i == max) {
		pr_warn("call %s: too many answered branches; one left to time out\n", call->id);
		return;
	}
	leg = nta_leg_tcreate(call->b2b->agent[call->out], NULL, NULL,
			      SIPTAG_CALL_ID(sip->sip_call_id), SIPTAG_FROM(sip->sip_from),
			      SIPTAG_TO(sip->sip_to), TAG_END());
	if (!leg) {
		pr_warn("call %s: cannot end an extra answered branch\n", call->id);
		return;
	}
	nta_leg_client_route(leg, sip->sip_record_route, sip->sip_contact);
	call->forks[i] = leg;
	pr_info("call %s: another branch answered (tag %s): ACK and BYE\n", call->id, tag);
	send_ack(call, leg, call->out, cseq, NULL);
	if (!nta_outgoing_tcreate(leg, bye_response, NULL, NULL, SIP_METHOD_BYE, NULL,
				  SIPTAG_CSEQ(sip_cseq_create(call->home, cseq + 1, SIP_METHOD_BYE)),
				  SIPTAG_USER_AGENT_STR(USER_AGENT), TAG_END()))
		pr_warn("call %s: cannot send BYE to an extra branch\n", call->id);
}

static void call_hangup_both(struct xt_call *call)
{
	send_bye(call, XT_SIDE_PBX);
	send_bye(call, XT_SIDE_TRUNK);
	call->state = CALL_ENDED;
}

/*
 * The ACK that carries the answer to an offer made in a 2xx (delayed
 * offer) came from side `from`: rewrite it and ACK the side that offered.
 * Without a usable answer the session cannot start: ACK, then BYE both.
 * Returns false when the call was ended.
 */
static bool complete_pending_ack(struct xt_call *call, int from, sip_t const *sip)
{
	struct xt_pending_ack *pa = &call->pending_ack;
	char *sdp = NULL;
	int bad;

	pa->waiting = false;
	if (pa->irq) {
		if (pa->irq == call->invite_irq)
			call->invite_irq = NULL;
		nta_incoming_destroy(pa->irq);
		pa->irq = NULL;
	}
	bad = sip ? rewrite_body(call, from, sip, &sdp) : 408;
	if (!bad && !sdp)
		bad = 488;
	send_ack(call, call->leg[pa->side], pa->side, pa->cseq, bad ? NULL : sdp);
	free(sdp);
	if (!bad) {
		call->callee_acked = true;
		return true;
	}
	pr_info("call %s: %s: hanging up both legs\n", call->id,
		sip ? "the ACK brought no usable SDP answer" : "no ACK to the 2xx");
	call_hangup_both(call);
	call->b2b->stats.calls_failed++;
	return false;
}

static int invite_response(struct xt_call *call, nta_outgoing_t *orq, sip_t const *sip)
{
	count_response(call->b2b, call->out, sip);
	struct xt_b2bua *b2b = call->b2b;
	int status = sip ? (int)sip->sip_status->st_status : 408;
	const char *phrase = sip ? sip->sip_status->st_phrase : "Request Timeout";
	char *sdp = NULL;
	bool delayed;
	int bad;

	if (status < 200 || status >= 300)
		pr_debug("call %s: %d from %s\n", call->id, status,
			 b2b->config->side[call->out].name);

	if (status >= 200 && status < 300 && call->state == CALL_CONFIRMED) {
		const char *rtag = nta_leg_get_rtag(call->leg[call->out]);

		if (rtag && sip->sip_to->a_tag && !strcmp(rtag, sip->sip_to->a_tag)) {
			/* a retransmission: our ACK was lost (or is still to come) */
			if (call->callee_acked)
				ack_2xx(call, call->out, sip);
		} else if (sip->sip_to->a_tag) {
			fork_hangup(call, sip);
		}
		return 0;
	}

	if (status >= 200 && status < 300) {
		nta_leg_rtag(call->leg[call->out], sip->sip_to->a_tag);
		nta_leg_client_route(call->leg[call->out], sip->sip_record_route, sip->sip_contact);
		if (call->state == CALL_ENDED || !call->invite_irq ||
		    nta_incoming_status(call->invite_irq) >= 200) {
			/* answered after the caller cancelled: hang up that side */
			ack_2xx(call, call->out, sip);
			send_bye(call, call->out);
			nta_outgoing_destroy(orq);
			call->invite_orq = NULL;
			call_destroy(call);
			return 0;
		}
		/* The flows first, then the ACK: a callee may start its media on the ACK. */
		note_source(call, call->out, nta_outgoing_getresponse(orq));
		delayed = !call->offer_in_invite;
		bad = rewrite_body(call, call->out, sip, &sdp);
		if (!bad && delayed && !sdp)
			bad = 488; /* no offer in the INVITE and none in its 2xx */
		if (bad || !delayed) {
			/* ACKed here: the caller's ACK is absorbed on its own leg. */
			ack_2xx(call, call->out, sip);
			call->callee_acked = true;
		}
		if (bad) {
			send_bye(call, call->out);
			nta_incoming_treply(call->invite_irq, bad, NULL, TAG_END());
			nta_outgoing_destroy(orq);
			call->invite_orq = NULL;
			b2b->stats.calls_failed++;
			call_destroy(call);
			return 0;
		}
		nta_incoming_treply(call->invite_irq, status, phrase,
				    SIPTAG_CONTACT(b2b->contact[call->in]),
				    SIPTAG_ALLOW_STR(ALLOWED_METHODS),
				    SIPTAG_USER_AGENT_STR(USER_AGENT),
				    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
				    TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
		free(sdp);
		if (delayed) {
			/* the callee is ACKed with the answer the caller's ACK brings */
			call->pending_ack = (struct xt_pending_ack){ .waiting = true,
								     .side = call->out,
								     .cseq = sip->sip_cseq->cs_seq,
								     .irq = call->invite_irq };
		} else {
			nta_incoming_destroy(call->invite_irq);
			call->invite_irq = NULL;
		}
		/* the INVITE stays, for its 2xx retransmissions and other branches' 2xx */
		call->state = CALL_CONFIRMED;
		call->answered_ns = xt_monotonic_ns();
		b2b->stats.calls_answered++;
		pr_info("call %s: answered (%d)%s\n", call->id, status,
			delayed ? ", offer in the 2xx" : "");
		return 0;
	}

	if (status < 200) {
		if (status == 100 || call->state == CALL_ENDED || !call->invite_irq)
			return 0;
		if (sip && sip->sip_payload)
			note_source(call, call->out, nta_outgoing_getresponse(orq));
		if (rewrite_body(call, call->out, sip, &sdp)) {
			/* bad early media SDP: relay the ringing, not the media */
			sdp = NULL;
		}
		nta_incoming_treply(call->invite_irq, status, phrase,
				    SIPTAG_CONTACT(b2b->contact[call->in]),
				    SIPTAG_USER_AGENT_STR(USER_AGENT),
				    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
				    TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
		free(sdp);
		call->state = CALL_EARLY;
		return 0;
	}

	if (call->state == CALL_CONFIRMED)
		return 0; /* another branch failed after one answered */

	/* 3xx-6xx: relayed as they are (redirects are not followed), ports freed. */
	if (call->invite_irq && nta_incoming_status(call->invite_irq) < 200)
		nta_incoming_treply(call->invite_irq, status, phrase,
				    SIPTAG_USER_AGENT_STR(USER_AGENT), TAG_END());
	if (status == 487)
		b2b->stats.calls_cancelled++;
	else if (status == 486 || status == 600)
		b2b->stats.calls_busy++;
	else
		b2b->stats.calls_failed++;
	pr_info("call %s: failed: %d %s\n", call->id, status, phrase ? phrase : "");
	nta_outgoing_destroy(orq);
	call->invite_orq = NULL;
	call_destroy(call);
	return 0;
}

/*
 * CANCEL and ACK for an INVITE we answered or are answering: the caller's,
 * or a re-INVITE whose 2xx brought an offer. NULL sip: no ACK came.
 */
static int invite_ack_cancel(struct xt_call *call, nta_incoming_t *irq, sip_t const *sip)
{
	struct xt_pending_ack *pa = &call->pending_ack;

	if (!sip || sip->sip_request->rq_method == sip_method_ack) {
		if (sip)
			count_request(call->b2b, 1 - pa->side, sip);
		/* the ACK of our 2xx brings the answer when the offer was in the 2xx */
		if (pa->waiting && pa->irq == irq && !complete_pending_ack(call, 1 - pa->side, sip))
			call_destroy(call);
		return 0;
	}
	count_request(call->b2b, call->in, sip);
	if (sip->sip_request->rq_method != sip_method_cancel)
		return 0;
	if (call->state == CALL_CONFIRMED)
		return 0; /* crossed our 2xx: nta answered it; the caller ACKs and BYEs */
	pr_info("call %s: cancelled by %s\n", call->id, call->b2b->config->side[call->in].name);
	/* nta has answered 200 to the CANCEL and 487 to the INVITE. */
	if (nta_incoming_status(irq) < 200)
		nta_incoming_treply(irq, SIP_487_REQUEST_CANCELLED, TAG_END());
	call->state = CALL_ENDED;
	call_end_media(call);
	if (call->invite_orq)
		nta_outgoing_cancel(call->invite_orq);
	/* the call goes when the callee answers the INVITE (487, or 200 + BYE) */
	return 0;
}

/* ---- admission: ACL, SIP rate, channels (admission.c decides and counts) ---- */

static void log_refusal(int side, const char *what, const char *method, msg_t *msg,
			enum xt_refusal why, const char *config_name)
{
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
	char src[64];

	xt_admission_source_text(ai ? ai->ai_addr : NULL, ai ? (socklen_t)ai->ai_addrlen : 0, src,
				 sizeof(src));
	pr_debug("side %s: %s %s from %s (%s)\n", config_name, what, method, src,
		 xt_refusal_names[why]);
}

/* A request outside a dialog: false when it was dropped or rejected (msg consumed). */
static bool admit_new_request(struct xt_b2bua *b2b, int side, nta_agent_t *agent, msg_t *msg,
			      sip_t *sip)
{
	su_addrinfo_t *ai = msg_addrinfo(msg);
	bool invite = sip->sip_request->rq_method == sip_method_invite;
	bool ack = sip->sip_request->rq_method == sip_method_ack;
	enum xt_refusal why = XT_REFUSED_ACL;
	enum xt_admission_verdict verdict;

	verdict = xt_admission_request(b2b->admission, side, ai ? ai->ai_addr : NULL,
				       ai ? (socklen_t)ai->ai_addrlen : 0,
				       XT_ADMIT_RATED | (ack ? XT_ADMIT_NO_ANSWER : 0), &why);
	if (verdict == XT_ADMIT)
		return true;
	if (invite && why == XT_REFUSED_ACL)
		b2b->stats.calls_rejected_acl++;
	log_refusal(side, verdict == XT_ADMIT_REJECT ? "403 to" : "dropped",
		    sip->sip_request->rq_method_name, msg, why, b2b->config->side[side].name);
	if (verdict == XT_ADMIT_REJECT)
		nta_msg_treply(agent, msg, SIP_403_FORBIDDEN, SIPTAG_USER_AGENT_STR(USER_AGENT),
			       TAG_END());
	else
		nta_msg_discard(agent, msg);
	return false;
}

/* A request in a call's dialog: the ACL applies (a call's own peer is never rate-limited). */
static bool admit_in_dialog(struct xt_b2bua *b2b, int side, nta_incoming_t *irq, sip_t const *sip)
{
	msg_t *msg = nta_incoming_getrequest(irq);
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
	bool ack = sip->sip_request->rq_method == sip_method_ack;
	enum xt_refusal why = XT_REFUSED_ACL;
	enum xt_admission_verdict verdict;

	verdict = xt_admission_request(b2b->admission, side, ai ? ai->ai_addr : NULL,
				       ai ? (socklen_t)ai->ai_addrlen : 0,
				       ack ? XT_ADMIT_NO_ANSWER : 0, &why);
	if (verdict != XT_ADMIT)
		log_refusal(side, verdict == XT_ADMIT_REJECT ? "403 to" : "dropped",
			    sip->sip_request->rq_method_name, msg, why,
			    b2b->config->side[side].name);
	if (msg)
		msg_destroy(msg);
	/*
	 * Dropped: left unanswered. nta has no way to forget a transaction it
	 * matched to a dialog without answering it, so it keeps absorbing its
	 * retransmissions until xtrunkd stops.
	 */
	return verdict == XT_ADMIT;
}

/* A new call from side in would pass a channel limit: 503 with Retry-After, counted. */
static bool channels_full(struct xt_b2bua *b2b, int in, nta_incoming_t *irq)
{
	int full = xt_admission_channels(b2b->admission, in, b2b->stats.channels_active);

	if (full < 0)
		return false;
	b2b->stats.calls_rejected_limit++;
	pr_info("side %s: INVITE refused (503): side %s has all %u channels in use\n",
		b2b->config->side[in].name, b2b->config->side[full].name,
		b2b->config->side[full].channels);
	nta_incoming_treply(irq, SIP_503_SERVICE_UNAVAILABLE,
			    SIPTAG_RETRY_AFTER_STR(XT_CHANNELS_RETRY_AFTER),
			    SIPTAG_USER_AGENT_STR(USER_AGENT), TAG_END());
	return true;
}

/* ---- requests inside a dialog ---- */

static void relayed_free(struct xt_relayed_request *rr)
{
	struct xt_relayed_request **pp;

	for (pp = &rr->call->relayed; *pp; pp = &(*pp)->next)
		if (*pp == rr) {
			*pp = rr->next;
			break;
		}
	free(rr);
}

static int relayed_response(struct xt_call *call_unused, nta_outgoing_t *orq, sip_t const *sip)
{
	struct xt_relayed_request *rr = NULL;
	struct xt_call *call = call_unused;
	int status = sip ? (int)sip->sip_status->st_status : 408;
	const char *phrase = sip ? sip->sip_status->st_phrase : NULL;
	bool unusable = false;
	char *sdp = NULL;
	int bad;

	for (rr = call->relayed; rr; rr = rr->next)
		if (rr->orq == orq)
			break;
	if (!rr)
		return 0;
	count_response(call->b2b, 1 - rr->from, sip);
	if (status < 200)
		return 0;
	if (status < 300) {
		bool invite = nta_outgoing_method(orq) == sip_method_invite;

		if (sip->sip_payload)
			note_source(call, 1 - rr->from, nta_outgoing_getresponse(orq));
		bad = rewrite_body(call, 1 - rr->from, sip, &sdp);
		if (bad) {
			sdp = NULL;
			/* an unusable answer: the media stays as it was before the offer,
			 * the offerer gets the error, and the call ends (below) */
			if (rr->offer) {
				xt_media_session_restore(&call->media, &rr->prior);
				unusable = true;
				status = bad;
				phrase = NULL;
			}
		}
		if (invite && !rr->offer && sdp) {
			/* offer in the 2xx: the ACK from rr->from brings the answer */
			call->pending_ack = (struct xt_pending_ack){ .waiting = true,
								     .side = 1 - rr->from,
								     .cseq = sip->sip_cseq->cs_seq,
								     .irq = rr->irq };
			nta_incoming_bind(rr->irq, invite_ack_cancel, call);
		} else if (invite) {
			ack_2xx(call, 1 - rr->from, sip);
		}
	} else if (rr->offer) {
		/* the offer was rejected: the session stays as it was (RFC 3264 8) */
		xt_media_session_restore(&call->media, &rr->prior);
	}
	nta_incoming_treply(rr->irq, status, phrase, SIPTAG_CONTACT(call->b2b->contact[rr->from]),
			    SIPTAG_USER_AGENT_STR(USER_AGENT),
			    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
			    TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
	free(sdp);
	if (!call->pending_ack.waiting || call->pending_ack.irq != rr->irq)
		nta_incoming_destroy(rr->irq);
	nta_outgoing_destroy(orq);
	relayed_free(rr);
	if (unusable) {
		/* the answerer's session now differs from the offerer's: end both */
		pr_info("call %s: unusable answer to a new offer: hanging up both legs\n",
			call->id);
		call_hangup_both(call);
		call->b2b->stats.calls_failed++;
		call_destroy(call);
	}
	return 0;
}

/* Relay an in-dialog request (re-INVITE, UPDATE, INFO, ...) to the other leg. */
static int relay_request(struct xt_call *call, int from, nta_incoming_t *irq, sip_t const *sip)
{
	struct xt_relayed_request *rr;
	sip_method_t method = sip->sip_request->rq_method;
	int to = 1 - from, bad;
	char *sdp = NULL;

	if (method == sip_method_invite || method == sip_method_update) {
		/* one offer at a time (RFC 3261 14.1, RFC 3311 5.2): glare gets 491 */
		for (rr = call->relayed; rr; rr = rr->next)
			if (rr->offer || nta_outgoing_method(rr->orq) == sip_method_invite)
				return 491;
		if (call->pending_ack.waiting)
			return 491;
	}
	rr = calloc(1, sizeof(*rr));
	if (!rr)
		return 500;
	xt_media_session_save(&call->media, &rr->prior);
	if (sip->sip_payload && sip->sip_payload->pl_len)
		note_source(call, from, nta_incoming_getrequest(irq));
	bad = rewrite_body(call, from, sip, &sdp);
	if (bad) {
		/* an SDP refused halfway (a bad stream after good ones, no port
		 * left) may have moved or added streams: the call keeps its media */
		xt_media_session_restore(&call->media, &rr->prior);
		free(rr);
		return bad;
	}
	rr->offer = sdp != NULL;
	rr->call = call;
	rr->from = from;
	rr->irq = irq;
	rr->orq = nta_outgoing_tcreate(
		call->leg[to], relayed_response, call, NULL, sip->sip_request->rq_method,
		sip->sip_request->rq_method_name, NULL, SIPTAG_CONTACT(call->b2b->contact[to]),
		SIPTAG_USER_AGENT_STR(USER_AGENT), TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
		TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)),
		TAG_IF(!sdp && sip->sip_payload, SIPTAG_CONTENT_TYPE(sip->sip_content_type)),
		TAG_IF(!sdp && sip->sip_payload, SIPTAG_PAYLOAD(sip->sip_payload)), TAG_END());
	free(sdp);
	if (!rr->orq) {
		free(rr);
		return 500;
	}
	rr->next = call->relayed;
	call->relayed = rr;
	return 0;
}

static int leg_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip)
{
	struct xt_call *call = magic;
	int from = leg == call->leg[XT_SIDE_PBX] ? XT_SIDE_PBX : XT_SIDE_TRUNK;
	sip_method_t method = sip->sip_request->rq_method;

	count_request(call->b2b, from, sip);
	if (!admit_in_dialog(call->b2b, from, irq, sip))
		return call->b2b->config->side[from].deny == XT_DENY_DROP ? 0 : 403;
	switch (method) {
	case sip_method_ack:
		/* our 2xx was answered; the other side was ACKed already (an ACK
		 * with an answer goes to its INVITE's invite_ack_cancel()) */
		return 200;
	case sip_method_bye:
		pr_info("call %s: BYE from %s\n", call->id, call->b2b->config->side[from].name);
		send_bye(call, 1 - from);
		call->state = CALL_ENDED;
		call_destroy(call);
		return 200;
	case sip_method_cancel:
		return 481;
	default:
		if (call->state != CALL_CONFIRMED)
			return 491;
		return relay_request(call, from, irq, sip);
	}
}

/* ---- requests outside a dialog ---- */

static int invite_new_call(struct xt_b2bua *b2b, int in, nta_incoming_t *irq, sip_t const *sip)
{
	int out = 1 - in;
	const struct xt_side_config *out_side = &b2b->config->side[out];
	const char *user = sip->sip_request->rq_url->url_user;
	char from_text[256], to_text[256], ruri[256];
	sip_from_t *from;
	sip_to_t *to;
	unsigned long max_forwards = 70;
	struct xt_call *call;
	char *sdp = NULL, max_forwards_text[24];
	int bad;

	if (sip->sip_to && sip->sip_to->a_tag)
		return 481; /* a re-INVITE for a dialog we do not know */
	if (sip->sip_max_forwards) {
		if (sip->sip_max_forwards->mf_count == 0)
			return 483;
		max_forwards = sip->sip_max_forwards->mf_count - 1;
	}
	snprintf(max_forwards_text, sizeof(max_forwards_text), "%lu", max_forwards);
	call = call_create(b2b, in);
	if (!call)
		return 500;
	pr_info("call %s: INVITE from %s for %s\n", call->id, b2b->config->side[in].name,
		user ? user : "(no user)");

	call->invite_irq = irq;
	nta_incoming_bind(irq, invite_ack_cancel, call);
	call->leg[in] = nta_leg_tcreate(b2b->agent[in], leg_request, call,
					SIPTAG_CALL_ID(sip->sip_call_id), SIPTAG_FROM(sip->sip_to),
					SIPTAG_TO(sip->sip_from), TAG_END());
	if (!call->leg[in]) {
		call->invite_irq = NULL;
		call_destroy(call);
		return 500;
	}
	nta_leg_tag(call->leg[in], NULL);
	nta_leg_server_route(call->leg[in], sip->sip_record_route, sip->sip_contact);
	nta_incoming_tag(irq, nta_leg_get_tag(call->leg[in]));
	nta_incoming_treply(irq, SIP_100_TRYING, TAG_END());

	note_source(call, in, nta_incoming_getrequest(irq));
	bad = rewrite_body(call, in, sip, &sdp);
	if (bad) {
		nta_incoming_treply(irq, bad, NULL, TAG_END());
		b2b->stats.calls_failed++;
		call_destroy(call);
		return 0;
	}
	call->offer_in_invite = sdp != NULL;

	/* The other side's call: our identity, the same user parts, nothing else. */
	snprintf(from_text, sizeof(from_text), "<sip:%s@%s>",
		 sip->sip_from && sip->sip_from->a_url->url_user ? sip->sip_from->a_url->url_user :
								   "anonymous",
		 b2b->host[out]);
	snprintf(to_text, sizeof(to_text), "<sip:%s%s%s>", user ? user : "", user ? "@" : "",
		 b2b->peer_host[out]);
	snprintf(ruri, sizeof(ruri), "sip:%s%s%s", user ? user : "", user ? "@" : "",
		 b2b->peer_host[out]);
	from = sip_from_make(call->home, from_text);
	to = sip_to_make(call->home, to_text);
	if (from && sip->sip_from && sip->sip_from->a_display)
		from->a_display = su_strdup(call->home, sip->sip_from->a_display);
	call->leg[out] = nta_leg_tcreate(b2b->agent[out], leg_request, call,
					 SIPTAG_CALL_ID(sip_call_id_create(call->home, NULL)),
					 SIPTAG_FROM(from), SIPTAG_TO(to), TAG_END());
	if (!call->leg[out] || !nta_leg_tag(call->leg[out], NULL)) {
		free(sdp);
		call_destroy(call);
		return 0;
	}
	call->invite_orq = nta_outgoing_tcreate(
		call->leg[out], invite_response, call, NULL, SIP_METHOD_INVITE,
		(url_string_t *)ruri, SIPTAG_CONTACT(b2b->contact[out]),
		SIPTAG_MAX_FORWARDS_STR(max_forwards_text), SIPTAG_ALLOW_STR(ALLOWED_METHODS),
		SIPTAG_USER_AGENT_STR(USER_AGENT), TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
		TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
	free(sdp);
	if (!call->invite_orq) {
		pr_warn("call %s: cannot send the INVITE to %s\n", call->id, out_side->name);
		call_destroy(call);
		return 0;
	}
	return 0;
}

/* A request outside any dialog, admitted (see stray_message): answers like an nta leg callback. */
static int default_request(struct xt_b2bua *b2b, int side, nta_incoming_t *irq, sip_t const *sip)
{
	count_request(b2b, side, sip);
	switch (sip->sip_request->rq_method) {
	case sip_method_invite:
		if (channels_full(b2b, side, irq))
			return 503; /* answered, with Retry-After */
		return invite_new_call(b2b, side, irq, sip);
	case sip_method_options:
		nta_incoming_treply(irq, SIP_200_OK, SIPTAG_ALLOW_STR(ALLOWED_METHODS),
				    SIPTAG_ACCEPT_STR(SDP_TYPE), SIPTAG_USER_AGENT_STR(USER_AGENT),
				    TAG_END());
		return 0;
	case sip_method_bye:
	case sip_method_cancel:
		return 481;
	default:
		nta_incoming_treply(irq, SIP_405_METHOD_NOT_ALLOWED,
				    SIPTAG_ALLOW_STR(ALLOWED_METHODS), TAG_END());
		return 0;
	}
}

/*
 * Every message nta could not match to a transaction or a dialog: new
 * requests, and stray responses (discarded). There is no default leg, so a
 * new request arrives here before nta keeps any state for it: admission
 * drops it with nothing to clean up, or rejects it statelessly, and only an
 * admitted request becomes a server transaction.
 */
static int stray_message(struct xt_b2bua *b2b, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
	int side = agent == b2b->agent[XT_SIDE_TRUNK] ? XT_SIDE_TRUNK : XT_SIDE_PBX;
	nta_incoming_t *irq;
	int status;

	if (!sip || !sip->sip_request) {
		nta_msg_discard(agent, msg); /* a stray response: ours to free */
		return 0;
	}
	if (!admit_new_request(b2b, side, agent, msg, sip))
		return 0;
	if (sip->sip_request->rq_method == sip_method_ack) {
		/* an ACK outside any dialog (of a stateless 403, of a call gone):
		 * counted, never answered, no transaction */
		count_request(b2b, side, sip);
		nta_msg_discard(agent, msg);
		return 0;
	}
	irq = nta_incoming_create(agent, NULL, msg, sip, TAG_END());
	if (!irq)
		return 0; /* nta took the message */
	/* what nta does with a leg callback's answer */
	status = default_request(b2b, side, irq, sip);
	if (status == 0)
		return 0;
	if (status < 100 || status > 699)
		status = 500;
	if (nta_incoming_status(irq) < 200)
		nta_incoming_treply(irq, status, NULL, TAG_END());
	if (status >= 200)
		nta_incoming_destroy(irq);
	return 0;
}

/*
 * A SIP socket's default receive buffer holds ~10-20 ms of signalling at
 * 2,000 calls/s: any pause overflows it, and every lost INVITE or ACK costs
 * a 500 ms retransmission or a failed call. sofia-sip has no setting for it,
 * so find the agent's socket and enlarge its buffer.
 */
#define SIP_RCVBUF (8 * 1024 * 1024)

static void enlarge_receive_buffer(const struct xt_endpoint *sip, const char *side)
{
	int fd = xt_udp_socket_find(sip), size = SIP_RCVBUF;

	if (fd < 0 || (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) &&
		       setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size))))
		pr_info("side %s: SIP receive buffer left at its default\n", side);
}

/*
 * Only what can be SIP reaches sofia-sip: a datagram that starts with a token
 * character (a method, "SIP/2.0") or CR/LF (keep-alives). sofia-sip takes a
 * datagram whose first byte is 0 or 1 for STUN and leaks memory answering
 * each one (found by make fuzz); binary junk has nothing to answer to anyway.
 * A classic BPF filter on the socket drops the rest in the kernel.
 */
static void only_sip_datagrams(const struct xt_endpoint *sip, const char *side)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8), /* the first byte after the UDP header */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, '\r', 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, '\n', 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x7f, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x21, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),	       /* drop */
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff), /* the whole datagram */
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };
	int fd = xt_udp_socket_find(sip);

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		pr_warn("side %s: cannot filter what is not SIP from the SIP socket\n", side);
}

struct xt_b2bua *xt_b2bua_create(su_root_t *root, const struct xt_config *config,
				 struct xt_media_env *media, char *err, size_t errlen)
{
	struct xt_b2bua *b2b = calloc(1, sizeof(*b2b));

	if (!b2b) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	su_home_init(b2b->home);
	b2b->admission = xt_admission_create(config);
	if (!b2b->admission) {
		snprintf(err, errlen, "out of memory");
		su_home_deinit(b2b->home);
		free(b2b);
		return NULL;
	}
	b2b->root = root;
	b2b->config = config;
	b2b->media = media;
	for (int side = 0; side < XT_SIDES; side++) {
		const struct xt_side_config *sc = &config->side[side];
		char url[96], contact[160];

		host_text(&sc->sip, b2b->host[side], sizeof(b2b->host[side]));
		host_text(&sc->peer, b2b->peer_host[side], sizeof(b2b->peer_host[side]));
		snprintf(url, sizeof(url), "sip:%s;transport=udp", b2b->host[side]);
		b2b->agent[side] = nta_agent_create(root, (url_string_t *)url, stray_message, b2b,
						    NTATAG_UA(1), NTATAG_UDP_MTU(65535),
						    NTATAG_SERVER_RPORT(1), TAG_END());
		if (!b2b->agent[side]) {
			snprintf(err, errlen, "side %s: cannot listen for SIP on %s: %s", sc->name,
				 b2b->host[side], strerror(errno));
			xt_b2bua_destroy(b2b);
			return NULL;
		}
		enlarge_receive_buffer(&sc->sip, sc->name);
		only_sip_datagrams(&sc->sip, sc->name);
		snprintf(contact, sizeof(contact), "<sip:xtrunk@%s>", b2b->host[side]);
		b2b->contact[side] = sip_contact_make(b2b->home, contact);
		if (!b2b->contact[side]) {
			snprintf(err, errlen, "side %s: out of memory", sc->name);
			xt_b2bua_destroy(b2b);
			return NULL;
		}
		pr_info("side %s: SIP on %s, peer %s\n", sc->name, b2b->host[side],
			b2b->peer_host[side]);
	}
	return b2b;
}

void xt_b2bua_destroy(struct xt_b2bua *b2b)
{
	if (!b2b)
		return;
	while (b2b->calls) {
		struct xt_call *call = b2b->calls;

		if (call->state == CALL_CONFIRMED) {
			send_bye(call, XT_SIDE_PBX);
			send_bye(call, XT_SIDE_TRUNK);
		} else if (call->invite_orq) {
			nta_outgoing_cancel(call->invite_orq);
		}
		call_destroy(call);
	}
	for (int side = 0; side < XT_SIDES; side++) {
		if (b2b->agent[side])
			nta_agent_destroy(b2b->agent[side]);
	}
	xt_admission_destroy(b2b->admission);
	su_home_deinit(b2b->home);
	free(b2b);
}

void xt_b2bua_get_stats(const struct xt_b2bua *b2b, struct xt_b2bua_stats *stats)
{
	*stats = b2b->stats;
	xt_admission_get_stats(b2b->admission, &stats->admission);
	for (int side = 0; side < XT_SIDES; side++) {
		usize_t bad = 0;

		nta_agent_get_stats(b2b->agent[side], NTATAG_S_BAD_MESSAGE_REF(bad), TAG_END());
		stats->sip_malformed[side] = bad;
	}
}

/* Hang up both legs with BYE, counted as a timeout. */
static void call_time_out(struct xt_call *call, const char *why)
{
	pr_info("call %s: %s: hanging up both legs\n", call->id, why);
	send_bye(call, XT_SIDE_PBX);
	send_bye(call, XT_SIDE_TRUNK);
	call->state = CALL_ENDED;
	call->b2b->stats.calls_timeout++;
	call_destroy(call);
}

void xt_b2bua_tick(struct xt_b2bua *b2b)
{
	uint64_t now = xt_monotonic_ns();
	uint64_t media_timeout = (uint64_t)b2b->config->media_timeout_s * 1000000000ull;
	uint64_t hold_timeout = (uint64_t)b2b->config->hold_timeout_s * 1000000000ull;
	struct xt_call *call, *next;

	for (call = b2b->calls; call; call = next) {
		struct xt_media_activity activity;
		bool hold;
		uint64_t last;

		next = call->next;
		if (call->state != CALL_CONFIRMED)
			continue;
		/* Other branches' 2xx come within 64*T1 of the first (RFC 3261 13.2.2.4). */
		if (call->invite_orq && now - call->answered_ns > 32000000000ull) {
			nta_outgoing_destroy(call->invite_orq);
			call->invite_orq = NULL;
		}
		/* silence counts from the answer, or the last change of the media
		 * (hold, resume, a new peer), until the next packet */
		xt_media_session_activity(&call->media, &activity);
		last = activity.last_ns;
		if (last < call->answered_ns)
			last = call->answered_ns;
		if (last < call->media.changed_ns)
			last = call->media.changed_ns;
		hold = xt_media_session_on_hold(&call->media);
		if (now > last && now - last > (hold ? hold_timeout : media_timeout))
			call_time_out(call, hold ? "media timeout on hold" : "media timeout");
	}
}

/* ---- control interface ---- */

static const char *call_state_name(const struct xt_call *call)
{
	switch (call->state) {
	case CALL_INVITING:
		return "inviting";
	case CALL_EARLY:
		return "early";
	case CALL_CONFIRMED:
		return "confirmed";
	default:
		return "ending";
	}
}

static void leg_info(const struct xt_call *call, int side, struct xt_call_leg_info *leg)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	sip_replaces_t *rp;

	memset(leg, 0, sizeof(*leg));
	leg->side = call->b2b->config->side[side].name;
	leg->peer = call->b2b->peer_host[side];
	leg->caller = side == call->in;
	if (!call->leg[side])
		return;
	/* nta keeps a leg's dialog identifiers to itself; Replaces (RFC 3891) names them */
	rp = nta_leg_make_replaces(call->leg[side], home, 0);
	if (rp) {
		snprintf(leg->call_id, sizeof(leg->call_id), "%s", rp->rp_call_id);
		snprintf(leg->local_tag, sizeof(leg->local_tag), "%s",
			 rp->rp_from_tag ? rp->rp_from_tag : "");
		if (rp->rp_to_tag && strcmp(rp->rp_to_tag, "0"))
			snprintf(leg->remote_tag, sizeof(leg->remote_tag), "%s", rp->rp_to_tag);
	} else if (nta_leg_get_tag(call->leg[side])) {
		snprintf(leg->local_tag, sizeof(leg->local_tag), "%s",
			 nta_leg_get_tag(call->leg[side]));
	}
	su_home_deinit(home);
}

static void call_info(struct xt_call *call, struct xt_call_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = call->id;
	info->state = call_state_name(call);
	info->started_ns = call->started_ns;
	info->answered_ns = call->state == CALL_CONFIRMED ? call->answered_ns : 0;
	for (int side = 0; side < XT_SIDES; side++)
		leg_info(call, side, &info->legs[side]);
	info->media = call->media_ended ? NULL : &call->media;
}

unsigned int xt_b2bua_foreach_call(struct xt_b2bua *b2b, const char *id, xt_call_visit_fn visit,
				   void *arg)
{
	struct xt_call **calls, *call;
	unsigned int total = 0, visited = 0, i;

	for (call = b2b->calls; call; call = call->next)
		total++;
	calls = calloc(total ? total : 1, sizeof(*calls));
	if (!calls)
		return 0;
	/* the list holds the newest first: visit the oldest first */
	for (i = total, call = b2b->calls; call; call = call->next)
		calls[--i] = call;
	for (i = 0; i < total; i++) {
		struct xt_call_info info;

		if (id && strcmp(calls[i]->id, id))
			continue;
		call_info(calls[i], &info);
		visit(&info, arg);
		visited++;
	}
	free(calls);
	return visited;
}

int xt_b2bua_terminate(struct xt_b2bua *b2b, const char *id)
{
	struct xt_call *call;

	for (call = b2b->calls; call; call = call->next)
		if (!strcmp(call->id, id))
			break;
	if (!call)
		return -ENOENT;
	if (call->state == CALL_ENDED)
		return -EALREADY;
	pr_info("call %s: terminated by the operator\n", call->id);
	b2b->stats.calls_terminated++;
	if (call->state == CALL_CONFIRMED) {
		send_bye(call, XT_SIDE_PBX);
		send_bye(call, XT_SIDE_TRUNK);
		call->state = CALL_ENDED;
		call_destroy(call);
		return 0;
	}
	/* not answered yet: 503 to the caller, CANCEL to the callee */
	if (call->invite_irq && nta_incoming_status(call->invite_irq) < 200)
		nta_incoming_treply(call->invite_irq, SIP_503_SERVICE_UNAVAILABLE,
				    SIPTAG_USER_AGENT_STR(USER_AGENT), TAG_END());
	call->state = CALL_ENDED;
	call_end_media(call);
	if (call->invite_orq)
		nta_outgoing_cancel(call->invite_orq); /* the call goes with the callee's answer */
	else
		call_destroy(call);
	return 0;
}

const char *xt_b2bua_peer(const struct xt_b2bua *b2b, int side)
{
	return b2b->peer_host[side];
}
