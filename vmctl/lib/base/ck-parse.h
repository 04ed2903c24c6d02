/* ck-parse: strict text-to-number conversions.
 *
 * Each rejects empty input, leading/trailing junk and whitespace, and
 * out-of-range values, and names `what` (an option, field or annotation)
 * in its one-line CK_ERROR_INVALID message.
 */
#pragma once

#include <stdint.h>

#include <glib.h>

G_BEGIN_DECLS

gboolean ck_parse_int64(const char *s, const char *what, gint64 min, gint64 max, gint64 *out, GError **error);
gboolean ck_parse_uint64(const char *s, const char *what, guint64 max, guint64 *out, GError **error);
gboolean ck_parse_int(const char *s, const char *what, int min, int max, int *out, GError **error);

/* "true"/"false" only (TOML and annotation booleans); "1"/"0" too when
 * lenient (Go's strconv.ParseBool also takes t/f/T/F/TRUE/FALSE/True/False). */
gboolean ck_parse_bool(const char *s, const char *what, gboolean lenient, gboolean *out, GError **error);

/* A signal as runc accepts it: "9", "KILL", "SIGKILL", case-insensitive
 * names, "RTMIN+3". */
gboolean ck_parse_signal(const char *s, int *out, GError **error);

/* "aa:bb:cc:dd:ee:ff" (exactly that form, hex digits either case) into 6
 * bytes; FALSE for anything else. */
gboolean ck_parse_mac(const char *s, guint8 out[6]);

/* The name of a signal without "SIG" ("TERM"), or NULL if unknown. */
const char *ck_signal_name(int sig);

G_END_DECLS
