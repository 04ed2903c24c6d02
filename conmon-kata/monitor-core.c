/* monitor-core: conmon's sequence around one backend, the I/O hub, the
 * timeout and the exit sequence. See monitor-core.h. */
#include "monitor-core.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "attach.h"
#include "ctl.h"
#include "logging.h"
#include "monitor-exit.h"
#include "sync-pipe.h"

#define CHUNK 8192 /* conmon's read size: one log timestamp, one attach record */

struct MonitorCore {
	MonitorConfig *cfg;
	const MonitorFds *fds;
	GMainLoop *loop;
	MonitorSink sink;
	const MonitorBackend *be;
	gpointer self;
	gboolean spawned; /* the backend's spawn() returned: input goes to it */

	/* I/O */
	LogSet *logs;
	AttachServer *attach;
	CtlFifos *ctl;
	SyncPipe sync;
	GByteArray *early_stdin; /* attach input before the process exists */
	gboolean early_stdin_closed;

	/* the end */
	gboolean exited;
	int exit_code;
	gboolean oom_killed;
	gboolean timed_out;
	guint timeout_source;
	char *exit_message; /* for the exec's final sync message */
};

/* --- output and input ---------------------------------------------------------- */

static gboolean terminal(MonitorCore *m)
{
	return m->be != NULL && m->be->terminal(m->self);
}

static gboolean passthrough(MonitorCore *m)
{
	return m->cfg->use_passthrough || m->fds->shim;
}

static void passthrough_write(MonitorCore *m, gboolean is_stderr, const guint8 *data, gsize len)
{
	int fd = m->be != NULL && m->be->output_fd != NULL ? m->be->output_fd(m->self) : -1;

	if (fd < 0)
		fd = is_stderr ? STDERR_FILENO : STDOUT_FILENO;
	/* a caller that stopped reading gets what conmon gives it: nothing */
	if (!ck_write_all(fd, data, len) && errno != EPIPE)
		ck_log_debug("passthrough: write: %s", g_strerror(errno));
}

static void on_output(gpointer core, gboolean is_stderr, const guint8 *data, gsize len)
{
	MonitorCore *m = core;

	if (terminal(m))
		is_stderr = FALSE;
	while (len > 0) {
		gsize n = MIN(len, CHUNK);
		/* A chunk from the guest holds what the agent read in one batch,
		 * often more than conmon's one read of a pipe: cut it after a
		 * line where it can, as the producer's own writes were, so that a
		 * line is split into partial records only when it is longer than
		 * a read, not wherever 8192 bytes happen to end. */
		const guint8 *nl = n < len ? memrchr(data, '\n', n) : NULL;
		if (nl != NULL)
			n = (gsize)(nl - data) + 1;
		/* conmon's order: the log drivers first, then the attach clients */
		if (m->logs != NULL)
			log_set_write(m->logs, is_stderr, data, n);
		if (m->attach != NULL)
			attach_server_write(m->attach, is_stderr ? 3 : 2, data, n);
		if (passthrough(m))
			passthrough_write(m, is_stderr, data, n);
		data += n;
		len -= n;
	}
}

static void on_attach_input(const guint8 *data, gsize len, gpointer user_data)
{
	MonitorCore *m = user_data;

	if (m->spawned)
		m->be->write_stdin(m->self, data, len);
	else
		g_byte_array_append(m->early_stdin, data, (guint)len);
}

static void on_attach_done(gpointer user_data)
{
	MonitorCore *m = user_data;

	/* conmon closes stdin when an attach client leaves, if -i was given
	 * without --leave-stdin-open; a terminal's input is never closed */
	if (!m->cfg->use_stdin || m->cfg->leave_stdin_open || terminal(m)) {
		if (m->cfg->leave_stdin_open)
			ck_log_info("Not closing input");
		return;
	}
	if (m->spawned)
		m->be->close_stdin(m->self);
	else
		m->early_stdin_closed = TRUE;
}

/* What attach clients sent before the process existed, in order. */
static void give_early_input(MonitorCore *m)
{
	if (m->early_stdin->len > 0)
		m->be->write_stdin(m->self, m->early_stdin->data, m->early_stdin->len);
	g_byte_array_set_size(m->early_stdin, 0);
	if (m->early_stdin_closed)
		m->be->close_stdin(m->self);
}

static void on_resize(int rows, int cols, gpointer user_data)
{
	MonitorCore *m = user_data;

	m->be->resize(m->self, rows, cols);
}

static void on_reopen(gpointer user_data)
{
	MonitorCore *m = user_data;
	g_autoptr(GError) error = NULL;

	if (m->logs != NULL && !log_set_reopen(m->logs, &error))
		ck_log_warning("reopen the log: %s", error->message);
}

static gboolean on_pending_size(gpointer core, int *rows, int *cols)
{
	MonitorCore *m = core;

	return m->ctl != NULL && ctl_fifos_take_pending_size(m->ctl, rows, cols);
}

/* Attach socket and FIFOs exist only with a bundle and a driver that is
 * not passthrough (conmon-interface.md#attach-socket, #ctl-and-winsz-fifos). */
static gboolean setup_io(MonitorCore *m, GError **error)
{
	MonitorConfig *cfg = m->cfg;

	m->logs = log_set_new(cfg, error);
	if (m->logs == NULL)
		return FALSE;
	if (cfg->bundle_path == NULL || passthrough(m))
		return TRUE;
	AttachCallbacks acb = {.on_input = on_attach_input, .on_input_done = on_attach_done, .user_data = m};
	m->attach = attach_server_new(cfg->bundle_path, cfg->socket_dir_path, cfg->cuuid, cfg->full_attach,
				      cfg->use_stdin || cfg->terminal, &acb, error);
	if (m->attach == NULL)
		return FALSE;
	CtlCallbacks ccb = {.on_resize = on_resize, .on_reopen = on_reopen, .user_data = m};
	m->ctl = ctl_fifos_new(cfg->bundle_path, &ccb, error);
	return m->ctl != NULL;
}

/* --- sync pipe ------------------------------------------------------------------------ */

static gboolean sync_write(MonitorCore *m, int value, const char *message)
{
	g_autoptr(GError) error = NULL;

	if (!sync_pipe_send(&m->sync, sync_pipe_key(m->cfg->api_version, m->cfg->exec), value, message, &error)) {
		ck_log_error("sync pipe: %s", error->message);
		return FALSE;
	}
	return TRUE;
}

/* With --exec-attach, the attach pipe says the socket is there and the
 * second byte on the start pipe says the client is attached. */
static gboolean exec_attach_handshake(MonitorCore *m, GError **error)
{
	char buf[8192];
	g_autofree char *msg = sync_message_format("data", 0, NULL);

	if (!m->cfg->exec_attach)
		return TRUE;
	if (!ck_write_all(m->fds->attach_fd, msg, strlen(msg)) && errno != EPIPE)
		return ck_set_error_errno(error, errno, "attach pipe");
	if (m->fds->start_fd >= 0 && ck_read_retry(m->fds->start_fd, buf, sizeof buf) < 0)
		return ck_set_error_errno(error, errno, "start pipe");
	return TRUE;
}

int monitor_core_fail(MonitorCore *m, const GError *error)
{
	/* CRI-O prefixes the sync message with these words itself */
	if (m->cfg->exec)
		ck_log_error("%s", error->message);
	else
		ck_log_error("container create failed: %s", error->message);
	(void)sync_write(m, -1, error->message);
	return 1;
}

/* A start that failed: the backend undoes it and words it; no exit files
 * (conmon-interface.md#when-messages-are-sent). */
static int start_failed(MonitorCore *m, GError **error)
{
	int status = m->be->failed != NULL ? m->be->failed(m->self, error) : 1;

	(void)monitor_core_fail(m, *error);
	return status;
}

/* create: the pid; exec: only with api v1, the legacy exec reports only
 * its exit code (conmon-interface.md#when-messages-are-sent) */
static void report_pid(MonitorCore *m, pid_t pid)
{
	if (m->cfg->exec && !m->cfg->api_version)
		return;
	if (!sync_write(m, pid, NULL))
		ck_log_warning("the caller went away before the pid was reported");
}

/* --- the end ------------------------------------------------------------------------- */

static void set_exit(MonitorCore *m, int exit_code, const char *message)
{
	if (m->exited)
		return;
	m->exited = TRUE;
	m->exit_code = exit_code;
	if (message != NULL)
		m->exit_message = g_strdup(message);
	if (m->timeout_source != 0) {
		g_source_remove(m->timeout_source);
		m->timeout_source = 0;
	}
	g_main_loop_quit(m->loop);
}

static void on_exited(gpointer core, int exit_code, int signal)
{
	set_exit(core, signal > 0 ? 128 + signal : exit_code, NULL);
}

static void on_oom(gpointer core)
{
	MonitorCore *m = core;

	m->oom_killed = TRUE;
}

void monitor_core_signal(MonitorCore *m, int sig)
{
	if (m->exited)
		return;
	if (m->be != NULL && m->be->kill(m->self, sig))
		return;
	/* before the process exists: conmon's SIGTERM means give up */
	ck_log_info("signal %d before the container exists: giving up", sig);
	g_free(m->exit_message);
	m->exit_message = g_strdup("interrupted");
	if (g_main_loop_is_running(m->loop))
		g_main_loop_quit(m->loop);
}

static gboolean on_timeout(gpointer data)
{
	MonitorCore *m = data;

	m->timeout_source = 0;
	m->timed_out = TRUE;
	/* no drain: kill and report (conmon-interface.md#timeout) */
	(void)m->be->kill(m->self, SIGKILL);
	set_exit(m, -1, "command timed out");
	return G_SOURCE_REMOVE;
}

/* -T N: the process gets N whole seconds. Not g_timeout_add_seconds(),
 * whose first expiry may come up to a second early (it is aligned to
 * GLib's whole-second wake-ups). */
static void start_timeout(MonitorCore *m)
{
	if (m->cfg->timeout > 0)
		m->timeout_source =
		    g_timeout_add((guint)MIN((guint64)m->cfg->timeout * 1000, G_MAXUINT), on_timeout, m);
}

/* conmon-interface.md#exit-sequence, in its order (monitor-exit.c). */
static int finish(MonitorCore *m)
{
	g_autoptr(GError) error = NULL;
	int code = m->exited ? m->exit_code : -1;

	if (m->oom_killed)
		monitor_exit_touch_oom(m->cfg);
	if (m->logs != NULL)
		log_set_finish(m->logs);
	if (m->be->release != NULL)
		m->be->release(m->self, code);
	if (m->attach != NULL)
		attach_server_close_clients(m->attach);
	if (!monitor_exit_write_files(m->cfg, code, &error)) {
		ck_log_error("%s", error->message);
		return 1;
	}
	if (m->cfg->exec)
		(void)sync_write(m, code, m->exit_message);
	g_clear_pointer(&m->attach, attach_server_free);
	if (m->timed_out)
		return 255;
	return code & 0xff;
}

/* --- entry ------------------------------------------------------------------------------ */

int monitor_core_run(MonitorCore *m, const MonitorBackend *be, gpointer self)
{
	g_autoptr(GError) error = NULL;
	pid_t pid = -1;

	m->be = be;
	m->self = self;
	ck_log_debug("container %s: the %s backend", m->cfg->cid, be->name);
	if ((be->prepare != NULL && !be->prepare(self, &error)) || !setup_io(m, &error) ||
	    !exec_attach_handshake(m, &error) || !be->spawn(self, &pid, &error))
		return start_failed(m, &error);
	m->spawned = TRUE;
	give_early_input(m);
	if (m->ctl != NULL)
		ctl_fifos_arm_winsz(m->ctl);
	if ((!be->writes_pidfile && !monitor_exit_write_pidfile(m->cfg, pid, &error)) ||
	    (be->created != NULL && !be->created(self, &error)))
		return start_failed(m, &error);
	report_pid(m, pid);
	if (be->reported != NULL)
		be->reported(self);
	start_timeout(m);
	g_main_loop_run(m->loop);
	return finish(m);
}

MonitorCore *monitor_core_new(MonitorConfig *cfg, const MonitorFds *fds)
{
	MonitorCore *m = g_new0(MonitorCore, 1);

	m->cfg = cfg;
	m->fds = fds;
	m->loop = g_main_loop_new(NULL, FALSE);
	sync_pipe_init(&m->sync, fds->sync_fd);
	m->early_stdin = g_byte_array_new();
	m->sink = (MonitorSink){
		.core = m,
		.output = on_output,
		.oom = on_oom,
		.exited = on_exited,
		.pending_size = on_pending_size,
	};
	return m;
}

const MonitorSink *monitor_core_sink(MonitorCore *m)
{
	return &m->sink;
}

void monitor_core_free(MonitorCore *m)
{
	if (m == NULL)
		return;
	if (m->timeout_source != 0)
		g_source_remove(m->timeout_source);
	ctl_fifos_free(m->ctl);
	attach_server_free(m->attach);
	log_set_free(m->logs);
	g_byte_array_unref(m->early_stdin);
	sync_pipe_clear(&m->sync);
	g_main_loop_unref(m->loop);
	g_free(m->exit_message);
	g_free(m);
}
