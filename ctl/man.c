// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xtrunkctl help --man: the manual page in troff, written from the command
 * and option tables that parse the command line, so it cannot drift from
 * them; doc/xtrunkctl.8 is its output, and the tests compare the two.
 */
#include <stdio.h>
#include <string.h>

#include "xtrunk_abi.h"
#include "main.h"

/* What -j prints: every field, by command. The tests check each field printed is here. */
struct json_doc {
	const char *commands;
	const char *field;
	const char *meaning;
};

static const struct json_doc json_docs[] = {
	{ "any command", "error", "on failure, the only field: what went wrong" },
	{ "iface list", "ifname, ifindex", "the interface" },
	{ "iface list", "mode", "XDP attach mode: native or skb" },
	{ "iface list", "prog_id", "the XDP program's id" },
	{ "iface list, iface show, iface attach", "xdp_egress",
	  "whether XDP may transmit frames to the interface (in the redirect map): false for a "
	  "veth whose peer has no NAPI (GRO off and no XDP program), whose media then goes to "
	  "the stack (xtrunkd relays it in userspace)" },
	{ "iface list, iface show, stats", "xmit_errors",
	  "frames the kernel failed to transmit after the relay's XDP_TX or redirect (which "
	  "the relay counted as relayed): redirect_drops + tx_drops + redirect_errors" },
	{ "iface list, iface show", "xmit", "{redirect_drops, tx_drops, redirect_errors}" },
	{ "iface list, iface show, stats", "redirect_drops",
	  "frames redirected to the interface that its driver refused" },
	{ "iface list, iface show, stats", "tx_drops",
	  "frames sent back out of the interface (XDP_TX) that it refused" },
	{ "iface list, iface show, stats", "redirect_errors",
	  "redirects to the interface the kernel refused before its driver saw them (it takes "
	  "no XDP frames, is down, MTU); counted on the ingress interface when the target is "
	  "unknown" },
	{ "iface show", "xdp_egress_status",
	  "xdp_egress in words, with the reason when false (\"no: veth peer eth0 has no NAPI "
	  "(GRO off, no XDP program)\"), or a peer that lost NAPI since the last check" },
	{ "iface show", "peer_napi",
	  "for a veth in native mode: whether its peer has NAPI now; otherwise null" },
	{ "iface attach", "ifname, mode, pin_dir",
	  "what was attached, how, and the pin directory" },
	{ "iface attach", "warning",
	  "null, or why XDP may not transmit to the interface and how to fix it" },
	{ "iface detach", "ifname, detached", "the interface and true" },
	{ "flow list, flow show, flow add", "local, to, via",
	  "the flow's LOCAL, PEER and RELAY endpoints" },
	{ "flow list", "from", "the source check (IP:PORT, IP:* for the address only), or null" },
	{ "flow list", "latch", "whether the flow learns its source port from its first packet" },
	{ "flow list", "reverse",
	  "with latch: the LOCAL of the other direction's flow, which then sends to the latched "
	  "port (symmetric RTP), or null" },
	{ "flow list", "dscp", "the DSCP set on relayed packets" },
	{ "flow list", "owner",
	  "xtrunkd (a call's; only xtrunkd removes it, and it stops relaying when xtrunkd's "
	  "lease runs out) or manual (flow add)" },
	{ "flow list", "packets, bytes", "packets relayed and their IP bytes" },
	{ "flow list", "drops", "packets dropped by the source check" },
	{ "flow list", "idle_ms", "milliseconds since the last relayed packet, null if none yet" },
	{ "flow list, call show", "rtp",
	  "null, or the RTP quality: clock_hz, ssrc, expected, received, lost, duplicates, "
	  "reordered, jitter (timestamp units; flow only), jitter_ms, mos (only clock_hz before "
	  "the first RTP packet)" },
	{ "flow list", "nexthop", "{dev, ifindex, lladdr} as cached, or null (FIB lookup)" },
	{ "flow del", "deleted", "the LOCAL endpoint of the deleted flow" },
	{ "stats", "rx, tx, redirect, drop_*, pass_*, latched, relatched, csum_completed",
	  "global counters: packets seen, relayed (XDP_TX, redirect), dropped by reason (the "
	  "source check; a first fragment, IPv4 options or IPv6 extension headers before a "
	  "flow's UDP header), passed to the stack by reason (pass_lease_expired: a flow of an "
	  "xtrunkd that stopped renewing its lease), flows latched, flows re-latched after 2 s "
	  "without media (NAT rebinding), partial UDP checksums completed" },
	{ "stats", "interfaces",
	  "per attached interface: {ifname, xmit_errors, redirect_drops, tx_drops, "
	  "redirect_errors}" },
	{ "call list, call show", "id", "the call's id, as call show and terminate take it" },
	{ "call list, call show", "state", "inviting, early (18x), confirmed or ending" },
	{ "call list, call show", "from, to", "the side that placed the call and the other one" },
	{ "call list, call show", "started", "when the INVITE came, UTC (ISO 8601)" },
	{ "call list, call show", "duration_s", "seconds since the INVITE" },
	{ "call list, call show", "answered_s", "seconds since the answer, null if not answered" },
	{ "call list", "streams", "media streams (m= lines) with relay ports" },
	{ "call list, call show", "flows", "flows installed for the call (4 per stream)" },
	{ "call list, call show", "packets, bytes, drops",
	  "media relayed and dropped over the call's flows, XDP and userspace together" },
	{ "call list, call show", "mos", "the worst MOS of the call's RTP flows, null if none" },
	{ "call show", "legs",
	  "per side: side, role (caller or callee), peer (its SIP address), call_id, local_tag, "
	  "remote_tag (the leg's own dialog)" },
	{ "call show", "streams",
	  "per stream: index, clock_hz, installed, sides (per side: side, relay_rtp, relay_rtcp, "
	  "peer_rtp, peer_rtcp), flows" },
	{ "call show", "streams[].flows",
	  "per direction: kind (rtp or rtcp), from_side, local, to, via, xdp (installed in "
	  "XDP), packets, bytes, drops (XDP's, as flow list shows them), userspace_packets, "
	  "userspace_bytes, userspace_drops, rtp" },
	{ "call terminate", "terminated", "the id of the call hung up" },
	{ "trunk list, trunk show", "side, interface",
	  "the endpoint's name ([pbx NAME] or [trunk NAME] in xtrunkd.conf) and its interface" },
	{ "trunk list, trunk show", "kind", "pbx or trunk" },
	{ "trunk list, trunk show", "sip, peer", "where the endpoint's SIP is and its peer's" },
	{ "trunk list, trunk show", "channels", "calls in progress through the endpoint" },
	{ "trunk list, trunk show", "limit", "the endpoint's channel limit, null for none" },
	{ "trunk show", "sip_requests", "SIP requests received by method" },
	{ "trunk show", "sip_responses", "SIP responses received by class (1xx to 6xx)" },
	{ "port list", "side, interface", "the endpoint's name and its interface" },
	{ "port list", "addresses", "the relay's media addresses toward the endpoint" },
	{ "port list", "min, max", "the endpoint's relay port range" },
	{ "port list", "total, used, free", "relay ports (an RTP and an RTCP port per stream)" },
	{ 0 }
};

/* Text for troff: backslashes and dashes escaped, the help's line breaks joined. */
static void roff(const char *text)
{
	bool line_start = true;

	for (const char *p = text; *p; p++) {
		if (*p == '\n') {
			while (p[1] == ' ')
				p++;
			putchar(' ');
			continue;
		}
		if (line_start && (*p == '.' || *p == '\''))
			fputs("\\&", stdout);
		line_start = false;
		if (*p == '\\')
			fputs("\\e", stdout);
		else if (*p == '-')
			fputs("\\-", stdout);
		else
			putchar(*p);
	}
}

static void command_item(const char *object, const struct cmd *c)
{
	printf(".TP\n\\fBxtrunkctl %s%s%s\\fR", object ? object : "", object ? " " : "", c->name);
	if (c->args) {
		printf(" \\fI");
		roff(c->args);
		printf("\\fR");
	}
	printf("\n");
	roff(c->help);
	printf("\n");
}

int print_man_page(void)
{
	printf(".\\\" Generated by xtrunkctl help --man from its command tables: do not edit.\n"
	       ".TH XTRUNKCTL 8 \"\" \"xtrunk\" \"System Administration\"\n"
	       ".SH NAME\n"
	       "xtrunkctl \\- inspect and manage the xtrunk XDP media relay\n"
	       ".SH SYNOPSIS\n"
	       ".B xtrunkctl\n"
	       "[\\fIOPTIONS\\fR] \\fIOBJECT\\fR { \\fICOMMAND\\fR | \\fBhelp\\fR }\n"
	       ".SH DESCRIPTION\n"
	       "xtrunkctl speaks bpftool's grammar: an object, a command, its arguments. "
	       "Objects and commands may be abbreviated to any unique prefix "
	       "(\\fBxtrunkctl fl li\\fR is \\fBxtrunkctl flow list\\fR), and "
	       "\\fBxtrunkctl\\fR \\fIOBJECT\\fR \\fBhelp\\fR lists an object's commands.\n"
	       ".PP\n"
	       "\\fBiface\\fR, \\fBflow\\fR and \\fBstats\\fR work on the maps pinned under "
	       "\\fI");
	roff(XT_PIN_DIR);
	printf("\\fR alone, whether xtrunkd runs or not. \\fBcall\\fR, \\fBtrunk\\fR and "
	       "\\fBport\\fR ask xtrunkd over its control socket, and fail with an error when "
	       "it does not answer.\n"
	       ".SH OPTIONS\n");
	for (const struct option_doc *d = option_docs; d->flags; d++) {
		printf(".TP\n.B ");
		roff(d->flags);
		if (d->arg) {
			printf(" \\fI");
			roff(d->arg);
			printf("\\fR");
		}
		printf("\n");
		roff(d->help);
		printf("\n");
	}
	printf(".SH COMMANDS\n");
	for (const struct object_table *t = object_tables; t->name; t++) {
		const struct cmd *o;

		for (o = objects; o->name && strcmp(o->name, t->name); o++)
			;
		printf(".SS %s\n", t->name);
		if (o->name) {
			roff(o->help);
			printf(".\n");
		}
		for (const struct cmd *c = t->cmds; c->name; c++)
			command_item(t->name, c);
	}
	printf(".SS other\n");
	for (const struct cmd *o = objects; o->name; o++) {
		bool is_object = false;

		for (const struct object_table *t = object_tables; t->name; t++)
			is_object |= !strcmp(t->name, o->name);
		if (!is_object)
			command_item(NULL, o);
	}
	printf(".SH JSON OUTPUT\n"
	       "With \\fB\\-j\\fR (or \\fB\\-p\\fR, indented) every command prints one JSON "
	       "value on stdout: an object, or an array of objects for the list commands "
	       "and \\fBbatch\\fR (one element per command). The fields:\n");
	for (const struct json_doc *d = json_docs; d->commands; d++) {
		printf(".TP\n.B ");
		roff(d->field);
		printf("\n(");
		roff(d->commands);
		printf(") ");
		roff(d->meaning);
		printf("\n");
	}
	printf(".SH ENVIRONMENT\n"
	       ".TP\n.B XTRUNK_SOCKET\n"
	       "xtrunkd's control socket, when \\fB\\-\\-socket\\fR is not given.\n"
	       ".SH FILES\n"
	       ".TP\n.I ");
	roff(XT_CONTROL_SOCKET);
	printf("\nxtrunkd's control socket (\\fBcontrol\\fR in xtrunkd.conf's [relay]): one JSON "
	       "request a line, {\"command\": \"call show\", \"id\": \"c1\"}, one reply a line, "
	       "{\"result\": ...} or {\"error\": \"...\"}.\n"
	       ".TP\n.I ");
	roff(XT_PIN_DIR);
	printf("\nthe relay's pinned maps.\n"
	       ".SH EXIT STATUS\n"
	       "0 on success, 1 on error (the error on stderr, or as {\"error\": ...} on stdout "
	       "with \\fB\\-j\\fR).\n"
	       ".SH SEE ALSO\n"
	       ".BR xtrunkd (8),\n"
	       ".BR bpftool (8)\n");
	return 0;
}
