/* ctl: the ctl and winsz FIFOs in the bundle (conmon-interface.md#ctl-and-winsz-fifos).
 *
 * Owns creating both FIFOs, holding a write end of each so that writers
 * never block and our reads never see EOF, parsing ctl lines exactly as
 * conmon does (sscanf "%d %d %d", a 200-byte line buffer, "after a
 * rejected line the rest of that read is dropped"), forwarding resizes
 * through winsz as conmon does, and reading winsz once armed.
 *
 * Deliberately not here: what a resize or a reopen does. Those are
 * callbacks: the monitor sets the terminal size (TIOCSWINSZ on a host pty,
 * or the guest's pty through the agent) and reopens the logs (logging.h).
 * Not here either: removing the FIFOs, which conmon never does.
 *
 * Runs on the default GMainContext (g_unix_fd_add).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* conmon-interface.md#ctl-and-winsz-fifos */
#define CTL_TYPE_RESIZE 1
#define CTL_TYPE_REOPEN_LOG 2
#define CTL_SIZE_MAX 1000
/* conmon reads lines into a 200-byte buffer: 199 usable bytes, so a line
 * of at most 198 bytes plus its "\n". */
#define CTL_LINE_BUF 200

typedef struct {
	/* A resize was read from winsz: rows = height, cols = width. */
	void (*on_resize)(int rows, int cols, gpointer user_data);
	/* ctl asked for a log reopen (type 2, conmon-interface.md#log-reopen). */
	void (*on_reopen)(gpointer user_data);
	gpointer user_data;
} CtlCallbacks;

typedef struct CtlFifos CtlFifos;

/* Creates <bundle>/ctl and <bundle>/winsz with mkfifo(0660) (0640 under
 * umask 022), after unlinking whatever file is there, opens each read end
 * O_RDONLY|O_NONBLOCK plus a write end of our own, and starts reading
 * ctl. cb is copied. Errors: CK_ERRNO_ERROR naming the step and path. */
CtlFifos *ctl_fifos_new(const char *bundle, const CtlCallbacks *cb, GError **error);

/* Starts reading winsz, so on_resize is called from now on (conmon-interface.md#ctl-and-winsz-fifos: only
 * once the console fd exists). Resizes written earlier have waited in
 * the FIFO and are applied now. Idempotent. */
void ctl_fifos_arm_winsz(CtlFifos *c);

/* Before the process exists: reads the resizes already written (to ctl
 * or winsz) and returns the last size instead of calling on_resize, so
 * that the caller can create the terminal with it. FALSE when none was
 * waiting. */
gboolean ctl_fifos_take_pending_size(CtlFifos *c, int *rows, int *cols);

/* Stops watching and closes our ends. The FIFOs stay (conmon-interface.md#ctl-and-winsz-fifos). NULL-safe. */
void ctl_fifos_free(CtlFifos *c);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CtlFifos, ctl_fifos_free)

/* One ctl line (without its "\n") as conmon parses it: sscanf "%d %d %d"
 * must convert three numbers (anything after them is ignored, leading
 * zeros are fine), type must be 1 or 2, and 0 <= h, w <= 1000. The out
 * values are written only when the line is accepted. Pure. */
gboolean ctl_parse_line(const char *line, int *type, int *h, int *w);

/* One winsz line, "<h> <w>", as written by the ctl handler. Pure. */
gboolean ctl_parse_winsz_line(const char *line, int *h, int *w);

G_END_DECLS
