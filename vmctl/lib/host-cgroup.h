/* host-cgroup: the container's cgroup on the host (linux.cgroupsPath).
 *
 * The container itself runs in the VM; on the host its cgroup holds the
 * stand-in (so that /proc/<pid>/cgroup names it, as CRI-O and Podman
 * expect) and, for a sandbox, QEMU (so the pod's host cgroup accounts for
 * the VM). cgroupfs paths work on cgroup v1 (one directory per mounted
 * controller) and v2 (one unified directory); a systemd-style path
 * "slice:prefix:name" is mapped to the cgroupfs path systemd would use
 * (.../<slice>/<prefix>-<name>.scope). Directories this module creates
 * are removed again by host_cgroup_cleanup(). It also reads the OOM
 * counters of a process's memory cgroup, for trusted containers.
 *
 * In vmctl's shim mode there is no stand-in: conmon-kata itself is the
 * container's pid and joins the cgroup (host_cgroup_join_self), and goes
 * back to where it was before the directories are removed.
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

#include "oci/oci-spec.h"

G_BEGIN_DECLS

typedef struct {
	GPtrArray *procs;   /* cgroup.procs files to join */
	GPtrArray *bases;   /* the hierarchy of each, where it is mounted */
	GPtrArray *created; /* directories created here, deepest last */
	GPtrArray *origins; /* host_cgroup_join_self: the cgroup.procs files
			     * of the caller's cgroups before, to go back to */
	char *unit;	    /* the systemd scope started, NULL: none */
} HostCgroup;

void host_cgroup_clear(HostCgroup *cg);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HostCgroup, host_cgroup_clear)

/* The cgroupfs path for a cgroupsPath (systemd form converted). */
char *host_cgroup_fs_path(const char *cgroups_path);

/* Tests only: the cgroup file system's root instead of /sys/fs/cgroup
 * (a hierarchy the test mounted in its own mount namespace); NULL goes
 * back to the default. */
void host_cgroup_set_root(const char *root);

/* Whether the cgroup root is cgroup v2 (the unified hierarchy). */
gboolean host_cgroup_is_unified(void);

/* Creates the cgroup directories. A NULL or empty path prepares nothing.
 * Failure to create one (read-only /sys, no such controller) only drops
 * that controller: the stand-in then stays where the monitor is. On
 * cgroup v1 every empty cpuset.cpus and cpuset.mems on the way is filled
 * from its parent (as runc does), or nothing could join the cpuset; a
 * copy that fails is logged, and the join then fails naming cpuset. On
 * cgroup v2 every parent on the way enables the controllers it has
 * (cgroup.controllers) in its cgroup.subtree_control, as runc does; one
 * that cannot be enabled fails: "join the unified cgroup (<procs>):
 * enable the <controller> controller in <parent>/cgroup.subtree_control:
 * <errno text>" (what was made is still removed by host_cgroup_cleanup). */
gboolean host_cgroup_prepare(HostCgroup *cg, const char *cgroups_path, GError **error);

/* The systemd driver: pid (the stand-in, or the caller itself, which
 * then goes back where it was at host_cgroup_cleanup) is placed in the
 * transient scope for cgroups_path ("slice:prefix:name") with the
 * resources res (may be NULL). On cgroup v1 it then joins the scope's
 * folder in the hierarchies systemd leaves alone, as runc does (a folder
 * made there is removed again). host_cgroup_cleanup() stops the scope. */
gboolean host_cgroup_systemd_join(HostCgroup *cg, const char *cgroups_path, const OciResources *res, pid_t pid,
				  GError **error);

/* Moves the calling process into the prepared cgroups, remembering where
 * it was. A cgroup it cannot join is an error naming the controller
 * (host_cgroup_join_error); the ones before it are joined. */
gboolean host_cgroup_join_self(HostCgroup *cg, GError **error);

/* The hierarchy a cgroup.procs path belongs to, as an operator names it:
 * "cpuset", "cpu,cpuacct" (v1) or "unified" (v2). Caller frees. */
char *host_cgroup_controller_of(const char *procs);

/* Sets the error for a failed join of procs: "join the cpuset cgroup
 * (<procs>): <errno text>". Returns FALSE. */
gboolean host_cgroup_join_error(const char *procs, int errsv, GError **error);

/* Moves the calling process back to where it was before
 * host_cgroup_join_self(), if it joined; the cgroups stay. The pod
 * monitor joins its sandbox's cgroup only around QEMU's fork. */
void host_cgroup_go_back(HostCgroup *cg);

/* Moves the calling process back when it joined, stops the systemd scope
 * (a failure is a warning), then removes the directories it created
 * (once empty), deepest first. */
void host_cgroup_cleanup(HostCgroup *cg);

/* vmctl delete, as runc's: removes the leaf directory of cgroups_path in
 * every hierarchy, when it is there and empty; what a monitor killed
 * before its own cleanup left. Failures are logged (debug), not errors. */
void host_cgroup_remove(const char *cgroups_path);

/* OOM kills of a process that runs on the host (a trusted container),
 * for its exit (conmon-interface.md#oom-files). conmon watches memory.events
 * (cgroup v2) or an eventfd on memory.oom_control (v1); we read the same
 * counters when the process is created and again when it has exited (its
 * cgroup outlives it until the runtime deletes the container).
 *
 * host_cgroup_oom_file() names the file of pid's memory cgroup
 * (<cgroup fs>/<path>/memory.events on v2, <memory hierarchy>/<path>/
 * memory.oom_control on v1: <cgroup fs>/memory, or the mount the memory
 * controller shares), NULL when it has none; the caller owns it.
 * host_cgroup_oom_count() sums its "oom" and "oom_kill" lines (v1 has
 * only the latter, from Linux 4.13 on); FALSE when it cannot be read. */
char *host_cgroup_oom_file(pid_t pid);
gboolean host_cgroup_oom_count(const char *path, guint64 *out);

/* Moves pid (all its threads) into the cgroups beside is in, in every
 * hierarchy: how QEMU joins its sandbox's cgroup once the sandbox's
 * stand-in (or conmon-kata --shim) is placed, whichever driver placed it
 * (docs/cgroups.md). A hierarchy it cannot join is an error naming the
 * controller (host_cgroup_join_error); the ones before it are joined. */
gboolean host_cgroup_move_beside(pid_t pid, pid_t beside, GError **error);

/* Moves pid into the root of the memory hierarchy (v1: the memory
 * controller's root only; v2: the unified root), so that what it
 * allocates from then on is charged to no cgroup below: the VM template's
 * QEMU, whose memory stays in the template's file for every later pod
 * (docs/templating.md). TRUE without a move when there is no memory
 * controller; an error names the file. */
gboolean host_cgroup_charge_to_root(pid_t pid, GError **error);

/* The memory a cgroup may use on the host: the smallest memory limit
 * (v1 memory.limit_in_bytes, v2 memory.max) on the cgroup of cgroups_path
 * and every ancestor, and on the caller's own memory cgroup and its
 * ancestors (a VM's QEMU starts there and moves to cgroups_path, NULL or
 * empty: stays). G_MAXUINT64 and dir NULL: no limit anywhere. */
typedef struct {
	guint64 bytes;
	char *dir; /* the folder whose limit it is */
} HostMemoryLimit;

void host_cgroup_memory_limit(const char *cgroups_path, HostMemoryLimit *out);

G_END_DECLS
