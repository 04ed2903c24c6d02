/* accel: choosing KVM or TCG, and remembering what this host can do.
 *
 * /dev/kvm can be present and KVM_CREATE_VM can succeed while a Linux
 * guest never finishes booting (nested KVM on some clouds: the vCPU spins
 * in the host kernel), or QEMU dies setting up the vCPU. So with
 * accel = "auto" a KVM boot gets only kvm_boot_timeout to reach the agent;
 * if it fails in any way, the VM is killed and the boot retried once under
 * TCG; when that works, the host's verdict "KVM guests do not boot" is
 * cached so later pods go straight to TCG. The verdict lives in <runtime root>/accel-verdict.json and is
 * tied to the kernel's boot id, so a reboot (new kernel, new firmware
 * setting) invalidates it. `vmctl check` reports it.
 */
#pragma once

#include <glib.h>

#include "config.h"

G_BEGIN_DECLS

typedef enum {
	ACCEL_VERDICT_NONE,	 /* nothing known for this boot of the host */
	ACCEL_VERDICT_KVM_WORKS, /* a KVM guest reached its agent */
	ACCEL_VERDICT_KVM_HANGS, /* a KVM guest hung or crashed where TCG booted */
} AccelVerdict;

/* TRUE when /dev/kvm opens and KVM_CREATE_VM succeeds; otherwise
 * *out_reason (if non-NULL) says why not. */
gboolean accel_kvm_usable(char **out_reason);

char *accel_verdict_path(const char *root);
AccelVerdict accel_verdict_load(const char *root, char **out_detail);
/* Best effort: a read-only root only costs the next boot its probe. */
void accel_verdict_store(const char *root, AccelVerdict verdict, const char *detail);

/* The host's TSC frequency in kHz, for a TCG guest's kernel command line
 * (tsc_early_khz=): under TCG the guest's rdtsc reads the host's TSC, so
 * the guest need not calibrate it against emulated timers, which goes
 * wrong when the host is busy (docs/performance.md, "The guest clock").
 * Measured once per boot of the host against CLOCK_MONOTONIC_RAW (20 ms),
 * in whole MHz (the guest refines it), under <runtime root>/host-tsc.lock,
 * and cached in <runtime root>/host-tsc.json with the boot id, so every
 * VM of this host boot gets the same value (a template's key holds the
 * kernel command line). 0 when unknown: not x86-64, or no sane value. */
guint32 accel_host_tsc_khz(const char *root);

typedef struct {
	CkAccel accel;		 /* KVM or TCG */
	guint timeout_ms;	 /* to reach the agent */
	gboolean fallback_to_tcg; /* on timeout, retry once with TCG */
	char *reason;		 /* why this accelerator, for logs */
} AccelPlan;

void accel_plan_clear(AccelPlan *plan);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(AccelPlan, accel_plan_clear)

/* Decides how the next boot starts. An explicit "kvm" whose device is
 * unusable is an error; "auto" silently picks TCG then. */
gboolean accel_plan(const CkConfig *cfg, const char *root, AccelPlan *out, GError **error);

G_END_DECLS
