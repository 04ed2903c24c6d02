/* qmp: synchronous QMP client over a connected socket. */
#include "qmp.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"

#define QMP_LINE_MAX (1024 * 1024)
#define QMP_EVENTS_MAX 64

struct QmpClient {
	int fd;
	GString *buf;	  /* bytes read, not yet split into lines */
	GPtrArray *events; /* yajl_val */
	guint64 next_id;
};

static void free_tree(gpointer p)
{
	yajl_tree_free(p);
}

QmpClient *qmp_client_new(int fd)
{
	QmpClient *c = g_new0(QmpClient, 1);

	c->fd = fd;
	c->buf = g_string_new(NULL);
	c->events = g_ptr_array_new_with_free_func(free_tree);
	c->next_id = 1;
	return c;
}

void qmp_client_free(QmpClient *c)
{
	if (c == NULL)
		return;
	ck_close_fdp(&c->fd);
	g_string_free(c->buf, TRUE);
	g_ptr_array_unref(c->events);
	g_free(c);
}

int qmp_client_get_fd(QmpClient *c)
{
	return c->fd;
}

/* Returns the next complete line (without its newline), reading until the
 * deadline. */
static char *read_line(QmpClient *c, gint64 deadline, GError **error)
{
	for (;;) {
		char *nl = memchr(c->buf->str, '\n', c->buf->len);
		if (nl != NULL) {
			gsize n = (gsize)(nl - c->buf->str);
			char *line = g_strndup(c->buf->str, n);
			g_string_erase(c->buf, 0, (gssize)n + 1);
			return line;
		}
		if (c->buf->len > QMP_LINE_MAX)
			return ck_set_error(error, CK_ERROR_INVALID, "QMP: line longer than %d bytes", QMP_LINE_MAX),
			       NULL;

		struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
		int r = poll(&pfd, 1, ck_deadline_remaining_ms(deadline));
		if (r < 0 && errno != EINTR)
			return ck_set_error_errno(error, errno, "QMP: poll"), NULL;
		if (r == 0)
			return ck_set_error(error, CK_ERROR_TIMEOUT, "QMP: no answer from QEMU in time"), NULL;
		if (r < 0)
			continue;

		char chunk[4096];
		ssize_t n = ck_read_retry(c->fd, chunk, sizeof chunk);
		if (n < 0)
			return ck_set_error_errno(error, errno, "QMP: read"), NULL;
		if (n == 0)
			return ck_set_error(error, CK_ERROR_DISCONNECTED, "QMP: QEMU closed the connection"), NULL;
		g_string_append_len(c->buf, chunk, n);
	}
}

/* Reads messages until one satisfies `want` (an id, or 0 for the
 * greeting); events are queued on the way. */
static yajl_val read_message(QmpClient *c, guint64 want_id, gint64 deadline, GError **error)
{
	for (;;) {
		g_autofree char *line = read_line(c, deadline, error);
		if (line == NULL)
			return NULL;
		g_strstrip(line);
		if (*line == '\0')
			continue;

		g_auto(yajl_val) msg = ck_json_parse(line, strlen(line), "QMP message", error);
		if (msg == NULL)
			return NULL;
		if (ck_json_get(msg, "event") != NULL) {
			if (c->events->len < QMP_EVENTS_MAX)
				g_ptr_array_add(c->events, g_steal_pointer(&msg));
			continue;
		}
		if (want_id == 0) {
			if (ck_json_get(msg, "QMP") != NULL)
				return g_steal_pointer(&msg);
			continue;
		}
		gint64 id = 0;
		if (ck_json_as_int64(ck_json_get(msg, "id"), &id) && (guint64)id == want_id)
			return g_steal_pointer(&msg);
	}
}

static gboolean send_command(QmpClient *c, const char *command, const char *arguments_json, guint64 id,
			     GError **error)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();

	ck_json_map_open(g);
	ck_json_kv_string(g, "execute", command);
	if (arguments_json != NULL) {
		g_auto(yajl_val) args = ck_json_parse(arguments_json, strlen(arguments_json), "QMP arguments", error);
		if (args == NULL)
			return FALSE;
		ck_json_key(g, "arguments");
		ck_json_value(g, args);
	}
	ck_json_kv_int(g, "id", (gint64)id);
	ck_json_map_close(g);

	gsize len = 0;
	g_autofree char *doc = ck_json_gen_finish(g, &len, error);
	if (doc == NULL)
		return FALSE;
	g_autofree char *line = g_strconcat(doc, "\n", NULL);
	if (!ck_write_all(c->fd, line, len + 1))
		return ck_set_error_errno(error, errno, "QMP: send %s", command);
	return TRUE;
}

gboolean qmp_client_execute(QmpClient *c, const char *command, const char *arguments_json, int timeout_ms,
			    yajl_val *out_return, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	guint64 id = c->next_id++;

	if (!send_command(c, command, arguments_json, id, error))
		return FALSE;
	g_auto(yajl_val) reply = read_message(c, id, deadline, error);
	if (reply == NULL)
		return FALSE;

	yajl_val err = ck_json_get(reply, "error");
	if (err != NULL) {
		yajl_val desc = ck_json_get(err, "desc");
		return ck_set_error(error, CK_ERROR_FAILED, "QMP %s: %s", command,
				    desc != NULL && YAJL_IS_STRING(desc) ? desc->u.string : "error");
	}
	if (out_return != NULL)
		*out_return = g_steal_pointer(&reply);
	return TRUE;
}

gboolean qmp_client_handshake(QmpClient *c, int timeout_ms, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	g_auto(yajl_val) greeting = read_message(c, 0, deadline, error);

	if (greeting == NULL)
		return FALSE;
	return qmp_client_execute(c, "qmp_capabilities", NULL, ck_deadline_remaining_ms(deadline), NULL, error);
}

GPtrArray *qmp_client_take_events(QmpClient *c)
{
	GPtrArray *out = g_steal_pointer(&c->events);

	c->events = g_ptr_array_new_with_free_func(free_tree);
	return out;
}
