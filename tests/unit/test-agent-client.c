/* Unit tests: agent-client's stream routing at the edges a real agent
 * produces only by timing: a process's output that arrives in the same
 * read as the answer that created it, before the caller could set the
 * handle's stream function. A scripted peer on a socketpair writes the
 * frames in one write(), so the client sees them in one read. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "agent-client.h"
#include "ck-frame.h"
#include "ck-message.h"

typedef struct {
	GString *seen; /* "<type>:<stream>:<payload>;" per frame */
	guint frames;
} Seen;

static void on_stream(AgentClient *c, const CkFrame *frame, gpointer data)
{
	Seen *s = data;

	(void)c;
	g_string_append_printf(s->seen, "%s:%u:%.*s;", ck_frame_type_to_string(frame->type), frame->stream,
			       frame->type == CK_FRAME_DATA ? (int)frame->len : 0, (const char *)frame->payload);
	s->frames++;
}

static void on_event(AgentClient *c, const char *event, yajl_val body, gpointer data)
{
	(void)c;
	(void)body;
	if (g_str_equal(event, "marker"))
		*(gboolean *)data = TRUE;
}

static void append_json(GByteArray *wire, CkFrameType type, guint32 id, CkJsonGen *g)
{
	gsize len = 0;
	g_autofree char *doc = ck_msg_finish(g, &len);
	CkFrame f = {.type = type, .id = id, .len = (guint32)len, .payload = (const guint8 *)doc};

	ck_frame_append(wire, &f);
	ck_json_gen_free(g);
}

static void append_data(GByteArray *wire, guint32 handle, CkStream stream, const char *text)
{
	CkFrame f = {.type = CK_FRAME_DATA,
		     .id = handle,
		     .stream = stream,
		     .len = (guint32)strlen(text),
		     .payload = (const guint8 *)text};

	ck_frame_append(wire, &f);
}

static void append_eof(GByteArray *wire, guint32 handle, CkStream stream)
{
	CkFrame f = {.type = CK_FRAME_EOF, .id = handle, .stream = stream};

	ck_frame_append(wire, &f);
}

/* The answer to request 1 with {"handle": handle}, then frames of it. */
static GByteArray *answer_then_output(guint32 handle)
{
	GByteArray *wire = g_byte_array_new();
	CkJsonGen *result = ck_msg_result_begin();

	ck_json_kv_int(result, "handle", handle);
	append_json(wire, CK_FRAME_RESPONSE, 1, result);
	append_data(wire, handle, CK_STREAM_STDOUT, "out\n");
	append_data(wire, handle, CK_STREAM_STDERR, "err\n");
	append_eof(wire, handle, CK_STREAM_STDOUT);
	return wire;
}

static void test_early_output_kept(void)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_autoptr(AgentClient) c = agent_client_new(sv[0], NULL);
	g_autoptr(GByteArray) wire = answer_then_output(5);
	Seen s = {.seen = g_string_new(NULL)};
	g_autoptr(GError) error = NULL;
	yajl_val result = NULL;

	/* the whole script is on the wire before the call reads anything */
	g_assert_cmpint(write(sv[1], wire->data, wire->len), ==, (gssize)wire->len);
	g_auto(yajl_val) reply = agent_client_call(c, ck_msg_request_begin("exec_process"), 5000, &result, &error);
	g_assert_no_error(error);
	g_assert_nonnull(reply);
	gint64 handle = 0;
	g_assert_true(ck_json_as_int64(ck_json_get(result, "handle"), &handle));
	g_assert_cmpint(handle, ==, 5);

	/* the frames that came behind the answer reach the handler, in order */
	agent_client_set_stream_func(c, 5, on_stream, &s);
	g_assert_cmpstr(s.seen->str, ==, "data:1:out\n;data:2:err\n;eof:1:;");

	/* and later ones go straight to it */
	g_byte_array_set_size(wire, 0);
	append_eof(wire, 5, CK_STREAM_STDERR);
	g_assert_cmpint(write(sv[1], wire->data, wire->len), ==, (gssize)wire->len);
	while (s.frames < 4)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpstr(s.seen->str, ==, "data:1:out\n;data:2:err\n;eof:1:;eof:2:;");
	close(sv[1]);
	g_string_free(s.seen, TRUE);
}

/* Frames of a handle whose function was removed (its process is done)
 * are dropped, not kept for a function set later. */
static void test_removed_handle_dropped(void)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	g_autoptr(AgentClient) c = agent_client_new(sv[0], NULL);
	g_autoptr(GByteArray) wire = g_byte_array_new();
	Seen s = {.seen = g_string_new(NULL)};
	gboolean marker = FALSE;

	agent_client_set_event_func(c, on_event, &marker);
	agent_client_set_stream_func(c, 9, on_stream, &s);
	agent_client_remove_stream_func(c, 9);
	append_data(wire, 9, CK_STREAM_STDOUT, "late\n");
	/* the event behind it says the frame has been read */
	append_json(wire, CK_FRAME_EVENT, 0, ck_msg_event_begin("marker"));
	g_assert_cmpint(write(sv[1], wire->data, wire->len), ==, (gssize)wire->len);
	while (!marker)
		g_main_context_iteration(NULL, TRUE);
	agent_client_set_stream_func(c, 9, on_stream, &s);
	g_assert_cmpuint(s.frames, ==, 0);
	close(sv[1]);
	g_string_free(s.seen, TRUE);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agent-client/early-output-kept", test_early_output_kept);
	g_test_add_func("/agent-client/removed-handle-dropped", test_removed_handle_dropped);
	return g_test_run();
}
