/* agent-client: the host side of the wire protocol.
 *
 * Speaks to a guest agent over one CkChannel: directly over QEMU's
 * virtio-serial socket, or through a pod monitor's control socket, which
 * relays the same protocol. Requests get increasing ids and are answered
 * through callbacks; agent_client_call() wraps that into a blocking call
 * that runs the client's GMainContext until the reply or the deadline.
 *
 * Stream frames (DATA/CREDIT/EOF) for a process handle are passed to the
 * handler registered for that handle; events to the event handler.
 *
 * Callbacks never run after agent_client_free(). When the channel closes,
 * every pending request fails with CK_ERROR_DISCONNECTED and the closed
 * handler runs once.
 */
#pragma once

#include <glib.h>
#include <yajl/yajl_tree.h>

#include "base/ck-json.h"
#include "proto/ck-channel.h"
#include "proto/ck-ops.h"

G_BEGIN_DECLS

typedef struct AgentClient AgentClient;

/* result is the "result" object (borrowed for the callback's duration);
 * error is set instead when the request failed. */
typedef void (*AgentReplyFunc)(AgentClient *c, yajl_val result, const GError *error, gpointer user_data);
/* event is CK_EVENT_UNKNOWN for a name this host does not know; body is
 * the whole event object (decode it with ck_msg_decode_event()). */
typedef void (*AgentEventFunc)(AgentClient *c, CkEvent event, yajl_val body, gpointer user_data);
typedef void (*AgentStreamFunc)(AgentClient *c, const CkFrame *frame, gpointer user_data);
typedef void (*AgentClosedFunc)(AgentClient *c, const GError *error, gpointer user_data);

/* Takes ownership of fd. ctx NULL: the thread-default context. */
AgentClient *agent_client_new(int fd, GMainContext *ctx);
void agent_client_free(AgentClient *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AgentClient, agent_client_free)

void agent_client_set_event_func(AgentClient *c, AgentEventFunc func, gpointer user_data);
void agent_client_set_closed_func(AgentClient *c, AgentClosedFunc func, gpointer user_data);

/* Sends the request document (from ck_msg_request_begin(); it is
 * finished here). Returns the request id. */
guint32 agent_client_call_async(AgentClient *c, CkJsonGen *request, AgentReplyFunc func, gpointer user_data);
/* The same; destroy (when not NULL) is called on user_data instead of func
 * when the client is freed before the call was answered. */
guint32 agent_client_call_async_full(AgentClient *c, CkJsonGen *request, AgentReplyFunc func, gpointer user_data,
				     GDestroyNotify destroy);

/* Blocking call. Returns the reply tree (caller frees) and points
 * *out_result at its "result" object. timeout_ms < 0: no deadline. */
yajl_val agent_client_call(AgentClient *c, CkJsonGen *request, int timeout_ms, yajl_val *out_result,
			   GError **error);

/* A typed blocking call (proto/ck-ops.h): args is op's arguments struct
 * (NULL for an operation without), out_result its result struct, filled
 * on success (NULL when not wanted; the caller frees it with
 * ck_msg_clear_result()). A result of the wrong shape is an error
 * "<op> result: <field>: <problem>". */
gboolean agent_client_op(AgentClient *c, CkOp op, gconstpointer args, gpointer out_result, int timeout_ms,
			 GError **error);

/* Sends op with args and does not wait for, or look at, the answer. */
void agent_client_send_op(AgentClient *c, CkOp op, gconstpointer args);

/* Typed calls sent back to back, each before the one before it is
 * answered: the agent answers in order, so n calls cost the guest no
 * wake-up between them and the host no round trip each. Every result is
 * filled on success (the caller clears them, as agent_client_op()'s);
 * the error is the first failed call's; timeout_ms is each call's. */
typedef struct {
	CkOp op;
	gconstpointer args;  /* NULL for an operation without */
	gpointer out_result; /* NULL: not wanted */
} AgentOpCall;
gboolean agent_client_ops(AgentClient *c, const AgentOpCall *calls, guint n, int timeout_ms, GError **error);

/* Runs the context until the agent's "ready" event arrived. */
gboolean agent_client_wait_ready(AgentClient *c, int timeout_ms, GError **error);
gboolean agent_client_is_ready(AgentClient *c);

/* Relaying (the pod monitor's multiplexer): sends a request payload as
 * is and hands back the raw response frame (NULL when the connection
 * closed first). func NULL: the response is not wanted. destroy, when not
 * NULL, gets user_data instead of func when the client is freed before an
 * answer came. */
typedef void (*AgentRawReplyFunc)(AgentClient *c, const CkFrame *response, gpointer user_data);
guint32 agent_client_forward(AgentClient *c, const guint8 *json, gsize len, AgentRawReplyFunc func,
			     gpointer user_data, GDestroyNotify destroy);

/* Receives stream frames of handles that have no handler of their own. */
void agent_client_set_default_stream_func(AgentClient *c, AgentStreamFunc func, gpointer user_data);

/* Stream plumbing for process handles. Frames of `handle` that arrived
 * before it had a handler (and no default one took them) are passed to
 * `func` at once, from inside this call. */
void agent_client_set_stream_func(AgentClient *c, guint32 handle, AgentStreamFunc func, gpointer user_data);
void agent_client_remove_stream_func(AgentClient *c, guint32 handle);
CkChannel *agent_client_get_channel(AgentClient *c);
/* runc's words for an agent error that says the container's process
 * could not be started (its executable not found or not executable, its
 * cwd, its user): "unable to start container process: <cause>", the
 * cause without the agent's "<op> <id>: " prefix, as runc reports it after
 * "runc create failed: " or "exec failed: ". NULL for any other error. */
char *agent_error_start_failure(const char *message);

/* The context the client's channel is driven by. */
GMainContext *agent_client_get_context(AgentClient *c);

/* Called from inside the blocking waits: return TRUE to abort the wait
 * with CK_ERROR_FAILED "interrupted" (e.g. after SIGINT). */
typedef gboolean (*AgentCancelFunc)(gpointer user_data);
void agent_client_set_cancel_func(AgentClient *c, AgentCancelFunc func, gpointer user_data);

gboolean agent_client_is_closed(AgentClient *c);

/* The peer broke the protocol (docs/security.md#a-hostile-guest): a
 * malformed frame, a response or event that is not the JSON object the
 * protocol says, a response to a request never sent, a request, or (from
 * the pod's multiplexer) output beyond the stream window. The connection
 * is closed at once, pending requests fail, and the closed callback runs;
 * from then on agent_client_violation() says what happened (NULL before). */
void agent_client_abort(AgentClient *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
const char *agent_client_violation(AgentClient *c);

G_END_DECLS
