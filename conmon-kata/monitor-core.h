/* monitor-core: what every conmon-kata monitor does whatever runs its
 * process (a library: conmon-kata/meson.build, tests/unit/test-conmon-monitor.c).
 *
 * The core runs one backend (monitor-backend.h) through conmon's sequence
 * and owns the bytes callers read:
 *   - the sync pipe: {"pid": N} (or the exec's and api v1's keys), a
 *     failed start as {"<key>": -1, "message": "..."} with no exit files,
 *     the exec's final {"exit_code": E} or "command timed out";
 *   - the I/O hub: output to the log drivers, then the attach clients,
 *     then (passthrough) our stdout, in chunks of at most 8192 bytes; input
 *     from attach clients, kept until the process exists; the ctl FIFO's
 *     resizes and log reopens;
 *   - the -T timeout (SIGKILL through the backend, status -1, exit 255);
 *   - the exit sequence (conmon-interface.md#exit-sequence): oom files,
 *     log sync, the backend's release, attach clients closed, exit files,
 *     final sync message; and the exit command (monitor-exit.h).
 */
#pragma once

#include <glib.h>

#include "cli.h"
#include "monitor-backend.h"

G_BEGIN_DECLS

typedef struct MonitorCore MonitorCore;

/* Takes fds->sync_fd; cfg and fds must outlive the core. */
MonitorCore *monitor_core_new(MonitorConfig *cfg, const MonitorFds *fds);
void monitor_core_free(MonitorCore *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MonitorCore, monitor_core_free)

/* The callbacks a backend is made with (valid as long as the core). */
const MonitorSink *monitor_core_sink(MonitorCore *m);

/* Runs the backend to the end (see monitor-backend.h for the order) and
 * returns the status the monitor exits with: the exit code modulo 256
 * (-1 as 255), 255 after the timeout, 1 when an exit file could not be
 * written, the backend's failed() status (default 1) for a failed start. */
int monitor_core_run(MonitorCore *m, const MonitorBackend *backend, gpointer self);

/* A failure before any backend runs (the spec, the configuration): logged,
 * and told on the sync pipe as {"<key>": -1, "message": ...}. Returns 1. */
int monitor_core_fail(MonitorCore *m, const GError *error);

/* A signal the monitor received: to the process through the backend; with
 * no process yet the monitor gives up. Ignored after the exit. */
void monitor_core_signal(MonitorCore *m, int sig);

G_END_DECLS
