/* Unit tests: the log drivers (conmon-kata/logging.c, log-k8s.c,
 * log-journald.c).
 *
 * k8s-file (conmon-interface.md#k8s-file-format to #log-reopen, conmon-interface.md#conformance-checks items 12, 20,
 * 21): the oracle regex on every line, the "hello\nwor" + "ld\n" example, one timestamp per chunk, local time with
 * ±HH:MM offsets, the exact byte cost of each line, --log-size-max 10 and 8192, --log-global-size-max, reopen after the
 * file was removed (seen through inotify), rotation with its file shifting, its lock and its safety refusals.
 *
 * journald (conmon-interface.md#journald): there is no systemd here, so the test binds its own
 * AF_UNIX datagram socket at /run/systemd/journal/socket and decodes what
 * libsystemd's sd_journal_sendv really sends (the journal's native
 * protocol). Those tests skip when a live journald owns that path.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-log.h"
#include "conmon-kata/cli.h"
#include "conmon-kata/logging.h"

#define ORACLE_RE \
	"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}[+-][0-9]{2}:[0-9]{2} (stdout|stderr) [PF] "

#define CID "0123456789abcdef0123456789abcdef"
#define SHORT_ID "0123456789ab"

#define JOURNAL_DIR "/run/systemd/journal"
#define JOURNAL_SOCKET JOURNAL_DIR "/socket"

/* Warnings the module printed (ck_log sink), to check "reported once". */
static guint n_warnings;

static void count_warnings(CkLogLevel level, const char *msg, gpointer user_data)
{
	(void)msg;
	(void)user_data;
	if (level == CK_LOG_WARNING)
		n_warnings++;
}

/* ---- helpers: configs and files ----------------------------------------- */

static char *make_tmp_dir(void)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("test-conmon-logging-XXXXXX", &error);

	g_assert_no_error(error);
	return dir;
}

/* What cli.c's validation leaves for "-l k8s-file:<path>" (conmon-interface.md#log-path-values): the file
 * opened for appending, its size counted. */
static MonitorConfig *k8s_config(const char *path)
{
	MonitorConfig *cfg = g_new0(MonitorConfig, 1);
	struct stat st;

	cfg->log_size_max = -1;
	cfg->log_global_size_max = -1;
	cfg->log_max_files = 1;
	cfg->use_k8s_file = TRUE;
	cfg->k8s_log_path = g_strdup(path);
	cfg->k8s_log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, K8S_LOG_MODE);
	g_assert_no_errno(cfg->k8s_log_fd);
	g_assert_no_errno(fstat(cfg->k8s_log_fd, &st));
	cfg->k8s_log_size = st.st_size;
	cfg->no_sync_log = TRUE;
	return cfg;
}

static LogSet *new_set(MonitorConfig *cfg)
{
	g_autoptr(GError) error = NULL;
	LogSet *ls = log_set_new(cfg, &error);

	g_assert_no_error(error);
	g_assert_nonnull(ls);
	return ls;
}

static void put(LogSet *ls, gboolean is_stderr, const char *s)
{
	log_set_write(ls, is_stderr, (const guint8 *)s, strlen(s));
}

static char *read_file(const char *path)
{
	g_autoptr(GError) error = NULL;
	char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, &error));
	g_assert_no_error(error);
	return text;
}

/* The file's lines without their "\n". */
static GStrv read_lines(const char *path)
{
	g_autofree char *text = read_file(path);
	gsize n = strlen(text);

	if (n > 0) {
		g_assert_cmpint(text[n - 1], ==, '\n');
		text[n - 1] = '\0';
	}
	return n == 0 ? g_new0(char *, 1) : g_strsplit(text, "\n", -1);
}

static gint64 file_size(const char *path)
{
	struct stat st;

	g_assert_no_errno(stat(path, &st));
	return st.st_size;
}

/* The permission bits: conmon creates its log files 0600. */
static guint file_mode(const char *path)
{
	struct stat st;

	g_assert_no_errno(stat(path, &st));
	return st.st_mode & 07777;
}

static gboolean exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* "<ts> <stream> <tag> <content>" -> stream, tag, content; asserts the
 * oracle regex (conmon-interface.md#conformance-checks item 12). */
static void assert_line(const char *line, const char *stream, const char *tag, const char *content)
{
	g_assert_true(g_regex_match_simple(ORACLE_RE, line, 0, 0));
	g_assert_cmpint(line[35], ==, ' ');
	g_assert_cmpmem(line + 36, 6, stream, 6);
	g_assert_cmpstr(line + 43 + 2, ==, content);
	g_assert_cmpint(line[43], ==, tag[0]);
	g_assert_cmpint(line[44], ==, ' ');
}

static char *line_timestamp(const char *line)
{
	return g_strndup(line, LOG_K8S_TIMESTAMP_LEN);
}

/* ---- pure helpers ------------------------------------------------------- */

static char *timestamp_in(const char *tz, gint64 sec, long nsec)
{
	struct timespec ts = {.tv_sec = sec, .tv_nsec = nsec};
	g_autofree char *old = g_strdup(g_getenv("TZ"));
	char *out;

	g_setenv("TZ", tz, TRUE);
	tzset();
	out = log_k8s_timestamp(&ts);
	if (old != NULL)
		g_setenv("TZ", old, TRUE);
	else
		g_unsetenv("TZ");
	tzset();
	g_assert_cmpuint(strlen(out), ==, LOG_K8S_TIMESTAMP_LEN);
	return out;
}

static void test_timestamp_zones(void)
{
	/* 2026-08-19T12:03:07Z */
	g_autoptr(GDateTime) dt = g_date_time_new_utc(2026, 8, 19, 12, 3, 7);
	gint64 sec = g_date_time_to_unix(dt);
	g_autofree char *utc = timestamp_in("UTC", sec, 123456789);
	g_autofree char *kolkata = NULL;
	g_autofree char *newfoundland = timestamp_in("NST+3:30", sec, 5);

	g_assert_cmpstr(utc, ==, "2026-08-19T12:03:07.123456789+00:00");
	/* A POSIX TZ string needs no tzdata: UTC-3:30, so "-03:30". */
	g_assert_cmpstr(newfoundland, ==, "2026-08-19T08:33:07.000000005-03:30");

	if (!g_file_test("/usr/share/zoneinfo/Asia/Kolkata", G_FILE_TEST_EXISTS)) {
		g_test_skip("no tzdata for Asia/Kolkata");
		return;
	}
	kolkata = timestamp_in("Asia/Kolkata", sec, 0);
	g_assert_cmpstr(kolkata, ==, "2026-08-19T17:33:07.000000000+05:30");
}

static void test_next_line(void)
{
	gboolean partial = FALSE;

	g_assert_cmpuint(log_next_line((const guint8 *)"hello\nwor", 9, &partial), ==, 6);
	g_assert_false(partial);
	g_assert_cmpuint(log_next_line((const guint8 *)"wor", 3, &partial), ==, 3);
	g_assert_true(partial);
	g_assert_cmpuint(log_next_line((const guint8 *)"\n", 1, &partial), ==, 1);
	g_assert_false(partial);
	g_assert_cmpuint(log_next_line((const guint8 *)"a\r\nb", 4, &partial), ==, 3);
	g_assert_false(partial);
}

static void test_append_line(void)
{
	g_autoptr(GString) out = g_string_new(NULL);
	const char *ts = "2026-08-19T14:03:07.123456789+02:00";

	log_k8s_append_line(out, ts, FALSE, FALSE, (const guint8 *)"hello\n", 6);
	log_k8s_append_line(out, ts, TRUE, TRUE, (const guint8 *)"wor", 3);
	g_assert_cmpstr(out->str, ==,
			"2026-08-19T14:03:07.123456789+02:00 stdout F hello\n"
			"2026-08-19T14:03:07.123456789+02:00 stderr P wor\n");
	/* conmon-interface.md#log-size-limits-and-rotation: the cost is exactly what the line adds to the file. */
	g_assert_cmpuint(log_k8s_line_cost(6, FALSE) + log_k8s_line_cost(3, TRUE), ==, out->len);
}

static void test_parse_priority(void)
{
	int prio = -1;

	g_assert_true(log_journald_parse_priority((const guint8 *)"<3>x", 4, &prio));
	g_assert_cmpint(prio, ==, 3);
	g_assert_true(log_journald_parse_priority((const guint8 *)"<0>", 3, &prio));
	g_assert_cmpint(prio, ==, 0);
	g_assert_true(log_journald_parse_priority((const guint8 *)"<7>", 3, &prio));
	g_assert_cmpint(prio, ==, 7);
	g_assert_false(log_journald_parse_priority((const guint8 *)"<8>x", 4, &prio));
	g_assert_false(log_journald_parse_priority((const guint8 *)"<3", 2, &prio));
	g_assert_false(log_journald_parse_priority((const guint8 *)" <3>", 4, &prio));
	g_assert_false(log_journald_parse_priority((const guint8 *)"<33>", 4, &prio));
	g_assert_cmpint(prio, ==, 7);
}

/* ---- k8s-file ----------------------------------------------------------- */

typedef struct {
	char *dir;
	char *path;
	MonitorConfig *cfg;
	LogSet *ls;
} K8sFixture;

static void k8s_setup(K8sFixture *fx, gconstpointer data)
{
	(void)data;
	fx->dir = make_tmp_dir();
	fx->path = g_build_filename(fx->dir, "ctr.log", NULL);
	fx->cfg = k8s_config(fx->path);
}

/* Tests adjust fx->cfg first, then start. */
static void k8s_start(K8sFixture *fx)
{
	fx->ls = new_set(fx->cfg);
	g_assert_cmpint(fx->cfg->k8s_log_fd, ==, -1); /* taken over */
}

static void k8s_teardown(K8sFixture *fx, gconstpointer data)
{
	g_autoptr(GDir) d = NULL;
	const char *name;

	(void)data;
	log_set_free(fx->ls);
	monitor_config_free(fx->cfg);
	d = g_dir_open(fx->dir, 0, NULL);
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *p = g_build_filename(fx->dir, name, NULL);
		g_unlink(p);
	}
	g_rmdir(fx->dir);
	g_free(fx->dir);
	g_free(fx->path);
}

static void test_k8s_example(K8sFixture *fx, gconstpointer data)
{
	(void)data;
	k8s_start(fx);
	put(fx->ls, FALSE, "hello\nwor");
	put(fx->ls, FALSE, "ld\n");

	g_auto(GStrv) lines = read_lines(fx->path);
	g_assert_cmpuint(g_strv_length(lines), ==, 3);
	assert_line(lines[0], "stdout", "F", "hello");
	assert_line(lines[1], "stdout", "P", "wor");
	assert_line(lines[2], "stdout", "F", "ld");

	/* conmon-interface.md#k8s-file-format: one timestamp per chunk. */
	g_autofree char *t0 = line_timestamp(lines[0]);
	g_autofree char *t1 = line_timestamp(lines[1]);
	g_assert_cmpstr(t0, ==, t1);
}

static void test_k8s_every_line(K8sFixture *fx, gconstpointer data)
{
	(void)data;
	k8s_start(fx);
	put(fx->ls, FALSE, "one\n\ntwo\r\nthree");
	put(fx->ls, TRUE, "err\n");
	put(fx->ls, TRUE, "\n");

	g_autofree char *text = read_file(fx->path);
	g_auto(GStrv) lines = read_lines(fx->path);
	g_assert_cmpuint(g_strv_length(lines), ==, 6);
	assert_line(lines[0], "stdout", "F", "one");
	assert_line(lines[1], "stdout", "F", "");
	assert_line(lines[2], "stdout", "F", "two\r");
	assert_line(lines[3], "stdout", "P", "three");
	assert_line(lines[4], "stderr", "F", "err");
	assert_line(lines[5], "stderr", "F", "");
	/* conmon-interface.md#log-size-limits-and-rotation: exactly the bytes the costs say. */
	g_assert_cmpuint(strlen(text), ==,
			 log_k8s_line_cost(4, FALSE) + log_k8s_line_cost(1, FALSE) + log_k8s_line_cost(5, FALSE) +
			     log_k8s_line_cost(5, TRUE) + log_k8s_line_cost(4, FALSE) + log_k8s_line_cost(1, FALSE));
}

static void test_k8s_one_timestamp(K8sFixture *fx, gconstpointer data)
{
	g_autoptr(GString) chunk = g_string_new(NULL);

	(void)data;
	k8s_start(fx);
	for (int i = 0; i < 500; i++)
		g_string_append_printf(chunk, "line %d\n", i);
	g_assert_cmpuint(chunk->len, <=, LOG_CHUNK_MAX);
	put(fx->ls, FALSE, chunk->str);

	g_auto(GStrv) lines = read_lines(fx->path);
	g_assert_cmpuint(g_strv_length(lines), ==, 500);
	g_autofree char *first = line_timestamp(lines[0]);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_autofree char *ts = line_timestamp(lines[i]);
		g_autofree char *content = g_strdup_printf("line %u", i);

		assert_line(lines[i], "stdout", "F", content);
		g_assert_cmpstr(ts, ==, first);
	}
}

static void test_k8s_size_max_10(K8sFixture *fx, gconstpointer data)
{
	g_autofree char *tmp = g_strconcat(fx->path, ".tmp", NULL);

	(void)data;
	fx->cfg->log_size_max = 10;
	k8s_start(fx);
	for (int i = 1; i <= 100; i++) {
		g_autofree char *chunk = g_strdup_printf("%d\n", i);
		put(fx->ls, FALSE, chunk);
	}
	/* conmon-interface.md#conformance-checks item 20: only the last line is left. */
	g_auto(GStrv) lines = read_lines(fx->path);
	g_assert_cmpuint(g_strv_length(lines), ==, 1);
	assert_line(lines[0], "stdout", "F", "100");
	g_assert_false(exists(tmp));
}

static void test_k8s_size_max_8192(K8sFixture *fx, gconstpointer data)
{
	gint64 max_seen = 0;
	guint reopens = 0;

	(void)data;
	fx->cfg->log_size_max = 8192;
	k8s_start(fx);
	for (int i = 0; i < 400; i++) {
		/* Lines of growing length, several per chunk. */
		g_autofree char *pad = g_strnfill((gsize)(i % 97), 'x');
		g_autofree char *chunk = g_strdup_printf("%d %s\n%d more\n", i, pad, i);
		gint64 before = file_size(fx->path);

		put(fx->ls, i % 3 == 0, chunk);
		gint64 after = file_size(fx->path);
		max_seen = MAX(max_seen, after);
		reopens += after < before;
		/* Never past the limit plus one line (conmon-interface.md#conformance-checks item 20). */
		g_assert_cmpint(after, <=, 8192 + (gint64)log_k8s_line_cost(strlen(chunk), FALSE));
	}
	g_assert_cmpint(max_seen, <=, 8192);
	g_assert_cmpuint(reopens, >, 5);

	g_auto(GStrv) lines = read_lines(fx->path);
	for (guint i = 0; lines[i] != NULL; i++)
		g_assert_true(g_regex_match_simple(ORACLE_RE, lines[i], 0, 0));
}

static void test_k8s_existing_size_counts(K8sFixture *fx, gconstpointer data)
{
	(void)data;
	/* 100 bytes already there (conmon-interface.md#log-path-values: appended to, and counted). */
	g_autofree char *old = g_strnfill(100, 'z');
	old[99] = '\n';
	monitor_config_free(fx->cfg);
	g_assert_true(g_file_set_contents(fx->path, old, -1, NULL));
	fx->cfg = k8s_config(fx->path);
	g_assert_cmpint(fx->cfg->k8s_log_size, ==, 100);
	fx->cfg->log_size_max = 150;
	k8s_start(fx);

	put(fx->ls, FALSE, "ab\n"); /* 100 + 48 <= 150: appended */
	g_assert_cmpint(file_size(fx->path), ==, 148);
	put(fx->ls, FALSE, "c\n"); /* 148 + 47 > 150: truncated first */
	g_auto(GStrv) lines = read_lines(fx->path);
	g_assert_cmpuint(g_strv_length(lines), ==, 1);
	assert_line(lines[0], "stdout", "F", "c");
}

static void test_k8s_global_max(K8sFixture *fx, gconstpointer data)
{
	(void)data;
	fx->cfg->log_global_size_max = 100;
	k8s_start(fx);
	/* Each line costs 47: the check before the third sees 94 < 100, so
	 * the total overshoots by one line, then everything is dropped. */
	put(fx->ls, FALSE, "1\n2\n");
	put(fx->ls, FALSE, "3\n");
	put(fx->ls, FALSE, "4\n5\n");
	put(fx->ls, TRUE, "6\n");

	g_auto(GStrv) lines = read_lines(fx->path);
	g_assert_cmpuint(g_strv_length(lines), ==, 3);
	assert_line(lines[2], "stdout", "F", "3");
}

static void test_k8s_global_not_reset(K8sFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	(void)data;
	fx->cfg->log_global_size_max = 100;
	fx->cfg->log_size_max = 50;
	k8s_start(fx);
	put(fx->ls, FALSE, "1\n2\n3\n4\n");
	g_assert_true(log_set_reopen(fx->ls, &error));
	put(fx->ls, FALSE, "5\n");
	/* Reopens (size and ctl) reset the file's counter, not the total. */
	g_auto(GStrv) lines = read_lines(fx->path);
	g_assert_cmpuint(g_strv_length(lines), ==, 0);
}

/* conmon-interface.md#log-reopen, #conformance-checks item 21: rm the log, reopen; the path reappears through a
 * rename (IN_MOVED_TO) and later output lands in it. */
static void test_k8s_reopen_after_rm(K8sFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	ck_autofd ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	gboolean seen = FALSE;

	(void)data;
	k8s_start(fx);
	put(fx->ls, FALSE, "before\n");
	g_assert_no_errno(g_unlink(fx->path));
	g_assert_no_errno(inotify_add_watch(ifd, fx->dir, IN_CREATE | IN_MOVED_TO));

	g_assert_true(log_set_reopen(fx->ls, &error));
	g_assert_no_error(error);
	g_assert_true(exists(fx->path));

	ssize_t n = read(ifd, buf, sizeof buf);
	g_assert_cmpint(n, >, 0);
	for (char *p = buf; p < buf + n;) {
		const struct inotify_event *ev = (const struct inotify_event *)p;

		if (ev->len > 0 && g_str_equal(ev->name, "ctr.log") && (ev->mask & IN_MOVED_TO))
			seen = TRUE;
		p += sizeof *ev + ev->len;
	}
	g_assert_true(seen);

	put(fx->ls, FALSE, "after\n");
	g_auto(GStrv) lines = read_lines(fx->path);
	g_assert_cmpuint(g_strv_length(lines), ==, 1);
	assert_line(lines[0], "stdout", "F", "after");
}

static void test_k8s_reopen_truncates(K8sFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *rotated = g_strconcat(fx->path, ".1", NULL);

	(void)data;
	k8s_start(fx);
	put(fx->ls, FALSE, "old\n");
	g_assert_true(log_set_reopen(fx->ls, &error));
	g_assert_cmpint(file_size(fx->path), ==, 0);
	g_assert_cmpuint(file_mode(fx->path), ==, 0600);
	put(fx->ls, FALSE, "new\n");
	g_auto(GStrv) lines = read_lines(fx->path);
	g_assert_cmpuint(g_strv_length(lines), ==, 1);
	assert_line(lines[0], "stdout", "F", "new");
	g_assert_false(exists(rotated));
}

static void assert_only_line(const char *path, const char *content)
{
	g_auto(GStrv) lines = read_lines(path);

	g_assert_cmpuint(g_strv_length(lines), ==, 1);
	assert_line(lines[0], "stdout", "F", content);
}

static char *nth(const char *path, int i)
{
	return g_strdup_printf("%s.%d", path, i);
}

static void test_k8s_rotate(K8sFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *p1 = nth(fx->path, 1);
	g_autofree char *p2 = nth(fx->path, 2);
	g_autofree char *p3 = nth(fx->path, 3);
	g_autofree char *pnew = g_strconcat(fx->path, ".new", NULL);

	(void)data;
	fx->cfg->log_rotate = TRUE;
	k8s_start(fx);
	put(fx->ls, FALSE, "a\n");
	g_assert_true(log_set_reopen(fx->ls, &error));
	g_assert_no_error(error);
	put(fx->ls, FALSE, "b\n");
	/* conmon-interface.md#conformance-checks item 21: <log>.1 holds the earlier output, <log> the later. */
	assert_only_line(p1, "a");
	assert_only_line(fx->path, "b");
	g_assert_cmpuint(file_mode(fx->path), ==, 0600);

	/* N = 1 still shifts .1 to .2 (conmon-interface.md#log-size-limits-and-rotation quirk), and no further. */
	g_assert_true(log_set_reopen(fx->ls, &error));
	put(fx->ls, FALSE, "c\n");
	g_assert_true(log_set_reopen(fx->ls, &error));
	put(fx->ls, FALSE, "d\n");
	assert_only_line(p2, "b");
	assert_only_line(p1, "c");
	assert_only_line(fx->path, "d");
	g_assert_false(exists(p3));
	g_assert_false(exists(pnew));
}

static void test_k8s_rotate_max_files(K8sFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	(void)data;
	fx->cfg->log_rotate = TRUE;
	fx->cfg->log_max_files = 3;
	fx->cfg->log_size_max = 60; /* one line per file, by size */
	k8s_start(fx);
	for (int i = 0; i < 6; i++) {
		g_autofree char *chunk = g_strdup_printf("%d\n", i);
		put(fx->ls, FALSE, chunk);
	}
	assert_only_line(fx->path, "5");
	for (int i = 1; i <= 3; i++) {
		g_autofree char *p = nth(fx->path, i);
		g_autofree char *content = g_strdup_printf("%d", 5 - i);
		assert_only_line(p, content);
	}
	g_autofree char *p4 = nth(fx->path, 4);
	g_assert_false(exists(p4));
	g_assert_no_error(error);
}

static void test_k8s_rotate_refused(K8sFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *elsewhere = g_build_filename(fx->dir, "elsewhere", NULL);
	g_autofree char *p1 = nth(fx->path, 1);
	guint warnings_before = n_warnings;

	(void)data;
	fx->cfg->log_rotate = TRUE;
	k8s_start(fx);
	put(fx->ls, FALSE, "a\n");

	/* The log path became a symlink: refuse, keep writing the old fd. */
	g_assert_no_errno(g_rename(fx->path, elsewhere));
	g_assert_no_errno(symlink(elsewhere, fx->path));
	g_assert_false(log_set_reopen(fx->ls, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_PERMISSION);
	g_assert_false(exists(p1));
	put(fx->ls, FALSE, "b\n");
	g_auto(GStrv) lines = read_lines(elsewhere);
	g_assert_cmpuint(g_strv_length(lines), ==, 2);
	g_assert_cmpuint(n_warnings, ==, warnings_before); /* returned, not logged */
}

static void test_check_rotate_path(void)
{
	g_autofree char *dir = make_tmp_dir();
	g_autofree char *sub = g_build_filename(dir, "sub", NULL);
	g_autofree char *open_dir = g_build_filename(dir, "open", NULL);
	g_autofree char *link_dir = g_build_filename(dir, "link", NULL);
	g_autofree char *file = g_build_filename(sub, "ctr.log", NULL);
	g_autofree char *via_link = g_build_filename(link_dir, "ctr.log", NULL);
	g_autofree char *in_open = g_build_filename(open_dir, "ctr.log", NULL);
	g_autofree char *dotdot = g_strconcat(sub, "/../sub/ctr.log", NULL);
	char *allow_sub[] = {sub, NULL};
	char *allow_other[] = {open_dir, NULL};
	char *allow_parent[] = {dir, NULL};
	g_autoptr(GError) error = NULL;

	g_assert_no_errno(g_mkdir(sub, 0755));
	g_assert_no_errno(g_mkdir(open_dir, 0755));
	g_assert_no_errno(chmod(open_dir, 0777));
	g_assert_no_errno(symlink(sub, link_dir));

	/* A new file in a safe directory, with and without an allow-list. */
	g_assert_true(log_k8s_check_rotate_path(file, NULL, &error));
	g_assert_true(log_k8s_check_rotate_path(file, allow_sub, &error));
	g_assert_true(log_k8s_check_rotate_path(file, allow_parent, &error));
	g_assert_no_error(error);

	const struct {
		const char *path;
		char **allow;
	} refused[] = {
	    {dotdot, NULL},	    /* ".." */
	    {"../x/ctr.log", NULL}, /* ".." */
	    {file, allow_other},    /* not in the allow-list */
	    {in_open, NULL},	    /* world-writable directory */
	    {via_link, NULL},	    /* a symlink in the path */
	    {link_dir, NULL},	    /* the file itself is a symlink */
	};
	for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
		g_test_message("path '%s'", refused[i].path);
		g_assert_false(log_k8s_check_rotate_path(refused[i].path, refused[i].allow, &error));
		g_assert_error(error, CK_ERROR, CK_ERROR_PERMISSION);
		g_clear_error(&error);
	}

	/* An existing regular file passes whatever the directory. */
	g_assert_true(g_file_set_contents(in_open, "", 0, NULL));
	g_assert_true(log_k8s_check_rotate_path(in_open, NULL, &error));

	g_unlink(in_open);
	g_unlink(link_dir);
	g_rmdir(open_dir);
	g_rmdir(sub);
	g_rmdir(dir);
}

static void test_k8s_rotate_allowlist(K8sFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *p1 = nth(fx->path, 1);

	(void)data;
	fx->cfg->log_rotate = TRUE;
	fx->cfg->log_allowlist_dirs = g_new0(char *, 2);
	fx->cfg->log_allowlist_dirs[0] = g_strdup("/nonexistent-allowed");
	k8s_start(fx);
	put(fx->ls, FALSE, "a\n");

	/* The file is gone, so the directory is checked: not allowed. */
	g_assert_no_errno(g_unlink(fx->path));
	g_assert_false(log_set_reopen(fx->ls, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_PERMISSION);
	g_assert_false(exists(fx->path));
	g_assert_false(exists(p1));
}

static void test_k8s_rotate_allowlist_ok(K8sFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	(void)data;
	fx->cfg->log_rotate = TRUE;
	fx->cfg->log_allowlist_dirs = g_new0(char *, 2);
	fx->cfg->log_allowlist_dirs[0] = g_strdup(fx->dir);
	k8s_start(fx);
	put(fx->ls, FALSE, "a\n");
	g_assert_no_errno(g_unlink(fx->path));
	g_assert_true(log_set_reopen(fx->ls, &error));
	g_assert_no_error(error);
	put(fx->ls, FALSE, "b\n");
	assert_only_line(fx->path, "b");
}

/* conmon-interface.md#log-size-limits-and-rotation step 1: another process holds the lock, so the rotation is
 * skipped and writing goes on in the same file. */
static void test_k8s_rotate_locked(K8sFixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *p1 = nth(fx->path, 1);
	int ready[2], release[2];
	char c;

	(void)data;
	fx->cfg->log_rotate = TRUE;
	k8s_start(fx);
	put(fx->ls, FALSE, "a\n");
	g_assert_no_errno(pipe2(ready, O_CLOEXEC));
	g_assert_no_errno(pipe2(release, O_CLOEXEC));

	pid_t pid = fork();
	g_assert_no_errno(pid);
	if (pid == 0) {
		struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		int fd = open(fx->path, O_WRONLY | O_CLOEXEC);

		if (fd < 0 || fcntl(fd, F_SETLK, &lock) < 0 || write(ready[1], "x", 1) != 1)
			_exit(1);
		(void)!read(release[0], &c, 1);
		_exit(0);
	}
	g_assert_cmpint(read(ready[0], &c, 1), ==, 1);

	g_assert_true(log_set_reopen(fx->ls, &error));
	g_assert_no_error(error);
	g_assert_false(exists(p1));
	put(fx->ls, FALSE, "b\n");

	g_assert_cmpint(write(release[1], "x", 1), ==, 1);
	int status;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	g_auto(GStrv) lines = read_lines(fx->path);
	g_assert_cmpuint(g_strv_length(lines), ==, 2);
	for (int i = 0; i < 2; i++) {
		close(ready[i]);
		close(release[i]);
	}
}

static void test_k8s_write_error_warns_once(K8sFixture *fx, gconstpointer data)
{
	guint before = n_warnings;

	(void)data;
	/* A read-only fd: every write fails with EBADF. */
	close(fx->cfg->k8s_log_fd);
	fx->cfg->k8s_log_fd = open(fx->path, O_RDONLY | O_CLOEXEC);
	k8s_start(fx);
	put(fx->ls, FALSE, "x\n");
	put(fx->ls, FALSE, "y\n");
	log_set_finish(fx->ls);
	g_assert_cmpuint(n_warnings, ==, before + 1);
}

static void test_k8s_finish_syncs(K8sFixture *fx, gconstpointer data)
{
	guint before = n_warnings;

	(void)data;
	fx->cfg->no_sync_log = FALSE;
	k8s_start(fx);
	put(fx->ls, FALSE, "x\n");
	log_set_finish(fx->ls);
	g_assert_cmpuint(n_warnings, ==, before);
	assert_only_line(fx->path, "x");
}

static void test_no_driver(void)
{
	g_autoptr(MonitorConfig) cfg = g_new0(MonitorConfig, 1);
	g_autoptr(GError) error = NULL;

	/* none/off/null and passthrough: nothing to write to (conmon-interface.md#passthrough-and-none). */
	cfg->k8s_log_fd = -1;
	g_autoptr(LogSet) ls = new_set(cfg);
	put(ls, FALSE, "ignored\n");
	g_assert_true(log_set_reopen(ls, &error));
	g_assert_no_error(error);
	log_set_finish(ls);

	/* k8s-file without an open fd is a caller bug, reported. */
	cfg->use_k8s_file = TRUE;
	g_assert_null(log_set_new(cfg, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
}

/* ---- journald ----------------------------------------------------------- */

typedef struct {
	int sock; /* our stand-in for journald, -1 when skipped */
	gboolean bound;
	gboolean made_dir;
	MonitorConfig *cfg;
	LogSet *ls;
} JFixture;

/* TRUE when a live process listens on path: then it is not ours to take. */
static gboolean journal_is_live(void)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET};
	ck_autofd fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	g_assert_no_errno(fd);
	return connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
}

static int bind_journal(JFixture *fx)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET};
	int fd;

	if (!g_file_test(JOURNAL_DIR, G_FILE_TEST_IS_DIR)) {
		if (g_mkdir_with_parents(JOURNAL_DIR, 0755) < 0)
			return -1;
		fx->made_dir = TRUE;
	}
	/* A leftover from an aborted run (nobody listening) is ours to reuse. */
	if (exists(JOURNAL_SOCKET) && journal_is_live())
		return -1;
	g_unlink(JOURNAL_SOCKET);

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	g_assert_no_errno(fd);
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void j_setup(JFixture *fx, gconstpointer data)
{
	(void)data;
	fx->sock = bind_journal(fx);
	fx->bound = fx->sock >= 0;
	fx->cfg = g_new0(MonitorConfig, 1);
	fx->cfg->k8s_log_fd = -1;
	fx->cfg->use_journald = TRUE;
	fx->cfg->cid = g_strdup(CID);
}

static gboolean j_start(JFixture *fx)
{
	if (fx->sock < 0) {
		/* Only a live journald is a reason of the host (tests/summarize.py
		 * allows it); anything else is a test that should have run. */
		if (exists(JOURNAL_SOCKET) && journal_is_live())
			g_test_skip("a live journald owns " JOURNAL_SOCKET);
		else
			g_test_skip("cannot bind " JOURNAL_SOCKET " (not root?)");
		return FALSE;
	}
	fx->ls = new_set(fx->cfg);
	return TRUE;
}

static void j_teardown(JFixture *fx, gconstpointer data)
{
	(void)data;
	log_set_free(fx->ls);
	monitor_config_free(fx->cfg);
	ck_clear_fd(&fx->sock);
	if (fx->bound)
		g_unlink(JOURNAL_SOCKET);
	if (fx->made_dir)
		g_rmdir(JOURNAL_DIR);
}

/* One record as sent: the fields in order, values as bytes. */
typedef struct {
	GPtrArray *keys;   /* char * */
	GPtrArray *values; /* GBytes * */
	GArray *binary;	   /* gboolean: sent in the length-prefixed form */
} Record;

static void record_free(gpointer p)
{
	Record *r = p;

	g_ptr_array_unref(r->keys);
	g_ptr_array_unref(r->values);
	g_array_unref(r->binary);
	g_free(r);
}

/* The journal's native protocol: "KEY=VALUE\n", or, for values with a
 * newline, "KEY\n" + 64-bit little-endian length + value + "\n". */
static Record *parse_datagram(const guint8 *d, gsize n)
{
	Record *r = g_new0(Record, 1);

	r->keys = g_ptr_array_new_with_free_func(g_free);
	r->values = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	r->binary = g_array_new(FALSE, FALSE, sizeof(gboolean));
	for (gsize i = 0; i < n;) {
		const guint8 *nl = memchr(d + i, '\n', n - i);
		const guint8 *eq = memchr(d + i, '=', n - i);
		gboolean binary = eq == NULL || eq > nl;

		g_assert_nonnull(nl);
		g_array_append_val(r->binary, binary);
		if (!binary) {
			g_ptr_array_add(r->keys, g_strndup((const char *)d + i, (gsize)(eq - d) - i));
			g_ptr_array_add(r->values, g_bytes_new(eq + 1, (gsize)(nl - eq) - 1));
			i = (gsize)(nl - d) + 1;
			continue;
		}
		guint64 len;
		g_ptr_array_add(r->keys, g_strndup((const char *)d + i, (gsize)(nl - d) - i));
		i = (gsize)(nl - d) + 1;
		g_assert_cmpuint(i + 8, <=, n);
		memcpy(&len, d + i, 8);
		len = GUINT64_FROM_LE(len);
		i += 8;
		g_assert_cmpuint(i + len + 1, <=, n);
		g_ptr_array_add(r->values, g_bytes_new(d + i, len));
		g_assert_cmpint(d[i + len], ==, '\n');
		i += len + 1;
	}
	return r;
}

/* Everything sent since the last call. */
static GPtrArray *receive(JFixture *fx)
{
	GPtrArray *records = g_ptr_array_new_with_free_func(record_free);
	g_autofree guint8 *buf = g_malloc(1 << 20);

	for (;;) {
		ssize_t n = recv(fx->sock, buf, 1 << 20, 0);

		if (n < 0) {
			g_assert_cmpint(errno, ==, EAGAIN);
			return records;
		}
		g_ptr_array_add(records, parse_datagram(buf, (gsize)n));
	}
}

/* Asserts r's fields, in order: "KEY=VALUE" strings, with "\n" allowed in
 * values. */
static void assert_record(const Record *r, const char *const *expected)
{
	guint n = g_strv_length((char **)expected);

	for (guint i = 0; i < MIN(n, r->keys->len); i++) {
		const char *eq = strchr(expected[i], '=');
		g_autofree char *key = g_strndup(expected[i], (gsize)(eq - expected[i]));
		gsize len;
		const void *v = g_bytes_get_data(g_ptr_array_index(r->values, i), &len);

		g_assert_cmpstr(g_ptr_array_index(r->keys, i), ==, key);
		g_assert_cmpmem(v, len, eq + 1, strlen(eq + 1));
	}
	g_assert_cmpuint(r->keys->len, ==, n);
}

static GPtrArray *put_and_receive(JFixture *fx, gboolean is_stderr, const char *s)
{
	put(fx->ls, is_stderr, s);
	return receive(fx);
}

#define REC(recs, i) ((const Record *)g_ptr_array_index((recs), (i)))

static void test_j_fields_minimal(JFixture *fx, gconstpointer data)
{
	(void)data;
	if (!j_start(fx))
		return;
	g_autoptr(GPtrArray) recs = put_and_receive(fx, FALSE, "hello\n");
	g_assert_cmpuint(recs->len, ==, 1);
	/* libsystemd sends a value with "\n" length-prefixed, others as
	 * KEY=VALUE lines: proof that the record went through it. */
	g_assert_true(g_array_index(REC(recs, 0)->binary, gboolean, 0));
	g_assert_false(g_array_index(REC(recs, 0)->binary, gboolean, 1));
	/* No tag, no name: the identifier is the 12-character ID. */
	assert_record(REC(recs, 0),
		      (const char *const[]){"MESSAGE=hello\n", "CONTAINER_ID_FULL=" CID, "PRIORITY=6",
					    "CONTAINER_ID=" SHORT_ID, "SYSLOG_IDENTIFIER=" SHORT_ID, NULL});

	g_autoptr(GPtrArray) errs = put_and_receive(fx, TRUE, "bad\n");
	assert_record(REC(errs, 0),
		      (const char *const[]){"MESSAGE=bad\n", "CONTAINER_ID_FULL=" CID, "PRIORITY=3",
					    "CONTAINER_ID=" SHORT_ID, "SYSLOG_IDENTIFIER=" SHORT_ID, NULL});
}

static void test_j_fields_all(JFixture *fx, gconstpointer data)
{
	(void)data;
	fx->cfg->name = g_strdup("web");
	fx->cfg->log_tag = g_strdup("mytag");
	fx->cfg->log_labels = g_strsplit("A=1,MY_LABEL=two words", ",", -1);
	if (!j_start(fx))
		return;
	g_autoptr(GPtrArray) recs = put_and_receive(fx, FALSE, "x");
	g_assert_cmpuint(recs->len, ==, 0); /* held back */
	log_set_finish(fx->ls);
	g_autoptr(GPtrArray) flushed = receive(fx);
	g_assert_cmpuint(flushed->len, ==, 1);
	assert_record(REC(flushed, 0),
		      (const char *const[]){"MESSAGE=x", "CONTAINER_ID_FULL=" CID, "PRIORITY=6",
					    "CONTAINER_ID=" SHORT_ID, "CONTAINER_TAG=mytag", "CONTAINER_NAME=web",
					    "SYSLOG_IDENTIFIER=mytag", "CONTAINER_PARTIAL_MESSAGE=true", "A=1",
					    "MY_LABEL=two words", NULL});
}

static void test_j_name_only(JFixture *fx, gconstpointer data)
{
	(void)data;
	fx->cfg->name = g_strdup("web");
	if (!j_start(fx))
		return;
	g_autoptr(GPtrArray) recs = put_and_receive(fx, FALSE, "a\nb\n");
	g_assert_cmpuint(recs->len, ==, 2);
	assert_record(REC(recs, 1), (const char *const[]){"MESSAGE=b\n", "CONTAINER_ID_FULL=" CID, "PRIORITY=6",
							  "CONTAINER_ID=" SHORT_ID, "CONTAINER_NAME=web",
							  "SYSLOG_IDENTIFIER=web", NULL});
}

static void assert_message(const Record *r, const char *message, const char *priority)
{
	gsize len;
	const void *v = g_bytes_get_data(g_ptr_array_index(r->values, 0), &len);
	const void *p = g_bytes_get_data(g_ptr_array_index(r->values, 2), NULL);

	g_assert_cmpstr(g_ptr_array_index(r->keys, 0), ==, "MESSAGE");
	g_assert_cmpmem(v, len, message, strlen(message));
	g_assert_cmpstr(g_ptr_array_index(r->keys, 2), ==, "PRIORITY");
	g_assert_cmpmem(p, 1, priority, 1);
}

static gboolean is_partial(const Record *r)
{
	for (guint i = 0; i < r->keys->len; i++)
		if (g_str_equal(g_ptr_array_index(r->keys, i), "CONTAINER_PARTIAL_MESSAGE"))
			return TRUE;
	return FALSE;
}

static void test_j_priority(JFixture *fx, gconstpointer data)
{
	(void)data;
	if (!j_start(fx))
		return;
	g_autoptr(GPtrArray) recs = put_and_receive(fx, FALSE, "<3>boom\n<8>no\na<1>b\n<0>\n<7>x\n");
	g_assert_cmpuint(recs->len, ==, 5);
	assert_message(REC(recs, 0), "boom\n", "3");
	assert_message(REC(recs, 1), "<8>no\n", "6");
	assert_message(REC(recs, 2), "a<1>b\n", "6");
	assert_message(REC(recs, 3), "\n", "0");
	assert_message(REC(recs, 4), "x\n", "7");

	/* A prefix split across chunks still starts a fresh line. */
	g_autoptr(GPtrArray) none = put_and_receive(fx, TRUE, "<2");
	g_assert_cmpuint(none->len, ==, 0);
	g_autoptr(GPtrArray) joined = put_and_receive(fx, TRUE, ">split\n");
	g_assert_cmpuint(joined->len, ==, 1);
	assert_message(REC(joined, 0), "split\n", "2");
}

static void test_j_priority_continued(JFixture *fx, gconstpointer data)
{
	g_autofree char *big = g_strnfill(LOG_CHUNK_MAX, 'p');

	(void)data;
	if (!j_start(fx))
		return;
	/* A full chunk without "\n" does not fit the buffer: it goes out as
	 * a partial record, and its continuation is not a fresh line. */
	memcpy(big, "<1>", 3);
	g_autoptr(GPtrArray) first = put_and_receive(fx, FALSE, big);
	g_assert_cmpuint(first->len, ==, 1);
	g_assert_true(is_partial(REC(first, 0)));
	assert_message(REC(first, 0), big + 3, "1");

	g_autoptr(GPtrArray) rest = put_and_receive(fx, FALSE, "<2>end\n");
	g_assert_cmpuint(rest->len, ==, 1);
	g_assert_false(is_partial(REC(rest, 0)));
	assert_message(REC(rest, 0), "<2>end\n", "6");
}

static void test_j_partial_buffering(JFixture *fx, gconstpointer data)
{
	(void)data;
	if (!j_start(fx))
		return;
	g_autoptr(GPtrArray) a = put_and_receive(fx, FALSE, "par");
	g_autoptr(GPtrArray) b = put_and_receive(fx, TRUE, "err\n");
	g_autoptr(GPtrArray) c = put_and_receive(fx, FALSE, "tial\nnext");
	g_assert_cmpuint(a->len, ==, 0);
	g_assert_cmpuint(b->len, ==, 1);
	assert_message(REC(b, 0), "err\n", "3");
	/* One buffer per stream; stderr did not disturb stdout's. */
	g_assert_cmpuint(c->len, ==, 1);
	assert_message(REC(c, 0), "partial\n", "6");
	g_assert_false(is_partial(REC(c, 0)));

	/* conmon-interface.md#end-of-output: at exit the held-back "next" goes out, flagged partial. */
	log_set_finish(fx->ls);
	g_autoptr(GPtrArray) d = receive(fx);
	g_assert_cmpuint(d->len, ==, 1);
	assert_message(REC(d, 0), "next", "6");
	g_assert_true(is_partial(REC(d, 0)));
}

static void test_j_long_line(JFixture *fx, gconstpointer data)
{
	const gsize total = 65535;
	gsize received = 0;
	guint n_records = 0;

	(void)data;
	if (!j_start(fx))
		return;
	/* 65535 '#' without "\n", in 8192-byte chunks as a pipe gives them. */
	for (gsize off = 0; off < total; off += LOG_CHUNK_MAX) {
		gsize n = MIN(LOG_CHUNK_MAX, total - off);
		g_autofree char *chunk = g_strnfill(n, '#');
		g_autoptr(GPtrArray) recs = put_and_receive(fx, FALSE, chunk);

		for (guint i = 0; i < recs->len; i++) {
			g_assert_true(is_partial(REC(recs, i)));
			received += g_bytes_get_size(g_ptr_array_index(REC(recs, i)->values, 0));
			n_records++;
		}
	}
	log_set_finish(fx->ls);
	g_autoptr(GPtrArray) last = receive(fx);
	for (guint i = 0; i < last->len; i++) {
		g_assert_true(is_partial(REC(last, i)));
		received += g_bytes_get_size(g_ptr_array_index(REC(last, i)->values, 0));
		n_records++;
	}
	g_assert_cmpuint(n_records, >, 1);
	g_assert_cmpuint(received, ==, total);
}

static void test_j_no_partial_flag(JFixture *fx, gconstpointer data)
{
	(void)data;
	fx->cfg->no_container_partial_message = TRUE;
	if (!j_start(fx))
		return;
	put(fx->ls, FALSE, "tail");
	log_set_finish(fx->ls);
	g_autoptr(GPtrArray) recs = receive(fx);
	g_assert_cmpuint(recs->len, ==, 1);
	assert_message(REC(recs, 0), "tail", "6");
	g_assert_false(is_partial(REC(recs, 0)));
}

static void test_j_with_k8s(JFixture *fx, gconstpointer data)
{
	g_autofree char *dir = make_tmp_dir();
	g_autofree char *path = g_build_filename(dir, "ctr.log", NULL);
	g_autoptr(MonitorConfig) k8s = k8s_config(path);

	(void)data;
	/* -l journald -l k8s-file:<path>: both drivers get every chunk. */
	fx->cfg->use_k8s_file = TRUE;
	fx->cfg->k8s_log_path = g_strdup(path);
	fx->cfg->k8s_log_fd = ck_steal_fd(&k8s->k8s_log_fd);
	fx->cfg->no_sync_log = TRUE;
	if (j_start(fx)) {
		g_autoptr(GPtrArray) recs = put_and_receive(fx, FALSE, "both\n");
		g_assert_cmpuint(recs->len, ==, 1);
		assert_only_line(path, "both");
	}
	g_unlink(path);
	g_rmdir(dir);
}

static void test_j_send_failure_warns_once(JFixture *fx, gconstpointer data)
{
	guint before = n_warnings;

	(void)data;
	if (!j_start(fx))
		return;
	/* journald died and left its socket file: sends are refused and
	 * the records lost, with one warning. (A missing socket file is
	 * not even an error for libsystemd: no journal, no logging.) */
	ck_clear_fd(&fx->sock);
	put(fx->ls, FALSE, "lost 1\n");
	put(fx->ls, FALSE, "lost 2\n");
	g_assert_cmpuint(n_warnings, ==, before + 1);
}

#define ADD_K8S(path, fn) g_test_add(path, K8sFixture, NULL, k8s_setup, fn, k8s_teardown)
#define ADD_J(path, fn) g_test_add(path, JFixture, NULL, j_setup, fn, j_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	umask(022);
	ck_log_add_sink(count_warnings, NULL);

	g_test_add_func("/conmon-logging/timestamp/zones", test_timestamp_zones);
	g_test_add_func("/conmon-logging/split/next-line", test_next_line);
	g_test_add_func("/conmon-logging/k8s/append-line", test_append_line);
	g_test_add_func("/conmon-logging/journald/parse-priority", test_parse_priority);
	ADD_K8S("/conmon-logging/k8s/example", test_k8s_example);
	ADD_K8S("/conmon-logging/k8s/every-line", test_k8s_every_line);
	ADD_K8S("/conmon-logging/k8s/one-timestamp-per-chunk", test_k8s_one_timestamp);
	ADD_K8S("/conmon-logging/k8s/size-max-10", test_k8s_size_max_10);
	ADD_K8S("/conmon-logging/k8s/size-max-8192", test_k8s_size_max_8192);
	ADD_K8S("/conmon-logging/k8s/existing-size-counts", test_k8s_existing_size_counts);
	ADD_K8S("/conmon-logging/k8s/global-max", test_k8s_global_max);
	ADD_K8S("/conmon-logging/k8s/global-max-not-reset", test_k8s_global_not_reset);
	ADD_K8S("/conmon-logging/k8s/reopen-after-rm", test_k8s_reopen_after_rm);
	ADD_K8S("/conmon-logging/k8s/reopen-truncates", test_k8s_reopen_truncates);
	ADD_K8S("/conmon-logging/k8s/rotate", test_k8s_rotate);
	ADD_K8S("/conmon-logging/k8s/rotate-max-files", test_k8s_rotate_max_files);
	ADD_K8S("/conmon-logging/k8s/rotate-refused-symlink", test_k8s_rotate_refused);
	g_test_add_func("/conmon-logging/k8s/rotate-path-checks", test_check_rotate_path);
	ADD_K8S("/conmon-logging/k8s/rotate-allowlist-refused", test_k8s_rotate_allowlist);
	ADD_K8S("/conmon-logging/k8s/rotate-allowlist-ok", test_k8s_rotate_allowlist_ok);
	ADD_K8S("/conmon-logging/k8s/rotate-locked", test_k8s_rotate_locked);
	ADD_K8S("/conmon-logging/k8s/write-error-warns-once", test_k8s_write_error_warns_once);
	ADD_K8S("/conmon-logging/k8s/finish-syncs", test_k8s_finish_syncs);
	g_test_add_func("/conmon-logging/no-driver", test_no_driver);
	ADD_J("/conmon-logging/journald/fields-minimal", test_j_fields_minimal);
	ADD_J("/conmon-logging/journald/fields-all", test_j_fields_all);
	ADD_J("/conmon-logging/journald/name-only", test_j_name_only);
	ADD_J("/conmon-logging/journald/priority", test_j_priority);
	ADD_J("/conmon-logging/journald/priority-continued", test_j_priority_continued);
	ADD_J("/conmon-logging/journald/partial-buffering", test_j_partial_buffering);
	ADD_J("/conmon-logging/journald/long-line", test_j_long_line);
	ADD_J("/conmon-logging/journald/no-partial-flag", test_j_no_partial_flag);
	ADD_J("/conmon-logging/journald/with-k8s", test_j_with_k8s);
	ADD_J("/conmon-logging/journald/send-failure-warns-once", test_j_send_failure_warns_once);
	return g_test_run();
}
