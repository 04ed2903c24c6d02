/* common: what every verb of vmctl shares: reporting a failure, reading a
 * container's state under the right root, handing a trusted container's
 * verb to runc (lib/trusted-runtime.h), the configuration and the verb's
 * own options. */
#include <glib.h>

#include "base/ck-error.h"
#include "base/ck-log.h"
#include "lib/trusted-runtime.h"
#include "vmctl.h"

int vmctl_fail(const char *id, GError *error)
{
	if (id != NULL)
		ck_log_error("container %s: %s", id, error->message);
	else
		ck_log_error("%s", error->message);
	g_error_free(error);
	return 1;
}

gboolean vmctl_one_id(const char *verb, int argc, char **argv, const char **out_id)
{
	if (argc != 2) {
		ck_log_error("%s: expected exactly one container id (see vmctl %s --help)", verb, verb);
		return FALSE;
	}
	*out_id = argv[1];
	return TRUE;
}

char **vmctl_copy_argv(int argc, char **argv)
{
	char **copy = g_new0(char *, argc + 1);
	for (int i = 0; i < argc; i++)
		copy[i] = g_strdup(argv[i]);
	return copy;
}

char *vmctl_trusted_root(VmctlContext *ctx)
{
	return g_build_filename(ctx->root, "trusted", NULL);
}

ContainerState *vmctl_read_state(VmctlContext *ctx, const char *id, GError **error)
{
	g_autoptr(GError) local = NULL;
	ContainerState *st = container_state_read(ctx->root, id, &local);

	if (st != NULL || ctx->root_given || !ck_error_is(local, CK_ERROR_NOT_FOUND)) {
		if (st == NULL)
			g_propagate_error(error, g_steal_pointer(&local));
		return st;
	}
	g_autofree char *root = state_lookup_root(id);
	if (root == NULL) {
		g_propagate_error(error, g_steal_pointer(&local));
		return NULL;
	}
	ck_log_debug("container %s: found under the runtime root %s", id, root);
	g_free(ctx->root);
	ctx->root = g_steal_pointer(&root);
	return container_state_read(ctx->root, id, error);
}

TrustedGlobals vmctl_trusted_globals(const VmctlContext *ctx)
{
	return (TrustedGlobals){
		.log_path = ctx->log_path,
		.log_json = ctx->log_json,
		.debug = ctx->debug,
		.systemd_cgroup = ctx->systemd_cgroup,
	};
}

int vmctl_delegate(VmctlContext *ctx, const ContainerState *st, char **verb_argv)
{
	TrustedGlobals g = vmctl_trusted_globals(ctx);
	g_autoptr(GError) error = NULL;

	trusted_runtime_exec(&g, st, verb_argv, &error);
	return vmctl_fail(NULL, g_steal_pointer(&error));
}

int vmctl_run_trusted(VmctlContext *ctx, const ContainerState *st, char **verb_argv, GError **error)
{
	TrustedGlobals g = vmctl_trusted_globals(ctx);

	return trusted_runtime_run(&g, st, verb_argv, error);
}

ContainerState *vmctl_vm_or_delegate(VmctlContext *ctx, const char *id, char **verb_argv, int *out_status,
				     GError **error)
{
	g_autoptr(ContainerState) st = vmctl_read_state(ctx, id, error);

	if (st == NULL)
		return NULL;
	if (st->kind == CONTAINER_KIND_TRUSTED) {
		*out_status = vmctl_delegate(ctx, st, verb_argv);
		return NULL;
	}
	return g_steal_pointer(&st);
}

/* --- what every verb uses of the context ------------------------------------- */

const CkConfig *vmctl_config(VmctlContext *ctx, GError **error)
{
	if (ctx->config == NULL)
		ctx->config = ck_config_load(ctx->config_path, error);
	return ctx->config;
}

gboolean vmctl_parse_verb_options(const char *verb, const char *params, const GOptionEntry *entries, int *argc,
				  char ***argv)
{
	g_autofree char *title = g_strdup_printf("%s %s", verb, params ? params : "");
	g_autoptr(GOptionContext) oc = g_option_context_new(title);
	g_autoptr(GError) error = NULL;

	g_option_context_add_main_entries(oc, entries, NULL);
	if (!g_option_context_parse(oc, argc, argv, &error)) {
		ck_log_error("%s: %s", verb, error->message);
		return FALSE;
	}
	return TRUE;
}
