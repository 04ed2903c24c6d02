/* Unit tests for console-log: the bound on the console file, its rotation,
 * the tail kept in memory, and the end of the guest's side. The test
 * writes into QEMU's end of the pipe and runs the main context. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-io.h"
#include "lib/console-log.h"

typedef struct {
	char *dir;
	char *path;
	char *rotated;
} Fixture;

static void fixture_set_up(Fixture *f, gconstpointer data)
{
	(void)data;
	f->dir = g_dir_make_tmp("ck-console-XXXXXX", NULL);
	g_assert_nonnull(f->dir);
	f->path = g_build_filename(f->dir, "console.log", NULL);
	f->rotated = g_strdup_printf("%s.1", f->path);
}

static void fixture_tear_down(Fixture *f, gconstpointer data)
{
	(void)data;
	(void)g_unlink(f->path);
	(void)g_unlink(f->rotated);
	(void)g_rmdir(f->dir);
	g_free(f->dir);
	g_free(f->path);
	g_free(f->rotated);
}

static GByteArray *file_bytes(const char *path)
{
	g_autofree char *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, NULL))
		return g_byte_array_new();
	return g_byte_array_new_take((guint8 *)g_steal_pointer(&data), len);
}

/* Runs the context until the log has read `total` bytes. */
static void pump(ConsoleLog *log, guint64 total)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	/* bytes are still to come: a watch or a pause is pending */
	while (console_log_bytes(log) < total && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_assert_cmpuint(console_log_bytes(log), ==, total);
}

/* A stream of numbered lines, so that any reordering or loss shows. */
static GString *numbered(guint from, guint n)
{
	GString *s = g_string_new(NULL);

	for (guint i = from; i < from + n; i++)
		g_string_append_printf(s, "line %06u of the guest console\n", i);
	return s;
}

static void test_bounded(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	int peer = -1;
	const gsize max = 4096;
	g_autoptr(GString) all = numbered(0, 1000); /* 32 000 bytes: 7 rotations */

	(void)data;
	g_autoptr(ConsoleLog) log = console_log_new(f->path, max, NULL, &peer, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(console_log_path(log), ==, f->path);
	/* in pieces of every size, as the guest writes */
	for (gsize off = 0, step = 1; off < all->len; off += step, step = step * 3 % 997 + 1) {
		g_assert_true(ck_write_all(peer, all->str + off, MIN(step, all->len - off)));
		g_main_context_iteration(NULL, FALSE);
	}
	pump(log, all->len);

	g_autoptr(GByteArray) cur = file_bytes(f->path);
	g_autoptr(GByteArray) old = file_bytes(f->rotated);
	g_assert_cmpuint(old->len, ==, max);
	g_assert_cmpuint(cur->len, ==, all->len % max);
	g_assert_cmpuint(console_log_rotations(log), ==, all->len / max);
	/* the two files are the stream's last bytes, in order */
	g_assert_cmpmem(old->data, old->len, all->str + all->len - cur->len - old->len, old->len);
	g_assert_cmpmem(cur->data, cur->len, all->str + all->len - cur->len, cur->len);
	/* the tail in memory outlives the rotations */
	g_autofree char *tail = console_log_tail(log);
	g_assert_cmpuint(strlen(tail), ==, CONSOLE_LOG_TAIL_MAX);
	g_assert_true(g_str_has_suffix(all->str, tail));
	close(peer);
}

static void test_appends_and_counts_existing(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	int peer = -1;

	(void)data;
	g_assert_true(g_file_set_contents(f->path, "0123456789", 10, NULL));
	g_autoptr(ConsoleLog) log = console_log_new(f->path, 16, NULL, &peer, &error);
	g_assert_no_error(error);
	g_assert_true(ck_write_all(peer, "abcdefgh", 8));
	pump(log, 8);
	/* 10 bytes were there: 6 fit, the rest starts the next file */
	g_autoptr(GByteArray) old = file_bytes(f->rotated);
	g_autoptr(GByteArray) cur = file_bytes(f->path);
	g_assert_cmpmem(old->data, old->len, "0123456789abcdef", 16);
	g_assert_cmpmem(cur->data, cur->len, "gh", 2);
	g_autofree char *tail = console_log_tail(log);
	g_assert_cmpstr(tail, ==, "abcdefgh");
	close(peer);
}

/* QEMU exits: what it wrote last is read by a drain, without the main
 * loop, and the closed pipe stops the watch (no busy loop on EOF). */
static void test_drain_and_eof(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	int peer = -1;
	static const char last[] = "Kernel panic - not syncing: Attempted to kill init!\n";

	(void)data;
	g_autoptr(ConsoleLog) log = console_log_new(f->path, 1 << 20, NULL, &peer, &error);
	g_assert_no_error(error);
	g_assert_true(ck_write_all(peer, last, strlen(last)));
	close(peer);
	console_log_drain(log);
	g_assert_cmpuint(console_log_bytes(log), ==, strlen(last));
	g_autofree char *tail = console_log_tail(log);
	g_assert_cmpstr(tail, ==, last);
	/* nothing is left to dispatch once the end was seen */
	for (int i = 0; i < 3; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_false(g_main_context_pending(NULL));
	g_autoptr(GByteArray) cur = file_bytes(f->path);
	g_assert_cmpmem(cur->data, cur->len, last, strlen(last));
}

static void test_unwritable_path(Fixture *f, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = g_build_filename(f->dir, "missing", "console.log", NULL);
	int peer = -1;

	(void)data;
	g_autoptr(ConsoleLog) log = console_log_new(path, 4096, NULL, &peer, &error);
	g_assert_null(log);
	g_assert_cmpint(peer, ==, -1);
	g_autofree char *want = g_strdup_printf("console log %s: %s", path, g_strerror(ENOENT));
	g_assert_cmpstr(error->message, ==, want);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/console-log/bounded", Fixture, NULL, fixture_set_up, test_bounded, fixture_tear_down);
	g_test_add("/console-log/appends-and-counts-existing", Fixture, NULL, fixture_set_up,
		   test_appends_and_counts_existing, fixture_tear_down);
	g_test_add("/console-log/drain-and-eof", Fixture, NULL, fixture_set_up, test_drain_and_eof,
		   fixture_tear_down);
	g_test_add("/console-log/unwritable-path", Fixture, NULL, fixture_set_up, test_unwritable_path,
		   fixture_tear_down);
	return g_test_run();
}
