/* spawn-sync: records between the agent and a starting container
 * process, and the child's failure reports (see spawn-sync.h). */
#include "spawn-sync.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/ck-error.h"

/* the child's end of the sync socket, for spawn_child_fail() */
static int child_sync_fd = -1;

void spawn_sync_set_child_fd(int fd)
{
	child_sync_fd = fd;
}

/* --- child side ------------------------------------------------------------ */

void spawn_sync_send(int fd, const SyncMsg *msg)
{
	ssize_t r;

	do
		r = send(fd, msg, sizeof *msg, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
}

static G_NORETURN void child_fail_msg(SyncMsg *msg, const char *step)
{
	msg->type = SYNC_ERROR;
	g_strlcpy(msg->step, step, sizeof msg->step);
	if (child_sync_fd >= 0)
		spawn_sync_send(child_sync_fd, msg);
	_exit(127);
}

G_NORETURN void spawn_child_fail(const char *step, int errsv, const char *fmt, ...)
{
	SyncMsg msg = {.err = errsv, .code = CK_ERROR_INVALID};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg.text, sizeof msg.text, fmt, ap);
	va_end(ap);
	child_fail_msg(&msg, step);
}

G_NORETURN void spawn_child_fail_error(const char *step, const GError *error)
{
	SyncMsg msg = {.err = ck_error_errno(error), .code = ck_error_category(error)};

	g_strlcpy(msg.text, error->message, sizeof msg.text);
	child_fail_msg(&msg, step);
}

/* Waits for the agent's `want`; anything else means it gave up on us
 * (the container was removed before start, or a map could not be written). */
void spawn_sync_wait_for(int sync_fd, SyncType want)
{
	SyncMsg msg;
	ssize_t n;

	do
		n = recv(sync_fd, &msg, sizeof msg, 0);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof msg || msg.type != (int)want)
		_exit(127);
}

/* --- parent side ----------------------------------------------------------- */

/* Receives one record; an fd passed with it (SYNC_PTY) lands in
 * *out_fd when out_fd is non-NULL, else it is closed. */
gboolean spawn_sync_recv(int fd, int timeout_ms, SyncMsg *msg, gboolean *out_eof, int *out_fd, GError **error)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = msg, .iov_len = sizeof *msg};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	int r;

	*out_eof = FALSE;
	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return ck_set_error(error, CK_ERROR_TIMEOUT, "the container process did not report within %d ms",
				    timeout_ms);
	ssize_t n;
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); n > 0 && c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int passed;
		memcpy(&passed, CMSG_DATA(c), sizeof passed);
		if (out_fd != NULL && *out_fd < 0)
			*out_fd = passed;
		else
			close(passed);
	}
	if (n == 0) {
		*out_eof = TRUE;
		return TRUE;
	}
	if (n != (ssize_t)sizeof *msg)
		return ck_set_error(error, CK_ERROR_FAILED, "short message from the container process");
	return TRUE;
}

static gboolean child_error(const SyncMsg *msg, GError **error)
{
	gboolean known = msg->code >= 0 && msg->code < CK_ERROR_CODE_MAX;

	if (msg->err != 0)
		g_set_error_literal(error, CK_ERRNO_ERROR, msg->err, msg->text);
	else
		g_set_error_literal(error, CK_ERROR, known ? msg->code : CK_ERROR_FAILED, msg->text);
	return FALSE;
}

/* Reads until `want` arrives; an ERROR record becomes the error. */
gboolean spawn_sync_expect(int fd, SyncType want, int timeout_ms, SyncMsg *out, int *out_fd, GError **error)
{
	gboolean eof;

	if (!spawn_sync_recv(fd, timeout_ms, out, &eof, out_fd, error))
		return FALSE;
	if (eof)
		return ck_set_error(error, CK_ERROR_FAILED, "the container process exited during setup");
	if (out->type == SYNC_ERROR)
		return child_error(out, error);
	if (out->type != (int)want)
		return ck_set_error(error, CK_ERROR_FAILED, "unexpected message %d from the container process",
				    out->type);
	return TRUE;
}

gboolean spawn_sync_wait_exec(int fd, int timeout_ms, GError **error)
{
	SyncMsg msg;
	gboolean eof;

	if (!spawn_sync_recv(fd, timeout_ms, &msg, &eof, NULL, error))
		return FALSE;
	if (eof)
		return TRUE; /* close-on-exec: execve succeeded */
	if (msg.type == SYNC_ERROR)
		return child_error(&msg, error);
	return ck_set_error(error, CK_ERROR_FAILED, "unexpected message %d after start", msg.type);
}
