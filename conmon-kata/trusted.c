/* trusted: pods that run on the host, as conmon runs them.
 *
 * The runtime (-r: our vmctl, which hands trusted containers to runc with
 * a root of their own; or runc or crun themselves, when conmon-kata is
 * Podman's conmon for every runtime) is run the way conmon runs it
 * (conmon-interface.md#running-the-runtime): `create` or `exec --detach` with the pid file,
 * the runtime arguments and options passed through, stdio on pipes (stdout
 * on /dev/null and a console socket with -t), stderr captured as the error
 * text until the pid file is read and relayed as container stderr after.
 * The container process is then re-parented to us (the subreaper); its
 * output, an OOM kill and its exit go to the monitor core through the
 * sink, and its input, terminal size and signals come from the core
 * through the backend table (monitor-backend.h). An OOM kill in its memory
 * cgroup while it ran makes the exit an OOM one (the oom files), as conmon
 * reports it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "base/ck-parse.h"
#include "base/ck-socket.h"
#include "lib/host-cgroup.h"
#include "signals.h"
#include "trusted.h"

#define STDERR_MAX 8191

struct Trusted {
	const MonitorSink *sink;
	const MonitorConfig *cfg;
	int in_w; /* container stdin (pipe write end), or the pty */
	int out_r, err_r;
	int console_listen;
	char *console_path;
	int pty;   /* the pty master from the console socket */
	pid_t pid; /* the container process (P3) */
	guint sources[3];
	char *oom_file; /* its memory cgroup's OOM counters, NULL: unknown */
	guint64 ooms;	/* their sum when the process was created */
};

/* --- the runtime child ---------------------------------------------------------- */

static GPtrArray *runtime_argv(const MonitorConfig *cfg, const char *console)
{
	GPtrArray *argv = g_ptr_array_new();

	g_ptr_array_add(argv, cfg->runtime_path);
	if (cfg->systemd_cgroup && !cfg->exec)
		g_ptr_array_add(argv, "--systemd-cgroup");
	for (char **a = cfg->runtime_args; a != NULL && *a != NULL; a++)
		g_ptr_array_add(argv, *a);
	if (cfg->exec) {
		g_ptr_array_add(argv, "exec");
		g_ptr_array_add(argv, "--pid-file");
		g_ptr_array_add(argv, cfg->container_pidfile);
		g_ptr_array_add(argv, "--process");
		g_ptr_array_add(argv, cfg->exec_process_spec);
		g_ptr_array_add(argv, "--detach");
	} else {
		g_ptr_array_add(argv, "create");
		g_ptr_array_add(argv, "--bundle");
		g_ptr_array_add(argv, cfg->bundle_path);
		g_ptr_array_add(argv, "--pid-file");
		g_ptr_array_add(argv, cfg->container_pidfile);
		if (cfg->no_pivot)
			g_ptr_array_add(argv, "--no-pivot");
		if (cfg->no_new_keyring)
			g_ptr_array_add(argv, "--no-new-keyring");
	}
	for (char **o = cfg->runtime_opts; o != NULL && *o != NULL; o++)
		g_ptr_array_add(argv, *o);
	if (console != NULL) {
		g_ptr_array_add(argv, "--console-socket");
		g_ptr_array_add(argv, (char *)console);
	}
	g_ptr_array_add(argv, cfg->cid);
	g_ptr_array_add(argv, NULL);
	return argv;
}

static gboolean listen_console(Trusted *t, GError **error)
{
	g_autofree char *dir = g_dir_make_tmp("conmon-term.XXXXXX", error);

	if (dir == NULL)
		return FALSE;
	t->console_path = g_build_filename(dir, "console.sock", NULL);
	t->console_listen = ck_unix_listen(t->console_path, SOCK_STREAM, 0, 0600, 128, error);
	return t->console_listen >= 0;
}

G_NORETURN static void exec_runtime(GPtrArray *argv, int in, int out, int err, pid_t parent)
{
	if (!ck_die_with_parent(parent))
		_exit(127);
	signals_reset_for_exec();
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	execv(g_ptr_array_index(argv, 0), (char **)argv->pdata);
	_exit(127);
}

/* stdio for the runtime (and thus the container): conmon-interface.md#runtime-stdio */
static gboolean make_stdio(Trusted *t, int child[3], GError **error)
{
	const MonitorConfig *cfg = t->cfg;
	int p[2];

	child[0] = child[1] = child[2] = -1;
	if (cfg->use_stdin && !cfg->terminal) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return ck_set_error_errno(error, errno, "pipe");
		child[0] = p[0];
		t->in_w = p[1];
	} else if ((child[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		return ck_set_error_errno(error, errno, "/dev/null");
	}
	if (cfg->terminal) {
		child[1] = open("/dev/null", O_WRONLY | O_CLOEXEC);
	} else {
		if (pipe2(p, O_CLOEXEC) < 0)
			return ck_set_error_errno(error, errno, "pipe");
		t->out_r = p[0];
		child[1] = p[1];
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return ck_set_error_errno(error, errno, "pipe");
	t->err_r = p[0];
	child[2] = p[1];
	/* a container running as another user reopens /proc/self/fd/N */
	for (int i = 0; i < 3; i++)
		(void)fchmod(child[i], 0777);
	return TRUE;
}

static int receive_fd(int conn)
{
	char name[4096], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = name, .iov_len = sizeof name};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	int fd = -1;

	if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c != NULL && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

/* Runs the runtime to its end; with -t, takes the pty it sends meanwhile.
 * The runtime's stderr becomes the error text on failure. */
static gboolean run_runtime(Trusted *t, GPtrArray *argv, int child[3], GString *errtext, int *out_status)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0)
		exec_runtime(argv, child[0], child[1], child[2], parent);
	for (int i = 0; i < 3; i++)
		ck_close_fdp(&child[i]);
	if (pid < 0)
		return FALSE;
	for (;;) {
		struct pollfd pfd[2] = {{.fd = t->err_r, .events = POLLIN},
					{.fd = t->console_listen, .events = POLLIN}};
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			*out_status = status;
			return TRUE;
		}
		if (poll(pfd, t->console_listen >= 0 ? 2 : 1, 50) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			char buf[4096];
			ssize_t n = ck_read_retry(t->err_r, buf, sizeof buf);
			if (n > 0 && errtext->len < STDERR_MAX)
				g_string_append_len(errtext, buf, MIN((gsize)n, STDERR_MAX - errtext->len));
		}
		if (pfd[1].revents & POLLIN) {
			ck_autofd conn = accept4(t->console_listen, NULL, NULL, SOCK_CLOEXEC);
			if (conn >= 0 && !ck_unix_accept_peer(conn, "console socket"))
				continue; /* not runc's: wait for the real one */
			t->pty = conn >= 0 ? receive_fd(conn) : -1;
			(void)unlink(t->console_path);
			ck_clear_fd(&t->console_listen);
		}
	}
}

/* --- after the runtime: relaying and waiting ---------------------------------------- */

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
	Trusted *t = data;
	guint8 buf[8192];

	(void)cond;
	ssize_t n = ck_read_retry(fd, buf, sizeof buf);
	if (n > 0) {
		t->sink->output(t->sink->core, fd == t->err_r, buf, (gsize)n);
		return G_SOURCE_CONTINUE;
	}
	if (n < 0 && errno == EAGAIN)
		return G_SOURCE_CONTINUE;
	/* a pty without a slave reports EIO; a slave can come back: poll on */
	if (fd == t->pty && n < 0 && errno == EIO) {
		g_usleep(100000);
		return G_SOURCE_CONTINUE;
	}
	for (int i = 0; i < 3; i++)
		if (t->sources[i] != 0 && (i == 0 ? t->out_r : i == 1 ? t->err_r : t->pty) == fd)
			t->sources[i] = 0;
	return G_SOURCE_REMOVE;
}

/* What is left in the pipes after the exit, without waiting (conmon-interface.md#end-of-output). */
static void drain(Trusted *t)
{
	int fds[3] = {t->out_r, t->err_r, t->pty};
	guint8 buf[8192];

	for (int i = 0; i < 3; i++) {
		if (fds[i] < 0)
			continue;
		(void)ck_set_nonblock(fds[i], TRUE, NULL);
		ssize_t n;
		while ((n = ck_read_retry(fds[i], buf, sizeof buf)) > 0)
			t->sink->output(t->sink->core, fds[i] == t->err_r, buf, (gsize)n);
	}
}

/* The counters before the process runs, to compare with at its exit. */
static void watch_oom(Trusted *t)
{
	t->oom_file = host_cgroup_oom_file(t->pid);
	if (t->oom_file != NULL && !host_cgroup_oom_count(t->oom_file, &t->ooms))
		g_clear_pointer(&t->oom_file, g_free);
	if (t->oom_file == NULL)
		ck_log_debug("pid %d: no memory cgroup to watch for OOM kills", (int)t->pid);
}

static gboolean oom_killed(Trusted *t)
{
	guint64 now = 0;

	return t->oom_file != NULL && host_cgroup_oom_count(t->oom_file, &now) && now > t->ooms;
}

static void on_container_exit(pid_t pid, int status, gpointer data)
{
	Trusted *t = data;

	(void)pid;
	drain(t);
	if (oom_killed(t))
		t->sink->oom(t->sink->core);
	t->sink->exited(t->sink->core, WIFEXITED(status) ? WEXITSTATUS(status) : 0,
			WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static void watch_output(Trusted *t)
{
	int fds[3] = {t->out_r, t->err_r, t->pty};

	for (int i = 0; i < 3; i++) {
		if (fds[i] < 0)
			continue;
		(void)ck_set_nonblock(fds[i], TRUE, NULL);
		t->sources[i] = g_unix_fd_add(fds[i], G_IO_IN | G_IO_HUP, on_readable, t);
	}
}

static void trusted_clear(Trusted *t)
{
	for (int i = 0; i < 3; i++)
		if (t->sources[i] != 0)
			g_source_remove(t->sources[i]);
	ck_close_fdp(&t->in_w);
	ck_close_fdp(&t->out_r);
	ck_close_fdp(&t->err_r);
	ck_close_fdp(&t->pty);
	ck_close_fdp(&t->console_listen);
	g_free(t->oom_file);
	if (t->console_path != NULL) {
		g_autofree char *dir = g_path_get_dirname(t->console_path);
		(void)unlink(t->console_path);
		(void)rmdir(dir);
		g_free(t->console_path);
	}
}

static int read_pid(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	int pid;

	if (!ck_file_read_bounded(path, 64, &text, NULL, error) ||
	    !ck_parse_int(g_strstrip(text), "pid file", 1, G_MAXINT, &pid, error))
		return -1;
	return pid;
}

static gboolean fail(GError **error, const char *message)
{
	g_set_error_literal(error, CK_ERROR, CK_ERROR_FAILED, message);
	return FALSE;
}

/* Sets the tty's output processing as conmon does. */
static void setup_pty(Trusted *t)
{
	struct termios tio;

	if (tcgetattr(t->pty, &tio) == 0) {
		tio.c_oflag |= ONLCR;
		(void)tcsetattr(t->pty, TCSANOW, &tio);
	}
}

/* The runtime's create or exec, to the pid it wrote; its stderr is the
 * error text of a failure, and container stderr after. */
static gboolean trusted_spawn(gpointer self, pid_t *out_pid, GError **error)
{
	Trusted *t = self;
	const MonitorConfig *cfg = t->cfg;
	int child[3] = {-1, -1, -1};
	g_autoptr(GString) errtext = g_string_new(NULL);
	int status = 0;

	if (!make_stdio(t, child, error) || (cfg->terminal && !listen_console(t, error)))
		return FALSE;
	g_autoptr(GPtrArray) argv = runtime_argv(cfg, t->console_path);
	if (!run_runtime(t, argv, child, errtext, &status))
		return fail(error, "could not start the runtime");
	gboolean ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (!ok && !cfg->exec)
		return fail(error, errtext->len ? g_strstrip(errtext->str) : "runtime failed");
	if (cfg->terminal && t->pty < 0 && !cfg->exec)
		return fail(error, "Runtime did not set up terminal");
	g_autoptr(GError) pid_error = NULL;
	t->pid = read_pid(cfg->container_pidfile, &pid_error);
	if (t->pid < 0)
		return fail(error, errtext->len ? g_strstrip(errtext->str) : pid_error->message);
	if (errtext->len > 0)
		t->sink->output(t->sink->core, TRUE, (const guint8 *)errtext->str, errtext->len);
	watch_oom(t);
	signals_watch_child(t->pid, on_container_exit, t);
	watch_output(t);
	if (t->pty >= 0)
		setup_pty(t);
	*out_pid = t->pid;
	return TRUE;
}

/* --- the operations the core calls -------------------------------------------------- */

static gboolean trusted_terminal(gpointer self)
{
	Trusted *t = self;

	return t->cfg->terminal;
}

static void trusted_write_stdin(gpointer self, const guint8 *data, gsize len)
{
	Trusted *t = self;
	int fd = t->pty >= 0 ? t->pty : t->in_w;

	if (fd >= 0 && !ck_write_all(fd, data, len))
		ck_log_debug("stdin: %s", g_strerror(errno));
}

static void trusted_close_stdin(gpointer self)
{
	Trusted *t = self;

	ck_close_fdp(&t->in_w);
}

static gboolean trusted_kill(gpointer self, int sig)
{
	Trusted *t = self;

	if (t->pid <= 0)
		return FALSE;
	/* the timeout kills the process group, as conmon does (7.1 step 5) */
	if (sig == SIGKILL && getpgid(t->pid) > 1)
		(void)kill(-getpgid(t->pid), SIGKILL);
	else
		(void)kill(t->pid, sig);
	return TRUE;
}

static void trusted_resize(gpointer self, int rows, int cols)
{
	Trusted *t = self;
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};

	if (t->pty >= 0)
		(void)ioctl(t->pty, TIOCSWINSZ, &ws);
}

const MonitorBackend monitor_trusted_backend = {
	.name = "trusted",
	.writes_pidfile = TRUE,
	.spawn = trusted_spawn,
	.terminal = trusted_terminal,
	.write_stdin = trusted_write_stdin,
	.close_stdin = trusted_close_stdin,
	.resize = trusted_resize,
	.kill = trusted_kill,
};

Trusted *trusted_new(const MonitorSink *sink, const MonitorConfig *cfg)
{
	Trusted *t = g_new0(Trusted, 1);

	t->sink = sink;
	t->cfg = cfg;
	t->in_w = t->out_r = t->err_r = t->console_listen = t->pty = -1;
	return t;
}

void trusted_free(Trusted *t)
{
	if (t == NULL)
		return;
	trusted_clear(t);
	g_free(t);
}
