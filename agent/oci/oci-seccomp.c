/* oci-seccomp: compiles an OCI linux.seccomp object (config-linux.md
 * "Seccomp") into a libseccomp filter, exports it as a BPF program (or as
 * text), checks and loads such a program.
 *
 * This module owns the translation of names (actions, architectures,
 * flags, operators, syscalls) to libseccomp values and the policy for what
 * a profile may ask for. It does not decide where the filter is compiled
 * (the host's monitor, or the agent for a client that sends no program)
 * nor when it is loaded: the container's child does that, right before
 * execve.
 *
 * Argument conditions. libseccomp ANDs the comparisons of one rule and
 * refuses (EINVAL) two comparisons on the same argument, while profiles
 * list the same argument several times to mean "any of these values"
 * (e.g. personality(2) with each allowed persona). So, as runc does:
 *   - when no argument index occurs twice in an entry's args, all its
 *     conditions go into one rule: they are ANDed;
 *   - when an index occurs twice or more, every condition of the entry
 *     becomes a rule of its own, and a call matching any of them takes the
 *     action: they are ORed.
 *
 * Other policy:
 *   - a syscall name libseccomp does not know is skipped with a debug log:
 *     profiles list syscalls newer than the kernel or libseccomp;
 *   - an entry whose action equals the default action is skipped: it
 *     changes nothing, and libseccomp refuses it (EACCES);
 *   - errnoRet on an action that carries no value (anything but ERRNO and
 *     TRACE) is an error, as the spec requires; without it ERRNO and TRACE
 *     carry EPERM;
 *   - SCMP_ACT_NOTIFY and a listener are unsupported: the notification fd
 *     would live inside the VM, out of reach of any seccomp agent;
 *   - the filter leaves no_new_privs alone (libseccomp would set it on
 *     load by default): it belongs to process.noNewPrivileges.
 */

#include "oci-seccomp.h"

#include <seccomp.h>

#include <errno.h>
#include <linux/filter.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-log.h"

/* An action carries 16 bits of data (SECCOMP_RET_DATA). */
#define SECCOMP_RET_MAX 0xffff
/* errnoRet absent: dispatch leaves the field alone, and 0 is a valid value. */
#define NO_RET (-1)
#define ARCH_PREFIX "SCMP_ARCH_"
/* A syscall has at most six arguments: index 0..5. */
#define SYSCALL_ARGS 6

/* x32 system calls are x86_64 ones with this bit set */
#define X32_SYSCALL_BIT 0x40000000

struct OciSeccomp {
	scmp_filter_ctx ctx;
	uint32_t default_action;
	const OciSeccompAbis *abis; /* during compiling only; NULL: unknown */
};

typedef struct {
	const char *name;
	uint32_t action;
	gboolean takes_ret; /* the action carries errnoRet */
} ActionName;

static const ActionName action_names[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, FALSE},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, FALSE},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, FALSE},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, FALSE},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), TRUE},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), TRUE},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, FALSE},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, FALSE},
};

static const struct {
	const char *name;
	enum scmp_compare op;
} operator_names[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

/* A profile's flag, the libseccomp attribute it sets, and the seccomp(2)
 * flag that attribute loads a filter with. */
static const struct {
	const char *name;
	enum scmp_filter_attr attr;
	guint load_flag;
} flag_names[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC, SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG, SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB, SECCOMP_FILTER_FLAG_SPEC_ALLOW},
};

/* --- JSON shapes ----------------------------------------------------- */

typedef struct {
	char *default_action;
	int default_errno_ret;
	char **architectures;
	char **flags;
	char *listener_path;
	char *listener_metadata;
	yajl_val syscalls;
} SeccompSpec;

static void seccomp_spec_clear(SeccompSpec *spec)
{
	g_free(spec->default_action);
	g_strfreev(spec->architectures);
	g_strfreev(spec->flags);
	g_free(spec->listener_path);
	g_free(spec->listener_metadata);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SeccompSpec, seccomp_spec_clear)

static const CkJsonField spec_fields[] = {
    {"defaultAction", CK_JSON_STRING, offsetof(SeccompSpec, default_action), CK_JSON_REQUIRED},
    {"defaultErrnoRet", CK_JSON_INT, offsetof(SeccompSpec, default_errno_ret), CK_JSON_NULLABLE, 0, SECCOMP_RET_MAX},
    {"architectures", CK_JSON_STRV, offsetof(SeccompSpec, architectures), CK_JSON_NULLABLE},
    {"flags", CK_JSON_STRV, offsetof(SeccompSpec, flags), CK_JSON_NULLABLE},
    {"listenerPath", CK_JSON_STRING, offsetof(SeccompSpec, listener_path), CK_JSON_NULLABLE},
    {"listenerMetadata", CK_JSON_STRING, offsetof(SeccompSpec, listener_metadata), CK_JSON_NULLABLE},
    {"syscalls", CK_JSON_ARRAY, offsetof(SeccompSpec, syscalls), CK_JSON_NULLABLE},
    {NULL},
};

typedef struct {
	char **names;
	char *action;
	int errno_ret;
	yajl_val args;
} SeccompSyscall;

static void seccomp_syscall_clear(SeccompSyscall *sc)
{
	g_strfreev(sc->names);
	g_free(sc->action);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SeccompSyscall, seccomp_syscall_clear)

static const CkJsonField syscall_fields[] = {
    {"names", CK_JSON_STRV, offsetof(SeccompSyscall, names), CK_JSON_REQUIRED},
    {"action", CK_JSON_STRING, offsetof(SeccompSyscall, action), CK_JSON_REQUIRED},
    {"errnoRet", CK_JSON_INT, offsetof(SeccompSyscall, errno_ret), CK_JSON_NULLABLE, 0, SECCOMP_RET_MAX},
    {"args", CK_JSON_ARRAY, offsetof(SeccompSyscall, args), CK_JSON_NULLABLE},
    {NULL},
};

typedef struct {
	int index;
	guint64 value;
	guint64 value_two;
	char *op;
} SeccompArg;

static void seccomp_arg_clear(SeccompArg *arg)
{
	g_free(arg->op);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SeccompArg, seccomp_arg_clear)

static const CkJsonField arg_fields[] = {
    {"index", CK_JSON_INT, offsetof(SeccompArg, index), CK_JSON_REQUIRED, 0, SYSCALL_ARGS - 1},
    {"value", CK_JSON_UINT64, offsetof(SeccompArg, value), CK_JSON_REQUIRED},
    {"valueTwo", CK_JSON_UINT64, offsetof(SeccompArg, value_two), CK_JSON_NULLABLE},
    {"op", CK_JSON_STRING, offsetof(SeccompArg, op), CK_JSON_REQUIRED},
    {NULL},
};

/* --- names to values ------------------------------------------------- */

/* `ret` is the errnoRet that goes with the action (NO_RET when absent);
 * ret_path names it in messages. */
static gboolean parse_action(const char *name, int ret, const char *path, const char *ret_path, uint32_t *out,
			     GError **error)
{
	if (g_str_equal(name, "SCMP_ACT_NOTIFY"))
		return ck_set_error(error, CK_ERROR_UNSUPPORTED, "%s: SCMP_ACT_NOTIFY is not supported", path);

	for (gsize i = 0; i < G_N_ELEMENTS(action_names); i++) {
		const ActionName *a = &action_names[i];

		if (!g_str_equal(name, a->name))
			continue;
		if (a->takes_ret) {
			*out = a->action | (uint32_t)(ret == NO_RET ? EPERM : ret);
			return TRUE;
		}
		if (ret != NO_RET)
			return ck_set_error(error, CK_ERROR_INVALID, "%s: not valid with %s", ret_path, name);
		*out = a->action;
		return TRUE;
	}
	return ck_set_error(error, CK_ERROR_INVALID, "%s: unknown action '%s'", path, name);
}

static gboolean parse_operator(const char *name, const char *path, enum scmp_compare *out, GError **error)
{
	for (gsize i = 0; i < G_N_ELEMENTS(operator_names); i++) {
		if (g_str_equal(name, operator_names[i].name)) {
			*out = operator_names[i].op;
			return TRUE;
		}
	}
	return ck_set_error(error, CK_ERROR_INVALID, "%s: unknown operator '%s'", path, name);
}

/* SCMP_ARCH_X86_64 -> "x86_64", the name libseccomp resolves. */
static gboolean parse_arch(const char *name, const char *path, uint32_t *out, GError **error)
{
	if (g_str_equal(name, "SCMP_ARCH_NATIVE")) {
		*out = SCMP_ARCH_NATIVE;
		return TRUE;
	}
	if (g_str_has_prefix(name, ARCH_PREFIX)) {
		g_autofree char *lower = g_ascii_strdown(name + strlen(ARCH_PREFIX), -1);

		*out = seccomp_arch_resolve_name(lower);
		if (*out != 0)
			return TRUE;
	}
	return ck_set_error(error, CK_ERROR_INVALID, "%s: unknown architecture '%s'", path, name);
}

void oci_seccomp_probe_kernel(OciSeccompAbis *out)
{
	*out = (OciSeccompAbis){0};
#if defined(__x86_64__)
	out->probed = TRUE;
	out->ia32 = access("/proc/sys/abi/vsyscall32", F_OK) == 0;
	out->x32 = !(syscall(X32_SYSCALL_BIT | SYS_getpid) < 0 && errno == ENOSYS);
	ck_log_debug("seccomp: the kernel runs x86 (ia32) %s, x32 %s", out->ia32 ? "yes" : "no",
		     out->x32 ? "yes" : "no");
#endif
}

/* An architecture the kernel cannot run: its rules would never match. */
static gboolean arch_unreachable(const OciSeccompAbis *abis, uint32_t arch)
{
	if (abis == NULL || !abis->probed)
		return FALSE;
	return (arch == SCMP_ARCH_X86 && !abis->ia32) || (arch == SCMP_ARCH_X32 && !abis->x32);
}

/* --- building the filter --------------------------------------------- */

static OciSeccomp *filter_new(uint32_t default_action, const char *name, const char *path, GError **error)
{
	g_autoptr(OciSeccomp) s = g_new0(OciSeccomp, 1);
	int rc;

	s->default_action = default_action;
	s->ctx = seccomp_init(default_action);
	if (s->ctx == NULL) {
		g_autofree char *p = ck_json_path_key(path, "defaultAction");
		return ck_set_error(error, CK_ERROR_UNSUPPORTED, "%s: libseccomp rejects %s", p, name), NULL;
	}
	/* no_new_privs is process.noNewPrivileges' to set, not the filter's */
	rc = seccomp_attr_set(s->ctx, SCMP_FLTATR_CTL_NNP, 0);
	/* the kernel's errno rather than ECANCELED when loading fails */
	if (rc == 0)
		rc = seccomp_attr_set(s->ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	if (rc < 0)
		return ck_set_error_errno(error, -rc, "%s: setting filter attributes", path), NULL;
	return g_steal_pointer(&s);
}

static gboolean add_architectures(OciSeccomp *s, char **names, const char *path, GError **error)
{
	g_autofree char *base = ck_json_path_key(path, "architectures");

	for (gsize i = 0; names != NULL && names[i] != NULL; i++) {
		g_autofree char *p = ck_json_path_index(base, i);
		uint32_t arch;
		int rc;

		if (!parse_arch(names[i], p, &arch, error))
			return FALSE;
		if (arch_unreachable(s->abis, arch)) {
			ck_log_debug("%s: %s left out, the kernel does not run it", p, names[i]);
			continue;
		}
		rc = seccomp_arch_add(s->ctx, arch);
		/* a new filter already has the native architecture */
		if (rc < 0 && rc != -EEXIST)
			return ck_set_error_errno(error, -rc, "%s: adding architecture %s", p, names[i]);
	}
	return TRUE;
}

static gboolean set_flag(OciSeccomp *s, const char *name, const char *path, GError **error)
{
	for (gsize i = 0; i < G_N_ELEMENTS(flag_names); i++) {
		if (!g_str_equal(name, flag_names[i].name))
			continue;
		int rc = seccomp_attr_set(s->ctx, flag_names[i].attr, 1);
		if (rc < 0)
			return ck_set_error_errno(error, -rc, "%s: setting %s", path, name);
		return TRUE;
	}
	/* it only changes how a notifying filter waits, and we have none */
	if (g_str_equal(name, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"))
		return ck_set_error(error, CK_ERROR_UNSUPPORTED, "%s: %s is not supported", path, name);
	return ck_set_error(error, CK_ERROR_INVALID, "%s: unknown flag '%s'", path, name);
}

static gboolean set_flags(OciSeccomp *s, char **names, const char *path, GError **error)
{
	g_autofree char *base = ck_json_path_key(path, "flags");

	for (gsize i = 0; names != NULL && names[i] != NULL; i++) {
		g_autofree char *p = ck_json_path_index(base, i);

		if (!set_flag(s, names[i], p, error))
			return FALSE;
	}
	return TRUE;
}

/* Appends one comparison per element of args to conds and tells whether
 * an argument index occurs more than once (see the top of the file). */
static gboolean parse_args(yajl_val args, const char *path, GArray *conds, gboolean *repeated, GError **error)
{
	guint seen = 0;

	*repeated = FALSE;
	for (gsize i = 0; args != NULL && i < args->u.array.len; i++) {
		g_autofree char *p = ck_json_path_index(path, i);
		g_autofree char *op_path = ck_json_path_key(p, "op");
		g_auto(SeccompArg) arg = {0};
		struct scmp_arg_cmp cmp = {0};

		if (!ck_json_dispatch(args->u.array.values[i], arg_fields, &arg, p, CK_JSON_LENIENT, error) ||
		    !parse_operator(arg.op, op_path, &cmp.op, error))
			return FALSE;
		if (seen & (1u << arg.index))
			*repeated = TRUE;
		seen |= 1u << arg.index;
		/* MASKED_EQ: datum_a is the mask, datum_b the masked value */
		cmp.arg = (unsigned int)arg.index;
		cmp.datum_a = arg.value;
		cmp.datum_b = arg.value_two;
		g_array_append_val(conds, cmp);
	}
	return TRUE;
}

static gboolean add_rule(OciSeccomp *s, int nr, uint32_t action, guint n, const struct scmp_arg_cmp *cmps,
			 const char *name, const char *path, GError **error)
{
	int rc = seccomp_rule_add_array(s->ctx, action, nr, n, cmps);

	if (rc < 0)
		return ck_set_error_errno(error, -rc, "%s: adding rule for '%s'", path, name);
	return TRUE;
}

static gboolean add_syscall_rules(OciSeccomp *s, const char *name, uint32_t action, GArray *conds, gboolean repeated,
				  const char *path, GError **error)
{
	int nr = seccomp_syscall_resolve_name(name);
	const struct scmp_arg_cmp *cmps = (const struct scmp_arg_cmp *)(gpointer)conds->data;

	if (nr == __NR_SCMP_ERROR) {
		ck_log_debug("%s: skipping syscall '%s' unknown to libseccomp", path, name);
		return TRUE;
	}
	if (!repeated)
		return add_rule(s, nr, action, conds->len, cmps, name, path, error);
	for (guint i = 0; i < conds->len; i++)
		if (!add_rule(s, nr, action, 1, &cmps[i], name, path, error))
			return FALSE;
	return TRUE;
}

static gboolean add_syscall_entry(OciSeccomp *s, yajl_val entry, const char *path, GError **error)
{
	g_auto(SeccompSyscall) sc = {.errno_ret = NO_RET};
	g_autoptr(GArray) conds = g_array_new(FALSE, TRUE, sizeof(struct scmp_arg_cmp));
	g_autofree char *action_path = ck_json_path_key(path, "action");
	g_autofree char *ret_path = ck_json_path_key(path, "errnoRet");
	g_autofree char *args_path = ck_json_path_key(path, "args");
	gboolean repeated = FALSE;
	uint32_t action = 0;

	/* validate the whole entry first, even one that is skipped below */
	if (!ck_json_dispatch(entry, syscall_fields, &sc, path, CK_JSON_LENIENT, error) ||
	    !parse_action(sc.action, sc.errno_ret, action_path, ret_path, &action, error) ||
	    !parse_args(sc.args, args_path, conds, &repeated, error))
		return FALSE;
	if (action == s->default_action) {
		ck_log_debug("%s: same action as the default, skipped", path);
		return TRUE;
	}
	for (char **name = sc.names; *name != NULL; name++)
		if (!add_syscall_rules(s, *name, action, conds, repeated, path, error))
			return FALSE;
	return TRUE;
}

static gboolean add_syscalls(OciSeccomp *s, yajl_val syscalls, const char *path, GError **error)
{
	g_autofree char *base = ck_json_path_key(path, "syscalls");

	for (gsize i = 0; syscalls != NULL && i < syscalls->u.array.len; i++) {
		g_autofree char *p = ck_json_path_index(base, i);

		if (!add_syscall_entry(s, syscalls->u.array.values[i], p, error))
			return FALSE;
	}
	return TRUE;
}

static gboolean check_no_listener(const SeccompSpec *spec, const char *path, GError **error)
{
	const char *key = NULL;

	/* an empty string is how some generators write "absent" */
	if (spec->listener_path != NULL && *spec->listener_path != '\0')
		key = "listenerPath";
	else if (spec->listener_metadata != NULL && *spec->listener_metadata != '\0')
		key = "listenerMetadata";
	if (key == NULL)
		return TRUE;

	g_autofree char *p = ck_json_path_key(path, key);
	return ck_set_error(error, CK_ERROR_UNSUPPORTED, "%s: a seccomp listener is not supported", p);
}

OciSeccomp *oci_seccomp_compile(yajl_val seccomp, const char *path, const OciSeccompAbis *abis, GError **error)
{
	g_auto(SeccompSpec) spec = {.default_errno_ret = NO_RET};
	g_autofree char *action_path = ck_json_path_key(path, "defaultAction");
	g_autofree char *ret_path = ck_json_path_key(path, "defaultErrnoRet");
	g_autoptr(OciSeccomp) s = NULL;
	uint32_t default_action = 0;

	if (!ck_json_dispatch(seccomp, spec_fields, &spec, path, CK_JSON_LENIENT, error) ||
	    !check_no_listener(&spec, path, error) ||
	    !parse_action(spec.default_action, spec.default_errno_ret, action_path, ret_path, &default_action, error))
		return NULL;

	s = filter_new(default_action, spec.default_action, path, error);
	if (s == NULL)
		return NULL;
	s->abis = abis;
	if (!add_architectures(s, spec.architectures, path, error) || !set_flags(s, spec.flags, path, error) ||
	    !add_syscalls(s, spec.syscalls, path, error))
		return NULL;
	s->abis = NULL;
	return g_steal_pointer(&s);
}

/* --- using the filter ------------------------------------------------ */

static GString *read_from_start(int fd, GError **error)
{
	g_autoptr(GString) text = g_string_new(NULL);
	char buf[4096];
	ssize_t n;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return ck_set_error_errno(error, errno, "rewinding the seccomp export"), NULL;
	while ((n = ck_read_retry(fd, buf, sizeof buf)) > 0)
		g_string_append_len(text, buf, n);
	if (n < 0)
		return ck_set_error_errno(error, errno, "reading the seccomp export"), NULL;
	return g_steal_pointer(&text);
}

/* libseccomp's export `fn` into memory: a memfd rather than a pipe, as
 * the export may be larger than a pipe holds */
static GString *export(OciSeccomp *s, int (*fn)(const scmp_filter_ctx, int), GError **error)
{
	ck_autofd fd = memfd_create("seccomp-export", MFD_CLOEXEC);
	int rc;

	if (fd < 0)
		return ck_set_error_errno(error, errno, "memfd_create"), NULL;
	rc = fn(s->ctx, fd);
	if (rc < 0)
		return ck_set_error_errno(error, -rc, "exporting the seccomp filter"), NULL;
	return read_from_start(fd, error);
}

char *oci_seccomp_export_pfc(OciSeccomp *s, GError **error)
{
	GString *text = export(s, seccomp_export_pfc, error);

	return text != NULL ? g_string_free(text, FALSE) : NULL;
}

/* The profile's flags as seccomp(2) takes them: libseccomp's own
 * translation when it loads a filter. */
static gboolean load_flags(OciSeccomp *s, guint *out, GError **error)
{
	*out = 0;
	for (gsize i = 0; i < G_N_ELEMENTS(flag_names); i++) {
		uint32_t on = 0;
		int rc = seccomp_attr_get(s->ctx, flag_names[i].attr, &on);
		if (rc < 0)
			return ck_set_error_errno(error, -rc, "reading the seccomp filter's attributes");
		if (on)
			*out |= flag_names[i].load_flag;
	}
	return TRUE;
}

gboolean oci_seccomp_export_bpf(OciSeccomp *s, GBytes **out_program, guint *out_flags, GError **error)
{
	g_autoptr(GString) program = NULL;

	if (!load_flags(s, out_flags, error))
		return FALSE;
	program = export(s, seccomp_export_bpf, error);
	if (program == NULL)
		return FALSE;
	*out_program = g_string_free_to_bytes(g_steal_pointer(&program));
	return oci_seccomp_check_bpf(*out_program, *out_flags, "the exported filter", error);
}

gboolean oci_seccomp_check_bpf(GBytes *program, guint flags, const char *path, GError **error)
{
	gsize len = g_bytes_get_size(program);

	if (len == 0 || len % sizeof(struct sock_filter) != 0)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: %" G_GSIZE_FORMAT " bytes is not a whole number of "
				    "BPF instructions", path, len);
	if (len / sizeof(struct sock_filter) > OCI_SECCOMP_MAX_INSNS)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: %" G_GSIZE_FORMAT " instructions, more than the "
				    "kernel's %d", path, len / sizeof(struct sock_filter), OCI_SECCOMP_MAX_INSNS);
	if ((flags & ~(guint)OCI_SECCOMP_LOAD_FLAGS) != 0)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: unknown seccomp flags 0x%x", path,
				    flags & ~(guint)OCI_SECCOMP_LOAD_FLAGS);
	return TRUE;
}

gboolean oci_seccomp_load_bpf(GBytes *program, guint flags, GError **error)
{
	gsize len = 0;
	struct sock_fprog prog = {0};

	prog.filter = (struct sock_filter *)g_bytes_get_data(program, &len);
	prog.len = (unsigned short)(len / sizeof(struct sock_filter));
	long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
	if (rc < 0)
		return ck_set_error_errno(error, errno, "loading the seccomp filter");
	/* TSYNC: the id of a thread that could not take the filter */
	if (rc > 0)
		return ck_set_error(error, CK_ERROR_FAILED, "loading the seccomp filter: thread %ld could not be "
				    "synchronized", rc);
	return TRUE;
}

void oci_seccomp_free(OciSeccomp *s)
{
	if (s == NULL)
		return;
	if (s->ctx != NULL)
		seccomp_release(s->ctx);
	g_free(s);
}
