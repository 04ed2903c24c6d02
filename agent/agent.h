/* agent: the guest agent's shared state, one Agent for the one channel
 * to the host. The layers that use it, bottom up: reply.h (answering a
 * request, sending an event), the operations (container.c, process.c,
 * sandbox.c, network.c, portfwd.c, clone.c), their table (ops.h), and the
 * dispatcher that reads frames and calls them (server.h).
 */
#pragma once

#include <glib.h>
#include <yajl/yajl_tree.h>

#include "oci/oci-seccomp.h"
#include "proto/ck-channel.h"
#include "guest-hooks.h"
#include "guest-init.h"

G_BEGIN_DECLS

typedef struct Agent Agent;
struct PortFwd;

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
	OciSeccompAbis seccomp_abis; /* what compiling a filter for this kernel may leave out */
};

G_END_DECLS
