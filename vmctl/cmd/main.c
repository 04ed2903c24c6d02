/* vmctl main: runc's global options, the verb table, --version, --help.
 *
 * Global options stop at the verb (strict POSIX parsing), exactly as runc
 * parses `runc [global options] command [command options] [arguments...]`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ck-error.h"
#include "base/ck-log.h"
#include "base/ck-version.h"
#include "lib/state.h"
#include "lib/workload.h"
#include "vmctl.h"

static const VmctlVerb verbs[] = {
	{"create", cmd_create, "create a container (in its pod's VM) held before its process runs"},
	{"start", cmd_start, "run the process of a created container"},
	{"state", cmd_state, "print the state of a container (runc's JSON)"},
	{"kill", cmd_kill, "send a signal to a container's process (or all, with --all)"},
	{"delete", cmd_delete, "delete a stopped container (--force: kill it first)"},
	{"exec", cmd_exec, "run a process in a running container"},
	{"ps", cmd_ps, "list a container's processes"},
	{"pause", cmd_pause, "freeze a container's processes"},
	{"resume", cmd_resume, "thaw a paused container"},
	{"update", cmd_update, "change a container's resource limits"},
	{"list", cmd_list, "list containers"},
	{"features", cmd_features, "print the runtime's features (OCI JSON)"},
	{"events", cmd_events, "print a container's resource statistics (--stats: once)"},
	{"check", cmd_check, "report what this host has and lacks to run VMs"},
	{"env", cmd_env, "print the effective configuration"},
	{"debug", cmd_debug, "operator tools: 'debug boot' boots a VM and reports its kernel"},
	{"factory", cmd_factory, "VM templates: 'factory init|status|destroy' (docs/templating.md)"},
};

static void print_version(void)
{
	printf(VMCTL_VERSION_PREFIX "%s\n", CK_VERSION);
	printf("commit: %s\n", CK_GIT_COMMIT);
	printf("spec: 1.0.2\n");
	printf("features: qemu, virtio-serial, vsock, virtio-9p, seccomp, journald\n");
}

static void print_help(void)
{
	printf("Usage: vmctl [global options] command [command options] [arguments...]\n\n"
	       "vmctl runs OCI containers inside lightweight QEMU virtual machines.\n"
	       "It accepts runc's command line, so CRI-O and Podman can call it as their runtime.\n\n"
	       "Commands:\n");
	for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++)
		printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
	printf("\nGlobal options:\n"
	       "  --root DIR           runtime state directory (default $%s, else %s)\n"
	       "  --config FILE        configuration.toml to use (default: $%s, %s, %s)\n"
	       "  --log FILE           also log to FILE\n"
	       "  --log-format FORMAT  text or json (runc's JSON lines)\n"
	       "  --debug              debug logging\n"
	       "  --systemd-cgroup     use systemd for cgroups\n"
	       "  --criu, --rootless   runc's, accepted and ignored\n"
	       "  --version, -v        print the version\n"
	       "  --help, -h           print this help\n",
	       STATE_ROOT_ENV, STATE_DEFAULT_ROOT, CK_CONFIG_ENV, CK_SYSCONF_CONFIG, CK_DATA_CONFIG);
}

static gboolean parse_globals(VmctlContext *ctx, int *argc, char ***argv, gboolean *out_version, gboolean *out_help,
			      GError **error)
{
	g_autofree char *log_format = NULL, *criu = NULL, *rootless = NULL;
	gboolean version = FALSE, help = FALSE;
	GOptionEntry entries[] = {
		{"help", 'h', 0, G_OPTION_ARG_NONE, &help, NULL, NULL},
		{"root", 0, 0, G_OPTION_ARG_FILENAME, &ctx->root, NULL, NULL},
		{"config", 0, 0, G_OPTION_ARG_FILENAME, &ctx->config_path, NULL, NULL},
		{"log", 0, 0, G_OPTION_ARG_FILENAME, &ctx->log_path, NULL, NULL},
		{"log-format", 0, 0, G_OPTION_ARG_STRING, &log_format, NULL, NULL},
		{"debug", 0, 0, G_OPTION_ARG_NONE, &ctx->debug, NULL, NULL},
		{"systemd-cgroup", 0, 0, G_OPTION_ARG_NONE, &ctx->systemd_cgroup, NULL, NULL},
		{"version", 'v', 0, G_OPTION_ARG_NONE, &version, NULL, NULL},
		/* runc's, meaningless for a VM: accepted, ignored */
		{"criu", 0, 0, G_OPTION_ARG_STRING, &criu, NULL, NULL},
		{"rootless", 0, 0, G_OPTION_ARG_STRING, &rootless, NULL, NULL},
		{NULL},
	};
	g_autoptr(GOptionContext) oc = g_option_context_new(NULL);

	g_option_context_set_help_enabled(oc, FALSE);
	g_option_context_set_strict_posix(oc, TRUE);
	g_option_context_add_main_entries(oc, entries, NULL);
	if (!g_option_context_parse(oc, argc, argv, error))
		return FALSE;
	if (log_format != NULL && !g_str_equal(log_format, "text") && !g_str_equal(log_format, "json"))
		return ck_set_error(error, CK_ERROR_INVALID, "--log-format: '%s' is not text or json", log_format);
	ctx->log_json = log_format != NULL && g_str_equal(log_format, "json");
	if (criu != NULL || rootless != NULL)
		ck_log_debug("ignoring runc's global options --criu and --rootless");
	*out_version = version;
	*out_help = help;
	return TRUE;
}

static void context_clear(VmctlContext *ctx)
{
	g_free(ctx->root);
	g_free(ctx->config_path);
	g_free(ctx->log_path);
	ck_config_free(ctx->config);
}

static int run(VmctlContext *ctx, int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	gboolean version = FALSE, help = FALSE;

	if (!parse_globals(ctx, &argc, &argv, &version, &help, &error)) {
		ck_log_error("%s", error->message);
		return 1;
	}
	if (ctx->debug)
		ck_log_set_level(CK_LOG_DEBUG);
	if (ctx->log_path != NULL &&
	    !ck_log_open_file(ctx->log_path, ctx->log_json ? CK_LOG_FORMAT_JSON : CK_LOG_FORMAT_TEXT, &error)) {
		ck_log_error("%s", error->message);
		return 1;
	}
	ctx->root_given = ctx->root != NULL || g_getenv(STATE_ROOT_ENV) != NULL;
	if (ctx->root == NULL)
		ctx->root = g_strdup(state_default_root());
	if (version) {
		print_version();
		return 0;
	}
	if (help || (argc >= 2 && g_str_equal(argv[1], "help"))) {
		print_help();
		return 0;
	}
	if (argc < 2) {
		print_help();
		return 1;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++)
		if (g_str_equal(argv[1], verbs[i].name))
			return verbs[i].func(ctx, argc - 1, argv + 1);
	ck_log_error("unknown command '%s' (see vmctl --help)", argv[1]);
	return 1;
}

int main(int argc, char **argv)
{
	VmctlContext ctx = {0};

	ck_log_init("vmctl");
	int status = run(&ctx, argc, argv);
	context_clear(&ctx);
	return status;
}
