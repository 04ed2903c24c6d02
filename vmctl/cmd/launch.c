/* launch: starting `conmon-kata --shim` for create and exec, and reading its
 * answer on the sync pipe. */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "vmctl.h"

char *vmctl_find_monitor(void)
{
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
	const char *const candidates[] = {"conmon-kata", "../conmon-kata/conmon-kata", "../libexec/conmon-kata", NULL};

	for (int i = 0; dir != NULL && candidates[i] != NULL; i++) {
		g_autofree char *p = g_build_filename(dir, candidates[i], NULL);
		if (access(p, X_OK) == 0)
			return g_canonicalize_filename(p, NULL);
	}
	return g_find_program_in_path("conmon-kata");
}

/* Runs conmon-kata --shim and waits for its answer on the sync pipe:
 * {"data": pid} or {"data": -1, "message": "..."}. */
gboolean vmctl_run_shim(VmctlContext *ctx, GPtrArray *args, gboolean wait_answer, GError **error)
{
	int sv[2];
	g_autofree char *monitor = vmctl_find_monitor();

	if (monitor == NULL)
		return ck_set_error(error, CK_ERROR_NOT_FOUND, "conmon-kata not found next to vmctl or in $PATH");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return ck_set_error_errno(error, errno, "socketpair");
	ck_autofd ours = sv[0], theirs = sv[1];
	g_ptr_array_insert(args, 0, monitor);
	g_ptr_array_add(args, NULL);

	pid_t pid = fork();
	if (pid < 0)
		return ck_set_error_errno(error, errno, "fork");
	if (pid == 0) {
		int fd = fcntl(theirs, F_DUPFD, 3);
		g_autofree char *env = g_strdup_printf("%d", fd);
		g_setenv("_OCI_SYNCPIPE", env, TRUE);
		execv(monitor, (char **)args->pdata);
		_exit(127);
	}
	ck_clear_fd(&theirs);
	(void)ctx;
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!wait_answer)
		return TRUE;
	char buf[8192];
	ssize_t n = ck_read_retry(ours, buf, sizeof buf - 1);
	if (n <= 0)
		return ck_set_error(error, CK_ERROR_FAILED, "conmon-kata exited (status %d) without an answer",
				    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	buf[n] = '\0';
	g_auto(yajl_val) msg = ck_json_parse(buf, (gsize)n, "conmon-kata's answer", error);
	gint64 value = -1;
	if (msg == NULL || !ck_json_as_int64(ck_json_get(msg, "data"), &value))
		return FALSE;
	if (value < 0) {
		yajl_val text = ck_json_get(msg, "message");
		return ck_set_error(error, CK_ERROR_FAILED, "%s",
				    text && YAJL_IS_STRING(text) ? text->u.string : "create failed");
	}
	return TRUE;
}

char *vmctl_owned(GPtrArray *owned, char *s)
{
	g_ptr_array_add(owned, s);
	return s;
}

void vmctl_shim_args(VmctlContext *ctx, GPtrArray *args, GPtrArray *owned, const char *id)
{
	g_ptr_array_add(args, "--shim");
	g_ptr_array_add(args, "--api-version");
	g_ptr_array_add(args, "-c");
	g_ptr_array_add(args, (char *)id);
	g_ptr_array_add(args, "-r");
	g_ptr_array_add(args, "/proc/self/exe");
	g_ptr_array_add(args, "-l");
	g_ptr_array_add(args, "passthrough");
	g_ptr_array_add(args, "--log-level");
	g_ptr_array_add(args, ctx->debug ? "debug" : "warning");
	g_ptr_array_add(args, vmctl_owned(owned, g_strdup_printf("--runtime-arg=--root=%s", ctx->root)));
	if (ctx->config_path != NULL)
		g_ptr_array_add(args, vmctl_owned(owned, g_strdup_printf("--runtime-arg=--config=%s", ctx->config_path)));
	if (ctx->log_path != NULL) {
		g_ptr_array_add(args, vmctl_owned(owned, g_strdup_printf("--runtime-arg=--log=%s", ctx->log_path)));
		g_ptr_array_add(args, ctx->log_json ? "--runtime-arg=--log-format=json" : "--runtime-arg=--log-format=text");
	}
}
