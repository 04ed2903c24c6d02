/* fuzz-annotations: a pod's io.katacontainers.* annotations through the
 * gating of vmctl/lib/annotations.c, against an operator's configuration.
 *
 * Input, as text lines. Up to a line "--", the configuration:
 *     enable <regex>        one entry of enable_annotations
 *     hypervisor <glob>     one entry of valid_hypervisor_paths
 *     kernel <glob>         one entry of valid_kernel_paths
 *     initrd <glob>         one entry of valid_initrd_paths
 *     params <text>         kernel_params
 * (other lines are ignored; without a "--" line the configuration is
 * enable_annotations = [".*"] and a few allow-listed directories, and all
 * of the input is annotations). Then one annotation per line,
 * "<name>=<value>", both with C escapes (\n, \t, \\, \NNN octal) so that
 * control characters can be written.
 *
 * Checked, beyond crashes:
 *   - a refusal is CK_ERROR_INVALID (FAILED would be a programming error)
 *     and leaves the configuration exactly as it was (all or nothing);
 *   - an accepted set of annotations gives a configuration that the file
 *     could have held: printed as TOML (`vmctl env`) it loads again, to the
 *     same values, and passes the cross-key ceilings;
 *   - every accepted annotation is enabled: an enable_annotations entry,
 *     compiled on its own, matches its whole gated name ("default_memory",
 *     "agent.kernel_modules", ...), found with GLib's DFA matcher, which
 *     does not share the implementation's "^(?:...)$" wrapping;
 *   - host paths set by an annotation are absolute, canonical and match
 *     their allow-list; no string gains a control character.
 */
#include <fnmatch.h>
#include <string.h>

#include "base/ck-error.h"
#include "lib/annotations.h"
#include "lib/config.h"
#include "fuzz.h"

#define KATA_CONFIG "io.katacontainers.config."

typedef struct {
	const char *word;
	const char *key;
} ConfigLine;

static const ConfigLine config_lines[] = {
    {"enable", "hypervisor.qemu.enable_annotations"},
    {"hypervisor", "hypervisor.qemu.valid_hypervisor_paths"},
    {"kernel", "hypervisor.qemu.valid_kernel_paths"},
    {"initrd", "hypervisor.qemu.valid_initrd_paths"},
};

/* Built once per process and never freed (it stays reachable, so
 * LeakSanitizer does not count it); each input gets a copy. */
static CkConfig *default_config(void)
{
	static const char *const enable[] = {".*", NULL};
	static const char *const qemu[] = {"/usr/bin/qemu-system-*", "/opt/kata/bin/*", NULL};
	static const char *const kernel[] = {"/opt/kata/share/*", "/usr/share/conmon-kata/guest/*", NULL};
	static CkConfig *cfg;

	if (cfg == NULL) {
		cfg = ck_config_new_defaults();
		(void)ck_config_set_strv(cfg, "hypervisor.qemu.enable_annotations", enable, "fuzz", NULL);
		(void)ck_config_set_strv(cfg, "hypervisor.qemu.valid_hypervisor_paths", qemu, "fuzz", NULL);
		(void)ck_config_set_strv(cfg, "hypervisor.qemu.valid_kernel_paths", kernel, "fuzz", NULL);
		(void)ck_config_set_strv(cfg, "hypervisor.qemu.valid_initrd_paths", kernel, "fuzz", NULL);
	}
	return ck_config_copy(cfg);
}

/* The configuration part of the input; lists only replace the defaults'
 * when the input has such lines. Values the configuration refuses are
 * skipped: the file could not hold them either. */
static CkConfig *read_config(char **lines, guint n)
{
	CkConfig *cfg = default_config();
	GPtrArray *lists[G_N_ELEMENTS(config_lines)] = {NULL};

	for (guint i = 0; i < n; i++) {
		const char *sp = strchr(lines[i], ' ');
		if (sp == NULL)
			continue;
		g_autofree char *word = g_strndup(lines[i], sp - lines[i]);
		if (g_str_equal(word, "params")) {
			(void)ck_config_set_string(cfg, "hypervisor.qemu.kernel_params", sp + 1, "fuzz", NULL);
			continue;
		}
		for (gsize k = 0; k < G_N_ELEMENTS(config_lines); k++) {
			if (!g_str_equal(word, config_lines[k].word))
				continue;
			if (lists[k] == NULL)
				lists[k] = g_ptr_array_new_with_free_func(g_free);
			g_ptr_array_add(lists[k], g_strdup(sp + 1));
		}
	}
	for (gsize k = 0; k < G_N_ELEMENTS(config_lines); k++) {
		if (lists[k] == NULL)
			continue;
		g_ptr_array_add(lists[k], NULL);
		(void)ck_config_set_strv(cfg, config_lines[k].key, (const char *const *)lists[k]->pdata, "fuzz", NULL);
		g_ptr_array_unref(lists[k]);
	}
	return cfg;
}

/* "default_memory" for the hypervisor group, "agent.x" and "runtime.x"
 * for the others, as docs/configuration.md states the gate; NULL for a
 * name outside the three groups. */
static char *gate_of(const char *name)
{
	static const char *const groups[][2] = {
	    {KATA_CONFIG "hypervisor.", ""},
	    {KATA_CONFIG "agent.", "agent."},
	    {KATA_CONFIG "runtime.", "runtime."},
	};

	for (gsize g = 0; g < G_N_ELEMENTS(groups); g++)
		if (g_str_has_prefix(name, groups[g][0]))
			return g_strconcat(groups[g][1], name + strlen(groups[g][0]), NULL);
	return NULL;
}

/* TRUE when the expression alone matches all of `s`; -1 when the DFA
 * matcher cannot tell (back-references and the like). */
static int matches_whole(const char *pattern, const char *s)
{
	g_autoptr(GRegex) re = g_regex_new(pattern, 0, 0, NULL);
	g_autoptr(GMatchInfo) mi = NULL;
	g_autoptr(GError) error = NULL;
	gsize len = strlen(s);

	if (re == NULL)
		return FALSE;
	if (!g_regex_match_all_full(re, s, -1, 0, G_REGEX_MATCH_ANCHORED, &mi, &error))
		return error != NULL ? -1 : FALSE;
	for (gint i = 0; i < g_match_info_get_match_count(mi); i++) {
		gint start = -1, end = -1;
		if (g_match_info_fetch_pos(mi, i, &start, &end) && start == 0 && (gsize)end == len)
			return TRUE;
	}
	return FALSE;
}

static void check_enabled(const CkConfig *cfg, const char *name)
{
	g_autofree char *gate = gate_of(name);
	gboolean unsure = FALSE;

	fuzz_check(gate != NULL, "annotation %s outside the config groups was accepted", name);
	for (char **p = cfg->hypervisor.enable_annotations; p != NULL && *p != NULL; p++) {
		int m = matches_whole(*p, gate);
		if (m == TRUE)
			return;
		unsure = unsure || m < 0;
	}
	fuzz_check(unsure, "annotation %s was accepted, but no enable_annotations entry matches all of '%s'", name,
		   gate);
}

static gboolean has_control(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return TRUE;
	return FALSE;
}

static void check_host_path(const char *before, const char *after, char **globs, const char *what)
{
	gboolean allowed = FALSE;

	if (g_str_equal(before, after))
		return;
	g_autofree char *canonical = g_canonicalize_filename(after, "/");
	fuzz_check(g_path_is_absolute(after) && g_str_equal(canonical, after), "%s set to '%s', not canonical", what,
		   after);
	for (gsize i = 0; globs != NULL && globs[i] != NULL; i++)
		allowed = allowed || fnmatch(globs[i], after, FNM_PATHNAME | FNM_PERIOD) == 0;
	fuzz_check(allowed, "%s set to '%s', outside its allow-list", what, after);
}

static void check_strings(const CkConfig *before, const CkConfig *after)
{
	const char *const b[] = {before->hypervisor.kernel_params, before->hypervisor.machine_type,
				 before->hypervisor.guest_hook_path, before->hypervisor.seccompsandbox};
	const char *const a[] = {after->hypervisor.kernel_params, after->hypervisor.machine_type,
				 after->hypervisor.guest_hook_path, after->hypervisor.seccompsandbox};

	for (gsize i = 0; i < G_N_ELEMENTS(a); i++)
		fuzz_check(has_control(b[i]) || !has_control(a[i]), "an annotation put a control character in '%s'",
			   a[i]);
	for (char **m = after->agent.kernel_modules; m != NULL && *m != NULL; m++)
		fuzz_check(!has_control(*m), "an annotation put a control character in a kernel module");
	check_host_path(before->hypervisor.path, after->hypervisor.path, after->hypervisor.valid_hypervisor_paths,
			"hypervisor.qemu.path");
	check_host_path(before->hypervisor.kernel, after->hypervisor.kernel, after->hypervisor.valid_kernel_paths,
			"hypervisor.qemu.kernel");
	check_host_path(before->hypervisor.initrd, after->hypervisor.initrd, after->hypervisor.valid_initrd_paths,
			"hypervisor.qemu.initrd");
}

/* g_strcompress() of text that may end in the middle of an escape (which
 * GLib warns about): a lone trailing backslash stands for itself. */
static char *unescape(const char *s, gsize len)
{
	gsize backslashes = 0;

	while (backslashes < len && s[len - 1 - backslashes] == '\\')
		backslashes++;
	g_autofree char *text = g_strdup_printf("%.*s%s", (int)len, s, backslashes % 2 ? "\\" : "");
	return g_strcompress(text);
}

static GHashTable *read_annotations(char **lines, guint n)
{
	GHashTable *map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	for (guint i = 0; i < n; i++) {
		const char *eq = strchr(lines[i], '=');
		if (eq == NULL)
			continue;
		g_hash_table_replace(map, unescape(lines[i], eq - lines[i]), unescape(eq + 1, strlen(eq + 1)));
	}
	return map;
}

/* The input's lines (a NUL ends a line's text, as it would end a C
 * string). Not g_strsplit(): under AddressSanitizer its strstr() checks
 * the whole rest of the text at every line, quadratic in the input. */
static GStrv split_lines(const uint8_t *data, size_t size)
{
	GPtrArray *lines = g_ptr_array_new();
	FuzzInput in;

	fuzz_input_init(&in, data, size);
	do {
		gsize len;
		const guint8 *line = fuzz_take_until(&in, '\n', &len);
		g_ptr_array_add(lines, g_strndup((const char *)line, len));
	} while (in.left > 0);
	g_ptr_array_add(lines, NULL);
	return (GStrv)g_ptr_array_free(lines, FALSE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_auto(GStrv) lines = split_lines(data, size);
	guint n = g_strv_length(lines), sep = n;
	g_autoptr(GError) error = NULL;

	fuzz_init();
	for (guint i = 0; i < n; i++)
		if (g_str_equal(lines[i], "--")) {
			sep = i;
			break;
		}
	g_autoptr(CkConfig) cfg = sep < n ? read_config(lines, sep) : default_config();
	g_autoptr(GHashTable) annotations = sep < n ? read_annotations(lines + sep + 1, n - sep - 1)
						    : read_annotations(lines, n);
	/* The configuration before: a copy, printed only when it is needed
	 * (printing is most of this target's time). */
	g_autoptr(CkConfig) before = ck_config_copy(cfg);

	if (!annotations_apply(cfg, annotations, &error)) {
		fuzz_check(g_error_matches(error, CK_ERROR, CK_ERROR_INVALID), "refused with a non-INVALID error: %s",
			   error ? error->message : "?");
		g_autofree char *before_text = fuzz_config_text(before);
		g_autofree char *after_text = fuzz_config_text(cfg);
		fuzz_check(g_str_equal(before_text, after_text), "a refused set of annotations changed the configuration");
	} else {
		g_autofree char *env = ck_config_to_toml(cfg);
		g_autoptr(GError) load_error = NULL;
		g_autoptr(CkConfig) again = ck_config_load_data("env.toml", env, strlen(env), &load_error);
		fuzz_check(again != NULL, "annotations set what the file cannot hold: %s\n%s",
			   load_error ? load_error->message : "?", env);
		g_autofree char *t1 = fuzz_strip_config_comments(env);
		g_autofree char *t2 = fuzz_config_text(again);
		fuzz_check(g_str_equal(t1, t2), "the annotated configuration loads back differently");
		fuzz_check(ck_config_check_ceilings(cfg, NULL, NULL, NULL), "annotations broke the ceilings");

		GHashTableIter it;
		gpointer name;
		g_hash_table_iter_init(&it, annotations);
		while (g_hash_table_iter_next(&it, &name, NULL))
			if (g_str_has_prefix(name, ANNOTATIONS_KATA_PREFIX))
				check_enabled(before, name);
		check_strings(before, cfg);
	}

	g_clear_error(&error);
	if (!annotations_check_container(annotations, NULL, &error))
		fuzz_check(g_error_matches(error, CK_ERROR, CK_ERROR_INVALID), "container check: not INVALID");
	return 0;
}
