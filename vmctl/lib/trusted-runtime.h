/* trusted-runtime: handing a trusted container's verbs to runc.
 *
 * A trusted container (decided at create, recorded in its state) is run
 * by the trusted runtime (runc) under a root of its own. Every verb on it
 * runs that runtime with runc's global options taken from ours and the
 * verb's original arguments, so the caller sees runc's behaviour, output
 * and exit status. The one exception is `state`, whose document gains the
 * trust decision among its annotations.
 */
#pragma once

#include <glib.h>

#include "lib/state.h"

G_BEGIN_DECLS

/* runc's global options that pass through to the trusted runtime. */
typedef struct {
	const char *log_path; /* --log, or NULL */
	gboolean log_json;    /* --log-format json */
	gboolean debug;
	gboolean systemd_cgroup;
} TrustedGlobals;

/* argv (NULL-terminated, borrowing every string): runtime, --root ROOT,
 * the globals, then verb_argv. */
GPtrArray *trusted_runtime_argv(const TrustedGlobals *g, const char *runtime, const char *root, char **verb_argv);

/* Execs the container's trusted runtime for the verb; returns only on
 * failure. */
gboolean trusted_runtime_exec(const TrustedGlobals *g, const ContainerState *st, char **verb_argv, GError **error);

/* Runs it as a child and returns its exit status (1 when it died of a
 * signal or could not run, reported in *error). */
int trusted_runtime_run(const TrustedGlobals *g, const ContainerState *st, char **verb_argv, GError **error);

/* runc's `state` document of the container with the trust decision added
 * to its annotations, in runc's layout. When runc itself fails, NULL with
 * *out_status its exit status and no error (its stderr went to ours). */
char *trusted_runtime_state(const TrustedGlobals *g, const ContainerState *st, char **verb_argv, int *out_status,
			    GError **error);

/* The state object `tree` (runc's) with ANNOTATION_TRUST_DECISION =
 * decision among its annotations, which runc writes just before "owner". */
char *trusted_state_with_decision(yajl_val tree, const char *decision, GError **error);

G_END_DECLS
