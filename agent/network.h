/* network: the pod's interfaces and routes in the guest (setup_network).
 *
 * The host carried each interface of the pod's network namespace into the
 * VM as a virtio-net NIC with the interface's MAC (docs/networking.md).
 * setup_network finds each NIC by that MAC, gives it the namespace's name
 * (eth0 ...), MTU and addresses (IPv6 ones without duplicate address
 * detection, usable at once), brings it and lo up, and adds the routes,
 * device routes before gateway routes. Plain rtnetlink: the agent is
 * static. Containers run in the guest's own network namespace, so they
 * all see this.
 *
 * Everything in the request is validated and bounded before anything is
 * changed: counts, name and MAC syntax, MTU and prefix ranges, address
 * families, route devices that name an interface of the request.
 */
#pragma once

#include "agent.h"
#include "reply.h"

G_BEGIN_DECLS

/* The bounds are the protocol's (proto/ck-ops.h). */
#define NETWORK_MAX_IFACES CK_NET_MAX_IFACES
#define NETWORK_MAX_ADDRS CK_NET_MAX_ADDRS
#define NETWORK_MAX_ROUTES CK_NET_MAX_ROUTES

gboolean op_setup_network(AgentRequest *req, gpointer args, gpointer result, GError **error);

/* Only the checks of setup_network on a parsed request, changing
 * nothing (tests, fuzzing). */
gboolean network_request_check(yajl_val args, GError **error);

G_END_DECLS
