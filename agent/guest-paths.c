/* guest-paths: where the host's files are in the guest (see guest-paths.h). */
#include "guest-paths.h"

#include <string.h>

gboolean guest_path_is_shared(const char *path)
{
	if (path == NULL || path[0] != '/' || strstr(path, "/../") != NULL || g_str_has_suffix(path, "/..") ||
	    strstr(path, "//") != NULL)
		return FALSE;
	return g_str_has_prefix(path, SANDBOX_SHARE_DIR "/") || g_str_has_prefix(path, SANDBOX_FILES_DIR "/");
}
