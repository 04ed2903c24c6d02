#!/usr/bin/env python3
"""port_forward.py: port forwarding into a VM pod, played as CRI-O (TAP).

Issue 11 item 4 (docs/port-forward.md). CRI-O's port-forward enters the
pod's network namespace and dials 127.0.0.1:PORT there; the test does the
same (a thread that setns(2)s into the namespace the test created) and
checks, on a real VM under TCG:

  a  a container of the pod runs two busybox echo servers (`nc -ll -e cat`,
     on every address) and an httpd bound to 127.0.0.1 only; 1 MiB sent
     to each echo port comes back byte-exact, and the httpd serves a 1 MiB
     file byte-exact; four such connections at once, on both echo ports,
     likewise; [::1] reaches the echo server over IPv6, and not the
     httpd (bound to 127.0.0.1), whose connection is reset;
  b  a port nothing listens on in the guest: the connection is reset
     within seconds, and the pod runs on. The kernel completes the
     handshake with the monitor's listener before the guest is asked, so
     the client sees ECONNRESET from its first read, or already from its
     (non-blocking, as Python's and Go's are) connect when the reset came
     before the connect was checked; never ECONNREFUSED or a clean end;
  c  at most 64 forwarded connections at a time: with 64 open, a 65th is
     reset the same way, and once they close new ones work again;
  d  after the pod is stopped and deleted, a connection to 127.0.0.1:PORT
     in the namespace is refused (ECONNREFUSED): nothing is attached to it;
  e  after kill -9 of a pod's monitor, likewise, without any cleanup by us.

Only the test's own namespaces are touched, only loopback addresses inside
them are dialled. Every process started is stopped at the end, even on
failure.
"""

import ctypes
import errno
import hashlib
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ckdriver.crio import (  # noqa: E402
    Ctr, Pod, create_started, delete, kill_and_wait_stopped, pod_qemu, run_crio_suite, stop_pod)
from ckdriver.util import read_bytes, short, wait_until  # noqa: E402

MIB = 1024 * 1024
ECHO_ALL = 7001      # nc -ll -p 7001 -e cat
ECHO_ALL_2 = 7002    # nc -ll -p 7002 -e cat
HTTP_LOCAL = 7003    # httpd -p 127.0.0.1:7003
NOBODY = 7999        # nothing listens there in the guest
MAX_CONNECTIONS = 64  # conmon-kata/portfwd.h PORT_FORWARD_MAX_CONNECTIONS
IO_TIMEOUT = 180     # 1 MiB each way through virtio-serial under TCG, several at once

LIBC = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def blob(n, seed):
    """n deterministic, incompressible-looking bytes."""
    out = bytearray()
    block = seed.encode()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:n])


# --- a client inside the pod's network namespace -------------------------------------------------


def in_netns(path, calls):
    """Runs each (fn, args) in its own thread, all at once, each thread
    inside the network namespace at path (CRI-O's port-forward does the
    same). Returns their results in order; an exception is a result."""
    results = [None] * len(calls)

    def run(i, fn, args):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                if LIBC.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f'setns {path}')
            finally:
                os.close(fd)
            results[i] = fn(*args)
        except Exception as e:  # noqa: BLE001 - handed back as the result
            results[i] = e
    threads = [threading.Thread(target=run, args=(i, fn, args)) for i, (fn, args) in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def one(path, fn, *args):
    return in_netns(path, [(fn, args)])[0]


def dial(port, host='127.0.0.1'):
    return socket.create_connection((host, port), timeout=10)


def exchange(port, data, timeout=IO_TIMEOUT, host='127.0.0.1'):
    """Connects to host:port, sends data while reading, half-closes, and
    reads to the end. Returns what came back."""
    s = dial(port, host)
    s.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    sent, got, deadline = 0, bytearray(), time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f'port {port}: {sent} bytes sent, {len(got)} received after {timeout} s')
            for _, mask in sel.select(timeout=left):
                if mask & selectors.EVENT_WRITE:
                    sent += s.send(data[sent:sent + 65536])
                    if sent == len(data):
                        s.shutdown(socket.SHUT_WR)
                        sel.modify(s, selectors.EVENT_READ)
                if mask & selectors.EVENT_READ:
                    chunk = s.recv(65536)
                    if not chunk:
                        return bytes(got)
                    got += chunk
    finally:
        sel.close()
        s.close()


def http_get(port, path):
    """HTTP/1.0 GET; (status line, body)."""
    reply = exchange(port, f'GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n'.encode())
    head, _, body = reply.partition(b'\r\n\r\n')
    return head.split(b'\r\n')[0], body


def first_read(port, host='127.0.0.1'):
    """Connects, then reads once: ('connect', errno name) when the connect
    itself failed, else ('read', what the read saw: 'ECONNRESET', 'EOF' or
    the bytes) and the seconds the read took."""
    try:
        s = dial(port, host)
    except OSError as e:
        return ('connect', errno.errorcode.get(e.errno, str(e)), 0.0)
    s.settimeout(60)
    t0 = time.monotonic()
    try:
        data = s.recv(1)
        seen = 'EOF' if not data else data
    except OSError as e:
        seen = errno.errorcode.get(e.errno, str(e)) if e.errno else repr(e)
    finally:
        s.close()
    return ('read', seen, time.monotonic() - t0)


def connect_outcome(port):
    """What a bare connect sees: 'connected', or the errno's name."""
    try:
        dial(port).close()
        return 'connected'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e))


def was_reset(got):
    """first_read() saw a reset: on the read, or on the connect when the
    reset was there before the connect was checked."""
    return not isinstance(got, Exception) and got[1] == 'ECONNRESET'


# --- the pod --------------------------------------------------------------------------------------

SERVERS = (f'httpd -p 127.0.0.1:{HTTP_LOCAL} -h /www && nc -ll -p {ECHO_ALL_2} -e cat & '
           f'exec nc -ll -p {ECHO_ALL} -e cat')


def lo_up(ctx, pod):
    """CNI's loopback plugin brings lo up in a pod's namespace; `ip netns
    add` leaves it down."""
    r = subprocess.run(['ip', 'netns', 'exec', pod.netns, 'ip', 'link', 'set', 'lo', 'up'], capture_output=True)
    ctx.tap.must(r.returncode == 0, f'{pod.name}: lo is up in its network namespace {pod.netns}', r.stderr)


def servers_pod(ctx, name):
    """A VM pod with a container running the servers, once they answer."""
    pod = Pod(ctx, name, f'uid-{name}', netns_prefix='portfwd')
    lo_up(ctx, pod)
    create_started(pod.sandbox.prepare())
    ctx.tap.ok(len(pod_qemu(pod.sandbox)) == 1, f'{name}: the pod runs in a VM')
    ctr = Ctr(pod, 'servers')
    ctr.prepare(['sh', '-c', SERVERS])
    www = os.path.join(ctr.bundle, 'rootfs', 'www')
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, 'blob'), 'wb') as f:
        f.write(blob(MIB, 'http'))
    create_started(ctr)

    def answering():
        got = in_netns(pod.netns_path, [(exchange, (p, b'ping', 20)) for p in (ECHO_ALL, ECHO_ALL_2)])
        return got == [b'ping', b'ping']
    ctx.tap.must(wait_until(answering, 90, 1.0), f'{name}: both echo servers of the guest answer through 127.0.0.1 '
                 'in the pod\'s namespace', f'monitor stderr: {short(pod.sandbox.mon.stderr())}')
    return pod, ctr


# --- a: bytes both ways ---------------------------------------------------------------------------------


def bytes_both_ways(ctx, pod):
    ns = pod.netns_path
    for port in (ECHO_ALL, ECHO_ALL_2):
        data = blob(MIB, f'echo-{port}')
        t0 = time.monotonic()
        got = one(ns, exchange, port, data)
        secs = time.monotonic() - t0
        ctx.tap.ok(got == data, f'127.0.0.1:{port}: 1 MiB sent comes back byte-exact ({secs:.1f} s)',
                   f'got: {got!r}'[:300] if not isinstance(got, bytes) else f'{len(got)} bytes')
    status, body = one(ns, http_get, HTTP_LOCAL, '/blob')
    ctx.tap.ok(status.startswith(b'HTTP/1.') and b' 200 ' in status + b' ' and body == blob(MIB, 'http'),
               f'127.0.0.1:{HTTP_LOCAL} (httpd bound to 127.0.0.1 in the guest): GET /blob is 1 MiB byte-exact',
               f'status: {status!r}', f'body: {len(body)} bytes')

    datas = [blob(MIB, f'concurrent-{i}') for i in range(4)]
    ports = [ECHO_ALL, ECHO_ALL_2, ECHO_ALL, ECHO_ALL_2]
    t0 = time.monotonic()
    got = in_netns(ns, [(exchange, (p, d)) for p, d in zip(ports, datas)])
    secs = time.monotonic() - t0
    bad = [f'#{i} port {p}: {g!r}'[:200] if not isinstance(g, bytes) else f'#{i} port {p}: {len(g)} bytes'
           for i, (p, d, g) in enumerate(zip(ports, datas, got)) if g != d]
    ctx.tap.ok(not bad, f'four connections at once on two ports: 1 MiB each comes back byte-exact ({secs:.1f} s)', *bad)


def ipv6_loopback(ctx, pod):
    """[::1]:PORT is forwarded to [::1]:PORT in the guest: the echo server
    listens on every address of both families there, the httpd on
    127.0.0.1 only, so [::1] does not reach it, as in a runc pod."""
    data = blob(MIB, 'ipv6')
    got = one(pod.netns_path, exchange, ECHO_ALL, data, IO_TIMEOUT, '::1')
    ctx.tap.ok(got == data, f'[::1]:{ECHO_ALL}: 1 MiB sent comes back byte-exact',
               f'got: {got!r}'[:300] if not isinstance(got, bytes) else f'{len(got)} bytes')
    got = one(pod.netns_path, first_read, HTTP_LOCAL, '::1')
    ctx.tap.ok(was_reset(got),
               f'[::1]:{HTTP_LOCAL}, a server bound to 127.0.0.1 in the guest: reset (ECONNRESET)',
               f'seen: {got!r}')


def control_socket_refuses(ctx, pod):
    """connect_port through the pod's control socket (as vmctl or another
    monitor would send it): refused, since nobody would end the
    connection; the monitor relays only its own."""
    path = os.path.join(ctx.root, 'pods', pod.sandbox.id, 'ctl.sock')
    body = json.dumps({'op': 'connect_port', 'port': ECHO_ALL}).encode()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    try:
        s.connect(path)
        s.sendall(struct.pack('>BBBBII', 0xC7, 1, 0, 0, 1, len(body)) + body)
        head = b''
        while len(head) < 12:
            head += s.recv(12 - len(head))
        magic, kind, _, _, rid, length = struct.unpack('>BBBBII', head)
        payload = b''
        while len(payload) < length:
            payload += s.recv(length - len(payload))
    finally:
        s.close()
    ctx.tap.eq('connect_port through the control socket: refused with a permission error naming the op',
               (0xC7, 2, 1, {'code': 'permission', 'errno': 0,
                             'message': 'connect_port: only the pod monitor forwards ports'}),
               (magic, kind, rid, json.loads(payload).get('error')))


# --- b: nothing listens -------------------------------------------------------------------------------------


def nobody_listens(ctx, pod):
    got = one(pod.netns_path, first_read, NOBODY)
    ctx.tap.ok(was_reset(got) and got[2] < 30,
               f'127.0.0.1:{NOBODY}, where nothing listens in the guest: the client sees ECONNRESET (first read, or '
               'connect) within 30 s', f'seen: {got!r}')
    got = one(pod.netns_path, exchange, ECHO_ALL, b'still here', 30)
    ctx.tap.ok(got == b'still here', 'the pod forwards on afterwards', f'got: {got!r}')


# --- c: the bound -----------------------------------------------------------------------------------------------


def bound(ctx, pod):
    ns = pod.netns_path
    held = []

    def open_many():
        for i in range(MAX_CONNECTIONS):
            s = dial(ECHO_ALL)
            s.settimeout(60)
            s.sendall(b'%d\n' % i)
            want = b'%d\n' % i
            got = b''
            while len(got) < len(want):
                chunk = s.recv(64)
                if not chunk:
                    raise ConnectionError(f'connection {i}: EOF after {got!r}')
                got += chunk
            held.append(s)
        return len(held)
    try:
        n = one(ns, open_many)
        ctx.tap.ok(n == MAX_CONNECTIONS, f'{MAX_CONNECTIONS} forwarded connections are open at once, each echoing',
                   f'result: {n!r}')
        got = one(ns, first_read, ECHO_ALL)
        ctx.tap.ok(was_reset(got),
                   f'with {MAX_CONNECTIONS} open, one more is reset (ECONNRESET)', f'seen: {got!r}')
    finally:
        for s in held:
            s.close()

    def works_again():
        return one(ns, exchange, ECHO_ALL, b'again', 20) == b'again'
    ctx.tap.ok(wait_until(works_again, 60, 1.0), 'once they are closed, a new connection is forwarded again')


# --- d, e: nothing left attached -----------------------------------------------------------------------------------


def detached_after_delete(ctx, pod, ctr):
    kill_and_wait_stopped(ctr, 'KILL', 137)
    delete(ctr)
    stop_pod(pod)
    got = one(pod.netns_path, connect_outcome, ECHO_ALL)
    ctx.tap.eq(f'after the pod is deleted, 127.0.0.1:{ECHO_ALL} in its namespace is refused: nothing attached',
               'ECONNREFUSED', got)


def detached_after_kill9(ctx):
    pod = Pod(ctx, 'pf-kill', 'uid-pf-kill', netns_prefix='portfwd')
    lo_up(ctx, pod)
    sb = pod.sandbox.prepare()
    create_started(sb)
    got = one(pod.netns_path, first_read, NOBODY)
    ctx.tap.ok(was_reset(got),
               'second pod: steering is attached (a connection is accepted, then reset)', f'seen: {got!r}')
    monitor = sb.p1
    os.kill(monitor, signal.SIGKILL)
    ctx.tap.ok(wait_until(lambda: ctx.reaper.gone(monitor), 30, 0.1),
               f'kill -9 of the pod monitor ({monitor}): it is gone')
    got = None

    def refused():
        nonlocal got
        got = one(pod.netns_path, connect_outcome, NOBODY)
        return got == 'ECONNREFUSED'
    ctx.tap.ok(wait_until(refused, 10, 0.2), f'after kill -9 of the pod monitor, 127.0.0.1:{NOBODY} in the namespace '
               'is refused: the link went with its fds', f'last seen: {got!r}')
    crio_remove_after_kill(ctx, sb)


def crio_remove_after_kill(ctx, sb):
    """RemovePodSandbox after its monitor died: `delete --force`, and the
    sandbox's host cgroup, which the monitor removes when it exits normally
    and CRI-O's cgroup manager removes otherwise."""
    r = sb.vmctl('delete', '--force', sb.id, timeout=60)
    ctx.tap.ok(r.rc == 0, 'second pod: `delete --force` after the monitor was killed exits 0', *r.diag())
    sb.deleted = True
    for ctrl in os.listdir('/sys/fs/cgroup'):
        d = os.path.join('/sys/fs/cgroup', ctrl, 'kubepods', f'crio-{sb.id}')
        if os.path.isdir(d):
            wait_until(lambda d=d: not (read_bytes(os.path.join(d, 'cgroup.procs')) or b'').strip(), 10)
            try:
                os.rmdir(d)
            except OSError:
                pass


def main():
    def body(ctx):
        state = {}

        def first():
            state['pod'], state['ctr'] = servers_pod(ctx, 'pf-pod')
        ctx.tap.item('a VM pod with servers on 127.0.0.1 and on every address', first)
        if 'pod' not in state:
            return
        ctx.tap.item('a: bytes both ways, several ports, concurrent connections',
                     lambda: bytes_both_ways(ctx, state['pod']))
        ctx.tap.item('a: ::1', lambda: ipv6_loopback(ctx, state['pod']))
        ctx.tap.item('a: only the monitor opens port connections', lambda: control_socket_refuses(ctx, state['pod']))
        ctx.tap.item('b: a port nothing listens on in the guest', lambda: nobody_listens(ctx, state['pod']))
        ctx.tap.item('c: at most 64 connections at a time', lambda: bound(ctx, state['pod']))
        ctx.tap.item('d: nothing attached after delete', lambda: detached_after_delete(ctx, state['pod'], state['ctr']))
        ctx.tap.item('e: nothing attached after kill -9 of the monitor', detached_after_kill9, ctx)
    return run_crio_suite(body)


if __name__ == '__main__':
    sys.exit(main())
