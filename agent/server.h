/* server: the agent's end of the channel. Reads frames, dispatches
 * requests through the operation table (ops.h) and stream frames to their
 * process or forwarded port, and powers the guest off when the host goes.
 */
#pragma once

#include <sys/types.h>

#include "agent.h"

G_BEGIN_DECLS

/* Sets up the agent's tables (the channel comes with agent_server_start). */
void agent_init(Agent *agent);

/* A child of the agent exited (the reaper's report). */
void agent_child_exited(Agent *agent, pid_t pid, int status);

/* Serves requests on fd (taken over) and announces readiness. */
void agent_server_start(Agent *agent, int fd);

G_END_DECLS
