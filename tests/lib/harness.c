/* harness: test VM + containers through the library (see harness.h). */
#include "harness.h"

#include <string.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "proto/ck-message.h"
#include "lib/guest-spec.h"

#define CALL_TIMEOUT_MS 60000

/* The container an exit or oom event names (NULL for others). */
static char *event_container(CkEvent event, yajl_val body)
{
	CkExitEvent exit = {0};
	CkOomEvent oom = {0};
	char *container = NULL;

	if (event == CK_EVENT_EXIT && ck_msg_decode_event(event, body, &exit, NULL))
		container = g_strdup(exit.container);
	else if (event == CK_EVENT_OOM && ck_msg_decode_event(event, body, &oom, NULL))
		container = g_strdup(oom.container);
	ck_msg_clear_event(CK_EVENT_EXIT, &exit);
	ck_msg_clear_event(CK_EVENT_OOM, &oom);
	return container;
}

static void on_event(AgentClient *c, CkEvent event, yajl_val body, gpointer data)
{
	Harness *h = data;
	g_autofree char *container = event_container(event, body);

	(void)c;
	g_ptr_array_add(h->events, g_strdup_printf("%s:%s", ck_event_name(event), container ? container : ""));
}

void harness_boot(Harness *h)
{
	g_autoptr(GError) error = NULL;
	const char *config_path = g_getenv("CK_TEST_CONFIG");
	const char *rootfs = g_getenv("CK_TEST_ROOTFS");

	g_assert_nonnull(config_path);
	g_assert_nonnull(rootfs);
	memset(h, 0, sizeof *h);
	h->rootfs_template = g_strdup(rootfs);
	h->config = ck_config_load(config_path, &error);
	g_assert_no_error(error);
	h->root = g_dir_make_tmp("ck-harness-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *run_dir = g_build_filename(h->root, "vm", NULL);
	h->share_dir = g_build_filename(h->root, "shared", NULL);
	g_assert_true(ck_mkdir_p(run_dir, 0700, &error));
	g_assert_true(guest_share_init(h->share_dir, &error));

	QemuVmOptions opts = {
		.config = h->config,
		.run_dir = run_dir,
		.state_root = h->root,
		.name = "harness",
		.share_dir = h->share_dir,
	};
	h->vm = qemu_vm_boot(&opts, &error);
	g_assert_no_error(error);
	h->agent = qemu_vm_get_agent(h->vm);
	h->events = g_ptr_array_new_with_free_func(g_free);
	agent_client_set_event_func(h->agent, on_event, h);

	CkCreateSandboxArgs sandbox = {
	    .hostname = "harness", .share_tag = "kataShared", .msize_9p = h->config->hypervisor.msize_9p};
	/* Kata's guest hooks: a directory of the guest image, "" for none */
	if (*h->config->hypervisor.guest_hook_path != '\0')
		sandbox.guest_hook_path = h->config->hypervisor.guest_hook_path;
	g_assert_true(agent_client_op(h->agent, CK_OP_CREATE_SANDBOX, &sandbox, NULL, CALL_TIMEOUT_MS, &error));
	g_assert_no_error(error);
}

void harness_teardown(Harness *h)
{
	g_autoptr(GError) error = NULL;

	if (h->vm != NULL) {
		(void)qemu_vm_shutdown(h->vm, 15000, NULL);
		qemu_vm_free(h->vm);
	}
	if (h->share_dir != NULL)
		g_assert_true(guest_share_destroy(h->share_dir, &error));
	if (h->root != NULL)
		(void)ck_rm_rf(h->root, NULL);
	ck_config_free(h->config);
	if (h->events != NULL)
		g_ptr_array_unref(h->events);
	g_free(h->root);
	g_free(h->share_dir);
	g_free(h->rootfs_template);
	memset(h, 0, sizeof *h);
}

char *harness_new_bundle(Harness *h, const char *id)
{
	g_autofree char *bundle = g_build_filename(h->root, "bundles", id, NULL);
	g_autofree char *rootfs = g_build_filename(bundle, "rootfs", NULL);
	g_autoptr(GError) error = NULL;
	const char *argv[] = {"cp", "-a", h->rootfs_template, rootfs, NULL};
	int status = 0;

	g_assert_true(ck_mkdir_p(bundle, 0755, &error));
	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status,
				   &error));
	g_assert_no_error(error);
	g_assert_cmpint(status, ==, 0);
	return g_steal_pointer(&bundle);
}

OciSpec *harness_load_spec(const char *path)
{
	g_autoptr(GError) error = NULL;
	OciSpec *spec = oci_spec_load_file(path, &error);

	g_assert_no_error(error);
	return spec;
}

OciSpec *harness_parse_spec(const char *json)
{
	g_autoptr(GError) error = NULL;
	OciSpec *spec = oci_spec_parse(json, strlen(json), "test spec", &error);

	g_assert_no_error(error);
	return spec;
}

OciSpec *harness_default_spec(const char *const *argv)
{
	g_autofree char *path = g_build_filename(g_getenv("CK_SOURCE_ROOT"), "tests", "data", "config-default.json",
						 NULL);
	OciSpec *spec = harness_load_spec(path);

	g_strfreev(spec->process.args);
	spec->process.args = g_strdupv((char **)argv);
	return spec;
}

void run_clear(Run *run)
{
	guest_process_free(run->proc);
	if (run->out != NULL)
		g_string_free(run->out, TRUE);
	if (run->err != NULL)
		g_string_free(run->err, TRUE);
	g_free(run->id);
	g_free(run->exec_id);
	memset(run, 0, sizeof *run);
}

static void on_output(GuestProcess *p, CkStream stream, const guint8 *data, gsize len, gpointer user_data)
{
	Run *run = user_data;

	(void)p;
	if (len == 0) {
		run->eof[stream] = TRUE;
		return;
	}
	if (stream == CK_STREAM_STDOUT && run->check_chunk != NULL &&
	    !run->check_chunk(data, len, run->out_bytes, run->check_data))
		run->chunk_ok = FALSE;
	if (stream == CK_STREAM_STDOUT)
		run->out_bytes += len;
	if (run->discard_output && stream == CK_STREAM_STDOUT)
		return;
	g_string_append_len(stream == CK_STREAM_STDOUT ? run->out : run->err, (const char *)data, (gssize)len);
}

static void on_exit_cb(GuestProcess *p, const GuestExit *exit, const GError *error, gpointer user_data)
{
	Run *run = user_data;

	(void)p;
	g_assert_no_error(error);
	run->exited = TRUE;
	run->exit = *exit;
}

static void run_attach(Harness *h, Run *run, const CkSpawnResult *result)
{
	g_assert_cmpuint(result->handle, >, 0);
	g_assert_cmpint(result->pid, >, 0);
	run->handle = result->handle;
	run->pid = (int)result->pid;
	run->out = g_string_new(NULL);
	run->err = g_string_new(NULL);
	run->chunk_ok = TRUE;
	run->proc = guest_process_new(h->agent, run->handle, on_output, on_exit_cb, run);
}

yajl_val harness_call(Harness *h, CkJsonGen *request, yajl_val *out_result, GError **error)
{
	return agent_client_call(h->agent, request, CALL_TIMEOUT_MS, out_result, error);
}

static gboolean create(Harness *h, const char *id, OciSpec *spec, const char *bundle, gboolean with_stdin,
		       const char *seccomp_bpf, gint64 seccomp_flags, Run *run, GError **error)
{
	g_autofree char *guest_rootfs = NULL;

	if (!guest_spec_prepare(spec, bundle, h->share_dir, id, NULL, NULL, TRUE, &guest_rootfs, error))
		return FALSE;
	gsize len = 0;
	g_autofree char *spec_json = oci_spec_to_json(spec, &len, error);
	if (spec_json == NULL)
		return FALSE;
	g_auto(yajl_val) spec_tree = ck_json_parse(spec_json, len, "spec", error);
	CkCreateContainerArgs args = {.id = (char *)id,
				      .spec = spec_tree,
				      .rootfs = guest_rootfs,
				      .stdin_ = with_stdin,
				      .seccomp_bpf = (char *)seccomp_bpf,
				      .seccomp_flags = seccomp_flags};
	CkSpawnResult result = {0};
	if (!agent_client_op(h->agent, CK_OP_CREATE_CONTAINER, &args, &result, CALL_TIMEOUT_MS, error)) {
		(void)guest_spec_release(h->share_dir, id, NULL);
		return FALSE;
	}
	run->id = g_strdup(id);
	run_attach(h, run, &result);
	return TRUE;
}

gboolean harness_create(Harness *h, const char *id, OciSpec *spec, const char *bundle, gboolean with_stdin,
			Run *run, GError **error)
{
	return create(h, id, spec, bundle, with_stdin, NULL, 0, run, error);
}

gboolean harness_create_program(Harness *h, const char *id, OciSpec *spec, const char *bundle,
				const char *seccomp_bpf, gint64 seccomp_flags, Run *run, GError **error)
{
	return create(h, id, spec, bundle, FALSE, seccomp_bpf, seccomp_flags, run, error);
}

gboolean harness_start(Harness *h, const char *id, GError **error)
{
	CkContainerArgs args = {.id = (char *)id};
	return agent_client_op(h->agent, CK_OP_START_CONTAINER, &args, NULL, CALL_TIMEOUT_MS, error);
}

gboolean harness_exec(Harness *h, const char *id, const char *exec_id, const char *process_json,
		      gboolean with_stdin, Run *run, GError **error)
{
	g_auto(yajl_val) proc = ck_json_parse(process_json, strlen(process_json), "process", error);
	if (proc == NULL)
		return FALSE;
	CkExecProcessArgs args = {
	    .id = (char *)id, .exec_id = (char *)exec_id, .process = proc, .stdin_ = with_stdin};
	CkSpawnResult result = {0};
	if (!agent_client_op(h->agent, CK_OP_EXEC_PROCESS, &args, &result, CALL_TIMEOUT_MS, error))
		return FALSE;
	run->id = g_strdup(id);
	run->exec_id = g_strdup(exec_id);
	run_attach(h, run, &result);
	return TRUE;
}

static gboolean timeout_cb(gpointer data)
{
	*(gboolean *)data = TRUE;
	return G_SOURCE_REMOVE;
}

gboolean harness_run_until(Harness *h, gboolean (*cond)(gpointer), gpointer data, int timeout_ms)
{
	gboolean timed_out = FALSE;
	guint id = g_timeout_add((guint)timeout_ms, timeout_cb, &timed_out);

	(void)h;
	while (!cond(data) && !timed_out)
		g_main_context_iteration(NULL, TRUE);
	if (!timed_out)
		g_source_remove(id);
	return cond(data);
}

static gboolean run_exited(gpointer data)
{
	return ((Run *)data)->exited;
}

void harness_wait_exit(Harness *h, Run *run, int timeout_ms)
{
	if (!harness_run_until(h, run_exited, run, timeout_ms))
		g_error("process %u did not exit within %d ms (stdout so far: %.200s)", run->handle, timeout_ms,
			run->out ? run->out->str : "");
}

gboolean harness_remove(Harness *h, const char *id, GError **error)
{
	CkContainerArgs args = {.id = (char *)id};
	return agent_client_op(h->agent, CK_OP_REMOVE_CONTAINER, &args, NULL, CALL_TIMEOUT_MS, error) &&
	       guest_spec_release(h->share_dir, id, error);
}

void harness_run_oneshot(Harness *h, const char *id, OciSpec *spec, Run *run, int timeout_ms)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(h, id);

	if (!harness_create(h, id, spec, bundle, FALSE, run, &error))
		g_error("%s: create: %s", id, error->message);
	if (!harness_start(h, id, &error))
		g_error("%s: start: %s", id, error->message);
	harness_wait_exit(h, run, timeout_ms);
	if (!harness_remove(h, id, &error))
		g_error("%s: remove: %s", id, error->message);
}
