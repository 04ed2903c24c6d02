/* logging: the container's log drivers (conmon-interface.md#logging).
 *
 * Owns what happens to each chunk of container output on its way to the
 * logs: the k8s-file (CRI) format byte by byte (conmon-interface.md#k8s-file-format), --log-size-max with
 * its truncate or rotate reopen, --log-global-size-max (conmon-interface.md#log-size-limits-and-rotation), the reopen
 * that `ctl` asks for (conmon-interface.md#log-reopen), and the journald records with their fields,
 * priorities and partial-line buffering (conmon-interface.md#journald). passthrough and none write
 * nothing (conmon-interface.md#passthrough-and-none).
 *
 * Deliberately not here: reading the container's stdout/stderr, the attach
 * clients (conmon-interface.md#relay says the log drivers come first, then the clients: the
 * caller keeps that order), parsing -l (cli.c), and the monitor's own
 * diagnostics (ck-log). Log errors never stop the monitor: each driver
 * reports its first failure once with ck_log_warning and carries on.
 *
 * The module is split by driver: logging.c (the set), log-k8s.[ch] and
 * log-journald.[ch] (each driver and its pure helpers, tested directly),
 * log-line.h (what both drivers split lines with). The set calls the
 * drivers, never the other way round; callers use LogSet.
 *
 * Everything runs on the monitor's main thread. Nothing here is
 * async-signal-safe.
 */
#pragma once

#include <glib.h>

#include "cli.h"
#include "log-journald.h"
#include "log-k8s.h"
#include "log-line.h"

G_BEGIN_DECLS

typedef struct LogSet LogSet;

/* Builds the drivers that cfg asks for (cfg must have passed
 * monitor_config_validate()). Takes over cfg->k8s_log_fd and sets it to
 * -1; copies everything else, so cfg may be freed afterwards. Calls
 * tzset() once, so that k8s timestamps follow TZ (conmon-interface.md#k8s-file-format). Fails only with
 * CK_ERROR_INVALID when cfg asks for k8s-file without an open fd. */
LogSet *log_set_new(MonitorConfig *cfg, GError **error);

/* Closes the k8s file without fsync and frees everything; NULL-safe.
 * Call log_set_finish() first at a normal exit. */
void log_set_free(LogSet *ls);

/* One chunk as read from the container: one read(), at most 8192 bytes
 * (conmon-interface.md#k8s-file-format). In tty mode is_stderr is always FALSE (conmon-interface.md#k8s-file-format
 * STREAM). Writes the k8s lines first, then the journald records. Never fails; problems are warned about once per
 * driver. len == 0 is a no-op. */
void log_set_write(LogSet *ls, gboolean is_stderr, const guint8 *data, gsize len);

/* The reopen of ctl type 2 (conmon-interface.md#log-reopen), the same one --log-size-max does:
 * truncate mode (write `<path>.tmp`, rename it over `<path>`) or rotate
 * mode (conmon-interface.md#log-size-limits-and-rotation steps 1-5). Either way the log path reappears through a
 * rename, which inotify reports as IN_MOVED_TO. Without a k8s file it does
 * nothing and returns TRUE (CRI-O then waits forever, as with conmon).
 * A rotation skipped because another process holds the lock is success.
 * Errors: CK_ERRNO_ERROR for a failed system call, CK_ERROR_PERMISSION for
 * a path refused by the rotation safety checks; the old file stays in use. */
gboolean log_set_reopen(LogSet *ls, GError **error);

/* At exit (conmon-interface.md#end-of-output, #exit-sequence step 4): sends journald's buffered partial lines as
 * partial records and fsyncs the k8s file unless --no-sync-log. */
void log_set_finish(LogSet *ls);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(LogSet, log_set_free)

G_END_DECLS
