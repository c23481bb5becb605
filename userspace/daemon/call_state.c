// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "call_state.h"

const char *const xt_call_state_names[XT_CALL_STATES] = {
	"new", "inviting", "early", "answered", "confirmed", "terminating", "ended",
};

const char *const xt_call_event_names[XT_CALL_EVENTS] = {
	"INVITE", "18x",     "2xx",	"ACK",	     "failure",	 "CANCEL",
	"BYE",	  "bad SDP", "timeout", "terminate", "shutdown", "error",
};

#define NEW XT_CALL_NEW
#define INV XT_CALL_INVITING
#define EAR XT_CALL_EARLY
#define ANS XT_CALL_ANSWERED
#define CNF XT_CALL_CONFIRMED
#define TRM XT_CALL_TERMINATING
#define END XT_CALL_ENDED
#define BAD XT_CALL_INVALID

/*
 * One row per state, one column per event. Where a call ends, TRM means the
 * callee still owes an answer to our INVITE (CANCEL sent); END that nothing
 * is left to wait for. Timer C (RFC 3261 16.6, ring_timeout) is a TIMEOUT in
 * INV and EAR going to TRM, as is an early BYE (it CANCELs the callee); a
 * TIMEOUT in TRM is a callee that never answered the CANCEL (64*T1).
 */
/* clang-format off */
static const enum xt_call_state next_state[XT_CALL_STATES][XT_CALL_EVENTS] = {
	/*        INVITE  18x  2xx  ACK  fail CANCEL BYE  SDP  tmo  term shut err */
	[NEW] = { INV,    BAD, BAD, BAD, BAD, BAD,   BAD, END, BAD, BAD, END, END },
	[INV] = { BAD,    EAR, ANS, BAD, END, TRM,   TRM, END, TRM, TRM, END, BAD },
	[EAR] = { BAD,    EAR, ANS, BAD, END, TRM,   TRM, END, TRM, TRM, END, BAD },
	[ANS] = { BAD,    ANS, ANS, CNF, ANS, ANS,   END, END, END, END, END, BAD },
	[CNF] = { BAD,    CNF, CNF, CNF, CNF, CNF,   END, END, END, END, END, BAD },
	[TRM] = { BAD,    TRM, END, BAD, END, TRM,   END, BAD, END, BAD, END, BAD },
	[END] = { BAD,    BAD, BAD, BAD, BAD, BAD,   BAD, BAD, BAD, BAD, BAD, BAD },
};
/* clang-format on */

enum xt_call_state xt_call_next_state(enum xt_call_state state, enum xt_call_event event)
{
	if ((int)state < 0 || state >= XT_CALL_STATES || (int)event < 0 || event >= XT_CALL_EVENTS)
		return XT_CALL_INVALID;
	return next_state[state][event];
}
