// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* xtrunkctl's side of xtrunkd's control socket: one request line, one reply line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "main.h"

/*
 * xtrunkd writes a reply of any length, a part at a time; xtrunkctl holds it
 * whole to parse it. This bound is a runaway's, not a list's: a call list
 * entry is under 512 bytes, so 1 GiB is some 2 million calls.
 */
#define REPLY_MAX (1024 * 1024 * 1024)

static int connect_daemon(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(control_socket) >= sizeof(sun.sun_path))
		return p_err("control socket path too long: %s", control_socket);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", control_socket);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return p_err("cannot make a socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int err = errno;

		close(fd);
		return p_err("cannot reach xtrunkd at %s: %s (is it running? --socket or "
			     "XTRUNK_SOCKET name another socket)",
			     control_socket, strerror(err));
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Why read_line has no whole line: the connection ended after used bytes (recv's errno err). */
static void no_reply(size_t used, int err, int send_err)
{
	if (used)
		p_err("xtrunkd's reply was cut off after %zu bytes%s%s (xtrunkd's log says why)",
		      used, err ? ": " : "", err ? strerror(err) : "");
	else if (send_err)
		p_err("cannot send to xtrunkd at %s: %s", control_socket, strerror(send_err));
	else
		p_err("no reply from xtrunkd at %s", control_socket);
}

/*
 * Read up to the reply's newline. NULL (reported) when there is no whole
 * line: nothing came, the reply was cut off, or it is too long.
 */
static char *read_line(int fd, size_t *len, int send_err)
{
	size_t cap = 65536, used = 0;
	char *buf = malloc(cap), *nl = NULL;

	while (buf && !nl) {
		ssize_t n;

		if (used == cap) {
			char *bigger = cap < REPLY_MAX ? realloc(buf, cap * 2) : NULL;

			if (!bigger && cap < REPLY_MAX)
				p_err("out of memory reading xtrunkd's reply (%zu MiB)",
				      used >> 20);
			else if (!bigger)
				p_err("xtrunkd's reply is longer than %d MiB, more than xtrunkctl reads",
				      REPLY_MAX >> 20);
			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
		n = recv(fd, buf + used, cap - used, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			no_reply(used, n < 0 ? errno : 0, send_err);
			break;
		}
		nl = memchr(buf + used, '\n', (size_t)n);
		used += (size_t)n;
	}
	if (!nl) {
		if (!buf)
			p_err("out of memory");
		free(buf);
		return NULL;
	}
	*len = (size_t)(nl - buf);
	return buf;
}

int control_request(const char *command, const char *key, const char *value, struct xt_json **reply,
		    const struct xt_json **result)
{
	char *request = NULL, *line;
	size_t request_len = 0, len = 0;
	struct json_writer *w;
	const char *error;
	bool written;
	int send_err;
	char perr[128];
	FILE *out;
	int fd;

	*reply = NULL;
	out = open_memstream(&request, &request_len);
	if (!out)
		return p_err("out of memory");
	w = jsonw_new(out, false);
	written = w != NULL;
	if (w) {
		jsonw_start_object(w);
		jsonw_string_field(w, XT_CTL_KEY_COMMAND, command);
		if (key)
			jsonw_string_field(w, key, value);
		jsonw_end_object(w);
		jsonw_destroy(&w); /* ends the line */
	}
	if (fclose(out) || !written) {
		free(request);
		return p_err("out of memory");
	}
	fd = connect_daemon();
	if (fd < 0) {
		free(request);
		return -1;
	}
	/* a daemon refusing the connection says why before it closes: read that too */
	send_err = send_all(fd, request, request_len) ? errno : 0;
	free(request);
	line = read_line(fd, &len, send_err);
	close(fd);
	if (!line)
		return -1;
	*reply = xt_json_parse(line, len, perr, sizeof(perr));
	free(line);
	if (!*reply)
		return p_err("xtrunkd's reply is not JSON: %s", perr);
	error = xt_json_get_str(*reply, XT_CTL_KEY_ERROR);
	if (error || !(*result = xt_json_get(*reply, XT_CTL_KEY_RESULT))) {
		p_err("%s", error ? error : "xtrunkd's reply has no result");
		xt_json_free(*reply);
		*reply = NULL;
		return -1;
	}
	return 0;
}

void print_json_result(const struct xt_json *result)
{
	struct xt_json copy = *result;

	copy.key = NULL; /* the value alone, not "result": */
	copy.next = NULL;
	xt_json_write(json_wtr, &copy);
}
