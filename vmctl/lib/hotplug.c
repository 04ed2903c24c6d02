/* hotplug: vCPU and DIMM hot-plug through QMP (see hotplug.h). */
#include "hotplug.h"

#include "base/ck-error.h"
#include "base/ck-json.h"

#define QMP_TIMEOUT_MS 10000

static gboolean device_add_cpu(QmpClient *qmp, yajl_val slot, int index, GError **error)
{
	yajl_val type = ck_json_get(slot, "type");
	yajl_val props = ck_json_get(slot, "props");
	g_autoptr(CkJsonGen) g = ck_json_gen_new();

	if (type == NULL || !YAJL_IS_STRING(type) || props == NULL || !YAJL_IS_OBJECT(props))
		return ck_set_error(error, CK_ERROR_FAILED, "QMP query-hotpluggable-cpus: unexpected answer");
	ck_json_map_open(g);
	ck_json_kv_string(g, "driver", type->u.string);
	g_autofree char *id = g_strdup_printf("cpu-%d", index);
	ck_json_kv_string(g, "id", id);
	for (size_t i = 0; i < props->u.object.len; i++) {
		ck_json_key(g, props->u.object.keys[i]);
		ck_json_value(g, props->u.object.values[i]);
	}
	ck_json_map_close(g);
	g_autofree char *args = ck_json_gen_finish(g, NULL, error);
	return args != NULL && qmp_client_execute(qmp, "device_add", args, QMP_TIMEOUT_MS, NULL, error);
}

gboolean hotplug_cpus(QmpClient *qmp, int want, int *out_present, GError **error)
{
	g_auto(yajl_val) reply = NULL;

	if (!qmp_client_execute(qmp, "query-hotpluggable-cpus", NULL, QMP_TIMEOUT_MS, &reply, error))
		return FALSE;
	yajl_val slots = ck_json_get(reply, "return");
	if (slots == NULL || !YAJL_IS_ARRAY(slots))
		return ck_set_error(error, CK_ERROR_FAILED, "QMP query-hotpluggable-cpus: unexpected answer");

	int present = 0;
	for (size_t i = 0; i < slots->u.array.len; i++)
		present += ck_json_get(slots->u.array.values[i], "qom-path") != NULL;
	/* QEMU lists the slots highest first: fill from the end */
	for (size_t i = slots->u.array.len; i > 0 && present < want; i--) {
		yajl_val slot = slots->u.array.values[i - 1];
		if (ck_json_get(slot, "qom-path") != NULL)
			continue;
		if (!device_add_cpu(qmp, slot, present, error))
			return FALSE;
		present++;
	}
	*out_present = present;
	return TRUE;
}

gboolean hotplug_memory(QmpClient *qmp, guint index, guint64 size_mib, GError **error)
{
	g_autofree char *backend = g_strdup_printf("{\"qom-type\":\"memory-backend-memfd\",\"id\":\"hotmem%u\","
						   "\"size\":%" G_GUINT64_FORMAT "}",
						   index, size_mib * 1024 * 1024);
	g_autofree char *dimm = g_strdup_printf("{\"driver\":\"pc-dimm\",\"id\":\"dimm%u\",\"memdev\":\"hotmem%u\"}",
						index, index);

	if (!qmp_client_execute(qmp, "object-add", backend, QMP_TIMEOUT_MS, NULL, error))
		return FALSE;
	if (!qmp_client_execute(qmp, "device_add", dimm, QMP_TIMEOUT_MS, NULL, error)) {
		g_autofree char *del = g_strdup_printf("{\"id\":\"hotmem%u\"}", index);
		(void)qmp_client_execute(qmp, "object-del", del, QMP_TIMEOUT_MS, NULL, NULL);
		return FALSE;
	}
	return TRUE;
}
