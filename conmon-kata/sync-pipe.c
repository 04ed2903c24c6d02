/* sync-pipe: conmon's sync/attach pipe messages (conmon-interface.md#sync-pipe-messages)
 * and the start pipe wait (conmon-interface.md#start-pipe). See sync-pipe.h. */
#include "sync-pipe.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"

/* conmon-interface.md#start-pipe: each read of the start pipe takes up to 8192 bytes. */
#define START_PIPE_READ_SIZE 8192

const char *sync_pipe_key(gboolean api_version, gboolean exec)
{
	if (api_version)
		return "data";
	return exec ? "exit_code" : "pid";
}

/* conmon-interface.md#sync-pipe-messages escaping, byte by byte. Bytes >= 0x80 are copied raw even when they
 * are not valid UTF-8: conmon does not validate, and the runtime's stderr
 * (the usual message) may be in any encoding. */
static void append_escaped(GString *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '/':
			g_string_append(out, "\\/");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		case '\b':
			g_string_append(out, "\\b");
			break;
		case '\f':
			g_string_append(out, "\\f");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				g_string_append_printf(out, "\\u%04x", *p);
			else
				g_string_append_c(out, (char)*p);
		}
	}
}

char *sync_message_format(const char *key, int value, const char *message)
{
	GString *out = g_string_new(NULL);

	/* Exact spacing matters: one space after each colon and after the
	 * comma, no other whitespace, and the mandatory "\n" (conmon-interface.md#sync-pipe-messages). */
	g_string_append_printf(out, "{\"%s\": %d", key, value);
	if (message != NULL && message[0] != '\0') {
		g_string_append(out, ", \"message\": \"");
		append_escaped(out, message);
		g_string_append_c(out, '"');
	}
	g_string_append(out, "}\n");
	return g_string_free(out, FALSE);
}

/* write_all that prefers send(MSG_NOSIGNAL), so that a socketpair sync pipe
 * (CRI-O, Podman) never raises SIGPIPE whatever the disposition; a plain
 * pipe falls back to write(). Returns FALSE with errno set. */
static gboolean write_all_nosignal(int fd, const char *buf, gsize len)
{
	gboolean is_socket = TRUE;

	while (len > 0) {
		ssize_t n;

		if (is_socket) {
			n = send(fd, buf, len, MSG_NOSIGNAL);
			if (n < 0 && errno == ENOTSOCK) {
				is_socket = FALSE;
				continue;
			}
		} else {
			n = write(fd, buf, len);
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return FALSE;
		}
		buf += n;
		len -= (gsize)n;
	}
	return TRUE;
}

/* The shared body: out_broken tells the caller the reader has gone. */
static gboolean write_message(int fd, const char *key, int value, const char *message, gboolean *out_broken,
			      GError **error)
{
	g_autofree char *msg = sync_message_format(key, value, message);

	*out_broken = FALSE;
	if (write_all_nosignal(fd, msg, strlen(msg)))
		return TRUE;
	if (errno == EPIPE) {
		/* conmon-interface.md#sync-pipe-messages: the caller went away; conmon stops writing, quietly. */
		*out_broken = TRUE;
		return TRUE;
	}
	return ck_set_error_errno(error, errno, "write to sync pipe");
}

gboolean sync_pipe_write(int fd, const char *key, int value, const char *message, GError **error)
{
	gboolean broken;

	return write_message(fd, key, value, message, &broken, error);
}

void sync_pipe_init(SyncPipe *sp, int fd)
{
	sp->fd = fd;
}

gboolean sync_pipe_send(SyncPipe *sp, const char *key, int value, const char *message, GError **error)
{
	gboolean broken = FALSE;

	if (sp->fd < 0)
		return TRUE;
	if (!write_message(sp->fd, key, value, message, &broken, error))
		return FALSE;
	if (broken)
		ck_clear_fd(&sp->fd);
	return TRUE;
}

gboolean sync_pipe_is_closed(const SyncPipe *sp)
{
	return sp->fd < 0;
}

void sync_pipe_clear(SyncPipe *sp)
{
	ck_clear_fd(&sp->fd);
}

gboolean sync_pipe_wait_start(int fd, GError **error)
{
	char buf[START_PIPE_READ_SIZE];

	/* One read only: Podman's second byte (--exec-attach) is meant for a
	 * second read later (conmon-interface.md#start-pipe), so we must not drain the pipe. */
	if (ck_read_retry(fd, buf, sizeof buf) < 0)
		return ck_set_error_errno(error, errno, "read from start pipe");
	return TRUE;
}
