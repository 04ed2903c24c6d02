/* qemu-vm: spawn QEMU, wait for the agent, fall back, shut down, reap. */
#include "qemu-vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "base/ck-socket.h"
#include "proto/ck-message.h"
#include "accel.h"
#include "pod-net.h"
#include "qemu-cmdline.h"

/* fd numbers QEMU sees for its two sockets */
#define QEMU_AGENT_FD 3
#define QEMU_QMP_FD 4
#define QEMU_MONITOR_FD 5 /* the operator's extra monitor, when configured */
#define QEMU_NIC_FD_BASE 6 /* the taps, 6.. */
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
	char *console_log;
	char *qemu_log;
	gint64 spawn_us;
	gint64 ready_us;
	int vcpus, maxvcpus;
	guint32 memory_mib, maxmemory_mib, memory_slots;
	yajl_val info_tree;
	yajl_val info;
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
	return vm->console_log;
}

yajl_val qemu_vm_get_guest_info(QemuVm *vm)
{
	return vm->info;
}

gint64 qemu_vm_get_boot_us(QemuVm *vm)
{
	return vm->ready_us - vm->spawn_us;
}

static gint64 guest_clock(QemuVm *vm, const char *key, gint64 lo, gint64 hi)
{
	gint64 v = 0;
	(void)ck_json_as_int64(ck_json_get(vm->info, key), &v);
	return CLAMP(v, lo, hi);
}

void qemu_vm_get_boot_phases(QemuVm *vm, QemuVmBootPhases *out)
{
	gint64 boot = MAX(qemu_vm_get_boot_us(vm), 0);
	/* guest uptime when it answered: at most the host's whole boot */
	gint64 uptime = guest_clock(vm, "uptime_us", 0, boot);
	gint64 init = guest_clock(vm, "init_start_us", 0, uptime);
	gint64 ready = guest_clock(vm, "ready_us", init, uptime);

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
	if (access(path, R_OK) < 0)
		return ck_set_error_errno(error, errno, "%s: %s", key, path);
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
	spec->debug = cfg->hypervisor.enable_debug || cfg->agent.enable_debug;
	spec->agent_channel = cfg->hypervisor.agent_channel;
	spec->vsock_cid = VSOCK_FIRST_CID + (guint32)getpid();
	spec->agent_fd = QEMU_AGENT_FD;
	spec->qmp_fd = QEMU_QMP_FD;
	if (cfg->hypervisor.shared_fs == CK_SHARED_FS_VIRTIO_9P && opts->share_dir != NULL)
		spec->share_dir = g_strdup(opts->share_dir);
	spec->msize_9p = cfg->hypervisor.msize_9p;
	spec->console_log = g_build_filename(opts->run_dir, "console.log", NULL);
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
	int agent, qmp, mon, log, netns, err;
	const int *taps;
	guint n_taps;
	pid_t parent;
	const ChildCaps *caps;
} ChildFds;

/* Moves every fd QEMU gets to its fixed number (agent 3, QMP 4, monitor 5,
 * taps from 6) without one clobbering another: all are parked above the
 * fixed range first. Async-signal-safe. */
static gboolean place_fds(const ChildFds *f)
{
	int a = fcntl(f->agent, F_DUPFD, PARKED_FD_MIN), q = fcntl(f->qmp, F_DUPFD, PARKED_FD_MIN);
	int mon = f->mon >= 0 ? fcntl(f->mon, F_DUPFD, PARKED_FD_MIN) : -1;
	int taps[QEMU_MAX_NICS];

	if (a < 0 || q < 0 || (f->mon >= 0 && mon < 0) || f->n_taps > QEMU_MAX_NICS)
		return FALSE;
	for (guint i = 0; i < f->n_taps; i++)
		if ((taps[i] = fcntl(f->taps[i], F_DUPFD, PARKED_FD_MIN)) < 0)
			return FALSE;
	if (dup2(a, QEMU_AGENT_FD) < 0 || dup2(q, QEMU_QMP_FD) < 0)
		return FALSE;
	if (mon >= 0 && dup2(mon, QEMU_MONITOR_FD) < 0)
		return FALSE;
	if (mon < 0)
		close(QEMU_MONITOR_FD);
	for (guint i = 0; i < f->n_taps; i++)
		if (dup2(taps[i], QEMU_NIC_FD_BASE + (int)i) < 0)
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
	for (int fd = QEMU_NIC_FD_BASE + (int)fds->n_taps; fd < err_fd; fd++)
		close(fd);
	close_range((unsigned)err_fd + 1, ~0U, 0);
	execv(argv[0], argv);
fail:
	e = errno;
	(void)!write(err_fd, &e, sizeof e);
	_exit(127);
}

static gboolean spawn(QemuVm *vm, const VmSpec *spec, const QemuVmOptions *opts, int agent_end, int qmp_end,
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
		ChildFds fds = {agent_end, qmp_end, mon_fd, log_fd, netns_fd, err_w, taps, spec->n_nics, parent, &caps};
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
			    accel, vm->console_log);
}

static gboolean query_version(QemuVm *vm, int timeout_ms, GError **error)
{
	g_autoptr(CkJsonGen) req = ck_msg_request_begin(CK_OP_VERSION);
	ck_json_kv_int(req, "protocol", CK_PROTO_VERSION);

	vm->info_tree = agent_client_call(vm->agent, req, timeout_ms, &vm->info, error);
	return vm->info_tree != NULL;
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
				    plan->timeout_ms / 1000.0, vm->console_log);
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

static QemuVm *boot_once(const QemuVmOptions *opts, const AccelPlan *plan, GError **error)
{
	g_autoptr(QemuVm) vm = g_new0(QemuVm, 1);
	g_auto(VmSpec) spec = {0};
	int agent_pair[2], qmp_pair[2];

	vm->accel = plan->accel;
	vm->console_log = g_build_filename(opts->run_dir, "console.log", NULL);
	vm->qemu_log = g_build_filename(opts->run_dir, "qemu.log", NULL);
	fill_spec(&spec, opts, plan->accel);
	vm->vcpus = spec.vcpus;
	vm->maxvcpus = spec.maxvcpus;
	vm->memory_mib = spec.memory_mib;
	vm->maxmemory_mib = spec.memory_slots > 0 ? spec.maxmemory_mib : spec.memory_mib;
	vm->memory_slots = spec.memory_slots;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, agent_pair) < 0)
		return ck_set_error_errno(error, errno, "socketpair"), NULL;
	ck_autofd agent_ours = agent_pair[0], agent_theirs = agent_pair[1];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, qmp_pair) < 0)
		return ck_set_error_errno(error, errno, "socketpair"), NULL;
	ck_autofd qmp_ours = qmp_pair[0], qmp_theirs = qmp_pair[1];

	if (!spawn(vm, &spec, opts, agent_theirs, qmp_theirs, error))
		return NULL;
	ck_clear_fd(&agent_theirs);
	ck_clear_fd(&qmp_theirs);

	vm->qmp = qmp_client_new(ck_steal_fd(&qmp_ours));
	if (spec.agent_channel == CK_AGENT_CHANNEL_VSOCK) {
		gint64 deadline = vm->spawn_us + (gint64)plan->timeout_ms * 1000;
		int fd = connect_vsock(spec.vsock_cid, deadline, error);
		if (fd < 0)
			return NULL;
		ck_clear_fd(&agent_ours);
		agent_ours = fd;
	}
	vm->agent = agent_client_new(ck_steal_fd(&agent_ours), opts->context);
	if (opts->cancel != NULL)
		agent_client_set_cancel_func(vm->agent, opts->cancel, opts->cancel_data);
	if (!wait_agent(vm, plan, error))
		return NULL;
	/* the QMP greeting is long there by now; a failure means QEMU is sick */
	if (!qmp_client_handshake(vm->qmp, QMP_TIMEOUT_MS, error))
		return NULL;
	return g_steal_pointer(&vm);
}

static gboolean cancelled(const QemuVmOptions *opts)
{
	return opts->cancel != NULL && opts->cancel(opts->cancel_data);
}

QemuVm *qemu_vm_boot(const QemuVmOptions *opts, GError **error)
{
	g_auto(AccelPlan) plan = {0};
	g_autoptr(GError) kvm_error = NULL;

	if (!preflight(opts->config, error) || !accel_plan(opts->config, opts->state_root, &plan, error))
		return NULL;
	ck_log_debug("booting with %s: %s", ck_accel_to_string(plan.accel), plan.reason);

	QemuVm *vm = boot_once(opts, &plan, &kvm_error);
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
	vm = boot_once(opts, &tcg, error);
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

/* Waits up to timeout_ms for QEMU to exit by itself. */
static gboolean wait_exit(QemuVm *vm, int timeout_ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	while (!qemu_vm_has_exited(vm, NULL)) {
		if (ck_deadline_remaining_ms(deadline) == 0)
			return FALSE;
		g_usleep(10000);
	}
	return TRUE;
}

gboolean qemu_vm_shutdown(QemuVm *vm, int timeout_ms, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	if (vm->exited)
		return TRUE;
	if (vm->agent != NULL && !agent_client_is_closed(vm->agent)) {
		g_autoptr(CkJsonGen) req = ck_msg_request_begin(CK_OP_SHUTDOWN);
		g_auto(yajl_val) reply = agent_client_call(vm->agent, req, ck_deadline_remaining_ms(deadline) / 2,
							   NULL, NULL);
		if (reply != NULL && wait_exit(vm, ck_deadline_remaining_ms(deadline) / 2))
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
	yajl_tree_free(vm->info_tree);
	g_free(vm->console_log);
	g_free(vm->qemu_log);
	g_free(vm);
}
