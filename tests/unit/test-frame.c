/* Unit tests: wire framing (ck-frame), messages (ck-message) and the
 * channel (ck-channel) over a real socketpair. */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "base/ck-error.h"
#include "proto/ck-channel.h"
#include "proto/ck-frame.h"
#include "proto/ck-message.h"

static void test_header_roundtrip(void)
{
	const guint8 payload[] = "{\"op\":\"ping\"}";
	CkFrame in = {.type = CK_FRAME_REQUEST, .id = 0x01020304, .len = sizeof payload - 1, .payload = payload};
	guint8 hdr[CK_FRAME_HEADER_SIZE];
	CkFrame out;
	g_autoptr(GError) error = NULL;

	ck_frame_header_encode(&in, hdr);
	g_assert_cmpuint(hdr[0], ==, CK_FRAME_MAGIC);
	g_assert_cmpuint(hdr[1], ==, CK_FRAME_REQUEST);
	g_assert_cmpuint(hdr[4], ==, 0x01);
	g_assert_cmpuint(hdr[7], ==, 0x04);
	g_assert_cmpuint(hdr[11], ==, sizeof payload - 1);
	g_assert_true(ck_frame_header_decode(hdr, &out, &error));
	g_assert_no_error(error);
	g_assert_cmpint(out.type, ==, CK_FRAME_REQUEST);
	g_assert_cmpuint(out.id, ==, 0x01020304);
	g_assert_cmpuint(out.len, ==, sizeof payload - 1);
}

typedef struct {
	guint8 hdr[CK_FRAME_HEADER_SIZE];
	const char *message;
} BadHeader;

static void test_header_rejects(void)
{
	static const BadHeader cases[] = {
		{{0x00, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2}, "frame: bad magic 0x00"},
		{{0xC7, 9, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2}, "frame: unknown type 9"},
		{{0xC7, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2}, "frame: unknown type 0"},
		{{0xC7, 1, 0, 4, 0, 0, 0, 1, 0, 0, 0, 2}, "frame: unknown flags 0x04"},
		{{0xC7, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 2}, "frame: request: stream must be 0"},
		{{0xC7, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, "frame: request: id 0"},
		{{0xC7, 3, 0, 0, 0, 0, 0, 5, 0, 0, 0, 2}, "frame: event: id must be 0"},
		{{0xC7, 1, 0, 0, 0, 0, 0, 1, 0, 0x10, 0, 1}, "frame: request: length 1048577 over 1048576"},
		{{0xC7, 4, 3, 0, 0, 0, 0, 1, 0, 0, 0, 2}, "frame: data: bad stream 3"},
		{{0xC7, 4, 1, 0, 0, 0, 0, 1, 0, 1, 0, 1}, "frame: data: length 65537 over 65536"},
		{{0xC7, 5, 0, 0, 0, 0, 0, 1, 0, 0, 0, 8}, "frame: credit: length 8, expected 4"},
		{{0xC7, 6, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1}, "frame: eof: length 1, expected 0"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		CkFrame f;
		g_assert_false(ck_frame_header_decode(cases[i].hdr, &f, &error));
		g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
		g_assert_cmpstr(error->message, ==, cases[i].message);
	}
}

/* Frames split at every possible byte boundary come out whole and in order. */
/* Feeds n bytes either by copy or, as the channel reads, into reserved
 * room larger than what arrives. */
static void reader_take(CkFrameReader *r, const guint8 *data, gsize n, gboolean reserve)
{
	if (!reserve) {
		ck_frame_reader_feed(r, data, n);
		return;
	}
	guint8 *room = ck_frame_reader_reserve(r, n + 7);
	memcpy(room, data, n);
	ck_frame_reader_commit(r, n + 7, n);
}

static void test_reader_any_split(void)
{
	g_autoptr(GByteArray) wire = g_byte_array_new();
	const char *json = "{\"op\":\"version\"}";
	guint8 data[300];
	guint8 credit[4] = {0, 0, 0x10, 0};

	for (gsize i = 0; i < sizeof data; i++)
		data[i] = (guint8)i;
	CkFrame frames[] = {
		{.type = CK_FRAME_REQUEST, .id = 7, .len = (guint32)strlen(json), .payload = (const guint8 *)json},
		{.type = CK_FRAME_DATA, .id = 3, .stream = CK_STREAM_STDERR, .len = sizeof data, .payload = data},
		{.type = CK_FRAME_CREDIT, .id = 3, .stream = CK_STREAM_STDOUT, .len = 4, .payload = credit},
		{.type = CK_FRAME_EOF, .id = 3, .stream = CK_STREAM_STDIN},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(frames); i++)
		ck_frame_append(wire, &frames[i]);

	for (gsize split = 1; split < wire->len; split++) {
		CkFrameReader r;
		gsize got = 0;
		ck_frame_reader_init(&r);
		for (gsize off = 0; off < wire->len; off += split) {
			reader_take(&r, wire->data + off, MIN(split, wire->len - off), split % 2 == 1);
			CkFrame f;
			g_autoptr(GError) error = NULL;
			int rc;
			while ((rc = ck_frame_reader_next(&r, &f, &error)) == 1) {
				g_assert_cmpint(f.type, ==, frames[got].type);
				g_assert_cmpuint(f.id, ==, frames[got].id);
				g_assert_cmpuint(f.stream, ==, frames[got].stream);
				g_assert_cmpmem(f.payload, f.len, frames[got].payload, frames[got].len);
				got++;
			}
			g_assert_cmpint(rc, ==, 0);
		}
		g_assert_cmpuint(got, ==, G_N_ELEMENTS(frames));
		g_assert_cmpuint(ck_frame_reader_pending(&r), ==, 0);
		ck_frame_reader_clear(&r);
	}
	g_assert_cmpuint(ck_frame_credit_value(&frames[2]), ==, 0x1000);
}

static void test_reader_rejects_payload(void)
{
	CkFrameReader r;
	g_autoptr(GError) error = NULL;
	const guint8 zero[4] = {0};
	CkFrame credit0 = {.type = CK_FRAME_CREDIT, .id = 1, .len = 4, .payload = zero};
	CkFrame notjson = {.type = CK_FRAME_RESPONSE, .id = 1, .len = 2, .payload = (const guint8 *)"[]"};
	g_autoptr(GByteArray) wire = g_byte_array_new();
	CkFrame f;

	ck_frame_reader_init(&r);
	ck_frame_append(wire, &credit0);
	ck_frame_reader_feed(&r, wire->data, wire->len);
	g_assert_cmpint(ck_frame_reader_next(&r, &f, &error), ==, -1);
	g_assert_cmpstr(error->message, ==, "frame: credit of 0 bytes");
	ck_frame_reader_clear(&r);

	g_clear_error(&error);
	g_byte_array_set_size(wire, 0);
	ck_frame_reader_init(&r);
	ck_frame_append(wire, &notjson);
	ck_frame_reader_feed(&r, wire->data, wire->len);
	g_assert_cmpint(ck_frame_reader_next(&r, &f, &error), ==, -1);
	g_assert_cmpstr(error->message, ==, "frame: response: payload is not a JSON object");
	ck_frame_reader_clear(&r);
}

static CkFrame json_frame(CkFrameType type, guint32 id, const char *json)
{
	return (CkFrame){.type = type, .id = id, .len = (guint32)strlen(json), .payload = (const guint8 *)json};
}

static void test_message_request(void)
{
	g_autoptr(CkJsonGen) g = ck_msg_request_begin(CK_OP_VERSION);
	ck_json_kv_int(g, "protocol", 1);
	gsize len = 0;
	g_autofree char *doc = ck_msg_finish(g, &len);
	g_assert_cmpstr(doc, ==, "{\"op\":\"version\",\"protocol\":1}");

	CkFrame f = json_frame(CK_FRAME_REQUEST, 1, doc);
	g_auto(yajl_val) tree = NULL;
	const char *op = NULL;
	g_autoptr(GError) error = NULL;
	g_assert_true(ck_msg_parse_request(&f, &tree, &op, &error));
	g_assert_cmpstr(op, ==, "version");

	CkFrame bad = json_frame(CK_FRAME_REQUEST, 1, "{\"op\":3}");
	g_auto(yajl_val) tree2 = NULL;
	g_assert_false(ck_msg_parse_request(&bad, &tree2, &op, &error));
	g_assert_cmpstr(error->message, ==, "request: op: expected a string");
}

static void test_message_errors_roundtrip(void)
{
	g_autoptr(GError) orig = NULL;
	g_autoptr(GError) back = NULL;
	gsize len = 0;

	ck_set_error_errno(&orig, 2, "exec /bin/nope");
	g_autofree char *doc = ck_msg_error_response(orig, &len);
	g_assert_cmpstr(doc, ==,
			"{\"error\":{\"code\":\"not_found\",\"errno\":2,\"message\":\"exec /bin/nope: No such file or "
			"directory\"}}");

	CkFrame f = json_frame(CK_FRAME_RESPONSE, 9, doc);
	g_auto(yajl_val) tree = NULL;
	yajl_val result = NULL;
	g_assert_false(ck_msg_parse_response(&f, &tree, &result, &back));
	g_assert_error(back, CK_ERRNO_ERROR, 2);
	g_assert_true(ck_error_is(back, CK_ERROR_NOT_FOUND));
	g_assert_cmpstr(back->message, ==, "exec /bin/nope: No such file or directory");

	g_autoptr(GError) timeout = NULL;
	g_autoptr(GError) back2 = NULL;
	ck_set_error(&timeout, CK_ERROR_TIMEOUT, "too slow");
	g_autofree char *doc2 = ck_msg_error_response(timeout, &len);
	CkFrame f2 = json_frame(CK_FRAME_RESPONSE, 9, doc2);
	g_auto(yajl_val) tree2 = NULL;
	g_assert_false(ck_msg_parse_response(&f2, &tree2, &result, &back2));
	g_assert_error(back2, CK_ERROR, CK_ERROR_TIMEOUT);

	g_autoptr(CkJsonGen) g = ck_msg_result_begin();
	ck_json_kv_string(g, "x", "y");
	g_autofree char *ok = ck_msg_finish(g, &len);
	g_assert_cmpstr(ok, ==, "{\"result\":{\"x\":\"y\"}}");
	CkFrame f3 = json_frame(CK_FRAME_RESPONSE, 9, ok);
	g_auto(yajl_val) tree3 = NULL;
	g_autoptr(GError) none = NULL;
	g_assert_true(ck_msg_parse_response(&f3, &tree3, &result, &none));
	g_assert_cmpstr(ck_json_get(result, "x")->u.string, ==, "y");
}

typedef struct {
	GByteArray *received; /* DATA payloads, concatenated */
	guint frames;
	gboolean closed;
	gboolean closed_with_error;
} Sink;

static void sink_frame(CkChannel *ch, const CkFrame *f, gpointer data)
{
	Sink *s = data;

	(void)ch;
	s->frames++;
	if (f->type == CK_FRAME_DATA)
		g_byte_array_append(s->received, f->payload, f->len);
}

static void sink_closed(CkChannel *ch, const GError *error, gpointer data)
{
	Sink *s = data;

	(void)ch;
	s->closed = TRUE;
	s->closed_with_error = error != NULL;
}

/* 8 MiB through a socketpair with a tiny buffer: everything arrives, in
 * order, and the writer side never blocks the loop. */
static void test_channel_bulk(void)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
	int small = 4096;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);

	Sink a = {.received = g_byte_array_new()}, b = {.received = g_byte_array_new()};
	CkChannel *ca = ck_channel_new(sv[0], NULL, sink_frame, sink_closed, &a);
	CkChannel *cb = ck_channel_new(sv[1], NULL, sink_frame, sink_closed, &b);

	gsize total = 8 * 1024 * 1024;
	g_autofree guint8 *buf = g_malloc(total);
	for (gsize i = 0; i < total; i++)
		buf[i] = (guint8)(i * 7 + i / 251);
	ck_channel_send_data(ca, 5, CK_STREAM_STDOUT, buf, total);
	g_assert_cmpuint(ck_channel_queued(ca), >, 0);

	while (b.received->len < total)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpmem(b.received->data, b.received->len, buf, total);
	g_assert_cmpuint(b.frames, ==, total / CK_FRAME_MAX_DATA);

	/* closing one end is an orderly EOF on the other */
	ck_channel_free(ca);
	while (!b.closed)
		g_main_context_iteration(NULL, TRUE);
	g_assert_false(b.closed_with_error);
	ck_channel_free(cb);
	g_byte_array_unref(a.received);
	g_byte_array_unref(b.received);
}

/* Garbage on the wire fails the channel with a protocol error. */
static void test_channel_garbage(void)
{
	int sv[2];
	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
	Sink s = {.received = g_byte_array_new()};
	CkChannel *ch = ck_channel_new(sv[0], NULL, sink_frame, sink_closed, &s);

	g_assert_cmpint(write(sv[1], "GET / HTTP/1.0\r\n\r\n", 18), ==, 18);
	while (!s.closed)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(s.closed_with_error);
	g_assert_true(ck_channel_is_closed(ch));
	ck_channel_free(ch);
	close(sv[1]);
	g_byte_array_unref(s.received);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/frame/header-roundtrip", test_header_roundtrip);
	g_test_add_func("/frame/header-rejects", test_header_rejects);
	g_test_add_func("/frame/reader-any-split", test_reader_any_split);
	g_test_add_func("/frame/reader-rejects-payload", test_reader_rejects_payload);
	g_test_add_func("/message/request", test_message_request);
	g_test_add_func("/message/errors-roundtrip", test_message_errors_roundtrip);
	g_test_add_func("/channel/bulk-8MiB", test_channel_bulk);
	g_test_add_func("/channel/garbage", test_channel_garbage);
	return g_test_run();
}
