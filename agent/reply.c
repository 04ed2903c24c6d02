/* reply: how the agent answers the host (see reply.h). */
#include "reply.h"

#include "base/ck-log.h"
#include "proto/ck-message.h"

static void request_free(AgentRequest *req)
{
	g_free(req->name);
	g_free(req);
}

void agent_request_reply(AgentRequest *req, gconstpointer result)
{
	gsize len = 0;
	g_autoptr(CkJsonGen) g = req->op == CK_OP_UNKNOWN ? ck_msg_result_begin() : ck_msg_result(req->op, result);
	g_autofree char *doc = ck_msg_finish(g, &len);

	ck_channel_send_json(req->agent->channel, CK_FRAME_RESPONSE, req->id, doc, len);
	request_free(req);
}

void agent_request_fail(AgentRequest *req, const GError *error)
{
	gsize len = 0;
	g_autofree char *doc = ck_msg_error_response(error, &len);

	ck_log_debug("%s (request %u) failed: %s", req->name, req->id, error->message);
	ck_channel_send_json(req->agent->channel, CK_FRAME_RESPONSE, req->id, doc, len);
	request_free(req);
}

void agent_send_event(Agent *agent, CkEvent event, gconstpointer body)
{
	gsize len = 0;
	g_autoptr(CkJsonGen) g = ck_msg_event(event, body);
	g_autofree char *doc = ck_msg_finish(g, &len);

	ck_channel_send_json(agent->channel, CK_FRAME_EVENT, 0, doc, len);
}
