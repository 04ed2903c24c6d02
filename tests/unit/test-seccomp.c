/* Unit tests: the seccomp compiler the host's monitor and the agent share
 * (agent/oci/oci-seccomp.c). Filters are checked through libseccomp's
 * pseudo filter code (PFC) text; some are exported as the BPF program the
 * host sends the guest and loaded for real in a forked child, as the
 * agent's child loads them; programs from elsewhere are checked. */
#include <errno.h>
#include <linux/filter.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-json.h"
#include "oci/oci-seccomp.h"

#define PATH "linux.seccomp"

static OciSeccomp *compile_for(const char *json, const OciSeccompAbis *abis, GError **error)
{
	g_auto(yajl_val) tree = ck_json_parse(json, strlen(json), "test", error);

	if (tree == NULL)
		return NULL;
	return oci_seccomp_compile(tree, PATH, abis, error);
}

static OciSeccomp *compile_json(const char *json, GError **error)
{
	return compile_for(json, NULL, error);
}

static char *compile_pfc_for(const char *json, const OciSeccompAbis *abis)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OciSeccomp) s = compile_for(json, abis, &error);

	g_assert_no_error(error);
	g_assert_nonnull(s);
	char *pfc = oci_seccomp_export_pfc(s, &error);
	g_assert_no_error(error);
	g_assert_nonnull(pfc);
	return pfc;
}

static char *compile_pfc(const char *json)
{
	return compile_pfc_for(json, NULL);
}

/* The program and flags the host would send for `json`. */
static GBytes *compile_bpf(const char *json, const OciSeccompAbis *abis, guint *flags)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OciSeccomp) s = compile_for(json, abis, &error);
	GBytes *program = NULL;

	g_assert_no_error(error);
	g_assert_true(oci_seccomp_export_bpf(s, &program, flags, &error));
	g_assert_no_error(error);
	return program;
}

/* The action of the first rule for `syscall` in the PFC text ("ERRNO(1)"),
 * or NULL when the filter has no rule for it. */
static char *pfc_action_for(const char *pfc, const char *syscall)
{
	g_autofree char *marker = g_strdup_printf("# filter for syscall \"%s\"", syscall);
	const char *p = strstr(pfc, marker);

	if (p == NULL)
		return NULL;
	p = strstr(p, "action ");
	g_assert_nonnull(p);
	p += strlen("action ");
	return g_strndup(p, strcspn(p, ";"));
}

static guint count_substr(const char *haystack, const char *needle)
{
	guint n = 0;

	for (const char *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* --- compiling ------------------------------------------------------- */

typedef struct {
	const char *name;
	const char *json;
	const char *syscall; /* with expected action, NULL for none */
	const char *action;  /* NULL: no rule for syscall */
	const char *contains[4];
	const char *omits[2];
	guint count_needle_n; /* occurrences of contains[0], 0 = not counted */
} CompileCase;

static const CompileCase compile_cases[] = {
    {"errno-mkdir",
     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\","
     "\"errnoRet\":1}]}",
     "mkdir",
     "ERRNO(1)",
     {"# default action\n  action ALLOW;"}},
    {"errno-default-eperm",
     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"rmdir\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
     "rmdir", "ERRNO(1)"},
    {"default-errno-ret",
     "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
     "\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"}]}",
     "write",
     "ALLOW",
     {"# default action\n  action ERRNO(38);", "# filter for syscall \"read\""}},
    {"default-errno-eperm",
     "{\"defaultAction\":\"SCMP_ACT_ERRNO\"}",
     NULL,
     NULL,
     {"# default action\n  action ERRNO(1);"}},
    {"trace-default-eperm",
     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_TRACE\"}]}",
     "uname", "TRACE(1)"},
    {"trace-ret",
     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_TRACE\","
     "\"errnoRet\":7}]}",
     "uname", "TRACE(7)"},
    {"kill-is-kill-thread",
     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_KILL\"},"
     "{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_KILL_THREAD\"}]}",
     "getcwd",
     "KILL",
     {"# filter for syscall \"uname\""}},
    {"kill-process-default",
     "{\"defaultAction\":\"SCMP_ACT_KILL_PROCESS\"}",
     NULL,
     NULL,
     {"# default action\n  action KILL_PROCESS;"}},
    {"trap-and-log",
     "{\"defaultAction\":\"SCMP_ACT_TRAP\",\"syscalls\":[{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_LOG\"}]}",
     "getpid",
     "LOG",
     {"# default action\n  action TRAP;"}},
    {"architectures",
     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\","
     "\"SCMP_ARCH_X32\"],\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
     "mkdir",
     "ERRNO(1)",
     {"# filter for arch x86_64 (", "# filter for arch x86 (", "# filter for arch x32 ("}},
    {"same-as-default-skipped",
     "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\","
     "\"errnoRet\":1},{\"names\":[\"rmdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":2}]}",
     "rmdir",
     "ERRNO(2)",
     {NULL},
     {"\"mkdir\""}},
    {"unknown-syscall-skipped",
     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"no_such_syscall_4711\",\"mkdir\"],"
     "\"action\":\"SCMP_ACT_ERRNO\"}]}",
     "mkdir",
     "ERRNO(1)",
     {NULL},
     {"no_such_syscall"}},
    {"args-distinct-indexes-and",
     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"dup3\"],\"action\":\"SCMP_ACT_ERRNO\","
     "\"errnoRet\":9,\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
     "{\"index\":2,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}",
     "dup3",
     "ERRNO(9)",
     {"action ERRNO(9);"},
     {NULL},
     1},
    {"args-same-index-or",
     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"dup3\"],\"action\":\"SCMP_ACT_ERRNO\","
     "\"errnoRet\":9,\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},"
     "{\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_EQ\"},{\"index\":2,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}",
     "dup3",
     "ERRNO(9)",
     {"action ERRNO(9);"},
     {NULL},
     3},
    {"masked-eq",
     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_ERRNO\","
     "\"args\":[{\"index\":1,\"value\":255,\"valueTwo\":3,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}",
     "uname",
     "ERRNO(1)",
     {"& 0x000000ff == 3"}},
    {"flags-and-lenient-keys",
     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\","
     "\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],\"comment\":\"x\","
     "\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"comment\":\"y\"}]}",
     "mkdir", "ERRNO(1)"},
    {"nulls-and-empty",
     "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":null,\"flags\":[],\"listenerPath\":\"\","
     "\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":null}]}",
     "mkdir", "ERRNO(1)"},
};

static void test_compile(gconstpointer data)
{
	const CompileCase *c = data;
	g_autofree char *pfc = compile_pfc(c->json);

	if (c->syscall != NULL) {
		g_autofree char *action = pfc_action_for(pfc, c->syscall);
		g_assert_cmpstr(action, ==, c->action);
	}
	for (gsize i = 0; i < G_N_ELEMENTS(c->contains) && c->contains[i] != NULL; i++)
		if (strstr(pfc, c->contains[i]) == NULL)
			g_error("%s: PFC lacks '%s':\n%s", c->name, c->contains[i], pfc);
	for (gsize i = 0; i < G_N_ELEMENTS(c->omits) && c->omits[i] != NULL; i++)
		if (strstr(pfc, c->omits[i]) != NULL)
			g_error("%s: PFC has '%s':\n%s", c->name, c->omits[i], pfc);
	if (c->count_needle_n > 0)
		g_assert_cmpuint(count_substr(pfc, c->contains[0]), ==, c->count_needle_n);
}

/* --- rejecting ------------------------------------------------------- */

typedef struct {
	const char *json;
	CkErrorCode code;
	const char *message;
} RejectCase;

#define RULE(body) "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[" body "]}"
#define ARG(body) RULE("{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[" body "]}")

static const RejectCase reject_cases[] = {
    {"[]", CK_ERROR_INVALID, "linux.seccomp: expected an object, got an array"},
    {"{}", CK_ERROR_INVALID, "linux.seccomp.defaultAction: required field missing"},
    {"{\"defaultAction\":5}", CK_ERROR_INVALID, "linux.seccomp.defaultAction: expected a string, got a number"},
    {"{\"defaultAction\":\"SCMP_ACT_FOO\"}", CK_ERROR_INVALID,
     "linux.seccomp.defaultAction: unknown action 'SCMP_ACT_FOO'"},
    {"{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", CK_ERROR_UNSUPPORTED,
     "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY is not supported"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultErrnoRet\":1}", CK_ERROR_INVALID,
     "linux.seccomp.defaultErrnoRet: not valid with SCMP_ACT_ALLOW"},
    {"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":-1}", CK_ERROR_INVALID,
     "linux.seccomp.defaultErrnoRet: -1 is out of range (0..65535)"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}", CK_ERROR_INVALID,
     "linux.seccomp.architectures[0]: unknown architecture 'SCMP_ARCH_VAX'"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86\",\"x86_64\"]}", CK_ERROR_INVALID,
     "linux.seccomp.architectures[1]: unknown architecture 'x86_64'"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":\"SCMP_ARCH_X86\"}", CK_ERROR_INVALID,
     "linux.seccomp.architectures: expected an array of strings, got a string"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_FOO\"]}",
     CK_ERROR_INVALID, "linux.seccomp.flags[1]: unknown flag 'SECCOMP_FILTER_FLAG_FOO'"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"]}",
     CK_ERROR_UNSUPPORTED, "linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/seccomp.sock\"}", CK_ERROR_UNSUPPORTED,
     "linux.seccomp.listenerPath: a seccomp listener is not supported"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerMetadata\":\"x\"}", CK_ERROR_UNSUPPORTED,
     "linux.seccomp.listenerMetadata: a seccomp listener is not supported"},
    {"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":{}}", CK_ERROR_INVALID,
     "linux.seccomp.syscalls: expected an array, got an object"},
    {RULE("\"mkdir\""), CK_ERROR_INVALID, "linux.seccomp.syscalls[0]: expected an object, got a string"},
    {RULE("{\"names\":[\"a\"],\"action\":\"SCMP_ACT_ERRNO\"},{\"names\":[\"b\"],\"action\":\"SCMP_ACT_LOG\"},"
	  "{\"names\":[\"c\"],\"action\":\"SCMP_ACT_TRAP\"},{\"names\":[\"d\"],\"action\":\"SCMP_ACT_FOO\"}"),
     CK_ERROR_INVALID, "linux.seccomp.syscalls[3].action: unknown action 'SCMP_ACT_FOO'"},
    {RULE("{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"}"), CK_ERROR_UNSUPPORTED,
     "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY is not supported"},
    {RULE("{\"names\":[\"mkdir\"]}"), CK_ERROR_INVALID, "linux.seccomp.syscalls[0].action: required field missing"},
    {RULE("{\"action\":\"SCMP_ACT_ERRNO\"}"), CK_ERROR_INVALID,
     "linux.seccomp.syscalls[0].names: required field missing"},
    {RULE("{\"names\":\"mkdir\",\"action\":\"SCMP_ACT_ERRNO\"}"), CK_ERROR_INVALID,
     "linux.seccomp.syscalls[0].names: expected an array of strings, got a string"},
    {RULE("{\"names\":[\"mkdir\",42],\"action\":\"SCMP_ACT_ERRNO\"}"), CK_ERROR_INVALID,
     "linux.seccomp.syscalls[0].names[1]: expected a string, got a number"},
    {RULE("{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_KILL\",\"errnoRet\":1}"), CK_ERROR_INVALID,
     "linux.seccomp.syscalls[0].errnoRet: not valid with SCMP_ACT_KILL"},
    {RULE("{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":65536}"), CK_ERROR_INVALID,
     "linux.seccomp.syscalls[0].errnoRet: 65536 is out of range (0..65535)"},
    {RULE("{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":\"1\"}"), CK_ERROR_INVALID,
     "linux.seccomp.syscalls[0].errnoRet: expected an integer, got a string"},
    {RULE("{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":{}}"), CK_ERROR_INVALID,
     "linux.seccomp.syscalls[0].args: expected an array, got an object"},
    {ARG("{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_FOO\"}"), CK_ERROR_INVALID,
     "linux.seccomp.syscalls[0].args[0].op: unknown operator 'SCMP_CMP_FOO'"},
    {ARG("{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}"),
     CK_ERROR_INVALID, "linux.seccomp.syscalls[0].args[1].index: 6 is out of range (0..5)"},
    {ARG("{\"index\":-1,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}"), CK_ERROR_INVALID,
     "linux.seccomp.syscalls[0].args[0].index: -1 is out of range (0..5)"},
    {ARG("{\"value\":1,\"op\":\"SCMP_CMP_EQ\"}"), CK_ERROR_INVALID,
     "linux.seccomp.syscalls[0].args[0].index: required field missing"},
    {ARG("{\"index\":0,\"op\":\"SCMP_CMP_EQ\"}"), CK_ERROR_INVALID,
     "linux.seccomp.syscalls[0].args[0].value: required field missing"},
    {ARG("{\"index\":0,\"value\":1}"), CK_ERROR_INVALID,
     "linux.seccomp.syscalls[0].args[0].op: required field missing"},
    {ARG("{\"index\":0,\"value\":\"1\",\"op\":\"SCMP_CMP_EQ\"}"), CK_ERROR_INVALID,
     "linux.seccomp.syscalls[0].args[0].value: expected a non-negative integer, got a string"},
    {ARG("{\"index\":0,\"value\":1,\"op\":3}"), CK_ERROR_INVALID,
     "linux.seccomp.syscalls[0].args[0].op: expected a string, got a number"},
    {ARG("[0,1]"), CK_ERROR_INVALID, "linux.seccomp.syscalls[0].args[0]: expected an object, got an array"},
};

static void test_reject(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(reject_cases); i++) {
		const RejectCase *c = &reject_cases[i];
		g_autoptr(GError) error = NULL;
		g_autoptr(OciSeccomp) s = compile_json(c->json, &error);

		g_test_message("case %" G_GSIZE_FORMAT ": %s", i, c->json);
		g_assert_null(s);
		g_assert_error(error, CK_ERROR, (int)c->code);
		g_assert_cmpstr(error->message, ==, c->message);
	}
}

/* Full 64-bit values reach the filter unchanged. */
static void test_value_range(void)
{
	g_autofree char *pfc = compile_pfc(ARG("{\"index\":0,\"value\":18446744073709551615,\"op\":\"SCMP_CMP_EQ\"}"));

	g_assert_nonnull(strstr(pfc, "4294967295"));
	g_assert_null(strstr(pfc, "== 0)"));
}

/* --- enforcing ------------------------------------------------------- */

enum {
	CHILD_OK = 0,
	CHILD_WRONG = 1,
	CHILD_COMPILE_FAILED = 2,
	CHILD_LOAD_FAILED = 3,
};

/* In a forked child: compiles `json`, exports it as the host does and
 * loads the program as the agent's child does; returns only on success. */
static void child_load(const char *json)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(OciSeccomp) s = compile_json(json, &error);
	g_autoptr(GBytes) program = NULL;
	guint flags = 0;

	if (s == NULL || !oci_seccomp_export_bpf(s, &program, &flags, &error))
		_exit(CHILD_COMPILE_FAILED);
	/* without CAP_SYS_ADMIN the kernel requires no_new_privs */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || !oci_seccomp_load_bpf(program, flags, &error))
		_exit(CHILD_LOAD_FAILED);
}

/* Runs fn in a child and returns its wait status. */
static int run_child(void (*fn)(gconstpointer), gconstpointer data)
{
	int status = 0;
	pid_t pid = fork();

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		fn(data);
		_exit(CHILD_OK);
	}
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	return status;
}

static void child_mkdir(gconstpointer data)
{
	g_autofree char *dir = g_build_filename(data, "blocked", NULL);

	child_load("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\",\"mkdirat\"],"
		   "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13}]}");
	_exit(mkdir(dir, 0700) < 0 && errno == EACCES ? CHILD_OK : CHILD_WRONG);
}

static void test_enforce_errno(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *tmp = g_dir_make_tmp("test-seccomp-XXXXXX", &error);
	g_autofree char *blocked = NULL;
	int status;

	g_assert_no_error(error);
	status = run_child(child_mkdir, tmp);
	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, CHILD_OK);

	/* the filter stayed in the child */
	blocked = g_build_filename(tmp, "blocked", NULL);
	g_assert_cmpint(g_mkdir(blocked, 0700), ==, 0);
	g_assert_cmpint(g_rmdir(blocked), ==, 0);
	g_assert_cmpint(g_rmdir(tmp), ==, 0);
}

static void child_uname(gconstpointer data)
{
	struct rlimit no_core = {0, 0};
	struct utsname u;

	(void)data;
	/* SIGSYS dumps core by default; keep the build tree clean */
	(void)setrlimit(RLIMIT_CORE, &no_core);
	child_load("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"uname\"],"
		   "\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}");
	(void)uname(&u);
	_exit(CHILD_WRONG);
}

static void test_enforce_kill_process(void)
{
	int status = run_child(child_uname, NULL);

	if (WIFEXITED(status))
		g_error("child exited with %d instead of being killed", WEXITSTATUS(status));
	g_assert_true(WIFSIGNALED(status));
	g_assert_cmpint(WTERMSIG(status), ==, SIGSYS);
}

/* Same argument index twice: dup(0) and dup(1) are refused, dup(2) not. */
static void child_dup_or(gconstpointer data)
{
	(void)data;
	child_load(
	    "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"dup\"],"
	    "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,\"args\":["
	    "{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}");
	if (dup(0) >= 0 || errno != EACCES)
		_exit(CHILD_WRONG);
	if (dup(1) >= 0 || errno != EACCES)
		_exit(CHILD_WRONG);
	if (dup(2) < 0)
		_exit(CHILD_WRONG);
}

static void test_enforce_args_or(void)
{
	int status = run_child(child_dup_or, NULL);

	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, CHILD_OK);
}

static const char three_arches[] = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\","
				   "\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],\"syscalls\":[{\"names\":[\"mkdir\"],"
				   "\"action\":\"SCMP_ACT_ERRNO\"}]}";

/* A kernel without IA32 emulation or the x32 ABI: the filter keeps only
 * x86_64 of the three, with the same rules; both kept once allowed again,
 * and when nothing is known of the kernel. */
static void test_kernel_abis(void)
{
	const char *json = three_arches;
	const OciSeccompAbis none = {.probed = TRUE}, only_ia32 = {.probed = TRUE, .ia32 = TRUE},
			     both = {.probed = TRUE, .ia32 = TRUE, .x32 = TRUE}, unknown = {0};
	g_autofree char *lean = compile_pfc_for(json, &none);
	g_autofree char *ia32 = compile_pfc_for(json, &only_ia32);
	g_autofree char *all = compile_pfc_for(json, &both);
	g_autofree char *unprobed = compile_pfc_for(json, &unknown);
	g_autofree char *null_abis = compile_pfc_for(json, NULL);

	g_assert_nonnull(strstr(lean, "# filter for arch x86_64 ("));
	g_assert_null(strstr(lean, "# filter for arch x86 ("));
	g_assert_null(strstr(lean, "# filter for arch x32 ("));
	g_autofree char *action = pfc_action_for(lean, "mkdir");
	g_assert_cmpstr(action, ==, "ERRNO(1)");
	g_assert_nonnull(strstr(ia32, "# filter for arch x86 ("));
	g_assert_null(strstr(ia32, "# filter for arch x32 ("));
	g_assert_nonnull(strstr(all, "# filter for arch x86 ("));
	g_assert_nonnull(strstr(all, "# filter for arch x32 ("));
	g_assert_cmpstr(unprobed, ==, all);
	g_assert_cmpstr(null_abis, ==, all);
}

/* --- the program the host sends ------------------------------------------ */

/* Whole sock_filter instructions, the lean program the smaller one,
 * the profile's flags as seccomp(2) takes them. */
static void test_bpf_export(void)
{
	const OciSeccompAbis none = {.probed = TRUE};
	guint flags = 1;
	g_autoptr(GBytes) lean = compile_bpf(three_arches, &none, &flags);
	g_assert_cmpuint(flags, ==, 0);
	g_autoptr(GBytes) all = compile_bpf(three_arches, NULL, &flags);
	gsize lean_len = g_bytes_get_size(lean), all_len = g_bytes_get_size(all);

	g_assert_cmpuint(lean_len % 8, ==, 0);
	g_assert_cmpuint(all_len % 8, ==, 0);
	g_assert_cmpuint(lean_len, >, 0);
	g_assert_cmpuint(lean_len, <, all_len);

	g_autoptr(GBytes) flagged = compile_bpf("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":["
						"\"SECCOMP_FILTER_FLAG_TSYNC\",\"SECCOMP_FILTER_FLAG_LOG\"]}",
						NULL, &flags);
	g_assert_cmpuint(flags, ==, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG);
	g_autoptr(GBytes) spec_allow = compile_bpf("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":["
						   "\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"]}",
						   NULL, &flags);
	g_assert_cmpuint(flags, ==, SECCOMP_FILTER_FLAG_SPEC_ALLOW);
}

/* What the agent refuses before keeping a program from the host. */
static void test_bpf_check(void)
{
	static const struct {
		gsize len;
		guint flags;
		const char *message;
	} cases[] = {
	    {0, 0, "seccomp_bpf: 0 bytes is not a whole number of BPF instructions"},
	    {7, 0, "seccomp_bpf: 7 bytes is not a whole number of BPF instructions"},
	    {4097 * 8, 0, "seccomp_bpf: 4097 instructions, more than the kernel's 4096"},
	    {8, 0x40, "seccomp_bpf: unknown seccomp flags 0x40"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) program = g_bytes_new_take(g_malloc0(cases[i].len), cases[i].len);

		g_assert_false(oci_seccomp_check_bpf(program, cases[i].flags, "seccomp_bpf", &error));
		g_assert_error(error, CK_ERROR, CK_ERROR_INVALID);
		g_assert_cmpstr(error->message, ==, cases[i].message);
	}
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) largest = g_bytes_new_take(g_malloc0(4096 * 8), 4096 * 8);
	g_assert_true(oci_seccomp_check_bpf(largest, SECCOMP_FILTER_FLAG_TSYNC, "seccomp_bpf", &error));
	g_assert_no_error(error);
}

/* A program the kernel refuses (a jump past its end): the kernel's word,
 * and no filter on the process. */
static void child_bad_program(gconstpointer data)
{
	struct sock_filter insn[] = {BPF_JUMP(BPF_JMP | BPF_JA, 5, 0, 0)};
	g_autoptr(GBytes) program = g_bytes_new(insn, sizeof insn);
	g_autoptr(GError) error = NULL;

	(void)data;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || oci_seccomp_load_bpf(program, 0, &error))
		_exit(CHILD_WRONG);
	if (!g_str_equal(error->message, "loading the seccomp filter: Invalid argument") ||
	    prctl(PR_GET_SECCOMP, 0, 0, 0, 0) != 0)
		_exit(CHILD_WRONG);
}

static void test_bpf_refused(void)
{
	int status = run_child(child_bad_program, NULL);

	g_assert_true(WIFEXITED(status));
	g_assert_cmpint(WEXITSTATUS(status), ==, CHILD_OK);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	for (gsize i = 0; i < G_N_ELEMENTS(compile_cases); i++) {
		g_autofree char *name = g_strdup_printf("/seccomp/compile/%s", compile_cases[i].name);
		g_test_add_data_func(name, &compile_cases[i], test_compile);
	}
	g_test_add_func("/seccomp/reject", test_reject);
	g_test_add_func("/seccomp/kernel-abis", test_kernel_abis);
	g_test_add_func("/seccomp/bpf/export", test_bpf_export);
	g_test_add_func("/seccomp/bpf/check", test_bpf_check);
	g_test_add_func("/seccomp/bpf/refused", test_bpf_refused);
	g_test_add_func("/seccomp/value-range", test_value_range);
	g_test_add_func("/seccomp/enforce/errno", test_enforce_errno);
	g_test_add_func("/seccomp/enforce/kill-process", test_enforce_kill_process);
	g_test_add_func("/seccomp/enforce/args-or", test_enforce_args_or);
	return g_test_run();
}
