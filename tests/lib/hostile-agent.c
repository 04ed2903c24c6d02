/* hostile-agent: the guest agent plus one operation, "misbehave", that
 * makes it break the protocol on purpose (issue 14 item 4; the test is
 * tests/e2e/hostile_guest.py, docs/security.md#a-hostile-guest).
 *
 * Built only for the tests, into its own guest image (tests/lib/meson.build):
 * the agent's main() is compiled under another name and called from here
 * once the extra operation is in the table. The agent that ships has no
 * such operation.
 *
 * {"op": "misbehave", "mode": M} is answered normally, then, from the main
 * loop, the agent does what M says:
 *   oversize        a response header announcing CK_FRAME_MAX_JSON + 1 bytes
 *   unknown-type    a frame of type 0x42
 *   bad-json-event  an event whose payload is cut-off JSON
 *   bad-json-reply  a response (to a request of its own making) that is not JSON
 *   unknown-id      a well-formed response to request 0x7ffffff0, never sent
 *   flood           64 MiB of stdout for every live process, credit ignored
 *   console-flood   256 KiB to the serial console (from a child process, so
 *                   the agent keeps serving), then the line CONSOLE_DONE
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-log.h"
#include "proto/ck-frame.h"
#include "agent/agent.h"
#include "agent/ops.h"
#include "agent/process.h"

#define FLOOD_TOTAL (64u * 1024u * 1024u)
#define FLOOD_STEP (1024u * 1024u)
#define CONSOLE_FLOOD_TOTAL (256u * 1024u)
#define CONSOLE_DONE "hostile-agent: console flood done\n"

int ck_agent_main(int argc, char **argv);

typedef struct {
	Agent *agent;
	char *mode;
	gsize flooded;
} Misbehaviour;

static void raw_write(Agent *agent, const guint8 *bytes, gsize len)
{
	int fd = ck_channel_get_fd(agent->channel);

	(void)ck_channel_flush(agent->channel, 1000, NULL);
	while (len > 0) {
		ssize_t n = write(fd, bytes, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return;
		bytes += n;
		len -= (gsize)n;
	}
}

static void send_header(Agent *agent, guint8 type, guint32 id, guint32 len)
{
	guint8 h[CK_FRAME_HEADER_SIZE] = {CK_FRAME_MAGIC, type, 0, 0};

	for (int i = 0; i < 4; i++) {
		h[4 + i] = (guint8)(id >> (24 - 8 * i));
		h[8 + i] = (guint8)(len >> (24 - 8 * i));
	}
	raw_write(agent, h, sizeof h);
}

/* One step of the flood: FLOOD_STEP more bytes to every live process. */
static gboolean flood_step(gpointer data)
{
	Misbehaviour *m = data;
	static guint8 junk[CK_FRAME_MAX_DATA];
	GHashTableIter it;
	gpointer handle;

	memset(junk, 'x', sizeof junk);
	if (m->flooded >= FLOOD_TOTAL || ck_channel_is_closed(m->agent->channel))
		return G_SOURCE_REMOVE;
	g_hash_table_iter_init(&it, m->agent->processes);
	while (g_hash_table_iter_next(&it, &handle, NULL))
		for (gsize sent = 0; sent < FLOOD_STEP; sent += sizeof junk)
			ck_channel_send_data(m->agent->channel, GPOINTER_TO_UINT(handle), CK_STREAM_STDOUT, junk,
					     sizeof junk);
	m->flooded += FLOOD_STEP;
	/* the queue drains as the host reads: don't let it grow past a step */
	(void)ck_channel_flush(m->agent->channel, 5000, NULL);
	return G_SOURCE_CONTINUE;
}

/* A child writes the console: a tty write waits for QEMU to take the
 * bytes, and the agent must keep answering meanwhile. */
static void flood_console(void)
{
	static char line[128];
	pid_t pid = fork();

	if (pid != 0) {
		if (pid < 0)
			ck_log_warning("console-flood: fork: %s", g_strerror(errno));
		return;
	}
	int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		_exit(1);
	memset(line, 'c', sizeof line - 1);
	line[sizeof line - 1] = '\n';
	for (gsize sent = 0; sent < CONSOLE_FLOOD_TOTAL; sent += sizeof line)
		if (!ck_write_all(fd, line, sizeof line))
			_exit(1);
	_exit(ck_write_all(fd, CONSOLE_DONE, strlen(CONSOLE_DONE)) ? 0 : 1);
}

static void misbehaviour_free(gpointer data)
{
	Misbehaviour *m = data;

	g_free(m->mode);
	g_free(m);
}

static gboolean misbehave(gpointer data)
{
	Misbehaviour *m = data;
	Agent *agent = m->agent;
	static const char cut[] = "{\"event\": \"exit\", \"handle\": ";
	static const char not_json[] = "{not json at all";
	static const char empty[] = "{\"result\": {}}";

	ck_log_warning("misbehaving on purpose: %s", m->mode);
	if (g_str_equal(m->mode, "oversize")) {
		send_header(agent, CK_FRAME_RESPONSE, 1, CK_FRAME_MAX_JSON + 1);
		raw_write(agent, (const guint8 *)empty, strlen(empty));
	} else if (g_str_equal(m->mode, "unknown-type")) {
		send_header(agent, 0x42, 1, 2);
		raw_write(agent, (const guint8 *)"{}", 2);
	} else if (g_str_equal(m->mode, "bad-json-event")) {
		ck_channel_send_json(agent->channel, CK_FRAME_EVENT, 0, cut, strlen(cut));
	} else if (g_str_equal(m->mode, "bad-json-reply")) {
		/* the first request of the pod monitor's: long answered, never
		 * forgotten as a number it used */
		ck_channel_send_json(agent->channel, CK_FRAME_RESPONSE, 1, not_json, strlen(not_json));
	} else if (g_str_equal(m->mode, "unknown-id")) {
		ck_channel_send_json(agent->channel, CK_FRAME_RESPONSE, 0x7ffffff0u, empty, strlen(empty));
	} else if (g_str_equal(m->mode, "console-flood")) {
		flood_console();
	} else if (g_str_equal(m->mode, "flood")) {
		g_idle_add_full(G_PRIORITY_DEFAULT_IDLE, flood_step, g_steal_pointer(&m), misbehaviour_free);
	}
	if (m != NULL)
		misbehaviour_free(m);
	return G_SOURCE_REMOVE;
}

static gboolean op_misbehave(AgentRequest *req, yajl_val args, GError **error)
{
	static const char *const modes[] = {
	    "oversize", "unknown-type", "bad-json-event", "bad-json-reply", "unknown-id", "flood", "console-flood", NULL};
	yajl_val v = ck_json_get(args, "mode");
	const char *mode = YAJL_IS_STRING(v) ? v->u.string : NULL;

	if (mode == NULL || !g_strv_contains(modes, mode))
		return ck_set_error(error, CK_ERROR_INVALID, "misbehave: unknown mode '%s'", mode ? mode : "");
	Misbehaviour *m = g_new0(Misbehaviour, 1);
	m->agent = req->agent;
	m->mode = g_strdup(mode);
	/* after the reply has gone out */
	g_timeout_add(200, misbehave, m);
	return TRUE;
}

static const AgentTestOp hostile_ops[] = {
    {"misbehave", op_misbehave},
};

int main(int argc, char **argv)
{
	agent_test_ops = hostile_ops;
	agent_n_test_ops = G_N_ELEMENTS(hostile_ops);
	return ck_agent_main(argc, argv);
}
