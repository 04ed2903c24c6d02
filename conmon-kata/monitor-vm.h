/* monitor-vm: the VM backend (monitor-backend.h): one container's init
 * process or one exec'd process in the pod's VM, with a stand-in on the
 * host; the sandbox's monitor also starts the pod (pod.h). Shim mode
 * (started by `vmctl create` or `vmctl exec`, shim.c) is the same backend
 * with the monitor as its own stand-in. */
#pragma once

#include <glib.h>

#include "oci/oci-spec.h"
#include "lib/config.h"
#include "lib/state.h"
#include "lib/workload.h"
#include "cli.h"
#include "monitor-backend.h"

G_BEGIN_DECLS

typedef struct MonitorVm MonitorVm;

/* Its operations; whether it creates or execs is the command line's -e. */
extern const MonitorBackend monitor_vm_backend;

/* A create: takes spec and the contents of role (the container's place in
 * its pod, as workload_classify() found it). */
MonitorVm *monitor_vm_new_create(const MonitorSink *sink, MonitorConfig *cfg, const MonitorFds *fds, CkConfig *config,
				 const char *root, OciSpec *spec, WorkloadRole *role);
/* An exec into the container whose state this is (taken). */
MonitorVm *monitor_vm_new_exec(const MonitorSink *sink, MonitorConfig *cfg, const MonitorFds *fds, CkConfig *config,
			       const char *root, ContainerState *state);
/* Stops what is left: the guest process, the stand-in, the pod. */
void monitor_vm_free(MonitorVm *vm);

G_END_DECLS
