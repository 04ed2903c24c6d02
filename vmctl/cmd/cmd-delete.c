/* vmctl delete: the container out of the guest, its host cgroup and state,
 * then the poststop hooks; with --force also what is not there (runc), or
 * a pod left behind by a killed monitor. */
#include "base/ck-error.h"
#include "lib/host-cgroup.h"
#include "lib/host-hooks.h"
#include "lib/runtime-ops.h"
#include "lib/trusted-runtime.h"
#include "vmctl.h"

int cmd_delete(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	gboolean force = FALSE;
	GOptionEntry entries[] = {
		{"force", 'f', 0, G_OPTION_ARG_NONE, &force, "kill a running container first", NULL},
		{NULL},
	};
	g_autoptr(GError) error = NULL;
	const char *id;

	if (!vmctl_parse_verb_options("delete", "ID", entries, &argc, &argv) || !vmctl_one_id("delete", argc, argv, &id))
		return 1;
	g_autoptr(ContainerState) st = vmctl_read_state(ctx, id, &error);
	if (st == NULL) {
		/* runc: deleting what is not there with --force is fine */
		if (force && ck_error_is(error, CK_ERROR_NOT_FOUND)) {
			g_clear_error(&error);
			return runtime_delete_orphan_pod(ctx->root, id, &error) ? 0 : vmctl_fail(id, g_steal_pointer(&error));
		}
		return vmctl_fail(id, g_steal_pointer(&error));
	}
	if (st->kind == CONTAINER_KIND_TRUSTED) {
		int status = vmctl_run_trusted(ctx, st, orig, &error);
		if (error != NULL)
			return vmctl_fail(id, g_steal_pointer(&error));
		if (status != 0)
			return status;
		return container_state_remove(ctx->root, id, &error) ? 0 : vmctl_fail(id, g_steal_pointer(&error));
	}
	g_autoptr(OciSpec) spec = host_hooks_spec(ctx->root, id);
	if (!runtime_delete(ctx->root, id, force, &error))
		return vmctl_fail(id, g_steal_pointer(&error));
	/* its monitor removes it on the way out, unless it was killed */
	if (spec != NULL)
		host_cgroup_remove(spec->cgroups_path);
	host_hooks_run_late(st, spec, OCI_HOOK_POSTSTOP);
	return 0;
}
