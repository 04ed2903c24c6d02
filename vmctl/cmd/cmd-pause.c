/* vmctl pause and resume: the container's cgroup frozen and thawed in the
 * guest (both verbs here, as in runc's pause.go). */
#include "base/ck-error.h"
#include "lib/runtime-ops.h"
#include "vmctl.h"

static int pause_resume(VmctlContext *ctx, int argc, char **argv, gboolean pause)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	GOptionEntry entries[] = {{NULL}};
	g_autoptr(GError) error = NULL;
	const char *verb = pause ? "pause" : "resume", *id;
	int status = 1;

	if (!vmctl_parse_verb_options(verb, "ID", entries, &argc, &argv) || !vmctl_one_id(verb, argc, argv, &id))
		return 1;
	g_autoptr(ContainerState) st = vmctl_vm_or_delegate(ctx, id, orig, &status, &error);
	if (st == NULL)
		return error ? vmctl_fail(id, g_steal_pointer(&error)) : status;
	if (!runtime_pause(ctx->root, id, pause, &error))
		return vmctl_fail(id, g_steal_pointer(&error));
	return 0;
}

int cmd_pause(VmctlContext *ctx, int argc, char **argv)
{
	return pause_resume(ctx, argc, argv, TRUE);
}

int cmd_resume(VmctlContext *ctx, int argc, char **argv)
{
	return pause_resume(ctx, argc, argv, FALSE);
}
