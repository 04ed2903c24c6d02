#!/usr/bin/env python3
"""systemd_cgroup.py: the systemd cgroup driver end to end (TAP).

`vmctl --systemd-cgroup create` with a "slice:prefix:name" cgroupsPath,
as CRI-O calls it with cgroup_manager = "systemd": the container's host
process (the pid vmctl reports) must be placed in a transient scope that
vmctl asks systemd for over D-Bus (StartTransientUnit with the slice,
Delegate, PIDs, the accounting switches and the spec's resources in
runc's property names), and the scope stopped when the container ends.

This host has no systemd as PID 1 (and a real one must not be touched by
a test): the driver starts its own dbus-daemon on a socket in a temporary
folder, and tests/lib/systemd-peer owns org.freedesktop.systemd1 there,
implements the Manager calls vmctl makes and records them; vmctl is
pointed at that bus with $DBUS_SYSTEM_BUS_ADDRESS. The checks are on the
record. Then, with no bus at all, create fails with one line naming the
bus and leaves nothing behind.

Boots two VMs, one at a time. Everything started is stopped at the end,
even on failure.

Environment (set by meson): CK_BUILD_ROOT, CK_SOURCE_ROOT, CK_TEST_CONFIG,
CK_TEST_ROOTFS, CK_SYSTEMD_PEER.
"""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ckdriver import (  # noqa: E402
    REAPER, Result, Tap, ctr_error, drive, expect_error, nothing_left, now, read_bytes, rm_rf, run_cmd,
    signal_quietly, wait_until)

BUILD = os.environ.get('CK_BUILD_ROOT', '')
SOURCE = os.environ.get('CK_SOURCE_ROOT', '')
CONFIG = os.environ.get('CK_TEST_CONFIG', '')
ROOTFS = os.environ.get('CK_TEST_ROOTFS', '')
PEER = os.environ.get('CK_SYSTEMD_PEER', '')
VMCTL = os.path.join(BUILD, 'vmctl', 'vmctl')
BASE_SPEC = os.path.join(SOURCE, 'tests', 'data', 'config-default.json')
PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
MIB = 1024 * 1024

BUS_CONF = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <listen>{address}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
'''

tap = Tap()


class World:
    def __init__(self):
        # short: <root>/pods/<id>/ctl.sock must fit in sun_path
        self.root = tempfile.mkdtemp(prefix='cgroups-sd.', dir='/run')
        self.tmp = tempfile.mkdtemp(prefix='cgroups-sd.', dir='/tmp')
        self.token = secrets.token_hex(3)
        self.address = f"unix:path={self.path('bus')}"
        self.record = self.path('record')
        self.daemons = []
        self.ids = []

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def start_daemon(self, argv):
        """Starts argv and returns its first line of output."""
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=open(self.path('daemons.err'), 'ab'))
        self.daemons.append(p)
        return p.stdout.readline().decode(errors='replace').strip()

    def start_bus(self):
        with open(self.path('bus.conf'), 'w') as f:
            f.write(BUS_CONF.format(address=self.address))
        open(self.record, 'w').close()
        line = self.start_daemon(['dbus-daemon', f"--config-file={self.path('bus.conf')}", '--nofork',
                                  '--nopidfile', '--print-address'])
        tap.must(line.startswith(self.address), 'a private dbus-daemon listens on its own socket',
                 f'first line: {line!r}', f"stderr: {read_bytes(self.path('daemons.err'))!r}")
        ready = self.start_daemon([PEER, self.address, self.record])
        tap.must(ready == 'ready', 'systemd-peer owns org.freedesktop.systemd1 on it', f'first line: {ready!r}',
                 f"stderr: {read_bytes(self.path('daemons.err'))!r}")

    def stop_daemons(self):
        for p in reversed(self.daemons):
            signal_quietly(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                signal_quietly(p.pid, signal.SIGKILL)
                p.wait()
            p.stdout.close()
        self.daemons = []


W = None


def vmctl(*args, bus=None, timeout=60):
    """vmctl with the container's stdio on files (create: the container
    inherits them), the bus given in $DBUS_SYSTEM_BUS_ADDRESS."""
    cmd = [VMCTL, '--root', W.root, '--config', CONFIG, *args]
    env = {'PATH': PATH, 'DBUS_SYSTEM_BUS_ADDRESS': bus or W.address}
    name = W.path(f'vmctl-{len(os.listdir(W.tmp))}')
    t0 = now()
    with open(name + '.out', 'wb') as out, open(name + '.err', 'wb') as err:
        try:
            rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=timeout, cwd=W.tmp,
                                env=env).returncode
        except subprocess.TimeoutExpired:
            rc = None
    return Result(cmd, rc, read_bytes(name + '.out') or b'', read_bytes(name + '.err') or b'', now() - t0)


def bundle(name, resources):
    cid = f'{name}-{W.token}'
    path = W.path('bundles', cid)
    os.makedirs(path)
    r = subprocess.run(['cp', '-a', ROOTFS, os.path.join(path, 'rootfs')], capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f'cp -a {ROOTFS}: {r.stderr!r}')
    with open(BASE_SPEC) as f:
        spec = json.load(f)
    spec['process']['args'] = ['sleep', '600']
    spec['process']['terminal'] = False
    spec['root']['path'] = 'rootfs'
    spec['linux']['cgroupsPath'] = f'system.slice:cgroups:{cid}'
    spec['linux']['resources'].update(resources)
    with open(os.path.join(path, 'config.json'), 'w') as f:
        json.dump(spec, f, indent='\t')
    W.ids.append(cid)
    return cid, path


def take_record():
    text = (read_bytes(W.record) or b'').decode(errors='replace')
    os.truncate(W.record, 0)  # in place: the peer appends to it
    return text.splitlines()


def scope():
    cid, path = bundle('scope', {'memory': {'limit': 256 * MIB}, 'cpu': {'shares': 512, 'quota': 50000,
                                                                          'period': 100000},
                                 'pids': {'limit': 200}})
    pidfile = W.path(f'{cid}.pid')
    r = vmctl('--systemd-cgroup', 'create', '--bundle', path, '--pid-file', pidfile, cid, timeout=180)
    text = read_bytes(pidfile) or b''
    tap.must(r.rc == 0 and re.fullmatch(rb'[1-9][0-9]*', text), 'create --systemd-cgroup exits 0 with a pid',
             *r.diag())
    pid = int(text)
    unit = f'cgroups-{cid}.scope'
    want = ['Subscribe',
            f'StartTransientUnit {unit} fail Description=s:conmon-kata container {unit} Slice=s:system.slice '
            f'PIDs=au:[{pid}] Delegate=b:true MemoryAccounting=b:true CPUAccounting=b:true '
            'BlockIOAccounting=b:true TasksAccounting=b:true DefaultDependencies=b:false '
            f'MemoryLimit=t:{256 * MIB} CPUShares=t:512 CPUQuotaPerSecUSec=t:500000 CPUQuotaPeriodUSec=t:100000 '
            'TasksMax=t:200 aux=0']
    tap.eq('create: one StartTransientUnit of <prefix>-<name>.scope in the slice, with the reported pid, '
           'Delegate, the accounting switches and the spec\'s resources (runc\'s cgroup v1 names)',
           want, take_record())
    folder = f'/sys/fs/cgroup/memory/system.slice/{unit}'
    tap.ok(not os.path.exists(folder), 'create: vmctl made no cgroupfs folder of its own for the scope',
           f'{folder} exists')
    r = vmctl('start', cid)
    tap.must(r.rc == 0, 'start exits 0', *r.diag())
    r = vmctl('kill', cid, 'KILL')
    tap.ok(r.rc == 0, 'kill KILL exits 0', *r.diag())
    stopped = wait_until(lambda: REAPER.gone(pid) and (read_bytes(W.record) or b'') != b'', 60, 0.1)
    tap.eq('the container\'s end: its scope stopped (StopUnit, then ResetFailedUnit as runc does)',
           ['Subscribe', f'StopUnit {unit} replace', f'ResetFailedUnit {unit}'], take_record() if stopped else [])
    r = vmctl('delete', cid)
    tap.ok(r.rc == 0, 'delete exits 0', *r.diag())
    tap.eq('delete: no further call', [], take_record())


def no_bus():
    cid, path = bundle('nobus', {})
    nobus = f"unix:path={W.path('nobus')}"
    r = vmctl('--systemd-cgroup', 'create', '--bundle', path, '--pid-file', W.path(f'{cid}.pid'), cid, bus=nobus,
              timeout=180)
    expect_error(tap, r, 'create --systemd-cgroup with no bus: exit 1, one line naming the bus',
                 ctr_error(cid, f'systemd cgroup: connect to the system bus ({nobus}): No such file or directory'))
    tap.eq('no bus: no call reached the peer', [], take_record())
    r = vmctl('state', cid)
    tap.ok(r.rc != 0, 'no bus: the container does not exist afterwards', *r.diag())
    nothing_left(tap, 'no bus: no QEMU or monitor left', [W.root], 30)


def main():
    global W
    W = World()

    def body():
        tap.must(PEER and os.access(PEER, os.X_OK), 'tests/lib/systemd-peer is built', f'CK_SYSTEMD_PEER={PEER!r}')
        W.start_bus()
        tap.item('scope', scope)
        tap.item('no-bus', no_bus)

    def cleanup():
        for cid in W.ids:
            vmctl('delete', '--force', cid, timeout=60)
        W.stop_daemons()
        nothing_left(tap, 'nothing of the test runs afterwards', [W.root, W.tmp], 30)
        rm_rf(W.root)
        rm_rf(W.tmp)

    return drive(tap, body, cleanup)


if __name__ == '__main__':
    sys.exit(main())
