/* host-systemd: transient scopes through sd-bus (see host-systemd.h). */
#include "host-systemd.h"

#include <errno.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "base/ck-error.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SYSTEM_BUS_DEFAULT "unix:path=/run/dbus/system_bus_socket"
#define JOB_TIMEOUT_SEC 30
#define CPU_PERIOD_DEFAULT 100000

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus, sd_bus_flush_close_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_message, sd_bus_message_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(sd_bus_slot, sd_bus_slot_unref)

static const char *bus_address(void)
{
	const char *a = g_getenv("DBUS_SYSTEM_BUS_ADDRESS");
	return a != NULL && *a != '\0' ? a : SYSTEM_BUS_DEFAULT;
}

static gboolean valid_unit_part(const char *s)
{
	return strchr(s, '/') == NULL && strlen(s) < 200;
}

gboolean host_systemd_unit_of(const char *cgroups_path, char **slice, char **unit, GError **error)
{
	g_auto(GStrv) parts = cgroups_path != NULL ? g_strsplit(cgroups_path, ":", -1) : NULL;

	if (parts == NULL || g_strv_length(parts) != 3 || parts[2][0] == '\0' || !valid_unit_part(parts[0]) ||
	    !valid_unit_part(parts[1]) || !valid_unit_part(parts[2]) ||
	    (parts[0][0] != '\0' && !g_str_has_suffix(parts[0], ".slice")))
		return ck_set_error(error, CK_ERROR_INVALID,
				    "cgroupsPath %s: not slice:prefix:name, as --systemd-cgroup requires",
				    cgroups_path != NULL ? cgroups_path : "(none)");
	if (g_str_has_suffix(parts[2], ".slice"))
		return ck_set_error(error, CK_ERROR_UNSUPPORTED,
				    "cgroupsPath %s: a slice as the container's own unit is not supported",
				    cgroups_path);
	*slice = g_strdup(parts[0][0] != '\0' ? parts[0] : "system.slice");
	*unit = parts[1][0] != '\0' ? g_strdup_printf("%s-%s.scope", parts[1], parts[2])
				    : g_strdup_printf("%s.scope", parts[2]);
	return TRUE;
}

/* What the bus said, as one bounded line (it comes from another process). */
static char *bus_text(const sd_bus_error *e)
{
	char *text = g_strndup(e->message != NULL ? e->message : e->name, 256);

	return g_strdelimit(text, "\n\r\t", ' ');
}

static gboolean bus_error(GError **error, int r, const sd_bus_error *e, const char *what, const char *unit)
{
	if (e != NULL && sd_bus_error_is_set(e)) {
		g_autofree char *text = bus_text(e);
		return ck_set_error(error, CK_ERROR_FAILED, "systemd cgroup: %s %s on the system bus (%s): %s", what,
				    unit, bus_address(), text);
	}
	return ck_set_error_errno(error, -r, "systemd cgroup: %s %s on the system bus (%s)", what, unit, bus_address());
}

static sd_bus *bus_open(GError **error)
{
	sd_bus *bus = NULL;
	int r = sd_bus_open_system(&bus);

	if (r < 0)
		return ck_set_error_errno(error, -r, "systemd cgroup: connect to the system bus (%s)", bus_address()),
		       NULL;
	return bus;
}

/* --- waiting for a job ------------------------------------------------------ */

typedef struct {
	const char *job;
	char *result;
} JobWait;

static int on_job_removed(sd_bus_message *m, void *data, sd_bus_error *ret_error)
{
	JobWait *w = data;
	uint32_t id;
	const char *path, *unit, *result;

	(void)ret_error;
	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0 || w->job == NULL)
		return 0;
	if (g_str_equal(path, w->job) && w->result == NULL)
		w->result = g_strdelimit(g_strndup(result, 64), "\n\r\t", ' ');
	return 0;
}

/* Calls method (unit first argument) and waits for its job's end. */
static gboolean run_job(sd_bus *bus, const char *unit, const char *what, sd_bus_message *call, GError **error)
{
	g_autoptr(sd_bus_slot) slot = NULL;
	g_autoptr(sd_bus_message) reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	JobWait w = {0};
	const char *job;

	int r = sd_bus_match_signal(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed, &w);
	if (r >= 0)
		r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", &e, NULL, "");
	if (r >= 0)
		r = sd_bus_call(bus, call, 0, &e, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &job);
	if (r < 0) {
		gboolean gone =
		    sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit") && g_str_equal(what, "stop");
		gboolean ok = gone || bus_error(error, r, &e, what, unit);
		sd_bus_error_free(&e);
		return ok;
	}
	w.job = job;
	gint64 deadline = g_get_monotonic_time() + JOB_TIMEOUT_SEC * G_USEC_PER_SEC;
	while (w.result == NULL) {
		r = sd_bus_process(bus, NULL);
		if (r > 0)
			continue;
		gint64 left = deadline - g_get_monotonic_time();
		if (r < 0 || left <= 0 || (r = sd_bus_wait(bus, (uint64_t)left)) < 0)
			return bus_error(error, r < 0 ? r : -ETIMEDOUT, NULL, what, unit);
	}
	g_autofree char *result = w.result;
	if (!g_str_equal(result, "done"))
		return ck_set_error(error, CK_ERROR_FAILED, "systemd cgroup: %s %s: job %s", what, unit, result);
	return TRUE;
}

/* --- StartTransientUnit ----------------------------------------------------- */

static int add_bool(sd_bus_message *m, const char *name, gboolean v)
{
	return sd_bus_message_append(m, "(sv)", name, "b", (int)v);
}

static int add_u64(sd_bus_message *m, const char *name, guint64 v)
{
	return sd_bus_message_append(m, "(sv)", name, "t", (uint64_t)v);
}

/* runc's CPUQuotaPerSecUSec: quota per period as µs per second, rounded
 * up to systemd's 10 ms granularity; a negative quota is no limit. */
static guint64 quota_per_sec(gint64 quota, guint64 period)
{
	if (quota <= 0)
		return G_MAXUINT64;
	guint64 usec = (guint64)quota * 1000000 / (period != 0 ? period : CPU_PERIOD_DEFAULT);
	return usec % 10000 != 0 ? (usec / 10000 + 1) * 10000 : usec;
}

/* The resource properties runc sets on a unit (its systemd v1 and v2
 * managers): memory, CPU shares or weight, CPU quota and period, tasks. */
static int add_resources(sd_bus_message *m, const OciResources *res, gboolean unified)
{
	int r = 0;

	if (res->memory_limit != 0)
		r = add_u64(m, unified ? "MemoryMax" : "MemoryLimit",
			    res->memory_limit > 0 ? (guint64)res->memory_limit : G_MAXUINT64);
	if (r >= 0 && unified && res->memory_reservation > 0)
		r = add_u64(m, "MemoryLow", (guint64)res->memory_reservation);
	if (r >= 0 && res->cpu_shares != 0)
		r = unified ? add_u64(m, "CPUWeight", 1 + ((CLAMP(res->cpu_shares, 2, 262144) - 2) * 9999) / 262142)
			    : add_u64(m, "CPUShares", res->cpu_shares);
	if (r >= 0 && (res->cpu_quota != 0 || res->cpu_period != 0))
		r = add_u64(m, "CPUQuotaPerSecUSec", quota_per_sec(res->cpu_quota, res->cpu_period));
	if (r >= 0 && res->cpu_period != 0)
		r = add_u64(m, "CPUQuotaPeriodUSec", res->cpu_period);
	if (r >= 0 && res->has_pids_limit && res->pids_limit != 0)
		r = add_u64(m, "TasksMax", res->pids_limit > 0 ? (guint64)res->pids_limit : G_MAXUINT64);
	return r;
}

static int add_properties(sd_bus_message *m, const char *slice, const char *unit, pid_t pid, const OciResources *res,
			  gboolean unified)
{
	g_autofree char *desc = g_strdup_printf("conmon-kata container %s", unit);
	int r = sd_bus_message_open_container(m, 'a', "(sv)");

	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)(sv)", "Description", "s", desc, "Slice", "s", slice);
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t)pid);
	if (r >= 0)
		r = add_bool(m, "Delegate", TRUE);
	if (r >= 0)
		r = add_bool(m, "MemoryAccounting", TRUE);
	if (r >= 0)
		r = add_bool(m, "CPUAccounting", TRUE);
	if (r >= 0)
		r = add_bool(m, unified ? "IOAccounting" : "BlockIOAccounting", TRUE);
	if (r >= 0)
		r = add_bool(m, "TasksAccounting", TRUE);
	if (r >= 0)
		r = add_bool(m, "DefaultDependencies", FALSE);
	if (r >= 0 && res != NULL)
		r = add_resources(m, res, unified);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r;
}

gboolean host_systemd_start_scope(const char *cgroups_path, pid_t pid, const OciResources *res, gboolean unified,
				  char **unit, GError **error)
{
	g_autofree char *slice = NULL;
	g_autofree char *name = NULL;
	g_autoptr(sd_bus_message) call = NULL;

	if (!host_systemd_unit_of(cgroups_path, &slice, &name, error))
		return FALSE;
	g_autoptr(sd_bus) bus = bus_open(error);
	if (bus == NULL)
		return FALSE;
	int r = sd_bus_message_new_method_call(bus, &call, SD_DEST, SD_PATH, SD_MANAGER, "StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(call, "ss", name, "fail");
	if (r >= 0)
		r = add_properties(call, slice, name, pid, res, unified);
	if (r >= 0)
		r = sd_bus_message_append(call, "a(sa(sv))", 0);
	if (r < 0)
		return bus_error(error, r, NULL, "start", name);
	if (!run_job(bus, name, "start", call, error))
		return FALSE;
	*unit = g_steal_pointer(&name);
	return TRUE;
}

gboolean host_systemd_stop_scope(const char *unit, GError **error)
{
	g_autoptr(sd_bus_message) call = NULL;
	g_autoptr(sd_bus) bus = bus_open(error);

	if (bus == NULL)
		return FALSE;
	int r = sd_bus_message_new_method_call(bus, &call, SD_DEST, SD_PATH, SD_MANAGER, "StopUnit");
	if (r >= 0)
		r = sd_bus_message_append(call, "ss", unit, "replace");
	if (r < 0)
		return bus_error(error, r, NULL, "stop", unit);
	if (!run_job(bus, unit, "stop", call, error))
		return FALSE;
	/* as runc: a scope whose processes were killed is left "failed" */
	(void)sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "ResetFailedUnit", NULL, NULL, "s", unit);
	return TRUE;
}
