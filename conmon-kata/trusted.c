/* trusted: pods that run on the host, through the trusted runtime.
 *
 * Not implemented yet: a trusted pod is refused at create with a clear
 * message rather than run in a VM it did not ask for. */
#include "ck-error.h"
#include "ck-log.h"
#include "monitor-internal.h"

int monitor_trusted(Monitor *m)
{
	const char *msg = "trusted pods (runc on the host) are not supported by this build yet";

	ck_log_error("container %s: %s", m->cfg->cid, msg);
	(void)monitor_sync_write(m, -1, msg);
	return 1;
}
