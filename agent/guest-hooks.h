/* guest-hooks: the OCI hooks that run inside the VM.
 *
 * Two kinds, one runner (hooks/hooks.h, shared with the host):
 *
 *   - The spec's createContainer and startContainer hooks. The host strips
 *     the other stages from the spec it sends (it runs them itself). Both
 *     run in stage 2 of the container's init (spawn.c), in the container's
 *     namespaces: createContainer once the container's mounts are in place,
 *     before pivot_root, so its path resolves in the guest's root (the
 *     agent's filesystem); startContainer after start_container released
 *     the init, after pivot_root (its path resolves in the container's
 *     root, e.g. /bin/sh of the image), before the user, capabilities and
 *     seccomp filter are applied and the user process execs.
 *
 *   - Kata's guest hooks: executables of the guest image under
 *     <guest_hook_path>/{prestart,poststart,poststop}/, found once when
 *     the sandbox is created (guest_hooks_scan) and run by the agent in its
 *     own namespaces: prestart before a container's process is released
 *     (failure fails start), poststart once it runs, poststop when the
 *     container is removed (failures of those two are logged). As in Kata
 *     each gets args [<file name>, <stage>] and an empty environment.
 *
 * Every hook reads the OCI state on stdin: ociVersion, id, status
 * ("created" for createContainer, startContainer and guest prestart,
 * "running" for guest poststart, "stopped" for guest poststop), pid (the
 * container init's pid in the guest, as create_container returns it),
 * bundle (the guest directory that holds the container's rootfs,
 * /run/kata/shared/<id>), annotations.
 *
 * The agent serves one request at a time and a running hook holds it up,
 * so no hook runs without a deadline: one without `timeout` gets
 * GUEST_HOOK_DEFAULT_TIMEOUT_S.
 */
#pragma once

#include <glib.h>

#include "oci/oci-spec.h"

G_BEGIN_DECLS

#define GUEST_HOOK_DEFAULT_TIMEOUT_S 30

/* The guest hooks, per stage; only prestart, poststart and poststop are
 * ever filled. */
typedef struct {
	OciHookList lists[OCI_HOOK_MAX];
} GuestHooks;

/* Fills hooks from root/prestart/, root/poststart/ and root/poststop/:
 * each regular file (symlinks followed) with an execute bit becomes a
 * hook, in strcmp() order of the file names. Nothing here fails: a stage
 * directory that does not exist has no hooks, and any other problem (root
 * missing, a directory that cannot be read, an entry that is not an
 * executable file) is skipped and described, one line each, in warnings
 * (when not NULL), for the caller to log. */
void guest_hooks_scan(GuestHooks *hooks, const char *root, GPtrArray *warnings);
void guest_hooks_clear(GuestHooks *hooks);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(GuestHooks, guest_hooks_clear)

/* Runs the guest hooks of `stage` in the agent's namespaces. prestart:
 * stops at the first failure, whose error reads "guest prestart hook
 * <path> exited with status N: <first line of stderr>" (hooks_run()'s
 * messages, prefixed with "guest "). poststart and poststop: every hook
 * runs, failures are logged as warnings, the result is always TRUE. */
gboolean guest_hooks_run(const GuestHooks *hooks, OciHookStage stage, const char *state_json, GError **error);

/* Gives every hook of `list` that has no timeout the default one. */
void guest_hooks_set_default_timeout(OciHookList *list);

/* The longest the hooks of `list` may take in total, in milliseconds
 * (every hook must have a timeout, see above). */
int guest_hooks_budget_ms(const OciHookList *list);

G_END_DECLS
