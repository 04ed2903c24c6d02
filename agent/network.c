/* network: setup_network (see network.h). */
#include "network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>

#include <linux/if_addr.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-log.h"
#include "base/ck-parse.h"
#include "proto/ck-message.h"

typedef struct {
	int family; /* AF_INET or AF_INET6 */
	guint8 bytes[16];
	int prefix;
} NetAddr;

/* The strings are the decoded request's (NetPlan.request). */
typedef struct {
	const char *name;
	const char *mac_text;
	guint8 mac[6];
	int mtu;
	char **addresses; /* borrowed too */
	NetAddr addrs[CK_NET_MAX_ADDRS];
	guint n_addrs;
	int ifindex; /* of the guest NIC with that MAC */
} NetIface;

typedef struct {
	const char *dest_text, *device, *gateway_text, *source_text;
	guint32 metric;
	gboolean onlink;
	NetAddr dest, gateway, source;
	const NetIface *iface;
} NetRoute;

typedef struct {
	CkSetupNetworkArgs request; /* decoded by the dispatcher or network_request_check() */
	NetIface ifaces[CK_NET_MAX_IFACES];
	guint n_ifaces;
	NetRoute routes_v[CK_NET_MAX_ROUTES];
	guint n_routes;
} NetPlan;

static gboolean network_configured;

/* --- parsing and validation -------------------------------------------------------- */

/* "192.0.2.2", or with want_prefix "192.0.2.2/24", "2001:db8::/32". */
static gboolean parse_addr(const char *text, gboolean want_prefix, NetAddr *out, const char *where, GError **error)
{
	char buf[INET6_ADDRSTRLEN + 5];
	char *slash;

	if (strlen(text) >= sizeof buf)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: '%.64s...' is too long", where, text);
	g_strlcpy(buf, text, sizeof buf);
	slash = strchr(buf, '/');
	if ((slash != NULL) != want_prefix)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: '%s' must %sbe address/prefix", where, text,
				    want_prefix ? "" : "not ");
	if (slash != NULL)
		*slash++ = '\0';
	out->family = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(out->family, buf, out->bytes) != 1)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: '%s' is not an IPv4 or IPv6 address", where, text);
	int max = out->family == AF_INET ? 32 : 128;
	out->prefix = max;
	if (slash != NULL) {
		char *end = NULL;
		errno = 0;
		long v = strtol(slash, &end, 10);
		if (*slash < '0' || *slash > '9' || errno != 0 || *end != '\0' || v < 0 || v > max)
			return ck_set_error(error, CK_ERROR_INVALID, "%s: '%s': prefix out of range 0..%d", where, text,
					    max);
		out->prefix = (int)v;
	}
	return TRUE;
}

static gboolean valid_ifname(const char *name)
{
	gsize len = strlen(name);

	if (len == 0 || len >= IFNAMSIZ || g_str_equal(name, ".") || g_str_equal(name, "..") || g_str_equal(name, "lo"))
		return FALSE;
	for (const char *p = name; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '.' && *p != '-')
			return FALSE;
	return TRUE;
}

static gboolean parse_mac(const char *text, guint8 mac[6])
{
	/* a unicast address, not all zero */
	return ck_parse_mac(text, mac) && !(mac[0] & 1) && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) != 0;
}

static gboolean check_iface(NetPlan *p, guint i, GError **error)
{
	NetIface *f = &p->ifaces[i];
	g_autofree char *where = g_strdup_printf("setup_network: interfaces[%u]", i);

	if (!valid_ifname(f->name))
		return ck_set_error(error, CK_ERROR_INVALID, "%s: name '%s' is not a valid interface name", where,
				    f->name);
	if (!parse_mac(f->mac_text, f->mac))
		return ck_set_error(error, CK_ERROR_INVALID, "%s (%s): mac '%s' is not a unicast MAC address", where,
				    f->name, f->mac_text);
	for (guint j = 0; j < i; j++) {
		if (g_str_equal(p->ifaces[j].name, f->name) || memcmp(p->ifaces[j].mac, f->mac, 6) == 0)
			return ck_set_error(error, CK_ERROR_INVALID, "%s (%s): name or MAC repeats interfaces[%u]",
					    where, f->name, j);
	}
	guint n = f->addresses != NULL ? g_strv_length(f->addresses) : 0;
	if (n > CK_NET_MAX_ADDRS)
		return ck_set_error(error, CK_ERROR_INVALID, "%s (%s): %u addresses, at most %d", where, f->name, n,
				    CK_NET_MAX_ADDRS);
	for (guint j = 0; j < n; j++)
		if (!parse_addr(f->addresses[j], TRUE, &f->addrs[j], where, error))
			return FALSE;
	f->n_addrs = n;
	return TRUE;
}

static const NetIface *iface_named(const NetPlan *p, const char *name)
{
	for (guint i = 0; i < p->n_ifaces; i++)
		if (g_str_equal(p->ifaces[i].name, name))
			return &p->ifaces[i];
	return NULL;
}

static gboolean check_route(NetPlan *p, guint i, GError **error)
{
	NetRoute *r = &p->routes_v[i];
	g_autofree char *where = g_strdup_printf("setup_network: routes[%u]", i);

	if (!parse_addr(r->dest_text, TRUE, &r->dest, where, error))
		return FALSE;
	if ((r->iface = iface_named(p, r->device)) == NULL)
		return ck_set_error(error, CK_ERROR_INVALID, "%s: device '%s' is not one of the interfaces", where,
				    r->device);
	if (r->gateway_text != NULL && !parse_addr(r->gateway_text, FALSE, &r->gateway, where, error))
		return FALSE;
	if (r->source_text != NULL && !parse_addr(r->source_text, FALSE, &r->source, where, error))
		return FALSE;
	if ((r->gateway_text != NULL && r->gateway.family != r->dest.family) ||
	    (r->source_text != NULL && r->source.family != r->dest.family))
		return ck_set_error(error, CK_ERROR_INVALID,
				    "%s: %s: gateway and source must be of the family of the destination", where,
				    r->dest_text);
	return TRUE;
}

/* The request's interfaces and routes (their shape checked by the
 * decoder: types, required fields, list lengths), checked for meaning. */
static gboolean plan_check(const CkSetupNetworkArgs *req, NetPlan *p, GError **error)
{
	for (guint i = 0; i < req->n_interfaces; i++) {
		const CkNetInterface *w = &req->interfaces[i];
		p->ifaces[i] =
		    (NetIface){.name = w->name, .mac_text = w->mac, .mtu = w->mtu, .addresses = w->addresses};
		p->n_ifaces++;
		if (!check_iface(p, i, error))
			return FALSE;
	}
	for (guint i = 0; i < req->n_routes; i++) {
		const CkNetRoute *w = &req->routes[i];
		p->routes_v[i] = (NetRoute){.dest_text = w->dest,
					    .device = w->device,
					    .gateway_text = w->gateway,
					    .source_text = w->source,
					    .metric = w->metric,
					    .onlink = w->onlink};
		p->n_routes++;
		if (!check_route(p, i, error))
			return FALSE;
	}
	return TRUE;
}

gboolean network_request_check(yajl_val request, GError **error)
{
	g_autofree NetPlan *p = g_new0(NetPlan, 1);
	gboolean ok =
	    ck_msg_decode_args(CK_OP_SETUP_NETWORK, request, &p->request, error) && plan_check(&p->request, p, error);

	ck_msg_clear_args(CK_OP_SETUP_NETWORK, &p->request);
	return ok;
}

/* --- rtnetlink ---------------------------------------------------------------------- */

typedef struct {
	struct nlmsghdr h;
	char room[1024];
} NlMsg;

static void *nl_body(NlMsg *m, int type, int flags, gsize body)
{
	memset(m, 0, sizeof *m);
	m->h.nlmsg_len = NLMSG_LENGTH(body);
	m->h.nlmsg_type = type;
	m->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	return NLMSG_DATA(&m->h);
}

static void nl_attr(NlMsg *m, int type, const void *data, gsize len)
{
	struct rtattr *rta = (struct rtattr *)((char *)&m->h + NLMSG_ALIGN(m->h.nlmsg_len));

	g_assert(NLMSG_ALIGN(m->h.nlmsg_len) + RTA_SPACE(len) <= sizeof *m);
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	m->h.nlmsg_len = NLMSG_ALIGN(m->h.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Sends one request; 0 or -errno from the kernel's acknowledgement. */
static int nl_talk(int fd, NlMsg *m)
{
	static guint32 seq;
	char buf[8192];

	m->h.nlmsg_seq = ++seq;
	if (send(fd, m, m->h.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq == seq && h->nlmsg_type == NLMSG_ERROR)
				return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
		}
	}
}

static int link_set(int fd, int ifindex, const char *name, int mtu, gboolean up)
{
	NlMsg m;
	struct ifinfomsg *ifi = nl_body(&m, RTM_NEWLINK, 0, sizeof *ifi);

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	if (name != NULL)
		nl_attr(&m, IFLA_IFNAME, name, strlen(name) + 1);
	if (mtu > 0)
		nl_attr(&m, IFLA_MTU, &(guint32){(guint32)mtu}, sizeof(guint32));
	return nl_talk(fd, &m);
}

static gsize addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static int addr_add(int fd, int ifindex, const NetAddr *a)
{
	NlMsg m;
	struct ifaddrmsg *ifa = nl_body(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof *ifa);
	guint32 flags = a->family == AF_INET6 ? IFA_F_NODAD : 0;

	ifa->ifa_family = a->family;
	ifa->ifa_prefixlen = a->prefix;
	ifa->ifa_index = ifindex;
	ifa->ifa_flags = flags;
	nl_attr(&m, IFA_LOCAL, a->bytes, addr_len(a->family));
	nl_attr(&m, IFA_ADDRESS, a->bytes, addr_len(a->family));
	nl_attr(&m, IFA_FLAGS, &flags, sizeof flags);
	return nl_talk(fd, &m);
}

static int route_add(int fd, const NetRoute *r)
{
	NlMsg m;
	struct rtmsg *rt = nl_body(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof *rt);
	guint32 oif = (guint32)r->iface->ifindex;

	rt->rtm_family = r->dest.family;
	rt->rtm_dst_len = r->dest.prefix;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_BOOT;
	rt->rtm_scope = r->gateway_text != NULL ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rt->rtm_type = RTN_UNICAST;
	rt->rtm_flags = r->onlink ? RTNH_F_ONLINK : 0;
	if (r->dest.prefix > 0)
		nl_attr(&m, RTA_DST, r->dest.bytes, addr_len(r->dest.family));
	if (r->gateway_text != NULL)
		nl_attr(&m, RTA_GATEWAY, r->gateway.bytes, addr_len(r->gateway.family));
	if (r->source_text != NULL)
		nl_attr(&m, RTA_PREFSRC, r->source.bytes, addr_len(r->source.family));
	if (r->metric != 0)
		nl_attr(&m, RTA_PRIORITY, &r->metric, sizeof r->metric);
	nl_attr(&m, RTA_OIF, &oif, sizeof oif);
	return nl_talk(fd, &m);
}

/* --- applying ----------------------------------------------------------------------- */

static int ifindex_of_mac(int sock, const guint8 mac[6])
{
	struct if_nameindex *all = if_nameindex();
	int found = 0;

	for (struct if_nameindex *p = all; p != NULL && p->if_index != 0 && found == 0; p++) {
		struct ifreq ifr = {0};
		g_strlcpy(ifr.ifr_name, p->if_name, sizeof ifr.ifr_name);
		if (ioctl(sock, SIOCGIFHWADDR, &ifr) == 0 && ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER &&
		    memcmp(ifr.ifr_hwaddr.sa_data, mac, 6) == 0)
			found = (int)p->if_index;
	}
	if (all != NULL)
		if_freenameindex(all);
	return found;
}

static gboolean nl_failed(int err, GError **error, const char *what, const char *name)
{
	return ck_set_error_errno(error, -err, "setup_network: %s %s", what, name);
}

/* Every NIC gets a temporary name first, so that a NIC the kernel named
 * eth1 can become eth0 while another becomes eth1. */
static gboolean setup_links(int nl, NetPlan *p, GError **error)
{
	ck_autofd sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err;

	if (sock < 0)
		return ck_set_error_errno(error, errno, "setup_network: socket");
	for (guint i = 0; i < p->n_ifaces; i++) {
		NetIface *f = &p->ifaces[i];
		if ((f->ifindex = ifindex_of_mac(sock, f->mac)) == 0)
			return ck_set_error(error, CK_ERROR_NOT_FOUND,
					    "setup_network: interface %s: no NIC with MAC %s", f->name, f->mac_text);
		g_autofree char *tmp = g_strdup_printf("cknet%u", i);
		if ((err = link_set(nl, f->ifindex, tmp, 0, FALSE)) < 0)
			return nl_failed(err, error, "rename the NIC for", f->name);
	}
	for (guint i = 0; i < p->n_ifaces; i++) {
		NetIface *f = &p->ifaces[i];
		if ((err = link_set(nl, f->ifindex, f->name, f->mtu, FALSE)) < 0 ||
		    (err = link_set(nl, f->ifindex, NULL, 0, TRUE)) < 0)
			return nl_failed(err, error, "name, set the MTU of and bring up", f->name);
		for (guint j = 0; j < f->n_addrs; j++)
			if ((err = addr_add(nl, f->ifindex, &f->addrs[j])) < 0 && err != -EEXIST)
				return nl_failed(err, error, "add an address to", f->name);
	}
	return TRUE;
}

/* Device routes before gateway routes: a gateway must be reachable. A
 * route the kernel already made from an address is no error. */
static gboolean setup_routes(int nl, const NetPlan *p, GError **error)
{
	for (int with_gateway = 0; with_gateway < 2; with_gateway++) {
		for (guint i = 0; i < p->n_routes; i++) {
			const NetRoute *r = &p->routes_v[i];
			if ((r->gateway_text != NULL) != with_gateway)
				continue;
			int err = route_add(nl, r);
			if (err < 0 && err != -EEXIST)
				return ck_set_error_errno(error, -err, "setup_network: route %s via %s dev %s",
							  r->dest_text, r->gateway_text ? r->gateway_text : "-",
							  r->device);
		}
	}
	return TRUE;
}

gboolean op_setup_network(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	g_autofree NetPlan *p = g_new0(NetPlan, 1);
	gboolean ok;

	(void)req;
	(void)result;
	if (network_configured)
		return ck_set_error(error, CK_ERROR_EXISTS, "setup_network: the network is already set up");
	if (!plan_check(args, p, error))
		return FALSE;
	ck_autofd nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl < 0)
		return ck_set_error_errno(error, errno, "setup_network: netlink socket");
	int err = link_set(nl, (int)if_nametoindex("lo"), NULL, 0, TRUE);
	ok = err == 0 ? setup_links(nl, p, error) && setup_routes(nl, p, error)
		      : nl_failed(err, error, "bring up", "lo");
	if (ok) {
		network_configured = TRUE;
		for (guint i = 0; i < p->n_ifaces; i++)
			ck_log_info("network: %s (%s, mtu %d, %u addresses) up", p->ifaces[i].name,
				    p->ifaces[i].mac_text, p->ifaces[i].mtu, p->ifaces[i].n_addrs);
	}
	return ok;
}
