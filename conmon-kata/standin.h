/* standin: the host process that stands for a process in the guest.
 *
 * CRI-O and Podman treat the pid a runtime reports as the container: they
 * read /proc/<pid>/stat right after create, probe it with kill(pid, 0),
 * signal it directly (Podman's exec sessions), join /proc/<pid>/ns/..., and
 * read /proc/<pid>/cgroup. A VM's process has no host pid, so the monitor
 * forks a stand-in that
 *   - lives exactly as long as the guest process: it exits (with the
 *     guest process's exit status) when the monitor tells it to, and the
 *     monitor reaps it before it writes any exit file;
 *   - forwards every signal it receives to the guest process, through the
 *     monitor;
 *   - joins the pod's network namespace and the container's host cgroup,
 *     so that /proc/<pid>/ns/net, net/dev and cgroup mean something (a
 *     cgroup it cannot join fails its set-up, naming the controller);
 *   - dies with the monitor (PR_SET_PDEATHSIG), and if it is SIGKILLed
 *     the monitor kills the guest process (it cannot forward SIGKILL).
 * It is a fork of the monitor that execs nothing: a few hundred KiB of
 * private memory.
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

typedef struct Standin Standin;

/* sig: a signal the stand-in received; died: it was killed (SIGKILL),
 * wait_status as waitpid gives it. */
typedef void (*StandinSignalFunc)(int sig, gpointer user_data);
typedef void (*StandinDiedFunc)(int wait_status, gpointer user_data);

typedef struct {
	const char *netns_path;	   /* NULL: stay in ours */
	char **cgroup_procs;	   /* cgroup.procs files to join, may be NULL */
	StandinSignalFunc on_signal;
	StandinDiedFunc on_died;
	gpointer user_data;
} StandinOptions;

/* Forks the stand-in, which sets itself up (the namespace, the cgroups:
 * a move between cgroups waits for an RCU grace period) while the caller
 * goes on; standin_wait_ready() waits for that and reports a failed
 * set-up (the stand-in is then gone). Its pid means nothing to anyone
 * before it is ready. */
Standin *standin_start(const StandinOptions *opts, GError **error);
gboolean standin_wait_ready(Standin *s, GError **error);
pid_t standin_get_pid(Standin *s);
guint64 standin_get_start_time(Standin *s);

/* Makes the stand-in exit with `exit_code` (0..255) and reaps it, waiting
 * up to timeout_ms; SIGKILLs it after that. When this returns, kill(pid,0)
 * fails with ESRCH. */
void standin_finish(Standin *s, int exit_code, int timeout_ms);

void standin_free(Standin *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Standin, standin_free)

G_END_DECLS
