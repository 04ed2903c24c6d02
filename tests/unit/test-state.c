/* state: per-container state files (vmctl/lib/state.h): a round trip, the
 * atomic replacement a concurrent reader relies on, the lock's exclusion,
 * and the errors for what is missing or invalid. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "lib/state.h"

static char *root;

static ContainerState *sample(const char *id, const char *bundle)
{
	ContainerState *st = container_state_new(id);

	st->pod_id = g_strdup("pod-1");
	st->bundle = g_strdup(bundle);
	st->pid = 4242;
	st->pid_start = 123456789ULL;
	st->guest_handle = 7;
	st->has_exit_code = TRUE;
	st->exit_code = 137;
	g_hash_table_insert(st->annotations, g_strdup("io.kubernetes.cri.sandbox-id"), g_strdup("pod-1"));
	g_hash_table_insert(st->annotations, g_strdup("a"), g_strdup("first"));
	return st;
}

static void test_round_trip(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(ContainerState) st = sample("round-trip", "/bundles/x");

	g_assert_true(container_state_write(root, st, &error));
	g_assert_no_error(error);
	g_autoptr(ContainerState) back = container_state_read(root, "round-trip", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(back->pod_id, ==, "pod-1");
	g_assert_cmpstr(back->bundle, ==, "/bundles/x");
	g_assert_cmpstr(back->status, ==, "created");
	g_assert_cmpint(back->pid, ==, 4242);
	g_assert_cmpuint(back->pid_start, ==, 123456789ULL);
	g_assert_cmpuint(back->guest_handle, ==, 7);
	g_assert_true(back->has_exit_code);
	g_assert_cmpint(back->exit_code, ==, 137);
	g_assert_cmpint(back->kind, ==, CONTAINER_KIND_VM);
	g_assert_cmpuint(g_hash_table_size(back->annotations), ==, 2);
	g_assert_cmpstr(g_hash_table_lookup(back->annotations, "a"), ==, "first");

	/* the state file is private, and the write left nothing beside it */
	g_autofree char *dir = container_state_dir(root, "round-trip");
	g_autofree char *file = g_build_filename(dir, "state.json", NULL);
	struct stat sb;
	g_assert_cmpint(stat(file, &sb), ==, 0);
	g_assert_cmpint(sb.st_mode & 07777, ==, 0600);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	for (const char *name; (name = g_dir_read_name(d)) != NULL;)
		g_assert_true(g_str_equal(name, "state.json"));

	g_autoptr(GPtrArray) ids = container_state_list(root, &error);
	g_assert_no_error(error);
	g_assert_true(g_ptr_array_find_with_equal_func(ids, "round-trip", g_str_equal, NULL));
	g_assert_true(container_state_remove(root, "round-trip", &error));
	g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
}

/* A reader never sees a half-written state: a child reads in a loop while
 * the parent replaces the file with two states of different sizes. */
static void test_atomic_replace(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(ContainerState) small = sample("atomic", "/b");
	g_autoptr(ContainerState) large = sample("atomic", "/b");
	g_autofree char *long_bundle = g_strnfill(3000, 'x');

	g_free(large->bundle);
	large->bundle = g_strconcat("/", long_bundle, NULL);
	g_assert_true(container_state_write(root, small, &error));
	int report[2];
	g_assert_cmpint(pipe(report), ==, 0);
	pid_t child = fork();
	if (child == 0) {
		close(report[0]);
		int bad = 0;
		for (int i = 0; i < 3000; i++) {
			g_autoptr(GError) e = NULL;
			g_autoptr(ContainerState) st = container_state_read(root, "atomic", &e);
			if (st == NULL || (!g_str_equal(st->bundle, "/b") && strlen(st->bundle) != 3001))
				bad++;
		}
		(void)!write(report[1], &bad, sizeof bad);
		_exit(0);
	}
	close(report[1]);
	for (int i = 0; i < 400; i++)
		g_assert_true(container_state_write(root, i % 2 ? large : small, &error));
	int bad = -1;
	g_assert_cmpint(read(report[0], &bad, sizeof bad), ==, sizeof bad);
	close(report[0]);
	waitpid(child, NULL, 0);
	g_assert_cmpint(bad, ==, 0);
	g_assert_true(container_state_remove(root, "atomic", &error));
}

/* Child: takes the lock (blocking) and says so on fd. A lock belongs to
 * the open file, which a fork shares: the child first closes its copy of
 * the parent's (`inherited`), so that the parent's close releases it. */
static pid_t lock_in_child(const char *id, gboolean exclusive, int fd, int inherited)
{
	pid_t pid = fork();
	if (pid == 0) {
		g_autoptr(GError) e = NULL;
		if (inherited >= 0)
			close(inherited);
		int lock = container_state_lock(root, id, exclusive, FALSE, &e);
		char c = lock >= 0 ? 'L' : 'E';
		(void)!write(fd, &c, 1);
		pause();
		_exit(0);
	}
	return pid;
}

static gboolean readable_within(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) == 1;
}

static void test_lock(void)
{
	g_autoptr(GError) error = NULL;
	int held = container_state_lock(root, "locked", TRUE, TRUE, &error);
	g_assert_no_error(error);
	int p[2];
	g_assert_cmpint(pipe(p), ==, 0);

	/* an exclusive lock keeps a second one out until it is released */
	pid_t waiter = lock_in_child("locked", TRUE, p[1], held);
	g_assert_false(readable_within(p[0], 300));
	close(held);
	g_assert_true(readable_within(p[0], 5000));
	char c = 0;
	g_assert_cmpint(read(p[0], &c, 1), ==, 1);
	g_assert_cmpint(c, ==, 'L');
	kill(waiter, SIGKILL);
	waitpid(waiter, NULL, 0);

	/* shared locks coexist, and keep an exclusive one out */
	int shared = container_state_lock(root, "locked", FALSE, FALSE, &error);
	g_assert_no_error(error);
	pid_t reader = lock_in_child("locked", FALSE, p[1], shared);
	g_assert_true(readable_within(p[0], 5000));
	g_assert_cmpint(read(p[0], &c, 1), ==, 1);
	g_assert_cmpint(c, ==, 'L');
	pid_t writer = lock_in_child("locked", TRUE, p[1], shared);
	g_assert_false(readable_within(p[0], 300));
	close(shared);
	kill(reader, SIGKILL);
	waitpid(reader, NULL, 0);
	g_assert_true(readable_within(p[0], 5000));
	kill(writer, SIGKILL);
	waitpid(writer, NULL, 0);
	close(p[0]);
	close(p[1]);
	g_assert_true(container_state_remove(root, "locked", &error));
}

static void test_errors(void)
{
	g_autoptr(GError) error = NULL;

	g_assert_null(container_state_read(root, "nobody", &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "container nobody does not exist");
	g_clear_error(&error);

	g_assert_cmpint(container_state_lock(root, "nobody", TRUE, FALSE, &error), ==, -1);
	g_assert_error(error, CK_ERROR, CK_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "container nobody does not exist");
	g_clear_error(&error);

	const char *bad_ids[] = {"", "../escape", "a/b", "sp ace", NULL};
	for (int i = 0; bad_ids[i] != NULL; i++) {
		g_assert_false(container_id_valid(bad_ids[i], &error));
		g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
		g_clear_error(&error);
		g_assert_null(container_state_read(root, bad_ids[i], &error));
		g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
		g_clear_error(&error);
	}

	/* a damaged state file is an error naming it, not a crash or a default */
	g_autoptr(ContainerState) st = sample("damaged", "/b");
	g_assert_true(container_state_write(root, st, &error));
	g_autofree char *dir = container_state_dir(root, "damaged");
	g_autofree char *file = g_build_filename(dir, "state.json", NULL);
	g_assert_true(g_file_set_contents(file, "{\"version\": 1, \"id\": ", -1, NULL));
	g_assert_null(container_state_read(root, "damaged", &error));
	g_assert_nonnull(error);
	g_assert_nonnull(strstr(error->message, file));
	g_clear_error(&error);
	g_assert_true(container_state_remove(root, "damaged", &error));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_autofree char *tmp = g_dir_make_tmp("test-state-XXXXXX", NULL);
	root = g_build_filename(tmp, "root", NULL);
	g_test_add_func("/state/round-trip", test_round_trip);
	g_test_add_func("/state/atomic-replace", test_atomic_replace);
	g_test_add_func("/state/lock", test_lock);
	g_test_add_func("/state/errors", test_errors);
	int rc = g_test_run();
	g_autoptr(GError) error = NULL;
	(void)ck_rm_rf(tmp, &error);
	g_free(root);
	return rc;
}
