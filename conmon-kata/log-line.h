/* log-line: what both log drivers (log-k8s.c, log-journald.c) cut
 * container output with; header only, below them and the set
 * (logging.h). */
#pragma once

#include <string.h>

#include <glib.h>

G_BEGIN_DECLS

/* conmon-interface.md#attach-framing and #journald: one read of container output, and journald's partial buffer. */
#define LOG_CHUNK_MAX 8192

/* Length of the first piece of data: up to and including the first "\n"
 * (*out_partial = FALSE), or all of it when there is none (TRUE). len > 0.
 * Inline: both drivers split with it. */
static inline gsize log_next_line(const guint8 *data, gsize len, gboolean *out_partial)
{
	const guint8 *nl = memchr(data, '\n', len);

	*out_partial = nl == NULL;
	return nl == NULL ? len : (gsize)(nl - data) + 1;
}

G_END_DECLS
