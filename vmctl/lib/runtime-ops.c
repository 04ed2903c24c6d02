/* runtime-ops: start, kill, pause, update, ps, delete (see runtime-ops.h). */
#include "runtime-ops.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "proto/ck-message.h"
#include "guest-spec.h"
#include "pod-client.h"
#include "pod-net.h"

#define CONNECT_TIMEOUT_MS 10000
#define CALL_TIMEOUT_MS 60000
#define MONITOR_EXIT_TIMEOUT_MS 30000

AgentClient *runtime_connect(const char *root, const ContainerState *st, int timeout_ms, GError **error)
{
	(void)root;
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	for (;;) {
		g_autoptr(GError) local = NULL;
		int fd = pod_connect_path(st->control_socket, &local);
		if (fd >= 0)
			return agent_client_new(fd, NULL);
		if (!ck_error_is(local, CK_ERROR_DISCONNECTED) || ck_deadline_remaining_ms(deadline) == 0) {
			g_propagate_error(error, g_steal_pointer(&local));
			return NULL;
		}
		g_usleep(20000);
	}
}

gboolean runtime_op(const char *root, const ContainerState *st, CkOp op, gconstpointer args, gpointer out_result,
		    GError **error)
{
	g_autoptr(AgentClient) agent = runtime_connect(root, st, CONNECT_TIMEOUT_MS, error);

	return agent != NULL && agent_client_op(agent, op, args, out_result, CALL_TIMEOUT_MS, error);
}

/* Reads the state under the lock; the caller closes *out_lock. */
static ContainerState *load(const char *root, const char *id, gboolean exclusive, int *out_lock, GError **error)
{
	int lock = container_state_lock(root, id, exclusive, FALSE, error);
	if (lock < 0)
		return NULL;
	ContainerState *st = container_state_read(root, id, error);
	if (st == NULL) {
		close(lock);
		return NULL;
	}
	*out_lock = lock;
	return st;
}

/* load() under a shared lock, for a verb that needs a live process. */
static ContainerState *load_running(const char *root, const char *id, int *out_lock, GError **error)
{
	ContainerState *st = load(root, id, FALSE, out_lock, error);

	if (st != NULL && g_str_equal(container_state_status(st, NULL), "stopped")) {
		container_state_free(st);
		ck_clear_fd(out_lock);
		ck_set_error(error, CK_ERROR_NOT_FOUND, "container not running");
		return NULL;
	}
	return st;
}

/* A request that names only the container. */
static gboolean id_call(const char *root, const ContainerState *st, CkOp op, gpointer out_result, GError **error)
{
	CkContainerArgs args = {.id = st->id};

	return runtime_op(root, st, op, &args, out_result, error);
}

gboolean runtime_start(const char *root, const char *id, GError **error)
{
	ck_autofd lock = -1;
	g_autoptr(ContainerState) st = load(root, id, TRUE, &lock, error);

	if (st == NULL)
		return FALSE;
	const char *status = container_state_status(st, NULL);
	if (!g_str_equal(status, "created"))
		return ck_set_error(error, CK_ERROR_INVALID, "cannot start a container that has %s",
				    g_str_equal(status, "stopped") ? "stopped" : "already been started");
	if (!id_call(root, st, CK_OP_START_CONTAINER, NULL, error))
		return FALSE;
	g_free(st->status);
	st->status = g_strdup("running");
	return container_state_write(root, st, error);
}

gboolean runtime_kill(const char *root, const char *id, int sig, gboolean all, GError **error)
{
	ck_autofd lock = -1;
	g_autoptr(ContainerState) st = load_running(root, id, &lock, error);

	if (st == NULL)
		return FALSE;
	CkSignalProcessArgs args = {.ref.id = (char *)id, .signal = sig, .all = all};
	return runtime_op(root, st, CK_OP_SIGNAL_PROCESS, &args, NULL, error);
}

gboolean runtime_pause(const char *root, const char *id, gboolean pause, GError **error)
{
	ck_autofd lock = -1;
	g_autoptr(ContainerState) st = load(root, id, TRUE, &lock, error);

	if (st == NULL)
		return FALSE;
	const char *status = container_state_status(st, NULL);
	const char *need = pause ? "running" : "paused";
	if (!g_str_equal(status, need))
		return ck_set_error(error, CK_ERROR_INVALID, "container not %s", need);
	if (!id_call(root, st, pause ? CK_OP_PAUSE_CONTAINER : CK_OP_RESUME_CONTAINER, NULL, error))
		return FALSE;
	g_free(st->status);
	st->status = g_strdup(pause ? "paused" : "running");
	return container_state_write(root, st, error);
}

gboolean runtime_update(const char *root, const char *id, yajl_val resources, GError **error)
{
	ck_autofd lock = -1;
	g_autoptr(ContainerState) st = load_running(root, id, &lock, error);

	if (st == NULL)
		return FALSE;
	CkUpdateContainerArgs args = {.id = (char *)id, .resources = resources};
	return runtime_op(root, st, CK_OP_UPDATE_CONTAINER, &args, NULL, error);
}

gboolean runtime_stats(const char *root, const char *id, CkStatsResult *out, GError **error)
{
	ck_autofd lock = -1;
	g_autoptr(ContainerState) st = load_running(root, id, &lock, error);

	return st != NULL && id_call(root, st, CK_OP_STATS_CONTAINER, out, error);
}

GArray *runtime_ps(const char *root, const char *id, GError **error)
{
	ck_autofd lock = -1;
	g_autoptr(ContainerState) st = load(root, id, FALSE, &lock, error);
	GArray *pids = g_array_new(FALSE, FALSE, sizeof(int));

	if (st == NULL) {
		g_array_unref(pids);
		return NULL;
	}
	if (g_str_equal(container_state_status(st, NULL), "stopped"))
		return pids;
	CkListProcessesResult result = {0};
	if (!id_call(root, st, CK_OP_LIST_PROCESSES, &result, error)) {
		ck_msg_clear_result(CK_OP_LIST_PROCESSES, &result);
		g_array_unref(pids);
		return NULL;
	}
	for (guint i = 0; i < result.n_pids; i++) {
		if (result.pids[i] > 0 && result.pids[i] <= G_MAXINT) {
			int pid = (int)result.pids[i];
			g_array_append_val(pids, pid);
		}
	}
	ck_msg_clear_result(CK_OP_LIST_PROCESSES, &result);
	return pids;
}

/* The monitor records the exit (has_exit_code) once it has released the
 * container's guest resources and mounts, just before its exit files.
 * Waiting for that, not for the monitor process: the monitor goes on to
 * run its exit command, which may well be the caller of this delete. */
static gboolean monitor_done(const char *root, const ContainerState *st)
{
	g_autoptr(ContainerState) now = container_state_read(root, st->id, NULL);

	if (now == NULL || now->has_exit_code)
		return TRUE;
	return st->monitor_pid <= 0 || !proc_is_alive(st->monitor_pid, st->monitor_start);
}

static void wait_monitor(const char *root, const ContainerState *st)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)MONITOR_EXIT_TIMEOUT_MS * 1000;

	while (!monitor_done(root, st)) {
		if (ck_deadline_remaining_ms(deadline) == 0) {
			ck_log_warning("container %s: its monitor %d did not finish, killing it", st->id,
				       (int)st->monitor_pid);
			(void)kill(st->monitor_pid, SIGKILL);
			g_usleep(100000);
			return;
		}
		g_usleep(10000);
	}
}

/* The taps, qdiscs and filters of a pod whose monitor could not remove
 * them (killed): from the record in its directory. */
static gboolean release_pod_network(const char *dir, GError **error)
{
	g_autofree char *record = g_build_filename(dir, POD_NET_RECORD, NULL);
	return pod_net_teardown_recorded(record, error);
}

/* What a monitor that died early left behind. Idempotent. */
static gboolean release_leftovers(const char *root, const ContainerState *st, GError **error)
{
	g_autofree char *share = pod_share_dir(root, st->pod_id);

	if (!guest_spec_release(share, st->id, error))
		return FALSE;
	if (st->sandbox) {
		g_autofree char *dir = pod_dir(root, st->pod_id);
		return release_pod_network(dir, error) && guest_share_destroy(share, error) && ck_rm_rf(dir, error);
	}
	return TRUE;
}

gboolean runtime_delete(const char *root, const char *id, gboolean force, GError **error)
{
	ck_autofd lock = -1;
	g_autoptr(ContainerState) st = load(root, id, FALSE, &lock, error);

	if (st == NULL)
		return FALSE;
	/* the monitor takes the lock to record the exit: do not hold it while
	 * waiting for the monitor */
	ck_clear_fd(&lock);
	const char *status = container_state_status(st, NULL);
	if (!g_str_equal(status, "stopped") && !g_str_equal(status, "created") && !force)
		return ck_set_error(error, CK_ERROR_INVALID, "cannot delete container %s that is not stopped: %s", id,
				    status);
	if (!g_str_equal(status, "stopped")) {
		/* created or running: runc kills it too */
		g_autoptr(GError) ignored = NULL;
		CkSignalProcessArgs args = {.ref.id = (char *)id, .signal = SIGKILL, .all = TRUE};
		(void)runtime_op(root, st, CK_OP_SIGNAL_PROCESS, &args, NULL, &ignored);
	}
	wait_monitor(root, st);
	lock = container_state_lock(root, id, TRUE, FALSE, error);
	if (lock < 0)
		return FALSE;
	if (!release_leftovers(root, st, error))
		return FALSE;
	return container_state_remove(root, id, error);
}

gboolean runtime_delete_orphan_pod(const char *root, const char *pod_id, GError **error)
{
	g_autofree char *dir = pod_dir(root, pod_id);
	g_autofree char *sock = pod_socket_path(root, pod_id);
	g_autofree char *share = pod_share_dir(root, pod_id);
	g_autoptr(GError) local = NULL;

	if (!g_file_test(dir, G_FILE_TEST_IS_DIR))
		return TRUE;
	ck_autofd fd = pod_connect_path(sock, &local);
	if (fd >= 0)
		return TRUE; /* a live pod monitor owns it */
	ck_log_debug("pod %s: removing what a failed create left behind", pod_id);
	return release_pod_network(dir, error) && guest_share_destroy(share, error) && ck_rm_rf(dir, error);
}
