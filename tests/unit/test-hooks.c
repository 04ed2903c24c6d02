/* Unit tests: the OCI hook runner (hooks/hooks.c) with real hook scripts in
 * a temporary directory: the state JSON, order and stdin, argv and env
 * passed exactly, failure messages and stopping at the first failure,
 * timeouts that kill the hook's whole process group, a hook that leaves a
 * background process holding its stdout, big stdin and output, the pod's
 * network namespace, the stage policy, and the example oci-hooks(5) files
 * in hooks/examples. Every test ends with no child left unreaped.
 *
 * Like conmon-kata, the test blocks SIGCHLD (its reaper uses a signalfd),
 * and it leaves SIGPIPE at its default: a hook that does not read its
 * stdin must not kill the caller. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "hooks/hooks.h"

#define STATE                                                                                      \
	"{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"created\",\"pid\":42,\"bundle\":\"/" \
	"b\",\"annotations\":{}}"

static char *tmp_dir;

static char *tmp_path(const char *name)
{
	return g_build_filename(tmp_dir, name, NULL);
}

/* Writes an executable /bin/sh script; `body` may use @DIR@ for tmp_dir. */
static char *write_script(const char *name, const char *body)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = tmp_path(name);
	g_autoptr(GString) text = g_string_new("#!/bin/sh\n");

	g_string_append(text, body);
	g_string_replace(text, "@DIR@", tmp_dir, 0);
	g_assert_true(g_file_set_contents(path, text->str, -1, &error));
	g_assert_no_error(error);
	g_assert_cmpint(g_chmod(path, 0755), ==, 0);
	return g_steal_pointer(&path);
}

static char *read_tmp(const char *name)
{
	g_autofree char *path = tmp_path(name);
	char *data = NULL;

	if (!g_file_get_contents(path, &data, NULL, NULL))
		return NULL;
	return data;
}

static void hook_set(OciHook *h, const char *path, const char *const *args, const char *const *env, int timeout)
{
	memset(h, 0, sizeof(*h));
	h->path = g_strdup(path);
	h->args = g_strdupv((char **)args);
	h->env = g_strdupv((char **)env);
	h->has_timeout = timeout > 0;
	h->timeout = timeout;
}

static void hook_list_clear(OciHookList *list)
{
	for (gsize i = 0; i < list->n_hooks; i++) {
		g_free(list->hooks[i].path);
		g_strfreev(list->hooks[i].args);
		g_strfreev(list->hooks[i].env);
	}
	g_free(list->hooks);
	list->hooks = NULL;
	list->n_hooks = 0;
}

static OciHookList *hook_list_new(gsize n)
{
	OciHookList *list = g_new0(OciHookList, 1);

	list->hooks = g_new0(OciHook, n);
	list->n_hooks = n;
	return list;
}

static void hook_list_free(OciHookList *list)
{
	hook_list_clear(list);
	g_free(list);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(OciHookList, hook_list_free)

/* A list of one script hook without args, env or timeout. */
static OciHookList *one_script(const char *name, const char *body, int timeout)
{
	OciHookList *list = hook_list_new(1);
	g_autofree char *path = write_script(name, body);

	hook_set(&list->hooks[0], path, NULL, NULL, timeout);
	return list;
}

static void assert_no_children(void)
{
	g_assert_cmpint(waitpid(-1, NULL, WNOHANG), ==, -1);
	g_assert_cmpint(errno, ==, ECHILD);
}

/* Gone, or a zombie waiting for an init that may not reap (containers). */
static gboolean process_gone(pid_t pid)
{
	g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", pid);
	g_autofree char *stat = NULL;
	const char *end;

	if (!g_file_get_contents(stat_path, &stat, NULL, NULL))
		return TRUE;
	end = strrchr(stat, ')');
	return end != NULL && (end[2] == 'Z' || end[2] == 'X');
}

static pid_t read_pid(const char *name)
{
	g_autofree char *text = read_tmp(name);

	g_assert_nonnull(text);
	return (pid_t)g_ascii_strtoll(text, NULL, 10);
}

static void wait_gone(pid_t pid)
{
	gint64 deadline = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;

	while (!process_gone(pid) && g_get_monotonic_time() < deadline)
		g_usleep(10 * 1000);
	g_assert_true(process_gone(pid));
}

static void test_state_json(void)
{
	g_autoptr(GHashTable) ann = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree char *doc = NULL;
	g_autofree char *empty = NULL;

	g_hash_table_insert(ann, "z.last", "2");
	g_hash_table_insert(ann, "a.first", "q\"uote");
	doc = hooks_state_json("c1", "created", 42, "/run/b", ann);
	g_assert_cmpstr(doc, ==,
			"{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"created\",\"pid\":42,"
			"\"bundle\":\"/run/b\",\"annotations\":{\"a.first\":\"q\\\"uote\",\"z.last\":\"2\"}}");
	empty = hooks_state_json("c2", "stopped", 0, "/b", NULL);
	g_assert_cmpstr(empty, ==,
			"{\"ociVersion\":\"1.0.2\",\"id\":\"c2\",\"status\":\"stopped\",\"pid\":0,"
			"\"bundle\":\"/b\",\"annotations\":{}}");
}

static void test_order_and_stdin(void)
{
	g_autoptr(OciHookList) list = hook_list_new(3);
	g_autoptr(GError) error = NULL;
	g_autofree char *order = NULL;

	for (int i = 0; i < 3; i++) {
		g_autofree char *name = g_strdup_printf("hook%d", i);
		g_autofree char *body = g_strdup_printf("echo %d >>@DIR@/order\ncat >@DIR@/stdin%d\n", i, i);
		g_autofree char *path = write_script(name, body);

		hook_set(&list->hooks[i], path, NULL, NULL, 10);
	}
	g_assert_true(hooks_run(list, OCI_HOOK_PRESTART, STATE, NULL, &error));
	g_assert_no_error(error);
	order = read_tmp("order");
	g_assert_cmpstr(order, ==, "0\n1\n2\n");
	for (int i = 0; i < 3; i++) {
		g_autofree char *name = g_strdup_printf("stdin%d", i);
		g_autofree char *got = read_tmp(name);

		g_assert_cmpstr(got, ==, STATE);
	}
	assert_no_children();
}

/* /bin/sh as the hook itself, so that /proc/$$/cmdline shows our argv as
 * given (a #! script's argv[0] is replaced by the kernel). */
static void test_args_env_exact(void)
{
	g_autoptr(OciHookList) list = hook_list_new(1);
	g_autoptr(GError) error = NULL;
	g_autofree char *script =
	    g_strdup_printf("tr '\\000' '\\n' </proc/$$/cmdline >%s/argv; tr '\\000' '\\n' </proc/$$/environ >%s/env",
			    tmp_dir, tmp_dir);
	const char *args[] = {"custom-argv0", "-c", script, "name", "a b", "", NULL};
	const char *env[] = {"FOO=bar baz", "EMPTY=", "X=1", NULL};
	g_autofree char *want_argv = g_strdup_printf("custom-argv0\n-c\n%s\nname\na b\n\n", script);
	g_autofree char *argv = NULL;
	g_autofree char *envs = NULL;

	hook_set(&list->hooks[0], "/bin/sh", args, env, 10);
	g_assert_true(hooks_run(list, OCI_HOOK_POSTSTART, STATE, NULL, &error));
	g_assert_no_error(error);
	argv = read_tmp("argv");
	envs = read_tmp("env");
	g_assert_cmpstr(argv, ==, want_argv);
	g_assert_cmpstr(envs, ==, "FOO=bar baz\nEMPTY=\nX=1\n");
	assert_no_children();
}

/* No args: argv is [path]. No env: an empty environment, not ours. */
static void test_no_args_no_env(void)
{
	g_autoptr(OciHookList) list =
	    one_script("noargs", "echo \"$0 $#\" >@DIR@/argv\ntr '\\000' '\\n' </proc/$$/environ >@DIR@/env\n", 0);
	g_autoptr(GError) error = NULL;
	g_autofree char *want = g_strdup_printf("%s 0\n", list->hooks[0].path);
	g_autofree char *argv = NULL;
	g_autofree char *env = NULL;

	g_setenv("CK_HOOKS_TEST_MARKER", "leaked", TRUE);
	g_assert_true(hooks_run(list, OCI_HOOK_POSTSTOP, STATE, NULL, &error));
	g_assert_no_error(error);
	argv = read_tmp("argv");
	env = read_tmp("env");
	g_assert_cmpstr(argv, ==, want);
	g_assert_cmpstr(env, ==, "");
	assert_no_children();
}

static void test_exit_status_stops_list(void)
{
	g_autoptr(OciHookList) list = hook_list_new(3);
	g_autoptr(GError) error = NULL;
	g_autofree char *p0 = write_script("ok", "touch @DIR@/ran0\n");
	g_autofree char *p1 =
	    write_script("fails", "echo out\necho '  boom: it broke  ' >&2\necho second >&2\nexit 3\n");
	g_autofree char *p2 = write_script("third", "touch @DIR@/ran2\n");
	g_autofree char *want = g_strdup_printf("createRuntime hook %s exited with status 3: boom: it broke", p1);
	g_autofree char *ran0 = tmp_path("ran0");
	g_autofree char *ran2 = tmp_path("ran2");

	hook_set(&list->hooks[0], p0, NULL, NULL, 0);
	hook_set(&list->hooks[1], p1, NULL, NULL, 0);
	hook_set(&list->hooks[2], p2, NULL, NULL, 0);
	g_assert_false(hooks_run(list, OCI_HOOK_CREATE_RUNTIME, STATE, NULL, &error));
	g_assert_nonnull(error);
	g_assert_cmpstr(error->message, ==, want);
	g_assert_true(g_file_test(ran0, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(ran2, G_FILE_TEST_EXISTS));
	assert_no_children();
}

/* stderr empty: stdout's first line; no output: no suffix. */
static void test_exit_status_messages(void)
{
	g_autoptr(OciHookList) a = one_script("a", "echo '' ; echo from-stdout\nexit 1\n", 0);
	g_autoptr(OciHookList) b = one_script("b", "exit 255\n", 0);
	g_autoptr(OciHookList) c = one_script("c", "echo dying >&2\nkill -9 $$\n", 0);
	g_autoptr(GError) e1 = NULL;
	g_autoptr(GError) e2 = NULL;
	g_autoptr(GError) e3 = NULL;
	g_autofree char *w1 = g_strdup_printf("prestart hook %s exited with status 1: from-stdout", a->hooks[0].path);
	g_autofree char *w2 = g_strdup_printf("prestart hook %s exited with status 255", b->hooks[0].path);
	g_autofree char *w3 = g_strdup_printf("poststop hook %s killed by signal 9: dying", c->hooks[0].path);

	g_assert_false(hooks_run(a, OCI_HOOK_PRESTART, STATE, NULL, &e1));
	g_assert_cmpstr(e1->message, ==, w1);
	g_assert_false(hooks_run(b, OCI_HOOK_PRESTART, STATE, NULL, &e2));
	g_assert_cmpstr(e2->message, ==, w2);
	g_assert_false(hooks_run(c, OCI_HOOK_POSTSTOP, STATE, NULL, &e3));
	g_assert_cmpstr(e3->message, ==, w3);
	assert_no_children();
}

static void run_timeout(const char *body, const char *pid_file)
{
	g_autoptr(OciHookList) list = one_script("slow", body, 1);
	g_autoptr(GError) error = NULL;
	g_autofree char *want = g_strdup_printf("prestart hook %s timed out after 1 s", list->hooks[0].path);
	gint64 start = g_get_monotonic_time();
	gint64 elapsed;

	g_assert_false(hooks_run(list, OCI_HOOK_PRESTART, STATE, NULL, &error));
	elapsed = g_get_monotonic_time() - start;
	g_assert_true(ck_error_is(error, CK_ERROR_TIMEOUT));
	g_assert_cmpstr(error->message, ==, want);
	g_assert_cmpint(elapsed, >=, 900 * 1000);
	g_assert_cmpint(elapsed, <, 3 * G_USEC_PER_SEC);
	wait_gone(read_pid(pid_file));
	assert_no_children();
}

static void test_timeout_kills(void)
{
	run_timeout("sleep 30 &\necho $! >@DIR@/sleep.pid\nwait\n", "sleep.pid");
}

/* The background sleep holds the hook's stdout and stderr open: waiting for
 * EOF would hang; the group kill takes it down too. */
static void test_timeout_background_holds_stdout(void)
{
	run_timeout("sleep 30 &\necho $! >@DIR@/bg.pid\necho started\nsleep 30\n", "bg.pid");
}

/* A successful hook that leaves a process holding its stdout: hooks_run
 * returns at once, not when that process closes the pipe. */
static void test_success_background_holds_stdout(void)
{
	g_autoptr(OciHookList) list = one_script("leaves", "sleep 20 &\necho $! >@DIR@/left.pid\necho done\n", 10);
	g_autoptr(GError) error = NULL;
	gint64 start = g_get_monotonic_time();
	pid_t left;

	g_assert_true(hooks_run(list, OCI_HOOK_POSTSTART, STATE, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpint(g_get_monotonic_time() - start, <, 2 * G_USEC_PER_SEC);
	left = read_pid("left.pid");
	g_assert_cmpint(kill(left, SIGKILL), ==, 0);
	wait_gone(left);
	assert_no_children();
}

static void test_missing_path(void)
{
	g_autoptr(OciHookList) list = hook_list_new(1);
	g_autoptr(OciHookList) rel = hook_list_new(1);
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error2 = NULL;

	hook_set(&list->hooks[0], "/nonexistent/ck-hook", NULL, NULL, 5);
	g_assert_false(hooks_run(list, OCI_HOOK_PRESTART, STATE, NULL, &error));
	g_assert_true(ck_error_is(error, CK_ERROR_NOT_FOUND));
	g_assert_cmpstr(error->message, ==, "prestart hook /nonexistent/ck-hook: No such file or directory");
	hook_set(&rel->hooks[0], "bin/hook", NULL, NULL, 0);
	g_assert_false(hooks_run(rel, OCI_HOOK_PRESTART, STATE, NULL, &error2));
	g_assert_cmpstr(error2->message, ==, "prestart hook bin/hook: not an absolute path");
	assert_no_children();
}

/* 1 MiB of state to a hook that reads none of it, and to one that reads it
 * all; 1 MiB of stderr from a failing hook. No deadlock, no SIGPIPE. */
static void test_big_io(void)
{
	g_autoptr(OciHookList) ignore = one_script("ignore", "exit 0\n", 10);
	g_autoptr(OciHookList) copy = one_script("copy", "cat >@DIR@/big\n", 10);
	g_autoptr(OciHookList) noisy =
	    one_script("noisy", "head -c 1048576 /dev/zero | tr '\\000' x >&2\nexit 2\n", 10);
	g_autofree char *state = g_strnfill(1024 * 1024, 'a');
	g_autofree char *big = NULL;
	g_autoptr(GError) e1 = NULL;
	g_autoptr(GError) e2 = NULL;
	g_autoptr(GError) e3 = NULL;

	g_assert_true(hooks_run(ignore, OCI_HOOK_PRESTART, state, NULL, &e1));
	g_assert_no_error(e1);
	g_assert_true(hooks_run(copy, OCI_HOOK_PRESTART, state, NULL, &e2));
	g_assert_no_error(e2);
	big = read_tmp("big");
	g_assert_cmpstr(big, ==, state);
	g_assert_false(hooks_run(noisy, OCI_HOOK_PRESTART, STATE, NULL, &e3));
	g_assert_true(g_str_has_prefix(e3->message, "prestart hook "));
	g_assert_true(strstr(e3->message, "exited with status 2: xxxx") != NULL);
	g_assert_cmpuint(strlen(e3->message), <, 1024);
	assert_no_children();
}

static void test_empty_list(void)
{
	OciHookList empty = {NULL, 0};
	g_autoptr(GError) error = NULL;

	g_assert_true(hooks_run(NULL, OCI_HOOK_PRESTART, STATE, NULL, &error));
	g_assert_true(hooks_run(&empty, OCI_HOOK_PRESTART, STATE, "/nonexistent/netns", &error));
	g_assert_no_error(error);
}

static guint64 file_inode(const char *path)
{
	struct stat st;

	g_assert_cmpint(stat(path, &st), ==, 0);
	return st.st_ino;
}

static void check_hook_netns(const char *netns_path, guint64 want_inode)
{
	g_autoptr(OciHookList) list = hook_list_new(1);
	g_autofree char *path = write_script("netns", "stat -L -c %i /proc/self/ns/net >@DIR@/netns\n");
	const char *env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
	g_autoptr(GError) error = NULL;
	g_autofree char *got = NULL;

	hook_set(&list->hooks[0], path, NULL, env, 10);
	g_assert_true(hooks_run(list, OCI_HOOK_POSTSTART, STATE, netns_path, &error));
	g_assert_no_error(error);
	got = read_tmp("netns");
	g_assert_cmpuint(g_ascii_strtoull(got, NULL, 10), ==, want_inode);
}

static gboolean ip_netns(const char *verb, const char *name, char **out_err)
{
	const char *argv[] = {"ip", "netns", verb, name, NULL};
	int status = -1;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
			  out_err, &status, NULL))
		return FALSE;
	return g_spawn_check_wait_status(status, NULL);
}

static void test_netns(void)
{
	g_autofree char *name = g_strdup_printf("ck-hooktest-%d", (int)getpid());
	g_autofree char *ns_path = g_strdup_printf("/run/netns/%s", name);
	g_autofree char *why = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(OciHookList) list = one_script("never", "exit 0\n", 0);

	if (!ip_netns("add", name, &why)) {
		g_autofree char *msg = g_strdup_printf("ip netns add failed: %s", why != NULL ? g_strstrip(why) : "?");

		g_test_skip(msg);
		return;
	}
	check_hook_netns(ns_path, file_inode(ns_path));
	g_assert_cmpuint(file_inode(ns_path), !=, file_inode("/proc/self/ns/net"));
	/* Without a path the hook stays in ours. */
	check_hook_netns(NULL, file_inode("/proc/self/ns/net"));
	g_assert_true(ip_netns("del", name, NULL));
	/* A namespace that is gone is an error naming it. */
	g_assert_false(hooks_run(list, OCI_HOOK_PRESTART, STATE, ns_path, &error));
	g_assert_true(g_str_has_prefix(error->message, "prestart hooks: network namespace /run/netns/ck-hooktest-"));
	assert_no_children();
}

static void test_stage_policy(void)
{
	g_assert_true(hooks_stage_is_fatal(OCI_HOOK_PRESTART));
	g_assert_true(hooks_stage_is_fatal(OCI_HOOK_CREATE_RUNTIME));
	g_assert_true(hooks_stage_is_fatal(OCI_HOOK_CREATE_CONTAINER));
	g_assert_true(hooks_stage_is_fatal(OCI_HOOK_START_CONTAINER));
	g_assert_false(hooks_stage_is_fatal(OCI_HOOK_POSTSTART));
	g_assert_false(hooks_stage_is_fatal(OCI_HOOK_POSTSTOP));
}

/* hooks_run_stage() on a parsed spec: the state it builds, and OCI's
 * failure semantics (a failing prestart is an error and ends its list, a
 * failing poststop only a warning, and the next poststop hook runs). */
static void test_run_stage(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *ok = write_script("ok", "cat > @DIR@/stage-state\n");
	g_autofree char *bad = write_script("bad", "echo nope >&2; exit 4\n");
	g_autofree char *after = write_script("after", "cat > @DIR@/after-state\n");
	g_autofree char *json = g_strdup_printf("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
						"\"annotations\":{\"k\":\"v\"},\"hooks\":{"
						"\"createRuntime\":[{\"path\":\"%s\"}],"
						"\"prestart\":[{\"path\":\"%s\"},{\"path\":\"%s\"}],"
						"\"poststop\":[{\"path\":\"%s\"},{\"path\":\"%s\"}]}}",
						ok, bad, after, bad, after);
	g_autoptr(OciSpec) spec = oci_spec_parse(json, strlen(json), "config.json", &error);
	g_assert_no_error(error);
	HooksContext hc = {
		.id = "c1", .status = "creating", .pid = 42, .bundle = "/b", .annotations = spec->annotations};

	g_assert_true(hooks_run_stage(spec, OCI_HOOK_CREATE_RUNTIME, &hc, &error));
	g_assert_no_error(error);
	g_autofree char *state = read_tmp("stage-state");
	g_assert_cmpstr(state, ==,
			"{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":42,"
			"\"bundle\":\"/b\",\"annotations\":{\"k\":\"v\"}}");

	g_assert_false(hooks_run_stage(spec, OCI_HOOK_PRESTART, &hc, &error));
	g_assert_nonnull(error);
	g_autofree char *want = g_strdup_printf("prestart hook %s exited with status 4: nope", bad);
	g_assert_cmpstr(error->message, ==, want);
	g_clear_error(&error);
	g_autofree char *not_run = read_tmp("after-state");
	g_assert_null(not_run);

	/* logged, not returned; the next hook runs */
	hc.status = "stopped";
	hc.pid = 0;
	g_assert_true(hooks_run_stage(spec, OCI_HOOK_POSTSTOP, &hc, &error));
	g_assert_no_error(error);
	g_autofree char *after_state = read_tmp("after-state");
	g_assert_cmpstr(after_state, ==,
			"{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"stopped\",\"pid\":0,"
			"\"bundle\":\"/b\",\"annotations\":{\"k\":\"v\"}}");
	/* a stage without hooks */
	g_assert_true(hooks_run_stage(spec, OCI_HOOK_POSTSTART, &hc, &error));
	assert_no_children();
}

/* --- the shipped oci-hooks(5) examples ---------------------------------- */

static gboolean is_stage_name(const char *s)
{
	for (int i = 0; i < OCI_HOOK_MAX; i++) {
		if (g_strcmp0(s, oci_hook_stage_to_string((OciHookStage)i)) == 0)
			return TRUE;
	}
	return FALSE;
}

static void check_example(const char *dir, const char *file)
{
	g_autofree char *path = g_build_filename(dir, file, NULL);
	g_autoptr(GError) error = NULL;
	g_auto(yajl_val) doc = ck_json_parse_file(path, 1024 * 1024, &error);
	yajl_val hook, hook_path, stages, when;
	g_autofree char *base = NULL;
	g_autofree char *script = NULL;

	g_test_message("%s", path);
	g_assert_no_error(error);
	g_assert_cmpstr(YAJL_GET_STRING(ck_json_get(doc, "version")), ==, "1.0.0");
	hook = ck_json_get(doc, "hook");
	g_assert_true(YAJL_IS_OBJECT(hook));
	hook_path = ck_json_get(hook, "path");
	g_assert_true(YAJL_IS_STRING(hook_path));
	g_assert_true(g_str_has_prefix(YAJL_GET_STRING(hook_path), "/usr/libexec/conmon-kata/"));
	when = ck_json_get(doc, "when");
	g_assert_true(YAJL_IS_OBJECT(when) && YAJL_GET_OBJECT(when)->len > 0);
	stages = ck_json_get(doc, "stages");
	g_assert_true(YAJL_IS_ARRAY(stages) && YAJL_GET_ARRAY(stages)->len > 0);
	for (size_t i = 0; i < YAJL_GET_ARRAY(stages)->len; i++)
		g_assert_true(is_stage_name(YAJL_GET_STRING(YAJL_GET_ARRAY(stages)->values[i])));
	/* The script it names is shipped next to it, executable. */
	base = g_path_get_basename(YAJL_GET_STRING(hook_path));
	script = g_build_filename(dir, base, NULL);
	g_assert_true(g_file_test(script, G_FILE_TEST_IS_EXECUTABLE));
}

static void test_examples(void)
{
	const char *root = g_getenv("CK_SOURCE_ROOT");
	g_autofree char *dir = NULL;
	g_autoptr(GDir) d = NULL;
	const char *name;
	guint n = 0;

	if (root == NULL) {
		g_test_skip("CK_SOURCE_ROOT is not set (run through meson test)");
		return;
	}
	dir = g_build_filename(root, "hooks", "examples", NULL);
	d = g_dir_open(dir, 0, NULL);
	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d)) != NULL) {
		if (!g_str_has_suffix(name, ".json"))
			continue;
		check_example(dir, name);
		n++;
	}
	g_assert_cmpuint(n, >, 0);
}

static void make_file(const char *dir, const char *rel, const char *text)
{
	g_autofree char *path = g_build_filename(dir, rel, NULL);
	g_autofree char *parent = g_path_get_dirname(path);

	g_assert_true(ck_mkdir_p(parent, 0755, NULL));
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
}

/* The example hook itself, run through hooks_run against a fake runtime
 * root: it records the pod and QEMU pid, and removes the record at stop. */
static void test_example_script(void)
{
	const char *root = g_getenv("CK_SOURCE_ROOT");
	g_autofree char *script = NULL;
	g_autofree char *vroot = tmp_path("vmctl");
	g_autofree char *env_root = g_strdup_printf("VMCTL_ROOT=%s", vroot);
	g_autofree char *env_out = g_strdup_printf("CONMON_KATA_VM_INFO_DIR=%s/info", tmp_dir);
	const char *env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", env_root, env_out, NULL};
	g_autoptr(OciHookList) list = hook_list_new(1);
	g_autoptr(GError) error = NULL;
	g_autofree char *running = hooks_state_json("ctr1", "running", 4242, "/b/ctr1", NULL);
	g_autofree char *stopped = hooks_state_json("ctr1", "stopped", 0, "/b/ctr1", NULL);
	g_autofree char *info_path = NULL;
	g_autofree char *info = NULL;
	g_auto(yajl_val) doc = NULL;

	if (root == NULL) {
		g_test_skip("CK_SOURCE_ROOT is not set (run through meson test)");
		return;
	}
	script = g_build_filename(root, "hooks", "examples", "conmon-kata-vm-info", NULL);
	make_file(vroot, "containers/ctr1/state.json", "{\"id\":\"ctr1\",\"pod_id\":\"pod9\"}");
	make_file(vroot, "pods/pod9/qemu.pid", "777\n");
	hook_set(&list->hooks[0], script, NULL, env, 10);
	g_assert_true(hooks_run(list, OCI_HOOK_POSTSTART, running, NULL, &error));
	g_assert_no_error(error);
	info_path = g_strdup_printf("%s/info/ctr1.json", tmp_dir);
	g_assert_true(g_file_get_contents(info_path, &info, NULL, NULL));
	doc = ck_json_parse(info, strlen(info), "vm-info", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(YAJL_GET_STRING(ck_json_get(doc, "pod")), ==, "pod9");
	g_assert_cmpint(YAJL_GET_INTEGER(ck_json_get(doc, "pid")), ==, 4242);
	g_assert_cmpint(YAJL_GET_INTEGER(ck_json_get(doc, "qemu_pid")), ==, 777);
	g_assert_true(hooks_run(list, OCI_HOOK_POSTSTOP, stopped, NULL, &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(info_path, G_FILE_TEST_EXISTS));
	assert_no_children();
}

static void run_in_clean_dir(gconstpointer data)
{
	void (*fn)(void) = (void (*)(void))data;
	g_autoptr(GError) error = NULL;

	tmp_dir = g_dir_make_tmp("ck-hooks-XXXXXX", &error);
	g_assert_no_error(error);
	fn();
	g_assert_true(ck_rm_rf(tmp_dir, NULL));
	g_clear_pointer(&tmp_dir, g_free);
}

static void add(const char *name, void (*fn)(void))
{
	g_test_add_data_func(name, (gconstpointer)fn, run_in_clean_dir);
}

int main(int argc, char **argv)
{
	sigset_t chld;

	g_test_init(&argc, &argv, NULL);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);

	add("/hooks/state-json", test_state_json);
	add("/hooks/order-and-stdin", test_order_and_stdin);
	add("/hooks/args-env-exact", test_args_env_exact);
	add("/hooks/no-args-no-env", test_no_args_no_env);
	add("/hooks/exit-status-stops-list", test_exit_status_stops_list);
	add("/hooks/exit-status-messages", test_exit_status_messages);
	add("/hooks/timeout-kills", test_timeout_kills);
	add("/hooks/timeout-background-holds-stdout", test_timeout_background_holds_stdout);
	add("/hooks/success-background-holds-stdout", test_success_background_holds_stdout);
	add("/hooks/missing-path", test_missing_path);
	add("/hooks/big-io", test_big_io);
	add("/hooks/empty-list", test_empty_list);
	add("/hooks/netns", test_netns);
	add("/hooks/stage-policy", test_stage_policy);
	add("/hooks/run-stage", test_run_stage);
	add("/hooks/examples", test_examples);
	add("/hooks/example-script", test_example_script);
	return g_test_run();
}
