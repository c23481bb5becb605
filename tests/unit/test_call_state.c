// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The call state machine's transition function, as a table of (state, event) -> state. */
#include <stdio.h>

#include "call_state.h"
#include "unit.h"

#define NEW XT_CALL_NEW
#define INV XT_CALL_INVITING
#define EAR XT_CALL_EARLY
#define ANS XT_CALL_ANSWERED
#define CNF XT_CALL_CONFIRMED
#define TRM XT_CALL_TERMINATING
#define END XT_CALL_ENDED
#define BAD XT_CALL_INVALID

static const struct {
	enum xt_call_state state;
	enum xt_call_event event;
	enum xt_call_state next;
	const char *why;
} cases[] = {
	{ NEW, XT_CALL_EV_INVITE, INV, "our INVITE went out" },
	{ NEW, XT_CALL_EV_BAD_SDP, END, "the INVITE's offer is refused" },
	{ NEW, XT_CALL_EV_ERROR, END, "the callee's leg cannot be made" },
	{ NEW, XT_CALL_EV_ANSWER, BAD, "no 2xx before our INVITE" },
	{ NEW, XT_CALL_EV_BYE, BAD, "no BYE before the call's legs" },
	{ INV, XT_CALL_EV_PROVISIONAL, EAR, "18x: early" },
	{ INV, XT_CALL_EV_ANSWER, ANS, "2xx: answered" },
	{ INV, XT_CALL_EV_FAILURE, END, "486: ended" },
	{ INV, XT_CALL_EV_CANCEL, TRM, "CANCEL: waits for the callee's 487" },
	{ INV, XT_CALL_EV_TERMINATE, TRM, "the operator: CANCEL, waits" },
	{ INV, XT_CALL_EV_BYE, TRM, "an early BYE: CANCEL the callee, wait for its answer" },
	{ EAR, XT_CALL_EV_BYE, TRM, "a BYE while it rings: the same" },
	{ INV, XT_CALL_EV_BAD_SDP, END, "an unusable answer in the 2xx" },
	{ INV, XT_CALL_EV_ACK, BAD, "no ACK before a 2xx" },
	{ INV, XT_CALL_EV_TIMEOUT, TRM, "timer C: no answer in ring_timeout, CANCEL" },
	{ EAR, XT_CALL_EV_TIMEOUT, TRM, "timer C while it rings" },
	{ TRM, XT_CALL_EV_TIMEOUT, END, "no answer to the CANCEL in 64*T1: forget the call" },
	{ INV, XT_CALL_EV_INVITE, BAD, "one INVITE per call" },
	{ EAR, XT_CALL_EV_PROVISIONAL, EAR, "another 18x" },
	{ EAR, XT_CALL_EV_ANSWER, ANS, "2xx after ringing" },
	{ EAR, XT_CALL_EV_CANCEL, TRM, "CANCEL while ringing" },
	{ EAR, XT_CALL_EV_SHUTDOWN, END, "shutdown while ringing" },
	{ ANS, XT_CALL_EV_ACK, CNF, "the caller's ACK confirms" },
	{ ANS, XT_CALL_EV_ANSWER, ANS, "a 2xx retransmission or another branch" },
	{ ANS, XT_CALL_EV_CANCEL, ANS, "a CANCEL crossing the 2xx changes nothing" },
	{ ANS, XT_CALL_EV_FAILURE, ANS, "another branch failing changes nothing" },
	{ ANS, XT_CALL_EV_TIMEOUT, END, "no ACK with the answer" },
	{ ANS, XT_CALL_EV_BAD_SDP, END, "the ACK brings no usable answer" },
	{ ANS, XT_CALL_EV_BYE, END, "BYE before the ACK" },
	{ CNF, XT_CALL_EV_ACK, CNF, "a re-INVITE's ACK" },
	{ CNF, XT_CALL_EV_BYE, END, "BYE" },
	{ CNF, XT_CALL_EV_TIMEOUT, END, "media timeout" },
	{ CNF, XT_CALL_EV_TERMINATE, END, "the operator: BYE both" },
	{ CNF, XT_CALL_EV_BAD_SDP, END, "an unusable answer to a new offer" },
	{ CNF, XT_CALL_EV_SHUTDOWN, END, "shutdown: BYE both" },
	{ CNF, XT_CALL_EV_INVITE, BAD, "a confirmed call sends no new INVITE" },
	{ CNF, XT_CALL_EV_ERROR, BAD, "a confirmed call is built already" },
	{ TRM, XT_CALL_EV_FAILURE, END, "the callee's 487 after CANCEL" },
	{ TRM, XT_CALL_EV_ANSWER, END, "a 2xx after CANCEL: ACK and BYE" },
	{ TRM, XT_CALL_EV_PROVISIONAL, TRM, "18x after CANCEL changes nothing" },
	{ TRM, XT_CALL_EV_CANCEL, TRM, "a second CANCEL changes nothing" },
	{ TRM, XT_CALL_EV_BYE, END, "BYE while the CANCEL is out" },
	{ TRM, XT_CALL_EV_SHUTDOWN, END, "shutdown while the CANCEL is out" },
	{ TRM, XT_CALL_EV_TERMINATE, BAD, "terminated twice" },
	{ TRM, XT_CALL_EV_ACK, BAD, "no ACK of a 2xx never sent" },
	{ END, XT_CALL_EV_BYE, BAD, "an ended call takes no event" },
	{ END, XT_CALL_EV_SHUTDOWN, BAD, "an ended call is not shut down twice" },
	{ BAD, XT_CALL_EV_BYE, BAD, "not a state" },
	{ INV, XT_CALL_EVENTS, BAD, "not an event" },
};

static const char *name(enum xt_call_state state)
{
	return state == XT_CALL_INVALID ? "invalid" : xt_call_state_names[state];
}

void test_call_state(void)
{
	char what[200], detail[64];
	int every = 1;

	for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum xt_call_state got = xt_call_next_state(cases[i].state, cases[i].event);

		snprintf(what, sizeof(what), "call state %s + %s -> %s: %s", name(cases[i].state),
			 cases[i].event < XT_CALL_EVENTS ? xt_call_event_names[cases[i].event] :
							   "(none)",
			 name(cases[i].next), cases[i].why);
		snprintf(detail, sizeof(detail), "got %s", name(got));
		expect(got == cases[i].next, what, detail);
	}
	/* every live state can be shut down: xtrunkd's exit frees every call */
	for (int s = XT_CALL_NEW; s < XT_CALL_ENDED; s++)
		every &= xt_call_next_state(s, XT_CALL_EV_SHUTDOWN) == XT_CALL_ENDED;
	expect(every, "call state: shutdown ends a call in every state before ended", "");
	every = 1;
	for (int s = XT_CALL_NEW; s < XT_CALL_STATES; s++)
		for (int e = 0; e < XT_CALL_EVENTS; e++) {
			enum xt_call_state n = xt_call_next_state(s, e);

			every &= n == XT_CALL_INVALID || (n >= XT_CALL_NEW && n < XT_CALL_STATES);
		}
	expect(every, "call state: every transition leads to a state or is invalid", "");
}
