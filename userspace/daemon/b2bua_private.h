/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the B2BUA's files share, and nobody else: the b2bua, a call (call.h),
 * an in-dialog request in flight, and the helpers between nta and the call
 * core. The files: sip_b2bua.c (the adapter: agents, stray messages, ticks,
 * stats, the control interface), call.c (the call's life), b2bua_new_call.c
 * (INVITEs outside a dialog), b2bua_responses.c (the callee's answers, ACK
 * and CANCEL of an INVITE we answer), b2bua_in_dialog.c (requests inside a
 * dialog), b2bua_admission.c (ACL, rate, channels).
 */
#ifndef XTRUNKD_B2BUA_PRIVATE_H
#define XTRUNKD_B2BUA_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

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

#include "sip_b2bua.h"
#include "call.h"

#define ALLOWED_METHODS "INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, INFO"
#define USER_AGENT "xtrunk"
#define SDP_TYPE "application/sdp"
#define XT_CHANNELS_RETRY_AFTER "5" /* seconds a caller refused for channels waits */

/* An in-dialog request from one leg, waiting for the other leg's answer. */
struct xt_relayed_request {
	struct xt_relayed_request *next;
	struct xt_call *call;
	int from; /* the leg the request came from */
	nta_incoming_t *irq;
	nta_outgoing_t *orq;
	bool offer;			  /* it carried an SDP offer: rolled back if rejected */
	struct xt_media_checkpoint prior; /* the media before that offer */
};

struct xt_b2bua {
	su_root_t *root;
	const struct xt_config *config;
	struct xt_media_env *media;
	/* one SIP agent per endpoint, on its sip address; indexed as config->endpoint[] */
	nta_agent_t *agent[XT_ENDPOINTS_MAX];
	sip_contact_t *contact[XT_ENDPOINTS_MAX];
	char host[XT_ENDPOINTS_MAX][80]; /* our SIP host:port text toward each endpoint */
	char peer_host[XT_ENDPOINTS_MAX][80];
	su_home_t home[1];
	struct xt_call *calls; /* the newest first: their numbers go down along the list */
	uint64_t calls_numbered;
	struct xt_call *setup; /* the calls not answered yet (call->setup_next) */
	struct xt_b2bua_stats stats;
	struct xt_admission *admission; /* ACL, rate limit, channels */
	int sip_fd[XT_ENDPOINTS_MAX];	/* each agent's UDP socket (b2bua_final_once) */
	uint64_t warned_ns[XT_ENDPOINTS_MAX][XT_REFUSALS]; /* last rate warning logged */
};

/* The endpoint a call's leg faces, and its configuration. */
static inline int call_endpoint(const struct xt_call *call, int leg)
{
	return call->media.endpoint[leg];
}

static inline const struct xt_endpoint_config *call_endpoint_config(const struct xt_call *call,
								    int leg)
{
	return &call->b2b->config->endpoint[call->media.endpoint[leg]];
}

/* ---- sip_b2bua.c: between nta and the call ---- */

/* Count a request or response received from an endpoint. */
void b2bua_count_request(struct xt_b2bua *b2b, int endpoint, sip_t const *sip);
void b2bua_count_response(struct xt_b2bua *b2b, int endpoint, sip_t const *sip);
/*
 * Tell the media session where a leg's SIP came from (the packet's source,
 * never Via or Contact). Consumes the message reference nta_*_get*() returned.
 */
void b2bua_note_source(struct xt_call *call, int leg, msg_t *msg);
/* Where msg came from (the packet's source); false, *ep zeroed, when unknown. */
bool b2bua_msg_source(msg_t *msg, struct xt_endpoint *ep);
/*
 * Rewrite the body of a message from leg `from` for the other leg.
 * Returns 0 (no body, or *sdp set), or the SIP status to answer with.
 */
int b2bua_rewrite_body(struct xt_call *call, int from, sip_t const *sip, char **sdp);
/* msg (a request from endpoint) came from the endpoint's configured peer. */
bool b2bua_from_peer(struct xt_b2bua *b2b, int endpoint, msg_t *msg);
/*
 * irq, an INVITE from endpoint, has its failure final (3xx-6xx): make it the
 * only copy sent (nta would retransmit it until an ACK). For a source that is
 * not the endpoint's peer, where a spoofed address would make us a reflector.
 */
void b2bua_final_once(struct xt_b2bua *b2b, int endpoint, nta_incoming_t *irq);

/* ---- b2bua_admission.c ---- */

/*
 * A request from an endpoint outside a dialog: false when it was dropped or
 * rejected (msg consumed).
 */
bool b2bua_admit_new_request(struct xt_b2bua *b2b, int endpoint, nta_agent_t *agent, msg_t *msg,
			     sip_t *sip);
/* A request in a call's dialog: the ACL applies (a call's own peer is never rate-limited). */
bool b2bua_admit_in_dialog(struct xt_b2bua *b2b, int endpoint, nta_incoming_t *irq,
			   sip_t const *sip);
/*
 * A new call from endpoint in to out would pass a channel limit: 503 with
 * Retry-After (stateless: msg consumed), counted.
 */
bool b2bua_channels_full(struct xt_b2bua *b2b, int in, int out, nta_agent_t *agent, msg_t *msg);
/*
 * A new call from endpoint would pass its setup_calls (or, from a source
 * other than the peer, setup_calls_per_source): 503 with Retry-After
 * (stateless: msg consumed), counted, logged at most every 10 s.
 */
bool b2bua_setup_full(struct xt_b2bua *b2b, int endpoint, nta_agent_t *agent, msg_t *msg);

/* ---- b2bua_new_call.c ---- */

/*
 * A request from an endpoint outside any dialog, admitted and counted here:
 * answered without a server transaction (RFC 3261 8.2.7), so nothing is ever
 * retransmitted and a retransmitted request is simply answered again (msg
 * consumed: true), unless it is an INVITE that starts a call (false).
 */
bool b2bua_answer_stateless(struct xt_b2bua *b2b, int endpoint, nta_agent_t *agent, msg_t *msg,
			    sip_t *sip);
/*
 * That INVITE, in its server transaction: the call. Returns 0, or the status
 * to answer it with (like an nta leg callback).
 */
int b2bua_new_call(struct xt_b2bua *b2b, int endpoint, nta_incoming_t *irq, sip_t const *sip,
		   bool from_peer);

/* ---- b2bua_responses.c ---- */

/* The callee's responses to our INVITE (nta_outgoing_t callback). */
int b2bua_invite_response(struct xt_call *call, nta_outgoing_t *orq, sip_t const *sip);
/* CANCEL and ACK of an INVITE we answer or answered (nta_incoming_t callback). */
int b2bua_invite_ack_cancel(struct xt_call *call, nta_incoming_t *irq, sip_t const *sip);
void b2bua_ack_2xx(struct xt_call *call, int leg, sip_t const *sip);

/* ---- b2bua_in_dialog.c ---- */

/* Requests on a call's legs (nta_leg_t callback). */
int b2bua_leg_request(void *magic, nta_leg_t *leg, nta_incoming_t *irq, sip_t const *sip);

#endif
