/* host-cgroup on cgroup v2: vmctl/lib/host-cgroup.h against a unified
 * hierarchy this test mounts in a mount namespace of its own.
 *
 * This host may run cgroup v1; mounting cgroup2 there still gives the
 * unified hierarchy, holding the controllers no v1 hierarchy has taken
 * (here typically hugetlb). The module is pointed at the mount with
 * host_cgroup_set_root(). Everything happens under cgroups-test-<pid>,
 * removed at the end even when a check fails (the assertions do not
 * abort); a controller the test had to enable at the root is disabled
 * again. Needs root. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "lib/host-cgroup.h"

static char *mnt;	 /* the cgroup2 mount */
static char *top;	 /* <mnt>/cgroups-test-<pid> */
static char *top_rel;	 /* /cgroups-test-<pid> */
static char *controller; /* the first controller the hierarchy has, or NULL */

static char *read_trim(const char *dir, const char *file)
{
	g_autofree char *path = g_build_filename(dir, file, NULL);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return g_strdup("(unreadable)");
	return g_strstrip(text);
}

/* One write, as cgroup files want (g_file_set_contents renames). */
static gboolean write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	gboolean ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);

	if (fd >= 0)
		close(fd);
	return ok;
}

/* The v2 line of /proc/<pid>/cgroup ("0::/path"), its path. */
static char *v2_path_of(pid_t pid)
{
	g_autofree char *file = g_strdup_printf("/proc/%d/cgroup", (int)pid);
	g_autofree char *text = NULL;

	if (!g_file_get_contents(file, &text, NULL, NULL))
		return g_strdup("(unreadable)");
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l != NULL; l++)
		if (g_str_has_prefix(*l, "0::"))
			return g_strdup(*l + 3);
	return g_strdup("(none)");
}

static char *self_v2(void)
{
	return v2_path_of(getpid());
}

static void test_join(void)
{
	g_auto(HostCgroup) cg = {0};
	g_autoptr(GError) error = NULL;
	g_autofree char *path = g_strconcat(top_rel, "/pod/ctr", NULL);
	g_autofree char *pod = g_build_filename(top, "pod", NULL);
	g_autofree char *ctr = g_build_filename(top, "pod", "ctr", NULL);
	g_autofree char *procs = g_build_filename(ctr, "cgroup.procs", NULL);
	g_autofree char *before = self_v2();

	g_assert_true(host_cgroup_is_unified());
	g_assert_true(host_cgroup_prepare(&cg, path, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(cg.procs->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(cg.procs, 0), ==, procs);
	g_assert_cmpuint(cg.created->len, ==, 2); /* pod, ctr (top is the test's) */
	/* every parent enabled what it has; the leaf enables nothing */
	g_autofree char *top_on = read_trim(top, "cgroup.subtree_control");
	g_autofree char *pod_on = read_trim(pod, "cgroup.subtree_control");
	g_autofree char *pod_has = read_trim(pod, "cgroup.controllers");
	g_autofree char *ctr_has = read_trim(ctr, "cgroup.controllers");
	g_autofree char *ctr_on = read_trim(ctr, "cgroup.subtree_control");
	g_assert_cmpstr(pod_on, ==, pod_has);
	g_assert_cmpstr(ctr_has, ==, pod_has);
	g_assert_cmpstr(ctr_on, ==, "");
	if (controller != NULL) {
		g_assert_nonnull(strstr(top_on, controller));
		g_assert_nonnull(strstr(ctr_has, controller));
	}
	g_autofree char *ctrl = host_cgroup_controller_of(procs);
	g_assert_cmpstr(ctrl, ==, "unified");

	g_assert_true(host_cgroup_join_self(&cg, &error));
	g_assert_no_error(error);
	g_autofree char *joined = self_v2();
	g_assert_cmpstr(joined, ==, path);

	host_cgroup_cleanup(&cg);
	g_autofree char *after = self_v2();
	g_assert_cmpstr(after, ==, before);
	g_assert_false(g_file_test(pod, G_FILE_TEST_EXISTS));
}

/* A parent with a process in it cannot enable a domain controller for
 * its children (no internal processes): the create fails naming the
 * controller and the file. */
static void test_enable_fails(void)
{
	g_auto(HostCgroup) cg = {0};
	g_autoptr(GError) error = NULL;
	g_autofree char *busy = g_build_filename(top, "busy", NULL);
	g_autofree char *busy_procs = g_build_filename(busy, "cgroup.procs", NULL);
	g_autofree char *path = g_strconcat(top_rel, "/busy/ctr", NULL);

	if (controller == NULL) {
		g_test_skip("the unified hierarchy has no controller here");
		return;
	}
	g_assert_cmpint(g_mkdir(busy, 0755), ==, 0);
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	g_autofree char *pid = g_strdup_printf("%d", (int)child);
	g_assert_true(write_file(busy_procs, pid));

	g_assert_false(host_cgroup_prepare(&cg, path, &error));
	g_autofree char *want = g_strdup_printf("join the unified cgroup (%s/busy/ctr/cgroup.procs): enable the %s "
						"controller in %s/busy/cgroup.subtree_control: Device or resource busy",
						top, controller, top);
	g_assert_nonnull(error);
	if (error != NULL)
		g_assert_cmpstr(error->message, ==, want);
	g_assert_cmpuint(cg.created->len, ==, 0);
	host_cgroup_cleanup(&cg);

	(void)kill(child, SIGKILL);
	(void)waitpid(child, NULL, 0);
	g_assert_cmpint(g_rmdir(busy), ==, 0);
}

/* A cgroup with controllers enabled for children takes no process: the
 * join fails naming the hierarchy ("unified") and cgroup.procs. */
static void test_join_fails(void)
{
	g_auto(HostCgroup) cg = {0};
	g_autoptr(GError) error = NULL;
	g_autofree char *path = g_strconcat(top_rel, "/inner", NULL);
	g_autofree char *inner = g_build_filename(top, "inner", NULL);
	g_autofree char *on = g_build_filename(inner, "cgroup.subtree_control", NULL);
	g_autofree char *plus = g_strconcat("+", controller, NULL);
	g_autofree char *before = self_v2();

	if (controller == NULL) {
		g_test_skip("the unified hierarchy has no controller here");
		return;
	}
	g_assert_true(host_cgroup_prepare(&cg, path, &error));
	g_assert_no_error(error);
	g_assert_true(write_file(on, plus));
	g_assert_false(host_cgroup_join_self(&cg, &error));
	g_autofree char *want =
	    g_strdup_printf("join the unified cgroup (%s/inner/cgroup.procs): Device or resource busy", top);
	g_assert_nonnull(error);
	if (error != NULL)
		g_assert_cmpstr(error->message, ==, want);
	host_cgroup_cleanup(&cg);
	g_autofree char *after = self_v2();
	g_assert_cmpstr(after, ==, before);
	g_assert_false(g_file_test(inner, G_FILE_TEST_EXISTS));
}

/* rmdir -r of cgroup folders (only folders can be removed), deepest first. */
static void remove_tree(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *sub = g_build_filename(dir, name, NULL);
		if (g_file_test(sub, G_FILE_TEST_IS_DIR))
			remove_tree(sub);
	}
	(void)g_rmdir(dir);
}

static gboolean setup(gboolean *enabled_at_root)
{
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		g_printerr("# private mount namespace: %s\n", g_strerror(errno));
		return FALSE;
	}
	mnt = g_dir_make_tmp("cgroups-v2-XXXXXX", NULL);
	if (mnt == NULL || mount("none", mnt, "cgroup2", 0, NULL) < 0) {
		g_printerr("# mount cgroup2: %s\n", g_strerror(errno));
		return FALSE;
	}
	host_cgroup_set_root(mnt);
	g_autofree char *have = read_trim(mnt, "cgroup.controllers");
	g_autofree char *on = read_trim(mnt, "cgroup.subtree_control");
	g_auto(GStrv) ctrls = g_strsplit(have, " ", -1);
	if (ctrls[0] != NULL && ctrls[0][0] != '\0')
		controller = g_strdup(ctrls[0]);
	g_auto(GStrv) on_list = g_strsplit(on, " ", -1);
	*enabled_at_root = controller != NULL && !g_strv_contains((const char *const *)on_list, controller);
	top_rel = g_strdup_printf("/cgroups-test-%d", (int)getpid());
	top = g_strconcat(mnt, top_rel, NULL);
	return g_mkdir(top, 0755) == 0;
}

static pid_t fork_pause(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

/* QEMU's way into its sandbox's cgroup: beside another process. */
static void test_move_beside(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_build_filename(top, "sandbox", NULL);
	g_autofree char *procs = g_build_filename(dir, "cgroup.procs", NULL);
	g_autofree char *want = g_strconcat(top_rel, "/sandbox", NULL);
	pid_t standin = fork_pause(), qemu = fork_pause();
	g_autofree char *pid_text = g_strdup_printf("%d", (int)standin);

	g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
	g_assert_true(write_file(procs, pid_text));
	g_assert_true(host_cgroup_move_beside(qemu, standin, &error));
	g_assert_no_error(error);
	g_autofree char *now = v2_path_of(qemu);
	g_assert_cmpstr(now, ==, want);

	/* a pid that is gone: /proc/<pid>/cgroup cannot be read */
	kill(standin, SIGKILL);
	waitpid(standin, NULL, 0);
	g_assert_false(host_cgroup_move_beside(qemu, standin, &error));
	g_assert_nonnull(error);
	kill(qemu, SIGKILL);
	waitpid(qemu, NULL, 0);
}

/* The VM template's QEMU leaves the pod's cgroup for the hierarchy's
 * root, where its memory is charged to no pod (docs/templating.md). */
static void test_charge_to_root(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_build_filename(top, "first-pod", NULL);
	g_autofree char *procs = g_build_filename(dir, "cgroup.procs", NULL);
	g_autofree char *want = g_strconcat(top_rel, "/first-pod", NULL);
	pid_t qemu = fork_pause();
	g_autofree char *pid_text = g_strdup_printf("%d", (int)qemu);

	g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
	g_assert_true(write_file(procs, pid_text));
	g_autofree char *before = v2_path_of(qemu);
	g_assert_cmpstr(before, ==, want);
	g_assert_true(host_cgroup_charge_to_root(qemu, &error));
	g_assert_no_error(error);
	g_autofree char *after = v2_path_of(qemu);
	g_assert_cmpstr(after, ==, "/");
	kill(qemu, SIGKILL);
	waitpid(qemu, NULL, 0);
}

/* The smallest memory.max on the path and its ancestors; with no memory
 * controller in this hierarchy (a v1 host) there is none. */
static void test_memory_limit(void)
{
	g_autofree char *has = read_trim(mnt, "cgroup.controllers");
	g_auto(GStrv) ctrls = g_strsplit(has, " ", -1);
	g_autofree char *outer = g_build_filename(top, "limited", NULL);
	g_autofree char *inner = g_build_filename(outer, "pod", NULL);
	g_autofree char *path = g_strconcat(top_rel, "/limited/pod/crio-x", NULL);
	HostMemoryLimit lim;

	g_assert_cmpint(g_mkdir(outer, 0755), ==, 0);
	g_assert_cmpint(g_mkdir(inner, 0755), ==, 0);
	if (!g_strv_contains((const char *const *)ctrls, "memory")) {
		host_cgroup_memory_limit(path, &lim);
		g_assert_cmpuint(lim.bytes, ==, G_MAXUINT64);
		g_assert_null(lim.dir);
		return;
	}
	g_autofree char *root_on = g_build_filename(mnt, "cgroup.subtree_control", NULL);
	g_autofree char *top_on = g_build_filename(top, "cgroup.subtree_control", NULL);
	g_autofree char *outer_on = g_build_filename(outer, "cgroup.subtree_control", NULL);
	g_assert_true(write_file(root_on, "+memory") && write_file(top_on, "+memory") &&
		      write_file(outer_on, "+memory"));
	g_autofree char *outer_max = g_build_filename(outer, "memory.max", NULL);
	g_autofree char *inner_max = g_build_filename(inner, "memory.max", NULL);
	g_assert_true(write_file(outer_max, "335544320") && write_file(inner_max, "671088640"));
	host_cgroup_memory_limit(path, &lim);
	g_assert_cmpuint(lim.bytes, ==, 335544320);
	g_assert_cmpstr(lim.dir, ==, outer);
	g_free(lim.dir);
}

int main(int argc, char **argv)
{
	gboolean enabled_at_root = FALSE;

	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	if (!setup(&enabled_at_root)) {
		g_printerr("# set-up failed\n");
		return 1;
	}
	g_test_add_func("/host-cgroup/v2/join", test_join);
	g_test_add_func("/host-cgroup/v2/enable-fails", test_enable_fails);
	g_test_add_func("/host-cgroup/v2/join-fails", test_join_fails);
	g_test_add_func("/host-cgroup/v2/move-beside", test_move_beside);
	g_test_add_func("/host-cgroup/v2/memory-limit", test_memory_limit);
	g_test_add_func("/host-cgroup/v2/charge-to-root", test_charge_to_root);
	int rc = g_test_run();

	remove_tree(top);
	if (enabled_at_root) {
		g_autofree char *minus = g_strconcat("-", controller, NULL);
		g_autofree char *root_on = g_build_filename(mnt, "cgroup.subtree_control", NULL);
		/* removed cgroups die asynchronously: the root refuses until then */
		for (int i = 0; i < 100 && !write_file(root_on, minus); i++)
			g_usleep(50 * 1000);
		g_autofree char *left = read_trim(mnt, "cgroup.subtree_control");
		if (strstr(left, controller) != NULL)
			g_printerr("# could not disable %s at the cgroup2 root again\n", controller);
	}
	(void)umount(mnt);
	(void)g_rmdir(mnt);
	return rc;
}
