/* log-journald: the journald log driver and its pure helper
 * (conmon-interface.md#journald); the set of drivers is logging.h's. */
#pragma once

#include <glib.h>

#include "cli.h"

G_BEGIN_DECLS

/* conmon-interface.md#journald: a line that starts with "<N>", N in 0-7, asks for priority N.
 * Returns TRUE and the priority when data has that prefix. */
gboolean log_journald_parse_priority(const guint8 *data, gsize len, int *out_priority);

typedef struct LogJournald LogJournald;

LogJournald *log_journald_new(const MonitorConfig *cfg);
void log_journald_free(LogJournald *j);
void log_journald_write(LogJournald *j, gboolean is_stderr, const guint8 *data, gsize len);
void log_journald_finish(LogJournald *j);

G_END_DECLS
