/* ck-error: error domains, categories and errno mapping. */
#include "ck-error.h"

#include <errno.h>

G_DEFINE_QUARK(ck-error-quark, ck_error)
G_DEFINE_QUARK(ck-errno-error-quark, ck_errno_error)

static const char *const code_names[CK_ERROR_CODE_MAX] = {
	[CK_ERROR_FAILED] = "failed",
	[CK_ERROR_INVALID] = "invalid",
	[CK_ERROR_NOT_FOUND] = "not_found",
	[CK_ERROR_EXISTS] = "exists",
	[CK_ERROR_TIMEOUT] = "timeout",
	[CK_ERROR_DISCONNECTED] = "disconnected",
	[CK_ERROR_UNSUPPORTED] = "unsupported",
	[CK_ERROR_PERMISSION] = "permission",
};

gboolean ck_set_error(GError **error, CkErrorCode code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (error != NULL) {
		g_autofree char *msg = g_strdup_vprintf(fmt, ap);
		g_set_error_literal(error, CK_ERROR, code, msg);
	}
	va_end(ap);
	return FALSE;
}

gboolean ck_set_error_errno(GError **error, int errsv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (error != NULL) {
		g_autofree char *msg = g_strdup_vprintf(fmt, ap);
		g_set_error(error, CK_ERRNO_ERROR, errsv, "%s: %s", msg, g_strerror(errsv));
	}
	va_end(ap);
	return FALSE;
}

CkErrorCode ck_error_code_from_errno(int errsv)
{
	switch (errsv) {
	case ENOENT:
	case ESRCH:
	case ENODEV:
	case ENXIO:
		return CK_ERROR_NOT_FOUND;
	case EEXIST:
		return CK_ERROR_EXISTS;
	case EINVAL:
	case E2BIG:
	case ENAMETOOLONG:
	case ENOEXEC:
		return CK_ERROR_INVALID;
	case ETIMEDOUT:
		return CK_ERROR_TIMEOUT;
	case EPIPE:
	case ECONNRESET:
	case ECONNREFUSED:
	case ENOTCONN:
	case ESHUTDOWN:
		return CK_ERROR_DISCONNECTED;
	case ENOSYS:
	case EOPNOTSUPP:
		return CK_ERROR_UNSUPPORTED;
	case EPERM:
	case EACCES:
		return CK_ERROR_PERMISSION;
	default:
		return CK_ERROR_FAILED;
	}
}

static CkErrorCode category_from_file_error(int code)
{
	switch (code) {
	case G_FILE_ERROR_NOENT:
		return CK_ERROR_NOT_FOUND;
	case G_FILE_ERROR_EXIST:
		return CK_ERROR_EXISTS;
	case G_FILE_ERROR_INVAL:
	case G_FILE_ERROR_NAMETOOLONG:
		return CK_ERROR_INVALID;
	case G_FILE_ERROR_PERM:
	case G_FILE_ERROR_ACCES:
		return CK_ERROR_PERMISSION;
	case G_FILE_ERROR_PIPE:
		return CK_ERROR_DISCONNECTED;
	default:
		return CK_ERROR_FAILED;
	}
}

CkErrorCode ck_error_category(const GError *error)
{
	if (error == NULL)
		return CK_ERROR_FAILED;
	if (error->domain == CK_ERROR)
		return error->code >= 0 && error->code < CK_ERROR_CODE_MAX ? (CkErrorCode)error->code
									   : CK_ERROR_FAILED;
	if (error->domain == CK_ERRNO_ERROR)
		return ck_error_code_from_errno(error->code);
	if (error->domain == G_FILE_ERROR)
		return category_from_file_error(error->code);
	return CK_ERROR_FAILED;
}

gboolean ck_error_is(const GError *error, CkErrorCode code)
{
	return error != NULL && ck_error_category(error) == code;
}

int ck_error_errno(const GError *error)
{
	if (error != NULL && error->domain == CK_ERRNO_ERROR)
		return error->code;
	return 0;
}

const char *ck_error_code_to_string(CkErrorCode code)
{
	if ((int)code < 0 || code >= CK_ERROR_CODE_MAX)
		return code_names[CK_ERROR_FAILED];
	return code_names[code];
}

CkErrorCode ck_error_code_from_string(const char *s)
{
	for (int i = 0; s != NULL && i < CK_ERROR_CODE_MAX; i++)
		if (g_str_equal(s, code_names[i]))
			return (CkErrorCode)i;
	return CK_ERROR_FAILED;
}
