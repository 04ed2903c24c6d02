/* sandbox: the guest as a whole, as the pod sees it.
 *
 * create_sandbox mounts the pod's shared folder (the 9p export of the pod
 * directory on the host, where every container's rootfs and volumes are
 * bind-mounted), sets the guest hostname and sysctls, and prepares the
 * cgroup hierarchy. copy_file places small files (resolv.conf, hosts,
 * hostname) in the guest when they are not shared. destroy_sandbox kills
 * every container and powers off.
 *
 * Paths the host hands over (rootfs, bind-mount sources) must lie under
 * SANDBOX_SHARE_DIR or SANDBOX_FILES_DIR: nothing else of the guest is
 * reachable from a container spec.
 */
#pragma once

#include <glib.h>

#include "agent.h"

G_BEGIN_DECLS

#define SANDBOX_SHARE_DIR "/run/kata/shared"
#define SANDBOX_FILES_DIR "/run/kata/files"
#define SANDBOX_SHARE_TAG "kataShared"

/* TRUE for a normalized absolute path under the share or the files dir. */
gboolean sandbox_path_is_shared(const char *path);

gboolean op_create_sandbox(AgentRequest *req, yajl_val args, CkJsonGen *result, GError **error);
gboolean op_destroy_sandbox(AgentRequest *req, yajl_val args, CkJsonGen *result, GError **error);
gboolean op_copy_file(AgentRequest *req, yajl_val args, CkJsonGen *result, GError **error);
gboolean op_guest_details(AgentRequest *req, yajl_val args, CkJsonGen *result, GError **error);
gboolean op_online_cpu_mem(AgentRequest *req, yajl_val args, CkJsonGen *result, GError **error);

G_END_DECLS
