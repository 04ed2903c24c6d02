/* vmctl events: runc's `events` for a VM container. `--stats` prints the
 * container's statistics once; without it they follow every --interval
 * (runc's default 5s) until the container stops. Each is one compact line,
 * {"type":"stats","id":...,"data":{...}}, the data in runc 1.1's shape
 * (libcontainer's types.Stats as Go encodes it: its fields in its order,
 * empty ones left out where runc's tags say omitempty) with what the
 * guest's cgroup v2 reports (stats_container, docs/protocol.md), converted
 * as runc converts cgroup v2 files: times in nanoseconds, memory.stat's
 * anon and file in `raw` (file as `cache`). What the guest does not report
 * (per-CPU times, cpuset, blkio, hugetlb) is left empty, and the memory
 * limit is the spec's (the guest's is not reported), unlimited without
 * one. A trusted container's events are runc's own.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-json.h"
#include "base/ck-log.h"
#include "base/ck-parse.h"
#include "lib/runtime-ops.h"
#include "lib/state.h"
#include "vmctl.h"

#define DEFAULT_INTERVAL_MS 5000

/* A statistic the guest could not read (-1) counts as 0. */
static guint64 num(gint64 v)
{
	return v > 0 ? (guint64)v : 0;
}

/* Microseconds from the guest in nanoseconds, saturated: whatever the
 * guest says, the number stays a number. */
static guint64 ns(guint64 us)
{
	return us > G_MAXUINT64 / 1000 ? G_MAXUINT64 : us * 1000;
}

/* A Go uint64 field with `omitempty`: written only when not 0. */
static void kv_omitempty(CkJsonGen *g, const char *key, guint64 v)
{
	if (v == 0)
		return;
	ck_json_key(g, key);
	ck_json_uint64(g, v);
}

static void kv_u64(CkJsonGen *g, const char *key, guint64 v)
{
	ck_json_key(g, key);
	ck_json_uint64(g, v);
}

static void write_cpu(CkJsonGen *g, const CkStatsResult *s)
{
	ck_json_key(g, "cpu");
	ck_json_map_open(g);
	ck_json_key(g, "usage");
	ck_json_map_open(g);
	kv_omitempty(g, "total", ns(num(s->cpu.usage_usec)));
	kv_u64(g, "kernel", ns(num(s->cpu.system_usec)));
	kv_u64(g, "user", ns(num(s->cpu.user_usec)));
	ck_json_map_close(g);
	ck_json_key(g, "throttling");
	ck_json_map_open(g);
	kv_omitempty(g, "throttled_periods", num(s->cpu.nr_throttled));
	kv_omitempty(g, "throttled_time", ns(num(s->cpu.throttled_usec)));
	ck_json_map_close(g);
	ck_json_map_close(g);
}

static void write_cpuset(CkJsonGen *g)
{
	static const char *const zero[] = {"cpu_exclusive",	 "mem_hardwall",       "mem_exclusive",
					   "memory_migrate",	 "memory_spread_page", "memory_spread_slab",
					   "memory_pressure",	 "sched_load_balance", "sched_relax_domain_level",
					   NULL};

	ck_json_key(g, "cpuset");
	ck_json_map_open(g);
	for (const char *const *k = zero; *k != NULL; k++)
		kv_u64(g, *k, 0);
	ck_json_map_close(g);
}

/* runc's MemoryEntry: limit, usage and max (omitempty), failcnt. */
static void memory_entry(CkJsonGen *g, const char *key, guint64 limit, guint64 usage, guint64 max)
{
	ck_json_key(g, key);
	ck_json_map_open(g);
	kv_u64(g, "limit", limit);
	kv_omitempty(g, "usage", usage);
	kv_omitempty(g, "max", max);
	kv_u64(g, "failcnt", 0);
	ck_json_map_close(g);
}

static void write_memory(CkJsonGen *g, const CkStatsResult *s, guint64 limit)
{
	ck_json_key(g, "memory");
	ck_json_map_open(g);
	kv_omitempty(g, "cache", num(s->memory.file));
	memory_entry(g, "usage", limit, num(s->memory.usage), num(s->memory.max_usage));
	memory_entry(g, "swap", 0, 0, 0);
	memory_entry(g, "kernel", 0, 0, 0);
	memory_entry(g, "kernelTCP", 0, 0, 0);
	ck_json_key(g, "raw");
	ck_json_map_open(g);
	kv_u64(g, "anon", num(s->memory.anon));
	kv_u64(g, "file", num(s->memory.file));
	ck_json_map_close(g);
	ck_json_map_close(g);
}

static void empty_map(CkJsonGen *g, const char *key)
{
	ck_json_key(g, key);
	ck_json_map_open(g);
	ck_json_map_close(g);
}

/* One event line, as runc's json.Encoder writes it. */
static char *stats_event(const char *id, const CkStatsResult *s, guint64 limit, GError **error)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();

	ck_json_map_open(g);
	ck_json_kv_string(g, "type", "stats");
	ck_json_kv_string(g, "id", id);
	ck_json_key(g, "data");
	ck_json_map_open(g);
	write_cpu(g, s);
	write_cpuset(g);
	write_memory(g, s, limit);
	ck_json_key(g, "pids");
	ck_json_map_open(g);
	kv_omitempty(g, "current", num(s->pids.current));
	ck_json_map_close(g);
	empty_map(g, "blkio");
	empty_map(g, "hugetlb");
	empty_map(g, "intel_rdt");
	ck_json_key(g, "network_interfaces");
	ck_json_null(g);
	ck_json_map_close(g);
	ck_json_map_close(g);
	return ck_json_gen_finish_layout(g, NULL, error);
}

/* The spec's memory limit, or unlimited (runc's "max": all ones). */
static guint64 memory_limit(const char *root, const char *id)
{
	g_autoptr(OciSpec) spec = container_state_load_spec(root, id, NULL);

	if (spec != NULL && spec->has_resources && spec->resources.memory_limit > 0)
		return (guint64)spec->resources.memory_limit;
	return G_MAXUINT64;
}

static gboolean print_stats(const char *root, const char *id, guint64 limit, GError **error)
{
	CkStatsResult result = {0};

	/* the guest's words: groups of numbers, each checked as it is decoded */
	if (!runtime_stats(root, id, &result, error))
		return FALSE;
	g_autofree char *line = stats_event(id, &result, limit, error);
	if (line == NULL)
		return FALSE;
	printf("%s\n", line);
	return fflush(stdout) == 0;
}

/* Go's time.Duration text for the intervals one would give: "5s",
 * "500ms", "2m", "1h"; at least 1ms. */
static gboolean parse_interval(const char *text, guint64 *out_ms, GError **error)
{
	static const struct {
		const char *unit;
		guint64 ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	char *end = NULL;
	guint64 n = g_ascii_strtoull(text, &end, 10);

	for (gsize i = 0; end != text && i < G_N_ELEMENTS(units); i++) {
		if (g_str_equal(end, units[i].unit) && n > 0 && n <= G_MAXUINT32) {
			*out_ms = n * units[i].ms;
			return TRUE;
		}
	}
	return ck_set_error(error, CK_ERROR_INVALID, "invalid value \"%s\" for flag -interval: time: invalid duration",
			    text);
}

int cmd_events(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	g_autofree char *interval = NULL;
	gboolean stats = FALSE;
	GOptionEntry entries[] = {
		{"interval", 0, 0, G_OPTION_ARG_STRING, &interval, "the time between stats (default 5s)", "DURATION"},
		{"stats", 0, 0, G_OPTION_ARG_NONE, &stats, "print the statistics once and exit", NULL},
		{NULL},
	};
	g_autoptr(GError) error = NULL;
	guint64 interval_ms = DEFAULT_INTERVAL_MS;

	if (!vmctl_parse_verb_options("events", "ID", entries, &argc, &argv))
		return 1;
	if (argc != 2) {
		ck_log_error("events: expected one container id");
		return 1;
	}
	if (interval != NULL && !parse_interval(interval, &interval_ms, &error)) {
		ck_log_error("%s", error->message);
		return 1;
	}
	const char *id = argv[1];
	g_autoptr(ContainerState) st = vmctl_read_state(ctx, id, &error);
	if (st == NULL) {
		ck_log_error("container %s: %s", id, error->message);
		return 1;
	}
	if (st->kind == CONTAINER_KIND_TRUSTED)
		return vmctl_delegate(ctx, st, orig);
	guint64 limit = memory_limit(ctx->root, id);
	do {
		if (!print_stats(ctx->root, id, limit, &error)) {
			/* the stream ends when the container does, as runc's */
			if (!stats && g_error_matches(error, CK_ERROR, CK_ERROR_NOT_FOUND))
				return 0;
			ck_log_error("container %s: %s", id, error->message);
			return 1;
		}
		if (!stats)
			g_usleep(interval_ms * 1000);
	} while (!stats);
	return 0;
}
