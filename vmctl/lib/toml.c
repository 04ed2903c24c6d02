/* toml: the strict TOML-subset parser behind configuration.toml.
 *
 * A hand-written recursive-descent parser over a byte cursor, one line
 * (or one multi-line array) at a time. It builds the whole document or
 * nothing, and stops at the first error so that the one message it
 * returns points at the real problem. What the subset is, and why, is in
 * toml.h; what the keys mean is config.c's.
 */
#include "toml.h"

#include <string.h>

#include "base/ck-error.h"

typedef struct {
	const char *filename;
	const char *p;	 /* the cursor */
	const char *end; /* one past the last byte */
	guint line;
	TomlDocument *doc;
	TomlTable *table;	 /* where keys go: the last header's table */
	GHashTable *tables;	 /* name -> TomlTable *: the root and every [header] */
	GHashTable *table_names; /* every name that is a table, "a" of [a.b] too */
	/* every key set so far, by its dotted name ("a.b.key", "key" at the
	 * top level) -> TomlEntry *: the duplicate and conflict checks run
	 * once per key, and a linear search made them quadratic */
	GHashTable *keys;
} TomlParser;

/* ---- documents ---------------------------------------------------------- */

static void entry_free(TomlEntry *e)
{
	g_free(e->key);
	g_free(e->string);
	g_strfreev(e->strings);
	g_free(e);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TomlEntry, entry_free)

static void table_free(TomlTable *t)
{
	g_free(t->name);
	g_ptr_array_unref(t->entries);
	g_free(t);
}

static TomlTable *table_new(const char *name, guint line)
{
	TomlTable *t = g_new0(TomlTable, 1);

	t->name = g_strdup(name);
	t->line = line;
	t->entries = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
	return t;
}

void toml_document_free(TomlDocument *doc)
{
	if (doc == NULL)
		return;
	g_ptr_array_unref(doc->tables);
	g_free(doc);
}

/* "table.key", or "key" for the root table. */
static char *dotted_key(const char *table, const char *key)
{
	return table[0] != '\0' ? g_strconcat(table, ".", key, NULL) : g_strdup(key);
}

/* "in [a.b]", or "at the top level" for the root table. */
static char *table_where(const TomlTable *t)
{
	return t->name[0] != '\0' ? g_strdup_printf("in [%s]", t->name) : g_strdup("at the top level");
}

const char *toml_type_to_string(TomlType type)
{
	switch (type) {
	case TOML_STRING:
		return "a string";
	case TOML_INTEGER:
		return "an integer";
	case TOML_BOOLEAN:
		return "a boolean";
	case TOML_STRING_ARRAY:
		return "an array of strings";
	}
	return "an unknown type";
}

/* ---- the cursor ------------------------------------------------------------ */

/* The input holds no NUL byte (check_encoding), so '\0' can mean "end". */
static gboolean at_end(const TomlParser *ps)
{
	return ps->p >= ps->end;
}

static char peek_at(const TomlParser *ps, gsize n)
{
	return (gsize)(ps->end - ps->p) > n ? ps->p[n] : '\0';
}

static char peek(const TomlParser *ps)
{
	return peek_at(ps, 0);
}

/* TOML allows tab but no other control character in comments and strings. */
static gboolean is_control(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static gboolean is_bare_key_char(char c)
{
	return g_ascii_isalnum(c) || c == '_' || c == '-';
}

/* What is at the cursor, for "expected X, found Y". */
static char *describe_here(const TomlParser *ps)
{
	char c = peek(ps);

	if (at_end(ps))
		return g_strdup("end of file");
	if (c == '\n' || c == '\r')
		return g_strdup("end of line");
	if (g_ascii_isprint(c))
		return g_strdup_printf("'%c'", c);
	return g_strdup_printf("U+%04X", g_utf8_get_char(ps->p));
}

static gboolean fail_at(const TomlParser *ps, guint line, GError **error, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

static gboolean fail_at(const TomlParser *ps, guint line, GError **error, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	return ck_set_error(error, CK_ERROR_INVALID, "%s:%u: %s", ps->filename, line, msg);
}

#define fail(ps, error, ...) fail_at((ps), (ps)->line, (error), __VA_ARGS__)

/* "expected <what>, found <whatever is at the cursor>" */
static gboolean fail_expected(const TomlParser *ps, GError **error, const char *what)
{
	g_autofree char *found = describe_here(ps);

	return fail(ps, error, "expected %s, found %s", what, found);
}

static void skip_ws(TomlParser *ps)
{
	while (!at_end(ps) && (*ps->p == ' ' || *ps->p == '\t'))
		ps->p++;
}

/* At '#': skips to the end of the line, leaving the line end in place. */
static gboolean skip_comment(TomlParser *ps, GError **error)
{
	for (ps->p++; !at_end(ps) && *ps->p != '\n' && *ps->p != '\r'; ps->p++) {
		if (is_control((unsigned char)*ps->p))
			return fail(ps, error, "control character U+%04X in a comment", (unsigned char)*ps->p);
	}
	return TRUE;
}

/* At '\n' or '\r': consumes LF or CRLF. A CR alone is not a line end in
 * TOML, and accepting it would make our line numbers disagree with the
 * user's editor. */
static gboolean consume_newline(TomlParser *ps, GError **error)
{
	if (*ps->p == '\r') {
		if (peek_at(ps, 1) != '\n')
			return fail(ps, error, "carriage return without a line feed");
		ps->p++;
	}
	ps->p++;
	ps->line++;
	return TRUE;
}

/* After a header or a value: spaces, an optional comment, the line end. */
static gboolean end_line(TomlParser *ps, const char *what, GError **error)
{
	skip_ws(ps);
	if (peek(ps) == '#' && !skip_comment(ps, error))
		return FALSE;
	if (at_end(ps))
		return TRUE;
	if (*ps->p == '\n' || *ps->p == '\r')
		return consume_newline(ps, error);

	g_autofree char *expected = g_strdup_printf("the end of the line %s", what);
	return fail_expected(ps, error, expected);
}

static char *read_bare_key(TomlParser *ps)
{
	const char *start = ps->p;

	while (!at_end(ps) && is_bare_key_char(*ps->p))
		ps->p++;
	return ps->p > start ? g_strndup(start, ps->p - start) : NULL;
}

/* ---- strings ----------------------------------------------------------------- */

/* At '\' followed by 'u' or 'U': n hex digits of a Unicode scalar value. */
static gboolean parse_unicode_escape(TomlParser *ps, GString *s, int n, GError **error)
{
	char letter = peek_at(ps, 1);
	guint32 v = 0;

	for (int i = 0; i < n; i++) {
		char c = peek_at(ps, 2 + i);
		if (!g_ascii_isxdigit(c))
			return fail(ps, error, "invalid \\%c escape: expected %d hexadecimal digits", letter, n);
		v = v * 16 + (guint32)g_ascii_xdigit_value(c);
	}

	g_autofree char *text = g_strndup(ps->p, 2 + n);
	if (v == 0)
		return fail(ps, error, "escape '%s' would put a NUL character in the string, which is not supported",
			    text);
	if (!g_unichar_validate(v))
		return fail(ps, error, "escape '%s' is not a Unicode scalar value", text);
	g_string_append_unichar(s, v);
	ps->p += 2 + n;
	return TRUE;
}

/* At '\' inside a basic string. */
static gboolean parse_escape(TomlParser *ps, GString *s, GError **error)
{
	static const char from[] = "\"\\btnfr";
	static const char to[] = "\"\\\b\t\n\f\r";
	char c = peek_at(ps, 1);
	const char *hit = c != '\0' ? strchr(from, c) : NULL;

	if (hit != NULL) {
		g_string_append_c(s, to[hit - from]);
		ps->p += 2;
		return TRUE;
	}
	if (c == 'u' || c == 'U')
		return parse_unicode_escape(ps, s, c == 'u' ? 4 : 8, error);
	if (c == '\0' || c == '\n' || c == '\r')
		return fail(ps, error, "unterminated string");
	if (g_ascii_isprint(c))
		return fail(ps, error, "unknown escape sequence '\\%c'", c);
	return fail(ps, error, "unknown escape sequence: '\\' followed by U+%04X", g_utf8_get_char(ps->p + 1));
}

static gboolean parse_basic_string(TomlParser *ps, char **out, GError **error)
{
	if (peek_at(ps, 1) == '"' && peek_at(ps, 2) == '"')
		return fail(ps, error, "multi-line strings are not supported");

	g_autoptr(GString) s = g_string_new(NULL);
	for (ps->p++; peek(ps) != '"';) {
		unsigned char c = (unsigned char)peek(ps);
		if (c == '\0' || c == '\n' || c == '\r')
			return fail(ps, error, "unterminated string");
		if (c == '\\') {
			if (!parse_escape(ps, s, error))
				return FALSE;
			continue;
		}
		if (is_control(c))
			return fail(ps, error, "control character U+%04X in a string; write it as an escape", c);
		g_string_append_c(s, (char)c);
		ps->p++;
	}
	ps->p++;
	*out = g_string_free(g_steal_pointer(&s), FALSE);
	return TRUE;
}

static gboolean parse_literal_string(TomlParser *ps, char **out, GError **error)
{
	if (peek_at(ps, 1) == '\'' && peek_at(ps, 2) == '\'')
		return fail(ps, error, "multi-line strings are not supported");

	const char *start = ++ps->p;
	for (; peek(ps) != '\''; ps->p++) {
		unsigned char c = (unsigned char)peek(ps);
		if (c == '\0' || c == '\n' || c == '\r')
			return fail(ps, error, "unterminated string");
		if (is_control(c))
			return fail(ps, error, "control character U+%04X in a string", c);
	}
	*out = g_strndup(start, ps->p - start);
	ps->p++;
	return TRUE;
}

static gboolean parse_string(TomlParser *ps, char **out, GError **error)
{
	return peek(ps) == '"' ? parse_basic_string(ps, out, error) : parse_literal_string(ps, out, error);
}

/* ---- arrays -------------------------------------------------------------------- */

/* Inside an array: spaces, comments and line ends, which TOML allows
 * between elements. Running out of file names the line the array began on,
 * which is where the missing ']' belongs. */
static gboolean skip_array_space(TomlParser *ps, guint start_line, GError **error)
{
	for (;;) {
		skip_ws(ps);
		if (at_end(ps))
			return fail_at(ps, start_line, error, "unterminated array");
		if (*ps->p == '#') {
			if (!skip_comment(ps, error))
				return FALSE;
			continue; /* a comment may run to the end of the file */
		}
		if (*ps->p != '\n' && *ps->p != '\r')
			return TRUE;
		if (!consume_newline(ps, error))
			return FALSE;
	}
}

static gboolean parse_array(TomlParser *ps, char ***out, GError **error)
{
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
	guint start_line = ps->line;

	for (ps->p++;;) {
		if (!skip_array_space(ps, start_line, error))
			return FALSE;
		if (peek(ps) == ']')
			break;
		if (peek(ps) == ',')
			return fail_expected(ps, error, "a string or ']' in the array");
		if (peek(ps) != '"' && peek(ps) != '\'')
			return fail(ps, error, "arrays may only hold strings");

		char *item = NULL;
		if (!parse_string(ps, &item, error))
			return FALSE;
		g_ptr_array_add(items, item);

		if (!skip_array_space(ps, start_line, error))
			return FALSE;
		if (peek(ps) == ']')
			break;
		if (peek(ps) != ',')
			return fail_expected(ps, error, "',' or ']' in the array");
		ps->p++;
	}
	ps->p++;
	g_ptr_array_add(items, NULL);
	*out = (char **)g_ptr_array_free(g_steal_pointer(&items), FALSE);
	return TRUE;
}

/* ---- bare values: booleans and integers ----------------------------------------- */

static gboolean is_inf_or_nan(const char *s)
{
	return g_str_equal(s, "inf") || g_str_equal(s, "nan");
}

/* 1979-05-27, 07:32:00, 1979-05-27T07:32:00Z: all TOML date-time forms
 * have a ':' or start with a four-digit year and a '-'. */
static gboolean looks_like_date(const char *tok)
{
	if (strchr(tok, ':') != NULL)
		return TRUE;
	for (int i = 0; i < 4; i++)
		if (!g_ascii_isdigit(tok[i]))
			return FALSE;
	return tok[4] == '-';
}

/* Optional sign, digits with single '_' between digits, no leading zero,
 * within gint64. */
static gboolean parse_decimal(TomlParser *ps, const char *tok, gint64 *out, GError **error)
{
	gboolean neg = tok[0] == '-';
	const char *s = tok + (tok[0] == '-' || tok[0] == '+');
	guint64 limit = neg ? (guint64)G_MAXINT64 + 1 : (guint64)G_MAXINT64;
	guint64 v = 0;

	if (s[0] == '0' && s[1] != '\0')
		return fail(ps, error, "leading zeros are not allowed: '%s'", tok);
	for (const char *c = s; *c != '\0'; c++) {
		if (*c == '_' && c > s && g_ascii_isdigit(c[-1]) && g_ascii_isdigit(c[1]))
			continue;
		if (!g_ascii_isdigit(*c))
			return fail(ps, error, "invalid integer '%s'", tok);
		guint d = (guint)(*c - '0');
		if (v > (limit - d) / 10)
			return fail(ps, error, "integer '%s' is out of range", tok);
		v = v * 10 + d;
	}
	if (!neg)
		*out = (gint64)v;
	else
		*out = v == (guint64)G_MAXINT64 + 1 ? G_MININT64 : -(gint64)v;
	return TRUE;
}

/* Sorts out the number-like forms TOML has and we refuse, so each gets a
 * message that says what it is rather than "invalid integer". */
static gboolean parse_number(TomlParser *ps, const char *tok, gint64 *out, GError **error)
{
	const char *digits = tok + (tok[0] == '-' || tok[0] == '+');

	if (!g_ascii_isdigit(digits[0]) && !is_inf_or_nan(digits))
		return fail(ps, error, "invalid value '%s' (strings must be quoted)", tok);
	if (looks_like_date(tok))
		return fail(ps, error, "dates and times are not supported: '%s'", tok);
	if (digits[0] == '0' && digits[1] != '\0' && strchr("xob", digits[1]) != NULL)
		return fail(ps, error, "only decimal integers are supported: '%s'", tok);
	if (is_inf_or_nan(digits) || strpbrk(digits, ".eE") != NULL)
		return fail(ps, error, "floats are not supported: '%s'", tok);
	return parse_decimal(ps, tok, out, error);
}

static gboolean parse_bare_value(TomlParser *ps, TomlEntry *e, GError **error)
{
	const char *start = ps->p;

	for (; !at_end(ps) && strchr(" \t\r\n,]#", *ps->p) == NULL; ps->p++) {
		if (is_control((unsigned char)*ps->p))
			return fail(ps, error, "control character U+%04X in a value", (unsigned char)*ps->p);
	}
	if (ps->p == start)
		return fail_expected(ps, error, "a value");

	g_autofree char *tok = g_strndup(start, ps->p - start);
	if (g_str_equal(tok, "true") || g_str_equal(tok, "false")) {
		e->type = TOML_BOOLEAN;
		e->boolean = tok[0] == 't';
		return TRUE;
	}
	e->type = TOML_INTEGER;
	return parse_number(ps, tok, &e->integer, error);
}

static gboolean parse_value(TomlParser *ps, TomlEntry *e, GError **error)
{
	switch (peek(ps)) {
	case '"':
	case '\'':
		e->type = TOML_STRING;
		return parse_string(ps, &e->string, error);
	case '[':
		e->type = TOML_STRING_ARRAY;
		return parse_array(ps, &e->strings, error);
	case '{':
		return fail(ps, error, "inline tables are not supported");
	default:
		return parse_bare_value(ps, e, error);
	}
}

/* ---- tables and keys ---------------------------------------------------------------- */

/* TOML forbids a name being both a key and a table: `b = 1` in [a] and a
 * header [a.b] (or [a.b.c]) cannot both exist, in either order. */
static gboolean check_table_free(TomlParser *ps, const char *name, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(name, ".", -1);
	g_autoptr(GString) parent = g_string_new(NULL);

	for (guint i = 0; parts[i] != NULL; i++) {
		const TomlTable *t = g_hash_table_lookup(ps->tables, parent->str);
		g_autofree char *full = dotted_key(parent->str, parts[i]);
		const TomlEntry *e = t != NULL ? g_hash_table_lookup(ps->keys, full) : NULL;
		if (e != NULL) {
			g_autofree char *where = table_where(t);
			return fail(ps, error, "table [%s] conflicts with key '%s' %s (line %u)", name, parts[i], where,
				    e->line);
		}
		g_string_append_printf(parent, "%s%s", parent->len > 0 ? "." : "", parts[i]);
	}
	return TRUE;
}

static gboolean check_key_free(TomlParser *ps, const char *key, GError **error)
{
	g_autofree char *full = dotted_key(ps->table->name, key);
	const TomlEntry *prev = g_hash_table_lookup(ps->keys, full);
	g_autofree char *where = table_where(ps->table);

	if (prev != NULL)
		return fail(ps, error, "duplicate key '%s' %s (first set at line %u)", key, where, prev->line);
	if (g_hash_table_contains(ps->table_names, full))
		return fail(ps, error, "key '%s' %s conflicts with table [%s]", key, where, full);
	return TRUE;
}

static gboolean define_table(TomlParser *ps, const char *name, GError **error)
{
	const TomlTable *prev = g_hash_table_lookup(ps->tables, name);

	if (prev != NULL)
		return fail(ps, error, "duplicate table [%s] (first defined at line %u)", name, prev->line);
	if (!check_table_free(ps, name, error))
		return FALSE;

	TomlTable *t = table_new(name, ps->line);
	g_ptr_array_add(ps->doc->tables, t);
	g_hash_table_insert(ps->tables, t->name, t);
	for (const char *dot = strchr(name, '.'); dot != NULL; dot = strchr(dot + 1, '.'))
		g_hash_table_add(ps->table_names, g_strndup(name, dot - name));
	g_hash_table_add(ps->table_names, g_strdup(name));
	ps->table = t;
	return TRUE;
}

/* At '['. Headers are one line: a bare key, or bare keys joined by dots,
 * with spaces allowed around each. */
static gboolean parse_header(TomlParser *ps, GError **error)
{
	g_autoptr(GString) name = g_string_new(NULL);

	ps->p++;
	if (peek(ps) == '[')
		return fail(ps, error, "arrays of tables ([[...]]) are not supported");
	for (;;) {
		skip_ws(ps);
		if (peek(ps) == '"' || peek(ps) == '\'')
			return fail(ps, error, "quoted keys are not supported in table names");
		g_autofree char *part = read_bare_key(ps);
		if (part == NULL)
			return fail_expected(ps, error, "a bare key (A-Za-z0-9_-) in the table header");
		g_string_append_printf(name, "%s%s", name->len > 0 ? "." : "", part);
		skip_ws(ps);
		if (peek(ps) == ']')
			break;
		if (peek(ps) != '.')
			return fail_expected(ps, error, "'.' or ']' in the table header");
		ps->p++;
	}
	ps->p++;
	return define_table(ps, name->str, error);
}

/* `key = value`; returns the key for the caller's messages. */
static gboolean parse_keyval(TomlParser *ps, char **out_key, GError **error)
{
	if (peek(ps) == '"' || peek(ps) == '\'')
		return fail(ps, error, "quoted keys are not supported; use a bare key (A-Za-z0-9_-)");
	g_autofree char *key = read_bare_key(ps);
	if (key == NULL)
		return fail_expected(ps, error, "a key or a [table] header");
	skip_ws(ps);
	if (peek(ps) == '.')
		return fail(ps, error, "dotted keys are not supported; use a [table] header");
	if (peek(ps) != '=') {
		g_autofree char *expected = g_strdup_printf("'=' after key '%s'", key);
		return fail_expected(ps, error, expected);
	}
	ps->p++;
	skip_ws(ps);
	if (at_end(ps) || strchr("#\r\n", *ps->p) != NULL)
		return fail(ps, error, "missing value for key '%s'", key);
	if (!check_key_free(ps, key, error))
		return FALSE;

	g_autoptr(TomlEntry) e = g_new0(TomlEntry, 1);
	e->key = g_strdup(key);
	e->line = ps->line;
	if (!parse_value(ps, e, error))
		return FALSE;
	g_hash_table_insert(ps->keys, dotted_key(ps->table->name, key), e);
	g_ptr_array_add(ps->table->entries, g_steal_pointer(&e));
	*out_key = g_steal_pointer(&key);
	return TRUE;
}

static gboolean parse_line(TomlParser *ps, GError **error)
{
	skip_ws(ps);
	if (peek(ps) == '[')
		return parse_header(ps, error) && end_line(ps, "after the table header", error);
	if (at_end(ps) || strchr("#\r\n", *ps->p) != NULL)
		return end_line(ps, "", error);

	g_autofree char *key = NULL;
	if (!parse_keyval(ps, &key, error))
		return FALSE;
	g_autofree char *what = g_strdup_printf("after the value of '%s'", key);
	return end_line(ps, what, error);
}

/* ---- the parser ---------------------------------------------------------------------- */

static void parser_clear(TomlParser *ps)
{
	toml_document_free(g_steal_pointer(&ps->doc));
	g_clear_pointer(&ps->tables, g_hash_table_unref);
	g_clear_pointer(&ps->table_names, g_hash_table_unref);
	g_clear_pointer(&ps->keys, g_hash_table_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(TomlParser, parser_clear)

static void parser_init(TomlParser *ps, const char *filename, const char *data, gsize len)
{
	ps->filename = filename;
	ps->p = data != NULL ? data : "";
	ps->end = ps->p + (data != NULL ? len : 0);
	ps->line = 1;
	ps->doc = g_new0(TomlDocument, 1);
	ps->doc->tables = g_ptr_array_new_with_free_func((GDestroyNotify)table_free);
	ps->tables = g_hash_table_new(g_str_hash, g_str_equal);
	ps->table_names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	ps->keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	ps->table = table_new("", 0);
	g_ptr_array_add(ps->doc->tables, ps->table);
	g_hash_table_insert(ps->tables, ps->table->name, ps->table);
}

/* TOML files are UTF-8. Checking it once up front lets the rest of the
 * parser treat every byte >= 0x80 as part of a valid character, and a NUL
 * byte as impossible. An editor's byte-order mark is skipped. */
static gboolean check_encoding(TomlParser *ps, GError **error)
{
	const char *bad = NULL;

	if (ps->end - ps->p >= 3 && memcmp(ps->p, "\xEF\xBB\xBF", 3) == 0)
		ps->p += 3;
	if (g_utf8_validate_len(ps->p, ps->end - ps->p, &bad))
		return TRUE;
	for (const char *c = ps->p; c < bad; c++)
		if (*c == '\n')
			ps->line++;
	return fail(ps, error, "%s", *bad == '\0' ? "NUL byte in the file" : "invalid UTF-8");
}

TomlDocument *toml_parse(const char *filename, const char *data, gsize len, GError **error)
{
	g_auto(TomlParser) ps = {0};

	g_return_val_if_fail(filename != NULL, NULL);
	parser_init(&ps, filename, data, len);
	if (!check_encoding(&ps, error))
		return NULL;
	while (!at_end(&ps))
		if (!parse_line(&ps, error))
			return NULL;
	return g_steal_pointer(&ps.doc);
}

/* ---- writing ----------------------------------------------------------------------------- */

/* The short escape for c, or NULL. */
static const char *short_escape(unsigned char c)
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\n':
		return "\\n";
	case '\t':
		return "\\t";
	case '\r':
		return "\\r";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	default:
		return NULL;
	}
}

void toml_append_string(GString *out, const char *s)
{
	/* Strings we parsed are UTF-8; one set by code might not be, and a
	 * writer must never produce a file its own parser refuses. */
	g_autofree char *valid = g_utf8_make_valid(s != NULL ? s : "", -1);

	g_string_append_c(out, '"');
	for (const char *p = valid; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		const char *esc = short_escape(c);
		if (esc != NULL)
			g_string_append(out, esc);
		else if (is_control(c))
			g_string_append_printf(out, "\\u%04X", c);
		else
			g_string_append_c(out, (char)c);
	}
	g_string_append_c(out, '"');
}

void toml_append_string_array(GString *out, const char *const *strv)
{
	g_string_append_c(out, '[');
	for (gsize i = 0; strv != NULL && strv[i] != NULL; i++) {
		if (i > 0)
			g_string_append(out, ", ");
		toml_append_string(out, strv[i]);
	}
	g_string_append_c(out, ']');
}
