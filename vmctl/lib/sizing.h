/* sizing: how big a pod's VM is, from the configuration and the pod.
 *
 * The VM boots with default_vcpus and default_memory plus the pod's
 * resources when they are known up front:
 *   - CRI-O >= 1.28 puts the pod's summed container limits on the sandbox
 *     spec as pod-linux-resources.crio.io: JSON of CRI
 *     LinuxContainerResources (cpu_period, cpu_quota, cpu_shares,
 *     memory_limit_in_bytes, ...); the RuntimeClass overhead
 *     (pod-linux-overhead.crio.io) is validated but not added: it pays
 *     for the VM on the host, not for the guest's workload;
 *   - containerd's CRI plugin (>= 1.6.7, with a kubelet that sends the
 *     pod's resources) puts the same sums on the sandbox spec as decimal
 *     strings: io.kubernetes.cri.sandbox-cpu-quota, -cpu-period and
 *     -memory (-cpu-shares is not a limit and is not read); CRI-O's
 *     annotation wins when a spec has both;
 *   - a container that is a pod of its own (Podman) brings its own
 *     linux.resources.
 * Otherwise the pod's containers arrive one by one, and the VM grows as
 * each is created or updated: vCPUs for the sum of their CPU limits
 * (quota/period, fractions summed before rounding up, as Kata does), and
 * memory for the sum of their memory limits, each on top of the defaults.
 * Growth is bounded by default_maxvcpus and by default_maxmemory and the
 * memory slots; memory is hot-added in whole 128 MiB blocks (the guest's
 * memory block size) and never taken back; vCPUs are not taken back
 * either (a container that stops frees its share for the next one).
 */
#pragma once

#include <glib.h>

#include "oci/oci-spec.h"
#include "config.h"

G_BEGIN_DECLS

#define SIZING_MEMORY_BLOCK_MIB 128
#define ANNOTATION_POD_RESOURCES "pod-linux-resources.crio.io"
#define ANNOTATION_POD_OVERHEAD "pod-linux-overhead.crio.io"
#define ANNOTATION_CRI_SANDBOX_CPU_QUOTA "io.kubernetes.cri.sandbox-cpu-quota"
#define ANNOTATION_CRI_SANDBOX_CPU_PERIOD "io.kubernetes.cri.sandbox-cpu-period"
#define ANNOTATION_CRI_SANDBOX_MEMORY "io.kubernetes.cri.sandbox-memory"
/* how the log names containerd's three */
#define ANNOTATION_CRI_SANDBOX_RESOURCES "io.kubernetes.cri.sandbox-*"

typedef struct {
	double vcpus;	    /* CPU limit, in CPUs (quota/period) */
	guint64 mem_bytes;  /* memory limit */
} WorkloadSize;

/* A container's limits from its OCI resources (absent or unlimited: 0). */
WorkloadSize sizing_from_resources(const OciResources *res);

/* The pod's limits from CRI-O's or containerd's sandbox annotations;
 * *out_source names the annotation they came from (a static string),
 * NULL when the spec has neither. A malformed annotation is an error
 * naming it. */
gboolean sizing_from_pod_annotations(GHashTable *annotations, WorkloadSize *out, const char **out_source,
				     GError **error);

/* The boot size: defaults plus the workload, within the maxima. */
void sizing_boot(const CkConfig *cfg, const WorkloadSize *workload, int host_cpus, int *out_vcpus,
		 guint32 *out_mem_mib);

/* The size a pod needs for `total` (the sum of its containers' limits),
 * never below what it has, never above the maxima. Memory in whole blocks
 * above the boot size. */
void sizing_target(const CkConfig *cfg, const WorkloadSize *total, int max_vcpus, guint64 max_mem_mib,
		   int current_vcpus, guint64 current_mem_mib, int *out_vcpus, guint64 *out_mem_mib);

G_END_DECLS
