/* pod: VM, sandbox and control socket of a pod (see pod.h). */
#include "pod.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-log.h"
#include "proto/ck-message.h"
#include "lib/guest-spec.h"
#include "lib/host-cgroup.h"
#include "lib/pod-net.h"
#include "lib/qemu-vm.h"
#include "pod-mux.h"
#include "pod-size.h"
#include "portfwd.h"
#include "signals.h"

#define SHUTDOWN_TIMEOUT_MS 10000
#define SANDBOX_TIMEOUT_MS 30000
/* QEMU's death closes the agent channel first; its exit status, which
 * says why, follows within this time */
#define QEMU_EXIT_GRACE_MS 1000
#define STOP_REASON_FILE "stopped"
#define STOP_REASON_MAX 1024
/* how much of the panic's line is quoted (the guest wrote it: bounded,
 * printable); the console's tail searched for it is console-log.h's */
#define PANIC_QUOTE_MAX 160
#define PANIC_MARK "Kernel panic - not syncing: "

struct PodMonitor {
	char *id;
	char *root;
	char *dir;
	char *share_dir;
	QemuVm *vm;
	PodMux *mux;
	PodSizer *sizer;
	/* NULL: no namespace, or no sk_lookup. Kept when the pod dies (this
	 * may run inside a send of one of its relays) until pod_monitor_stop() */
	PortForward *portfwd;
	PodNet *net; /* tcfilter: the taps and filters in the pod's namespace */
	gboolean dead;
	char *closed_reason; /* the agent channel closed: why, until QEMU's exit says more */
	char *kill_reason;   /* why we stopped QEMU ourselves (the watchdog) */
	guint closed_grace;
	PodDeadFunc on_dead;
	gpointer user_data;
	/* the agent watchdog (keepalive_timeout) */
	guint keepalive;
	guint32 keepalive_s;
	gint64 last_answer_us;
	gboolean ping_pending;
	/* the OOM counters of QEMU's memory cgroup, once it joined the
	 * sandbox's (NULL: none to watch), and their sum then */
	char *oom_file;
	guint64 ooms;
	int oom_score_adj; /* the sandbox's, for QEMU */
	PodStartMoments moments;
};

char *pod_stop_reason_path(const char *root, const char *pod_id)
{
	g_autofree char *dir = pod_dir(root, pod_id);

	return g_build_filename(dir, STOP_REASON_FILE, NULL);
}

char *pod_read_stop_reason(const char *root, const char *pod_id)
{
	g_autofree char *path = pod_stop_reason_path(root, pod_id);
	g_autofree char *text = NULL;

	if (!ck_file_read_bounded(path, STOP_REASON_MAX, &text, NULL, NULL))
		return NULL;
	/* one line of valid text, whoever wrote the file */
	text[strcspn(text, "\r\n")] = '\0';
	return g_utf8_validate(text, -1, NULL) && *text != '\0' ? g_steal_pointer(&text) : NULL;
}

/* Why the pod's VM stopped, with the console log where the guest's last
 * words are, in the pod directory for every monitor of the pod to read
 * (before their connections close) and report where CRI-O and Podman
 * look: the monitor's log, the container's log, `vmctl state`. */
static void record_stop_reason(PodMonitor *pod, const char *reason, const char *root)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = pod_stop_reason_path(root, pod->id);
	const char *console = pod->vm != NULL ? qemu_vm_get_console_log(pod->vm) : NULL;
	g_autofree char *text = console != NULL
					? g_strdup_printf("the pod's VM stopped: %s (console log: %s)", reason, console)
					: g_strdup_printf("the pod's VM stopped: %s", reason);

	ck_log_error("pod %s: %s", pod->id, text);
	if (!ck_file_write_atomic(path, text, strlen(text), 0644, FALSE, &error))
		ck_log_warning("pod %s: %s", pod->id, error->message);
}

static void pod_dead(PodMonitor *pod, const char *reason)
{
	if (pod->dead)
		return;
	pod->dead = TRUE;
	g_clear_handle_id(&pod->closed_grace, g_source_remove);
	record_stop_reason(pod, reason, pod->root);
	/* every monitor of the pod sees its connection close */
	if (pod->mux != NULL)
		pod_mux_disconnect_all(pod->mux);
	if (pod->on_dead != NULL)
		pod->on_dead(reason, pod->user_data);
}

/* QEMU died of SIGKILL and its memory cgroup counts an OOM kill more
 * than when it joined: the host's OOM killer (the cgroup's limit, or the
 * host out of memory) took the whole VM. Read before anything of the pod
 * is torn down: the cgroup outlives QEMU until the sandbox's end. */
static char *host_oom_reason(PodMonitor *pod, int status)
{
	guint64 now;

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL || pod->kill_reason != NULL || pod->oom_file == NULL ||
	    !host_cgroup_oom_count(pod->oom_file, &now) || now <= pod->ooms)
		return NULL;
	return g_strdup_printf("QEMU was killed by the host's OOM killer (%s: OOM kills %" G_GUINT64_FORMAT
			       " -> %" G_GUINT64_FORMAT ")",
			       pod->oom_file, pod->ooms, now);
}

/* A guest kernel panic ends the VM: the kernel reboots (panic=1 on its
 * command line) and QEMU, under -no-reboot, exits with status 0. What the
 * panic said is the console's last "Kernel panic - not syncing: " line,
 * quoted in printable ASCII only; NULL without one. */
static char *guest_panic(PodMonitor *pod)
{
	g_autofree char *tail = qemu_vm_get_console_tail(pod->vm);
	const char *mark = NULL;

	for (const char *p = tail; p != NULL && (p = strstr(p, PANIC_MARK)) != NULL; p++)
		mark = p;
	if (mark == NULL)
		return NULL;
	GString *quote = g_string_new(NULL);
	for (const char *p = mark; *p != '\0' && *p != '\r' && *p != '\n' && quote->len < PANIC_QUOTE_MAX; p++)
		g_string_append_c(quote, g_ascii_isprint(*p) ? *p : '?');
	return g_string_free(quote, FALSE);
}

static void on_qemu_exit(pid_t pid, int status, gpointer data)
{
	PodMonitor *pod = data;
	g_autofree char *reason = host_oom_reason(pod, status);
	g_autofree char *panic = NULL;

	(void)pid;
	qemu_vm_notify_exited(pod->vm, status);
	if (reason == NULL && WIFSIGNALED(status))
		reason = g_strdup_printf("QEMU exited with signal %d", WTERMSIG(status));
	else if (reason == NULL && pod->kill_reason == NULL && (panic = guest_panic(pod)) != NULL)
		reason = g_strdup_printf("the guest kernel panicked (%s): QEMU exited with status %d", panic,
					 WEXITSTATUS(status));
	else if (reason == NULL)
		reason = g_strdup_printf("QEMU exited with status %d", WEXITSTATUS(status));
	if (pod->kill_reason != NULL) {
		char *why = g_strdup_printf("%s: %s", pod->kill_reason, reason);
		g_free(reason);
		reason = why;
	}
	pod_dead(pod, reason);
}

/* Stops QEMU ourselves (pod->kill_reason says why). qemu_vm_kill() reaps
 * it, so the reaper's watch never hears of its death: the pod goes the
 * way it goes when QEMU dies by itself, from here. */
static void kill_qemu(PodMonitor *pod)
{
	pid_t pid = qemu_vm_get_pid(pod->vm);
	int status = 0;

	qemu_vm_kill(pod->vm);
	signals_unwatch_child(pid);
	(void)qemu_vm_has_exited(pod->vm, &status);
	on_qemu_exit(pid, status, pod);
}

/* --- the agent watchdog ------------------------------------------------------------- */

static void on_ping_reply(AgentClient *c, yajl_val result, const GError *error, gpointer data)
{
	PodMonitor *pod = data;

	(void)c;
	(void)result;
	pod->ping_pending = FALSE;
	if (error == NULL)
		pod->last_answer_us = g_get_monotonic_time();
}

/* QEMU runs but the agent has answered nothing for keepalive_timeout
 * seconds: a wedged guest. Stopping QEMU turns that into the pod-lost path
 * every container already handles (exit files with 137, stand-ins exit). */
static gboolean on_keepalive(gpointer data)
{
	PodMonitor *pod = data;
	gint64 silent_s = (g_get_monotonic_time() - pod->last_answer_us) / G_USEC_PER_SEC;

	if (pod->dead) {
		pod->keepalive = 0;
		return G_SOURCE_REMOVE;
	}
	if (silent_s >= pod->keepalive_s) {
		g_free(pod->kill_reason);
		pod->kill_reason = g_strdup_printf("the agent did not answer for %" G_GINT64_FORMAT
						   " s (keepalive_timeout), so QEMU was stopped",
						   silent_s);
		ck_log_error("pod %s: %s", pod->id, pod->kill_reason);
		pod->keepalive = 0;
		kill_qemu(pod);
		return G_SOURCE_REMOVE;
	}
	if (!pod->ping_pending) {
		g_autoptr(CkJsonGen) req = ck_msg_request(CK_OP_PING, NULL);
		pod->ping_pending = TRUE;
		agent_client_call_async(qemu_vm_get_agent(pod->vm), req, on_ping_reply, pod);
	}
	return G_SOURCE_CONTINUE;
}

static void start_keepalive(PodMonitor *pod, guint32 timeout_s)
{
	if (timeout_s == 0)
		return;
	pod->keepalive_s = timeout_s;
	pod->last_answer_us = g_get_monotonic_time();
	pod->keepalive = g_timeout_add(MAX(250u, timeout_s * 1000u / 4u), on_keepalive, pod);
}

static gboolean on_closed_grace(gpointer data)
{
	PodMonitor *pod = data;

	pod->closed_grace = 0;
	pod_dead(pod, pod->closed_reason);
	return G_SOURCE_REMOVE;
}

static void on_agent_closed(AgentClient *c, const GError *error, gpointer data)
{
	PodMonitor *pod = data;

	if (pod->dead || pod->closed_grace != 0)
		return;
	/* a hostile or broken guest: nothing it says can be trusted any more */
	if (agent_client_violation(c) != NULL && pod->kill_reason == NULL) {
		pod->kill_reason = g_strdup_printf("the agent broke the protocol (%s), so QEMU was stopped",
						   agent_client_violation(c));
		ck_log_error("pod %s: %s", pod->id, pod->kill_reason);
		kill_qemu(pod);
		return;
	}
	g_free(pod->closed_reason);
	pod->closed_reason =
	    g_strdup_printf("the agent's connection closed: %s", error ? error->message : "end of file");
	pod->closed_grace = g_timeout_add(QEMU_EXIT_GRACE_MS, on_closed_grace, pod);
}

static const char *netns_of(const OciSpec *spec)
{
	const OciNamespace *ns = oci_spec_find_namespace(spec, OCI_NS_NETWORK);
	return ns != NULL ? ns->path : NULL;
}

static gboolean create_sandbox(PodMonitor *pod, const PodOptions *opts, GError **error)
{
	AgentClient *agent = qemu_vm_get_agent(pod->vm);
	CkCreateSandboxArgs args = {
	    .hostname = opts->spec->hostname,
	    .share_tag = "kataShared",
	    .msize_9p = opts->config->hypervisor.msize_9p,
	};

	/* Kata's guest hooks: a directory of the guest image, "" for none */
	if (*opts->config->hypervisor.guest_hook_path != '\0')
		args.guest_hook_path = opts->config->hypervisor.guest_hook_path;
	return agent_client_op(agent, CK_OP_CREATE_SANDBOX, &args, NULL, SANDBOX_TIMEOUT_MS, error);
}

/* --- networking (docs/networking.md) ------------------------------------------------- */

static gboolean carry_network(PodMonitor *pod, const PodOptions *opts, VmNic *nics, guint *n_nics, GError **error)
{
	const char *netns = netns_of(opts->spec);
	g_autofree char *record = g_build_filename(pod->dir, POD_NET_RECORD, NULL);

	*n_nics = 0;
	/* "none": no NIC. The path itself was checked with the sandbox's other
	 * namespace paths before the pod started (pod_check_sandbox_namespaces) */
	if (netns == NULL || !g_str_equal(opts->config->runtime.internetworking_model, "tcfilter"))
		return TRUE;
	pod->net = pod_net_setup(netns, record, error);
	if (pod->net == NULL)
		return FALSE;
	*n_nics = pod_net_count(pod->net);
	for (guint i = 0; i < *n_nics; i++) {
		nics[i].fd = pod_net_tap_fd(pod->net, i);
		g_strlcpy(nics[i].mac, pod_net_mac(pod->net, i), sizeof nics[i].mac);
	}
	return TRUE;
}

static gboolean setup_guest_network(PodMonitor *pod, GError **error)
{
	if (pod->net == NULL)
		return TRUE;
	CkSetupNetworkArgs args = {0};
	pod_net_request(pod->net, &args);
	gboolean ok =
	    agent_client_op(qemu_vm_get_agent(pod->vm), CK_OP_SETUP_NETWORK, &args, NULL, SANDBOX_TIMEOUT_MS, error);
	pod_net_request_clear(&args);
	if (!ok)
		return FALSE;
	g_autofree char *what = pod_net_describe(pod->net);
	ck_log_info("pod %s: network: %s", pod->id, what);
	return TRUE;
}

static void teardown_network(PodMonitor *pod)
{
	g_autoptr(GError) error = NULL;

	if (pod->net != NULL && !pod_net_teardown(pod->net, &error))
		ck_log_warning("pod %s: %s", pod->id, error->message);
	g_clear_pointer(&pod->net, pod_net_free);
}

static gboolean boot(PodMonitor *pod, const PodOptions *opts, GError **error)
{
	WorkloadSize declared = {0}, own = {0};
	const char *declared_by = NULL;

	/* CRI-O >= 1.28 and containerd >= 1.6.7 announce the whole pod;
	 * otherwise the sandbox's own limits (a Podman container is its own
	 * pod) and growth later */
	if (!sizing_from_pod_annotations(opts->spec->annotations, &declared, &declared_by, error))
		return FALSE;
	if (opts->spec->has_resources)
		own = sizing_from_resources(&opts->spec->resources);
	WorkloadSize boot_size = {.vcpus = MAX(declared.vcpus, own.vcpus),
				  .mem_bytes = MAX(declared.mem_bytes, own.mem_bytes)};
	QemuVmOptions vm_opts = {
		.config = opts->config,
		.run_dir = pod->dir,
		.state_root = opts->root,
		.name = pod->id,
		.share_dir = pod->share_dir,
		.netns_path = netns_of(opts->spec),
		.spawning = opts->spawning,
		.spawned = opts->spawned,
		.spawn_data = opts->spawn_data,
	};
	sizing_boot(opts->config, &boot_size, (int)g_get_num_processors(), &vm_opts.vcpus, &vm_opts.memory_mib);
	VmNic nics[POD_NET_MAX_IFACES];
	if (!carry_network(pod, opts, nics, &vm_opts.n_nics, error))
		return FALSE;
	vm_opts.nics = nics;

	pod->moments.booting = g_get_monotonic_time();
	pod->vm = qemu_vm_boot(&vm_opts, error);
	if (pod->vm == NULL)
		return FALSE;
	pod->moments.vm_up = g_get_monotonic_time();
	signals_watch_child(qemu_vm_get_pid(pod->vm), on_qemu_exit, pod);
	agent_client_set_closed_func(qemu_vm_get_agent(pod->vm), on_agent_closed, pod);
	pod->sizer = pod_sizer_new(opts->config, pod->vm, pod->id, declared_by != NULL ? &declared : NULL);
	pod_sizer_set(pod->sizer, opts->pod_id, &own);
	g_autofree char *why = declared_by != NULL ? g_strdup_printf(" (sized from %s)", declared_by) : g_strdup("");
	ck_log_info("pod %s: VM of %d vCPUs and %u MiB%s", pod->id, vm_opts.vcpus, vm_opts.memory_mib, why);
	if (!setup_guest_network(pod, error))
		return FALSE;
	pod->moments.network = g_get_monotonic_time();
	if (!create_sandbox(pod, opts, error))
		return FALSE;
	pod->moments.sandbox = g_get_monotonic_time();
	start_keepalive(pod, opts->config->agent.keepalive_timeout);
	return TRUE;
}

static gboolean on_request(CkOp op, yajl_val request, gpointer data, GError **error)
{
	PodMonitor *pod = data;

	/* the monitor's own (portfwd.h): a client's port connection would
	 * have nobody to end it */
	if (op == CK_OP_CONNECT_PORT)
		return ck_set_error(error, CK_ERROR_PERMISSION, "connect_port: only the pod monitor forwards ports");
	if (pod->sizer != NULL && !pod->dead)
		pod_sizer_on_request(pod->sizer, op, request);
	return TRUE;
}

/* 127.0.0.1:PORT in the pod's network namespace reaches the guest's
 * (docs/port-forward.md); a pod runs on without it. */
static void start_port_forward(PodMonitor *pod, const OciSpec *spec)
{
	g_autoptr(GError) error = NULL;
	const char *netns = netns_of(spec);

	if (netns == NULL)
		return;
	pod->portfwd = port_forward_new(qemu_vm_get_agent(pod->vm), pod->id, netns, &error);
	if (pod->portfwd == NULL)
		ck_log_warning("pod %s: no port forwarding (it needs sk_lookup, Linux >= 5.9, and CAP_BPF with "
			       "CAP_NET_ADMIN): %s",
			       pod->id, error->message);
}

/* The pod's folder: its control socket, QEMU's logs and pid file, the
 * share. Ours alone, 0700 even when an earlier monitor left it 0711
 * (docs/security.md). */
static gboolean private_dir(const char *dir, GError **error)
{
	if (!ck_mkdir_p(dir, 0700, error))
		return FALSE;
	if (chmod(dir, 0700) < 0)
		return ck_set_error_errno(error, errno, "chmod %s", dir);
	return TRUE;
}

/* A pod that never came up: nothing will ever point at its directory
 * (the error carries QEMU's own last words), so it goes too. */
static void pod_monitor_abandon(PodMonitor *pod)
{
	g_autoptr(GError) error = NULL;

	pod_monitor_stop(pod);
	if (!ck_rm_rf(pod->dir, &error))
		ck_log_warning("pod %s: %s", pod->id, error->message);
	pod_monitor_free(pod);
}

/* One info line with the boot's phases (host and guest clocks), which the
 * benchmarks read (tests/bench/README.md, the pod-ready timeline). */
static void log_boot(PodMonitor *pod)
{
	QemuVmBootPhases ph;

	qemu_vm_get_boot_phases(pod->vm, &ph);
	ck_log_info("pod %s: VM up in %.3f s (%s): QEMU exec to kernel %.3f s, kernel to /init %.3f s, "
		    "/init to agent ready %.3f s, to its answer %.3f s",
		    pod->id, qemu_vm_get_boot_us(pod->vm) / 1e6, ck_accel_to_string(qemu_vm_get_accel(pod->vm)),
		    ph.exec_to_kernel_us / 1e6, ph.kernel_to_init_us / 1e6, ph.init_to_ready_us / 1e6,
		    ph.ready_to_answer_us / 1e6);
}

PodMonitor *pod_monitor_start(const PodOptions *opts, GError **error)
{
	g_autoptr(GError) local = NULL;
	PodMonitor *pod = g_new0(PodMonitor, 1);

	pod->id = g_strdup(opts->pod_id);
	pod->root = g_strdup(opts->root);
	pod->dir = pod_dir(opts->root, opts->pod_id);
	pod->share_dir = pod_share_dir(opts->root, opts->pod_id);
	pod->on_dead = opts->on_dead;
	pod->user_data = opts->user_data;
	pod->oom_score_adj = opts->spec->process.has_oom_score_adj ? opts->spec->process.oom_score_adj : 0;
	pod->moments.begin = g_get_monotonic_time();

	/* a directory left by a pod whose monitor died: its mounts go first */
	if (!guest_share_destroy(pod->share_dir, &local) || !private_dir(pod->dir, &local) ||
	    !guest_share_init(pod->share_dir, &local) ||
	    !pod_record_namespaces(opts->root, opts->pod_id, opts->spec, &local) || !boot(pod, opts, &local)) {
		g_propagate_prefixed_error(error, g_steal_pointer(&local), "pod %s: ", opts->pod_id);
		pod_monitor_abandon(pod);
		return NULL;
	}
	/* before the control socket: the pod's other containers read it */
	const CkVersionResult *guest = qemu_vm_get_guest_info(pod->vm);
	PodGuestFacts facts = {.seccomp_bpf = guest->seccomp_bpf, .compat_abis = guest->compat_abis};
	if (!pod_record_guest(opts->root, opts->pod_id, &facts, &local))
		ck_log_warning("pod %s: %s", opts->pod_id, local->message);
	g_clear_error(&local);
	g_autofree char *sock = pod_socket_path(opts->root, opts->pod_id);
	pod->mux = pod_mux_new(qemu_vm_get_agent(pod->vm), sock, error);
	if (pod->mux == NULL) {
		pod_monitor_abandon(pod);
		return NULL;
	}
	pod_mux_set_request_func(pod->mux, on_request, pod);
	start_port_forward(pod, opts->spec);
	pod->moments.serving = g_get_monotonic_time();
	log_boot(pod);
	return pod;
}

/* What the kernel's OOM killer would weigh for the pod's process (the
 * sandbox's oomScoreAdj): QEMU must not keep the monitor's -1000, or a
 * memory cgroup at its limit would find nothing to kill and stall.
 * Without CAP_SYS_RESOURCE a value below the caller's is refused; QEMU
 * then keeps the caller's (the monitor's -1000 was refused too). */
static void set_oom_score_adj(pid_t pid, int adj)
{
	g_autofree char *file = g_strdup_printf("/proc/%d/oom_score_adj", (int)pid);
	g_autofree char *text = g_strdup_printf("%d", adj);
	int fd = open(file, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		ck_log_debug("QEMU: write %s to %s: %s", text, file, g_strerror(errno));
	if (fd >= 0)
		close(fd);
}

gboolean pod_monitor_charge(PodMonitor *pod, pid_t beside, GError **error)
{
	pid_t qemu = qemu_vm_get_pid(pod->vm);

	if (!host_cgroup_move_beside(qemu, beside, error)) {
		g_prefix_error(error, "QEMU: ");
		return FALSE;
	}
	set_oom_score_adj(qemu, pod->oom_score_adj);
	g_clear_pointer(&pod->oom_file, g_free);
	pod->oom_file = host_cgroup_oom_file(qemu);
	if (pod->oom_file != NULL && !host_cgroup_oom_count(pod->oom_file, &pod->ooms))
		g_clear_pointer(&pod->oom_file, g_free);
	if (pod->oom_file == NULL)
		ck_log_warning("pod %s: QEMU has no memory cgroup to watch for OOM kills", pod->id);
	return TRUE;
}

void pod_monitor_get_start_moments(const PodMonitor *pod, PodStartMoments *out)
{
	*out = pod->moments;
}

int pod_monitor_connect(PodMonitor *pod, GError **error)
{
	return pod_mux_connect_pair(pod->mux, error);
}

void pod_monitor_stop(PodMonitor *pod)
{
	g_autoptr(GError) error = NULL;
	gint64 t0 = g_get_monotonic_time(), t_vm = t0, t_net;
	gboolean had_vm = pod->vm != NULL;

	pod->dead = TRUE; /* what follows is expected, not a failure */
	g_clear_pointer(&pod->portfwd, port_forward_free);
	g_clear_handle_id(&pod->keepalive, g_source_remove);
	g_clear_handle_id(&pod->closed_grace, g_source_remove);
	if (pod->mux != NULL) {
		pod_mux_disconnect_all(pod->mux);
		g_clear_pointer(&pod->mux, pod_mux_free);
	}
	g_clear_pointer(&pod->sizer, pod_sizer_free);
	if (pod->vm != NULL) {
		agent_client_set_closed_func(qemu_vm_get_agent(pod->vm), NULL, NULL);
		/* the reaper's watch stays until QEMU is gone: it may well be
		 * the one that reaps it while the shutdown waits */
		if (!qemu_vm_shutdown(pod->vm, SHUTDOWN_TIMEOUT_MS, &error))
			ck_log_warning("pod %s: %s", pod->id, error->message);
		signals_unwatch_child(qemu_vm_get_pid(pod->vm));
		g_clear_pointer(&pod->vm, qemu_vm_free);
		t_vm = g_get_monotonic_time();
	}
	teardown_network(pod);
	t_net = g_get_monotonic_time();
	g_clear_error(&error);
	if (!guest_share_destroy(pod->share_dir, &error))
		ck_log_warning("pod %s: %s", pod->id, error->message);
	gint64 now = g_get_monotonic_time();
	/* the benchmarks read it (tests/bench/README.md) */
	if (had_vm)
		ck_log_info("pod %s: stopped in %.3f s: VM shutdown %.3f s, network teardown %.3f s, share released "
			    "%.3f s",
			    pod->id, (now - t0) / 1e6, (t_vm - t0) / 1e6, (t_net - t_vm) / 1e6, (now - t_net) / 1e6);
}

void pod_monitor_free(PodMonitor *pod)
{
	if (pod == NULL)
		return;
	g_clear_handle_id(&pod->keepalive, g_source_remove);
	port_forward_free(pod->portfwd);
	g_clear_handle_id(&pod->closed_grace, g_source_remove);
	g_free(pod->closed_reason);
	g_free(pod->kill_reason);
	g_free(pod->oom_file);
	g_free(pod->root);
	pod_mux_free(pod->mux);
	pod_sizer_free(pod->sizer);
	qemu_vm_free(pod->vm);
	teardown_network(pod);
	g_free(pod->id);
	g_free(pod->dir);
	g_free(pod->share_dir);
	g_free(pod);
}
