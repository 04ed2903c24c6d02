/* agent: the guest agent's shared state and request plumbing.
 *
 * One Agent serves one channel to the host. Requests are dispatched by
 * name through a table of operations (server.c); a handler either fills
 * the result and returns at once, or keeps the request and answers later
 * (e.g. waiting for a process to exit) with agent_request_reply() or
 * agent_request_fail(). Every failure travels back as an error reply; the
 * agent, being PID 1, never exits on a bad request.
 */
#pragma once

#include <glib.h>
#include <yajl/yajl_tree.h>

#include "base/ck-json.h"
#include "proto/ck-channel.h"
#include "guest-hooks.h"
#include "guest-init.h"

G_BEGIN_DECLS

typedef struct Agent Agent;
struct PortFwd;

typedef struct {
	Agent *agent;
	guint32 id;
	char *op;
	gboolean deferred; /* set by a handler that will answer later */
} AgentRequest;

/* Fills `result` (an open JSON map) or sets error. Set req->deferred and
 * keep req to answer later; the request is then owned by the handler. */
typedef gboolean (*AgentOpFunc)(AgentRequest *req, yajl_val args, CkJsonGen *result, GError **error);

typedef struct {
	const char *name;
	AgentOpFunc func;
} AgentOp;

struct Agent {
	GMainLoop *loop;
	CkChannel *channel;
	AgentSettings settings;
	gint64 start_uptime_us; /* when PID 1 started, since boot */
	gint64 ready_uptime_us; /* when the channel opened */
	guint modules_loaded;
	gboolean shutting_down;
	gboolean sandbox_created;
	GHashTable *containers;	  /* id -> Container* (owned) */
	GHashTable *processes;	  /* handle -> Process* (borrowed) */
	GHashTable *pids;	  /* pid -> Process* (borrowed), while running */
	guint32 next_handle;
	int inotify_fd;		  /* memory.events watches, -1 until the sandbox exists */
	GHashTable *oom_watches;  /* watch descriptor -> Container* */
	GuestHooks guest_hooks;	  /* Kata's guest hooks, found at create_sandbox */
	struct PortFwd *portfwd;  /* forwarded connections (portfwd.c), from the first one on */
};

/* Sets up the agent's tables (the channel comes with agent_server_start). */
void agent_init(Agent *agent);

/* A child of the agent exited (the reaper's report). */
void agent_child_exited(Agent *agent, pid_t pid, int status);

/* Answers a deferred request. `result` is an open result document from
 * ck_msg_result_begin(), or NULL for an empty result. Frees req. */
void agent_request_reply(AgentRequest *req, CkJsonGen *result);
void agent_request_fail(AgentRequest *req, const GError *error);

/* Sends an event frame (document from ck_msg_event_begin()). */
void agent_send_event(Agent *agent, CkJsonGen *event);

/* Serves requests on fd (taken over) and announces readiness. */
void agent_server_start(Agent *agent, int fd);

G_END_DECLS
