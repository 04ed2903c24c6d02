/* pod-client: finding and reaching a pod monitor.
 *
 * Every pod has a directory <runtime root>/pods/<pod id>/ owned by its pod
 * monitor: the control socket (ctl.sock), QEMU's logs and sockets, the
 * shared folder, namespaces.json (the host namespace paths the sandbox
 * was created with) and guest.json (what its guest agent said of its
 * kernel). vmctl and the monitors of the pod's other
 * containers use these functions to reach the pod's agent.
 */
#pragma once

#include <glib.h>

#include "oci/oci-spec.h"

G_BEGIN_DECLS

char *pod_dir(const char *root, const char *pod_id);
char *pod_socket_path(const char *root, const char *pod_id);
char *pod_share_dir(const char *root, const char *pod_id);

/* Connects to a pod's control socket, retrying while it is not there yet
 * (its monitor may still be booting), up to timeout_ms. */
int pod_connect(const char *root, const char *pod_id, int timeout_ms, GError **error);

/* Connects to a socket path, once. CK_ERROR_DISCONNECTED when nobody
 * listens (the pod monitor is gone). */
int pod_connect_path(const char *path, GError **error);

/* Writes the sandbox's namespace paths (pod monitor). */
gboolean pod_record_namespaces(const char *root, const char *pod_id, const OciSpec *sandbox_spec, GError **error);

/* What the monitors of the pod's other containers need to know of its
 * guest agent, from its version answer (CkVersionResult): whether it
 * takes a seccomp program compiled on the host, and for which compat ABIs
 * to compile it (NULL: not reported, every architecture stays). */
typedef struct {
	gboolean seccomp_bpf;
	char **compat_abis;
} PodGuestFacts;

void pod_guest_facts_clear(PodGuestFacts *facts);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PodGuestFacts, pod_guest_facts_clear)

/* Writes them (pod monitor, once the VM is up). */
gboolean pod_record_guest(const char *root, const char *pod_id, const PodGuestFacts *facts, GError **error);

/* Reads them; FALSE when nothing is recorded (a pod of an older monitor,
 * or a file not of this shape): the caller asks the agent. */
gboolean pod_read_guest(const char *root, const char *pod_id, PodGuestFacts *out);

/* Checks the namespace paths of a sandbox's spec, before its VM starts:
 * each must exist and be a namespace of its type, and none but the
 * network namespace (which QEMU joins) may be one of the host's own,
 * which a VM cannot join. The others (CRI-O's pinned ipc and uts
 * namespaces) are replaced by the guest's own. The error is one line
 * naming the type and the path: "ipc namespace /x: the path is a mount
 * namespace, not ipc". */
gboolean pod_check_sandbox_namespaces(const OciSpec *spec, GError **error);

/* Maps a host namespace path named by a container of pod `pod_id` to the
 * guest: the sandbox's own paths and /proc/<pid>/ns/<type> of a
 * container's stand-in become "container:<id>"; anything else is an
 * error naming the path. For the sandbox itself, NULL (a new namespace). */
char *pod_resolve_namespace(const char *root, const char *pod_id, gboolean is_sandbox, OciNamespaceType type,
			    const char *host_path, GError **error);

G_END_DECLS
