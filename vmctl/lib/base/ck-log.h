/* ck-log: one logging path for every binary.
 *
 * Targets:
 *   - stderr: the default. CRI-O and Podman capture a runtime's stderr, and
 *     the guest agent's stderr is the VM console. When a log file is also
 *     set, stderr still receives errors (crun's rule: errors always reach
 *     the caller), other levels go only to the file.
 *   - a file (runc's --log PATH), as text (logrus-style key=value, what runc
 *     writes) or JSON lines {"level","msg","time"} (--log-format json, which
 *     Podman parses for "msg").
 *   - extra sinks registered by a program (syslog, journald) so that the
 *     static agent does not link libsystemd.
 *
 * Library code logs at debug level only; the caller that receives an
 * error reports it once. GLib's own g_warning()/g_debug() are routed here.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	CK_LOG_ERROR,
	CK_LOG_WARNING,
	CK_LOG_INFO,
	CK_LOG_DEBUG,
} CkLogLevel;

typedef enum {
	CK_LOG_FORMAT_TEXT,
	CK_LOG_FORMAT_JSON,
} CkLogFormat;

typedef void (*CkLogSinkFunc)(CkLogLevel level, const char *msg, gpointer user_data);

/* `program` prefixes stderr lines ("vmctl: ..."). Installs the GLib writer. */
void ck_log_init(const char *program);
void ck_log_set_level(CkLogLevel level);
CkLogLevel ck_log_get_level(void);
gboolean ck_log_level_from_string(const char *s, CkLogLevel *out);
const char *ck_log_level_to_string(CkLogLevel level);

/* Appends to path (created 0640). Replaces an earlier file target. */
gboolean ck_log_open_file(const char *path, CkLogFormat format, GError **error);
void ck_log_close_file(void);

/* Send nothing to stderr (e.g. a daemon whose stderr is /dev/null). */
void ck_log_set_stderr(gboolean enabled);

/* FALSE: errors stay out of the file (the other levels still go there).
 * For a helper that hands its errors back to a caller which logs them,
 * so that a failure is one line in the file, the caller's. */
void ck_log_set_file_errors(gboolean enabled);

void ck_log_add_sink(CkLogSinkFunc func, gpointer user_data);

void ck_log(CkLogLevel level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void ck_logv(CkLogLevel level, const char *fmt, va_list ap) G_GNUC_PRINTF(2, 0);

#define ck_log_error(...) ck_log(CK_LOG_ERROR, __VA_ARGS__)
#define ck_log_warning(...) ck_log(CK_LOG_WARNING, __VA_ARGS__)
#define ck_log_info(...) ck_log(CK_LOG_INFO, __VA_ARGS__)
#define ck_log_debug(...)                                                                                              \
	do {                                                                                                           \
		if (ck_log_get_level() >= CK_LOG_DEBUG)                                                                \
			ck_log(CK_LOG_DEBUG, __VA_ARGS__);                                                             \
	} while (0)

/* RFC 3339 UTC time with nanoseconds, as runc's JSON log uses. */
char *ck_log_timestamp(void);

G_END_DECLS
