/* vmctl exec: runc's exec. The process comes from --process or is built
 * from the container's spec and the flags (as runc builds it); `conmon-kata
 * --shim` runs it in the guest: detached, it stays as the stand-in;
 * in the foreground, it replaces this process. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "base/ck-parse.h"
#include "oci/oci-spec.h"
#include "vmctl.h"

typedef struct {
	char *process;
	char *cwd;
	char **env;
	char *user;
	char **caps;
	char **groups;
	gboolean tty, detach, no_new_privs;
	char *pid_file;
	char *console;
	int preserve;
	char *label, *apparmor, *cgroup;
	gboolean ignore_paused;
} ExecOpts;

static void exec_opts_clear(ExecOpts *o)
{
	g_free(o->process);
	g_free(o->cwd);
	g_strfreev(o->env);
	g_free(o->user);
	g_strfreev(o->caps);
	g_strfreev(o->groups);
	g_free(o->pid_file);
	g_free(o->console);
	g_free(o->label);
	g_free(o->apparmor);
	g_free(o->cgroup);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(ExecOpts, exec_opts_clear)

static char **append_strv(char **base, char **more)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new();

	for (char **b = base; b != NULL && *b != NULL; b++)
		g_ptr_array_add(out, g_strdup(*b));
	for (char **m = more; m != NULL && *m != NULL; m++)
		g_ptr_array_add(out, g_strdup(*m));
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

/* One number of --user uid[:gid]: runc takes numbers only (there is no
 * /etc/passwd lookup), and refuses anything else in Go's words. */
static gboolean parse_user_id(const char *text, const char *what, guint32 *out, GError **error)
{
	guint64 v;

	if (!ck_parse_uint64(text, what, G_MAXUINT32, &v, NULL))
		return ck_set_error(error, CK_ERROR_INVALID,
				    "exec failed: parsing %s as int for %s failed: strconv.Atoi: parsing \"%s\": invalid syntax",
				    text, what, text);
	*out = (guint32)v;
	return TRUE;
}

static gboolean apply_user(OciProcess *p, const ExecOpts *o, GError **error)
{
	g_auto(GStrv) ug = o->user ? g_strsplit(o->user, ":", 2) : NULL;
	guint64 v;

	if (ug != NULL && (!parse_user_id(ug[0], "uid", &p->uid, error) ||
			   (ug[1] != NULL && !parse_user_id(ug[1], "gid", &p->gid, error))))
		return FALSE;
	for (char **g = o->groups; g != NULL && *g != NULL; g++) {
		if (!ck_parse_uint64(*g, "--additional-gids", G_MAXUINT32, &v, error))
			return FALSE;
		p->additional_gids = g_renew(guint32, p->additional_gids, p->n_additional_gids + 1);
		p->additional_gids[p->n_additional_gids++] = (guint32)v;
	}
	return TRUE;
}

/* runc builds an exec's process from the container's and the flags. */
static char *exec_process_from_flags(const ContainerState *st, const ExecOpts *o, char **args, GError **error)
{
	g_autofree char *path = g_build_filename(st->bundle, "config.json", NULL);
	g_autoptr(OciSpec) spec = oci_spec_load_file(path, error);

	if (spec == NULL)
		return NULL;
	OciProcess *p = &spec->process;
	g_strfreev(p->args);
	p->args = g_strdupv(args);
	p->terminal = o->tty;
	if (o->cwd != NULL) {
		g_free(p->cwd);
		p->cwd = g_strdup(o->cwd);
	}
	char **env = append_strv(p->env, o->env);
	g_strfreev(p->env);
	p->env = env;
	if (o->no_new_privs)
		p->no_new_privileges = TRUE;
	char ***sets[] = {&p->caps.bounding, &p->caps.effective, &p->caps.permitted};
	for (gsize i = 0; o->caps != NULL && i < G_N_ELEMENTS(sets); i++) {
		char **merged = append_strv(*sets[i], o->caps);
		g_strfreev(*sets[i]);
		*sets[i] = merged;
		p->has_caps = TRUE;
	}
	if (!apply_user(p, o, error))
		return NULL;
	return oci_process_to_json(p, NULL, error);
}

/* The process spec conmon-kata reads: --process, or the one built from
 * the flags, in a memfd the shim inherits (nothing is left on disk). */
static char *exec_process_file(const ContainerState *st, const ExecOpts *o, char **args, GError **error)
{
	if (o->process != NULL)
		return g_canonicalize_filename(o->process, NULL);
	if (args == NULL || args[0] == NULL)
		return ck_set_error(error, CK_ERROR_INVALID, "exec: a command or --process is required"), NULL;
	g_autofree char *json = exec_process_from_flags(st, o, args, error);
	if (json == NULL)
		return NULL;
	int fd = memfd_create("exec-process", 0);
	if (fd < 0 || !ck_write_all(fd, json, strlen(json)))
		return ck_set_error_errno(error, errno, "exec: write the process spec"), NULL;
	return g_strdup_printf("/proc/self/fd/%d", fd);
}

static gboolean parse_exec(int *argc, char ***argv, ExecOpts *o)
{
	GOptionEntry entries[] = {
		{"process", 'p', 0, G_OPTION_ARG_FILENAME, &o->process, "process.json to run", "FILE"},
		{"console-socket", 0, 0, G_OPTION_ARG_FILENAME, &o->console, "socket for the pty master", "PATH"},
		{"cwd", 0, 0, G_OPTION_ARG_STRING, &o->cwd, "working directory", "DIR"},
		{"env", 'e', 0, G_OPTION_ARG_STRING_ARRAY, &o->env, "environment variable", "KEY=VALUE"},
		{"tty", 't', 0, G_OPTION_ARG_NONE, &o->tty, "allocate a terminal", NULL},
		{"user", 'u', 0, G_OPTION_ARG_STRING, &o->user, "uid[:gid]", "UID[:GID]"},
		{"additional-gids", 'g', 0, G_OPTION_ARG_STRING_ARRAY, &o->groups, "additional gid", "GID"},
		{"process-label", 0, 0, G_OPTION_ARG_STRING, &o->label, "accepted, ignored (no LSM in the guest)", "L"},
		{"apparmor", 0, 0, G_OPTION_ARG_STRING, &o->apparmor, "accepted, ignored", "P"},
		{"detach", 'd', 0, G_OPTION_ARG_NONE, &o->detach, "detach from the process", NULL},
		{"pid-file", 0, 0, G_OPTION_ARG_FILENAME, &o->pid_file, "file to write the pid to", "FILE"},
		{"no-new-privs", 0, 0, G_OPTION_ARG_NONE, &o->no_new_privs, "set no_new_privileges", NULL},
		{"cap", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &o->caps, "add a capability", "CAP"},
		{"preserve-fds", 0, 0, G_OPTION_ARG_INT, &o->preserve, "not supported in a VM", "N"},
		{"cgroup", 0, 0, G_OPTION_ARG_STRING, &o->cgroup, "accepted, ignored", "PATH"},
		{"ignore-paused", 0, 0, G_OPTION_ARG_NONE, &o->ignore_paused, "accepted", NULL},
		{NULL},
	};
	g_autofree char *title = g_strdup("exec ID [COMMAND [ARG...]]");
	g_autoptr(GOptionContext) oc = g_option_context_new(title);
	g_autoptr(GError) error = NULL;

	/* options stop at the id: the command's own options are its own */
	g_option_context_set_strict_posix(oc, TRUE);
	g_option_context_add_main_entries(oc, entries, NULL);
	if (!g_option_context_parse(oc, argc, argv, &error)) {
		ck_log_error("exec: %s", error->message);
		return FALSE;
	}
	return TRUE;
}

int cmd_exec(VmctlContext *ctx, int argc, char **argv)
{
	g_auto(GStrv) orig = vmctl_copy_argv(argc, argv);
	g_auto(ExecOpts) o = {0};
	g_autoptr(GError) error = NULL;
	int status = 1;

	if (!parse_exec(&argc, &argv, &o))
		return 1;
	if (argc < 2) {
		ck_log_error("exec: expected a container id");
		return 1;
	}
	const char *id = argv[1];
	g_autoptr(ContainerState) st = vmctl_vm_or_delegate(ctx, id, orig, &status, &error);
	if (st == NULL)
		return error ? vmctl_fail(id, g_steal_pointer(&error)) : status;
	if (!g_str_equal(container_state_status(st, NULL), "running"))
		return vmctl_fail(id, g_error_new_literal(CK_ERROR, CK_ERROR_INVALID, "cannot exec in a stopped container"));
	g_autofree char *process = exec_process_file(st, &o, argv + 2, &error);
	if (process == NULL && g_str_has_prefix(error->message, "exec failed: ")) {
		vmctl_fail(NULL, g_steal_pointer(&error)); /* runc's words, and its status */
		return 255;
	}
	if (process == NULL)
		return vmctl_fail(id, g_steal_pointer(&error));

	g_autoptr(GPtrArray) args = g_ptr_array_new();
	g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func(g_free);
	vmctl_shim_args(ctx, args, owned, id);
	/* an exec session has no attach socket of its own; conmon's
	 * command line still wants a unique id for it */
	g_ptr_array_add(args, "-u");
	g_ptr_array_add(args, vmctl_owned(owned, g_uuid_string_random()));
	g_ptr_array_add(args, "-e");
	g_ptr_array_add(args, "--exec-process-spec");
	g_ptr_array_add(args, process);
	g_ptr_array_add(args, "-i");
	if (o.pid_file != NULL) {
		g_ptr_array_add(args, "-p");
		g_ptr_array_add(args, o.pid_file);
	}
	if (o.console != NULL) {
		g_ptr_array_add(args, "--console-socket");
		g_ptr_array_add(args, o.console);
	}
	/* the monitor's message names the container already; runc's exec
	 * exits 255 when the process cannot be started */
	if (o.detach)
		return vmctl_run_shim(ctx, args, TRUE, &error) ? 0 : (vmctl_fail(NULL, g_steal_pointer(&error)), 255);
	/* foreground: conmon-kata takes over this very process (its pid is
	 * ours), relays our stdio or terminal, and exits with the status */
	g_autofree char *monitor = vmctl_find_monitor();
	if (monitor == NULL)
		return vmctl_fail(id, g_error_new_literal(CK_ERROR, CK_ERROR_NOT_FOUND, "conmon-kata not found"));
	g_ptr_array_insert(args, 0, monitor);
	g_ptr_array_add(args, "--sync");
	g_ptr_array_add(args, NULL);
	execv(monitor, (char **)args->pdata);
	return vmctl_fail(id, g_error_new(CK_ERROR, CK_ERROR_FAILED, "run %s: %s", monitor, g_strerror(errno)));
}
