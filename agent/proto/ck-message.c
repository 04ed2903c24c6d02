/* ck-message: request/response/event payloads. */
#include "ck-message.h"

#include <string.h>

#include "base/ck-error.h"

CkJsonGen *ck_msg_request_begin(CkOp op)
{
	CkJsonGen *g = ck_json_gen_new();

	ck_json_map_open(g);
	ck_json_kv_string(g, "op", ck_op_name(op));
	return g;
}

CkJsonGen *ck_msg_request(CkOp op, gconstpointer args)
{
	CkJsonGen *g = ck_msg_request_begin(op);
	const CkMsgType *type = ck_op_info(op)->args;

	if (type != NULL && args != NULL)
		ck_msg_encode(type, g, args);
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

CkJsonGen *ck_msg_result(CkOp op, gconstpointer result)
{
	CkJsonGen *g = ck_msg_result_begin();
	const CkMsgType *type = ck_op_info(op)->result;

	if (type != NULL && result != NULL)
		ck_msg_encode(type, g, result);
	return g;
}

CkJsonGen *ck_msg_event_begin(CkEvent event)
{
	CkJsonGen *g = ck_json_gen_new();

	ck_json_map_open(g);
	ck_json_kv_string(g, "event", ck_event_name(event));
	return g;
}

CkJsonGen *ck_msg_event(CkEvent event, gconstpointer body)
{
	CkJsonGen *g = ck_msg_event_begin(event);

	ck_msg_encode(ck_event_type(event), g, body);
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

/* What an operation without arguments accepts: its "op" only. */
static const CkJsonField no_args_fields[] = {
    {"op", CK_JSON_IGNORE, 0, 0, 0, 0, NULL},
    {NULL, 0, 0, 0, 0, 0, NULL},
};

gboolean ck_msg_decode_args(CkOp op, yajl_val request, gpointer args, GError **error)
{
	const CkOpInfo *info = ck_op_info(op);
	CkMsgType none = {info->name, no_args_fields, NULL, NULL, 0};

	return ck_msg_decode(info->args != NULL ? info->args : &none, request, args, CK_JSON_STRICT, error);
}

gboolean ck_msg_decode_result(CkOp op, yajl_val result, gpointer out, GError **error)
{
	const CkMsgType *type = ck_op_info(op)->result;

	if (type == NULL)
		return TRUE;
	return ck_msg_decode(type, result, out, CK_JSON_LENIENT, error);
}

gboolean ck_msg_decode_event(CkEvent event, yajl_val body, gpointer out, GError **error)
{
	return ck_msg_decode(ck_event_type(event), body, out, CK_JSON_LENIENT, error);
}

void ck_msg_clear_args(CkOp op, gpointer args)
{
	const CkMsgType *type = ck_op_info(op)->args;

	if (type != NULL)
		ck_msg_clear(type, args);
}

void ck_msg_clear_result(CkOp op, gpointer result)
{
	const CkMsgType *type = ck_op_info(op)->result;

	if (type != NULL)
		ck_msg_clear(type, result);
}

void ck_msg_clear_event(CkEvent event, gpointer body)
{
	ck_msg_clear(ck_event_type(event), body);
}
