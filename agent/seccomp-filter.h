/* seccomp-filter: OCI linux.seccomp into a libseccomp filter.
 *
 * A container's filter is compiled in the agent, where every error can
 * still be reported to the host with the offending field, and only loaded
 * in the container's child process, right before execve.
 */

#pragma once

#include <glib.h>
#include <yajl/yajl_tree.h>

G_BEGIN_DECLS

typedef struct AgentSeccomp AgentSeccomp;

/* Compiles the linux.seccomp object `seccomp`; `path` is its dotted
 * location for messages ("linux.seccomp"). Bad input is CK_ERROR_INVALID
 * naming the field, features a VM cannot offer (SCMP_ACT_NOTIFY, a
 * listener) are CK_ERROR_UNSUPPORTED. Syscall names that libseccomp does
 * not know are skipped. */
AgentSeccomp *agent_seccomp_compile(yajl_val seccomp, const char *path, GError **error);

/* Installs the filter on the calling thread (all threads with
 * SECCOMP_FILTER_FLAG_TSYNC). The filter does not set no_new_privs
 * itself, that is process.noNewPrivileges' business: call this either
 * after prctl(PR_SET_NO_NEW_PRIVS) or while still holding
 * CAP_SYS_ADMIN. */
gboolean agent_seccomp_load(AgentSeccomp *s, GError **error);

/* The filter as libseccomp's human-readable pseudo filter code. */
char *agent_seccomp_export_pfc(AgentSeccomp *s, GError **error);

void agent_seccomp_free(AgentSeccomp *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(AgentSeccomp, agent_seccomp_free)

G_END_DECLS
