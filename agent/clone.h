/* clone: what makes a VM restored from a template (docs/templating.md)
 * its own.
 *
 * Every clone of a template starts with the template's memory: the same
 * kernel RNG state, a wall clock stopped at the moment the template was
 * saved, and only the PCI devices the template had. The host's first
 * request to a clone is "clone_identity": it mixes host entropy into the
 * kernel's RNG and forces a reseed (RNDADDENTROPY, RNDRESEEDCRNG), sets
 * CLOCK_REALTIME from the host's, and rescans the PCI bus for the devices
 * only the clone has (its NICs). The hostname and sysctls are the pod's
 * through create_sandbox, which runs after it, as in a booted VM.
 */
#pragma once

#include <glib.h>

#include "agent.h"
#include "reply.h"

G_BEGIN_DECLS

/* entropy the host must send, bytes (decoded) */
#define CLONE_ENTROPY_MIN 32
#define CLONE_ENTROPY_MAX 512

gboolean op_clone_identity(AgentRequest *req, gpointer args, gpointer result, GError **error);

G_END_DECLS
