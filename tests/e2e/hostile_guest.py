#!/usr/bin/env python3
"""hostile_guest.py: a guest that breaks the protocol on purpose (issue 14
item 4, docs/security.md#a-hostile-guest), as CRI-O drives conmon-kata
and vmctl (TAP).

The hostile pods boot the test image build/guest-hostile, whose agent has
one more operation, "misbehave" (tests/lib/hostile-agent.c): asked through
the pod's control socket, it sends an oversized frame, a frame of an
unknown type, an event or a response that is not JSON, a response to a
request never sent, or floods a container's stdout beyond its window.
Each time the pod monitor must drop the agent's connection, stop QEMU and
say why in one line ("the agent broke the protocol (...), so QEMU was
stopped"), every container of the pod ends with 137 and that reason, the
pod monitor's memory and CPU stay bounded (its peak RSS and CPU time are
printed and checked), nothing is left (faultlib.after_fault), and a
second pod, booted from the normal image before the first hostile one,
keeps answering execs throughout.

Environment (set by meson): CK_BUILD_ROOT, CK_SOURCE_ROOT, CK_TEST_CONFIG,
CK_TEST_ROOTFS, CK_HOSTILE_IMAGE (the hostile image's folder).
CK_HOSTILE_ONLY=mode,... runs only those modes, for development; meson
never sets it.
"""
import json
import os
import re
import socket
import struct
import sys
import threading
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ckdriver.crio import (  # noqa: E402
    Ctr, Monitor, Pod, await_exit, create_argv, delete, expect_pid_sync, pod_qemu, run_crio_suite, start, stream_exec)
from ckdriver.files import k8s_parse  # noqa: E402
from ckdriver.streams import recv_line  # noqa: E402
from ckdriver.util import read_bytes, wait_until  # noqa: E402
from faultlib import ExitCommands, after_fault, monitor_log  # noqa: E402

IMAGE = os.environ.get('CK_HOSTILE_IMAGE', '')
FRAME_REQUEST, FRAME_RESPONSE = 1, 2
# peak RSS and CPU time a pod monitor may reach while its guest misbehaves
RSS_LIMIT_KIB = 64 * 1024
CPU_LIMIT_S = 10.0
# the console file's bound for the console flood (hypervisor.qemu's
# console_log_size_max, 1 MiB by default), four times below what the agent
# writes (tests/lib/hostile-agent.c), and the flood's last line (the
# guest's tty writes "\r\n" for "\n")
CONSOLE_MAX = 64 * 1024
CONSOLE_DONE = b'hostile-agent: console flood done\r\n'

MODES = [
    ('oversize', re.escape('frame: response: length 1048577 over 1048576')),
    ('unknown-type', re.escape('frame: unknown type 66')),
    ('bad-json-event', r'event: .+'),
    ('bad-json-reply', r'request 1: response: .+'),
    ('unknown-id', re.escape('a response to request 2147483632, which was never sent')),
    ('flood', r'process [0-9]+ sent [0-9]+ bytes of stdout, beyond its window of 262144'),
]
# and 'console-flood', which is no protocol violation: console_flood()


def create_all(ctx, ctrs, exits):
    for c in ctrs:
        c.mon = Monitor(ctx, create_argv(c, extra=exits.args(c)), cwd=c.bundle)
        c.mon.write_start()
        rc = c.mon.wait_p0(120)
        ctx.tap.must(rc == 0, f'{c.label()}: P0 exits 0 after the start byte', f'exit status: {rc}', *c.mon.diag())
        text = read_bytes(c.conmon_pidfile)
        c.p1 = int(text) if text and re.fullmatch(rb'[1-9][0-9]*', text) else None
        expect_pid_sync(c, recv_line(c.mon.sync, 150))
        start(c)


def ask_misbehave(ctx, sb, mode):
    """{"op": "misbehave", "mode": mode} through the pod's control socket,
    as a client of the pod monitor; returns the response's payload."""
    path = os.path.join(ctx.root, 'pods', sb.id, 'ctl.sock')
    body = json.dumps({'op': 'misbehave', 'mode': mode}).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(20)
        s.connect(path)
        s.sendall(struct.pack('>BBBBII', 0xC7, FRAME_REQUEST, 0, 0, 1, len(body)) + body)
        buf = b''
        try:
            while True:
                if len(buf) >= 12:
                    _, kind, _, _, rid, n = struct.unpack('>BBBBII', buf[:12])
                    if len(buf) >= 12 + n:
                        if kind == FRAME_RESPONSE and rid == 1:
                            return buf[12:12 + n]
                        buf = buf[12 + n:]
                        continue
                data = s.recv(65536)
                if not data:
                    return None
                buf += data
        except OSError as e:
            return f'{e}'.encode()


class Usage:
    """Peak RSS (VmHWM) and CPU time of a process, sampled until it exits."""

    def __init__(self, pid):
        self.pid, self.hwm_kib, self.cpu_s = pid, 0, 0.0
        self.done = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        tick = os.sysconf('SC_CLK_TCK')
        while not self.done:
            status = read_bytes(f'/proc/{self.pid}/status')
            stat = read_bytes(f'/proc/{self.pid}/stat')
            if status is None or stat is None:
                return
            m = re.search(rb'^VmHWM:\s+([0-9]+) kB', status, re.M)
            if m:
                self.hwm_kib = max(self.hwm_kib, int(m.group(1)))
            fields = stat[stat.rindex(b')') + 2:].split()
            if len(fields) > 12:
                self.cpu_s = (int(fields[11]) + int(fields[12])) / tick
            time.sleep(0.05)

    def stop(self):
        self.done = True
        self.thread.join(5)


def hostile_pod(ctx, mode, pattern, cfg, steady):
    exits = ExitCommands(ctx)
    pod = Pod(ctx, f'hostile-{mode}', f'hostile-{mode}-uid', f'{mode}-sandbox', config=cfg, netns_prefix='ckfaults')
    sb = pod.sandbox.prepare()
    c = Ctr(pod, f'{mode}-victim').prepare(['sh', '-c', 'echo started; exec tail -f /dev/null'])
    create_all(ctx, [sb, c], exits)
    qemu = [p for p, _, _ in pod_qemu(sb)]
    ctx.tap.must(len(qemu) == 1, f'{pod.name}: one QEMU runs for it', f'QEMU: {qemu}')
    usage = Usage(sb.p1)
    cpu_before = usage.cpu_s
    reply = ask_misbehave(ctx, sb, mode)
    ctx.tap.eq(f'{pod.name}: the agent accepts "misbehave" {mode}', {'result': {}},
               json.loads(reply) if reply and reply.startswith(b'{') else reply)
    want = re.compile(r"the agent broke the protocol \((" + pattern + r")\), so QEMU was stopped")
    for x in (c, sb):
        await_exit(x, 137, timeout=60)
    usage.stop()
    last = (k8s_parse(read_bytes(c.log) or b'') or [(None, None, b'')])[-1]
    ctx.tap.ok(last[0] == 'stderr' and want.search(last[2].decode(errors='replace')),
               f'{c.label()}: the last line of its log says the agent broke the protocol, and how', f'line: {last}')
    if not ctx.syslog.available:
        ctx.tap.skip(f'{pod.name}: its pod monitor logs one line naming the violation',
                     f'{ctx.syslog.PATH} belongs to a syslog daemon here')
    else:
        lines = [m for m in monitor_log(ctx, sb, f'pod {sb.id}: the agent broke the protocol') if '<error>' in m]
        ctx.tap.ok(len(lines) == 1 and want.search(lines[0]),
                   f'{pod.name}: its pod monitor logs one line naming the violation', *lines,
                   *ctx.syslog.lines(sb.id[:20])[-4:])
    ctx.tap.note(f'{mode}: pod monitor peak RSS {usage.hwm_kib} KiB, CPU {usage.cpu_s:.2f} s '
                 f'({usage.cpu_s - cpu_before:.2f} s after the request)')
    ctx.tap.ok(0 < usage.hwm_kib < RSS_LIMIT_KIB, f'{pod.name}: the pod monitor\'s peak RSS stays under '
               f'{RSS_LIMIT_KIB // 1024} MiB', f'VmHWM {usage.hwm_kib} KiB')
    ctx.tap.ok(usage.cpu_s < CPU_LIMIT_S, f'{pod.name}: the pod monitor used under {CPU_LIMIT_S:.0f} s of CPU',
               f'{usage.cpu_s:.2f} s')
    after_fault(ctx, pod, [c, sb], 137, exits, qemu, reason='the agent broke the protocol (')
    r = stream_exec(steady, ['echo', 'still serving'])
    ctx.tap.eq(f'steady: its container still answers an exec after {pod.name}', (0, b'still serving\n'),
               (r.rc, r.out), *r.diag())


def console_flood(ctx, steady):
    """The guest writes 256 KiB to its serial console: the pod's
    console.log never grows past its bound (the older part rotates to
    console.log.1), the pod monitor's memory stays bounded, and the pod
    keeps serving."""
    cfg = ctx.config('hostile-console.toml', kernel=os.path.join(IMAGE, 'vmlinux'),
                     initrd=os.path.join(IMAGE, 'initrd.img'), console_log_size_max=CONSOLE_MAX)
    exits = ExitCommands(ctx)
    pod = Pod(ctx, 'hostile-console', 'hostile-console-uid', 'console-sandbox', config=cfg, netns_prefix='ckfaults')
    sb = pod.sandbox.prepare()
    c = Ctr(pod, 'console-victim').prepare(['tail', '-f', '/dev/null'])
    create_all(ctx, [sb, c], exits)
    qemu = [p for p, _, _ in pod_qemu(sb)]
    console = os.path.join(ctx.root, 'pods', sb.id, 'console.log')
    usage = Usage(sb.p1)
    reply = ask_misbehave(ctx, sb, 'console-flood')
    ctx.tap.eq(f'{pod.name}: the agent accepts "misbehave" console-flood', {'result': {}},
               json.loads(reply) if reply and reply.startswith(b'{') else reply)
    sizes = []

    def done():
        sizes.append(os.path.getsize(console) if os.path.exists(console) else -1)
        return (read_bytes(console) or b'').endswith(CONSOLE_DONE)
    finished = wait_until(done, 300, interval=0.2)
    usage.stop()
    ctx.tap.ok(finished, f'{pod.name}: the flood\'s last line reached console.log', f'size: {sizes[-1:]}')
    older = read_bytes(console + '.1') or b''
    ctx.tap.ok(0 <= max(sizes) <= CONSOLE_MAX, f'{pod.name}: console.log never held more than {CONSOLE_MAX} bytes',
               f'largest seen: {max(sizes)}')
    ctx.tap.eq(f'{pod.name}: the older part rotated to console.log.1, at the bound', CONSOLE_MAX, len(older))
    ctx.tap.ok(set(older) <= set(b'c\r\n') and b'c' * 127 + b'\r\n' in older,
               f'{pod.name}: console.log.1 holds the flood\'s lines', repr(older[:80]))
    ctx.tap.note(f'console flood: pod monitor peak RSS {usage.hwm_kib} KiB, CPU {usage.cpu_s:.2f} s')
    ctx.tap.ok(0 < usage.hwm_kib < RSS_LIMIT_KIB, f'{pod.name}: the pod monitor\'s peak RSS stays under '
               f'{RSS_LIMIT_KIB // 1024} MiB', f'VmHWM {usage.hwm_kib} KiB')
    r = stream_exec(c, ['echo', 'still serving'])
    ctx.tap.eq(f'{pod.name}: its container still answers an exec', (0, b'still serving\n'), (r.rc, r.out),
               *r.diag())
    r = c.vmctl('kill', c.id, 'KILL')
    ctx.tap.ok(r.rc == 0, f'{c.label()}: `kill KILL` exits 0', *r.diag())
    await_exit(c, 137)
    ctx.tap.eq(f'{c.label()}: the exit command ran exactly once', 1, exits.count(c))
    delete(c)
    r = sb.vmctl('kill', sb.id, '15')
    ctx.tap.ok(r.rc == 0, f'{pod.name}: `kill <sandbox> 15` exits 0', *r.diag())
    after_fault(ctx, pod, [sb], 0, exits, qemu)


def main():
    def body(ctx):
        cfg = ctx.config('hostile.toml', kernel=os.path.join(IMAGE, 'vmlinux'),
                         initrd=os.path.join(IMAGE, 'initrd.img'))
        exits = ExitCommands(ctx)
        steady_pod = Pod(ctx, 'steady', 'steady-uid', 'steady-sandbox', netns_prefix='ckfaults')
        ssb = steady_pod.sandbox.prepare()
        steady = Ctr(steady_pod, 'steady').prepare(['tail', '-f', '/dev/null'])
        create_all(ctx, [ssb, steady], exits)
        only = [m for m in os.environ.get('CK_HOSTILE_ONLY', '').split(',') if m]
        for mode, pattern in MODES:
            if only and mode not in only:
                continue
            ctx.tap.item(f'hostile guest: {mode}', lambda m=mode, p=pattern: hostile_pod(ctx, m, p, cfg, steady))
        if not only or 'console-flood' in only:
            ctx.tap.item('hostile guest: console-flood', lambda: console_flood(ctx, steady))
        r = steady.vmctl('kill', steady.id, 'KILL')
        ctx.tap.ok(r.rc == 0, 'steady: `kill KILL` exits 0', *r.diag())
        await_exit(steady, 137)
        r = ssb.vmctl('kill', ssb.id, '15')
        ctx.tap.ok(r.rc == 0, 'steady: `kill <sandbox> 15` exits 0', *r.diag())
        await_exit(ssb, 0)
        delete(steady)
        delete(ssb)
    if not IMAGE or not os.path.isfile(os.path.join(IMAGE, 'initrd.img')):
        print(f'1..0 # SKIP run through meson test (the hostile image is not built: {IMAGE!r})')
        return 0
    return run_crio_suite(body)


if __name__ == '__main__':
    sys.exit(main())
