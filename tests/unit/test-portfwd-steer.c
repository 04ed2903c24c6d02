/* Unit tests: the sk_lookup program of port forwarding (conmon-kata/portfwd-steer.c):
 * its assembly, and the real thing loaded into the kernel and attached to a
 * network namespace of the test's own, where connections to 127.0.0.1 and
 * ::1 on any port reach its listener and nothing else does. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "conmon-kata/portfwd-steer.h"

static void test_assemble(void)
{
	struct bpf_insn insns[PORT_STEER_PROG_MAX];
	gsize n = port_steer_assemble(insns, 42);
	guint lddw = 0;

	g_assert_cmpuint(n, >, 10);
	g_assert_cmpuint(n, <=, PORT_STEER_PROG_MAX);
	/* ends with r0 = SK_PASS; exit */
	g_assert_cmpuint(insns[n - 2].code, ==, BPF_ALU64 | BPF_MOV | BPF_K);
	g_assert_cmpint(insns[n - 2].imm, ==, SK_PASS);
	g_assert_cmpuint(insns[n - 1].code, ==, BPF_JMP | BPF_EXIT);
	for (gsize i = 0; i < n; i++) {
		guint8 cls = BPF_CLASS(insns[i].code);
		if (insns[i].code == (BPF_LD | BPF_DW | BPF_IMM)) {
			/* the map, by fd, and the empty upper half */
			g_assert_cmpint(insns[i].imm, ==, 42);
			g_assert_cmpuint(insns[i].src_reg, ==, BPF_PSEUDO_MAP_FD);
			g_assert_cmpuint(insns[i + 1].code, ==, 0);
			lddw++;
		}
		if ((cls == BPF_JMP || cls == BPF_JMP32) && BPF_OP(insns[i].code) != BPF_CALL &&
		    BPF_OP(insns[i].code) != BPF_EXIT) {
			/* every jump goes forward, inside the program */
			g_assert_cmpint(insns[i].off, >=, 0);
			g_assert_cmpuint(i + 1 + (gsize)insns[i].off, <, n);
		}
	}
	g_assert_cmpuint(lddw, ==, 1);
}

/* The test process's own network namespace, with lo up. */
static gboolean private_netns(void)
{
	struct ifreq ifr = {0};

	if (unshare(CLONE_NEWNET) < 0) {
		g_test_skip_printf("unshare(CLONE_NEWNET): %s", g_strerror(errno));
		return FALSE;
	}
	ck_autofd fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	g_strlcpy(ifr.ifr_name, "lo", sizeof ifr.ifr_name);
	g_assert_cmpint(ioctl(fd, SIOCGIFFLAGS, &ifr), ==, 0);
	ifr.ifr_flags |= IFF_UP;
	g_assert_cmpint(ioctl(fd, SIOCSIFFLAGS, &ifr), ==, 0);
	return TRUE;
}

/* Connects to addr:port; returns the socket, or -errno. */
static int dial(const char *addr, guint16 port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	gboolean v6 = strchr(addr, ':') != NULL;

	if (v6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		g_assert_cmpint(inet_pton(AF_INET6, addr, &in6->sin6_addr), ==, 1);
		len = sizeof *in6;
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		g_assert_cmpint(inet_pton(AF_INET, addr, &in->sin_addr), ==, 1);
		len = sizeof *in;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		int errsv = errno;
		close(fd);
		return -errsv;
	}
	return fd;
}

/* The listener accepted one connection; the port it was dialled on. */
static guint16 accepted_port(int listener)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	ck_autofd fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(getsockname(fd, (struct sockaddr *)&ss, &len), ==, 0);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void check_steered(PortSteer *steer, const char *addr, PortSteerFamily family)
{
	static const guint16 ports[] = {1, 80, 8080, 33333, 65535};

	for (gsize i = 0; i < G_N_ELEMENTS(ports); i++) {
		ck_autofd client = dial(addr, ports[i]);
		g_assert_cmpint(client, >=, 0);
		g_assert_cmpuint(accepted_port(port_steer_listener(steer, family)), ==, ports[i]);
	}
}

static void test_steer(void)
{
	g_autoptr(GError) error = NULL;

	if (!private_netns())
		return;
	PortSteer *steer = port_steer_new("/proc/thread-self/ns/net", &error);
	if (steer == NULL && error->domain == CK_ERRNO_ERROR && (error->code == EPERM || error->code == EINVAL)) {
		g_test_skip_printf("no sk_lookup here: %s", error->message);
		return;
	}
	g_assert_no_error(error);
	check_steered(steer, "127.0.0.1", PORT_STEER_IPV4);
	g_assert_cmpint(port_steer_listener(steer, PORT_STEER_IPV6), >=, 0);
	check_steered(steer, "::1", PORT_STEER_IPV6);
	/* another loopback address is not ours: the kernel's own answer */
	g_assert_cmpint(dial("127.0.0.2", 80), ==, -ECONNREFUSED);

	port_steer_free(steer);
	/* detached with its fds: nothing answers any more */
	g_assert_cmpint(dial("127.0.0.1", 80), ==, -ECONNREFUSED);
	g_assert_cmpint(dial("::1", 8080), ==, -ECONNREFUSED);
}

static void test_bad_netns(void)
{
	g_autoptr(GError) error = NULL;

	g_assert_null(port_steer_new("/nonexistent/netns", &error));
	g_assert_nonnull(error);
	g_assert_cmpstr(error->message, ==, "open the network namespace /nonexistent/netns: No such file or directory");
	g_clear_error(&error);
	/* a namespace file of another type */
	g_assert_null(port_steer_new("/proc/self/ns/uts", &error));
	g_assert_nonnull(error);
	g_assert_cmpstr(error->message, ==, "enter the network namespace /proc/self/ns/uts: Invalid argument");
}

/* Without CAP_BPF, CAP_NET_ADMIN and CAP_SYS_ADMIN (what a monitor run by
 * an unprivileged user lacks): the error names the BPF step and EPERM. */
static void test_no_privilege(void)
{
	if (g_test_subprocess()) {
		struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
		struct __user_cap_data_struct data[2];
		g_autoptr(GError) error = NULL;

		g_assert_cmpint(syscall(SYS_capget, &hdr, data), ==, 0);
		for (int cap = 0; cap <= CAP_LAST_CAP; cap++) {
			if (cap == CAP_BPF || cap == CAP_NET_ADMIN || cap == CAP_SYS_ADMIN || cap == CAP_PERFMON) {
				data[cap / 32].effective &= ~(1u << (cap % 32));
				data[cap / 32].permitted &= ~(1u << (cap % 32));
			}
		}
		g_assert_cmpint(syscall(SYS_capset, &hdr, data), ==, 0);
		g_assert_null(port_steer_new("/proc/self/ns/net", &error));
		g_print("%s\n", error->message);
		return;
	}
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_passed();
	g_test_trap_assert_stdout("bpf: create a sockmap: Operation not permitted\n");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/portfwd-steer/assemble", test_assemble);
	g_test_add_func("/portfwd-steer/bad-netns", test_bad_netns);
	g_test_add_func("/portfwd-steer/steer", test_steer);
	g_test_add_func("/portfwd-steer/no-privilege", test_no_privilege);
	return g_test_run();
}
