/* Unit tests: the sync pipe messages (conmon-kata/sync-pipe.c).
 *
 * conmon-interface.md#sync-pipe-messages: exact bytes for every escaping class, the
 * optional message, -1 and the extremes of %d, one record per message on a
 * SEQPACKET socketpair (what CRI-O and Podman use), EPIPE handled quietly,
 * and the start pipe's single read (conmon-interface.md#start-pipe).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "conmon-kata/sync-pipe.h"

static void assert_format(const char *key, int value, const char *message, const char *expected)
{
	g_autofree char *got = sync_message_format(key, value, message);

	g_assert_cmpstr(got, ==, expected);
}

static void test_key(void)
{
	g_assert_cmpstr(sync_pipe_key(FALSE, FALSE), ==, "pid");
	g_assert_cmpstr(sync_pipe_key(FALSE, TRUE), ==, "exit_code");
	g_assert_cmpstr(sync_pipe_key(TRUE, FALSE), ==, "data");
	g_assert_cmpstr(sync_pipe_key(TRUE, TRUE), ==, "data");
}

static void test_format_plain(void)
{
	assert_format("pid", 123, NULL, "{\"pid\": 123}\n");
	assert_format("pid", 123, "", "{\"pid\": 123}\n");
	assert_format("data", -1, NULL, "{\"data\": -1}\n");
	assert_format("exit_code", 0, NULL, "{\"exit_code\": 0}\n");
	assert_format("data", INT_MIN, NULL, "{\"data\": -2147483648}\n");
	assert_format("data", INT_MAX, NULL, "{\"data\": 2147483647}\n");
	assert_format("exit_code", -1, "command timed out",
		      "{\"exit_code\": -1, \"message\": \"command timed out\"}\n");
	assert_format("pid", -1, "Runtime did not set up terminal",
		      "{\"pid\": -1, \"message\": \"Runtime did not set up terminal\"}\n");
}

static void test_escape_named(void)
{
	assert_format("data", -1, "a\\b", "{\"data\": -1, \"message\": \"a\\\\b\"}\n");
	assert_format("data", -1, "say \"hi\"", "{\"data\": -1, \"message\": \"say \\\"hi\\\"\"}\n");
	assert_format("data", -1, "/usr/bin/x", "{\"data\": -1, \"message\": \"\\/usr\\/bin\\/x\"}\n");
	assert_format("data", -1, "l1\nl2\r\tb\bf\f", "{\"data\": -1, \"message\": \"l1\\nl2\\r\\tb\\bf\\f\"}\n");
}

static void test_escape_control(void)
{
	/* Every other byte below 0x20, and 0x7F, as \u00xx, lowercase. */
	assert_format("pid", -1, "\x01", "{\"pid\": -1, \"message\": \"\\u0001\"}\n");
	assert_format("pid", -1, "\x1b[0m", "{\"pid\": -1, \"message\": \"\\u001b[0m\"}\n");
	assert_format("pid", -1, "\x1f\x0b\x0e", "{\"pid\": -1, \"message\": \"\\u001f\\u000b\\u000e\"}\n");
	assert_format("pid", -1, "\x7f", "{\"pid\": -1, \"message\": \"\\u007f\"}\n");

	/* All 32 control bytes: none is copied raw. */
	for (int b = 1; b < 0x20; b++) {
		char in[2] = {(char)b, '\0'};
		g_autofree char *got = sync_message_format("pid", -1, in);
		const char *body = strstr(got, "\"message\": \"") + strlen("\"message\": \"");

		g_assert_cmpint(body[0], ==, '\\');
	}
}

static void test_escape_high_bytes(void)
{
	/* Bytes >= 0x80 are copied raw, valid UTF-8 or not. */
	assert_format("pid", -1, "caf\xc3\xa9", "{\"pid\": -1, \"message\": \"caf\xc3\xa9\"}\n");
	assert_format("pid", -1, "\x80\xff\xfe", "{\"pid\": -1, \"message\": \"\x80\xff\xfe\"}\n");
	/* Printable ASCII, including space and other punctuation, as is. */
	assert_format("pid", -1, " ~'{}[]:,", "{\"pid\": -1, \"message\": \" ~'{}[]:,\"}\n");
}

static void make_seqpacket_pair(int sv[2])
{
	g_assert_no_errno(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv));
}

static void test_write_one_record(void)
{
	int sv[2];
	char buf[256];
	g_autoptr(GError) error = NULL;

	make_seqpacket_pair(sv);
	g_assert_true(sync_pipe_write(sv[0], "pid", 4242, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(sync_pipe_write(sv[0], "data", -1, "no such file", &error));
	g_assert_no_error(error);

	ssize_t n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
	g_assert_cmpmem(buf, n, "{\"pid\": 4242}\n", 14);
	n = recv(sv[1], buf, sizeof buf, MSG_DONTWAIT);
	const char *second = "{\"data\": -1, \"message\": \"no such file\"}\n";
	g_assert_cmpmem(buf, n, second, strlen(second));
	close(sv[0]);
	close(sv[1]);
}

/* A socket whose reader is gone: no SIGPIPE even with the default
 * disposition (MSG_NOSIGNAL), and EPIPE is not an error. */
static void test_epipe_socket(void)
{
	int sv[2];
	g_autoptr(GError) error = NULL;
	struct sigaction dfl = {.sa_handler = SIG_DFL}, old;

	make_seqpacket_pair(sv);
	close(sv[1]);
	sigaction(SIGPIPE, &dfl, &old);
	g_assert_true(sync_pipe_write(sv[0], "pid", 1, NULL, &error));
	sigaction(SIGPIPE, &old, NULL);
	g_assert_no_error(error);
	close(sv[0]);
}

/* A plain pipe: the monitor ignores SIGPIPE (main() here does too). */
static void test_syncpipe_remembers_epipe(void)
{
	int p[2];
	g_autoptr(GError) error = NULL;
	SyncPipe sp = SYNC_PIPE_INIT;

	g_assert_true(sync_pipe_is_closed(&sp));
	g_assert_true(sync_pipe_send(&sp, "pid", 1, NULL, &error)); /* no pipe: no-op */

	g_assert_no_errno(pipe2(p, O_CLOEXEC));
	sync_pipe_init(&sp, p[1]);
	g_assert_false(sync_pipe_is_closed(&sp));
	close(p[0]);
	g_assert_true(sync_pipe_send(&sp, "pid", 1, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(sync_pipe_is_closed(&sp));
	g_assert_cmpint(sp.fd, ==, -1);
	g_assert_true(sync_pipe_send(&sp, "pid", 2, "later", &error));
	g_assert_no_error(error);
	sync_pipe_clear(&sp);
}

static void test_write_error(void)
{
	g_autoptr(GError) error = NULL;
	int p[2];

	g_assert_no_errno(pipe2(p, O_CLOEXEC));
	close(p[1]);
	/* Writing to a read end is EBADF: a real failure, reported. */
	g_assert_false(sync_pipe_write(p[0], "pid", 1, NULL, &error));
	g_assert_error(error, CK_ERRNO_ERROR, EBADF);
	g_assert_true(g_str_has_prefix(error->message, "write to sync pipe: "));
	close(p[0]);
}

static void test_wait_start(void)
{
	int p[2];
	g_autoptr(GError) error = NULL;
	char c;

	g_assert_no_errno(pipe2(p, O_CLOEXEC));
	g_assert_cmpint(write(p[1], "\0", 1), ==, 1);
	g_assert_true(sync_pipe_wait_start(p[0], &error));
	g_assert_no_error(error);

	/* The read consumed the byte: a second wait sees EOF, also fine. */
	close(p[1]);
	g_assert_cmpint(fcntl(p[0], F_SETFL, O_NONBLOCK), ==, 0);
	g_assert_cmpint(read(p[0], &c, 1), ==, 0);
	g_assert_true(sync_pipe_wait_start(p[0], &error));
	g_assert_no_error(error);
	close(p[0]);

	g_assert_false(sync_pipe_wait_start(p[0], &error));
	g_assert_error(error, CK_ERRNO_ERROR, EBADF);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	signal(SIGPIPE, SIG_IGN);

	g_test_add_func("/conmon-sync/key", test_key);
	g_test_add_func("/conmon-sync/format/plain", test_format_plain);
	g_test_add_func("/conmon-sync/format/escape-named", test_escape_named);
	g_test_add_func("/conmon-sync/format/escape-control", test_escape_control);
	g_test_add_func("/conmon-sync/format/escape-high-bytes", test_escape_high_bytes);
	g_test_add_func("/conmon-sync/write/one-record", test_write_one_record);
	g_test_add_func("/conmon-sync/write/epipe-socket", test_epipe_socket);
	g_test_add_func("/conmon-sync/write/epipe-remembered", test_syncpipe_remembers_epipe);
	g_test_add_func("/conmon-sync/write/error", test_write_error);
	g_test_add_func("/conmon-sync/start-pipe", test_wait_start);
	return g_test_run();
}
