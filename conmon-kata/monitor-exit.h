/* monitor-exit: the files and the command that tell callers a process
 * ended, in conmon's formats (conmon-interface.md#exit-sequence). The
 * core (monitor-core.c) decides when; these write. */
#pragma once

#include <sys/types.h>

#include <glib.h>

#include "cli.h"

G_BEGIN_DECLS

/* The empty `oom` files, in --persist-dir and in the bundle (each when
 * set); a failure is logged, not fatal. */
void monitor_exit_touch_oom(const MonitorConfig *cfg);

/* <persist-dir>/exit, then <exit-dir>/<cid> (each when set): the decimal
 * code with no newline, appearing atomically (temp file + rename). Stops
 * at the first failure: "Failed to write <code> to <path> exit file: ...". */
gboolean monitor_exit_write_files(const MonitorConfig *cfg, int code, GError **error);

/* The container's pid in -p/--container-pidfile, when given. */
gboolean monitor_exit_write_pidfile(const MonitorConfig *cfg, pid_t pid, GError **error);

/* conmon-interface.md#exit-command: closes every fd from 3, stops being a
 * subreaper, forks the command (after --exit-delay seconds, with
 * oom_score_adj restored to oom_score_adj when not NULL and stdio as ours)
 * and waits for it and every other child left. Returns the command's exit
 * status (1 if killed), 0 without --exit-command. */
int monitor_exit_command_run(const MonitorConfig *cfg, const char *oom_score_adj);

G_END_DECLS
