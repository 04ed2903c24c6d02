/* host-cgroup: the container's cgroup on the host (linux.cgroupsPath).
 *
 * The container itself runs in the VM; on the host its cgroup holds the
 * stand-in (so that /proc/<pid>/cgroup names it, as CRI-O and Podman
 * expect) and, for a sandbox, QEMU (so the pod's host cgroup accounts for
 * the VM). cgroupfs paths work on cgroup v1 (one directory per mounted
 * controller) and v2 (one unified directory); a systemd-style path
 * "slice:prefix:name" is mapped to the cgroupfs path systemd would use
 * (.../<slice>/<prefix>-<name>.scope). Directories this module creates
 * are removed again by host_cgroup_cleanup().
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
	GPtrArray *procs;   /* cgroup.procs files to join */
	GPtrArray *created; /* directories created here, deepest last */
} HostCgroup;

void host_cgroup_clear(HostCgroup *cg);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HostCgroup, host_cgroup_clear)

/* The cgroupfs path for a cgroupsPath (systemd form converted). */
char *host_cgroup_fs_path(const char *cgroups_path);

/* Creates the cgroup directories. A NULL or empty path prepares nothing.
 * Failure to create one (read-only /sys, no such controller) only drops
 * that controller: the stand-in then stays where the monitor is. */
void host_cgroup_prepare(HostCgroup *cg, const char *cgroups_path);

/* Removes the directories it created (once empty), deepest first. */
void host_cgroup_cleanup(HostCgroup *cg);

G_END_DECLS
