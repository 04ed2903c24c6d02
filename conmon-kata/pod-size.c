/* pod-size: hot-plug as containers arrive (see pod-size.h). */
#include "pod-size.h"

#include "base/ck-json.h"
#include "base/ck-log.h"
#include "proto/ck-message.h"
#include "lib/hotplug.h"

struct PodSizer {
	const CkConfig *config;
	QemuVm *vm;
	char *pod_id;
	WorkloadSize declared;
	GHashTable *containers; /* id -> WorkloadSize */
	QemuVmSize limits;
	int vcpus;
	guint64 mem_mib;
	guint dimms; /* DIMMs plugged so far: ids and slots */
};

PodSizer *pod_sizer_new(const CkConfig *config, QemuVm *vm, const char *pod_id, const WorkloadSize *declared)
{
	PodSizer *s = g_new0(PodSizer, 1);

	s->config = config;
	s->vm = vm;
	s->pod_id = g_strdup(pod_id);
	if (declared != NULL)
		s->declared = *declared;
	s->containers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	qemu_vm_get_size(vm, &s->limits);
	s->vcpus = s->limits.vcpus;
	s->mem_mib = s->limits.memory_mib;
	return s;
}

void pod_sizer_free(PodSizer *s)
{
	if (s == NULL)
		return;
	g_hash_table_destroy(s->containers);
	g_free(s->pod_id);
	g_free(s);
}

void pod_sizer_get(PodSizer *s, int *out_vcpus, guint64 *out_mem_mib)
{
	*out_vcpus = s->vcpus;
	*out_mem_mib = s->mem_mib;
}

void pod_sizer_set(PodSizer *s, const char *id, const WorkloadSize *size)
{
	g_hash_table_insert(s->containers, g_strdup(id), g_memdup2(size, sizeof *size));
}

static WorkloadSize pod_total(PodSizer *s)
{
	WorkloadSize sum = {0};
	GHashTableIter it;
	gpointer v;

	g_hash_table_iter_init(&it, s->containers);
	while (g_hash_table_iter_next(&it, NULL, &v)) {
		const WorkloadSize *w = v;
		sum.vcpus += w->vcpus;
		sum.mem_bytes += w->mem_bytes;
	}
	/* CRI-O's pod-level figure already counts every container */
	sum.vcpus = MAX(sum.vcpus, s->declared.vcpus);
	sum.mem_bytes = MAX(sum.mem_bytes, s->declared.mem_bytes);
	return sum;
}

static void on_onlined(AgentClient *c, yajl_val result, const GError *error, gpointer data)
{
	PodSizer *s = data;
	CkOnlineCpuMemResult r = {0};
	g_autoptr(GError) shape = NULL;

	(void)c;
	if (error == NULL && !ck_msg_decode_result(CK_OP_ONLINE_CPU_MEM, result, &r, &shape))
		error = shape;
	if (error != NULL) {
		ck_log_warning("pod %s: bringing hot-plugged resources online: %s", s->pod_id, error->message);
		return;
	}
	ck_log_debug("pod %s: the guest has %" G_GINT64_FORMAT " CPUs online", s->pod_id, r.cpus_online);
}

static gboolean grow_memory(PodSizer *s, guint64 target_mib)
{
	g_autoptr(GError) error = NULL;

	if (s->dimms >= s->limits.memory_slots) {
		ck_log_warning("pod %s: memory stays at %" G_GUINT64_FORMAT " MiB: all %u memory slots are used "
			       "(hypervisor.qemu.memory_slots)",
			       s->pod_id, s->mem_mib, s->limits.memory_slots);
		return FALSE;
	}
	if (!hotplug_memory(qemu_vm_get_qmp(s->vm), s->dimms, target_mib - s->mem_mib, &error)) {
		ck_log_warning("pod %s: hot-adding %" G_GUINT64_FORMAT " MiB: %s", s->pod_id, target_mib - s->mem_mib,
			       error->message);
		return FALSE;
	}
	s->dimms++;
	s->mem_mib = target_mib;
	return TRUE;
}

static gboolean grow_cpus(PodSizer *s, int target)
{
	g_autoptr(GError) error = NULL;
	int present = s->vcpus;

	gboolean ok = hotplug_cpus(qemu_vm_get_qmp(s->vm), target, &present, &error);
	if (!ok)
		ck_log_warning("pod %s: hot-adding vCPUs (%d -> %d): %s", s->pod_id, s->vcpus, target, error->message);
	gboolean grew = present > s->vcpus;
	s->vcpus = MAX(present, s->vcpus);
	return grew;
}

static void resize(PodSizer *s)
{
	WorkloadSize total = pod_total(s);
	int want_cpus;
	guint64 want_mem;

	sizing_target(s->config, &total, s->limits.maxvcpus, s->limits.maxmemory_mib, s->vcpus, s->mem_mib,
		      &want_cpus, &want_mem);
	if (want_cpus == s->vcpus && want_mem == s->mem_mib)
		return;
	int old_cpus = s->vcpus;
	guint64 old_mem = s->mem_mib;
	gboolean grew = FALSE;
	if (want_cpus > s->vcpus)
		grew |= grow_cpus(s, want_cpus);
	if (want_mem > s->mem_mib)
		grew |= grow_memory(s, want_mem);
	if (!grew)
		return;
	ck_log_info("pod %s: VM grown from %d vCPUs, %" G_GUINT64_FORMAT " MiB to %d vCPUs, %" G_GUINT64_FORMAT
		    " MiB for its containers' limits",
		    s->pod_id, old_cpus, old_mem, s->vcpus, s->mem_mib);
	/* sent before the request that needed it: the agent works in order */
	CkOnlineCpuMemArgs args = {.cpus = s->vcpus};
	g_autoptr(CkJsonGen) req = ck_msg_request(CK_OP_ONLINE_CPU_MEM, &args);
	agent_client_call_async(qemu_vm_get_agent(s->vm), req, on_onlined, s);
}

/* A request's limits: NULL when it carries none to look at. */
static gboolean request_size(yajl_val resources, const char *path, WorkloadSize *out, gboolean *out_cpu,
			     gboolean *out_mem)
{
	OciResources res;
	g_autoptr(GError) error = NULL;

	oci_resources_init(&res);
	if (resources == NULL || !oci_resources_parse(resources, path, &res, &error)) {
		oci_resources_clear(&res);
		return FALSE; /* the agent will say what is wrong with it */
	}
	*out = sizing_from_resources(&res);
	*out_cpu = res.cpu_quota != 0;
	*out_mem = res.memory_limit != 0;
	oci_resources_clear(&res);
	return TRUE;
}

/* A container's limits as its update asks for them: runc's update
 * changes only what it is given. */
static void update_size(PodSizer *s, const char *id, const WorkloadSize *w, gboolean cpu, gboolean mem)
{
	WorkloadSize *now = g_hash_table_lookup(s->containers, id);

	if (now == NULL) {
		pod_sizer_set(s, id, w);
		return;
	}
	if (cpu)
		now->vcpus = w->vcpus;
	if (mem)
		now->mem_bytes = w->mem_bytes;
}

void pod_sizer_on_request(PodSizer *s, CkOp op, yajl_val request)
{
	CkCreateContainerArgs create = {0};
	CkUpdateContainerArgs update = {0};
	CkContainerArgs remove = {0};
	WorkloadSize w = {0};
	gboolean cpu, mem, grew = FALSE;

	/* a request that does not decode: the agent will say what is wrong */
	if (op == CK_OP_REMOVE_CONTAINER && ck_msg_decode_args(op, request, &remove, NULL) && remove.id != NULL) {
		/* what a VM got is not taken back: a later container uses it */
		g_hash_table_remove(s->containers, remove.id);
	} else if (op == CK_OP_CREATE_CONTAINER && ck_msg_decode_args(op, request, &create, NULL) &&
		   create.id != NULL &&
		   request_size(ck_json_get(ck_json_get(create.spec, "linux"), "resources"), "spec.linux.resources", &w,
				&cpu, &mem)) {
		pod_sizer_set(s, create.id, &w);
		grew = TRUE;
	} else if (op == CK_OP_UPDATE_CONTAINER && ck_msg_decode_args(op, request, &update, NULL) &&
		   update.id != NULL && request_size(update.resources, "resources", &w, &cpu, &mem)) {
		update_size(s, update.id, &w, cpu, mem);
		grew = TRUE;
	}
	ck_msg_clear_args(CK_OP_REMOVE_CONTAINER, &remove);
	ck_msg_clear_args(CK_OP_CREATE_CONTAINER, &create);
	ck_msg_clear_args(CK_OP_UPDATE_CONTAINER, &update);
	if (grew)
		resize(s);
}
