// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Requests outside a dialog: an INVITE becomes a new call (the caller's leg,
 * ours to the endpoint the call goes to, with its own Call-ID, tags and Contact), OPTIONS is
 * answered here, the rest refused. Only an INVITE that starts a call gets a
 * server transaction; everything else is answered statelessly.
 */
#include <stdio.h>
#include <stdlib.h>

#include "b2bua_private.h"
#include "log.h"

/* The caller's leg: its dialog as the INVITE opened it, our tag on it, 100 Trying. */
static bool open_caller_leg(struct xt_call *call, nta_incoming_t *irq, sip_t const *sip)
{
	struct xt_b2bua *b2b = call->b2b;
	int in = call->in;

	call->leg[in] = nta_leg_tcreate(b2b->agent[call_endpoint(call, in)], b2bua_leg_request,
					call, SIPTAG_CALL_ID(sip->sip_call_id),
					SIPTAG_FROM(sip->sip_to), SIPTAG_TO(sip->sip_from),
					TAG_END());
	if (!call->leg[in])
		return false;
	nta_leg_tag(call->leg[in], NULL);
	nta_leg_server_route(call->leg[in], sip->sip_record_route, sip->sip_contact);
	nta_incoming_tag(irq, nta_leg_get_tag(call->leg[in]));
	nta_incoming_treply(irq, SIP_100_TRYING, TAG_END());
	return true;
}

/*
 * The callee's leg: our identity, the same user parts, nothing else.
 * Fills the request URI; false when the leg cannot be made.
 */
static bool open_callee_leg(struct xt_call *call, sip_t const *sip, char *ruri, size_t ruri_len)
{
	struct xt_b2bua *b2b = call->b2b;
	const char *user = sip->sip_request->rq_url->url_user;
	char from_text[256], to_text[256];
	int out = call->out, ep = call_endpoint(call, out);
	sip_from_t *from;
	sip_to_t *to;

	snprintf(from_text, sizeof(from_text), "<sip:%s@%s>",
		 sip->sip_from && sip->sip_from->a_url->url_user ? sip->sip_from->a_url->url_user :
								   "anonymous",
		 b2b->host[ep]);
	snprintf(to_text, sizeof(to_text), "<sip:%s%s%s>", user ? user : "", user ? "@" : "",
		 b2b->peer_host[ep]);
	snprintf(ruri, ruri_len, "sip:%s%s%s", user ? user : "", user ? "@" : "",
		 b2b->peer_host[ep]);
	from = sip_from_make(call->home, from_text);
	to = sip_to_make(call->home, to_text);
	if (from && sip->sip_from && sip->sip_from->a_display)
		from->a_display = su_strdup(call->home, sip->sip_from->a_display);
	call->leg[out] = nta_leg_tcreate(b2b->agent[ep], b2bua_leg_request, call,
					 SIPTAG_CALL_ID(sip_call_id_create(call->home, NULL)),
					 SIPTAG_FROM(from), SIPTAG_TO(to), TAG_END());
	return call->leg[out] && nta_leg_tag(call->leg[out], NULL);
}

/* The call counts against setup_calls from its INVITE's source until answered. */
static void setup_start(struct xt_call *call, nta_incoming_t *irq)
{
	msg_t *msg = nta_incoming_getrequest(irq);
	struct xt_endpoint src;

	b2bua_msg_source(msg, &src);
	xt_call_setup_start(call, &src);
	if (msg)
		msg_destroy(msg);
}

/* An INVITE that starts a call: its server transaction, the call, our INVITE to the callee. */
int b2bua_new_call(struct xt_b2bua *b2b, int from, nta_incoming_t *irq, sip_t const *sip,
		   bool from_peer)
{
	const char *user = sip->sip_request->rq_url->url_user;
	int to = xt_config_route(b2b->config, from);
	unsigned long max_forwards = 70;
	char ruri[256], max_forwards_text[24];
	struct xt_call *call;
	char *sdp = NULL;
	int bad, in, out;

	if (sip->sip_max_forwards)
		max_forwards = sip->sip_max_forwards->mf_count - 1; /* not 0: answered 483 */
	snprintf(max_forwards_text, sizeof(max_forwards_text), "%lu", max_forwards);
	call = xt_call_create(b2b, from, to);
	if (!call)
		return 500;
	call->caller_is_peer = from_peer;
	in = call->in;
	out = call->out;
	setup_start(call, irq);
	pr_info("call %s: INVITE from %s for %s\n", call->id, b2b->config->endpoint[from].name,
		user ? user : "(no user)");

	call->invite_irq = irq;
	nta_incoming_bind(irq, b2bua_invite_ack_cancel, call);
	if (!open_caller_leg(call, irq, sip)) {
		call->invite_irq = NULL; /* answered 500 by our caller */
		xt_call_end(call, XT_CALL_END_ERROR, 0, NULL);
		return 500;
	}
	b2bua_note_source(call, in, nta_incoming_getrequest(irq));
	bad = b2bua_rewrite_body(call, in, sip, &sdp);
	if (bad) {
		xt_call_end(call, XT_CALL_END_BAD_OFFER, bad, NULL);
		return 0;
	}
	call->offer_in_invite = sdp != NULL;
	if (!open_callee_leg(call, sip, ruri, sizeof(ruri))) {
		free(sdp);
		xt_call_end(call, XT_CALL_END_ERROR, 0, NULL);
		return 0;
	}
	call->invite_orq = nta_outgoing_tcreate(
		call->leg[out], b2bua_invite_response, call, NULL, SIP_METHOD_INVITE,
		(url_string_t *)ruri, SIPTAG_CONTACT(b2b->contact[to]),
		SIPTAG_MAX_FORWARDS_STR(max_forwards_text), SIPTAG_ALLOW_STR(ALLOWED_METHODS),
		SIPTAG_USER_AGENT_STR(USER_AGENT), TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR(SDP_TYPE)),
		TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
	free(sdp);
	if (!call->invite_orq) {
		pr_warn("call %s: cannot send the INVITE to %s\n", call->id,
			b2b->config->endpoint[to].name);
		xt_call_end(call, XT_CALL_END_ERROR, 0, NULL);
		return 0;
	}
	xt_call_event(call, XT_CALL_EV_INVITE);
	return 0;
}

/*
 * The status an INVITE outside a dialog gets before a call is made for it;
 * 0: it starts one.
 */
static int invite_refusal(struct xt_b2bua *b2b, int endpoint, nta_agent_t *agent, msg_t *msg,
			  sip_t const *sip)
{
	/* until routes exist: a PBX's calls go to the first trunk, a trunk's to the first PBX */
	int to = xt_config_route(b2b->config, endpoint);

	if (to < 0)
		return 404;
	if (sip->sip_to && sip->sip_to->a_tag)
		return 481; /* a re-INVITE for a dialog we do not know */
	if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0)
		return 483;
	if (b2bua_channels_full(b2b, endpoint, to, agent, msg) ||
	    b2bua_setup_full(b2b, endpoint, agent, msg))
		return -1; /* answered, with Retry-After */
	return 0;
}

bool b2bua_answer_stateless(struct xt_b2bua *b2b, int endpoint, nta_agent_t *agent, msg_t *msg,
			    sip_t *sip)
{
	int status;

	b2bua_count_request(b2b, endpoint, sip);
	switch (sip->sip_request->rq_method) {
	case sip_method_invite:
		status = invite_refusal(b2b, endpoint, agent, msg, sip);
		if (status == 0)
			return false;
		if (status < 0)
			return true;
		break;
	case sip_method_options:
		nta_msg_treply(agent, msg, SIP_200_OK, SIPTAG_ALLOW_STR(ALLOWED_METHODS),
			       SIPTAG_ACCEPT_STR(SDP_TYPE), SIPTAG_USER_AGENT_STR(USER_AGENT),
			       TAG_END());
		return true;
	case sip_method_bye:
	case sip_method_cancel:
		status = 481;
		break;
	default:
		nta_msg_treply(agent, msg, SIP_405_METHOD_NOT_ALLOWED,
			       SIPTAG_ALLOW_STR(ALLOWED_METHODS), TAG_END());
		return true;
	}
	nta_msg_treply(agent, msg, status, sip_status_phrase(status), TAG_END());
	return true;
}
