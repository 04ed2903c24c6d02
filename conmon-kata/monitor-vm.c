/* monitor-vm: a container's init or an exec'd process, in the pod's VM.
 *
 * create: (the sandbox starts the pod) -> connect to the pod's control
 * socket -> share the bundle and rewrite the spec -> create_container (held
 * before execve; `vmctl start` releases it) -> stand-in -> pidfile, state
 * and the host hooks prestart, createRuntime -> {"pid": N} -> relay until
 * the exit.
 * exec: connect -> exec_process -> stand-in -> pidfile -> (api v1: the
 * pid) -> relay until the exit.
 * A failure before the pid is reported undoes everything done so far and
 * is reported on the sync pipe with the guest's own message; no exit file
 * is written (conmon-interface.md#when-messages-are-sent).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-log.h"
#include "proto/ck-message.h"
#include "lib/annotations.h"
#include "lib/guest-spec.h"
#include "lib/host-cgroup.h"
#include "lib/host-hooks.h"
#include "lib/pod-client.h"
#include "lib/sizing.h"
#include "monitor-internal.h"
#include "sync-pipe.h"

#define REQUEST_TIMEOUT_MS 60000

/* --- pieces shared by create and exec ---------------------------------------------- */

/* The pod's VM stays within the memory its host cgroups allow
 * (docs/cgroups.md, "Pod accounting"). */
static gboolean fit_host_memory(Monitor *m, GError **error)
{
	HostMemoryLimit limit;
	guint32 cap;

	host_cgroup_memory_limit(m->spec->cgroups_path, &limit);
	g_autofree char *where = limit.dir;
	if (!sizing_fit_host_limit(m->config, limit.bytes, where, &cap, error)) {
		g_prefix_error(error, "pod %s: ", m->role.pod_id);
		return FALSE;
	}
	if (cap > 0)
		ck_log_info("pod %s: the host memory cgroup %s allows %" G_GUINT64_FORMAT
			    " MiB: the VM gets at most %u MiB",
			    m->role.pod_id, where, limit.bytes / (1024 * 1024), cap);
	return TRUE;
}

/* QEMU is best started in the sandbox's cgroup, so that what it touches
 * while booting is charged there too: the shim (containerd) joins it for
 * good, as it would later; the pod monitor with a stand-in joins the
 * cgroupfs folders only while it starts the pod (and goes back after).
 * The systemd driver's scope exists only with its first pid, the
 * stand-in: QEMU then moves in after it (charge_pod). */
static gboolean enter_sandbox_cgroup(Monitor *m, GError **error)
{
	if (m->fds->shim)
		return monitor_shim_join_cgroup(m, error);
	if (monitor_systemd_cgroup(m))
		return TRUE;
	if (!host_cgroup_prepare(&m->cgroup, m->spec->cgroups_path, error) ||
	    !host_cgroup_join_self(&m->cgroup, error)) {
		g_prefix_error(error, "QEMU: ");
		return FALSE;
	}
	return TRUE;
}

static PodMonitor *start_pod(Monitor *m, GError **error)
{
	PodOptions opts = {
		.config = m->config,
		.root = m->root,
		.pod_id = m->role.pod_id,
		.spec = m->spec,
	};

	if (!fit_host_memory(m, error) || !enter_sandbox_cgroup(m, error))
		return NULL;
	PodMonitor *pod = pod_monitor_start(&opts, error);
	if (!m->fds->shim)
		host_cgroup_go_back(&m->cgroup);
	return pod;
}

static gboolean connect_pod(Monitor *m, GError **error)
{
	int fd;

	if (m->role.sandbox && !m->cfg->exec) {
		m->pod = start_pod(m, error);
		if (m->pod == NULL)
			return FALSE;
		fd = pod_monitor_connect(m->pod, error);
	} else {
		fd = pod_connect(m->root, m->role.pod_id, (int)m->config->agent.dial_timeout * 1000, error);
	}
	if (fd < 0 && !m->role.sandbox && !m->cfg->exec && error != NULL && ck_error_is(*error, CK_ERROR_DISCONNECTED))
		g_prefix_error(error, "the sandbox %s of its pod is not running: ", m->role.pod_id);
	if (fd < 0)
		return FALSE;
	m->agent = agent_client_new(fd, NULL);
	return TRUE;
}

static void on_standin_signal(int sig, gpointer data)
{
	monitor_forward_signal(data, sig);
}

static void on_standin_died(int status, gpointer data)
{
	Monitor *m = data;

	/* SIGKILL cannot be forwarded; the container must not outlive it */
	ck_log_info("the stand-in died (status 0x%x): killing the container process", status);
	monitor_forward_signal(m, SIGKILL);
}

/* The pod's network namespace: from the spec (create, read before the
 * spec is rewritten for the guest), or that of the container's own
 * stand-in (exec). */
static char *standin_netns(Monitor *m)
{
	if (m->spec != NULL) {
		const OciNamespace *net = oci_spec_find_namespace(m->spec, OCI_NS_NETWORK);
		return net != NULL ? g_strdup(net->path) : NULL;
	}
	if (m->state != NULL && m->state->pid > 0 && proc_is_alive(m->state->pid, m->state->pid_start))
		return g_strdup_printf("/proc/%d/ns/net", (int)m->state->pid);
	return NULL;
}

/* The pid callers see: a forked stand-in, or (shim mode) ourselves. */
static pid_t reported_pid(Monitor *m)
{
	return m->standin != NULL ? standin_get_pid(m->standin) : getpid();
}

/* The sandbox's QEMU joins the cgroups of the sandbox's own pid (its
 * stand-in, or conmon-kata --shim), wherever the driver placed it. */
static gboolean charge_pod(Monitor *m, GError **error)
{
	return m->pod == NULL || pod_monitor_charge(m->pod, reported_pid(m), error);
}

gboolean monitor_systemd_cgroup(Monitor *m)
{
	return m->cfg->systemd_cgroup && !m->cfg->exec && m->spec != NULL && m->spec->cgroups_path != NULL &&
	       *m->spec->cgroups_path != '\0';
}

const OciResources *monitor_spec_resources(Monitor *m)
{
	return m->spec != NULL && m->spec->has_resources ? &m->spec->resources : NULL;
}

static gboolean spawn_standin(Monitor *m, GError **error)
{
	if (m->fds->shim)
		return monitor_shim_join(m, error);
	/* with the systemd driver, systemd places the stand-in once it runs */
	gboolean systemd = monitor_systemd_cgroup(m);
	const char *path = m->spec != NULL && !systemd ? m->spec->cgroups_path : NULL;
	/* a sandbox's folders exist already (enter_sandbox_cgroup) */
	if (m->cgroup.procs == NULL && !host_cgroup_prepare(&m->cgroup, path, error)) {
		g_prefix_error(error, "stand-in: ");
		return FALSE;
	}
	g_autoptr(GPtrArray) procs = g_ptr_array_new();
	for (guint i = 0; i < m->cgroup.procs->len; i++)
		g_ptr_array_add(procs, g_ptr_array_index(m->cgroup.procs, i));
	g_ptr_array_add(procs, NULL);
	StandinOptions opts = {
		.netns_path = m->netns_path,
		.cgroup_procs = (char **)procs->pdata,
		.on_signal = on_standin_signal,
		.on_died = on_standin_died,
		.user_data = m,
	};
	m->standin = standin_spawn(&opts, error);
	return m->standin != NULL &&
	       (!systemd || host_cgroup_systemd_join(&m->cgroup, m->spec->cgroups_path, monitor_spec_resources(m),
						      standin_get_pid(m->standin), error));
}

/* --- create ------------------------------------------------------------------------- */

static char *resolve_ns(OciNamespaceType type, const char *host_path, gpointer data, GError **error)
{
	Monitor *m = data;
	return pod_resolve_namespace(m->root, m->role.pod_id, m->role.sandbox, type, host_path, error);
}

/* The agent's own steps of create_container (its reply's steps_us,
 * docs/protocol.md), logged for the sandbox (the pod-ready timeline,
 * tests/bench). Guest figures: each clamped to the call's duration on
 * our clock, so a lying guest changes no more than this one log line. */
static void log_guest_create_steps(Monitor *m, const CkCreateSteps *t, gint64 call_us)
{
	const gint64 us[] = {t->spec, t->stdio, t->cgroup, t->plan, t->namespaces, t->setup, t->done};
	double s[G_N_ELEMENTS(us)];

	if (!m->role.sandbox || t->done == 0)
		return;
	for (gsize i = 0; i < G_N_ELEMENTS(us); i++)
		s[i] = CLAMP(us[i], 0, call_us) / 1e6;
	ck_log_info("pod %s: sandbox container in the guest in %.3f s: spec %.3f s, stdio %.3f s, cgroup %.3f s, "
		    "plan %.3f s, namespaces and fork %.3f s, rootfs and mounts %.3f s, bookkeeping %.3f s",
		    m->role.pod_id, call_us / 1e6, s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
}

/* *t_prepared: when the bundle was in the share and the spec rewritten */
static gboolean guest_create(Monitor *m, gint64 *t_prepared, GError **error)
{
	g_autofree char *share = pod_share_dir(m->root, m->role.pod_id);
	g_autofree char *rootfs = NULL;

	if (!guest_spec_prepare(m->spec, m->cfg->bundle_path, share, m->cfg->cid, resolve_ns, m,
				!m->config->runtime.disable_guest_seccomp, &rootfs, error))
		return FALSE;
	m->shared = TRUE;
	*t_prepared = g_get_monotonic_time();
	gsize len = 0;
	g_autofree char *spec_json = oci_spec_to_json(m->spec, &len, error);
	g_auto(yajl_val) spec_tree = spec_json ? ck_json_parse(spec_json, len, "spec", error) : NULL;
	if (spec_tree == NULL)
		return FALSE;
	CkCreateContainerArgs args = {
	    .id = m->cfg->cid, .spec = spec_tree, .rootfs = rootfs, .stdin_ = m->cfg->use_stdin};
	CkSpawnResult result = {0};
	gint64 call = g_get_monotonic_time();
	if (!agent_client_op(m->agent, CK_OP_CREATE_CONTAINER, &args, &result, REQUEST_TIMEOUT_MS, error))
		return FALSE;
	m->created_in_guest = TRUE;
	m->handle = result.handle;
	log_guest_create_steps(m, &result.steps_us, g_get_monotonic_time() - call);
	return TRUE;
}

static gboolean write_state(Monitor *m, GError **error)
{
	g_autoptr(ContainerState) st = container_state_new(m->cfg->cid);
	g_autofree char *now = ck_log_timestamp();
	GHashTableIter it;
	gpointer k, v;

	st->pod_id = g_strdup(m->role.pod_id);
	st->sandbox = m->role.sandbox;
	st->kind = CONTAINER_KIND_VM;
	st->bundle = g_strdup(m->cfg->bundle_path);
	st->rootfs = g_build_filename(m->cfg->bundle_path, "rootfs", NULL);
	st->created = g_steal_pointer(&now);
	st->pid = reported_pid(m);
	st->pid_start = proc_start_time(st->pid);
	st->monitor_pid = getpid();
	st->monitor_start = proc_start_time(st->monitor_pid);
	st->control_socket = pod_socket_path(m->root, m->role.pod_id);
	st->guest_handle = m->handle;
	g_hash_table_iter_init(&it, m->spec->annotations);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_hash_table_insert(st->annotations, g_strdup(k), g_strdup(v));
	int lock = container_state_lock(m->root, st->id, TRUE, TRUE, error);
	if (lock < 0)
		return FALSE;
	gboolean ok = container_state_write(m->root, st, error) &&
		      container_state_save_spec(m->root, st->id, m->cfg->bundle_path, error);
	close(lock);
	if (ok)
		m->state = g_steal_pointer(&st);
	return ok;
}

/* Undoes a create that did not get as far as reporting the pid. */
static void undo_create(Monitor *m)
{
	g_autoptr(GError) error = NULL;

	if (m->created_in_guest && m->agent != NULL) {
		CkContainerArgs args = {.id = m->cfg->cid};
		(void)agent_client_op(m->agent, CK_OP_REMOVE_CONTAINER, &args, NULL, REQUEST_TIMEOUT_MS, NULL);
	}
	if (m->standin != NULL)
		standin_finish(m->standin, 1, 1000);
	if (m->shared) {
		g_autofree char *share = pod_share_dir(m->root, m->role.pod_id);
		if (!guest_spec_release(share, m->cfg->cid, &error))
			ck_log_warning("%s", error->message);
	}
	if (m->pod != NULL) {
		/* no state will point at this pod: nobody would remove it later */
		g_autofree char *dir = pod_dir(m->root, m->role.pod_id);
		pod_monitor_stop(m->pod);
		if (!ck_rm_rf(dir, &error))
			ck_log_warning("%s", error->message);
	}
	/* once QEMU, which may be in the sandbox's cgroup, has gone */
	host_cgroup_cleanup(&m->cgroup);
	(void)container_state_remove(m->root, m->cfg->cid, NULL);
}

/* prestart then createRuntime (lib/host-hooks.h), in the pod's network
 * namespace: the stand-in joined it, even one the spec did not name. */
static gboolean run_create_hooks(Monitor *m, GError **error)
{
	g_autofree char *netns = NULL;

	if (m->standin != NULL)
		netns = g_strdup_printf("/proc/%d/ns/net", (int)reported_pid(m));
	return host_hooks_run_create(m->root, m->cfg->cid, m->cfg->bundle_path, reported_pid(m),
				     netns != NULL ? netns : m->netns_path, error);
}

/* Reports a failed create; by itself, for a create that made nothing (so
 * has nothing to undo). */
static int create_refused(Monitor *m, GError *error)
{
	g_autofree char *runc_words = agent_error_start_failure(error->message);

	/* a process that could not start is told in runc's words */
	if (runc_words != NULL) {
		g_free(error->message);
		error->message = g_steal_pointer(&runc_words);
	}
	g_prefix_error(&error, "container create failed: ");
	ck_log_error("%s", error->message);
	/* CRI-O prefixes "container create failed: " itself: send the cause */
	const char *cause = error->message + strlen("container create failed: ");
	(void)monitor_sync_write(m, -1, cause);
	g_error_free(error);
	return 1;
}

static int create_failed(Monitor *m, GError *error)
{
	/* undone before the caller hears of it: nothing half-made outlives
	 * the failed create call */
	undo_create(m);
	return create_refused(m, error);
}

/* The sandbox's io.katacontainers.* annotations configure its pod's VM
 * (docs/configuration.md, "Annotations"); any other container's are
 * refused, as they could not take effect. */
static gboolean apply_annotations(Monitor *m, GError **error)
{
	if (m->role.sandbox)
		return annotations_apply(m->config, m->spec->annotations, error);
	return annotations_check_container(m->spec->annotations, m->role.pod_annotations, error);
}

/* The sandbox's path to its pid, one info line in seconds per step (the
 * benchmarks read it: tests/bench/README.md, the pod-ready timeline):
 * from create's start (t0) through the pod monitor's steps, the bundle in
 * the pod's share (t_prepared) and the sandbox container made in the
 * guest (t_guest) to the pid (now). */
static void log_sandbox_ready(Monitor *m, gint64 t0, gint64 t_prepared, gint64 t_guest)
{
	PodStartMoments pm;
	gint64 now = g_get_monotonic_time();

	if (m->pod == NULL)
		return;
	pod_monitor_get_start_moments(m->pod, &pm);
	ck_log_info("pod %s: sandbox ready in %.3f s: monitor set-up %.3f s, pod set-up %.3f s, VM boot %.3f s, "
		    "guest network %.3f s, create_sandbox %.3f s, control socket and port forwarding %.3f s, "
		    "sandbox container: bundle into the share %.3f s, create_container %.3f s, stand-in, state and "
		    "hooks %.3f s",
		    m->role.pod_id, (now - t0) / 1e6, (pm.begin - t0) / 1e6, (pm.booting - pm.begin) / 1e6,
		    (pm.vm_up - pm.booting) / 1e6, (pm.network - pm.vm_up) / 1e6, (pm.sandbox - pm.network) / 1e6,
		    (pm.serving - pm.sandbox) / 1e6, (t_prepared - pm.serving) / 1e6, (t_guest - t_prepared) / 1e6,
		    (now - t_guest) / 1e6);
}

int monitor_vm_create(Monitor *m)
{
	GError *error = NULL;
	g_autoptr(ContainerState) existing = container_state_read(m->root, m->cfg->cid, NULL);
	gint64 t0 = g_get_monotonic_time(), t_prepared = t0;

	m->terminal = m->spec->process.terminal;
	m->netns_path = standin_netns(m);
	/* the existing container is not ours to undo */
	if (existing != NULL)
		return create_refused(m, g_error_new(CK_ERROR, CK_ERROR_EXISTS, "container with id %s already exists",
						     m->cfg->cid));
	if ((m->role.sandbox && !pod_check_sandbox_namespaces(m->spec, &error)) || !apply_annotations(m, &error) ||
	    !monitor_setup_io(m, m->cfg->bundle_path, &error) || !monitor_shim_setup(m, &error) ||
	    !connect_pod(m, &error) || !guest_create(m, &t_prepared, &error))
		return create_failed(m, error);
	gint64 t_guest = g_get_monotonic_time();
	if (!monitor_connect_guest_io(m, &error) || !spawn_standin(m, &error) || !charge_pod(m, &error) ||
	    !monitor_write_pidfile(m, reported_pid(m), &error) || !write_state(m, &error) ||
	    !run_create_hooks(m, &error))
		return create_failed(m, error);
	log_sandbox_ready(m, t0, t_prepared, t_guest);
	if (!monitor_sync_write(m, reported_pid(m), NULL))
		ck_log_warning("the caller went away before the pid was reported");
	monitor_shim_reported(m);
	monitor_start_timeout(m);
	g_main_loop_run(m->loop);
	return monitor_finish(m);
}

/* --- exec -------------------------------------------------------------------------------- */

/* The size an exec's terminal starts with, when we know it already: the
 * caller's own terminal (shim mode), or a resize Podman or CRI-O wrote
 * into the ctl/winsz FIFOs before the process was started. */
static gboolean exec_console_size(Monitor *m, guint16 *rows, guint16 *cols)
{
	int h, w;

	if (monitor_shim_console_size(m, rows, cols))
		return TRUE;
	if (!m->terminal || m->ctl == NULL || !ctl_fifos_take_pending_size(m->ctl, &h, &w) || (h == 0 && w == 0))
		return FALSE;
	*rows = (guint16)h;
	*cols = (guint16)w;
	return TRUE;
}

/* The exec's process object; with a terminal whose size we know at once
 * its consoleSize says it, so the guest pty has the size before the
 * process starts, as under runc. */
/* The process to run: the spec's, with the terminal's size when the
 * monitor knows it (NULL: the spec's as it is). */
static yajl_val exec_process_sized(Monitor *m, yajl_val process, GError **error)
{
	g_autoptr(CkJsonGen) req = NULL;
	guint16 rows, cols;
	gsize len = 0;

	if (!exec_console_size(m, &rows, &cols))
		return NULL;
	req = ck_json_gen_new();
	ck_json_map_open(req);
	for (size_t i = 0; i < process->u.object.len; i++) {
		if (g_str_equal(process->u.object.keys[i], "consoleSize"))
			continue;
		ck_json_key(req, process->u.object.keys[i]);
		ck_json_value(req, process->u.object.values[i]);
	}
	ck_json_key(req, "consoleSize");
	ck_json_map_open(req);
	ck_json_kv_int(req, "height", rows);
	ck_json_kv_int(req, "width", cols);
	ck_json_map_close(req);
	ck_json_map_close(req);
	g_autofree char *doc = ck_json_gen_finish(req, &len, error);
	return doc != NULL ? ck_json_parse(doc, len, "process", error) : NULL;
}

static gboolean guest_exec(Monitor *m, GError **error)
{
	g_auto(yajl_val) process = ck_json_parse_file(m->cfg->exec_process_spec, 1024 * 1024, error);
	OciProcess parsed = {0};

	if (process == NULL || !oci_process_parse(process, "process", &parsed, error))
		return FALSE;
	m->terminal = parsed.terminal;
	oci_process_clear(&parsed);
	m->exec_id = g_strdup(m->cfg->cuuid ? m->cfg->cuuid : "");
	if (m->exec_id[0] == '\0') {
		g_free(m->exec_id);
		m->exec_id = g_strdup_printf("exec-%d-%" G_GINT64_FORMAT, (int)getpid(), g_get_monotonic_time());
	}
	g_autoptr(GError) sizing = NULL;
	g_auto(yajl_val) sized = exec_process_sized(m, process, &sizing);
	if (sizing != NULL) {
		g_propagate_error(error, g_steal_pointer(&sizing));
		return FALSE;
	}
	CkExecProcessArgs args = {.id = m->cfg->cid,
				  .exec_id = m->exec_id,
				  .process = sized != NULL ? sized : process,
				  .stdin_ = m->cfg->use_stdin};
	CkSpawnResult result = {0};
	if (!agent_client_op(m->agent, CK_OP_EXEC_PROCESS, &args, &result, REQUEST_TIMEOUT_MS, error))
		return FALSE;
	m->handle = result.handle;
	return TRUE;
}

/* A process that could not start is told in runc's words ("exec failed:
 * unable to start container process: exec: ..."), which CRI-O and
 * Podman pass on and match; any other failure names the container (the
 * agent's own errors already do). A foreground `vmctl exec` that could
 * not start its process exits 255, as runc's does. */
static int exec_failed(Monitor *m, GError *error)
{
	g_autofree char *prefix = g_strdup_printf("exec in %s: ", m->cfg->cid);
	g_autofree char *runc_words = agent_error_start_failure(error->message);

	if (runc_words != NULL) {
		g_free(error->message);
		error->message = g_strconcat("exec failed: ", runc_words, NULL);
	} else if (!g_str_has_prefix(error->message, prefix)) {
		g_prefix_error(&error, "%s", prefix);
	}
	ck_log_error("%s", error->message);
	(void)monitor_sync_write(m, -1, error->message);
	g_error_free(error);
	return m->fds->shim ? 255 : 1;
}

int monitor_vm_exec(Monitor *m)
{
	GError *error = NULL;

	m->role.pod_id = g_strdup(m->state->pod_id);
	m->spec = NULL;
	m->netns_path = standin_netns(m);
	if (!monitor_setup_io(m, m->cfg->bundle_path, &error) || !monitor_exec_attach_handshake(m, &error) ||
	    !connect_pod(m, &error) || !guest_exec(m, &error) || !monitor_shim_setup(m, &error) ||
	    !monitor_connect_guest_io(m, &error) || !spawn_standin(m, &error) ||
	    !monitor_write_pidfile(m, reported_pid(m), &error))
		return exec_failed(m, error);
	/* legacy exec reports only the exit code; api v1 the pid first */
	if (m->cfg->api_version)
		(void)monitor_sync_write(m, reported_pid(m), NULL);
	monitor_shim_reported(m);
	monitor_start_timeout(m);
	g_main_loop_run(m->loop);
	return monitor_finish(m);
}
