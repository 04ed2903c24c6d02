/* test-proto-ops: the typed protocol (agent/proto/ck-ops.[ch]).
 *
 * The name tables; a round trip (encode, decode, compare) of every
 * request, result and event with every field set; the exact bytes the
 * wire carried before the messages were typed; and each refusal the
 * decoders promise, with its exact text.
 */
#include <string.h>

#include "base/ck-error.h"
#include "base/ck-json.h"
#include "proto/ck-message.h"
#include "proto/ck-ops.h"

/* --- helpers ------------------------------------------------------------------- */

static char *encode_body(const CkMsgType *type, gconstpointer msg)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	gsize len = 0;

	ck_json_map_open(g);
	ck_msg_encode(type, g, msg);
	ck_json_map_close(g);
	char *doc = ck_json_gen_finish(g, &len, NULL);
	g_assert_nonnull(doc);
	return doc;
}

static yajl_val parse(const char *doc)
{
	g_autoptr(GError) error = NULL;
	yajl_val tree = ck_json_parse(doc, strlen(doc), "test", &error);

	g_assert_no_error(error);
	return tree;
}

static guint count_fields(const CkMsgType *type)
{
	guint n = 0;

	for (const CkJsonField *f = type->fields; f->key != NULL; f++)
		n += f->type != CK_JSON_IGNORE;
	return n;
}

/* encode -> decode -> encode gives the same document; every field of
 * the table was set (and so written); ck_msg_clear frees what decoding
 * made. Returns the decoded copy in out (caller clears). */
static void round_trip(const CkMsgType *type, gconstpointer msg, gpointer out)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *doc = encode_body(type, msg);
	g_auto(yajl_val) tree = parse(doc);

	g_assert_cmpuint(tree->u.object.len, ==, count_fields(type));
	g_assert_true(ck_msg_decode(type, tree, out, CK_JSON_STRICT, &error));
	g_assert_no_error(error);
	g_autofree char *again = encode_body(type, out);
	g_assert_cmpstr(again, ==, doc);
}

/* round_trip() into a copy that is then freed. */
static void round_trip_copy(const CkMsgType *type, gconstpointer msg)
{
	g_assert_nonnull(type);
	gpointer out = g_malloc0(type->size);
	round_trip(type, msg, out);
	ck_msg_clear(type, out);
	g_free(out);
}

typedef struct {
	CkOp op;
	gconstpointer msg;
} OpCase;

/* The round trip of each case's arguments (or results); every operation
 * that has arguments (results) is among the cases. */
static void round_trip_ops(const OpCase *cases, gsize n, gboolean results)
{
	guint typed = 0;

	for (gsize i = 0; i < n; i++) {
		const CkOpInfo *info = ck_op_info(cases[i].op);
		round_trip_copy(results ? info->result : info->args, cases[i].msg);
	}
	for (int op = 0; op < CK_OP_COUNT; op++) {
		const CkOpInfo *info = ck_op_info((CkOp)op);
		typed += (results ? info->result : info->args) != NULL;
	}
	g_assert_cmpuint(typed, ==, n);
}

/* A parsed JSON value for the yajl_val fields. */
static yajl_val value_of(const char *json)
{
	return parse(json);
}

/* --- names ---------------------------------------------------------------------- */

static void test_names(void)
{
	for (int op = 0; op < CK_OP_COUNT; op++) {
		const char *name = ck_op_name((CkOp)op);
		g_assert_nonnull(name);
		g_assert_cmpint(ck_op_from_name(name), ==, op);
		g_assert_cmpstr(ck_op_info((CkOp)op)->name, ==, name);
	}
	for (int ev = 0; ev < CK_EVENT_COUNT; ev++)
		g_assert_cmpint(ck_event_from_name(ck_event_name((CkEvent)ev)), ==, ev);
	g_assert_cmpint(ck_op_from_name("no-such-op"), ==, CK_OP_UNKNOWN);
	g_assert_cmpint(ck_op_from_name(NULL), ==, CK_OP_UNKNOWN);
	g_assert_cmpint(ck_event_from_name("exited"), ==, CK_EVENT_UNKNOWN);
	g_assert_cmpstr(ck_op_name(CK_OP_CREATE_CONTAINER), ==, "create_container");
	g_assert_cmpstr(ck_op_name(CK_OP_CLONE_IDENTITY), ==, "clone_identity");
	g_assert_cmpstr(ck_event_name(CK_EVENT_OOM), ==, "oom");
}

/* --- round trips: requests ---------------------------------------------------------- */

static void test_requests_round_trip(void)
{
	g_auto(yajl_val) spec = value_of("{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"]}}");
	g_auto(yajl_val) process = value_of("{\"args\":[\"ls\",\"-l\"],\"terminal\":true}");
	g_auto(yajl_val) resources = value_of("{\"memory\":{\"limit\":1048576}}");
	g_auto(yajl_val) sysctl = value_of("{\"net.ipv4.ip_forward\":\"1\"}");
	char *addrs[] = {"192.0.2.2/24", "2001:db8::2/64", NULL};
	CkNetInterface ifaces[] = {{"eth0", "be:8d:1b:65:c6:61", 1400, addrs}};
	CkNetRoute routes[] = {{"0.0.0.0/0", "eth0", "192.0.2.1", "192.0.2.2", 100, TRUE},
			       {"::/0", "eth0", "2001:db8::1", "2001:db8::2", 1024, TRUE}};

	CkVersionArgs version = {.protocol = 1};
	CkCloneIdentityArgs clone = {.entropy = "AAAA", .realtime_ns = 1796550000123456789, .rescan_pci = TRUE};
	CkSetupNetworkArgs network = {ifaces, 1, routes, 2};
	CkCreateSandboxArgs sandbox = {"pod", "kataShared", 524288, sysctl, "/usr/share/oci/hooks"};
	CkOnlineCpuMemArgs online = {.cpus = 4};
	CkCopyFileArgs copy = {"/run/kata/files/hosts", "aGVsbG8=", 0600};
	CkContainerArgs container = {.id = "web"};
	CkCreateContainerArgs create = {"web", spec, "/run/kata/shared/web/rootfs", TRUE, "IAAAAAQAAAA=", 1};
	CkExecProcessArgs exec = {"web", "exec-1", process, TRUE};
	CkSignalProcessArgs signal = {{7, "web", "exec-1"}, 15, TRUE};
	CkWaitProcessArgs wait = {{7, "web", "exec-1"}};
	CkResizeTerminalArgs resize = {{7, "web", "exec-1"}, 24, 80};
	CkUpdateContainerArgs update = {"web", resources};
	CkConnectPortArgs connect = {8080, "ipv6"};

	const OpCase cases[] = {
	    {CK_OP_VERSION, &version},
	    {CK_OP_CLONE_IDENTITY, &clone},
	    {CK_OP_SETUP_NETWORK, &network},
	    {CK_OP_CREATE_SANDBOX, &sandbox},
	    {CK_OP_ONLINE_CPU_MEM, &online},
	    {CK_OP_COPY_FILE, &copy},
	    {CK_OP_CREATE_CONTAINER, &create},
	    {CK_OP_START_CONTAINER, &container},
	    {CK_OP_EXEC_PROCESS, &exec},
	    {CK_OP_SIGNAL_PROCESS, &signal},
	    {CK_OP_WAIT_PROCESS, &wait},
	    {CK_OP_RESIZE_TERMINAL, &resize},
	    {CK_OP_REMOVE_CONTAINER, &container},
	    {CK_OP_PAUSE_CONTAINER, &container},
	    {CK_OP_RESUME_CONTAINER, &container},
	    {CK_OP_UPDATE_CONTAINER, &update},
	    {CK_OP_STATS_CONTAINER, &container},
	    {CK_OP_STATE_CONTAINER, &container},
	    {CK_OP_LIST_PROCESSES, &container},
	    {CK_OP_CONNECT_PORT, &connect},
	};
	round_trip_ops(cases, G_N_ELEMENTS(cases), FALSE);

	/* the decoded copy holds the values, not only the same text */
	CkSetupNetworkArgs back = {0};
	round_trip(ck_op_info(CK_OP_SETUP_NETWORK)->args, &network, &back);
	g_assert_cmpuint(back.n_interfaces, ==, 1);
	g_assert_cmpstr(back.interfaces[0].mac, ==, "be:8d:1b:65:c6:61");
	g_assert_cmpint(back.interfaces[0].mtu, ==, 1400);
	g_assert_cmpstr(back.interfaces[0].addresses[1], ==, "2001:db8::2/64");
	g_assert_cmpuint(back.n_routes, ==, 2);
	g_assert_cmpstr(back.routes[1].gateway, ==, "2001:db8::1");
	g_assert_cmpuint(back.routes[1].metric, ==, 1024);
	g_assert_true(back.routes[1].onlink);
	ck_msg_clear_args(CK_OP_SETUP_NETWORK, &back);
	g_assert_null(back.interfaces);

	CkSignalProcessArgs sig = {0};
	round_trip(ck_op_info(CK_OP_SIGNAL_PROCESS)->args, &signal, &sig);
	g_assert_cmpuint(sig.ref.handle, ==, 7);
	g_assert_cmpstr(sig.ref.id, ==, "web");
	g_assert_cmpstr(sig.ref.exec_id, ==, "exec-1");
	g_assert_cmpint(sig.signal, ==, 15);
	g_assert_true(sig.all);
	ck_msg_clear_args(CK_OP_SIGNAL_PROCESS, &sig);
}

/* --- round trips: results and events ------------------------------------------------- */

static void test_results_round_trip(void)
{
	gint64 pids[] = {1, 7, 42};
	char *abis[] = {"ia32", NULL};
	CkVersionResult version = {1, "0.1.0", "abc", "6.1.0", "#1 SMP", "x86_64", 5, 1, 2, 1024, 2, 3, abis, TRUE};
	CkCloneIdentityResult clone = {"6f2c"};
	CkGuestDetailsResult details = {"6.1.0", 2048, 1024, 2, 4, 1};
	CkOnlineCpuMemResult online = {2, 8, 4};
	CkSpawnResult spawn = {3, 77, {11, 12, 13, 14, 15, 16, 17}};
	CkWaitProcessResult wait = {137, 9, TRUE, 77};
	CkStatsResult stats = {{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}, {11}};
	CkStateResult state = {"stopped", 77, 3, 137, TRUE};
	CkListProcessesResult list = {pids, 3};
	CkHandleResult handle = {9};

	const OpCase cases[] = {
	    {CK_OP_VERSION, &version},	     {CK_OP_CLONE_IDENTITY, &clone},   {CK_OP_GUEST_DETAILS, &details},
	    {CK_OP_ONLINE_CPU_MEM, &online}, {CK_OP_CREATE_CONTAINER, &spawn}, {CK_OP_EXEC_PROCESS, &spawn},
	    {CK_OP_WAIT_PROCESS, &wait},     {CK_OP_STATS_CONTAINER, &stats},  {CK_OP_STATE_CONTAINER, &state},
	    {CK_OP_LIST_PROCESSES, &list},   {CK_OP_CONNECT_PORT, &handle},
	};
	round_trip_ops(cases, G_N_ELEMENTS(cases), TRUE);

	CkListProcessesResult back = {0};
	round_trip(ck_op_info(CK_OP_LIST_PROCESSES)->result, &list, &back);
	g_assert_cmpuint(back.n_pids, ==, 3);
	g_assert_cmpint(back.pids[2], ==, 42);
	ck_msg_clear_result(CK_OP_LIST_PROCESSES, &back);

	CkStatsResult st = {0};
	round_trip(ck_op_info(CK_OP_STATS_CONTAINER)->result, &stats, &st);
	g_assert_cmpint(st.cpu.throttled_usec, ==, 5);
	g_assert_cmpint(st.memory.oom_kill, ==, 10);
	g_assert_cmpint(st.pids.current, ==, 11);
}

static void test_events_round_trip(void)
{
	CkReadyEvent ready = {1};
	CkExitEvent exit = {"web", "exec-1", 3, 137, 9, TRUE};
	CkOomEvent oom = {"web"};
	gconstpointer bodies[CK_EVENT_COUNT] = {
	    [CK_EVENT_READY] = &ready, [CK_EVENT_EXIT] = &exit, [CK_EVENT_OOM] = &oom};

	for (int ev = 0; ev < CK_EVENT_COUNT; ev++) {
		g_assert_nonnull(bodies[ev]);
		round_trip_copy(ck_event_type((CkEvent)ev), bodies[ev]);
	}

	/* through the envelope: the name first, then the body */
	g_autoptr(CkJsonGen) g = ck_msg_event(CK_EVENT_EXIT, &exit);
	gsize len = 0;
	g_autofree char *doc = ck_msg_finish(g, &len);
	g_auto(yajl_val) tree = parse(doc);
	CkExitEvent back = {0};
	g_autoptr(GError) error = NULL;
	g_assert_true(ck_msg_decode_event(CK_EVENT_EXIT, tree, &back, &error));
	g_assert_cmpstr(back.container, ==, "web");
	g_assert_cmpstr(back.exec_id, ==, "exec-1");
	g_assert_cmpuint(back.handle, ==, 3);
	g_assert_cmpint(back.exit_code, ==, 137);
	g_assert_true(back.oom_killed);
	ck_msg_clear_event(CK_EVENT_EXIT, &back);
}

/* --- the bytes on the wire, as they were before the messages were typed ------------- */

static char *finish(CkJsonGen *g)
{
	gsize len = 0;
	return ck_msg_finish(g, &len);
}

static void test_wire_bytes(void)
{
	CkExitEvent exit = {.container = "web", .handle = 3};
	g_autoptr(CkJsonGen) e = ck_msg_event(CK_EVENT_EXIT, &exit);
	g_autofree char *exit_doc = finish(e);
	g_assert_cmpstr(exit_doc, ==,
			"{\"event\":\"exit\",\"container\":\"web\",\"exec_id\":null,\"handle\":3,\"exit_code\":0,"
			"\"signal\":0,\"oom_killed\":false}");

	CkCreateSandboxArgs sandbox = {.hostname = "pod", .share_tag = "kataShared", .msize_9p = 524288};
	g_autoptr(CkJsonGen) s = ck_msg_request(CK_OP_CREATE_SANDBOX, &sandbox);
	g_autofree char *sandbox_doc = finish(s);
	g_assert_cmpstr(
	    sandbox_doc, ==,
	    "{\"op\":\"create_sandbox\",\"hostname\":\"pod\",\"share_tag\":\"kataShared\",\"msize_9p\":524288}");

	CkResizeTerminalArgs resize = {.ref.handle = 5, .rows = 24, .cols = 80};
	g_autoptr(CkJsonGen) r = ck_msg_request(CK_OP_RESIZE_TERMINAL, &resize);
	g_autofree char *resize_doc = finish(r);
	g_assert_cmpstr(resize_doc, ==, "{\"op\":\"resize_terminal\",\"handle\":5,\"rows\":24,\"cols\":80}");

	CkVersionArgs version = {.protocol = CK_PROTO_VERSION};
	g_autoptr(CkJsonGen) v = ck_msg_request(CK_OP_VERSION, &version);
	g_autofree char *version_doc = finish(v);
	g_assert_cmpstr(version_doc, ==, "{\"op\":\"version\",\"protocol\":1}");

	g_autoptr(CkJsonGen) p = ck_msg_request(CK_OP_PING, NULL);
	g_autofree char *ping_doc = finish(p);
	g_assert_cmpstr(ping_doc, ==, "{\"op\":\"ping\"}");

	/* state: exit_code and oom_killed only once stopped */
	CkStateResult running = {.status = "running", .pid = 77, .handle = 3, .exit_code = 0};
	g_autoptr(CkJsonGen) st = ck_msg_result(CK_OP_STATE_CONTAINER, &running);
	g_autofree char *state_doc = finish(st);
	g_assert_cmpstr(state_doc, ==, "{\"result\":{\"status\":\"running\",\"pid\":77,\"handle\":3}}");

	/* stats: an unreadable single-number file is null, keyed values as read */
	CkStatsResult stats = {{1, 2, 3, 4, 5}, {-1, -1, 8, -1, 0}, {-1}};
	g_autoptr(CkJsonGen) sg = ck_msg_result(CK_OP_STATS_CONTAINER, &stats);
	g_autofree char *stats_doc = finish(sg);
	g_assert_cmpstr(stats_doc, ==,
			"{\"result\":{\"cpu\":{\"usage_usec\":1,\"user_usec\":2,\"system_usec\":3,\"nr_throttled\":4,"
			"\"throttled_usec\":5},\"memory\":{\"usage\":null,\"max_usage\":null,\"anon\":8,\"file\":-1,"
			"\"oom_kill\":0},\"pids\":{\"current\":null}}}");
	g_auto(yajl_val) tree = parse(stats_doc);
	CkStatsResult back = {0};
	g_autoptr(GError) error = NULL;
	g_assert_true(ck_msg_decode_result(CK_OP_STATS_CONTAINER, ck_json_get(tree, "result"), &back, &error));
	g_assert_cmpint(back.memory.usage, ==, -1);
	g_assert_cmpint(back.memory.file, ==, -1);
	g_assert_cmpint(back.pids.current, ==, -1);

	g_autoptr(CkJsonGen) empty = ck_msg_result(CK_OP_START_CONTAINER, NULL);
	g_autofree char *empty_doc = finish(empty);
	g_assert_cmpstr(empty_doc, ==, "{\"result\":{}}");
}

/* --- refusals ------------------------------------------------------------------------ */

typedef enum { ARGS, RESULT, EVENT } Side;

typedef struct {
	Side side;
	int which; /* CkOp or CkEvent */
	const char *json;
	const char *message;
} Refusal;

static const Refusal refusals[] = {
    /* requests, as the agent reads them: missing, wrong type, unknown, oversize */
    {ARGS, CK_OP_COPY_FILE, "{\"op\":\"copy_file\",\"path\":\"/run/kata/files/x\"}",
     "copy_file: data: required field missing"},
    {ARGS, CK_OP_CLONE_IDENTITY, "{\"realtime_ns\":1}", "clone_identity: entropy: required field missing"},
    {ARGS, CK_OP_SETUP_NETWORK, "{\"routes\":[]}", "setup_network: interfaces: required field missing"},
    {ARGS, CK_OP_SETUP_NETWORK, "{\"interfaces\":[{\"name\":\"eth0\",\"mtu\":1400}]}",
     "setup_network: interfaces[0].mac: required field missing"},
    {ARGS, CK_OP_CONNECT_PORT, "{\"family\":\"ipv4\"}", "connect_port: port: required field missing"},
    {ARGS, CK_OP_CREATE_CONTAINER, "{\"id\":\"web\",\"spec\":\"x\"}",
     "create_container: spec: expected an object, got a string"},
    {ARGS, CK_OP_EXEC_PROCESS, "{\"id\":\"web\",\"stdin\":1}", "exec_process: stdin: expected a boolean, got a number"},
    {ARGS, CK_OP_SIGNAL_PROCESS, "{\"handle\":\"3\",\"signal\":9}",
     "signal_process: handle: expected an integer, got a string"},
    {ARGS, CK_OP_CREATE_SANDBOX, "{\"sysctl\":[]}", "create_sandbox: sysctl: expected an object, got an array"},
    {ARGS, CK_OP_SETUP_NETWORK,
     "{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"be:8d:1b:65:c6:61\",\"mtu\":1400,\"addresses\":[1]}]}",
     "setup_network: interfaces[0].addresses[0]: expected a string, got a number"},
    {ARGS, CK_OP_START_CONTAINER, "{\"id\":\"web\",\"rows\":3}", "start_container: rows: unknown field"},
    {ARGS, CK_OP_PING, "{\"op\":\"ping\",\"now\":true}", "ping: now: unknown field"},
    {ARGS, CK_OP_SETUP_NETWORK, "{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"m\",\"mtu\":1400,\"vlan\":3}]}",
     "setup_network: interfaces[0].vlan: unknown field"},
    {ARGS, CK_OP_CONNECT_PORT, "{\"port\":65536}", "connect_port: port: 65536 is out of range (1..65535)"},
    {ARGS, CK_OP_SETUP_NETWORK, "{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"m\",\"mtu\":67}]}",
     "setup_network: interfaces[0].mtu: 67 is out of range (68..65535)"},
    {ARGS, CK_OP_WAIT_PROCESS, "{\"handle\":4294967296}", "wait_process: handle: 4294967296 is out of range"},
    {ARGS, CK_OP_RESIZE_TERMINAL, "{\"handle\":1,\"rows\":-1}", "resize_terminal: rows: -1 is out of range"},
    /* results and events, as the host reads the guest's */
    {RESULT, CK_OP_CREATE_CONTAINER, "{\"pid\":7}", "create_container result: handle: required field missing"},
    {RESULT, CK_OP_WAIT_PROCESS, "{\"signal\":0}", "wait_process result: exit_code: required field missing"},
    {RESULT, CK_OP_LIST_PROCESSES, "{\"pids\":\"1 2\"}",
     "list_processes result: pids: expected an array, got a string"},
    {RESULT, CK_OP_LIST_PROCESSES, "{\"pids\":[1,true]}",
     "list_processes result: pids[1]: expected an integer, got a boolean"},
    {RESULT, CK_OP_STATS_CONTAINER, "{\"cpu\":{\"usage_usec\":\"x\"}}",
     "stats_container result: cpu.usage_usec: expected an integer, got a string"},
    {RESULT, CK_OP_STATE_CONTAINER, "{\"pid\":1}", "state_container result: status: required field missing"},
    {RESULT, CK_OP_CONNECT_PORT, "{\"handle\":-1}", "connect_port result: handle: -1 is out of range"},
    {RESULT, CK_OP_VERSION, "{\"protocol\":1}", "version result: uptime_us: required field missing"},
    {EVENT, CK_EVENT_EXIT, "{\"event\":\"exit\",\"handle\":\"3\"}",
     "exit event: handle: expected an integer, got a string"},
    {EVENT, CK_EVENT_OOM, "{\"event\":\"oom\"}", "oom event: container: required field missing"},
    {EVENT, CK_EVENT_EXIT, "[]", "exit event: document: expected an object, got an array"},
};

static gboolean decode(Side side, int which, yajl_val tree, gpointer out, GError **error)
{
	switch (side) {
	case ARGS:
		return ck_msg_decode_args((CkOp)which, tree, out, error);
	case RESULT:
		return ck_msg_decode_result((CkOp)which, tree, out, error);
	default:
		return ck_msg_decode_event((CkEvent)which, tree, out, error);
	}
}

static const CkMsgType *type_of(Side side, int which)
{
	if (side == EVENT)
		return ck_event_type((CkEvent)which);
	return side == ARGS ? ck_op_info((CkOp)which)->args : ck_op_info((CkOp)which)->result;
}

static void test_refusals(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(refusals); i++) {
		const Refusal *r = &refusals[i];
		const CkMsgType *type = type_of(r->side, r->which);
		g_autoptr(GError) error = NULL;
		g_auto(yajl_val) tree = parse(r->json);
		gsize size = type != NULL ? type->size : 0;
		g_autofree gpointer out = g_malloc0(MAX(size, 1));

		g_assert_false(decode(r->side, r->which, tree, out, &error));
		g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
		g_assert_cmpstr(error->message, ==, r->message);
		if (type != NULL)
			ck_msg_clear(type, out); /* what was decoded before the refusal is freed */
	}
}

/* The lists' bounds: the protocol's, one past each refused. */
static void test_list_bounds(void)
{
	g_autoptr(GString) ifaces = g_string_new("{\"interfaces\":[");
	g_autoptr(GString) routes = g_string_new("{\"interfaces\":[],\"routes\":[");

	for (int i = 0; i <= CK_NET_MAX_IFACES; i++)
		g_string_append_printf(ifaces, "%s{\"name\":\"e%d\",\"mac\":\"m\",\"mtu\":1500}", i ? "," : "", i);
	g_string_append(ifaces, "]}");
	for (int i = 0; i <= CK_NET_MAX_ROUTES; i++)
		g_string_append_printf(routes, "%s{\"dest\":\"0.0.0.0/0\",\"device\":\"e\"}", i ? "," : "");
	g_string_append(routes, "]}");

	const char *docs[] = {ifaces->str, routes->str};
	const char *want[] = {"setup_network: interfaces: 17 entries, at most 16",
			      "setup_network: routes: 257 entries, at most 256"};
	for (gsize i = 0; i < G_N_ELEMENTS(docs); i++) {
		g_autoptr(GError) error = NULL;
		g_auto(yajl_val) tree = parse(docs[i]);
		CkSetupNetworkArgs a = {0};
		g_assert_false(ck_msg_decode_args(CK_OP_SETUP_NETWORK, tree, &a, &error));
		g_assert_cmpstr(error->message, ==, want[i]);
		ck_msg_clear_args(CK_OP_SETUP_NETWORK, &a);
	}
}

/* Replies and events are read leniently: a field a newer agent adds is
 * ignored, the known ones still checked. */
static void test_lenient_results(void)
{
	g_auto(yajl_val) tree = parse("{\"handle\":4,\"pid\":9,\"cgroup\":\"/x\"}");
	CkSpawnResult r = {0};
	g_autoptr(GError) error = NULL;

	g_assert_true(ck_msg_decode_result(CK_OP_EXEC_PROCESS, tree, &r, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(r.handle, ==, 4);
	g_assert_cmpint(r.pid, ==, 9);
}

/* An agent that does not report its kernel's compat ABIs leaves them
 * unknown (NULL), which is not the same as none ([]): the host then keeps
 * every architecture a seccomp profile lists. An older agent does not say
 * it takes a compiled program (seccomp_bpf false): the host then sends it
 * the profile. A create without a compiled filter has none. */
static void test_optional_fields(void)
{
	g_auto(yajl_val) old = parse("{\"protocol\":1,\"uptime_us\":5}");
	g_auto(yajl_val) none = parse("{\"protocol\":1,\"uptime_us\":5,\"compat_abis\":[]}");
	g_auto(yajl_val) create = parse("{\"op\":\"create_container\",\"id\":\"web\",\"spec\":{},\"rootfs\":\"/r\"}");
	CkVersionResult v_old = {0}, v_none = {0};
	CkCreateContainerArgs a = {0};
	g_autoptr(GError) error = NULL;

	g_assert_true(ck_msg_decode_result(CK_OP_VERSION, old, &v_old, &error));
	g_assert_null(v_old.compat_abis);
	g_assert_false(v_old.seccomp_bpf);
	g_assert_true(ck_msg_decode_result(CK_OP_VERSION, none, &v_none, &error));
	g_assert_nonnull(v_none.compat_abis);
	g_assert_null(v_none.compat_abis[0]);
	g_assert_true(ck_msg_decode_args(CK_OP_CREATE_CONTAINER, create, &a, &error));
	g_assert_no_error(error);
	g_assert_null(a.seccomp_bpf);
	g_assert_cmpint(a.seccomp_flags, ==, 0);
	ck_msg_clear_result(CK_OP_VERSION, &v_old);
	ck_msg_clear_result(CK_OP_VERSION, &v_none);
	ck_msg_clear_args(CK_OP_CREATE_CONTAINER, &a);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/proto-ops/names", test_names);
	g_test_add_func("/proto-ops/requests-round-trip", test_requests_round_trip);
	g_test_add_func("/proto-ops/results-round-trip", test_results_round_trip);
	g_test_add_func("/proto-ops/events-round-trip", test_events_round_trip);
	g_test_add_func("/proto-ops/wire-bytes", test_wire_bytes);
	g_test_add_func("/proto-ops/refusals", test_refusals);
	g_test_add_func("/proto-ops/list-bounds", test_list_bounds);
	g_test_add_func("/proto-ops/lenient-results", test_lenient_results);
	g_test_add_func("/proto-ops/optional-fields", test_optional_fields);
	return g_test_run();
}
