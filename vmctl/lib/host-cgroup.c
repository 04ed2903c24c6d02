/* host-cgroup: cgroupsPath on the host's cgroupfs (see host-cgroup.h). */
#include "host-cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "base/ck-parse.h"
#include "host-systemd.h"

#define CGROUP_FS "/sys/fs/cgroup"

/* The cgroup file system's root: CGROUP_FS, or a test's own mount. */
static char *cgroup_root;

static const char *root_dir(void)
{
	return cgroup_root != NULL ? cgroup_root : CGROUP_FS;
}

void host_cgroup_set_root(const char *root)
{
	g_free(cgroup_root);
	cgroup_root = g_strdup(root);
}

void host_cgroup_clear(HostCgroup *cg)
{
	g_clear_pointer(&cg->unit, g_free);
	g_clear_pointer(&cg->procs, g_ptr_array_unref);
	g_clear_pointer(&cg->bases, g_ptr_array_unref);
	g_clear_pointer(&cg->created, g_ptr_array_unref);
	g_clear_pointer(&cg->origins, g_ptr_array_unref);
}

/* "system.slice:crio:abc" -> "/system.slice/crio-abc.scope"; nested
 * slices "a-b.slice" live under "a.slice/a-b.slice", as systemd lays them out. */
static char *systemd_to_fs(const char *path)
{
	g_auto(GStrv) parts = g_strsplit(path, ":", 3);
	g_autoptr(GString) out = g_string_new(NULL);

	const char *slice = parts[0][0] ? parts[0] : "system.slice";
	if (g_str_has_suffix(slice, ".slice") && !g_str_equal(slice, "-.slice")) {
		g_autofree char *stem = g_strndup(slice, strlen(slice) - strlen(".slice"));
		g_auto(GStrv) dashes = g_strsplit(stem, "-", -1);
		g_autoptr(GString) prefix = g_string_new(NULL);
		for (char **d = dashes; *d != NULL; d++) {
			g_string_append_printf(prefix, "%s%s", prefix->len ? "-" : "", *d);
			g_string_append_printf(out, "/%s.slice", prefix->str);
		}
	}
	g_string_append_printf(out, "/%s-%s.scope", parts[1], parts[2]);
	return g_string_free(g_steal_pointer(&out), FALSE);
}

char *host_cgroup_fs_path(const char *cgroups_path)
{
	if (cgroups_path == NULL || *cgroups_path == '\0')
		return NULL;
	g_auto(GStrv) parts = g_strsplit(cgroups_path, ":", -1);
	if (cgroups_path[0] != '/' && g_strv_length(parts) == 3)
		return systemd_to_fs(cgroups_path);
	return g_strdup_printf("%s%s", cgroups_path[0] == '/' ? "" : "/", cgroups_path);
}

gboolean host_cgroup_is_unified(void)
{
	struct statfs sfs;
	return statfs(root_dir(), &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

/* A v1 hierarchy that holds the cpuset controller ("cpuset", or mounted
 * together with others: "cpuset,cpu"). */
static gboolean is_cpuset_hierarchy(const char *base)
{
	g_autofree char *name = g_path_get_basename(base);
	g_auto(GStrv) ctrls = g_strsplit(name, ",", -1);

	return g_strv_contains((const char *const *)ctrls, "cpuset");
}

/* Writes text to a cgroup file (cgroup.procs, cpuset.cpus) in one
 * write; errno is the write's on failure. */
static gboolean write_text(const char *file, const char *text)
{
	int fd = open(file, O_WRONLY | O_CLOEXEC);
	gboolean ok = fd >= 0 && write(fd, text, strlen(text)) >= 0;
	int errsv = errno;

	if (fd >= 0)
		close(fd);
	errno = errsv;
	return ok;
}

/* Fills dir/file from the parent's when it is empty. */
static gboolean cpuset_fill(const char *dir, const char *file, GError **error)
{
	g_autofree char *parent = g_path_get_dirname(dir);
	g_autofree char *own = g_build_filename(dir, file, NULL);
	g_autofree char *theirs = g_build_filename(parent, file, NULL);
	g_autofree char *value = NULL;

	if (!ck_file_read_bounded(own, 64 * 1024, &value, NULL, error))
		return FALSE;
	if (*g_strstrip(value) != '\0')
		return TRUE;
	g_clear_pointer(&value, g_free);
	if (!ck_file_read_bounded(theirs, 64 * 1024, &value, NULL, error))
		return FALSE;
	if (!write_text(own, value))
		return ck_set_error_errno(error, errno, "write %s", own);
	return TRUE;
}

/* On cgroup v1 a new cpuset group starts with empty cpuset.cpus and
 * cpuset.mems, and no process can join it (ENOSPC) until they are set:
 * like runc, fill each empty one from the parent, top down. A failure is
 * logged; the join then fails, naming the controller. */
static void cpuset_inherit(const char *dir)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};

	for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autoptr(GError) error = NULL;
		if (!cpuset_fill(dir, files[i], &error)) {
			ck_log_warning("host cgroup %s: copy %s from the parent: %s", dir, files[i], error->message);
			return;
		}
	}
}

/* cgroup v2: a controller is usable in a cgroup only once its parent
 * lists it in cgroup.subtree_control. Like runc, enable in dir every
 * controller dir has (cgroup.controllers), one write each so that a
 * failure names its controller. */
static gboolean enable_controllers(const char *dir, GError **error)
{
	g_autofree char *avail_file = g_build_filename(dir, "cgroup.controllers", NULL);
	g_autofree char *on_file = g_build_filename(dir, "cgroup.subtree_control", NULL);
	g_autofree char *avail = NULL;
	g_autofree char *on = NULL;

	if (!ck_file_read_bounded(avail_file, 64 * 1024, &avail, NULL, error) ||
	    !ck_file_read_bounded(on_file, 64 * 1024, &on, NULL, error))
		return FALSE;
	g_auto(GStrv) have = g_strsplit_set(g_strstrip(avail), " \n", -1);
	g_auto(GStrv) enabled = g_strsplit_set(g_strstrip(on), " \n", -1);
	for (char **c = have; *c != NULL; c++) {
		if (**c == '\0' || g_strv_contains((const char *const *)enabled, *c))
			continue;
		g_autofree char *plus = g_strconcat("+", *c, NULL);
		if (!write_text(on_file, plus))
			return ck_set_error_errno(error, errno, "enable the %s controller in %s", *c, on_file);
	}
	return TRUE;
}

/* mkdir -p under base, recording what did not exist before. On cgroup
 * v2 (unified) each parent on the way enables its controllers first; a
 * controller it cannot enable sets error, a folder it cannot make only
 * errno. */
static gboolean make_dirs(HostCgroup *cg, const char *base, const char *rel, gboolean unified, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(rel, "/", -1);
	g_autoptr(GString) dir = g_string_new(base);
	gboolean cpuset = !unified && is_cpuset_hierarchy(base);

	for (char **p = parts; *p != NULL; p++) {
		if (**p == '\0' || g_str_equal(*p, "..") || g_str_equal(*p, "."))
			continue;
		if (unified && !enable_controllers(dir->str, error))
			return FALSE;
		g_string_append_printf(dir, "/%s", *p);
		if (mkdir(dir->str, 0755) == 0)
			g_ptr_array_add(cg->created, g_strdup(dir->str));
		else if (errno != EEXIST)
			return FALSE;
		if (cpuset)
			cpuset_inherit(dir->str);
	}
	return TRUE;
}

/* A folder that cannot be made drops the hierarchy (logged); a v2
 * controller that cannot be enabled is an error for the join. */
static gboolean prepare_under(HostCgroup *cg, const char *base, const char *rel, gboolean unified, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autofree char *procs = g_strdup_printf("%s%s/cgroup.procs", base, rel);

	if (!make_dirs(cg, base, rel, unified, &local)) {
		if (local == NULL) {
			ck_log_debug("host cgroup %s%s: %s, skipping", base, rel, g_strerror(errno));
			return TRUE;
		}
		g_autofree char *ctrl = host_cgroup_controller_of(procs);
		return ck_set_error(error, CK_ERROR_FAILED, "join the %s cgroup (%s): %s", ctrl, procs,
				    local->message);
	}
	g_ptr_array_add(cg->procs, g_steal_pointer(&procs));
	g_ptr_array_add(cg->bases, g_strdup(base));
	return TRUE;
}

/* The mounted hierarchies: the root itself on cgroup v2, else each
 * folder of it that is a hierarchy (not a symlink such as cpu ->
 * cpu,cpuacct). */
static GPtrArray *hierarchies(void)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	if (host_cgroup_is_unified()) {
		g_ptr_array_add(out, g_strdup(root_dir()));
		return out;
	}
	g_autoptr(GDir) d = g_dir_open(root_dir(), 0, NULL);
	const char *ctrl;
	while (d != NULL && (ctrl = g_dir_read_name(d)) != NULL) {
		g_autofree char *base = g_build_filename(root_dir(), ctrl, NULL);
		g_autofree char *procs = g_build_filename(base, "cgroup.procs", NULL);
		if (!g_file_test(base, G_FILE_TEST_IS_SYMLINK) && g_file_test(procs, G_FILE_TEST_EXISTS))
			g_ptr_array_add(out, g_steal_pointer(&base));
	}
	return out;
}

static void init_arrays(HostCgroup *cg)
{
	if (cg->procs != NULL)
		return;
	cg->procs = g_ptr_array_new_with_free_func(g_free);
	cg->bases = g_ptr_array_new_with_free_func(g_free);
	cg->created = g_ptr_array_new_with_free_func(g_free);
}

gboolean host_cgroup_prepare(HostCgroup *cg, const char *cgroups_path, GError **error)
{
	g_autofree char *rel = host_cgroup_fs_path(cgroups_path);

	init_arrays(cg);
	if (rel == NULL)
		return TRUE;
	gboolean unified = host_cgroup_is_unified();
	g_autoptr(GPtrArray) bases = hierarchies();
	for (guint i = 0; i < bases->len; i++)
		if (!prepare_under(cg, g_ptr_array_index(bases, i), rel, unified, error))
			return FALSE;
	return TRUE;
}

static void remove_under(const char *base, const char *rel)
{
	g_autofree char *dir = g_strconcat(base, rel, NULL);

	if (rmdir(dir) < 0 && errno != ENOENT)
		ck_log_debug("host cgroup %s: %s, leaving it", dir, g_strerror(errno));
}

void host_cgroup_remove(const char *cgroups_path)
{
	g_autofree char *rel = host_cgroup_fs_path(cgroups_path);

	if (rel == NULL)
		return;
	g_autoptr(GPtrArray) bases = hierarchies();
	for (guint i = 0; i < bases->len; i++)
		remove_under(bases->pdata[i], rel);
}

/* The hierarchy mounted at base, as /proc/self/cgroup names it: its
 * controllers ("memory", "cpu,cpuacct"), "name=<name>" for a named one,
 * "" for cgroup v2. */
static const char *hierarchy_path(GHashTable *self, const char *base)
{
	g_autofree char *name = g_path_get_basename(base);
	g_autofree char *named = g_strconcat("name=", name, NULL);

	if (g_str_equal(base, root_dir()) || g_str_equal(name, "unified"))
		return g_hash_table_lookup(self, "");
	if (g_hash_table_contains(self, name))
		return g_hash_table_lookup(self, name);
	return g_hash_table_lookup(self, named);
}

char *host_cgroup_controller_of(const char *procs)
{
	g_autofree char *prefix = g_strconcat(root_dir(), "/", NULL);

	if (host_cgroup_is_unified() || !g_str_has_prefix(procs, prefix))
		return g_strdup("unified");
	const char *name = procs + strlen(prefix);
	return g_strndup(name, strcspn(name, "/"));
}

gboolean host_cgroup_join_error(const char *procs, int errsv, GError **error)
{
	g_autofree char *ctrl = host_cgroup_controller_of(procs);

	return ck_set_error_errno(error, errsv, "join the %s cgroup (%s)", ctrl, procs);
}

/* pid's cgroup in each hierarchy, from /proc/<pid>/cgroup: its
 * controllers ("memory", "cpu,cpuacct", "name=systemd"; "" for v2) ->
 * the path ("/kubepods/pod1"). */
static GHashTable *proc_cgroups(pid_t pid, GError **error)
{
	g_autofree char *file = g_strdup_printf("/proc/%d/cgroup", (int)pid);
	g_autofree char *data = NULL;
	GHashTable *out = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	if (!ck_file_read_bounded(file, 64 * 1024, &data, NULL, error)) {
		g_hash_table_destroy(out);
		return NULL;
	}
	g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		g_auto(GStrv) f = g_strsplit(*l, ":", 3);
		if (g_strv_length(f) == 3 && f[2][0] == '/')
			g_hash_table_insert(out, g_strdup(f[1]), g_strdup(f[2]));
	}
	return out;
}

/* base's cgroup.procs of the cgroup pid is in there, NULL: none. */
static char *procs_of(GHashTable *cgroups, const char *base)
{
	const char *path = hierarchy_path(cgroups, base);

	return path == NULL ? NULL : g_strdup_printf("%s%s/cgroup.procs", base, g_str_equal(path, "/") ? "" : path);
}

/* Remembers the caller's cgroup in each hierarchy of bases, for
 * host_cgroup_cleanup() to go back to. */
static gboolean record_origins(HostCgroup *cg, GPtrArray *bases, GError **error)
{
	g_autoptr(GHashTable) self = proc_cgroups(getpid(), error);

	if (self == NULL)
		return FALSE;
	cg->origins = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < bases->len; i++) {
		char *procs = procs_of(self, g_ptr_array_index(bases, i));
		if (procs != NULL)
			g_ptr_array_add(cg->origins, procs);
	}
	return TRUE;
}

/* Only where pid is elsewhere: every write to cgroup.procs, even one
 * that moves nothing, waits for an RCU grace period (milliseconds). */
gboolean host_cgroup_move_beside(pid_t pid, pid_t beside, GError **error)
{
	g_autoptr(GHashTable) there = proc_cgroups(beside, error);
	g_autoptr(GHashTable) here = there != NULL ? proc_cgroups(pid, error) : NULL;
	g_autofree char *text = g_strdup_printf("%d", (int)pid);

	if (here == NULL)
		return FALSE;
	g_autoptr(GPtrArray) bases = hierarchies();
	for (guint i = 0; i < bases->len; i++) {
		g_autofree char *procs = procs_of(there, g_ptr_array_index(bases, i));
		g_autofree char *now = procs_of(here, g_ptr_array_index(bases, i));
		if (procs != NULL && g_strcmp0(procs, now) != 0 && !write_text(procs, text))
			return host_cgroup_join_error(procs, errno, error);
	}
	return TRUE;
}

/* The hierarchy the memory controller is in: the root on v2; on v1 the
 * folder whose name lists "memory" ("memory", or a mount shared with
 * other controllers such as "cpu,memory"); NULL when there is none. */
static char *memory_hierarchy(void)
{
	if (host_cgroup_is_unified())
		return g_strdup(root_dir());
	g_autoptr(GPtrArray) bases = hierarchies();
	for (guint i = 0; i < bases->len; i++) {
		g_autofree char *name = g_path_get_basename(g_ptr_array_index(bases, i));
		g_auto(GStrv) ctrls = g_strsplit(name, ",", -1);
		if (g_strv_contains((const char *const *)ctrls, "memory"))
			return g_strdup(g_ptr_array_index(bases, i));
	}
	return NULL;
}

gboolean host_cgroup_charge_to_root(pid_t pid, GError **error)
{
	g_autofree char *base = memory_hierarchy();
	g_autofree char *text = g_strdup_printf("%d", (int)pid);

	if (base == NULL)
		return TRUE;
	g_autofree char *procs = g_build_filename(base, "cgroup.procs", NULL);
	if (!write_text(procs, text))
		return host_cgroup_join_error(procs, errno, error);
	return TRUE;
}

/* v1 reports "no limit" as the largest page-aligned count; any value
 * from 2^62 on is taken as none. */
#define UNLIMITED_FROM (G_GUINT64_CONSTANT(1) << 62)

/* The limit in dir's memory.limit_in_bytes (v1) or memory.max (v2),
 * G_MAXUINT64 for none or an unreadable file (a folder that is not
 * there, the root, which has none). */
static guint64 limit_in(const char *dir, gboolean unified)
{
	g_autofree char *file = g_build_filename(dir, unified ? "memory.max" : "memory.limit_in_bytes", NULL);
	g_autofree char *text = NULL;
	guint64 v;

	if (!ck_file_read_bounded(file, 4096, &text, NULL, NULL) ||
	    !ck_parse_uint64(g_strstrip(text), file, G_MAXUINT64, &v, NULL) || v >= UNLIMITED_FROM)
		return G_MAXUINT64;
	return v;
}

/* The smallest limit on rel (a cgroupfs path) and its ancestors. */
static void chain_limit(const char *base, const char *rel, gboolean unified, HostMemoryLimit *out)
{
	g_autofree char *dir = g_strconcat(base, rel, NULL);

	while (strlen(dir) > strlen(base)) {
		guint64 v = limit_in(dir, unified);
		if (v < out->bytes) {
			out->bytes = v;
			g_free(out->dir);
			out->dir = g_strdup(dir);
		}
		char *slash = strrchr(dir, '/');
		*slash = '\0';
	}
}

void host_cgroup_memory_limit(const char *cgroups_path, HostMemoryLimit *out)
{
	gboolean unified = host_cgroup_is_unified();
	g_autofree char *base = memory_hierarchy();
	g_autofree char *rel = host_cgroup_fs_path(cgroups_path);
	g_autoptr(GHashTable) self = proc_cgroups(getpid(), NULL);
	const char *own = self != NULL && base != NULL ? hierarchy_path(self, base) : NULL;

	out->bytes = G_MAXUINT64;
	out->dir = NULL;
	if (base == NULL)
		return;
	if (rel != NULL)
		chain_limit(base, rel, unified, out);
	if (own != NULL)
		chain_limit(base, own, unified, out);
}

gboolean host_cgroup_join_self(HostCgroup *cg, GError **error)
{
	g_autofree char *pid = g_strdup_printf("%d", (int)getpid());

	if (cg->procs == NULL || cg->procs->len == 0)
		return TRUE;
	if (!record_origins(cg, cg->bases, error))
		return FALSE;
	for (guint i = 0; i < cg->procs->len; i++) {
		const char *procs = g_ptr_array_index(cg->procs, i);
		if (!write_text(procs, pid))
			return host_cgroup_join_error(procs, errno, error);
	}
	return TRUE;
}

/* On cgroup v1 systemd makes the scope only in the hierarchies it
 * manages. Like runc's legacy systemd manager, the pid then joins the
 * scope's folder (as systemd lays it out) in every other hierarchy itself,
 * cpuset filled as usual: all but systemd's own (name=systemd) and, in
 * the hybrid layout, the unified one. */
static gboolean join_beside_systemd(HostCgroup *cg, const char *cgroups_path, pid_t pid, GError **error)
{
	g_autofree char *rel = host_cgroup_fs_path(cgroups_path);
	g_autofree char *text = g_strdup_printf("%d", (int)pid);
	g_autoptr(GPtrArray) bases = hierarchies();

	for (guint i = 0; i < bases->len; i++) {
		g_autofree char *name = g_path_get_basename(g_ptr_array_index(bases, i));
		if (!g_str_equal(name, "systemd") && !g_str_equal(name, "unified") &&
		    !prepare_under(cg, g_ptr_array_index(bases, i), rel, FALSE, error))
			return FALSE;
	}
	for (guint i = 0; i < cg->procs->len; i++)
		if (!write_text(g_ptr_array_index(cg->procs, i), text))
			return host_cgroup_join_error(g_ptr_array_index(cg->procs, i), errno, error);
	return TRUE;
}

gboolean host_cgroup_systemd_join(HostCgroup *cg, const char *cgroups_path, const OciResources *res, pid_t pid,
				  GError **error)
{
	gboolean unified = host_cgroup_is_unified();

	init_arrays(cg);
	if (pid == getpid()) {
		g_autoptr(GPtrArray) bases = hierarchies();
		if (!record_origins(cg, bases, error))
			return FALSE;
	}
	if (!host_systemd_start_scope(cgroups_path, pid, res, unified, &cg->unit, error))
		return FALSE;
	return unified || join_beside_systemd(cg, cgroups_path, pid, error);
}

void host_cgroup_go_back(HostCgroup *cg)
{
	g_autofree char *pid = g_strdup_printf("%d", (int)getpid());

	for (guint i = 0; cg->origins != NULL && i < cg->origins->len; i++)
		if (!write_text(g_ptr_array_index(cg->origins, i), pid))
			ck_log_debug("host cgroup %s: %s", (char *)g_ptr_array_index(cg->origins, i),
				     g_strerror(errno));
	g_clear_pointer(&cg->origins, g_ptr_array_unref);
}

void host_cgroup_cleanup(HostCgroup *cg)
{
	g_autoptr(GError) error = NULL;

	host_cgroup_go_back(cg);
	if (cg->unit != NULL && !host_systemd_stop_scope(cg->unit, &error))
		ck_log_warning("%s", error->message);
	g_clear_pointer(&cg->unit, g_free);
	for (guint i = cg->created ? cg->created->len : 0; i > 0; i--) {
		const char *dir = g_ptr_array_index(cg->created, i - 1);
		if (rmdir(dir) < 0 && errno != ENOENT)
			ck_log_debug("host cgroup %s: %s, leaving it", dir, g_strerror(errno));
	}
	if (cg->created != NULL)
		g_ptr_array_set_size(cg->created, 0);
}

/* The memory line of /proc/<pid>/cgroup: "N:memory:/path" (v1, the
 * controllers of a hierarchy comma-separated), or "0::/path" (v2). */
char *host_cgroup_oom_file(pid_t pid)
{
	g_autofree char *proc = g_strdup_printf("/proc/%d/cgroup", (int)pid);
	g_autofree char *text = NULL;
	gboolean unified = host_cgroup_is_unified();

	if (!ck_file_read_bounded(proc, 64 * 1024, &text, NULL, NULL))
		return NULL;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		g_auto(GStrv) f = g_strsplit(*l, ":", 3);
		if (g_strv_length(f) != 3 || f[2][0] != '/')
			continue;
		if (unified && g_str_equal(f[0], "0") && f[1][0] == '\0')
			return g_strdup_printf("%s%s%smemory.events", root_dir(), f[2],
					       g_str_has_suffix(f[2], "/") ? "" : "/");
		g_auto(GStrv) ctrls = g_strsplit(f[1], ",", -1);
		if (!unified && g_strv_contains((const char *const *)ctrls, "memory")) {
			g_autofree char *base = memory_hierarchy();
			return base == NULL ? NULL
					    : g_strdup_printf("%s%s%smemory.oom_control", base, f[2],
							      g_str_has_suffix(f[2], "/") ? "" : "/");
		}
	}
	return NULL;
}

gboolean host_cgroup_oom_count(const char *path, guint64 *out)
{
	g_autofree char *text = NULL;
	guint64 sum = 0;

	if (!ck_file_read_bounded(path, 64 * 1024, &text, NULL, NULL))
		return FALSE;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		g_auto(GStrv) kv = g_strsplit(*l, " ", 2);
		guint64 n;
		if (kv[0] == NULL || kv[1] == NULL || !(g_str_equal(kv[0], "oom") || g_str_equal(kv[0], "oom_kill")))
			continue;
		if (ck_parse_uint64(kv[1], kv[0], G_MAXUINT64, &n, NULL))
			sum += n;
	}
	*out = sum;
	return TRUE;
}
