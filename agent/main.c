/* kata-agent: the guest's PID 1.
 *
 * As PID 1 (the normal case) it brings the guest up, opens the channel to
 * the host and serves the wire protocol until told to power off. A failure
 * before the channel is open is printed on the console (which the host
 * keeps in the pod's console.log) and powers the VM off, so the host sees
 * QEMU exit at once instead of waiting for its boot timeout.
 *
 * With --fd N it serves on an already connected fd without touching the
 * machine: the protocol tests run it that way on the host.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "base/ck-parse.h"
#include "oci/oci-seccomp.h"
#include "server.h"

#define CHANNEL_TIMEOUT_MS 20000

static gboolean reap_children(gint fd, GIOCondition cond, gpointer data)
{
	Agent *agent = data;
	struct signalfd_siginfo si;

	(void)cond;
	while (ck_read_retry(fd, &si, sizeof si) == sizeof si)
		;
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG);
		if (pid <= 0)
			break;
		agent_child_exited(agent, pid, status);
	}
	return G_SOURCE_CONTINUE;
}

/* SIGCHLD through a signalfd: PID 1 must reap every orphan. */
static gboolean setup_reaper(Agent *agent, GError **error)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return ck_set_error_errno(error, errno, "sigprocmask");
	int fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return ck_set_error_errno(error, errno, "signalfd");
	g_unix_fd_add(fd, G_IO_IN, reap_children, agent);
	return TRUE;
}

static gboolean bring_up(Agent *agent, GError **error)
{
	g_autofree char *cmdline = NULL;

	/* modules first: they live in the initramfs that switch_root frees */
	if (!guest_load_modules(AGENT_MODULE_LIST, &agent->modules_loaded, error) || !guest_switch_root(error) ||
	    !guest_mount_basics(error) || !guest_loopback_up(error))
		return FALSE;
	if (!ck_file_read_bounded("/proc/cmdline", 64 * 1024, &cmdline, NULL, error))
		return FALSE;
	guest_parse_cmdline(cmdline, &agent->settings);
	if (agent->settings.debug)
		ck_log_set_level(CK_LOG_DEBUG);
	guest_report_free_pages();
	oci_seccomp_probe_kernel(&agent->seccomp_abis);
	ck_log_debug("%u modules loaded, root switched at %" G_GINT64_FORMAT " us", agent->modules_loaded,
		     guest_uptime_us());
	return TRUE;
}

static int run_as_init(Agent *agent)
{
	g_autoptr(GError) error = NULL;

	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (!bring_up(agent, &error) || !setup_reaper(agent, &error)) {
		ck_log_error("guest bring-up failed: %s", error->message);
		guest_poweroff();
	}
	int fd = guest_open_channel(&agent->settings, CHANNEL_TIMEOUT_MS, &error);
	if (fd < 0) {
		ck_log_error("no channel to the host: %s", error->message);
		guest_poweroff();
	}
	agent->ready_uptime_us = guest_uptime_us();
	agent_server_start(agent, fd);
	g_main_loop_run(agent->loop);
	guest_poweroff();
}

static int run_on_fd(Agent *agent, const char *fd_arg)
{
	g_autoptr(GError) error = NULL;
	int fd;

	if (!ck_parse_int(fd_arg, "--fd", 0, 65535, &fd, &error)) {
		ck_log_error("%s", error->message);
		return 1;
	}
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (!setup_reaper(agent, &error)) {
		ck_log_error("%s", error->message);
		return 1;
	}
	agent->ready_uptime_us = guest_uptime_us();
	agent_server_start(agent, fd);
	g_main_loop_run(agent->loop);
	return 0;
}

int main(int argc, char **argv)
{
	Agent agent = {0};

	ck_log_init("kata-agent");
	ck_log_set_level(CK_LOG_INFO);
	agent.start_uptime_us = guest_uptime_us();
	agent.loop = g_main_loop_new(NULL, FALSE);
	agent_init(&agent);
	signal(SIGPIPE, SIG_IGN);

	if (argc == 3 && g_str_equal(argv[1], "--fd"))
		return run_on_fd(&agent, argv[2]);
	if (getpid() != 1) {
		ck_log_error("must run as PID 1 in the guest (or with --fd N for testing)");
		return 1;
	}
	return run_as_init(&agent);
}
