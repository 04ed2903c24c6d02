/* Unit tests: lint of the configuration shipped in crio-conf/.
 *
 * The CRI-O drop-in and the Podman snippet must parse with the project's
 * own TOML parser (toml.c; so they stay within tables, strings, integers,
 * booleans and string arrays), name the binaries this build produces
 * (vmctl and conmon-kata under $CK_BUILD_ROOT), and set the keys the
 * runtime depends on. The RuntimeClass is checked line by line: handler,
 * name and a pod overhead. Keys are also checked against what CRI-O knows,
 * so that a typo is caught here and not by a CRI-O that ignores it.
 */
#include <string.h>

#include <glib.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "lib/toml.h"

#define HANDLER_TABLE "crio.runtime.runtimes.kata"

/* [crio.runtime.runtimes.<handler>] keys of CRI-O (pkg/config/config.go). */
static const char *const crio_handler_keys[] = {
    "runtime_path",
    "runtime_type",
    "runtime_root",
    "runtime_config_path",
    "inherit_default_runtime",
    "privileged_without_host_devices",
    "allowed_annotations",
    "monitor_path",
    "monitor_cgroup",
    "monitor_exec_cgroup",
    "monitor_env",
    "platform_runtime_paths",
    "container_min_memory",
    "no_sync_log",
    "default_annotations",
    "stream_websockets",
    "exec_cpu_affinity",
    "seccomp_profile",
    "container_create_timeout",
    "runtime_pull_image",
    NULL,
};

/* The only values CRI-O accepts in allowed_annotations: its own
 * experimental annotations. Anything else stops CRI-O at startup
 * ("invalid allowed_annotation: ..."). */
static const char *const crio_experimental_annotations[] = {
    "io.kubernetes.cri-o.userns-mode",
    "io.kubernetes.cri-o.Devices",
    "io.kubernetes.cri-o.ShmSize",
    "io.kubernetes.cri-o.UnifiedCgroup",
    "io.kubernetes.cri-o.cgroup2-mount-hierarchy-rw",
    "io.containers.trace-syscall",
    "io.kubernetes.cri-o.seccompNotifierAction",
    "io.kubernetes.cri-o.umask",
    "io.kubernetes.cri-o.LinkLogs",
    "io.kubernetes.cri-o.DisableFIPS",
    "cpu-load-balancing.crio.io",
    "cpu-quota.crio.io",
    "irq-load-balancing.crio.io",
    "cpu-c-states.crio.io",
    "cpu-freq-governor.crio.io",
    "cpu-shared.crio.io",
    NULL,
};

static char *source_path(const char *rel)
{
	const char *root = g_getenv("CK_SOURCE_ROOT");

	return root != NULL ? g_build_filename(root, rel, NULL) : NULL;
}

static TomlDocument *load_toml(const char *rel)
{
	g_autofree char *path = source_path(rel);
	g_autofree char *data = NULL;
	g_autoptr(GError) error = NULL;
	gsize len = 0;
	TomlDocument *doc;

	g_assert_nonnull(path);
	g_assert_true(ck_file_read_bounded(path, 1024 * 1024, &data, &len, &error));
	g_assert_no_error(error);
	doc = toml_parse(rel, data, len, &error);
	g_assert_no_error(error);
	g_assert_nonnull(doc);
	return doc;
}

static const TomlTable *find_table(const TomlDocument *doc, const char *name)
{
	for (guint i = 0; i < doc->tables->len; i++) {
		const TomlTable *t = doc->tables->pdata[i];

		if (strcmp(t->name, name) == 0)
			return t;
	}
	return NULL;
}

/* The entry `key` of `table`, which must exist and have type `type`. */
static const TomlEntry *entry(const TomlTable *table, const char *key, TomlType type)
{
	for (guint i = 0; i < table->entries->len; i++) {
		const TomlEntry *e = table->entries->pdata[i];

		if (strcmp(e->key, key) != 0)
			continue;
		if (e->type != type)
			g_error("[%s] %s: expected %s, got %s", table->name, key, toml_type_to_string(type),
				toml_type_to_string(e->type));
		return e;
	}
	g_error("[%s] has no key %s", table->name, key);
	return NULL;
}

/* `path` is absolute, its basename is `name`, and the binary of that name
 * exists in the build tree at <build root>/<build_rel>. */
static void assert_names_built_binary(const char *path, const char *name, const char *build_rel)
{
	const char *build_root = g_getenv("CK_BUILD_ROOT");
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *built = NULL;

	g_assert_true(g_path_is_absolute(path));
	g_assert_cmpstr(base, ==, name);
	g_assert_nonnull(build_root);
	built = g_build_filename(build_root, build_rel, NULL);
	if (!g_file_test(built, G_FILE_TEST_IS_EXECUTABLE))
		g_error("%s names %s, but the build has no executable %s", path, name, built);
}

static gboolean strv_has_prefix(char **strv, const char *prefix)
{
	for (char **s = strv; *s != NULL; s++) {
		if (g_str_has_prefix(*s, prefix))
			return TRUE;
	}
	return FALSE;
}

/* CONMON_KATA_CONFIG must be the file config.c looks at first after the
 * environment, so that the env and the search order agree. */
static void assert_env_names_sysconf_config(char **env)
{
	g_autofree char *want = g_strdup_printf("CONMON_KATA_CONFIG=%s", CK_SYSCONF_CONFIG);

	g_assert_true(strv_has_prefix(env, "PATH=/"));
	g_assert_true(g_strv_contains((const char *const *)env, want));
}

static void test_crio_dropin_parses(void)
{
	g_autoptr(TomlDocument) doc = NULL;

	if (g_getenv("CK_SOURCE_ROOT") == NULL) {
		g_test_skip("CK_SOURCE_ROOT is not set (run through meson test)");
		return;
	}
	doc = load_toml("crio-conf/50-conmon-kata.conf");
	g_assert_nonnull(find_table(doc, HANDLER_TABLE));
}

/* Every handler the drop-in defines must contain "kata" (case-insensitive):
 * otherwise CRI-O may drop the infra container and the VM never boots. */
static void test_crio_handler_names(void)
{
	g_autoptr(TomlDocument) doc = NULL;
	guint handlers = 0;

	if (g_getenv("CK_SOURCE_ROOT") == NULL) {
		g_test_skip("CK_SOURCE_ROOT is not set (run through meson test)");
		return;
	}
	doc = load_toml("crio-conf/50-conmon-kata.conf");
	for (guint i = 0; i < doc->tables->len; i++) {
		const TomlTable *t = doc->tables->pdata[i];
		g_autofree char *lower = g_ascii_strdown(t->name, -1);

		if (!g_str_has_prefix(t->name, "crio.runtime.runtimes."))
			continue;
		g_assert_nonnull(strstr(lower + strlen("crio.runtime.runtimes."), "kata"));
		handlers++;
	}
	g_assert_cmpuint(handlers, ==, 1);
}

static void test_crio_handler_keys(void)
{
	g_autoptr(TomlDocument) doc = NULL;
	const TomlTable *t;

	if (g_getenv("CK_SOURCE_ROOT") == NULL) {
		g_test_skip("CK_SOURCE_ROOT is not set (run through meson test)");
		return;
	}
	doc = load_toml("crio-conf/50-conmon-kata.conf");
	t = find_table(doc, HANDLER_TABLE);
	g_assert_nonnull(t);
	g_assert_cmpstr(entry(t, "runtime_type", TOML_STRING)->string, ==, "oci");
	assert_names_built_binary(entry(t, "runtime_path", TOML_STRING)->string, "vmctl", "vmctl/vmctl");
	assert_names_built_binary(entry(t, "monitor_path", TOML_STRING)->string, "conmon-kata",
				  "conmon-kata/conmon-kata");
	g_assert_cmpstr(entry(t, "runtime_root", TOML_STRING)->string, ==, "/run/vmctl");
	g_assert_cmpstr(entry(t, "monitor_cgroup", TOML_STRING)->string, ==, "pod");
	assert_env_names_sysconf_config(entry(t, "monitor_env", TOML_STRING_ARRAY)->strings);
	g_assert_true(entry(t, "privileged_without_host_devices", TOML_BOOLEAN)->boolean);
	/* CRI-O's minimum is 30 s; a TCG boot needs more than that. */
	g_assert_cmpint(entry(t, "container_create_timeout", TOML_INTEGER)->integer, >=, 120);
}

/* No typo'd key (CRI-O would ignore it silently), and no value in
 * allowed_annotations that makes CRI-O refuse to start. */
static void test_crio_known_keys_only(void)
{
	g_autoptr(TomlDocument) doc = NULL;
	const TomlTable *t;

	if (g_getenv("CK_SOURCE_ROOT") == NULL) {
		g_test_skip("CK_SOURCE_ROOT is not set (run through meson test)");
		return;
	}
	doc = load_toml("crio-conf/50-conmon-kata.conf");
	t = find_table(doc, HANDLER_TABLE);
	g_assert_nonnull(t);
	for (guint i = 0; i < t->entries->len; i++) {
		const TomlEntry *e = t->entries->pdata[i];

		if (!g_strv_contains(crio_handler_keys, e->key))
			g_error("[%s] %s (line %u) is not a CRI-O runtime handler key", t->name, e->key, e->line);
	}
	for (char **a = entry(t, "allowed_annotations", TOML_STRING_ARRAY)->strings; *a != NULL; a++) {
		if (!g_strv_contains(crio_experimental_annotations, *a))
			g_error("allowed_annotations: CRI-O refuses to start with '%s'", *a);
	}
}

static void test_podman_snippet(void)
{
	g_autoptr(TomlDocument) doc = NULL;
	const TomlTable *engine, *runtimes;
	char **conmon, **kata;

	if (g_getenv("CK_SOURCE_ROOT") == NULL) {
		g_test_skip("CK_SOURCE_ROOT is not set (run through meson test)");
		return;
	}
	doc = load_toml("crio-conf/containers.conf.d/50-conmon-kata.conf");
	engine = find_table(doc, "engine");
	runtimes = find_table(doc, "engine.runtimes");
	g_assert_nonnull(engine);
	g_assert_nonnull(runtimes);
	conmon = entry(engine, "conmon_path", TOML_STRING_ARRAY)->strings;
	g_assert_nonnull(conmon[0]);
	assert_names_built_binary(conmon[0], "conmon-kata", "conmon-kata/conmon-kata");
	assert_env_names_sysconf_config(entry(engine, "conmon_env_vars", TOML_STRING_ARRAY)->strings);
	kata = entry(runtimes, "kata", TOML_STRING_ARRAY)->strings;
	g_assert_nonnull(kata[0]);
	assert_names_built_binary(kata[0], "vmctl", "vmctl/vmctl");
	/* Both snippets point at the same binaries. */
	g_assert_cmpstr(kata[0], ==, "/usr/bin/vmctl");
	g_assert_cmpstr(conmon[0], ==, "/usr/bin/conmon-kata");
}

/* "384Mi" -> bytes; 0 for anything else. */
static guint64 quantity_mi(const char *s)
{
	g_autofree char *v = g_strdup(s);
	char *end = NULL;
	guint64 n;

	g_strstrip(v);
	if (v[0] == '"' && g_str_has_suffix(v, "\"") && strlen(v) >= 2) {
		memmove(v, v + 1, strlen(v));
		v[strlen(v) - 1] = '\0';
	}
	n = g_ascii_strtoull(v, &end, 10);
	return end != v && g_strcmp0(end, "Mi") == 0 ? n * 1024 * 1024 : 0;
}

/* Not a YAML parser: the file is flat enough to check line by line. */
static void test_runtimeclass(void)
{
	g_autofree char *path = source_path("crio-conf/runtimeclass-kata.yaml");
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	gboolean api = FALSE, kind = FALSE, handler = FALSE, name = FALSE, pod_fixed = FALSE;
	guint64 memory = 0;

	if (path == NULL) {
		g_test_skip("CK_SOURCE_ROOT is not set (run through meson test)");
		return;
	}
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l != NULL; l++) {
		api |= strcmp(*l, "apiVersion: node.k8s.io/v1") == 0;
		kind |= strcmp(*l, "kind: RuntimeClass") == 0;
		handler |= strcmp(*l, "handler: kata") == 0;
		name |= strcmp(*l, "  name: kata") == 0;
		pod_fixed |= strcmp(*l, "  podFixed:") == 0;
		if (pod_fixed && g_str_has_prefix(*l, "    memory:"))
			memory = quantity_mi(*l + strlen("    memory:"));
	}
	g_assert_true(api && kind && handler && name && pod_fixed);
	/* At least the measured ~283 MiB (see crio-conf/README.md). */
	g_assert_cmpuint(memory, >=, 283 * 1024 * 1024);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/crio-conf/crio-dropin/parses", test_crio_dropin_parses);
	g_test_add_func("/crio-conf/crio-dropin/handler-names", test_crio_handler_names);
	g_test_add_func("/crio-conf/crio-dropin/handler-keys", test_crio_handler_keys);
	g_test_add_func("/crio-conf/crio-dropin/known-keys-only", test_crio_known_keys_only);
	g_test_add_func("/crio-conf/podman-snippet", test_podman_snippet);
	g_test_add_func("/crio-conf/runtimeclass", test_runtimeclass);
	return g_test_run();
}
