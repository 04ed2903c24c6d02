/* pod: VM, sandbox and control socket of a pod (see pod.h). */
#include "pod.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "ck-error.h"
#include "ck-io.h"
#include "ck-json.h"
#include "ck-log.h"
#include "ck-message.h"
#include "guest-spec.h"
#include "pod-mux.h"
#include "pod-size.h"
#include "qemu-vm.h"
#include "signals.h"

#define SHUTDOWN_TIMEOUT_MS 10000
#define SANDBOX_TIMEOUT_MS 30000

struct PodMonitor {
	char *id;
	char *dir;
	char *share_dir;
	QemuVm *vm;
	PodMux *mux;
	PodSizer *sizer;
	gboolean dead;
	PodDeadFunc on_dead;
	gpointer user_data;
	/* the agent watchdog (keepalive_timeout) */
	guint keepalive;
	guint32 keepalive_s;
	gint64 last_answer_us;
	gboolean ping_pending;
};

static void pod_dead(PodMonitor *pod, const char *reason)
{
	if (pod->dead)
		return;
	pod->dead = TRUE;
	ck_log_error("pod %s: %s", pod->id, reason);
	/* every monitor of the pod sees its connection close */
	if (pod->mux != NULL)
		pod_mux_disconnect_all(pod->mux);
	if (pod->on_dead != NULL)
		pod->on_dead(reason, pod->user_data);
}

static void on_qemu_exit(pid_t pid, int status, gpointer data)
{
	PodMonitor *pod = data;
	g_autofree char *reason = NULL;

	(void)pid;
	qemu_vm_notify_exited(pod->vm, status);
	if (WIFSIGNALED(status))
		reason = g_strdup_printf("QEMU was killed by signal %d", WTERMSIG(status));
	else
		reason = g_strdup_printf("QEMU exited with status %d", WEXITSTATUS(status));
	pod_dead(pod, reason);
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
		ck_log_error("pod %s: the agent has not answered for %" G_GINT64_FORMAT " s (keepalive_timeout): "
			     "stopping QEMU",
			     pod->id, silent_s);
		pod->keepalive = 0;
		qemu_vm_kill(pod->vm);
		return G_SOURCE_REMOVE;
	}
	if (!pod->ping_pending) {
		g_autoptr(CkJsonGen) req = ck_msg_request_begin(CK_OP_PING);
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

static void on_agent_closed(AgentClient *c, const GError *error, gpointer data)
{
	(void)c;
	pod_dead(data, error ? error->message : "the agent connection closed");
}

static const char *netns_of(const OciSpec *spec)
{
	const OciNamespace *ns = oci_spec_find_namespace(spec, OCI_NS_NETWORK);
	return ns != NULL ? ns->path : NULL;
}

static gboolean create_sandbox(PodMonitor *pod, const PodOptions *opts, GError **error)
{
	AgentClient *agent = qemu_vm_get_agent(pod->vm);
	g_autoptr(CkJsonGen) req = ck_msg_request_begin("create_sandbox");

	ck_json_kv_string(req, "hostname", opts->spec->hostname);
	ck_json_kv_string(req, "share_tag", "kataShared");
	ck_json_kv_int(req, "msize_9p", opts->config->hypervisor.msize_9p);
	/* Kata's guest hooks: a directory of the guest image, "" for none */
	if (*opts->config->hypervisor.guest_hook_path != '\0')
		ck_json_kv_string(req, "guest_hook_path", opts->config->hypervisor.guest_hook_path);
	g_auto(yajl_val) reply = agent_client_call(agent, req, SANDBOX_TIMEOUT_MS, NULL, error);
	return reply != NULL;
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
	};
	sizing_boot(opts->config, &boot_size, (int)g_get_num_processors(), &vm_opts.vcpus, &vm_opts.memory_mib);

	pod->vm = qemu_vm_boot(&vm_opts, error);
	if (pod->vm == NULL)
		return FALSE;
	signals_watch_child(qemu_vm_get_pid(pod->vm), on_qemu_exit, pod);
	agent_client_set_closed_func(qemu_vm_get_agent(pod->vm), on_agent_closed, pod);
	pod->sizer = pod_sizer_new(opts->config, pod->vm, pod->id, declared_by != NULL ? &declared : NULL);
	pod_sizer_set(pod->sizer, opts->pod_id, &own);
	g_autofree char *why = declared_by != NULL ? g_strdup_printf(" (sized from %s)", declared_by) : g_strdup("");
	ck_log_info("pod %s: VM of %d vCPUs and %u MiB%s", pod->id, vm_opts.vcpus, vm_opts.memory_mib, why);
	if (!create_sandbox(pod, opts, error))
		return FALSE;
	start_keepalive(pod, opts->config->agent.keepalive_timeout);
	return TRUE;
}

static gboolean on_request(const char *op, yajl_val request, gpointer data, GError **error)
{
	PodMonitor *pod = data;

	(void)error;
	if (pod->sizer != NULL && !pod->dead)
		pod_sizer_on_request(pod->sizer, op, request);
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

PodMonitor *pod_monitor_start(const PodOptions *opts, GError **error)
{
	g_autoptr(GError) local = NULL;
	PodMonitor *pod = g_new0(PodMonitor, 1);

	pod->id = g_strdup(opts->pod_id);
	pod->dir = pod_dir(opts->root, opts->pod_id);
	pod->share_dir = pod_share_dir(opts->root, opts->pod_id);
	pod->on_dead = opts->on_dead;
	pod->user_data = opts->user_data;

	/* a directory left by a pod whose monitor died: its mounts go first */
	if (!guest_share_destroy(pod->share_dir, &local) || !ck_mkdir_p(pod->dir, 0711, &local) ||
	    !guest_share_init(pod->share_dir, &local) ||
	    !pod_record_namespaces(opts->root, opts->pod_id, opts->spec, &local) || !boot(pod, opts, &local)) {
		g_propagate_prefixed_error(error, g_steal_pointer(&local), "pod %s: ", opts->pod_id);
		pod_monitor_abandon(pod);
		return NULL;
	}
	g_autofree char *sock = pod_socket_path(opts->root, opts->pod_id);
	pod->mux = pod_mux_new(qemu_vm_get_agent(pod->vm), sock, error);
	if (pod->mux == NULL) {
		pod_monitor_abandon(pod);
		return NULL;
	}
	pod_mux_set_request_func(pod->mux, on_request, pod);
	ck_log_info("pod %s: VM up in %.2f s (%s)", pod->id, qemu_vm_get_boot_us(pod->vm) / 1e6,
		    ck_accel_to_string(qemu_vm_get_accel(pod->vm)));
	return pod;
}

int pod_monitor_connect(PodMonitor *pod, GError **error)
{
	return pod_mux_connect_pair(pod->mux, error);
}

void pod_monitor_stop(PodMonitor *pod)
{
	g_autoptr(GError) error = NULL;

	pod->dead = TRUE; /* what follows is expected, not a failure */
	g_clear_handle_id(&pod->keepalive, g_source_remove);
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
	}
	g_clear_error(&error);
	if (!guest_share_destroy(pod->share_dir, &error))
		ck_log_warning("pod %s: %s", pod->id, error->message);
}

void pod_monitor_free(PodMonitor *pod)
{
	if (pod == NULL)
		return;
	g_clear_handle_id(&pod->keepalive, g_source_remove);
	pod_mux_free(pod->mux);
	pod_sizer_free(pod->sizer);
	qemu_vm_free(pod->vm);
	g_free(pod->id);
	g_free(pod->dir);
	g_free(pod->share_dir);
	g_free(pod);
}
