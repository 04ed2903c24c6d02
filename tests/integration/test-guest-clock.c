/* Integration: the guest's clock keeps the host's pace under host load,
 * for a booted VM and for a VM restored from a template (docs/performance.md,
 * "The guest clock").
 *
 * Under TCG the guest's TSC is the host's, but the guest kernel used to
 * calibrate its frequency against the emulated PIT at boot; with the host
 * busy that went wrong now and then (235 MHz for 2596), and a template
 * froze the bad value into every clone. Now the host passes its TSC
 * frequency (tsc_early_khz=): the booted guest must have taken it, and
 * both VMs, booted (or restored) while two busy loops compete for the
 * host's CPUs, must then advance their CLOCK_BOOTTIME within 2 % of the
 * host's CLOCK_MONOTONIC over 5 s.
 *
 * Failed checks are not fatal, so the VMs are shut down (qemu_vm_free
 * kills a QEMU still running), the busy loops killed and the temporary
 * folder removed whatever the outcome; should the test crash, QEMU and
 * the busy loops die with it (PR_SET_PDEATHSIG).
 */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "proto/ck-message.h"
#include "lib/config.h"
#include "lib/qemu-vm.h"

#define BUSY_LOOPS 2
#define PACE_WINDOW_S 5
#define PACE_TOLERANCE 0.02

static struct {
	CkConfig *config;
	char *root;
	pid_t busy[BUSY_LOOPS];
} fx;

static void start_busy_loops(void)
{
	for (int i = 0; i < BUSY_LOOPS; i++) {
		pid_t pid = fork();
		g_assert_cmpint(pid, >=, 0);
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (volatile unsigned long n = 0;; n++)
				;
		}
		fx.busy[i] = pid;
	}
}

static void stop_busy_loops(void)
{
	for (int i = 0; i < BUSY_LOOPS; i++) {
		if (fx.busy[i] <= 0)
			continue;
		kill(fx.busy[i], SIGKILL);
		waitpid(fx.busy[i], NULL, 0);
		fx.busy[i] = 0;
	}
}

/* The guest's CLOCK_BOOTTIME (the agent's version reply), read at some
 * moment between *before and *after of the host's monotonic clock. */
static gint64 guest_uptime_us(QemuVm *vm, gint64 *before, gint64 *after)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(CkJsonGen) req = ck_msg_request_begin(CK_OP_VERSION);
	yajl_val result = NULL;
	gint64 uptime = 0;

	*before = g_get_monotonic_time();
	g_auto(yajl_val) reply = agent_client_call(qemu_vm_get_agent(vm), req, 30000, &result, &error);
	*after = g_get_monotonic_time();
	g_assert_no_error(error);
	if (reply == NULL || !ck_json_as_int64(ck_json_get(result, "uptime_us"), &uptime)) {
		g_test_fail_printf("%s: no uptime_us in the agent's version reply", qemu_vm_get_console_log(vm));
		return -1;
	}
	return uptime;
}

/* The guest's interval must lie within 2 % of the host's, whichever host
 * interval (the calls' own delays counted either way) it is compared to. */
static void check_pace(QemuVm *vm, const char *what)
{
	gint64 b0, a0, b1, a1;
	gint64 g0 = guest_uptime_us(vm, &b0, &a0);
	g_usleep(PACE_WINDOW_S * G_USEC_PER_SEC);
	gint64 g1 = guest_uptime_us(vm, &b1, &a1);
	if (g0 < 0 || g1 < 0)
		return;

	double guest = (double)(g1 - g0);
	double host_long = (double)(a1 - b0), host_short = (double)(b1 - a0);
	g_test_message("%s: guest %.3f s against host %.3f-%.3f s", what, guest / 1e6, host_short / 1e6,
		       host_long / 1e6);
	g_assert_cmpfloat(guest, <=, host_long * (1 + PACE_TOLERANCE));
	g_assert_cmpfloat(guest, >=, host_short * (1 - PACE_TOLERANCE));
}

/* The guest kernel took the host's TSC frequency from its command line
 * instead of calibrating (the VM runs with debug on: its boot messages are
 * on the console). Logs the kernel's TSC lines. */
static void check_tsc_from_host(QemuVm *vm)
{
	g_autofree char *console = NULL;
	guint64 khz = 0;

	g_assert_true(g_file_get_contents(qemu_vm_get_console_log(vm), &console, NULL, NULL));
	if (console == NULL)
		return;
	g_auto(GStrv) lines = g_strsplit(console, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		const char *param = strstr(*l, "Kernel command line:") ? strstr(*l, " tsc_early_khz=") : NULL;
		if (param != NULL)
			khz = g_ascii_strtoull(param + strlen(" tsc_early_khz="), NULL, 10);
		if (strstr(*l, "tsc:") != NULL || strstr(*l, "clocksource") != NULL)
			g_test_message("guest: %s", g_strchomp(*l));
	}
	g_assert_cmpuint(khz, >, 0);
	g_autofree char *want = g_strdup_printf("tsc: Detected %" G_GUINT64_FORMAT ".%03" G_GUINT64_FORMAT " MHz",
						khz / 1000, khz % 1000);
	g_assert_nonnull(strstr(console, want));
}

static QemuVm *boot_vm(const char *name)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *run_dir = g_build_filename(fx.root, name, NULL);

	g_assert_true(ck_mkdir_p(run_dir, 0700, &error));
	QemuVmOptions opts = {
	    .config = fx.config,
	    .run_dir = run_dir,
	    .state_root = fx.root,
	    .name = name,
	};
	QemuVm *vm = qemu_vm_boot(&opts, &error);
	g_assert_no_error(error);
	return vm;
}

static void shut_down(QemuVm *vm)
{
	g_autoptr(GError) error = NULL;

	g_assert_true(qemu_vm_shutdown(vm, 15000, &error));
	g_assert_no_error(error);
}

static void test_booted_pace(void)
{
	fx.config->factory.enable_template = FALSE;
	g_autoptr(QemuVm) vm = boot_vm("booted");
	if (vm == NULL)
		return;
	g_assert_false(qemu_vm_is_restored(vm));
	check_tsc_from_host(vm);
	check_pace(vm, "booted VM");
	shut_down(vm);
}

static void test_clone_pace(void)
{
	fx.config->factory.enable_template = TRUE;
	g_free(fx.config->factory.template_path);
	fx.config->factory.template_path = g_build_filename(fx.root, "factory", NULL);
	g_autoptr(QemuVm) vm = boot_vm("clone");
	if (vm == NULL)
		return;
	g_assert_true(qemu_vm_is_restored(vm));
	check_pace(vm, "template clone");
	shut_down(vm);
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	const char *config_path = g_getenv("CK_TEST_CONFIG");

	g_test_init(&argc, &argv, NULL);
	/* a failed check fails its test and goes on, so the clean-up below runs */
	g_test_set_nonfatal_assertions();
	g_assert_nonnull(config_path);
	fx.config = ck_config_load(config_path, &error);
	g_assert_no_error(error);
	fx.config->hypervisor.enable_debug = TRUE; /* the kernel's TSC lines on the console */
	fx.root = g_dir_make_tmp("ck-clock-XXXXXX", &error);
	g_assert_no_error(error);
	start_busy_loops();

	g_test_add_func("/guest-clock/booted-under-load", test_booted_pace);
	g_test_add_func("/guest-clock/clone-under-load", test_clone_pace);
	int rc = g_test_run();

	stop_busy_loops();
	if (!ck_rm_rf(fx.root, &error))
		g_printerr("%s\n", error->message);
	ck_config_free(fx.config);
	return rc;
}
