/* cgroup: the guest's cgroup v2 hierarchy, one cgroup per container.
 *
 * The guest boots with cgroup_no_v1=all, so the unified hierarchy has
 * every controller. Containers live in /sys/fs/cgroup/containers/<id>;
 * the agent itself stays in the root cgroup. OCI (cgroup v1 style)
 * resources are converted the way runc converts them for v2: shares to
 * cpu.weight, quota/period to cpu.max, memory+swap to memory.swap.max.
 * CPU and memory pinning (cpuset) names host CPUs and nodes, which mean
 * nothing in the guest, and is ignored (Kata does the same).
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

#include "proto/ck-ops.h"
#include "oci/oci-spec.h"

G_BEGIN_DECLS

#define CGROUP_ROOT "/sys/fs/cgroup"
#define CGROUP_CONTAINERS CGROUP_ROOT "/containers"

/* Enables the controllers and creates the containers' parent. */
gboolean cgroup_init(GError **error);

char *cgroup_path_for(const char *container_id);

/* mkdir + limits. An existing cgroup is an error (stale container). */
gboolean cgroup_create(const char *path, const OciResources *res, GError **error);

/* Writes the limits present in res (absent fields stay as they are). */
gboolean cgroup_apply(const char *path, const OciResources *res, GError **error);

/* cgroup.freeze */
gboolean cgroup_freeze(const char *path, gboolean frozen, GError **error);

/* Sends sig to every process in the cgroup (SIGKILL through cgroup.kill). */
gboolean cgroup_signal_all(const char *path, int sig, GError **error);

/* The pids in the cgroup (guest PID namespace of the agent). */
GArray *cgroup_pids(const char *path, GError **error);

/* Kills what is left and removes the cgroup, waiting up to timeout_ms
 * for it to empty. A missing cgroup is success. */
gboolean cgroup_destroy(const char *path, int timeout_ms, GError **error);

/* The oom_kill counter of memory.events, -1 when unreadable. */
gint64 cgroup_oom_kills(const char *path);

/* The cpu, memory and pids statistics of stats_container. */
gboolean cgroup_stats(const char *path, CkStatsResult *out, GError **error);

/* Conversions, exposed for unit tests. */
guint64 cgroup_shares_to_weight(guint64 shares);
/* cpu.max from the spec's quota and period (0: not given, the value in
 * current, the file's content, stays; NULL current: "max 100000"). */
char *cgroup_cpu_max(gint64 quota, guint64 period, const char *current);
char *cgroup_swap_max(gint64 memory_limit, gint64 memory_swap);

G_END_DECLS
