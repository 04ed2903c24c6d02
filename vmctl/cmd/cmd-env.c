/* vmctl env: the effective configuration, as TOML with origins. */
#include <stdio.h>

#include "base/ck-log.h"
#include "base/ck-version.h"
#include "vmctl.h"

int cmd_env(VmctlContext *ctx, int argc, char **argv)
{
	GOptionEntry entries[] = {{NULL}};
	g_autoptr(GError) error = NULL;

	if (!vmctl_parse_verb_options("env", NULL, entries, &argc, &argv))
		return 1;
	const CkConfig *cfg = vmctl_config(ctx, &error);
	if (cfg == NULL) {
		ck_log_error("%s", error->message);
		return 1;
	}
	g_autofree char *toml = ck_config_to_toml(cfg);
	printf("# vmctl %s (commit %s)\n", CK_VERSION, CK_GIT_COMMIT);
	printf("# configuration file: %s\n", cfg->path ? cfg->path : "(none: built-in defaults)");
	printf("# runtime root: %s\n\n", ctx->root);
	fputs(toml, stdout);
	return 0;
}
