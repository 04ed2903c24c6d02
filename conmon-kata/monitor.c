/* monitor: dispatch between the paths, the I/O hub, signals, timeout. */
#include "monitor-internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "proto/ck-message.h"
#include "lib/annotations.h"
#include "signals.h"
#include "sync-pipe.h"

#define CHUNK 8192 /* conmon's read size: one log timestamp, one attach record */

/* --- output and input ---------------------------------------------------------- */

static gboolean passthrough(Monitor *m)
{
	return m->cfg->use_passthrough || m->fds->shim;
}

static void passthrough_write(Monitor *m, gboolean is_stderr, const guint8 *data, gsize len)
{
	int fd = m->host_pty >= 0 ? m->host_pty : (is_stderr ? STDERR_FILENO : STDOUT_FILENO);

	/* a caller that stopped reading gets what conmon gives it: nothing */
	if (!ck_write_all(fd, data, len) && errno != EPIPE)
		ck_log_debug("passthrough: write: %s", g_strerror(errno));
}

void monitor_output(Monitor *m, gboolean is_stderr, const guint8 *data, gsize len)
{
	if (m->terminal)
		is_stderr = FALSE;
	while (len > 0) {
		gsize n = MIN(len, CHUNK);
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

void monitor_input(Monitor *m, const guint8 *data, gsize len)
{
	if (m->trusted != NULL)
		monitor_trusted_input(m, data, len);
	else if (m->proc != NULL)
		guest_process_write_stdin(m->proc, data, len);
	else if (m->early_stdin != NULL)
		g_byte_array_append(m->early_stdin, data, (guint)len);
}

void monitor_input_done(Monitor *m)
{
	/* conmon closes stdin when an attach client leaves, if -i was given
	 * without --leave-stdin-open; a terminal's input is never closed */
	if (!m->cfg->use_stdin || m->cfg->leave_stdin_open || m->terminal) {
		if (m->cfg->leave_stdin_open)
			ck_log_info("Not closing input");
		return;
	}
	if (m->trusted != NULL)
		monitor_trusted_close_input(m);
	else if (m->proc != NULL)
		guest_process_close_stdin(m->proc);
	else
		m->early_stdin_closed = TRUE;
}

static void on_attach_input(const guint8 *data, gsize len, gpointer user_data)
{
	monitor_input(user_data, data, len);
}

static void on_attach_done(gpointer user_data)
{
	monitor_input_done(user_data);
}

static void on_resize(int rows, int cols, gpointer user_data)
{
	Monitor *m = user_data;

	if (m->trusted != NULL) {
		monitor_trusted_resize(m, rows, cols);
		return;
	}
	if (m->proc == NULL)
		return;
	CkResizeTerminalArgs args = {.ref.handle = m->handle, .rows = rows, .cols = cols};
	agent_client_send_op(m->agent, CK_OP_RESIZE_TERMINAL, &args);
}

static void on_reopen(gpointer user_data)
{
	Monitor *m = user_data;
	g_autoptr(GError) error = NULL;

	if (m->logs != NULL && !log_set_reopen(m->logs, &error))
		ck_log_warning("reopen the log: %s", error->message);
}

/* Attach socket and FIFOs exist only with a bundle and a driver that is
 * not passthrough (conmon-interface.md#attach-socket, #ctl-and-winsz-fifos). */
gboolean monitor_setup_io(Monitor *m, const char *bundle, GError **error)
{
	MonitorConfig *cfg = m->cfg;

	m->logs = log_set_new(cfg, error);
	if (m->logs == NULL)
		return FALSE;
	if (bundle == NULL || passthrough(m))
		return TRUE;
	AttachCallbacks acb = {.on_input = on_attach_input, .on_input_done = on_attach_done, .user_data = m};
	m->attach = attach_server_new(bundle, cfg->socket_dir_path, cfg->cuuid, cfg->full_attach,
				      cfg->use_stdin || cfg->terminal, &acb, error);
	if (m->attach == NULL)
		return FALSE;
	CtlCallbacks ccb = {.on_resize = on_resize, .on_reopen = on_reopen, .user_data = m};
	m->ctl = ctl_fifos_new(bundle, &ccb, error);
	return m->ctl != NULL;
}

/* --- the guest process ------------------------------------------------------------- */

static void on_guest_output(GuestProcess *p, CkStream stream, const guint8 *data, gsize len, gpointer user_data)
{
	(void)p;
	if (len > 0)
		monitor_output(user_data, stream == CK_STREAM_STDERR, data, len);
}

/* The pod is gone under the process (QEMU died, the pod monitor died):
 * it ends with 137, as if killed, and why it ended goes where CRI-O and
 * Podman show it: this monitor's log, the container's log (a line on its
 * stderr, the last one, which the kubelet's FallbackToLogsOnError and
 * `podman logs` show) and the container's state (`vmctl state`). The pod
 * monitor recorded why its VM stopped before closing our connection; if
 * it died itself, the lost connection is all there is to say. */
static void pod_lost(Monitor *m, const GError *error)
{
	g_autofree char *reason = pod_read_stop_reason(m->root, m->role.pod_id);

	if (reason == NULL)
		reason = g_strdup_printf("lost the pod %s: %s", m->role.pod_id, error ? error->message : "unknown");
	ck_log_error("container %s: %s", m->cfg->cid, reason);
	g_autofree char *line = g_strconcat(reason, "\n", NULL);
	monitor_output(m, TRUE, (const guint8 *)line, strlen(line));
	g_free(m->stop_reason);
	m->stop_reason = g_steal_pointer(&reason);
	monitor_process_exited(m, 137, FALSE, NULL);
}

static void on_guest_exit(GuestProcess *p, const GuestExit *exit, const GError *error, gpointer user_data)
{
	Monitor *m = user_data;

	(void)p;
	if (exit == NULL) {
		pod_lost(m, error);
		return;
	}
	/* the guest's OOM killer, within the container's limit in the VM;
	 * the host's, which kills the whole VM, is pod_lost's reason */
	if (exit->oom_killed)
		ck_log_warning("container %s: OOM-killed in the pod's VM (its memory limit in the guest)", m->cfg->cid);
	monitor_process_exited(m, exit->exit_code, exit->oom_killed, NULL);
}

static gboolean on_passthrough_input(gint fd, GIOCondition cond, gpointer data)
{
	Monitor *m = data;
	guint8 buf[CHUNK];

	(void)cond;
	ssize_t n = ck_read_retry(fd, buf, sizeof buf);
	if (n > 0) {
		guest_process_write_stdin(m->proc, buf, (gsize)n);
		return G_SOURCE_CONTINUE;
	}
	if (n < 0 && errno == EAGAIN)
		return G_SOURCE_CONTINUE;
	if (!m->terminal)
		guest_process_close_stdin(m->proc);
	m->passthrough_source = 0;
	return G_SOURCE_REMOVE;
}

/* Output, input and early input of the process, once its handle exists. */
gboolean monitor_connect_guest_io(Monitor *m, GError **error)
{
	(void)error;
	m->proc = guest_process_new(m->agent, m->handle, on_guest_output, on_guest_exit, m);
	if (m->early_stdin != NULL && m->early_stdin->len > 0)
		guest_process_write_stdin(m->proc, m->early_stdin->data, m->early_stdin->len);
	if (m->early_stdin_closed)
		guest_process_close_stdin(m->proc);
	if (m->passthrough_in >= 0 && (m->cfg->use_stdin || m->terminal)) {
		(void)ck_set_nonblock(m->passthrough_in, TRUE, NULL);
		m->passthrough_source = g_unix_fd_add(m->passthrough_in, G_IO_IN | G_IO_HUP, on_passthrough_input, m);
	}
	if (m->ctl != NULL)
		ctl_fifos_arm_winsz(m->ctl);
	if (m->fds->shim)
		monitor_shim_resize(m);
	return TRUE;
}

/* --- signals and the end ------------------------------------------------------------- */

static void send_signal(Monitor *m, int sig)
{
	CkSignalProcessArgs args = {.ref.handle = m->handle, .signal = sig};
	agent_client_send_op(m->agent, CK_OP_SIGNAL_PROCESS, &args);
}

void monitor_forward_signal(Monitor *m, int sig)
{
	if (m->exited)
		return;
	if (sig == SIGWINCH && m->fds->shim) {
		monitor_shim_resize(m);
		return;
	}
	if (m->trusted != NULL) {
		monitor_trusted_signal(m, sig);
		return;
	}
	if (m->proc == NULL || m->agent == NULL) {
		/* before the process exists: conmon's SIGTERM means give up */
		ck_log_info("signal %d before the container exists: giving up", sig);
		m->exit_message = g_strdup("interrupted");
		if (g_main_loop_is_running(m->loop))
			g_main_loop_quit(m->loop);
		return;
	}
	send_signal(m, sig);
}

void monitor_process_exited(Monitor *m, int exit_code, gboolean oom_killed, const char *message)
{
	if (m->exited)
		return;
	m->exited = TRUE;
	m->exit_code = exit_code;
	m->oom_killed = oom_killed;
	if (message != NULL)
		m->exit_message = g_strdup(message);
	if (m->timeout_source != 0) {
		g_source_remove(m->timeout_source);
		m->timeout_source = 0;
	}
	g_main_loop_quit(m->loop);
}

static gboolean on_timeout(gpointer data)
{
	Monitor *m = data;

	m->timeout_source = 0;
	m->timed_out = TRUE;
	/* no drain: kill and report (conmon-interface.md#timeout) */
	if (m->trusted != NULL)
		monitor_trusted_signal(m, SIGKILL);
	else if (m->agent != NULL)
		send_signal(m, SIGKILL);
	monitor_process_exited(m, -1, FALSE, "command timed out");
	return G_SOURCE_REMOVE;
}

/* -T N: the process gets N whole seconds. Not g_timeout_add_seconds(),
 * whose first expiry may come up to a second early (it is aligned to
 * GLib's whole-second wake-ups). */
void monitor_start_timeout(Monitor *m)
{
	if (m->cfg->timeout > 0)
		m->timeout_source = g_timeout_add((guint)MIN((guint64)m->cfg->timeout * 1000, G_MAXUINT), on_timeout, m);
}

/* --- sync pipe ------------------------------------------------------------------------ */

const char *monitor_sync_key(Monitor *m)
{
	return sync_pipe_key(m->cfg->api_version, m->cfg->exec);
}

gboolean monitor_sync_write(Monitor *m, int value, const char *message)
{
	g_autoptr(GError) error = NULL;

	if (!sync_pipe_send(&m->sync, monitor_sync_key(m), value, message, &error)) {
		ck_log_error("sync pipe: %s", error->message);
		return FALSE;
	}
	return TRUE;
}

/* With --exec-attach, the attach pipe says the socket is there and the
 * second byte on the start pipe says the client is attached. */
gboolean monitor_exec_attach_handshake(Monitor *m, GError **error)
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

/* --- entry ------------------------------------------------------------------------------ */

static void on_signal(int sig, gpointer data)
{
	monitor_forward_signal(data, sig);
}

static int fail_early(Monitor *m, const GError *error)
{
	ck_log_error("%s", error->message);
	(void)monitor_sync_write(m, -1, error->message);
	return 1;
}

/* Trusted or VM: the sandbox decides, every other container follows it. */
static int run_create(Monitor *m)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = g_build_filename(m->cfg->bundle_path, "config.json", NULL);
	g_autofree char *decision = NULL;
	CkTrust trust;

	m->spec = oci_spec_load_file(path, &error);
	if (m->spec == NULL || !workload_classify(m->spec, m->cfg->cid, &m->role, &error) ||
	    !workload_decide(m->config, m->root, m->spec, &m->role, &trust, &decision, &error))
		return fail_early(m, error);
	ck_log_info("container %s: %s", m->cfg->cid, decision);
	/* the VM path's state keeps the spec's annotations; on the trusted
	 * path vmctl records the same decision itself */
	g_hash_table_insert(m->spec->annotations, g_strdup(ANNOTATION_TRUST_DECISION), g_steal_pointer(&decision));
	if (trust == CK_TRUST_UNTRUSTED)
		return monitor_vm_create(m); /* which applies the annotations */
	if (!annotations_validate(m->config, m->role.sandbox, m->spec->annotations, m->role.pod_annotations, &error))
		return fail_early(m, error);
	return monitor_trusted(m);
}

static int run_exec(Monitor *m)
{
	g_autoptr(GError) error = NULL;

	m->state = container_state_read(m->root, m->cfg->cid, &error);
	if (m->state == NULL)
		return fail_early(m, error);
	return m->state->kind == CONTAINER_KIND_TRUSTED ? monitor_trusted(m) : monitor_vm_exec(m);
}

static void monitor_clear(Monitor *m)
{
	guest_process_free(m->proc);
	standin_free(m->standin);
	agent_client_free(m->agent);
	if (m->pod != NULL) {
		pod_monitor_stop(m->pod);
		pod_monitor_free(m->pod);
	}
	ctl_fifos_free(m->ctl);
	attach_server_free(m->attach);
	log_set_free(m->logs);
	if (m->early_stdin != NULL)
		g_byte_array_unref(m->early_stdin);
	container_state_free(m->state);
	oci_spec_free(m->spec);
	workload_role_clear(&m->role);
	host_cgroup_clear(&m->cgroup);
	sync_pipe_clear(&m->sync);
	ck_config_free(m->config);
	g_main_loop_unref(m->loop);
	g_free(m->root);
	g_free(m->exec_id);
	g_free(m->netns_path);
	g_free(m->exit_message);
	g_free(m->stop_reason);
}

/* containers.conf has one conmon_path for every runtime, so conmon-kata
 * may be asked to monitor a container of runc or crun: with a runtime
 * other than vmctl it is plain conmon, and the VM question does not
 * arise. Which runtime it is does not depend on its file name (an
 * operator may install vmctl under another name, or wrap it in a
 * script): the runtime is asked, and vmctl's `--version` says so on its
 * first line, as runc's says "runc version". Its output is bounded and
 * anything else (a runtime that fails, prints nothing or something
 * else) means not vmctl. */
#define RUNTIME_VERSION_MAX 4096

static gboolean runtime_is_vmctl(const MonitorConfig *cfg)
{
	const char *argv[] = {cfg->runtime_path, "--version", NULL};
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	int status = 0;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status,
			  &error)) {
		ck_log_warning("container %s: run %s --version: %s", cfg->cid, cfg->runtime_path, error->message);
		return FALSE;
	}
	if (!g_spawn_check_wait_status(status, NULL) || strlen(out) > RUNTIME_VERSION_MAX)
		return FALSE;
	return g_str_has_prefix(out, VMCTL_VERSION_PREFIX);
}

static int run_as_conmon(Monitor *m)
{
	ck_log_info("container %s: mode conmon: runtime %s is not vmctl, monitoring it as conmon would", m->cfg->cid,
		    m->cfg->runtime_path);
	return monitor_trusted(m);
}

/* An exec joins a container that exists: what its pod needed from the
 * configuration was decided at create, and connecting to the pod takes
 * the default dial timeout. CRI-O runs `vmctl exec` (and with it this
 * monitor) without monitor_env, so an exec must not depend on finding
 * the configuration; one named with --config is still read. */
static CkConfig *load_config(const MonitorConfig *cfg, const char *config_path, GError **error)
{
	if (cfg->exec && config_path == NULL)
		return ck_config_new_defaults();
	return ck_config_load(config_path, error);
}

int monitor_run(MonitorConfig *cfg, const MonitorFds *fds)
{
	static const int forward[] = {SIGTERM, SIGINT, SIGQUIT, 0};
	g_autoptr(GError) error = NULL;
	g_autofree char *config_path = cli_runtime_option(cfg, "config");
	Monitor m = {.cfg = cfg, .fds = fds, .passthrough_in = -1, .host_pty = -1};

	m.loop = g_main_loop_new(NULL, FALSE);
	sync_pipe_init(&m.sync, fds->sync_fd);
	m.root = cli_runtime_option(cfg, "root");
	if (m.root == NULL)
		m.root = g_strdup(state_default_root());
	m.early_stdin = g_byte_array_new();
	int status;
	gboolean ours = fds->shim || runtime_is_vmctl(cfg);
	if (ours && !fds->shim)
		ck_log_info("container %s: mode conmon-kata: runtime %s is vmctl", cfg->cid, cfg->runtime_path);
	if (!signals_init(fds->shim ? signals_all_catchable() : forward, on_signal, &m, &error) ||
	    (ours && (m.config = load_config(cfg, config_path, &error)) == NULL))
		status = fail_early(&m, error);
	else if (!ours)
		status = run_as_conmon(&m);
	else
		status = cfg->exec ? run_exec(&m) : run_create(&m);
	monitor_clear(&m);
	return status;
}
