/* vmctl list: every container under the root, as runc's table or JSON. */
#include <stdio.h>

#include "base/ck-error.h"
#include "base/ck-json.h"
#include "lib/state.h"
#include "vmctl.h"

/* runc's `list --format json`: one compact line, the array of the state
 * objects with each owner's name, and `null` when there is none (Go's
 * encoding of an empty slice). */
static int list_json(const char *root, GPtrArray *ids)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	g_autoptr(GError) error = NULL;
	guint n = 0;

	ck_json_array_open(g);
	for (guint i = 0; i < ids->len; i++) {
		g_autoptr(ContainerState) st = container_state_read(root, g_ptr_array_index(ids, i), NULL);
		if (st == NULL)
			continue;
		g_autofree char *owner = container_state_owner_name(root, st->id);
		container_state_write_oci(g, st, owner);
		n++;
	}
	ck_json_array_close(g);
	g_autofree char *json = ck_json_gen_finish_layout(g, NULL, &error);
	if (json == NULL)
		return vmctl_fail(NULL, g_steal_pointer(&error));
	printf("%s\n", n > 0 ? json : "null");
	return 0;
}

int cmd_list(VmctlContext *ctx, int argc, char **argv)
{
	g_autofree char *format = NULL;
	gboolean quiet = FALSE;
	GOptionEntry entries[] = {
		{"format", 'f', 0, G_OPTION_ARG_STRING, &format, "table or json", "FORMAT"},
		{"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "only the ids", NULL},
		{NULL},
	};
	g_autoptr(GError) error = NULL;

	if (!vmctl_parse_verb_options("list", NULL, entries, &argc, &argv))
		return 1;
	g_autoptr(GPtrArray) ids = container_state_list(ctx->root, &error);
	if (ids == NULL)
		return vmctl_fail(NULL, g_steal_pointer(&error));
	if (format != NULL && g_str_equal(format, "json"))
		return list_json(ctx->root, ids);
	if (!quiet)
		printf("%-64s %-8s %-8s %-8s %s\n", "ID", "PID", "STATUS", "KIND", "BUNDLE");
	for (guint i = 0; i < ids->len; i++) {
		g_autoptr(ContainerState) st = container_state_read(ctx->root, g_ptr_array_index(ids, i), NULL);
		pid_t pid = 0;
		if (st == NULL)
			continue;
		const char *status = container_state_status(st, &pid);
		if (quiet)
			printf("%s\n", st->id);
		else
			printf("%-64s %-8d %-8s %-8s %s\n", st->id, (int)pid, status,
			       st->kind == CONTAINER_KIND_TRUSTED ? "trusted" : "vm", st->bundle ? st->bundle : "");
	}
	return 0;
}
