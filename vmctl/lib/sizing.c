/* sizing: VM size rules (see sizing.h). */
#include "sizing.h"

#include <string.h>

#include "base/ck-error.h"
#include "base/ck-json.h"
#include "base/ck-parse.h"

WorkloadSize sizing_from_resources(const OciResources *res)
{
	WorkloadSize w = {0};

	if (res == NULL)
		return w;
	/* the kernel's default period when only a quota is given */
	guint64 period = res->cpu_period > 0 ? res->cpu_period : 100000;
	if (res->cpu_quota > 0)
		w.vcpus = (double)res->cpu_quota / (double)period;
	if (res->memory_limit > 0)
		w.mem_bytes = (guint64)res->memory_limit;
	return w;
}

static gboolean add_cri_resources(const char *key, const char *json, WorkloadSize *acc, GError **error)
{
	g_auto(yajl_val) tree = ck_json_parse(json, strlen(json), key, error);
	gint64 quota = 0, period = 0, mem = 0;

	if (tree == NULL)
		return FALSE;
	if (!YAJL_IS_OBJECT(tree))
		return ck_set_error(error, CK_ERROR_INVALID, "annotation %s: expected a JSON object", key);
	(void)ck_json_as_int64(ck_json_get(tree, "cpu_quota"), &quota);
	(void)ck_json_as_int64(ck_json_get(tree, "cpu_period"), &period);
	(void)ck_json_as_int64(ck_json_get(tree, "memory_limit_in_bytes"), &mem);
	if (quota < -1 || period < 0 || mem < 0)
		return ck_set_error(error, CK_ERROR_INVALID, "annotation %s: negative limit", key);
	if (quota > 0)
		acc->vcpus += (double)quota / (double)(period > 0 ? period : 100000);
	acc->mem_bytes += (guint64)mem;
	return TRUE;
}

/* One of containerd's decimal annotations; absent is 0. */
static gboolean cri_number(GHashTable *annotations, const char *key, gint64 min, gint64 *out, gboolean *present,
			   GError **error)
{
	const char *v = g_hash_table_lookup(annotations, key);
	g_autofree char *what = g_strdup_printf("annotation %s", key);

	*out = 0;
	if (v == NULL)
		return TRUE;
	*present = TRUE;
	return ck_parse_int64(v, what, min, G_MAXINT64, out, error);
}

/* containerd's sandbox annotations: quota -1 or 0 is no CPU limit, memory
 * 0 no memory limit (CRI's zero values). */
static gboolean add_containerd_resources(GHashTable *annotations, WorkloadSize *acc, gboolean *present, GError **error)
{
	gint64 quota, period, mem;

	if (!cri_number(annotations, ANNOTATION_CRI_SANDBOX_CPU_QUOTA, -1, &quota, present, error) ||
	    !cri_number(annotations, ANNOTATION_CRI_SANDBOX_CPU_PERIOD, 0, &period, present, error) ||
	    !cri_number(annotations, ANNOTATION_CRI_SANDBOX_MEMORY, 0, &mem, present, error))
		return FALSE;
	if (quota > 0)
		acc->vcpus += (double)quota / (double)(period > 0 ? period : 100000);
	acc->mem_bytes += (guint64)mem;
	return TRUE;
}

gboolean sizing_from_pod_annotations(GHashTable *annotations, WorkloadSize *out, const char **out_source,
				     GError **error)
{
	static const char *const keys[] = {ANNOTATION_POD_RESOURCES, ANNOTATION_POD_OVERHEAD};
	WorkloadSize acc = {0};
	gboolean present = FALSE;

	*out = acc;
	*out_source = NULL;
	if (annotations == NULL)
		return TRUE;
	/* The overhead is what the VM costs the host beyond the guest's own
	 * size (QEMU, the default memory): the RuntimeClass pays for it, and
	 * adding it to the guest would make the guest outgrow what it pays.
	 * It is checked, not counted (Kata does not count it either). */
	for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
		const char *v = g_hash_table_lookup(annotations, keys[i]);
		WorkloadSize overhead = {0};
		if (v == NULL)
			continue;
		if (!add_cri_resources(keys[i], v, i == 0 ? &acc : &overhead, error))
			return FALSE;
		present |= i == 0;
	}
	if (present) {
		*out_source = ANNOTATION_POD_RESOURCES;
	} else {
		if (!add_containerd_resources(annotations, &acc, &present, error))
			return FALSE;
		*out_source = present ? ANNOTATION_CRI_SANDBOX_RESOURCES : NULL;
	}
	*out = acc;
	return TRUE;
}

/* ceil() of a non-negative CPU count, tolerant of float noise (0.5+0.5) */
static int cpus_up(double v)
{
	int i = (int)v;
	return v > (double)i + 1e-9 ? i + 1 : i;
}

static int max_vcpus(const CkConfig *cfg, int host_cpus)
{
	int m = cfg->hypervisor.default_maxvcpus > 0 ? cfg->hypervisor.default_maxvcpus : host_cpus;
	return MAX(m, cfg->hypervisor.default_vcpus);
}

static guint64 mib_up(guint64 bytes)
{
	return (bytes + (1024 * 1024 - 1)) / (1024 * 1024);
}

void sizing_boot(const CkConfig *cfg, const WorkloadSize *workload, int host_cpus, int *out_vcpus,
		 guint32 *out_mem_mib)
{
	int vcpus = cfg->hypervisor.default_vcpus + cpus_up(workload->vcpus);
	guint64 mem = cfg->hypervisor.default_memory + mib_up(workload->mem_bytes);
	guint64 max_mem = cfg->hypervisor.default_maxmemory;

	*out_vcpus = CLAMP(vcpus, 1, max_vcpus(cfg, host_cpus));
	if (max_mem > 0 && mem > max_mem)
		mem = max_mem;
	*out_mem_mib = (guint32)MIN(mem, G_MAXUINT32);
}

void sizing_target(const CkConfig *cfg, const WorkloadSize *total, int max_cpus, guint64 max_mem_mib,
		   int current_vcpus, guint64 current_mem_mib, int *out_vcpus, guint64 *out_mem_mib)
{
	int want_cpus = cfg->hypervisor.default_vcpus + cpus_up(total->vcpus);
	guint64 want_mem = cfg->hypervisor.default_memory + mib_up(total->mem_bytes);

	*out_vcpus = CLAMP(MAX(want_cpus, current_vcpus), 1, MAX(max_cpus, current_vcpus));
	if (want_mem <= current_mem_mib) {
		*out_mem_mib = current_mem_mib;
		return;
	}
	guint64 add = want_mem - current_mem_mib;
	add = (add + SIZING_MEMORY_BLOCK_MIB - 1) / SIZING_MEMORY_BLOCK_MIB * SIZING_MEMORY_BLOCK_MIB;
	guint64 target = current_mem_mib + add;
	if (max_mem_mib > 0 && target > max_mem_mib)
		target = current_mem_mib + (max_mem_mib - current_mem_mib) / SIZING_MEMORY_BLOCK_MIB *
						   SIZING_MEMORY_BLOCK_MIB;
	*out_mem_mib = target;
}
