/* fuzz-network-op: a setup_network request as the agent checks it before
 * it changes anything (agent/network.c, network_request_check: the same
 * parsing and validation op_setup_network runs first).
 *
 * The input is the request's JSON. Checked, beyond crashes and leaks: a
 * refusal is CK_ERROR_INVALID and its message names the operation; an
 * accepted request is within the documented bounds (interfaces, routes,
 * addresses per interface).
 */
#include <string.h>

#include "base/ck-error.h"
#include "base/ck-json.h"
#include "agent/network.h"
#include "fuzz.h"

static gsize array_len(yajl_val v)
{
	return v != NULL && YAJL_IS_ARRAY(v) ? v->u.array.len : 0;
}

static void check_bounds(yajl_val args)
{
	yajl_val ifaces = ck_json_get(args, "interfaces");

	fuzz_check(array_len(ifaces) <= NETWORK_MAX_IFACES, "accepted %zu interfaces", array_len(ifaces));
	fuzz_check(array_len(ck_json_get(args, "routes")) <= NETWORK_MAX_ROUTES, "accepted too many routes");
	for (gsize i = 0; i < array_len(ifaces); i++)
		fuzz_check(array_len(ck_json_get(ifaces->u.array.values[i], "addresses")) <= NETWORK_MAX_ADDRS,
			   "accepted too many addresses");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) error = NULL;

	fuzz_init();
	g_auto(yajl_val) args = ck_json_parse((const char *)data, size, "request", NULL);
	if (args == NULL || !YAJL_IS_OBJECT(args))
		return 0;
	if (network_request_check(args, &error)) {
		check_bounds(args);
		return 0;
	}
	fuzz_check(error != NULL && g_error_matches(error, CK_ERROR, CK_ERROR_INVALID) &&
			   g_str_has_prefix(error->message, "setup_network: "),
		   "refusal without the promised error: %s", error ? error->message : "(none)");
	return 0;
}
