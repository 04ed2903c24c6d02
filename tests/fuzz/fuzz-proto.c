/* fuzz-proto: the wire protocol as the host receives it from a guest
 * (docs/protocol.md; agent/proto, vmctl/lib/agent-client.c,
 * vmctl/lib/guest-process.c, conmon-kata/pod-mux.c).
 *
 * A compromised guest can write anything on the agent channel, so the
 * host's decoder is a security boundary. The input is that byte stream,
 * or, when it does not start with the frame magic 0xC7, the same stream
 * in a text form whose frame lengths are computed (see stream_from_text),
 * so that mutations can change a payload without breaking its frame. It
 * goes through two paths:
 *
 *   1. The codec alone. The stream is decoded by one CkFrameReader fed all
 *      at once and by another fed in pieces (sizes drawn from a hash of the
 *      input): both must yield the same frames and the same verdict, every
 *      frame re-encoded must give back its bytes, and every JSON payload
 *      goes through the request/response/event parsers and then the typed
 *      decoders of proto/ck-ops.h (a response through every result type).
 *
 *   2. The host stack, as a pod monitor runs it: an AgentClient on a
 *      socketpair whose other end we write the input into, with a PodMux
 *      that has one client, a GuestProcess (handle 5) waiting for its exit,
 *      and three requests in flight, so that replies find their callers:
 *        id 1  wait_process for handle 5 (GuestProcess)
 *        id 2  version (a plain call)
 *        id 3  exec_process forwarded for the mux's client (a reply with a
 *              "handle" makes the client the owner of that process)
 *      and a forwarded port connection (ck-sock-relay.h, as the pod
 *      monitor's portfwd.c relays one) on handle 11, whose socket has
 *      bytes to send and whose application never reads: whatever the guest
 *      sends, the relay buffers at most one window and ends at most once.
 *      The stream is written in the same pieces, the main context runs
 *      after each, and at the end the "guest" hangs up. The callbacks
 *      check what they are promised (exactly one of result and error, a
 *      closed handler called once, output only on stdout or stderr), and
 *      the mux's client must receive every event the mux took from the
 *      guest and one response, under its own request id.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "proto/ck-frame.h"
#include "proto/ck-message.h"
#include "proto/ck-sock-relay.h"
#include "lib/agent-client.h"
#include "lib/guest-process.h"
#include "conmon-kata/pod-mux.h"
#include "fuzz.h"

#define PROCESS_HANDLE 5
#define PORT_HANDLE 11

/* ---- 1. the codec -------------------------------------------------------- */

typedef struct {
	CkFrameType type;
	guint8 stream;
	guint32 id, len;
	guint64 hash; /* of the payload */
} FrameRecord;

static guint64 hash_bytes(const guint8 *p, gsize n)
{
	guint64 h = 0xcbf29ce484222325ull;

	for (gsize i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* The sizes of the pieces the stream is written in: 1 to 4096 bytes,
 * small ones frequent, from a hash of the whole input. */
static gsize next_piece(guint64 *state, gsize left)
{
	gsize n;

	*state = *state * 6364136223846793005ull + 1442695040888963407ull;
	n = (*state >> 60) < 8 ? 1 + ((*state >> 33) % 16) : 1 + ((*state >> 33) % 4096);
	return MIN(n, left);
}

/* The typed decoders on what parsed (ck-ops.h): a verdict with an error
 * exactly when it fails, and whatever was decoded freed by its clear. */
static void check_typed(const CkMsgType *type, yajl_val obj, CkJsonMode mode)
{
	g_autoptr(GError) error = NULL;
	g_autofree gpointer msg = g_malloc0(type->size);
	gboolean ok = ck_msg_decode(type, obj, msg, mode, &error);

	fuzz_check(ok == (error == NULL), "%s: decoded with an error, or failed without one", type->what);
	ck_msg_clear(type, msg);
}

static void check_typed_frame(CkFrameType type, const char *name, yajl_val tree, yajl_val result)
{
	CkEvent ev = ck_event_from_name(name);
	CkOp op = ck_op_from_name(name);

	if (type == CK_FRAME_REQUEST && op != CK_OP_UNKNOWN && ck_op_info(op)->args != NULL)
		check_typed(ck_op_info(op)->args, tree, CK_JSON_STRICT);
	if (type == CK_FRAME_EVENT && ev != CK_EVENT_UNKNOWN)
		check_typed(ck_event_type(ev), tree, CK_JSON_LENIENT);
	/* a response does not say what it answers: every result type */
	for (int i = 0; type == CK_FRAME_RESPONSE && i < CK_OP_COUNT; i++)
		if (ck_op_info((CkOp)i)->result != NULL)
			check_typed(ck_op_info((CkOp)i)->result, result, CK_JSON_LENIENT);
}

static void check_json_frame(const CkFrame *f)
{
	g_autoptr(GError) error = NULL;
	g_auto(yajl_val) tree = NULL;
	const char *name = NULL;
	yajl_val result = NULL;
	gboolean ok;

	switch (f->type) {
	case CK_FRAME_REQUEST:
		ok = ck_msg_parse_request(f, &tree, &name, &error);
		fuzz_check(ok == (error == NULL) && (!ok || (tree != NULL && name != NULL)), "request: bad outcome");
		break;
	case CK_FRAME_RESPONSE:
		ok = ck_msg_parse_response(f, &tree, &result, &error);
		fuzz_check(ok == (error == NULL) && (!ok || (tree != NULL && YAJL_IS_OBJECT(result))),
			   "response: bad outcome");
		if (!ok)
			(void)ck_error_category(error);
		break;
	case CK_FRAME_EVENT:
		ok = ck_msg_parse_event(f, &tree, &name, &error);
		fuzz_check(ok == (error == NULL) && (!ok || (tree != NULL && name != NULL)), "event: bad outcome");
		break;
	default:
		return;
	}
	if (ok)
		check_typed_frame(f->type, name, tree, result);
}

/* Decodes everything available; returns -1 (protocol error) or 0. */
static int drain_reader(CkFrameReader *r, GArray *out, gboolean deep)
{
	for (;;) {
		CkFrame f;
		g_autoptr(GError) error = NULL;
		int rc = ck_frame_reader_next(r, &f, &error);
		if (rc < 0) {
			fuzz_check(error != NULL && g_error_matches(error, CK_ERROR, CK_ERROR_INVALID),
				   "frame reader failed without a CK_ERROR_INVALID error");
			return -1;
		}
		fuzz_check(error == NULL, "frame reader set an error and went on");
		if (rc == 0)
			return 0;
		fuzz_check(f.type > 0 && f.type < CK_FRAME_TYPE_MAX && f.stream < CK_STREAM_MAX,
			   "frame type or stream out of range");
		FrameRecord rec;
		memset(&rec, 0, sizeof rec); /* the padding too: records are compared with memcmp */
		rec.type = f.type;
		rec.stream = f.stream;
		rec.id = f.id;
		rec.len = f.len;
		rec.hash = hash_bytes(f.payload, f.len);
		g_array_append_val(out, rec);
		if (!deep)
			continue;

		/* the frame encodes back to exactly its bytes */
		g_autoptr(GByteArray) enc = g_byte_array_new();
		ck_frame_append(enc, &f);
		fuzz_check(enc->len == CK_FRAME_HEADER_SIZE + f.len, "re-encoded frame has the wrong length");
		fuzz_check(memcmp(enc->data + CK_FRAME_HEADER_SIZE, f.payload, f.len) == 0, "payload changed");
		CkFrame back;
		fuzz_check(ck_frame_header_decode(enc->data, &back, NULL) && back.type == f.type && back.id == f.id &&
				   back.len == f.len && back.stream == f.stream,
			   "re-encoded header decodes differently");
		if (f.type == CK_FRAME_CREDIT)
			fuzz_check(ck_frame_credit_value(&f) > 0, "a credit of 0 passed validation");
		check_json_frame(&f);
	}
}

static void fuzz_codec(const uint8_t *data, size_t size)
{
	CkFrameReader whole, pieces;
	g_autoptr(GArray) a = g_array_new(FALSE, FALSE, sizeof(FrameRecord));
	g_autoptr(GArray) b = g_array_new(FALSE, FALSE, sizeof(FrameRecord));
	guint64 state = hash_bytes(data, size);
	int ra, rb = 0;

	ck_frame_reader_init(&whole);
	ck_frame_reader_feed(&whole, data, size);
	ra = drain_reader(&whole, a, TRUE);

	ck_frame_reader_init(&pieces);
	for (gsize off = 0; off < size && rb == 0;) {
		gsize n = next_piece(&state, size - off);
		ck_frame_reader_feed(&pieces, data + off, n);
		off += n;
		rb = drain_reader(&pieces, b, FALSE);
	}
	fuzz_check(ra == rb, "whole and piecewise decoding disagree about the stream's validity");
	fuzz_check(a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len * sizeof(FrameRecord)) == 0),
		   "whole and piecewise decoding yield different frames");
	if (ra == 0)
		fuzz_check(ck_frame_reader_pending(&whole) == ck_frame_reader_pending(&pieces),
			   "whole and piecewise decoding leave different remainders");
	ck_frame_reader_clear(&whole);
	ck_frame_reader_clear(&pieces);
}

/* ---- 2. the host stack ----------------------------------------------------- */

typedef struct {
	int closed_calls;
	int exit_calls;
	int version_calls;
	int mux_events;	      /* events the multiplexer took from the guest */
	int client_events;    /* events its client received */
	int client_responses; /* responses its client received */
	CkFrameReader client; /* what the multiplexer sent its client */
	CkSockRelay *relay;   /* the port connection on PORT_HANDLE */
	int relay_done_calls;
} HostState;

static void on_relay_done(CkSockRelay *relay, const char *reason, gpointer data)
{
	HostState *st = data;

	(void)relay;
	(void)reason;
	st->relay_done_calls++;
	fuzz_check(st->relay_done_calls == 1, "a port relay ended twice");
}

static void on_port_stream(AgentClient *c, const CkFrame *frame, gpointer data)
{
	HostState *st = data;

	(void)c;
	fuzz_check(frame->id == PORT_HANDLE, "port frame for handle %u", frame->id);
	ck_sock_relay_handle_frame(st->relay, frame);
	fuzz_check(ck_sock_relay_buffered(st->relay) <= CK_STREAM_WINDOW, "a port relay buffers %zu bytes",
		   ck_sock_relay_buffered(st->relay));
}

static void on_closed(AgentClient *c, const GError *error, gpointer data)
{
	HostState *st = data;

	(void)c;
	fuzz_check(error != NULL, "closed handler without a reason");
	st->closed_calls++;
	fuzz_check(st->closed_calls == 1, "closed handler called twice");
}

static void on_version(AgentClient *c, yajl_val result, const GError *error, gpointer data)
{
	HostState *st = data;
	gint64 v = 0;

	(void)c;
	st->version_calls++;
	fuzz_check(st->version_calls == 1, "reply callback called twice");
	fuzz_check((result == NULL) != (error == NULL), "reply with both or neither of result and error");
	if (result != NULL) {
		/* what `vmctl debug boot` reads of it */
		(void)ck_json_as_int64(ck_json_get(result, "protocol"), &v);
		(void)ck_json_get(result, "kernel_release");
	}
}

static void on_output(GuestProcess *p, CkStream stream, const guint8 *data, gsize len, gpointer user_data)
{
	(void)p;
	(void)user_data;
	fuzz_check(stream == CK_STREAM_STDOUT || stream == CK_STREAM_STDERR, "output on stream %d", stream);
	fuzz_check(len == 0 || data != NULL, "output without data");
}

static void on_exit_cb(GuestProcess *p, const GuestExit *exit, const GError *error, gpointer data)
{
	HostState *st = data;

	(void)p;
	st->exit_calls++;
	fuzz_check(st->exit_calls == 1, "exit callback called twice");
	fuzz_check((exit == NULL) != (error == NULL), "exit with both or neither of status and error");
}

/* Called by the multiplexer after it has relayed an event to its clients. */
static void on_mux_event(CkEvent event, yajl_val body, gpointer data)
{
	HostState *st = data;

	fuzz_check(event <= CK_EVENT_UNKNOWN && body != NULL, "event without a name or body");
	st->mux_events++;
}

/* What the multiplexer sends its client: every event, and the response to
 * the client's one request (id 7), under the client's own id. */
static void read_client(HostState *st, const guint8 *buf, gsize len)
{
	CkFrame f;
	int rc;

	ck_frame_reader_feed(&st->client, buf, len);
	while ((rc = ck_frame_reader_next(&st->client, &f, NULL)) == 1) {
		if (f.type == CK_FRAME_EVENT)
			st->client_events++;
		if (f.type == CK_FRAME_RESPONSE) {
			fuzz_check(f.id == 7, "the multiplexer answered its client under id %u", f.id);
			st->client_responses++;
			fuzz_check(st->client_responses == 1, "the client got two responses to one request");
		}
	}
	fuzz_check(rc == 0, "the multiplexer sent its client an invalid frame");
}

/* Runs the main context until nothing is ready. What the host wrote
 * towards the guest is thrown away, what the multiplexer sent its client
 * is checked. */
static void pump(int guest_fd, int client_fd, HostState *st)
{
	guint8 buf[16384];
	ssize_t n;

	for (int round = 0; round < 1000; round++) {
		gboolean busy = FALSE;
		while (g_main_context_iteration(NULL, FALSE))
			busy = TRUE;
		while (guest_fd >= 0 && recv(guest_fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
			busy = TRUE;
		while (client_fd >= 0 && (n = recv(client_fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
			read_client(st, buf, (gsize)n);
			busy = TRUE;
		}
		if (!busy)
			return;
	}
	fuzz_fail("the main context never goes idle");
}

static void send_all(int fd, const guint8 *data, gsize len, int client_fd, HostState *st)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			pump(fd, client_fd, st);
			continue;
		}
		if (n < 0)
			return; /* the host closed its end after a bad frame */
		data += n;
		len -= (gsize)n;
	}
}

static void client_request(int client_fd, guint32 id, const char *json, HostState *st)
{
	CkFrame f = {.type = CK_FRAME_REQUEST, .id = id, .len = (guint32)strlen(json), .payload = (const guint8 *)json};
	g_autoptr(GByteArray) buf = g_byte_array_new();

	ck_frame_append(buf, &f);
	send_all(client_fd, buf->data, buf->len, -1, st);
}

static void fuzz_host(const uint8_t *data, size_t size)
{
	g_autofree char *sock = g_build_filename(fuzz_tmpdir(), "mux.sock", NULL);
	g_autoptr(GError) error = NULL;
	HostState st = {0};
	int sv[2];
	guint64 state = hash_bytes(data, size);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		fuzz_fail("socketpair: %s", g_strerror(errno));
	ck_frame_reader_init(&st.client);
	AgentClient *agent = agent_client_new(sv[0], NULL);
	agent_client_set_closed_func(agent, on_closed, &st);
	PodMux *mux = pod_mux_new(agent, sock, &error);
	fuzz_check(mux != NULL, "pod_mux_new: %s", error ? error->message : "?");
	pod_mux_set_event_func(mux, on_mux_event, &st);
	int client_fd = pod_mux_connect_pair(mux, &error);
	fuzz_check(client_fd >= 0, "pod_mux_connect_pair: %s", error ? error->message : "?");

	GuestProcess *proc = guest_process_new(agent, PROCESS_HANDLE, on_output, on_exit_cb, &st); /* id 1 */
	g_autoptr(CkJsonGen) version = ck_msg_request_begin(CK_OP_VERSION);
	ck_json_kv_int(version, "protocol", CK_PROTO_VERSION);
	agent_client_call_async(agent, version, on_version, &st); /* id 2 */
	client_request(client_fd, 7, "{\"op\":\"exec_process\",\"id\":\"c1\",\"exec_id\":\"e1\"}", &st);
	pump(sv[1], client_fd, &st); /* the mux forwards it: id 3 */
	guest_process_write_stdin(proc, "input", 5);
	int app[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, app) < 0)
		fuzz_fail("socketpair: %s", g_strerror(errno));
	st.relay = ck_sock_relay_new(app[1], agent_client_get_channel(agent), PORT_HANDLE, CK_STREAM_STDIN,
				     CK_STREAM_STDOUT, on_relay_done, &st);
	agent_client_set_stream_func(agent, PORT_HANDLE, on_port_stream, &st);
	if (send(app[0], "request", 7, MSG_NOSIGNAL) != 7)
		fuzz_fail("send: %s", g_strerror(errno));

	for (gsize off = 0; off < size && !agent_client_is_closed(agent);) {
		gsize n = next_piece(&state, size - off);
		send_all(sv[1], data + off, n, client_fd, &st);
		off += n;
		pump(sv[1], client_fd, &st);
	}
	/* the guest hangs up: every request still pending fails */
	shutdown(sv[1], SHUT_WR);
	pump(sv[1], client_fd, &st);
	fuzz_check(agent_client_is_closed(agent), "the agent client did not notice the end of the stream");
	fuzz_check(st.closed_calls == 1, "closed handler not called");
	fuzz_check(st.version_calls == 1, "the version request was never answered nor failed");
	fuzz_check(st.exit_calls == 1, "the process's wait was never answered nor failed");
	/* pod-mux.h: "events go to every client" */
	fuzz_check(st.client_events == st.mux_events, "%d events taken from the guest, %d relayed to the client",
		   st.mux_events, st.client_events);

	guest_process_free(proc);
	agent_client_remove_stream_func(agent, PORT_HANDLE);
	ck_sock_relay_free(st.relay);
	close(app[0]);
	pod_mux_free(mux);
	agent_client_free(agent);
	close(client_fd);
	close(sv[1]);
	pump(-1, -1, &st);
	ck_frame_reader_clear(&st.client);
}

/* ---- the text form ------------------------------------------------------------ */

/* Frame types by letter: Q request, R response, E event, D data, C credit,
 * O eof (end of stream). */
static CkFrameType type_of_letter(char c)
{
	static const char letters[] = " QREDCO";
	const char *hit = c != '\0' && c != ' ' ? strchr(letters, c) : NULL;

	return hit != NULL ? (CkFrameType)(hit - letters) : 0;
}

/* One line "<letter><stream digit><id> <payload>" as a frame with the
 * right length; FALSE for a line that is not one. Data payloads take C
 * escapes (\n, \001), credit payloads are a decimal count. */
static gboolean append_text_frame(GByteArray *out, const char *line)
{
	CkFrameType type = type_of_letter(line[0]);
	const char *sp = strchr(line, ' ');
	g_autofree char *payload = NULL;
	guint8 credit[4];
	CkFrame f = {.type = type};

	if (type == 0 || !g_ascii_isdigit(line[1]) || sp == NULL)
		return FALSE;
	f.stream = (guint8)(line[1] - '0');
	f.id = (guint32)g_ascii_strtoull(line + 2, NULL, 10);
	if (type == CK_FRAME_CREDIT) {
		guint32 n = (guint32)g_ascii_strtoull(sp + 1, NULL, 10);
		credit[0] = (guint8)(n >> 24), credit[1] = (guint8)(n >> 16), credit[2] = (guint8)(n >> 8),
		credit[3] = (guint8)n;
		f.payload = credit;
		f.len = 4;
	} else {
		payload = type == CK_FRAME_DATA ? g_strcompress(sp + 1) : g_strdup(sp + 1);
		f.payload = (const guint8 *)payload;
		f.len = (guint32)strlen(payload);
	}
	ck_frame_append(out, &f);
	return TRUE;
}

/* Mutating a binary stream changes a payload only if the length in its
 * header changes too, which almost never happens; so an input that does
 * not start with the frame magic is the stream in text, one frame a line,
 * and the lengths are computed here. Lines that are not frames are
 * skipped; a data payload that ends in a lone backslash loses it. */
static GByteArray *stream_from_text(const uint8_t *data, size_t size)
{
	GByteArray *out = g_byte_array_new();
	FuzzInput in;

	fuzz_input_init(&in, data, size);
	while (in.left > 0) {
		gsize len;
		const guint8 *l = fuzz_take_until(&in, '\n', &len);
		g_autofree char *line = g_strndup((const char *)l, len);
		gsize n = strlen(line), backslashes = 0;
		while (backslashes < n && line[n - 1 - backslashes] == '\\')
			backslashes++;
		if (backslashes % 2)
			line[n - 1] = '\0';
		(void)append_text_frame(out, line);
	}
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_init();
	if (size > 0 && data[0] != CK_FRAME_MAGIC) {
		g_autoptr(GByteArray) stream = stream_from_text(data, size);
		data = stream->data;
		size = stream->len;
		fuzz_codec(data, size);
		fuzz_host(data, size);
		return 0;
	}
	fuzz_codec(data, size);
	fuzz_host(data, size);
	return 0;
}
