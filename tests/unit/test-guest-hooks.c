/* Unit tests: the agent's guest hooks (agent/guest-hooks.c) on the host, in
 * a temporary directory laid out as a guest_hook_path: which entries of
 * prestart/, poststart/ and poststop/ become hooks and in which order, the
 * warnings for the rest, Kata's args, the failure semantics per stage, and
 * the default timeout and time budget of the spec's guest stages. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-io.h"
#include "agent/guest-hooks.h"

#define STATE "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"created\",\"pid\":42,\"bundle\":\"/b\"}"

static char *root;

static char *root_path(const char *rel)
{
	return g_build_filename(root, rel, NULL);
}

static void make_dir(const char *rel)
{
	g_autofree char *path = root_path(rel);

	g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
}

/* A /bin/sh script at root/rel; @ROOT@ in body stands for root. */
static void make_file(const char *rel, const char *body, int mode)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = root_path(rel);
	g_autoptr(GString) text = g_string_new("#!/bin/sh\n");

	g_string_append(text, body);
	g_string_replace(text, "@ROOT@", root, 0);
	g_assert_true(g_file_set_contents(path, text->str, -1, &error));
	g_assert_cmpint(g_chmod(path, mode), ==, 0);
}

static char *read_root(const char *rel)
{
	g_autofree char *path = root_path(rel);
	char *data = NULL;

	if (!g_file_get_contents(path, &data, NULL, NULL))
		return NULL;
	return data;
}

/* The names of a stage's hooks, space-separated. */
static char *names(const GuestHooks *hooks, OciHookStage stage)
{
	GString *s = g_string_new(NULL);
	const OciHookList *l = &hooks->lists[stage];

	for (gsize i = 0; i < l->n_hooks; i++)
		g_string_append_printf(s, "%s%s", i ? " " : "", l->hooks[i].args[0]);
	return g_string_free(s, FALSE);
}

static void scan(GuestHooks *hooks, GPtrArray **out_warnings)
{
	*out_warnings = g_ptr_array_new_with_free_func(g_free);
	guest_hooks_scan(hooks, root, *out_warnings);
}

/* strcmp order (digits, upper case, lower case), whatever the locale. */
static void test_scan_order(void)
{
	g_auto(GuestHooks) hooks = {0};
	g_autoptr(GPtrArray) warnings = NULL;

	make_dir("prestart");
	make_dir("poststop");
	make_file("prestart/b-20", "", 0755);
	make_file("prestart/a-10", "", 0700);
	make_file("prestart/Z-upper", "", 0755);
	make_file("prestart/10-first", "", 0555);
	make_file("poststop/only", "", 0755);
	scan(&hooks, &warnings);

	g_assert_cmpuint(warnings->len, ==, 0);
	g_autofree char *pre = names(&hooks, OCI_HOOK_PRESTART);
	g_assert_cmpstr(pre, ==, "10-first Z-upper a-10 b-20");
	g_autofree char *post = names(&hooks, OCI_HOOK_POSTSTART);
	g_assert_cmpstr(post, ==, "");
	g_autofree char *stop = names(&hooks, OCI_HOOK_POSTSTOP);
	g_assert_cmpstr(stop, ==, "only");
	/* Kata's hook: the file, args [name, stage], no env, our timeout */
	const OciHook *h = &hooks.lists[OCI_HOOK_PRESTART].hooks[2];
	g_autofree char *want_path = root_path("prestart/a-10");
	g_assert_cmpstr(h->path, ==, want_path);
	g_assert_cmpuint(g_strv_length(h->args), ==, 2);
	g_assert_cmpstr(h->args[1], ==, "prestart");
	g_assert_nonnull(h->env);
	g_assert_null(h->env[0]);
	g_assert_true(h->has_timeout);
	g_assert_cmpint(h->timeout, ==, GUEST_HOOK_DEFAULT_TIMEOUT_S);
	g_assert_cmpstr(hooks.lists[OCI_HOOK_POSTSTOP].hooks[0].args[1], ==, "poststop");
	/* the spec's stages are never filled from the directory */
	g_assert_cmpuint(hooks.lists[OCI_HOOK_CREATE_CONTAINER].n_hooks, ==, 0);
	g_assert_cmpuint(hooks.lists[OCI_HOOK_START_CONTAINER].n_hooks, ==, 0);
}

/* Only executable regular files (symlinks followed); each skip is a
 * warning naming the entry. */
static void test_scan_skips(void)
{
	g_auto(GuestHooks) hooks = {0};
	g_autoptr(GPtrArray) warnings = NULL;
	g_autofree char *target = root_path("poststart/10-run");
	g_autofree char *link = root_path("poststart/20-link");
	g_autofree char *dangling = root_path("poststart/30-dangling");

	make_dir("poststart/15-dir");
	make_file("poststart/10-run", "", 0755);
	make_file("poststart/12-plain", "", 0644);
	g_assert_cmpint(symlink(target, link), ==, 0);
	g_assert_cmpint(symlink("/nonexistent/hook", dangling), ==, 0);
	scan(&hooks, &warnings);

	g_autofree char *post = names(&hooks, OCI_HOOK_POSTSTART);
	g_assert_cmpstr(post, ==, "10-run 20-link");
	g_assert_cmpuint(warnings->len, ==, 3);
	g_autofree char *w0 = g_strdup_printf("guest hooks: %s/poststart/12-plain: not executable, skipped", root);
	g_autofree char *w1 = g_strdup_printf("guest hooks: %s/poststart/15-dir: not a regular file, skipped", root);
	g_autofree char *w2 =
	    g_strdup_printf("guest hooks: %s/poststart/30-dangling: No such file or directory, skipped", root);
	g_assert_cmpstr(g_ptr_array_index(warnings, 0), ==, w0);
	g_assert_cmpstr(g_ptr_array_index(warnings, 1), ==, w1);
	g_assert_cmpstr(g_ptr_array_index(warnings, 2), ==, w2);
}

/* A missing root or a stage that is not a directory: warnings, no hooks,
 * and the other stages still count. A missing stage is silent. */
static void test_scan_errors(void)
{
	g_auto(GuestHooks) hooks = {0};
	g_autoptr(GPtrArray) warnings = NULL;
	g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *nowhere = root_path("nowhere");

	make_file("prestart", "", 0755);
	make_dir("poststop");
	make_file("poststop/ok", "", 0755);
	scan(&hooks, &warnings);
	g_assert_cmpuint(warnings->len, ==, 1);
	g_autofree char *want = g_strdup_printf("guest hooks: %s/prestart: Not a directory", root);
	g_assert_cmpstr(g_ptr_array_index(warnings, 0), ==, want);
	g_assert_cmpuint(hooks.lists[OCI_HOOK_PRESTART].n_hooks, ==, 0);
	g_assert_cmpuint(hooks.lists[OCI_HOOK_POSTSTOP].n_hooks, ==, 1);

	/* a second scan replaces the first */
	guest_hooks_scan(&hooks, nowhere, missing);
	g_assert_cmpuint(missing->len, ==, 1);
	g_autofree char *want_missing = g_strdup_printf("guest hooks: %s: No such file or directory", nowhere);
	g_assert_cmpstr(g_ptr_array_index(missing, 0), ==, want_missing);
	for (int s = 0; s < OCI_HOOK_MAX; s++)
		g_assert_cmpuint(hooks.lists[s].n_hooks, ==, 0);

	/* warnings may be left uncollected */
	guest_hooks_scan(&hooks, nowhere, NULL);
}

/* The hook gets Kata's args and the state; prestart stops at the first
 * failure with "guest prestart hook ...". */
static void test_run_prestart_stops(void)
{
	g_auto(GuestHooks) hooks = {0};
	g_autoptr(GPtrArray) warnings = NULL;
	g_autoptr(GError) error = NULL;

	make_dir("prestart");
	/* (a script's $0 is its path, not argv[0]: the kernel hands the
	 * interpreter the path) */
	make_file("prestart/10-ok", "echo \"$1 $#\" >@ROOT@/args; cat >@ROOT@/state\n", 0755);
	make_file("prestart/20-fails", "echo nope >&2; exit 4\n", 0755);
	make_file("prestart/30-never", "touch @ROOT@/never\n", 0755);
	scan(&hooks, &warnings);
	g_assert_cmpuint(hooks.lists[OCI_HOOK_PRESTART].n_hooks, ==, 3);

	g_assert_false(guest_hooks_run(&hooks, OCI_HOOK_PRESTART, STATE, &error));
	g_autofree char *want =
	    g_strdup_printf("guest prestart hook %s/prestart/20-fails exited with status 4: nope", root);
	g_assert_cmpstr(error->message, ==, want);
	g_autofree char *args = read_root("args");
	g_assert_cmpstr(args, ==, "prestart 1\n");
	g_autofree char *state = read_root("state");
	g_assert_cmpstr(state, ==, STATE);
	g_autofree char *never = root_path("never");
	g_assert_false(g_file_test(never, G_FILE_TEST_EXISTS));
}

/* poststart and poststop: a failure does not stop the others, nor the
 * caller. */
static void test_run_post_continues(void)
{
	static const OciHookStage stages[] = {OCI_HOOK_POSTSTART, OCI_HOOK_POSTSTOP};

	for (gsize i = 0; i < G_N_ELEMENTS(stages); i++) {
		const char *stage = oci_hook_stage_to_string(stages[i]);
		g_autofree char *fails = g_strdup_printf("%s/10-fails", stage);
		g_autofree char *runs = g_strdup_printf("%s/20-runs", stage);
		g_auto(GuestHooks) hooks = {0};
		g_autoptr(GPtrArray) warnings = NULL;
		g_autoptr(GError) error = NULL;

		make_dir(stage);
		make_file(fails, "exit 1\n", 0755);
		make_file(runs, "echo $1 >>@ROOT@/ran\n", 0755);
		scan(&hooks, &warnings);
		g_assert_true(guest_hooks_run(&hooks, stages[i], STATE, &error));
		g_assert_no_error(error);
	}
	g_autofree char *ran = read_root("ran");
	g_assert_cmpstr(ran, ==, "poststart\npoststop\n");
}

/* A stage without hooks succeeds at once. */
static void test_run_empty(void)
{
	GuestHooks hooks = {0};
	g_autoptr(GError) error = NULL;

	g_assert_true(guest_hooks_run(&hooks, OCI_HOOK_PRESTART, STATE, &error));
	g_assert_true(guest_hooks_run(&hooks, OCI_HOOK_POSTSTOP, STATE, &error));
	g_assert_no_error(error);
}

/* The spec's hooks without a timeout get the default; the budget is the
 * sum of the timeouts. */
static void test_default_timeout_and_budget(void)
{
	OciHook h[3] = {
	    {.has_timeout = TRUE, .timeout = 5},
	    {.has_timeout = FALSE},
	    {.has_timeout = TRUE, .timeout = 1},
	};
	OciHookList list = {.hooks = h, .n_hooks = 3};
	OciHookList empty = {0};

	g_assert_cmpint(guest_hooks_budget_ms(&empty), ==, 0);
	guest_hooks_set_default_timeout(&list);
	g_assert_true(h[1].has_timeout);
	g_assert_cmpint(h[1].timeout, ==, GUEST_HOOK_DEFAULT_TIMEOUT_S);
	g_assert_cmpint(h[0].timeout, ==, 5);
	g_assert_cmpint(guest_hooks_budget_ms(&list), ==, (5 + GUEST_HOOK_DEFAULT_TIMEOUT_S + 1) * 1000);

	/* a huge timeout does not overflow the budget */
	h[0].timeout = G_MAXINT;
	g_assert_cmpint(guest_hooks_budget_ms(&list), >, 0);
}

static void run_in_clean_dir(gconstpointer data)
{
	void (*fn)(void) = (void (*)(void))data;
	g_autoptr(GError) error = NULL;

	root = g_dir_make_tmp("ck-guest-hooks-XXXXXX", &error);
	g_assert_no_error(error);
	fn();
	g_assert_true(ck_rm_rf(root, NULL));
	g_clear_pointer(&root, g_free);
}

static void add(const char *name, void (*fn)(void))
{
	g_test_add_data_func(name, (gconstpointer)fn, run_in_clean_dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add("/guest-hooks/scan-order", test_scan_order);
	add("/guest-hooks/scan-skips", test_scan_skips);
	add("/guest-hooks/scan-errors", test_scan_errors);
	add("/guest-hooks/run-prestart-stops", test_run_prestart_stops);
	add("/guest-hooks/run-post-continues", test_run_post_continues);
	add("/guest-hooks/run-empty", test_run_empty);
	add("/guest-hooks/default-timeout-and-budget", test_default_timeout_and_budget);
	return g_test_run();
}
