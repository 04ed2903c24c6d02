#!/usr/bin/env python3
"""pod_accounting.py: where a VM pod is charged on the host, its stats, its OOM kills (TAP).

Issue 16 items 3-5, played as CRI-O 1.26 (the ckdriver package, as crio_replay.py)
on real VMs, with the host cgroups a kubelet would make, made by the test
under /sys/fs/cgroup/<hierarchy>/ck-accounting-<random>/ (docs/cgroups.md,
"Pod accounting"):

  close   a pod whose container limit (128 MiB) is close to its overhead
          (192 MiB, a RuntimeClass's podFixed): the pod's cgroup allows
          320 MiB, as the kubelet would set it, and the monitor is moved
          into <pod>/crio-conmon-<id> before the start byte, as CRI-O's
          monitor_cgroup = "pod" does. The VM is sized to fit (its boot
          and hot-plug ceiling plus the host reserve stay within 320 MiB),
          QEMU joins the sandbox's cgroupsPath with the sandbox's
          oomScoreAdj; a container going past its limit is OOM-killed in
          the guest (137, the oom files), and the host's OOM killer never
          ran in the pod's cgroup: the same QEMU runs on.
  stats   in that pod, a container burning CPU and holding 64 MiB: `vmctl
          events --stats` shows its CPU time growing, its memory at 64 MiB
          or more and its processes, in runc's JSON; its host cgroup (what
          CRI-O's container stats read) holds only the stand-in.
  hostoom a pod whose QEMU is OOM-killed on the host: the test lowers the
          memory limit of the pod's cgroup (made by the test) to just above
          what it uses, and a process in the guest then touches 256 MiB.
          Every container of the pod ends with 137, no oom file (that
          means the guest's OOM killer), and the last line of each
          container's log and its state say the host's OOM killer took
          QEMU, naming the cgroup's counter file.
  tiny    a pod whose cgroup allows 100 MiB, less than the smallest VM:
          the sandbox's create is refused with one line naming the cgroup
          and the sizes, and nothing is left.

cgroup v1 (this project's test host) and v2 (the same files under their v2
names) are both handled. Everything started is stopped at the end, even on
failure; the test's cgroups are removed last.
"""

import os
import re
import secrets
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ckdriver.crio import (  # noqa: E402
    Ctr, Pod, await_exit, check_state, create_started, delete, exec_sync, kill_and_wait_stopped, oom_score_adj_floor,
    pod_qemu, run_crio_suite, stop_pod, wait_log)
from ckdriver.files import k8s_parse  # noqa: E402
from ckdriver.util import read_bytes, wait_until  # noqa: E402
from ckdriver.vm import qemu_memory  # noqa: E402
from pod_policy import expect_refused  # noqa: E402

MiB = 1024 * 1024
CGROUP_FS = '/sys/fs/cgroup'
UNIFIED = os.path.exists(os.path.join(CGROUP_FS, 'cgroup.controllers'))
MEMORY = CGROUP_FS if UNIFIED else os.path.join(CGROUP_FS, 'memory')
LIMIT = 'memory.max' if UNIFIED else 'memory.limit_in_bytes'
USAGE = 'memory.current' if UNIFIED else 'memory.usage_in_bytes'
OOM = 'memory.events' if UNIFIED else 'memory.oom_control'
# vmctl/lib/sizing.h: SIZING_HOST_RESERVE_MIB
RESERVE_MIB = 64
TOP = f'ck-accounting-{secrets.token_hex(4)}'
STOP_REASON = 'io.conmon-kata.stop-reason'


def hierarchies():
    if UNIFIED:
        return [CGROUP_FS]
    out = []
    for name in sorted(os.listdir(CGROUP_FS)):
        d = os.path.join(CGROUP_FS, name)
        if not os.path.islink(d) and os.path.exists(os.path.join(d, 'cgroup.procs')):
            out.append(d)
    return out


def remove_top(ctx):
    """The test's cgroups, deepest first, in every hierarchy (after the
    driver's cleanup has stopped every process)."""
    left = []
    for base in hierarchies():
        top = os.path.join(base, TOP)
        if not os.path.isdir(top):
            continue
        for d, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count('/')):
            try:
                os.rmdir(d)
            except OSError as e:
                left.append(f'{d}: {e}')
    ctx.tap.ok(not left, f'the test\'s cgroups ({TOP}) are gone', *left)


def write(path, text):
    with open(path, 'w') as f:
        f.write(text)


def pod_cgroup(name):
    """<memory>/TOP/name, made as the kubelet makes a pod's; its cgroupfs path."""
    rel = f'/{TOP}/{name}'
    os.makedirs(MEMORY + rel, exist_ok=True)
    if UNIFIED:
        for d in (CGROUP_FS, CGROUP_FS + f'/{TOP}', MEMORY + rel):
            write(os.path.join(d, 'cgroup.subtree_control'), '+memory')
    return rel


def number(path):
    text = (read_bytes(path) or b'').strip()
    if text == b'max':
        return None
    return int(text) if re.fullmatch(rb'[0-9]+', text) else None


def oom_kills(rel):
    text = (read_bytes(os.path.join(MEMORY + rel, OOM)) or b'').decode()
    m = re.search(r'^oom_kill ([0-9]+)$', text, re.M)
    return int(m.group(1)) if m else None


def in_cgroup(rel):
    """The spec's cgroupsPath under the pod's cgroup, as CRI-O's cgroupfs
    manager names it (<parent>/crio-<id>)."""
    def edit(spec):
        spec['linux']['cgroupsPath'] = f'{rel}/crio-{spec["annotations"]["io.kubernetes.cri-o.ContainerID"]}'
    return edit


def monitor_into(rel, c):
    """CRI-O's MoveConmonToCgroup for monitor_cgroup = "pod" (cgroupfs):
    the monitor goes to <pod>/crio-conmon-<id> before the start byte."""
    def move(mon):
        d = MEMORY + f'{rel}/crio-conmon-{c.id}'
        os.makedirs(d, exist_ok=True)
        write(os.path.join(d, 'cgroup.procs'), str(mon.p0))
    return move


def memory_cgroup_of(pid):
    for ln in (read_bytes(f'/proc/{pid}/cgroup') or b'').decode().splitlines():
        f = ln.split(':', 2)
        if len(f) == 3 and ((UNIFIED and f[0] == '0') or 'memory' in f[1].split(',')):
            return f[2]
    return None


def the_qemu(ctx, sb, what):
    qemu = pod_qemu(sb)
    ctx.tap.must(len(qemu) == 1, f'{what}: one QEMU runs for the pod', f'QEMU: {qemu}')
    return qemu[0]


# --- close: a pod whose container limit is close to its overhead ----------------------------

CLOSE_LIMIT = 128 * MiB
CLOSE_OVERHEAD = 192 * MiB


def close_pod(ctx):
    rel = pod_cgroup('close')
    pod_limit = CLOSE_LIMIT + CLOSE_OVERHEAD
    write(os.path.join(MEMORY + rel, LIMIT), str(pod_limit))
    pod = Pod(ctx, 'acct-close', 'acct-pod-uid-0001', 'sandbox-close')
    sb = pod.sandbox.prepare(edit=in_cgroup(rel))
    create_started(sb, before_start=monitor_into(rel, sb))
    pid, _, cl = the_qemu(ctx, sb, 'close')
    boot, ceiling = qemu_memory(cl)
    ctx.tap.ok(boot is not None and ceiling + RESERVE_MIB <= pod_limit // MiB,
               f'close: the VM (boot and hot-plug ceiling) plus the host reserve ({RESERVE_MIB} MiB) fits the pod\'s '
               f'memory limit ({pod_limit // MiB} MiB: a {CLOSE_LIMIT // MiB} MiB container and a '
               f'{CLOSE_OVERHEAD // MiB} MiB overhead)', f'QEMU -m: boot {boot} MiB, ceiling {ceiling} MiB',
               f'cmdline: {cl[:400]}')
    want = f'{rel}/crio-{sb.id}'
    ctx.tap.eq('close: QEMU is in the sandbox\'s cgroupsPath (memory)', want, memory_cgroup_of(pid))
    ctx.tap.eq('close: the monitor stayed where CRI-O put it (monitor_cgroup = "pod")', f'{rel}/crio-conmon-{sb.id}',
               memory_cgroup_of(sb.p1))
    # QEMU started there: the guest's boot (kernel, initrd, TCG's buffer)
    # is charged to the sandbox's cgroup, not left with the monitor's
    sb_use, mon_use = number(MEMORY + f'{want}/{USAGE}'), number(MEMORY + f'{rel}/crio-conmon-{sb.id}/{USAGE}')
    ctx.tap.ok(sb_use is not None and mon_use is not None and sb_use >= 24 * MiB and mon_use < sb_use // 2,
               'close: what QEMU touched while booting is charged to the sandbox\'s cgroup (>= 24 MiB), the monitor\'s '
               'holds less than half of it', f'sandbox: {sb_use}', f'monitor: {mon_use}')
    # without CAP_SYS_RESOURCE (these test machines drop it) nothing can go
    # below the floor: the monitor's -1000 fails as the sandbox's -998 does
    want_adj, floor = sb.spec['process'].get('oomScoreAdj', 0), oom_score_adj_floor()
    ctx.tap.eq('close: QEMU has the sandbox\'s oomScoreAdj (or the floor without CAP_SYS_RESOURCE), never the '
               'monitor\'s -1000', str(want_adj if floor is None else max(want_adj, floor)).encode(),
               (read_bytes(f'/proc/{pid}/oom_score_adj') or b'').strip(), f'floor: {floor}')

    hog = Ctr(pod, 'hog').prepare(['tail', '/dev/zero'], memory=CLOSE_LIMIT, edit=in_cgroup(rel))
    create_started(hog)
    await_exit(hog, 137, oom=True, timeout=240)
    ctx.tap.ok(os.path.exists(os.path.join(hog.bundle, 'oom')) and os.path.exists(os.path.join(hog.persist, 'oom')),
               'close: past its limit, the container was OOM-killed in the guest: <bundle>/oom and <persist>/oom')
    if ctx.syslog.available:
        ctx.tap.ok(ctx.syslog.wait(hog.id[:20], 'OOM-killed in the pod\'s VM'),
                   'hog: its monitor\'s log says it was OOM-killed in the pod\'s VM',
                   *[f'log: {m}' for m in ctx.syslog.lines(hog.id[:20])][-6:])
    kills = {d: oom_kills(d) for d in (rel, want)}
    ctx.tap.ok(all(v == 0 for v in kills.values()) and pod_qemu(sb) and pod_qemu(sb)[0][0] == pid,
               'close: the host\'s OOM killer never ran in the pod\'s cgroups, and the same QEMU runs on',
               f'{OOM}: {kills}',
               f'QEMU now: {pod_qemu(sb)}')
    peak = number(MEMORY + f'{rel}/' + ('memory.peak' if UNIFIED else 'memory.max_usage_in_bytes'))
    ctx.tap.note(f'close: the pod\'s cgroup peaked at {peak // MiB if peak else "?"} MiB of its {pod_limit // MiB} MiB '
                 f'(a guest of {ceiling} MiB)')
    delete(hog)
    ctx.tap.item('stats: a busy container', lambda: stats(ctx, pod, rel))
    stop_pod(pod, 'close')
    ctx.tap.ok(not os.path.exists(MEMORY + want), 'close: the sandbox\'s cgroup went with the pod (QEMU gone first)',
               MEMORY + want)


def tiny_pod(ctx):
    """A pod cgroup too small for the smallest VM: the sandbox's create is
    refused with one line naming the cgroup and the sizes, nothing left."""
    rel = pod_cgroup('tiny')
    write(os.path.join(MEMORY + rel, LIMIT), str(100 * MiB))
    pod = Pod(ctx, 'acct-tiny', 'acct-pod-uid-0003', 'sandbox-tiny')
    sb = pod.sandbox.prepare(edit=in_cgroup(rel))
    expect_refused(ctx, sb, f'pod {sb.id}: the host memory cgroup {MEMORY}{rel} allows 100 MiB, less than the smallest '
                   f'VM takes (64 MiB of guest RAM and {RESERVE_MIB} MiB for QEMU and its monitor)',
                   'tiny: a 100 MiB pod')


# --- stats: vmctl events --stats ------------------------------------------------------------


def event(ctx, c):
    r = ctx.vmctl('events', '--stats', c.id)
    ev = r.json() or {}
    d = ev.get('data') or {}
    return r, ev, (((d.get('cpu') or {}).get('usage') or {}).get('total'),
                   ((d.get('memory') or {}).get('usage') or {}).get('usage'), (d.get('pids') or {}).get('current'))


def host_view(rel, c):
    """What CRI-O's container stats read: the container's host cgroup."""
    base = f'{rel}/crio-{c.id}'
    if UNIFIED:
        cpu = re.search(rb'^usage_usec ([0-9]+)', read_bytes(f'{CGROUP_FS}{base}/cpu.stat') or b'', re.M)
        return (int(cpu.group(1)) * 1000 if cpu else None), number(f'{CGROUP_FS}{base}/memory.current')
    return number(f'{CGROUP_FS}/cpuacct{base}/cpuacct.usage'), number(f'{MEMORY}{base}/{USAGE}')


def stats(ctx, pod, rel):
    busy = Ctr(pod, 'busy').prepare(['sh', '-c', 'tail -c 67108864 /dev/zero & echo holding; while :; do :; done'],
                                    memory=CLOSE_LIMIT, edit=in_cgroup(rel))
    create_started(busy)
    wait_log(busy, b'holding', timeout=60)
    # until tail holds its 64 MiB
    wait_until(lambda: (event(ctx, busy)[2][1] or 0) >= 64 * MiB, 60, 0.5)
    r1, ev, (cpu1, mem1, pids1) = event(ctx, busy)
    time.sleep(3)
    r2, _, (cpu2, mem2, pids2) = event(ctx, busy)
    ctx.tap.ok(r1.rc == 0 and ev.get('type') == 'stats' and ev.get('id') == busy.id and r1.out.count(b'\n') == 1,
               'stats: `vmctl events --stats` prints one line {"type":"stats","id":...,"data":...}', *r1.diag())
    ctx.tap.ok(isinstance(cpu1, int) and isinstance(cpu2, int) and cpu2 - cpu1 >= 300_000_000,
               'stats: data.cpu.usage.total (ns) grows while the container burns CPU (>= 0.3 s in 3 s under TCG)',
               f'{cpu1} then {cpu2}')
    ctx.tap.ok(isinstance(mem2, int) and 64 * MiB <= mem2 <= CLOSE_LIMIT,
               'stats: data.memory.usage.usage holds the 64 MiB the container keeps (within its limit)',
               f'{mem1}, {mem2}')
    ctx.tap.ok(isinstance(pids2, int) and pids2 >= 2, 'stats: data.pids.current counts its processes (sh and tail)',
               f'{pids1}, {pids2}')
    host_cpu, host_mem = host_view(rel, busy)
    ctx.tap.ok(host_cpu is not None and host_mem is not None and host_cpu < 100_000_000 and host_mem < 8 * MiB,
               'stats: the container\'s host cgroup (what CRI-O\'s container stats read) holds only the stand-in: '
               'under 0.1 s of CPU and 8 MiB', f'host cgroup: cpu {host_cpu} ns, memory {host_mem} bytes')
    kill_and_wait_stopped(busy, 'KILL', 137)
    delete(busy)


# --- hostoom: QEMU OOM-killed on the host ---------------------------------------------------


def host_oom(ctx):
    rel = pod_cgroup('hostoom')
    pod = Pod(ctx, 'acct-hostoom', 'acct-pod-uid-0002', 'sandbox-hostoom')
    sb = pod.sandbox.prepare(edit=in_cgroup(rel))
    create_started(sb)
    victim = Ctr(pod, 'victim').prepare(['tail', '-f', '/dev/null'], edit=in_cgroup(rel))
    create_started(victim)
    pid, _, _ = the_qemu(ctx, sb, 'hostoom')
    sb_cg = f'{rel}/crio-{sb.id}'
    ctx.tap.eq('hostoom: QEMU is in the sandbox\'s cgroupsPath (memory)', sb_cg, memory_cgroup_of(pid))
    used = number(os.path.join(MEMORY + rel, USAGE)) or 0
    write(os.path.join(MEMORY + rel, LIMIT), str(used + 32 * MiB))
    ctx.tap.note(f'hostoom: the pod\'s cgroup uses {used // MiB} MiB; its limit is now {(used + 32 * MiB) // MiB} MiB')
    rc, _, _, _, _ = exec_sync(victim, ['sh', '-c', 'head -c 268435456 /dev/zero | tail -c 268435456 >/dev/null'])
    ctx.tap.ok(wait_until(lambda: not pod_qemu(sb), 60), 'hostoom: QEMU is gone once the guest touched 256 MiB',
               f'QEMU: {pod_qemu(sb)}', f'the exec\'s monitor: {rc}')
    # QEMU's cgroup (the sandbox's) went with the sandbox: its counter is
    # as the pod monitor read it, in the reason every container reports
    for c in (victim, sb):
        await_exit(c, 137)
    console = os.path.join(ctx.root, 'pods', sb.id, 'console.log')
    reason = ((ctx.vmctl('state', victim.id).json() or {}).get('annotations') or {}).get(STOP_REASON) or ''
    counter = f'{MEMORY}{sb_cg}/{OOM}'
    m = re.fullmatch(r"the pod's VM stopped: QEMU was killed by the host's OOM killer \((.*): OOM kills 0 -> "
                     r"([0-9]+)\) \(console log: (.*)\)", reason)
    ctx.tap.ok(m is not None and m.group(1) == counter and int(m.group(2)) >= 1 and m.group(3) == console,
               'hostoom: the pod monitor saw QEMU\'s memory cgroup count an OOM kill more', f'reason: {reason!r}',
               f'counter file: {counter}')
    want = m.group(0) if m else 'the host\'s OOM kill named'
    for c in (victim, sb):
        L = c.label()
        last = (k8s_parse(read_bytes(c.log)) or [(None, None, b'')])[-1]
        ctx.tap.eq(f'{L}: the last line of its log names the host\'s OOM killer', ('stderr', 'F', want.encode()), last)
        js = check_state(c, f'{L}: state says stopped', 'stopped')
        ctx.tap.eq(f'{L}: its state\'s {STOP_REASON} names the host\'s OOM killer', want,
                   (js.get('annotations') or {}).get(STOP_REASON))
        ctx.tap.ok(not os.path.exists(os.path.join(c.bundle, 'oom')) and not os.path.exists(os.path.join(c.persist,
                                                                                                         'oom')),
                   f'{L}: no oom file: the container was not OOM-killed in the guest')
        if ctx.syslog.available:
            ctx.tap.ok(ctx.syslog.wait(c.id[:20], "the host's OOM killer"),
                       f'{L}: its monitor\'s log names the host\'s '
                       'OOM killer', *[f'log: {m}' for m in ctx.syslog.lines(c.id[:20])][-6:])
    delete(victim)
    delete(sb)


def main():
    def body(ctx):
        ctx.defer(lambda: remove_top(ctx))
        ctx.tap.note(f'cgroup {"v2" if UNIFIED else "v1"}; the test\'s cgroups under {MEMORY}/{TOP}')
        if not ctx.syslog.available:
            ctx.tap.note(f'{ctx.syslog.PATH} belongs to a syslog daemon (or another driver) here: the monitors\' log '
                         'lines are not checked')
        ctx.tap.item('close: a container limit close to the overhead', close_pod, ctx)
        ctx.tap.item('tiny: a pod too small for a VM', tiny_pod, ctx)
        ctx.tap.item('hostoom: QEMU OOM-killed on the host', host_oom, ctx)
    return run_crio_suite(body)


if __name__ == '__main__':
    sys.exit(main())
