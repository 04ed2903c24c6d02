/* config: configuration.toml, in the shape Kata users know.
 *
 * Sections and keys follow Kata's names where the meaning is the same
 * ([hypervisor.qemu], [agent.kata], [runtime]); keys of our own are
 * documented as such in the shipped file. Parsing is strict: unknown
 * sections and keys, duplicate keys, wrong types and out-of-range values
 * are CK_ERROR_INVALID errors of the form
 *
 *     <file>:<line>: <what is wrong, naming the key>
 *
 * Search order (ck_config_find): --config, $CONMON_KATA_CONFIG,
 * /etc/conmon-kata/configuration.toml, /usr/share/conmon-kata/configuration.toml.
 * An explicitly named file that does not exist is an error; when no file
 * is found at all the built-in defaults are used.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CK_CONFIG_ENV "CONMON_KATA_CONFIG"

typedef enum {
	CK_ACCEL_AUTO,
	CK_ACCEL_KVM,
	CK_ACCEL_TCG,
	CK_ACCEL_MAX,
} CkAccel;

typedef enum {
	CK_AGENT_CHANNEL_VIRTIO_SERIAL,
	CK_AGENT_CHANNEL_VSOCK,
	CK_AGENT_CHANNEL_MAX,
} CkAgentChannel;

typedef enum {
	CK_SHARED_FS_VIRTIO_9P,
	CK_SHARED_FS_NONE,
	CK_SHARED_FS_MAX,
} CkSharedFs;

typedef enum {
	CK_TRUST_UNTRUSTED,
	CK_TRUST_TRUSTED,
	CK_TRUST_MAX,
} CkTrust;

typedef struct {
	char *path; /* the file this came from, NULL for built-in defaults */

	struct {
		char *path;	     /* QEMU binary */
		char *kernel;	     /* uncompressed vmlinux (PVH) or bzImage */
		char *initrd;	     /* initrd with the agent as /init */
		char *machine_type;  /* "q35" */
		char *kernel_params; /* extra guest kernel command line */
		int default_vcpus;
		int default_maxvcpus;	  /* 0: number of host CPUs */
		guint32 default_memory;	  /* MiB */
		guint32 memory_slots;	  /* hot-plug DIMM slots */
		guint32 default_maxmemory; /* MiB; 0: host RAM */
		CkSharedFs shared_fs;
		guint32 msize_9p; /* bytes */
		guint32 console_log_size_max; /* bytes (console-log.h) */
		char **enable_annotations;
		char **valid_hypervisor_paths;
		char **valid_kernel_paths;
		char **valid_initrd_paths;
		char *guest_hook_path;
		char *seccompsandbox;	    /* QEMU -sandbox argument, "" off */
		char *extra_monitor_socket; /* "", "qmp" or "hmp": an operator socket */
		gboolean enable_debug;
		/* our own keys */
		CkAccel accel;
		CkAgentChannel agent_channel;
		guint32 boot_timeout;	  /* seconds until the agent must answer */
		guint32 kvm_boot_timeout; /* seconds; with accel=auto, then TCG */
	} hypervisor;

	struct {
		guint32 dial_timeout; /* seconds to reach a pod's agent */
		gboolean enable_debug;
		char **kernel_modules; /* extra modules the agent loads */
		guint32 keepalive_timeout; /* seconds without an answer: the pod is lost; 0: never */
	} agent;

	struct {
		gboolean enable_debug;
		char *internetworking_model; /* "tcfilter" or "none" */
		gboolean disable_guest_seccomp;
		guint32 create_container_timeout; /* seconds */
		/* our own keys */
		char *trusted_runtime;	/* runc, for trusted pods */
		CkTrust default_workload_trust;
		gboolean privileged_in_vm;
	} runtime;

	struct {
		gboolean enable_template; /* pods start from a booted template VM (docs/templating.md) */
		char *template_path;	  /* "": <runtime root>/factory */
	} factory;

	/* Where each value came from: "section.key" -> line in `path`, for
	 * the keys the file set. Read it with ck_config_key_line(). */
	GHashTable *origins;
} CkConfig;

/* A config holding the built-in defaults. */
CkConfig *ck_config_new_defaults(void);
void ck_config_free(CkConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CkConfig, ck_config_free)

/* Parses TOML text; `path` is used in messages and stored in cfg->path. */
CkConfig *ck_config_load_data(const char *path, const char *data, gsize len, GError **error);
CkConfig *ck_config_load_file(const char *path, GError **error);

/* The file to use, per the search order above; explicit may be NULL.
 * Returns NULL without error when nothing is found (use defaults). */
char *ck_config_find(const char *explicit_path, GError **error);

/* ck_config_find + load, or defaults. */
CkConfig *ck_config_load(const char *explicit_path, GError **error);

/* Checks what parsing cannot: that referenced files exist and are
 * usable. Used by `vmctl check`; boot paths fail with their own errors. */
gboolean ck_config_validate_paths(const CkConfig *cfg, GError **error);

/* Writes the effective configuration as TOML (for `vmctl env`), every key
 * with its value and a comment saying where it came from. */
char *ck_config_to_toml(const CkConfig *cfg);

/* The line of cfg->path that set `dotted_key` ("hypervisor.qemu.kernel"),
 * or 0 when the key holds its built-in default. For messages that should
 * point at the line to fix. */
guint ck_config_key_line(const CkConfig *cfg, const char *dotted_key);

/* A deep copy: strings, lists, path and origins are the copy's own. */
CkConfig *ck_config_copy(const CkConfig *cfg);

/* Overrides that do not come from the file (pod annotations, annotations.c).
 * Each sets the key named "section.key" ("hypervisor.qemu.default_memory")
 * after the checks a file's value gets (range, allowed values, absolute
 * paths), with the same messages, `name` standing for the key in them:
 * "<name>: 32 is out of range (64..1048576)". A key that does not exist
 * or holds another type is a programming error (CK_ERROR_FAILED). Origins
 * are left alone: the key still reads as set by the file, or default. */
gboolean ck_config_set_string(CkConfig *cfg, const char *dotted_key, const char *value, const char *name,
			      GError **error);
gboolean ck_config_set_integer(CkConfig *cfg, const char *dotted_key, gint64 value, const char *name, GError **error);
gboolean ck_config_set_boolean(CkConfig *cfg, const char *dotted_key, gboolean value, const char *name, GError **error);
gboolean ck_config_set_strv(CkConfig *cfg, const char *dotted_key, const char *const *value, const char *name,
			    GError **error);

/* The range of an integer key; FALSE if `dotted_key` is not one. */
gboolean ck_config_key_range(const char *dotted_key, gint64 *min, gint64 *max);

/* The rules that involve two keys: a non-zero default_maxmemory or
 * default_maxvcpus must be at least default_memory or default_vcpus. On
 * failure *upper_key and *lower_key (either may be NULL) name the two keys
 * ("hypervisor.qemu.default_maxmemory", "hypervisor.qemu.default_memory")
 * and the message has no file:line prefix:
 * "hypervisor.qemu.default_maxmemory: 256 is less than default_memory (512); use 0 (host RAM) or at least 512". */
gboolean ck_config_check_ceilings(const CkConfig *cfg, const char **upper_key, const char **lower_key, GError **error);

/* A user's string for a one-line message, control characters escaped as
 * \xNN, as the configuration's own messages show values. */
char *ck_config_show_value(const char *s);

const char *ck_accel_to_string(CkAccel accel);
const char *ck_agent_channel_to_string(CkAgentChannel ch);
const char *ck_shared_fs_to_string(CkSharedFs fs);
const char *ck_trust_to_string(CkTrust trust);

G_END_DECLS
