/* ck-json: yajl generator wrapper, parser, typed dispatch. */
#include "ck-json.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "ck-error.h"
#include "ck-io.h"
#include "ck-parse.h"

struct CkJsonGen {
	yajl_gen gen;
	yajl_gen_status status; /* first failure, latched */
	GString *open;		/* one char per open container: '{' or '[' */
};

CkJsonGen *ck_json_gen_new(void)
{
	CkJsonGen *g = g_new0(CkJsonGen, 1);

	g->gen = yajl_gen_alloc(NULL);
	g_assert(g->gen != NULL);
	yajl_gen_config(g->gen, yajl_gen_validate_utf8, 1);
	g->status = yajl_gen_status_ok;
	g->open = g_string_new(NULL);
	return g;
}

void ck_json_gen_free(CkJsonGen *g)
{
	if (g == NULL)
		return;
	yajl_gen_free(g->gen);
	g_string_free(g->open, TRUE);
	g_free(g);
}

static void latch(CkJsonGen *g, yajl_gen_status st)
{
	if (g->status == yajl_gen_status_ok && st != yajl_gen_status_ok)
		g->status = st;
}

/* Once a call has failed, yajl_gen must not be called again: its state is
 * not meant to be used after an error. yajl_gen_map_open() and
 * yajl_gen_array_open() count the level before they refuse the 129th
 * (YAJL_MAX_DEPTH), and every later call indexes its 128-entry state
 * array with that count, writing past the end of the generator. So the
 * latch also stops the calls; ck_json_gen_finish() reports the failure. */
static gboolean failed(const CkJsonGen *g)
{
	return g->status != yajl_gen_status_ok;
}

static void close_one(CkJsonGen *g, char kind)
{
	if (failed(g))
		return;
	if (g->open->len == 0 || g->open->str[g->open->len - 1] != kind) {
		latch(g, yajl_gen_generation_complete);
		return;
	}
	g_string_truncate(g->open, g->open->len - 1);
	latch(g, kind == '{' ? yajl_gen_map_close(g->gen) : yajl_gen_array_close(g->gen));
}

void ck_json_map_open(CkJsonGen *g)
{
	if (failed(g))
		return;
	g_string_append_c(g->open, '{');
	latch(g, yajl_gen_map_open(g->gen));
}

void ck_json_map_close(CkJsonGen *g)
{
	close_one(g, '{');
}

void ck_json_array_open(CkJsonGen *g)
{
	if (failed(g))
		return;
	g_string_append_c(g->open, '[');
	latch(g, yajl_gen_array_open(g->gen));
}

void ck_json_array_close(CkJsonGen *g)
{
	close_one(g, '[');
}

void ck_json_close_all(CkJsonGen *g)
{
	while (!failed(g) && g->open->len > 0)
		close_one(g, g->open->str[g->open->len - 1]);
}

void ck_json_string_len(CkJsonGen *g, const char *s, gsize len)
{
	if (failed(g))
		return;
	if (s == NULL) {
		ck_json_null(g);
		return;
	}
	if (!g_utf8_validate(s, (gssize)len, NULL)) {
		g_autofree char *fixed = g_utf8_make_valid(s, (gssize)len);
		latch(g, yajl_gen_string(g->gen, (const unsigned char *)fixed, strlen(fixed)));
		return;
	}
	latch(g, yajl_gen_string(g->gen, (const unsigned char *)s, len));
}

void ck_json_string(CkJsonGen *g, const char *s)
{
	ck_json_string_len(g, s, s ? strlen(s) : 0);
}

void ck_json_key(CkJsonGen *g, const char *key)
{
	ck_json_string(g, key);
}

void ck_json_int(CkJsonGen *g, gint64 v)
{
	if (!failed(g))
		latch(g, yajl_gen_integer(g->gen, v));
}

void ck_json_uint64(CkJsonGen *g, guint64 v)
{
	char buf[32];
	int n = g_snprintf(buf, sizeof buf, "%" G_GUINT64_FORMAT, v);

	if (!failed(g))
		latch(g, yajl_gen_number(g->gen, buf, (size_t)n));
}

void ck_json_bool(CkJsonGen *g, gboolean v)
{
	if (!failed(g))
		latch(g, yajl_gen_bool(g->gen, v ? 1 : 0));
}

void ck_json_null(CkJsonGen *g)
{
	if (!failed(g))
		latch(g, yajl_gen_null(g->gen));
}

void ck_json_strv(CkJsonGen *g, const char *const *strv)
{
	ck_json_array_open(g);
	for (; strv != NULL && *strv != NULL; strv++)
		ck_json_string(g, *strv);
	ck_json_array_close(g);
}

void ck_json_value(CkJsonGen *g, yajl_val v)
{
	if (failed(g))
		return; /* and do not walk the rest of the tree */
	if (v == NULL || YAJL_IS_NULL(v)) {
		ck_json_null(g);
	} else if (YAJL_IS_STRING(v)) {
		ck_json_string(g, v->u.string);
	} else if (YAJL_IS_NUMBER(v)) {
		latch(g, yajl_gen_number(g->gen, v->u.number.r, strlen(v->u.number.r)));
	} else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
		ck_json_bool(g, YAJL_IS_TRUE(v));
	} else if (YAJL_IS_OBJECT(v)) {
		ck_json_map_open(g);
		for (size_t i = 0; i < v->u.object.len && !failed(g); i++) {
			ck_json_key(g, v->u.object.keys[i]);
			ck_json_value(g, v->u.object.values[i]);
		}
		ck_json_map_close(g);
	} else if (YAJL_IS_ARRAY(v)) {
		ck_json_array_open(g);
		for (size_t i = 0; i < v->u.array.len && !failed(g); i++)
			ck_json_value(g, v->u.array.values[i]);
		ck_json_array_close(g);
	}
}

void ck_json_kv_string(CkJsonGen *g, const char *key, const char *s)
{
	ck_json_key(g, key);
	ck_json_string(g, s);
}

void ck_json_kv_int(CkJsonGen *g, const char *key, gint64 v)
{
	ck_json_key(g, key);
	ck_json_int(g, v);
}

void ck_json_kv_bool(CkJsonGen *g, const char *key, gboolean v)
{
	ck_json_key(g, key);
	ck_json_bool(g, v);
}

char *ck_json_gen_finish(CkJsonGen *g, gsize *out_len, GError **error)
{
	const unsigned char *buf = NULL;
	size_t len = 0;

	if (g->status == yajl_gen_status_ok)
		latch(g, yajl_gen_get_buf(g->gen, &buf, &len));
	if (g->status != yajl_gen_status_ok)
		return ck_set_error(error, CK_ERROR_FAILED, "JSON generation failed (yajl status %d)", g->status),
		       NULL;
	if (out_len != NULL)
		*out_len = len;
	return g_strndup((const char *)buf, len);
}

/* ---- nesting ------------------------------------------------------------ */

typedef struct {
	int depth;
} Nesting;

static int nest_open(void *ctx)
{
	return ++((Nesting *)ctx)->depth <= CK_JSON_MAX_DEPTH;
}

static int nest_close(void *ctx)
{
	((Nesting *)ctx)->depth--;
	return 1;
}

static const yajl_callbacks nesting_callbacks = {
	.yajl_start_map = nest_open,
	.yajl_end_map = nest_close,
	.yajl_start_array = nest_open,
	.yajl_end_array = nest_close,
};

/* FALSE when the document nests deeper than CK_JSON_MAX_DEPTH. yajl's event
 * parser keeps its own stack on the heap, so this pass is safe at any
 * depth; it stops at the first level too many. Syntax errors are left to
 * yajl_tree_parse(), whose messages callers know. */
static gboolean nesting_ok(const char *doc, gsize len)
{
	Nesting n = {0};
	yajl_handle h = yajl_alloc(&nesting_callbacks, NULL, &n);
	yajl_status st;

	g_assert(h != NULL);
	/* as yajl_tree_parse() is configured */
	yajl_config(h, yajl_allow_comments, 1);
	st = yajl_parse(h, (const unsigned char *)doc, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	yajl_free(h);
	return st != yajl_status_client_canceled;
}

yajl_val ck_json_parse(const char *data, gsize len, const char *what, GError **error)
{
	char errbuf[256] = "";
	g_autofree char *copy = g_strndup(data, len);

	if (strlen(copy) != len)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: NUL byte in JSON", what), NULL;
	if (!nesting_ok(copy, len))
		return ck_set_error(error, CK_ERROR_INVALID, "%s: invalid JSON: nested deeper than %d levels", what,
				    CK_JSON_MAX_DEPTH),
		       NULL;
	yajl_val v = yajl_tree_parse(copy, errbuf, sizeof errbuf);
	if (v == NULL) {
		g_strstrip(errbuf);
		/* yajl's message spans lines (it quotes the input); keep line one */
		char *nl = strchr(errbuf, '\n');
		if (nl != NULL)
			*nl = '\0';
		return ck_set_error(error, CK_ERROR_INVALID, "%s: invalid JSON: %s", what,
				    errbuf[0] ? errbuf : "parse error"),
		       NULL;
	}
	return v;
}

yajl_val ck_json_parse_file(const char *path, gsize max_size, GError **error)
{
	g_autofree char *data = NULL;
	gsize len = 0;

	if (!ck_file_read_bounded(path, max_size, &data, &len, error))
		return NULL;
	return ck_json_parse(data, len, path, error);
}

const char *ck_json_type_name(yajl_val v)
{
	if (v == NULL || YAJL_IS_NULL(v))
		return "null";
	if (YAJL_IS_STRING(v))
		return "a string";
	if (YAJL_IS_NUMBER(v))
		return "a number";
	if (YAJL_IS_OBJECT(v))
		return "an object";
	if (YAJL_IS_ARRAY(v))
		return "an array";
	return "a boolean";
}

yajl_val ck_json_get(yajl_val obj, const char *key)
{
	if (obj == NULL || !YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

yajl_val ck_json_take(yajl_val obj, const char *key)
{
	if (obj == NULL || !YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++) {
		if (strcmp(obj->u.object.keys[i], key) == 0) {
			yajl_val v = obj->u.object.values[i];
			obj->u.object.values[i] = NULL;
			return v;
		}
	}
	return NULL;
}

gboolean ck_json_as_int64(yajl_val v, gint64 *out)
{
	if (v == NULL || !YAJL_IS_INTEGER(v))
		return FALSE;
	*out = YAJL_GET_INTEGER(v);
	return TRUE;
}

char *ck_json_path_key(const char *path, const char *key)
{
	if (path == NULL || *path == '\0')
		return g_strdup(key);
	return g_strdup_printf("%s.%s", path, key);
}

char *ck_json_path_index(const char *path, gsize index)
{
	return g_strdup_printf("%s[%" G_GSIZE_FORMAT "]", path ? path : "", index);
}

static gboolean type_error(const char *path, const char *expected, yajl_val v, GError **error)
{
	return ck_set_error(error, CK_ERROR_INVALID, "%s: expected %s, got %s", path, expected, ck_json_type_name(v));
}

static gboolean get_uint64(yajl_val v, const char *path, guint64 *out, GError **error)
{
	if (!YAJL_IS_NUMBER(v))
		return type_error(path, "a non-negative integer", v, error);
	return ck_parse_uint64(v->u.number.r, path, G_MAXUINT64, out, error);
}

static gboolean dispatch_int(yajl_val v, const CkJsonField *f, const char *path, gpointer field, GError **error)
{
	gint64 i;
	gint64 min = f->min, max = f->max;

	if (!ck_json_as_int64(v, &i))
		return type_error(path, "an integer", v, error);
	switch (f->type) {
	case CK_JSON_INT64:
		*(gint64 *)field = i;
		return TRUE;
	case CK_JSON_INT:
		if (min == 0 && max == 0) {
			min = INT_MIN;
			max = INT_MAX;
		}
		if (i < min || i > max)
			return ck_set_error(error, CK_ERROR_INVALID,
					    "%s: %" G_GINT64_FORMAT " is out of range (%" G_GINT64_FORMAT
					    "..%" G_GINT64_FORMAT ")",
					    path, i, min, max);
		*(int *)field = (int)i;
		return TRUE;
	case CK_JSON_UINT32:
		if (i < 0 || i > G_MAXUINT32)
			return ck_set_error(error, CK_ERROR_INVALID, "%s: %" G_GINT64_FORMAT " is out of range", path,
					    i);
		*(guint32 *)field = (guint32)i;
		return TRUE;
	default:
		g_assert_not_reached();
	}
}

static gboolean dispatch_strv(yajl_val v, const char *path, char ***out, GError **error)
{
	if (!YAJL_IS_ARRAY(v))
		return type_error(path, "an array of strings", v, error);

	g_autoptr(GPtrArray) arr = g_ptr_array_new_with_free_func(g_free);
	for (size_t i = 0; i < v->u.array.len; i++) {
		yajl_val e = v->u.array.values[i];
		if (!YAJL_IS_STRING(e)) {
			g_autofree char *p = ck_json_path_index(path, i);
			return type_error(p, "a string", e, error);
		}
		g_ptr_array_add(arr, g_strdup(e->u.string));
	}
	g_ptr_array_add(arr, NULL);
	g_strfreev(*out);
	*out = (char **)g_ptr_array_free(g_steal_pointer(&arr), FALSE);
	return TRUE;
}

static gboolean dispatch_one(yajl_val v, const CkJsonField *f, const char *path, gpointer target, GError **error)
{
	gpointer field = (char *)target + f->offset;

	switch (f->type) {
	case CK_JSON_STRING:
		if (!YAJL_IS_STRING(v))
			return type_error(path, "a string", v, error);
		g_free(*(char **)field);
		*(char **)field = g_strdup(v->u.string);
		return TRUE;
	case CK_JSON_INT64:
	case CK_JSON_INT:
	case CK_JSON_UINT32:
		return dispatch_int(v, f, path, field, error);
	case CK_JSON_UINT64:
		return get_uint64(v, path, (guint64 *)field, error);
	case CK_JSON_BOOL:
		if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
			return type_error(path, "a boolean", v, error);
		*(gboolean *)field = YAJL_IS_TRUE(v);
		return TRUE;
	case CK_JSON_STRV:
		return dispatch_strv(v, path, (char ***)field, error);
	case CK_JSON_OBJECT:
		if (!YAJL_IS_OBJECT(v))
			return type_error(path, "an object", v, error);
		*(yajl_val *)field = v;
		return TRUE;
	case CK_JSON_ARRAY:
		if (!YAJL_IS_ARRAY(v))
			return type_error(path, "an array", v, error);
		*(yajl_val *)field = v;
		return TRUE;
	case CK_JSON_ANY:
		*(yajl_val *)field = v;
		return TRUE;
	case CK_JSON_CUSTOM:
		return f->custom(v, path, field, error);
	case CK_JSON_IGNORE:
		return TRUE;
	}
	g_assert_not_reached();
}

static const CkJsonField *find_field(const CkJsonField *fields, const char *key)
{
	for (const CkJsonField *f = fields; f->key != NULL; f++)
		if (strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

gboolean ck_json_dispatch(yajl_val obj, const CkJsonField *fields, gpointer target, const char *path,
			  CkJsonMode mode, GError **error)
{
	if (obj == NULL || !YAJL_IS_OBJECT(obj))
		return type_error(path && *path ? path : "document", "an object", obj, error);

	for (size_t i = 0; i < obj->u.object.len; i++) {
		const char *key = obj->u.object.keys[i];
		yajl_val v = obj->u.object.values[i];
		g_autofree char *p = ck_json_path_key(path, key);
		const CkJsonField *f = find_field(fields, key);

		if (f == NULL) {
			if (mode == CK_JSON_STRICT)
				return ck_set_error(error, CK_ERROR_INVALID, "%s: unknown field", p);
			continue;
		}
		if (YAJL_IS_NULL(v) && (f->flags & CK_JSON_NULLABLE))
			continue;
		if (!dispatch_one(v, f, p, target, error))
			return FALSE;
	}
	for (const CkJsonField *f = fields; f->key != NULL; f++) {
		if (!(f->flags & CK_JSON_REQUIRED))
			continue;
		yajl_val v = ck_json_get(obj, f->key);
		if (v == NULL || YAJL_IS_NULL(v)) {
			g_autofree char *p = ck_json_path_key(path, f->key);
			return ck_set_error(error, CK_ERROR_INVALID, "%s: required field missing", p);
		}
	}
	return TRUE;
}
