/* monitor: what one conmon-kata process watches over.
 *
 * After the process model (main.c: start pipe, double fork) hands over, a
 * monitor runs one container's init process (create) or one exec'd
 * process (-e) to its end. monitor.c chooses the backend that runs it
 * (monitor-backend.h):
 *
 *   VM (monitor-vm.h, untrusted pods)  the process lives in the pod's VM;
 *     the sandbox's monitor is also the pod monitor (pod.c) and owns
 *     QEMU; the others connect to its control socket. A host stand-in
 *     (standin.c) carries the pid CRI-O and Podman see.
 *   trusted (trusted.h)                the pod runs on the host: conmon's
 *     own model, with the runtime (vmctl, which delegates to runc, or any
 *     other runtime) as child.
 *
 * and the core (monitor-core.h) runs it: the process's output goes to the
 * log drivers and the attach clients, in that order, in chunks of at most
 * 8192 bytes; the ctl FIFO resizes its terminal and reopens the log; and
 * the exit is reported in conmon's order (oom files, exit files, final
 * sync message), after which main.c runs the exit command.
 */
#pragma once

#include <glib.h>

#include "cli.h"
#include "monitor-backend.h" /* MonitorFds */

G_BEGIN_DECLS

/* Runs to the end; returns the status the monitor exits with: the
 * process's exit code (modulo 256, -1 as 255), or 1 for a failed create. */
int monitor_run(MonitorConfig *cfg, const MonitorFds *fds);

G_END_DECLS
