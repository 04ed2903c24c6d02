/* Unit tests: the stand-in (conmon-kata/standin.c), forked for real.
 *
 * It is forked before the guest makes the process and sets itself up
 * while the guest works (standin_start), and its set-up is waited for
 * afterwards (standin_wait_ready). So the monitor's main loop may have
 * reaped a stand-in that failed its set-up before anyone waits for it:
 * the reason it wrote must still be the error, and a pid reaped must not
 * be signalled. A stand-in killed after it was set up but before its pid
 * was reported is an error too. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "base/ck-error.h"
#include "conmon-kata/signals.h"
#include "conmon-kata/standin.h"

#define NO_NETNS "/nonexistent-ck-standin-netns"

static int died;

static void on_died(int wait_status, gpointer data)
{
	(void)wait_status;
	(void)data;
	died++;
}

static Standin *start(const char *netns)
{
	StandinOptions opts = {.netns_path = netns, .on_died = on_died};
	g_autoptr(GError) error = NULL;
	Standin *s = standin_start(&opts, &error);

	g_assert_no_error(error);
	g_assert_nonnull(s);
	return s;
}

/* Runs the main loop (the SIGCHLD sweep) until pid is reaped. */
static void until_reaped(pid_t pid)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	while (g_get_monotonic_time() < deadline) {
		g_main_context_iteration(NULL, FALSE);
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return;
		g_usleep(1000);
	}
	g_assert_not_reached();
}

static void expect_netns_error(Standin *s)
{
	g_autoptr(GError) error = NULL;

	g_assert_false(standin_wait_ready(s, &error));
	g_assert_true(ck_error_is(error, CK_ERROR_NOT_FOUND));
	g_assert_cmpstr(error->message, ==, "stand-in: join " NO_NETNS ": No such file or directory");
	g_assert_true(kill(standin_get_pid(s), 0) < 0 && errno == ESRCH);
}

static void test_setup_fails(void)
{
	Standin *s = start(NO_NETNS);

	expect_netns_error(s);
	standin_free(s);
	g_assert_cmpint(died, ==, 0);
}

/* The set-up failed and the main loop reaped it before the wait. */
static void test_setup_fails_reaped_first(void)
{
	Standin *s = start(NO_NETNS);

	until_reaped(standin_get_pid(s));
	expect_netns_error(s);
	standin_free(s);
	g_assert_cmpint(died, ==, 0);
}

static void test_ready_then_finished(void)
{
	g_autoptr(GError) error = NULL;
	Standin *s = start(NULL);
	pid_t pid = standin_get_pid(s);

	g_assert_true(standin_wait_ready(s, &error));
	g_assert_no_error(error);
	g_assert_cmpint(kill(pid, 0), ==, 0);
	g_assert_cmpuint(standin_get_start_time(s), >, 0);
	standin_finish(s, 7, 5000);
	g_assert_true(kill(pid, 0) < 0 && errno == ESRCH);
	standin_free(s);
	g_assert_cmpint(died, ==, 0);
}

/* Set up, then killed (by anyone) before the wait: not a pid to report. */
static void test_killed_before_the_wait(void)
{
	g_autoptr(GError) error = NULL;
	Standin *s = start(NULL);
	pid_t pid = standin_get_pid(s);

	g_usleep(200 * 1000); /* set up by now: it has nothing to join */
	g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
	until_reaped(pid);
	g_assert_false(standin_wait_ready(s, &error));
	g_assert_nonnull(error);
	g_assert_cmpstr(error->message, ==, "stand-in: died before its pid was reported: No such process");
	standin_free(s);
	g_assert_cmpint(died, ==, 0);
}

int main(int argc, char **argv)
{
	static const int forward[] = {0};
	g_autoptr(GError) error = NULL;

	g_test_init(&argc, &argv, NULL);
	g_assert_true(signals_init(forward, NULL, NULL, &error));
	g_test_add_func("/standin/setup-fails", test_setup_fails);
	g_test_add_func("/standin/setup-fails-reaped-first", test_setup_fails_reaped_first);
	g_test_add_func("/standin/ready-then-finished", test_ready_then_finished);
	g_test_add_func("/standin/killed-before-the-wait", test_killed_before_the_wait);
	return g_test_run();
}
