/* toml: a strict parser for the TOML subset that configuration.toml uses.
 *
 * It owns the syntax only. Which tables and keys exist, their types and
 * their ranges are config.c's business; this module turns text into a
 * TomlDocument (tables in file order, each with its entries in file order,
 * every one carrying its line number) or fails with one error.
 *
 * Accepted (TOML 1.0 where it overlaps):
 *   - `[table]` and `[a.b]` headers made of bare keys, spaces around the
 *     names and dots allowed; a table may be defined once;
 *   - `key = value` with a bare key (A-Za-z0-9_-), once per table;
 *   - basic strings "..." with the escapes \" \\ \b \t \n \f \r \uXXXX
 *     \UXXXXXXXX, and literal strings '...';
 *   - decimal integers: optional sign, `_` between digits, no leading
 *     zeros, within 64 bits;
 *   - true and false;
 *   - arrays of strings, which may span lines and hold comments, with an
 *     optional trailing comma; [] is an empty array of strings;
 *   - `#` comments, blank lines, LF or CRLF line ends, a UTF-8 BOM.
 *
 * Everything else is refused rather than guessed at: floats, dates and
 * times, hexadecimal/octal/binary integers, inline tables, arrays of
 * tables, arrays of anything but strings, multi-line strings, quoted and
 * dotted keys, control characters, invalid UTF-8, a bare CR, and a key
 * that collides with a table (TOML forbids `b = 1` in [a] next to [a.b]).
 * The error is CK_ERROR_INVALID with the one-line message
 *
 *     <filename>:<line>: <what is wrong>
 *
 * Not supported on purpose: \u0000 (our strings are C strings).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
	TOML_STRING,
	TOML_INTEGER,
	TOML_BOOLEAN,
	TOML_STRING_ARRAY,
} TomlType;

/* One `key = value`. Only the member matching `type` is set. */
typedef struct {
	char *key;
	guint line; /* of the key; an array may continue on later lines */
	TomlType type;
	char *string;	  /* TOML_STRING, UTF-8 without NUL */
	gint64 integer;	  /* TOML_INTEGER */
	gboolean boolean; /* TOML_BOOLEAN */
	char **strings;	  /* TOML_STRING_ARRAY, NULL-terminated, maybe empty */
} TomlEntry;

typedef struct {
	char *name;	    /* dotted, spaces removed ("hypervisor.qemu"); "" for the root */
	guint line;	    /* of the [header]; 0 for the root table */
	GPtrArray *entries; /* TomlEntry *, in file order */
} TomlTable;

typedef struct {
	/* TomlTable *, in file order. [0] is always the root table (keys
	 * before the first header), even when it is empty. Tables that only
	 * exist as a prefix of a header (the "a" of [a.b]) are not listed. */
	GPtrArray *tables;
} TomlDocument;

/* Parses `len` bytes of `data` (need not be NUL-terminated). `filename`
 * is used only in error messages. Returns a new document, to be freed
 * with toml_document_free(), or NULL with a CK_ERROR_INVALID error. */
TomlDocument *toml_parse(const char *filename, const char *data, gsize len, GError **error);

void toml_document_free(TomlDocument *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TomlDocument, toml_document_free)

/* "a string", "an integer", "a boolean", "an array of strings": for
 * messages such as "expected an integer, got a string". Static strings. */
const char *toml_type_to_string(TomlType type);

/* Appends `s` to `out` as a TOML basic string, quoted and escaped so
 * that toml_parse() reads back exactly `s`. */
void toml_append_string(GString *out, const char *s);

/* Appends a TOML array of basic strings ("[]" for NULL or empty). */
void toml_append_string_array(GString *out, const char *const *strv);

G_END_DECLS
