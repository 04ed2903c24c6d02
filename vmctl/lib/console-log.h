/* console-log: the guest's serial console, kept on the host within bounds.
 *
 * The guest writes its console; the host keeps it for operators (the
 * file `console.log` in the VM's folder) and for the pod monitor (why a
 * VM stopped: the last "Kernel panic" line). A guest is hostile input, so
 * what it writes may not grow without end on the host, whose runtime
 * root is usually a tmpfs (host memory). QEMU therefore does not write a
 * file itself: its serial chardev writes into a pipe (a file chardev on
 * the pipe's write end, which QEMU inherits and opens as /dev/fd/N), and
 * the read end
 * is read here, in the owner's main context. A pipe, not a socket: QEMU's
 * serial port writes a byte at a time, and a socket buffer full of
 * one-byte messages holds a few hundred bytes, after which QEMU drops
 * what the guest prints; a pipe packs them, and when it is full QEMU
 * waits instead of dropping:
 *
 *   - the file holds at most `max_bytes` (hypervisor.qemu's
 *     console_log_size_max, docs/configuration.md); when the next bytes would not
 *     fit, it is renamed to `<path>.1` (replacing an older one) and a new
 *     file starts, so the disk holds at most twice `max_bytes`;
 *   - the last CONSOLE_LOG_TAIL_MAX bytes are also kept in memory, for
 *     console_log_tail() (they survive a rotation);
 *   - nothing blocks the guest for long, and the guest cannot make the host
 *     spin: reads are non-blocking, at most CONSOLE_LOG_READ_MAX bytes a
 *     dispatch and at most one dispatch every CONSOLE_LOG_PAUSE_MS, so a
 *     flooding guest shares the main loop with everything else and costs
 *     few wake-ups; QEMU holds further output until the next read.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CONSOLE_LOG_TAIL_MAX (16 * 1024)
#define CONSOLE_LOG_READ_MAX (256 * 1024)
#define CONSOLE_LOG_PAUSE_MS 20
#define CONSOLE_LOG_PIPE_SIZE (1024 * 1024)
/* a drain takes what the pipe holds, not a guest that keeps on */
#define CONSOLE_LOG_DRAIN_MAX (4 * 1024 * 1024)

typedef struct ConsoleLog ConsoleLog;

/* Opens (appending to) `path` and makes the pipe: *out_peer is QEMU's
 * end, the write end (close-on-exec, the caller's to pass on and close);
 * the read end is watched in `ctx` (NULL: the thread-default context). */
ConsoleLog *console_log_new(const char *path, gsize max_bytes, GMainContext *ctx, int *out_peer, GError **error);

/* Reads whatever the guest has written so far, without waiting: before
 * looking at the tail or the file, e.g. once QEMU has exited. */
void console_log_drain(ConsoleLog *log);

/* The console's last bytes (up to CONSOLE_LOG_TAIL_MAX), NUL-terminated
 * (a NUL the guest wrote ends it early); never NULL. */
char *console_log_tail(ConsoleLog *log);

const char *console_log_path(const ConsoleLog *log);

/* Bytes read from the guest in all, and files rotated. */
guint64 console_log_bytes(const ConsoleLog *log);
guint console_log_rotations(const ConsoleLog *log);

/* Drains, then stops watching and closes (the file stays). */
void console_log_free(ConsoleLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ConsoleLog, console_log_free)

G_END_DECLS
