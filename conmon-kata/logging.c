/* logging: the set of log drivers one container uses
 * (conmon-interface.md#log-path-values). The drivers themselves live in
 * log-k8s.c and log-journald.c; see logging.h. */
#include "logging.h"

#include <time.h>

#include "base/ck-error.h"

struct LogSet {
	LogK8s *k8s;	       /* NULL unless a k8s-file driver was given */
	LogJournald *journald; /* NULL unless journald was given */
};

LogSet *log_set_new(MonitorConfig *cfg, GError **error)
{
	g_autoptr(LogSet) ls = g_new0(LogSet, 1);

	if (cfg->use_k8s_file && cfg->k8s_log_fd < 0) {
		ck_set_error(error, CK_ERROR_INVALID, "k8s-file log '%s' is not open",
			     cfg->k8s_log_path ? cfg->k8s_log_path : "");
		return NULL;
	}

	/* conmon-interface.md#k8s-file-format: timestamps are local time. localtime_r() need not re-read
	 * TZ, so settle the zone once, as conmon does. */
	tzset();

	/* none and passthrough add no driver (conmon-interface.md#passthrough-and-none): with neither k8s-file
	 * nor journald the set simply writes nothing. */
	if (cfg->use_k8s_file)
		ls->k8s = log_k8s_new(cfg);
	if (cfg->use_journald)
		ls->journald = log_journald_new(cfg);
	return g_steal_pointer(&ls);
}

void log_set_free(LogSet *ls)
{
	if (ls == NULL)
		return;
	log_k8s_free(ls->k8s);
	log_journald_free(ls->journald);
	g_free(ls);
}

void log_set_write(LogSet *ls, gboolean is_stderr, const guint8 *data, gsize len)
{
	if (len == 0)
		return;
	if (ls->k8s != NULL)
		log_k8s_write(ls->k8s, is_stderr, data, len);
	if (ls->journald != NULL)
		log_journald_write(ls->journald, is_stderr, data, len);
}

gboolean log_set_reopen(LogSet *ls, GError **error)
{
	/* conmon-interface.md#log-reopen: only the k8s file is reopened; journald has nothing to do. */
	if (ls->k8s == NULL)
		return TRUE;
	return log_k8s_reopen(ls->k8s, error);
}

void log_set_finish(LogSet *ls)
{
	if (ls->journald != NULL)
		log_journald_finish(ls->journald);
	if (ls->k8s != NULL)
		log_k8s_finish(ls->k8s);
}
