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

/* The compat ABIs the running kernel executes. A filter's rules for an
 * architecture the kernel cannot run never match, yet libseccomp pays for
 * them: CRI-O's default profile lists x86_64, x86 and x32, and building it
 * for all three took 13 times as long as for x86_64 alone. So once the
 * agent has probed its kernel, compiling leaves out SCMP_ARCH_X86 without
 * IA32 emulation and SCMP_ARCH_X32 without the x32 ABI (a syscall of a
 * left-out architecture would meet the filter's bad-architecture action,
 * stricter than the rules it lacks; the kernel never makes one). Until
 * then (unit tests, the host) every listed architecture is kept. */
void agent_seccomp_set_kernel_abis(gboolean ia32, gboolean x32);
/* Probes this kernel: IA32 emulation registers /proc/sys/abi/vsyscall32,
 * and an x32 getpid answers ENOSYS without the x32 ABI. */
void agent_seccomp_probe_kernel(void);

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
