/* pod-size: growing a pod's VM as its containers arrive.
 *
 * The pod monitor watches the requests that cross its control socket:
 * create_container and update_container carry a container's limits,
 * remove_container drops them. The pod's need is the sum of its
 * containers' limits (or the pod-level figure CRI-O announced on the
 * sandbox, when larger); sizing.h turns that into a VM size, and this
 * module hot-plugs vCPUs and a DIMM through QMP, then asks the agent to
 * bring them online, all before the request goes on to the guest (the
 * agent handles requests in order). A VM that cannot grow (maxima, no
 * slot left, QMP refusing) is logged and the container still runs, within
 * the VM it has: that is what its cgroup limits would give it anyway on
 * a full node.
 */
#pragma once

#include <glib.h>
#include <yajl/yajl_tree.h>

#include "proto/ck-ops.h"
#include "lib/config.h"
#include "lib/qemu-vm.h"
#include "lib/sizing.h"

G_BEGIN_DECLS

typedef struct PodSizer PodSizer;

/* `declared`: the pod-level workload from the sandbox's annotations
 * (NULL: none); the VM was booted for it. */
PodSizer *pod_sizer_new(const CkConfig *config, QemuVm *vm, const char *pod_id, const WorkloadSize *declared);
void pod_sizer_free(PodSizer *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PodSizer, pod_sizer_free)

/* Records a container's limits (the sandbox's own at boot). */
void pod_sizer_set(PodSizer *s, const char *id, const WorkloadSize *size);

/* The request hook: looks at one request on its way to the agent. Never
 * fails the request: growth failures are logged. */
void pod_sizer_on_request(PodSizer *s, CkOp op, yajl_val request);

/* The VM's current size. */
void pod_sizer_get(PodSizer *s, int *out_vcpus, guint64 *out_mem_mib);

G_END_DECLS
