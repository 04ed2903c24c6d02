/* attach: the attach socket (conmon-interface.md#attach-socket to #stdin-rules).
 *
 * Owns the listening SOCK_SEQPACKET socket at <bundle>/attach (bound through
 * /proc/self/fd so that long bundle paths work), the CRI-O symlink
 * <socket_dir>/<cuuid> -> <bundle> with conmon's sun_path truncation
 * quirk, the accepted clients, the output records `<id><bytes>` broadcast
 * to all of them, and reading their raw input.
 *
 * Deliberately not here: the container's stdin. Input is handed to the
 * caller through AttachCallbacks; buffering it (it may arrive before the
 * container's stdin exists, conmon-interface.md#start-pipe --exec-attach), writing it, and deciding
 * whether a client's end closes stdin (-i without --leave-stdin-open,
 * conmon-interface.md#stdin-rules) are the caller's. Also not here: the order "log drivers first,
 * then attach clients" (conmon-interface.md#relay), which the caller keeps.
 *
 * Output writes block, exactly as conmon's do (conmon-interface.md#relay): a client that does
 * not read stalls the monitor. That is conmon's observable behaviour and
 * what guarantees that no output is lost for a slow but live client.
 *
 * All of it runs on the default GMainContext (g_unix_fd_add).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* conmon-interface.md#attach-framing stream ids. 0x01 (stdin) is defined but never sent. */
#define ATTACH_STREAM_STDIN 0x01
#define ATTACH_STREAM_STDOUT 0x02
#define ATTACH_STREAM_STDERR 0x03

/* conmon-interface.md#attach-framing: one output record carries at most 8192 bytes after its id byte;
 * both callers read into 8193-byte buffers. */
#define ATTACH_OUTPUT_MAX 8192
/* conmon-interface.md#attach-framing: input is read up to 32768 bytes per record. */
#define ATTACH_INPUT_MAX 32768

typedef struct {
	/* Raw input bytes of one client record (no header). Only called
	 * when the server was created with stdin_open. It may come before
	 * the container's stdin exists: the caller buffers it then. */
	void (*on_input)(const guint8 *data, gsize len, gpointer user_data);
	/* A client's input ended (it shut down its write side, closed, or
	 * its socket failed). Called once per client. The server has
	 * already shut down its read side and keeps sending it output. */
	void (*on_input_done)(gpointer user_data);
	gpointer user_data;
} AttachCallbacks;
/* Both callbacks run inside the client's fd watch. They may call
 * attach_server_write() and attach_server_pause_input(), but must not
 * call attach_server_close_clients() or attach_server_free(): schedule
 * those (g_idle_add) instead. */

typedef struct AttachServer AttachServer;

/* Creates the socket (conmon-interface.md#attach-socket): SOCK_SEQPACKET, non-blocking listener,
 * backlog 10, mode 0700, at <bundle>/attach. Without full_attach (CRI-O)
 * it first replaces <socket_dir>/<cuuid> with a symlink to the bundle,
 * cut by one character when that path is exactly 107 bytes long, and
 * binds through it, as conmon does; socket_dir must exist. An existing
 * <bundle>/attach is removed first. stdin_open (-i or -t): client input is
 * delivered; otherwise each client is read once and then ignored (conmon-interface.md#stdin-rules).
 * cb is copied. Errors: CK_ERRNO_ERROR naming the failing step and path,
 * CK_ERROR_INVALID when cuuid is missing in CRI-O mode. */
AttachServer *attach_server_new(const char *bundle, const char *socket_dir, const char *cuuid, gboolean full_attach,
				gboolean stdin_open, const AttachCallbacks *cb, GError **error);

/* Sends one record `<stream_id><data>` to every client whose write side is
 * still open, with blocking writes. len <= ATTACH_OUTPUT_MAX; 0 is a
 * no-op. A client whose write fails is shut down for writing (SHUT_WR)
 * and skipped from then on; it is closed once its input has ended too. */
void attach_server_write(AttachServer *as, guint8 stream_id, const guint8 *data, gsize len);

/* Stops (paused) or resumes reading input from all clients, for a caller
 * whose stdin buffer is full (conmon-interface.md#relay flow control). Output is unaffected. */
void attach_server_pause_input(AttachServer *as, gboolean paused);

/* Number of connected clients (for tests and debug logs). */
guint attach_server_n_clients(const AttachServer *as);

/* At container exit (conmon-interface.md#relay, #exit-sequence step 6): closes every client socket, so
 * that clients see EOF, and the listener. No callbacks are called. */
void attach_server_close_clients(AttachServer *as);

/* Closes what is still open, unlinks <bundle>/attach (conmon-interface.md#exit-sequence step 10) and
 * the <socket_dir>/<cuuid> symlink (conmon-interface.md#exit-sequence step 11), and frees. NULL-safe. */
void attach_server_free(AttachServer *as);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(AttachServer, attach_server_free)

G_END_DECLS
