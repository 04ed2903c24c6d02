/* vmctl ps: the container's processes, as guest pids (they live in the VM). */
#include <stdio.h>

#include "base/ck-error.h"
#include "lib/runtime-ops.h"
#include "vmctl.h"

int cmd_ps(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	g_autofree char *format = NULL;
	GOptionEntry entries[] = {
		{"format", 'f', 0, G_OPTION_ARG_STRING, &format, "table or json", "FORMAT"},
		{NULL},
	};
	g_autoptr(GError) error = NULL;
	int status = 1;

	if (!vmctl_parse_verb_options("ps", "ID", entries, &argc, &argv) || argc < 2)
		return 1;
	g_autoptr(ContainerState) st = vmctl_vm_or_delegate(ctx, argv[1], orig, &status, &error);
	if (st == NULL)
		return error ? vmctl_fail(argv[1], g_steal_pointer(&error)) : status;
	g_autoptr(GArray) pids = runtime_ps(ctx->root, argv[1], &error);
	if (pids == NULL)
		return vmctl_fail(argv[1], g_steal_pointer(&error));
	if (format != NULL && g_str_equal(format, "json")) {
		/* runc: json.Encoder of a Go slice, `null` when empty */
		printf(pids->len > 0 ? "[" : "null");
		for (guint i = 0; i < pids->len; i++)
			printf("%s%d", i ? "," : "", g_array_index(pids, int, i));
		printf(pids->len > 0 ? "]\n" : "\n");
		return 0;
	}
	/* guest pids: the processes live in the VM */
	printf("PID\n");
	for (guint i = 0; i < pids->len; i++)
		printf("%d\n", g_array_index(pids, int, i));
	return 0;
}
