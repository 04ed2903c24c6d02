/* portfwd: the pod monitor's end of port forwarding (docs/port-forward.md).
 *
 * CRI-O (kubectl port-forward) and anything else that dials 127.0.0.1:PORT
 * or [::1]:PORT inside the pod's network namespace reaches the listener
 * portfwd-steer.h puts there. For each accepted connection the monitor
 * asks the agent to connect to the same address and port in the guest
 * (`connect_port`) and relays the bytes both ways on the handle the agent
 * returns (ck-sock-relay.h). A guest connection that fails (nothing
 * listens there) resets the accepted one: the kernel had completed the
 * client's handshake with our listener, so the client sees ECONNRESET (on
 * its first read, or from a non-blocking connect not yet checked), never
 * ECONNREFUSED.
 *
 * Bounded: at most PORT_FORWARD_MAX_CONNECTIONS connections at a time
 * (more are reset at once, with a warning), each buffering at most one
 * flow-control window per direction.
 */
#pragma once

#include <glib.h>

#include "lib/agent-client.h"

G_BEGIN_DECLS

#define PORT_FORWARD_MAX_CONNECTIONS 64

typedef struct PortForward PortForward;

/* Steers the loopback connections of the namespace at netns_path to the
 * guest behind agent (borrowed; must outlive the forwarder or see it freed
 * first). Fails when the steering cannot be set up (portfwd-steer.h). */
PortForward *port_forward_new(AgentClient *agent, const char *pod_id, const char *netns_path, GError **error);

/* Connections being set up or relayed. */
guint port_forward_count(PortForward *pf);

/* Detaches the steering and resets every connection. */
void port_forward_free(PortForward *pf);

G_END_DECLS
