/* guest-process: the host's handle on one process in the guest.
 *
 * Built on an AgentClient and the process handle the agent returned from
 * create_container or exec_process. It
 *   - delivers the process's output chunks to a callback, and returns
 *     flow-control credit once the consumer is done with them (at once by
 *     default; a consumer that must apply back-pressure, such as a slow
 *     attach client, takes manual control of credit);
 *   - sends stdin within the agent's window, queueing the rest;
 *   - asks the agent to wait for the exit and reports it once, after the
 *     last output chunk (the agent drains before it answers).
 */
#pragma once

#include <glib.h>

#include "proto/ck-frame.h"
#include "agent-client.h"

G_BEGIN_DECLS

typedef struct GuestProcess GuestProcess;

typedef struct {
	int exit_code; /* 128+n for signal n */
	int signal;    /* the signal that killed it, 0 if none */
	gboolean oom_killed;
} GuestExit;

/* len == 0: end of that stream. */
typedef void (*GuestOutputFunc)(GuestProcess *p, CkStream stream, const guint8 *data, gsize len,
				gpointer user_data);
/* exit NULL and error set: the wait failed (agent gone). */
typedef void (*GuestExitFunc)(GuestProcess *p, const GuestExit *exit, const GError *error, gpointer user_data);

GuestProcess *guest_process_new(AgentClient *agent, guint32 handle, GuestOutputFunc on_output, GuestExitFunc on_exit,
				gpointer user_data);
void guest_process_free(GuestProcess *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GuestProcess, guest_process_free)

guint32 guest_process_get_handle(GuestProcess *p);

/* Credit control: with manual credit the consumer calls
 * guest_process_credit() for every byte it has dealt with. */
void guest_process_set_manual_credit(GuestProcess *p, gboolean manual);
void guest_process_credit(GuestProcess *p, CkStream stream, gsize bytes);

/* Queues stdin bytes; they go out as the window allows. */
void guest_process_write_stdin(GuestProcess *p, const void *data, gsize len);
/* End of input, after everything queued. */
void guest_process_close_stdin(GuestProcess *p);
/* Bytes written but not yet accepted into the window. */
gsize guest_process_stdin_queued(GuestProcess *p);

gboolean guest_process_has_exited(GuestProcess *p);
const GuestExit *guest_process_get_exit(GuestProcess *p);

G_END_DECLS
