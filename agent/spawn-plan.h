/* spawn-plan: what a container process is to become, as the parent
 * (the agent) prepares it for the child stages of spawn.h: every name
 * resolved, every value checked, every namespace fd opened. mounts.c and
 * container.c fill it; spawn.c executes it.
 */
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <glib.h>
#include <sys/capability.h>

#include "oci/oci-spec.h"

G_BEGIN_DECLS

typedef struct OciSeccomp OciSeccomp;

/* One mount to perform inside the new mount namespace, relative to the
 * container's root before pivot_root. Prepared by mounts.c. */
typedef struct {
	char *source;
	char *target; /* absolute path inside the container */
	char *fstype; /* NULL for bind mounts */
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
	char *cgroup_procs; /* cgroup.procs to join first, NULL: none */

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
	gboolean console; /* bind the terminal on /dev/console (init with a terminal) */
	char *hostname;	  /* NULL: leave */
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
	GBytes *seccomp_bpf; /* the container's program (oci-seccomp.h); NULL: none */
	guint seccomp_flags; /* seccomp(2) flags to load it with */

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

G_END_DECLS
