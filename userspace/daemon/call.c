// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A call's life: create, change state on events, end. How each end is
 * logged, counted and told to the legs is the table end_rules below.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b2bua_private.h"
#include "clock.h"
#include "log.h"

struct xt_call *xt_call_create(struct xt_b2bua *b2b, int from, int to)
{
	struct xt_call *call = calloc(1, sizeof(*call));
	int endpoint[XT_LEGS];

	if (!call)
		return NULL;
	su_home_init(call->home);
	call->b2b = b2b;
	/* the PBX's leg first, as xtrunkctl shows them; between equals, the caller's */
	call->in = b2b->config->endpoint[from].kind == XT_KIND_TRUNK &&
		   b2b->config->endpoint[to].kind == XT_KIND_PBX;
	call->out = 1 - call->in;
	endpoint[call->in] = from;
	endpoint[call->out] = to;
	call->state = XT_CALL_NEW;
	call->started_ns = xt_monotonic_ns();
	call->number = ++b2b->calls_numbered;
	snprintf(call->id, sizeof(call->id), "c%" PRIu64, call->number);
	xt_media_session_init(&call->media, b2b->media, call->id, endpoint);
	call->next = b2b->calls;
	b2b->calls = call;
	b2b->stats.calls_started++;
	b2b->stats.calls_active++;
	/* a call holds a channel on both endpoints from its INVITE until it is gone */
	b2b->stats.channels_active[from]++;
	b2b->stats.channels_active[to]++;
	return call;
}

bool xt_call_event(struct xt_call *call, enum xt_call_event event)
{
	enum xt_call_state next = xt_call_next_state(call->state, event);

	if (next == XT_CALL_INVALID) {
		pr_info("call %s: %s ignored in state %s\n", call->id, xt_call_event_names[event],
			xt_call_state_names[call->state]);
		return false;
	}
	call->state = next;
	return true;
}

void xt_call_setup_start(struct xt_call *call, const struct xt_endpoint *src)
{
	struct xt_b2bua *b2b = call->b2b;

	call->setup_source = *src;
	call->in_setup = true;
	call->setup_next = b2b->setup;
	b2b->setup = call;
	b2b->stats.setup_active[call_endpoint(call, call->in)]++;
}

void xt_call_setup_done(struct xt_call *call)
{
	struct xt_b2bua *b2b = call->b2b;

	if (!call->in_setup)
		return;
	/* the list is as long as the calls ringing: setup_calls bounds it */
	for (struct xt_call **pp = &b2b->setup; *pp; pp = &(*pp)->setup_next)
		if (*pp == call) {
			*pp = call->setup_next;
			break;
		}
	call->in_setup = false;
	b2b->stats.setup_active[call_endpoint(call, call->in)]--;
}

/* ---- messages on a leg ---- */

int xt_call_bye_response(struct xt_call *unused, nta_outgoing_t *orq, sip_t const *sip)
{
	if (!sip || sip->sip_status->st_status >= 200)
		nta_outgoing_destroy(orq);
	return 0;
}

static void send_bye(struct xt_call *call, int side)
{
	if (!call->leg[side])
		return;
	if (!nta_outgoing_tcreate(call->leg[side], xt_call_bye_response, NULL, NULL, SIP_METHOD_BYE,
				  NULL, SIPTAG_USER_AGENT_STR(USER_AGENT), TAG_END()))
		pr_warn("call %s: cannot send BYE to %s\n", call->id,
			call_endpoint_config(call, side)->name);
}

void xt_call_send_ack(struct xt_call *call, nta_leg_t *leg, int side, uint32_t cseq,
		      const char *sdp)
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
			call_endpoint_config(call, side)->name);
}

/* ---- media ---- */

static void call_log_media(struct xt_call *call)
{
	struct xt_media_activity activity;

	xt_media_session_activity(&call->media, &activity);
	pr_info("call %s: media relayed: %llu packets in XDP, %llu in userspace\n", call->id,
		(unsigned long long)activity.xdp_packets,
		(unsigned long long)activity.userspace_packets);
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

void xt_call_end_media(struct xt_call *call)
{
	if (call->media_ended)
		return;
	call_log_media(call);
	xt_media_session_quality(&call->media, add_quality, &call->b2b->stats.quality);
	xt_media_session_end(&call->media);
	call->media_ended = true;
}

/* ---- the end of a call ---- */

enum end_count { COUNT_NONE, COUNT_FAILED, COUNT_TIMEOUT, COUNT_TERMINATED, COUNT_BY_STATUS };

static const struct end_rule {
	enum xt_call_event event;
	enum end_count count;
	int status;	 /* to a caller still waiting, unless xt_call_end() names one */
	bool user_agent; /* that response says User-Agent */
	bool cancel;	 /* an INVITE the callee has not answered yet is CANCELled */
	const char *log; /* "call ID: log" (BYE, CANCEL, REJECTED: end_log() writes theirs) */
} end_rules[XT_CALL_END_REASONS] = {
	/* unanswered (an early dialog's BYE, RFC 3261 15.1.2): 487 and CANCEL */
	[XT_CALL_END_BYE_CALLER] = { XT_CALL_EV_BYE, COUNT_NONE, 487, false, true },
	[XT_CALL_END_BYE_CALLEE] = { XT_CALL_EV_BYE, COUNT_NONE, 503, false, true },
	[XT_CALL_END_CANCEL] = { XT_CALL_EV_CANCEL, COUNT_NONE, 487, false, true },
	[XT_CALL_END_REJECTED] = { XT_CALL_EV_FAILURE, COUNT_BY_STATUS, 0, true },
	[XT_CALL_END_LATE_ANSWER] = { XT_CALL_EV_ANSWER, COUNT_NONE, 503 },
	[XT_CALL_END_BAD_OFFER] = { XT_CALL_EV_BAD_SDP, COUNT_FAILED, 0 },
	[XT_CALL_END_BAD_ANSWER] = { XT_CALL_EV_BAD_SDP, COUNT_FAILED, 0 },
	[XT_CALL_END_BAD_ACK] = { XT_CALL_EV_BAD_SDP, COUNT_FAILED, 503, false, false,
				  "the ACK brought no usable SDP answer: hanging up both legs" },
	[XT_CALL_END_NO_ACK] = { XT_CALL_EV_TIMEOUT, COUNT_FAILED, 503, false, false,
				 "no ACK to the 2xx: hanging up both legs" },
	[XT_CALL_END_NO_ANSWER] = { XT_CALL_EV_TIMEOUT, COUNT_TIMEOUT, 408, true, true,
				    "no answer within ring_timeout: 408 to the caller, CANCEL "
				    "to the callee" },
	[XT_CALL_END_CANCEL_TIMEOUT] = { XT_CALL_EV_TIMEOUT, COUNT_NONE, 0, false, false,
					 "the callee never answered the CANCEL: call forgotten" },
	[XT_CALL_END_BAD_REANSWER] = { XT_CALL_EV_BAD_SDP, COUNT_FAILED, 503, false, false,
				       "unusable answer to a new offer: hanging up both legs" },
	[XT_CALL_END_MEDIA_TIMEOUT] = { XT_CALL_EV_TIMEOUT, COUNT_TIMEOUT, 503, false, false,
					"media timeout: hanging up both legs" },
	[XT_CALL_END_HOLD_TIMEOUT] = { XT_CALL_EV_TIMEOUT, COUNT_TIMEOUT, 503, false, false,
				       "media timeout on hold: hanging up both legs" },
	[XT_CALL_END_OPERATOR] = { XT_CALL_EV_TERMINATE, COUNT_TERMINATED, 503, true, true,
				   "terminated by the operator" },
	[XT_CALL_END_SHUTDOWN] = { XT_CALL_EV_SHUTDOWN, COUNT_NONE, 503, false, true },
	[XT_CALL_END_ERROR] = { XT_CALL_EV_ERROR, COUNT_NONE, 503 },
};

static void end_log(struct xt_call *call, enum xt_call_end_reason reason, int status,
		    const char *phrase)
{
	switch (reason) {
	case XT_CALL_END_BYE_CALLER:
	case XT_CALL_END_BYE_CALLEE:
		pr_info("call %s: BYE from %s\n", call->id,
			call_endpoint_config(call, reason == XT_CALL_END_BYE_CALLER ? call->in :
										      call->out)
				->name);
		break;
	case XT_CALL_END_CANCEL:
		pr_info("call %s: cancelled by %s\n", call->id,
			call_endpoint_config(call, call->in)->name);
		break;
	case XT_CALL_END_REJECTED:
		pr_info("call %s: failed: %d %s\n", call->id, status, phrase ? phrase : "");
		break;
	default:
		if (end_rules[reason].log)
			pr_info("call %s: %s\n", call->id, end_rules[reason].log);
	}
}

/* A call's result is counted once: by the first end that counts one. */
static void end_count(struct xt_call *call, enum xt_call_end_reason reason, int status)
{
	struct xt_b2bua_stats *stats = &call->b2b->stats;

	if (call->end_counted)
		return;
	call->end_counted = end_rules[reason].count != COUNT_NONE;
	switch (end_rules[reason].count) {
	case COUNT_NONE:
		break;
	case COUNT_FAILED:
		stats->calls_failed++;
		break;
	case COUNT_TIMEOUT:
		stats->calls_timeout++;
		break;
	case COUNT_TERMINATED:
		stats->calls_terminated++;
		break;
	case COUNT_BY_STATUS:
		if (status == 487)
			stats->calls_cancelled++;
		else if (status == 486 || status == 600)
			stats->calls_busy++;
		else
			stats->calls_failed++;
		break;
	}
}

/* Both dialogs are up: BYE to the leg that did not hang up, or to both. */
static void end_answered(struct xt_call *call, enum xt_call_end_reason reason)
{
	if (reason == XT_CALL_END_BYE_CALLER) {
		send_bye(call, call->out);
	} else if (reason == XT_CALL_END_BYE_CALLEE) {
		send_bye(call, call->in);
	} else {
		for (int leg = 0; leg < XT_LEGS; leg++)
			send_bye(call, leg);
	}
}

/*
 * The caller has no 2xx: its INVITE gets a final response, ours a CANCEL
 * when the reason says so, and a callee that answered anyway an ACK and BYE.
 * A BYE in the early dialog is answered 200 by the adapter; the INVITE it
 * ends gets 487 and the callee a CANCEL, not a BYE (RFC 3261 15.1.2, 9.1).
 */
static void end_unanswered(struct xt_call *call, enum xt_call_end_reason reason, int status,
			   const char *phrase)
{
	const struct end_rule *rule = &end_rules[reason];
	nta_incoming_t *irq = call->invite_irq;

	if (reason == XT_CALL_END_LATE_ANSWER && call->invite_orq)
		xt_call_send_ack(call, call->leg[call->out], call->out,
				 nta_outgoing_cseq(call->invite_orq), NULL);
	if (reason == XT_CALL_END_LATE_ANSWER || reason == XT_CALL_END_BAD_ANSWER)
		send_bye(call, call->out);
	if (irq && nta_incoming_status(irq) < 200 && (status || rule->status)) {
		if (!status) {
			status = rule->status;
			phrase = NULL;
		}
		nta_incoming_treply(irq, status, phrase ? phrase : sip_status_phrase(status),
				    TAG_IF(rule->user_agent, SIPTAG_USER_AGENT_STR(USER_AGENT)),
				    TAG_END());
	}
	if (irq && !call->caller_is_peer && nta_incoming_status(irq) >= 300) {
		/* sent once, not until an ACK: the source may be spoofed; nothing
		 * more is owed to the caller, so the call lets its INVITE go now */
		b2bua_final_once(call->b2b, call_endpoint(call, call->in), irq);
		nta_incoming_destroy(irq);
		call->invite_irq = NULL;
	}
	if (rule->cancel && call->invite_orq)
		nta_outgoing_cancel(call->invite_orq);
}

/* Forget the call: media, ports, legs, pending transactions. */
static void call_destroy(struct xt_call *call)
{
	struct xt_b2bua *b2b = call->b2b;
	struct xt_call **pp;

	xt_call_end_media(call);
	xt_call_setup_done(call);
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
	if (call->invite_irq)
		nta_incoming_destroy(call->invite_irq);
	if (call->pending_ack.irq && call->pending_ack.irq != call->invite_irq)
		nta_incoming_destroy(call->pending_ack.irq);
	if (call->invite_orq)
		nta_outgoing_destroy(call->invite_orq);
	for (unsigned int i = 0; i < sizeof(call->forks) / sizeof(call->forks[0]); i++)
		if (call->forks[i])
			nta_leg_destroy(call->forks[i]);
	for (int leg = 0; leg < XT_LEGS; leg++)
		if (call->leg[leg])
			nta_leg_destroy(call->leg[leg]);
	for (pp = &b2b->calls; *pp; pp = &(*pp)->next)
		if (*pp == call) {
			*pp = call->next;
			break;
		}
	b2b->stats.calls_active--;
	b2b->stats.channels_active[call_endpoint(call, call->in)]--;
	b2b->stats.channels_active[call_endpoint(call, call->out)]--;
	su_home_deinit(call->home);
	free(call);
}

void xt_call_end(struct xt_call *call, enum xt_call_end_reason reason, int status,
		 const char *phrase)
{
	enum xt_call_state was = call->state;
	enum xt_call_state next = xt_call_next_state(was, end_rules[reason].event);

	if (next == was || (next != XT_CALL_TERMINATING && next != XT_CALL_ENDED)) {
		pr_info("call %s: %s ignored in state %s\n", call->id,
			xt_call_event_names[end_rules[reason].event], xt_call_state_names[was]);
		return;
	}
	call->state = next;
	if (next == XT_CALL_TERMINATING)
		call->ending_ns = xt_monotonic_ns();
	end_log(call, reason, status, phrase);
	end_count(call, reason, status);
	if (xt_call_state_answered(was))
		end_answered(call, reason);
	else
		end_unanswered(call, reason, status, phrase);
	if (call->state == XT_CALL_TERMINATING && call->invite_orq) {
		/* the call goes with the callee's answer to the CANCEL (487, or 2xx + BYE) */
		xt_call_end_media(call);
		return;
	}
	call->state = XT_CALL_ENDED;
	call_destroy(call);
}
