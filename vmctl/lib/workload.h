/* workload: what a container is to its pod, and whether it gets a VM.
 *
 * Role. CRI-O marks every spec with io.kubernetes.cri-o.ContainerType
 * ("sandbox" or "container") and io.kubernetes.cri-o.SandboxID; containerd
 * uses io.kubernetes.cri.container-type / sandbox-id. A spec with neither
 * (Podman, a test harness) is a pod of its own: its own sandbox. An
 * unknown type is an error naming the annotation.
 *
 * Trust, decided once per pod from the sandbox's spec, with CRI-O
 * 1.0-1.13's semantics (docs/configuration.md, [runtime]):
 *   - io.kubernetes.cri-o.TrustedSandbox present: exactly "true" is
 *     trusted, any other value untrusted (explicit, even for a privileged
 *     pod, as from CRI-O 1.12 on);
 *   - absent: a privileged pod (io.kubernetes.cri-o.PrivilegedRuntime =
 *     "true", or no network, pid or ipc namespace of its own: host
 *     namespaces) is trusted unless privileged_in_vm = true; any other pod
 *     follows default_workload_trust.
 * Trusted pods run on the host with trusted_runtime (runc); untrusted pods
 * get a VM. Every container follows its sandbox.
 */
#pragma once

#include <glib.h>

#include "oci/oci-spec.h"
#include "config.h"

G_BEGIN_DECLS

#define ANNOTATION_CRIO_TYPE "io.kubernetes.cri-o.ContainerType"
#define ANNOTATION_CRIO_SANDBOX_ID "io.kubernetes.cri-o.SandboxID"
#define ANNOTATION_CRI_TYPE "io.kubernetes.cri.container-type"
#define ANNOTATION_CRI_SANDBOX_ID "io.kubernetes.cri.sandbox-id"
#define ANNOTATION_TRUSTED "io.kubernetes.cri-o.TrustedSandbox"
#define ANNOTATION_PRIVILEGED "io.kubernetes.cri-o.PrivilegedRuntime"
/* ours: the decision, recorded in the state's annotations */
#define ANNOTATION_TRUST_DECISION "io.conmon-kata.trust"

/* ours: why the container stopped when its pod's VM went away under it
 * (QEMU's exit, the console log), recorded in its state at the exit */
#define ANNOTATION_STOP_REASON "io.conmon-kata.stop-reason"

/* How `vmctl --version` starts, whatever the binary's file name: the
 * monitor asks a runtime for it to know whether the runtime is vmctl. */
#define VMCTL_VERSION_PREFIX "vmctl version "

typedef struct {
	gboolean sandbox; /* the pod's first container (or a pod of its own) */
	char *pod_id;	  /* the sandbox's container id */
	/* a container's, after workload_decide(): the annotations its
	 * sandbox's state recorded (its spec's); NULL for a sandbox */
	GHashTable *pod_annotations;
} WorkloadRole;

void workload_role_clear(WorkloadRole *role);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(WorkloadRole, workload_role_clear)

gboolean workload_classify(const OciSpec *spec, const char *container_id, WorkloadRole *out, GError **error);

/* The trust of the pod whose sandbox spec this is; *out_reason (owned by
 * the caller) says why, naming the input that decided:
 *   annotation io.kubernetes.cri-o.TrustedSandbox="<value, escaped>"
 *   privileged pod (privileged_in_vm = false)
 *   host network namespace (privileged_in_vm = false)        (pid, ipc)
 *   host network namespace, privileged_in_vm = true: default_workload_trust = "untrusted"
 *   default_workload_trust = "trusted" */
CkTrust workload_trust(const CkConfig *cfg, const OciSpec *sandbox_spec, char **out_reason);

/* The trust of a container at create: a sandbox's from its own spec
 * (workload_trust), any other container's that of its sandbox, read from
 * the sandbox's state under `root`. *out_decision (owned by the caller)
 * is "<trust>: <reason>", the value of ANNOTATION_TRUST_DECISION that the
 * log and `vmctl state` show. Fails (CK_ERROR_NOT_FOUND, "the sandbox <id>
 * of its pod does not exist") when the sandbox of a container has no state. */
gboolean workload_decide(const CkConfig *cfg, const char *root, const OciSpec *spec, WorkloadRole *role, CkTrust *out,
			 char **out_decision, GError **error);

G_END_DECLS
