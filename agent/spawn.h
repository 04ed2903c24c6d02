/* spawn: starting a container process, from a validated plan.
 *
 * The parent (the agent) turns an OCI spec or process into a SpawnPlan:
 * every name resolved, every value checked, every namespace fd opened. A
 * bad capability name or rlimit is thus an error reply before anything is
 * forked. The child side only executes the plan.
 *
 * Two stages, as runc's nsexec does, because joining or creating a PID
 * namespace only affects children:
 *
 *   agent --fork--> stage 1: joins the container's cgroup, setns() into
 *                   the namespaces to join, unshare()s the new ones, forks
 *                   stage 2, reports its pid, exits
 *   stage 2:        (PID 1 of a new PID namespace, or a member of the
 *                   joined one) sets up the root filesystem (init only:
 *                   mounts, the createContainer hooks, pivot_root),
 *                   hostname, sysctls, rlimits, oom_score_adj; enters the
 *                   user namespace (a new one: unshare, then the agent
 *                   writes its uid and gid maps, USERNS/USERNS_DONE on the
 *                   sync socket; or the container's) and becomes its root;
 *                   checks that the executable exists; reports READY;
 *                   waits for START (init) or goes on (exec); then the
 *                   startContainer hooks (init only), no_new_privs, user
 *                   and groups, capabilities, seccomp, cwd, umask, execve.
 *
 * The user namespace comes last so that the mounts, devices and hostname
 * are made by the guest's root as without one (a 9p share owned by the
 * host's root, mknod, sysfs all work); the other namespaces are therefore
 * owned by the guest's initial user namespace, and the container's
 * capabilities act only inside its own (docs/differences.md).
 *
 * Stage 2 is reparented to the agent (PID 1) when stage 1 exits, and is
 * reaped by the agent's reaper like any other process. Stage 1 also tells
 * stage 2 its pid in the agent's PID namespace (over a pipe of their
 * own), which the OCI state of the hooks carries; it does so after it
 * reported that pid to the agent, and stage 2 waits for it, so SYNC_PID
 * is always the agent's first message.
 *
 * Messages travel on a SOCK_SEQPACKET socketpair that is close-on-exec in
 * the child: EOF after START means execve succeeded. A failure in the
 * child is a fixed-size record (step, errno or error code, text); no GLib
 * error objects cross the fork. The records, and the child's failure
 * reports that the setup modules (mounts.c) use too, are spawn-sync.h's;
 * the plan is spawn-plan.h's.
 */
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <glib.h>
#include <sys/capability.h>

#include "oci/oci-spec.h"
#include "spawn-plan.h"

G_BEGIN_DECLS

/* A started child that has reported READY. */
typedef struct {
	pid_t pid;   /* stage 2, in the agent's PID namespace */
	int sync_fd; /* to send START; EOF once execve succeeded */
	int pty_master; /* the container's own pty, -1: the plan's stdio are used */
	/* monotonic moments (us), for the create timeline: stage 1 reported
	 * the pid (cgroup joined, namespaces joined or made, stage 2 forked),
	 * stage 2 reported READY (rootfs, mounts, hooks, ids set up) */
	gint64 pid_at_us;
	gint64 ready_at_us;
} SpawnedProcess;

/* Runs both stages and waits (up to timeout_ms) for READY. Without
 * wait_for_start the child then execs at once, and this also waits for
 * the exec (EOF) so that a failing execve is reported here. On failure
 * nothing is left running. */
gboolean spawn_process(const SpawnPlan *plan, int timeout_ms, SpawnedProcess *out, GError **error);

/* Releases a child held before execve and waits for the execve. */
gboolean spawn_release(SpawnedProcess *sp, int timeout_ms, GError **error);

G_END_DECLS
