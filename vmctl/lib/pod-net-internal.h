/* pod-net-internal: what pod-net.c and pod-net-scan.c share. */
#pragma once

#include <net/if.h>

#include <glib.h>
#include <netlink/netlink.h>

G_BEGIN_DECLS

typedef struct {
	char *name;
	int ifindex;
	char mac[18]; /* "aa:bb:cc:dd:ee:ff" */
	guint32 mtu;
	GPtrArray *addrs; /* "address/prefix" strings */
	char tap[IFNAMSIZ];
	int tap_ifindex;
	int tap_fd;
	gboolean iface_qdisc; /* its ingress qdisc was added by us */
} PodNetIface;

typedef struct {
	char *dest;	    /* "address/prefix", "0.0.0.0/0" or "::/0" for default */
	char *gateway;	    /* NULL: a device route */
	char *source;	    /* preferred source, NULL for none */
	const char *device; /* the PodNetIface's name (borrowed) */
	guint32 metric;
	gboolean onlink;
} PodNetRoute;

struct PodNet {
	char *netns_path;
	int netns_fd;
	char *record_path;
	GPtrArray *ifaces; /* PodNetIface* */
	GPtrArray *routes; /* PodNetRoute* */
};

/* Reads the interfaces (but lo), their addresses and the main-table routes
 * of the namespace `sock` belongs to into net->ifaces and net->routes. */
gboolean pod_net_scan(struct nl_sock *sock, struct PodNet *net, GError **error);

void pod_net_iface_free(gpointer p);
void pod_net_route_free(gpointer p);

G_END_DECLS
