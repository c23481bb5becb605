// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The callee's answers to our INVITE, and the ACK and CANCEL of an INVITE
 * we answer: they move the call from INVITING to CONFIRMED, or end it.
 */
#include <stdlib.h>
#include <string.h>

#include "b2bua_private.h"
#include "clock.h"
#include "log.h"

void b2bua_ack_2xx(struct xt_call *call, int side, sip_t const *sip)
{
	xt_call_send_ack(call, call->leg[side], side, sip->sip_cseq->cs_seq, NULL);
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
			xt_call_send_ack(call, call->forks[i], call->out, cseq, NULL);
			return;
		}
	}
	if (i == max) {
		pr_warn("call %s: too many answered branches; one left to time out\n", call->id);
		return;
	}
	leg = nta_leg_tcreate(call->b2b->agent[call_endpoint(call, call->out)], NULL, NULL,
			      SIPTAG_CALL_ID(sip->sip_call_id), SIPTAG_FROM(sip->sip_from),
			      SIPTAG_TO(sip->sip_to), TAG_END());
	if (!leg) {
		pr_warn("call %s: cannot end an extra answered branch\n", call->id);
		return;
	}
	nta_leg_client_route(leg, sip->sip_record_route, sip->sip_contact);
	call->forks[i] = leg;
	pr_info("call %s: another branch answered (tag %s): ACK and BYE\n", call->id, tag);
	xt_call_send_ack(call, leg, call->out, cseq, NULL);
	if (!nta_outgoing_tcreate(leg, xt_call_bye_response, NULL, NULL, SIP_METHOD_BYE, NULL,
				  SIPTAG_CSEQ(sip_cseq_create(call->home, cseq + 1, SIP_METHOD_BYE)),
				  SIPTAG_USER_AGENT_STR(USER_AGENT), TAG_END()))
		pr_warn("call %s: cannot send BYE to an extra branch\n", call->id);
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
	bad = sip ? b2bua_rewrite_body(call, from, sip, &sdp) : 408;
	if (!bad && !sdp)
		bad = 488;
	xt_call_send_ack(call, call->leg[pa->side], pa->side, pa->cseq, bad ? NULL : sdp);
	free(sdp);
	if (!bad) {
		call->callee_acked = true;
		return true;
	}
	xt_call_end(call, sip ? XT_CALL_END_BAD_ACK : XT_CALL_END_NO_ACK, 0, NULL);
	return false;
}

/* A 2xx while the call is answered already: a retransmission, or another branch. */
static void invite_answered_again(struct xt_call *call, sip_t const *sip)
{
	const char *rtag = nta_leg_get_rtag(call->leg[call->out]);

	if (rtag && sip->sip_to->a_tag && !strcmp(rtag, sip->sip_to->a_tag)) {
		/* a retransmission: our ACK was lost (or is still to come) */
		if (call->callee_acked)
			b2bua_ack_2xx(call, call->out, sip);
	} else if (sip->sip_to->a_tag) {
		fork_hangup(call, sip);
	}
}

/* The callee answered: relay the 2xx to the caller, or end the call when it cannot start. */
static void invite_answered(struct xt_call *call, nta_outgoing_t *orq, sip_t const *sip)
{
	struct xt_b2bua *b2b = call->b2b;
	int status = (int)sip->sip_status->st_status;
	char *sdp = NULL;
	bool delayed;
	int bad;

	nta_leg_rtag(call->leg[call->out], sip->sip_to->a_tag);
	nta_leg_client_route(call->leg[call->out], sip->sip_record_route, sip->sip_contact);
	if (call->state == XT_CALL_TERMINATING) {
		/* answered after the caller cancelled: hang up that side */
		xt_call_end(call, XT_CALL_END_LATE_ANSWER, 0, NULL);
		return;
	}
	/* The flows first, then the ACK: a callee may start its media on the ACK. */
	b2bua_note_source(call, call->out, nta_outgoing_getresponse(orq));
	delayed = !call->offer_in_invite;
	bad = b2bua_rewrite_body(call, call->out, sip, &sdp);
	if (!bad && delayed && !sdp)
		bad = 488; /* no offer in the INVITE and none in its 2xx */
	if (bad || !delayed) {
		/* ACKed here: the caller's ACK is absorbed on its own leg. */
		b2bua_ack_2xx(call, call->out, sip);
		call->callee_acked = true;
	}
	if (bad) {
		xt_call_end(call, XT_CALL_END_BAD_ANSWER, bad, NULL);
		return;
	}
	nta_incoming_treply(call->invite_irq, status, sip->sip_status->st_phrase,
			    SIPTAG_CONTACT(b2b->contact[call_endpoint(call, call->in)]),
			    SIPTAG_ALLOW_STR(ALLOWED_METHODS), SIPTAG_USER_AGENT_STR(USER_AGENT),
			    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
			    TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
	free(sdp);
	if (delayed) {
		/* the callee is ACKed with the answer the caller's ACK brings */
		call->pending_ack = (struct xt_pending_ack){ .waiting = true,
							     .side = call->out,
							     .cseq = sip->sip_cseq->cs_seq,
							     .irq = call->invite_irq };
	}
	/*
	 * The caller's INVITE stays until its ACK (b2bua_invite_ack_cancel:
	 * the call is CONFIRMED, or ended when nta's timer H says no ACK came);
	 * ours stays for its 2xx retransmissions and other branches' 2xx.
	 */
	xt_call_event(call, XT_CALL_EV_ANSWER);
	xt_call_setup_done(call);
	call->answered_ns = xt_monotonic_ns();
	b2b->stats.calls_answered++;
	pr_info("call %s: answered (%d)%s\n", call->id, status,
		delayed ? ", offer in the 2xx" : "");
}

/* 18x: relayed to the caller, with the early media's SDP when it is usable. */
static void invite_provisional(struct xt_call *call, nta_outgoing_t *orq, sip_t const *sip)
{
	char *sdp = NULL;

	if (sip->sip_payload)
		b2bua_note_source(call, call->out, nta_outgoing_getresponse(orq));
	if (b2bua_rewrite_body(call, call->out, sip, &sdp)) {
		/* bad early media SDP: relay the ringing, not the media */
		sdp = NULL;
	}
	nta_incoming_treply(call->invite_irq, (int)sip->sip_status->st_status,
			    sip->sip_status->st_phrase,
			    SIPTAG_CONTACT(call->b2b->contact[call_endpoint(call, call->in)]),
			    SIPTAG_USER_AGENT_STR(USER_AGENT),
			    TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
			    TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
	free(sdp);
	xt_call_event(call, XT_CALL_EV_PROVISIONAL);
}

int b2bua_invite_response(struct xt_call *call, nta_outgoing_t *orq, sip_t const *sip)
{
	int status = sip ? (int)sip->sip_status->st_status : 408;
	const char *phrase = sip ? sip->sip_status->st_phrase : "Request Timeout";

	b2bua_count_response(call->b2b, call_endpoint(call, call->out), sip);
	if (status < 200 || status >= 300)
		pr_debug("call %s: %d from %s\n", call->id, status,
			 call_endpoint_config(call, call->out)->name);
	if (status >= 200 && status < 300) {
		if (xt_call_answered(call))
			invite_answered_again(call, sip);
		else
			invite_answered(call, orq, sip);
		return 0;
	}
	if (status < 200) {
		if (status != 100 && call->state != XT_CALL_TERMINATING && call->invite_irq)
			invite_provisional(call, orq, sip);
		return 0;
	}
	if (xt_call_answered(call))
		return 0; /* another branch failed after one answered */
	/* 3xx-6xx: relayed as they are (redirects are not followed), ports freed. */
	xt_call_end(call, XT_CALL_END_REJECTED, status, phrase);
	return 0;
}

/*
 * CANCEL and ACK for an INVITE we answered or are answering: the caller's,
 * or a re-INVITE whose 2xx brought an offer. NULL sip: no ACK came.
 */
int b2bua_invite_ack_cancel(struct xt_call *call, nta_incoming_t *irq, sip_t const *sip)
{
	struct xt_pending_ack *pa = &call->pending_ack;

	if (!sip || sip->sip_request->rq_method == sip_method_ack) {
		bool pending = pa->waiting && pa->irq == irq;

		/* the ACK comes from the leg that sent the INVITE */
		if (sip)
			b2bua_count_request(call->b2b,
					    call_endpoint(call, pending ? 1 - pa->side : call->in),
					    sip);
		/* the ACK of our 2xx, or nta's timer H without one (sip NULL) */
		if (!pending && irq == call->invite_irq && xt_call_answered(call)) {
			nta_incoming_destroy(irq);
			call->invite_irq = NULL;
			if (!sip)
				xt_call_end(call, XT_CALL_END_NO_ACK, 0, NULL);
			else
				xt_call_event(call, XT_CALL_EV_ACK);
			return 0;
		}
		/* the ACK of our 2xx brings the answer when the offer was in the 2xx */
		if (pa->waiting && pa->irq == irq && complete_pending_ack(call, 1 - pa->side, sip))
			xt_call_event(call, XT_CALL_EV_ACK);
		return 0;
	}
	b2bua_count_request(call->b2b, call_endpoint(call, call->in), sip);
	if (sip->sip_request->rq_method != sip_method_cancel)
		return 0;
	if (xt_call_answered(call))
		return 0; /* crossed our 2xx: nta answered it; the caller ACKs and BYEs */
	/* nta has answered 200 to the CANCEL and 487 to the INVITE. */
	xt_call_end(call, XT_CALL_END_CANCEL, 0, NULL);
	/* the call goes when the callee answers the INVITE (487, or 200 + BYE) */
	return 0;
}
