/* Integration: pod-net on real network namespaces, without a VM.
 *
 * Each test makes a namespace of its own (net-it-<pid>-<n>, with `ip`, as
 * CNI would; only documentation addresses) and checks what
 * pod_net_setup() reads and creates there (the setup_network request, the
 * tap, the tc redirects) and that teardown, by the owner or from the
 * record after the owner died, leaves the namespace's `ip`/`tc` listings
 * as they were. Bad namespaces and interfaces fail with their one line.
 * The namespaces go at the end of each test, also when an assertion
 * fails (atexit).
 */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "lib/pod-net.h"

static GPtrArray *namespaces;
static char *tmpdir;

static char *sh(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* Runs a shell command; its stdout, or aborts the test when it fails. */
static char *sh(const char *fmt, ...)
{
	va_list ap;
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL, *err = NULL;
	int status = 0;

	va_start(ap, fmt);
	g_autofree char *cmd = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
	g_assert_true(
	    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("%s: %s", cmd, err);
	return g_steal_pointer(&out);
}

static void remove_namespaces(void)
{
	for (guint i = 0; namespaces != NULL && i < namespaces->len; i++)
		g_free(sh("ip netns del %s 2>/dev/null; true", (char *)g_ptr_array_index(namespaces, i)));
	if (tmpdir != NULL)
		(void)ck_rm_rf(tmpdir, NULL);
}

/* A pod namespace with eth0 (a veth, MTU 1400, dual stack, a default
 * route and an on-link gateway route) whose peer sits in a second one. */
static char *pod_namespace(void)
{
	static int n;
	char *pod = g_strdup_printf("net-it-%d-%d", (int)getpid(), n++);
	char *peer = g_strdup_printf("%s-peer", pod);

	g_ptr_array_add(namespaces, pod);
	g_ptr_array_add(namespaces, peer);
	g_free(sh("ip netns add %s && ip netns add %s && "
		  "ip -n %s link add name eth0 mtu 1400 type veth peer name p0 netns %s && "
		  "ip -n %s addr add 192.0.2.2/24 dev eth0 && ip -n %s addr add 2001:db8::2/64 dev eth0 nodad && "
		  "ip -n %s link set eth0 up && ip -n %s link set p0 up && "
		  "ip -n %s route add default via 192.0.2.1 && "
		  "ip -n %s route add 198.51.100.0/24 via 192.0.2.254 dev eth0 onlink src 192.0.2.2",
		  pod, peer, pod, peer, pod, pod, pod, peer, pod, pod));
	/* the kernel's own link-local address settles first */
	for (int i = 0; i < 100; i++) {
		g_autofree char *a = sh("ip -n %s addr", pod);
		if (strstr(a, "tentative") == NULL)
			break;
		g_usleep(100000);
	}
	return pod;
}

static char *listings(const char *ns)
{
	return sh("for c in 'ip -d link' 'ip addr' 'ip -4 route show table all' 'ip -6 route show table all' "
		  "'tc qdisc' 'tc filter show dev eth0 ingress'; do ip netns exec %s $c; done",
		  ns);
}

static char *netns_path(const char *ns)
{
	return g_strdup_printf("/run/netns/%s", ns);
}

static char *record_path(void)
{
	return g_build_filename(tmpdir, POD_NET_RECORD, NULL);
}

static void test_setup_and_teardown(void)
{
	g_autoptr(GError) error = NULL;
	const char *ns = pod_namespace();
	g_autofree char *path = netns_path(ns), *record = record_path();
	g_autofree char *before = listings(ns);
	g_autofree char *mac = g_strstrip(sh("ip netns exec %s cat /sys/class/net/eth0/address", ns));

	PodNet *net = pod_net_setup(path, record, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(pod_net_count(net), ==, 1);
	g_assert_cmpstr(pod_net_mac(net, 0), ==, mac);
	g_assert_cmpint(pod_net_tap_fd(net, 0), >, 2);
	g_assert_true(g_file_test(record, G_FILE_TEST_EXISTS));

	/* what the guest will be told */
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	CkSetupNetworkArgs args = {0};
	pod_net_request(net, &args);
	ck_json_map_open(g);
	ck_msg_encode(ck_op_info(CK_OP_SETUP_NETWORK)->args, g, &args);
	ck_json_map_close(g);
	pod_net_request_clear(&args);
	g_autofree char *req = ck_json_gen_finish(g, NULL, &error);
	g_assert_no_error(error);
	g_autofree char *want = g_strdup_printf(
	    "{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"%s\",\"mtu\":1400,"
	    "\"addresses\":[\"192.0.2.2/24\",\"2001:db8::2/64\"]}],"
	    "\"routes\":[{\"dest\":\"0.0.0.0/0\",\"device\":\"eth0\",\"gateway\":\"192.0.2.1\"},"
	    "{\"dest\":\"198.51.100.0/24\",\"device\":\"eth0\",\"gateway\":\"192.0.2.254\",\"source\":\"192.0.2.2\","
	    "\"onlink\":true}]}",
	    mac);
	g_assert_cmpstr(req, ==, want);

	/* what the namespace holds meanwhile */
	g_autofree char *tap = sh("ip -n %s -d link show tap0_kata", ns);
	g_assert_nonnull(strstr(tap, "mtu 1400"));
	g_assert_nonnull(strstr(tap, ",UP"));
	g_assert_nonnull(strstr(tap, "tun type tap"));
	g_autofree char *f1 = sh("tc -n %s filter show dev eth0 ingress", ns);
	g_autofree char *f2 = sh("tc -n %s filter show dev tap0_kata ingress", ns);
	g_assert_nonnull(strstr(f1, "match 00000000/00000000 at 0"));
	g_assert_nonnull(strstr(f1, "mirred (Egress Redirect to device tap0_kata) stolen"));
	g_assert_nonnull(strstr(f2, "mirred (Egress Redirect to device eth0) stolen"));
	g_autofree char *describe = pod_net_describe(net);
	g_autofree char *described =
	    g_strdup_printf("eth0 (tap0_kata, %s, mtu 1400, 192.0.2.2/24, 2001:db8::2/64)", mac);
	g_assert_cmpstr(describe, ==, described);

	g_assert_true(pod_net_teardown(net, &error));
	g_assert_no_error(error);
	pod_net_free(net);
	g_autofree char *after = listings(ns);
	g_assert_cmpstr(after, ==, before);
	g_assert_false(g_file_test(record, G_FILE_TEST_EXISTS));
}

/* The owner dies with everything in place (a kill -9 of the pod monitor):
 * its taps go with its fds, the record undoes the rest. */
static void test_teardown_recorded(void)
{
	g_autoptr(GError) error = NULL;
	const char *ns = pod_namespace();
	g_autofree char *path = netns_path(ns), *record = record_path();
	g_autofree char *before = listings(ns);

	pid_t pid = fork();
	g_assert_cmpint(pid, >=, 0);
	if (pid == 0)
		_exit(pod_net_setup(path, record, NULL) != NULL ? 0 : 1);
	int status = 0;
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	g_autofree char *left = sh("tc -n %s qdisc show dev eth0 ingress", ns);
	g_assert_nonnull(strstr(left, "ingress ffff:"));
	g_assert_true(pod_net_teardown_recorded(record, &error));
	g_assert_no_error(error);
	g_autofree char *after = listings(ns);
	g_assert_cmpstr(after, ==, before);
	g_assert_false(g_file_test(record, G_FILE_TEST_EXISTS));
	/* and again: nothing to do */
	g_assert_true(pod_net_teardown_recorded(record, &error));
}

static void expect_refused(const char *path, const char *message)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *record = record_path();

	g_assert_null(pod_net_setup(path, record, &error));
	g_assert_nonnull(error);
	g_assert_cmpstr(error->message, ==, message);
	g_assert_false(g_file_test(record, G_FILE_TEST_EXISTS));
}

static void test_refusals(void)
{
	g_autofree char *missing = g_strdup_printf("/run/netns/net-it-%d-missing", (int)getpid());
	g_autofree char *m1 = g_strdup_printf("network namespace %s: No such file or directory", missing);
	expect_refused(missing, m1);
	expect_refused("/proc/self/ns/ipc", "network namespace /proc/self/ns/ipc: not a network namespace");
	expect_refused("/etc/hostname", "network namespace /etc/hostname: not a network namespace");

	const char *ns = pod_namespace();
	g_autofree char *path = netns_path(ns);
	g_free(sh("ip -n %s tuntap add name tun9 mode tun && ip -n %s link set tun9 up", ns, ns));
	g_autofree char *before = listings(ns);
	expect_refused(path, "network interface tun9: cannot be carried into the VM: it has no MAC address (kind tun)");
	g_free(sh("ip -n %s link del tun9 && ip -n %s link add name br9 type bridge && ip -n %s link set br9 up", ns,
		  ns, ns));
	expect_refused(path, "network interface br9: cannot be carried into the VM: kind bridge is not supported");
	/* a down interface without addresses is not part of the pod's network */
	g_free(sh("ip -n %s link set br9 down", ns));
	g_autoptr(GError) error = NULL;
	g_autofree char *record = record_path();
	PodNet *net = pod_net_setup(path, record, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(pod_net_count(net), ==, 1);
	g_assert_true(pod_net_teardown(net, &error));
	pod_net_free(net);
	/* an ingress qdisc that is not ours stays, and the interface is refused */
	g_free(sh("ip -n %s link del br9 && tc -n %s qdisc add dev eth0 ingress", ns, ns));
	g_free(before);
	before = listings(ns);
	expect_refused(path, "network interface eth0: cannot be carried into the VM: it already has an ingress qdisc");
	g_autofree char *after = listings(ns);
	g_assert_cmpstr(after, ==, before);
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;

	g_test_init(&argc, &argv, NULL);
	if (getuid() != 0) {
		g_print("1..0 # SKIP needs root (network namespaces)\n");
		return 0;
	}
	namespaces = g_ptr_array_new_with_free_func(g_free);
	tmpdir = g_dir_make_tmp("net-it-XXXXXX", &error);
	g_assert_no_error(error);
	atexit(remove_namespaces);
	g_test_add_func("/pod-net/setup-and-teardown", test_setup_and_teardown);
	g_test_add_func("/pod-net/teardown-recorded", test_teardown_recorded);
	g_test_add_func("/pod-net/refusals", test_refusals);
	return g_test_run();
}
