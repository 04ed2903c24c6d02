/* ck-frame: the wire framing between host and guest agent (docs/protocol.md).
 *
 * Every frame is a 12-byte header followed by a payload:
 *
 *   byte 0     magic 0xC7
 *   byte 1     type (CkFrameType)
 *   byte 2     stream: 0 stdin, 1 stdout, 2 stderr (DATA/CREDIT/EOF), else 0
 *   byte 3     flags, must be 0
 *   bytes 4-7  id, big-endian: the request id (REQUEST/RESPONSE), the
 *              process handle (DATA/CREDIT/EOF), 0 for EVENT
 *   bytes 8-11 payload length, big-endian
 *
 * REQUEST, RESPONSE and EVENT payloads are JSON objects of at most
 * CK_FRAME_MAX_JSON bytes; DATA payloads are raw bytes of at most
 * CK_FRAME_MAX_DATA; CREDIT carries a 4-byte big-endian byte count; EOF is
 * empty. Anything else is a protocol error and the connection is dropped:
 * there is no way to resynchronise a byte stream after a bad header.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CK_PROTO_VERSION 1
#define CK_FRAME_MAGIC 0xC7
#define CK_FRAME_HEADER_SIZE 12
#define CK_FRAME_MAX_JSON (1024u * 1024u)
#define CK_FRAME_MAX_DATA (64u * 1024u)

/* Initial flow-control window per process stream: how many bytes of output
 * (or input) may be in flight before the receiver returns CREDIT. */
#define CK_STREAM_WINDOW (256u * 1024u)

typedef enum {
	CK_FRAME_REQUEST = 1,
	CK_FRAME_RESPONSE = 2,
	CK_FRAME_EVENT = 3,
	CK_FRAME_DATA = 4,
	CK_FRAME_CREDIT = 5,
	CK_FRAME_EOF = 6,
	CK_FRAME_TYPE_MAX,
} CkFrameType;

typedef enum {
	CK_STREAM_STDIN = 0,
	CK_STREAM_STDOUT = 1,
	CK_STREAM_STDERR = 2,
	CK_STREAM_MAX,
} CkStream;

typedef struct {
	CkFrameType type;
	guint8 stream;
	guint32 id;
	guint32 len;
	const guint8 *payload; /* borrowed; valid during the callback only */
} CkFrame;

const char *ck_frame_type_to_string(CkFrameType type);

void ck_frame_header_encode(const CkFrame *frame, guint8 out[CK_FRAME_HEADER_SIZE]);

/* Validates and decodes a header (payload stays NULL). CK_ERROR_INVALID
 * with a message naming the bad field on a protocol violation. */
gboolean ck_frame_header_decode(const guint8 in[CK_FRAME_HEADER_SIZE], CkFrame *out, GError **error);

/* Checks a complete frame's payload against its type (CREDIT size, ...). */
gboolean ck_frame_validate_payload(const CkFrame *frame, GError **error);

/* Appends header + payload to buf. */
void ck_frame_append(GByteArray *buf, const CkFrame *frame);

/* Incremental decoder over a byte stream: feed bytes, take frames. */
typedef struct {
	GByteArray *buf;
	gsize offset; /* consumed bytes at the front of buf */
} CkFrameReader;

void ck_frame_reader_init(CkFrameReader *r);
void ck_frame_reader_clear(CkFrameReader *r);
void ck_frame_reader_feed(CkFrameReader *r, const guint8 *data, gsize len);

/* Room for up to len more bytes at the end of the buffer, to read into
 * directly (no copy through a buffer of the caller's); then
 * ck_frame_reader_commit with the count actually stored there (0..len). */
guint8 *ck_frame_reader_reserve(CkFrameReader *r, gsize len);
void ck_frame_reader_commit(CkFrameReader *r, gsize reserved, gsize used);

/* Returns 1 and fills *out (payload points into the reader, valid until the
 * next call) when a complete frame is available, 0 when more bytes are
 * needed, -1 with error on a protocol violation. */
int ck_frame_reader_next(CkFrameReader *r, CkFrame *out, GError **error);

/* Bytes buffered but not yet returned as frames. */
gsize ck_frame_reader_pending(const CkFrameReader *r);

guint32 ck_frame_credit_value(const CkFrame *frame);

G_END_DECLS
