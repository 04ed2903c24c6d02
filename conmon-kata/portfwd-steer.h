/* portfwd-steer: every TCP connection to the loopback address of a network
 * namespace, whatever its port, steered to one listening socket of ours.
 *
 * In the pod's network namespace (docs/port-forward.md) it creates a
 * listening TCP socket on 127.0.0.1 (and one on ::1 when the namespace
 * has IPv6) and attaches a BPF_PROG_TYPE_SK_LOOKUP program (Linux 5.9)
 * through a BPF link on the namespace. For every new connection to
 * 127.0.0.1 or ::1 the program picks our listener from a SOCKMAP, so the
 * kernel hands it the connection as if we listened on that port; the
 * accepted socket's own address (getsockname) is the one the client
 * dialled. The program is a dozen instructions assembled here, loaded
 * with bpf(2): no libbpf, no compiler, no pinned object.
 *
 * Nothing outlives the fds: the link detaches when its last fd closes,
 * which is also what a killed monitor does, and a namespace that goes
 * away detaches it too. No fd here survives an exec (all CLOEXEC).
 */
#pragma once

#include <linux/bpf.h>

#include <glib.h>

G_BEGIN_DECLS

typedef struct PortSteer PortSteer;

/* The sockmap's keys, which are also the listeners' indexes. */
typedef enum {
	PORT_STEER_IPV4 = 0,
	PORT_STEER_IPV6 = 1,
	PORT_STEER_FAMILIES,
} PortSteerFamily;

/* The program's size: port_steer_assemble() needs this many slots. */
#define PORT_STEER_PROG_MAX 40

/* Opens the listeners inside the namespace at netns_path and attaches the
 * program. Errors name the step (netns, socket, bpf map, program, link)
 * and keep the errno: EPERM when the caller lacks CAP_BPF and
 * CAP_NET_ADMIN, EINVAL on a kernel without sk_lookup. */
PortSteer *port_steer_new(const char *netns_path, GError **error);

/* The listener of a family (non-blocking, CLOEXEC), -1 when there is none
 * (a namespace without IPv6). Owned by the steer. */
int port_steer_listener(PortSteer *steer, PortSteerFamily family);

/* Detaches the program and closes everything. */
void port_steer_free(PortSteer *steer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PortSteer, port_steer_free)

/* The program, for a sockmap fd: writes it to out (PORT_STEER_PROG_MAX
 * slots) and returns the number of instructions. Exposed for the unit
 * test. */
gsize port_steer_assemble(struct bpf_insn *out, int map_fd);

G_END_DECLS
