/* conmon-kata: the monitor program, a drop-in for conmon.
 *
 * main() parses and validates conmon's command line (cli.c) and runs
 * conmon's process model (conmon-interface.md#process-sequence):
 *
 *   P0: validate -> oom_score_adj -1000 -> ignore SIGPIPE, SIGTERM exits
 *       -> block on _OCI_STARTPIPE (the caller moves us into a cgroup
 *       meanwhile; nothing is forked before, QEMU included) -> fork ->
 *       write P1's pid to -P -> exit 0.
 *   P1: setsid, child subreaper, stdio to /dev/null (unless passthrough)
 *       -> the monitor (monitor.c) -> the exit command (monitor-exit.c)
 *       -> exit with the container's status.
 *   With --sync there is no fork and P0 is the monitor.
 *
 * Pre-fork messages go to stderr exactly as conmon words them; P1's own
 * diagnostics go to syslog with --syslog (its stderr is /dev/null).
 * Output goes through stdio, not g_print: conmon's bytes are not
 * converted to the locale's charset.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <glib.h>

#include "base/ck-io.h"
#include "base/ck-log.h"
#include "base/ck-parse.h"
#include "cli.h"
#include "monitor-exit.h"
#include "monitor.h"

static void print_warnings(const MonitorConfig *cfg)
{
	if (cfg->log_level < MONITOR_LOG_LEVEL_WARNING)
		return;
	for (char **w = cfg->warnings; w != NULL && *w != NULL; w++)
		fprintf(stderr, "%s\n", *w);
}

/* The decimal fd in an environment variable, -1 when unset. */
static int env_fd(const char *name, gboolean *out_bad)
{
	const char *v = g_getenv(name);
	int fd;

	if (v == NULL)
		return -1;
	if (!ck_parse_int(v, name, 0, 65535, &fd, NULL)) {
		*out_bad = TRUE;
		return -1;
	}
	(void)ck_set_cloexec(fd, TRUE, NULL);
	return fd;
}

static char saved_oom_score_adj[16];

/* Saves ours for the exit command (monitor-exit.h), then -1000. */
static void set_oom_score_adj(void)
{
	int fd = open("/proc/self/oom_score_adj", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	ssize_t n = read(fd, saved_oom_score_adj, sizeof saved_oom_score_adj - 1);
	saved_oom_score_adj[MAX(n, 0)] = '\0';
	(void)!write(fd, "-1000", strlen("-1000"));
	close(fd);
}

static void on_early_term(int sig)
{
	(void)sig;
	_exit(1);
}

static void wait_start_pipe(int fd)
{
	char buf[8192];

	/* any data or EOF lets us go on */
	if (fd >= 0)
		(void)ck_read_retry(fd, buf, sizeof buf);
}

/* conmon 2.1: P0 writes P1's pid, then exits; the pidfile is complete
 * before the caller's wait() returns. */
static void fork_monitor(const MonitorConfig *cfg)
{
	pid_t pid = fork();

	if (pid < 0) {
		fprintf(stderr, "[conmon:e]: Failed to fork the monitor %s\n", g_strerror(errno));
		_exit(1);
	}
	if (pid > 0) {
		if (cfg->conmon_pidfile != NULL) {
			g_autofree char *text = g_strdup_printf("%d", (int)pid);
			if (!ck_file_write_atomic(cfg->conmon_pidfile, text, strlen(text), 0644, FALSE, NULL))
				fprintf(stderr, "[conmon:e]: Failed to write the conmon pidfile %s\n", cfg->conmon_pidfile);
		}
		_exit(0);
	}
}

static void syslog_sink(CkLogLevel level, const char *msg, gpointer data)
{
	const MonitorConfig *cfg = data;
	static const char *const tags[] = {"<error>", "<nwarn>", "<ninfo>", "<ndebug>"};
	g_autofree char *id = cfg->log_tag ? g_strdup_printf("%s: %s", cfg->cid, cfg->log_tag) : g_strdup(cfg->cid);

	if (strlen(id) > 20)
		id[20] = '\0';
	syslog(level == CK_LOG_ERROR ? LOG_ERR : LOG_INFO, "conmon %s %s: %s", id, tags[level], msg);
}

/* Shim mode speaks for vmctl: its log goes to vmctl's --log file. A
 * failure reaches the caller's stderr in one line (a stream the process
 * owns once its pid is reported: see monitor_shim_reported): through the
 * sync pipe, for vmctl to print, when vmctl waits on one (create, exec
 * --detach); else (a foreground exec, which is vmctl's own process) from
 * here. The same for the --log file: vmctl logs the failure it prints,
 * so until our answer is out our errors stay out of it (one record for
 * one failure, as runc writes). */
static void setup_shim_logging(const MonitorConfig *cfg, gboolean vmctl_reads_sync)
{
	g_autofree char *log = cli_runtime_option(cfg, "log");
	g_autofree char *format = cli_runtime_option(cfg, "log-format");
	g_autoptr(GError) error = NULL;

	ck_log_init("vmctl");
	ck_log_set_stderr(!vmctl_reads_sync || (log == NULL && cfg->log_level >= MONITOR_LOG_LEVEL_DEBUG));
	ck_log_set_file_errors(!vmctl_reads_sync);
	if (log != NULL && !ck_log_open_file(log, g_strcmp0(format, "json") == 0 ? CK_LOG_FORMAT_JSON
										  : CK_LOG_FORMAT_TEXT,
					     &error))
		ck_log_error("%s", error->message);
	/* on the caller's stderr, only the failure */
	if (log == NULL && cfg->log_level < MONITOR_LOG_LEVEL_DEBUG)
		ck_log_set_level(CK_LOG_ERROR);
}

static void setup_logging(const MonitorConfig *cfg, const MonitorFds *fds, gboolean keep_stdio)
{
	static const CkLogLevel levels[] = {
		[MONITOR_LOG_LEVEL_ERROR] = CK_LOG_ERROR, [MONITOR_LOG_LEVEL_WARNING] = CK_LOG_WARNING,
		[MONITOR_LOG_LEVEL_INFO] = CK_LOG_INFO,	  [MONITOR_LOG_LEVEL_DEBUG] = CK_LOG_DEBUG,
		[MONITOR_LOG_LEVEL_TRACE] = CK_LOG_DEBUG,
	};

	ck_log_init("conmon");
	ck_log_set_level(levels[cfg->log_level]);
	/* P1's stderr is /dev/null, or (passthrough) the container's */
	ck_log_set_stderr(!keep_stdio && cfg->sync);
	if (cfg->shim)
		setup_shim_logging(cfg, fds->sync_fd >= 0);
	if (cfg->syslog)
		ck_log_add_sink(syslog_sink, (gpointer)cfg);
}

/* vmctl create and exec --detach leave the shim running after the call
 * returns. Like the container process runc leaves behind, it must not
 * keep the caller's other descriptors open: a lock the caller took, a pipe
 * someone reads to EOF. Only the sync, start and attach pipes stay, and
 * the memfd vmctl hands over an exec's process spec in (/proc/self/fd/N). */
static void close_inherited_fds(const MonitorConfig *cfg, const MonitorFds *fds)
{
	int spec_fd = -1;
	g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
	g_autoptr(GArray) doomed = g_array_new(FALSE, FALSE, sizeof(int));
	const char *name;

	if (dir == NULL)
		return;
	if (cfg->exec_process_spec != NULL && sscanf(cfg->exec_process_spec, "/proc/self/fd/%d", &spec_fd) != 1)
		spec_fd = -1;
	while ((name = g_dir_read_name(dir)) != NULL) {
		int fd = atoi(name);
		if (fd > 2 && fd != fds->sync_fd && fd != fds->start_fd && fd != fds->attach_fd && fd != spec_fd)
			g_array_append_val(doomed, fd);
	}
	g_clear_pointer(&dir, g_dir_close); /* its own descriptor is in the list */
	for (guint i = 0; i < doomed->len; i++)
		(void)close(g_array_index(doomed, int, i));
}

static int run(MonitorConfig *cfg)
{
	gboolean bad = FALSE;
	gboolean keep_stdio = cfg->use_passthrough || cfg->shim;

	set_oom_score_adj();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_early_term);
	int start_fd = env_fd("_OCI_STARTPIPE", &bad);
	wait_start_pipe(start_fd);
	if (!cfg->exec_attach && start_fd >= 0) {
		close(start_fd);
		start_fd = -1;
	}
	if (!cfg->sync)
		fork_monitor(cfg);

	MonitorFds fds = {.start_fd = start_fd, .shim = cfg->shim, .console_socket = cfg->console_socket};
	fds.sync_fd = env_fd("_OCI_SYNCPIPE", &bad);
	if (bad) {
		fputs("[conmon:e]: unable to parse _OCI_SYNCPIPE\n", stderr);
		return 1;
	}
	fds.attach_fd = env_fd("_OCI_ATTACHPIPE", &bad);
	if (cfg->exec_attach && fds.attach_fd < 0) {
		fputs("[conmon:e]: --attach specified but _OCI_ATTACHPIPE was not\n", stderr);
		return 1;
	}
	if (cfg->shim)
		close_inherited_fds(cfg, &fds);
	if (!cfg->sync)
		(void)setsid();
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (!keep_stdio)
		ck_stdio_to_devnull();
	setup_logging(cfg, &fds, keep_stdio);
	int status = monitor_run(cfg, &fds);
	int command_status = monitor_exit_command_run(cfg, saved_oom_score_adj[0] != '\0' ? saved_oom_score_adj : NULL);
	return command_status != 0 ? command_status : status;
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MonitorConfig) cfg = monitor_config_parse(argc, argv, &error);

	umask(0022);
	if (cfg == NULL) {
		fprintf(stderr, "%s\n", error->message);
		return EXIT_FAILURE;
	}
	/* before every other check: CRI-O runs a bare --version (1.3 step 2) */
	if (cfg->version) {
		g_autofree char *text = monitor_config_version_text();
		fputs(text, stdout);
		return EXIT_SUCCESS;
	}
	if (!monitor_config_validate(cfg, &error)) {
		fprintf(stderr, "%s\n", error->message);
		return EXIT_FAILURE;
	}
	print_warnings(cfg);
	return run(cfg);
}
