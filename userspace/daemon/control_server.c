// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control socket's server: listening, accepting, each client's input and
 * the reply it is being sent, on the event loop. Each request line is
 * answered by a reply from control_cmds.c, sent a part at a time; the next
 * line is read only once that reply is out.
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

/* A client that sends nothing and reads nothing for this long is closed. */
#define CLIENT_IDLE_NS (10 * 1000000000ull)
/* Once a second: idle clients closed, accepting resumed after running out of descriptors. */
#define CHECK_MS 1000

/*
 * A client's memory is bounded whatever it asks or fails to read: its input
 * line (XT_CONTROL_MAX_REQUEST) and one part of one reply, in a buffer at
 * most twice the largest part (a memory stream's growth). A call list part
 * is under 32 KiB (64 calls); the largest whole reply is one call's (call
 * show: at most 16 streams of 4 flows, some 50 KiB). A reply's next part is
 * written only once the last one is in the socket, and the next request line
 * read only once the reply is out (meanwhile the kernel's socket buffers hold
 * what the client sends). So under 128 KiB a client, 2 MiB for the
 * XT_CONTROL_MAX_CLIENTS (16), however long the call list.
 */
struct control_client {
	struct xt_control *control;
	int fd;
	int registration;
	int events; /* what the registration waits for */
	char in[XT_CONTROL_MAX_REQUEST + 1];
	size_t in_len;
	struct xt_control_reply *reply; /* being sent; NULL: none */
	const char *part;		/* its part being sent */
	size_t part_len, part_off;
	size_t reply_sent;  /* bytes of the reply sent so far, for the log */
	bool closing;	    /* no more input: close once the replies are sent */
	bool draining;	    /* replies sent, our side shut: discard input until the client closes */
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
	xt_control_reply_free(client->reply);
	free(client);
}

/* A client whose reply cannot be finished: said once in the log, then closed. */
static void client_cut_off(struct control_client *client, const char *why)
{
	pr_info("control: closing a client %zu bytes into its reply: %s\n", client->reply_sent,
		why);
	client_close(client);
}

/* A request line is in the input buffer. */
static bool has_request(const struct control_client *client)
{
	return memchr(client->in, '\n', client->in_len) != NULL;
}

/*
 * Start the reply to the next request line, if one is in. Returns 1, 0 when
 * there is none, -1 when out of memory (logged).
 */
static int client_next_request(struct control_client *client)
{
	const struct xt_daemon_sources *src = &client->control->sources;
	char *nl = memchr(client->in, '\n', client->in_len);

	if (nl) {
		size_t line = (size_t)(nl - client->in);

		client->reply = xt_control_reply_start(src, client->in, line);
		memmove(client->in, nl + 1, client->in_len - line - 1);
		client->in_len -= line + 1;
	} else if (client->in_len == XT_CONTROL_MAX_REQUEST) {
		char msg[96];

		snprintf(msg, sizeof(msg), "request longer than %d bytes", XT_CONTROL_MAX_REQUEST);
		client->in_len = 0;
		client->closing = true;
		client->reply = xt_control_reply_error(msg);
	} else {
		return 0;
	}
	client->part_len = client->part_off = client->reply_sent = 0;
	if (!client->reply) {
		pr_warn("control: cannot answer a request: out of memory; closing the client\n");
		return -1;
	}
	return 1;
}

/*
 * Send what can be sent: the reply's part, its next parts, then the replies
 * to the request lines already in. A wakeup writes one part at most (call
 * list: XT_B2BUA_CALL_BATCH calls), so that a long list does not hold up the
 * SIP on the same event loop: the next part waits for the next wakeup.
 * Returns -1 when the client is gone (closed).
 */
static int client_send(struct control_client *client)
{
	bool written = false; /* a part, this wakeup */
	int events;

	for (;;) {
		ssize_t n;

		if (client->part_off == client->part_len) {
			int rc;

			if (written)
				break;
			if (!client->reply) {
				rc = client_next_request(client);
				if (rc < 0) {
					client_close(client);
					return -1;
				}
				if (!rc)
					break;
			}
			rc = xt_control_reply_next(client->reply, &client->part, &client->part_len);
			client->part_off = 0;
			if (rc < 0) {
				client_cut_off(client, strerror(-rc));
				return -1;
			}
			if (rc == 0) {
				xt_control_reply_free(client->reply);
				client->reply = NULL;
				client->part_len = 0;
				continue;
			}
			written = true;
			continue; /* an empty part is done already */
		}
		n = send(client->fd, client->part + client->part_off,
			 client->part_len - client->part_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			if (client->reply_sent)
				client_cut_off(client, "the client left");
			else
				client_close(client);
			return -1;
		}
		client->part_off += (size_t)n;
		client->reply_sent += (size_t)n;
		client->active_ns = xt_monotonic_ns();
	}
	/*
	 * Nothing left to send: an input line to read, or when the client is
	 * done (or its line was too long), shut our side and let it close its
	 * own: closing with unread input would reset the connection and could
	 * lose the reply.
	 */
	if (!client->reply && !has_request(client) && client->closing && !client->draining) {
		shutdown(client->fd, SHUT_WR);
		client->draining = true;
	}
	/* a reply or a request line pending: wait to write, not to read (an EOF would spin) */
	events = !client->draining && (client->reply || has_request(client)) ? SU_WAIT_OUT :
									       SU_WAIT_IN;
	if (events != client->events) {
		su_root_eventmask(client->control->root, client->registration, client->fd, events);
		client->events = events;
	}
	return 0;
}

static int client_event(su_root_magic_t *magic, su_wait_t *wait, su_wakeup_arg_t *arg)
{
	struct control_client *client = (struct control_client *)arg;
	int events = su_wait_events(wait, client->fd);

	if (client->draining) {
		char sink[4096];
		ssize_t n;

		while ((n = recv(client->fd, sink, sizeof(sink), MSG_DONTWAIT)) > 0)
			;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
			client_close(client);
		return 0;
	}
	/* read only while no reply is pending: one reply at a time, its request first */
	while ((events & (SU_WAIT_IN | SU_WAIT_HUP | SU_WAIT_ERR)) && !client->closing &&
	       !client->reply && !has_request(client) && client->in_len < XT_CONTROL_MAX_REQUEST) {
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
			/* the client shut its side: answer the lines it sent, then close */
			client->closing = true;
			break;
		}
		client->in_len += (size_t)n;
		client->active_ns = xt_monotonic_ns();
	}
	client_send(client);
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

		if (!client || now - client->active_ns <= CLIENT_IDLE_NS)
			continue;
		if (client->reply) {
			client_cut_off(client, "it has read nothing for 10 s");
		} else {
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
