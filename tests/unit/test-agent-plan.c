/* Unit tests: the agent's translation of an OCI spec into a spawn plan
 * (process attributes, mount options, cgroup v2 values), all decided in
 * the parent before anything is forked. */
#include <string.h>
#include <sys/mount.h>

#include <glib.h>

#include "base/ck-error.h"
#include "oci/oci-spec.h"
#include "agent/cgroup.h"
#include "agent/mounts.h"
#include "agent/spawn.h"

static OciSpec *parse(const char *json)
{
	g_autoptr(GError) error = NULL;
	OciSpec *spec = oci_spec_parse(json, strlen(json), "spec", &error);

	g_assert_no_error(error);
	return spec;
}

static void test_process(void)
{
	g_autoptr(OciSpec) spec =
		parse("{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\",\"-c\",\"x\"],\"cwd\":\"/w\","
		      "\"env\":[\"A=1\"],\"user\":{\"uid\":7,\"gid\":8,\"umask\":18,\"additionalGids\":[9,10]},"
		      "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":20},"
		      "{\"type\":\"RLIMIT_NPROC\",\"soft\":5,\"hard\":6}],"
		      "\"capabilities\":{\"bounding\":[\"CAP_CHOWN\",\"CAP_NET_RAW\"],\"ambient\":[\"CAP_CHOWN\"]},"
		      "\"noNewPrivileges\":true,\"oomScoreAdj\":-500,\"terminal\":true}}");
	g_auto(SpawnPlan) plan;
	g_autoptr(GError) error = NULL;

	spawn_plan_init(&plan);
	g_assert_true(spawn_plan_set_process(&plan, &spec->process, "process", &error));
	g_assert_no_error(error);
	g_assert_cmpstr(plan.argv[2], ==, "x");
	g_assert_cmpstr(plan.envp[0], ==, "A=1");
	g_assert_cmpstr(plan.cwd, ==, "/w");
	g_assert_cmpuint(plan.uid, ==, 7);
	g_assert_cmpuint(plan.gid, ==, 8);
	g_assert_cmpuint(plan.n_groups, ==, 2);
	g_assert_cmpuint(plan.groups[1], ==, 10);
	g_assert_true(plan.has_umask);
	g_assert_cmpuint(plan.umask, ==, 022);
	g_assert_cmpuint(plan.n_rlimits, ==, 2);
	g_assert_cmpint(plan.rlimits[1].resource, ==, RLIMIT_NPROC);
	g_assert_cmpuint(plan.rlimits[0].limit.rlim_cur, ==, 10);
	g_assert_cmpuint(plan.rlimits[0].limit.rlim_max, ==, 20);
	g_assert_true(plan.has_caps);
	g_assert_cmpuint(plan.n_caps[CAPSET_BOUNDING], ==, 2);
	g_assert_cmpint(plan.caps[CAPSET_BOUNDING][1], ==, CAP_NET_RAW);
	g_assert_cmpuint(plan.n_caps[CAPSET_AMBIENT], ==, 1);
	g_assert_cmpuint(plan.n_caps[CAPSET_EFFECTIVE], ==, 0);
	g_assert_true(plan.no_new_privs);
	g_assert_true(plan.has_oom_score_adj);
	g_assert_cmpint(plan.oom_score_adj, ==, -500);
	g_assert_true(plan.terminal);
}

typedef struct {
	const char *process;
	const char *message;
} BadProcess;

static void test_process_rejects(void)
{
	static const BadProcess cases[] = {
		{"{\"args\":[\"x\"],\"cwd\":\"/\",\"capabilities\":{\"effective\":[\"CAP_FLY\"]}}",
		 "process.capabilities.effective[0]: unknown capability 'CAP_FLY'"},
		/* names need their CAP_ prefix, as in runc */
		{"{\"args\":[\"x\"],\"cwd\":\"/\",\"capabilities\":{\"ambient\":[\"CAP_CHOWN\",\"chown\"]}}",
		 "process.capabilities.ambient[1]: unknown capability 'chown'"},
		{"{\"args\":[\"x\"],\"cwd\":\"/\",\"capabilities\":{\"permitted\":[\"CAP_9999\"]}}",
		 "process.capabilities.permitted[0]: unknown capability 'CAP_9999'"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *json = g_strdup_printf("{\"ociVersion\":\"1.0.2\",\"process\":%s}", cases[i].process);
		g_autoptr(OciSpec) spec = parse(json);
		g_auto(SpawnPlan) plan;
		g_autoptr(GError) error = NULL;
		spawn_plan_init(&plan);
		g_assert_false(spawn_plan_set_process(&plan, &spec->process, "process", &error));
		g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
		g_assert_cmpstr(error->message, ==, cases[i].message);
	}
}

typedef struct {
	const char *options[8];
	unsigned long flags;
	unsigned long propagation;
	gboolean bind;
	gboolean recursive;
	const char *data;
} OptionCase;

static void test_mount_options(void)
{
	static const OptionCase cases[] = {
		{{"nosuid", "noexec", "nodev", NULL}, MS_NOSUID | MS_NOEXEC | MS_NODEV, 0, FALSE, FALSE, NULL},
		{{"ro", "rw", NULL}, 0, 0, FALSE, FALSE, NULL},
		{{"rw", "ro", NULL}, MS_RDONLY, 0, FALSE, FALSE, NULL},
		{{"rbind", "rprivate", NULL}, 0, MS_PRIVATE | MS_REC, TRUE, TRUE, NULL},
		{{"bind", "rslave", "ro", NULL}, MS_RDONLY, MS_SLAVE | MS_REC, TRUE, FALSE, NULL},
		{{"nosuid", "strictatime", "mode=755", "size=65536k", NULL}, MS_NOSUID | MS_STRICTATIME, 0, FALSE,
		 FALSE, "mode=755,size=65536k"},
		{{"newinstance", "ptmxmode=0666", "tmpcopyup", "gid=5", NULL}, 0, 0, FALSE, FALSE,
		 "newinstance,ptmxmode=0666,gid=5"},
		{{"exec", "suid", "dev", "noatime", NULL}, MS_NOATIME, 0, FALSE, FALSE, NULL},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		unsigned long flags, propagation;
		gboolean bind, recursive;
		g_autofree char *data = NULL;
		g_autoptr(GError) error = NULL;
		g_assert_true(mounts_parse_options((char **)cases[i].options, "mounts[0]", &flags, &propagation, &bind,
						   &recursive, &data, &error));
		g_assert_cmphex(flags, ==, cases[i].flags);
		g_assert_cmphex(propagation, ==, cases[i].propagation);
		g_assert_cmpint(bind, ==, cases[i].bind);
		g_assert_cmpint(recursive, ==, cases[i].recursive);
		g_assert_cmpstr(data, ==, cases[i].data);
	}
}

static void test_mounts_plan(void)
{
	g_autoptr(OciSpec) spec = parse(
		"{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\",\"readonly\":true},"
		"\"mounts\":[{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
		"\"options\":[\"ro\",\"nosuid\"]},{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"/etc/hostname\","
		"\"options\":[\"ro\",\"rbind\"]},{\"destination\":\"/tmp\",\"type\":\"bind\",\"source\":\"/tmp\","
		"\"options\":[\"rw\",\"bind\",\"rshared\"]}],"
		"\"linux\":{\"maskedPaths\":[\"/proc/kcore\"],\"readonlyPaths\":[\"/proc/sys\"],"
		"\"rootfsPropagation\":\"rprivate\"}}");
	g_auto(SpawnPlan) plan;
	g_autoptr(GError) error = NULL;

	spawn_plan_init(&plan);
	g_assert_true(mounts_plan(&plan, spec, "/run/kata/shared/c/rootfs", &error));
	g_assert_no_error(error);
	g_assert_cmpuint(plan.n_mounts, ==, 3);
	/* cgroup becomes the guest's only hierarchy */
	g_assert_cmpstr(plan.mounts[0].fstype, ==, "cgroup2");
	g_assert_cmpstr(plan.mounts[0].source, ==, "cgroup2");
	g_assert_cmphex(plan.mounts[0].flags, ==, MS_RDONLY | MS_NOSUID);
	/* binds: flags wait for the remount; a file source stays a file */
	g_assert_true(plan.mounts[1].bind);
	g_assert_false(plan.mounts[1].is_dir_source);
	g_assert_cmphex(plan.mounts[1].flags, ==, MS_BIND | MS_REC);
	g_assert_cmphex(plan.mounts[1].remount_flags, ==, MS_RDONLY);
	g_assert_true(plan.mounts[2].is_dir_source);
	g_assert_cmphex(plan.mounts[2].remount_flags, ==, 0);
	g_assert_cmphex(plan.mounts[2].propagation, ==, MS_SHARED | MS_REC);
	g_assert_true(plan.rootfs_readonly);
	g_assert_cmphex(plan.rootfs_propagation, ==, MS_PRIVATE | MS_REC);
	g_assert_cmpstr(plan.masked_paths[0], ==, "/proc/kcore");
	g_assert_cmpstr(plan.readonly_paths[0], ==, "/proc/sys");
}

static void test_mounts_plan_rejects(void)
{
	static const char *const cases[][2] = {
		{"\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"relative\"}]",
		 "mounts[0].source: a bind mount needs an absolute source"},
		{"\"mounts\":[{\"destination\":\"/x\",\"source\":\"none\"}]",
		 "mounts[0].type: required for a mount that is not a bind mount"},
		{"\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"/nonexistent-src\"}]",
		 "mounts[0].source: /nonexistent-src: No such file or directory"},
		{"\"linux\":{\"rootfsPropagation\":\"sideways\"}", "linux.rootfsPropagation: unknown value 'sideways'"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *json = g_strdup_printf("{\"ociVersion\":\"1.0.2\",%s}", cases[i][0]);
		g_autoptr(OciSpec) spec = parse(json);
		g_auto(SpawnPlan) plan;
		g_autoptr(GError) error = NULL;
		spawn_plan_init(&plan);
		g_assert_false(mounts_plan(&plan, spec, "/r", &error));
		g_assert_cmpstr(error->message, ==, cases[i][1]);
	}
}

static void test_cgroup_conversions(void)
{
	g_assert_cmpuint(cgroup_shares_to_weight(2), ==, 1);
	g_assert_cmpuint(cgroup_shares_to_weight(1024), ==, 39);
	g_assert_cmpuint(cgroup_shares_to_weight(262144), ==, 10000);
	g_assert_cmpuint(cgroup_shares_to_weight(1), ==, 1);
	g_assert_cmpuint(cgroup_shares_to_weight(0), ==, 0);

	g_autofree char *a = cgroup_cpu_max(50000, 100000, NULL);
	g_autofree char *b = cgroup_cpu_max(-1, 0, NULL);
	g_autofree char *c = cgroup_cpu_max(20000, 0, NULL);
	g_assert_cmpstr(a, ==, "50000 100000");
	g_assert_cmpstr(b, ==, "max 100000");
	g_assert_cmpstr(c, ==, "20000 100000");
	/* an update with one of the two keeps the other */
	g_autofree char *d = cgroup_cpu_max(20000, 0, "30000 200000\n");
	g_autofree char *e = cgroup_cpu_max(0, 300000, "30000 200000\n");
	g_autofree char *f = cgroup_cpu_max(-1, 0, "30000 200000\n");
	g_autofree char *h = cgroup_cpu_max(0, 50000, "max 100000\n");
	g_assert_cmpstr(d, ==, "20000 200000");
	g_assert_cmpstr(e, ==, "30000 300000");
	g_assert_cmpstr(f, ==, "max 200000");
	g_assert_cmpstr(h, ==, "max 50000");

	g_autofree char *s1 = cgroup_swap_max(100, 300);
	g_autofree char *s2 = cgroup_swap_max(100, -1);
	g_autofree char *s3 = cgroup_swap_max(300, 100);
	g_assert_cmpstr(s1, ==, "200");
	g_assert_cmpstr(s2, ==, "max");
	g_assert_null(s3);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/agent-plan/process", test_process);
	g_test_add_func("/agent-plan/process-rejects", test_process_rejects);
	g_test_add_func("/agent-plan/mount-options", test_mount_options);
	g_test_add_func("/agent-plan/mounts", test_mounts_plan);
	g_test_add_func("/agent-plan/mounts-rejects", test_mounts_plan_rejects);
	g_test_add_func("/agent-plan/cgroup-conversions", test_cgroup_conversions);
	return g_test_run();
}
