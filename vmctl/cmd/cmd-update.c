/* vmctl update: new resource limits for a running container, from
 * --resources FILE|- (OCI LinuxResources, CRI-O writes it on stdin) or
 * from runc's single-value flags. A VM container's pod monitor grows the
 * VM when the limits need it (conmon-kata/pod-size.h); a trusted
 * container's update goes to its runtime as it is. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-log.h"
#include "base/ck-parse.h"
#include "lib/runtime-ops.h"
#include "lib/state.h"
#include "vmctl.h"

#define RESOURCES_MAX (1024 * 1024)

typedef struct {
	char *resources;
	char *memory, *reservation, *swap, *kmem, *kmem_tcp;
	char *cpu_period, *cpu_quota, *cpu_share, *rt_period, *rt_runtime;
	char *cpus, *mems, *blkio, *pids, *l3, *membw;
} UpdateOpts;

static void update_opts_clear(UpdateOpts *o)
{
	char **all[] = {&o->resources, &o->memory, &o->reservation, &o->swap, &o->kmem, &o->kmem_tcp,
			&o->cpu_period, &o->cpu_quota, &o->cpu_share, &o->rt_period, &o->rt_runtime,
			&o->cpus, &o->mems, &o->blkio, &o->pids, &o->l3, &o->membw};
	for (gsize i = 0; i < G_N_ELEMENTS(all); i++)
		g_clear_pointer(all[i], g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(UpdateOpts, update_opts_clear)

/* Bytes, with docker's k/m/g suffixes (runc accepts both); -1 = unlimited. */
static gboolean parse_bytes(const char *s, const char *what, gint64 *out, GError **error)
{
	gint64 mult = 1;
	g_autofree char *num = g_ascii_strdown(s, -1);
	gsize n = strlen(num);

	if (n > 0 && strchr("kmg", num[n - 1]) != NULL) {
		mult = num[n - 1] == 'k' ? 1024 : num[n - 1] == 'm' ? 1024 * 1024 : 1024 * 1024 * 1024;
		num[n - 1] = '\0';
		if (n > 1 && num[n - 2] == 'b')
			num[n - 2] = '\0';
	}
	if (!ck_parse_int64(num, what, -1, G_MAXINT64 / mult, out, error))
		return FALSE;
	if (*out > 0)
		*out *= mult;
	return TRUE;
}

static gboolean kv_number(CkJsonGen *g, const char *key, const char *value, const char *flag, gboolean bytes,
			  GError **error)
{
	gint64 v;

	if (value == NULL)
		return TRUE;
	if (bytes ? !parse_bytes(value, flag, &v, error) : !ck_parse_int64(value, flag, -1, G_MAXINT64, &v, error))
		return FALSE;
	ck_json_kv_int(g, key, v);
	return TRUE;
}

static char *resources_from_flags(const UpdateOpts *o, GError **error)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();

	ck_json_map_open(g);
	ck_json_key(g, "memory");
	ck_json_map_open(g);
	if (!kv_number(g, "limit", o->memory, "--memory", TRUE, error) ||
	    !kv_number(g, "reservation", o->reservation, "--memory-reservation", TRUE, error) ||
	    !kv_number(g, "swap", o->swap, "--memory-swap", TRUE, error))
		return NULL;
	ck_json_map_close(g);
	ck_json_key(g, "cpu");
	ck_json_map_open(g);
	if (!kv_number(g, "period", o->cpu_period, "--cpu-period", FALSE, error) ||
	    !kv_number(g, "quota", o->cpu_quota, "--cpu-quota", FALSE, error) ||
	    !kv_number(g, "shares", o->cpu_share, "--cpu-share", FALSE, error))
		return NULL;
	if (o->cpus != NULL)
		ck_json_kv_string(g, "cpus", o->cpus);
	if (o->mems != NULL)
		ck_json_kv_string(g, "mems", o->mems);
	ck_json_map_close(g);
	ck_json_key(g, "pids");
	ck_json_map_open(g);
	if (!kv_number(g, "limit", o->pids, "--pids-limit", FALSE, error))
		return NULL;
	ck_json_map_close(g);
	ck_json_map_close(g);
	return ck_json_gen_finish(g, NULL, error);
}

static char *read_resources(const char *where, GError **error)
{
	g_autofree char *data = NULL;

	if (!g_str_equal(where, "-"))
		return ck_file_read_bounded(where, RESOURCES_MAX, &data, NULL, error) ? g_steal_pointer(&data) : NULL;
	g_autoptr(GString) in = g_string_new(NULL);
	char buf[8192];
	ssize_t n;
	while ((n = ck_read_retry(STDIN_FILENO, buf, sizeof buf)) > 0 && in->len < RESOURCES_MAX)
		g_string_append_len(in, buf, n);
	if (n < 0)
		return ck_set_error_errno(error, errno, "read the resources from stdin"), NULL;
	return g_string_free(g_steal_pointer(&in), FALSE);
}

int cmd_update(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	g_auto(UpdateOpts) o = {0};
	GOptionEntry entries[] = {
		{"resources", 'r', 0, G_OPTION_ARG_FILENAME, &o.resources, "LinuxResources JSON file, or - for stdin", "FILE"},
		{"memory", 0, 0, G_OPTION_ARG_STRING, &o.memory, "memory limit (bytes)", "BYTES"},
		{"memory-reservation", 0, 0, G_OPTION_ARG_STRING, &o.reservation, "memory reservation", "BYTES"},
		{"memory-swap", 0, 0, G_OPTION_ARG_STRING, &o.swap, "memory + swap limit", "BYTES"},
		{"kernel-memory", 0, 0, G_OPTION_ARG_STRING, &o.kmem, "accepted, ignored (not in cgroup v2)", "BYTES"},
		{"kernel-memory-tcp", 0, 0, G_OPTION_ARG_STRING, &o.kmem_tcp, "accepted, ignored", "BYTES"},
		{"cpu-period", 0, 0, G_OPTION_ARG_STRING, &o.cpu_period, "CFS period (us)", "N"},
		{"cpu-quota", 0, 0, G_OPTION_ARG_STRING, &o.cpu_quota, "CFS quota (us)", "N"},
		{"cpu-share", 0, 0, G_OPTION_ARG_STRING, &o.cpu_share, "CPU shares", "N"},
		{"cpu-rt-period", 0, 0, G_OPTION_ARG_STRING, &o.rt_period, "accepted, ignored", "N"},
		{"cpu-rt-runtime", 0, 0, G_OPTION_ARG_STRING, &o.rt_runtime, "accepted, ignored", "N"},
		{"cpuset-cpus", 0, 0, G_OPTION_ARG_STRING, &o.cpus, "host CPUs: ignored in the guest", "LIST"},
		{"cpuset-mems", 0, 0, G_OPTION_ARG_STRING, &o.mems, "host memory nodes: ignored in the guest", "LIST"},
		{"blkio-weight", 0, 0, G_OPTION_ARG_STRING, &o.blkio, "accepted, ignored", "N"},
		{"pids-limit", 0, 0, G_OPTION_ARG_STRING, &o.pids, "maximum number of processes", "N"},
		{"l3-cache-schema", 0, 0, G_OPTION_ARG_STRING, &o.l3, "accepted, ignored", "S"},
		{"mem-bw-schema", 0, 0, G_OPTION_ARG_STRING, &o.membw, "accepted, ignored", "S"},
		{NULL},
	};
	g_autoptr(GError) error = NULL;

	if (!vmctl_parse_verb_options("update", "ID", entries, &argc, &argv))
		return 1;
	if (argc != 2) {
		ck_log_error("update: expected exactly one container id");
		return 1;
	}
	const char *id = argv[1];
	g_autoptr(ContainerState) st = vmctl_read_state(ctx, id, &error);
	/* CRI-O's UpdateContainerResources comes here for trusted pods too;
	 * runc reads the same options (and --resources - from our stdin) */
	if (st != NULL && st->kind == CONTAINER_KIND_TRUSTED)
		return vmctl_delegate(ctx, st, orig);
	g_autofree char *json = st == NULL ? NULL
				: o.resources ? read_resources(o.resources, &error)
						: resources_from_flags(&o, &error);
	g_auto(yajl_val) tree = json ? ck_json_parse(json, strlen(json), "resources", &error) : NULL;
	if (tree == NULL || !runtime_update(ctx->root, id, tree, &error)) {
		ck_log_error("container %s: %s", id, error->message);
		return 1;
	}
	return 0;
}
