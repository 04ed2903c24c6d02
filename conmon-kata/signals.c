/* signals: signalfd dispatch and the subreaper's waitpid sweep. */
#include "signals.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"

typedef struct {
	ChildExitFunc func;
	gpointer data;
} ChildWatch;

static struct {
	int fd;
	GHashTable *children; /* pid -> ChildWatch* */
	SignalFunc on_signal;
	gpointer data;
} sig_state = {.fd = -1};

static void dispatch_exit(pid_t pid, int status)
{
	ChildWatch *w = g_hash_table_lookup(sig_state.children, GINT_TO_POINTER(pid));

	if (w == NULL) {
		ck_log_debug("reaped %d (status 0x%x)", pid, status);
		return;
	}
	ChildWatch watch = *w;
	g_hash_table_remove(sig_state.children, GINT_TO_POINTER(pid));
	watch.func(pid, status, watch.data);
}

static void sweep(void)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			return;
		dispatch_exit(pid, status);
	}
}

static gboolean on_signalfd(gint fd, GIOCondition cond, gpointer data)
{
	struct signalfd_siginfo si;

	(void)cond;
	(void)data;
	while (ck_read_retry(fd, &si, sizeof si) == sizeof si) {
		if (si.ssi_signo == SIGCHLD)
			continue; /* one sweep below covers them all */
		if (sig_state.on_signal != NULL)
			sig_state.on_signal((int)si.ssi_signo, sig_state.data);
	}
	sweep();
	return G_SOURCE_CONTINUE;
}

gboolean signals_init(const int *forward, SignalFunc on_signal, gpointer user_data, GError **error)
{
	sigset_t mask;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	for (const int *s = forward; s != NULL && *s != 0; s++)
		sigaddset(&mask, *s);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return ck_set_error_errno(error, errno, "sigprocmask");
	sig_state.fd = signalfd(sig_state.fd, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sig_state.fd < 0)
		return ck_set_error_errno(error, errno, "signalfd");
	if (sig_state.children == NULL) {
		sig_state.children = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
		g_unix_fd_add(sig_state.fd, G_IO_IN, on_signalfd, NULL);
	}
	sig_state.on_signal = on_signal;
	sig_state.data = user_data;
	return TRUE;
}

const int *signals_all_catchable(void)
{
	static int all[64];

	if (all[0] == 0) {
		int n = 0;
		for (int s = 1; s < SIGRTMIN && n < 62; s++)
			if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD && s != SIGPIPE)
				all[n++] = s;
		all[n] = 0;
	}
	return all;
}

void signals_watch_child(pid_t pid, ChildExitFunc func, gpointer user_data)
{
	ChildWatch *w = g_new0(ChildWatch, 1);

	w->func = func;
	w->data = user_data;
	g_hash_table_insert(sig_state.children, GINT_TO_POINTER(pid), w);
}

void signals_unwatch_child(pid_t pid)
{
	if (sig_state.children != NULL)
		g_hash_table_remove(sig_state.children, GINT_TO_POINTER(pid));
}

gboolean signals_wait_child(pid_t pid, int timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	for (;;) {
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			dispatch_exit(pid, status);
			return TRUE;
		}
		if (r < 0 && errno == ECHILD)
			return TRUE; /* already reaped by the sweep */
		if (ck_deadline_remaining_ms(deadline) == 0)
			return FALSE;
		g_usleep(2000);
	}
}

void signals_reset_for_exec(void)
{
	sigset_t none;

	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			(void)signal(s, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}
