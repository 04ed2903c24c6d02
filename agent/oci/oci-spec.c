/* oci-spec: config.json parsing and serialisation (see oci-spec.h).
 *
 * Parsing is table-driven: every JSON object of the spec has a CkJsonField
 * table that ck_json_dispatch() applies leniently (the runtime-spec wants
 * unknown properties ignored). Nested objects and arrays of objects are
 * CK_JSON_CUSTOM entries with a small function each; a custom entry at
 * offset 0 receives the whole struct, which is how a sub-object such as
 * process.user fills members of OciProcess. Checks beyond the JSON type
 * (absolute paths, known rlimit and namespace names, duplicates) run right
 * after the object they concern, so each message names its own field.
 * Presence flags (has_*) are read off the object after dispatch; a null
 * value counts as absent, as it does for the Go tools that write most
 * config.json files.
 *
 * Serialising writes the modelled members only, omitting absent ones, so
 * that the output parses back into the same structs.
 */
#include "oci-spec.h"

#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>

#include "base/ck-error.h"
#include "base/ck-json.h"

static const char *const namespace_names[OCI_NS_MAX] = {
    [OCI_NS_PID] = "pid", [OCI_NS_NETWORK] = "network", [OCI_NS_MOUNT] = "mount",   [OCI_NS_IPC] = "ipc",
    [OCI_NS_UTS] = "uts", [OCI_NS_USER] = "user",	[OCI_NS_CGROUP] = "cgroup", [OCI_NS_TIME] = "time",
};

/* as /proc/<pid>/ns/ names them, and the CLONE_NEW* flag of each */
static const char *const namespace_proc_names[OCI_NS_MAX] = {
    [OCI_NS_PID] = "pid", [OCI_NS_NETWORK] = "net", [OCI_NS_MOUNT] = "mnt",	[OCI_NS_IPC] = "ipc",
    [OCI_NS_UTS] = "uts", [OCI_NS_USER] = "user",   [OCI_NS_CGROUP] = "cgroup", [OCI_NS_TIME] = "time",
};

static const int namespace_clone_flags[OCI_NS_MAX] = {
    [OCI_NS_PID] = CLONE_NEWPID,       [OCI_NS_NETWORK] = CLONE_NEWNET, [OCI_NS_MOUNT] = CLONE_NEWNS,
    [OCI_NS_IPC] = CLONE_NEWIPC,       [OCI_NS_UTS] = CLONE_NEWUTS,	[OCI_NS_USER] = CLONE_NEWUSER,
    [OCI_NS_CGROUP] = CLONE_NEWCGROUP, [OCI_NS_TIME] = CLONE_NEWTIME,
};

static const char *const hook_stage_names[OCI_HOOK_MAX] = {
    [OCI_HOOK_PRESTART] = "prestart",
    [OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
    [OCI_HOOK_CREATE_CONTAINER] = "createContainer",
    [OCI_HOOK_START_CONTAINER] = "startContainer",
    [OCI_HOOK_POSTSTART] = "poststart",
    [OCI_HOOK_POSTSTOP] = "poststop",
};

typedef struct {
	const char *name;
	int resource;
} RlimitName;

/* Every rlimit Linux has: the spec requires an error for a type that
 * getrlimit(2) would not accept. */
static const RlimitName rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},		{"RLIMIT_CORE", RLIMIT_CORE},	      {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},	{"RLIMIT_FSIZE", RLIMIT_FSIZE},	      {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},	{"RLIMIT_NPROC", RLIMIT_NPROC},	      {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},	{"RLIMIT_RTTIME", RLIMIT_RTTIME},     {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

typedef struct {
	const char *name;
	gsize offset;
} CapSet;

static const CapSet cap_sets[] = {
    {"bounding", G_STRUCT_OFFSET(OciCapabilities, bounding)},
    {"effective", G_STRUCT_OFFSET(OciCapabilities, effective)},
    {"inheritable", G_STRUCT_OFFSET(OciCapabilities, inheritable)},
    {"permitted", G_STRUCT_OFFSET(OciCapabilities, permitted)},
    {"ambient", G_STRUCT_OFFSET(OciCapabilities, ambient)},
};

/* --- names ------------------------------------------------------------------ */

const char *oci_namespace_type_to_string(OciNamespaceType type)
{
	if ((int)type < 0 || type >= OCI_NS_MAX)
		return "unknown";
	return namespace_names[type];
}

const char *oci_namespace_proc_name(OciNamespaceType type)
{
	if ((int)type < 0 || type >= OCI_NS_MAX)
		return "unknown";
	return namespace_proc_names[type];
}

int oci_namespace_clone_flag(OciNamespaceType type)
{
	if ((int)type < 0 || type >= OCI_NS_MAX)
		return 0;
	return namespace_clone_flags[type];
}

gboolean oci_namespace_type_from_clone_flag(int flag, OciNamespaceType *out)
{
	for (int t = 0; t < OCI_NS_MAX; t++)
		if (namespace_clone_flags[t] == flag) {
			*out = (OciNamespaceType)t;
			return TRUE;
		}
	return FALSE;
}

const char *oci_hook_stage_to_string(OciHookStage stage)
{
	if ((int)stage < 0 || stage >= OCI_HOOK_MAX)
		return "unknown";
	return hook_stage_names[stage];
}

gboolean oci_namespace_type_from_string(const char *s, OciNamespaceType *out)
{
	for (int i = 0; i < OCI_NS_MAX; i++) {
		if (g_strcmp0(s, namespace_names[i]) == 0) {
			*out = (OciNamespaceType)i;
			return TRUE;
		}
	}
	return FALSE;
}

int oci_rlimit_from_string(const char *s)
{
	for (gsize i = 0; i < G_N_ELEMENTS(rlimit_names); i++)
		if (g_strcmp0(s, rlimit_names[i].name) == 0)
			return rlimit_names[i].resource;
	return -1;
}

static const char *rlimit_to_string(int resource)
{
	for (gsize i = 0; i < G_N_ELEMENTS(rlimit_names); i++)
		if (rlimit_names[i].resource == resource)
			return rlimit_names[i].name;
	return NULL;
}

/* --- freeing ---------------------------------------------------------------- */

static GHashTable *string_table_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static void caps_clear(OciCapabilities *c)
{
	for (gsize i = 0; i < G_N_ELEMENTS(cap_sets); i++)
		g_clear_pointer((char ***)((char *)c + cap_sets[i].offset), g_strfreev);
}

static void rlimits_clear(OciProcess *p)
{
	for (gsize i = 0; i < p->n_rlimits; i++)
		g_free(p->rlimits[i].type);
	g_clear_pointer(&p->rlimits, g_free);
	p->n_rlimits = 0;
}

void oci_process_clear(OciProcess *p)
{
	if (p == NULL)
		return;
	g_free(p->additional_gids);
	g_free(p->username);
	g_strfreev(p->args);
	g_free(p->command_line);
	g_strfreev(p->env);
	g_free(p->cwd);
	caps_clear(&p->caps);
	rlimits_clear(p);
	g_free(p->apparmor_profile);
	g_free(p->selinux_label);
	memset(p, 0, sizeof *p);
}

void oci_resources_init(OciResources *r)
{
	memset(r, 0, sizeof *r);
	/* 0 is a valid swappiness, so absence needs its own value */
	r->memory_swappiness = -1;
}

void oci_resources_clear(OciResources *r)
{
	if (r == NULL)
		return;
	g_free(r->cpu_cpus);
	g_free(r->cpu_mems);
	if (r->unified != NULL)
		g_hash_table_unref(r->unified);
	oci_resources_init(r);
}

static void mounts_clear(OciSpec *s)
{
	for (gsize i = 0; i < s->n_mounts; i++) {
		g_free(s->mounts[i].destination);
		g_free(s->mounts[i].type);
		g_free(s->mounts[i].source);
		g_strfreev(s->mounts[i].options);
	}
	g_clear_pointer(&s->mounts, g_free);
	s->n_mounts = 0;
}

void oci_hook_list_clear(OciHookList *l)
{
	for (gsize i = 0; i < l->n_hooks; i++) {
		g_free(l->hooks[i].path);
		g_strfreev(l->hooks[i].args);
		g_strfreev(l->hooks[i].env);
	}
	g_clear_pointer(&l->hooks, g_free);
	l->n_hooks = 0;
}

static void namespaces_clear(OciSpec *s)
{
	for (gsize i = 0; i < s->n_namespaces; i++)
		g_free(s->namespaces[i].path);
	g_clear_pointer(&s->namespaces, g_free);
	s->n_namespaces = 0;
}

void oci_spec_free(OciSpec *s)
{
	if (s == NULL)
		return;
	g_free(s->oci_version);
	g_free(s->root_path);
	g_free(s->hostname);
	g_free(s->domainname);
	oci_process_clear(&s->process);
	mounts_clear(s);
	for (int i = 0; i < OCI_HOOK_MAX; i++)
		oci_hook_list_clear(&s->hooks[i]);
	g_clear_pointer(&s->annotations, g_hash_table_unref);
	namespaces_clear(s);
	g_free(s->uid_mappings);
	g_free(s->gid_mappings);
	g_clear_pointer(&s->sysctl, g_hash_table_unref);
	oci_resources_clear(&s->resources);
	g_free(s->cgroups_path);
	g_strfreev(s->masked_paths);
	g_strfreev(s->readonly_paths);
	g_free(s->rootfs_propagation);
	g_free(s->mount_label);
	if (s->tree != NULL)
		yajl_tree_free(s->tree);
	g_free(s);
}

/* --- parsing helpers -------------------------------------------------------- */

/* Same wording as ck_json_dispatch's own type errors. */
static gboolean type_error(const char *path, const char *expected, yajl_val v, GError **error)
{
	return ck_set_error(error, CK_ERROR_INVALID, "%s: expected %s, got %s", path, expected, ck_json_type_name(v));
}

static gboolean present(yajl_val obj, const char *key)
{
	yajl_val v = ck_json_get(obj, key);

	return v != NULL && !YAJL_IS_NULL(v);
}

/* NULL passes: required members are enforced by their dispatch flags. */
static gboolean check_absolute(const char *value, const char *path, const char *key, GError **error)
{
	if (value == NULL || value[0] == '/')
		return TRUE;
	g_autofree char *p = ck_json_path_key(path, key);
	return ck_set_error(error, CK_ERROR_INVALID, "%s: must be an absolute path", p);
}

/* "May be empty" vectors are never NULL after parsing, so users can walk
 * them without a check. */
static void ensure_strv(char ***v)
{
	if (*v == NULL)
		*v = g_new0(char *, 1);
}

/* A required member given as null is reported missing rather than as a
 * type error: null means absent throughout. */
#define REQUIRED (CK_JSON_REQUIRED | CK_JSON_NULLABLE)

typedef gboolean (*ElemFunc)(yajl_val v, const char *path, gpointer elem, GError **error);

/* Parses an array of objects into a zeroed C array of n elements. *out
 * and *out_n are set before the elements are parsed, so on failure the
 * owner's clear function releases whatever was filled in. */
static gboolean parse_array(yajl_val v, const char *path, gsize size, ElemFunc fn, gpointer *out, gsize *out_n,
			    GError **error)
{
	if (!YAJL_IS_ARRAY(v))
		return type_error(path, "an array", v, error);

	gsize len = v->u.array.len;
	char *arr = len > 0 ? g_malloc0_n(len, size) : NULL;
	*out = arr;
	*out_n = 0;
	for (gsize i = 0; i < len; i++) {
		g_autofree char *p = ck_json_path_index(path, i);
		*out_n = i + 1;
		if (!fn(v->u.array.values[i], p, arr + i * size, error))
			return FALSE;
	}
	return TRUE;
}

/* CK_JSON_CUSTOM for a GHashTable ** of string -> string; later keys
 * replace earlier ones. */
static gboolean parse_string_map(yajl_val v, const char *path, gpointer field, GError **error)
{
	GHashTable **table = field;

	if (!YAJL_IS_OBJECT(v))
		return type_error(path, "an object", v, error);
	if (*table == NULL)
		*table = string_table_new();
	for (gsize i = 0; i < v->u.object.len; i++) {
		yajl_val val = v->u.object.values[i];
		if (!YAJL_IS_STRING(val)) {
			g_autofree char *p = ck_json_path_key(path, v->u.object.keys[i]);
			return type_error(p, "a string", val, error);
		}
		g_hash_table_replace(*table, g_strdup(v->u.object.keys[i]), g_strdup(val->u.string));
	}
	return TRUE;
}

/* --- process ---------------------------------------------------------------- */

static gboolean parse_additional_gids(yajl_val v, const char *path, gpointer field, GError **error)
{
	OciProcess *p = field;

	if (!YAJL_IS_ARRAY(v))
		return type_error(path, "an array", v, error);
	g_clear_pointer(&p->additional_gids, g_free);
	p->n_additional_gids = 0;
	p->additional_gids = g_new0(guint32, v->u.array.len + 1);
	for (gsize i = 0; i < v->u.array.len; i++) {
		g_autofree char *e = ck_json_path_index(path, i);
		gint64 gid;
		if (!ck_json_as_int64(v->u.array.values[i], &gid))
			return type_error(e, "an integer", v->u.array.values[i], error);
		if (gid < 0 || gid > G_MAXUINT32)
			return ck_set_error(error, CK_ERROR_INVALID, "%s: %" G_GINT64_FORMAT " is out of range", e,
					    gid);
		p->additional_gids[p->n_additional_gids++] = (guint32)gid;
	}
	return TRUE;
}

static const CkJsonField user_fields[] = {
    {"uid", CK_JSON_UINT32, G_STRUCT_OFFSET(OciProcess, uid), CK_JSON_NULLABLE},
    {"gid", CK_JSON_UINT32, G_STRUCT_OFFSET(OciProcess, gid), CK_JSON_NULLABLE},
    {"umask", CK_JSON_UINT32, G_STRUCT_OFFSET(OciProcess, umask), CK_JSON_NULLABLE},
    {"additionalGids", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_additional_gids},
    {"username", CK_JSON_STRING, G_STRUCT_OFFSET(OciProcess, username), CK_JSON_NULLABLE},
    {NULL},
};

static gboolean parse_user(yajl_val v, const char *path, gpointer field, GError **error)
{
	OciProcess *p = field;

	if (!ck_json_dispatch(v, user_fields, p, path, CK_JSON_LENIENT, error))
		return FALSE;
	p->has_umask = present(v, "umask");
	return TRUE;
}

static const CkJsonField console_fields[] = {
    {"height", CK_JSON_UINT32, G_STRUCT_OFFSET(OciProcess, console_height), REQUIRED},
    {"width", CK_JSON_UINT32, G_STRUCT_OFFSET(OciProcess, console_width), REQUIRED},
    {NULL},
};

static gboolean parse_console_size(yajl_val v, const char *path, gpointer field, GError **error)
{
	return ck_json_dispatch(v, console_fields, field, path, CK_JSON_LENIENT, error);
}

static const CkJsonField caps_fields[] = {
    {"bounding", CK_JSON_STRV, G_STRUCT_OFFSET(OciCapabilities, bounding), CK_JSON_NULLABLE},
    {"effective", CK_JSON_STRV, G_STRUCT_OFFSET(OciCapabilities, effective), CK_JSON_NULLABLE},
    {"inheritable", CK_JSON_STRV, G_STRUCT_OFFSET(OciCapabilities, inheritable), CK_JSON_NULLABLE},
    {"permitted", CK_JSON_STRV, G_STRUCT_OFFSET(OciCapabilities, permitted), CK_JSON_NULLABLE},
    {"ambient", CK_JSON_STRV, G_STRUCT_OFFSET(OciCapabilities, ambient), CK_JSON_NULLABLE},
    {NULL},
};

static gboolean parse_caps(yajl_val v, const char *path, gpointer field, GError **error)
{
	OciProcess *p = field;

	p->has_caps = TRUE;
	return ck_json_dispatch(v, caps_fields, &p->caps, path, CK_JSON_LENIENT, error);
}

static gboolean parse_rlimit_type(yajl_val v, const char *path, gpointer field, GError **error)
{
	OciRlimit *r = field;

	if (!YAJL_IS_STRING(v))
		return type_error(path, "a string", v, error);
	g_free(r->type);
	r->type = g_strdup(v->u.string);
	r->resource = oci_rlimit_from_string(r->type);
	if (r->resource < 0)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: unknown rlimit '%s'", path, r->type);
	return TRUE;
}

/* soft > hard is not rejected: like runc, let setrlimit(2) decide. */
static const CkJsonField rlimit_fields[] = {
    {"type", CK_JSON_CUSTOM, 0, REQUIRED, 0, 0, parse_rlimit_type},
    {"hard", CK_JSON_UINT64, G_STRUCT_OFFSET(OciRlimit, hard), REQUIRED},
    {"soft", CK_JSON_UINT64, G_STRUCT_OFFSET(OciRlimit, soft), REQUIRED},
    {NULL},
};

static gboolean parse_rlimit(yajl_val v, const char *path, gpointer elem, GError **error)
{
	((OciRlimit *)elem)->resource = -1;
	return ck_json_dispatch(v, rlimit_fields, elem, path, CK_JSON_LENIENT, error);
}

static gboolean parse_rlimits(yajl_val v, const char *path, gpointer field, GError **error)
{
	OciProcess *p = field;
	gpointer arr = NULL;

	rlimits_clear(p);
	gboolean ok = parse_array(v, path, sizeof(OciRlimit), parse_rlimit, &arr, &p->n_rlimits, error);
	p->rlimits = arr;
	if (!ok)
		return FALSE;
	/* the runtime-spec requires an error for repeated types */
	for (gsize i = 0; i < p->n_rlimits; i++)
		for (gsize j = 0; j < i; j++)
			if (p->rlimits[i].resource == p->rlimits[j].resource)
				return ck_set_error(error, CK_ERROR_INVALID, "%s: duplicate rlimit '%s'", path,
						    p->rlimits[i].type);
	return TRUE;
}

static const CkJsonField process_fields[] = {
    {"terminal", CK_JSON_BOOL, G_STRUCT_OFFSET(OciProcess, terminal), CK_JSON_NULLABLE},
    {"consoleSize", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_console_size},
    {"user", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_user},
    {"args", CK_JSON_STRV, G_STRUCT_OFFSET(OciProcess, args), REQUIRED},
    {"commandLine", CK_JSON_STRING, G_STRUCT_OFFSET(OciProcess, command_line), CK_JSON_NULLABLE},
    {"env", CK_JSON_STRV, G_STRUCT_OFFSET(OciProcess, env), CK_JSON_NULLABLE},
    {"cwd", CK_JSON_STRING, G_STRUCT_OFFSET(OciProcess, cwd), REQUIRED},
    {"capabilities", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_caps},
    {"rlimits", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_rlimits},
    {"noNewPrivileges", CK_JSON_BOOL, G_STRUCT_OFFSET(OciProcess, no_new_privileges), CK_JSON_NULLABLE},
    {"oomScoreAdj", CK_JSON_INT, G_STRUCT_OFFSET(OciProcess, oom_score_adj), CK_JSON_NULLABLE, -1000, 1000, NULL},
    {"apparmorProfile", CK_JSON_STRING, G_STRUCT_OFFSET(OciProcess, apparmor_profile), CK_JSON_NULLABLE},
    {"selinuxLabel", CK_JSON_STRING, G_STRUCT_OFFSET(OciProcess, selinux_label), CK_JSON_NULLABLE},
    {NULL},
};

gboolean oci_process_parse(yajl_val obj, const char *path, OciProcess *out, GError **error)
{
	if (!ck_json_dispatch(obj, process_fields, out, path, CK_JSON_LENIENT, error))
		return FALSE;
	out->has_oom_score_adj = present(obj, "oomScoreAdj");
	ensure_strv(&out->env);
	/* runc refuses both before creating anything; so do we */
	if (out->args[0] == NULL) {
		g_autofree char *p = ck_json_path_key(path, "args");
		return ck_set_error(error, CK_ERROR_INVALID, "%s: must not be empty", p);
	}
	return check_absolute(out->cwd, path, "cwd", error);
}

/* --- resources -------------------------------------------------------------- */

/* uint64 in the spec, kept in a gint64 so that -1 can mean absent */
static gboolean parse_swappiness(yajl_val v, const char *path, gpointer field, GError **error)
{
	gint64 s;

	if (!ck_json_as_int64(v, &s))
		return type_error(path, "a non-negative integer", v, error);
	if (s < 0)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: %" G_GINT64_FORMAT " is out of range", path, s);
	((OciResources *)field)->memory_swappiness = s;
	return TRUE;
}

static const CkJsonField memory_fields[] = {
    {"limit", CK_JSON_INT64, G_STRUCT_OFFSET(OciResources, memory_limit), CK_JSON_NULLABLE},
    {"reservation", CK_JSON_INT64, G_STRUCT_OFFSET(OciResources, memory_reservation), CK_JSON_NULLABLE},
    {"swap", CK_JSON_INT64, G_STRUCT_OFFSET(OciResources, memory_swap), CK_JSON_NULLABLE},
    {"swappiness", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_swappiness},
    {"disableOOMKiller", CK_JSON_BOOL, G_STRUCT_OFFSET(OciResources, disable_oom_killer), CK_JSON_NULLABLE},
    {NULL},
};

static gboolean parse_memory(yajl_val v, const char *path, gpointer field, GError **error)
{
	OciResources *r = field;

	if (!ck_json_dispatch(v, memory_fields, r, path, CK_JSON_LENIENT, error))
		return FALSE;
	r->has_disable_oom_killer = r->has_disable_oom_killer || present(v, "disableOOMKiller");
	return TRUE;
}

static const CkJsonField cpu_fields[] = {
    {"shares", CK_JSON_UINT64, G_STRUCT_OFFSET(OciResources, cpu_shares), CK_JSON_NULLABLE},
    {"quota", CK_JSON_INT64, G_STRUCT_OFFSET(OciResources, cpu_quota), CK_JSON_NULLABLE},
    {"period", CK_JSON_UINT64, G_STRUCT_OFFSET(OciResources, cpu_period), CK_JSON_NULLABLE},
    {"cpus", CK_JSON_STRING, G_STRUCT_OFFSET(OciResources, cpu_cpus), CK_JSON_NULLABLE},
    {"mems", CK_JSON_STRING, G_STRUCT_OFFSET(OciResources, cpu_mems), CK_JSON_NULLABLE},
    {NULL},
};

static gboolean parse_cpu(yajl_val v, const char *path, gpointer field, GError **error)
{
	return ck_json_dispatch(v, cpu_fields, field, path, CK_JSON_LENIENT, error);
}

static const CkJsonField pids_fields[] = {
    {"limit", CK_JSON_INT64, G_STRUCT_OFFSET(OciResources, pids_limit), CK_JSON_NULLABLE},
    {NULL},
};

static gboolean parse_pids(yajl_val v, const char *path, gpointer field, GError **error)
{
	OciResources *r = field;

	if (!ck_json_dispatch(v, pids_fields, r, path, CK_JSON_LENIENT, error))
		return FALSE;
	r->has_pids_limit = r->has_pids_limit || present(v, "limit");
	return TRUE;
}

/* devices, hugepageLimits, blockIO, network, rdma are not modelled: the
 * guest has none of the host's devices and no use for the rest. */
static const CkJsonField resources_fields[] = {
    {"memory", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_memory},
    {"cpu", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_cpu},
    {"pids", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_pids},
    {"unified", CK_JSON_CUSTOM, G_STRUCT_OFFSET(OciResources, unified), CK_JSON_NULLABLE, 0, 0, parse_string_map},
    {NULL},
};

gboolean oci_resources_parse(yajl_val obj, const char *path, OciResources *out, GError **error)
{
	return ck_json_dispatch(obj, resources_fields, out, path, CK_JSON_LENIENT, error);
}

/* --- mounts, hooks ---------------------------------------------------------- */

static const CkJsonField mount_fields[] = {
    {"destination", CK_JSON_STRING, G_STRUCT_OFFSET(OciMount, destination), REQUIRED},
    {"type", CK_JSON_STRING, G_STRUCT_OFFSET(OciMount, type), CK_JSON_NULLABLE},
    {"source", CK_JSON_STRING, G_STRUCT_OFFSET(OciMount, source), CK_JSON_NULLABLE},
    {"options", CK_JSON_STRV, G_STRUCT_OFFSET(OciMount, options), CK_JSON_NULLABLE},
    {NULL},
};

static gboolean parse_mount(yajl_val v, const char *path, gpointer elem, GError **error)
{
	OciMount *m = elem;

	if (!ck_json_dispatch(v, mount_fields, m, path, CK_JSON_LENIENT, error))
		return FALSE;
	ensure_strv(&m->options);
	return check_absolute(m->destination, path, "destination", error);
}

static gboolean parse_mounts(yajl_val v, const char *path, gpointer field, GError **error)
{
	OciSpec *s = field;
	gpointer arr = NULL;

	mounts_clear(s);
	gboolean ok = parse_array(v, path, sizeof(OciMount), parse_mount, &arr, &s->n_mounts, error);
	s->mounts = arr;
	return ok;
}

static gboolean parse_hook_timeout(yajl_val v, const char *path, gpointer field, GError **error)
{
	OciHook *h = field;
	gint64 t;

	if (!ck_json_as_int64(v, &t))
		return type_error(path, "an integer", v, error);
	if (t <= 0)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: must be greater than zero", path);
	if (t > INT_MAX)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: %" G_GINT64_FORMAT " is out of range", path, t);
	h->has_timeout = TRUE;
	h->timeout = (int)t;
	return TRUE;
}

static const CkJsonField hook_fields[] = {
    {"path", CK_JSON_STRING, G_STRUCT_OFFSET(OciHook, path), REQUIRED},
    {"args", CK_JSON_STRV, G_STRUCT_OFFSET(OciHook, args), CK_JSON_NULLABLE},
    {"env", CK_JSON_STRV, G_STRUCT_OFFSET(OciHook, env), CK_JSON_NULLABLE},
    {"timeout", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_hook_timeout},
    {NULL},
};

static gboolean parse_hook(yajl_val v, const char *path, gpointer elem, GError **error)
{
	OciHook *h = elem;

	if (!ck_json_dispatch(v, hook_fields, h, path, CK_JSON_LENIENT, error))
		return FALSE;
	return check_absolute(h->path, path, "path", error);
}

static gboolean parse_hook_list(yajl_val v, const char *path, gpointer field, GError **error)
{
	OciHookList *l = field;
	gpointer arr = NULL;

	oci_hook_list_clear(l);
	gboolean ok = parse_array(v, path, sizeof(OciHook), parse_hook, &arr, &l->n_hooks, error);
	l->hooks = arr;
	return ok;
}

#define HOOK_OFFSET(stage) (G_STRUCT_OFFSET(OciSpec, hooks) + (stage) * sizeof(OciHookList))
static const CkJsonField hooks_fields[] = {
    {"prestart", CK_JSON_CUSTOM, HOOK_OFFSET(OCI_HOOK_PRESTART), CK_JSON_NULLABLE, 0, 0, parse_hook_list},
    {"createRuntime", CK_JSON_CUSTOM, HOOK_OFFSET(OCI_HOOK_CREATE_RUNTIME), CK_JSON_NULLABLE, 0, 0, parse_hook_list},
    {"createContainer", CK_JSON_CUSTOM, HOOK_OFFSET(OCI_HOOK_CREATE_CONTAINER), CK_JSON_NULLABLE, 0, 0,
     parse_hook_list},
    {"startContainer", CK_JSON_CUSTOM, HOOK_OFFSET(OCI_HOOK_START_CONTAINER), CK_JSON_NULLABLE, 0, 0, parse_hook_list},
    {"poststart", CK_JSON_CUSTOM, HOOK_OFFSET(OCI_HOOK_POSTSTART), CK_JSON_NULLABLE, 0, 0, parse_hook_list},
    {"poststop", CK_JSON_CUSTOM, HOOK_OFFSET(OCI_HOOK_POSTSTOP), CK_JSON_NULLABLE, 0, 0, parse_hook_list},
    {NULL},
};
#undef HOOK_OFFSET

static gboolean parse_hooks(yajl_val v, const char *path, gpointer field, GError **error)
{
	return ck_json_dispatch(v, hooks_fields, field, path, CK_JSON_LENIENT, error);
}

/* --- linux ------------------------------------------------------------------ */

static gboolean parse_namespace_type(yajl_val v, const char *path, gpointer field, GError **error)
{
	if (!YAJL_IS_STRING(v))
		return type_error(path, "a string", v, error);
	if (!oci_namespace_type_from_string(v->u.string, field))
		return ck_set_error(error, CK_ERROR_INVALID, "%s: unknown namespace type '%s'", path, v->u.string);
	return TRUE;
}

static const CkJsonField namespace_fields[] = {
    {"type", CK_JSON_CUSTOM, G_STRUCT_OFFSET(OciNamespace, type), REQUIRED, 0, 0, parse_namespace_type},
    {"path", CK_JSON_STRING, G_STRUCT_OFFSET(OciNamespace, path), CK_JSON_NULLABLE},
    {NULL},
};

static gboolean parse_namespace(yajl_val v, const char *path, gpointer elem, GError **error)
{
	return ck_json_dispatch(v, namespace_fields, elem, path, CK_JSON_LENIENT, error);
}

static gboolean parse_namespaces(yajl_val v, const char *path, gpointer field, GError **error)
{
	OciSpec *s = field;
	gpointer arr = NULL;
	guint seen = 0;

	namespaces_clear(s);
	gboolean ok = parse_array(v, path, sizeof(OciNamespace), parse_namespace, &arr, &s->n_namespaces, error);
	s->namespaces = arr;
	if (!ok)
		return FALSE;
	for (gsize i = 0; i < s->n_namespaces; i++) {
		guint bit = 1u << s->namespaces[i].type;
		if (seen & bit)
			return ck_set_error(error, CK_ERROR_INVALID, "%s: duplicate namespace type '%s'", path,
					    oci_namespace_type_to_string(s->namespaces[i].type));
		seen |= bit;
	}
	return TRUE;
}

static const CkJsonField id_mapping_fields[] = {
    {"containerID", CK_JSON_UINT32, G_STRUCT_OFFSET(OciIdMapping, container_id), REQUIRED},
    {"hostID", CK_JSON_UINT32, G_STRUCT_OFFSET(OciIdMapping, host_id), REQUIRED},
    {"size", CK_JSON_UINT32, G_STRUCT_OFFSET(OciIdMapping, size), REQUIRED},
    {NULL},
};

static gboolean parse_id_mapping(yajl_val v, const char *path, gpointer elem, GError **error)
{
	return ck_json_dispatch(v, id_mapping_fields, elem, path, CK_JSON_LENIENT, error);
}

/* The mappings own no strings, so a plain g_free releases them. */
static gboolean parse_id_mappings(yajl_val v, const char *path, OciIdMapping **out, gsize *out_n, GError **error)
{
	gpointer arr = NULL;

	g_clear_pointer(out, g_free);
	gboolean ok = parse_array(v, path, sizeof(OciIdMapping), parse_id_mapping, &arr, out_n, error);
	*out = arr;
	return ok;
}

static gboolean parse_uid_mappings(yajl_val v, const char *path, gpointer field, GError **error)
{
	OciSpec *s = field;

	return parse_id_mappings(v, path, &s->uid_mappings, &s->n_uid_mappings, error);
}

static gboolean parse_gid_mappings(yajl_val v, const char *path, gpointer field, GError **error)
{
	OciSpec *s = field;

	return parse_id_mappings(v, path, &s->gid_mappings, &s->n_gid_mappings, error);
}

/* --- linux.devices ------------------------------------------------------ */

static gboolean parse_device_type(yajl_val v, const char *path, gpointer field, GError **error)
{
	if (!YAJL_IS_STRING(v))
		return type_error(path, "a string", v, error);
	if (strlen(v->u.string) != 1 || strchr("cubp", v->u.string[0]) == NULL)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: unknown device type '%s'", path, v->u.string);
	*(char *)field = v->u.string[0];
	return TRUE;
}

static const CkJsonField device_fields[] = {
    {"path", CK_JSON_STRING, G_STRUCT_OFFSET(OciDevice, path), REQUIRED},
    {"type", CK_JSON_CUSTOM, G_STRUCT_OFFSET(OciDevice, type), REQUIRED, 0, 0, parse_device_type},
    {"major", CK_JSON_INT64, G_STRUCT_OFFSET(OciDevice, major), CK_JSON_NULLABLE},
    {"minor", CK_JSON_INT64, G_STRUCT_OFFSET(OciDevice, minor), CK_JSON_NULLABLE},
    {"fileMode", CK_JSON_UINT32, G_STRUCT_OFFSET(OciDevice, file_mode), CK_JSON_NULLABLE},
    {"uid", CK_JSON_UINT32, G_STRUCT_OFFSET(OciDevice, uid), CK_JSON_NULLABLE},
    {"gid", CK_JSON_UINT32, G_STRUCT_OFFSET(OciDevice, gid), CK_JSON_NULLABLE},
    {NULL},
};

/* major and minor as dev_t holds them (makedev: 32 bits each). */
static gboolean check_device_number(yajl_val obj, const char *path, const char *key, gint64 value, gboolean needed,
				    GError **error)
{
	g_autofree char *p = ck_json_path_key(path, key);

	if (needed && !present(obj, key))
		return ck_set_error(error, CK_ERROR_INVALID, "%s: required for this device type", p);
	if (value < 0 || value > G_MAXUINT32)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: %" G_GINT64_FORMAT " is out of range", p, value);
	return TRUE;
}

static gboolean parse_device(yajl_val v, const char *path, gpointer elem, GError **error)
{
	OciDevice *d = elem;

	d->file_mode = 0666;
	if (!ck_json_dispatch(v, device_fields, d, path, CK_JSON_LENIENT, error) ||
	    !check_absolute(d->path, path, "path", error))
		return FALSE;
	/* runc drops the file-type bits a caller may have copied from stat() */
	d->file_mode &= 07777;
	gboolean numbered = d->type != 'p';
	return check_device_number(v, path, "major", d->major, numbered, error) &&
	       check_device_number(v, path, "minor", d->minor, numbered, error);
}

gboolean oci_devices_parse(yajl_val devices, const char *path, OciDevice **out, gsize *out_n, GError **error)
{
	gpointer arr = NULL;

	*out = NULL;
	*out_n = 0;
	if (devices == NULL)
		return TRUE;
	gboolean ok = parse_array(devices, path, sizeof(OciDevice), parse_device, &arr, out_n, error);
	*out = arr;
	return ok;
}

void oci_devices_free(OciDevice *devices, gsize n)
{
	for (gsize i = 0; i < n; i++)
		g_free(devices[i].path);
	g_free(devices);
}

static gboolean parse_spec_resources(yajl_val v, const char *path, gpointer field, GError **error)
{
	OciSpec *s = field;

	s->has_resources = TRUE;
	return oci_resources_parse(v, path, &s->resources, error);
}

static const CkJsonField linux_fields[] = {
    {"namespaces", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_namespaces},
    {"uidMappings", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_uid_mappings},
    {"gidMappings", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_gid_mappings},
    {"sysctl", CK_JSON_CUSTOM, G_STRUCT_OFFSET(OciSpec, sysctl), CK_JSON_NULLABLE, 0, 0, parse_string_map},
    {"resources", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_spec_resources},
    {"cgroupsPath", CK_JSON_STRING, G_STRUCT_OFFSET(OciSpec, cgroups_path), CK_JSON_NULLABLE},
    {"maskedPaths", CK_JSON_STRV, G_STRUCT_OFFSET(OciSpec, masked_paths), CK_JSON_NULLABLE},
    {"readonlyPaths", CK_JSON_STRV, G_STRUCT_OFFSET(OciSpec, readonly_paths), CK_JSON_NULLABLE},
    {"rootfsPropagation", CK_JSON_STRING, G_STRUCT_OFFSET(OciSpec, rootfs_propagation), CK_JSON_NULLABLE},
    {"mountLabel", CK_JSON_STRING, G_STRUCT_OFFSET(OciSpec, mount_label), CK_JSON_NULLABLE},
    {"seccomp", CK_JSON_OBJECT, G_STRUCT_OFFSET(OciSpec, seccomp), CK_JSON_NULLABLE},
    {"devices", CK_JSON_ARRAY, G_STRUCT_OFFSET(OciSpec, devices), CK_JSON_NULLABLE},
    {NULL},
};

static gboolean parse_linux(yajl_val v, const char *path, gpointer field, GError **error)
{
	return ck_json_dispatch(v, linux_fields, field, path, CK_JSON_LENIENT, error);
}

/* --- the document ----------------------------------------------------------- */

static const CkJsonField root_fields[] = {
    {"path", CK_JSON_STRING, G_STRUCT_OFFSET(OciSpec, root_path), REQUIRED},
    {"readonly", CK_JSON_BOOL, G_STRUCT_OFFSET(OciSpec, root_readonly), CK_JSON_NULLABLE},
    {NULL},
};

static gboolean parse_root(yajl_val v, const char *path, gpointer field, GError **error)
{
	return ck_json_dispatch(v, root_fields, field, path, CK_JSON_LENIENT, error);
}

static gboolean parse_spec_process(yajl_val v, const char *path, gpointer field, GError **error)
{
	OciSpec *s = field;

	s->has_process = TRUE;
	return oci_process_parse(v, path, &s->process, error);
}

static const CkJsonField spec_fields[] = {
    {"ociVersion", CK_JSON_STRING, G_STRUCT_OFFSET(OciSpec, oci_version), REQUIRED},
    {"root", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_root},
    {"hostname", CK_JSON_STRING, G_STRUCT_OFFSET(OciSpec, hostname), CK_JSON_NULLABLE},
    {"domainname", CK_JSON_STRING, G_STRUCT_OFFSET(OciSpec, domainname), CK_JSON_NULLABLE},
    {"process", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_spec_process},
    {"mounts", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_mounts},
    {"hooks", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_hooks},
    {"annotations", CK_JSON_CUSTOM, G_STRUCT_OFFSET(OciSpec, annotations), CK_JSON_NULLABLE, 0, 0, parse_string_map},
    {"linux", CK_JSON_CUSTOM, 0, CK_JSON_NULLABLE, 0, 0, parse_linux},
    {NULL},
};

/* Takes ownership of tree, also on failure. Field messages get `what` in
 * front only when prefix_fields is set. */
static OciSpec *spec_from_tree(yajl_val tree, const char *what, gboolean prefix_fields, GError **error)
{
	g_autoptr(OciSpec) s = g_new0(OciSpec, 1);

	s->tree = tree;
	s->annotations = string_table_new();
	s->sysctl = string_table_new();
	oci_resources_init(&s->resources);
	if (!YAJL_IS_OBJECT(tree))
		return type_error(what, "an object", tree, error), NULL;
	if (!ck_json_dispatch(tree, spec_fields, s, "", CK_JSON_LENIENT, error)) {
		if (prefix_fields)
			g_prefix_error(error, "%s: ", what);
		return NULL;
	}
	ensure_strv(&s->masked_paths);
	ensure_strv(&s->readonly_paths);
	return g_steal_pointer(&s);
}

OciSpec *oci_spec_parse(const char *data, gsize len, const char *what, GError **error)
{
	yajl_val tree = ck_json_parse(data, len, what, error);

	if (tree == NULL)
		return NULL;
	return spec_from_tree(tree, what, FALSE, error);
}

OciSpec *oci_spec_from_tree(yajl_val tree, const char *what, GError **error)
{
	return spec_from_tree(tree, what, FALSE, error);
}

OciSpec *oci_spec_load_file(const char *path, GError **error)
{
	yajl_val tree = ck_json_parse_file(path, OCI_SPEC_MAX_SIZE, error);

	if (tree == NULL)
		return NULL;
	/* the read and JSON errors name the file; field errors should too */
	return spec_from_tree(tree, path, TRUE, error);
}

const OciNamespace *oci_spec_find_namespace(const OciSpec *spec, OciNamespaceType type)
{
	for (gsize i = 0; i < spec->n_namespaces; i++)
		if (spec->namespaces[i].type == type)
			return &spec->namespaces[i];
	return NULL;
}

const char *oci_spec_annotation(const OciSpec *spec, const char *key)
{
	if (spec->annotations == NULL)
		return NULL;
	return g_hash_table_lookup(spec->annotations, key);
}

/* --- serialising ------------------------------------------------------------ */

static void kv_opt_string(CkJsonGen *g, const char *key, const char *s)
{
	if (s != NULL)
		ck_json_kv_string(g, key, s);
}

static void kv_strv(CkJsonGen *g, const char *key, char **strv)
{
	ck_json_key(g, key);
	ck_json_strv(g, (const char *const *)strv);
}

static void kv_uint64(CkJsonGen *g, const char *key, guint64 v)
{
	ck_json_key(g, key);
	ck_json_uint64(g, v);
}

static gint compare_keys(gconstpointer a, gconstpointer b, gpointer data)
{
	(void)data;
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Keys sorted, so that the same spec always gives the same bytes. */
static void gen_string_map(CkJsonGen *g, const char *key, GHashTable *table)
{
	guint n = 0;
	g_autofree const char **keys = NULL;

	if (table == NULL)
		return;
	keys = (const char **)g_hash_table_get_keys_as_array(table, &n);
	g_qsort_with_data(keys, (gint)n, sizeof *keys, compare_keys, NULL);
	ck_json_key(g, key);
	ck_json_map_open(g);
	for (guint i = 0; i < n; i++)
		ck_json_kv_string(g, keys[i], g_hash_table_lookup(table, keys[i]));
	ck_json_map_close(g);
}

static void gen_user(CkJsonGen *g, const OciProcess *p)
{
	ck_json_key(g, "user");
	ck_json_map_open(g);
	ck_json_kv_int(g, "uid", p->uid);
	ck_json_kv_int(g, "gid", p->gid);
	if (p->has_umask)
		ck_json_kv_int(g, "umask", p->umask);
	if (p->n_additional_gids > 0) {
		ck_json_key(g, "additionalGids");
		ck_json_array_open(g);
		for (gsize i = 0; i < p->n_additional_gids; i++)
			ck_json_int(g, p->additional_gids[i]);
		ck_json_array_close(g);
	}
	kv_opt_string(g, "username", p->username);
	ck_json_map_close(g);
}

static void gen_caps(CkJsonGen *g, const OciCapabilities *caps)
{
	ck_json_key(g, "capabilities");
	ck_json_map_open(g);
	for (gsize i = 0; i < G_N_ELEMENTS(cap_sets); i++) {
		char **set = *(char ***)((const char *)caps + cap_sets[i].offset);
		if (set != NULL)
			kv_strv(g, cap_sets[i].name, set);
	}
	ck_json_map_close(g);
}

static void gen_rlimits(CkJsonGen *g, const OciProcess *p)
{
	ck_json_key(g, "rlimits");
	ck_json_array_open(g);
	for (gsize i = 0; i < p->n_rlimits; i++) {
		const OciRlimit *r = &p->rlimits[i];
		ck_json_map_open(g);
		/* code that builds a spec may set only the resource */
		ck_json_kv_string(g, "type", r->type ? r->type : rlimit_to_string(r->resource));
		kv_uint64(g, "hard", r->hard);
		kv_uint64(g, "soft", r->soft);
		ck_json_map_close(g);
	}
	ck_json_array_close(g);
}

static void gen_process(CkJsonGen *g, const OciProcess *p)
{
	ck_json_map_open(g);
	ck_json_kv_bool(g, "terminal", p->terminal);
	if (p->console_height != 0 || p->console_width != 0) {
		ck_json_key(g, "consoleSize");
		ck_json_map_open(g);
		ck_json_kv_int(g, "height", p->console_height);
		ck_json_kv_int(g, "width", p->console_width);
		ck_json_map_close(g);
	}
	gen_user(g, p);
	kv_strv(g, "args", p->args);
	kv_opt_string(g, "commandLine", p->command_line);
	kv_strv(g, "env", p->env);
	kv_opt_string(g, "cwd", p->cwd);
	if (p->has_caps)
		gen_caps(g, &p->caps);
	if (p->n_rlimits > 0)
		gen_rlimits(g, p);
	ck_json_kv_bool(g, "noNewPrivileges", p->no_new_privileges);
	if (p->has_oom_score_adj)
		ck_json_kv_int(g, "oomScoreAdj", p->oom_score_adj);
	kv_opt_string(g, "apparmorProfile", p->apparmor_profile);
	kv_opt_string(g, "selinuxLabel", p->selinux_label);
	ck_json_map_close(g);
}

static void gen_mounts(CkJsonGen *g, const OciSpec *s)
{
	ck_json_key(g, "mounts");
	ck_json_array_open(g);
	for (gsize i = 0; i < s->n_mounts; i++) {
		const OciMount *m = &s->mounts[i];
		ck_json_map_open(g);
		ck_json_kv_string(g, "destination", m->destination);
		kv_opt_string(g, "type", m->type);
		kv_opt_string(g, "source", m->source);
		kv_strv(g, "options", m->options);
		ck_json_map_close(g);
	}
	ck_json_array_close(g);
}

static void gen_hook_list(CkJsonGen *g, const OciHookList *l)
{
	ck_json_array_open(g);
	for (gsize i = 0; i < l->n_hooks; i++) {
		const OciHook *h = &l->hooks[i];
		ck_json_map_open(g);
		ck_json_kv_string(g, "path", h->path);
		if (h->args != NULL)
			kv_strv(g, "args", h->args);
		if (h->env != NULL)
			kv_strv(g, "env", h->env);
		if (h->has_timeout)
			ck_json_kv_int(g, "timeout", h->timeout);
		ck_json_map_close(g);
	}
	ck_json_array_close(g);
}

static void gen_hooks(CkJsonGen *g, const OciSpec *s)
{
	gboolean any = FALSE;

	for (int i = 0; i < OCI_HOOK_MAX; i++)
		any = any || s->hooks[i].n_hooks > 0;
	if (!any)
		return;
	ck_json_key(g, "hooks");
	ck_json_map_open(g);
	for (int i = 0; i < OCI_HOOK_MAX; i++) {
		if (s->hooks[i].n_hooks == 0)
			continue;
		ck_json_key(g, hook_stage_names[i]);
		gen_hook_list(g, &s->hooks[i]);
	}
	ck_json_map_close(g);
}

static void gen_memory(CkJsonGen *g, const OciResources *r)
{
	if (r->memory_limit == 0 && r->memory_reservation == 0 && r->memory_swap == 0 && r->memory_swappiness < 0 &&
	    !r->has_disable_oom_killer)
		return;
	ck_json_key(g, "memory");
	ck_json_map_open(g);
	if (r->memory_limit != 0)
		ck_json_kv_int(g, "limit", r->memory_limit);
	if (r->memory_reservation != 0)
		ck_json_kv_int(g, "reservation", r->memory_reservation);
	if (r->memory_swap != 0)
		ck_json_kv_int(g, "swap", r->memory_swap);
	if (r->memory_swappiness >= 0)
		ck_json_kv_int(g, "swappiness", r->memory_swappiness);
	if (r->has_disable_oom_killer)
		ck_json_kv_bool(g, "disableOOMKiller", r->disable_oom_killer);
	ck_json_map_close(g);
}

static void gen_cpu(CkJsonGen *g, const OciResources *r)
{
	if (r->cpu_shares == 0 && r->cpu_quota == 0 && r->cpu_period == 0 && r->cpu_cpus == NULL && r->cpu_mems == NULL)
		return;
	ck_json_key(g, "cpu");
	ck_json_map_open(g);
	if (r->cpu_shares != 0)
		kv_uint64(g, "shares", r->cpu_shares);
	if (r->cpu_quota != 0)
		ck_json_kv_int(g, "quota", r->cpu_quota);
	if (r->cpu_period != 0)
		kv_uint64(g, "period", r->cpu_period);
	kv_opt_string(g, "cpus", r->cpu_cpus);
	kv_opt_string(g, "mems", r->cpu_mems);
	ck_json_map_close(g);
}

static void gen_resources(CkJsonGen *g, const OciResources *r)
{
	ck_json_key(g, "resources");
	ck_json_map_open(g);
	gen_memory(g, r);
	gen_cpu(g, r);
	if (r->has_pids_limit) {
		ck_json_key(g, "pids");
		ck_json_map_open(g);
		ck_json_kv_int(g, "limit", r->pids_limit);
		ck_json_map_close(g);
	}
	gen_string_map(g, "unified", r->unified);
	ck_json_map_close(g);
}

static void gen_namespaces(CkJsonGen *g, const OciSpec *s)
{
	ck_json_key(g, "namespaces");
	ck_json_array_open(g);
	for (gsize i = 0; i < s->n_namespaces; i++) {
		ck_json_map_open(g);
		ck_json_kv_string(g, "type", oci_namespace_type_to_string(s->namespaces[i].type));
		kv_opt_string(g, "path", s->namespaces[i].path);
		ck_json_map_close(g);
	}
	ck_json_array_close(g);
}

static void gen_id_mappings(CkJsonGen *g, const char *key, const OciIdMapping *m, gsize n)
{
	if (n == 0)
		return;
	ck_json_key(g, key);
	ck_json_array_open(g);
	for (gsize i = 0; i < n; i++) {
		ck_json_map_open(g);
		ck_json_kv_int(g, "containerID", m[i].container_id);
		ck_json_kv_int(g, "hostID", m[i].host_id);
		ck_json_kv_int(g, "size", m[i].size);
		ck_json_map_close(g);
	}
	ck_json_array_close(g);
}

static void gen_linux(CkJsonGen *g, const OciSpec *s)
{
	ck_json_key(g, "linux");
	ck_json_map_open(g);
	gen_namespaces(g, s);
	gen_id_mappings(g, "uidMappings", s->uid_mappings, s->n_uid_mappings);
	gen_id_mappings(g, "gidMappings", s->gid_mappings, s->n_gid_mappings);
	if (s->sysctl != NULL && g_hash_table_size(s->sysctl) > 0)
		gen_string_map(g, "sysctl", s->sysctl);
	if (s->has_resources)
		gen_resources(g, &s->resources);
	kv_opt_string(g, "cgroupsPath", s->cgroups_path);
	if (s->masked_paths != NULL && s->masked_paths[0] != NULL)
		kv_strv(g, "maskedPaths", s->masked_paths);
	if (s->readonly_paths != NULL && s->readonly_paths[0] != NULL)
		kv_strv(g, "readonlyPaths", s->readonly_paths);
	kv_opt_string(g, "rootfsPropagation", s->rootfs_propagation);
	kv_opt_string(g, "mountLabel", s->mount_label);
	if (s->seccomp != NULL) {
		ck_json_key(g, "seccomp");
		ck_json_value(g, s->seccomp);
	}
	if (s->devices != NULL) {
		ck_json_key(g, "devices");
		ck_json_value(g, s->devices);
	}
	ck_json_map_close(g);
}

char *oci_spec_to_json(const OciSpec *spec, gsize *out_len, GError **error)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();

	ck_json_map_open(g);
	ck_json_kv_string(g, "ociVersion", spec->oci_version);
	if (spec->root_path != NULL) {
		ck_json_key(g, "root");
		ck_json_map_open(g);
		ck_json_kv_string(g, "path", spec->root_path);
		ck_json_kv_bool(g, "readonly", spec->root_readonly);
		ck_json_map_close(g);
	}
	kv_opt_string(g, "hostname", spec->hostname);
	kv_opt_string(g, "domainname", spec->domainname);
	if (spec->has_process) {
		ck_json_key(g, "process");
		gen_process(g, &spec->process);
	}
	gen_mounts(g, spec);
	gen_hooks(g, spec);
	gen_string_map(g, "annotations", spec->annotations);
	gen_linux(g, spec);
	ck_json_map_close(g);
	return ck_json_gen_finish(g, out_len, error);
}

char *oci_process_to_json(const OciProcess *p, gsize *out_len, GError **error)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();

	gen_process(g, p);
	return ck_json_gen_finish(g, out_len, error);
}
