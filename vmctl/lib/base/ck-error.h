/* ck-error: the project's error domain and its few expected conditions.
 *
 * Every function that can fail returns gboolean (or a pointer, NULL on
 * failure) and takes GError **error last. Errors come in two domains:
 *
 *   CK_ERROR        a project condition, code is a CkErrorCode
 *   CK_ERRNO_ERROR  a failed system call, code is the errno value
 *
 * Callers branch only on categories (ck_error_category()), never on
 * messages, so a system call that fails with ENOENT and a lookup that
 * finds nothing both read as CK_ERROR_NOT_FOUND. Messages are one line and
 * name the thing (file:line, field, annotation, container id); each layer
 * above adds one prefix with g_prefix_error().
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CK_ERROR (ck_error_quark())
#define CK_ERRNO_ERROR (ck_errno_error_quark())

typedef enum {
	CK_ERROR_FAILED,       /* anything else; only passed up */
	CK_ERROR_INVALID,      /* bad input: config, spec, annotation, CLI, frame */
	CK_ERROR_NOT_FOUND,    /* no such container, file, process, ... */
	CK_ERROR_EXISTS,       /* already exists */
	CK_ERROR_TIMEOUT,      /* a deadline passed */
	CK_ERROR_DISCONNECTED, /* the peer (QEMU, agent, monitor) went away */
	CK_ERROR_UNSUPPORTED,  /* not implemented, or the host lacks it */
	CK_ERROR_PERMISSION,   /* EPERM/EACCES */
	CK_ERROR_CODE_MAX,
} CkErrorCode;

GQuark ck_error_quark(void);
GQuark ck_errno_error_quark(void);

/* Sets a CK_ERROR error and returns FALSE, so that `return ck_set_error(...)`
 * reads as one statement. */
gboolean ck_set_error(GError **error, CkErrorCode code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Sets a CK_ERRNO_ERROR error whose message is "<fmt>: <strerror(errsv)>"
 * and returns FALSE. */
gboolean ck_set_error_errno(GError **error, int errsv, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* Category of any GError (CK_ERROR, CK_ERRNO_ERROR, G_FILE_ERROR);
 * FAILED for anything else. */
CkErrorCode ck_error_category(const GError *error);
gboolean ck_error_is(const GError *error, CkErrorCode code);

/* The errno behind an error, or 0 when it did not come from errno. */
int ck_error_errno(const GError *error);

CkErrorCode ck_error_code_from_errno(int errsv);

/* "invalid", "not_found", ... as used on the wire; NULL-safe round trip. */
const char *ck_error_code_to_string(CkErrorCode code);
CkErrorCode ck_error_code_from_string(const char *s);

G_END_DECLS
