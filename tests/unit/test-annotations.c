/* Unit tests: pod annotations into configuration overrides (annotations.c):
 * every supported annotation accepted and visible in the result, every
 * refusal with its exact message and the configuration left as it was,
 * the enable_annotations gate (anchoring, agent./runtime. groups), path
 * allow-lists, kernel_params appending, kernel_modules parsing, the
 * cross-key checks, containers, pods without a VM, and ck_config_copy(). */
#include <string.h>

#include <glib.h>

#include "base/ck-error.h"
#include "lib/annotations.h"

#define HV "[hypervisor.qemu]\n"
#define ALL_ENABLED "enable_annotations = [\".*\"]\n"
#define ALLOW_LISTS                                                    \
	"valid_hypervisor_paths = [\"/opt/qemu/bin/qemu-system-*\"]\n" \
	"valid_kernel_paths = [\"/k/vmlinux-*\", \"/k/*/vmlinux\"]\n"  \
	"valid_initrd_paths = [\"/k/*.img\"]\n"
/* Every annotation enabled, and allow-lists to check paths against. */
#define BASE HV "kernel_params = \"quiet\"\n" ALL_ENABLED ALLOW_LISTS

#define A_HV "io.katacontainers.config.hypervisor."
#define A_AGENT "io.katacontainers.config.agent."
#define A_RT "io.katacontainers.config.runtime."

static CkConfig *load(const char *toml)
{
	g_autoptr(GError) error = NULL;
	CkConfig *cfg = ck_config_load_data("t.toml", toml, strlen(toml), &error);

	g_assert_no_error(error);
	g_assert_nonnull(cfg);
	return cfg;
}

/* name, value, name, value, ..., NULL -> an OCI spec's annotation table. */
static GHashTable *table(const char *const *pairs)
{
	GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	for (gsize i = 0; pairs[i] != NULL; i += 2)
		g_hash_table_insert(t, g_strdup(pairs[i]), g_strdup(pairs[i + 1]));
	return t;
}

static void apply_ok(CkConfig *cfg, const char *const *pairs)
{
	g_autoptr(GHashTable) t = table(pairs);
	g_autoptr(GError) error = NULL;

	gboolean ok = annotations_apply(cfg, t, &error);

	g_assert_no_error(error);
	g_assert_true(ok);
}

static void assert_strv(char **got, const char *const *want)
{
	g_assert_nonnull(got);
	g_assert_cmpuint(g_strv_length(got), ==, g_strv_length((char **)want));
	for (gsize i = 0; want[i] != NULL; i++)
		g_assert_cmpstr(got[i], ==, want[i]);
}

/* The `vmctl env` lines of `after` that differ from `before`, as
 * "[section] key = value" (origin comment cut), joined by "; ". Every key
 * is printed in a fixed order, so the lines pair up one to one. */
static char *changed(const CkConfig *before, const CkConfig *after)
{
	g_autofree char *a = ck_config_to_toml(before);
	g_autofree char *b = ck_config_to_toml(after);
	g_auto(GStrv) la = g_strsplit(a, "\n", -1);
	g_auto(GStrv) lb = g_strsplit(b, "\n", -1);
	g_autoptr(GString) out = g_string_new(NULL);
	const char *section = "";

	g_assert_cmpuint(g_strv_length(la), ==, g_strv_length(lb));
	for (gsize i = 0; lb[i] != NULL; i++) {
		if (lb[i][0] == '[')
			section = lb[i];
		if (g_str_equal(la[i], lb[i]))
			continue;
		char *comment = strstr(lb[i], "  #");
		if (comment != NULL)
			*comment = '\0';
		g_string_append_printf(out, "%s%s %s", out->len > 0 ? "; " : "", section, lb[i]);
	}
	return g_strdup(out->str);
}

/* ---- every supported annotation ---------------------------------------------------------- */

typedef struct {
	const char *name;
	const char *value;
	const char *change; /* as changed() reports it */
} AcceptCase;

static const AcceptCase accept_cases[] = {
    {A_HV "path", "/opt/qemu/bin/qemu-system-aarch64",
     "[hypervisor.qemu] path = \"/opt/qemu/bin/qemu-system-aarch64\""},
    {A_HV "kernel", "/k/vmlinux-6.1", "[hypervisor.qemu] kernel = \"/k/vmlinux-6.1\""},
    {A_HV "initrd", "/k/initrd.img", "[hypervisor.qemu] initrd = \"/k/initrd.img\""},
    {A_HV "machine_type", "microvm", "[hypervisor.qemu] machine_type = \"microvm\""},
    {A_HV "kernel_params", "foo=1 bar", "[hypervisor.qemu] kernel_params = \"quiet foo=1 bar\""},
    {A_HV "default_vcpus", "2", "[hypervisor.qemu] default_vcpus = 2"},
    {A_HV "default_maxvcpus", "8", "[hypervisor.qemu] default_maxvcpus = 8"},
    {A_HV "default_max_vcpus", "6", "[hypervisor.qemu] default_maxvcpus = 6"},
    {A_HV "default_memory", "1024", "[hypervisor.qemu] default_memory = 1024"},
    {A_HV "memory_slots", "0", "[hypervisor.qemu] memory_slots = 0"},
    {A_HV "default_maxmemory", "4096", "[hypervisor.qemu] default_maxmemory = 4096"},
    {A_HV "msize_9p", "8192", "[hypervisor.qemu] msize_9p = 8192"},
    {A_HV "shared_fs", "none", "[hypervisor.qemu] shared_fs = \"none\""},
    {A_HV "enable_debug", "true", "[hypervisor.qemu] enable_debug = true"},
    {A_HV "guest_hook_path", "/usr/share/oci/hooks", "[hypervisor.qemu] guest_hook_path = \"/usr/share/oci/hooks\""},
    {A_HV "seccompsandbox", "on,obsolete=deny", "[hypervisor.qemu] seccompsandbox = \"on,obsolete=deny\""},
    {A_HV "accel", "tcg", "[hypervisor.qemu] accel = \"tcg\""},
    {A_HV "boot_timeout", "120", "[hypervisor.qemu] boot_timeout = 120"},
    {A_AGENT "enable_debug", "1", "[agent.kata] enable_debug = true"},
    {A_AGENT "dial_timeout", "30", "[agent.kata] dial_timeout = 30"},
    {A_AGENT "kernel_modules", "e1000e InterruptThrottleRate=3000; i915;",
     "[agent.kata] kernel_modules = [\"e1000e InterruptThrottleRate=3000\", \"i915\"]"},
    {A_RT "enable_debug", "True", "[runtime] enable_debug = true"},
    {A_RT "disable_guest_seccomp", "t", "[runtime] disable_guest_seccomp = true"},
    {A_RT "create_container_timeout", "120", "[runtime] create_container_timeout = 120"},
    /* more values */
    {A_HV "kernel", "/k/6.1/vmlinux", "[hypervisor.qemu] kernel = \"/k/6.1/vmlinux\""},
    {A_HV "default_memory", "0064", "[hypervisor.qemu] default_memory = 64"},
    {A_HV "kernel_params", "  x=1  ", "[hypervisor.qemu] kernel_params = \"quiet x=1\""},
};

static void test_accept(gconstpointer data)
{
	const AcceptCase *c = data;
	g_autoptr(CkConfig) before = load(BASE);
	g_autoptr(CkConfig) cfg = load(BASE);

	apply_ok(cfg, (const char *const[]){c->name, c->value, NULL});
	g_autofree char *change = changed(before, cfg);
	g_assert_cmpstr(change, ==, c->change);
}

/* Go's strconv.ParseBool spellings, each way. */
static void test_bool_spellings(void)
{
	static const char *const yes[] = {"true", "1", "t", "T", "TRUE", "True", NULL};
	static const char *const no[] = {"false", "0", "f", "F", "FALSE", "False", NULL};

	for (gsize i = 0; yes[i] != NULL; i++) {
		g_autoptr(CkConfig) cfg = load(BASE);
		apply_ok(cfg, (const char *const[]){A_HV "enable_debug", yes[i], NULL});
		g_assert_true(cfg->hypervisor.enable_debug);
	}
	for (gsize i = 0; no[i] != NULL; i++) {
		g_autoptr(CkConfig) cfg = load(BASE "enable_debug = true\n");
		apply_ok(cfg, (const char *const[]){A_HV "enable_debug", no[i], NULL});
		g_assert_false(cfg->hypervisor.enable_debug);
	}
}

/* ---- refusals -------------------------------------------------------------------------- */

typedef struct {
	const char *label;
	const char *toml;
	const char *annotations[9]; /* name, value pairs */
	const char *message;
} RejectCase;

#define NOT_ENABLED(suffix) ": not enabled (enable_annotations in [hypervisor.qemu] does not match '" suffix "')"
#define UNSUPPORTED ": not supported by conmon-kata"

static const RejectCase reject_cases[] = {
    /* the gate */
    {"not-enabled/empty-list",
     HV ALLOW_LISTS,
     {A_HV "default_memory", "1024"},
     "annotation " A_HV "default_memory" NOT_ENABLED("default_memory")},
    {"not-enabled/anchored-start",
     HV "enable_annotations = [\"memory\"]\n",
     {A_HV "default_memory", "1024"},
     "annotation " A_HV "default_memory" NOT_ENABLED("default_memory")},
    {"not-enabled/anchored-end",
     HV "enable_annotations = [\"default_mem\"]\n",
     {A_HV "default_memory", "1024"},
     "annotation " A_HV "default_memory" NOT_ENABLED("default_memory")},
    {"not-enabled/other-keys",
     HV "enable_annotations = [\"default_vcpus\", \"kernel_.*\"]\n",
     {A_HV "default_memory", "1024"},
     "annotation " A_HV "default_memory" NOT_ENABLED("default_memory")},
    {"not-enabled/agent",
     HV "enable_annotations = [\"enable_debug\"]\n",
     {A_AGENT "enable_debug", "true"},
     "annotation " A_AGENT "enable_debug" NOT_ENABLED("agent.enable_debug")},
    {"not-enabled/runtime",
     HV "enable_annotations = [\"agent\\\\..*\"]\n",
     {A_RT "disable_guest_seccomp", "true"},
     "annotation " A_RT "disable_guest_seccomp" NOT_ENABLED("runtime.disable_guest_seccomp")},
    {"not-enabled/hypervisor-by-agent-pattern",
     HV "enable_annotations = [\"agent\\\\.enable_debug\"]\n",
     {A_HV "enable_debug", "true"},
     "annotation " A_HV "enable_debug" NOT_ENABLED("enable_debug")},
    {"not-enabled/bad-regex",
     HV "enable_annotations = [\"(\"]\n",
     {A_HV "default_memory", "1024"},
     "annotation " A_HV "default_memory: enable_annotations in [hypervisor.qemu]: '(' is not a valid regular "
     "expression"},
    /* a bad expression is an error wherever it stands, even after one
     * that matches */
    {"not-enabled/bad-regex-after-a-match",
     HV "enable_annotations = [\"default_memory\", \"[\"]\n",
     {A_HV "default_memory", "1024"},
     "annotation " A_HV "default_memory: enable_annotations in [hypervisor.qemu]: '[' is not a valid regular "
     "expression"},
    /* a stray parenthesis must not escape the anchors: "^(?:a)|(b)$"
     * would match every name that starts with "a" (found by fuzzing) */
    {"not-enabled/parenthesis-escaping-the-anchors",
     HV "enable_annotations = [\"a)|(b\"]\n",
     {A_AGENT "enable_debug", "true"},
     "annotation " A_AGENT "enable_debug: enable_annotations in [hypervisor.qemu]: 'a)|(b' is not a valid regular "
     "expression"},
    {"not-enabled/empty-pattern",
     HV "enable_annotations = [\"\"]\n",
     {A_HV "default_memory", "1024"},
     "annotation " A_HV "default_memory" NOT_ENABLED("default_memory")},
    /* the gate comes before the allow-list: an allowed path is still refused */
    {"not-enabled/path-in-allow-list",
     HV "enable_annotations = [\"default_memory\"]\nvalid_kernel_paths = [\"/k/*\"]\n",
     {A_HV "kernel", "/k/vmlinux"},
     "annotation " A_HV "kernel" NOT_ENABLED("kernel")},
    /* the first refused annotation, in name order, is the one named */
    {"not-enabled/first-in-name-order",
     HV "enable_annotations = [\"msize_9p\"]\n",
     {A_HV "memory_slots", "2", A_HV "default_vcpus", "2", A_HV "msize_9p", "8192"},
     "annotation " A_HV "default_vcpus" NOT_ENABLED("default_vcpus")},
    /* unknown and unsupported names, also when not enabled */
    {"unsupported/unknown", BASE, {A_HV "bogus", "1"}, "annotation " A_HV "bogus" UNSUPPORTED},
    {"unsupported/empty-suffix", BASE, {A_HV, "1"}, "annotation " A_HV UNSUPPORTED},
    {"unsupported/case", BASE, {A_HV "Default_Memory", "1024"}, "annotation " A_HV "Default_Memory" UNSUPPORTED},
    {"unsupported/not-enabled-either",
     HV,
     {A_HV "enable_iommu", "true"},
     "annotation " A_HV "enable_iommu" UNSUPPORTED},
    {"unsupported/enable_iommu", BASE, {A_HV "enable_iommu", "true"}, "annotation " A_HV "enable_iommu" UNSUPPORTED},
    {"unsupported/virtio_fs_daemon",
     BASE,
     {A_HV "virtio_fs_daemon", "/usr/libexec/virtiofsd"},
     "annotation " A_HV "virtio_fs_daemon" UNSUPPORTED},
    {"unsupported/default_gpus", BASE, {A_HV "default_gpus", "1"}, "annotation " A_HV "default_gpus" UNSUPPORTED},
    {"unsupported/image", BASE, {A_HV "image", "/k/x.img"}, "annotation " A_HV "image" UNSUPPORTED},
    {"unsupported/jailer_path", BASE, {A_HV "jailer_path", "/x"}, "annotation " A_HV "jailer_path" UNSUPPORTED},
    {"unsupported/kernel_hash", BASE, {A_HV "kernel_hash", "ab"}, "annotation " A_HV "kernel_hash" UNSUPPORTED},
    {"unsupported/agent.enable_tracing",
     BASE,
     {A_AGENT "enable_tracing", "true"},
     "annotation " A_AGENT "enable_tracing" UNSUPPORTED},
    {"unsupported/agent.policy", BASE, {A_AGENT "policy", "e30="}, "annotation " A_AGENT "policy" UNSUPPORTED},
    {"unsupported/runtime.sandbox_cgroup_only",
     BASE,
     {A_RT "sandbox_cgroup_only", "true"},
     "annotation " A_RT "sandbox_cgroup_only" UNSUPPORTED},
    {"unsupported/runtime.internetworking_model",
     BASE,
     {A_RT "internetworking_model", "none"},
     "annotation " A_RT "internetworking_model" UNSUPPORTED},
    {"unsupported/enable_vcpus_pinning",
     BASE,
     {"io.katacontainers.enable_vcpus_pinning", "true"},
     "annotation io.katacontainers.enable_vcpus_pinning" UNSUPPORTED},
    {"unsupported/container_type",
     BASE,
     {"io.katacontainers.pkg.oci.container_type", "pod_sandbox"},
     "annotation io.katacontainers.pkg.oci.container_type" UNSUPPORTED},
    {"unsupported/other-section",
     BASE,
     {"io.katacontainers.config.factory.enable_template", "true"},
     "annotation io.katacontainers.config.factory.enable_template" UNSUPPORTED},
    {"unsupported/escaped-name",
     BASE,
     {"io.katacontainers.a\nb", "1"},
     "annotation io.katacontainers.a\\x0Ab" UNSUPPORTED},
    /* integers */
    {"number/junk",
     BASE,
     {A_HV "default_memory", "12x"},
     "annotation " A_HV "default_memory: '12x' is not a number of MiB"},
    {"number/empty", BASE, {A_HV "default_memory", ""}, "annotation " A_HV "default_memory: '' is not a number of MiB"},
    {"number/space",
     BASE,
     {A_HV "default_memory", " 1024"},
     "annotation " A_HV "default_memory: ' 1024' is not a number of MiB"},
    {"number/plus",
     BASE,
     {A_HV "default_memory", "+1024"},
     "annotation " A_HV "default_memory: '+1024' is not a number of MiB"},
    {"number/float",
     BASE,
     {A_HV "default_memory", "1.5"},
     "annotation " A_HV "default_memory: '1.5' is not a number of MiB"},
    {"number/hex",
     BASE,
     {A_HV "default_memory", "0x400"},
     "annotation " A_HV "default_memory: '0x400' is not a number of MiB"},
    {"number/unit",
     BASE,
     {A_HV "default_memory", "1Gi"},
     "annotation " A_HV "default_memory: '1Gi' is not a number of MiB"},
    {"number/minus-only",
     BASE,
     {A_HV "default_vcpus", "-"},
     "annotation " A_HV "default_vcpus: '-' is not a number of vCPUs"},
    {"number/vcpus",
     BASE,
     {A_HV "default_max_vcpus", "two"},
     "annotation " A_HV "default_max_vcpus: 'two' is not a number of vCPUs"},
    {"number/slots",
     BASE,
     {A_HV "memory_slots", "ten"},
     "annotation " A_HV "memory_slots: 'ten' is not a number of slots"},
    {"number/bytes", BASE, {A_HV "msize_9p", "512k"}, "annotation " A_HV "msize_9p: '512k' is not a number of bytes"},
    {"number/seconds",
     BASE,
     {A_AGENT "dial_timeout", "10s"},
     "annotation " A_AGENT "dial_timeout: '10s' is not a number of seconds"},
    {"number/control",
     BASE,
     {A_HV "default_memory", "1024\n"},
     "annotation " A_HV "default_memory: '1024\\x0A' contains a control character"},
    /* ranges, as the configuration file's */
    {"range/default_memory",
     BASE,
     {A_HV "default_memory", "32"},
     "annotation " A_HV "default_memory: 32 is out of range (64..1048576)"},
    {"range/beyond-64-bits",
     BASE,
     {A_HV "default_memory", "99999999999999999999"},
     "annotation " A_HV "default_memory: 99999999999999999999 is out of range (64..1048576)"},
    {"range/default_vcpus-zero",
     BASE,
     {A_HV "default_vcpus", "0"},
     "annotation " A_HV "default_vcpus: 0 is out of range (1..255)"},
    {"range/default_vcpus-negative",
     BASE,
     {A_HV "default_vcpus", "-1"},
     "annotation " A_HV "default_vcpus: -1 is out of range (1..255)"},
    {"range/default_max_vcpus",
     BASE,
     {A_HV "default_max_vcpus", "256"},
     "annotation " A_HV "default_max_vcpus: 256 is out of range (0..255)"},
    {"range/memory_slots",
     BASE,
     {A_HV "memory_slots", "257"},
     "annotation " A_HV "memory_slots: 257 is out of range (0..256)"},
    {"range/default_maxmemory",
     BASE,
     {A_HV "default_maxmemory", "4294967296"},
     "annotation " A_HV "default_maxmemory: 4294967296 is out of range (0..4294967295)"},
    {"range/msize_9p",
     BASE,
     {A_HV "msize_9p", "4095"},
     "annotation " A_HV "msize_9p: 4095 is out of range (4096..4194304)"},
    {"range/boot_timeout",
     BASE,
     {A_HV "boot_timeout", "0"},
     "annotation " A_HV "boot_timeout: 0 is out of range (1..3600)"},
    {"range/dial_timeout",
     BASE,
     {A_AGENT "dial_timeout", "3601"},
     "annotation " A_AGENT "dial_timeout: 3601 is out of range (1..3600)"},
    {"range/create_container_timeout",
     BASE,
     {A_RT "create_container_timeout", "0"},
     "annotation " A_RT "create_container_timeout: 0 is out of range (1..3600)"},
    /* booleans */
    {"bool/yes",
     BASE,
     {A_HV "enable_debug", "yes"},
     "annotation " A_HV "enable_debug: 'yes' is not a boolean (true or false)"},
    {"bool/empty",
     BASE,
     {A_AGENT "enable_debug", ""},
     "annotation " A_AGENT "enable_debug: '' is not a boolean (true or false)"},
    {"bool/on",
     BASE,
     {A_RT "disable_guest_seccomp", "on"},
     "annotation " A_RT "disable_guest_seccomp: 'on' is not a boolean (true or false)"},
    {"bool/tRUE",
     BASE,
     {A_RT "enable_debug", "tRUE"},
     "annotation " A_RT "enable_debug: 'tRUE' is not a boolean (true or false)"},
    /* allowed values and strings, as the configuration file's */
    {"choice/shared_fs-kata",
     BASE,
     {A_HV "shared_fs", "virtio-fs"},
     "annotation " A_HV "shared_fs: 'virtio-fs' is not supported by this build (no virtiofsd support); use "
     "'virtio-9p'"},
    {"choice/shared_fs",
     BASE,
     {A_HV "shared_fs", "nfs"},
     "annotation " A_HV "shared_fs: 'nfs' is not one of 'virtio-9p', 'none'"},
    {"choice/accel",
     BASE,
     {A_HV "accel", "fast"},
     "annotation " A_HV "accel: 'fast' is not one of 'auto', 'kvm', 'tcg'"},
    {"string/machine_type-empty",
     BASE,
     {A_HV "machine_type", ""},
     "annotation " A_HV "machine_type: must not be empty"},
    {"string/kernel_params-control",
     BASE,
     {A_HV "kernel_params", "a\nb"},
     "annotation " A_HV "kernel_params: 'a\\x0Ab' contains a control character"},
    {"string/guest_hook_path-relative",
     BASE,
     {A_HV "guest_hook_path", "hooks"},
     "annotation " A_HV "guest_hook_path: 'hooks' is not an absolute path"},
    {"string/guest_hook_path-dotdot",
     BASE,
     {A_HV "guest_hook_path", "/usr/share/oci/../../etc"},
     "annotation " A_HV "guest_hook_path: '/usr/share/oci/../../etc' has a '..' component"},
    {"string/guest_hook_path-empty",
     BASE,
     {A_HV "guest_hook_path", ""},
     "annotation " A_HV "guest_hook_path: '' is not an absolute path"},
    {"string/kernel_modules-path",
     BASE,
     {A_AGENT "kernel_modules", "../evil"},
     "annotation " A_AGENT "kernel_modules: '../evil' is not a kernel module name"},
    {"string/kernel_modules-second",
     BASE,
     {A_AGENT "kernel_modules", "ok;bad/name x=1"},
     "annotation " A_AGENT "kernel_modules: 'bad/name' is not a kernel module name"},
    /* path allow-lists */
    {"path/kernel-empty-list",
     HV ALL_ENABLED,
     {A_HV "kernel", "/k/vmlinux-6.1"},
     "annotation " A_HV "kernel: '/k/vmlinux-6.1' is not in valid_kernel_paths"},
    {"path/initrd-empty-list",
     HV ALL_ENABLED,
     {A_HV "initrd", "/k/initrd.img"},
     "annotation " A_HV "initrd: '/k/initrd.img' is not in valid_initrd_paths"},
    {"path/hypervisor-default-list",
     HV ALL_ENABLED,
     {A_HV "path", "/opt/qemu/bin/qemu-system-x86_64"},
     "annotation " A_HV "path: '/opt/qemu/bin/qemu-system-x86_64' is not in valid_hypervisor_paths"},
    {"path/hypervisor-no-match",
     BASE,
     {A_HV "path", "/usr/bin/qemu-system-x86_64"},
     "annotation " A_HV "path: '/usr/bin/qemu-system-x86_64' is not in valid_hypervisor_paths"},
    {"path/kernel-no-match",
     BASE,
     {A_HV "kernel", "/k/bzImage"},
     "annotation " A_HV "kernel: '/k/bzImage' is not in valid_kernel_paths"},
    {"path/star-is-one-component",
     BASE,
     {A_HV "kernel", "/k/a/b/vmlinux"},
     "annotation " A_HV "kernel: '/k/a/b/vmlinux' is not in valid_kernel_paths"},
    {"path/star-skips-dot-files",
     BASE,
     {A_HV "kernel", "/k/.hidden/vmlinux"},
     "annotation " A_HV "kernel: '/k/.hidden/vmlinux' is not in valid_kernel_paths"},
    {"path/dot-dot",
     BASE,
     {A_HV "kernel", "/k/../etc/vmlinux"},
     "annotation " A_HV "kernel: '/k/../etc/vmlinux' is not a canonical path"},
    {"path/double-slash",
     BASE,
     {A_HV "initrd", "/k//initrd.img"},
     "annotation " A_HV "initrd: '/k//initrd.img' is not a canonical path"},
    {"path/trailing-slash",
     BASE,
     {A_HV "kernel", "/k/vmlinux-6.1/"},
     "annotation " A_HV "kernel: '/k/vmlinux-6.1/' is not a canonical path"},
    {"path/relative",
     BASE,
     {A_HV "kernel", "vmlinux-6.1"},
     "annotation " A_HV "kernel: 'vmlinux-6.1' is not an absolute path"},
    {"path/empty", BASE, {A_HV "initrd", ""}, "annotation " A_HV "initrd: '' is not an absolute path"},
    /* across keys, naming the annotations */
    {"ceiling/memory-over-configured-max",
     BASE "default_maxmemory = 2048\n",
     {A_HV "default_memory", "4096"},
     "annotation " A_HV "default_memory: hypervisor.qemu.default_maxmemory: 2048 is less than default_memory "
     "(4096); use 0 (host RAM) or at least 4096"},
    {"ceiling/max-under-configured-memory",
     BASE,
     {A_HV "default_maxmemory", "256"},
     "annotation " A_HV "default_maxmemory: hypervisor.qemu.default_maxmemory: 256 is less than default_memory "
     "(512); use 0 (host RAM) or at least 512"},
    {"ceiling/memory-both",
     BASE,
     {A_HV "default_memory", "1024", A_HV "default_maxmemory", "512"},
     "annotations " A_HV "default_memory and " A_HV "default_maxmemory: hypervisor.qemu.default_maxmemory: 512 is "
     "less than default_memory (1024); use 0 (host RAM) or at least 1024"},
    {"ceiling/vcpus-over-configured-max",
     BASE "default_maxvcpus = 2\n",
     {A_HV "default_vcpus", "4"},
     "annotation " A_HV "default_vcpus: hypervisor.qemu.default_maxvcpus: 2 is less than default_vcpus (4); use 0 "
     "(host CPUs) or at least 4"},
    {"ceiling/vcpus-both",
     BASE,
     {A_HV "default_vcpus", "2", A_HV "default_max_vcpus", "1"},
     "annotations " A_HV "default_vcpus and " A_HV "default_max_vcpus: hypervisor.qemu.default_maxvcpus: 1 is less "
     "than default_vcpus (2); use 0 (host CPUs) or at least 2"},
    /* two spellings of one key */
    {"duplicate/default_maxvcpus",
     BASE,
     {A_HV "default_maxvcpus", "4", A_HV "default_max_vcpus", "4"},
     "annotation " A_HV "default_maxvcpus: hypervisor.qemu.default_maxvcpus is also set by annotation " A_HV
     "default_max_vcpus"},
    /* all or nothing: good ones before the bad one are not kept */
    {"atomic/unsupported-last",
     BASE,
     {A_HV "default_memory", "1024", A_HV "default_vcpus", "2", A_HV "kernel_params", "x=1", A_HV "enable_iommu",
      "true"},
     "annotation " A_HV "enable_iommu" UNSUPPORTED},
    {"atomic/across-groups",
     BASE,
     {A_AGENT "dial_timeout", "5", A_HV "default_memory", "1024", A_RT "create_container_timeout", "0"},
     "annotation " A_RT "create_container_timeout: 0 is out of range (1..3600)"},
    {"atomic/ceiling-after-all",
     BASE "default_maxmemory = 2048\n",
     {A_AGENT "kernel_modules", "i915", A_HV "default_memory", "4096", A_HV "default_vcpus", "2"},
     "annotation " A_HV "default_memory: hypervisor.qemu.default_maxmemory: 2048 is less than default_memory "
     "(4096); use 0 (host RAM) or at least 4096"},
};

static void test_reject(gconstpointer data)
{
	const RejectCase *c = data;
	g_autoptr(CkConfig) cfg = load(c->toml);
	g_autoptr(CkConfig) before = load(c->toml);
	g_autoptr(GHashTable) t = table(c->annotations);
	g_autoptr(GError) error = NULL;

	g_assert_false(annotations_apply(cfg, t, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
	g_assert_cmpstr(error->message, ==, c->message);
	g_assert_null(strchr(error->message, '\n'));
	/* nothing changed, not even what came before the bad annotation */
	g_autofree char *change = changed(before, cfg);
	g_assert_cmpstr(change, ==, "");
}

/* ---- the gate ---------------------------------------------------------------------------- */

typedef struct {
	const char *enable; /* the enable_annotations line */
	const char *name;
	const char *value;
} GateCase;

static const GateCase gate_cases[] = {
    {"enable_annotations = [\"default_memory\"]", A_HV "default_memory", "1024"},
    {"enable_annotations = [\"default_.*\"]", A_HV "default_memory", "1024"},
    {"enable_annotations = [\"kernel_params|default_memory\"]", A_HV "default_memory", "1024"},
    {"enable_annotations = [\"x\", \"default_memory\"]", A_HV "default_memory", "1024"},
    {"enable_annotations = [\"agent\\\\..*\"]", A_AGENT "kernel_modules", "i915"},
    {"enable_annotations = [\"agent\\\\.dial_timeout\"]", A_AGENT "dial_timeout", "5"},
    {"enable_annotations = [\"runtime\\\\.(enable_debug|create_container_timeout)\"]", A_RT "enable_debug", "true"},
    {"enable_annotations = [\".*\"]", A_RT "disable_guest_seccomp", "true"},
};

static void test_gate(gconstpointer data)
{
	const GateCase *c = data;
	g_autofree char *toml = g_strdup_printf(HV "%s\n", c->enable);
	g_autoptr(CkConfig) before = load(toml);
	g_autoptr(CkConfig) cfg = load(toml);

	apply_ok(cfg, (const char *const[]){c->name, c->value, NULL});
	g_autofree char *change = changed(before, cfg);
	g_assert_cmpstr(change, !=, "");
}

/* ---- particular values ------------------------------------------------------------------- */

static void test_kernel_params(void)
{
	g_autoptr(CkConfig) none = load(HV ALL_ENABLED);
	g_autoptr(CkConfig) quiet = load(BASE);

	/* nothing configured: no leading space */
	apply_ok(none, (const char *const[]){A_HV "kernel_params", "foo=1", NULL});
	g_assert_cmpstr(none->hypervisor.kernel_params, ==, "foo=1");
	/* an empty annotation adds nothing, not even a space */
	apply_ok(quiet, (const char *const[]){A_HV "kernel_params", " ", NULL});
	g_assert_cmpstr(quiet->hypervisor.kernel_params, ==, "quiet");
	apply_ok(quiet, (const char *const[]){A_HV "kernel_params", "a=1 b", NULL});
	g_assert_cmpstr(quiet->hypervisor.kernel_params, ==, "quiet a=1 b");
}

static void test_kernel_modules(void)
{
	g_autoptr(CkConfig) cfg = load(BASE "[agent.kata]\nkernel_modules = [\"configured\"]\n");

	/* replaces the configured list, as other keys are replaced */
	apply_ok(cfg, (const char *const[]){A_AGENT "kernel_modules", " a x=1  y=2 ;;b-c;d_e ;", NULL});
	assert_strv(cfg->agent.kernel_modules, (const char *const[]){"a x=1  y=2", "b-c", "d_e", NULL});
	apply_ok(cfg, (const char *const[]){A_AGENT "kernel_modules", "", NULL});
	assert_strv(cfg->agent.kernel_modules, (const char *const[]){NULL});
}

/* Several at once, as a pod sets them; the hypervisor path list as it
 * defaults (the configured path). */
static void test_several(void)
{
	g_autoptr(CkConfig) cfg = load(HV ALL_ENABLED "valid_kernel_paths = [\"/k/*\"]\n");

	apply_ok(cfg,
		 (const char *const[]){A_HV "path", "/usr/bin/qemu-system-x86_64", A_HV "kernel", "/k/vmlinux",
				       A_HV "default_memory", "2048", A_HV "default_maxmemory", "4096",
				       A_HV "default_vcpus", "2", A_HV "default_max_vcpus", "4", A_AGENT "enable_debug",
				       "true", A_RT "create_container_timeout", "90", NULL});
	g_assert_cmpstr(cfg->hypervisor.path, ==, "/usr/bin/qemu-system-x86_64");
	g_assert_cmpstr(cfg->hypervisor.kernel, ==, "/k/vmlinux");
	g_assert_cmpuint(cfg->hypervisor.default_memory, ==, 2048);
	g_assert_cmpuint(cfg->hypervisor.default_maxmemory, ==, 4096);
	g_assert_cmpint(cfg->hypervisor.default_vcpus, ==, 2);
	g_assert_cmpint(cfg->hypervisor.default_maxvcpus, ==, 4);
	g_assert_true(cfg->agent.enable_debug);
	g_assert_cmpuint(cfg->runtime.create_container_timeout, ==, 90);
}

static void test_ignored(void)
{
	static const char *const others[] = {"io.kubernetes.cri-o.TrustedSandbox",
					     "true",
					     "io.katacontainers",
					     "x",
					     "katacontainers.io/x",
					     "y",
					     "IO.KATACONTAINERS.config.hypervisor.path",
					     "/x",
					     NULL};
	g_autoptr(CkConfig) before = load(HV);
	g_autoptr(CkConfig) cfg = load(HV);
	g_autoptr(GHashTable) t = table(others);
	g_autoptr(GHashTable) empty = table((const char *const[]){NULL});
	g_autoptr(GError) error = NULL;

	/* nothing enabled, and still no error: none of these are ours */
	g_assert_true(annotations_apply(cfg, t, &error));
	g_assert_true(annotations_apply(cfg, empty, &error));
	g_assert_true(annotations_apply(cfg, NULL, &error));
	g_assert_no_error(error);
	g_autofree char *change = changed(before, cfg);
	g_assert_cmpstr(change, ==, "");
}

/* The example of docs/configuration.md, "Annotations". */
static void test_doc_example(void)
{
	static const char toml[] = "[hypervisor.qemu]\n"
				   "default_maxmemory = 8192\n"
				   "enable_annotations = [\n"
				   "    \"default_memory\",\n"
				   "    \"default_vcpus\",\n"
				   "    \"kernel\",\n"
				   "    'agent\\.kernel_modules',   # a literal string: no TOML escaping\n"
				   "]\n"
				   "valid_kernel_paths = [\"/usr/share/conmon-kata/guest/vmlinux-*\"]\n";
	g_autoptr(CkConfig) cfg = load(toml);
	g_autoptr(GHashTable) too_big = table((const char *const[]){A_HV "default_memory", "16384", NULL});
	g_autoptr(GHashTable) unlisted = table((const char *const[]){A_HV "msize_9p", "8192", NULL});
	g_autoptr(GError) error = NULL;

	apply_ok(cfg, (const char *const[]){A_HV "default_memory", "2048", A_HV "default_vcpus", "2", A_HV "kernel",
					    "/usr/share/conmon-kata/guest/vmlinux-6.1", A_AGENT "kernel_modules",
					    "i915", NULL});
	g_assert_cmpuint(cfg->hypervisor.default_memory, ==, 2048);
	g_assert_cmpint(cfg->hypervisor.default_vcpus, ==, 2);
	g_assert_cmpstr(cfg->hypervisor.kernel, ==, "/usr/share/conmon-kata/guest/vmlinux-6.1");
	assert_strv(cfg->agent.kernel_modules, (const char *const[]){"i915", NULL});
	g_assert_false(annotations_apply(cfg, too_big, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
	g_clear_error(&error);
	g_assert_false(annotations_apply(cfg, unlisted, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
}

/* ---- containers ------------------------------------------------------------------------ */

typedef struct {
	const char *name;
	const char *message; /* NULL: accepted */
} ContainerCase;

static const ContainerCase container_cases[] = {
    {A_HV "default_memory", "annotation " A_HV "default_memory: only the pod's sandbox can configure the VM"},
    {A_AGENT "kernel_modules", "annotation " A_AGENT "kernel_modules: only the pod's sandbox can configure the VM"},
    {A_RT "enable_debug", "annotation " A_RT "enable_debug: only the pod's sandbox can configure the VM"},
    {A_HV "enable_iommu", "annotation " A_HV "enable_iommu: only the pod's sandbox can configure the VM"},
    {"io.katacontainers.container.resource.swappiness",
     "annotation io.katacontainers.container.resource.swappiness" UNSUPPORTED},
    {"io.kubernetes.cri-o.ContainerType", NULL},
    {"io.katacontainers", NULL},
};

static void test_container(gconstpointer data)
{
	const ContainerCase *c = data;
	g_autoptr(GHashTable) t =
	    table((const char *const[]){c->name, "1", "io.kubernetes.cri-o.SandboxID", "x", NULL});
	g_autoptr(GError) error = NULL;

	if (c->message == NULL) {
		g_assert_true(annotations_check_container(t, NULL, &error));
		g_assert_no_error(error);
		return;
	}
	g_assert_false(annotations_check_container(t, NULL, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
	g_assert_cmpstr(error->message, ==, c->message);
}

static void test_container_none(void)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(annotations_check_container(NULL, NULL, &error));
	g_assert_no_error(error);
}

/* containerd copies the pod's passed-through annotations onto each of its
 * containers: the sandbox's own, with its value, pass; anything else does
 * not, as before */
static void test_container_pod_copy(void)
{
	g_autoptr(GHashTable) pod = table(
	    (const char *const[]){A_HV "default_memory", "1024", "io.kubernetes.cri.container-type", "sandbox", NULL});
	g_autoptr(GHashTable) copy = table((const char *const[]){A_HV "default_memory", "1024", NULL});
	g_autoptr(GHashTable) other_value = table((const char *const[]){A_HV "default_memory", "2048", NULL});
	g_autoptr(GHashTable) extra =
	    table((const char *const[]){A_HV "default_memory", "1024", A_HV "default_vcpus", "2", NULL});
	g_autoptr(GError) error = NULL;

	g_assert_true(annotations_check_container(copy, pod, &error));
	g_assert_no_error(error);
	g_assert_false(annotations_check_container(other_value, pod, &error));
	g_assert_cmpstr(error->message, ==,
			"annotation " A_HV "default_memory: only the pod's sandbox can configure the VM");
	g_clear_error(&error);
	g_assert_false(annotations_check_container(extra, pod, &error));
	g_assert_cmpstr(error->message, ==,
			"annotation " A_HV "default_vcpus: only the pod's sandbox can configure the VM");
	g_clear_error(&error);
	g_assert_false(annotations_check_container(copy, NULL, &error));
	g_clear_error(&error);
	/* the same for a trusted pod's container */
	g_autoptr(CkConfig) cfg = load(HV "enable_annotations = [\"default_memory\"]\n");
	g_assert_true(annotations_validate(cfg, FALSE, copy, pod, &error));
	g_assert_no_error(error);
	g_assert_false(annotations_validate(cfg, FALSE, other_value, pod, &error));
}

/* ---- pods without a VM ---------------------------------------------------------------------- */

/* A trusted pod's annotations: refused as they would be for a VM, and the
 * configuration never changed, even by ones that are allowed. */
static void test_validate(void)
{
	g_autoptr(CkConfig) cfg = load(HV "enable_annotations = [\"default_memory\"]\n");
	g_autoptr(CkConfig) before = load(HV "enable_annotations = [\"default_memory\"]\n");
	g_autoptr(GHashTable) allowed = table((const char *const[]){A_HV "default_memory", "1024", NULL});
	g_autoptr(GHashTable) not_enabled =
	    table((const char *const[]){A_HV "default_memory", "1024", A_HV "default_vcpus", "2", NULL});
	g_autoptr(GHashTable) unsupported = table((const char *const[]){A_HV "enable_iommu", "true", NULL});
	g_autoptr(GError) error = NULL;

	g_assert_true(annotations_validate(cfg, TRUE, allowed, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(annotations_validate(cfg, TRUE, NULL, NULL, &error));
	g_assert_no_error(error);
	g_assert_false(annotations_validate(cfg, TRUE, not_enabled, NULL, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
	g_assert_cmpstr(error->message, ==, "annotation " A_HV "default_vcpus" NOT_ENABLED("default_vcpus"));
	g_clear_error(&error);
	g_assert_false(annotations_validate(cfg, TRUE, unsupported, NULL, &error));
	g_assert_cmpstr(error->message, ==, "annotation " A_HV "enable_iommu" UNSUPPORTED);
	g_clear_error(&error);
	/* a container of the pod: none at all, enabled or not */
	g_assert_false(annotations_validate(cfg, FALSE, allowed, NULL, &error));
	g_assert_cmpstr(error->message, ==,
			"annotation " A_HV "default_memory: only the pod's sandbox can configure the VM");
	g_clear_error(&error);
	g_assert_true(annotations_validate(cfg, FALSE, NULL, NULL, &error));
	g_assert_no_error(error);

	g_autofree char *change = changed(before, cfg);
	g_assert_cmpstr(change, ==, "");
}

/* ---- ck_config_copy ---------------------------------------------------------------------- */

static void test_copy(void)
{
	g_autoptr(CkConfig) cfg = load(BASE "[agent.kata]\nkernel_modules = [\"i915\"]\n");
	g_autoptr(CkConfig) copy = ck_config_copy(cfg);
	g_autofree char *a = ck_config_to_toml(cfg);
	g_autofree char *b = ck_config_to_toml(copy);

	/* same values and origins */
	g_assert_cmpstr(a, ==, b);
	g_assert_cmpstr(copy->path, ==, "t.toml");
	g_assert_cmpuint(ck_config_key_line(copy, "hypervisor.qemu.kernel_params"), ==, 2);
	/* nothing shared */
	g_assert_true(copy->path != cfg->path);
	g_assert_true(copy->origins != cfg->origins);
	g_assert_true(copy->hypervisor.kernel_params != cfg->hypervisor.kernel_params);
	g_assert_true(copy->hypervisor.valid_kernel_paths != cfg->hypervisor.valid_kernel_paths);
	g_assert_true(copy->agent.kernel_modules[0] != cfg->agent.kernel_modules[0]);
	g_assert_true(copy->runtime.trusted_runtime != cfg->runtime.trusted_runtime);
	/* and freeing one leaves the other whole */
	g_clear_pointer(&cfg, ck_config_free);
	g_autofree char *c = ck_config_to_toml(copy);
	g_assert_cmpstr(b, ==, c);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	for (gsize i = 0; i < G_N_ELEMENTS(accept_cases); i++) {
		g_autofree char *name = g_strdup_printf("/annotations/accept/%" G_GSIZE_FORMAT "-%s", i,
							accept_cases[i].name + strlen("io.katacontainers.config."));
		g_test_add_data_func(name, &accept_cases[i], test_accept);
	}
	g_test_add_func("/annotations/accept/bool-spellings", test_bool_spellings);
	for (gsize i = 0; i < G_N_ELEMENTS(reject_cases); i++) {
		g_autofree char *name = g_strdup_printf("/annotations/reject/%s", reject_cases[i].label);
		g_test_add_data_func(name, &reject_cases[i], test_reject);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(gate_cases); i++) {
		g_autofree char *name = g_strdup_printf("/annotations/gate/%" G_GSIZE_FORMAT, i);
		g_test_add_data_func(name, &gate_cases[i], test_gate);
	}
	g_test_add_func("/annotations/kernel-params", test_kernel_params);
	g_test_add_func("/annotations/kernel-modules", test_kernel_modules);
	g_test_add_func("/annotations/several", test_several);
	g_test_add_func("/annotations/ignored", test_ignored);
	g_test_add_func("/annotations/doc-example", test_doc_example);
	for (gsize i = 0; i < G_N_ELEMENTS(container_cases); i++) {
		g_autofree char *name = g_strdup_printf("/annotations/container/%s", container_cases[i].name);
		g_test_add_data_func(name, &container_cases[i], test_container);
	}
	g_test_add_func("/annotations/container/none", test_container_none);
	g_test_add_func("/annotations/container/pod-copy", test_container_pod_copy);
	g_test_add_func("/annotations/validate", test_validate);
	g_test_add_func("/annotations/copy", test_copy);
	return g_test_run();
}
