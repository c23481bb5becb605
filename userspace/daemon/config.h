/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * xtrunkd's configuration: an INI file of a [relay] section and one
 * [side NAME] section per side of the relay (the PBX and the trunk).
 * Every value has a default that works in the demo lab (tools/lab.sh).
 */
#ifndef XTRUNKD_CONFIG_H
#define XTRUNKD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"
#include "control_proto.h" /* XT_CONTROL_SOCKET */

#define XT_SIDE_PBX 0
#define XT_SIDE_TRUNK 1
#define XT_SIDES 2

enum xt_xdp_mode { XT_XDP_NATIVE, XT_XDP_SKB, XT_XDP_OFF };

/*
 * NAT latching (symmetric RTP) of a side's media: the first packet from the
 * address the SDP gave fixes the source port. auto: when the side's SDP
 * address differs from the address its SIP came from (a peer behind NAT).
 */
enum xt_latch_mode { XT_LATCH_AUTO, XT_LATCH_ON, XT_LATCH_OFF };

/* Admission: the networks a side accepts SIP from, and what outsiders get. */
#define XT_ALLOW_MAX 32
#define XT_DEFAULT_SIP_RATE 100

struct xt_cidr {
	struct xt_endpoint net; /* family and address (host bits zero); port unused */
	uint8_t prefix;		/* 0-32 (IPv4) or 0-128 (IPv6) */
};

/* reject: 403 Forbidden; drop: no answer at all. */
enum xt_deny_action { XT_DENY_REJECT, XT_DENY_DROP };

struct xt_side_config {
	char name[16];		      /* "pbx" or "trunk" */
	char interface[16];	      /* IF_NAMESIZE */
	struct xt_endpoint address;   /* relay's media address (IPv4), port unused */
	struct xt_endpoint address6;  /* relay's media address (IPv6), family 0: none */
	struct xt_endpoint advertise; /* put in SDP instead of address (NAT), family 0: none */
	uint16_t port_min, port_max;  /* RTP port range, even..odd */
	struct xt_endpoint sip;	      /* where xtrunkd listens for SIP on this side */
	struct xt_endpoint peer;      /* the PBX / the provider's SIP address */
	enum xt_latch_mode latch;
	unsigned int channels; /* concurrent calls on this side's trunk; 0: no limit */

	/*
	 * Admission: the SIP sources accepted (none listed: any), what the others
	 * get, and the requests a second one source may send outside a dialog
	 * (burst as many; 0: no limit).
	 */
	struct xt_cidr allow[XT_ALLOW_MAX];
	unsigned int allow_count;
	enum xt_deny_action deny;
	unsigned int sip_rate;
};

struct xt_config {
	struct xt_side_config side[XT_SIDES];
	enum xt_xdp_mode xdp;
	uint8_t dscp;
	unsigned int media_timeout_s;
	unsigned int hold_timeout_s;
	unsigned int slots;
	char pin_dir[256];
	struct xt_endpoint metrics; /* Prometheus /metrics listen address; family 0: off */
	char control[108];	    /* control socket (sun_path); "": off */
};

/* The built-in configuration: the demo lab's. */
void xt_config_defaults(struct xt_config *config);

/*
 * Read path over the defaults. Returns 0, or -EINVAL with err set to
 * "FILE:LINE: what is wrong" (-errno with the reason when it cannot be read).
 */
int xt_config_load(struct xt_config *config, const char *path, char *err, size_t errlen);

#endif
