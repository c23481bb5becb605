// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * udp_peer: the media endpoints of the end-to-end tests.
 *
 *   udp_peer send BIND_EP TO_EP COUNT [INTERVAL_US]
 *       sends COUNT G.711-sized RTP packets (172-byte UDP payload: RTP header,
 *       sequence i, timestamp 160*i, then a pattern derived from i)
 *   udp_peer recv BIND_EP COUNT TIMEOUT_MS
 *       receives until COUNT packets or TIMEOUT_MS of silence; prints one line
 *       per packet: "from EP tos 0xNN len N payload ok|bad", then "received N"
 *   udp_peer talk BIND_EP TO_EP COUNT INTERVAL_US TIMEOUT_MS
 *       both at once on one socket, as a phone does: sends COUNT packets
 *       every INTERVAL_US and prints what it receives, as recv does
 *
 * Endpoints are IP:PORT or [IPv6]:PORT. The TOS/traffic class is read with
 * IP_RECVTOS / IPV6_RECVTCLASS, so the test sees the DSCP the packet carried.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "endpoint.h"
#include "udp_socket.h"
#include "xtrunk_abi.h"

#define RTP_PAYLOAD 172
#define RTP_HEADER 12
#define RTP_SSRC 0x78747275u /* "xtru" */

static int open_bound(const char *text, int *family)
{
	struct sockaddr_storage ss;
	struct xt_endpoint ep;
	char err[256];
	int fd, one = 1;
	socklen_t len;

	if (xt_endpoint_parse(text, &ep, err, sizeof(err))) {
		fprintf(stderr, "udp_peer: %s\n", err);
		return -1;
	}
	*family = ep.family == XT_AF_INET6 ? AF_INET6 : AF_INET;
	fd = socket(*family, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("udp_peer: socket");
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	len = xt_sockaddr_from_endpoint(&ep, &ss);
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		fprintf(stderr, "udp_peer: bind %s: %s\n", text, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void fill_rtp(uint8_t *buf, uint32_t seq)
{
	uint32_t ts = htonl(seq * 160), ssrc = htonl(RTP_SSRC);
	uint16_t seq16 = htons((uint16_t)seq);

	buf[0] = 0x80; /* V=2 */
	buf[1] = 0;    /* PT 0, PCMU */
	memcpy(buf + 2, &seq16, 2);
	memcpy(buf + 4, &ts, 4);
	memcpy(buf + 8, &ssrc, 4);
	for (int i = RTP_HEADER; i < RTP_PAYLOAD; i++)
		buf[i] = (uint8_t)(seq * 7 + i);
}

static int payload_ok(const uint8_t *buf, ssize_t len)
{
	uint8_t expect[RTP_PAYLOAD];
	uint16_t seq16;

	if (len != RTP_PAYLOAD)
		return 0;
	memcpy(&seq16, buf + 2, 2);
	fill_rtp(expect, ntohs(seq16));
	return !memcmp(buf, expect, RTP_PAYLOAD);
}

static int do_send(int argc, char **argv)
{
	struct sockaddr_storage to;
	struct xt_endpoint to_ep;
	uint8_t buf[RTP_PAYLOAD];
	long count, interval_us;
	char err[256];
	int fd, family;
	socklen_t len;

	if (argc < 3)
		return 2;
	count = strtol(argv[2], NULL, 10);
	interval_us = argc > 3 ? strtol(argv[3], NULL, 10) : 1000;
	if (xt_endpoint_parse(argv[1], &to_ep, err, sizeof(err))) {
		fprintf(stderr, "udp_peer: %s\n", err);
		return 2;
	}
	fd = open_bound(argv[0], &family);
	if (fd < 0)
		return 1;
	len = xt_sockaddr_from_endpoint(&to_ep, &to);
	for (long i = 0; i < count; i++) {
		fill_rtp(buf, (uint32_t)i);
		if (sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&to, len) < 0) {
			fprintf(stderr, "udp_peer: send: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
		if (interval_us)
			usleep((useconds_t)interval_us);
	}
	close(fd);
	printf("sent %ld\n", count);
	return 0;
}

static int read_tos(struct msghdr *msg)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS)
			return *(uint8_t *)CMSG_DATA(c);
		if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
			int tclass;

			memcpy(&tclass, CMSG_DATA(c), sizeof(tclass));
			return tclass;
		}
	}
	return -1;
}

static void enable_tos(int fd, int family)
{
	int one = 1;

	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, &one, sizeof(one));
	else
		setsockopt(fd, IPPROTO_IP, IP_RECVTOS, &one, sizeof(one));
}

/* Read one datagram and print what the test checks. Returns 1, or 0 on error. */
static int receive_one(int fd)
{
	char cbuf[256], from_text[XT_ENDPOINT_STRLEN];
	struct sockaddr_storage from;
	struct xt_endpoint from_ep;
	uint8_t buf[2048];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr msg = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	ssize_t n = recvmsg(fd, &msg, 0);

	if (n < 0)
		return 0;
	xt_endpoint_from_sockaddr(&from, &from_ep);
	xt_endpoint_format(&from_ep, from_text, sizeof(from_text));
	printf("from %s tos 0x%02x len %zd payload %s\n", from_text, read_tos(&msg) & 0xff, n,
	       payload_ok(buf, n) ? "ok" : "bad");
	return 1;
}

static int do_recv(int argc, char **argv)
{
	long count, timeout_ms, received = 0;
	int fd, family;

	if (argc < 3)
		return 2;
	count = strtol(argv[1], NULL, 10);
	timeout_ms = strtol(argv[2], NULL, 10);
	fd = open_bound(argv[0], &family);
	if (fd < 0)
		return 1;
	enable_tos(fd, family);
	/* Tell the test we are listening. */
	printf("listening\n");
	fflush(stdout);

	while (received < count) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, (int)timeout_ms) <= 0)
			break;
		received += receive_one(fd);
	}
	close(fd);
	printf("received %ld\n", received);
	return 0;
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * A media endpoint: one socket that sends COUNT paced packets to TO and
 * receives whatever comes back, as an RTP phone does.
 */
static int do_talk(int argc, char **argv)
{
	long count, interval_us, timeout_ms, sent = 0, received = 0;
	struct sockaddr_storage to;
	struct xt_endpoint to_ep;
	uint8_t buf[RTP_PAYLOAD];
	int64_t next_send, last_activity;
	char err[256];
	int fd, family;
	socklen_t len;

	if (argc < 5)
		return 2;
	count = strtol(argv[2], NULL, 10);
	interval_us = strtol(argv[3], NULL, 10);
	timeout_ms = strtol(argv[4], NULL, 10);
	if (xt_endpoint_parse(argv[1], &to_ep, err, sizeof(err))) {
		fprintf(stderr, "udp_peer: %s\n", err);
		return 2;
	}
	fd = open_bound(argv[0], &family);
	if (fd < 0)
		return 1;
	enable_tos(fd, family);
	len = xt_sockaddr_from_endpoint(&to_ep, &to);
	next_send = last_activity = now_us();
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t now = now_us(), wait_ms;

		if (sent < count && now >= next_send) {
			fill_rtp(buf, (uint32_t)sent);
			if (sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&to, len) < 0)
				fprintf(stderr, "udp_peer: send: %s\n", strerror(errno));
			sent++;
			next_send += interval_us;
			last_activity = now;
			continue;
		}
		if (sent == count && (received >= count || now - last_activity > timeout_ms * 1000))
			break;
		wait_ms = sent < count ? (next_send - now) / 1000 : timeout_ms;
		if (poll(&pfd, 1, (int)(wait_ms > 0 ? wait_ms : 0)) > 0) {
			received += receive_one(fd);
			last_activity = now_us();
		}
	}
	close(fd);
	printf("sent %ld\nreceived %ld\n", sent, received);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 2;

	if (argc >= 2 && !strcmp(argv[1], "send"))
		rc = do_send(argc - 2, argv + 2);
	else if (argc >= 2 && !strcmp(argv[1], "recv"))
		rc = do_recv(argc - 2, argv + 2);
	else if (argc >= 2 && !strcmp(argv[1], "talk"))
		rc = do_talk(argc - 2, argv + 2);
	if (rc == 2)
		fprintf(stderr, "usage: udp_peer send BIND TO COUNT [INTERVAL_US]\n"
				"       udp_peer recv BIND COUNT TIMEOUT_MS\n"
				"       udp_peer talk BIND TO COUNT INTERVAL_US TIMEOUT_MS\n");
	return rc;
}
