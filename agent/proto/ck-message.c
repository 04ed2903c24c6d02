/* ck-message: request/response/event payloads. */
#include "ck-message.h"

#include <string.h>

#include "base/ck-error.h"

CkJsonGen *ck_msg_request_begin(const char *op)
{
	CkJsonGen *g = ck_json_gen_new();

	ck_json_map_open(g);
	ck_json_kv_string(g, "op", op);
	return g;
}

CkJsonGen *ck_msg_result_begin(void)
{
	CkJsonGen *g = ck_json_gen_new();

	ck_json_map_open(g);
	ck_json_key(g, "result");
	ck_json_map_open(g);
	return g;
}

CkJsonGen *ck_msg_event_begin(const char *event)
{
	CkJsonGen *g = ck_json_gen_new();

	ck_json_map_open(g);
	ck_json_kv_string(g, "event", event);
	return g;
}

char *ck_msg_finish(CkJsonGen *g, gsize *out_len)
{
	ck_json_close_all(g);
	g_autoptr(GError) error = NULL;
	char *doc = ck_json_gen_finish(g, out_len, &error);
	/* only a programming error can make our own documents invalid */
	if (doc == NULL)
		g_error("message generation: %s", error->message);
	return doc;
}

char *ck_msg_error_response(const GError *error, gsize *out_len)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();

	ck_json_map_open(g);
	ck_json_key(g, "error");
	ck_json_map_open(g);
	ck_json_kv_string(g, "code", ck_error_code_to_string(ck_error_category(error)));
	ck_json_kv_int(g, "errno", ck_error_errno(error));
	ck_json_kv_string(g, "message", error ? error->message : "unknown error");
	ck_json_map_close(g);
	ck_json_map_close(g);
	char *doc = ck_json_gen_finish(g, out_len, NULL);
	g_assert(doc != NULL);
	return doc;
}

static yajl_val parse_payload(const CkFrame *frame, const char *what, GError **error)
{
	return ck_json_parse((const char *)frame->payload, frame->len, what, error);
}

gboolean ck_msg_parse_request(const CkFrame *frame, yajl_val *out_tree, const char **out_op, GError **error)
{
	g_auto(yajl_val) tree = parse_payload(frame, "request", error);
	if (tree == NULL)
		return FALSE;

	yajl_val op = ck_json_get(tree, "op");
	if (op == NULL || !YAJL_IS_STRING(op))
		return ck_set_error(error, CK_ERROR_INVALID, "request: op: expected a string");
	*out_op = op->u.string;
	*out_tree = g_steal_pointer(&tree);
	return TRUE;
}

static gboolean remote_error(yajl_val err, GError **error)
{
	yajl_val code = ck_json_get(err, "code");
	yajl_val msg = ck_json_get(err, "message");
	gint64 errsv = 0;
	const char *text = msg != NULL && YAJL_IS_STRING(msg) ? msg->u.string : "unknown remote error";

	(void)ck_json_as_int64(ck_json_get(err, "errno"), &errsv);
	if (errsv > 0 && errsv < 4096) {
		g_set_error_literal(error, CK_ERRNO_ERROR, (int)errsv, text);
		return FALSE;
	}
	CkErrorCode c = ck_error_code_from_string(code != NULL && YAJL_IS_STRING(code) ? code->u.string : NULL);
	g_set_error_literal(error, CK_ERROR, c, text);
	return FALSE;
}

gboolean ck_msg_parse_response(const CkFrame *frame, yajl_val *out_tree, yajl_val *out_result, GError **error)
{
	g_auto(yajl_val) tree = parse_payload(frame, "response", error);
	if (tree == NULL)
		return FALSE;

	yajl_val err = ck_json_get(tree, "error");
	if (err != NULL) {
		if (!YAJL_IS_OBJECT(err))
			return ck_set_error(error, CK_ERROR_INVALID, "response: error: expected an object");
		return remote_error(err, error);
	}
	yajl_val result = ck_json_get(tree, "result");
	if (result == NULL || !YAJL_IS_OBJECT(result))
		return ck_set_error(error, CK_ERROR_INVALID, "response: result: expected an object");
	*out_result = result;
	*out_tree = g_steal_pointer(&tree);
	return TRUE;
}

gboolean ck_msg_parse_event(const CkFrame *frame, yajl_val *out_tree, const char **out_event, GError **error)
{
	g_auto(yajl_val) tree = parse_payload(frame, "event", error);
	if (tree == NULL)
		return FALSE;

	yajl_val ev = ck_json_get(tree, "event");
	if (ev == NULL || !YAJL_IS_STRING(ev))
		return ck_set_error(error, CK_ERROR_INVALID, "event: event: expected a string");
	*out_event = ev->u.string;
	*out_tree = g_steal_pointer(&tree);
	return TRUE;
}
