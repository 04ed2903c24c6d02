/* Unit tests: VmSpec -> QEMU argv, exact output and refusals. */
#include <string.h>

#include <glib.h>

#include "base/ck-error.h"
#include "lib/qemu-cmdline.h"

static void base_spec(VmSpec *s)
{
	*s = (VmSpec){
		.name = g_strdup("pod1"),
		.qemu_path = g_strdup("/usr/bin/qemu-system-x86_64"),
		.kernel = g_strdup("/k/vmlinux"),
		.initrd = g_strdup("/k/initrd.img"),
		.machine_type = g_strdup("q35"),
		.accel = CK_ACCEL_TCG,
		.vcpus = 1,
		.maxvcpus = 4,
		.memory_mib = 512,
		.memory_slots = 10,
		.maxmemory_mib = 8192,
		.kernel_params = g_strdup(""),
		.agent_channel = CK_AGENT_CHANNEL_VIRTIO_SERIAL,
		.agent_fd = 3,
		.qmp_fd = 4,
		.share_dir = g_strdup("/run/vmctl/pods/p1/shared"),
		.msize_9p = 524288,
		.console_fd = 6,
		.pidfile = g_strdup("/run/vmctl/pods/p1/qemu.pid"),
	};
}

static char *joined(const VmSpec *s, GError **error)
{
	g_autoptr(GPtrArray) argv = qemu_cmdline_build(s, error);
	if (argv == NULL)
		return NULL;
	return g_strjoinv("|", (char **)argv->pdata);
}

static void test_exact_argv(void)
{
	g_auto(VmSpec) s;
	g_autoptr(GError) error = NULL;

	base_spec(&s);
	g_autofree char *cmdline = qemu_kernel_cmdline(&s, &error);
	g_assert_no_error(error);
	g_autofree char *got = joined(&s, &error);
	g_assert_no_error(error);
	g_autofree char *want = g_strdup_printf(
		"/usr/bin/qemu-system-x86_64|-name|pod1,debug-threads=on"
		"|-object|memory-backend-memfd,id=ram0,size=512M"
		"|-machine|q35,memory-backend=ram0,sata=off,smbus=off,vmport=off,i8042=off"
		"|-accel|tcg,thread=single,tb-size=16|-cpu|max"
		"|-m|512M,slots=10,maxmem=8192M|-smp|1,maxcpus=4,sockets=4,cores=1,threads=1"
		"|-nodefaults|-no-user-config|-nographic|-no-reboot"
		"|-kernel|/k/vmlinux|-initrd|/k/initrd.img|-append|%s"
		"|-chardev|file,id=console0,path=/dev/fd/6|-serial|chardev:console0"
		"|-device|virtio-serial-pci,id=serial0|-chardev|socket,id=agent0,fd=3"
		"|-device|virtserialport,bus=serial0.0,chardev=agent0,name=agent.channel.0"
		"|-device|virtio-balloon-pci,id=balloon0,free-page-reporting=on"
		"|-chardev|socket,id=qmp0,fd=4|-mon|chardev=qmp0,mode=control"
		"|-fsdev|local,id=share0,path=/run/vmctl/pods/p1/shared,security_model=none,multidevs=remap"
		"|-device|virtio-9p-pci,id=share0dev,fsdev=share0,mount_tag=kataShared"
		"|-pidfile|/run/vmctl/pods/p1/qemu.pid",
		cmdline);
	g_assert_cmpstr(got, ==, want);
}

static void test_kernel_cmdline(void)
{
	g_auto(VmSpec) s;
	g_autoptr(GError) error = NULL;

	base_spec(&s);
	g_autofree char *quiet = qemu_kernel_cmdline(&s, &error);
	g_assert_true(g_str_has_prefix(quiet, "console=ttyS0 panic=1 "));
	g_assert_nonnull(strstr(quiet, " nr_cpus=4 quiet"));
	g_assert_null(strstr(quiet, "agent.log"));
	g_assert_null(strstr(quiet, "tsc_early_khz"));

	/* the host's TSC frequency, when known, before the user's parameters */
	s.tsc_khz = 2596137;
	g_autofree char *tsc = qemu_kernel_cmdline(&s, &error);
	g_assert_nonnull(strstr(tsc, " nr_cpus=4 tsc_early_khz=2596137 quiet"));

	s.debug = TRUE;
	s.agent_channel = CK_AGENT_CHANNEL_VSOCK;
	g_free(s.kernel_params);
	s.kernel_params = g_strdup("foo=bar quiet=0");
	g_autofree char *dbg = qemu_kernel_cmdline(&s, &error);
	/* the user's parameters come last, so they win over ours */
	g_assert_true(g_str_has_suffix(dbg, " loglevel=7 agent.log=debug agent.channel=vsock foo=bar quiet=0"));
}

static void test_kvm_and_no_hotplug(void)
{
	g_auto(VmSpec) s;
	g_autoptr(GError) error = NULL;

	base_spec(&s);
	s.accel = CK_ACCEL_KVM;
	s.memory_slots = 0;
	g_clear_pointer(&s.share_dir, g_free);
	g_clear_pointer(&s.pidfile, g_free);
	g_autofree char *got = joined(&s, &error);
	g_assert_no_error(error);
	g_assert_nonnull(strstr(got, "|-machine|q35,memory-backend=ram0,sata=off,smbus=off,vmport=off,i8042=off"
				     "|-accel|kvm|-cpu|host|-m|512M|"));
	g_assert_null(strstr(got, "tb-size"));
	g_assert_null(strstr(got, "-fsdev"));
	g_assert_null(strstr(got, "-pidfile"));
}

/* the device options are q35's: another machine gets none of them */
static void test_other_machine(void)
{
	g_auto(VmSpec) s;
	g_autoptr(GError) error = NULL;

	base_spec(&s);
	g_free(s.machine_type);
	s.machine_type = g_strdup("pc");
	s.memory_mib = 256;
	g_autofree char *got = joined(&s, &error);
	g_assert_no_error(error);
	g_assert_nonnull(strstr(got, "|-object|memory-backend-memfd,id=ram0,size=256M|-machine|pc,memory-backend=ram0|"
				     "-accel|tcg,thread=single,tb-size=16|"));
	g_assert_null(strstr(got, "sata=off"));
}

static void test_escaping(void)
{
	g_auto(VmSpec) s;
	g_autoptr(GError) error = NULL;

	base_spec(&s);
	g_free(s.share_dir);
	s.share_dir = g_strdup("/srv/a,b");
	s.extra_monitor = g_strdup("/run/x,y/monitor.sock");
	g_autofree char *got = joined(&s, &error);
	g_assert_no_error(error);
	g_assert_nonnull(strstr(got, "local,id=share0,path=/srv/a,,b,security_model=none"));
	g_assert_nonnull(strstr(got, "socket,id=mon1,path=/run/x,,y/monitor.sock,server=on,wait=off|-mon|"
				     "chardev=mon1,mode=control"));
}

typedef struct {
	const char *what;
	void (*mutate)(VmSpec *s);
	const char *message;
} Refusal;

static void m_newline_share(VmSpec *s)
{
	g_free(s->share_dir);
	s->share_dir = g_strdup("/a\nb");
}

static void m_tab_params(VmSpec *s)
{
	g_free(s->kernel_params);
	s->kernel_params = g_strdup("a=\tb");
}

static void m_long_params(VmSpec *s)
{
	g_free(s->kernel_params);
	s->kernel_params = g_strnfill(2100, 'x');
}

static void m_machine_opts(VmSpec *s)
{
	g_free(s->machine_type);
	s->machine_type = g_strdup("q35,accel=kvm");
}

static void m_tiny_memory(VmSpec *s)
{
	s->memory_mib = 32;
}

static void m_maxmem(VmSpec *s)
{
	s->maxmemory_mib = 512;
}

static void m_vcpus(VmSpec *s)
{
	s->vcpus = 8;
}

static void m_auto(VmSpec *s)
{
	s->accel = CK_ACCEL_AUTO;
}

static void m_kernel_ctrl(VmSpec *s)
{
	g_free(s->kernel);
	s->kernel = g_strdup("/k/vm\x1blinux");
}

static void m_bad_mac(VmSpec *s)
{
	s->n_nics = 1;
	s->nics[0] = (VmNic){.fd = 6, .mac = "02:00:00:00:00:0g"};
}

static void m_nic_fd(VmSpec *s)
{
	s->n_nics = 1;
	s->nics[0] = (VmNic){.fd = 2, .mac = "02:00:00:00:00:01"};
}

/* Each tap fd becomes a netdev and a virtio-net-pci with the interface's
 * MAC, after everything else, with no option ROM. */
static void test_nics(void)
{
	g_auto(VmSpec) s;
	g_autoptr(GError) error = NULL;

	base_spec(&s);
	s.n_nics = 2;
	s.nics[0] = (VmNic){.fd = 6, .mac = "be:8d:1b:65:c6:61"};
	s.nics[1] = (VmNic){.fd = 7, .mac = "02:42:c0:a8:00:02"};
	g_autofree char *got = joined(&s, &error);
	g_assert_no_error(error);
	g_assert_true(g_str_has_suffix(got, "|-netdev|tap,id=net0,fd=6|-device|virtio-net-pci,netdev=net0,"
					    "mac=be:8d:1b:65:c6:61,romfile="
					    "|-netdev|tap,id=net1,fd=7|-device|virtio-net-pci,netdev=net1,"
					    "mac=02:42:c0:a8:00:02,romfile="
					    "|-pidfile|/run/vmctl/pods/p1/qemu.pid"));
}

/* VM templating: the template's RAM is a shared file, a clone's the same
 * file mapped privately, and a clone waits for its state (-incoming
 * defer); the rest of the command line is a booted VM's, device for
 * device, so that the PCI addresses and migration sections match. */
static void test_template_and_clone(void)
{
	g_auto(VmSpec) s;
	g_autoptr(GError) error = NULL;

	base_spec(&s);
	g_autofree char *boot = joined(&s, &error);
	g_assert_no_error(error);
	s.ram_file = g_strdup("/run/vmctl/factory/k,1/memory");
	s.ram_shared = TRUE;
	g_autofree char *tmpl = joined(&s, &error);
	g_assert_no_error(error);
	g_assert_nonnull(strstr(tmpl, "|-object|memory-backend-file,id=ram0,size=512M,"
				      "mem-path=/run/vmctl/factory/k,,1/memory,share=on|-machine|q35,memory-backend=ram0,"));
	g_assert_null(strstr(tmpl, "-incoming"));

	s.ram_shared = FALSE;
	s.incoming = TRUE;
	g_autofree char *clone = joined(&s, &error);
	g_assert_no_error(error);
	g_assert_nonnull(strstr(clone, "mem-path=/run/vmctl/factory/k,,1/memory,share=off|"));
	g_assert_true(g_str_has_suffix(clone, "|-pidfile|/run/vmctl/pods/p1/qemu.pid|-incoming|defer"));
	/* everything after the memory object is the booted VM's */
	const char *b = strstr(boot, "|-machine|"), *c = strstr(clone, "|-machine|");
	g_assert_true(g_str_has_prefix(c, b));
	g_assert_cmpstr(c + strlen(b), ==, "|-incoming|defer");

	g_free(s.ram_file);
	s.ram_file = g_strdup("/run/f\nx");
	g_assert_null(joined(&s, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
	g_assert_cmpstr(error->message, ==, "template memory file: control character in '/run/f\nx'");
}

static void test_refusals(void)
{
	static const Refusal cases[] = {
		{"bad MAC", m_bad_mac, "network: interface 0: bad fd 6 or MAC '02:00:00:00:00:0g'"},
		{"stdio as tap", m_nic_fd, "network: interface 0: bad fd 2 or MAC '02:00:00:00:00:01'"},
		{"newline in share", m_newline_share, "shared folder: control character in '/a\nb'"},
		{"tab in params", m_tab_params, "kernel_params: control character in 'a=\tb'"},
		{"long params", m_long_params, NULL},
		{"machine with options", m_machine_opts, "machine_type: 'q35,accel=kvm' is not a machine name"},
		{"tiny memory", m_tiny_memory, "memory: 32 MiB is too little to boot"},
		{"maxmem", m_maxmem, "memory: maximum 512 MiB must exceed the boot size 512 MiB for hot-plug"},
		{"vcpus", m_vcpus, "vcpus: 8 of at most 4 is not a valid CPU count"},
		{"auto", m_auto, "accel: must be resolved to kvm or tcg"},
		{"kernel ctrl", m_kernel_ctrl, "kernel: control character in '/k/vm\x1blinux'"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_auto(VmSpec) s;
		g_autoptr(GError) error = NULL;
		base_spec(&s);
		cases[i].mutate(&s);
		g_autoptr(GPtrArray) argv = qemu_cmdline_build(&s, &error);
		g_assert_null(argv);
		g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
		if (cases[i].message != NULL)
			g_assert_cmpstr(error->message, ==, cases[i].message);
		else
			g_assert_true(g_str_has_prefix(error->message, "kernel_params: the guest kernel command line "
									 "would be "));
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/qemu-cmdline/exact-argv", test_exact_argv);
	g_test_add_func("/qemu-cmdline/other-machine", test_other_machine);
	g_test_add_func("/qemu-cmdline/kernel-cmdline", test_kernel_cmdline);
	g_test_add_func("/qemu-cmdline/kvm-no-hotplug", test_kvm_and_no_hotplug);
	g_test_add_func("/qemu-cmdline/escaping", test_escaping);
	g_test_add_func("/qemu-cmdline/refusals", test_refusals);
	g_test_add_func("/qemu-cmdline/nics", test_nics);
	g_test_add_func("/qemu-cmdline/template-and-clone", test_template_and_clone);
	return g_test_run();
}
