/* cgroup: guest cgroup v2 management (see cgroup.h). */
#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "base/ck-parse.h"

static gboolean write_file(const char *dir, const char *file, const char *value, GError **error)
{
	g_autofree char *path = g_build_filename(dir, file, NULL);
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return ck_set_error_errno(error, errno, "cgroup: open %s", path);
	gboolean ok = ck_write_all(fd, value, strlen(value));
	int errsv = errno;
	close(fd);
	if (!ok)
		return ck_set_error_errno(error, errsv, "cgroup: write '%s' to %s", value, path);
	return TRUE;
}

static char *read_file(const char *dir, const char *file)
{
	g_autofree char *path = g_build_filename(dir, file, NULL);
	char *data = NULL;

	if (!ck_file_read_bounded(path, 1024 * 1024, &data, NULL, NULL))
		return NULL;
	return data;
}

gboolean cgroup_init(GError **error)
{
	g_autofree char *available = read_file(CGROUP_ROOT, "cgroup.controllers");
	if (available == NULL)
		return ck_set_error(error, CK_ERROR_UNSUPPORTED, "cgroup v2 is not mounted at %s", CGROUP_ROOT);

	g_autoptr(GString) enable = g_string_new(NULL);
	g_auto(GStrv) ctrls = g_strsplit_set(g_strstrip(available), " \n", -1);
	for (char **c = ctrls; *c != NULL; c++)
		if (**c != '\0')
			g_string_append_printf(enable, "%s+%s", enable->len ? " " : "", *c);
	if (mkdir(CGROUP_CONTAINERS, 0755) < 0 && errno != EEXIST)
		return ck_set_error_errno(error, errno, "cgroup: mkdir %s", CGROUP_CONTAINERS);
	if (!write_file(CGROUP_ROOT, "cgroup.subtree_control", enable->str, error) ||
	    !write_file(CGROUP_CONTAINERS, "cgroup.subtree_control", enable->str, error))
		return FALSE;
	return TRUE;
}

char *cgroup_path_for(const char *container_id)
{
	return g_build_filename(CGROUP_CONTAINERS, container_id, NULL);
}

guint64 cgroup_shares_to_weight(guint64 shares)
{
	/* runc's linear mapping of [2, 262144] onto [1, 10000] */
	if (shares == 0)
		return 0;
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

char *cgroup_cpu_max(gint64 quota, guint64 period, const char *current)
{
	g_autofree char *copy = g_strstrip(g_strdup(current != NULL ? current : ""));
	g_auto(GStrv) now = g_strsplit(copy, " ", 2);
	guint64 now_period = 0;

	/* an update that gives one of the two keeps the other (runc merges an
	 * update into the container's limits) */
	if (period == 0 && (now[0] == NULL || now[1] == NULL ||
			    !ck_parse_uint64(now[1], "cpu.max", G_MAXUINT64, &now_period, NULL) || now_period == 0))
		now_period = 100000;
	if (period == 0)
		period = now_period;
	if (quota > 0)
		return g_strdup_printf("%" G_GINT64_FORMAT " %" G_GUINT64_FORMAT, quota, period);
	if (quota == 0 && now[0] != NULL && *now[0] != '\0')
		return g_strdup_printf("%s %" G_GUINT64_FORMAT, now[0], period);
	return g_strdup_printf("max %" G_GUINT64_FORMAT, period);
}

char *cgroup_swap_max(gint64 memory_limit, gint64 memory_swap)
{
	/* OCI's swap is memory+swap (v1); v2 limits swap alone */
	if (memory_swap == -1)
		return g_strdup("max");
	if (memory_limit <= 0 || memory_swap < memory_limit)
		return NULL;
	return g_strdup_printf("%" G_GINT64_FORMAT, memory_swap - memory_limit);
}

static char *limit_or_max(gint64 v)
{
	return v < 0 ? g_strdup("max") : g_strdup_printf("%" G_GINT64_FORMAT, v);
}

static gboolean apply_memory(const char *path, const OciResources *res, GError **error)
{
	if (res->memory_limit != 0) {
		g_autofree char *v = limit_or_max(res->memory_limit);
		if (!write_file(path, "memory.max", v, error))
			return FALSE;
	}
	if (res->memory_reservation > 0) {
		g_autofree char *v = limit_or_max(res->memory_reservation);
		if (!write_file(path, "memory.low", v, error))
			return FALSE;
	}
	if (res->memory_swap != 0) {
		g_autofree char *v = cgroup_swap_max(res->memory_limit, res->memory_swap);
		if (v == NULL)
			return ck_set_error(error, CK_ERROR_INVALID,
					    "linux.resources.memory.swap: %" G_GINT64_FORMAT
					    " is below the memory limit %" G_GINT64_FORMAT,
					    res->memory_swap, res->memory_limit);
		/* no swap device in the guest: the file may be absent */
		g_autofree char *f = g_build_filename(path, "memory.swap.max", NULL);
		if (g_file_test(f, G_FILE_TEST_EXISTS) && !write_file(path, "memory.swap.max", v, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean apply_cpu(const char *path, const OciResources *res, GError **error)
{
	if (res->cpu_shares > 0) {
		g_autofree char *v = g_strdup_printf("%" G_GUINT64_FORMAT, cgroup_shares_to_weight(res->cpu_shares));
		if (!write_file(path, "cpu.weight", v, error))
			return FALSE;
	}
	if (res->cpu_quota != 0 || res->cpu_period != 0) {
		g_autofree char *now = read_file(path, "cpu.max");
		g_autofree char *v = cgroup_cpu_max(res->cpu_quota, res->cpu_period, now);
		if (!write_file(path, "cpu.max", v, error))
			return FALSE;
	}
	if (res->cpu_cpus != NULL || res->cpu_mems != NULL)
		ck_log_debug("cgroup %s: cpuset names host CPUs, ignored in the guest", path);
	return TRUE;
}

static gboolean apply_unified(const char *path, GHashTable *unified, GError **error)
{
	GHashTableIter it;
	gpointer k, v;

	if (unified == NULL)
		return TRUE;
	g_hash_table_iter_init(&it, unified);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (strchr(k, '/') != NULL || g_str_equal(k, ".") || g_str_equal(k, ".."))
			return ck_set_error(error, CK_ERROR_INVALID, "linux.resources.unified: invalid key '%s'",
					    (char *)k);
		if (!write_file(path, k, v, error))
			return FALSE;
	}
	return TRUE;
}

gboolean cgroup_apply(const char *path, const OciResources *res, GError **error)
{
	if (!apply_memory(path, res, error) || !apply_cpu(path, res, error))
		return FALSE;
	if (res->has_pids_limit) {
		g_autofree char *v = res->pids_limit > 0 ? g_strdup_printf("%" G_GINT64_FORMAT, res->pids_limit)
							 : g_strdup("max");
		if (!write_file(path, "pids.max", v, error))
			return FALSE;
	}
	return apply_unified(path, res->unified, error);
}

gboolean cgroup_create(const char *path, const OciResources *res, GError **error)
{
	if (mkdir(path, 0755) < 0)
		return ck_set_error_errno(error, errno, "cgroup: mkdir %s", path);
	if (res != NULL && !cgroup_apply(path, res, error)) {
		(void)rmdir(path);
		return FALSE;
	}
	return TRUE;
}

gboolean cgroup_freeze(const char *path, gboolean frozen, GError **error)
{
	return write_file(path, "cgroup.freeze", frozen ? "1" : "0", error);
}

GArray *cgroup_pids(const char *path, GError **error)
{
	g_autofree char *procs = read_file(path, "cgroup.procs");
	if (procs == NULL)
		return ck_set_error(error, CK_ERROR_NOT_FOUND, "cgroup %s is gone", path), NULL;

	GArray *pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	g_auto(GStrv) lines = g_strsplit(procs, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		int pid;
		if (**l != '\0' && ck_parse_int(*l, "pid", 1, G_MAXINT, &pid, NULL))
			g_array_append_val(pids, pid);
	}
	return pids;
}

gboolean cgroup_signal_all(const char *path, int sig, GError **error)
{
	if (sig == SIGKILL)
		return write_file(path, "cgroup.kill", "1", error);

	g_autoptr(GArray) pids = cgroup_pids(path, error);
	if (pids == NULL)
		return FALSE;
	for (guint i = 0; i < pids->len; i++)
		if (kill(g_array_index(pids, pid_t, i), sig) < 0 && errno != ESRCH)
			return ck_set_error_errno(error, errno, "kill %d", g_array_index(pids, pid_t, i));
	return TRUE;
}

gboolean cgroup_destroy(const char *path, int timeout_ms, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	if (!g_file_test(path, G_FILE_TEST_IS_DIR))
		return TRUE;
	(void)write_file(path, "cgroup.kill", "1", NULL);
	while (rmdir(path) < 0) {
		if (errno == ENOENT)
			return TRUE;
		if (errno != EBUSY || ck_deadline_remaining_ms(deadline) == 0)
			return ck_set_error_errno(error, errno, "cgroup: rmdir %s", path);
		g_usleep(5000);
	}
	return TRUE;
}

/* Value of "key N" in a flat-keyed file such as memory.events. */
static gint64 keyed_value(const char *content, const char *key)
{
	g_auto(GStrv) lines = g_strsplit(content ? content : "", "\n", -1);
	gsize klen = strlen(key);

	for (char **l = lines; *l != NULL; l++) {
		gint64 v;
		if (strncmp(*l, key, klen) == 0 && (*l)[klen] == ' ' &&
		    ck_parse_int64(*l + klen + 1, key, 0, G_MAXINT64, &v, NULL))
			return v;
	}
	return -1;
}

gint64 cgroup_oom_kills(const char *path)
{
	g_autofree char *events = read_file(path, "memory.events");
	return events ? keyed_value(events, "oom_kill") : -1;
}

/* A single-number file of the cgroup; -1 when it cannot be read. */
static gint64 stat_value(const char *path, const char *file)
{
	g_autofree char *v = read_file(path, file);
	gint64 n;

	if (v != NULL && ck_parse_int64(g_strstrip(v), file, 0, G_MAXINT64, &n, NULL))
		return n;
	return -1;
}

gboolean cgroup_stats(const char *path, CkStatsResult *out, GError **error)
{
	g_autofree char *cpu = read_file(path, "cpu.stat");
	g_autofree char *mem = read_file(path, "memory.stat");
	g_autofree char *events = read_file(path, "memory.events");

	if (cpu == NULL)
		return ck_set_error(error, CK_ERROR_NOT_FOUND, "cgroup %s is gone", path);
	out->cpu.usage_usec = keyed_value(cpu, "usage_usec");
	out->cpu.user_usec = keyed_value(cpu, "user_usec");
	out->cpu.system_usec = keyed_value(cpu, "system_usec");
	out->cpu.nr_throttled = keyed_value(cpu, "nr_throttled");
	out->cpu.throttled_usec = keyed_value(cpu, "throttled_usec");
	out->memory.usage = stat_value(path, "memory.current");
	out->memory.max_usage = stat_value(path, "memory.peak");
	out->memory.anon = keyed_value(mem, "anon");
	out->memory.file = keyed_value(mem, "file");
	out->memory.oom_kill = keyed_value(events, "oom_kill");
	out->pids.current = stat_value(path, "pids.current");
	return TRUE;
}
