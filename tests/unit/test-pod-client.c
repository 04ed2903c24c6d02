/* pod-client: the guest facts a pod monitor records for the pod's other
 * monitors (vmctl/lib/pod-client.h, guest.json): what is written is read
 * back, compat ABIs not reported stay distinct from none, and a file that
 * is missing or not of that shape reads as not recorded (the caller then
 * asks the agent). */
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
	g_assert_true(pod_record_guest(root, "p1", &(PodGuestFacts){TRUE, ia32}, &error));
	g_assert_no_error(error);
	g_auto(PodGuestFacts) back = {0};
	g_assert_true(pod_read_guest(root, "p1", &back));
	g_assert_true(back.seccomp_bpf);
	g_assert_nonnull(back.compat_abis);
	g_assert_cmpuint(g_strv_length(back.compat_abis), ==, 1);
	g_assert_cmpstr(back.compat_abis[0], ==, "ia32");
	g_autofree char *path = guest_file("p1");
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);

	/* the agent probed and found neither: [] is not "not reported" */
	g_assert_true(pod_record_guest(root, "p1", &(PodGuestFacts){TRUE, none}, &error));
	g_auto(PodGuestFacts) empty = {0};
	g_assert_true(pod_read_guest(root, "p1", &empty));
	g_assert_nonnull(empty.compat_abis);
	g_assert_null(empty.compat_abis[0]);

	/* an agent that said neither */
	g_assert_true(pod_record_guest(root, "p1", &(PodGuestFacts){FALSE, NULL}, &error));
	g_auto(PodGuestFacts) older = {0};
	g_assert_true(pod_read_guest(root, "p1", &older));
	g_assert_false(older.seccomp_bpf);
	g_assert_null(older.compat_abis);
}

static void test_not_recorded(void)
{
	static const struct {
		const char *content;
		gboolean recorded;
		const char *first_abi;
	} cases[] = {
	    {"", FALSE, NULL},
	    {"{", FALSE, NULL},
	    {"[]", FALSE, NULL},
	    {"{\"compat_abis\":[\"ia32\"]}", FALSE, NULL},
	    {"{\"seccomp_bpf\":1}", FALSE, NULL},
	    {"{\"seccomp_bpf\":true,\"compat_abis\":\"ia32\"}", TRUE, NULL},
	    {"{\"seccomp_bpf\":true,\"compat_abis\":[5,\"x32\",{}]}", TRUE, "x32"},
	};
	PodGuestFacts facts = {0};

	make_pod_dir("p2");
	g_assert_false(pod_read_guest(root, "p2", &facts));
	g_assert_false(pod_read_guest(root, "no-such-pod", &facts));
	g_autofree char *path = guest_file("p2");
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_auto(PodGuestFacts) got = {0};

		g_test_message("case %" G_GSIZE_FORMAT ": %s", i, cases[i].content);
		g_assert_true(g_file_set_contents(path, cases[i].content, -1, &error));
		g_assert_cmpint(pod_read_guest(root, "p2", &got), ==, cases[i].recorded);
		if (cases[i].first_abi == NULL) {
			g_assert_null(got.compat_abis);
		} else {
			g_assert_cmpuint(g_strv_length(got.compat_abis), ==, 1);
			g_assert_cmpstr(got.compat_abis[0], ==, cases[i].first_abi);
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
	g_test_add_func("/pod-client/guest/round-trip", test_round_trip);
	g_test_add_func("/pod-client/guest/not-recorded", test_not_recorded);
	status = g_test_run();
	g_assert_true(ck_rm_rf(root, NULL));
	g_free(root);
	return status;
}
