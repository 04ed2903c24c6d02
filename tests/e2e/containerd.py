#!/usr/bin/env python3
"""containerd.py: conmon-kata under containerd 1.6, driven with ctr (TAP).

containerd's own runc shim (io.containerd.runc.v2) drives vmctl as its
runc: the test starts a containerd of its own (Debian's package; root,
state, sockets and configuration under the test's temporary directories,
in a network namespace of its own so that the CRI plugin's stream server
listens nowhere else), and ctr talks to it. vmctl finds the test's
configuration.toml through $CONMON_KATA_CONFIG in containerd's
environment, which the shim passes on: no wrapper. SystemdCgroup (the
shim's --systemd-cgroup) has vmctl ask systemd for each container's
scope over D-Bus; this host has no systemd as PID 1, so containerd's
environment points $DBUS_SYSTEM_BUS_ADDRESS at a private bus where
tests/lib/systemd-peer answers as systemd (sdbus.py, docs/cgroups.md).

What is checked, in groups (each a TAP item that goes on after a failure):
  * the drop-in (crio-conf/containerd/50-conmon-kata.toml, BinaryName
    pointed at this build's vmctl): containerd's own `config dump` of a
    configuration that imports it shows the kata handler with every key,
    keeps the runc handler and Debian's CNI paths, and the CRI plugin
    loads with it;
  * `ctr run`: the guest's kernel, not the host's; exit code 7 comes back;
    `--rm` leaves no QEMU, no state, no container;
  * a running container: `ctr task exec` in the same VM (same guest boot
    id) with its status (5), a detached exec that goes on after ctr
    returns, `ctr task kill --exec-id` of a process in the guest, a
    terminal exec, then `ctr task kill` (SIGTERM, trapped: the status is
    the container's, 9) and no QEMU after;
  * a terminal: `ctr run -t` on a pty (python's pty module): the
    container's tty, the pty's size, exit code 4;
  * a pod replayed with containerd's CRI annotations
    (io.kubernetes.cri.container-type / sandbox-id, the sandbox's CPU and
    memory sums): a sandbox and two containers share one VM (same guest
    boot id, one QEMU) and the pod's network namespace (on the host: the
    tasks' pids are in it); the VM is sized from the annotations;
  * trust and annotations as under CRI-O: io.kubernetes.cri-o.
    TrustedSandbox="true" runs the pod with runc (host kernel), its
    container too; an enabled io.katacontainers.* annotation sizes the VM
    and containers carrying the pod's copy of it (as containerd's
    pod_annotations makes them) are accepted, a different value refused
    with the exact message;
  * a container whose sandbox is stopped, or deleted, fails with a clear
    error, exactly;
  * the end: containerd stopped, nothing mentioning the test's
    directories running, nothing mounted under them, the network
    namespaces and cgroups gone.

Boots five VMs under TCG; a few minutes on two cores. Every process
started is stopped at the end, even on failure.

Environment (set by meson): CK_BUILD_ROOT, CK_SOURCE_ROOT, CK_TEST_CONFIG,
CK_TEST_ROOTFS, CK_SYSTEMD_PEER.
"""

import fcntl
import glob
import os
import pty
import re
import secrets
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ckdriver import (  # noqa: E402
    CONFIG, REAPER, ROOTFS, SOURCE, VMCTL, Tap, nothing_left, now, pid_alive, procs_mentioning, read_bytes, rm_rf,
    run_cmd, run_standalone, signal_quietly, unmount_under, wait_until)
from sdbus import PrivateSystemd  # noqa: E402

DROPIN = os.path.join(SOURCE, 'crio-conf', 'containerd', '50-conmon-kata.toml')
PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
NAMESPACE = 'ck'  # containerd's namespace; the shim appends it to --runc-root
SHIM_SOCKETS = '/run/containerd/s'

CRI_TYPE = 'io.kubernetes.cri.container-type'
CRI_SANDBOX = 'io.kubernetes.cri.sandbox-id'
CRI_CPU_QUOTA = 'io.kubernetes.cri.sandbox-cpu-quota'
CRI_CPU_PERIOD = 'io.kubernetes.cri.sandbox-cpu-period'
CRI_MEMORY = 'io.kubernetes.cri.sandbox-memory'
TRUSTED_SANDBOX = 'io.kubernetes.cri-o.TrustedSandbox'
A_MEMORY = 'io.katacontainers.config.hypervisor.default_memory'

# The main container: records where it runs, traps TERM. Files the host
# waits for are renamed into place: it never reads one half-written.
MAIN_SCRIPT = '''#!/bin/sh
trap 'echo TERM >> /tmp/signals; exit 9' TERM
cat /proc/sys/kernel/random/boot_id > /tmp/boot_id.new && mv /tmp/boot_id.new /tmp/boot_id
while :; do sleep 0.2; done
'''

# A pod's container (the sandbox too): where it runs, then waits.
POD_SCRIPT = '''#!/bin/sh
trap 'exit 0' TERM
{ cat /proc/sys/kernel/random/boot_id; readlink /proc/self/ns/net; nproc; grep MemTotal /proc/meminfo; uname -r; } \
    > /tmp/where.new && mv /tmp/where.new /tmp/where
while :; do sleep 0.2; done
'''

tap = Tap()


class World:
    """The run's directories, network namespaces, cgroups and containerd."""

    def __init__(self):
        self.token = secrets.token_hex(3)
        # short: <root>/<namespace>/pods/<id>/ctl.sock must fit in sun_path
        self.run = tempfile.mkdtemp(prefix='containerd-e2e.', dir='/run')
        self.tmp = tempfile.mkdtemp(prefix='containerd-e2e.', dir='/tmp')
        self.vmctl_root = os.path.join(self.run, 'vmctl')
        self.sock = os.path.join(self.run, 'containerd.sock')
        self.fifos = self.path('fifo')
        self.netns = []
        self.slice = f'containerd-e2e-{self.token}.slice'
        self.cgdir = f'containerd-e2e-{self.token}'
        # containerd 1.6 puts its shims' sockets in /run/containerd/s
        # whatever its state directory: taken away again if ours alone
        self.shim_sockets_ours = not os.path.exists(SHIM_SOCKETS)
        self.containerd = None
        self.systemd = None  # the private bus answering as systemd
        self.config = None
        self.ck_config = None

    def path(self, *parts):
        p = os.path.join(self.tmp, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def add_netns(self, what):
        name = f'containerd-{what}-{self.token}'
        r = subprocess.run(['ip', 'netns', 'add', name], capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f'ip netns add {name}: {r.stderr!r}')
        self.netns.append(name)
        return f'/var/run/netns/{name}'


W = None


def ctr(*args, timeout=120, input=None):
    return run_cmd(['ctr', '--address', W.sock, '--namespace', NAMESPACE, *args], input=input, timeout=timeout,
                   env={'PATH': PATH})


def runtime_flags(cid, systemd=True):
    """ctr's spelling of the drop-in's runtime options (BinaryName, Root,
    SystemdCgroup) and the systemd-style cgroup the CRI plugin would give.
    Without systemd: a cgroupfs path (runc, which runs trusted pods, needs
    a running systemd for the other, and these test hosts have none)."""
    cgroup = ['--runc-systemd-cgroup', '--cgroup', f'{W.slice}:cri-containerd:{cid}'] if systemd else \
        ['--cgroup', f'/{W.cgdir}/{cid}']
    return ['--runtime', 'io.containerd.runc.v2', '--runc-binary', VMCTL, '--runc-root', W.vmctl_root, *cgroup,
            '--fifo-dir', W.fifos]


def rootfs(cid, script=None):
    """A private copy of the test rootfs (the guest writes through 9p)."""
    d = W.path('rootfs', cid)
    r = subprocess.run(['cp', '-a', ROOTFS, d], capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f'cp -a {ROOTFS} {d}: {r.stderr!r}')
    if script is not None:
        with open(os.path.join(d, 'init.sh'), 'w') as f:
            f.write(script)
        os.chmod(os.path.join(d, 'init.sh'), 0o755)
    return d


def run_args(cid, fs, annotations=(), netns=None, mode='-d', systemd=True):
    """ctr run's arguments; mode '-d' (detached), '--rm', or None."""
    args = ['run', *([mode] if mode else []), *runtime_flags(cid, systemd)]
    for k, v in annotations:
        args += ['--annotation', f'{k}={v}']
    if netns is not None:
        args += ['--with-ns', f'network:{netns}']
    return args + ['--rootfs', fs, cid]


def cgroups_of(pid):
    """/proc/<pid>/cgroup as {hierarchy: path}."""
    lines = (read_bytes(f'/proc/{pid}/cgroup') or b'').decode(errors='replace').splitlines()
    return dict(ln.split(':', 2)[1:] for ln in lines if ln.count(':') >= 2)


def task_pid(cid):
    r = ctr('task', 'ls')
    for line in r.out.decode(errors='replace').splitlines()[1:]:
        f = line.split()
        if len(f) >= 3 and f[0] == cid:
            return int(f[1]), f[2]
    return None, None


def qemus(cid):
    """QEMU processes of the VM named after cid (vmctl names it -name <pod id>)."""
    return [p for p, comm, cl in procs_mentioning(f'-name {cid},') if comm.startswith('qemu')]


def host_kernel():
    return os.uname().release


def wait_file(path, timeout=60):
    wait_until(lambda: os.path.exists(path), timeout, 0.1)
    return read_bytes(path)


def remove(cid):
    """ctr task delete --force and container delete, whatever state."""
    ctr('task', 'delete', '--force', cid, timeout=60)
    return ctr('container', 'delete', cid, timeout=60)


def gone(cid, desc):
    """No QEMU for cid, no vmctl state, no containerd container."""
    wait_until(lambda: not qemus(cid), 30, 0.1)
    tap.eq(f'{desc}: no QEMU left', [], qemus(cid))
    state = os.path.join(W.vmctl_root, NAMESPACE, 'containers', cid)
    tap.ok(not os.path.exists(state), f'{desc}: no vmctl state left', state)
    r = ctr('container', 'ls', '-q')
    tap.ok(cid not in r.out.decode().split(), f'{desc}: containerd has no container left', *r.diag())


# --- containerd ---------------------------------------------------------------------------------


def write_configs():
    """The test's configuration.toml (VM size annotations enabled), the
    drop-in with this build's vmctl, and containerd's main configuration
    importing it (as /etc/containerd/config.toml would with imports)."""
    text = read_bytes(CONFIG).decode()
    text, n = re.subn(r'^enable_annotations = .*$', 'enable_annotations = ["default_memory"]', text, flags=re.M)
    if n != 1:
        raise RuntimeError(f'{CONFIG}: enable_annotations is set {n} times')
    W.ck_config = W.path('configuration.toml')
    with open(W.ck_config, 'w') as f:
        f.write(text)
    dropin = read_bytes(DROPIN).decode()
    dropin, n = re.subn(r'^(\s*BinaryName = )"/usr/bin/vmctl"$', rf'\1"{VMCTL}"', dropin, flags=re.M)
    if n != 1:
        raise RuntimeError(f'{DROPIN}: BinaryName = "/usr/bin/vmctl" found {n} times')
    with open(W.path('conf.d', '50-conmon-kata.toml'), 'w') as f:
        f.write(dropin)
    W.config = W.path('config.toml')
    with open(W.config, 'w') as f:
        f.write(f'''version = 2
imports = ["{W.tmp}/conf.d/*.toml"]
root = "{W.tmp}/root"
state = "{W.run}/state"
# /opt/containerd is the opt plugin's: nothing of the test outside its directories
disabled_plugins = ["io.containerd.internal.v1.opt"]

[grpc]
  address = "{W.sock}"

[ttrpc]
  address = "{W.sock}.ttrpc"

[debug]
  address = ""
''')


def containerd_log():
    return b'containerd log (the end): ' + (read_bytes(W.path('containerd.log')) or b'')[-3000:]


def start_containerd():
    netns = W.add_netns('daemon')
    env = {'PATH': PATH, 'CONMON_KATA_CONFIG': W.ck_config, **W.systemd.env()}
    log = open(W.path('containerd.log'), 'ab')
    # nsenter --net only: containerd keeps the host's mount namespace, so
    # whatever it or vmctl mounts is seen (and checked) here
    W.containerd = subprocess.Popen(['nsenter', f'--net={netns}', 'containerd', '--config', W.config],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                    start_new_session=True)
    log.close()
    up = wait_until(lambda: os.path.exists(W.sock) and ctr('version', timeout=10).rc == 0, 30, 0.2)
    tap.must(up, 'containerd (our own: root, state, socket under the test directories) answers',
             read_bytes(W.path('containerd.log')) or b'')


def stop_containerd():
    if W.containerd is None:
        return
    W.containerd.terminate()
    try:
        W.containerd.wait(timeout=30)
    except subprocess.TimeoutExpired:
        W.containerd.kill()
        W.containerd.wait()
    W.containerd = None


def dropin_checks():
    r = run_cmd(['containerd', '--config', W.config, 'config', 'dump'], env={'PATH': PATH})
    tap.must(r.rc == 0, 'containerd config dump of a configuration importing the drop-in', *r.diag())
    dump = r.out.decode()
    kata = r'\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.kata\]\n(.*?)\n\n'
    m = re.search(kata, dump, re.S)
    tap.must(m, 'the merged configuration has the runtime handler kata', dump[-3000:])
    table = m.group(1)
    for key, value in (('runtime_type', '"io.containerd.runc.v2"'), ('privileged_without_host_devices', 'true'),
                       ('pod_annotations', '["io.katacontainers.*", "io.kubernetes.cri-o.TrustedSandbox"]'),
                       ('container_annotations', '[]')):
        tap.ok(re.search(rf'^\s*{key} = {re.escape(value)}$', table, re.M), f'kata: {key} = {value}', table)
    m = re.search(r'runtimes\.kata\.options\]\n(.*?)\n\n', dump, re.S)
    options = m.group(1) if m else ''
    for key, value in (('BinaryName', f'"{VMCTL}"'), ('Root', '"/run/vmctl"'), ('SystemdCgroup', 'true')):
        tap.ok(re.search(rf'^\s*{key} = {re.escape(value)}$', options, re.M), f'kata options: {key} = {value}',
               options)
    tap.ok('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]' in dump,
           'the runc handler (the default runtime) is still there')
    tap.ok(re.search(r'^\s*default_runtime_name = "runc"$', dump, re.M), 'runc is still the default runtime')
    tap.ok(re.search(r'^\s*bin_dir = "/usr/lib/cni"$', dump, re.M), 'Debian\'s CNI bin_dir is kept')
    r = ctr('plugins', 'ls')
    cri = [line for line in r.out.decode().splitlines() if re.search(r'\bcri\b', line)]
    tap.ok(len(cri) == 1 and cri[0].split()[-1] == 'ok', 'the CRI plugin loads with the drop-in', *r.diag())


# --- ctr run, exec, tty, kill ------------------------------------------------------------------------


def run_exit_code():
    cid = f'run-{W.token}'
    fs = rootfs(cid)
    r = ctr(*run_args(cid, fs, mode='--rm'), 'sh', '-c', 'uname -r; exit 7', timeout=180)
    out = r.out.decode(errors='replace').split()
    tap.eq('ctr run: exit code 7 comes back', 7, r.rc, *r.diag())
    tap.ok(len(out) == 1 and out[0] != host_kernel(), 'ctr run: the guest\'s kernel, not the host\'s',
           f'host: {host_kernel()}', *r.diag())
    gone(cid, 'ctr run --rm')


class Running:
    """ctr run in the foreground (ctr's exit status is the container's)."""

    def __init__(self, cid, fs, args):
        self.cid = cid
        self.fs = fs
        self.proc = subprocess.Popen(['ctr', '--address', W.sock, '--namespace', NAMESPACE,
                                      *run_args(cid, fs, mode=None), *args],
                                     stdin=subprocess.DEVNULL, stdout=open(W.path(f'{cid}.out'), 'wb'),
                                     stderr=subprocess.STDOUT, env={'PATH': PATH}, start_new_session=True)

    def output(self):
        return read_bytes(W.path(f'{self.cid}.out')) or b''


def in_fs(c, name):
    return os.path.join(c.fs, 'tmp', name)


def exec_checks(c, boot_id):
    r = ctr('task', 'exec', '--fifo-dir', W.fifos, '--exec-id', 'e1', c.cid, 'sh', '-c',
            'cat /proc/sys/kernel/random/boot_id; exit 5')
    tap.eq('ctr task exec: its status (5) comes back', 5, r.rc, *r.diag())
    tap.eq('ctr task exec: in the same VM (guest boot id)', boot_id, r.out.strip(), *r.diag())

    t0 = now()
    r = ctr('task', 'exec', '--fifo-dir', W.fifos, '-d', '--exec-id', 'e2', c.cid, 'sh', '-c',
            'sleep 5; echo done > /tmp/detached.new && mv /tmp/detached.new /tmp/detached')
    tap.eq('ctr task exec -d: returns at once with 0', 0, r.rc, *r.diag())
    tap.ok(now() - t0 < 20 and not os.path.exists(in_fs(c, 'detached')),
           'ctr task exec -d: returned before the process finished', f'{now() - t0:.1f} s')
    tap.eq('ctr task exec -d: the process went on in the guest', b'done\n', wait_file(in_fs(c, 'detached'), 30))

    r = ctr('task', 'exec', '--fifo-dir', W.fifos, '-d', '--exec-id', 'e3', c.cid, 'sh', '-c',
            'echo $$ > /tmp/sleeper.new && mv /tmp/sleeper.new /tmp/sleeper && exec sleep 1000')
    sleeper = wait_file(in_fs(c, 'sleeper'), 30)
    tap.must(r.rc == 0 and sleeper, 'a detached sleeper runs in the guest', *r.diag())
    r = ctr('task', 'kill', '--exec-id', 'e3', '--signal', 'SIGKILL', c.cid)
    tap.eq('ctr task kill --exec-id: accepted', 0, r.rc, *r.diag())
    pid = sleeper.strip().decode()

    def sleeper_gone():
        p = ctr('task', 'exec', '--fifo-dir', W.fifos, '--exec-id', f'p{secrets.token_hex(2)}', c.cid,
                'sh', '-c', f'test -e /proc/{pid} && echo alive || echo gone')
        return p.out.strip() == b'gone'
    tap.ok(wait_until(sleeper_gone, 30, 0.5), f'ctr task kill --exec-id: guest process {pid} is gone')


def on_pty(argv, rows, cols, timeout, resize=None):
    """argv on a new pty of the given size; (exit status or None, output).
    resize: (pattern, rows, cols), the size the pty gets once the output
    matches pattern (its holder, ctr, hears of it as SIGWINCH)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
            os.execvpe(argv[0], argv, {'PATH': PATH, 'TERM': 'xterm'})
        finally:
            os._exit(127)
    out = b''
    deadline = now() + timeout
    while now() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the child is gone
                data = b''
            if not data:
                break
            out += data
        if resize is not None and re.search(resize[0], out):
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', resize[1], resize[2], 0, 0))
            resize = None
    os.close(fd)
    status = REAPER.wait(pid, 5 if now() < deadline else 0.1)
    if status is None:
        signal_quietly(pid, signal.SIGKILL)
        REAPER.wait(pid, 5)
    return status, out


def size_script(rows, cols, status):
    """Waits (30 s at most) for its terminal to be rows x cols, then exits
    with status. ctr 1.6 resizes a task's terminal only after starting it
    (as with runc: a process that looks at once may see 0 0), and an
    exec's only on a change (its first resize comes before the shim has
    the console)."""
    return ('tty; echo ready; i=0; while [ $i -lt 300 ]; do s=$(stty size 2>/dev/null); '
            f'if [ "$s" = "{rows} {cols}" ]; then echo "size $s"; exit {status}; fi; i=$((i + 1)); sleep 0.1; done; '
            'echo "no resize: $s"; exit 1')


def tty_exec(c):
    argv = ['ctr', '--address', W.sock, '--namespace', NAMESPACE, 'task', 'exec', '--fifo-dir', W.fifos, '-t',
            '--exec-id', 'et', c.cid, 'sh', '-c', size_script(24, 91, 6)]
    status, out = on_pty(argv, 10, 40, 90, resize=(rb'ready', 24, 91))
    tap.eq('ctr task exec -t: its status (6) comes back', 6, status, out)
    tap.ok(re.search(rb'^/dev/pts/\d+\r?\r?$', out, re.M), 'ctr task exec -t: on a terminal in the guest', out)
    tap.ok(re.search(rb'^size 24 91\r?\r?$', out, re.M),
           'ctr task exec -t: resizing ctr\'s terminal resizes the guest\'s', out)


def running_container():
    cid = f'main-{W.token}'
    c = Running(cid, rootfs(cid, MAIN_SCRIPT), ['/init.sh'])
    try:
        boot_id = wait_file(in_fs(c, 'boot_id'), 180)
        tap.must(boot_id and c.proc.poll() is None, 'ctr run: the container runs in a VM', c.output(),
                 f'boot id: {boot_id}, ctr: {c.proc.poll()}', containerd_log())
        boot_id = boot_id.strip()
        pid, status = task_pid(cid)
        tap.ok(pid and status == 'RUNNING' and pid_alive(pid), 'ctr task ls: RUNNING with a live host pid',
               f'{pid} {status}')
        tap.eq('one QEMU for the container', 1, len(qemus(cid)))
        exec_checks(c, boot_id)
        tty_exec(c)
        r = ctr('task', 'kill', cid)
        tap.eq('ctr task kill: accepted', 0, r.rc, *r.diag())
        try:
            rc = c.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rc = None
        tap.eq('ctr task kill: SIGTERM reached the guest process (its trap)', b'TERM\n',
               read_bytes(in_fs(c, 'signals')))
        tap.eq('ctr run: the container\'s status after kill (9) comes back', 9, rc, c.output())
        # ctr run has deleted the task when it returned
        r = ctr('container', 'delete', cid)
        tap.eq('ctr container delete', 0, r.rc, *r.diag())
        gone(cid, 'after kill and delete')
    finally:
        if c.proc.poll() is None:
            remove(cid)
            c.proc.kill()
            c.proc.wait()


def terminal_run():
    cid = f'tty-{W.token}'
    fs = rootfs(cid)
    argv = ['ctr', '--address', W.sock, '--namespace', NAMESPACE, 'run', '--rm', '-t', *runtime_flags(cid),
            '--rootfs', fs, cid, 'sh', '-c', size_script(31, 101, 4)]
    status, out = on_pty(argv, 31, 101, 180)
    tap.eq('ctr run -t: exit code 4 comes back', 4, status, out)
    tap.ok(re.search(rb'^/dev/pts/\d+\r?\r?$', out, re.M), 'ctr run -t: the container is on a terminal', out)
    tap.ok(re.search(rb'^size 31 101\r?\r?$', out, re.M), 'ctr run -t: the terminal gets ctr\'s size', out)
    if status is None:
        remove(cid)
    gone(cid, 'ctr run -t --rm')


# --- pods --------------------------------------------------------------------------------------


class PodCtr:
    def __init__(self, cid, annotations, netns, systemd=True):
        self.cid = cid
        self.fs = rootfs(cid, POD_SCRIPT)
        self.r = ctr(*run_args(cid, self.fs, annotations, netns, systemd=systemd), '/init.sh', timeout=180)
        self.where = None
        if self.r.rc == 0:
            data = wait_file(in_fs(self, 'where'), 120)
            self.where = data.decode().splitlines() if data else None

    def ok(self, desc):
        return tap.ok(self.r.rc == 0 and self.where and len(self.where) == 5, desc, *self.r.diag(),
                      f'where: {self.where}')

    def pid(self):
        return task_pid(self.cid)[0]


def host_netns(pid):
    try:
        return os.readlink(f'/proc/{pid}/ns/net')
    except OSError:
        return None


def config_value(key):
    m = re.search(rf'^{key} = (\d+)$', read_bytes(W.ck_config).decode(), re.M)
    return int(m.group(1))


def mem_total_kib(where):
    return int(where[3].split()[1])


def pod_replay():
    netns = W.add_netns('pod')
    sid = f'sbx-{W.token}'
    sized = ((CRI_TYPE, 'sandbox'), (CRI_SANDBOX, sid), (CRI_CPU_PERIOD, '100000'), (CRI_CPU_QUOTA, '100000'),
             ('io.kubernetes.cri.sandbox-cpu-shares', '1024'), (CRI_MEMORY, str(256 << 20)),
             ('io.kubernetes.cri.sandbox-name', 'pod'), ('io.kubernetes.cri.sandbox-namespace', 'default'))
    sb = PodCtr(sid, sized, netns)
    tap.must(sb.ok('the sandbox container (CRI annotations) runs'), 'the sandbox container runs')
    sb_pid = sb.pid()
    pod_ns = f'net:[{os.stat(netns).st_ino}]'
    tap.eq('the sandbox\'s task pid is in the pod\'s network namespace', pod_ns, host_netns(sb_pid))
    members = [sb]
    for name in ('app', 'side'):
        cid = f'{name}-{W.token}'
        c = PodCtr(cid, ((CRI_TYPE, 'container'), (CRI_SANDBOX, sid),
                         ('io.kubernetes.cri.container-name', name)), f'/proc/{sb_pid}/ns/net')
        c.ok(f'container {name} of the pod runs')
        members.append(c)
    wheres = [m.where for m in members if m.where]
    tap.must(len(wheres) == 3, 'the sandbox and both containers report where they run')
    tap.eq('one VM: the same guest boot id in all three', 1, len({w[0] for w in wheres}), wheres)
    tap.eq('one network namespace in the guest for all three', 1, len({w[1] for w in wheres}), wheres)
    tap.ok(all(w[4] != host_kernel() for w in wheres), 'all three on the guest\'s kernel', wheres)
    tap.eq('one QEMU for the pod, none for its containers', [1, 0, 0], [len(qemus(m.cid)) for m in members])
    # docs/cgroups.md, "Pod accounting": the pod pays for its VM
    qemu = (qemus(sid) or [None])[0]
    tap.ok(qemu is not None and cgroups_of(qemu) == cgroups_of(sb_pid) and cgroups_of(qemu),
           'the pod\'s QEMU is in the sandbox\'s cgroup (its task\'s, in every hierarchy)',
           f'QEMU {qemu}: {cgroups_of(qemu) if qemu else None}', f'sandbox task {sb_pid}: {cgroups_of(sb_pid)}')
    tap.eq('on the host, the containers\' pids are in the pod\'s network namespace',
           [pod_ns] * 2, [host_netns(m.pid()) for m in members[1:]])
    # the size containerd announced: one more vCPU, 256 MiB more
    vcpus, mem = config_value('default_vcpus'), config_value('default_memory')
    tap.eq('sized from containerd\'s annotations: default_vcpus + 1 vCPU', str(min(vcpus + 1, os.cpu_count())),
           wheres[0][2])
    kib = mem_total_kib(wheres[0])
    tap.ok((mem + 256) * 1024 * 0.8 < kib <= (mem + 256) * 1024, 'sized from containerd\'s annotations: '
           f'default_memory + 256 MiB (MemTotal {kib} kB)', wheres[0])
    return sid, members


def sandbox_gone(sid, members):
    """The sandbox stops: its containers with it; a new container of the pod
    fails, naming the sandbox; the same once it is deleted."""
    r = ctr('task', 'kill', '--signal', 'SIGKILL', sid)
    tap.eq('ctr task kill -s SIGKILL of the sandbox', 0, r.rc, *r.diag())
    tap.ok(wait_until(lambda: not qemus(sid), 60, 0.2), 'the pod\'s QEMU goes with its sandbox')
    late = f'late-{W.token}'
    fs = rootfs(late)
    annotations = ((CRI_TYPE, 'container'), (CRI_SANDBOX, sid))
    r = ctr(*run_args(late, fs, annotations), 'true', timeout=180)
    want = f'container {late}: the sandbox {sid} of its pod is not running: '
    tap.eq('a container of a stopped sandbox: ctr run fails', 1, r.rc, *r.diag())
    tap.ok(want.encode() in r.err, f'... saying "{want}..."', *r.diag())
    remove(late)
    for m in members:
        remove(m.cid)
    for m in members:
        gone(m.cid, f'pod member {m.cid} deleted')
    r = ctr(*run_args(late, fs, annotations), 'true', timeout=180)
    want = f'OCI runtime create failed: container {late}: the sandbox {sid} of its pod does not exist: unknown'
    tap.eq('a container of a deleted sandbox: ctr run fails', 1, r.rc, *r.diag())
    tap.ok(want.encode() in r.err, f'... saying "{want}"', *r.diag())
    remove(late)
    gone(late, 'the refused container')


def pod():
    sid, members = pod_replay()
    sandbox_gone(sid, members)


def trusted_pod():
    sid = f'trust-{W.token}'
    sb = PodCtr(sid, ((CRI_TYPE, 'sandbox'), (CRI_SANDBOX, sid), (TRUSTED_SANDBOX, 'true')), None, systemd=False)
    sb.ok('a trusted pod\'s sandbox runs')
    cid = f'tapp-{W.token}'
    c = PodCtr(cid, ((CRI_TYPE, 'container'), (CRI_SANDBOX, sid), (TRUSTED_SANDBOX, 'true')),
               f'/proc/{sb.pid()}/ns/net' if sb.pid() else None, systemd=False)
    c.ok('its container (carrying the pod\'s annotation, as containerd copies it) runs')
    for who, m in (('sandbox', sb), ('container', c)):
        tap.eq(f'trusted pod: the {who} runs on the host\'s kernel (runc)', host_kernel(),
               m.where[4] if m.where else None)
        tap.eq(f'trusted pod: no QEMU for the {who}', [], qemus(m.cid))
    r = run_cmd([VMCTL, '--root', os.path.join(W.vmctl_root, NAMESPACE), 'state', sid])
    st = r.json() or {}
    tap.eq('vmctl state: the decision', 'trusted: annotation io.kubernetes.cri-o.TrustedSandbox="true"',
           st.get('annotations', {}).get('io.conmon-kata.trust'), *r.diag())
    for m in (c, sb):
        remove(m.cid)
    for m in (c, sb):
        gone(m.cid, f'trusted {m.cid} deleted')


def annotated_pod():
    sid = f'anno-{W.token}'
    mem = config_value('default_memory') + 256
    sb = PodCtr(sid, ((CRI_TYPE, 'sandbox'), (CRI_SANDBOX, sid), (A_MEMORY, str(mem))), None)
    sb.ok(f'a pod with {A_MEMORY}={mem} runs')
    if sb.where:
        kib = mem_total_kib(sb.where)
        tap.ok(mem * 1024 * 0.8 < kib <= mem * 1024, f'its VM has {mem} MiB (MemTotal {kib} kB)', sb.where)
    members = [sb]
    cid = f'copy-{W.token}'
    c = PodCtr(cid, ((CRI_TYPE, 'container'), (CRI_SANDBOX, sid), (A_MEMORY, str(mem))), None)
    c.ok('a container carrying the pod\'s copy of the annotation runs')
    members.append(c)
    tap.eq('... in the pod\'s VM', sb.where[0] if sb.where else None, c.where[0] if c.where else 'none')
    cid = f'own-{W.token}'
    fs = rootfs(cid)
    r = ctr(*run_args(cid, fs, ((CRI_TYPE, 'container'), (CRI_SANDBOX, sid), (A_MEMORY, '1024'))), 'true')
    want = (f'OCI runtime create failed: container {cid}: annotation {A_MEMORY}: only the pod\'s sandbox can '
            'configure the VM: unknown')
    tap.eq('a container with a value of its own: ctr run fails', 1, r.rc, *r.diag())
    tap.ok(want.encode() in r.err, f'... saying "{want}"', *r.diag())
    remove(cid)
    for m in reversed(members):
        remove(m.cid)
    for m in members:
        gone(m.cid, f'{m.cid} deleted')


# --- the end -------------------------------------------------------------------------------------


def the_end():
    stop_containerd()
    W.systemd.stop()
    tap.ok(True, 'containerd and the private bus stopped')
    nothing_left(tap, 'nothing mentioning the test\'s directories is left running', [W.run, W.tmp, W.token], 30)
    mounts = unmount_under(W.run) + unmount_under(W.tmp)
    tap.eq('nothing left mounted under the test\'s directories', [], mounts)
    tap.eq('no container cgroup left under the test\'s slice', [], cgroup_scopes())
    if W.shim_sockets_ours:
        tap.eq(f'no shim socket left in {SHIM_SOCKETS}', [], os.listdir(SHIM_SOCKETS)
               if os.path.isdir(SHIM_SOCKETS) else [])


def cgroup_slices():
    return [d for name in (W.slice, W.cgdir) for d in glob.glob(f'/sys/fs/cgroup/{name}') +
            glob.glob(f'/sys/fs/cgroup/*/{name}')]


def cgroup_scopes():
    return [os.path.join(d, e) for d in cgroup_slices() for e in os.listdir(d)
            if os.path.isdir(os.path.join(d, e))]


def cleanup():
    if W is None:
        return
    # whatever an early failure left: the tasks, containerd, then the rest
    if W.containerd is not None and W.containerd.poll() is None:
        r = ctr('container', 'ls', '-q', timeout=30)
        for cid in r.out.decode().split():
            remove(cid)
    stop_containerd()
    if W.systemd is not None:
        W.systemd.stop()
    for p, _, _ in [p for t in (W.run, W.tmp, W.token) for p in procs_mentioning(t)]:
        signal_quietly(p, signal.SIGKILL)
    wait_until(lambda: not any(procs_mentioning(t) for t in (W.run, W.tmp, W.token)), 10, 0.1)
    REAPER.reap_all()
    unmount_under(W.run)
    unmount_under(W.tmp)
    for name in W.netns:
        subprocess.run(['ip', 'netns', 'del', name], capture_output=True)
    # the scopes are vmctl's to remove (checked in the_end); the slice is
    # the test's: the first container's create made it, and with several
    # containers in it no one container's delete can take it away
    for d in cgroup_scopes() + cgroup_slices():
        try:
            os.rmdir(d)
        except OSError:
            pass
    if W.shim_sockets_ours:
        for d in (SHIM_SOCKETS, os.path.dirname(SHIM_SOCKETS)):
            try:
                os.rmdir(d)  # only when empty
            except OSError:
                pass
    rm_rf(W.run)
    rm_rf(W.tmp)


def main():
    def body():
        global W
        tap.must(shutil.which('containerd') and shutil.which('ctr'),
                 'containerd and ctr are installed (Debian\'s containerd, contrib/install-deps.sh)')
        W = World()
        tap.note(f'state {W.run}, scratch {W.tmp}')
        write_configs()
        W.systemd = PrivateSystemd(os.path.join(W.tmp, 'dbus'))
        W.systemd.start(tap)
        start_containerd()
        tap.item('the drop-in', dropin_checks)
        tap.item('ctr run: exit code', run_exit_code)
        tap.item('a running container: exec, detached exec, kill', running_container)
        tap.item('ctr run -t', terminal_run)
        tap.item('a pod with containerd\'s CRI annotations', pod)
        tap.item('a trusted pod', trusted_pod)
        tap.item('a pod sized by annotation', annotated_pod)
        tap.item('the end', the_end)
    return run_standalone(tap, body, cleanup)


if __name__ == '__main__':
    sys.exit(main())
