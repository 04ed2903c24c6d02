/* ck-sock-relay: one connected stream socket relayed as a stream pair on a
 * handle of a CkChannel, under the protocol's flow control.
 *
 * Port forwarding (docs/port-forward.md) uses it on both ends: the pod
 * monitor relays the connection it accepted in the pod's network
 * namespace, the agent the connection it opened to 127.0.0.1:PORT in the
 * guest. Each end reads its socket into DATA frames on its `out` stream
 * (at most the window the peer granted, CK_STREAM_WINDOW at first) and
 * writes the peer's DATA frames on its `in` stream to the socket,
 * returning CREDIT as bytes are written; so neither end ever buffers more
 * than one window.
 *
 * End of stream: end-of-file on the socket becomes an EOF frame on `out`;
 * an EOF frame on `in` becomes shutdown(SHUT_WR) once the buffered bytes
 * are written. When both directions have ended the relay is done. A
 * failure (a socket error, a peer that sends beyond its window or credit
 * beyond the window) ends the relay at once and tells the peer with an
 * EOF frame on stream 2 (CK_STREAM_STDERR), which it answers by resetting
 * its own connection; such an EOF from the peer likewise ends this relay
 * as reset.
 *
 * The done callback runs once, from an idle source (never from inside
 * ck_sock_relay_handle_frame()), with reason NULL for an orderly end; the
 * owner then frees the relay, which closes the socket (with a reset,
 * SO_LINGER 0, unless the end was orderly).
 */
#pragma once

#include <glib.h>

#include "ck-channel.h"

G_BEGIN_DECLS

typedef struct CkSockRelay CkSockRelay;

typedef void (*CkSockRelayDoneFunc)(CkSockRelay *relay, const char *reason, gpointer user_data);

/* Takes ownership of fd (a connected stream socket; made non-blocking).
 * The channel is borrowed and must outlive the relay. */
CkSockRelay *ck_sock_relay_new(int fd, CkChannel *ch, guint32 handle, CkStream out, CkStream in,
			       CkSockRelayDoneFunc done, gpointer user_data);

/* A DATA, CREDIT or EOF frame of the relay's handle, from the peer. */
void ck_sock_relay_handle_frame(CkSockRelay *relay, const CkFrame *frame);

/* Ends the relay now as failed (the peer is told); done is not called. */
void ck_sock_relay_abort(CkSockRelay *relay, const char *reason);

guint32 ck_sock_relay_get_handle(CkSockRelay *relay);

/* Bytes received from the peer and not yet written to the socket. */
gsize ck_sock_relay_buffered(CkSockRelay *relay);

void ck_sock_relay_free(CkSockRelay *relay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CkSockRelay, ck_sock_relay_free)

G_END_DECLS
