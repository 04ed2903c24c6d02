/* ck-sock-relay: a stream socket relayed on a channel handle (see ck-sock-relay.h). */
#include "ck-sock-relay.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-cleanup.h"
#include "base/ck-io.h"

/* the stream on which an EOF frame means "reset" (ck-sock-relay.h) */
#define RESET_STREAM CK_STREAM_STDERR

struct CkSockRelay {
	int fd;
	CkChannel *ch;
	guint32 handle;
	CkStream out, in;
	guint32 window;	   /* bytes the peer still accepts on `out` */
	GByteArray *inbuf; /* from the peer, not yet written to fd */
	guint read_source;
	guint write_source;
	guint done_source;
	gboolean read_eof; /* the socket said end-of-file; EOF sent on `out` */
	gboolean in_eof;   /* the peer's EOF on `in` arrived */
	gboolean shut_wr;  /* shutdown(SHUT_WR) done */
	gboolean ended;
	char *reason; /* NULL: orderly end */
	CkSockRelayDoneFunc done;
	gpointer user_data;
};

static void update_watches(CkSockRelay *r);

static gboolean on_done(gpointer data)
{
	CkSockRelay *r = data;

	r->done_source = 0;
	r->done(r, r->reason, r->user_data);
	return G_SOURCE_REMOVE;
}

static void stop_watches(CkSockRelay *r)
{
	g_clear_handle_id(&r->read_source, g_source_remove);
	g_clear_handle_id(&r->write_source, g_source_remove);
}

/* Ends the relay; tell_peer: a local failure the peer must hear of. */
static void end(CkSockRelay *r, const char *reason, gboolean tell_peer)
{
	if (r->ended)
		return;
	r->ended = TRUE;
	r->reason = g_strdup(reason);
	stop_watches(r);
	if (reason != NULL && tell_peer)
		ck_channel_send_eof(r->ch, r->handle, RESET_STREAM);
	if (r->done != NULL)
		r->done_source = g_idle_add(on_done, r);
}

static void fail(CkSockRelay *r, const char *what, int errsv)
{
	g_autofree char *reason = g_strdup_printf("%s: %s", what, g_strerror(errsv));

	end(r, reason, TRUE);
}

static void maybe_done(CkSockRelay *r)
{
	if (r->read_eof && r->shut_wr)
		end(r, NULL, FALSE);
}

/* --- socket -> peer -------------------------------------------------------------- */

/* One read of at most the window. FALSE when reading should stop. */
static gboolean read_once(CkSockRelay *r)
{
	guint8 buf[CK_FRAME_MAX_DATA];

	ssize_t n = ck_read_retry(r->fd, buf, MIN(sizeof buf, r->window));
	if (n > 0) {
		ck_channel_send_data(r->ch, r->handle, r->out, buf, (gsize)n);
		r->window -= (guint32)n;
		return r->window > 0;
	}
	if (n == 0) {
		r->read_eof = TRUE;
		ck_channel_send_eof(r->ch, r->handle, r->out);
		maybe_done(r);
		return FALSE;
	}
	if (errno != EAGAIN)
		fail(r, "read", errno);
	return !r->ended;
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
	CkSockRelay *r = data;

	(void)fd;
	(void)cond;
	if (read_once(r) && !r->ended)
		return G_SOURCE_CONTINUE;
	r->read_source = 0;
	return G_SOURCE_REMOVE;
}

/* --- peer -> socket -------------------------------------------------------------- */

static void flush(CkSockRelay *r)
{
	gsize written = 0;

	while (written < r->inbuf->len) {
		ssize_t n = send(r->fd, r->inbuf->data + written, r->inbuf->len - written, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			fail(r, "write", errno);
			return;
		}
		written += (gsize)n;
	}
	if (written > 0) {
		g_byte_array_remove_range(r->inbuf, 0, (guint)written);
		ck_channel_send_credit(r->ch, r->handle, r->in, (guint32)written);
	}
	if (r->inbuf->len == 0 && r->in_eof && !r->shut_wr) {
		if (shutdown(r->fd, SHUT_WR) < 0 && errno != ENOTCONN) {
			fail(r, "shutdown", errno);
			return;
		}
		r->shut_wr = TRUE;
		maybe_done(r);
	}
}

static gboolean on_writable(gint fd, GIOCondition cond, gpointer data)
{
	CkSockRelay *r = data;

	(void)fd;
	(void)cond;
	flush(r);
	if (!r->ended && r->inbuf->len > 0)
		return G_SOURCE_CONTINUE;
	r->write_source = 0;
	return G_SOURCE_REMOVE;
}

/* Polls for reading exactly while the window is open, for writing while
 * bytes wait. */
static void update_watches(CkSockRelay *r)
{
	gboolean want_read = !r->ended && !r->read_eof && r->window > 0;
	gboolean want_write = !r->ended && r->inbuf->len > 0;

	if (want_read && r->read_source == 0)
		r->read_source = g_unix_fd_add(r->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, r);
	else if (!want_read)
		g_clear_handle_id(&r->read_source, g_source_remove);
	if (want_write && r->write_source == 0)
		r->write_source = g_unix_fd_add(r->fd, G_IO_OUT | G_IO_ERR, on_writable, r);
	else if (!want_write)
		g_clear_handle_id(&r->write_source, g_source_remove);
}

static void peer_data(CkSockRelay *r, const CkFrame *frame)
{
	g_autofree char *reason = NULL;

	if (frame->stream != r->in)
		reason = g_strdup_printf("data on stream %u", frame->stream);
	else if (r->in_eof)
		reason = g_strdup("data after end of stream");
	else if (r->inbuf->len + frame->len > CK_STREAM_WINDOW)
		reason = g_strdup_printf("%u bytes beyond the window", frame->len);
	if (reason != NULL) {
		end(r, reason, TRUE);
		return;
	}
	g_byte_array_append(r->inbuf, frame->payload, frame->len);
	flush(r);
}

static void peer_credit(CkSockRelay *r, const CkFrame *frame)
{
	guint32 bytes = ck_frame_credit_value(frame);

	if (frame->stream != r->out)
		return;
	/* credit only ever returns what was sent */
	if ((guint64)r->window + bytes > CK_STREAM_WINDOW) {
		g_autofree char *reason = g_strdup_printf("credit of %u bytes beyond the window", bytes);
		end(r, reason, TRUE);
		return;
	}
	r->window += bytes;
}

static void peer_eof(CkSockRelay *r, const CkFrame *frame)
{
	if (frame->stream == RESET_STREAM) {
		end(r, "reset by the peer", FALSE);
	} else if (frame->stream == r->in && !r->in_eof) {
		r->in_eof = TRUE;
		flush(r);
	}
}

void ck_sock_relay_handle_frame(CkSockRelay *r, const CkFrame *frame)
{
	if (r->ended)
		return;
	switch (frame->type) {
	case CK_FRAME_DATA:
		peer_data(r, frame);
		break;
	case CK_FRAME_CREDIT:
		peer_credit(r, frame);
		break;
	case CK_FRAME_EOF:
		peer_eof(r, frame);
		break;
	default:
		break;
	}
	update_watches(r);
}

/* --- life ------------------------------------------------------------------------------ */

CkSockRelay *ck_sock_relay_new(int fd, CkChannel *ch, guint32 handle, CkStream out, CkStream in,
			       CkSockRelayDoneFunc done, gpointer user_data)
{
	CkSockRelay *r = g_new0(CkSockRelay, 1);

	(void)ck_set_nonblock(fd, TRUE, NULL);
	r->fd = fd;
	r->ch = ch;
	r->handle = handle;
	r->out = out;
	r->in = in;
	r->window = CK_STREAM_WINDOW;
	r->inbuf = g_byte_array_new();
	r->done = done;
	r->user_data = user_data;
	update_watches(r);
	return r;
}

void ck_sock_relay_abort(CkSockRelay *r, const char *reason)
{
	CkSockRelayDoneFunc done = r->done;

	r->done = NULL;
	end(r, reason, TRUE);
	r->done = done;
}

guint32 ck_sock_relay_get_handle(CkSockRelay *r)
{
	return r->handle;
}

gsize ck_sock_relay_buffered(CkSockRelay *r)
{
	return r->inbuf->len;
}

void ck_sock_relay_free(CkSockRelay *r)
{
	if (r == NULL)
		return;
	stop_watches(r);
	g_clear_handle_id(&r->done_source, g_source_remove);
	if (r->reason != NULL || !r->ended) {
		/* not an orderly end: the other side sees a reset, not a
		 * clean end of stream that would pass for complete data */
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		(void)setsockopt(r->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
	ck_close_fdp(&r->fd);
	g_byte_array_unref(r->inbuf);
	g_free(r->reason);
	g_free(r);
}
