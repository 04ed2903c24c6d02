/* host-systemd: the container's host cgroup as a transient systemd scope,
 * for the systemd cgroup driver (--systemd-cgroup, CRI-O's
 * cgroup_manager = "systemd").
 *
 * As runc does, a cgroupsPath "slice:prefix:name" becomes the scope
 * "<prefix>-<name>.scope" in <slice> (system.slice when empty), started
 * through the system bus (sd-bus, $DBUS_SYSTEM_BUS_ADDRESS or the
 * standard socket) with the Manager's StartTransientUnit: Slice,
 * Description, Delegate, PIDs, the accounting switches and the spec's
 * resources as runc names them (cgroup v1 or v2 property names). Both
 * calls wait for their job's JobRemoved signal. */
#pragma once

#include <sys/types.h>

#include <glib.h>

#include "oci/oci-spec.h"

G_BEGIN_DECLS

/* Splits "slice:prefix:name" into the slice (system.slice when empty)
 * and the scope's unit name; an error names the path otherwise. */
gboolean host_systemd_unit_of(const char *cgroups_path, char **slice, char **unit, GError **error);

/* Starts the scope holding pid. res may be NULL; unified picks the v2
 * property names. *unit is set to the unit started. Errors are one line
 * naming the bus or the unit. */
gboolean host_systemd_start_scope(const char *cgroups_path, pid_t pid, const OciResources *res, gboolean unified,
				  char **unit, GError **error);

/* Stops the unit (a unit already gone is success) and resets its failed
 * state. */
gboolean host_systemd_stop_scope(const char *unit, GError **error);

G_END_DECLS
