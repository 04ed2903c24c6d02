/* ck-socket: AF_UNIX sockets at paths of any length.
 *
 * sun_path holds 107 bytes, and a runtime root chosen by a caller (Podman's
 * per-user roots, test directories) plus a 64-character container id
 * overflows it easily. For a longer path, both calls reach the directory
 * through an O_PATH fd and bind or connect to /proc/self/fd/N/<name>,
 * which the kernel resolves like the real path.
 */
#pragma once

#include <sys/types.h>

#include <glib.h>

G_BEGIN_DECLS

/* A listening socket (SOCK_CLOEXEC, plus `flags` such as SOCK_NONBLOCK)
 * of `type` at `path`, replacing a stale socket there, with `mode`. */
int ck_unix_listen(const char *path, int type, int flags, mode_t mode, int backlog, GError **error);

/* A connected socket of `type`; errno-style errors (ENOENT, ECONNREFUSED)
 * are in the GError's CK_ERRNO domain, message naming the path. */
int ck_unix_connect(const char *path, int type, GError **error);

/* Whether the peer of the connected socket `fd` may talk to us: its uid
 * (SO_PEERCRED, as it was at connect()) is ours or root's. Otherwise FALSE
 * with one line naming `what` and the peer's uid; docs/security.md. */
gboolean ck_unix_peer_allowed(int fd, const char *what, GError **error);

/* ck_unix_peer_allowed(); a refused peer is sent the error's message as
 * one line ("<what>: ...\n"), and the warning goes to our log. */
gboolean ck_unix_accept_peer(int fd, const char *what);

G_END_DECLS
