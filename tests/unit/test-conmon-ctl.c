/* Unit tests: the ctl and winsz FIFOs (conmon-kata/ctl.c).
 *
 * conmon-interface.md#ctl-and-winsz-fifos and conmon-interface.md#conformance-checks items 11 and 23: every accepted
 * and rejected ctl message, first through the pure parser, then written into a real <bundle>/ctl with the monitor's
 * main context driven by g_main_context_iteration, checking the on_resize calls that come back through winsz. Also:
 * resizes wait until winsz is armed, type 2 reopens, a 65535-byte line never resizes, the rest of a read after a
 * rejected line is dropped, and the FIFOs' type and mode under umask 022.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-cleanup.h"
#include "conmon-kata/ctl.h"

/* ---- the pure parser ---------------------------------------------------- */

typedef struct {
	const char *line;
	int type, h, w;
} Accepted;

/* conmon-interface.md#conformance-checks item 11: accepted, and what stty size then shows. */
static const Accepted accepted[] = {
    {"1 2 2", 1, 2, 2},	   {"1 2 2 3", 1, 2, 2}, {"1 0010 0020", 1, 10, 20}, {"1 1000 1000", 1, 1000, 1000},
    {"2 0 0", 2, 0, 0},	   {"1 0 0", 1, 0, 0},	 {"  1   7\t9", 1, 7, 9},    {"1 5 6 trailing junk", 1, 5, 6},
    {"+1 +3 +4", 1, 3, 4},
};

/* conmon-interface.md#conformance-checks item 11: each must leave the terminal at "0 0". */
static const char *const rejected[] = {
    "1 -1 -1",	   "1 2",	  "1",
    "foo",	   "999",	  "999 2 2",
    "1 10.5 20.3", "1 0x10 0x20", "1 100000 100000",
    "1 1001 1000", "1 1000 1001", "1 65535 65535",
    "0 2 2",	   "3 2 2",	  "",
    "2 1001 0",	   "2 0",	  "x 1 2 3",
};

static void test_parse_accepted(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(accepted); i++) {
		int type = -7, h = -7, w = -7;

		g_test_message("line '%s'", accepted[i].line);
		g_assert_true(ctl_parse_line(accepted[i].line, &type, &h, &w));
		g_assert_cmpint(type, ==, accepted[i].type);
		g_assert_cmpint(h, ==, accepted[i].h);
		g_assert_cmpint(w, ==, accepted[i].w);
	}
}

static void test_parse_rejected(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(rejected); i++) {
		int type = -7, h = -7, w = -7;

		g_test_message("line '%s'", rejected[i]);
		g_assert_false(ctl_parse_line(rejected[i], &type, &h, &w));
		/* Out values are untouched on rejection. */
		g_assert_cmpint(type, ==, -7);
		g_assert_cmpint(h, ==, -7);
		g_assert_cmpint(w, ==, -7);
	}
}

static void test_parse_long_line(void)
{
	/* As a string, "1 2 2 ####..." parses; only the FIFO's 200-byte
	 * buffer rejects it (see /conmon-ctl/fifo/long-line). */
	g_autofree char *hashes = g_strnfill(65535, '#');
	g_autofree char *line = g_strconcat("1 2 2 ", hashes, NULL);
	int type, h, w;

	g_assert_true(ctl_parse_line(line, &type, &h, &w));
}

static void test_parse_winsz(void)
{
	int h = -7, w = -7;

	g_assert_true(ctl_parse_winsz_line("24 80", &h, &w));
	g_assert_cmpint(h, ==, 24);
	g_assert_cmpint(w, ==, 80);
	g_assert_false(ctl_parse_winsz_line("24", &h, &w));
	g_assert_false(ctl_parse_winsz_line("-1 80", &h, &w));
	g_assert_false(ctl_parse_winsz_line("a b", &h, &w));
	g_assert_cmpint(h, ==, 24);
}

/* ---- the real FIFOs ----------------------------------------------------- */

typedef struct {
	char *bundle;
	CtlFifos *fifos;
	GArray *resizes; /* int pairs: rows, cols */
	int reopens;
} Fixture;

static void on_resize(int rows, int cols, gpointer user_data)
{
	Fixture *fx = user_data;
	int pair[2] = {rows, cols};

	g_array_append_vals(fx->resizes, pair, 2);
}

static void on_reopen(gpointer user_data)
{
	Fixture *fx = user_data;

	fx->reopens++;
}

static void drain_main_context(void)
{
	/* Bounded: every source here is level-triggered on readable data. */
	for (int i = 0; i < 10000 && g_main_context_iteration(NULL, FALSE); i++)
		;
}

static void fixture_setup(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	CtlCallbacks cb = {.on_resize = on_resize, .on_reopen = on_reopen, .user_data = fx};

	(void)data;
	fx->bundle = g_dir_make_tmp("test-conmon-ctl-XXXXXX", &error);
	g_assert_no_error(error);
	fx->resizes = g_array_new(FALSE, FALSE, sizeof(int));
	fx->fifos = ctl_fifos_new(fx->bundle, &cb, &error);
	g_assert_no_error(error);
	g_assert_nonnull(fx->fifos);
}

static void fixture_teardown(Fixture *fx, gconstpointer data)
{
	g_autofree char *ctl = g_build_filename(fx->bundle, "ctl", NULL);
	g_autofree char *winsz = g_build_filename(fx->bundle, "winsz", NULL);

	(void)data;
	ctl_fifos_free(fx->fifos);
	drain_main_context();
	g_unlink(ctl);
	g_unlink(winsz);
	g_rmdir(fx->bundle);
	g_free(fx->bundle);
	g_array_unref(fx->resizes);
}

/* Writes data into <bundle>/<name> as a client would (echo > ctl), letting
 * the monitor read while the FIFO is full, then lets it finish. */
static void write_fifo(Fixture *fx, const char *name, const char *data, gsize len)
{
	g_autofree char *path = g_build_filename(fx->bundle, name, NULL);
	ck_autofd fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

	g_assert_no_errno(fd);
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			g_assert_cmpint(errno, ==, EAGAIN);
			g_main_context_iteration(NULL, FALSE);
			continue;
		}
		data += n;
		len -= (gsize)n;
	}
	drain_main_context();
}

static void write_ctl(Fixture *fx, const char *text)
{
	write_fifo(fx, "ctl", text, strlen(text));
}

static void assert_resizes(Fixture *fx, const int *expected, guint n_pairs)
{
	g_assert_cmpuint(fx->resizes->len, ==, 2 * n_pairs);
	for (guint i = 0; i < 2 * n_pairs; i++)
		g_assert_cmpint(g_array_index(fx->resizes, int, i), ==, expected[i]);
}

static void test_fifo_modes(Fixture *fx, gconstpointer data)
{
	(void)data;
	for (const char *const *name = (const char *const[]){"ctl", "winsz", NULL}; *name; name++) {
		g_autofree char *path = g_build_filename(fx->bundle, *name, NULL);
		struct stat st;

		g_assert_no_errno(stat(path, &st));
		g_assert_true(S_ISFIFO(st.st_mode));
		g_assert_cmpint(st.st_mode & 07777, ==, 0640);
	}
}

static void test_fifo_replaces_file(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *bundle = g_dir_make_tmp("test-conmon-ctl-XXXXXX", &error);
	g_autofree char *ctl = g_build_filename(bundle, "ctl", NULL);
	g_autofree char *winsz = g_build_filename(bundle, "winsz", NULL);
	struct stat st;

	g_assert_true(g_file_set_contents(ctl, "stale", -1, &error));
	CtlFifos *c = ctl_fifos_new(bundle, NULL, &error);
	g_assert_no_error(error);
	g_assert_no_errno(stat(ctl, &st));
	g_assert_true(S_ISFIFO(st.st_mode));

	/* Not removed at exit (conmon-interface.md#ctl-and-winsz-fifos). */
	ctl_fifos_free(c);
	g_assert_no_errno(stat(ctl, &st));
	g_assert_no_errno(stat(winsz, &st));
	g_unlink(ctl);
	g_unlink(winsz);
	g_rmdir(bundle);
}

static void test_fifo_accepted(Fixture *fx, gconstpointer data)
{
	(void)data;
	ctl_fifos_arm_winsz(fx->fifos);
	for (gsize i = 0; i < G_N_ELEMENTS(accepted); i++) {
		g_autofree char *line = g_strconcat(accepted[i].line, "\n", NULL);

		g_array_set_size(fx->resizes, 0);
		fx->reopens = 0;
		write_ctl(fx, line);
		if (accepted[i].type == 2) {
			g_assert_cmpint(fx->reopens, ==, 1);
			assert_resizes(fx, NULL, 0);
		} else {
			int pair[2] = {accepted[i].h, accepted[i].w};

			g_assert_cmpint(fx->reopens, ==, 0);
			assert_resizes(fx, pair, 1);
		}
	}
}

static void test_fifo_rejected(Fixture *fx, gconstpointer data)
{
	(void)data;
	ctl_fifos_arm_winsz(fx->fifos);
	for (gsize i = 0; i < G_N_ELEMENTS(rejected); i++) {
		g_autofree char *line = g_strconcat(rejected[i], "\n", NULL);

		write_ctl(fx, line);
		assert_resizes(fx, NULL, 0);
		g_assert_cmpint(fx->reopens, ==, 0);
	}
	/* Rejections leave nothing behind: the next message works. */
	write_ctl(fx, "1 3 4\n");
	assert_resizes(fx, (const int[]){3, 4}, 1);
}

static void test_fifo_long_line(Fixture *fx, gconstpointer data)
{
	g_autofree char *hashes = g_strnfill(65535, '#');
	g_autofree char *line = g_strconcat("1 2 2 ", hashes, "\n", NULL);

	(void)data;
	ctl_fifos_arm_winsz(fx->fifos);
	write_ctl(fx, line);
	assert_resizes(fx, NULL, 0);

	write_ctl(fx, "1 7 8\n");
	assert_resizes(fx, (const int[]){7, 8}, 1);
}

static void test_fifo_line_limit(Fixture *fx, gconstpointer data)
{
	/* 198 bytes plus "\n" fit the 200-byte buffer; one more does not. */
	g_autofree char *pad198 = g_strnfill(198 - 5, ' ');
	g_autofree char *fits = g_strconcat("1 5 5", pad198, "\n", NULL);
	g_autofree char *too_long = g_strconcat("1 6 6 ", pad198, "\n", NULL);

	(void)data;
	g_assert_cmpuint(strlen(fits), ==, 199);
	g_assert_cmpuint(strlen(too_long), ==, 200);
	ctl_fifos_arm_winsz(fx->fifos);
	write_ctl(fx, fits);
	assert_resizes(fx, (const int[]){5, 5}, 1);
	write_ctl(fx, too_long);
	assert_resizes(fx, (const int[]){5, 5}, 1);
}

static void test_fifo_rest_of_read_dropped(Fixture *fx, gconstpointer data)
{
	(void)data;
	ctl_fifos_arm_winsz(fx->fifos);
	/* One write, one read: the valid lines before the bad one apply,
	 * those after it in the same read are dropped. */
	write_ctl(fx, "1 2 3\nfoo\n1 4 5\n");
	assert_resizes(fx, (const int[]){2, 3}, 1);
	write_ctl(fx, "1 6 7\n");
	assert_resizes(fx, (const int[]){2, 3, 6, 7}, 2);
}

static void test_fifo_split_line(Fixture *fx, gconstpointer data)
{
	(void)data;
	ctl_fifos_arm_winsz(fx->fifos);
	/* A message may arrive in pieces; it is handled once complete. */
	write_ctl(fx, "1 1");
	assert_resizes(fx, NULL, 0);
	write_ctl(fx, "2 13\n");
	assert_resizes(fx, (const int[]){12, 13}, 1);
}

static void test_fifo_pre_arm(Fixture *fx, gconstpointer data)
{
	(void)data;
	write_ctl(fx, "1 5 6\n");
	write_ctl(fx, "1 7 8\n");
	assert_resizes(fx, NULL, 0);

	/* conmon-interface.md#ctl-and-winsz-fifos: resizes sent before the console existed wait in winsz. */
	ctl_fifos_arm_winsz(fx->fifos);
	drain_main_context();
	assert_resizes(fx, (const int[]){5, 6, 7, 8}, 2);

	ctl_fifos_arm_winsz(fx->fifos); /* idempotent */
	write_ctl(fx, "1 9 10\n");
	assert_resizes(fx, (const int[]){5, 6, 7, 8, 9, 10}, 3);
}

static void test_fifo_reopen(Fixture *fx, gconstpointer data)
{
	(void)data;
	/* CRI-O's ReopenContainerLog: "2 0 0\n". No winsz arming needed. */
	write_ctl(fx, "2 0 0\n");
	g_assert_cmpint(fx->reopens, ==, 1);
	write_ctl(fx, "2 0 0\n2 0 0\n");
	g_assert_cmpint(fx->reopens, ==, 3);
	write_ctl(fx, "2 0\n");
	g_assert_cmpint(fx->reopens, ==, 3);
	assert_resizes(fx, NULL, 0);
}

static void test_fifo_winsz_direct(Fixture *fx, gconstpointer data)
{
	(void)data;
	ctl_fifos_arm_winsz(fx->fifos);
	write_fifo(fx, "winsz", "30 100\n", 7);
	assert_resizes(fx, (const int[]){30, 100}, 1);
	write_fifo(fx, "winsz", "bad\n", 4);
	assert_resizes(fx, (const int[]){30, 100}, 1);
}

#define ADD(path, fn) g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	umask(022);

	g_test_add_func("/conmon-ctl/parse/accepted", test_parse_accepted);
	g_test_add_func("/conmon-ctl/parse/rejected", test_parse_rejected);
	g_test_add_func("/conmon-ctl/parse/long-string", test_parse_long_line);
	g_test_add_func("/conmon-ctl/parse/winsz", test_parse_winsz);
	g_test_add_func("/conmon-ctl/fifo/replaces-file", test_fifo_replaces_file);
	ADD("/conmon-ctl/fifo/modes", test_fifo_modes);
	ADD("/conmon-ctl/fifo/accepted", test_fifo_accepted);
	ADD("/conmon-ctl/fifo/rejected", test_fifo_rejected);
	ADD("/conmon-ctl/fifo/long-line", test_fifo_long_line);
	ADD("/conmon-ctl/fifo/line-limit", test_fifo_line_limit);
	ADD("/conmon-ctl/fifo/rest-of-read-dropped", test_fifo_rest_of_read_dropped);
	ADD("/conmon-ctl/fifo/split-line", test_fifo_split_line);
	ADD("/conmon-ctl/fifo/pre-arm", test_fifo_pre_arm);
	ADD("/conmon-ctl/fifo/reopen", test_fifo_reopen);
	ADD("/conmon-ctl/fifo/winsz-direct", test_fifo_winsz_direct);
	return g_test_run();
}
