/* ck-json-layout: a parsed document written in the layout of Go's
 * encoding/json, which is what runc prints and what tools that drive OCI
 * runtimes match as text (`"status": "created"`).
 *
 * The rules, as encoding/json applies them (Go 1.19, Debian 12's runc):
 *   - compact: no space anywhere; indented: one value per line, `"key": `
 *     with one space after the colon, the indent repeated per level, and
 *     an empty object or array written `{}` / `[]` on one line;
 *   - strings: `"` and `\` escaped with a backslash, \n \r \t by name, any
 *     other byte below 0x20 as \u00XX (lowercase hex), and <, >, & and
 *     U+2028, U+2029 as \u003c, \u003e, \u0026, \u2028, \u2029 (its HTML
 *     escaping, on by default); bytes that are not UTF-8 become U+FFFD;
 *   - numbers as they were parsed, keys in the order of the tree.
 */
#include "ck-json.h"

#include <string.h>

static void put_string(GString *out, const char *s)
{
	g_autofree char *valid = g_utf8_make_valid(s, -1);

	g_string_append_c(out, '"');
	for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		switch (c) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		case '<':
		case '>':
		case '&':
		case 0x2028:
		case 0x2029:
			g_string_append_printf(out, "\\u%04x", c);
			break;
		default:
			if (c < 0x20)
				g_string_append_printf(out, "\\u%04x", c);
			else
				g_string_append_len(out, p, g_utf8_next_char(p) - p);
		}
	}
	g_string_append_c(out, '"');
}

/* A newline and the indent of `depth` levels, when indenting. */
static void put_newline(GString *out, const char *indent, guint depth)
{
	if (indent == NULL)
		return;
	g_string_append_c(out, '\n');
	for (guint i = 0; i < depth; i++)
		g_string_append(out, indent);
}

static void put_value(GString *out, yajl_val v, const char *indent, guint depth);

static void put_container(GString *out, yajl_val v, const char *indent, guint depth)
{
	gboolean is_object = YAJL_IS_OBJECT(v);
	size_t len = is_object ? v->u.object.len : v->u.array.len;

	g_string_append_c(out, is_object ? '{' : '[');
	for (size_t i = 0; i < len; i++) {
		if (i > 0)
			g_string_append_c(out, ',');
		put_newline(out, indent, depth + 1);
		if (is_object) {
			put_string(out, v->u.object.keys[i]);
			g_string_append(out, indent != NULL ? ": " : ":");
		}
		put_value(out, is_object ? v->u.object.values[i] : v->u.array.values[i], indent, depth + 1);
	}
	if (len > 0)
		put_newline(out, indent, depth);
	g_string_append_c(out, is_object ? '}' : ']');
}

static void put_value(GString *out, yajl_val v, const char *indent, guint depth)
{
	if (v == NULL || YAJL_IS_NULL(v))
		g_string_append(out, "null");
	else if (YAJL_IS_STRING(v))
		put_string(out, v->u.string);
	else if (YAJL_IS_NUMBER(v))
		g_string_append(out, v->u.number.r);
	else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
		g_string_append(out, YAJL_IS_TRUE(v) ? "true" : "false");
	else
		put_container(out, v, indent, depth);
}

char *ck_json_layout(yajl_val v, const char *indent)
{
	GString *out = g_string_new(NULL);

	put_value(out, v, indent, 0);
	return g_string_free(out, FALSE);
}

char *ck_json_gen_finish_layout(CkJsonGen *g, const char *indent, GError **error)
{
	gsize len = 0;
	g_autofree char *doc = ck_json_gen_finish(g, &len, error);

	if (doc == NULL)
		return NULL;
	g_auto(yajl_val) tree = ck_json_parse(doc, len, "generated JSON", error);
	return tree != NULL ? ck_json_layout(tree, indent) : NULL;
}
