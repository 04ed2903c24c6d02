/* process: stdio relay under flow control, and exit reporting. */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <glib-unix.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"

#define READ_CHUNK CK_FRAME_MAX_DATA
/* Output is read as it comes, except in bulk (see on_output): a wake-up
 * that read at least OUT_BULK_MIN (stdio writes a pipe in pages; an
 * interactive line is smaller) pauses the stream for as long as the
 * producer takes to write OUT_BATCH at its last rate, at most
 * OUT_HOLD_MAX_MS, in a pipe of OUT_PIPE_SIZE that has room for more. */
#define OUT_BULK_MIN 4096
#define OUT_BATCH CK_FRAME_MAX_DATA
#define OUT_HOLD_MAX_MS 10
#define OUT_PIPE_SIZE CK_STREAM_WINDOW

static void out_stream_update(OutStream *s);
static void maybe_finish_exit(Process *proc);

Process *process_lookup_handle(Agent *agent, guint32 handle)
{
	return g_hash_table_lookup(agent->processes, GUINT_TO_POINTER(handle));
}

Process *process_lookup_pid(Agent *agent, pid_t pid)
{
	return g_hash_table_lookup(agent->pids, GINT_TO_POINTER(pid));
}

/* --- creation ------------------------------------------------------------ */

static gboolean make_pipe(int *read_end, int *write_end, GError **error)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return ck_set_error_errno(error, errno, "pipe");
	*read_end = p[0];
	*write_end = p[1];
	return TRUE;
}

static gboolean open_pty(Process *proc, guint32 rows, guint32 cols, GError **error)
{
	char name[64];
	ck_autofd master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (master < 0)
		return ck_set_error_errno(error, errno, "open a pty");
	if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0)
		return ck_set_error_errno(error, errno, "set up the pty");
	int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return ck_set_error_errno(error, errno, "open %s", name);
	if (rows > 0 || cols > 0) {
		struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
		(void)ioctl(master, TIOCSWINSZ, &ws);
	}
	for (int i = 0; i < 3; i++)
		proc->child_stdio[i] = i == 0 ? slave : dup(slave);
	proc->out[0].fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
	proc->stdin_fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
	proc->pty_master = ck_steal_fd(&master);
	proc->out[1].eof = TRUE;
	return TRUE;
}

static gboolean open_pipes(Process *proc, gboolean with_stdin, GError **error)
{
	if (with_stdin) {
		if (!make_pipe(&proc->child_stdio[0], &proc->stdin_fd, error))
			return FALSE;
	} else if ((proc->child_stdio[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		return ck_set_error_errno(error, errno, "/dev/null");
	}
	if (!make_pipe(&proc->out[0].fd, &proc->child_stdio[1], error) ||
	    !make_pipe(&proc->out[1].fd, &proc->child_stdio[2], error))
		return FALSE;
	/* room for what the process writes while its stream is paused; the
	 * default size (64 KiB) still works, with smaller frames */
	for (int i = 0; i < 2; i++)
		(void)fcntl(proc->out[i].fd, F_SETPIPE_SZ, OUT_PIPE_SIZE);
	/* like conmon: a container running as another user must be able to
	 * reopen its stdio through /proc/self/fd */
	for (int i = 0; i < 3; i++)
		(void)fchmod(proc->child_stdio[i], 0777);
	return TRUE;
}

Process *process_new(Agent *agent, const ProcessOwner *owner, const char *exec_id, gboolean terminal,
		     gboolean with_stdin, guint32 rows, guint32 cols, GError **error)
{
	Process *proc = g_new0(Process, 1);

	proc->agent = agent;
	proc->owner = *owner;
	proc->exec_id = g_strdup(exec_id);
	proc->terminal = terminal;
	proc->rows = rows;
	proc->cols = cols;
	proc->pty_master = proc->stdin_fd = -1;
	proc->spawned.sync_fd = proc->spawned.pty_master = -1;
	proc->stdin_buf = g_byte_array_new();
	proc->waiters = g_ptr_array_new();
	for (int i = 0; i < 3; i++)
		proc->child_stdio[i] = -1;
	for (int i = 0; i < 2; i++)
		proc->out[i] = (OutStream){.proc = proc, .stream = i == 0 ? CK_STREAM_STDOUT : CK_STREAM_STDERR,
					   .fd = -1, .window = CK_STREAM_WINDOW};

	gboolean ok = terminal ? open_pty(proc, rows, cols, error) : open_pipes(proc, with_stdin, error);
	if (!ok) {
		process_free(proc);
		return NULL;
	}
	for (int i = 0; i < 2; i++)
		if (proc->out[i].fd >= 0)
			(void)ck_set_nonblock(proc->out[i].fd, TRUE, NULL);
	if (proc->stdin_fd >= 0)
		(void)ck_set_nonblock(proc->stdin_fd, TRUE, NULL);
	proc->handle = ++agent->next_handle;
	g_hash_table_insert(agent->processes, GUINT_TO_POINTER(proc->handle), proc);
	return proc;
}

void process_fill_plan(Process *proc, SpawnPlan *plan)
{
	for (int i = 0; i < 3; i++)
		plan->stdio[i] = proc->child_stdio[i];
	plan->terminal = proc->terminal;
	plan->console = proc->terminal;
	plan->rows = (unsigned short)MIN(proc->rows, G_MAXUSHORT);
	plan->cols = (unsigned short)MIN(proc->cols, G_MAXUSHORT);
}

/* The container opened its own pty (spawn.c): its master replaces the
 * agent's fallback pair. */
static void adopt_pty(Process *proc, int master)
{
	ck_close_fdp(&proc->out[0].fd);
	ck_close_fdp(&proc->stdin_fd);
	ck_close_fdp(&proc->pty_master);
	proc->out[0].fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
	proc->stdin_fd = fcntl(master, F_DUPFD_CLOEXEC, 3);
	proc->pty_master = master;
	(void)ck_set_nonblock(proc->out[0].fd, TRUE, NULL);
	(void)ck_set_nonblock(proc->stdin_fd, TRUE, NULL);
}

void process_started(Process *proc, const SpawnedProcess *sp)
{
	proc->spawned = *sp;
	proc->spawned.pty_master = -1;
	if (sp->pty_master >= 0)
		adopt_pty(proc, sp->pty_master);
	proc->pid = sp->pid;
	g_hash_table_insert(proc->agent->pids, GINT_TO_POINTER(proc->pid), proc);
	for (int i = 0; i < 3; i++)
		ck_close_fdp(&proc->child_stdio[i]);
	for (int i = 0; i < 2; i++)
		out_stream_update(&proc->out[i]);
}

/* --- output ----------------------------------------------------------------- */

static void out_stream_unhold(OutStream *s)
{
	if (s->hold != 0)
		g_source_remove(s->hold);
	s->hold = 0;
}

static void out_stream_close(OutStream *s)
{
	if (s->source != 0)
		g_source_remove(s->source);
	s->source = 0;
	out_stream_unhold(s);
	ck_close_fdp(&s->fd);
	if (!s->eof) {
		s->eof = TRUE;
		ck_channel_send_eof(s->proc->agent->channel, s->proc->handle, s->stream);
	}
}

/* Reads what there is now (at most a frame and the window) and sends it
 * as one frame: a pty hands a line written at once over in pieces (the
 * text, then ONLCR's "\r\n"), which conmon's one read would see together.
 * Returns the bytes sent, 0 when nothing more can be read now: EAGAIN, EOF
 * (the stream is then closed) or a closed window. *out_full: the frame or
 * the window is full, so more may be waiting. */
static gsize out_stream_read_frame(OutStream *s, gboolean *out_full)
{
	guint8 buf[READ_CHUNK];
	gsize want = MIN(sizeof buf, s->window);
	gsize got = 0;
	ssize_t n = 0;

	*out_full = FALSE;
	if (s->eof || s->window == 0)
		return 0;
	/* an EOF or error after some data is seen again by the next read */
	while (got < want && (n = ck_read_retry(s->fd, buf + got, want - got)) > 0)
		got += (gsize)n;
	if (got > 0) {
		ck_channel_send_data(s->proc->agent->channel, s->proc->handle, s->stream, buf, got);
		s->window -= (guint32)got;
		*out_full = got == want;
		return got;
	}
	if (n < 0 && errno == EAGAIN)
		return 0;
	/* EOF, or EIO: a pty whose slave side is closed everywhere */
	out_stream_close(s);
	return 0;
}

static gboolean out_stream_read(OutStream *s)
{
	gboolean full;

	return out_stream_read_frame(s, &full) > 0;
}

/* The pause after a wake-up that read `bytes` written over `elapsed_us`:
 * the time the producer takes to write OUT_BATCH at that rate, in ms;
 * 0 (poll again at once) for interactive output or a producer so fast
 * that it fills a frame within a millisecond. */
static guint out_hold_ms(gsize bytes, gint64 elapsed_us)
{
	if (bytes < OUT_BULK_MIN)
		return 0;
	gint64 ms = (gint64)OUT_BATCH * MAX(elapsed_us, 0) / (gint64)bytes / 1000;
	return (guint)CLAMP(ms, 0, OUT_HOLD_MAX_MS);
}

static gboolean on_hold_end(gpointer data)
{
	OutStream *s = data;

	s->hold = 0;
	out_stream_update(s);
	return G_SOURCE_REMOVE;
}

static gboolean on_output(gint fd, GIOCondition cond, gpointer data)
{
	OutStream *s = data;

	(void)fd;
	(void)cond;
	if (s->proc->exited) {
		/* draining for an exit report: read all there is now */
		while (out_stream_read(s))
			;
	} else {
		/* what there is now, up to the window, then a pause if it was
		 * bulk: one wake-up, read and frame per batch rather than per
		 * write of the producer (each costs the guest a context switch
		 * and the host a frame) */
		gboolean full = TRUE;
		gsize got = 0, n;
		gint64 now = g_get_monotonic_time();
		while (full && (n = out_stream_read_frame(s, &full)) > 0)
			got += n;
		guint ms = s->window > 0 && !s->eof ? out_hold_ms(got, now - s->last_read_us) : 0;
		if (ms > 0 && s->hold == 0)
			s->hold = g_timeout_add(ms, on_hold_end, s);
		if (got > 0)
			s->last_read_us = now;
	}
	out_stream_update(s);
	maybe_finish_exit(s->proc);
	return s->source != 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* Polls the fd exactly while there is room in the window (and, after the
 * exit, while draining is not done), unless a bulk stream is held. */
static void out_stream_update(OutStream *s)
{
	gboolean want = !s->eof && s->fd >= 0 && s->window > 0 && !s->drained && s->hold == 0;

	if (want && s->source == 0)
		s->source = g_unix_fd_add(s->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_output, s);
	else if (!want && s->source != 0) {
		g_source_remove(s->source);
		s->source = 0;
	}
}

static void out_stream_credit(OutStream *s, guint32 bytes)
{
	if ((guint64)s->window + bytes > CK_STREAM_WINDOW * 4ull) {
		ck_log_warning("process %u: host credit beyond the window on stream %d, ignoring", s->proc->handle,
			       s->stream);
		return;
	}
	s->window += bytes;
	if (s->proc->exited && !s->eof) {
		/* resume draining where the window stopped it */
		s->drained = FALSE;
		while (out_stream_read(s))
			;
		s->drained = s->eof || s->window > 0;
	}
	out_stream_update(s);
	maybe_finish_exit(s->proc);
}

/* --- input -------------------------------------------------------------- */

static void stdin_close(Process *proc)
{
	if (proc->stdin_source != 0)
		g_source_remove(proc->stdin_source);
	proc->stdin_source = 0;
	/* a pty's master stays open for output: only a pipe is closed */
	ck_close_fdp(&proc->stdin_fd);
	if (proc->stdin_buf->len > 0) {
		/* undeliverable input: hand the window back all the same */
		ck_channel_send_credit(proc->agent->channel, proc->handle, CK_STREAM_STDIN, proc->stdin_buf->len);
		g_byte_array_set_size(proc->stdin_buf, 0);
	}
}

static void stdin_flush(Process *proc);

static gboolean on_stdin_writable(gint fd, GIOCondition cond, gpointer data)
{
	Process *proc = data;

	(void)fd;
	(void)cond;
	proc->stdin_source = 0;
	stdin_flush(proc);
	return G_SOURCE_REMOVE;
}

static void stdin_flush(Process *proc)
{
	gsize written = 0;

	while (proc->stdin_fd >= 0 && written < proc->stdin_buf->len) {
		ssize_t n = write(proc->stdin_fd, proc->stdin_buf->data + written, proc->stdin_buf->len - written);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) { /* EPIPE: the process closed its stdin */
			g_byte_array_remove_range(proc->stdin_buf, 0, (guint)written);
			ck_channel_send_credit(proc->agent->channel, proc->handle, CK_STREAM_STDIN, (guint32)written);
			stdin_close(proc);
			return;
		}
		written += (gsize)n;
	}
	if (written > 0) {
		g_byte_array_remove_range(proc->stdin_buf, 0, (guint)written);
		ck_channel_send_credit(proc->agent->channel, proc->handle, CK_STREAM_STDIN, (guint32)written);
	}
	if (proc->stdin_buf->len > 0 && proc->stdin_source == 0 && proc->stdin_fd >= 0)
		proc->stdin_source = g_unix_fd_add(proc->stdin_fd, G_IO_OUT | G_IO_ERR, on_stdin_writable, proc);
	if (proc->stdin_buf->len == 0 && proc->stdin_eof && !proc->terminal)
		stdin_close(proc);
}

static void stdin_data(Process *proc, const CkFrame *frame)
{
	if (proc->stdin_fd < 0) {
		/* no stdin (or already closed): the bytes go nowhere, the window
		 * comes back so that the host does not stall */
		ck_channel_send_credit(proc->agent->channel, proc->handle, CK_STREAM_STDIN, frame->len);
		return;
	}
	if (proc->stdin_buf->len + frame->len > CK_STREAM_WINDOW) {
		ck_log_warning("process %u: host sent stdin beyond its window, dropping %u bytes", proc->handle,
			       frame->len);
		return;
	}
	g_byte_array_append(proc->stdin_buf, frame->payload, frame->len);
	stdin_flush(proc);
}

void process_handle_frame(Process *proc, const CkFrame *frame)
{
	switch (frame->type) {
	case CK_FRAME_DATA:
		if (frame->stream == CK_STREAM_STDIN)
			stdin_data(proc, frame);
		break;
	case CK_FRAME_EOF:
		if (frame->stream == CK_STREAM_STDIN) {
			proc->stdin_eof = TRUE;
			stdin_flush(proc);
		}
		break;
	case CK_FRAME_CREDIT:
		if (frame->stream == CK_STREAM_STDOUT || frame->stream == CK_STREAM_STDERR)
			out_stream_credit(&proc->out[frame->stream - 1], ck_frame_credit_value(frame));
		break;
	default:
		break;
	}
}

/* --- exit ------------------------------------------------------------------ */

/* the answer to wait_process */
static void reply_exit(Process *proc, AgentRequest *req)
{
	CkWaitProcessResult r = {
	    .exit_code = proc->exit_code,
	    .signal = proc->exit_signal,
	    .oom_killed = proc->oom_killed,
	    .pid = proc->pid,
	};

	agent_request_reply(req, &r);
}

static void send_exit_event(Process *proc)
{
	CkExitEvent ev = {
	    .container = (char *)proc->owner.id,
	    .exec_id = proc->exec_id,
	    .handle = proc->handle,
	    .exit_code = proc->exit_code,
	    .signal = proc->exit_signal,
	    .oom_killed = proc->oom_killed,
	};

	agent_send_event(proc->agent, CK_EVENT_EXIT, &ev);
}

/* The exit is reported once every output stream is drained: the output
 * frames reach the host before the exit does. */
static void maybe_finish_exit(Process *proc)
{
	if (!proc->exited || proc->exit_reported)
		return;
	for (int i = 0; i < 2; i++)
		if (!proc->out[i].eof && !proc->out[i].drained)
			return;
	proc->exit_reported = TRUE;
	if (proc->owner.exiting != NULL)
		proc->owner.exiting(proc->owner.container, proc);
	for (int i = 0; i < 2; i++)
		out_stream_close(&proc->out[i]);
	stdin_close(proc);
	ck_close_fdp(&proc->pty_master);
	ck_log_debug("process %u (pid %d) exited with %d", proc->handle, proc->pid, proc->exit_code);
	send_exit_event(proc);
	for (guint i = 0; i < proc->waiters->len; i++)
		reply_exit(proc, g_ptr_array_index(proc->waiters, i));
	g_ptr_array_set_size(proc->waiters, 0);
	if (proc->owner.finished != NULL)
		proc->owner.finished(proc->owner.container, proc);
}

void process_exited(Process *proc, int status)
{
	proc->exited = TRUE;
	g_hash_table_remove(proc->agent->pids, GINT_TO_POINTER(proc->pid));
	if (WIFSIGNALED(status)) {
		proc->exit_signal = WTERMSIG(status);
		proc->exit_code = 128 + proc->exit_signal;
	} else {
		proc->exit_code = WEXITSTATUS(status);
	}
	ck_close_fdp(&proc->spawned.sync_fd);
	/* read what the process left in its pipes, within the windows */
	for (int i = 0; i < 2; i++) {
		OutStream *s = &proc->out[i];
		out_stream_unhold(s);
		while (out_stream_read(s))
			;
		s->drained = s->eof || s->window > 0;
		out_stream_update(s);
	}
	maybe_finish_exit(proc);
}

void process_add_waiter(Process *proc, AgentRequest *req)
{
	if (proc->exit_reported) {
		reply_exit(proc, req);
		return;
	}
	req->deferred = TRUE;
	g_ptr_array_add(proc->waiters, req);
}

gboolean process_signal(Process *proc, int sig, GError **error)
{
	if (proc->exited || proc->pid <= 0)
		return ck_set_error(error, CK_ERROR_NOT_FOUND, "process %u is not running", proc->handle);
	if (kill(proc->pid, sig) < 0)
		return ck_set_error_errno(error, errno, "kill %d", proc->pid);
	return TRUE;
}

gboolean process_resize(Process *proc, guint32 rows, guint32 cols, GError **error)
{
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};

	if (!proc->terminal || proc->pty_master < 0)
		return ck_set_error(error, CK_ERROR_INVALID, "process %u has no terminal", proc->handle);
	if (rows > G_MAXUINT16 || cols > G_MAXUINT16)
		return ck_set_error(error, CK_ERROR_INVALID, "terminal size %ux%u out of range", rows, cols);
	if (ioctl(proc->pty_master, TIOCSWINSZ, &ws) < 0)
		return ck_set_error_errno(error, errno, "resize the terminal");
	return TRUE;
}

void process_free(Process *proc)
{
	if (proc == NULL)
		return;
	if (proc->pid > 0 && !proc->exited) {
		(void)kill(proc->pid, SIGKILL);
		g_hash_table_remove(proc->agent->pids, GINT_TO_POINTER(proc->pid));
	}
	if (proc->handle != 0)
		g_hash_table_remove(proc->agent->processes, GUINT_TO_POINTER(proc->handle));
	for (guint i = 0; i < proc->waiters->len; i++) {
		g_autoptr(GError) error = NULL;
		ck_set_error(&error, CK_ERROR_NOT_FOUND, "process %u was removed", proc->handle);
		agent_request_fail(g_ptr_array_index(proc->waiters, i), error);
	}
	g_ptr_array_unref(proc->waiters);
	for (int i = 0; i < 2; i++) {
		if (proc->out[i].source != 0)
			g_source_remove(proc->out[i].source);
		out_stream_unhold(&proc->out[i]);
		ck_close_fdp(&proc->out[i].fd);
	}
	if (proc->stdin_source != 0)
		g_source_remove(proc->stdin_source);
	ck_close_fdp(&proc->stdin_fd);
	ck_close_fdp(&proc->pty_master);
	ck_close_fdp(&proc->spawned.sync_fd);
	for (int i = 0; i < 3; i++)
		ck_close_fdp(&proc->child_stdio[i]);
	g_byte_array_unref(proc->stdin_buf);
	g_free(proc->exec_id);
	g_free(proc);
}
