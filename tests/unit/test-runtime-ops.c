/* Unit tests: the runtime operations (vmctl/lib/runtime-ops.c) against a
 * scripted pod monitor. A thread serves the control socket the state
 * names: each connection gets one request, which is recorded, and the
 * next scripted response. The tests check what each verb asks the pod,
 * what it refuses without asking, what it makes of the answer, and what
 * it writes into the state. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-socket.h"
#include "proto/ck-frame.h"
#include "proto/ck-message.h"
#include "lib/runtime-ops.h"
#include "lib/state.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

typedef struct {
	char *root;
	char *sock;
	int listen_fd;
	GThread *thread;
	GPtrArray *replies;  /* char *: the response payload for each connection, in order */
	GAsyncQueue *seen;   /* char *: the request payloads the pod received */
	gint stop;
} Fixture;

/* Reads one request frame from fd and answers it with reply; FALSE at EOF. */
static gboolean serve_one(int fd, const char *reply, GAsyncQueue *seen)
{
	CkFrameReader r;
	CkFrame f;
	guint8 buf[4096];
	int got = 0;

	ck_frame_reader_init(&r);
	while (got == 0) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		ck_frame_reader_feed(&r, buf, (gsize)n);
		got = ck_frame_reader_next(&r, &f, NULL);
	}
	if (got > 0) {
		g_async_queue_push(seen, g_strndup((const char *)f.payload, f.len));
		CkFrame out = {.type = CK_FRAME_RESPONSE, .id = f.id, .len = (guint32)strlen(reply),
			       .payload = (const guint8 *)reply};
		g_autoptr(GByteArray) bytes = g_byte_array_new();
		ck_frame_append(bytes, &out);
		g_assert_true(ck_write_all(fd, bytes->data, bytes->len));
	}
	ck_frame_reader_clear(&r);
	return got > 0;
}

static gpointer pod_thread(gpointer data)
{
	Fixture *f = data;

	for (guint i = 0; i < f->replies->len && !g_atomic_int_get(&f->stop);) {
		struct pollfd pfd = {.fd = f->listen_fd, .events = POLLIN};
		if (poll(&pfd, 1, 50) <= 0)
			continue;
		ck_autofd conn = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			continue;
		(void)serve_one(conn, g_ptr_array_index(f->replies, i++), f->seen);
	}
	return NULL;
}

static void set_up(Fixture *f, gconstpointer data)
{
	(void)data;
	f->root = g_dir_make_tmp("ck-runtime-ops-XXXXXX", NULL);
	g_assert_nonnull(f->root);
	f->sock = g_build_filename(f->root, "ctl.sock", NULL);
	f->listen_fd = ck_unix_listen(f->sock, SOCK_STREAM, 0, 0600, 4, NULL);
	g_assert_cmpint(f->listen_fd, >=, 0);
	f->replies = g_ptr_array_new_with_free_func(g_free);
	f->seen = g_async_queue_new_full(g_free);
}

static void tear_down(Fixture *f, gconstpointer data)
{
	(void)data;
	g_atomic_int_set(&f->stop, 1);
	if (f->thread != NULL)
		g_thread_join(f->thread);
	ck_close_fdp(&f->listen_fd);
	g_autoptr(GError) error = NULL;
	g_assert_true(ck_rm_rf(f->root, &error));
	g_free(f->root);
	g_free(f->sock);
	g_ptr_array_unref(f->replies);
	g_async_queue_unref(f->seen);
}

static void script(Fixture *f, char *reply)
{
	g_ptr_array_add(f->replies, reply);
}

static char *ok_reply(CkOp op, gconstpointer result)
{
	g_autoptr(CkJsonGen) g = ck_msg_result(op, result);
	return ck_msg_finish(g, NULL);
}

static char *error_reply(CkErrorCode code, const char *message)
{
	g_autoptr(GError) e = g_error_new_literal(CK_ERROR, code, message);
	return ck_msg_error_response(e, NULL);
}

static void serve(Fixture *f)
{
	f->thread = g_thread_new("pod", pod_thread, f);
}

/* The next request the pod received, or NULL after a short wait. */
static char *next_request(Fixture *f)
{
	return g_async_queue_timeout_pop(f->seen, 2 * G_USEC_PER_SEC);
}

/* A VM container whose stand-in is this process: alive, as the state
 * module observes it. */
static void write_state(Fixture *f, const char *status)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(ContainerState) st = container_state_new(ID);

	st->pod_id = g_strdup(POD);
	st->bundle = g_strdup("/bundle");
	st->rootfs = g_strdup("/bundle/rootfs");
	g_free(st->status);
	st->status = g_strdup(status);
	st->pid = getpid();
	st->pid_start = proc_start_time(getpid());
	st->control_socket = g_strdup(f->sock);
	ck_autofd lock = container_state_lock(f->root, ID, TRUE, TRUE, &error);
	g_assert_no_error(error);
	g_assert_true(container_state_write(f->root, st, &error));
	g_assert_no_error(error);
}

static char *status_now(Fixture *f)
{
	g_autoptr(ContainerState) st = container_state_read(f->root, ID, NULL);
	return st != NULL ? g_strdup(st->status) : NULL;
}

static void test_start(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	(void)data;
	write_state(f, "created");
	script(f, ok_reply(CK_OP_START_CONTAINER, NULL));
	serve(f);
	g_assert_true(runtime_start(f->root, ID, &error));
	g_assert_no_error(error);
	g_autofree char *req = next_request(f);
	g_assert_cmpstr(req, ==, "{\"op\":\"start_container\",\"id\":\"" ID "\"}");
	g_autofree char *status = status_now(f);
	g_assert_cmpstr(status, ==, "running");

	/* a second start is refused without asking the pod */
	g_assert_false(runtime_start(f->root, ID, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
	g_assert_cmpstr(error->message, ==, "cannot start a container that has already been started");
	g_autofree char *none = next_request(f);
	g_assert_null(none);
}

/* The pod's refusal is the caller's error, word for word, and the state
 * stays what it was. */
static void test_start_refused(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	(void)data;
	write_state(f, "created");
	script(f, error_reply(CK_ERROR_NOT_FOUND, "start_container: no container " ID));
	serve(f);
	g_assert_false(runtime_start(f->root, ID, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "start_container: no container " ID);
	g_autofree char *status = status_now(f);
	g_assert_cmpstr(status, ==, "created");
}

static void test_kill(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	(void)data;
	write_state(f, "running");
	script(f, ok_reply(CK_OP_SIGNAL_PROCESS, NULL));
	script(f, ok_reply(CK_OP_SIGNAL_PROCESS, NULL));
	serve(f);
	g_assert_true(runtime_kill(f->root, ID, SIGTERM, FALSE, &error));
	g_assert_no_error(error);
	g_autofree char *one = next_request(f);
	g_assert_cmpstr(one, ==, "{\"op\":\"signal_process\",\"id\":\"" ID "\",\"signal\":15}");
	g_assert_true(runtime_kill(f->root, ID, SIGKILL, TRUE, &error));
	g_autofree char *all = next_request(f);
	g_assert_cmpstr(all, ==, "{\"op\":\"signal_process\",\"id\":\"" ID "\",\"signal\":9,\"all\":true}");
}

/* A stopped container (its stand-in gone) is not asked about. */
static void test_kill_stopped(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	(void)data;
	write_state(f, "running");
	g_autoptr(ContainerState) st = container_state_read(f->root, ID, NULL);
	st->pid_start += 1; /* another process's start time: the stand-in has gone */
	g_assert_true(container_state_write(f->root, st, NULL));
	serve(f);
	g_assert_false(runtime_kill(f->root, ID, SIGTERM, FALSE, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "container not running");
	g_autofree char *none = next_request(f);
	g_assert_null(none);
}

static void test_pause_resume(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	(void)data;
	write_state(f, "running");
	script(f, ok_reply(CK_OP_PAUSE_CONTAINER, NULL));
	script(f, ok_reply(CK_OP_RESUME_CONTAINER, NULL));
	serve(f);
	g_assert_false(runtime_pause(f->root, ID, FALSE, &error));
	g_assert_cmpstr(error->message, ==, "container not paused");
	g_clear_error(&error);
	g_assert_true(runtime_pause(f->root, ID, TRUE, &error));
	g_autofree char *p = next_request(f);
	g_assert_cmpstr(p, ==, "{\"op\":\"pause_container\",\"id\":\"" ID "\"}");
	g_autofree char *paused = status_now(f);
	g_assert_cmpstr(paused, ==, "paused");
	g_assert_true(runtime_pause(f->root, ID, FALSE, &error));
	g_autofree char *r = next_request(f);
	g_assert_cmpstr(r, ==, "{\"op\":\"resume_container\",\"id\":\"" ID "\"}");
	g_autofree char *running = status_now(f);
	g_assert_cmpstr(running, ==, "running");
}

/* ps: the guest's pids, without what no pid can be (the guest is not
 * trusted to send only sensible numbers). */
static void test_ps(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	gint64 pids[] = {1, 0, -5, 42, (gint64)G_MAXINT + 1};
	CkListProcessesResult result = {.pids = pids, .n_pids = G_N_ELEMENTS(pids)};

	(void)data;
	write_state(f, "running");
	script(f, ok_reply(CK_OP_LIST_PROCESSES, &result));
	serve(f);
	g_autoptr(GArray) got = runtime_ps(f->root, ID, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(got->len, ==, 2);
	g_assert_cmpint(g_array_index(got, int, 0), ==, 1);
	g_assert_cmpint(g_array_index(got, int, 1), ==, 42);
	g_autofree char *req = next_request(f);
	g_assert_cmpstr(req, ==, "{\"op\":\"list_processes\",\"id\":\"" ID "\"}");
}

/* delete --force of a created container: SIGKILL to all its processes,
 * then its state is gone. */
static void test_delete_force(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;

	(void)data;
	write_state(f, "running");
	g_assert_false(runtime_delete(f->root, ID, FALSE, &error));
	g_assert_cmpstr(error->message, ==, "cannot delete container " ID " that is not stopped: running");
	g_clear_error(&error);
	script(f, ok_reply(CK_OP_SIGNAL_PROCESS, NULL));
	serve(f);
	g_assert_true(runtime_delete(f->root, ID, TRUE, &error));
	g_assert_no_error(error);
	g_autofree char *req = next_request(f);
	g_assert_cmpstr(req, ==, "{\"op\":\"signal_process\",\"id\":\"" ID "\",\"signal\":9,\"all\":true}");
	g_autofree char *dir = container_state_dir(f->root, ID);
	g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/runtime-ops/" name, Fixture, NULL, set_up, fn, tear_down)
	ADD("start", test_start);
	ADD("start-refused", test_start_refused);
	ADD("kill", test_kill);
	ADD("kill-stopped", test_kill_stopped);
	ADD("pause-resume", test_pause_resume);
	ADD("ps", test_ps);
	ADD("delete-force", test_delete_force);
	return g_test_run();
}
