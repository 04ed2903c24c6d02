/* log-k8s: the k8s-file (CRI) log driver (conmon-interface.md#k8s-file-format to #log-reopen).
 *
 * Owns the file: one line per "\n"-terminated piece of a chunk (F) plus
 * one for a trailing piece without "\n" (P), all with the chunk's single
 * timestamp; the byte accounting for --log-size-max and
 * --log-global-size-max; and the reopen, in truncate or rotate mode, with
 * the rotation's safety checks. Lines are built for one chunk in memory
 * and written with one write_all, so a reader never sees half a line
 * unless the disk is full.
 *
 * Deliberately not here: carrying partial lines across chunks (k8s-file
 * never does, conmon-interface.md#k8s-file-format; that is journald's job), fsync except once at exit
 * (conmon-interface.md#log-size-limits-and-rotation), and rotating by time (the kubelet does that by renaming the
 * file and asking for a reopen, conmon-interface.md#log-reopen).
 */
#include "log-k8s.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "log-line.h"

struct LogK8s {
	char *path;
	int fd;
	gint64 bytes;	   /* bytes in the current file; reset by a reopen */
	gint64 total;	   /* bytes written since start; never reset (conmon-interface.md#log-size-limits-and-rotation) */
	gint64 size_max;   /* --log-size-max, <= 0: none */
	gint64 global_max; /* --log-global-size-max, <= 0: none */
	gboolean rotate;   /* --log-rotate */
	int max_files;	   /* --log-max-files */
	char **allowlist;  /* --log-allowlist-dir */
	gboolean sync_at_exit;
	gboolean warned; /* the first failure is a warning, later ones debug */
	guint failed;	 /* chunks lost since the last one written */
	GString *buf;	 /* the lines of the chunk being written */
};

/* ---- formatting --------------------------------------------------------- */

char *log_k8s_timestamp(const struct timespec *ts)
{
	time_t sec = ts->tv_sec;
	struct tm tm;
	char date[32];

	/* localtime_r only fails for years that do not fit in an int; fall
	 * back to UTC rather than write a malformed line. */
	if (localtime_r(&sec, &tm) == NULL) {
		memset(&tm, 0, sizeof tm);
		gmtime_r(&sec, &tm);
	}
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);

	/* conmon-interface.md#k8s-file-format: the offset always comes from tm_gmtoff, so UTC is "+00:00",
	 * never "Z", and the kubelet's RFC 3339 parser accepts both. */
	long off = tm.tm_gmtoff;
	char sign = off < 0 ? '-' : '+';
	off = labs(off);
	return g_strdup_printf("%s.%09ld%c%02ld:%02ld", date, (long)ts->tv_nsec, sign, off / 3600, (off % 3600) / 60);
}

gsize log_k8s_line_cost(gsize content_len, gboolean partial)
{
	return content_len + LOG_K8S_PREFIX_LEN + (partial ? 1 : 0);
}

void log_k8s_append_line(GString *out, const char *timestamp, gboolean is_stderr, gboolean partial,
			 const guint8 *content, gsize len)
{
	g_string_append(out, timestamp);
	g_string_append(out, is_stderr ? " stderr " : " stdout ");
	g_string_append(out, partial ? "P " : "F ");
	g_string_append_len(out, (const char *)content, (gssize)len);
	/* An F piece already ends with its own "\n" (kept, with any "\r"
	 * before it); a P line gets one so the file stays line-based. */
	if (partial)
		g_string_append_c(out, '\n');
}

/* ---- rotation safety (conmon-interface.md#log-size-limits-and-rotation step 2) ---- */

static gboolean refuse(GError **error, const char *fmt, const char *what)
{
	return ck_set_error(error, CK_ERROR_PERMISSION, fmt, what);
}

/* Directly in, or below, one of the --log-allowlist-dir directories. */
static gboolean in_allowlist(const char *dir, char *const *allowlist)
{
	for (char *const *a = allowlist; *a != NULL; a++) {
		g_autofree char *allowed = g_canonicalize_filename(*a, NULL);
		gsize n = strlen(allowed);

		if (g_str_equal(allowed, "/") || g_str_equal(dir, allowed))
			return TRUE;
		if (strncmp(dir, allowed, n) == 0 && dir[n] == '/')
			return TRUE;
	}
	return FALSE;
}

/* The checks for a log file that does not exist yet: we would create it
 * in a directory that someone else could have prepared for us. */
static gboolean check_new_file_dir(const char *path, char *const *allowlist, GError **error)
{
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *abs = g_canonicalize_filename(dir, NULL);
	struct stat st;

	if (stat(abs, &st) < 0)
		return ck_set_error_errno(error, errno, "log directory '%s'", abs);
	if (st.st_mode & S_IWOTH)
		return refuse(error, "log directory '%s' is world-writable, not rotating", abs);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return refuse(error, "log directory '%s' is owned by another user, not rotating", abs);

	/* realpath differs from the lexically clean path exactly when a
	 * component is a symlink. */
	g_autofree char *real = realpath(abs, NULL);
	if (real == NULL || !g_str_equal(real, abs))
		return refuse(error, "log directory '%s' contains a symlink, not rotating", abs);

	if (allowlist != NULL && allowlist[0] != NULL && !in_allowlist(abs, allowlist))
		return refuse(error, "log directory '%s' is not in an allowed directory, not rotating", abs);
	return TRUE;
}

gboolean log_k8s_check_rotate_path(const char *path, char *const *allowlist, GError **error)
{
	struct stat st;

	if (strstr(path, "../") != NULL || strstr(path, "/..") != NULL)
		return refuse(error, "log path '%s' contains '..', not rotating", path);

	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode))
			return refuse(error, "log path '%s' is a symlink, not rotating", path);
		return TRUE;
	}
	if (errno != ENOENT)
		return ck_set_error_errno(error, errno, "log path '%s'", path);
	return check_new_file_dir(path, allowlist, error);
}

/* ---- reopen ------------------------------------------------------------- */

static void replace_fd(LogK8s *k, int fd)
{
	ck_clear_fd(&k->fd);
	k->fd = fd;
}

/* Truncate mode: a fresh file renamed into place. The rename is what makes
 * the path reappear for CRI-O's fsnotify watch (conmon-interface.md#log-reopen, IN_MOVED_TO). */
static gboolean reopen_truncate(LogK8s *k, GError **error)
{
	g_autofree char *tmp = g_strconcat(k->path, ".tmp", NULL);
	ck_autofd fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, K8S_LOG_MODE);

	if (fd < 0)
		return ck_set_error_errno(error, errno, "create '%s'", tmp);
	if (rename(tmp, k->path) < 0) {
		int errsv = errno;
		(void)unlink(tmp);
		return ck_set_error_errno(error, errsv, "rename '%s' to '%s'", tmp, k->path);
	}
	replace_fd(k, ck_steal_fd(&fd));
	return TRUE;
}

/* "<path>.<i>", or the path itself for i == 0. */
static char *numbered(const char *path, int i)
{
	return i == 0 ? g_strdup(path) : g_strdup_printf("%s.%d", path, i);
}

/* conmon-interface.md#log-size-limits-and-rotation step 4 and the first half of step 5: .(i-1) -> .i from
 * max(N,2) down, then <path> -> .1. Missing files are fine. With N = 1 the
 * .1 -> .2 shift still happens: conmon's quirk, kept so that the files
 * left behind are the ones conmon would leave. */
static gboolean shift_rotated(const LogK8s *k, GError **error)
{
	for (int i = MAX(k->max_files, 2); i >= 1; i--) {
		g_autofree char *from = numbered(k->path, i - 1);
		g_autofree char *to = numbered(k->path, i);

		if (rename(from, to) < 0 && errno != ENOENT)
			return ck_set_error_errno(error, errno, "rename '%s' to '%s'", from, to);
	}
	return TRUE;
}

/* Steps 2-5, with the lock of step 1 held by the caller. */
static gboolean rotate_locked(LogK8s *k, GError **error)
{
	if (!log_k8s_check_rotate_path(k->path, k->allowlist, error))
		return FALSE;

	/* O_EXCL: never write into a file somebody else put there. */
	g_autofree char *new_path = g_strconcat(k->path, ".new", NULL);
	ck_autofd fd = open(new_path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, K8S_LOG_MODE);
	if (fd < 0)
		return ck_set_error_errno(error, errno, "create '%s'", new_path);

	if (!shift_rotated(k, error)) {
		(void)unlink(new_path);
		return FALSE;
	}
	if (rename(new_path, k->path) < 0) {
		int errsv = errno;
		(void)unlink(new_path);
		return ck_set_error_errno(error, errsv, "rename '%s' to '%s'", new_path, k->path);
	}
	/* Closing the old fd also drops its lock. */
	replace_fd(k, ck_steal_fd(&fd));
	return TRUE;
}

/* Rotate mode (conmon-interface.md#log-size-limits-and-rotation). *out_done is FALSE when another process holds the
 * lock on the file: then conmon skips the rotation, and so do we. */
static gboolean reopen_rotate(LogK8s *k, gboolean *out_done, GError **error)
{
	struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	if (fcntl(k->fd, F_SETLK, &lock) < 0) {
		if (errno == EACCES || errno == EAGAIN) {
			ck_log_debug("log file '%s' is locked by another process, not rotating", k->path);
			*out_done = FALSE;
			return TRUE;
		}
		return ck_set_error_errno(error, errno, "lock '%s'", k->path);
	}
	if (!rotate_locked(k, error)) {
		lock.l_type = F_UNLCK;
		(void)fcntl(k->fd, F_SETLK, &lock);
		return FALSE;
	}
	*out_done = TRUE;
	return TRUE;
}

gboolean log_k8s_reopen(LogK8s *k, GError **error)
{
	gboolean done = TRUE;

	if (k->rotate) {
		if (!reopen_rotate(k, &done, error))
			return FALSE;
	} else if (!reopen_truncate(k, error)) {
		return FALSE;
	}
	if (done)
		k->bytes = 0;
	return TRUE;
}

/* ---- writing ------------------------------------------------------------ */

/* "Errors while logging never stop the monitor": the first one is a
 * warning, later ones (a full disk fails every chunk) only debug. */
static void warn_once(LogK8s *k, const GError *error)
{
	if (!k->warned)
		ck_log_warning("k8s log '%s': %s, continuing", k->path, error->message);
	else
		ck_log_debug("k8s log '%s': %s, continuing", k->path, error->message);
	k->warned = TRUE;
}

/* A write the file system cut short (ENOSPC, EDQUOT, EFBIG) leaves the
 * file ending inside a record, which the next record would turn into a
 * malformed line: the file is cut back to the end of the last whole line
 * that went out. The log keeps whole CRI lines only, the lines that fit. */
static void cut_partial_line(LogK8s *k, gsize written)
{
	gsize keep = written;

	while (keep > 0 && k->buf->str[keep - 1] != '\n')
		keep--;
	if (keep == written)
		return;
	off_t end = lseek(k->fd, 0, SEEK_END);
	if (end >= (off_t)(written - keep) && ftruncate(k->fd, end - (off_t)(written - keep)) < 0)
		ck_log_debug("k8s log '%s': ftruncate: %s", k->path, g_strerror(errno));
}

static gboolean write_chunk(LogK8s *k)
{
	gsize done = 0;

	while (done < k->buf->len) {
		ssize_t n = write(k->fd, k->buf->str + done, k->buf->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int errsv = n < 0 ? errno : ENOSPC;
			cut_partial_line(k, done);
			errno = errsv;
			return FALSE;
		}
		done += (gsize)n;
	}
	return TRUE;
}

static void flush(LogK8s *k)
{
	if (k->buf->len == 0)
		return;
	if (!write_chunk(k)) {
		g_autoptr(GError) error = NULL;

		ck_set_error_errno(&error, errno, "write");
		warn_once(k, error);
		k->failed++;
	} else if (k->failed > 0) {
		/* space came back: say so, and warn again next time */
		ck_log_info("k8s log '%s': writing again after %u lost chunks", k->path, k->failed);
		k->failed = 0;
		k->warned = FALSE;
	}
	g_string_truncate(k->buf, 0);
}

/* conmon-interface.md#log-size-limits-and-rotation: the lines so far go to the old file, then the reopen. The counter
 * restarts even when the reopen fails or is skipped, as in conmon, so that
 * a broken reopen is not retried before every single line. */
static void reopen_for_size(LogK8s *k)
{
	g_autoptr(GError) error = NULL;

	flush(k);
	k->bytes = 0;
	if (!log_k8s_reopen(k, &error)) {
		g_prefix_error(&error, "reopen for --log-size-max: ");
		warn_once(k, error);
	}
}

void log_k8s_write(LogK8s *k, gboolean is_stderr, const guint8 *data, gsize len)
{
	struct timespec now;

	/* conmon-interface.md#k8s-file-format: one timestamp for every line of the chunk. */
	clock_gettime(CLOCK_REALTIME, &now);
	g_autofree char *ts = log_k8s_timestamp(&now);

	for (gsize off = 0; off < len;) {
		gboolean partial;
		gsize n = log_next_line(data + off, len - off, &partial);
		gint64 cost = (gint64)log_k8s_line_cost(n, partial);

		/* Checked before each line, so the total can overshoot by
		 * one line; once reached, everything later is dropped. */
		if (k->global_max > 0 && k->total >= k->global_max)
			break;
		if (k->size_max > 0 && k->bytes + cost > k->size_max)
			reopen_for_size(k);

		log_k8s_append_line(k->buf, ts, is_stderr, partial, data + off, n);
		k->bytes += cost;
		k->total += cost;
		off += n;
	}
	flush(k);
}

/* ---- lifetime ----------------------------------------------------------- */

LogK8s *log_k8s_new(MonitorConfig *cfg)
{
	LogK8s *k = g_new0(LogK8s, 1);

	k->path = g_strdup(cfg->k8s_log_path);
	k->fd = ck_steal_fd(&cfg->k8s_log_fd);
	/* conmon-interface.md#log-path-values: an existing file is appended to and its size counts towards
	 * --log-size-max; the global total counts only what we write. */
	k->bytes = cfg->k8s_log_size;
	k->size_max = cfg->log_size_max;
	k->global_max = cfg->log_global_size_max;
	k->rotate = cfg->log_rotate;
	k->max_files = cfg->log_max_files;
	k->allowlist = g_strdupv(cfg->log_allowlist_dirs);
	k->sync_at_exit = !cfg->no_sync_log;
	k->buf = g_string_sized_new(2 * LOG_CHUNK_MAX);
	return k;
}

void log_k8s_finish(LogK8s *k)
{
	flush(k);
	/* conmon-interface.md#log-size-limits-and-rotation: the only fsync, once at exit, unless --no-sync-log. */
	if (k->sync_at_exit && fsync(k->fd) < 0) {
		g_autoptr(GError) error = NULL;

		ck_set_error_errno(&error, errno, "fsync");
		warn_once(k, error);
	}
}

void log_k8s_free(LogK8s *k)
{
	if (k == NULL)
		return;
	ck_clear_fd(&k->fd);
	g_free(k->path);
	g_strfreev(k->allowlist);
	g_string_free(k->buf, TRUE);
	g_free(k);
}
