/* hotplug: growing a running VM through QMP.
 *
 * vCPUs: query-hotpluggable-cpus lists the CPU slots -smp's maxcpus made
 * (with the device type and socket/core/thread ids to use); device_add
 * fills free ones. Memory: a memory-backend-memfd object (no huge-page
 * rounding, like the boot RAM) and a pc-dimm device per step, each consuming one of -m's slots. The guest then has to
 * bring the new CPUs online (the agent's online_cpu_mem); new memory comes
 * online by itself (memhp_default_state=online on the kernel command line).
 */
#pragma once

#include <glib.h>

#include "qmp.h"

G_BEGIN_DECLS

/* Plugs vCPUs until `want` exist; *out_present is how many exist after. */
gboolean hotplug_cpus(QmpClient *qmp, int want, int *out_present, GError **error);

/* Plugs one DIMM of size_mib; `index` makes its ids unique. */
gboolean hotplug_memory(QmpClient *qmp, guint index, guint64 size_mib, GError **error);

G_END_DECLS
