// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Fuzz target: the SIP entry points. Each input starts the real B2BUA
 * (sofia-sip nta, both sides on loopback), plays a PBX and a trunk on two
 * UDP sockets of its own, delivers each part of the input as one datagram
 * to the relay's SIP socket and runs the event loop until it is idle; then
 * it stops the B2BUA, which hangs up whatever is left.
 *
 * Input: messages separated by "=====" lines. A part that starts with a line
 * "T" comes from the trunk, else from the PBX (a line "P" is dropped). To
 * get past dialog matching, a part may name a header of the last message
 * its side received from the relay: $via, $from, $to, $callid, $cseq are
 * replaced by that header's line ($to gains a tag when it has none), so
 * "SIP/2.0 200 OK\r\n$via\r\n$from\r\n$to\r\n$callid\r\n$cseq\r\n..." answers
 * the relay's INVITE; $swapfrom and $swapto are its To and From swapped, for
 * a request back along the dialog the relay opened. $me is the sender's own
 * address (for Via and Contact).
 *
 * After every input, while the B2BUA still runs: its timers are made to see
 * two hours pass, a step at a time (the once-a-second tick, given a later
 * clock), the peers answering nothing more; by then every call must have
 * ended by its timers alone (ringing, no ACK, CANCEL unanswered, silence,
 * hold), holding no relay port and no flow. Then the B2BUA stops, and again
 * nothing may be left.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "xtrunk_abi.h"
#include "clock.h"
#include "fuzz_common.h"
#include "log.h"
#include "media_session.h"
#include "sip_b2bua.h"
#include "udp_socket.h"

#define MAX_DATAGRAM 65507
#define PAIRS 8

/* The built-in endpoints the fuzzer talks to: config.endpoint[0] and [1]. */
enum { PBX, TRUNK, SIDES };

static struct {
	su_root_t *root;
	struct xt_config config;
	struct xt_dataplane dp;
	struct xt_media_env env;
	int peer_fd[SIDES];			  /* the PBX and the trunk */
	struct sockaddr_storage relay_sip[SIDES]; /* where the relay listens on each side */
	char last[SIDES][MAX_DATAGRAM + 1];	  /* last message each side received */
	size_t last_len[SIDES];
} fz;

static int bind_loopback(uint16_t port, struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin->sin_port = htons(port);
	if (fd < 0 || bind(fd, (struct sockaddr *)sin, sizeof(*sin)) ||
	    getsockname(fd, (struct sockaddr *)sin, &len)) {
		perror("fuzz_sip: loopback socket");
		exit(1);
	}
	return fd;
}

/* A free UDP port on loopback for the relay's SIP agent of a side. */
static uint16_t free_port(void)
{
	struct sockaddr_in sin;
	int fd = bind_loopback(0, &sin);

	close(fd);
	return ntohs(sin.sin_port);
}

static void setup(void)
{
	const char *base = getenv("XT_FUZZ_PORT_BASE");
	unsigned int port = (base ? (unsigned int)atoi(base) : 42000) + 400;
	char err[128], text[64];

	if (getenv("XT_FUZZ_VERBOSE"))
		xt_log_set_level(XT_LOG_INFO);
	su_init();
	fz.root = su_root_create(NULL);
	xt_config_defaults(&fz.config);
	fz.config.xdp = XT_XDP_OFF;
	for (int side = 0; side < SIDES; side++) {
		struct xt_endpoint_config *sc = &fz.config.endpoint[side];
		struct sockaddr_in peer;

		fz.peer_fd[side] = bind_loopback(0, &peer);
		snprintf(text, sizeof(text), "127.0.0.1:%u", ntohs(peer.sin_port));
		xt_endpoint_parse(text, &sc->peer, err, sizeof(err));
		snprintf(text, sizeof(text), "127.0.0.1:%u", free_port());
		xt_endpoint_parse(text, &sc->sip, err, sizeof(err));
		xt_sockaddr_from_endpoint(&sc->sip, &fz.relay_sip[side]);
		xt_endpoint_parse(side ? "127.0.0.2:0" : "127.0.0.1:0", &sc->address, err,
				  sizeof(err));
		xt_endpoint_parse("[::1]:0", &sc->address6, err, sizeof(err));
		sc->port_min = (uint16_t)(port + side * 100);
		sc->port_max = (uint16_t)(sc->port_min + 2 * PAIRS - 1);
		/* one source sends everything, fast */
		sc->sip_rate = sc->sip_rate_global = sc->sip_rate_peer = 0;
		sc->setup_calls = sc->setup_calls_per_source = 0;
		sc->streams = XT_MAX_STREAMS; /* every stream the SDP code takes */
		xt_port_pool_init(&fz.env.pools[side], sc->name, sc->port_min, sc->port_max);
	}
	xt_dataplane_open(&fz.dp, &fz.config, fz.root, false);
	fz.env.config = &fz.config;
	fz.env.dp = &fz.dp;
}

/* Keep what the relay sent each side; the last message is the one templates use. */
static bool drain(void)
{
	bool any = false;

	for (int side = 0; side < SIDES; side++) {
		ssize_t n;

		while ((n = recv(fz.peer_fd[side], fz.last[side], MAX_DATAGRAM, 0)) >= 0) {
			fz.last[side][n] = '\0';
			fz.last_len[side] = (size_t)n;
			any = true;
		}
	}
	return any;
}

/* Run the event loop until nothing more happens at once. */
static void settle(void)
{
	for (int quiet = 0, i = 0; quiet < 2 && i < 64; i++) {
		su_root_step(fz.root, 0);
		quiet = drain() ? 0 : quiet + 1;
	}
}

/*
 * The line of header name in side's last message ("" when none), into out,
 * renamed to rename when given (a request back along the dialog swaps From and To).
 */
static size_t header_line(int side, const char *name, const char *rename, char *out, size_t outlen)
{
	const char *msg = fz.last[side], *p = msg, *end;
	size_t namelen = strlen(name), len;

	out[0] = '\0';
	while ((p = strcasestr(p, name)) && p != msg && p[-1] != '\n')
		p += namelen;
	if (!p || !fz.last_len[side])
		return 0;
	end = strstr(p, "\r\n");
	len = end ? (size_t)(end - p) : strlen(p);
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, p, len);
	out[len] = '\0';
	/* answering a request: our side's tag */
	if (!strcmp(name, "To:") && strncmp(msg, "SIP/2.0 ", 8) && !strstr(out, ";tag=") &&
	    len + 10 < outlen)
		strcat(out, ";tag=fz-b");
	if (rename) {
		char value[1024];

		snprintf(value, sizeof(value), "%s", out + namelen);
		snprintf(out, outlen, "%s%s", rename, value);
	}
	return strlen(out);
}

/* Expand the $header names of a part into buf. */
static size_t expand(int side, const uint8_t *data, size_t len, char *buf, size_t buflen)
{
	static const struct {
		const char *var, *header, *rename;
	} vars[] = { { "$via", "Via:", NULL },	   { "$from", "From:", NULL },
		     { "$to", "To:", NULL },	   { "$callid", "Call-ID:", NULL },
		     { "$cseq", "CSeq:", NULL },   { "$swapfrom", "To:", "From:" },
		     { "$swapto", "From:", "To:" } };
	size_t out = 0;
	char me[XT_ENDPOINT_STRLEN];

	xt_endpoint_format(&fz.config.endpoint[side].peer, me, sizeof(me));
	for (size_t i = 0; i < len && out < buflen;) {
		bool done = false;

		if (len - i >= 3 && !memcmp(data + i, "$me", 3) && strlen(me) <= buflen - out) {
			memcpy(buf + out, me, strlen(me));
			out += strlen(me);
			i += 3;
			continue;
		}
		for (size_t v = 0; data[i] == '$' && v < sizeof(vars) / sizeof(vars[0]); v++) {
			size_t vlen = strlen(vars[v].var);
			char line[1024];
			size_t n;

			if (len - i < vlen || memcmp(data + i, vars[v].var, vlen))
				continue;
			n = header_line(side, vars[v].header, vars[v].rename, line, sizeof(line));
			if (n > buflen - out)
				n = buflen - out;
			memcpy(buf + out, line, n);
			out += n;
			i += vlen;
			done = true;
			break;
		}
		if (!done)
			buf[out++] = (char)data[i++];
	}
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char datagram[MAX_DATAGRAM];
	struct fuzz_part parts[FUZZ_MAX_PARTS];
	unsigned int nparts;
	struct xt_b2bua *b2b;
	char err[256];

	if (!fz.root)
		setup();
	b2b = xt_b2bua_create(fz.root, &fz.config, &fz.env, err, sizeof(err));
	fuzz_assert(b2b, "cannot start the B2BUA: %s", err);
	memset(fz.last_len, 0, sizeof(fz.last_len));
	memset(fz.last, 0, sizeof(fz.last));

	nparts = fuzz_split(data, size, parts);
	for (unsigned int i = 0; i < nparts; i++) {
		const uint8_t *msg = parts[i].data;
		size_t len = parts[i].len, n;
		int side = PBX;

		if (len >= 2 && (msg[0] == 'T' || msg[0] == 'P') && msg[1] == '\n') {
			side = msg[0] == 'T' ? TRUNK : PBX;
			msg += 2;
			len -= 2;
		}
		n = expand(side, msg, len, datagram, sizeof(datagram));
		sendto(fz.peer_fd[side], datagram, n, 0, (struct sockaddr *)&fz.relay_sip[side],
		       sizeof(struct sockaddr_in));
		settle();
	}

	/* time passes: past 64*T1, ring_timeout, media_timeout, hold_timeout */
	{
		static const unsigned int seconds[] = { 1, 5, 33, 66, 100, 190, 230, 3700, 3800 };
		uint64_t start = xt_monotonic_ns();
		struct xt_b2bua_stats stats;

		for (size_t i = 0; i < sizeof(seconds) / sizeof(seconds[0]); i++) {
			xt_b2bua_tick(b2b, start + seconds[i] * 1000000000ull);
			settle();
		}
		xt_b2bua_get_stats(b2b, &stats);
		fuzz_assert(stats.calls_active == 0, "%u calls still up after two hours of timers",
			    stats.calls_active);
		for (int side = 0; side < SIDES; side++)
			fuzz_assert(fz.env.pools[side].in_use == 0,
				    "side %d: %u port pairs held after two hours of timers", side,
				    fz.env.pools[side].in_use);
		fuzz_assert(fz.dp.flows == 0, "%u flows left after two hours of timers",
			    fz.dp.flows);
	}

	xt_b2bua_destroy(b2b);
	settle();
	for (int side = 0; side < SIDES; side++)
		fuzz_assert(fz.env.pools[side].in_use == 0, "side %d: %u port pairs leaked", side,
			    fz.env.pools[side].in_use);
	fuzz_assert(fz.dp.flows == 0, "%u flows leaked", fz.dp.flows);
	return 0;
}
