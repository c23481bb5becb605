// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct xt_b2bua;
struct xt_call;
struct xt_relayed_request;

#define NTA_AGENT_MAGIC_T struct xt_b2bua
#define NTA_LEG_MAGIC_T void /* a call's legs: the call; default legs: the b2bua */
#define NTA_OUTGOING_MAGIC_T struct xt_call
#define NTA_INCOMING_MAGIC_T struct xt_call

#include <sofia-sip/nta.h>
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

enum call_state { CALL_INVITING, CALL_EARLY, CALL_CONFIRMED, CALL_ENDED };

/* An in-dialog request from one leg, waiting for the other leg's answer. */
struct xt_relayed_request {
	struct xt_relayed_request *next;
	struct xt_call *call;
	int from; /* side the request came from */
	nta_incoming_t *irq;
	nta_outgoing_t *orq;
};

struct xt_call {
	struct xt_call *next;
	struct xt_b2bua *b2b;
	su_home_t home[1];
	char id[24];
	int in, out; /* in: the side that placed the call */
	enum call_state state;
	uint64_t answered_ns; /* CLOCK_MONOTONIC when answered */
	bool media_ended;     /* flows and ports let go, counters logged */
	nta_leg_t *leg[XT_SIDES];
	nta_incoming_t *invite_irq; /* the caller's INVITE, until answered or failed */
	nta_outgoing_t *invite_orq; /* our INVITE to the callee */
	struct xt_relayed_request *relayed;
	struct xt_media_session media;
};

struct xt_b2bua {
	su_root_t *root;
	const struct xt_config *config;
	struct xt_media_env *media;
	nta_agent_t *agent[XT_SIDES];
	nta_leg_t *default_leg[XT_SIDES];
	sip_contact_t *contact[XT_SIDES];
	char host[XT_SIDES][80]; /* our SIP host:port text on each side */
	char peer_host[XT_SIDES][80];
	su_home_t home[1];
	struct xt_call *calls;
	unsigned int next_call;
	struct xt_b2bua_stats stats;
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
	snprintf(call->id, sizeof(call->id), "c%u", ++b2b->next_call);
	xt_media_session_init(&call->media, b2b->media, call->id);
	call->next = b2b->calls;
	b2b->calls = call;
	b2b->stats.calls_started++;
	b2b->stats.calls_active++;
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
	int class = sip ? (int)sip->sip_status->st_status / 100 : 0;

	if (class >= 1 && class <= 6)
		b2b->stats.sip_responses[side][class]++;
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
	if (call->invite_orq)
		nta_outgoing_destroy(call->invite_orq);
	for (int side = 0; side < XT_SIDES; side++)
		if (call->leg[side])
			nta_leg_destroy(call->leg[side]);
	for (pp = &b2b->calls; *pp; pp = &(*pp)->next)
		if (*pp == call) {
			*pp = call->next;
			break;
		}
	b2b->stats.calls_active--;
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

static void ack_2xx(struct xt_call *call, int side, sip_t const *sip)
{
	nta_outgoing_t *ack;

	ack = nta_outgoing_tcreate(
		call->leg[side], NULL, NULL, NULL, SIP_METHOD_ACK, NULL,
		SIPTAG_CSEQ(sip_cseq_create(call->home, sip->sip_cseq->cs_seq, SIP_METHOD_ACK)),
		SIPTAG_USER_AGENT_STR(USER_AGENT), TAG_END());
	if (ack)
		nta_outgoing_destroy(ack);
	else
		pr_warn("call %s: cannot ACK the 2xx from %s\n", call->id,
			call->b2b->config->side[side].name);
}

static int invite_response(struct xt_call *call, nta_outgoing_t *orq, sip_t const *sip)
{
	count_response(call->b2b, call->out, sip);
	struct xt_b2bua *b2b = call->b2b;
	int status = sip ? (int)sip->sip_status->st_status : 408;
	const char *phrase = sip ? sip->sip_status->st_phrase : "Request Timeout";
	char *sdp = NULL;
	int bad;

	if (status < 200 || status >= 300)
		pr_debug("call %s: %d from %s\n", call->id, status,
			 b2b->config->side[call->out].name);

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
		bad = rewrite_body(call, call->out, sip, &sdp);
		/* ACKed here: the caller's ACK is absorbed on its own leg. */
		ack_2xx(call, call->out, sip);
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
		nta_incoming_destroy(call->invite_irq);
		call->invite_irq = NULL;
		nta_outgoing_destroy(orq);
		call->invite_orq = NULL;
		call->state = CALL_CONFIRMED;
		call->answered_ns = xt_monotonic_ns();
		b2b->stats.calls_answered++;
		pr_info("call %s: answered (%d)\n", call->id, status);
		return 0;
	}

	if (status < 200) {
		if (status == 100 || call->state == CALL_ENDED || !call->invite_irq)
			return 0;
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

	/* 3xx-6xx: relayed as they are (redirects are not followed), ports freed. */
	if (call->invite_irq && nta_incoming_status(call->invite_irq) < 200)
		nta_incoming_treply(call->invite_irq, status, phrase,
				    SIPTAG_USER_AGENT_STR(USER_AGENT), TAG_END());
	if (status == 487)
		b2b->stats.calls_cancelled++;
	else
		b2b->stats.calls_failed++;
	pr_info("call %s: failed: %d %s\n", call->id, status, phrase ? phrase : "");
	nta_outgoing_destroy(orq);
	call->invite_orq = NULL;
	call_destroy(call);
	return 0;
}

/* CANCEL (and ACK) for the caller's INVITE transaction. */
static int invite_ack_cancel(struct xt_call *call, nta_incoming_t *irq, sip_t const *sip)
{
	if (!sip)
		return 0;
	count_request(call->b2b, call->in, sip);
	if (sip->sip_request->rq_method != sip_method_cancel)
		return 0; /* the ACK of our 2xx */
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
	char *sdp = NULL;

	for (rr = call->relayed; rr; rr = rr->next)
		if (rr->orq == orq)
			break;
	if (!rr)
		return 0;
	count_response(call->b2b, 1 - rr->from, sip);
	if (status < 200)
		return 0;
	if (status < 300) {
		if (nta_outgoing_method(orq) == sip_method_invite)
			ack_2xx(call, 1 - rr->from, sip);
		if (rewrite_body(call, 1 - rr->from, sip, &sdp))
			sdp = NULL;
	}
	nta_incoming_treply(rr->irq, status, sip ? sip->sip_status->st_phrase : NULL,
			    SIPTAG_CONTACT(call->b2b->contact[rr->from]),
			    SIPTAG_USER_AGENT_STR(USER_AGENT),
			    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
			    TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
	free(sdp);
	nta_incoming_destroy(rr->irq);
	nta_outgoing_destroy(orq);
	relayed_free(rr);
	return 0;
}

/* Relay an in-dialog request (re-INVITE, UPDATE, INFO, ...) to the other leg. */
static int relay_request(struct xt_call *call, int from, nta_incoming_t *irq, sip_t const *sip)
{
	struct xt_relayed_request *rr;
	int to = 1 - from, bad;
	char *sdp = NULL;

	bad = rewrite_body(call, from, sip, &sdp);
	if (bad)
		return bad;
	rr = calloc(1, sizeof(*rr));
	if (!rr) {
		free(sdp);
		return 500;
	}
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
	switch (method) {
	case sip_method_ack:
		return 200; /* our 2xx was answered; the other side was ACKed already */
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

	bad = rewrite_body(call, in, sip, &sdp);
	if (bad) {
		nta_incoming_treply(irq, bad, NULL, TAG_END());
		b2b->stats.calls_failed++;
		call_destroy(call);
		return 0;
	}

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

static int default_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip)
{
	struct xt_b2bua *b2b = magic;
	int side = leg == b2b->default_leg[XT_SIDE_TRUNK] ? XT_SIDE_TRUNK : XT_SIDE_PBX;

	count_request(b2b, side, sip);
	switch (sip->sip_request->rq_method) {
	case sip_method_invite:
		return invite_new_call(b2b, side, irq, sip);
	case sip_method_options:
		nta_incoming_treply(irq, SIP_200_OK, SIPTAG_ALLOW_STR(ALLOWED_METHODS),
				    SIPTAG_ACCEPT_STR(SDP_TYPE), SIPTAG_USER_AGENT_STR(USER_AGENT),
				    TAG_END());
		return 0;
	case sip_method_ack:
		return 200; /* stray ACK: nothing to do */
	case sip_method_bye:
	case sip_method_cancel:
		return 481;
	default:
		nta_incoming_treply(irq, SIP_405_METHOD_NOT_ALLOWED,
				    SIPTAG_ALLOW_STR(ALLOWED_METHODS), TAG_END());
		return 0;
	}
}

/* Messages nta could not match to a transaction: nothing to do. */
static int stray_message(struct xt_b2bua *b2b, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
	nta_msg_discard(agent, msg);
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

struct xt_b2bua *xt_b2bua_create(su_root_t *root, const struct xt_config *config,
				 struct xt_media_env *media, char *err, size_t errlen)
{
	struct xt_b2bua *b2b = calloc(1, sizeof(*b2b));

	if (!b2b) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	su_home_init(b2b->home);
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
		b2b->default_leg[side] = nta_leg_tcreate(b2b->agent[side], default_request, b2b,
							 NTATAG_NO_DIALOG(1), TAG_END());
		snprintf(contact, sizeof(contact), "<sip:xtrunk@%s>", b2b->host[side]);
		b2b->contact[side] = sip_contact_make(b2b->home, contact);
		if (!b2b->default_leg[side] || !b2b->contact[side]) {
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
		if (b2b->default_leg[side])
			nta_leg_destroy(b2b->default_leg[side]);
		if (b2b->agent[side])
			nta_agent_destroy(b2b->agent[side]);
	}
	su_home_deinit(b2b->home);
	free(b2b);
}

void xt_b2bua_get_stats(const struct xt_b2bua *b2b, struct xt_b2bua_stats *stats)
{
	*stats = b2b->stats;
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
	struct xt_call *call, *next;

	for (call = b2b->calls; call; call = next) {
		struct xt_media_activity activity;
		uint64_t last;

		next = call->next;
		if (call->state != CALL_CONFIRMED)
			continue;
		/* silence counts from the answer until the first packet */
		xt_media_session_activity(&call->media, &activity);
		last = activity.last_ns;
		if (last < call->answered_ns)
			last = call->answered_ns;
		if (now > last && now - last > media_timeout)
			call_time_out(call, "media timeout");
	}
}
