/* trusted: the trusted backend (monitor-backend.h): the runtime (-r) as
 * conmon runs it, for pods that run on the host and for runtimes other
 * than vmctl (conmon-kata as plain conmon). */
#pragma once

#include <glib.h>

#include "cli.h"
#include "monitor-backend.h"

G_BEGIN_DECLS

typedef struct Trusted Trusted;

extern const MonitorBackend monitor_trusted_backend;

Trusted *trusted_new(const MonitorSink *sink, const MonitorConfig *cfg);
void trusted_free(Trusted *t);

G_END_DECLS
