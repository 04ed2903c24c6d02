/* server: the agent's end of the channel (see server.h). */
#include "server.h"

#include <string.h>

#include "base/ck-error.h"
#include "base/ck-log.h"
#include "proto/ck-message.h"
#include "ops.h"
#include "portfwd.h"
#include "process.h"

/* The request's arguments as the operation's struct, the handler's
 * result struct encoded as the reply. */
static void dispatch(AgentRequest *req, const AgentOp *entry, yajl_val tree)
{
	CkOp op = req->op; /* req is gone once answered */
	const CkOpInfo *info = ck_op_info(op);
	g_autoptr(GError) error = NULL;
	g_autofree gpointer args = info->args != NULL ? g_malloc0(info->args->size) : NULL;
	g_autofree gpointer result = info->result != NULL ? g_malloc0(info->result->size) : NULL;

	if (args != NULL && entry->defaults != NULL)
		memcpy(args, entry->defaults, info->args->size);
	/* a handler that defers copies what it keeps of args */
	req->tree = tree;
	if (!ck_msg_decode_args(op, tree, args, &error) || !entry->func(req, args, result, &error))
		agent_request_fail(req, error);
	else if (!req->deferred)
		agent_request_reply(req, result);
	if (args != NULL)
		ck_msg_clear_args(op, args);
	if (result != NULL)
		ck_msg_clear_result(op, result);
}

static void dispatch_test_op(AgentRequest *req, const AgentTestOp *entry, yajl_val tree)
{
	g_autoptr(GError) error = NULL;

	if (!entry->func(req, tree, &error))
		agent_request_fail(req, error);
	else
		agent_request_reply(req, NULL);
}

static void handle_request(Agent *agent, const CkFrame *frame)
{
	g_autoptr(GError) error = NULL;
	g_auto(yajl_val) tree = NULL;
	const char *name = NULL;
	AgentRequest *req = g_new0(AgentRequest, 1);

	req->agent = agent;
	req->id = frame->id;
	req->op = CK_OP_UNKNOWN;
	if (!ck_msg_parse_request(frame, &tree, &name, &error)) {
		req->name = g_strdup("(unparsable)");
		agent_request_fail(req, error);
		return;
	}
	req->name = g_strdup(name);
	req->op = ck_op_from_name(name);
	ck_log_debug("request %u: %s", req->id, name);

	const AgentOp *entry = agent_op_find(req->op);
	const AgentTestOp *test_op = entry == NULL ? agent_test_op_find(name) : NULL;
	if (entry != NULL) {
		dispatch(req, entry, tree);
	} else if (test_op != NULL) {
		dispatch_test_op(req, test_op, tree);
	} else {
		ck_set_error(&error, CK_ERROR_UNSUPPORTED, "unknown operation '%s'", name);
		agent_request_fail(req, error);
	}
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
	CkReadyEvent ready = {.protocol = CK_PROTO_VERSION};
	agent_send_event(agent, CK_EVENT_READY, &ready);
}
