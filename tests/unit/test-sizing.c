/* sizing: the VM size rules of vmctl/lib/sizing.h. */
#include <string.h>

#include <glib.h>

#include "base/ck-error.h"
#include "lib/config.h"
#include "lib/sizing.h"

#define MIB (1024ULL * 1024ULL)

static CkConfig *config(int vcpus, int maxvcpus, guint32 mem, guint32 maxmem)
{
	CkConfig *cfg = ck_config_new_defaults();

	cfg->hypervisor.default_vcpus = vcpus;
	cfg->hypervisor.default_maxvcpus = maxvcpus;
	cfg->hypervisor.default_memory = mem;
	cfg->hypervisor.default_maxmemory = maxmem;
	return cfg;
}

static void test_from_resources(void)
{
	OciResources res;

	oci_resources_init(&res);
	WorkloadSize w = sizing_from_resources(&res);
	g_assert_cmpfloat(w.vcpus, ==, 0);
	g_assert_cmpuint(w.mem_bytes, ==, 0);

	res.cpu_quota = 150000;
	res.cpu_period = 100000;
	res.memory_limit = 300 * MIB;
	w = sizing_from_resources(&res);
	g_assert_cmpfloat_with_epsilon(w.vcpus, 1.5, 1e-9);
	g_assert_cmpuint(w.mem_bytes, ==, 300 * MIB);

	/* a quota alone counts against the kernel's default period */
	res.cpu_period = 0;
	res.cpu_quota = 50000;
	g_assert_cmpfloat_with_epsilon(sizing_from_resources(&res).vcpus, 0.5, 1e-9);

	/* unlimited is no demand */
	res.cpu_quota = -1;
	res.memory_limit = -1;
	w = sizing_from_resources(&res);
	g_assert_cmpfloat(w.vcpus, ==, 0);
	g_assert_cmpuint(w.mem_bytes, ==, 0);
	g_assert_cmpfloat(sizing_from_resources(NULL).vcpus, ==, 0);
	oci_resources_clear(&res);
}

static void test_pod_annotations(void)
{
	g_autoptr(GHashTable) a = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GError) error = NULL;
	WorkloadSize w;
	const char *source = "unset";

	g_assert_true(sizing_from_pod_annotations(a, &w, &source, &error));
	g_assert_null(source);

	g_hash_table_insert(a, ANNOTATION_POD_RESOURCES,
			    "{\"cpu_period\":100000,\"cpu_quota\":250000,\"memory_limit_in_bytes\":536870912}");
	g_hash_table_insert(a, ANNOTATION_POD_OVERHEAD, "{\"cpu_quota\":25000,\"memory_limit_in_bytes\":167772160}");
	g_assert_true(sizing_from_pod_annotations(a, &w, &source, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(source, ==, ANNOTATION_POD_RESOURCES);
	/* the overhead pays for the VM on the host: not the guest's size */
	g_assert_cmpfloat_with_epsilon(w.vcpus, 2.5, 1e-9);
	g_assert_cmpuint(w.mem_bytes, ==, 512 * MIB);

	/* overhead alone does not make the pod's size known */
	g_hash_table_remove(a, ANNOTATION_POD_RESOURCES);
	g_assert_true(sizing_from_pod_annotations(a, &w, &source, &error));
	g_assert_null(source);
	g_assert_cmpuint(w.mem_bytes, ==, 0);
}

/* containerd's CRI plugin: decimal strings, 0 (or quota -1) is no limit */
static void test_containerd_annotations(void)
{
	g_autoptr(GHashTable) a = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GError) error = NULL;
	WorkloadSize w;
	const char *source = NULL;

	g_hash_table_insert(a, ANNOTATION_CRI_SANDBOX_CPU_PERIOD, "100000");
	g_hash_table_insert(a, ANNOTATION_CRI_SANDBOX_CPU_QUOTA, "150000");
	g_hash_table_insert(a, "io.kubernetes.cri.sandbox-cpu-shares", "1536");
	g_hash_table_insert(a, ANNOTATION_CRI_SANDBOX_MEMORY, "268435456");
	g_assert_true(sizing_from_pod_annotations(a, &w, &source, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(source, ==, ANNOTATION_CRI_SANDBOX_RESOURCES);
	g_assert_cmpfloat_with_epsilon(w.vcpus, 1.5, 1e-9);
	g_assert_cmpuint(w.mem_bytes, ==, 256 * MIB);

	/* a pod without limits: announced, and nothing to add */
	g_hash_table_insert(a, ANNOTATION_CRI_SANDBOX_CPU_QUOTA, "0");
	g_hash_table_insert(a, ANNOTATION_CRI_SANDBOX_MEMORY, "0");
	g_assert_true(sizing_from_pod_annotations(a, &w, &source, &error));
	g_assert_cmpstr(source, ==, ANNOTATION_CRI_SANDBOX_RESOURCES);
	g_assert_cmpfloat(w.vcpus, ==, 0);
	g_assert_cmpuint(w.mem_bytes, ==, 0);
	g_hash_table_insert(a, ANNOTATION_CRI_SANDBOX_CPU_QUOTA, "-1");
	g_assert_true(sizing_from_pod_annotations(a, &w, &source, &error));
	g_assert_cmpfloat(w.vcpus, ==, 0);

	/* CRI-O's wins when both are there */
	g_hash_table_insert(a, ANNOTATION_POD_RESOURCES, "{\"memory_limit_in_bytes\":134217728}");
	g_assert_true(sizing_from_pod_annotations(a, &w, &source, &error));
	g_assert_cmpstr(source, ==, ANNOTATION_POD_RESOURCES);
	g_assert_cmpuint(w.mem_bytes, ==, 128 * MIB);
}

static void test_containerd_annotations_bad(void)
{
	static const struct {
		const char *key, *value, *message;
	} cases[] = {
	    {ANNOTATION_CRI_SANDBOX_MEMORY, "256Mi",
	     "annotation io.kubernetes.cri.sandbox-memory: '256Mi' is not a valid number"},
	    {ANNOTATION_CRI_SANDBOX_MEMORY, "-5", "annotation io.kubernetes.cri.sandbox-memory: -5 is out of range"},
	    {ANNOTATION_CRI_SANDBOX_CPU_QUOTA, "-2",
	     "annotation io.kubernetes.cri.sandbox-cpu-quota: -2 is out of range"},
	    {ANNOTATION_CRI_SANDBOX_CPU_PERIOD, "",
	     "annotation io.kubernetes.cri.sandbox-cpu-period: '' is not a valid"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GHashTable) a = g_hash_table_new(g_str_hash, g_str_equal);
		g_autoptr(GError) error = NULL;
		WorkloadSize w;
		const char *source;

		g_hash_table_insert(a, (gpointer)cases[i].key, (gpointer)cases[i].value);
		g_assert_false(sizing_from_pod_annotations(a, &w, &source, &error));
		g_assert_nonnull(error);
		if (strstr(error->message, cases[i].message) == NULL)
			g_error("case %zu: '%s' lacks '%s'", i, error->message, cases[i].message);
		g_assert_null(strchr(error->message, '\n'));
	}
}

static void test_pod_annotations_bad(void)
{
	static const struct {
		const char *value, *message;
	} cases[] = {
	    {"{\"cpu_quota\": 1", "pod-linux-resources.crio.io"},
	    {"[1]", "annotation pod-linux-resources.crio.io: expected a JSON object"},
	    {"{\"memory_limit_in_bytes\": -5}", "annotation pod-linux-resources.crio.io: negative limit"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GHashTable) a = g_hash_table_new(g_str_hash, g_str_equal);
		g_autoptr(GError) error = NULL;
		WorkloadSize w;
		const char *source;

		g_hash_table_insert(a, ANNOTATION_POD_RESOURCES, (gpointer)cases[i].value);
		g_assert_false(sizing_from_pod_annotations(a, &w, &source, &error));
		g_assert_nonnull(error);
		g_assert_nonnull(strstr(error->message, cases[i].message));
		g_assert_null(strchr(error->message, '\n'));
	}
}

static void test_boot(void)
{
	g_autoptr(CkConfig) cfg = config(1, 4, 2048, 8192);
	WorkloadSize w = {0};
	int vcpus;
	guint32 mem;

	sizing_boot(cfg, &w, 16, &vcpus, &mem);
	g_assert_cmpint(vcpus, ==, 1);
	g_assert_cmpuint(mem, ==, 2048);

	/* defaults plus the workload, fractions rounded up once */
	w = (WorkloadSize){.vcpus = 1.5, .mem_bytes = 512 * MIB + 1};
	sizing_boot(cfg, &w, 16, &vcpus, &mem);
	g_assert_cmpint(vcpus, ==, 3);
	g_assert_cmpuint(mem, ==, 2048 + 513);

	/* bounded by the maxima */
	w = (WorkloadSize){.vcpus = 10, .mem_bytes = 100000 * MIB};
	sizing_boot(cfg, &w, 16, &vcpus, &mem);
	g_assert_cmpint(vcpus, ==, 4);
	g_assert_cmpuint(mem, ==, 8192);

	/* default_maxvcpus 0: the host's CPUs */
	g_autoptr(CkConfig) open = config(1, 0, 2048, 0);
	sizing_boot(open, &w, 2, &vcpus, &mem);
	g_assert_cmpint(vcpus, ==, 2);
	g_assert_cmpuint(mem, ==, 2048 + 100000);
}

static void test_target(void)
{
	g_autoptr(CkConfig) cfg = config(1, 4, 2048, 4096);
	int vcpus;
	guint64 mem;

	/* 0.5 + 0.5 CPUs is one more vCPU, not two */
	WorkloadSize total = {.vcpus = 0.5 + 0.5, .mem_bytes = 0};
	sizing_target(cfg, &total, 4, 4096, 1, 2048, &vcpus, &mem);
	g_assert_cmpint(vcpus, ==, 2);
	g_assert_cmpuint(mem, ==, 2048);

	/* memory grows in whole 128 MiB blocks */
	total = (WorkloadSize){.vcpus = 0, .mem_bytes = 200 * MIB};
	sizing_target(cfg, &total, 4, 4096, 1, 2048, &vcpus, &mem);
	g_assert_cmpint(vcpus, ==, 1);
	g_assert_cmpuint(mem, ==, 2048 + 256);

	/* never below the current size */
	total = (WorkloadSize){0};
	sizing_target(cfg, &total, 4, 4096, 3, 2560, &vcpus, &mem);
	g_assert_cmpint(vcpus, ==, 3);
	g_assert_cmpuint(mem, ==, 2560);

	/* never above the maxima; the memory cap keeps whole blocks */
	total = (WorkloadSize){.vcpus = 16, .mem_bytes = 10000 * MIB};
	sizing_target(cfg, &total, 4, 4000, 1, 2048, &vcpus, &mem);
	g_assert_cmpint(vcpus, ==, 4);
	g_assert_cmpuint(mem, ==, 2048 + 15 * 128);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/sizing/from-resources", test_from_resources);
	g_test_add_func("/sizing/pod-annotations", test_pod_annotations);
	g_test_add_func("/sizing/pod-annotations-bad", test_pod_annotations_bad);
	g_test_add_func("/sizing/containerd-annotations", test_containerd_annotations);
	g_test_add_func("/sizing/containerd-annotations-bad", test_containerd_annotations_bad);
	g_test_add_func("/sizing/boot", test_boot);
	g_test_add_func("/sizing/target", test_target);
	return g_test_run();
}
