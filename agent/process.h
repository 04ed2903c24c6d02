/* process: one process in the guest that the host can see: a container's
 * init or an exec'd process. It owns the process's stdio and relays it
 * over the channel under the per-stream flow-control windows
 * (docs/protocol.md), reports the exit to waiters once the output written
 * before the exit has been relayed, and forgets the process when its
 * container is removed.
 *
 * Output: each output fd is polled only while its window is open; a
 * container that writes faster than the host consumes blocks on its pipe.
 * On exit the pipes are drained (as far as the windows allow, waiting for
 * credit if needed) up to what is there at that moment, as conmon does; a
 * grandchild that keeps a pipe open does not hold the exit report back.
 * A stream in bulk (a wake-up that read at least a page) pauses for as
 * long as its producer takes to write a frame's worth, at most 10 ms, so
 * that one wake-up and one frame carry many writes of the process instead
 * of one each (docs/performance.md, "The log relay").
 *
 * Input: stdin data frames are buffered (never more than the window the
 * host was given) and written as the pipe accepts them; credit goes back
 * as bytes are written.
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

#include "proto/ck-frame.h"
#include "agent.h"
#include "reply.h"
#include "spawn.h"

G_BEGIN_DECLS

typedef struct Container Container;
typedef struct Process Process;

/* The container that owns a process, as the process sees it: the id its
 * exit event names, and the two moments it tells the owner of. The owner
 * (container.c) fills this in; the process never calls into it by name. */
typedef struct {
	Container *container;			       /* NULL: owned by nobody */
	const char *id;				       /* borrowed: the container outlives its processes */
	void (*exiting)(Container *c, Process *proc);  /* just before the exit is reported */
	void (*finished)(Container *c, Process *proc); /* once it has been */
} ProcessOwner;

typedef struct {
	Process *proc;
	CkStream stream;
	int fd;
	guint source;	     /* fd watch, 0 when not polling */
	guint hold;	     /* timer of a bulk stream's pause, 0 when none */
	gint64 last_read_us; /* monotonic time of the last wake-up that read data */
	guint32 window;	     /* bytes the host still accepts */
	gboolean eof;	     /* closed, nothing more will be sent */
	gboolean drained;    /* exit seen and nothing left to read now */
} OutStream;

struct Process {
	Agent *agent;
	ProcessOwner owner;
	guint32 handle;
	char *exec_id; /* NULL for the container's init */
	pid_t pid;
	gboolean terminal;
	guint32 rows, cols; /* the terminal's initial size */
	int pty_master;
	/* stdin */
	int stdin_fd;
	GByteArray *stdin_buf;
	guint stdin_source;
	gboolean stdin_eof;
	/* stdout (or the pty) and stderr */
	OutStream out[2];
	/* the child's ends, handed to the spawn plan and closed after spawn */
	int child_stdio[3];
	/* lifecycle */
	SpawnedProcess spawned;
	gboolean exited;
	gboolean exit_reported;
	int exit_code; /* 128+n for signal n */
	int exit_signal;
	gboolean oom_killed;
	GPtrArray *waiters; /* AgentRequest *, answered at exit */
};

/* Creates the process's stdio (pipes, or a pty when terminal) and
 * registers a handle. with_stdin FALSE: the child's stdin is /dev/null. */
Process *process_new(Agent *agent, const ProcessOwner *owner, const char *exec_id, gboolean terminal,
		     gboolean with_stdin, guint32 rows, guint32 cols, GError **error);

/* Puts the child's stdio into a plan. */
void process_fill_plan(Process *proc, SpawnPlan *plan);

/* After spawn: closes the child's ends, starts relaying output. */
void process_started(Process *proc, const SpawnedProcess *sp);

/* Frames from the host for this process's handle. */
void process_handle_frame(Process *proc, const CkFrame *frame);

/* The reaper saw the process exit with a wait status. */
void process_exited(Process *proc, int status);

/* Answers req when the process has exited (at once if it has). */
void process_add_waiter(Process *proc, AgentRequest *req);

gboolean process_signal(Process *proc, int sig, GError **error);
gboolean process_resize(Process *proc, guint32 rows, guint32 cols, GError **error);

/* Unregisters and frees; kills the process first if it still runs. */
void process_free(Process *proc);

Process *process_lookup_handle(Agent *agent, guint32 handle);
Process *process_lookup_pid(Agent *agent, pid_t pid);

G_END_DECLS
