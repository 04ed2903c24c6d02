/* Unit tests: the monitor core (conmon-kata/monitor-core.c, monitor-exit.c)
 * driven by a FAKE backend (conmon-kata/monitor-backend.h).
 *
 * Each test parses and validates a real conmon command line (cli.c), runs
 * the core with a backend that plays a script (output, an OOM kill, an
 * exit or a signal, a failure at one step, a process that never ends) and
 * then reads what conmon's callers read (conmon-interface.md#sync-pipe-messages,
 * #exit-sequence, #timeout, #exit-command): the bytes on the sync pipe, the
 * exit files, the oom files, the pid file, the k8s log, the monitor's exit
 * status, the backend's calls in order, and the exit command's argv.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "conmon-kata/cli.h"
#include "conmon-kata/monitor-backend.h"
#include "conmon-kata/monitor-core.h"
#include "conmon-kata/monitor-exit.h"

#define CID "0123456789abcdef0123456789abcdef"
#define CUUID "5d6e7f80-1234-4abc-9def-0123456789ab"
#define FAKE_PID 4242

/* ---- the fake backend ------------------------------------------------------------ */

typedef enum { STEP_NONE, STEP_PREPARE, STEP_SPAWN, STEP_CREATED } Step;

typedef struct {
	/* the script */
	Step fail_at;	   /* this step fails with fail_message */
	int failed_status; /* what failed() returns */
	gboolean terminal;
	const char *out, *err; /* output once the process runs */
	gboolean oom;
	int exit_code, exit_signal;
	gboolean never_exits;
	const char *early_input; /* sent to the attach socket during spawn */
	gboolean resizes;	 /* writes resizes to the ctl FIFO during spawn */
	int exit_after_ms;	 /* the exit comes this much later */
	int signal_after_ms;	 /* the monitor gets SIGTERM this much later */
	guint later_sources[2];
	gboolean pending; /* what pending_size() said during spawn */
	int pending_rows, pending_cols;

	/* what the core did */
	const MonitorSink *sink;
	GString *calls;
	gboolean spawned;
	GString *input;
	gboolean input_closed;
	guint script_source;
} Fake;

static void record(Fake *f, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void record(Fake *f, const char *fmt, ...)
{
	va_list ap;

	if (f->calls->len > 0)
		g_string_append_c(f->calls, ' ');
	va_start(ap, fmt);
	g_string_append_vprintf(f->calls, fmt, ap);
	va_end(ap);
}

static gboolean fail(Fake *f, Step step, const char *name, GError **error)
{
	record(f, "%s", name);
	if (f->fail_at != step)
		return TRUE;
	g_set_error(error, CK_ERROR, CK_ERROR_FAILED, "%s: the fake says no", name);
	return FALSE;
}

static gboolean fake_prepare(gpointer self, GError **error)
{
	return fail(self, STEP_PREPARE, "prepare", error);
}

/* The process's life, once the main loop runs. */
static gboolean play_script(gpointer data)
{
	Fake *f = data;

	f->script_source = 0;
	if (f->out != NULL)
		f->sink->output(f->sink->core, FALSE, (const guint8 *)f->out, strlen(f->out));
	if (f->err != NULL)
		f->sink->output(f->sink->core, TRUE, (const guint8 *)f->err, strlen(f->err));
	if (f->oom)
		f->sink->oom(f->sink->core);
	if (!f->never_exits && f->exit_after_ms == 0)
		f->sink->exited(f->sink->core, f->exit_code, f->exit_signal);
	return G_SOURCE_REMOVE;
}

static gboolean exit_later(gpointer data)
{
	Fake *f = data;

	f->later_sources[0] = 0;
	f->sink->exited(f->sink->core, f->exit_code, f->exit_signal);
	return G_SOURCE_REMOVE;
}

static MonitorCore *current_core;

static gboolean signal_later(gpointer data)
{
	Fake *f = data;

	f->later_sources[1] = 0;
	monitor_core_signal(current_core, SIGTERM);
	return G_SOURCE_REMOVE;
}

static void write_ctl(const char *bundle, const char *line)
{
	g_autofree char *path = g_build_filename(bundle, "ctl", NULL);
	ck_autofd fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

	g_assert_no_errno(fd);
	g_assert_cmpint(write(fd, line, strlen(line)), ==, (ssize_t)strlen(line));
}

/* A client of the attach socket sends input before the process exists;
 * the core must keep it until spawn() has returned. */
static void send_early_input(Fake *f, const char *bundle)
{
	g_autofree char *path = g_build_filename(bundle, "attach", NULL);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	ck_autofd fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	g_assert_cmpuint(strlen(path), <, sizeof sa.sun_path);
	strcpy(sa.sun_path, path);
	g_assert_no_errno(connect(fd, (struct sockaddr *)&sa, sizeof sa));
	g_assert_cmpint(send(fd, f->early_input, strlen(f->early_input), 0), ==, (ssize_t)strlen(f->early_input));
	g_assert_no_errno(shutdown(fd, SHUT_WR));
	/* the core accepts the client and reads its input and its end now,
	 * while the process does not exist: none of it may reach us yet */
	for (int idle = 0; idle < 20;) {
		if (g_main_context_iteration(NULL, FALSE))
			idle = 0;
		else
			idle++, g_usleep(5000);
	}
	g_assert_cmpuint(f->input->len, ==, 0);
	g_assert_false(f->input_closed);
}

static const char *fake_bundle;

static gboolean fake_spawn(gpointer self, pid_t *out_pid, GError **error)
{
	Fake *f = self;

	if (!fail(f, STEP_SPAWN, "spawn", error))
		return FALSE;
	if (f->early_input != NULL)
		send_early_input(f, fake_bundle);
	if (f->resizes) {
		/* one the terminal is made with (the VM backend's exec), one
		 * that comes once the process exists */
		write_ctl(fake_bundle, "1 30 100\n");
		f->pending = f->sink->pending_size(f->sink->core, &f->pending_rows, &f->pending_cols);
		write_ctl(fake_bundle, "1 24 80\n");
	}
	f->script_source = g_idle_add(play_script, f);
	if (f->exit_after_ms > 0)
		f->later_sources[0] = g_timeout_add((guint)f->exit_after_ms, exit_later, f);
	if (f->signal_after_ms > 0)
		f->later_sources[1] = g_timeout_add((guint)f->signal_after_ms, signal_later, f);
	f->spawned = TRUE;
	*out_pid = FAKE_PID;
	return TRUE;
}

static gboolean fake_created(gpointer self, GError **error)
{
	return fail(self, STEP_CREATED, "created", error);
}

static int fake_failed(gpointer self, GError **error)
{
	Fake *f = self;

	record(f, "failed");
	if (f->script_source != 0)
		g_source_remove(f->script_source);
	f->script_source = 0;
	g_prefix_error(error, "worded: ");
	return f->failed_status;
}

static void fake_reported(gpointer self)
{
	record(self, "reported");
}

static gboolean fake_terminal(gpointer self)
{
	Fake *f = self;

	return f->terminal;
}

static void fake_write_stdin(gpointer self, const guint8 *data, gsize len)
{
	Fake *f = self;

	g_assert_true(f->spawned);
	g_string_append_len(f->input, (const char *)data, (gssize)len);
}

static void fake_close_stdin(gpointer self)
{
	Fake *f = self;

	g_assert_true(f->spawned);
	f->input_closed = TRUE;
}

static void fake_resize(gpointer self, int rows, int cols)
{
	record(self, "resize(%d,%d)", rows, cols);
}

static gboolean fake_kill(gpointer self, int sig)
{
	Fake *f = self;

	record(f, "kill(%d)", sig);
	/* a SIGTERM the process does not catch */
	if (sig == SIGTERM && !f->never_exits)
		f->sink->exited(f->sink->core, 0, SIGTERM);
	return TRUE;
}

static void fake_release(gpointer self, int exit_code)
{
	record(self, "release(%d)", exit_code);
}

static const MonitorBackend fake_backend = {
	.name = "fake",
	.prepare = fake_prepare,
	.spawn = fake_spawn,
	.created = fake_created,
	.failed = fake_failed,
	.reported = fake_reported,
	.terminal = fake_terminal,
	.write_stdin = fake_write_stdin,
	.close_stdin = fake_close_stdin,
	.resize = fake_resize,
	.kill = fake_kill,
	.release = fake_release,
};

/* ---- one monitor run ------------------------------------------------------------------ */

typedef struct {
	char *dir; /* everything under it */
	char *bundle, *persist, *exits, *sockets, *log, *pidfile, *process;
	int status;
	char *sync; /* every byte the core wrote to the sync pipe */
	double seconds;
	Fake fake;
} Run;

static GPtrArray *errors_logged;

static void capture_errors(CkLogLevel level, const char *msg, gpointer user_data)
{
	(void)user_data;
	if (level == CK_LOG_ERROR && errors_logged != NULL)
		g_ptr_array_add(errors_logged, g_strdup(msg));
}

static void run_init(Run *r)
{
	g_autoptr(GError) error = NULL;

	memset(r, 0, sizeof *r);
	r->dir = g_dir_make_tmp("test-conmon-monitor-XXXXXX", &error);
	g_assert_no_error(error);
	r->bundle = g_build_filename(r->dir, "bundle", NULL);
	r->persist = g_build_filename(r->dir, "persist", NULL);
	r->exits = g_build_filename(r->dir, "exits", NULL);
	r->sockets = g_build_filename(r->dir, "sockets", NULL);
	r->log = g_build_filename(r->dir, "ctr.log", NULL);
	r->pidfile = g_build_filename(r->dir, "pidfile", NULL);
	r->process = g_build_filename(r->dir, "process.json", NULL);
	for (const char *const *d = (const char *const[]){r->bundle, r->persist, r->exits, r->sockets, NULL}; *d; d++)
		g_assert_no_errno(g_mkdir(*d, 0700));
	g_assert_true(g_file_set_contents(r->process, "{\"args\": [\"true\"], \"cwd\": \"/\"}", -1, NULL));
	r->fake.calls = g_string_new(NULL);
	r->fake.input = g_string_new(NULL);
	g_clear_pointer(&errors_logged, g_ptr_array_unref);
	errors_logged = g_ptr_array_new_with_free_func(g_free);
}

static void run_clear(Run *r)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(ck_rm_rf(r->dir, &error));
	g_assert_no_error(error);
	g_free(r->dir);
	g_free(r->bundle);
	g_free(r->persist);
	g_free(r->exits);
	g_free(r->sockets);
	g_free(r->log);
	g_free(r->pidfile);
	g_free(r->process);
	g_free(r->sync);
	g_string_free(r->fake.calls, TRUE);
	g_string_free(r->fake.input, TRUE);
}

/* CRI-O's create command line (conmon-interface.md#example-invocations)
 * with `extra` appended; "@exec" adds an exec's options. */
static MonitorConfig *parse_config(Run *r, const char *const *extra)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *log_path = g_strconcat("k8s-file:", r->log, NULL);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	const char *const base[] = {"conmon",	 "--cid",
				    CID,	 "--cuuid",
				    CUUID,	 "--runtime",
				    "/bin/true", "--bundle",
				    r->bundle,	 "--container-pidfile",
				    r->pidfile,	 "--persist-dir",
				    r->persist,	 "--exit-dir",
				    r->exits,	 "--socket-dir-path",
				    r->sockets,	 "--log-path",
				    log_path,	 "--no-sync-log",
				    NULL};

	for (const char *const *a = base; *a != NULL; a++)
		g_ptr_array_add(argv, (char *)*a);
	for (const char *const *a = extra; a != NULL && *a != NULL; a++) {
		if (g_str_equal(*a, "@exec")) {
			g_ptr_array_add(argv, "--exec");
			g_ptr_array_add(argv, "--exec-process-spec");
			g_ptr_array_add(argv, r->process);
		} else {
			g_ptr_array_add(argv, (char *)*a);
		}
	}
	MonitorConfig *cfg = monitor_config_parse((int)argv->len, (char **)argv->pdata, &error);
	g_assert_no_error(error);
	g_assert_true(monitor_config_validate(cfg, &error));
	g_assert_no_error(error);
	return cfg;
}

static char *read_all(int fd)
{
	GString *s = g_string_new(NULL);
	char buf[4096];
	ssize_t n;

	while ((n = ck_read_retry(fd, buf, sizeof buf)) > 0)
		g_string_append_len(s, buf, n);
	g_assert_cmpint(n, ==, 0);
	return g_string_free(s, FALSE);
}

/* Runs the core once with the fake, to its end. */
static void run_monitor(Run *r, const char *const *extra)
{
	g_autoptr(MonitorConfig) cfg = parse_config(r, extra);
	int p[2];

	g_assert_no_errno(pipe2(p, O_CLOEXEC));
	MonitorFds fds = {.sync_fd = p[1], .start_fd = -1, .attach_fd = -1};
	MonitorCore *core = monitor_core_new(cfg, &fds);
	current_core = core;
	r->fake.sink = monitor_core_sink(core);
	fake_bundle = r->bundle;
	gint64 t0 = g_get_monotonic_time();
	r->status = monitor_core_run(core, &fake_backend, &r->fake);
	r->seconds = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
	monitor_core_free(core); /* closes the sync pipe */
	current_core = NULL;
	for (guint i = 0; i < G_N_ELEMENTS(r->fake.later_sources); i++)
		if (r->fake.later_sources[i] != 0)
			g_source_remove(r->fake.later_sources[i]);
	r->sync = read_all(p[0]);
	close(p[0]);
}

static char *file_text(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	return text;
}

static gboolean file_exists(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* The two exit files hold `expected`, no newline. */
static void assert_exit_files(Run *r, const char *expected)
{
	g_autofree char *persist = file_text(r->persist, "exit");
	g_autofree char *exit_dir = file_text(r->exits, CID);

	g_assert_cmpstr(persist, ==, expected);
	g_assert_cmpstr(exit_dir, ==, expected);
}

static void assert_no_exit_files(Run *r)
{
	g_assert_false(file_exists(r->persist, "exit"));
	g_assert_false(file_exists(r->exits, CID));
}

/* The k8s log's lines with their timestamps cut off. */
static char *log_lines(Run *r)
{
	g_autofree char *text = NULL;
	g_autoptr(GString) out = g_string_new(NULL);

	g_assert_true(g_file_get_contents(r->log, &text, NULL, NULL));
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		const char *space = strchr(*l, ' ');
		if (space != NULL)
			g_string_append_printf(out, "%s|", space + 1);
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

/* ---- create ------------------------------------------------------------------------------ */

static void test_create_exit_zero(void)
{
	Run r;

	run_init(&r);
	r.fake.out = "hello\n";
	r.fake.err = "oops\n";
	run_monitor(&r, NULL);
	/* one message for a create, the pid (conmon-interface.md#when-messages-are-sent) */
	g_assert_cmpstr(r.sync, ==, "{\"pid\": 4242}\n");
	g_assert_cmpint(r.status, ==, 0);
	assert_exit_files(&r, "0");
	g_autofree char *pid = file_text(r.dir, "pidfile");
	g_assert_cmpstr(pid, ==, "4242");
	g_assert_cmpstr(r.fake.calls->str, ==, "prepare spawn created reported release(0)");
	g_autofree char *log = log_lines(&r);
	g_assert_cmpstr(log, ==, "stdout F hello|stderr F oops|");
	g_assert_false(file_exists(r.persist, "oom"));
	g_assert_false(file_exists(r.bundle, "oom"));
	/* the attach socket is gone once the exit files are there */
	g_assert_false(file_exists(r.bundle, "attach"));
	run_clear(&r);
}

static void test_create_exit_code(void)
{
	Run r;

	run_init(&r);
	r.fake.exit_code = 3;
	run_monitor(&r, NULL);
	g_assert_cmpstr(r.sync, ==, "{\"pid\": 4242}\n");
	assert_exit_files(&r, "3");
	g_assert_cmpint(r.status, ==, 3);
	g_assert_cmpstr(r.fake.calls->str, ==, "prepare spawn created reported release(3)");
	run_clear(&r);
}

/* Killed by signal n: 128 + n in the exit files and the status. */
static void test_exit_by_signal(void)
{
	static const int sigs[] = {SIGKILL, SIGTERM, SIGSEGV};

	for (guint i = 0; i < G_N_ELEMENTS(sigs); i++) {
		Run r;
		g_autofree char *want = g_strdup_printf("%d", 128 + sigs[i]);
		g_autofree char *release = g_strdup_printf("prepare spawn created reported release(%d)", 128 + sigs[i]);

		run_init(&r);
		r.fake.exit_signal = sigs[i];
		run_monitor(&r, NULL);
		assert_exit_files(&r, want);
		g_assert_cmpint(r.status, ==, 128 + sigs[i]);
		g_assert_cmpstr(r.fake.calls->str, ==, release);
		run_clear(&r);
	}
}

/* An OOM kill: empty oom files in the persist dir and the bundle, before
 * the exit files (conmon-interface.md#oom-detection). */
static void test_oom(void)
{
	Run r;

	run_init(&r);
	r.fake.oom = TRUE;
	r.fake.exit_signal = SIGKILL;
	run_monitor(&r, NULL);
	g_autofree char *persist_oom = file_text(r.persist, "oom");
	g_autofree char *bundle_oom = file_text(r.bundle, "oom");
	g_assert_cmpstr(persist_oom, ==, "");
	g_assert_cmpstr(bundle_oom, ==, "");
	assert_exit_files(&r, "137");
	g_assert_cmpint(r.status, ==, 137);
	run_clear(&r);
}

/* A terminal's stderr is its stdout. */
static void test_terminal_output(void)
{
	Run r;

	run_init(&r);
	r.fake.terminal = TRUE;
	r.fake.out = "a\n";
	r.fake.err = "b\n";
	run_monitor(&r, (const char *const[]){"--terminal", NULL});
	g_autofree char *log = log_lines(&r);
	g_assert_cmpstr(log, ==, "stdout F a|stdout F b|");
	run_clear(&r);
}

/* More than conmon's 8192-byte read: the log gets it in chunks of 8192,
 * each a line of its own with P(artial) until the newline. */
static void test_output_chunks(void)
{
	Run r;
	g_autofree char *big = g_strnfill(8192 + 10, 'x');
	g_autofree char *line = g_strconcat(big, "\n", NULL);

	run_init(&r);
	r.fake.out = line;
	run_monitor(&r, NULL);
	g_autofree char *log = log_lines(&r);
	g_autofree char *first = g_strnfill(8192, 'x');
	g_autofree char *want = g_strdup_printf("stdout P %s|stdout F xxxxxxxxxx|", first);
	g_assert_cmpstr(log, ==, want);
	run_clear(&r);
}

/* Whole lines totalling more than 8192 bytes in one chunk (what the
 * agent read in one batch): cut after the last line that fits, never
 * inside a line that fits in a read. */
static void test_output_chunks_at_lines(void)
{
	Run r;
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GString) want = g_string_new(NULL);

	for (int i = 1; i <= 400; i++) {
		g_autofree char *text = g_strdup_printf("line%d-%0*d", i, 40, 0);
		g_string_append_printf(out, "%s\n", text);
		g_string_append_printf(want, "stdout F %s|", text);
	}
	g_assert_cmpuint(out->len, >, 2 * 8192);
	run_init(&r);
	r.fake.out = out->str;
	run_monitor(&r, NULL);
	g_autofree char *log = log_lines(&r);
	g_assert_cmpstr(log, ==, want->str);
	run_clear(&r);
}

/* Attach input before the process exists is kept and given to it, in
 * order, and the client's end closes its stdin (-i). */
static void test_early_input(void)
{
	Run r;

	run_init(&r);
	r.fake.early_input = "early bytes";
	run_monitor(&r, (const char *const[]){"--stdin", NULL});
	g_assert_cmpstr(r.fake.input->str, ==, "early bytes");
	g_assert_true(r.fake.input_closed);
	g_assert_cmpint(r.status, ==, 0);
	run_clear(&r);
}

/* A failed create: {"pid": -1, "message": <the backend's words>}, the
 * backend's status, no exit files, nothing after the failure. */
static void test_create_failed(void)
{
	static const struct {
		Step step;
		const char *calls, *sync;
	} cases[] = {
	    {STEP_PREPARE, "prepare failed", "{\"pid\": -1, \"message\": \"worded: prepare: the fake says no\"}\n"},
	    {STEP_SPAWN, "prepare spawn failed", "{\"pid\": -1, \"message\": \"worded: spawn: the fake says no\"}\n"},
	    {STEP_CREATED, "prepare spawn created failed",
	     "{\"pid\": -1, \"message\": \"worded: created: the fake says no\"}\n"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		Run r;

		run_init(&r);
		r.fake.fail_at = cases[i].step;
		r.fake.failed_status = 7;
		run_monitor(&r, NULL);
		g_assert_cmpstr(r.sync, ==, cases[i].sync);
		g_assert_cmpint(r.status, ==, 7);
		g_assert_cmpstr(r.fake.calls->str, ==, cases[i].calls);
		assert_no_exit_files(&r);
		/* the monitor's own log says it as CRI-O will */
		g_assert_cmpuint(errors_logged->len, ==, 1);
		g_autofree char *want =
		    g_strdup_printf("container create failed: worded: %s: the fake says no", i == 0   ? "prepare"
											     : i == 1 ? "spawn"
												      : "created");
		g_assert_cmpstr(g_ptr_array_index(errors_logged, 0), ==, want);
		run_clear(&r);
	}
}

/* A failure before any backend (a bad spec): the same message, status 1. */
static void test_fail_early(void)
{
	Run r;
	g_autoptr(GError) error = g_error_new(CK_ERROR, CK_ERROR_INVALID, "config.json: process: missing");
	int p[2];

	run_init(&r);
	g_autoptr(MonitorConfig) cfg = parse_config(&r, (const char *const[]){"@exec", NULL});
	g_assert_no_errno(pipe2(p, O_CLOEXEC));
	MonitorFds fds = {.sync_fd = p[1], .start_fd = -1, .attach_fd = -1};
	MonitorCore *core = monitor_core_new(cfg, &fds);
	g_assert_cmpint(monitor_core_fail(core, error), ==, 1);
	monitor_core_free(core);
	g_autofree char *sync = read_all(p[0]);
	close(p[0]);
	g_assert_cmpstr(sync, ==, "{\"exit_code\": -1, \"message\": \"config.json: process: missing\"}\n");
	run_clear(&r);
}

/* Resizes through the ctl FIFO: one written before the process exists is
 * what pending_size() gives (the terminal is made with it); a later one
 * reaches the backend's resize() once the process exists. */
static void test_resize(void)
{
	Run r;

	run_init(&r);
	r.fake.resizes = TRUE;
	r.fake.terminal = TRUE;
	r.fake.exit_after_ms = 300;
	run_monitor(&r, (const char *const[]){"--terminal", NULL});
	g_assert_true(r.fake.pending);
	g_assert_cmpint(r.fake.pending_rows, ==, 30);
	g_assert_cmpint(r.fake.pending_cols, ==, 100);
	g_assert_cmpstr(r.fake.calls->str, ==, "prepare spawn created reported resize(24,80) release(0)");
	run_clear(&r);
}

/* A signal the monitor gets goes to the process (conmon forwards SIGTERM,
 * SIGINT, SIGQUIT); this one ends it. */
static void test_signal_forwarded(void)
{
	Run r;

	run_init(&r);
	r.fake.exit_after_ms = 10000;
	r.fake.signal_after_ms = 50;
	run_monitor(&r, NULL);
	g_assert_cmpstr(r.fake.calls->str, ==, "prepare spawn created reported kill(15) release(143)");
	assert_exit_files(&r, "143");
	g_assert_cmpint(r.status, ==, 143);
	g_assert_cmpfloat(r.seconds, <, 10.0);
	run_clear(&r);
}

/* ---- exec --------------------------------------------------------------------------------- */

/* Legacy exec: nothing until the exit, then {"exit_code": E}. */
static void test_exec_legacy(void)
{
	Run r;

	run_init(&r);
	r.fake.exit_code = 7;
	run_monitor(&r, (const char *const[]){"@exec", NULL});
	g_assert_cmpstr(r.sync, ==, "{\"exit_code\": 7}\n");
	assert_exit_files(&r, "7");
	g_assert_cmpint(r.status, ==, 7);
	run_clear(&r);
}

/* api v1: the pid, then the exit code, both as "data". */
static void test_exec_api_v1(void)
{
	Run r;

	run_init(&r);
	r.fake.exit_signal = SIGTERM;
	run_monitor(&r, (const char *const[]){"@exec", "--api-version", NULL});
	g_assert_cmpstr(r.sync, ==, "{\"data\": 4242}\n{\"data\": 143}\n");
	assert_exit_files(&r, "143");
	run_clear(&r);
}

/* An exec that could not start: {"exit_code": -1, "message": ...}. */
static void test_exec_failed(void)
{
	Run r;

	run_init(&r);
	r.fake.fail_at = STEP_SPAWN;
	r.fake.failed_status = 255;
	run_monitor(&r, (const char *const[]){"@exec", NULL});
	g_assert_cmpstr(r.sync, ==, "{\"exit_code\": -1, \"message\": \"worded: spawn: the fake says no\"}\n");
	g_assert_cmpint(r.status, ==, 255);
	assert_no_exit_files(&r);
	g_assert_cmpstr(g_ptr_array_index(errors_logged, 0), ==, "worded: spawn: the fake says no");
	run_clear(&r);
}

/* -T 1 on a process that never ends (CRI-O's ExecSync probe): SIGKILL
 * through the backend after one whole second, -1 in the exit files,
 * conmon's exact answer, exit status 255 (conmon-interface.md#timeout). */
static void test_exec_timeout(void)
{
	Run r;

	run_init(&r);
	r.fake.never_exits = TRUE;
	run_monitor(&r, (const char *const[]){"@exec", "--timeout", "1", NULL});
	g_assert_cmpstr(r.sync, ==, "{\"exit_code\": -1, \"message\": \"command timed out\"}\n");
	assert_exit_files(&r, "-1");
	g_assert_cmpint(r.status, ==, 255);
	g_assert_cmpstr(r.fake.calls->str, ==, "prepare spawn created reported kill(9) release(-1)");
	g_assert_cmpfloat(r.seconds, >=, 1.0);
	g_assert_cmpfloat(r.seconds, <, 10.0);
	run_clear(&r);
}

/* A process that ends before the timeout: no kill, its own code. */
static void test_exec_within_timeout(void)
{
	Run r;

	run_init(&r);
	r.fake.exit_code = 0;
	run_monitor(&r, (const char *const[]){"@exec", "--timeout", "5", NULL});
	g_assert_cmpstr(r.sync, ==, "{\"exit_code\": 0}\n");
	g_assert_cmpstr(r.fake.calls->str, ==, "prepare spawn created reported release(0)");
	g_assert_cmpfloat(r.seconds, <, 5.0);
	run_clear(&r);
}

/* ---- exit files that cannot be written --------------------------------------------------------- */

/* The exit dir is gone: "Failed to write <code> to <path> exit file",
 * status 1, and the later steps (the exec's final message) do not happen;
 * <persist>/exit, written first, is there. */
static void test_exit_file_error(void)
{
	Run r;

	run_init(&r);
	r.fake.exit_code = 5;
	g_assert_no_errno(g_rmdir(r.exits));
	run_monitor(&r, (const char *const[]){"@exec", "--api-version", NULL});
	g_assert_cmpint(r.status, ==, 1);
	g_assert_cmpstr(r.sync, ==, "{\"data\": 4242}\n");
	g_autofree char *persist = file_text(r.persist, "exit");
	g_assert_cmpstr(persist, ==, "5");
	g_assert_cmpuint(errors_logged->len, ==, 1);
	g_autofree char *prefix = g_strdup_printf("Failed to write 5 to %s/%s exit file: ", r.exits, CID);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(errors_logged, 0), prefix));
	run_clear(&r);
}

/* The persist dir is gone: nothing is written at all. */
static void test_persist_file_error(void)
{
	Run r;

	run_init(&r);
	g_assert_no_errno(g_rmdir(r.persist));
	run_monitor(&r, NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_false(file_exists(r.exits, CID));
	g_autofree char *prefix = g_strdup_printf("Failed to write 0 to %s/exit exit file: ", r.persist);
	g_assert_true(g_str_has_prefix(g_ptr_array_index(errors_logged, 0), prefix));
	run_clear(&r);
}

/* ---- the exit command ---------------------------------------------------------------------------- */

/* Runs monitor_exit_command_run() in a child (it closes every fd from 3)
 * and returns its result; *seconds: how long it took. */
static int run_exit_command(Run *r, const char *const *extra, double *seconds)
{
	g_autoptr(MonitorConfig) cfg = parse_config(r, extra);
	gint64 t0 = g_get_monotonic_time();
	pid_t pid = fork();
	int status;

	g_assert_no_errno(pid);
	if (pid == 0)
		_exit(monitor_exit_command_run(cfg, NULL));
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	*seconds = (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* conmon runs exit_command with its --exit-command-arg values as argv,
 * in order; the command's status is the monitor's. */
static void test_exit_command_args(void)
{
	Run r;
	double seconds;

	run_init(&r);
	g_autofree char *out = g_build_filename(r.dir, "argv", NULL);
	g_autofree char *script = g_strdup_printf("printf '%%s|' \"$0\" \"$@\" > %s; exit 3", out);
	int status =
	    run_exit_command(&r,
			     (const char *const[]){"--exit-command", "/bin/sh", "--exit-command-arg", "-c",
						   "--exit-command-arg", script, "--exit-command-arg", "cleanup",
						   "--exit-command-arg", "a b", "--exit-command-arg", CID, NULL},
			     &seconds);
	g_assert_cmpint(status, ==, 3);
	g_autofree char *argv = file_text(r.dir, "argv");
	g_autofree char *want = g_strdup_printf("cleanup|a b|%s|", CID);
	g_assert_cmpstr(argv, ==, want);
	g_assert_cmpfloat(seconds, <, 1.0);
	run_clear(&r);
}

/* --exit-delay N: the command starts N seconds later. */
static void test_exit_delay(void)
{
	Run r;
	double seconds;

	run_init(&r);
	g_autofree char *out = g_build_filename(r.dir, "ran", NULL);
	g_autofree char *script = g_strdup_printf(": > %s", out);
	int status = run_exit_command(&r,
				      (const char *const[]){"--exit-command", "/bin/sh", "--exit-command-arg", "-c",
							    "--exit-command-arg", script, "--exit-delay", "1", NULL},
				      &seconds);
	g_assert_cmpint(status, ==, 0);
	g_assert_true(g_file_test(out, G_FILE_TEST_EXISTS));
	g_assert_cmpfloat(seconds, >=, 1.0);
	run_clear(&r);
}

/* Without --exit-command there is nothing to run: 0 at once. */
static void test_no_exit_command(void)
{
	Run r;
	double seconds;

	run_init(&r);
	g_assert_cmpint(run_exit_command(&r, (const char *const[]){"--exit-delay", "1", NULL}, &seconds), ==, 0);
	g_assert_cmpfloat(seconds, <, 1.0);
	run_clear(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ck_log_init("test-conmon-monitor");
	ck_log_add_sink(capture_errors, NULL);
	signal(SIGPIPE, SIG_IGN);
	g_test_add_func("/monitor/create/exit-zero", test_create_exit_zero);
	g_test_add_func("/monitor/create/exit-code", test_create_exit_code);
	g_test_add_func("/monitor/create/failed", test_create_failed);
	g_test_add_func("/monitor/create/fail-early", test_fail_early);
	g_test_add_func("/monitor/exit/signal", test_exit_by_signal);
	g_test_add_func("/monitor/exit/oom", test_oom);
	g_test_add_func("/monitor/output/terminal", test_terminal_output);
	g_test_add_func("/monitor/output/chunks", test_output_chunks);
	g_test_add_func("/monitor/output/chunks-at-lines", test_output_chunks_at_lines);
	g_test_add_func("/monitor/input/early", test_early_input);
	g_test_add_func("/monitor/input/resize", test_resize);
	g_test_add_func("/monitor/signal/forwarded", test_signal_forwarded);
	g_test_add_func("/monitor/exec/legacy", test_exec_legacy);
	g_test_add_func("/monitor/exec/api-v1", test_exec_api_v1);
	g_test_add_func("/monitor/exec/failed", test_exec_failed);
	g_test_add_func("/monitor/exec/timeout", test_exec_timeout);
	g_test_add_func("/monitor/exec/within-timeout", test_exec_within_timeout);
	g_test_add_func("/monitor/exit-file/exit-dir-error", test_exit_file_error);
	g_test_add_func("/monitor/exit-file/persist-dir-error", test_persist_file_error);
	g_test_add_func("/monitor/exit-command/args", test_exit_command_args);
	g_test_add_func("/monitor/exit-command/delay", test_exit_delay);
	g_test_add_func("/monitor/exit-command/none", test_no_exit_command);
	int rc = g_test_run();
	g_clear_pointer(&errors_logged, g_ptr_array_unref);
	return rc;
}
