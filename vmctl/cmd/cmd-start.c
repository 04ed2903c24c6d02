/* vmctl start: releases the held container in the guest, then runs the
 * poststart hooks (lib/host-hooks.h). */
#include "base/ck-error.h"
#include "lib/host-hooks.h"
#include "lib/runtime-ops.h"
#include "vmctl.h"

int cmd_start(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	GOptionEntry entries[] = {{NULL}};
	g_autoptr(GError) error = NULL;
	const char *id;
	int status = 1;

	if (!vmctl_parse_verb_options("start", "ID", entries, &argc, &argv) || !vmctl_one_id("start", argc, argv, &id))
		return 1;
	g_autoptr(ContainerState) st = vmctl_vm_or_delegate(ctx, id, orig, &status, &error);
	if (st == NULL)
		return error ? vmctl_fail(id, g_steal_pointer(&error)) : status;
	g_autoptr(OciSpec) spec = host_hooks_spec(ctx->root, id);
	if (!runtime_start(ctx->root, id, &error))
		return vmctl_fail(id, g_steal_pointer(&error));
	host_hooks_run_late(st, spec, OCI_HOOK_POSTSTART);
	return 0;
}
