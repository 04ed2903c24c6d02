/* ck-frame: header codec and incremental reader. */
#include "ck-frame.h"

#include <string.h>

#include "base/ck-error.h"

static const char *const type_names[CK_FRAME_TYPE_MAX] = {
	[CK_FRAME_REQUEST] = "request", [CK_FRAME_RESPONSE] = "response", [CK_FRAME_EVENT] = "event",
	[CK_FRAME_DATA] = "data",	[CK_FRAME_CREDIT] = "credit",	  [CK_FRAME_EOF] = "eof",
};

const char *ck_frame_type_to_string(CkFrameType type)
{
	if (type <= 0 || type >= CK_FRAME_TYPE_MAX)
		return "unknown";
	return type_names[type];
}

static void put_be32(guint8 *p, guint32 v)
{
	p[0] = (guint8)(v >> 24);
	p[1] = (guint8)(v >> 16);
	p[2] = (guint8)(v >> 8);
	p[3] = (guint8)v;
}

static guint32 get_be32(const guint8 *p)
{
	return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | (guint32)p[3];
}

void ck_frame_header_encode(const CkFrame *frame, guint8 out[CK_FRAME_HEADER_SIZE])
{
	out[0] = CK_FRAME_MAGIC;
	out[1] = (guint8)frame->type;
	out[2] = frame->stream;
	out[3] = 0;
	put_be32(out + 4, frame->id);
	put_be32(out + 8, frame->len);
}

static gboolean is_stream_type(CkFrameType t)
{
	return t == CK_FRAME_DATA || t == CK_FRAME_CREDIT || t == CK_FRAME_EOF;
}

gboolean ck_frame_header_decode(const guint8 in[CK_FRAME_HEADER_SIZE], CkFrame *out, GError **error)
{
	CkFrame f = {0};

	if (in[0] != CK_FRAME_MAGIC)
		return ck_set_error(error, CK_ERROR_INVALID, "frame: bad magic 0x%02x", in[0]);
	if (in[1] == 0 || in[1] >= CK_FRAME_TYPE_MAX)
		return ck_set_error(error, CK_ERROR_INVALID, "frame: unknown type %u", in[1]);
	if (in[3] != 0)
		return ck_set_error(error, CK_ERROR_INVALID, "frame: unknown flags 0x%02x", in[3]);

	f.type = (CkFrameType)in[1];
	f.stream = in[2];
	f.id = get_be32(in + 4);
	f.len = get_be32(in + 8);

	const char *tn = ck_frame_type_to_string(f.type);
	if (is_stream_type(f.type)) {
		if (f.stream >= CK_STREAM_MAX)
			return ck_set_error(error, CK_ERROR_INVALID, "frame: %s: bad stream %u", tn, f.stream);
		if (f.len > CK_FRAME_MAX_DATA)
			return ck_set_error(error, CK_ERROR_INVALID, "frame: %s: length %u over %u", tn, f.len,
					    CK_FRAME_MAX_DATA);
	} else {
		if (f.stream != 0)
			return ck_set_error(error, CK_ERROR_INVALID, "frame: %s: stream must be 0", tn);
		if (f.len > CK_FRAME_MAX_JSON)
			return ck_set_error(error, CK_ERROR_INVALID, "frame: %s: length %u over %u", tn, f.len,
					    CK_FRAME_MAX_JSON);
	}
	if (f.id == 0 && f.type != CK_FRAME_EVENT)
		return ck_set_error(error, CK_ERROR_INVALID, "frame: %s: id 0", tn);
	if (f.id != 0 && f.type == CK_FRAME_EVENT)
		return ck_set_error(error, CK_ERROR_INVALID, "frame: event: id must be 0");
	if (f.type == CK_FRAME_CREDIT && f.len != 4)
		return ck_set_error(error, CK_ERROR_INVALID, "frame: credit: length %u, expected 4", f.len);
	if (f.type == CK_FRAME_EOF && f.len != 0)
		return ck_set_error(error, CK_ERROR_INVALID, "frame: eof: length %u, expected 0", f.len);
	*out = f;
	return TRUE;
}

gboolean ck_frame_validate_payload(const CkFrame *frame, GError **error)
{
	if (frame->type == CK_FRAME_CREDIT && ck_frame_credit_value(frame) == 0)
		return ck_set_error(error, CK_ERROR_INVALID, "frame: credit of 0 bytes");
	if ((frame->type == CK_FRAME_REQUEST || frame->type == CK_FRAME_RESPONSE || frame->type == CK_FRAME_EVENT) &&
	    (frame->len < 2 || frame->payload[0] != '{'))
		return ck_set_error(error, CK_ERROR_INVALID, "frame: %s: payload is not a JSON object",
				    ck_frame_type_to_string(frame->type));
	return TRUE;
}

guint32 ck_frame_credit_value(const CkFrame *frame)
{
	if (frame->type != CK_FRAME_CREDIT || frame->len != 4 || frame->payload == NULL)
		return 0;
	return get_be32(frame->payload);
}

void ck_frame_append(GByteArray *buf, const CkFrame *frame)
{
	guint8 hdr[CK_FRAME_HEADER_SIZE];

	ck_frame_header_encode(frame, hdr);
	g_byte_array_append(buf, hdr, sizeof hdr);
	if (frame->len > 0)
		g_byte_array_append(buf, frame->payload, frame->len);
}

void ck_frame_reader_init(CkFrameReader *r)
{
	r->buf = g_byte_array_new();
	r->offset = 0;
}

void ck_frame_reader_clear(CkFrameReader *r)
{
	if (r->buf != NULL)
		g_byte_array_unref(r->buf);
	r->buf = NULL;
	r->offset = 0;
}

/* compact lazily: only when the consumed prefix dominates */
static void reader_compact(CkFrameReader *r)
{
	if (r->offset > 0 && r->offset >= r->buf->len / 2) {
		g_byte_array_remove_range(r->buf, 0, (guint)r->offset);
		r->offset = 0;
	}
}

void ck_frame_reader_feed(CkFrameReader *r, const guint8 *data, gsize len)
{
	reader_compact(r);
	g_byte_array_append(r->buf, data, (guint)len);
}

guint8 *ck_frame_reader_reserve(CkFrameReader *r, gsize len)
{
	reader_compact(r);
	guint old = r->buf->len;
	g_byte_array_set_size(r->buf, old + (guint)len);
	return r->buf->data + old;
}

void ck_frame_reader_commit(CkFrameReader *r, gsize reserved, gsize used)
{
	g_return_if_fail(used <= reserved && reserved <= r->buf->len);
	g_byte_array_set_size(r->buf, r->buf->len - (guint)(reserved - used));
}

gsize ck_frame_reader_pending(const CkFrameReader *r)
{
	return r->buf->len - r->offset;
}

int ck_frame_reader_next(CkFrameReader *r, CkFrame *out, GError **error)
{
	gsize avail = r->buf->len - r->offset;
	const guint8 *p;
	CkFrame f;

	if (avail < CK_FRAME_HEADER_SIZE)
		return 0;
	/* only now: an empty GByteArray has no data at all, and NULL + 0 is
	 * undefined behaviour */
	p = r->buf->data + r->offset;
	if (!ck_frame_header_decode(p, &f, error))
		return -1;
	if (avail < CK_FRAME_HEADER_SIZE + (gsize)f.len)
		return 0;
	f.payload = p + CK_FRAME_HEADER_SIZE;
	if (!ck_frame_validate_payload(&f, error))
		return -1;
	r->offset += CK_FRAME_HEADER_SIZE + f.len;
	*out = f;
	return 1;
}
