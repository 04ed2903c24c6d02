/* pod-mux: one agent channel, many clients (see pod-mux.h). */
#include "pod-mux.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-log.h"
#include "base/ck-socket.h"
#include "proto/ck-message.h"

typedef struct {
	PodMux *mux;
	guint id;
	CkChannel *ch;
	GHashTable *owned; /* handle set */
} MuxClient;

struct PodMux {
	AgentClient *agent;
	char *socket_path;
	int listen_fd;
	guint listen_source;
	guint next_client;
	GHashTable *clients; /* id -> MuxClient* */
	GHashTable *owners;  /* handle -> client id */
	/* output passed on to an owner and not yet credited back, per
	 * stream_key(): a well-behaved agent never has more than the window
	 * in flight, so the owner's queue stays bounded */
	GHashTable *inflight;
	/* Forward*: requests passed on whose answers are still to come; they
	 * may outlive the mux (the pod stopping), and are then let go */
	GHashTable *forwards;
	PodMuxEventFunc on_event;
	gpointer event_data;
	PodMuxRequestFunc on_request;
	gpointer request_data;
	guint reap_source; /* idle: forget clients whose channel closed */
};

typedef struct {
	PodMux *mux;
	guint client;
	guint32 client_req_id;
	gboolean creates_process; /* create_container / exec_process */
} Forward;

/* --- flow control ------------------------------------------------------------- */

static gpointer stream_key(guint32 handle, guint8 stream)
{
	return GSIZE_TO_POINTER(((gsize)handle << 2) | (stream & 3u));
}

/* The client gives credit back for output it consumed. */
static void note_credit(PodMux *mux, const CkFrame *frame)
{
	gpointer key = stream_key(frame->id, frame->stream);
	gsize left = GPOINTER_TO_SIZE(g_hash_table_lookup(mux->inflight, key));
	guint32 credit = ck_frame_credit_value(frame);

	if (left > credit)
		g_hash_table_insert(mux->inflight, key, GSIZE_TO_POINTER(left - credit));
	else
		g_hash_table_remove(mux->inflight, key);
}

/* Output for an owner: FALSE (and the agent's connection is dropped) when
 * it goes beyond the window the owner gave, i.e. the guest floods. */
static gboolean note_output(PodMux *mux, const CkFrame *frame)
{
	gpointer key = stream_key(frame->id, frame->stream);
	gsize sent = GPOINTER_TO_SIZE(g_hash_table_lookup(mux->inflight, key)) + frame->len;

	if (sent > CK_STREAM_WINDOW) {
		agent_client_abort(
		    mux->agent, "process %u sent %" G_GSIZE_FORMAT " bytes of %s, beyond its window of %u", frame->id,
		    sent, frame->stream == CK_STREAM_STDERR ? "stderr" : "stdout", CK_STREAM_WINDOW);
		return FALSE;
	}
	g_hash_table_insert(mux->inflight, key, GSIZE_TO_POINTER(sent));
	return TRUE;
}

static void forget_streams(PodMux *mux, guint32 handle)
{
	for (guint8 stream = CK_STREAM_STDOUT; stream <= CK_STREAM_STDERR; stream++)
		g_hash_table_remove(mux->inflight, stream_key(handle, stream));
}

static void client_free(MuxClient *cl)
{
	ck_channel_free(cl->ch);
	g_hash_table_unref(cl->owned);
	g_free(cl);
}

/* Kills a process whose owner is gone. Fire and forget. */
static void kill_orphan(PodMux *mux, guint32 handle)
{
	CkSignalProcessArgs args = {.ref.handle = handle, .signal = SIGKILL};

	ck_log_debug("mux: owner of process %u went away, killing it", handle);
	agent_client_send_op(mux->agent, CK_OP_SIGNAL_PROCESS, &args);
}

static void client_gone(PodMux *mux, MuxClient *cl)
{
	GHashTableIter it;
	gpointer handle;

	g_hash_table_iter_init(&it, cl->owned);
	while (g_hash_table_iter_next(&it, &handle, NULL)) {
		g_hash_table_remove(mux->owners, handle);
		forget_streams(mux, GPOINTER_TO_UINT(handle));
		kill_orphan(mux, GPOINTER_TO_UINT(handle));
	}
	g_hash_table_remove(mux->clients, GUINT_TO_POINTER(cl->id));
}

static gboolean remove_closed(gpointer data)
{
	PodMux *mux = data;
	GHashTableIter it;
	gpointer value;
	g_autoptr(GPtrArray) gone = g_ptr_array_new();

	g_hash_table_iter_init(&it, mux->clients);
	while (g_hash_table_iter_next(&it, NULL, &value))
		if (ck_channel_is_closed(((MuxClient *)value)->ch))
			g_ptr_array_add(gone, value);
	for (guint i = 0; i < gone->len; i++)
		client_gone(mux, g_ptr_array_index(gone, i));
	mux->reap_source = 0;
	return G_SOURCE_REMOVE;
}

/* --- responses and ownership ------------------------------------------------ */

static guint32 created_handle(const CkFrame *response)
{
	g_auto(yajl_val) tree = ck_json_parse((const char *)response->payload, response->len, "response", NULL);
	gint64 handle = 0;

	(void)ck_json_as_int64(ck_json_get(ck_json_get(tree, "result"), "handle"), &handle);
	return handle > 0 && handle <= G_MAXUINT32 ? (guint32)handle : 0;
}

/* An answer that will never come (the agent client is freed first). */
static void forward_dropped(gpointer data)
{
	Forward *fw = data;

	if (fw->mux != NULL)
		g_hash_table_remove(fw->mux->forwards, fw);
	g_free(fw);
}

static void on_forwarded_reply(AgentClient *c, const CkFrame *response, gpointer data)
{
	Forward *fw = data;
	PodMux *mux = fw->mux;

	(void)c;
	if (mux == NULL) {
		/* the mux is gone, and the pod with it: nobody to tell */
		g_free(fw);
		return;
	}
	g_hash_table_remove(mux->forwards, fw);
	MuxClient *cl = g_hash_table_lookup(mux->clients, GUINT_TO_POINTER(fw->client));
	guint32 handle = response != NULL && fw->creates_process ? created_handle(response) : 0;

	if (handle != 0 && (cl == NULL || ck_channel_is_closed(cl->ch)))
		kill_orphan(mux, handle); /* the asker left before the answer */
	else if (handle != 0) {
		g_hash_table_add(cl->owned, GUINT_TO_POINTER(handle));
		g_hash_table_insert(mux->owners, GUINT_TO_POINTER(handle), GUINT_TO_POINTER(cl->id));
	}
	if (cl != NULL && response != NULL)
		ck_channel_send_json(cl->ch, CK_FRAME_RESPONSE, fw->client_req_id, (const char *)response->payload,
				     response->len);
	g_free(fw);
}

static void forward_request(MuxClient *cl, const CkFrame *frame)
{
	Forward *fw = g_new0(Forward, 1);
	g_auto(yajl_val) tree = NULL;
	const char *name = NULL;
	CkOp op = CK_OP_UNKNOWN;
	g_autoptr(GError) error = NULL;

	if (ck_msg_parse_request(frame, &tree, &name, &error))
		op = ck_op_from_name(name);
	if (error != NULL ||
	    (cl->mux->on_request != NULL && !cl->mux->on_request(op, tree, cl->mux->request_data, &error))) {
		gsize len = 0;
		g_autofree char *doc = ck_msg_error_response(error, &len);
		ck_channel_send_json(cl->ch, CK_FRAME_RESPONSE, frame->id, doc, len);
		g_free(fw);
		return;
	}
	fw->mux = cl->mux;
	fw->client = cl->id;
	fw->client_req_id = frame->id;
	fw->creates_process = op == CK_OP_CREATE_CONTAINER || op == CK_OP_EXEC_PROCESS;
	g_hash_table_add(cl->mux->forwards, fw);
	agent_client_forward(cl->mux->agent, frame->payload, frame->len, on_forwarded_reply, fw, forward_dropped);
}

/* --- frames ------------------------------------------------------------------- */

static void on_client_frame(CkChannel *ch, const CkFrame *frame, gpointer data)
{
	MuxClient *cl = data;

	(void)ch;
	switch (frame->type) {
	case CK_FRAME_REQUEST:
		forward_request(cl, frame);
		break;
	case CK_FRAME_CREDIT:
		if (frame->stream != CK_STREAM_STDIN)
			note_credit(cl->mux, frame);
		ck_channel_send(agent_client_get_channel(cl->mux->agent), frame);
		break;
	case CK_FRAME_DATA:
	case CK_FRAME_EOF:
		ck_channel_send(agent_client_get_channel(cl->mux->agent), frame);
		break;
	default:
		ck_log_debug("mux: client %u sent a %s frame, ignoring", cl->id, ck_frame_type_to_string(frame->type));
	}
}

static void on_client_closed(CkChannel *ch, const GError *error, gpointer data)
{
	MuxClient *cl = data;

	(void)ch;
	ck_log_debug("mux: client %u left%s%s", cl->id, error ? ": " : "", error ? error->message : "");
	/* not from inside the channel's own callback */
	if (cl->mux->reap_source == 0)
		cl->mux->reap_source = g_idle_add(remove_closed, cl->mux);
}

static void on_agent_stream(AgentClient *c, const CkFrame *frame, gpointer data)
{
	PodMux *mux = data;
	gpointer owner = g_hash_table_lookup(mux->owners, GUINT_TO_POINTER(frame->id));
	MuxClient *cl = owner ? g_hash_table_lookup(mux->clients, owner) : NULL;

	if (cl != NULL && !ck_channel_is_closed(cl->ch)) {
		if (frame->type == CK_FRAME_DATA && frame->stream != CK_STREAM_STDIN && !note_output(mux, frame))
			return;
		ck_channel_send(cl->ch, frame);
		return;
	}
	/* nobody reads this process: keep its writer from blocking */
	if (frame->type == CK_FRAME_DATA && frame->stream != CK_STREAM_STDIN)
		ck_channel_send_credit(agent_client_get_channel(c), frame->id, frame->stream, frame->len);
}

static void on_agent_event(AgentClient *c, CkEvent event, yajl_val body, gpointer data)
{
	PodMux *mux = data;
	GHashTableIter it;
	gpointer value;
	g_autoptr(CkJsonGen) g = ck_json_gen_new();

	(void)c;
	ck_json_value(g, body);
	gsize len = 0;
	g_autofree char *doc = ck_json_gen_finish(g, &len, NULL);
	g_hash_table_iter_init(&it, mux->clients);
	while (doc != NULL && g_hash_table_iter_next(&it, NULL, &value))
		ck_channel_send_json(((MuxClient *)value)->ch, CK_FRAME_EVENT, 0, doc, len);

	CkExitEvent exit = {0};
	if (event == CK_EVENT_EXIT && ck_msg_decode_event(event, body, &exit, NULL)) {
		gpointer owner = g_hash_table_lookup(mux->owners, GUINT_TO_POINTER(exit.handle));
		MuxClient *cl = owner ? g_hash_table_lookup(mux->clients, owner) : NULL;
		/* exited: no longer a process to kill when its owner leaves */
		if (cl != NULL)
			g_hash_table_remove(cl->owned, GUINT_TO_POINTER(exit.handle));
		forget_streams(mux, exit.handle);
	}
	ck_msg_clear_event(CK_EVENT_EXIT, &exit);
	if (mux->on_event != NULL)
		mux->on_event(event, body, mux->event_data);
}

/* --- clients ---------------------------------------------------------------------- */

static MuxClient *add_client(PodMux *mux, int fd)
{
	MuxClient *cl = g_new0(MuxClient, 1);

	cl->mux = mux;
	cl->id = ++mux->next_client;
	cl->owned = g_hash_table_new(g_direct_hash, g_direct_equal);
	cl->ch = ck_channel_new(fd, NULL, on_client_frame, on_client_closed, cl);
	g_hash_table_insert(mux->clients, GUINT_TO_POINTER(cl->id), cl);
	ck_log_debug("mux: client %u connected", cl->id);
	return cl;
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
	PodMux *mux = data;

	(void)cond;
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn >= 0 && ck_unix_accept_peer(conn, "control socket"))
		add_client(mux, conn);
	else if (conn >= 0)
		close(conn);
	else if (errno != EAGAIN && errno != EINTR)
		ck_log_warning("control socket: accept: %s", g_strerror(errno));
	return G_SOURCE_CONTINUE;
}

PodMux *pod_mux_new(AgentClient *agent, const char *socket_path, GError **error)
{
	int fd = ck_unix_listen(socket_path, SOCK_STREAM, SOCK_NONBLOCK, 0600, 64, error);

	if (fd < 0)
		return NULL;
	PodMux *mux = g_new0(PodMux, 1);
	mux->agent = agent;
	mux->socket_path = g_strdup(socket_path);
	mux->listen_fd = fd;
	mux->clients = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)client_free);
	mux->owners = g_hash_table_new(g_direct_hash, g_direct_equal);
	mux->inflight = g_hash_table_new(g_direct_hash, g_direct_equal);
	mux->forwards = g_hash_table_new(g_direct_hash, g_direct_equal);
	mux->listen_source = g_unix_fd_add(fd, G_IO_IN, on_accept, mux);
	agent_client_set_default_stream_func(agent, on_agent_stream, mux);
	agent_client_set_event_func(agent, on_agent_event, mux);
	return mux;
}

int pod_mux_connect_pair(PodMux *mux, GError **error)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return ck_set_error_errno(error, errno, "socketpair"), -1;
	add_client(mux, sv[0]);
	return sv[1];
}

void pod_mux_set_request_func(PodMux *mux, PodMuxRequestFunc func, gpointer user_data)
{
	mux->on_request = func;
	mux->request_data = user_data;
}

void pod_mux_set_event_func(PodMux *mux, PodMuxEventFunc func, gpointer user_data)
{
	mux->on_event = func;
	mux->event_data = user_data;
}

void pod_mux_disconnect_all(PodMux *mux)
{
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, mux->clients);
	while (g_hash_table_iter_next(&it, NULL, &value))
		ck_channel_close(((MuxClient *)value)->ch);
	g_hash_table_remove_all(mux->owners);
	g_hash_table_remove_all(mux->inflight);
	g_hash_table_remove_all(mux->clients);
}

guint pod_mux_client_count(PodMux *mux)
{
	return g_hash_table_size(mux->clients);
}

void pod_mux_free(PodMux *mux)
{
	if (mux == NULL)
		return;
	if (mux->listen_source != 0)
		g_source_remove(mux->listen_source);
	if (mux->reap_source != 0)
		g_source_remove(mux->reap_source);
	ck_close_fdp(&mux->listen_fd);
	(void)unlink(mux->socket_path);
	agent_client_set_default_stream_func(mux->agent, NULL, NULL);
	agent_client_set_event_func(mux->agent, NULL, NULL);
	/* answers still to come find no mux (on_forwarded_reply) */
	GHashTableIter it;
	gpointer fw;
	g_hash_table_iter_init(&it, mux->forwards);
	while (g_hash_table_iter_next(&it, &fw, NULL))
		((Forward *)fw)->mux = NULL;
	g_hash_table_unref(mux->forwards);
	g_hash_table_unref(mux->clients);
	g_hash_table_unref(mux->owners);
	g_hash_table_unref(mux->inflight);
	g_free(mux->socket_path);
	g_free(mux);
}
