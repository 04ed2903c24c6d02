/* Unit tests: vmctl/lib/base/ck-json.c's limits on nesting, and
 * ck-json-layout.c's text (runc's layout).
 *
 * Parsing refuses documents nested deeper than CK_JSON_MAX_DEPTH, so that
 * what is accepted can be written back and walked recursively.
 *
 * CkJsonGen latches the first failure of yajl_gen and reports it once, at
 * ck_json_gen_finish(). yajl_gen must not be called again after a failure:
 * past YAJL_MAX_DEPTH (128 levels) yajl_gen_map_open() and
 * yajl_gen_array_open() count the level before refusing it, and every
 * later call indexes the generator's 128-entry state array with that
 * count, out of bounds. This executable is linked with --wrap for the
 * yajl_gen calls the wrapper makes, so the tests count them.
 */
#include <string.h>

#include <glib.h>
#include <yajl/yajl_gen.h>

#include "base/ck-error.h"
#include "base/ck-json.h"

static guint calls;

yajl_gen_status __real_yajl_gen_array_open(yajl_gen g);
yajl_gen_status __real_yajl_gen_map_open(yajl_gen g);
yajl_gen_status __real_yajl_gen_integer(yajl_gen g, long long v);
yajl_gen_status __wrap_yajl_gen_array_open(yajl_gen g);
yajl_gen_status __wrap_yajl_gen_map_open(yajl_gen g);
yajl_gen_status __wrap_yajl_gen_integer(yajl_gen g, long long v);

yajl_gen_status __wrap_yajl_gen_array_open(yajl_gen g)
{
	calls++;
	return __real_yajl_gen_array_open(g);
}

yajl_gen_status __wrap_yajl_gen_map_open(yajl_gen g)
{
	calls++;
	return __real_yajl_gen_map_open(g);
}

yajl_gen_status __wrap_yajl_gen_integer(yajl_gen g, long long v)
{
	calls++;
	return __real_yajl_gen_integer(g, v);
}

/* 128 levels: yajl_gen's limit, and the first one it refuses. */
static void test_too_deep(void)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	g_autoptr(GError) error = NULL;

	calls = 0;
	for (int i = 0; i < 1000; i++) {
		if (i % 2)
			ck_json_array_open(g);
		else
			ck_json_map_open(g), ck_json_key(g, "a");
	}
	ck_json_int(g, 1);
	ck_json_close_all(g);
	g_assert_cmpuint(calls, ==, 128);

	g_autofree char *text = ck_json_gen_finish(g, NULL, &error);
	g_assert_null(text);
	g_assert_error(error, CK_ERROR, CK_ERROR_FAILED);
}

/* The same through ck_json_value(), which also stops walking the tree. */
static void test_too_deep_value(void)
{
	g_autoptr(GString) doc = g_string_new(NULL);
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	g_autoptr(GError) error = NULL;

	for (int i = 0; i < 60; i++)
		g_string_append(doc, "[");
	g_string_append(doc, "1");
	for (int i = 0; i < 60; i++)
		g_string_append(doc, "]");
	g_auto(yajl_val) tree = ck_json_parse(doc->str, doc->len, "doc", &error);
	g_assert_no_error(error);

	calls = 0;
	for (int i = 0; i < 100; i++) /* and 60 more in the tree: the 128th fails */
		ck_json_array_open(g);
	ck_json_value(g, tree);
	ck_json_value(g, tree);
	ck_json_close_all(g);
	g_assert_cmpuint(calls, ==, 128);
	g_autofree char *text = ck_json_gen_finish(g, NULL, &error);
	g_assert_null(text);
	g_assert_error(error, CK_ERROR, CK_ERROR_FAILED);
}

/* Within the limit nothing changes. */
static void test_deep_enough(void)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	g_autoptr(GError) error = NULL;

	for (int i = 0; i < 127; i++)
		ck_json_array_open(g);
	ck_json_int(g, 1);
	ck_json_close_all(g);
	g_autofree char *text = ck_json_gen_finish(g, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(strlen(text), ==, 127 * 2 + 1);
}

static char *nested(int levels, const char *open, const char *inner, const char *close)
{
	GString *s = g_string_new(NULL);

	for (int i = 0; i < levels; i++)
		g_string_append(s, open);
	g_string_append(s, inner);
	for (int i = 0; i < levels; i++)
		g_string_append(s, close);
	return g_string_free(s, FALSE);
}

static void test_parse_depth(void)
{
	g_autofree char *ok_arrays = nested(CK_JSON_MAX_DEPTH, "[", "1", "]");
	g_autofree char *ok_maps = nested(CK_JSON_MAX_DEPTH - 1, "{\"a\":", "[]", "}");
	g_autofree char *deep_arrays = nested(CK_JSON_MAX_DEPTH + 1, "[", "1", "]");
	g_autofree char *deep_maps = nested(CK_JSON_MAX_DEPTH, "{\"a\":", "{}", "}");
	g_autofree char *very_deep = nested(1000000, "[", "", "]");
	g_autofree char *unclosed = nested(1000000, "[", "", "");
	const char *const good[] = {ok_arrays, ok_maps};
	const char *const bad[] = {deep_arrays, deep_maps, very_deep, unclosed};

	for (gsize i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autoptr(GError) error = NULL;
		g_auto(yajl_val) v = ck_json_parse(good[i], strlen(good[i]), "doc", &error);
		g_assert_no_error(error);
		g_assert_nonnull(v);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_auto(yajl_val) v = ck_json_parse(bad[i], strlen(bad[i]), "doc", &error);
		g_assert_null(v);
		g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
		g_assert_cmpstr(error->message, ==, "doc: invalid JSON: nested deeper than 64 levels");
	}
}

/* Brackets in strings and comments are not nesting; syntax errors keep
 * yajl's own message. */
static void test_parse_depth_text(void)
{
	g_autofree char *brackets = nested(200, "[", "", "");
	g_autofree char *in_string = g_strdup_printf("{\"a\":\"%s\"}", brackets);
	g_autofree char *in_comment = g_strdup_printf("/* %s */ {\"a\": 1} // %s\n", brackets, brackets);
	g_autoptr(GError) error = NULL;

	g_auto(yajl_val) s = ck_json_parse(in_string, strlen(in_string), "doc", &error);
	g_assert_no_error(error);
	g_auto(yajl_val) c = ck_json_parse(in_comment, strlen(in_comment), "doc", &error);
	g_assert_no_error(error);

	g_auto(yajl_val) bad = ck_json_parse("{\"a\":]", 6, "doc", &error);
	g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
	g_assert_true(g_str_has_prefix(error->message, "doc: invalid JSON: "));
	g_assert_null(strstr(error->message, "nested"));
}

/* ck_json_layout(): Go's encoding/json text, as runc 1.1 printed it for
 * the same document (the expected strings are runc's output). */
static void test_layout(void)
{
	const char *doc = "{\"ociVersion\":\"1.0.2-dev\",\"pid\":0,\"annotations\":{\"a.key\":\"\u00e9/\\\"q\\t\","
			  "\"b.key\":\"x<y&z>\\u2028\\u0001\"},\"empty\":{},\"none\":[],\"list\":[1,true,null],"
			  "\"owner\":\"\"}";
	const char *indented = "{\n"
			       "  \"ociVersion\": \"1.0.2-dev\",\n"
			       "  \"pid\": 0,\n"
			       "  \"annotations\": {\n"
			       "    \"a.key\": \"\u00e9/\\\"q\\t\",\n"
			       "    \"b.key\": \"x\\u003cy\\u0026z\\u003e\\u2028\\u0001\"\n"
			       "  },\n"
			       "  \"empty\": {},\n"
			       "  \"none\": [],\n"
			       "  \"list\": [\n"
			       "    1,\n"
			       "    true,\n"
			       "    null\n"
			       "  ],\n"
			       "  \"owner\": \"\"\n"
			       "}";
	const char *compact = "{\"ociVersion\":\"1.0.2-dev\",\"pid\":0,\"annotations\":{\"a.key\":\"\u00e9/\\\"q\\t\","
			      "\"b.key\":\"x\\u003cy\\u0026z\\u003e\\u2028\\u0001\"},\"empty\":{},\"none\":[],"
			      "\"list\":[1,true,null],\"owner\":\"\"}";
	g_autoptr(GError) error = NULL;
	g_auto(yajl_val) tree = ck_json_parse(doc, strlen(doc), "doc", &error);

	g_assert_no_error(error);
	g_autofree char *ind = ck_json_layout(tree, "  ");
	g_assert_cmpstr(ind, ==, indented);
	g_autofree char *cmp = ck_json_layout(tree, NULL);
	g_assert_cmpstr(cmp, ==, compact);

	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	ck_json_array_open(g);
	ck_json_array_close(g);
	g_autofree char *empty = ck_json_gen_finish_layout(g, "    ", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(empty, ==, "[]");
}

/* A member's value taken out of its object: the caller owns it, the
 * object keeps the key without a value, and both free cleanly. */
static void test_take(void)
{
	static const char text[] = "{\"a\":1,\"spec\":{\"x\":[1,2]},\"b\":true}";
	g_autoptr(GError) error = NULL;
	g_auto(yajl_val) obj = ck_json_parse(text, strlen(text), "test", &error);

	g_assert_no_error(error);
	g_auto(yajl_val) spec = ck_json_take(obj, "spec");
	g_assert_nonnull(spec);
	g_assert_true(YAJL_IS_ARRAY(ck_json_get(spec, "x")));
	g_assert_null(ck_json_get(obj, "spec"));
	g_assert_null(ck_json_take(obj, "spec"));
	g_assert_null(ck_json_take(obj, "absent"));
	g_assert_null(ck_json_take(ck_json_get(obj, "a"), "a"));
	g_assert_true(YAJL_IS_TRUE(ck_json_get(obj, "b")));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/json/parse/depth", test_parse_depth);
	g_test_add_func("/json/take", test_take);
	g_test_add_func("/json/parse/depth-text", test_parse_depth_text);
	g_test_add_func("/json/generator/too-deep", test_too_deep);
	g_test_add_func("/json/generator/too-deep-value", test_too_deep_value);
	g_test_add_func("/json/generator/deep-enough", test_deep_enough);
	g_test_add_func("/json/layout/go", test_layout);
	return g_test_run();
}
