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
#include "base/ck-version.h"
#include "proto/ck-frame.h"
#include "cgroup.h"
#include "container.h"

#define COPY_FILE_MAX (1024 * 1024)

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

gboolean op_create_sandbox(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	Agent *agent = req->agent;
	const CkCreateSandboxArgs *a = args;

	(void)result;
	if (agent->sandbox_created)
		return ck_set_error(error, CK_ERROR_EXISTS, "create_sandbox: the sandbox already exists");
	if (a->msize_9p < 4096 || a->msize_9p > 4 * 1024 * 1024)
		return ck_set_error(error, CK_ERROR_INVALID, "create_sandbox: msize_9p: %u out of range", a->msize_9p);
	if (a->guest_hook_path != NULL && *a->guest_hook_path != '\0' && !g_path_is_absolute(a->guest_hook_path))
		return ck_set_error(error, CK_ERROR_INVALID,
				    "create_sandbox: guest_hook_path: '%s' is not an absolute path",
				    a->guest_hook_path);
	if (a->hostname != NULL && sethostname(a->hostname, strlen(a->hostname)) < 0)
		return ck_set_error_errno(error, errno, "create_sandbox: sethostname '%s'", a->hostname);
	if (!ck_mkdir_p(SANDBOX_FILES_DIR, 0755, error) || !apply_sysctls(a->sysctl, error) || !cgroup_init(error) ||
	    !container_oom_watch_init(agent, error))
		return FALSE;
	if (a->share_tag != NULL && !mount_share(a->share_tag, a->msize_9p, error))
		return FALSE;
	if (a->guest_hook_path != NULL && *a->guest_hook_path != '\0')
		scan_guest_hooks(agent, a->guest_hook_path);
	agent->sandbox_created = TRUE;
	return TRUE;
}

/* After the reply has gone out. */
static gboolean poweroff_later(gpointer data)
{
	Agent *agent = data;

	(void)ck_channel_flush(agent->channel, 1000, NULL);
	ck_log_info("powering off");
	(void)umount2(SANDBOX_SHARE_DIR, MNT_DETACH);
	guest_poweroff();
}

/* What compiling a seccomp filter for this kernel may leave out
 * (oci-seccomp.h), for the host that compiles them; NULL: not probed. */
static char **compat_abis(const OciSeccompAbis *abis)
{
	GPtrArray *names;

	if (!abis->probed)
		return NULL;
	names = g_ptr_array_new();
	if (abis->ia32)
		g_ptr_array_add(names, g_strdup("ia32"));
	if (abis->x32)
		g_ptr_array_add(names, g_strdup("x32"));
	g_ptr_array_add(names, NULL);
	return (char **)g_ptr_array_free(names, FALSE);
}

gboolean op_version(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	const CkVersionArgs *a = args;
	CkVersionResult *r = result;
	struct utsname uts;
	struct sysinfo si;

	if (a->protocol != CK_PROTO_VERSION)
		return ck_set_error(error, CK_ERROR_UNSUPPORTED,
				    "protocol version %" G_GINT64_FORMAT " not supported by the agent (speaks %d)",
				    a->protocol, CK_PROTO_VERSION);
	(void)uname(&uts);
	(void)sysinfo(&si);
	*r = (CkVersionResult){
	    .protocol = CK_PROTO_VERSION,
	    .agent_version = g_strdup(CK_VERSION),
	    .agent_commit = g_strdup(CK_GIT_COMMIT),
	    .kernel_release = g_strdup(uts.release),
	    .kernel_version = g_strdup(uts.version),
	    .machine = g_strdup(uts.machine),
	    .uptime_us = guest_uptime_us(),
	    .init_start_us = req->agent->start_uptime_us,
	    .ready_us = req->agent->ready_uptime_us,
	    .mem_total_kib = (gint64)(si.totalram * si.mem_unit / 1024),
	    .cpus_online = sysconf(_SC_NPROCESSORS_ONLN),
	    .modules_loaded = req->agent->modules_loaded,
	    .compat_abis = compat_abis(&req->agent->seccomp_abis),
	    .seccomp_bpf = TRUE,
	};
	return TRUE;
}

gboolean op_ping(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	(void)req;
	(void)args;
	(void)result;
	(void)error;
	return TRUE;
}

gboolean op_shutdown(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	(void)args;
	(void)result;
	(void)error;
	/* answer first, then power off from the loop once the reply is out */
	req->agent->shutting_down = TRUE;
	g_idle_add(poweroff_later, req->agent);
	return TRUE;
}

gboolean op_destroy_sandbox(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	(void)args;
	(void)result;
	(void)error;
	container_kill_all(req->agent);
	req->agent->shutting_down = TRUE;
	g_idle_add(poweroff_later, req->agent);
	return TRUE;
}

gboolean op_copy_file(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	const CkCopyFileArgs *a = args;
	gsize len = 0;

	(void)req;
	(void)result;
	if (!g_str_has_prefix(a->path, SANDBOX_FILES_DIR "/") || !guest_path_is_shared(a->path))
		return ck_set_error(error, CK_ERROR_INVALID, "copy_file: path: '%s' is not under %s", a->path,
				    SANDBOX_FILES_DIR);
	if (strlen(a->data) > COPY_FILE_MAX * 4 / 3 + 4)
		return ck_set_error(error, CK_ERROR_INVALID, "copy_file: %s: larger than %d bytes", a->path,
				    COPY_FILE_MAX);
	g_autofree guchar *bytes = g_base64_decode(a->data, &len);
	g_autofree char *dir = g_path_get_dirname(a->path);
	if (!ck_mkdir_p(dir, 0755, error) || !ck_file_write_atomic(a->path, bytes, len, a->mode & 07777, FALSE, error))
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

static void online_result(OnlineWait *w, CkOnlineCpuMemResult *r)
{
	r->cpus_onlined = w->cpus_onlined;
	r->memory_blocks_onlined = w->blocks_onlined;
	r->cpus_online = sysconf(_SC_NPROCESSORS_ONLN);
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
		CkOnlineCpuMemResult r;
		online_result(w, &r);
		agent_request_reply(w->req, &r);
	}
	g_free(w);
	return G_SOURCE_REMOVE;
}

gboolean op_online_cpu_mem(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	OnlineWait w = {.req = req, .want = ((const CkOnlineCpuMemArgs *)args)->cpus};

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

gboolean op_guest_details(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	CkGuestDetailsResult *r = result;
	struct utsname uts;
	struct sysinfo si;

	(void)args;
	(void)error;
	(void)uname(&uts);
	(void)sysinfo(&si);
	r->kernel_release = g_strdup(uts.release);
	r->mem_total_kib = (gint64)(si.totalram * si.mem_unit / 1024);
	r->mem_free_kib = (gint64)(si.freeram * si.mem_unit / 1024);
	r->cpus_online = sysconf(_SC_NPROCESSORS_ONLN);
	r->cpus_configured = sysconf(_SC_NPROCESSORS_CONF);
	r->containers = g_hash_table_size(req->agent->containers);
	return TRUE;
}
