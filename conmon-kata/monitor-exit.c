/* monitor-exit: reporting an exit in the order callers depend on
 * (conmon-interface.md#exit-sequence):
 *
 *   oom files (persist dir and bundle) when the guest reported an OOM kill
 *   -> the log's fsync -> the stand-in exits and is reaped (so `state`
 *   says stopped and kill(pid, 0) fails) -> the container leaves the
 *   guest and the pod's share (CRI-O unmounts the rootfs as soon as it
 *   sees the exit file) -> the sandbox's pod shuts down -> attach clients
 *   see EOF -> <persist>/exit -> <exit-dir>/<cid> -> the final exec
 *   message -> the attach socket is unlinked.
 *
 * Exit files hold the decimal status without a newline and appear
 * atomically (temp file + rename: inotify sees IN_MOVED_TO).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-log.h"
#include "proto/ck-message.h"
#include "lib/guest-spec.h"
#include "lib/pod-client.h"
#include "monitor-internal.h"

#define REMOVE_TIMEOUT_MS 15000
#define STANDIN_TIMEOUT_MS 5000

gboolean monitor_write_pidfile(Monitor *m, pid_t pid, GError **error)
{
	g_autofree char *text = g_strdup_printf("%d", (int)pid);

	if (m->cfg->container_pidfile == NULL)
		return TRUE;
	return ck_file_write_atomic(m->cfg->container_pidfile, text, strlen(text), 0644, FALSE, error);
}

static void touch_oom(const char *dir)
{
	g_autofree char *path = NULL;

	if (dir == NULL)
		return;
	path = g_build_filename(dir, "oom", NULL);
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
	if (fd < 0)
		ck_log_warning("create %s: %s", path, g_strerror(errno));
	else
		close(fd);
}

static gboolean write_exit_file(const char *path, int code, GError **error)
{
	g_autofree char *text = g_strdup_printf("%d", code);

	if (!ck_file_write_atomic(path, text, strlen(text), 0644, FALSE, error)) {
		g_prefix_error(error, "Failed to write %d to %s exit file: ", code, path);
		return FALSE;
	}
	return TRUE;
}

/* The container leaves the guest and the host bind mounts are released. */
static void release_container(Monitor *m)
{
	g_autoptr(GError) error = NULL;

	if (m->created_in_guest && m->agent != NULL && !agent_client_is_closed(m->agent)) {
		CkContainerArgs args = {.id = m->cfg->cid};
		if (!agent_client_op(m->agent, CK_OP_REMOVE_CONTAINER, &args, NULL, REMOVE_TIMEOUT_MS, &error))
			ck_log_warning("remove %s from the guest: %s", m->cfg->cid, error->message);
		g_clear_error(&error);
	}
	if (m->shared) {
		g_autofree char *share = pod_share_dir(m->root, m->role.pod_id);
		if (!guest_spec_release(share, m->cfg->cid, &error))
			ck_log_warning("%s", error->message);
		m->shared = FALSE;
	}
	if (m->pod != NULL)
		pod_monitor_stop(m->pod);
}

static void record_stopped(Monitor *m)
{
	g_autoptr(GError) error = NULL;

	if (m->state == NULL || m->cfg->exec)
		return;
	int lock = container_state_lock(m->root, m->state->id, TRUE, FALSE, &error);
	if (lock < 0)
		return; /* deleted meanwhile: nothing to record */
	g_free(m->state->status);
	m->state->status = g_strdup("stopped");
	m->state->has_exit_code = TRUE;
	m->state->exit_code = m->exit_code;
	if (m->stop_reason != NULL)
		g_hash_table_replace(m->state->annotations, g_strdup(ANNOTATION_STOP_REASON), g_strdup(m->stop_reason));
	if (!container_state_write(m->root, m->state, &error))
		ck_log_warning("%s", error->message);
	close(lock);
}

static gboolean write_exit_files(Monitor *m, int code, GError **error)
{
	if (m->cfg->persist_dir != NULL) {
		g_autofree char *path = g_build_filename(m->cfg->persist_dir, "exit", NULL);
		if (!write_exit_file(path, code, error))
			return FALSE;
	}
	if (m->cfg->exit_dir != NULL) {
		g_autofree char *path = g_build_filename(m->cfg->exit_dir, m->cfg->cid, NULL);
		if (!write_exit_file(path, code, error))
			return FALSE;
	}
	return TRUE;
}

int monitor_finish(Monitor *m)
{
	g_autoptr(GError) error = NULL;
	int code = m->exited ? m->exit_code : -1;

	if (m->oom_killed) {
		touch_oom(m->cfg->persist_dir);
		touch_oom(m->cfg->bundle_path);
	}
	if (m->logs != NULL)
		log_set_finish(m->logs);
	if (m->standin != NULL)
		standin_finish(m->standin, code & 0xff, STANDIN_TIMEOUT_MS);
	if (!m->cfg->exec)
		release_container(m);
	/* after the pod's QEMU, which a sandbox's cgroup holds, has gone */
	host_cgroup_cleanup(&m->cgroup);
	if (m->attach != NULL)
		attach_server_close_clients(m->attach);
	record_stopped(m);
	if (!write_exit_files(m, code, &error)) {
		ck_log_error("%s", error->message);
		return 1;
	}
	if (m->cfg->exec)
		(void)monitor_sync_write(m, code, m->exit_message);
	g_clear_pointer(&m->attach, attach_server_free);
	if (m->timed_out)
		return 255;
	return code & 0xff;
}
