/* qemu-vm: spawn QEMU, wait for the agent, fall back, shut down, reap. */
#include "qemu-vm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/vm_sockets.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "base/ck-socket.h"
#include "proto/ck-message.h"
#include "accel.h"
#include "console-log.h"
#include "host-cgroup.h"
#include "pod-net.h"
#include "qemu-cmdline.h"
#include "qemu-template.h"

/* fd numbers QEMU sees for its two sockets */
#define QEMU_AGENT_FD 3
#define QEMU_QMP_FD 4
#define QEMU_MONITOR_FD 5 /* the operator's extra monitor, when configured */
#define QEMU_CONSOLE_FD 6 /* the serial console's pipe (console-log.h) */
#define QEMU_NIC_FD_BASE 7 /* the taps, 7.. */
#define PARKED_FD_MIN 32   /* above the fixed numbers, below the error pipe */
#define QMP_TIMEOUT_MS 5000
#define VSOCK_FIRST_CID 3

struct QemuVm {
	pid_t pid;
	gboolean exited;
	int status;
	CkAccel accel;
	AgentClient *agent;
	QmpClient *qmp;
	ConsoleLog *console; /* holds the console log's path */
	char *qemu_log;
	gint64 spawn_us;
	gint64 ready_us;
	int vcpus, maxvcpus;
	guint32 memory_mib, maxmemory_mib, memory_slots;
	CkVersionResult info; /* the agent's version answer */
	gboolean restored; /* from a template, not booted */
};

pid_t qemu_vm_get_pid(QemuVm *vm)
{
	return vm->pid;
}

CkAccel qemu_vm_get_accel(QemuVm *vm)
{
	return vm->accel;
}

AgentClient *qemu_vm_get_agent(QemuVm *vm)
{
	return vm->agent;
}

QmpClient *qemu_vm_get_qmp(QemuVm *vm)
{
	return vm->qmp;
}

const char *qemu_vm_get_console_log(QemuVm *vm)
{
	return vm->console != NULL ? console_log_path(vm->console) : NULL;
}

char *qemu_vm_get_console_tail(QemuVm *vm)
{
	if (vm->console == NULL)
		return g_strdup("");
	console_log_drain(vm->console);
	return console_log_tail(vm->console);
}

const CkVersionResult *qemu_vm_get_guest_info(QemuVm *vm)
{
	return &vm->info;
}

gint64 qemu_vm_get_boot_us(QemuVm *vm)
{
	return vm->ready_us - vm->spawn_us;
}

static gint64 guest_clock(gint64 v, gint64 lo, gint64 hi)
{
	return CLAMP(v, lo, hi);
}

gboolean qemu_vm_is_restored(QemuVm *vm)
{
	return vm->restored;
}

void qemu_vm_get_boot_phases(QemuVm *vm, QemuVmBootPhases *out)
{
	gint64 boot = MAX(qemu_vm_get_boot_us(vm), 0);

	if (vm->restored) {
		/* no boot: the guest's clocks are the template's */
		*out = (QemuVmBootPhases){.exec_to_kernel_us = boot};
		return;
	}
	/* guest uptime when it answered: at most the host's whole boot */
	gint64 uptime = guest_clock(vm->info.uptime_us, 0, boot);
	gint64 init = guest_clock(vm->info.init_start_us, 0, uptime);
	gint64 ready = guest_clock(vm->info.ready_us, init, uptime);

	*out = (QemuVmBootPhases){
		.exec_to_kernel_us = boot - uptime,
		.kernel_to_init_us = init,
		.init_to_ready_us = ready - init,
		.ready_to_answer_us = uptime - ready,
	};
}

void qemu_vm_get_size(QemuVm *vm, QemuVmSize *out)
{
	*out = (QemuVmSize){
		.vcpus = vm->vcpus,
		.maxvcpus = vm->maxvcpus,
		.memory_mib = vm->memory_mib,
		.maxmemory_mib = vm->maxmemory_mib,
		.memory_slots = vm->memory_slots,
	};
}

static gboolean readable(const char *key, const char *path, GError **error)
{
	if (path == NULL || *path == '\0')
		return ck_set_error(error, CK_ERROR_INVALID, "%s: not set in the configuration", key);
	struct stat st;
	if (access(path, R_OK) < 0 || stat(path, &st) < 0)
		return ck_set_error_errno(error, errno, "%s: %s", key, path);
	/* a FIFO would hold QEMU's read until the boot timeout, a folder
	 * fail in QEMU's words */
	if (!S_ISREG(st.st_mode))
		return ck_set_error(error, CK_ERROR_INVALID, "%s: %s: not a regular file", key, path);
	return TRUE;
}

static gboolean preflight(const CkConfig *cfg, GError **error)
{
	const char *where = cfg->path ? cfg->path : "built-in defaults";

	if (access(cfg->hypervisor.path, X_OK) < 0)
		return ck_set_error_errno(error, errno, "hypervisor.qemu.path (%s): %s", where, cfg->hypervisor.path);
	if (!readable("hypervisor.qemu.kernel", cfg->hypervisor.kernel, error) ||
	    !readable("hypervisor.qemu.initrd", cfg->hypervisor.initrd, error)) {
		g_prefix_error(error, "%s: ", where);
		return FALSE;
	}
	return TRUE;
}

static int host_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 255 ? 255 : (int)n;
}

static guint32 host_mem_mib(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
	return pages > 0 && size > 0 ? (guint32)((guint64)pages * (guint64)size / (1024 * 1024)) : 4096;
}

static void fill_spec(VmSpec *spec, const QemuVmOptions *opts, CkAccel accel)
{
	const CkConfig *cfg = opts->config;

	spec->name = g_strdup(opts->name);
	spec->qemu_path = g_strdup(cfg->hypervisor.path);
	spec->kernel = g_strdup(cfg->hypervisor.kernel);
	spec->initrd = g_strdup(cfg->hypervisor.initrd);
	spec->machine_type = g_strdup(cfg->hypervisor.machine_type);
	spec->accel = accel;
	spec->vcpus = opts->vcpus > 0 ? opts->vcpus : cfg->hypervisor.default_vcpus;
	spec->maxvcpus = cfg->hypervisor.default_maxvcpus > 0 ? cfg->hypervisor.default_maxvcpus : host_cpus();
	spec->maxvcpus = MAX(spec->maxvcpus, spec->vcpus);
	spec->memory_mib = opts->memory_mib > 0 ? opts->memory_mib : cfg->hypervisor.default_memory;
	spec->memory_slots = cfg->hypervisor.memory_slots;
	spec->maxmemory_mib = cfg->hypervisor.default_maxmemory > 0 ? cfg->hypervisor.default_maxmemory
								    : host_mem_mib();
	if (spec->maxmemory_mib <= spec->memory_mib)
		spec->memory_slots = 0; /* nothing to hot-plug into */
	spec->kernel_params = g_strdup(cfg->hypervisor.kernel_params);
	if (accel == CK_ACCEL_TCG)
		spec->tsc_khz = accel_host_tsc_khz(opts->state_root);
	spec->debug = cfg->hypervisor.enable_debug || cfg->agent.enable_debug;
	spec->agent_channel = cfg->hypervisor.agent_channel;
	spec->vsock_cid = VSOCK_FIRST_CID + (guint32)getpid();
	spec->agent_fd = QEMU_AGENT_FD;
	spec->qmp_fd = QEMU_QMP_FD;
	if (cfg->hypervisor.shared_fs == CK_SHARED_FS_VIRTIO_9P && opts->share_dir != NULL)
		spec->share_dir = g_strdup(opts->share_dir);
	spec->msize_9p = cfg->hypervisor.msize_9p;
	spec->console_fd = QEMU_CONSOLE_FD;
	spec->pidfile = g_build_filename(opts->run_dir, "qemu.pid", NULL);
	if (cfg->hypervisor.extra_monitor_socket != NULL && *cfg->hypervisor.extra_monitor_socket != '\0') {
		spec->extra_monitor = g_build_filename(opts->run_dir, "monitor.sock", NULL);
		spec->extra_monitor_hmp = g_str_equal(cfg->hypervisor.extra_monitor_socket, "hmp");
		spec->extra_monitor_fd = QEMU_MONITOR_FD;
	}
	spec->seccompsandbox = g_strdup(cfg->hypervisor.seccompsandbox);
	spec->n_nics = MIN(opts->n_nics, QEMU_MAX_NICS);
	for (guint i = 0; i < spec->n_nics; i++) {
		spec->nics[i] = opts->nics[i];
		spec->nics[i].fd = QEMU_NIC_FD_BASE + (int)i;
	}
}

/* What QEMU keeps of our capabilities: nothing, unless it serves the
 * pod's 9p share. With security_model=none it then does, as root, what
 * the guest's root asks of files that belong to anyone: open or create
 * them (DAC_OVERRIDE), chown (CHOWN), chmod or utime a file of another
 * owner (FOWNER), keep a set-gid bit (FSETID). Measured one by one:
 * docs/security.md. */
static const cap_value_t share_caps[] = {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID};

/* The capability sets QEMU gets, prepared before the fork (libcap
 * allocates; the child only makes system calls). */
typedef struct {
	cap_t caps;		 /* permitted and effective: `keep` we hold; inheritable: none */
	gboolean drop_bounding;	 /* we hold CAP_SETPCAP: trim the bounding set to `keep` */
	const cap_value_t *keep; /* in the bounding set */
	int n_keep;
} ChildCaps;

static void child_caps_clear(ChildCaps *c)
{
	if (c->caps != NULL)
		cap_free(c->caps);
	c->caps = NULL;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ChildCaps, child_caps_clear)

static gboolean child_caps_prepare(ChildCaps *c, gboolean share, GError **error)
{
	cap_t ours = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;

	if (ours == NULL)
		return ck_set_error_errno(error, errno, "QEMU's capabilities: cap_get_proc");
	c->keep = share ? share_caps : NULL;
	c->n_keep = share ? (int)G_N_ELEMENTS(share_caps) : 0;
	c->drop_bounding = cap_get_flag(ours, CAP_SETPCAP, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET;
	c->caps = cap_init();
	for (int i = 0; c->caps != NULL && i < c->n_keep; i++) {
		/* only what we hold: cap_set_proc cannot add to the permitted set */
		if (cap_get_flag(ours, c->keep[i], CAP_PERMITTED, &v) == 0 && v == CAP_SET &&
		    (cap_set_flag(c->caps, CAP_PERMITTED, 1, &c->keep[i], CAP_SET) < 0 ||
		     cap_set_flag(c->caps, CAP_EFFECTIVE, 1, &c->keep[i], CAP_SET) < 0))
			break;
	}
	cap_free(ours);
	if (c->caps == NULL)
		return ck_set_error_errno(error, errno, "QEMU's capabilities: cap_init");
	return TRUE;
}

static gboolean kept(const ChildCaps *c, cap_value_t cap)
{
	for (int i = 0; i < c->n_keep; i++)
		if (c->keep[i] == cap)
			return TRUE;
	return FALSE;
}

/* In the child: no ambient capabilities, the bounding set trimmed (so
 * that root's exec cannot give back more), our sets set, and no way to
 * gain privileges again (no_new_privs: set-id bits and file capabilities
 * stop working). System calls only. */
static gboolean confine_caps(const ChildCaps *c)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return FALSE;
	for (cap_value_t cap = 0; c->drop_bounding && cap < (cap_value_t)cap_max_bits(); cap++)
		if (!kept(c, cap) && cap_drop_bound(cap) < 0)
			return FALSE;
	return cap_set_proc(c->caps) == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
}

typedef struct {
	int agent, qmp, console, mon, log, netns, err;
	int state; /* the template's device state, -1: none */
	const int *taps;
	guint n_taps;
	pid_t parent;
	const ChildCaps *caps;
} ChildFds;

/* Moves every fd QEMU gets to its fixed number (agent 3, QMP 4, monitor 5,
 * console 6, taps from 7) without one clobbering another: all are parked
 * above the fixed range first. Async-signal-safe. */
static gboolean place_fds(const ChildFds *f)
{
	int a = fcntl(f->agent, F_DUPFD, PARKED_FD_MIN), q = fcntl(f->qmp, F_DUPFD, PARKED_FD_MIN);
	int con = fcntl(f->console, F_DUPFD, PARKED_FD_MIN);
	int mon = f->mon >= 0 ? fcntl(f->mon, F_DUPFD, PARKED_FD_MIN) : -1;
	int state = f->state >= 0 ? fcntl(f->state, F_DUPFD, PARKED_FD_MIN) : -1;
	int taps[QEMU_MAX_NICS];

	if (a < 0 || q < 0 || con < 0 || (f->mon >= 0 && mon < 0) || (f->state >= 0 && state < 0) || f->n_taps > QEMU_MAX_NICS)
		return FALSE;
	for (guint i = 0; i < f->n_taps; i++)
		if ((taps[i] = fcntl(f->taps[i], F_DUPFD, PARKED_FD_MIN)) < 0)
			return FALSE;
	if (dup2(a, QEMU_AGENT_FD) < 0 || dup2(q, QEMU_QMP_FD) < 0 || dup2(con, QEMU_CONSOLE_FD) < 0)
		return FALSE;
	if (mon >= 0 && dup2(mon, QEMU_MONITOR_FD) < 0)
		return FALSE;
	if (mon < 0)
		close(QEMU_MONITOR_FD);
	for (guint i = 0; i < f->n_taps; i++)
		if (dup2(taps[i], QEMU_NIC_FD_BASE + (int)i) < 0)
			return FALSE;
	/* after the taps; its number is in the migrate(-incoming) URI */
	if (state >= 0 && dup2(state, QEMU_NIC_FD_BASE + (int)f->n_taps) < 0)
		return FALSE;
	return TRUE;
}

/* After fork, before exec: only async-signal-safe calls; on failure the
 * child writes errno to err_fd and exits 127. */
G_NORETURN static void exec_child(char **argv, const ChildFds *fds)
{
	sigset_t all;
	int e, err_fd;

	/* park the error pipe above everything we are about to rearrange */
	if ((e = fcntl(fds->err, F_DUPFD_CLOEXEC, 64)) < 0)
		_exit(127);
	err_fd = e;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	/* QEMU must not outlive the monitor, even one that died before this */
	if (!ck_die_with_parent(fds->parent))
		goto fail;
	if (setsid() < 0)
		goto fail;
	if (fds->netns >= 0 && setns(fds->netns, CLONE_NEWNET) < 0)
		goto fail;

	int devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(fds->log, 1) < 0 || dup2(fds->log, 2) < 0)
		goto fail;
	if (!place_fds(fds) || !confine_caps(fds->caps))
		goto fail;
	/* nothing else of ours, or inherited from our caller, reaches QEMU */
	for (int fd = QEMU_NIC_FD_BASE + (int)fds->n_taps + (fds->state >= 0); fd < err_fd; fd++)
		close(fd);
	close_range((unsigned)err_fd + 1, ~0U, 0);
	execv(argv[0], argv);
fail:
	e = errno;
	(void)!write(err_fd, &e, sizeof e);
	_exit(127);
}

static gboolean spawn(QemuVm *vm, const VmSpec *spec, const QemuVmOptions *opts, const int ends[3], int state_fd,
		      GError **error)
{
	g_autoptr(GPtrArray) argv = qemu_cmdline_build(spec, error);
	if (argv == NULL)
		return FALSE;
	if (ck_log_get_level() >= CK_LOG_DEBUG) {
		g_autofree char *line = g_strjoinv(" ", (char **)argv->pdata);
		ck_log_debug("starting %s", line);
	}

	ck_autofd log_fd = open(vm->qemu_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (log_fd < 0)
		return ck_set_error_errno(error, errno, "%s", vm->qemu_log);
	ck_autofd mon_fd = -1;
	if (spec->extra_monitor != NULL) {
		mon_fd = ck_unix_listen(spec->extra_monitor, SOCK_STREAM, 0, 0600, 4, error);
		if (mon_fd < 0)
			return g_prefix_error(error, "extra_monitor_socket: "), FALSE;
	}
	ck_autofd netns_fd = -1;
	if (opts->netns_path != NULL && (netns_fd = pod_net_open_netns(opts->netns_path, error)) < 0)
		return FALSE;
	int taps[QEMU_MAX_NICS];
	for (guint i = 0; i < spec->n_nics; i++)
		taps[i] = opts->nics[i].fd;
	g_auto(ChildCaps) caps = {0};
	if (!child_caps_prepare(&caps, spec->share_dir != NULL, error))
		return FALSE;
	int errpipe[2];
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return ck_set_error_errno(error, errno, "pipe");
	ck_autofd err_r = errpipe[0], err_w = errpipe[1];

	vm->spawn_us = g_get_monotonic_time();
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return ck_set_error_errno(error, errno, "fork");
	if (pid == 0) {
		ChildFds fds = {.agent = ends[0], .qmp = ends[1], .console = ends[2], .mon = mon_fd,
				.log = log_fd, .netns = netns_fd, .err = err_w, .state = state_fd,
				.taps = taps, .n_taps = spec->n_nics, .parent = parent, .caps = &caps};
		exec_child((char **)argv->pdata, &fds);
	}
	vm->pid = pid;

	/* exec succeeded iff the CLOEXEC pipe closes without a word */
	ck_clear_fd(&err_w);
	int child_errno = 0;
	if (ck_read_retry(err_r, &child_errno, sizeof child_errno) == sizeof child_errno)
		return ck_set_error_errno(error, child_errno, "start %s", spec->qemu_path);
	return TRUE;
}

static char *last_line_of(const char *path)
{
	g_autofree char *data = NULL;
	gsize len = 0;

	if (!ck_file_read_bounded(path, 1024 * 1024, &data, &len, NULL))
		return NULL;
	g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
	for (int i = (int)g_strv_length(lines) - 1; i >= 0; i--) {
		g_strstrip(lines[i]);
		if (lines[i][0] != '\0')
			return g_strdup(lines[i]);
	}
	return NULL;
}

static void reap_blocking(QemuVm *vm)
{
	while (!vm->exited && vm->pid > 0) {
		int status;
		pid_t r = waitpid(vm->pid, &status, 0);
		if (r == vm->pid)
			qemu_vm_notify_exited(vm, status);
		else if (r < 0 && errno != EINTR)
			vm->exited = TRUE; /* ECHILD: someone else reaped it */
	}
}

/* QEMU ended before the agent answered: say why in one line. */
static gboolean explain_early_exit(QemuVm *vm, const char *accel, GError **error)
{
	g_autofree char *qemu_says = NULL;

	reap_blocking(vm);
	qemu_says = last_line_of(vm->qemu_log);
	if (qemu_says != NULL)
		return ck_set_error(error, CK_ERROR_FAILED, "QEMU (%s) exited before the guest agent answered: %s",
				    accel, qemu_says);
	if (WIFSIGNALED(vm->status))
		return ck_set_error(error, CK_ERROR_FAILED,
				    "QEMU (%s) was killed by signal %d before the guest agent answered", accel,
				    WTERMSIG(vm->status));
	return ck_set_error(error, CK_ERROR_FAILED,
			    "the %s guest stopped before its agent answered (kernel or initrd unbootable?); "
			    "console log: %s",
			    accel, qemu_vm_get_console_log(vm));
}

static gboolean query_version(QemuVm *vm, int timeout_ms, GError **error)
{
	CkVersionArgs args = {.protocol = CK_PROTO_VERSION};

	ck_msg_clear_result(CK_OP_VERSION, &vm->info);
	return agent_client_op(vm->agent, CK_OP_VERSION, &args, &vm->info, timeout_ms, error);
}

static gboolean wait_agent(QemuVm *vm, const AccelPlan *plan, GError **error)
{
	const char *accel = ck_accel_to_string(plan->accel);
	gint64 deadline = vm->spawn_us + (gint64)plan->timeout_ms * 1000;
	g_autoptr(GError) local = NULL;

	if (agent_client_wait_ready(vm->agent, ck_deadline_remaining_ms(deadline), &local) &&
	    query_version(vm, MAX(ck_deadline_remaining_ms(deadline), 1000), &local)) {
		vm->ready_us = g_get_monotonic_time();
		return TRUE;
	}
	if (ck_error_is(local, CK_ERROR_DISCONNECTED))
		return explain_early_exit(vm, accel, error);
	if (ck_error_is(local, CK_ERROR_TIMEOUT))
		return ck_set_error(error, CK_ERROR_TIMEOUT,
				    "%s boot did not reach the guest agent within %.1f s; console log: %s", accel,
				    plan->timeout_ms / 1000.0, qemu_vm_get_console_log(vm));
	g_propagate_error(error, g_steal_pointer(&local));
	return FALSE;
}

static int connect_vsock(guint32 cid, gint64 deadline, GError **error)
{
	struct sockaddr_vm addr = {.svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = 1024};

	for (;;) {
		int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return ck_set_error_errno(error, errno, "vsock socket"), -1;
		if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0)
			return fd;
		close(fd);
		if (ck_deadline_remaining_ms(deadline) == 0)
			return ck_set_error(error, CK_ERROR_TIMEOUT, "vsock cid %u: agent not listening", cid), -1;
		g_usleep(20000);
	}
}

static gboolean cancelled(const QemuVmOptions *opts)
{
	return opts->cancel != NULL && opts->cancel(opts->cancel_data);
}

/* How a VM starts: booted (the default), booted as a template (its RAM a
 * shared file, no operator monitor, its state to be saved in state_fd), or
 * restored as a clone (its RAM the template's file mapped privately, its
 * devices from state_fd, docs/templating.md). */
typedef struct {
	const char *ram_file;
	gboolean ram_shared;
	gboolean clone;
	int state_fd; /* -1: none */
} VmLaunch;

static const VmLaunch plain_boot = {.state_fd = -1};

/* Booted to become a template: its RAM a file every clone will map. */
static gboolean launch_makes_template(const VmLaunch *launch)
{
	return launch->ram_file != NULL && launch->ram_shared;
}

static void apply_launch(VmSpec *spec, const VmLaunch *launch)
{
	spec->ram_file = g_strdup(launch->ram_file);
	spec->ram_shared = launch->ram_shared;
	spec->incoming = launch->clone;
	if (launch_makes_template(launch))
		g_clear_pointer(&spec->extra_monitor, g_free); /* the template's QEMU is ours alone */
}

static QemuVm *start_vm(const QemuVmOptions *opts, const AccelPlan *plan, const VmLaunch *launch, VmSpec *spec,
			int *out_agent_fd, GError **error)
{
	g_autoptr(QemuVm) vm = g_new0(QemuVm, 1);
	int agent_pair[2], qmp_pair[2];

	vm->accel = plan->accel;
	vm->qemu_log = g_build_filename(opts->run_dir, "qemu.log", NULL);
	fill_spec(spec, opts, plan->accel);
	apply_launch(spec, launch);
	vm->vcpus = spec->vcpus;
	vm->maxvcpus = spec->maxvcpus;
	vm->memory_mib = spec->memory_mib;
	vm->maxmemory_mib = spec->memory_slots > 0 ? spec->maxmemory_mib : spec->memory_mib;
	vm->memory_slots = spec->memory_slots;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, agent_pair) < 0)
		return ck_set_error_errno(error, errno, "socketpair"), NULL;
	ck_autofd agent_ours = agent_pair[0], agent_theirs = agent_pair[1];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, qmp_pair) < 0)
		return ck_set_error_errno(error, errno, "socketpair"), NULL;
	ck_autofd qmp_ours = qmp_pair[0], qmp_theirs = qmp_pair[1];
	ck_autofd console_theirs = -1;
	g_autofree char *console_log = g_build_filename(opts->run_dir, "console.log", NULL);
	vm->console = console_log_new(console_log, opts->config->hypervisor.console_log_size_max, opts->context,
				      &console_theirs, error);
	if (vm->console == NULL)
		return NULL;

	int ends[3] = {agent_theirs, qmp_theirs, console_theirs};
	/* `spawned` undoes a `spawning` that failed half-way too */
	gboolean spawned = (opts->spawning == NULL || opts->spawning(opts->spawn_data, error)) &&
			   spawn(vm, spec, opts, ends, launch->state_fd, error);
	if (opts->spawned != NULL)
		opts->spawned(opts->spawn_data);
	if (!spawned)
		return NULL;
	/* The template's memory outlives its QEMU in the template's file and
	 * is every clone's: charged to no pod. Moved right after its exec,
	 * tens of milliseconds before QEMU has set itself up and loads the
	 * guest into that memory (a page touched before the move would stay
	 * charged where it was). */
	g_autoptr(GError) charge_error = NULL;
	if (launch_makes_template(launch) && !host_cgroup_charge_to_root(vm->pid, &charge_error))
		ck_log_warning("the VM template's memory stays charged to this process's cgroup: %s",
			       charge_error->message);
	vm->qmp = qmp_client_new(ck_steal_fd(&qmp_ours));
	*out_agent_fd = ck_steal_fd(&agent_ours);
	return g_steal_pointer(&vm);
}

static QemuVm *boot_once(const QemuVmOptions *opts, const AccelPlan *plan, const VmLaunch *launch, GError **error)
{
	g_auto(VmSpec) spec = {0};
	ck_autofd agent_fd = -1;
	g_autoptr(QemuVm) vm = start_vm(opts, plan, launch, &spec, &agent_fd, error);

	if (vm == NULL)
		return NULL;
	if (spec.agent_channel == CK_AGENT_CHANNEL_VSOCK) {
		gint64 deadline = vm->spawn_us + (gint64)plan->timeout_ms * 1000;
		int fd = connect_vsock(spec.vsock_cid, deadline, error);
		if (fd < 0)
			return NULL;
		ck_clear_fd(&agent_fd);
		agent_fd = fd;
	}
	vm->agent = agent_client_new(ck_steal_fd(&agent_fd), opts->context);
	if (opts->cancel != NULL)
		agent_client_set_cancel_func(vm->agent, opts->cancel, opts->cancel_data);
	if (!wait_agent(vm, plan, error))
		return NULL;
	/* the QMP greeting is long there by now; a failure means QEMU is sick */
	if (!qmp_client_handshake(vm->qmp, QMP_TIMEOUT_MS, error))
		return NULL;
	return g_steal_pointer(&vm);
}

/* ---- VM templating (docs/templating.md) ---------------------------------------- */

#define TEMPLATE_RESTORE_TIMEOUT_MS 15000
#define CLONE_ENTROPY_BYTES 64
#define TEMPLATE_CLOCK_CHECK_MS 1000
#define TEMPLATE_CLOCK_TOLERANCE 0.10
#define TEMPLATE_MAKE_ATTEMPTS 3

static gboolean qmp_run(QemuVm *vm, const char *command, CkJsonGen *args, yajl_val *out, GError **error)
{
	return qmp_client_execute(vm->qmp, command, args, QMP_TIMEOUT_MS, out, error);
}

/* {"uri": uri} */
static CkJsonGen *uri_args(const char *uri)
{
	CkJsonGen *g = ck_json_gen_new();

	ck_json_map_open(g);
	ck_json_kv_string(g, "uri", uri);
	ck_json_map_close(g);
	return g;
}

static CkJsonGen *migration_uri(const VmSpec *spec)
{
	g_autofree char *uri = g_strdup_printf("fd:%d", QEMU_NIC_FD_BASE + (int)spec->n_nics);

	return uri_args(uri);
}

/* The saved state reaches a clone as an inherited fd (a number in the
 * URI); QEMU's outgoing side takes only a named one (getfd). */
/* Polls `query` every poll_us until its "status" is none of `busy`;
 * returns it. */
static char *wait_status(QemuVm *vm, const char *query, const char *const *busy, int poll_us, int timeout_ms,
			 GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	for (;;) {
		g_auto(yajl_val) tree = NULL;
		yajl_val ret = NULL;
		if (qemu_vm_has_exited(vm, NULL))
			return ck_set_error(error, CK_ERROR_DISCONNECTED, "QEMU exited during %s", query), NULL;
		if (!qmp_client_execute(vm->qmp, query, NULL, QMP_TIMEOUT_MS, &ret, error))
			return NULL;
		tree = ret;
		yajl_val v = ck_json_get(ck_json_get(ret, "return"), "status");
		const char *status = YAJL_IS_STRING(v) ? v->u.string : NULL;
		if (status != NULL && !g_strv_contains(busy, status))
			return g_strdup(status);
		if (ck_deadline_remaining_ms(deadline) == 0)
			return ck_set_error(error, CK_ERROR_TIMEOUT, "%s: still '%s' after %d ms", query,
					    status ? status : "?", timeout_ms),
			       NULL;
		g_usleep(poll_us);
	}
}

/* {"capabilities": [{"capability": "x-ignore-shared", "state": true}]} */
static CkJsonGen *ignore_shared(void)
{
	CkJsonGen *g = ck_json_gen_new();

	ck_json_map_open(g);
	ck_json_key(g, "capabilities");
	ck_json_array_open(g);
	ck_json_map_open(g);
	ck_json_kv_string(g, "capability", "x-ignore-shared");
	ck_json_kv_bool(g, "state", TRUE);
	ck_json_close_all(g);
	return g;
}

/* The template VM, its agent up: paused, its device state saved (its RAM
 * stays in the shared file: x-ignore-shared), QEMU told to quit. */
static gboolean save_template(QemuVm *vm, int state_fd, GError **error)
{
	g_autofree char *status = NULL;
	g_autoptr(CkJsonGen) caps = ignore_shared();
	g_autoptr(CkJsonGen) to = uri_args("fd:state");

	if (!qmp_client_pass_fd(vm->qmp, state_fd, "state", QMP_TIMEOUT_MS, error) ||
	    !qmp_run(vm, "stop", NULL, NULL, error) || !qmp_run(vm, "migrate-set-capabilities", caps, NULL, error) ||
	    !qmp_run(vm, "migrate", to, NULL, error))
		return FALSE;
	static const char *const saving[] = {"none", "setup", "active", "device", NULL};
	status = wait_status(vm, "query-migrate", saving, 5000, TEMPLATE_RESTORE_TIMEOUT_MS, error);
	if (status == NULL)
		return FALSE;
	if (!g_str_equal(status, "completed"))
		return ck_set_error(error, CK_ERROR_FAILED, "saving the template's state ended '%s'", status);
	(void)qmp_run(vm, "quit", NULL, NULL, NULL);
	reap_blocking(vm);
	return TRUE;
}

/* The guest's CLOCK_BOOTTIME, read at some moment between *out_before_us
 * and *out_after_us of the host's monotonic clock. */
static gboolean guest_uptime(QemuVm *vm, gint64 *out_guest_us, gint64 *out_before_us, gint64 *out_after_us,
			     GError **error)
{
	CkVersionResult result = {0};

	*out_before_us = g_get_monotonic_time();
	gboolean ok = agent_client_op(vm->agent, CK_OP_VERSION, NULL, &result, QMP_TIMEOUT_MS, error);
	*out_after_us = g_get_monotonic_time();
	*out_guest_us = result.uptime_us;
	ck_msg_clear_result(CK_OP_VERSION, &result);
	return ok;
}

/* The guest calibrated its TSC once, at boot, under whatever load the
 * host had then; every clone keeps that calibration and so its clock's
 * pace. A template whose guest clock certainly does not keep the host's
 * (even counting the calls' own delays in its favour) is not kept. */
static gboolean check_guest_clock(QemuVm *vm, GError **error)
{
	gint64 g0, b0, a0, g1, b1, a1;

	if (!guest_uptime(vm, &g0, &b0, &a0, error))
		return FALSE;
	g_usleep(TEMPLATE_CLOCK_CHECK_MS * 1000);
	if (!guest_uptime(vm, &g1, &b1, &a1, error))
		return FALSE;
	/* the guest's interval against the shortest and longest host one */
	double slowest = (double)(g1 - g0) / (double)MAX(a1 - b0, 1);
	double fastest = (double)(g1 - g0) / (double)MAX(b1 - a0, 1);
	if (slowest > 1 + TEMPLATE_CLOCK_TOLERANCE || fastest < 1 - TEMPLATE_CLOCK_TOLERANCE)
		return ck_set_error(error, CK_ERROR_FAILED,
				    "the template's guest clock ran at %.2f-%.2f times the host's pace; not kept",
				    slowest, fastest);
	return TRUE;
}

/* One boot of the template VM. *clock_off when only its clock failed;
 * *boot_failed when it did not boot at all: then the error is the boot's
 * own, as a boot without a template would most likely have it. */
static gboolean make_template_once(const QemuVmOptions *opts, const AccelPlan *plan, const QemuTemplate *t,
				   const VmSpec *clone_spec, gint64 start, gboolean *clock_off, gboolean *boot_failed,
				   GError **error)
{
	ck_autofd state_fd = -1;
	g_autofree char *dir = qemu_template_begin(t, clone_spec->memory_mib, &state_fd, error);
	if (dir == NULL)
		return FALSE;
	g_autofree char *memory = g_build_filename(dir, "memory", NULL);
	g_autofree char *share = g_build_filename(dir, "share", NULL);
	/* the pod-independent VM: no NIC, an empty share never mounted */
	QemuVmOptions topts = {
		.config = opts->config,
		.run_dir = dir,
		.state_root = opts->state_root,
		.name = "vm-template",
		.share_dir = clone_spec->share_dir != NULL ? share : NULL,
		.vcpus = clone_spec->vcpus,
		.memory_mib = clone_spec->memory_mib,
		.context = opts->context,
		.cancel = opts->cancel,
		.cancel_data = opts->cancel_data,
	};
	VmLaunch launch = {.ram_file = memory, .ram_shared = TRUE, .state_fd = -1};
	g_autoptr(QemuVm) vm = boot_once(&topts, plan, &launch, error);
	if (vm == NULL) {
		*boot_failed = TRUE;
		(void)ck_rm_rf(dir, NULL);
		return FALSE;
	}
	if (!check_guest_clock(vm, error))
		*clock_off = TRUE;
	if (*clock_off || !save_template(vm, state_fd, error) ||
	    !qemu_template_commit(t, dir, g_get_monotonic_time() - start, error)) {
		g_clear_pointer(&vm, qemu_vm_free);
		(void)ck_rm_rf(dir, NULL);
		g_prefix_error(error, "making the VM template: ");
		return FALSE;
	}
	ck_log_info("VM template %.12s made in %.2f s", t->key, (g_get_monotonic_time() - start) / 1e6);
	return TRUE;
}

/* A guest whose clock is off is a boot that went wrong (docs/templating.md):
 * another boot is tried, a few times at most. */
static gboolean make_template(const QemuVmOptions *opts, const AccelPlan *plan, const QemuTemplate *t,
			      const VmSpec *clone_spec, gboolean *boot_failed, GError **error)
{
	gint64 start = g_get_monotonic_time();

	for (int attempt = 1;; attempt++) {
		g_autoptr(GError) local = NULL;
		gboolean clock_off = FALSE;
		if (make_template_once(opts, plan, t, clone_spec, start, &clock_off, boot_failed, &local))
			return TRUE;
		if (!clock_off || attempt == TEMPLATE_MAKE_ATTEMPTS || cancelled(opts)) {
			g_propagate_error(error, g_steal_pointer(&local));
			return FALSE;
		}
		ck_log_info("%s; booting the template VM again", local->message);
	}
}

/* The template exists afterwards, made by us or by whoever held the lock. */
static gboolean ensure_template(const QemuVmOptions *opts, const AccelPlan *plan, const QemuTemplate *t,
				const VmSpec *spec, gboolean *boot_failed, GError **error)
{
	if (qemu_template_is_ready(t))
		return TRUE;
	/* a racing maker holds the lock for about one boot */
	ck_autofd lock = qemu_template_lock(t, plan->timeout_ms * 2, error);
	if (lock < 0)
		return FALSE;
	return qemu_template_is_ready(t) || make_template(opts, plan, t, spec, boot_failed, error);
}

/* The agent said "ready" once, in the template: its answers to version
 * and to clone_identity, sent back to back, prove it alive, and the
 * latter makes the guest the clone's own: host entropy into its kernel
 * RNG, the host's wall clock, its NICs found (docs/templating.md). */
static gboolean greet_clone(QemuVm *vm, guint n_nics, int timeout_ms, GError **error)
{
	guint8 entropy[CLONE_ENTROPY_BYTES];
	struct timespec now;

	if (getrandom(entropy, sizeof entropy, 0) != sizeof entropy)
		return ck_set_error_errno(error, errno, "getrandom");
	g_autofree char *b64 = g_base64_encode(entropy, sizeof entropy);
	explicit_bzero(entropy, sizeof entropy);
	clock_gettime(CLOCK_REALTIME, &now);
	CkVersionArgs version = {.protocol = CK_PROTO_VERSION};
	CkCloneIdentityArgs identity = {
	    .entropy = b64,
	    .realtime_ns = (gint64)now.tv_sec * 1000000000 + now.tv_nsec,
	    .rescan_pci = n_nics > 0,
	};
	const AgentOpCall calls[] = {
	    {CK_OP_VERSION, &version, &vm->info},
	    {CK_OP_CLONE_IDENTITY, &identity, NULL},
	};
	ck_msg_clear_result(CK_OP_VERSION, &vm->info);
	gboolean ok = agent_client_ops(vm->agent, calls, G_N_ELEMENTS(calls), timeout_ms, error);
	explicit_bzero(b64, strlen(b64));
	return ok;
}

static gboolean load_clone_state(QemuVm *vm, const VmSpec *spec, int timeout_ms, GError **error)
{
	g_autoptr(CkJsonGen) from = migration_uri(spec);
	g_autoptr(CkJsonGen) caps = ignore_shared();
	g_autofree char *status = NULL;

	if (!qmp_client_handshake(vm->qmp, timeout_ms, error) ||
	    !qmp_run(vm, "migrate-set-capabilities", caps, NULL, error) ||
	    !qmp_run(vm, "migrate-incoming", from, NULL, error))
		return FALSE;
	static const char *const loading[] = {"inmigrate", NULL};
	/* a load takes about 10 ms: every millisecond of polling shows */
	status = wait_status(vm, "query-status", loading, 1000, timeout_ms, error);
	if (status == NULL)
		return FALSE;
	if (g_str_equal(status, "paused"))
		return qmp_run(vm, "cont", NULL, NULL, error);
	if (!g_str_equal(status, "running"))
		return ck_set_error(error, CK_ERROR_FAILED, "the restored VM is '%s'", status);
	return TRUE;
}

static QemuVm *restore_clone(const QemuVmOptions *opts, const AccelPlan *plan, const QemuTemplate *t,
			     GError **error)
{
	g_auto(VmSpec) spec = {0};
	ck_autofd agent_fd = -1;
	int timeout_ms = MIN(plan->timeout_ms, TEMPLATE_RESTORE_TIMEOUT_MS);
	ck_autofd state_fd = open(t->state, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (state_fd < 0)
		return ck_set_error_errno(error, errno, "%s", t->state), NULL;

	VmLaunch launch = {.ram_file = t->memory, .clone = TRUE, .state_fd = state_fd};
	g_autoptr(QemuVm) vm = start_vm(opts, plan, &launch, &spec, &agent_fd, error);
	if (vm == NULL)
		return NULL;
	ck_clear_fd(&state_fd);
	vm->restored = TRUE;
	vm->agent = agent_client_new(ck_steal_fd(&agent_fd), opts->context);
	if (opts->cancel != NULL)
		agent_client_set_cancel_func(vm->agent, opts->cancel, opts->cancel_data);
	if (!load_clone_state(vm, &spec, timeout_ms, error) || !greet_clone(vm, spec.n_nics, timeout_ms, error)) {
		if (qemu_vm_has_exited(vm, NULL) || ck_error_is(*error, CK_ERROR_DISCONNECTED)) {
			g_autofree char *qemu_says = (reap_blocking(vm), last_line_of(vm->qemu_log));
			if (qemu_says != NULL)
				g_prefix_error(error, "%s: ", qemu_says);
		}
		return NULL;
	}
	vm->ready_us = g_get_monotonic_time();
	return g_steal_pointer(&vm);
}

static gboolean template_for(const QemuVmOptions *opts, const AccelPlan *plan, QemuTemplate *t, VmSpec *spec,
			     GError **error)
{
	fill_spec(spec, opts, plan->accel);
	return qemu_template_init(t, opts->config, opts->state_root, spec, error);
}

gboolean qemu_vm_template_ensure(const QemuVmOptions *opts, char **out_key, gboolean *out_made, GError **error)
{
	g_auto(AccelPlan) plan = {0};
	g_auto(VmSpec) spec = {0};
	g_auto(QemuTemplate) t = {0};

	if (!preflight(opts->config, error) || !accel_plan(opts->config, opts->state_root, &plan, error) ||
	    !template_for(opts, &plan, &t, &spec, error))
		return FALSE;
	*out_made = !qemu_template_is_ready(&t);
	gboolean boot_failed = FALSE;
	if (!ensure_template(opts, &plan, &t, &spec, &boot_failed, error))
		return FALSE;
	*out_key = g_strdup(t.key);
	return TRUE;
}

char *qemu_vm_template_key(const QemuVmOptions *opts, GError **error)
{
	g_auto(AccelPlan) plan = {0};
	g_auto(VmSpec) spec = {0};
	g_auto(QemuTemplate) t = {0};

	if (!accel_plan(opts->config, opts->state_root, &plan, error) || !template_for(opts, &plan, &t, &spec, error))
		return NULL;
	return g_strdup(t.key);
}

/* A VM from the template, making the template first if there is none.
 * NULL with an error when this VM cannot or could not come from one. */
static QemuVm *from_template(const QemuVmOptions *opts, const AccelPlan *plan, gboolean *boot_failed,
			      GError **error)
{
	g_auto(VmSpec) spec = {0};
	g_auto(QemuTemplate) t = {0};

	if (plan->fallback_to_tcg)
		return ck_set_error(error, CK_ERROR_UNSUPPORTED, "VM template: accel = \"auto\" has not settled yet"),
		       NULL;
	if (!template_for(opts, plan, &t, &spec, error) || !ensure_template(opts, plan, &t, &spec, boot_failed, error))
		return NULL;
	QemuVm *vm = restore_clone(opts, plan, &t, error);
	if (vm == NULL && !cancelled(opts)) {
		/* the next VM makes a fresh one */
		ck_autofd lock = qemu_template_lock(&t, plan->timeout_ms, NULL);
		(void)qemu_template_discard(&t, NULL);
		g_prefix_error(error, "VM template %.12s: ", t.key);
	}
	return vm;
}

QemuVm *qemu_vm_boot(const QemuVmOptions *opts, GError **error)
{
	g_auto(AccelPlan) plan = {0};
	g_autoptr(GError) kvm_error = NULL;

	if (!preflight(opts->config, error) || !accel_plan(opts->config, opts->state_root, &plan, error))
		return NULL;
	ck_log_debug("booting with %s: %s", ck_accel_to_string(plan.accel), plan.reason);

	if (opts->config->factory.enable_template) {
		g_autoptr(GError) template_error = NULL;
		gboolean boot_failed = FALSE;
		QemuVm *vm = from_template(opts, &plan, &boot_failed, &template_error);
		/* a template VM that did not boot: this one would not either */
		if (vm != NULL || boot_failed || cancelled(opts)) {
			if (vm == NULL)
				g_propagate_error(error, g_steal_pointer(&template_error));
			return vm;
		}
		ck_log_warning("%s; booting instead", template_error->message);
	}
	QemuVm *vm = boot_once(opts, &plan, &plain_boot, &kvm_error);
	if (vm != NULL) {
		if (plan.fallback_to_tcg)
			accel_verdict_store(opts->state_root, ACCEL_VERDICT_KVM_WORKS, "a KVM guest reached its agent");
		return vm;
	}
	if (!plan.fallback_to_tcg || cancelled(opts)) {
		g_propagate_error(error, g_steal_pointer(&kvm_error));
		return NULL;
	}
	/* Nested KVM fails in more than one way: the guest hangs (timeout) or
	 * QEMU dies setting up the vCPU. Either way TCG is the answer. */
	ck_log_warning("%s; retrying with TCG (software emulation)", kvm_error->message);
	AccelPlan tcg = {
		.accel = CK_ACCEL_TCG,
		.timeout_ms = opts->config->hypervisor.boot_timeout * 1000,
	};
	vm = boot_once(opts, &tcg, &plain_boot, error);
	/* only a TCG success proves that KVM, not the guest image, was at fault */
	if (vm != NULL) {
		ck_log_warning("KVM guests do not boot on this host; later VMs use TCG until the host reboots "
			       "(verdict cached in the runtime root)");
		accel_verdict_store(opts->state_root, ACCEL_VERDICT_KVM_HANGS, kvm_error->message);
	}
	return vm;
}

void qemu_vm_notify_exited(QemuVm *vm, int status)
{
	vm->exited = TRUE;
	vm->status = status;
	/* its last words, before anyone looks */
	if (vm->console != NULL)
		console_log_drain(vm->console);
}

gboolean qemu_vm_has_exited(QemuVm *vm, int *out_status)
{
	if (!vm->exited && vm->pid > 0) {
		int status;
		pid_t r = waitpid(vm->pid, &status, WNOHANG);
		if (r == vm->pid)
			qemu_vm_notify_exited(vm, status);
		else if (r < 0 && errno == ECHILD)
			vm->exited = TRUE; /* the owner's reaper got it (and tells us) */
	}
	if (vm->exited && out_status != NULL)
		*out_status = vm->status;
	return vm->exited;
}

void qemu_vm_kill(QemuVm *vm)
{
	if (vm->pid > 0 && !vm->exited) {
		(void)kill(vm->pid, SIGKILL);
		reap_blocking(vm);
	}
}

/* Waits up to timeout_ms for QEMU to exit by itself, woken by the exit
 * through a pidfd (polling every 10 ms cost a pod's stop 5 ms on average,
 * on the way to its exit file); polled where the kernel has no pidfd_open
 * (< 5.3). A QEMU that the owner's reaper got earlier (from a main loop
 * iteration while an agent call waited) is vm->exited already; nothing
 * reaps it during the poll, which runs no main loop. */
static gboolean wait_exit(QemuVm *vm, int timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	ck_autofd pidfd = vm->exited || vm->pid <= 0 ? -1 : (int)syscall(SYS_pidfd_open, vm->pid, 0);

	while (!qemu_vm_has_exited(vm, NULL)) {
		int left = ck_deadline_remaining_ms(deadline);
		if (left == 0)
			return FALSE;
		if (pidfd >= 0) {
			struct pollfd p = {.fd = pidfd, .events = POLLIN};
			(void)poll(&p, 1, left);
		} else {
			g_usleep((gulong)MIN(left, 10) * 1000);
		}
	}
	return TRUE;
}

gboolean qemu_vm_shutdown(QemuVm *vm, int timeout_ms, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	if (vm->exited)
		return TRUE;
	if (vm->agent != NULL && !agent_client_is_closed(vm->agent)) {
		if (agent_client_op(vm->agent, CK_OP_SHUTDOWN, NULL, NULL, ck_deadline_remaining_ms(deadline) / 2,
				    NULL) &&
		    wait_exit(vm, ck_deadline_remaining_ms(deadline) / 2))
			return TRUE;
	}
	if (vm->qmp != NULL && qmp_client_execute(vm->qmp, "quit", NULL, MIN(ck_deadline_remaining_ms(deadline), 1000),
						  NULL, NULL) &&
	    wait_exit(vm, MAX(ck_deadline_remaining_ms(deadline), 100)))
		return TRUE;
	qemu_vm_kill(vm);
	return ck_set_error(error, CK_ERROR_TIMEOUT, "QEMU did not stop within %d ms; killed", timeout_ms);
}

void qemu_vm_free(QemuVm *vm)
{
	if (vm == NULL)
		return;
	agent_client_free(vm->agent);
	qmp_client_free(vm->qmp);
	qemu_vm_kill(vm);
	console_log_free(vm->console);
	ck_msg_clear_result(CK_OP_VERSION, &vm->info);
	g_free(vm->qemu_log);
	g_free(vm);
}
