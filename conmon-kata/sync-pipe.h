/* sync-pipe: conmon's one-line JSON messages on the sync and attach pipes,
 * and the wait on the start pipe.
 *
 * Owns the exact bytes of conmon-interface.md#sync-pipe-messages: `{"<key>": <int>}\n` or
 * `{"<key>": <int>, "message": "<escaped>"}\n`, conmon's own escaping, the
 * single write_all per message, and "EPIPE means stop writing, quietly".
 * Podman reads these pipes line by line and CRI-O with a streaming JSON
 * decoder, so the spacing and the trailing newline are part of the wire
 * format.
 *
 * Deliberately not here: *when* each message is sent (conmon-interface.md#when-messages-are-sent, the process
 * model decides) and which fd is which (conmon-interface.md#environment).
 *
 * Why not yajl (the project generates JSON with yajl elsewhere): yajl writes
 * `/` unescaped, escapes 0x7F differently and validates UTF-8, while
 * conmon copies bytes >= 0x80 raw and writes `\/`. The callers parse what
 * conmon writes, so this module reproduces conmon's bytes by hand, in one
 * small, fully tested function.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The key of every message on a monitor's sync pipe (conmon-interface.md#sync-pipe-messages table):
 * "data" with --api-version, else "exit_code" for --exec, else "pid".
 * Returns a static string. */
const char *sync_pipe_key(gboolean api_version, gboolean exec);

/* The complete message, including the trailing "\n". `message` NULL or ""
 * leaves the "message" member out (conmon-interface.md#sync-pipe-messages). `key` is written as is: it is
 * one of the constants above, never user data. Free with g_free. Pure and
 * thread-safe; not async-signal-safe (allocates). */
char *sync_message_format(const char *key, int value, const char *message);

/* Writes one message to fd with a single write_all. On a socket it uses
 * send(MSG_NOSIGNAL); on a pipe a plain write(), so the caller must ignore
 * SIGPIPE (conmon does, conmon-interface.md#signals). EPIPE is not an error: it returns TRUE and
 * the message is lost. Use SyncPipe below when later messages must then be
 * suppressed. Any other failure is CK_ERRNO_ERROR ("write to sync pipe:
 * <strerror>"), which conmon treats as fatal. */
gboolean sync_pipe_write(int fd, const char *key, int value, const char *message, GError **error);

/* A pipe that remembers it is broken: after EPIPE the fd is closed and
 * every later send is a successful no-op, as conmon does (conmon-interface.md#sync-pipe-messages). fd == -1
 * means "no pipe" (the environment variable was not set). */
typedef struct {
	int fd;
} SyncPipe;

#define SYNC_PIPE_INIT   \
	{                \
		.fd = -1 \
	}

/* Takes ownership of fd (may be -1). */
void sync_pipe_init(SyncPipe *sp, int fd);

/* Like sync_pipe_write(); on EPIPE closes the fd and sets it to -1.
 * Returns TRUE when the pipe is (or just became) absent. */
gboolean sync_pipe_send(SyncPipe *sp, const char *key, int value, const char *message, GError **error);

/* TRUE when there is no usable pipe (never given, or broken). */
gboolean sync_pipe_is_closed(const SyncPipe *sp);

/* Closes the fd if open. */
void sync_pipe_clear(SyncPipe *sp);

/* The start pipe (conmon-interface.md#start-pipe): one blocking read of up to 8192 bytes. Any byte or
 * EOF releases the caller. A read error is CK_ERRNO_ERROR. */
gboolean sync_pipe_wait_start(int fd, GError **error);

G_END_DECLS
