/* oci-spec: an OCI runtime-spec config.json as typed C structs.
 *
 * The one place where config.json is interpreted; the rest of the code
 * (host library and guest agent alike) never sees a yajl_val of it, except
 * for the seccomp section, which the agent's seccomp module reads itself.
 *
 * Parsing follows the runtime-spec's rule for unknown properties: they
 * are ignored. Known properties with the wrong type or an invalid value
 * are CK_ERROR_INVALID errors naming the field by its dotted path, e.g.
 * "process.args[2]: expected a string". Absent optional fields keep the
 * defaults documented on each member.
 *
 * Ownership: every string and array belongs to the OciSpec and is freed by
 * oci_spec_free(). The spec can be serialised back (oci_spec_to_json), which
 * is how the host sends a rewritten spec to the agent.
 */
#pragma once

#include <glib.h>
#include <yajl/yajl_tree.h>

G_BEGIN_DECLS

typedef struct {
	char *type;   /* RLIMIT_NOFILE, ... as written */
	int resource; /* RLIMIT_* value, -1 if unknown */
	guint64 hard;
	guint64 soft;
} OciRlimit;

typedef struct {
	char **bounding; /* NULL: absent; capability names as written ("CAP_CHOWN") */
	char **effective;
	char **inheritable;
	char **permitted;
	char **ambient;
} OciCapabilities;

typedef struct {
	gboolean terminal;
	guint32 console_height, console_width; /* consoleSize, 0 if absent */
	guint32 uid, gid;
	gboolean has_umask;
	guint32 umask;
	guint32 *additional_gids;
	gsize n_additional_gids;
	char *username;	    /* user.username (Windows only in the spec; kept) */
	char **args;	    /* NULL-terminated; required, non-empty for a container */
	char *command_line; /* Windows; kept to reject it */
	char **env;	    /* NULL-terminated, may be empty */
	char *cwd;	    /* required, absolute */
	OciCapabilities caps;
	gboolean has_caps;
	OciRlimit *rlimits;
	gsize n_rlimits;
	gboolean no_new_privileges;
	gboolean has_oom_score_adj;
	int oom_score_adj;
	char *apparmor_profile;
	char *selinux_label;
} OciProcess;

typedef struct {
	char *destination;
	char *type;	/* may be NULL (bind mounts) */
	char *source;	/* may be NULL */
	char **options; /* NULL-terminated, may be empty */
} OciMount;

typedef enum {
	OCI_NS_PID,
	OCI_NS_NETWORK,
	OCI_NS_MOUNT,
	OCI_NS_IPC,
	OCI_NS_UTS,
	OCI_NS_USER,
	OCI_NS_CGROUP,
	OCI_NS_TIME,
	OCI_NS_MAX,
} OciNamespaceType;

typedef struct {
	OciNamespaceType type;
	char *path; /* NULL: create a new one */
} OciNamespace;

typedef struct {
	guint32 container_id, host_id, size;
} OciIdMapping;

/* One entry of linux.devices (oci_devices_parse). */
typedef struct {
	char *path;	     /* absolute */
	char type;	     /* 'c', 'u' (unbuffered: a character device), 'b' or 'p' (FIFO) */
	gint64 major, minor; /* 0 for a FIFO */
	guint32 file_mode;   /* permission bits (type bits dropped); 0666 when absent, as runc */
	guint32 uid, gid;    /* 0 when absent */
} OciDevice;

typedef struct {
	/* memory; limit, reservation and swap: 0 = absent, -1 = unlimited (as
	 * in runc's libcontainer, so "not given" and "-1" stay distinct for
	 * `update`); swappiness: -1 = absent */
	gint64 memory_limit;
	gint64 memory_reservation;
	gint64 memory_swap;
	gint64 memory_swappiness;
	gboolean has_disable_oom_killer;
	gboolean disable_oom_killer;
	/* cpu; 0 = absent; quota -1 = unlimited */
	guint64 cpu_shares;
	gint64 cpu_quota;
	guint64 cpu_period;
	char *cpu_cpus;
	char *cpu_mems;
	/* pids */
	gboolean has_pids_limit;
	gint64 pids_limit;
	/* cgroup v2 unified key/values, NULL-terminated pairs list */
	GHashTable *unified; /* char* -> char*, may be NULL */
} OciResources;

typedef struct {
	char *path;
	char **args;
	char **env;
	gboolean has_timeout;
	int timeout; /* seconds, > 0 */
} OciHook;

typedef enum {
	OCI_HOOK_PRESTART,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK_MAX,
} OciHookStage;

typedef struct {
	OciHook *hooks;
	gsize n_hooks;
} OciHookList;

typedef struct {
	char *oci_version;
	/* root */
	char *root_path;
	gboolean root_readonly;
	char *hostname;
	char *domainname;
	gboolean has_process;
	OciProcess process;
	OciMount *mounts;
	gsize n_mounts;
	OciHookList hooks[OCI_HOOK_MAX];
	GHashTable *annotations; /* char* -> char*, never NULL */
	/* linux */
	OciNamespace *namespaces;
	gsize n_namespaces;
	OciIdMapping *uid_mappings;
	gsize n_uid_mappings;
	OciIdMapping *gid_mappings;
	gsize n_gid_mappings;
	GHashTable *sysctl; /* char* -> char*, never NULL */
	gboolean has_resources;
	OciResources resources;
	char *cgroups_path;
	char **masked_paths;   /* NULL-terminated, may be empty */
	char **readonly_paths; /* NULL-terminated, may be empty */
	char *rootfs_propagation;
	char *mount_label;
	yajl_val seccomp; /* linux.seccomp, borrowed from `tree`, or NULL */
	yajl_val devices; /* linux.devices, borrowed, or NULL */
	yajl_val tree;	  /* the parsed document (owned) */
} OciSpec;

/* Parses a config.json document. `what` names it in messages (a path, or
 * "spec"). */
OciSpec *oci_spec_parse(const char *data, gsize len, const char *what, GError **error);
OciSpec *oci_spec_load_file(const char *path, GError **error);
/* The same from a parsed tree, which the spec takes over (freed with it,
 * or at once on failure). */
OciSpec *oci_spec_from_tree(yajl_val tree, const char *what, GError **error);
/* Field errors of oci_spec_parse() are "<dotted path>: <problem>" without
 * `what` (the caller adds its context); `what` names the document in JSON
 * syntax errors and when it is not an object. oci_spec_load_file() puts
 * the file path in front of every message. Files larger than this are
 * rejected: */
#define OCI_SPEC_MAX_SIZE (4 * 1024 * 1024)
void oci_spec_free(OciSpec *spec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OciSpec, oci_spec_free)

/* Parses a "process" object alone (runc exec --process FILE). */
gboolean oci_process_parse(yajl_val obj, const char *path, OciProcess *out, GError **error);
void oci_process_clear(OciProcess *p);

/* Parses a LinuxResources object alone (runc update --resources FILE). */
gboolean oci_resources_parse(yajl_val obj, const char *path, OciResources *out, GError **error);
void oci_resources_clear(OciResources *r);
void oci_resources_init(OciResources *r); /* every field "absent" */

/* Parses linux.devices (OciSpec.devices, NULL: none) into *out (an
 * array of *out_n, freed with oci_devices_free even on failure). Types
 * and numbers are checked: type one of c, u, b, p; major and minor
 * required for all but p and within what dev_t holds. `path` prefixes
 * messages ("linux.devices"). */
gboolean oci_devices_parse(yajl_val devices, const char *path, OciDevice **out, gsize *out_n, GError **error);
void oci_devices_free(OciDevice *devices, gsize n);

/* Frees the hooks of a list and leaves it empty. */
void oci_hook_list_clear(OciHookList *list);

const OciNamespace *oci_spec_find_namespace(const OciSpec *spec, OciNamespaceType type);
const char *oci_spec_annotation(const OciSpec *spec, const char *key);

const char *oci_namespace_type_to_string(OciNamespaceType type); /* "pid", "network", ... */
const char *oci_hook_stage_to_string(OciHookStage stage);	 /* "prestart", "createRuntime", ... */
/* The name /proc/<pid>/ns/ uses ("net", "mnt", else as OCI's) and the
 * CLONE_NEW* flag of a type (what setns and NS_GET_NSTYPE speak). */
const char *oci_namespace_proc_name(OciNamespaceType type);
int oci_namespace_clone_flag(OciNamespaceType type);
gboolean oci_namespace_type_from_clone_flag(int flag, OciNamespaceType *out);
/* The reverse lookups: FALSE / -1 for names the spec does not define. */
gboolean oci_namespace_type_from_string(const char *s, OciNamespaceType *out);
int oci_rlimit_from_string(const char *s); /* "RLIMIT_NOFILE" -> RLIMIT_NOFILE */

/* Writes the spec back as JSON: every field above (linux.seccomp and
 * linux.devices re-emitted from the tree as they were). Properties this
 * module does not know are not carried over: the result is what the host
 * hands to the agent after rewriting paths, and the agent reads no more
 * than what is modelled here. */
char *oci_spec_to_json(const OciSpec *spec, gsize *out_len, GError **error);
char *oci_process_to_json(const OciProcess *p, gsize *out_len, GError **error);

G_END_DECLS
