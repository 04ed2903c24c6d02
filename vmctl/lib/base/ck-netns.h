/* ck-netns: the calling thread in another network namespace and back.
 *
 * Sockets, netlink sockets and tap devices belong to the network namespace
 * their creator was in, so the pod monitor makes them for a pod by moving
 * the calling thread into the pod's namespace for as long as it takes
 * (setns(2) with CLONE_NEWNET is per thread) and back at once. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Moves the calling thread into the network namespace of netns_fd (opened
 * from path, which the error names). Returns an fd of the namespace it was
 * in, for ck_netns_leave(), or -1 with error set. */
int ck_netns_enter(int netns_fd, const char *path, GError **error);

/* Back into the namespace ck_netns_enter() returned, and closes that fd. A
 * thread that cannot return would do everything after in the wrong
 * namespace, in ways nobody could follow: it aborts instead. */
void ck_netns_leave(int saved);

G_END_DECLS
