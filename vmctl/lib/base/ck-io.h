/* ck-io: fd and file helpers that every binary needs.
 *
 * All fds are opened O_CLOEXEC. Reads of files we parse are bounded so a
 * huge or endless file cannot make a runtime call allocate without limit.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

/* write(2) until everything is written; retries EINTR. On EAGAIN of a
 * non-blocking fd it fails (errno EAGAIN). Returns FALSE with errno set. */
gboolean ck_write_all(int fd, const void *buf, size_t len);

/* read(2) retrying EINTR; returns bytes read, 0 on EOF, -1 with errno. */
ssize_t ck_read_retry(int fd, void *buf, size_t len);

gboolean ck_set_nonblock(int fd, gboolean on, GError **error);
gboolean ck_set_cloexec(int fd, gboolean on, GError **error);

/* stdin, stdout and stderr become /dev/null (best effort). */
void ck_stdio_to_devnull(void);

/* Reads a whole file of at most max_size bytes (NUL-terminated copy in
 * *out_data, length in *out_len if non-NULL). A larger file is
 * CK_ERROR_INVALID naming the path. */
gboolean ck_file_read_bounded(const char *path, gsize max_size, char **out_data, gsize *out_len, GError **error);

/* Writes data to path atomically: a temp file in the same directory,
 * optional fsync, then rename(2), with the given mode. Readers never see
 * a half-written file; an inotify watcher sees IN_MOVED_TO. */
gboolean ck_file_write_atomic(const char *path, const void *data, gsize len, mode_t mode, gboolean durable,
			      GError **error);

/* mkdir -p with mode; existing directories are fine. */
gboolean ck_mkdir_p(const char *path, mode_t mode, GError **error);

/* rm -rf of a tree we own; a missing path is success. Does not cross
 * mount points (fails with EBUSY instead of descending into them). */
gboolean ck_rm_rf(const char *path, GError **error);

/* In a child after fork(): SIGKILL when `parent` (the forker's getpid()
 * before the fork) dies. TRUE while it lives; FALSE (errno ESRCH) when it
 * died before the request took effect: the child then has another parent
 * (init or a subreaper), which getppid() == 1 alone would miss.
 * Async-signal-safe. */
gboolean ck_die_with_parent(pid_t parent);

/* Monotonic clock in microseconds (g_get_monotonic_time) and the
 * remaining milliseconds until a deadline, clamped at 0. */
int ck_deadline_remaining_ms(gint64 deadline_us);

G_END_DECLS
