/* harness: booting a test VM and running containers in it through the
 * library, for the integration tests that drive the agent directly.
 *
 * One Harness is one VM with a pod shared folder, booted once per test
 * file. Containers are created from OciSpec structs (parsed from a JSON
 * file or text, then adjusted by the test), through the same host code
 * the pod monitor uses (guest-spec.c, guest-process.c). Every wait has a
 * deadline; failures abort the test, and QEMU dies with the test process
 * (PR_SET_PDEATHSIG), so nothing leaks.
 */
#pragma once

#include <glib.h>

#include "oci/oci-spec.h"
#include "lib/agent-client.h"
#include "lib/config.h"
#include "lib/guest-process.h"
#include "lib/qemu-vm.h"

G_BEGIN_DECLS

typedef struct {
	CkConfig *config;
	char *root;	 /* temporary runtime root */
	char *share_dir; /* the pod's shared folder on the host */
	QemuVm *vm;
	AgentClient *agent;
	char *rootfs_template; /* busybox rootfs built by the test suite */
	GPtrArray *events;     /* "<event>:<container>" for every agent event */
} Harness;

/* Asserts a harness call, showing the error it returned; the caller has
 * a `GError *error` in scope. */
#define OK(expr)                                                                                                       \
	do {                                                                                                           \
		if (!(expr))                                                                                           \
			g_error("%s failed: %s", #expr, error != NULL ? error->message : "(no error set)");           \
	} while (0)

/* Boots the VM (config from $CK_TEST_CONFIG) and creates the sandbox. */
void harness_boot(Harness *h);
void harness_teardown(Harness *h);

/* A bundle directory with a fresh copy of the busybox rootfs; returns
 * its path (owned by the harness's root). */
char *harness_new_bundle(Harness *h, const char *id);

/* Parses a spec from a file or from JSON text. */
OciSpec *harness_load_spec(const char *path);
OciSpec *harness_parse_spec(const char *json);
/* A runc-like default spec running argv. */
OciSpec *harness_default_spec(const char *const *argv);

typedef struct {
	char *id;
	char *exec_id;
	guint32 handle;
	int pid;
	GuestProcess *proc;
	GString *out;
	GString *err;
	gboolean eof[3];
	gboolean exited;
	GuestExit exit;
	gsize out_bytes; /* counted even when not kept (big outputs) */
	gboolean discard_output; /* stdout only: counted, not kept */
	gboolean (*check_chunk)(const guint8 *data, gsize len, gsize offset, gpointer ud);
	gpointer check_data;
	gboolean chunk_ok;
} Run;

void run_clear(Run *run);

/* create_container; on success the process is held before execve. */
gboolean harness_create(Harness *h, const char *id, OciSpec *spec, const char *bundle, gboolean with_stdin,
			Run *run, GError **error);
/* harness_create with a seccomp program as the host's monitor sends it
 * (create_container's seccomp_bpf, base64, and seccomp_flags). */
gboolean harness_create_program(Harness *h, const char *id, OciSpec *spec, const char *bundle,
				const char *seccomp_bpf, gint64 seccomp_flags, Run *run, GError **error);
gboolean harness_start(Harness *h, const char *id, GError **error);
gboolean harness_exec(Harness *h, const char *id, const char *exec_id, const char *process_json,
		      gboolean with_stdin, Run *run, GError **error);
/* Runs the main context until the process has exited (asserts on timeout). */
void harness_wait_exit(Harness *h, Run *run, int timeout_ms);
/* Runs the main context until `cond` or the deadline. */
gboolean harness_run_until(Harness *h, gboolean (*cond)(gpointer), gpointer data, int timeout_ms);
gboolean harness_remove(Harness *h, const char *id, GError **error);

/* One request, blocking; returns the reply tree (caller frees). */
yajl_val harness_call(Harness *h, CkJsonGen *request, yajl_val *out_result, GError **error);

/* create + start + wait + remove of a one-shot container. */
void harness_run_oneshot(Harness *h, const char *id, OciSpec *spec, Run *run, int timeout_ms);

G_END_DECLS
