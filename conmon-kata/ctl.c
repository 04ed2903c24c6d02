/* ctl: the ctl and winsz FIFOs (conmon-interface.md#ctl-and-winsz-fifos). See ctl.h. */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"

/* conmon-interface.md#ctl-and-winsz-fifos: mkfifo(0660); the umask makes it 0640 with 022, as with conmon. */
#define CTL_FIFO_MODE 0660
/* winsz values end up in struct winsize, whose fields are unsigned short. */
#define WINSZ_MAX 65535

typedef struct CtlFifo CtlFifo;

/* Handles one complete line (NUL-terminated, "\n" removed). FALSE means
 * rejected: the rest of that read is then dropped (conmon-interface.md#ctl-and-winsz-fifos). */
typedef gboolean (*CtlLineFunc)(CtlFifos *c, const char *line);

struct CtlFifo {
	const char *name; /* "ctl" or "winsz", for messages */
	int rfd;	  /* O_RDONLY|O_NONBLOCK */
	int wfd;	  /* our own writer: no EOF, no blocking writers */
	guint watch;
	CtlLineFunc handle;
	CtlFifos *owner;
	/* conmon's line buffer: CTL_LINE_BUF - 1 usable bytes. */
	char buf[CTL_LINE_BUF];
	gsize len;
	/* The buffer filled up without a "\n": we are dropping the rest of
	 * that line, up to and including its "\n". */
	gboolean discarding;
};

struct CtlFifos {
	CtlCallbacks cb;
	CtlFifo ctl;
	CtlFifo winsz;
	/* ctl_fifos_take_pending_size(): keep the size instead of calling
	 * on_resize */
	gboolean capture;
	int captured_h, captured_w;
	gboolean captured;
};

/* ---- parsing ------------------------------------------------------------ */

gboolean ctl_parse_line(const char *line, int *type, int *h, int *w)
{
	int t, hh, ww;

	/* sscanf itself, not a look-alike: its acceptance of signs, leading
	 * blanks and zeros, and of junk after the third number, is what
	 * conmon's tests check (conmon-interface.md#conformance-checks item 11). */
	if (sscanf(line, "%d %d %d", &t, &hh, &ww) != 3)
		return FALSE;
	if (t != CTL_TYPE_RESIZE && t != CTL_TYPE_REOPEN_LOG)
		return FALSE;
	if (hh < 0 || hh > CTL_SIZE_MAX || ww < 0 || ww > CTL_SIZE_MAX)
		return FALSE;
	*type = t;
	*h = hh;
	*w = ww;
	return TRUE;
}

gboolean ctl_parse_winsz_line(const char *line, int *h, int *w)
{
	int hh, ww;

	if (sscanf(line, "%d %d", &hh, &ww) != 2)
		return FALSE;
	if (hh < 0 || hh > WINSZ_MAX || ww < 0 || ww > WINSZ_MAX)
		return FALSE;
	*h = hh;
	*w = ww;
	return TRUE;
}

/* ---- handlers ----------------------------------------------------------- */

/* conmon-interface.md#ctl-and-winsz-fifos: conmon does not resize directly; it writes "<h> <w>\n" into winsz
 * and its winsz reader applies it. So a resize sent before the console
 * exists waits in the FIFO until winsz is armed. The line is far below
 * PIPE_BUF, so the write is atomic. */
static void forward_resize(CtlFifos *c, int h, int w)
{
	g_autofree char *msg = g_strdup_printf("%d %d\n", h, w);

	if (!ck_write_all(c->winsz.wfd, msg, strlen(msg)))
		ck_log_warning("ctl: forwarding resize %dx%d to winsz failed: %s, ignoring", h, w, g_strerror(errno));
}

static gboolean handle_ctl_line(CtlFifos *c, const char *line)
{
	int type, h, w;

	if (!ctl_parse_line(line, &type, &h, &w)) {
		ck_log_warning("ctl: invalid message '%s', ignoring", line);
		return FALSE;
	}
	ck_log_debug("ctl: message %d %d %d", type, h, w);
	if (type == CTL_TYPE_RESIZE)
		forward_resize(c, h, w);
	else if (c->cb.on_reopen != NULL)
		c->cb.on_reopen(c->cb.user_data);
	return TRUE;
}

static gboolean handle_winsz_line(CtlFifos *c, const char *line)
{
	int h, w;

	if (!ctl_parse_winsz_line(line, &h, &w)) {
		ck_log_warning("winsz: invalid message '%s', ignoring", line);
		return FALSE;
	}
	if (c->capture) {
		c->captured_h = h;
		c->captured_w = w;
		c->captured = TRUE;
	} else if (c->cb.on_resize != NULL) {
		c->cb.on_resize(h, w, c->cb.user_data);
	}
	return TRUE;
}

/* ---- reading ------------------------------------------------------------ */

/* Handles the complete lines in the buffer and keeps the incomplete rest.
 * A full buffer without "\n" holds a line longer than 198 bytes: drop it
 * and everything up to its "\n" (conmon-interface.md#ctl-and-winsz-fifos: such a line must not resize, even
 * when it starts with a valid message). */
static void process_lines(CtlFifo *f)
{
	char *p = f->buf;
	char *end = f->buf + f->len;
	char *nl;

	while ((nl = memchr(p, '\n', (gsize)(end - p))) != NULL) {
		gboolean ok = FALSE;

		*nl = '\0';
		if (f->discarding)
			f->discarding = FALSE; /* the tail of a long line: rejected */
		else
			ok = f->handle(f->owner, p);
		if (!ok) {
			f->len = 0;
			return;
		}
		p = nl + 1;
	}

	gsize rest = (gsize)(end - p);
	if (rest == sizeof f->buf - 1) {
		if (!f->discarding)
			ck_log_warning("%s: message longer than %zu bytes, ignoring", f->name, sizeof f->buf - 2);
		f->discarding = TRUE;
		rest = 0;
	}
	memmove(f->buf, p, rest);
	f->len = rest;
}

/* One read; FALSE when there was nothing to read. */
static gboolean read_some(CtlFifo *f)
{
	ssize_t n = read(f->rfd, f->buf + f->len, sizeof f->buf - 1 - f->len);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			ck_log_warning("%s: read failed: %s, ignoring", f->name, g_strerror(errno));
		return errno == EINTR;
	}
	/* n == 0 cannot happen while we hold a write end. */
	f->len += (gsize)n;
	process_lines(f);
	return TRUE;
}

static gboolean on_fifo_readable(int fd, GIOCondition condition, gpointer user_data)
{
	(void)fd;
	(void)condition;
	(void)read_some(user_data);
	return G_SOURCE_CONTINUE;
}

/* ---- setup -------------------------------------------------------------- */

static void fifo_init(CtlFifo *f, CtlFifos *owner, const char *name, CtlLineFunc handle)
{
	f->name = name;
	f->rfd = -1;
	f->wfd = -1;
	f->handle = handle;
	f->owner = owner;
}

static gboolean fifo_create(CtlFifo *f, const char *bundle, GError **error)
{
	g_autofree char *path = g_build_filename(bundle, f->name, NULL);

	if (unlink(path) < 0 && errno != ENOENT)
		return ck_set_error_errno(error, errno, "remove existing '%s'", path);
	if (mkfifo(path, CTL_FIFO_MODE) < 0)
		return ck_set_error_errno(error, errno, "mkfifo '%s'", path);

	/* The read end first: opening a FIFO for writing without blocking
	 * fails with ENXIO while it has no reader. */
	f->rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (f->rfd < 0)
		return ck_set_error_errno(error, errno, "open '%s' for reading", path);
	/* Non-blocking: our own resize write must never stall the loop,
	 * even with a winsz FIFO that is full because it is not armed. */
	f->wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (f->wfd < 0)
		return ck_set_error_errno(error, errno, "open '%s' for writing", path);
	return TRUE;
}

static void fifo_watch(CtlFifo *f)
{
	if (f->watch == 0)
		f->watch = g_unix_fd_add(f->rfd, G_IO_IN, on_fifo_readable, f);
}

static void fifo_clear(CtlFifo *f)
{
	g_clear_handle_id(&f->watch, g_source_remove);
	ck_clear_fd(&f->rfd);
	ck_clear_fd(&f->wfd);
}

CtlFifos *ctl_fifos_new(const char *bundle, const CtlCallbacks *cb, GError **error)
{
	g_autoptr(CtlFifos) c = g_new0(CtlFifos, 1);

	if (cb != NULL)
		c->cb = *cb;
	fifo_init(&c->ctl, c, "ctl", handle_ctl_line);
	fifo_init(&c->winsz, c, "winsz", handle_winsz_line);

	if (!fifo_create(&c->ctl, bundle, error) || !fifo_create(&c->winsz, bundle, error))
		return NULL;
	fifo_watch(&c->ctl);
	return g_steal_pointer(&c);
}

void ctl_fifos_arm_winsz(CtlFifos *c)
{
	fifo_watch(&c->winsz);
}

gboolean ctl_fifos_take_pending_size(CtlFifos *c, int *rows, int *cols)
{
	while (read_some(&c->ctl))
		;
	c->capture = TRUE;
	c->captured = FALSE;
	while (read_some(&c->winsz))
		;
	c->capture = FALSE;
	if (!c->captured)
		return FALSE;
	*rows = c->captured_h;
	*cols = c->captured_w;
	return TRUE;
}

void ctl_fifos_free(CtlFifos *c)
{
	if (c == NULL)
		return;
	fifo_clear(&c->ctl);
	fifo_clear(&c->winsz);
	g_free(c);
}
