/* portfwd: connect_port and the guest's forwarded connections (see portfwd.h). */
#include "portfwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-json.h"
#include "base/ck-log.h"
#include "proto/ck-sock-relay.h"

struct PortFwd {
	GHashTable *conns; /* handle -> CkSockRelay* (owned) */
	guint connecting;  /* connects not yet answered */
};

typedef struct {
	AgentRequest *req;
	int fd;
	guint watch;
	guint timeout;
	char *target; /* "127.0.0.1:8080", for messages */
} Connecting;

static struct PortFwd *portfwd_of(Agent *agent)
{
	if (agent->portfwd == NULL) {
		agent->portfwd = g_new0(struct PortFwd, 1);
		agent->portfwd->conns =
		    g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)ck_sock_relay_free);
	}
	return agent->portfwd;
}

/* --- relaying ---------------------------------------------------------------------- */

static void on_relay_done(CkSockRelay *relay, const char *reason, gpointer data)
{
	Agent *agent = data;
	guint32 handle = ck_sock_relay_get_handle(relay);

	ck_log_debug("port connection %u ended%s%s", handle, reason ? ": " : "", reason ? reason : "");
	g_hash_table_remove(portfwd_of(agent)->conns, GUINT_TO_POINTER(handle));
}

gboolean portfwd_handle_frame(Agent *agent, const CkFrame *frame)
{
	CkSockRelay *relay =
	    agent->portfwd ? g_hash_table_lookup(agent->portfwd->conns, GUINT_TO_POINTER(frame->id)) : NULL;

	if (relay == NULL)
		return FALSE;
	ck_sock_relay_handle_frame(relay, frame);
	return TRUE;
}

/* The connection is up: a handle, then the answer, then the bytes (the
 * relay reads from the next loop iteration on, after the reply). */
static guint32 start_relay(Agent *agent, int fd)
{
	guint32 handle = ++agent->next_handle;
	CkSockRelay *relay =
	    ck_sock_relay_new(fd, agent->channel, handle, CK_STREAM_STDOUT, CK_STREAM_STDIN, on_relay_done, agent);

	g_hash_table_insert(portfwd_of(agent)->conns, GUINT_TO_POINTER(handle), relay);
	return handle;
}

/* --- connecting ---------------------------------------------------------------------- */

static void connecting_finish(Connecting *c, const GError *error)
{
	Agent *agent = c->req->agent;

	g_clear_handle_id(&c->watch, g_source_remove);
	g_clear_handle_id(&c->timeout, g_source_remove);
	portfwd_of(agent)->connecting--;
	if (error != NULL) {
		agent_request_fail(c->req, error);
	} else {
		CkHandleResult r = {.handle = start_relay(agent, ck_steal_fd(&c->fd))};
		agent_request_reply(c->req, &r);
	}
	ck_close_fdp(&c->fd);
	g_free(c->target);
	g_free(c);
}

static gboolean on_connected(gint fd, GIOCondition cond, gpointer data)
{
	Connecting *c = data;
	g_autoptr(GError) error = NULL;
	int err = 0;
	socklen_t len = sizeof err;

	(void)cond;
	c->watch = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0)
		ck_set_error_errno(&error, err, "connect_port: %s", c->target);
	connecting_finish(c, error);
	return G_SOURCE_REMOVE;
}

static gboolean on_connect_timeout(gpointer data)
{
	Connecting *c = data;
	g_autoptr(GError) error = NULL;

	c->timeout = 0;
	ck_set_error(&error, CK_ERROR_TIMEOUT, "connect_port: %s: no answer within %d s", c->target,
		     PORTFWD_CONNECT_TIMEOUT_MS / 1000);
	connecting_finish(c, error);
	return G_SOURCE_REMOVE;
}

/* The loopback address of the family, as a socket address. */
static gboolean loopback_addr(const char *family, guint16 port, struct sockaddr_storage *ss, socklen_t *len,
			      GError **error)
{
	memset(ss, 0, sizeof *ss);
	if (family == NULL || g_str_equal(family, "ipv4")) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		*len = sizeof *in;
		return TRUE;
	}
	if (g_str_equal(family, "ipv6")) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		in6->sin6_addr = in6addr_loopback;
		*len = sizeof *in6;
		return TRUE;
	}
	return ck_set_error(error, CK_ERROR_INVALID, "connect_port: family: '%s' is neither ipv4 nor ipv6", family);
}

gboolean op_connect_port(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	const CkConnectPortArgs a = *(const CkConnectPortArgs *)args;
	struct sockaddr_storage ss;
	socklen_t len = 0;

	if (!loopback_addr(a.family, (guint16)a.port, &ss, &len, error))
		return FALSE;
	struct PortFwd *pf = portfwd_of(req->agent);
	if (g_hash_table_size(pf->conns) + pf->connecting >= PORTFWD_MAX_CONNECTIONS)
		return ck_set_error(error, CK_ERROR_FAILED, "connect_port: %d connections are open already",
				    PORTFWD_MAX_CONNECTIONS);

	gboolean v6 = ss.ss_family == AF_INET6;
	g_autofree char *target = g_strdup_printf(v6 ? "[::1]:%d" : "127.0.0.1:%d", a.port);
	ck_autofd fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ck_set_error_errno(error, errno, "connect_port: %s: socket", target);
	if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
		((CkHandleResult *)result)->handle = start_relay(req->agent, ck_steal_fd(&fd));
		return TRUE;
	}
	if (errno != EINPROGRESS)
		return ck_set_error_errno(error, errno, "connect_port: %s", target);

	Connecting *c = g_new0(Connecting, 1);
	c->req = req;
	c->fd = ck_steal_fd(&fd);
	c->target = g_steal_pointer(&target);
	c->watch = g_unix_fd_add(c->fd, G_IO_OUT | G_IO_ERR | G_IO_HUP, on_connected, c);
	c->timeout = g_timeout_add(PORTFWD_CONNECT_TIMEOUT_MS, on_connect_timeout, c);
	pf->connecting++;
	req->deferred = TRUE;
	return TRUE;
}
