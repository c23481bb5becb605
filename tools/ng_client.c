// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ng_client: one request over the NG control protocol (rtpengine's: a
 * cookie, a space and a bencoded dictionary, over UDP), for benchmarks that
 * drive rtpengine as a baseline relay.
 *
 *   ng_client IP PORT KEY=VALUE...
 *
 * A VALUE in brackets, [a,b], is a list of strings; sdp=- reads the SDP from
 * standard input. Prints the reply's "sdp" when it has one, else its
 * "result"; an "error" result prints its "error-reason" on stderr and exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MSG_MAX 65536

struct buf {
	char data[MSG_MAX];
	size_t len;
};

static int put(struct buf *b, const char *data, size_t len)
{
	if (b->len + len > sizeof(b->data))
		return -ENOSPC;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

static int put_string(struct buf *b, const char *s, size_t len)
{
	char head[24];

	snprintf(head, sizeof(head), "%zu:", len);
	return put(b, head, strlen(head)) ?: put(b, s, len);
}

static int put_value(struct buf *b, const char *value)
{
	size_t len = strlen(value);
	const char *item, *end;
	int err;

	if (len < 2 || value[0] != '[' || value[len - 1] != ']')
		return put_string(b, value, len);
	err = put(b, "l", 1);
	for (item = value + 1; !err && item < value + len - 1; item = end + 1) {
		end = memchr(item, ',', (size_t)(value + len - 1 - item));
		if (!end)
			end = value + len - 1;
		err = put_string(b, item, (size_t)(end - item));
	}
	return err ?: put(b, "e", 1);
}

static char *read_stdin(void)
{
	static char sdp[MSG_MAX];
	size_t len = fread(sdp, 1, sizeof(sdp) - 1, stdin);

	sdp[len] = '\0';
	return sdp;
}

/*
 * The bencoded value at *p: its string (when it is one) in str/len; *p moves
 * past it. Returns 0 or -EINVAL.
 */
static int skip_value(const char **p, const char *end, const char **str, size_t *len)
{
	char *after;
	unsigned long n;

	*str = NULL;
	if (*p >= end)
		return -EINVAL;
	if (**p == 'i') {
		const char *e = memchr(*p, 'e', (size_t)(end - *p));

		if (!e)
			return -EINVAL;
		*p = e + 1;
		return 0;
	}
	if (**p == 'l' || **p == 'd') {
		const char *s;
		size_t l;

		(*p)++;
		while (*p < end && **p != 'e')
			if (skip_value(p, end, &s, &l))
				return -EINVAL;
		if (*p >= end)
			return -EINVAL;
		(*p)++;
		return 0;
	}
	n = strtoul(*p, &after, 10);
	if (after >= end || *after != ':' || n > (unsigned long)(end - after - 1))
		return -EINVAL;
	*str = after + 1;
	*len = n;
	*p = after + 1 + n;
	return 0;
}

/* The string value of a top-level key of the reply's dictionary. */
static int reply_get(const char *dict, const char *end, const char *key, const char **value,
		     size_t *len)
{
	const char *p = dict + 1, *k, *v;
	size_t klen, vlen;

	if (dict >= end || *dict != 'd')
		return -EINVAL;
	while (p < end && *p != 'e') {
		if (skip_value(&p, end, &k, &klen) || !k || skip_value(&p, end, &v, &vlen))
			return -EINVAL;
		if (klen == strlen(key) && !memcmp(k, key, klen) && v) {
			*value = v;
			*len = vlen;
			return 0;
		}
	}
	return -ENOENT;
}

int main(int argc, char **argv)
{
	static struct buf req, reply;
	struct sockaddr_in addr = { .sin_family = AF_INET };
	struct timeval timeout = { .tv_sec = 2 };
	char cookie[32];
	const char *dict, *end, *value;
	size_t len;
	ssize_t n;
	int fd, err = 0;

	if (argc < 4 || inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
		fprintf(stderr, "usage: ng_client IP PORT KEY=VALUE...\n");
		return 2;
	}
	addr.sin_port = htons((unsigned short)atoi(argv[2]));
	snprintf(cookie, sizeof(cookie), "%d_%ld ", (int)getpid(), (long)time(NULL));
	err = put(&req, cookie, strlen(cookie)) ?: put(&req, "d", 1);
	for (int i = 3; i < argc && !err; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq) {
			fprintf(stderr, "ng_client: %s: need KEY=VALUE\n", argv[i]);
			return 2;
		}
		*eq = '\0';
		err = put_string(&req, argv[i], strlen(argv[i])) ?:
			      put_value(&req, strcmp(eq + 1, "-") ? eq + 1 : read_stdin());
	}
	err = err ?: put(&req, "e", 1);
	if (err) {
		fprintf(stderr, "ng_client: request too long\n");
		return 1;
	}

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) ||
	    connect(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    send(fd, req.data, req.len, 0) < 0) {
		fprintf(stderr, "ng_client: %s:%s: %s\n", argv[1], argv[2], strerror(errno));
		return 1;
	}
	n = recv(fd, reply.data, sizeof(reply.data), 0);
	if (n < 0) {
		fprintf(stderr, "ng_client: no reply from %s:%s: %s\n", argv[1], argv[2],
			strerror(errno));
		return 1;
	}
	close(fd);
	end = reply.data + n;
	dict = memchr(reply.data, ' ', (size_t)n);
	if (!dict || reply_get(dict + 1, end, "result", &value, &len)) {
		fprintf(stderr, "ng_client: malformed reply\n");
		return 1;
	}
	if (len == 5 && !memcmp(value, "error", 5)) {
		if (!reply_get(dict + 1, end, "error-reason", &value, &len))
			fprintf(stderr, "ng_client: %.*s\n", (int)len, value);
		return 1;
	}
	if (!reply_get(dict + 1, end, "sdp", &value, &len) ||
	    !reply_get(dict + 1, end, "result", &value, &len))
		printf("%.*s\n", (int)len, value);
	return 0;
}
