// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The configuration from one table of keys: each key's name, type, where it
 * goes, its range or choices, its default and its help. The same table
 * parses and checks a file, fills the built-in defaults and writes
 * etc/xtrunkd.conf (xtrunkd --config-template) and xtrunkd.conf(5)
 * (xtrunkd --config-man).
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xtrunk_abi.h"
#include "config.h"

#define LINE_MAX_LEN 1024

const char *const xt_endpoint_kind_names[XT_KINDS] = { "pbx", "trunk" };

enum key_type {
	KEY_UINT,     /* unsigned number in [min, max] */
	KEY_ENUM,     /* one of choices, stored as its index (an enum) */
	KEY_IFNAME,   /* interface name */
	KEY_ADDR4,    /* IPv4 address, no port */
	KEY_ADDR6,    /* IPv6 address, no port */
	KEY_ADDR,     /* either */
	KEY_HOSTPORT, /* IP:PORT or [IPv6]:PORT */
	KEY_LISTEN,   /* IP:PORT, [IPv6]:PORT or off */
	KEY_PATH,     /* absolute path */
	KEY_PATH_OFF, /* absolute path or off */
	KEY_PORTS,    /* LOW-HIGH: port_min, port_max */
	KEY_CIDRS,    /* networks, comma separated; the key may repeat */
};

enum key_section { IN_RELAY, IN_ENDPOINT };

struct config_key {
	const char *name;
	enum key_section section;
	size_t offset; /* in struct xt_config or struct xt_endpoint_config */
	size_t size;   /* of the field (KEY_UINT: 1 or 4; strings: the buffer) */
	enum key_type type;
	unsigned long min, max;
	const char *unit;	    /* KEY_UINT: "a number", "seconds" */
	const char *const *choices; /* KEY_ENUM: names in the enum's order, NULL-ended */
	const char *def;	    /* the default as written; NULL: none */
	bool required;		    /* an endpoint of the file's own must set it */
	const char *help;	    /* comment lines for etc/xtrunkd.conf */
	const char *example;	    /* shown commented out when there is no default */
};

#define RELAY(field) \
	IN_RELAY, offsetof(struct xt_config, field), sizeof(((struct xt_config *)0)->field)
#define ENDPOINT(field)                                          \
	IN_ENDPOINT, offsetof(struct xt_endpoint_config, field), \
		sizeof(((struct xt_endpoint_config *)0)->field)

static const char *const xdp_modes[] = { "native", "skb", "off", NULL };
static const char *const latch_modes[] = { "auto", "on", "off", NULL };
static const char *const deny_actions[] = { "reject", "drop", NULL };

static const struct config_key keys[] = {
	{ "xdp", RELAY(xdp), .type = KEY_ENUM, .choices = xdp_modes, .def = "native",
	  .help = "how the XDP program is attached: native (driver), skb (generic), off "
		  "(userspace relay only)" },
	{ "dscp", RELAY(dscp), .type = KEY_UINT, .min = 0, .max = 63, .unit = "a number",
	  .def = "46",
	  .help = "DSCP set on every relayed media packet (46 = EF, expedited forwarding)" },
	{ "media_timeout", RELAY(media_timeout_s), .type = KEY_UINT, .min = 1, .max = 86400,
	  .unit = "seconds", .def = "60",
	  .help = "seconds without media before a call is hung up; on hold" },
	{ "hold_timeout", RELAY(hold_timeout_s), .type = KEY_UINT, .min = 1, .max = 86400,
	  .unit = "seconds", .def = "3600" },
	{ "ring_timeout", RELAY(ring_timeout_s), .type = KEY_UINT, .min = 1, .max = 86400,
	  .unit = "seconds", .def = "180",
	  .help = "seconds a call may wait for its answer (INVITE out, ringing or not) before "
		  "the\ncallee gets CANCEL and the caller 408 Request Timeout (RFC 3261 timer C)" },
	{ "flow_lease", RELAY(flow_lease_s), .type = KEY_UINT, .min = 2, .max = 86400,
	  .unit = "seconds", .def = "60",
	  .help = "how long XDP keeps relaying xtrunkd's flows after xtrunkd stops renewing "
		  "them\n(it renews every quarter of this while it runs): a killed xtrunkd "
		  "leaves no\nflow relaying for longer; the next xtrunkd removes them at start" },
	{ "slots", RELAY(slots), .type = KEY_UINT, .min = 1, .max = XT_MAX_SLOTS,
	  .unit = "a number", .def = "8",
	  .help = "relay addresses the flow table has room for (65536 ports each)" },
	{ "pin_dir", RELAY(pin_dir), .type = KEY_PATH, .def = XT_PIN_DIR,
	  .help = "where the BPF maps are pinned (xtrunkctl reads them there)" },
	{ "metrics", RELAY(metrics), .type = KEY_LISTEN, .def = "127.0.0.1:9477",
	  .help = "Prometheus /metrics (IP:PORT, or off)" },
	{ "control", RELAY(control), .type = KEY_PATH_OFF, .def = XT_CONTROL_SOCKET,
	  .help = "control socket for xtrunkctl's call, trunk and port objects (a path, or "
		  "off);\nmode 0660: root and the socket's group" },

	{ "interface", ENDPOINT(interface), .type = KEY_IFNAME, .required = true,
	  .help = "the network interface the endpoint is reached through (XDP attaches there)" },
	{ "address", ENDPOINT(address), .type = KEY_ADDR4, .required = true,
	  .help = "the relay's media addresses toward the endpoint (IPv4, and IPv6 if any)" },
	{ "address6", ENDPOINT(address6), .type = KEY_ADDR6 },
	{ "advertise", ENDPOINT(advertise), .type = KEY_ADDR,
	  .help = "the address put in SDP instead, when the relay is behind NAT",
	  .example = "203.0.113.10" },
	{ "ports", ENDPOINT(port_min), .type = KEY_PORTS, .required = true,
	  .help = "relay ports (RTP even, RTCP odd); endpoints sharing an address need "
		  "ranges apart" },
	{ "sip", ENDPOINT(sip), .type = KEY_HOSTPORT, .required = true,
	  .help = "where xtrunkd listens for the endpoint's SIP (one address:port each)" },
	{ "peer", ENDPOINT(peer), .type = KEY_HOSTPORT, .required = true,
	  .help = "the endpoint's own SIP address: where calls to it go" },
	{ "latch", ENDPOINT(latch), .type = KEY_ENUM, .choices = latch_modes, .def = "auto",
	  .help = "NAT latching of the endpoint's media (symmetric RTP): the first packet from "
		  "the\naddress the SDP gave fixes the source port; others are dropped and "
		  "counted,\nuntil the stream has been quiet for 2 s: then that address's next "
		  "packet\ntakes over (NAT rebinding), counted too.\nauto: on when the SDP "
		  "address differs from the SIP source address (NAT)." },
	{ "channels", ENDPOINT(channels), .type = KEY_UINT, .min = 0, .max = 1000000,
	  .unit = "a number", .def = "0",
	  .help = "Admission. channels: most calls through this endpoint at once (a call holds "
		  "a\nchannel on both of its endpoints from its INVITE to its end); the next "
		  "INVITE\ngets 503 Service Unavailable with Retry-After. 0: no limit." },
	{ "setup_calls", ENDPOINT(setup_calls), .type = KEY_UINT, .min = 0, .max = 1000000,
	  .unit = "a number", .def = "200",
	  .help = "setup_calls: most calls from this endpoint in set-up at once (INVITE received,\n"
		  "no 2xx yet), from any source, the peer included; the next INVITE gets 503\n"
		  "Service Unavailable with Retry-After. Unanswered calls hold relay ports\n"
		  "and a channel on both endpoints until they ring out. 0: no limit." },
	{ "setup_calls_per_source", ENDPOINT(setup_calls_per_source), .type = KEY_UINT, .min = 0,
	  .max = 1000000, .unit = "a number", .def = "20",
	  .help = "setup_calls_per_source: the same, for one source address other than the\n"
		  "peer (a PBX or a provider sends all its calls from the peer address: it is\n"
		  "held to setup_calls only). 0: no limit." },
	{ "streams", ENDPOINT(streams), .type = KEY_UINT, .min = 1, .max = 16 /* XT_MAX_STREAMS */,
	  .unit = "a number", .def = "4",
	  .help = "streams: most media streams (m= lines with a port) a call relays; a call\n"
		  "takes the smaller of its two endpoints' values. Streams past it are refused\n"
		  "the RFC 3264 way (port 0 in the SDP sent on, no relay port held); the call\n"
		  "goes on with the first ones." },
	{ "allow", ENDPOINT(allow), .type = KEY_CIDRS,
	  .help = "allow: the networks this endpoint accepts SIP from besides its peer's address\n"
		  "(CIDR, IPv4 or IPv6, comma separated; the key may repeat). Absent: the peer's\n"
		  "address only (0.0.0.0/0, ::/0 accepts anyone). It applies to every request,\n"
		  "in a dialog or not, by the packet's source address; media in SDP must go\n"
		  "there too when allow is set.",
	  .example = "10.77.1.0/24, fd77:1::/64" },
	{ "media_deny", ENDPOINT(media_deny), .type = KEY_CIDRS,
	  .help = "media_deny: networks media is never sent into, whatever an SDP says (besides\n"
		  "loopback, multicast, link-local, broadcast, unspecified but for hold, and\n"
		  "the relay's own addresses, always refused): such an SDP gets 488.",
	  .example = "10.0.0.0/8, 192.168.0.0/16" },
	{ "deny", ENDPOINT(deny), .type = KEY_ENUM, .choices = deny_actions, .def = "reject",
	  .help = "deny: what a request from outside allow gets: reject (403 Forbidden) or\ndrop "
		  "(no answer at all; a request in a call's dialog gets 403 all the\nsame: the "
		  "stack holds a transaction for it that only an answer frees)." },
	{ "sip_rate", ENDPOINT(sip_rate), .type = KEY_UINT, .min = 0, .max = 1000000,
	  .unit = "a number", .def = "100",
	  .help = "sip_rate: requests per second one source address other than the peer may\n"
		  "send outside a dialog (token bucket, burst as many); more are dropped\n"
		  "unanswered. 0: off." },
	{ "sip_rate_global", ENDPOINT(sip_rate_global), .type = KEY_UINT, .min = 0, .max = 1000000,
	  .unit = "a number", .def = "500",
	  .help = "sip_rate_global: requests per second all sources other than the peer may send\n"
		  "outside a dialog together (burst as many), beside each one's sip_rate: a\n"
		  "flood from many (spoofed) addresses, each with a full bucket of its own,\n"
		  "is held to it; more are dropped unanswered. 0: off." },
	{ "sip_rate_peer", ENDPOINT(sip_rate_peer), .type = KEY_UINT, .min = 0, .max = 1000000,
	  .unit = "a number", .def = "5000",
	  .help = "sip_rate_peer: requests per second the endpoint's peer (peer = above) may send\n"
		  "outside a dialog (burst as many): a bucket of its own, which a flood from\n"
		  "other sources cannot empty; over UDP its address can be spoofed too, so it\n"
		  "is generous rather than absent. 0: off." },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* The built-in endpoints: the demo lab's (tools/lab.sh); other keys take the table's default. */
static const struct builtin_endpoint {
	const char *name;
	enum xt_endpoint_kind kind;
	const char *comment;
	const char *values[12][2]; /* key, value; NULL-ended */
} builtins[] = {
	{ "pbx",
	  XT_KIND_PBX,
	  "The customer's IP-PBX.",
	  { { "interface", "left0" },
	    { "address", "10.77.1.1" },
	    { "address6", "fd77:1::1" },
	    { "ports", "20000-29999" },
	    { "sip", "10.77.1.1:5060" },
	    { "peer", "10.77.1.2:5060" },
	    { NULL, NULL } } },
	{ "trunk",
	  XT_KIND_TRUNK,
	  "The SIP trunk provider (ITSP).",
	  { { "interface", "right0" },
	    { "address", "10.77.2.1" },
	    { "address6", "fd77:2::1" },
	    { "ports", "30000-39999" },
	    { "sip", "10.77.2.1:5060" },
	    { "peer", "10.77.2.2:5060" },
	    { "latch", "off" },
	    { NULL, NULL } } },
};

#define NBUILTINS (sizeof(builtins) / sizeof(builtins[0]))

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static int parse_uint(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)*text))
		return -EINVAL;
	errno = 0;
	*out = strtoul(text, &end, 10);
	if (errno || *end || *out < min || *out > max)
		return -EINVAL;
	return 0;
}

/* An address without a port: "10.0.0.1" or "fd00::1" (brackets optional). */
static int parse_address(const char *text, struct xt_endpoint *ep, char *why, size_t whylen)
{
	char buf[80];

	if (strchr(text, ':') && text[0] != '[')
		snprintf(buf, sizeof(buf), "[%s]:0", text);
	else
		snprintf(buf, sizeof(buf), "%s:0", text);
	if (strlen(text) >= 64 || xt_endpoint_parse(buf, ep, why, whylen)) {
		snprintf(why, whylen, "'%s' is not an IPv4 or IPv6 address", text);
		return -EINVAL;
	}
	return 0;
}

/* A network "ADDR/PREFIX", or a lone address (all its bits). */
static int parse_cidr(const char *key, const char *text, struct xt_cidr *cidr, char *why,
		      size_t whylen)
{
	char addr[80], *slash;
	unsigned long prefix, max;
	int bytes;

	if (strlen(text) >= sizeof(addr)) {
		snprintf(why, whylen, "%s: '%s' is not a network ADDR/PREFIX", key, text);
		return -EINVAL;
	}
	snprintf(addr, sizeof(addr), "%s", text);
	slash = strchr(addr, '/');
	if (slash)
		*slash = '\0';
	if (parse_address(addr, &cidr->net, why, whylen)) {
		snprintf(why, whylen, "%s: '%s' is not an IPv4 or IPv6 network (ADDR/PREFIX)", key,
			 text);
		return -EINVAL;
	}
	max = cidr->net.family == XT_AF_INET ? 32 : 128;
	if (!slash)
		prefix = max;
	else if (parse_uint(slash + 1, 0, max, &prefix)) {
		snprintf(why, whylen, "%s: '%s': the prefix length must be 0 to %lu", key, text,
			 max);
		return -EINVAL;
	}
	cidr->prefix = (uint8_t)prefix;
	/* Host bits set is a typo more often than not (10.1.2.3/8 for 10.0.0.0/8). */
	bytes = max / 8;
	for (int i = 0; i < bytes; i++) {
		int keep = (int)prefix - 8 * i;
		uint8_t mask = keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));

		if (cidr->net.addr[i] & ~mask) {
			snprintf(why, whylen,
				 "%s: '%s' has bits set past its /%lu prefix (host bits must be "
				 "zero)",
				 key, text, prefix);
			return -EINVAL;
		}
	}
	return 0;
}

/* KEY = CIDR[, CIDR...]; the key may repeat, each line adds its networks. */
static int parse_cidrs(const char *key, struct xt_cidr_list *cl, const char *value, char *why,
		       size_t whylen)
{
	char list[LINE_MAX_LEN], *tok, *save = NULL;
	int n = 0;

	snprintf(list, sizeof(list), "%s", value);
	for (tok = strtok_r(list, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (cl->count >= XT_ALLOW_MAX) {
			snprintf(why, whylen, "%s: at most %d networks per endpoint", key,
				 XT_ALLOW_MAX);
			return -EINVAL;
		}
		if (parse_cidr(key, tok, &cl->net[cl->count], why, whylen))
			return -EINVAL;
		cl->count++;
		n++;
	}
	if (!n) {
		snprintf(why, whylen, "%s needs one or more networks, like 10.0.0.0/8, fd00::/8",
			 key);
		return -EINVAL;
	}
	return 0;
}

static int parse_ports(const char *value, uint16_t *range, char *why, size_t whylen)
{
	char text[64], *dash;
	unsigned long lo, hi;

	snprintf(text, sizeof(text), "%s", value);
	dash = strchr(text, '-');
	if (!dash) {
		snprintf(why, whylen, "ports must be a range LOW-HIGH, like 20000-29999");
		return -EINVAL;
	}
	*dash = '\0';
	if (parse_uint(trim(text), 1024, 65535, &lo) ||
	    parse_uint(trim(dash + 1), 1024, 65535, &hi) || hi < lo + 3) {
		snprintf(why, whylen,
			 "ports '%s': need LOW-HIGH within 1024-65535 with room for two RTP/RTCP "
			 "pairs",
			 value);
		return -EINVAL;
	}
	range[0] = (uint16_t)((lo + 1) & ~1ul); /* RTP on even ports */
	range[1] = (uint16_t)hi;
	return 0;
}

/* "a, b or c" */
static void choices_text(const char *const *choices, char *buf, size_t len)
{
	size_t n = 0, used = 0;

	while (choices[n])
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i == 0	    ? "" :
					 i + 1 == n ? " or " :
						      ", ",
					 choices[i]);
}

static int parse_enum(const struct config_key *k, const char *value, void *field, char *why,
		      size_t whylen)
{
	char list[128];

	for (int i = 0; k->choices[i]; i++)
		if (!strcmp(value, k->choices[i])) {
			*(int *)field = i;
			return 0;
		}
	choices_text(k->choices, list, sizeof(list));
	snprintf(why, whylen, "%s must be %s, not '%s'", k->name, list, value);
	return -EINVAL;
}

static int parse_number(const struct config_key *k, const char *value, void *field, char *why,
			size_t whylen)
{
	unsigned long n;

	if (parse_uint(value, k->min, k->max, &n)) {
		snprintf(why, whylen, "%s must be %s from %lu%s to %lu, not '%s'", k->name, k->unit,
			 k->min, k->min == 0 && k->max == 1000000 ? " (no limit)" : "", k->max,
			 value);
		return -EINVAL;
	}
	if (k->size == 1)
		*(uint8_t *)field = (uint8_t)n;
	else
		*(unsigned int *)field = (unsigned int)n;
	return 0;
}

static int parse_addresses(const struct config_key *k, const char *value, void *field, char *why,
			   size_t whylen)
{
	struct xt_endpoint ep;

	if (parse_address(value, &ep, why, whylen))
		return -EINVAL;
	if (k->type == KEY_ADDR4 && ep.family != XT_AF_INET) {
		snprintf(why, whylen, "%s must be IPv4 (use address6 for IPv6)", k->name);
		return -EINVAL;
	}
	if (k->type == KEY_ADDR6 && ep.family != XT_AF_INET6) {
		snprintf(why, whylen, "%s must be an IPv6 address", k->name);
		return -EINVAL;
	}
	memcpy(field, &ep, sizeof(ep));
	return 0;
}

static int parse_hostport(const struct config_key *k, const char *value, void *field, char *why,
			  size_t whylen)
{
	struct xt_endpoint *ep = field;
	char perr[128];

	if (k->type == KEY_LISTEN && !strcmp(value, "off")) {
		memset(ep, 0, sizeof(*ep));
		return 0;
	}
	if (xt_endpoint_parse(value, ep, perr, sizeof(perr)) || !ep->port) {
		snprintf(why, whylen, "%s must be IP:PORT, [IPv6]:PORT%s", k->name,
			 k->type == KEY_LISTEN ? " or off" : " with a port");
		return -EINVAL;
	}
	return 0;
}

static int parse_path(const struct config_key *k, const char *value, char *field, char *why,
		      size_t whylen)
{
	if (k->type == KEY_PATH_OFF && !strcmp(value, "off")) {
		field[0] = '\0';
		return 0;
	}
	if (value[0] != '/' || strlen(value) >= k->size) {
		snprintf(why, whylen, "%s must be an absolute path (at most %zu bytes)%s", k->name,
			 k->size - 1, k->type == KEY_PATH_OFF ? " or off" : "");
		return -EINVAL;
	}
	snprintf(field, k->size, "%s", value);
	return 0;
}

/* Parse value for key k into its field of base (a struct xt_config or xt_endpoint_config). */
static int key_parse(const struct config_key *k, void *base, const char *value, char *why,
		     size_t whylen)
{
	void *field = (char *)base + k->offset;

	switch (k->type) {
	case KEY_UINT:
		return parse_number(k, value, field, why, whylen);
	case KEY_ENUM:
		return parse_enum(k, value, field, why, whylen);
	case KEY_IFNAME:
		if (!*value || strlen(value) >= k->size) {
			snprintf(why, whylen, "interface name must be 1 to %zu characters",
				 k->size - 1);
			return -EINVAL;
		}
		snprintf(field, k->size, "%s", value);
		return 0;
	case KEY_ADDR4:
	case KEY_ADDR6:
	case KEY_ADDR:
		return parse_addresses(k, value, field, why, whylen);
	case KEY_HOSTPORT:
	case KEY_LISTEN:
		return parse_hostport(k, value, field, why, whylen);
	case KEY_PATH:
	case KEY_PATH_OFF:
		return parse_path(k, value, field, why, whylen);
	case KEY_PORTS:
		return parse_ports(value, field, why, whylen);
	case KEY_CIDRS:
		return parse_cidrs(k->name, field, value, why, whylen);
	}
	return -EINVAL;
}

static const struct config_key *key_find(enum key_section section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].section == section && !strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static void unknown_key(enum key_section section, const char *name, char *why, size_t whylen)
{
	char list[512];
	size_t used = 0;

	list[0] = '\0';
	for (size_t i = 0; i < NKEYS && used < sizeof(list); i++)
		if (keys[i].section == section)
			used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s",
						 used ? ", " : "", keys[i].name);
	snprintf(why, whylen, "unknown key '%s' in %s (%s)", name,
		 section == IN_RELAY ? "[relay]" : "an endpoint section", list);
}

/* Every key of a section at its table default (keys without one are left zero). */
static void section_defaults(enum key_section section, void *base)
{
	char why[256];

	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].section == section && keys[i].def)
			key_parse(&keys[i], base, keys[i].def, why, sizeof(why));
}

static void endpoint_init(struct xt_endpoint_config *ec, const char *name,
			  enum xt_endpoint_kind kind)
{
	memset(ec, 0, sizeof(*ec));
	snprintf(ec->name, sizeof(ec->name), "%s", name);
	ec->kind = kind;
	section_defaults(IN_ENDPOINT, ec);
}

void xt_config_defaults(struct xt_config *config)
{
	char why[256];

	memset(config, 0, sizeof(*config));
	section_defaults(IN_RELAY, config);
	for (size_t b = 0; b < NBUILTINS; b++) {
		struct xt_endpoint_config *ec = &config->endpoint[config->endpoints++];

		endpoint_init(ec, builtins[b].name, builtins[b].kind);
		for (int v = 0; builtins[b].values[v][0]; v++)
			key_parse(key_find(IN_ENDPOINT, builtins[b].values[v][0]), ec,
				  builtins[b].values[v][1], why, sizeof(why));
	}
}

bool xt_cidr_contains(const struct xt_cidr *net, uint8_t family, const uint8_t *addr)
{
	int full = net->prefix / 8, rest = net->prefix % 8;

	if (net->net.family != family)
		return false;
	if (memcmp(net->net.addr, addr, full))
		return false;
	return !rest || !((net->net.addr[full] ^ addr[full]) & (uint8_t)(0xff << (8 - rest)));
}

bool xt_endpoint_is_peer(const struct xt_endpoint_config *ec, uint8_t family, const uint8_t *addr)
{
	return ec->peer.family == family && !memcmp(ec->peer.addr, addr, xt_addr_len(family));
}

bool xt_endpoint_allows(const struct xt_endpoint_config *ec, uint8_t family, const uint8_t *addr)
{
	if (xt_endpoint_is_peer(ec, family, addr))
		return true;
	return xt_cidr_list_contains(&ec->allow, family, addr);
}

bool xt_cidr_list_contains(const struct xt_cidr_list *list, uint8_t family, const uint8_t *addr)
{
	for (unsigned int i = 0; i < list->count; i++)
		if (xt_cidr_contains(&list->net[i], family, addr))
			return true;
	return false;
}

int xt_config_endpoint_find(const struct xt_config *config, const char *name)
{
	for (unsigned int i = 0; i < config->endpoints; i++)
		if (!strcmp(config->endpoint[i].name, name))
			return (int)i;
	return -1;
}

int xt_config_endpoint_of(const struct xt_config *config, const struct xt_endpoint *local)
{
	for (unsigned int i = 0; i < config->endpoints; i++) {
		const struct xt_endpoint_config *ec = &config->endpoint[i];

		if ((xt_endpoint_addr_equal(local, &ec->address) ||
		     (ec->address6.family && xt_endpoint_addr_equal(local, &ec->address6))) &&
		    local->port >= ec->port_min && local->port <= ec->port_max + 1)
			return (int)i;
	}
	return -1;
}

int xt_config_route(const struct xt_config *config, int from)
{
	enum xt_endpoint_kind want = config->endpoint[from].kind == XT_KIND_PBX ? XT_KIND_TRUNK :
										  XT_KIND_PBX;

	for (unsigned int i = 0; i < config->endpoints; i++)
		if (config->endpoint[i].kind == want)
			return (int)i;
	return -1;
}

/* ---- reading a file ---- */

/* What the reader knows between lines. */
struct reader {
	struct xt_config *config;
	bool in_relay;
	struct xt_endpoint_config *endpoint; /* the section's, or NULL */
	bool declared[XT_KINDS];	     /* the file has a section of that kind */
	bool named[XT_ENDPOINTS_MAX];	     /* the file has a section for that endpoint */
	bool builtin[XT_ENDPOINTS_MAX];	     /* there before the file: the lab's values */
	/* which endpoint keys each endpoint set: required ones are checked at the end */
	bool set[XT_ENDPOINTS_MAX][NKEYS];
};

static bool valid_name(const char *name)
{
	if (!*name || strlen(name) >= XT_ENDPOINT_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

/* [pbx NAME], [trunk NAME] or the old [side pbx] / [side trunk]. */
static int endpoint_section(struct reader *r, const char *kind_word, const char *name, char *why,
			    size_t whylen)
{
	struct xt_config *config = r->config;
	enum xt_endpoint_kind kind;
	int i;

	if (!strcmp(kind_word, "side")) {
		if (strcmp(name, "pbx") && strcmp(name, "trunk")) {
			snprintf(why, whylen,
				 "unknown side '%s' ([side pbx] and [side trunk] still read; "
				 "write [pbx NAME] or [trunk NAME] for any other)",
				 name);
			return -EINVAL;
		}
		kind_word = name;
	}
	kind = !strcmp(kind_word, "pbx") ? XT_KIND_PBX : XT_KIND_TRUNK;
	if (!valid_name(name)) {
		snprintf(why, whylen,
			 "endpoint name '%s': 1 to %d letters, digits, '-', '_' or '.'", name,
			 XT_ENDPOINT_NAME_MAX - 1);
		return -EINVAL;
	}
	i = xt_config_endpoint_find(config, name);
	if (i >= 0 && config->endpoint[i].kind != kind) {
		snprintf(why, whylen, "endpoint '%s' is a %s already, not a %s", name,
			 xt_endpoint_kind_names[config->endpoint[i].kind], kind_word);
		return -EINVAL;
	}
	if (i < 0) {
		if (config->endpoints >= XT_ENDPOINTS_MAX) {
			snprintf(why, whylen, "at most %d endpoints", XT_ENDPOINTS_MAX);
			return -EINVAL;
		}
		i = (int)config->endpoints++;
		endpoint_init(&config->endpoint[i], name, kind);
		memset(r->set[i], 0, sizeof(r->set[i]));
	}
	r->endpoint = &config->endpoint[i];
	r->declared[kind] = true;
	r->named[i] = true;
	return 0;
}

/* The text from start to end is word. */
static bool word_is(const char *start, const char *end, const char *word)
{
	return (size_t)(end - start) == strlen(word) && !strncmp(start, word, strlen(word));
}

static int section_line(struct reader *r, char *text, char *why, size_t whylen)
{
	char *close = strchr(text, ']'), *name, *space;

	if (!close || close[1]) {
		snprintf(why, whylen, "section header must be [relay], [pbx NAME] or [trunk NAME]");
		return -EINVAL;
	}
	*close = '\0';
	name = trim(text + 1);
	r->in_relay = false;
	r->endpoint = NULL;
	if (!strcmp(name, "relay")) {
		r->in_relay = true;
		return 0;
	}
	space = name;
	while (*space && !isspace((unsigned char)*space))
		space++;
	if (*space && (word_is(name, space, "pbx") || word_is(name, space, "trunk") ||
		       word_is(name, space, "side"))) {
		*space = '\0';
		return endpoint_section(r, name, trim(space + 1), why, whylen);
	}
	snprintf(why, whylen, "unknown section [%s] (expected [relay], [pbx NAME] or [trunk NAME])",
		 name);
	return -EINVAL;
}

static int key_line(struct reader *r, char *text, char *why, size_t whylen)
{
	enum key_section section = r->in_relay ? IN_RELAY : IN_ENDPOINT;
	char *eq = strchr(text, '='), *key, *value;
	const struct config_key *k;

	if (!eq) {
		snprintf(why, whylen, "expected 'key = value', got '%s'", text);
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(text);
	value = trim(eq + 1);
	if (!r->in_relay && !r->endpoint) {
		snprintf(why, whylen, "'%s' outside of a section", key);
		return -EINVAL;
	}
	k = key_find(section, key);
	if (!k) {
		unknown_key(section, key, why, whylen);
		return -EINVAL;
	}
	if (r->in_relay)
		return key_parse(k, r->config, value, why, whylen);
	r->set[r->endpoint - r->config->endpoint][k - keys] = true;
	return key_parse(k, r->endpoint, value, why, whylen);
}

/*
 * A file that declares endpoints of a kind replaces the built-in ones of that
 * kind it does not name: [trunk carrier] alone leaves no "trunk" behind.
 */
static void drop_unnamed_builtins(struct reader *r)
{
	struct xt_config *config = r->config;
	unsigned int out = 0;

	for (unsigned int i = 0; i < config->endpoints; i++) {
		if (r->builtin[i] && !r->named[i] && r->declared[config->endpoint[i].kind])
			continue;
		if (out != i) {
			config->endpoint[out] = config->endpoint[i];
			r->builtin[out] = r->builtin[i];
			memcpy(r->set[out], r->set[i], sizeof(r->set[i]));
		}
		out++;
	}
	config->endpoints = out;
}

/* Keys with no default that an endpoint of the file's own must set. */
static int check_required(const struct reader *r, char *why, size_t whylen)
{
	const struct xt_config *config = r->config;

	for (unsigned int i = 0; i < config->endpoints; i++) {
		const struct xt_endpoint_config *ec = &config->endpoint[i];

		if (r->builtin[i])
			continue; /* its values are the lab's */
		for (size_t k = 0; k < NKEYS; k++) {
			if (!keys[k].required || r->set[i][k])
				continue;
			snprintf(why, whylen, "[%s %s] needs %s = ...",
				 xt_endpoint_kind_names[ec->kind], ec->name, keys[k].name);
			return -EINVAL;
		}
	}
	return 0;
}

static bool ranges_overlap(const struct xt_endpoint_config *a, const struct xt_endpoint_config *b)
{
	return a->port_min <= b->port_max && b->port_min <= a->port_max &&
	       xt_endpoint_addr_equal(&a->address, &b->address);
}

/* Checks across keys and endpoints, once the file is read. */
static int validate(const struct xt_config *config, char *why, size_t whylen)
{
	bool kinds[XT_KINDS] = { false, false };

	for (unsigned int i = 0; i < config->endpoints; i++) {
		const struct xt_endpoint_config *a = &config->endpoint[i];

		kinds[a->kind] = true;
		for (unsigned int j = i + 1; j < config->endpoints; j++) {
			const struct xt_endpoint_config *b = &config->endpoint[j];

			if (ranges_overlap(a, b)) {
				snprintf(why, whylen,
					 "endpoints %s and %s share an address and overlapping "
					 "ports",
					 a->name, b->name);
				return -EINVAL;
			}
			if (xt_endpoint_equal(&a->sip, &b->sip)) {
				snprintf(why, whylen,
					 "endpoints %s and %s both listen for SIP on the same "
					 "address and port (give each its own sip =)",
					 a->name, b->name);
				return -EINVAL;
			}
		}
	}
	for (int k = 0; k < XT_KINDS; k++)
		if (!kinds[k]) {
			snprintf(why, whylen, "no [%s NAME] section: calls have nowhere to go",
				 xt_endpoint_kind_names[k]);
			return -EINVAL;
		}
	return 0;
}

static int read_lines(struct reader *r, FILE *f, unsigned int *lineno, char *why, size_t whylen)
{
	char line[LINE_MAX_LEN];

	while (fgets(line, sizeof(line), f)) {
		char *text;
		int rc;

		++*lineno;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(why, whylen, "line longer than %d characters", LINE_MAX_LEN - 2);
			return -EINVAL;
		}
		text = trim(line);
		if (!*text || *text == '#' || *text == ';')
			continue;
		rc = *text == '[' ? section_line(r, text, why, whylen) :
				    key_line(r, text, why, whylen);
		if (rc)
			return rc;
	}
	return 0;
}

int xt_config_load(struct xt_config *config, const char *path, char *err, size_t errlen)
{
	struct reader *r = calloc(1, sizeof(*r));
	unsigned int lineno = 0;
	char why[512];
	FILE *f;
	int rc;

	if (!r) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	r->config = config;
	for (unsigned int i = 0; i < config->endpoints; i++)
		r->builtin[i] = true;
	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		free(r);
		return rc;
	}
	rc = read_lines(r, f, &lineno, why, sizeof(why));
	fclose(f);
	if (rc) {
		snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
		free(r);
		return rc;
	}
	drop_unnamed_builtins(r);
	rc = check_required(r, why, sizeof(why));
	free(r);
	if (rc || validate(config, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -EINVAL;
	}
	return 0;
}

/* ---- etc/xtrunkd.conf ---- */

static void write_help(FILE *out, const char *help)
{
	const char *p = help;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		fprintf(out, "# %.*s\n", (int)n, p);
		p += n + (nl ? 1 : 0);
	}
}

static const char *builtin_value(const struct builtin_endpoint *b, const char *key)
{
	for (int v = 0; b->values[v][0]; v++)
		if (!strcmp(b->values[v][0], key))
			return b->values[v][1];
	return NULL;
}

static void write_endpoint(FILE *out, const struct builtin_endpoint *b, bool with_help)
{
	fprintf(out, "\n# %s\n[%s %s]\n", b->comment, xt_endpoint_kind_names[b->kind], b->name);
	for (size_t i = 0; i < NKEYS; i++) {
		const struct config_key *k = &keys[i];
		const char *value;

		if (k->section != IN_ENDPOINT)
			continue;
		value = builtin_value(b, k->name);
		if (!value)
			value = k->def;
		if (with_help && k->help)
			write_help(out, k->help);
		if (value)
			fprintf(out, "%s = %s\n", k->name, value);
		else if (with_help && k->example)
			fprintf(out, "# %s = %s\n", k->name, k->example);
	}
}

void xt_config_write_template(FILE *out)
{
	fprintf(out, "# xtrunkd configuration: every key, with its built-in default (the demo "
		     "lab's).\n"
		     "# xtrunkd -c FILE reads it over the defaults; a bad line stops xtrunkd "
		     "with\n"
		     "# FILE:LINE: what is wrong. xtrunkd --check-config -c FILE only checks.\n"
		     "# Written by xtrunkd --config-template from the key table in "
		     "userspace/daemon/config.c.\n"
		     "\n[relay]\n");
	for (size_t i = 0; i < NKEYS; i++) {
		if (keys[i].section != IN_RELAY)
			continue;
		if (keys[i].help)
			write_help(out, keys[i].help);
		fprintf(out, "%s = %s\n", keys[i].name, keys[i].def);
	}
	fprintf(out,
		"\n# Endpoints: any number of [pbx NAME] and [trunk NAME] sections, each with "
		"the\n"
		"# keys below (interface, address, ports, sip and peer have no default). A "
		"file\n"
		"# with sections of a kind replaces the built-in endpoint of that kind. Until\n"
		"# routes exist, a PBX's calls go to the first trunk, a trunk's to the first "
		"PBX.\n"
		"# [side pbx] and [side trunk] still read as [pbx pbx] and [trunk trunk].\n");
	for (size_t b = 0; b < NBUILTINS; b++)
		write_endpoint(out, &builtins[b], b == 0);
}

/* ---- xtrunkd.conf(5) ---- */

/* Text for troff: backslashes and dashes escaped, line breaks joined. */
static void roff(FILE *out, const char *text)
{
	bool line_start = true;

	for (const char *p = text; *p; p++) {
		if (*p == '\n') {
			fputc(' ', out);
			continue;
		}
		if (line_start && (*p == '.' || *p == '\''))
			fputs("\\&", out);
		line_start = false;
		if (*p == '\\')
			fputs("\\e", out);
		else if (*p == '-')
			fputs("\\-", out);
		else
			fputc(*p, out);
	}
}

/* What a key's value looks like. */
static void value_form(FILE *out, const struct config_key *k)
{
	static const char *const forms[] = {
		[KEY_IFNAME] = "IFNAME",
		[KEY_ADDR4] = "IPv4-ADDRESS",
		[KEY_ADDR6] = "IPv6-ADDRESS",
		[KEY_ADDR] = "ADDRESS",
		[KEY_HOSTPORT] = "IP:PORT | [IPv6]:PORT",
		[KEY_LISTEN] = "IP:PORT | [IPv6]:PORT | off",
		[KEY_PATH] = "PATH",
		[KEY_PATH_OFF] = "PATH | off",
		[KEY_PORTS] = "LOW-HIGH",
		[KEY_CIDRS] = "NETWORK[, NETWORK...]",
	};

	if (k->type == KEY_UINT) {
		fprintf(out, "%lu..%lu", k->min, k->max);
		return;
	}
	if (k->type == KEY_ENUM) {
		for (int i = 0; k->choices[i]; i++)
			fprintf(out, "%s%s", i ? " | " : "", k->choices[i]);
		return;
	}
	roff(out, forms[k->type]);
}

static void man_keys(FILE *out, enum key_section section)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct config_key *k = &keys[i];

		if (k->section != section)
			continue;
		fprintf(out, ".TP\n\\fB%s\\fR = ", k->name);
		value_form(out, k);
		fputc('\n', out);
		if (k->help) {
			roff(out, k->help);
			if (k->help[strlen(k->help) - 1] != '.')
				fputc('.', out);
		} else {
			fputs("See the key above.", out);
		}
		if (k->def) {
			fputs(" Default: ", out);
			roff(out, k->def);
			fputc('.', out);
		} else if (k->required) {
			fputs(" Required in an endpoint of the file's own.", out);
		}
		if (k->example) {
			fputs(" Example: ", out);
			roff(out, k->example);
			fputc('.', out);
		}
		fputc('\n', out);
	}
}

void xt_config_write_man(FILE *out)
{
	fputs(".TH XTRUNKD.CONF 5 \"\" \"xtrunk\" \"File Formats\"\n"
	      ".SH NAME\nxtrunkd.conf \\- configuration of xtrunkd, the XDP media relay for SIP "
	      "trunks\n"
	      ".SH SYNOPSIS\n\\fBxtrunkd \\-c\\fR \\fIFILE\\fR\n"
	      ".SH DESCRIPTION\nAn INI file: a \\fB[relay]\\fR section and one section per "
	      "endpoint, \\fB[pbx\\fR \\fINAME\\fR\\fB]\\fR for an IP\\-PBX and "
	      "\\fB[trunk\\fR \\fINAME\\fR\\fB]\\fR for a SIP trunk provider, any number of each "
	      "(up to 32). Lines are \\fIkey\\fR = \\fIvalue\\fR; lines starting with # or ; are "
	      "comments. The file is read over the built\\-in configuration (the demo lab's); "
	      "a file with endpoints of a kind replaces the built\\-in endpoint of that kind. "
	      "Until routes exist, a call from a PBX goes to the first trunk and a call from "
	      "a trunk to the first PBX. \\fB[side pbx]\\fR and \\fB[side trunk]\\fR still read, "
	      "as the endpoints \\fBpbx\\fR and \\fBtrunk\\fR. A bad line stops xtrunkd with "
	      "FILE:LINE: what is wrong; \\fBxtrunkd \\-\\-check\\-config \\-c\\fR \\fIFILE\\fR "
	      "only checks.\n"
	      ".SH [relay] KEYS\n",
	      out);
	man_keys(out, IN_RELAY);
	fputs(".SH ENDPOINT KEYS\nIn \\fB[pbx\\fR \\fINAME\\fR\\fB]\\fR and "
	      "\\fB[trunk\\fR \\fINAME\\fR\\fB]\\fR; NAME is 1 to 31 letters, digits, '\\-', "
	      "'_' or '.', and labels the endpoint in logs, xtrunkctl and /metrics.\n",
	      out);
	man_keys(out, IN_ENDPOINT);
	fputs(".SH FILES\n.TP\netc/xtrunkd.conf\nevery key with its built\\-in value, as "
	      "\\fBxtrunkd \\-\\-config\\-template\\fR writes it\n"
	      ".SH SEE ALSO\n\\fBxtrunkctl\\fR(8)\n",
	      out);
}
