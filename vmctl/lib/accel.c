/* accel: KVM probe, host verdict cache, boot plan. */
#include "accel.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-log.h"

#define VERDICT_FILE "accel-verdict.json"
#define TSC_FILE "host-tsc.json"
#define TSC_LOCK_FILE "host-tsc.lock"
/* the TSC measurement: its interval, and the widest a (clock, TSC, clock)
 * sample may be to count (wider: the thread was preempted in it) */
#define TSC_INTERVAL_NS 20000000
#define TSC_SAMPLE_MAX_NS 20000
#define TSC_SAMPLE_TRIES 20
/* a TSC outside 100 MHz - 10 GHz is a measurement gone wrong */
#define TSC_MIN_KHZ 100000
#define TSC_MAX_KHZ 10000000

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

/* Writes a host fact tied to this boot of the host; best effort. */
static void store_host_fact(const char *root, const char *file, CkJsonGen *g, const char *what)
{
	g_autofree char *path = g_build_filename(root, file, NULL);
	g_autoptr(GError) error = NULL;
	gsize len = 0;

	ck_json_map_close(g);
	g_autofree char *doc = ck_json_gen_finish(g, &len, &error);
	if (doc == NULL || !ck_mkdir_p(root, 0711, &error) ||
	    !ck_file_write_atomic(path, doc, len, 0644, FALSE, &error))
		ck_log_debug("%s not saved: %s, ignoring", what, error->message);
}

static CkJsonGen *host_fact_begin(void)
{
	g_autofree char *boot_id = host_boot_id();
	g_autofree char *now = ck_log_timestamp();
	CkJsonGen *g = ck_json_gen_new();

	ck_json_map_open(g);
	ck_json_kv_string(g, "boot_id", boot_id);
	ck_json_kv_string(g, "time", now);
	return g;
}

void accel_verdict_store(const char *root, AccelVerdict verdict, const char *detail)
{
	g_autoptr(CkJsonGen) g = host_fact_begin();

	ck_json_kv_string(g, "kvm", verdict == ACCEL_VERDICT_KVM_WORKS ? "works" : "hangs");
	ck_json_kv_string(g, "detail", detail);
	store_host_fact(root, VERDICT_FILE, g, "accel verdict");
}

#if defined(__x86_64__)
static gint64 raw_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (gint64)ts.tv_sec * G_GINT64_CONSTANT(1000000000) + ts.tv_nsec;
}

/* One TSC reading and the raw clock's at the same moment (the middle of
 * the narrowest bracket of a few tries). FALSE when every try was wide. */
static gboolean tsc_sample(guint64 *out_tsc, gint64 *out_ns)
{
	gint64 best = G_MAXINT64;

	for (int i = 0; i < TSC_SAMPLE_TRIES; i++) {
		gint64 before = raw_ns();
		guint64 tsc = __rdtsc();
		gint64 after = raw_ns();
		if (after - before < best) {
			best = after - before;
			*out_tsc = tsc;
			*out_ns = before + (after - before) / 2;
		}
	}
	return best <= TSC_SAMPLE_MAX_NS;
}

static guint32 measure_tsc_khz(void)
{
	guint64 tsc0 = 0, tsc1 = 0;
	gint64 ns0 = 0, ns1 = 0;

	if (!tsc_sample(&tsc0, &ns0))
		return 0;
	g_usleep(TSC_INTERVAL_NS / 1000);
	if (!tsc_sample(&tsc1, &ns1) || ns1 <= ns0 || tsc1 <= tsc0)
		return 0;
	guint64 khz = (tsc1 - tsc0) * G_GUINT64_CONSTANT(1000000) / (guint64)(ns1 - ns0);
	/* whole MHz: the guest refines it against its HPET within a second
	 * (it accepts a change of up to 1 %), and a coarser figure stays the
	 * same from one measurement to the next (template keys) */
	khz = (khz + 500) / 1000 * 1000;
	return khz >= TSC_MIN_KHZ && khz <= TSC_MAX_KHZ ? (guint32)khz : 0;
}
#else
static guint32 measure_tsc_khz(void)
{
	return 0;
}
#endif

static guint32 cached_tsc_khz(const char *path)
{
	g_autofree char *boot_id = host_boot_id();
	g_auto(yajl_val) doc = ck_json_parse_file(path, 64 * 1024, NULL);
	yajl_val id = ck_json_get(doc, "boot_id");
	gint64 cached = 0;

	if (id != NULL && YAJL_IS_STRING(id) && g_str_equal(id->u.string, boot_id) &&
	    ck_json_as_int64(ck_json_get(doc, "tsc_khz"), &cached) && cached >= TSC_MIN_KHZ && cached <= TSC_MAX_KHZ)
		return (guint32)cached;
	return 0;
}

guint32 accel_host_tsc_khz(const char *root)
{
	g_autofree char *path = g_build_filename(root, TSC_FILE, NULL);
	g_autofree char *lock_path = g_build_filename(root, TSC_LOCK_FILE, NULL);
	guint32 khz = cached_tsc_khz(path);

	if (khz != 0)
		return khz;
	/* one measurement per root: two VMs racing here would otherwise
	 * differ in the last digits, and so in their template keys */
	ck_autofd lock = ck_mkdir_p(root, 0711, NULL) ? open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
	if (lock >= 0 && flock(lock, LOCK_EX) < 0)
		ck_log_debug("host TSC: flock %s: %s, measuring anyway", lock_path, g_strerror(errno));
	khz = cached_tsc_khz(path);
	if (khz != 0)
		return khz;
	khz = measure_tsc_khz();
	if (khz == 0) {
		ck_log_debug("host TSC frequency unknown: the guest calibrates its own");
		return 0;
	}
	g_autoptr(CkJsonGen) g = host_fact_begin();
	ck_json_kv_int(g, "tsc_khz", khz);
	store_host_fact(root, TSC_FILE, g, "host TSC frequency");
	return khz;
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
