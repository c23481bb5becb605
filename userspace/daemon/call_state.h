/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The life of a call as a state machine: named states, the events that move
 * a call between them, and one transition function (in the style of
 * Kamailio's dialog module, next_state_dlg()). Nothing here sends a message
 * or touches media: call.c applies a transition, the SIP adapter (and later
 * the NG protocol, persistence and timers) feeds it events.
 */
#ifndef XTRUNKD_CALL_STATE_H
#define XTRUNKD_CALL_STATE_H

enum xt_call_state {
	XT_CALL_INVALID = -1, /* not a state: an event that cannot happen in a state */
	XT_CALL_NEW,	      /* the caller's INVITE is being turned into ours */
	XT_CALL_INVITING,     /* our INVITE is out, nothing but 100 back */
	XT_CALL_EARLY,	      /* the callee sent 18x (relayed to the caller) */
	XT_CALL_ANSWERED,     /* 2xx relayed to the caller, its ACK not seen yet */
	XT_CALL_CONFIRMED,    /* the caller ACKed: both dialogs up */
	XT_CALL_TERMINATING,  /* CANCEL sent, media let go: waits for the callee's answer */
	XT_CALL_ENDED,	      /* nothing left to wait for: the call is freed */
	XT_CALL_STATES
};

enum xt_call_event {
	XT_CALL_EV_INVITE,	/* the caller's INVITE went out to the callee */
	XT_CALL_EV_PROVISIONAL, /* 18x from the callee */
	XT_CALL_EV_ANSWER,	/* 2xx from the callee (again, another branch, or late) */
	XT_CALL_EV_ACK,		/* the caller's ACK of a 2xx (or an in-dialog ACK) */
	XT_CALL_EV_FAILURE,	/* a final failure from the callee, or no answer */
	XT_CALL_EV_CANCEL,	/* CANCEL from the caller */
	XT_CALL_EV_BYE,		/* BYE from either leg */
	XT_CALL_EV_BAD_SDP,	/* an offer or answer that cannot be relayed */
	/* media or hold silence, no ACK to the 2xx, ringing too long, no answer to CANCEL */
	XT_CALL_EV_TIMEOUT,
	XT_CALL_EV_TERMINATE, /* the operator hangs up (control socket) */
	XT_CALL_EV_SHUTDOWN,  /* xtrunkd stops */
	XT_CALL_EV_ERROR,     /* the call cannot be built (out of memory, no transaction) */
	XT_CALL_EVENTS
};

extern const char *const xt_call_state_names[XT_CALL_STATES];
extern const char *const xt_call_event_names[XT_CALL_EVENTS];

/*
 * The state a call in state `state` goes to on `event`; the same state when
 * the event changes nothing (a retransmission, a CANCEL crossing a 2xx),
 * XT_CALL_INVALID when the event cannot happen there.
 */
enum xt_call_state xt_call_next_state(enum xt_call_state state, enum xt_call_event event);

/* Answered: the caller has a 2xx (ANSWERED, CONFIRMED). */
static inline int xt_call_state_answered(enum xt_call_state state)
{
	return state == XT_CALL_ANSWERED || state == XT_CALL_CONFIRMED;
}

#endif
