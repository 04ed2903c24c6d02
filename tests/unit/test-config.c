/* Unit tests: configuration.toml into CkConfig (config.c): defaults, every
 * key, every refusal with its exact message, the search order, the path
 * checks, the `vmctl env` rendering and its round trip, and the two files
 * contrib/ generates from configuration.toml.in. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "lib/config.h"

/* Every key set to something other than its default. */
static const char all_keys_toml[] = "[hypervisor.qemu]\n"
				    "path = \"/opt/qemu/bin/qemu-system-x86_64\"\n"
				    "kernel = \"/k/vmlinux\"\n"
				    "initrd = '/k/initrd.img'\n"
				    "machine_type = \"microvm\"\n"
				    "kernel_params = \"quiet x=\\\"y\\\" \\\\ z\"\n"
				    "default_vcpus = 2\n"
				    "default_maxvcpus = 8\n"
				    "default_memory = 1_024\n"
				    "memory_slots = 0\n"
				    "default_maxmemory = 4096\n"
				    "shared_fs = \"none\"\n"
				    "msize_9p = 4096\n"
				    "enable_annotations = [\"default_memory\", \"kernel_params\"]\n"
				    "valid_hypervisor_paths = [\"/opt/qemu/bin/*\"]\n"
				    "valid_kernel_paths = [\n  \"/k/*\", # kernels\n]\n"
				    "valid_initrd_paths = [\"/k/*.img\"]\n"
				    "guest_hook_path = \"/usr/share/oci/hooks\"\n"
				    "seccompsandbox = \"on,obsolete=deny\"\n"
				    "extra_monitor_socket = \"\"\n"
				    "enable_debug = true\n"
				    "accel = \"kvm\"\n"
				    "agent_channel = \"vsock\"\n"
				    "boot_timeout = 3600\n"
				    "kvm_boot_timeout = 600\n"
				    "console_log_size_max = 4096\n"
				    "\n"
				    "[agent.kata]\n"
				    "dial_timeout = 1\n"
				    "enable_debug = true\n"
				    "kernel_modules = [\"e1000e InterruptThrottleRate=3000\", \"i915\"]\n"
				    "\n"
				    "[runtime]\n"
				    "enable_debug = true\n"
				    "internetworking_model = \"none\"\n"
				    "disable_guest_seccomp = true\n"
				    "create_container_timeout = 3600\n"
				    "trusted_runtime = \"/usr/local/bin/crun\"\n"
				    "default_workload_trust = \"trusted\"\n"
				    "privileged_in_vm = true\n";

static CkConfig *load_ok(const char *text)
{
	g_autoptr(GError) error = NULL;
	CkConfig *cfg = ck_config_load_data("t.toml", text, strlen(text), &error);

	g_assert_no_error(error);
	g_assert_nonnull(cfg);
	return cfg;
}

static void assert_strv(char **got, const char *const *want)
{
	g_assert_nonnull(got);
	g_assert_cmpuint(g_strv_length(got), ==, g_strv_length((char **)want));
	for (gsize i = 0; want[i] != NULL; i++)
		g_assert_cmpstr(got[i], ==, want[i]);
}

static void assert_defaults(const CkConfig *cfg)
{
	static const char *const none[] = {NULL};
	static const char *const qemu[] = {"/usr/bin/qemu-system-x86_64", NULL};

	g_assert_cmpstr(cfg->hypervisor.path, ==, "/usr/bin/qemu-system-x86_64");
	g_assert_cmpstr(cfg->hypervisor.kernel, ==, CK_DATA_DIR "/guest/vmlinux");
	g_assert_cmpstr(cfg->hypervisor.initrd, ==, CK_DATA_DIR "/guest/initrd.img");
	g_assert_cmpstr(cfg->hypervisor.machine_type, ==, "q35");
	g_assert_cmpstr(cfg->hypervisor.kernel_params, ==, "");
	g_assert_cmpint(cfg->hypervisor.default_vcpus, ==, 1);
	g_assert_cmpint(cfg->hypervisor.default_maxvcpus, ==, 0);
	g_assert_cmpuint(cfg->hypervisor.default_memory, ==, 512);
	g_assert_cmpuint(cfg->hypervisor.memory_slots, ==, 10);
	g_assert_cmpuint(cfg->hypervisor.default_maxmemory, ==, 0);
	g_assert_cmpint(cfg->hypervisor.shared_fs, ==, CK_SHARED_FS_VIRTIO_9P);
	g_assert_cmpuint(cfg->hypervisor.msize_9p, ==, 524288);
	assert_strv(cfg->hypervisor.enable_annotations, none);
	assert_strv(cfg->hypervisor.valid_hypervisor_paths, qemu);
	assert_strv(cfg->hypervisor.valid_kernel_paths, none);
	assert_strv(cfg->hypervisor.valid_initrd_paths, none);
	g_assert_cmpstr(cfg->hypervisor.guest_hook_path, ==, "");
	g_assert_cmpstr(cfg->hypervisor.seccompsandbox, ==,
			"on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	g_assert_cmpstr(cfg->hypervisor.extra_monitor_socket, ==, "qmp");
	g_assert_false(cfg->hypervisor.enable_debug);
	g_assert_cmpint(cfg->hypervisor.accel, ==, CK_ACCEL_AUTO);
	g_assert_cmpint(cfg->hypervisor.agent_channel, ==, CK_AGENT_CHANNEL_VIRTIO_SERIAL);
	g_assert_cmpuint(cfg->hypervisor.boot_timeout, ==, 30);
	g_assert_cmpuint(cfg->hypervisor.kvm_boot_timeout, ==, 3);
	g_assert_cmpuint(cfg->hypervisor.console_log_size_max, ==, 1024 * 1024);
	g_assert_cmpuint(cfg->agent.dial_timeout, ==, 10);
	g_assert_false(cfg->agent.enable_debug);
	assert_strv(cfg->agent.kernel_modules, none);
	g_assert_false(cfg->runtime.enable_debug);
	g_assert_cmpstr(cfg->runtime.internetworking_model, ==, "tcfilter");
	g_assert_false(cfg->runtime.disable_guest_seccomp);
	g_assert_cmpuint(cfg->runtime.create_container_timeout, ==, 60);
	g_assert_cmpstr(cfg->runtime.trusted_runtime, ==, "/usr/bin/runc");
	g_assert_cmpint(cfg->runtime.default_workload_trust, ==, CK_TRUST_UNTRUSTED);
	g_assert_false(cfg->runtime.privileged_in_vm);
}

static void test_defaults(void)
{
	g_autoptr(CkConfig) cfg = ck_config_new_defaults();

	g_assert_null(cfg->path);
	assert_defaults(cfg);
	g_assert_cmpuint(ck_config_key_line(cfg, "hypervisor.qemu.path"), ==, 0);
}

static void test_empty_file(void)
{
	g_autoptr(CkConfig) cfg = load_ok("");

	g_assert_cmpstr(cfg->path, ==, "t.toml");
	assert_defaults(cfg);
	g_autofree char *toml = ck_config_to_toml(cfg);
	g_assert_null(strstr(toml, "# from"));
}

static void test_comments_only(void)
{
	g_autoptr(CkConfig) cfg = load_ok("# nothing\r\n\r\n[hypervisor.qemu]\r\n# still nothing\r\n[runtime]\r\n");

	assert_defaults(cfg);
}

static void test_all_keys(void)
{
	static const char *const annotations[] = {"default_memory", "kernel_params", NULL};
	static const char *const modules[] = {"e1000e InterruptThrottleRate=3000", "i915", NULL};
	g_autoptr(CkConfig) cfg = load_ok(all_keys_toml);
	const typeof(cfg->hypervisor) *hv = &cfg->hypervisor;

	g_assert_cmpstr(hv->path, ==, "/opt/qemu/bin/qemu-system-x86_64");
	g_assert_cmpstr(hv->kernel, ==, "/k/vmlinux");
	g_assert_cmpstr(hv->initrd, ==, "/k/initrd.img");
	g_assert_cmpstr(hv->machine_type, ==, "microvm");
	g_assert_cmpstr(hv->kernel_params, ==, "quiet x=\"y\" \\ z");
	g_assert_cmpint(hv->default_vcpus, ==, 2);
	g_assert_cmpint(hv->default_maxvcpus, ==, 8);
	g_assert_cmpuint(hv->default_memory, ==, 1024);
	g_assert_cmpuint(hv->memory_slots, ==, 0);
	g_assert_cmpuint(hv->default_maxmemory, ==, 4096);
	g_assert_cmpint(hv->shared_fs, ==, CK_SHARED_FS_NONE);
	g_assert_cmpuint(hv->msize_9p, ==, 4096);
	assert_strv(hv->enable_annotations, annotations);
	assert_strv(hv->valid_hypervisor_paths, (const char *const[]){"/opt/qemu/bin/*", NULL});
	assert_strv(hv->valid_kernel_paths, (const char *const[]){"/k/*", NULL});
	assert_strv(hv->valid_initrd_paths, (const char *const[]){"/k/*.img", NULL});
	g_assert_cmpstr(hv->guest_hook_path, ==, "/usr/share/oci/hooks");
	g_assert_cmpstr(hv->seccompsandbox, ==, "on,obsolete=deny");
	g_assert_cmpstr(hv->extra_monitor_socket, ==, "");
	g_assert_true(hv->enable_debug);
	g_assert_cmpint(hv->accel, ==, CK_ACCEL_KVM);
	g_assert_cmpint(hv->agent_channel, ==, CK_AGENT_CHANNEL_VSOCK);
	g_assert_cmpuint(hv->boot_timeout, ==, 3600);
	g_assert_cmpuint(hv->kvm_boot_timeout, ==, 600);
	g_assert_cmpuint(hv->console_log_size_max, ==, 4096);
	g_assert_cmpuint(cfg->agent.dial_timeout, ==, 1);
	g_assert_true(cfg->agent.enable_debug);
	assert_strv(cfg->agent.kernel_modules, modules);
	g_assert_true(cfg->runtime.enable_debug);
	g_assert_cmpstr(cfg->runtime.internetworking_model, ==, "none");
	g_assert_true(cfg->runtime.disable_guest_seccomp);
	g_assert_cmpuint(cfg->runtime.create_container_timeout, ==, 3600);
	g_assert_cmpstr(cfg->runtime.trusted_runtime, ==, "/usr/local/bin/crun");
	g_assert_cmpint(cfg->runtime.default_workload_trust, ==, CK_TRUST_TRUSTED);
	g_assert_true(cfg->runtime.privileged_in_vm);
}

static void test_key_lines(void)
{
	g_autoptr(CkConfig) cfg = load_ok(all_keys_toml);

	g_assert_cmpuint(ck_config_key_line(cfg, "hypervisor.qemu.path"), ==, 2);
	g_assert_cmpuint(ck_config_key_line(cfg, "hypervisor.qemu.valid_kernel_paths"), ==, 16);
	g_assert_cmpuint(ck_config_key_line(cfg, "hypervisor.qemu.valid_initrd_paths"), ==, 19);
	g_assert_cmpuint(ck_config_key_line(cfg, "agent.kata.enable_debug"), ==, 32);
	g_assert_cmpuint(ck_config_key_line(cfg, "runtime.enable_debug"), ==, 36);
	g_assert_cmpuint(ck_config_key_line(cfg, "runtime.nonexistent"), ==, 0);
	g_assert_cmpuint(ck_config_key_line(NULL, "runtime.enable_debug"), ==, 0);
}

typedef struct {
	const char *input;
	const char *message;
} RejectCase;

#define HV "[hypervisor.qemu]\n"

static const RejectCase reject_cases[] = {
    /* sections and keys */
    {"[proxy.kata]\nenable_debug = true\n", "t.toml:1: unknown section [proxy.kata]"},
    {"\n[hypervisor.clh]\n", "t.toml:2: unknown section [hypervisor.clh]"},
    {"[hypervisor.qemu.x]\n", "t.toml:1: unknown section [hypervisor.qemu.x]"},
    {HV "bogus_key = 1\n", "t.toml:2: unknown key 'bogus_key' in [hypervisor.qemu]"},
    {HV "image = \"/x.img\"\n", "t.toml:2: unknown key 'image' in [hypervisor.qemu]"},
    {HV "dial_timeout = 5\n", "t.toml:2: unknown key 'dial_timeout' in [hypervisor.qemu]; it belongs in [agent.kata]"},
    {"path = \"/x\"\n", "t.toml:1: unknown key 'path' outside any [section]; it belongs in [hypervisor.qemu]"},
    {"enable_debug = true\n", "t.toml:1: unknown key 'enable_debug' outside any [section]"},
    {"[hypervisor]\npath = \"/x\"\n", "t.toml:2: unknown key 'path' in [hypervisor]; it belongs in [hypervisor.qemu]"},
    {HV "bogus = 1\n[factory]\n", "t.toml:2: unknown key 'bogus' in [hypervisor.qemu]"},
    {"[runtime]\nenable_debug = true\nenable_debug = false\n",
     "t.toml:3: duplicate key 'enable_debug' in [runtime] (first set at line 2)"},
    {"[runtime]\n[agent.kata]\n[runtime]\n", "t.toml:3: duplicate table [runtime] (first defined at line 1)"},
    /* types */
    {HV "default_memory = \"2048\"\n", "t.toml:2: hypervisor.qemu.default_memory: expected an integer, got a string"},
    {HV "path = 1\n", "t.toml:2: hypervisor.qemu.path: expected a string, got an integer"},
    {HV "enable_debug = \"true\"\n", "t.toml:2: hypervisor.qemu.enable_debug: expected a boolean, got a string"},
    {HV "enable_annotations = \"x\"\n",
     "t.toml:2: hypervisor.qemu.enable_annotations: expected an array of strings, got a string"},
    {HV "accel = 1\n", "t.toml:2: hypervisor.qemu.accel: expected a string, got an integer"},
    {HV "machine_type = []\n", "t.toml:2: hypervisor.qemu.machine_type: expected a string, got an array of strings"},
    {"[agent.kata]\nkernel_modules = true\n",
     "t.toml:2: agent.kata.kernel_modules: expected an array of strings, got a boolean"},
    {"[runtime]\nprivileged_in_vm = 1\n", "t.toml:2: runtime.privileged_in_vm: expected a boolean, got an integer"},
    {HV "default_memory = 1.5\n", "t.toml:2: floats are not supported: '1.5'"},
    /* ranges */
    {HV "default_memory = 32\n", "t.toml:2: hypervisor.qemu.default_memory: 32 is out of range (64..1048576)"},
    {HV "default_memory = 1048577\n",
     "t.toml:2: hypervisor.qemu.default_memory: 1048577 is out of range (64..1048576)"},
    {HV "default_memory = 99999999999\n",
     "t.toml:2: hypervisor.qemu.default_memory: 99999999999 is out of range (64..1048576)"},
    {HV "default_vcpus = 0\n", "t.toml:2: hypervisor.qemu.default_vcpus: 0 is out of range (1..255)"},
    {HV "default_vcpus = -1\n", "t.toml:2: hypervisor.qemu.default_vcpus: -1 is out of range (1..255)"},
    {HV "default_maxvcpus = 256\n", "t.toml:2: hypervisor.qemu.default_maxvcpus: 256 is out of range (0..255)"},
    {HV "memory_slots = 257\n", "t.toml:2: hypervisor.qemu.memory_slots: 257 is out of range (0..256)"},
    {HV "default_maxmemory = 4294967296\n",
     "t.toml:2: hypervisor.qemu.default_maxmemory: 4294967296 is out of range (0..4294967295)"},
    {HV "msize_9p = 8191\nmsize_9p = 1\n",
     "t.toml:3: duplicate key 'msize_9p' in [hypervisor.qemu] (first set at line 2)"},
    {HV "msize_9p = 1024\n", "t.toml:2: hypervisor.qemu.msize_9p: 1024 is out of range (4096..4194304)"},
    {HV "msize_9p = 4194305\n", "t.toml:2: hypervisor.qemu.msize_9p: 4194305 is out of range (4096..4194304)"},
    {HV "boot_timeout = 0\n", "t.toml:2: hypervisor.qemu.boot_timeout: 0 is out of range (1..3600)"},
    {HV "kvm_boot_timeout = 601\n", "t.toml:2: hypervisor.qemu.kvm_boot_timeout: 601 is out of range (1..600)"},
    {HV "console_log_size_max = 4095\n",
     "t.toml:2: hypervisor.qemu.console_log_size_max: 4095 is out of range (4096..1073741824)"},
    {"[agent.kata]\ndial_timeout = 0\n", "t.toml:2: agent.kata.dial_timeout: 0 is out of range (1..3600)"},
    {"[agent.kata]\ndial_timeout = 3601\n", "t.toml:2: agent.kata.dial_timeout: 3601 is out of range (1..3600)"},
    {"[runtime]\ncreate_container_timeout = 0\n",
     "t.toml:2: runtime.create_container_timeout: 0 is out of range (1..3600)"},
    /* allowed values */
    {HV "accel = \"fast\"\n", "t.toml:2: hypervisor.qemu.accel: 'fast' is not one of 'auto', 'kvm', 'tcg'"},
    {HV "accel = \"KVM\"\n", "t.toml:2: hypervisor.qemu.accel: 'KVM' is not one of 'auto', 'kvm', 'tcg'"},
    {HV "accel = \"a\\nb\"\n", "t.toml:2: hypervisor.qemu.accel: 'a\\x0Ab' is not one of 'auto', 'kvm', 'tcg'"},
    {HV "agent_channel = \"hvsock\"\n",
     "t.toml:2: hypervisor.qemu.agent_channel: 'hvsock' is not one of 'virtio-serial', 'vsock'"},
    {HV "shared_fs = \"virtio-fs\"\n", "t.toml:2: hypervisor.qemu.shared_fs: 'virtio-fs' is not supported by this "
				       "build (no virtiofsd support); use 'virtio-9p'"},
    {HV "shared_fs = \"virtio-blk\"\n",
     "t.toml:2: hypervisor.qemu.shared_fs: 'virtio-blk' is not one of 'virtio-9p', 'none'"},
    {HV "extra_monitor_socket = \"qmp-pretty\"\n",
     "t.toml:2: hypervisor.qemu.extra_monitor_socket: 'qmp-pretty' is not supported by this build; use 'qmp'"},
    {HV "extra_monitor_socket = \"telnet\"\n",
     "t.toml:2: hypervisor.qemu.extra_monitor_socket: 'telnet' is not one of '', 'qmp', 'hmp'"},
    {"[runtime]\ninternetworking_model = \"macvtap\"\n",
     "t.toml:2: runtime.internetworking_model: 'macvtap' is not supported by this build; use 'tcfilter' or 'none'"},
    {"[runtime]\ninternetworking_model = \"bridged\"\n", "t.toml:2: runtime.internetworking_model: 'bridged' was "
							 "removed in Kata 2.0 and is not supported; use 'tcfilter' "
							 "or 'none'"},
    {"[runtime]\ninternetworking_model = \"\"\n",
     "t.toml:2: runtime.internetworking_model: '' is not one of 'tcfilter', 'none'"},
    {"[runtime]\ndefault_workload_trust = \"maybe\"\n",
     "t.toml:2: runtime.default_workload_trust: 'maybe' is not one of 'untrusted', 'trusted'"},
    /* strings and paths */
    {HV "kernel = \"vmlinux\"\n", "t.toml:2: hypervisor.qemu.kernel: 'vmlinux' is not an absolute path"},
    {HV "initrd = \"/k/../etc/initrd.img\"\n",
     "t.toml:2: hypervisor.qemu.initrd: '/k/../etc/initrd.img' has a '..' component"},
    {HV "valid_kernel_paths = [\"/k/..\"]\n",
     "t.toml:2: hypervisor.qemu.valid_kernel_paths: '/k/..' has a '..' component"},
    {HV "kernel = \"\"\n", "t.toml:2: hypervisor.qemu.kernel: must not be empty"},
    {HV "path = ''\n", "t.toml:2: hypervisor.qemu.path: must not be empty"},
    {HV "machine_type = \"\"\n", "t.toml:2: hypervisor.qemu.machine_type: must not be empty"},
    {HV "guest_hook_path = \"hooks\"\n", "t.toml:2: hypervisor.qemu.guest_hook_path: 'hooks' is not an absolute path"},
    {HV "valid_kernel_paths = [\"/ok/*\", \"rel/*\"]\n",
     "t.toml:2: hypervisor.qemu.valid_kernel_paths: 'rel/*' is not an absolute path"},
    {"[runtime]\ntrusted_runtime = \"runc\"\n", "t.toml:2: runtime.trusted_runtime: 'runc' is not an absolute path"},
    /* across keys */
    {HV "default_maxmemory = 256\n", "t.toml:2: hypervisor.qemu.default_maxmemory: 256 is less than default_memory "
				     "(512); use 0 (host RAM) or at least 512"},
    {HV "default_maxmemory = 512\n\ndefault_memory = 1024\n",
     "t.toml:2: hypervisor.qemu.default_maxmemory: 512 is less than default_memory (1024); use 0 (host RAM) or at "
     "least 1024"},
    {HV "default_vcpus = 4\ndefault_maxvcpus = 2\n",
     "t.toml:3: hypervisor.qemu.default_maxvcpus: 2 is less than default_vcpus (4); use 0 (host CPUs) or at least 4"},
};

static void test_reject(gconstpointer data)
{
	const RejectCase *c = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(CkConfig) cfg = ck_config_load_data("t.toml", c->input, strlen(c->input), &error);

	g_assert_null(cfg);
	g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
	g_assert_cmpstr(error->message, ==, c->message);
}

static void test_accept_edges(void)
{
	/* ceilings equal to the boot values, 0 = host; empty parent tables */
	g_autoptr(CkConfig) a = load_ok("[hypervisor]\n[agent]\n" HV "default_memory = 64\ndefault_maxmemory = 64\n"
					"default_vcpus = 255\ndefault_maxvcpus = 255\nmsize_9p = 4194304\n");
	g_autoptr(CkConfig) b = load_ok(HV "default_memory = 1048576\ndefault_maxmemory = 0\ndefault_maxvcpus = 0\n"
					   "default_vcpus = 9\n");

	g_assert_cmpuint(a->hypervisor.default_maxmemory, ==, 64);
	g_assert_cmpint(a->hypervisor.default_maxvcpus, ==, 255);
	g_assert_cmpuint(a->hypervisor.msize_9p, ==, 4194304);
	g_assert_cmpuint(b->hypervisor.default_memory, ==, 1048576);
	g_assert_cmpint(b->hypervisor.default_vcpus, ==, 9);
}

static void test_hypervisor_paths_follow_path(void)
{
	g_autoptr(CkConfig) cfg = load_ok(HV "path = \"/opt/q/qemu\"\n");
	g_autofree char *toml = ck_config_to_toml(cfg);

	assert_strv(cfg->hypervisor.valid_hypervisor_paths, (const char *const[]){"/opt/q/qemu", NULL});
	g_assert_nonnull(strstr(toml, "\nvalid_hypervisor_paths = [\"/opt/q/qemu\"]  # default (follows path)\n"));
}

static void test_hypervisor_paths_explicit(void)
{
	g_autoptr(CkConfig) cfg = load_ok(HV "valid_hypervisor_paths = [\"/a\", \"/b/*\"]\npath = \"/opt/q/qemu\"\n");
	g_autoptr(CkConfig) none = load_ok(HV "path = \"/opt/q/qemu\"\nvalid_hypervisor_paths = []\n");

	assert_strv(cfg->hypervisor.valid_hypervisor_paths, (const char *const[]){"/a", "/b/*", NULL});
	assert_strv(none->hypervisor.valid_hypervisor_paths, (const char *const[]){NULL});
}

static void test_enum_names(void)
{
	g_assert_cmpstr(ck_accel_to_string(CK_ACCEL_AUTO), ==, "auto");
	g_assert_cmpstr(ck_accel_to_string(CK_ACCEL_KVM), ==, "kvm");
	g_assert_cmpstr(ck_accel_to_string(CK_ACCEL_TCG), ==, "tcg");
	g_assert_cmpstr(ck_accel_to_string(CK_ACCEL_MAX), ==, "unknown");
	g_assert_cmpstr(ck_agent_channel_to_string(CK_AGENT_CHANNEL_VIRTIO_SERIAL), ==, "virtio-serial");
	g_assert_cmpstr(ck_agent_channel_to_string(CK_AGENT_CHANNEL_VSOCK), ==, "vsock");
	g_assert_cmpstr(ck_shared_fs_to_string(CK_SHARED_FS_VIRTIO_9P), ==, "virtio-9p");
	g_assert_cmpstr(ck_shared_fs_to_string(CK_SHARED_FS_NONE), ==, "none");
	g_assert_cmpstr(ck_trust_to_string(CK_TRUST_TRUSTED), ==, "trusted");
	g_assert_cmpstr(ck_trust_to_string(CK_TRUST_UNTRUSTED), ==, "untrusted");
	g_assert_cmpstr(ck_trust_to_string((CkTrust)-1), ==, "unknown");
}

/* ---- ck_config_to_toml ------------------------------------------------------- */

/* The TOML without the origin comments. */
static char *values_only(const char *toml)
{
	g_autoptr(GRegex) re = g_regex_new("  # (from |default).*$", G_REGEX_MULTILINE, 0, NULL);

	return g_regex_replace(re, toml, -1, 0, "", 0, NULL);
}

static void test_to_toml_origins(void)
{
	g_autoptr(CkConfig) cfg =
	    load_ok("# c\n[runtime]\n\ndefault_workload_trust = 'trusted'\n" HV "accel = \"tcg\"\n");
	g_autofree char *toml = ck_config_to_toml(cfg);

	g_assert_true(g_str_has_prefix(toml, "[hypervisor.qemu]\npath = \"/usr/bin/qemu-system-x86_64\"  # default\n"));
	g_assert_nonnull(strstr(toml, "\naccel = \"tcg\"  # from t.toml:6\n"));
	g_assert_nonnull(strstr(toml, "\nvalid_hypervisor_paths = [\"/usr/bin/qemu-system-x86_64\"]  # default\n"));
	g_assert_nonnull(strstr(toml, "\n\n[agent.kata]\ndial_timeout = 10  # default\n"));
	g_assert_nonnull(strstr(toml, "\n\n[runtime]\n"));
	g_assert_nonnull(strstr(toml, "\ndefault_workload_trust = \"trusted\"  # from t.toml:4\n"));
	g_assert_nonnull(strstr(toml, "\nenable_annotations = []  # default\n"));
	g_assert_nonnull(strstr(toml, "\nprivileged_in_vm = false  # default\n"));
	g_assert_true(g_str_has_suffix(toml, "\n\n[factory]\nenable_template = false  # default\ntemplate_path = \"\"  # default\n"));
}

static void test_to_toml_round_trip(gconstpointer data)
{
	const char *input = data;
	g_autoptr(CkConfig) first = load_ok(input);
	g_autofree char *toml = ck_config_to_toml(first);
	g_autoptr(GError) error = NULL;
	g_autoptr(CkConfig) second = ck_config_load_data("env.toml", toml, strlen(toml), &error);

	g_assert_no_error(error);
	g_autofree char *again = ck_config_to_toml(second);
	g_autofree char *a = values_only(toml);
	g_autofree char *b = values_only(again);
	g_assert_cmpstr(a, ==, b);
	/* every key is now set by the file, so nothing says "default" */
	g_assert_null(strstr(again, "# default"));
}

/* ---- files: search order, reading, path checks ------------------------------------- */

static char *make_tmpdir(void)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp("ck-config-XXXXXX", &error);

	g_assert_no_error(error);
	return dir;
}

static char *write_file(const char *dir, const char *name, const char *text, int mode)
{
	g_autoptr(GError) error = NULL;
	char *path = g_build_filename(dir, name, NULL);

	g_assert_true(g_file_set_contents(path, text, -1, &error));
	g_assert_no_error(error);
	g_assert_cmpint(g_chmod(path, mode), ==, 0);
	return path;
}

static void remove_tmpdir(const char *dir)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(ck_rm_rf(dir, &error));
}

static void test_find_explicit_and_env(void)
{
	g_autofree char *dir = make_tmpdir();
	g_autofree char *a = write_file(dir, "a.toml", "", 0644);
	g_autofree char *b = write_file(dir, "b.toml", HV "accel = \"tcg\"\n", 0644);
	g_autoptr(GError) error = NULL;

	g_setenv(CK_CONFIG_ENV, b, TRUE);
	g_autofree char *explicit = ck_config_find(a, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(explicit, ==, a);

	g_autofree char *from_env = ck_config_find(NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(from_env, ==, b);

	g_autoptr(CkConfig) cfg = ck_config_load(NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(cfg->path, ==, b);
	g_assert_cmpint(cfg->hypervisor.accel, ==, CK_ACCEL_TCG);

	g_autoptr(CkConfig) cfg2 = ck_config_load(a, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(cfg2->path, ==, a);
	g_assert_cmpint(cfg2->hypervisor.accel, ==, CK_ACCEL_AUTO);

	g_unsetenv(CK_CONFIG_ENV);
	remove_tmpdir(dir);
}

static void test_find_missing(void)
{
	g_autoptr(GError) e1 = NULL;
	g_autoptr(GError) e2 = NULL;
	g_autoptr(GError) e3 = NULL;

	g_setenv(CK_CONFIG_ENV, "/nonexistent/env.toml", TRUE);
	g_assert_null(ck_config_find(NULL, &e1));
	g_assert_error(e1, CK_ERRNO_ERROR, ENOENT);
	g_assert_cmpstr(e1->message, ==, "$CONMON_KATA_CONFIG: /nonexistent/env.toml: No such file or directory");
	g_assert_true(ck_error_is(e1, CK_ERROR_NOT_FOUND));

	/* an explicit path wins even when it is the one that is missing */
	g_assert_null(ck_config_find("/nonexistent/explicit.toml", &e2));
	g_assert_cmpstr(e2->message, ==, "--config: /nonexistent/explicit.toml: No such file or directory");

	g_assert_null(ck_config_load(NULL, &e3));
	g_assert_cmpstr(e3->message, ==, "$CONMON_KATA_CONFIG: /nonexistent/env.toml: No such file or directory");
	g_unsetenv(CK_CONFIG_ENV);
}

/* With neither --config nor the variable (or an empty one), the system
 * paths are tried in order, and missing ones skipped. */
static void test_find_system(void)
{
	const char *want = g_file_test(CK_SYSCONF_CONFIG, G_FILE_TEST_EXISTS) ? CK_SYSCONF_CONFIG
			   : g_file_test(CK_DATA_CONFIG, G_FILE_TEST_EXISTS)  ? CK_DATA_CONFIG
									      : NULL;
	g_autoptr(GError) error = NULL;

	g_setenv(CK_CONFIG_ENV, "", TRUE);
	g_autofree char *found = ck_config_find(NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(found, ==, want);

	g_unsetenv(CK_CONFIG_ENV);
	g_autoptr(CkConfig) cfg = ck_config_load(NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(cfg->path, ==, want);
	if (want == NULL)
		assert_defaults(cfg);
}

static void test_load_file(void)
{
	g_autofree char *dir = make_tmpdir();
	g_autofree char *ok = write_file(dir, "ok.toml", HV "\n\ndefault_memory = 2048\n", 0644);
	g_autofree char *bad = write_file(dir, "bad.toml", "[runtime]\nfoo = 1\n", 0644);
	g_autofree char *big_path = g_build_filename(dir, "big.toml", NULL);
	g_autofree char *big = g_strnfill(1024 * 1024 + 1, '\n');
	g_autoptr(GError) e1 = NULL;
	g_autoptr(GError) e2 = NULL;
	g_autoptr(GError) e3 = NULL;
	g_autoptr(GError) e4 = NULL;

	g_autoptr(CkConfig) cfg = ck_config_load_file(ok, &e1);
	g_assert_no_error(e1);
	g_assert_cmpuint(cfg->hypervisor.default_memory, ==, 2048);
	g_assert_cmpuint(ck_config_key_line(cfg, "hypervisor.qemu.default_memory"), ==, 4);

	g_assert_null(ck_config_load_file(bad, &e2));
	g_autofree char *want = g_strdup_printf("%s:2: unknown key 'foo' in [runtime]", bad);
	g_assert_cmpstr(e2->message, ==, want);

	g_assert_true(g_file_set_contents(big_path, big, -1, NULL));
	g_assert_null(ck_config_load_file(big_path, &e3));
	g_autofree char *want_big = g_strdup_printf("%s: larger than 1048576 bytes", big_path);
	g_assert_cmpstr(e3->message, ==, want_big);

	g_assert_null(ck_config_load_file("/nonexistent/c.toml", &e4));
	g_assert_cmpstr(e4->message, ==, "/nonexistent/c.toml: No such file or directory");
	remove_tmpdir(dir);
}

/* A config whose four checked files are in dir, as named. */
static CkConfig *config_with_files(const char *dir, const char *qemu, const char *kernel)
{
	g_autofree char *text = g_strdup_printf(HV "path = \"%s/%s\"\nkernel = \"%s/%s\"\ninitrd = \"%s/initrd\"\n"
						   "[runtime]\ntrusted_runtime = \"%s/runc\"\n",
						dir, qemu, dir, kernel, dir, dir);
	return load_ok(text);
}

static void assert_validate_error(const CkConfig *cfg, const char *message)
{
	g_autoptr(GError) error = NULL;

	g_assert_false(ck_config_validate_paths(cfg, &error));
	g_assert_nonnull(error);
	g_assert_cmpstr(error->message, ==, message);
}

static void test_validate_paths(void)
{
	g_autofree char *dir = make_tmpdir();
	g_autofree char *qemu = write_file(dir, "qemu", "#!/bin/sh\n", 0755);
	g_autofree char *noexec = write_file(dir, "noexec", "#!/bin/sh\n", 0644);
	g_autofree char *kernel = write_file(dir, "vmlinux", "k", 0644);
	g_autofree char *initrd = write_file(dir, "initrd", "i", 0644);
	g_autofree char *runc = write_file(dir, "runc", "#!/bin/sh\n", 0755);
	g_autoptr(GError) error = NULL;

	g_autoptr(CkConfig) good = config_with_files(dir, "qemu", "vmlinux");
	g_assert_true(ck_config_validate_paths(good, &error));
	g_assert_no_error(error);

	g_autoptr(CkConfig) missing = config_with_files(dir, "qemu", "nope");
	g_autofree char *m1 =
	    g_strdup_printf("t.toml:3: hypervisor.qemu.kernel: %s/nope: No such file or directory", dir);
	assert_validate_error(missing, m1);

	g_autoptr(CkConfig) is_dir = config_with_files(dir, "qemu", ".");
	g_autofree char *m2 = g_strdup_printf("t.toml:3: hypervisor.qemu.kernel: %s/.: not a regular file", dir);
	assert_validate_error(is_dir, m2);

	g_autoptr(CkConfig) not_exec = config_with_files(dir, "noexec", "vmlinux");
	g_autofree char *m3 = g_strdup_printf("t.toml:2: hypervisor.qemu.path: %s/noexec: Permission denied", dir);
	assert_validate_error(not_exec, m3);

	/* a built-in default has no line to point at */
	g_autoptr(CkConfig) defaults = ck_config_new_defaults();
	g_free(defaults->hypervisor.path);
	defaults->hypervisor.path = g_strdup("/nonexistent/qemu");
	assert_validate_error(defaults, "hypervisor.qemu.path: /nonexistent/qemu: No such file or directory");

	(void)g_unlink(runc);
	g_autofree char *m4 =
	    g_strdup_printf("t.toml:6: runtime.trusted_runtime: %s/runc: No such file or directory", dir);
	assert_validate_error(good, m4);
	remove_tmpdir(dir);
}

/* ---- the files contrib/ ships ------------------------------------------------------ */

static CkConfig *load_generated(const char *env)
{
	const char *path = g_getenv(env);
	g_autoptr(GError) error = NULL;

	g_assert_nonnull(path); /* set by tests/unit/meson.build */
	CkConfig *cfg = ck_config_load_file(path, &error);
	g_assert_no_error(error);
	return cfg;
}

/* The shipped file sets every key (so the file documents every key) to
 * its built-in default (so the file and the code agree), except
 * valid_hypervisor_paths, which it leaves to follow `path`, and
 * enable_template, which it turns on (docs/templating.md#the-default;
 * left out of a file it is Kata's false). */
static void test_shipped_file(void)
{
	g_autoptr(CkConfig) cfg = load_generated("CK_CONFIG_SHIPPED");
	g_autoptr(CkConfig) defaults = ck_config_new_defaults();

	g_assert_false(defaults->factory.enable_template);
	g_assert_true(cfg->factory.enable_template);
	defaults->factory.enable_template = TRUE;
	g_autofree char *toml = ck_config_to_toml(cfg);
	g_auto(GStrv) lines = g_strsplit(toml, "\n", -1);

	assert_defaults(cfg);
	for (gsize i = 0; lines[i] != NULL; i++) {
		if (strstr(lines[i], " = ") == NULL)
			continue;
		if (g_str_has_prefix(lines[i], "valid_hypervisor_paths = "))
			g_assert_true(g_str_has_suffix(lines[i], "# default (follows path)"));
		else
			g_assert_nonnull(strstr(lines[i], "  # from "));
	}
	g_autofree char *shipped_values = values_only(toml);
	g_autofree char *default_toml = ck_config_to_toml(defaults);
	g_autofree char *default_values = values_only(default_toml);
	g_assert_cmpstr(shipped_values, ==, default_values);
}

static void test_build_file(void)
{
	g_autoptr(CkConfig) cfg = load_generated("CK_CONFIG_BUILD");
	const char *build_root = g_getenv("CK_BUILD_ROOT");

	g_assert_nonnull(build_root);
	g_autofree char *kernel = g_build_filename(build_root, "guest", "vmlinux", NULL);
	g_autofree char *initrd = g_build_filename(build_root, "guest", "initrd.img", NULL);
	g_assert_cmpstr(cfg->hypervisor.kernel, ==, kernel);
	g_assert_cmpstr(cfg->hypervisor.initrd, ==, initrd);
	g_assert_cmpint(cfg->hypervisor.accel, ==, CK_ACCEL_TCG);
	g_assert_cmpstr(cfg->hypervisor.path, ==, "/usr/bin/qemu-system-x86_64");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_unsetenv(CK_CONFIG_ENV);

	g_test_add_func("/config/defaults", test_defaults);
	g_test_add_func("/config/empty-file", test_empty_file);
	g_test_add_func("/config/comments-only", test_comments_only);
	g_test_add_func("/config/all-keys", test_all_keys);
	g_test_add_func("/config/key-lines", test_key_lines);
	for (gsize i = 0; i < G_N_ELEMENTS(reject_cases); i++) {
		g_autofree char *name = g_strdup_printf("/config/reject/%02" G_GSIZE_FORMAT, i);
		g_test_add_data_func(name, &reject_cases[i], test_reject);
	}
	g_test_add_func("/config/accept-edges", test_accept_edges);
	g_test_add_func("/config/valid-hypervisor-paths/follows-path", test_hypervisor_paths_follow_path);
	g_test_add_func("/config/valid-hypervisor-paths/explicit", test_hypervisor_paths_explicit);
	g_test_add_func("/config/enum-names", test_enum_names);
	g_test_add_func("/config/to-toml/origins", test_to_toml_origins);
	g_test_add_data_func("/config/to-toml/round-trip/defaults", "", test_to_toml_round_trip);
	g_test_add_data_func("/config/to-toml/round-trip/all-keys", all_keys_toml, test_to_toml_round_trip);
	g_test_add_func("/config/find/explicit-and-env", test_find_explicit_and_env);
	g_test_add_func("/config/find/missing", test_find_missing);
	g_test_add_func("/config/find/system", test_find_system);
	g_test_add_func("/config/load-file", test_load_file);
	g_test_add_func("/config/validate-paths", test_validate_paths);
	g_test_add_func("/config/shipped/installed", test_shipped_file);
	g_test_add_func("/config/shipped/build", test_build_file);
	return g_test_run();
}
