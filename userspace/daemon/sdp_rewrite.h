/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The SDP rewriter, a pure function in two steps: describe what an SDP asks
 * for (its streams, peers, codecs, direction), then render the SDP the other
 * side gets, naming the relay's address and ports instead of the peer's.
 * No sockets, no maps, no clock, no state of its own: the media session
 * (media_session.c) allocates the ports between the two steps and applies
 * the description (flows, NAT, hold).
 */
#ifndef XTRUNKD_SDP_REWRITE_H
#define XTRUNKD_SDP_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sofia-sip/sdp.h>

#include "endpoint.h"

#define XT_MAX_STREAMS 16    /* m= lines per SDP; more is refused, not truncated */
#define XT_SDP_MAX_CODECS 16 /* codecs described per stream; the SDP keeps them all */

enum xt_sdp_direction {
	XT_SDP_SENDRECV,
	XT_SDP_SENDONLY,
	XT_SDP_RECVONLY,
	XT_SDP_INACTIVE,
};

struct xt_sdp_codec {
	unsigned int pt;      /* RTP payload type */
	const char *encoding; /* "PCMA", "telephone-event", ...; NULL: none given */
	uint32_t clock_hz;    /* 0: none given */
};

/* One m= line. The pointers point into the parsed SDP described. */
struct xt_sdp_stream {
	/* port != 0; a refused stream keeps port 0 and has no peer */
	bool accepted;
	/* audio, video, image (T.38), ...; its name and proto ("RTP/AVP", "udptl") as written */
	sdp_media_e type;
	const char *type_name;
	const char *proto;
	/* proto is RTP/...: payload types and clocks mean something */
	bool rtp;
	/* c=0.0.0.0 or c=:: (RFC 2543 hold): send nothing */
	bool unspecified;
	/* where the side receives RTP (c= address, m= port) and RTCP (a=rtcp, RFC 3605,
	 * else the RTP address and port + 1) */
	struct xt_endpoint peer_rtp;
	struct xt_endpoint peer_rtcp;
	/* a=rtcp given (with a port), and with an address ("a=rtcp:PORT IN IP4 ADDR") */
	bool rtcp_attr;
	bool rtcp_attr_address;
	/* a=rtcp-mux (RFC 5761) */
	bool rtcp_mux;
	/* media level, else session level, else sendrecv (RFC 4566 6) */
	enum xt_sdp_direction direction;
	/* this stream puts the call on hold (see xt_sdp_description) */
	bool holds;
	/* the first codec's RTP clock; 0: not RTP, or no clock given */
	uint32_t clock_hz;
	/* the codecs of the m= line, in its order (codecs[] holds the first ones) */
	unsigned int ncodecs;
	struct xt_sdp_codec codecs[XT_SDP_MAX_CODECS];
	/* media-level a= lines, carried on as they came (but a=rtcp, rewritten) */
	const sdp_attribute_t *attributes;
};

struct xt_sdp_description {
	uint8_t family;	       /* the call's address family after this SDP */
	unsigned int nstreams; /* m= lines */
	/* Hold (RFC 3264 8.4, and RFC 2543's c=0.0.0.0): every stream the SDP keeps is
	 * sendonly or inactive (at media or session level), or has no address to send to. */
	bool hold;
	/* streams with a port past xt_sdp_call.max_streams: refused (port 0 sent on) */
	unsigned int over_limit;
	struct xt_sdp_stream streams[XT_MAX_STREAMS];
};

/* What the call has negotiated so far, which an SDP must agree with. */
struct xt_sdp_call {
	uint8_t family;	       /* the call's address family; 0 before its first address */
	unsigned int nstreams; /* m= lines negotiated; an SDP may not have fewer (RFC 3264) */
	/* streams with a port relayed at most (the first ones); 0: XT_MAX_STREAMS */
	unsigned int max_streams;
};

/* What the rewritten SDP names instead of the peer: the relay on the other side. */
struct xt_sdp_relay {
	char address[XT_ENDPOINT_STRLEN]; /* as the SDP shows it (advertised, behind NAT) */
	struct {
		uint16_t rtp, rtcp;
	} ports[XT_MAX_STREAMS]; /* of each accepted stream, by m= line */
	uint64_t origin_id;	 /* the o= line we present to that side */
	uint64_t origin_version;
};

/*
 * Parse an SDP body of exactly len bytes. Returns 0 with *parser set (free it
 * with sdp_parser_free; sdp_session(*parser) is the SDP), or -EBADMSG with
 * the reason in err: malformed, or m= lines sofia-sip's parser cannot take.
 */
int xt_sdp_parse(su_home_t *home, const char *body, size_t len, sdp_parser_t **parser, char *err,
		 size_t errlen);

/*
 * Describe what sdp asks for; streams with a port past call->max_streams are
 * described as refused, which is what the rendered SDP says of them (port 0,
 * RFC 3264 6: the call goes on with the others). Returns 0, or -EBADMSG (malformed: 400),
 * -EINVAL (SDP the relay cannot serve: 488) with the reason in err.
 */
int xt_sdp_describe(const sdp_session_t *sdp, const struct xt_sdp_call *call,
		    struct xt_sdp_description *desc, char *err, size_t errlen);

/*
 * The SDP to send on: c=, o=, m= ports and a=rtcp name the relay (refused
 * streams keep port 0, c=0.0.0.0 stays), everything else as it came.
 * *out is malloc'd (caller frees). sdp is not changed. Returns 0, or
 * -EINVAL / -ENOMEM with the reason in err.
 */
int xt_sdp_render(const sdp_session_t *sdp, const struct xt_sdp_description *desc,
		  const struct xt_sdp_relay *relay, char **out, char *err, size_t errlen);

#endif
