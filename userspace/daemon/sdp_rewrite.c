// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/su_alloc.h>

#include "xtrunk_abi.h"
#include "sdp_rewrite.h"

#define SDP_FLAGS (sdp_f_all_rtpmaps | sdp_f_mode_manual)

/* RFC 4566 token-char: visible ASCII but "(),/:;<=>?@[\\]{} */
static bool token_char(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && !strchr("\"(),/:;<=>?@[\\]{}", ch);
}

/* One field of an m= line: tokens joined by "/" (at most slashes of them), or digits. */
static bool media_field(const char *p, size_t len, unsigned int slashes, bool digits)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '/' && run && slashes) {
			slashes--;
			run = 0;
		} else if (digits ? (ch >= '0' && ch <= '9') : token_char(ch)) {
			run++;
		} else {
			return false;
		}
	}
	return run > 0;
}

/*
 * An m= line is "media port[/count] proto[/proto...] fmt...", one SP between
 * fields (RFC 4566 5.14). sofia-sip's parser loops allocating until memory
 * runs out on formats it cannot split after a non-RTP protocol ("m=image 0
 * udptl \x7f", "m=audio 0 RP\t/AVP 8", "m=audio 70c RTP/AVP//"): such SDP
 * never reaches it. Returns the number of the first bad m= line, or 0.
 */
static unsigned int bad_media_line(const char *body, size_t len)
{
	unsigned int line = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned int field = 0;
		size_t start;

		if (i && body[i - 1] != '\n' && body[i - 1] != '\r')
			continue;
		while (i < len && (body[i] == ' ' || body[i] == '\t'))
			i++; /* sofia-sip skips them at the start of a line */
		if (len - i < 2 || body[i] != 'm' || body[i + 1] != '=')
			continue;
		line++;
		for (start = i += 2;; i++) {
			bool end = i == len || body[i] == '\r' || body[i] == '\n';
			/* port[/count], proto/proto..., then tokens */
			unsigned int slashes = field == 1 ? 1 : field == 2 ? 8 : 0;

			if (!end && body[i] != ' ')
				continue;
			if (!(end && field >= 4 && i == start) && /* a trailing SP is let be */
			    !media_field(body + start, i - start, slashes, field == 1))
				return line;
			field++;
			start = i + 1;
			if (end)
				break;
		}
		if (field < 4)
			return line; /* no format */
	}
	return 0;
}

int xt_sdp_parse(su_home_t *home, const char *body, size_t len, sdp_parser_t **parser, char *err,
		 size_t errlen)
{
	unsigned int bad = bad_media_line(body, len);

	*parser = NULL;
	if (bad) {
		snprintf(err, errlen, "malformed SDP: m= line %u is not tokens", bad);
		return -EBADMSG;
	}
	*parser = sdp_parse(home, body, (issize_t)len, sdp_f_mode_manual);
	if (!sdp_session(*parser)) {
		snprintf(err, errlen, "malformed SDP: %s", sdp_parsing_error(*parser));
		sdp_parser_free(*parser);
		*parser = NULL;
		return -EBADMSG;
	}
	return 0;
}

static int parse_sdp_address(const sdp_connection_t *c, struct xt_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (!c || !c->c_address || c->c_nettype != sdp_net_in)
		return -EINVAL;
	if (c->c_addrtype == sdp_addr_ip4 && inet_pton(AF_INET, c->c_address, ep->addr) == 1)
		ep->family = XT_AF_INET;
	else if (c->c_addrtype == sdp_addr_ip6 && inet_pton(AF_INET6, c->c_address, ep->addr) == 1)
		ep->family = XT_AF_INET6;
	else
		return -EINVAL;
	return 0;
}

static bool endpoint_unspecified(const struct xt_endpoint *ep)
{
	static const uint8_t zero[16];

	return !memcmp(ep->addr, zero, xt_addr_len(ep->family));
}

/* A c= line of 0.0.0.0 (or ::). */
static bool connection_unspecified(const sdp_connection_t *c)
{
	struct xt_endpoint ep;

	return !parse_sdp_address(c, &ep) && endpoint_unspecified(&ep);
}

static const sdp_connection_t *media_connection(const sdp_session_t *sdp, const sdp_media_t *m)
{
	return m->m_connections ? m->m_connections : sdp->sdp_connection;
}

/* a=NAME at media level, else at session level. */
static bool has_attribute(const sdp_session_t *sdp, const sdp_media_t *m, const char *name)
{
	return sdp_attribute_find(m->m_attributes, name) ||
	       sdp_attribute_find(sdp->sdp_attributes, name);
}

/* a=rtcp:PORT [IN IP4 ADDR] (RFC 3605): where the side wants RTCP. */
static void describe_rtcp(const sdp_media_t *m, struct xt_sdp_stream *d)
{
	const sdp_attribute_t *a = sdp_attribute_find(m->m_attributes, "rtcp");
	const struct xt_endpoint *rtp = &d->peer_rtp;
	struct xt_endpoint *rtcp = &d->peer_rtcp;
	char addr[64];
	unsigned long port;

	*rtcp = *rtp;
	rtcp->port = (uint16_t)(rtp->port + 1);
	if (!a || !a->a_value)
		return;
	d->rtcp_attr = true;
	d->rtcp_attr_address = strstr(a->a_value, " IN ") != NULL;
	port = strtoul(a->a_value, NULL, 10);
	if (port > 0 && port < 65536)
		rtcp->port = (uint16_t)port;
	if (sscanf(a->a_value, "%*u IN IP%*1[46] %63s", addr) == 1) {
		struct xt_endpoint parsed;

		if (inet_pton(AF_INET, addr, parsed.addr) == 1 && rtp->family == XT_AF_INET)
			memcpy(rtcp->addr, parsed.addr, 4);
		else if (inet_pton(AF_INET6, addr, parsed.addr) == 1 && rtp->family == XT_AF_INET6)
			memcpy(rtcp->addr, parsed.addr, 16);
	}
}

static enum xt_sdp_direction direction_in(const sdp_attribute_t *attributes, bool *found)
{
	static const struct {
		const char *name;
		enum xt_sdp_direction direction;
	} names[] = { { "sendrecv", XT_SDP_SENDRECV },
		      { "sendonly", XT_SDP_SENDONLY },
		      { "recvonly", XT_SDP_RECVONLY },
		      { "inactive", XT_SDP_INACTIVE } };

	*found = true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (sdp_attribute_find(attributes, names[i].name))
			return names[i].direction;
	*found = false;
	return XT_SDP_SENDRECV;
}

/* The media level says, else the session level, else sendrecv (RFC 4566 6). */
static enum xt_sdp_direction stream_direction(const sdp_session_t *sdp, const sdp_media_t *m)
{
	enum xt_sdp_direction dir;
	bool found;

	dir = direction_in(m->m_attributes, &found);
	return found ? dir : direction_in(sdp->sdp_attributes, &found);
}

/* Payload types and clocks: the first codec's clock is what RTP timestamps run at. */
static void describe_codecs(const sdp_media_t *m, struct xt_sdp_stream *d)
{
	d->rtp = m->m_proto_name && !strncasecmp(m->m_proto_name, "RTP/", 4);
	for (const sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next) {
		if (d->ncodecs < XT_SDP_MAX_CODECS) {
			struct xt_sdp_codec *codec = &d->codecs[d->ncodecs];

			codec->pt = rm->rm_pt;
			codec->encoding = rm->rm_encoding && rm->rm_encoding[0] ? rm->rm_encoding :
										  NULL;
			codec->clock_hz = (uint32_t)rm->rm_rate;
		}
		d->ncodecs++;
	}
	if (d->rtp && m->m_rtpmaps)
		d->clock_hz = (uint32_t)m->m_rtpmaps->rm_rate;
}

/* What a stream is, apart from its address (set by the caller when accepted). */
static void describe_stream(const sdp_session_t *sdp, const sdp_media_t *m, struct xt_sdp_stream *d)
{
	d->accepted = m->m_port != 0;
	d->type = m->m_type;
	d->type_name = m->m_type_name;
	d->proto = m->m_proto_name;
	d->rtcp_mux = sdp_attribute_find(m->m_attributes, "rtcp-mux") != NULL;
	d->direction = stream_direction(sdp, m);
	d->attributes = m->m_attributes;
	describe_codecs(m, d);
	if (!d->accepted)
		return;
	d->unspecified = endpoint_unspecified(&d->peer_rtp);
	d->holds = has_attribute(sdp, m, "sendonly") || has_attribute(sdp, m, "inactive") ||
		   d->unspecified;
	describe_rtcp(m, d);
}

/* sofia-sip takes "a=rtpmap:8\v..." with no encoding; it would print "(null)" */
static int check_rtpmaps(const sdp_media_t *m, unsigned int line, char *err, size_t errlen)
{
	for (const sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next)
		if (!rm->rm_predef && (!rm->rm_encoding || !rm->rm_encoding[0])) {
			snprintf(err, errlen, "malformed SDP: m= line %u: a=rtpmap:%u, no encoding",
				 line, rm->rm_pt);
			return -EBADMSG;
		}
	return 0;
}

/* An accepted stream's address: IN IP4/IP6 unicast, in the call's family. */
static int stream_address(const sdp_session_t *sdp, const sdp_media_t *m, unsigned int line,
			  uint8_t *family, struct xt_endpoint *addr, char *err, size_t errlen)
{
	/* 65535 leaves RTCP no port (it would go to port 0); PORT/N claims ports
	 * the relay does not hand out (RFC 4566 hierarchical coding) */
	if (m->m_port > 65535 || m->m_port == 65535 || m->m_number_of_ports > 1 ||
	    parse_sdp_address(media_connection(sdp, m), addr)) {
		snprintf(err, errlen, "m= line %u: %s", line,
			 m->m_port > 65535	  ? "port out of range" :
			 m->m_port == 65535	  ? "RTP port 65535 leaves no port for RTCP" :
			 m->m_number_of_ports > 1 ? "a port count (PORT/N) is not supported" :
						    "no usable c= address (IN IP4/IP6 unicast)");
		return -EINVAL;
	}
	if (*family && addr->family != *family) {
		snprintf(err, errlen, "m= line %u: address family differs from the call's", line);
		return -EINVAL;
	}
	*family = addr->family;
	addr->port = (uint16_t)m->m_port;
	return 0;
}

static int count_streams(const sdp_session_t *sdp, const struct xt_sdp_call *call, char *err,
			 size_t errlen)
{
	unsigned int n = 0;

	for (const sdp_media_t *m = sdp->sdp_media; m; m = m->m_next)
		n++;
	if (n == 0 || n > XT_MAX_STREAMS) {
		snprintf(err, errlen, "SDP with %u m= lines (1 to %d supported)", n,
			 XT_MAX_STREAMS);
		return -EINVAL;
	}
	if (n < call->nstreams) {
		snprintf(err, errlen,
			 "SDP has %u m= lines, fewer than the %u negotiated (RFC 3264)", n,
			 call->nstreams);
		return -EINVAL;
	}
	return (int)n;
}

int xt_sdp_describe(const sdp_session_t *sdp, const struct xt_sdp_call *call,
		    struct xt_sdp_description *desc, char *err, size_t errlen)
{
	unsigned int limit = call->max_streams ? call->max_streams : XT_MAX_STREAMS;
	unsigned int i, with_port = 0, kept = 0;
	const sdp_media_t *m;
	bool any = false;
	int rc;

	memset(desc, 0, sizeof(*desc));
	rc = count_streams(sdp, call, err, errlen);
	if (rc < 0)
		return rc;
	desc->nstreams = (unsigned int)rc;
	desc->family = call->family;
	/* Validate every stream before describing any. */
	for (m = sdp->sdp_media, i = 0; m; m = m->m_next, i++) {
		rc = check_rtpmaps(m, i + 1, err, errlen);
		/* a stream past the limit is refused whatever its address */
		if (!rc && m->m_port && with_port++ < limit)
			rc = stream_address(sdp, m, i + 1, &desc->family,
					    &desc->streams[i].peer_rtp, err, errlen);
		if (rc)
			return rc;
	}
	if (!desc->family) {
		/* A first offer with every port 0 asks for nothing to relay: 488.
		 * Later, every stream rejected is still a valid SDP (IPv4 kept). */
		if (!call->nstreams) {
			snprintf(err, errlen, "no media to relay: every m= line has port 0");
			return -EINVAL;
		}
		desc->family = XT_AF_INET;
	}
	desc->hold = true;
	for (m = sdp->sdp_media, i = 0; m; m = m->m_next, i++) {
		struct xt_sdp_stream *d = &desc->streams[i];

		describe_stream(sdp, m, d);
		if (d->accepted && kept++ >= limit) {
			d->accepted = false;
			desc->over_limit++;
		}
		any |= d->accepted;
		if (d->accepted && !d->holds)
			desc->hold = false;
	}
	desc->hold &= any;
	return 0;
}

/* A c= that names the relay, in the call's family. */
static void connection_to_relay(sdp_connection_t *c, uint8_t family, const char *address)
{
	c->c_addrtype = family == XT_AF_INET6 ? sdp_addr_ip6 : sdp_addr_ip4;
	c->c_address = address;
}

/* Streams: our port, our address; a refused stream keeps port 0. */
static int rewrite_media(su_home_t *home, sdp_session_t *sdp, const struct xt_sdp_description *desc,
			 const struct xt_sdp_relay *relay)
{
	unsigned int i = 0;

	for (sdp_media_t *m = sdp->sdp_media; m; m = m->m_next, i++) {
		const struct xt_sdp_stream *d = &desc->streams[i];
		sdp_attribute_t *rtcp;

		/* one c=, the relay's; but c=0.0.0.0 (RFC 2543 hold) says "send
		 * nothing" and stays as it is */
		if (m->m_connections) {
			m->m_connections->c_next = NULL;
			if (!d->accepted || !d->unspecified)
				connection_to_relay(m->m_connections, desc->family, relay->address);
		}
		if (!d->accepted) {
			/* refused here (streams), or by the SDP itself: no port, and no
			 * a=rtcp naming the other side's address */
			m->m_port = 0;
			sdp_attribute_remove(&m->m_attributes, "rtcp");
			continue;
		}
		m->m_port = relay->ports[i].rtp;
		rtcp = sdp_attribute_find(m->m_attributes, "rtcp");
		if (!rtcp || !rtcp->a_value)
			continue;
		if (strstr(rtcp->a_value, " IN "))
			rtcp->a_value = su_sprintf(home, "%u IN IP%c %s", relay->ports[i].rtcp,
						   desc->family == XT_AF_INET6 ? '6' : '4',
						   relay->address);
		else
			rtcp->a_value = su_sprintf(home, "%u", relay->ports[i].rtcp);
		if (!rtcp->a_value)
			return -ENOMEM;
	}
	return 0;
}

/* Session level: c= and o= name the relay, never the other side. */
static void rewrite_session(sdp_session_t *sdp, const struct xt_sdp_description *desc,
			    const struct xt_sdp_relay *relay, sdp_connection_t *origin)
{
	if (sdp->sdp_connection) {
		sdp->sdp_connection->c_next = NULL;
		if (!connection_unspecified(sdp->sdp_connection))
			connection_to_relay(sdp->sdp_connection, desc->family, relay->address);
	}
	if (sdp->sdp_origin) {
		memset(origin, 0, sizeof(*origin));
		origin->c_size = sizeof(*origin);
		origin->c_nettype = sdp_net_in;
		connection_to_relay(origin, desc->family, relay->address);
		sdp->sdp_origin->o_username = "xtrunk";
		sdp->sdp_origin->o_id = relay->origin_id;
		sdp->sdp_origin->o_version = relay->origin_version;
		sdp->sdp_origin->o_address = origin;
	}
}

static int print(su_home_t *home, sdp_session_t *sdp, char **out, char *err, size_t errlen)
{
	int flags = SDP_FLAGS;
	sdp_printer_t *printer;
	const char *text;

	/* A dynamic payload type the SDP gave no a=rtpmap for has no encoding:
	 * sdp_f_all_rtpmaps would print "a=rtpmap:96 /0", which no parser takes;
	 * then print only the a=rtpmap lines the SDP had. */
	for (sdp_media_t *m = sdp->sdp_media; m; m = m->m_next)
		for (sdp_rtpmap_t *rm = m->m_rtpmaps; rm; rm = rm->rm_next)
			if (!rm->rm_encoding || !rm->rm_encoding[0])
				flags &= ~sdp_f_all_rtpmaps;
	printer = sdp_print(home, sdp, NULL, 0, flags);
	text = printer ? sdp_message(printer) : NULL;
	if (!text) {
		snprintf(err, errlen, "cannot print SDP: %s",
			 printer ? sdp_printing_error(printer) : "out of memory");
		if (printer)
			sdp_printer_free(printer);
		return -EINVAL;
	}
	*out = strdup(text);
	sdp_printer_free(printer);
	return *out ? 0 : -ENOMEM;
}

int xt_sdp_render(const sdp_session_t *sdp, const struct xt_sdp_description *desc,
		  const struct xt_sdp_relay *relay, char **out, char *err, size_t errlen)
{
	su_home_t home[1] = { SU_HOME_INIT(home) };
	sdp_connection_t origin;
	sdp_session_t *copy;
	int rc = -ENOMEM;

	*out = NULL;
	copy = sdp_session_dup(home, sdp);
	if (copy && !rewrite_media(home, copy, desc, relay)) {
		rewrite_session(copy, desc, relay, &origin);
		rc = print(home, copy, out, err, errlen);
	} else {
		snprintf(err, errlen, "out of memory");
	}
	su_home_deinit(home);
	return rc;
}
