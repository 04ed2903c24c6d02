/* guest-init: bringing the guest up as PID 1, before any request is served.
 *
 * Mounts the pseudo filesystems, loads the kernel modules listed in the
 * initrd's /lib/modules/load-order with finit_module(2), reads the agent's
 * settings from the kernel command line, and opens the channel to the
 * host. Nothing here depends on the host having connected yet.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define AGENT_MODULE_LIST "/lib/modules/load-order"
#define AGENT_PORT_NAME "agent.channel.0"
#define AGENT_VSOCK_PORT 1024

typedef enum {
	AGENT_CHANNEL_SERIAL,
	AGENT_CHANNEL_VSOCK,
} AgentChannelKind;

/* Settings from the kernel command line (agent.* parameters). */
typedef struct {
	gboolean debug;		 /* agent.log=debug */
	AgentChannelKind channel; /* agent.channel=virtio-serial|vsock */
	guint32 vsock_port;	 /* agent.port=N */
} AgentSettings;

/* Parses a kernel command line (the content of /proc/cmdline). Unknown
 * agent.* parameters are logged and ignored: an older agent must boot with
 * a newer host. */
void guest_parse_cmdline(const char *cmdline, AgentSettings *out);

/* Mounts /proc, /sys, /dev, /dev/pts, /dev/shm, /run, /tmp and cgroup2
 * (as PID 1 only), and makes sure fds 0-2 point at the console. */
gboolean guest_mount_basics(GError **error);

/* What of the initramfs survives guest_switch_root(): the image's /usr,
 * where its guest hooks live (/usr/share/oci/hooks, build-image.sh
 * --hooks). */
#define GUEST_KEPT_TREE "/usr"

/* Moves the root from the initramfs to a fresh tmpfs (copying
 * GUEST_KEPT_TREE over) and frees the initramfs's files. pivot_root(2),
 * which every container needs, refuses to work while the initramfs is the
 * root. */
gboolean guest_switch_root(GError **error);

/* Brings up "lo": containers share the VM's network namespace. */
gboolean guest_loopback_up(GError **error);

/* Sets the smallest block of free pages reported to the host (virtio-balloon
 * free page reporting); nothing when the kernel has no page reporting. */
void guest_report_free_pages(void);

/* Loads every module of `list_path` in order. A module that is already
 * loaded or built in is fine; any other failure is an error naming it. */
gboolean guest_load_modules(const char *list_path, guint *out_loaded, GError **error);

/* Opens the channel to the host: the virtio-serial port named
 * AGENT_PORT_NAME (waiting up to timeout_ms for it to appear), or a
 * listening vsock socket's first connection. Returns the fd. */
int guest_open_channel(const AgentSettings *settings, int timeout_ms, GError **error);

/* Microseconds since boot (CLOCK_BOOTTIME). */
gint64 guest_uptime_us(void);

/* sync(2) and power off; never returns. */
G_NORETURN void guest_poweroff(void);

G_END_DECLS
