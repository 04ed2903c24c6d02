/* qemu-cmdline: resolved VM settings (VmSpec) into QEMU's argv.
 *
 * Pure: no I/O, no process state, so the exact argv is unit-tested. Values
 * that reach QEMU's option parser have commas doubled (QEMU's escaping);
 * values that cannot be made safe (control characters, a kernel command
 * line over the x86 limit, an out-of-range size) are refused with a
 * CK_ERROR_INVALID message naming the setting.
 */
#pragma once

#include <glib.h>

#include "config.h"

G_BEGIN_DECLS

/* x86 COMMAND_LINE_SIZE, including the terminating NUL */
#define QEMU_KERNEL_CMDLINE_MAX 2048

/* The 9p mount tag the agent mounts the shared folder from. */
#define QEMU_SHARE_TAG "kataShared"
#define QEMU_AGENT_PORT_NAME "agent.channel.0"

/* One guest NIC: a tap the launcher opened, as fd `fd` in QEMU. */
typedef struct {
	int fd;
	char mac[18]; /* "aa:bb:cc:dd:ee:ff" */
} VmNic;

#define QEMU_MAX_NICS 16
/* the memory backend object of the guest's boot RAM */
#define QEMU_RAM_BACKEND_ID "ram0"
/* TCG's translation buffer, MiB (-accel tcg,tb-size=) */
#define QEMU_TCG_TB_MIB 16

typedef struct {
	char *name;	    /* -name, e.g. the pod id */
	char *qemu_path;
	char *kernel;
	char *initrd;
	char *machine_type;
	CkAccel accel;	    /* CK_ACCEL_KVM or CK_ACCEL_TCG, never AUTO */
	int vcpus;
	int maxvcpus;
	guint32 memory_mib;
	guint32 memory_slots;  /* 0: no memory hot-plug */
	guint32 maxmemory_mib; /* with slots > 0 */
	char *kernel_params;   /* user's extra parameters */
	guint32 tsc_khz;       /* > 0: tsc_early_khz= (TCG: the host's TSC) */
	gboolean debug;	       /* verbose kernel, agent.log=debug */
	CkAgentChannel agent_channel;
	guint32 vsock_cid;     /* with CK_AGENT_CHANNEL_VSOCK */
	int agent_fd;	       /* fd number in QEMU of the agent socket (virtio-serial) */
	int qmp_fd;	       /* fd number in QEMU of the QMP socket */
	char *share_dir;       /* 9p export root, NULL for none */
	guint32 msize_9p;
	int console_fd;        /* fd number in QEMU of the serial console's pipe (console-log.h) */
	char *pidfile;	       /* NULL for none */
	char *extra_monitor;   /* operator socket path, NULL for none */
	int extra_monitor_fd;  /* > 2: that socket, already bound, as this fd in QEMU */
	gboolean extra_monitor_hmp;
	char *seccompsandbox;  /* -sandbox value, NULL or "" for none */
	VmNic nics[QEMU_MAX_NICS]; /* virtio-net-pci on tap fds */
	guint n_nics;
	/* VM templating (docs/templating.md): the boot RAM in this file
	 * instead of a memfd, mapped shared (the template writes it) or
	 * private (a clone: copy-on-write); NULL: a memfd */
	char *ram_file;
	gboolean ram_shared;
	gboolean incoming; /* -incoming defer: the state comes by migrate-incoming */
} VmSpec;

void vm_spec_clear(VmSpec *spec);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VmSpec, vm_spec_clear)

/* The guest kernel command line: our fixed parameters, the agent's, then
 * the user's (so a user value of the same name wins, as in Kata). */
char *qemu_kernel_cmdline(const VmSpec *spec, GError **error);

/* Builds argv (argv[0] is qemu_path). The GPtrArray owns its strings and
 * is NULL-terminated. */
GPtrArray *qemu_cmdline_build(const VmSpec *spec, GError **error);

/* Doubles commas, for a value inside a QEMU option string. Refuses control
 * characters (naming `what`). */
char *qemu_escape_value(const char *value, const char *what, GError **error);

G_END_DECLS
