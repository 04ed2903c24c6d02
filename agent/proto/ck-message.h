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

G_BEGIN_DECLS

/* Requests. New operations are added at the end; docs/protocol.md has
 * each one's arguments and result. */
#define CK_OP_VERSION "version"
#define CK_OP_PING "ping"
#define CK_OP_SHUTDOWN "shutdown"

/* Events. */
#define CK_EVENT_READY "ready"

/* Starts a request document: the map is open and "op" written. */
CkJsonGen *ck_msg_request_begin(const char *op);

/* Starts a success response: {"result": { is open. */
CkJsonGen *ck_msg_result_begin(void);

/* Starts an event: the map is open and "event" written. */
CkJsonGen *ck_msg_event_begin(const char *event);

/* Closes every open map of a document begun above and returns it. */
char *ck_msg_finish(CkJsonGen *g, gsize *out_len);

char *ck_msg_error_response(const GError *error, gsize *out_len);

/* Parses a REQUEST payload; *out_op points into *out_tree. */
gboolean ck_msg_parse_request(const CkFrame *frame, yajl_val *out_tree, const char **out_op, GError **error);

/* Parses a RESPONSE payload. On success *out_result is the "result"
 * object (inside *out_tree, which the caller frees). A remote error is
 * returned as FALSE with that error. */
gboolean ck_msg_parse_response(const CkFrame *frame, yajl_val *out_tree, yajl_val *out_result, GError **error);

gboolean ck_msg_parse_event(const CkFrame *frame, yajl_val *out_tree, const char **out_event, GError **error);

G_END_DECLS
