/* pod-net: the pod's network namespace carried into its VM ("tcfilter").
 *
 * pod_net_setup() enters the pod's network namespace on the calling thread
 * (and returns to the caller's before it returns), reads every interface
 * but lo with libnl-route-3 (kind, MAC, MTU, addresses, main-table
 * routes), creates one tap device per interface (tap<N>_kata, the
 * interface's MTU, up), and joins tap and interface by an ingress qdisc on
 * each and a u32 match-all filter with a mirred egress redirect to the
 * other, both ways (Kata's tcfilter). The tap fds stay open here: QEMU
 * gets them (-netdev tap,fd=N), so it needs no network privileges.
 *
 * Before anything is created, what will be created is recorded in a file
 * of the pod's directory, so that pod_net_teardown_recorded() (vmctl
 * delete after a kill -9 of the pod monitor) removes exactly the taps,
 * qdiscs and filters of this module and never the CNI's interfaces or
 * addresses. On any failure nothing is left. Everything is described in
 * docs/networking.md.
 */
#pragma once

#include <glib.h>

#include "base/ck-json.h"
#include "proto/ck-ops.h"

G_BEGIN_DECLS

/* The guest's bounds of setup_network (proto/ck-ops.h). */
#define POD_NET_MAX_IFACES CK_NET_MAX_IFACES
#define POD_NET_MAX_ADDRS CK_NET_MAX_ADDRS   /* per interface */
#define POD_NET_MAX_ROUTES CK_NET_MAX_ROUTES /* per pod */
#define POD_NET_RECORD "network.json"

typedef struct PodNet PodNet;

/* Opens `path` and checks that it is a network namespace; returns the fd
 * (O_CLOEXEC) or -1 with an error naming the path. */
int pod_net_open_netns(const char *path, GError **error);

/* Carries the namespace at netns_path into the VM to be; records what it
 * creates in record_path. An interface that cannot be carried fails with
 * its name and the reason. */
PodNet *pod_net_setup(const char *netns_path, const char *record_path, GError **error);

guint pod_net_count(const PodNet *net);
/* The tap fd of interface i (owned by the PodNet) and its MAC
 * ("aa:bb:cc:dd:ee:ff"), which the guest NIC gets. */
int pod_net_tap_fd(const PodNet *net, guint i);
const char *pod_net_mac(const PodNet *net, guint i);

/* The setup_network request (docs/protocol.md) for the pod's interfaces
 * and routes; its strings are borrowed from net, so it is freed with
 * pod_net_request_clear(), not ck_msg_clear_args(). */
void pod_net_request(const PodNet *net, CkSetupNetworkArgs *out);
void pod_net_request_clear(CkSetupNetworkArgs *req);

/* One line for the log: "eth0 (tap0_kata, 02:..., mtu 1400, 192.0.2.2/24)". */
char *pod_net_describe(const PodNet *net);

/* Closes the taps, removes the filters, qdiscs and taps and the record.
 * Idempotent; a namespace that is gone is not an error. */
gboolean pod_net_teardown(PodNet *net, GError **error);
void pod_net_free(PodNet *net);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PodNet, pod_net_free)

/* For a pod whose monitor died: undoes what record_path lists. A missing
 * record or namespace is nothing to do. */
gboolean pod_net_teardown_recorded(const char *record_path, GError **error);

G_END_DECLS
