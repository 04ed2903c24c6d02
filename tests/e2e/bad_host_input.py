#!/usr/bin/env python3
"""bad_host_input.py: bad input from the host side (issue 14 item 5,
docs/security.md#bad-input-from-the-host), as CRI-O drives conmon-kata
and vmctl (TAP).

Each bad input must fail (or be survived) with one line naming the item,
and leave nothing behind: no QEMU, no monitor, no pod folder, no state.

  * a malformed config.json, a rootfs that does not exist: the create
    fails, the sync pipe carries one line naming the file;
  * a kernel that is a folder, an initrd that is a FIFO (QEMU must not wait
    on it forever), a configuration file that is not TOML, a relative
    kernel path and one with a '..' component: the sandbox's create fails
    with one line naming the key or the file and line;
  * the ctl FIFO flooded with 4 MiB of junk: the monitor and the container
    carry on, a well-formed resize afterwards still takes effect, the
    monitor's memory stays bounded;
  * one 8 MiB line and binary output (every byte value, NULs, CRs, invalid
    UTF-8): the log is only well-formed CRI lines, and what they carry is
    exactly what the container wrote.

Environment (set by meson): CK_BUILD_ROOT, CK_SOURCE_ROOT, CK_TEST_CONFIG,
CK_TEST_ROOTFS.
"""
import fcntl
import hashlib
import json
import os
import re
import sys
import termios
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ckdriver.crio import (  # noqa: E402
    Ctr, Monitor, Pod, await_exit, create_argv, create_started, delete, pod_qemu, run_crio_suite, stop_pod)
from ckdriver.files import k8s_parse, write_fifo  # noqa: E402
from ckdriver.oci import K8S_LINE  # noqa: E402
from ckdriver.procs import procs_mentioning  # noqa: E402
from ckdriver.streams import AttachClient, recv_to_eof  # noqa: E402
from ckdriver.util import read_bytes, short, wait_until  # noqa: E402

# the pod monitor's peak RSS while its ctl FIFO is flooded
RSS_LIMIT_KIB = 64 * 1024


def new_pod(ctx, name, config=None):
    return Pod(ctx, name, f'{name}-uid', f'{name}-sandbox', config=config, netns_prefix='ckfaults')


def failed_create(ctx, c, want, desc):
    """conmon-kata create as CRI-O runs it must fail: P0 exits 0 (the
    failure is the sync pipe's), the sync pipe carries {"pid": -1,
    "message": ...} with `want` in one line, and nothing of the container
    or its pod is left."""
    mon = Monitor(ctx, create_argv(c), cwd=c.bundle)
    c.mon = mon
    mon.write_start()
    rc = mon.wait_p0(120)
    sync, _ = recv_to_eof(mon.sync, 120)
    msg = None
    try:
        js = json.loads(sync)
        msg = js.get('message') if js.get('pid') == -1 else None
    except ValueError:
        pass
    good = isinstance(msg, str) and '\n' not in msg and (want.search(msg) if hasattr(want, 'search') else want in msg)
    ctx.tap.note(f'{desc}: {msg!r}')
    ctx.tap.ok(rc == 0 and good, f'{desc}: create fails, one line naming it', f'P0 status: {rc}', f'sync: {sync!r}',
               f'want: {want.pattern if hasattr(want, "pattern") else want!r}', *mon.diag())
    pod_dir = os.path.join(ctx.root, 'pods', c.pod.sandbox.id)
    left = wait_until(lambda: not procs_mentioning(c.bundle) and (not c.is_sandbox or not pod_qemu(c.pod.sandbox)),
                      15)
    ctx.tap.ok(left and not os.path.exists(os.path.join(ctx.root, 'containers', c.id)) and
               (not c.is_sandbox or not os.path.exists(pod_dir)),
               f'{desc}: nothing is left (no process, QEMU, state or pod folder)',
               *[f'{p} {comm}' for p, comm, _ in procs_mentioning(c.bundle)], f'root: {os.listdir(ctx.root)}')
    c.deleted = True


def bad_bundles(ctx):
    pod = new_pod(ctx, 'badbundle')
    sb = pod.sandbox.prepare()
    with open(os.path.join(sb.bundle, 'config.json'), 'w') as f:
        f.write('{"ociVersion": "1.0.2", "process": {')
    failed_create(ctx, sb, re.compile(re.escape(os.path.join(sb.bundle, 'config.json')) + r': .*(parse|JSON|json)'),
                  'a sandbox whose config.json is cut short')

    pod = new_pod(ctx, 'norootfs')
    sb = pod.sandbox.prepare(edit=lambda spec: spec['root'].update(path=os.path.join(ctx.tmp, 'no-such-rootfs')))
    failed_create(ctx, sb, os.path.join(ctx.tmp, 'no-such-rootfs'), 'a sandbox whose rootfs does not exist')

    # a container of a running pod: its own create fails, the pod runs on
    pod = new_pod(ctx, 'goodpod')
    sb = pod.sandbox.prepare()
    create_started(sb)
    c = Ctr(pod, 'nojson').prepare()
    with open(os.path.join(c.bundle, 'config.json'), 'w') as f:
        f.write('not json at all')
    failed_create(ctx, c, re.compile(re.escape(os.path.join(c.bundle, 'config.json')) + r': .*(parse|JSON|json)'),
                  'a container whose config.json is not JSON')
    c = Ctr(pod, 'norootfs').prepare(edit=lambda spec: spec['root'].update(path='/nonexistent-ckfaults'))
    failed_create(ctx, c, '/nonexistent-ckfaults', 'a container whose rootfs does not exist')
    ctx.tap.eq('goodpod: its QEMU still runs after its containers\' failed creates', 1, len(pod_qemu(sb)))
    stop_pod(pod)


def config_text(**edits):
    text = read_bytes(os.environ['CK_TEST_CONFIG']).decode()
    for key, value in edits.items():
        text, n = re.subn(rf'^{key} = .*$', lambda _m, kv=f'{key} = {value}': kv, text, flags=re.M)
        assert n == 1, key
    return text


def bad_configs(ctx):
    kernel_dir = ctx.mk('kernel-is-a-folder')
    fifo = os.path.join(ctx.tmp, 'initrd-fifo')
    os.mkfifo(fifo)
    cases = [
        ('kernel-dir', config_text(kernel=json.dumps(kernel_dir)), f'hypervisor.qemu.kernel: {kernel_dir}: not a '
         'regular file', 'a kernel that is a folder'),
        ('initrd-fifo', config_text(initrd=json.dumps(fifo)), f'hypervisor.qemu.initrd: {fifo}: not a regular file',
         'an initrd that is a FIFO'),
        ('relative', config_text(kernel='"guest/vmlinux"'), "hypervisor.qemu.kernel: 'guest/vmlinux' is not an "
         'absolute path', 'a relative kernel path'),
        ('dotdot', config_text(kernel='"/usr/share/../../etc/vmlinux"'), "hypervisor.qemu.kernel: "
         "'/usr/share/../../etc/vmlinux' has a '..' component", "a kernel path with '..'"),
        ('not-toml', config_text().replace('[agent.kata]', '[agent.kata'), None, 'a configuration that is not TOML'),
    ]
    for name, text, want, desc in cases:
        path = os.path.join(ctx.tmp, f'bad-{name}.toml')
        with open(path, 'w') as f:
            f.write(text)
        if want is None:
            line = text.splitlines().index('[agent.kata') + 1
            want = re.compile(re.escape(f'{path}:{line}:') + r' .+')
        elif name in ('relative', 'dotdot'):
            line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith('kernel = '))
            want = f'{path}:{line}: {want}'
        pod = new_pod(ctx, f'cfg-{name}', config=path)
        sb = pod.sandbox.prepare()
        t0 = time.time()
        failed_create(ctx, sb, want, desc)
        ctx.tap.note(f'{desc}: failed in {time.time() - t0:.1f} s')


def fifo_unread(path):
    """Bytes in a FIFO that its reader has not read yet (FIONREAD on a
    write end of our own)."""
    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        buf = bytearray(4)
        fcntl.ioctl(fd, termios.FIONREAD, buf)
        return int.from_bytes(buf, sys.byteorder)
    finally:
        os.close(fd)


def ctl_flood(ctx):
    pod = new_pod(ctx, 'ctlflood')
    sb = pod.sandbox.prepare()
    create_started(sb)
    c = Ctr(pod, 'tty').prepare(['sh', '-c', 'while read l; do stty size; done'], terminal=True)
    create_started(c, ['-t'])
    a = AttachClient(os.path.join(ctx.crio.sockdir, c.id, 'attach'))
    ctl = os.path.join(c.bundle, 'ctl')
    junk = bytearray(os.urandom(4 * 1024 * 1024))
    err = write_fifo(ctl, bytes(junk), timeout=60)
    ctx.tap.ok(err is None, 'tty: 4 MiB of random bytes written into its ctl FIFO', err)
    # conmon drops the rest of a read after a bad line: a newline ends the
    # junk's last line, and the resize goes in once all of it was read
    ctx.tap.ok(wait_until(lambda: fifo_unread(ctl) == 0, 30, 0.1), 'tty: its monitor reads all of the junk',
               f'unread: {fifo_unread(ctl)} bytes')
    write_fifo(ctl, b'\n')
    wait_until(lambda: fifo_unread(ctl) == 0, 10, 0.1)
    time.sleep(0.5)
    err = write_fifo(ctl, b'1 33 101\n')
    ctx.tap.ok(err is None, 'tty: then a well-formed resize line', err)

    def size_is(want):
        mark = len(a.stream(2))
        a.send(b'x\n')
        a.wait(lambda x: want in x.stream(2)[mark:], 3)
        return want in a.stream(2)[mark:]
    ctx.tap.ok(wait_until(lambda: size_is(b'33 101\r\n'), 20, 0.2),
               'tty: the resize after the junk takes effect (the monitor and the container carried on)',
               f'output: {short(a.stream(2)[-200:])}')
    status = read_bytes(f'/proc/{c.p1}/status') or b''
    m = re.search(rb'^VmHWM:\s+([0-9]+) kB', status, re.M)
    hwm = int(m.group(1)) if m else None
    ctx.tap.ok(hwm is not None and hwm < RSS_LIMIT_KIB, f'tty: its monitor\'s peak RSS stays under '
               f'{RSS_LIMIT_KIB // 1024} MiB', f'VmHWM: {hwm} KiB')
    a.close()
    r = c.vmctl('kill', c.id, 'KILL')
    ctx.tap.ok(r.rc == 0, 'tty: `kill KILL` exits 0', *r.diag())
    await_exit(c, 137)
    delete(c)
    stop_pod(pod)


BIG = 8 * 1024 * 1024


def log_content(parsed, stream):
    """What the k8s lines of one stream carry, the newline of each F line
    put back (the CRI format drops it)."""
    return b''.join(body + (b'\n' if tag == 'F' else b'') for s, tag, body in parsed if s == stream)


def huge_and_binary(ctx):
    pod = new_pod(ctx, 'biglog')
    sb = pod.sandbox.prepare()
    create_started(sb)
    binary = bytes(range(256)) * 4 + b'\r\n\r\0\0\xff\xfe\xc3\x28\xe2\x82\n' + b'\x1b[2J tail'
    with open(os.path.join(ctx.tmp, 'binary.bin'), 'wb') as f:
        f.write(binary)
    c = Ctr(pod, 'blob').prepare(['sh', '-c', f'head -c {BIG} /dev/zero | tr "\\0" q; echo; cat /blob.bin; echo'])
    with open(os.path.join(c.bundle, 'rootfs', 'blob.bin'), 'wb') as f:
        f.write(binary)
    create_started(c)
    await_exit(c, 0, timeout=180)
    text = read_bytes(c.log) or b''
    lines = text.split(b'\n')
    bad = [ln[:120] for ln in lines[:-1] if not K8S_LINE.match(ln)]
    ctx.tap.ok(text.endswith(b'\n') and not bad, 'blob: every line of its log is a CRI line (timestamp, stream, P|F)',
               f'bad: {bad[:3]}', f'{len(lines) - 1} lines')
    parsed = k8s_parse(text)
    got = log_content(parsed, 'stdout')
    want = b'q' * BIG + b'\n' + binary + b'\n'
    ctx.tap.ok(got == want, f'blob: the lines carry exactly what it wrote: one {BIG >> 20} MiB line, then every byte '
               'value, NULs, CRs and invalid UTF-8',
               f'got {len(got)} bytes (sha256 {hashlib.sha256(got).hexdigest()[:16]}), want {len(want)} '
               f'(sha256 {hashlib.sha256(want).hexdigest()[:16]})',
               f'first difference at {next((i for i, (x, y) in enumerate(zip(got, want)) if x != y), min(len(got), len(want)))}')
    delete(c)
    stop_pod(pod)


def main():
    def body(ctx):
        ctx.tap.item('malformed config.json, missing rootfs', bad_bundles, ctx)
        ctx.tap.item('bad configuration: kernel, initrd, TOML, relative and .. paths', bad_configs, ctx)
        ctx.tap.item('the ctl FIFO flooded with junk', ctl_flood, ctx)
        ctx.tap.item('a huge line and binary output', huge_and_binary, ctx)
    return run_crio_suite(body)


if __name__ == '__main__':
    sys.exit(main())
