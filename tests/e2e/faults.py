#!/usr/bin/env python3
"""faults.py: the fault matrix (issue 14 item 3) and the isolation checks
(item 6), as CRI-O drives conmon-kata and vmctl (TAP; docs/security.md).

Each item makes one fault happen to real pods in real VMs, then checks
what faultlib.after_fault() checks (exit files, exit command once, no
stand-in, no QEMU, state stopped, delete cleans the runtime root, nothing
left):

  * isolation and a guest kernel panic: a privileged container (every
    capability, no seccomp filter, nothing masked) sees the guest's kernel,
    not the host's processes or mounts; loading a module fails in the guest
    and the host's module list does not change; writing "c" to
    /proc/sysrq-trigger panics the guest's kernel only: its pod ends with
    137 and the reason "the guest kernel panicked", while a second pod
    keeps serving;
  * the log's file system full (a small tmpfs): the container runs on,
    its monitor writes the lines that fit, whole, and resumes once there
    is space again;
  * the exit-file folder unwritable (a read-only mount): a clear line in
    the monitor's log, the persist-dir exit file still written, the
    container reaped;
  * 10 pods created at once: all ready, all stopped and deleted, nothing
    left (the wall time is printed, not asserted).

Environment (set by meson): CK_BUILD_ROOT, CK_SOURCE_ROOT, CK_TEST_CONFIG,
CK_TEST_ROOTFS. CK_FAULTS_ONLY=name,... runs only the items named
(isolation, enospc, exitdir, many), for development; meson never sets it.
"""
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ckdriver.crio import (  # noqa: E402
    Ctr, Monitor, Pod, await_exit, check_state, create_argv, delete, expect_pid_sync, pod_qemu, run_crio_suite, start,
    state_status, stream_exec)
from ckdriver.files import bad_k8s_lines, k8s_parse  # noqa: E402
from ckdriver.procs import pid_alive, procs_mentioning  # noqa: E402
from ckdriver.streams import recv_line  # noqa: E402
from ckdriver.util import now, read_bytes, short, wait_until  # noqa: E402
from faultlib import ExitCommands, after_fault, monitor_log, privileged  # noqa: E402

ONLY = [s for s in os.environ.get('CK_FAULTS_ONLY', '').split(',') if s]


def new_pod(ctx, name, config=None):
    return Pod(ctx, name, f'{name}-uid', f'{name}-sandbox', config=config, netns_prefix='ckfaults')


def create_all(ctx, ctrs, exits, extra=None):
    """create + start of each, with the exit command (and `extra` args)."""
    for c in ctrs:
        mon = Monitor(ctx, create_argv(c, extra=exits.args(c) + list((extra or {}).get(c, ()))), cwd=c.bundle)
        c.mon = mon
        mon.write_start()
        rc = mon.wait_p0(120)
        ctx.tap.must(rc == 0, f'{c.label()}: P0 exits 0 after the start byte', f'exit status: {rc}', *mon.diag())
        text = read_bytes(c.conmon_pidfile)
        c.p1 = int(text) if text and re.fullmatch(rb'[1-9][0-9]*', text) else None
        expect_pid_sync(c, recv_line(mon.sync, 150))
        start(c)


# --- isolation and a guest kernel panic -------------------------------------------------------------


def host_marker_process(ctx, tag):
    """A host process whose command line names tag (the guest must not see it)."""
    p = subprocess.Popen(['bash', '-c', f'exec -a {tag} sleep 600'], start_new_session=True)
    ctx.defer(lambda: end_marker(p))
    seen = wait_until(lambda: tag in (read_bytes(f'/proc/{p.pid}/cmdline') or b'').decode(errors='replace'), 5)
    ctx.tap.must(seen, f'host: a process named {tag} runs', f'pid {p.pid}: {read_bytes(f"/proc/{p.pid}/cmdline")!r}')
    return p


def host_marker_mount(ctx, tag):
    """A tmpfs mounted on the host at a path naming tag."""
    path = ctx.mk(tag)
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k', tag, path], capture_output=True, text=True)
    ctx.tap.must(r.returncode == 0, f'host: mount a tmpfs at {path}', r.stderr)
    ctx.defer(lambda: unmount_marker(path))
    return path


def isolation_checks(ctx, crasher):
    """Item 6 from inside a root container with every capability."""
    L = crasher.label()
    r = stream_exec(crasher, ['uname', '-r'])
    guest = r.out.decode(errors='replace').strip()
    ctx.tap.ok(r.rc == 0 and guest and guest != os.uname().release,
               f'{L}: `uname -r` is the guest kernel\'s, not the host\'s', f'guest: {guest!r}',
               f'host: {os.uname().release!r}', *r.diag())
    tag = f'ckfaults-marker-{secrets.token_hex(4)}'
    host_marker_process(ctx, tag)
    mnt = host_marker_mount(ctx, tag)
    r = stream_exec(crasher, ['sh', '-c', 'cat /proc/[0-9]*/cmdline | tr "\\0" " "; echo; ls -d /proc/[0-9]* | wc -l'])
    ctx.tap.ok(r.rc == 0 and tag.encode() not in r.out, f'{L}: no host process is visible (a host process named {tag})',
               *r.diag())
    r = stream_exec(crasher, ['sh', '-c', 'cat /proc/self/mountinfo /proc/1/mountinfo'])
    ctx.tap.ok(r.rc == 0 and tag.encode() not in r.out and mnt.encode() not in r.out,
               f'{L}: no host mount is visible (a tmpfs mounted on the host at {mnt})', *r.diag())
    modules_before = read_bytes('/proc/modules')
    tainted_before = read_bytes('/proc/sys/kernel/tainted')
    r = stream_exec(crasher, ['sh', '-c', 'insmod /garbage.ko; echo "status $?"'])
    out = r.out.decode(errors='replace')
    # our guest kernel has no module support (ENOSYS, busybox exits with the
    # errno); Debian's refuses the file (ENOEXEC)
    ctx.tap.ok(r.rc == 0 and re.fullmatch(r'status (38|8)\n', out) and
               re.fullmatch(r"insmod: can't insert '/garbage\.ko': "
                            r"(kernel does not support requested operation|invalid module format)\n",
                            r.err.decode(errors='replace')),
               f'{L}: loading a garbage module with every capability fails in the guest', *r.diag())
    ctx.tap.ok(read_bytes('/proc/modules') == modules_before
               and read_bytes('/proc/sys/kernel/tainted') == tainted_before,
               'host: its module list and taint flags did not change')


def panic_and_bystander(ctx):
    """A guest kernel panic from a privileged container's sysrq write: its
    pod ends (137, the reason in the log, the state and the monitor's log),
    another pod serves on."""
    exits = ExitCommands(ctx)
    bpod = new_pod(ctx, 'bystander')
    bsb = bpod.sandbox.prepare()
    bctr = Ctr(bpod, 'steady').prepare(['tail', '-f', '/dev/null'])
    create_all(ctx, [bsb, bctr], exits)

    pod = new_pod(ctx, 'panicky')
    sb = pod.sandbox.prepare()
    crasher = Ctr(pod, 'crasher').prepare(['tail', '-f', '/dev/null'], edit=privileged)
    with open(os.path.join(crasher.bundle, 'rootfs', 'garbage.ko'), 'wb') as f:
        f.write(b'\x7fELF' + os.urandom(4092))
    create_all(ctx, [sb, crasher], exits)
    qemu = [p for p, _, _ in pod_qemu(sb)]
    ctx.tap.must(len(qemu) == 1, 'panicky: one QEMU runs for it', f'QEMU: {qemu}')
    isolation_checks(ctx, crasher)

    console = os.path.join(ctx.root, 'pods', sb.id, 'console.log')
    uptime = float(read_bytes('/proc/uptime').split()[0])
    t0 = now()
    r = stream_exec(crasher, ['sh', '-c', 'echo c > /proc/sysrq-trigger; sleep 30'], timeout=90)
    ctx.tap.ok(r.rc is not None, f'{crasher.label()}: the exec that panicked the guest returns (no hang)', *r.diag())
    ctx.tap.note(f'panic to exec return: {now() - t0:.1f} s')
    panic_line = b'Kernel panic - not syncing: sysrq triggered crash'
    ctx.tap.ok(wait_until(lambda: panic_line in (read_bytes(console) or b''), 30),
               'panicky: the console log holds the guest\'s panic', short(read_bytes(console) or b'', 1500))
    want = 'the guest kernel panicked (Kernel panic - not syncing: sysrq triggered crash)'
    for c in (crasher, sb):
        # written as the monitor ends the container, maybe a moment after the panic
        wait_until(lambda c=c: want.encode() in (read_bytes(c.log) or b''), 30, 0.1)
        lines = k8s_parse(read_bytes(c.log) or b'')
        last = lines[-1] if lines else (None, None, b'')
        ctx.tap.ok(last[0] == 'stderr' and want.encode() in last[2],
                   f'{c.label()}: the last line of its log says "{want}"', f'last line: {last}')
        logged = monitor_log(ctx, c, want)
        if logged is None:
            ctx.tap.skip(f'{c.label()}: its monitor\'s log says why',
                         f'{ctx.syslog.PATH} belongs to a syslog daemon here')
        else:
            ctx.tap.ok(logged, f'{c.label()}: its monitor\'s log says why', *ctx.syslog.lines(c.id[:20])[-6:])
    after_fault(ctx, pod, [crasher, sb], 137, exits, qemu, reason=want)
    ctx.tap.ok(float(read_bytes('/proc/uptime').split()[0]) > uptime, 'host: still up (its uptime grew)')

    r = stream_exec(bctr, ['echo', 'still serving'])
    ctx.tap.eq('bystander: its container still answers an exec after the other pod\'s panic', (0, b'still serving\n'),
               (r.rc, r.out), *r.diag())
    stop_bystander(ctx, bpod, bctr, exits)


def stop_bystander(ctx, pod, ctr, exits):
    r = ctr.vmctl('kill', ctr.id, 'KILL')
    ctx.tap.ok(r.rc == 0, f'{ctr.label()}: `kill KILL` exits 0', *r.diag())
    qemu = [p for p, _, _ in pod_qemu(pod.sandbox)]
    r = pod.sandbox.vmctl('kill', pod.sandbox.id, '15')
    ctx.tap.ok(r.rc == 0, f'{pod.name}: `kill <sandbox> 15` exits 0', *r.diag())
    for c, code in ((ctr, 137), (pod.sandbox, 0)):
        await_exit(c, code)
        ctx.tap.eq(f'{c.label()}: the exit command ran exactly once', 1, exits.count(c))
    for c in (ctr, pod.sandbox):
        delete(c)
    ctx.tap.ok(wait_until(lambda: all(ctx.reaper.gone(q) or not pid_alive(q) for q in qemu), 15),
               f'{pod.name}: QEMU is gone after a normal stop')


# --- the log's file system full -----------------------------------------------------------------------


CHATTY_LINE = re.compile(rb'line [0-9]+ 0{200}')


def torn_lines(text):
    """Lines of the log that are not a whole CRI line holding a whole line
    of the loop's (at most 3)."""
    bad = bad_k8s_lines(text)[:3]
    if text and not text.endswith(b'\n'):
        bad.append(b'(no newline at the end) ' + text[-100:])
    for line in text.split(b'\n')[:-1]:
        parts = line.split(b' ', 3)
        if len(parts) != 4 or parts[2] != b'F' or not CHATTY_LINE.fullmatch(parts[3]):
            bad.append(line[:300])
    return bad[:3]


def statvfs_free(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def enospc(ctx):
    """The log folder on a 512 KiB tmpfs that fills up while a container
    logs: it runs on (its counter keeps growing), its log holds whole
    lines only, and once space returns new lines arrive."""
    exits = ExitCommands(ctx)
    pod = new_pod(ctx, 'fulldisk')
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=512k', 'ckfaults-logs', pod.logdir],
                       capture_output=True, text=True)
    ctx.tap.must(r.returncode == 0, f'host: a 512 KiB tmpfs on the pod\'s log folder {pod.logdir}', r.stderr)
    ctx.defer(lambda: unmount_marker(pod.logdir))
    sb = pod.sandbox.prepare()
    loop = ('i=0; while true; do echo "line $i $(printf %0200d 0)"; echo $i > /tmp/count; i=$((i+1)); '
            'if [ $((i % 50)) = 0 ]; then sleep 0.1; fi; done')
    c = Ctr(pod, 'chatty').prepare(['sh', '-c', loop])
    create_all(ctx, [sb, c], exits)
    ctx.tap.ok(wait_until(lambda: os.path.getsize(c.log) > 64 * 1024, 60, 0.2), 'chatty: 64 KiB of log written',
               f'size {os.path.getsize(c.log)}')
    filler = os.path.join(pod.logdir, 'filler')
    with open(filler, 'wb') as f:
        try:
            f.write(b'\0' * (512 * 1024))
        except OSError:
            pass
    full = wait_until(lambda: statvfs_free(pod.logdir) == 0, 30, 0.2)
    ctx.tap.ok(full, 'fulldisk: the log file system is full', f'free: {statvfs_free(pod.logdir)}')

    def count():
        # the loop rewrites the file: a read may find it empty
        for _ in range(20):
            r = stream_exec(c, ['cat', '/tmp/count'])
            if r.rc == 0 and r.out.strip().isdigit():
                return int(r.out)
            time.sleep(0.05)
        return None
    # the last page of the log file may still take a few lines
    sizes = []
    ctx.tap.ok(wait_until(lambda: sizes.append(os.path.getsize(c.log))
                          or (len(sizes) > 8 and len(set(sizes[-8:])) == 1),
                          30, 0.25), 'chatty: its log stops growing once the disk is full', f'sizes: {sizes[-10:]}')
    first = count()
    size_full = os.path.getsize(c.log)
    second = None
    grew = wait_until(lambda: (count() or 0) > (first or 0) + 100, 60, 1)
    second = count()
    ctx.tap.ok(first is not None and grew, 'chatty: it keeps running with its log full (its counter grows by > 100)',
               f'counter: {first} then {second}')
    ctx.tap.eq('chatty: `state` says running while its log is full', 'running', state_status(c))
    ctx.tap.eq('chatty: nothing more went into the log while it was full', size_full, os.path.getsize(c.log))
    text = read_bytes(c.log) or b''
    ctx.tap.eq('chatty: the log holds whole CRI lines only, each one the loop wrote', [], torn_lines(text),
               f'tail: {text[-300:]!r}')
    want = f"k8s log '{c.log}': write: No space left on device, continuing"
    warned = monitor_log(ctx, c, '<nwarn>', want)
    if warned is None:
        ctx.tap.skip('chatty: its monitor logs the full disk, once',
                     f'{ctx.syslog.PATH} belongs to a syslog daemon here')
    else:
        ctx.tap.eq(f'chatty: its monitor warns of the full disk once: "{want}" (later failures are debug lines)', 1,
                   len(warned),
                   *ctx.syslog.lines(c.id[:20])[-6:])
    os.unlink(filler)
    resumed = wait_until(lambda: os.path.getsize(c.log) > size_full + 10000, 60, 0.2)
    ctx.tap.ok(resumed, 'chatty: once space returns, new lines reach its log', f'size {size_full} then '
               f'{os.path.getsize(c.log)}')
    text = read_bytes(c.log) or b''
    nums = [int(m.group(1)) for _, _, body in k8s_parse(text) for m in [re.match(rb'line (\d+) ', body)] if m]
    ctx.tap.ok(not torn_lines(text) and nums and nums[-1] > (second or 0),
               'chatty: the lines after the gap are whole CRI lines, later than the counter at the full disk',
               f'torn: {torn_lines(text)[:3]}', f'last line number {nums[-1] if nums else None}, counter {second}')
    again = f"k8s log '{c.log}': writing again after "
    if warned is None:
        ctx.tap.skip('chatty: its monitor logs that the log is written again', f'{ctx.syslog.PATH} belongs to a syslog '
                     'daemon here')
    else:
        ctx.tap.ok(monitor_log(ctx, c, again),
                   f'chatty: its monitor logs that the log is written again: "{again}N lost '
                   'chunks"', *ctx.syslog.lines(c.id[:20])[-6:])
    qemu = [p for p, _, _ in pod_qemu(sb)]
    r = c.vmctl('kill', c.id, 'KILL')
    ctx.tap.ok(r.rc == 0, 'chatty: `kill KILL` exits 0', *r.diag())
    after_fault_single(ctx, pod, c, 137, exits)
    r = sb.vmctl('kill', sb.id, '15')
    ctx.tap.ok(r.rc == 0, 'fulldisk: `kill <sandbox> 15` exits 0', *r.diag())
    after_fault(ctx, pod, [sb], 0, exits, qemu)


def after_fault_single(ctx, pod, c, code, exits):
    await_exit(c, code, timeout=60)
    ctx.tap.eq(f'{c.label()}: the exit command ran exactly once', 1, exits.count(c))
    ctx.tap.ok(wait_until(lambda: not pid_alive(c.pid) or ctx.reaper.gone(c.pid), 10),
               f'{c.label()}: its stand-in is gone')


# --- the exit-file folder unwritable ------------------------------------------------------------------


def exitdir_unwritable(ctx):
    """--exit-dir on a read-only mount: the persist exit file is written,
    the exit-dir one cannot be, and the monitor says so in one line; the
    container is reaped and its monitor exits."""
    exits = ExitCommands(ctx)
    pod = new_pod(ctx, 'roexits')
    sb = pod.sandbox.prepare()
    c = Ctr(pod, 'roexit').prepare(['tail', '-f', '/dev/null'])
    ro = ctx.mk('ro-exits')
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'ro,size=64k', 'ckfaults-ro', ro], capture_output=True,
                       text=True)
    ctx.tap.must(r.returncode == 0, f'host: a read-only tmpfs at {ro}', r.stderr)
    ctx.defer(lambda: unmount_marker(ro))
    create_all(ctx, [sb], exits)
    mon = Monitor(ctx, [a if a != ctx.crio.exits else ro for a in create_argv(c, extra=exits.args(c))], cwd=c.bundle)
    c.mon = mon
    mon.write_start()
    ctx.tap.must(mon.wait_p0(120) == 0, 'roexit: P0 exits 0', *mon.diag())
    c.p1 = int(read_bytes(c.conmon_pidfile))
    expect_pid_sync(c, recv_line(mon.sync, 150))
    start(c)
    qemu = [p for p, _, _ in pod_qemu(sb)]
    r = c.vmctl('kill', c.id, 'KILL')
    ctx.tap.ok(r.rc == 0, 'roexit: `kill KILL` exits 0', *r.diag())
    st = ctx.reaper.wait(c.p1, 60)
    ctx.tap.eq('roexit: its monitor (P1) exits 1, the exit file unwritten', 1, st, f'P1 {c.p1}')
    ctx.tap.eq('roexit: <persist>/exit still holds 137', b'137', read_bytes(os.path.join(c.persist, 'exit')))
    ctx.tap.ok(not os.path.exists(os.path.join(ro, c.id)), 'roexit: nothing in the read-only exit folder')
    want = f'Failed to write 137 to {os.path.join(ro, c.id)} exit file: '
    logged = monitor_log(ctx, c, want)
    if logged is None:
        ctx.tap.skip('roexit: its monitor\'s log names the exit file and why', 'no syslog of ours')
    else:
        ctx.tap.ok(logged and 'Read-only file system' in logged[-1],
                   'roexit: its monitor\'s log names the exit file and why, in one line',
                   *ctx.syslog.lines(c.id[:20])[-6:])
    ctx.tap.eq('roexit: the exit command ran exactly once', 1, exits.count(c))
    ctx.tap.ok(wait_until(lambda: not pid_alive(c.pid) or ctx.reaper.gone(c.pid), 10), 'roexit: its stand-in is gone')
    check_state(c, 'roexit: `vmctl state` says stopped', 'stopped')
    delete(c)
    r = sb.vmctl('kill', sb.id, '15')
    ctx.tap.ok(r.rc == 0, 'roexits: `kill <sandbox> 15` exits 0', *r.diag())
    after_fault(ctx, pod, [sb], 0, exits, qemu)


# --- many pods at once --------------------------------------------------------------------------------


def many_pods(ctx, n=10):
    """n pods created at the same moment, as a node does after a restart:
    every one ready, then every one stopped and deleted, nothing left."""
    cfg = ctx.config('faults-many.toml', boot_timeout=300)
    exits = ExitCommands(ctx)
    pods = [new_pod(ctx, f'many{i}', config=cfg) for i in range(n)]
    sbs = [p.sandbox.prepare(['/pause']) for p in pods]
    t0 = now()
    for sb in sbs:
        sb.mon = Monitor(ctx, create_argv(sb, extra=exits.args(sb)), cwd=sb.bundle)
    for sb in sbs:
        sb.mon.write_start()
    ready = 0
    for sb in sbs:
        rc = sb.mon.wait_p0(60)
        text = read_bytes(sb.conmon_pidfile)
        sb.p1 = int(text) if rc == 0 and text and text.isdigit() else None
        sync = recv_line(sb.mon.sync, 400)
        m = re.fullmatch(rb'\{"pid": ([1-9][0-9]*)\}\n', sync)
        ctx.tap.ok(m, f'{sb.label()}: ready ({{"pid": N}} on the sync pipe)', f'sync: {sync!r}', *sb.mon.diag())
        if m:
            sb.pid = int(m.group(1))
            ready += 1
    wall = now() - t0
    ctx.tap.note(f'{n} pods created concurrently: {ready} ready in {wall:.1f} s (wall time)')
    results = {}

    def start_one(sb):
        results[sb.id] = sb.vmctl('start', sb.id, timeout=120)
    threads = [threading.Thread(target=start_one, args=(sb,)) for sb in sbs if sb.pid]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ctx.tap.ok(all(r.rc == 0 for r in results.values()) and len(results) == n, f'all {n} sandboxes started',
               *[f'{k[:12]}: {r.rc} {r.err!r}' for k, r in results.items() if r.rc != 0])
    qemu = {sb.id: [p for p, _, _ in pod_qemu(sb)] for sb in sbs}
    ctx.tap.eq(f'{n} QEMUs run', n, sum(len(q) for q in qemu.values()))
    t1 = now()
    # a pod that did not get ready failed above; it has no exit file to
    # wait for, but must have left nothing behind
    live = [(pod, sb) for pod, sb in zip(pods, sbs) if sb.pid]
    for pod, sb in zip(pods, sbs):
        if not sb.pid:
            after_failed_create(ctx, pod, sb)
    for _, sb in live:
        if results.get(sb.id) is not None and results[sb.id].rc == 0:  # a failed start failed above
            ctx.tap.ok(await_term_trap(sb), f'{sb.label()}: its pause process has its SIGTERM handler')
    for _, sb in live:
        r = sb.vmctl('kill', sb.id, '15')
        ctx.tap.ok(r.rc == 0, f'{sb.label()}: `kill 15` exits 0', *r.diag())
    for pod, sb in live:
        after_fault(ctx, pod, [sb], 0, exits, qemu[sb.id])
    ctx.tap.note(f'{len(live)} pods stopped and deleted in {now() - t1:.1f} s')


def await_term_trap(sb, timeout=120):
    """The sandbox's pause script has set its `trap` (SIGTERM is in
    /proc/1/status's SigCgt). Before that, a SIGTERM reaches a PID 1 with
    no handler, which the kernel drops, as it does under runc: a pod
    stopped the moment it started would then never end. (That was the
    "10 pods at once" hang: some pause scripts under load had not run
    their `trap` line yet when `kill 15` came.)"""
    term = 1 << (signal.SIGTERM - 1)

    def trapped():
        r = stream_exec(sb, ['cat', '/proc/1/status'], timeout=60)
        m = re.search(rb'^SigCgt:\s*([0-9a-f]+)$', r.out, re.M)
        return r.rc == 0 and m is not None and int(m.group(1), 16) & term
    return wait_until(trapped, timeout, interval=0.5)


def after_failed_create(ctx, pod, sb):
    """A sandbox whose create failed: its monitor ends, and neither QEMU
    nor any file or process of the pod is left."""
    ctx.tap.ok(sb.p1 is None or wait_until(lambda: not pid_alive(sb.p1) or ctx.reaper.gone(sb.p1), 30),
               f'{pod.name}: after its failed create, its monitor has exited', f'P1 {sb.p1}')
    pod_dir = os.path.join(ctx.root, 'pods', sb.id)
    ctx.tap.ok(wait_until(lambda: not procs_mentioning(pod_dir) and not pod_qemu(sb), 15),
               f'{pod.name}: after its failed create, no QEMU or other process of it is left',
               *[f'{p} {comm}: {cl[:200]}' for p, comm, cl in procs_mentioning(pod_dir)])
    ctx.tap.ok(not os.path.exists(pod_dir) and not os.path.exists(os.path.join(ctx.root, 'containers', sb.id)),
               f'{pod.name}: after its failed create, nothing of it is in the runtime root',
               f'runtime root: {sorted(os.listdir(ctx.root))}')


def end_marker(p):
    """A host marker process goes (its whole session)."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except OSError:
        pass
    p.wait()


def unmount_marker(path):
    subprocess.run(['umount', '-l', path], capture_output=True)


def main():
    items = [
        ('isolation', 'isolation and a guest kernel panic, a second pod serving', panic_and_bystander),
        ('enospc', 'the log\'s file system full', enospc),
        ('exitdir', 'the exit-file folder unwritable', exitdir_unwritable),
        ('many', '10 pods at once', many_pods),
    ]

    def body(ctx):
        for key, name, fn in items:
            if not ONLY or key in ONLY:
                ctx.tap.item(name, fn, ctx)
    return run_crio_suite(body)


if __name__ == '__main__':
    sys.exit(main())
