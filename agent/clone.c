/* clone: a template's clone becomes a VM of its own (clone.h). */
#include "clone.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "base/ck-error.h"
#include "base/ck-io.h"
#include "base/ck-json.h"
#include "base/ck-log.h"

#define PCI_RESCAN "/sys/bus/pci/rescan"
#define BOOT_ID "/proc/sys/kernel/random/boot_id"

/* The host's bytes credited as entropy, then a reseed of the CRNG, so that
 * the very next read of /dev/urandom (or getrandom) in this clone depends
 * on them, not only on the state every clone shares. */
static gboolean reseed_rng(const guint8 *bytes, gsize len, GError **error)
{
	g_autofree struct rand_pool_info *info = g_malloc0(sizeof *info + len);
	info->entropy_count = (int)(len * 8);
	info->buf_size = (int)len;
	memcpy(info->buf, bytes, len);

	int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_set_error_errno(error, errno, "clone_identity: /dev/urandom");
	gboolean ok = ioctl(fd, RNDADDENTROPY, info) == 0 && ioctl(fd, RNDRESEEDCRNG) == 0;
	int errsv = errno;
	close(fd);
	explicit_bzero(info->buf, len);
	return ok || ck_set_error_errno(error, errsv, "clone_identity: reseed the kernel RNG");
}

static gboolean set_clock(gint64 realtime_ns, GError **error)
{
	struct timespec ts = {.tv_sec = realtime_ns / 1000000000, .tv_nsec = realtime_ns % 1000000000};

	if (realtime_ns <= 0)
		return ck_set_error(error, CK_ERROR_INVALID, "clone_identity: realtime_ns: %" G_GINT64_FORMAT
				    " is not a time", realtime_ns);
	if (clock_settime(CLOCK_REALTIME, &ts) < 0)
		return ck_set_error_errno(error, errno, "clone_identity: set the clock");
	return TRUE;
}

static gboolean rescan_pci(GError **error)
{
	int fd = open(PCI_RESCAN, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_set_error_errno(error, errno, "clone_identity: %s", PCI_RESCAN);
	gboolean ok = ck_write_all(fd, "1", 1);
	int errsv = errno;
	close(fd);
	return ok || ck_set_error_errno(error, errsv, "clone_identity: %s", PCI_RESCAN);
}

gboolean op_clone_identity(AgentRequest *req, gpointer args, gpointer result, GError **error)
{
	const CkCloneIdentityArgs a = *(const CkCloneIdentityArgs *)args;
	CkCloneIdentityResult *r = result;
	gsize len = 0;

	(void)req;
	if (strlen(a.entropy) > (CLONE_ENTROPY_MAX + 2) / 3 * 4)
		return ck_set_error(error, CK_ERROR_INVALID, "clone_identity: entropy: more than %d bytes",
				    CLONE_ENTROPY_MAX);
	g_autofree guint8 *bytes = g_base64_decode(a.entropy, &len);
	if (len < CLONE_ENTROPY_MIN || len > CLONE_ENTROPY_MAX)
		return ck_set_error(error, CK_ERROR_INVALID, "clone_identity: entropy: %" G_GSIZE_FORMAT
				    " bytes, must be %d..%d", len, CLONE_ENTROPY_MIN, CLONE_ENTROPY_MAX);
	gboolean ok = reseed_rng(bytes, len, error);
	explicit_bzero(bytes, len);
	if (!ok || !set_clock(a.realtime_ns, error) || (a.rescan_pci && !rescan_pci(error)))
		return FALSE;

	/* read only now: the kernel makes the boot id on its first read, from
	 * the reseeded RNG, so each clone has its own (docs/templating.md) */
	g_autofree char *boot_id = NULL;
	if (ck_file_read_bounded(BOOT_ID, 64, &boot_id, NULL, NULL))
		r->boot_id = g_strdup(g_strstrip(boot_id));
	ck_log_info("clone: RNG reseeded with %" G_GSIZE_FORMAT " host bytes, clock set%s", len,
		    a.rescan_pci ? ", PCI bus rescanned" : "");
	return TRUE;
}
