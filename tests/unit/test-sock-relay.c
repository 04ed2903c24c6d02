/* Unit tests: ck-sock-relay, the socket <-> stream relay of port forwarding,
 * between a real socketpair (the "application" side) and a real channel
 * whose far end the test drives as the peer: bytes and credit, half-close
 * in both directions, and the resets a misbehaving peer gets. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "base/ck-cleanup.h"
#include "base/ck-io.h"
#include "proto/ck-channel.h"
#include "proto/ck-sock-relay.h"

#define HANDLE 7

typedef struct {
	int app;	 /* the application's end of the relayed socket */
	CkChannel *ch;	 /* the relay's channel */
	CkChannel *peer; /* the test, as the other end */
	CkSockRelay *relay;
	GByteArray *data; /* DATA received by the peer on stream 1 */
	guint32 credit;	  /* CREDIT received on stream 0 */
	gboolean eof[3];  /* EOF received per stream */
	gboolean done;
	char *reason;
} Fixture;

static void on_peer_frame(CkChannel *ch, const CkFrame *frame, gpointer data)
{
	Fixture *f = data;

	(void)ch;
	g_assert_cmpuint(frame->id, ==, HANDLE);
	if (frame->type == CK_FRAME_DATA) {
		g_assert_cmpuint(frame->stream, ==, CK_STREAM_STDOUT);
		g_byte_array_append(f->data, frame->payload, frame->len);
	} else if (frame->type == CK_FRAME_CREDIT) {
		g_assert_cmpuint(frame->stream, ==, CK_STREAM_STDIN);
		f->credit += ck_frame_credit_value(frame);
	} else if (frame->type == CK_FRAME_EOF) {
		f->eof[frame->stream] = TRUE;
	}
}

/* The relay's side: frames from the peer go to the relay. */
static void on_relay_frame(CkChannel *ch, const CkFrame *frame, gpointer data)
{
	Fixture *f = data;

	(void)ch;
	if (f->relay != NULL)
		ck_sock_relay_handle_frame(f->relay, frame);
}

static void on_closed(CkChannel *ch, const GError *error, gpointer data)
{
	(void)ch;
	(void)error;
	(void)data;
}

static void on_done(CkSockRelay *relay, const char *reason, gpointer data)
{
	Fixture *f = data;

	(void)relay;
	f->done = TRUE;
	f->reason = g_strdup(reason);
}

static void setup(Fixture *f, gconstpointer unused)
{
	int app[2], ch[2];

	(void)unused;
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, app), ==, 0);
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ch), ==, 0);
	f->app = app[0];
	f->ch = ck_channel_new(ch[0], NULL, on_relay_frame, on_closed, f);
	f->peer = ck_channel_new(ch[1], NULL, on_peer_frame, on_closed, f);
	f->data = g_byte_array_new();
	f->relay = ck_sock_relay_new(app[1], f->ch, HANDLE, CK_STREAM_STDOUT, CK_STREAM_STDIN, on_done, f);
}

static void teardown(Fixture *f, gconstpointer unused)
{
	(void)unused;
	ck_sock_relay_free(f->relay);
	ck_channel_free(f->peer);
	ck_channel_free(f->ch);
	ck_close_fdp(&f->app);
	g_byte_array_unref(f->data);
	g_free(f->reason);
}

/* Runs the loop until cond holds (or fails after 5 s). */
#define RUN_UNTIL(cond)                                                         \
	do {                                                                    \
		gint64 deadline_ = g_get_monotonic_time() + 5 * G_USEC_PER_SEC; \
		while (!(cond)) {                                               \
			g_assert_cmpint(g_get_monotonic_time(), <, deadline_);  \
			g_main_context_iteration(NULL, FALSE);                  \
			g_usleep(1000);                                         \
		}                                                               \
	} while (0)

static void read_app(Fixture *f, char *buf, gsize len)
{
	gsize got = 0;

	while (got < len) {
		g_main_context_iteration(NULL, FALSE);
		ssize_t n = recv(f->app, buf + got, len - got, MSG_DONTWAIT);
		if (n > 0)
			got += (gsize)n;
		g_assert_true(n > 0 || errno == EAGAIN);
	}
}

static void test_both_ways(Fixture *f, gconstpointer unused)
{
	char buf[16];

	(void)unused;
	g_assert_cmpint(write(f->app, "hello", 5), ==, 5);
	RUN_UNTIL(f->data->len == 5);
	g_assert_cmpmem(f->data->data, 5, "hello", 5);

	ck_channel_send_data(f->peer, HANDLE, CK_STREAM_STDIN, "world", 5);
	read_app(f, buf, 5);
	g_assert_cmpmem(buf, 5, "world", 5);
	RUN_UNTIL(f->credit == 5);

	/* the application half-closes: EOF on stream 1, nothing ends yet */
	g_assert_cmpint(shutdown(f->app, SHUT_WR), ==, 0);
	RUN_UNTIL(f->eof[CK_STREAM_STDOUT]);
	g_assert_false(f->done);
	/* the peer half-closes: the application reads its end, the relay is done */
	ck_channel_send_eof(f->peer, HANDLE, CK_STREAM_STDIN);
	RUN_UNTIL(f->done);
	g_assert_null(f->reason);
	g_assert_cmpint(recv(f->app, buf, sizeof buf, 0), ==, 0);
	g_assert_false(f->eof[CK_STREAM_STDERR]);
}

/* Credit beyond what was sent is a broken peer: reset both ways. */
static void test_credit_beyond_window(Fixture *f, gconstpointer unused)
{
	(void)unused;
	ck_channel_send_credit(f->peer, HANDLE, CK_STREAM_STDOUT, 1);
	RUN_UNTIL(f->done);
	g_assert_cmpstr(f->reason, ==, "credit of 1 bytes beyond the window");
	RUN_UNTIL(f->eof[CK_STREAM_STDERR]);
}

static void test_data_on_wrong_stream(Fixture *f, gconstpointer unused)
{
	(void)unused;
	ck_channel_send_data(f->peer, HANDLE, CK_STREAM_STDOUT, "x", 1);
	RUN_UNTIL(f->done);
	g_assert_cmpstr(f->reason, ==, "data on stream 1");
	RUN_UNTIL(f->eof[CK_STREAM_STDERR]);
}

static void test_data_after_eof(Fixture *f, gconstpointer unused)
{
	(void)unused;
	ck_channel_send_eof(f->peer, HANDLE, CK_STREAM_STDIN);
	ck_channel_send_data(f->peer, HANDLE, CK_STREAM_STDIN, "x", 1);
	RUN_UNTIL(f->done);
	g_assert_cmpstr(f->reason, ==, "data after end of stream");
}

/* Reading stops at the window: the application's bytes beyond it wait
 * in its socket until credit comes. */
static void test_window_stops_reading(Fixture *f, gconstpointer unused)
{
	gsize total = CK_STREAM_WINDOW + 4096;
	g_autofree guint8 *buf = g_malloc(total);

	(void)unused;
	memset(buf, 'w', total);
	g_assert_true(ck_set_nonblock(f->app, TRUE, NULL));
	gsize sent = 0;
	while (sent < total) {
		ssize_t n = send(f->app, buf + sent, total - sent, 0);
		if (n > 0)
			sent += (gsize)n;
		g_main_context_iteration(NULL, FALSE);
	}
	RUN_UNTIL(f->data->len == CK_STREAM_WINDOW);
	for (int i = 0; i < 50; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpuint(f->data->len, ==, CK_STREAM_WINDOW);
	ck_channel_send_credit(f->peer, HANDLE, CK_STREAM_STDOUT, 4096);
	RUN_UNTIL(f->data->len == total);
	g_assert_false(f->done);
}

/* The peer's reset: the relay ends, and freeing it resets the socket. */
static void test_peer_reset(Fixture *f, gconstpointer unused)
{
	char c;

	(void)unused;
	ck_channel_send_eof(f->peer, HANDLE, CK_STREAM_STDERR);
	RUN_UNTIL(f->done);
	g_assert_cmpstr(f->reason, ==, "reset by the peer");
	g_clear_pointer(&f->relay, ck_sock_relay_free);
	/* an AF_UNIX socket has no RST: its peer sees the end */
	g_assert_cmpint(recv(f->app, &c, 1, 0), ==, 0);
	g_assert_false(f->eof[CK_STREAM_STDERR]);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, setup, fn, teardown)
	ADD("/sock-relay/both-ways", test_both_ways);
	ADD("/sock-relay/window-stops-reading", test_window_stops_reading);
	ADD("/sock-relay/credit-beyond-window", test_credit_beyond_window);
	ADD("/sock-relay/data-on-wrong-stream", test_data_on_wrong_stream);
	ADD("/sock-relay/data-after-eof", test_data_after_eof);
	ADD("/sock-relay/peer-reset", test_peer_reset);
	return g_test_run();
}
