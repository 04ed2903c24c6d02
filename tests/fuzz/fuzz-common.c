/* fuzz-common: the helpers of fuzz.h, linked into every fuzz target.
 *
 * Kept apart from driver.c so that the targets get the same behaviour
 * under libFuzzer: fatal GLib criticals, quiet logging, GLib allocations
 * that the sanitizers can see, a private scratch directory.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "base/ck-io.h"
#include "base/ck-log.h"

static char *tmpdir;

/* LeakSanitizer's built-in suppressions, for leaks that are not ours.
 *
 * libseccomp 2.5.4 (Debian 12) leaks rule nodes when, on a filter that
 * also has SCMP_ARCH_X86, socket syscalls multiplexed through socketcall
 * and socketcall itself get rules with an argument condition; nothing
 * our code can free. Reproduced without any of our code:
 *
 *     ctx = seccomp_init(SCMP_ACT_ERRNO(38));
 *     seccomp_arch_add(ctx, SCMP_ARCH_X86);
 *     for each of setsockopt, shutdown, socketcall:
 *             seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A2(SCMP_CMP_NE, 9));
 *     seccomp_release(ctx);          -> 192 bytes in 2 blocks leaked
 *
 * The suppression has to name the library: it has no frame pointers, so
 * the fast unwinder that records allocation stacks stops inside it. A
 * filter we forget to release would hide behind it too; the OciSeccomp
 * that holds it would not, so oci_seccomp_free() not being called still
 * shows. */
const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
	return "leak:libseccomp.so\n";
}

/* GLib's own warnings and criticals mean a misuse of its API (a failed
 * g_return_if_fail, an invalid UTF-8 string where one must be valid):
 * when input can trigger one, that is a bug of ours, so it aborts like
 * any other crash. Everything quieter is dropped to keep runs fast. */
static GLogWriterOutput fatal_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
	const char *domain = "";
	const char *msg = "";

	(void)data;
	if (!(level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)))
		return G_LOG_WRITER_HANDLED;
	for (gsize i = 0; i < n_fields; i++) {
		if (g_str_equal(fields[i].key, "GLIB_DOMAIN") && fields[i].value != NULL)
			domain = fields[i].value;
		else if (g_str_equal(fields[i].key, "MESSAGE") && fields[i].value != NULL)
			msg = fields[i].value;
	}
	fprintf(stderr, "fuzz: GLib %s from '%s': %s\n",
		(level & G_LOG_LEVEL_WARNING) ? "warning" : "critical or error", domain, msg);
	abort();
}

static void remove_tmpdir(void)
{
	if (tmpdir != NULL)
		(void)ck_rm_rf(tmpdir, NULL);
	g_clear_pointer(&tmpdir, g_free);
}

void fuzz_init(void)
{
	static gboolean done;

	if (done)
		return;
	done = TRUE;
	/* Before GLib's first slice allocation: the magazine allocator would
	 * hide overflows and leaks of GHashTable nodes, GStrings and the like
	 * from the sanitizers. */
	setenv("G_SLICE", "always-malloc", 0);
	setenv("G_DEBUG", "gc-friendly", 0);
	g_log_set_writer_func(fatal_writer, NULL, NULL);
	ck_log_set_stderr(FALSE);
	ck_log_set_level(CK_LOG_ERROR);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

char *fuzz_strip_config_comments(const char *toml)
{
	GString *out = g_string_sized_new(strlen(toml));

	/* Line by line, in one pass: g_strsplit() and g_strjoinv() made this
	 * a third of fuzz-annotations' time. */
	for (const char *line = toml; *line != '\0';) {
		const char *nl = strchrnul(line, '\n');
		const char *comment = g_strstr_len(line, nl - line, "  # ");
		g_string_append_len(out, line, (comment != NULL ? comment : nl) - line);
		if (*nl == '\0')
			break;
		g_string_append_c(out, '\n');
		line = nl + 1;
	}
	return g_string_free(out, FALSE);
}

char *fuzz_config_text(const CkConfig *cfg)
{
	g_autofree char *text = ck_config_to_toml(cfg);

	return fuzz_strip_config_comments(text);
}

/* Scratch files go to a memory file system when there is one: the log
 * target renames and reopens thousands of files per input, which on a
 * busy disk made a 0.5 s input run past --timeout (10x slower on ext4). */
const char *fuzz_tmpdir(void)
{
	if (tmpdir == NULL) {
		g_autoptr(GError) error = NULL;

		if (access("/dev/shm", W_OK | X_OK) == 0) {
			tmpdir = g_build_filename("/dev/shm", "ck-fuzz-XXXXXX", NULL);
			if (g_mkdtemp(tmpdir) == NULL)
				g_clear_pointer(&tmpdir, g_free);
		}
		if (tmpdir == NULL)
			tmpdir = g_dir_make_tmp("ck-fuzz-XXXXXX", &error);
		if (tmpdir == NULL)
			fuzz_fail("cannot create a temporary directory: %s", error->message);
		atexit(remove_tmpdir);
	}
	return tmpdir;
}

void fuzz_clear_dir(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	/* Plain files are most of it (fuzz-k8s-log's logs): one unlink()
	 * each; ck_rm_rf() for what that cannot remove. */
	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		if (unlink(path) < 0 && errno != ENOENT)
			(void)ck_rm_rf(path, NULL);
	}
}

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: property violated: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

void fuzz_input_init(FuzzInput *in, const uint8_t *data, size_t size)
{
	in->p = data;
	in->left = size;
}

guint8 fuzz_take_u8(FuzzInput *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

guint16 fuzz_take_u16(FuzzInput *in)
{
	guint16 hi = fuzz_take_u8(in);

	return (guint16)(hi << 8 | fuzz_take_u8(in));
}

const uint8_t *fuzz_take_bytes(FuzzInput *in, size_t n, size_t *out_len)
{
	const uint8_t *start = in->p;

	*out_len = MIN(n, in->left);
	in->p += *out_len;
	in->left -= *out_len;
	return start;
}

const uint8_t *fuzz_take_until(FuzzInput *in, uint8_t sep, size_t *out_len)
{
	const uint8_t *start = in->p;
	const uint8_t *hit = in->left > 0 ? memchr(in->p, sep, in->left) : NULL;
	size_t n = hit != NULL ? (size_t)(hit - start) : in->left;

	*out_len = n;
	in->p += n + (hit != NULL);
	in->left -= n + (hit != NULL);
	return start;
}
