/* workload: role and trust of a container (see workload.h). */
#include "workload.h"

#include "base/ck-error.h"
#include "state.h"

void workload_role_clear(WorkloadRole *role)
{
	g_clear_pointer(&role->pod_id, g_free);
	g_clear_pointer(&role->pod_annotations, g_hash_table_unref);
}

static gboolean classify_with(const OciSpec *spec, const char *type_key, const char *sandbox_key, const char *id,
			      WorkloadRole *out, GError **error)
{
	const char *type = oci_spec_annotation(spec, type_key);
	const char *sandbox_id = oci_spec_annotation(spec, sandbox_key);

	if (g_strcmp0(type, "sandbox") == 0) {
		out->sandbox = TRUE;
		out->pod_id = g_strdup(id);
		return TRUE;
	}
	if (g_strcmp0(type, "container") != 0)
		return ck_set_error(error, CK_ERROR_INVALID, "annotation %s: unknown container type '%s'", type_key,
				    type);
	if (sandbox_id == NULL || *sandbox_id == '\0')
		return ck_set_error(error, CK_ERROR_INVALID, "annotation %s: missing for a container of a pod",
				    sandbox_key);
	out->sandbox = g_str_equal(sandbox_id, id);
	out->pod_id = g_strdup(sandbox_id);
	return TRUE;
}

gboolean workload_classify(const OciSpec *spec, const char *container_id, WorkloadRole *out, GError **error)
{
	*out = (WorkloadRole){0};
	if (oci_spec_annotation(spec, ANNOTATION_CRIO_TYPE) != NULL)
		return classify_with(spec, ANNOTATION_CRIO_TYPE, ANNOTATION_CRIO_SANDBOX_ID, container_id, out, error);
	if (oci_spec_annotation(spec, ANNOTATION_CRI_TYPE) != NULL)
		return classify_with(spec, ANNOTATION_CRI_TYPE, ANNOTATION_CRI_SANDBOX_ID, container_id, out, error);
	out->sandbox = TRUE;
	out->pod_id = g_strdup(container_id);
	return TRUE;
}

/* Host network, pid or ipc namespace: the spec asks for none of its own. */
static const char *host_namespace(const OciSpec *spec)
{
	static const OciNamespaceType types[] = {OCI_NS_NETWORK, OCI_NS_PID, OCI_NS_IPC};

	for (gsize i = 0; i < G_N_ELEMENTS(types); i++)
		if (oci_spec_find_namespace(spec, types[i]) == NULL)
			return oci_namespace_type_to_string(types[i]);
	return NULL;
}

/* Why a pod counts as privileged (CRI-O's rule), NULL when it does not. */
static char *privilege(const OciSpec *spec)
{
	const char *host_ns = host_namespace(spec);

	if (g_strcmp0(oci_spec_annotation(spec, ANNOTATION_PRIVILEGED), "true") == 0)
		return g_strdup("privileged pod");
	return host_ns != NULL ? g_strdup_printf("host %s namespace", host_ns) : NULL;
}

CkTrust workload_trust(const CkConfig *cfg, const OciSpec *spec, char **out_reason)
{
	const char *annotation = oci_spec_annotation(spec, ANNOTATION_TRUSTED);
	const char *fallback = ck_trust_to_string(cfg->runtime.default_workload_trust);
	g_autofree char *privileged = privilege(spec);

	if (annotation != NULL) {
		/* the value as the pod wrote it, escaped: it goes to the log */
		g_autofree char *shown = ck_config_show_value(annotation);
		*out_reason = g_strdup_printf("annotation %s=\"%s\"", ANNOTATION_TRUSTED, shown);
		return g_str_equal(annotation, "true") ? CK_TRUST_TRUSTED : CK_TRUST_UNTRUSTED;
	}
	if (privileged != NULL && !cfg->runtime.privileged_in_vm) {
		*out_reason = g_strdup_printf("%s (privileged_in_vm = false)", privileged);
		return CK_TRUST_TRUSTED;
	}
	if (privileged != NULL)
		*out_reason = g_strdup_printf("%s, privileged_in_vm = true: default_workload_trust = \"%s\"",
					      privileged, fallback);
	else
		*out_reason = g_strdup_printf("default_workload_trust = \"%s\"", fallback);
	return cfg->runtime.default_workload_trust;
}

gboolean workload_decide(const CkConfig *cfg, const char *root, const OciSpec *spec, WorkloadRole *role, CkTrust *out,
			 char **out_decision, GError **error)
{
	g_autofree char *reason = NULL;

	if (role->sandbox) {
		*out = workload_trust(cfg, spec, &reason);
	} else {
		g_autoptr(GError) local = NULL;
		g_autoptr(ContainerState) sb = container_state_read(root, role->pod_id, &local);
		if (sb == NULL && ck_error_is(local, CK_ERROR_NOT_FOUND))
			return ck_set_error(error, CK_ERROR_NOT_FOUND, "the sandbox %s of its pod does not exist",
					    role->pod_id);
		if (sb == NULL) {
			g_propagate_error(error, g_steal_pointer(&local));
			return FALSE;
		}
		*out = sb->kind == CONTAINER_KIND_TRUSTED ? CK_TRUST_TRUSTED : CK_TRUST_UNTRUSTED;
		g_clear_pointer(&role->pod_annotations, g_hash_table_unref);
		role->pod_annotations = g_hash_table_ref(sb->annotations);
		reason = g_strdup_printf("follows its sandbox %s", role->pod_id);
	}
	*out_decision = g_strdup_printf("%s: %s", ck_trust_to_string(*out), reason);
	return TRUE;
}
