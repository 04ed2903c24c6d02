/* guest-hooks: scanning Kata's guest hook directories, running guest hooks,
 * deadlines of the spec's guest stages (see guest-hooks.h). */
#include "guest-hooks.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "base/ck-log.h"
#include "hooks/hooks.h"

/* The stages of Kata's guest hooks, each a directory of guest_hook_path. */
static const OciHookStage guest_stages[] = {OCI_HOOK_PRESTART, OCI_HOOK_POSTSTART, OCI_HOOK_POSTSTOP};

static void G_GNUC_PRINTF(2, 3) warn(GPtrArray *warnings, const char *fmt, ...)
{
	va_list ap;

	if (warnings == NULL)
		return;
	va_start(ap, fmt);
	g_ptr_array_add(warnings, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

static int compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The entries of dir, sorted; NULL when it cannot be read. A directory
 * that does not exist is not worth a warning: most images have hooks for
 * one stage or two. */
static GPtrArray *list_dir(const char *dir, GPtrArray *warnings)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL) {
		if (errno != ENOENT)
			warn(warnings, "guest hooks: %s: %s", dir, g_strerror(errno));
		return NULL;
	}
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	while ((e = readdir(d)) != NULL) {
		if (!g_str_equal(e->d_name, ".") && !g_str_equal(e->d_name, ".."))
			g_ptr_array_add(names, g_strdup(e->d_name));
	}
	closedir(d);
	g_ptr_array_sort(names, compare_names);
	return names;
}

/* TRUE for a regular file with an execute bit; otherwise says why not. */
static gboolean is_executable(const char *path, GPtrArray *warnings)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		warn(warnings, "guest hooks: %s: %s, skipped", path, g_strerror(errno));
		return FALSE;
	}
	if (!S_ISREG(st.st_mode)) {
		warn(warnings, "guest hooks: %s: not a regular file, skipped", path);
		return FALSE;
	}
	if ((st.st_mode & 0111) == 0) {
		warn(warnings, "guest hooks: %s: not executable, skipped", path);
		return FALSE;
	}
	return TRUE;
}

/* Kata's guest hook: args [name, stage], no env. */
static OciHook make_hook(const char *path, const char *name, OciHookStage stage)
{
	const char *args[] = {name, oci_hook_stage_to_string(stage), NULL};

	return (OciHook){
	    .path = g_strdup(path),
	    .args = g_strdupv((char **)args),
	    .env = g_new0(char *, 1),
	    .has_timeout = TRUE,
	    .timeout = GUEST_HOOK_DEFAULT_TIMEOUT_S,
	};
}

static void scan_stage(OciHookList *list, const char *root, OciHookStage stage, GPtrArray *warnings)
{
	g_autofree char *dir = g_build_filename(root, oci_hook_stage_to_string(stage), NULL);
	g_autoptr(GPtrArray) names = list_dir(dir, warnings);
	g_autoptr(GArray) hooks = g_array_new(FALSE, TRUE, sizeof(OciHook));

	for (guint i = 0; names != NULL && i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		g_autofree char *path = g_build_filename(dir, name, NULL);

		if (!is_executable(path, warnings))
			continue;
		OciHook h = make_hook(path, name, stage);
		g_array_append_val(hooks, h);
	}
	list->n_hooks = hooks->len;
	list->hooks = (OciHook *)(void *)g_array_free(g_steal_pointer(&hooks), FALSE);
}

void guest_hooks_scan(GuestHooks *hooks, const char *root, GPtrArray *warnings)
{
	struct stat st;

	guest_hooks_clear(hooks);
	if (stat(root, &st) < 0) {
		warn(warnings, "guest hooks: %s: %s", root, g_strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		warn(warnings, "guest hooks: %s: not a directory", root);
		return;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(guest_stages); i++)
		scan_stage(&hooks->lists[guest_stages[i]], root, guest_stages[i], warnings);
}

void guest_hooks_clear(GuestHooks *hooks)
{
	for (int s = 0; s < OCI_HOOK_MAX; s++)
		oci_hook_list_clear(&hooks->lists[s]);
}

gboolean guest_hooks_run(const GuestHooks *hooks, OciHookStage stage, const char *state_json, GError **error)
{
	const OciHookList *list = &hooks->lists[stage];

	if (hooks_stage_is_fatal(stage)) {
		if (hooks_run(list, stage, state_json, NULL, error))
			return TRUE;
		g_prefix_error(error, "guest ");
		return FALSE;
	}
	/* runtime-spec: a failing poststart or poststop hook is logged, and
	 * the hooks after it still run */
	for (gsize i = 0; i < list->n_hooks; i++) {
		const OciHookList one = {.hooks = &list->hooks[i], .n_hooks = 1};
		g_autoptr(GError) local = NULL;

		if (!hooks_run(&one, stage, state_json, NULL, &local))
			ck_log_warning("guest %s, ignoring", local->message);
	}
	return TRUE;
}

void guest_hooks_set_default_timeout(OciHookList *list)
{
	for (gsize i = 0; i < list->n_hooks; i++) {
		if (!list->hooks[i].has_timeout) {
			list->hooks[i].has_timeout = TRUE;
			list->hooks[i].timeout = GUEST_HOOK_DEFAULT_TIMEOUT_S;
		}
	}
}

int guest_hooks_budget_ms(const OciHookList *list)
{
	gint64 ms = 0;

	for (gsize i = 0; i < list->n_hooks; i++)
		ms +=
		    (gint64)(list->hooks[i].has_timeout ? list->hooks[i].timeout : GUEST_HOOK_DEFAULT_TIMEOUT_S) * 1000;
	return (int)MIN(ms, G_MAXINT / 2);
}
