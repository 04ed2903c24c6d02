/* pod-net-scan: the interfaces, addresses and routes of a pod's network
 * namespace, read with libnl-route-3 (see pod-net.h). */
#include "pod-net-internal.h"

#include <arpa/inet.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <unistd.h>

#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "base/ck-error.h"
#include "proto/ck-ops.h"

/* Kinds tcfilter can carry: anything Ethernet that is an endpoint of the
 * namespace (NULL: a device without a kind, e.g. a physical NIC moved in). */
static const char *const carried_kinds[] = {"veth", "macvlan", "ipvlan", "tun", "dummy", NULL};

void pod_net_iface_free(gpointer p)
{
	PodNetIface *iface = p;

	if (iface->tap_fd >= 0)
		close(iface->tap_fd);
	g_free(iface->name);
	g_ptr_array_unref(iface->addrs);
	g_free(iface);
}

void pod_net_route_free(gpointer p)
{
	PodNetRoute *r = p;

	g_free(r->dest);
	g_free(r->gateway);
	g_free(r->source);
	g_free(r);
}

static char *addr_to_string(struct nl_addr *a, gboolean with_prefix)
{
	char buf[INET6_ADDRSTRLEN];
	int family = nl_addr_get_family(a);
	unsigned need = family == AF_INET ? 4 : 16;

	if ((family != AF_INET && family != AF_INET6) || nl_addr_get_len(a) != need ||
	    inet_ntop(family, nl_addr_get_binary_addr(a), buf, sizeof buf) == NULL)
		return NULL;
	if (!with_prefix)
		return g_strdup(buf);
	return g_strdup_printf("%s/%u", buf, nl_addr_get_prefixlen(a));
}

static gboolean kind_carried(const char *kind)
{
	return kind == NULL || g_strv_contains(carried_kinds, kind);
}

static gboolean has_address(struct nl_cache *addrs, int ifindex)
{
	for (struct nl_object *o = nl_cache_get_first(addrs); o != NULL; o = nl_cache_get_next(o))
		if (rtnl_addr_get_ifindex((struct rtnl_addr *)o) == ifindex)
			return TRUE;
	return FALSE;
}

/* One link: carried, skipped (lo; a fallback tunnel the kernel puts in
 * every namespace, down and without addresses) or refused. */
static gboolean scan_link(struct rtnl_link *link, struct nl_cache *addrs, struct PodNet *net, GError **error)
{
	const char *name = rtnl_link_get_name(link);
	const char *kind = rtnl_link_get_type(link);
	unsigned flags = rtnl_link_get_flags(link);
	int ifindex = rtnl_link_get_ifindex(link);
	struct nl_addr *mac = rtnl_link_get_addr(link);

	if (flags & IFF_LOOPBACK)
		return TRUE;
	if (!(flags & IFF_UP) && !has_address(addrs, ifindex))
		return TRUE;
	if (rtnl_link_get_arptype(link) != ARPHRD_ETHER || mac == NULL || nl_addr_get_len(mac) != 6)
		return ck_set_error(error, CK_ERROR_UNSUPPORTED,
				    "network interface %s: cannot be carried into the VM: it has no MAC address "
				    "(kind %s)",
				    name, kind ? kind : "none");
	if (!kind_carried(kind))
		return ck_set_error(error, CK_ERROR_UNSUPPORTED,
				    "network interface %s: cannot be carried into the VM: kind %s is not supported",
				    name, kind);
	if (net->ifaces->len >= CK_NET_MAX_IFACES)
		return ck_set_error(error, CK_ERROR_UNSUPPORTED,
				    "network interface %s: more than %d interfaces in the namespace", name,
				    CK_NET_MAX_IFACES);

	const guint8 *m = nl_addr_get_binary_addr(mac);
	PodNetIface *iface = g_new0(PodNetIface, 1);
	iface->name = g_strdup(name);
	iface->ifindex = ifindex;
	iface->mtu = rtnl_link_get_mtu(link);
	iface->addrs = g_ptr_array_new_with_free_func(g_free);
	iface->tap_fd = -1;
	g_snprintf(iface->mac, sizeof iface->mac, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	g_ptr_array_add(net->ifaces, iface);
	return TRUE;
}

static PodNetIface *find_iface(struct PodNet *net, int ifindex)
{
	for (guint i = 0; i < net->ifaces->len; i++) {
		PodNetIface *iface = g_ptr_array_index(net->ifaces, i);
		if (iface->ifindex == ifindex)
			return iface;
	}
	return NULL;
}

/* IPv6 link-local addresses are left out: the guest kernel derives the
 * same one from the same MAC. */
static gboolean scan_addr(struct rtnl_addr *addr, struct PodNet *net, GError **error)
{
	PodNetIface *iface = find_iface(net, rtnl_addr_get_ifindex(addr));
	int family = rtnl_addr_get_family(addr);

	if (iface == NULL || (family != AF_INET && family != AF_INET6))
		return TRUE;
	if (family == AF_INET6 && rtnl_addr_get_scope(addr) == RT_SCOPE_LINK)
		return TRUE;
	g_autofree char *s = addr_to_string(rtnl_addr_get_local(addr), FALSE);
	if (s == NULL)
		return TRUE;
	if (iface->addrs->len >= CK_NET_MAX_ADDRS)
		return ck_set_error(error, CK_ERROR_UNSUPPORTED, "network interface %s: more than %d addresses",
				    iface->name, CK_NET_MAX_ADDRS);
	g_ptr_array_add(iface->addrs, g_strdup_printf("%s/%d", s, rtnl_addr_get_prefixlen(addr)));
	return TRUE;
}

static char *route_dest(struct rtnl_route *route)
{
	struct nl_addr *dst = rtnl_route_get_dst(route);

	if (dst == NULL || nl_addr_get_prefixlen(dst) == 0)
		return g_strdup(rtnl_route_get_family(route) == AF_INET ? "0.0.0.0/0" : "::/0");
	return addr_to_string(dst, TRUE);
}

/* Main-table unicast routes through a carried interface. The kernel's
 * own prefix routes (proto kernel) are left out: the guest kernel makes
 * them when the address is added. */
static gboolean scan_route(struct rtnl_route *route, struct PodNet *net, GError **error)
{
	int family = rtnl_route_get_family(route);

	if (rtnl_route_get_table(route) != RT_TABLE_MAIN || rtnl_route_get_type(route) != RTN_UNICAST ||
	    rtnl_route_get_protocol(route) == RTPROT_KERNEL || (rtnl_route_get_flags(route) & RTM_F_CLONED) ||
	    (family != AF_INET && family != AF_INET6))
		return TRUE;
	g_autofree char *dest = route_dest(route);
	if (rtnl_route_get_nnexthops(route) != 1)
		return ck_set_error(error, CK_ERROR_UNSUPPORTED,
				    "route %s: multipath routes cannot be carried into the VM", dest ? dest : "?");
	struct rtnl_nexthop *nh = rtnl_route_nexthop_n(route, 0);
	PodNetIface *iface = find_iface(net, rtnl_route_nh_get_ifindex(nh));
	if (iface == NULL || dest == NULL)
		return TRUE;
	if (net->routes->len >= CK_NET_MAX_ROUTES)
		return ck_set_error(error, CK_ERROR_UNSUPPORTED, "route %s: more than %d routes in the namespace", dest,
				    CK_NET_MAX_ROUTES);

	PodNetRoute *r = g_new0(PodNetRoute, 1);
	struct nl_addr *gw = rtnl_route_nh_get_gateway(nh), *src = rtnl_route_get_pref_src(route);
	r->dest = g_steal_pointer(&dest);
	r->gateway = gw != NULL ? addr_to_string(gw, FALSE) : NULL;
	r->source = src != NULL ? addr_to_string(src, FALSE) : NULL;
	r->device = iface->name;
	r->metric = rtnl_route_get_priority(route);
	r->onlink = (rtnl_route_nh_get_flags(nh) & RTNH_F_ONLINK) != 0;
	g_ptr_array_add(net->routes, r);
	return TRUE;
}

static gint by_ifindex(gconstpointer a, gconstpointer b)
{
	const PodNetIface *x = *(PodNetIface *const *)a, *y = *(PodNetIface *const *)b;
	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

/* Device routes first: a gateway must be reachable when its route is added. */
static gint device_routes_first(gconstpointer a, gconstpointer b)
{
	const PodNetRoute *x = *(PodNetRoute *const *)a, *y = *(PodNetRoute *const *)b;
	return (x->gateway != NULL) - (y->gateway != NULL);
}

static gboolean nl_failed(int err, const char *what, GError **error)
{
	return ck_set_error(error, CK_ERROR_FAILED, "network namespace: reading the %s: %s", what, nl_geterror(err));
}

gboolean pod_net_scan(struct nl_sock *sock, struct PodNet *net, GError **error)
{
	struct nl_cache *links = NULL, *addrs = NULL, *routes = NULL;
	gboolean ok = FALSE;
	int err;

	if ((err = rtnl_link_alloc_cache(sock, AF_UNSPEC, &links)) < 0)
		return nl_failed(err, "interfaces", error);
	if ((err = rtnl_addr_alloc_cache(sock, &addrs)) < 0) {
		nl_failed(err, "addresses", error);
		goto out;
	}
	if ((err = rtnl_route_alloc_cache(sock, AF_UNSPEC, 0, &routes)) < 0) {
		nl_failed(err, "routes", error);
		goto out;
	}
	for (struct nl_object *o = nl_cache_get_first(links); o != NULL; o = nl_cache_get_next(o))
		if (!scan_link((struct rtnl_link *)o, addrs, net, error))
			goto out;
	g_ptr_array_sort(net->ifaces, by_ifindex);
	for (struct nl_object *o = nl_cache_get_first(addrs); o != NULL; o = nl_cache_get_next(o))
		if (!scan_addr((struct rtnl_addr *)o, net, error))
			goto out;
	for (struct nl_object *o = nl_cache_get_first(routes); o != NULL; o = nl_cache_get_next(o))
		if (!scan_route((struct rtnl_route *)o, net, error))
			goto out;
	g_ptr_array_sort(net->routes, device_routes_first);
	ok = TRUE;
out:
	if (routes != NULL)
		nl_cache_free(routes);
	if (addrs != NULL)
		nl_cache_free(addrs);
	nl_cache_free(links);
	return ok;
}
