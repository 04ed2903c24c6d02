/* hooks: running a container's OCI hooks, on the host and in the guest.
 *
 * Which hooks run where, for a VM runtime (as Kata runs them; docs/hooks.md):
 *
 *   stage            where                      when                       failure
 *   createRuntime    host, pod netns            VM and container exist,    fails create
 *   prestart         host, pod netns              before the process runs  fails create
 *   createContainer  guest, container's nss     mounts done, before        fails create
 *                                                 pivot_root
 *   startContainer   guest, container's nss     before the user process    fails start
 *   poststart        host, pod netns            after start returned       logged only
 *   poststop         host, our namespaces       after the container is     logged only
 *                                                 gone
 *
 * This module is the runner for both sides. vmctl and conmon-kata run the
 * host stages with it. Host hooks are the spec's own (CRI-O injects the
 * ones of its hooks_dir into config.json; it never runs them itself). The
 * static guest agent links it too, and runs the guest stages and Kata's
 * "guest hooks" (executables baked into the guest image under
 * <guest_hook_path>/{prestart,poststart,poststop}/, selected by the config
 * key guest_hook_path) inside the VM (agent/guest-hooks.h). Hence it must
 * depend on nothing but libc, glib, yajl, vmctl/lib/base and the OCI spec.
 *
 * Each hook gets, as the runtime-spec says: its path executed with its
 * args (argv[0] is args[0]; [path] when args is absent) and exactly its
 * env (not ours: a hook must not see the monitor's environment), the OCI
 * state JSON on stdin, and its timeout. stdout and stderr are captured (the
 * first HOOKS_OUTPUT_MAX bytes of each) for the error message and debug
 * log. The hook runs in its own process group so that a timeout kills
 * whatever it started too, and it is always reaped before hooks_run()
 * returns.
 *
 * Synchronous on purpose: conmon-kata (and the agent, the guest's PID 1)
 * reaps its children with a SIGCHLD signalfd and waitpid(-1) on its GLib
 * main loop. hooks_run() waits for its own child with waitpid(pid) and
 * never iterates a GLib main context, so that reaper cannot take the
 * hook's exit status away from it.
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

#include "oci/oci-spec.h"

G_BEGIN_DECLS

/* Bytes of a hook's stdout and of its stderr that are kept; the rest is
 * read and dropped so that a chatty hook never blocks on a full pipe. */
#define HOOKS_OUTPUT_MAX (64 * 1024)

/* The OCI state a hook reads on stdin: ociVersion "1.0.2", id, status,
 * pid (the container's host stand-in; 0 when there is none), bundle and
 * annotations (NULL: {}), keys sorted so that the document is stable.
 * NULL only if the generator fails, which valid UTF-8 input never makes it
 * do. */
char *hooks_state_json(const char *id, const char *status, pid_t pid, const char *bundle, GHashTable *annotations);

/* Runs the hooks of `list` (the spec's list for `stage`; NULL or empty is
 * success) one after another in spec order, stopping at the first failure.
 * netns_path, when not NULL, is a network namespace file (/proc/<pid>/ns/net
 * or /run/netns/<name>) the hooks run in: the pod's, for createRuntime,
 * prestart and poststart. The error, one line, names the stage and hook:
 *
 *   "<stage> hook <path> exited with status N: <first line of stderr>"
 *   "<stage> hook <path> killed by signal N: <first line of stderr>"
 *   "<stage> hook <path> timed out after N s"          (CK_ERROR_TIMEOUT)
 *   "<stage> hook <path>: No such file or directory"   (from execve)
 *
 * (when stderr is empty the first line of stdout is used; with no output
 * at all the ": ..." part is left out). What to do with the error is the
 * caller's business, see hooks_stage_is_fatal(). */
gboolean hooks_run(const OciHookList *list, OciHookStage stage, const char *state_json, const char *netns_path,
		   GError **error);

/* OCI's failure semantics: TRUE for createRuntime, prestart,
 * createContainer and startContainer, whose failure fails the operation
 * (create cleans up what it made); FALSE for poststart and poststop, whose
 * failure the caller only logs (ck_log_warning) before carrying on. */
gboolean hooks_stage_is_fatal(OciHookStage stage);

/* What a stage's hooks are told about the container, and where they run. */
typedef struct {
	const char *id;
	const char *status; /* "creating", "created", "running", "stopped" */
	pid_t pid;	    /* the host stand-in; 0 when there is none */
	const char *bundle;
	GHashTable *annotations;
	const char *netns_path; /* NULL: the caller's own namespaces */
} HooksContext;

/* Runs the spec's hooks of one stage with OCI's failure semantics: a
 * failure of a fatal stage (hooks_stage_is_fatal) stops the list and
 * returns FALSE with the error; a failing poststart or poststop hook is
 * logged as a warning and the stage's other hooks still run, and TRUE is
 * returned. */
gboolean hooks_run_stage(const OciSpec *spec, OciHookStage stage, const HooksContext *ctx, GError **error);

G_END_DECLS
