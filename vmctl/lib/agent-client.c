/* agent-client: requests, replies, events and streams over a CkChannel. */
#include "agent-client.h"

#include <stdarg.h>
#include <string.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "proto/ck-message.h"

typedef struct {
	AgentReplyFunc func;
	AgentRawReplyFunc raw_func; /* forwarded requests: the frame as is */
	gpointer data;
	GDestroyNotify destroy; /* data's, when the client goes before the reply */
} Pending;

typedef struct {
	AgentStreamFunc func;
	gpointer data;
} StreamHandler;

/* A stream frame that came before its handle had a handler: the frames
 * that follow the reply to exec_process in one read are dispatched before
 * the caller, back from agent_client_call(), can register one. Kept (in
 * order, up to UNCLAIMED_MAX bytes) and handed over on registration. */
typedef struct {
	CkFrame frame;
	guint8 payload[];
} Unclaimed;

#define UNCLAIMED_MAX (1024 * 1024)

struct AgentClient {
	GMainContext *ctx;
	CkChannel *channel;
	guint32 next_id;
	GHashTable *pending; /* id -> Pending */
	GHashTable *streams; /* handle -> StreamHandler */
	gboolean ready;
	gboolean closed;
	GError *close_error;
	AgentEventFunc on_event;
	gpointer event_data;
	AgentClosedFunc on_closed;
	gpointer closed_data;
	AgentCancelFunc cancel;
	gpointer cancel_data;
	AgentStreamFunc default_stream;
	gpointer default_stream_data;
	GQueue unclaimed; /* Unclaimed, oldest first */
	gsize unclaimed_bytes;
	char *violation; /* how the peer broke the protocol, once it did */
};

static void keep_unclaimed(AgentClient *c, const CkFrame *frame)
{
	if (c->unclaimed_bytes + frame->len > UNCLAIMED_MAX) {
		ck_log_warning("agent: %s frame for unknown handle %u, dropping it",
			       ck_frame_type_to_string(frame->type), frame->id);
		return;
	}
	Unclaimed *u = g_malloc(sizeof(Unclaimed) + frame->len);
	u->frame = *frame;
	if (frame->len > 0)
		memcpy(u->payload, frame->payload, frame->len);
	u->frame.payload = u->payload;
	c->unclaimed_bytes += frame->len;
	g_queue_push_tail(&c->unclaimed, u);
}

static void hand_over_unclaimed(AgentClient *c, guint32 handle, const StreamHandler *h)
{
	for (GList *l = c->unclaimed.head, *next; l != NULL; l = next) {
		Unclaimed *u = l->data;
		next = l->next;
		if (u->frame.id != handle)
			continue;
		g_queue_delete_link(&c->unclaimed, l);
		c->unclaimed_bytes -= u->frame.len;
		h->func(c, &u->frame, h->data);
		g_free(u);
	}
}

/* A response is a JSON object holding an "error" or a "result" object,
 * whoever asked (a forwarded request's answer is passed on unparsed). */
static gboolean response_is_well_formed(const CkFrame *frame, GError **error)
{
	g_auto(yajl_val) tree = ck_json_parse((const char *)frame->payload, frame->len, "response", error);

	if (tree == NULL)
		return FALSE;
	if (!YAJL_IS_OBJECT(tree))
		return ck_set_error(error, CK_ERROR_INVALID, "response: not a JSON object");
	if (!YAJL_IS_OBJECT(ck_json_get(tree, "error")) && !YAJL_IS_OBJECT(ck_json_get(tree, "result")))
		return ck_set_error(error, CK_ERROR_INVALID, "response: neither an error nor a result object");
	return TRUE;
}

static void handle_response(AgentClient *c, const CkFrame *frame)
{
	g_autoptr(GError) shape = NULL;
	Pending *p = g_hash_table_lookup(c->pending, GUINT_TO_POINTER(frame->id));

	/* ids count up from 1: one never sent is not the late reply to a
	 * request given up on, but made up */
	if (p == NULL && (frame->id == 0 || frame->id >= c->next_id)) {
		agent_client_abort(c, "a response to request %u, which was never sent", frame->id);
		return;
	}
	if (!response_is_well_formed(frame, &shape)) {
		agent_client_abort(c, "request %u: %s", frame->id, shape->message);
		return;
	}
	if (p == NULL) {
		ck_log_debug("agent: reply to unknown request %u, ignoring", frame->id);
		return;
	}
	Pending pending = *p;
	g_hash_table_remove(c->pending, GUINT_TO_POINTER(frame->id));
	if (pending.raw_func != NULL) {
		pending.raw_func(c, frame, pending.data);
		return;
	}

	g_autoptr(GError) error = NULL;
	g_auto(yajl_val) tree = NULL;
	yajl_val result = NULL;
	if (!ck_msg_parse_response(frame, &tree, &result, &error))
		pending.func(c, NULL, error, pending.data);
	else
		pending.func(c, result, NULL, pending.data);
}

static void handle_event(AgentClient *c, const CkFrame *frame)
{
	g_autoptr(GError) error = NULL;
	g_auto(yajl_val) tree = NULL;
	const char *event = NULL;

	if (!ck_msg_parse_event(frame, &tree, &event, &error)) {
		agent_client_abort(c, "%s", error->message);
		return;
	}
	CkEvent ev = ck_event_from_name(event);
	if (ev == CK_EVENT_READY)
		c->ready = TRUE;
	if (c->on_event != NULL)
		c->on_event(c, ev, tree, c->event_data);
}

static void on_frame(CkChannel *ch, const CkFrame *frame, gpointer data)
{
	AgentClient *c = data;

	(void)ch;
	switch (frame->type) {
	case CK_FRAME_RESPONSE:
		handle_response(c, frame);
		return;
	case CK_FRAME_EVENT:
		handle_event(c, frame);
		return;
	case CK_FRAME_DATA:
	case CK_FRAME_CREDIT:
	case CK_FRAME_EOF: {
		StreamHandler *h = g_hash_table_lookup(c->streams, GUINT_TO_POINTER(frame->id));
		if (h != NULL)
			h->func(c, frame, h->data);
		else if (c->default_stream != NULL)
			c->default_stream(c, frame, c->default_stream_data);
		else
			keep_unclaimed(c, frame);
		return;
	}
	default:
		/* a REQUEST: the host asks, the agent answers */
		agent_client_abort(c, "a %s frame (id %u)", ck_frame_type_to_string(frame->type), frame->id);
	}
}

static void fail_pending(AgentClient *c)
{
	g_autoptr(GHashTable) pending = g_steal_pointer(&c->pending);
	GHashTableIter it;
	gpointer value;

	c->pending = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	g_hash_table_iter_init(&it, pending);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		Pending *p = value;
		if (p->raw_func != NULL)
			p->raw_func(c, NULL, p->data);
		else
			p->func(c, NULL, c->close_error, p->data);
	}
}

static void on_closed(CkChannel *ch, const GError *error, gpointer data)
{
	AgentClient *c = data;

	(void)ch;
	c->closed = TRUE;
	/* a frame the reader could not take */
	if (error != NULL && c->violation == NULL && ck_error_is(error, CK_ERROR_INVALID))
		c->violation = g_strdup(error->message);
	if (error != NULL)
		c->close_error = g_error_new(CK_ERROR, CK_ERROR_DISCONNECTED, "agent connection lost: %s",
					     error->message);
	else
		c->close_error = g_error_new_literal(CK_ERROR, CK_ERROR_DISCONNECTED, "agent connection closed");
	fail_pending(c);
	if (c->on_closed != NULL)
		c->on_closed(c, c->close_error, c->closed_data);
}

AgentClient *agent_client_new(int fd, GMainContext *ctx)
{
	AgentClient *c = g_new0(AgentClient, 1);

	c->ctx = ctx != NULL ? g_main_context_ref(ctx) : g_main_context_ref_thread_default();
	c->next_id = 1;
	c->pending = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	c->streams = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	c->channel = ck_channel_new(fd, c->ctx, on_frame, on_closed, c);
	return c;
}

void agent_client_free(AgentClient *c)
{
	GHashTableIter it;
	gpointer value;

	if (c == NULL)
		return;
	ck_channel_free(c->channel);
	/* calls never answered: their callbacks do not run, their data goes */
	g_hash_table_iter_init(&it, c->pending);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		Pending *p = value;
		if (p->destroy != NULL)
			p->destroy(p->data);
	}
	g_hash_table_unref(c->pending);
	g_hash_table_unref(c->streams);
	g_queue_clear_full(&c->unclaimed, g_free);
	g_clear_error(&c->close_error);
	g_main_context_unref(c->ctx);
	g_free(c->violation);
	g_free(c);
}

void agent_client_abort(AgentClient *c, const char *fmt, ...)
{
	va_list ap;

	if (c->closed)
		return;
	va_start(ap, fmt);
	c->violation = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	/* safe inside the channel's own callback, which holds a reference */
	ck_channel_close(c->channel);
	g_autoptr(GError) error = g_error_new(CK_ERROR, CK_ERROR_INVALID, "protocol violation: %s", c->violation);
	on_closed(c->channel, error, c);
}

const char *agent_client_violation(AgentClient *c)
{
	return c->violation;
}

void agent_client_set_event_func(AgentClient *c, AgentEventFunc func, gpointer user_data)
{
	c->on_event = func;
	c->event_data = user_data;
}

void agent_client_set_closed_func(AgentClient *c, AgentClosedFunc func, gpointer user_data)
{
	c->on_closed = func;
	c->closed_data = user_data;
}

void agent_client_set_cancel_func(AgentClient *c, AgentCancelFunc func, gpointer user_data)
{
	c->cancel = func;
	c->cancel_data = user_data;
}

guint32 agent_client_call_async(AgentClient *c, CkJsonGen *request, AgentReplyFunc func, gpointer user_data)
{
	return agent_client_call_async_full(c, request, func, user_data, NULL);
}

guint32 agent_client_call_async_full(AgentClient *c, CkJsonGen *request, AgentReplyFunc func, gpointer user_data,
				     GDestroyNotify destroy)
{
	guint32 id = c->next_id++;
	gsize len = 0;
	g_autofree char *doc = ck_msg_finish(request, &len);

	if (c->closed) {
		/* report asynchronously, like any other reply */
		func(c, NULL, c->close_error, user_data);
		return id;
	}
	Pending *p = g_new0(Pending, 1);
	p->func = func;
	p->data = user_data;
	p->destroy = destroy;
	g_hash_table_insert(c->pending, GUINT_TO_POINTER(id), p);
	ck_channel_send_json(c->channel, CK_FRAME_REQUEST, id, doc, len);
	return id;
}

static void ignore_reply(AgentClient *c, const CkFrame *response, gpointer user_data)
{
	(void)c;
	(void)response;
	(void)user_data;
}

guint32 agent_client_forward(AgentClient *c, const guint8 *json, gsize len, AgentRawReplyFunc func,
			     gpointer user_data, GDestroyNotify destroy)
{
	guint32 id = c->next_id++;

	if (func == NULL)
		func = ignore_reply;
	if (c->closed) {
		func(c, NULL, user_data);
		return id;
	}
	Pending *p = g_new0(Pending, 1);
	p->raw_func = func;
	p->data = user_data;
	p->destroy = destroy;
	g_hash_table_insert(c->pending, GUINT_TO_POINTER(id), p);
	ck_channel_send_json(c->channel, CK_FRAME_REQUEST, id, (const char *)json, len);
	return id;
}

void agent_client_set_default_stream_func(AgentClient *c, AgentStreamFunc func, gpointer user_data)
{
	c->default_stream = func;
	c->default_stream_data = user_data;
}

typedef struct {
	gboolean done;
	GError *error;
	yajl_val tree;
} SyncReply;

/* Re-serialising the borrowed result is the simplest way to give the
 * caller a tree that outlives the frame it came from. */
static void sync_reply_cb(AgentClient *c, yajl_val result, const GError *error, gpointer data)
{
	SyncReply *r = data;

	(void)c;
	r->done = TRUE;
	if (error != NULL) {
		r->error = g_error_copy(error);
		return;
	}
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	ck_json_map_open(g);
	ck_json_key(g, "result");
	ck_json_value(g, result);
	ck_json_map_close(g);
	gsize len = 0;
	g_autofree char *doc = ck_json_gen_finish(g, &len, &r->error);
	if (doc != NULL)
		r->tree = ck_json_parse(doc, len, "agent reply", &r->error);
}

static gboolean timeout_cb(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

/* Iterates the context until *done, the deadline, closure or cancel. */
static gboolean run_until(AgentClient *c, const gboolean *done, int timeout_ms, const char *what, GError **error)
{
	gboolean timed_out = FALSE;
	GSource *timer = NULL;

	if (timeout_ms >= 0) {
		timer = g_timeout_source_new((guint)timeout_ms);
		g_source_set_callback(timer, timeout_cb, &timed_out, NULL);
		g_source_attach(timer, c->ctx);
	}
	while (!*done && !timed_out && !c->closed && !(c->cancel != NULL && c->cancel(c->cancel_data)))
		g_main_context_iteration(c->ctx, TRUE);
	if (timer != NULL) {
		g_source_destroy(timer);
		g_source_unref(timer);
	}
	if (*done)
		return TRUE;
	if (c->closed)
		return ck_set_error(error, CK_ERROR_DISCONNECTED, "%s: %s", what, c->close_error->message);
	if (timed_out)
		return ck_set_error(error, CK_ERROR_TIMEOUT, "%s: no answer from the agent within %d ms", what,
				    timeout_ms);
	return ck_set_error(error, CK_ERROR_FAILED, "%s: interrupted", what);
}

yajl_val agent_client_call(AgentClient *c, CkJsonGen *request, int timeout_ms, yajl_val *out_result,
			   GError **error)
{
	SyncReply r = {0};

	guint32 id = agent_client_call_async(c, request, sync_reply_cb, &r);
	if (!run_until(c, &r.done, timeout_ms, "agent request", error)) {
		/* the late reply must not write into our stack frame */
		g_hash_table_remove(c->pending, GUINT_TO_POINTER(id));
		return NULL;
	}
	if (r.error != NULL) {
		g_propagate_error(error, r.error);
		return NULL;
	}
	if (out_result != NULL)
		*out_result = ck_json_get(r.tree, "result");
	return r.tree;
}

gboolean agent_client_op(AgentClient *c, CkOp op, gconstpointer args, gpointer out_result, int timeout_ms,
			 GError **error)
{
	g_autoptr(CkJsonGen) request = ck_msg_request(op, args);
	yajl_val result = NULL;
	g_auto(yajl_val) reply = agent_client_call(c, request, timeout_ms, &result, error);

	if (reply == NULL)
		return FALSE;
	return out_result == NULL || ck_msg_decode_result(op, result, out_result, error);
}

typedef struct {
	const AgentOpCall *call;
	guint32 id;
	gboolean done;
	GError *error;
} OpReply;

static void op_reply_cb(AgentClient *c, yajl_val result, const GError *error, gpointer data)
{
	OpReply *r = data;

	(void)c;
	r->done = TRUE;
	if (error != NULL)
		r->error = g_error_copy(error);
	else if (r->call->out_result != NULL)
		(void)ck_msg_decode_result(r->call->op, result, r->call->out_result, &r->error);
}

gboolean agent_client_ops(AgentClient *c, const AgentOpCall *calls, guint n, int timeout_ms, GError **error)
{
	g_autofree OpReply *replies = g_new0(OpReply, n);
	gboolean ok = TRUE;

	for (guint i = 0; i < n; i++) {
		g_autoptr(CkJsonGen) request = ck_msg_request(calls[i].op, calls[i].args);
		replies[i].call = &calls[i];
		replies[i].id = agent_client_call_async(c, request, op_reply_cb, &replies[i]);
	}
	for (guint i = 0; i < n && ok; i++)
		ok = run_until(c, &replies[i].done, timeout_ms, ck_op_info(calls[i].op)->name, error);
	for (guint i = 0; i < n; i++) {
		/* a late reply must not write into freed memory */
		if (!replies[i].done)
			g_hash_table_remove(c->pending, GUINT_TO_POINTER(replies[i].id));
		if (ok && replies[i].error != NULL) {
			g_propagate_error(error, g_steal_pointer(&replies[i].error));
			ok = FALSE;
		}
		g_clear_error(&replies[i].error);
	}
	return ok;
}

void agent_client_send_op(AgentClient *c, CkOp op, gconstpointer args)
{
	g_autoptr(CkJsonGen) request = ck_msg_request(op, args);
	gsize len = 0;
	g_autofree char *doc = ck_msg_finish(request, &len);

	agent_client_forward(c, (const guint8 *)doc, len, NULL, NULL, NULL);
}

gboolean agent_client_wait_ready(AgentClient *c, int timeout_ms, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (!c->ready) {
		if (c->closed)
			return ck_set_error(error, CK_ERROR_DISCONNECTED, "%s", c->close_error->message);
		if (!run_until(c, &c->ready, ck_deadline_remaining_ms(deadline), "waiting for the agent", error))
			return FALSE;
	}
	return TRUE;
}

gboolean agent_client_is_ready(AgentClient *c)
{
	return c->ready;
}

gboolean agent_client_is_closed(AgentClient *c)
{
	return c->closed;
}

void agent_client_set_stream_func(AgentClient *c, guint32 handle, AgentStreamFunc func, gpointer user_data)
{
	StreamHandler *h = g_new0(StreamHandler, 1);

	h->func = func;
	h->data = user_data;
	g_hash_table_insert(c->streams, GUINT_TO_POINTER(handle), h);
	hand_over_unclaimed(c, handle, h);
}

void agent_client_remove_stream_func(AgentClient *c, guint32 handle)
{
	g_hash_table_remove(c->streams, GUINT_TO_POINTER(handle));
}

CkChannel *agent_client_get_channel(AgentClient *c)
{
	return c->channel;
}

/* The agent's prefixes (agent/container.c), each followed by the id, and
 * the causes its process spawner reports from the new process itself
 * (agent/spawn.c) in runc's words. */
static const char *const agent_op_prefixes[] = {"create container ", "start container ", "exec in ", NULL};
static const char *const start_causes[] = {"exec: \"", "chdir to cwd (", "setuid ", "setgid ", "setgroups: ", NULL};

static gboolean has_any_prefix(const char *s, const char *const *prefixes)
{
	for (const char *const *p = prefixes; *p != NULL; p++)
		if (g_str_has_prefix(s, *p))
			return TRUE;
	return FALSE;
}

char *agent_error_start_failure(const char *message)
{
	const char *cause = message;

	/* an id has no ": " in it (runc's rule: [A-Za-z0-9_+.-]) */
	if (has_any_prefix(message, agent_op_prefixes)) {
		const char *sep = strstr(message, ": ");
		if (sep == NULL)
			return NULL;
		cause = sep + 2;
	}
	if (!has_any_prefix(cause, start_causes))
		return NULL;
	return g_strconcat("unable to start container process: ", cause, NULL);
}

GMainContext *agent_client_get_context(AgentClient *c)
{
	return c->ctx;
}
