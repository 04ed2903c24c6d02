/* guest-process: output with credit, stdin within the window, exit. */
#include "guest-process.h"

#include "base/ck-error.h"
#include "base/ck-log.h"
#include "proto/ck-message.h"

struct GuestProcess {
	AgentClient *agent;
	guint32 handle;
	GuestOutputFunc on_output;
	GuestExitFunc on_exit;
	gpointer user_data;
	gboolean manual_credit;
	/* output of one stream not yet handed over: the DATA frames that came
	 * together, joined (see on_stream) */
	GByteArray *pending;
	CkStream pending_stream;
	GSource *flush_source;
	/* stdin */
	GByteArray *stdin_queue;
	guint32 stdin_window;
	gboolean stdin_close_pending;
	gboolean stdin_closed;
	/* exit */
	gboolean exited;
	GuestExit exit;
	struct WaitToken *wait; /* the wait_process request in flight, or NULL */
};

/* Outlives the process if it is freed while its wait request is still
 * unanswered; the reply then finds p == NULL and only frees the token. */
typedef struct WaitToken {
	GuestProcess *p;
} WaitToken;

static void send_stdin(GuestProcess *p)
{
	CkChannel *ch = agent_client_get_channel(p->agent);
	gsize n = MIN(p->stdin_queue->len, p->stdin_window);

	if (n > 0) {
		ck_channel_send_data(ch, p->handle, CK_STREAM_STDIN, p->stdin_queue->data, n);
		g_byte_array_remove_range(p->stdin_queue, 0, (guint)n);
		p->stdin_window -= (guint32)n;
	}
	if (p->stdin_close_pending && p->stdin_queue->len == 0 && !p->stdin_closed) {
		ck_channel_send_eof(ch, p->handle, CK_STREAM_STDIN);
		p->stdin_closed = TRUE;
	}
}

/* Hands over the pending output, as one chunk, and credits it. */
static void flush_output(GuestProcess *p)
{
	if (p->flush_source != NULL) {
		g_source_destroy(p->flush_source);
		g_clear_pointer(&p->flush_source, g_source_unref);
	}
	if (p->pending->len == 0)
		return;
	g_autoptr(GByteArray) chunk = p->pending;
	CkStream stream = p->pending_stream;

	p->pending = g_byte_array_new();
	p->on_output(p, stream, chunk->data, chunk->len, p->user_data);
	if (!p->manual_credit)
		guest_process_credit(p, stream, chunk->len);
}

static gboolean on_flush(gpointer data)
{
	GuestProcess *p = data;

	g_clear_pointer(&p->flush_source, g_source_unref);
	flush_output(p);
	return G_SOURCE_REMOVE;
}

/* Output frames of one stream that reach the host together (one read of
 * the channel dispatches them one after the other) are one chunk for the
 * consumer, as conmon's one read of a pipe or pty would be: a line the
 * guest wrote at once is then one log record even when the agent read it
 * in two pieces (a terminal's "text" and "\r\n"). They are handed over
 * when the channel has dispatched what it read (an idle source of high
 * priority), before an EOF, an exit or output of the other stream, and
 * at most CK_STREAM_WINDOW bytes at a time whatever the guest sends. */
static void queue_output(GuestProcess *p, const CkFrame *frame)
{
	if (p->pending->len > 0 && (p->pending_stream != frame->stream || p->pending->len + frame->len > CK_STREAM_WINDOW))
		flush_output(p);
	g_byte_array_append(p->pending, frame->payload, frame->len);
	p->pending_stream = frame->stream;
	if (p->flush_source == NULL) {
		p->flush_source = g_idle_source_new();
		g_source_set_priority(p->flush_source, G_PRIORITY_HIGH);
		g_source_set_callback(p->flush_source, on_flush, p, NULL);
		g_source_attach(p->flush_source, agent_client_get_context(p->agent));
	}
}

static void on_stream(AgentClient *c, const CkFrame *frame, gpointer data)
{
	GuestProcess *p = data;

	(void)c;
	switch (frame->type) {
	case CK_FRAME_DATA:
		if (frame->stream != CK_STREAM_STDIN && frame->len > 0)
			queue_output(p, frame);
		return;
	case CK_FRAME_EOF:
		if (frame->stream != CK_STREAM_STDIN) {
			flush_output(p);
			p->on_output(p, frame->stream, NULL, 0, p->user_data);
		}
		return;
	case CK_FRAME_CREDIT:
		if (frame->stream == CK_STREAM_STDIN) {
			p->stdin_window += ck_frame_credit_value(frame);
			send_stdin(p);
		}
		return;
	default:
		return;
	}
}

static void on_wait_reply(AgentClient *c, yajl_val result, const GError *error, gpointer data)
{
	WaitToken *token = data;
	GuestProcess *p = token->p;

	(void)c;
	g_free(token);
	if (p == NULL)
		return;
	p->wait = NULL;
	flush_output(p); /* the exit comes after the last output */
	if (error != NULL) {
		p->on_exit(p, NULL, error, p->user_data);
		return;
	}
	CkWaitProcessResult r = {0};
	g_autoptr(GError) shape = NULL;
	if (!ck_msg_decode_result(CK_OP_WAIT_PROCESS, result, &r, &shape)) {
		p->on_exit(p, NULL, shape, p->user_data);
		return;
	}
	p->exited = TRUE;
	p->exit.exit_code = (int)r.exit_code;
	p->exit.signal = (int)r.signal;
	p->exit.oom_killed = r.oom_killed;
	p->on_exit(p, &p->exit, NULL, p->user_data);
}

GuestProcess *guest_process_new(AgentClient *agent, guint32 handle, GuestOutputFunc on_output, GuestExitFunc on_exit,
				gpointer user_data)
{
	GuestProcess *p = g_new0(GuestProcess, 1);

	p->agent = agent;
	p->handle = handle;
	p->on_output = on_output;
	p->on_exit = on_exit;
	p->user_data = user_data;
	p->stdin_queue = g_byte_array_new();
	p->stdin_window = CK_STREAM_WINDOW;
	p->pending = g_byte_array_new();
	p->wait = g_new0(WaitToken, 1);
	p->wait->p = p;
	CkWaitProcessArgs args = {.ref.handle = handle};
	g_autoptr(CkJsonGen) req = ck_msg_request(CK_OP_WAIT_PROCESS, &args);
	/* the reply frees the token; or the client, when it goes first */
	agent_client_call_async_full(agent, req, on_wait_reply, p->wait, g_free);
	/* last: output that came early is handed over right here */
	agent_client_set_stream_func(agent, handle, on_stream, p);
	return p;
}

void guest_process_free(GuestProcess *p)
{
	if (p == NULL)
		return;
	agent_client_remove_stream_func(p->agent, p->handle);
	if (p->wait != NULL)
		p->wait->p = NULL; /* the reply frees the token */
	if (p->flush_source != NULL) {
		g_source_destroy(p->flush_source);
		g_source_unref(p->flush_source);
	}
	g_byte_array_unref(p->pending);
	g_byte_array_unref(p->stdin_queue);
	g_free(p);
}

guint32 guest_process_get_handle(GuestProcess *p)
{
	return p->handle;
}

void guest_process_set_manual_credit(GuestProcess *p, gboolean manual)
{
	p->manual_credit = manual;
}

void guest_process_credit(GuestProcess *p, CkStream stream, gsize bytes)
{
	if (bytes > 0 && !agent_client_is_closed(p->agent))
		ck_channel_send_credit(agent_client_get_channel(p->agent), p->handle, stream, (guint32)bytes);
}

void guest_process_write_stdin(GuestProcess *p, const void *data, gsize len)
{
	if (p->stdin_closed || p->stdin_close_pending)
		return;
	g_byte_array_append(p->stdin_queue, data, (guint)len);
	send_stdin(p);
}

void guest_process_close_stdin(GuestProcess *p)
{
	p->stdin_close_pending = TRUE;
	send_stdin(p);
}

gsize guest_process_stdin_queued(GuestProcess *p)
{
	return p->stdin_queue->len;
}

gboolean guest_process_has_exited(GuestProcess *p)
{
	return p->exited;
}

const GuestExit *guest_process_get_exit(GuestProcess *p)
{
	return p->exited ? &p->exit : NULL;
}
