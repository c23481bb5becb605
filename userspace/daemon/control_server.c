// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control socket's server: listening, accepting, each client's input and
 * output buffers on the event loop. Each request line is answered by
 * xt_control_handle (control_cmds.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <sofia-sip/su.h>

#include "clock.h"
#include "control.h"
#include "log.h"

/* A client sending requests without reading the replies is dropped past this. */
#define MAX_PENDING_REPLY (4 * 1024 * 1024)
/* A client that sends nothing and reads nothing for this long is closed. */
#define CLIENT_IDLE_NS (10 * 1000000000ull)
/* Once a second: idle clients closed, accepting resumed after running out of descriptors. */
#define CHECK_MS 1000

struct control_client {
	struct xt_control *control;
	int fd;
	int registration;
	int events; /* what the registration waits for */
	char in[XT_CONTROL_MAX_REQUEST + 1];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	bool closing;	    /* close once the pending reply is sent */
	bool draining;	    /* reply sent, our side shut: discard input until the client closes */
	uint64_t active_ns; /* CLOCK_MONOTONIC of its last input or output */
};

struct xt_control {
	struct xt_daemon_sources sources;
	su_root_t *root;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev; /* the socket file we made: removed on exit only if still ours */
	ino_t ino;
	int fd;
	int registration; /* accept's; -1 while paused (out of descriptors) */
	su_timer_t *timer;
	bool emfile_logged;
	struct control_client *clients[XT_CONTROL_MAX_CLIENTS];
};

static int accept_event(su_root_magic_t *magic, su_wait_t *wait, su_wakeup_arg_t *arg);

/* ---- connections ---- */

static void client_close(struct control_client *client)
{
	struct xt_control *control = client->control;

	for (int i = 0; i < XT_CONTROL_MAX_CLIENTS; i++)
		if (control->clients[i] == client)
			control->clients[i] = NULL;
	if (client->registration >= 0)
		su_root_deregister(control->root, client->registration);
	close(client->fd);
	free(client->out);
	free(client);
}

/* Send what is pending. Returns -1 when the client is gone (closed). */
static int client_flush(struct control_client *client)
{
	while (client->out_off < client->out_len) {
		ssize_t n = send(client->fd, client->out + client->out_off,
				 client->out_len - client->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			client_close(client);
			return -1;
		}
		client->out_off += (size_t)n;
		client->active_ns = xt_monotonic_ns();
	}
	if (client->out_off == client->out_len) {
		client->out_off = client->out_len = 0;
		/*
		 * Closing with unread input would reset the connection and could
		 * lose the reply: shut our side, let the client close its own.
		 */
		if (client->closing && !client->draining) {
			shutdown(client->fd, SHUT_WR);
			client->draining = true;
		}
	}
	{
		/* closing: no more input is read, so do not wait for it (its EOF would spin) */
		int events = client->draining ? SU_WAIT_IN :
			     client->closing  ? SU_WAIT_OUT :
			     client->out_len  ? SU_WAIT_IN | SU_WAIT_OUT :
						SU_WAIT_IN;

		if (events != client->events) {
			su_root_eventmask(client->control->root, client->registration, client->fd,
					  events);
			client->events = events;
		}
	}
	return 0;
}

static int client_queue(struct control_client *client, char *reply, size_t len)
{
	char *out;

	if (!reply)
		return -1;
	if (client->out_len + len > MAX_PENDING_REPLY) {
		free(reply);
		return -1;
	}
	out = realloc(client->out, client->out_len + len);
	if (!out) {
		free(reply);
		return -1;
	}
	memcpy(out + client->out_len, reply, len);
	client->out = out;
	client->out_len += len;
	free(reply);
	return 0;
}

/* Answer every complete line in the input buffer. */
static int client_requests(struct control_client *client)
{
	const struct xt_daemon_sources *src = &client->control->sources;
	char *nl;

	while ((nl = memchr(client->in, '\n', client->in_len))) {
		size_t line = (size_t)(nl - client->in), len = 0;
		char *reply = xt_control_handle(src, client->in, line, &len);

		if (client_queue(client, reply, len)) {
			client_close(client);
			return -1;
		}
		memmove(client->in, nl + 1, client->in_len - line - 1);
		client->in_len -= line + 1;
	}
	if (client->in_len == XT_CONTROL_MAX_REQUEST) {
		char msg[96];
		size_t len = 0;

		snprintf(msg, sizeof(msg), "request longer than %d bytes", XT_CONTROL_MAX_REQUEST);
		client->in_len = 0;
		client->closing = true;
		if (client_queue(client, xt_control_error_reply(msg, &len), len)) {
			client_close(client);
			return -1;
		}
	}
	return 0;
}

static int client_event(su_root_magic_t *magic, su_wait_t *wait, su_wakeup_arg_t *arg)
{
	struct control_client *client = (struct control_client *)arg;
	int events = su_wait_events(wait, client->fd);

	if ((events & SU_WAIT_OUT) && client_flush(client))
		return 0;
	if (!(events & (SU_WAIT_IN | SU_WAIT_HUP | SU_WAIT_ERR)))
		return 0;
	if (client->draining) {
		char sink[4096];
		ssize_t n;

		while ((n = recv(client->fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
			;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			client_close(client);
		return 0;
	}
	if (client->closing) {
		/* the client is gone before reading its reply */
		if (events & (SU_WAIT_HUP | SU_WAIT_ERR))
			client_close(client);
		return 0;
	}
	for (;;) {
		ssize_t n = recv(client->fd, client->in + client->in_len,
				 XT_CONTROL_MAX_REQUEST - client->in_len, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			client_close(client);
			return 0;
		}
		if (n == 0) {
			/* the client shut its side: send what is left, then close */
			client->closing = true;
			break;
		}
		client->in_len += (size_t)n;
		client->active_ns = xt_monotonic_ns();
		if (client_requests(client))
			return 0;
		if (client->closing)
			break;
	}
	client_flush(client);
	return 0;
}

static int accept_event(su_root_magic_t *magic, su_wait_t *wait, su_wakeup_arg_t *arg)
{
	struct xt_control *control = (struct xt_control *)arg;
	struct control_client *client;
	su_wait_t cwait[1];
	int fd, slot = -1;

	fd = accept(control->fd, NULL, NULL);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
		/* the connection stays queued; polling for it again now would spin */
		if (!control->emfile_logged)
			pr_warn("control socket: cannot accept a client: %s; retrying in %d ms\n",
				strerror(errno), CHECK_MS);
		control->emfile_logged = true;
		su_root_deregister(control->root, control->registration);
		control->registration = -1;
		return 0;
	}
	if (fd < 0)
		return 0;
	control->emfile_logged = false;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) || fcntl(fd, F_SETFL, O_NONBLOCK)) {
		close(fd);
		return 0;
	}
	for (int i = 0; i < XT_CONTROL_MAX_CLIENTS; i++)
		if (!control->clients[i]) {
			slot = i;
			break;
		}
	if (slot < 0) {
		static const char busy[] = "{\"error\": \"too many control clients\"}\n";

		if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			pr_debug("control: %s\n", strerror(errno));
		close(fd);
		return 0;
	}
	client = calloc(1, sizeof(*client));
	if (!client) {
		close(fd);
		return 0;
	}
	client->control = control;
	client->fd = fd;
	client->registration = -1;
	client->active_ns = xt_monotonic_ns();
	client->events = SU_WAIT_IN;
	if (su_wait_create(cwait, fd, SU_WAIT_IN) ||
	    (client->registration = su_root_register(control->root, cwait, client_event,
						     (su_wakeup_arg_t *)client, 0)) < 0) {
		client->registration = -1;
		client_close(client);
		return 0;
	}
	control->clients[slot] = client;
	return 0;
}

static int watch_accept(struct xt_control *control)
{
	su_wait_t wait[1];

	if (su_wait_create(wait, control->fd, SU_WAIT_ACCEPT))
		return -1;
	control->registration =
		su_root_register(control->root, wait, accept_event, (su_wakeup_arg_t *)control, 0);
	return control->registration < 0 ? -1 : 0;
}

/* Once a second: close idle clients; accept again after running out of descriptors. */
static void check_tick(su_root_magic_t *magic, su_timer_t *timer, su_timer_arg_t *arg)
{
	struct xt_control *control = (struct xt_control *)arg;
	uint64_t now = xt_monotonic_ns();

	for (int i = 0; i < XT_CONTROL_MAX_CLIENTS; i++) {
		struct control_client *client = control->clients[i];

		if (client && now - client->active_ns > CLIENT_IDLE_NS) {
			pr_debug("control: closing a client idle for %llu s\n",
				 (unsigned long long)(CLIENT_IDLE_NS / 1000000000ull));
			client_close(client);
		}
	}
	if (control->registration < 0 && control->fd >= 0)
		watch_accept(control);
}

/* Is a daemon answering on path? */
static bool socket_answers(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool answers;

	if (fd < 0)
		return false;
	answers = !connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	return answers;
}

static int make_parent_dir(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int listen_on(struct xt_control *control, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int rc;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	rc = make_parent_dir(path);
	if (rc) {
		snprintf(err, errlen, "control socket %s: cannot make its directory: %s", path,
			 strerror(-rc));
		return rc;
	}
	control->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (control->fd < 0)
		goto fail;
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "control socket %s: exists and is not a socket",
				 path);
			return -EEXIST;
		}
		if (socket_answers(&sun)) {
			snprintf(err, errlen, "control socket %s: another xtrunkd answers there",
				 path);
			return -EADDRINUSE;
		}
		unlink(path); /* left by a daemon that is gone */
	}
	if (bind(control->fd, (struct sockaddr *)&sun, sizeof(sun)))
		goto fail;
	if (lstat(path, &st) || chmod(path, 0660) || listen(control->fd, 16))
		goto fail;
	control->dev = st.st_dev;
	control->ino = st.st_ino;
	snprintf(control->path, sizeof(control->path), "%s", path);
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
	return rc;
}

struct xt_control *xt_control_create(su_root_t *root, const char *path,
				     const struct xt_daemon_sources *sources, char *err,
				     size_t errlen)
{
	struct xt_control *control = calloc(1, sizeof(*control));
	int rc = -EINVAL;

	if (!control) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	control->sources = *sources;
	control->root = root;
	control->fd = -1;
	control->registration = -1;
	if (strlen(path) >= sizeof(control->path)) {
		snprintf(err, errlen, "control socket %s: path too long", path);
		goto fail;
	}
	rc = listen_on(control, path, err, errlen);
	if (rc)
		goto fail;
	rc = -EIO;
	control->timer = su_timer_create(su_root_task(root), CHECK_MS);
	if (watch_accept(control) ||
	    su_timer_run(control->timer, check_tick, (su_timer_arg_t *)control)) {
		snprintf(err, errlen, "control socket %s: cannot watch it", path);
		goto fail;
	}
	pr_info("control socket on %s\n", path);
	return control;
fail:
	xt_control_destroy(control);
	errno = -rc;
	return NULL;
}

void xt_control_destroy(struct xt_control *control)
{
	struct stat st;

	if (!control)
		return;
	su_timer_destroy(control->timer);
	for (int i = 0; i < XT_CONTROL_MAX_CLIENTS; i++)
		if (control->clients[i])
			client_close(control->clients[i]);
	if (control->registration >= 0)
		su_root_deregister(control->root, control->registration);
	if (control->fd >= 0)
		close(control->fd);
	/* remove the socket file if it is still the one we made */
	if (control->path[0] && !lstat(control->path, &st) && st.st_dev == control->dev &&
	    st.st_ino == control->ino)
		unlink(control->path);
	free(control);
}
