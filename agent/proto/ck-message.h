/* ck-message: JSON payloads of REQUEST, RESPONSE and EVENT frames.
 *
 *   request   {"op": "<name>", ...arguments}
 *   response  {"result": {...}}                       on success
 *             {"error": {"code": "<category>", "errno": N, "message": "..."}}
 *   event     {"event": "<name>", ...}
 *
 * A remote error becomes a local GError with the same category (and the
 * same errno when there was one) and the remote message unchanged, so a
 * guest-side failure reaches CRI-O as the same one-line text.
 */
#pragma once

#include <glib.h>
#include <yajl/yajl_tree.h>

#include "base/ck-json.h"
#include "ck-frame.h"
#include "ck-ops.h"

G_BEGIN_DECLS

/* Starts a request document: the map is open and "op" written. */
CkJsonGen *ck_msg_request_begin(CkOp op);
/* A whole request: op and its arguments (NULL for an operation without). */
CkJsonGen *ck_msg_request(CkOp op, gconstpointer args);

/* Starts a success response: {"result": { is open. */
CkJsonGen *ck_msg_result_begin(void);
/* A whole success response to op: result NULL is {}. */
CkJsonGen *ck_msg_result(CkOp op, gconstpointer result);

/* Starts an event: the map is open and "event" written. */
CkJsonGen *ck_msg_event_begin(CkEvent event);
/* A whole event with its body. */
CkJsonGen *ck_msg_event(CkEvent event, gconstpointer body);

/* Closes every open map of a document begun above and returns it. */
char *ck_msg_finish(CkJsonGen *g, gsize *out_len);

/* Typed decoding of a parsed request (strict: an argument op does not
 * take is an error "<op>: <key>: unknown field"), of a response's result
 * object and of an event (lenient: unknown fields are ignored, known ones
 * checked). args, result and body are the op's or event's struct of
 * ck-ops.h; ck_msg_clear_*() frees what the decoding allocated. */
gboolean ck_msg_decode_args(CkOp op, yajl_val request, gpointer args, GError **error);
gboolean ck_msg_decode_result(CkOp op, yajl_val result, gpointer out, GError **error);
gboolean ck_msg_decode_event(CkEvent event, yajl_val body, gpointer out, GError **error);
void ck_msg_clear_args(CkOp op, gpointer args);
void ck_msg_clear_result(CkOp op, gpointer result);
void ck_msg_clear_event(CkEvent event, gpointer body);

char *ck_msg_error_response(const GError *error, gsize *out_len);

/* Parses a REQUEST payload; *out_op points into *out_tree. */
gboolean ck_msg_parse_request(const CkFrame *frame, yajl_val *out_tree, const char **out_op, GError **error);

/* Parses a RESPONSE payload. On success *out_result is the "result"
 * object (inside *out_tree, which the caller frees). A remote error is
 * returned as FALSE with that error. */
gboolean ck_msg_parse_response(const CkFrame *frame, yajl_val *out_tree, yajl_val *out_result, GError **error);

gboolean ck_msg_parse_event(const CkFrame *frame, yajl_val *out_tree, const char **out_event, GError **error);

G_END_DECLS
