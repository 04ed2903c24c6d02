/* vmctl check: what this host has and lacks to run conmon-kata VMs.
 *
 * One line per item: name, finding, and whether it is required. Exits 1
 * when a required item is missing, so provisioning scripts can gate on it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-log.h"
#include "lib/accel.h"
#include "vmctl.h"

typedef struct {
	int missing_required;
} CheckReport;

static void report(CheckReport *r, const char *item, gboolean ok, gboolean required, const char *fmt, ...)
	G_GNUC_PRINTF(5, 6);

static void report(CheckReport *r, const char *item, gboolean ok, gboolean required, const char *fmt, ...)
{
	va_list ap;
	g_autofree char *text = NULL;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	printf("%-16s %-8s %s\n", item, ok ? "ok" : required ? "MISSING" : "absent", text);
	if (!ok && required)
		r->missing_required++;
}

static char *qemu_version(const char *path)
{
	const char *argv[] = {path, "--version", NULL};
	g_autofree char *out = NULL;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, NULL, NULL) ||
	    out == NULL)
		return NULL;
	char *nl = strchr(out, '\n');
	if (nl != NULL)
		*nl = '\0';
	return g_steal_pointer(&out);
}

static void check_qemu(CheckReport *r, const CkConfig *cfg)
{
	const char *path = cfg->hypervisor.path;

	if (access(path, X_OK) < 0) {
		report(r, "qemu", FALSE, TRUE, "%s: %s", path, g_strerror(errno));
		return;
	}
	g_autofree char *version = qemu_version(path);
	report(r, "qemu", version != NULL, TRUE, "%s (%s)", path, version ? version : "does not run");
}

static void check_file(CheckReport *r, const char *item, const char *key, const char *path)
{
	if (path == NULL || access(path, R_OK) < 0)
		report(r, item, FALSE, TRUE, "%s = %s: %s", key, path ? path : "(unset)",
		       path ? g_strerror(errno) : "not set");
	else
		report(r, item, TRUE, TRUE, "%s", path);
}

/* Which kernel: the image builder writes kernel.release beside it; ours
 * carries the local version "-conmon-kata". Without a kernel, the way to
 * build one, or to fall back to Debian's packaged kernel. */
static void check_kernel(CheckReport *r, const char *path)
{
	if (path == NULL || access(path, R_OK) < 0) {
		report(r, "guest kernel", FALSE, TRUE,
		       "kernel = %s: %s; build the image (contrib/setup.sh: our kernel), or use Debian's packaged "
		       "kernel (meson configure -Dguest_kernel=debian)",
		       path ? path : "(unset)", path ? g_strerror(errno) : "not set");
		return;
	}
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *release_path = g_build_filename(dir, "kernel.release", NULL);
	g_autofree char *release = NULL;
	if (!g_file_get_contents(release_path, &release, NULL, NULL)) {
		report(r, "guest kernel", TRUE, TRUE, "%s", path);
		return;
	}
	g_strstrip(release);
	report(r, "guest kernel", TRUE, TRUE, "%s (%s, %s)", path, release,
	       g_str_has_suffix(release, "-conmon-kata") ? "ours" : "Debian's packaged kernel");
}

static void check_accel(CheckReport *r, const CkConfig *cfg, const char *root)
{
	g_autofree char *why = NULL;
	g_autofree char *detail = NULL;
	gboolean kvm = accel_kvm_usable(&why);
	gboolean need_kvm = cfg->hypervisor.accel == CK_ACCEL_KVM;

	report(r, "kvm", kvm, need_kvm, "%s", kvm ? "/dev/kvm usable (KVM_CREATE_VM works)" : why);
	AccelVerdict v = accel_verdict_load(root, &detail);
	if (v == ACCEL_VERDICT_KVM_HANGS)
		report(r, "kvm-boot", FALSE, need_kvm, "KVM guests do not boot on this host: %s (cached in %s)",
		       detail ? detail : "", accel_verdict_path(root));
	else if (v == ACCEL_VERDICT_KVM_WORKS)
		report(r, "kvm-boot", TRUE, FALSE, "a KVM guest booted earlier on this boot of the host");
	else
		report(r, "kvm-boot", kvm, FALSE, "%s", kvm ? "not yet verified (the first auto boot will tell)"
							   : "no KVM: TCG (software emulation) will be used");

	AccelPlan plan = {0};
	g_autoptr(GError) error = NULL;
	if (accel_plan(cfg, root, &plan, &error))
		report(r, "accelerator", TRUE, TRUE, "accel = \"%s\": next boot uses %s (%s)",
		       ck_accel_to_string(cfg->hypervisor.accel), ck_accel_to_string(plan.accel), plan.reason);
	else
		report(r, "accelerator", FALSE, TRUE, "%s", error->message);
	accel_plan_clear(&plan);
}

static void check_optional_devices(CheckReport *r, const CkConfig *cfg)
{
	gboolean vsock = access("/dev/vhost-vsock", R_OK | W_OK) == 0;
	gboolean need_vsock = cfg->hypervisor.agent_channel == CK_AGENT_CHANNEL_VSOCK;
	report(r, "vhost-vsock", vsock, need_vsock, "%s%s", vsock ? "/dev/vhost-vsock" : "/dev/vhost-vsock absent",
	       need_vsock ? "" : " (only needed with agent_channel = \"vsock\")");

	g_autofree char *virtiofsd = g_find_program_in_path("virtiofsd");
	if (virtiofsd == NULL && access("/usr/libexec/virtiofsd", X_OK) == 0)
		virtiofsd = g_strdup("/usr/libexec/virtiofsd");
	report(r, "virtiofsd", virtiofsd != NULL, FALSE, "%s (shared_fs = \"%s\" is used)",
	       virtiofsd ? virtiofsd : "not found", ck_shared_fs_to_string(cfg->hypervisor.shared_fs));
}

int cmd_check(VmctlContext *ctx, int argc, char **argv)
{
	GOptionEntry entries[] = {{NULL}};
	g_autoptr(GError) error = NULL;
	CheckReport r = {0};

	if (!vmctl_parse_verb_options("check", NULL, entries, &argc, &argv))
		return 1;

	g_autofree char *path = ck_config_find(ctx->config_path, &error);
	const CkConfig *cfg = error == NULL ? vmctl_config(ctx, &error) : NULL;
	if (cfg == NULL) {
		report(&r, "config", FALSE, TRUE, "%s", error->message);
		printf("result: configuration invalid\n");
		return 1;
	}
	report(&r, "config", TRUE, TRUE, "%s", path ? path : "(no file found: built-in defaults)");
	check_qemu(&r, cfg);
	check_kernel(&r, cfg->hypervisor.kernel);
	check_file(&r, "guest initrd", "initrd", cfg->hypervisor.initrd);
	check_accel(&r, cfg, ctx->root);
	check_optional_devices(&r, cfg);
	gboolean runc = access(cfg->runtime.trusted_runtime, X_OK) == 0;
	report(&r, "trusted runtime", runc, FALSE, "%s%s", cfg->runtime.trusted_runtime,
	       runc ? "" : " not found: trusted pods cannot run");

	if (r.missing_required > 0) {
		printf("result: %d required item(s) missing\n", r.missing_required);
		return 1;
	}
	printf("result: ok\n");
	return 0;
}
