/* Unit tests: ck_unix_peer_allowed / ck_unix_accept_peer, the SO_PEERCRED
 * check every socket the monitor serves makes (docs/security.md). Real
 * sockets in a scratch folder, real peers: a forked child that drops to
 * uid 65534 (refused, with the exact line) and ourselves (allowed). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-socket.h"

#define NOBODY 65534

typedef struct {
	char *dir;
	char *path;
	int listen_fd;
} Fixture;

static void setup(Fixture *f, gconstpointer data)
{
	(void)data;
	f->dir = g_dir_make_tmp("ck-sock-peer.XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	g_assert_no_errno(chmod(f->dir, 0755));
	f->path = g_build_filename(f->dir, "s", NULL);
	/* 0666 here: the mode is not what is tested, the credentials are */
	f->listen_fd = ck_unix_listen(f->path, SOCK_STREAM, 0, 0666, 4, NULL);
	g_assert_cmpint(f->listen_fd, >=, 0);
}

static void teardown(Fixture *f, gconstpointer data)
{
	(void)data;
	ck_close_fdp(&f->listen_fd);
	(void)unlink(f->path);
	(void)rmdir(f->dir);
	g_free(f->path);
	g_free(f->dir);
}

/* A child that connects as `uid` and writes what it read before EOF to
 * the pipe `out`. */
static pid_t connect_as(const char *path, uid_t uid, int out)
{
	pid_t pid = fork();

	g_assert_cmpint(pid, >=, 0);
	if (pid > 0)
		return pid;
	if (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0)
		_exit(2);
	int fd = ck_unix_connect(path, SOCK_STREAM, NULL);
	if (fd < 0)
		_exit(3);
	char buf[256];
	ssize_t n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			_exit(4);
	_exit(n == 0 ? 0 : 5);
}

static int wait_child(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0)
		g_assert_cmpint(errno, ==, EINTR);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_other_uid_refused(Fixture *f, gconstpointer data)
{
	(void)data;
	if (geteuid() != 0) {
		g_test_skip("needs root to make a peer of another uid");
		return;
	}
	int p[2];
	g_assert_no_errno(pipe2(p, O_CLOEXEC));
	ck_autofd rd = p[0], wr = p[1];
	pid_t pid = connect_as(f->path, NOBODY, wr);
	ck_clear_fd(&wr);

	ck_autofd conn = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	g_assert_cmpint(conn, >=, 0);
	g_autoptr(GError) error = NULL;
	g_assert_false(ck_unix_peer_allowed(conn, "control socket", &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_PERMISSION);
	g_assert_cmpstr(error->message, ==, "control socket: uid 65534 refused: only root may connect");

	g_assert_false(ck_unix_accept_peer(conn, "control socket"));
	ck_clear_fd(&conn); /* the caller closes a refused peer */
	char got[256] = {0};
	g_assert_cmpint(ck_read_retry(rd, got, sizeof got - 1), >, 0);
	g_assert_cmpint(wait_child(pid), ==, 0);
	g_assert_cmpstr(got, ==, "control socket: uid 65534 refused: only root may connect\n");
}

static void test_same_uid_allowed(Fixture *f, gconstpointer data)
{
	(void)data;
	ck_autofd client = ck_unix_connect(f->path, SOCK_STREAM, NULL);
	g_assert_cmpint(client, >=, 0);
	ck_autofd conn = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	g_assert_cmpint(conn, >=, 0);
	g_autoptr(GError) error = NULL;
	g_assert_true(ck_unix_peer_allowed(conn, "control socket", &error));
	g_assert_no_error(error);
	g_assert_true(ck_unix_accept_peer(conn, "control socket"));
	/* nothing was said to an allowed peer */
	char c;
	g_assert_cmpint(recv(client, &c, 1, MSG_DONTWAIT), ==, -1);
	g_assert_cmpint(errno, ==, EAGAIN);
}

static void test_not_a_socket(void)
{
	int p[2];
	g_assert_no_errno(pipe2(p, O_CLOEXEC));
	ck_autofd rd = p[0], wr = p[1];
	g_autoptr(GError) error = NULL;

	g_assert_false(ck_unix_peer_allowed(rd, "attach socket", &error));
	g_assert_nonnull(error);
	g_assert_true(g_str_has_prefix(error->message, "attach socket: SO_PEERCRED: "));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/sock-peer/other-uid-refused", Fixture, NULL, setup, test_other_uid_refused, teardown);
	g_test_add("/sock-peer/same-uid-allowed", Fixture, NULL, setup, test_same_uid_allowed, teardown);
	g_test_add_func("/sock-peer/not-a-socket", test_not_a_socket);
	return g_test_run();
}
