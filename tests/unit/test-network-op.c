/* Unit tests: the agent's setup_network refuses bad requests, exactly,
 * before it changes anything (agent/network.h). */
#include <glib.h>

#include "base/ck-error.h"
#include "base/ck-json.h"
#include "agent/network.h"

typedef struct {
	const char *request;
	const char *message;
} Refusal;

#define IF0 "{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"mtu\":1500"

static const Refusal refusals[] = {
    {"{}", "setup_network: interfaces: required field missing"},
    {"{\"interfaces\":[],\"dns\":1}", "setup_network: dns: unknown field"},
    {"{\"interfaces\":[{\"name\":\"lo\",\"mac\":\"02:00:00:00:00:01\",\"mtu\":1500}]}",
     "setup_network: interfaces[0]: name 'lo' is not a valid interface name"},
    {"{\"interfaces\":[{\"name\":\"a234567890123456\",\"mac\":\"02:00:00:00:00:01\",\"mtu\":1500}]}",
     "setup_network: interfaces[0]: name 'a234567890123456' is not a valid interface name"},
    {"{\"interfaces\":[{\"name\":\"et/0\",\"mac\":\"02:00:00:00:00:01\",\"mtu\":1500}]}",
     "setup_network: interfaces[0]: name 'et/0' is not a valid interface name"},
    {"{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"03:00:00:00:00:01\",\"mtu\":1500}]}",
     "setup_network: interfaces[0] (eth0): mac '03:00:00:00:00:01' is not a unicast MAC address"},
    {"{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:01:\",\"mtu\":1500}]}",
     "setup_network: interfaces[0] (eth0): mac '02:00:00:00:00:01:' is not a unicast MAC address"},
    {"{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:01\",\"mtu\":67}]}",
     "setup_network: interfaces[0].mtu: 67 is out of range (68..65535)"},
    {"{\"interfaces\":[" IF0 "}," IF0 "}]}", "setup_network: interfaces[1] (eth0): name or MAC repeats interfaces[0]"},
    {"{\"interfaces\":[" IF0 ",\"addresses\":[\"192.0.2.1/33\"]}]}",
     "setup_network: interfaces[0]: '192.0.2.1/33': prefix out of range 0..32"},
    {"{\"interfaces\":[" IF0 ",\"addresses\":[\"2001:db8::1/129\"]}]}",
     "setup_network: interfaces[0]: '2001:db8::1/129': prefix out of range 0..128"},
    {"{\"interfaces\":[" IF0 ",\"addresses\":[\"192.0.2.1/-1\"]}]}",
     "setup_network: interfaces[0]: '192.0.2.1/-1': prefix out of range 0..32"},
    {"{\"interfaces\":[" IF0 ",\"addresses\":[\"192.0.2.1\"]}]}",
     "setup_network: interfaces[0]: '192.0.2.1' must be address/prefix"},
    {"{\"interfaces\":[" IF0 ",\"addresses\":[\"bogus/24\"]}]}",
     "setup_network: interfaces[0]: 'bogus/24' is not an IPv4 or IPv6 address"},
    {"{\"interfaces\":[" IF0 "}],\"routes\":[{\"dest\":\"0.0.0.0/0\",\"device\":\"eth1\"}]}",
     "setup_network: routes[0]: device 'eth1' is not one of the interfaces"},
    {"{\"interfaces\":[" IF0
     "}],\"routes\":[{\"dest\":\"0.0.0.0/0\",\"device\":\"eth0\",\"gateway\":\"2001:db8::1\"}]}",
     "setup_network: routes[0]: 0.0.0.0/0: gateway and source must be of the family of the destination"},
    {"{\"interfaces\":[" IF0 "}],\"routes\":[{\"dest\":\"::/0\",\"device\":\"eth0\",\"gateway\":\"2001:db8::1/64\"}]}",
     "setup_network: routes[0]: '2001:db8::1/64' must not be address/prefix"},
    {"{\"interfaces\":[" IF0 "}],\"routes\":[{\"dest\":\"::/0\",\"device\":\"eth0\",\"table\":5}]}",
     "setup_network: routes[0].table: unknown field"},
};

static void test_refusals(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(refusals); i++) {
		g_autoptr(GError) error = NULL;
		g_auto(yajl_val) args =
		    ck_json_parse(refusals[i].request, strlen(refusals[i].request), "request", &error);
		g_assert_no_error(error);
		/* the dispatcher's typed decoding, then the operation's checks */
		g_assert_false(network_request_check(args, &error));
		g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
		g_assert_cmpstr(error->message, ==, refusals[i].message);
	}
}

/* More entries than the bounds allow are refused by count, before any of
 * them is read. */
static void test_bounds(void)
{
	g_autoptr(GString) s = g_string_new("{\"interfaces\":[");
	for (int i = 0; i <= NETWORK_MAX_IFACES; i++)
		g_string_append_printf(s, "%s{}", i ? "," : "");
	g_string_append(s, "]}");
	g_autoptr(GError) error = NULL;
	g_auto(yajl_val) args = ck_json_parse(s->str, s->len, "request", &error);
	g_assert_false(network_request_check(args, &error));
	g_assert_cmpstr(error->message, ==, "setup_network: interfaces: 17 entries, at most 16");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/network-op/refusals", test_refusals);
	g_test_add_func("/network-op/bounds", test_bounds);
	return g_test_run();
}
