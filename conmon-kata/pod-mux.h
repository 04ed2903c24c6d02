/* pod-mux: the pod monitor's control socket.
 *
 * The guest agent has one channel, owned by the pod monitor. The pod's
 * other monitors, vmctl, and the pod monitor's own container all reach the
 * agent through this multiplexer, speaking the very protocol of
 * docs/protocol.md:
 *   - requests are forwarded with fresh ids and their responses returned
 *     under the client's own id, untouched;
 *   - a process created by a client's create_container or exec_process is
 *     owned by that client: its stream frames go to it alone, and credit
 *     and stdin frames from it go to the agent (flow control stays end to
 *     end, so the multiplexer buffers at most a window per stream);
 *   - events go to every client;
 *   - when a client goes away, the processes it owns and that still run
 *     are killed: their host stand-ins die with their monitor, so nothing
 *     may keep running unseen in the guest.
 * Output for a process nobody owns is dropped, and its window returned.
 */
#pragma once

#include <glib.h>

#include "lib/agent-client.h"

G_BEGIN_DECLS

typedef struct PodMux PodMux;

/* Listens on socket_path (mode 0600). The agent client's event and
 * default stream functions are taken over. */
PodMux *pod_mux_new(AgentClient *agent, const char *socket_path, GError **error);
void pod_mux_free(PodMux *mux);

/* An in-process client: returns the caller's end of a socketpair. */
int pod_mux_connect_pair(PodMux *mux, GError **error);

/* Called for every request before it is forwarded; FALSE answers the
 * client with the error instead (the pod monitor sizes the VM here). */
typedef gboolean (*PodMuxRequestFunc)(CkOp op, yajl_val request, gpointer user_data, GError **error);
void pod_mux_set_request_func(PodMux *mux, PodMuxRequestFunc func, gpointer user_data);

/* Events also reach the pod monitor itself. */
typedef void (*PodMuxEventFunc)(CkEvent event, yajl_val body, gpointer user_data);
void pod_mux_set_event_func(PodMux *mux, PodMuxEventFunc func, gpointer user_data);

/* Closes every client connection (their monitors see the pod go away). */
void pod_mux_disconnect_all(PodMux *mux);

guint pod_mux_client_count(PodMux *mux);

G_END_DECLS
