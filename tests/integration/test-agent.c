/* Integration: the guest agent's container lifecycle, driven through the
 * library against the real guest under TCG. One VM for the whole file;
 * each test runs its own containers in it (as a pod would).
 *
 * Specs come from real OCI config.json files: CRI-O 1.26's own, adapted
 * to the busybox rootfs (tests/data/config-default.json is our runc-like
 * default), with one property changed per test.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "base/ck-error.h"
#include "base/ck-json.h"
#include "oci/oci-seccomp.h"
#include "proto/ck-message.h"
#include "lib/guest-spec.h"
#include "tests/lib/harness.h"

#define TIMEOUT_MS 60000

static Harness h;

static OciSpec *spec_sh(const char *script)
{
	const char *argv[] = {"/bin/sh", "-c", script, NULL};
	return harness_default_spec(argv);
}

/* Runs a one-shot container and returns its stdout; asserts the code. */
static char *run_sh(const char *id, OciSpec *spec, int want_code)
{
	Run run = {0};

	harness_run_oneshot(&h, id, spec, &run, TIMEOUT_MS);
	if (run.exit.exit_code != want_code)
		g_error("%s: exit %d, expected %d; stdout: %s; stderr: %s", id, run.exit.exit_code, want_code,
			run.out->str, run.err->str);
	char *out = g_strdup(run.out->str);
	run_clear(&run);
	oci_spec_free(spec);
	return out;
}

/* --- the CRI-O sample specs ------------------------------------------------- */

/* tests/data/crio-1.26 ($CK_CRIO_SAMPLES, set by meson). */
static char *sample_path(const char *name)
{
	const char *dir = g_getenv("CK_CRIO_SAMPLES");

	if (dir == NULL)
		g_error("CK_CRIO_SAMPLES is not set (run through meson test)");
	return g_build_filename(dir, name, NULL);
}

/* CRI-O's bind sources live under /run/containers/storage on the node
 * where the sample was taken: point them at files of this bundle. */
static void adapt_crio_mounts(OciSpec *spec, const char *bundle)
{
	for (gsize i = 0; i < spec->n_mounts; i++) {
		OciMount *m = &spec->mounts[i];
		if (g_strcmp0(m->type, "bind") != 0)
			continue;
		g_autofree char *base = g_path_get_basename(m->source);
		g_autofree char *path = g_build_filename(bundle, "userdata", base, NULL);
		g_autoptr(GError) error = NULL;
		if (g_str_equal(base, "shm"))
			g_assert_true(g_mkdir_with_parents(path, 01777) == 0);
		else {
			g_autofree char *dir = g_path_get_dirname(path);
			g_assert_true(g_mkdir_with_parents(dir, 0755) == 0);
			g_assert_true(g_file_set_contents(path, "crio-sample-pod\n", -1, &error));
		}
		g_free(m->source);
		m->source = g_steal_pointer(&path);
	}
	g_free(spec->root_path);
	spec->root_path = g_build_filename(bundle, "rootfs", NULL);
	spec->root_readonly = FALSE;
}

static void test_crio_samples(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *sb_bundle = harness_new_bundle(&h, "crio-sandbox");
	g_autofree char *ctr_bundle = harness_new_bundle(&h, "crio-ctr");
	g_autofree char *sb_path = sample_path("sandbox-config.json");
	g_autofree char *ctr_path = sample_path("container-config.json");
	OciSpec *sb = harness_load_spec(sb_path);
	OciSpec *ctr = harness_load_spec(ctr_path);
	Run sb_run = {0}, ctr_run = {0};

	/* the pause container becomes a sleeping shell; the rest is CRI-O's */
	const char *pause[] = {"/bin/sleep", "1000", NULL};
	g_strfreev(sb->process.args);
	sb->process.args = g_strdupv((char **)pause);
	adapt_crio_mounts(sb, sb_bundle);
	adapt_crio_mounts(ctr, ctr_bundle);
	/* the sandbox creates the pod's ipc/uts namespaces; the container joins */
	for (gsize i = 0; i < sb->n_namespaces; i++)
		if (sb->namespaces[i].type != OCI_NS_NETWORK)
			g_clear_pointer(&sb->namespaces[i].path, g_free);
	for (gsize i = 0; i < ctr->n_namespaces; i++)
		if (ctr->namespaces[i].path != NULL && ctr->namespaces[i].type != OCI_NS_NETWORK) {
			g_free(ctr->namespaces[i].path);
			ctr->namespaces[i].path = g_strdup("container:crio-sandbox");
		}
	const char *script[] = {"/bin/sh", "-c",
				"echo hello from $(hostname); cat /etc/hostname; readlink /proc/self/ns/uts; exit 0",
				NULL};
	g_strfreev(ctr->process.args);
	ctr->process.args = g_strdupv((char **)script);

	OK(harness_create(&h, "crio-sandbox", sb, sb_bundle, FALSE, &sb_run, &error));
	g_assert_no_error(error);
	OK(harness_start(&h, "crio-sandbox", &error));
	OK(harness_create(&h, "crio-ctr", ctr, ctr_bundle, FALSE, &ctr_run, &error));
	g_assert_no_error(error);
	OK(harness_start(&h, "crio-ctr", &error));
	harness_wait_exit(&h, &ctr_run, TIMEOUT_MS);
	g_assert_cmpint(ctr_run.exit.exit_code, ==, 0);
	/* the sandbox spec's hostname is lab-pod; the container shares its uts */
	g_assert_true(g_str_has_prefix(ctr_run.out->str, "hello from lab-pod\ncrio-sample-pod\nuts:["));

	OK(harness_remove(&h, "crio-ctr", &error));
	OK(harness_remove(&h, "crio-sandbox", &error));
	g_assert_true(sb_run.exited);
	g_assert_cmpint(sb_run.exit.exit_code, ==, 137);
	run_clear(&sb_run);
	run_clear(&ctr_run);
	oci_spec_free(sb);
	oci_spec_free(ctr);
}

/* --- basics ---------------------------------------------------------------- */

static gboolean out_contains_ready(gpointer data)
{
	return strstr(((Run *)data)->out->str, "ready") != NULL;
}

/* On a terminal the line end arrives as its own chunk at times: wait for
 * the whole line before typing, or the echo of the input interleaves. */
static gboolean out_contains_ready_line(gpointer data)
{
	return strstr(((Run *)data)->out->str, "ready\r\n") != NULL;
}


static void test_echo(void)
{
	const char *argv[] = {"echo", "hello", "world", NULL};
	g_autofree char *out = run_sh("echo", harness_default_spec(argv), 0);

	g_assert_cmpstr(out, ==, "hello world\n");
}

static void test_exit_codes(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "kill9");
	OciSpec *spec = spec_sh("echo up; exec sleep 1000");
	Run run = {0};

	g_free(run_sh("exit0", spec_sh("exit 0"), 0));
	g_free(run_sh("exit1", spec_sh("exit 1"), 1));
	g_free(run_sh("exit42", spec_sh("exit 42"), 42));

	/* SIGKILL from outside the container (as `kill <id> KILL`): 128 + 9 */
	OK(harness_create(&h, "kill9", spec, bundle, FALSE, &run, &error));
	OK(harness_start(&h, "kill9", &error));
	CkSignalProcessArgs kill = {.ref.id = "kill9", .signal = SIGKILL};
	OK(agent_client_op(h.agent, CK_OP_SIGNAL_PROCESS, &kill, NULL, TIMEOUT_MS, &error));
	harness_wait_exit(&h, &run, TIMEOUT_MS);
	g_assert_cmpint(run.exit.exit_code, ==, 137);
	g_assert_cmpint(run.exit.signal, ==, SIGKILL);
	g_assert_false(run.exit.oom_killed);
	OK(harness_remove(&h, "kill9", &error));
	run_clear(&run);
	oci_spec_free(spec);
}

static void test_signal_from_host(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "sig");
	OciSpec *spec = spec_sh("trap 'echo got-term; exit 5' TERM; echo ready; while :; do sleep 0.1; done");
	Run run = {0}, child = {0};

	OK(harness_create(&h, "sig", spec, bundle, FALSE, &run, &error));
	OK(harness_start(&h, "sig", &error));
	/* a PID 1 without a handler drops TERM: wait until the trap is set */
	g_assert_true(harness_run_until(&h, out_contains_ready, &run, TIMEOUT_MS));
	/* an exec'd process that is not PID 1 dies from the default action */
	OK(harness_exec(&h, "sig", "sleeper",
				   "{\"args\":[\"sleep\",\"1000\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0}}",
				   FALSE, &child, &error));
	g_assert_no_error(error);
	CkSignalProcessArgs kill_exec = {.ref.handle = child.handle, .signal = SIGTERM};
	OK(agent_client_op(h.agent, CK_OP_SIGNAL_PROCESS, &kill_exec, NULL, TIMEOUT_MS, &error));
	harness_wait_exit(&h, &child, TIMEOUT_MS);
	g_assert_cmpint(child.exit.exit_code, ==, 128 + SIGTERM);
	g_assert_cmpint(child.exit.signal, ==, SIGTERM);

	/* the init process has a handler: TERM reaches it */
	CkSignalProcessArgs term = {.ref.id = "sig", .signal = SIGTERM};
	OK(agent_client_op(h.agent, CK_OP_SIGNAL_PROCESS, &term, NULL, TIMEOUT_MS, &error));
	harness_wait_exit(&h, &run, TIMEOUT_MS);
	g_assert_cmpint(run.exit.exit_code, ==, 5);
	g_assert_cmpstr(run.out->str, ==, "ready\ngot-term\n");
	OK(harness_remove(&h, "sig", &error));
	run_clear(&run);
	run_clear(&child);
	oci_spec_free(spec);
}

/* --- process attributes ---------------------------------------------------- */

static char *status_field(const char *status, const char *field)
{
	g_auto(GStrv) lines = g_strsplit(status, "\n", -1);
	for (char **l = lines; *l != NULL; l++)
		if (g_str_has_prefix(*l, field) && (*l)[strlen(field)] == ':')
			return g_strstrip(g_strdup(*l + strlen(field) + 1));
	return NULL;
}

static void test_user_and_caps(void)
{
	OciSpec *spec = spec_sh("cat /proc/self/status; id");
	g_autofree guint32 *gids = g_new0(guint32, 1);

	spec->process.uid = 1000;
	spec->process.gid = 1000;
	gids[0] = 2000;
	g_free(spec->process.additional_gids);
	spec->process.additional_gids = g_steal_pointer(&gids);
	spec->process.n_additional_gids = 1;
	/* a non-root process keeps capabilities across execve only as
	 * ambient ones (which need inheritable and permitted too) */
	const char *caps[] = {"CAP_CHOWN", "CAP_KILL", NULL};
	char ***sets[] = {&spec->process.caps.bounding, &spec->process.caps.effective,
			  &spec->process.caps.permitted, &spec->process.caps.inheritable,
			  &spec->process.caps.ambient};
	for (gsize i = 0; i < G_N_ELEMENTS(sets); i++) {
		g_strfreev(*sets[i]);
		*sets[i] = g_strdupv((char **)caps);
	}
	g_autofree char *out = run_sh("creds", spec, 0);

	g_autofree char *uid = status_field(out, "Uid");
	g_autofree char *gid = status_field(out, "Gid");
	g_autofree char *groups = status_field(out, "Groups");
	g_autofree char *eff = status_field(out, "CapEff");
	g_autofree char *bnd = status_field(out, "CapBnd");
	g_autofree char *amb = status_field(out, "CapAmb");
	g_autofree char *prm = status_field(out, "CapPrm");
	g_autofree char *nnp = status_field(out, "NoNewPrivs");
	g_assert_cmpstr(uid, ==, "1000\t1000\t1000\t1000");
	g_assert_cmpstr(gid, ==, "1000\t1000\t1000\t1000");
	g_assert_cmpstr(groups, ==, "2000");
	/* CAP_CHOWN is bit 0, CAP_KILL bit 5 */
	g_assert_cmpstr(eff, ==, "0000000000000021");
	g_assert_cmpstr(bnd, ==, "0000000000000021");
	g_assert_cmpstr(amb, ==, "0000000000000021");
	g_assert_cmpstr(prm, ==, "0000000000000021");
	g_assert_cmpstr(nnp, ==, "1");
	g_assert_nonnull(strstr(out, "uid=1000(user) gid=1000(user) groups=2000(extra)"));
}

static void test_rlimit_hostname_env_cwd(void)
{
	OciSpec *spec = spec_sh("ulimit -n; hostname; echo $FOO; pwd; umask");

	spec->process.rlimits[0].soft = 123;
	spec->process.rlimits[0].hard = 456;
	g_free(spec->hostname);
	spec->hostname = g_strdup("agent-test");
	g_free(spec->process.cwd);
	spec->process.cwd = g_strdup("/srv/agent-cwd");
	spec->process.has_umask = TRUE;
	spec->process.umask = 027;
	g_autoptr(GPtrArray) env = g_ptr_array_new();
	for (char **e = spec->process.env; *e != NULL; e++)
		g_ptr_array_add(env, g_strdup(*e));
	g_ptr_array_add(env, g_strdup("FOO=bar baz"));
	g_ptr_array_add(env, NULL);
	g_strfreev(spec->process.env);
	spec->process.env = (char **)g_ptr_array_free(g_steal_pointer(&env), FALSE);
	g_autofree char *out = run_sh("attrs", spec, 0);

	g_assert_cmpstr(out, ==, "123\nagent-test\nbar baz\n/srv/agent-cwd\n0027\n");
}

/* --- filesystem ------------------------------------------------------------ */

static void test_readonly_rootfs_and_tmpfs(void)
{
	OciSpec *spec = spec_sh("touch /x 2>&1; echo data > /data/f && cat /data/f; grep ' /data ' /proc/mounts");
	OciMount *m;

	spec->root_readonly = TRUE;
	spec->mounts = g_renew(OciMount, spec->mounts, spec->n_mounts + 1);
	m = &spec->mounts[spec->n_mounts++];
	*m = (OciMount){.destination = g_strdup("/data"), .type = g_strdup("tmpfs"), .source = g_strdup("tmpfs")};
	const char *opts[] = {"nosuid", "size=1m", "mode=1777", NULL};
	m->options = g_strdupv((char **)opts);
	g_autofree char *out = run_sh("ro", spec, 0);

	g_assert_true(g_str_has_prefix(out, "touch: /x: Read-only file system\ndata\ntmpfs /data tmpfs rw,nosuid"));
	g_assert_nonnull(strstr(out, "size=1024k"));
}

static void test_masked_and_dev(void)
{
	g_autofree char *out =
		run_sh("dev", spec_sh("cat /proc/kcore | wc -c; ls /dev | sort | tr '\\n' ' '; "
				      "echo; readlink /dev/fd; test -c /dev/null && echo null-ok"),
		       0);

	g_assert_true(g_str_has_prefix(out, "0\n"));
	g_assert_nonnull(strstr(out, "full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero"));
	g_assert_nonnull(strstr(out, "/proc/self/fd\nnull-ok\n"));
}

static void test_volume_bind(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *vol = g_build_filename(h.root, "volume", NULL);
	g_autofree char *file = g_build_filename(vol, "from-host.txt", NULL);
	OciSpec *spec = spec_sh("cat /vol/from-host.txt; echo from-guest > /vol/back.txt; touch /ro/x 2>&1");

	g_assert_cmpint(g_mkdir_with_parents(vol, 0755), ==, 0);
	g_assert_true(g_file_set_contents(file, "host data\n", -1, &error));
	spec->mounts = g_renew(OciMount, spec->mounts, spec->n_mounts + 2);
	const char *rw[] = {"rbind", "rw", NULL}, *ro[] = {"bind", "ro", NULL};
	spec->mounts[spec->n_mounts++] = (OciMount){.destination = g_strdup("/vol"), .type = g_strdup("bind"),
						      .source = g_strdup(vol), .options = g_strdupv((char **)rw)};
	spec->mounts[spec->n_mounts++] = (OciMount){.destination = g_strdup("/ro"), .type = g_strdup("bind"),
						      .source = g_strdup(vol), .options = g_strdupv((char **)ro)};
	/* the last command, touch on the read-only bind, fails: exit 1 */
	g_autofree char *out = run_sh("vol", spec, 1);

	g_assert_cmpstr(out, ==, "host data\ntouch: /ro/x: Read-only file system\n");
	g_autofree char *back_path = g_build_filename(vol, "back.txt", NULL);
	g_autofree char *back = NULL;
	g_assert_true(g_file_get_contents(back_path, &back, NULL, NULL));
	g_assert_cmpstr(back, ==, "from-guest\n");
}

/* --- seccomp -------------------------------------------------------------------- */

static void test_seccomp_blocks(void)
{
	OciSpec *spec = spec_sh("mkdir /tmp/blocked 2>&1; echo rc=$?; ls /tmp");
	g_autoptr(GError) error = NULL;
	const char *filter = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],"
			     "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1}]}";

	/* spec->seccomp is borrowed: the tree outlives the spec (run_sh frees it) */
	g_auto(yajl_val) tree = ck_json_parse(filter, strlen(filter), "filter", &error);
	spec->seccomp = tree;
	g_autofree char *out = run_sh("seccomp", spec, 0);
	g_assert_cmpstr(out, ==, "mkdir: can't create directory '/tmp/blocked': Operation not permitted\nrc=1\n");
}

/* The program as the host's monitor compiles and sends it, the spec
 * without linux.seccomp: the agent loads it as it is. */
static char *program_b64(const char *profile, guint *flags)
{
	g_autoptr(GError) error = NULL;
	g_auto(yajl_val) tree = ck_json_parse(profile, strlen(profile), "profile", &error);
	g_autoptr(OciSeccomp) filter = tree ? oci_seccomp_compile(tree, "linux.seccomp", NULL, &error) : NULL;
	g_autoptr(GBytes) program = NULL;

	OK(filter != NULL && oci_seccomp_export_bpf(filter, &program, flags, &error));
	gsize len = 0;
	gconstpointer data = g_bytes_get_data(program, &len);
	return g_base64_encode(data, len);
}

/* A create the agent refuses (spec, and a program as seccomp_bpf when
 * b64 is not NULL): the error is exactly "create container <id>:
 * <message>" with `code`, and nothing stays shared. Frees spec. */
static void expect_refused(const char *id, OciSpec *spec, const char *b64, gint64 flags, CkErrorCode code,
			   const char *message)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, id);
	g_autofree char *expected = g_strdup_printf("create container %s: %s", id, message);
	Run run = {0};

	g_assert_false(harness_create_program(&h, id, spec, bundle, b64, flags, &run, &error));
	g_assert_nonnull(error);
	if (g_strcmp0(error->message, expected) != 0 || !ck_error_is(error, code))
		g_error("%s: got '%s' (code %d), expected '%s' (code %d)", id, error->message,
			(int)ck_error_category(error), expected, (int)code);
	(void)guest_spec_release(h.share_dir, id, NULL);
	oci_spec_free(spec);
}

static void test_seccomp_program(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "program");
	OciSpec *spec = spec_sh("mkdir /tmp/blocked 2>&1; echo rc=$?");
	guint flags = 0;
	g_autofree char *b64 = program_b64("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
					   "\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\","
					   "\"errnoRet\":18}]}",
					   &flags);
	Run run = {0};

	g_assert_cmpuint(flags, ==, SECCOMP_FILTER_FLAG_LOG);
	OK(harness_create_program(&h, "program", spec, bundle, b64, flags, &run, &error));
	OK(harness_start(&h, "program", &error));
	harness_wait_exit(&h, &run, TIMEOUT_MS);
	OK(harness_remove(&h, "program", &error));
	g_assert_cmpstr(run.out->str, ==, "mkdir: can't create directory '/tmp/blocked': Invalid cross-device link\nrc=1\n");
	run_clear(&run);
	oci_spec_free(spec);
}

/* What the agent refuses of a program, before anything is made. */
static void test_seccomp_program_refused(void)
{
	static const struct {
		const char *b64;
		gint64 flags;
		const char *message;
	} cases[] = {
	    {"AAAAAAAAAA==", 0, "seccomp_bpf: 7 bytes is not a whole number of BPF instructions"},
	    {"", 0, "seccomp_bpf: 0 bytes is not a whole number of BPF instructions"},
	    {"BgAAAAAA/38=", 0x40, "seccomp_bpf: unknown seccomp flags 0x40"},
	    {"BgAAAAAA/38=", -1, "seccomp_flags: -1 is out of range"},
	    {NULL, SECCOMP_FILTER_FLAG_TSYNC, "seccomp_flags: given without seccomp_bpf"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *id = g_strdup_printf("badprog%" G_GSIZE_FORMAT, i);
		const char *argv[] = {"true", NULL};
		expect_refused(id, harness_default_spec(argv), cases[i].b64, cases[i].flags, CK_ERROR_INVALID,
			       cases[i].message);
	}
}

/* --- exec, stdin, tty -------------------------------------------------------------- */

static void test_exec_into_running(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "execme");
	OciSpec *spec = spec_sh("echo started; exec sleep 1000");
	Run run = {0}, ex = {0};

	OK(harness_create(&h, "execme", spec, bundle, FALSE, &run, &error));
	OK(harness_start(&h, "execme", &error));
	OK(harness_exec(&h, "execme", "ps1",
				   "{\"args\":[\"sh\",\"-c\",\"cat /proc/1/cmdline | tr '\\\\0' ' '; echo; id -u; "
				   "hostname; echo $EXECVAR; pwd\"],\"cwd\":\"/tmp\",\"env\":[\"EXECVAR=v1\","
				   "\"PATH=/bin:/usr/bin\"],\"user\":{\"uid\":1000,\"gid\":1000}}",
				   FALSE, &ex, &error));
	g_assert_no_error(error);
	harness_wait_exit(&h, &ex, TIMEOUT_MS);
	g_assert_cmpint(ex.exit.exit_code, ==, 0);
	/* same pid namespace (PID 1 is the container's init), its own user/env/cwd */
	g_assert_cmpstr(ex.out->str, ==, "sleep 1000 \n1000\nck-test\nv1\n/tmp\n");

	/* a missing binary in exec: a clear error, the container unharmed */
	Run bad = {0};
	g_assert_false(harness_exec(&h, "execme", "bad", "{\"args\":[\"/no/such/bin\"],\"cwd\":\"/\",\"user\":{"
				    "\"uid\":0,\"gid\":0}}", FALSE, &bad, &error));
	g_assert_cmpstr(error->message, ==,
			"exec in execme: exec: \"/no/such/bin\": stat /no/such/bin: no such file or directory");
	g_assert_true(ck_error_is(error, CK_ERROR_NOT_FOUND));
	g_clear_error(&error);
	OK(harness_remove(&h, "execme", &error));
	g_assert_true(run.exited);
	run_clear(&run);
	run_clear(&ex);
	oci_spec_free(spec);
}

static void test_stdin_roundtrip(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "cat");
	const char *argv[] = {"cat", NULL};
	OciSpec *spec = harness_default_spec(argv);
	Run run = {0};

	OK(harness_create(&h, "cat", spec, bundle, TRUE, &run, &error));
	OK(harness_start(&h, "cat", &error));
	guest_process_write_stdin(run.proc, "hello\n", 6);
	guest_process_write_stdin(run.proc, "second line\n", 12);
	guest_process_close_stdin(run.proc);
	harness_wait_exit(&h, &run, TIMEOUT_MS);
	g_assert_cmpint(run.exit.exit_code, ==, 0);
	g_assert_cmpstr(run.out->str, ==, "hello\nsecond line\n");
	OK(harness_remove(&h, "cat", &error));
	run_clear(&run);
	oci_spec_free(spec);
}

static void test_tty_and_resize(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "tty");
	OciSpec *spec = spec_sh("stty size; echo ready; read line; stty size; echo got:$line; tty; "
				"stat -c %t:%T $(tty) /dev/console");
	Run run = {0};

	spec->process.terminal = TRUE;
	spec->process.console_height = 24;
	spec->process.console_width = 80;
	OK(harness_create(&h, "tty", spec, bundle, TRUE, &run, &error));
	g_assert_no_error(error);
	OK(harness_start(&h, "tty", &error));
	g_assert_true(harness_run_until(&h, out_contains_ready_line, &run, TIMEOUT_MS));

	CkResizeTerminalArgs resize = {.ref.handle = run.handle, .rows = 40, .cols = 100};
	OK(agent_client_op(h.agent, CK_OP_RESIZE_TERMINAL, &resize, NULL, TIMEOUT_MS, &error));
	guest_process_write_stdin(run.proc, "hi\n", 3);
	harness_wait_exit(&h, &run, TIMEOUT_MS);
	g_assert_cmpint(run.exit.exit_code, ==, 0);
	/* one stream, CRLF line ends, input echoed by the terminal; as with
	 * runc, the pty comes from the container's own devpts (136 = 0x88)
	 * and is bound on /dev/console */
	g_assert_cmpstr(run.out->str, ==,
			"24 80\r\nready\r\nhi\r\n40 100\r\ngot:hi\r\n/dev/pts/0\r\n88:0\r\n88:0\r\n");
	g_assert_cmpuint(run.err->len, ==, 0);
	OK(harness_remove(&h, "tty", &error));
	run_clear(&run);
	oci_spec_free(spec);
}

/* --- bulk output --------------------------------------------------------------- */

#define BURST_BYTES (50u * 1024u * 1024u)
static const char burst_line[] = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_\n";

static gboolean check_burst(const guint8 *data, gsize len, gsize offset, gpointer ud)
{
	(void)ud;
	for (gsize i = 0; i < len; i++)
		if (data[i] != (guint8)burst_line[(offset + i) % 64])
			return FALSE;
	return TRUE;
}

static void test_50mib_burst(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "burst");
	g_autofree char *script = g_strdup_printf("yes %.*s | head -c %u", 63, burst_line, BURST_BYTES);
	OciSpec *spec = spec_sh(script);
	Run run = {.discard_output = TRUE, .check_chunk = check_burst};

	g_assert_cmpuint(sizeof burst_line - 1, ==, 64);
	OK(harness_create(&h, "burst", spec, bundle, FALSE, &run, &error));
	run.discard_output = TRUE;
	run.check_chunk = check_burst;
	gint64 t0 = g_get_monotonic_time();
	OK(harness_start(&h, "burst", &error));
	harness_wait_exit(&h, &run, 5 * TIMEOUT_MS);
	gint64 dt = g_get_monotonic_time() - t0;
	g_test_message("50 MiB in %.2f s (%.1f MiB/s)", dt / 1e6, 50.0 / (dt / 1e6));
	g_assert_cmpint(run.exit.exit_code, ==, 0);
	g_assert_cmpuint(run.out_bytes, ==, BURST_BYTES);
	g_assert_true(run.chunk_ok);
	g_assert_true(run.eof[CK_STREAM_STDOUT]);
	OK(harness_remove(&h, "burst", &error));
	run_clear(&run);
	oci_spec_free(spec);
}

/* --- two containers, one VM ------------------------------------------------------ */

static void test_shared_net_not_mnt(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *b1 = harness_new_bundle(&h, "pod-a");
	g_autofree char *b2 = harness_new_bundle(&h, "pod-b");
	OciSpec *a = spec_sh("readlink /proc/self/ns/net; readlink /proc/self/ns/mnt; "
			     "echo a-data | nc -l -p 5555 >/dev/null & sleep 1000");
	OciSpec *b = spec_sh("readlink /proc/self/ns/net; readlink /proc/self/ns/mnt; "
			     "i=0; until nc 127.0.0.1 5555 </dev/null; do i=$((i+1)); [ $i -gt 100 ] && exit 9; "
			     "sleep 0.1; done");
	Run ra = {0}, rb = {0};

	OK(harness_create(&h, "pod-a", a, b1, FALSE, &ra, &error));
	OK(harness_start(&h, "pod-a", &error));
	OK(harness_create(&h, "pod-b", b, b2, FALSE, &rb, &error));
	OK(harness_start(&h, "pod-b", &error));
	harness_wait_exit(&h, &rb, TIMEOUT_MS);
	g_assert_cmpint(rb.exit.exit_code, ==, 0);

	g_auto(GStrv) la = g_strsplit(ra.out->str, "\n", -1);
	g_auto(GStrv) lb = g_strsplit(rb.out->str, "\n", -1);
	g_assert_cmpuint(g_strv_length(la), >=, 2);
	g_assert_cmpstr(la[0], ==, lb[0]); /* same network namespace */
	g_assert_cmpstr(la[1], !=, lb[1]); /* different mount namespaces */
	g_assert_cmpstr(lb[2], ==, "a-data"); /* and they talk over lo */
	OK(harness_remove(&h, "pod-a", &error));
	OK(harness_remove(&h, "pod-b", &error));
	run_clear(&ra);
	run_clear(&rb);
	oci_spec_free(a);
	oci_spec_free(b);
}

/* --- cgroups and OOM ------------------------------------------------------------- */

static void test_cgroup_limits_and_oom(void)
{
	OciSpec *spec = spec_sh("cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max; "
				"tail /dev/zero");

	spec->has_resources = TRUE;
	oci_resources_init(&spec->resources);
	spec->resources.memory_limit = 32 * 1024 * 1024;
	spec->resources.has_pids_limit = TRUE;
	spec->resources.pids_limit = 64;
	spec->resources.cpu_quota = 50000;
	spec->resources.cpu_period = 100000;
	Run run = {0};
	harness_run_oneshot(&h, "oom", spec, &run, 2 * TIMEOUT_MS);
	g_assert_cmpstr(run.out->str, ==, "33554432\n64\n50000 100000\n");
	g_assert_cmpint(run.exit.exit_code, ==, 137);
	g_assert_true(run.exit.oom_killed);
	/* and the OOM event stream reported it */
	gboolean seen = FALSE;
	for (guint i = 0; i < h.events->len; i++)
		seen |= g_str_equal(g_ptr_array_index(h.events, i), "oom:oom");
	g_assert_true(seen);
	run_clear(&run);
	oci_spec_free(spec);
}

/* --- flow control ---------------------------------------------------------------- */

static gboolean window_filled(gpointer data)
{
	return ((Run *)data)->out_bytes >= CK_STREAM_WINDOW;
}

/* A host reader that stops reading holds back only its own container, and
 * the agent buffers no more than the window for it. */
static void test_slow_reader(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "flood");
	OciSpec *spec = spec_sh("yes 0123456789abcdef | head -c 8000000; echo done >&2");
	Run run = {0};

	OK(harness_create(&h, "flood", spec, bundle, FALSE, &run, &error));
	run.discard_output = TRUE;
	guest_process_set_manual_credit(run.proc, TRUE);
	OK(harness_start(&h, "flood", &error));
	g_assert_true(harness_run_until(&h, window_filled, &run, TIMEOUT_MS));

	/* another container of the pod runs to completion meanwhile */
	g_autofree char *out = run_sh("quick", spec_sh("echo quick"), 0);
	g_assert_cmpstr(out, ==, "quick\n");
	/* not one byte beyond the window was sent */
	g_assert_cmpuint(run.out_bytes, ==, CK_STREAM_WINDOW);
	g_assert_false(run.exited);

	/* reading again releases the writer */
	guest_process_set_manual_credit(run.proc, FALSE);
	guest_process_credit(run.proc, CK_STREAM_STDOUT, run.out_bytes);
	harness_wait_exit(&h, &run, 5 * TIMEOUT_MS);
	g_assert_cmpint(run.exit.exit_code, ==, 0);
	g_assert_cmpuint(run.out_bytes, ==, 8000000);
	g_assert_cmpstr(run.err->str, ==, "done\n");
	OK(harness_remove(&h, "flood", &error));
	run_clear(&run);
	oci_spec_free(spec);
}

/* The bytes written right before the exit, partial lines included. */
static void test_output_before_exit(void)
{
	Run run = {0};
	OciSpec *spec = spec_sh("printf 'a\\nb'; printf err >&2; exit 3");

	harness_run_oneshot(&h, "tail", spec, &run, TIMEOUT_MS);
	g_assert_cmpint(run.exit.exit_code, ==, 3);
	g_assert_cmpstr(run.out->str, ==, "a\nb");
	g_assert_cmpstr(run.err->str, ==, "err");
	g_assert_true(run.eof[CK_STREAM_STDOUT]);
	g_assert_true(run.eof[CK_STREAM_STDERR]);
	run_clear(&run);
	oci_spec_free(spec);
}

/* --- stats, pause/resume, update, signal all --------------------------------------- */

/* op on container id, through the typed protocol; result is op's result
 * struct (NULL: none), cleared by the caller. */
static void call_id(CkOp op, const char *id, gpointer result)
{
	g_autoptr(GError) error = NULL;
	CkContainerArgs args = {.id = (char *)id};

	if (!agent_client_op(h.agent, op, &args, result, TIMEOUT_MS, &error))
		g_error("%s %s: %s", ck_op_name(op), id, error->message);
}

/* The status state_container reports for id. */
static void assert_status(const char *id, const char *want)
{
	CkStateResult st = {0};

	call_id(CK_OP_STATE_CONTAINER, id, &st);
	g_assert_cmpstr(st.status, ==, want);
	ck_msg_clear_result(CK_OP_STATE_CONTAINER, &st);
}

static void exec_and_check(const char *id, const char *exec_id, const char *script, const char *want)
{
	g_autoptr(GError) error = NULL;
	Run ex = {0};
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	ck_json_map_open(g);
	const char *args[] = {"sh", "-c", script, NULL};
	ck_json_key(g, "args");
	ck_json_strv(g, args);
	ck_json_kv_string(g, "cwd", "/");
	ck_json_map_close(g);
	g_autofree char *proc = ck_json_gen_finish(g, NULL, &error);

	OK(harness_exec(&h, id, exec_id, proc, FALSE, &ex, &error));
	harness_wait_exit(&h, &ex, TIMEOUT_MS);
	g_assert_cmpstr(ex.out->str, ==, want);
	run_clear(&ex);
}

static void test_stats_pause_update(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = harness_new_bundle(&h, "ctl");
	OciSpec *spec = spec_sh("sleep 1000 & sleep 1000 & echo ready; wait");
	Run run = {0};

	OK(harness_create(&h, "ctl", spec, bundle, FALSE, &run, &error));
	assert_status("ctl", "created");
	OK(harness_start(&h, "ctl", &error));
	g_assert_true(harness_run_until(&h, out_contains_ready, &run, TIMEOUT_MS));

	CkStatsResult stats = {0};
	call_id(CK_OP_STATS_CONTAINER, "ctl", &stats);
	g_assert_cmpint(stats.cpu.usage_usec, >, 0);
	g_assert_cmpint(stats.memory.usage, >, 0);
	g_assert_cmpint(stats.pids.current, ==, 3);
	CkListProcessesResult ps = {0};
	call_id(CK_OP_LIST_PROCESSES, "ctl", &ps);
	g_assert_cmpuint(ps.n_pids, ==, 3);
	ck_msg_clear_result(CK_OP_LIST_PROCESSES, &ps);

	call_id(CK_OP_PAUSE_CONTAINER, "ctl", NULL);
	assert_status("ctl", "paused");
	call_id(CK_OP_RESUME_CONTAINER, "ctl", NULL);
	assert_status("ctl", "running");

	const char *res = "{\"memory\":{\"limit\":67108864},\"pids\":{\"limit\":32},"
			  "\"cpu\":{\"quota\":25000,\"period\":50000,\"shares\":512}}";
	g_auto(yajl_val) res_tree = ck_json_parse(res, strlen(res), "resources", &error);
	CkUpdateContainerArgs up = {.id = "ctl", .resources = res_tree};
	OK(agent_client_op(h.agent, CK_OP_UPDATE_CONTAINER, &up, NULL, TIMEOUT_MS, &error));
	exec_and_check("ctl", "cg", "cd /sys/fs/cgroup; cat memory.max pids.max cpu.max cpu.weight",
		       "67108864\n32\n25000 50000\n20\n");

	/* every process of the container, not only its init */
	CkSignalProcessArgs all = {.ref.id = "ctl", .all = TRUE, .signal = SIGKILL};
	OK(agent_client_op(h.agent, CK_OP_SIGNAL_PROCESS, &all, NULL, TIMEOUT_MS, &error));
	harness_wait_exit(&h, &run, TIMEOUT_MS);
	g_assert_cmpint(run.exit.exit_code, ==, 137);
	CkStateResult st = {0};
	call_id(CK_OP_STATE_CONTAINER, "ctl", &st);
	g_assert_cmpstr(st.status, ==, "stopped");
	g_assert_cmpint(st.exit_code, ==, 137);
	ck_msg_clear_result(CK_OP_STATE_CONTAINER, &st);
	OK(harness_remove(&h, "ctl", &error));
	run_clear(&run);
	oci_spec_free(spec);
}

/* --- bad input ----------------------------------------------------------------------- */

typedef struct {
	const char *what;
	void (*mutate)(OciSpec *s);
	CkErrorCode code;
	const char *message; /* after "create container <id>: " */
} BadCase;

static void m_missing_binary(OciSpec *s)
{
	g_free(s->process.args[0]);
	s->process.args[0] = g_strdup("no-such-command");
}

static void m_bad_cap(OciSpec *s)
{
	const char *caps[] = {"CAP_CHOWN", "CAP_NOT_A_THING", NULL};
	g_strfreev(s->process.caps.bounding);
	s->process.caps.bounding = g_strdupv((char **)caps);
}

static void m_bad_cwd(OciSpec *s)
{
	g_free(s->process.cwd);
	s->process.cwd = g_strdup("relative");
}

static void m_user_ns(OciSpec *s)
{
	s->namespaces = g_renew(OciNamespace, s->namespaces, s->n_namespaces + 1);
	s->namespaces[s->n_namespaces++] = (OciNamespace){.type = OCI_NS_USER};
}

static yajl_val bad_filter;

static void m_bad_seccomp(OciSpec *s)
{
	s->seccomp = bad_filter;
}

static void test_bad_input(void)
{
	static const BadCase cases[] = {
		{"missing binary", m_missing_binary, CK_ERROR_NOT_FOUND,
		 "exec: \"no-such-command\": executable file not found in $PATH"},
		{"unknown capability", m_bad_cap, CK_ERROR_INVALID,
		 "process.capabilities.bounding[1]: unknown capability 'CAP_NOT_A_THING'"},
		{"relative cwd", m_bad_cwd, CK_ERROR_INVALID, "process.cwd: must be an absolute path"},
		{"user namespace without mappings", m_user_ns, CK_ERROR_INVALID,
		 "linux.uidMappings: required for a new user namespace"},
		{"invalid seccomp action", m_bad_seccomp, CK_ERROR_INVALID,
		 "linux.seccomp.syscalls[0].action: unknown action 'SCMP_ACT_BOGUS'"},
	};
	const char *filter = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
			     "\"action\":\"SCMP_ACT_BOGUS\"}]}";
	g_autoptr(GError) perr = NULL;
	bad_filter = ck_json_parse(filter, strlen(filter), "filter", &perr);

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *id = g_strdup_printf("bad%" G_GSIZE_FORMAT, i);
		const char *argv[] = {"true", NULL};
		OciSpec *spec = harness_default_spec(argv);

		g_test_message("%s", cases[i].what);
		cases[i].mutate(spec);
		expect_refused(id, spec, NULL, 0, cases[i].code, cases[i].message);
	}
	yajl_tree_free(bad_filter);

	/* the guest is still healthy for the rest of the pod */
	g_autofree char *out = run_sh("after-bad", spec_sh("echo still-fine"), 0);
	g_assert_cmpstr(out, ==, "still-fine\n");
}

/* --- connect_port (docs/port-forward.md) ------------------------------------------- */

typedef struct {
	const char *json_tail; /* after {"op":"connect_port" */
	const char *code;
	int errsv;
	const char *message;
} PortCase;

/* The agent's refusals, exactly: the relaying itself is the e2e test's
 * (tests/e2e/port_forward.py). */
static void test_connect_port_errors(void)
{
	static const PortCase cases[] = {
		{",\"port\":7999}", "disconnected", ECONNREFUSED, "connect_port: 127.0.0.1:7999: Connection refused"},
		{",\"port\":7999,\"family\":\"ipv6\"}", "disconnected", ECONNREFUSED,
		 "connect_port: [::1]:7999: Connection refused"},
		{",\"port\":80,\"family\":\"ipx\"}", "invalid", 0, "connect_port: family: 'ipx' is neither ipv4 nor ipv6"},
		{",\"port\":0}", "invalid", 0, "connect_port: port: 0 is out of range (1..65535)"},
		{",\"port\":65536}", "invalid", 0, "connect_port: port: 65536 is out of range (1..65535)"},
		{"}", "invalid", 0, "connect_port: port: required field missing"},
		{",\"port\":80,\"host\":\"10.0.0.1\"}", "invalid", 0, "connect_port: host: unknown field"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *doc = g_strconcat("{\"op\":\"connect_port\"", cases[i].json_tail, NULL);
		g_autoptr(GError) error = NULL;
		g_auto(yajl_val) req = ck_json_parse(doc, strlen(doc), "request", &error);
		g_assert_no_error(error);
		g_autoptr(CkJsonGen) g = ck_msg_request_begin(CK_OP_CONNECT_PORT);
		for (gsize k = 0; k < req->u.object.len; k++)
			if (!g_str_equal(req->u.object.keys[k], "op")) {
				ck_json_key(g, req->u.object.keys[k]);
				ck_json_value(g, req->u.object.values[k]);
			}
		g_auto(yajl_val) reply = harness_call(&h, g, NULL, &error);
		g_assert_null(reply);
		g_assert_nonnull(error);
		g_test_message("%s -> %s", doc, error->message);
		g_assert_cmpstr(ck_error_code_to_string(ck_error_category(error)), ==, cases[i].code);
		g_assert_cmpint(ck_error_errno(error), ==, cases[i].errsv);
		g_assert_cmpstr(error->message, ==, cases[i].message);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	harness_boot(&h);
	g_test_add_func("/agent/crio-samples", test_crio_samples);
	g_test_add_func("/agent/echo", test_echo);
	g_test_add_func("/agent/exit-codes", test_exit_codes);
	g_test_add_func("/agent/signal-from-host", test_signal_from_host);
	g_test_add_func("/agent/user-and-caps", test_user_and_caps);
	g_test_add_func("/agent/rlimit-hostname-env-cwd", test_rlimit_hostname_env_cwd);
	g_test_add_func("/agent/readonly-rootfs-tmpfs", test_readonly_rootfs_and_tmpfs);
	g_test_add_func("/agent/masked-and-dev", test_masked_and_dev);
	g_test_add_func("/agent/volume-bind", test_volume_bind);
	g_test_add_func("/agent/seccomp-blocks", test_seccomp_blocks);
	g_test_add_func("/agent/seccomp-program", test_seccomp_program);
	g_test_add_func("/agent/seccomp-program-refused", test_seccomp_program_refused);
	g_test_add_func("/agent/exec-into-running", test_exec_into_running);
	g_test_add_func("/agent/stdin-roundtrip", test_stdin_roundtrip);
	g_test_add_func("/agent/tty-and-resize", test_tty_and_resize);
	g_test_add_func("/agent/50mib-burst", test_50mib_burst);
	g_test_add_func("/agent/shared-net-not-mnt", test_shared_net_not_mnt);
	g_test_add_func("/agent/cgroup-limits-and-oom", test_cgroup_limits_and_oom);
	g_test_add_func("/agent/slow-reader", test_slow_reader);
	g_test_add_func("/agent/output-before-exit", test_output_before_exit);
	g_test_add_func("/agent/stats-pause-update", test_stats_pause_update);
	g_test_add_func("/agent/bad-input", test_bad_input);
	g_test_add_func("/agent/connect-port-errors", test_connect_port_errors);
	int rc = g_test_run();
	harness_teardown(&h);
	return rc;
}
