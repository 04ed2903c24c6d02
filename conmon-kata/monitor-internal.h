/* monitor-internal: the Monitor object shared by monitor*.c. */
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
#include "attach.h"
#include "cli.h"
#include "ctl.h"
#include "logging.h"
#include "monitor.h"
#include "pod.h"
#include "standin.h"
#include "sync-pipe.h"

G_BEGIN_DECLS

typedef struct Monitor Monitor;

struct Monitor {
	MonitorConfig *cfg;
	const MonitorFds *fds;
	CkConfig *config;
	char *root; /* the runtime's --root */
	GMainLoop *loop;

	/* I/O */
	LogSet *logs;
	AttachServer *attach;
	CtlFifos *ctl;
	SyncPipe sync;
	GByteArray *early_stdin; /* attach input before the process exists */
	gboolean early_stdin_closed;
	int passthrough_in;	 /* shim/passthrough: fd our stdin comes from */
	guint passthrough_source;
	int host_pty;		 /* shim mode with a terminal: our end of the host pty */

	/* the container (create) or the container exec'd into (-e) */
	OciSpec *spec;
	WorkloadRole role;
	ContainerState *state;
	gboolean terminal;

	/* trusted path (trusted.c), NULL on the VM path */
	struct Trusted *trusted;

	/* VM path */
	PodMonitor *pod;
	AgentClient *agent;
	GuestProcess *proc;
	guint32 handle;
	char *exec_id;
	char *netns_path; /* the pod's network namespace, for the stand-in */
	Standin *standin;
	HostCgroup cgroup; /* the stand-in's host cgroup, removed at the end */
	gboolean shared; /* the bundle is bind-mounted into the pod's share */
	gboolean created_in_guest;

	/* the end */
	gboolean exited;
	int exit_code;
	gboolean oom_killed;
	gboolean timed_out;
	guint timeout_source;
	char *exit_message; /* a message for the final sync message */
	char *stop_reason;  /* why the pod's VM stopped under the container, or NULL */
};

/* monitor.c */
void monitor_output(Monitor *m, gboolean is_stderr, const guint8 *data, gsize len);
void monitor_input(Monitor *m, const guint8 *data, gsize len);
void monitor_input_done(Monitor *m);
void monitor_forward_signal(Monitor *m, int sig);
gboolean monitor_setup_io(Monitor *m, const char *bundle, GError **error);
gboolean monitor_connect_guest_io(Monitor *m, GError **error);
void monitor_process_exited(Monitor *m, int exit_code, gboolean oom_killed, const char *message);
const char *monitor_sync_key(Monitor *m);
gboolean monitor_sync_write(Monitor *m, int value, const char *message);
void monitor_start_timeout(Monitor *m);
gboolean monitor_exec_attach_handshake(Monitor *m, GError **error);

/* monitor-vm.c */
int monitor_vm_create(Monitor *m);
int monitor_vm_exec(Monitor *m);

/* monitor-exit.c */
int monitor_finish(Monitor *m);
gboolean monitor_write_pidfile(Monitor *m, pid_t pid, GError **error);

/* shim.c */
gboolean monitor_shim_setup(Monitor *m, GError **error);
/* Shim mode's stand-in duty: the pod's network namespace and the
 * container's host cgroup, for ourselves (host_cgroup_cleanup() leaves). */
gboolean monitor_shim_join(Monitor *m, GError **error);
/* The systemd driver applies: --systemd-cgroup on a create (conmon never
 * passes it to an exec, which joins the scope's folder on cgroupfs) with
 * a cgroupsPath. */
gboolean monitor_systemd_cgroup(Monitor *m);
/* The spec's linux.resources, NULL when it has none. */
const OciResources *monitor_spec_resources(Monitor *m);
/* The pid is out: from now on the caller's stderr is the container's;
 * with a terminal sent to a console socket the container has none of the
 * caller's stdio, and it goes to /dev/null. */
void monitor_shim_reported(Monitor *m);
void monitor_shim_resize(Monitor *m);
/* The size of the caller's terminal an exec runs on (shim mode, a
 * terminal, no console socket); FALSE when there is none to tell. */
gboolean monitor_shim_console_size(Monitor *m, guint16 *out_rows, guint16 *out_cols);

/* trusted.c */
int monitor_trusted(Monitor *m);
void monitor_trusted_input(Monitor *m, const guint8 *data, gsize len);
void monitor_trusted_close_input(Monitor *m);
void monitor_trusted_signal(Monitor *m, int sig);
void monitor_trusted_resize(Monitor *m, int rows, int cols);

G_END_DECLS
