/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A call: two legs (the caller's dialog and ours to the callee), their
 * transactions and a media session, moved through call_state.h's machine.
 * Every change of state goes through xt_call_event(), every end through
 * xt_call_end(): it sends each leg what it needs, lets the media go and
 * counts the result.
 *
 * Include through b2bua_private.h: nta's magic types are set there.
 */
#ifndef XTRUNKD_CALL_H
#define XTRUNKD_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include "call_state.h"
#include "media_session.h"

struct xt_b2bua;
struct xt_relayed_request;

/* A 2xx whose ACK waits for the other leg's: the offer came in the 2xx (delayed offer). */
struct xt_pending_ack {
	bool waiting;
	int side;	     /* the leg that sent the 2xx, to be ACKed */
	uint32_t cseq;	     /* of its INVITE */
	nta_incoming_t *irq; /* the other leg's INVITE, whose ACK brings the answer */
};

struct xt_call {
	struct xt_call *next;
	struct xt_b2bua *b2b;
	su_home_t home[1];
	uint64_t number; /* 1, 2, ... in the order calls start: never reused */
	char id[24];	 /* "c" and the number */
	int in, out;	 /* legs (0, 1): in, the caller's; each faces media.endpoint[leg] */
	enum xt_call_state state;
	uint64_t answered_ns; /* CLOCK_MONOTONIC when answered */
	uint64_t started_ns;  /* CLOCK_MONOTONIC when the INVITE came (control: duration) */
	uint64_t ending_ns;   /* CLOCK_MONOTONIC when it went TERMINATING (CANCEL sent) */
	bool end_counted;     /* its result is in the stats: a later end counts nothing */
	bool media_ended;     /* flows and ports let go, counters logged */
	nta_leg_t *leg[XT_LEGS];
	nta_incoming_t *invite_irq; /* the caller's INVITE, until answered or failed */
	nta_outgoing_t *invite_orq; /* our INVITE to the callee */
	bool offer_in_invite;	    /* else the offer comes in the 2xx (delayed offer) */
	bool callee_acked;	    /* its 2xx was ACKed (retransmissions are ACKed again) */
	bool caller_is_peer;	    /* the INVITE came from its endpoint's peer address */
	/* not answered yet: on the b2bua's setup list, counted against setup_calls */
	bool in_setup;
	struct xt_endpoint setup_source; /* where its INVITE came from */
	struct xt_call *setup_next;
	struct xt_pending_ack pending_ack;
	nta_leg_t *forks[4]; /* extra answered branches, ACKed and BYEd */
	struct xt_relayed_request *relayed;
	struct xt_media_session media;
};

/* Why a call ends: what each leg is sent, what is logged and counted (call.c). */
enum xt_call_end_reason {
	/* BYE from the caller: BYE to the callee; unanswered: 487 to the caller, CANCEL */
	XT_CALL_END_BYE_CALLER,
	XT_CALL_END_BYE_CALLEE,	    /* BYE from the callee: BYE to the caller */
	XT_CALL_END_CANCEL,	    /* CANCEL from the caller: 487 to it, CANCEL to the callee */
	XT_CALL_END_REJECTED,	    /* the callee's final failure, relayed to the caller */
	XT_CALL_END_LATE_ANSWER,    /* a 2xx after our CANCEL: ACK and BYE the callee */
	XT_CALL_END_BAD_OFFER,	    /* the INVITE's SDP was refused */
	XT_CALL_END_BAD_ANSWER,	    /* the 2xx's SDP was refused: the callee, ACKed, gets BYE */
	XT_CALL_END_BAD_ACK,	    /* the ACK brought no usable answer to an offer in a 2xx */
	XT_CALL_END_NO_ACK,	    /* no ACK to our 2xx (or with the answer) in 64*T1 */
	XT_CALL_END_NO_ANSWER,	    /* rang for ring_timeout (timer C): 408, CANCEL */
	XT_CALL_END_CANCEL_TIMEOUT, /* the callee never answered our CANCEL (64*T1) */
	XT_CALL_END_BAD_REANSWER,   /* an unusable answer to a new offer */
	XT_CALL_END_MEDIA_TIMEOUT,  /* no media for media_timeout */
	XT_CALL_END_HOLD_TIMEOUT,   /* on hold, no media for hold_timeout */
	XT_CALL_END_OPERATOR,	    /* xtrunkctl call terminate */
	XT_CALL_END_SHUTDOWN,	    /* xtrunkd stops */
	XT_CALL_END_ERROR,	    /* the call could not be built */
	XT_CALL_END_REASONS
};

/*
 * A new call from endpoint `from` to endpoint `to`, in state NEW, counted as
 * started, holding a channel on both; NULL: out of memory.
 */
struct xt_call *xt_call_create(struct xt_b2bua *b2b, int from, int to);
/*
 * Apply an event that keeps the call alive (INVITE, 18x, 2xx, ACK): false
 * (logged) when it cannot happen in the call's state, which stays.
 */
bool xt_call_event(struct xt_call *call, enum xt_call_event event);
/* The call is in set-up from its INVITE, from src, until answered or gone. */
void xt_call_setup_start(struct xt_call *call, const struct xt_endpoint *src);
void xt_call_setup_done(struct xt_call *call);
/*
 * End a call, or start ending it: BYE to answered legs, CANCEL to an INVITE
 * still pending, a final response to a caller still waiting (status and
 * phrase when given, else the reason's own: 503, 487 for CANCEL), then the
 * media is let go and the call freed, unless it waits in TERMINATING for the
 * callee's answer to the CANCEL. The call must not be used after this.
 * A reason whose event cannot end the call in its state is logged and ignored.
 */
void xt_call_end(struct xt_call *call, enum xt_call_end_reason reason, int status,
		 const char *phrase);
/* Log what the media relayed, add its quality to the stats, let go of flows and ports. */
void xt_call_end_media(struct xt_call *call);
static inline bool xt_call_answered(const struct xt_call *call)
{
	return xt_call_state_answered(call->state);
}

/* Messages on a leg that the call sends and forgets. */
/* ACK a 2xx to our INVITE with that CSeq on a leg, with the SDP answer when it brings one. */
void xt_call_send_ack(struct xt_call *call, nta_leg_t *leg, int side, uint32_t cseq,
		      const char *sdp);
/* Final responses to BYEs we sent need nothing but cleaning up. */
int xt_call_bye_response(struct xt_call *unused, nta_outgoing_t *orq, sip_t const *sip);

#endif
