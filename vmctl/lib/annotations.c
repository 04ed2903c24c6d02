/* annotations: io.katacontainers.* annotations into configuration overrides.
 *
 * One table maps every supported annotation to the configuration key it
 * overrides and says how its text is read. The key's own rules (ranges,
 * allowed values, absolute paths, the cross-key ceilings) stay in config.c
 * and are reached through ck_config_set_*() and ck_config_check_ceilings(),
 * so an annotation can never set a value the file could not.
 *
 * Everything is applied to a copy, which replaces the caller's
 * configuration only once every annotation and the cross-key rules have
 * passed: a pod either gets all its overrides or fails to be created.
 */
#include "annotations.h"

#include <fnmatch.h>
#include <stddef.h>
#include <string.h>

#include "base/ck-error.h"
#include "base/ck-parse.h"

typedef enum {
	VALUE_STRING,	  /* as written; config.c checks it */
	VALUE_APPEND,	  /* appended to the configured string, after a space */
	VALUE_HOST_PATH,  /* a host file; must also match an allow-list */
	VALUE_GUEST_PATH, /* a path inside the guest: absolute, not empty */
	VALUE_NUMBER,	  /* a decimal integer */
	VALUE_BOOL,	  /* as Go's strconv.ParseBool, since Kata's users write them so */
	VALUE_MODULES,	  /* Kata's "name [params];name [params]" into a list */
} ValueKind;

typedef struct {
	const char *suffix; /* after the group's prefix */
	const char *key;    /* the configuration key it overrides, "section.key" */
	ValueKind kind;
	const char *noun;	/* VALUE_NUMBER: what the number counts, for messages */
	gsize field;		/* VALUE_HOST_PATH: the allow-list (char **); VALUE_APPEND: the string (char *) */
	const char *allow_name; /* VALUE_HOST_PATH: the allow-list's key */
} AnnotationKey;

typedef struct {
	const char *prefix; /* up to and including the dot before the suffix */
	const char *gate;   /* put before the suffix when matching enable_annotations */
	const AnnotationKey *keys;
	gsize n_keys;
} AnnotationGroup;

#define ALLOW(list) .field = offsetof(CkConfig, hypervisor.list), .allow_name = #list
#define NUMBER(what) .kind = VALUE_NUMBER, .noun = "a number of " what

/* Kata's suffixes, mapped to our keys. Kata suffixes missing here are
 * refused as unsupported, as are unknown ones. */
static const AnnotationKey hypervisor_keys[] = {
    {"path", "hypervisor.qemu.path", VALUE_HOST_PATH, ALLOW(valid_hypervisor_paths)},
    {"kernel", "hypervisor.qemu.kernel", VALUE_HOST_PATH, ALLOW(valid_kernel_paths)},
    {"initrd", "hypervisor.qemu.initrd", VALUE_HOST_PATH, ALLOW(valid_initrd_paths)},
    {"machine_type", "hypervisor.qemu.machine_type", VALUE_STRING},
    /* Kata appends, so the operator's parameters are kept. */
    {"kernel_params", "hypervisor.qemu.kernel_params", VALUE_APPEND,
     .field = offsetof(CkConfig, hypervisor.kernel_params)},
    {"default_vcpus", "hypervisor.qemu.default_vcpus", NUMBER("vCPUs")},
    {"default_maxvcpus", "hypervisor.qemu.default_maxvcpus", NUMBER("vCPUs")},
    /* Kata's annotation is spelled unlike its configuration key. */
    {"default_max_vcpus", "hypervisor.qemu.default_maxvcpus", NUMBER("vCPUs")},
    {"default_memory", "hypervisor.qemu.default_memory", NUMBER("MiB")},
    {"memory_slots", "hypervisor.qemu.memory_slots", NUMBER("slots")},
    {"default_maxmemory", "hypervisor.qemu.default_maxmemory", NUMBER("MiB")},
    {"msize_9p", "hypervisor.qemu.msize_9p", NUMBER("bytes")},
    {"shared_fs", "hypervisor.qemu.shared_fs", VALUE_STRING},
    {"enable_debug", "hypervisor.qemu.enable_debug", VALUE_BOOL},
    {"guest_hook_path", "hypervisor.qemu.guest_hook_path", VALUE_GUEST_PATH},
    {"seccompsandbox", "hypervisor.qemu.seccompsandbox", VALUE_STRING},
    /* ours */
    {"accel", "hypervisor.qemu.accel", VALUE_STRING},
    {"boot_timeout", "hypervisor.qemu.boot_timeout", NUMBER("seconds")},
};

static const AnnotationKey agent_keys[] = {
    {"enable_debug", "agent.kata.enable_debug", VALUE_BOOL},
    {"dial_timeout", "agent.kata.dial_timeout", NUMBER("seconds")},
    {"kernel_modules", "agent.kata.kernel_modules", VALUE_MODULES},
};

static const AnnotationKey runtime_keys[] = {
    {"enable_debug", "runtime.enable_debug", VALUE_BOOL},
    {"disable_guest_seccomp", "runtime.disable_guest_seccomp", VALUE_BOOL},
    {"create_container_timeout", "runtime.create_container_timeout", NUMBER("seconds")},
};

/* Kata gates only the hypervisor group with enable_annotations. The other
 * two can weaken a pod just as much (disable_guest_seccomp), so we gate
 * them too, as "agent.<suffix>" and "runtime.<suffix>". */
static const AnnotationGroup groups[] = {
    {ANNOTATIONS_CONFIG_PREFIX "hypervisor.", "", hypervisor_keys, G_N_ELEMENTS(hypervisor_keys)},
    {ANNOTATIONS_CONFIG_PREFIX "agent.", "agent.", agent_keys, G_N_ELEMENTS(agent_keys)},
    {ANNOTATIONS_CONFIG_PREFIX "runtime.", "runtime.", runtime_keys, G_N_ELEMENTS(runtime_keys)},
};

/* Characters of a module name as modprobe knows it: no paths. */
#define MODULE_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

/* ---- looking up ------------------------------------------------------------------------ */

static int compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The io.katacontainers.* names, sorted, so that which of several bad
 * annotations is reported does not depend on hashing. */
static GPtrArray *kata_names(GHashTable *annotations)
{
	GPtrArray *names = g_ptr_array_new();
	GHashTableIter it;
	gpointer name;

	if (annotations == NULL)
		return names;
	g_hash_table_iter_init(&it, annotations);
	while (g_hash_table_iter_next(&it, &name, NULL))
		if (g_str_has_prefix(name, ANNOTATIONS_KATA_PREFIX))
			g_ptr_array_add(names, name);
	g_ptr_array_sort(names, compare_names);
	return names;
}

static const AnnotationKey *find_annotation(const char *name, const AnnotationGroup **group)
{
	for (gsize g = 0; g < G_N_ELEMENTS(groups); g++) {
		if (!g_str_has_prefix(name, groups[g].prefix))
			continue;
		*group = &groups[g];
		for (gsize k = 0; k < groups[g].n_keys; k++)
			if (g_str_equal(groups[g].keys[k].suffix, name + strlen(groups[g].prefix)))
				return &groups[g].keys[k];
		return NULL;
	}
	return NULL;
}

/* ---- checks ---------------------------------------------------------------------------- */

/* One enable_annotations entry, matching a whole name: "^(?:entry)$".
 * The entry must compile on its own first: one with a stray parenthesis,
 * "a)|(b", would otherwise close the group early and leave the anchors
 * inside alternatives, "^(?:a)|(b)$", which matches any name that starts
 * with "a" (fuzz-annotations found one that matched every name). And it
 * must be UTF-8. */
static GRegex *compile_entry(const char *entry)
{
	/* GRegex reads patterns as UTF-8: "agent\\..*\xc0" took the ")" after
	 * the stray byte into it and matched every agent name (fuzzing) */
	if (!g_utf8_validate(entry, -1, NULL))
		return NULL;
	GRegex *alone = g_regex_new(entry, 0, 0, NULL);

	if (alone == NULL)
		return NULL;
	g_regex_unref(alone);
	g_autofree char *anchored = g_strdup_printf("^(?:%s)$", entry);
	return g_regex_new(anchored, G_REGEX_DOLLAR_ENDONLY, 0, NULL);
}

/* As Kata: `gated` must match one expression as a whole. An expression
 * that does not compile is an error rather than skipped, so a typo in the
 * configuration cannot quietly disable (or enable) anything; every one is
 * compiled before any is matched, so where the bad one stands in the list
 * does not matter. */
static gboolean check_enabled(const CkConfig *cfg, const char *gated, const char *what, GError **error)
{
	g_autoptr(GPtrArray) res = g_ptr_array_new_with_free_func((GDestroyNotify)g_regex_unref);

	for (char **p = cfg->hypervisor.enable_annotations; p != NULL && *p != NULL; p++) {
		GRegex *re = compile_entry(*p);
		if (re == NULL) {
			g_autofree char *pattern = ck_config_show_value(*p);
			return ck_set_error(error, CK_ERROR_INVALID,
					    "%s: enable_annotations in [hypervisor.qemu]: '%s' is not a valid regular "
					    "expression",
					    what, pattern);
		}
		g_ptr_array_add(res, re);
	}
	for (guint i = 0; i < res->len; i++)
		if (g_regex_match(g_ptr_array_index(res, i), gated, 0, NULL))
			return TRUE;
	return ck_set_error(error, CK_ERROR_INVALID,
			    "%s: not enabled (enable_annotations in [hypervisor.qemu] does not match '%s')", what,
			    gated);
}

/* Values end up on QEMU's and the guest kernel's command lines; refusing
 * control characters here names the annotation rather than the boot. */
static gboolean check_printable(const char *value, const char *what, GError **error)
{
	for (const char *p = value; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			g_autofree char *v = ck_config_show_value(value);
			return ck_set_error(error, CK_ERROR_INVALID, "%s: '%s' contains a control character", what, v);
		}
	}
	return TRUE;
}

/* Kata matches the value against the files its globs find. We match the
 * globs themselves (fnmatch), so the value must be canonical: no "." or
 * ".." component may walk out of an allowed directory, and FNM_PERIOD
 * keeps "*" from matching one. A path that does not exist fails at boot. */
static gboolean check_allowed_path(const CkConfig *cfg, const AnnotationKey *key, const char *value, const char *what,
				   GError **error)
{
	char *const *globs = G_STRUCT_MEMBER(char **, cfg, key->field);
	g_autofree char *canonical = g_canonicalize_filename(value, "/");

	if (!g_path_is_absolute(value))
		return ck_set_error(error, CK_ERROR_INVALID, "%s: '%s' is not an absolute path", what, value);
	if (!g_str_equal(canonical, value))
		return ck_set_error(error, CK_ERROR_INVALID, "%s: '%s' is not a canonical path", what, value);
	for (gsize i = 0; globs != NULL && globs[i] != NULL; i++)
		if (fnmatch(globs[i], value, FNM_PATHNAME | FNM_PERIOD) == 0)
			return TRUE;
	return ck_set_error(error, CK_ERROR_INVALID, "%s: '%s' is not in %s", what, value, key->allow_name);
}

/* ---- values ---------------------------------------------------------------------------- */

static gboolean apply_append(CkConfig *cfg, const AnnotationKey *key, const char *value, const char *what,
			     GError **error)
{
	const char *current = G_STRUCT_MEMBER(const char *, cfg, key->field);
	g_autofree char *added = g_strstrip(g_strdup(value));

	if (*added == '\0')
		return TRUE;
	g_autofree char *joined = *current == '\0' ? g_strdup(added) : g_strconcat(current, " ", added, NULL);
	return ck_config_set_string(cfg, key->key, joined, what, error);
}

static gboolean apply_number(CkConfig *cfg, const AnnotationKey *key, const char *value, const char *what,
			     GError **error)
{
	const char *digits = value[0] == '-' ? value + 1 : value;
	gint64 min, max, n;

	if (!ck_config_key_range(key->key, &min, &max))
		return ck_set_error(error, CK_ERROR_FAILED, "%s: %s is not an integer key", what, key->key);
	/* Strictly decimal: no '+', spaces, 0x or exponent, which strtoll
	 * would partly take. */
	if (*digits == '\0' || strspn(digits, "0123456789") != strlen(digits))
		return ck_set_error(error, CK_ERROR_INVALID, "%s: '%s' is not %s", what, value, key->noun);
	/* Checked against the key's range with the text as written, so that
	 * a value beyond 64 bits reads as out of range like any other. */
	return ck_parse_int64(value, what, min, max, &n, error) && ck_config_set_integer(cfg, key->key, n, what, error);
}

/* Kata: modules separated by ';', each its name and then its parameters.
 * Kept one module per entry, as kernel_modules holds them in the file;
 * empty entries ("a;b;") are skipped. */
static gboolean apply_modules(CkConfig *cfg, const AnnotationKey *key, const char *value, const char *what,
			      GError **error)
{
	g_auto(GStrv) parts = g_strsplit(value, ";", -1);
	g_autoptr(GPtrArray) modules = g_ptr_array_new();

	for (gsize i = 0; parts[i] != NULL; i++) {
		char *module = g_strstrip(parts[i]);
		gsize name_len = strcspn(module, " \t");
		if (*module == '\0')
			continue;
		if (strspn(module, MODULE_NAME_CHARS) != name_len) {
			module[name_len] = '\0';
			return ck_set_error(error, CK_ERROR_INVALID, "%s: '%s' is not a kernel module name", what,
					    module);
		}
		g_ptr_array_add(modules, module);
	}
	g_ptr_array_add(modules, NULL);
	return ck_config_set_strv(cfg, key->key, (const char *const *)modules->pdata, what, error);
}

static gboolean apply_value(CkConfig *cfg, const AnnotationKey *key, const char *value, const char *what,
			    GError **error)
{
	gboolean b;

	switch (key->kind) {
	case VALUE_STRING:
		return ck_config_set_string(cfg, key->key, value, what, error);
	case VALUE_APPEND:
		return apply_append(cfg, key, value, what, error);
	case VALUE_HOST_PATH:
		return check_allowed_path(cfg, key, value, what, error) &&
		       ck_config_set_string(cfg, key->key, value, what, error);
	case VALUE_GUEST_PATH:
		/* The file may say "" (no guest hooks); a pod may not
		 * switch off hooks the operator put in the guest. */
		if (*value == '\0')
			return ck_set_error(error, CK_ERROR_INVALID, "%s: '' is not an absolute path", what);
		return ck_config_set_string(cfg, key->key, value, what, error);
	case VALUE_NUMBER:
		return apply_number(cfg, key, value, what, error);
	case VALUE_BOOL:
		return ck_parse_bool(value, what, TRUE, &b, error) &&
		       ck_config_set_boolean(cfg, key->key, b, what, error);
	case VALUE_MODULES:
		return apply_modules(cfg, key, value, what, error);
	}
	g_assert_not_reached();
}

/* ---- applying -------------------------------------------------------------------------- */

/* `applied` maps each key set so far to the annotation (as shown) that set
 * it: two spellings of one key must not race, and the cross-key checks
 * name the annotations involved. */
static gboolean apply_one(CkConfig *cfg, GHashTable *applied, const char *name, const char *value, GError **error)
{
	const AnnotationGroup *group = NULL;
	const AnnotationKey *key = find_annotation(name, &group);
	g_autofree char *shown = ck_config_show_value(name);
	g_autofree char *what = g_strdup_printf("annotation %s", shown);

	if (key == NULL)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: not supported by conmon-kata", what);
	g_autofree char *gated = g_strconcat(group->gate, key->suffix, NULL);
	if (!check_enabled(cfg, gated, what, error))
		return FALSE;
	const char *other = g_hash_table_lookup(applied, key->key);
	if (other != NULL)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: %s is also set by annotation %s", what, key->key,
				    other);
	if (!check_printable(value, what, error) || !apply_value(cfg, key, value, what, error))
		return FALSE;
	g_hash_table_insert(applied, (gpointer)key->key, g_steal_pointer(&shown));
	return TRUE;
}

static gboolean check_ceilings(const CkConfig *cfg, GHashTable *applied, GError **error)
{
	const char *upper, *lower;

	if (ck_config_check_ceilings(cfg, &upper, &lower, error))
		return TRUE;

	const char *by_upper = g_hash_table_lookup(applied, upper);
	const char *by_lower = g_hash_table_lookup(applied, lower);
	if (by_upper != NULL && by_lower != NULL)
		g_prefix_error(error, "annotations %s and %s: ", by_lower, by_upper);
	else if (by_upper != NULL || by_lower != NULL)
		g_prefix_error(error, "annotation %s: ", by_upper != NULL ? by_upper : by_lower);
	return FALSE;
}

gboolean annotations_apply(CkConfig *cfg, GHashTable *annotations, GError **error)
{
	g_autoptr(GPtrArray) names = kata_names(annotations);

	g_return_val_if_fail(cfg != NULL, FALSE);
	if (names->len == 0)
		return TRUE;

	g_autoptr(CkConfig) work = ck_config_copy(cfg);
	g_autoptr(GHashTable) applied = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	for (guint i = 0; i < names->len; i++) {
		const char *value = g_hash_table_lookup(annotations, names->pdata[i]);
		if (!apply_one(work, applied, names->pdata[i], value != NULL ? value : "", error))
			return FALSE;
	}
	if (!check_ceilings(work, applied, error))
		return FALSE;

	/* Swap the contents: the caller's pointer stays valid and now holds
	 * the result, and the old contents go with `work`. */
	CkConfig old = *cfg;
	*cfg = *work;
	*work = old;
	return TRUE;
}

/* The pod's own annotation, as containerd copies it onto a container. */
static gboolean is_pod_copy(GHashTable *annotations, GHashTable *pod_annotations, const char *name)
{
	const char *pod_value = pod_annotations != NULL ? g_hash_table_lookup(pod_annotations, name) : NULL;

	return pod_value != NULL && g_strcmp0(g_hash_table_lookup(annotations, name), pod_value) == 0;
}

gboolean annotations_check_container(GHashTable *annotations, GHashTable *pod_annotations, GError **error)
{
	g_autoptr(GPtrArray) names = kata_names(annotations);

	for (guint i = 0; i < names->len; i++) {
		const char *name = names->pdata[i];
		if (is_pod_copy(annotations, pod_annotations, name))
			continue;
		g_autofree char *shown = ck_config_show_value(name);
		if (g_str_has_prefix(name, ANNOTATIONS_CONFIG_PREFIX))
			return ck_set_error(error, CK_ERROR_INVALID,
					    "annotation %s: only the pod's sandbox can configure the VM", shown);
		return ck_set_error(error, CK_ERROR_INVALID, "annotation %s: not supported by conmon-kata", shown);
	}
	return TRUE;
}

gboolean annotations_validate(const CkConfig *cfg, gboolean sandbox, GHashTable *annotations,
			      GHashTable *pod_annotations, GError **error)
{
	if (!sandbox)
		return annotations_check_container(annotations, pod_annotations, error);
	g_autoptr(CkConfig) scratch = ck_config_copy(cfg);
	return annotations_apply(scratch, annotations, error);
}
