/* vmctl state: runc's state document, in runc's layout; for a trusted
 * container runc's own, with the trust decision added (lib/trusted-runtime.h). */
#include <stdio.h>

#include "base/ck-error.h"
#include "base/ck-json.h"
#include "lib/trusted-runtime.h"
#include "vmctl.h"

/* runc's own `state`, its stderr and failure status passing through. */
static int state_trusted(VmctlContext *ctx, const ContainerState *st, char **verb_argv)
{
	TrustedGlobals g = vmctl_trusted_globals(ctx);
	g_autoptr(GError) error = NULL;
	int status;
	g_autofree char *json = trusted_runtime_state(&g, st, verb_argv, &status, &error);

	if (json == NULL)
		return error != NULL ? vmctl_fail(st->id, g_steal_pointer(&error)) : status;
	/* runc writes the document without a final newline */
	fputs(json, stdout);
	return 0;
}

int cmd_state(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	GOptionEntry entries[] = {{NULL}};
	g_autoptr(GError) error = NULL;
	const char *id;

	if (!vmctl_parse_verb_options("state", "ID", entries, &argc, &argv) || !vmctl_one_id("state", argc, argv, &id))
		return 1;
	g_autoptr(ContainerState) st = vmctl_read_state(ctx, id, &error);
	if (st == NULL)
		return vmctl_fail(id, g_steal_pointer(&error));
	if (st->kind == CONTAINER_KIND_TRUSTED)
		return state_trusted(ctx, st, orig);
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	container_state_write_oci(g, st, "");
	g_autofree char *json = ck_json_gen_finish_layout(g, OCI_STATE_INDENT, &error);
	if (json == NULL)
		return vmctl_fail(id, g_steal_pointer(&error));
	fputs(json, stdout);
	return 0;
}
