/* sandbox: the guest as a whole, as the pod sees it: version, ping and
 * shutdown, and the sandbox's operations.
 *
 * create_sandbox mounts the pod's shared folder (the 9p export of the pod
 * directory on the host, where every container's rootfs and volumes are
 * bind-mounted), sets the guest hostname and sysctls, and prepares the
 * cgroup hierarchy. copy_file places small files (resolv.conf, hosts,
 * hostname) in the guest when they are not shared. destroy_sandbox kills
 * every container and powers off.
 *
 * Where the shared folder and copied files live: guest-paths.h.
 */
#pragma once

#include <glib.h>

#include "guest-paths.h"
#include "reply.h"

G_BEGIN_DECLS

/* Operation handlers (ops.h), the guest as a whole. */
gboolean op_version(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_ping(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_shutdown(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_create_sandbox(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_destroy_sandbox(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_copy_file(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_guest_details(AgentRequest *req, gpointer args, gpointer result, GError **error);
gboolean op_online_cpu_mem(AgentRequest *req, gpointer args, gpointer result, GError **error);

G_END_DECLS
