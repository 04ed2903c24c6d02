/* Unit tests: the host's agent client (vmctl/lib/agent-client.c) against a
 * scripted peer on a socketpair. The case that matters: the agent answers
 * exec_process and the process writes at once, so the reply and the first
 * output frames arrive in one read, before the caller (back from
 * agent_client_call) has registered the handle's stream handler. Those
 * frames must reach the handler, in order, when it is registered.
 *
 * And the guest process on top of it (guest-process.c): output frames of
 * one stream that arrive together are one chunk for the consumer, so a
 * terminal line the agent read in two pieces ("text", "\r\n") is one log
 * record, as with conmon; a frame of the other stream, an EOF or the exit
 * ends the chunk, and the credit returned is the bytes handed over.
 *
 * And a hostile peer: a malformed frame, a response or event that is not
 * the protocol's JSON, a response to a request never sent or a request
 * closes the connection as a protocol violation; a late answer to a
 * request given up on does not.
 *
 * And agent_client_ops(): its calls are all sent before the first answer,
 * their results decoded, the first failure is the error. */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "base/ck-error.h"
#include "proto/ck-frame.h"
#include "proto/ck-message.h"
#include "lib/agent-client.h"
#include "lib/guest-process.h"

typedef struct {
	GString *data; /* "<stream>:<bytes>;" per DATA frame, "eof<stream>;" per EOF */
} Seen;

static void on_stream(AgentClient *c, const CkFrame *frame, gpointer user_data)
{
	Seen *seen = user_data;

	(void)c;
	if (frame->type == CK_FRAME_DATA)
		g_string_append_printf(seen->data, "%u:%.*s;", frame->stream, (int)frame->len,
				       (const char *)frame->payload);
	else if (frame->type == CK_FRAME_EOF)
		g_string_append_printf(seen->data, "eof%u;", frame->stream);
}

static void append_frame(GByteArray *out, CkFrameType type, guint32 id, guint8 stream, const char *payload)
{
	CkFrame f = {.type = type, .id = id, .stream = stream, .len = (guint32)strlen(payload),
		     .payload = (const guint8 *)payload};
	ck_frame_append(out, &f);
}

static void append_result_handle(GByteArray *out, guint32 request_id, guint32 handle)
{
	g_autoptr(CkJsonGen) g = ck_msg_result_begin();
	ck_json_kv_int(g, "handle", handle);
	gsize len = 0;
	g_autofree char *doc = ck_msg_finish(g, &len);
	append_frame(out, CK_FRAME_RESPONSE, request_id, 0, doc);
}

static void write_all(int fd, const GByteArray *buf)
{
	g_assert_cmpint(write(fd, buf->data, buf->len), ==, (gssize)buf->len);
}

/* The reply and the process's first frames in one write: they reach the
 * handler registered after the call returned, in order, and only those of
 * its own handle. */
static void test_early_frames_handed_over(void)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	AgentClient *c = agent_client_new(sv[0], NULL);
	g_autoptr(GByteArray) script = g_byte_array_new();

	/* agent_client numbers its requests from 1 */
	append_result_handle(script, 1, 7);
	append_frame(script, CK_FRAME_DATA, 7, CK_STREAM_STDOUT, "out");
	append_frame(script, CK_FRAME_DATA, 8, CK_STREAM_STDOUT, "other");
	append_frame(script, CK_FRAME_DATA, 7, CK_STREAM_STDERR, "err");
	append_frame(script, CK_FRAME_EOF, 7, CK_STREAM_STDOUT, "");
	write_all(sv[1], script);

	g_autoptr(GError) error = NULL;
	g_autoptr(CkJsonGen) req = ck_msg_request_begin(CK_OP_EXEC_PROCESS);
	yajl_val result = NULL;
	yajl_val reply = agent_client_call(c, req, 5000, &result, &error);
	g_assert_no_error(error);
	g_assert_nonnull(reply);
	yajl_tree_free(reply);

	Seen seen = {g_string_new(NULL)};
	agent_client_set_stream_func(c, 7, on_stream, &seen);
	g_assert_cmpstr(seen.data->str, ==, "1:out;2:err;eof1;");

	/* later frames go straight to the handler */
	g_byte_array_set_size(script, 0);
	append_frame(script, CK_FRAME_DATA, 7, CK_STREAM_STDERR, "late");
	write_all(sv[1], script);
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (!g_str_has_suffix(seen.data->str, "2:late;") && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpstr(seen.data->str, ==, "1:out;2:err;eof1;2:late;");

	/* handle 8's frame was kept for its own handler */
	Seen other = {g_string_new(NULL)};
	agent_client_set_stream_func(c, 8, on_stream, &other);
	g_assert_cmpstr(other.data->str, ==, "1:other;");

	agent_client_free(c);
	close(sv[1]);
	g_string_free(seen.data, TRUE);
	g_string_free(other.data, TRUE);
}

typedef struct {
	GString *chunks; /* "<stream>:<bytes>;" per chunk, "eof<stream>;" at the end of one */
	gboolean exited;
} Output;

static void on_output(GuestProcess *p, CkStream stream, const guint8 *data, gsize len, gpointer user_data)
{
	Output *o = user_data;

	(void)p;
	if (len == 0)
		g_string_append_printf(o->chunks, "eof%u;", stream);
	else
		g_string_append_printf(o->chunks, "%u:%.*s;", stream, (int)len, (const char *)data);
}

static void on_exit_cb(GuestProcess *p, const GuestExit *exit, const GError *error, gpointer user_data)
{
	Output *o = user_data;

	(void)p;
	(void)error;
	g_assert_nonnull(exit);
	g_string_append_printf(o->chunks, "exit%d;", exit->exit_code);
	o->exited = TRUE;
}

/* The bytes of the CREDIT frames the client sent back, per stream. */
static void read_credits(int fd, guint32 credit[3])
{
	CkFrameReader r;
	guint8 buf[4096];
	ssize_t n;
	CkFrame f;

	ck_frame_reader_init(&r);
	while ((n = read(fd, buf, sizeof buf)) > 0)
		ck_frame_reader_feed(&r, buf, (gsize)n);
	while (ck_frame_reader_next(&r, &f, NULL) > 0)
		if (f.type == CK_FRAME_CREDIT && f.stream < 3)
			credit[f.stream] += ck_frame_credit_value(&f);
	ck_frame_reader_clear(&r);
}

static void test_output_joined(void)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	AgentClient *c = agent_client_new(sv[0], NULL);
	Output o = {g_string_new(NULL), FALSE};
	GuestProcess *p = guest_process_new(c, 7, on_output, on_exit_cb, &o);
	g_autoptr(GByteArray) script = g_byte_array_new();

	/* one read: a terminal line in two frames, then the other stream */
	append_frame(script, CK_FRAME_DATA, 7, CK_STREAM_STDOUT, "before rotation");
	append_frame(script, CK_FRAME_DATA, 7, CK_STREAM_STDOUT, "\r\n");
	append_frame(script, CK_FRAME_DATA, 7, CK_STREAM_STDERR, "e1");
	append_frame(script, CK_FRAME_DATA, 7, CK_STREAM_STDOUT, "x");
	append_frame(script, CK_FRAME_DATA, 7, CK_STREAM_STDOUT, "y\n");
	write_all(sv[1], script);
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (!g_str_has_suffix(o.chunks->str, "1:xy\n;") && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpstr(o.chunks->str, ==, "1:before rotation\r\n;2:e1;1:xy\n;");

	/* a later read: data, EOF and the exit (the wait_process reply, request
	 * 1) together; the data comes first, whole, and the exit last */
	g_byte_array_set_size(script, 0);
	append_frame(script, CK_FRAME_DATA, 7, CK_STREAM_STDOUT, "la");
	append_frame(script, CK_FRAME_DATA, 7, CK_STREAM_STDOUT, "st\n");
	append_frame(script, CK_FRAME_EOF, 7, CK_STREAM_STDOUT, "");
	append_frame(script, CK_FRAME_DATA, 7, CK_STREAM_STDERR, "e2");
	g_autoptr(CkJsonGen) g = ck_msg_result_begin();
	ck_json_kv_int(g, "exit_code", 3);
	gsize len = 0;
	g_autofree char *doc = ck_msg_finish(g, &len);
	append_frame(script, CK_FRAME_RESPONSE, 1, 0, doc);
	write_all(sv[1], script);
	deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (!o.exited && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpstr(o.chunks->str, ==, "1:before rotation\r\n;2:e1;1:xy\n;1:last\n;eof1;2:e2;exit3;");

	/* every byte handed over was credited back, per stream */
	guest_process_free(p);
	agent_client_free(c);
	guint32 credit[3] = {0, 0, 0};
	g_assert_no_errno(fcntl(sv[1], F_SETFL, O_NONBLOCK));
	read_credits(sv[1], credit);
	g_assert_cmpuint(credit[CK_STREAM_STDOUT], ==, strlen("before rotation\r\nxy\nlast\n"));
	g_assert_cmpuint(credit[CK_STREAM_STDERR], ==, strlen("e1e2"));
	close(sv[1]);
	g_string_free(o.chunks, TRUE);
}

typedef struct {
	int closed;
	char *why;
} Closed;

static void on_closed_cb(AgentClient *c, const GError *error, gpointer user_data)
{
	Closed *cl = user_data;

	(void)c;
	cl->closed++;
	g_free(cl->why);
	cl->why = g_strdup(error ? error->message : "");
}

static void ping_reply(AgentClient *c, yajl_val result, const GError *error, gpointer user_data)
{
	(void)c;
	(void)result;
	*(char **)user_data = g_strdup(error ? error->message : "ok");
}

/* A hostile peer (docs/security.md#a-hostile-guest): each of these drops
 * the connection at once, pending requests fail, the closed callback
 * runs once and agent_client_violation() says what happened. A late
 * answer to a request given up on does not. */
static void expect_violation(const char *name, const GByteArray *script, const char *want)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	AgentClient *c = agent_client_new(sv[0], NULL);
	Closed cl = {0};
	char *pending = NULL, *answered = NULL;

	agent_client_set_closed_func(c, on_closed_cb, &cl);
	/* request 1 answered, request 2 waits */
	g_autoptr(CkJsonGen) first = ck_msg_request_begin(CK_OP_PING);
	agent_client_call_async(c, first, ping_reply, &answered);
	g_autoptr(CkJsonGen) second = ck_msg_request_begin(CK_OP_PING);
	agent_client_call_async(c, second, ping_reply, &pending);
	write_all(sv[1], script);
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (cl.closed == 0 && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, FALSE);
	g_test_message("%s: %s", name, cl.why ? cl.why : "(open)");
	g_assert_cmpint(cl.closed, ==, 1);
	g_assert_cmpstr(agent_client_violation(c), ==, want);
	g_assert_true(agent_client_is_closed(c));
	g_assert_nonnull(pending);
	g_assert_true(g_str_has_suffix(pending, want));
	agent_client_free(c);
	close(sv[1]);
	g_free(cl.why);
	g_free(pending);
	g_free(answered);
}

static void test_violations(void)
{
	g_autoptr(GByteArray) s = g_byte_array_new();
	static const guint8 oversize[] = {CK_FRAME_MAGIC, CK_FRAME_RESPONSE, 0, 0, 0, 0, 0, 1, 0, 0x10, 0, 1};

	append_frame(s, CK_FRAME_RESPONSE, 1, 0, "{\"result\": {}}");
	append_frame(s, CK_FRAME_RESPONSE, 0x7ffffff0u, 0, "{\"result\": {}}");
	expect_violation("unknown id", s, "a response to request 2147483632, which was never sent");

	g_byte_array_set_size(s, 0);
	append_frame(s, CK_FRAME_EVENT, 0, 0, "{\"event\": ");
	expect_violation("bad event", s, "event: invalid JSON: parse error: premature EOF");

	g_byte_array_set_size(s, 0);
	append_frame(s, CK_FRAME_RESPONSE, 1, 0, "{\"neither\": 1}");
	expect_violation("bad response", s, "request 1: response: neither an error nor a result object");

	g_byte_array_set_size(s, 0);
	append_frame(s, CK_FRAME_REQUEST, 9, 0, "{\"op\": \"ping\"}");
	expect_violation("a request", s, "a request frame (id 9)");

	g_byte_array_set_size(s, 0);
	g_byte_array_append(s, oversize, sizeof oversize);
	expect_violation("oversize", s, "frame: response: length 1048577 over 1048576");
}

/* The answer to a request the caller gave up on (it timed out) is no
 * violation: it is dropped and the connection serves on. */
/* Answers ids 1..n_late (calls given up on) and, in the same write, id
 * n_late + 1 (the next call's): the late ones are dropped without a
 * violation and the next call is served. Frees c and closes peer. */
static void late_answers_dropped(AgentClient *c, int peer, guint32 n_late)
{
	g_autoptr(GByteArray) s = g_byte_array_new();
	g_autoptr(CkJsonGen) again = ck_msg_request_begin(CK_OP_PING);
	g_autoptr(GError) error = NULL;

	for (guint32 id = 1; id <= n_late + 1; id++)
		append_frame(s, CK_FRAME_RESPONSE, id, 0, "{\"result\": {}}");
	write_all(peer, s);
	yajl_val reply = agent_client_call(c, again, 5000, NULL, &error);
	g_assert_no_error(error);
	yajl_tree_free(reply);
	g_assert_null(agent_client_violation(c));
	agent_client_free(c);
	close(peer);
}

static void test_late_reply_dropped(void)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	AgentClient *c = agent_client_new(sv[0], NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(CkJsonGen) req = ck_msg_request_begin(CK_OP_PING);

	g_assert_null(agent_client_call(c, req, 10, NULL, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_TIMEOUT);
	late_answers_dropped(c, sv[1], 1);
}

typedef struct {
	int replies;
	int destroyed;
} CallCount;

static void count_reply(AgentClient *c, yajl_val result, const GError *error, gpointer user_data)
{
	(void)c;
	(void)result;
	(void)error;
	((CallCount *)user_data)->replies++;
}

static void count_destroy(gpointer user_data)
{
	((CallCount *)user_data)->destroyed++;
}

/* agent_client_call_async_full: an answered call runs its callback and
 * not destroy; a call still unanswered when the client is freed gets
 * destroy once and no callback (a guest process's wait token leaked
 * there, LeakSanitizer in an ExecSync that timed out). */
static void test_unanswered_call_data_destroyed(void)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	AgentClient *c = agent_client_new(sv[0], NULL);
	CallCount answered = {0}, unanswered = {0};

	g_autoptr(CkJsonGen) req1 = ck_msg_request_begin(CK_OP_VERSION);
	g_assert_cmpuint(agent_client_call_async_full(c, req1, count_reply, &answered, count_destroy), ==, 1);
	g_autoptr(CkJsonGen) req2 = ck_msg_request_begin(CK_OP_WAIT_PROCESS);
	g_assert_cmpuint(agent_client_call_async_full(c, req2, count_reply, &unanswered, count_destroy), ==, 2);

	g_autoptr(GByteArray) script = g_byte_array_new();
	append_result_handle(script, 1, 0);
	write_all(sv[1], script);
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (answered.replies == 0 && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpint(answered.replies, ==, 1);

	agent_client_free(c);
	close(sv[1]);
	g_assert_cmpint(answered.destroyed, ==, 0);
	g_assert_cmpint(unanswered.replies, ==, 0);
	g_assert_cmpint(unanswered.destroyed, ==, 1);
}

/* A peer that answers only once it holds `expect` requests: ops calls
 * that waited for each answer before sending the next would time out. */
typedef struct {
	int fd;
	int expect;
	const char *const *answers; /* one payload per request, by its id */
	GString *ops;		    /* the requests' "op" values, in order */
} Peer;

static gpointer peer_main(gpointer data)
{
	Peer *p = data;
	CkFrameReader r;
	guint32 ids[8];
	int n = 0;

	ck_frame_reader_init(&r);
	while (n < p->expect) {
		guint8 buf[4096];
		ssize_t got = read(p->fd, buf, sizeof buf);
		if (got <= 0)
			break;
		ck_frame_reader_feed(&r, buf, (gsize)got);
		CkFrame f;
		while (n < p->expect && ck_frame_reader_next(&r, &f, NULL) == 1) {
			g_auto(yajl_val) req = ck_json_parse((const char *)f.payload, f.len, "request", NULL);
			yajl_val op = ck_json_get(req, "op");
			g_string_append_printf(p->ops, "%s;", op != NULL && YAJL_IS_STRING(op) ? op->u.string : "?");
			ids[n++] = f.id;
		}
	}
	ck_frame_reader_clear(&r);
	g_autoptr(GByteArray) out = g_byte_array_new();
	for (int i = 0; i < n; i++)
		append_frame(out, CK_FRAME_RESPONSE, ids[i], 0, p->answers[i]);
	write_all(p->fd, out);
	return NULL;
}

static void test_ops_back_to_back(void)
{
	static const char *const answers[] = {
	    "{\"result\": {\"protocol\": 1, \"agent_version\": \"9.9\", \"uptime_us\": 42}}",
	    "{\"result\": {\"boot_id\": \"b\"}}",
	};
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_autoptr(GString) ops = g_string_new(NULL);
	Peer peer = {.fd = sv[1], .expect = 2, .answers = answers, .ops = ops};
	GThread *t = g_thread_new("peer", peer_main, &peer);
	AgentClient *c = agent_client_new(sv[0], NULL);
	CkVersionArgs v = {.protocol = 1};
	CkVersionResult info = {0};
	CkCloneIdentityArgs id = {.entropy = "AAAA", .realtime_ns = 1};
	CkCloneIdentityResult idr = {0};
	const AgentOpCall calls[] = {{CK_OP_VERSION, &v, &info}, {CK_OP_CLONE_IDENTITY, &id, &idr}};
	g_autoptr(GError) error = NULL;

	g_assert_true(agent_client_ops(c, calls, 2, 5000, &error));
	g_assert_no_error(error);
	g_thread_join(t);
	g_assert_cmpstr(ops->str, ==, "version;clone_identity;");
	g_assert_cmpstr(info.agent_version, ==, "9.9");
	g_assert_cmpint(info.uptime_us, ==, 42);
	g_assert_cmpstr(idr.boot_id, ==, "b");
	ck_msg_clear_result(CK_OP_VERSION, &info);
	ck_msg_clear_result(CK_OP_CLONE_IDENTITY, &idr);
	g_assert_null(agent_client_violation(c));
	agent_client_free(c);
	close(sv[1]);
}

/* The first call's failure is the error even though the second succeeded;
 * a result of the wrong shape is one too; no answer is a timeout naming
 * the call, and its late answer is dropped. */
static void test_ops_errors(void)
{
	static const char *const first_fails[] = {
	    "{\"error\": {\"code\": \"not_found\", \"message\": \"no such thing\"}}",
	    "{\"result\": {}}",
	};
	static const char *const bad_shape[] = {
	    "{\"result\": {\"protocol\": 1}}",
	    "{\"result\": {}}",
	};
	const char *const *scripts[] = {first_fails, bad_shape};

	for (guint s = 0; s < G_N_ELEMENTS(scripts); s++) {
		int sv[2];
		g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
		g_autoptr(GString) ops = g_string_new(NULL);
		Peer peer = {.fd = sv[1], .expect = 2, .answers = scripts[s], .ops = ops};
		GThread *t = g_thread_new("peer", peer_main, &peer);
		AgentClient *c = agent_client_new(sv[0], NULL);
		CkVersionArgs v = {.protocol = 1};
		CkVersionResult info = {0};
		const AgentOpCall calls[] = {{CK_OP_VERSION, &v, &info}, {CK_OP_PING, NULL, NULL}};
		g_autoptr(GError) error = NULL;

		g_assert_false(agent_client_ops(c, calls, 2, 5000, &error));
		g_thread_join(t);
		if (s == 0) {
			g_assert_error(error, CK_ERROR, CK_ERROR_NOT_FOUND);
			g_assert_cmpstr(error->message, ==, "no such thing");
		} else {
			g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
			g_assert_nonnull(strstr(error->message, "uptime_us"));
		}
		ck_msg_clear_result(CK_OP_VERSION, &info);
		agent_client_free(c);
		close(sv[1]);
	}

	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	AgentClient *c = agent_client_new(sv[0], NULL);
	const AgentOpCall pings[] = {{CK_OP_PING, NULL, NULL}, {CK_OP_PING, NULL, NULL}};
	g_autoptr(GError) error = NULL;
	g_assert_false(agent_client_ops(c, pings, 2, 20, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_TIMEOUT);
	g_assert_cmpstr(error->message, ==, "ping: no answer from the agent within 20 ms");
	late_answers_dropped(c, sv[1], 2);
}

/* Which agent errors are a process that could not start, and runc's words
 * for them. */
static void test_start_failure_words(void)
{
	static const struct {
		const char *agent, *runc;
	} cases[] = {
	    {"exec in c1: exec: \"/no/such\": stat /no/such: no such file or directory",
	     "unable to start container process: exec: \"/no/such\": stat /no/such: no such file or directory"},
	    {"create container c-2.x: exec: \"x\": executable file not found in $PATH",
	     "unable to start container process: exec: \"x\": executable file not found in $PATH"},
	    {"start container c3: chdir to cwd (\"/a: b\") set in config.json failed: not a directory",
	     "unable to start container process: chdir to cwd (\"/a: b\") set in config.json failed: not a directory"},
	    {"start container c3: setuid 5: Operation not permitted",
	     "unable to start container process: setuid 5: Operation not permitted"},
	    {"exec in c1: container is stopped, not running", NULL},
	    {"create container c1: startContainer hook /bin/x exited with status 1", NULL},
	    {"exec in c1", NULL},
	    {"something else: exec: \"x\": permission denied", NULL},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *words = agent_error_start_failure(cases[i].agent);
		g_assert_cmpstr(words, ==, cases[i].runc);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agent-client/early-frames-handed-over", test_early_frames_handed_over);
	g_test_add_func("/guest-process/output-joined", test_output_joined);
	g_test_add_func("/agent-client/start-failure-words", test_start_failure_words);
	g_test_add_func("/agent-client/violations", test_violations);
	g_test_add_func("/agent-client/late-reply-dropped", test_late_reply_dropped);
	g_test_add_func("/agent-client/unanswered-call-data-destroyed", test_unanswered_call_data_destroyed);
	g_test_add_func("/agent-client/ops-back-to-back", test_ops_back_to_back);
	g_test_add_func("/agent-client/ops-errors", test_ops_errors);
	return g_test_run();
}
