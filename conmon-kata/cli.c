/* cli: conmon's option table and the validation that runs before any fork.
 *
 * Owns: the GOptionEntry table (names, short letters, argument kinds and
 * repeatability from conmon-interface.md#options), the validation steps of
 * conmon-interface.md#validation in their order and with their exact messages, and the -l/--log-path
 * driver parsing of conmon-interface.md#log-path-values, including opening the k8s log file.
 *
 * Does not own: forking, the sync/start pipes and other environment
 * variables (conmon-interface.md#environment), or printing. Errors are returned as GErrors whose
 * message is the complete line conmon prints, prefix included:
 *   "conmon: "      for the checks conmon makes before it sets up logging
 *                   (parse error, log-max-files, missing --cid);
 *   "[conmon:e]: "  for everything after (conmon-interface.md#own-diagnostics), and a "pexit" message
 *                   gets " <strerror>" appended (conmon-interface.md#validation).
 *
 * There are no option globals: GLib writes straight into the fields of a
 * heap MonitorConfig, through a table of field offsets.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-version.h"

#define CONMON_E "[conmon:e]: "
#define CONMON_W "[conmon:w]: "

/* --socket-dir-path when not given (conmon-interface.md#options). */
#define DEFAULT_SOCKET_DIR "/var/run/crio"

/* journald's CONTAINER_ID is the cid cut to this length (conmon-interface.md#journald). */
#define SHORT_ID_LEN 12

/* ---- option table ------------------------------------------------------ */

typedef struct {
	const char *long_name;
	char short_name;
	int flags;
	GOptionArg arg;
	size_t offset; /* of the MonitorConfig field GLib writes */
	const char *description;
	const char *arg_description;
} CliOption;

/* The C type GLib stores for each GOptionArg we use. */
#define CLI_CTYPE_NONE gboolean
#define CLI_CTYPE_INT int
#define CLI_CTYPE_INT64 gint64
#define CLI_CTYPE_STRING char *
#define CLI_CTYPE_STRING_ARRAY char **

/* offsetof(field), plus a compile-time check (_Generic with a single
 * association) that the field has the type GLib will write into it. */
#define CLI_FIELD(field, ctype) \
	(offsetof(MonitorConfig, field) + 0 * sizeof(_Generic(((MonitorConfig *)NULL)->field, ctype : 1)))

#define OPT(lname, sname, flags, kind, field, desc, argdesc)                                                \
	{                                                                                                   \
		lname, sname, flags, G_OPTION_ARG_##kind, CLI_FIELD(field, CLI_CTYPE_##kind), desc, argdesc \
	}

#define HIDDEN G_OPTION_FLAG_HIDDEN

/* In the order of conmon-interface.md#options. Two names writing the same field (-p/--pidfile,
 * --runtime-opt/--restore-arg) share one value: GLib keeps one change
 * record per field, so a repeatable pair accumulates in command-line order. */
static const CliOption cli_options[] = {
    OPT("api-version", 0, 0, NONE, api_version, "Use conmon API version 1 (a flag: takes no value)", NULL),
    OPT("bundle", 'b', 0, STRING, bundle_path, "Location of the OCI bundle", "DIR"),
    OPT("cid", 'c', 0, STRING, cid, "Container ID", "ID"),
    OPT("cuuid", 'u', 0, STRING, cuuid, "Container UUID (name of the attach symlink)", "UUID"),
    OPT("name", 'n', 0, STRING, name, "Container name", "NAME"),
    OPT("runtime", 'r', 0, STRING, runtime_path, "Path of the OCI runtime", "PATH"),
    OPT("conmon-pidfile", 'P', 0, STRING, conmon_pidfile, "PID file for the monitor process", "PATH"),
    OPT("container-pidfile", 'p', 0, STRING, container_pidfile, "PID file for the container process", "PATH"),
    OPT("pidfile", 0, HIDDEN, STRING, container_pidfile, "Deprecated alias of --container-pidfile", "PATH"),
    OPT("persist-dir", '0', 0, STRING, persist_dir, "Directory for the exit and oom files", "DIR"),
    OPT("exit-dir", 0, 0, STRING, exit_dir, "Directory where the exit file is written", "DIR"),
    OPT("exec", 'e', 0, NONE, exec, "Exec a command into a running container", NULL),
    OPT("exec-process-spec", 0, 0, STRING, exec_process_spec, "Path of the process spec for exec", "PATH"),
    OPT("exec-attach", 0, 0, NONE, exec_attach, "Wait for an attach client before starting the exec", NULL),
    OPT("terminal", 't', 0, NONE, terminal, "Give the container a terminal", NULL),
    OPT("stdin", 'i', 0, NONE, use_stdin, "Keep the container's stdin open", NULL),
    OPT("leave-stdin-open", 0, 0, NONE, leave_stdin_open, "Leave stdin open when an attach client leaves", NULL),
    OPT("log-path", 'l', 0, STRING_ARRAY, log_paths, "Log driver and path; repeatable", "[DRIVER:]PATH"),
    OPT("log-level", 0, 0, STRING, log_level_name, "Verbosity of the monitor's own messages", "LEVEL"),
    OPT("syslog", 0, 0, NONE, syslog, "Also send the monitor's messages to syslog", NULL),
    OPT("log-size-max", 0, 0, INT64, log_size_max, "Maximum size of the log file", "BYTES"),
    OPT("log-global-size-max", 0, 0, INT64, log_global_size_max, "Maximum bytes written to the log in total", "BYTES"),
    OPT("log-rotate", 0, 0, NONE, log_rotate, "Rotate the log file instead of truncating it", NULL),
    OPT("log-max-files", 0, 0, INT, log_max_files, "Number of rotated log files to keep", "N"),
    OPT("log-allowlist-dir", 0, 0, STRING_ARRAY, log_allowlist_dirs, "Directory rotation may write to; repeatable",
	"DIR"),
    OPT("log-tag", 0, 0, STRING, log_tag, "Tag for journald and syslog", "TAG"),
    OPT("log-label", 0, 0, STRING_ARRAY, log_labels, "Extra journald field; repeatable", "KEY=VALUE"),
    OPT("no-container-partial-message", 0, 0, NONE, no_container_partial_message,
	"Do not mark partial lines in journald", NULL),
    OPT("no-sync-log", 0, 0, NONE, no_sync_log, "Do not sync the log file at exit", NULL),
    OPT("socket-dir-path", 0, 0, STRING, socket_dir_path, "Directory of the attach socket symlinks", "DIR"),
    OPT("full-attach", 0, 0, NONE, full_attach, "Put the attach socket in the bundle itself", NULL),
    OPT("runtime-arg", 0, 0, STRING_ARRAY, runtime_args, "Global runtime argument; repeatable", "ARG"),
    OPT("runtime-opt", 0, 0, STRING_ARRAY, runtime_opts, "Runtime subcommand option; repeatable", "OPT"),
    OPT("restore-arg", 0, HIDDEN, STRING_ARRAY, runtime_opts, "Deprecated alias of --runtime-opt", "OPT"),
    OPT("restore", 0, 0, STRING, restore_path, "Restore the container from a checkpoint", "DIR"),
    OPT("no-pivot", 0, 0, NONE, no_pivot, "Do not use pivot_root", NULL),
    OPT("no-new-keyring", 0, 0, NONE, no_new_keyring, "Do not create a new session keyring", NULL),
    OPT("systemd-cgroup", 's', 0, NONE, systemd_cgroup, "Use the systemd cgroup manager", NULL),
    OPT("timeout", 'T', 0, INT, timeout, "Kill the container after this many seconds", "SECONDS"),
    OPT("exit-command", 0, 0, STRING, exit_command, "Program to run when the monitor exits", "PATH"),
    OPT("exit-command-arg", 0, 0, STRING_ARRAY, exit_command_args, "Argument of the exit command; repeatable", "ARG"),
    OPT("exit-delay", 0, 0, INT, exit_delay, "Seconds to wait before the exit command", "SECONDS"),
    OPT("sync", 0, 0, NONE, sync, "Do not fork: the exit status is the container's", NULL),
    OPT("sdnotify-socket", 0, 0, STRING, sdnotify_socket, "Relay the container's sd_notify messages here", "PATH"),
    OPT("replace-listen-pid", 0, 0, NONE, replace_listen_pid, "Always rewrite LISTEN_PID for the runtime", NULL),
    OPT("version", 0, 0, NONE, version, "Print the version and exit", NULL),
    /* ours, for `vmctl create` only: the monitor relays the caller's
     * stdio (or a terminal sent to the console socket) and is itself the
     * process whose pid is reported */
    OPT("shim", 0, HIDDEN, NONE, shim, "Be the container's stand-in (vmctl create)", NULL),
    OPT("console-socket", 0, HIDDEN, STRING, console_socket, "Send the terminal here (with --shim)", "PATH"),
};

/* GLib entries whose arg_data point into cfg. Free with g_free. */
static GOptionEntry *cli_entries_new(MonitorConfig *cfg)
{
	GOptionEntry *entries = g_new0(GOptionEntry, G_N_ELEMENTS(cli_options) + 1);

	for (gsize i = 0; i < G_N_ELEMENTS(cli_options); i++) {
		const CliOption *o = &cli_options[i];

		entries[i] = (GOptionEntry){
		    .long_name = o->long_name,
		    .short_name = o->short_name,
		    .flags = o->flags,
		    .arg = o->arg,
		    .arg_data = (guint8 *)cfg + o->offset,
		    .description = o->description,
		    .arg_description = o->arg_description,
		};
	}
	return entries;
}

/* ---- enums ------------------------------------------------------------- */

static const char *const log_level_names[MONITOR_LOG_LEVEL_MAX] = {
    [MONITOR_LOG_LEVEL_ERROR] = "error", [MONITOR_LOG_LEVEL_WARNING] = "warning", [MONITOR_LOG_LEVEL_INFO] = "info",
    [MONITOR_LOG_LEVEL_DEBUG] = "debug", [MONITOR_LOG_LEVEL_TRACE] = "trace",
};

const char *monitor_log_level_to_string(MonitorLogLevel level)
{
	return level < MONITOR_LOG_LEVEL_MAX ? log_level_names[level] : NULL;
}

gboolean monitor_log_level_from_string(const char *s, MonitorLogLevel *out_level)
{
	/* conmon takes logrus' level names, since CRI-O passes its own (conmon-interface.md#options). */
	static const struct {
		const char *name;
		MonitorLogLevel level;
	} names[] = {
	    {"error", MONITOR_LOG_LEVEL_ERROR},	    {"fatal", MONITOR_LOG_LEVEL_ERROR},
	    {"panic", MONITOR_LOG_LEVEL_ERROR},	    {"warn", MONITOR_LOG_LEVEL_WARNING},
	    {"warning", MONITOR_LOG_LEVEL_WARNING}, {"info", MONITOR_LOG_LEVEL_INFO},
	    {"debug", MONITOR_LOG_LEVEL_DEBUG},	    {"trace", MONITOR_LOG_LEVEL_TRACE},
	};

	for (gsize i = 0; s != NULL && i < G_N_ELEMENTS(names); i++) {
		if (g_ascii_strcasecmp(s, names[i].name) == 0) {
			*out_level = names[i].level;
			return TRUE;
		}
	}
	return FALSE;
}

static const char *const log_driver_names[MONITOR_LOG_DRIVER_MAX] = {
    [MONITOR_LOG_DRIVER_NONE] = "none",
    [MONITOR_LOG_DRIVER_K8S_FILE] = "k8s-file",
    [MONITOR_LOG_DRIVER_JOURNALD] = "journald",
    [MONITOR_LOG_DRIVER_PASSTHROUGH] = "passthrough",
};

const char *monitor_log_driver_kind_to_string(MonitorLogDriverKind kind)
{
	return kind < MONITOR_LOG_DRIVER_MAX ? log_driver_names[kind] : NULL;
}

/* Driver names as -l accepts them; "none" has two aliases (conmon-interface.md#log-path-values). */
static gboolean log_driver_from_name(const char *name, MonitorLogDriverKind *out_kind)
{
	static const struct {
		const char *name;
		MonitorLogDriverKind kind;
	} names[] = {
	    {"none", MONITOR_LOG_DRIVER_NONE},	       {"off", MONITOR_LOG_DRIVER_NONE},
	    {"null", MONITOR_LOG_DRIVER_NONE},	       {"k8s-file", MONITOR_LOG_DRIVER_K8S_FILE},
	    {"journald", MONITOR_LOG_DRIVER_JOURNALD}, {"passthrough", MONITOR_LOG_DRIVER_PASSTHROUGH},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		if (strcmp(name, names[i].name) == 0) {
			*out_kind = names[i].kind;
			return TRUE;
		}
	}
	return FALSE;
}

/* ---- lifecycle --------------------------------------------------------- */

static MonitorConfig *monitor_config_new(void)
{
	MonitorConfig *cfg = g_new0(MonitorConfig, 1);

	/* Defaults of conmon-interface.md#options. GLib writes a field only when its option appears;
	 * string defaults are applied after validation, since GLib would
	 * drop (and leak) a heap default it overwrites. */
	cfg->log_size_max = -1;
	cfg->log_global_size_max = -1;
	cfg->log_max_files = 1;
	cfg->log_level = MONITOR_LOG_LEVEL_WARNING;
	cfg->k8s_log_fd = -1;
	return cfg;
}

void monitor_config_free(MonitorConfig *cfg)
{
	if (cfg == NULL)
		return;

	if (cfg->k8s_log_fd >= 0)
		close(cfg->k8s_log_fd);
	for (gsize i = 0; i < cfg->n_log_drivers; i++)
		g_free(cfg->log_drivers[i].path);
	g_free(cfg->log_drivers);
	g_free(cfg->k8s_log_path);
	g_strfreev(cfg->warnings);

	g_free(cfg->bundle_path);
	g_free(cfg->cid);
	g_free(cfg->console_socket);
	g_free(cfg->cuuid);
	g_free(cfg->name);
	g_free(cfg->runtime_path);
	g_free(cfg->conmon_pidfile);
	g_free(cfg->container_pidfile);
	g_free(cfg->persist_dir);
	g_free(cfg->exit_dir);
	g_free(cfg->exec_process_spec);
	g_strfreev(cfg->log_paths);
	g_free(cfg->log_level_name);
	g_strfreev(cfg->log_allowlist_dirs);
	g_free(cfg->log_tag);
	g_strfreev(cfg->log_labels);
	g_free(cfg->socket_dir_path);
	g_strfreev(cfg->runtime_args);
	g_strfreev(cfg->runtime_opts);
	g_free(cfg->restore_path);
	g_free(cfg->exit_command);
	g_strfreev(cfg->exit_command_args);
	g_free(cfg->sdnotify_socket);
	g_free(cfg);
}

MonitorConfig *monitor_config_parse(int argc, char **argv, GError **error)
{
	g_autoptr(MonitorConfig) cfg = monitor_config_new();
	g_autofree GOptionEntry *entries = cli_entries_new(cfg);
	g_autoptr(GOptionContext) context = g_option_context_new("- conmon utility");
	g_autoptr(GError) local_error = NULL;
	/* GLib removes what it parses from the vector it is given: hand it a
	 * shallow copy so that the caller's argv stays as it was. */
	g_autofree char **args = g_new0(char *, argc + 1);
	int nargs = argc;

	if (argc > 0)
		memcpy(args, argv, sizeof(char *) * argc);

	/* GLib copies the entries. Its built-in -h/--help/--help-all print to
	 * stdout and exit(0) from inside the parse, which is conmon's
	 * observable behaviour, including the order relative to parse errors
	 * (conmon-interface.md#option-parsing). */
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &nargs, &args, &local_error)) {
		ck_set_error(error, CK_ERROR_INVALID, "conmon: option parsing failed: %s", local_error->message);
		return NULL;
	}

	/* Whatever is left in args is positional and ignored, as conmon does:
	 * Podman's "--api-version 1" leaves a stray "1" (conmon-interface.md#option-parsing). */
	return g_steal_pointer(&cfg);
}

char *monitor_config_version_text(void)
{
	return g_strdup("conmon version " MONITOR_CONMON_VERSION "\ncommit: " CK_GIT_COMMIT "\n");
}

gboolean monitor_config_is_legacy_exec(const MonitorConfig *cfg)
{
	return cfg->exec && !cfg->api_version;
}

/* ---- error helpers ------------------------------------------------------ */

/* conmon's nexit: "[conmon:e]: <message>" (conmon-interface.md#own-diagnostics). */
static gboolean G_GNUC_PRINTF(2, 3) fail(GError **error, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return ck_set_error(error, CK_ERROR_INVALID, CONMON_E "%s", msg);
}

/* conmon's pexit: the message, a space, then strerror (conmon-interface.md#validation). */
static gboolean G_GNUC_PRINTF(3, 4) fail_errno(GError **error, int errsv, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(error, CK_ERRNO_ERROR, errsv, CONMON_E "%s %s", msg, g_strerror(errsv));
	return FALSE;
}

static void G_GNUC_PRINTF(2, 3) add_warning(MonitorConfig *cfg, const char *fmt, ...)
{
	guint n = cfg->warnings != NULL ? g_strv_length(cfg->warnings) : 0;
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	cfg->warnings = g_renew(char *, cfg->warnings, n + 2);
	cfg->warnings[n] = g_strconcat(CONMON_W, msg, NULL);
	cfg->warnings[n + 1] = NULL;
}

/* ---- -l/--log-path (conmon-interface.md#log-path-values) ---- */

/* The next non-empty ':'-separated field at *pos, or NULL; advances *pos.
 * These are strtok(3)'s semantics, which conmon uses: empty fields are
 * skipped, so "k8s-file::/x" names /x and ":" has no field at all. */
static char *next_field(const char **pos)
{
	const char *start = *pos + strspn(*pos, ":");
	size_t len = strcspn(start, ":");

	*pos = start + len;
	return len > 0 ? g_strndup(start, len) : NULL;
}

/* One -l value: "<driver>:<path>", "<driver>", "<path>" or ":<path>". */
static gboolean parse_log_path(const char *spec, MonitorLogDriver *out, GError **error)
{
	const char *colon = strchr(spec, ':');
	const char *pos = spec;
	g_autofree char *first = next_field(&pos);
	g_autofree char *second = next_field(&pos);
	MonitorLogDriverKind kind;

	if (first == NULL)
		return fail(error, "log-path must not be empty");

	/* A leading ':' with one field names a file even when the field is a
	 * driver name: ":journald" is the k8s file "journald". */
	if (colon == spec && second == NULL) {
		out->kind = MONITOR_LOG_DRIVER_K8S_FILE;
		out->path = g_steal_pointer(&first);
		return TRUE;
	}

	if (log_driver_from_name(first, &kind)) {
		/* Only k8s-file uses the path; "journald:x" ignores it. */
		if (kind == MONITOR_LOG_DRIVER_K8S_FILE && second == NULL)
			return fail(error, "k8s-file requires a filename");
		out->kind = kind;
		if (kind == MONITOR_LOG_DRIVER_K8S_FILE)
			out->path = g_steal_pointer(&second);
		return TRUE;
	}

	/* No ':' at all: the whole value is the k8s file's path. */
	if (colon == NULL) {
		out->kind = MONITOR_LOG_DRIVER_K8S_FILE;
		out->path = g_steal_pointer(&first);
		return TRUE;
	}
	return fail(error, "No such log driver %s", first);
}

/* Parses every -l value in order; all are applied, and the last k8s-file
 * wins (conmon-interface.md#log-path-values). Stops at the first bad value, before any file is opened. */
static gboolean parse_log_drivers(MonitorConfig *cfg, GError **error)
{
	cfg->log_drivers = g_new0(MonitorLogDriver, g_strv_length(cfg->log_paths));

	for (char **spec = cfg->log_paths; *spec != NULL; spec++) {
		MonitorLogDriver *driver = &cfg->log_drivers[cfg->n_log_drivers];

		if (!parse_log_path(*spec, driver, error))
			return FALSE;
		cfg->n_log_drivers++;

		switch (driver->kind) {
		case MONITOR_LOG_DRIVER_K8S_FILE:
			cfg->use_k8s_file = TRUE;
			g_free(cfg->k8s_log_path);
			cfg->k8s_log_path = g_strdup(driver->path);
			break;
		case MONITOR_LOG_DRIVER_JOURNALD:
			cfg->use_journald = TRUE;
			break;
		case MONITOR_LOG_DRIVER_PASSTHROUGH:
			cfg->use_passthrough = TRUE;
			break;
		case MONITOR_LOG_DRIVER_NONE:
		case MONITOR_LOG_DRIVER_MAX:
			/* none adds nothing and cancels nothing. */
			break;
		}
	}
	return TRUE;
}

/* Opens (creates) the k8s file now, before the fork, so that a bad path
 * fails P0 and the file exists even if a later check fails (conmon-interface.md#validation step 13).
 * An existing file is appended to and its size counts (conmon-interface.md#log-path-values,
 * #log-size-limits-and-rotation). */
static gboolean open_k8s_log(MonitorConfig *cfg, GError **error)
{
	struct stat st;

	cfg->k8s_log_fd = open(cfg->k8s_log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, K8S_LOG_MODE);
	if (cfg->k8s_log_fd < 0)
		return fail_errno(error, errno, "Failed to open log file");

	if (fstat(cfg->k8s_log_fd, &st) == 0)
		cfg->k8s_log_size = st.st_size;
	else
		add_warning(cfg, "Could not stat log file %s, assuming 0 size", cfg->k8s_log_path);

	/* A tag or labels only mean something to journald. */
	if (!cfg->use_journald && cfg->log_tag != NULL)
		return fail(error, "k8s-file doesn't support --log-tag");
	if (!cfg->use_journald && cfg->log_labels != NULL)
		return fail(error, "k8s-file doesn't support --log-label");
	return TRUE;
}

/* A journald field: one '=', and a name of [A-Z0-9_] (conmon-interface.md#validation step 13). */
static gboolean check_log_label(const char *label, GError **error)
{
	const char *eq = strchr(label, '=');

	if (eq == label)
		return fail(error, "Container labels must be in format LABEL=VALUE (no LABEL present in '%s')", label);
	if (eq == NULL || strchr(eq + 1, '=') != NULL)
		return fail(
		    error, "Container labels must be in format LABEL=VALUE (none or more than one '=' present in '%s')",
		    label);

	for (const char *p = label; p < eq; p++) {
		if (!g_ascii_isupper(*p) && !g_ascii_isdigit(*p) && *p != '_')
			return fail(error,
				    "Container label names must contain only uppercase letters, numbers and "
				    "underscore (in '%s')",
				    label);
	}
	return TRUE;
}

static gboolean check_journald(const MonitorConfig *cfg, GError **error)
{
	/* journald gets both the full cid and its 12-character prefix, so the
	 * cid must be longer than the prefix (conmon-interface.md#journald). */
	if (strlen(cfg->cid) <= SHORT_ID_LEN)
		return fail(error, "Container ID must be longer than 12 characters");

	for (char **label = cfg->log_labels; label != NULL && *label != NULL; label++) {
		if (!check_log_label(*label, error))
			return FALSE;
	}
	return TRUE;
}

/* conmon-interface.md#validation step 13. */
static gboolean configure_log_drivers(MonitorConfig *cfg, GError **error)
{
	if (cfg->log_paths == NULL)
		return fail(error, "Log driver not provided. Use --log-path");
	if (!parse_log_drivers(cfg, error))
		return FALSE;
	if (cfg->use_k8s_file && !open_k8s_log(cfg, error))
		return FALSE;
	if (cfg->use_journald && !check_journald(cfg, error))
		return FALSE;
	return TRUE;
}

/* ---- the other validation steps (conmon-interface.md#validation) ---- */

/* Step 3: checked by conmon before --cid, with the "conmon: " prefix. */
static gboolean check_log_max_files(const MonitorConfig *cfg, GError **error)
{
	if (cfg->log_max_files < 0)
		return ck_set_error(error, CK_ERROR_INVALID, "conmon: log-max-files must be non-negative, got %d",
				    cfg->log_max_files);
	if (cfg->log_rotate && cfg->log_max_files == 0)
		return ck_set_error(error, CK_ERROR_INVALID,
				    "conmon: log-max-files must be at least 1 when log-rotate is enabled, got %d",
				    cfg->log_max_files);
	return TRUE;
}

/* Steps 6 to 9: which mode this is, and what that mode requires. */
static gboolean check_mode(const MonitorConfig *cfg, GError **error)
{
	if (cfg->restore_path != NULL && cfg->exec)
		return fail(error, "Cannot use 'exec' and 'restore' at the same time");
	if (cfg->exec_attach && !cfg->exec)
		return fail(error, "Attach can only be specified with exec");
	if (cfg->exec_attach && !cfg->api_version)
		return fail(error, "Attach can only be specified for a non-legacy exec session");
	/* The legacy exec API (CRI-O's ExecSync) has no --cuuid (conmon-interface.md#api-versions). */
	if (cfg->cuuid == NULL && !monitor_config_is_legacy_exec(cfg))
		return fail(error, "Container UUID not provided. Use --cuuid");
	return TRUE;
}

/* Step 10. Only X_OK is checked, so a directory such as /tmp passes. */
static gboolean check_runtime(const MonitorConfig *cfg, GError **error)
{
	if (cfg->runtime_path == NULL)
		return fail(error, "Runtime path not provided. Use --runtime");
	if (access(cfg->runtime_path, X_OK) < 0)
		return fail_errno(error, errno, "Runtime path %s is not valid", cfg->runtime_path);
	return TRUE;
}

/* The defaults that depend on the cwd (conmon-interface.md#options): create and restore use the
 * cwd as bundle, exec has a bundle only when given one; the container
 * pidfile is <cwd>/pidfile-<cid>. conmon settles the bundle right after
 * the runtime check, so a failing getcwd is reported there too. */
static gboolean apply_path_defaults(MonitorConfig *cfg, GError **error)
{
	g_autofree char *cwd = NULL;

	if (cfg->socket_dir_path == NULL)
		cfg->socket_dir_path = g_strdup(DEFAULT_SOCKET_DIR);
	if ((cfg->bundle_path != NULL || cfg->exec) && cfg->container_pidfile != NULL)
		return TRUE;

	cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		return fail(error, "Failed to get working directory");
	if (cfg->bundle_path == NULL && !cfg->exec)
		cfg->bundle_path = g_strdup(cwd);
	/* vmctl's shim writes a pid file only when vmctl was given one, as runc */
	if (cfg->container_pidfile == NULL && !cfg->shim)
		cfg->container_pidfile = g_strdup_printf("%s/pidfile-%s", cwd, cfg->cid);
	return TRUE;
}

gboolean monitor_config_validate(MonitorConfig *cfg, GError **error)
{
	g_return_val_if_fail(cfg != NULL, FALSE);
	g_return_val_if_fail(cfg->log_drivers == NULL && cfg->k8s_log_fd < 0, FALSE);

	/* Steps 1 and 2 (parse errors, --version) belong to the caller. */
	if (!check_log_max_files(cfg, error)) /* 3 */
		return FALSE;
	if (cfg->cid == NULL) /* 4 */
		return ck_set_error(error, CK_ERROR_INVALID, "conmon: Container ID not provided. Use --cid");
	if (cfg->log_level_name != NULL && !monitor_log_level_from_string(cfg->log_level_name, &cfg->log_level))
		return fail(error, "No such log level %s", cfg->log_level_name); /* 5 */
	if (!check_mode(cfg, error))						 /* 6-9 */
		return FALSE;
	if (!check_runtime(cfg, error)) /* 10 */
		return FALSE;
	if (!apply_path_defaults(cfg, error))
		return FALSE;
	if (cfg->exec && cfg->exec_process_spec == NULL) /* 11 */
		return fail(error, "Exec process spec path not provided. Use --exec-process-spec");
	if (cfg->exit_delay < 0) /* 12 */
		return fail(error, "Delay before invoking exit command must be greater than or equal to 0");
	if (!configure_log_drivers(cfg, error)) /* 13 */
		return FALSE;

	/* Step 14: a warning only. */
	if (cfg->no_container_partial_message && !cfg->use_journald)
		add_warning(cfg, "--no-container-partial-message has no effect without journald log driver");
	return TRUE;
}

char *cli_runtime_option(const MonitorConfig *cfg, const char *name)
{
	g_autofree char *flag = g_strconcat("--", name, NULL);
	g_autofree char *prefix = g_strconcat(flag, "=", NULL);
	char **args = cfg->runtime_args;

	for (gsize i = 0; args != NULL && args[i] != NULL; i++) {
		if (g_str_has_prefix(args[i], prefix))
			return g_strdup(args[i] + strlen(prefix));
		if (g_str_equal(args[i], flag) && args[i + 1] != NULL)
			return g_strdup(args[i + 1]);
	}
	return NULL;
}
