/* state: what the runtime remembers about a container between calls.
 *
 * Layout under the runtime root (CRI-O's runtime_root, default /run/vmctl):
 *   containers/<id>/state.json   this module's file, strict JSON
 *   containers/<id>/lock         flock(2): shared for readers of a
 *                                consistent view, exclusive for writers
 *   pods/<pod id>/               the pod monitor's directory (control
 *                                socket, QEMU's files, the shared folder,
 *                                network.json: the taps and filters made
 *                                in the pod's network namespace, pod-net.h)
 * state.json is replaced atomically (temp file + rename), so a reader
 * never sees half of it, and every writer holds the exclusive lock.
 *
 * The status in the file is what the last writer knew (created, running,
 * paused). Whether the container is still alive is not written down but
 * observed: its host stand-in process (state.pid, with its start time
 * from /proc/<pid>/stat, against PID reuse) must be alive. A dead stand-in
 * means "stopped" with pid 0, whatever the file says; so a container whose
 * pod monitor or QEMU died reads as stopped at once, without asking
 * anybody.
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

#include "base/ck-json.h"
#include "oci/oci-spec.h"

G_BEGIN_DECLS

#define STATE_VERSION 1

#define STATE_DEFAULT_ROOT "/run/vmctl"
#define STATE_ROOT_ENV "VMCTL_ROOT"

/* The runtime root when no --root is given: $VMCTL_ROOT, else
 * /run/vmctl. */
const char *state_default_root(void);

/* Podman passes its --runtime-flag values (--root=...) to create, start
 * and kill, but not to the `delete` that its exit command (`podman
 * container cleanup`) makes, and runs the runtime there with an
 * environment of its own. So a container whose root is not the default
 * one is also listed in /run/vmctl/roots/<id> (the file holds its root),
 * written with its first state and removed with its state; a vmctl call
 * given no root looks there for an id it does not know. */
char *state_lookup_root(const char *id);

typedef enum {
	CONTAINER_KIND_VM,	/* runs in the pod's VM */
	CONTAINER_KIND_TRUSTED, /* delegated to the trusted runtime (runc) */
} ContainerKind;

typedef struct {
	char *id;
	char *pod_id; /* the sandbox container's id (== id for a sandbox) */
	gboolean sandbox;
	ContainerKind kind;
	char *bundle;
	char *rootfs;
	char *created; /* RFC 3339 */
	char *owner;
	GHashTable *annotations; /* char* -> char*, never NULL */
	char *status;		 /* created, running, paused, stopped */
	pid_t pid;		 /* host stand-in; 0 when none */
	guint64 pid_start;	 /* its start time (clock ticks since boot) */
	pid_t monitor_pid;
	guint64 monitor_start;
	char *control_socket; /* the pod monitor's socket */
	guint32 guest_handle; /* the init process's handle in the agent */
	gboolean has_exit_code;
	int exit_code;
	char *trusted_root; /* --root given to the trusted runtime */
	char *trusted_runtime;
} ContainerState;

ContainerState *container_state_new(const char *id);
void container_state_free(ContainerState *st);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ContainerState, container_state_free)

char *container_state_dir(const char *root, const char *id);
char *pod_state_dir(const char *root, const char *pod_id);

/* Checks a container id for use in paths (runc's rule: ^[\w+-\.]+$). */
gboolean container_id_valid(const char *id, GError **error);

/* Opens (creating the directory when `create`) and flocks the container's
 * lock file. Returns the fd (closing it releases the lock), or -1. */
int container_state_lock(const char *root, const char *id, gboolean exclusive, gboolean create, GError **error);

/* CK_ERROR_NOT_FOUND when there is no such container. */
ContainerState *container_state_read(const char *root, const char *id, GError **error);
gboolean container_state_write(const char *root, const ContainerState *st, GError **error);
gboolean container_state_remove(const char *root, const char *id, GError **error);

/* A copy of the bundle's config.json kept with the state, for the verbs
 * that need the spec after create (start's poststart and delete's poststop
 * hooks), when CRI-O may already have removed the bundle. The copy is
 * written atomically and goes away with the state. */
gboolean container_state_save_spec(const char *root, const char *id, const char *bundle, GError **error);
/* NULL with CK_ERROR_NOT_FOUND when no copy was kept (trusted containers:
 * runc keeps its own). */
OciSpec *container_state_load_spec(const char *root, const char *id, GError **error);

/* Ids of every container with a state file, sorted. */
GPtrArray *container_state_list(const char *root, GError **error);

/* The status as observed now ("stopped" when the stand-in is gone), and
 * the pid to report (0 once stopped). */
const char *container_state_status(const ContainerState *st, pid_t *out_pid);

/* Field 22 of /proc/<pid>/stat, 0 when the process does not exist. */
guint64 proc_start_time(pid_t pid);
/* Alive and still the same process (start time), not a zombie. */
gboolean proc_is_alive(pid_t pid, guint64 start_time);

/* One container in runc 1.1's state object, keys in its order: ociVersion,
 * id, pid, status, bundle, rootfs, created, annotations (only when there
 * are any, sorted), owner; nothing else (CRI-O's decoder would take other
 * keys for its own). runc's `state` leaves owner empty, its `list` names
 * the user owning the container's directory (container_state_owner_name).
 * The caller lays it out as runc does (ck_json_gen_finish_layout). */
#define OCI_STATE_INDENT "  " /* runc's state: json.MarshalIndent(s, "", "  ") */
void container_state_write_oci(CkJsonGen *g, const ContainerState *st, const char *owner);

/* The name of the user owning the container's state directory ("#<uid>"
 * without a passwd entry, as runc's list), or "" when it is gone. */
char *container_state_owner_name(const char *root, const char *id);

G_END_DECLS
