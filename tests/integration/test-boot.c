/* Integration: boot the real guest image under QEMU (TCG) through the
 * library, and check the agent handshake and the VM's basic facts.
 *
 * One VM serves every check of this file (booting is the slow part); the
 * last test shuts it down and checks that QEMU is gone. An aborting test
 * cannot leak the VM: QEMU runs with PR_SET_PDEATHSIG=SIGKILL.
 */
#include <signal.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <glib.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "proto/ck-message.h"
#include "lib/config.h"
#include "lib/qemu-vm.h"

static struct {
	CkConfig *config;
	char *root;
	char *run_dir;
	QemuVm *vm;
} fx;

static void boot_fixture(void)
{
	g_autoptr(GError) error = NULL;
	const char *config_path = g_getenv("CK_TEST_CONFIG");

	g_assert_nonnull(config_path);
	fx.config = ck_config_load(config_path, &error);
	g_assert_no_error(error);
	fx.root = g_dir_make_tmp("ck-boot-XXXXXX", &error);
	g_assert_no_error(error);
	fx.run_dir = g_build_filename(fx.root, "vm", NULL);
	g_assert_true(ck_mkdir_p(fx.run_dir, 0700, &error));

	QemuVmOptions opts = {
		.config = fx.config,
		.run_dir = fx.run_dir,
		.state_root = fx.root,
		.name = "test-boot",
	};
	fx.vm = qemu_vm_boot(&opts, &error);
	g_assert_no_error(error);
	g_assert_nonnull(fx.vm);
}

static void test_handshake(void)
{
	const CkVersionResult *info = qemu_vm_get_guest_info(fx.vm);

	g_assert_cmpint(info->protocol, ==, CK_PROTO_VERSION);
	g_assert_cmpint(info->init_start_us, >, 0);
	g_assert_cmpint(info->ready_us, >=, info->init_start_us);
	g_assert_cmpint(qemu_vm_get_boot_us(fx.vm), >, info->ready_us - info->init_start_us);
	g_assert_cmpint(qemu_vm_get_accel(fx.vm), ==, CK_ACCEL_TCG);
}

/* A file the image builder wrote beside the configured kernel. */
static char *image_file(const char *name)
{
	g_autofree char *dir = g_path_get_dirname(fx.config->hypervisor.kernel);
	g_autofree char *path = g_build_filename(dir, name, NULL);
	char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

/* The whole point: the guest runs its own kernel, not the host's. */
static void test_guest_kernel_differs(void)
{
	const char *release = qemu_vm_get_guest_info(fx.vm)->kernel_release;
	struct utsname host;

	g_assert_nonnull(release);
	g_assert_cmpint(uname(&host), ==, 0);
	g_assert_cmpstr(release, !=, host.release);
	/* and it is the image's: ours (-conmon-kata) or Debian's (-amd64) */
	g_autofree char *want = image_file("kernel.release");
	g_assert_cmpstr(release, ==, g_strstrip(want));
}

static void test_guest_resources(void)
{
	const CkVersionResult *info = qemu_vm_get_guest_info(fx.vm);
	gint64 mem = info->mem_total_kib, cpus = info->cpus_online, modules = info->modules_loaded;
	gint64 configured = (gint64)fx.config->hypervisor.default_memory * 1024;

	/* MemTotal excludes the kernel image and reserved memory */
	g_assert_cmpint(mem, <=, configured);
	g_assert_cmpint(mem, >, configured / 3);
	g_assert_cmpint(cpus, ==, fx.config->hypervisor.default_vcpus);
	/* every module of the image's list, none with our module-free kernel */
	g_autofree char *list = image_file("modules.txt");
	g_auto(GStrv) names = g_strsplit(g_strstrip(list), "\n", -1);
	g_assert_cmpint(modules, ==, *list == '\0' ? 0 : g_strv_length(names));
}

static void test_ping_and_errors(void)
{
	AgentClient *agent = qemu_vm_get_agent(fx.vm);
	g_autoptr(GError) error = NULL;
	yajl_val result = NULL;

	g_autoptr(CkJsonGen) ping = ck_msg_request_begin(CK_OP_PING);
	g_auto(yajl_val) r1 = agent_client_call(agent, ping, 5000, &result, &error);
	g_assert_no_error(error);
	g_assert_true(YAJL_IS_OBJECT(result));

	g_autoptr(CkJsonGen) bogus = ck_json_gen_new();
	ck_json_map_open(bogus);
	ck_json_kv_string(bogus, "op", "no-such-op");
	g_auto(yajl_val) r2 = agent_client_call(agent, bogus, 5000, &result, &error);
	g_assert_null(r2);
	g_assert_error(error, CK_ERROR, CK_ERROR_UNSUPPORTED);
	g_assert_cmpstr(error->message, ==, "unknown operation 'no-such-op'");
	g_clear_error(&error);

	CkVersionArgs future_args = {.protocol = 99};
	g_autoptr(CkJsonGen) future = ck_msg_request(CK_OP_VERSION, &future_args);
	g_auto(yajl_val) r3 = agent_client_call(agent, future, 5000, &result, &error);
	g_assert_null(r3);
	g_assert_error(error, CK_ERROR, CK_ERROR_UNSUPPORTED);
	g_assert_cmpstr(error->message, ==, "protocol version 99 not supported by the agent (speaks 1)");
}

/* Many requests in flight at once are all answered, each by its id. */
static void reply_count_cb(AgentClient *c, yajl_val result, const GError *error, gpointer data)
{
	(void)c;
	g_assert_no_error(error);
	g_assert_nonnull(result);
	(*(int *)data)++;
}

static void test_pipelined_requests(void)
{
	AgentClient *agent = qemu_vm_get_agent(fx.vm);
	int answered = 0;

	for (int i = 0; i < 200; i++) {
		g_autoptr(CkJsonGen) req = ck_msg_request_begin(i % 2 ? CK_OP_PING : CK_OP_VERSION);
		agent_client_call_async(agent, req, reply_count_cb, &answered);
	}
	gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	while (answered < 200 && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpint(answered, ==, 200);
}

static void test_qmp_status(void)
{
	g_autoptr(GError) error = NULL;
	g_auto(yajl_val) reply = NULL;

	g_assert_true(qmp_client_execute(qemu_vm_get_qmp(fx.vm), "query-status", NULL, 5000, &reply, &error));
	g_assert_no_error(error);
	yajl_val status = ck_json_get(ck_json_get(reply, "return"), "status");
	g_assert_nonnull(status);
	g_assert_cmpstr(status->u.string, ==, "running");
}

static void test_console_log(void)
{
	g_autofree char *console = g_build_filename(fx.run_dir, "console.log", NULL);
	g_autofree char *pidfile = g_build_filename(fx.run_dir, "qemu.pid", NULL);
	g_autofree char *pid_text = NULL;

	g_assert_true(g_file_test(console, G_FILE_TEST_IS_REGULAR));
	g_assert_true(g_file_get_contents(pidfile, &pid_text, NULL, NULL));
	g_assert_cmpint(atoi(pid_text), ==, qemu_vm_get_pid(fx.vm));
}

static void test_clean_shutdown(void)
{
	g_autoptr(GError) error = NULL;
	pid_t pid = qemu_vm_get_pid(fx.vm);
	int status = -1;

	g_assert_true(qemu_vm_shutdown(fx.vm, 15000, &error));
	g_assert_no_error(error);
	g_assert_true(qemu_vm_has_exited(fx.vm, &status));
	/* the guest powered itself off: QEMU exited 0, no signal involved */
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, 0);
	g_assert_cmpint(kill(pid, 0), ==, -1);

	qemu_vm_free(fx.vm);
	fx.vm = NULL;
	g_assert_true(ck_rm_rf(fx.root, &error));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	boot_fixture();
	g_test_add_func("/boot/handshake", test_handshake);
	g_test_add_func("/boot/guest-kernel-differs", test_guest_kernel_differs);
	g_test_add_func("/boot/guest-resources", test_guest_resources);
	g_test_add_func("/boot/ping-and-errors", test_ping_and_errors);
	g_test_add_func("/boot/pipelined-requests", test_pipelined_requests);
	g_test_add_func("/boot/qmp-status", test_qmp_status);
	g_test_add_func("/boot/console-log", test_console_log);
	g_test_add_func("/boot/clean-shutdown", test_clean_shutdown);
	int rc = g_test_run();
	if (fx.vm != NULL)
		qemu_vm_free(fx.vm);
	ck_config_free(fx.config);
	return rc;
}
