/* vmctl: shared state of one vmctl invocation and the verb table.
 *
 * main.c parses runc's global options into a VmctlContext and dispatches
 * the verb; each verb lives in its own cmd-<verb>.c, parses its own
 * options and calls into libvmctl. Verbs return an exit status; errors are
 * reported once, by the verb, through ck_log (stderr and --log).
 */
#pragma once

#include <glib.h>

#include "lib/config.h"
#include "lib/state.h"

G_BEGIN_DECLS

typedef struct {
	char *root;	   /* --root, runtime state directory */
	gboolean root_given; /* by --root or $VMCTL_ROOT, not the default */
	char *config_path; /* --config, NULL: search order */
	char *log_path;	   /* --log */
	gboolean log_json; /* --log-format json */
	gboolean debug;	   /* --debug */
	gboolean systemd_cgroup;
	CkConfig *config; /* loaded on first use */
} VmctlContext;

/* A container's state; under the default root, one created under another
 * root is found through state_lookup_root() (and ctx->root switches to
 * that root). */
ContainerState *vmctl_read_state(VmctlContext *ctx, const char *id, GError **error);

/* A copy of a verb's argv, taken before option parsing rearranges it. */
char **vmctl_copy_argv(int argc, char **argv);

/* Execs the trusted runtime of a trusted container (st->kind ==
 * CONTAINER_KIND_TRUSTED) for the verb with its original arguments
 * (vmctl_copy_argv) under the container's trusted root. Returns only on
 * failure, 1, after reporting it. */
int vmctl_delegate(VmctlContext *ctx, const ContainerState *st, char **verb_argv);

/* The configuration, loaded once per invocation. */
const CkConfig *vmctl_config(VmctlContext *ctx, GError **error);

typedef int (*VmctlVerbFunc)(VmctlContext *ctx, int argc, char **argv);

typedef struct {
	const char *name;
	VmctlVerbFunc func;
	const char *summary;
} VmctlVerb;

/* Parses a verb's own options (GOptionContext with help enabled). Prints
 * the one problem and returns FALSE on a usage error. */
gboolean vmctl_parse_verb_options(const char *verb, const char *params, const GOptionEntry *entries, int *argc,
				  char ***argv);

int cmd_create(VmctlContext *ctx, int argc, char **argv);
int cmd_start(VmctlContext *ctx, int argc, char **argv);
int cmd_state(VmctlContext *ctx, int argc, char **argv);
int cmd_kill(VmctlContext *ctx, int argc, char **argv);
int cmd_delete(VmctlContext *ctx, int argc, char **argv);
int cmd_exec(VmctlContext *ctx, int argc, char **argv);
int cmd_ps(VmctlContext *ctx, int argc, char **argv);
int cmd_pause(VmctlContext *ctx, int argc, char **argv);
int cmd_resume(VmctlContext *ctx, int argc, char **argv);
int cmd_update(VmctlContext *ctx, int argc, char **argv);
int cmd_list(VmctlContext *ctx, int argc, char **argv);
int cmd_features(VmctlContext *ctx, int argc, char **argv);
int cmd_events(VmctlContext *ctx, int argc, char **argv);
char *vmctl_trusted_root(VmctlContext *ctx);
int cmd_check(VmctlContext *ctx, int argc, char **argv);
int cmd_env(VmctlContext *ctx, int argc, char **argv);
int cmd_debug(VmctlContext *ctx, int argc, char **argv);

G_END_DECLS
