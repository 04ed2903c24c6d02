/* host-hooks: the OCI hook stages that run on the host for a VM container.
 *
 * Which stage runs where and when (docs/hooks.md):
 *   prestart, createRuntime  by the container's monitor, once the guest
 *                            container (held before execve) and its
 *                            stand-in exist, before the pid is reported;
 *                            a failure fails the create;
 *   poststart                by `vmctl start`, after the container runs;
 *   poststop                 by `vmctl delete`, after it is gone.
 * The late stages only log a failure: a hook must never make start or
 * delete fail for a reason of its own. Every stage reads the spec kept
 * with the container's state (container_state_save_spec): the spec the
 * guest receives is rewritten and carries no host hooks.
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

#include "oci/oci-spec.h"
#include "lib/state.h"

G_BEGIN_DECLS

/* prestart then createRuntime (runc's order), with status "creating", the
 * reported pid, and the network namespace the hooks run in. */
gboolean host_hooks_run_create(const char *root, const char *id, const char *bundle, pid_t pid,
			       const char *netns_path, GError **error);

/* The kept spec, for the late stages: NULL when the container has none, or
 * when it cannot be read (logged as a warning). */
OciSpec *host_hooks_spec(const char *root, const char *id);

/* poststart (in the namespace of the container's pid, while it lives) or
 * poststop; a NULL spec runs nothing. Failures are logged only. */
void host_hooks_run_late(const ContainerState *st, const OciSpec *spec, OciHookStage stage);

G_END_DECLS
