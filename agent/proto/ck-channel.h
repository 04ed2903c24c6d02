/* ck-channel: a framed, non-blocking connection driven by a GMainContext.
 *
 * One CkChannel owns one fd (a UNIX socket to QEMU's virtio-serial chardev,
 * the guest's /dev/vportNpM, or a pod monitor's control socket). It reads
 * frames and hands each to on_frame; it queues outgoing frames and writes
 * them as the fd accepts. The queue is unbounded by itself: senders of
 * stream data use the per-stream CREDIT window (CK_STREAM_WINDOW) and
 * ck_channel_queued() to stay bounded; requests, replies and events are
 * small and few.
 *
 * When the peer closes or sends a bad frame, on_closed is called once with
 * the reason (NULL error for an orderly EOF) and the channel stops; the
 * owner then frees it (never from inside its own callbacks).
 */
#pragma once

#include <glib.h>

#include "ck-frame.h"

G_BEGIN_DECLS

typedef struct CkChannel CkChannel;

typedef void (*CkChannelFrameFunc)(CkChannel *ch, const CkFrame *frame, gpointer user_data);
typedef void (*CkChannelClosedFunc)(CkChannel *ch, const GError *error, gpointer user_data);
typedef void (*CkChannelDrainedFunc)(CkChannel *ch, gpointer user_data);

/* Takes ownership of fd (made non-blocking and close-on-exec). ctx NULL
 * means the thread-default context. */
CkChannel *ck_channel_new(int fd, GMainContext *ctx, CkChannelFrameFunc on_frame, CkChannelClosedFunc on_closed,
			  gpointer user_data);
void ck_channel_free(CkChannel *ch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CkChannel, ck_channel_free)

/* Called whenever the output queue becomes empty. */
void ck_channel_set_drained_func(CkChannel *ch, CkChannelDrainedFunc func);

/* Stops reading (back-pressure on the peer) or resumes. */
void ck_channel_pause_input(CkChannel *ch, gboolean paused);

void ck_channel_send(CkChannel *ch, const CkFrame *frame);
void ck_channel_send_json(CkChannel *ch, CkFrameType type, guint32 id, const char *json, gsize len);
void ck_channel_send_data(CkChannel *ch, guint32 id, CkStream stream, const void *data, gsize len);
void ck_channel_send_credit(CkChannel *ch, guint32 id, CkStream stream, guint32 bytes);
void ck_channel_send_eof(CkChannel *ch, guint32 id, CkStream stream);

/* Bytes queued and not yet written. */
gsize ck_channel_queued(CkChannel *ch);

/* Blocks (up to timeout_ms, -1 forever) until the queue is written. */
gboolean ck_channel_flush(CkChannel *ch, int timeout_ms, GError **error);

gboolean ck_channel_is_closed(CkChannel *ch);
int ck_channel_get_fd(CkChannel *ch);

/* Closes now; on_closed is not called. Queued output is dropped. */
void ck_channel_close(CkChannel *ch);

G_END_DECLS
