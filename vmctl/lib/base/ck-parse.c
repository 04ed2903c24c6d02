/* ck-parse: strict number, boolean, signal and MAC address parsing. */
#include "ck-parse.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ck-error.h"

static gboolean bad_number(const char *s, const char *what, GError **error)
{
	return ck_set_error(error, CK_ERROR_INVALID, "%s: '%s' is not a valid number", what, s);
}

gboolean ck_parse_int64(const char *s, const char *what, gint64 min, gint64 max, gint64 *out, GError **error)
{
	if (s == NULL || *s == '\0' || g_ascii_isspace(*s))
		return bad_number(s ? s : "", what, error);

	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end != '\0')
		return bad_number(s, what, error);
	if (errno == ERANGE || v < min || v > max)
		return ck_set_error(error, CK_ERROR_INVALID,
				    "%s: %s is out of range (%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT ")", what, s, min,
				    max);
	*out = v;
	return TRUE;
}

gboolean ck_parse_uint64(const char *s, const char *what, guint64 max, guint64 *out, GError **error)
{
	if (s == NULL || !g_ascii_isdigit(*s))
		return bad_number(s ? s : "", what, error);

	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*end != '\0')
		return bad_number(s, what, error);
	if (errno == ERANGE || v > max)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: %s is out of range (0..%" G_GUINT64_FORMAT ")", what,
				    s, max);
	*out = v;
	return TRUE;
}

gboolean ck_parse_int(const char *s, const char *what, int min, int max, int *out, GError **error)
{
	gint64 v;

	if (!ck_parse_int64(s, what, min, max, &v, error))
		return FALSE;
	*out = (int)v;
	return TRUE;
}

gboolean ck_parse_bool(const char *s, const char *what, gboolean lenient, gboolean *out, GError **error)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "True", NULL};
	static const char *const no[] = {"0", "f", "F", "FALSE", "False", NULL};

	if (g_strcmp0(s, "true") == 0) {
		*out = TRUE;
		return TRUE;
	}
	if (g_strcmp0(s, "false") == 0) {
		*out = FALSE;
		return TRUE;
	}
	if (lenient && s != NULL) {
		if (g_strv_contains(yes, s)) {
			*out = TRUE;
			return TRUE;
		}
		if (g_strv_contains(no, s)) {
			*out = FALSE;
			return TRUE;
		}
	}
	return ck_set_error(error, CK_ERROR_INVALID, "%s: '%s' is not a boolean (true or false)", what, s ? s : "");
}

static const struct {
	const char *name;
	int sig;
} signal_table[] = {
	{"HUP", SIGHUP},   {"INT", SIGINT},	  {"QUIT", SIGQUIT},	 {"ILL", SIGILL},   {"TRAP", SIGTRAP},
	{"ABRT", SIGABRT}, {"IOT", SIGIOT},	  {"BUS", SIGBUS},	 {"FPE", SIGFPE},   {"KILL", SIGKILL},
	{"USR1", SIGUSR1}, {"SEGV", SIGSEGV},	  {"USR2", SIGUSR2},	 {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
	{"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},	 {"CONT", SIGCONT}, {"STOP", SIGSTOP},
	{"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},	  {"TTOU", SIGTTOU},	 {"URG", SIGURG},   {"XCPU", SIGXCPU},
	{"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},	 {"WINCH", SIGWINCH}, {"IO", SIGIO},
	{"POLL", SIGPOLL}, {"PWR", SIGPWR},	  {"SYS", SIGSYS},
};

const char *ck_signal_name(int sig)
{
	for (gsize i = 0; i < G_N_ELEMENTS(signal_table); i++)
		if (signal_table[i].sig == sig)
			return signal_table[i].name;
	return NULL;
}

static gboolean parse_rt_signal(const char *name, int *out)
{
	/* RTMIN, RTMIN+n, RTMAX, RTMAX-n */
	int base, sign;
	const char *rest;

	if (g_ascii_strncasecmp(name, "RTMIN", 5) == 0) {
		base = SIGRTMIN;
		sign = 1;
	} else if (g_ascii_strncasecmp(name, "RTMAX", 5) == 0) {
		base = SIGRTMAX;
		sign = -1;
	} else {
		return FALSE;
	}
	rest = name + 5;
	if (*rest == '\0') {
		*out = base;
		return TRUE;
	}
	if (*rest != (sign > 0 ? '+' : '-'))
		return FALSE;
	gint64 off;
	if (!ck_parse_int64(rest + 1, "signal", 0, SIGRTMAX - SIGRTMIN, &off, NULL))
		return FALSE;
	*out = base + sign * (int)off;
	return TRUE;
}

gboolean ck_parse_signal(const char *s, int *out, GError **error)
{
	if (s != NULL && g_ascii_isdigit(*s)) {
		int v;
		if (!ck_parse_int(s, "signal", 1, SIGRTMAX, &v, NULL))
			return ck_set_error(error, CK_ERROR_INVALID, "invalid signal '%s'", s);
		*out = v;
		return TRUE;
	}

	const char *name = s ? s : "";
	if (g_ascii_strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	for (gsize i = 0; i < G_N_ELEMENTS(signal_table); i++) {
		if (g_ascii_strcasecmp(name, signal_table[i].name) == 0) {
			*out = signal_table[i].sig;
			return TRUE;
		}
	}
	if (parse_rt_signal(name, out))
		return TRUE;
	return ck_set_error(error, CK_ERROR_INVALID, "invalid signal '%s'", s ? s : "");
}

gboolean ck_parse_mac(const char *s, guint8 out[6])
{
	if (strlen(s) != 17)
		return FALSE;
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		if (!g_ascii_isxdigit(p[0]) || !g_ascii_isxdigit(p[1]) || (i < 5 && p[2] != ':'))
			return FALSE;
		out[i] = (guint8)(g_ascii_xdigit_value(p[0]) << 4 | g_ascii_xdigit_value(p[1]));
	}
	return TRUE;
}
