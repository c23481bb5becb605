// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xtrunk_abi.h"
#include "config.h"

#define LINE_MAX_LEN 1024

static void set_endpoint(struct xt_endpoint *ep, const char *text)
{
	char err[128];

	xt_endpoint_parse(text, ep, err, sizeof(err));
}

void xt_config_defaults(struct xt_config *config)
{
	struct xt_side_config *pbx = &config->side[XT_SIDE_PBX];
	struct xt_side_config *trunk = &config->side[XT_SIDE_TRUNK];

	memset(config, 0, sizeof(*config));
	config->xdp = XT_XDP_NATIVE;
	config->dscp = 46;
	config->media_timeout_s = 60;
	config->hold_timeout_s = 3600;
	config->slots = XT_DEFAULT_SLOTS;
	snprintf(config->pin_dir, sizeof(config->pin_dir), "%s", XT_PIN_DIR);
	set_endpoint(&config->metrics, "127.0.0.1:9477");
	snprintf(config->control, sizeof(config->control), "%s", XT_CONTROL_SOCKET);

	snprintf(pbx->name, sizeof(pbx->name), "pbx");
	snprintf(pbx->interface, sizeof(pbx->interface), "left0");
	set_endpoint(&pbx->address, "10.77.1.1:0");
	set_endpoint(&pbx->address6, "[fd77:1::1]:0");
	set_endpoint(&pbx->sip, "10.77.1.1:5060");
	set_endpoint(&pbx->peer, "10.77.1.2:5060");
	pbx->port_min = 20000;
	pbx->port_max = 29999;
	pbx->latch = XT_LATCH_AUTO;
	pbx->sip_rate = XT_DEFAULT_SIP_RATE;

	snprintf(trunk->name, sizeof(trunk->name), "trunk");
	snprintf(trunk->interface, sizeof(trunk->interface), "right0");
	set_endpoint(&trunk->address, "10.77.2.1:0");
	set_endpoint(&trunk->address6, "[fd77:2::1]:0");
	set_endpoint(&trunk->sip, "10.77.2.1:5060");
	set_endpoint(&trunk->peer, "10.77.2.2:5060");
	trunk->port_min = 30000;
	trunk->port_max = 39999;
	trunk->latch = XT_LATCH_OFF;
	trunk->sip_rate = XT_DEFAULT_SIP_RATE;
}

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
	else if (text[0] == '[')
		snprintf(buf, sizeof(buf), "%s:0", text);
	else
		snprintf(buf, sizeof(buf), "%s:0", text);
	if (xt_endpoint_parse(buf, ep, why, whylen)) {
		snprintf(why, whylen, "'%s' is not an IPv4 or IPv6 address", text);
		return -EINVAL;
	}
	return 0;
}

/* A network "ADDR/PREFIX", or a lone address (all its bits). */
static int parse_cidr(const char *text, struct xt_cidr *cidr, char *why, size_t whylen)
{
	char addr[80], *slash;
	unsigned long prefix, max;
	int bytes;

	if (strlen(text) >= sizeof(addr)) {
		snprintf(why, whylen, "allow: '%s' is not a network ADDR/PREFIX", text);
		return -EINVAL;
	}
	snprintf(addr, sizeof(addr), "%s", text);
	slash = strchr(addr, '/');
	if (slash)
		*slash = '\0';
	if (parse_address(addr, &cidr->net, why, whylen)) {
		snprintf(why, whylen, "allow: '%s' is not an IPv4 or IPv6 network (ADDR/PREFIX)",
			 text);
		return -EINVAL;
	}
	max = cidr->net.family == XT_AF_INET ? 32 : 128;
	if (!slash)
		prefix = max;
	else if (parse_uint(slash + 1, 0, max, &prefix)) {
		snprintf(why, whylen, "allow: '%s': the prefix length must be 0 to %lu", text, max);
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
				 "allow: '%s' has bits set past its /%lu prefix (host bits must "
				 "be zero)",
				 text, prefix);
			return -EINVAL;
		}
	}
	return 0;
}

/* allow = CIDR[, CIDR...]; the key may repeat, each line adds its networks. */
static int parse_allow(struct xt_side_config *side, const char *value, char *why, size_t whylen)
{
	char list[LINE_MAX_LEN], *tok, *save = NULL;
	int n = 0;

	snprintf(list, sizeof(list), "%s", value);
	for (tok = strtok_r(list, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (side->allow_count >= XT_ALLOW_MAX) {
			snprintf(why, whylen, "allow: at most %d networks per side", XT_ALLOW_MAX);
			return -EINVAL;
		}
		if (parse_cidr(tok, &side->allow[side->allow_count], why, whylen))
			return -EINVAL;
		side->allow_count++;
		n++;
	}
	if (!n) {
		snprintf(why, whylen,
			 "allow needs one or more networks, like 10.0.0.0/8, fd00::/8");
		return -EINVAL;
	}
	return 0;
}

static int side_key(struct xt_side_config *side, const char *key, const char *value, char *why,
		    size_t whylen)
{
	unsigned long lo, hi;
	char range[64], *dash;

	if (!strcmp(key, "interface")) {
		if (!*value || strlen(value) >= sizeof(side->interface)) {
			snprintf(why, whylen, "interface name must be 1 to %zu characters",
				 sizeof(side->interface) - 1);
			return -EINVAL;
		}
		snprintf(side->interface, sizeof(side->interface), "%s", value);
		return 0;
	}
	if (!strcmp(key, "address") || !strcmp(key, "address6") || !strcmp(key, "advertise")) {
		struct xt_endpoint ep;
		int want = !strcmp(key, "address6") ? XT_AF_INET6 : 0;

		if (parse_address(value, &ep, why, whylen))
			return -EINVAL;
		if (!strcmp(key, "address") && ep.family != XT_AF_INET) {
			snprintf(why, whylen, "address must be IPv4 (use address6 for IPv6)");
			return -EINVAL;
		}
		if (want && ep.family != want) {
			snprintf(why, whylen, "address6 must be an IPv6 address");
			return -EINVAL;
		}
		if (!strcmp(key, "address"))
			side->address = ep;
		else if (!strcmp(key, "address6"))
			side->address6 = ep;
		else
			side->advertise = ep;
		return 0;
	}
	if (!strcmp(key, "ports")) {
		snprintf(range, sizeof(range), "%s", value);
		dash = strchr(range, '-');
		if (!dash) {
			snprintf(why, whylen, "ports must be a range LOW-HIGH, like 20000-29999");
			return -EINVAL;
		}
		*dash = '\0';
		if (parse_uint(trim(range), 1024, 65535, &lo) ||
		    parse_uint(trim(dash + 1), 1024, 65535, &hi) || hi < lo + 3) {
			snprintf(why, whylen,
				 "ports '%s': need LOW-HIGH within 1024-65535 with room for two "
				 "RTP/RTCP pairs",
				 value);
			return -EINVAL;
		}
		side->port_min = (uint16_t)((lo + 1) & ~1ul); /* RTP on even ports */
		side->port_max = (uint16_t)hi;
		return 0;
	}
	if (!strcmp(key, "sip") || !strcmp(key, "peer")) {
		struct xt_endpoint *ep = !strcmp(key, "sip") ? &side->sip : &side->peer;
		char perr[128];

		if (xt_endpoint_parse(value, ep, perr, sizeof(perr)) || ep->port == 0) {
			snprintf(why, whylen, "%s must be IP:PORT or [IPv6]:PORT with a port", key);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "latch")) {
		if (!strcmp(value, "auto"))
			side->latch = XT_LATCH_AUTO;
		else if (!strcmp(value, "on"))
			side->latch = XT_LATCH_ON;
		else if (!strcmp(value, "off"))
			side->latch = XT_LATCH_OFF;
		else {
			snprintf(why, whylen, "latch must be auto, on or off, not '%s'", value);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "channels") || !strcmp(key, "sip_rate")) {
		if (parse_uint(value, 0, 1000000, &lo)) {
			snprintf(why, whylen,
				 "%s must be a number from 0 (no limit) to 1000000, not '%s'", key,
				 value);
			return -EINVAL;
		}
		if (!strcmp(key, "channels"))
			side->channels = (unsigned int)lo;
		else
			side->sip_rate = (unsigned int)lo;
		return 0;
	}
	if (!strcmp(key, "allow"))
		return parse_allow(side, value, why, whylen);
	if (!strcmp(key, "deny")) {
		if (!strcmp(value, "reject"))
			side->deny = XT_DENY_REJECT;
		else if (!strcmp(value, "drop"))
			side->deny = XT_DENY_DROP;
		else {
			snprintf(why, whylen, "deny must be reject or drop, not '%s'", value);
			return -EINVAL;
		}
		return 0;
	}
	snprintf(why, whylen,
		 "unknown key '%s' in a side section (interface, address, address6, advertise, "
		 "ports, sip, peer, latch, channels, allow, deny, sip_rate)",
		 key);
	return -EINVAL;
}

static int relay_key(struct xt_config *config, const char *key, const char *value, char *why,
		     size_t whylen)
{
	unsigned long n;

	if (!strcmp(key, "xdp")) {
		if (!strcmp(value, "native"))
			config->xdp = XT_XDP_NATIVE;
		else if (!strcmp(value, "skb"))
			config->xdp = XT_XDP_SKB;
		else if (!strcmp(value, "off"))
			config->xdp = XT_XDP_OFF;
		else {
			snprintf(why, whylen, "xdp must be native, skb or off, not '%s'", value);
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "dscp")) {
		if (parse_uint(value, 0, 63, &n)) {
			snprintf(why, whylen, "dscp must be a number from 0 to 63, not '%s'",
				 value);
			return -EINVAL;
		}
		config->dscp = (uint8_t)n;
		return 0;
	}
	if (!strcmp(key, "media_timeout") || !strcmp(key, "hold_timeout")) {
		if (parse_uint(value, 1, 86400, &n)) {
			snprintf(why, whylen, "%s must be seconds from 1 to 86400, not '%s'", key,
				 value);
			return -EINVAL;
		}
		if (!strcmp(key, "media_timeout"))
			config->media_timeout_s = (unsigned int)n;
		else
			config->hold_timeout_s = (unsigned int)n;
		return 0;
	}
	if (!strcmp(key, "slots")) {
		if (parse_uint(value, 1, XT_MAX_SLOTS, &n)) {
			snprintf(why, whylen, "slots must be a number from 1 to %u", XT_MAX_SLOTS);
			return -EINVAL;
		}
		config->slots = (unsigned int)n;
		return 0;
	}
	if (!strcmp(key, "pin_dir")) {
		if (value[0] != '/' || strlen(value) >= sizeof(config->pin_dir)) {
			snprintf(why, whylen, "pin_dir must be an absolute path");
			return -EINVAL;
		}
		snprintf(config->pin_dir, sizeof(config->pin_dir), "%s", value);
		return 0;
	}
	if (!strcmp(key, "metrics")) {
		char perr[128];

		if (!strcmp(value, "off")) {
			memset(&config->metrics, 0, sizeof(config->metrics));
			return 0;
		}
		if (xt_endpoint_parse(value, &config->metrics, perr, sizeof(perr)) ||
		    !config->metrics.port) {
			snprintf(why, whylen, "metrics must be IP:PORT, [IPv6]:PORT or off");
			return -EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "control")) {
		if (!strcmp(value, "off")) {
			config->control[0] = '\0';
			return 0;
		}
		if (value[0] != '/' || strlen(value) >= sizeof(config->control)) {
			snprintf(why, whylen,
				 "control must be an absolute path (at most %zu bytes) or off",
				 sizeof(config->control) - 1);
			return -EINVAL;
		}
		snprintf(config->control, sizeof(config->control), "%s", value);
		return 0;
	}
	snprintf(why, whylen,
		 "unknown key '%s' in [relay] (xdp, dscp, media_timeout, hold_timeout, slots, "
		 "pin_dir, metrics, control)",
		 key);
	return -EINVAL;
}

/* Checks across keys, once the file is read. */
static int validate(const struct xt_config *config, char *why, size_t whylen)
{
	const struct xt_side_config *a = &config->side[0], *b = &config->side[1];

	for (int i = 0; i < XT_SIDES; i++) {
		const struct xt_side_config *s = &config->side[i];

		if (!s->address.family) {
			snprintf(why, whylen, "[side %s] needs an address", s->name);
			return -EINVAL;
		}
	}
	if (a->port_min <= b->port_max && b->port_min <= a->port_max &&
	    xt_endpoint_addr_equal(&a->address, &b->address)) {
		snprintf(why, whylen, "the two sides share an address and overlapping ports");
		return -EINVAL;
	}
	return 0;
}

int xt_config_load(struct xt_config *config, const char *path, char *err, size_t errlen)
{
	char line[LINE_MAX_LEN], why[256];
	struct xt_side_config *side = NULL;
	bool in_relay = false, seen[XT_SIDES] = { false, false };
	unsigned int lineno = 0;
	FILE *f;
	int rc = 0;

	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		char *text, *eq, *key, *value;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(why, sizeof(why), "line longer than %d characters",
				 LINE_MAX_LEN - 2);
			rc = -EINVAL;
			break;
		}
		text = trim(line);
		if (!*text || *text == '#' || *text == ';')
			continue;
		if (*text == '[') {
			char *close = strchr(text, ']'), *name;

			if (!close || close[1]) {
				snprintf(why, sizeof(why),
					 "section header must be [relay] or [side NAME]");
				rc = -EINVAL;
				break;
			}
			*close = '\0';
			name = trim(text + 1);
			in_relay = false;
			side = NULL;
			if (!strcmp(name, "relay")) {
				in_relay = true;
			} else if (!strncmp(name, "side", 4) && isspace((unsigned char)name[4])) {
				name = trim(name + 4);
				for (int i = 0; i < XT_SIDES; i++)
					if (!strcmp(name, config->side[i].name)) {
						side = &config->side[i];
						seen[i] = true;
					}
				if (!side) {
					snprintf(why, sizeof(why),
						 "unknown side '%s' (the sides are pbx and trunk)",
						 name);
					rc = -EINVAL;
					break;
				}
			} else {
				snprintf(why, sizeof(why),
					 "unknown section [%s] (expected [relay] or [side NAME])",
					 name);
				rc = -EINVAL;
				break;
			}
			continue;
		}
		eq = strchr(text, '=');
		if (!eq) {
			snprintf(why, sizeof(why), "expected 'key = value', got '%s'", text);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		key = trim(text);
		value = trim(eq + 1);
		if (in_relay)
			rc = relay_key(config, key, value, why, sizeof(why));
		else if (side)
			rc = side_key(side, key, value, why, sizeof(why));
		else {
			snprintf(why, sizeof(why), "'%s' outside of a section", key);
			rc = -EINVAL;
		}
		if (rc)
			break;
	}
	fclose(f);
	if (rc) {
		snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
		return rc;
	}
	(void)seen;
	if (validate(config, why, sizeof(why))) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -EINVAL;
	}
	return 0;
}
