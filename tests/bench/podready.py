#!/usr/bin/env python3
"""podready.py: one pod started the way CRI-O starts it, with its timeline.

    podready.py ours|baseline OUT

ours:     conmon-kata with CRI-O's sandbox command line (tests/e2e/ckdriver/crio.py:
          start pipe, sync pipe, --syslog) and vmctl as the runtime: the pod
          monitor boots the VM;
baseline: Debian's conmon with the same command line and runc as the
          runtime (no --config runtime argument, which runc does not know).

Then, like CRI-O: `start` of the sandbox, a container created in the pod
(its own monitor, CRI-O's container command line), `start`, and the
container's first line in its k8s log. Every moment is taken on the host's
CLOCK_BOOTTIME relative to spawning the sandbox's monitor ("pod ready" is
the `{"pid": N}` line on the sync pipe); the first log byte is the log
record's own timestamp, which the monitor takes as it reads the data. For
ours, QEMU's exec is its /proc start time (10 ms resolution), and the
guest's phases (QEMU exec -> kernel -> /init -> agent ready) come from the
pod monitor's "VM up" line (conmon-kata/pod.c), and the steps of the sandbox's
path to its pid from its "sandbox ready" line (conmon-kata/monitor-vm.c: the
monitor's and the pod's set-up, setup_network, create_sandbox, the control
socket, the sandbox container in the guest, the stand-in), which it sends to syslog
as CRI-O runs it: this script is run in a mount namespace of its own
(unshare --mount) and binds its own socket over /dev/log there, so that
it neither needs nor disturbs the host's syslog.

Writes "KEY VALUE" lines (seconds) to OUT; exits non-zero when anything
failed or was left behind. Stops the pod and removes everything itself.
"""
import datetime
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get('CK_SOURCE_ROOT', ''), 'tests', 'e2e'))
from ckdriver import crio  # noqa: E402
from ckdriver.context import Context, Env  # noqa: E402
from ckdriver.procs import run_cmd, set_child_subreaper  # noqa: E402
from ckdriver.streams import recv_line  # noqa: E402
from ckdriver.util import read_bytes, wait_until  # noqa: E402

FIRST_LINE = b'BENCH-FIRST-LINE'
VM_UP = re.compile(r'VM up in ([0-9.]+) s \(\w+\): QEMU exec to kernel ([0-9.]+) s, kernel to /init ([0-9.]+) s, '
                   r'/init to agent ready ([0-9.]+) s, to its answer ([0-9.]+) s')
SANDBOX_READY = re.compile(r'sandbox ready in ([0-9.]+) s: monitor set-up ([0-9.]+) s, pod set-up ([0-9.]+) s, '
                           r'VM boot ([0-9.]+) s, guest network ([0-9.]+) s, create_sandbox ([0-9.]+) s, '
                           r'control socket and port forwarding ([0-9.]+) s, sandbox container: bundle into '
                           r'the share ([0-9.]+) s, create_container ([0-9.]+) s, stand-in, state and hooks '
                           r'([0-9.]+) s')
GUEST_CREATE = re.compile(r'sandbox container in the guest in ([0-9.]+) s: spec ([0-9.]+) s, stdio ([0-9.]+) s, '
                          r'cgroup ([0-9.]+) s, plan ([0-9.]+) s, namespaces and fork ([0-9.]+) s, rootfs and '
                          r'mounts ([0-9.]+) s, bookkeeping ([0-9.]+) s')


def boottime():
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def realtime_to_boottime(rt):
    return rt - time.clock_gettime(time.CLOCK_REALTIME) + boottime()


class Failed(Exception):
    pass


class Syslog:
    """Our own /dev/log: a socket bound over the host's in this mount
    namespace, or at /dev/log itself (removed at the end) when there is none."""

    def __init__(self, path):
        self.messages = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        # no /dev/log on the host: ours, for the run (as ckdriver.devlog's Syslog)
        self.own_path = not os.path.lexists('/dev/log')
        self.sock.bind('/dev/log' if self.own_path else path)
        if not self.own_path:
            r = subprocess.run(['mount', '--bind', path, '/dev/log'], capture_output=True)
            if r.returncode != 0:
                raise Failed(f'mount --bind {path} /dev/log: {r.stderr!r}')
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                self.messages.append(self.sock.recv(65536).decode(errors='replace'))
            except OSError:
                return

    def find(self, pattern, timeout, pod_id):
        """The first message of pod `pod_id` matching: /dev/log may be the
        host's own, where every other pod of the machine logs too."""
        tag = f'pod {pod_id}: '

        def match():
            for m in list(self.messages):
                found = pattern.search(m) if tag in m else None
                if found:
                    return found
            return None
        return wait_until(match, timeout, 0.05)

    def close(self):
        if self.own_path:
            os.unlink('/dev/log')
        else:
            subprocess.run(['umount', '/dev/log'], capture_output=True)
        self.sock.close()


class Variant:
    def __init__(self, ctx, ours):
        self.ctx = ctx
        self.ours = ours
        self.runc_root = os.path.join(ctx.root, 'runc-baseline')

    def create_argv(self, c):
        if self.ours:
            return crio.create_argv(c)
        return crio.conmon_create_argv(CONMON, RUNC, [f'--root={self.runc_root}'], c, self.ctx.crio.exits,
                                       self.ctx.crio.sockdir)

    def runtime(self, *args):
        if self.ours:
            return self.ctx.vmctl(*args)
        return run_cmd([RUNC, '--root', self.runc_root, *args], cwd=self.ctx.crio.crio_cwd,
                       env=self.ctx.runtime_env())

    def call(self, what, *args):
        r = self.runtime(*args)
        if r.rc != 0:
            raise Failed(f'{what}: ' + '; '.join(r.diag()))
        return boottime()


def create(v, c, t_origin):
    """Spawns c's monitor as CRI-O does; the moment {"pid": N} arrives."""
    mon = crio.Monitor(v.ctx, v.create_argv(c), cwd=c.bundle)
    c.mon = mon
    mon.write_start()
    sync = recv_line(mon.sync, 150)
    t = boottime()
    if not re.fullmatch(rb'\{"pid": [1-9][0-9]*\}\n', sync):
        raise Failed(f'{c.label()}: sync pipe gave {sync!r}; ' + '; '.join(mon.diag()))
    c.pid = int(sync[8:-2])
    rc = mon.wait_p0(30)
    if rc != 0:
        raise Failed(f'{c.label()}: P0 exit status {rc}; ' + '; '.join(mon.diag()))
    text = read_bytes(c.conmon_pidfile)
    c.p1 = int(text) if text and text.isdigit() else None
    return t - t_origin


def first_log_line(c, timeout=60):
    """The log record's timestamp (host CLOCK_BOOTTIME) of the first line."""
    def find():
        for line in (read_bytes(c.log) or b'').splitlines():
            if line.endswith(b' ' + FIRST_LINE):
                return line.split(b' ', 1)[0].decode()
        return None
    stamp = wait_until(find, timeout, 0.01)
    if stamp is None:
        raise Failed(f'{c.label()}: no {FIRST_LINE!r} in {c.log} after {timeout} s')
    # RFC 3339 with nanoseconds and an offset: keep microseconds for Python
    m = re.fullmatch(r'(.*T[0-9:]+)\.([0-9]+)([+-][0-9:]+|Z)', stamp)
    rt = datetime.datetime.fromisoformat(f'{m.group(1)}.{m.group(2)[:6]}{m.group(3).replace("Z", "+00:00")}')
    return realtime_to_boottime(rt.timestamp())


def qemu_exec(pod):
    """Host CLOCK_BOOTTIME when the pod's QEMU started (10 ms resolution)."""
    found = crio.pod_qemu(pod.sandbox)
    if not found:
        raise Failed('no QEMU process for the pod')
    stat = read_bytes(f'/proc/{found[0][0]}/stat')
    start_ticks = int(stat[stat.rindex(b')') + 2:].split()[19])
    return start_ticks / os.sysconf('SC_CLK_TCK')


def stop(v, c):
    v.runtime('kill', c.id, 'KILL')
    wait_until(lambda: v.ctx.reaper.gone(c.p1) if c.p1 else True, 30)
    v.runtime('delete', '--force', c.id)
    c.deleted = True


def one_pod(v, syslog, out):
    pod = crio.Pod(v.ctx, 'bench', secrets.token_hex(8), trusted=not v.ours, netns_prefix='ckbench')
    sb = pod.sandbox
    sb.prepare()
    ctr = crio.Ctr(pod, 'first')
    ctr.prepare(args=['sh', '-c', f'echo {FIRST_LINE.decode()}; exec sleep 100000'])
    rec = {}
    t0 = boottime()
    rec['ready_s'] = create(v, sb, t0)
    if v.ours:
        rec['qemu_exec_at_s'] = qemu_exec(pod) - t0
    rec['sandbox_started_at_s'] = v.call('start sandbox', 'start', sb.id) - t0
    rec['ctr_created_at_s'] = create(v, ctr, t0)
    rec['ctr_started_at_s'] = v.call('start container', 'start', ctr.id) - t0
    rec['first_log_at_s'] = first_log_line(ctr) - t0
    if v.ours:
        m = syslog.find(VM_UP, 10, sb.id)
        if m is None:
            raise Failed('no "VM up" line from the pod monitor in syslog')
        for key, value in zip(('boot_s', 'exec_to_kernel_s', 'kernel_to_init_s', 'init_to_ready_s',
                               'ready_to_answer_s'), m.groups()):
            rec[f'guest_{key}'] = float(value)
        m = syslog.find(SANDBOX_READY, 10, sb.id)
        if m is None:
            raise Failed('no "sandbox ready" line from the pod monitor in syslog')
        steps = [float(x) for x in m.groups()]
        # spawning the monitor -> its create begins: exec, options, daemon
        rec['sb_to_create_s'] = max(0.0, rec['ready_s'] - steps[0])
        for key, value in zip(('monitor_s', 'pod_setup_s', 'vm_boot_s', 'network_s', 'create_sandbox_s',
                               'serving_s', 'share_s', 'guest_ctr_s', 'standin_s'), steps[1:]):
            rec[f'sb_{key}'] = value
        m = syslog.find(GUEST_CREATE, 10, sb.id)
        if m is None:
            raise Failed('no "sandbox container in the guest" line from the sandbox monitor in syslog')
        for key, value in zip(('call', 'spec', 'stdio', 'cgroup', 'plan', 'namespaces', 'setup', 'done'),
                              m.groups()):
            rec[f'gc_{key}_s'] = float(value)
    stop(v, ctr)
    stop(v, sb)
    with open(out, 'w') as f:
        for k, val in rec.items():
            f.write(f'{k} {val:.6f}\n')


def main():
    variant, out = sys.argv[1], sys.argv[2]
    env = Env(os.environ)
    if crio.samples_dir(env) is None or os.geteuid() != 0:
        print('podready.py: needs root and CK_CRIO_SAMPLES', file=sys.stderr)
        return 1
    # the benchmark's cleanup (or Ctrl-C) ends us with a signal: clean up first
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda n, _f: sys.exit(128 + n))
    set_child_subreaper()
    # the runtime root bench-podready.sh keeps for all its pods, as CRI-O
    # keeps /run/vmctl: what the runtime caches there (host facts) is
    # paid for by the warm-up pod, as by a node's first
    ctx = Context('ckcr', env, root=os.environ.get('CK_BENCH_RUNTIME_ROOT') or None)
    status = 1
    with ctx:
        crio.open_world(ctx, syslog=False)
        try:
            syslog = Syslog(os.path.join(ctx.tmp, 'log.sock'))
            try:
                one_pod(Variant(ctx, variant == 'ours'), syslog, out)
                status = 0
            finally:
                syslog.close()
        except (Failed, RuntimeError) as e:
            print(f'podready.py: {variant}: {e}', file=sys.stderr)
    if ctx.tap.failed:
        print('podready.py: left behind: ' + '; '.join(ctx.tap.failed), file=sys.stderr)
        status = 1
    return status


RUNC = subprocess.run(['sh', '-c', 'command -v runc'], capture_output=True, text=True).stdout.strip()
CONMON = subprocess.run(['sh', '-c', 'command -v conmon'], capture_output=True, text=True).stdout.strip()

if __name__ == '__main__':
    sys.exit(main())
