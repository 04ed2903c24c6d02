/* ck-log: stderr, file and sink targets. */
#include "ck-log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ck-error.h"
#include "ck-io.h"
#include "ck-json.h"

typedef struct {
	CkLogSinkFunc func;
	gpointer data;
} Sink;

static struct {
	char *program;
	CkLogLevel level;
	gboolean to_stderr;
	gboolean file_errors;
	int file_fd;
	CkLogFormat file_format;
	Sink sinks[4];
	int n_sinks;
} log_state = {
	.program = NULL,
	.level = CK_LOG_WARNING,
	.to_stderr = TRUE,
	.file_errors = TRUE,
	.file_fd = -1,
};

static const char *const level_names[] = {
	[CK_LOG_ERROR] = "error",
	[CK_LOG_WARNING] = "warning",
	[CK_LOG_INFO] = "info",
	[CK_LOG_DEBUG] = "debug",
};

static GLogWriterOutput glib_writer(GLogLevelFlags flags, const GLogField *fields, gsize n_fields, gpointer data)
{
	const char *msg = NULL;
	CkLogLevel level = CK_LOG_DEBUG;

	(void)data;
	for (gsize i = 0; i < n_fields; i++)
		if (g_str_equal(fields[i].key, "MESSAGE"))
			msg = fields[i].value;
	if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		level = CK_LOG_ERROR;
	else if (flags & G_LOG_LEVEL_WARNING)
		level = CK_LOG_WARNING;
	else if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
		level = CK_LOG_INFO;
	if (level <= log_state.level)
		ck_log(level, "%s", msg ? msg : "(no message)");
	return G_LOG_WRITER_HANDLED;
}

void ck_log_init(const char *program)
{
	g_free(log_state.program);
	log_state.program = g_strdup(program);
	/* GLib allows one writer per process, set once: a second init only
	 * renames the program */
	static gsize writer_set = 0;
	if (g_once_init_enter(&writer_set)) {
		g_log_set_writer_func(glib_writer, NULL, NULL);
		g_once_init_leave(&writer_set, 1);
	}
}

void ck_log_set_level(CkLogLevel level)
{
	log_state.level = level;
}

CkLogLevel ck_log_get_level(void)
{
	return log_state.level;
}

const char *ck_log_level_to_string(CkLogLevel level)
{
	return level_names[level];
}

gboolean ck_log_level_from_string(const char *s, CkLogLevel *out)
{
	static const struct {
		const char *name;
		CkLogLevel level;
	} names[] = {
		{"error", CK_LOG_ERROR}, {"fatal", CK_LOG_ERROR},     {"panic", CK_LOG_ERROR},
		{"warn", CK_LOG_WARNING}, {"warning", CK_LOG_WARNING}, {"info", CK_LOG_INFO},
		{"debug", CK_LOG_DEBUG}, {"trace", CK_LOG_DEBUG},
	};

	for (gsize i = 0; s != NULL && i < G_N_ELEMENTS(names); i++) {
		if (g_ascii_strcasecmp(s, names[i].name) == 0) {
			*out = names[i].level;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean ck_log_open_file(const char *path, CkLogFormat format, GError **error)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		return ck_set_error_errno(error, errno, "open log file %s", path);
	ck_log_close_file();
	log_state.file_fd = fd;
	log_state.file_format = format;
	return TRUE;
}

void ck_log_close_file(void)
{
	if (log_state.file_fd >= 0)
		close(log_state.file_fd);
	log_state.file_fd = -1;
}

void ck_log_set_stderr(gboolean enabled)
{
	log_state.to_stderr = enabled;
}

void ck_log_set_file_errors(gboolean enabled)
{
	log_state.file_errors = enabled;
}

void ck_log_add_sink(CkLogSinkFunc func, gpointer user_data)
{
	g_return_if_fail(log_state.n_sinks < (int)G_N_ELEMENTS(log_state.sinks));
	log_state.sinks[log_state.n_sinks++] = (Sink){func, user_data};
}

char *ck_log_timestamp(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	return g_strdup_printf("%s.%09ldZ", buf, ts.tv_nsec);
}

static void write_file_line(CkLogLevel level, const char *msg)
{
	g_autofree char *ts = ck_log_timestamp();
	g_autofree char *line = NULL;
	gsize len = 0;

	if (log_state.file_format == CK_LOG_FORMAT_JSON) {
		g_autoptr(CkJsonGen) g = ck_json_gen_new();
		ck_json_map_open(g);
		ck_json_kv_string(g, "level", level_names[level]);
		ck_json_kv_string(g, "msg", msg);
		ck_json_kv_string(g, "time", ts);
		ck_json_map_close(g);
		g_autofree char *doc = ck_json_gen_finish(g, &len, NULL);
		if (doc == NULL)
			return;
		line = g_strconcat(doc, "\n", NULL);
	} else {
		g_autofree char *escaped = g_strescape(msg, NULL);
		line = g_strdup_printf("time=\"%s\" level=%s msg=\"%s\"\n", ts, level_names[level], escaped);
	}
	(void)ck_write_all(log_state.file_fd, line, strlen(line));
}

static void write_stderr_line(CkLogLevel level, const char *msg)
{
	g_autofree char *line = NULL;
	const char *prog = log_state.program ? log_state.program : g_get_prgname();

	if (level == CK_LOG_ERROR)
		line = g_strdup_printf("%s: %s\n", prog ? prog : "", msg);
	else
		line = g_strdup_printf("%s: %s: %s\n", prog ? prog : "", level_names[level], msg);
	(void)ck_write_all(STDERR_FILENO, line, strlen(line));
}

void ck_logv(CkLogLevel level, const char *fmt, va_list ap)
{
	if (level > log_state.level)
		return;

	int errsv = errno;
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	/* one record is one line: fold embedded newlines */
	g_strdelimit(msg, "\r\n", ' ');

	if (log_state.file_fd >= 0 && (level != CK_LOG_ERROR || log_state.file_errors))
		write_file_line(level, msg);
	if (log_state.to_stderr && (log_state.file_fd < 0 || level == CK_LOG_ERROR))
		write_stderr_line(level, msg);
	for (int i = 0; i < log_state.n_sinks; i++)
		log_state.sinks[i].func(level, msg, log_state.sinks[i].data);
	errno = errsv;
}

void ck_log(CkLogLevel level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ck_logv(level, fmt, ap);
	va_end(ap);
}
