/* ck-socket: AF_UNIX sockets at paths of any length (see ck-socket.h). */
#include "ck-socket.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ck-cleanup.h"
#include "ck-error.h"
#include "ck-log.h"

/* Fills addr for path; a path too long for sun_path goes through *dirfd
 * (opened here, closed by the caller). */
static gboolean unix_address(const char *path, struct sockaddr_un *addr, int *dirfd, GError **error)
{
	*addr = (struct sockaddr_un){.sun_family = AF_UNIX};
	if (strlen(path) < sizeof addr->sun_path) {
		memcpy(addr->sun_path, path, strlen(path) + 1);
		return TRUE;
	}
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *name = g_path_get_basename(path);
	*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return ck_set_error_errno(error, errno, "%s", dir);
	int n = g_snprintf(addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/%s", *dirfd, name);
	if (n < 0 || (size_t)n >= sizeof addr->sun_path)
		return ck_set_error(error, CK_ERROR_INVALID, "socket name too long: %s", path);
	return TRUE;
}

int ck_unix_listen(const char *path, int type, int flags, mode_t mode, int backlog, GError **error)
{
	struct sockaddr_un addr;
	ck_autofd dirfd = -1;
	ck_autofd fd = -1;

	if (!unix_address(path, &addr, &dirfd, error))
		return -1;
	fd = socket(AF_UNIX, type | flags | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ck_set_error_errno(error, errno, "socket for %s", path), -1;
	if (unlink(path) < 0 && errno != ENOENT)
		return ck_set_error_errno(error, errno, "remove the old socket %s", path), -1;
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
		return ck_set_error_errno(error, errno, "bind %s", path), -1;
	if (chmod(path, mode) < 0 || listen(fd, backlog) < 0) {
		int errsv = errno;
		(void)unlink(path);
		return ck_set_error_errno(error, errsv, "listen on %s", path), -1;
	}
	return ck_steal_fd(&fd);
}

int ck_unix_connect(const char *path, int type, GError **error)
{
	struct sockaddr_un addr;
	ck_autofd dirfd = -1;
	ck_autofd fd = -1;

	if (!unix_address(path, &addr, &dirfd, error))
		return -1;
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ck_set_error_errno(error, errno, "socket for %s", path), -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
		return ck_set_error_errno(error, errno, "connect to %s", path), -1;
	return ck_steal_fd(&fd);
}

gboolean ck_unix_peer_allowed(int fd, const char *what, GError **error)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return ck_set_error_errno(error, errno, "%s: SO_PEERCRED", what);
	uid_t us = geteuid();
	if (cred.uid == 0 || cred.uid == us)
		return TRUE;
	if (us == 0)
		return ck_set_error(error, CK_ERROR_PERMISSION, "%s: uid %u refused: only root may connect", what,
				    (unsigned)cred.uid);
	return ck_set_error(error, CK_ERROR_PERMISSION, "%s: uid %u refused: only root and uid %u may connect", what,
			    (unsigned)cred.uid, (unsigned)us);
}

gboolean ck_unix_accept_peer(int fd, const char *what)
{
	g_autoptr(GError) error = NULL;

	if (ck_unix_peer_allowed(fd, what, &error))
		return TRUE;
	ck_log_warning("%s", error->message);
	g_autofree char *line = g_strdup_printf("%s\n", error->message);
	/* a peer that does not read cannot hold us up */
	(void)!send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);
	return FALSE;
}
