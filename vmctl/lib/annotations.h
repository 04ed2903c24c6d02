/* annotations: a pod's io.katacontainers.* annotations as configuration
 * overrides, gated as strictly as Kata gates them, and more.
 *
 * Only the pod's sandbox spec configures the VM. Its annotations under
 *
 *     io.katacontainers.config.hypervisor.<suffix>   -> [hypervisor.qemu]
 *     io.katacontainers.config.agent.<suffix>        -> [agent.kata]
 *     io.katacontainers.config.runtime.<suffix>      -> [runtime]
 *
 * override the key the suffix names, when all of these hold:
 *   - conmon-kata supports the suffix (docs/configuration.md, "Annotations");
 *   - hypervisor.qemu.enable_annotations has a regular expression matching
 *     the whole of <suffix>, or of "agent.<suffix>" / "runtime.<suffix>"
 *     (Kata gates only the hypervisor ones; we gate all three);
 *   - the value parses and passes the key's own checks (config.c);
 *   - a path for QEMU, the kernel or the initrd matches a glob of
 *     valid_hypervisor_paths, valid_kernel_paths or valid_initrd_paths.
 * Any other io.katacontainers.* annotation is refused, never ignored.
 * Errors are CK_ERROR_INVALID, one line naming the annotation:
 *
 *     annotation io.katacontainers.config.hypervisor.default_memory: '12x' is not a number of MiB
 *
 * A container's spec must carry no io.katacontainers.* annotation of its
 * own: its VM exists already, and Kata silently ignoring such keys there
 * is a trap we do not copy. The one exception is the pod's: containerd's
 * CRI plugin copies the pod annotations its pod_annotations list passes
 * onto every container of the pod, so an annotation the sandbox's spec
 * had, with the same value, is let through (it configured the VM
 * already). A trusted pod (no VM) is held to the same rules.
 *
 * ck_config_copy() (config.h) gives each pod its own configuration to
 * override.
 */
#pragma once

#include <glib.h>

#include "config.h"

G_BEGIN_DECLS

#define ANNOTATIONS_KATA_PREFIX "io.katacontainers."
#define ANNOTATIONS_CONFIG_PREFIX "io.katacontainers.config."

/* Applies a sandbox spec's annotations (char* -> char*, NULL means none)
 * to cfg. All or nothing: on error cfg is unchanged. Annotations outside
 * io.katacontainers.* are not looked at. */
gboolean annotations_apply(CkConfig *cfg, GHashTable *annotations, GError **error);

/* Refuses any io.katacontainers.* annotation in a (non-sandbox) container's
 * spec that is not its pod's (pod_annotations: the sandbox's, NULL for
 * none) with the same value: config.* ones because only the sandbox
 * configures the VM, the rest because we do not support them. */
gboolean annotations_check_container(GHashTable *annotations, GHashTable *pod_annotations, GError **error);

/* For a pod that gets no VM (a trusted one): refuses what
 * annotations_apply() (a sandbox's spec) or annotations_check_container()
 * (any other container's) would refuse, with the same message, and
 * changes nothing. Its annotations have nothing to configure, but a pod
 * is not let through with ones the configuration does not allow. */
gboolean annotations_validate(const CkConfig *cfg, gboolean sandbox, GHashTable *annotations,
			      GHashTable *pod_annotations, GError **error);

G_END_DECLS
