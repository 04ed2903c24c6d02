"""A private system bus with tests/lib/systemd-peer answering
as systemd, for the drivers that run the systemd cgroup driver
(`--systemd-cgroup`; docs/cgroups.md).

The test hosts have no systemd as PID 1 (and a real one must not be
touched by a test): a dbus-daemon of the test's own listens on a socket
in a folder of the test's, and the peer owns org.freedesktop.systemd1
there, implements the Manager calls vmctl makes and records each call as
one line. Whatever runs vmctl or conmon-kata gets env() in its
environment ($DBUS_SYSTEM_BUS_ADDRESS). stop() ends both, whatever
happened.
"""

import os
import signal
import subprocess

from .procs import signal_quietly
from .util import read_bytes

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


class PrivateSystemd:
    """peer: tests/lib/systemd-peer (ctx.env.systemd_peer)."""

    def __init__(self, folder, peer):
        os.makedirs(folder, exist_ok=True)
        self.peer = peer
        self.dir = folder
        self.address = f"unix:path={os.path.join(folder, 'bus')}"
        self.record = os.path.join(folder, 'record')
        self.errors = os.path.join(folder, 'daemons.err')
        self.daemons = []

    def env(self):
        return {'DBUS_SYSTEM_BUS_ADDRESS': self.address}

    def _start_daemon(self, argv):
        """Starts argv; returns its first line of output."""
        with open(self.errors, 'ab') as err:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        self.daemons.append(p)
        return p.stdout.readline().decode(errors='replace').strip()

    def start(self, tap):
        """Starts the bus and the peer; tap.must() on each."""
        tap.must(self.peer and os.access(self.peer, os.X_OK), 'tests/lib/systemd-peer is built',
                 f'CK_SYSTEMD_PEER={self.peer!r}')
        conf = os.path.join(self.dir, 'bus.conf')
        with open(conf, 'w') as f:
            f.write(BUS_CONF.format(address=self.address))
        open(self.record, 'w').close()
        line = self._start_daemon(['dbus-daemon', f'--config-file={conf}', '--nofork', '--nopidfile',
                                   '--print-address'])
        tap.must(line.startswith(self.address), 'a private dbus-daemon listens on its own socket',
                 f'first line: {line!r}', f'stderr: {read_bytes(self.errors)!r}')
        ready = self._start_daemon([self.peer, self.address, self.record])
        tap.must(ready == 'ready', 'systemd-peer owns org.freedesktop.systemd1 on it (this host has no systemd '
                 'as PID 1)', f'first line: {ready!r}', f'stderr: {read_bytes(self.errors)!r}')

    def stop(self):
        for p in reversed(self.daemons):
            signal_quietly(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                signal_quietly(p.pid, signal.SIGKILL)
                p.wait()
            p.stdout.close()
        self.daemons = []

    def take(self):
        """The calls recorded since the last take."""
        text = (read_bytes(self.record) or b'').decode(errors='replace')
        os.truncate(self.record, 0)  # in place: the peer appends to it
        return text.splitlines()
