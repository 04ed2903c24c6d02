/* The systemd cgroup driver (vmctl/lib/host-systemd.h, host-cgroup.h)
 * against a private bus. This host has no systemd as PID 1 (and a real
 * one must not be touched by a test): the test starts its own
 * dbus-daemon on a socket in a temporary folder, and tests/lib/
 * systemd-peer owns org.freedesktop.systemd1 there, implements the
 * Manager calls the driver makes and records them; the checks are on
 * that record. $DBUS_SYSTEM_BUS_ADDRESS points the driver at the bus.
 * Both daemons are stopped and the folder removed at the end, whatever
 * the checks found (the assertions do not abort). */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "lib/host-cgroup.h"
#include "lib/host-systemd.h"

static char *tmp;     /* the folder of the bus socket, config and record */
static char *address; /* unix:path=<tmp>/bus */
static char *record;  /* the peer's record */
static GPid bus;      /* dbus-daemon */
static GPid peer;

#define MIB (1024 * 1024)

/* The record since the last call, then emptied. */
static char *take_record(void)
{
	char *text = NULL;

	if (!g_file_get_contents(record, &text, NULL, NULL))
		return g_strdup("(no record)");
	(void)truncate(record, 0); /* in place: the peer appends to it */
	return text;
}

static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void reap(pid_t pid)
{
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, NULL, 0);
}

/* pid's path in a hierarchy of /proc/<pid>/cgroup ("memory",
 * "name=systemd"). */
static char *cgroup_of(pid_t pid, const char *hierarchy)
{
	g_autofree char *file = g_strdup_printf("/proc/%d/cgroup", (int)pid);
	g_autofree char *text = NULL;

	if (!g_file_get_contents(file, &text, NULL, NULL))
		return g_strdup("(unreadable)");
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		g_auto(GStrv) f = g_strsplit(*l, ":", 3);
		if (g_strv_length(f) == 3 && g_str_equal(f[1], hierarchy))
			return g_strdup(f[2]);
	}
	return g_strdup("(none)");
}

/* --systemd-cgroup on this host (cgroup v1, no systemd): runc's v1
 * property names, and, as runc does on v1, the pid also joins the scope's
 * folder in the hierarchies systemd leaves alone (here all but
 * name=systemd, since the peer makes none); they go again at the end. */
static void test_scope_v1(void)
{
	g_auto(HostCgroup) cg = {0};
	g_autoptr(GError) error = NULL;
	OciResources res;
	pid_t pid = spawn_sleeper();
	const char *scope = "/kubepods.slice/kubepods-burstable.slice/crio-abc123.scope";
	gboolean had_slice = g_file_test("/sys/fs/cgroup/memory/kubepods.slice", G_FILE_TEST_EXISTS);
	g_autofree char *systemd_before = cgroup_of(pid, "name=systemd");

	oci_resources_init(&res);
	res.memory_limit = 64 * MIB;
	res.cpu_shares = 512;
	res.cpu_quota = 50000;
	res.cpu_period = 100000;
	res.has_pids_limit = TRUE;
	res.pids_limit = 100;
	g_assert_false(host_cgroup_is_unified());
	g_assert_true(host_cgroup_systemd_join(&cg, "kubepods-burstable.slice:crio:abc123", &res, pid, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(cg.unit, ==, "crio-abc123.scope");
	g_autofree char *started = take_record();
	g_autofree char *want =
	    g_strdup_printf("Subscribe\n"
			    "StartTransientUnit crio-abc123.scope fail"
			    " Description=s:conmon-kata container crio-abc123.scope Slice=s:kubepods-burstable.slice"
			    " PIDs=au:[%d] Delegate=b:true MemoryAccounting=b:true CPUAccounting=b:true"
			    " BlockIOAccounting=b:true TasksAccounting=b:true DefaultDependencies=b:false"
			    " MemoryLimit=t:67108864 CPUShares=t:512 CPUQuotaPerSecUSec=t:500000"
			    " CPUQuotaPeriodUSec=t:100000 TasksMax=t:100 aux=0\n",
			    (int)pid);
	g_assert_cmpstr(started, ==, want);
	static const char *const joined[] = {"memory", "cpuset", "pids", "cpu", "freezer"};
	for (gsize i = 0; i < G_N_ELEMENTS(joined); i++) {
		g_autofree char *at = cgroup_of(pid, joined[i]);
		g_assert_cmpstr(at, ==, scope);
	}
	g_autofree char *systemd_after = cgroup_of(pid, "name=systemd");
	g_assert_cmpstr(systemd_after, ==, systemd_before);

	reap(pid); /* the stand-in's end comes first */
	host_cgroup_cleanup(&cg);
	g_assert_null(cg.unit);
	g_autofree char *stopped = take_record();
	g_assert_cmpstr(stopped, ==,
			"Subscribe\nStopUnit crio-abc123.scope replace\nResetFailedUnit crio-abc123.scope\n");
	g_autofree char *folder = g_strconcat("/sys/fs/cgroup/memory", scope, NULL);
	g_assert_false(g_file_test(folder, G_FILE_TEST_EXISTS));
	if (!had_slice)
		g_assert_false(g_file_test("/sys/fs/cgroup/memory/kubepods.slice", G_FILE_TEST_EXISTS));
	oci_resources_clear(&res);
}

/* cgroup v2 names, "no limit" as systemd's infinity, the default slice,
 * a quota without a period (runc's 100 ms, rounded up to 10 ms). */
static void test_scope_v2(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *unit = NULL;
	OciResources res;

	oci_resources_init(&res);
	res.memory_limit = -1;
	res.memory_reservation = 32 * MIB;
	res.cpu_shares = 512;
	res.cpu_quota = 12345;
	res.has_pids_limit = TRUE;
	res.pids_limit = -1;
	g_assert_true(host_systemd_start_scope(":libpod:xyz", 4242, &res, TRUE, &unit, &error));
	g_assert_no_error(error);
	g_assert_cmpstr(unit, ==, "libpod-xyz.scope");
	g_autofree char *started = take_record();
	g_assert_cmpstr(started, ==,
			"Subscribe\n"
			"StartTransientUnit libpod-xyz.scope fail"
			" Description=s:conmon-kata container libpod-xyz.scope Slice=s:system.slice"
			" PIDs=au:[4242] Delegate=b:true MemoryAccounting=b:true CPUAccounting=b:true"
			" IOAccounting=b:true TasksAccounting=b:true DefaultDependencies=b:false"
			" MemoryMax=t:18446744073709551615 MemoryLow=t:33554432 CPUWeight=t:20"
			" CPUQuotaPerSecUSec=t:130000 TasksMax=t:18446744073709551615 aux=0\n");
	g_assert_true(host_systemd_stop_scope(unit, &error));
	g_assert_no_error(error);
	g_autofree char *stopped = take_record();
	g_assert_cmpstr(stopped, ==,
			"Subscribe\nStopUnit libpod-xyz.scope replace\nResetFailedUnit libpod-xyz.scope\n");
	oci_resources_clear(&res);
}

/* Systemd's own refusals come back as one line naming the unit and the
 * bus; a scope already gone is stopped. */
static void test_refusals(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *unit = NULL;
	g_autofree char *again = NULL;
	g_autofree char *failed = NULL;

	g_assert_true(host_systemd_start_scope("system.slice:crio:dup", 1, NULL, FALSE, &unit, &error));
	g_assert_false(host_systemd_start_scope("system.slice:crio:dup", 1, NULL, FALSE, &again, &error));
	g_autofree char *want = g_strdup_printf("systemd cgroup: start crio-dup.scope on the system bus (%s): "
						"Unit crio-dup.scope already exists.",
						address);
	g_assert_nonnull(error);
	if (error != NULL)
		g_assert_cmpstr(error->message, ==, want);
	g_assert_null(again);
	g_clear_error(&error);
	g_assert_true(host_systemd_stop_scope(unit, &error));
	/* gone already: NoSuchUnit, which is what stopping wanted */
	g_assert_true(host_systemd_stop_scope(unit, &error));
	g_assert_no_error(error);
	g_autofree char *calls = take_record();
	g_assert_true(g_str_has_suffix(calls,
				       "Subscribe\nStopUnit crio-dup.scope replace\nResetFailedUnit crio-dup.scope\n"
				       "Subscribe\nStopUnit crio-dup.scope replace\nResetFailedUnit crio-dup.scope\n"));

	g_assert_false(host_systemd_start_scope("system.slice:fail:x", 1, NULL, FALSE, &failed, &error));
	g_assert_nonnull(error);
	if (error != NULL)
		g_assert_cmpstr(error->message, ==, "systemd cgroup: start fail-x.scope: job failed");
	g_clear_error(&error);
	g_assert_true(host_systemd_stop_scope("fail-x.scope", &error));
	g_free(take_record());
}

static void test_bad_path(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *unit = NULL;

	g_assert_false(host_systemd_start_scope("/kubepods/abc", 1, NULL, FALSE, &unit, &error));
	g_assert_nonnull(error);
	if (error != NULL)
		g_assert_cmpstr(error->message, ==,
				"cgroupsPath /kubepods/abc: not slice:prefix:name, as --systemd-cgroup requires");
	g_clear_error(&error);
	g_assert_false(host_systemd_start_scope("pods:crio:abc", 1, NULL, FALSE, &unit, &error));
	g_assert_nonnull(error);
	if (error != NULL)
		g_assert_cmpstr(error->message, ==,
				"cgroupsPath pods:crio:abc: not slice:prefix:name, as --systemd-cgroup requires");
	g_clear_error(&error);
	g_assert_false(host_systemd_start_scope("pods.slice:crio:inner.slice", 1, NULL, FALSE, &unit, &error));
	g_assert_nonnull(error);
	if (error != NULL)
		g_assert_cmpstr(error->message, ==,
				"cgroupsPath pods.slice:crio:inner.slice: a slice as the container's own unit is not "
				"supported");
	g_autofree char *calls = take_record();
	g_assert_cmpstr(calls, ==, "");
}

/* No systemd reachable: one line naming the bus. */
static void test_no_bus(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *unit = NULL;
	g_autofree char *nobus = g_strdup_printf("unix:path=%s/nobus", tmp);

	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", nobus, TRUE);
	g_assert_false(host_systemd_start_scope("system.slice:crio:abc", 1, NULL, FALSE, &unit, &error));
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
	g_autofree char *want =
	    g_strdup_printf("systemd cgroup: connect to the system bus (%s): No such file or directory", nobus);
	g_assert_nonnull(error);
	if (error != NULL)
		g_assert_cmpstr(error->message, ==, want);
}

/* Starts argv (stdout to a pipe) and reads its first line. */
static GPid start_daemon(const char *const *argv, char **line)
{
	g_autoptr(GError) error = NULL;
	GPid pid = 0;
	int out = -1;
	char buf[512];
	gsize n = 0;

	if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, NULL,
				      &out, NULL, &error)) {
		g_printerr("# %s: %s\n", argv[0], error->message);
		return 0;
	}
	while (n < sizeof buf - 1 && read(out, buf + n, 1) == 1 && buf[n] != '\n')
		n++;
	buf[n] = '\0';
	close(out);
	*line = g_strdup(buf);
	return pid;
}

static gboolean setup(void)
{
	g_autofree char *daemon = g_find_program_in_path("dbus-daemon");
	const char *peer_path = g_getenv("CK_SYSTEMD_PEER");
	g_autofree char *line = NULL;
	g_autofree char *ready = NULL;

	if (daemon == NULL || peer_path == NULL) {
		g_printerr("# needs dbus-daemon (Debian package dbus) and $CK_SYSTEMD_PEER\n");
		return FALSE;
	}
	tmp = g_dir_make_tmp("cgroups-dbus-XXXXXX", NULL);
	address = g_strdup_printf("unix:path=%s/bus", tmp);
	record = g_build_filename(tmp, "record", NULL);
	g_autofree char *conf = g_build_filename(tmp, "bus.conf", NULL);
	g_autofree char *conf_text = g_strdup_printf(
	    "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
	    " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
	    "<busconfig>\n  <listen>%s</listen>\n  <auth>EXTERNAL</auth>\n"
	    "  <policy context=\"default\">\n    <allow user=\"*\"/>\n    <allow own=\"*\"/>\n"
	    "    <allow send_destination=\"*\"/>\n    <allow receive_sender=\"*\"/>\n  </policy>\n</busconfig>\n",
	    address);
	g_autofree char *conf_arg = g_strconcat("--config-file=", conf, NULL);
	if (!g_file_set_contents(conf, conf_text, -1, NULL) || !g_file_set_contents(record, "", 0, NULL))
		return FALSE;
	const char *bus_argv[] = {daemon, conf_arg, "--nofork", "--nopidfile", "--print-address", NULL};
	bus = start_daemon(bus_argv, &line);
	if (bus == 0 || *line == '\0')
		return FALSE;
	const char *peer_argv[] = {peer_path, address, record, NULL};
	peer = start_daemon(peer_argv, &ready);
	if (peer == 0 || g_strcmp0(ready, "ready") != 0)
		return FALSE;
	g_setenv("DBUS_SYSTEM_BUS_ADDRESS", address, TRUE);
	return TRUE;
}

static void stop_daemon(GPid pid)
{
	if (pid <= 0)
		return;
	(void)kill(pid, SIGTERM);
	(void)waitpid(pid, NULL, 0);
}

static void teardown(void)
{
	stop_daemon(peer);
	stop_daemon(bus);
	if (tmp != NULL) {
		g_autoptr(GDir) d = g_dir_open(tmp, 0, NULL);
		const char *name;
		while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
			g_autofree char *f = g_build_filename(tmp, name, NULL);
			(void)g_unlink(f);
		}
		(void)g_rmdir(tmp);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	if (!setup()) {
		g_printerr("# set-up of the private bus failed\n");
		teardown();
		return 1;
	}
	g_test_add_func("/host-systemd/scope-v1", test_scope_v1);
	g_test_add_func("/host-systemd/scope-v2", test_scope_v2);
	g_test_add_func("/host-systemd/refusals", test_refusals);
	g_test_add_func("/host-systemd/bad-path", test_bad_path);
	g_test_add_func("/host-systemd/no-bus", test_no_bus);
	int rc = g_test_run();
	teardown();
	return rc;
}
