/* container: container objects and the container/process operations. */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "base/ck-parse.h"
#include "hooks/hooks.h"
#include "cgroup.h"
#include "guest-hooks.h"
#include "mounts.h"
#include "guest-paths.h"
#include "oci/oci-seccomp.h"

#define SPAWN_TIMEOUT_MS 30000
#define REMOVE_TIMEOUT_MS 10000

struct Container {
	Agent *agent;
	char *id;
	OciSpec *spec;
	ContainerStatus status;
	Process *init;
	GHashTable *execs; /* exec_id -> Process* */
	char *rootfs;
	char *bundle; /* the hooks' "bundle": the guest directory of the rootfs */
	char *cgroup;
	GBytes *seccomp_bpf; /* its processes' seccomp program; NULL: none */
	guint seccomp_flags;
	int oom_wd;
	gint64 oom_kills;
	gboolean oom_killed;
	GPtrArray *remove_waiters; /* remove requests waiting for the init to die */
};

static const char *const status_names[] = {
	[CONTAINER_CREATED] = "created",
	[CONTAINER_RUNNING] = "running",
	[CONTAINER_PAUSED] = "paused",
	[CONTAINER_STOPPED] = "stopped",
};

const char *container_status_to_string(ContainerStatus status)
{
	return status_names[status];
}

static void container_free(Container *c)
{
	if (c->oom_wd >= 0 && c->agent->inotify_fd >= 0)
		(void)inotify_rm_watch(c->agent->inotify_fd, c->oom_wd);
	if (c->execs != NULL)
		g_hash_table_unref(c->execs);
	process_free(c->init);
	oci_spec_free(c->spec);
	if (c->remove_waiters != NULL)
		g_ptr_array_unref(c->remove_waiters);
	g_free(c->rootfs);
	g_free(c->bundle);
	g_free(c->cgroup);
	if (c->seccomp_bpf != NULL)
		g_bytes_unref(c->seccomp_bpf);
	g_free(c->id);
	g_free(c);
}

/* --- argument helpers ------------------------------------------------------ */

static gboolean valid_id(const char *id)
{
	if (id == NULL || *id == '\0' || strlen(id) > 128 || !g_ascii_isalnum(*id))
		return FALSE;
	for (const char *p = id; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-' && *p != '.')
			return FALSE;
	return TRUE;
}

static Container *lookup(Agent *agent, const char *id, GError **error)
{
	Container *c = id ? g_hash_table_lookup(agent->containers, id) : NULL;

	if (c == NULL)
		ck_set_error(error, CK_ERROR_NOT_FOUND, "container '%s' does not exist", id ? id : "");
	return c;
}

static gboolean need_id(const char *id, CkOp op, GError **error)
{
	if (!valid_id(id))
		return ck_set_error(error, CK_ERROR_INVALID, "%s: id: '%s' is not a valid container id", ck_op_name(op),
				    id ? id : "");
	return TRUE;
}

/* The process an operation names: a handle, or a container (+ exec id). */
static Process *find_process(Agent *agent, const CkProcessRef *a, CkOp op, GError **error)
{
	if (a->handle != 0) {
		Process *p = process_lookup_handle(agent, a->handle);
		if (p == NULL)
			ck_set_error(error, CK_ERROR_NOT_FOUND, "%s: no process with handle %u", ck_op_name(op),
				     a->handle);
		return p;
	}
	if (!need_id(a->id, op, error))
		return NULL;
	Container *c = lookup(agent, a->id, error);
	if (c == NULL)
		return NULL;
	if (a->exec_id == NULL)
		return c->init;
	Process *p = g_hash_table_lookup(c->execs, a->exec_id);
	if (p == NULL)
		ck_set_error(error, CK_ERROR_NOT_FOUND, "%s: container '%s' has no exec process '%s'", ck_op_name(op),
			     a->id, a->exec_id);
	return p;
}

/* The container an operation names by its id. */
static Container *container_arg(AgentRequest *req, const char *id, GError **error)
{
	if (!need_id(id, req->op, error))
		return NULL;
	return lookup(req->agent, id, error);
}

/* --- namespaces ------------------------------------------------------------- */

static char *ns_source_path(Agent *agent, const OciNamespace *ns, gsize index, GError **error)
{
	if (g_str_has_prefix(ns->path, "container:")) {
		Container *other = g_hash_table_lookup(agent->containers, ns->path + strlen("container:"));
		if (other == NULL || other->init == NULL || other->init->exited)
			return ck_set_error(error, CK_ERROR_NOT_FOUND,
					    "linux.namespaces[%" G_GSIZE_FORMAT "].path: '%s' is not a running container",
					    index, ns->path),
			       NULL;
		return g_strdup_printf("/proc/%d/ns/%s", other->init->pid, oci_namespace_proc_name(ns->type));
	}
	if (g_str_has_prefix(ns->path, "/proc/"))
		return g_strdup(ns->path);
	return ck_set_error(error, CK_ERROR_INVALID,
			    "linux.namespaces[%" G_GSIZE_FORMAT "].path: '%s' is not a namespace of this sandbox",
			    index, ns->path),
	       NULL;
}

/* "<container id> <host id> <size>" lines, as /proc/<pid>/uid_map takes them. */
static char *id_map_text(const OciIdMapping *maps, gsize n)
{
	GString *text = g_string_new(NULL);

	for (gsize i = 0; i < n; i++)
		g_string_append_printf(text, "%u %u %u\n", maps[i].container_id, maps[i].host_id, maps[i].size);
	return g_string_free(text, FALSE);
}

/* A new user namespace takes the spec's mappings (runc refuses one
 * without: "user namespaces enabled, but no uid mappings found"). */
static gboolean plan_user_namespace(SpawnPlan *plan, const OciSpec *spec, GError **error)
{
	if (spec->n_uid_mappings == 0)
		return ck_set_error(error, CK_ERROR_INVALID, "linux.uidMappings: required for a new user namespace");
	if (spec->n_gid_mappings == 0)
		return ck_set_error(error, CK_ERROR_INVALID, "linux.gidMappings: required for a new user namespace");
	plan->uid_map = id_map_text(spec->uid_mappings, spec->n_uid_mappings);
	plan->gid_map = id_map_text(spec->gid_mappings, spec->n_gid_mappings);
	return TRUE;
}

static gboolean plan_namespaces(Agent *agent, SpawnPlan *plan, const OciSpec *spec, GError **error)
{
	for (gsize i = 0; i < spec->n_namespaces; i++) {
		const OciNamespace *ns = &spec->namespaces[i];
		if (ns->type == OCI_NS_NETWORK)
			continue;
		if (ns->type == OCI_NS_TIME)
			return ck_set_error(error, CK_ERROR_UNSUPPORTED,
					    "linux.namespaces[%" G_GSIZE_FORMAT "]: %s namespaces are not supported in "
					    "the VM",
					    i, oci_namespace_type_to_string(ns->type));
		if (ns->type == OCI_NS_USER && ns->path == NULL) {
			if (!plan_user_namespace(plan, spec, error))
				return FALSE;
			continue;
		}
		if (ns->path == NULL) {
			plan->unshare_flags |= oci_namespace_clone_flag(ns->type);
			continue;
		}
		g_autofree char *src = ns_source_path(agent, ns, i, error);
		if (src == NULL)
			return FALSE;
		plan->join_fds[ns->type] = open(src, O_RDONLY | O_CLOEXEC);
		if (plan->join_fds[ns->type] < 0)
			return ck_set_error_errno(error, errno, "linux.namespaces[%" G_GSIZE_FORMAT "]: %s", i, src);
	}
	if (!(plan->unshare_flags & CLONE_NEWNS) && plan->join_fds[OCI_NS_MOUNT] < 0)
		return ck_set_error(error, CK_ERROR_INVALID, "linux.namespaces: a container needs its own mount namespace");
	return TRUE;
}

/* exec: every namespace of the init process, and its cgroup */
static gboolean plan_join_container(SpawnPlan *plan, Container *c, GError **error)
{
	static const OciNamespaceType types[] = {OCI_NS_PID, OCI_NS_MOUNT,  OCI_NS_IPC,
						 OCI_NS_UTS, OCI_NS_CGROUP, OCI_NS_USER};

	for (gsize i = 0; i < G_N_ELEMENTS(types); i++) {
		g_autofree char *path =
		    g_strdup_printf("/proc/%d/ns/%s", c->init->pid, oci_namespace_proc_name(types[i]));
		g_autofree char *own = g_strdup_printf("/proc/self/ns/%s", oci_namespace_proc_name(types[i]));
		struct stat a, b;
		/* joining our own namespace is pointless, and for pid illegal */
		if (stat(path, &a) == 0 && stat(own, &b) == 0 && a.st_ino == b.st_ino)
			continue;
		plan->join_fds[types[i]] = open(path, O_RDONLY | O_CLOEXEC);
		if (plan->join_fds[types[i]] < 0)
			return ck_set_error_errno(error, errno, "container '%s': %s", c->id, path);
	}
	plan->cgroup_procs = g_build_filename(c->cgroup, "cgroup.procs", NULL);
	return TRUE;
}

/* --- create -------------------------------------------------------------------- */

static gboolean check_rootfs(const char *rootfs, GError **error)
{
	if (rootfs == NULL || rootfs[0] != '/' || strstr(rootfs, "/../") != NULL || g_str_has_suffix(rootfs, "/.."))
		return ck_set_error(error, CK_ERROR_INVALID, "rootfs: '%s' is not an absolute path",
				    rootfs ? rootfs : "");
	if (!g_file_test(rootfs, G_FILE_TEST_IS_DIR))
		return ck_set_error(error, CK_ERROR_NOT_FOUND, "rootfs: %s is not a directory in the guest", rootfs);
	return TRUE;
}

/* Bind sources must come from what the host shared or copied in. */
static gboolean check_mount_sources(const OciSpec *spec, GError **error)
{
	for (gsize i = 0; i < spec->n_mounts; i++) {
		const OciMount *m = &spec->mounts[i];
		gboolean bind = g_strcmp0(m->type, "bind") == 0 ||
				(m->options && (g_strv_contains((const char *const *)m->options, "bind") ||
						g_strv_contains((const char *const *)m->options, "rbind")));
		if (!bind)
			continue;
		if (m->source == NULL || !guest_path_is_shared(m->source))
			return ck_set_error(error, CK_ERROR_INVALID,
					    "mounts[%" G_GSIZE_FORMAT "].source: '%s' is outside what the host shared "
					    "with the guest",
					    i, m->source ? m->source : "");
	}
	return TRUE;
}

static void plan_misc(SpawnPlan *plan, const OciSpec *spec)
{
	GHashTableIter it;
	gpointer k, v;
	g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func(g_free);

	if (plan->unshare_flags & CLONE_NEWUTS) {
		plan->hostname = g_strdup(spec->hostname);
		plan->domainname = g_strdup(spec->domainname);
	}
	g_hash_table_iter_init(&it, spec->sysctl);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		g_ptr_array_add(keys, g_strdup(k));
		g_ptr_array_add(values, g_strdup(v));
	}
	g_ptr_array_add(keys, NULL);
	g_ptr_array_add(values, NULL);
	plan->sysctl_keys = (char **)g_ptr_array_free(g_steal_pointer(&keys), FALSE);
	plan->sysctl_values = (char **)g_ptr_array_free(g_steal_pointer(&values), FALSE);
	if (spec->process.apparmor_profile != NULL || spec->process.selinux_label != NULL)
		ck_log_debug("apparmorProfile/selinuxLabel: no LSM in the guest, ignored");
}

/* The container's seccomp program: the one the host compiled and sent
 * (its monitor does, docs/protocol.md), or, from a client that sends only
 * the profile, compiled here. Its execs get the same program. */
static gboolean container_seccomp(Agent *agent, Container *c, const CkCreateContainerArgs *a, GError **error)
{
	if (a->seccomp_bpf != NULL) {
		gsize len = 0;
		guchar *bytes = g_base64_decode(a->seccomp_bpf, &len);
		g_autoptr(GBytes) program = g_bytes_new_take(bytes, len);

		if (a->seccomp_flags < 0 || a->seccomp_flags > G_MAXUINT32)
			return ck_set_error(error, CK_ERROR_INVALID, "seccomp_flags: %" G_GINT64_FORMAT " is out of range",
					    a->seccomp_flags);
		if (!oci_seccomp_check_bpf(program, (guint)a->seccomp_flags, "seccomp_bpf", error))
			return FALSE;
		c->seccomp_bpf = g_steal_pointer(&program);
		c->seccomp_flags = (guint)a->seccomp_flags;
		return TRUE;
	}
	if (a->seccomp_flags != 0)
		return ck_set_error(error, CK_ERROR_INVALID, "seccomp_flags: given without seccomp_bpf");
	if (c->spec->seccomp == NULL)
		return TRUE;
	g_autoptr(OciSeccomp) s = oci_seccomp_compile(c->spec->seccomp, "linux.seccomp", &agent->seccomp_abis, error);
	return s != NULL && oci_seccomp_export_bpf(s, &c->seccomp_bpf, &c->seccomp_flags, error);
}

static void plan_seccomp(SpawnPlan *plan, const Container *c)
{
	if (c->seccomp_bpf == NULL)
		return;
	plan->seccomp_bpf = g_bytes_ref(c->seccomp_bpf);
	plan->seccomp_flags = c->seccomp_flags;
}

static gboolean plan_init(Agent *agent, Container *c, Process *proc, SpawnPlan *plan, GError **error)
{
	const OciSpec *spec = c->spec;

	if (!spec->has_process)
		return ck_set_error(error, CK_ERROR_INVALID, "process: required to create a container");
	if (!spawn_plan_set_process(plan, &spec->process, "process", error) ||
	    !plan_namespaces(agent, plan, spec, error) || !check_mount_sources(spec, error) ||
	    !mounts_plan(plan, spec, c->rootfs, error))
		return FALSE;
	plan_seccomp(plan, c);
	plan_misc(plan, spec);
	plan->cgroup_procs = g_build_filename(c->cgroup, "cgroup.procs", NULL);
	plan->wait_for_start = TRUE;
	plan->hooks = (SpawnHooks){
		.create_container = &spec->hooks[OCI_HOOK_CREATE_CONTAINER],
		.start_container = &spec->hooks[OCI_HOOK_START_CONTAINER],
		.id = c->id,
		.bundle = c->bundle,
		.annotations = spec->annotations,
	};
	process_fill_plan(proc, plan);
	return TRUE;
}

static gboolean start_oom_watch(Container *c)
{
	g_autofree char *events = g_build_filename(c->cgroup, "memory.events", NULL);

	c->oom_kills = MAX(cgroup_oom_kills(c->cgroup), 0);
	if (c->agent->inotify_fd < 0)
		return FALSE;
	c->oom_wd = inotify_add_watch(c->agent->inotify_fd, events, IN_MODIFY);
	if (c->oom_wd >= 0)
		g_hash_table_insert(c->agent->oom_watches, GINT_TO_POINTER(c->oom_wd), c);
	return c->oom_wd >= 0;
}

static Container *container_new(Agent *agent, const CkCreateContainerArgs *a, OciSpec *spec)
{
	Container *c = g_new0(Container, 1);

	c->agent = agent;
	c->id = g_strdup(a->id);
	c->spec = spec;
	c->rootfs = g_strdup(a->rootfs);
	c->bundle = g_path_get_dirname(a->rootfs);
	c->cgroup = cgroup_path_for(a->id);
	c->execs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)process_free);
	c->oom_wd = -1;
	c->remove_waiters = g_ptr_array_new();
	return c;
}

static void on_process_exiting(Container *c, Process *proc);
static void on_process_finished(Container *c, Process *proc);

/* What a process of c knows of it (process.h). */
static ProcessOwner owner_of(Container *c)
{
	return (ProcessOwner){c, c->id, on_process_exiting, on_process_finished};
}

/* The steps of create_container, each a monotonic moment (us) at its
 * end; the reply carries their durations (CkCreateSteps, protocol.md),
 * which the host logs for the sandbox (docs/performance.md, pod ready). */
typedef enum {
	CREATE_BEGIN,
	CREATE_SPEC,	   /* the spec parsed */
	CREATE_STDIO,	   /* the init's stdio pipes or pty made */
	CREATE_CGROUP,	   /* its cgroup made, resources set */
	CREATE_PLAN,	   /* namespaces, mounts and seccomp planned */
	CREATE_NAMESPACES, /* = SpawnedProcess.pid_at_us */
	CREATE_SETUP,	   /* = SpawnedProcess.ready_at_us */
	CREATE_DONE,	   /* the agent's bookkeeping */
	CREATE_N_STEPS,
} CreateStep;

/* How long step `s` took: from the end of the one before it. */
static gint64 step_us(const gint64 at[CREATE_N_STEPS], CreateStep s)
{
	return MAX(at[s] - at[s - 1], 0);
}

static void create_steps_result(const gint64 at[CREATE_N_STEPS], CkCreateSteps *out)
{
	out->spec = step_us(at, CREATE_SPEC);
	out->stdio = step_us(at, CREATE_STDIO);
	out->cgroup = step_us(at, CREATE_CGROUP);
	out->plan = step_us(at, CREATE_PLAN);
	out->namespaces = step_us(at, CREATE_NAMESPACES);
	out->setup = step_us(at, CREATE_SETUP);
	out->done = step_us(at, CREATE_DONE);
}

/* Creates the init process's stdio, the cgroup, and the held child. */
static gboolean spawn_init(Agent *agent, Container *c, const CkCreateContainerArgs *a, SpawnedProcess *sp,
			   gint64 *at, GError **error)
{
	const OciProcess *p = &c->spec->process;
	g_auto(SpawnPlan) plan;

	spawn_plan_init(&plan);
	if (!c->spec->has_process)
		return ck_set_error(error, CK_ERROR_INVALID, "process: required to create a container");
	ProcessOwner owner = owner_of(c);

	c->init = process_new(agent, &owner, NULL, p->terminal, a->stdin_, p->console_height, p->console_width, error);
	if (c->init == NULL)
		return FALSE;
	at[CREATE_STDIO] = g_get_monotonic_time();
	if (!cgroup_create(c->cgroup, c->spec->has_resources ? &c->spec->resources : NULL, error))
		return FALSE;
	at[CREATE_CGROUP] = g_get_monotonic_time();
	/* READY comes after the createContainer hooks */
	int timeout_ms = SPAWN_TIMEOUT_MS + guest_hooks_budget_ms(&c->spec->hooks[OCI_HOOK_CREATE_CONTAINER]);
	gboolean planned = container_seccomp(agent, c, a, error) && plan_init(agent, c, c->init, &plan, error);
	at[CREATE_PLAN] = g_get_monotonic_time();
	if (!planned || !spawn_process(&plan, timeout_ms, sp, error)) {
		(void)cgroup_destroy(c->cgroup, REMOVE_TIMEOUT_MS, NULL);
		return FALSE;
	}
	at[CREATE_NAMESPACES] = sp->pid_at_us;
	at[CREATE_SETUP] = sp->ready_at_us;
	return TRUE;
}

static gboolean create(Agent *agent, const CkCreateContainerArgs *a, OciSpec *spec, gint64 *at,
		       CkSpawnResult *result, GError **error)
{
	Container *c = container_new(agent, a, spec);
	SpawnedProcess sp = {.sync_fd = -1, .pty_master = -1};

	/* the other stages are the host's (it strips them; an older host
	 * may not): they are not run here */
	guest_hooks_set_default_timeout(&spec->hooks[OCI_HOOK_CREATE_CONTAINER]);
	guest_hooks_set_default_timeout(&spec->hooks[OCI_HOOK_START_CONTAINER]);

	if (!spawn_init(agent, c, a, &sp, at, error)) {
		g_prefix_error(error, "create container %s: ", a->id);
		container_free(c);
		return FALSE;
	}
	process_started(c->init, &sp);
	start_oom_watch(c);
	g_hash_table_insert(agent->containers, c->id, c);
	at[CREATE_DONE] = g_get_monotonic_time();
	result->handle = c->init->handle;
	result->pid = c->init->pid;
	create_steps_result(at, &result->steps_us);
	return TRUE;
}

gboolean op_create_container(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	const CkCreateContainerArgs *a = args;
	gint64 at[CREATE_N_STEPS] = {[CREATE_BEGIN] = g_get_monotonic_time()};

	if (!need_id(a->id, req->op, error))
		return FALSE;
	if (g_hash_table_contains(req->agent->containers, a->id))
		return ck_set_error(error, CK_ERROR_EXISTS, "create container %s: already exists", a->id);
	if (a->spec == NULL)
		return ck_set_error(error, CK_ERROR_INVALID, "create container %s: spec: required", a->id);
	if (!check_rootfs(a->rootfs, error)) {
		g_prefix_error(error, "create container %s: ", a->id);
		return FALSE;
	}
	/* the request's own tree becomes the spec's: no copy (a->spec, the
	 * same node, is only borrowed) */
	OciSpec *spec = oci_spec_from_tree(ck_json_take(req->tree, "spec"), "spec", error);
	if (spec == NULL) {
		g_prefix_error(error, "create container %s: ", a->id);
		return FALSE;
	}
	at[CREATE_SPEC] = g_get_monotonic_time();
	return create(req->agent, a, spec, at, result, error);
}

/* --- guest hooks --------------------------------------------------------------- */

/* Runs Kata's guest hooks of `stage` for c (guest-hooks.h); the state
 * carries `status` and the init's pid. */
static gboolean run_guest_hooks(Container *c, OciHookStage stage, const char *status, GError **error)
{
	if (c->agent->guest_hooks.lists[stage].n_hooks == 0)
		return TRUE;
	g_autofree char *state = hooks_state_json(c->id, status, c->init != NULL ? c->init->pid : 0, c->bundle,
						  c->spec->annotations);
	if (state == NULL)
		return ck_set_error(error, CK_ERROR_FAILED, "guest %s hooks: the state of %s cannot be written as JSON",
				    oci_hook_stage_to_string(stage), c->id);
	return guest_hooks_run(&c->agent->guest_hooks, stage, state, error);
}

/* poststart and poststop: failures are logged, never returned */
static void run_guest_hooks_logged(Container *c, OciHookStage stage, const char *status)
{
	g_autoptr(GError) error = NULL;

	if (!run_guest_hooks(c, stage, status, &error))
		ck_log_warning("container %s: %s, ignoring", c->id, error->message);
}

/* --- start, exec ----------------------------------------------------------------- */

/* Guest prestart hooks, the release (with the startContainer hooks in the
 * child), guest poststart hooks. */
static gboolean start(Container *c, GError **error)
{
	int timeout_ms = SPAWN_TIMEOUT_MS + guest_hooks_budget_ms(&c->spec->hooks[OCI_HOOK_START_CONTAINER]);

	if (!run_guest_hooks(c, OCI_HOOK_PRESTART, "created", error)) {
		/* runtime-spec: a failed prestart hook stops the container */
		(void)process_signal(c->init, SIGKILL, NULL);
		return FALSE;
	}
	if (!spawn_release(&c->init->spawned, timeout_ms, error))
		return FALSE;
	c->status = CONTAINER_RUNNING;
	run_guest_hooks_logged(c, OCI_HOOK_POSTSTART, "running");
	return TRUE;
}

gboolean op_start_container(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	const CkContainerArgs a = *(const CkContainerArgs *)args;
	Container *c = container_arg(req, a.id, error);

	(void)result;
	if (c == NULL)
		return FALSE;
	if (c->status != CONTAINER_CREATED)
		return ck_set_error(error, CK_ERROR_INVALID, "start container %s: cannot start a container that is %s",
				    a.id, status_names[c->status]);
	if (c->init->exited)
		return ck_set_error(error, CK_ERROR_INVALID, "start container %s: the container process already exited",
				    a.id);
	if (!start(c, error)) {
		g_prefix_error(error, "start container %s: ", a.id);
		return FALSE;
	}
	return TRUE;
}

gboolean op_exec_process(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	const CkExecProcessArgs a = *(const CkExecProcessArgs *)args;
	CkSpawnResult *r = result;
	g_auto(SpawnPlan) plan;
	OciProcess proc_spec = {0};
	Container *c = container_arg(req, a.id, error);

	spawn_plan_init(&plan);
	if (c == NULL)
		return FALSE;
	if (a.exec_id == NULL || !valid_id(a.exec_id) || a.process == NULL)
		return ck_set_error(error, CK_ERROR_INVALID, "exec in %s: exec_id and process are required", a.id);
	if (g_hash_table_contains(c->execs, a.exec_id))
		return ck_set_error(error, CK_ERROR_EXISTS, "exec in %s: exec id '%s' is in use", a.id, a.exec_id);
	if (c->status != CONTAINER_RUNNING || c->init->exited)
		return ck_set_error(error, CK_ERROR_INVALID, "exec in %s: container is %s, not running", a.id,
				    c->init->exited ? "stopped" : status_names[c->status]);

	gboolean ok = oci_process_parse(a.process, "process", &proc_spec, error) &&
		      spawn_plan_set_process(&plan, &proc_spec, "process", error) &&
		      plan_join_container(&plan, c, error);
	if (ok)
		plan_seccomp(&plan, c);
	ProcessOwner owner = owner_of(c);
	Process *proc = ok ? process_new(req->agent, &owner, a.exec_id, proc_spec.terminal, a.stdin_,
					 proc_spec.console_height, proc_spec.console_width, error)
			   : NULL;
	oci_process_clear(&proc_spec);
	SpawnedProcess sp = {.sync_fd = -1, .pty_master = -1};
	if (proc != NULL)
		process_fill_plan(proc, &plan);
	if (proc == NULL || !spawn_process(&plan, SPAWN_TIMEOUT_MS, &sp, error)) {
		process_free(proc);
		g_prefix_error(error, "exec in %s: ", a.id);
		return FALSE;
	}
	process_started(proc, &sp);
	g_hash_table_insert(c->execs, proc->exec_id, proc);
	r->handle = proc->handle;
	r->pid = proc->pid;
	return TRUE;
}

/* --- signals, waits, terminals ------------------------------------------------ */

gboolean op_signal_process(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	const CkSignalProcessArgs *a = args;

	(void)result;
	if (a->signal < 1 || a->signal > SIGRTMAX)
		return ck_set_error(error, CK_ERROR_INVALID, "signal_process: signal %" G_GINT64_FORMAT " is invalid",
				    a->signal);
	if (a->all) {
		Container *c = container_arg(req, a->ref.id, error);
		return c != NULL && cgroup_signal_all(c->cgroup, (int)a->signal, error);
	}
	Process *p = find_process(req->agent, &a->ref, req->op, error);
	return p != NULL && process_signal(p, (int)a->signal, error);
}

gboolean op_wait_process(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	const CkWaitProcessArgs *a = args;

	(void)result;
	Process *p = find_process(req->agent, &a->ref, req->op, error);
	if (p == NULL)
		return FALSE;
	process_add_waiter(p, req);
	/* answered now (already exited) or later: either way not by the caller */
	req->deferred = TRUE;
	return TRUE;
}

gboolean op_resize_terminal(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	const CkResizeTerminalArgs *a = args;

	(void)result;
	Process *p = find_process(req->agent, &a->ref, req->op, error);
	return p != NULL && process_resize(p, a->rows, a->cols, error);
}

/* --- remove --------------------------------------------------------------------- */

static void finish_remove(Container *c)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) waiters = g_steal_pointer(&c->remove_waiters);

	if (c->oom_wd >= 0)
		g_hash_table_remove(c->agent->oom_watches, GINT_TO_POINTER(c->oom_wd));
	gboolean ok = cgroup_destroy(c->cgroup, REMOVE_TIMEOUT_MS, &error);
	/* every process of the container is gone now */
	run_guest_hooks_logged(c, OCI_HOOK_POSTSTOP, "stopped");
	g_hash_table_steal(c->agent->containers, c->id);
	for (guint i = 0; i < waiters->len; i++) {
		if (ok)
			agent_request_reply(g_ptr_array_index(waiters, i), NULL);
		else
			agent_request_fail(g_ptr_array_index(waiters, i), error);
	}
	container_free(c);
}

gboolean op_remove_container(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	Container *c = container_arg(req, ((const CkContainerArgs *)args)->id, error);

	(void)result;
	if (c == NULL)
		return FALSE;
	req->deferred = TRUE;
	g_ptr_array_add(c->remove_waiters, req);
	if (c->remove_waiters->len > 1)
		return TRUE; /* a removal is already under way */
	if (c->init->exit_reported) {
		finish_remove(c);
		return TRUE;
	}
	/* thaw first: frozen processes do not die */
	(void)cgroup_freeze(c->cgroup, FALSE, NULL);
	(void)cgroup_signal_all(c->cgroup, SIGKILL, NULL);
	(void)process_signal(c->init, SIGKILL, NULL);
	return TRUE;
}

static void check_oom(Container *c);

static void on_process_exiting(Container *c, Process *proc)
{
	/* the OOM kill and the exit race; look before the exit is reported */
	if (proc == c->init)
		check_oom(c);
}

static void on_process_finished(Container *c, Process *proc)
{
	/* exec'd processes stay known (their exit codes can still be asked
	 * for) until the container is removed */
	if (proc != c->init)
		return;
	c->status = CONTAINER_STOPPED;
	if (c->remove_waiters != NULL && c->remove_waiters->len > 0)
		finish_remove(c);
}

/* --- pause, resume, update, stats, state, ps --------------------------------------- */

gboolean op_pause_container(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	const CkContainerArgs a = *(const CkContainerArgs *)args;
	Container *c = container_arg(req, a.id, error);

	(void)result;
	if (c == NULL)
		return FALSE;
	if (c->status != CONTAINER_RUNNING)
		return ck_set_error(error, CK_ERROR_INVALID, "pause %s: container is %s", a.id, status_names[c->status]);
	if (!cgroup_freeze(c->cgroup, TRUE, error))
		return FALSE;
	c->status = CONTAINER_PAUSED;
	return TRUE;
}

gboolean op_resume_container(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	const CkContainerArgs a = *(const CkContainerArgs *)args;
	Container *c = container_arg(req, a.id, error);

	(void)result;
	if (c == NULL)
		return FALSE;
	if (c->status != CONTAINER_PAUSED)
		return ck_set_error(error, CK_ERROR_INVALID, "resume %s: container is %s", a.id, status_names[c->status]);
	if (!cgroup_freeze(c->cgroup, FALSE, error))
		return FALSE;
	c->status = CONTAINER_RUNNING;
	return TRUE;
}

gboolean op_update_container(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	const CkUpdateContainerArgs a = *(const CkUpdateContainerArgs *)args;
	OciResources res;
	Container *c = container_arg(req, a.id, error);

	(void)result;
	if (c == NULL)
		return FALSE;
	if (a.resources == NULL)
		return ck_set_error(error, CK_ERROR_INVALID, "update %s: resources: required", a.id);
	oci_resources_init(&res);
	gboolean ok = oci_resources_parse(a.resources, "resources", &res, error) && cgroup_apply(c->cgroup, &res, error);
	oci_resources_clear(&res);
	if (!ok)
		g_prefix_error(error, "update %s: ", a.id);
	return ok;
}

gboolean op_stats_container(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	Container *c = container_arg(req, ((const CkContainerArgs *)args)->id, error);

	return c != NULL && cgroup_stats(c->cgroup, result, error);
}

gboolean op_state_container(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	Container *c = container_arg(req, ((const CkContainerArgs *)args)->id, error);
	CkStateResult *r = result;

	if (c == NULL)
		return FALSE;
	/* exit_code and oom_killed go out once stopped (ck-ops.c) */
	gboolean stopped = c->status == CONTAINER_STOPPED || c->init->exited;
	r->status = g_strdup(stopped ? "stopped" : status_names[c->status]);
	r->pid = stopped ? 0 : c->init->pid;
	r->handle = c->init->handle;
	r->exit_code = c->init->exit_code;
	r->oom_killed = c->oom_killed;
	return TRUE;
}

gboolean op_list_processes(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	Container *c = container_arg(req, ((const CkContainerArgs *)args)->id, error);
	CkListProcessesResult *r = result;

	if (c == NULL)
		return FALSE;
	g_autoptr(GArray) pids = cgroup_pids(c->cgroup, error);
	if (pids == NULL)
		return FALSE;
	r->pids = g_new0(gint64, MAX(pids->len, 1));
	for (guint i = 0; i < pids->len; i++)
		r->pids[r->n_pids++] = g_array_index(pids, pid_t, i);
	return TRUE;
}

void container_kill_all(Agent *agent)
{
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, agent->containers);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		Container *c = v;
		(void)cgroup_freeze(c->cgroup, FALSE, NULL);
		(void)cgroup_signal_all(c->cgroup, SIGKILL, NULL);
	}
}

/* --- OOM events --------------------------------------------------------------------- */

static void check_oom(Container *c)
{
	gint64 kills = cgroup_oom_kills(c->cgroup);

	if (kills <= c->oom_kills)
		return;
	c->oom_kills = kills;
	c->oom_killed = TRUE;
	if (c->init != NULL)
		c->init->oom_killed = TRUE;
	CkOomEvent ev = {.container = c->id};
	agent_send_event(c->agent, CK_EVENT_OOM, &ev);
}

static gboolean on_inotify(gint fd, GIOCondition cond, gpointer data)
{
	Agent *agent = data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)cond;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			Container *c = g_hash_table_lookup(agent->oom_watches, GINT_TO_POINTER(ev->wd));
			if (c != NULL)
				check_oom(c);
			p += sizeof *ev + ev->len;
		}
	}
	return G_SOURCE_CONTINUE;
}

gboolean container_oom_watch_init(Agent *agent, GError **error)
{
	agent->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (agent->inotify_fd < 0)
		return ck_set_error_errno(error, errno, "inotify_init1");
	g_unix_fd_add(agent->inotify_fd, G_IO_IN, on_inotify, agent);
	return TRUE;
}
