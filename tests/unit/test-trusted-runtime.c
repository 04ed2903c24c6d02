/* trusted-runtime: how a trusted container's verbs reach runc
 * (vmctl/lib/trusted-runtime.h): the command line, the state document
 * with the trust decision, and exit statuses passing through, against a
 * stand-in runtime script that records its arguments. */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "lib/trusted-runtime.h"
#include "lib/workload.h"

static char *tmp;

static char *joined(GPtrArray *argv)
{
	return g_strjoinv(" ", (char **)argv->pdata);
}

static void test_argv(void)
{
	char *verb[] = {"kill", "--all", "c1", "KILL", NULL};
	TrustedGlobals none = {0};
	TrustedGlobals all = {.log_path = "/var/log/x.log", .log_json = TRUE, .debug = TRUE, .systemd_cgroup = TRUE};

	g_autoptr(GPtrArray) a = trusted_runtime_argv(&none, "/usr/sbin/runc", "/run/vmctl/trusted", verb);
	g_autofree char *sa = joined(a);
	g_assert_cmpstr(sa, ==, "/usr/sbin/runc --root /run/vmctl/trusted kill --all c1 KILL");
	g_autoptr(GPtrArray) b = trusted_runtime_argv(&all, "/usr/sbin/runc", "/r", verb);
	g_autofree char *sb = joined(b);
	g_assert_cmpstr(sb, ==,
			"/usr/sbin/runc --root /r --log /var/log/x.log --log-format=json --debug --systemd-cgroup kill "
			"--all c1 KILL");
	all.log_json = FALSE;
	g_autoptr(GPtrArray) c = trusted_runtime_argv(&all, "/usr/sbin/runc", "/r", verb);
	g_assert_cmpstr(g_ptr_array_index(c, 5), ==, "--log-format=text");
}

static char *with_decision(const char *state, const char *decision)
{
	g_autoptr(GError) error = NULL;
	g_auto(yajl_val) tree = ck_json_parse(state, strlen(state), "state", &error);
	g_assert_no_error(error);
	char *out = trusted_state_with_decision(tree, decision, &error);
	g_assert_no_error(error);
	return out;
}

static void test_state_decision(void)
{
	/* among runc's annotations, sorted, just before "owner" */
	g_autofree char *a = with_decision("{\"id\":\"c\",\"annotations\":{\"z\":\"1\",\"a\":\"2\"},\"owner\":\"\"}",
					   "trusted: runtime handler");
	g_assert_cmpstr(a, ==,
			"{\n  \"id\": \"c\",\n  \"annotations\": {\n    \"a\": \"2\",\n"
			"    \"io.conmon-kata.trust\": \"trusted: runtime handler\",\n    \"z\": \"1\"\n  },\n"
			"  \"owner\": \"\"\n}");
	/* runc printed none: the decision alone, still before "owner" */
	g_autofree char *b = with_decision("{\"id\":\"c\",\"owner\":\"\"}", "trusted: x");
	g_assert_cmpstr(b, ==, "{\n  \"id\": \"c\",\n  \"annotations\": {\n    \"io.conmon-kata.trust\": \"trusted: x\"\n"
			       "  },\n  \"owner\": \"\"\n}");
	/* no decision and no annotations: runc's document, untouched */
	g_autofree char *c = with_decision("{\"id\":\"c\",\"owner\":\"\"}", NULL);
	g_assert_cmpstr(c, ==, "{\n  \"id\": \"c\",\n  \"owner\": \"\"\n}");
}

/* A stand-in for runc: records its argv, prints a state for `state`,
 * exits with the status in the file beside it. */
static ContainerState *fake_container(const char *status)
{
	g_autofree char *script = g_build_filename(tmp, "runc", NULL);
	g_autofree char *status_file = g_build_filename(tmp, "status", NULL);
	g_autofree char *text = g_strdup_printf("#!/bin/sh\necho \"$@\" > %s/argv\n"
						"case \" $* \" in *\" state \"*) "
						"echo '{\"ociVersion\":\"1.0.2\",\"id\":\"t1\",\"owner\":\"\"}';; esac\n"
						"exit $(cat %s)\n",
						tmp, status_file);
	g_assert_true(g_file_set_contents(script, text, -1, NULL));
	g_assert_cmpint(g_chmod(script, 0755), ==, 0);
	g_assert_true(g_file_set_contents(status_file, status, -1, NULL));
	ContainerState *st = container_state_new("t1");
	st->kind = CONTAINER_KIND_TRUSTED;
	st->trusted_runtime = g_steal_pointer(&script);
	st->trusted_root = g_build_filename(tmp, "troot", NULL);
	g_hash_table_insert(st->annotations, g_strdup(ANNOTATION_TRUST_DECISION), g_strdup("trusted: test"));
	return st;
}

static char *recorded_argv(void)
{
	g_autofree char *path = g_build_filename(tmp, "argv", NULL);
	char *text = NULL;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return g_strstrip(text);
}

static void test_state_and_run(void)
{
	char *verb[] = {"state", "t1", NULL};
	TrustedGlobals g = {.debug = TRUE};
	g_autoptr(GError) error = NULL;
	int status = -1;

	g_autoptr(ContainerState) ok = fake_container("0");
	g_autofree char *json = trusted_runtime_state(&g, ok, verb, &status, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(json, ==,
			"{\n  \"ociVersion\": \"1.0.2\",\n  \"id\": \"t1\",\n  \"annotations\": {\n"
			"    \"io.conmon-kata.trust\": \"trusted: test\"\n  },\n  \"owner\": \"\"\n}");
	g_autofree char *argv1 = recorded_argv();
	g_autofree char *want = g_strdup_printf("--root %s --debug state t1", ok->trusted_root);
	g_assert_cmpstr(argv1, ==, want);

	/* runc's failure is its status, not an error of ours */
	g_autoptr(ContainerState) failing = fake_container("3");
	g_assert_null(trusted_runtime_state(&g, failing, verb, &status, &error));
	g_assert_no_error(error);
	g_assert_cmpint(status, ==, 3);

	char *del[] = {"delete", "t1", NULL};
	g_assert_cmpint(trusted_runtime_run(&g, failing, del, &error), ==, 3);
	g_assert_no_error(error);
	g_autoptr(ContainerState) fine = fake_container("0");
	g_assert_cmpint(trusted_runtime_run(&g, fine, del, &error), ==, 0);

	/* a runtime that is not there: an error naming it */
	g_free(fine->trusted_runtime);
	fine->trusted_runtime = g_build_filename(tmp, "no-such-runc", NULL);
	g_assert_cmpint(trusted_runtime_run(&g, fine, del, &error), ==, 1);
	g_assert_nonnull(error);
	g_assert_nonnull(strstr(error->message, "no-such-runc"));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tmp = g_dir_make_tmp("test-trusted-XXXXXX", NULL);
	g_test_add_func("/trusted-runtime/argv", test_argv);
	g_test_add_func("/trusted-runtime/state-decision", test_state_decision);
	g_test_add_func("/trusted-runtime/state-and-run", test_state_and_run);
	int rc = g_test_run();
	g_autoptr(GError) error = NULL;
	(void)ck_rm_rf(tmp, &error);
	g_free(tmp);
	return rc;
}
