/* ck-io: fd and file helpers. */
#include "ck-io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ck-cleanup.h"
#include "ck-error.h"

gboolean ck_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return FALSE;
		}
		p += n;
		len -= (size_t)n;
	}
	return TRUE;
}

ssize_t ck_read_retry(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

gboolean ck_set_nonblock(int fd, gboolean on, GError **error)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return ck_set_error_errno(error, errno, "fcntl(F_GETFL)");
	flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
	if (fcntl(fd, F_SETFL, flags) < 0)
		return ck_set_error_errno(error, errno, "fcntl(F_SETFL)");
	return TRUE;
}

gboolean ck_set_cloexec(int fd, gboolean on, GError **error)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0)
		return ck_set_error_errno(error, errno, "fcntl(F_GETFD)");
	flags = on ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
	if (fcntl(fd, F_SETFD, flags) < 0)
		return ck_set_error_errno(error, errno, "fcntl(F_SETFD)");
	return TRUE;
}

void ck_stdio_to_devnull(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i <= 2; i++)
		(void)dup2(fd, i);
	close(fd);
}

gboolean ck_file_read_bounded(const char *path, gsize max_size, char **out_data, gsize *out_len, GError **error)
{
	ck_autofd fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ck_set_error_errno(error, errno, "%s", path);

	g_autoptr(GByteArray) buf = g_byte_array_new();
	char chunk[8192];
	for (;;) {
		ssize_t n = ck_read_retry(fd, chunk, sizeof chunk);
		if (n < 0)
			return ck_set_error_errno(error, errno, "%s: read", path);
		if (n == 0)
			break;
		if (buf->len + (gsize)n > max_size)
			return ck_set_error(error, CK_ERROR_INVALID, "%s: larger than %" G_GSIZE_FORMAT " bytes", path,
					    max_size);
		g_byte_array_append(buf, (const guint8 *)chunk, (guint)n);
	}
	if (out_len != NULL)
		*out_len = buf->len;
	g_byte_array_append(buf, (const guint8 *)"", 1);
	*out_data = (char *)g_byte_array_free(g_steal_pointer(&buf), FALSE);
	return TRUE;
}

gboolean ck_file_write_atomic(const char *path, const void *data, gsize len, mode_t mode, gboolean durable,
			      GError **error)
{
	g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", path);
	ck_autofd fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, (int)mode);
	if (fd < 0)
		return ck_set_error_errno(error, errno, "%s: create temporary file", path);

	if (!ck_write_all(fd, data, len) || fchmod(fd, mode) < 0 || (durable && fsync(fd) < 0)) {
		int errsv = errno;
		(void)unlink(tmp);
		return ck_set_error_errno(error, errsv, "%s: write", path);
	}
	if (close(ck_steal_fd(&fd)) < 0 || rename(tmp, path) < 0) {
		int errsv = errno;
		(void)unlink(tmp);
		return ck_set_error_errno(error, errsv, "%s: rename into place", path);
	}
	return TRUE;
}

gboolean ck_mkdir_p(const char *path, mode_t mode, GError **error)
{
	if (g_mkdir_with_parents(path, (int)mode) < 0)
		return ck_set_error_errno(error, errno, "mkdir %s", path);
	return TRUE;
}

static int rm_rf_at(int parent_fd, const char *name, dev_t dev)
{
	struct stat st;

	if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent_fd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
	if (st.st_dev != dev)
		return -EBUSY; /* a mount point: never descend into it */

	int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		int errsv = errno;
		close(fd);
		return -errsv;
	}
	int r = 0;
	struct dirent *de;
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (g_str_equal(de->d_name, ".") || g_str_equal(de->d_name, ".."))
			continue;
		r = rm_rf_at(dirfd(d), de->d_name, dev);
	}
	closedir(d);
	if (r < 0)
		return r;
	return unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

gboolean ck_rm_rf(const char *path, GError **error)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? TRUE : ck_set_error_errno(error, errno, "%s", path);
	int r = rm_rf_at(AT_FDCWD, path, st.st_dev);
	if (r < 0)
		return ck_set_error_errno(error, -r, "remove %s", path);
	return TRUE;
}

int ck_deadline_remaining_ms(gint64 deadline_us)
{
	gint64 left = deadline_us - g_get_monotonic_time();

	if (left <= 0)
		return 0;
	left = (left + 999) / 1000;
	return left > INT_MAX ? INT_MAX : (int)left;
}

gboolean ck_die_with_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		return FALSE;
	if (getppid() != parent) {
		errno = ESRCH;
		return FALSE;
	}
	return TRUE;
}
