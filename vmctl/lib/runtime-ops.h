/* runtime-ops: the OCI operations on a VM container, for vmctl's verbs.
 *
 * Each operation locks the container's state (state.h), looks at what is
 * recorded and what is alive, and asks the pod's agent through the pod
 * monitor's control socket. Messages are runc's where CRI-O or Podman
 * match on them: "container not running" (kill of a stopped container,
 * which CRI-O then treats as already dead), "cannot delete container %s
 * that is not stopped: %s", "container %s does not exist".
 */
#pragma once

#include <glib.h>

#include "agent-client.h"
#include "state.h"

G_BEGIN_DECLS

/* Connects to the pod monitor of a container (timeout in ms). */
AgentClient *runtime_connect(const char *root, const ContainerState *st, int timeout_ms, GError **error);

/* One blocking typed request (agent_client_op()) on a fresh connection. */
gboolean runtime_op(const char *root, const ContainerState *st, CkOp op, gconstpointer args, gpointer out_result,
		    GError **error);

gboolean runtime_start(const char *root, const char *id, GError **error);
gboolean runtime_kill(const char *root, const char *id, int sig, gboolean all, GError **error);
gboolean runtime_pause(const char *root, const char *id, gboolean pause, GError **error);
gboolean runtime_update(const char *root, const char *id, yajl_val resources, GError **error);
/* The guest's statistics of a running container's cgroup: the agent's
 * stats_container result (docs/protocol.md). */
gboolean runtime_stats(const char *root, const char *id, CkStatsResult *out, GError **error);
/* Guest pids of the container's processes. */
GArray *runtime_ps(const char *root, const char *id, GError **error);

/* Deletes a stopped container (force: kills it first). A sandbox's pod
 * directory goes with it once its monitor has finished. */
gboolean runtime_delete(const char *root, const char *id, gboolean force, GError **error);

/* delete --force of an id with no state: a pod directory left by a
 * sandbox whose create failed, with no monitor serving it, is removed. */
gboolean runtime_delete_orphan_pod(const char *root, const char *pod_id, GError **error);

G_END_DECLS
