/* Integration: OCI hooks inside the guest, against the real guest under
 * TCG. One VM for the whole file, booted from the hooks image
 * (tests/lib/meson.build): the default image plus the hooks of
 * tests/lib/make-guest-hooks.sh in /usr/share/oci/hooks, with
 * guest_hook_path pointing there.
 *
 * Hooks leave their traces in the container's rootfs, which is the
 * bundle's rootfs on the host (shared over 9p): the guest hooks and the
 * test hook append "<stage> <id> <pid> <status> <name>" lines to
 * rootfs/hooks.log (tests/lib/test-guest-hook.c); shell hooks of the
 * busybox image write what they like.
 *
 * Every container of this VM runs the guest hooks, so every rootfs gets
 * prestart, poststart and poststop lines.
 */
#include <string.h>

#include <glib.h>

#include "base/ck-error.h"
#include "base/ck-json.h"
#include "lib/guest-spec.h"
#include "tests/lib/harness.h"

#define TIMEOUT_MS 60000
#define GUEST_HOOKS "/usr/share/oci/hooks"

static Harness h;

static OciSpec *spec_sh(const char *script)
{
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	return harness_default_spec(argv);
}

static void add_hook(OciSpec *spec, OciHookStage stage, const char *path, const char *const *args,
		     const char *const *env, int timeout)
{
	OciHookList *l = &spec->hooks[stage];

	l->hooks = g_renew(OciHook, l->hooks, l->n_hooks + 1);
	l->hooks[l->n_hooks++] = (OciHook){
	    .path = g_strdup(path),
	    .args = g_strdupv((char **)args),
	    .env = env != NULL ? g_strdupv((char **)env) : NULL,
	    .has_timeout = timeout > 0,
	    .timeout = timeout,
	};
}

/* A /bin/sh hook from the container's image. */
static void add_sh_hook(OciSpec *spec, OciHookStage stage, const char *script, int timeout)
{
	const char *args[] = {"sh", "-c", script, NULL};

	add_hook(spec, stage, "/bin/sh", args, NULL, timeout);
}

/* A file of the bundle's rootfs, as the host sees it ("" if missing). */
static char *rootfs_file(const char *bundle, const char *name)
{
	g_autofree char *path = g_build_filename(bundle, "rootfs", name, NULL);
	char *data = NULL;

	if (!g_file_get_contents(path, &data, NULL, NULL))
		return g_strdup("");
	return data;
}

/* Checks a state document the way a hook reads it. */
static void assert_state(const char *json, const char *id, int pid, const char *status)
{
	g_autoptr(GError) error = NULL;
	g_auto(yajl_val) state = ck_json_parse(json, strlen(json), "state", &error);
	gint64 got_pid = 0;

	g_assert_no_error(error);
	g_assert_cmpstr(ck_json_get(state, "ociVersion")->u.string, ==, "1.0.2");
	g_assert_cmpstr(ck_json_get(state, "id")->u.string, ==, id);
	g_assert_cmpstr(ck_json_get(state, "status")->u.string, ==, status);
	g_assert_true(ck_json_as_int64(ck_json_get(state, "pid"), &got_pid));
	g_assert_cmpint(got_pid, ==, pid);
	g_autofree char *bundle = g_strdup_printf("/run/kata/shared/%s", id);
	g_assert_cmpstr(ck_json_get(state, "bundle")->u.string, ==, bundle);
	g_assert_true(YAJL_IS_OBJECT(ck_json_get(state, "annotations")));
}

/* The lines of hooks.log that a stage wrote. */
static char *log_lines(const char *bundle, const char *stage)
{
	g_autofree char *log = rootfs_file(bundle, "hooks.log");
	g_auto(GStrv) lines = g_strsplit(log, "\n", -1);
	GString *out = g_string_new(NULL);
	g_autofree char *prefix = g_strconcat(stage, " ", NULL);

	for (char **l = lines; *l != NULL; l++)
		if (g_str_has_prefix(*l, prefix))
			g_string_append_printf(out, "%s\n", *l);
	return g_string_free(out, FALSE);
}

/* create + start + wait, asserting success; the caller removes. */
static void create_start_wait(const char *id, OciSpec *spec, const char *bundle, Run *run)
{
	g_autoptr(GError) error = NULL;

	OK(harness_create(&h, id, spec, bundle, FALSE, run, &error));
	OK(harness_start(&h, id, &error));
	harness_wait_exit(&h, run, TIMEOUT_MS);
}

/* A container after a failure: its init has exited (or does now), it
 * goes, and the guest still runs the next one. */
static void remove_and_check_guest(const char *id, Run *run)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *after_id = g_strdup_printf("after-%s", id);
	g_autofree char *bundle = harness_new_bundle(&h, after_id);
	Run next = {0};

	harness_wait_exit(&h, run, TIMEOUT_MS);
	OK(harness_remove(&h, id, &error));
	OciSpec *spec = spec_sh("echo still-fine");
	create_start_wait(after_id, spec, bundle, &next);
	g_assert_cmpint(next.exit.exit_code, ==, 0);
	g_assert_cmpstr(next.out->str, ==, "still-fine\n");
	OK(harness_remove(&h, after_id, &error));
	run_clear(&next);
	oci_spec_free(spec);
}

/* --- the spec's hooks --------------------------------------------------------- */

/* startContainer: from the container's rootfs, with its own args and env,
 * the state on stdin, before the user process (which reads what the hook
 * wrote). The host stages never reach the guest. */
static void test_start_container(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "start-ctr");
	OciSpec *spec = spec_sh("echo user >> /order; cat /hookstate");
	const char *args[] = {"sh", "-c", "cat > /hookstate; echo ran:$0 >> /order; env > /hookenv", "start-hook",
			      NULL};
	const char *env[] = {"HOOKVAR=1", NULL};
	Run run = {0};

	add_hook(spec, OCI_HOOK_START_CONTAINER, "/bin/sh", args, env, 0);
	add_sh_hook(spec, OCI_HOOK_PRESTART, "echo host-prestart >> /order", 0);
	add_sh_hook(spec, OCI_HOOK_POSTSTART, "echo host-poststart >> /order", 0);
	create_start_wait("start-ctr", spec, bundle, &run);
	g_assert_cmpint(run.exit.exit_code, ==, 0);
	assert_state(run.out->str, "start-ctr", run.pid, "created");

	g_autofree char *order = rootfs_file(bundle, "order");
	g_assert_cmpstr(order, ==, "ran:start-hook\nuser\n");
	g_autofree char *env_seen = rootfs_file(bundle, "hookenv");
	g_assert_nonnull(strstr(env_seen, "HOOKVAR=1\n"));
	/* exactly the hook's env: not the container process's */
	g_assert_null(strstr(env_seen, "HOME=/root"));
	g_assert_null(strstr(env_seen, "TERM=xterm"));
	OK(harness_remove(&h, "start-ctr", &error));
	run_clear(&run);
	oci_spec_free(spec);
}

/* createContainer: from the guest's root (the static test hook of the
 * image), in the container's mount namespace once its mounts exist: the
 * state it copies into the container's tmpfs is there for the process,
 * and not on the shared rootfs. */
static void test_create_container(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "create-ctr");
	OciSpec *spec = spec_sh("cat /scratch/state");
	const char *args[] = {"record", "createContainer", "/run/kata/shared/create-ctr/rootfs/scratch/state", NULL};
	const char *mount_opts[] = {"nosuid", "nodev", "mode=755", NULL};
	Run run = {0};

	spec->mounts = g_renew(OciMount, spec->mounts, spec->n_mounts + 1);
	spec->mounts[spec->n_mounts++] = (OciMount){
	    .destination = g_strdup("/scratch"),
	    .type = g_strdup("tmpfs"),
	    .source = g_strdup("tmpfs"),
	    .options = g_strdupv((char **)mount_opts),
	};
	add_hook(spec, OCI_HOOK_CREATE_CONTAINER, GUEST_HOOKS "/record", args, NULL, 10);
	create_start_wait("create-ctr", spec, bundle, &run);
	g_assert_cmpint(run.exit.exit_code, ==, 0);
	assert_state(run.out->str, "create-ctr", run.pid, "created");

	g_autofree char *want = g_strdup_printf("createContainer create-ctr %d created record\n", run.pid);
	g_autofree char *lines = log_lines(bundle, "createContainer");
	g_assert_cmpstr(lines, ==, want);
	g_autofree char *on_share = g_build_filename(bundle, "rootfs", "scratch", "state", NULL);
	g_assert_false(g_file_test(on_share, G_FILE_TEST_EXISTS));
	OK(harness_remove(&h, "create-ctr", &error));
	run_clear(&run);
	oci_spec_free(spec);
}

/* A failing startContainer hook fails start with the stage, the path and
 * the cause; the process never runs; the guest goes on. */
static void test_start_container_fails(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "fail-start");
	OciSpec *spec = spec_sh("echo user-ran");
	Run run = {0};

	add_sh_hook(spec, OCI_HOOK_START_CONTAINER, "echo boom >&2; echo more >&2; exit 3", 0);
	OK(harness_create(&h, "fail-start", spec, bundle, FALSE, &run, &error));
	g_assert_false(harness_start(&h, "fail-start", &error));
	g_assert_cmpstr(error->message, ==,
			"start container fail-start: startContainer hook /bin/sh exited with status 3: boom");
	g_assert_true(ck_error_is(error, CK_ERROR_FAILED));
	remove_and_check_guest("fail-start", &run);
	g_assert_cmpstr(run.out->str, ==, "");
	run_clear(&run);
	oci_spec_free(spec);
}

/* A startContainer hook that outlives its timeout is killed, and start
 * fails long before the hook would have ended. */
static void test_start_container_timeout(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "slow-start");
	OciSpec *spec = spec_sh("echo user-ran");
	Run run = {0};

	add_sh_hook(spec, OCI_HOOK_START_CONTAINER, "sleep 120", 2);
	OK(harness_create(&h, "slow-start", spec, bundle, FALSE, &run, &error));
	gint64 t0 = g_get_monotonic_time();
	g_assert_false(harness_start(&h, "slow-start", &error));
	gint64 took_ms = (g_get_monotonic_time() - t0) / 1000;
	g_assert_cmpstr(error->message, ==,
			"start container slow-start: startContainer hook /bin/sh timed out after 2 s");
	g_assert_true(ck_error_is(error, CK_ERROR_TIMEOUT));
	g_assert_cmpint(took_ms, >=, 2000);
	g_assert_cmpint(took_ms, <, 30000);
	remove_and_check_guest("slow-start", &run);
	g_assert_cmpstr(run.out->str, ==, "");
	run_clear(&run);
	oci_spec_free(spec);
}

/* A createContainer hook that cannot run fails create. */
static void test_create_container_fails(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "fail-create");
	OciSpec *spec = spec_sh("echo user-ran");
	OciSpec *again = spec_sh("echo user-ran");
	const char *args[] = {"nope", NULL};
	const char *record[] = {"record", "createContainer", NULL};
	Run run = {0};

	add_hook(spec, OCI_HOOK_CREATE_CONTAINER, "/no/such/hook", args, NULL, 0);
	g_assert_false(harness_create(&h, "fail-create", spec, bundle, FALSE, &run, &error));
	g_assert_cmpstr(error->message, ==,
			"create container fail-create: createContainer hook /no/such/hook: No such file or directory");
	g_assert_true(ck_error_is(error, CK_ERROR_NOT_FOUND));
	g_clear_error(&error);

	/* nothing is left of it: the id is free, and the guest runs the next */
	add_hook(again, OCI_HOOK_CREATE_CONTAINER, GUEST_HOOKS "/record", record, NULL, 0);
	create_start_wait("fail-create", again, bundle, &run);
	g_assert_cmpstr(run.out->str, ==, "user-ran\n");
	OK(harness_remove(&h, "fail-create", &error));
	g_autofree char *want = g_strdup_printf("createContainer fail-create %d created record\n", run.pid);
	g_autofree char *lines = log_lines(bundle, "createContainer");
	g_assert_cmpstr(lines, ==, want);
	run_clear(&run);
	oci_spec_free(spec);
	oci_spec_free(again);
}

/* --- Kata's guest hooks ------------------------------------------------------- */

/* prestart (both, in lexical order; 05-readme is not executable and
 * skipped), poststart, poststop, each with the state of its moment. */
static void test_guest_hooks_order(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "gh");
	OciSpec *spec = spec_sh("echo hi");
	Run run = {0};

	create_start_wait("gh", spec, bundle, &run);
	g_assert_cmpint(run.exit.exit_code, ==, 0);
	g_autofree char *before_remove = rootfs_file(bundle, "hooks.log");
	OK(harness_remove(&h, "gh", &error));

	int p = run.pid;
	g_autofree char *want_before = g_strdup_printf("prestart gh %d created 10-record\n"
						       "prestart gh %d created 20-record\n"
						       "poststart gh %d running 10-record\n",
						       p, p, p);
	g_assert_cmpstr(before_remove, ==, want_before);
	g_autofree char *want = g_strdup_printf("%spoststop gh %d stopped 10-record\n", want_before, p);
	g_autofree char *log = rootfs_file(bundle, "hooks.log");
	g_assert_cmpstr(log, ==, want);
	run_clear(&run);
	oci_spec_free(spec);
}

/* A failing guest prestart hook fails start and stops the container; the
 * hooks after it do not run. */
static void test_guest_prestart_fails(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "gh-fail");
	OciSpec *spec = spec_sh("echo user-ran");
	Run run = {0};

	g_hash_table_insert(spec->annotations, g_strdup("ck-test.fail"), g_strdup("prestart"));
	OK(harness_create(&h, "gh-fail", spec, bundle, FALSE, &run, &error));
	g_assert_false(harness_start(&h, "gh-fail", &error));
	g_assert_cmpstr(error->message, ==,
			"start container gh-fail: guest prestart hook " GUEST_HOOKS "/prestart/10-record exited with "
			"status 3: prestart hook failing on request");
	remove_and_check_guest("gh-fail", &run);
	g_assert_cmpstr(run.out->str, ==, "");
	g_autofree char *lines = log_lines(bundle, "prestart");
	g_assert_cmpstr(lines, ==, "");
	g_autofree char *poststop = log_lines(bundle, "poststop");
	g_assert_true(g_str_has_prefix(poststop, "poststop gh-fail "));
	run_clear(&run);
	oci_spec_free(spec);
}

/* A failing guest poststart hook is only logged: start succeeds. */
static void test_guest_poststart_fails(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "gh-post");
	OciSpec *spec = spec_sh("echo user-ran");
	Run run = {0};

	g_hash_table_insert(spec->annotations, g_strdup("ck-test.fail"), g_strdup("poststart"));
	create_start_wait("gh-post", spec, bundle, &run);
	g_assert_cmpstr(run.out->str, ==, "user-ran\n");
	OK(harness_remove(&h, "gh-post", &error));
	g_autofree char *poststart = log_lines(bundle, "poststart");
	g_assert_cmpstr(poststart, ==, "");
	g_autofree char *prestart = log_lines(bundle, "prestart");
	g_autofree char *want = g_strdup_printf("prestart gh-post %d created 10-record\n"
						"prestart gh-post %d created 20-record\n",
						run.pid, run.pid);
	g_assert_cmpstr(prestart, ==, want);
	run_clear(&run);
	oci_spec_free(spec);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	harness_boot(&h);
	g_test_add_func("/hooks/start-container", test_start_container);
	g_test_add_func("/hooks/create-container", test_create_container);
	g_test_add_func("/hooks/start-container-fails", test_start_container_fails);
	g_test_add_func("/hooks/start-container-timeout", test_start_container_timeout);
	g_test_add_func("/hooks/create-container-fails", test_create_container_fails);
	g_test_add_func("/hooks/guest-hooks-order", test_guest_hooks_order);
	g_test_add_func("/hooks/guest-prestart-fails", test_guest_prestart_fails);
	g_test_add_func("/hooks/guest-poststart-fails", test_guest_poststart_fails);
	int rc = g_test_run();
	harness_teardown(&h);
	return rc;
}
