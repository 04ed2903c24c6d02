#!/usr/bin/env python3
"""pod_network.py: a pod's network namespace carried into its VM, played as CRI-O (TAP).

Issue 11 (docs/networking.md). The driver plays CRI-O as crio_replay.py
does (ckdriver.crio); the "CNI" is this test: it makes the pod's network
namespace (net-pod-*) and a peer namespace (ckcr-net-peer-*) joined by a veth
pair with documentation addresses (192.0.2.0/24, 198.51.100.0/24,
2001:db8::/32), MTU 1400 on the veth. Nothing is sent anywhere else.

  a  dual stack: in the guest eth0 has the veth's MAC, MTU and addresses,
     default routes for both families; the monitor log names the
     interface; from the peer: ping (IPv4, IPv6), 10 MiB to a container
     of the pod (nc) and 10 MiB from it (httpd), byte-exact; after the
     pod is stopped and deleted the namespace's `ip -d link`, `ip addr`,
     `ip route` (both families), `tc qdisc` and `tc filter` listings are
     those from before create;
  b  two interfaces, one IPv6-only, one IPv4-only, each reached from its
     peer; kill -9 of QEMU, then `vmctl delete`: the listings as before;
  c  kill -9 of the pod monitor, then `vmctl delete`: the listings as
     before;
  d  a runc (trusted) pod and a VM pod in two namespaces on a test bridge
     reach each other both ways (ping, TCP);
  e  bad input refused at create with one line naming it, nothing left
     (no QEMU, no tap): a netns path that does not exist, a path that is
     not a network namespace, an interface without a MAC (a tun device).
"""

import os
import re
import secrets
import sys
import threading

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ckdriver.crio import (  # noqa: E402
    Ctr, Pod, create_started, crio_create, delete, expect_pid_sync, pod_qemu, run_crio_suite, start, stop_pod,
    stream_exec)
from ckdriver import netns  # noqa: E402
from ckdriver.netns import addr, mac_of, must_run, run  # noqa: E402
from ckdriver.util import wait_until  # noqa: E402
from pod_policy import expect_refused  # noqa: E402

MIB = 1024 * 1024
BLOB = 10 * MIB
# the peer's end of a TCP transfer (tests/lib/netpeer.py)
NETPEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib', 'netpeer.py')


def new_netns(ctx, kind):
    return ctx.add_netns(f'net-{kind}-{len(ctx.netns)}')


def veth(pod_ns, ifname, peer_ns, peer_if, mtu=1400):
    """A veth pair: ifname in the pod's namespace, peer_if in peer_ns, both up."""
    netns.veth(pod_ns, ifname, peer_ns, peer_if, mtu)


def settled(ns):
    """No address of ns still in duplicate address detection (the kernel's
    own link-local ones come a moment after the link is up)."""
    return 'tentative' not in must_run('ip', '-n', ns, 'addr', 'show')


def listings(ns):
    """What a teardown must restore, as the CNI's tools show it."""
    wait_until(lambda: settled(ns), 10, 0.1)
    out = {}
    for argv in (['ip', '-d', 'link', 'show'], ['ip', 'addr', 'show'], ['ip', '-4', 'route', 'show', 'table', 'all'],
                 ['ip', '-6', 'route', 'show', 'table', 'all'], ['tc', 'qdisc', 'show']):
        out[' '.join(argv)] = must_run('ip', 'netns', 'exec', ns, *argv)
    for name in re.findall(r'^\d+: ([^:@]+)[:@]', out['ip -d link show'], re.M):
        for parent in ('ingress', 'root'):
            argv = ['tc', 'filter', 'show', 'dev', name, parent]
            out[' '.join(argv)] = run('ip', 'netns', 'exec', ns, *argv)[1]
    return out


def check_listings(ctx, ns, before, what):
    after = listings(ns)
    diff = [f'{k}:\n--- before\n{before.get(k)}\n--- after\n{after.get(k)}' for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)]
    ctx.tap.ok(not diff,
               f'{what}: `ip -d link`, `ip addr`, `ip route`, `tc qdisc`, `tc filter` of the pod\'s namespace '
               f'are as before create', *diff)


def peer_cmd(ns, *args, timeout=120):
    return run('ip', 'netns', 'exec', ns, sys.executable, NETPEER, *args, timeout=timeout)


def ping(ns, address):
    argv = ['busybox', 'ping6' if ':' in address else 'ping', '-c', '3', '-W', '5', address]
    return run('ip', 'netns', 'exec', ns, *argv)


def check_ping(ctx, ns, address, what):
    rc, out, err = ping(ns, address)
    ctx.tap.ok(rc == 0 and ' 0% packet loss' in out, f'{what}: ping {address} from the peer answers', out, err)


def guest(c, script):
    r = stream_exec(c, ['sh', '-c', script], timeout=60)
    return r.rc, r.out.decode(errors='replace'), r


def check_guest_iface(ctx, c, name, mac, mtu, addrs, what):
    script = (f'cat /sys/class/net/{name}/address /sys/class/net/{name}/mtu /sys/class/net/{name}/operstate; '
              f'ip addr show dev {name}')
    want = [mac, str(mtu), 'up']
    seen = {}

    def look():
        # the link is up at once; its carrier (operstate) a moment later
        seen['rc'], seen['out'], seen['r'] = guest(c, script)
        return seen['out'].split('\n')[:3] == want
    wait_until(look, 10, 0.5)
    rc, out, r = seen['rc'], seen['out'], seen['r']
    got = out.split('\n')[:3] if rc == 0 else None
    ctx.tap.eq(f'{what}: in the guest {name} has the MAC {mac}, MTU {mtu} and is up', want, got,
               *r.diag())
    missing = [a for a in addrs if not re.search(rf'inet6? {re.escape(a)} ', out)]
    ctx.tap.ok(rc == 0 and not missing, f'{what}: {name} has {", ".join(addrs)}', f'missing: {missing}', out)
    waiting = [a for a in addrs if re.search(rf'inet6? {re.escape(a)} .*tentative', out)]
    ctx.tap.ok(not waiting, f'{what}: no address of the pod on {name} waits for duplicate address detection',
               f'tentative: {waiting}', out)


def check_guest_routes(ctx, c, want, what):
    rc, out, r = guest(c, 'ip -4 route; echo ---; ip -6 route')
    missing = [w for w in want if not re.search(w, out)]
    ctx.tap.ok(rc == 0 and not missing, f'{what}: the guest\'s routes include {want}', f'missing: {missing}', out,
               *r.diag())


def monitor_log_names(ctx, sb, needle, what):
    """The pod monitor logs the interfaces the pod got (--syslog and the
    monitor's stderr; the console carries the agent's line)."""
    console = os.path.join(ctx.root, 'pods', sb.id, 'console.log')
    ok = wait_until(lambda: needle in (open(console, errors='replace').read() if os.path.exists(console) else ''),
                    10)
    ctx.tap.ok(ok, f'{what}: the console log names {needle}', console)


# --- a: dual stack ----------------------------------------------------------------------------


def tcp_both_ways(ctx, c, ns, address, what):
    """10 MiB from the peer to nc in the container and back from its
    httpd, byte-exact."""
    holder = {}

    def listen():
        holder['r'] = stream_exec(c, ['sh', '-c', 'nc -l -p 5001 > /tmp/up; sha256sum /tmp/up; wc -c < /tmp/up'],
                                  timeout=180)
    t = threading.Thread(target=listen)
    t.start()
    rc, out, err = peer_cmd(ns, 'put', address, '5001', str(BLOB))
    t.join(200)
    r = holder.get('r')
    got = r.out.decode(errors='replace').split() if r is not None else []
    ctx.tap.ok(rc == 0 and r is not None and r.rc == 0 and len(got) >= 3 and got[0] == out.split()[0] and
               got[2] == str(BLOB), f'{what}: 10 MiB from the peer to nc in the container arrive byte-exact',
               f'peer: rc {rc} {out!r} {err[-300:]!r}', f'container: {got}', *(r.diag() if r else []))
    rc2, sums, _ = guest(c, 'sha256sum /www/blob')
    rc, out, err = peer_cmd(ns, 'get', address, '8080', '/blob')
    fields = out.split()[:2]
    ctx.tap.ok(rc == 0 and rc2 == 0 and fields == [str(BLOB), sums.split()[0]],
               f'{what}: 10 MiB from httpd in the container to the peer arrive byte-exact',
               f'peer: rc {rc} {out!r} {err[-300:]!r}', f'container: {sums!r}')


SERVER = ['sh', '-c', 'mkdir -p /www && dd if=/dev/urandom of=/www/blob bs=1M count=10 2>/dev/null && '
          'exec httpd -f -p 8080 -h /www']


def app(pod):
    ctr = Ctr(pod, 'web').prepare(SERVER)
    sync = crio_create(ctr)
    expect_pid_sync(ctr, sync)
    start(ctr)
    return ctr


def dual_stack(ctx):
    pod = Pod(ctx, 'net-dual', 'uid-net-dual', netns_prefix='net-pod')
    peer = new_netns(ctx, 'peer')
    veth(pod.netns, 'eth0', peer, 'peer0')
    addr(pod.netns, 'eth0', '192.0.2.2/24')
    addr(pod.netns, 'eth0', '2001:db8::2/64')
    addr(peer, 'peer0', '192.0.2.1/24')
    addr(peer, 'peer0', '2001:db8::1/64')
    must_run('ip', '-n', pod.netns, 'route', 'add', 'default', 'via', '192.0.2.1')
    must_run('ip', '-n', pod.netns, '-6', 'route', 'add', 'default', 'via', '2001:db8::1')
    mac = mac_of(pod.netns, 'eth0')
    before = listings(pod.netns)
    sb = pod.sandbox.prepare()
    create_started(sb)
    check_guest_iface(ctx, sb, 'eth0', mac, 1400, ['192.0.2.2/24', '2001:db8::2/64'], 'dual stack')
    check_guest_routes(ctx, sb, [r'default via 192\.0\.2\.1 dev eth0', r'default via 2001:db8::1 dev eth0'],
                       'dual stack')
    monitor_log_names(ctx, sb, 'network: eth0', 'dual stack')
    check_ping(ctx, peer, '192.0.2.2', 'dual stack')
    check_ping(ctx, peer, '2001:db8::2', 'dual stack')
    web = app(pod)
    tcp_both_ways(ctx, web, peer, '192.0.2.2', 'dual stack, IPv4')
    tcp_both_ways(ctx, web, peer, '2001:db8::2', 'dual stack, IPv6')
    rc, out, err = run('ip', 'netns', 'exec', pod.netns, 'tc', 'filter', 'show', 'dev', 'eth0', 'ingress')
    ctx.tap.ok('mirred (Egress Redirect to device tap0_kata)' in out,
               'dual stack: while the pod runs, eth0\'s ingress redirects to tap0_kata', out)
    web_kill(ctx, web)
    stop_pod(pod)
    check_listings(ctx, pod.netns, before, 'dual stack, after stop and delete')


def web_kill(ctx, c):
    r = c.vmctl('kill', c.id, 'KILL')
    ctx.tap.ok(r.rc == 0, f'{c.label()}: `kill KILL` exits 0', *r.diag())
    wait_until(lambda: os.path.exists(c.exit_file), 30)
    delete(c)


# --- b: two interfaces, kill -9 of QEMU ---------------------------------------------------------


def two_interfaces(ctx):
    pod = Pod(ctx, 'net-two', 'uid-net-two', netns_prefix='net-pod')
    peer6, peer4 = new_netns(ctx, 'peer'), new_netns(ctx, 'peer')
    veth(pod.netns, 'eth0', peer6, 'peer0')
    veth(pod.netns, 'net1', peer4, 'peer1', mtu=1500)
    addr(pod.netns, 'eth0', '2001:db8:6::2/64')
    addr(peer6, 'peer0', '2001:db8:6::1/64')
    must_run('ip', '-n', pod.netns, '-6', 'route', 'add', 'default', 'via', '2001:db8:6::1')
    addr(pod.netns, 'net1', '198.51.100.2/24')
    addr(peer4, 'peer1', '198.51.100.1/24')
    # an on-link gateway outside the interface's subnet, with a source hint
    must_run('ip', '-n', pod.netns, 'route', 'add', '192.0.2.0/24', 'via', '198.51.100.254', 'dev', 'net1',
             'onlink', 'src', '198.51.100.2')
    macs = (mac_of(pod.netns, 'eth0'), mac_of(pod.netns, 'net1'))
    before = listings(pod.netns)
    sb = pod.sandbox.prepare()
    create_started(sb)
    check_guest_iface(ctx, sb, 'eth0', macs[0], 1400, ['2001:db8:6::2/64'], 'two interfaces, IPv6-only eth0')
    check_guest_iface(ctx, sb, 'net1', macs[1], 1500, ['198.51.100.2/24'], 'two interfaces, IPv4-only net1')
    check_guest_routes(ctx, sb, [r'default via 2001:db8:6::1 dev eth0',
                                 r'192\.0\.2\.0/24 via 198\.51\.100\.254 dev net1 +src 198\.51\.100\.2 +onlink'],
                       'two interfaces')
    rc, out, _ = guest(sb, 'ip -4 addr show dev eth0')
    ctx.tap.ok(rc == 0 and 'inet ' not in out, 'two interfaces: eth0 has no IPv4 address in the guest', out)
    check_ping(ctx, peer6, '2001:db8:6::2', 'two interfaces, eth0')
    check_ping(ctx, peer4, '198.51.100.2', 'two interfaces, net1')
    qemu = pod_qemu(sb)
    ctx.tap.must(len(qemu) == 1, 'two interfaces: one QEMU', f'{qemu}')
    os.kill(qemu[0][0], 9)
    wait_until(lambda: os.path.exists(sb.exit_file), 60)
    r = sb.vmctl('delete', '--force', sb.id)
    ctx.tap.ok(r.rc == 0, 'two interfaces: after kill -9 of QEMU, `delete --force` exits 0', *r.diag())
    sb.deleted = r.rc == 0
    check_listings(ctx, pod.netns, before, 'two interfaces, after kill -9 of QEMU and delete')


# --- c: kill -9 of the pod monitor -------------------------------------------------------------


def monitor_killed(ctx):
    pod = Pod(ctx, 'net-mon', 'uid-net-mon', netns_prefix='net-pod')
    peer = new_netns(ctx, 'peer')
    veth(pod.netns, 'eth0', peer, 'peer0')
    addr(pod.netns, 'eth0', '192.0.2.2/24')
    addr(peer, 'peer0', '192.0.2.1/24')
    before = listings(pod.netns)
    sb = pod.sandbox.prepare()
    create_started(sb)
    check_ping(ctx, peer, '192.0.2.2', 'monitor killed, before')
    os.kill(sb.p1, 9)
    st = ctx.reaper.wait(sb.p1, 15)
    gone = wait_until(lambda: not pod_qemu(sb), 20)
    ctx.tap.ok(st is not None and gone, 'monitor killed: the pod monitor is gone (kill -9), QEMU with it',
               f'P1 status {st}', f'qemu: {pod_qemu(sb)}')
    rc, out, _ = run('ip', 'netns', 'exec', pod.netns, 'tc', 'qdisc', 'show', 'dev', 'eth0', 'ingress')
    ctx.tap.ok('ingress' in out, 'monitor killed: its ingress qdisc on eth0 is still there (nobody removed it yet)',
               out)
    r = sb.vmctl('delete', '--force', sb.id)
    ctx.tap.ok(r.rc == 0, 'monitor killed: `delete --force` exits 0', *r.diag())
    sb.deleted = r.rc == 0
    check_listings(ctx, pod.netns, before, 'monitor killed, after delete')
    # Not this test's subject, and not (yet) undone by `delete`: the host
    # cgroup the killed monitor made for the sandbox. Noted and removed
    # here so that the last checks speak of what this run is about.
    left = [os.path.join(p, f'crio-{sb.id}') for p in ctx.crio.cgroup_parents]
    left = [d for d in left if os.path.isdir(d)]
    if left:
        ctx.tap.note(f'monitor killed: its host cgroup stays after delete (removed by the test): {left[0]} ...')
    for d in left:
        try:
            os.rmdir(d)
        except OSError:
            pass


# --- d: a runc pod and a VM pod on a bridge ---------------------------------------------------


def bridged(ctx):
    br = new_netns(ctx, 'br')
    must_run('ip', '-n', br, 'link', 'add', 'name', 'br0', 'type', 'bridge')
    must_run('ip', '-n', br, 'link', 'set', 'br0', 'up')
    pods = []
    for name, trusted, ip in (('net-runc', True, '192.0.2.11'), ('net-vm', False, '192.0.2.12')):
        pod = Pod(ctx, name, f'uid-{name}', trusted=trusted, netns_prefix='net-pod',
                  annotations={'io.kubernetes.cri-o.TrustedSandbox': 'true'} if trusted else None)
        port = f'p-{name}'
        veth(pod.netns, 'eth0', br, port, mtu=1500)
        must_run('ip', '-n', br, 'link', 'set', port, 'master', 'br0')
        addr(pod.netns, 'eth0', f'{ip}/24')
        must_run('ip', '-n', pod.netns, 'link', 'set', 'lo', 'up')
        sb = pod.sandbox.prepare()
        sync = crio_create(sb)
        expect_pid_sync(sb, sync)
        start(sb)
        ctr = Ctr(pod, 'web').prepare(['sh', '-c', f'echo hello from {name} > /tmp/i; exec httpd -f -p 8080 -h /tmp'])
        expect_pid_sync(ctr, crio_create(ctr))
        start(ctr)
        pods.append((pod, ctr, ip))
    for (pod, ctr, _), (other, _, oip) in ((pods[0], pods[1]), (pods[1], pods[0])):
        # (a container has no CAP_NET_RAW under CRI-O's defaults: no ping)
        # (busybox-static's wget resolves through NSS and crashes: nc)
        get = f'printf "GET /i HTTP/1.0\\r\\n\\r\\n" | nc -w 10 {oip} 8080'
        # the other's server may still be starting: a refusal is retried
        r = stream_exec(ctr, ['sh', '-c', f'for i in $(seq 20); do {get} && exit; sleep 0.5; done; exit 1'],
                        timeout=60)
        out = r.out.decode(errors='replace')
        ctx.tap.ok(r.rc == 0 and out.startswith('HTTP/1.') and out.endswith(f'\r\n\r\nhello from {other.name}\n'),
                   f'bridge: {pod.name} reaches {other.name} ({oip}) over TCP (HTTP)', *r.diag())
    for pod, ctr, _ in pods:
        web_kill(ctx, ctr)
        stop_pod(pod)


# --- e: bad input ------------------------------------------------------------------------------


def bad_input(ctx):
    missing = f'/var/run/netns/net-missing-{secrets.token_hex(4)}'
    not_net = '/proc/self/ns/ipc'

    def with_netns(path):
        def edit(spec):
            for ns in spec['linux']['namespaces']:
                if ns['type'] == 'network':
                    ns['path'] = path
        return edit

    pods_ino = None
    pod = Pod(ctx, 'net-missing', 'uid-net-missing', netns_prefix='net-pod')
    sb = pod.sandbox.prepare(edit=with_netns(missing))
    expect_refused(ctx, sb, f'network namespace {missing}: No such file or directory', 'missing netns',
                   pods_ino)
    pod = Pod(ctx, 'net-notnet', 'uid-net-notnet', netns_prefix='net-pod')
    sb = pod.sandbox.prepare(edit=with_netns(not_net))
    expect_refused(ctx, sb, f'network namespace {not_net}: the path is an ipc namespace, not network', 'not a netns',
                   pods_ino)
    pod = Pod(ctx, 'net-nomac', 'uid-net-nomac', netns_prefix='net-pod')
    peer = new_netns(ctx, 'peer')
    veth(pod.netns, 'eth0', peer, 'peer0')
    must_run('ip', '-n', pod.netns, 'tuntap', 'add', 'name', 'tun9', 'mode', 'tun')
    must_run('ip', '-n', pod.netns, 'link', 'set', 'tun9', 'up')
    addr(pod.netns, 'tun9', '198.51.100.9/32')
    before = listings(pod.netns)
    sb = pod.sandbox.prepare()
    expect_refused(ctx, sb, f'pod {sb.id}: network interface tun9: cannot be carried into the VM: it has no MAC '
                   'address (kind tun)', 'interface without a MAC', pods_ino)
    check_listings(ctx, pod.netns, before, 'interface without a MAC, after the refused create')


ITEMS = (('a', 'dual stack', dual_stack), ('b', 'two interfaces, kill -9 of QEMU', two_interfaces),
         ('c', 'kill -9 of the pod monitor', monitor_killed), ('d', 'runc pod and VM pod on a bridge', bridged),
         ('e', 'bad input', bad_input))


def body(ctx):
    only = sys.argv[1:]  # by hand: run some items only
    for key, name, fn in ITEMS:
        if not only or key in only:
            ctx.tap.item(f'{key}: {name}', fn, ctx)


def main():
    return run_crio_suite(body)


if __name__ == '__main__':
    sys.exit(main())
