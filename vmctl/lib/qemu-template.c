/* qemu-template: template folders, keys and locks (qemu-template.h). */
#include "qemu-template.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"

#define KEY_MAX (64 * 1024)
#define INFO_MAX (64 * 1024)
#define LOCK_POLL_US 20000

void qemu_template_clear(QemuTemplate *t)
{
	g_free(t->root);
	g_free(t->key);
	g_free(t->key_text);
	g_free(t->dir);
	g_free(t->memory);
	g_free(t->state);
	memset(t, 0, sizeof *t);
}

char *qemu_template_root(const CkConfig *cfg, const char *state_root)
{
	if (cfg->factory.template_path != NULL && *cfg->factory.template_path != '\0')
		return g_strdup(cfg->factory.template_path);
	return g_build_filename(state_root, "factory", NULL);
}

/* A file's identity: replaced or rewritten, it changes. */
static gboolean add_file(GString *s, const char *name, const char *path, GError **error)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return ck_set_error_errno(error, errno, "VM template: %s %s", name, path);
	g_string_append_printf(s, "%s %s %ju:%ju %jd %jd.%09ld\n", name, path, (uintmax_t)st.st_dev,
			       (uintmax_t)st.st_ino, (intmax_t)st.st_size, (intmax_t)st.st_mtim.tv_sec,
			       st.st_mtim.tv_nsec);
	return TRUE;
}

static char *key_text(const VmSpec *spec, GError **error)
{
	g_autoptr(GString) s = g_string_new(NULL);
	g_autofree char *cmdline = qemu_kernel_cmdline(spec, error);

	if (cmdline == NULL)
		return NULL;
	g_string_append_printf(s, "format %d\n", QEMU_TEMPLATE_FORMAT);
	if (!add_file(s, "qemu", spec->qemu_path, error) || !add_file(s, "kernel", spec->kernel, error) ||
	    !add_file(s, "initrd", spec->initrd, error))
		return NULL;
	g_string_append_printf(s, "machine %s\naccel %s\n", spec->machine_type, ck_accel_to_string(spec->accel));
	g_string_append_printf(s, "vcpus %d of %d\nmemory %u MiB, %u slots up to %u MiB\n", spec->vcpus,
			       spec->maxvcpus, spec->memory_mib, spec->memory_slots, spec->maxmemory_mib);
	g_string_append_printf(s, "cmdline %s\nshare %s\n", cmdline, spec->share_dir != NULL ? "9p" : "none");
	return g_string_free(g_steal_pointer(&s), FALSE);
}

gboolean qemu_template_on_tmpfs(const char *root)
{
	struct statfs fs;
	g_autofree char *parent = g_path_get_dirname(root);

	return (statfs(root, &fs) == 0 || statfs(parent, &fs) == 0) && fs.f_type == TMPFS_MAGIC;
}

gboolean qemu_template_init(QemuTemplate *t, const CkConfig *cfg, const char *state_root, const VmSpec *spec,
			    GError **error)
{
	if (spec->agent_channel != CK_AGENT_CHANNEL_VIRTIO_SERIAL)
		return ck_set_error(error, CK_ERROR_UNSUPPORTED,
				    "VM template: not with agent_channel = \"vsock\" (a clone keeps the template's CID)");
	t->root = qemu_template_root(cfg, state_root);
	if (!ck_mkdir_p(t->root, 0700, error))
		return FALSE;
	t->key_text = key_text(spec, error);
	if (t->key_text == NULL)
		return FALSE;
	t->key = g_compute_checksum_for_string(G_CHECKSUM_SHA256, t->key_text, -1);
	t->dir = g_build_filename(t->root, t->key, NULL);
	t->memory = g_build_filename(t->dir, "memory", NULL);
	t->state = g_build_filename(t->dir, "state", NULL);
	return TRUE;
}

gboolean qemu_template_is_ready(const QemuTemplate *t)
{
	g_autofree char *path = g_build_filename(t->dir, "key", NULL);
	g_autofree char *text = NULL;

	return ck_file_read_bounded(path, KEY_MAX, &text, NULL, NULL) && g_str_equal(text, t->key_text) &&
	       g_file_test(t->memory, G_FILE_TEST_IS_REGULAR) && g_file_test(t->state, G_FILE_TEST_IS_REGULAR);
}

int qemu_template_lock(const QemuTemplate *t, int timeout_ms, GError **error)
{
	g_autofree char *path = g_strdup_printf("%s.lock", t->dir);
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
	ck_autofd fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return ck_set_error_errno(error, errno, "VM template: %s", path), -1;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR)
			return ck_set_error_errno(error, errno, "VM template: lock %s", path), -1;
		if (ck_deadline_remaining_ms(deadline) == 0)
			return ck_set_error(error, CK_ERROR_TIMEOUT,
					    "VM template: another process held %s for %d ms", path, timeout_ms),
			       -1;
		g_usleep(LOCK_POLL_US);
	}
	return ck_steal_fd(&fd);
}

static gboolean create_file(const char *path, off_t size, int *out_fd, GError **error)
{
	ck_autofd fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0 || (size > 0 && ftruncate(fd, size) < 0))
		return ck_set_error_errno(error, errno, "VM template: %s", path);
	if (out_fd != NULL)
		*out_fd = ck_steal_fd(&fd);
	return TRUE;
}

char *qemu_template_begin(const QemuTemplate *t, guint32 memory_mib, int *out_state_fd, GError **error)
{
	g_autofree char *dir = g_strdup_printf("%s/.new-%s-%d", t->root, t->key, (int)getpid());
	g_autofree char *memory = g_build_filename(dir, "memory", NULL);
	g_autofree char *state = g_build_filename(dir, "state", NULL);
	g_autofree char *share = g_build_filename(dir, "share", NULL);

	(void)ck_rm_rf(dir, NULL);
	if (mkdir(dir, 0700) < 0)
		return ck_set_error_errno(error, errno, "VM template: %s", dir), NULL;
	if (!create_file(memory, (off_t)memory_mib * 1024 * 1024, NULL, error) ||
	    !create_file(state, 0, out_state_fd, error) || !ck_mkdir_p(share, 0700, error)) {
		(void)ck_rm_rf(dir, NULL);
		return NULL;
	}
	return g_steal_pointer(&dir);
}

gboolean qemu_template_commit(const QemuTemplate *t, const char *new_dir, gint64 create_us, GError **error)
{
	g_autofree char *key = g_build_filename(new_dir, "key", NULL);
	g_autofree char *info_path = g_build_filename(new_dir, "info.json", NULL);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *when = g_date_time_format_iso8601(now);
	g_autofree char *info = g_strdup_printf("{\"created\": \"%s\", \"create_ms\": %" G_GINT64_FORMAT
						", \"creator_pid\": %d}\n",
						when, create_us / 1000, (int)getpid());

	if (!ck_file_write_atomic(info_path, info, strlen(info), 0600, FALSE, error) ||
	    !ck_file_write_atomic(key, t->key_text, strlen(t->key_text), 0600, FALSE, error))
		return FALSE;
	(void)qemu_template_discard(t, NULL);
	if (rename(new_dir, t->dir) < 0)
		return ck_set_error_errno(error, errno, "VM template: rename %s to %s", new_dir, t->dir);
	return TRUE;
}

gboolean qemu_template_discard(const QemuTemplate *t, GError **error)
{
	g_autofree char *gone = g_strdup_printf("%s/.gone-%s-%d", t->root, t->key, (int)getpid());

	if (rename(t->dir, gone) < 0)
		return errno == ENOENT || ck_set_error_errno(error, errno, "VM template: remove %s", t->dir);
	return ck_rm_rf(gone, error);
}

void qemu_template_entry_free(QemuTemplateEntry *e)
{
	if (e == NULL)
		return;
	g_free(e->key);
	g_free(e->info);
	g_free(e);
}

static QemuTemplateEntry *read_entry(const char *root, const char *name, const char *current_key)
{
	QemuTemplateEntry *e = g_new0(QemuTemplateEntry, 1);
	g_autofree char *key = g_build_filename(root, name, "key", NULL);
	g_autofree char *info = g_build_filename(root, name, "info.json", NULL);
	g_autofree char *memory = g_build_filename(root, name, "memory", NULL);
	struct stat st;

	e->key = g_strdup(name);
	e->complete = g_file_test(key, G_FILE_TEST_IS_REGULAR);
	e->current = current_key != NULL && g_str_equal(name, current_key) && e->complete;
	if (stat(memory, &st) == 0)
		e->memory_kib = (guint64)st.st_blocks / 2;
	if (ck_file_read_bounded(info, INFO_MAX, &e->info, NULL, NULL))
		g_strstrip(e->info);
	return e;
}

GPtrArray *qemu_template_list(const char *root, const char *current_key, GError **error)
{
	g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)qemu_template_entry_free);
	g_autoptr(GError) local = NULL;
	g_autoptr(GDir) dir = g_dir_open(root, 0, &local);
	const char *name;

	if (dir == NULL) {
		if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			return g_steal_pointer(&list);
		return ck_set_error(error, CK_ERROR_FAILED, "VM templates: %s", local->message), NULL;
	}
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(root, name, NULL);
		if (name[0] != '.' && g_file_test(path, G_FILE_TEST_IS_DIR))
			g_ptr_array_add(list, read_entry(root, name, current_key));
	}
	return g_steal_pointer(&list);
}

gboolean qemu_template_destroy_all(const char *root, GError **error)
{
	return ck_rm_rf(root, error);
}
