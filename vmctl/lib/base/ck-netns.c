/* ck-netns: the calling thread in another network namespace and back (see ck-netns.h). */
#include "ck-netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include "ck-cleanup.h"
#include "ck-error.h"

int ck_netns_enter(int netns_fd, const char *path, GError **error)
{
	ck_autofd saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (saved < 0)
		return ck_set_error_errno(error, errno, "open /proc/thread-self/ns/net"), -1;
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return ck_set_error_errno(error, errno, "enter the network namespace %s", path), -1;
	return ck_steal_fd(&saved);
}

void ck_netns_leave(int saved)
{
	if (setns(saved, CLONE_NEWNET) < 0)
		g_error("cannot return to the thread's own network namespace: %s", g_strerror(errno));
	close(saved);
}
