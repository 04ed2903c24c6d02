/* guest-spec: bundle -> shared folder + rewritten spec (see guest-spec.h). */
#include "guest-spec.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"

gboolean guest_share_init(const char *share_dir, GError **error)
{
	if (!ck_mkdir_p(share_dir, 0700, error))
		return FALSE;
	if (mount(share_dir, share_dir, NULL, MS_BIND, NULL) < 0)
		return ck_set_error_errno(error, errno, "bind %s", share_dir);
	if (mount(NULL, share_dir, NULL, MS_PRIVATE | MS_REC, NULL) < 0) {
		int errsv = errno;
		(void)umount2(share_dir, MNT_DETACH);
		return ck_set_error_errno(error, errsv, "make %s private", share_dir);
	}
	return TRUE;
}

/* Mount points at or below dir, parents first (/proc/self/mountinfo order). */
static GPtrArray *mounts_under(const char *dir, GError **error)
{
	g_autofree char *info = NULL;

	if (!ck_file_read_bounded("/proc/self/mountinfo", 16 * 1024 * 1024, &info, NULL, error))
		return NULL;
	g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func(g_free);
	gsize dlen = strlen(dir);
	g_auto(GStrv) lines = g_strsplit(info, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		g_auto(GStrv) f = g_strsplit(*l, " ", 6);
		if (g_strv_length(f) < 5)
			continue;
		g_autofree char *mp = g_strcompress(f[4]); /* octal escapes */
		if (strncmp(mp, dir, dlen) == 0 && (mp[dlen] == '\0' || mp[dlen] == '/'))
			g_ptr_array_add(targets, g_steal_pointer(&mp));
	}
	return g_steal_pointer(&targets);
}

/* Unmounts every mount at or below dir, children first, then checks that
 * none is left: the caller removes the directory next, and a bind mount
 * that survived would let that removal reach the user's files. */
static gboolean umount_tree(const char *dir, GError **error)
{
	g_autoptr(GPtrArray) targets = mounts_under(dir, error);
	if (targets == NULL)
		return FALSE;
	for (guint i = targets->len; i > 0; i--) {
		const char *t = g_ptr_array_index(targets, i - 1);
		if (umount2(t, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
			return ck_set_error_errno(error, errno, "umount %s", t);
	}
	g_autoptr(GPtrArray) left = mounts_under(dir, error);
	if (left == NULL)
		return FALSE;
	if (left->len > 0)
		return ck_set_error(error, CK_ERROR_FAILED, "%s is still mounted; not removing %s",
				    (char *)g_ptr_array_index(left, 0), dir);
	return TRUE;
}

gboolean guest_share_destroy(const char *share_dir, GError **error)
{
	if (!g_file_test(share_dir, G_FILE_TEST_EXISTS))
		return TRUE;
	return umount_tree(share_dir, error) && ck_rm_rf(share_dir, error);
}

gboolean guest_spec_release(const char *share_dir, const char *id, GError **error)
{
	g_autofree char *dir = g_build_filename(share_dir, id, NULL);

	if (!g_file_test(dir, G_FILE_TEST_EXISTS))
		return TRUE;
	return umount_tree(dir, error) && ck_rm_rf(dir, error);
}

/* Creates the mount point (a directory, or an empty file for a file) and
 * bind-mounts src onto it, recursively. */
static gboolean bind_into_share(const char *src, const char *target, GError **error)
{
	struct stat st;

	if (stat(src, &st) < 0)
		return ck_set_error_errno(error, errno, "%s", src);
	if (S_ISDIR(st.st_mode)) {
		if (!ck_mkdir_p(target, 0755, error))
			return FALSE;
	} else {
		g_autofree char *parent = g_path_get_dirname(target);
		if (!ck_mkdir_p(parent, 0755, error))
			return FALSE;
		int fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0)
			return ck_set_error_errno(error, errno, "create %s", target);
		close(fd);
	}
	if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) < 0)
		return ck_set_error_errno(error, errno, "bind %s on %s", src, target);
	return TRUE;
}

static char *rootfs_source(const OciSpec *spec, const char *bundle)
{
	if (spec->root_path == NULL)
		return g_build_filename(bundle, "rootfs", NULL);
	if (g_path_is_absolute(spec->root_path))
		return g_strdup(spec->root_path);
	return g_build_filename(bundle, spec->root_path, NULL);
}

static gboolean is_bind(const OciMount *m)
{
	if (g_strcmp0(m->type, "bind") == 0)
		return TRUE;
	return m->options != NULL && (g_strv_contains((const char *const *)m->options, "bind") ||
				      g_strv_contains((const char *const *)m->options, "rbind"));
}

/* "<i>/<base name>": the mount source seen in the guest (and in the
 * container's mountinfo) keeps the host's base name, as under runc. A
 * source without one ("/", ending in "." or "..") is shared as "<i>". */
static char *share_name(const char *source, gsize i)
{
	g_autofree char *base = g_path_get_basename(source);

	if (g_str_equal(base, "/") || g_str_equal(base, ".") || g_str_equal(base, ".."))
		return g_strdup_printf("%" G_GSIZE_FORMAT, i);
	return g_strdup_printf("%" G_GSIZE_FORMAT "/%s", i, base);
}

static gboolean share_mounts(OciSpec *spec, const char *dir, const char *id, GError **error)
{
	for (gsize i = 0; i < spec->n_mounts; i++) {
		OciMount *m = &spec->mounts[i];
		if (!is_bind(m))
			continue;
		if (m->source == NULL || !g_path_is_absolute(m->source))
			return ck_set_error(error, CK_ERROR_INVALID, "mounts[%" G_GSIZE_FORMAT "].source: must be an "
					    "absolute path for a bind mount", i);
		g_autofree char *name = share_name(m->source, i);
		g_autofree char *target = g_build_filename(dir, "mounts", name, NULL);
		if (!bind_into_share(m->source, target, error)) {
			g_prefix_error(error, "mounts[%" G_GSIZE_FORMAT "]: ", i);
			return FALSE;
		}
		g_free(m->source);
		m->source = g_build_filename(GUEST_SHARE_DIR, id, "mounts", name, NULL);
	}
	return TRUE;
}

static gboolean map_namespaces(OciSpec *spec, GuestNsResolveFunc resolve, gpointer data, GError **error)
{
	for (gsize i = 0; i < spec->n_namespaces; i++) {
		OciNamespace *ns = &spec->namespaces[i];
		if (ns->path == NULL)
			continue;
		if (ns->type == OCI_NS_NETWORK) {
			g_clear_pointer(&ns->path, g_free);
			continue;
		}
		g_autoptr(GError) local = NULL;
		char *mapped = resolve ? resolve(ns->type, ns->path, data, &local) : NULL;
		if (local != NULL) {
			g_propagate_prefixed_error(error, g_steal_pointer(&local), "linux.namespaces[%" G_GSIZE_FORMAT "]: ",
						   i);
			return FALSE;
		}
		g_free(ns->path);
		ns->path = mapped;
	}
	return TRUE;
}

/* The host runs prestart, createRuntime, poststart and poststop (hooks.h);
 * createContainer and startContainer go to the agent, which runs them in
 * the container's namespaces (agent/guest-hooks.h). */
static void drop_host_hooks(OciSpec *spec)
{
	for (int s = 0; s < OCI_HOOK_MAX; s++) {
		if (s != OCI_HOOK_CREATE_CONTAINER && s != OCI_HOOK_START_CONTAINER)
			oci_hook_list_clear(&spec->hooks[s]);
	}
}

gboolean guest_spec_prepare(OciSpec *spec, const char *bundle, const char *share_dir, const char *id,
			    GuestNsResolveFunc resolve, gpointer resolve_data, gboolean keep_seccomp,
			    char **out_guest_rootfs, GError **error)
{
	g_autofree char *dir = g_build_filename(share_dir, id, NULL);
	g_autofree char *rootfs = rootfs_source(spec, bundle);
	g_autofree char *target = g_build_filename(dir, "rootfs", NULL);

	if (g_file_test(dir, G_FILE_TEST_EXISTS))
		return ck_set_error(error, CK_ERROR_EXISTS, "%s already exists: a container with id %s is already "
				    "shared", dir, id);
	if (!ck_mkdir_p(target, 0755, error))
		return FALSE;
	if (!bind_into_share(rootfs, target, error) || !share_mounts(spec, dir, id, error) ||
	    !map_namespaces(spec, resolve, resolve_data, error)) {
		g_autoptr(GError) cleanup = NULL;
		if (!guest_spec_release(share_dir, id, &cleanup))
			ck_log_warning("%s, ignoring", cleanup->message);
		return FALSE;
	}
	drop_host_hooks(spec);
	if (!keep_seccomp)
		spec->seccomp = NULL;
	g_free(spec->root_path);
	spec->root_path = g_build_filename(GUEST_SHARE_DIR, id, "rootfs", NULL);
	*out_guest_rootfs = g_strdup(spec->root_path);
	return TRUE;
}
