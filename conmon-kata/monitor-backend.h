/* monitor-backend: the one interface between the monitor core and the
 * paths that run a process (docs/ARCHITECTURE.md, "The monitor").
 *
 * The core (monitor-core.h) owns what conmon's callers see and is the same
 * for every container: the sync pipe messages, the logs, the attach socket
 * and the FIFOs, the timeout, the exit sequence and its files. A backend
 * owns one way of running the process:
 *
 *   VM       (monitor-vm.h)  the process in the pod's VM, a stand-in on
 *            the host (or, started by `vmctl create`, the monitor itself:
 *            shim mode, a variant of the same backend);
 *   trusted  (trusted.h)     the runtime as a child, runc's process
 *            re-parented to us.
 *
 * The core calls a backend only through MonitorBackend below; a backend
 * reaches the core only through the MonitorSink it is given when it is
 * made. Neither includes the other's header, so the core builds and is
 * unit-tested without any backend (tests/unit/test-conmon-monitor.c
 * drives it with a fake one).
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

/* The fds the process model collected (-1 when absent). */
typedef struct {
	int sync_fd;	/* _OCI_SYNCPIPE */
	int start_fd;	/* _OCI_STARTPIPE, still needed with --exec-attach */
	int attach_fd;	/* _OCI_ATTACHPIPE (--exec-attach) */
	gboolean shim;	/* started by `vmctl create`: the monitor is its own stand-in */
	char *console_socket; /* shim mode with a terminal: where to send the pty */
} MonitorFds;

/* The core's side, for a backend. Every callback runs on the default
 * GMainContext and may be called from the backend's own event sources. */
typedef struct {
	gpointer core;
	/* The process's output, in order, in chunks of any size; a terminal's
	 * goes as stdout whatever is_stderr says. */
	void (*output)(gpointer core, gboolean is_stderr, const guint8 *data, gsize len);
	/* The process was OOM-killed (any time before its exit is reported):
	 * the exit writes the oom files. */
	void (*oom)(gpointer core);
	/* The process ended: exit(exit_code), or (signal > 0) killed by signal,
	 * which the exit files say as 128 + signal. The first call counts. */
	void (*exited)(gpointer core, int exit_code, int signal);
	/* A terminal size written to the ctl/winsz FIFOs before the process
	 * existed (taken: it is not delivered to resize() again); FALSE when
	 * none is waiting. */
	gboolean (*pending_size)(gpointer core, int *rows, int *cols);
} MonitorSink;

/* One way of running the process. `self` is the backend's object; the
 * optional operations may be NULL. The core calls them in this order:
 *
 *   prepare -> (logs, attach socket, FIFOs, exec-attach handshake) ->
 *   spawn -> (early input, winsz, pid file) -> created -> {"pid": N} ->
 *   reported -> main loop: write_stdin, close_stdin, resize, kill, until
 *   MonitorSink.exited -> (oom files, log sync) -> release -> (attach
 *   clients closed, exit files, final sync message)
 *
 * and failed() instead of the rest when prepare, spawn or created fail,
 * or the core's steps between them do. */
typedef struct {
	const char *name; /* for logs: "vm", "trusted" */
	/* The runtime writes the pid file itself (runc's --pid-file): the core
	 * leaves it alone. */
	gboolean writes_pidfile;

	/* Checks with no side effects, before the monitor's I/O exists. */
	gboolean (*prepare)(gpointer self, GError **error);
	/* Creates (or execs) the process, up to the pid the callers see. */
	gboolean (*spawn)(gpointer self, pid_t *out_pid, GError **error);
	/* After the pid file: what must be done before the pid is reported
	 * (the state file, host hooks). */
	gboolean (*created)(gpointer self, GError **error);
	/* A start that failed: undo what was made, word *error as the caller
	 * is to read it on the sync pipe, and return the monitor's exit
	 * status. NULL: status 1, the message as it is. */
	int (*failed)(gpointer self, GError **error);
	/* The pid is out. */
	void (*reported)(gpointer self);

	/* The process has a terminal: its stderr is its stdout, and an attach
	 * client leaving does not close its input. */
	gboolean (*terminal)(gpointer self);
	/* Where output relayed as is goes (passthrough, shim mode), -1: our
	 * own stdout or stderr. NULL: always -1. */
	int (*output_fd)(gpointer self);
	/* Input from attach clients, once spawn() returned (earlier input is
	 * kept and given then, in order). */
	void (*write_stdin)(gpointer self, const guint8 *data, gsize len);
	void (*close_stdin)(gpointer self);
	/* A resize from the winsz FIFO. */
	void (*resize)(gpointer self, int rows, int cols);
	/* A signal for the process (forwarded, or SIGKILL on the timeout);
	 * FALSE: there is no process yet, and the monitor gives up. */
	gboolean (*kill)(gpointer self, int sig);
	/* The exit sequence's middle, after the oom files and the log sync and
	 * before the exit files: stand-in, container, pod, state, cgroups. */
	void (*release)(gpointer self, int exit_code);
} MonitorBackend;

G_END_DECLS
