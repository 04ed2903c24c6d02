/* console-log: the guest's serial console, kept on the host within bounds
 * (see console-log.h). */
#include "console-log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"

#define CHUNK (64 * 1024)

struct ConsoleLog {
	char *path;
	char *rotated; /* <path>.1 */
	gsize max_bytes;
	int pipe_fd;   /* the read end; -1 once the guest's side closed */
	int file;      /* -1 after a failure to reopen it */
	gsize file_size;
	GByteArray *tail;
	GMainContext *ctx;
	GSource *source; /* the pipe's watch, or the pause after a read */
	guint64 bytes;
	guint rotations;
	gboolean write_failed; /* said once */
};

static int open_file(const char *path, int extra_flags)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | extra_flags, 0640);
}

static void write_failed(ConsoleLog *log, const char *what, int err)
{
	if (log->write_failed)
		return;
	log->write_failed = TRUE;
	ck_log_warning("console log %s: %s: %s (console output is dropped until it works again)", log->path, what,
		       g_strerror(err));
}

/* The file is full: it becomes <path>.1 and a new one starts. */
static void rotate(ConsoleLog *log)
{
	if (rename(log->path, log->rotated) < 0)
		write_failed(log, "rename", errno);
	ck_close_fdp(&log->file);
	log->file = open_file(log->path, O_TRUNC);
	if (log->file < 0)
		write_failed(log, "open", errno);
	log->file_size = 0;
	log->rotations++;
}

static void keep_tail(ConsoleLog *log, const guint8 *bytes, gsize len)
{
	if (len >= CONSOLE_LOG_TAIL_MAX) {
		g_byte_array_set_size(log->tail, 0);
		g_byte_array_append(log->tail, bytes + len - CONSOLE_LOG_TAIL_MAX, CONSOLE_LOG_TAIL_MAX);
		return;
	}
	g_byte_array_append(log->tail, bytes, (guint)len);
	if (log->tail->len > CONSOLE_LOG_TAIL_MAX)
		g_byte_array_remove_range(log->tail, 0, log->tail->len - CONSOLE_LOG_TAIL_MAX);
}

static void store(ConsoleLog *log, const guint8 *bytes, gsize len)
{
	log->bytes += len;
	keep_tail(log, bytes, len);
	while (len > 0) {
		if (log->file_size >= log->max_bytes)
			rotate(log);
		gsize take = MIN(len, log->max_bytes - log->file_size);
		/* a failed write (ENOSPC) drops these bytes, not the next ones */
		if (log->file >= 0 && !ck_write_all(log->file, bytes, take))
			write_failed(log, "write", errno);
		else if (log->file >= 0)
			log->write_failed = FALSE;
		log->file_size += take;
		bytes += take;
		len -= take;
	}
}

static void unwatch(ConsoleLog *log)
{
	if (log->source == NULL)
		return;
	g_source_destroy(log->source);
	g_clear_pointer(&log->source, g_source_unref);
}

/* Reads up to `limit` bytes without waiting; FALSE once the guest's side
 * has closed (QEMU exited): then nothing watches the pipe any more. */
static gboolean read_some(ConsoleLog *log, gsize limit)
{
	guint8 buf[CHUNK];
	gsize got = 0;

	while (log->pipe_fd >= 0 && got < limit) {
		ssize_t n = read(log->pipe_fd, buf, sizeof buf);
		if (n > 0) {
			store(log, buf, (gsize)n);
			got += (gsize)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			return TRUE;
		} else {
			unwatch(log);
			ck_close_fdp(&log->pipe_fd);
		}
	}
	return log->pipe_fd >= 0;
}

static void watch(ConsoleLog *log);

static gboolean on_pause_over(gpointer data)
{
	ConsoleLog *log = data;

	g_clear_pointer(&log->source, g_source_unref);
	watch(log);
	return G_SOURCE_REMOVE;
}

/* QEMU's serial port passes the guest's bytes on one or a few at a time:
 * waking up for each would cost the host a system call or two per byte
 * the guest prints. After a read, the next waits CONSOLE_LOG_PAUSE_MS,
 * while the pipe (and then QEMU) holds what comes meanwhile. */
static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
	ConsoleLog *log = data;

	(void)fd;
	(void)cond;
	if (read_some(log, CONSOLE_LOG_READ_MAX)) {
		unwatch(log);
		log->source = g_timeout_source_new(CONSOLE_LOG_PAUSE_MS);
		g_source_set_callback(log->source, on_pause_over, log, NULL);
		g_source_attach(log->source, log->ctx);
	}
	return G_SOURCE_REMOVE;
}

static void watch(ConsoleLog *log)
{
	log->source = g_unix_fd_source_new(log->pipe_fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
	g_source_set_callback(log->source, G_SOURCE_FUNC(on_readable), log, NULL);
	g_source_attach(log->source, log->ctx);
}

ConsoleLog *console_log_new(const char *path, gsize max_bytes, GMainContext *ctx, int *out_peer, GError **error)
{
	g_autoptr(ConsoleLog) log = g_new0(ConsoleLog, 1);
	int pair[2];
	struct stat st;

	log->path = g_strdup(path);
	log->rotated = g_strdup_printf("%s.1", path);
	log->max_bytes = MAX(max_bytes, 1);
	log->pipe_fd = log->file = -1;
	log->tail = g_byte_array_new();
	log->file = open_file(path, 0);
	if (log->file < 0 || fstat(log->file, &st) < 0)
		return ck_set_error_errno(error, errno, "console log %s", path), NULL;
	log->file_size = (gsize)st.st_size;
	if (pipe2(pair, O_CLOEXEC) < 0)
		return ck_set_error_errno(error, errno, "console log %s: pipe", path), NULL;
	/* best effort: the default 64 KiB holds less of a burst */
	(void)fcntl(pair[1], F_SETPIPE_SZ, CONSOLE_LOG_PIPE_SIZE);
	log->pipe_fd = pair[0];
	if (!ck_set_nonblock(log->pipe_fd, TRUE, error)) {
		close(pair[1]);
		return NULL;
	}
	log->ctx = ctx != NULL ? g_main_context_ref(ctx) : g_main_context_ref_thread_default();
	watch(log);
	*out_peer = pair[1];
	return g_steal_pointer(&log);
}

void console_log_drain(ConsoleLog *log)
{
	(void)read_some(log, CONSOLE_LOG_DRAIN_MAX);
}

char *console_log_tail(ConsoleLog *log)
{
	return g_strndup((const char *)log->tail->data, log->tail->len);
}

const char *console_log_path(const ConsoleLog *log)
{
	return log->path;
}

guint64 console_log_bytes(const ConsoleLog *log)
{
	return log->bytes;
}

guint console_log_rotations(const ConsoleLog *log)
{
	return log->rotations;
}

void console_log_free(ConsoleLog *log)
{
	if (log == NULL)
		return;
	unwatch(log);
	console_log_drain(log);
	if (log->ctx != NULL)
		g_main_context_unref(log->ctx);
	ck_close_fdp(&log->pipe_fd);
	ck_close_fdp(&log->file);
	g_byte_array_unref(log->tail);
	g_free(log->path);
	g_free(log->rotated);
	g_free(log);
}
