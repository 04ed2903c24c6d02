/* attach: the attach socket, its clients, output broadcast and input
 * reading (conmon-interface.md#attach-socket to #stdin-rules). See attach.h. */
#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-log.h"
#include "base/ck-socket.h"

/* conmon-interface.md#attach-socket */
#define ATTACH_BACKLOG 10
#define ATTACH_MODE 0700
#define ATTACH_NAME "attach"

typedef struct AttachClient AttachClient;

struct AttachServer {
	char *socket_path;  /* <bundle>/attach once bound, unlinked at free */
	char *symlink_path; /* <socket_dir>/<cuuid>, CRI-O mode only */
	int listen_fd;
	guint listen_watch;
	GPtrArray *clients; /* AttachClient *, in accept order */
	gboolean stdin_open;
	gboolean paused;
	AttachCallbacks cb;
	guint8 inbuf[ATTACH_INPUT_MAX];
};

struct AttachClient {
	AttachServer *server;
	int fd;		   /* blocking, as conmon's accepted sockets are */
	guint watch;	   /* input watch; 0 while not reading or paused */
	gboolean reading;  /* its input is still wanted */
	gboolean writable; /* output still goes to it */
};

/* ---- clients ------------------------------------------------------------ */

static void client_free(gpointer p)
{
	AttachClient *c = p;

	if (c->watch != 0)
		g_source_remove(c->watch);
	ck_clear_fd(&c->fd);
	g_free(c);
}

static gboolean on_client_io(int fd, GIOCondition condition, gpointer user_data);

/* A client has an input watch exactly when its input is wanted and the
 * caller has not paused input. */
static void client_update_watch(AttachClient *c)
{
	gboolean want = c->reading && !c->server->paused;

	if (want && c->watch == 0)
		c->watch = g_unix_fd_add(c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_client_io, c);
	else if (!want && c->watch != 0)
		g_clear_handle_id(&c->watch, g_source_remove);
}

/* A client that neither reads nor writes any more is closed. */
static gboolean client_is_done(const AttachClient *c)
{
	return !c->reading && !c->writable;
}

static void client_maybe_drop(AttachClient *c)
{
	if (client_is_done(c))
		g_ptr_array_remove(c->server->clients, c);
}

/* conmon-interface.md#stdin-rules: the client is "terminated". Shut our read side, keep sending it
 * output until it closes, and let the caller decide about stdin. Runs
 * from the client's own watch, which the caller then removes. */
static void client_end_input(AttachClient *c)
{
	AttachServer *as = c->server;

	(void)shutdown(c->fd, SHUT_RD);
	c->reading = FALSE;
	c->watch = 0;
	ck_log_debug("attach: client %d ended its input", c->fd);
	if (as->cb.on_input_done != NULL)
		as->cb.on_input_done(as->cb.user_data);
	client_maybe_drop(c);
}

static gboolean on_client_io(int fd, GIOCondition condition, gpointer user_data)
{
	AttachClient *c = user_data;
	AttachServer *as = c->server;

	(void)condition;
	/* conmon-interface.md#attach-framing: no header, up to 32768 bytes per record; a longer record is
	 * cut, as in conmon. Read even on HUP/ERR: data may still be queued,
	 * and recv then reports the end (0) or the error. */
	ssize_t n = recv(fd, as->inbuf, sizeof as->inbuf, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n <= 0) {
		client_end_input(c); /* may free c */
		return G_SOURCE_REMOVE;
	}

	if (!as->stdin_open) {
		/* conmon-interface.md#stdin-rules: stdin is /dev/null; read one record, then stop. */
		c->reading = FALSE;
		c->watch = 0;
		client_maybe_drop(c); /* may free c */
		return G_SOURCE_REMOVE;
	}
	if (as->cb.on_input != NULL)
		as->cb.on_input(as->inbuf, (gsize)n, as->cb.user_data);
	return G_SOURCE_CONTINUE;
}

static gboolean on_accept(int fd, GIOCondition condition, gpointer user_data)
{
	AttachServer *as = user_data;

	(void)condition;
	/* No SOCK_NONBLOCK: output writes to a client block (conmon-interface.md#relay). */
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			ck_log_warning("attach: accepting a client failed: %s, continuing", g_strerror(errno));
		return G_SOURCE_CONTINUE;
	}
	if (!ck_unix_accept_peer(cfd, "attach socket")) {
		close(cfd);
		return G_SOURCE_CONTINUE;
	}

	AttachClient *c = g_new0(AttachClient, 1);
	c->server = as;
	c->fd = cfd;
	c->reading = TRUE;
	c->writable = TRUE;
	g_ptr_array_add(as->clients, c);
	client_update_watch(c);
	ck_log_debug("attach: accepted client %d", cfd);
	return G_SOURCE_CONTINUE;
}

/* ---- output ------------------------------------------------------------- */

/* conmon's write_all on a blocking socket. MSG_NOSIGNAL: a client that has
 * gone must cost us an EPIPE, not the process. */
static gboolean send_all(int fd, const guint8 *buf, gsize len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return FALSE;
		}
		buf += n;
		len -= (gsize)n;
	}
	return TRUE;
}

void attach_server_write(AttachServer *as, guint8 stream_id, const guint8 *data, gsize len)
{
	guint8 record[1 + ATTACH_OUTPUT_MAX];

	g_return_if_fail(len <= ATTACH_OUTPUT_MAX);
	if (len == 0)
		return;

	/* conmon-interface.md#attach-framing: one record per chunk, the stream id first. */
	record[0] = stream_id;
	memcpy(record + 1, data, len);

	for (guint i = 0; i < as->clients->len;) {
		AttachClient *c = g_ptr_array_index(as->clients, i);

		if (c->writable && !send_all(c->fd, record, len + 1)) {
			/* conmon-interface.md#relay: shut writing to that client and go on. */
			ck_log_debug("attach: writing to client %d failed: %s", c->fd, g_strerror(errno));
			(void)shutdown(c->fd, SHUT_WR);
			c->writable = FALSE;
		}
		if (client_is_done(c)) {
			g_ptr_array_remove_index(as->clients, i);
			continue;
		}
		i++;
	}
}

void attach_server_pause_input(AttachServer *as, gboolean paused)
{
	as->paused = paused;
	for (guint i = 0; i < as->clients->len; i++)
		client_update_watch(g_ptr_array_index(as->clients, i));
}

guint attach_server_n_clients(const AttachServer *as)
{
	return as->clients->len;
}

/* ---- setup and teardown ------------------------------------------------- */

/* conmon-interface.md#attach-socket, CRI-O mode: <socket_dir>/<cuuid> -> <bundle>, replacing what is
 * there. When that name is exactly sizeof(sun_path) - 1 = 107 bytes long,
 * conmon shortens it by one character (a workaround from the days it
 * bound the socket by path). The quirk is observable in the socket
 * directory, so it is kept. */
static char *make_symlink(const char *socket_dir, const char *cuuid, const char *bundle, GError **error)
{
	char *link = g_build_filename(socket_dir, cuuid, NULL);
	gsize len = strlen(link);

	if (len == sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1)
		link[len - 1] = '\0';

	if (unlink(link) < 0 && errno != ENOENT) {
		ck_set_error_errno(error, errno, "remove existing symlink '%s'", link);
		g_free(link);
		return NULL;
	}
	if (symlink(bundle, link) < 0) {
		ck_set_error_errno(error, errno, "symlink '%s' to '%s'", link, bundle);
		g_free(link);
		return NULL;
	}
	return link;
}

/* Binds <dir>/attach through /proc/self/fd/<O_PATH fd of dir>, so the
 * address stays short whatever the length of dir (conmon-interface.md#attach-socket). dir may be the
 * CRI-O symlink: open() follows it, so the inode is <bundle>/attach. */
static gboolean bind_listener(int dirfd, const char *dir, int fd, GError **error)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	g_snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/" ATTACH_NAME, dirfd);

	/* A socket left by an earlier monitor would make bind fail. */
	if (unlinkat(dirfd, ATTACH_NAME, 0) < 0 && errno != ENOENT)
		return ck_set_error_errno(error, errno, "remove existing '%s/" ATTACH_NAME "'", dir);
	if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
		return ck_set_error_errno(error, errno, "bind '%s/" ATTACH_NAME "'", dir);
	if (fchmodat(dirfd, ATTACH_NAME, ATTACH_MODE, 0) < 0)
		return ck_set_error_errno(error, errno, "chmod '%s/" ATTACH_NAME "'", dir);
	if (listen(fd, ATTACH_BACKLOG) < 0)
		return ck_set_error_errno(error, errno, "listen on '%s/" ATTACH_NAME "'", dir);
	return TRUE;
}

/* The listener: non-blocking, so that a client that gave up between the
 * wake-up and accept() cannot block the main loop (conmon-interface.md#attach-socket). */
static gboolean open_listener(const char *dir, int *out_fd, GError **error)
{
	ck_autofd dirfd = open(dir, O_PATH | O_CLOEXEC);
	if (dirfd < 0)
		return ck_set_error_errno(error, errno, "open '%s'", dir);

	ck_autofd fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ck_set_error_errno(error, errno, "attach socket");
	if (!bind_listener(dirfd, dir, fd, error))
		return FALSE;
	*out_fd = ck_steal_fd(&fd);
	return TRUE;
}

AttachServer *attach_server_new(const char *bundle, const char *socket_dir, const char *cuuid, gboolean full_attach,
				gboolean stdin_open, const AttachCallbacks *cb, GError **error)
{
	g_autoptr(AttachServer) as = g_new0(AttachServer, 1);

	as->listen_fd = -1;
	as->clients = g_ptr_array_new_with_free_func(client_free);
	as->stdin_open = stdin_open;
	if (cb != NULL)
		as->cb = *cb;

	if (!full_attach) {
		if (cuuid == NULL || socket_dir == NULL) {
			ck_set_error(error, CK_ERROR_INVALID, "attach socket: no container UUID or socket directory");
			return NULL;
		}
		as->symlink_path = make_symlink(socket_dir, cuuid, bundle, error);
		if (as->symlink_path == NULL)
			return NULL;
	}

	if (!open_listener(full_attach ? bundle : as->symlink_path, &as->listen_fd, error))
		return NULL;
	as->socket_path = g_build_filename(bundle, ATTACH_NAME, NULL);
	as->listen_watch = g_unix_fd_add(as->listen_fd, G_IO_IN, on_accept, as);
	return g_steal_pointer(&as);
}

void attach_server_close_clients(AttachServer *as)
{
	/* Freeing a client removes its watch and closes its socket. */
	g_ptr_array_set_size(as->clients, 0);
	g_clear_handle_id(&as->listen_watch, g_source_remove);
	ck_clear_fd(&as->listen_fd);
}

void attach_server_free(AttachServer *as)
{
	if (as == NULL)
		return;
	attach_server_close_clients(as);
	g_ptr_array_unref(as->clients);

	/* conmon-interface.md#attach-socket: the socket file must be gone once the monitor has exited. */
	if (as->socket_path != NULL && unlink(as->socket_path) < 0 && errno != ENOENT)
		ck_log_warning("attach: removing '%s' failed: %s, continuing", as->socket_path, g_strerror(errno));
	if (as->symlink_path != NULL && unlink(as->symlink_path) < 0 && errno != ENOENT)
		ck_log_warning("attach: removing '%s' failed: %s, continuing", as->symlink_path, g_strerror(errno));
	g_free(as->socket_path);
	g_free(as->symlink_path);
	g_free(as);
}
