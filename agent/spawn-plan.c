/* spawn-plan: a container process's plan, from an OCI process (see
 * spawn-plan.h). */
#include "spawn-plan.h"

#include <string.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"

void spawn_plan_init(SpawnPlan *plan)
{
	memset(plan, 0, sizeof *plan);
	for (int i = 0; i < OCI_NS_MAX; i++)
		plan->join_fds[i] = -1;
	for (int i = 0; i < 3; i++)
		plan->stdio[i] = -1;
}

void spawn_plan_clear(SpawnPlan *plan)
{
	for (int i = 0; i < OCI_NS_MAX; i++)
		ck_close_fdp(&plan->join_fds[i]);
	for (gsize i = 0; i < plan->n_mounts; i++) {
		g_free(plan->mounts[i].source);
		g_free(plan->mounts[i].target);
		g_free(plan->mounts[i].fstype);
		g_free(plan->mounts[i].data);
	}
	g_free(plan->mounts);
	for (gsize i = 0; i < plan->n_devices; i++)
		g_free(plan->devices[i].path);
	g_free(plan->devices);
	g_free(plan->cgroup_procs);
	g_free(plan->uid_map);
	g_free(plan->gid_map);
	g_free(plan->rootfs);
	g_strfreev(plan->masked_paths);
	g_strfreev(plan->readonly_paths);
	g_free(plan->hostname);
	g_free(plan->domainname);
	g_strfreev(plan->sysctl_keys);
	g_strfreev(plan->sysctl_values);
	g_strfreev(plan->argv);
	g_strfreev(plan->envp);
	g_free(plan->cwd);
	g_free(plan->groups);
	g_free(plan->rlimits);
	for (int i = 0; i < CAPSET_MAX; i++)
		g_free(plan->caps[i]);
	g_clear_pointer(&plan->seccomp_bpf, g_bytes_unref);
	spawn_plan_init(plan);
}

/* --- parent side: translating the OCI process ---------------------------- */

static gboolean parse_cap_list(char **names, const char *path, cap_value_t **out, gsize *out_n, GError **error)
{
	g_autofree cap_value_t *caps = g_new0(cap_value_t, names ? g_strv_length(names) + 1 : 1);
	gsize n = 0;

	for (gsize i = 0; names != NULL && names[i] != NULL; i++) {
		cap_value_t v;
		if (cap_from_name(names[i], &v) < 0 || v < 0 || v > (cap_value_t)cap_max_bits() - 1)
			return ck_set_error(error, CK_ERROR_INVALID, "%s[%" G_GSIZE_FORMAT "]: unknown capability '%s'",
					    path, i, names[i]);
		caps[n++] = v;
	}
	*out = g_steal_pointer(&caps);
	*out_n = n;
	return TRUE;
}

static gboolean set_caps(SpawnPlan *plan, const OciCapabilities *caps, const char *path, GError **error)
{
	char **sets[CAPSET_MAX] = {caps->bounding, caps->effective, caps->inheritable, caps->permitted, caps->ambient};
	static const char *const names[CAPSET_MAX] = {"bounding", "effective", "inheritable", "permitted", "ambient"};

	for (int i = 0; i < CAPSET_MAX; i++) {
		g_autofree char *p = g_strdup_printf("%s.capabilities.%s", path, names[i]);
		if (!parse_cap_list(sets[i], p, &plan->caps[i], &plan->n_caps[i], error))
			return FALSE;
	}
	plan->has_caps = TRUE;
	return TRUE;
}

gboolean spawn_plan_set_process(SpawnPlan *plan, const OciProcess *proc, const char *path, GError **error)
{
	if (proc->args == NULL || proc->args[0] == NULL)
		return ck_set_error(error, CK_ERROR_INVALID, "%s.args: must not be empty", path);
	if (proc->cwd == NULL || proc->cwd[0] != '/')
		return ck_set_error(error, CK_ERROR_INVALID, "%s.cwd: must be an absolute path", path);

	plan->argv = g_strdupv(proc->args);
	plan->envp = proc->env ? g_strdupv(proc->env) : g_new0(char *, 1);
	plan->cwd = g_strdup(proc->cwd);
	plan->uid = proc->uid;
	plan->gid = proc->gid;
	plan->groups = g_new0(gid_t, proc->n_additional_gids + 1);
	for (gsize i = 0; i < proc->n_additional_gids; i++)
		plan->groups[i] = proc->additional_gids[i];
	plan->n_groups = proc->n_additional_gids;
	plan->has_umask = proc->has_umask;
	plan->umask = proc->umask;
	plan->rlimits = g_new0(RlimitOp, proc->n_rlimits + 1);
	for (gsize i = 0; i < proc->n_rlimits; i++) {
		if (proc->rlimits[i].resource < 0)
			return ck_set_error(error, CK_ERROR_INVALID,
					    "%s.rlimits[%" G_GSIZE_FORMAT "]: unknown rlimit '%s'", path, i,
					    proc->rlimits[i].type);
		plan->rlimits[i].resource = proc->rlimits[i].resource;
		plan->rlimits[i].limit.rlim_cur = proc->rlimits[i].soft;
		plan->rlimits[i].limit.rlim_max = proc->rlimits[i].hard;
	}
	plan->n_rlimits = proc->n_rlimits;
	plan->no_new_privs = proc->no_new_privileges;
	plan->has_oom_score_adj = proc->has_oom_score_adj;
	plan->oom_score_adj = proc->oom_score_adj;
	plan->terminal = proc->terminal;
	if (proc->has_caps && !set_caps(plan, &proc->caps, path, error))
		return FALSE;
	return TRUE;
}
