/* Unit tests: agent-client's stream dispatch, against a scripted peer on a
 * socketpair (the peer's frames are written before the client reads, so
 * they arrive together, as they do from a busy agent). */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "agent-client.h"
#include "ck-error.h"
#include "ck-frame.h"
#include "ck-message.h"

typedef struct {
	int peer;
	AgentClient *client;
	GString *seen; /* "<type>:<payload>;" per frame the handler got */
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data)
{
	int sv[2];

	(void)data;
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	f->peer = sv[1];
	f->client = agent_client_new(sv[0], NULL);
	f->seen = g_string_new(NULL);
}

static void fixture_teardown(Fixture *f, gconstpointer data)
{
	(void)data;
	agent_client_free(f->client);
	close(f->peer);
	g_string_free(f->seen, TRUE);
}

static void peer_send(Fixture *f, CkFrameType type, guint32 id, CkStream stream, const char *payload)
{
	g_autoptr(GByteArray) buf = g_byte_array_new();
	CkFrame frame = {.type = type, .id = id, .stream = stream, .len = payload ? (guint32)strlen(payload) : 0,
			 .payload = (const guint8 *)payload};

	ck_frame_append(buf, &frame);
	g_assert_cmpint(write(f->peer, buf->data, buf->len), ==, (gssize)buf->len);
}

static void on_stream(AgentClient *c, const CkFrame *frame, gpointer data)
{
	Fixture *f = data;

	(void)c;
	g_string_append_printf(f->seen, "%s:%.*s;", ck_frame_type_to_string(frame->type), (int)frame->len,
			       (const char *)frame->payload);
}

/* Runs the client's context until nothing is left to dispatch. */
static void pump(void)
{
	for (int i = 0; i < 50; i++) {
		while (g_main_context_iteration(NULL, FALSE))
			;
		g_usleep(1000);
	}
}

/* A process's output right behind the reply that names its handle reaches
 * the handler registered after the call returns, in order, EOF last. */
static void test_output_behind_the_reply(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	yajl_val result = NULL;

	(void)data;
	peer_send(f, CK_FRAME_RESPONSE, 1, 0, "{\"result\":{\"handle\":9}}");
	peer_send(f, CK_FRAME_DATA, 9, CK_STREAM_STDOUT, "quick\n");
	peer_send(f, CK_FRAME_DATA, 9, CK_STREAM_STDERR, "oops\n");
	peer_send(f, CK_FRAME_EOF, 9, CK_STREAM_STDOUT, NULL);
	g_autoptr(CkJsonGen) req = ck_msg_request_begin("exec_process");
	g_auto(yajl_val) reply = agent_client_call(f->client, req, 5000, &result, &error);
	g_assert_no_error(error);
	g_assert_nonnull(reply);
	pump();
	g_assert_cmpstr(f->seen->str, ==, "");

	agent_client_set_stream_func(f->client, 9, on_stream, f);
	g_assert_cmpstr(f->seen->str, ==, "data:quick\n;data:oops\n;eof:;");
	peer_send(f, CK_FRAME_DATA, 9, CK_STREAM_STDOUT, "later\n");
	pump();
	g_assert_cmpstr(f->seen->str, ==, "data:quick\n;data:oops\n;eof:;data:later\n;");
}

/* Frames of another handle stay for that handle; frames after the handler
 * was removed are dropped, not kept for a later handler. */
static void test_handles_apart_and_retired(Fixture *f, gconstpointer data)
{
	(void)data;
	peer_send(f, CK_FRAME_DATA, 4, CK_STREAM_STDOUT, "four\n");
	peer_send(f, CK_FRAME_DATA, 5, CK_STREAM_STDOUT, "five\n");
	pump();
	agent_client_set_stream_func(f->client, 5, on_stream, f);
	g_assert_cmpstr(f->seen->str, ==, "data:five\n;");
	agent_client_remove_stream_func(f->client, 5);
	peer_send(f, CK_FRAME_DATA, 5, CK_STREAM_STDOUT, "late\n");
	pump();
	agent_client_set_stream_func(f->client, 5, on_stream, f);
	g_assert_cmpstr(f->seen->str, ==, "data:five\n;");
	agent_client_set_stream_func(f->client, 4, on_stream, f);
	g_assert_cmpstr(f->seen->str, ==, "data:five\n;data:four\n;");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/agent-client/output-behind-the-reply", Fixture, NULL, fixture_setup,
		   test_output_behind_the_reply, fixture_teardown);
	g_test_add("/agent-client/handles-apart-and-retired", Fixture, NULL, fixture_setup,
		   test_handles_apart_and_retired, fixture_teardown);
	return g_test_run();
}
