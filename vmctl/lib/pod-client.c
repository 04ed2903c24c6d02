/* pod-client: pod directories, control socket connection, namespace map. */
#include "pod-client.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-parse.h"
#include "base/ck-socket.h"
#include "state.h"

#define NAMESPACES_FILE "namespaces.json"
#define GUEST_FILE "guest.json"

char *pod_dir(const char *root, const char *pod_id)
{
	return pod_state_dir(root, pod_id);
}

char *pod_socket_path(const char *root, const char *pod_id)
{
	g_autofree char *dir = pod_dir(root, pod_id);
	return g_build_filename(dir, "ctl.sock", NULL);
}

char *pod_share_dir(const char *root, const char *pod_id)
{
	g_autofree char *dir = pod_dir(root, pod_id);
	return g_build_filename(dir, "shared", NULL);
}

int pod_connect_path(const char *path, GError **error)
{
	g_autoptr(GError) local = NULL;
	int fd = ck_unix_connect(path, SOCK_STREAM, &local);

	if (fd >= 0)
		return fd;
	if (g_error_matches(local, CK_ERRNO_ERROR, ECONNREFUSED) || g_error_matches(local, CK_ERRNO_ERROR, ENOENT))
		return ck_set_error(error, CK_ERROR_DISCONNECTED, "the pod monitor at %s is not running", path), -1;
	g_propagate_error(error, g_steal_pointer(&local));
	return -1;
}

int pod_connect(const char *root, const char *pod_id, int timeout_ms, GError **error)
{
	g_autofree char *path = pod_socket_path(root, pod_id);
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	for (;;) {
		g_autoptr(GError) local = NULL;
		int fd = pod_connect_path(path, &local);
		if (fd >= 0)
			return fd;
		if (!ck_error_is(local, CK_ERROR_DISCONNECTED) || ck_deadline_remaining_ms(deadline) == 0) {
			g_propagate_prefixed_error(error, g_steal_pointer(&local), "pod %s: ", pod_id);
			return -1;
		}
		g_usleep(20000);
	}
}

gboolean pod_record_namespaces(const char *root, const char *pod_id, const OciSpec *spec, GError **error)
{
	g_autofree char *dir = pod_dir(root, pod_id);
	g_autofree char *path = g_build_filename(dir, NAMESPACES_FILE, NULL);
	g_autoptr(CkJsonGen) g = ck_json_gen_new();

	ck_json_map_open(g);
	for (gsize i = 0; i < spec->n_namespaces; i++)
		if (spec->namespaces[i].path != NULL)
			ck_json_kv_string(g, oci_namespace_type_to_string(spec->namespaces[i].type),
					  spec->namespaces[i].path);
	ck_json_map_close(g);
	gsize len = 0;
	g_autofree char *doc = ck_json_gen_finish(g, &len, error);
	return doc != NULL && ck_file_write_atomic(path, doc, len, 0600, FALSE, error);
}

void pod_guest_facts_clear(PodGuestFacts *facts)
{
	g_clear_pointer(&facts->compat_abis, g_strfreev);
	facts->seccomp_bpf = FALSE;
}

gboolean pod_record_guest(const char *root, const char *pod_id, const PodGuestFacts *facts, GError **error)
{
	g_autofree char *dir = pod_dir(root, pod_id);
	g_autofree char *path = g_build_filename(dir, GUEST_FILE, NULL);
	g_autoptr(CkJsonGen) g = ck_json_gen_new();

	ck_json_map_open(g);
	ck_json_kv_bool(g, "seccomp_bpf", facts->seccomp_bpf);
	if (facts->compat_abis != NULL) {
		ck_json_key(g, "compat_abis");
		ck_json_strv(g, (const char *const *)facts->compat_abis);
	}
	ck_json_map_close(g);
	gsize len = 0;
	g_autofree char *doc = ck_json_gen_finish(g, &len, error);
	return doc != NULL && ck_file_write_atomic(path, doc, len, 0600, FALSE, error);
}

gboolean pod_read_guest(const char *root, const char *pod_id, PodGuestFacts *out)
{
	g_autofree char *dir = pod_dir(root, pod_id);
	g_autofree char *path = g_build_filename(dir, GUEST_FILE, NULL);
	g_auto(yajl_val) tree = ck_json_parse_file(path, 4096, NULL);
	yajl_val bpf = ck_json_get(tree, "seccomp_bpf"), abis = ck_json_get(tree, "compat_abis");

	*out = (PodGuestFacts){0};
	if (!YAJL_IS_TRUE(bpf) && !YAJL_IS_FALSE(bpf))
		return FALSE;
	out->seccomp_bpf = YAJL_IS_TRUE(bpf);
	if (YAJL_IS_ARRAY(abis)) {
		g_autoptr(GStrvBuilder) names = g_strv_builder_new();
		for (gsize i = 0; i < abis->u.array.len; i++)
			if (YAJL_IS_STRING(abis->u.array.values[i]))
				g_strv_builder_add(names, abis->u.array.values[i]->u.string);
		out->compat_abis = g_strv_builder_end(names);
	}
	return TRUE;
}

/* "/proc/<pid>/ns/<x>": the container whose stand-in is pid, if any. */
static char *container_of_pid(const char *root, const char *pod_id, const char *host_path)
{
	int pid = 0;
	g_auto(GStrv) parts = g_strsplit(host_path, "/", -1);

	if (g_strv_length(parts) != 5 || !g_str_equal(parts[1], "proc") || !g_str_equal(parts[3], "ns") ||
	    !ck_parse_int(parts[2], "pid", 1, G_MAXINT, &pid, NULL))
		return NULL;
	g_autoptr(GPtrArray) ids = container_state_list(root, NULL);
	for (guint i = 0; ids != NULL && i < ids->len; i++) {
		g_autoptr(ContainerState) st = container_state_read(root, g_ptr_array_index(ids, i), NULL);
		if (st != NULL && st->pid == pid && g_strcmp0(st->pod_id, pod_id) == 0)
			return g_strdup(st->id);
	}
	return NULL;
}

static gboolean is_sandbox_namespace(const char *root, const char *pod_id, OciNamespaceType type,
				     const char *host_path)
{
	g_autofree char *dir = pod_dir(root, pod_id);
	g_autofree char *path = g_build_filename(dir, NAMESPACES_FILE, NULL);
	g_auto(yajl_val) tree = ck_json_parse_file(path, 64 * 1024, NULL);
	yajl_val v = ck_json_get(tree, oci_namespace_type_to_string(type));

	return v != NULL && YAJL_IS_STRING(v) && g_str_equal(v->u.string, host_path);
}

char *pod_resolve_namespace(const char *root, const char *pod_id, gboolean is_sandbox, OciNamespaceType type,
			    const char *host_path, GError **error)
{
	if (is_sandbox)
		return NULL; /* the sandbox creates the pod's namespaces */
	if (is_sandbox_namespace(root, pod_id, type, host_path))
		return g_strdup_printf("container:%s", pod_id);
	g_autofree char *owner = container_of_pid(root, pod_id, host_path);
	if (owner != NULL)
		return g_strdup_printf("container:%s", owner);
	return ck_set_error(error, CK_ERROR_INVALID, "%s namespace '%s' is not one of pod %s",
			    oci_namespace_type_to_string(type), host_path, pod_id),
	       NULL;
}

/* --- a sandbox's namespace paths ------------------------------------------------- */

/* The host's own: the same namespace as this process's (the runtime runs
 * in the host's namespaces) or, where it can be read, PID 1's. */
static gboolean is_host_namespace(const struct stat *st, const char *proc_name)
{
	const char *const owners[] = {"self", "1"};

	for (gsize i = 0; i < G_N_ELEMENTS(owners); i++) {
		g_autofree char *own = g_strdup_printf("/proc/%s/ns/%s", owners[i], proc_name);
		struct stat o;
		if (stat(own, &o) == 0 && o.st_dev == st->st_dev && o.st_ino == st->st_ino)
			return TRUE;
	}
	return FALSE;
}

static gboolean check_sandbox_namespace(const OciNamespace *ns, GError **error)
{
	const char *type = oci_namespace_type_to_string(ns->type);
	OciNamespaceType actual;
	struct stat st;

	/* O_NONBLOCK: a FIFO at the path must not hang the create */
	ck_autofd fd = open(ns->path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		return ck_set_error_errno(error, errno, "%s namespace %s", type, ns->path);
	int flag = ioctl(fd, NS_GET_NSTYPE);
	if (flag < 0)
		return ck_set_error(error, CK_ERROR_INVALID, "%s namespace %s: not a namespace", type, ns->path);
	if (flag != oci_namespace_clone_flag(ns->type)) {
		const char *got = oci_namespace_type_from_clone_flag(flag, &actual) ? oci_namespace_type_to_string(actual)
										     : "different";
		return ck_set_error(error, CK_ERROR_INVALID, "%s namespace %s: the path is %s %s namespace, not %s",
				    type, ns->path, g_str_equal(got, "ipc") ? "an" : "a", got, type);
	}
	/* the VM is the pod's network namespace: QEMU runs in it, host's or not */
	if (ns->type != OCI_NS_NETWORK && is_host_namespace(&st, oci_namespace_proc_name(ns->type)))
		return ck_set_error(error, CK_ERROR_UNSUPPORTED,
				    "%s namespace %s: the host's own %s namespace; a VM cannot join it (its "
				    "containers' namespaces live in the guest kernel)",
				    type, ns->path, type);
	return TRUE;
}

gboolean pod_check_sandbox_namespaces(const OciSpec *spec, GError **error)
{
	for (gsize i = 0; i < spec->n_namespaces; i++) {
		const OciNamespace *ns = &spec->namespaces[i];
		if (ns->path != NULL && !check_sandbox_namespace(ns, error))
			return FALSE;
	}
	return TRUE;
}
