/* guest-spec: a container's host bundle, made reachable from the guest.
 *
 * The pod has one shared folder on the host (<pod dir>/shared), exported
 * to the guest over virtio-9p and mounted there at GUEST_SHARE_DIR. For
 * each container this module
 *   - bind-mounts the bundle's rootfs at shared/<id>/rootfs,
 *   - bind-mounts every bind-mount source of the spec (volumes,
 *     resolv.conf, hosts, /dev/shm, ...) at shared/<id>/mounts/<n>/<base
 *     name of the source> (so the guest sees the host's base name), and
 *     rewrites the spec's source to the guest path,
 *   - drops what the guest must not see: the hooks the host runs (all
 *     but createContainer and startContainer, which the agent runs),
 *     network namespace paths (the VM is the pod's network namespace),
 *   - maps the other namespace paths through a resolver (host path ->
 *     "container:<id>" of the container that owns that namespace in the
 *     guest, or NULL for "create a new one"),
 * and undoes all of it on release. The share itself is a private mount
 * (guest_share_init), so none of these mounts propagates elsewhere on the
 * host.
 */
#pragma once

#include <glib.h>

#include "oci/oci-spec.h"

G_BEGIN_DECLS

#define GUEST_SHARE_DIR "/run/kata/shared"

/* Returns the guest's namespace reference for a host path, NULL (without
 * error) to create a new namespace, or NULL with an error. */
typedef char *(*GuestNsResolveFunc)(OciNamespaceType type, const char *host_path, gpointer user_data,
				    GError **error);

/* Creates share_dir and makes it a private bind mount of itself. */
gboolean guest_share_init(const char *share_dir, GError **error);
/* Unmounts everything under share_dir (and share_dir) and removes it. */
gboolean guest_share_destroy(const char *share_dir, GError **error);

/* Prepares container `id`: mounts under share_dir/<id>, rewrites spec in
 * place. *out_guest_rootfs is the rootfs path inside the guest. On error
 * whatever was mounted is undone. */
gboolean guest_spec_prepare(OciSpec *spec, const char *bundle, const char *share_dir, const char *id,
			    GuestNsResolveFunc resolve, gpointer resolve_data, gboolean keep_seccomp,
			    char **out_guest_rootfs, GError **error);

/* Unmounts and removes share_dir/<id>; a missing directory is success. */
gboolean guest_spec_release(const char *share_dir, const char *id, GError **error);

G_END_DECLS
