/* server: frame dispatch and the sandbox-level operations of the agent.
 *
 * Owns the table from operation names to handlers and the handlers that
 * concern the guest as a whole (version, ping, shutdown). Container and
 * process operations live in their own files and are listed here.
 */
#include "agent.h"
#include "container.h"
#include "network.h"
#include "portfwd.h"
#include "process.h"
#include "sandbox.h"

#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-log.h"
#include "base/ck-version.h"
#include "proto/ck-message.h"

static gboolean op_version(AgentRequest *req, yajl_val args, CkJsonGen *result, GError **error)
{
	Agent *agent = req->agent;
	struct utsname uts;
	struct sysinfo si;
	gint64 proto = 0;

	if (ck_json_as_int64(ck_json_get(args, "protocol"), &proto) && proto != CK_PROTO_VERSION)
		return ck_set_error(error, CK_ERROR_UNSUPPORTED, "protocol version %" G_GINT64_FORMAT
				    " not supported by the agent (speaks %d)", proto, CK_PROTO_VERSION);
	(void)uname(&uts);
	(void)sysinfo(&si);

	ck_json_kv_int(result, "protocol", CK_PROTO_VERSION);
	ck_json_kv_string(result, "agent_version", CK_VERSION);
	ck_json_kv_string(result, "agent_commit", CK_GIT_COMMIT);
	ck_json_kv_string(result, "kernel_release", uts.release);
	ck_json_kv_string(result, "kernel_version", uts.version);
	ck_json_kv_string(result, "machine", uts.machine);
	ck_json_kv_int(result, "uptime_us", guest_uptime_us());
	ck_json_kv_int(result, "init_start_us", agent->start_uptime_us);
	ck_json_kv_int(result, "ready_us", agent->ready_uptime_us);
	ck_json_kv_int(result, "mem_total_kib", (gint64)(si.totalram * si.mem_unit / 1024));
	ck_json_kv_int(result, "cpus_online", sysconf(_SC_NPROCESSORS_ONLN));
	ck_json_kv_int(result, "modules_loaded", agent->modules_loaded);
	return TRUE;
}

static gboolean op_ping(AgentRequest *req, yajl_val args, CkJsonGen *result, GError **error)
{
	(void)req;
	(void)args;
	(void)result;
	(void)error;
	return TRUE;
}

static gboolean poweroff_cb(gpointer data)
{
	Agent *agent = data;

	(void)ck_channel_flush(agent->channel, 1000, NULL);
	ck_log_info("powering off");
	guest_poweroff();
}

static gboolean op_shutdown(AgentRequest *req, yajl_val args, CkJsonGen *result, GError **error)
{
	(void)args;
	(void)result;
	(void)error;
	/* answer first, then power off from the loop once the reply is out */
	req->agent->shutting_down = TRUE;
	g_idle_add(poweroff_cb, req->agent);
	return TRUE;
}

static const AgentOp base_ops[] = {
	{"version", op_version},
	{"ping", op_ping},
	{"shutdown", op_shutdown},
	{"setup_network", op_setup_network},
	{"create_sandbox", op_create_sandbox},
	{"destroy_sandbox", op_destroy_sandbox},
	{"guest_details", op_guest_details},
	{"online_cpu_mem", op_online_cpu_mem},
	{"copy_file", op_copy_file},
	{"create_container", op_create_container},
	{"start_container", op_start_container},
	{"exec_process", op_exec_process},
	{"signal_process", op_signal_process},
	{"wait_process", op_wait_process},
	{"resize_terminal", op_resize_terminal},
	{"remove_container", op_remove_container},
	{"pause_container", op_pause_container},
	{"resume_container", op_resume_container},
	{"update_container", op_update_container},
	{"stats_container", op_stats_container},
	{"state_container", op_state_container},
	{"list_processes", op_list_processes},
	{"connect_port", op_connect_port},
};

static const AgentOp *find_op(const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(base_ops); i++)
		if (g_str_equal(base_ops[i].name, name))
			return &base_ops[i];
	return NULL;
}

static void request_free(AgentRequest *req)
{
	g_free(req->op);
	g_free(req);
}

void agent_request_reply(AgentRequest *req, CkJsonGen *result)
{
	g_autoptr(CkJsonGen) empty = NULL;
	gsize len = 0;

	if (result == NULL)
		result = empty = ck_msg_result_begin();
	g_autofree char *doc = ck_msg_finish(result, &len);
	ck_channel_send_json(req->agent->channel, CK_FRAME_RESPONSE, req->id, doc, len);
	request_free(req);
}

void agent_request_fail(AgentRequest *req, const GError *error)
{
	gsize len = 0;
	g_autofree char *doc = ck_msg_error_response(error, &len);

	ck_log_debug("%s (request %u) failed: %s", req->op, req->id, error->message);
	ck_channel_send_json(req->agent->channel, CK_FRAME_RESPONSE, req->id, doc, len);
	request_free(req);
}

void agent_send_event(Agent *agent, CkJsonGen *event)
{
	gsize len = 0;
	g_autofree char *doc = ck_msg_finish(event, &len);

	ck_channel_send_json(agent->channel, CK_FRAME_EVENT, 0, doc, len);
}

static void handle_request(Agent *agent, const CkFrame *frame)
{
	g_autoptr(GError) error = NULL;
	g_auto(yajl_val) tree = NULL;
	const char *op = NULL;
	AgentRequest *req = g_new0(AgentRequest, 1);

	req->agent = agent;
	req->id = frame->id;
	if (!ck_msg_parse_request(frame, &tree, &op, &error)) {
		req->op = g_strdup("(unparsable)");
		agent_request_fail(req, error);
		return;
	}
	req->op = g_strdup(op);
	ck_log_debug("request %u: %s", req->id, op);

	const AgentOp *entry = find_op(op);
	if (entry == NULL) {
		ck_set_error(&error, CK_ERROR_UNSUPPORTED, "unknown operation '%s'", op);
		agent_request_fail(req, error);
		return;
	}
	g_autoptr(CkJsonGen) result = ck_msg_result_begin();
	if (!entry->func(req, tree, result, &error))
		agent_request_fail(req, error);
	else if (!req->deferred)
		agent_request_reply(req, result);
}

static void on_frame(CkChannel *ch, const CkFrame *frame, gpointer data)
{
	Agent *agent = data;
	Process *proc;

	(void)ch;
	switch (frame->type) {
	case CK_FRAME_REQUEST:
		handle_request(agent, frame);
		break;
	case CK_FRAME_DATA:
	case CK_FRAME_CREDIT:
	case CK_FRAME_EOF:
		proc = process_lookup_handle(agent, frame->id);
		if (proc != NULL)
			process_handle_frame(proc, frame);
		else if (portfwd_handle_frame(agent, frame))
			break;
		else if (frame->type == CK_FRAME_DATA)
			/* a process that is gone: give the window back */
			ck_channel_send_credit(agent->channel, frame->id, CK_STREAM_STDIN, frame->len);
		break;
	default:
		ck_log_warning("unexpected %s frame (id %u) from the host, ignoring",
			       ck_frame_type_to_string(frame->type), frame->id);
		break;
	}
}

static void on_closed(CkChannel *ch, const GError *error, gpointer data)
{
	Agent *agent = data;

	(void)ch;
	/* The host side is the pod monitor, which owns this VM: when it is
	 * gone nobody can reach the containers any more. */
	ck_log_error("host channel closed%s%s; powering off", error ? ": " : "", error ? error->message : "");
	agent->shutting_down = TRUE;
	guest_poweroff();
}

static void container_unref(gpointer p)
{
	/* containers are freed by their own removal path; by the time the
	 * table goes, the guest is powering off */
	(void)p;
}

void agent_init(Agent *agent)
{
	agent->containers = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, container_unref);
	agent->processes = g_hash_table_new(g_direct_hash, g_direct_equal);
	agent->pids = g_hash_table_new(g_direct_hash, g_direct_equal);
	agent->oom_watches = g_hash_table_new(g_direct_hash, g_direct_equal);
	agent->inotify_fd = -1;
}

void agent_child_exited(Agent *agent, pid_t pid, int status)
{
	Process *proc = process_lookup_pid(agent, pid);

	if (proc != NULL)
		process_exited(proc, status);
	else
		ck_log_debug("reaped %d (status 0x%x)", pid, status);
}

void agent_server_start(Agent *agent, int fd)
{
	agent->channel = ck_channel_new(fd, NULL, on_frame, on_closed, agent);

	/* tell the host we are listening; it sends nothing before this */
	g_autoptr(CkJsonGen) ev = ck_msg_event_begin(CK_EVENT_READY);
	ck_json_kv_int(ev, "protocol", CK_PROTO_VERSION);
	agent_send_event(agent, ev);
}
