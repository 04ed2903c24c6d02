/* ck-ops: the typed protocol. Every operation and event of
 * docs/protocol.md by number, its one name table, and each request's
 * arguments, each result and each event body as a C struct with one field
 * table that both encodes and decodes it (ck-message.h has the envelope).
 *
 * The host fills an arguments struct and sends it; the agent decodes it
 * (strictly: an unknown field is an error), answers with a result struct;
 * the host decodes that (leniently: a newer agent may add fields, but
 * every field it knows is type-checked). Decoding allocates the strings,
 * string lists and lists of structs of a message, which ck_msg_clear()
 * frees; JSON values (a spec, a process, resources, sysctls) stay borrowed
 * from the parsed tree. Encoding only reads: a sender may point a
 * message's fields at strings it owns and never clear it.
 *
 * Semantic checks (an id's characters, a signal's range, a path under the
 * shared folder) stay with the handler that acts on the message; what is
 * here is the shape: names, types, required fields, list lengths.
 */
#pragma once

#include <glib.h>
#include <yajl/yajl_tree.h>

#include "base/ck-json.h"

G_BEGIN_DECLS

/* New operations are added at the end; docs/protocol.md has each one. */
typedef enum {
	CK_OP_VERSION,
	CK_OP_PING,
	CK_OP_SHUTDOWN,
	CK_OP_SETUP_NETWORK,
	CK_OP_CREATE_SANDBOX,
	CK_OP_DESTROY_SANDBOX,
	CK_OP_GUEST_DETAILS,
	CK_OP_ONLINE_CPU_MEM,
	CK_OP_COPY_FILE,
	CK_OP_CREATE_CONTAINER,
	CK_OP_START_CONTAINER,
	CK_OP_EXEC_PROCESS,
	CK_OP_SIGNAL_PROCESS,
	CK_OP_WAIT_PROCESS,
	CK_OP_RESIZE_TERMINAL,
	CK_OP_REMOVE_CONTAINER,
	CK_OP_PAUSE_CONTAINER,
	CK_OP_RESUME_CONTAINER,
	CK_OP_UPDATE_CONTAINER,
	CK_OP_STATS_CONTAINER,
	CK_OP_STATE_CONTAINER,
	CK_OP_LIST_PROCESSES,
	CK_OP_CONNECT_PORT,
	CK_OP_CLONE_IDENTITY,
	CK_OP_COUNT,
	CK_OP_UNKNOWN = CK_OP_COUNT,
} CkOp;

typedef enum {
	CK_EVENT_READY,
	CK_EVENT_EXIT,
	CK_EVENT_OOM,
	CK_EVENT_COUNT,
	CK_EVENT_UNKNOWN = CK_EVENT_COUNT,
} CkEvent;

const char *ck_op_name(CkOp op);
/* CK_OP_UNKNOWN for a name that is no operation (or NULL). */
CkOp ck_op_from_name(const char *name);
const char *ck_event_name(CkEvent event);
CkEvent ck_event_from_name(const char *name);

/* --- the codec: one field table per message -------------------------------------- */

/* Encoding flag beside CK_JSON_REQUIRED/NULLABLE (decoding ignores it):
 * the field is left out while it holds its zero value (NULL, 0, FALSE).
 * Without it a NULL string or value is written as null. */
#define CK_MSG_OMIT_EMPTY (1u << 8)

typedef struct CkMsgType CkMsgType;
struct CkMsgType {
	const char *what;	   /* in errors: "create_container", "exit event" */
	const CkJsonField *fields; /* in the order they are written */
	/* CK_JSON_CUSTOM fields are written by this (NULL: none) */
	void (*encode_custom)(CkJsonGen *g, const CkJsonField *f, gconstpointer msg);
	/* frees what the custom decoders allocated (NULL: nothing) */
	void (*clear_custom)(gpointer msg);
	gsize size; /* of the struct */
};

/* Writes msg's fields into the map open in g. */
void ck_msg_encode(const CkMsgType *type, CkJsonGen *g, gconstpointer msg);
/* Fills msg (zeroed or holding defaults) from obj; errors are
 * "<what>: <field path>: <problem>". */
gboolean ck_msg_decode(const CkMsgType *type, yajl_val obj, gpointer msg, CkJsonMode mode, GError **error);
/* Frees what decoding allocated and zeroes nothing else. */
void ck_msg_clear(const CkMsgType *type, gpointer msg);

typedef struct {
	const char *name;
	const CkMsgType *args;	 /* NULL: no arguments */
	const CkMsgType *result; /* NULL: the result is {} */
} CkOpInfo;

const CkOpInfo *ck_op_info(CkOp op);
/* The body type of an event. */
const CkMsgType *ck_event_type(CkEvent event);

/* --- sandbox ------------------------------------------------------------------- */

typedef struct {
	gint64 protocol; /* 0: not sent */
} CkVersionArgs;

typedef struct {
	gint64 protocol;
	char *agent_version, *agent_commit;
	char *kernel_release, *kernel_version, *machine;
	gint64 uptime_us, init_start_us, ready_us;
	gint64 mem_total_kib, cpus_online, modules_loaded;
	char **compat_abis;   /* "ia32", "x32": what a seccomp filter needs; NULL: not known */
	gboolean seccomp_bpf; /* create_container takes a compiled seccomp program */
} CkVersionResult;

typedef struct {
	char *entropy; /* base64 */
	gint64 realtime_ns;
	gboolean rescan_pci;
} CkCloneIdentityArgs;

typedef struct {
	char *boot_id; /* NULL: could not be read */
} CkCloneIdentityResult;

/* setup_network: bounds the agent holds the host to */
#define CK_NET_MAX_IFACES 16
#define CK_NET_MAX_ADDRS 32
#define CK_NET_MAX_ROUTES 256

typedef struct {
	char *name;
	char *mac;
	int mtu;	  /* 68..65535 */
	char **addresses; /* ADDRESS/PREFIX */
} CkNetInterface;

typedef struct {
	char *dest, *device, *gateway, *source;
	guint32 metric;
	gboolean onlink;
} CkNetRoute;

typedef struct {
	CkNetInterface *interfaces;
	guint n_interfaces;
	CkNetRoute *routes;
	guint n_routes;
} CkSetupNetworkArgs;

typedef struct {
	char *hostname;
	char *share_tag;
	guint32 msize_9p; /* 0: not sent (the agent's default) */
	yajl_val sysctl;  /* object of strings */
	char *guest_hook_path;
} CkCreateSandboxArgs;

typedef struct {
	char *kernel_release;
	gint64 mem_total_kib, mem_free_kib, cpus_online, cpus_configured, containers;
} CkGuestDetailsResult;

typedef struct {
	gint64 cpus; /* wait until this many are online; 0: do not wait */
} CkOnlineCpuMemArgs;

typedef struct {
	gint64 cpus_onlined, memory_blocks_onlined, cpus_online;
} CkOnlineCpuMemResult;

typedef struct {
	char *path;
	char *data; /* base64 */
	guint32 mode;
} CkCopyFileArgs;

/* --- containers and processes ------------------------------------------------------ */

/* start, remove, pause, resume, stats, state, list_processes */
typedef struct {
	char *id;
} CkContainerArgs;

typedef struct {
	char *id;
	yajl_val spec;
	char *rootfs;
	gboolean stdin_;
	char *seccomp_bpf;    /* base64 of the compiled linux.seccomp (oci-seccomp.h); NULL: none sent */
	gint64 seccomp_flags; /* the seccomp(2) flags that go with it */
} CkCreateContainerArgs;

typedef struct {
	char *id;
	char *exec_id;
	yajl_val process;
	gboolean stdin_;
} CkExecProcessArgs;

/* create_container's steps in the guest, in microseconds
 * (docs/protocol.md); all 0 (exec_process): not sent */
typedef struct {
	gint64 spec, stdio, cgroup, plan, namespaces, setup, done;
} CkCreateSteps;

/* create_container and exec_process */
typedef struct {
	guint32 handle;
	gint64 pid;
	CkCreateSteps steps_us;
} CkSpawnResult;

/* The process an operation names: a handle, or a container (+ exec id). */
typedef struct {
	guint32 handle; /* 0: by id */
	char *id;
	char *exec_id; /* NULL: the container's init */
} CkProcessRef;

typedef struct {
	CkProcessRef ref;
	gint64 signal;
	gboolean all; /* every process of the container's cgroup */
} CkSignalProcessArgs;

typedef struct {
	CkProcessRef ref;
} CkWaitProcessArgs;

typedef struct {
	gint64 exit_code, signal;
	gboolean oom_killed;
	gint64 pid;
} CkWaitProcessResult;

typedef struct {
	CkProcessRef ref;
	guint32 rows, cols;
} CkResizeTerminalArgs;

typedef struct {
	char *id;
	yajl_val resources; /* OCI LinuxResources */
} CkUpdateContainerArgs;

/* A statistic the guest could not read is -1 (null on the wire). */
typedef struct {
	struct {
		gint64 usage_usec, user_usec, system_usec, nr_throttled, throttled_usec;
	} cpu;
	struct {
		gint64 usage, max_usage, anon, file, oom_kill;
	} memory;
	struct {
		gint64 current;
	} pids;
} CkStatsResult;

typedef struct {
	char *status; /* created, running, paused, stopped */
	gint64 pid;
	guint32 handle;
	gint64 exit_code; /* sent once stopped */
	gboolean oom_killed;
} CkStateResult;

typedef struct {
	gint64 *pids;
	guint n_pids;
} CkListProcessesResult;

typedef struct {
	int port;     /* 1..65535 */
	char *family; /* "ipv4" (NULL) or "ipv6" */
} CkConnectPortArgs;

typedef struct {
	guint32 handle;
} CkHandleResult;

/* --- events --------------------------------------------------------------------- */

typedef struct {
	gint64 protocol;
} CkReadyEvent;

typedef struct {
	char *container;
	char *exec_id; /* NULL for a container's init */
	guint32 handle;
	gint64 exit_code, signal;
	gboolean oom_killed;
} CkExitEvent;

typedef struct {
	char *container;
} CkOomEvent;

G_END_DECLS
