/* ops: the agent's operation table, from an operation of the protocol
 * (proto/ck-ops.h) to its handler.
 *
 * The dispatcher (server.c) decodes the request into the operation's
 * arguments struct (after copying `defaults` into it, when set), calls
 * the handler with a zeroed result struct, and unless the handler
 * deferred the answer, encodes that result as the reply.
 */
#pragma once

#include <glib.h>
#include <yajl/yajl_tree.h>

#include "reply.h"

G_BEGIN_DECLS

/* args: the operation's decoded arguments, result: its result struct to
 * fill (NULL for an operation without either). Set req->deferred and keep
 * req to answer later; the request is then owned by the handler. */
typedef gboolean (*AgentOpFunc)(AgentRequest *req, gpointer args, gpointer result, GError **error);

typedef struct {
	CkOp op;
	AgentOpFunc func;
	gconstpointer defaults; /* the arguments an absent field leaves, NULL: zero */
} AgentOp;

/* The handler of op; NULL when the agent does not implement it. */
const AgentOp *agent_op_find(CkOp op);

/* Operations a test build of the agent adds by name (the hostile agent of
 * tests/lib/hostile-agent.c); the agent itself has none. They read the
 * request as parsed and answer {}. */
typedef gboolean (*AgentTestOpFunc)(AgentRequest *req, yajl_val request, GError **error);
typedef struct {
	const char *name;
	AgentTestOpFunc func;
} AgentTestOp;

extern const AgentTestOp *agent_test_ops;
extern gsize agent_n_test_ops;

const AgentTestOp *agent_test_op_find(const char *name);

G_END_DECLS
