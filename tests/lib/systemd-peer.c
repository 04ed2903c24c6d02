/* systemd-peer: a stand-in for systemd's Manager on a private bus, for
 * the systemd cgroup driver's tests. The test host has no systemd as
 * PID 1 (and a real one must not be touched by tests), so the tests run
 * their own dbus-daemon and this peer, which owns org.freedesktop.systemd1
 * there and implements the Manager calls vmctl/lib/host-systemd.c makes:
 *
 *   Subscribe()
 *   StartTransientUnit(s name, s mode, a(sv) properties, a(sa(sv)) aux) -> o job
 *   StopUnit(s name, s mode) -> o job
 *   ResetFailedUnit(s name)
 *
 * Each call is appended to RECORD as one line ("StartTransientUnit
 * <name> <mode> <Prop>=<sig>:<value>... aux=<n>"); a job ends at once
 * with JobRemoved "done" ("failed" for starting a unit named fail-*). Starting a
 * unit that is running is UnitExists, stopping an unknown one NoSuchUnit,
 * as systemd answers. Prints "ready" once the name is owned.
 *
 * Usage: systemd-peer BUS-ADDRESS RECORD */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include <glib.h>

#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"

typedef struct {
	FILE *record;
	GHashTable *units; /* running unit names */
	guint32 next_job;
} Peer;

static void record(Peer *p, const char *line)
{
	fprintf(p->record, "%s\n", line);
	fflush(p->record);
}

/* One variant's value as text; unknown signatures as "?". */
static int format_variant(sd_bus_message *m, const char *sig, GString *out)
{
	int r;

	if (g_str_equal(sig, "s")) {
		const char *s;
		r = sd_bus_message_read(m, "s", &s);
		g_string_append(out, s);
	} else if (g_str_equal(sig, "b")) {
		int b;
		r = sd_bus_message_read(m, "b", &b);
		g_string_append(out, b ? "true" : "false");
	} else if (g_str_equal(sig, "t")) {
		uint64_t t;
		r = sd_bus_message_read(m, "t", &t);
		g_string_append_printf(out, "%" G_GUINT64_FORMAT, (guint64)t);
	} else if (g_str_equal(sig, "au")) {
		uint32_t u;
		r = sd_bus_message_enter_container(m, 'a', "u");
		g_string_append_c(out, '[');
		while (r >= 0 && (r = sd_bus_message_read(m, "u", &u)) > 0)
			g_string_append_printf(out, "%s%u", out->str[out->len - 1] == '[' ? "" : ",", u);
		g_string_append_c(out, ']');
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	} else {
		g_string_append_c(out, '?');
		r = sd_bus_message_skip(m, sig);
	}
	return r;
}

static int format_properties(sd_bus_message *m, GString *out)
{
	int r = sd_bus_message_enter_container(m, 'a', "(sv)");

	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
		const char *name, *sig;
		char type;
		r = sd_bus_message_read(m, "s", &name);
		if (r >= 0)
			r = sd_bus_message_peek_type(m, &type, &sig);
		if (r >= 0)
			r = sd_bus_message_enter_container(m, 'v', sig);
		if (r < 0)
			break;
		g_string_append_printf(out, " %s=%s:", name, sig);
		r = format_variant(m, sig, out);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	return r;
}

/* Replies with a new job's path, then announces its end. */
static int finish_job(Peer *p, sd_bus_message *m, const char *unit, gboolean start)
{
	guint32 id = ++p->next_job;
	g_autofree char *job = g_strdup_printf(SD_PATH "/job/%u", id);
	const char *result = start && g_str_has_prefix(unit, "fail-") ? "failed" : "done";

	int r = sd_bus_reply_method_return(m, "o", job);
	if (r < 0)
		return r;
	return sd_bus_emit_signal(sd_bus_message_get_bus(m), SD_PATH, SD_MANAGER, "JobRemoved", "uoss", id, job, unit,
				  result);
}

static int on_subscribe(sd_bus_message *m, void *data, sd_bus_error *e)
{
	(void)e;
	record(data, "Subscribe");
	return sd_bus_reply_method_return(m, "");
}

static int on_start(sd_bus_message *m, void *data, sd_bus_error *e)
{
	Peer *p = data;
	const char *name, *mode;
	g_autoptr(GString) line = g_string_new("StartTransientUnit");
	unsigned aux = 0;

	int r = sd_bus_message_read(m, "ss", &name, &mode);
	if (r < 0)
		return r;
	g_string_append_printf(line, " %s %s", name, mode);
	if ((r = format_properties(m, line)) < 0)
		return r;
	if ((r = sd_bus_message_enter_container(m, 'a', "(sa(sv))")) < 0)
		return r;
	while ((r = sd_bus_message_skip(m, "(sa(sv))")) > 0)
		aux++;
	g_string_append_printf(line, " aux=%u", aux);
	record(p, line->str);
	if (g_hash_table_contains(p->units, name))
		return sd_bus_error_setf(e, "org.freedesktop.systemd1.UnitExists", "Unit %s already exists.", name);
	g_hash_table_add(p->units, g_strdup(name));
	return finish_job(p, m, name, TRUE);
}

static int on_stop(sd_bus_message *m, void *data, sd_bus_error *e)
{
	Peer *p = data;
	const char *name, *mode;

	int r = sd_bus_message_read(m, "ss", &name, &mode);
	if (r < 0)
		return r;
	g_autofree char *line = g_strdup_printf("StopUnit %s %s", name, mode);
	record(p, line);
	if (!g_hash_table_remove(p->units, name))
		return sd_bus_error_setf(e, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.", name);
	return finish_job(p, m, name, FALSE);
}

static int on_reset_failed(sd_bus_message *m, void *data, sd_bus_error *e)
{
	const char *name;

	(void)e;
	int r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	g_autofree char *line = g_strdup_printf("ResetFailedUnit %s", name);
	record(data, line);
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable manager_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("Subscribe", "", "", on_subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "o", on_start, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("StopUnit", "ss", "o", on_stop, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ResetFailedUnit", "s", "", on_reset_failed, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
    SD_BUS_VTABLE_END,
};

int main(int argc, char **argv)
{
	Peer p = {.units = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
	sd_bus *bus = NULL;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: systemd-peer BUS-ADDRESS RECORD\n");
		return 2;
	}
	p.record = fopen(argv[2], "ae");
	if (p.record == NULL) {
		fprintf(stderr, "systemd-peer: open %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, argv[1])) < 0 ||
	    (r = sd_bus_set_bus_client(bus, 1)) < 0 || (r = sd_bus_start(bus)) < 0 ||
	    (r = sd_bus_add_object_vtable(bus, NULL, SD_PATH, SD_MANAGER, manager_vtable, &p)) < 0 ||
	    (r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0)) < 0) {
		fprintf(stderr, "systemd-peer: %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		r = sd_bus_process(bus, NULL);
		if (r < 0) {
			fprintf(stderr, "systemd-peer: %s\n", strerror(-r));
			return 1;
		}
		if (r == 0 && (r = sd_bus_wait(bus, UINT64_MAX)) < 0 && r != -EINTR)
			return 1;
	}
}
