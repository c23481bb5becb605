/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xtrunkd's configuration: an INI file of a [relay] section and one section
 * per endpoint, [pbx NAME] for an IP-PBX and [trunk NAME] for a SIP trunk
 * provider, any number of each. Every key is described once, in config.c's
 * key table: it parses and checks the key, and writes etc/xtrunkd.conf.
 * Every relay key has a default; the built-in endpoints "pbx" and "trunk" are
 * the demo lab's (tools/lab.sh).
 */
#ifndef XTRUNKD_CONFIG_H
#define XTRUNKD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "endpoint.h"
#include "control_proto.h" /* XT_CONTROL_SOCKET */

/* Endpoints one xtrunkd serves; a constant only to keep per-endpoint counters in arrays. */
#define XT_ENDPOINTS_MAX 32
#define XT_ENDPOINT_NAME_MAX 32 /* with the NUL: letters, digits, '-', '_', '.' */

/* The two kinds of endpoint; until routes exist a call goes from one kind to the other. */
enum xt_endpoint_kind { XT_KIND_PBX, XT_KIND_TRUNK, XT_KINDS };

extern const char *const xt_endpoint_kind_names[XT_KINDS]; /* "pbx", "trunk" */

enum xt_xdp_mode { XT_XDP_NATIVE, XT_XDP_SKB, XT_XDP_OFF };

/*
 * NAT latching (symmetric RTP) of an endpoint's media: the first packet from the
 * address the SDP gave fixes the source port. auto: when the endpoint's SDP
 * address differs from the address its SIP came from (a peer behind NAT).
 */
enum xt_latch_mode { XT_LATCH_AUTO, XT_LATCH_ON, XT_LATCH_OFF };

/* Admission: the networks an endpoint accepts SIP from, and what outsiders get. */
#define XT_ALLOW_MAX 32
#define XT_DEFAULT_SIP_RATE 100
#define XT_DEFAULT_SIP_RATE_GLOBAL 500
#define XT_DEFAULT_SIP_RATE_PEER 5000

struct xt_cidr {
	struct xt_endpoint net; /* family and address (host bits zero); port unused */
	uint8_t prefix;		/* 0-32 (IPv4) or 0-128 (IPv6) */
};

struct xt_cidr_list {
	struct xt_cidr net[XT_ALLOW_MAX];
	unsigned int count;
};

/* addr (of family) is inside one of the list's networks. */
bool xt_cidr_list_contains(const struct xt_cidr_list *list, uint8_t family, const uint8_t *addr);

/* reject: 403 Forbidden; drop: no answer at all. */
enum xt_deny_action { XT_DENY_REJECT, XT_DENY_DROP };

/* One PBX or trunk: where it is, the relay's addresses and ports toward it, its limits. */
struct xt_endpoint_config {
	char name[XT_ENDPOINT_NAME_MAX]; /* the section's NAME: logs, metrics, xtrunkctl */
	enum xt_endpoint_kind kind;
	char interface[16];	      /* IF_NAMESIZE */
	struct xt_endpoint address;   /* relay's media address (IPv4), port unused */
	struct xt_endpoint address6;  /* relay's media address (IPv6), family 0: none */
	struct xt_endpoint advertise; /* put in SDP instead of address (NAT), family 0: none */
	uint16_t port_min, port_max;  /* RTP port range, even..odd */
	struct xt_endpoint sip;	      /* where xtrunkd listens for SIP from this endpoint */
	struct xt_endpoint peer;      /* the PBX / the provider's SIP address */
	enum xt_latch_mode latch;
	unsigned int channels; /* concurrent calls through this endpoint; 0: no limit */
	/* calls from this endpoint not answered yet: in all, from one source but the peer */
	unsigned int setup_calls, setup_calls_per_source;
	unsigned int streams; /* media streams (m= with a port) one call relays */

	/*
	 * Admission: the SIP sources accepted (none listed: any), what the others
	 * get, and the requests a second sent outside a dialog (burst as many; 0:
	 * no limit): by one source other than the peer, by all of them together,
	 * by the peer.
	 */
	struct xt_cidr_list allow;
	/* media (SDP addresses) is never sent into these networks */
	struct xt_cidr_list media_deny;
	enum xt_deny_action deny;
	unsigned int sip_rate;
	unsigned int sip_rate_global;
	unsigned int sip_rate_peer;
};

struct xt_config {
	struct xt_endpoint_config endpoint[XT_ENDPOINTS_MAX];
	unsigned int endpoints;
	enum xt_xdp_mode xdp;
	uint8_t dscp;
	unsigned int media_timeout_s;
	unsigned int hold_timeout_s;
	unsigned int ring_timeout_s; /* timer C: longest ringing before CANCEL and 408 */
	unsigned int flow_lease_s;   /* XDP relays our flows this long past the last renewal */
	unsigned int slots;
	char pin_dir[256];
	struct xt_endpoint metrics; /* Prometheus /metrics listen address; family 0: off */
	char control[108];	    /* control socket (sun_path); "": off */
};

/* The built-in configuration: the demo lab's. */
void xt_config_defaults(struct xt_config *config);

/* addr (of family) is inside net. */
bool xt_cidr_contains(const struct xt_cidr *net, uint8_t family, const uint8_t *addr);
/* addr is the endpoint's peer's address (any port). */
bool xt_endpoint_is_peer(const struct xt_endpoint_config *ec, uint8_t family, const uint8_t *addr);
/* The endpoint accepts SIP from addr: its peer's address, or inside one of its allow networks. */
bool xt_endpoint_allows(const struct xt_endpoint_config *ec, uint8_t family, const uint8_t *addr);

/* The endpoint named name, or -1. */
int xt_config_endpoint_find(const struct xt_config *config, const char *name);
/* The endpoint whose relay address and port range local (a relay port) is in, or -1. */
int xt_config_endpoint_of(const struct xt_config *config, const struct xt_endpoint *local);
/*
 * Where a call from endpoint `from` goes: the first endpoint of the other
 * kind (a PBX's calls go to the first trunk, a trunk's to the first PBX).
 */
int xt_config_route(const struct xt_config *config, int from);

/* etc/xtrunkd.conf: every key with its help and the built-in value, from the key table. */
void xt_config_write_template(FILE *out);
/* doc/xtrunkd.conf.5, the manual page, from the same table. */
void xt_config_write_man(FILE *out);

/*
 * Read path over the defaults. Returns 0, or -EINVAL with err set to
 * "FILE:LINE: what is wrong" (-errno with the reason when it cannot be read).
 */
int xt_config_load(struct xt_config *config, const char *path, char *err, size_t errlen);

#endif
