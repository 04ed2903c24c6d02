/* portfwd-steer: sk_lookup steering of loopback connections (see portfwd-steer.h). */
#include "portfwd-steer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/ck-cleanup.h"
#include "base/ck-error.h"
#include "base/ck-log.h"
#include "base/ck-netns.h"

#define LISTEN_BACKLOG 128
#define VERIFIER_LOG_SIZE (64u * 1024u)
/* the program's licence: the project's; the helpers it calls are not GPL-only */
#define PROG_LICENSE "Apache-2.0"

struct PortSteer {
	int listener[PORT_STEER_FAMILIES];
	int map_fd;
	int prog_fd;
	int link_fd;
};

/* --- the program --------------------------------------------------------------------------- */

/* A tiny assembler: instructions, and forward jumps to labels resolved at
 * the end. */
typedef enum {
	L_PASS,
	L_V4,
	L_LOOKUP,
	L_MAX,
} Label;

typedef struct {
	struct bpf_insn *insns;
	gsize n;
	gssize label_at[L_MAX];
	struct {
		gsize at;
		Label to;
	} fixups[16];
	gsize n_fixups;
} Asm;

static void emit(Asm *a, guint8 code, guint8 dst, guint8 src, gint16 off, gint32 imm)
{
	g_assert(a->n < PORT_STEER_PROG_MAX);
	a->insns[a->n++] = (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

/* dst = *(u32 *)(src + off) */
static void load_u32(Asm *a, guint8 dst, guint8 src, gsize off)
{
	emit(a, BPF_LDX | BPF_MEM | BPF_W, dst, src, (gint16)off, 0);
}

/* A jump instruction whose offset resolve() fills in. */
static void emit_jump(Asm *a, guint8 code, guint8 reg, gint32 imm, Label to)
{
	g_assert(a->n_fixups < G_N_ELEMENTS(a->fixups));
	a->fixups[a->n_fixups].at = a->n;
	a->fixups[a->n_fixups++].to = to;
	emit(a, code, reg, 0, 0, imm);
}

/* if (u32)reg <op> imm goto label: the context's 32-bit fields */
static void jump32(Asm *a, guint8 op, guint8 reg, guint32 imm, Label to)
{
	emit_jump(a, BPF_JMP32 | op | BPF_K, reg, (gint32)imm, to);
}

static void jump(Asm *a, Label to)
{
	emit_jump(a, BPF_JMP | BPF_JA, 0, 0, to);
}

static void label(Asm *a, Label l)
{
	a->label_at[l] = (gssize)a->n;
}

static void resolve(Asm *a)
{
	for (gsize i = 0; i < a->n_fixups; i++) {
		gssize target = a->label_at[a->fixups[i].to];
		g_assert(target > (gssize)a->fixups[i].at);
		a->insns[a->fixups[i].at].off = (gint16)(target - (gssize)a->fixups[i].at - 1);
	}
}

static void call(Asm *a, gint32 helper)
{
	emit(a, BPF_JMP | BPF_CALL, 0, 0, 0, helper);
}

static void mov_reg(Asm *a, guint8 dst, guint8 src)
{
	emit(a, BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}

static void mov_imm(Asm *a, guint8 dst, gint32 imm)
{
	emit(a, BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm);
}

#define CTX(field) offsetof(struct bpf_sk_lookup, field)

/* r6 = ctx. TCP only; to 127.0.0.1 the key is PORT_STEER_IPV4, to ::1
 * PORT_STEER_IPV6; the listener of that key is assigned; anything else
 * passes untouched (SK_PASS without an assignment: the kernel's own
 * lookup). */
gsize port_steer_assemble(struct bpf_insn *out, int map_fd)
{
	Asm a = {.insns = out};

	for (int i = 0; i < L_MAX; i++)
		a.label_at[i] = -1;
	mov_reg(&a, BPF_REG_6, BPF_REG_1);
	load_u32(&a, BPF_REG_2, BPF_REG_6, CTX(protocol));
	jump32(&a, BPF_JNE, BPF_REG_2, IPPROTO_TCP, L_PASS);
	load_u32(&a, BPF_REG_2, BPF_REG_6, CTX(family));
	jump32(&a, BPF_JEQ, BPF_REG_2, AF_INET, L_V4);
	jump32(&a, BPF_JNE, BPF_REG_2, AF_INET6, L_PASS);
	/* ::1 is 0, 0, 0, htonl(1) as the context's four words */
	for (int w = 0; w < 4; w++) {
		load_u32(&a, BPF_REG_2, BPF_REG_6, CTX(local_ip6) + (gsize)w * 4);
		jump32(&a, BPF_JNE, BPF_REG_2, w == 3 ? htonl(1) : 0, L_PASS);
	}
	mov_imm(&a, BPF_REG_2, PORT_STEER_IPV6);
	jump(&a, L_LOOKUP);

	label(&a, L_V4);
	load_u32(&a, BPF_REG_2, BPF_REG_6, CTX(local_ip4));
	jump32(&a, BPF_JNE, BPF_REG_2, htonl(INADDR_LOOPBACK), L_PASS);
	mov_imm(&a, BPF_REG_2, PORT_STEER_IPV4);

	/* sk = bpf_map_lookup_elem(map, &key): a reference, or NULL */
	label(&a, L_LOOKUP);
	emit(&a, BPF_STX | BPF_MEM | BPF_W, BPF_REG_10, BPF_REG_2, -4, 0);
	mov_reg(&a, BPF_REG_2, BPF_REG_10);
	emit(&a, BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4);
	emit(&a, BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map_fd);
	emit(&a, 0, 0, 0, 0, 0); /* the upper half of the 64-bit immediate */
	call(&a, BPF_FUNC_map_lookup_elem);
	/* a pointer is tested whole: the verifier learns "not NULL" only so */
	emit_jump(&a, BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, L_PASS);
	/* bpf_sk_assign(ctx, sk, 0); bpf_sk_release(sk) */
	mov_reg(&a, BPF_REG_7, BPF_REG_0);
	mov_reg(&a, BPF_REG_1, BPF_REG_6);
	mov_reg(&a, BPF_REG_2, BPF_REG_7);
	mov_imm(&a, BPF_REG_3, 0);
	call(&a, BPF_FUNC_sk_assign);
	mov_reg(&a, BPF_REG_1, BPF_REG_7);
	call(&a, BPF_FUNC_sk_release);

	label(&a, L_PASS);
	mov_imm(&a, BPF_REG_0, SK_PASS);
	emit(&a, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	resolve(&a);
	return a.n;
}

/* --- bpf(2) ---------------------------------------------------------------------------------- */

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr);
}

static int create_sockmap(GError **error)
{
	union bpf_attr attr = {
	    .map_type = BPF_MAP_TYPE_SOCKMAP,
	    .key_size = sizeof(guint32),
	    .value_size = sizeof(guint64),
	    .max_entries = PORT_STEER_FAMILIES,
	};
	int fd = sys_bpf(BPF_MAP_CREATE, &attr);

	if (fd < 0)
		ck_set_error_errno(error, errno, "bpf: create a sockmap");
	return fd;
}

static gboolean sockmap_put(int map_fd, guint32 key, int sock, GError **error)
{
	guint64 value = (guint64)sock;
	union bpf_attr attr = {
	    .map_fd = (guint32)map_fd,
	    .key = (guint64)(uintptr_t)&key,
	    .value = (guint64)(uintptr_t)&value,
	    .flags = BPF_ANY,
	};

	if (sys_bpf(BPF_MAP_UPDATE_ELEM, &attr) < 0)
		return ck_set_error_errno(error, errno, "bpf: put the listener into the sockmap");
	return TRUE;
}

/* The verifier's reason, for the error message: its last line but the
 * statistics ("processed N insns ..."). */
static char *verifier_reason(const char *log)
{
	g_auto(GStrv) lines = g_strsplit(log, "\n", -1);

	for (gssize i = (gssize)g_strv_length(lines) - 1; i >= 0; i--)
		if (*lines[i] != '\0' && !g_str_has_prefix(lines[i], "processed "))
			return g_strdup(lines[i]);
	return g_strdup("no verifier log");
}

static int prog_load(const struct bpf_insn *insns, gsize n, char *log, guint32 log_size)
{
	union bpf_attr attr = {
	    .prog_type = BPF_PROG_TYPE_SK_LOOKUP,
	    .expected_attach_type = BPF_SK_LOOKUP,
	    .insns = (guint64)(uintptr_t)insns,
	    .insn_cnt = (guint32)n,
	    .license = (guint64)(uintptr_t)PROG_LICENSE,
	    .log_buf = (guint64)(uintptr_t)log,
	    .log_size = log != NULL ? log_size : 0,
	    .log_level = log != NULL ? 1 : 0,
	};
	g_strlcpy(attr.prog_name, "ck_portfwd", sizeof attr.prog_name);
	return sys_bpf(BPF_PROG_LOAD, &attr);
}

static int load_program(int map_fd, GError **error)
{
	struct bpf_insn insns[PORT_STEER_PROG_MAX];
	gsize n = port_steer_assemble(insns, map_fd);
	int fd = prog_load(insns, n, NULL, 0);

	if (fd >= 0)
		return fd;
	int errsv = errno;
	if (errsv == EACCES || errsv == EINVAL) {
		/* again, for the verifier's reason */
		g_autofree char *log = g_malloc0(VERIFIER_LOG_SIZE);
		if (prog_load(insns, n, log, VERIFIER_LOG_SIZE) < 0 && *log != '\0') {
			g_autofree char *why = verifier_reason(log);
			return ck_set_error_errno(error, errsv, "bpf: load the sk_lookup program (%s)", why), -1;
		}
	}
	return ck_set_error_errno(error, errsv, "bpf: load the sk_lookup program"), -1;
}

static int attach(int prog_fd, int netns_fd, const char *netns_path, GError **error)
{
	union bpf_attr attr = {
	    .link_create = {.prog_fd = (guint32)prog_fd, .target_fd = (guint32)netns_fd, .attach_type = BPF_SK_LOOKUP},
	};
	int fd = sys_bpf(BPF_LINK_CREATE, &attr);

	if (fd < 0)
		ck_set_error_errno(error, errno, "bpf: attach the sk_lookup program to %s", netns_path);
	return fd;
}

/* --- the listeners ---------------------------------------------------------------------------- */

static int listen_loopback(int family, GError **error)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	const char *name = family == AF_INET ? "127.0.0.1" : "[::1]";
	ck_autofd fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof *in;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		len = sizeof *in6;
	}
	int one = 1;
	if (fd < 0 || (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
		return ck_set_error_errno(error, errno, "listen on %s", name), -1;
	return ck_steal_fd(&fd);
}

/* In the namespace: the IPv4 listener (required) and the IPv6 one (a
 * namespace without IPv6 has no ::1: skipped). */
static gboolean open_listeners(PortSteer *s, GError **error)
{
	g_autoptr(GError) v6_error = NULL;

	s->listener[PORT_STEER_IPV4] = listen_loopback(AF_INET, error);
	if (s->listener[PORT_STEER_IPV4] < 0)
		return FALSE;
	s->listener[PORT_STEER_IPV6] = listen_loopback(AF_INET6, &v6_error);
	if (v6_error != NULL)
		ck_log_debug("port forwarding: no IPv6 listener (%s)", v6_error->message);
	return TRUE;
}

/* Runs open_listeners() inside the namespace: sockets belong to the
 * namespace they are created in. The thread returns to its own after. */
static gboolean listeners_in(PortSteer *s, int netns_fd, const char *netns_path, GError **error)
{
	int own = ck_netns_enter(netns_fd, netns_path, error);

	if (own < 0)
		return FALSE;
	gboolean ok = open_listeners(s, error);
	ck_netns_leave(own);
	return ok;
}

PortSteer *port_steer_new(const char *netns_path, GError **error)
{
	g_autoptr(PortSteer) s = g_new0(PortSteer, 1);

	s->map_fd = s->prog_fd = s->link_fd = -1;
	for (int i = 0; i < PORT_STEER_FAMILIES; i++)
		s->listener[i] = -1;
	ck_autofd netns = open(netns_path, O_RDONLY | O_CLOEXEC);
	if (netns < 0)
		return ck_set_error_errno(error, errno, "open the network namespace %s", netns_path), NULL;
	/* BPF first: without the privilege for it, that is what the error
	 * names, rather than a step that happens to come before */
	if ((s->map_fd = create_sockmap(error)) < 0 || (s->prog_fd = load_program(s->map_fd, error)) < 0)
		return NULL;
	if (!listeners_in(s, netns, netns_path, error))
		return NULL;
	for (int i = 0; i < PORT_STEER_FAMILIES; i++)
		if (s->listener[i] >= 0 && !sockmap_put(s->map_fd, (guint32)i, s->listener[i], error))
			return NULL;
	if ((s->link_fd = attach(s->prog_fd, netns, netns_path, error)) < 0)
		return NULL;
	return g_steal_pointer(&s);
}

int port_steer_listener(PortSteer *s, PortSteerFamily family)
{
	return s->listener[family];
}

void port_steer_free(PortSteer *s)
{
	if (s == NULL)
		return;
	/* the link first: from then on no connection is steered to a
	 * listener about to close */
	ck_close_fdp(&s->link_fd);
	ck_close_fdp(&s->prog_fd);
	ck_close_fdp(&s->map_fd);
	for (int i = 0; i < PORT_STEER_FAMILIES; i++)
		ck_close_fdp(&s->listener[i]);
	g_free(s);
}
