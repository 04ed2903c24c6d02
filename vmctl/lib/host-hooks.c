/* host-hooks: the OCI hook stages that run on the host (see host-hooks.h). */
#include "host-hooks.h"

#include "base/ck-error.h"
#include "base/ck-log.h"
#include "hooks/hooks.h"

gboolean host_hooks_run_create(const char *root, const char *id, const char *bundle, pid_t pid,
			       const char *netns_path, GError **error)
{
	g_autoptr(OciSpec) spec = container_state_load_spec(root, id, error);

	if (spec == NULL)
		return FALSE;
	HooksContext hc = {
		.id = id,
		.status = "creating",
		.pid = pid,
		.bundle = bundle,
		.annotations = spec->annotations,
		.netns_path = netns_path,
	};
	return hooks_run_stage(spec, OCI_HOOK_PRESTART, &hc, error) &&
	       hooks_run_stage(spec, OCI_HOOK_CREATE_RUNTIME, &hc, error);
}

OciSpec *host_hooks_spec(const char *root, const char *id)
{
	g_autoptr(GError) error = NULL;
	OciSpec *spec = container_state_load_spec(root, id, &error);

	if (spec == NULL && !ck_error_is(error, CK_ERROR_NOT_FOUND))
		ck_log_warning("%s: hooks: %s", id, error->message);
	return spec;
}

void host_hooks_run_late(const ContainerState *st, const OciSpec *spec, OciHookStage stage)
{
	g_autofree char *netns = NULL;
	gboolean running = stage == OCI_HOOK_POSTSTART;

	if (spec == NULL)
		return;
	if (running && proc_is_alive(st->pid, st->pid_start))
		netns = g_strdup_printf("/proc/%d/ns/net", (int)st->pid);
	HooksContext hc = {
		.id = st->id,
		.status = running ? "running" : "stopped",
		.pid = running ? st->pid : 0,
		.bundle = st->bundle,
		.annotations = spec->annotations,
		.netns_path = netns,
	};
	(void)hooks_run_stage(spec, stage, &hc, NULL);
}
