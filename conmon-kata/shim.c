/* shim: conmon-kata started by `vmctl create` or `vmctl exec` (--shim).
 *
 * A runtime's caller (stock conmon, a test harness, CRI-O's streaming
 * exec) expects runc's model: the process it is told about holds the
 * container's stdio, or the terminal it received on --console-socket, and
 * exits with the container's status. In shim mode the monitor is that
 * process: no separate stand-in, the caller's stdio relayed as is, every
 * catchable signal forwarded, and for a terminal
 *   - with --console-socket: a host pty whose master goes to the socket
 *     (as runc sends its own); the slave is made raw, so the guest's pty
 *     alone does the line discipline, and it is our controlling terminal,
 *     so a resize by the master's holder arrives as SIGWINCH;
 *   - without: our own stdin, when it is a terminal (CRI-O's pty for
 *     `kubectl exec -t`), in raw mode until we exit; SIGWINCH likewise.
 * Being the container's pid, the shim also takes the stand-in's place on
 * the host (conmon-interface.md#the-container-pid): once the guest process exists it
 * joins the pod's network namespace and the container's host cgroup.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "base/ck-socket.h"
#include "monitor-vm-internal.h"

static struct termios saved_termios;
static gboolean termios_saved;

static void restore_termios(void)
{
	if (termios_saved)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
}

static gboolean send_master(const char *socket_path, int master, const char *name, GError **error)
{
	ck_autofd fd = ck_unix_connect(socket_path, SOCK_STREAM, error);
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	if (fd < 0)
		return g_prefix_error(error, "console socket: "), FALSE;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0)
		return ck_set_error_errno(error, errno, "send the terminal to %s", socket_path);
	return TRUE;
}

static gboolean host_pty(MonitorVm *vm, GError **error)
{
	char name[64];
	ck_autofd master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0)
		return ck_set_error_errno(error, errno, "open a pty");
	int slave = open(name, O_RDWR | O_CLOEXEC);
	if (slave < 0)
		return ck_set_error_errno(error, errno, "open %s", name);
	struct termios t;
	if (tcgetattr(slave, &t) == 0) {
		cfmakeraw(&t);
		(void)tcsetattr(slave, TCSANOW, &t);
	}
	/* our controlling terminal: its resizes reach us as SIGWINCH */
	(void)ioctl(slave, TIOCSCTTY, 0);
	if (!send_master(vm->fds->console_socket, master, name, error)) {
		close(slave);
		return FALSE;
	}
	vm->host_pty = slave;
	vm->passthrough_in = slave;
	return TRUE;
}

static void raw_stdin(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) < 0)
		return;
	termios_saved = TRUE;
	atexit(restore_termios);
	t = saved_termios;
	cfmakeraw(&t);
	(void)tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

gboolean monitor_shim_setup(MonitorVm *vm, GError **error)
{
	if (!vm->fds->shim)
		return TRUE;
	vm->passthrough_in = STDIN_FILENO;
	if (!vm->terminal)
		return TRUE;
	if (vm->fds->console_socket != NULL)
		return host_pty(vm, error);
	raw_stdin();
	return TRUE;
}

gboolean monitor_shim_join_cgroup(MonitorVm *vm, GError **error)
{
	if (vm->cgroup.procs != NULL)
		return TRUE; /* joined already: a sandbox, before its VM boots */
	if (monitor_vm_systemd_cgroup(vm))
		return host_cgroup_systemd_join(&vm->cgroup, vm->spec->cgroups_path, monitor_vm_spec_resources(vm),
						getpid(), error);
	return host_cgroup_prepare(&vm->cgroup, vm->spec != NULL ? vm->spec->cgroups_path : NULL, error) &&
	       host_cgroup_join_self(&vm->cgroup, error);
}

gboolean monitor_shim_join(MonitorVm *vm, GError **error)
{
	if (!monitor_shim_join_cgroup(vm, error))
		return FALSE;
	if (vm->netns_path == NULL)
		return TRUE;
	ck_autofd ns = open(vm->netns_path, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || setns(ns, CLONE_NEWNET) < 0)
		return ck_set_error_errno(error, errno, "join the network namespace %s", vm->netns_path);
	return TRUE;
}

gboolean monitor_shim_window_size(MonitorVm *vm, int *out_rows, int *out_cols)
{
	struct winsize ws;
	int fd = vm->host_pty >= 0 ? vm->host_pty : STDIN_FILENO;

	if (!vm->terminal || vm->proc == NULL || ioctl(fd, TIOCGWINSZ, &ws) < 0)
		return FALSE;
	*out_rows = ws.ws_row;
	*out_cols = ws.ws_col;
	return TRUE;
}

gboolean monitor_shim_console_size(MonitorVm *vm, guint16 *out_rows, guint16 *out_cols)
{
	struct winsize ws;

	/* with a console socket the pty is ours and new: its size comes
	 * later, from whoever holds the master, as SIGWINCH */
	if (!vm->fds->shim || !vm->terminal || vm->fds->console_socket != NULL || !isatty(STDIN_FILENO) ||
	    ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || (ws.ws_row == 0 && ws.ws_col == 0))
		return FALSE;
	*out_rows = ws.ws_row;
	*out_cols = ws.ws_col;
	return TRUE;
}

void monitor_shim_reported(MonitorVm *vm)
{
	if (!vm->fds->shim)
		return;
	ck_log_set_stderr(FALSE);
	ck_log_set_file_errors(TRUE);
	/* As runc's container on its console: the terminal is all it has.
	 * Holding on to the caller's stdout would keep a caller that reads it
	 * to EOF waiting for as long as the container lives (containerd's
	 * runc shim collects the output of `create --console-socket` so). */
	if (vm->host_pty >= 0)
		ck_stdio_to_devnull();
}
