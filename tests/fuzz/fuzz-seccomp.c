/* fuzz-seccomp: an OCI linux.seccomp object through the seccomp compiler
 * of the host's monitor and the agent (agent/oci/oci-seccomp.c) and
 * libseccomp's exports.
 *
 * The input is the seccomp object alone (what config.json holds under
 * "linux" -> "seccomp"), so that mutations spend their time on it; the
 * whole spec goes through fuzz-agent-plan. Nothing is loaded into the
 * kernel. Checked, beyond crashes: a refusal is CK_ERROR_INVALID or
 * CK_ERROR_UNSUPPORTED (or a CK_ERRNO_ERROR passed on from libseccomp),
 * with a message that names the field ("linux.seccomp..."); an accepted
 * profile exports as pseudo filter code and as a BPF program the agent
 * would accept.
 */
#include <string.h>

#include "base/ck-error.h"
#include "base/ck-json.h"
#include "oci/oci-seccomp.h"
#include "fuzz.h"

#define PATH "linux.seccomp"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;
	g_auto(yajl_val) tree = NULL;
	g_autoptr(OciSeccomp) filter = NULL;

	fuzz_init();
	tree = ck_json_parse((const char *)data, size, "seccomp", &error);
	if (tree == NULL)
		return 0;
	filter = oci_seccomp_compile(tree, PATH, NULL, &error);
	if (filter == NULL) {
		fuzz_check(error != NULL, "refused without an error");
		fuzz_check(g_error_matches(error, CK_ERROR, CK_ERROR_INVALID) ||
				   g_error_matches(error, CK_ERROR, CK_ERROR_UNSUPPORTED) || error->domain == CK_ERRNO_ERROR,
			   "refused with an unexpected error: %s", error->message);
		fuzz_check(g_str_has_prefix(error->message, PATH), "the message does not name the field: %s",
			   error->message);
		return 0;
	}
	fuzz_check(error == NULL, "accepted with an error set");

	g_autofree char *pfc = oci_seccomp_export_pfc(filter, &error);
	fuzz_check(pfc != NULL && strstr(pfc, "pseudo filter code") != NULL, "export failed: %s",
		   error ? error->message : "no header");
	g_clear_error(&error);

	g_autoptr(GBytes) program = NULL;
	guint flags = 0;
	fuzz_check(oci_seccomp_export_bpf(filter, &program, &flags, &error), "BPF export failed: %s",
		   error ? error->message : "?");
	return 0;
}
