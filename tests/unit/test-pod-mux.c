/* Unit tests: the pod monitor's multiplexer (conmon-kata/pod-mux.c)
 * between a scripted agent on a socketpair and a container monitor's
 * connection.
 *
 * A request a container's monitor passed on may be answered after the
 * multiplexer is gone: the pod stops (its sandbox ended) while another
 * container's monitor is removing its container. The answer must find no
 * freed multiplexer (it used to: a crash in g_hash_table_lookup, and no
 * exit file for the sandbox), and a request never answered is let go
 * when the agent client is freed (no leak; the ASan build checks both). */
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-error.h"
#include "proto/ck-frame.h"
#include "proto/ck-message.h"
#include "lib/agent-client.h"
#include "conmon-kata/pod-mux.h"

typedef struct {
	int agent_end;	   /* the scripted agent's end of the channel */
	AgentClient *agent; /* the pod monitor's client of it */
	char *dir;
	PodMux *mux;
	int client; /* a container monitor's connection to the mux */
} Fixture;

static void fixture_init(Fixture *fx)
{
	g_autoptr(GError) error = NULL;
	int sv[2];

	g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
	fx->agent_end = sv[1];
	fx->agent = agent_client_new(sv[0], NULL);
	fx->dir = g_dir_make_tmp("test-pod-mux-XXXXXX", &error);
	g_assert_no_error(error);
	g_autofree char *path = g_build_filename(fx->dir, "ctl.sock", NULL);
	fx->mux = pod_mux_new(fx->agent, path, &error);
	g_assert_no_error(error);
	fx->client = pod_mux_connect_pair(fx->mux, &error);
	g_assert_no_error(error);
	g_assert_cmpint(fx->client, >=, 0);
}

static void fixture_clear(Fixture *fx)
{
	pod_mux_free(fx->mux);
	agent_client_free(fx->agent);
	close(fx->agent_end);
	close(fx->client);
	g_autofree char *path = g_build_filename(fx->dir, "ctl.sock", NULL);
	(void)g_unlink(path);
	(void)g_rmdir(fx->dir);
	g_free(fx->dir);
}

static void iterate(int times)
{
	for (int i = 0; i < times; i++)
		g_main_context_iteration(NULL, FALSE);
}

/* The container monitor asks to remove its container; the mux passes it
 * on; returns the id the agent sees it under. */
static guint32 forward_remove(Fixture *fx)
{
	CkContainerArgs args = {.id = "ctr"};
	g_autoptr(CkJsonGen) req = ck_msg_request(CK_OP_REMOVE_CONTAINER, &args);
	gsize len = 0;
	g_autofree char *doc = ck_msg_finish(req, &len);
	CkFrame f = {.type = CK_FRAME_REQUEST, .id = 41, .len = (guint32)len, .payload = (const guint8 *)doc};
	g_autoptr(GByteArray) out = g_byte_array_new();

	ck_frame_append(out, &f);
	g_assert_cmpint(write(fx->client, out->data, out->len), ==, (gssize)out->len);

	/* run the loop until the agent's end has the whole forwarded frame */
	g_autoptr(GByteArray) got = g_byte_array_new();
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	CkFrame seen = {0};
	while (g_get_monotonic_time() < deadline) {
		iterate(4);
		struct pollfd pfd = {.fd = fx->agent_end, .events = POLLIN};
		if (poll(&pfd, 1, 10) == 1) {
			guint8 buf[4096];
			ssize_t n = read(fx->agent_end, buf, sizeof buf);
			g_assert_cmpint(n, >, 0);
			g_byte_array_append(got, buf, (guint)n);
		}
		if (got->len >= CK_FRAME_HEADER_SIZE) {
			g_autoptr(GError) error = NULL;
			g_assert_true(ck_frame_header_decode(got->data, &seen, &error));
			if (got->len >= CK_FRAME_HEADER_SIZE + seen.len)
				break;
		}
	}
	g_assert_cmpuint(got->len, ==, CK_FRAME_HEADER_SIZE + seen.len);
	g_assert_cmpint(seen.type, ==, CK_FRAME_REQUEST);
	g_assert_nonnull(g_strstr_len((const char *)got->data + CK_FRAME_HEADER_SIZE, seen.len, "remove_container"));
	return seen.id;
}

static void answer(Fixture *fx, guint32 id)
{
	g_autoptr(CkJsonGen) g = ck_msg_result_begin();
	gsize len = 0;
	g_autofree char *doc = ck_msg_finish(g, &len);
	CkFrame f = {.type = CK_FRAME_RESPONSE, .id = id, .len = (guint32)len, .payload = (const guint8 *)doc};
	g_autoptr(GByteArray) out = g_byte_array_new();

	ck_frame_append(out, &f);
	g_assert_cmpint(write(fx->agent_end, out->data, out->len), ==, (gssize)out->len);
}

/* The answer reaches the container monitor while the mux lives. */
static void test_answer_relayed(void)
{
	Fixture fx = {0};

	fixture_init(&fx);
	answer(&fx, forward_remove(&fx));
	struct pollfd pfd = {.fd = fx.client, .events = POLLIN};
	gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < deadline && poll(&pfd, 1, 10) == 0)
		iterate(4);
	guint8 hdr[CK_FRAME_HEADER_SIZE];
	g_assert_cmpint(read(fx.client, hdr, sizeof hdr), ==, (gssize)sizeof hdr);
	CkFrame f = {0};
	g_autoptr(GError) error = NULL;
	g_assert_true(ck_frame_header_decode(hdr, &f, &error));
	g_assert_cmpint(f.type, ==, CK_FRAME_RESPONSE);
	g_assert_cmpuint(f.id, ==, 41);
	fixture_clear(&fx);
}

/* The mux is freed (the pod stops), then the agent answers. */
static void test_answer_after_free(void)
{
	Fixture fx = {0};

	fixture_init(&fx);
	guint32 id = forward_remove(&fx);
	g_clear_pointer(&fx.mux, pod_mux_free);
	answer(&fx, id);
	iterate(20);
	g_assert_false(agent_client_is_closed(fx.agent));
	fixture_clear(&fx);
}

/* The pod stops with the answer still to come: the mux goes, then the
 * agent client (as pod_monitor_stop() frees them), and the request's
 * bookkeeping with it. */
static void test_never_answered(void)
{
	Fixture fx = {0};

	fixture_init(&fx);
	(void)forward_remove(&fx);
	g_clear_pointer(&fx.mux, pod_mux_free);
	g_clear_pointer(&fx.agent, agent_client_free);
	fixture_clear(&fx);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/pod-mux/answer-relayed", test_answer_relayed);
	g_test_add_func("/pod-mux/answer-after-free", test_answer_after_free);
	g_test_add_func("/pod-mux/never-answered", test_never_answered);
	return g_test_run();
}
