/* monitor-vm: the VM backend (monitor-vm.h): a container's init or an
 * exec'd process, in the pod's VM.
 *
 * create: prepare (the id is free, the sandbox's namespaces, the
 * annotations) -> spawn: (the sandbox starts the pod) -> connect to the
 * pod's control socket -> share the bundle and rewrite the spec ->
 * create_container (held before execve; `vmctl start` releases it) ->
 * stand-in -> created: state and the host hooks prestart, createRuntime.
 * exec: spawn: connect -> exec_process -> stand-in.
 * The core writes the pid file in between and reports the pid. A failure
 * before the pid is reported undoes everything done so far and is
 * reported with the guest's own message, in runc's words when a process
 * could not start; the release at the exit removes the container from the
 * guest and the share, stops a sandbox's pod and records the state.
 */
#include "monitor-vm.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-log.h"
#include "oci/oci-seccomp.h"
#include "proto/ck-message.h"
#include "lib/annotations.h"
#include "lib/guest-spec.h"
#include "lib/host-cgroup.h"
#include "lib/host-hooks.h"
#include "lib/pod-client.h"
#include "lib/sizing.h"
#include "monitor-vm-internal.h"

#define REQUEST_TIMEOUT_MS 60000
#define REMOVE_TIMEOUT_MS 15000
#define STANDIN_TIMEOUT_MS 5000
#define CHUNK 8192

/* --- pieces shared by create and exec ---------------------------------------------- */

/* The pod's VM stays within the memory its host cgroups allow
 * (docs/cgroups.md, "Pod accounting"). */
static gboolean fit_host_memory(MonitorVm *vm, GError **error)
{
	HostMemoryLimit limit;
	guint32 cap;

	host_cgroup_memory_limit(vm->spec->cgroups_path, &limit);
	g_autofree char *where = limit.dir;
	if (!sizing_fit_host_limit(vm->config, limit.bytes, where, &cap, error)) {
		g_prefix_error(error, "pod %s: ", vm->role.pod_id);
		return FALSE;
	}
	if (cap > 0)
		ck_log_info("pod %s: the host memory cgroup %s allows %" G_GUINT64_FORMAT
			    " MiB: the VM gets at most %u MiB",
			    vm->role.pod_id, where, limit.bytes / (1024 * 1024), cap);
	return TRUE;
}

/* QEMU is best started in the sandbox's cgroup, so that what it touches
 * while booting is charged there too: the shim (containerd) joins it for
 * good, as it would later; the pod monitor with a stand-in joins the
 * cgroupfs folders only around QEMU's fork (join_for_qemu, leave_after_qemu).
 * The systemd driver's scope exists only with its first pid, the
 * stand-in: QEMU then moves in after it (charge_pod). */
static gboolean prepare_sandbox_cgroup(MonitorVm *vm, GError **error)
{
	if (vm->fds->shim)
		return monitor_shim_join_cgroup(vm, error);
	if (monitor_vm_systemd_cgroup(vm))
		return TRUE;
	if (!host_cgroup_prepare(&vm->cgroup, vm->spec->cgroups_path, error)) {
		g_prefix_error(error, "QEMU: ");
		return FALSE;
	}
	return TRUE;
}

static gboolean join_for_qemu(gpointer data, GError **error)
{
	MonitorVm *vm = data;

	if (!host_cgroup_join_self(&vm->cgroup, error)) {
		g_prefix_error(error, "QEMU: ");
		return FALSE;
	}
	return TRUE;
}

/* A move between cgroups waits for an RCU grace period (milliseconds):
 * this one waits while QEMU sets itself up, not before it starts. */
static void leave_after_qemu(gpointer data)
{
	MonitorVm *vm = data;

	host_cgroup_go_back(&vm->cgroup);
}

static PodMonitor *start_pod(MonitorVm *vm, GError **error)
{
	gboolean moves = !vm->fds->shim && !monitor_vm_systemd_cgroup(vm);
	PodOptions opts = {
		.config = vm->config,
		.root = vm->root,
		.pod_id = vm->role.pod_id,
		.spec = vm->spec,
		.spawning = moves ? join_for_qemu : NULL,
		.spawned = moves ? leave_after_qemu : NULL,
		.spawn_data = vm,
	};

	if (!fit_host_memory(vm, error) || !prepare_sandbox_cgroup(vm, error))
		return NULL;
	return pod_monitor_start(&opts, error);
}

static gboolean connect_pod(MonitorVm *vm, GError **error)
{
	int fd;

	if (vm->role.sandbox && !vm->cfg->exec) {
		vm->pod = start_pod(vm, error);
		if (vm->pod == NULL)
			return FALSE;
		fd = pod_monitor_connect(vm->pod, error);
	} else {
		fd = pod_connect(vm->root, vm->role.pod_id, (int)vm->config->agent.dial_timeout * 1000, error);
	}
	if (fd < 0 && !vm->role.sandbox && !vm->cfg->exec && error != NULL &&
	    ck_error_is(*error, CK_ERROR_DISCONNECTED))
		g_prefix_error(error, "the sandbox %s of its pod is not running: ", vm->role.pod_id);
	if (fd < 0)
		return FALSE;
	vm->agent = agent_client_new(fd, NULL);
	return TRUE;
}

static void vm_resize(gpointer self, int rows, int cols)
{
	MonitorVm *vm = self;

	if (vm->proc == NULL)
		return;
	CkResizeTerminalArgs args = {.ref.handle = vm->handle, .rows = rows, .cols = cols};
	agent_client_send_op(vm->agent, CK_OP_RESIZE_TERMINAL, &args);
}

/* The caller's terminal's size, to the guest process's pty (shim mode). */
static void shim_resize(MonitorVm *vm)
{
	int rows, cols;

	if (monitor_shim_window_size(vm, &rows, &cols))
		vm_resize(vm, rows, cols);
}

static gboolean vm_kill(gpointer self, int sig)
{
	MonitorVm *vm = self;

	if (sig == SIGWINCH && vm->fds->shim) {
		shim_resize(vm);
		return TRUE;
	}
	if (vm->proc == NULL || vm->agent == NULL)
		return FALSE;
	CkSignalProcessArgs args = {.ref.handle = vm->handle, .signal = sig};
	agent_client_send_op(vm->agent, CK_OP_SIGNAL_PROCESS, &args);
	return TRUE;
}

static void on_standin_signal(int sig, gpointer data)
{
	MonitorVm *vm = data;

	if (!vm->exited)
		(void)vm_kill(vm, sig);
}

static void on_standin_died(int status, gpointer data)
{
	/* SIGKILL cannot be forwarded; the container must not outlive it */
	ck_log_info("the stand-in died (status 0x%x): killing the container process", status);
	on_standin_signal(SIGKILL, data);
}

/* The pod's network namespace: from the spec (create, read before the
 * spec is rewritten for the guest), or that of the container's own
 * stand-in (exec). */
static char *standin_netns(MonitorVm *vm)
{
	if (vm->spec != NULL) {
		const OciNamespace *net = oci_spec_find_namespace(vm->spec, OCI_NS_NETWORK);
		return net != NULL ? g_strdup(net->path) : NULL;
	}
	if (vm->state != NULL && vm->state->pid > 0 && proc_is_alive(vm->state->pid, vm->state->pid_start))
		return g_strdup_printf("/proc/%d/ns/net", (int)vm->state->pid);
	return NULL;
}

/* The pid callers see: a forked stand-in, or (shim mode) ourselves. */
static pid_t reported_pid(MonitorVm *vm)
{
	return vm->standin != NULL ? standin_get_pid(vm->standin) : getpid();
}

/* The sandbox's QEMU joins the cgroups of the sandbox's own pid (its
 * stand-in, or conmon-kata --shim), wherever the driver placed it. */
static gboolean charge_pod(MonitorVm *vm, GError **error)
{
	return vm->pod == NULL || pod_monitor_charge(vm->pod, reported_pid(vm), error);
}

/* The stand-in is forked before the process is made in the guest and
 * sets itself up (its move into the cgroup waits for an RCU grace period)
 * while the guest works; its pid is reported once both are done
 * (standin_ready). The shim is the pid itself. */
static gboolean start_standin(MonitorVm *vm, GError **error)
{
	if (vm->fds->shim)
		return TRUE;
	/* with the systemd driver, systemd places the stand-in once it runs */
	gboolean systemd = monitor_vm_systemd_cgroup(vm);
	const char *path = vm->spec != NULL && !systemd ? vm->spec->cgroups_path : NULL;
	/* a sandbox's folders exist already (prepare_sandbox_cgroup) */
	if (vm->cgroup.procs == NULL && !host_cgroup_prepare(&vm->cgroup, path, error)) {
		g_prefix_error(error, "stand-in: ");
		return FALSE;
	}
	g_autoptr(GPtrArray) procs = g_ptr_array_new();
	for (guint i = 0; i < vm->cgroup.procs->len; i++)
		g_ptr_array_add(procs, g_ptr_array_index(vm->cgroup.procs, i));
	g_ptr_array_add(procs, NULL);
	StandinOptions opts = {
		.netns_path = vm->netns_path,
		.cgroup_procs = (char **)procs->pdata,
		.on_signal = on_standin_signal,
		.on_died = on_standin_died,
		.user_data = vm,
	};
	vm->standin = standin_start(&opts, error);
	return vm->standin != NULL;
}

static gboolean standin_ready(MonitorVm *vm, GError **error)
{
	if (vm->fds->shim)
		return monitor_shim_join(vm, error);
	return standin_wait_ready(vm->standin, error) &&
	       (!monitor_vm_systemd_cgroup(vm) ||
		host_cgroup_systemd_join(&vm->cgroup, vm->spec->cgroups_path, monitor_vm_spec_resources(vm),
					 standin_get_pid(vm->standin), error));
}

/* --- the guest process --------------------------------------------------------------- */

static void on_guest_output(GuestProcess *p, CkStream stream, const guint8 *data, gsize len, gpointer user_data)
{
	MonitorVm *vm = user_data;

	(void)p;
	if (len > 0)
		vm->sink->output(vm->sink->core, stream == CK_STREAM_STDERR, data, len);
}

/* The pod is gone under the process (QEMU died, the pod monitor died):
 * it ends with 137, as if killed, and why it ended goes where CRI-O and
 * Podman show it: this monitor's log, the container's log (a line on its
 * stderr, the last one, which the kubelet's FallbackToLogsOnError and
 * `podman logs` show) and the container's state (`vmctl state`). The pod
 * monitor recorded why its VM stopped before closing our connection; if
 * it died itself, the lost connection is all there is to say. */
static void pod_lost(MonitorVm *vm, const GError *error)
{
	g_autofree char *reason = pod_read_stop_reason(vm->root, vm->role.pod_id);

	if (reason == NULL)
		reason = g_strdup_printf("lost the pod %s: %s", vm->role.pod_id, error ? error->message : "unknown");
	ck_log_error("container %s: %s", vm->cfg->cid, reason);
	g_autofree char *line = g_strconcat(reason, "\n", NULL);
	vm->sink->output(vm->sink->core, TRUE, (const guint8 *)line, strlen(line));
	g_free(vm->stop_reason);
	vm->stop_reason = g_steal_pointer(&reason);
	vm->exited = TRUE;
	vm->sink->exited(vm->sink->core, 137, 0);
}

static void on_guest_exit(GuestProcess *p, const GuestExit *exit, const GError *error, gpointer user_data)
{
	MonitorVm *vm = user_data;

	(void)p;
	if (exit == NULL) {
		pod_lost(vm, error);
		return;
	}
	/* the guest's OOM killer, within the container's limit in the VM;
	 * the host's, which kills the whole VM, is pod_lost's reason */
	if (exit->oom_killed) {
		ck_log_warning("container %s: OOM-killed in the pod's VM (its memory limit in the guest)",
			       vm->cfg->cid);
		vm->sink->oom(vm->sink->core);
	}
	vm->exited = TRUE;
	vm->sink->exited(vm->sink->core, exit->exit_code, 0);
}

static gboolean on_passthrough_input(gint fd, GIOCondition cond, gpointer data)
{
	MonitorVm *vm = data;
	guint8 buf[CHUNK];

	(void)cond;
	ssize_t n = ck_read_retry(fd, buf, sizeof buf);
	if (n > 0) {
		guest_process_write_stdin(vm->proc, buf, (gsize)n);
		return G_SOURCE_CONTINUE;
	}
	if (n < 0 && errno == EAGAIN)
		return G_SOURCE_CONTINUE;
	if (!vm->terminal)
		guest_process_close_stdin(vm->proc);
	vm->passthrough_source = 0;
	return G_SOURCE_REMOVE;
}

/* Output and input of the process, once its handle exists; shim mode's
 * stdin is relayed as is. */
static void connect_guest_io(MonitorVm *vm)
{
	vm->proc = guest_process_new(vm->agent, vm->handle, on_guest_output, on_guest_exit, vm);
	if (vm->passthrough_in >= 0 && (vm->cfg->use_stdin || vm->terminal)) {
		(void)ck_set_nonblock(vm->passthrough_in, TRUE, NULL);
		vm->passthrough_source =
		    g_unix_fd_add(vm->passthrough_in, G_IO_IN | G_IO_HUP, on_passthrough_input, vm);
	}
	if (vm->fds->shim)
		shim_resize(vm);
}

/* --- the operations both share --------------------------------------------------------- */

static gboolean vm_terminal(gpointer self)
{
	MonitorVm *vm = self;

	return vm->terminal;
}

static int vm_output_fd(gpointer self)
{
	MonitorVm *vm = self;

	return vm->host_pty;
}

static void vm_write_stdin(gpointer self, const guint8 *data, gsize len)
{
	MonitorVm *vm = self;

	guest_process_write_stdin(vm->proc, data, len);
}

static void vm_close_stdin(gpointer self)
{
	MonitorVm *vm = self;

	guest_process_close_stdin(vm->proc);
}

static void vm_reported(gpointer self)
{
	monitor_shim_reported(self);
}

/* The container leaves the guest and the host bind mounts are released.
 * A sandbox whose pod stops right after skips the guest's removal (a
 * round trip that kills, waits for and frees what the VM's power-off ends
 * anyway) unless the pod has guest hooks, whose poststop stage runs in it. */
static void release_container(MonitorVm *vm)
{
	g_autoptr(GError) error = NULL;
	gboolean vm_ends = vm->pod != NULL && *vm->config->hypervisor.guest_hook_path == '\0';

	if (vm->created_in_guest && !vm_ends && vm->agent != NULL && !agent_client_is_closed(vm->agent)) {
		CkContainerArgs args = {.id = vm->cfg->cid};
		if (!agent_client_op(vm->agent, CK_OP_REMOVE_CONTAINER, &args, NULL, REMOVE_TIMEOUT_MS, &error))
			ck_log_warning("remove %s from the guest: %s", vm->cfg->cid, error->message);
		g_clear_error(&error);
	}
	if (vm->shared) {
		g_autofree char *share = pod_share_dir(vm->root, vm->role.pod_id);
		if (!guest_spec_release(share, vm->cfg->cid, &error))
			ck_log_warning("%s", error->message);
		vm->shared = FALSE;
	}
	if (vm->pod != NULL)
		pod_monitor_stop(vm->pod);
}

/* `vmctl state` says stopped before the exit files appear. */
static void record_stopped(MonitorVm *vm, int code)
{
	g_autoptr(GError) error = NULL;

	if (vm->state == NULL || vm->cfg->exec)
		return;
	int lock = container_state_lock(vm->root, vm->state->id, TRUE, FALSE, &error);
	if (lock < 0)
		return; /* deleted meanwhile: nothing to record */
	g_free(vm->state->status);
	vm->state->status = g_strdup("stopped");
	vm->state->has_exit_code = TRUE;
	vm->state->exit_code = code;
	if (vm->stop_reason != NULL)
		g_hash_table_replace(vm->state->annotations, g_strdup(ANNOTATION_STOP_REASON),
				     g_strdup(vm->stop_reason));
	if (!container_state_write(vm->root, vm->state, &error))
		ck_log_warning("%s", error->message);
	close(lock);
}

/* The stand-in exits with the same status and is reaped (so `state` says
 * stopped and kill(pid, 0) fails), the container leaves the guest and the
 * pod's share (CRI-O unmounts the rootfs as soon as it sees the exit
 * file), the sandbox's pod shuts down. */
static void vm_release(gpointer self, int code)
{
	MonitorVm *vm = self;

	if (vm->standin != NULL)
		standin_finish(vm->standin, code & 0xff, STANDIN_TIMEOUT_MS);
	if (!vm->cfg->exec)
		release_container(vm);
	/* after the pod's QEMU, which a sandbox's cgroup holds, has gone */
	host_cgroup_cleanup(&vm->cgroup);
	record_stopped(vm, code);
}

/* --- create ------------------------------------------------------------------------- */

static char *resolve_ns(OciNamespaceType type, const char *host_path, gpointer data, GError **error)
{
	MonitorVm *vm = data;
	return pod_resolve_namespace(vm->root, vm->role.pod_id, vm->role.sandbox, type, host_path, error);
}

/* The agent's own steps of create_container (its reply's steps_us,
 * docs/protocol.md), logged for the sandbox (the pod-ready timeline,
 * tests/bench). Guest figures: each clamped to the call's duration on
 * our clock, so a lying guest changes no more than this one log line. */
static void log_guest_create_steps(MonitorVm *vm, const CkCreateSteps *t, gint64 call_us)
{
	const gint64 us[] = {t->spec, t->stdio, t->cgroup, t->plan, t->namespaces, t->setup, t->done};
	double s[G_N_ELEMENTS(us)];

	if (!vm->role.sandbox || t->done == 0)
		return;
	for (gsize i = 0; i < G_N_ELEMENTS(us); i++)
		s[i] = CLAMP(us[i], 0, call_us) / 1e6;
	ck_log_info("pod %s: sandbox container in the guest in %.3f s: spec %.3f s, stdio %.3f s, cgroup %.3f s, "
		    "plan %.3f s, namespaces and fork %.3f s, rootfs and mounts %.3f s, bookkeeping %.3f s",
		    vm->role.pod_id, call_us / 1e6, s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
}

/* What the guest agent said of itself in its version answer, as the pod
 * monitor recorded it (guest.json) before serving the pod's containers,
 * the sandbox's own included; a pod with no record (an older monitor, or
 * one that could not write it) is asked. */
static gboolean guest_facts(MonitorVm *vm, PodGuestFacts *out, GError **error)
{
	CkVersionArgs args = {.protocol = CK_PROTO_VERSION};
	CkVersionResult v = {0};

	if (pod_read_guest(vm->root, vm->role.pod_id, out))
		return TRUE;
	if (!agent_client_op(vm->agent, CK_OP_VERSION, &args, &v, REQUEST_TIMEOUT_MS, error))
		return FALSE;
	*out = (PodGuestFacts){.seccomp_bpf = v.seccomp_bpf, .compat_abis = g_steal_pointer(&v.compat_abis)};
	ck_msg_clear_result(CK_OP_VERSION, &v);
	return TRUE;
}

/* linux.seccomp compiled here, where libseccomp runs natively, into the
 * program the guest only loads (docs/protocol.md, create_container): under
 * TCG the agent took 25-70 ms to compile a profile and as long again to
 * generate its program. The profile then stays on the host. Its errors
 * read as the agent's did. An agent that does not take programs (of a pod
 * started before it did) gets the profile, as before. */
static gboolean compile_seccomp(MonitorVm *vm, CkCreateContainerArgs *args, GError **error)
{
	g_auto(PodGuestFacts) guest = {0};
	g_autoptr(OciSeccomp) filter = NULL;
	g_autoptr(GBytes) program = NULL;
	guint flags = 0;

	if (vm->spec->seccomp == NULL)
		return TRUE;
	if (!guest_facts(vm, &guest, error))
		return FALSE;
	if (!guest.seccomp_bpf)
		return TRUE;
	/* an agent that did not say: every listed architecture stays */
	OciSeccompAbis abis = {.probed = guest.compat_abis != NULL};
	if (abis.probed) {
		abis.ia32 = g_strv_contains((const char *const *)guest.compat_abis, "ia32");
		abis.x32 = g_strv_contains((const char *const *)guest.compat_abis, "x32");
	}
	filter = oci_seccomp_compile(vm->spec->seccomp, "linux.seccomp", &abis, error);
	if (filter == NULL || !oci_seccomp_export_bpf(filter, &program, &flags, error)) {
		g_prefix_error(error, "create container %s: ", vm->cfg->cid);
		return FALSE;
	}
	gsize len = 0;
	gconstpointer data = g_bytes_get_data(program, &len);
	args->seccomp_bpf = g_base64_encode(data, len);
	args->seccomp_flags = flags;
	vm->spec->seccomp = NULL; /* borrowed from the spec's tree */
	return TRUE;
}

static gboolean guest_create(MonitorVm *vm, GError **error)
{
	g_autofree char *share = pod_share_dir(vm->root, vm->role.pod_id);
	g_autofree char *rootfs = NULL;

	if (!guest_spec_prepare(vm->spec, vm->cfg->bundle_path, share, vm->cfg->cid, resolve_ns, vm,
				!vm->config->runtime.disable_guest_seccomp, &rootfs, error))
		return FALSE;
	vm->shared = TRUE;
	vm->t_prepared = g_get_monotonic_time();
	CkCreateContainerArgs args = {.id = vm->cfg->cid, .rootfs = rootfs, .stdin_ = vm->cfg->use_stdin};
	g_autofree char *program = NULL;
	if (!compile_seccomp(vm, &args, error))
		return FALSE;
	program = args.seccomp_bpf;
	gsize len = 0;
	g_autofree char *spec_json = oci_spec_to_json(vm->spec, &len, error);
	g_auto(yajl_val) spec_tree = spec_json ? ck_json_parse(spec_json, len, "spec", error) : NULL;
	if (spec_tree == NULL)
		return FALSE;
	args.spec = spec_tree;
	CkSpawnResult result = {0};
	gint64 call = g_get_monotonic_time();
	if (!agent_client_op(vm->agent, CK_OP_CREATE_CONTAINER, &args, &result, REQUEST_TIMEOUT_MS, error))
		return FALSE;
	vm->created_in_guest = TRUE;
	vm->handle = result.handle;
	log_guest_create_steps(vm, &result.steps_us, g_get_monotonic_time() - call);
	return TRUE;
}

static gboolean write_state(MonitorVm *vm, GError **error)
{
	g_autoptr(ContainerState) st = container_state_new(vm->cfg->cid);
	g_autofree char *now = ck_log_timestamp();
	GHashTableIter it;
	gpointer k, v;

	st->pod_id = g_strdup(vm->role.pod_id);
	st->sandbox = vm->role.sandbox;
	st->kind = CONTAINER_KIND_VM;
	st->bundle = g_strdup(vm->cfg->bundle_path);
	st->rootfs = g_build_filename(vm->cfg->bundle_path, "rootfs", NULL);
	st->created = g_steal_pointer(&now);
	st->pid = reported_pid(vm);
	st->pid_start = proc_start_time(st->pid);
	st->monitor_pid = getpid();
	st->monitor_start = proc_start_time(st->monitor_pid);
	st->control_socket = pod_socket_path(vm->root, vm->role.pod_id);
	st->guest_handle = vm->handle;
	g_hash_table_iter_init(&it, vm->spec->annotations);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_hash_table_insert(st->annotations, g_strdup(k), g_strdup(v));
	int lock = container_state_lock(vm->root, st->id, TRUE, TRUE, error);
	if (lock < 0)
		return FALSE;
	gboolean ok = container_state_write(vm->root, st, error) &&
		      container_state_save_spec(vm->root, st->id, vm->cfg->bundle_path, error);
	close(lock);
	if (ok)
		vm->state = g_steal_pointer(&st);
	return ok;
}

/* Undoes a create that did not get as far as reporting the pid. */
static void undo_create(MonitorVm *vm)
{
	g_autoptr(GError) error = NULL;

	if (vm->created_in_guest && vm->agent != NULL) {
		CkContainerArgs args = {.id = vm->cfg->cid};
		(void)agent_client_op(vm->agent, CK_OP_REMOVE_CONTAINER, &args, NULL, REQUEST_TIMEOUT_MS, NULL);
	}
	if (vm->standin != NULL)
		standin_finish(vm->standin, 1, 1000);
	if (vm->shared) {
		g_autofree char *share = pod_share_dir(vm->root, vm->role.pod_id);
		if (!guest_spec_release(share, vm->cfg->cid, &error))
			ck_log_warning("%s", error->message);
	}
	if (vm->pod != NULL) {
		/* no state will point at this pod: nobody would remove it later */
		g_autofree char *dir = pod_dir(vm->root, vm->role.pod_id);
		pod_monitor_stop(vm->pod);
		if (!ck_rm_rf(dir, &error))
			ck_log_warning("%s", error->message);
	}
	/* once QEMU, which may be in the sandbox's cgroup, has gone */
	host_cgroup_cleanup(&vm->cgroup);
	(void)container_state_remove(vm->root, vm->cfg->cid, NULL);
}

/* prestart then createRuntime (lib/host-hooks.h), in the pod's network
 * namespace: the stand-in joined it, even one the spec did not name. */
static gboolean run_create_hooks(MonitorVm *vm, GError **error)
{
	g_autofree char *netns = NULL;

	if (vm->standin != NULL)
		netns = g_strdup_printf("/proc/%d/ns/net", (int)reported_pid(vm));
	return host_hooks_run_create(vm->root, vm->cfg->cid, vm->cfg->bundle_path, reported_pid(vm),
				     netns != NULL ? netns : vm->netns_path, error);
}

/* The sandbox's io.katacontainers.* annotations configure its pod's VM
 * (docs/configuration.md, "Annotations"); any other container's are
 * refused, as they could not take effect. */
static gboolean apply_annotations(MonitorVm *vm, GError **error)
{
	if (vm->role.sandbox)
		return annotations_apply(vm->config, vm->spec->annotations, error);
	return annotations_check_container(vm->spec->annotations, vm->role.pod_annotations, error);
}

/* The sandbox's path to its pid, one info line in seconds per step (the
 * benchmarks read it: tests/bench/README.md, the pod-ready timeline):
 * from create's start (t0) through the pod monitor's steps, the bundle in
 * the pod's share (t_prepared) and the sandbox container made in the
 * guest (t_guest) to the pid (now). */
static void log_sandbox_ready(MonitorVm *vm)
{
	PodStartMoments pm;
	gint64 now = g_get_monotonic_time(), t0 = vm->t0, t_prepared = vm->t_prepared, t_guest = vm->t_guest;

	if (vm->pod == NULL)
		return;
	pod_monitor_get_start_moments(vm->pod, &pm);
	ck_log_info("pod %s: sandbox ready in %.3f s: monitor set-up %.3f s, pod set-up %.3f s, VM boot %.3f s, "
		    "guest network %.3f s, create_sandbox %.3f s, control socket and port forwarding %.3f s, "
		    "sandbox container: bundle into the share %.3f s, create_container %.3f s, stand-in, state and "
		    "hooks %.3f s",
		    vm->role.pod_id, (now - t0) / 1e6, (pm.begin - t0) / 1e6, (pm.booting - pm.begin) / 1e6,
		    (pm.vm_up - pm.booting) / 1e6, (pm.network - pm.vm_up) / 1e6, (pm.sandbox - pm.network) / 1e6,
		    (pm.serving - pm.sandbox) / 1e6, (t_prepared - pm.serving) / 1e6, (t_guest - t_prepared) / 1e6,
		    (now - t_guest) / 1e6);
}

/* What needs neither the monitor's I/O nor the pod. */
static gboolean create_prepare(MonitorVm *vm, GError **error)
{
	g_autoptr(ContainerState) existing = container_state_read(vm->root, vm->cfg->cid, NULL);

	vm->t0 = g_get_monotonic_time();
	vm->t_prepared = vm->t_guest = vm->t0;
	if (existing != NULL) {
		/* not ours to undo */
		vm->existing = TRUE;
		g_set_error(error, CK_ERROR, CK_ERROR_EXISTS, "container with id %s already exists", vm->cfg->cid);
		return FALSE;
	}
	return (!vm->role.sandbox || pod_check_sandbox_namespaces(vm->spec, error)) && apply_annotations(vm, error);
}

static gboolean create_spawn(MonitorVm *vm, pid_t *out_pid, GError **error)
{
	if (!monitor_shim_setup(vm, error) || !connect_pod(vm, error) || !start_standin(vm, error) ||
	    !guest_create(vm, error))
		return FALSE;
	vm->t_guest = g_get_monotonic_time();
	connect_guest_io(vm);
	if (!standin_ready(vm, error) || !charge_pod(vm, error))
		return FALSE;
	*out_pid = reported_pid(vm);
	return TRUE;
}

static gboolean create_created(MonitorVm *vm, GError **error)
{
	if (!write_state(vm, error) || !run_create_hooks(vm, error))
		return FALSE;
	log_sandbox_ready(vm);
	return TRUE;
}

/* A process that could not start is told in runc's words; what CRI-O
 * reads is the cause (it prefixes "container create failed: " itself).
 * Undone before the caller hears of it: nothing half-made outlives the
 * failed create call. */
static int create_failed(MonitorVm *vm, GError **error)
{
	g_autofree char *runc_words = agent_error_start_failure((*error)->message);

	if (runc_words != NULL) {
		g_free((*error)->message);
		(*error)->message = g_steal_pointer(&runc_words);
	}
	if (!vm->existing)
		undo_create(vm);
	return 1;
}

/* --- exec -------------------------------------------------------------------------------- */

/* The size an exec's terminal starts with, when we know it already: the
 * caller's own terminal (shim mode), or a resize Podman or CRI-O wrote
 * into the ctl/winsz FIFOs before the process was started. */
static gboolean exec_console_size(MonitorVm *vm, guint16 *rows, guint16 *cols)
{
	int h, w;

	if (monitor_shim_console_size(vm, rows, cols))
		return TRUE;
	if (!vm->terminal || !vm->sink->pending_size(vm->sink->core, &h, &w) || (h == 0 && w == 0))
		return FALSE;
	*rows = (guint16)h;
	*cols = (guint16)w;
	return TRUE;
}

/* The exec's process object; with a terminal whose size we know at once
 * its consoleSize says it, so the guest pty has the size before the
 * process starts, as under runc (NULL: the spec's as it is). */
static yajl_val exec_process_sized(MonitorVm *vm, yajl_val process, GError **error)
{
	g_autoptr(CkJsonGen) req = NULL;
	guint16 rows, cols;
	gsize len = 0;

	if (!exec_console_size(vm, &rows, &cols))
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

static gboolean guest_exec(MonitorVm *vm, GError **error)
{
	g_auto(yajl_val) process = ck_json_parse_file(vm->cfg->exec_process_spec, 1024 * 1024, error);
	OciProcess parsed = {0};

	if (process == NULL || !oci_process_parse(process, "process", &parsed, error))
		return FALSE;
	vm->terminal = parsed.terminal;
	oci_process_clear(&parsed);
	vm->exec_id = g_strdup(vm->cfg->cuuid ? vm->cfg->cuuid : "");
	if (vm->exec_id[0] == '\0') {
		g_free(vm->exec_id);
		vm->exec_id = g_strdup_printf("exec-%d-%" G_GINT64_FORMAT, (int)getpid(), g_get_monotonic_time());
	}
	g_autoptr(GError) sizing = NULL;
	g_auto(yajl_val) sized = exec_process_sized(vm, process, &sizing);
	if (sizing != NULL) {
		g_propagate_error(error, g_steal_pointer(&sizing));
		return FALSE;
	}
	CkExecProcessArgs args = {.id = vm->cfg->cid,
				  .exec_id = vm->exec_id,
				  .process = sized != NULL ? sized : process,
				  .stdin_ = vm->cfg->use_stdin};
	CkSpawnResult result = {0};
	if (!agent_client_op(vm->agent, CK_OP_EXEC_PROCESS, &args, &result, REQUEST_TIMEOUT_MS, error))
		return FALSE;
	vm->handle = result.handle;
	return TRUE;
}

static gboolean exec_spawn(MonitorVm *vm, pid_t *out_pid, GError **error)
{
	if (!connect_pod(vm, error) || !start_standin(vm, error) || !guest_exec(vm, error) ||
	    !monitor_shim_setup(vm, error))
		return FALSE;
	connect_guest_io(vm);
	if (!standin_ready(vm, error))
		return FALSE;
	*out_pid = reported_pid(vm);
	return TRUE;
}

/* A process that could not start is told in runc's words ("exec failed:
 * unable to start container process: exec: ..."), which CRI-O and
 * Podman pass on and match; any other failure names the container (the
 * agent's own errors already do). A foreground `vmctl exec` that could
 * not start its process exits 255, as runc's does. */
static int exec_failed(MonitorVm *vm, GError **error)
{
	g_autofree char *prefix = g_strdup_printf("exec in %s: ", vm->cfg->cid);
	g_autofree char *runc_words = agent_error_start_failure((*error)->message);

	if (runc_words != NULL) {
		g_free((*error)->message);
		(*error)->message = g_strconcat("exec failed: ", runc_words, NULL);
	} else if (!g_str_has_prefix((*error)->message, prefix)) {
		g_prefix_error(error, "%s", prefix);
	}
	return vm->fds->shim ? 255 : 1;
}

/* --- the table ------------------------------------------------------------------------------ */

static gboolean vm_prepare(gpointer self, GError **error)
{
	MonitorVm *vm = self;

	return vm->cfg->exec || create_prepare(vm, error);
}

static gboolean vm_spawn(gpointer self, pid_t *out_pid, GError **error)
{
	MonitorVm *vm = self;

	return vm->cfg->exec ? exec_spawn(vm, out_pid, error) : create_spawn(vm, out_pid, error);
}

static gboolean vm_created(gpointer self, GError **error)
{
	MonitorVm *vm = self;

	return vm->cfg->exec || create_created(vm, error);
}

static int vm_failed(gpointer self, GError **error)
{
	MonitorVm *vm = self;

	return vm->cfg->exec ? exec_failed(vm, error) : create_failed(vm, error);
}

const MonitorBackend monitor_vm_backend = {
	.name = "vm",
	.prepare = vm_prepare,
	.spawn = vm_spawn,
	.created = vm_created,
	.failed = vm_failed,
	.reported = vm_reported,
	.terminal = vm_terminal,
	.output_fd = vm_output_fd,
	.write_stdin = vm_write_stdin,
	.close_stdin = vm_close_stdin,
	.resize = vm_resize,
	.kill = vm_kill,
	.release = vm_release,
};

/* --- the object ----------------------------------------------------------------------------- */

static MonitorVm *vm_new(const MonitorSink *sink, MonitorConfig *cfg, const MonitorFds *fds, CkConfig *config,
			 const char *root)
{
	MonitorVm *vm = g_new0(MonitorVm, 1);

	vm->sink = sink;
	vm->cfg = cfg;
	vm->fds = fds;
	vm->config = config;
	vm->root = g_strdup(root);
	vm->passthrough_in = -1;
	vm->host_pty = -1;
	return vm;
}

MonitorVm *monitor_vm_new_create(const MonitorSink *sink, MonitorConfig *cfg, const MonitorFds *fds, CkConfig *config,
				 const char *root, OciSpec *spec, WorkloadRole *role)
{
	MonitorVm *vm = vm_new(sink, cfg, fds, config, root);

	vm->spec = spec;
	vm->role = *role;
	memset(role, 0, sizeof *role);
	vm->terminal = spec->process.terminal;
	vm->netns_path = standin_netns(vm);
	return vm;
}

MonitorVm *monitor_vm_new_exec(const MonitorSink *sink, MonitorConfig *cfg, const MonitorFds *fds, CkConfig *config,
			       const char *root, ContainerState *state)
{
	MonitorVm *vm = vm_new(sink, cfg, fds, config, root);

	vm->state = state;
	vm->role.pod_id = g_strdup(state->pod_id);
	vm->netns_path = standin_netns(vm);
	return vm;
}

void monitor_vm_free(MonitorVm *vm)
{
	if (vm == NULL)
		return;
	if (vm->passthrough_source != 0)
		g_source_remove(vm->passthrough_source);
	guest_process_free(vm->proc);
	standin_free(vm->standin);
	agent_client_free(vm->agent);
	if (vm->pod != NULL) {
		pod_monitor_stop(vm->pod);
		pod_monitor_free(vm->pod);
	}
	container_state_free(vm->state);
	oci_spec_free(vm->spec);
	workload_role_clear(&vm->role);
	host_cgroup_clear(&vm->cgroup);
	g_free(vm->root);
	g_free(vm->exec_id);
	g_free(vm->netns_path);
	g_free(vm->stop_reason);
	g_free(vm);
}
