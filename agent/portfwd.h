/* portfwd: the guest end of port forwarding (docs/port-forward.md).
 *
 * `connect_port` opens a TCP connection to the loopback address of the
 * guest's network namespace (the one the pod's containers share) on the
 * port the host names, and relays it on a new handle as a stream pair
 * (ck-sock-relay.h): stream 0 carries the host's bytes in, stream 1 the
 * guest server's bytes out. A connection forgets itself when both
 * directions have ended or either side reset it; the host needs no close
 * operation.
 */
#pragma once

#include "agent.h"
#include "reply.h"

G_BEGIN_DECLS

/* At most this many forwarded connections at a time; more is `failed`. */
#define PORTFWD_MAX_CONNECTIONS 256

/* How long a connection to the guest server may take to be accepted. */
#define PORTFWD_CONNECT_TIMEOUT_MS 10000

gboolean op_connect_port(AgentRequest *req, gpointer args, gpointer result, GError **error);

/* A stream frame for a forwarded connection's handle: TRUE if it was one. */
gboolean portfwd_handle_frame(Agent *agent, const CkFrame *frame);

G_END_DECLS
