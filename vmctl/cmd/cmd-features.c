/* vmctl features: the OCI "Features Structure" (runtime-spec
 * features.md), in runc's shape. CRI-O runs it at startup (without
 * --root) and reads ociVersionMin/Max, and from linux: idmap and rro
 * support; everything else is for the operator and for tools. The keys,
 * their order and the layout are runc 1.1's (it has no "intelRdt" yet).
 *
 * What the runtime recognises, not what this host offers: the lists are
 * those of the guest agent, which does the work in the VM (its libcap's
 * capability names, the seccomp actions and operators it translates).
 */
#include <stdio.h>
#include <linux/capability.h>
#include <sys/capability.h>

#include "base/ck-json.h"
#include "base/ck-log.h"
#include "vmctl.h"

static const char *const hooks[] = {"prestart",	 "createRuntime", "createContainer", "startContainer",
				    "poststart", "poststop",	  NULL};
static const char *const mount_options[] = {
	"async",      "atime",	    "bind",    "dev",	       "diratime",  "dirsync",	  "exec",     "mand",
	"noatime",    "nodev",	    "nodiratime", "noexec",    "nomand",    "norelatime", "nostrictatime",
	"nosuid",     "private",    "rbind",   "relatime",    "remount",   "ro",	  "rprivate", "rshared",
	"rslave",     "runbindable", "rw",     "shared",      "slave",	   "strictatime", "suid",     "sync",
	"unbindable", NULL};
static const char *const namespaces[] = {"cgroup", "ipc", "mount", "network", "pid", "uts", NULL};
static const char *const seccomp_actions[] = {"SCMP_ACT_ALLOW",	  "SCMP_ACT_ERRNO",	    "SCMP_ACT_KILL",
					      "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
					      "SCMP_ACT_TRACE",	   "SCMP_ACT_TRAP",	    NULL};
static const char *const seccomp_operators[] = {"SCMP_CMP_EQ", "SCMP_CMP_GE",	     "SCMP_CMP_GT", "SCMP_CMP_LE",
						"SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE", NULL};
static const char *const seccomp_archs[] = {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", NULL};

/* "CAP_CHOWN", ...: every capability libcap names, as the spec writes them. */
static void capabilities(CkJsonGen *g)
{
	ck_json_array_open(g);
	for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++) {
		char *name = cap_to_name(v);
		/* a number: a capability this libcap has no name for */
		if (name != NULL && g_ascii_isalpha(name[0])) {
			g_autofree char *upper = g_ascii_strup(name, -1);
			ck_json_string(g, upper);
		}
		cap_free(name);
	}
	ck_json_array_close(g);
}

static void enabled(CkJsonGen *g, const char *key, gboolean value)
{
	ck_json_key(g, key);
	ck_json_map_open(g);
	ck_json_kv_bool(g, "enabled", value);
	ck_json_map_close(g);
}

static void linux_features(CkJsonGen *g)
{
	ck_json_key(g, "linux");
	ck_json_map_open(g);
	ck_json_key(g, "namespaces");
	ck_json_strv(g, namespaces);
	ck_json_key(g, "capabilities");
	capabilities(g);
	ck_json_key(g, "cgroup");
	ck_json_map_open(g);
	ck_json_kv_bool(g, "v1", FALSE);
	ck_json_kv_bool(g, "v2", TRUE);
	ck_json_kv_bool(g, "systemd", FALSE);
	ck_json_kv_bool(g, "systemdUser", FALSE);
	ck_json_map_close(g);
	ck_json_key(g, "seccomp");
	ck_json_map_open(g);
	ck_json_kv_bool(g, "enabled", TRUE);
	ck_json_key(g, "actions");
	ck_json_strv(g, seccomp_actions);
	ck_json_key(g, "operators");
	ck_json_strv(g, seccomp_operators);
	ck_json_key(g, "archs");
	ck_json_strv(g, seccomp_archs);
	ck_json_map_close(g);
	enabled(g, "apparmor", FALSE);
	enabled(g, "selinux", FALSE);
	ck_json_map_close(g);
}

int cmd_features(VmctlContext *ctx, int argc, char **argv)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	g_autoptr(GError) error = NULL;

	(void)ctx;
	(void)argc;
	(void)argv;
	ck_json_map_open(g);
	ck_json_kv_string(g, "ociVersionMin", "1.0.0");
	ck_json_kv_string(g, "ociVersionMax", "1.0.2");
	ck_json_key(g, "hooks");
	ck_json_strv(g, hooks);
	ck_json_key(g, "mountOptions");
	ck_json_strv(g, mount_options);
	linux_features(g);
	ck_json_key(g, "annotations");
	ck_json_map_open(g);
	ck_json_kv_string(g, "io.github.seccomp.libseccomp.version", CK_LIBSECCOMP_VERSION);
	ck_json_kv_string(g, "org.opencontainers.runc.checkpoint.enabled", "false");
	ck_json_map_close(g);
	ck_json_map_close(g);
	/* runc 1.1: a json.Encoder with SetIndent("", "    ") */
	g_autofree char *doc = ck_json_gen_finish_layout(g, "    ", &error);
	if (doc == NULL) {
		ck_log_error("features: %s", error->message);
		return 1;
	}
	printf("%s\n", doc);
	return 0;
}
