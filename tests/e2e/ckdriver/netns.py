"""Network namespaces the tests make (iproute2): adding and deleting one,
veth pairs, addresses, and reading what is in one. Only namespaces a
suite made, only addresses inside them (192.0.2.0/24, 198.51.100.0/24,
2001:db8::/32). Context.add_netns() makes one that is deleted at exit."""
import re
import subprocess


def run(*argv, timeout=60):
    """(exit status, stdout, stderr) of argv, text."""
    r = subprocess.run(list(argv), capture_output=True, timeout=timeout)
    return r.returncode, r.stdout.decode(errors='replace'), r.stderr.decode(errors='replace')


def must_run(*argv, timeout=60):
    """stdout of argv; RuntimeError naming the command when it fails."""
    rc, out, err = run(*argv, timeout=timeout)
    if rc != 0:
        raise RuntimeError(f'{" ".join(argv)}: {err.strip()}')
    return out


def netns_add(name):
    must_run('ip', 'netns', 'add', name)
    return name


def netns_del(name):
    """Deletes a namespace this run made (quietly, when gone already)."""
    run('ip', 'netns', 'del', name)


def netns_path(name):
    return f'/var/run/netns/{name}'


def veth(ns, ifname, peer_ns, peer_if, mtu=None):
    """A veth pair: ifname in ns, peer_if in peer_ns, both up (and the
    peer's lo)."""
    size = ['mtu', str(mtu)] if mtu else []
    must_run('ip', '-n', ns, 'link', 'add', 'name', ifname, *size, 'type', 'veth', 'peer', 'name', peer_if, *size,
             'netns', peer_ns)
    must_run('ip', '-n', ns, 'link', 'set', ifname, 'up')
    must_run('ip', '-n', peer_ns, 'link', 'set', peer_if, 'up')
    must_run('ip', '-n', peer_ns, 'link', 'set', 'lo', 'up')


def addr(ns, ifname, cidr):
    """An address on ifname in ns (IPv6 without duplicate address detection)."""
    extra = ['nodad'] if ':' in cidr else []
    must_run('ip', '-n', ns, 'addr', 'add', cidr, 'dev', ifname, *extra)


def mac_of(ns, ifname):
    return must_run('ip', 'netns', 'exec', ns, 'cat', f'/sys/class/net/{ifname}/address').strip()


def links_in(ns):
    """The interface names in ns, sorted."""
    _, out, _ = run('ip', '-n', ns, '-o', 'link')
    return sorted(line.split(':')[1].strip().split('@')[0] for line in out.splitlines())


def taps_in(ns):
    """The tap devices left in a network namespace (`tap<N>_kata`)."""
    _, out, _ = run('ip', '-n', ns, '-o', 'link', 'show')
    return re.findall(r'^\d+: (tap[^:@]*)', out, re.M)
