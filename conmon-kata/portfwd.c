/* portfwd: accepted loopback connections relayed to the guest (see portfwd.h). */
#include "portfwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-log.h"
#include "proto/ck-message.h"
#include "proto/ck-sock-relay.h"
#include "portfwd-steer.h"

struct PortForward {
	char *pod_id;
	AgentClient *agent;
	PortSteer *steer;
	guint accept_source[PORT_STEER_FAMILIES];
	GHashTable *conns; /* HostConn* set */
};

typedef struct {
	PortForward *pf; /* NULL: the forwarder went away while connect_port was pending */
	int fd;		 /* until the relay takes it */
	guint16 port;
	gboolean v6;
	guint32 handle;
	CkSockRelay *relay;
} HostConn;

/* Closes with a reset: the client must not take an end for complete data. */
static void reset_close(int *fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (*fd >= 0)
		(void)setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	ck_close_fdp(fd);
}

static void conn_free(HostConn *conn)
{
	if (conn->pf != NULL) {
		g_hash_table_remove(conn->pf->conns, conn);
		if (conn->handle != 0)
			agent_client_remove_stream_func(conn->pf->agent, conn->handle);
	}
	ck_sock_relay_free(conn->relay);
	reset_close(&conn->fd);
	g_free(conn);
}

static const char *target_host(const HostConn *conn)
{
	return conn->v6 ? "[::1]" : "127.0.0.1";
}

/* --- relaying ------------------------------------------------------------------------------ */

static void on_relay_done(CkSockRelay *relay, const char *reason, gpointer data)
{
	HostConn *conn = data;

	(void)relay;
	ck_log_debug("pod %s: forwarded connection to %s:%u (handle %u) ended%s%s", conn->pf->pod_id, target_host(conn),
		     conn->port, conn->handle, reason ? ": " : "", reason ? reason : "");
	conn_free(conn);
}

static void on_stream(AgentClient *c, const CkFrame *frame, gpointer data)
{
	HostConn *conn = data;

	(void)c;
	ck_sock_relay_handle_frame(conn->relay, frame);
}

static void on_connect_reply(AgentClient *c, yajl_val result, const GError *error, gpointer data)
{
	HostConn *conn = data;
	CkHandleResult r = {0};
	guint32 handle = 0;

	if (error == NULL && (!ck_msg_decode_result(CK_OP_CONNECT_PORT, result, &r, NULL) || r.handle == 0)) {
		ck_log_warning("pod %s: connect_port answered without a valid handle",
			       conn->pf ? conn->pf->pod_id : "?");
	}
	if (error == NULL)
		handle = r.handle;
	if (conn->pf == NULL || error != NULL || handle == 0) {
		if (error != NULL && conn->pf != NULL)
			ck_log_debug("pod %s: port forwarding to %s:%u: %s", conn->pf->pod_id, target_host(conn),
				     conn->port, error->message);
		if (handle != 0 && !agent_client_is_closed(c)) /* the guest end goes too */
			ck_channel_send_eof(agent_client_get_channel(c), handle, CK_STREAM_STDERR);
		conn_free(conn);
		return;
	}
	conn->handle = handle;
	conn->relay = ck_sock_relay_new(ck_steal_fd(&conn->fd), agent_client_get_channel(c), conn->handle,
					CK_STREAM_STDIN, CK_STREAM_STDOUT, on_relay_done, conn);
	agent_client_set_stream_func(c, conn->handle, on_stream, conn);
}

/* --- accepting -------------------------------------------------------------------------------- */

/* The address the client dialled: the accepted socket's own. */
static gboolean dialled_port(int fd, guint16 *port, gboolean *v6)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return FALSE;
	*v6 = ss.ss_family == AF_INET6;
	*port = ntohs(*v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	return TRUE;
}

static void forward(PortForward *pf, int fd)
{
	HostConn *conn = g_new0(HostConn, 1);
	conn->fd = fd;
	if (!dialled_port(fd, &conn->port, &conn->v6)) {
		conn_free(conn);
		return;
	}
	conn->pf = pf;
	g_hash_table_add(pf->conns, conn);
	CkConnectPortArgs args = {.port = conn->port, .family = conn->v6 ? "ipv6" : "ipv4"};
	g_autoptr(CkJsonGen) req = ck_msg_request(CK_OP_CONNECT_PORT, &args);
	agent_client_call_async(pf->agent, req, on_connect_reply, conn);
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
	PortForward *pf = data;

	(void)cond;
	int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (conn < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			ck_log_warning("pod %s: port forwarding: accept: %s", pf->pod_id, g_strerror(errno));
		return G_SOURCE_CONTINUE;
	}
	if (g_hash_table_size(pf->conns) >= PORT_FORWARD_MAX_CONNECTIONS) {
		ck_log_warning("pod %s: port forwarding: %d connections open already, resetting a new one", pf->pod_id,
			       PORT_FORWARD_MAX_CONNECTIONS);
		reset_close(&conn);
		return G_SOURCE_CONTINUE;
	}
	forward(pf, conn);
	return G_SOURCE_CONTINUE;
}

/* --- life ---------------------------------------------------------------------------------------- */

PortForward *port_forward_new(AgentClient *agent, const char *pod_id, const char *netns_path, GError **error)
{
	PortSteer *steer = port_steer_new(netns_path, error);

	if (steer == NULL)
		return NULL;
	PortForward *pf = g_new0(PortForward, 1);
	pf->pod_id = g_strdup(pod_id);
	pf->agent = agent;
	pf->steer = steer;
	pf->conns = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (int i = 0; i < PORT_STEER_FAMILIES; i++) {
		int fd = port_steer_listener(steer, (PortSteerFamily)i);
		if (fd >= 0)
			pf->accept_source[i] = g_unix_fd_add(fd, G_IO_IN, on_accept, pf);
	}
	return pf;
}

guint port_forward_count(PortForward *pf)
{
	return g_hash_table_size(pf->conns);
}

void port_forward_free(PortForward *pf)
{
	GHashTableIter it;
	gpointer key;

	if (pf == NULL)
		return;
	for (int i = 0; i < PORT_STEER_FAMILIES; i++)
		g_clear_handle_id(&pf->accept_source[i], g_source_remove);
	port_steer_free(pf->steer);
	g_hash_table_iter_init(&it, pf->conns);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		HostConn *conn = key;
		g_hash_table_iter_steal(&it);
		if (conn->relay != NULL) {
			ck_sock_relay_abort(conn->relay, "the pod is stopping");
			agent_client_remove_stream_func(pf->agent, conn->handle);
			conn->pf = NULL;
			conn_free(conn);
		} else {
			/* connect_port is pending: its reply frees the rest */
			conn->pf = NULL;
			reset_close(&conn->fd);
		}
	}
	g_hash_table_unref(pf->conns);
	g_free(pf->pod_id);
	g_free(pf);
}
