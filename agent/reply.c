/* reply: how the agent answers the host: a request's reply or error, and
 * events (see agent.h). The operations (server.c's table, container.c,
 * process.c, sandbox.c, portfwd.c) all answer through here, so that none
 * of them depends on the dispatcher that calls it. */
#include "agent.h"

#include "base/ck-log.h"
#include "proto/ck-message.h"

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
