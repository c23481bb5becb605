/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A call's media, shared by every control front end (SIP today, the NG
 * protocol later): SDP offer/answer, relay ports, and the flows of each
 * stream. The SDP itself is rewritten by the pure sdp_rewrite.c; the session
 * applies what it describes (ports, flows, NAT, hold). Neither front end
 * rewrites SDP or touches the data path itself.
 */
#ifndef XTRUNKD_MEDIA_SESSION_H
#define XTRUNKD_MEDIA_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dataplane.h"
#include "port_pool.h"
#include "sdp_rewrite.h" /* XT_MAX_STREAMS */

struct xt_media_env {
	const struct xt_config *config;
	struct xt_dataplane *dp;
	struct xt_port_pool pools[XT_SIDES];
};

struct xt_stream {
	bool allocated;				/* relay ports held on both sides */
	struct xt_port_pair relay[XT_SIDES];	/* our ports, one pair per side */
	bool peer_known[XT_SIDES];		/* the side's SDP gave a port */
	struct xt_endpoint peer_rtp[XT_SIDES];	/* where each side receives RTP */
	struct xt_endpoint peer_rtcp[XT_SIDES]; /* ... and RTCP */
	uint32_t clock_hz;			/* RTP clock of the first codec */
	bool installed;				/* the four paths below are live */
	struct xt_relay_path paths[4];		/* RTP a->b, RTP b->a, RTCP a->b, b->a */
};

/* What a session's flows have relayed, in XDP and in userspace. */
struct xt_media_activity {
	uint64_t xdp_packets;
	uint64_t userspace_packets;
	uint64_t last_ns; /* CLOCK_MONOTONIC of the last packet either relayed; 0: none */
};

/* What each side's signalling told us, apart from the streams. */
struct xt_side_media {
	struct xt_endpoint signal; /* where the side's SIP came from; family 0: unknown */
	bool nat;		   /* its SDP address differs from signal: behind NAT */
	bool latch;		   /* its media latches (symmetric RTP) */
	bool hold;		   /* its last SDP put the call on hold */
};

struct xt_media_session {
	struct xt_media_env *env;
	char id[32]; /* for logs: the call's id */
	uint8_t family;
	unsigned int nstreams;
	struct xt_stream *streams[XT_MAX_STREAMS]; /* NULL: none at that index (port 0) */
	struct xt_side_media side[XT_SIDES];
	uint64_t changed_ns;	       /* CLOCK_MONOTONIC of the last SDP that changed the media */
	struct xt_media_activity gone; /* relayed by flows since removed (last_ns: theirs) */
	/* the o= line we present to each side, and the SDP last sent there */
	uint64_t origin_id[XT_SIDES];
	uint64_t origin_version[XT_SIDES];
	char *last_sdp[XT_SIDES];
};

void xt_media_session_init(struct xt_media_session *ms, struct xt_media_env *env, const char *id);

/*
 * An SDP body arrived from side `from` (an offer or an answer). Allocates
 * relay ports for new streams, learns the side's media addresses, installs
 * the flows of every stream whose two ends are now known, and writes the SDP
 * to send to the other side into *out (malloc'd, caller frees).
 * Returns 0, or -EBADMSG (malformed SDP: 400), -EINVAL (SDP the relay cannot
 * serve: 488), -ENOSPC (no relay port: 503), with the reason in err.
 */
int xt_media_session_sdp(struct xt_media_session *ms, int from, const char *sdp, size_t len,
			 char **out, char *err, size_t errlen);

/*
 * Where side's signalling comes from (the source address of its SIP
 * messages): decides NAT latching for the side's media, per its config.
 */
void xt_media_session_signal_source(struct xt_media_session *ms, int side,
				    const struct xt_endpoint *source);

/* A saved negotiation state, to go back to when an offer is rejected (RFC 3264 8). */
struct xt_media_checkpoint {
	uint8_t family;
	unsigned int nstreams;
	struct {
		bool allocated, peer_known[XT_SIDES];
		struct xt_endpoint peer_rtp[XT_SIDES], peer_rtcp[XT_SIDES];
		uint32_t clock_hz;
	} streams[XT_MAX_STREAMS];
	struct xt_side_media side[XT_SIDES];
};

void xt_media_session_save(const struct xt_media_session *ms, struct xt_media_checkpoint *cp);
/* Back to cp: streams added since are freed, flows reinstalled as they were. */
void xt_media_session_restore(struct xt_media_session *ms, const struct xt_media_checkpoint *cp);

/* Is the call on hold (either side's last SDP: sendonly, inactive or c=0.0.0.0)? */
bool xt_media_session_on_hold(const struct xt_media_session *ms);

/* Remove every flow and free every port. */
void xt_media_session_end(struct xt_media_session *ms);

void xt_media_session_activity(struct xt_media_session *ms, struct xt_media_activity *activity);

/* Visit the RTP quality of every live RTP flow that has seen packets. */
void xt_media_session_quality(struct xt_media_session *ms,
			      void (*visit)(const struct xt_rtp_quality *q, void *arg), void *arg);

/* ---- the read side (the control socket) ---- */

/* A stream as readers see it, copied. */
struct xt_stream_snapshot {
	unsigned int index; /* its m= line */
	uint32_t clock_hz;
	bool installed; /* its flows are live: flows below */
	struct xt_stream_side_snapshot {
		int side;				  /* which (config->side[]) */
		struct xt_endpoint relay_rtp, relay_rtcp; /* our ports on the side */
		bool peer_known;			  /* the side's SDP gave a port */
		struct xt_endpoint peer_rtp, peer_rtcp;
	} sides[XT_SIDES];
	unsigned int nflows; /* 4 when installed: RTP a->b, b->a, RTCP a->b, b->a */
	struct xt_stream_flow_snapshot {
		const char *kind; /* "rtp" or "rtcp" */
		int from_side;	  /* where its packets come in (config->side[]) */
		struct xt_path_snapshot path;
	} flows[4];
};

typedef void (*xt_stream_visit_fn)(const struct xt_stream_snapshot *stream, void *arg);

/* Visit every stream that holds relay ports, in m= order (ms may be NULL). Returns how many. */
unsigned int xt_media_session_foreach_stream(const struct xt_media_session *ms,
					     xt_stream_visit_fn visit, void *arg);

#endif
