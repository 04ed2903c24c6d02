/* fuzz-toml: configuration.toml, through the TOML-subset parser (toml.c)
 * and the configuration table on top of it (config.c).
 *
 * The input is the file's text. Besides crashes and sanitizer reports the
 * target checks what the two modules promise:
 *   - an error is one line, "fuzz.toml:<line>: <what>", and names a line
 *     of the file;
 *   - an accepted document is UTF-8 text without NUL in every string, and
 *     written back with toml_append_string() it parses into the same
 *     document (the writer never produces what the parser refuses, nor
 *     something that reads back differently);
 *   - an accepted configuration, printed by ck_config_to_toml() (what
 *     `vmctl env` shows), loads again into the same configuration.
 */
#include <string.h>

#include "base/ck-error.h"
#include "lib/config.h"
#include "lib/toml.h"
#include "fuzz.h"

#define FILENAME "fuzz.toml"

/* "fuzz.toml:<n>: " with 1 <= n <= lines + 1, and no line break. */
static void check_message(const GError *error, const char *data, size_t size, gboolean needs_line)
{
	guint lines = 1;
	const char *msg = error->message;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	fuzz_check(strpbrk(msg, "\r\n") == NULL, "error message spans lines: '%s'", msg);
	fuzz_check(g_str_has_prefix(msg, FILENAME ":"), "error message does not name the file: '%s'", msg);
	if (!needs_line)
		return;

	char *end = NULL;
	guint64 n = g_ascii_strtoull(msg + strlen(FILENAME ":"), &end, 10);
	fuzz_check(end != NULL && g_str_has_prefix(end, ": "), "error message has no line: '%s'", msg);
	fuzz_check(n >= 1 && n <= lines, "error message names line %" G_GUINT64_FORMAT " of %u: '%s'", n, lines,
		   msg);
}

static void append_value(GString *out, const TomlEntry *e)
{
	switch (e->type) {
	case TOML_STRING:
		toml_append_string(out, e->string);
		break;
	case TOML_INTEGER:
		g_string_append_printf(out, "%" G_GINT64_FORMAT, e->integer);
		break;
	case TOML_BOOLEAN:
		g_string_append(out, e->boolean ? "true" : "false");
		break;
	case TOML_STRING_ARRAY:
		toml_append_string_array(out, (const char *const *)e->strings);
		break;
	}
}

/* The document as TOML text, tables and keys in their order. */
static char *write_document(const TomlDocument *doc)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < doc->tables->len; i++) {
		const TomlTable *t = doc->tables->pdata[i];
		if (t->name[0] != '\0')
			g_string_append_printf(out, "[%s]\n", t->name);
		for (guint j = 0; j < t->entries->len; j++) {
			const TomlEntry *e = t->entries->pdata[j];
			g_string_append_printf(out, "%s = ", e->key);
			append_value(out, e);
			g_string_append_c(out, '\n');
		}
	}
	return g_string_free(out, FALSE);
}

static void check_string(const char *s)
{
	fuzz_check(s != NULL && g_utf8_validate(s, -1, NULL), "a parsed string is not valid UTF-8");
}

static void check_document(const TomlDocument *doc)
{
	fuzz_check(doc->tables->len > 0, "no root table");
	fuzz_check(((const TomlTable *)doc->tables->pdata[0])->name[0] == '\0', "first table is not the root");
	for (guint i = 0; i < doc->tables->len; i++) {
		const TomlTable *t = doc->tables->pdata[i];
		for (guint j = 0; j < t->entries->len; j++) {
			const TomlEntry *e = t->entries->pdata[j];
			if (e->type == TOML_STRING)
				check_string(e->string);
			for (char **s = e->type == TOML_STRING_ARRAY ? e->strings : NULL; s != NULL && *s != NULL; s++)
				check_string(*s);
		}
	}

	/* Written back and read again: the same tables, keys and values. */
	g_autofree char *text = write_document(doc);
	g_autoptr(GError) error = NULL;
	g_autoptr(TomlDocument) again = toml_parse("rewritten.toml", text, strlen(text), &error);
	fuzz_check(again != NULL, "the rewritten document is refused: %s\n%s", error ? error->message : "?", text);

	g_autofree char *rewritten = write_document(again);
	fuzz_check(g_str_equal(text, rewritten), "the rewritten document reads back differently:\n%s\n---\n%s", text,
		   rewritten);
}

static void check_config(const char *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CkConfig) cfg = ck_config_load_data(FILENAME, data, size, &error);

	if (cfg == NULL) {
		fuzz_check(error != NULL, "ck_config_load_data failed without an error");
		check_message(error, data, size, TRUE);
		return;
	}

	g_autofree char *env = ck_config_to_toml(cfg);
	g_autoptr(CkConfig) again = ck_config_load_data("env.toml", env, strlen(env), &error);
	fuzz_check(again != NULL, "`vmctl env` output does not load: %s\n%s", error ? error->message : "?", env);

	g_autofree char *first = fuzz_config_text(cfg);
	g_autofree char *second = fuzz_config_text(again);
	fuzz_check(g_str_equal(first, second), "`vmctl env` output loads differently:\n%s\n---\n%s", first, second);

	g_autoptr(CkConfig) copy = ck_config_copy(cfg);
	g_autofree char *copied = fuzz_config_text(copy);
	fuzz_check(g_str_equal(first, copied), "ck_config_copy differs from its original");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(TomlDocument) doc = NULL;

	fuzz_init();
	doc = toml_parse(FILENAME, (const char *)data, size, &error);
	if (doc == NULL) {
		fuzz_check(error != NULL && g_error_matches(error, CK_ERROR, CK_ERROR_INVALID),
			   "toml_parse failed without a CK_ERROR_INVALID error");
		check_message(error, (const char *)data, size, TRUE);
	} else {
		fuzz_check(error == NULL, "toml_parse set an error and returned a document");
		check_document(doc);
	}
	check_config((const char *)data, size);
	return 0;
}
