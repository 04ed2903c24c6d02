/* Unit tests: a container's role in its pod and its pod's trust
 * (vmctl/lib/workload.c), CRI-O 1.0-1.13's rules as vmctl/lib/workload.h
 * and docs/configuration.md ([runtime]) state them:
 *   - io.kubernetes.cri-o.TrustedSandbox present: exactly "true" is
 *     trusted, any other value untrusted, whatever else holds;
 *   - absent: a privileged pod (PrivilegedRuntime "true", or a host
 *     network, pid or ipc namespace) is trusted unless privileged_in_vm;
 *     any other pod follows default_workload_trust.
 * The whole table, each decision's reason (naming the input that decided),
 * workload_decide() for a sandbox and for a container that follows its
 * sandbox's recorded state, and workload_classify() for CRI-O,
 * containerd and Podman specs. */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-error.h"
#include "lib/state.h"
#include "lib/workload.h"

#define A_TRUSTED "io.kubernetes.cri-o.TrustedSandbox"
#define A_PRIVILEGED "io.kubernetes.cri-o.PrivilegedRuntime"

/* ---- specs --------------------------------------------------------------------------- */

/* How a pod is privileged, as the spec of its sandbox shows it. */
typedef enum {
	PRIV_NONE,	   /* its own network, pid and ipc namespaces */
	PRIV_NOT_FLAGGED,  /* PrivilegedRuntime "false", as CRI-O writes it */
	PRIV_FLAGGED,	   /* PrivilegedRuntime "true": a privileged sandbox */
	PRIV_FLAGGED_CASE, /* PrivilegedRuntime "True": not CRI-O's "true" */
	PRIV_HOST_NET,	   /* no network namespace of its own */
	PRIV_HOST_PID,
	PRIV_HOST_IPC,
	PRIV_FLAGGED_HOST_NET,
	PRIV_COUNT,
} Privilege;

static const char *const privilege_names[PRIV_COUNT] = {
    "none", "flag-false", "privileged", "flag-True", "host-net", "host-pid", "host-ipc", "privileged-host-net",
};

/* A sandbox spec: namespaces and annotations for the privilege, and the
 * TrustedSandbox annotation unless `trusted` is NULL. */
static OciSpec *sandbox_spec(Privilege priv, const char *trusted)
{
	g_autoptr(GString) doc = g_string_new("{\"ociVersion\": \"1.0.2\", \"linux\": {\"namespaces\": [");
	gboolean net = priv != PRIV_HOST_NET && priv != PRIV_FLAGGED_HOST_NET;
	g_autoptr(GError) error = NULL;

	g_string_append(doc, "{\"type\": \"mount\"}, {\"type\": \"uts\"}");
	if (net)
		g_string_append(doc, ", {\"type\": \"network\", \"path\": \"/var/run/netns/x\"}");
	if (priv != PRIV_HOST_PID)
		g_string_append(doc, ", {\"type\": \"pid\"}");
	if (priv != PRIV_HOST_IPC)
		g_string_append(doc, ", {\"type\": \"ipc\", \"path\": \"/var/run/ipcns/x\"}");
	g_string_append(doc, "]}, \"annotations\": {\"io.kubernetes.cri-o.ContainerType\": \"sandbox\"");
	if (priv == PRIV_NOT_FLAGGED)
		g_string_append(doc, ", \"" A_PRIVILEGED "\": \"false\"");
	if (priv == PRIV_FLAGGED || priv == PRIV_FLAGGED_HOST_NET)
		g_string_append(doc, ", \"" A_PRIVILEGED "\": \"true\"");
	if (priv == PRIV_FLAGGED_CASE)
		g_string_append(doc, ", \"" A_PRIVILEGED "\": \"True\"");
	g_string_append(doc, "}}");

	OciSpec *spec = oci_spec_parse(doc->str, doc->len, "test", &error);
	g_assert_no_error(error);
	g_assert_nonnull(spec);
	if (trusted != NULL)
		g_hash_table_insert(spec->annotations, g_strdup(A_TRUSTED), g_strdup(trusted));
	return spec;
}

static CkConfig *config(CkTrust fallback, gboolean privileged_in_vm)
{
	CkConfig *cfg = ck_config_new_defaults();

	cfg->runtime.default_workload_trust = fallback;
	cfg->runtime.privileged_in_vm = privileged_in_vm;
	return cfg;
}

/* ---- the table --------------------------------------------------------------------------- */

/* The annotation decides alone: every privilege, default and
 * privileged_in_vm gives the same answer and the same reason. */
typedef struct {
	const char *value;
	CkTrust trust;
	const char *reason;
} AnnotationRow;

static const AnnotationRow annotation_rows[] = {
    {"true", CK_TRUST_TRUSTED, "annotation " A_TRUSTED "=\"true\""},
    {"false", CK_TRUST_UNTRUSTED, "annotation " A_TRUSTED "=\"false\""},
    {"TRUE", CK_TRUST_UNTRUSTED, "annotation " A_TRUSTED "=\"TRUE\""},
    {"True", CK_TRUST_UNTRUSTED, "annotation " A_TRUSTED "=\"True\""},
    {"1", CK_TRUST_UNTRUSTED, "annotation " A_TRUSTED "=\"1\""},
    {"", CK_TRUST_UNTRUSTED, "annotation " A_TRUSTED "=\"\""},
    {" true", CK_TRUST_UNTRUSTED, "annotation " A_TRUSTED "=\" true\""},
    /* the value goes to the log escaped */
    {"true\nx", CK_TRUST_UNTRUSTED, "annotation " A_TRUSTED "=\"true\\x0Ax\""},
};

static void test_annotation_decides(gconstpointer data)
{
	const AnnotationRow *row = data;

	for (int priv = 0; priv < PRIV_COUNT; priv++) {
		for (int fallback = 0; fallback < CK_TRUST_MAX; fallback++) {
			for (int in_vm = 0; in_vm < 2; in_vm++) {
				g_autoptr(CkConfig) cfg = config((CkTrust)fallback, in_vm);
				g_autoptr(OciSpec) spec = sandbox_spec((Privilege)priv, row->value);
				g_autofree char *reason = NULL;

				CkTrust got = workload_trust(cfg, spec, &reason);
				g_test_message("%s, default %s, privileged_in_vm %d", privilege_names[priv],
					       ck_trust_to_string((CkTrust)fallback), in_vm);
				g_assert_cmpstr(ck_trust_to_string(got), ==, ck_trust_to_string(row->trust));
				g_assert_cmpstr(reason, ==, row->reason);
			}
		}
	}
}

/* No annotation: every privilege x default x privileged_in_vm. */
typedef struct {
	Privilege priv;
	CkTrust fallback;
	gboolean in_vm;
	CkTrust trust;
	const char *reason;
} AbsentRow;

#define U CK_TRUST_UNTRUSTED
#define T CK_TRUST_TRUSTED
#define DEFAULT_U "default_workload_trust = \"untrusted\""
#define DEFAULT_T "default_workload_trust = \"trusted\""
#define IN_VM(what, d) what ", privileged_in_vm = true: default_workload_trust = \"" d "\""

static const AbsentRow absent_rows[] = {
    /* an ordinary pod: the default, privileged_in_vm does not matter */
    {PRIV_NONE, U, FALSE, U, DEFAULT_U},
    {PRIV_NONE, U, TRUE, U, DEFAULT_U},
    {PRIV_NONE, T, FALSE, T, DEFAULT_T},
    {PRIV_NONE, T, TRUE, T, DEFAULT_T},
    {PRIV_NOT_FLAGGED, U, FALSE, U, DEFAULT_U},
    {PRIV_NOT_FLAGGED, U, TRUE, U, DEFAULT_U},
    {PRIV_NOT_FLAGGED, T, FALSE, T, DEFAULT_T},
    {PRIV_NOT_FLAGGED, T, TRUE, T, DEFAULT_T},
    /* only CRI-O's exact "true" flags a privileged sandbox */
    {PRIV_FLAGGED_CASE, U, FALSE, U, DEFAULT_U},
    {PRIV_FLAGGED_CASE, U, TRUE, U, DEFAULT_U},
    {PRIV_FLAGGED_CASE, T, FALSE, T, DEFAULT_T},
    {PRIV_FLAGGED_CASE, T, TRUE, T, DEFAULT_T},
    /* a privileged sandbox: trusted, unless privileged_in_vm */
    {PRIV_FLAGGED, U, FALSE, T, "privileged pod (privileged_in_vm = false)"},
    {PRIV_FLAGGED, T, FALSE, T, "privileged pod (privileged_in_vm = false)"},
    {PRIV_FLAGGED, U, TRUE, U, IN_VM("privileged pod", "untrusted")},
    {PRIV_FLAGGED, T, TRUE, T, IN_VM("privileged pod", "trusted")},
    /* host namespaces count as privileged */
    {PRIV_HOST_NET, U, FALSE, T, "host network namespace (privileged_in_vm = false)"},
    {PRIV_HOST_NET, T, FALSE, T, "host network namespace (privileged_in_vm = false)"},
    {PRIV_HOST_NET, U, TRUE, U, IN_VM("host network namespace", "untrusted")},
    {PRIV_HOST_NET, T, TRUE, T, IN_VM("host network namespace", "trusted")},
    {PRIV_HOST_PID, U, FALSE, T, "host pid namespace (privileged_in_vm = false)"},
    {PRIV_HOST_PID, T, FALSE, T, "host pid namespace (privileged_in_vm = false)"},
    {PRIV_HOST_PID, U, TRUE, U, IN_VM("host pid namespace", "untrusted")},
    {PRIV_HOST_PID, T, TRUE, T, IN_VM("host pid namespace", "trusted")},
    {PRIV_HOST_IPC, U, FALSE, T, "host ipc namespace (privileged_in_vm = false)"},
    {PRIV_HOST_IPC, T, FALSE, T, "host ipc namespace (privileged_in_vm = false)"},
    {PRIV_HOST_IPC, U, TRUE, U, IN_VM("host ipc namespace", "untrusted")},
    {PRIV_HOST_IPC, T, TRUE, T, IN_VM("host ipc namespace", "trusted")},
    /* both: the flag is named */
    {PRIV_FLAGGED_HOST_NET, U, FALSE, T, "privileged pod (privileged_in_vm = false)"},
    {PRIV_FLAGGED_HOST_NET, T, FALSE, T, "privileged pod (privileged_in_vm = false)"},
    {PRIV_FLAGGED_HOST_NET, U, TRUE, U, IN_VM("privileged pod", "untrusted")},
    {PRIV_FLAGGED_HOST_NET, T, TRUE, T, IN_VM("privileged pod", "trusted")},
};

static void test_absent(gconstpointer data)
{
	const AbsentRow *row = data;
	g_autoptr(CkConfig) cfg = config(row->fallback, row->in_vm);
	g_autoptr(OciSpec) spec = sandbox_spec(row->priv, NULL);
	g_autofree char *reason = NULL;

	CkTrust got = workload_trust(cfg, spec, &reason);
	g_assert_cmpstr(ck_trust_to_string(got), ==, ck_trust_to_string(row->trust));
	g_assert_cmpstr(reason, ==, row->reason);
}

/* The shipped defaults: untrusted, privileged pods on runc. */
static void test_defaults(void)
{
	g_autoptr(CkConfig) cfg = ck_config_new_defaults();
	g_autoptr(OciSpec) plain = sandbox_spec(PRIV_NONE, NULL);
	g_autoptr(OciSpec) host_net = sandbox_spec(PRIV_HOST_NET, NULL);
	g_autofree char *r1 = NULL, *r2 = NULL;

	g_assert_cmpint(workload_trust(cfg, plain, &r1), ==, CK_TRUST_UNTRUSTED);
	g_assert_cmpint(workload_trust(cfg, host_net, &r2), ==, CK_TRUST_TRUSTED);
}

/* ---- workload_decide ------------------------------------------------------------------------ */

static void write_sandbox_state(const char *root, const char *id, ContainerKind kind)
{
	g_autoptr(ContainerState) st = container_state_new(id);
	g_autoptr(GError) error = NULL;

	st->kind = kind;
	st->sandbox = TRUE;
	st->pod_id = g_strdup(id);
	st->bundle = g_strdup("/b");
	g_assert_true(container_state_write(root, st, &error));
	g_assert_no_error(error);
}

/* The sandbox states live in a temporary root; their ids are unique, as
 * the state module also lists a container of a non-default root under
 * /run/vmctl/roots (and removes it with the state). */
static void test_decide(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *root = g_dir_make_tmp("test-trust.XXXXXX", &error);
	g_autofree char *tag = g_strdup_printf("%08x%08x", g_random_int(), g_random_int());
	g_autofree char *sb_trusted = g_strdup_printf("test-trust-%s-a", tag);
	g_autofree char *sb_vm = g_strdup_printf("test-trust-%s-b", tag);
	g_autofree char *sb_missing = g_strdup_printf("test-trust-%s-c", tag);
	g_autoptr(CkConfig) cfg = config(CK_TRUST_UNTRUSTED, FALSE);
	g_autoptr(OciSpec) spec = sandbox_spec(PRIV_NONE, "true");
	g_autoptr(OciSpec) untrusted_spec = sandbox_spec(PRIV_NONE, "false");
	WorkloadRole sandbox = {.sandbox = TRUE, .pod_id = sb_trusted};
	WorkloadRole in_trusted = {.sandbox = FALSE, .pod_id = sb_trusted};
	WorkloadRole in_vm = {.sandbox = FALSE, .pod_id = sb_vm};
	WorkloadRole orphan = {.sandbox = FALSE, .pod_id = sb_missing};
	CkTrust trust = CK_TRUST_MAX;
	char *decision = NULL;

	g_assert_no_error(error);
	/* a sandbox: its own spec */
	g_assert_true(workload_decide(cfg, root, spec, &sandbox, &trust, &decision, &error));
	g_assert_no_error(error);
	g_assert_cmpint(trust, ==, CK_TRUST_TRUSTED);
	g_assert_cmpstr(decision, ==, "trusted: annotation " A_TRUSTED "=\"true\"");
	g_clear_pointer(&decision, g_free);

	/* a container: its sandbox's recorded kind, whatever its own spec says */
	write_sandbox_state(root, sb_trusted, CONTAINER_KIND_TRUSTED);
	write_sandbox_state(root, sb_vm, CONTAINER_KIND_VM);
	g_assert_true(workload_decide(cfg, root, untrusted_spec, &in_trusted, &trust, &decision, &error));
	g_assert_no_error(error);
	g_assert_cmpint(trust, ==, CK_TRUST_TRUSTED);
	g_autofree char *want = g_strdup_printf("trusted: follows its sandbox %s", sb_trusted);
	g_assert_cmpstr(decision, ==, want);
	g_clear_pointer(&decision, g_free);
	/* and the sandbox's recorded annotations, for annotations_check_container() */
	g_assert_nonnull(in_trusted.pod_annotations);
	g_assert_null(sandbox.pod_annotations);
	g_clear_pointer(&in_trusted.pod_annotations, g_hash_table_unref);
	g_assert_true(workload_decide(cfg, root, spec, &in_vm, &trust, &decision, &error));
	g_assert_no_error(error);
	g_assert_cmpint(trust, ==, CK_TRUST_UNTRUSTED);
	g_free(want);
	want = g_strdup_printf("untrusted: follows its sandbox %s", sb_vm);
	g_assert_cmpstr(decision, ==, want);
	g_clear_pointer(&decision, g_free);
	g_clear_pointer(&in_vm.pod_annotations, g_hash_table_unref);

	/* a container whose sandbox is not there */
	g_assert_false(workload_decide(cfg, root, spec, &orphan, &trust, &decision, &error));
	g_assert_error(error, CK_ERROR, CK_ERROR_NOT_FOUND);
	g_free(want);
	want = g_strdup_printf("the sandbox %s of its pod does not exist", sb_missing);
	g_assert_cmpstr(error->message, ==, want);
	g_assert_null(decision);

	g_assert_true(container_state_remove(root, sb_trusted, NULL));
	g_assert_true(container_state_remove(root, sb_vm, NULL));
	g_autofree char *containers = g_build_filename(root, "containers", NULL);
	(void)g_rmdir(containers);
	g_assert_cmpint(g_rmdir(root), ==, 0);
}

/* ---- workload_classify ------------------------------------------------------------------------ */

typedef struct {
	const char *label;
	const char *annotations; /* JSON object members */
	gboolean sandbox;
	const char *pod_id; /* NULL: an error */
	const char *message;
} ClassifyRow;

#define ID "c1"

static const ClassifyRow classify_rows[] = {
    {"crio-sandbox",
     "\"io.kubernetes.cri-o.ContainerType\": \"sandbox\", \"io.kubernetes.cri-o.SandboxID\": \"" ID "\"", TRUE, ID,
     NULL},
    /* CRI-O's sandbox id annotation is not needed for the sandbox */
    {"crio-sandbox-no-id", "\"io.kubernetes.cri-o.ContainerType\": \"sandbox\"", TRUE, ID, NULL},
    {"crio-container",
     "\"io.kubernetes.cri-o.ContainerType\": \"container\", \"io.kubernetes.cri-o.SandboxID\": \"sb\"", FALSE, "sb",
     NULL},
    {"crio-container-own-id",
     "\"io.kubernetes.cri-o.ContainerType\": \"container\", \"io.kubernetes.cri-o.SandboxID\": \"" ID "\"", TRUE, ID,
     NULL},
    {"crio-container-no-id", "\"io.kubernetes.cri-o.ContainerType\": \"container\"", FALSE, NULL,
     "annotation io.kubernetes.cri-o.SandboxID: missing for a container of a pod"},
    {"crio-container-empty-id",
     "\"io.kubernetes.cri-o.ContainerType\": \"container\", \"io.kubernetes.cri-o.SandboxID\": \"\"", FALSE, NULL,
     "annotation io.kubernetes.cri-o.SandboxID: missing for a container of a pod"},
    {"crio-unknown-type", "\"io.kubernetes.cri-o.ContainerType\": \"pod\"", FALSE, NULL,
     "annotation io.kubernetes.cri-o.ContainerType: unknown container type 'pod'"},
    {"crio-type-case", "\"io.kubernetes.cri-o.ContainerType\": \"Sandbox\"", FALSE, NULL,
     "annotation io.kubernetes.cri-o.ContainerType: unknown container type 'Sandbox'"},
    {"containerd-sandbox", "\"io.kubernetes.cri.container-type\": \"sandbox\"", TRUE, ID, NULL},
    {"containerd-container",
     "\"io.kubernetes.cri.container-type\": \"container\", \"io.kubernetes.cri.sandbox-id\": \"sb\"", FALSE, "sb",
     NULL},
    {"containerd-container-no-id", "\"io.kubernetes.cri.container-type\": \"container\"", FALSE, NULL,
     "annotation io.kubernetes.cri.sandbox-id: missing for a container of a pod"},
    /* CRI-O's keys first, as Kata checks them */
    {"crio-before-containerd",
     "\"io.kubernetes.cri-o.ContainerType\": \"container\", \"io.kubernetes.cri-o.SandboxID\": \"sb\", "
     "\"io.kubernetes.cri.container-type\": \"sandbox\"",
     FALSE, "sb", NULL},
    /* without either engine's keys a container is a pod of its own */
    {"podman", "\"io.container.manager\": \"libpod\"", TRUE, ID, NULL},
    {"no-annotations", "", TRUE, ID, NULL},
    {"sandbox-id-alone", "\"io.kubernetes.cri-o.SandboxID\": \"sb\"", TRUE, ID, NULL},
};

static void test_classify(gconstpointer data)
{
	const ClassifyRow *row = data;
	g_autofree char *doc = g_strdup_printf("{\"ociVersion\": \"1.0.2\", \"annotations\": {%s}}", row->annotations);
	g_autoptr(GError) error = NULL;
	g_autoptr(OciSpec) spec = oci_spec_parse(doc, strlen(doc), "test", &error);
	g_auto(WorkloadRole) role = {0};

	g_assert_no_error(error);
	gboolean ok = workload_classify(spec, ID, &role, &error);
	if (row->pod_id == NULL) {
		g_assert_false(ok);
		g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
		g_assert_cmpstr(error->message, ==, row->message);
		return;
	}
	g_assert_no_error(error);
	g_assert_true(ok);
	g_assert_cmpint(role.sandbox, ==, row->sandbox);
	g_assert_cmpstr(role.pod_id, ==, row->pod_id);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	for (gsize i = 0; i < G_N_ELEMENTS(annotation_rows); i++) {
		g_autofree char *name = g_strdup_printf("/trust/annotation/%" G_GSIZE_FORMAT, i);
		g_test_add_data_func(name, &annotation_rows[i], test_annotation_decides);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(absent_rows); i++) {
		const AbsentRow *r = &absent_rows[i];
		g_autofree char *name =
		    g_strdup_printf("/trust/absent/%s/default-%s/privileged_in_vm-%s", privilege_names[r->priv],
				    ck_trust_to_string(r->fallback), r->in_vm ? "true" : "false");
		g_test_add_data_func(name, r, test_absent);
	}
	g_test_add_func("/trust/defaults", test_defaults);
	g_test_add_func("/trust/decide", test_decide);
	for (gsize i = 0; i < G_N_ELEMENTS(classify_rows); i++) {
		g_autofree char *name = g_strdup_printf("/trust/classify/%s", classify_rows[i].label);
		g_test_add_data_func(name, &classify_rows[i], test_classify);
	}
	return g_test_run();
}
