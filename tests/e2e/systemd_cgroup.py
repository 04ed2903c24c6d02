#!/usr/bin/env python3
"""systemd_cgroup.py: the systemd cgroup driver end to end (TAP).

CRI-O with cgroup_manager = "systemd" gives conmon `-s` and a
"slice:prefix:name" cgroupsPath, and conmon gives the runtime
`--systemd-cgroup`. The container's host process (the pid the caller is
told) must then be placed in a transient scope asked of systemd over
D-Bus (StartTransientUnit with the slice, Delegate, PIDs, the accounting
switches and the spec's resources in runc's property names), and the
scope stopped when the container ends. On cgroup v1 the pid also joins
the scope's folder in the hierarchies systemd leaves alone, as runc does. Checked both ways the runtime is
driven: conmon-kata as CRI-O runs it (the stand-in is the pid), and
stock conmon's `vmctl --systemd-cgroup create` (conmon-kata --shim is
the pid).

This host has no systemd as PID 1 (and a real one must not be touched by
a test): the driver starts its own dbus-daemon on a socket in its scratch
folder, and tests/lib/systemd-peer owns org.freedesktop.systemd1 there,
implements the Manager calls the runtime makes and records them; every
runtime call and monitor gets $DBUS_SYSTEM_BUS_ADDRESS pointing at that
bus. The checks are on the record. Then, with no bus at all, create fails
with one line naming the bus and leaves nothing behind.

Boots three VMs, one at a time. Everything started is stopped at the
end, even on failure, and the last checks say whether anything was left.

Environment (set by meson): CK_BUILD_ROOT, CK_SOURCE_ROOT, CK_TEST_CONFIG,
CK_TEST_ROOTFS, CK_SYSTEMD_PEER.
"""

import os
import re
import sys

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ckdriver.crio import Pod, crio_create, expect_pid_sync, run_crio_suite, start  # noqa: E402
from ckdriver.oci import ctr_error, expect_error  # noqa: E402
from ckdriver.procs import cgroup_lines  # noqa: E402
from ckdriver.systemd import PrivateSystemd  # noqa: E402
from ckdriver.util import read_bytes, wait_until  # noqa: E402

MIB = 1024 * 1024
RESOURCES = {'memory': {'limit': 256 * MIB}, 'cpu': {'shares': 512, 'quota': 50000, 'period': 100000},
             'pids': {'limit': 200}}


def scope_pod(ctx, name):
    """A pod whose sandbox has a systemd cgroupsPath and resources."""
    pod = Pod(ctx, name, f'uid-{name}', netns_prefix='cgroups')
    sb = pod.sandbox

    def edit(spec):
        spec['linux']['cgroupsPath'] = f'system.slice:crio:{sb.id}'
        spec['linux'].setdefault('resources', {}).update(RESOURCES)
    sb.prepare(edit=edit)
    return pod, sb


def start_line(unit, pid):
    return (f'StartTransientUnit {unit} fail Description=s:conmon-kata container {unit} Slice=s:system.slice '
            f'PIDs=au:[{pid}] Delegate=b:true MemoryAccounting=b:true CPUAccounting=b:true '
            'BlockIOAccounting=b:true TasksAccounting=b:true DefaultDependencies=b:false '
            f'MemoryLimit=t:{256 * MIB} CPUShares=t:512 CPUQuotaPerSecUSec=t:500000 CPUQuotaPeriodUSec=t:100000 '
            'TasksMax=t:200 aux=0')


def check_started(ctx, what, unit, pid):
    ctx.tap.eq(f'{what}: one StartTransientUnit of crio-<id>.scope in the slice, with the reported pid, Delegate, '
               f'the accounting switches and the spec\'s resources (runc\'s cgroup v1 names)',
               ['Subscribe', start_line(unit, pid)], ctx.systemd.take())
    # cgroup v1: systemd makes the scope where it manages (here: nowhere,
    # the peer makes nothing); as runc, the pid joins the scope's folder
    # in every other hierarchy itself, all but name=systemd
    cg = cgroup_lines(pid)
    want = f'/system.slice/{unit}'
    wrong = {k: v for k, v in cg.items() if k in ('memory', 'cpuset', 'pids') and v != want}
    ctx.tap.ok(len(cg) > 3 and not wrong and cg.get('name=systemd') != want,
               f'{what}: the pid is in {want} in the memory, cpuset and pids hierarchies, and not moved in '
               f'name=systemd (systemd\'s own)', f'/proc/{pid}/cgroup: {cg}')


def stop_checked(ctx, what, c, unit):
    """kill KILL (a TERM right after start may come before the pause
    process's trap, and PID 1 ignores it then), the pid ends, the scope
    is stopped, then delete."""
    pid = c.pid
    r = c.vmctl('kill', c.id, 'KILL')
    ctx.tap.ok(r.rc == 0, f'{what}: `kill <sandbox> KILL` exits 0', *r.diag())
    gone = wait_until(lambda: ctx.reaper.gone(pid), 30, 0.1)
    stopped = wait_until(lambda: (read_bytes(ctx.systemd.record) or b'') != b'', 30, 0.1)
    ctx.tap.eq(f'{what}: at the container\'s end its scope is stopped (StopUnit, then ResetFailedUnit as runc does)',
               ['Subscribe', f'StopUnit {unit} replace', f'ResetFailedUnit {unit}'],
               ctx.systemd.take() if stopped else [],
               f'pid {pid} gone: {gone}', *(c.mon.diag() if c.mon else []))
    folder = f'/sys/fs/cgroup/memory/system.slice/{unit}'
    ctx.tap.ok(not os.path.exists(folder), f'{what}: the scope\'s folder made beside systemd is gone',
               f'{folder} exists')
    r = c.vmctl('delete', '--force', c.id)
    ctx.tap.ok(r.rc == 0, f'{what}: `delete --force` exits 0', *r.diag())
    c.deleted = r.rc == 0
    ctx.tap.eq(f'{what}: delete makes no further call', [], ctx.systemd.take())


def crio_monitor(ctx):
    """conmon-kata -s as CRI-O runs it: the stand-in goes into the scope."""
    _, sb = scope_pod(ctx, 'sd-crio')
    expect_pid_sync(sb, crio_create(sb, extra=['-s']))
    unit = f'crio-{sb.id}.scope'
    check_started(ctx, 'conmon-kata -s', unit, sb.pid)
    start(sb)
    stop_checked(ctx, 'conmon-kata -s', sb, unit)


def vmctl_files(ctx, c, *args):
    """vmctl as stock conmon calls it, from the bundle, stdio on files (the
    container inherits them, so vmctl's own exit is what is waited for)."""
    return ctx.vmctl_files(f'vmctl-{c.id}', *args, timeout=180, config=c.pod.config, cwd=c.bundle)


def vmctl_shim(ctx):
    """vmctl --systemd-cgroup create (stock conmon's call): conmon-kata
    --shim is the container's pid and goes into the scope itself."""
    _, sb = scope_pod(ctx, 'sd-shim')
    r = vmctl_files(ctx, sb, '--systemd-cgroup', 'create', '--bundle', sb.bundle, '--pid-file', sb.pidfile, sb.id)
    text = read_bytes(sb.pidfile) or b''
    ctx.tap.must(r.rc == 0 and re.fullmatch(rb'[1-9][0-9]*', text), 'vmctl --systemd-cgroup create exits 0 with a pid',
                 *r.diag())
    sb.pid = int(text)
    unit = f'crio-{sb.id}.scope'
    check_started(ctx, 'vmctl --systemd-cgroup', unit, sb.pid)
    start(sb)
    stop_checked(ctx, 'vmctl --systemd-cgroup', sb, unit)


def no_bus(ctx):
    """No systemd reachable: one line naming the bus, nothing left."""
    _, sb = scope_pod(ctx, 'sd-nobus')
    nobus = f"unix:path={os.path.join(ctx.systemd.dir, 'nobus')}"
    ctx.extra_env['DBUS_SYSTEM_BUS_ADDRESS'] = nobus
    try:
        r = vmctl_files(ctx, sb, '--systemd-cgroup', 'create', '--bundle', sb.bundle, '--pid-file', sb.pidfile, sb.id)
    finally:
        ctx.extra_env['DBUS_SYSTEM_BUS_ADDRESS'] = ctx.systemd.address
    expect_error(ctx.tap, r, 'vmctl --systemd-cgroup create with no bus: exit 1, one line naming the bus',
                 ctr_error(sb.id, f'systemd cgroup: connect to the system bus ({nobus}): No such file or directory'))
    ctx.tap.eq('no bus: no call reached the peer', [], ctx.systemd.take())
    r = sb.vmctl('state', sb.id)
    ctx.tap.ok(r.rc == 1, 'no bus: the container does not exist afterwards', *r.diag())
    sb.deleted = True


def body(ctx):
    ctx.systemd = PrivateSystemd(ctx.mk('dbus'), ctx.env.systemd_peer)
    ctx.on_stop(ctx.systemd.stop)
    ctx.systemd.start(ctx.tap)
    ctx.extra_env.update(ctx.systemd.env())
    ctx.tap.item('conmon-kata -s', crio_monitor, ctx)
    ctx.tap.item('vmctl --systemd-cgroup', vmctl_shim, ctx)
    ctx.tap.item('no bus', no_bus, ctx)


if __name__ == '__main__':
    sys.exit(run_crio_suite(body))
