"""faultlib: what every fault test checks once the fault has happened
(issue 14 item 3, docs/security.md#fault-matrix), shared by faults.py and
hostile_guest.py.

After a fault a pod must end as if CRI-O had stopped it: the exit files
with the documented code, the exit command run exactly once per monitor,
the stand-ins and QEMU gone, `vmctl state` saying stopped, `vmctl delete`
emptying the runtime root, and no process, mount, tap or host cgroup of
the pod left behind.
"""
import os
import secrets

from ckdriver.crio import await_exit, check_state, delete, pod_qemu  # noqa: E402
from ckdriver.files import mounts_under  # noqa: E402
from ckdriver.netns import taps_in  # noqa: E402
from ckdriver.procs import pid_alive, procs_mentioning  # noqa: E402
from ckdriver.util import read_bytes, wait_until  # noqa: E402

# all 41 capabilities of Linux 6.1 (CAP_LAST_CAP = CAP_CHECKPOINT_RESTORE)
ALL_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
            'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
            'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
            'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
            'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
            'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN',
            'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF',
            'CAP_CHECKPOINT_RESTORE']


def privileged(spec):
    """An `edit` for Ctr.prepare: every capability in every set, no seccomp
    filter, nothing masked or read-only (what `privileged: true` gives)."""
    caps = spec['process'].setdefault('capabilities', {})
    for kind in ('bounding', 'effective', 'permitted', 'inheritable', 'ambient'):
        caps[kind] = list(ALL_CAPS)
    spec['linux'].pop('seccomp', None)
    spec['linux'].pop('maskedPaths', None)
    spec['linux'].pop('readonlyPaths', None)


class ExitCommands:
    """conmon's --exit-command, as Podman passes it: a script that appends
    its argument (the container's id) to one record file per run."""

    def __init__(self, ctx):
        self.record = os.path.join(ctx.tmp, f'exit-commands-{secrets.token_hex(4)}')
        self.script = os.path.join(ctx.tmp, 'exit-command.sh')
        with open(self.script, 'w') as f:
            f.write(f'#!/bin/sh\necho "$1" >> {self.record}\n')
        os.chmod(self.script, 0o755)

    def args(self, c):
        return ['--exit-command', self.script, '--exit-command-arg', c.id]

    def count(self, c):
        return (read_bytes(self.record) or b'').decode().split().count(c.id)


def host_cgroups_of(ctx, c):
    """The container's host cgroup folders that still exist."""
    return [os.path.join(parent, f'crio-{c.id}') for parent in ctx.crio.cgroup_parents
            if os.path.isdir(os.path.join(parent, f'crio-{c.id}'))]


def after_fault(ctx, pod, ctrs, code, exits, qemu_pids, reason=None, p1_status=True):
    """The checks of issue 14 item 3 once every container of `pod` (ctrs,
    the sandbox last) has ended: exit files holding `code`, the exit command
    run once each, stand-ins and QEMU (qemu_pids) gone, state stopped (with
    `reason` in its stop-reason annotation when given), delete cleaning the
    runtime root, and nothing of the pod left."""
    name = pod.name
    for c in ctrs:
        await_exit(c, code, timeout=120, p1_status=p1_status)
    for c in ctrs:
        L = c.label()
        if p1_status:
            ctx.tap.eq(f'{L}: the exit command ran exactly once', 1, exits.count(c))
        ctx.tap.ok(wait_until(lambda c=c: not pid_alive(c.pid) or ctx.reaper.gone(c.pid), 10),
                   f'{L}: its stand-in is gone', f'pid {c.pid}')
    ctx.tap.ok(wait_until(lambda: all(ctx.reaper.gone(q) or not pid_alive(q) for q in qemu_pids), 15)
               and not pod_qemu(pod.sandbox), f'{name}: QEMU is gone',
               f'QEMU pids {qemu_pids}: {pod_qemu(pod.sandbox)}')
    for c in ctrs:
        js = check_state(c, f'{c.label()}: `vmctl state` says stopped', 'stopped')
        if reason is not None:
            got = (js.get('annotations') or {}).get('io.conmon-kata.stop-reason') or ''
            ctx.tap.ok(reason in got, f'{c.label()}: its stop reason says "{reason}"', f'stop reason: {got!r}')
    for c in ctrs:
        delete(c)
    pod_dir = os.path.join(ctx.root, 'pods', pod.sandbox.id)
    texts = [pod_dir] + [c.bundle for c in ctrs]
    gone = wait_until(lambda: not any(procs_mentioning(t) for t in texts), 15)
    ctx.tap.ok(gone, f'{name}: no process of it is left',
               *[f'{p} {comm}: {cl[:200]}' for t in texts for p, comm, cl in procs_mentioning(t)])
    ctx.tap.ok(not os.path.exists(pod_dir) and not any(os.path.exists(os.path.join(ctx.root, 'containers', c.id))
                                                       for c in ctrs),
               f'{name}: `vmctl delete` left nothing of it in the runtime root',
               f'runtime root: {sorted(os.listdir(ctx.root))}')
    ctx.tap.eq(f'{name}: no mount is left under its folder or bundles', [],
               [m for t in texts for m in mounts_under(t)])
    ctx.tap.eq(f'{name}: no tap is left in its network namespace', [], taps_in(pod.netns))
    ctx.tap.eq(f'{name}: no host cgroup of its containers is left', [],
               [d for c in ctrs for d in host_cgroups_of(ctx, c)])


def monitor_log(ctx, c, *needles, timeout=10):
    """The monitor's syslog lines of container c that hold every needle
    (they carry the container's id)."""
    if not ctx.syslog.available:
        return None
    ctx.syslog.wait(c.id[:20], *needles, timeout=timeout)
    return ctx.syslog.lines(c.id[:20], *needles)
