/* pod-net: taps, tc redirect filters, record and teardown (see pod-net.h). */
#include "pod-net-internal.h"
#include "pod-net.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <linux/pkt_cls.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <netlink/route/act/mirred.h>
#include <netlink/route/action.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/tc.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-log.h"
#include "base/ck-netns.h"

/* ffff: (the ingress qdisc). Unsigned: libnl's TC_HANDLE shifts its major
 * left by 16, which for 0xffff as an int overflows (undefined behaviour). */
#define INGRESS_HANDLE TC_HANDLE(0xffffU, 0U)
#define RECORD_MAX_BYTES (64 * 1024)

int pod_net_open_netns(const char *path, GError **error)
{
	struct statfs fs;
	ck_autofd fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ck_set_error_errno(error, errno, "network namespace %s", path), -1;
	if (fstatfs(fd, &fs) < 0 || fs.f_type != NSFS_MAGIC || ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET)
		return ck_set_error(error, CK_ERROR_INVALID, "network namespace %s: not a network namespace", path), -1;
	return ck_steal_fd(&fd);
}

static struct nl_sock *route_socket(GError **error)
{
	struct nl_sock *sock = nl_socket_alloc();
	int err;

	if (sock == NULL)
		return ck_set_error(error, CK_ERROR_FAILED, "netlink: out of memory"), NULL;
	if ((err = nl_connect(sock, NETLINK_ROUTE)) < 0) {
		nl_socket_free(sock);
		return ck_set_error(error, CK_ERROR_FAILED, "netlink: %s", nl_geterror(err)), NULL;
	}
	return sock;
}

/* --- taps and tc -------------------------------------------------------------------- */

static gboolean nl_error(int err, GError **error, const char *fmt, const char *name)
{
	g_autofree char *what = g_strdup_printf(fmt, name);
	return ck_set_error(error, CK_ERROR_FAILED, "%s: %s", what, nl_geterror(err));
}

static gboolean link_exists(struct nl_sock *sock, const char *name)
{
	struct rtnl_link *link = NULL;

	if (rtnl_link_get_kernel(sock, 0, name, &link) < 0)
		return FALSE;
	rtnl_link_put(link);
	return TRUE;
}

static gboolean tap_open(struct nl_sock *sock, PodNetIface *iface, GError **error)
{
	struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
	struct rtnl_link *link = NULL;
	int err;

	if (link_exists(sock, iface->tap))
		return ck_set_error(error, CK_ERROR_EXISTS, "network interface %s: %s already exists", iface->name,
				    iface->tap);
	g_strlcpy(ifr.ifr_name, iface->tap, sizeof ifr.ifr_name);
	iface->tap_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (iface->tap_fd < 0)
		return ck_set_error_errno(error, errno, "/dev/net/tun");
	if (ioctl(iface->tap_fd, TUNSETIFF, &ifr) < 0)
		return ck_set_error_errno(error, errno, "network interface %s: create %s", iface->name, iface->tap);
	if ((err = rtnl_link_get_kernel(sock, 0, iface->tap, &link)) < 0)
		return nl_error(err, error, "find %s", iface->tap);
	struct rtnl_link *change = rtnl_link_alloc();
	rtnl_link_set_mtu(change, iface->mtu);
	rtnl_link_set_flags(change, IFF_UP);
	err = rtnl_link_change(sock, link, change, 0);
	iface->tap_ifindex = rtnl_link_get_ifindex(link);
	rtnl_link_put(change);
	rtnl_link_put(link);
	if (err < 0)
		return nl_error(err, error, "set the MTU of %s and bring it up", iface->tap);
	return TRUE;
}

static struct rtnl_qdisc *ingress_qdisc(int ifindex)
{
	struct rtnl_qdisc *q = rtnl_qdisc_alloc();

	rtnl_tc_set_ifindex(TC_CAST(q), ifindex);
	rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
	rtnl_tc_set_handle(TC_CAST(q), INGRESS_HANDLE);
	rtnl_tc_set_kind(TC_CAST(q), "ingress");
	return q;
}

static int ingress_add(struct nl_sock *sock, int ifindex)
{
	struct rtnl_qdisc *q = ingress_qdisc(ifindex);
	int err = rtnl_qdisc_add(sock, q, NLM_F_CREATE | NLM_F_EXCL);

	rtnl_qdisc_put(q);
	return err;
}

/* Removing the ingress qdisc removes its filters with it. */
static int ingress_del(struct nl_sock *sock, int ifindex)
{
	struct rtnl_qdisc *q = ingress_qdisc(ifindex);
	int err = rtnl_qdisc_delete(sock, q);

	rtnl_qdisc_put(q);
	return err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV || err == -NLE_INVAL ? 0 : err;
}

/* tc filter add dev FROM ingress protocol all u32 match u32 0 0
 *   action mirred egress redirect dev TO */
static int redirect_add(struct nl_sock *sock, int from, int to)
{
	struct rtnl_cls *cls = rtnl_cls_alloc();
	struct rtnl_act *act = rtnl_act_alloc();
	int err;

	rtnl_tc_set_ifindex(TC_CAST(cls), from);
	rtnl_tc_set_parent(TC_CAST(cls), INGRESS_HANDLE);
	rtnl_tc_set_kind(TC_CAST(cls), "u32");
	rtnl_cls_set_protocol(cls, ETH_P_ALL);
	rtnl_cls_set_prio(cls, 1);
	rtnl_tc_set_kind(TC_CAST(act), "mirred");
	rtnl_mirred_set_action(act, TCA_EGRESS_REDIR);
	rtnl_mirred_set_policy(act, TC_ACT_STOLEN);
	rtnl_mirred_set_ifindex(act, to);
	if ((err = rtnl_u32_add_key_uint32(cls, 0, 0, 0, 0)) >= 0 && (err = rtnl_u32_set_cls_terminal(cls)) >= 0 &&
	    (err = rtnl_u32_add_action(cls, act)) >= 0)
		err = rtnl_cls_add(sock, cls, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_act_put(act);
	rtnl_cls_put(cls);
	return err;
}

static gboolean join(struct nl_sock *sock, PodNetIface *iface, GError **error)
{
	int err = ingress_add(sock, iface->ifindex);

	if (err == -NLE_EXIST)
		return ck_set_error(
		    error, CK_ERROR_EXISTS,
		    "network interface %s: cannot be carried into the VM: it already has an ingress qdisc",
		    iface->name);
	if (err < 0)
		return nl_error(err, error, "network interface %s: add the ingress qdisc", iface->name);
	iface->iface_qdisc = TRUE;
	if ((err = ingress_add(sock, iface->tap_ifindex)) < 0)
		return nl_error(err, error, "add the ingress qdisc of %s", iface->tap);
	if ((err = redirect_add(sock, iface->ifindex, iface->tap_ifindex)) < 0)
		return nl_error(err, error, "network interface %s: add the redirect filter", iface->name);
	if ((err = redirect_add(sock, iface->tap_ifindex, iface->ifindex)) < 0)
		return nl_error(err, error, "add the redirect filter of %s", iface->tap);
	return TRUE;
}

/* --- the record --------------------------------------------------------------------- */

static gboolean record_write(const PodNet *net, GError **error)
{
	g_autoptr(CkJsonGen) g = ck_json_gen_new();
	struct stat st;
	gsize len = 0;

	if (fstat(net->netns_fd, &st) < 0)
		return ck_set_error_errno(error, errno, "network namespace %s", net->netns_path);
	ck_json_map_open(g);
	ck_json_kv_string(g, "netns", net->netns_path);
	ck_json_kv_int(g, "netns_dev", (gint64)st.st_dev);
	ck_json_kv_int(g, "netns_ino", (gint64)st.st_ino);
	ck_json_key(g, "interfaces");
	ck_json_array_open(g);
	for (guint i = 0; i < net->ifaces->len; i++) {
		const PodNetIface *iface = g_ptr_array_index(net->ifaces, i);
		ck_json_map_open(g);
		ck_json_kv_string(g, "name", iface->name);
		ck_json_kv_int(g, "ifindex", iface->ifindex);
		ck_json_kv_string(g, "tap", iface->tap);
		ck_json_map_close(g);
	}
	ck_json_close_all(g);
	g_autofree char *doc = ck_json_gen_finish(g, &len, error);
	return doc != NULL && ck_file_write_atomic(net->record_path, doc, len, 0600, TRUE, error);
}

typedef struct {
	const char *name;
	int ifindex;
	const char *tap;
	gboolean iface_qdisc; /* the interface's ingress qdisc is ours */
} UndoItem;

/* Undoes one interface's share: the tap (if still there and ours) and the
 * interface's ingress qdisc (if we added it and the interface is still the
 * one we saw). */
static int undo_iface(struct nl_sock *sock, const UndoItem *item)
{
	const char *tap = item->tap, *name = item->name;
	int ifindex = item->ifindex;
	struct rtnl_link *link = NULL;
	int err = 0;

	if (rtnl_link_get_kernel(sock, 0, tap, &link) >= 0) {
		if (g_strcmp0(rtnl_link_get_type(link), "tun") == 0) {
			err = ingress_del(sock, rtnl_link_get_ifindex(link));
			int e = rtnl_link_delete(sock, link);
			if (err == 0 && e != -NLE_OBJ_NOTFOUND && e != -NLE_NODEV)
				err = e;
		}
		rtnl_link_put(link);
	}
	if (item->iface_qdisc && rtnl_link_get_kernel(sock, ifindex, NULL, &link) >= 0) {
		if (g_strcmp0(rtnl_link_get_name(link), name) == 0) {
			int e = ingress_del(sock, ifindex);
			err = err != 0 ? err : e;
		}
		rtnl_link_put(link);
	}
	return err;
}

static gboolean undo_in_netns(int netns_fd, const char *netns_path, const UndoItem *items, guint n, GError **error)
{
	g_autoptr(GError) local = NULL;
	int ours = ck_netns_enter(netns_fd, netns_path, error);
	gboolean ok = TRUE;

	if (ours < 0)
		return FALSE;
	struct nl_sock *sock = route_socket(&local);
	for (guint i = 0; sock != NULL && i < n; i++) {
		int err = undo_iface(sock, &items[i]);
		if (err < 0 && ok) {
			ok = ck_set_error(error, CK_ERROR_FAILED,
					  "network namespace %s: remove %s and the filters of %s: %s", netns_path,
					  items[i].tap, items[i].name, nl_geterror(err));
		}
	}
	if (sock != NULL)
		nl_socket_free(sock);
	ck_netns_leave(ours);
	if (local != NULL) {
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	return ok;
}

/* --- setup and teardown ------------------------------------------------------------- */

static gboolean create_all(struct nl_sock *sock, PodNet *net, GError **error)
{
	if (!pod_net_scan(sock, net, error))
		return FALSE;
	for (guint i = 0; i < net->ifaces->len; i++) {
		PodNetIface *iface = g_ptr_array_index(net->ifaces, i);
		g_snprintf(iface->tap, sizeof iface->tap, "tap%u_kata", i);
	}
	if (!record_write(net, error))
		return FALSE;
	for (guint i = 0; i < net->ifaces->len; i++) {
		PodNetIface *iface = g_ptr_array_index(net->ifaces, i);
		if (!tap_open(sock, iface, error) || !join(sock, iface, error))
			return FALSE;
	}
	return TRUE;
}

static PodNet *pod_net_new(const char *netns_path, const char *record_path)
{
	PodNet *net = g_new0(PodNet, 1);

	net->netns_path = g_strdup(netns_path);
	net->record_path = g_strdup(record_path);
	net->netns_fd = -1;
	net->ifaces = g_ptr_array_new_with_free_func(pod_net_iface_free);
	net->routes = g_ptr_array_new_with_free_func(pod_net_route_free);
	return net;
}

PodNet *pod_net_setup(const char *netns_path, const char *record_path, GError **error)
{
	g_autoptr(PodNet) net = pod_net_new(netns_path, record_path);
	g_autoptr(GError) local = NULL;

	net->netns_fd = pod_net_open_netns(netns_path, error);
	if (net->netns_fd < 0)
		return NULL;
	int ours = ck_netns_enter(net->netns_fd, netns_path, error);
	if (ours < 0)
		return NULL;
	struct nl_sock *sock = route_socket(&local);
	gboolean ok = sock != NULL && create_all(sock, net, &local);
	if (sock != NULL)
		nl_socket_free(sock);
	ck_netns_leave(ours);
	if (!ok) {
		g_autoptr(GError) undo = NULL;
		if (!pod_net_teardown(net, &undo))
			ck_log_warning("%s", undo->message);
		g_propagate_error(error, g_steal_pointer(&local));
		return NULL;
	}
	return g_steal_pointer(&net);
}

gboolean pod_net_teardown(PodNet *net, GError **error)
{
	g_autofree UndoItem *items = g_new0(UndoItem, net->ifaces->len + 1);

	for (guint i = 0; i < net->ifaces->len; i++) {
		PodNetIface *iface = g_ptr_array_index(net->ifaces, i);
		ck_clear_fd(&iface->tap_fd); /* a tap nobody holds is gone */
		items[i] = (UndoItem){iface->name, iface->ifindex, iface->tap, iface->iface_qdisc};
	}
	if (net->netns_fd >= 0 && !undo_in_netns(net->netns_fd, net->netns_path, items, net->ifaces->len, error))
		return FALSE;
	if (unlink(net->record_path) < 0 && errno != ENOENT)
		return ck_set_error_errno(error, errno, "%s", net->record_path);
	return TRUE;
}

void pod_net_free(PodNet *net)
{
	if (net == NULL)
		return;
	g_ptr_array_unref(net->routes);
	g_ptr_array_unref(net->ifaces);
	if (net->netns_fd >= 0)
		close(net->netns_fd);
	g_free(net->netns_path);
	g_free(net->record_path);
	g_free(net);
}

static gboolean same_netns(int fd, yajl_val rec)
{
	struct stat st;
	gint64 dev = -1, ino = -1;

	return fstat(fd, &st) == 0 && ck_json_as_int64(ck_json_get(rec, "netns_dev"), &dev) &&
	       ck_json_as_int64(ck_json_get(rec, "netns_ino"), &ino) && dev == (gint64)st.st_dev &&
	       ino == (gint64)st.st_ino;
}

static guint record_items(yajl_val rec, UndoItem *items, guint max)
{
	yajl_val arr = ck_json_get(rec, "interfaces");
	guint n = 0;

	for (gsize i = 0; YAJL_IS_ARRAY(arr) && i < arr->u.array.len && n < max; i++) {
		yajl_val o = arr->u.array.values[i], name = ck_json_get(o, "name"), tap = ck_json_get(o, "tap");
		gint64 ifindex = 0;
		if (!YAJL_IS_STRING(name) || !YAJL_IS_STRING(tap) || !g_str_has_suffix(tap->u.string, "_kata") ||
		    !ck_json_as_int64(ck_json_get(o, "ifindex"), &ifindex) || ifindex <= 0 || ifindex > G_MAXINT)
			continue;
		items[n++] = (UndoItem){name->u.string, (int)ifindex, tap->u.string, TRUE};
	}
	return n;
}

gboolean pod_net_teardown_recorded(const char *record_path, GError **error)
{
	g_autoptr(GError) local = NULL;
	UndoItem items[POD_NET_MAX_IFACES];

	if (!g_file_test(record_path, G_FILE_TEST_EXISTS))
		return TRUE;
	g_auto(yajl_val) rec = ck_json_parse_file(record_path, RECORD_MAX_BYTES, error);
	if (rec == NULL)
		return FALSE;
	yajl_val path = ck_json_get(rec, "netns");
	ck_autofd fd = YAJL_IS_STRING(path) ? pod_net_open_netns(path->u.string, &local) : -1;
	/* the namespace is gone (CNI DEL took it, and our filters with it) or
	 * its path now names another one: nothing of ours to remove */
	if (fd >= 0 && same_netns(fd, rec) &&
	    !undo_in_netns(fd, path->u.string, items, record_items(rec, items, G_N_ELEMENTS(items)), error))
		return FALSE;
	if (unlink(record_path) < 0 && errno != ENOENT)
		return ck_set_error_errno(error, errno, "%s", record_path);
	return TRUE;
}

/* --- what the guest and the log get ------------------------------------------------- */

guint pod_net_count(const PodNet *net)
{
	return net->ifaces->len;
}

int pod_net_tap_fd(const PodNet *net, guint i)
{
	return ((PodNetIface *)g_ptr_array_index(net->ifaces, i))->tap_fd;
}

const char *pod_net_mac(const PodNet *net, guint i)
{
	return ((PodNetIface *)g_ptr_array_index(net->ifaces, i))->mac;
}

void pod_net_request(const PodNet *net, CkSetupNetworkArgs *out)
{
	out->n_interfaces = net->ifaces->len;
	out->interfaces = g_new0(CkNetInterface, MAX(out->n_interfaces, 1));
	for (guint i = 0; i < net->ifaces->len; i++) {
		const PodNetIface *iface = g_ptr_array_index(net->ifaces, i);
		char **addrs = g_new0(char *, iface->addrs->len + 1);
		for (guint j = 0; j < iface->addrs->len; j++)
			addrs[j] = g_ptr_array_index(iface->addrs, j);
		out->interfaces[i] = (CkNetInterface){iface->name, (char *)iface->mac, (int)iface->mtu, addrs};
	}
	out->n_routes = net->routes->len;
	out->routes = g_new0(CkNetRoute, MAX(out->n_routes, 1));
	for (guint i = 0; i < net->routes->len; i++) {
		const PodNetRoute *r = g_ptr_array_index(net->routes, i);
		out->routes[i] = (CkNetRoute){r->dest, (char *)r->device, r->gateway, r->source, r->metric, r->onlink};
	}
}

void pod_net_request_clear(CkSetupNetworkArgs *req)
{
	for (guint i = 0; i < req->n_interfaces; i++)
		g_free(req->interfaces[i].addresses); /* the strings are the PodNet's */
	g_clear_pointer(&req->interfaces, g_free);
	g_clear_pointer(&req->routes, g_free);
}

char *pod_net_describe(const PodNet *net)
{
	g_autoptr(GString) s = g_string_new(NULL);

	for (guint i = 0; i < net->ifaces->len; i++) {
		const PodNetIface *iface = g_ptr_array_index(net->ifaces, i);
		g_string_append_printf(s, "%s%s (%s, %s, mtu %u", i > 0 ? ", " : "", iface->name, iface->tap,
				       iface->mac, iface->mtu);
		for (guint j = 0; j < iface->addrs->len; j++)
			g_string_append_printf(s, ", %s", (const char *)g_ptr_array_index(iface->addrs, j));
		g_string_append_c(s, ')');
	}
	if (s->len == 0)
		g_string_append(s, "no interface");
	return g_string_free(g_steal_pointer(&s), FALSE);
}
