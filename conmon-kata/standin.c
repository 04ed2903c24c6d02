/* standin: a forked host process mirroring a guest process (see standin.h). */
#include "standin.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "lib/host-cgroup.h"
#include "lib/state.h"
#include "signals.h"

#define STANDIN_READY_TIMEOUT_MS 10000

struct Standin {
	pid_t pid;
	guint64 start_time;
	int ctl_fd; /* socketpair to the stand-in */
	guint ctl_source;
	gboolean ready; /* set up (standin_wait_ready) */
	gboolean exited;
	char *netns_path;    /* for the set-up's errors */
	char **cgroup_procs; /* idem */
	StandinSignalFunc on_signal;
	StandinDiedFunc on_died;
	gpointer user_data;
};

/* --- the stand-in's side (after fork, never returns) ------------------------- */

/* The stand-in's first message: set up (err 0), or why not: an errno, and
 * which step failed: the index of a cgroup it could not join, STEP_NETNS
 * or STEP_OTHER. */
enum { STEP_NETNS = -1, STEP_OTHER = -2 };
typedef struct {
	int err;
	int cgroup;
} SetupReport;

G_NORETURN static void standin_abort(int ctl_fd, int err, int cgroup)
{
	SetupReport r = {.err = err != 0 ? err : EIO, .cgroup = cgroup};

	(void)!write(ctl_fd, &r, sizeof r);
	_exit(137);
}

static void join_cgroups(char **procs, int ctl_fd)
{
	for (int i = 0; procs != NULL && procs[i] != NULL; i++) {
		int fd = open(procs[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) < 0)
			standin_abort(ctl_fd, errno, i);
		close(fd);
	}
}

G_NORETURN static void standin_main(const StandinOptions *opts, int ctl_fd, pid_t parent)
{
	sigset_t all;

	/* signals sent the moment the pid is published are forwarded */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	(void)prctl(PR_SET_NAME, "ck-standin");
	if (!ck_die_with_parent(parent))
		_exit(137);
	if (opts->netns_path != NULL) {
		int ns = open(opts->netns_path, O_RDONLY | O_CLOEXEC);
		if (ns < 0 || setns(ns, CLONE_NEWNET) < 0)
			standin_abort(ctl_fd, errno, STEP_NETNS);
		close(ns);
	}
	join_cgroups(opts->cgroup_procs, ctl_fd);

	/* hold nothing of the monitor's: not its sockets, logs or stdio */
	int devnull = open("/dev/null", O_RDWR);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(devnull, 2) < 0 ||
	    dup2(ctl_fd, 3) < 0)
		standin_abort(ctl_fd, errno, STEP_OTHER);
	ctl_fd = 3;
	(void)close_range(4, ~0U, 0);

	int sfd = signalfd(-1, &all, SFD_CLOEXEC);
	if (sfd < 0)
		standin_abort(ctl_fd, errno, STEP_OTHER);
	/* set up: the monitor may publish our pid now */
	SetupReport ready = {.err = 0, .cgroup = STEP_OTHER};
	if (write(ctl_fd, &ready, sizeof ready) != sizeof ready)
		_exit(137);
	struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN}, {.fd = ctl_fd, .events = POLLIN}};
	for (;;) {
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			_exit(137);
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) == sizeof si && si.ssi_signo != SIGCHLD) {
				int sig = (int)si.ssi_signo;
				(void)!write(ctl_fd, &sig, sizeof sig);
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP)) {
			int code;
			ssize_t n = read(ctl_fd, &code, sizeof code);
			/* the guest process's status, or the monitor is gone */
			_exit(n == sizeof code ? (code & 0xff) : 137);
		}
	}
}

/* --- the monitor's side ------------------------------------------------------ */

static gboolean on_ctl(gint fd, GIOCondition cond, gpointer data)
{
	Standin *s = data;
	int sig;

	(void)cond;
	while (ck_read_retry(fd, &sig, sizeof sig) == sizeof sig)
		if (s->on_signal != NULL)
			s->on_signal(sig, s->user_data);
	if (cond & (G_IO_HUP | G_IO_ERR)) {
		s->ctl_source = 0;
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

static void on_exit_cb(pid_t pid, int status, gpointer data)
{
	Standin *s = data;

	(void)pid;
	/* dead in its set-up: standin_wait_ready() says why */
	gboolean expected = s->exited || !s->ready;
	s->exited = TRUE;
	if (!expected && s->on_died != NULL)
		s->on_died(status, s->user_data);
}

static gboolean setup_failed(const Standin *s, const SetupReport *r, GError **error)
{
	int n_cgroups = s->cgroup_procs != NULL ? (int)g_strv_length(s->cgroup_procs) : 0;

	if (r->err <= 0)
		return ck_set_error_errno(error, EIO, "stand-in: set-up");
	if (r->cgroup >= 0 && r->cgroup < n_cgroups) {
		host_cgroup_join_error(s->cgroup_procs[r->cgroup], r->err, error);
		g_prefix_error(error, "stand-in: ");
		return FALSE;
	}
	if (r->cgroup == STEP_NETNS && s->netns_path != NULL)
		return ck_set_error_errno(error, r->err, "stand-in: join %s", s->netns_path);
	return ck_set_error_errno(error, r->err, "stand-in: set-up");
}

Standin *standin_start(const StandinOptions *opts, GError **error)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return ck_set_error_errno(error, errno, "socketpair"), NULL;
	ck_autofd ours = sv[0], theirs = sv[1];
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return ck_set_error_errno(error, errno, "fork the stand-in"), NULL;
	if (pid == 0) {
		ck_clear_fd(&ours);
		standin_main(opts, theirs, parent);
	}
	Standin *s = g_new0(Standin, 1);
	s->pid = pid;
	s->ctl_fd = ck_steal_fd(&ours);
	s->on_signal = opts->on_signal;
	s->on_died = opts->on_died;
	s->user_data = opts->user_data;
	s->netns_path = g_strdup(opts->netns_path);
	s->cgroup_procs = g_strdupv(opts->cgroup_procs);
	signals_watch_child(pid, on_exit_cb, s);
	return s;
}

gboolean standin_wait_ready(Standin *s, GError **error)
{
	SetupReport ready = {.err = ETIMEDOUT, .cgroup = STEP_OTHER};
	struct pollfd pfd = {.fd = s->ctl_fd, .events = POLLIN};

	if (s->ready)
		return TRUE;
	/* one that died in its set-up has left its report in the socket */
	if (poll(&pfd, 1, STANDIN_READY_TIMEOUT_MS) <= 0 ||
	    ck_read_retry(s->ctl_fd, &ready, sizeof ready) != sizeof ready || ready.err != 0) {
		/* not reaped yet, so its pid is still its own */
		if (!s->exited) {
			s->exited = TRUE;
			(void)kill(s->pid, SIGKILL);
			(void)signals_wait_child(s->pid, STANDIN_READY_TIMEOUT_MS);
		}
		return setup_failed(s, &ready, error);
	}
	/* set up, then killed before its pid was published */
	if (s->exited)
		return ck_set_error_errno(error, ESRCH, "stand-in: died before its pid was reported");
	s->ready = TRUE;
	s->start_time = proc_start_time(s->pid);
	(void)ck_set_nonblock(s->ctl_fd, TRUE, NULL);
	s->ctl_source = g_unix_fd_add(s->ctl_fd, G_IO_IN | G_IO_HUP, on_ctl, s);
	return TRUE;
}


pid_t standin_get_pid(Standin *s)
{
	return s->pid;
}

guint64 standin_get_start_time(Standin *s)
{
	return s->start_time;
}

void standin_finish(Standin *s, int exit_code, int timeout_ms)
{
	if (s->exited)
		return;
	s->exited = TRUE; /* from here on its death is expected */
	(void)!write(s->ctl_fd, &exit_code, sizeof exit_code);
	if (!signals_wait_child(s->pid, timeout_ms)) {
		(void)kill(s->pid, SIGKILL);
		(void)signals_wait_child(s->pid, 1000);
	}
}

void standin_free(Standin *s)
{
	if (s == NULL)
		return;
	if (!s->exited)
		standin_finish(s, 137, 1000);
	signals_unwatch_child(s->pid);
	if (s->ctl_source != 0)
		g_source_remove(s->ctl_source);
	ck_close_fdp(&s->ctl_fd);
	g_free(s->netns_path);
	g_strfreev(s->cgroup_procs);
	g_free(s);
}
