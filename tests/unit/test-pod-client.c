/* pod-client: the guest facts a pod monitor records for the pod's other
 * monitors (vmctl/lib/pod-client.h, guest.json): what is written is read
 * back, "not reported" stays distinct from "none", and a file that is
 * missing or not of that shape reads as not recorded. */
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-io.h"
#include "lib/pod-client.h"

static char *root;

static char *guest_file(const char *pod)
{
	g_autofree char *dir = pod_dir(root, pod);
	return g_build_filename(dir, "guest.json", NULL);
}

static void make_pod_dir(const char *pod)
{
	g_autofree char *dir = pod_dir(root, pod);
	g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
}

static void test_round_trip(void)
{
	g_autoptr(GError) error = NULL;
	char *ia32[] = {"ia32", NULL}, *none[] = {NULL};
	struct stat st;

	make_pod_dir("p1");
	g_assert_true(pod_record_guest_abis(root, "p1", ia32, &error));
	g_assert_no_error(error);
	g_auto(GStrv) back = pod_read_guest_abis(root, "p1");
	g_assert_nonnull(back);
	g_assert_cmpuint(g_strv_length(back), ==, 1);
	g_assert_cmpstr(back[0], ==, "ia32");
	g_autofree char *path = guest_file("p1");
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);

	/* the agent probed and found neither: [] is not "unknown" */
	g_assert_true(pod_record_guest_abis(root, "p1", none, &error));
	g_auto(GStrv) empty = pod_read_guest_abis(root, "p1");
	g_assert_nonnull(empty);
	g_assert_null(empty[0]);

	/* the agent did not say */
	g_assert_true(pod_record_guest_abis(root, "p1", NULL, &error));
	g_assert_null(pod_read_guest_abis(root, "p1"));
}

static void test_not_recorded(void)
{
	static const struct {
		const char *content;
		const char *first; /* NULL: reads as not recorded */
	} cases[] = {
	    {"", NULL},
	    {"{", NULL},
	    {"[]", NULL},
	    {"{\"compat_abis\":\"ia32\"}", NULL},
	    {"{\"compat_abis\":null}", NULL},
	    {"{\"compat_abis\":[5,\"x32\",{}]}", "x32"},
	};

	make_pod_dir("p2");
	g_assert_null(pod_read_guest_abis(root, "p2"));
	g_assert_null(pod_read_guest_abis(root, "no-such-pod"));
	g_autofree char *path = guest_file("p2");
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_assert_true(g_file_set_contents(path, cases[i].content, -1, &error));
		g_auto(GStrv) abis = pod_read_guest_abis(root, "p2");
		g_test_message("case %" G_GSIZE_FORMAT ": %s", i, cases[i].content);
		if (cases[i].first == NULL) {
			g_assert_null(abis);
		} else {
			g_assert_nonnull(abis);
			g_assert_cmpuint(g_strv_length(abis), ==, 1);
			g_assert_cmpstr(abis[0], ==, cases[i].first);
		}
	}
}

int main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	int status;

	g_test_init(&argc, &argv, NULL);
	root = g_dir_make_tmp("test-pod-client-XXXXXX", &error);
	g_assert_no_error(error);
	g_test_add_func("/pod-client/guest-abis/round-trip", test_round_trip);
	g_test_add_func("/pod-client/guest-abis/not-recorded", test_not_recorded);
	status = g_test_run();
	g_assert_true(ck_rm_rf(root, NULL));
	g_free(root);
	return status;
}
