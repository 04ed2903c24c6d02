/* Unit tests: the attach socket (conmon-kata/attach.c).
 *
 * conmon-interface.md#attach-socket to #stdin-rules and conmon-interface.md#conformance-checks items 14 and 22, with
 * real SEQPACKET clients connected the way CRI-O (through the <socket_dir>/<cuuid> symlink) and Podman (through
 * /proc/self/fd of an O_PATH bundle fd) connect, and the main context driven by g_main_context_iteration. Checks the
 * socket's type and mode, output records byte for byte up to the 8192-byte maximum, broadcast to two clients, input
 * delivery, SHUT_WR ending input while output continues, the stdin-less mode, the 107-byte symlink quirk, cleanup,
 * and the refusal of a client of another uid (docs/security.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-cleanup.h"
#include "base/ck-io.h"
#include "conmon-kata/attach.h"

#define CUUID "0123456789abcdef0123"

typedef struct {
	char *bundle;
	char *sockdir;
	AttachServer *as;
	GByteArray *input;
	guint n_input_records;
	guint n_done;
} Fixture;

static void on_input(const guint8 *data, gsize len, gpointer user_data)
{
	Fixture *fx = user_data;

	g_byte_array_append(fx->input, data, (guint)len);
	fx->n_input_records++;
}

static void on_input_done(gpointer user_data)
{
	Fixture *fx = user_data;

	fx->n_done++;
}

static void drain_main_context(void)
{
	for (int i = 0; i < 1000 && g_main_context_iteration(NULL, FALSE); i++)
		;
}

static char *make_tmp_dir(void)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("test-conmon-attach-XXXXXX", &error);

	g_assert_no_error(error);
	return dir;
}

static void fixture_init(Fixture *fx)
{
	fx->bundle = make_tmp_dir();
	fx->sockdir = make_tmp_dir();
	fx->input = g_byte_array_new();
}

static void fixture_start(Fixture *fx, gboolean full_attach, gboolean stdin_open)
{
	g_autoptr(GError) error = NULL;
	AttachCallbacks cb = {.on_input = on_input, .on_input_done = on_input_done, .user_data = fx};

	fx->as = attach_server_new(fx->bundle, fx->sockdir, CUUID, full_attach, stdin_open, &cb, &error);
	g_assert_no_error(error);
	g_assert_nonnull(fx->as);
}

static void fixture_setup(Fixture *fx, gconstpointer data)
{
	(void)data;
	fixture_init(fx);
	fixture_start(fx, FALSE, TRUE);
}

static void fixture_teardown(Fixture *fx, gconstpointer data)
{
	(void)data;
	attach_server_free(fx->as);
	drain_main_context();
	g_assert_cmpint(g_rmdir(fx->bundle), ==, 0);
	g_assert_cmpint(g_rmdir(fx->sockdir), ==, 0);
	g_free(fx->bundle);
	g_free(fx->sockdir);
	g_byte_array_unref(fx->input);
}

/* CRI-O: <container_attach_socket_dir>/<id>/attach, a short path. */
static int connect_crio(Fixture *fx)
{
	g_autofree char *path = g_build_filename(fx->sockdir, CUUID, "attach", NULL);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	g_assert_no_errno(fd);
	g_assert_cmpuint(strlen(path), <, sizeof addr.sun_path);
	strcpy(addr.sun_path, path);
	g_assert_no_errno(connect(fd, (struct sockaddr *)&addr, sizeof addr));
	drain_main_context(); /* accept */
	return fd;
}

/* Podman: O_PATH on <bundle>/attach, then /proc/self/fd/N, so any bundle
 * length works. */
static int connect_podman(const char *bundle)
{
	g_autofree char *path = g_build_filename(bundle, "attach", NULL);
	ck_autofd pfd = open(path, O_PATH | O_CLOEXEC);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	g_assert_no_errno(pfd);
	g_assert_no_errno(fd);
	g_snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d", pfd);
	g_assert_no_errno(connect(fd, (struct sockaddr *)&addr, sizeof addr));
	drain_main_context();
	return fd;
}

/* One record, as the callers read it: into an 8193-byte buffer. A larger
 * record would show up as MSG_TRUNC. */
static GBytes *recv_record(int fd)
{
	guint8 buf[1 + ATTACH_OUTPUT_MAX];
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

	g_assert_no_errno(n);
	g_assert_false(msg.msg_flags & MSG_TRUNC);
	return g_bytes_new(buf, (gsize)n);
}

static void assert_record(int fd, const void *expected, gsize len)
{
	g_autoptr(GBytes) rec = recv_record(fd);
	gsize n;
	const void *p = g_bytes_get_data(rec, &n);

	g_assert_cmpmem(p, n, expected, len);
}

static void assert_no_record(int fd)
{
	char c;

	g_assert_cmpint(recv(fd, &c, 1, MSG_DONTWAIT), ==, -1);
	g_assert_cmpint(errno, ==, EAGAIN);
}

static void write_out(Fixture *fx, guint8 id, const char *s)
{
	attach_server_write(fx->as, id, (const guint8 *)s, strlen(s));
}

/* ---- tests -------------------------------------------------------------- */

static void test_socket_and_symlink(Fixture *fx, gconstpointer data)
{
	g_autofree char *link = g_build_filename(fx->sockdir, CUUID, NULL);
	g_autofree char *sock = g_build_filename(fx->bundle, "attach", NULL);
	g_autofree char *target = g_file_read_link(link, NULL);
	struct stat st;
	int type = 0;
	socklen_t len = sizeof type;

	(void)data;
	g_assert_cmpstr(target, ==, fx->bundle);
	g_assert_no_errno(lstat(sock, &st));
	g_assert_true(S_ISSOCK(st.st_mode));
	g_assert_cmpint(st.st_mode & 07777, ==, 0700);

	ck_autofd fd = connect_crio(fx);
	g_assert_cmpuint(attach_server_n_clients(fx->as), ==, 1);
	g_assert_no_errno(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len));
	g_assert_cmpint(type, ==, SOCK_SEQPACKET);
}

static void test_output_records(Fixture *fx, gconstpointer data)
{
	guint8 big[ATTACH_OUTPUT_MAX];
	guint8 expected[1 + ATTACH_OUTPUT_MAX];

	(void)data;
	ck_autofd fd = connect_crio(fx);

	write_out(fx, ATTACH_STREAM_STDOUT, "hello\n");
	write_out(fx, ATTACH_STREAM_STDERR, "err\n");
	assert_record(fd, "\x02hello\n", 7);
	assert_record(fd,
		      "\x03"
		      "err\n",
		      5);

	/* The maximum chunk arrives as one intact 8193-byte record. */
	for (gsize i = 0; i < sizeof big; i++)
		big[i] = (guint8)(i * 7 + 1);
	expected[0] = ATTACH_STREAM_STDOUT;
	memcpy(expected + 1, big, sizeof big);
	attach_server_write(fx->as, ATTACH_STREAM_STDOUT, big, sizeof big);
	assert_record(fd, expected, sizeof expected);

	/* Empty chunks send nothing; tty output keeps its "\r\n". */
	attach_server_write(fx->as, ATTACH_STREAM_STDOUT, big, 0);
	write_out(fx, ATTACH_STREAM_STDOUT, "tty\r\n");
	assert_record(fd, "\x02tty\r\n", 6);
	assert_no_record(fd);
}

static void test_two_clients(Fixture *fx, gconstpointer data)
{
	(void)data;
	ck_autofd a = connect_crio(fx);
	ck_autofd b = connect_podman(fx->bundle);

	g_assert_cmpuint(attach_server_n_clients(fx->as), ==, 2);
	write_out(fx, ATTACH_STREAM_STDOUT, "both\n");
	assert_record(a,
		      "\x02"
		      "both\n",
		      6);
	assert_record(b,
		      "\x02"
		      "both\n",
		      6);

	/* Input from both goes to the same place. */
	g_assert_cmpint(send(a, "A", 1, 0), ==, 1);
	drain_main_context();
	g_assert_cmpint(send(b, "B", 1, 0), ==, 1);
	drain_main_context();
	g_assert_cmpmem(fx->input->data, fx->input->len, "AB", 2);
}

/* A client of uid 65534 (docs/security.md): its effective uid is what
 * SO_PEERCRED reports; its file-system uid stays 0 so that it reaches the
 * socket in our 0700 folders. It reads one record and writes it to `out`. */
G_NORETURN static void connect_as_nobody(const char *path, int out)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char buf[256];

	if (setegid(65534) < 0 || seteuid(65534) < 0)
		_exit(2);
	(void)setfsuid(0);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	strcpy(addr.sun_path, path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
		_exit(3);
	ssize_t n = recv(fd, buf, sizeof buf, 0);
	if (n <= 0 || write(out, buf, (size_t)n) != n)
		_exit(4);
	_exit(0);
}

static void test_other_uid_refused(Fixture *fx, gconstpointer data)
{
	g_autofree char *path = g_build_filename(fx->sockdir, CUUID, "attach", NULL);
	int p[2], status = -1;

	(void)data;
	if (geteuid() != 0) {
		g_test_skip("needs root to make a client of another uid");
		return;
	}
	g_assert_no_errno(pipe2(p, O_CLOEXEC));
	ck_autofd rd = p[0], wr = p[1];
	pid_t pid = fork();
	g_assert_no_errno(pid);
	if (pid == 0)
		connect_as_nobody(path, wr);
	ck_clear_fd(&wr);
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
	while (waitpid(pid, &status, WNOHANG) == 0 && g_get_monotonic_time() < deadline) {
		drain_main_context(); /* accept, refuse */
		g_usleep(1000);
	}
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	char got[256] = {0};
	g_assert_cmpint(ck_read_retry(rd, got, sizeof got - 1), >, 0);
	g_assert_cmpstr(got, ==, "attach socket: uid 65534 refused: only root may connect\n");
	g_assert_cmpuint(attach_server_n_clients(fx->as), ==, 0);

	/* and the server carries on */
	ck_autofd fd = connect_crio(fx);
	g_assert_cmpuint(attach_server_n_clients(fx->as), ==, 1);
	write_out(fx, ATTACH_STREAM_STDOUT, "still\n");
	assert_record(fd, "\x02still\n", 7);
}

static void test_input(Fixture *fx, gconstpointer data)
{
	(void)data;
	ck_autofd fd = connect_crio(fx);

	g_assert_cmpint(send(fd, "hello\n", 6, 0), ==, 6);
	g_assert_cmpint(send(fd, "x", 1, 0), ==, 1);
	drain_main_context();
	g_assert_cmpuint(fx->n_input_records, ==, 2);
	g_assert_cmpmem(fx->input->data, fx->input->len, "hello\nx", 7);
	g_assert_cmpuint(fx->n_done, ==, 0);
}

static void test_input_truncated(Fixture *fx, gconstpointer data)
{
	gsize len = ATTACH_INPUT_MAX + 100;
	g_autofree guint8 *big = g_malloc(len);

	(void)data;
	ck_autofd fd = connect_crio(fx);
	memset(big, 'i', len);
	g_assert_cmpint(send(fd, big, len, 0), ==, (gssize)len);
	drain_main_context();
	/* conmon-interface.md#attach-framing: at most 32768 bytes per record; the rest is lost. */
	g_assert_cmpuint(fx->n_input_records, ==, 1);
	g_assert_cmpuint(fx->input->len, ==, ATTACH_INPUT_MAX);
}

static void test_shut_wr(Fixture *fx, gconstpointer data)
{
	(void)data;
	ck_autofd fd = connect_crio(fx);

	g_assert_cmpint(send(fd, "last\n", 5, 0), ==, 5);
	g_assert_no_errno(shutdown(fd, SHUT_WR));
	drain_main_context();
	g_assert_cmpmem(fx->input->data, fx->input->len, "last\n", 5);
	g_assert_cmpuint(fx->n_done, ==, 1);

	/* conmon-interface.md#stdin-rules: output keeps going to a client whose input ended. */
	g_assert_cmpuint(attach_server_n_clients(fx->as), ==, 1);
	write_out(fx, ATTACH_STREAM_STDOUT, "still\n");
	assert_record(fd, "\x02still\n", 7);
	drain_main_context();
	g_assert_cmpuint(fx->n_done, ==, 1);
}

static void test_client_closes(Fixture *fx, gconstpointer data)
{
	(void)data;
	ck_autofd gone = connect_crio(fx);
	ck_autofd stays = connect_crio(fx);

	ck_clear_fd(&gone);
	drain_main_context();
	g_assert_cmpuint(fx->n_done, ==, 1);

	/* The next write fails for the closed one, which is then dropped;
	 * the other is unaffected. */
	write_out(fx, ATTACH_STREAM_STDOUT, "x\n");
	g_assert_cmpuint(attach_server_n_clients(fx->as), ==, 1);
	assert_record(stays, "\x02x\n", 3);
}

static void test_pause_input(Fixture *fx, gconstpointer data)
{
	(void)data;
	ck_autofd fd = connect_crio(fx);

	attach_server_pause_input(fx->as, TRUE);
	g_assert_cmpint(send(fd, "wait", 4, 0), ==, 4);
	drain_main_context();
	g_assert_cmpuint(fx->input->len, ==, 0);

	attach_server_pause_input(fx->as, FALSE);
	drain_main_context();
	g_assert_cmpmem(fx->input->data, fx->input->len, "wait", 4);
}

static void test_close_clients(Fixture *fx, gconstpointer data)
{
	char c;

	(void)data;
	ck_autofd fd = connect_crio(fx);
	attach_server_close_clients(fx->as);
	/* conmon-interface.md#relay: clients see EOF; CRI-O's attach returns on it. */
	g_assert_cmpint(recv(fd, &c, 1, 0), ==, 0);
	g_assert_cmpuint(fx->n_done, ==, 0);
}

static void test_no_stdin(void)
{
	Fixture fx = {0};

	fixture_init(&fx);
	fixture_start(&fx, FALSE, FALSE);
	ck_autofd fd = connect_crio(&fx);

	/* conmon-interface.md#stdin-rules: no -i, no -t: input is never delivered, the client is read
	 * once and then ignored, and output still reaches it. */
	g_assert_cmpint(send(fd, "one", 3, 0), ==, 3);
	drain_main_context();
	g_assert_cmpint(send(fd, "two", 3, 0), ==, 3);
	drain_main_context();
	g_assert_cmpuint(fx.n_input_records, ==, 0);
	write_out(&fx, ATTACH_STREAM_STDOUT, "out\n");
	assert_record(fd, "\x02out\n", 5);
	fixture_teardown(&fx, NULL);
}

static void test_full_attach_long_bundle(void)
{
	Fixture fx = {0};
	g_autofree char *top = make_tmp_dir();
	g_autofree char *name = g_strnfill(150, 'b');
	struct stat st;

	/* A bundle path far beyond sun_path's 108 bytes (conmon-interface.md#attach-socket). */
	fixture_init(&fx);
	g_rmdir(fx.bundle);
	g_free(fx.bundle);
	fx.bundle = g_build_filename(top, name, NULL);
	g_assert_no_errno(g_mkdir(fx.bundle, 0700));
	fixture_start(&fx, TRUE, TRUE);

	g_autofree char *link = g_build_filename(fx.sockdir, CUUID, NULL);
	g_assert_cmpint(lstat(link, &st), ==, -1); /* no symlink with --full-attach */

	ck_autofd fd = connect_podman(fx.bundle);
	write_out(&fx, ATTACH_STREAM_STDERR, "e\n");
	assert_record(fd,
		      "\x03"
		      "e\n",
		      3);
	g_assert_cmpint(send(fd, "in", 2, 0), ==, 2);
	drain_main_context();
	g_assert_cmpmem(fx.input->data, fx.input->len, "in", 2);

	g_autofree char *sock = g_build_filename(fx.bundle, "attach", NULL);
	attach_server_free(g_steal_pointer(&fx.as));
	g_assert_cmpint(lstat(sock, &st), ==, -1);
	fixture_teardown(&fx, NULL);
	g_assert_cmpint(g_rmdir(top), ==, 0);
}

static void test_free_removes(void)
{
	Fixture fx = {0};
	struct stat st;

	fixture_init(&fx);
	fixture_start(&fx, FALSE, TRUE);
	g_autofree char *link = g_build_filename(fx.sockdir, CUUID, NULL);
	g_autofree char *sock = g_build_filename(fx.bundle, "attach", NULL);
	ck_autofd fd = connect_crio(&fx);

	attach_server_free(g_steal_pointer(&fx.as));
	g_assert_cmpint(lstat(sock, &st), ==, -1);
	g_assert_cmpint(errno, ==, ENOENT);
	g_assert_cmpint(lstat(link, &st), ==, -1);
	g_assert_cmpint(errno, ==, ENOENT);
	fixture_teardown(&fx, NULL);
}

static void test_replaces_stale(void)
{
	Fixture fx = {0};
	struct stat st;

	fixture_init(&fx);
	g_autofree char *link = g_build_filename(fx.sockdir, CUUID, NULL);
	g_autofree char *sock = g_build_filename(fx.bundle, "attach", NULL);
	/* A stale symlink to elsewhere and a stale file where the socket goes. */
	g_assert_no_errno(symlink("/nonexistent", link));
	g_assert_true(g_file_set_contents(sock, "", 0, NULL));

	fixture_start(&fx, FALSE, TRUE);
	g_autofree char *target = g_file_read_link(link, NULL);
	g_assert_cmpstr(target, ==, fx.bundle);
	g_assert_no_errno(lstat(sock, &st));
	g_assert_true(S_ISSOCK(st.st_mode));
	ck_autofd fd = connect_crio(&fx);
	g_assert_cmpuint(attach_server_n_clients(fx.as), ==, 1);
	fixture_teardown(&fx, NULL);
}

/* conmon-interface.md#attach-socket: "<socket_dir>/<cuuid>" of exactly 107 bytes is cut by one. */
static void test_symlink_107(void)
{
	Fixture fx = {0};
	g_autoptr(GError) error = NULL;
	AttachCallbacks cb = {.user_data = &fx};
	struct stat st;

	fixture_init(&fx);
	gsize cuuid_len = 107 - strlen(fx.sockdir) - 1;
	g_autofree char *cuuid = g_strnfill(cuuid_len, 'c');
	g_autofree char *full = g_build_filename(fx.sockdir, cuuid, NULL);
	g_assert_cmpuint(strlen(full), ==, 107);
	g_autofree char *cut = g_strndup(full, 106);

	fx.as = attach_server_new(fx.bundle, fx.sockdir, cuuid, FALSE, TRUE, &cb, &error);
	g_assert_no_error(error);
	g_assert_cmpint(lstat(full, &st), ==, -1);
	g_assert_no_errno(lstat(cut, &st));
	g_assert_true(S_ISLNK(st.st_mode));

	/* One byte shorter or longer: no cut. */
	attach_server_free(g_steal_pointer(&fx.as));
	g_assert_cmpint(lstat(cut, &st), ==, -1);
	cuuid[cuuid_len - 1] = '\0';
	fx.as = attach_server_new(fx.bundle, fx.sockdir, cuuid, FALSE, TRUE, &cb, &error);
	g_assert_no_error(error);
	g_assert_no_errno(lstat(cut, &st));
	fixture_teardown(&fx, NULL);
}

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	umask(022);

	ADD("/conmon-attach/socket-and-symlink", test_socket_and_symlink);
	ADD("/conmon-attach/output-records", test_output_records);
	ADD("/conmon-attach/two-clients", test_two_clients);
	ADD("/conmon-attach/input", test_input);
	ADD("/conmon-attach/input-truncated", test_input_truncated);
	ADD("/conmon-attach/shut-wr", test_shut_wr);
	ADD("/conmon-attach/client-closes", test_client_closes);
	ADD("/conmon-attach/pause-input", test_pause_input);
	ADD("/conmon-attach/close-clients", test_close_clients);
	ADD("/conmon-attach/other-uid-refused", test_other_uid_refused);
	g_test_add_func("/conmon-attach/no-stdin", test_no_stdin);
	g_test_add_func("/conmon-attach/full-attach-long-bundle", test_full_attach_long_bundle);
	g_test_add_func("/conmon-attach/free-removes", test_free_removes);
	g_test_add_func("/conmon-attach/replaces-stale", test_replaces_stale);
	g_test_add_func("/conmon-attach/symlink-107", test_symlink_107);
	return g_test_run();
}
