/* Unit tests: the OCI config.json parser and serialiser (agent/oci/oci-spec.c).
 *
 * The CRI-O 1.26 samples are real files captured from a cluster; their
 * values are asserted as read from them. Hand-written documents use single
 * quotes, which json() turns into double quotes, to stay readable.
 */
#include <sched.h>
#include <string.h>
#include <sys/resource.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-json.h"
#include "oci/oci-spec.h"

/* Every ' becomes a quote; the documents need no apostrophes. */
static char *json(const char *text)
{
	char *s = g_strdup(text);

	g_strdelimit(s, "'", '"');
	return s;
}

static OciSpec *parse_ok(const char *text)
{
	g_autofree char *doc = json(text);
	g_autoptr(GError) error = NULL;
	OciSpec *spec = oci_spec_parse(doc, strlen(doc), "test", &error);

	g_assert_no_error(error);
	g_assert_nonnull(spec);
	return spec;
}

static void assert_parse_fails(const char *text, const char *message)
{
	g_autofree char *doc = json(text);
	g_autoptr(GError) error = NULL;
	g_autoptr(OciSpec) spec = oci_spec_parse(doc, strlen(doc), "test", &error);

	g_assert_null(spec);
	g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
	if (g_strcmp0(error->message, message) != 0)
		g_error("%s\n  got:      %s\n  expected: %s", text, error->message, message);
}

/* --- CRI-O samples ------------------------------------------------------------ */

/* The captures in tests/data/crio-1.26 ($CK_CRIO_SAMPLES, set by meson).
 * Missing, they fail the test: they are part of the repository. */
static OciSpec *load_sample(const char *name)
{
	const char *dir = g_getenv("CK_CRIO_SAMPLES");
	g_autoptr(GError) error = NULL;

	if (dir == NULL)
		g_error("CK_CRIO_SAMPLES is not set (run through meson test)");
	g_autofree char *path = g_build_filename(dir, name, NULL);
	OciSpec *spec = oci_spec_load_file(path, &error);
	g_assert_no_error(error);
	return spec;
}

static const char *const crio_caps[] = {
    "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",	      "CAP_FOWNER", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_KILL",   NULL,
};

static void assert_crio_namespaces(const OciSpec *s)
{
	static const OciNamespaceType order[] = {OCI_NS_PID, OCI_NS_NETWORK, OCI_NS_IPC, OCI_NS_UTS, OCI_NS_MOUNT};

	g_assert_cmpuint(s->n_namespaces, ==, G_N_ELEMENTS(order));
	for (gsize i = 0; i < G_N_ELEMENTS(order); i++)
		g_assert_cmpint(s->namespaces[i].type, ==, order[i]);
	g_assert_null(s->namespaces[0].path);
	g_assert_cmpstr(s->namespaces[1].path, ==, "/var/run/netns/ab634329-117d-4ff2-b85f-ed6bd51073b3");
	g_assert_cmpstr(s->namespaces[2].path, ==, "/var/run/ipcns/ab634329-117d-4ff2-b85f-ed6bd51073b3");
	g_assert_cmpstr(oci_spec_find_namespace(s, OCI_NS_UTS)->path, ==,
			"/var/run/utsns/ab634329-117d-4ff2-b85f-ed6bd51073b3");
	g_assert_null(oci_spec_find_namespace(s, OCI_NS_MOUNT)->path);
	g_assert_null(oci_spec_find_namespace(s, OCI_NS_USER));
	g_assert_null(oci_spec_find_namespace(s, OCI_NS_CGROUP));
}

/* What both samples share: CRI-O's default process and mounts. */
static void assert_crio_common(const OciSpec *s)
{
	const OciProcess *p = &s->process;

	g_assert_cmpstr(s->oci_version, ==, "1.0.2-dev");
	g_assert_cmpstr(s->hostname, ==, "lab-pod");
	g_assert_null(s->domainname);
	g_assert_true(s->has_process);
	g_assert_false(p->terminal);
	g_assert_cmpuint(p->uid, ==, 0);
	g_assert_cmpuint(p->gid, ==, 0);
	g_assert_false(p->has_umask);
	g_assert_cmpstr(p->cwd, ==, "/");
	g_assert_cmpstr(p->env[0], ==, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	g_assert_true(p->has_caps);
	g_assert_true(g_strv_equal((const char *const *)p->caps.bounding, crio_caps));
	g_assert_true(g_strv_equal((const char *const *)p->caps.effective, crio_caps));
	g_assert_true(g_strv_equal((const char *const *)p->caps.permitted, crio_caps));
	g_assert_null(p->caps.inheritable);
	g_assert_null(p->caps.ambient);
	g_assert_cmpuint(p->n_rlimits, ==, 1);
	g_assert_cmpstr(p->rlimits[0].type, ==, "RLIMIT_NOFILE");
	g_assert_cmpint(p->rlimits[0].resource, ==, RLIMIT_NOFILE);
	g_assert_cmpuint(p->rlimits[0].hard, ==, 20000);
	g_assert_cmpuint(p->rlimits[0].soft, ==, 20000);
	g_assert_false(p->no_new_privileges);
	g_assert_true(p->has_oom_score_adj);
	g_assert_cmpstr(s->mounts[0].destination, ==, "/proc");
	g_assert_cmpstr(s->mounts[0].type, ==, "proc");
	g_assert_cmpstr(s->mounts[0].source, ==, "proc");
	const char *const pts_opts[] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL};
	g_assert_cmpstr(s->mounts[2].destination, ==, "/dev/pts");
	g_assert_true(g_strv_equal((const char *const *)s->mounts[2].options, pts_opts));
	assert_crio_namespaces(s);
	/* CRI-O writes no masked or read-only paths for these pods */
	g_assert_cmpuint(g_strv_length(s->masked_paths), ==, 0);
	g_assert_cmpuint(g_strv_length(s->readonly_paths), ==, 0);
	g_assert_nonnull(s->seccomp);
	g_assert_cmpstr(ck_json_get(s->seccomp, "defaultAction")->u.string, ==, "SCMP_ACT_ERRNO");
	g_assert_null(s->devices);
	g_assert_null(s->rootfs_propagation);
	g_assert_cmpuint(g_hash_table_size(s->sysctl), ==, 0);
	g_assert_cmpstr(oci_spec_annotation(s, "io.container.manager"), ==, "cri-o");
	g_assert_cmpstr(oci_spec_annotation(s, "lab.example/purpose"), ==, "crio-lab");
	for (int i = 0; i < OCI_HOOK_MAX; i++)
		g_assert_cmpuint(s->hooks[i].n_hooks, ==, 0);
}

static void test_crio_sandbox(void)
{
	g_autoptr(OciSpec) s = load_sample("sandbox-config.json");

	assert_crio_common(s);
	const char *const args[] = {"/pause", NULL};
	g_assert_true(g_strv_equal((const char *const *)s->process.args, args));
	g_assert_cmpuint(g_strv_length(s->process.env), ==, 2);
	g_assert_cmpuint(s->process.n_additional_gids, ==, 0);
	g_assert_cmpint(s->process.oom_score_adj, ==, -998);
	g_assert_cmpstr(s->root_path, ==,
			"/var/lib/containers/storage/overlay/"
			"7541ca719fd41e78b319d8d97ef25e468076073ec92931adb1ba3f7b4126d23f/merged");
	g_assert_true(s->root_readonly);
	g_assert_cmpuint(s->n_mounts, ==, 7);
	g_assert_cmpstr(s->mounts[5].destination, ==, "/dev/shm");
	g_assert_cmpstr(s->mounts[5].type, ==, "bind");
	g_assert_cmpstr(s->mounts[6].destination, ==, "/etc/hostname");
	const char *const hostname_opts[] = {"ro", "bind", "nodev", "nosuid", "noexec", NULL};
	g_assert_true(g_strv_equal((const char *const *)s->mounts[6].options, hostname_opts));
	g_assert_cmpstr(s->cgroups_path, ==,
			"/kubepods/crio-d54772d694169b081263b0301e9134eb2f5a3123836a136c57b4e6ae6fae8ee9");
	g_assert_cmpuint(g_hash_table_size(s->annotations), ==, 35);
	g_assert_cmpstr(oci_spec_annotation(s, "io.kubernetes.cri-o.ContainerType"), ==, "sandbox");
	g_assert_cmpstr(oci_spec_annotation(s, "io.kubernetes.cri-o.NamespaceOptions"), ==, "{\"pid\":1}");
	g_assert_cmpstr(oci_spec_annotation(s, "io.kubernetes.cri-o.ResolvPath"), ==, "");
	/* resources: only cpu.shares (and devices, not modelled) */
	g_assert_true(s->has_resources);
	g_assert_cmpuint(s->resources.cpu_shares, ==, 2);
	g_assert_cmpint(s->resources.cpu_quota, ==, 0);
	g_assert_cmpint(s->resources.memory_limit, ==, 0);
	g_assert_cmpint(s->resources.memory_swappiness, ==, -1);
	g_assert_false(s->resources.has_pids_limit);
	g_assert_null(s->resources.unified);
}

static void test_crio_container(void)
{
	g_autoptr(OciSpec) s = load_sample("container-config.json");

	assert_crio_common(s);
	g_assert_cmpuint(g_strv_length(s->process.args), ==, 3);
	g_assert_cmpstr(s->process.args[0], ==, "/bin/sh");
	g_assert_cmpstr(s->process.args[1], ==, "-c");
	g_assert_true(g_str_has_prefix(s->process.args[2], "echo hello from $(hostname);"));
	g_assert_cmpuint(g_strv_length(s->process.env), ==, 3);
	g_assert_cmpstr(s->process.env[2], ==, "HOSTNAME=lab-pod");
	g_assert_cmpuint(s->process.n_additional_gids, ==, 1);
	g_assert_cmpuint(s->process.additional_gids[0], ==, 0);
	g_assert_cmpint(s->process.oom_score_adj, ==, 0);
	g_assert_false(s->root_readonly);
	g_assert_cmpuint(s->n_mounts, ==, 9);
	g_assert_cmpstr(s->mounts[5].destination, ==, "/sys/fs/cgroup");
	g_assert_cmpstr(s->mounts[5].type, ==, "cgroup");
	g_assert_cmpstr(s->mounts[8].destination, ==, "/run/.containerenv");
	g_assert_true(g_str_has_suffix(s->mounts[8].source, "/userdata/.containerenv"));
	g_assert_cmpstr(s->cgroups_path, ==,
			"/kubepods/crio-78a007265e711f8656c0a960c45bf7e5beb05711636ccbcfa9ef7a3d94c26fc4");
	g_assert_cmpuint(g_hash_table_size(s->annotations), ==, 25);
	g_assert_cmpstr(oci_spec_annotation(s, "io.kubernetes.cri-o.ContainerType"), ==, "container");
	g_assert_cmpstr(oci_spec_annotation(s, "io.kubernetes.cri-o.SandboxID"), ==,
			"d54772d694169b081263b0301e9134eb2f5a3123836a136c57b4e6ae6fae8ee9");
	g_assert_cmpstr(oci_spec_annotation(s, "io.kubernetes.cri-o.IP.0"), ==, "10.213.77.11");
	g_assert_null(oci_spec_annotation(s, "no.such.annotation"));
	g_assert_true(s->has_resources);
	g_assert_cmpint(s->resources.memory_limit, ==, 134217728);
	g_assert_cmpint(s->resources.memory_swap, ==, 134217728);
	g_assert_cmpint(s->resources.memory_reservation, ==, 0);
	g_assert_cmpuint(s->resources.cpu_shares, ==, 512);
	g_assert_cmpint(s->resources.cpu_quota, ==, 0);
	g_assert_cmpuint(s->resources.cpu_period, ==, 0);
	/* CRI-O writes pids.limit 0 for "no limit": present, so kept */
	g_assert_true(s->resources.has_pids_limit);
	g_assert_cmpint(s->resources.pids_limit, ==, 0);
	yajl_val syscalls = ck_json_get(s->seccomp, "syscalls");
	g_assert_true(YAJL_IS_ARRAY(syscalls));
	g_assert_cmpuint(syscalls->u.array.len, ==, 22);
}

/* --- defaults and leniency ------------------------------------------------------ */

static void test_minimal(void)
{
	g_autoptr(OciSpec) s = parse_ok("{'ociVersion':'1.0.2'}");

	g_assert_cmpstr(s->oci_version, ==, "1.0.2");
	g_assert_null(s->root_path);
	g_assert_false(s->root_readonly);
	g_assert_null(s->hostname);
	g_assert_false(s->has_process);
	g_assert_null(s->process.args);
	g_assert_cmpuint(s->n_mounts, ==, 0);
	g_assert_nonnull(s->annotations);
	g_assert_cmpuint(g_hash_table_size(s->annotations), ==, 0);
	g_assert_nonnull(s->sysctl);
	g_assert_cmpuint(s->n_namespaces, ==, 0);
	g_assert_false(s->has_resources);
	g_assert_cmpint(s->resources.memory_limit, ==, 0);
	g_assert_cmpint(s->resources.memory_swappiness, ==, -1);
	g_assert_nonnull(s->masked_paths);
	g_assert_null(s->masked_paths[0]);
	g_assert_nonnull(s->readonly_paths);
	g_assert_null(s->seccomp);
	g_assert_null(s->devices);
	g_assert_nonnull(s->tree);
	g_assert_null(oci_spec_annotation(s, "x"));
}

/* Go's encoding/json writes null for nil slices and maps; it means absent. */
static void test_nulls_are_absent(void)
{
	g_autoptr(OciSpec) s =
	    parse_ok("{'ociVersion':'1','root':null,'hostname':null,'mounts':null,'hooks':null,'annotations':null,"
		     "'process':{'args':['sh'],'cwd':'/','env':null,'user':{'uid':null,'additionalGids':null},"
		     "'capabilities':null,'rlimits':null,'oomScoreAdj':null,'consoleSize':null},"
		     "'linux':{'namespaces':null,'resources':null,'seccomp':null,'devices':null,'sysctl':null,"
		     "'maskedPaths':null}}");

	g_assert_true(s->has_process);
	g_assert_false(s->process.has_caps);
	g_assert_false(s->process.has_oom_score_adj);
	g_assert_nonnull(s->process.env);
	g_assert_null(s->process.env[0]);
	g_assert_false(s->has_resources);
	g_assert_null(s->seccomp);
	g_assert_nonnull(s->annotations);
	g_assert_nonnull(s->masked_paths);
}

static void test_unknown_ignored(void)
{
	g_autoptr(OciSpec) s =
	    parse_ok("{'ociVersion':'1.1.0','vm':{'hypervisor':{'path':'/q'}},'windows':{'x':1},"
		     "'process':{'args':['sh'],'cwd':'/','ioPriority':{'class':'IOPRIO_CLASS_RT'},'scheduler':{},"
		     "'user':{'uid':1,'future':true}},"
		     "'linux':{'intelRdt':{},'personality':{'domain':'LINUX'},'timeOffsets':{},"
		     "'resources':{'devices':[{'allow':false}],'hugepageLimits':[],'memory':{'kernel':5,'limit':7}},"
		     "'namespaces':[{'type':'pid','other':1}]},"
		     "'mounts':[{'destination':'/x','uidMappings':[]}]}");

	g_assert_cmpuint(s->process.uid, ==, 1);
	g_assert_cmpint(s->resources.memory_limit, ==, 7);
	g_assert_cmpuint(s->n_namespaces, ==, 1);
	g_assert_cmpuint(s->n_mounts, ==, 1);
	g_assert_null(s->mounts[0].type);
	g_assert_nonnull(s->mounts[0].options);
}

/* A repeated key: the last one wins, and nothing of the first leaks. */
static void test_duplicate_keys(void)
{
	g_autoptr(OciSpec) s = parse_ok(
	    "{'ociVersion':'1','mounts':[{'destination':'/a'}],'mounts':[{'destination':'/b'},{'destination':'/c'}],"
	    "'process':{'args':['a'],'cwd':'/','rlimits':[{'type':'RLIMIT_CORE','hard':1,'soft':1}],"
	    "'rlimits':[],'user':{'additionalGids':[1,2]},'user':{'additionalGids':[3]}},"
	    "'linux':{'namespaces':[{'type':'pid','path':'/p'}],'namespaces':[{'type':'pid'}],"
	    "'uidMappings':[{'containerID':0,'hostID':1,'size':2}],'uidMappings':[]},"
	    "'hooks':{'poststop':[{'path':'/x'}],'poststop':[]},"
	    "'annotations':{'a':'1','a':'2'}}");

	g_assert_cmpuint(s->n_mounts, ==, 2);
	g_assert_cmpstr(s->mounts[0].destination, ==, "/b");
	g_assert_cmpuint(s->process.n_rlimits, ==, 0);
	g_assert_cmpuint(s->process.n_additional_gids, ==, 1);
	g_assert_cmpuint(s->process.additional_gids[0], ==, 3);
	g_assert_null(s->namespaces[0].path);
	g_assert_cmpuint(s->n_uid_mappings, ==, 0);
	g_assert_cmpuint(s->hooks[OCI_HOOK_POSTSTOP].n_hooks, ==, 0);
	g_assert_cmpstr(oci_spec_annotation(s, "a"), ==, "2");
}

/* --- rejects ---------------------------------------------------------------------- */

typedef struct {
	const char *doc;
	const char *message;
} RejectCase;

#define V "'ociVersion':'1.0.2'"
#define PROC(rest) "{" V ",'process':{'args':['sh'],'cwd':'/'," rest "}}"
#define LINUX(rest) "{" V ",'linux':{" rest "}}"
#define RES(rest) LINUX("'resources':{" rest "}")

static const RejectCase reject_cases[] = {
    {"[]", "test: expected an object, got an array"},
    {"{}", "ociVersion: required field missing"},
    {"{'ociVersion':null}", "ociVersion: required field missing"},
    {"{'ociVersion':1}", "ociVersion: expected a string, got a number"},
    /* root */
    {"{" V ",'root':{}}", "root.path: required field missing"},
    {"{" V ",'root':{'path':'rootfs','readonly':'yes'}}", "root.readonly: expected a boolean, got a string"},
    {"{" V ",'root':'rootfs'}", "root: expected an object, got a string"},
    {"{" V ",'hostname':5}", "hostname: expected a string, got a number"},
    /* process */
    {"{" V ",'process':[]}", "process: expected an object, got an array"},
    {"{" V ",'process':{'cwd':'/'}}", "process.args: required field missing"},
    {"{" V ",'process':{'args':[],'cwd':'/'}}", "process.args: must not be empty"},
    {"{" V ",'process':{'args':['a','b',3],'cwd':'/'}}", "process.args[2]: expected a string, got a number"},
    {"{" V ",'process':{'args':'sh','cwd':'/'}}", "process.args: expected an array of strings, got a string"},
    {"{" V ",'process':{'args':['sh']}}", "process.cwd: required field missing"},
    {"{" V ",'process':{'args':['sh'],'cwd':'tmp'}}", "process.cwd: must be an absolute path"},
    {"{" V ",'process':{'args':['sh'],'cwd':''}}", "process.cwd: must be an absolute path"},
    {PROC("'env':['A=1',null]"), "process.env[1]: expected a string, got null"},
    {PROC("'terminal':1"), "process.terminal: expected a boolean, got a number"},
    {PROC("'user':{'uid':'0'}"), "process.user.uid: expected an integer, got a string"},
    {PROC("'user':{'uid':-1}"), "process.user.uid: -1 is out of range"},
    {PROC("'user':{'gid':4294967296}"), "process.user.gid: 4294967296 is out of range"},
    {PROC("'user':{'umask':1.5}"), "process.user.umask: expected an integer, got a number"},
    {PROC("'user':{'additionalGids':[1,'2']}"), "process.user.additionalGids[1]: expected an integer, got a string"},
    {PROC("'user':{'additionalGids':[4294967296]}"), "process.user.additionalGids[0]: 4294967296 is out of range"},
    {PROC("'user':{'additionalGids':5}"), "process.user.additionalGids: expected an array, got a number"},
    {PROC("'user':{'username':false}"), "process.user.username: expected a string, got a boolean"},
    {PROC("'consoleSize':{'height':24}"), "process.consoleSize.width: required field missing"},
    {PROC("'consoleSize':{'height':24,'width':-80}"), "process.consoleSize.width: -80 is out of range"},
    {PROC("'capabilities':{'bounding':'CAP_KILL'}"),
     "process.capabilities.bounding: expected an array of strings, got a string"},
    {PROC("'capabilities':{'effective':[1]}"), "process.capabilities.effective[0]: expected a string, got a number"},
    {PROC("'capabilities':[]"), "process.capabilities: expected an object, got an array"},
    {PROC("'rlimits':[{'type':'RLIMIT_FOO','hard':1,'soft':1}]"), "process.rlimits[0].type: unknown rlimit "
								  "'RLIMIT_FOO'"},
    {PROC("'rlimits':[{'type':'nofile','hard':1,'soft':1}]"), "process.rlimits[0].type: unknown rlimit 'nofile'"},
    {PROC("'rlimits':[{'type':'RLIMIT_CORE','hard':1}]"), "process.rlimits[0].soft: required field missing"},
    {PROC("'rlimits':[{'hard':1,'soft':1}]"), "process.rlimits[0].type: required field missing"},
    {PROC("'rlimits':[{'type':'RLIMIT_CORE','hard':-1,'soft':1}]"), "process.rlimits[0].hard: '-1' is not a "
								    "valid number"},
    {PROC("'rlimits':[{'type':'RLIMIT_CORE','hard':'1','soft':1}]"),
     "process.rlimits[0].hard: expected a non-negative integer, got a string"},
    {PROC("'rlimits':[{'type':'RLIMIT_NOFILE','hard':1,'soft':1},{'type':'RLIMIT_NOFILE','hard':2,'soft':2}]"),
     "process.rlimits: duplicate rlimit 'RLIMIT_NOFILE'"},
    {PROC("'rlimits':{}"), "process.rlimits: expected an array, got an object"},
    {PROC("'rlimits':[3]"), "process.rlimits[0]: expected an object, got a number"},
    {PROC("'oomScoreAdj':1001"), "process.oomScoreAdj: 1001 is out of range (-1000..1000)"},
    {PROC("'oomScoreAdj':-1001"), "process.oomScoreAdj: -1001 is out of range (-1000..1000)"},
    {PROC("'noNewPrivileges':'true'"), "process.noNewPrivileges: expected a boolean, got a string"},
    {PROC("'apparmorProfile':[]"), "process.apparmorProfile: expected a string, got an array"},
    /* mounts */
    {"{" V ",'mounts':{}}", "mounts: expected an array, got an object"},
    {"{" V ",'mounts':['/proc']}", "mounts[0]: expected an object, got a string"},
    {"{" V ",'mounts':[{'destination':'/a'},{'type':'tmpfs'}]}", "mounts[1].destination: required field missing"},
    {"{" V ",'mounts':[{'destination':'proc'}]}", "mounts[0].destination: must be an absolute path"},
    {"{" V ",'mounts':[{'destination':'/a','options':['ro',7]}]}", "mounts[0].options[1]: expected a string, got "
								   "a number"},
    {"{" V ",'mounts':[{'destination':'/a','source':{}}]}", "mounts[0].source: expected a string, got an object"},
    /* hooks */
    {"{" V ",'hooks':[]}", "hooks: expected an object, got an array"},
    {"{" V ",'hooks':{'prestart':[{'path':'hook'}]}}", "hooks.prestart[0].path: must be an absolute path"},
    {"{" V ",'hooks':{'createRuntime':[{'args':['x']}]}}", "hooks.createRuntime[0].path: required field missing"},
    {"{" V ",'hooks':{'poststop':[{'path':'/h','timeout':0}]}}", "hooks.poststop[0].timeout: must be greater than "
								 "zero"},
    {"{" V ",'hooks':{'poststart':[{'path':'/h','timeout':-5}]}}", "hooks.poststart[0].timeout: must be greater "
								   "than zero"},
    {"{" V ",'hooks':{'startContainer':[{'path':'/h','timeout':'5'}]}}",
     "hooks.startContainer[0].timeout: expected an integer, got a string"},
    {"{" V ",'hooks':{'createContainer':[{'path':'/h','env':[1]}]}}",
     "hooks.createContainer[0].env[0]: expected a string, got a number"},
    /* annotations */
    {"{" V ",'annotations':[]}", "annotations: expected an object, got an array"},
    {"{" V ",'annotations':{'ok':'1','io.example/n':2}}", "annotations.io.example/n: expected a string, got a "
							  "number"},
    {"{" V ",'annotations':{'b':true}}", "annotations.b: expected a string, got a boolean"},
    /* linux */
    {"{" V ",'linux':'yes'}", "linux: expected an object, got a string"},
    {LINUX("'namespaces':[{'type':'pid'},{'type':'ipc'},{'type':'uts'},{'type':'foo'}]"),
     "linux.namespaces[3].type: unknown namespace type 'foo'"},
    {LINUX("'namespaces':[{'type':'pid'},{'type':'mount'},{'type':'pid','path':'/proc/1/ns/pid'}]"),
     "linux.namespaces: duplicate namespace type 'pid'"},
    {LINUX("'namespaces':[{'path':'/x'}]"), "linux.namespaces[0].type: required field missing"},
    {LINUX("'namespaces':[{'type':1}]"), "linux.namespaces[0].type: expected a string, got a number"},
    {LINUX("'namespaces':[{'type':'net'}]"), "linux.namespaces[0].type: unknown namespace type 'net'"},
    {LINUX("'namespaces':[{'type':'uts','path':5}]"), "linux.namespaces[0].path: expected a string, got a number"},
    {LINUX("'uidMappings':[{'containerID':0,'hostID':1000}]"), "linux.uidMappings[0].size: required field missing"},
    {LINUX("'gidMappings':[{'containerID':0,'hostID':'1000','size':1}]"),
     "linux.gidMappings[0].hostID: expected an integer, got a string"},
    {LINUX("'uidMappings':[{'containerID':-1,'hostID':0,'size':1}]"), "linux.uidMappings[0].containerID: -1 is out "
								      "of range"},
    {LINUX("'sysctl':{'net.ipv4.ip_forward':1}"), "linux.sysctl.net.ipv4.ip_forward: expected a string, got a "
						  "number"},
    {LINUX("'sysctl':['a']"), "linux.sysctl: expected an object, got an array"},
    {LINUX("'cgroupsPath':1"), "linux.cgroupsPath: expected a string, got a number"},
    {LINUX("'maskedPaths':['/proc/kcore',1]"), "linux.maskedPaths[1]: expected a string, got a number"},
    {LINUX("'readonlyPaths':'/proc'"), "linux.readonlyPaths: expected an array of strings, got a string"},
    {LINUX("'seccomp':[]"), "linux.seccomp: expected an object, got an array"},
    {LINUX("'devices':{}"), "linux.devices: expected an array, got an object"},
    {LINUX("'mountLabel':false"), "linux.mountLabel: expected a string, got a boolean"},
    /* resources */
    {LINUX("'resources':7"), "linux.resources: expected an object, got a number"},
    {RES("'memory':{'limit':'1G'}"), "linux.resources.memory.limit: expected an integer, got a string"},
    {RES("'memory':{'limit':1.5}"), "linux.resources.memory.limit: expected an integer, got a number"},
    {RES("'memory':{'swap':true}"), "linux.resources.memory.swap: expected an integer, got a boolean"},
    {RES("'memory':{'swappiness':-1}"), "linux.resources.memory.swappiness: -1 is out of range"},
    {RES("'memory':{'swappiness':'60'}"), "linux.resources.memory.swappiness: expected a non-negative integer, "
					  "got a string"},
    {RES("'memory':{'disableOOMKiller':1}"), "linux.resources.memory.disableOOMKiller: expected a boolean, got a "
					     "number"},
    {RES("'cpu':{'shares':-1}"), "linux.resources.cpu.shares: '-1' is not a valid number"},
    {RES("'cpu':{'quota':'max'}"), "linux.resources.cpu.quota: expected an integer, got a string"},
    {RES("'cpu':{'period':1e5}"), "linux.resources.cpu.period: '1e5' is not a valid number"},
    {RES("'cpu':{'cpus':0}"), "linux.resources.cpu.cpus: expected a string, got a number"},
    {RES("'pids':{'limit':'64'}"), "linux.resources.pids.limit: expected an integer, got a string"},
    {RES("'pids':5"), "linux.resources.pids: expected an object, got a number"},
    {RES("'unified':{'memory.high':1024}"), "linux.resources.unified.memory.high: expected a string, got a number"},
};

#undef RES
#undef LINUX
#undef PROC

static void test_rejects(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(reject_cases); i++)
		assert_parse_fails(reject_cases[i].doc, reject_cases[i].message);
}

/* linux.devices: parsed on demand (the agent), runc's defaults */
static void test_devices(void)
{
	g_autoptr(OciSpec) s = parse_ok("{" V ",'linux':{'devices':[{'path':'/dev/fuse','type':'c','major':10,"
					"'minor':229,'fileMode':8630,'uid':7,'gid':8},{'path':'/dev/p','type':'p'},"
					"{'path':'/dev/sda','type':'b','major':8,'minor':0}]}}");
	g_autoptr(GError) error = NULL;
	OciDevice *d = NULL;
	gsize n = 0;

	g_assert_true(oci_devices_parse(s->devices, "linux.devices", &d, &n, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(n, ==, 3);
	g_assert_cmpstr(d[0].path, ==, "/dev/fuse");
	g_assert_cmpint(d[0].type, ==, 'c');
	g_assert_cmpint(d[0].major, ==, 10);
	g_assert_cmpint(d[0].minor, ==, 229);
	g_assert_cmpuint(d[0].file_mode, ==, 0666); /* 8630 is S_IFCHR | 0666: the type bits go, as in runc */
	g_assert_cmpuint(d[0].uid, ==, 7);
	g_assert_cmpuint(d[0].gid, ==, 8);
	g_assert_cmpint(d[1].type, ==, 'p');
	g_assert_cmpuint(d[1].file_mode, ==, 0666);
	g_assert_cmpuint(d[2].uid, ==, 0);
	oci_devices_free(d, n);

	static const struct {
		const char *devices;
		const char *message;
	} bad[] = {
	    {"[{'type':'c','major':1,'minor':3}]", "linux.devices[0].path: required field missing"},
	    {"[{'path':'dev/x','type':'c','major':1,'minor':3}]", "linux.devices[0].path: must be an absolute path"},
	    {"[{'path':'/dev/x','type':'x','major':1,'minor':3}]", "linux.devices[0].type: unknown device type 'x'"},
	    {"[{'path':'/dev/x','type':'cb','major':1,'minor':3}]", "linux.devices[0].type: unknown device type 'cb'"},
	    {"[{'path':'/dev/x','major':1,'minor':3}]", "linux.devices[0].type: required field missing"},
	    {"[{'path':'/dev/x','type':'b','minor':3}]", "linux.devices[0].major: required for this device type"},
	    {"[{'path':'/dev/x','type':'c','major':1,'minor':-3}]", "linux.devices[0].minor: -3 is out of range"},
	    {"[{'path':'/dev/x','type':'c','major':4294967296,'minor':0}]",
	     "linux.devices[0].major: 4294967296 is out of range"},
	    {"[{'path':'/dev/x','type':'c','major':1,'minor':3,'uid':'0'}]",
	     "linux.devices[0].uid: expected an integer, got a string"},
	    {"[{'path':'/dev/p','type':'p'},7]", "linux.devices[1]: expected an object, got a number"},
	};
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *doc = g_strdup_printf("{" V ",'linux':{'devices':%s}}", bad[i].devices);
		g_autoptr(OciSpec) spec = parse_ok(doc);
		g_autoptr(GError) err = NULL;
		g_assert_false(oci_devices_parse(spec->devices, "linux.devices", &d, &n, &err));
		oci_devices_free(d, n);
		g_assert_error(err, CK_ERROR, CK_ERROR_INVALID);
		g_assert_cmpstr(err->message, ==, bad[i].message);
	}
}

static void test_invalid_json(void)
{
	static const char *const docs[] = {"{", "", "{'ociVersion':'1',}", "nul"};

	for (gsize i = 0; i < G_N_ELEMENTS(docs); i++) {
		g_autofree char *doc = json(docs[i]);
		g_autoptr(GError) error = NULL;
		g_autoptr(OciSpec) s = oci_spec_parse(doc, strlen(doc), "config.json", &error);
		g_assert_null(s);
		g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
		g_assert_true(g_str_has_prefix(error->message, "config.json: invalid JSON: "));
		g_assert_null(strchr(error->message, '\n'));
	}
}

/* --- round trip --------------------------------------------------------------------- */

static const char full_spec[] =
    "{'ociVersion':'1.1.0','root':{'path':'rootfs','readonly':true},'hostname':'h','domainname':'d.example',"
    "'process':{'terminal':true,'consoleSize':{'height':24,'width':80},"
    "'user':{'uid':1000,'gid':1001,'umask':18,'additionalGids':[5,4294967295],'username':'u'},"
    "'args':['/bin/sh','-c','echo \\'hi\\''],'commandLine':'cmd /c','env':['A=1','B=2'],'cwd':'/work',"
    "'capabilities':{'bounding':['CAP_KILL'],'effective':[],'inheritable':['CAP_CHOWN'],"
    "'permitted':['CAP_KILL','CAP_CHOWN'],'ambient':['CAP_NET_RAW']},"
    "'rlimits':[{'type':'RLIMIT_NOFILE','hard':1048576,'soft':1024},"
    "{'type':'RLIMIT_CORE','hard':18446744073709551615,'soft':0}],"
    "'noNewPrivileges':true,'oomScoreAdj':-1000,'apparmorProfile':'prof','selinuxLabel':'lbl'},"
    "'mounts':[{'destination':'/proc','type':'proc','source':'proc','options':['nosuid']},"
    "{'destination':'/data','options':[]},{'destination':'/v','type':'bind','source':'/host/v',"
    "'options':['rbind','ro']}],"
    "'hooks':{'prestart':[{'path':'/bin/p'}],'createRuntime':[{'path':'/bin/cr','args':['cr','x'],"
    "'env':['E=1'],'timeout':5}],'createContainer':[{'path':'/bin/cc','args':[]}],"
    "'startContainer':[{'path':'/bin/sc'}],'poststart':[{'path':'/bin/ps','timeout':1},{'path':'/bin/ps2'}],"
    "'poststop':[{'path':'/bin/pst'}]},"
    "'annotations':{'a':'1','io.kubernetes.cri-o.ContainerType':'container','empty':''},"
    "'linux':{'namespaces':[{'type':'pid'},{'type':'network','path':'/run/netns/x'},{'type':'mount'},"
    "{'type':'ipc'},{'type':'uts'},{'type':'user'},{'type':'cgroup'},{'type':'time'}],"
    "'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],"
    "'gidMappings':[{'containerID':0,'hostID':200000,'size':1},{'containerID':1,'hostID':300000,'size':2}],"
    "'sysctl':{'net.ipv4.ip_forward':'1','kernel.shm_rmid_forced':'1'},"
    "'resources':{'memory':{'limit':-1,'reservation':1048576,'swap':9223372036854775807,'swappiness':0,"
    "'disableOOMKiller':true},'cpu':{'shares':1024,'quota':-1,'period':100000,'cpus':'0-1','mems':'0'},"
    "'pids':{'limit':-1},'unified':{'memory.high':'max','io.weight':'100'}},"
    "'cgroupsPath':'/kubepods/x','maskedPaths':['/proc/kcore','/sys/firmware'],'readonlyPaths':['/proc/sys'],"
    "'rootfsPropagation':'rslave','mountLabel':'ml',"
    "'seccomp':{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':1,'architectures':['SCMP_ARCH_X86_64'],"
    "'syscalls':[{'names':['read','write'],'action':'SCMP_ACT_ALLOW','args':[{'index':0,'value':1,"
    "'op':'SCMP_CMP_EQ'}]}]},"
    "'devices':[{'path':'/dev/fuse','type':'c','major':10,'minor':229,'fileMode':438,'uid':0,'gid':0}]}}";

static void assert_strv_equal(char **a, char **b)
{
	if (a == NULL || b == NULL) {
		g_assert_true(a == b);
		return;
	}
	g_assert_true(g_strv_equal((const char *const *)a, (const char *const *)b));
}

static void assert_map_equal(GHashTable *a, GHashTable *b)
{
	GHashTableIter it;
	gpointer k, v;

	if (a == NULL || b == NULL) {
		g_assert_true(a == b);
		return;
	}
	g_assert_cmpuint(g_hash_table_size(a), ==, g_hash_table_size(b));
	g_hash_table_iter_init(&it, a);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_assert_cmpstr(g_hash_table_lookup(b, k), ==, v);
}

static char *value_text(yajl_val v)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	g_autoptr(GError) error = NULL;

	if (v == NULL)
		return NULL;
	ck_json_value(g, v);
	char *text = ck_json_gen_finish(g, NULL, &error);
	g_assert_no_error(error);
	return text;
}

static void assert_process_equal(const OciProcess *a, const OciProcess *b)
{
	g_assert_cmpint(a->terminal, ==, b->terminal);
	g_assert_cmpuint(a->console_height, ==, b->console_height);
	g_assert_cmpuint(a->console_width, ==, b->console_width);
	g_assert_cmpuint(a->uid, ==, b->uid);
	g_assert_cmpuint(a->gid, ==, b->gid);
	g_assert_cmpint(a->has_umask, ==, b->has_umask);
	g_assert_cmpuint(a->umask, ==, b->umask);
	g_assert_cmpmem(a->additional_gids, a->n_additional_gids * sizeof(guint32), b->additional_gids,
			b->n_additional_gids * sizeof(guint32));
	g_assert_cmpstr(a->username, ==, b->username);
	assert_strv_equal(a->args, b->args);
	g_assert_cmpstr(a->command_line, ==, b->command_line);
	assert_strv_equal(a->env, b->env);
	g_assert_cmpstr(a->cwd, ==, b->cwd);
	g_assert_cmpint(a->has_caps, ==, b->has_caps);
	assert_strv_equal(a->caps.bounding, b->caps.bounding);
	assert_strv_equal(a->caps.effective, b->caps.effective);
	assert_strv_equal(a->caps.inheritable, b->caps.inheritable);
	assert_strv_equal(a->caps.permitted, b->caps.permitted);
	assert_strv_equal(a->caps.ambient, b->caps.ambient);
	g_assert_cmpuint(a->n_rlimits, ==, b->n_rlimits);
	for (gsize i = 0; i < a->n_rlimits; i++) {
		g_assert_cmpstr(a->rlimits[i].type, ==, b->rlimits[i].type);
		g_assert_cmpint(a->rlimits[i].resource, ==, b->rlimits[i].resource);
		g_assert_cmpuint(a->rlimits[i].hard, ==, b->rlimits[i].hard);
		g_assert_cmpuint(a->rlimits[i].soft, ==, b->rlimits[i].soft);
	}
	g_assert_cmpint(a->no_new_privileges, ==, b->no_new_privileges);
	g_assert_cmpint(a->has_oom_score_adj, ==, b->has_oom_score_adj);
	g_assert_cmpint(a->oom_score_adj, ==, b->oom_score_adj);
	g_assert_cmpstr(a->apparmor_profile, ==, b->apparmor_profile);
	g_assert_cmpstr(a->selinux_label, ==, b->selinux_label);
}

static void assert_resources_equal(const OciResources *a, const OciResources *b)
{
	g_assert_cmpint(a->memory_limit, ==, b->memory_limit);
	g_assert_cmpint(a->memory_reservation, ==, b->memory_reservation);
	g_assert_cmpint(a->memory_swap, ==, b->memory_swap);
	g_assert_cmpint(a->memory_swappiness, ==, b->memory_swappiness);
	g_assert_cmpint(a->has_disable_oom_killer, ==, b->has_disable_oom_killer);
	g_assert_cmpint(a->disable_oom_killer, ==, b->disable_oom_killer);
	g_assert_cmpuint(a->cpu_shares, ==, b->cpu_shares);
	g_assert_cmpint(a->cpu_quota, ==, b->cpu_quota);
	g_assert_cmpuint(a->cpu_period, ==, b->cpu_period);
	g_assert_cmpstr(a->cpu_cpus, ==, b->cpu_cpus);
	g_assert_cmpstr(a->cpu_mems, ==, b->cpu_mems);
	g_assert_cmpint(a->has_pids_limit, ==, b->has_pids_limit);
	g_assert_cmpint(a->pids_limit, ==, b->pids_limit);
	assert_map_equal(a->unified, b->unified);
}

static void assert_mounts_and_hooks_equal(const OciSpec *a, const OciSpec *b)
{
	g_assert_cmpuint(a->n_mounts, ==, b->n_mounts);
	for (gsize i = 0; i < a->n_mounts; i++) {
		g_assert_cmpstr(a->mounts[i].destination, ==, b->mounts[i].destination);
		g_assert_cmpstr(a->mounts[i].type, ==, b->mounts[i].type);
		g_assert_cmpstr(a->mounts[i].source, ==, b->mounts[i].source);
		assert_strv_equal(a->mounts[i].options, b->mounts[i].options);
	}
	for (int s = 0; s < OCI_HOOK_MAX; s++) {
		g_assert_cmpuint(a->hooks[s].n_hooks, ==, b->hooks[s].n_hooks);
		for (gsize i = 0; i < a->hooks[s].n_hooks; i++) {
			const OciHook *x = &a->hooks[s].hooks[i], *y = &b->hooks[s].hooks[i];
			g_assert_cmpstr(x->path, ==, y->path);
			assert_strv_equal(x->args, y->args);
			assert_strv_equal(x->env, y->env);
			g_assert_cmpint(x->has_timeout, ==, y->has_timeout);
			g_assert_cmpint(x->timeout, ==, y->timeout);
		}
	}
}

static void assert_linux_equal(const OciSpec *a, const OciSpec *b)
{
	g_assert_cmpuint(a->n_namespaces, ==, b->n_namespaces);
	for (gsize i = 0; i < a->n_namespaces; i++) {
		g_assert_cmpint(a->namespaces[i].type, ==, b->namespaces[i].type);
		g_assert_cmpstr(a->namespaces[i].path, ==, b->namespaces[i].path);
	}
	g_assert_cmpmem(a->uid_mappings, a->n_uid_mappings * sizeof(OciIdMapping), b->uid_mappings,
			b->n_uid_mappings * sizeof(OciIdMapping));
	g_assert_cmpmem(a->gid_mappings, a->n_gid_mappings * sizeof(OciIdMapping), b->gid_mappings,
			b->n_gid_mappings * sizeof(OciIdMapping));
	assert_map_equal(a->sysctl, b->sysctl);
	g_assert_cmpint(a->has_resources, ==, b->has_resources);
	assert_resources_equal(&a->resources, &b->resources);
	g_assert_cmpstr(a->cgroups_path, ==, b->cgroups_path);
	assert_strv_equal(a->masked_paths, b->masked_paths);
	assert_strv_equal(a->readonly_paths, b->readonly_paths);
	g_assert_cmpstr(a->rootfs_propagation, ==, b->rootfs_propagation);
	g_assert_cmpstr(a->mount_label, ==, b->mount_label);
	g_autofree char *seccomp_a = value_text(a->seccomp);
	g_autofree char *seccomp_b = value_text(b->seccomp);
	g_assert_cmpstr(seccomp_a, ==, seccomp_b);
	g_autofree char *devices_a = value_text(a->devices);
	g_autofree char *devices_b = value_text(b->devices);
	g_assert_cmpstr(devices_a, ==, devices_b);
}

static void assert_spec_equal(const OciSpec *a, const OciSpec *b)
{
	g_assert_cmpstr(a->oci_version, ==, b->oci_version);
	g_assert_cmpstr(a->root_path, ==, b->root_path);
	g_assert_cmpint(a->root_readonly, ==, b->root_readonly);
	g_assert_cmpstr(a->hostname, ==, b->hostname);
	g_assert_cmpstr(a->domainname, ==, b->domainname);
	g_assert_cmpint(a->has_process, ==, b->has_process);
	assert_process_equal(&a->process, &b->process);
	assert_mounts_and_hooks_equal(a, b);
	assert_map_equal(a->annotations, b->annotations);
	assert_linux_equal(a, b);
}

/* to_json, then parse; the second serialisation must be byte-identical. */
static OciSpec *reparse(const OciSpec *a)
{
	g_autoptr(GError) error = NULL;
	gsize len = 0, len2 = 0;
	g_autofree char *text = oci_spec_to_json(a, &len, &error);

	g_assert_no_error(error);
	g_assert_cmpuint(strlen(text), ==, len);
	OciSpec *b = oci_spec_parse(text, len, "round trip", &error);
	g_assert_no_error(error);
	g_autofree char *text2 = oci_spec_to_json(b, &len2, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(text, ==, text2);
	return b;
}

static void test_roundtrip_full(void)
{
	g_autoptr(OciSpec) a = parse_ok(full_spec);
	g_autoptr(OciSpec) b = reparse(a);

	/* spot checks that the document says what the test means */
	g_assert_cmpuint(a->process.additional_gids[1], ==, G_MAXUINT32);
	g_assert_cmpuint(a->process.rlimits[1].hard, ==, G_MAXUINT64);
	g_assert_cmpint(a->process.rlimits[1].resource, ==, RLIMIT_CORE);
	g_assert_cmpuint(g_strv_length(a->process.caps.effective), ==, 0);
	g_assert_cmpuint(a->n_namespaces, ==, OCI_NS_MAX);
	g_assert_cmpint(a->resources.memory_limit, ==, -1);
	g_assert_cmpint(a->resources.memory_swap, ==, G_MAXINT64);
	g_assert_cmpint(a->resources.memory_swappiness, ==, 0);
	g_assert_true(a->resources.has_disable_oom_killer);
	g_assert_true(a->resources.disable_oom_killer);
	g_assert_cmpint(a->resources.cpu_quota, ==, -1);
	g_assert_true(a->resources.has_pids_limit);
	g_assert_cmpint(a->resources.pids_limit, ==, -1);
	g_assert_cmpstr(g_hash_table_lookup(a->resources.unified, "io.weight"), ==, "100");
	g_assert_true(a->hooks[OCI_HOOK_CREATE_RUNTIME].hooks[0].has_timeout);
	g_assert_cmpint(a->hooks[OCI_HOOK_CREATE_RUNTIME].hooks[0].timeout, ==, 5);
	g_assert_false(a->hooks[OCI_HOOK_PRESTART].hooks[0].has_timeout);
	g_assert_nonnull(a->hooks[OCI_HOOK_CREATE_CONTAINER].hooks[0].args);
	g_assert_null(a->hooks[OCI_HOOK_PRESTART].hooks[0].args);
	g_assert_cmpint(a->process.oom_score_adj, ==, -1000);
	g_assert_cmpuint(a->process.umask, ==, 18);
	assert_spec_equal(a, b);
}

static void test_roundtrip_crio(void)
{
	static const char *const names[] = {"sandbox-config.json", "container-config.json"};

	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autoptr(OciSpec) a = load_sample(names[i]);
		g_autoptr(OciSpec) b = reparse(a);
		assert_spec_equal(a, b);
	}
}

/* What the host does before sending a spec: rewrite fields in place. */
static void test_to_json_after_rewrite(void)
{
	g_autoptr(OciSpec) a = parse_ok(full_spec);
	g_autoptr(GError) error = NULL;

	a->seccomp = NULL;
	g_free(a->root_path);
	a->root_path = g_strdup("/run/kata-containers/shared/c1/rootfs");
	g_clear_pointer(&a->namespaces[1].path, g_free);
	/* a spec built in code names rlimits by resource only */
	g_clear_pointer(&a->process.rlimits[0].type, g_free);
	g_autofree char *text = oci_spec_to_json(a, NULL, &error);
	g_assert_no_error(error);
	g_assert_null(strstr(text, "seccomp"));
	g_assert_nonnull(strstr(text, "\"type\":\"RLIMIT_NOFILE\""));
	g_autoptr(OciSpec) b = oci_spec_parse(text, strlen(text), "rewritten", &error);
	g_assert_no_error(error);
	g_assert_null(b->seccomp);
	g_assert_nonnull(b->devices);
	g_assert_cmpstr(b->root_path, ==, "/run/kata-containers/shared/c1/rootfs");
	g_assert_null(b->namespaces[1].path);
	g_assert_cmpint(b->process.rlimits[0].resource, ==, RLIMIT_NOFILE);
}

static void test_to_json_minimal(void)
{
	g_autoptr(OciSpec) a = parse_ok("{'ociVersion':'1.0.0','unmodelled':{'x':[1]}}");
	g_autoptr(GError) error = NULL;
	g_autofree char *text = oci_spec_to_json(a, NULL, &error);

	g_assert_no_error(error);
	g_assert_cmpstr(text, ==,
			"{\"ociVersion\":\"1.0.0\",\"mounts\":[],\"annotations\":{},\"linux\":{\"namespaces\":[]}}");
	g_autoptr(OciSpec) b = reparse(a);
	assert_spec_equal(a, b);
}

/* --- process alone (runc exec --process) ---------------------------------------------- */

static gboolean parse_process(const char *text, OciProcess *p, GError **error)
{
	g_autofree char *doc = json(text);
	g_auto(yajl_val) tree = ck_json_parse(doc, strlen(doc), "process.json", error);

	return tree != NULL && oci_process_parse(tree, "process", p, error);
}

static void test_process_alone(void)
{
	OciProcess p = {0};
	g_autoptr(GError) error = NULL;

	g_assert_true(parse_process("{'terminal':true,'consoleSize':{'height':50,'width':132},'user':{'uid':33,"
				    "'gid':33,'additionalGids':[4,27]},'args':['ps','aux'],'cwd':'/var/www',"
				    "'env':['TERM=xterm'],'noNewPrivileges':true,'oomScoreAdj':500}",
				    &p, &error));
	g_assert_no_error(error);
	g_assert_true(p.terminal);
	g_assert_cmpuint(p.console_height, ==, 50);
	g_assert_cmpuint(p.console_width, ==, 132);
	g_assert_cmpuint(p.uid, ==, 33);
	g_assert_cmpuint(p.n_additional_gids, ==, 2);
	g_assert_cmpuint(p.additional_gids[1], ==, 27);
	g_assert_cmpstr(p.args[1], ==, "aux");
	g_assert_cmpstr(p.cwd, ==, "/var/www");
	g_assert_false(p.has_caps);
	g_assert_cmpuint(p.n_rlimits, ==, 0);
	g_assert_true(p.has_oom_score_adj);
	g_assert_cmpint(p.oom_score_adj, ==, 500);

	/* oci_process_to_json writes what oci_process_parse reads */
	g_autofree char *text = oci_process_to_json(&p, NULL, &error);
	g_assert_no_error(error);
	OciProcess q = {0};
	g_assert_true(parse_process(text, &q, &error));
	g_assert_no_error(error);
	assert_process_equal(&p, &q);
	oci_process_clear(&q);
	oci_process_clear(&p);
	g_assert_null(p.args);
}

static void test_process_alone_rejects(void)
{
	static const RejectCase cases[] = {
	    {"[]", "process: expected an object, got an array"},
	    {"{'args':['sh'],'cwd':'relative/dir'}", "process.cwd: must be an absolute path"},
	    {"{'args':[],'cwd':'/'}", "process.args: must not be empty"},
	    {"{'args':['sh'],'cwd':'/','user':{'uid':'root'}}", "process.user.uid: expected an integer, got a string"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		OciProcess p = {0};
		g_autoptr(GError) error = NULL;
		g_assert_false(parse_process(cases[i].doc, &p, &error));
		g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
		g_assert_cmpstr(error->message, ==, cases[i].message);
		oci_process_clear(&p); /* releases what was parsed before the error */
	}
}

/* --- resources alone (runc update --resources) ----------------------------------------- */

static gboolean parse_resources(const char *text, OciResources *r, GError **error)
{
	g_autofree char *doc = json(text);
	g_auto(yajl_val) tree = ck_json_parse(doc, strlen(doc), "resources.json", error);

	oci_resources_init(r);
	return tree != NULL && oci_resources_parse(tree, "resources", r, error);
}

/* absent: nothing to change */
static void test_resources_absent(void)
{
	OciResources r;
	g_autoptr(GError) error = NULL;

	g_assert_true(parse_resources("{'cpu':{'shares':100}}", &r, &error));
	g_assert_no_error(error);
	g_assert_cmpint(r.memory_limit, ==, 0);
	g_assert_cmpint(r.memory_swap, ==, 0);
	g_assert_cmpint(r.memory_reservation, ==, 0);
	g_assert_cmpint(r.memory_swappiness, ==, -1);
	g_assert_false(r.has_disable_oom_killer);
	g_assert_cmpuint(r.cpu_shares, ==, 100);
	g_assert_cmpint(r.cpu_quota, ==, 0);
	g_assert_false(r.has_pids_limit);
	g_assert_null(r.unified);
	oci_resources_clear(&r);
}

/* -1: set to unlimited, which must stay distinct from absent */
static void test_resources_unlimited(void)
{
	OciResources r;
	g_autoptr(GError) error = NULL;

	g_assert_true(parse_resources("{'memory':{'limit':-1,'swap':-1,'reservation':-1,'swappiness':0},"
				      "'cpu':{'quota':-1,'period':50000},'pids':{'limit':-1},"
				      "'unified':{'pids.max':'max'}}",
				      &r, &error));
	g_assert_no_error(error);
	g_assert_cmpint(r.memory_limit, ==, -1);
	g_assert_cmpint(r.memory_swap, ==, -1);
	g_assert_cmpint(r.memory_reservation, ==, -1);
	g_assert_cmpint(r.memory_swappiness, ==, 0);
	g_assert_cmpint(r.cpu_quota, ==, -1);
	g_assert_cmpuint(r.cpu_period, ==, 50000);
	g_assert_cmpuint(r.cpu_shares, ==, 0);
	g_assert_true(r.has_pids_limit);
	g_assert_cmpint(r.pids_limit, ==, -1);
	g_assert_cmpstr(g_hash_table_lookup(r.unified, "pids.max"), ==, "max");
	oci_resources_clear(&r);
	g_assert_null(r.unified);
	g_assert_cmpint(r.memory_swappiness, ==, -1);
}

static void test_resources_values(void)
{
	OciResources r;
	g_autoptr(GError) error = NULL;

	g_assert_true(
	    parse_resources("{'memory':{'limit':1073741824,'disableOOMKiller':true},'pids':{'limit':0}}", &r, &error));
	g_assert_no_error(error);
	g_assert_cmpint(r.memory_limit, ==, 1073741824);
	g_assert_true(r.has_disable_oom_killer);
	g_assert_true(r.disable_oom_killer);
	g_assert_true(r.has_pids_limit);
	g_assert_cmpint(r.pids_limit, ==, 0);
	oci_resources_clear(&r);

	g_assert_false(parse_resources("{'memory':{'limit':'1G'}}", &r, &error));
	g_assert_cmpstr(error->message, ==, "resources.memory.limit: expected an integer, got a string");
	oci_resources_clear(&r);
}

/* --- files and names ---------------------------------------------------------------- */

static char *write_temp(const char *name, const char *contents, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("test-oci-spec-XXXXXX", &error);

	g_assert_no_error(error);
	char *path = g_build_filename(dir, name, NULL);
	g_assert_true(g_file_set_contents(path, contents, (gssize)len, &error));
	g_assert_no_error(error);
	return path;
}

static void remove_temp(const char *path)
{
	g_autofree char *dir = g_path_get_dirname(path);

	g_assert_cmpint(g_unlink(path), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void test_load_file(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *doc = json("{'ociVersion':'1','process':{'args':['sh'],'cwd':'x'}}");
	g_autofree char *path = write_temp("config.json", doc, strlen(doc));
	g_autofree char *want = g_strdup_printf("%s: process.cwd: must be an absolute path", path);

	g_assert_null(oci_spec_load_file(path, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
	g_assert_cmpstr(error->message, ==, want);
	g_clear_error(&error);
	remove_temp(path);

	g_assert_null(oci_spec_load_file("/nonexistent/config.json", &error));
	g_assert_true(ck_error_is(error, CK_ERROR_NOT_FOUND));
	g_assert_nonnull(strstr(error->message, "/nonexistent/config.json"));
	g_clear_error(&error);

	/* a bounded read: a huge file is refused, not slurped */
	gsize big_len = OCI_SPEC_MAX_SIZE + 1;
	g_autofree char *big = g_malloc(big_len);
	memset(big, ' ', big_len);
	g_autofree char *big_path = write_temp("big.json", big, big_len);
	g_assert_null(oci_spec_load_file(big_path, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
	g_assert_nonnull(strstr(error->message, big_path));
	remove_temp(big_path);
}

static void test_names(void)
{
	static const char *const ns[] = {"pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};
	static const char *const stages[] = {"prestart",       "createRuntime", "createContainer",
					     "startContainer", "poststart",	"poststop"};
	OciNamespaceType t;

	G_STATIC_ASSERT(G_N_ELEMENTS(ns) == OCI_NS_MAX);
	G_STATIC_ASSERT(G_N_ELEMENTS(stages) == OCI_HOOK_MAX);
	for (int i = 0; i < OCI_NS_MAX; i++) {
		g_assert_cmpstr(oci_namespace_type_to_string((OciNamespaceType)i), ==, ns[i]);
		g_assert_true(oci_namespace_type_from_string(ns[i], &t));
		g_assert_cmpint(t, ==, i);
	}
	g_assert_false(oci_namespace_type_from_string("net", &t));
	g_assert_false(oci_namespace_type_from_string(NULL, &t));
	/* /proc/<pid>/ns/ names and CLONE_NEW* flags: what setns and NS_GET_NSTYPE speak */
	static const char *const proc[] = {"pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time"};
	static const int flags[] = {CLONE_NEWPID, CLONE_NEWNET,	 CLONE_NEWNS,	  CLONE_NEWIPC,
				    CLONE_NEWUTS, CLONE_NEWUSER, CLONE_NEWCGROUP, CLONE_NEWTIME};
	for (int i = 0; i < OCI_NS_MAX; i++) {
		g_assert_cmpstr(oci_namespace_proc_name((OciNamespaceType)i), ==, proc[i]);
		g_assert_cmpint(oci_namespace_clone_flag((OciNamespaceType)i), ==, flags[i]);
		g_assert_true(oci_namespace_type_from_clone_flag(flags[i], &t));
		g_assert_cmpint(t, ==, i);
	}
	g_assert_cmpstr(oci_namespace_proc_name(OCI_NS_MAX), ==, "unknown");
	g_assert_cmpint(oci_namespace_clone_flag(OCI_NS_MAX), ==, 0);
	g_assert_false(oci_namespace_type_from_clone_flag(CLONE_NEWNS | CLONE_NEWPID, &t));
	for (int i = 0; i < OCI_HOOK_MAX; i++)
		g_assert_cmpstr(oci_hook_stage_to_string((OciHookStage)i), ==, stages[i]);
	g_assert_cmpint(oci_rlimit_from_string("RLIMIT_NOFILE"), ==, RLIMIT_NOFILE);
	g_assert_cmpint(oci_rlimit_from_string("RLIMIT_RTTIME"), ==, RLIMIT_RTTIME);
	g_assert_cmpint(oci_rlimit_from_string("RLIMIT_AS"), ==, RLIMIT_AS);
	g_assert_cmpint(oci_rlimit_from_string("rlimit_nofile"), ==, -1);
	g_assert_cmpint(oci_rlimit_from_string("RLIMIT_NLIMITS"), ==, -1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/oci-spec/crio-sandbox", test_crio_sandbox);
	g_test_add_func("/oci-spec/crio-container", test_crio_container);
	g_test_add_func("/oci-spec/minimal", test_minimal);
	g_test_add_func("/oci-spec/nulls-are-absent", test_nulls_are_absent);
	g_test_add_func("/oci-spec/unknown-ignored", test_unknown_ignored);
	g_test_add_func("/oci-spec/duplicate-keys", test_duplicate_keys);
	g_test_add_func("/oci-spec/rejects", test_rejects);
	g_test_add_func("/oci-spec/invalid-json", test_invalid_json);
	g_test_add_func("/oci-spec/devices", test_devices);
	g_test_add_func("/oci-spec/roundtrip-full", test_roundtrip_full);
	g_test_add_func("/oci-spec/roundtrip-crio", test_roundtrip_crio);
	g_test_add_func("/oci-spec/to-json-after-rewrite", test_to_json_after_rewrite);
	g_test_add_func("/oci-spec/to-json-minimal", test_to_json_minimal);
	g_test_add_func("/oci-spec/process-alone", test_process_alone);
	g_test_add_func("/oci-spec/process-alone-rejects", test_process_alone_rejects);
	g_test_add_func("/oci-spec/resources-alone-absent", test_resources_absent);
	g_test_add_func("/oci-spec/resources-alone-unlimited", test_resources_unlimited);
	g_test_add_func("/oci-spec/resources-alone-values", test_resources_values);
	g_test_add_func("/oci-spec/load-file", test_load_file);
	g_test_add_func("/oci-spec/names", test_names);
	return g_test_run();
}
