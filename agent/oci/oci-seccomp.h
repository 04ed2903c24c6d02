/* oci-seccomp: OCI linux.seccomp into a seccomp BPF program.
 *
 * Shared by the host and the guest. A container's filter is compiled on
 * the host by its monitor, where every error can still be reported with
 * the offending field and libseccomp runs natively, and only loaded in
 * the container's child process in the guest, right before execve. The
 * agent compiles a profile itself only when a client sends the profile
 * without a program (docs/protocol.md, create_container).
 */

#pragma once

#include <glib.h>
#include <linux/seccomp.h>
#include <yajl/yajl_tree.h>

G_BEGIN_DECLS

typedef struct OciSeccomp OciSeccomp;

/* The compat ABIs a kernel executes, as far as compiling a filter for it
 * is concerned. A filter's rules for an architecture the kernel cannot
 * run never match, yet libseccomp pays for them: CRI-O's default profile
 * lists x86_64, x86 and x32, and building it for all three took 13 times
 * as long as for x86_64 alone (and made a program three times the size).
 * So, for a probed kernel, compiling leaves out SCMP_ARCH_X86 without
 * IA32 emulation and SCMP_ARCH_X32 without the x32 ABI (a syscall of a
 * left-out architecture would meet the filter's bad-architecture action,
 * stricter than the rules it lacks; the kernel never makes one). */
typedef struct {
	gboolean probed; /* FALSE: nothing known, every listed architecture is kept */
	gboolean ia32;
	gboolean x32;
} OciSeccompAbis;

/* Probes the running kernel: IA32 emulation registers
 * /proc/sys/abi/vsyscall32, and an x32 getpid answers ENOSYS without the
 * x32 ABI. Not probed (probed = FALSE) on other architectures. */
void oci_seccomp_probe_kernel(OciSeccompAbis *out);

/* Compiles the linux.seccomp object `seccomp` for a kernel with `abis`
 * (NULL: unknown); `path` is its dotted location for messages
 * ("linux.seccomp"). Bad input is CK_ERROR_INVALID naming the field,
 * features a VM cannot offer (SCMP_ACT_NOTIFY, a listener) are
 * CK_ERROR_UNSUPPORTED. Syscall names that libseccomp does not know are
 * skipped. */
OciSeccomp *oci_seccomp_compile(yajl_val seccomp, const char *path, const OciSeccompAbis *abis, GError **error);

/* The most instructions a filter may have (the kernel's BPF_MAXINSNS). */
#define OCI_SECCOMP_MAX_INSNS 4096
/* The seccomp(2) flags a program may be loaded with: what the profile's
 * "flags" can ask for. */
#define OCI_SECCOMP_LOAD_FLAGS                                                                                         \
	(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW)

/* The filter as the classic BPF program the kernel loads (struct
 * sock_filter, host byte order) and the seccomp(2) flags to load it with.
 * The host's monitor compiles a container's profile this way and sends
 * the program along (docs/protocol.md, create_container), so that the
 * guest, where every instruction of libseccomp is emulated under TCG, only
 * loads it. */
gboolean oci_seccomp_export_bpf(OciSeccomp *s, GBytes **out_program, guint *out_flags, GError **error);

/* Checks a program from elsewhere before it is kept: whole instructions,
 * at least one and at most OCI_SECCOMP_MAX_INSNS, and only
 * OCI_SECCOMP_LOAD_FLAGS. `path` names it in messages. The kernel checks
 * the instructions themselves when it loads them. */
gboolean oci_seccomp_check_bpf(GBytes *program, guint flags, const char *path, GError **error);

/* Installs a program on the calling thread (all threads with
 * SECCOMP_FILTER_FLAG_TSYNC). It does not set no_new_privs, that is
 * process.noNewPrivileges' business: call this either after
 * prctl(PR_SET_NO_NEW_PRIVS) or while still holding CAP_SYS_ADMIN. */
gboolean oci_seccomp_load_bpf(GBytes *program, guint flags, GError **error);

/* The filter as libseccomp's human-readable pseudo filter code. */
char *oci_seccomp_export_pfc(OciSeccomp *s, GError **error);

void oci_seccomp_free(OciSeccomp *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OciSeccomp, oci_seccomp_free)

G_END_DECLS
