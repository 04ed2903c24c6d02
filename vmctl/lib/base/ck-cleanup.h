/* ck-cleanup: scope-bound ownership for the things GLib cannot free alone.
 *
 * g_autofree/g_autoptr/g_auto cover GLib types. This header adds:
 *   - ck_autofd: an int fd closed at scope exit unless it is -1;
 *     hand it on with ck_steal_fd() (GLib 2.74 has no g_autofd);
 *   - ck_autopid: a child pid that is SIGKILLed and reaped at scope exit
 *     unless stolen with ck_steal_pid(); this is how a half-started QEMU or
 *     hook never outlives an error path;
 *   - yajl's tree and generator handles, for g_auto(yajl_val) and
 *     g_auto(yajl_gen).
 * Foreign types that only one binary uses (libseccomp, libcap, libnl,
 * sd-bus) get their cleanup next to that binary's code, so that the static
 * agent does not depend on host-only libraries.
 */
#pragma once

#include <errno.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

static inline void ck_close_fdp(int *fdp)
{
	if (*fdp >= 0) {
		int errsv = errno;
		(void)close(*fdp);
		errno = errsv;
		*fdp = -1;
	}
}

static inline int ck_steal_fd(int *fdp)
{
	int fd = *fdp;
	*fdp = -1;
	return fd;
}

/* Closes *fdp if open and sets it to -1. */
static inline void ck_clear_fd(int *fdp)
{
	ck_close_fdp(fdp);
}

#define ck_autofd __attribute__((cleanup(ck_close_fdp))) int

static inline void ck_kill_pidp(pid_t *pidp)
{
	if (*pidp > 0) {
		int errsv = errno;
		(void)kill(*pidp, SIGKILL);
		while (waitpid(*pidp, NULL, 0) < 0 && errno == EINTR)
			;
		errno = errsv;
		*pidp = 0;
	}
}

static inline pid_t ck_steal_pid(pid_t *pidp)
{
	pid_t pid = *pidp;
	*pidp = 0;
	return pid;
}

#define ck_autopid __attribute__((cleanup(ck_kill_pidp))) pid_t

G_DEFINE_AUTO_CLEANUP_FREE_FUNC(yajl_val, yajl_tree_free, NULL)
G_DEFINE_AUTO_CLEANUP_FREE_FUNC(yajl_gen, yajl_gen_free, NULL)
