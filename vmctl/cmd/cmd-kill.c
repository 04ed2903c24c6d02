/* vmctl kill: a signal to the container's process (or every process, --all)
 * in the guest, through the pod's agent. */
#include <signal.h>

#include "base/ck-error.h"
#include "base/ck-log.h"
#include "base/ck-parse.h"
#include "lib/runtime-ops.h"
#include "vmctl.h"

int cmd_kill(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	gboolean all = FALSE;
	GOptionEntry entries[] = {
		{"all", 'a', 0, G_OPTION_ARG_NONE, &all, "send the signal to every process of the container", NULL},
		{NULL},
	};
	g_autoptr(GError) error = NULL;
	int sig = SIGTERM, status = 1;

	if (!vmctl_parse_verb_options("kill", "ID [SIGNAL]", entries, &argc, &argv))
		return 1;
	if (argc < 2 || argc > 3) {
		ck_log_error("kill: expected a container id and an optional signal");
		return 1;
	}
	if (argc == 3 && !ck_parse_signal(argv[2], &sig, &error))
		return vmctl_fail(argv[1], g_steal_pointer(&error));
	g_autoptr(ContainerState) st = vmctl_vm_or_delegate(ctx, argv[1], orig, &status, &error);
	if (st == NULL)
		return error ? vmctl_fail(argv[1], g_steal_pointer(&error)) : status;
	if (!runtime_kill(ctx->root, argv[1], sig, all, &error))
		return vmctl_fail(argv[1], g_steal_pointer(&error));
	return 0;
}
