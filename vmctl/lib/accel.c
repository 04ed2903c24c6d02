/* accel: KVM probe, host verdict cache, boot plan. */
#include "accel.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-log.h"

#define VERDICT_FILE "accel-verdict.json"

gboolean accel_kvm_usable(char **out_reason)
{
	ck_autofd kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (kvm < 0) {
		if (out_reason != NULL)
			*out_reason = g_strdup_printf("/dev/kvm: %s", g_strerror(errno));
		return FALSE;
	}
	int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		if (out_reason != NULL)
			*out_reason = g_strdup_printf("/dev/kvm: API version %d, expected %d", api, KVM_API_VERSION);
		return FALSE;
	}
	ck_autofd vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		if (out_reason != NULL)
			*out_reason = g_strdup_printf("KVM_CREATE_VM: %s", g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

static char *host_boot_id(void)
{
	g_autofree char *id = NULL;

	if (!ck_file_read_bounded("/proc/sys/kernel/random/boot_id", 128, &id, NULL, NULL))
		return g_strdup("");
	return g_strstrip(g_steal_pointer(&id));
}

char *accel_verdict_path(const char *root)
{
	return g_build_filename(root, VERDICT_FILE, NULL);
}

AccelVerdict accel_verdict_load(const char *root, char **out_detail)
{
	g_autofree char *path = accel_verdict_path(root);
	g_autofree char *boot_id = host_boot_id();
	g_auto(yajl_val) doc = ck_json_parse_file(path, 64 * 1024, NULL);

	if (doc == NULL)
		return ACCEL_VERDICT_NONE;
	yajl_val id = ck_json_get(doc, "boot_id");
	yajl_val kvm = ck_json_get(doc, "kvm");
	yajl_val detail = ck_json_get(doc, "detail");
	if (id == NULL || !YAJL_IS_STRING(id) || !g_str_equal(id->u.string, boot_id))
		return ACCEL_VERDICT_NONE;
	if (out_detail != NULL && detail != NULL && YAJL_IS_STRING(detail))
		*out_detail = g_strdup(detail->u.string);
	if (kvm != NULL && YAJL_IS_STRING(kvm) && g_str_equal(kvm->u.string, "works"))
		return ACCEL_VERDICT_KVM_WORKS;
	if (kvm != NULL && YAJL_IS_STRING(kvm) && g_str_equal(kvm->u.string, "hangs"))
		return ACCEL_VERDICT_KVM_HANGS;
	return ACCEL_VERDICT_NONE;
}

void accel_verdict_store(const char *root, AccelVerdict verdict, const char *detail)
{
	g_autofree char *path = accel_verdict_path(root);
	g_autofree char *boot_id = host_boot_id();
	g_autofree char *now = ck_log_timestamp();
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	g_autoptr(GError) error = NULL;

	ck_json_map_open(g);
	ck_json_kv_string(g, "boot_id", boot_id);
	ck_json_kv_string(g, "kvm", verdict == ACCEL_VERDICT_KVM_WORKS ? "works" : "hangs");
	ck_json_kv_string(g, "detail", detail);
	ck_json_kv_string(g, "time", now);
	ck_json_map_close(g);
	gsize len = 0;
	g_autofree char *doc = ck_json_gen_finish(g, &len, &error);
	if (doc == NULL || !ck_mkdir_p(root, 0711, &error) || !ck_file_write_atomic(path, doc, len, 0644, FALSE, &error))
		ck_log_debug("accel verdict not saved: %s, ignoring", error->message);
}

void accel_plan_clear(AccelPlan *plan)
{
	g_free(plan->reason);
	memset(plan, 0, sizeof *plan);
}

static void plan_tcg(AccelPlan *out, const CkConfig *cfg, char *reason)
{
	*out = (AccelPlan){
		.accel = CK_ACCEL_TCG,
		.timeout_ms = cfg->hypervisor.boot_timeout * 1000,
		.reason = reason,
	};
}

gboolean accel_plan(const CkConfig *cfg, const char *root, AccelPlan *out, GError **error)
{
	g_autofree char *why = NULL;

	switch (cfg->hypervisor.accel) {
	case CK_ACCEL_TCG:
		plan_tcg(out, cfg, g_strdup("accel = \"tcg\" in the configuration"));
		return TRUE;
	case CK_ACCEL_KVM:
		if (!accel_kvm_usable(&why))
			return ck_set_error(error, CK_ERROR_UNSUPPORTED, "accel = \"kvm\" but KVM is not usable: %s",
					    why);
		*out = (AccelPlan){
			.accel = CK_ACCEL_KVM,
			.timeout_ms = cfg->hypervisor.boot_timeout * 1000,
			.reason = g_strdup("accel = \"kvm\" in the configuration"),
		};
		return TRUE;
	default:
		break;
	}

	if (!accel_kvm_usable(&why)) {
		plan_tcg(out, cfg, g_strdup_printf("KVM not usable (%s)", why));
		return TRUE;
	}
	g_autofree char *detail = NULL;
	AccelVerdict v = accel_verdict_load(root, &detail);
	if (v == ACCEL_VERDICT_KVM_HANGS) {
		plan_tcg(out, cfg, g_strdup_printf("cached verdict: KVM guests do not boot on this host (%s)",
						   detail ? detail : "no detail"));
		return TRUE;
	}
	*out = (AccelPlan){
		.accel = CK_ACCEL_KVM,
		.timeout_ms = (v == ACCEL_VERDICT_KVM_WORKS ? cfg->hypervisor.boot_timeout
							     : cfg->hypervisor.kvm_boot_timeout) * 1000,
		.fallback_to_tcg = v != ACCEL_VERDICT_KVM_WORKS,
		.reason = g_strdup(v == ACCEL_VERDICT_KVM_WORKS ? "KVM usable (verified earlier on this boot)"
								 : "KVM usable, not yet verified on this boot"),
	};
	return TRUE;
}
