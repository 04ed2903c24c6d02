/* qemu-vm: one QEMU process, from spawn to reap.
 *
 * qemu_vm_boot() resolves the VM settings from the configuration, spawns
 * QEMU as a direct child (never daemonized: its death must be seen), waits
 * for the guest agent's "ready" event and version reply, and applies the
 * accelerator plan (accel.h), including the KVM-to-TCG fallback. On any
 * failure nothing is left running: QEMU is killed and reaped before the
 * error returns, and the error is one line naming the accelerator, the
 * timeout or QEMU's own complaint, and the console log.
 *
 * With [factory] enable_template, the VM is restored from a template
 * instead (docs/templating.md), made by the first VM that needs it; when
 * that fails for any reason, one warning line is logged and the VM boots.
 *
 * QEMU runs confined (docs/security.md): its seccomp sandbox, only the
 * capabilities the 9p share needs (none without it), no_new_privs.
 * It runs with PR_SET_PDEATHSIG=SIGKILL (it dies with its owner), in its
 * own session (a terminal's Ctrl-C reaches the owner, which shuts it down
 * properly), with SIGPIPE ignored (CRI-O stops monitor scopes with SIGPIPE
 * at node shutdown), stdout/stderr in <run_dir>/qemu.log and the guest
 * console in <run_dir>/console.log, kept to a bounded size by the owner's
 * main context (console-log.h).
 */
#pragma once

#include <sys/types.h>

#include <glib.h>
#include <yajl/yajl_tree.h>

#include "agent-client.h"
#include "config.h"
#include "qemu-cmdline.h"
#include "qmp.h"

G_BEGIN_DECLS

typedef struct QemuVm QemuVm;

typedef struct {
	const CkConfig *config;
	const char *run_dir;	/* exists; holds console.log, qemu.log, qemu.pid, sockets */
	const char *state_root; /* runtime root: accel verdict, host TSC cache */
	const char *name;	/* VM name (-name), e.g. the pod id */
	const char *share_dir;	/* 9p export root, NULL: no share */
	const char *netns_path; /* network namespace to start QEMU in, NULL: ours */
	const VmNic *nics;	/* taps (our fds) and MACs of the guest NICs */
	guint n_nics;
	int vcpus;		/* 0: config default_vcpus */
	guint32 memory_mib;	/* 0: config default_memory */
	GMainContext *context;	/* for the agent client; NULL: thread default */
	AgentCancelFunc cancel; /* polled while waiting (e.g. SIGINT seen) */
	gpointer cancel_data;
	/* Around each fork of a QEMU: `spawning` before it (the pod monitor
	 * joins the pod's cgroup, for QEMU to be born there; FALSE fails the
	 * start), `spawned` after it, whether `spawning` and the fork worked
	 * or not, while QEMU sets itself up (the monitor leaves again).
	 * NULL: none. */
	gboolean (*spawning)(gpointer data, GError **error);
	void (*spawned)(gpointer data);
	gpointer spawn_data;
} QemuVmOptions;

QemuVm *qemu_vm_boot(const QemuVmOptions *opts, GError **error);

/* The template VMs booted with `opts` are restored from (made now if
 * missing; *out_made says so), for `vmctl factory init`. Needs no
 * enable_template. */
gboolean qemu_vm_template_ensure(const QemuVmOptions *opts, char **out_key, gboolean *out_made, GError **error);
/* That template's key, without making it. */
char *qemu_vm_template_key(const QemuVmOptions *opts, GError **error);

/* Shuts the guest down: agent "shutdown", then QMP "quit", then SIGKILL,
 * within timeout_ms in total. QEMU is always reaped on return. */
gboolean qemu_vm_shutdown(QemuVm *vm, int timeout_ms, GError **error);

/* SIGKILL and reap; idempotent. */
void qemu_vm_kill(QemuVm *vm);

/* Kills (if still running) and frees. */
void qemu_vm_free(QemuVm *vm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(QemuVm, qemu_vm_free)

/* For owners that reap with their own waitpid(-1) loop: tells the VM that
 * its process has exited with `status`. */
void qemu_vm_notify_exited(QemuVm *vm, int status);
/* Non-blocking check (waitpid WNOHANG) for owners that do not reap. */
gboolean qemu_vm_has_exited(QemuVm *vm, int *out_status);

pid_t qemu_vm_get_pid(QemuVm *vm);
CkAccel qemu_vm_get_accel(QemuVm *vm);
AgentClient *qemu_vm_get_agent(QemuVm *vm);
QmpClient *qemu_vm_get_qmp(QemuVm *vm);
const char *qemu_vm_get_console_log(QemuVm *vm);
/* The console's last bytes (console-log.h: up to CONSOLE_LOG_TAIL_MAX), what
 * the guest wrote until now; "" when none. */
char *qemu_vm_get_console_tail(QemuVm *vm);
/* The agent's version result, borrowed. */
const CkVersionResult *qemu_vm_get_guest_info(QemuVm *vm);
/* TRUE when the VM was restored from a template (docs/templating.md). */
gboolean qemu_vm_is_restored(QemuVm *vm);
/* Microseconds from spawning QEMU to the agent's ready event (for a
 * restored VM: to its answer after the restore). */
gint64 qemu_vm_get_boot_us(QemuVm *vm);

/* The boot split into phases, in microseconds: the guest's clock
 * (CLOCK_BOOTTIME, zero at kernel start) read from the agent's version
 * reply, placed on the host's clock by the moment that reply arrived. The
 * guest's numbers are clamped so that the phases are in order and add up to
 * the host's boot time: a lying guest can skew the split, never the total. */
typedef struct {
	gint64 exec_to_kernel_us; /* QEMU spawned -> guest kernel starts */
	gint64 kernel_to_init_us; /* kernel start -> /init (the agent) runs */
	gint64 init_to_ready_us;  /* /init -> agent channel open */
	gint64 ready_to_answer_us; /* channel open -> version reply on the host */
} QemuVmBootPhases;
void qemu_vm_get_boot_phases(QemuVm *vm, QemuVmBootPhases *out);

/* The size the VM booted with and its hot-plug limits. */
typedef struct {
	int vcpus;
	int maxvcpus;
	guint32 memory_mib;
	guint32 maxmemory_mib; /* == memory_mib when nothing can be hot-added */
	guint32 memory_slots;
} QemuVmSize;

void qemu_vm_get_size(QemuVm *vm, QemuVmSize *out);

G_END_DECLS
