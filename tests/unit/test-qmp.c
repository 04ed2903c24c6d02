/* qmp: the QMP client (vmctl/lib/qmp.h) and the hot-plug commands built
 * on it (hotplug.h), against a scripted peer on a socketpair: each step
 * of a script names the exact line the client must send (or none) and
 * the lines the peer answers with. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "base/ck-error.h"
#include "base/ck-json.h"
#include "lib/hotplug.h"
#include "lib/qmp.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7}}, \"capabilities\": []}}\n"

typedef struct {
	const char *expect; /* the line the client sends (without "\n"), or NULL */
	const char *reply;  /* what the peer writes then, or NULL; "CLOSE" hangs up */
} Step;

typedef struct {
	int fd;
	const Step *steps;
	char *mismatch; /* the first line that differed from the script */
} Peer;

static char *read_line(int fd)
{
	GString *s = g_string_new(NULL);
	char c;
	while (read(fd, &c, 1) == 1 && c != '\n')
		g_string_append_c(s, c);
	return g_string_free(s, FALSE);
}

static gpointer peer_run(gpointer data)
{
	Peer *p = data;

	for (const Step *s = p->steps; s->expect != NULL || s->reply != NULL; s++) {
		if (s->expect != NULL) {
			g_autofree char *line = read_line(p->fd);
			if (!g_str_equal(line, s->expect) && p->mismatch == NULL)
				p->mismatch = g_strdup_printf("expected %s, got %s", s->expect, line);
		}
		if (s->reply != NULL && g_str_equal(s->reply, "CLOSE")) {
			shutdown(p->fd, SHUT_RDWR);
			break;
		}
		if (s->reply != NULL && write(p->fd, s->reply, strlen(s->reply)) < 0)
			break;
	}
	return NULL;
}

/* A client connected to a peer playing `steps`, handshake done. */
static QmpClient *start(Peer *peer, GThread **thread, const Step *steps)
{
	int sv[2];
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	*peer = (Peer){.fd = sv[1], .steps = steps};
	*thread = g_thread_new("qmp-peer", peer_run, peer);
	QmpClient *c = qmp_client_new(sv[0]);
	g_assert_true(qmp_client_handshake(c, 5000, &error));
	g_assert_no_error(error);
	return c;
}

static void finish(Peer *peer, GThread *thread, QmpClient *c)
{
	qmp_client_free(c);
	g_thread_join(thread);
	close(peer->fd);
	g_assert_cmpstr(peer->mismatch, ==, NULL);
}

#define HANDSHAKE {NULL, GREETING}, {"{\"execute\":\"qmp_capabilities\",\"id\":1}", "{\"return\": {}, \"id\": 1}\n"}

static void test_execute(void)
{
	static const Step steps[] = {
		HANDSHAKE,
		{"{\"execute\":\"device_add\",\"arguments\":{\"driver\":\"x\",\"id\":\"a\\\"b\"},\"id\":2}",
		 /* an event and a stale reply come first: the event is kept, the reply skipped */
		 "{\"event\": \"DEVICE_DELETED\", \"data\": {}}\n{\"return\": {}, \"id\": 99}\n"
		 "{\"return\": {\"ok\": true}, \"id\": 2}\n"},
		{"{\"execute\":\"query-status\",\"id\":3}", "{\"error\": {\"class\": \"GenericError\", \"desc\": "
							     "\"Bus 'pcie.9' not found\"}, \"id\": 3}\n"},
		{NULL, NULL},
	};
	Peer peer;
	GThread *thread;
	g_autoptr(GError) error = NULL;
	QmpClient *c = start(&peer, &thread, steps);
	g_autoptr(CkJsonGen) args = ck_json_gen_new();
	g_auto(yajl_val) reply = NULL;

	/* arguments come from the generator: a quote in a value stays a quote */
	ck_json_map_open(args);
	ck_json_kv_string(args, "driver", "x");
	ck_json_kv_string(args, "id", "a\"b");
	ck_json_map_close(args);
	g_assert_true(qmp_client_execute(c, "device_add", args, 5000, &reply, &error));
	g_assert_no_error(error);
	g_assert_true(YAJL_IS_TRUE(ck_json_get(ck_json_get(reply, "return"), "ok")));
	g_autoptr(GPtrArray) events = qmp_client_take_events(c);
	g_assert_cmpuint(events->len, ==, 1);
	g_assert_cmpstr(YAJL_GET_STRING(ck_json_get(g_ptr_array_index(events, 0), "event")), ==, "DEVICE_DELETED");

	g_assert_false(qmp_client_execute(c, "query-status", NULL, 5000, NULL, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_FAILED);
	g_assert_cmpstr(error->message, ==, "QMP query-status: Bus 'pcie.9' not found");
	finish(&peer, thread, c);
}

static void test_timeout_and_hangup(void)
{
	static const Step silent[] = {HANDSHAKE, {"{\"execute\":\"stop\",\"id\":2}", NULL}, {NULL, NULL}};
	static const Step hangup[] = {HANDSHAKE, {"{\"execute\":\"stop\",\"id\":2}", "CLOSE"}, {NULL, NULL}};
	Peer peer;
	GThread *thread;
	g_autoptr(GError) error = NULL;

	QmpClient *c = start(&peer, &thread, silent);
	g_assert_false(qmp_client_execute(c, "stop", NULL, 200, NULL, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_TIMEOUT);
	g_assert_cmpstr(error->message, ==, "QMP: no answer from QEMU in time");
	g_clear_error(&error);
	shutdown(peer.fd, SHUT_RDWR);
	finish(&peer, thread, c);

	c = start(&peer, &thread, hangup);
	g_assert_false(qmp_client_execute(c, "stop", NULL, 5000, NULL, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_DISCONNECTED);
	g_assert_cmpstr(error->message, ==, "QMP: QEMU closed the connection");
	finish(&peer, thread, c);
}

static void test_hotplug_memory(void)
{
	static const Step steps[] = {
		HANDSHAKE,
		{"{\"execute\":\"object-add\",\"arguments\":{\"id\":\"hotmem2\",\"qom-type\":\"memory-backend-memfd\","
		 "\"size\":268435456},\"id\":2}",
		 "{\"return\": {}, \"id\": 2}\n"},
		{"{\"execute\":\"device_add\",\"arguments\":{\"id\":\"dimm2\",\"driver\":\"pc-dimm\",\"memdev\":\"hotmem2\"},"
		 "\"id\":3}",
		 "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no free slot\"}, \"id\": 3}\n"},
		/* the backend of a DIMM that could not be added is taken back */
		{"{\"execute\":\"object-del\",\"arguments\":{\"id\":\"hotmem2\"},\"id\":4}", "{\"return\": {}, \"id\": 4}\n"},
		{NULL, NULL},
	};
	Peer peer;
	GThread *thread;
	g_autoptr(GError) error = NULL;
	QmpClient *c = start(&peer, &thread, steps);

	g_assert_false(hotplug_memory(c, 2, 256, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_FAILED);
	g_assert_cmpstr(error->message, ==, "QMP device_add: no free slot");
	finish(&peer, thread, c);
}

/* getfd: the descriptor travels with the very line that names it, and
 * the peer can use it (here: write through it into a pipe we read). */
static void test_pass_fd(void)
{
	int sv[2], pipefd[2];
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_assert_cmpint(pipe(pipefd), ==, 0);
	QmpClient *c = qmp_client_new(sv[0]);
	g_assert_cmpint(write(sv[1], GREETING, strlen(GREETING)), ==, (ssize_t)strlen(GREETING));
	g_autofree char *caps = NULL;
	/* the handshake's reply is queued first, so the client never waits on it */
	const char *ok1 = "{\"return\": {}, \"id\": 1}\n";
	g_assert_cmpint(write(sv[1], ok1, strlen(ok1)), ==, (ssize_t)strlen(ok1));
	g_assert_true(qmp_client_handshake(c, 5000, &error));
	caps = read_line(sv[1]);
	g_assert_cmpstr(caps, ==, "{\"execute\":\"qmp_capabilities\",\"id\":1}");

	const char *ok2 = "{\"return\": {}, \"id\": 2}\n";
	g_assert_cmpint(write(sv[1], ok2, strlen(ok2)), ==, (ssize_t)strlen(ok2));
	g_assert_true(qmp_client_pass_fd(c, pipefd[1], "state", 5000, &error));
	g_assert_no_error(error);

	char line[256] = {0};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = line, .iov_len = sizeof line - 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	ssize_t n = recvmsg(sv[1], &msg, 0);
	g_assert_cmpint(n, >, 0);
	g_assert_cmpstr(line, ==, "{\"execute\":\"getfd\",\"arguments\":{\"fdname\":\"state\"},\"id\":2}\n");
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	g_assert_nonnull(cm);
	g_assert_cmpint(cm->cmsg_type, ==, SCM_RIGHTS);
	int got;
	memcpy(&got, CMSG_DATA(cm), sizeof got);
	g_assert_cmpint(write(got, "x", 1), ==, 1);
	char c1 = 0;
	g_assert_cmpint(read(pipefd[0], &c1, 1), ==, 1);
	g_assert_cmpint(c1, ==, 'x');
	close(got);
	close(pipefd[0]);
	close(pipefd[1]);
	qmp_client_free(c);
	close(sv[1]);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/qmp/execute", test_execute);
	g_test_add_func("/qmp/timeout-and-hangup", test_timeout_and_hangup);
	g_test_add_func("/qmp/hotplug-memory", test_hotplug_memory);
	g_test_add_func("/qmp/pass-fd", test_pass_fd);
	return g_test_run();
}
