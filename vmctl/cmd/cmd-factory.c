/* vmctl factory init|status|destroy: the VM templates (docs/templating.md),
 * as Kata's `kata-runtime factory` verbs.
 *
 * init makes the template a pod's VM of the default size is restored
 * from (a pod with a 9p share and no annotation sizing it), status lists
 * the templates on disk and which one the configuration uses now, destroy
 * removes them all. Running clones are not affected by destroy: they map
 * the template's memory privately and keep the file open.
 */
#include <stdio.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "lib/qemu-template.h"
#include "lib/qemu-vm.h"
#include "vmctl.h"

/* The options of a default pod's VM, as far as its template is concerned. */
static QemuVmOptions pod_options(VmctlContext *ctx, const CkConfig *cfg, const char *run_dir)
{
	return (QemuVmOptions){
		.config = cfg,
		.run_dir = run_dir,
		.state_root = ctx->root,
		.name = "vmctl-factory",
		.share_dir = run_dir, /* a pod always has one; only its presence counts */
	};
}

static int factory_init(VmctlContext *ctx, const CkConfig *cfg)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *run_dir = g_strdup_printf("%s/debug/factory-%d", ctx->root, (int)getpid());
	g_autofree char *key = NULL;
	gboolean made = FALSE;

	if (!ck_mkdir_p(run_dir, 0700, &error)) {
		ck_log_error("%s", error->message);
		return 1;
	}
	QemuVmOptions opts = pod_options(ctx, cfg, run_dir);
	gint64 start = g_get_monotonic_time();
	gboolean ok = qemu_vm_template_ensure(&opts, &key, &made, &error);
	(void)ck_rm_rf(run_dir, NULL);
	if (!ok) {
		ck_log_error("factory init: %s", error->message);
		return 1;
	}
	g_autofree char *root = qemu_template_root(cfg, ctx->root);
	if (made)
		printf("template %s made in %.2f s in %s\n", key, (g_get_monotonic_time() - start) / 1e6, root);
	else
		printf("template %s already in %s\n", key, root);
	if (!cfg->factory.enable_template)
		printf("note: [factory] enable_template is false: pods still boot\n");
	return 0;
}

static int factory_status(VmctlContext *ctx, const CkConfig *cfg)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *root = qemu_template_root(cfg, ctx->root);
	QemuVmOptions opts = pod_options(ctx, cfg, root);
	g_autofree char *current = qemu_vm_template_key(&opts, &error);
	g_autoptr(GPtrArray) list = qemu_template_list(root, current, &error);

	if (list == NULL) {
		ck_log_error("factory status: %s", error->message);
		return 1;
	}
	printf("enable_template: %s\ntemplate_path: %s\n", cfg->factory.enable_template ? "true" : "false", root);
	printf("current key: %s\n", current != NULL ? current : error->message);
	for (guint i = 0; i < list->len; i++) {
		QemuTemplateEntry *e = g_ptr_array_index(list, i);
		printf("template %s: %s, %" G_GUINT64_FORMAT " KiB of memory%s%s\n", e->key,
		       !e->complete ? "incomplete" : e->current ? "current" : "not used by this configuration",
		       e->memory_kib, e->info != NULL ? ", " : "", e->info != NULL ? e->info : "");
	}
	if (list->len == 0)
		printf("no template\n");
	return 0;
}

static int factory_destroy(VmctlContext *ctx, const CkConfig *cfg)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *root = qemu_template_root(cfg, ctx->root);

	if (!qemu_template_destroy_all(root, &error)) {
		ck_log_error("factory destroy: %s", error->message);
		return 1;
	}
	printf("templates in %s destroyed\n", root);
	return 0;
}

int cmd_factory(VmctlContext *ctx, int argc, char **argv)
{
	g_autoptr(GError) error = NULL;

	if (argc != 2 || (!g_str_equal(argv[1], "init") && !g_str_equal(argv[1], "status") &&
			  !g_str_equal(argv[1], "destroy"))) {
		fprintf(argc == 2 && g_str_has_prefix(argv[1], "-h") ? stdout : stderr,
			"Usage: vmctl factory init|status|destroy\n"
			"  init     make the VM template pods are restored from\n"
			"  status   list the templates and which one is current\n"
			"  destroy  remove every template (running pods keep running)\n");
		return argc == 2 && g_str_has_prefix(argv[1], "-h") ? 0 : 1;
	}
	const CkConfig *cfg = vmctl_config(ctx, &error);
	if (cfg == NULL) {
		ck_log_error("%s", error->message);
		return 1;
	}
	if (g_str_equal(argv[1], "init"))
		return factory_init(ctx, cfg);
	if (g_str_equal(argv[1], "status"))
		return factory_status(ctx, cfg);
	return factory_destroy(ctx, cfg);
}
