/* Unit tests: the host's TSC frequency for TCG guests (vmctl/lib/accel.c,
 * accel_host_tsc_khz): measured on this host, in whole MHz, cached in the
 * runtime root for this boot of the host, a cache of another boot ignored.
 */
#include <string.h>

#include <glib.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "lib/accel.h"

static char *cache_text(const char *root)
{
	g_autofree char *path = g_build_filename(root, "host-tsc.json", NULL);
	char *text = NULL;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	return text;
}

static void test_measured_and_cached(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *root = g_dir_make_tmp("test-host-tsc-XXXXXX", &error);

	g_assert_no_error(error);
#if defined(__x86_64__)
	guint32 khz = accel_host_tsc_khz(root);
	/* any x86-64 host of the last 15 years: a constant TSC of 0.5-6 GHz */
	g_assert_cmpuint(khz, >=, 500000);
	g_assert_cmpuint(khz, <=, 6000000);
	g_assert_cmpuint(khz % 1000, ==, 0);
	g_autofree char *text = cache_text(root);
	g_autofree char *field = g_strdup_printf("\"tsc_khz\":%u", khz);
	g_assert_nonnull(strstr(text, field));
	g_assert_cmpuint(accel_host_tsc_khz(root), ==, khz);

	/* a value cached by another boot of the host is measured again */
	g_autofree char *path = g_build_filename(root, "host-tsc.json", NULL);
	static const char stale[] = "{\"boot_id\":\"another-boot\",\"tsc_khz\":1234000}";
	g_assert_true(g_file_set_contents(path, stale, -1, &error));
	guint32 fresh = accel_host_tsc_khz(root);
	g_assert_cmpuint(fresh, !=, 1234000);
	g_assert_cmpuint(fresh, >=, 500000);
	g_autofree char *again = cache_text(root);
	g_assert_null(strstr(again, "another-boot"));
#else
	g_assert_cmpuint(accel_host_tsc_khz(root), ==, 0);
#endif
	g_assert_true(ck_rm_rf(root, &error));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/host-tsc/measured-and-cached", test_measured_and_cached);
	return g_test_run();
}
