/* qemu-cmdline: VmSpec -> argv. */
#include "qemu-cmdline.h"

#include <string.h>

#include "base/ck-error.h"
#include "base/ck-parse.h"

/* Guest kernel parameters we always pass. Most mirror what Kata's runtime
 * adds on x86: skip slow probes (i8042, SCSI scan, crypto self-tests),
 * trust the TSC (its frequency under TCG: qemu_kernel_cmdline), panic ->
 * reboot -> QEMU exits thanks to -no-reboot. Ours: hot-added memory comes
 * online by itself, cgroup v1 stays off so that every controller is
 * available to the agent's cgroup v2 hierarchy, and no SWIOTLB bounce
 * buffer: the guest would reserve 64 MiB of its RAM for it (maxmem puts
 * hot-pluggable memory above 4 GiB), though virtio without an IOMMU never
 * bounces; it cost every pod some 64 MiB of host memory (tests/bench). */
static const char *const fixed_params[] = {
	"console=ttyS0",
	"panic=1",
	"reboot=k",
	"tsc=reliable",
	"no_timer_check",
	"rcupdate.rcu_expedited=1",
	"i8042.direct=1",
	"i8042.dumbkbd=1",
	"i8042.nopnp=1",
	"i8042.noaux=1",
	"noreplace-smp",
	"cryptomgr.notests",
	"net.ifnames=0",
	"pci=lastbus=0",
	"scsi_mod.scan=none",
	"memhp_default_state=online",
	"swiotlb=noforce",
	"cgroup_no_v1=all",
};

void vm_spec_clear(VmSpec *spec)
{
	g_free(spec->name);
	g_free(spec->qemu_path);
	g_free(spec->kernel);
	g_free(spec->initrd);
	g_free(spec->machine_type);
	g_free(spec->kernel_params);
	g_free(spec->share_dir);
	g_free(spec->pidfile);
	g_free(spec->extra_monitor);
	g_free(spec->seccompsandbox);
	g_free(spec->ram_file);
	memset(spec, 0, sizeof *spec);
}

static gboolean check_printable(const char *value, const char *what, GError **error)
{
	for (const char *p = value; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return ck_set_error(error, CK_ERROR_INVALID, "%s: control character in '%s'", what, value);
	return TRUE;
}

char *qemu_escape_value(const char *value, const char *what, GError **error)
{
	if (!check_printable(value, what, error))
		return NULL;

	GString *s = g_string_sized_new(strlen(value) + 4);
	for (const char *p = value; *p != '\0'; p++) {
		g_string_append_c(s, *p);
		if (*p == ',')
			g_string_append_c(s, ',');
	}
	return g_string_free(s, FALSE);
}

char *qemu_kernel_cmdline(const VmSpec *spec, GError **error)
{
	g_autoptr(GString) s = g_string_new(NULL);

	for (gsize i = 0; i < G_N_ELEMENTS(fixed_params); i++)
		g_string_append_printf(s, "%s ", fixed_params[i]);
	g_string_append_printf(s, "nr_cpus=%d ", spec->maxvcpus);
	/* under TCG the guest's TSC is the host's: no calibration against
	 * emulated timers, which a busy host throws off (accel.h) */
	if (spec->tsc_khz > 0)
		g_string_append_printf(s, "tsc_early_khz=%u ", spec->tsc_khz);
	g_string_append(s, spec->debug ? "loglevel=7 agent.log=debug " : "quiet ");
	if (spec->agent_channel == CK_AGENT_CHANNEL_VSOCK)
		g_string_append(s, "agent.channel=vsock ");
	if (spec->kernel_params != NULL && *spec->kernel_params != '\0') {
		if (!check_printable(spec->kernel_params, "kernel_params", error))
			return NULL;
		g_string_append(s, spec->kernel_params);
	}
	while (s->len > 0 && s->str[s->len - 1] == ' ')
		g_string_truncate(s, s->len - 1);
	if (s->len >= QEMU_KERNEL_CMDLINE_MAX)
		return ck_set_error(error, CK_ERROR_INVALID,
				    "kernel_params: the guest kernel command line would be %" G_GSIZE_FORMAT
				    " bytes, over the limit of %d",
				    s->len, QEMU_KERNEL_CMDLINE_MAX - 1),
		       NULL;
	return g_string_free(g_steal_pointer(&s), FALSE);
}

static void add(GPtrArray *argv, const char *arg)
{
	g_ptr_array_add(argv, g_strdup(arg));
}

static void add2(GPtrArray *argv, const char *opt, char *value_owned)
{
	g_ptr_array_add(argv, g_strdup(opt));
	g_ptr_array_add(argv, value_owned);
}

static gboolean check_sizes(const VmSpec *spec, GError **error)
{
	if (spec->vcpus < 1 || spec->maxvcpus < spec->vcpus || spec->maxvcpus > 255)
		return ck_set_error(error, CK_ERROR_INVALID, "vcpus: %d of at most %d is not a valid CPU count",
				    spec->vcpus, spec->maxvcpus);
	if (spec->memory_mib < 64)
		return ck_set_error(error, CK_ERROR_INVALID, "memory: %u MiB is too little to boot", spec->memory_mib);
	if (spec->memory_slots > 0 && spec->maxmemory_mib <= spec->memory_mib)
		return ck_set_error(error, CK_ERROR_INVALID,
				    "memory: maximum %u MiB must exceed the boot size %u MiB for hot-plug",
				    spec->maxmemory_mib, spec->memory_mib);
	if (spec->accel != CK_ACCEL_KVM && spec->accel != CK_ACCEL_TCG)
		return ck_set_error(error, CK_ERROR_INVALID, "accel: must be resolved to kvm or tcg");
	return TRUE;
}

/* q35 without the devices a pod VM never uses: no SATA controller, SMBus,
 * VMware port or PS/2 controller, each a device the guest kernel probes at
 * boot. The PIT and the HPET stay: without the PIT the guest calibrates
 * its TSC against a slower reference, which under TCG is off by up to 20 %,
 * and its clock runs fast (docs/performance.md). */
#define Q35_LEAN_OPTIONS ",sata=off,smbus=off,vmport=off,i8042=off"

static gboolean is_q35(const char *machine)
{
	return g_str_equal(machine, "q35") || g_str_has_prefix(machine, "pc-q35-");
}

/* Guest RAM in a memfd: shared memory, which this host never backs with
 * transparent huge pages (shmem_enabled), so a page the guest touches
 * costs the host 4 KiB, not 2 MiB. A template's RAM is a file on tmpfs
 * (shared memory too), mapped shared by the template and privately
 * (copy-on-write) by its clones. Hot-plugged DIMMs have backends of
 * their own (hotplug.c). */
static gboolean add_ram(GPtrArray *argv, const VmSpec *spec, GError **error)
{
	if (spec->ram_file == NULL) {
		add2(argv, "-object", g_strdup_printf("memory-backend-memfd,id=%s,size=%uM", QEMU_RAM_BACKEND_ID,
						      spec->memory_mib));
		return TRUE;
	}
	g_autofree char *path = qemu_escape_value(spec->ram_file, "template memory file", error);
	if (path == NULL)
		return FALSE;
	add2(argv, "-object",
	     g_strdup_printf("memory-backend-file,id=%s,size=%uM,mem-path=%s,share=%s", QEMU_RAM_BACKEND_ID,
			     spec->memory_mib, path, spec->ram_shared ? "on" : "off"));
	return TRUE;
}

static gboolean add_machine(GPtrArray *argv, const VmSpec *spec, GError **error)
{
	g_autofree char *machine = qemu_escape_value(spec->machine_type, "machine_type", error);
	if (machine == NULL)
		return FALSE;
	if (strchr(spec->machine_type, ',') != NULL || strchr(spec->machine_type, '=') != NULL)
		return ck_set_error(error, CK_ERROR_INVALID, "machine_type: '%s' is not a machine name",
				    spec->machine_type);

	gboolean kvm = spec->accel == CK_ACCEL_KVM;
	if (!add_ram(argv, spec, error))
		return FALSE;
	add2(argv, "-machine", g_strdup_printf("%s,memory-backend=%s%s", machine, QEMU_RAM_BACKEND_ID,
					       is_q35(spec->machine_type) ? Q35_LEAN_OPTIONS : ""));
	/* TCG: a bounded translation buffer instead of QEMU's default (up to
	 * 1 GiB, of which an idle pod filled some 43 MiB). One TCG thread for
	 * all vCPUs: with a thread per vCPU, the buffer is cut into regions and
	 * a vCPU hot-plugged once they are all in use aborts QEMU. */
	add2(argv, "-accel",
	     kvm ? g_strdup("kvm") : g_strdup_printf("tcg,thread=single,tb-size=%d", QEMU_TCG_TB_MIB));
	/* TCG: "max" exposes every feature TCG emulates; KVM: the host's */
	add2(argv, "-cpu", g_strdup(kvm ? "host" : "max"));
	if (spec->memory_slots > 0)
		add2(argv, "-m",
		     g_strdup_printf("%uM,slots=%u,maxmem=%uM", spec->memory_mib, spec->memory_slots,
				     spec->maxmemory_mib));
	else
		add2(argv, "-m", g_strdup_printf("%uM", spec->memory_mib));
	add2(argv, "-smp",
	     g_strdup_printf("%d,maxcpus=%d,sockets=%d,cores=1,threads=1", spec->vcpus, spec->maxvcpus,
			     spec->maxvcpus));
	return TRUE;
}

static gboolean add_boot(GPtrArray *argv, const VmSpec *spec, GError **error)
{
	g_autofree char *cmdline = qemu_kernel_cmdline(spec, error);
	if (cmdline == NULL)
		return FALSE;
	/* -kernel/-initrd/-append take raw values, not option strings */
	if (!check_printable(spec->kernel, "kernel", error) || !check_printable(spec->initrd, "initrd", error))
		return FALSE;
	add2(argv, "-kernel", g_strdup(spec->kernel));
	add2(argv, "-initrd", g_strdup(spec->initrd));
	add2(argv, "-append", g_steal_pointer(&cmdline));
	return TRUE;
}

/* A pipe, not the file itself: what the guest writes is kept within
 * bounds by whoever reads the other end (console-log.h). QEMU opens the
 * pipe's write end, which it inherited, as /dev/fd/N (an fd set refuses
 * the file chardev's O_CREAT). */
static void add_console(GPtrArray *argv, const VmSpec *spec)
{
	add2(argv, "-chardev", g_strdup_printf("file,id=console0,path=/dev/fd/%d", spec->console_fd));
	add2(argv, "-serial", g_strdup("chardev:console0"));
}

static void add_agent_channel(GPtrArray *argv, const VmSpec *spec)
{
	if (spec->agent_channel == CK_AGENT_CHANNEL_VSOCK) {
		add2(argv, "-device", g_strdup_printf("vhost-vsock-pci,id=vsock0,guest-cid=%u", spec->vsock_cid));
		return;
	}
	add2(argv, "-device", g_strdup("virtio-serial-pci,id=serial0"));
	add2(argv, "-chardev", g_strdup_printf("socket,id=agent0,fd=%d", spec->agent_fd));
	add2(argv, "-device", g_strdup_printf("virtserialport,bus=serial0.0,chardev=agent0,name=%s",
					      QEMU_AGENT_PORT_NAME));
}

static gboolean add_monitors(GPtrArray *argv, const VmSpec *spec, GError **error)
{
	add2(argv, "-chardev", g_strdup_printf("socket,id=qmp0,fd=%d", spec->qmp_fd));
	add2(argv, "-mon", g_strdup("chardev=qmp0,mode=control"));
	if (spec->extra_monitor == NULL)
		return TRUE;

	if (spec->extra_monitor_fd > 2) {
		/* bound by the launcher: any path length works */
		add2(argv, "-chardev", g_strdup_printf("socket,id=mon1,fd=%d,server=on,wait=off", spec->extra_monitor_fd));
	} else {
		g_autofree char *path = qemu_escape_value(spec->extra_monitor, "extra_monitor_socket", error);
		if (path == NULL)
			return FALSE;
		add2(argv, "-chardev", g_strdup_printf("socket,id=mon1,path=%s,server=on,wait=off", path));
	}
	add2(argv, "-mon", g_strdup_printf("chardev=mon1,mode=%s", spec->extra_monitor_hmp ? "readline" : "control"));
	return TRUE;
}

static gboolean add_share(GPtrArray *argv, const VmSpec *spec, GError **error)
{
	if (spec->share_dir == NULL)
		return TRUE;

	g_autofree char *dir = qemu_escape_value(spec->share_dir, "shared folder", error);
	if (dir == NULL)
		return FALSE;
	/* security_model=none: the host files keep their real owners, which
	 * the container sees (the VM runs as root, like the runtime);
	 * multidevs=remap: the share spans several host filesystems (each
	 * container's rootfs is a bind mount in it), so inode numbers must be
	 * made unique across them. */
	add2(argv, "-fsdev",
	     g_strdup_printf("local,id=share0,path=%s,security_model=none,multidevs=remap", dir));
	add2(argv, "-device", g_strdup_printf("virtio-9p-pci,id=share0dev,fsdev=share0,mount_tag=%s", QEMU_SHARE_TAG));
	return TRUE;
}

/* The taps come open (the pod monitor made them in the pod's namespace):
 * QEMU needs no network privileges. No option ROM: the guest boots with
 * -kernel, never from the network. */
static gboolean add_nics(GPtrArray *argv, const VmSpec *spec, GError **error)
{
	if (spec->n_nics > QEMU_MAX_NICS)
		return ck_set_error(error, CK_ERROR_INVALID, "network: %u interfaces, at most %d", spec->n_nics,
				    QEMU_MAX_NICS);
	for (guint i = 0; i < spec->n_nics; i++) {
		const VmNic *nic = &spec->nics[i];
		guint8 mac[6];
		if (nic->fd <= 2 || !ck_parse_mac(nic->mac, mac))
			return ck_set_error(error, CK_ERROR_INVALID, "network: interface %u: bad fd %d or MAC '%s'", i,
					    nic->fd, nic->mac);
		add2(argv, "-netdev", g_strdup_printf("tap,id=net%u,fd=%d", i, nic->fd));
		add2(argv, "-device", g_strdup_printf("virtio-net-pci,netdev=net%u,mac=%s,romfile=", i, nic->mac));
	}
	return TRUE;
}

GPtrArray *qemu_cmdline_build(const VmSpec *spec, GError **error)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);

	if (!check_sizes(spec, error))
		return NULL;
	if (!check_printable(spec->qemu_path, "path", error))
		return NULL;
	add(argv, spec->qemu_path);
	if (spec->name != NULL) {
		g_autofree char *name = qemu_escape_value(spec->name, "name", error);
		if (name == NULL)
			return NULL;
		add2(argv, "-name", g_strdup_printf("%s,debug-threads=on", name));
	}
	if (!add_machine(argv, spec, error))
		return NULL;
	add(argv, "-nodefaults");
	add(argv, "-no-user-config");
	add(argv, "-nographic");
	add(argv, "-no-reboot");
	if (!add_boot(argv, spec, error))
		return NULL;
	add_console(argv, spec);
	add_agent_channel(argv, spec);
	/* free page reporting: what the guest frees after boot (the initrd,
	 * its init sections, the initramfs it empties) goes back to the host
	 * (docs/performance.md); the agent sets the reporting order */
	add2(argv, "-device", g_strdup("virtio-balloon-pci,id=balloon0,free-page-reporting=on"));
	if (!add_monitors(argv, spec, error) || !add_share(argv, spec, error) || !add_nics(argv, spec, error))
		return NULL;
	if (spec->pidfile != NULL) {
		if (!check_printable(spec->pidfile, "pidfile", error))
			return NULL;
		add2(argv, "-pidfile", g_strdup(spec->pidfile));
	}
	if (spec->seccompsandbox != NULL && *spec->seccompsandbox != '\0') {
		if (!check_printable(spec->seccompsandbox, "seccompsandbox", error))
			return NULL;
		add2(argv, "-sandbox", g_strdup(spec->seccompsandbox));
	}
	if (spec->incoming)
		add2(argv, "-incoming", g_strdup("defer"));
	g_ptr_array_add(argv, NULL);
	return g_steal_pointer(&argv);
}
