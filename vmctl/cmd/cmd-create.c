/* vmctl create: runc's create. Trust is decided first (lib/workload.h): a trusted
 * container is recorded and handed to runc; a VM container's create is done
 * by `conmon-kata --shim`, which stays as its stand-in (launch.c). */
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-log.h"
#include "lib/annotations.h"
#include "lib/state.h"
#include "lib/workload.h"
#include "oci/oci-spec.h"
#include "vmctl.h"

/* Trusted or VM, as conmon-kata decides it (workload_decide). A trusted
 * container's io.katacontainers.* annotations are checked here, as the
 * VM path checks them in conmon-kata; *out_annotations (a reference) are
 * its spec's, for its state. */
static gboolean decide_trust(VmctlContext *ctx, const char *id, const char *bundle, CkTrust *out, char **out_decision,
			     GHashTable **out_annotations, GError **error)
{
	g_autofree char *path = g_build_filename(bundle, "config.json", NULL);
	g_autoptr(OciSpec) spec = oci_spec_load_file(path, error);
	g_auto(WorkloadRole) role = {0};
	const CkConfig *cfg = vmctl_config(ctx, error);

	if (spec == NULL || cfg == NULL || !workload_classify(spec, id, &role, error) ||
	    !workload_decide(cfg, ctx->root, spec, &role, out, out_decision, error))
		return FALSE;
	if (*out == CK_TRUST_TRUSTED &&
	    !annotations_validate(cfg, role.sandbox, spec->annotations, role.pod_annotations, error))
		return FALSE;
	*out_annotations = g_hash_table_ref(spec->annotations);
	return TRUE;
}

/* The state records the decision, which `state` adds to runc's, and the
 * spec's annotations (for the pod's containers: annotations_validate). */
static int create_trusted(VmctlContext *ctx, const char *id, const char *bundle, const char *decision,
			  GHashTable *annotations, char **verb_argv)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(ContainerState) st = container_state_new(id);
	const CkConfig *cfg = vmctl_config(ctx, &error);

	st->kind = CONTAINER_KIND_TRUSTED;
	st->bundle = g_strdup(bundle);
	st->trusted_root = vmctl_trusted_root(ctx);
	st->trusted_runtime = g_strdup(cfg->runtime.trusted_runtime);
	GHashTableIter it;
	gpointer key, value;
	g_hash_table_iter_init(&it, annotations);
	while (g_hash_table_iter_next(&it, &key, &value))
		g_hash_table_insert(st->annotations, g_strdup(key), g_strdup(value));
	g_hash_table_insert(st->annotations, g_strdup(ANNOTATION_TRUST_DECISION), g_strdup(decision));
	int lock = container_state_lock(ctx->root, id, TRUE, TRUE, &error);
	if (lock < 0 || !container_state_write(ctx->root, st, &error))
		return vmctl_fail(id, g_steal_pointer(&error));
	close(lock);
	return vmctl_delegate(ctx, st, verb_argv);
}

int cmd_create(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	g_autofree char *bundle = NULL, *pid_file = NULL, *console = NULL;
	gboolean no_pivot = FALSE, no_new_keyring = FALSE;
	int preserve = 0;
	const char *id;
	GOptionEntry entries[] = {
		{"bundle", 'b', 0, G_OPTION_ARG_FILENAME, &bundle, "path to the bundle", "DIR"},
		{"pid-file", 0, 0, G_OPTION_ARG_FILENAME, &pid_file, "file to write the pid to", "FILE"},
		{"console-socket", 0, 0, G_OPTION_ARG_FILENAME, &console, "socket to send the pty master to", "PATH"},
		{"no-pivot", 0, 0, G_OPTION_ARG_NONE, &no_pivot, "accepted; the guest always uses pivot_root", NULL},
		{"no-new-keyring", 0, 0, G_OPTION_ARG_NONE, &no_new_keyring, "accepted", NULL},
		{"preserve-fds", 0, 0, G_OPTION_ARG_INT, &preserve, "extra fds (not supported in a VM)", "N"},
		{NULL},
	};
	g_autoptr(GError) error = NULL;
	g_autofree char *decision = NULL;
	g_autoptr(GHashTable) annotations = NULL;
	CkTrust trust;

	if (!vmctl_parse_verb_options("create", "ID", entries, &argc, &argv) || !vmctl_one_id("create", argc, argv, &id))
		return 1;
	if (!container_id_valid(id, &error))
		return vmctl_fail(id, g_steal_pointer(&error));
	/* runc refuses before it touches anything */
	g_autoptr(ContainerState) existing = container_state_read(ctx->root, id, NULL);
	if (existing != NULL)
		return vmctl_fail(id, g_error_new(CK_ERROR, CK_ERROR_EXISTS, "a container with this id already exists"));
	g_autofree char *abs_bundle = g_canonicalize_filename(bundle ? bundle : ".", NULL);
	if (!decide_trust(ctx, id, abs_bundle, &trust, &decision, &annotations, &error))
		return vmctl_fail(id, g_steal_pointer(&error));
	ck_log_debug("container %s: %s", id, decision);
	if (trust == CK_TRUST_TRUSTED)
		return create_trusted(ctx, id, abs_bundle, decision, annotations, orig);
	if (preserve > 0)
		return vmctl_fail(id, g_error_new(CK_ERROR, CK_ERROR_UNSUPPORTED, "--preserve-fds: fds cannot cross into a VM"));

	g_autoptr(GPtrArray) args = g_ptr_array_new();
	g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func(g_free);
	vmctl_shim_args(ctx, args, owned, id);
	if (ctx->systemd_cgroup)
		g_ptr_array_add(args, "--systemd-cgroup");
	g_ptr_array_add(args, "-u");
	g_ptr_array_add(args, (char *)id);
	g_ptr_array_add(args, "-b");
	g_ptr_array_add(args, abs_bundle);
	g_ptr_array_add(args, "-i");
	if (pid_file != NULL) {
		g_ptr_array_add(args, "-p");
		g_ptr_array_add(args, pid_file);
	}
	if (console != NULL) {
		g_ptr_array_add(args, "-t");
		g_ptr_array_add(args, "--console-socket");
		g_ptr_array_add(args, console);
	}
	if (!vmctl_run_shim(ctx, args, TRUE, &error))
		return vmctl_fail(id, g_steal_pointer(&error));
	return 0;
}
