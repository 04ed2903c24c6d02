/* trusted-runtime: handing a trusted container's verbs to runc (see trusted-runtime.h). */
#include "trusted-runtime.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-json.h"
#include "base/ck-log.h"
#include "workload.h"

GPtrArray *trusted_runtime_argv(const TrustedGlobals *g, const char *runtime, const char *root, char **verb_argv)
{
	GPtrArray *argv = g_ptr_array_new();

	g_ptr_array_add(argv, (char *)runtime);
	g_ptr_array_add(argv, "--root");
	g_ptr_array_add(argv, (char *)root);
	if (g->log_path != NULL) {
		g_ptr_array_add(argv, "--log");
		g_ptr_array_add(argv, (char *)g->log_path);
		g_ptr_array_add(argv, g->log_json ? "--log-format=json" : "--log-format=text");
	}
	if (g->debug)
		g_ptr_array_add(argv, "--debug");
	if (g->systemd_cgroup)
		g_ptr_array_add(argv, "--systemd-cgroup");
	for (char **a = verb_argv; *a != NULL; a++)
		g_ptr_array_add(argv, *a);
	g_ptr_array_add(argv, NULL);
	return argv;
}

gboolean trusted_runtime_exec(const TrustedGlobals *g, const ContainerState *st, char **verb_argv, GError **error)
{
	g_autoptr(GPtrArray) argv = trusted_runtime_argv(g, st->trusted_runtime, st->trusted_root, verb_argv);

	ck_log_debug("trusted container: running %s", st->trusted_runtime);
	execv(st->trusted_runtime, (char **)argv->pdata);
	return ck_set_error_errno(error, errno, "run the trusted runtime %s", st->trusted_runtime);
}

int trusted_runtime_run(const TrustedGlobals *g, const ContainerState *st, char **verb_argv, GError **error)
{
	g_autoptr(GPtrArray) argv = trusted_runtime_argv(g, st->trusted_runtime, st->trusted_root, verb_argv);
	int status = 0;

	if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL, NULL,
			  &status, error))
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* The annotations runc printed plus the trust decision, sorted by key as
 * Go's encoding/json writes a map; nothing when there are none (runc's
 * omitempty). */
static void write_annotations(CkJsonGen *g, yajl_val ann, const char *decision)
{
	g_autoptr(GTree) sorted = g_tree_new((GCompareFunc)strcmp);

	for (size_t i = 0; ann != NULL && YAJL_IS_OBJECT(ann) && i < ann->u.object.len; i++)
		g_tree_insert(sorted, (gpointer)ann->u.object.keys[i], (gpointer)YAJL_GET_STRING(ann->u.object.values[i]));
	if (decision != NULL)
		g_tree_insert(sorted, ANNOTATION_TRUST_DECISION, (gpointer)decision);
	if (g_tree_nnodes(sorted) == 0)
		return;
	ck_json_key(g, "annotations");
	ck_json_map_open(g);
	for (GTreeNode *n = g_tree_node_first(sorted); n != NULL; n = g_tree_node_next(n))
		ck_json_kv_string(g, g_tree_node_key(n), g_tree_node_value(n));
	ck_json_map_close(g);
}

char *trusted_state_with_decision(yajl_val tree, const char *decision, GError **error)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	yajl_val ann = ck_json_get(tree, "annotations");
	gboolean written = FALSE;

	ck_json_map_open(g);
	for (size_t i = 0; i < tree->u.object.len; i++) {
		const char *key = tree->u.object.keys[i];
		if (g_str_equal(key, "annotations"))
			continue;
		if (g_str_equal(key, "owner") && !written) {
			write_annotations(g, ann, decision);
			written = TRUE;
		}
		ck_json_key(g, key);
		ck_json_value(g, tree->u.object.values[i]);
	}
	if (!written)
		write_annotations(g, ann, decision);
	ck_json_map_close(g);
	return ck_json_gen_finish_layout(g, OCI_STATE_INDENT, error);
}

char *trusted_runtime_state(const TrustedGlobals *g, const ContainerState *st, char **verb_argv, int *out_status,
			    GError **error)
{
	g_autoptr(GPtrArray) argv = trusted_runtime_argv(g, st->trusted_runtime, st->trusted_root, verb_argv);
	g_autofree char *out = NULL;
	int wait_status = 0;

	*out_status = 1;
	if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &wait_status,
			  error))
		return NULL;
	if (!g_spawn_check_wait_status(wait_status, NULL)) {
		*out_status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 1;
		return NULL;
	}
	g_auto(yajl_val) tree = ck_json_parse(out, strlen(out), "the trusted runtime's state", error);
	if (tree == NULL)
		return NULL;
	if (!YAJL_IS_OBJECT(tree))
		return ck_set_error(error, CK_ERROR_FAILED, "%s state: not a JSON object", st->trusted_runtime), NULL;
	return trusted_state_with_decision(tree, g_hash_table_lookup(st->annotations, ANNOTATION_TRUST_DECISION),
					   error);
}
