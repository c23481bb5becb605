// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Requests inside a call's dialogs: ACK and BYE end or confirm the call,
 * the rest (re-INVITE, UPDATE, INFO, ...) is relayed to the other leg, one
 * offer at a time, with the media rolled back when an offer fails.
 */
#include <stdlib.h>

#include "b2bua_private.h"
#include "log.h"

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

/*
 * A 2xx to a relayed request: its SDP rewritten for the request's sender.
 * Returns the status to relay: the answer's, or the error an unusable answer
 * to an offer gets (*unusable set: the media is back as it was before).
 */
static int relayed_2xx(struct xt_relayed_request *rr, nta_outgoing_t *orq, sip_t const *sip,
		       char **sdp, bool *unusable)
{
	struct xt_call *call = rr->call;
	bool invite = nta_outgoing_method(orq) == sip_method_invite;
	int status = (int)sip->sip_status->st_status, bad;

	if (sip->sip_payload)
		b2bua_note_source(call, 1 - rr->from, nta_outgoing_getresponse(orq));
	bad = b2bua_rewrite_body(call, 1 - rr->from, sip, sdp);
	if (bad) {
		*sdp = NULL;
		/* an unusable answer: the media stays as it was before the offer,
		 * the offerer gets the error, and the call ends */
		if (rr->offer) {
			xt_media_session_restore(&call->media, &rr->prior);
			*unusable = true;
			status = bad;
		}
	}
	if (invite && !rr->offer && *sdp) {
		/* offer in the 2xx: the ACK from rr->from brings the answer */
		call->pending_ack = (struct xt_pending_ack){ .waiting = true,
							     .side = 1 - rr->from,
							     .cseq = sip->sip_cseq->cs_seq,
							     .irq = rr->irq };
		nta_incoming_bind(rr->irq, b2bua_invite_ack_cancel, call);
	} else if (invite) {
		b2bua_ack_2xx(call, 1 - rr->from, sip);
	}
	return status;
}

static int relayed_response(struct xt_call *call, nta_outgoing_t *orq, sip_t const *sip)
{
	struct xt_relayed_request *rr = NULL;
	int status = sip ? (int)sip->sip_status->st_status : 408;
	const char *phrase = sip ? sip->sip_status->st_phrase : NULL;
	bool unusable = false;
	char *sdp = NULL;

	for (rr = call->relayed; rr; rr = rr->next)
		if (rr->orq == orq)
			break;
	if (!rr)
		return 0;
	b2bua_count_response(call->b2b, call_endpoint(call, 1 - rr->from), sip);
	if (status < 200)
		return 0;
	if (status < 300) {
		status = relayed_2xx(rr, orq, sip, &sdp, &unusable);
		if (unusable)
			phrase = NULL;
	} else if (rr->offer) {
		/* the offer was rejected: the session stays as it was (RFC 3264 8) */
		xt_media_session_restore(&call->media, &rr->prior);
	}
	nta_incoming_treply(rr->irq, status, phrase,
			    SIPTAG_CONTACT(call->b2b->contact[call_endpoint(call, rr->from)]),
			    SIPTAG_USER_AGENT_STR(USER_AGENT),
			    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
			    TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
	free(sdp);
	if (!call->pending_ack.waiting || call->pending_ack.irq != rr->irq)
		nta_incoming_destroy(rr->irq);
	nta_outgoing_destroy(orq);
	relayed_free(rr);
	/* the answerer's session now differs from the offerer's: end both */
	if (unusable)
		xt_call_end(call, XT_CALL_END_BAD_REANSWER, 0, NULL);
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
		b2bua_note_source(call, from, nta_incoming_getrequest(irq));
	bad = b2bua_rewrite_body(call, from, sip, &sdp);
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
		sip->sip_request->rq_method_name, NULL,
		SIPTAG_CONTACT(call->b2b->contact[call_endpoint(call, to)]),
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

int b2bua_leg_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip)
{
	struct xt_call *call = magic;
	int from = leg == call->leg[1];
	sip_method_t method = sip->sip_request->rq_method;

	b2bua_count_request(call->b2b, call_endpoint(call, from), sip);
	if (!b2bua_admit_in_dialog(call->b2b, call_endpoint(call, from), irq, sip)) {
		if (method != sip_method_invite)
			return method == sip_method_ack ? 0 : 403; /* an ACK is never answered */
		/* a re-INVITE from outside allow: its 403 is sent once, not until an ACK */
		nta_incoming_treply(irq, SIP_403_FORBIDDEN, SIPTAG_USER_AGENT_STR(USER_AGENT),
				    TAG_END());
		b2bua_final_once(call->b2b, call_endpoint(call, from), irq);
		return 403; /* answered already: nta lets the transaction go */
	}
	switch (method) {
	case sip_method_ack:
		/* our 2xx was answered; the other side was ACKed already (an ACK
		 * with an answer goes to its INVITE's b2bua_invite_ack_cancel()) */
		xt_call_event(call, XT_CALL_EV_ACK);
		return 200;
	case sip_method_bye:
		xt_call_end(call,
			    from == call->in ? XT_CALL_END_BYE_CALLER : XT_CALL_END_BYE_CALLEE, 0,
			    NULL);
		return 200;
	case sip_method_cancel:
		return 481;
	default:
		if (!xt_call_answered(call))
			return 491;
		return relay_request(call, from, irq, sip);
	}
}
