/* reply: how the agent answers the host: a request's result or error,
 * and events. The operations answer through here, never through the
 * dispatcher that called them (server.c), so that no operation depends
 * on the table that lists it.
 *
 * A handler either fills its result and returns, or keeps the request
 * (req->deferred) and answers later (e.g. once a process exited) with
 * agent_request_reply() or agent_request_fail(). Every failure travels
 * back as an error reply; the agent, being PID 1, never exits on a bad
 * request.
 */
#pragma once

#include <glib.h>

#include "proto/ck-ops.h"
#include "agent.h"

G_BEGIN_DECLS

typedef struct {
	Agent *agent;
	guint32 id;
	CkOp op;	   /* CK_OP_UNKNOWN for a test build's own operation */
	char *name;	   /* the operation's name, for the log */
	gboolean deferred; /* set by a handler that will answer later */
	/* the parsed request, the server's until the handler returns: a
	 * handler may take a member out of it (ck_json_take) to keep */
	yajl_val tree;
} AgentRequest;

/* Answers req with its operation's result struct (ck-ops.h), or NULL for
 * an empty result, and frees req. */
void agent_request_reply(AgentRequest *req, gconstpointer result);
void agent_request_fail(AgentRequest *req, const GError *error);

/* Sends an event with its body struct (ck-ops.h). */
void agent_send_event(Agent *agent, CkEvent event, gconstpointer body);

G_END_DECLS
