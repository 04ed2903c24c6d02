/* ck-ops: the operation and event tables and each message's fields (see
 * ck-ops.h). A message's fields are listed once, here, for both ends. */
#include "ck-ops.h"

#include <string.h>

#include "base/ck-error.h"

/* --- the codec ----------------------------------------------------------------- */

static gboolean is_empty(const CkJsonField *f, gconstpointer field)
{
	switch (f->type) {
	case CK_JSON_STRING:
	case CK_JSON_STRV:
		return *(char *const *)field == NULL;
	case CK_JSON_OBJECT:
	case CK_JSON_ARRAY:
	case CK_JSON_ANY:
		return *(const yajl_val *)field == NULL;
	case CK_JSON_INT64:
		return *(const gint64 *)field == 0;
	case CK_JSON_INT:
	case CK_JSON_BOOL:
		return *(const int *)field == 0;
	case CK_JSON_UINT32:
		return *(const guint32 *)field == 0;
	case CK_JSON_UINT64:
		return *(const guint64 *)field == 0;
	default:
		return FALSE;
	}
}

static void encode_field(const CkMsgType *type, CkJsonGen *g, const CkJsonField *f, gconstpointer msg)
{
	gconstpointer field = (const char *)msg + f->offset;

	if (f->type == CK_JSON_IGNORE || ((f->flags & CK_MSG_OMIT_EMPTY) && is_empty(f, field)))
		return;
	if (f->type == CK_JSON_CUSTOM) {
		type->encode_custom(g, f, msg);
		return;
	}
	ck_json_key(g, f->key);
	switch (f->type) {
	case CK_JSON_STRING:
		ck_json_string(g, *(char *const *)field);
		break;
	case CK_JSON_INT64:
		/* a nullable number: -1 stands for null */
		if ((f->flags & CK_JSON_NULLABLE) && *(const gint64 *)field < 0)
			ck_json_null(g);
		else
			ck_json_int(g, *(const gint64 *)field);
		break;
	case CK_JSON_INT:
		ck_json_int(g, *(const int *)field);
		break;
	case CK_JSON_UINT32:
		ck_json_int(g, *(const guint32 *)field);
		break;
	case CK_JSON_UINT64:
		ck_json_uint64(g, *(const guint64 *)field);
		break;
	case CK_JSON_BOOL:
		ck_json_bool(g, *(const gboolean *)field);
		break;
	case CK_JSON_STRV:
		ck_json_strv(g, *(const char *const *const *)field);
		break;
	default: /* OBJECT, ARRAY, ANY */
		if (*(const yajl_val *)field == NULL)
			ck_json_null(g);
		else
			ck_json_value(g, *(const yajl_val *)field);
		break;
	}
}

void ck_msg_encode(const CkMsgType *type, CkJsonGen *g, gconstpointer msg)
{
	for (const CkJsonField *f = type->fields; f->key != NULL; f++)
		encode_field(type, g, f, msg);
}

gboolean ck_msg_decode(const CkMsgType *type, yajl_val obj, gpointer msg, CkJsonMode mode, GError **error)
{
	if (ck_json_dispatch(obj, type->fields, msg, "", mode, error))
		return TRUE;
	g_prefix_error(error, "%s: ", type->what);
	return FALSE;
}

void ck_msg_clear(const CkMsgType *type, gpointer msg)
{
	if (msg == NULL)
		return;
	for (const CkJsonField *f = type->fields; f->key != NULL; f++) {
		gpointer field = (char *)msg + f->offset;
		if (f->type == CK_JSON_STRING)
			g_clear_pointer((char **)field, g_free);
		else if (f->type == CK_JSON_STRV)
			g_clear_pointer((char ***)field, g_strfreev);
	}
	if (type->clear_custom != NULL)
		type->clear_custom(msg);
}

/* --- field tables ------------------------------------------------------------------ */

#define FIELD(T, key, type, member, flags)                               \
	{                                                                \
		key, type, G_STRUCT_OFFSET(T, member), flags, 0, 0, NULL \
	}
#define RANGE(T, key, member, flags, min, max)                                      \
	{                                                                           \
		key, CK_JSON_INT, G_STRUCT_OFFSET(T, member), flags, min, max, NULL \
	}
#define CUSTOM(T, key, member, flags, fn)                                        \
	{                                                                        \
		key, CK_JSON_CUSTOM, G_STRUCT_OFFSET(T, member), flags, 0, 0, fn \
	}
/* a request's "op" is the envelope's, not an argument */
#define OP_KEY                                         \
	{                                              \
		"op", CK_JSON_IGNORE, 0, 0, 0, 0, NULL \
	}
#define END                               \
	{                                 \
		NULL, 0, 0, 0, 0, 0, NULL \
	}
#define OMIT CK_MSG_OMIT_EMPTY
#define NULLABLE CK_JSON_NULLABLE
#define REQUIRED CK_JSON_REQUIRED

/* version */
static const CkJsonField version_args_fields[] = {
    OP_KEY,
    FIELD(CkVersionArgs, "protocol", CK_JSON_INT64, protocol, OMIT),
    END,
};
static const CkMsgType version_args = {"version", version_args_fields, NULL, NULL, sizeof(CkVersionArgs)};

static const CkJsonField version_result_fields[] = {
    FIELD(CkVersionResult, "protocol", CK_JSON_INT64, protocol, 0),
    FIELD(CkVersionResult, "agent_version", CK_JSON_STRING, agent_version, NULLABLE),
    FIELD(CkVersionResult, "agent_commit", CK_JSON_STRING, agent_commit, NULLABLE),
    FIELD(CkVersionResult, "kernel_release", CK_JSON_STRING, kernel_release, NULLABLE),
    FIELD(CkVersionResult, "kernel_version", CK_JSON_STRING, kernel_version, NULLABLE),
    FIELD(CkVersionResult, "machine", CK_JSON_STRING, machine, NULLABLE),
    FIELD(CkVersionResult, "uptime_us", CK_JSON_INT64, uptime_us, REQUIRED),
    FIELD(CkVersionResult, "init_start_us", CK_JSON_INT64, init_start_us, 0),
    FIELD(CkVersionResult, "ready_us", CK_JSON_INT64, ready_us, 0),
    FIELD(CkVersionResult, "mem_total_kib", CK_JSON_INT64, mem_total_kib, 0),
    FIELD(CkVersionResult, "cpus_online", CK_JSON_INT64, cpus_online, 0),
    FIELD(CkVersionResult, "modules_loaded", CK_JSON_INT64, modules_loaded, 0),
    FIELD(CkVersionResult, "compat_abis", CK_JSON_STRV, compat_abis, OMIT | NULLABLE),
    FIELD(CkVersionResult, "seccomp_bpf", CK_JSON_BOOL, seccomp_bpf, OMIT),
    END,
};
static const CkMsgType version_result = {"version result", version_result_fields, NULL, NULL, sizeof(CkVersionResult)};

/* clone_identity */
static const CkJsonField clone_args_fields[] = {
    OP_KEY,
    FIELD(CkCloneIdentityArgs, "entropy", CK_JSON_STRING, entropy, REQUIRED),
    FIELD(CkCloneIdentityArgs, "realtime_ns", CK_JSON_INT64, realtime_ns, REQUIRED),
    FIELD(CkCloneIdentityArgs, "rescan_pci", CK_JSON_BOOL, rescan_pci, 0),
    END,
};
static const CkMsgType clone_args = {"clone_identity", clone_args_fields, NULL, NULL, sizeof(CkCloneIdentityArgs)};

static const CkJsonField clone_result_fields[] = {
    FIELD(CkCloneIdentityResult, "boot_id", CK_JSON_STRING, boot_id, OMIT | NULLABLE),
    END,
};
static const CkMsgType clone_result = {"clone_identity result", clone_result_fields, NULL, NULL,
				       sizeof(CkCloneIdentityResult)};

/* setup_network: lists of structs, each entry through its own table */
static const CkJsonField iface_fields[] = {
    FIELD(CkNetInterface, "name", CK_JSON_STRING, name, REQUIRED),
    FIELD(CkNetInterface, "mac", CK_JSON_STRING, mac, REQUIRED),
    RANGE(CkNetInterface, "mtu", mtu, REQUIRED, 68, 65535),
    FIELD(CkNetInterface, "addresses", CK_JSON_STRV, addresses, NULLABLE),
    END,
};

static const CkJsonField route_fields[] = {
    FIELD(CkNetRoute, "dest", CK_JSON_STRING, dest, REQUIRED),
    FIELD(CkNetRoute, "device", CK_JSON_STRING, device, REQUIRED),
    FIELD(CkNetRoute, "gateway", CK_JSON_STRING, gateway, NULLABLE | OMIT),
    FIELD(CkNetRoute, "source", CK_JSON_STRING, source, NULLABLE | OMIT),
    FIELD(CkNetRoute, "metric", CK_JSON_UINT32, metric, OMIT),
    FIELD(CkNetRoute, "onlink", CK_JSON_BOOL, onlink, OMIT),
    END,
};

static const CkMsgType iface_type = {"interface", iface_fields, NULL, NULL, sizeof(CkNetInterface)};
static const CkMsgType route_type = {"route", route_fields, NULL, NULL, sizeof(CkNetRoute)};

/* A JSON array of at most max objects into a new array of structs. */
static gboolean decode_list(yajl_val v, const char *path, const CkJsonField *fields, gsize size, guint max,
			    gpointer *out, guint *out_n, GError **error)
{
	if (!YAJL_IS_ARRAY(v))
		return ck_set_error(error, CK_ERROR_INVALID, "%s: expected an array, got %s", path,
				    ck_json_type_name(v));
	if (v->u.array.len > max)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: %" G_GSIZE_FORMAT " entries, at most %u", path,
				    v->u.array.len, max);
	*out = g_malloc0_n(MAX(v->u.array.len, 1), size);
	for (gsize i = 0; i < v->u.array.len; i++) {
		g_autofree char *p = ck_json_path_index(path, i);
		*out_n = (guint)i + 1;
		if (!ck_json_dispatch(v->u.array.values[i], fields, (char *)*out + i * size, p, CK_JSON_STRICT, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean decode_interfaces(yajl_val v, const char *path, gpointer field, GError **error)
{
	CkSetupNetworkArgs *a = (CkSetupNetworkArgs *)((char *)field - G_STRUCT_OFFSET(CkSetupNetworkArgs, interfaces));

	return decode_list(v, path, iface_fields, sizeof(CkNetInterface), CK_NET_MAX_IFACES, (gpointer *)&a->interfaces,
			   &a->n_interfaces, error);
}

static gboolean decode_routes(yajl_val v, const char *path, gpointer field, GError **error)
{
	CkSetupNetworkArgs *a = (CkSetupNetworkArgs *)((char *)field - G_STRUCT_OFFSET(CkSetupNetworkArgs, routes));

	return decode_list(v, path, route_fields, sizeof(CkNetRoute), CK_NET_MAX_ROUTES, (gpointer *)&a->routes,
			   &a->n_routes, error);
}

static void encode_network(CkJsonGen *g, const CkJsonField *f, gconstpointer msg)
{
	const CkSetupNetworkArgs *a = msg;
	gboolean ifaces = f->offset == G_STRUCT_OFFSET(CkSetupNetworkArgs, interfaces);
	guint n = ifaces ? a->n_interfaces : a->n_routes;

	ck_json_key(g, f->key);
	ck_json_array_open(g);
	for (guint i = 0; i < n; i++) {
		ck_json_map_open(g);
		if (ifaces)
			ck_msg_encode(&iface_type, g, &a->interfaces[i]);
		else
			ck_msg_encode(&route_type, g, &a->routes[i]);
		ck_json_map_close(g);
	}
	ck_json_array_close(g);
}

static void clear_network(gpointer msg)
{
	CkSetupNetworkArgs *a = msg;

	for (guint i = 0; i < a->n_interfaces; i++)
		ck_msg_clear(&iface_type, &a->interfaces[i]);
	for (guint i = 0; i < a->n_routes; i++)
		ck_msg_clear(&route_type, &a->routes[i]);
	g_clear_pointer(&a->interfaces, g_free);
	g_clear_pointer(&a->routes, g_free);
	a->n_interfaces = a->n_routes = 0;
}

static const CkJsonField network_args_fields[] = {
    OP_KEY,
    CUSTOM(CkSetupNetworkArgs, "interfaces", interfaces, REQUIRED, decode_interfaces),
    CUSTOM(CkSetupNetworkArgs, "routes", routes, NULLABLE, decode_routes),
    END,
};
static const CkMsgType network_args = {"setup_network", network_args_fields, encode_network, clear_network,
				       sizeof(CkSetupNetworkArgs)};

/* create_sandbox */
static const CkJsonField sandbox_args_fields[] = {
    OP_KEY,
    FIELD(CkCreateSandboxArgs, "hostname", CK_JSON_STRING, hostname, NULLABLE),
    FIELD(CkCreateSandboxArgs, "share_tag", CK_JSON_STRING, share_tag, NULLABLE),
    FIELD(CkCreateSandboxArgs, "msize_9p", CK_JSON_UINT32, msize_9p, OMIT),
    FIELD(CkCreateSandboxArgs, "sysctl", CK_JSON_OBJECT, sysctl, NULLABLE | OMIT),
    FIELD(CkCreateSandboxArgs, "guest_hook_path", CK_JSON_STRING, guest_hook_path, NULLABLE | OMIT),
    END,
};
static const CkMsgType sandbox_args = {"create_sandbox", sandbox_args_fields, NULL, NULL, sizeof(CkCreateSandboxArgs)};

/* guest_details, online_cpu_mem, copy_file */
static const CkJsonField details_result_fields[] = {
    FIELD(CkGuestDetailsResult, "kernel_release", CK_JSON_STRING, kernel_release, NULLABLE),
    FIELD(CkGuestDetailsResult, "mem_total_kib", CK_JSON_INT64, mem_total_kib, 0),
    FIELD(CkGuestDetailsResult, "mem_free_kib", CK_JSON_INT64, mem_free_kib, 0),
    FIELD(CkGuestDetailsResult, "cpus_online", CK_JSON_INT64, cpus_online, 0),
    FIELD(CkGuestDetailsResult, "cpus_configured", CK_JSON_INT64, cpus_configured, 0),
    FIELD(CkGuestDetailsResult, "containers", CK_JSON_INT64, containers, 0),
    END,
};
static const CkMsgType details_result = {"guest_details result", details_result_fields, NULL, NULL,
					 sizeof(CkGuestDetailsResult)};

static const CkJsonField online_args_fields[] = {
    OP_KEY,
    FIELD(CkOnlineCpuMemArgs, "cpus", CK_JSON_INT64, cpus, OMIT),
    END,
};
static const CkMsgType online_args = {"online_cpu_mem", online_args_fields, NULL, NULL, sizeof(CkOnlineCpuMemArgs)};

static const CkJsonField online_result_fields[] = {
    FIELD(CkOnlineCpuMemResult, "cpus_onlined", CK_JSON_INT64, cpus_onlined, 0),
    FIELD(CkOnlineCpuMemResult, "memory_blocks_onlined", CK_JSON_INT64, memory_blocks_onlined, 0),
    FIELD(CkOnlineCpuMemResult, "cpus_online", CK_JSON_INT64, cpus_online, 0),
    END,
};
static const CkMsgType online_result = {"online_cpu_mem result", online_result_fields, NULL, NULL,
					sizeof(CkOnlineCpuMemResult)};

static const CkJsonField copy_args_fields[] = {
    OP_KEY,
    FIELD(CkCopyFileArgs, "path", CK_JSON_STRING, path, REQUIRED),
    FIELD(CkCopyFileArgs, "data", CK_JSON_STRING, data, REQUIRED),
    FIELD(CkCopyFileArgs, "mode", CK_JSON_UINT32, mode, OMIT),
    END,
};
static const CkMsgType copy_args = {"copy_file", copy_args_fields, NULL, NULL, sizeof(CkCopyFileArgs)};

/* containers: the arguments that are only an id */
#define CONTAINER_ARGS(var, op) \
	static const CkMsgType var = {op, container_args_fields, NULL, NULL, sizeof(CkContainerArgs)}
static const CkJsonField container_args_fields[] = {
    OP_KEY,
    FIELD(CkContainerArgs, "id", CK_JSON_STRING, id, 0),
    END,
};
CONTAINER_ARGS(start_args, "start_container");
CONTAINER_ARGS(remove_args, "remove_container");
CONTAINER_ARGS(pause_args, "pause_container");
CONTAINER_ARGS(resume_args, "resume_container");
CONTAINER_ARGS(stats_args, "stats_container");
CONTAINER_ARGS(state_args, "state_container");
CONTAINER_ARGS(list_args, "list_processes");

static const CkJsonField create_args_fields[] = {
    OP_KEY,
    FIELD(CkCreateContainerArgs, "id", CK_JSON_STRING, id, 0),
    FIELD(CkCreateContainerArgs, "spec", CK_JSON_OBJECT, spec, 0),
    FIELD(CkCreateContainerArgs, "rootfs", CK_JSON_STRING, rootfs, 0),
    FIELD(CkCreateContainerArgs, "stdin", CK_JSON_BOOL, stdin_, 0),
    FIELD(CkCreateContainerArgs, "seccomp_bpf", CK_JSON_STRING, seccomp_bpf, OMIT | NULLABLE),
    FIELD(CkCreateContainerArgs, "seccomp_flags", CK_JSON_INT64, seccomp_flags, OMIT),
    END,
};
static const CkMsgType create_args = {"create_container", create_args_fields, NULL, NULL,
				      sizeof(CkCreateContainerArgs)};

static const CkJsonField exec_args_fields[] = {
    OP_KEY,
    FIELD(CkExecProcessArgs, "id", CK_JSON_STRING, id, 0),
    FIELD(CkExecProcessArgs, "exec_id", CK_JSON_STRING, exec_id, NULLABLE),
    FIELD(CkExecProcessArgs, "process", CK_JSON_OBJECT, process, 0),
    FIELD(CkExecProcessArgs, "stdin", CK_JSON_BOOL, stdin_, 0),
    END,
};
static const CkMsgType exec_args = {"exec_process", exec_args_fields, NULL, NULL, sizeof(CkExecProcessArgs)};

/* create_container's steps_us: an object of numbers, sent when measured */
static const CkJsonField create_steps_fields[] = {
    FIELD(CkSpawnResult, "spec", CK_JSON_INT64, steps_us.spec, 0),
    FIELD(CkSpawnResult, "stdio", CK_JSON_INT64, steps_us.stdio, 0),
    FIELD(CkSpawnResult, "cgroup", CK_JSON_INT64, steps_us.cgroup, 0),
    FIELD(CkSpawnResult, "plan", CK_JSON_INT64, steps_us.plan, 0),
    FIELD(CkSpawnResult, "namespaces", CK_JSON_INT64, steps_us.namespaces, 0),
    FIELD(CkSpawnResult, "setup", CK_JSON_INT64, steps_us.setup, 0),
    FIELD(CkSpawnResult, "done", CK_JSON_INT64, steps_us.done, 0),
    END,
};
static const CkMsgType create_steps_type = {"steps_us", create_steps_fields, NULL, NULL, sizeof(CkSpawnResult)};

static gboolean decode_create_steps(yajl_val v, const char *path, gpointer field, GError **error)
{
	gpointer whole = (char *)field - G_STRUCT_OFFSET(CkSpawnResult, steps_us);

	return ck_json_dispatch(v, create_steps_fields, whole, path, CK_JSON_LENIENT, error);
}

static void encode_create_steps(CkJsonGen *g, const CkJsonField *f, gconstpointer msg)
{
	static const CkCreateSteps none;
	const CkSpawnResult *r = msg;

	if (memcmp(&r->steps_us, &none, sizeof none) == 0)
		return;
	ck_json_key(g, f->key);
	ck_json_map_open(g);
	ck_msg_encode(&create_steps_type, g, msg);
	ck_json_map_close(g);
}

static const CkJsonField spawn_result_fields[] = {
    FIELD(CkSpawnResult, "handle", CK_JSON_UINT32, handle, REQUIRED),
    FIELD(CkSpawnResult, "pid", CK_JSON_INT64, pid, 0),
    CUSTOM(CkSpawnResult, "steps_us", steps_us, 0, decode_create_steps),
    END,
};
static const CkMsgType create_result = {"create_container result", spawn_result_fields, encode_create_steps, NULL,
					sizeof(CkSpawnResult)};
static const CkMsgType exec_result = {"exec_process result", spawn_result_fields, encode_create_steps, NULL,
				      sizeof(CkSpawnResult)};

/* the process reference, first in the structs that hold one */
#define PROCESS_REF(T)                                                                                      \
	FIELD(T, "handle", CK_JSON_UINT32, ref.handle, OMIT), FIELD(T, "id", CK_JSON_STRING, ref.id, OMIT), \
	    FIELD(T, "exec_id", CK_JSON_STRING, ref.exec_id, NULLABLE | OMIT)

static const CkJsonField signal_args_fields[] = {
    OP_KEY,
    PROCESS_REF(CkSignalProcessArgs),
    FIELD(CkSignalProcessArgs, "signal", CK_JSON_INT64, signal, 0),
    FIELD(CkSignalProcessArgs, "all", CK_JSON_BOOL, all, OMIT),
    END,
};
static const CkMsgType signal_args = {"signal_process", signal_args_fields, NULL, NULL, sizeof(CkSignalProcessArgs)};

static const CkJsonField wait_args_fields[] = {
    OP_KEY,
    PROCESS_REF(CkWaitProcessArgs),
    END,
};
static const CkMsgType wait_args = {"wait_process", wait_args_fields, NULL, NULL, sizeof(CkWaitProcessArgs)};

static const CkJsonField wait_result_fields[] = {
    FIELD(CkWaitProcessResult, "exit_code", CK_JSON_INT64, exit_code, REQUIRED),
    FIELD(CkWaitProcessResult, "signal", CK_JSON_INT64, signal, 0),
    FIELD(CkWaitProcessResult, "oom_killed", CK_JSON_BOOL, oom_killed, 0),
    FIELD(CkWaitProcessResult, "pid", CK_JSON_INT64, pid, 0),
    END,
};
static const CkMsgType wait_result = {"wait_process result", wait_result_fields, NULL, NULL,
				      sizeof(CkWaitProcessResult)};

static const CkJsonField resize_args_fields[] = {
    OP_KEY,
    PROCESS_REF(CkResizeTerminalArgs),
    FIELD(CkResizeTerminalArgs, "rows", CK_JSON_UINT32, rows, 0),
    FIELD(CkResizeTerminalArgs, "cols", CK_JSON_UINT32, cols, 0),
    END,
};
static const CkMsgType resize_args = {"resize_terminal", resize_args_fields, NULL, NULL, sizeof(CkResizeTerminalArgs)};

static const CkJsonField update_args_fields[] = {
    OP_KEY,
    FIELD(CkUpdateContainerArgs, "id", CK_JSON_STRING, id, 0),
    FIELD(CkUpdateContainerArgs, "resources", CK_JSON_OBJECT, resources, 0),
    END,
};
static const CkMsgType update_args = {"update_container", update_args_fields, NULL, NULL,
				      sizeof(CkUpdateContainerArgs)};

/* stats_container: three objects of numbers */
#define STAT(T, key, member, flags) FIELD(T, key, CK_JSON_INT64, member, flags)
static const CkJsonField stats_cpu_fields[] = {
    STAT(CkStatsResult, "usage_usec", cpu.usage_usec, 0),
    STAT(CkStatsResult, "user_usec", cpu.user_usec, 0),
    STAT(CkStatsResult, "system_usec", cpu.system_usec, 0),
    STAT(CkStatsResult, "nr_throttled", cpu.nr_throttled, 0),
    STAT(CkStatsResult, "throttled_usec", cpu.throttled_usec, 0),
    END,
};
static const CkJsonField stats_memory_fields[] = {
    STAT(CkStatsResult, "usage", memory.usage, NULLABLE), STAT(CkStatsResult, "max_usage", memory.max_usage, NULLABLE),
    STAT(CkStatsResult, "anon", memory.anon, 0),	  STAT(CkStatsResult, "file", memory.file, 0),
    STAT(CkStatsResult, "oom_kill", memory.oom_kill, 0),  END,
};
static const CkJsonField stats_pids_fields[] = {
    STAT(CkStatsResult, "current", pids.current, NULLABLE),
    END,
};

/* The nested tables hold offsets into the whole CkStatsResult; field
 * points at the first member of its group. */
static gboolean decode_stats_group(yajl_val v, const char *path, gpointer group, gsize group_offset,
				   const CkJsonField *fields, GError **error)
{
	gpointer whole = (char *)group - group_offset;

	for (const CkJsonField *f = fields; f->key != NULL; f++)
		if (f->flags & CK_JSON_NULLABLE)
			*(gint64 *)((char *)whole + f->offset) = -1;
	return ck_json_dispatch(v, fields, whole, path, CK_JSON_LENIENT, error);
}

static gboolean decode_stats_cpu(yajl_val v, const char *path, gpointer field, GError **error)
{
	return decode_stats_group(v, path, field, G_STRUCT_OFFSET(CkStatsResult, cpu), stats_cpu_fields, error);
}

static gboolean decode_stats_memory(yajl_val v, const char *path, gpointer field, GError **error)
{
	return decode_stats_group(v, path, field, G_STRUCT_OFFSET(CkStatsResult, memory), stats_memory_fields, error);
}

static gboolean decode_stats_pids(yajl_val v, const char *path, gpointer field, GError **error)
{
	return decode_stats_group(v, path, field, G_STRUCT_OFFSET(CkStatsResult, pids), stats_pids_fields, error);
}

static const CkMsgType stats_cpu_type = {"cpu", stats_cpu_fields, NULL, NULL, sizeof(CkStatsResult)};
static const CkMsgType stats_memory_type = {"memory", stats_memory_fields, NULL, NULL, sizeof(CkStatsResult)};
static const CkMsgType stats_pids_type = {"pids", stats_pids_fields, NULL, NULL, sizeof(CkStatsResult)};

static void encode_stats(CkJsonGen *g, const CkJsonField *f, gconstpointer msg)
{
	const CkMsgType *group = f->custom == decode_stats_cpu	    ? &stats_cpu_type
				 : f->custom == decode_stats_memory ? &stats_memory_type
								    : &stats_pids_type;

	ck_json_key(g, f->key);
	ck_json_map_open(g);
	ck_msg_encode(group, g, msg);
	ck_json_map_close(g);
}

static const CkJsonField stats_result_fields[] = {
    CUSTOM(CkStatsResult, "cpu", cpu, 0, decode_stats_cpu),
    CUSTOM(CkStatsResult, "memory", memory, 0, decode_stats_memory),
    CUSTOM(CkStatsResult, "pids", pids, 0, decode_stats_pids),
    END,
};
static const CkMsgType stats_result = {"stats_container result", stats_result_fields, encode_stats, NULL,
				       sizeof(CkStatsResult)};

/* state_container: exit_code and oom_killed once stopped */
static void encode_state_exit(CkJsonGen *g, const CkJsonField *f, gconstpointer msg)
{
	const CkStateResult *r = msg;

	if (g_strcmp0(r->status, "stopped") != 0)
		return;
	if (g_str_equal(f->key, "exit_code"))
		ck_json_kv_int(g, f->key, r->exit_code);
	else
		ck_json_kv_bool(g, f->key, r->oom_killed);
}

static gboolean decode_int64(yajl_val v, const char *path, gpointer field, GError **error)
{
	if (!ck_json_as_int64(v, field))
		return ck_set_error(error, CK_ERROR_INVALID, "%s: expected an integer, got %s", path,
				    ck_json_type_name(v));
	return TRUE;
}

static gboolean decode_bool(yajl_val v, const char *path, gpointer field, GError **error)
{
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		return ck_set_error(error, CK_ERROR_INVALID, "%s: expected a boolean, got %s", path,
				    ck_json_type_name(v));
	*(gboolean *)field = YAJL_IS_TRUE(v);
	return TRUE;
}

static const CkJsonField state_result_fields[] = {
    FIELD(CkStateResult, "status", CK_JSON_STRING, status, REQUIRED),
    FIELD(CkStateResult, "pid", CK_JSON_INT64, pid, 0),
    FIELD(CkStateResult, "handle", CK_JSON_UINT32, handle, 0),
    CUSTOM(CkStateResult, "exit_code", exit_code, 0, decode_int64),
    CUSTOM(CkStateResult, "oom_killed", oom_killed, 0, decode_bool),
    END,
};
static const CkMsgType state_result = {"state_container result", state_result_fields, encode_state_exit, NULL,
				       sizeof(CkStateResult)};

/* list_processes */
static gboolean decode_pids(yajl_val v, const char *path, gpointer field, GError **error)
{
	CkListProcessesResult *r =
	    (CkListProcessesResult *)((char *)field - G_STRUCT_OFFSET(CkListProcessesResult, pids));

	if (!YAJL_IS_ARRAY(v))
		return ck_set_error(error, CK_ERROR_INVALID, "%s: expected an array, got %s", path,
				    ck_json_type_name(v));
	g_free(r->pids);
	r->pids = g_new0(gint64, MAX(v->u.array.len, 1));
	r->n_pids = 0;
	for (gsize i = 0; i < v->u.array.len; i++) {
		g_autofree char *p = ck_json_path_index(path, i);
		if (!decode_int64(v->u.array.values[i], p, &r->pids[i], error))
			return FALSE;
		r->n_pids++;
	}
	return TRUE;
}

static void encode_pids(CkJsonGen *g, const CkJsonField *f, gconstpointer msg)
{
	const CkListProcessesResult *r = msg;

	ck_json_key(g, f->key);
	ck_json_array_open(g);
	for (guint i = 0; i < r->n_pids; i++)
		ck_json_int(g, r->pids[i]);
	ck_json_array_close(g);
}

static void clear_pids(gpointer msg)
{
	CkListProcessesResult *r = msg;

	g_clear_pointer(&r->pids, g_free);
	r->n_pids = 0;
}

static const CkJsonField list_result_fields[] = {
    CUSTOM(CkListProcessesResult, "pids", pids, REQUIRED, decode_pids),
    END,
};
static const CkMsgType list_result = {"list_processes result", list_result_fields, encode_pids, clear_pids,
				      sizeof(CkListProcessesResult)};

/* connect_port */
static const CkJsonField connect_args_fields[] = {
    OP_KEY,
    RANGE(CkConnectPortArgs, "port", port, REQUIRED, 1, 65535),
    FIELD(CkConnectPortArgs, "family", CK_JSON_STRING, family, OMIT),
    END,
};
static const CkMsgType connect_args = {"connect_port", connect_args_fields, NULL, NULL, sizeof(CkConnectPortArgs)};

static const CkJsonField handle_result_fields[] = {
    FIELD(CkHandleResult, "handle", CK_JSON_UINT32, handle, REQUIRED),
    END,
};
static const CkMsgType connect_result = {"connect_port result", handle_result_fields, NULL, NULL,
					 sizeof(CkHandleResult)};

/* events */
static const CkJsonField ready_fields[] = {
    {"event", CK_JSON_IGNORE, 0, 0, 0, 0, NULL},
    FIELD(CkReadyEvent, "protocol", CK_JSON_INT64, protocol, 0),
    END,
};
static const CkJsonField exit_fields[] = {
    {"event", CK_JSON_IGNORE, 0, 0, 0, 0, NULL},
    FIELD(CkExitEvent, "container", CK_JSON_STRING, container, NULLABLE),
    FIELD(CkExitEvent, "exec_id", CK_JSON_STRING, exec_id, NULLABLE),
    FIELD(CkExitEvent, "handle", CK_JSON_UINT32, handle, REQUIRED),
    FIELD(CkExitEvent, "exit_code", CK_JSON_INT64, exit_code, 0),
    FIELD(CkExitEvent, "signal", CK_JSON_INT64, signal, 0),
    FIELD(CkExitEvent, "oom_killed", CK_JSON_BOOL, oom_killed, 0),
    END,
};
static const CkJsonField oom_fields[] = {
    {"event", CK_JSON_IGNORE, 0, 0, 0, 0, NULL},
    FIELD(CkOomEvent, "container", CK_JSON_STRING, container, REQUIRED),
    END,
};

static const CkMsgType event_types[CK_EVENT_COUNT] = {
    [CK_EVENT_READY] = {"ready event", ready_fields, NULL, NULL, sizeof(CkReadyEvent)},
    [CK_EVENT_EXIT] = {"exit event", exit_fields, NULL, NULL, sizeof(CkExitEvent)},
    [CK_EVENT_OOM] = {"oom event", oom_fields, NULL, NULL, sizeof(CkOomEvent)},
};

/* --- the name tables ---------------------------------------------------------------- */

static const CkOpInfo ops[CK_OP_COUNT] = {
    [CK_OP_VERSION] = {"version", &version_args, &version_result},
    [CK_OP_PING] = {"ping", NULL, NULL},
    [CK_OP_SHUTDOWN] = {"shutdown", NULL, NULL},
    [CK_OP_SETUP_NETWORK] = {"setup_network", &network_args, NULL},
    [CK_OP_CREATE_SANDBOX] = {"create_sandbox", &sandbox_args, NULL},
    [CK_OP_DESTROY_SANDBOX] = {"destroy_sandbox", NULL, NULL},
    [CK_OP_GUEST_DETAILS] = {"guest_details", NULL, &details_result},
    [CK_OP_ONLINE_CPU_MEM] = {"online_cpu_mem", &online_args, &online_result},
    [CK_OP_COPY_FILE] = {"copy_file", &copy_args, NULL},
    [CK_OP_CREATE_CONTAINER] = {"create_container", &create_args, &create_result},
    [CK_OP_START_CONTAINER] = {"start_container", &start_args, NULL},
    [CK_OP_EXEC_PROCESS] = {"exec_process", &exec_args, &exec_result},
    [CK_OP_SIGNAL_PROCESS] = {"signal_process", &signal_args, NULL},
    [CK_OP_WAIT_PROCESS] = {"wait_process", &wait_args, &wait_result},
    [CK_OP_RESIZE_TERMINAL] = {"resize_terminal", &resize_args, NULL},
    [CK_OP_REMOVE_CONTAINER] = {"remove_container", &remove_args, NULL},
    [CK_OP_PAUSE_CONTAINER] = {"pause_container", &pause_args, NULL},
    [CK_OP_RESUME_CONTAINER] = {"resume_container", &resume_args, NULL},
    [CK_OP_UPDATE_CONTAINER] = {"update_container", &update_args, NULL},
    [CK_OP_STATS_CONTAINER] = {"stats_container", &stats_args, &stats_result},
    [CK_OP_STATE_CONTAINER] = {"state_container", &state_args, &state_result},
    [CK_OP_LIST_PROCESSES] = {"list_processes", &list_args, &list_result},
    [CK_OP_CONNECT_PORT] = {"connect_port", &connect_args, &connect_result},
    [CK_OP_CLONE_IDENTITY] = {"clone_identity", &clone_args, &clone_result},
};

static const char *const event_names[CK_EVENT_COUNT] = {
    [CK_EVENT_READY] = "ready",
    [CK_EVENT_EXIT] = "exit",
    [CK_EVENT_OOM] = "oom",
};

const CkOpInfo *ck_op_info(CkOp op)
{
	g_return_val_if_fail(op < CK_OP_COUNT, NULL);
	return &ops[op];
}

const char *ck_op_name(CkOp op)
{
	return op < CK_OP_COUNT ? ops[op].name : "(unknown)";
}

CkOp ck_op_from_name(const char *name)
{
	for (int op = 0; name != NULL && op < CK_OP_COUNT; op++)
		if (strcmp(ops[op].name, name) == 0)
			return (CkOp)op;
	return CK_OP_UNKNOWN;
}

const char *ck_event_name(CkEvent event)
{
	return event < CK_EVENT_COUNT ? event_names[event] : "(unknown)";
}

CkEvent ck_event_from_name(const char *name)
{
	for (int ev = 0; name != NULL && ev < CK_EVENT_COUNT; ev++)
		if (strcmp(event_names[ev], name) == 0)
			return (CkEvent)ev;
	return CK_EVENT_UNKNOWN;
}

const CkMsgType *ck_event_type(CkEvent event)
{
	g_return_val_if_fail(event < CK_EVENT_COUNT, NULL);
	return &event_types[event];
}
