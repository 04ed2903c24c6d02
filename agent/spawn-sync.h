/* spawn-sync: the records between the agent and the stages of a starting
 * container process (spawn.h has the sequence), and the child's failure
 * reports.
 *
 * Records travel on a SOCK_SEQPACKET socketpair that is close-on-exec in
 * the child: EOF after START means execve succeeded. A failure in the
 * child is a fixed-size record (step, errno or error code, text); no GLib
 * error objects cross the fork.
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	SYNC_PID = 1,	      /* stage 1 -> agent: stage 2's pid */
	SYNC_READY = 2,	      /* stage 2 -> agent: set up, waiting */
	SYNC_ERROR = 3,	      /* either stage -> agent: failed */
	SYNC_START = 4,	      /* agent -> stage 2: go on to execve */
	SYNC_PTY = 5,	      /* stage 2 -> agent: the terminal's master (SCM_RIGHTS), or none */
	SYNC_USERNS = 6,      /* stage 2 -> agent: in a new user namespace, map it */
	SYNC_USERNS_DONE = 7, /* agent -> stage 2: mapped */
} SyncType;

typedef struct {
	int type;
	int err;  /* ERROR: the errno, 0 if none */
	int code; /* ERROR without errno: the CkErrorCode */
	pid_t pid;
	char step[32];
	char text[1024];
} SyncMsg;

/* --- child side --- */

/* The socket the child's failures are reported on (each stage sets its own). */
void spawn_sync_set_child_fd(int fd);

void spawn_sync_send(int fd, const SyncMsg *msg);

/* Waits for the agent's `want`; anything else means it gave up on the
 * child, which then exits 127. */
void spawn_sync_wait_for(int sync_fd, SyncType want);

/* Child-side failure report: step name, errno (0 if none), text. Used by
 * the setup modules; async-signal-safe apart from vsnprintf. The agent
 * sees an errno error, or without errno a CK_ERROR_INVALID one. */
G_NORETURN void spawn_child_fail(const char *step, int errsv, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* The same for a GError of the child's: its message, and its errno or
 * CkErrorCode category (a hook's timeout stays CK_ERROR_TIMEOUT). */
G_NORETURN void spawn_child_fail_error(const char *step, const GError *error);

/* --- parent side --- */

/* Receives one record; an fd passed with it (SYNC_PTY) lands in *out_fd
 * when out_fd is non-NULL, else it is closed. */
gboolean spawn_sync_recv(int fd, int timeout_ms, SyncMsg *msg, gboolean *out_eof, int *out_fd, GError **error);

/* Reads until `want` arrives; an ERROR record becomes the error. */
gboolean spawn_sync_expect(int fd, SyncType want, int timeout_ms, SyncMsg *out, int *out_fd, GError **error);

/* After START (or without a hold): EOF, i.e. execve succeeded, or the
 * child's error. */
gboolean spawn_sync_wait_exec(int fd, int timeout_ms, GError **error);

G_END_DECLS
