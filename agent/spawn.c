/* spawn: the two child stages and the parent's side of their start (see
 * spawn.h for the sequence; the plan is spawn-plan.c's, the records on the
 * sync socket spawn-sync.c's). */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grp.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "hooks/hooks.h"
#include "mounts.h"
#include "spawn-sync.h"
#include "oci/oci-seccomp.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* --- child side ----------------------------------------------------------- */

static const char *getenv_from(char **envp, const char *name)
{
	gsize n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* Go's text for an errno, which runc prints (syscall.Errno.Error()): the C
 * library's with its first letter in lower case ("no such file or
 * directory", "not a directory"). For the child's one failure message. */
static const char *go_strerror(int errsv)
{
	static char text[128];

	g_strlcpy(text, g_strerror(errsv), sizeof text);
	text[0] = g_ascii_tolower(text[0]);
	return text;
}

/* Finds argv[0] the way runc (Go's exec.LookPath) does, and fails with the
 * words CRI-O and Podman match on ("executable file not found in $PATH",
 * "no such file or directory", "permission denied"). */
static char *lookup_executable(const SpawnPlan *plan)
{
	const char *name = plan->argv[0];
	struct stat st;

	if (strchr(name, '/') != NULL) {
		if (stat(name, &st) < 0)
			spawn_child_fail("exec", errno, "exec: \"%s\": stat %s: %s", name, name, go_strerror(errno));
		if (S_ISDIR(st.st_mode) || access(name, X_OK) < 0)
			spawn_child_fail("exec", EACCES, "exec: \"%s\": permission denied", name);
		return g_strdup(name);
	}
	const char *path = getenv_from(plan->envp, "PATH");
	g_auto(GStrv) dirs = g_strsplit(path ? path : DEFAULT_PATH, ":", -1);
	for (char **d = dirs; *d != NULL; d++) {
		g_autofree char *candidate = g_build_filename(**d ? *d : ".", name, NULL);
		if (stat(candidate, &st) == 0 && !S_ISDIR(st.st_mode) && access(candidate, X_OK) == 0)
			return g_steal_pointer(&candidate);
	}
	spawn_child_fail("exec", ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}

static void apply_rlimits(const SpawnPlan *plan)
{
	for (gsize i = 0; i < plan->n_rlimits; i++)
		if (setrlimit(plan->rlimits[i].resource, &plan->rlimits[i].limit) < 0)
			spawn_child_fail("rlimit", errno, "setrlimit(%d): %s", plan->rlimits[i].resource,
					 g_strerror(errno));
}

static void apply_oom_score_adj(const SpawnPlan *plan)
{
	char buf[16];
	int n = snprintf(buf, sizeof buf, "%d", plan->oom_score_adj);
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

	/* EACCES: lowering the score needs CAP_SYS_RESOURCE; runc tolerates it */
	if (fd < 0 || (write(fd, buf, (size_t)n) < 0 && errno != EACCES))
		spawn_child_fail("oom_score_adj", errno, "write oom_score_adj %d: %s", plan->oom_score_adj,
				 g_strerror(errno));
	close(fd);
}

static void drop_bounding_set(const SpawnPlan *plan)
{
	int last = (int)cap_max_bits() - 1;

	for (int cap = 0; cap <= last; cap++) {
		gboolean keep = FALSE;
		for (gsize i = 0; i < plan->n_caps[CAPSET_BOUNDING]; i++)
			keep |= plan->caps[CAPSET_BOUNDING][i] == cap;
		if (!keep && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			spawn_child_fail("capabilities", errno, "drop capability %d from the bounding set: %s", cap,
					 g_strerror(errno));
	}
}

static void set_cap_flag(cap_t c, cap_flag_t flag, const SpawnPlan *plan, CapSet set)
{
	if (plan->n_caps[set] > 0 && cap_set_flag(c, flag, (int)plan->n_caps[set], plan->caps[set], CAP_SET) < 0)
		spawn_child_fail("capabilities", errno, "cap_set_flag: %s", g_strerror(errno));
}

static void apply_capabilities(const SpawnPlan *plan)
{
	cap_t c = cap_init();

	if (c == NULL)
		spawn_child_fail("capabilities", errno, "cap_init: %s", g_strerror(errno));
	set_cap_flag(c, CAP_EFFECTIVE, plan, CAPSET_EFFECTIVE);
	set_cap_flag(c, CAP_PERMITTED, plan, CAPSET_PERMITTED);
	set_cap_flag(c, CAP_INHERITABLE, plan, CAPSET_INHERITABLE);
	if (cap_set_proc(c) < 0)
		spawn_child_fail("capabilities", errno, "cap_set_proc: %s", g_strerror(errno));
	cap_free(c);
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		spawn_child_fail("capabilities", errno, "cap_reset_ambient: %s", g_strerror(errno));
	/* runc only warns when an ambient capability cannot be raised (it is
	 * not in the inheritable set, as in `runc spec`'s default): a spec
	 * that runs under runc must run here too, so the failure is ignored */
	for (gsize i = 0; i < plan->n_caps[CAPSET_AMBIENT]; i++)
		(void)cap_set_ambient(plan->caps[CAPSET_AMBIENT][i], CAP_SET);
}

static void apply_user(const SpawnPlan *plan)
{
	if (plan->has_caps) {
		drop_bounding_set(plan);
		/* keep the permitted set across setuid; apply_capabilities()
		 * then trims it to what the spec asks for */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			spawn_child_fail("user", errno, "PR_SET_KEEPCAPS: %s", g_strerror(errno));
	}
	if (setgroups(plan->n_groups, plan->groups) < 0)
		spawn_child_fail("user", errno, "setgroups: %s", g_strerror(errno));
	if (setresgid(plan->gid, plan->gid, plan->gid) < 0)
		spawn_child_fail("user", errno, "setgid %u: %s", (unsigned)plan->gid, g_strerror(errno));
	if (setresuid(plan->uid, plan->uid, plan->uid) < 0)
		spawn_child_fail("user", errno, "setuid %u: %s", (unsigned)plan->uid, g_strerror(errno));
	if (plan->has_caps) {
		(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
		apply_capabilities(plan);
	}
}

static void load_seccomp(const SpawnPlan *plan)
{
	g_autoptr(GError) error = NULL;

	if (plan->seccomp_bpf != NULL && !oci_seccomp_load_bpf(plan->seccomp_bpf, plan->seccomp_flags, &error))
		spawn_child_fail("seccomp", 0, "%s", error->message);
}

static void setup_stdio(const int stdio[3], gboolean terminal)
{
	if (setsid() < 0)
		spawn_child_fail("stdio", errno, "setsid: %s", g_strerror(errno));
	for (int i = 0; i < 3; i++)
		if (stdio[i] >= 0 && dup2(stdio[i], i) < 0)
			spawn_child_fail("stdio", errno, "dup2: %s", g_strerror(errno));
	if (terminal && ioctl(0, TIOCSCTTY, 0) < 0)
		spawn_child_fail("stdio", errno, "set the controlling terminal: %s", g_strerror(errno));
}

static void send_pty(int sync_fd, int master)
{
	SyncMsg msg = {.type = SYNC_PTY};
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = &msg, .iov_len = sizeof msg};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t r;

	if (master >= 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof cbuf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &master, sizeof(int));
	}
	do
		r = sendmsg(sync_fd, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		spawn_child_fail("terminal", errno, "hand over the terminal: %s", g_strerror(errno));
}

/* The process's terminal: a pty of the container's own devpts, so that
 * ttyname() resolves inside it; the agent's pty when there is none. */
static void setup_terminal(const SpawnPlan *plan, int sync_fd)
{
	char name[64];
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (master < 0) {
		if (errno != ENOENT && errno != ENODEV)
			spawn_child_fail("terminal", errno, "open /dev/ptmx: %s", g_strerror(errno));
		send_pty(sync_fd, -1);
		setup_stdio(plan->stdio, TRUE);
		if (plan->console && plan->setup_rootfs)
			(void)mount("/proc/self/fd/0", "/dev/console", NULL, MS_BIND, NULL);
		return;
	}
	if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0)
		spawn_child_fail("terminal", errno, "set up a pty: %s", g_strerror(errno));
	int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		spawn_child_fail("terminal", errno, "open %s: %s", name, g_strerror(errno));
	if (plan->rows > 0 || plan->cols > 0) {
		struct winsize ws = {.ws_row = plan->rows, .ws_col = plan->cols};
		(void)ioctl(master, TIOCSWINSZ, &ws);
	}
	send_pty(sync_fd, master);
	close(master);
	const int stdio[3] = {slave, slave, slave};
	setup_stdio(stdio, TRUE);
	close(slave);
	if (plan->console && plan->setup_rootfs && mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
		spawn_child_fail("terminal", errno, "bind %s on /dev/console: %s", name, g_strerror(errno));
}

/* The pid stage 1 saw fork() return: ours in the agent's PID namespace,
 * sent once stage 1 reported it to the agent. */
static pid_t read_guest_pid(int pid_fd)
{
	pid_t pid = 0;
	ssize_t n;

	do
		n = read(pid_fd, &pid, sizeof pid);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof pid)
		spawn_child_fail("fork", n < 0 ? errno : 0, "learn the container's pid: %s",
				 n < 0 ? g_strerror(errno) : "stage 1 went away");
	close(pid_fd);
	return pid;
}

/* A stage of the spec's hooks, with the state "created"; a failure ends
 * the child with the hook's one-line error (see hooks_run()). */
static void run_hooks(const SpawnPlan *plan, OciHookStage stage, const OciHookList *list, pid_t pid)
{
	const char *name = oci_hook_stage_to_string(stage);
	g_autoptr(GError) error = NULL;

	if (list == NULL || list->n_hooks == 0)
		return;
	g_autofree char *state = hooks_state_json(plan->hooks.id, "created", pid, plan->hooks.bundle,
						  plan->hooks.annotations);
	if (state == NULL)
		spawn_child_fail(name, 0, "%s hooks: the container's state cannot be written as JSON", name);
	if (!hooks_run(list, stage, state, NULL, &error))
		spawn_child_fail_error(name, error);
}

/* The container's user namespace (see spawn.h for why last), as its
 * root: the spec's user is applied later, as without one. */
static void enter_user_namespace(const SpawnPlan *plan, int sync_fd)
{
	if (plan->join_fds[OCI_NS_USER] >= 0) {
		if (setns(plan->join_fds[OCI_NS_USER], CLONE_NEWUSER) < 0)
			spawn_child_fail("namespaces", errno, "join the user namespace: %s", g_strerror(errno));
	} else if (plan->uid_map != NULL) {
		SyncMsg req = {.type = SYNC_USERNS};
		if (unshare(CLONE_NEWUSER) < 0)
			spawn_child_fail("namespaces", errno, "unshare the user namespace: %s", g_strerror(errno));
		spawn_sync_send(sync_fd, &req);
		spawn_sync_wait_for(sync_fd, SYNC_USERNS_DONE);
	} else {
		return;
	}
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		spawn_child_fail("user", errno, "become root of the user namespace: %s", g_strerror(errno));
}

/* The agent blocks SIGCHLD (its reaper reads a signalfd) and ignores
 * SIGPIPE; both would survive execve and break the container's shell. */
static void reset_signals(void)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

G_NORETURN static void stage2(const SpawnPlan *plan, int sync_fd, int pid_fd)
{
	SyncMsg ready = {.type = SYNC_READY};
	pid_t guest_pid = 0;

	spawn_sync_set_child_fd(sync_fd);
	reset_signals();
	/* every inherited fd of the agent's goes away at execve */
	(void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	/* stderr becomes the container's: nothing of ours may land there
	 * (the hook runner logs at debug level) */
	ck_log_set_stderr(FALSE);
	guest_pid = read_guest_pid(pid_fd);
	if (!plan->terminal)
		setup_stdio(plan->stdio, FALSE);
	if (plan->setup_rootfs) {
		mounts_setup_container(plan);
		run_hooks(plan, OCI_HOOK_CREATE_CONTAINER, plan->hooks.create_container, guest_pid);
		mounts_enter_container(plan);
	}
	/* after the mounts: the container's /dev/pts exists now */
	if (plan->terminal)
		setup_terminal(plan, sync_fd);
	if (plan->hostname != NULL && sethostname(plan->hostname, strlen(plan->hostname)) < 0)
		spawn_child_fail("hostname", errno, "sethostname: %s", g_strerror(errno));
	if (plan->domainname != NULL && setdomainname(plan->domainname, strlen(plan->domainname)) < 0)
		spawn_child_fail("hostname", errno, "setdomainname: %s", g_strerror(errno));
	apply_rlimits(plan);
	/* before the user namespace, whose root may not lower it (runc's
	 * parent writes it before the container's setup) */
	if (plan->has_oom_score_adj)
		apply_oom_score_adj(plan);
	enter_user_namespace(plan, sync_fd);
	g_autofree char *exe = lookup_executable(plan);
	spawn_sync_send(sync_fd, &ready);
	if (plan->wait_for_start)
		spawn_sync_wait_for(sync_fd, SYNC_START);
	/* still root with every capability and no seccomp filter, as the
	 * hooks of the runtime's namespace would be */
	run_hooks(plan, OCI_HOOK_START_CONTAINER, plan->hooks.start_container, guest_pid);

	if (plan->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		spawn_child_fail("no_new_privs", errno, "PR_SET_NO_NEW_PRIVS: %s", g_strerror(errno));
	/* without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it
	 * while we still have it (runc does the same) */
	if (!plan->no_new_privs)
		load_seccomp(plan);
	apply_user(plan);
	if (chdir(plan->cwd) < 0)
		spawn_child_fail("cwd", errno, "chdir to cwd (\"%s\") set in config.json failed: %s", plan->cwd,
				 go_strerror(errno));
	if (plan->has_umask)
		umask(plan->umask);
	if (plan->no_new_privs)
		load_seccomp(plan);
	execve(exe, plan->argv, plan->envp);
	spawn_child_fail("exec", errno, "exec: \"%s\": %s", plan->argv[0], g_strerror(errno));
}

static void join_cgroup(const char *procs)
{
	int fd = open(procs, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "0", 1) < 0)
		spawn_child_fail("cgroup", errno, "join cgroup %s: %s", procs, g_strerror(errno));
	close(fd);
}

G_NORETURN static void stage1(const SpawnPlan *plan, int sync_fd)
{
	/* mount last: after it, paths resolve inside the container; the
	 * user namespace is stage 2's */
	static const OciNamespaceType order[] = {OCI_NS_IPC, OCI_NS_UTS,    OCI_NS_NETWORK,
						 OCI_NS_PID, OCI_NS_CGROUP, OCI_NS_MOUNT};

	spawn_sync_set_child_fd(sync_fd);
	if (plan->cgroup_procs != NULL)
		join_cgroup(plan->cgroup_procs);
	for (gsize i = 0; i < G_N_ELEMENTS(order); i++) {
		int fd = plan->join_fds[order[i]];
		if (fd >= 0 && setns(fd, oci_namespace_clone_flag(order[i])) < 0)
			spawn_child_fail("namespaces", errno, "join the %s namespace: %s",
					 oci_namespace_type_to_string(order[i]), g_strerror(errno));
	}
	if (plan->unshare_flags != 0 && unshare(plan->unshare_flags) < 0)
		spawn_child_fail("namespaces", errno, "unshare: %s", g_strerror(errno));

	/* Stage 2 learns its pid on this pipe, after SYNC_PID is out, and
	 * says nothing before: so SYNC_PID is always the first record on the
	 * sync socket (a terminal's SYNC_PTY could otherwise overtake it). */
	int pid_pipe[2] = {-1, -1};
	if (pipe2(pid_pipe, O_CLOEXEC) < 0)
		spawn_child_fail("fork", errno, "pipe: %s", g_strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		spawn_child_fail("fork", errno, "fork: %s", g_strerror(errno));
	if (pid == 0) {
		ck_clear_fd(&pid_pipe[1]);
		stage2(plan, sync_fd, pid_pipe[0]);
	}
	SyncMsg msg = {.type = SYNC_PID, .pid = pid};
	spawn_sync_send(sync_fd, &msg);
	/* a short write leaves stage 2 with EOF, which it reports */
	(void)!write(pid_pipe[1], &pid, sizeof pid);
	_exit(0);
}

/* --- parent side: driving the stages --------------------------------------- */

static void reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

static gboolean write_id_map(pid_t pid, const char *file, const char *text, const char *field, GError **error)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/%s", (int)pid, file);
	ck_autofd fd = open(path, O_WRONLY | O_CLOEXEC);

	/* one write: the kernel takes a map only whole, and only once */
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return ck_set_error_errno(error, errno, "%s: write %s", field, path);
	return TRUE;
}

/* Stage 2 unshared a user namespace: its maps, from outside (the agent
 * is root of the parent namespace, so setgroups stays allowed). */
static gboolean map_user_namespace(const SpawnPlan *plan, int fd, pid_t pid, int timeout_ms, GError **error)
{
	SyncMsg msg;

	if (!spawn_sync_expect(fd, SYNC_USERNS, timeout_ms, &msg, NULL, error) ||
	    !write_id_map(pid, "uid_map", plan->uid_map, "linux.uidMappings", error) ||
	    !write_id_map(pid, "gid_map", plan->gid_map, "linux.gidMappings", error))
		return FALSE;
	SyncMsg done = {.type = SYNC_USERNS_DONE};
	spawn_sync_send(fd, &done);
	return TRUE;
}

gboolean spawn_process(const SpawnPlan *plan, int timeout_ms, SpawnedProcess *out, GError **error)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return ck_set_error_errno(error, errno, "socketpair");
	ck_autofd ours = sv[0], theirs = sv[1];

	pid_t stage1_pid = fork();
	if (stage1_pid < 0)
		return ck_set_error_errno(error, errno, "fork");
	if (stage1_pid == 0) {
		ck_clear_fd(&ours);
		stage1(plan, theirs);
	}
	ck_clear_fd(&theirs);

	SyncMsg msg;
	gboolean ok = spawn_sync_expect(ours, SYNC_PID, timeout_ms, &msg, NULL, error);
	reap(stage1_pid);
	if (!ok)
		return FALSE;
	out->pid_at_us = g_get_monotonic_time();
	ck_autopid stage2_pid = msg.pid;
	ck_autofd pty_master = -1;
	if (plan->terminal && !spawn_sync_expect(ours, SYNC_PTY, timeout_ms, &msg, &pty_master, error))
		return FALSE;
	if (plan->uid_map != NULL && !map_user_namespace(plan, ours, stage2_pid, timeout_ms, error))
		return FALSE;
	if (!spawn_sync_expect(ours, SYNC_READY, timeout_ms, &msg, NULL, error))
		return FALSE;
	out->ready_at_us = g_get_monotonic_time();
	if (!plan->wait_for_start && !spawn_sync_wait_exec(ours, timeout_ms, error))
		return FALSE;

	out->pid = ck_steal_pid(&stage2_pid);
	out->sync_fd = plan->wait_for_start ? ck_steal_fd(&ours) : -1;
	out->pty_master = ck_steal_fd(&pty_master);
	return TRUE;
}

gboolean spawn_release(SpawnedProcess *sp, int timeout_ms, GError **error)
{
	SyncMsg start = {.type = SYNC_START};

	if (sp->sync_fd < 0)
		return ck_set_error(error, CK_ERROR_INVALID, "the process was already started");
	spawn_sync_send(sp->sync_fd, &start);
	gboolean ok = spawn_sync_wait_exec(sp->sync_fd, timeout_ms, error);
	ck_clear_fd(&sp->sync_fd);
	return ok;
}
