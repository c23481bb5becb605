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

/* A call's two legs, each facing one endpoint (the caller's and the callee's). */
#define XT_LEGS 2

/* Why a media address an SDP gave was refused (488), whatever the SDP says. */
enum xt_media_refusal {
	XT_MEDIA_LOOPBACK,    /* 127.0.0.0/8, ::1 */
	XT_MEDIA_UNSPECIFIED, /* 0.0.0.0/8, :: with a port that is not a hold */
	XT_MEDIA_MULTICAST,   /* 224.0.0.0/4, ff00::/8 */
	XT_MEDIA_BROADCAST,   /* 255.255.255.255 */
	XT_MEDIA_LINK_LOCAL,  /* 169.254.0.0/16, fe80::/10 */
	XT_MEDIA_RELAY,	      /* one of the relay's own ports: a loop */
	XT_MEDIA_DENIED,      /* inside the endpoint's media_deny */
	XT_MEDIA_OUTSIDE,     /* outside the endpoint's allow networks (when it has some) */
	XT_MEDIA_REFUSALS
};

extern const char *const xt_media_refusal_names[XT_MEDIA_REFUSALS];

struct xt_media_env {
	const struct xt_config *config;
	struct xt_dataplane *dp;
	struct xt_port_pool pools[XT_ENDPOINTS_MAX]; /* each endpoint's relay ports */
	/* SDPs refused for their media address, by the endpoint that sent them */
	uint64_t refused[XT_ENDPOINTS_MAX][XT_MEDIA_REFUSALS];
	/* streams refused (port 0 sent on) past a call's streams limit, by sender */
	uint64_t streams_refused[XT_ENDPOINTS_MAX];
};

struct xt_stream {
	bool allocated;			       /* relay ports held toward both legs */
	struct xt_port_pair relay[XT_LEGS];    /* our ports, one pair per leg */
	bool peer_known[XT_LEGS];	       /* the leg's SDP gave a port */
	struct xt_endpoint peer_rtp[XT_LEGS];  /* where each leg's peer receives RTP */
	struct xt_endpoint peer_rtcp[XT_LEGS]; /* ... and RTCP */
	uint32_t clock_hz;		       /* RTP clock of the first codec */
	bool installed;			       /* the four paths below are live */
	struct xt_relay_path paths[4];	       /* RTP a->b, RTP b->a, RTCP a->b, b->a */
};

/* What a session's flows have relayed, in XDP and in userspace. */
struct xt_media_activity {
	uint64_t xdp_packets;
	uint64_t userspace_packets;
	uint64_t last_ns; /* CLOCK_MONOTONIC of the last packet either relayed; 0: none */
};

/* What each leg's signalling told us, apart from the streams. */
struct xt_leg_media {
	struct xt_endpoint signal; /* where the leg's SIP came from; family 0: unknown */
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
	int endpoint[XT_LEGS]; /* the endpoint each leg faces (config->endpoint[]) */
	struct xt_leg_media leg[XT_LEGS];
	uint64_t changed_ns;	       /* CLOCK_MONOTONIC of the last SDP that changed the media */
	struct xt_media_activity gone; /* relayed by flows since removed (last_ns: theirs) */
	/* the o= line we present to each side, and the SDP last sent there */
	uint64_t origin_id[XT_LEGS];
	uint64_t origin_version[XT_LEGS];
	char *last_sdp[XT_LEGS];
};

/* A session between two legs facing endpoint[0] and endpoint[1]. */
void xt_media_session_init(struct xt_media_session *ms, struct xt_media_env *env, const char *id,
			   const int endpoint[XT_LEGS]);

/*
 * An SDP body arrived from leg `from` (an offer or an answer). Allocates
 * relay ports for new streams, learns the side's media addresses, installs
 * the flows of every stream whose two ends are now known, and writes the SDP
 * to send to the other leg into *out (malloc'd, caller frees).
 * Returns 0, or -EBADMSG (malformed SDP: 400), -EINVAL (SDP the relay cannot
 * serve: 488), -ENOSPC (no relay port: 503), with the reason in err.
 */
int xt_media_session_sdp(struct xt_media_session *ms, int from, const char *sdp, size_t len,
			 char **out, char *err, size_t errlen);

/*
 * Where a leg's signalling comes from (the source address of its SIP
 * messages): decides NAT latching for the leg's media, per its endpoint.
 */
void xt_media_session_signal_source(struct xt_media_session *ms, int leg,
				    const struct xt_endpoint *source);

/* A saved negotiation state, to go back to when an offer is rejected (RFC 3264 8). */
struct xt_media_checkpoint {
	uint8_t family;
	unsigned int nstreams;
	struct {
		bool allocated, peer_known[XT_LEGS];
		struct xt_endpoint peer_rtp[XT_LEGS], peer_rtcp[XT_LEGS];
		uint32_t clock_hz;
	} streams[XT_MAX_STREAMS];
	struct xt_leg_media leg[XT_LEGS];
};

void xt_media_session_save(const struct xt_media_session *ms, struct xt_media_checkpoint *cp);
/* Back to cp: streams added since are freed, flows reinstalled as they were. */
void xt_media_session_restore(struct xt_media_session *ms, const struct xt_media_checkpoint *cp);

/* Is the call on hold (either leg's last SDP: sendonly, inactive or c=0.0.0.0)? */
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
		int side;				  /* the endpoint (config->endpoint[]) */
		struct xt_endpoint relay_rtp, relay_rtcp; /* our ports toward it */
		bool peer_known;			  /* the leg's SDP gave a port */
		struct xt_endpoint peer_rtp, peer_rtcp;
	} sides[XT_LEGS];
	unsigned int nflows; /* 4 when installed: RTP a->b, b->a, RTCP a->b, b->a */
	struct xt_stream_flow_snapshot {
		const char *kind; /* "rtp" or "rtcp" */
		int from_side;	  /* the endpoint its packets come from (config->endpoint[]) */
		struct xt_path_snapshot path;
	} flows[4];
};

typedef void (*xt_stream_visit_fn)(const struct xt_stream_snapshot *stream, void *arg);

/* Visit every stream that holds relay ports, in m= order (ms may be NULL). Returns how many. */
unsigned int xt_media_session_foreach_stream(const struct xt_media_session *ms,
					     xt_stream_visit_fn visit, void *arg);

#endif
