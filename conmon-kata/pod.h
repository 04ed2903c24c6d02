/* pod: the pod monitor's own duties, for the sandbox's conmon-kata.
 *
 * Starts the pod's VM as a direct child (in the pod's network namespace,
 * with the pod's shared folder, and with internetworking_model "tcfilter"
 * a NIC per interface of that namespace, pod-net.h), configures the
 * guest's network (setup_network), creates the sandbox in the guest, and
 * serves the pod's control socket (pod-mux.c) under
 * <runtime root>/pods/<pod id>/ctl.sock for every monitor and vmctl call
 * of the pod. When QEMU dies or the agent stops answering, every client of
 * the control socket sees its connection close (their monitors then write
 * their containers' exit files), and the owner is told.
 *
 * Also records the sandbox's namespace paths (pods/<id>/namespaces.json)
 * so that later containers of the pod that name the same host namespaces
 * (CRI-O's pinned ipc/uts namespaces, or /proc/<sandbox pid>/ns/...) join
 * the sandbox's namespaces in the guest.
 */
#pragma once

#include <glib.h>

#include "oci/oci-spec.h"
#include "lib/config.h"
#include "lib/pod-client.h"

G_BEGIN_DECLS

typedef struct PodMonitor PodMonitor;

typedef void (*PodDeadFunc)(const char *reason, gpointer user_data);

typedef struct {
	const CkConfig *config;
	const char *root;
	const char *pod_id;
	const OciSpec *spec; /* the sandbox container's spec */
	PodDeadFunc on_dead;
	gpointer user_data;
	/* around QEMU's fork (QemuVmOptions): the caller's cgroup moves */
	gboolean (*spawning)(gpointer data, GError **error);
	void (*spawned)(gpointer data);
	gpointer spawn_data;
} PodOptions;

PodMonitor *pod_monitor_start(const PodOptions *opts, GError **error);

/* When each step of pod_monitor_start() ended (g_get_monotonic_time()),
 * for the pod-ready timeline the sandbox's monitor logs
 * (tests/bench/README.md, podready). */
typedef struct {
	gint64 begin;	/* pod_monitor_start() called */
	gint64 booting; /* share, namespaces and taps ready: QEMU starts */
	gint64 vm_up;	/* the agent answered its version */
	gint64 network; /* setup_network answered (or was not needed) */
	gint64 sandbox; /* create_sandbox answered */
	gint64 serving; /* the control socket and port forwarding are up */
} PodStartMoments;

void pod_monitor_get_start_moments(const PodMonitor *pod, PodStartMoments *out);

/* An in-process connection to the control socket (for the sandbox's own
 * container). */
int pod_monitor_connect(PodMonitor *pod, GError **error);

/* The pod's QEMU joins the host cgroups of beside (the sandbox's own pid,
 * once placed) and gets the sandbox's oomScoreAdj (0 without one); from then on a SIGKILL of QEMU
 * while its memory cgroup's OOM counters grew is reported as the host's
 * OOM kill (docs/cgroups.md). A cgroup it cannot join is an error naming
 * the controller. */
gboolean pod_monitor_charge(PodMonitor *pod, pid_t beside, GError **error);

/* Shuts the VM down (then kills it), closes the control socket, removes
 * the taps and filters from the pod's network namespace, and releases the
 * shared folder. The pod directory (logs) stays until the
 * sandbox is deleted. */
void pod_monitor_stop(PodMonitor *pod);

/* Why a pod's VM stopped without being asked to (QEMU's exit status,
 * the console log's path), as the pod monitor records it in
 * <pod dir>/stopped: one line, or NULL when there is none. */
char *pod_stop_reason_path(const char *root, const char *pod_id);
char *pod_read_stop_reason(const char *root, const char *pod_id);
void pod_monitor_free(PodMonitor *pod);

G_END_DECLS
