/* signals: every signal the monitor handles, through one signalfd.
 *
 * The monitor is the child subreaper for everything it starts (QEMU, the
 * stand-ins, hooks, the runtime on the trusted path, the exit command)
 * and for whatever they leave behind, so it reaps with one waitpid(-1)
 * sweep per SIGCHLD and dispatches each exit to the callback registered
 * for that pid; unknown pids are orphans and are just reaped. Other
 * signals go to one handler: TERM, INT and QUIT are forwarded to the
 * container (conmon's behaviour); the shim mode of vmctl create forwards
 * every catchable signal. SIGPIPE is ignored for the life of the process
 * (CRI-O stops monitor scopes with SIGPIPE at node shutdown).
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

typedef void (*ChildExitFunc)(pid_t pid, int status, gpointer user_data);
typedef void (*SignalFunc)(int sig, gpointer user_data);

/* Blocks the signals of `forward` (NULL-terminated array of signal
 * numbers, 0-terminated) plus SIGCHLD, and starts dispatching them on the
 * default main context. */
gboolean signals_init(const int *forward, SignalFunc on_signal, gpointer user_data, GError **error);

/* All catchable signals but SIGCHLD, for the shim mode; 0-terminated. */
const int *signals_all_catchable(void);

void signals_watch_child(pid_t pid, ChildExitFunc func, gpointer user_data);
void signals_unwatch_child(pid_t pid);

/* Reaps now (without waiting for the main loop): for paths that must
 * know a child is gone before they go on. Returns TRUE when pid exited
 * within timeout_ms; its callback runs too. */
gboolean signals_wait_child(pid_t pid, int timeout_ms);

/* Restores the default mask and dispositions: for a child about to exec. */
void signals_reset_for_exec(void);

G_END_DECLS
