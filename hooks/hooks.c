/* hooks: fork+exec of the spec's host hooks, with the state on stdin, their
 * output captured, their timeout enforced and their process reaped on every
 * path. See hooks.h for the stages and the failure semantics.
 *
 * One hook, step by step:
 *   1. pipes for stdin, stdout, stderr, and a report pipe (close-on-exec)
 *      on which the child writes what failed if it never reaches execve;
 *   2. fork; the child takes a fresh signal state, its own process group,
 *      the pod's netns if asked, the pipes as 0/1/2, and execs;
 *   3. the parent feeds stdin and drains stdout/stderr from one poll loop
 *      (so a hook that writes a lot before it reads cannot deadlock us),
 *      and learns of the exit from a pidfd, or by polling waitid() every
 *      POLL_FALLBACK_MS where pidfds do not exist;
 *   4. on exit it looks at the status without reaping (WNOWAIT), kills
 *      the process group if the hook failed, then reaps; on timeout it
 *      kills the group and reaps.
 * The exit is not tied to EOF on the output pipes: a hook may leave a
 * background process that holds them open, and we must not wait for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-log.h"
#include "hooks.h"

/* How often the exit is checked when the kernel has no pidfd_open (< 5.3). */
#define POLL_FALLBACK_MS 20
/* The longest stderr line quoted in an error message. */
#define MESSAGE_LINE_MAX 512

/* What the child reports on the report pipe when it cannot exec. */
typedef enum {
	CHILD_STEP_SETNS = 1,
	CHILD_STEP_STDIO,
	CHILD_STEP_EXEC,
} ChildStep;

typedef struct {
	int step; /* ChildStep */
	int err;  /* errno */
} ChildReport;

/* Everything the child needs, prepared before fork: after fork in a
 * threaded process only async-signal-safe calls are allowed. */
typedef struct {
	const char *path;
	char *const *argv;
	char *const *envp;
	int netns_fd; /* -1: stay in ours */
	int stdio[3]; /* child ends of the pipes */
	int report_fd;
} ChildSetup;

typedef struct {
	const char *stage;
	const char *path;
	const char *netns_path;
	pid_t pid;     /* 0 once reaped */
	int pidfd;     /* -1 when unavailable */
	int in_fd;     /* our end of the hook's stdin, -1 once closed */
	int out_fd;    /* our end of its stdout */
	int err_fd;    /* our end of its stderr */
	int report_fd; /* read end of the report pipe */
	const char *input;
	gsize input_len, input_off;
	GString *out, *err;
	siginfo_t info; /* how it ended (waitid) */
} HookChild;

gboolean hooks_stage_is_fatal(OciHookStage stage)
{
	switch (stage) {
	case OCI_HOOK_PRESTART:
	case OCI_HOOK_CREATE_RUNTIME:
	case OCI_HOOK_CREATE_CONTAINER:
	case OCI_HOOK_START_CONTAINER:
		return TRUE;
	case OCI_HOOK_POSTSTART:
	case OCI_HOOK_POSTSTOP:
	case OCI_HOOK_MAX:
		break;
	}
	return FALSE;
}

static int compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void state_json_annotations(CkJsonGen *g, GHashTable *annotations)
{
	ck_json_key(g, "annotations");
	ck_json_map_open(g);
	if (annotations != NULL) {
		guint n = 0;
		g_autofree const char **keys = (const char **)g_hash_table_get_keys_as_array(annotations, &n);

		qsort(keys, n, sizeof(*keys), compare_strings);
		for (guint i = 0; i < n; i++)
			ck_json_kv_string(g, keys[i], g_hash_table_lookup(annotations, keys[i]));
	}
	ck_json_map_close(g);
}

char *hooks_state_json(const char *id, const char *status, pid_t pid, const char *bundle, GHashTable *annotations)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	g_autoptr(GError) error = NULL;
	char *doc;

	ck_json_map_open(g);
	ck_json_kv_string(g, "ociVersion", "1.0.2");
	ck_json_kv_string(g, "id", id);
	ck_json_kv_string(g, "status", status);
	ck_json_kv_int(g, "pid", pid > 0 ? pid : 0);
	ck_json_kv_string(g, "bundle", bundle);
	state_json_annotations(g, annotations);
	ck_json_map_close(g);
	doc = ck_json_gen_finish(g, NULL, &error);
	if (doc == NULL)
		ck_log_debug("hook state for %s: %s", id, error->message);
	return doc;
}

/* --- the child, between fork and execve -------------------------------- */

static G_GNUC_NORETURN void child_fail(int report_fd, ChildStep step)
{
	ChildReport r = {.step = step, .err = errno};

	(void)!write(report_fd, &r, sizeof(r));
	_exit(127);
}

/* A fresh signal state: the monitor blocks SIGCHLD (for its signalfd) and
 * may ignore SIGPIPE, and a blocked mask and ignored signals both survive
 * execve. Errors (SIGKILL, SIGSTOP, libc's internal signals) are fine. */
static void child_reset_signals(void)
{
	struct sigaction dfl;
	sigset_t none;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
}

static G_GNUC_NORETURN void child_exec(const ChildSetup *cs)
{
	int fds[3];

	child_reset_signals();
	/* Own group, so that a timeout kills what the hook started too. */
	(void)setpgid(0, 0);
	if (cs->netns_fd >= 0 && setns(cs->netns_fd, CLONE_NEWNET) < 0)
		child_fail(cs->report_fd, CHILD_STEP_SETNS);
	/* Lift the pipe ends above 2 first, so that no dup2 below
	 * overwrites one we still need (the caller may have closed stdio). */
	for (int i = 0; i < 3; i++) {
		fds[i] = cs->stdio[i] < 3 ? fcntl(cs->stdio[i], F_DUPFD_CLOEXEC, 3) : cs->stdio[i];
		if (fds[i] < 0)
			child_fail(cs->report_fd, CHILD_STEP_STDIO);
	}
	for (int i = 0; i < 3; i++) {
		if (dup2(fds[i], i) < 0)
			child_fail(cs->report_fd, CHILD_STEP_STDIO);
	}
	/* The monitor may hold fds without O_CLOEXEC (CRI-O's sync pipe): a
	 * hook keeping one open would stall the caller. Best effort. */
	(void)close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	execve(cs->path, cs->argv, cs->envp);
	child_fail(cs->report_fd, CHILD_STEP_EXEC);
}

/* --- the parent -------------------------------------------------------- */

static void hook_child_init(HookChild *c, const char *stage, const char *path, const char *netns_path,
			    const char *state_json)
{
	memset(c, 0, sizeof(*c));
	c->stage = stage;
	c->path = path;
	c->netns_path = netns_path;
	c->pidfd = c->in_fd = c->out_fd = c->err_fd = c->report_fd = -1;
	c->input = state_json != NULL ? state_json : "";
	c->input_len = strlen(c->input);
	c->out = g_string_new(NULL);
	c->err = g_string_new(NULL);
}

/* Kills the hook's group when asked, reaps the hook, closes everything.
 * The group is killed before the leader is reaped: while the leader is
 * a zombie its pid, and so the group id, cannot be reused. */
static void hook_child_clear(HookChild *c, gboolean kill_group)
{
	if (c->pid > 0) {
		if (kill_group) {
			(void)kill(-c->pid, SIGKILL);
			(void)kill(c->pid, SIGKILL);
		}
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = 0;
	}
	ck_clear_fd(&c->pidfd);
	ck_clear_fd(&c->in_fd);
	ck_clear_fd(&c->out_fd);
	ck_clear_fd(&c->err_fd);
	ck_clear_fd(&c->report_fd);
	g_string_free(c->out, TRUE);
	g_string_free(c->err, TRUE);
	c->out = c->err = NULL;
}

static gboolean make_pipe(int fds[2], int ours, GError **error)
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return ck_set_error_errno(error, errno, "pipe");
	return ck_set_nonblock(fds[ours], TRUE, error);
}

static void close_pair(int fds[2])
{
	ck_clear_fd(&fds[0]);
	ck_clear_fd(&fds[1]);
}

/* The four pipes and the fork. On success the child runs and our ends are
 * in c; the child's ends are closed either way. */
static gboolean hook_spawn(HookChild *c, ChildSetup *cs, GError **error)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, rep[2] = {-1, -1};
	gboolean ok =
	    make_pipe(in, 1, error) && make_pipe(out, 0, error) && make_pipe(err, 0, error) && make_pipe(rep, 0, error);

	if (!ok) {
		g_prefix_error(error, "%s hook %s: ", c->stage, c->path);
	} else {
		cs->stdio[0] = in[0];
		cs->stdio[1] = out[1];
		cs->stdio[2] = err[1];
		cs->report_fd = rep[1];
		c->pid = fork();
		if (c->pid == 0)
			child_exec(cs);
		if (c->pid < 0) {
			c->pid = 0;
			ok = ck_set_error_errno(error, errno, "%s hook %s: fork", c->stage, c->path);
		}
	}
	if (ok) {
		/* Also here, so that a kill of the group cannot race the
		 * child's own setpgid(); EACCES once it has exec'd. */
		(void)setpgid(c->pid, c->pid);
		c->in_fd = ck_steal_fd(&in[1]);
		c->out_fd = ck_steal_fd(&out[0]);
		c->err_fd = ck_steal_fd(&err[0]);
		c->report_fd = ck_steal_fd(&rep[0]);
		c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	}
	close_pair(in);
	close_pair(out);
	close_pair(err);
	close_pair(rep);
	return ok;
}

/* Reads what is there; keeps the first HOOKS_OUTPUT_MAX bytes. Closes the
 * fd at EOF or on an error. */
static void drain_output(int *fdp, GString *buf)
{
	char chunk[4096];

	while (*fdp >= 0) {
		ssize_t n = read(*fdp, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			ck_clear_fd(fdp);
			return;
		}
		if (buf->len < HOOKS_OUTPUT_MAX)
			g_string_append_len(buf, chunk, MIN((gsize)n, HOOKS_OUTPUT_MAX - buf->len));
	}
}

/* write(2) with SIGPIPE held off, so that a hook which exits without
 * reading its stdin costs us an EPIPE and not our life. A SIGPIPE that
 * was already pending before is left alone. */
static ssize_t write_no_sigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	gboolean was_pending;
	ssize_t n;
	int errsv;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	n = write(fd, buf, len);
	errsv = errno;
	if (n < 0 && errsv == EPIPE && !was_pending) {
		struct timespec zero = {0, 0};

		(void)sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = errsv;
	return n;
}

/* Feeds the state. EOF is given by closing the pipe once all is written;
 * a hook that exits without reading (EPIPE) is not an error, as for runc. */
static void feed_input(HookChild *c)
{
	while (c->in_fd >= 0 && c->input_off < c->input_len) {
		ssize_t n = write_no_sigpipe(c->in_fd, c->input + c->input_off, c->input_len - c->input_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			ck_clear_fd(&c->in_fd);
			return;
		}
		c->input_off += (gsize)n;
	}
	ck_clear_fd(&c->in_fd);
}

/* Has the hook ended? Looks without reaping (WNOWAIT), so that the group
 * can still be killed safely. ECHILD (someone else reaped it, e.g. SIGCHLD
 * set to SIG_IGN) counts as ended, with si_pid 0. */
static gboolean hook_ended(HookChild *c)
{
	memset(&c->info, 0, sizeof(c->info));
	if (waitid(P_PID, (id_t)c->pid, &c->info, WEXITED | WNOHANG | WNOWAIT) < 0)
		return errno != EINTR;
	return c->info.si_pid == c->pid;
}

static int poll_timeout_ms(const HookChild *c, gint64 deadline)
{
	int ms = c->pidfd >= 0 ? -1 : POLL_FALLBACK_MS;

	if (deadline > 0) {
		int left = ck_deadline_remaining_ms(deadline);

		ms = ms < 0 ? left : MIN(ms, left);
	}
	return ms;
}

static nfds_t fill_pollfds(const HookChild *c, struct pollfd *pfd)
{
	nfds_t n = 0;

	if (c->in_fd >= 0)
		pfd[n++] = (struct pollfd){.fd = c->in_fd, .events = POLLOUT};
	if (c->out_fd >= 0)
		pfd[n++] = (struct pollfd){.fd = c->out_fd, .events = POLLIN};
	if (c->err_fd >= 0)
		pfd[n++] = (struct pollfd){.fd = c->err_fd, .events = POLLIN};
	if (c->pidfd >= 0)
		pfd[n++] = (struct pollfd){.fd = c->pidfd, .events = POLLIN};
	return n;
}

/* Runs the I/O until the hook ends (TRUE) or the deadline passes (FALSE).
 * Every fd is serviced on every round: the calls do not block. */
static gboolean hook_wait(HookChild *c, gint64 deadline)
{
	struct pollfd pfd[4];

	feed_input(c);
	while (!hook_ended(c)) {
		if (deadline > 0 && g_get_monotonic_time() >= deadline)
			return FALSE;
		if (poll(pfd, fill_pollfds(c, pfd), poll_timeout_ms(c, deadline)) < 0 && errno != EINTR)
			g_usleep(POLL_FALLBACK_MS * 1000); /* cannot happen; do not spin */
		feed_input(c);
		drain_output(&c->out_fd, c->out);
		drain_output(&c->err_fd, c->err);
	}
	/* What the hook wrote before it exited is in the pipes now. */
	drain_output(&c->out_fd, c->out);
	drain_output(&c->err_fd, c->err);
	return TRUE;
}

/* The first non-empty line of stderr, else of stdout; NULL if both are
 * empty. Valid UTF-8, bounded. */
static char *first_output_line(const HookChild *c)
{
	const GString *bufs[2] = {c->err, c->out};

	for (int i = 0; i < 2; i++) {
		g_auto(GStrv) lines = g_strsplit(bufs[i]->str, "\n", -1);

		for (char **l = lines; *l != NULL; l++) {
			g_autofree char *line = g_utf8_make_valid(g_strstrip(*l), -1);

			if (*line == '\0')
				continue;
			if (g_utf8_strlen(line, -1) > MESSAGE_LINE_MAX)
				*g_utf8_offset_to_pointer(line, MESSAGE_LINE_MAX) = '\0';
			return g_steal_pointer(&line);
		}
	}
	return NULL;
}

/* An exec-side failure the child reported, as "<stage> hook <path>: ...". */
static gboolean child_report_error(const HookChild *c, GError **error)
{
	ChildReport r;
	ssize_t n;

	do
		n = read(c->report_fd, &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(r))
		return FALSE;
	if (r.step == CHILD_STEP_SETNS)
		ck_set_error_errno(error, r.err, "%s hook %s: setns %s", c->stage, c->path, c->netns_path);
	else if (r.step == CHILD_STEP_STDIO)
		ck_set_error_errno(error, r.err, "%s hook %s: setting up stdio", c->stage, c->path);
	else
		ck_set_error_errno(error, r.err, "%s hook %s", c->stage, c->path);
	return TRUE;
}

/* Turns how the hook ended into the result. */
static gboolean hook_status(const HookChild *c, GError **error)
{
	g_autofree char *line = NULL;
	g_autofree char *suffix = NULL;

	if (child_report_error(c, error))
		return FALSE;
	if (c->info.si_pid == 0)
		return ck_set_error(error, CK_ERROR_FAILED, "%s hook %s: exit status lost (reaped elsewhere)", c->stage,
				    c->path);
	if (c->info.si_code == CLD_EXITED && c->info.si_status == 0)
		return TRUE;
	line = first_output_line(c);
	suffix = line != NULL ? g_strconcat(": ", line, NULL) : g_strdup("");
	if (c->info.si_code == CLD_EXITED)
		return ck_set_error(error, CK_ERROR_FAILED, "%s hook %s exited with status %d%s", c->stage, c->path,
				    c->info.si_status, suffix);
	return ck_set_error(error, CK_ERROR_FAILED, "%s hook %s killed by signal %d%s", c->stage, c->path,
			    c->info.si_status, suffix);
}

static void log_output(const HookChild *c)
{
	if (c->out->len > 0)
		ck_log_debug("%s hook %s: stdout: %s", c->stage, c->path, c->out->str);
	if (c->err->len > 0)
		ck_log_debug("%s hook %s: stderr: %s", c->stage, c->path, c->err->str);
}

static gboolean run_one(const OciHook *hook, const char *stage, const char *state_json, int netns_fd,
			const char *netns_path, GError **error)
{
	char *default_argv[] = {hook->path, NULL};
	char *no_env[] = {NULL};
	ChildSetup cs = {
	    .path = hook->path,
	    .argv = hook->args != NULL && hook->args[0] != NULL ? hook->args : default_argv,
	    .envp = hook->env != NULL ? hook->env : no_env,
	    .netns_fd = netns_fd,
	};
	gint64 deadline = hook->has_timeout && hook->timeout > 0
			      ? g_get_monotonic_time() + (gint64)hook->timeout * G_USEC_PER_SEC
			      : 0;
	HookChild c;
	gboolean ok;

	if (hook->path == NULL || !g_path_is_absolute(hook->path))
		return ck_set_error(error, CK_ERROR_INVALID, "%s hook %s: not an absolute path", stage,
				    hook->path != NULL ? hook->path : "(null)");
	ck_log_debug("running %s hook %s", stage, hook->path);
	hook_child_init(&c, stage, hook->path, netns_path, state_json);
	if (!hook_spawn(&c, &cs, error)) {
		hook_child_clear(&c, TRUE);
		return FALSE;
	}
	if (!hook_wait(&c, deadline)) {
		log_output(&c);
		hook_child_clear(&c, TRUE);
		return ck_set_error(error, CK_ERROR_TIMEOUT, "%s hook %s timed out after %d s", stage, hook->path,
				    hook->timeout);
	}
	log_output(&c);
	ok = hook_status(&c, error);
	/* A failed hook takes what it started with it; a successful one may
	 * leave helpers running on purpose. */
	hook_child_clear(&c, !ok);
	return ok;
}

static int open_netns(const char *stage, const char *netns_path, GError **error)
{
	int fd;

	if (netns_path == NULL)
		return -1;
	fd = open(netns_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		ck_set_error_errno(error, errno, "%s hooks: network namespace %s", stage, netns_path);
	return fd;
}

gboolean hooks_run(const OciHookList *list, OciHookStage stage, const char *state_json, const char *netns_path,
		   GError **error)
{
	const char *name = oci_hook_stage_to_string(stage);
	ck_autofd netns_fd = -1;

	if (list == NULL || list->n_hooks == 0)
		return TRUE;
	netns_fd = open_netns(name, netns_path, error);
	if (netns_path != NULL && netns_fd < 0)
		return FALSE;
	for (gsize i = 0; i < list->n_hooks; i++) {
		if (!run_one(&list->hooks[i], name, state_json, netns_fd, netns_path, error))
			return FALSE;
	}
	return TRUE;
}

gboolean hooks_run_stage(const OciSpec *spec, OciHookStage stage, const HooksContext *ctx, GError **error)
{
	g_autoptr(GError) local = NULL;
	const OciHookList *list = &spec->hooks[stage];

	if (list->n_hooks == 0)
		return TRUE;
	g_autofree char *state = hooks_state_json(ctx->id, ctx->status, ctx->pid, ctx->bundle, ctx->annotations);
	if (state == NULL)
		return ck_set_error(error, CK_ERROR_INVALID, "%s hooks: cannot encode the state of %s",
				    oci_hook_stage_to_string(stage), ctx->id);
	ck_log_debug("%s: running %zu %s hook(s)", ctx->id, list->n_hooks, oci_hook_stage_to_string(stage));
	if (hooks_stage_is_fatal(stage))
		return hooks_run(list, stage, state, ctx->netns_path, error);
	/* poststart, poststop: "the runtime MUST log a warning, but the
	 * remaining hooks and lifecycle continue as if the hook had succeeded"
	 * (runtime-spec, Lifecycle) */
	for (gsize i = 0; i < list->n_hooks; i++) {
		OciHookList one = {.hooks = &list->hooks[i], .n_hooks = 1};
		if (!hooks_run(&one, stage, state, ctx->netns_path, &local)) {
			ck_log_warning("%s: %s", ctx->id, local->message);
			g_clear_error(&local);
		}
	}
	return TRUE;
}
