/* config: configuration.toml into a CkConfig, and back into TOML.
 *
 * Owns the key table: for each (section, key) its type, the offset of its
 * field in CkConfig, its range or allowed values, and its built-in default.
 * Defaults, parsing, freeing and `vmctl env` output are all driven by that
 * table, so adding a key is one table line plus a test (and a line in
 * contrib/configuration.toml.in and docs/configuration.md).
 *
 * The TOML syntax is toml.c's. Whether the files a config names exist is
 * checked only by ck_config_validate_paths(), so that a config can be
 * loaded and printed on a host that lacks them.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "toml.h"

#ifndef CK_DATA_DIR
#error "CK_DATA_DIR (the install's data directory) must be defined by meson.build"
#endif

/* A configuration file is a few KiB; anything near this is not one. */
#define CONFIG_MAX_SIZE (1024 * 1024)

#define DEFAULT_QEMU_PATH "/usr/bin/qemu-system-x86_64"

typedef enum {
	KEY_STRING, /* char *, any text (required: not "") */
	KEY_PATH,   /* char *, an absolute path, or "" unless required */
	KEY_CHOICE, /* char *, one of .choices */
	KEY_ENUM,   /* an int-sized C enum: the index of the value in .choices */
	KEY_INT,    /* int, within .min...max */
	KEY_UINT32, /* guint32, within .min...max */
	KEY_BOOL,   /* gboolean */
	KEY_STRV,   /* char **, any strings */
	KEY_PATHV,  /* char **, absolute paths */
} KeyKind;

/* A value other configurations (Kata's) accept that this build refuses,
 * with the rest of the sentence "<key>: '<value>' ...". */
typedef struct {
	const char *value;
	const char *why;
} KeyRefusal;

typedef struct {
	const char *name;
	KeyKind kind;
	gsize offset;
	gboolean required;	     /* KEY_STRING, KEY_PATH: "" is an error */
	gint64 min, max;	     /* KEY_INT, KEY_UINT32 */
	const char *const *choices;  /* KEY_CHOICE, KEY_ENUM: NULL-terminated */
	const KeyRefusal *refused;   /* {NULL}-terminated, or NULL */
	const char *def_string;	     /* KEY_STRING, KEY_PATH, KEY_CHOICE; NULL is "" */
	gint64 def_number;	     /* KEY_ENUM, KEY_INT, KEY_UINT32, KEY_BOOL */
	const char *const *def_strv; /* KEY_STRV, KEY_PATHV; NULL is [] */
} ConfigKey;

typedef struct {
	const char *name;
	const ConfigKey *keys;
	gsize n_keys;
} ConfigSection;

/* Enums are stored through an int pointer. */
G_STATIC_ASSERT(sizeof(CkAccel) == sizeof(int));
G_STATIC_ASSERT(sizeof(CkAgentChannel) == sizeof(int));
G_STATIC_ASSERT(sizeof(CkSharedFs) == sizeof(int));
G_STATIC_ASSERT(sizeof(CkTrust) == sizeof(int));

static const char *const accel_names[] = {
    [CK_ACCEL_AUTO] = "auto", [CK_ACCEL_KVM] = "kvm", [CK_ACCEL_TCG] = "tcg", [CK_ACCEL_MAX] = NULL};
static const char *const agent_channel_names[] = {[CK_AGENT_CHANNEL_VIRTIO_SERIAL] = "virtio-serial",
						  [CK_AGENT_CHANNEL_VSOCK] = "vsock",
						  [CK_AGENT_CHANNEL_MAX] = NULL};
static const char *const shared_fs_names[] = {
    [CK_SHARED_FS_VIRTIO_9P] = "virtio-9p", [CK_SHARED_FS_NONE] = "none", [CK_SHARED_FS_MAX] = NULL};
static const char *const trust_names[] = {
    [CK_TRUST_UNTRUSTED] = "untrusted", [CK_TRUST_TRUSTED] = "trusted", [CK_TRUST_MAX] = NULL};
static const char *const monitor_names[] = {"", "qmp", "hmp", NULL};
static const char *const network_names[] = {"tcfilter", "none", NULL};

static const KeyRefusal shared_fs_refused[] = {
    {"virtio-fs", "is not supported by this build (no virtiofsd support); use 'virtio-9p'"},
    {"virtio-fs-nydus", "is not supported by this build (no virtiofsd support); use 'virtio-9p'"},
    {NULL, NULL},
};
static const KeyRefusal monitor_refused[] = {
    {"qmp-pretty", "is not supported by this build; use 'qmp'"},
    {NULL, NULL},
};
static const KeyRefusal network_refused[] = {
    {"macvtap", "is not supported by this build; use 'tcfilter' or 'none'"},
    {"bridged", "was removed in Kata 2.0 and is not supported; use 'tcfilter' or 'none'"},
    {NULL, NULL},
};

static const char *const default_hypervisor_paths[] = {DEFAULT_QEMU_PATH, NULL};

#define HV(field) offsetof(CkConfig, hypervisor.field)
#define AG(field) offsetof(CkConfig, agent.field)
#define RT(field) offsetof(CkConfig, runtime.field)
#define FA(field) offsetof(CkConfig, factory.field)

/* Kata's key names first, ours after; docs/configuration.md says which is which. */
static const ConfigKey hypervisor_keys[] = {
    {.name = "path", .kind = KEY_PATH, .offset = HV(path), .required = TRUE, .def_string = DEFAULT_QEMU_PATH},
    {.name = "kernel",
     .kind = KEY_PATH,
     .offset = HV(kernel),
     .required = TRUE,
     .def_string = CK_DATA_DIR "/guest/vmlinux"},
    {.name = "initrd",
     .kind = KEY_PATH,
     .offset = HV(initrd),
     .required = TRUE,
     .def_string = CK_DATA_DIR "/guest/initrd.img"},
    {.name = "machine_type", .kind = KEY_STRING, .offset = HV(machine_type), .required = TRUE, .def_string = "q35"},
    {.name = "kernel_params", .kind = KEY_STRING, .offset = HV(kernel_params)},
    {.name = "default_vcpus", .kind = KEY_INT, .offset = HV(default_vcpus), .min = 1, .max = 255, .def_number = 1},
    {.name = "default_maxvcpus", .kind = KEY_INT, .offset = HV(default_maxvcpus), .min = 0, .max = 255},
    {.name = "default_memory",
     .kind = KEY_UINT32,
     .offset = HV(default_memory),
     .min = 64,
     .max = 1048576,
     .def_number = 512},
    {.name = "memory_slots", .kind = KEY_UINT32, .offset = HV(memory_slots), .min = 0, .max = 256, .def_number = 10},
    {.name = "default_maxmemory", .kind = KEY_UINT32, .offset = HV(default_maxmemory), .min = 0, .max = G_MAXUINT32},
    {.name = "shared_fs",
     .kind = KEY_ENUM,
     .offset = HV(shared_fs),
     .choices = shared_fs_names,
     .refused = shared_fs_refused,
     .def_number = CK_SHARED_FS_VIRTIO_9P},
    {.name = "msize_9p",
     .kind = KEY_UINT32,
     .offset = HV(msize_9p),
     .min = 4096,
     .max = 4 * 1024 * 1024,
     .def_number = 512 * 1024},
    {.name = "enable_annotations", .kind = KEY_STRV, .offset = HV(enable_annotations)},
    {.name = "valid_hypervisor_paths",
     .kind = KEY_PATHV,
     .offset = HV(valid_hypervisor_paths),
     .def_strv = default_hypervisor_paths},
    {.name = "valid_kernel_paths", .kind = KEY_PATHV, .offset = HV(valid_kernel_paths)},
    {.name = "valid_initrd_paths", .kind = KEY_PATHV, .offset = HV(valid_initrd_paths)},
    {.name = "guest_hook_path", .kind = KEY_PATH, .offset = HV(guest_hook_path)},
    /* Kata's recommended value as our default: docs/security.md */
    {.name = "seccompsandbox",
     .kind = KEY_STRING,
     .offset = HV(seccompsandbox),
     .def_string = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"},
    {.name = "extra_monitor_socket",
     .kind = KEY_CHOICE,
     .offset = HV(extra_monitor_socket),
     .choices = monitor_names,
     .refused = monitor_refused,
     .def_string = "qmp"},
    {.name = "enable_debug", .kind = KEY_BOOL, .offset = HV(enable_debug)},
    {.name = "accel", .kind = KEY_ENUM, .offset = HV(accel), .choices = accel_names, .def_number = CK_ACCEL_AUTO},
    {.name = "agent_channel",
     .kind = KEY_ENUM,
     .offset = HV(agent_channel),
     .choices = agent_channel_names,
     .def_number = CK_AGENT_CHANNEL_VIRTIO_SERIAL},
    {.name = "boot_timeout", .kind = KEY_UINT32, .offset = HV(boot_timeout), .min = 1, .max = 3600, .def_number = 30},
    {.name = "kvm_boot_timeout",
     .kind = KEY_UINT32,
     .offset = HV(kvm_boot_timeout),
     .min = 1,
     .max = 600,
     .def_number = 3},
    {.name = "console_log_size_max",
     .kind = KEY_UINT32,
     .offset = HV(console_log_size_max),
     .min = 4096,
     .max = 1024 * 1024 * 1024,
     .def_number = 1024 * 1024},
};

static const ConfigKey agent_keys[] = {
    {.name = "dial_timeout", .kind = KEY_UINT32, .offset = AG(dial_timeout), .min = 1, .max = 3600, .def_number = 10},
    {.name = "enable_debug", .kind = KEY_BOOL, .offset = AG(enable_debug)},
    {.name = "kernel_modules", .kind = KEY_STRV, .offset = AG(kernel_modules)},
    {.name = "keepalive_timeout", .kind = KEY_UINT32, .offset = AG(keepalive_timeout), .max = 86400,
     .def_number = 120},
};

static const ConfigKey runtime_keys[] = {
    {.name = "enable_debug", .kind = KEY_BOOL, .offset = RT(enable_debug)},
    {.name = "internetworking_model",
     .kind = KEY_CHOICE,
     .offset = RT(internetworking_model),
     .choices = network_names,
     .refused = network_refused,
     .def_string = "tcfilter"},
    {.name = "disable_guest_seccomp", .kind = KEY_BOOL, .offset = RT(disable_guest_seccomp)},
    {.name = "create_container_timeout",
     .kind = KEY_UINT32,
     .offset = RT(create_container_timeout),
     .min = 1,
     .max = 3600,
     .def_number = 60},
    {.name = "trusted_runtime",
     .kind = KEY_PATH,
     .offset = RT(trusted_runtime),
     .required = TRUE,
     .def_string = "/usr/bin/runc"},
    {.name = "default_workload_trust",
     .kind = KEY_ENUM,
     .offset = RT(default_workload_trust),
     .choices = trust_names,
     .def_number = CK_TRUST_UNTRUSTED},
    {.name = "privileged_in_vm", .kind = KEY_BOOL, .offset = RT(privileged_in_vm)},
};

static const ConfigKey factory_keys[] = {
    {.name = "enable_template", .kind = KEY_BOOL, .offset = FA(enable_template)},
    {.name = "template_path", .kind = KEY_PATH, .offset = FA(template_path)},
};

static const ConfigSection sections[] = {
    {"hypervisor.qemu", hypervisor_keys, G_N_ELEMENTS(hypervisor_keys)},
    {"agent.kata", agent_keys, G_N_ELEMENTS(agent_keys)},
    {"runtime", runtime_keys, G_N_ELEMENTS(runtime_keys)},
    {"factory", factory_keys, G_N_ELEMENTS(factory_keys)},
};

/* ---- enum names ----------------------------------------------------------------- */

static const char *choice_name(const char *const *names, int max, int value)
{
	return value >= 0 && value < max ? names[value] : "unknown";
}

const char *ck_accel_to_string(CkAccel accel)
{
	return choice_name(accel_names, CK_ACCEL_MAX, accel);
}

const char *ck_agent_channel_to_string(CkAgentChannel ch)
{
	return choice_name(agent_channel_names, CK_AGENT_CHANNEL_MAX, ch);
}

const char *ck_shared_fs_to_string(CkSharedFs fs)
{
	return choice_name(shared_fs_names, CK_SHARED_FS_MAX, fs);
}

const char *ck_trust_to_string(CkTrust trust)
{
	return choice_name(trust_names, CK_TRUST_MAX, trust);
}

/* ---- lookups -------------------------------------------------------------------- */

static const ConfigSection *find_section(const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(sections); i++)
		if (g_str_equal(sections[i].name, name))
			return &sections[i];
	return NULL;
}

static const ConfigKey *find_key(const ConfigSection *sec, const char *name)
{
	for (gsize i = 0; i < sec->n_keys; i++)
		if (g_str_equal(sec->keys[i].name, name))
			return &sec->keys[i];
	return NULL;
}

/* [hypervisor] and [agent] are valid TOML around our sections; they are
 * accepted as long as they stay empty. */
static gboolean is_section_prefix(const char *name)
{
	gsize len = strlen(name);

	for (gsize i = 0; i < G_N_ELEMENTS(sections); i++)
		if (g_str_has_prefix(sections[i].name, name) && sections[i].name[len] == '.')
			return TRUE;
	return FALSE;
}

guint ck_config_key_line(const CkConfig *cfg, const char *dotted_key)
{
	if (cfg == NULL || cfg->origins == NULL)
		return 0;
	return GPOINTER_TO_UINT(g_hash_table_lookup(cfg->origins, dotted_key));
}

/* A user's string for a one-line message: control characters escaped. */
static char *shown(const char *s)
{
	GString *out = g_string_new(NULL);

	for (const char *p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			g_string_append_printf(out, "\\x%02X", (unsigned char)*p);
		else
			g_string_append_c(out, *p);
	}
	return g_string_free(out, FALSE);
}

/* ---- defaults and freeing ------------------------------------------------------------- */

static void set_default(CkConfig *cfg, const ConfigKey *key)
{
	gpointer field = G_STRUCT_MEMBER_P(cfg, key->offset);

	switch (key->kind) {
	case KEY_STRING:
	case KEY_PATH:
	case KEY_CHOICE:
		*(char **)field = g_strdup(key->def_string != NULL ? key->def_string : "");
		break;
	case KEY_ENUM:
	case KEY_INT:
		*(int *)field = (int)key->def_number;
		break;
	case KEY_UINT32:
		*(guint32 *)field = (guint32)key->def_number;
		break;
	case KEY_BOOL:
		*(gboolean *)field = key->def_number != 0;
		break;
	case KEY_STRV:
	case KEY_PATHV:
		*(char ***)field = key->def_strv != NULL ? g_strdupv((char **)key->def_strv) : g_new0(char *, 1);
		break;
	}
}

static void clear_field(CkConfig *cfg, const ConfigKey *key)
{
	gpointer field = G_STRUCT_MEMBER_P(cfg, key->offset);

	if (key->kind == KEY_STRING || key->kind == KEY_PATH || key->kind == KEY_CHOICE)
		g_clear_pointer((char **)field, g_free);
	else if (key->kind == KEY_STRV || key->kind == KEY_PATHV)
		g_clear_pointer((char ***)field, g_strfreev);
}

CkConfig *ck_config_new_defaults(void)
{
	CkConfig *cfg = g_new0(CkConfig, 1);

	cfg->origins = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	for (gsize s = 0; s < G_N_ELEMENTS(sections); s++)
		for (gsize k = 0; k < sections[s].n_keys; k++)
			set_default(cfg, &sections[s].keys[k]);
	return cfg;
}

void ck_config_free(CkConfig *cfg)
{
	if (cfg == NULL)
		return;
	for (gsize s = 0; s < G_N_ELEMENTS(sections); s++)
		for (gsize k = 0; k < sections[s].n_keys; k++)
			clear_field(cfg, &sections[s].keys[k]);
	g_clear_pointer(&cfg->origins, g_hash_table_unref);
	g_free(cfg->path);
	g_free(cfg);
}

/* ---- checking values -------------------------------------------------------------------- */

/* Finds `value` in key->choices (its index is the enum value), with a
 * message naming the allowed values otherwise. */
static gboolean lookup_choice(const ConfigKey *key, const char *name, const char *value, int *out, GError **error)
{
	g_autofree char *v = shown(value);

	for (int i = 0; key->choices[i] != NULL; i++) {
		if (g_str_equal(key->choices[i], value)) {
			*out = i;
			return TRUE;
		}
	}
	for (const KeyRefusal *r = key->refused; r != NULL && r->value != NULL; r++)
		if (g_str_equal(r->value, value))
			return ck_set_error(error, CK_ERROR_INVALID, "%s: '%s' %s", name, v, r->why);

	g_autoptr(GString) allowed = g_string_new(NULL);
	for (int i = 0; key->choices[i] != NULL; i++)
		g_string_append_printf(allowed, "%s'%s'", i > 0 ? ", " : "", key->choices[i]);
	return ck_set_error(error, CK_ERROR_INVALID, "%s: '%s' is not one of %s", name, v, allowed->str);
}

static gboolean has_dotdot(const char *path)
{
	g_auto(GStrv) parts = g_strsplit(path, "/", -1);

	for (char **p = parts; *p != NULL; p++)
		if (g_str_equal(*p, ".."))
			return TRUE;
	return FALSE;
}

/* Absolute, and without "..": a path that climbs out of where it seems to
 * point would also slip past the valid_*_paths globs an annotation's path
 * is checked against. */
static gboolean check_path(const char *name, const char *value, GError **error)
{
	g_autofree char *v = shown(value);

	if (value[0] != '\0' && !g_path_is_absolute(value))
		return ck_set_error(error, CK_ERROR_INVALID, "%s: '%s' is not an absolute path", name, v);
	if (has_dotdot(value))
		return ck_set_error(error, CK_ERROR_INVALID, "%s: '%s' has a '..' component", name, v);
	return TRUE;
}

static gboolean check_string(const ConfigKey *key, const char *name, const char *value, GError **error)
{
	int ignored;

	if (key->required && value[0] == '\0')
		return ck_set_error(error, CK_ERROR_INVALID, "%s: must not be empty", name);
	if (key->kind == KEY_PATH)
		return check_path(name, value, error);
	if (key->kind == KEY_CHOICE)
		return lookup_choice(key, name, value, &ignored, error);
	return TRUE;
}

static gboolean check_range(const ConfigKey *key, const char *name, gint64 value, GError **error)
{
	if (value >= key->min && value <= key->max)
		return TRUE;
	return ck_set_error(error, CK_ERROR_INVALID,
			    "%s: %" G_GINT64_FORMAT " is out of range (%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT ")",
			    name, value, key->min, key->max);
}

static TomlType toml_type_of(KeyKind kind)
{
	switch (kind) {
	case KEY_INT:
	case KEY_UINT32:
		return TOML_INTEGER;
	case KEY_BOOL:
		return TOML_BOOLEAN;
	case KEY_STRV:
	case KEY_PATHV:
		return TOML_STRING_ARRAY;
	default:
		return TOML_STRING;
	}
}

/* Checks an entry whose type is right and stores it in its field. */
static gboolean set_value(CkConfig *cfg, const ConfigKey *key, const char *name, const TomlEntry *e, GError **error)
{
	gpointer field = G_STRUCT_MEMBER_P(cfg, key->offset);
	int index;

	switch (key->kind) {
	case KEY_STRING:
	case KEY_PATH:
	case KEY_CHOICE:
		if (!check_string(key, name, e->string, error))
			return FALSE;
		g_free(*(char **)field);
		*(char **)field = g_strdup(e->string);
		return TRUE;
	case KEY_ENUM:
		if (!lookup_choice(key, name, e->string, &index, error))
			return FALSE;
		*(int *)field = index;
		return TRUE;
	case KEY_INT:
	case KEY_UINT32:
		if (!check_range(key, name, e->integer, error))
			return FALSE;
		if (key->kind == KEY_INT)
			*(int *)field = (int)e->integer;
		else
			*(guint32 *)field = (guint32)e->integer;
		return TRUE;
	case KEY_BOOL:
		*(gboolean *)field = e->boolean;
		return TRUE;
	case KEY_STRV:
	case KEY_PATHV:
		for (gsize i = 0; key->kind == KEY_PATHV && e->strings[i] != NULL; i++)
			if (!check_path(name, e->strings[i], error))
				return FALSE;
		g_strfreev(*(char ***)field);
		*(char ***)field = g_strdupv(e->strings);
		return TRUE;
	}
	g_assert_not_reached();
}

/* ---- loading --------------------------------------------------------------------------- */

static gboolean apply_entry(CkConfig *cfg, const ConfigSection *sec, const ConfigKey *key, const TomlEntry *e,
			    GError **error)
{
	g_autofree char *name = g_strdup_printf("%s.%s", sec->name, key->name);
	TomlType want = toml_type_of(key->kind);

	if (e->type != want)
		return ck_set_error(error, CK_ERROR_INVALID, "%s:%u: %s: expected %s, got %s", cfg->path, e->line, name,
				    toml_type_to_string(want), toml_type_to_string(e->type));
	if (!set_value(cfg, key, name, e, error)) {
		g_prefix_error(error, "%s:%u: ", cfg->path, e->line);
		return FALSE;
	}
	g_hash_table_insert(cfg->origins, g_steal_pointer(&name), GUINT_TO_POINTER(e->line));
	return TRUE;
}

/* The section a misplaced key belongs in, for a hint; NULL if none or
 * several (enable_debug is in every section). */
static const char *home_of(const char *key)
{
	const char *home = NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(sections); i++) {
		if (find_key(&sections[i], key) == NULL)
			continue;
		if (home != NULL)
			return NULL;
		home = sections[i].name;
	}
	return home;
}

static gboolean unknown_key(const CkConfig *cfg, const TomlTable *t, const TomlEntry *e, GError **error)
{
	const char *home = home_of(e->key);
	g_autofree char *hint = home != NULL ? g_strdup_printf("; it belongs in [%s]", home) : g_strdup("");

	if (t->name[0] == '\0')
		return ck_set_error(error, CK_ERROR_INVALID, "%s:%u: unknown key '%s' outside any [section]%s",
				    cfg->path, e->line, e->key, hint);
	return ck_set_error(error, CK_ERROR_INVALID, "%s:%u: unknown key '%s' in [%s]%s", cfg->path, e->line, e->key,
			    t->name, hint);
}

static gboolean apply_table(CkConfig *cfg, const TomlTable *t, GError **error)
{
	const ConfigSection *sec = find_section(t->name);

	if (sec == NULL && t->name[0] != '\0' && !is_section_prefix(t->name))
		return ck_set_error(error, CK_ERROR_INVALID, "%s:%u: unknown section [%s]", cfg->path, t->line,
				    t->name);
	for (guint i = 0; i < t->entries->len; i++) {
		const TomlEntry *e = t->entries->pdata[i];
		const ConfigKey *key = sec != NULL ? find_key(sec, e->key) : NULL;
		if (key == NULL)
			return unknown_key(cfg, t, e, error);
		if (!apply_entry(cfg, sec, key, e, error))
			return FALSE;
	}
	return TRUE;
}

/* `upper` must be 0 ("as much as the host has") or at least `lower`. On
 * failure the two keys are passed back, so that the caller can say where
 * they were set. */
static gboolean check_ceiling(const char *upper_key, guint64 upper, const char *lower_key, guint64 lower,
			      const char *zero_means, const char **bad_upper, const char **bad_lower, GError **error)
{
	if (upper == 0 || upper >= lower)
		return TRUE;

	*bad_upper = upper_key;
	*bad_lower = lower_key;
	return ck_set_error(error, CK_ERROR_INVALID,
			    "%s: %" G_GUINT64_FORMAT " is less than %s (%" G_GUINT64_FORMAT "); use 0 (%s) "
			    "or at least %" G_GUINT64_FORMAT,
			    upper_key, upper, strrchr(lower_key, '.') + 1, lower, zero_means, lower);
}

gboolean ck_config_check_ceilings(const CkConfig *cfg, const char **upper_key, const char **lower_key, GError **error)
{
	const char *upper = NULL, *lower = NULL;
	gboolean ok = check_ceiling("hypervisor.qemu.default_maxmemory", cfg->hypervisor.default_maxmemory,
				    "hypervisor.qemu.default_memory", cfg->hypervisor.default_memory, "host RAM",
				    &upper, &lower, error) &&
		      check_ceiling("hypervisor.qemu.default_maxvcpus", (guint64)cfg->hypervisor.default_maxvcpus,
				    "hypervisor.qemu.default_vcpus", (guint64)cfg->hypervisor.default_vcpus,
				    "host CPUs", &upper, &lower, error);

	if (upper_key != NULL)
		*upper_key = upper;
	if (lower_key != NULL)
		*lower_key = lower;
	return ok;
}

/* What can only be decided once every key is read. */
static gboolean finish_config(CkConfig *cfg, GError **error)
{
	const char *upper, *lower;

	/* Kata: valid_hypervisor_paths defaults to [path], so moving the
	 * binary does not silently leave the old path as the only valid one. */
	if (ck_config_key_line(cfg, "hypervisor.qemu.path") != 0 &&
	    ck_config_key_line(cfg, "hypervisor.qemu.valid_hypervisor_paths") == 0) {
		const char *const paths[] = {cfg->hypervisor.path, NULL};
		g_strfreev(cfg->hypervisor.valid_hypervisor_paths);
		cfg->hypervisor.valid_hypervisor_paths = g_strdupv((char **)paths);
	}
	if (ck_config_check_ceilings(cfg, &upper, &lower, error))
		return TRUE;
	/* Reported at the line that set the ceiling (the one that can be
	 * wrong, as the defaults are consistent), else at the other's. */
	guint line = ck_config_key_line(cfg, upper);
	if (line == 0)
		line = ck_config_key_line(cfg, lower);
	g_prefix_error(error, "%s:%u: ", cfg->path, line);
	return FALSE;
}

CkConfig *ck_config_load_data(const char *path, const char *data, gsize len, GError **error)
{
	g_return_val_if_fail(path != NULL, NULL);

	g_autoptr(TomlDocument) doc = toml_parse(path, data, len, error);
	if (doc == NULL)
		return NULL;

	g_autoptr(CkConfig) cfg = ck_config_new_defaults();
	cfg->path = g_strdup(path);
	for (guint i = 0; i < doc->tables->len; i++)
		if (!apply_table(cfg, doc->tables->pdata[i], error))
			return NULL;
	if (!finish_config(cfg, error))
		return NULL;
	return g_steal_pointer(&cfg);
}

CkConfig *ck_config_load_file(const char *path, GError **error)
{
	g_autofree char *data = NULL;
	gsize len = 0;

	if (!ck_file_read_bounded(path, CONFIG_MAX_SIZE, &data, &len, error))
		return NULL;
	return ck_config_load_data(path, data, len, error);
}

/* ---- copies and overrides ------------------------------------------------------------------ */

CkConfig *ck_config_copy(const CkConfig *cfg)
{
	CkConfig *copy = g_new(CkConfig, 1);
	GHashTableIter it;
	gpointer name, line;

	/* Scalars by assignment, then every owned pointer replaced by its own copy. */
	*copy = *cfg;
	copy->path = g_strdup(cfg->path);
	copy->origins = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_hash_table_iter_init(&it, cfg->origins);
	while (g_hash_table_iter_next(&it, &name, &line))
		g_hash_table_insert(copy->origins, g_strdup(name), line);
	for (gsize s = 0; s < G_N_ELEMENTS(sections); s++) {
		for (gsize k = 0; k < sections[s].n_keys; k++) {
			const ConfigKey *key = &sections[s].keys[k];
			gpointer field = G_STRUCT_MEMBER_P(copy, key->offset);
			if (key->kind == KEY_STRING || key->kind == KEY_PATH || key->kind == KEY_CHOICE)
				*(char **)field = g_strdup(*(char **)field);
			else if (key->kind == KEY_STRV || key->kind == KEY_PATHV)
				*(char ***)field = g_strdupv(*(char ***)field);
		}
	}
	return copy;
}

/* "hypervisor.qemu.default_memory" -> its table entry. */
static const ConfigKey *find_dotted_key(const char *dotted_key)
{
	const char *dot = strrchr(dotted_key, '.');

	if (dot == NULL)
		return NULL;
	g_autofree char *section = g_strndup(dotted_key, dot - dotted_key);
	const ConfigSection *sec = find_section(section);
	return sec != NULL ? find_key(sec, dot + 1) : NULL;
}

/* An override goes through set_value(), as a file's entry does, so that
 * it gets exactly the same checks and messages. */
static gboolean set_override(CkConfig *cfg, const char *dotted_key, const TomlEntry *e, const char *name,
			     GError **error)
{
	const ConfigKey *key = find_dotted_key(dotted_key);

	if (key == NULL || toml_type_of(key->kind) != e->type)
		return ck_set_error(error, CK_ERROR_FAILED, "%s: not a configuration key holding %s", dotted_key,
				    toml_type_to_string(e->type));
	return set_value(cfg, key, name, e, error);
}

gboolean ck_config_set_string(CkConfig *cfg, const char *dotted_key, const char *value, const char *name,
			      GError **error)
{
	const TomlEntry e = {.type = TOML_STRING, .string = (char *)value};

	return set_override(cfg, dotted_key, &e, name, error);
}

gboolean ck_config_set_integer(CkConfig *cfg, const char *dotted_key, gint64 value, const char *name, GError **error)
{
	const TomlEntry e = {.type = TOML_INTEGER, .integer = value};

	return set_override(cfg, dotted_key, &e, name, error);
}

gboolean ck_config_set_boolean(CkConfig *cfg, const char *dotted_key, gboolean value, const char *name, GError **error)
{
	const TomlEntry e = {.type = TOML_BOOLEAN, .boolean = value};

	return set_override(cfg, dotted_key, &e, name, error);
}

gboolean ck_config_set_strv(CkConfig *cfg, const char *dotted_key, const char *const *value, const char *name,
			    GError **error)
{
	const TomlEntry e = {.type = TOML_STRING_ARRAY, .strings = (char **)value};

	return set_override(cfg, dotted_key, &e, name, error);
}

gboolean ck_config_key_range(const char *dotted_key, gint64 *min, gint64 *max)
{
	const ConfigKey *key = find_dotted_key(dotted_key);

	if (key == NULL || (key->kind != KEY_INT && key->kind != KEY_UINT32))
		return FALSE;
	*min = key->min;
	*max = key->max;
	return TRUE;
}

char *ck_config_show_value(const char *s)
{
	return shown(s);
}

/* ---- finding the file ------------------------------------------------------------------ */

/* A file the user named must exist; `origin` says how it was named. */
static char *named_file(const char *path, const char *origin, GError **error)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		ck_set_error_errno(error, errno, "%s: %s", origin, path);
		return NULL;
	}
	return g_strdup(path);
}

char *ck_config_find(const char *explicit_path, GError **error)
{
	static const char *const system_paths[] = {CK_SYSCONF_CONFIG, CK_DATA_CONFIG};
	const char *env = g_getenv(CK_CONFIG_ENV);
	struct stat st;

	if (explicit_path != NULL)
		return named_file(explicit_path, "--config", error);
	/* An empty variable counts as unset, as a shell's `VAR= cmd` means. */
	if (env != NULL && env[0] != '\0')
		return named_file(env, "$" CK_CONFIG_ENV, error);

	/* Only a missing system file is skipped: one that exists but cannot
	 * be read must fail loudly rather than fall back to another. */
	for (gsize i = 0; i < G_N_ELEMENTS(system_paths); i++)
		if (stat(system_paths[i], &st) == 0 || (errno != ENOENT && errno != ENOTDIR))
			return g_strdup(system_paths[i]);
	return NULL;
}

CkConfig *ck_config_load(const char *explicit_path, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autofree char *path = ck_config_find(explicit_path, &local);

	if (local != NULL) {
		g_propagate_error(error, g_steal_pointer(&local));
		return NULL;
	}
	if (path == NULL)
		return ck_config_new_defaults();
	return ck_config_load_file(path, error);
}

/* ---- checking the files it names -------------------------------------------------------- */

/* `path` (the value of `key`) is a regular file we may open with `mode`. */
static gboolean check_file(const CkConfig *cfg, const char *key, const char *path, int mode, GError **error)
{
	struct stat st;
	guint line = ck_config_key_line(cfg, key);
	g_autofree char *p = path != NULL ? shown(path) : NULL;

	if (path == NULL || path[0] == '\0')
		ck_set_error(error, CK_ERROR_INVALID, "%s: not set", key);
	else if (stat(path, &st) < 0)
		ck_set_error_errno(error, errno, "%s: %s", key, p);
	else if (!S_ISREG(st.st_mode))
		ck_set_error(error, CK_ERROR_INVALID, "%s: %s: not a regular file", key, p);
	else if (access(path, mode) < 0)
		ck_set_error_errno(error, errno, "%s: %s", key, p);
	else
		return TRUE;

	if (line != 0)
		g_prefix_error(error, "%s:%u: ", cfg->path, line);
	return FALSE;
}

gboolean ck_config_validate_paths(const CkConfig *cfg, GError **error)
{
	return check_file(cfg, "hypervisor.qemu.path", cfg->hypervisor.path, X_OK, error) &&
	       check_file(cfg, "hypervisor.qemu.kernel", cfg->hypervisor.kernel, R_OK, error) &&
	       check_file(cfg, "hypervisor.qemu.initrd", cfg->hypervisor.initrd, R_OK, error) &&
	       check_file(cfg, "runtime.trusted_runtime", cfg->runtime.trusted_runtime, X_OK, error);
}

/* ---- writing it back ------------------------------------------------------------------- */

static void append_value(GString *out, const CkConfig *cfg, const ConfigKey *key)
{
	gconstpointer field = G_STRUCT_MEMBER_P(cfg, key->offset);
	int v;

	switch (key->kind) {
	case KEY_STRING:
	case KEY_PATH:
	case KEY_CHOICE:
		toml_append_string(out, *(char *const *)field);
		break;
	case KEY_ENUM:
		v = *(const int *)field;
		toml_append_string(out, v >= 0 && v < (int)g_strv_length((char **)key->choices) ? key->choices[v] : "");
		break;
	case KEY_INT:
		g_string_append_printf(out, "%d", *(const int *)field);
		break;
	case KEY_UINT32:
		g_string_append_printf(out, "%" G_GUINT32_FORMAT, *(const guint32 *)field);
		break;
	case KEY_BOOL:
		g_string_append(out, *(const gboolean *)field ? "true" : "false");
		break;
	case KEY_STRV:
	case KEY_PATHV:
		toml_append_string_array(out, *(const char *const *const *)field);
		break;
	}
}

/* "# from <file>:<line>" or "# default". */
static void append_origin(GString *out, const CkConfig *cfg, const char *name)
{
	guint line = ck_config_key_line(cfg, name);

	if (line != 0) {
		g_autofree char *file = shown(cfg->path);
		g_string_append_printf(out, "  # from %s:%u\n", file, line);
	} else if (g_str_equal(name, "hypervisor.qemu.valid_hypervisor_paths") &&
		   ck_config_key_line(cfg, "hypervisor.qemu.path") != 0) {
		g_string_append(out, "  # default (follows path)\n");
	} else {
		g_string_append(out, "  # default\n");
	}
}

char *ck_config_to_toml(const CkConfig *cfg)
{
	GString *out = g_string_new(NULL);

	for (gsize s = 0; s < G_N_ELEMENTS(sections); s++) {
		const ConfigSection *sec = &sections[s];
		g_string_append_printf(out, "%s[%s]\n", s > 0 ? "\n" : "", sec->name);
		for (gsize k = 0; k < sec->n_keys; k++) {
			g_autofree char *name = g_strdup_printf("%s.%s", sec->name, sec->keys[k].name);
			g_string_append_printf(out, "%s = ", sec->keys[k].name);
			append_value(out, cfg, &sec->keys[k]);
			append_origin(out, cfg, name);
		}
	}
	return g_string_free(out, FALSE);
}
