/* guest-paths: where the host's files are in the guest.
 *
 * create_sandbox mounts the pod's shared folder at SANDBOX_SHARE_DIR;
 * copy_file writes under SANDBOX_FILES_DIR. Paths the host hands over
 * (rootfs, bind-mount sources) must lie under one of the two: nothing else
 * of the guest is reachable from a container spec.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SANDBOX_SHARE_DIR "/run/kata/shared"
#define SANDBOX_FILES_DIR "/run/kata/files"
#define SANDBOX_SHARE_TAG "kataShared"

/* TRUE for a normalized absolute path under the share or the files dir. */
gboolean guest_path_is_shared(const char *path);

G_END_DECLS
