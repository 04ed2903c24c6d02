/* state: per-container state files (see state.h). */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-parse.h"

#define STATE_FILE "state.json"
#define LOCK_FILE "lock"
#define STATE_MAX (1024 * 1024)

ContainerState *container_state_new(const char *id)
{
	ContainerState *st = g_new0(ContainerState, 1);

	st->id = g_strdup(id);
	st->annotations = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	st->status = g_strdup("created");
	st->owner = g_strdup("");
	return st;
}

void container_state_free(ContainerState *st)
{
	if (st == NULL)
		return;
	g_free(st->id);
	g_free(st->pod_id);
	g_free(st->bundle);
	g_free(st->rootfs);
	g_free(st->created);
	g_free(st->owner);
	g_hash_table_unref(st->annotations);
	g_free(st->status);
	g_free(st->control_socket);
	g_free(st->trusted_root);
	g_free(st->trusted_runtime);
	g_free(st);
}

char *container_state_dir(const char *root, const char *id)
{
	return g_build_filename(root, "containers", id, NULL);
}

char *pod_state_dir(const char *root, const char *pod_id)
{
	return g_build_filename(root, "pods", pod_id, NULL);
}

gboolean container_id_valid(const char *id, GError **error)
{
	if (id == NULL || *id == '\0')
		return ck_set_error(error, CK_ERROR_INVALID, "container id must not be empty");
	if (strlen(id) > 1024 || g_str_equal(id, ".") || g_str_equal(id, ".."))
		return ck_set_error(error, CK_ERROR_INVALID, "invalid container id '%s'", id);
	for (const char *p = id; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && strchr("_+-.", *p) == NULL)
			return ck_set_error(error, CK_ERROR_INVALID, "invalid container id '%s'", id);
	return TRUE;
}

int container_state_lock(const char *root, const char *id, gboolean exclusive, gboolean create, GError **error)
{
	g_autofree char *dir = container_state_dir(root, id);
	g_autofree char *path = g_build_filename(dir, LOCK_FILE, NULL);

	if (!container_id_valid(id, error))
		return -1;
	if (create && !ck_mkdir_p(dir, 0711, error))
		return -1;
	int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
	if (fd < 0) {
		if (errno == ENOENT)
			return ck_set_error(error, CK_ERROR_NOT_FOUND, "container %s does not exist", id), -1;
		return ck_set_error_errno(error, errno, "lock %s", path), -1;
	}
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0) {
		if (errno != EINTR) {
			int errsv = errno;
			close(fd);
			return ck_set_error_errno(error, errsv, "flock %s", path), -1;
		}
	}
	return fd;
}

/* --- reading --------------------------------------------------------------- */

typedef struct {
	gint64 version;
	char *kind;
	char *status;
	gint64 pid, monitor_pid, exit_code;
	guint64 pid_start, monitor_start;
	gint64 guest_handle;
	gboolean has_exit_code;
	yajl_val annotations;
} RawState;

#define RF(key, type, member) {key, type, G_STRUCT_OFFSET(RawState, member), 0, 0, 0, NULL}
#define SF(key, member) {key, CK_JSON_STRING, G_STRUCT_OFFSET(ContainerState, member), CK_JSON_NULLABLE, 0, 0, NULL}
static const CkJsonField raw_fields[] = {
	RF("version", CK_JSON_INT64, version),	  RF("kind", CK_JSON_STRING, kind),
	RF("status", CK_JSON_STRING, status),	  RF("pid", CK_JSON_INT64, pid),
	RF("pid_start", CK_JSON_UINT64, pid_start), RF("monitor_pid", CK_JSON_INT64, monitor_pid),
	RF("monitor_start", CK_JSON_UINT64, monitor_start), RF("guest_handle", CK_JSON_INT64, guest_handle),
	RF("exit_code", CK_JSON_INT64, exit_code), RF("has_exit_code", CK_JSON_BOOL, has_exit_code),
	RF("annotations", CK_JSON_OBJECT, annotations),
	/* read into ContainerState by str_fields below */
	{"id", CK_JSON_IGNORE, 0, 0, 0, 0, NULL}, {"pod_id", CK_JSON_IGNORE, 0, 0, 0, 0, NULL},
	{"sandbox", CK_JSON_IGNORE, 0, 0, 0, 0, NULL}, {"bundle", CK_JSON_IGNORE, 0, 0, 0, 0, NULL},
	{"rootfs", CK_JSON_IGNORE, 0, 0, 0, 0, NULL}, {"created", CK_JSON_IGNORE, 0, 0, 0, 0, NULL},
	{"owner", CK_JSON_IGNORE, 0, 0, 0, 0, NULL}, {"control_socket", CK_JSON_IGNORE, 0, 0, 0, 0, NULL},
	{"trusted_root", CK_JSON_IGNORE, 0, 0, 0, 0, NULL}, {"trusted_runtime", CK_JSON_IGNORE, 0, 0, 0, 0, NULL},
	{NULL},
};
static const CkJsonField str_fields[] = {
	SF("id", id),	     SF("pod_id", pod_id),	   SF("bundle", bundle),
	SF("rootfs", rootfs), SF("created", created),	   SF("owner", owner),
	SF("control_socket", control_socket), SF("trusted_root", trusted_root),
	SF("trusted_runtime", trusted_runtime),
	{"sandbox", CK_JSON_BOOL, G_STRUCT_OFFSET(ContainerState, sandbox), 0, 0, 0, NULL},
	{NULL},
};
#undef RF
#undef SF

static gboolean copy_annotations(ContainerState *st, yajl_val obj, const char *path, GError **error)
{
	for (size_t i = 0; obj != NULL && i < obj->u.object.len; i++) {
		yajl_val v = obj->u.object.values[i];
		if (!YAJL_IS_STRING(v))
			return ck_set_error(error, CK_ERROR_INVALID, "%s: annotations.%s: expected a string", path,
					    obj->u.object.keys[i]);
		g_hash_table_insert(st->annotations, g_strdup(obj->u.object.keys[i]), g_strdup(v->u.string));
	}
	return TRUE;
}

static gboolean from_raw(ContainerState *st, RawState *raw, const char *path, GError **error)
{
	if (raw->version != STATE_VERSION)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: unsupported state version %" G_GINT64_FORMAT, path,
				    raw->version);
	st->kind = g_strcmp0(raw->kind, "trusted") == 0 ? CONTAINER_KIND_TRUSTED : CONTAINER_KIND_VM;
	g_free(st->status);
	st->status = g_steal_pointer(&raw->status);
	st->pid = (pid_t)raw->pid;
	st->pid_start = raw->pid_start;
	st->monitor_pid = (pid_t)raw->monitor_pid;
	st->monitor_start = raw->monitor_start;
	st->guest_handle = (guint32)raw->guest_handle;
	st->has_exit_code = raw->has_exit_code;
	st->exit_code = (int)raw->exit_code;
	return copy_annotations(st, raw->annotations, path, error);
}

ContainerState *container_state_read(const char *root, const char *id, GError **error)
{
	g_autofree char *dir = container_state_dir(root, id);
	g_autofree char *path = g_build_filename(dir, STATE_FILE, NULL);
	g_autoptr(GError) local = NULL;

	if (!container_id_valid(id, error))
		return NULL;
	g_auto(yajl_val) tree = ck_json_parse_file(path, STATE_MAX, &local);
	if (tree == NULL) {
		if (ck_error_is(local, CK_ERROR_NOT_FOUND))
			return ck_set_error(error, CK_ERROR_NOT_FOUND, "container %s does not exist", id), NULL;
		g_propagate_error(error, g_steal_pointer(&local));
		return NULL;
	}
	g_autoptr(ContainerState) st = container_state_new(id);
	RawState raw = {0};
	gboolean ok = ck_json_dispatch(tree, raw_fields, &raw, path, CK_JSON_STRICT, error) &&
		      ck_json_dispatch(tree, str_fields, st, path, CK_JSON_LENIENT, error) &&
		      from_raw(st, &raw, path, error);
	g_free(raw.kind);
	g_free(raw.status);
	return ok ? g_steal_pointer(&st) : NULL;
}

/* --- writing ------------------------------------------------------------------- */

static void write_annotations(CkJsonGen *g, GHashTable *annotations)
{
	g_autoptr(GList) keys = g_hash_table_get_keys(annotations);

	keys = g_list_sort(keys, (GCompareFunc)strcmp);
	ck_json_key(g, "annotations");
	ck_json_map_open(g);
	for (GList *k = keys; k != NULL; k = k->next)
		ck_json_kv_string(g, k->data, g_hash_table_lookup(annotations, k->data));
	ck_json_map_close(g);
}

/* --- the index of non-default roots (state.h) --- */

static gboolean is_index_root(const char *root)
{
	return g_str_equal(root, STATE_DEFAULT_ROOT);
}

static char *index_path(const char *id)
{
	return g_build_filename(STATE_DEFAULT_ROOT, "roots", id, NULL);
}

static gboolean register_root(const char *root, const char *id, GError **error)
{
	g_autofree char *path = index_path(id);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *abs = g_canonicalize_filename(root, NULL);

	if (is_index_root(abs) || g_file_test(path, G_FILE_TEST_EXISTS))
		return TRUE;
	return ck_mkdir_p(dir, 0700, error) && ck_file_write_atomic(path, abs, strlen(abs), 0600, FALSE, error);
}

static void unregister_root(const char *root, const char *id)
{
	g_autofree char *path = index_path(id);
	g_autofree char *abs = g_canonicalize_filename(root, NULL);
	g_autofree char *listed = NULL;

	/* only our own entry: another root may hold a container of that id */
	if (!is_index_root(abs) && g_file_get_contents(path, &listed, NULL, NULL) && g_str_equal(listed, abs))
		(void)unlink(path);
}

char *state_lookup_root(const char *id)
{
	g_autofree char *path = index_path(id);
	g_autofree char *root = NULL;

	if (!container_id_valid(id, NULL) || !ck_file_read_bounded(path, 4096, &root, NULL, NULL) ||
	    !g_path_is_absolute(root))
		return NULL;
	g_autofree char *state = g_build_filename(root, "containers", id, STATE_FILE, NULL);
	return g_file_test(state, G_FILE_TEST_IS_REGULAR) ? g_steal_pointer(&root) : NULL;
}

gboolean container_state_write(const char *root, const ContainerState *st, GError **error)
{
	g_autofree char *dir = container_state_dir(root, st->id);
	g_autofree char *path = g_build_filename(dir, STATE_FILE, NULL);
	g_autoptr(CkJsonGen) g = ck_json_gen_new();

	ck_json_map_open(g);
	ck_json_kv_int(g, "version", STATE_VERSION);
	ck_json_kv_string(g, "id", st->id);
	ck_json_kv_string(g, "pod_id", st->pod_id);
	ck_json_kv_bool(g, "sandbox", st->sandbox);
	ck_json_kv_string(g, "kind", st->kind == CONTAINER_KIND_TRUSTED ? "trusted" : "vm");
	ck_json_kv_string(g, "bundle", st->bundle);
	ck_json_kv_string(g, "rootfs", st->rootfs);
	ck_json_kv_string(g, "created", st->created);
	ck_json_kv_string(g, "owner", st->owner);
	ck_json_kv_string(g, "status", st->status);
	ck_json_kv_int(g, "pid", st->pid);
	ck_json_key(g, "pid_start");
	ck_json_uint64(g, st->pid_start);
	ck_json_kv_int(g, "monitor_pid", st->monitor_pid);
	ck_json_key(g, "monitor_start");
	ck_json_uint64(g, st->monitor_start);
	ck_json_kv_string(g, "control_socket", st->control_socket);
	ck_json_kv_int(g, "guest_handle", st->guest_handle);
	ck_json_kv_bool(g, "has_exit_code", st->has_exit_code);
	ck_json_kv_int(g, "exit_code", st->exit_code);
	ck_json_kv_string(g, "trusted_root", st->trusted_root);
	ck_json_kv_string(g, "trusted_runtime", st->trusted_runtime);
	write_annotations(g, st->annotations);
	ck_json_map_close(g);

	gsize len = 0;
	g_autofree char *doc = ck_json_gen_finish(g, &len, error);
	if (doc == NULL || !ck_mkdir_p(dir, 0711, error) || !register_root(root, st->id, error))
		return FALSE;
	return ck_file_write_atomic(path, doc, len, 0600, FALSE, error);
}

gboolean container_state_remove(const char *root, const char *id, GError **error)
{
	g_autofree char *dir = container_state_dir(root, id);

	if (!container_id_valid(id, error))
		return FALSE;
	unregister_root(root, id);
	return ck_rm_rf(dir, error);
}

#define SPEC_FILE "config.json"
#define SPEC_MAX (4 * 1024 * 1024)

static char *saved_spec_path(const char *root, const char *id)
{
	g_autofree char *dir = container_state_dir(root, id);
	return g_build_filename(dir, SPEC_FILE, NULL);
}

gboolean container_state_save_spec(const char *root, const char *id, const char *bundle, GError **error)
{
	g_autofree char *src = g_build_filename(bundle, SPEC_FILE, NULL);
	g_autofree char *dst = saved_spec_path(root, id);
	g_autofree char *data = NULL;
	gsize len = 0;

	return ck_file_read_bounded(src, SPEC_MAX, &data, &len, error) &&
	       ck_file_write_atomic(dst, data, len, 0600, FALSE, error);
}

OciSpec *container_state_load_spec(const char *root, const char *id, GError **error)
{
	g_autofree char *path = saved_spec_path(root, id);

	if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
		ck_set_error(error, CK_ERROR_NOT_FOUND, "%s: no saved spec", id);
		return NULL;
	}
	return oci_spec_load_file(path, error);
}

static gint compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *container_state_list(const char *root, GError **error)
{
	g_autofree char *dir = g_build_filename(root, "containers", NULL);
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) local = NULL;
	g_autoptr(GDir) d = g_dir_open(dir, 0, &local);

	if (d == NULL) {
		if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return g_steal_pointer(&ids);
		g_propagate_error(error, g_steal_pointer(&local));
		return NULL;
	}
	const char *name;
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *state = g_build_filename(dir, name, STATE_FILE, NULL);
		if (g_file_test(state, G_FILE_TEST_IS_REGULAR))
			g_ptr_array_add(ids, g_strdup(name));
	}
	g_ptr_array_sort(ids, compare_strings);
	return g_steal_pointer(&ids);
}

/* --- liveness ------------------------------------------------------------------- */

/* /proc/<pid>/stat: the state is field 3 and the start time field 22,
 * counted after the parenthesised command name (which may hold spaces). */
static gboolean read_stat(pid_t pid, char *out_state, guint64 *out_start)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
	g_autofree char *data = NULL;

	if (pid <= 0 || !ck_file_read_bounded(path, 4096, &data, NULL, NULL))
		return FALSE;
	char *p = strrchr(data, ')');
	if (p == NULL)
		return FALSE;
	g_auto(GStrv) f = g_strsplit(p + 2, " ", 22);
	if (g_strv_length(f) < 21)
		return FALSE;
	*out_state = f[0][0];
	return ck_parse_uint64(f[19], "starttime", G_MAXUINT64, out_start, NULL);
}

guint64 proc_start_time(pid_t pid)
{
	char state;
	guint64 start = 0;

	return read_stat(pid, &state, &start) ? start : 0;
}

gboolean proc_is_alive(pid_t pid, guint64 start_time)
{
	char state;
	guint64 start = 0;

	if (!read_stat(pid, &state, &start))
		return FALSE;
	if (state == 'Z' || state == 'X')
		return FALSE;
	return start_time == 0 || start == start_time;
}

const char *container_state_status(const ContainerState *st, pid_t *out_pid)
{
	gboolean alive = st->pid > 0 && proc_is_alive(st->pid, st->pid_start);

	if (out_pid != NULL)
		*out_pid = alive ? st->pid : 0;
	if (!alive || g_strcmp0(st->status, "stopped") == 0) {
		if (out_pid != NULL)
			*out_pid = 0;
		return "stopped";
	}
	return st->status;
}

void container_state_write_oci(CkJsonGen *g, const ContainerState *st, const char *owner)
{
	pid_t pid = 0;
	const char *status = container_state_status(st, &pid);

	ck_json_map_open(g);
	ck_json_kv_string(g, "ociVersion", "1.0.2");
	ck_json_kv_string(g, "id", st->id);
	ck_json_kv_int(g, "pid", pid);
	ck_json_kv_string(g, "status", status);
	ck_json_kv_string(g, "bundle", st->bundle);
	ck_json_kv_string(g, "rootfs", st->rootfs);
	if (st->created != NULL)
		ck_json_kv_string(g, "created", st->created);
	/* runc: `annotations,omitempty`, before the owner */
	if (g_hash_table_size(st->annotations) > 0)
		write_annotations(g, st->annotations);
	ck_json_kv_string(g, "owner", owner);
	ck_json_map_close(g);
}

char *container_state_owner_name(const char *root, const char *id)
{
	g_autofree char *dir = container_state_dir(root, id);
	struct stat st;

	if (stat(dir, &st) < 0)
		return g_strdup("");
	const struct passwd *pw = getpwuid(st.st_uid);
	return pw != NULL ? g_strdup(pw->pw_name) : g_strdup_printf("#%u", (unsigned)st.st_uid);
}

const char *state_default_root(void)
{
	const char *env = g_getenv(STATE_ROOT_ENV);

	return env != NULL && g_path_is_absolute(env) ? env : STATE_DEFAULT_ROOT;
}
