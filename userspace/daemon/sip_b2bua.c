// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The adapter between sofia-sip's nta and the call core: an agent per
 * endpoint, messages nta matched to nothing, the once-a-second tick, stats and
 * the control interface. New calls, responses, in-dialog requests and
 * admission live in the b2bua_*.c files; a call's life in call.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <sys/socket.h>

#include "b2bua_private.h"
#include "clock.h"
#include "xtrunk_abi.h"
#include "log.h"
#include "udp_socket.h"

static void host_text(const struct xt_endpoint *ep, char *buf, size_t len)
{
	char addr[64];

	xt_addr_format(ep->family, ep->addr, addr, sizeof(addr));
	if (ep->family == XT_AF_INET6)
		snprintf(buf, len, "[%s]:%u", addr, ep->port);
	else
		snprintf(buf, len, "%s:%u", addr, ep->port);
}

/*
 * Tell the media session where a leg's SIP came from (the packet's source,
 * never Via or Contact): NAT detection and latching depend on it. Consumes
 * the message reference nta_*_get*() returned.
 */
bool b2bua_msg_source(msg_t *msg, struct xt_endpoint *ep)
{
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;
	struct sockaddr_storage ss;

	memset(ep, 0, sizeof(*ep));
	if (!ai || !ai->ai_addr || ai->ai_addrlen > sizeof(ss) ||
	    (ai->ai_family != AF_INET && ai->ai_family != AF_INET6))
		return false;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	xt_endpoint_from_sockaddr(&ss, ep);
	return true;
}

void b2bua_note_source(struct xt_call *call, int leg, msg_t *msg)
{
	struct xt_endpoint ep;

	if (b2bua_msg_source(msg, &ep))
		xt_media_session_signal_source(&call->media, leg, &ep);
	if (msg)
		msg_destroy(msg);
}

const char *const xt_sip_method_names[XT_SIP_METHODS] = { "INVITE",  "ACK",    "BYE",  "CANCEL",
							  "OPTIONS", "UPDATE", "INFO", "other" };
const double xt_mos_bounds[XT_MOS_BUCKETS] = { 1.0, 2.0, 3.0, 3.5, 4.0, 4.2, 4.4 };
const double xt_jitter_bounds_ms[XT_JITTER_BUCKETS] = { 1, 2, 5, 10, 20, 50, 100 };
const double xt_jitter_bounds_s[XT_JITTER_BUCKETS] = { 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1 };

void b2bua_count_request(struct xt_b2bua *b2b, int endpoint, sip_t const *sip)
{
	static const sip_method_t methods[XT_SIP_OTHER] = { sip_method_invite,	sip_method_ack,
							    sip_method_bye,	sip_method_cancel,
							    sip_method_options, sip_method_update,
							    sip_method_info };
	int i;

	for (i = 0; i < XT_SIP_OTHER; i++)
		if (sip->sip_request->rq_method == methods[i])
			break;
	b2b->stats.sip_requests[endpoint][i]++;
}

void b2bua_count_response(struct xt_b2bua *b2b, int endpoint, sip_t const *sip)
{
	int code = sip ? (int)sip->sip_status->st_status : 0;

	if (code >= 100 && code <= 699) {
		b2b->stats.sip_responses[endpoint][code / 100]++;
		b2b->stats.sip_response_codes[endpoint][code - 100]++;
	}
}

/* ---- SDP through the media session ---- */

/* A request, or the response to one, whose body may be an SDP offer or answer. */
static bool offer_answer_method(sip_t const *sip)
{
	sip_method_t method = sip->sip_request ? sip->sip_request->rq_method :
			      sip->sip_cseq    ? sip->sip_cseq->cs_method :
						 sip_method_unknown;

	return method == sip_method_invite || method == sip_method_ack ||
	       method == sip_method_update || method == sip_method_prack;
}

/*
 * Rewrite the body of a message from leg `from` for the other leg.
 * Returns 0 (no body, or *sdp set), or the SIP status to answer with.
 */
int b2bua_rewrite_body(struct xt_call *call, int from, sip_t const *sip, char **sdp)
{
	char err[256];
	int rc;

	*sdp = NULL;
	if (!sip->sip_payload || !sip->sip_payload->pl_len)
		return 0;
	if (sip->sip_content_type && sip->sip_content_type->c_type &&
	    strcasecmp(sip->sip_content_type->c_type, SDP_TYPE)) {
		/* INFO (application/dtmf-relay), MESSAGE, NOTIFY: the body is the
		 * peer's business, relayed as it is; only where an offer or answer
		 * may be must it be SDP the relay can rewrite */
		if (!offer_answer_method(sip))
			return 0;
		pr_info("call %s: body of type %s from %s not relayed\n", call->id,
			sip->sip_content_type->c_type, call_endpoint_config(call, from)->name);
		return 415;
	}
	rc = xt_media_session_sdp(&call->media, from, sip->sip_payload->pl_data,
				  sip->sip_payload->pl_len, sdp, err, sizeof(err));
	if (rc == 0)
		return 0;
	pr_warn("call %s: SDP from %s: %s\n", call->id, call_endpoint_config(call, from)->name,
		err);
	return rc == -EBADMSG ? 400 : rc == -ENOSPC ? 503 : 488;
}

bool b2bua_from_peer(struct xt_b2bua *b2b, int endpoint, msg_t *msg)
{
	su_addrinfo_t *ai = msg ? msg_addrinfo(msg) : NULL;

	return ai && xt_admission_from_peer(b2b->admission, endpoint, ai->ai_addr,
					    (socklen_t)ai->ai_addrlen);
}

/* A header as SIP text, in home; "" when it cannot be had. */
static const char *header_text(su_home_t *home, const void *h)
{
	char *text = h ? sip_header_as_string(home, (sip_header_t const *)h) : NULL;

	return text ? text : "";
}

/*
 * nta retransmits a failure final to an INVITE until its ACK comes (RFC 3261
 * 17.2.1, timer G: about ten copies over 32 s over UDP): a request with a
 * spoofed source address would make us a reflector. nta has no switch for it
 * per transaction (a server transaction takes only SigComp and extra-100
 * options), so the B2BUA gives nta the ACK itself: the one the caller would
 * send (RFC 3261 17.1.1.3: the INVITE's top Via, From, Call-ID and CSeq
 * number, To with our tag), from the endpoint's SIP socket to itself. nta
 * matches it to the transaction before any callback of ours, which stops
 * timer G before its first 500 ms; the transaction stays for timer I (T4) and
 * absorbs the caller's own ACK, or answers a retransmitted INVITE once more.
 */
void b2bua_final_once(struct xt_b2bua *b2b, int endpoint, nta_incoming_t *irq)
{
	const struct xt_endpoint_config *sc = &b2b->config->endpoint[endpoint];
	msg_t *msg = nta_incoming_getrequest(irq);
	sip_t const *sip = sip_object(msg);
	su_home_t home[1] = { SU_HOME_INIT(home) };
	const char *tag = nta_incoming_gettag(irq);
	struct sockaddr_storage self;
	socklen_t self_len;
	char ack[4096];
	int len;

	if (!sip || !sip->sip_request || !sip->sip_via || !sip->sip_from || !sip->sip_to ||
	    !sip->sip_call_id || !sip->sip_cseq || b2b->sip_fd[endpoint] < 0 ||
	    nta_incoming_status(irq) < 300) {
		if (msg)
			msg_destroy(msg);
		return;
	}
	len = snprintf(ack, sizeof(ack),
		       "ACK %s SIP/2.0\r\nVia: %s\r\nFrom: %s\r\nTo: %s%s%s\r\nCall-ID: %s\r\n"
		       "CSeq: %u ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
		       url_as_string(home, sip->sip_request->rq_url),
		       header_text(home, sip->sip_via), header_text(home, sip->sip_from),
		       header_text(home, sip->sip_to), tag && !sip->sip_to->a_tag ? ";tag=" : "",
		       tag && !sip->sip_to->a_tag ? tag : "", sip->sip_call_id->i_id,
		       (unsigned int)sip->sip_cseq->cs_seq);
	self_len = xt_sockaddr_from_endpoint(&sc->sip, &self);
	if (len <= 0 || (size_t)len >= sizeof(ack) ||
	    sendto(b2b->sip_fd[endpoint], ack, (size_t)len, 0, (struct sockaddr *)&self,
		   self_len) != len)
		pr_debug("endpoint %s: cannot stop the retransmission of a final response\n",
			 sc->name);
	su_home_deinit(home);
	msg_destroy(msg);
}

/* ---- requests nta matched to nothing ---- */

/*
 * Every message nta could not match to a transaction or a dialog: new
 * requests, and stray responses (discarded). There is no default leg, so a
 * new request arrives here before nta keeps any state for it: admission
 * drops it with nothing to clean up, or rejects it statelessly; a request
 * that starts no call is answered statelessly too, and only an INVITE that
 * starts a call becomes a server transaction.
 */
static int stray_message(struct xt_b2bua *b2b, nta_agent_t *agent, msg_t *msg, sip_t *sip)
{
	nta_incoming_t *irq;
	int side = 0, status;
	bool from_peer;

	while (side + 1 < (int)b2b->config->endpoints && b2b->agent[side] != agent)
		side++;
	if (!sip || !sip->sip_request) {
		nta_msg_discard(agent, msg); /* a stray response: ours to free */
		return 0;
	}
	if (!b2bua_admit_new_request(b2b, side, agent, msg, sip))
		return 0;
	if (sip->sip_request->rq_method == sip_method_ack) {
		/* an ACK outside any dialog (of a stateless answer, of a call gone):
		 * counted, never answered, no transaction */
		b2bua_count_request(b2b, side, sip);
		nta_msg_discard(agent, msg);
		return 0;
	}
	if (b2bua_answer_stateless(b2b, side, agent, msg, sip))
		return 0;
	from_peer = b2bua_from_peer(b2b, side, msg);
	irq = nta_incoming_create(agent, NULL, msg, sip, TAG_END());
	if (!irq)
		return 0; /* nta took the message */
	/* what nta does with a leg callback's answer */
	status = b2bua_new_call(b2b, side, irq, sip, from_peer);
	if (status == 0)
		return 0;
	if (status < 300 || status > 699)
		status = 500;
	if (nta_incoming_status(irq) < 200)
		nta_incoming_treply(irq, status, NULL, TAG_END());
	if (!from_peer)
		b2bua_final_once(b2b, side, irq);
	nta_incoming_destroy(irq);
	return 0;
}

/*
 * A SIP socket's default receive buffer holds ~10-20 ms of signalling at
 * 2,000 calls/s: any pause overflows it, and every lost INVITE or ACK costs
 * a 500 ms retransmission or a failed call. sofia-sip has no setting for it,
 * so find the agent's socket and enlarge its buffer.
 */
#define SIP_RCVBUF (8 * 1024 * 1024)

static void enlarge_receive_buffer(int fd, const char *endpoint)
{
	int size = SIP_RCVBUF;

	if (fd < 0 || (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) &&
		       setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size))))
		pr_info("endpoint %s: SIP receive buffer left at its default\n", endpoint);
}

/*
 * Only what can be SIP reaches sofia-sip: a datagram that starts with a token
 * character (a method, "SIP/2.0") or CR/LF (keep-alives). sofia-sip takes a
 * datagram whose first byte is 0 or 1 for STUN and leaks memory answering
 * each one (found by make fuzz); binary junk has nothing to answer to anyway.
 * A classic BPF filter on the socket drops the rest in the kernel.
 */
static void only_sip_datagrams(int fd, const char *endpoint)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8), /* the first byte after the UDP header */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, '\r', 4, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, '\n', 3, 0),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x7f, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x21, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, 0),	       /* drop */
		BPF_STMT(BPF_RET | BPF_K, 0xffffffff), /* the whole datagram */
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]), .filter = code };

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		pr_warn("endpoint %s: cannot filter what is not SIP from the SIP socket\n",
			endpoint);
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
	b2b->admission = xt_admission_create(config);
	if (!b2b->admission) {
		snprintf(err, errlen, "out of memory");
		su_home_deinit(b2b->home);
		free(b2b);
		return NULL;
	}
	b2b->root = root;
	b2b->config = config;
	b2b->media = media;
	for (unsigned int side = 0; side < XT_ENDPOINTS_MAX; side++)
		b2b->sip_fd[side] = -1;
	for (unsigned int side = 0; side < config->endpoints; side++) {
		const struct xt_endpoint_config *sc = &config->endpoint[side];
		char url[96], contact[160];

		host_text(&sc->sip, b2b->host[side], sizeof(b2b->host[side]));
		host_text(&sc->peer, b2b->peer_host[side], sizeof(b2b->peer_host[side]));
		snprintf(url, sizeof(url), "sip:%s;transport=udp", b2b->host[side]);
		b2b->agent[side] = nta_agent_create(root, (url_string_t *)url, stray_message, b2b,
						    NTATAG_UA(1), NTATAG_UDP_MTU(65535),
						    NTATAG_SERVER_RPORT(1), TAG_END());
		if (!b2b->agent[side]) {
			snprintf(err, errlen, "endpoint %s: cannot listen for SIP on %s: %s",
				 sc->name, b2b->host[side], strerror(errno));
			xt_b2bua_destroy(b2b);
			return NULL;
		}
		b2b->sip_fd[side] = xt_udp_socket_find(&sc->sip);
		enlarge_receive_buffer(b2b->sip_fd[side], sc->name);
		only_sip_datagrams(b2b->sip_fd[side], sc->name);
		snprintf(contact, sizeof(contact), "<sip:xtrunk@%s>", b2b->host[side]);
		b2b->contact[side] = sip_contact_make(b2b->home, contact);
		if (!b2b->contact[side]) {
			snprintf(err, errlen, "endpoint %s: out of memory", sc->name);
			xt_b2bua_destroy(b2b);
			return NULL;
		}
		pr_info("%s %s: SIP on %s, peer %s\n", xt_endpoint_kind_names[sc->kind], sc->name,
			b2b->host[side], b2b->peer_host[side]);
	}
	return b2b;
}

void xt_b2bua_destroy(struct xt_b2bua *b2b)
{
	if (!b2b)
		return;
	while (b2b->calls)
		xt_call_end(b2b->calls, XT_CALL_END_SHUTDOWN, 0, NULL);
	for (unsigned int e = 0; e < b2b->config->endpoints; e++) {
		if (b2b->agent[e])
			nta_agent_destroy(b2b->agent[e]);
	}
	xt_admission_destroy(b2b->admission);
	su_home_deinit(b2b->home);
	free(b2b);
}

void xt_b2bua_get_stats(const struct xt_b2bua *b2b, struct xt_b2bua_stats *stats)
{
	*stats = b2b->stats;
	xt_admission_get_stats(b2b->admission, &stats->admission);
	for (unsigned int e = 0; e < b2b->config->endpoints; e++) {
		usize_t bad = 0;

		nta_agent_get_stats(b2b->agent[e], NTATAG_S_BAD_MESSAGE_REF(bad), TAG_END());
		stats->sip_malformed[e] = bad;
	}
}

/* 64*T1 (RFC 3261 17): how long a transaction waits for what it is owed. */
#define T1x64_NS 32000000000ull

/*
 * A call not answered yet: ringing past ring_timeout (timer C) gets CANCEL
 * and 408; a CANCEL the callee never answers is given up after 64*T1.
 */
static void tick_unanswered(struct xt_b2bua *b2b, struct xt_call *call, uint64_t now)
{
	uint64_t ring_timeout = (uint64_t)b2b->config->ring_timeout_s * 1000000000ull;

	if ((call->state == XT_CALL_INVITING || call->state == XT_CALL_EARLY) &&
	    now - call->started_ns > ring_timeout)
		xt_call_end(call, XT_CALL_END_NO_ANSWER, 0, NULL);
	else if (call->state == XT_CALL_TERMINATING && now - call->ending_ns > T1x64_NS)
		xt_call_end(call, XT_CALL_END_CANCEL_TIMEOUT, 0, NULL);
}

void xt_b2bua_tick(struct xt_b2bua *b2b, uint64_t now)
{
	uint64_t media_timeout = (uint64_t)b2b->config->media_timeout_s * 1000000000ull;
	uint64_t hold_timeout = (uint64_t)b2b->config->hold_timeout_s * 1000000000ull;
	struct xt_call *call, *next;

	for (call = b2b->calls; call; call = next) {
		struct xt_media_activity activity;
		bool hold;
		uint64_t last;

		next = call->next;
		if (!xt_call_answered(call)) {
			tick_unanswered(b2b, call, now);
			continue;
		}
		/* A 2xx the caller never ACKs (RFC 3261 13.3.1.4: timer H): BYE both legs. */
		if (call->state == XT_CALL_ANSWERED && now - call->answered_ns > T1x64_NS) {
			xt_call_end(call, XT_CALL_END_NO_ACK, 0, NULL);
			continue;
		}
		/* Other branches' 2xx come within 64*T1 of the first (RFC 3261 13.2.2.4). */
		if (call->invite_orq && now - call->answered_ns > T1x64_NS) {
			nta_outgoing_destroy(call->invite_orq);
			call->invite_orq = NULL;
		}
		/* silence counts from the answer, or the last change of the media
		 * (hold, resume, a new peer), until the next packet */
		xt_media_session_activity(&call->media, &activity);
		last = activity.last_ns;
		if (last < call->answered_ns)
			last = call->answered_ns;
		if (last < call->media.changed_ns)
			last = call->media.changed_ns;
		hold = xt_media_session_on_hold(&call->media);
		if (now > last && now - last > (hold ? hold_timeout : media_timeout))
			xt_call_end(call,
				    hold ? XT_CALL_END_HOLD_TIMEOUT : XT_CALL_END_MEDIA_TIMEOUT, 0,
				    NULL);
	}
}

/* ---- control interface ---- */

static const char *call_state_name(const struct xt_call *call)
{
	switch (call->state) {
	case XT_CALL_NEW:
	case XT_CALL_INVITING:
		return "inviting";
	case XT_CALL_EARLY:
		return "early";
	case XT_CALL_ANSWERED:
	case XT_CALL_CONFIRMED:
		return "confirmed";
	default:
		return "ending";
	}
}

static void leg_info(const struct xt_call *call, int side, struct xt_call_leg_info *leg)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	sip_replaces_t *rp;

	memset(leg, 0, sizeof(*leg));
	leg->side = call_endpoint_config(call, side)->name;
	leg->peer = call->b2b->peer_host[call_endpoint(call, side)];
	leg->caller = side == call->in;
	if (!call->leg[side])
		return;
	/* nta keeps a leg's dialog identifiers to itself; Replaces (RFC 3891) names them */
	rp = nta_leg_make_replaces(call->leg[side], home, 0);
	if (rp) {
		snprintf(leg->call_id, sizeof(leg->call_id), "%s", rp->rp_call_id);
		snprintf(leg->local_tag, sizeof(leg->local_tag), "%s",
			 rp->rp_from_tag ? rp->rp_from_tag : "");
		if (rp->rp_to_tag && strcmp(rp->rp_to_tag, "0"))
			snprintf(leg->remote_tag, sizeof(leg->remote_tag), "%s", rp->rp_to_tag);
	} else if (nta_leg_get_tag(call->leg[side])) {
		snprintf(leg->local_tag, sizeof(leg->local_tag), "%s",
			 nta_leg_get_tag(call->leg[side]));
	}
	su_home_deinit(home);
}

static void call_info(struct xt_call *call, struct xt_call_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = call->id;
	info->state = call_state_name(call);
	info->started_ns = call->started_ns;
	info->answered_ns = xt_call_answered(call) ? call->answered_ns : 0;
	for (int leg = 0; leg < XT_LEGS; leg++)
		leg_info(call, leg, &info->legs[leg]);
	info->media = call->media_ended ? NULL : &call->media;
}

unsigned int xt_b2bua_foreach_call(struct xt_b2bua *b2b, const char *id, xt_call_visit_fn visit,
				   void *arg)
{
	struct xt_call **calls, *call;
	unsigned int total = 0, visited = 0, i;

	for (call = b2b->calls; call; call = call->next)
		total++;
	calls = calloc(total ? total : 1, sizeof(*calls));
	if (!calls)
		return 0;
	/* the list holds the newest first: visit the oldest first */
	for (i = total, call = b2b->calls; call; call = call->next)
		calls[--i] = call;
	for (i = 0; i < total; i++) {
		struct xt_call_info info;

		if (id && strcmp(calls[i]->id, id))
			continue;
		call_info(calls[i], &info);
		visit(&info, arg);
		visited++;
	}
	free(calls);
	return visited;
}

unsigned int xt_b2bua_foreach_call_after(struct xt_b2bua *b2b, uint64_t after,
					 xt_call_visit_fn visit, void *arg, uint64_t *last)
{
	struct xt_call *batch[XT_B2BUA_CALL_BATCH], *call;
	unsigned int walked = 0, visited;

	/* newest first: the calls after `after` lead the list; keep the last (oldest) walked */
	for (call = b2b->calls; call && call->number > after; call = call->next)
		batch[walked++ % XT_B2BUA_CALL_BATCH] = call;
	visited = walked < XT_B2BUA_CALL_BATCH ? walked : XT_B2BUA_CALL_BATCH;
	for (unsigned int i = 0; i < visited; i++) {
		struct xt_call_info info;

		call = batch[(walked - 1 - i) % XT_B2BUA_CALL_BATCH];
		call_info(call, &info);
		visit(&info, arg);
		*last = call->number;
	}
	return visited;
}

int xt_b2bua_terminate(struct xt_b2bua *b2b, const char *id)
{
	struct xt_call *call;

	for (call = b2b->calls; call; call = call->next)
		if (!strcmp(call->id, id))
			break;
	if (!call)
		return -ENOENT;
	if (call->state == XT_CALL_TERMINATING)
		return -EALREADY;
	/* answered: BYE to both legs; else 503 to the caller, CANCEL to the callee */
	xt_call_end(call, XT_CALL_END_OPERATOR, 0, NULL);
	return 0;
}

const char *xt_b2bua_peer(const struct xt_b2bua *b2b, int endpoint)
{
	return b2b->peer_host[endpoint];
}
