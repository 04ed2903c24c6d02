/* fuzz-agent-plan: a container's config.json as the agent turns it into
 * a spawn plan before forking anything (agent/spawn.c, agent/mounts.c,
 * agent/oci/oci-seccomp.c, agent/cgroup.c).
 *
 * The input is the spec the host sends with create_container. It is
 * parsed (oci-spec.c), then every parent-side step of container creation
 * that needs no running container runs on it: the process part of the
 * plan, the mounts plan against a guest rootfs, the seccomp filter, and
 * the cgroup v2 values written into a scratch directory that stands in
 * for the container's cgroup. Bind sources are stat()ed on this machine,
 * which only decides between "exists" and not. Checked, beyond crashes
 * and leaks:
 *   - the plan holds what the spec says: argv, an environment, groups,
 *     rlimits with known resources, capabilities within the kernel's;
 *   - every mount targets an absolute path, binds have absolute sources,
 *     other mounts a file system type, and cgroup mounts are cgroup2;
 *   - the values written to the cgroup files are what cgroup v2 accepts:
 *     cpu.weight 1..10000, cpu.max "max|QUOTA PERIOD", numbers or "max".
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "base/ck-error.h"
#include "oci/oci-spec.h"
#include "agent/cgroup.h"
#include "agent/mounts.h"
#include "oci/oci-seccomp.h"
#include "agent/spawn.h"
#include "fuzz.h"

#define ROOTFS "/run/kata/shared/c1/rootfs"

static const char *const cgroup_files[] = {"memory.max", "memory.low", "memory.swap.max",
					   "cpu.weight", "cpu.max",    "pids.max"};

static void check_process(const SpawnPlan *plan, const OciProcess *p)
{
	int last = (int)cap_max_bits() - 1;

	fuzz_check(plan->argv != NULL && g_strv_equal((const char *const *)plan->argv, (const char *const *)p->args),
		   "argv differs from process.args");
	fuzz_check(plan->envp != NULL && plan->cwd != NULL && plan->cwd[0] == '/', "env or cwd missing");
	fuzz_check(plan->n_groups == p->n_additional_gids, "groups lost");
	for (gsize i = 0; i < plan->n_rlimits; i++)
		fuzz_check(plan->rlimits[i].resource >= 0 && plan->rlimits[i].resource < RLIM_NLIMITS,
			   "rlimit %d out of range", plan->rlimits[i].resource);
	for (int s = 0; s < CAPSET_MAX; s++)
		for (gsize i = 0; i < plan->n_caps[s]; i++)
			fuzz_check(plan->caps[s][i] >= 0 && plan->caps[s][i] <= last, "capability %d out of range",
				   plan->caps[s][i]);
}

static void check_mounts(const SpawnPlan *plan)
{
	for (gsize i = 0; i < plan->n_mounts; i++) {
		const MountOp *op = &plan->mounts[i];
		fuzz_check(op->target != NULL && op->target[0] == '/', "mount %zu: target not absolute", i);
		fuzz_check(op->source != NULL, "mount %zu: no source", i);
		if (op->bind)
			fuzz_check(op->source[0] == '/' && op->fstype == NULL, "mount %zu: bad bind", i);
		else
			fuzz_check(op->fstype != NULL && !g_str_equal(op->fstype, "cgroup"), "mount %zu: fstype %s", i,
				   op->fstype ? op->fstype : "(null)");
	}
	fuzz_check(plan->rootfs_propagation != 0 && g_str_equal(plan->rootfs, ROOTFS), "rootfs not planned");
	fuzz_check(plan->masked_paths != NULL && plan->readonly_paths != NULL, "path lists missing");
}

/* A decimal number without sign or leading zero. */
static gboolean is_count(const char *s, guint64 min, guint64 max)
{
	guint64 v;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0') || strspn(s, "0123456789") != strlen(s))
		return FALSE;
	v = g_ascii_strtoull(s, NULL, 10);
	return v >= min && v <= max;
}

static void check_cgroup_file(const char *dir, const char *name, const OciResources *res)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autofree char *v = NULL;

	/* unified writes any file it names, with any value */
	if (res->unified != NULL && g_hash_table_contains(res->unified, name))
		return;
	if (!g_file_get_contents(path, &v, NULL, NULL) || v[0] == '\0')
		return; /* not written */
	if (g_str_equal(name, "cpu.weight")) {
		fuzz_check(is_count(v, 1, 10000), "cpu.weight '%s'", v);
	} else if (g_str_equal(name, "cpu.max")) {
		g_auto(GStrv) f = g_strsplit(v, " ", -1);
		fuzz_check(g_strv_length(f) == 2 && (g_str_equal(f[0], "max") || is_count(f[0], 1, G_MAXINT64)) &&
				   is_count(f[1], 1, G_MAXUINT64),
			   "cpu.max '%s'", v);
	} else {
		fuzz_check(g_str_equal(v, "max") || is_count(v, g_str_equal(name, "memory.swap.max") ? 0 : 1, G_MAXINT64),
			   "%s '%s'", name, v);
	}
}

static void fuzz_cgroup(const OciResources *res)
{
	g_autofree char *dir = g_build_filename(fuzz_tmpdir(), "cgroup", NULL);
	g_autoptr(GError) error = NULL;

	fuzz_clear_dir(fuzz_tmpdir());
	fuzz_check(g_mkdir(dir, 0700) == 0, "mkdir %s: %s", dir, g_strerror(errno));
	for (gsize i = 0; i < G_N_ELEMENTS(cgroup_files); i++) {
		g_autofree char *path = g_build_filename(dir, cgroup_files[i], NULL);
		fuzz_check(g_file_set_contents(path, "", 0, NULL), "cannot create %s", path);
	}
	if (!cgroup_apply(dir, res, &error)) {
		fuzz_check(error != NULL, "cgroup_apply failed without an error");
		return;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(cgroup_files); i++)
		check_cgroup_file(dir, cgroup_files[i], res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OciSpec) spec = NULL;
	g_auto(SpawnPlan) plan;

	fuzz_init();
	spawn_plan_init(&plan);
	spec = oci_spec_parse((const char *)data, size, "spec", &error);
	if (spec == NULL)
		return 0;

	if (spec->has_process) {
		if (spawn_plan_set_process(&plan, &spec->process, "process", &error))
			check_process(&plan, &spec->process);
		else
			fuzz_check(g_error_matches(error, CK_ERROR, CK_ERROR_INVALID), "process: %s", error->message);
		g_clear_error(&error);
	}
	if (mounts_plan(&plan, spec, ROOTFS, &error))
		check_mounts(&plan);
	else
		fuzz_check(error != NULL, "mounts_plan failed without an error");
	g_clear_error(&error);
	if (spec->seccomp != NULL) {
		g_autoptr(OciSeccomp) filter = oci_seccomp_compile(spec->seccomp, "linux.seccomp", NULL, &error);
		fuzz_check((filter == NULL) == (error != NULL), "seccomp: result and error disagree");
		g_clear_error(&error);
	}
	if (spec->has_resources)
		fuzz_cgroup(&spec->resources);
	return 0;
}
