/* spawn: starting a container process, from a validated plan.
 *
 * The parent (the agent) turns an OCI spec or process into a SpawnPlan:
 * every name resolved, every value checked, every namespace fd opened. A
 * bad capability name or rlimit is thus an error reply before anything is
 * forked. The child side only executes the plan.
 *
 * Two stages, as runc's nsexec does, because joining or creating a PID
 * namespace only affects children:
 *
 *   agent --fork--> stage 1: joins the container's cgroup, setns() into
 *                   the namespaces to join, unshare()s the new ones, forks
 *                   stage 2, reports its pid, exits
 *   stage 2:        (PID 1 of a new PID namespace, or a member of the
 *                   joined one) sets up the root filesystem (init only:
 *                   mounts, the createContainer hooks, pivot_root),
 *                   hostname, sysctls, rlimits, oom_score_adj; enters the
 *                   user namespace (a new one: unshare, then the agent
 *                   writes its uid and gid maps, USERNS/USERNS_DONE on the
 *                   sync socket; or the container's) and becomes its root;
 *                   checks that the executable exists; reports READY;
 *                   waits for START (init) or goes on (exec); then the
 *                   startContainer hooks (init only), no_new_privs, user
 *                   and groups, capabilities, seccomp, cwd, umask, execve.
 *
 * The user namespace comes last so that the mounts, devices and hostname
 * are made by the guest's root as without one (a 9p share owned by the
 * host's root, mknod, sysfs all work); the other namespaces are therefore
 * owned by the guest's initial user namespace, and the container's
 * capabilities act only inside its own (docs/differences.md).
 *
 * Stage 2 is reparented to the agent (PID 1) when stage 1 exits, and is
 * reaped by the agent's reaper like any other process. Stage 1 also tells
 * stage 2 its pid in the agent's PID namespace (over a pipe of their
 * own), which the OCI state of the hooks carries; it does so after it
 * reported that pid to the agent, and stage 2 waits for it, so SYNC_PID
 * is always the agent's first message.
 *
 * Messages travel on a SOCK_SEQPACKET socketpair that is close-on-exec in
 * the child: EOF after START means execve succeeded. A failure in the
 * child is a fixed-size record (step, errno or error code, text); no GLib
 * error objects cross the fork.
 */
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <glib.h>
#include <sys/capability.h>

#include "oci/oci-spec.h"

G_BEGIN_DECLS

typedef struct AgentSeccomp AgentSeccomp;

/* One mount to perform inside the new mount namespace, relative to the
 * container's root before pivot_root. Prepared by mounts.c. */
typedef struct {
	char *source;
	char *target;	   /* absolute path inside the container */
	char *fstype;	   /* NULL for bind mounts */
	unsigned long flags;
	unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (+MS_REC), 0 none */
	char *data;
	gboolean bind;
	unsigned long remount_flags; /* bind: flags applied by a second remount */
	gboolean is_dir_source;	     /* bind: create a dir (else a file) at the target */
} MountOp;

/* One node of linux.devices to create under the container's /dev (a
 * tmpfs of the guest), as runc does: mknod with the type and number, the
 * mode without the umask, then the owner. Prepared by mounts.c. */
typedef struct {
	char *path;  /* absolute, under /dev */
	mode_t mode; /* S_IFCHR/S_IFBLK/S_IFIFO | permissions */
	dev_t rdev;
	uid_t uid;
	gid_t gid;
} DeviceOp;

typedef struct {
	int resource;
	struct rlimit limit;
} RlimitOp;

typedef enum {
	CAPSET_BOUNDING,
	CAPSET_EFFECTIVE,
	CAPSET_INHERITABLE,
	CAPSET_PERMITTED,
	CAPSET_AMBIENT,
	CAPSET_MAX,
} CapSet;

/* The spec's hooks that stage 2 of a container init runs (guest-hooks.h
 * says where and when), and what their OCI state needs besides the pid.
 * Everything is borrowed from the container, which outlives the plan;
 * every hook has a timeout (guest_hooks_set_default_timeout()). */
typedef struct {
	const OciHookList *create_container; /* NULL: none */
	const OciHookList *start_container;  /* NULL: none */
	const char *id;
	const char *bundle;
	GHashTable *annotations;
} SpawnHooks;

typedef struct {
	/* namespaces; the user namespace is entered last, in stage 2 (see
	 * above), by join_fds[OCI_NS_USER] or as a new one with the maps */
	int join_fds[OCI_NS_MAX]; /* fd to setns() into, or -1 */
	int unshare_flags;	  /* CLONE_NEW* to create (never CLONE_NEWUSER) */
	char *uid_map;		  /* new user namespace: /proc/<pid>/uid_map text; NULL: none */
	char *gid_map;
	char *cgroup_procs;	  /* cgroup.procs to join first, NULL: none */

	/* root filesystem: container init only */
	gboolean setup_rootfs;
	char *rootfs; /* guest path of the container's root */
	gboolean rootfs_readonly;
	unsigned long rootfs_propagation; /* for "/" in the new mount ns */
	MountOp *mounts;
	gsize n_mounts;
	char **masked_paths;
	char **readonly_paths;
	DeviceOp *devices; /* linux.devices */
	gsize n_devices;
	gboolean console;   /* bind the terminal on /dev/console (init with a terminal) */
	char *hostname;	    /* NULL: leave */
	char *domainname;
	char **sysctl_keys; /* parallel arrays */
	char **sysctl_values;

	/* the process */
	char **argv;
	char **envp;
	char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	gsize n_groups;
	gboolean has_umask;
	mode_t umask;
	RlimitOp *rlimits;
	gsize n_rlimits;
	gboolean no_new_privs;
	gboolean has_oom_score_adj;
	int oom_score_adj;
	gboolean has_caps;
	cap_value_t *caps[CAPSET_MAX];
	gsize n_caps[CAPSET_MAX];
	AgentSeccomp *seccomp; /* NULL: none */

	/* stdio: fds the child gets as 0, 1, 2. With a terminal, stage 2
	 * opens a new pty from the container's own /dev/ptmx (as runc does:
	 * `tty` then names /dev/pts/N inside the container) and hands the
	 * master back; these three, a pty of the agent's, are the fallback
	 * for a container without a devpts. The slave becomes the
	 * controlling terminal, sized rows x cols. */
	int stdio[3];
	gboolean terminal;
	unsigned short rows, cols;

	gboolean wait_for_start; /* container init: hold before execve */
	SpawnHooks hooks;	 /* container init only */
} SpawnPlan;

void spawn_plan_init(SpawnPlan *plan);
void spawn_plan_clear(SpawnPlan *plan);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpawnPlan, spawn_plan_clear)

/* Fills the process part of a plan from an OCI process: argv, env, cwd,
 * ids, umask, rlimits, capabilities (names checked), no_new_privs,
 * oom_score_adj. `path` prefixes messages ("process"). */
gboolean spawn_plan_set_process(SpawnPlan *plan, const OciProcess *proc, const char *path, GError **error);

/* A started child that has reported READY. */
typedef struct {
	pid_t pid;   /* stage 2, in the agent's PID namespace */
	int sync_fd; /* to send START; EOF once execve succeeded */
	int pty_master; /* the container's own pty, -1: the plan's stdio are used */
	/* monotonic moments (us), for the create timeline: stage 1 reported
	 * the pid (cgroup joined, namespaces joined or made, stage 2 forked),
	 * stage 2 reported READY (rootfs, mounts, hooks, ids set up) */
	gint64 pid_at_us;
	gint64 ready_at_us;
} SpawnedProcess;

/* Runs both stages and waits (up to timeout_ms) for READY. Without
 * wait_for_start the child then execs at once, and this also waits for
 * the exec (EOF) so that a failing execve is reported here. On failure
 * nothing is left running. */
gboolean spawn_process(const SpawnPlan *plan, int timeout_ms, SpawnedProcess *out, GError **error);

/* Releases a child held before execve and waits for the execve. */
gboolean spawn_release(SpawnedProcess *sp, int timeout_ms, GError **error);

/* Child-side failure report: step name, errno (0 if none), text. Used by
 * the setup modules; async-signal-safe apart from vsnprintf. The agent
 * sees an errno error, or without errno a CK_ERROR_INVALID one. */
G_NORETURN void spawn_child_fail(const char *step, int errsv, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* The same for a GError of the child's: its message, and its errno or
 * CkErrorCode category (a hook's timeout stays CK_ERROR_TIMEOUT). */
G_NORETURN void spawn_child_fail_error(const char *step, const GError *error);

G_END_DECLS
