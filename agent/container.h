/* container: the containers of the sandbox, and the operations on them.
 *
 * A Container holds its parsed spec, its cgroup, its init process and the
 * processes exec'd into it. OCI semantics: create runs the init process up
 * to the exec barrier (status "created"); start releases it ("running");
 * the init's exit makes the container "stopped"; remove kills whatever is
 * left, releases the cgroup and forgets it. Exec'd processes join every
 * namespace and the cgroup of the init process.
 *
 * Namespaces in the spec: "network" entries are ignored (the VM is the
 * pod's network namespace and every container shares it); a path of the
 * form "container:<id>" joins that container's namespace (the host
 * rewrites CRI-O's and Podman's host paths into this form); a guest path
 * (/proc/<pid>/ns/<type>) is joined as is; no path creates a new one.
 * User and time namespaces are not supported yet and are refused.
 */
#pragma once

#include <glib.h>

#include "agent.h"
#include "process.h"
#include "reply.h"

G_BEGIN_DECLS

typedef enum {
	CONTAINER_CREATED,
	CONTAINER_RUNNING,
	CONTAINER_PAUSED,
	CONTAINER_STOPPED,
} ContainerStatus;

const char *container_status_to_string(ContainerStatus status);

/* Operation handlers, listed in ops.c's table. */
gboolean op_create_container(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_start_container(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_exec_process(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_signal_process(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_wait_process(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_resize_terminal(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_remove_container(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_pause_container(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_resume_container(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_update_container(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_stats_container(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_state_container(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_list_processes(AgentRequest *req, gpointer args, gpointer result, GError **error);

/* Kills every container (destroy_sandbox). */
void container_kill_all(Agent *agent);

/* Watches memory.events of every container for OOM kills. */
gboolean container_oom_watch_init(Agent *agent, GError **error);

G_END_DECLS
