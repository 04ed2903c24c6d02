/* mounts: a container's root filesystem, from OCI mounts to pivot_root.
 *
 * Parent side: mounts_plan() turns the spec's mounts into MountOps (option
 * words into flags, propagation and data; cgroup into cgroup2, the only
 * hierarchy in the guest) and checks them, so a bad option is an error
 * reply, not a dead child.
 *
 * Child side, in stage 2 in the new mount namespace, in two steps with the
 * createContainer hooks between them: mounts_setup_container() makes "/"
 * a slave, binds the rootfs onto itself, performs the mounts, makes sure
 * /dev is a tmpfs with the standard devices and links; then
 * mounts_enter_container() pivots, writes the sysctls, masks and
 * write-protects paths, and finally remounts the root read-only if asked.
 * Every target is resolved inside the container root with
 * openat2(RESOLVE_IN_ROOT): a symlink in the image cannot send a mount
 * outside the container.
 */
#pragma once

#include <glib.h>

#include "oci/oci-spec.h"
#include "spawn-plan.h"

G_BEGIN_DECLS

/* Parses one OCI mount's options. `path` prefixes messages. */
gboolean mounts_parse_options(char **options, const char *path, unsigned long *out_flags,
			      unsigned long *out_propagation, gboolean *out_bind, gboolean *out_recursive,
			      char **out_data, GError **error);

/* Fills plan->mounts, masked/readonly paths, rootfs, propagation. */
gboolean mounts_plan(SpawnPlan *plan, const OciSpec *spec, const char *rootfs, GError **error);

/* Stage 2 of the container init; both fail through spawn_child_fail().
 * Between the two the container's mounts are in place under plan->rootfs
 * and the root is still the guest's. */
void mounts_setup_container(const SpawnPlan *plan);
void mounts_enter_container(const SpawnPlan *plan);

G_END_DECLS
