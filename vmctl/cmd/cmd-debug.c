/* vmctl debug: operator tools that work without CRI-O or Podman.
 *
 *   vmctl debug boot [--memory MiB] [--vcpus N]
 *
 * boots a VM from the configuration, waits for the agent, prints the
 * guest's kernel next to the host's and the boot time, and shuts it down.
 * Ctrl-C, SIGTERM and a boot timeout all end with QEMU killed and reaped
 * and the run directory removed.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-log.h"
#include "lib/qemu-vm.h"
#include "vmctl.h"

#define SHUTDOWN_TIMEOUT_MS 10000

static gboolean on_signal(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_CONTINUE;
}

static gboolean interrupted_cb(gpointer data)
{
	return *(gboolean *)data;
}

static const char *or_unknown(const char *s)
{
	return s != NULL ? s : "?";
}

static void print_boot_report(QemuVm *vm)
{
	const CkVersionResult *info = qemu_vm_get_guest_info(vm);
	struct utsname uts;

	(void)uname(&uts);
	printf("host kernel:   %s\n", uts.release);
	printf("guest kernel:  %s (%s)\n", or_unknown(info->kernel_release), or_unknown(info->kernel_version));
	printf("accelerator:   %s\n", ck_accel_to_string(qemu_vm_get_accel(vm)));
	if (qemu_vm_is_restored(vm))
		printf("boot time:     %.2f s from starting QEMU to the agent's answer (restored from a VM template)\n",
		       qemu_vm_get_boot_us(vm) / 1e6);
	else
		printf("boot time:     %.2f s from starting QEMU to the agent's answer "
		       "(guest: kernel to /init %.2f s, /init to ready %.2f s)\n",
		       qemu_vm_get_boot_us(vm) / 1e6, info->init_start_us / 1e6,
		       (info->ready_us - info->init_start_us) / 1e6);
	printf("guest:         %" G_GINT64_FORMAT " MiB, %" G_GINT64_FORMAT " vCPU(s), agent %s\n",
	       info->mem_total_kib / 1024, info->cpus_online, or_unknown(info->agent_version));
	fflush(stdout);
}

static int debug_boot(VmctlContext *ctx, int argc, char **argv)
{
	int memory = 0, vcpus = 0;
	gboolean interrupted = FALSE;
	g_autoptr(GError) error = NULL;
	GOptionEntry entries[] = {
		{"memory", 0, 0, G_OPTION_ARG_INT, &memory, "guest memory in MiB (default: default_memory)", "MIB"},
		{"vcpus", 0, 0, G_OPTION_ARG_INT, &vcpus, "boot vCPUs (default: default_vcpus)", "N"},
		{NULL},
	};

	if (!vmctl_parse_verb_options("debug boot", NULL, entries, &argc, &argv))
		return 1;
	const CkConfig *cfg = vmctl_config(ctx, &error);
	if (cfg == NULL) {
		ck_log_error("%s", error->message);
		return 1;
	}

	/* the VM's files live under the runtime root, like a pod's */
	g_autofree char *vm_dir = g_strdup_printf("%s/debug/boot-%d", ctx->root, (int)getpid());
	if (!ck_mkdir_p(vm_dir, 0700, &error)) {
		ck_log_error("%s", error->message);
		return 1;
	}

	guint sig_int = g_unix_signal_add(SIGINT, on_signal, &interrupted);
	guint sig_term = g_unix_signal_add(SIGTERM, on_signal, &interrupted);
	guint sig_hup = g_unix_signal_add(SIGHUP, on_signal, &interrupted);
	QemuVmOptions opts = {
		.config = cfg,
		.run_dir = vm_dir,
		.state_root = ctx->root,
		.name = "vmctl-debug-boot",
		.vcpus = vcpus,
		.memory_mib = (guint32)MAX(memory, 0),
		.cancel = interrupted_cb,
		.cancel_data = &interrupted,
	};
	int status = 0;
	g_autoptr(QemuVm) vm = qemu_vm_boot(&opts, &error);
	g_autofree char *console = g_build_filename(vm_dir, "console.log", NULL);
	gboolean have_logs = g_file_test(console, G_FILE_TEST_EXISTS);
	if (vm == NULL) {
		/* one line; point at the kept logs unless the message already does */
		if (have_logs && strstr(error->message, vm_dir) == NULL)
			ck_log_error("boot failed: %s; logs in %s", error->message, vm_dir);
		else
			ck_log_error("boot failed: %s", error->message);
		status = interrupted ? 130 : 1;
	} else {
		print_boot_report(vm);
		if (!qemu_vm_shutdown(vm, SHUTDOWN_TIMEOUT_MS, &error))
			ck_log_warning("shutdown: %s", error->message);
	}
	g_clear_pointer(&vm, qemu_vm_free);
	g_source_remove(sig_int);
	g_source_remove(sig_term);
	g_source_remove(sig_hup);
	/* a failed boot keeps its console and QEMU logs for the operator */
	if (status == 0 || !have_logs)
		(void)ck_rm_rf(vm_dir, NULL);
	return status;
}

int cmd_debug(VmctlContext *ctx, int argc, char **argv)
{
	if (argc < 2 || g_str_equal(argv[1], "--help") || g_str_equal(argv[1], "-h")) {
		printf("Usage: vmctl debug boot [--memory MIB] [--vcpus N]\n"
		       "  boot    boot a VM, print the guest kernel and the boot time, shut it down\n");
		return argc < 2 ? 1 : 0;
	}
	if (g_str_equal(argv[1], "boot"))
		return debug_boot(ctx, argc - 1, argv + 1);
	ck_log_error("debug: unknown tool '%s' (try: vmctl debug boot)", argv[1]);
	return 1;
}
