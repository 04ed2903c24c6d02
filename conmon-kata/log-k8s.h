/* log-k8s: the k8s-file (CRI) log driver and its pure helpers
 * (conmon-interface.md#k8s-file-format, #log-size-limits-and-rotation,
 * #log-reopen); the set of drivers is logging.h's. */
#pragma once

#include <time.h>

#include <glib.h>

#include "cli.h"

G_BEGIN_DECLS

/* conmon-interface.md#k8s-file-format: "YYYY-MM-DDTHH:MM:SS.NNNNNNNNN±HH:MM" */
#define LOG_K8S_TIMESTAMP_LEN 35
/* conmon-interface.md#k8s-file-format: the tag starts at offset 43 and the content at 45; so a line
 * costs its content + 45 bytes, plus the "\n" added to a P line (conmon-interface.md#log-size-limits-and-rotation). */
#define LOG_K8S_PREFIX_LEN 45

/* The k8s timestamp of ts in the process's local zone (TZ, then
 * /etc/localtime): 9 fractional digits and a numeric offset from
 * tm_gmtoff, "+00:00" for UTC and never "Z" (conmon-interface.md#k8s-file-format). 35 bytes; g_free. */
char *log_k8s_timestamp(const struct timespec *ts);

/* Bytes one k8s line adds to the file (conmon-interface.md#log-size-limits-and-rotation). */
gsize log_k8s_line_cost(gsize content_len, gboolean partial);

/* Appends one k8s line: "<timestamp> <stdout|stderr> <F|P> <content>",
 * plus the "\n" that a P line lacks (conmon-interface.md#k8s-file-format). */
void log_k8s_append_line(GString *out, const char *timestamp, gboolean is_stderr, gboolean partial,
			 const guint8 *content, gsize len);

/* The rotation safety checks of conmon-interface.md#log-size-limits-and-rotation step 2 for `path`, given the
 * --log-allowlist-dir values (NULL or empty: no allow-list). Refusals are
 * CK_ERROR_PERMISSION naming the reason; a failed lstat/stat other than
 * ENOENT on the file is CK_ERRNO_ERROR. */
gboolean log_k8s_check_rotate_path(const char *path, char *const *allowlist, GError **error);

typedef struct LogK8s LogK8s;

LogK8s *log_k8s_new(MonitorConfig *cfg);
void log_k8s_free(LogK8s *k);
void log_k8s_write(LogK8s *k, gboolean is_stderr, const guint8 *data, gsize len);
gboolean log_k8s_reopen(LogK8s *k, GError **error);
void log_k8s_finish(LogK8s *k);

G_END_DECLS
