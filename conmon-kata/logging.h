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
 * The module is split by driver: logging.c (the set and the pure
 * helpers), log-k8s.c and log-journald.c. The driver-level functions are
 * declared at the end of this header only because the three files share
 * them; callers use LogSet.
 *
 * Everything runs on the monitor's main thread. Nothing here is
 * async-signal-safe.
 */
#pragma once

#include <string.h>
#include <time.h>

#include <glib.h>

#include "cli.h"

G_BEGIN_DECLS

/* conmon-interface.md#k8s-file-format: "YYYY-MM-DDTHH:MM:SS.NNNNNNNNN±HH:MM" */
#define LOG_K8S_TIMESTAMP_LEN 35
/* conmon-interface.md#k8s-file-format: the tag starts at offset 43 and the content at 45; so a line
 * costs its content + 45 bytes, plus the "\n" added to a P line (conmon-interface.md#log-size-limits-and-rotation). */
#define LOG_K8S_PREFIX_LEN 45
/* conmon-interface.md#attach-framing and #journald: one read of container output, and journald's partial buffer. */
#define LOG_CHUNK_MAX 8192

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

/* ---- pure helpers (tested directly) ----------------------------------- */

/* The k8s timestamp of ts in the process's local zone (TZ, then
 * /etc/localtime): 9 fractional digits and a numeric offset from
 * tm_gmtoff, "+00:00" for UTC and never "Z" (conmon-interface.md#k8s-file-format). 35 bytes; g_free. */
char *log_k8s_timestamp(const struct timespec *ts);

/* Length of the first piece of data: up to and including the first "\n"
 * (*out_partial = FALSE), or all of it when there is none (TRUE). len > 0.
 * Inline: both drivers split with it, and the set (logging.c) calls the
 * drivers, which must not call it back. */
static inline gsize log_next_line(const guint8 *data, gsize len, gboolean *out_partial)
{
	const guint8 *nl = memchr(data, '\n', len);

	*out_partial = nl == NULL;
	return nl == NULL ? len : (gsize)(nl - data) + 1;
}

/* Bytes one k8s line adds to the file (conmon-interface.md#log-size-limits-and-rotation). */
gsize log_k8s_line_cost(gsize content_len, gboolean partial);

/* Appends one k8s line: "<timestamp> <stdout|stderr> <F|P> <content>",
 * plus the "\n" that a P line lacks (conmon-interface.md#k8s-file-format). */
void log_k8s_append_line(GString *out, const char *timestamp, gboolean is_stderr, gboolean partial,
			 const guint8 *content, gsize len);

/* conmon-interface.md#journald: a line that starts with "<N>", N in 0-7, asks for priority N.
 * Returns TRUE and the priority when data has that prefix. */
gboolean log_journald_parse_priority(const guint8 *data, gsize len, int *out_priority);

/* The rotation safety checks of conmon-interface.md#log-size-limits-and-rotation step 2 for `path`, given the
 * --log-allowlist-dir values (NULL or empty: no allow-list). Refusals are
 * CK_ERROR_PERMISSION naming the reason; a failed lstat/stat other than
 * ENOENT on the file is CK_ERRNO_ERROR. */
gboolean log_k8s_check_rotate_path(const char *path, char *const *allowlist, GError **error);

/* ---- driver level (shared by logging.c, log-k8s.c, log-journald.c) ---- */

typedef struct LogK8s LogK8s;

LogK8s *log_k8s_new(MonitorConfig *cfg);
void log_k8s_free(LogK8s *k);
void log_k8s_write(LogK8s *k, gboolean is_stderr, const guint8 *data, gsize len);
gboolean log_k8s_reopen(LogK8s *k, GError **error);
void log_k8s_finish(LogK8s *k);

typedef struct LogJournald LogJournald;

LogJournald *log_journald_new(const MonitorConfig *cfg);
void log_journald_free(LogJournald *j);
void log_journald_write(LogJournald *j, gboolean is_stderr, const guint8 *data, gsize len);
void log_journald_finish(LogJournald *j);

G_END_DECLS
