/* Unit tests: conmon-kata's command line (conmon-kata/cli.c).
 *
 * The CLI items 1-10 of conmon-interface.md#conformance-checks that need no fork: every
 * validation step of conmon-interface.md#validation with its exact message, GLib's parsing rules
 * (conmon-interface.md#option-parsing), the option table (conmon-interface.md#options) and the -l/--log-path table
 * (conmon-interface.md#log-path-values), including the k8s file that step 13 creates. Tests that create files run in a
 * fresh temporary directory that is also the cwd, under umask 022.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-error.h"
#include "base/ck-version.h"
#include "conmon-kata/cli.h"

/* Longer than journald's 12-character short ID (conmon-interface.md#journald). */
#define CID "0123456789abcdef"

/* Everything steps 3-12 require, with /tmp as the runtime: only X_OK is
 * checked, so a directory passes (conmon-interface.md#conformance-checks item 3). */
#define BASE "--cid", CID, "--cuuid", CID, "--runtime", "/tmp"
#define BASE_LINE "--cid " CID " --cuuid " CID " --runtime /tmp"

/* ---- helpers -------------------------------------------------------------- */

/* A command line written as one string; none of the values contain spaces. */
static GStrv split(const char *line)
{
	return g_strsplit(line, " ", -1);
}

/* "conmon-kata" + args, NULL-terminated; argc is len - 1. */
static GPtrArray *make_argv(const char *const *args)
{
	GPtrArray *argv = g_ptr_array_new();

	g_ptr_array_add(argv, (gpointer) "conmon-kata");
	for (gsize i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	return argv;
}

/* Parses "conmon-kata" + args (NULL-terminated). */
static MonitorConfig *parse(const char *const *args, GError **error)
{
	g_autoptr(GPtrArray) argv = make_argv(args);

	return monitor_config_parse((int)argv->len - 1, (char **)argv->pdata, error);
}

/* Parse and validate; returns the config, or NULL with the error set. */
static MonitorConfig *run_cli(const char *const *args, GError **error)
{
	g_autoptr(MonitorConfig) cfg = parse(args, error);

	if (cfg == NULL || !monitor_config_validate(cfg, error))
		return NULL;
	return g_steal_pointer(&cfg);
}

static MonitorConfig *cli_ok(const char *const *args)
{
	g_autoptr(GError) error = NULL;
	MonitorConfig *cfg = run_cli(args, &error);

	g_assert_no_error(error);
	g_assert_nonnull(cfg);
	return cfg;
}

/* The exact line main() would print for args. */
static char *cli_error(const char *const *args)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MonitorConfig) cfg = run_cli(args, &error);

	g_assert_null(cfg);
	g_assert_nonnull(error);
	return g_strdup(error->message);
}

static void assert_cli_error(const char *const *args, const char *expected)
{
	g_autofree char *message = cli_error(args);

	g_assert_cmpstr(message, ==, expected);
}

static gboolean exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* A temporary directory that is the cwd while the test runs. */
typedef struct {
	char *dir;
	char *old_cwd;
	mode_t old_umask;
} TmpDir;

static void tmpdir_setup(TmpDir *t, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	(void)data;
	t->dir = g_dir_make_tmp("test-conmon-cli-XXXXXX", &error);
	g_assert_no_error(error);
	t->old_cwd = g_get_current_dir();
	g_assert_cmpint(chdir(t->dir), ==, 0);
	t->old_umask = umask(022);
}

static void tmpdir_teardown(TmpDir *t, gconstpointer data)
{
	g_autoptr(GDir) dir = g_dir_open(t->dir, 0, NULL);
	const char *name;

	(void)data;
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(t->dir, name, NULL);
		g_assert_cmpint(g_unlink(path), ==, 0);
	}
	umask(t->old_umask);
	g_assert_cmpint(chdir(t->old_cwd), ==, 0);
	g_assert_cmpint(g_rmdir(t->dir), ==, 0);
	g_free(t->dir);
	g_free(t->old_cwd);
}

static guint count_entries(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	guint n = 0;

	g_assert_nonnull(dir);
	while (g_dir_read_name(dir) != NULL)
		n++;
	return n;
}

/* ---- conmon-interface.md#version-output, #option-parsing: --version and --help ---- */

static void test_version(void)
{
	g_autofree char *text = monitor_config_version_text();
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	const char *const args[] = {"--version", NULL};
	g_autoptr(GError) error = NULL;
	g_autoptr(MonitorConfig) cfg = parse(args, &error);

	g_assert_cmpstr(text, ==, "conmon version 2.2.1\ncommit: " CK_GIT_COMMIT "\n");
	/* CRI-O takes the third token and wants a semver >= 2.1.2 (conmon-interface.md#conformance-checks item 1). */
	g_assert_true(g_regex_match_simple("^conmon version [0-9]+\\.[0-9]+\\.[0-9]+$", lines[0], 0, 0));
	g_assert_true(g_str_has_prefix(lines[1], "commit:"));
	g_assert_cmpuint(g_strv_length(lines), ==, 3);

	/* Step 2 comes before --cid: parsing alone must succeed. */
	g_assert_no_error(error);
	g_assert_true(cfg->version);
}

static void test_help(gconstpointer data)
{
	if (g_test_subprocess()) {
		const char *const args[] = {data, NULL};
		g_autoptr(GError) error = NULL;
		g_autoptr(MonitorConfig) cfg = parse(args, &error);
		exit(3); /* not reached: GLib prints the help and exits 0 */
	}

	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	g_test_trap_assert_stdout("*--exec*");
	g_test_trap_assert_stdout("*--api-version*");
	g_test_trap_assert_stdout("*--log-global-size-max*");
	/* The deprecated aliases are hidden (conmon-interface.md#options). */
	g_test_trap_assert_stdout_unmatched("*--pidfile*");
	g_test_trap_assert_stdout_unmatched("*--restore-arg*");
}

/* ---- conmon-interface.md#option-parsing: parsing ---- */

static void test_parse_errors(void)
{
	const char *const unknown[] = {BASE, "--bogus", NULL};
	const char *const range[] = {BASE, "--log-max-files", "2147483648", NULL};
	const char *const missing[] = {"--cid", NULL};
	const char *const not_int[] = {"--timeout", "5s", NULL};
	const char *const removed[] = {"--seccomp-notify-socket", "/x", NULL};
	g_autofree char *range_msg = cli_error(range);
	g_autofree char *missing_msg = cli_error(missing);
	g_autofree char *not_int_msg = cli_error(not_int);

	assert_cli_error(unknown, "conmon: option parsing failed: Unknown option --bogus");
	assert_cli_error(removed, "conmon: option parsing failed: Unknown option --seccomp-notify-socket");
	g_assert_true(g_str_has_prefix(range_msg, "conmon: option parsing failed: "));
	g_assert_nonnull(strstr(range_msg, "out of range"));
	g_assert_true(g_str_has_prefix(missing_msg, "conmon: option parsing failed: Missing argument for --cid"));
	g_assert_true(g_str_has_prefix(not_int_msg, "conmon: option parsing failed: "));
}

/* conmon-interface.md#conformance-checks item 10: Podman's forms are accepted. */
static void test_equals_forms(void)
{
	g_auto(GStrv) args = split(BASE_LINE " -l none --timeout=5 --runtime-arg=--x --sdnotify-socket=/run/notify "
					     "--log-size-max=8192 --exit-command-arg=--root");
	g_autoptr(MonitorConfig) cfg = cli_ok((const char *const *)args);

	g_assert_cmpint(cfg->timeout, ==, 5);
	g_assert_cmpstrv(cfg->runtime_args, ((const char *const[]){"--x", NULL}));
	g_assert_cmpstr(cfg->sdnotify_socket, ==, "/run/notify");
	g_assert_cmpint(cfg->log_size_max, ==, 8192);
	g_assert_cmpstrv(cfg->exit_command_args, ((const char *const[]){"--root", NULL}));
}

/* --api-version is a flag; Podman's "1" stays behind and is ignored. */
static void test_api_version_stray_positional(void)
{
	const char *const args[] = {"--api-version", "1", BASE, "-l", "none", "stray", NULL};
	g_autoptr(GPtrArray) argv = make_argv(args);
	g_autoptr(GError) error = NULL;
	g_autoptr(MonitorConfig) cfg = monitor_config_parse((int)argv->len - 1, (char **)argv->pdata, &error);
	g_assert_no_error(error);
	g_assert_true(monitor_config_validate(cfg, &error));
	g_assert_no_error(error);
	g_assert_true(cfg->api_version);
	g_assert_cmpstr(cfg->cid, ==, CID);

	/* The caller's vector is left as it was. */
	g_assert_cmpstr(argv->pdata[1], ==, "--api-version");
	g_assert_cmpstr(argv->pdata[2], ==, "1");
	g_assert_cmpstr(argv->pdata[argv->len - 2], ==, "stray");
}

static void test_repeatable(void)
{
	g_auto(GStrv) args = split(BASE_LINE " --runtime-arg --root=/run/crun --runtime-arg=--log --runtime-arg -x "
					     "--runtime-opt a --restore-arg b --runtime-opt=c "
					     "--exit-command-arg 1 --exit-command-arg 2 "
					     "--log-allowlist-dir /a --log-allowlist-dir /b -l none -l off");
	g_autoptr(MonitorConfig) cfg = cli_ok((const char *const *)args);

	g_assert_cmpstrv(cfg->runtime_args, ((const char *const[]){"--root=/run/crun", "--log", "-x", NULL}));
	/* --restore-arg is an alias: it interleaves with --runtime-opt. */
	g_assert_cmpstrv(cfg->runtime_opts, ((const char *const[]){"a", "b", "c", NULL}));
	g_assert_cmpstrv(cfg->exit_command_args, ((const char *const[]){"1", "2", NULL}));
	g_assert_cmpstrv(cfg->log_allowlist_dirs, ((const char *const[]){"/a", "/b", NULL}));
	g_assert_cmpstrv(cfg->log_paths, ((const char *const[]){"none", "off", NULL}));
	g_assert_cmpuint(cfg->n_log_drivers, ==, 2);
}

/* Non-repeatable options keep their last value; aliases share it. */
static void test_last_value_wins(void)
{
	g_auto(GStrv) args = split(BASE_LINE " -l none -c second-cid-value -p /a --pidfile /b -T 3 --timeout=4");
	g_autoptr(MonitorConfig) cfg = cli_ok((const char *const *)args);

	g_assert_cmpstr(cfg->cid, ==, "second-cid-value");
	g_assert_cmpstr(cfg->container_pidfile, ==, "/b");
	g_assert_cmpint(cfg->timeout, ==, 4);
}

static void test_short_options(void)
{
	g_auto(GStrv) args = split("-c " CID " -u uu -n name -r /tmp -b /bundle -P /cp -p /pp -0 /persist "
				   "-e -t -i -s -T 9 -l none --exec-process-spec /spec");
	g_autoptr(MonitorConfig) cfg = cli_ok((const char *const *)args);

	g_assert_cmpstr(cfg->cid, ==, CID);
	g_assert_cmpstr(cfg->cuuid, ==, "uu");
	g_assert_cmpstr(cfg->name, ==, "name");
	g_assert_cmpstr(cfg->runtime_path, ==, "/tmp");
	g_assert_cmpstr(cfg->bundle_path, ==, "/bundle");
	g_assert_cmpstr(cfg->conmon_pidfile, ==, "/cp");
	g_assert_cmpstr(cfg->container_pidfile, ==, "/pp");
	g_assert_cmpstr(cfg->persist_dir, ==, "/persist");
	g_assert_true(cfg->exec && cfg->terminal && cfg->use_stdin && cfg->systemd_cgroup);
	g_assert_cmpint(cfg->timeout, ==, 9);
}

static void test_long_flags(void)
{
	g_auto(GStrv) args =
	    split(BASE_LINE " -l none --exit-dir /exits --leave-stdin-open --syslog --log-rotate "
			    "--log-max-files 3 --no-sync-log --full-attach --no-pivot --no-new-keyring --sync "
			    "--replace-listen-pid --log-global-size-max 16777216 --socket-dir-path /sock "
			    "--exit-command /bin/true --exit-delay 2 --restore /ckpt");
	g_autoptr(MonitorConfig) cfg = cli_ok((const char *const *)args);

	g_assert_cmpstr(cfg->exit_dir, ==, "/exits");
	g_assert_true(cfg->leave_stdin_open && cfg->syslog && cfg->log_rotate && cfg->no_sync_log);
	g_assert_true(cfg->full_attach && cfg->no_pivot && cfg->no_new_keyring && cfg->sync);
	g_assert_true(cfg->replace_listen_pid);
	g_assert_cmpint(cfg->log_max_files, ==, 3);
	g_assert_cmpint(cfg->log_global_size_max, ==, 16777216);
	g_assert_cmpstr(cfg->socket_dir_path, ==, "/sock");
	g_assert_cmpstr(cfg->exit_command, ==, "/bin/true");
	g_assert_cmpint(cfg->exit_delay, ==, 2);
	g_assert_cmpstr(cfg->restore_path, ==, "/ckpt");
}

static void test_defaults(void)
{
	const char *const create[] = {BASE, "-l", "none", NULL};
	const char *const exec[] = {BASE, "-l", "none", "-e", "--exec-process-spec", "/s", NULL};
	g_autoptr(MonitorConfig) cfg = cli_ok(create);
	g_autoptr(MonitorConfig) ecfg = cli_ok(exec);
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *pidfile = g_strdup_printf("%s/pidfile-%s", cwd, CID);

	g_assert_cmpint(cfg->log_size_max, ==, -1);
	g_assert_cmpint(cfg->log_global_size_max, ==, -1);
	g_assert_cmpint(cfg->log_max_files, ==, 1);
	g_assert_cmpint(cfg->timeout, ==, 0);
	g_assert_cmpint(cfg->log_level, ==, MONITOR_LOG_LEVEL_WARNING);
	g_assert_cmpstr(cfg->socket_dir_path, ==, "/var/run/crio");
	g_assert_cmpstr(cfg->bundle_path, ==, cwd);
	g_assert_cmpstr(cfg->container_pidfile, ==, pidfile);
	g_assert_false(cfg->api_version);
	g_assert_null(cfg->warnings);
	g_assert_cmpint(cfg->k8s_log_fd, ==, -1);

	/* exec gets a bundle only when given one (conmon-interface.md#options). */
	g_assert_null(ecfg->bundle_path);
	g_assert_cmpstr(ecfg->container_pidfile, ==, pidfile);
	g_assert_true(monitor_config_is_legacy_exec(ecfg));
}

/* ---- conmon-interface.md#validation: the validation steps, in order ---- */

/* conmon-interface.md#conformance-checks item 3: each missing piece in turn. */
static void test_order(void)
{
	const char *const none[] = {NULL};
	const char *const cid[] = {"--cid", "X", NULL};
	const char *const cuuid[] = {"--cid", "X", "--cuuid", "X", NULL};
	const char *const bad_rt[] = {"--cid", "X", "--cuuid", "X", "--runtime", "/not/a/path", NULL};
	const char *const no_log[] = {"--cid", "X", "--cuuid", "X", "--runtime", "/tmp", NULL};

	assert_cli_error(none, "conmon: Container ID not provided. Use --cid");
	assert_cli_error(cid, "[conmon:e]: Container UUID not provided. Use --cuuid");
	assert_cli_error(cuuid, "[conmon:e]: Runtime path not provided. Use --runtime");
	assert_cli_error(bad_rt, "[conmon:e]: Runtime path /not/a/path is not valid No such file or directory");
	assert_cli_error(no_log, "[conmon:e]: Log driver not provided. Use --log-path");
}

/* Step 3 comes before --cid and has conmon's "conmon: " prefix (conmon-interface.md#conformance-checks item 6). */
static void test_log_max_files(void)
{
	const char *const negative[] = {"--log-rotate", "--log-max-files", "-1", NULL};
	const char *const negative_norotate[] = {"--log-max-files", "-5", NULL};
	const char *const zero[] = {"--log-rotate", "--log-max-files", "0", NULL};
	const char *const zero_norotate[] = {"--log-max-files", "0", NULL};

	assert_cli_error(negative, "conmon: log-max-files must be non-negative, got -1");
	assert_cli_error(negative_norotate, "conmon: log-max-files must be non-negative, got -5");
	assert_cli_error(zero, "conmon: log-max-files must be at least 1 when log-rotate is enabled, got 0");
	/* Without --log-rotate, 0 is fine: the next failure is the cid. */
	assert_cli_error(zero_norotate, "conmon: Container ID not provided. Use --cid");
}

static void test_log_level(void)
{
	const char *const bad[] = {"--cid", "X", "--log-level", "X", NULL};
	const char *const before_cuuid[] = {"--cid", "X", "--log-level", "verbose", "-e", "--exec-attach", NULL};
	static const struct {
		const char *name;
		MonitorLogLevel level;
	} good[] = {
	    {"error", MONITOR_LOG_LEVEL_ERROR},	    {"FATAL", MONITOR_LOG_LEVEL_ERROR},
	    {"panic", MONITOR_LOG_LEVEL_ERROR},	    {"warn", MONITOR_LOG_LEVEL_WARNING},
	    {"Warning", MONITOR_LOG_LEVEL_WARNING}, {"info", MONITOR_LOG_LEVEL_INFO},
	    {"DEBUG", MONITOR_LOG_LEVEL_DEBUG},	    {"trace", MONITOR_LOG_LEVEL_TRACE},
	};

	assert_cli_error(bad, "[conmon:e]: No such log level X");
	assert_cli_error(before_cuuid, "[conmon:e]: No such log level verbose");

	for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
		const char *const args[] = {BASE, "-l", "none", "--log-level", good[i].name, NULL};
		g_autoptr(MonitorConfig) cfg = cli_ok(args);
		g_assert_cmpint(cfg->log_level, ==, good[i].level);
	}
	g_assert_cmpstr(monitor_log_level_to_string(MONITOR_LOG_LEVEL_TRACE), ==, "trace");
	g_assert_null(monitor_log_level_to_string(MONITOR_LOG_LEVEL_MAX));
}

/* Steps 6-9 and 11-12 (conmon-interface.md#conformance-checks items 8 and 9). */
static void test_modes(void)
{
	const char *const restore_exec[] = {"--cid", "X", "--restore", "/c", "-e", "--exec-attach", NULL};
	const char *const attach[] = {"--cid", "X", "--exec-attach", NULL};
	const char *const legacy_attach[] = {"--cid",	      "X", "--sync", "-e", "--exec-process-spec", "f",
					     "--exec-attach", NULL};
	const char *const v1_no_cuuid[] = {"--cid", "X", "--api-version", "1", "-e", NULL};
	const char *const legacy_no_cuuid[] = {"--cid", "X", "-e", NULL};
	const char *const no_spec[] = {"--cid", "X", "-e", "--runtime", "/tmp", NULL};
	const char *const delay[] = {BASE, "--exit-delay", "-1", NULL};

	assert_cli_error(restore_exec, "[conmon:e]: Cannot use 'exec' and 'restore' at the same time");
	assert_cli_error(attach, "[conmon:e]: Attach can only be specified with exec");
	assert_cli_error(legacy_attach, "[conmon:e]: Attach can only be specified for a non-legacy exec session");
	assert_cli_error(v1_no_cuuid, "[conmon:e]: Container UUID not provided. Use --cuuid");
	/* A legacy exec (CRI-O's ExecSync) needs no --cuuid. */
	assert_cli_error(legacy_no_cuuid, "[conmon:e]: Runtime path not provided. Use --runtime");
	assert_cli_error(no_spec, "[conmon:e]: Exec process spec path not provided. Use --exec-process-spec");
	assert_cli_error(delay, "[conmon:e]: Delay before invoking exit command must be greater than or equal to 0");
}

/* Step 10: access(X_OK) and conmon's "pexit" form: message, space, strerror. */
static void test_runtime(TmpDir *t, gconstpointer data)
{
	g_autofree char *plain = g_build_filename(t->dir, "not-executable", NULL);
	const char *const args[] = {"--cid", "X", "--cuuid", "X", "--runtime", plain, "-l", "none", NULL};
	const char *const missing[] = {"--cid", "X", "--cuuid", "X", "--runtime", "/not/a/path", NULL};
	g_autofree char *expected =
	    g_strdup_printf("[conmon:e]: Runtime path %s is not valid Permission denied", plain);
	g_autoptr(GError) error = NULL;
	g_autoptr(MonitorConfig) cfg = NULL;

	(void)data;
	g_assert_true(g_file_set_contents_full(plain, "", 0, G_FILE_SET_CONTENTS_NONE, 0644, NULL));
	assert_cli_error(args, expected);

	cfg = run_cli(missing, &error);
	g_assert_error(error, CK_ERRNO_ERROR, ENOENT);
	g_assert_cmpint(ck_error_category(error), ==, CK_ERROR_NOT_FOUND);
}

/* ---- conmon-interface.md#validation step 13, #log-path-values: -l/--log-path ---- */

static void test_log_path_errors(TmpDir *t, gconstpointer data)
{
	static const struct {
		const char *value;
		const char *message;
	} cases[] = {
	    {"", "[conmon:e]: log-path must not be empty"},
	    {":", "[conmon:e]: log-path must not be empty"},
	    {"::", "[conmon:e]: log-path must not be empty"},
	    {"k8s-file", "[conmon:e]: k8s-file requires a filename"},
	    {"k8s-file:", "[conmon:e]: k8s-file requires a filename"},
	    {"invalid:x", "[conmon:e]: No such log driver invalid"},
	    {"invalid:", "[conmon:e]: No such log driver invalid"},
	    /* strtok splits a path with ':' (conmon-interface.md#log-path-values). */
	    {"/a:b", "[conmon:e]: No such log driver /a"},
	    {":a:b", "[conmon:e]: No such log driver a"},
	};

	(void)data;
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		const char *const args[] = {BASE, "-l", cases[i].value, NULL};
		assert_cli_error(args, cases[i].message);
	}
	g_assert_cmpuint(count_entries(t->dir), ==, 0);
}

typedef struct {
	const char *value;
	MonitorLogDriverKind kind;
	const char *path; /* expected k8s path, relative to the cwd */
} DriverCase;

static void check_driver_case(TmpDir *t, const DriverCase *c)
{
	const char *const args[] = {BASE, "-l", c->value, NULL};
	g_autoptr(MonitorConfig) cfg = cli_ok(args);

	g_assert_cmpuint(cfg->n_log_drivers, ==, 1);
	g_assert_cmpint(cfg->log_drivers[0].kind, ==, c->kind);
	g_assert_cmpstr(cfg->log_drivers[0].path, ==, c->path);
	g_assert_cmpint(cfg->use_k8s_file, ==, c->kind == MONITOR_LOG_DRIVER_K8S_FILE);
	g_assert_cmpint(cfg->use_journald, ==, c->kind == MONITOR_LOG_DRIVER_JOURNALD);
	g_assert_cmpint(cfg->use_passthrough, ==, c->kind == MONITOR_LOG_DRIVER_PASSTHROUGH);
	g_assert_cmpint(cfg->k8s_log_fd >= 0, ==, c->kind == MONITOR_LOG_DRIVER_K8S_FILE);
	g_assert_cmpuint(count_entries(t->dir), ==, c->path != NULL ? 1 : 0);
	if (c->path != NULL) {
		g_assert_cmpstr(cfg->k8s_log_path, ==, c->path);
		g_assert_true(exists(c->path));
		g_assert_cmpint(g_unlink(c->path), ==, 0);
	}
}

/* conmon-interface.md#log-path-values's table and conmon-interface.md#conformance-checks item 5, with the temporary
 * directory as cwd. */
static void test_log_path_drivers(TmpDir *t, gconstpointer data)
{
	static const DriverCase cases[] = {
	    {"ctr.log", MONITOR_LOG_DRIVER_K8S_FILE, "ctr.log"},
	    {"k8s-file:a.log", MONITOR_LOG_DRIVER_K8S_FILE, "a.log"},
	    {":b.log", MONITOR_LOG_DRIVER_K8S_FILE, "b.log"},
	    {"k8s-file::c.log", MONITOR_LOG_DRIVER_K8S_FILE, "c.log"},
	    {"k8s-file:d.log:tail", MONITOR_LOG_DRIVER_K8S_FILE, "d.log"},
	    /* Only a leading ':' turns a driver name into a file name. */
	    {":journald", MONITOR_LOG_DRIVER_K8S_FILE, "journald"},
	    {":none", MONITOR_LOG_DRIVER_K8S_FILE, "none"},
	    {"journald", MONITOR_LOG_DRIVER_JOURNALD, NULL},
	    {"journald:", MONITOR_LOG_DRIVER_JOURNALD, NULL},
	    {"journald:anything", MONITOR_LOG_DRIVER_JOURNALD, NULL},
	    {"none", MONITOR_LOG_DRIVER_NONE, NULL},
	    {"off", MONITOR_LOG_DRIVER_NONE, NULL},
	    {"null", MONITOR_LOG_DRIVER_NONE, NULL},
	    {"none:", MONITOR_LOG_DRIVER_NONE, NULL},
	    {"off:", MONITOR_LOG_DRIVER_NONE, NULL},
	    {"null:", MONITOR_LOG_DRIVER_NONE, NULL},
	    {"null:x", MONITOR_LOG_DRIVER_NONE, NULL},
	    {"passthrough", MONITOR_LOG_DRIVER_PASSTHROUGH, NULL},
	    {"passthrough:", MONITOR_LOG_DRIVER_PASSTHROUGH, NULL},
	};

	(void)data;
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_test_message("-l '%s'", cases[i].value);
		check_driver_case(t, &cases[i]);
	}
}

/* conmon-interface.md#conformance-checks item 5: created with mode 0600 as conmon 2.1
 * creates it (not 0640), appended to, CLOEXEC. */
static void test_k8s_file_open(TmpDir *t, gconstpointer data)
{
	g_autofree char *path = g_build_filename(t->dir, "ctr.log", NULL);
	g_autofree char *spec = g_strdup_printf("k8s-file:%s", path);
	const char *const fresh[] = {BASE, "-l", path, NULL};
	const char *const again[] = {BASE, "-l", spec, NULL};
	struct stat st;

	(void)data;
	{
		g_autoptr(MonitorConfig) cfg = cli_ok(fresh);
		g_assert_cmpint(stat(path, &st), ==, 0);
		g_assert_cmpint(st.st_mode & 0777, ==, 0600);
		g_assert_cmpint(cfg->k8s_log_size, ==, 0);
		g_assert_cmpint(fcntl(cfg->k8s_log_fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
		g_assert_cmpint(fcntl(cfg->k8s_log_fd, F_GETFL) & (O_ACCMODE | O_APPEND), ==, O_WRONLY | O_APPEND);
		g_assert_cmpint(write(cfg->k8s_log_fd, "abc", 3), ==, 3);
	}

	/* An existing file is kept and its size counts (conmon-interface.md#log-path-values). */
	g_autoptr(MonitorConfig) cfg = cli_ok(again);
	g_assert_cmpint(cfg->k8s_log_size, ==, 3);
	g_assert_cmpint(write(cfg->k8s_log_fd, "d", 1), ==, 1);
	g_autofree char *contents = NULL;
	g_assert_true(g_file_get_contents(path, &contents, NULL, NULL));
	g_assert_cmpstr(contents, ==, "abcd");
}

static void test_k8s_file_open_fails(void)
{
	const char *const args[] = {BASE, "-l", "k8s-file:/not/a/path/x", NULL};
	g_autoptr(GError) error = NULL;
	g_autoptr(MonitorConfig) cfg = run_cli(args, &error);

	g_assert_error(error, CK_ERRNO_ERROR, ENOENT);
	g_assert_cmpstr(error->message, ==, "[conmon:e]: Failed to open log file No such file or directory");
}

/* All values apply; the last k8s-file wins and only it is created; a bad
 * value anywhere fails before any file is opened. */
static void test_log_path_several(TmpDir *t, gconstpointer data)
{
	const char *const two[] = {BASE, "-l", "a.log", "-l", "journald", "-l", "none", "-l", "k8s-file:b.log", NULL};
	const char *const bad_later[] = {BASE, "-l", "c.log", "-l", "bogus:", NULL};

	(void)data;
	{
		g_autoptr(MonitorConfig) cfg = cli_ok(two);
		g_assert_cmpuint(cfg->n_log_drivers, ==, 4);
		g_assert_cmpstr(cfg->k8s_log_path, ==, "b.log");
		g_assert_true(cfg->use_k8s_file && cfg->use_journald);
		g_assert_cmpstr(monitor_log_driver_kind_to_string(cfg->log_drivers[1].kind), ==, "journald");
		g_assert_false(exists("a.log"));
		g_assert_true(exists("b.log"));
		g_assert_cmpint(g_unlink("b.log"), ==, 0);
	}

	assert_cli_error(bad_later, "[conmon:e]: No such log driver bogus");
	g_assert_cmpuint(count_entries(t->dir), ==, 0);
}

/* conmon-interface.md#conformance-checks item 4: a tag or labels with k8s-file only. The file is created
 * first, so it exists even though the check fails (conmon-interface.md#validation). */
static void test_k8s_tag_and_label(TmpDir *t, gconstpointer data)
{
	const char *const tag[] = {BASE, "-l", "k8s-file:t.log", "--log-tag", "t", NULL};
	const char *const label[] = {BASE, "-l", "k8s-file:l.log", "--log-label", "A=b", NULL};
	const char *const both[] = {
	    BASE, "-l", "k8s-file:j.log", "-l", "journald:", "--log-tag", "t", "--log-label", "A=b", NULL};

	(void)t;
	(void)data;
	assert_cli_error(tag, "[conmon:e]: k8s-file doesn't support --log-tag");
	g_assert_true(exists("t.log"));
	assert_cli_error(label, "[conmon:e]: k8s-file doesn't support --log-label");
	g_assert_true(exists("l.log"));

	g_autoptr(MonitorConfig) cfg = cli_ok(both);
	g_assert_cmpstr(cfg->log_tag, ==, "t");
}

/* conmon-interface.md#conformance-checks item 4: journald's cid length and label rules. */
static void test_journald(void)
{
	const char *const short_cid[] = {"--cid", "abcdefghijkl", "--cuuid", "abcdefghijkl", "--runtime", "/tmp",
					 "-l",	  "journald:",	  NULL};
	const char *const long_cid[] = {"--cid",    "abcdefghijklm", "--cuuid",	      "u", "--runtime", "/tmp", "-l",
					"journald", "--log-label",   "MY_LABEL_1=v=", NULL};
	static const struct {
		const char *label;
		const char *message;
	} labels[] = {
	    {"X", "[conmon:e]: Container labels must be in format LABEL=VALUE (none or more than one '=' present in "
		  "'X')"},
	    {"A=B=C", "[conmon:e]: Container labels must be in format LABEL=VALUE (none or more than one '=' "
		      "present in 'A=B=C')"},
	    {"=v", "[conmon:e]: Container labels must be in format LABEL=VALUE (no LABEL present in '=v')"},
	    {"MY%LABEL=v", "[conmon:e]: Container label names must contain only uppercase letters, numbers and "
			   "underscore (in 'MY%LABEL=v')"},
	    {"lower=v", "[conmon:e]: Container label names must contain only uppercase letters, numbers and "
			"underscore (in 'lower=v')"},
	};

	assert_cli_error(short_cid, "[conmon:e]: Container ID must be longer than 12 characters");
	for (gsize i = 0; i < G_N_ELEMENTS(labels); i++) {
		const char *const args[] = {BASE,   "-l",	   "journald:",	    "--log-label",
					    "OK=1", "--log-label", labels[i].label, NULL};
		assert_cli_error(args, labels[i].message);
	}

	/* Exactly one '=': none may follow in the value either. */
	g_autofree char *message = cli_error(long_cid);
	g_assert_nonnull(strstr(message, "Container labels must be in format LABEL=VALUE"));
}

static void test_journald_ok(void)
{
	const char *const args[] = {BASE,	   "-l", "journald",  "--log-label", "MY_LABEL_1=some value",
				    "--log-label", "B=", "--log-tag", "tag",	     NULL};
	g_autoptr(MonitorConfig) cfg = cli_ok(args);

	g_assert_true(cfg->use_journald);
	g_assert_false(cfg->use_k8s_file);
	g_assert_cmpstrv(cfg->log_labels, ((const char *const[]){"MY_LABEL_1=some value", "B=", NULL}));
}

/* Step 14 and conmon-interface.md#conformance-checks item 7: a warning, not an error. */
static void test_partial_message_warning(TmpDir *t, gconstpointer data)
{
	const char *const k8s[] = {BASE, "-l", "w.log", "--no-container-partial-message", NULL};
	const char *const journald[] = {BASE, "-l", "journald", "--no-container-partial-message", NULL};
	g_autoptr(MonitorConfig) cfg = cli_ok(k8s);
	g_autoptr(MonitorConfig) jcfg = cli_ok(journald);

	(void)t;
	(void)data;
	g_assert_cmpstrv(cfg->warnings,
			 ((const char *const[]){"[conmon:w]: --no-container-partial-message has no effect without "
						"journald log driver",
						NULL}));
	g_assert_null(jcfg->warnings);
}

static void add_tmp_test(const char *path, void (*func)(TmpDir *, gconstpointer))
{
	g_test_add(path, TmpDir, NULL, tmpdir_setup, func, tmpdir_teardown);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/conmon-cli/version", test_version);
	g_test_add_data_func("/conmon-cli/help/long", "--help", test_help);
	g_test_add_data_func("/conmon-cli/help/short", "-h", test_help);
	g_test_add_data_func("/conmon-cli/help/all", "--help-all", test_help);
	g_test_add_func("/conmon-cli/parse/errors", test_parse_errors);
	g_test_add_func("/conmon-cli/parse/equals-forms", test_equals_forms);
	g_test_add_func("/conmon-cli/parse/api-version-stray-positional", test_api_version_stray_positional);
	g_test_add_func("/conmon-cli/parse/repeatable", test_repeatable);
	g_test_add_func("/conmon-cli/parse/last-value-wins", test_last_value_wins);
	g_test_add_func("/conmon-cli/parse/short-options", test_short_options);
	g_test_add_func("/conmon-cli/parse/long-flags", test_long_flags);
	g_test_add_func("/conmon-cli/parse/defaults", test_defaults);
	g_test_add_func("/conmon-cli/validate/order", test_order);
	g_test_add_func("/conmon-cli/validate/log-max-files", test_log_max_files);
	g_test_add_func("/conmon-cli/validate/log-level", test_log_level);
	g_test_add_func("/conmon-cli/validate/modes", test_modes);
	add_tmp_test("/conmon-cli/validate/runtime", test_runtime);
	add_tmp_test("/conmon-cli/log-path/errors", test_log_path_errors);
	add_tmp_test("/conmon-cli/log-path/drivers", test_log_path_drivers);
	add_tmp_test("/conmon-cli/log-path/k8s-file-open", test_k8s_file_open);
	g_test_add_func("/conmon-cli/log-path/k8s-file-open-fails", test_k8s_file_open_fails);
	add_tmp_test("/conmon-cli/log-path/several", test_log_path_several);
	add_tmp_test("/conmon-cli/log-path/k8s-tag-and-label", test_k8s_tag_and_label);
	g_test_add_func("/conmon-cli/log-path/journald", test_journald);
	g_test_add_func("/conmon-cli/log-path/journald-ok", test_journald_ok);
	add_tmp_test("/conmon-cli/validate/partial-message-warning", test_partial_message_warning);
	return g_test_run();
}
