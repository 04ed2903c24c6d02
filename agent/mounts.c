/* mounts: OCI mounts into MountOps (parent), and the container's root
 * filesystem set-up in stage 2 (child). */
#include "mounts.h"
#include "spawn-sync.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/ck-error.h"

typedef struct {
	const char *name;
	gboolean clear; /* the flag is cleared rather than set */
	unsigned long flag;
} MountFlag;

static const MountFlag mount_flags[] = {
	{"ro", FALSE, MS_RDONLY},	   {"rw", TRUE, MS_RDONLY},	    {"nosuid", FALSE, MS_NOSUID},
	{"suid", TRUE, MS_NOSUID},	   {"nodev", FALSE, MS_NODEV},	    {"dev", TRUE, MS_NODEV},
	{"noexec", FALSE, MS_NOEXEC},	   {"exec", TRUE, MS_NOEXEC},	    {"sync", FALSE, MS_SYNCHRONOUS},
	{"async", TRUE, MS_SYNCHRONOUS},   {"dirsync", FALSE, MS_DIRSYNC},  {"remount", FALSE, MS_REMOUNT},
	{"mand", FALSE, MS_MANDLOCK},	   {"nomand", TRUE, MS_MANDLOCK},   {"noatime", FALSE, MS_NOATIME},
	{"atime", TRUE, MS_NOATIME},	   {"nodiratime", FALSE, MS_NODIRATIME}, {"diratime", TRUE, MS_NODIRATIME},
	{"relatime", FALSE, MS_RELATIME},  {"norelatime", TRUE, MS_RELATIME}, {"strictatime", FALSE, MS_STRICTATIME},
	{"nostrictatime", TRUE, MS_STRICTATIME},
};

static const MountFlag propagation_flags[] = {
	{"private", FALSE, MS_PRIVATE},		   {"rprivate", FALSE, MS_PRIVATE | MS_REC},
	{"shared", FALSE, MS_SHARED},		   {"rshared", FALSE, MS_SHARED | MS_REC},
	{"slave", FALSE, MS_SLAVE},		   {"rslave", FALSE, MS_SLAVE | MS_REC},
	{"unbindable", FALSE, MS_UNBINDABLE},	   {"runbindable", FALSE, MS_UNBINDABLE | MS_REC},
};

/* Options that only mean something to a runtime on the host (Podman's
 * copy-up of image content, idmapping) or that the guest cannot honour;
 * runc also accepts them silently. */
static const char *const ignored_options[] = {"tmpcopyup", "notmpcopyup", "copy", "nocopy", "idmap", "ridmap",
					      "z", "Z", "U", NULL};

static const MountFlag *find_flag(const MountFlag *table, gsize n, const char *name)
{
	for (gsize i = 0; i < n; i++)
		if (g_str_equal(table[i].name, name))
			return &table[i];
	return NULL;
}

gboolean mounts_parse_options(char **options, const char *path, unsigned long *out_flags,
			      unsigned long *out_propagation, gboolean *out_bind, gboolean *out_recursive,
			      char **out_data, GError **error)
{
	g_autoptr(GString) data = g_string_new(NULL);
	unsigned long flags = 0, propagation = 0;
	gboolean bind = FALSE, recursive = FALSE;

	for (gsize i = 0; options != NULL && options[i] != NULL; i++) {
		const char *o = options[i];
		const MountFlag *f;
		if (*o == '\0' || strchr(o, '\n') != NULL)
			return ck_set_error(error, CK_ERROR_INVALID, "%s.options[%" G_GSIZE_FORMAT "]: invalid option '%s'",
					    path, i, o);
		if ((f = find_flag(mount_flags, G_N_ELEMENTS(mount_flags), o)) != NULL)
			flags = f->clear ? (flags & ~f->flag) : (flags | f->flag);
		else if ((f = find_flag(propagation_flags, G_N_ELEMENTS(propagation_flags), o)) != NULL)
			propagation = f->flag;
		else if (g_str_equal(o, "bind") || g_str_equal(o, "rbind")) {
			bind = TRUE;
			recursive |= g_str_equal(o, "rbind");
		} else if (g_strv_contains(ignored_options, o))
			continue;
		else
			g_string_append_printf(data, "%s%s", data->len ? "," : "", o);
	}
	*out_flags = flags;
	*out_propagation = propagation;
	*out_bind = bind;
	*out_recursive = recursive;
	*out_data = data->len ? g_string_free(g_steal_pointer(&data), FALSE) : NULL;
	return TRUE;
}

/* --- user namespaces: the owners of the file systems mounted here ------- */

/* The host id (the guest's, outside the container's user namespace) of a
 * container id, through the spec's mappings. */
static gboolean map_id(const OciIdMapping *maps, gsize n, guint32 id, guint32 *out)
{
	for (gsize i = 0; i < n; i++)
		if (id >= maps[i].container_id && id - maps[i].container_id < maps[i].size) {
			*out = maps[i].host_id + (id - maps[i].container_id);
			return TRUE;
		}
	return FALSE;
}

/* The mounts are made before the user namespace is entered (spawn.h), by
 * the guest's root: a tmpfs would belong to it, an id the container
 * cannot see (65534 inside) and whose files its root cannot write. So a
 * tmpfs gets uid= and gid= of the container's root, and the uid= and
 * gid= a tmpfs or devpts names (devpts "gid=5") are mapped, as they mean
 * what runc, mounting inside the namespace, makes them mean. */
static gboolean map_mount_ids(const OciSpec *spec, const char *fstype, char **data, const char *path, GError **error)
{
	gboolean tmpfs = g_strcmp0(fstype, "tmpfs") == 0;
	gboolean have_uid = FALSE, have_gid = FALSE;
	g_autoptr(GString) out = g_string_new(NULL);
	g_auto(GStrv) opts = g_strsplit(*data ? *data : "", ",", -1);

	if (!tmpfs && g_strcmp0(fstype, "devpts") != 0)
		return TRUE;
	for (char **o = opts; *o != NULL; o++) {
		gboolean uid = g_str_has_prefix(*o, "uid="), gid = g_str_has_prefix(*o, "gid=");
		guint64 id;
		guint32 host;
		if (**o == '\0')
			continue;
		if ((uid || gid) && (!g_ascii_string_to_unsigned(*o + 4, 10, 0, G_MAXUINT32, &id, NULL) ||
				     !map_id(uid ? spec->uid_mappings : spec->gid_mappings,
					     uid ? spec->n_uid_mappings : spec->n_gid_mappings, (guint32)id, &host)))
			return ck_set_error(error, CK_ERROR_INVALID, "%s.options: %s is not mapped by linux.%s", path,
					    *o, uid ? "uidMappings" : "gidMappings");
		if (uid || gid)
			g_string_append_printf(out, "%s%s=%u", out->len ? "," : "", uid ? "uid" : "gid", host);
		else
			g_string_append_printf(out, "%s%s", out->len ? "," : "", *o);
		have_uid |= uid;
		have_gid |= gid;
	}
	guint32 root_uid, root_gid;
	if (tmpfs && !have_uid && map_id(spec->uid_mappings, spec->n_uid_mappings, 0, &root_uid))
		g_string_append_printf(out, "%suid=%u", out->len ? "," : "", root_uid);
	if (tmpfs && !have_gid && map_id(spec->gid_mappings, spec->n_gid_mappings, 0, &root_gid))
		g_string_append_printf(out, "%sgid=%u", out->len ? "," : "", root_gid);
	g_free(*data);
	*data = out->len ? g_string_free(g_steal_pointer(&out), FALSE) : NULL;
	return TRUE;
}

static gboolean has_user_namespace(const OciSpec *spec)
{
	return oci_spec_find_namespace(spec, OCI_NS_USER) != NULL && spec->n_uid_mappings > 0;
}

static gboolean plan_one(MountOp *op, const OciMount *m, const char *path, const OciSpec *spec, GError **error)
{
	unsigned long flags, propagation;
	gboolean bind, recursive;
	g_autofree char *data = NULL;

	if (m->destination == NULL || m->destination[0] != '/')
		return ck_set_error(error, CK_ERROR_INVALID, "%s.destination: must be an absolute path", path);
	if (!mounts_parse_options(m->options, path, &flags, &propagation, &bind, &recursive, &data, error))
		return FALSE;
	bind |= g_strcmp0(m->type, "bind") == 0;
	if (bind && (m->source == NULL || m->source[0] != '/'))
		return ck_set_error(error, CK_ERROR_INVALID, "%s.source: a bind mount needs an absolute source", path);

	op->target = g_strdup(m->destination);
	op->source = g_strdup(m->source ? m->source : (m->type ? m->type : "none"));
	op->propagation = propagation;
	op->bind = bind;
	if (bind) {
		struct stat st;
		if (stat(m->source, &st) < 0)
			return ck_set_error_errno(error, errno, "%s.source: %s", path, m->source);
		op->is_dir_source = S_ISDIR(st.st_mode);
		op->flags = MS_BIND | (recursive ? MS_REC : 0);
		/* a bind mount ignores other flags until a remount applies them */
		op->remount_flags = flags & ~MS_REMOUNT;
		return TRUE;
	}
	/* the guest has only the unified hierarchy */
	gboolean cgroup = g_strcmp0(m->type, "cgroup") == 0 || g_strcmp0(m->type, "cgroup2") == 0;
	op->fstype = g_strdup(cgroup ? "cgroup2" : m->type);
	if (op->fstype == NULL)
		return ck_set_error(error, CK_ERROR_INVALID, "%s.type: required for a mount that is not a bind mount",
				    path);
	if (cgroup) {
		g_free(op->source);
		op->source = g_strdup("cgroup2");
		g_clear_pointer(&data, g_free);
	}
	if (has_user_namespace(spec) && !map_mount_ids(spec, op->fstype, &data, path, error))
		return FALSE;
	op->flags = flags;
	op->data = g_steal_pointer(&data);
	return TRUE;
}

static unsigned long parse_root_propagation(const char *value)
{
	const MountFlag *f;

	if (value == NULL || *value == '\0')
		return MS_SLAVE | MS_REC; /* runc's default */
	f = find_flag(propagation_flags, G_N_ELEMENTS(propagation_flags), value);
	return f ? f->flag : 0;
}

/* A device path: under /dev (the guest's tmpfs), no "." or ".." parts. */
static gboolean check_device_path(const char *dev_path, const char *path, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(dev_path, "/", -1);

	for (char **p = parts; *p != NULL; p++)
		if (g_str_equal(*p, ".") || g_str_equal(*p, ".."))
			return ck_set_error(error, CK_ERROR_INVALID, "%s.path: '%s' must not contain '.' or '..'", path,
					    dev_path);
	if (!g_str_has_prefix(dev_path, "/dev/") || dev_path[strlen("/dev/")] == '\0')
		return ck_set_error(error, CK_ERROR_INVALID,
				    "%s.path: '%s' is not under /dev (device nodes are made only on the container's "
				    "/dev, a tmpfs of the guest)",
				    path, dev_path);
	return TRUE;
}

static const mode_t device_type_bits[] = {['c'] = S_IFCHR, ['u'] = S_IFCHR, ['b'] = S_IFBLK, ['p'] = S_IFIFO};

static gboolean plan_devices(SpawnPlan *plan, const OciSpec *spec, GError **error)
{
	OciDevice *devs = NULL;
	gsize n = 0;
	gboolean ok = oci_devices_parse(spec->devices, "linux.devices", &devs, &n, error);

	plan->devices = g_new0(DeviceOp, n + 1);
	for (gsize i = 0; ok && i < n; i++) {
		g_autofree char *path = g_strdup_printf("linux.devices[%" G_GSIZE_FORMAT "]", i);
		const OciDevice *d = &devs[i];
		ok = check_device_path(d->path, path, error);
		if (!ok)
			break;
		guint32 uid = d->uid, gid = d->gid;
		/* made before the user namespace is entered: the owner the
		 * container sees is the spec's */
		if (has_user_namespace(spec) && (!map_id(spec->uid_mappings, spec->n_uid_mappings, d->uid, &uid) ||
						 !map_id(spec->gid_mappings, spec->n_gid_mappings, d->gid, &gid))) {
			ok = ck_set_error(error, CK_ERROR_INVALID,
					  "%s: owner %u:%u is not mapped by linux.uidMappings and linux.gidMappings",
					  path, d->uid, d->gid);
			break;
		}
		plan->devices[i] = (DeviceOp){
		    .path = g_strdup(d->path),
		    .mode = device_type_bits[(unsigned char)d->type] | d->file_mode,
		    .rdev = d->type == 'p' ? 0 : makedev((unsigned)d->major, (unsigned)d->minor),
		    .uid = uid,
		    .gid = gid,
		};
		plan->n_devices = i + 1;
	}
	oci_devices_free(devs, n);
	return ok;
}

gboolean mounts_plan(SpawnPlan *plan, const OciSpec *spec, const char *rootfs, GError **error)
{
	plan->mounts = g_new0(MountOp, spec->n_mounts + 1);
	for (gsize i = 0; i < spec->n_mounts; i++) {
		g_autofree char *path = g_strdup_printf("mounts[%" G_GSIZE_FORMAT "]", i);
		/* counted before it is filled: plan_one() can fail after setting
		 * some fields (a bind source that does not exist), and
		 * spawn_plan_clear() frees only the counted ones */
		plan->n_mounts = i + 1;
		if (!plan_one(&plan->mounts[i], &spec->mounts[i], path, spec, error))
			return FALSE;
	}
	if (!plan_devices(plan, spec, error))
		return FALSE;
	plan->rootfs_propagation = parse_root_propagation(spec->rootfs_propagation);
	if (plan->rootfs_propagation == 0)
		return ck_set_error(error, CK_ERROR_INVALID, "linux.rootfsPropagation: unknown value '%s'",
				    spec->rootfs_propagation);
	plan->setup_rootfs = TRUE;
	plan->rootfs = g_strdup(rootfs);
	plan->rootfs_readonly = spec->root_readonly;
	plan->masked_paths = g_strdupv(spec->masked_paths);
	plan->readonly_paths = g_strdupv(spec->readonly_paths);
	return TRUE;
}

/* --- child side -------------------------------------------------------- */

static int open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	const char *rel = path;

	while (*rel == '/')
		rel++;
	return (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof how);
}

/* mkdir -p inside the root, each component resolved in the root. */
static void mkdir_in_root(int rootfd, const char *path, mode_t mode)
{
	g_auto(GStrv) parts = g_strsplit(path, "/", -1);
	g_autoptr(GString) sofar = g_string_new("/");

	for (char **p = parts; *p != NULL; p++) {
		if (**p == '\0' || g_str_equal(*p, "."))
			continue;
		int dfd = open_in_root(rootfd, sofar->str, O_PATH | O_DIRECTORY);
		if (dfd < 0)
			spawn_child_fail("mount", errno, "%s: not a directory inside the container: %s", sofar->str,
					 g_strerror(errno));
		if (mkdirat(dfd, *p, mode) < 0 && errno != EEXIST)
			spawn_child_fail("mount", errno, "mkdir %s/%s: %s", sofar->str, *p, g_strerror(errno));
		close(dfd);
		g_string_append_printf(sofar, "%s%s", sofar->len > 1 ? "/" : "", *p);
	}
}

/* Creates (if needed) and opens a mount target; returns an O_PATH fd. */
static int prepare_target(int rootfd, const char *target, gboolean is_dir)
{
	int fd = open_in_root(rootfd, target, O_PATH);

	if (fd >= 0)
		return fd;
	if (is_dir) {
		mkdir_in_root(rootfd, target, 0755);
	} else {
		g_autofree char *parent = g_path_get_dirname(target);
		g_autofree char *base = g_path_get_basename(target);
		mkdir_in_root(rootfd, parent, 0755);
		int dfd = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
		int f = dfd < 0 ? -1 : openat(dfd, base, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (f < 0)
			spawn_child_fail("mount", errno, "create mount point %s: %s", target, g_strerror(errno));
		close(f);
		close(dfd);
	}
	fd = open_in_root(rootfd, target, O_PATH);
	if (fd < 0)
		spawn_child_fail("mount", errno, "open mount point %s: %s", target, g_strerror(errno));
	return fd;
}

static void do_mount(const char *source, int target_fd, const char *target_name, const char *fstype,
		     unsigned long flags, const char *data)
{
	char proc_path[64];

	snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", target_fd);
	if (mount(source, proc_path, fstype, flags, data) < 0)
		spawn_child_fail("mount", errno, "mount %s on %s: %s", source ? source : "(none)", target_name,
				 g_strerror(errno));
}

static void apply_mount(int rootfd, const MountOp *op)
{
	int fd = prepare_target(rootfd, op->target, op->bind ? op->is_dir_source : TRUE);

	if (op->bind) {
		do_mount(op->source, fd, op->target, NULL, op->flags, NULL);
		if (op->remount_flags != 0) {
			/* reopen: the fd still names the covered directory */
			close(fd);
			fd = open_in_root(rootfd, op->target, O_PATH);
			do_mount(NULL, fd, op->target, NULL, MS_REMOUNT | MS_BIND | op->remount_flags, NULL);
		}
	} else {
		do_mount(op->source, fd, op->target, op->fstype, op->flags, op->data);
	}
	if (op->propagation != 0) {
		close(fd);
		fd = open_in_root(rootfd, op->target, O_PATH);
		do_mount(NULL, fd, op->target, NULL, op->propagation, NULL);
	}
	close(fd);
}

static gboolean is_tmpfs_mounted_at(const SpawnPlan *plan, const char *dest)
{
	for (gsize i = 0; i < plan->n_mounts; i++)
		if (g_str_equal(plan->mounts[i].target, dest) && !plan->mounts[i].bind)
			return TRUE;
	return FALSE;
}

typedef struct {
	const char *name;
	unsigned major, minor;
} DefaultDevice;

static const DefaultDevice default_devices[] = {
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const char *const default_links[][2] = {
	{"fd", "/proc/self/fd"},      {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},	     {"core", "/proc/kcore"},
};

/* Makes one node in directory dfd as runc does: an existing file is left
 * as it is; the mode is set without the umask, then the owner. */
static void make_node(int dfd, const char *name, const char *shown, mode_t mode, dev_t rdev, uid_t uid, gid_t gid)
{
	if (mknodat(dfd, name, mode, rdev) < 0) {
		if (errno == EEXIST)
			return;
		spawn_child_fail("devices", errno, "mknod %s: %s", shown, g_strerror(errno));
	}
	if (fchmodat(dfd, name, mode & 07777, 0) < 0 || fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		spawn_child_fail("devices", errno, "set the mode and owner of %s: %s", shown, g_strerror(errno));
}

/* linux.devices. The parent must be a tmpfs of the guest: a node made on
 * a bind mount from the 9p share would be made in a host directory. */
static void create_spec_devices(int rootfd, const SpawnPlan *plan)
{
	for (gsize i = 0; i < plan->n_devices; i++) {
		const DeviceOp *d = &plan->devices[i];
		g_autofree char *parent = g_path_get_dirname(d->path);
		g_autofree char *base = g_path_get_basename(d->path);
		struct statfs sfs;
		mkdir_in_root(rootfd, parent, 0755);
		int dfd = open_in_root(rootfd, parent, O_PATH | O_DIRECTORY);
		if (dfd < 0 || fstatfs(dfd, &sfs) < 0)
			spawn_child_fail("devices", errno, "open %s: %s", parent, g_strerror(errno));
		if (sfs.f_type != TMPFS_MAGIC && sfs.f_type != RAMFS_MAGIC)
			spawn_child_fail("devices", EPERM, "mknod %s: %s is not a tmpfs of the guest", d->path, parent);
		make_node(dfd, base, d->path, d->mode, d->rdev, d->uid, d->gid);
		close(dfd);
	}
}

/* /dev is always a fresh tmpfs: device nodes must never be created on the
 * 9p share, where they would land in the host's bundle. The spec's
 * devices come first, so that one at a default's path wins (runc). */
static void setup_dev(int rootfd, const SpawnPlan *plan)
{
	if (!is_tmpfs_mounted_at(plan, "/dev")) {
		int fd = prepare_target(rootfd, "/dev", TRUE);
		do_mount("tmpfs", fd, "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
		close(fd);
	}
	create_spec_devices(rootfd, plan);
	int dev = open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
	if (dev < 0)
		spawn_child_fail("devices", errno, "open /dev: %s", g_strerror(errno));
	for (gsize i = 0; i < G_N_ELEMENTS(default_devices); i++) {
		const DefaultDevice *d = &default_devices[i];
		g_autofree char *shown = g_strconcat("/dev/", d->name, NULL);
		make_node(dev, d->name, shown, S_IFCHR | 0666, makedev(d->major, d->minor), 0, 0);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(default_links); i++)
		if (symlinkat(default_links[i][1], dev, default_links[i][0]) < 0 && errno != EEXIST)
			spawn_child_fail("devices", errno, "symlink /dev/%s: %s", default_links[i][0],
					 g_strerror(errno));
	close(dev);

	/* the terminal is bound here once it exists (spawn.c) */
	if (plan->console)
		close(prepare_target(rootfd, "/dev/console", FALSE));
}

static void mask_paths(int rootfd, char **paths)
{
	for (; paths != NULL && *paths != NULL; paths++) {
		int fd = open_in_root(rootfd, *paths, O_PATH);
		struct stat st;
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0 || fstat(fd, &st) < 0)
			spawn_child_fail("masked paths", errno, "%s: %s", *paths, g_strerror(errno));
		if (S_ISDIR(st.st_mode))
			do_mount("tmpfs", fd, *paths, "tmpfs", MS_RDONLY, "size=0");
		else
			do_mount("/dev/null", fd, *paths, NULL, MS_BIND, NULL);
		close(fd);
	}
}

static void readonly_paths(int rootfd, char **paths)
{
	for (; paths != NULL && *paths != NULL; paths++) {
		int fd = open_in_root(rootfd, *paths, O_PATH);
		if (fd < 0 && errno == ENOENT)
			continue;
		if (fd < 0)
			spawn_child_fail("readonly paths", errno, "%s: %s", *paths, g_strerror(errno));
		char proc_path[64];
		snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d", fd);
		do_mount(proc_path, fd, *paths, NULL, MS_BIND | MS_REC, NULL);
		close(fd);
		fd = open_in_root(rootfd, *paths, O_PATH);
		do_mount(NULL, fd, *paths, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_REC, NULL);
		close(fd);
	}
}

static void pivot(const char *rootfs)
{
	int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	int newroot = open(rootfs, O_DIRECTORY | O_RDONLY | O_CLOEXEC);

	if (oldroot < 0 || newroot < 0 || fchdir(newroot) < 0)
		spawn_child_fail("pivot_root", errno, "open %s: %s", rootfs, g_strerror(errno));
	/* pivot_root(".", "."): the old root ends up stacked under the new
	 * one, where it is detached without needing a directory for it */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		spawn_child_fail("pivot_root", errno, "pivot_root %s: %s", rootfs, g_strerror(errno));
	if (fchdir(oldroot) < 0 || mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		spawn_child_fail("pivot_root", errno, "detach the old root: %s", g_strerror(errno));
	close(oldroot);
	close(newroot);
}

static void write_sysctls(const SpawnPlan *plan)
{
	for (gsize i = 0; plan->sysctl_keys != NULL && plan->sysctl_keys[i] != NULL; i++) {
		g_autofree char *rel = g_strdup(plan->sysctl_keys[i]);
		g_strdelimit(rel, ".", '/');
		g_autofree char *path = g_strdup_printf("/proc/sys/%s", rel);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		const char *v = plan->sysctl_values[i];
		if (fd < 0 || write(fd, v, strlen(v)) < 0)
			spawn_child_fail("sysctl", errno, "sysctl %s=%s: %s", plan->sysctl_keys[i], v,
					 g_strerror(errno));
		close(fd);
	}
}

/* rootfsPropagation on the whole tree, then each mount's own on top, so
 * that the result is runc's (it sets the root's first, before the
 * mounts): a "shared" bind mount stays shared under an rslave root. The
 * root's is set only now, after pivot_root, because pivot_root refuses a
 * shared new root; until then the tree is rslave. */
static void set_propagation(int rootfd, const SpawnPlan *plan)
{
	if (mount(NULL, "/", NULL, plan->rootfs_propagation, NULL) < 0)
		spawn_child_fail("rootfs", errno, "set the propagation of /: %s", g_strerror(errno));
	for (gsize i = 0; i < plan->n_mounts; i++) {
		const MountOp *op = &plan->mounts[i];
		if (op->propagation == 0)
			continue;
		int fd = open_in_root(rootfd, op->target, O_PATH);
		if (fd < 0)
			spawn_child_fail("mount", errno, "open %s: %s", op->target, g_strerror(errno));
		do_mount(NULL, fd, op->target, NULL, op->propagation, NULL);
		close(fd);
	}
}

void mounts_setup_container(const SpawnPlan *plan)
{
	if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		spawn_child_fail("mount", errno, "make / a slave: %s", g_strerror(errno));
	if (mount(plan->rootfs, plan->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		spawn_child_fail("rootfs", errno, "bind %s: %s", plan->rootfs, g_strerror(errno));
	int rootfd = open(plan->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		spawn_child_fail("rootfs", errno, "open %s: %s", plan->rootfs, g_strerror(errno));

	for (gsize i = 0; i < plan->n_mounts; i++)
		apply_mount(rootfd, &plan->mounts[i]);
	setup_dev(rootfd, plan);
	mkdir_in_root(rootfd, plan->cwd, 0755);
	close(rootfd);
}

void mounts_enter_container(const SpawnPlan *plan)
{
	int rootfd;

	pivot(plan->rootfs);
	rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		spawn_child_fail("rootfs", errno, "open /: %s", g_strerror(errno));
	set_propagation(rootfd, plan);
	/* runc's order: sysctls while /proc/sys is writable, then the
	 * read-only and masked paths (which usually include /proc/sys) */
	write_sysctls(plan);
	readonly_paths(rootfd, plan->readonly_paths);
	mask_paths(rootfd, plan->masked_paths);
	close(rootfd);
	if (plan->rootfs_readonly && mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
		spawn_child_fail("rootfs", errno, "remount / read-only: %s", g_strerror(errno));
}
