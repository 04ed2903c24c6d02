/* fuzz-oci-spec: an OCI config.json through oci_spec_parse() (oci-spec.c).
 *
 * The agent parses the spec the host sends it, and vmctl and conmon-kata
 * parse the one CRI-O and Podman write. The input is the document. Besides
 * crashes and sanitizer reports the target checks:
 *   - a failure is a CK_ERROR_INVALID error, never a half-built spec;
 *   - an accepted spec, written with oci_spec_to_json() (what the host
 *     hands to the agent), parses again and writes the same bytes: the
 *     header promises that the output "parses back into the same structs";
 *   - the "never NULL after parsing" members are not NULL, and every
 *     absolute-path rule the parser enforces holds;
 *   - the container-side annotation check and the lookups run on it.
 */
#include <string.h>

#include "base/ck-error.h"
#include "oci/oci-spec.h"
#include "lib/annotations.h"
#include "fuzz.h"

static void check_spec(const OciSpec *s)
{
	fuzz_check(s->oci_version != NULL, "ociVersion is required but NULL");
	fuzz_check(s->annotations != NULL && s->sysctl != NULL, "annotations or sysctl is NULL");
	fuzz_check(s->masked_paths != NULL && s->readonly_paths != NULL, "maskedPaths or readonlyPaths is NULL");
	if (s->has_process) {
		fuzz_check(s->process.args != NULL && s->process.args[0] != NULL, "process.args is empty");
		fuzz_check(s->process.env != NULL, "process.env is NULL");
		fuzz_check(s->process.cwd != NULL && s->process.cwd[0] == '/', "process.cwd is not absolute");
		for (gsize i = 0; i < s->process.n_rlimits; i++)
			fuzz_check(s->process.rlimits[i].resource >= 0, "rlimit %zu has no resource", i);
	}
	for (gsize i = 0; i < s->n_mounts; i++) {
		fuzz_check(s->mounts[i].destination != NULL && s->mounts[i].destination[0] == '/',
			   "mounts[%zu].destination is not absolute", i);
		fuzz_check(s->mounts[i].options != NULL, "mounts[%zu].options is NULL", i);
	}
	for (int st = 0; st < OCI_HOOK_MAX; st++)
		for (gsize i = 0; i < s->hooks[st].n_hooks; i++)
			fuzz_check(s->hooks[st].hooks[i].path != NULL && s->hooks[st].hooks[i].path[0] == '/',
				   "hook path is not absolute");
	for (gsize i = 0; i < s->n_namespaces; i++) {
		fuzz_check(s->namespaces[i].type < OCI_NS_MAX, "namespace type out of range");
		fuzz_check(oci_spec_find_namespace(s, s->namespaces[i].type) == &s->namespaces[i],
			   "namespace %s listed twice", oci_namespace_type_to_string(s->namespaces[i].type));
	}

	(void)oci_spec_annotation(s, "io.kubernetes.cri-o.ContainerType");
	g_autoptr(GError) error = NULL;
	if (!annotations_check_container(s->annotations, NULL, &error))
		fuzz_check(g_error_matches(error, CK_ERROR, CK_ERROR_INVALID), "annotation check: not INVALID");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OciSpec) spec = NULL;

	fuzz_init();
	spec = oci_spec_parse((const char *)data, size, "config.json", &error);
	if (spec == NULL) {
		fuzz_check(error != NULL && g_error_matches(error, CK_ERROR, CK_ERROR_INVALID),
			   "oci_spec_parse failed without a CK_ERROR_INVALID error");
		return 0;
	}
	check_spec(spec);

	gsize len = 0;
	g_autofree char *json = oci_spec_to_json(spec, &len, &error);
	fuzz_check(json != NULL, "oci_spec_to_json failed: %s", error ? error->message : "?");
	fuzz_check(strlen(json) == len, "oci_spec_to_json length is wrong");

	g_autoptr(OciSpec) again = oci_spec_parse(json, len, "rewritten", &error);
	fuzz_check(again != NULL, "the written spec does not parse: %s\n%s", error ? error->message : "?", json);
	check_spec(again);

	gsize len2 = 0;
	g_autofree char *json2 = oci_spec_to_json(again, &len2, &error);
	fuzz_check(json2 != NULL && g_str_equal(json, json2), "the spec reads back differently:\n%s\n---\n%s", json,
		   json2 ? json2 : "(null)");

	if (spec->has_process) {
		g_autofree char *proc = oci_process_to_json(&spec->process, NULL, &error);
		fuzz_check(proc != NULL, "oci_process_to_json failed: %s", error ? error->message : "?");
	}
	return 0;
}
