#!/usr/bin/env python3
"""templating.py: VM templating as CRI-O drives it (TAP; docs/templating.md).

Issue 13's integration part, on real VMs under TCG, the driver playing
CRI-O 1.26 as crio_replay.py does (ckdriver.crio):

  a  two pods racing for a template that does not exist yet make one
     template: both are restored from it (QEMU started with -incoming and
     the template's memory mapped share=off), one monitor logs that it made
     it; its files are 0600 in a 0700 folder; `vmctl factory status` and
     `vmctl check` call it current, `factory init` finds it there;
  b  the two clones run containers concurrently, each with its own
     hostname, its own 9p rootfs (a file only its bundle has), its own NIC
     (the MAC of the veth in its namespace: a PCI device only the clone
     has), a wall clock equal to the host's (within 1 s), and its own RNG:
     32 bytes of /dev/urandom read by a container and the kernel's boot_id
     differ between the clones;
  c  kill -9 of one clone's QEMU: the template and the other clone are
     untouched (its containers answer, the template is still current);
  d  `factory destroy` with a clone running: the templates are gone, the
     clone runs on (reads 16 MiB of fresh memory), and the next pod makes
     a new template and is restored from it;
  e  a configuration change (kernel_params) makes a new template; the old
     one is never used (status: not used by this configuration);
  f  a corrupt template (its device state overwritten): the pod boots
     instead, its monitor logs exactly one warning line, it runs its
     container, and the corrupt template is removed.

Memory and CPU hot-plug after a restore are pod-policy-template's (the
pod-policy suite with every VM restored). Everything started is stopped at
the end, even on failure.
"""

import os
import re
import signal
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ckdriver.crio import (  # noqa: E402
    Ctr, Monitor, Pod, create_argv, create_started, delete, expect_pid_sync, pod_qemu, run_crio_suite, start,
    stop_pod, stream_exec)
from ckdriver.netns import must_run  # noqa: E402
from ckdriver.streams import recv_line  # noqa: E402
from ckdriver.util import read_bytes, wait_until  # noqa: E402


def factory_dir(ctx):
    return os.path.join(ctx.root, 'factory')


def templates(ctx):
    """The complete templates on disk: {key: folder}."""
    d = factory_dir(ctx)
    names = os.listdir(d) if os.path.isdir(d) else []
    return {n: os.path.join(d, n) for n in names
            if not n.startswith('.') and os.path.isfile(os.path.join(d, n, 'key'))}


def restored_from(sb):
    """The template folder the pod's QEMU maps its memory from, or None
    when it booted (no -incoming)."""
    qemu = pod_qemu(sb)
    if len(qemu) != 1 or '-incoming' not in qemu[0][2]:
        return None
    m = re.search(r'mem-path=([^,]+)/memory,share=off', qemu[0][2])
    return m.group(1) if m else None


def warnings(ctx):
    """The monitors' template warnings so far, for a diagnosis."""
    return [f'log: {m}' for m in ctx.syslog.lines('booting instead')] if ctx.syslog.available else []


def pod_with_nic(ctx, name, config):
    """A pod whose namespace has eth0, a veth to a peer namespace of ours."""
    pod = Pod(ctx, name, f'uid-{name}', config=config, netns_prefix='template')
    peer = ctx.add_netns(f'peer{len(ctx.netns)}')
    must_run('ip', '-n', pod.netns, 'link', 'add', 'name', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0', 'netns',
             peer)
    must_run('ip', '-n', pod.netns, 'link', 'set', 'eth0', 'up')
    must_run('ip', '-n', pod.netns, 'addr', 'add', f'192.0.2.{10 + len(ctx.netns)}/24', 'dev', 'eth0')
    pod.mac = must_run('ip', 'netns', 'exec', pod.netns, 'cat', '/sys/class/net/eth0/address').strip()
    return pod


def prepare_pod(pod, hostname):
    def edit(spec):
        spec['hostname'] = hostname
    sb = pod.sandbox.prepare(edit=edit)
    ctr = Ctr(pod, 'app').prepare(['tail', '-f', '/dev/null'], edit=edit)
    with open(os.path.join(ctr.bundle, 'rootfs', 'marker'), 'w') as f:
        f.write(f'rootfs of {pod.name}\n')
    return sb, ctr


def race_sandboxes(ctx, sbs):
    """CRI-O's RunPodSandbox for several pods at once: every monitor gets
    its start byte before any sync pipe is read."""
    for sb in sbs:
        sb.mon = Monitor(ctx, create_argv(sb), cwd=sb.bundle)
    for sb in sbs:
        sb.mon.write_start()
    for sb in sbs:
        ctx.tap.must(sb.mon.wait_p0(30) == 0, f'{sb.pod.name}: P0 exits 0 after the start byte', *sb.mon.diag())
        text = read_bytes(sb.conmon_pidfile)
        sb.p1 = int(text) if text and text.isdigit() else None
    for sb in sbs:
        expect_pid_sync(sb, recv_line(sb.mon.sync, 150))
        start(sb)


FACTS = ('hostname; dd if=/dev/urandom bs=32 count=1 2>/dev/null | base64; '
         'cat /proc/sys/kernel/random/boot_id; date +%s; cat /sys/class/net/eth0/address; cat /marker; '
         'cat /proc/uptime')


def facts(ctr):
    t0 = time.time()
    r = stream_exec(ctr, ['sh', '-c', FACTS])
    t1 = time.time()
    lines = r.out.decode(errors='replace').splitlines()
    keys = ('hostname', 'random', 'boot_id', 'date', 'mac', 'marker', 'uptime')
    f = dict(zip(keys, lines)) if r.rc == 0 and len(lines) == len(keys) else {}
    f['t0'], f['t1'], f['diag'] = t0, t1, r.diag()
    return f


def status(ctx, config):
    return ctx.vmctl('factory', 'status', config=config)


# --- a, b: two clones ---------------------------------------------------------------------------


def two_clones(ctx, state):
    a, b = pod_with_nic(ctx, 'tpl-a', ctx.configs['on']), pod_with_nic(ctx, 'tpl-b', ctx.configs['on'])
    (sa, ca), (sb, cb) = prepare_pod(a, 'tpl-a-host'), prepare_pod(b, 'tpl-b-host')
    ctx.tap.eq('no template before the first pods', {}, templates(ctx))
    race_sandboxes(ctx, [sa, sb])
    made = templates(ctx)
    ctx.tap.eq('a: two pods racing for a missing template make exactly one', 1, len(made), f'templates: {made}')
    where = [restored_from(sa), restored_from(sb)]
    ctx.tap.ok(len(made) == 1 and where == [list(made.values())[0]] * 2,
               'a: both pods are restored from it (QEMU -incoming, its memory mapped share=off)',
               f'restored from: {where}', f'templates: {made}', *warnings(ctx))
    if not ctx.syslog.available:
        ctx.tap.skip('a: one monitor logs that it made the template',
                     f'{ctx.syslog.PATH} belongs to a syslog daemon here')
    else:
        lines = ctx.syslog.lines('VM template', 'made in')
        ctx.tap.eq('a: one monitor logs that it made the template', 1, len(lines), *lines)
    d = list(made.values())[0] if made else None
    modes = {n: oct(os.stat(os.path.join(d, n)).st_mode & 0o777) for n in ('memory', 'state', 'key')} if d else {}
    ctx.tap.ok(d is not None and oct(os.stat(d).st_mode & 0o777) == '0o700' and set(modes.values()) == {'0o600'},
               'a: the template folder is 0700, its memory, state and key 0600', f'modes: {modes}')
    r = status(ctx, ctx.configs['on'])
    key = list(made)[0] if made else '?'
    ctx.tap.ok(r.rc == 0 and f'template {key}: current' in r.out.decode(), 'a: `factory status` calls it current',
               *r.diag())
    r = ctx.vmctl('check', config=ctx.configs['on'])
    ctx.tap.ok(f'current: {key[:12]}' in r.out.decode(), '`vmctl check` reports the current template', *r.diag())
    r = ctx.vmctl('factory', 'init', config=ctx.configs['on'])
    ctx.tap.ok(r.rc == 0 and f'template {key} already in' in r.out.decode(), 'a: `factory init` finds it there',
               *r.diag())

    create_started(ca)
    create_started(cb)
    fa, fb = facts(ca), facts(cb)
    for pod, f in ((a, fa), (b, fb)):
        ctx.tap.ok(f.get('hostname') == f'{pod.name}-host', f'b: {pod.name}: the hostname is the pod\'s',
                   f'facts: {f}')
        ctx.tap.eq(f'b: {pod.name}: its 9p rootfs is its own', f'rootfs of {pod.name}', f.get('marker'), f['diag'])
        ctx.tap.eq(f'b: {pod.name}: eth0 has the MAC of the veth in its namespace', pod.mac, f.get('mac'), f['diag'])
        ok = f.get('date', '').isdigit() and f['t0'] - 1 <= int(f['date']) <= f['t1'] + 1
        ctx.tap.ok(ok, f'b: {pod.name}: the guest wall clock is the host\'s within 1 s',
                   f'guest {f.get("date")}, host {f["t0"]:.2f}..{f["t1"]:.2f}, guest uptime {f.get("uptime")}')
    ctx.tap.ok(fa.get('random') and fb.get('random') and fa['random'] != fb['random'],
               'b: 32 bytes of /dev/urandom differ between the clones (the kernel RNG was reseeded)',
               f'a: {fa.get("random")}', f'b: {fb.get("random")}')
    ctx.tap.ok(fa.get('boot_id') and fb.get('boot_id') and fa['boot_id'] != fb['boot_id'],
               'b: each clone has its own boot_id', f'a: {fa.get("boot_id")}', f'b: {fb.get("boot_id")}')
    state.update(a=a, b=b, ca=ca, cb=cb, key=key)


# --- c: kill -9 of one clone -------------------------------------------------------------------


def kill_one(ctx, state):
    a, ca, cb, key = state['a'], state['ca'], state['cb'], state['key']
    qemu = pod_qemu(a.sandbox)
    ctx.tap.must(len(qemu) == 1, 'c: the first clone has its QEMU', f'qemu: {qemu}')
    os.kill(qemu[0][0], signal.SIGKILL)
    ctx.tap.ok(wait_until(lambda: not pod_qemu(a.sandbox), 20), 'c: its QEMU is gone after kill -9')
    f = facts(cb)
    ctx.tap.eq('c: the other clone\'s container still answers', 'tpl-b-host', f.get('hostname'), f['diag'])
    r = status(ctx, ctx.configs['on'])
    ctx.tap.ok(f'template {key}: current' in r.out.decode(), 'c: the template is still there and current', *r.diag())
    delete(ca, 'c: the killed clone\'s container: `delete --force` exits 0')
    delete(a.sandbox, 'c: the killed clone\'s sandbox: `delete --force` exits 0')


# --- d: factory destroy with a clone running ----------------------------------------------------


def destroy_running(ctx, state):
    cb = state['cb']
    r = ctx.vmctl('factory', 'destroy', config=ctx.configs['on'])
    ctx.tap.ok(r.rc == 0 and not os.path.exists(factory_dir(ctx)), 'd: `factory destroy` removes every template',
               *r.diag())
    r = stream_exec(cb, ['sh', '-c', 'dd if=/dev/urandom of=/dev/shm/x bs=1M count=16 2>/dev/null && '
                         'cat /dev/shm/x > /dev/null && rm /dev/shm/x && echo fine'])
    ctx.tap.eq('d: the running clone goes on (writes and reads 16 MiB of fresh memory)', b'fine\n', r.out, *r.diag())
    c = pod_with_nic(ctx, 'tpl-c', ctx.configs['on'])
    sc, cc = prepare_pod(c, 'tpl-c-host')
    create_started(sc)
    made = templates(ctx)
    ctx.tap.ok(len(made) == 1 and restored_from(sc) == list(made.values())[0],
               'd: the next pod makes a new template and is restored from it', f'templates: {made}',
               f'restored from: {restored_from(sc)}', *warnings(ctx))
    create_started(cc)
    ctx.tap.eq('d: its container runs', 'tpl-c-host', facts(cc).get('hostname'))
    stop_pod(state['b'])
    stop_pod(c)


# --- e: a configuration change ----------------------------------------------------------------


def invalidated(ctx, state):
    before = templates(ctx)
    d = pod_with_nic(ctx, 'tpl-d', ctx.configs['changed'])
    sd, cd = prepare_pod(d, 'tpl-d-host')
    create_started(sd)
    after = templates(ctx)
    new = {k: v for k, v in after.items() if k not in before}
    ctx.tap.ok(len(new) == 1 and restored_from(sd) == list(new.values())[0],
               'e: kernel_params changed: a new template is made and the pod restored from it',
               f'before: {list(before)}', f'after: {list(after)}', f'restored from: {restored_from(sd)}',
               *warnings(ctx))
    create_started(cd)
    ctx.tap.eq('e: its container runs', 'tpl-d-host', facts(cd).get('hostname'))
    r = status(ctx, ctx.configs['changed'])
    old = list(before)[0] if before else '?'
    ctx.tap.ok(f'template {old}: not used by this configuration' in r.out.decode(),
               'e: `factory status` of the new configuration never calls the old one current', *r.diag())
    stop_pod(d)


# --- f: a corrupt template --------------------------------------------------------------------


def corrupt(ctx, state):
    made = templates(ctx)
    ctx.tap.must(len(made) >= 1, 'f: a template to corrupt', f'templates: {made}')
    key, d = current_of(ctx, ctx.configs['on'], made)
    with open(os.path.join(d, 'state'), 'r+b') as f:
        f.seek(64)
        f.write(b'\xff' * 4096)
    e = pod_with_nic(ctx, 'tpl-e', ctx.configs['on'])
    se, ce = prepare_pod(e, 'tpl-e-host')
    create_started(se)
    qemu = pod_qemu(se)
    ctx.tap.ok(len(qemu) == 1 and '-incoming' not in qemu[0][2], 'f: the pod boots instead (QEMU without -incoming)',
               f'qemu: {qemu}')
    if not ctx.syslog.available:
        ctx.tap.skip('f: its monitor logs exactly one warning line naming the template',
                     f'{ctx.syslog.PATH} belongs to a syslog daemon here')
    else:
        lines = ctx.syslog.lines(se.id[:20], 'booting instead')
        ctx.tap.ok(len(lines) == 1 and f'VM template {key[:12]}' in lines[0],
                   'f: its monitor logs exactly one warning line naming the template', *lines)
    create_started(ce)
    ctx.tap.eq('f: its container runs', 'tpl-e-host', facts(ce).get('hostname'))
    ctx.tap.ok(not os.path.exists(d), 'f: the corrupt template is removed (the next pod makes a new one)',
               f'{d} exists: {os.path.exists(d)}')
    stop_pod(e)


def current_of(ctx, config, made):
    out = status(ctx, config).out.decode()
    for k, v in made.items():
        if f'template {k}: current' in out:
            return k, v
    raise RuntimeError(f'no current template in: {out}')


def main():
    def body(ctx):
        ctx.configs['on'] = ctx.config('template.toml', enable_template=True)
        ctx.configs['changed'] = ctx.config('template-changed.toml', enable_template=True,
                                            kernel_params='ck.template=2')
        state = {}
        try:
            ctx.tap.item('a, b: two clones from one template', lambda: two_clones(ctx, state))
            if 'cb' not in state:
                return
            ctx.tap.item('c: kill -9 of a clone\'s QEMU', lambda: kill_one(ctx, state))
            ctx.tap.item('d: factory destroy with a clone running', lambda: destroy_running(ctx, state))
            ctx.tap.item('e: a configuration change makes a new template', lambda: invalidated(ctx, state))
            ctx.tap.item('f: a corrupt template falls back to a boot', lambda: corrupt(ctx, state))
        finally:
            ctx.vmctl('factory', 'destroy', config=ctx.configs['on'])
    return run_crio_suite(body)


if __name__ == '__main__':
    sys.exit(main())
