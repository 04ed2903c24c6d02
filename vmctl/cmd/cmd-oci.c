/* vmctl's OCI verbs: the runc command line CRI-O and Podman call.
 *
 * Trusted containers (decided at create, recorded in the state) are
 * handed to the trusted runtime (runc) with a root of their own; every
 * verb then execs it with the same arguments. VM containers:
 *   create, exec  run `conmon-kata --shim`, which does the work (the VM
 *                 path lives in one place) and stays as the container's
 *                 stand-in; so stock conmon + vmctl works too;
 *   the others    ask the pod's agent through the pod monitor
 *                 (runtime-ops.c), or read the state file (state, list).
 * Every failure is one line on stderr (and --log) naming the container.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-log.h"
#include "base/ck-parse.h"
#include "hooks/hooks.h"
#include "lib/annotations.h"
#include "lib/host-cgroup.h"
#include "lib/runtime-ops.h"
#include "lib/state.h"
#include "lib/workload.h"
#include "vmctl.h"

/* --- helpers ------------------------------------------------------------------------ */

static int fail(const char *id, GError *error)
{
	if (id != NULL)
		ck_log_error("container %s: %s", id, error->message);
	else
		ck_log_error("%s", error->message);
	g_error_free(error);
	return 1;
}

static gboolean one_id(const char *verb, int argc, char **argv, const char **out_id)
{
	if (argc != 2) {
		ck_log_error("%s: expected exactly one container id (see vmctl %s --help)", verb, verb);
		return FALSE;
	}
	*out_id = argv[1];
	return TRUE;
}

char **vmctl_copy_argv(int argc, char **argv)
{
	char **copy = g_new0(char *, argc + 1);
	for (int i = 0; i < argc; i++)
		copy[i] = g_strdup(argv[i]);
	return copy;
}

char *vmctl_trusted_root(VmctlContext *ctx)
{
	return g_build_filename(ctx->root, "trusted", NULL);
}

/* The trusted runtime's command line for a verb: runc's global options
 * from ours, then the verb's original arguments. */
static GPtrArray *trusted_argv(VmctlContext *ctx, const char *runtime, const char *troot, char **verb_argv)
{
	GPtrArray *argv = g_ptr_array_new();

	g_ptr_array_add(argv, (char *)runtime);
	g_ptr_array_add(argv, "--root");
	g_ptr_array_add(argv, (char *)troot);
	if (ctx->log_path != NULL) {
		g_ptr_array_add(argv, "--log");
		g_ptr_array_add(argv, ctx->log_path);
		g_ptr_array_add(argv, ctx->log_json ? "--log-format=json" : "--log-format=text");
	}
	if (ctx->debug)
		g_ptr_array_add(argv, "--debug");
	if (ctx->systemd_cgroup)
		g_ptr_array_add(argv, "--systemd-cgroup");
	for (char **a = verb_argv; *a != NULL; a++)
		g_ptr_array_add(argv, *a);
	g_ptr_array_add(argv, NULL);
	return argv;
}

/* Execs the trusted runtime with the verb's original arguments. */
static int delegate(VmctlContext *ctx, const char *runtime, const char *troot, char **verb_argv)
{
	g_autoptr(GPtrArray) argv = trusted_argv(ctx, runtime, troot, verb_argv);

	ck_log_debug("trusted container: running %s", runtime);
	execv(runtime, (char **)argv->pdata);
	ck_log_error("run the trusted runtime %s: %s", runtime, g_strerror(errno));
	return 1;
}

ContainerState *vmctl_read_state(VmctlContext *ctx, const char *id, GError **error)
{
	g_autoptr(GError) local = NULL;
	ContainerState *st = container_state_read(ctx->root, id, &local);

	if (st != NULL || ctx->root_given || !ck_error_is(local, CK_ERROR_NOT_FOUND)) {
		if (st == NULL)
			g_propagate_error(error, g_steal_pointer(&local));
		return st;
	}
	g_autofree char *root = state_lookup_root(id);
	if (root == NULL) {
		g_propagate_error(error, g_steal_pointer(&local));
		return NULL;
	}
	ck_log_debug("container %s: found under the runtime root %s", id, root);
	g_free(ctx->root);
	ctx->root = g_steal_pointer(&root);
	return container_state_read(ctx->root, id, error);
}

int vmctl_delegate(VmctlContext *ctx, const ContainerState *st, char **verb_argv)
{
	return delegate(ctx, st->trusted_runtime, st->trusted_root, verb_argv);
}

/* For verbs on an existing container: TRUE (and the state) when it is a
 * VM container; a trusted one is delegated here and never returns. */
static ContainerState *vm_or_delegate(VmctlContext *ctx, const char *id, char **verb_argv, int *out_status,
				      GError **error)
{
	g_autoptr(ContainerState) st = vmctl_read_state(ctx, id, error);

	if (st == NULL)
		return NULL;
	if (st->kind == CONTAINER_KIND_TRUSTED) {
		*out_status = delegate(ctx, st->trusted_runtime, st->trusted_root, verb_argv);
		return NULL;
	}
	return g_steal_pointer(&st);
}

/* --- create ---------------------------------------------------------------------------- */

static char *find_monitor(void)
{
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
	const char *const candidates[] = {"conmon-kata", "../conmon-kata/conmon-kata", "../libexec/conmon-kata", NULL};

	for (int i = 0; dir != NULL && candidates[i] != NULL; i++) {
		g_autofree char *p = g_build_filename(dir, candidates[i], NULL);
		if (access(p, X_OK) == 0)
			return g_canonicalize_filename(p, NULL);
	}
	return g_find_program_in_path("conmon-kata");
}

/* Runs conmon-kata --shim and waits for its answer on the sync pipe:
 * {"data": pid} or {"data": -1, "message": "..."}. */
static gboolean run_shim(VmctlContext *ctx, GPtrArray *args, gboolean wait_answer, GError **error)
{
	int sv[2];
	g_autofree char *monitor = find_monitor();

	if (monitor == NULL)
		return ck_set_error(error, CK_ERROR_NOT_FOUND, "conmon-kata not found next to vmctl or in $PATH");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return ck_set_error_errno(error, errno, "socketpair");
	ck_autofd ours = sv[0], theirs = sv[1];
	g_ptr_array_insert(args, 0, monitor);
	g_ptr_array_add(args, NULL);

	pid_t pid = fork();
	if (pid < 0)
		return ck_set_error_errno(error, errno, "fork");
	if (pid == 0) {
		int fd = fcntl(theirs, F_DUPFD, 3);
		g_autofree char *env = g_strdup_printf("%d", fd);
		g_setenv("_OCI_SYNCPIPE", env, TRUE);
		execv(monitor, (char **)args->pdata);
		_exit(127);
	}
	ck_clear_fd(&theirs);
	(void)ctx;
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!wait_answer)
		return TRUE;
	char buf[8192];
	ssize_t n = ck_read_retry(ours, buf, sizeof buf - 1);
	if (n <= 0)
		return ck_set_error(error, CK_ERROR_FAILED, "conmon-kata exited (status %d) without an answer",
				    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	buf[n] = '\0';
	g_auto(yajl_val) msg = ck_json_parse(buf, (gsize)n, "conmon-kata's answer", error);
	gint64 value = -1;
	if (msg == NULL || !ck_json_as_int64(ck_json_get(msg, "data"), &value))
		return FALSE;
	if (value < 0) {
		yajl_val text = ck_json_get(msg, "message");
		return ck_set_error(error, CK_ERROR_FAILED, "%s",
				    text && YAJL_IS_STRING(text) ? text->u.string : "create failed");
	}
	return TRUE;
}

static void add_common_shim_args(VmctlContext *ctx, GPtrArray *args, const char *id)
{
	g_ptr_array_add(args, "--shim");
	g_ptr_array_add(args, "--api-version");
	g_ptr_array_add(args, "-c");
	g_ptr_array_add(args, (char *)id);
	g_ptr_array_add(args, "-r");
	g_ptr_array_add(args, "/proc/self/exe");
	g_ptr_array_add(args, "-l");
	g_ptr_array_add(args, "passthrough");
	g_ptr_array_add(args, "--log-level");
	g_ptr_array_add(args, ctx->debug ? "debug" : "warning");
	g_ptr_array_add(args, g_strdup_printf("--runtime-arg=--root=%s", ctx->root));
	if (ctx->config_path != NULL)
		g_ptr_array_add(args, g_strdup_printf("--runtime-arg=--config=%s", ctx->config_path));
	if (ctx->log_path != NULL) {
		g_ptr_array_add(args, g_strdup_printf("--runtime-arg=--log=%s", ctx->log_path));
		g_ptr_array_add(args, ctx->log_json ? "--runtime-arg=--log-format=json" : "--runtime-arg=--log-format=text");
	}
}

/* Trusted or VM, as conmon-kata decides it (workload_decide). A trusted
 * container's io.katacontainers.* annotations are checked here, as the
 * VM path checks them in conmon-kata; *out_annotations (a reference) are
 * its spec's, for its state. */
static gboolean decide_trust(VmctlContext *ctx, const char *id, const char *bundle, CkTrust *out, char **out_decision,
			     GHashTable **out_annotations, GError **error)
{
	g_autofree char *path = g_build_filename(bundle, "config.json", NULL);
	g_autoptr(OciSpec) spec = oci_spec_load_file(path, error);
	g_auto(WorkloadRole) role = {0};
	const CkConfig *cfg = vmctl_config(ctx, error);

	if (spec == NULL || cfg == NULL || !workload_classify(spec, id, &role, error) ||
	    !workload_decide(cfg, ctx->root, spec, &role, out, out_decision, error))
		return FALSE;
	if (*out == CK_TRUST_TRUSTED &&
	    !annotations_validate(cfg, role.sandbox, spec->annotations, role.pod_annotations, error))
		return FALSE;
	*out_annotations = g_hash_table_ref(spec->annotations);
	return TRUE;
}

/* The state records the decision, which `state` adds to runc's, and the
 * spec's annotations (for the pod's containers: annotations_validate). */
static int create_trusted(VmctlContext *ctx, const char *id, const char *bundle, const char *decision,
			  GHashTable *annotations, char **verb_argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(ContainerState) st = container_state_new(id);
	const CkConfig *cfg = vmctl_config(ctx, &error);

	st->kind = CONTAINER_KIND_TRUSTED;
	st->bundle = g_strdup(bundle);
	st->trusted_root = vmctl_trusted_root(ctx);
	st->trusted_runtime = g_strdup(cfg->runtime.trusted_runtime);
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, annotations);
	while (g_hash_table_iter_next(&it, &key, &value))
		g_hash_table_insert(st->annotations, g_strdup(key), g_strdup(value));
	g_hash_table_insert(st->annotations, g_strdup(ANNOTATION_TRUST_DECISION), g_strdup(decision));
	int lock = container_state_lock(ctx->root, id, TRUE, TRUE, &error);
	if (lock < 0 || !container_state_write(ctx->root, st, &error))
		return fail(id, g_steal_pointer(&error));
	close(lock);
	return delegate(ctx, st->trusted_runtime, st->trusted_root, verb_argv);
}

int cmd_create(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	g_autofree char *bundle = NULL, *pid_file = NULL, *console = NULL;
	gboolean no_pivot = FALSE, no_new_keyring = FALSE;
	int preserve = 0;
	const char *id;
	GOptionEntry entries[] = {
		{"bundle", 'b', 0, G_OPTION_ARG_FILENAME, &bundle, "path to the bundle", "DIR"},
		{"pid-file", 0, 0, G_OPTION_ARG_FILENAME, &pid_file, "file to write the pid to", "FILE"},
		{"console-socket", 0, 0, G_OPTION_ARG_FILENAME, &console, "socket to send the pty master to", "PATH"},
		{"no-pivot", 0, 0, G_OPTION_ARG_NONE, &no_pivot, "accepted; the guest always uses pivot_root", NULL},
		{"no-new-keyring", 0, 0, G_OPTION_ARG_NONE, &no_new_keyring, "accepted", NULL},
		{"preserve-fds", 0, 0, G_OPTION_ARG_INT, &preserve, "extra fds (not supported in a VM)", "N"},
		{NULL},
	};
	g_autoptr(GError) error = NULL;
	g_autofree char *decision = NULL;
	g_autoptr(GHashTable) annotations = NULL;
	CkTrust trust;

	if (!vmctl_parse_verb_options("create", "ID", entries, &argc, &argv) || !one_id("create", argc, argv, &id))
		return 1;
	if (!container_id_valid(id, &error))
		return fail(id, g_steal_pointer(&error));
	/* runc refuses before it touches anything */
	g_autoptr(ContainerState) existing = container_state_read(ctx->root, id, NULL);
	if (existing != NULL)
		return fail(id, g_error_new(CK_ERROR, CK_ERROR_EXISTS, "a container with this id already exists"));
	g_autofree char *abs_bundle = g_canonicalize_filename(bundle ? bundle : ".", NULL);
	if (!decide_trust(ctx, id, abs_bundle, &trust, &decision, &annotations, &error))
		return fail(id, g_steal_pointer(&error));
	ck_log_debug("container %s: %s", id, decision);
	if (trust == CK_TRUST_TRUSTED)
		return create_trusted(ctx, id, abs_bundle, decision, annotations, orig);
	if (preserve > 0)
		return fail(id, g_error_new(CK_ERROR, CK_ERROR_UNSUPPORTED, "--preserve-fds: fds cannot cross into a VM"));

	g_autoptr(GPtrArray) args = g_ptr_array_new();
	add_common_shim_args(ctx, args, id);
	if (ctx->systemd_cgroup)
		g_ptr_array_add(args, "--systemd-cgroup");
	g_ptr_array_add(args, "-u");
	g_ptr_array_add(args, (char *)id);
	g_ptr_array_add(args, "-b");
	g_ptr_array_add(args, abs_bundle);
	g_ptr_array_add(args, "-i");
	if (pid_file != NULL) {
		g_ptr_array_add(args, "-p");
		g_ptr_array_add(args, pid_file);
	}
	if (console != NULL) {
		g_ptr_array_add(args, "-t");
		g_ptr_array_add(args, "--console-socket");
		g_ptr_array_add(args, console);
	}
	if (!run_shim(ctx, args, TRUE, &error))
		return fail(id, g_steal_pointer(&error));
	return 0;
}

/* --- start, state, kill, delete, pause, resume ------------------------------------------- */

/* The spec kept with a VM container's state, for its poststart and
 * poststop hooks; NULL (logged) when it cannot be read: a hook must never
 * make start or delete fail for a reason of its own. */
static OciSpec *hooks_spec(VmctlContext *ctx, const char *id)
{
	g_autoptr(GError) error = NULL;
	OciSpec *spec = container_state_load_spec(ctx->root, id, &error);

	if (spec == NULL && !ck_error_is(error, CK_ERROR_NOT_FOUND))
		ck_log_warning("%s: hooks: %s", id, error->message);
	return spec;
}

/* poststart (after start returned, in the pod's network namespace) and
 * poststop (after the container is gone, in ours): their failure is only
 * logged (hooks.h). */
static void run_late_hooks(const ContainerState *st, const OciSpec *spec, OciHookStage stage)
{
	g_autofree char *netns = NULL;
	gboolean running = stage == OCI_HOOK_POSTSTART;

	if (spec == NULL)
		return;
	if (running && proc_is_alive(st->pid, st->pid_start))
		netns = g_strdup_printf("/proc/%d/ns/net", (int)st->pid);
	HooksContext hc = {
		.id = st->id,
		.status = running ? "running" : "stopped",
		.pid = running ? st->pid : 0,
		.bundle = st->bundle,
		.annotations = spec->annotations,
		.netns_path = netns,
	};
	(void)hooks_run_stage(spec, stage, &hc, NULL);
}

int cmd_start(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	GOptionEntry entries[] = {{NULL}};
	g_autoptr(GError) error = NULL;
	const char *id;
	int status = 1;

	if (!vmctl_parse_verb_options("start", "ID", entries, &argc, &argv) || !one_id("start", argc, argv, &id))
		return 1;
	g_autoptr(ContainerState) st = vm_or_delegate(ctx, id, orig, &status, &error);
	if (st == NULL)
		return error ? fail(id, g_steal_pointer(&error)) : status;
	g_autoptr(OciSpec) spec = hooks_spec(ctx, id);
	if (!runtime_start(ctx->root, id, &error))
		return fail(id, g_steal_pointer(&error));
	run_late_hooks(st, spec, OCI_HOOK_POSTSTART);
	return 0;
}

/* The annotations runc printed plus the trust decision, sorted by key as
 * Go's encoding/json writes a map; nothing when there are none (runc's
 * omitempty). */
static void write_trusted_annotations(CkJsonGen *g, yajl_val ann, const char *decision)
{
	g_autoptr(GTree) sorted = g_tree_new((GCompareFunc)strcmp);

	for (size_t i = 0; ann != NULL && YAJL_IS_OBJECT(ann) && i < ann->u.object.len; i++)
		g_tree_insert(sorted, (gpointer)ann->u.object.keys[i], (gpointer)YAJL_GET_STRING(ann->u.object.values[i]));
	if (decision != NULL)
		g_tree_insert(sorted, ANNOTATION_TRUST_DECISION, (gpointer)decision);
	if (g_tree_nnodes(sorted) == 0)
		return;
	ck_json_key(g, "annotations");
	ck_json_map_open(g);
	for (GTreeNode *n = g_tree_node_first(sorted); n != NULL; n = g_tree_node_next(n))
		ck_json_kv_string(g, g_tree_node_key(n), g_tree_node_value(n));
	ck_json_map_close(g);
}

/* runc's state object with the trust decision recorded at create
 * (ANNOTATION_TRUST_DECISION) added to its annotations, which runc writes
 * just before "owner". */
static char *trusted_state_with_decision(yajl_val tree, const char *decision, GError **error)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	yajl_val ann = ck_json_get(tree, "annotations");
	gboolean written = FALSE;

	ck_json_map_open(g);
	for (size_t i = 0; i < tree->u.object.len; i++) {
		const char *key = tree->u.object.keys[i];
		if (g_str_equal(key, "annotations"))
			continue;
		if (g_str_equal(key, "owner") && !written) {
			write_trusted_annotations(g, ann, decision);
			written = TRUE;
		}
		ck_json_key(g, key);
		ck_json_value(g, tree->u.object.values[i]);
	}
	if (!written)
		write_trusted_annotations(g, ann, decision);
	ck_json_map_close(g);
	return ck_json_gen_finish_layout(g, OCI_STATE_INDENT, error);
}

/* runc's own `state` of a trusted container, with the trust decision
 * added, in runc's layout. runc's stderr and its failure status pass
 * through. */
static int state_trusted(VmctlContext *ctx, const ContainerState *st, char **verb_argv)
{
	g_autoptr(GPtrArray) argv = trusted_argv(ctx, st->trusted_runtime, st->trusted_root, verb_argv);
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	int wait_status = 0;

	if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &wait_status,
			  &error))
		return fail(st->id, g_steal_pointer(&error));
	if (!g_spawn_check_wait_status(wait_status, NULL))
		return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 1;
	g_auto(yajl_val) tree = ck_json_parse(out, strlen(out), "the trusted runtime's state", &error);
	if (tree == NULL || !YAJL_IS_OBJECT(tree))
		return fail(st->id, error ? g_steal_pointer(&error)
					  : g_error_new(CK_ERROR, CK_ERROR_FAILED, "%s state: not a JSON object",
							st->trusted_runtime));
	const char *decision = g_hash_table_lookup(st->annotations, ANNOTATION_TRUST_DECISION);
	g_autofree char *json = trusted_state_with_decision(tree, decision, &error);
	if (json == NULL)
		return fail(st->id, g_steal_pointer(&error));
	/* runc writes the document without a final newline */
	fputs(json, stdout);
	return 0;
}

int cmd_state(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	GOptionEntry entries[] = {{NULL}};
	g_autoptr(GError) error = NULL;
	const char *id;

	if (!vmctl_parse_verb_options("state", "ID", entries, &argc, &argv) || !one_id("state", argc, argv, &id))
		return 1;
	g_autoptr(ContainerState) st = vmctl_read_state(ctx, id, &error);
	if (st == NULL)
		return fail(id, g_steal_pointer(&error));
	if (st->kind == CONTAINER_KIND_TRUSTED)
		return state_trusted(ctx, st, orig);
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	container_state_write_oci(g, st, "");
	g_autofree char *json = ck_json_gen_finish_layout(g, OCI_STATE_INDENT, &error);
	if (json == NULL)
		return fail(id, g_steal_pointer(&error));
	fputs(json, stdout);
	return 0;
}

int cmd_kill(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	gboolean all = FALSE;
	GOptionEntry entries[] = {
		{"all", 'a', 0, G_OPTION_ARG_NONE, &all, "send the signal to every process of the container", NULL},
		{NULL},
	};
	g_autoptr(GError) error = NULL;
	int sig = SIGTERM, status = 1;

	if (!vmctl_parse_verb_options("kill", "ID [SIGNAL]", entries, &argc, &argv))
		return 1;
	if (argc < 2 || argc > 3) {
		ck_log_error("kill: expected a container id and an optional signal");
		return 1;
	}
	if (argc == 3 && !ck_parse_signal(argv[2], &sig, &error))
		return fail(argv[1], g_steal_pointer(&error));
	g_autoptr(ContainerState) st = vm_or_delegate(ctx, argv[1], orig, &status, &error);
	if (st == NULL)
		return error ? fail(argv[1], g_steal_pointer(&error)) : status;
	if (!runtime_kill(ctx->root, argv[1], sig, all, &error))
		return fail(argv[1], g_steal_pointer(&error));
	return 0;
}

int cmd_delete(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	gboolean force = FALSE;
	GOptionEntry entries[] = {
		{"force", 'f', 0, G_OPTION_ARG_NONE, &force, "kill a running container first", NULL},
		{NULL},
	};
	g_autoptr(GError) error = NULL;
	const char *id;

	if (!vmctl_parse_verb_options("delete", "ID", entries, &argc, &argv) || !one_id("delete", argc, argv, &id))
		return 1;
	g_autoptr(ContainerState) st = vmctl_read_state(ctx, id, &error);
	if (st == NULL) {
		/* runc: deleting what is not there with --force is fine */
		if (force && ck_error_is(error, CK_ERROR_NOT_FOUND)) {
			g_clear_error(&error);
			return runtime_delete_orphan_pod(ctx->root, id, &error) ? 0 : fail(id, g_steal_pointer(&error));
		}
		return fail(id, g_steal_pointer(&error));
	}
	if (st->kind == CONTAINER_KIND_TRUSTED) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(delegate(ctx, st->trusted_runtime, st->trusted_root, orig));
		int status = 1;
		while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
		return container_state_remove(ctx->root, id, &error) ? 0 : fail(id, g_steal_pointer(&error));
	}
	g_autoptr(OciSpec) spec = hooks_spec(ctx, id);
	if (!runtime_delete(ctx->root, id, force, &error))
		return fail(id, g_steal_pointer(&error));
	/* its monitor removes it on the way out, unless it was killed */
	if (spec != NULL)
		host_cgroup_remove(spec->cgroups_path);
	run_late_hooks(st, spec, OCI_HOOK_POSTSTOP);
	return 0;
}

static int pause_resume(VmctlContext *ctx, int argc, char **argv, gboolean pause)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	GOptionEntry entries[] = {{NULL}};
	g_autoptr(GError) error = NULL;
	const char *verb = pause ? "pause" : "resume", *id;
	int status = 1;

	if (!vmctl_parse_verb_options(verb, "ID", entries, &argc, &argv) || !one_id(verb, argc, argv, &id))
		return 1;
	g_autoptr(ContainerState) st = vm_or_delegate(ctx, id, orig, &status, &error);
	if (st == NULL)
		return error ? fail(id, g_steal_pointer(&error)) : status;
	if (!runtime_pause(ctx->root, id, pause, &error))
		return fail(id, g_steal_pointer(&error));
	return 0;
}

int cmd_pause(VmctlContext *ctx, int argc, char **argv)
{
	return pause_resume(ctx, argc, argv, TRUE);
}

int cmd_resume(VmctlContext *ctx, int argc, char **argv)
{
	return pause_resume(ctx, argc, argv, FALSE);
}

/* --- exec ------------------------------------------------------------------------------- */

typedef struct {
	char *process;
	char *cwd;
	char **env;
	char *user;
	char **caps;
	char **groups;
	gboolean tty, detach, no_new_privs;
	char *pid_file;
	char *console;
	int preserve;
	char *label, *apparmor, *cgroup;
	gboolean ignore_paused;
} ExecOpts;

static void exec_opts_clear(ExecOpts *o)
{
	g_free(o->process);
	g_free(o->cwd);
	g_strfreev(o->env);
	g_free(o->user);
	g_strfreev(o->caps);
	g_strfreev(o->groups);
	g_free(o->pid_file);
	g_free(o->console);
	g_free(o->label);
	g_free(o->apparmor);
	g_free(o->cgroup);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ExecOpts, exec_opts_clear)

static char **append_strv(char **base, char **more)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new();

	for (char **b = base; b != NULL && *b != NULL; b++)
		g_ptr_array_add(out, g_strdup(*b));
	for (char **m = more; m != NULL && *m != NULL; m++)
		g_ptr_array_add(out, g_strdup(*m));
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

/* One number of --user uid[:gid]: runc takes numbers only (there is no
 * /etc/passwd lookup), and refuses anything else in Go's words. */
static gboolean parse_user_id(const char *text, const char *what, guint32 *out, GError **error)
{
	guint64 v;

	if (!ck_parse_uint64(text, what, G_MAXUINT32, &v, NULL))
		return ck_set_error(error, CK_ERROR_INVALID,
				    "exec failed: parsing %s as int for %s failed: strconv.Atoi: parsing \"%s\": invalid syntax",
				    text, what, text);
	*out = (guint32)v;
	return TRUE;
}

static gboolean apply_user(OciProcess *p, const ExecOpts *o, GError **error)
{
	g_auto(GStrv) ug = o->user ? g_strsplit(o->user, ":", 2) : NULL;
	guint64 v;

	if (ug != NULL && (!parse_user_id(ug[0], "uid", &p->uid, error) ||
			   (ug[1] != NULL && !parse_user_id(ug[1], "gid", &p->gid, error))))
		return FALSE;
	for (char **g = o->groups; g != NULL && *g != NULL; g++) {
		if (!ck_parse_uint64(*g, "--additional-gids", G_MAXUINT32, &v, error))
			return FALSE;
		p->additional_gids = g_renew(guint32, p->additional_gids, p->n_additional_gids + 1);
		p->additional_gids[p->n_additional_gids++] = (guint32)v;
	}
	return TRUE;
}

/* runc builds an exec's process from the container's and the flags. */
static char *exec_process_from_flags(const ContainerState *st, const ExecOpts *o, char **args, GError **error)
{
	g_autofree char *path = g_build_filename(st->bundle, "config.json", NULL);
	g_autoptr(OciSpec) spec = oci_spec_load_file(path, error);

	if (spec == NULL)
		return NULL;
	OciProcess *p = &spec->process;
	g_strfreev(p->args);
	p->args = g_strdupv(args);
	p->terminal = o->tty;
	if (o->cwd != NULL) {
		g_free(p->cwd);
		p->cwd = g_strdup(o->cwd);
	}
	char **env = append_strv(p->env, o->env);
	g_strfreev(p->env);
	p->env = env;
	if (o->no_new_privs)
		p->no_new_privileges = TRUE;
	char ***sets[] = {&p->caps.bounding, &p->caps.effective, &p->caps.permitted};
	for (gsize i = 0; o->caps != NULL && i < G_N_ELEMENTS(sets); i++) {
		char **merged = append_strv(*sets[i], o->caps);
		g_strfreev(*sets[i]);
		*sets[i] = merged;
		p->has_caps = TRUE;
	}
	if (!apply_user(p, o, error))
		return NULL;
	return oci_process_to_json(p, NULL, error);
}

/* The process spec conmon-kata reads: --process, or the one built from
 * the flags, in a memfd the shim inherits (nothing is left on disk). */
static char *exec_process_file(const ContainerState *st, const ExecOpts *o, char **args, GError **error)
{
	if (o->process != NULL)
		return g_canonicalize_filename(o->process, NULL);
	if (args == NULL || args[0] == NULL)
		return ck_set_error(error, CK_ERROR_INVALID, "exec: a command or --process is required"), NULL;
	g_autofree char *json = exec_process_from_flags(st, o, args, error);
	if (json == NULL)
		return NULL;
	int fd = memfd_create("exec-process", 0);
	if (fd < 0 || !ck_write_all(fd, json, strlen(json)))
		return ck_set_error_errno(error, errno, "exec: write the process spec"), NULL;
	return g_strdup_printf("/proc/self/fd/%d", fd);
}

static gboolean parse_exec(int *argc, char ***argv, ExecOpts *o)
{
	GOptionEntry entries[] = {
		{"process", 'p', 0, G_OPTION_ARG_FILENAME, &o->process, "process.json to run", "FILE"},
		{"console-socket", 0, 0, G_OPTION_ARG_FILENAME, &o->console, "socket for the pty master", "PATH"},
		{"cwd", 0, 0, G_OPTION_ARG_STRING, &o->cwd, "working directory", "DIR"},
		{"env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &o->env, "environment variable", "KEY=VALUE"},
		{"tty", 't', 0, G_OPTION_ARG_NONE, &o->tty, "allocate a terminal", NULL},
		{"user", 'u', 0, G_OPTION_ARG_STRING, &o->user, "uid[:gid]", "UID[:GID]"},
		{"additional-gids", 'g', 0, G_OPTION_ARG_STRING_ARRAY, &o->groups, "additional gid", "GID"},
		{"process-label", 0, 0, G_OPTION_ARG_STRING, &o->label, "accepted, ignored (no LSM in the guest)", "L"},
		{"apparmor", 0, 0, G_OPTION_ARG_STRING, &o->apparmor, "accepted, ignored", "P"},
		{"detach", 'd', 0, G_OPTION_ARG_NONE, &o->detach, "detach from the process", NULL},
		{"pid-file", 0, 0, G_OPTION_ARG_FILENAME, &o->pid_file, "file to write the pid to", "FILE"},
		{"no-new-privs", 0, 0, G_OPTION_ARG_NONE, &o->no_new_privs, "set no_new_privileges", NULL},
		{"cap", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &o->caps, "add a capability", "CAP"},
		{"preserve-fds", 0, 0, G_OPTION_ARG_INT, &o->preserve, "not supported in a VM", "N"},
		{"cgroup", 0, 0, G_OPTION_ARG_STRING, &o->cgroup, "accepted, ignored", "PATH"},
		{"ignore-paused", 0, 0, G_OPTION_ARG_NONE, &o->ignore_paused, "accepted", NULL},
		{NULL},
	};
	g_autofree char *title = g_strdup("exec ID [COMMAND [ARG...]]");
	g_autoptr(GOptionContext) oc = g_option_context_new(title);
	g_autoptr(GError) error = NULL;

	/* options stop at the id: the command's own options are its own */
	g_option_context_set_strict_posix(oc, TRUE);
	g_option_context_add_main_entries(oc, entries, NULL);
	if (!g_option_context_parse(oc, argc, argv, &error)) {
		ck_log_error("exec: %s", error->message);
		return FALSE;
	}
	return TRUE;
}

int cmd_exec(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	g_auto(ExecOpts) o = {0};
	g_autoptr(GError) error = NULL;
	int status = 1;

	if (!parse_exec(&argc, &argv, &o))
		return 1;
	if (argc < 2) {
		ck_log_error("exec: expected a container id");
		return 1;
	}
	const char *id = argv[1];
	g_autoptr(ContainerState) st = vm_or_delegate(ctx, id, orig, &status, &error);
	if (st == NULL)
		return error ? fail(id, g_steal_pointer(&error)) : status;
	if (!g_str_equal(container_state_status(st, NULL), "running"))
		return fail(id, g_error_new_literal(CK_ERROR, CK_ERROR_INVALID, "cannot exec in a stopped container"));
	g_autofree char *process = exec_process_file(st, &o, argv + 2, &error);
	if (process == NULL && g_str_has_prefix(error->message, "exec failed: ")) {
		fail(NULL, g_steal_pointer(&error)); /* runc's words, and its status */
		return 255;
	}
	if (process == NULL)
		return fail(id, g_steal_pointer(&error));

	g_autoptr(GPtrArray) args = g_ptr_array_new();
	add_common_shim_args(ctx, args, id);
	/* an exec session has no attach socket of its own; conmon's
	 * command line still wants a unique id for it */
	g_ptr_array_add(args, "-u");
	g_ptr_array_add(args, g_uuid_string_random());
	g_ptr_array_add(args, "-e");
	g_ptr_array_add(args, "--exec-process-spec");
	g_ptr_array_add(args, process);
	g_ptr_array_add(args, "-i");
	if (o.pid_file != NULL) {
		g_ptr_array_add(args, "-p");
		g_ptr_array_add(args, o.pid_file);
	}
	if (o.console != NULL) {
		g_ptr_array_add(args, "--console-socket");
		g_ptr_array_add(args, o.console);
	}
	/* the monitor's message names the container already; runc's exec
	 * exits 255 when the process cannot be started */
	if (o.detach)
		return run_shim(ctx, args, TRUE, &error) ? 0 : (fail(NULL, g_steal_pointer(&error)), 255);
	/* foreground: conmon-kata takes over this very process (its pid is
	 * ours), relays our stdio or terminal, and exits with the status */
	g_autofree char *monitor = find_monitor();
	if (monitor == NULL)
		return fail(id, g_error_new_literal(CK_ERROR, CK_ERROR_NOT_FOUND, "conmon-kata not found"));
	g_ptr_array_insert(args, 0, monitor);
	g_ptr_array_add(args, "--sync");
	g_ptr_array_add(args, NULL);
	execv(monitor, (char **)args->pdata);
	return fail(id, g_error_new(CK_ERROR, CK_ERROR_FAILED, "run %s: %s", monitor, g_strerror(errno)));
}

/* --- ps, update, list ---------------------------------------------------------------------- */

int cmd_ps(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	g_autofree char *format = NULL;
	GOptionEntry entries[] = {
		{"format", 'f', 0, G_OPTION_ARG_STRING, &format, "table or json", "FORMAT"},
		{NULL},
	};
	g_autoptr(GError) error = NULL;
	int status = 1;

	if (!vmctl_parse_verb_options("ps", "ID", entries, &argc, &argv) || argc < 2)
		return 1;
	g_autoptr(ContainerState) st = vm_or_delegate(ctx, argv[1], orig, &status, &error);
	if (st == NULL)
		return error ? fail(argv[1], g_steal_pointer(&error)) : status;
	g_autoptr(GArray) pids = runtime_ps(ctx->root, argv[1], &error);
	if (pids == NULL)
		return fail(argv[1], g_steal_pointer(&error));
	if (format != NULL && g_str_equal(format, "json")) {
		/* runc: json.Encoder of a Go slice, `null` when empty */
		printf(pids->len > 0 ? "[" : "null");
		for (guint i = 0; i < pids->len; i++)
			printf("%s%d", i ? "," : "", g_array_index(pids, int, i));
		printf(pids->len > 0 ? "]\n" : "\n");
		return 0;
	}
	/* guest pids: the processes live in the VM */
	printf("PID\n");
	for (guint i = 0; i < pids->len; i++)
		printf("%d\n", g_array_index(pids, int, i));
	return 0;
}

int cmd_update(VmctlContext *ctx, int argc, char **argv);

/* runc's `list --format json`: one compact line, the array of the state
 * objects with each owner's name, and `null` when there is none (Go's
 * encoding of an empty slice). */
static int list_json(const char *root, GPtrArray *ids)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	g_autoptr(GError) error = NULL;
	guint n = 0;

	ck_json_array_open(g);
	for (guint i = 0; i < ids->len; i++) {
		g_autoptr(ContainerState) st = container_state_read(root, g_ptr_array_index(ids, i), NULL);
		if (st == NULL)
			continue;
		g_autofree char *owner = container_state_owner_name(root, st->id);
		container_state_write_oci(g, st, owner);
		n++;
	}
	ck_json_array_close(g);
	g_autofree char *json = ck_json_gen_finish_layout(g, NULL, &error);
	if (json == NULL)
		return fail(NULL, g_steal_pointer(&error));
	printf("%s\n", n > 0 ? json : "null");
	return 0;
}

int cmd_list(VmctlContext *ctx, int argc, char **argv)
{
	g_autofree char *format = NULL;
	gboolean quiet = FALSE;
	GOptionEntry entries[] = {
		{"format", 'f', 0, G_OPTION_ARG_STRING, &format, "table or json", "FORMAT"},
		{"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "only the ids", NULL},
		{NULL},
	};
	g_autoptr(GError) error = NULL;

	if (!vmctl_parse_verb_options("list", NULL, entries, &argc, &argv))
		return 1;
	g_autoptr(GPtrArray) ids = container_state_list(ctx->root, &error);
	if (ids == NULL)
		return fail(NULL, g_steal_pointer(&error));
	if (format != NULL && g_str_equal(format, "json"))
		return list_json(ctx->root, ids);
	if (!quiet)
		printf("%-64s %-8s %-8s %-8s %s\n", "ID", "PID", "STATUS", "KIND", "BUNDLE");
	for (guint i = 0; i < ids->len; i++) {
		g_autoptr(ContainerState) st = container_state_read(ctx->root, g_ptr_array_index(ids, i), NULL);
		pid_t pid = 0;
		if (st == NULL)
			continue;
		const char *status = container_state_status(st, &pid);
		if (quiet)
			printf("%s\n", st->id);
		else
			printf("%-64s %-8d %-8s %-8s %s\n", st->id, (int)pid, status,
			       st->kind == CONTAINER_KIND_TRUSTED ? "trusted" : "vm", st->bundle ? st->bundle : "");
	}
	return 0;
}
