/* cli: conmon's command line, parsed and validated into a MonitorConfig.
 *
 * conmon-kata must be a drop-in for conmon's command line, so the option
 * names, short letters, argument kinds and repeatability, the order of the
 * validation steps and their messages are all fixed by
 * docs/conmon-interface.md#command-line (and #log-path-values for -l/--log-path). This
 * module owns exactly that: no forking, no environment variables (conmon-interface.md#environment),
 * no output. Every error comes back as a GError whose message is the full
 * line the caller prints to stderr before exiting with status 1.
 *
 * Usage (main):
 *
 *   cfg = monitor_config_parse(argc, argv, &error);    conmon-interface.md#validation step 1
 *   if cfg->version: print monitor_config_version_text(), exit 0
 *   monitor_config_validate(cfg, &error);              conmon-interface.md#validation steps 3-14
 *   print cfg->warnings when the log level allows warnings
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What `--version` reports (conmon-interface.md#version-output): CRI-O requires a strict semver and
 * enables --sync and --log-global-size-max from 2.1.2 on. */
#define MONITOR_CONMON_VERSION "2.2.1"

/* The mode of every k8s-file log file the monitor creates (the file itself
 * and the fresh one of a reopen or rotation): 0600, as conmon creates it. */
#define K8S_LOG_MODE 0600

/* conmon's --log-level values (conmon-interface.md#own-diagnostics), from least to most verbose. */
typedef enum {
	MONITOR_LOG_LEVEL_ERROR,   /* error, fatal, panic */
	MONITOR_LOG_LEVEL_WARNING, /* warn, warning (the default) */
	MONITOR_LOG_LEVEL_INFO,
	MONITOR_LOG_LEVEL_DEBUG,
	MONITOR_LOG_LEVEL_TRACE,
	MONITOR_LOG_LEVEL_MAX,
} MonitorLogLevel;

/* The kind of one -l/--log-path value (conmon-interface.md#log-path-values). */
typedef enum {
	MONITOR_LOG_DRIVER_NONE, /* none, off, null */
	MONITOR_LOG_DRIVER_K8S_FILE,
	MONITOR_LOG_DRIVER_JOURNALD,
	MONITOR_LOG_DRIVER_PASSTHROUGH,
	MONITOR_LOG_DRIVER_MAX,
} MonitorLogDriverKind;

/* One parsed -l value; path is set only for K8S_FILE. */
typedef struct {
	MonitorLogDriverKind kind;
	char *path;
} MonitorLogDriver;

typedef struct MonitorConfig {
	/* Options, exactly as given (NULL/FALSE/default when absent). The
	 * string and strv fields are owned by the config. */
	gboolean api_version;	 /* --api-version: a flag, never takes "1" */
	char *bundle_path;	 /* -b; defaulted by validation, see below */
	char *cid;		 /* -c */
	char *cuuid;		 /* -u */
	char *name;		 /* -n */
	char *runtime_path;	 /* -r */
	char *conmon_pidfile;	 /* -P */
	char *container_pidfile; /* -p and the hidden --pidfile; defaulted */
	char *persist_dir;	 /* -0 */
	char *exit_dir;
	gboolean exec; /* -e */
	char *exec_process_spec;
	gboolean exec_attach;
	gboolean terminal;  /* -t */
	gboolean use_stdin; /* -i (stdin is a macro, hence the name) */
	gboolean leave_stdin_open;
	char **log_paths;     /* -l, repeatable, raw values */
	char *log_level_name; /* --log-level as given */
	gboolean syslog;
	gint64 log_size_max;	    /* default -1 */
	gint64 log_global_size_max; /* default -1 */
	gboolean log_rotate;
	int log_max_files;	   /* default 1 */
	char **log_allowlist_dirs; /* repeatable */
	char *log_tag;
	char **log_labels; /* repeatable, KEY=VALUE */
	gboolean no_container_partial_message;
	gboolean no_sync_log;
	char *socket_dir_path; /* default /var/run/crio */
	gboolean full_attach;
	char **runtime_args; /* --runtime-arg, repeatable, in order */
	char **runtime_opts; /* --runtime-opt and hidden --restore-arg, interleaved in order */
	char *restore_path;
	gboolean no_pivot;
	gboolean no_new_keyring;
	gboolean systemd_cgroup; /* -s */
	int timeout;		 /* -T, seconds, 0 = none */
	char *exit_command;
	char **exit_command_args; /* repeatable */
	int exit_delay;
	gboolean sync;
	char *sdnotify_socket;
	gboolean replace_listen_pid;
	gboolean version;
	gboolean shim;	      /* hidden: started by `vmctl create` */
	char *console_socket; /* hidden: with --shim and a terminal */

	/* Derived by monitor_config_validate(). */
	MonitorLogLevel log_level;
	MonitorLogDriver *log_drivers; /* one per -l value, in order */
	gsize n_log_drivers;
	gboolean use_k8s_file;
	gboolean use_journald;
	gboolean use_passthrough;
	char *k8s_log_path;  /* the last k8s-file path wins (conmon-interface.md#log-path-values) */
	int k8s_log_fd;	     /* opened O_APPEND, K8S_LOG_MODE, CLOEXEC; -1 if none */
	gint64 k8s_log_size; /* the file's size when opened; counts to --log-size-max */
	char **warnings;     /* full "[conmon:w]: ..." lines to print, or NULL */
} MonitorConfig;

/* Parses argv with GLib (conmon-interface.md#option-parsing, #validation step 1) without modifying argv.
 * Stray positional arguments are ignored. On a parse error returns NULL
 * with CK_ERROR_INVALID "conmon: option parsing failed: <GLib message>".
 * -h/--help/--help-all are handled by GLib inside this call, exactly as in
 * conmon: the help goes to stdout and the process exits 0.
 * Returns a new config; free it with monitor_config_free(). */
MonitorConfig *monitor_config_parse(int argc, char **argv, GError **error);

/* Runs conmon-interface.md#validation steps 3 to 14 in order on a parsed config, stopping at the
 * first failure. The error message is the exact line conmon prints; its
 * domain is CK_ERRNO_ERROR (code = errno) for the messages that end with
 * strerror, CK_ERROR_INVALID otherwise. On success fills the derived
 * fields: log level, log drivers, the open k8s-file fd (owned by the
 * config), bundle_path (cwd unless exec), container_pidfile
 * (<cwd>/pidfile-<cid>), socket_dir_path, and warnings (step 14).
 * The k8s file is created even when a later check fails, as in conmon.
 * Not async-signal-safe; call once per config. */
gboolean monitor_config_validate(MonitorConfig *cfg, GError **error);

/* "-e without --api-version": the legacy exec that needs no --cuuid (conmon-interface.md#api-versions). */
gboolean monitor_config_is_legacy_exec(const MonitorConfig *cfg);

/* "conmon version 2.2.1\ncommit: <sha>\n" (conmon-interface.md#version-output). Free with g_free. */
char *monitor_config_version_text(void);

/* Closes the k8s-file fd and frees everything. NULL-safe. */
void monitor_config_free(MonitorConfig *cfg);

/* conmon's level names, case-insensitive (conmon-interface.md#options --log-level). */
gboolean monitor_log_level_from_string(const char *s, MonitorLogLevel *out_level);
const char *monitor_log_level_to_string(MonitorLogLevel level);

/* "none", "k8s-file", "journald", "passthrough"; NULL if out of range. */
const char *monitor_log_driver_kind_to_string(MonitorLogDriverKind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MonitorConfig, monitor_config_free)

/* The value of the runtime's global option --NAME among the
 * --runtime-arg values (`--NAME=V` or `--NAME V`), NULL if absent. CRI-O
 * passes --root=<runtime_root>; Podman its --runtime-flag values. */
char *cli_runtime_option(const MonitorConfig *cfg, const char *name);

G_END_DECLS
