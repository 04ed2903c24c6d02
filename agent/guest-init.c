/* guest-init: PID 1 bring-up (mounts, modules, channel). */
#include "guest-init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/vm_sockets.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "base/ck-parse.h"

void guest_parse_cmdline(const char *cmdline, AgentSettings *out)
{
	*out = (AgentSettings){.channel = AGENT_CHANNEL_SERIAL, .vsock_port = AGENT_VSOCK_PORT};

	g_auto(GStrv) words = g_strsplit_set(cmdline, " \t\n", -1);
	for (char **w = words; *w != NULL; w++) {
		if (!g_str_has_prefix(*w, "agent."))
			continue;
		const char *eq = strchr(*w, '=');
		g_autofree char *key = eq ? g_strndup(*w, (gsize)(eq - *w)) : g_strdup(*w);
		const char *val = eq ? eq + 1 : "";

		if (g_str_equal(key, "agent.log"))
			out->debug = g_str_equal(val, "debug");
		else if (g_str_equal(key, "agent.channel") && g_str_equal(val, "vsock"))
			out->channel = AGENT_CHANNEL_VSOCK;
		else if (g_str_equal(key, "agent.channel") && g_str_equal(val, "virtio-serial"))
			out->channel = AGENT_CHANNEL_SERIAL;
		else if (g_str_equal(key, "agent.port")) {
			guint64 port;
			if (ck_parse_uint64(val, "agent.port", G_MAXUINT32, &port, NULL))
				out->vsock_port = (guint32)port;
			else
				ck_log_warning("kernel command line: bad agent.port '%s', ignoring", val);
		} else
			ck_log_warning("kernel command line: unknown parameter '%s', ignoring", *w);
	}
}

typedef struct {
	const char *source;
	const char *target;
	const char *fstype;
	unsigned long flags;
	const char *data;
} BasicMount;

static const BasicMount basic_mounts[] = {
	{"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
	{"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
	{"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
	{"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"},
	{"shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
	{"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
	{"tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
	{"cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, "nsdelegate"},
};

static void ensure_console_fds(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i <= 2; i++)
		if (fcntl(i, F_GETFD) < 0)
			(void)dup2(fd, i);
	close(fd);
}

gboolean guest_mount_basics(GError **error)
{
	for (gsize i = 0; i < G_N_ELEMENTS(basic_mounts); i++) {
		const BasicMount *m = &basic_mounts[i];
		if (mkdir(m->target, 0755) < 0 && errno != EEXIST)
			return ck_set_error_errno(error, errno, "mkdir %s", m->target);
		if (mount(m->source, m->target, m->fstype, m->flags, m->data) < 0 && errno != EBUSY)
			return ck_set_error_errno(error, errno, "mount %s on %s", m->fstype, m->target);
	}
	/* the standard links, for the agent's own children */
	(void)symlink("/proc/self/fd", "/dev/fd");
	(void)symlink("/proc/self/fd/0", "/dev/stdin");
	(void)symlink("/proc/self/fd/1", "/dev/stdout");
	(void)symlink("/proc/self/fd/2", "/dev/stderr");
	ensure_console_fds();
	return TRUE;
}

static gboolean clear_initramfs(GError **error)
{
	g_autoptr(GDir) dir = g_dir_open("/", 0, NULL);
	const char *entry;

	while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL) {
		if (g_str_equal(entry, "newroot"))
			continue;
		g_autofree char *path = g_build_filename("/", entry, NULL);
		if (!ck_rm_rf(path, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean copy_file(const char *src, const char *dst, mode_t mode, GError **error)
{
	g_autofree char *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(src, &data, &len, error))
		return FALSE;
	ck_autofd fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0 || fchmod(fd, mode) < 0 || !ck_write_all(fd, data, len))
		return ck_set_error_errno(error, errno, "copy %s to %s", src, dst);
	return TRUE;
}

/* Copies the tree at src to dst: directories, regular files and symlinks,
 * with their modes; anything else has no place in an image. */
static gboolean copy_tree(const char *src, const char *dst, GError **error)
{
	struct stat st;

	if (lstat(src, &st) < 0)
		return ck_set_error_errno(error, errno, "stat %s", src);
	if (S_ISLNK(st.st_mode)) {
		g_autofree char *target = g_file_read_link(src, error);
		if (target == NULL)
			return FALSE;
		if (symlink(target, dst) < 0)
			return ck_set_error_errno(error, errno, "symlink %s", dst);
		return TRUE;
	}
	if (S_ISREG(st.st_mode))
		return copy_file(src, dst, st.st_mode & 07777, error);
	if (!S_ISDIR(st.st_mode))
		return TRUE;
	if (mkdir(dst, st.st_mode & 07777) < 0 && errno != EEXIST)
		return ck_set_error_errno(error, errno, "mkdir %s", dst);
	g_autoptr(GDir) dir = g_dir_open(src, 0, error);
	const char *entry;
	if (dir == NULL)
		return FALSE;
	while ((entry = g_dir_read_name(dir)) != NULL) {
		g_autofree char *from = g_build_filename(src, entry, NULL);
		g_autofree char *to = g_build_filename(dst, entry, NULL);
		if (!copy_tree(from, to, error))
			return FALSE;
	}
	return TRUE;
}

gboolean guest_switch_root(GError **error)
{
	static const char *const dirs[] = {"/dev", "/proc", "/sys", "/run", "/tmp", "/etc", "/mnt", "/root"};
	struct statfs sfs;

	if (statfs("/", &sfs) < 0)
		return ck_set_error_errno(error, errno, "statfs /");
	if (sfs.f_type != RAMFS_MAGIC && sfs.f_type != TMPFS_MAGIC)
		return TRUE; /* not running from an initramfs */
	if ((mkdir("/newroot", 0755) < 0 && errno != EEXIST) ||
	    mount("tmpfs", "/newroot", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		return ck_set_error_errno(error, errno, "mount the new root");
	if (g_file_test(GUEST_KEPT_TREE, G_FILE_TEST_IS_DIR) && !copy_tree(GUEST_KEPT_TREE, "/newroot" GUEST_KEPT_TREE, error))
		return FALSE;
	/* the initramfs stays under the new root forever: empty it */
	if (!clear_initramfs(error))
		return FALSE;
	if (chdir("/newroot") < 0 || mount("/newroot", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		return ck_set_error_errno(error, errno, "switch to the new root");
	for (gsize i = 0; i < G_N_ELEMENTS(dirs); i++)
		if (mkdir(dirs[i], 0755) < 0 && errno != EEXIST)
			return ck_set_error_errno(error, errno, "mkdir %s", dirs[i]);
	return TRUE;
}

gboolean guest_loopback_up(GError **error)
{
	struct ifreq ifr = {0};
	ck_autofd fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return ck_set_error_errno(error, errno, "socket");
	g_strlcpy(ifr.ifr_name, "lo", sizeof ifr.ifr_name);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		return ck_set_error_errno(error, errno, "lo: get flags");
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		return ck_set_error_errno(error, errno, "lo: bring up");
	return TRUE;
}

static gboolean load_module(const char *path, GError **error)
{
	ck_autofd fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ck_set_error_errno(error, errno, "module %s", path);
	if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
		return ck_set_error_errno(error, errno, "load module %s", path);
	return TRUE;
}

gboolean guest_load_modules(const char *list_path, guint *out_loaded, GError **error)
{
	g_autofree char *list = NULL;
	guint loaded = 0;

	if (!ck_file_read_bounded(list_path, 64 * 1024, &list, NULL, error))
		return FALSE;
	g_auto(GStrv) lines = g_strsplit(list, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		g_strstrip(*l);
		if (**l == '\0' || **l == '#')
			continue;
		if (!load_module(*l, error))
			return FALSE;
		loaded++;
	}
	if (out_loaded != NULL)
		*out_loaded = loaded;
	return TRUE;
}

/* /sys/class/virtio-ports/<vportNpM>/name holds the port's name. */
static char *find_serial_port(const char *want)
{
	g_autoptr(GDir) dir = g_dir_open("/sys/class/virtio-ports", 0, NULL);
	const char *entry;

	while (dir != NULL && (entry = g_dir_read_name(dir)) != NULL) {
		g_autofree char *name_path = g_strdup_printf("/sys/class/virtio-ports/%s/name", entry);
		g_autofree char *name = NULL;
		if (!g_file_get_contents(name_path, &name, NULL, NULL))
			continue;
		g_strstrip(name);
		if (g_str_equal(name, want))
			return g_strdup_printf("/dev/%s", entry);
	}
	return NULL;
}

static int open_serial(int timeout_ms, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	/* ports are announced by the host asynchronously after the driver
	 * loads; the device node appears a moment later */
	for (;;) {
		g_autofree char *dev = find_serial_port(AGENT_PORT_NAME);
		if (dev != NULL) {
			int fd = open(dev, O_RDWR | O_CLOEXEC | O_NOCTTY);
			if (fd >= 0)
				return fd;
			if (errno != ENOENT)
				return ck_set_error_errno(error, errno, "open %s", dev), -1;
		}
		if (g_get_monotonic_time() > deadline)
			return ck_set_error(error, CK_ERROR_TIMEOUT,
					    "virtio-serial port '%s' did not appear within %d ms", AGENT_PORT_NAME,
					    timeout_ms),
			       -1;
		g_usleep(5000);
	}
}

static int open_vsock(guint32 port, int timeout_ms, GError **error)
{
	ck_autofd lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port};

	if (lfd < 0)
		return ck_set_error_errno(error, errno, "vsock socket"), -1;
	if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 1) < 0)
		return ck_set_error_errno(error, errno, "vsock listen on port %u", port), -1;
	struct pollfd pfd = {.fd = lfd, .events = POLLIN};
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return ck_set_error(error, CK_ERROR_TIMEOUT, "no host connection on vsock port %u", port), -1;
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return ck_set_error_errno(error, errno, "vsock accept"), -1;
	return fd;
}

int guest_open_channel(const AgentSettings *settings, int timeout_ms, GError **error)
{
	if (settings->channel == AGENT_CHANNEL_VSOCK)
		return open_vsock(settings->vsock_port, timeout_ms, error);
	return open_serial(timeout_ms, error);
}

gint64 guest_uptime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (gint64)ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

G_NORETURN void guest_poweroff(void)
{
	sync();
	(void)reboot(RB_POWER_OFF);
	/* only reached when not PID 1 (tests): there is nothing to power off */
	_exit(0);
}
