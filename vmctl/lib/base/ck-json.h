/* ck-json: the only place that talks to yajl directly.
 *
 * Generating: CkJsonGen wraps yajl_gen and latches the first failure, so a
 * whole object is written and checked once at ck_json_gen_finish(); after
 * a failure the calls do nothing (yajl_gen may not be used again, and it
 * nests 128 levels at most). Strings
 * that are not valid UTF-8 are repaired (U+FFFD) rather than dropped:
 * error texts from a runtime or a guest must reach the caller.
 *
 * Parsing: ck_json_parse() turns bytes into a yajl tree; typed getters and
 * a declarative dispatch table (modelled on systemd's sd-json dispatch)
 * turn objects into structs and name the failing field by its dotted path,
 * e.g. "process.args[2]: expected a string". Strict dispatch rejects
 * unknown keys (our own files and wire messages); lenient dispatch ignores
 * them (OCI config.json, whose spec requires that).
 */
#pragma once

#include <glib.h>
#include <yajl/yajl_tree.h>

#include "ck-cleanup.h"

G_BEGIN_DECLS

typedef struct CkJsonGen CkJsonGen;

CkJsonGen *ck_json_gen_new(void);
void ck_json_gen_free(CkJsonGen *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CkJsonGen, ck_json_gen_free)

void ck_json_map_open(CkJsonGen *g);
void ck_json_map_close(CkJsonGen *g);
void ck_json_array_open(CkJsonGen *g);
void ck_json_array_close(CkJsonGen *g);
/* Closes every container still open, innermost first. */
void ck_json_close_all(CkJsonGen *g);
void ck_json_key(CkJsonGen *g, const char *key);
void ck_json_string(CkJsonGen *g, const char *s); /* NULL -> null */
void ck_json_string_len(CkJsonGen *g, const char *s, gsize len);
void ck_json_int(CkJsonGen *g, gint64 v);
void ck_json_uint64(CkJsonGen *g, guint64 v);
void ck_json_bool(CkJsonGen *g, gboolean v);
void ck_json_null(CkJsonGen *g);
void ck_json_strv(CkJsonGen *g, const char *const *strv); /* NULL -> [] */
/* Re-emits a parsed value (object, array, scalar) as is. */
void ck_json_value(CkJsonGen *g, yajl_val v);

/* key + value shorthands */
void ck_json_kv_string(CkJsonGen *g, const char *key, const char *s);
void ck_json_kv_int(CkJsonGen *g, const char *key, gint64 v);
void ck_json_kv_bool(CkJsonGen *g, const char *key, gboolean v);

/* Returns the NUL-terminated document (caller frees) and its length, or
 * NULL with an error if any call above failed or the document is open. */
char *ck_json_gen_finish(CkJsonGen *g, gsize *out_len, GError **error);

/* A parsed value in the layout of Go's encoding/json (ck-json-layout.c),
 * which runc's output has: compact for indent == NULL, else one value per
 * line indented by `indent` per level (json.MarshalIndent). No trailing
 * newline. */
char *ck_json_layout(yajl_val v, const char *indent);

/* ck_json_gen_finish() followed by ck_json_layout() of the document. */
char *ck_json_gen_finish_layout(CkJsonGen *g, const char *indent, GError **error);

/* How deeply a parsed document may nest objects and arrays. Far beyond
 * any config.json or message (they nest a handful of levels), and low
 * enough that every accepted document can be written back, inside an
 * envelope, by yajl_gen (128 levels at most), and that no recursion over
 * a tree (yajl_tree_free() is one) can exhaust a stack. */
#define CK_JSON_MAX_DEPTH 64

/* Parses len bytes (need not be NUL-terminated). `what` names the source
 * in the error ("config.json", "agent reply"). A document nested deeper
 * than CK_JSON_MAX_DEPTH is CK_ERROR_INVALID. */
yajl_val ck_json_parse(const char *data, gsize len, const char *what, GError **error);

/* Reads and parses a file of at most max_size bytes. */
yajl_val ck_json_parse_file(const char *path, gsize max_size, GError **error);

const char *ck_json_type_name(yajl_val v);

/* Member lookup; NULL when obj is not an object or the key is absent. */
yajl_val ck_json_get(yajl_val obj, const char *key);
/* Takes the value of `key` out of obj: the caller owns it; obj keeps the
 * key with no value (NULL, as yajl_tree_free and ck_json_get accept).
 * NULL when obj is no object or has no such key. */
yajl_val ck_json_take(yajl_val obj, const char *key);

/* Integer value of a number node that fits in gint64. */
gboolean ck_json_as_int64(yajl_val v, gint64 *out);

typedef enum {
	CK_JSON_STRING,	 /* char *, g_strdup'ed */
	CK_JSON_INT64,	 /* gint64 */
	CK_JSON_INT,	 /* int, range-checked against min/max */
	CK_JSON_UINT32,	 /* guint32 */
	CK_JSON_UINT64,	 /* guint64 (full range) */
	CK_JSON_BOOL,	 /* gboolean */
	CK_JSON_STRV,	 /* char **, array of strings */
	CK_JSON_OBJECT,	 /* yajl_val, borrowed from the tree */
	CK_JSON_ARRAY,	 /* yajl_val, borrowed */
	CK_JSON_ANY,	 /* yajl_val, borrowed */
	CK_JSON_CUSTOM,	 /* handled by .custom */
	CK_JSON_IGNORE,	 /* known key, value not used */
} CkJsonType;

enum {
	CK_JSON_REQUIRED = 1 << 0,
	CK_JSON_NULLABLE = 1 << 1, /* null is accepted and means absent */
};

typedef gboolean (*CkJsonCustomFunc)(yajl_val v, const char *path, gpointer field, GError **error);

typedef struct {
	const char *key;
	CkJsonType type;
	gsize offset;
	guint flags;
	gint64 min, max; /* CK_JSON_INT only; both 0 means INT_MIN..INT_MAX */
	CkJsonCustomFunc custom;
} CkJsonField;

typedef enum {
	CK_JSON_LENIENT = 0, /* unknown keys ignored */
	CK_JSON_STRICT = 1,  /* unknown keys rejected */
} CkJsonMode;

/* Fills target from obj per fields. `path` is the dotted location of obj
 * used in messages ("" for the document root). Values are written only for
 * present keys; on failure, already-written strings remain owned by target
 * and are released by its normal clear function. */
gboolean ck_json_dispatch(yajl_val obj, const CkJsonField *fields, gpointer target, const char *path,
			  CkJsonMode mode, GError **error);

/* "a.b" / "a[3]" path joining for messages. */
char *ck_json_path_key(const char *path, const char *key);
char *ck_json_path_index(const char *path, gsize index);

G_END_DECLS
