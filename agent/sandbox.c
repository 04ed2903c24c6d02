/* sandbox: guest-wide operations (see sandbox.h). */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "proto/ck-message.h"
#include "cgroup.h"
#include "container.h"

#define COPY_FILE_MAX (1024 * 1024)

gboolean sandbox_path_is_shared(const char *path)
{
	if (path == NULL || path[0] != '/' || strstr(path, "/../") != NULL || g_str_has_suffix(path, "/..") ||
	    strstr(path, "//") != NULL)
		return FALSE;
	return g_str_has_prefix(path, SANDBOX_SHARE_DIR "/") || g_str_has_prefix(path, SANDBOX_FILES_DIR "/");
}

typedef struct {
	char *hostname;
	char *share_tag;
	guint32 msize;
	yajl_val sysctl;
	char *guest_hook_path;
} SandboxArgs;

static void sandbox_args_clear(SandboxArgs *a)
{
	g_free(a->hostname);
	g_free(a->share_tag);
	g_free(a->guest_hook_path);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SandboxArgs, sandbox_args_clear)

static const CkJsonField sandbox_fields[] = {
	{"op", CK_JSON_IGNORE, 0, 0, 0, 0, NULL},
	{"hostname", CK_JSON_STRING, G_STRUCT_OFFSET(SandboxArgs, hostname), CK_JSON_NULLABLE, 0, 0, NULL},
	{"share_tag", CK_JSON_STRING, G_STRUCT_OFFSET(SandboxArgs, share_tag), CK_JSON_NULLABLE, 0, 0, NULL},
	{"msize_9p", CK_JSON_UINT32, G_STRUCT_OFFSET(SandboxArgs, msize), 0, 0, 0, NULL},
	{"sysctl", CK_JSON_OBJECT, G_STRUCT_OFFSET(SandboxArgs, sysctl), CK_JSON_NULLABLE, 0, 0, NULL},
	{"guest_hook_path", CK_JSON_STRING, G_STRUCT_OFFSET(SandboxArgs, guest_hook_path), CK_JSON_NULLABLE, 0, 0,
	 NULL},
	{NULL},
};

static gboolean mount_share(const char *tag, guint32 msize, GError **error)
{
	g_autofree char *opts = g_strdup_printf("trans=virtio,version=9p2000.L,cache=mmap,msize=%u", msize);

	if (!ck_mkdir_p(SANDBOX_SHARE_DIR, 0755, error))
		return FALSE;
	/* nodev: the host's files must not become device nodes in the guest */
	if (mount(tag, SANDBOX_SHARE_DIR, "9p", MS_NODEV, opts) < 0)
		return ck_set_error_errno(error, errno, "mount the shared folder '%s' (%s)", tag, opts);
	/* shared, as a host's mounts are under systemd: a container root
	 * made rslave (runc's default) is then a slave of it, "master:N" in
	 * its mountinfo as under runc, and an rshared one shares with it */
	if (mount(NULL, SANDBOX_SHARE_DIR, NULL, MS_SHARED, NULL) < 0)
		return ck_set_error_errno(error, errno, "make the shared folder %s shared", SANDBOX_SHARE_DIR);
	return TRUE;
}

static gboolean write_sysctl(const char *key, const char *value, GError **error)
{
	g_autofree char *rel = g_strdup(key);

	if (strstr(key, "..") != NULL || strchr(key, '/') != NULL)
		return ck_set_error(error, CK_ERROR_INVALID, "sysctl: invalid key '%s'", key);
	g_strdelimit(rel, ".", '/');
	g_autofree char *path = g_strdup_printf("/proc/sys/%s", rel);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_set_error_errno(error, errno, "sysctl %s", key);
	gboolean ok = ck_write_all(fd, value, strlen(value));
	int errsv = errno;
	close(fd);
	return ok || ck_set_error_errno(error, errsv, "sysctl %s=%s", key, value);
}

static gboolean apply_sysctls(yajl_val sysctl, GError **error)
{
	for (size_t i = 0; sysctl != NULL && i < sysctl->u.object.len; i++) {
		yajl_val v = sysctl->u.object.values[i];
		if (!YAJL_IS_STRING(v))
			return ck_set_error(error, CK_ERROR_INVALID, "sysctl.%s: expected a string",
					    sysctl->u.object.keys[i]);
		if (!write_sysctl(sysctl->u.object.keys[i], v->u.string, error))
			return FALSE;
	}
	return TRUE;
}

/* Kata's guest hooks: found once, here, as Kata's agent does; what is
 * wrong with them is logged, and the sandbox comes up without them. */
static void scan_guest_hooks(Agent *agent, const char *root)
{
	g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
	guint n = 0;

	guest_hooks_scan(&agent->guest_hooks, root, warnings);
	for (guint i = 0; i < warnings->len; i++)
		ck_log_warning("%s", (const char *)g_ptr_array_index(warnings, i));
	for (int s = 0; s < OCI_HOOK_MAX; s++)
		n += agent->guest_hooks.lists[s].n_hooks;
	ck_log_info("guest hooks: %u in %s", n, root);
}

gboolean op_create_sandbox(AgentRequest *req, yajl_val args, CkJsonGen *result, GError **error)
{
	Agent *agent = req->agent;
	g_auto(SandboxArgs) a = {.msize = 512 * 1024};

	(void)result;
	if (agent->sandbox_created)
		return ck_set_error(error, CK_ERROR_EXISTS, "create_sandbox: the sandbox already exists");
	if (!ck_json_dispatch(args, sandbox_fields, &a, "", CK_JSON_STRICT, error)) {
		g_prefix_error(error, "create_sandbox: ");
		return FALSE;
	}
	if (a.msize < 4096 || a.msize > 4 * 1024 * 1024)
		return ck_set_error(error, CK_ERROR_INVALID, "create_sandbox: msize_9p: %u out of range", a.msize);
	if (a.guest_hook_path != NULL && *a.guest_hook_path != '\0' && !g_path_is_absolute(a.guest_hook_path))
		return ck_set_error(error, CK_ERROR_INVALID, "create_sandbox: guest_hook_path: '%s' is not an absolute path",
				    a.guest_hook_path);
	if (a.hostname != NULL && sethostname(a.hostname, strlen(a.hostname)) < 0)
		return ck_set_error_errno(error, errno, "create_sandbox: sethostname '%s'", a.hostname);
	if (!ck_mkdir_p(SANDBOX_FILES_DIR, 0755, error) || !apply_sysctls(a.sysctl, error) ||
	    !cgroup_init(error) || !container_oom_watch_init(agent, error))
		return FALSE;
	if (a.share_tag != NULL && !mount_share(a.share_tag, a.msize, error))
		return FALSE;
	if (a.guest_hook_path != NULL && *a.guest_hook_path != '\0')
		scan_guest_hooks(agent, a.guest_hook_path);
	agent->sandbox_created = TRUE;
	return TRUE;
}

static gboolean poweroff_later(gpointer data)
{
	Agent *agent = data;

	(void)ck_channel_flush(agent->channel, 1000, NULL);
	(void)umount2(SANDBOX_SHARE_DIR, MNT_DETACH);
	guest_poweroff();
}

gboolean op_destroy_sandbox(AgentRequest *req, yajl_val args, CkJsonGen *result, GError **error)
{
	(void)args;
	(void)result;
	(void)error;
	container_kill_all(req->agent);
	req->agent->shutting_down = TRUE;
	g_idle_add(poweroff_later, req->agent);
	return TRUE;
}

typedef struct {
	char *path;
	char *data;
	guint32 mode;
} CopyArgs;

static void copy_args_clear(CopyArgs *a)
{
	g_free(a->path);
	g_free(a->data);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CopyArgs, copy_args_clear)

static const CkJsonField copy_fields[] = {
	{"op", CK_JSON_IGNORE, 0, 0, 0, 0, NULL},
	{"path", CK_JSON_STRING, G_STRUCT_OFFSET(CopyArgs, path), CK_JSON_REQUIRED, 0, 0, NULL},
	{"data", CK_JSON_STRING, G_STRUCT_OFFSET(CopyArgs, data), CK_JSON_REQUIRED, 0, 0, NULL},
	{"mode", CK_JSON_UINT32, G_STRUCT_OFFSET(CopyArgs, mode), 0, 0, 0, NULL},
	{NULL},
};

gboolean op_copy_file(AgentRequest *req, yajl_val args, CkJsonGen *result, GError **error)
{
	g_auto(CopyArgs) a = {.mode = 0644};
	gsize len = 0;

	(void)req;
	(void)result;
	if (!ck_json_dispatch(args, copy_fields, &a, "", CK_JSON_STRICT, error)) {
		g_prefix_error(error, "copy_file: ");
		return FALSE;
	}
	if (!g_str_has_prefix(a.path, SANDBOX_FILES_DIR "/") || !sandbox_path_is_shared(a.path))
		return ck_set_error(error, CK_ERROR_INVALID, "copy_file: path: '%s' is not under %s", a.path,
				    SANDBOX_FILES_DIR);
	if (strlen(a.data) > COPY_FILE_MAX * 4 / 3 + 4)
		return ck_set_error(error, CK_ERROR_INVALID, "copy_file: %s: larger than %d bytes", a.path,
				    COPY_FILE_MAX);
	g_autofree guchar *bytes = g_base64_decode(a.data, &len);
	g_autofree char *dir = g_path_get_dirname(a.path);
	if (!ck_mkdir_p(dir, 0755, error) || !ck_file_write_atomic(a.path, bytes, len, a.mode & 07777, FALSE, error))
		return FALSE;
	return TRUE;
}

/* Writes `value` to every <dir>/<prefix>N/<file> whose content is `from`;
 * returns how many it changed. */
static int online_all(const char *dir, const char *prefix, const char *file, const char *from, const char *value,
		      GError **error)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;
	int changed = 0;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		if (!g_str_has_prefix(name, prefix) || !g_ascii_isdigit(name[strlen(prefix)]))
			continue;
		g_autofree char *path = g_build_filename(dir, name, file, NULL);
		g_autofree char *now = NULL;
		if (!g_file_get_contents(path, &now, NULL, NULL) || !g_str_equal(g_strstrip(now), from))
			continue;
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || !ck_write_all(fd, value, strlen(value))) {
			int errsv = errno;
			if (fd >= 0)
				close(fd);
			return ck_set_error_errno(error, errsv, "online %s", path), -1;
		}
		close(fd);
		changed++;
	}
	return changed;
}

/* After the host hot-plugged vCPUs (and DIMMs, which come online by
 * themselves through memhp_default_state; this catches stragglers). ACPI
 * announces a new CPU to the kernel asynchronously, so with "cpus" (the
 * count the host now has) the answer waits, polling, until that many are
 * online or ONLINE_WAIT_MS passed. */
#define ONLINE_WAIT_MS 5000
#define ONLINE_POLL_MS 20

typedef struct {
	AgentRequest *req;
	gint64 want;
	gint64 deadline_us;
	int cpus_onlined, blocks_onlined;
} OnlineWait;

/* One pass; FALSE with error on a write the kernel refused. */
static gboolean online_pass(OnlineWait *w, GError **error)
{
	int cpus = online_all("/sys/devices/system/cpu", "cpu", "online", "0", "1", error);
	if (cpus < 0)
		return FALSE;
	int blocks = online_all("/sys/devices/system/memory", "memory", "state", "offline", "online", error);
	if (blocks < 0)
		return FALSE;
	w->cpus_onlined += cpus;
	w->blocks_onlined += blocks;
	return TRUE;
}

static void online_result(OnlineWait *w, CkJsonGen *result)
{
	ck_json_kv_int(result, "cpus_onlined", w->cpus_onlined);
	ck_json_kv_int(result, "memory_blocks_onlined", w->blocks_onlined);
	ck_json_kv_int(result, "cpus_online", sysconf(_SC_NPROCESSORS_ONLN));
}

static gboolean online_retry(gpointer data)
{
	OnlineWait *w = data;
	g_autoptr(GError) error = NULL;

	if (!online_pass(w, &error)) {
		agent_request_fail(w->req, error);
	} else if (sysconf(_SC_NPROCESSORS_ONLN) < w->want && g_get_monotonic_time() < w->deadline_us) {
		return G_SOURCE_CONTINUE;
	} else {
		CkJsonGen *result = ck_msg_result_begin();
		online_result(w, result);
		agent_request_reply(w->req, result);
	}
	g_free(w);
	return G_SOURCE_REMOVE;
}

gboolean op_online_cpu_mem(AgentRequest *req, yajl_val args, CkJsonGen *result, GError **error)
{
	OnlineWait w = {.req = req};

	(void)ck_json_as_int64(ck_json_get(args, "cpus"), &w.want);
	if (!online_pass(&w, error))
		return FALSE;
	if (sysconf(_SC_NPROCESSORS_ONLN) >= w.want) {
		online_result(&w, result);
		return TRUE;
	}
	w.deadline_us = g_get_monotonic_time() + ONLINE_WAIT_MS * 1000;
	req->deferred = TRUE;
	g_timeout_add(ONLINE_POLL_MS, online_retry, g_memdup2(&w, sizeof w));
	return TRUE;
}

gboolean op_guest_details(AgentRequest *req, yajl_val args, CkJsonGen *result, GError **error)
{
	struct utsname uts;
	struct sysinfo si;

	(void)req;
	(void)args;
	(void)error;
	(void)uname(&uts);
	(void)sysinfo(&si);
	ck_json_kv_string(result, "kernel_release", uts.release);
	ck_json_kv_int(result, "mem_total_kib", (gint64)(si.totalram * si.mem_unit / 1024));
	ck_json_kv_int(result, "mem_free_kib", (gint64)(si.freeram * si.mem_unit / 1024));
	ck_json_kv_int(result, "cpus_online", sysconf(_SC_NPROCESSORS_ONLN));
	ck_json_kv_int(result, "cpus_configured", sysconf(_SC_NPROCESSORS_CONF));
	ck_json_kv_int(result, "containers", g_hash_table_size(req->agent->containers));
	return TRUE;
}
