/* monitor: which backend runs the process (monitor-backend.h), and the
 * core (monitor-core.h) running it.
 *
 * The runtime is asked whether it is vmctl; if not, conmon-kata is plain
 * conmon (the trusted backend). An exec follows the container's state;
 * a create follows its pod's trust decision (lib/workload.h): the VM
 * backend for an untrusted pod, the trusted backend for one that runs on
 * the host. This file alone knows the backends; the core knows none.
 */
#include "monitor.h"

#include <signal.h>
#include <string.h>

#include "base/ck-error.h"
#include "base/ck-log.h"
#include "oci/oci-spec.h"
#include "lib/annotations.h"
#include "lib/config.h"
#include "lib/state.h"
#include "lib/workload.h"
#include "monitor-core.h"
#include "monitor-vm.h"
#include "signals.h"
#include "trusted.h"

typedef struct {
	MonitorConfig *cfg;
	const MonitorFds *fds;
	MonitorCore *core;
	CkConfig *config;
	char *root; /* the runtime's --root */
} Dispatch;

static int run_trusted(Dispatch *d)
{
	Trusted *t = trusted_new(monitor_core_sink(d->core), d->cfg);
	int status = monitor_core_run(d->core, &monitor_trusted_backend, t);

	trusted_free(t);
	return status;
}

static int run_vm(Dispatch *d, MonitorVm *vm)
{
	int status = monitor_core_run(d->core, &monitor_vm_backend, vm);

	monitor_vm_free(vm);
	return status;
}

/* Trusted or VM: the sandbox decides, every other container follows it. */
static int run_create(Dispatch *d)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = g_build_filename(d->cfg->bundle_path, "config.json", NULL);
	g_autofree char *decision = NULL;
	g_auto(WorkloadRole) role = {0};
	CkTrust trust;

	g_autoptr(OciSpec) spec = oci_spec_load_file(path, &error);
	if (spec == NULL || !workload_classify(spec, d->cfg->cid, &role, &error) ||
	    !workload_decide(d->config, d->root, spec, &role, &trust, &decision, &error))
		return monitor_core_fail(d->core, error);
	ck_log_info("container %s: %s", d->cfg->cid, decision);
	/* the VM path's state keeps the spec's annotations; on the trusted
	 * path vmctl records the same decision itself */
	g_hash_table_insert(spec->annotations, g_strdup(ANNOTATION_TRUST_DECISION), g_steal_pointer(&decision));
	if (trust == CK_TRUST_UNTRUSTED) /* the VM backend applies the annotations */
		return run_vm(d, monitor_vm_new_create(monitor_core_sink(d->core), d->cfg, d->fds, d->config, d->root,
						       g_steal_pointer(&spec), &role));
	if (!annotations_validate(d->config, role.sandbox, spec->annotations, role.pod_annotations, &error))
		return monitor_core_fail(d->core, error);
	return run_trusted(d);
}

static int run_exec(Dispatch *d)
{
	g_autoptr(GError) error = NULL;
	ContainerState *state = container_state_read(d->root, d->cfg->cid, &error);

	if (state == NULL)
		return monitor_core_fail(d->core, error);
	if (state->kind == CONTAINER_KIND_TRUSTED) {
		container_state_free(state);
		return run_trusted(d);
	}
	return run_vm(d, monitor_vm_new_exec(monitor_core_sink(d->core), d->cfg, d->fds, d->config, d->root, state));
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

static int run_as_conmon(Dispatch *d)
{
	ck_log_info("container %s: mode conmon: runtime %s is not vmctl, monitoring it as conmon would", d->cfg->cid,
		    d->cfg->runtime_path);
	return run_trusted(d);
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

static void on_signal(int sig, gpointer data)
{
	monitor_core_signal(data, sig);
}

int monitor_run(MonitorConfig *cfg, const MonitorFds *fds)
{
	static const int forward[] = {SIGTERM, SIGINT, SIGQUIT, 0};
	g_autoptr(GError) error = NULL;
	g_autofree char *config_path = cli_runtime_option(cfg, "config");
	g_autoptr(MonitorCore) core = monitor_core_new(cfg, fds);
	Dispatch d = {.cfg = cfg, .fds = fds, .core = core};
	int status;

	d.root = cli_runtime_option(cfg, "root");
	if (d.root == NULL)
		d.root = g_strdup(state_default_root());
	gboolean ours = fds->shim || runtime_is_vmctl(cfg);
	if (ours && !fds->shim)
		ck_log_info("container %s: mode conmon-kata: runtime %s is vmctl", cfg->cid, cfg->runtime_path);
	if (!signals_init(fds->shim ? signals_all_catchable() : forward, on_signal, core, &error) ||
	    (ours && (d.config = load_config(cfg, config_path, &error)) == NULL))
		status = monitor_core_fail(core, error);
	else if (!ours)
		status = run_as_conmon(&d);
	else
		status = cfg->exec ? run_exec(&d) : run_create(&d);
	ck_config_free(d.config);
	g_free(d.root);
	return status;
}
