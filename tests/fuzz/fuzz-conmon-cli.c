/* fuzz-conmon-cli: conmon-kata's command line (conmon-kata/cli.c), as
 * CRI-O and Podman write it.
 *
 * Input: the arguments after the program name, separated by NUL bytes
 * (as in /proc/<pid>/cmdline). Two kinds of argument are changed before
 * parsing, because they would act on this process or the machine rather
 * than be parsed:
 *   - GLib's help options (--help, --help-all, -h or -? in a group of
 *     short options) print and exit(0) inside the parse, by design (conmon-interface.md#option-parsing);
 *     they become "--x";
 *   - validation creates the k8s log file a -l value names: after parsing,
 *     every '/' in the -l values becomes '_', and validation runs with the
 *     scratch directory as its cwd, so the file lands there; it is removed
 *     afterwards.
 * Checked, beyond crashes: parsing leaves the caller's argv as it was; a
 * failure is one error whose message is the line conmon prints ("conmon:"
 * or "[conmon:e]: " first); a validated configuration has what validation
 * promises (a driver per -l value, an open fd exactly for k8s-file, the
 * cwd defaults); cli_runtime_option() runs on the --runtime-arg values.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "conmon-kata/cli.h"
#include "fuzz.h"

/* Far more than CRI-O ever passes; keeps runs short. */
#define MAX_ARGS 256

static gboolean is_help(const char *arg)
{
	if (g_str_has_prefix(arg, "--"))
		return g_str_has_prefix(arg + 2, "help");
	/* a group of short options: GLib handles h and ? inside it */
	return arg[0] == '-' && (strchr(arg + 1, 'h') != NULL || strchr(arg + 1, '?') != NULL);
}

static void check_error(const GError *error)
{
	const char *m = error->message;

	fuzz_check(g_error_matches(error, CK_ERROR, CK_ERROR_INVALID) || error->domain == CK_ERRNO_ERROR,
		   "error in an unexpected domain: %s", m);
	fuzz_check(g_str_has_prefix(m, "conmon: ") || g_str_has_prefix(m, "[conmon:e]: "),
		   "error without conmon's prefix: '%s'", m);
}

static void check_valid(const MonitorConfig *cfg)
{
	fuzz_check(cfg->n_log_drivers == g_strv_length(cfg->log_paths), "%zu drivers for %u -l values",
		   cfg->n_log_drivers, g_strv_length(cfg->log_paths));
	fuzz_check((cfg->k8s_log_fd >= 0) == cfg->use_k8s_file, "k8s fd %d with use_k8s_file %d", cfg->k8s_log_fd,
		   cfg->use_k8s_file);
	fuzz_check(!cfg->use_k8s_file || cfg->k8s_log_path != NULL, "k8s-file without a path");
	fuzz_check(cfg->container_pidfile != NULL && cfg->socket_dir_path != NULL, "defaults not applied");
	fuzz_check(cfg->exec || cfg->bundle_path != NULL, "no bundle outside exec");
	fuzz_check(cfg->cid != NULL, "validated without --cid");
	fuzz_check(cfg->log_level < MONITOR_LOG_LEVEL_MAX, "log level out of range");
	for (gsize i = 0; i < cfg->n_log_drivers; i++) {
		const MonitorLogDriver *d = &cfg->log_drivers[i];
		fuzz_check(d->kind < MONITOR_LOG_DRIVER_MAX, "log driver kind out of range");
		fuzz_check((d->kind == MONITOR_LOG_DRIVER_K8S_FILE) == (d->path != NULL), "driver path mismatch");
		fuzz_check(d->path == NULL || d->path[0] != '\0', "empty k8s-file path");
	}
	for (char **w = cfg->warnings; w != NULL && *w != NULL; w++)
		fuzz_check(g_str_has_prefix(*w, "[conmon:w]: "), "warning without its prefix");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;
	FuzzInput in;

	fuzz_init();
	g_ptr_array_add(args, g_strdup("conmon-kata"));
	fuzz_input_init(&in, data, size);
	while (in.left > 0 && args->len < MAX_ARGS) {
		gsize len;
		const guint8 *a = fuzz_take_until(&in, 0, &len);
		g_autofree char *arg = g_strndup((const char *)a, len);
		g_ptr_array_add(args, is_help(arg) ? g_strdup("--x") : g_steal_pointer(&arg));
	}
	g_ptr_array_add(args, NULL);

	/* the parse must not touch argv: compare with a deep copy */
	g_auto(GStrv) before = g_strdupv((char **)args->pdata);
	g_autoptr(MonitorConfig) cfg = monitor_config_parse((int)args->len - 1, (char **)args->pdata, &error);
	for (guint i = 0; i + 1 < args->len; i++)
		fuzz_check(g_str_equal(before[i], args->pdata[i]), "monitor_config_parse changed argv[%u]", i);
	if (cfg == NULL) {
		fuzz_check(error != NULL, "parse failed without an error");
		check_error(error);
		return 0;
	}

	for (char **l = cfg->log_paths; l != NULL && *l != NULL; l++)
		g_strdelimit(*l, "/", '_');
	/* CRI-O's --runtime-arg --root=<dir>: the value is one of the arguments, or the end of one */
	g_autofree char *root = cli_runtime_option(cfg, "root");
	gboolean found = root == NULL;
	for (char **a = cfg->runtime_args; !found && a != NULL && *a != NULL; a++)
		found = g_str_equal(*a, root) || g_str_has_suffix(*a, root);
	fuzz_check(found, "cli_runtime_option returned '%s', which no --runtime-arg holds", root);
	(void)monitor_config_is_legacy_exec(cfg);

	/* relative -l paths and the cwd defaults point into the scratch dir */
	int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fuzz_check(cwd >= 0 && chdir(fuzz_tmpdir()) == 0, "cannot enter the scratch directory");
	gboolean ok = monitor_config_validate(cfg, &error);
	/* the k8s file was created even when a later check failed (conmon-interface.md#validation) */
	if (cfg->k8s_log_path != NULL)
		(void)unlink(cfg->k8s_log_path);
	fuzz_check(fchdir(cwd) == 0, "cannot return to the cwd");
	close(cwd);
	if (ok)
		check_valid(cfg);
	else
		check_error(error);
	return 0;
}
