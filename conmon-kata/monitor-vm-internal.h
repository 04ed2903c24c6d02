/* monitor-vm-internal: the VM backend's object, shared by monitor-vm.c
 * and its shim mode (shim.c). */
#pragma once

#include <sys/types.h>

#include <glib.h>

#include "oci/oci-spec.h"
#include "lib/agent-client.h"
#include "lib/config.h"
#include "lib/guest-process.h"
#include "lib/host-cgroup.h"
#include "lib/state.h"
#include "lib/workload.h"
#include "cli.h"
#include "monitor-backend.h"
#include "pod.h"
#include "standin.h"

G_BEGIN_DECLS

typedef struct MonitorVm MonitorVm; /* as monitor-vm.h says */

struct MonitorVm {
	const MonitorSink *sink;
	MonitorConfig *cfg;
	const MonitorFds *fds;
	CkConfig *config;
	char *root; /* the runtime's --root */

	/* the container (create) or the container exec'd into (exec) */
	OciSpec *spec;
	WorkloadRole role;
	ContainerState *state;
	gboolean terminal;
	gboolean existing; /* create: the id is taken, nothing of it is ours to undo */
	gint64 t0;	   /* create's start, for the sandbox's timeline */
	gint64 t_prepared, t_guest;

	PodMonitor *pod; /* the sandbox's create: the pod we started */
	AgentClient *agent;
	GuestProcess *proc;
	guint32 handle;
	char *exec_id;
	char *netns_path; /* the pod's network namespace, for the stand-in */
	Standin *standin;
	HostCgroup cgroup; /* the stand-in's host cgroup, removed at the end */
	gboolean shared;   /* the bundle is bind-mounted into the pod's share */
	gboolean created_in_guest;
	gboolean exited;
	char *stop_reason; /* why the pod's VM stopped under the container, or NULL */

	/* shim mode (shim.c) */
	int passthrough_in; /* fd our stdin comes from */
	guint passthrough_source;
	int host_pty; /* with a terminal: our end of the host pty */
};

/* The systemd driver applies: --systemd-cgroup on a create (conmon never
 * passes it to an exec, which joins the scope's folder on cgroupfs) with
 * a cgroupsPath. */
static inline gboolean monitor_vm_systemd_cgroup(const MonitorVm *vm)
{
	return vm->cfg->systemd_cgroup && !vm->cfg->exec && vm->spec != NULL && vm->spec->cgroups_path != NULL &&
	       *vm->spec->cgroups_path != '\0';
}

/* The spec's linux.resources, NULL when it has none. */
static inline const OciResources *monitor_vm_spec_resources(const MonitorVm *vm)
{
	return vm->spec != NULL && vm->spec->has_resources ? &vm->spec->resources : NULL;
}

/* shim.c */
gboolean monitor_shim_setup(MonitorVm *vm, GError **error);
/* Shim mode's stand-in duty: the pod's network namespace and the
 * container's host cgroup, for ourselves (host_cgroup_cleanup() leaves). */
gboolean monitor_shim_join(MonitorVm *vm, GError **error);
/* Its cgroup part alone (once): a sandbox's shim joins before its VM
 * boots, so that QEMU starts in the container's cgroup. */
gboolean monitor_shim_join_cgroup(MonitorVm *vm, GError **error);
/* The pid is out: from now on the caller's stderr is the container's;
 * with a terminal sent to a console socket the container has none of the
 * caller's stdio, and it goes to /dev/null. */
void monitor_shim_reported(MonitorVm *vm);
/* The size of the terminal we were given (the host pty, or our stdin),
 * for the guest process's pty; FALSE when there is none. */
gboolean monitor_shim_window_size(MonitorVm *vm, int *out_rows, int *out_cols);
/* The size of the caller's terminal an exec runs on (shim mode, a
 * terminal, no console socket); FALSE when there is none to tell. */
gboolean monitor_shim_console_size(MonitorVm *vm, guint16 *out_rows, guint16 *out_cols);

G_END_DECLS
