/* qemu-template: where VM templates live and which one a VM may use
 * (docs/templating.md).
 *
 * A template is a folder <templates>/<key>/ (templates: [factory]
 * template_path, or <runtime root>/factory) holding the guest's RAM as it
 * was once the agent answered (`memory`, on tmpfs), QEMU's saved device
 * state (`state`), what the key was made of (`key`, written last: a folder
 * without it is unfinished) and `info.json`; files 0600, folders 0700. The
 * key is a hash of everything that shapes the guest's memory and devices:
 * the QEMU binary, kernel and initrd (device, inode, size and modification
 * time), machine, accelerator, CPU model, vCPUs, memory and hot-plug
 * limits, the whole kernel command line, the agent channel and whether
 * there is a 9p share. A template is used only when its `key` file equals
 * the text it was derived from, so a change anywhere makes a new one and
 * an old one is never used. <templates>/<key>.lock serializes its making.
 */
#pragma once

#include <glib.h>

#include "config.h"
#include "qemu-cmdline.h"

G_BEGIN_DECLS

#define QEMU_TEMPLATE_FORMAT 1

typedef struct {
	char *root;	/* the templates' folder */
	char *key;	/* hex digest of key_text */
	char *key_text; /* what the key is made of, one "name value" a line */
	char *dir;	/* root/key */
	char *memory;	/* dir/memory */
	char *state;	/* dir/state */
} QemuTemplate;

void qemu_template_clear(QemuTemplate *t);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(QemuTemplate, qemu_template_clear)

/* The templates' folder for this configuration and runtime root. */
char *qemu_template_root(const CkConfig *cfg, const char *state_root);

/* Names the template a VM of `spec` (filled for a boot) would use.
 * Fails (CK_ERROR_UNSUPPORTED) for a VM that cannot come from a template:
 * a vsock agent channel (the guest keeps the template's CID). */
gboolean qemu_template_init(QemuTemplate *t, const CkConfig *cfg, const char *state_root, const VmSpec *spec,
			    GError **error);

/* TRUE when root is on tmpfs, where a template's memory should be: on a
 * disk filesystem it works the same but is written back to the disk. */
gboolean qemu_template_on_tmpfs(const char *root);

/* TRUE when the template exists, is complete and has this key. */
gboolean qemu_template_is_ready(const QemuTemplate *t);

/* Takes the template's lock (flock), waiting up to timeout_ms; returns
 * the fd to close, or -1. */
int qemu_template_lock(const QemuTemplate *t, int timeout_ms, GError **error);

/* A fresh folder to make the template in (root/.new-<key>-<pid>), with an
 * empty 0600 `memory` file of memory_mib and an empty 0600 `state` open
 * for writing (*out_state_fd). With the lock held. */
char *qemu_template_begin(const QemuTemplate *t, guint32 memory_mib, int *out_state_fd, GError **error);

/* Writes `key` and `info.json` into the new folder and renames it to
 * t->dir. With the lock held. */
gboolean qemu_template_commit(const QemuTemplate *t, const char *new_dir, gint64 create_us, GError **error);

/* Removes the template (its clones keep running: they map its memory
 * privately and hold the file open). With the lock held or not. */
gboolean qemu_template_discard(const QemuTemplate *t, GError **error);

/* One template found on disk, for `vmctl factory status` and `check`. */
typedef struct {
	char *key;
	gboolean complete;  /* has its key file */
	gboolean current;   /* the key this configuration makes now */
	guint64 memory_kib; /* memory the template holds on tmpfs */
	char *info;	    /* info.json, NULL if none */
} QemuTemplateEntry;

void qemu_template_entry_free(QemuTemplateEntry *e);

/* The templates under root (none when it does not exist). current_key
 * may be NULL. */
GPtrArray *qemu_template_list(const char *root, const char *current_key, GError **error);

/* Removes every template under root and the folder itself. */
gboolean qemu_template_destroy_all(const char *root, GError **error);

G_END_DECLS
