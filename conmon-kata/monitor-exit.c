/* monitor-exit: exit files, oom files, the pid file and the exit command
 * in the formats callers parse (conmon-interface.md#exit-sequence). The
 * order they appear in is the core's (monitor-core.c):
 *
 *   oom files (persist dir and bundle) when the process was OOM-killed
 *   -> the log's fsync -> the backend's release (the stand-in exits and is
 *   reaped, the container leaves the guest and the pod's share, the
 *   state says stopped) -> attach clients see EOF -> <persist>/exit ->
 *   <exit-dir>/<cid> -> the final exec message -> the attach socket is
 *   unlinked -> (main.c) the exit command.
 *
 * Exit files hold the decimal status without a newline and appear
 * atomically (temp file + rename: inotify sees IN_MOVED_TO).
 */
#include "monitor-exit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/ck-io.h"
#include "base/ck-log.h"

gboolean monitor_exit_write_pidfile(const MonitorConfig *cfg, pid_t pid, GError **error)
{
	g_autofree char *text = g_strdup_printf("%d", (int)pid);

	if (cfg->container_pidfile == NULL)
		return TRUE;
	return ck_file_write_atomic(cfg->container_pidfile, text, strlen(text), 0644, FALSE, error);
}

static void touch_oom(const char *dir)
{
	g_autofree char *path = NULL;

	if (dir == NULL)
		return;
	path = g_build_filename(dir, "oom", NULL);
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
	if (fd < 0)
		ck_log_warning("create %s: %s", path, g_strerror(errno));
	else
		close(fd);
}

void monitor_exit_touch_oom(const MonitorConfig *cfg)
{
	touch_oom(cfg->persist_dir);
	touch_oom(cfg->bundle_path);
}

static gboolean write_exit_file(const char *path, int code, GError **error)
{
	g_autofree char *text = g_strdup_printf("%d", code);

	if (!ck_file_write_atomic(path, text, strlen(text), 0644, FALSE, error)) {
		g_prefix_error(error, "Failed to write %d to %s exit file: ", code, path);
		return FALSE;
	}
	return TRUE;
}

gboolean monitor_exit_write_files(const MonitorConfig *cfg, int code, GError **error)
{
	if (cfg->persist_dir != NULL) {
		g_autofree char *path = g_build_filename(cfg->persist_dir, "exit", NULL);
		if (!write_exit_file(path, code, error))
			return FALSE;
	}
	if (cfg->exit_dir != NULL) {
		g_autofree char *path = g_build_filename(cfg->exit_dir, cfg->cid, NULL);
		if (!write_exit_file(path, code, error))
			return FALSE;
	}
	return TRUE;
}

G_NORETURN static void exec_exit_command(const MonitorConfig *cfg, const char *oom_score_adj)
{
	if (cfg->exit_delay > 0)
		sleep((unsigned)cfg->exit_delay);
	if (oom_score_adj != NULL) {
		int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			(void)!write(fd, oom_score_adj, strlen(oom_score_adj));
			close(fd);
		}
	}
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_ptr_array_add(argv, cfg->exit_command);
	for (char **a = cfg->exit_command_args; a != NULL && *a != NULL; a++)
		g_ptr_array_add(argv, *a);
	g_ptr_array_add(argv, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(cfg->exit_command, (char **)argv->pdata);
	_exit(127);
}

int monitor_exit_command_run(const MonitorConfig *cfg, const char *oom_score_adj)
{
	if (cfg->exit_command == NULL)
		return 0;
	(void)close_range(3, ~0U, 0);
	(void)prctl(PR_SET_CHILD_SUBREAPER, 0);
	signal(SIGCHLD, SIG_DFL);
	pid_t pid = fork();
	if (pid == 0)
		exec_exit_command(cfg, oom_score_adj);
	int status = 0, command_status = 0;
	pid_t r;
	while ((r = waitpid(-1, &status, 0)) > 0 || (r < 0 && errno == EINTR))
		if (r == pid)
			command_status = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	return command_status;
}
