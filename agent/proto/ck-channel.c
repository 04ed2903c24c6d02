/* ck-channel: framed non-blocking connection on a GMainContext. */
#include "ck-channel.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-error.h"
#include "base/ck-io.h"

#define READ_CHUNK (128u * 1024u)

typedef struct {
	GSource source;
	CkChannel *ch;
	gpointer tag;
	GIOCondition cond; /* what tag polls for */
} ChannelSource;

struct CkChannel {
	int ref;
	int fd;
	gboolean closed;
	gboolean paused;
	gboolean hup_seen; /* HUP/ERR reported; stop polling while idle */
	GSource *source;
	CkFrameReader reader;
	GByteArray *out;
	gsize out_offset;
	CkChannelFrameFunc on_frame;
	CkChannelClosedFunc on_closed;
	CkChannelDrainedFunc on_drained;
	gpointer user_data;
};

static void channel_unref(CkChannel *ch);
static void channel_dispatch_io(CkChannel *ch, GIOCondition revents);

static gboolean source_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
	ChannelSource *cs = (ChannelSource *)source;

	(void)cb;
	(void)data;
	channel_dispatch_io(cs->ch, cs->tag != NULL ? g_source_query_unix_fd(source, cs->tag) : 0);
	return G_SOURCE_CONTINUE;
}

static GSourceFuncs channel_source_funcs = {
	.dispatch = source_dispatch,
};

static void update_condition(CkChannel *ch)
{
	if (ch->source == NULL)
		return;

	ChannelSource *cs = (ChannelSource *)ch->source;
	GIOCondition cond = 0;
	if (!ch->paused)
		cond |= G_IO_IN;
	if (ch->out->len > ch->out_offset)
		cond |= G_IO_OUT;

	/* poll(2) reports HUP/ERR whatever we ask for: once seen, a paused
	 * channel with nothing to write must leave the poll set, or the loop
	 * would spin on it */
	if (cond == 0 && ch->hup_seen) {
		if (cs->tag != NULL) {
			g_source_remove_unix_fd(ch->source, cs->tag);
			cs->tag = NULL;
		}
		return;
	}
	/* GLib wakes its context up (an eventfd write, then a poll that
	 * returns at once) on every change of a polled fd: change only what
	 * changed */
	if (cs->tag == NULL)
		cs->tag = g_source_add_unix_fd(ch->source, ch->fd, cond);
	else if (cs->cond != cond)
		g_source_modify_unix_fd(ch->source, cs->tag, cond);
	cs->cond = cond;
}

CkChannel *ck_channel_new(int fd, GMainContext *ctx, CkChannelFrameFunc on_frame, CkChannelClosedFunc on_closed,
			  gpointer user_data)
{
	CkChannel *ch = g_new0(CkChannel, 1);

	ch->ref = 1;
	ch->fd = fd;
	ch->on_frame = on_frame;
	ch->on_closed = on_closed;
	ch->user_data = user_data;
	ck_frame_reader_init(&ch->reader);
	ch->out = g_byte_array_new();
	(void)ck_set_nonblock(fd, TRUE, NULL);
	(void)ck_set_cloexec(fd, TRUE, NULL);

	ch->source = g_source_new(&channel_source_funcs, sizeof(ChannelSource));
	ChannelSource *cs = (ChannelSource *)ch->source;
	cs->ch = ch;
	cs->cond = G_IO_IN;
	cs->tag = g_source_add_unix_fd(ch->source, fd, cs->cond);
	g_source_set_name(ch->source, "ck-channel");
	g_source_attach(ch->source, ctx);
	return ch;
}

static void channel_stop(CkChannel *ch)
{
	ch->closed = TRUE;
	if (ch->source != NULL) {
		g_source_destroy(ch->source);
		g_source_unref(ch->source);
		ch->source = NULL;
	}
	if (ch->fd >= 0) {
		close(ch->fd);
		ch->fd = -1;
	}
}

static void channel_unref(CkChannel *ch)
{
	if (--ch->ref > 0)
		return;
	channel_stop(ch);
	ck_frame_reader_clear(&ch->reader);
	g_byte_array_unref(ch->out);
	g_free(ch);
}

void ck_channel_free(CkChannel *ch)
{
	if (ch == NULL)
		return;
	ch->on_frame = NULL;
	ch->on_closed = NULL;
	ch->on_drained = NULL;
	channel_stop(ch);
	channel_unref(ch);
}

void ck_channel_close(CkChannel *ch)
{
	ch->on_closed = NULL;
	channel_stop(ch);
}

static void channel_fail(CkChannel *ch, GError *error)
{
	CkChannelClosedFunc cb = ch->on_closed;

	if (ch->closed) {
		g_clear_error(&error);
		return;
	}
	channel_stop(ch);
	ch->on_closed = NULL;
	if (cb != NULL)
		cb(ch, error, ch->user_data);
	g_clear_error(&error);
}

void ck_channel_set_drained_func(CkChannel *ch, CkChannelDrainedFunc func)
{
	ch->on_drained = func;
}

void ck_channel_pause_input(CkChannel *ch, gboolean paused)
{
	if (ch->paused == paused)
		return;
	ch->paused = paused;
	update_condition(ch);
	/* frames may already sit decoded in the buffer; let the loop see them */
	if (!paused && ch->source != NULL && ck_frame_reader_pending(&ch->reader) >= CK_FRAME_HEADER_SIZE)
		g_source_set_ready_time(ch->source, 0);
}

/* Writes as much queued output as the fd takes. FALSE on a write error
 * (the channel is then failed). */
static gboolean channel_write_some(CkChannel *ch)
{
	while (ch->out_offset < ch->out->len) {
		ssize_t n = write(ch->fd, ch->out->data + ch->out_offset, ch->out->len - ch->out_offset);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			GError *err = NULL;
			ck_set_error_errno(&err, errno, "write");
			channel_fail(ch, err);
			return FALSE;
		}
		ch->out_offset += (gsize)n;
	}
	if (ch->out_offset == ch->out->len) {
		g_byte_array_set_size(ch->out, 0);
		ch->out_offset = 0;
	} else if (ch->out_offset > (1u << 20)) {
		g_byte_array_remove_range(ch->out, 0, (guint)ch->out_offset);
		ch->out_offset = 0;
	}
	update_condition(ch);
	return TRUE;
}

void ck_channel_send(CkChannel *ch, const CkFrame *frame)
{
	if (ch->closed)
		return;
	gboolean was_empty = ch->out->len == ch->out_offset;
	ck_frame_append(ch->out, frame);
	if (was_empty)
		(void)channel_write_some(ch);
}

void ck_channel_send_json(CkChannel *ch, CkFrameType type, guint32 id, const char *json, gsize len)
{
	CkFrame f = {.type = type, .id = id, .len = (guint32)len, .payload = (const guint8 *)json};

	g_return_if_fail(len <= CK_FRAME_MAX_JSON);
	ck_channel_send(ch, &f);
}

void ck_channel_send_data(CkChannel *ch, guint32 id, CkStream stream, const void *data, gsize len)
{
	const guint8 *p = data;

	/* split into frames of at most CK_FRAME_MAX_DATA */
	while (len > 0) {
		gsize n = MIN(len, CK_FRAME_MAX_DATA);
		CkFrame f = {.type = CK_FRAME_DATA, .id = id, .stream = (guint8)stream, .len = (guint32)n, .payload = p};
		ck_channel_send(ch, &f);
		p += n;
		len -= n;
	}
}

void ck_channel_send_credit(CkChannel *ch, guint32 id, CkStream stream, guint32 bytes)
{
	guint8 be[4] = {(guint8)(bytes >> 24), (guint8)(bytes >> 16), (guint8)(bytes >> 8), (guint8)bytes};
	CkFrame f = {.type = CK_FRAME_CREDIT, .id = id, .stream = (guint8)stream, .len = 4, .payload = be};

	if (bytes > 0)
		ck_channel_send(ch, &f);
}

void ck_channel_send_eof(CkChannel *ch, guint32 id, CkStream stream)
{
	CkFrame f = {.type = CK_FRAME_EOF, .id = id, .stream = (guint8)stream};

	ck_channel_send(ch, &f);
}

gsize ck_channel_queued(CkChannel *ch)
{
	return ch->out->len - ch->out_offset;
}

gboolean ck_channel_is_closed(CkChannel *ch)
{
	return ch->closed;
}

int ck_channel_get_fd(CkChannel *ch)
{
	return ch->fd;
}

gboolean ck_channel_flush(CkChannel *ch, int timeout_ms, GError **error)
{
	gint64 deadline = timeout_ms < 0 ? -1 : g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (!ch->closed && ck_channel_queued(ch) > 0) {
		struct pollfd pfd = {.fd = ch->fd, .events = POLLOUT};
		int wait = deadline < 0 ? -1 : ck_deadline_remaining_ms(deadline);
		if (deadline >= 0 && wait == 0)
			return ck_set_error(error, CK_ERROR_TIMEOUT, "flushing channel: timed out");
		if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
			return ck_set_error_errno(error, errno, "poll");
		if (!channel_write_some(ch))
			break;
	}
	if (ch->closed)
		return ck_set_error(error, CK_ERROR_DISCONNECTED, "channel closed");
	return TRUE;
}

/* Delivers buffered frames; stops when paused or closed. */
static void channel_deliver(CkChannel *ch)
{
	while (!ch->closed && !ch->paused) {
		CkFrame f;
		GError *err = NULL;
		int r = ck_frame_reader_next(&ch->reader, &f, &err);
		if (r < 0) {
			channel_fail(ch, err);
			return;
		}
		if (r == 0)
			return;
		if (ch->on_frame != NULL)
			ch->on_frame(ch, &f, ch->user_data);
	}
}

static void channel_read(CkChannel *ch)
{
	/* straight into the reader's buffer */
	guint8 *buf = ck_frame_reader_reserve(&ch->reader, READ_CHUNK);
	ssize_t n = read(ch->fd, buf, READ_CHUNK);
	int errsv = errno;

	ck_frame_reader_commit(&ch->reader, READ_CHUNK, n > 0 ? (gsize)n : 0);
	if (n < 0) {
		if (errsv == EINTR || errsv == EAGAIN)
			return;
		GError *err = NULL;
		ck_set_error_errno(&err, errsv, "read");
		channel_fail(ch, err);
		return;
	}
	if (n == 0) {
		GError *err = NULL;
		if (ck_frame_reader_pending(&ch->reader) > 0)
			ck_set_error(&err, CK_ERROR_DISCONNECTED, "peer closed in the middle of a frame");
		channel_fail(ch, err);
		return;
	}
	channel_deliver(ch);
}

static void channel_dispatch_io(CkChannel *ch, GIOCondition revents)
{
	ch->ref++;
	if (ch->source != NULL)
		g_source_set_ready_time(ch->source, -1);
	if (revents & (G_IO_HUP | G_IO_ERR))
		ch->hup_seen = TRUE;
	if (!ch->closed && (revents & G_IO_OUT)) {
		if (channel_write_some(ch) && ck_channel_queued(ch) == 0 && ch->on_drained != NULL)
			ch->on_drained(ch, ch->user_data);
	}
	if (!ch->closed && !ch->paused) {
		/* frames left over from before a pause come first */
		channel_deliver(ch);
		if (!ch->closed && !ch->paused && (revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)))
			channel_read(ch);
	}
	update_condition(ch);
	channel_unref(ch);
}
