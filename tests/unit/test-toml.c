/* Unit tests: the strict TOML-subset parser (toml.c).
 *
 * Accepted input is compared through a dump of the whole document (every
 * table and entry with its line and typed value), so a test also proves
 * nothing else was produced. Every refused input is checked against its
 * exact one-line message.
 */
#include <string.h>

#include <glib.h>

#include "base/ck-error.h"
#include "lib/toml.h"

/* "[name] line" per table, then "key line type value" per entry. */
static char *dump(const TomlDocument *doc)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < doc->tables->len; i++) {
		const TomlTable *t = doc->tables->pdata[i];
		g_string_append_printf(out, "[%s] %u\n", t->name, t->line);
		for (guint j = 0; j < t->entries->len; j++) {
			const TomlEntry *e = t->entries->pdata[j];
			g_string_append_printf(out, "%s %u ", e->key, e->line);
			if (e->type == TOML_STRING)
				toml_append_string(out, e->string);
			else if (e->type == TOML_INTEGER)
				g_string_append_printf(out, "%" G_GINT64_FORMAT, e->integer);
			else if (e->type == TOML_BOOLEAN)
				g_string_append(out, e->boolean ? "true" : "false");
			else
				toml_append_string_array(out, (const char *const *)e->strings);
			g_string_append_c(out, '\n');
		}
	}
	return g_string_free(out, FALSE);
}

static TomlDocument *parse_ok(const char *text)
{
	g_autoptr(GError) error = NULL;
	TomlDocument *doc = toml_parse("t.toml", text, strlen(text), &error);

	g_assert_no_error(error);
	g_assert_nonnull(doc);
	return doc;
}

typedef struct {
	const char *name;
	const char *input;
	const char *dump;
} AcceptCase;

static const AcceptCase accept_cases[] = {
    {"empty file", "", "[] 0\n"},
    {"only comments and blank lines", "# one\n\n   \t\n# two", "[] 0\n"},
    {"no final newline", "a = 1", "[] 0\na 1 1\n"},
    {"root keys then a table", "a = \"x\"\n[s]\nb = true\nc = false\n",
     "[] 0\na 1 \"x\"\n[s] 2\nb 3 true\nc 4 false\n"},
    {"dotted header, spaces around names", "[ hypervisor . qemu ]\nk = 1\n", "[] 0\n[hypervisor.qemu] 1\nk 2 1\n"},
    {"tabs and no spaces around =", "\tk=1\n[t]\t# c\nx\t=\t'y'\t# c\n", "[] 0\nk 1 1\n[t] 2\nx 3 \"y\"\n"},
    {"bare key characters", "A-z_0-9 = 1\n1234 = 2\n", "[] 0\nA-z_0-9 1 1\n1234 2 2\n"},
    {"comments after values", "a = \"#not a comment\" # a comment\n", "[] 0\na 1 \"#not a comment\"\n"},
    {"literal strings keep backslashes", "p = 'C:\\dir\\n'\n", "[] 0\np 1 \"C:\\\\dir\\\\n\"\n"},
    {"empty strings", "a = \"\"\nb = ''\n", "[] 0\na 1 \"\"\nb 2 \"\"\n"},
    {"tab inside strings", "a = \"x\ty\"\nb = 'x\ty'\n", "[] 0\na 1 \"x\\ty\"\nb 2 \"x\\ty\"\n"},
    {"UTF-8 in strings and comments", "a = \"h\xc3\xa9\" # \xc3\xa9\n", "[] 0\na 1 \"h\xc3\xa9\"\n"},
    {"integers",
     "a = 0\nb = +0\nc = -0\nd = 42\ne = +17\nf = -5\ng = 1_000_000\nh = 9223372036854775807\n"
     "i = -9223372036854775808\n",
     "[] 0\na 1 0\nb 2 0\nc 3 0\nd 4 42\ne 5 17\nf 6 -5\ng 7 1000000\nh 8 9223372036854775807\n"
     "i 9 -9223372036854775808\n"},
    {"arrays on one line", "a = []\nb = [ ]\nc = [\"x\"]\nd = ['x', \"y\",]\n",
     "[] 0\na 1 []\nb 2 []\nc 3 [\"x\"]\nd 4 [\"x\", \"y\"]\n"},
    {"multi-line array with comments and a trailing comma",
     "a = [ # first\n  \"x\", # after x\n\n  # alone\n  'y',\n]\nb = 1\n", "[] 0\na 1 [\"x\", \"y\"]\nb 7 1\n"},
    {"multi-line array, comma first", "a = [\"x\"\n  , \"y\"\n]\n", "[] 0\na 1 [\"x\", \"y\"]\n"},
    {"CRLF line ends", "# c\r\n[s]\r\na = 1 # c\r\nb = [\r\n\"x\",\r\n]\r\nc = 'z'\r\n",
     "[] 0\n[s] 2\na 3 1\nb 4 [\"x\"]\nc 7 \"z\"\n"},
    {"byte-order mark",
     "\xef\xbb\xbf"
     "a = 1\n",
     "[] 0\na 1 1\n"},
    {"a super-table after its sub-table", "[a.b]\nx = 1\n[a]\ny = 2\n", "[] 0\n[a.b] 1\nx 2 1\n[a] 3\ny 4 2\n"},
    {"same key in different tables", "[a]\nk = 1\n[b]\nk = 2\n", "[] 0\n[a] 1\nk 2 1\n[b] 3\nk 4 2\n"},
    {"empty tables", "[a]\n[b]\n", "[] 0\n[a] 1\n[b] 2\n"},
};

static void test_accept(gconstpointer data)
{
	const AcceptCase *c = data;
	g_autoptr(TomlDocument) doc = parse_ok(c->input);
	g_autofree char *text = dump(doc);

	g_assert_cmpstr(text, ==, c->dump);
}

typedef struct {
	const char *input;
	const char *message;
} RejectCase;

static const RejectCase reject_cases[] = {
    /* lines and encoding */
    {"a = 1\rb = 2\n", "t.toml:1: carriage return without a line feed"},
    {"a = 1\n\n\xff = 2\n", "t.toml:3: invalid UTF-8"},
    {"a = \"\xc3\"\n", "t.toml:1: invalid UTF-8"},
    {"# \x01\n", "t.toml:1: control character U+0001 in a comment"},
    {"a = 1 # \x7f\n", "t.toml:1: control character U+007F in a comment"},
    /* keys */
    {"= 1\n", "t.toml:1: expected a key or a [table] header, found '='"},
    {"\xc3\xa9 = 1\n", "t.toml:1: expected a key or a [table] header, found U+00E9"},
    {"\"a\" = 1\n", "t.toml:1: quoted keys are not supported; use a bare key (A-Za-z0-9_-)"},
    {"'a' = 1\n", "t.toml:1: quoted keys are not supported; use a bare key (A-Za-z0-9_-)"},
    {"a.b = 1\n", "t.toml:1: dotted keys are not supported; use a [table] header"},
    {"a b = 1\n", "t.toml:1: expected '=' after key 'a', found 'b'"},
    {"a\n", "t.toml:1: expected '=' after key 'a', found end of line"},
    {"a", "t.toml:1: expected '=' after key 'a', found end of file"},
    {"a =\n", "t.toml:1: missing value for key 'a'"},
    {"a = # nothing\n", "t.toml:1: missing value for key 'a'"},
    {"a = 1 2\n", "t.toml:1: expected the end of the line after the value of 'a', found '2'"},
    {"a = \"x\" \"y\"\n", "t.toml:1: expected the end of the line after the value of 'a', found '\"'"},
    {"a = 1\nb = 2\na = 3\n", "t.toml:3: duplicate key 'a' at the top level (first set at line 1)"},
    {"[s]\na = 1\n\na = 1\n", "t.toml:4: duplicate key 'a' in [s] (first set at line 2)"},
    /* tables */
    {"[s]\n[t]\n[s]\n", "t.toml:3: duplicate table [s] (first defined at line 1)"},
    {"[a.b]\n[ a . b ]\n", "t.toml:2: duplicate table [a.b] (first defined at line 1)"},
    {"[[a]]\n", "t.toml:1: arrays of tables ([[...]]) are not supported"},
    {"[]\n", "t.toml:1: expected a bare key (A-Za-z0-9_-) in the table header, found ']'"},
    {"[a.]\n", "t.toml:1: expected a bare key (A-Za-z0-9_-) in the table header, found ']'"},
    {"[.a]\n", "t.toml:1: expected a bare key (A-Za-z0-9_-) in the table header, found '.'"},
    {"[a b]\n", "t.toml:1: expected '.' or ']' in the table header, found 'b'"},
    {"[a\n", "t.toml:1: expected '.' or ']' in the table header, found end of line"},
    {"[\"a\"]\n", "t.toml:1: quoted keys are not supported in table names"},
    {"[a] b = 1\n", "t.toml:1: expected the end of the line after the table header, found 'b'"},
    {"[a]\nb = 1\n[a.b]\n", "t.toml:3: table [a.b] conflicts with key 'b' in [a] (line 2)"},
    {"a = 1\n[a.b.c]\n", "t.toml:2: table [a.b.c] conflicts with key 'a' at the top level (line 1)"},
    {"[a.b]\n[a]\nb = 1\n", "t.toml:3: key 'b' in [a] conflicts with table [a.b]"},
    {"[a.b.c]\n[a]\nb = 1\n", "t.toml:3: key 'b' in [a] conflicts with table [a.b]"},
    /* strings */
    {"a = \"x\n", "t.toml:1: unterminated string"},
    {"a = 'x\n", "t.toml:1: unterminated string"},
    {"a = \"x", "t.toml:1: unterminated string"},
    {"a = \"x\\", "t.toml:1: unterminated string"},
    {"a = \"\"\"x\"\"\"\n", "t.toml:1: multi-line strings are not supported"},
    {"a = '''x'''\n", "t.toml:1: multi-line strings are not supported"},
    {"a = \"\\q\"\n", "t.toml:1: unknown escape sequence '\\q'"},
    {"a = \"\\ \"\n", "t.toml:1: unknown escape sequence '\\ '"},
    {"a = \"\\u12G4\"\n", "t.toml:1: invalid \\u escape: expected 4 hexadecimal digits"},
    {"a = \"\\u12\"\n", "t.toml:1: invalid \\u escape: expected 4 hexadecimal digits"},
    {"a = \"\\U0001F60\"\n", "t.toml:1: invalid \\U escape: expected 8 hexadecimal digits"},
    {"a = \"\\uD800\"\n", "t.toml:1: escape '\\uD800' is not a Unicode scalar value"},
    {"a = \"\\U00110000\"\n", "t.toml:1: escape '\\U00110000' is not a Unicode scalar value"},
    {"a = \"\\u0000\"\n", "t.toml:1: escape '\\u0000' would put a NUL character in the string, which is not supported"},
    {"a = \"x\x01\"\n", "t.toml:1: control character U+0001 in a string; write it as an escape"},
    {"a = 'x\x1b'\n", "t.toml:1: control character U+001B in a string"},
    /* numbers and other bare values */
    {"a = 1.5\n", "t.toml:1: floats are not supported: '1.5'"},
    {"a = -2e3\n", "t.toml:1: floats are not supported: '-2e3'"},
    {"a = 5E+2\n", "t.toml:1: floats are not supported: '5E+2'"},
    {"a = inf\n", "t.toml:1: floats are not supported: 'inf'"},
    {"a = -nan\n", "t.toml:1: floats are not supported: '-nan'"},
    {"a = 1979-05-27\n", "t.toml:1: dates and times are not supported: '1979-05-27'"},
    {"a = 1979-05-27T07:32:00Z\n", "t.toml:1: dates and times are not supported: '1979-05-27T07:32:00Z'"},
    {"a = 07:32:00\n", "t.toml:1: dates and times are not supported: '07:32:00'"},
    {"a = 0x1F\n", "t.toml:1: only decimal integers are supported: '0x1F'"},
    {"a = 0o17\n", "t.toml:1: only decimal integers are supported: '0o17'"},
    {"a = 0b101\n", "t.toml:1: only decimal integers are supported: '0b101'"},
    {"a = 007\n", "t.toml:1: leading zeros are not allowed: '007'"},
    {"a = -01\n", "t.toml:1: leading zeros are not allowed: '-01'"},
    {"a = 1__0\n", "t.toml:1: invalid integer '1__0'"},
    {"a = 1_\n", "t.toml:1: invalid integer '1_'"},
    {"a = +_1\n", "t.toml:1: invalid value '+_1' (strings must be quoted)"},
    {"a = 12abc\n", "t.toml:1: invalid integer '12abc'"},
    {"a = 9223372036854775808\n", "t.toml:1: integer '9223372036854775808' is out of range"},
    {"a = -9223372036854775809\n", "t.toml:1: integer '-9223372036854775809' is out of range"},
    {"a = 99999999999999999999999\n", "t.toml:1: integer '99999999999999999999999' is out of range"},
    {"a = foo\n", "t.toml:1: invalid value 'foo' (strings must be quoted)"},
    {"a = True\n", "t.toml:1: invalid value 'True' (strings must be quoted)"},
    {"a = -\n", "t.toml:1: invalid value '-' (strings must be quoted)"},
    {"a = ,\n", "t.toml:1: expected a value, found ','"},
    {"a = x\x01y\n", "t.toml:1: control character U+0001 in a value"},
    {"a = {x = 1}\n", "t.toml:1: inline tables are not supported"},
    /* arrays */
    {"a = [1, 2]\n", "t.toml:1: arrays may only hold strings"},
    {"a = [\"x\", true]\n", "t.toml:1: arrays may only hold strings"},
    {"a = [\n\"x\",\n[\"y\"]]\n", "t.toml:3: arrays may only hold strings"},
    {"a = [,]\n", "t.toml:1: expected a string or ']' in the array, found ','"},
    {"a = [\"x\",,]\n", "t.toml:1: expected a string or ']' in the array, found ','"},
    {"a = [\"x\" \"y\"]\n", "t.toml:1: expected ',' or ']' in the array, found '\"'"},
    {"\na = [\n\"x\",\n# never closed\n", "t.toml:2: unterminated array"},
    {"a = [\"x\"\n", "t.toml:1: unterminated array"},
    /* the comment ends the file: nothing may be read after it */
    {"a = [ # no end", "t.toml:1: unterminated array"},
    {"a = [\"x\", # no end", "t.toml:1: unterminated array"},
    {"a = [\"x\"] 1\n", "t.toml:1: expected the end of the line after the value of 'a', found '1'"},
};

static void test_reject(gconstpointer data)
{
	const RejectCase *c = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(TomlDocument) doc = toml_parse("t.toml", c->input, strlen(c->input), &error);

	g_assert_null(doc);
	g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
	g_assert_cmpstr(error->message, ==, c->message);
}

/* A NUL byte cannot be written in a C string literal test case. */
static void test_reject_nul(void)
{
	static const char input[] = "a = 1\nb = \"x\0y\"\n";
	g_autoptr(GError) error = NULL;
	g_autoptr(TomlDocument) doc = toml_parse("t.toml", input, sizeof input - 1, &error);

	g_assert_null(doc);
	g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
	g_assert_cmpstr(error->message, ==, "t.toml:2: NUL byte in the file");
}

/* Only `len` bytes are read: the data need not end in NUL. */
static void test_length_bounded(void)
{
	static const char input[] = "a = 1\nb = oops";
	g_autoptr(GError) error = NULL;
	g_autoptr(TomlDocument) doc = toml_parse("t.toml", input, 6, &error);

	g_assert_no_error(error);
	g_autofree char *text = dump(doc);
	g_assert_cmpstr(text, ==, "[] 0\na 1 1\n");
}

static void test_escapes(void)
{
	g_autoptr(TomlDocument) doc =
	    parse_ok("a = \"q\\\" b\\\\ n\\n t\\t r\\r b\\b f\\f e\\u00E9 g\\U0001F600 z\\u007f\"\n");
	const TomlEntry *e = ((TomlTable *)doc->tables->pdata[0])->entries->pdata[0];

	g_assert_cmpint(e->type, ==, TOML_STRING);
	g_assert_cmpstr(e->string, ==, "q\" b\\ n\n t\t r\r b\b f\f e\xc3\xa9 g\xf0\x9f\x98\x80 z\x7f");
}

static void test_values(void)
{
	g_autoptr(TomlDocument) doc = parse_ok("[s]\ni = -42\nb = true\nl = ['a', \"b\"]\ne = []\n");
	const TomlTable *t = doc->tables->pdata[1];
	const TomlEntry *i = t->entries->pdata[0], *b = t->entries->pdata[1];
	const TomlEntry *l = t->entries->pdata[2], *e = t->entries->pdata[3];

	g_assert_cmpuint(doc->tables->len, ==, 2);
	g_assert_cmpstr(t->name, ==, "s");
	g_assert_cmpint(i->type, ==, TOML_INTEGER);
	g_assert_cmpint(i->integer, ==, -42);
	g_assert_cmpint(b->type, ==, TOML_BOOLEAN);
	g_assert_true(b->boolean);
	g_assert_cmpint(l->type, ==, TOML_STRING_ARRAY);
	g_assert_cmpuint(g_strv_length(l->strings), ==, 2);
	g_assert_cmpstr(l->strings[1], ==, "b");
	g_assert_nonnull(e->strings);
	g_assert_null(e->strings[0]);
}

static void test_type_names(void)
{
	g_assert_cmpstr(toml_type_to_string(TOML_STRING), ==, "a string");
	g_assert_cmpstr(toml_type_to_string(TOML_INTEGER), ==, "an integer");
	g_assert_cmpstr(toml_type_to_string(TOML_BOOLEAN), ==, "a boolean");
	g_assert_cmpstr(toml_type_to_string(TOML_STRING_ARRAY), ==, "an array of strings");
}

/* Whatever the writer produces, the parser reads back unchanged. */
static void test_writer_round_trip(void)
{
	static const char *const values[] = {
	    "",
	    "plain",
	    "quote \" backslash \\",
	    "\n\t\r\b\f",
	    "\x01\x1f\x7f",
	    "h\xc3\xa9 \xf0\x9f\x98\x80",
	    "# not a comment",
	    "'single'",
	    NULL,
	};
	g_autoptr(GString) text = g_string_new(NULL);

	for (gsize i = 0; values[i] != NULL; i++) {
		g_string_append_printf(text, "k%" G_GSIZE_FORMAT " = ", i);
		toml_append_string(text, values[i]);
		g_string_append_c(text, '\n');
	}
	g_string_append(text, "all = ");
	toml_append_string_array(text, values);
	g_string_append(text, "\nnone = ");
	toml_append_string_array(text, NULL);
	g_string_append_c(text, '\n');

	g_autoptr(TomlDocument) doc = parse_ok(text->str);
	const TomlTable *root = doc->tables->pdata[0];
	for (gsize i = 0; values[i] != NULL; i++)
		g_assert_cmpstr(((TomlEntry *)root->entries->pdata[i])->string, ==, values[i]);
	const TomlEntry *all = root->entries->pdata[G_N_ELEMENTS(values) - 1];
	const TomlEntry *none = root->entries->pdata[G_N_ELEMENTS(values)];
	g_assert_true(g_strv_equal((const char *const *)all->strings, values));
	g_assert_cmpuint(g_strv_length(none->strings), ==, 0);
}

/* Invalid UTF-8 from code is written as U+FFFD, never as a file the
 * parser would refuse. */
static void test_writer_invalid_utf8(void)
{
	g_autoptr(GString) text = g_string_new("a = ");

	toml_append_string(text, "x\xffy");
	g_autoptr(TomlDocument) doc = parse_ok(text->str);
	const TomlEntry *e = ((TomlTable *)doc->tables->pdata[0])->entries->pdata[0];
	g_assert_cmpstr(e->string, ==, "x\xef\xbf\xbdy");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	for (gsize i = 0; i < G_N_ELEMENTS(accept_cases); i++) {
		g_autofree char *name = g_strdup_printf("/toml/accept/%s", accept_cases[i].name);
		g_strdelimit(name + strlen("/toml/accept/"), " /,", '-');
		g_test_add_data_func(name, &accept_cases[i], test_accept);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(reject_cases); i++) {
		g_autofree char *name = g_strdup_printf("/toml/reject/%02" G_GSIZE_FORMAT, i);
		g_test_add_data_func(name, &reject_cases[i], test_reject);
	}
	g_test_add_func("/toml/reject/nul-byte", test_reject_nul);
	g_test_add_func("/toml/length-bounded", test_length_bounded);
	g_test_add_func("/toml/basic-string-escapes", test_escapes);
	g_test_add_func("/toml/typed-values", test_values);
	g_test_add_func("/toml/type-names", test_type_names);
	g_test_add_func("/toml/writer/round-trip", test_writer_round_trip);
	g_test_add_func("/toml/writer/invalid-utf8", test_writer_invalid_utf8);
	return g_test_run();
}
