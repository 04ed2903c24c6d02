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
tests/lib/systemd-peer answers as systemd (ckdriver/systemd.py, docs/cgroups.md).

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
import termios

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ckdriver.context import RUNTIME_PATH, run_suite  # noqa: E402
from ckdriver.crio import TRUSTED_SANDBOX  # noqa: E402
from ckdriver.files import unmount_under  # noqa: E402
from ckdriver.netns import netns_path  # noqa: E402
from ckdriver.procs import nothing_left, pid_alive, procs_mentioning, run_cmd, signal_quietly  # noqa: E402
from ckdriver.systemd import PrivateSystemd  # noqa: E402
from ckdriver.util import now, read_bytes, wait_until  # noqa: E402
from ckdriver.vm import host_release  # noqa: E402

DROPIN = ('crio-conf', 'containerd', '50-conmon-kata.toml')  # under the source root
NAMESPACE = 'ck'  # containerd's namespace; the shim appends it to --runc-root
SHIM_SOCKETS = '/run/containerd/s'

CRI_TYPE = 'io.kubernetes.cri.container-type'
CRI_SANDBOX = 'io.kubernetes.cri.sandbox-id'
CRI_CPU_QUOTA = 'io.kubernetes.cri.sandbox-cpu-quota'
CRI_CPU_PERIOD = 'io.kubernetes.cri.sandbox-cpu-period'
CRI_MEMORY = 'io.kubernetes.cri.sandbox-memory'
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


def scratch(ctx, *parts):
    """A path under the test's scratch directory, its parent made."""
    p = ctx.path(*parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def vmctl_root(ctx):
    """vmctl's --root as the drop-in gives it to the shim (it appends the namespace)."""
    return os.path.join(ctx.root, 'vmctl')


def sock_path(ctx):
    """containerd's socket: short, <root>/<namespace>/pods/<id>/ctl.sock must fit in sun_path."""
    return os.path.join(ctx.root, 'containerd.sock')


def slice_name(ctx):
    return f'containerd-e2e-{ctx.token}.slice'


def cgroup_dir(ctx):
    return f'containerd-e2e-{ctx.token}'


def ctr(ctx, *args, timeout=120, input=None):
    return run_cmd(['ctr', '--address', sock_path(ctx), '--namespace', NAMESPACE, *args], input=input, timeout=timeout,
                   env={'PATH': RUNTIME_PATH})


def runtime_flags(ctx, cid, systemd=True):
    """ctr's spelling of the drop-in's runtime options (BinaryName, Root,
    SystemdCgroup) and the systemd-style cgroup the CRI plugin would give.
    Without systemd: a cgroupfs path (runc, which runs trusted pods, needs
    a running systemd for the other, and these test hosts have none)."""
    cgroup = ['--runc-systemd-cgroup', '--cgroup', f'{slice_name(ctx)}:cri-containerd:{cid}'] if systemd else \
        ['--cgroup', f'/{cgroup_dir(ctx)}/{cid}']
    return ['--runtime', 'io.containerd.runc.v2', '--runc-binary', ctx.env.vmctl, '--runc-root', vmctl_root(ctx),
            *cgroup,
            '--fifo-dir', ctx.path('fifo')]


def rootfs(ctx, cid, script=None):
    """A private copy of the test rootfs (the guest writes through 9p)."""
    d = scratch(ctx, 'rootfs', cid)
    r = subprocess.run(['cp', '-a', ctx.env.rootfs, d], capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f'cp -a {ctx.env.rootfs} {d}: {r.stderr!r}')
    if script is not None:
        with open(os.path.join(d, 'init.sh'), 'w') as f:
            f.write(script)
        os.chmod(os.path.join(d, 'init.sh'), 0o755)
    return d


def run_args(ctx, cid, fs, annotations=(), netns=None, mode='-d', systemd=True):
    """ctr run's arguments; mode '-d' (detached), '--rm', or None."""
    args = ['run', *([mode] if mode else []), *runtime_flags(ctx, cid, systemd)]
    for k, v in annotations:
        args += ['--annotation', f'{k}={v}']
    if netns is not None:
        args += ['--with-ns', f'network:{netns}']
    return args + ['--rootfs', fs, cid]


def cgroups_of(pid):
    """/proc/<pid>/cgroup as {hierarchy: path}."""
    lines = (read_bytes(f'/proc/{pid}/cgroup') or b'').decode(errors='replace').splitlines()
    return dict(ln.split(':', 2)[1:] for ln in lines if ln.count(':') >= 2)


def task_pid(ctx, cid):
    r = ctr(ctx, 'task', 'ls')
    for line in r.out.decode(errors='replace').splitlines()[1:]:
        f = line.split()
        if len(f) >= 3 and f[0] == cid:
            return int(f[1]), f[2]
    return None, None


def qemus(cid):
    """QEMU processes of the VM named after cid (vmctl names it -name <pod id>)."""
    return [p for p, comm, cl in procs_mentioning(f'-name {cid},') if comm.startswith('qemu')]


def wait_file(path, timeout=60):
    wait_until(lambda: os.path.exists(path), timeout, 0.1)
    return read_bytes(path)


def remove(ctx, cid):
    """ctr task delete --force and container delete, whatever state."""
    ctr(ctx, 'task', 'delete', '--force', cid, timeout=60)
    return ctr(ctx, 'container', 'delete', cid, timeout=60)


def gone(ctx, cid, desc):
    """No QEMU for cid, no vmctl state, no containerd container."""
    wait_until(lambda: not qemus(cid), 30, 0.1)
    ctx.tap.eq(f'{desc}: no QEMU left', [], qemus(cid))
    state = os.path.join(vmctl_root(ctx), NAMESPACE, 'containers', cid)
    ctx.tap.ok(not os.path.exists(state), f'{desc}: no vmctl state left', state)
    r = ctr(ctx, 'container', 'ls', '-q')
    ctx.tap.ok(cid not in r.out.decode().split(), f'{desc}: containerd has no container left', *r.diag())


# --- containerd ---------------------------------------------------------------------------------


def write_configs(ctx):
    """The test's configuration.toml (VM size annotations enabled), the
    drop-in with this build's vmctl, and containerd's main configuration
    importing it (as /etc/containerd/config.toml would with imports)."""
    ctx.configs['ck'] = ctx.config('configuration.toml', enable_annotations=['default_memory'])
    dropin = read_bytes(ctx.env.source_path(*DROPIN)).decode()
    dropin, n = re.subn(r'^(\s*BinaryName = )"/usr/bin/vmctl"$', rf'\1"{ctx.env.vmctl}"', dropin, flags=re.M)
    if n != 1:
        raise RuntimeError(f'{ctx.env.source_path(*DROPIN)}: BinaryName = "/usr/bin/vmctl" found {n} times')
    with open(scratch(ctx, 'conf.d', '50-conmon-kata.toml'), 'w') as f:
        f.write(dropin)
    ctx.configs['containerd'] = scratch(ctx, 'config.toml')
    with open(ctx.configs['containerd'], 'w') as f:
        f.write(f'''version = 2
imports = ["{ctx.tmp}/conf.d/*.toml"]
root = "{ctx.tmp}/root"
state = "{ctx.root}/state"
# /opt/containerd is the opt plugin's: nothing of the test outside its directories
disabled_plugins = ["io.containerd.internal.v1.opt"]

[grpc]
  address = "{sock_path(ctx)}"

[ttrpc]
  address = "{sock_path(ctx)}.ttrpc"

[debug]
  address = ""
''')


def containerd_log(ctx):
    return b'containerd log (the end): ' + (read_bytes(scratch(ctx, 'containerd.log')) or b'')[-3000:]


class Containerd:
    """The test's own containerd (root, state and socket under the test's
    directories), in a network namespace of the test's."""

    def __init__(self):
        self.proc = None
        # containerd 1.6 puts its shims' sockets in /run/containerd/s
        # whatever its state directory: taken away again if ours alone
        self.shim_sockets_ours = not os.path.exists(SHIM_SOCKETS)

    def start(self, ctx):
        netns = netns_path(ctx.add_netns('daemon'))
        env = {'PATH': RUNTIME_PATH, 'CONMON_KATA_CONFIG': ctx.configs['ck'], **ctx.systemd.env()}
        log = open(scratch(ctx, 'containerd.log'), 'ab')
        # nsenter --net only: containerd keeps the host's mount namespace, so
        # whatever it or vmctl mounts is seen (and checked) here
        self.proc = subprocess.Popen(['nsenter', f'--net={netns}', 'containerd', '--config', ctx.configs['containerd']],
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                     start_new_session=True)
        log.close()
        up = wait_until(lambda: os.path.exists(sock_path(ctx)) and ctr(ctx, 'version', timeout=10).rc == 0, 30, 0.2)
        ctx.tap.must(up, 'containerd (our own: root, state, socket under the test directories) answers',
                     read_bytes(scratch(ctx, 'containerd.log')) or b'')

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def dropin_checks(ctx):
    r = run_cmd(['containerd', '--config', ctx.configs['containerd'], 'config', 'dump'], env={'PATH': RUNTIME_PATH})
    ctx.tap.must(r.rc == 0, 'containerd config dump of a configuration importing the drop-in', *r.diag())
    dump = r.out.decode()
    kata = r'\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.kata\]\n(.*?)\n\n'
    m = re.search(kata, dump, re.S)
    ctx.tap.must(m, 'the merged configuration has the runtime handler kata', dump[-3000:])
    table = m.group(1)
    for key, value in (('runtime_type', '"io.containerd.runc.v2"'), ('privileged_without_host_devices', 'true'),
                       ('pod_annotations', '["io.katacontainers.*", "io.kubernetes.cri-o.TrustedSandbox"]'),
                       ('container_annotations', '[]')):
        ctx.tap.ok(re.search(rf'^\s*{key} = {re.escape(value)}$', table, re.M), f'kata: {key} = {value}', table)
    m = re.search(r'runtimes\.kata\.options\]\n(.*?)\n\n', dump, re.S)
    options = m.group(1) if m else ''
    for key, value in (('BinaryName', f'"{ctx.env.vmctl}"'), ('Root', '"/run/vmctl"'), ('SystemdCgroup', 'true')):
        ctx.tap.ok(re.search(rf'^\s*{key} = {re.escape(value)}$', options, re.M), f'kata options: {key} = {value}',
                   options)
    ctx.tap.ok('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]' in dump,
               'the runc handler (the default runtime) is still there')
    ctx.tap.ok(re.search(r'^\s*default_runtime_name = "runc"$', dump, re.M), 'runc is still the default runtime')
    ctx.tap.ok(re.search(r'^\s*bin_dir = "/usr/lib/cni"$', dump, re.M), 'Debian\'s CNI bin_dir is kept')
    r = ctr(ctx, 'plugins', 'ls')
    cri = [line for line in r.out.decode().splitlines() if re.search(r'\bcri\b', line)]
    ctx.tap.ok(len(cri) == 1 and cri[0].split()[-1] == 'ok', 'the CRI plugin loads with the drop-in', *r.diag())


# --- ctr run, exec, tty, kill ------------------------------------------------------------------------


def run_exit_code(ctx):
    cid = f'run-{ctx.token}'
    fs = rootfs(ctx, cid)
    r = ctr(ctx, *run_args(ctx, cid, fs, mode='--rm'), 'sh', '-c', 'uname -r; exit 7', timeout=180)
    out = r.out.decode(errors='replace').split()
    ctx.tap.eq('ctr run: exit code 7 comes back', 7, r.rc, *r.diag())
    ctx.tap.ok(len(out) == 1 and out[0] != host_release(), 'ctr run: the guest\'s kernel, not the host\'s',
               f'host: {host_release()}', *r.diag())
    gone(ctx, cid, 'ctr run --rm')


class Running:
    """ctr run in the foreground (ctr's exit status is the container's)."""

    def __init__(self, ctx, cid, fs, args):
        self.ctx = ctx
        self.cid = cid
        self.fs = fs
        self.proc = subprocess.Popen(['ctr', '--address', sock_path(ctx), '--namespace', NAMESPACE,
                                      *run_args(ctx, cid, fs, mode=None), *args],
                                     stdin=subprocess.DEVNULL, stdout=open(scratch(ctx, f'{cid}.out'), 'wb'),
                                     stderr=subprocess.STDOUT, env={'PATH': RUNTIME_PATH}, start_new_session=True)

    def output(self):
        return read_bytes(scratch(self.ctx, f'{self.cid}.out')) or b''


def in_fs(c, name):
    return os.path.join(c.fs, 'tmp', name)


def exec_checks(ctx, c, boot_id):
    r = ctr(ctx, 'task', 'exec', '--fifo-dir', ctx.path('fifo'), '--exec-id', 'e1', c.cid, 'sh', '-c',
            'cat /proc/sys/kernel/random/boot_id; exit 5')
    ctx.tap.eq('ctr task exec: its status (5) comes back', 5, r.rc, *r.diag())
    ctx.tap.eq('ctr task exec: in the same VM (guest boot id)', boot_id, r.out.strip(), *r.diag())

    t0 = now()
    r = ctr(ctx, 'task', 'exec', '--fifo-dir', ctx.path('fifo'), '-d', '--exec-id', 'e2', c.cid, 'sh', '-c',
            'sleep 5; echo done > /tmp/detached.new && mv /tmp/detached.new /tmp/detached')
    ctx.tap.eq('ctr task exec -d: returns at once with 0', 0, r.rc, *r.diag())
    ctx.tap.ok(now() - t0 < 20 and not os.path.exists(in_fs(c, 'detached')),
               'ctr task exec -d: returned before the process finished', f'{now() - t0:.1f} s')
    ctx.tap.eq('ctr task exec -d: the process went on in the guest', b'done\n', wait_file(in_fs(c, 'detached'), 30))

    r = ctr(ctx, 'task', 'exec', '--fifo-dir', ctx.path('fifo'), '-d', '--exec-id', 'e3', c.cid, 'sh', '-c',
            'echo $$ > /tmp/sleeper.new && mv /tmp/sleeper.new /tmp/sleeper && exec sleep 1000')
    sleeper = wait_file(in_fs(c, 'sleeper'), 30)
    ctx.tap.must(r.rc == 0 and sleeper, 'a detached sleeper runs in the guest', *r.diag())
    r = ctr(ctx, 'task', 'kill', '--exec-id', 'e3', '--signal', 'SIGKILL', c.cid)
    ctx.tap.eq('ctr task kill --exec-id: accepted', 0, r.rc, *r.diag())
    pid = sleeper.strip().decode()

    def sleeper_gone():
        p = ctr(ctx, 'task', 'exec', '--fifo-dir', ctx.path('fifo'), '--exec-id', f'p{secrets.token_hex(2)}', c.cid,
                'sh', '-c', f'test -e /proc/{pid} && echo alive || echo gone')
        return p.out.strip() == b'gone'
    ctx.tap.ok(wait_until(sleeper_gone, 30, 0.5), f'ctr task kill --exec-id: guest process {pid} is gone')


def on_pty(ctx, argv, rows, cols, timeout, resize=None):
    """argv on a new pty of the given size; (exit status or None, output).
    resize: (pattern, rows, cols), the size the pty gets once the output
    matches pattern (its holder, ctr, hears of it as SIGWINCH)."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
            os.execvpe(argv[0], argv, {'PATH': RUNTIME_PATH, 'TERM': 'xterm'})
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
    status = ctx.reaper.wait(pid, 5 if now() < deadline else 0.1)
    if status is None:
        signal_quietly(pid, signal.SIGKILL)
        ctx.reaper.wait(pid, 5)
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


def tty_exec(ctx, c):
    argv = ['ctr', '--address', sock_path(ctx), '--namespace', NAMESPACE, 'task', 'exec', '--fifo-dir',
            ctx.path('fifo'), '-t',
            '--exec-id', 'et', c.cid, 'sh', '-c', size_script(24, 91, 6)]
    status, out = on_pty(ctx, argv, 10, 40, 90, resize=(rb'ready', 24, 91))
    ctx.tap.eq('ctr task exec -t: its status (6) comes back', 6, status, out)
    ctx.tap.ok(re.search(rb'^/dev/pts/\d+\r?\r?$', out, re.M), 'ctr task exec -t: on a terminal in the guest', out)
    ctx.tap.ok(re.search(rb'^size 24 91\r?\r?$', out, re.M),
               'ctr task exec -t: resizing ctr\'s terminal resizes the guest\'s', out)


def running_container(ctx):
    cid = f'main-{ctx.token}'
    c = Running(ctx, cid, rootfs(ctx, cid, MAIN_SCRIPT), ['/init.sh'])
    try:
        boot_id = wait_file(in_fs(c, 'boot_id'), 180)
        ctx.tap.must(boot_id and c.proc.poll() is None, 'ctr run: the container runs in a VM', c.output(),
                     f'boot id: {boot_id}, ctr: {c.proc.poll()}', containerd_log(ctx))
        boot_id = boot_id.strip()
        pid, status = task_pid(ctx, cid)
        ctx.tap.ok(pid and status == 'RUNNING' and pid_alive(pid), 'ctr task ls: RUNNING with a live host pid',
                   f'{pid} {status}')
        ctx.tap.eq('one QEMU for the container', 1, len(qemus(cid)))
        exec_checks(ctx, c, boot_id)
        tty_exec(ctx, c)
        r = ctr(ctx, 'task', 'kill', cid)
        ctx.tap.eq('ctr task kill: accepted', 0, r.rc, *r.diag())
        try:
            rc = c.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            rc = None
        ctx.tap.eq('ctr task kill: SIGTERM reached the guest process (its trap)', b'TERM\n',
                   read_bytes(in_fs(c, 'signals')))
        ctx.tap.eq('ctr run: the container\'s status after kill (9) comes back', 9, rc, c.output())
        # ctr run has deleted the task when it returned
        r = ctr(ctx, 'container', 'delete', cid)
        ctx.tap.eq('ctr container delete', 0, r.rc, *r.diag())
        gone(ctx, cid, 'after kill and delete')
    finally:
        if c.proc.poll() is None:
            remove(ctx, cid)
            c.proc.kill()
            c.proc.wait()


def terminal_run(ctx):
    cid = f'tty-{ctx.token}'
    fs = rootfs(ctx, cid)
    argv = ['ctr', '--address', sock_path(ctx), '--namespace', NAMESPACE, 'run', '--rm', '-t', *runtime_flags(ctx, cid),
            '--rootfs', fs, cid, 'sh', '-c', size_script(31, 101, 4)]
    status, out = on_pty(ctx, argv, 31, 101, 180)
    ctx.tap.eq('ctr run -t: exit code 4 comes back', 4, status, out)
    ctx.tap.ok(re.search(rb'^/dev/pts/\d+\r?\r?$', out, re.M), 'ctr run -t: the container is on a terminal', out)
    ctx.tap.ok(re.search(rb'^size 31 101\r?\r?$', out, re.M), 'ctr run -t: the terminal gets ctr\'s size', out)
    if status is None:
        remove(ctx, cid)
    gone(ctx, cid, 'ctr run -t --rm')


# --- pods --------------------------------------------------------------------------------------


class PodCtr:
    def __init__(self, ctx, cid, annotations, netns, systemd=True):
        self.ctx = ctx
        self.cid = cid
        self.fs = rootfs(ctx, cid, POD_SCRIPT)
        self.r = ctr(ctx, *run_args(ctx, cid, self.fs, annotations, netns, systemd=systemd), '/init.sh', timeout=180)
        self.where = None
        if self.r.rc == 0:
            data = wait_file(in_fs(self, 'where'), 120)
            self.where = data.decode().splitlines() if data else None

    def ok(self, desc):
        return self.ctx.tap.ok(self.r.rc == 0 and self.where and len(self.where) == 5, desc, *self.r.diag(),
                               f'where: {self.where}')

    def pid(self):
        return task_pid(self.ctx, self.cid)[0]


def host_netns(pid):
    try:
        return os.readlink(f'/proc/{pid}/ns/net')
    except OSError:
        return None


def config_value(ctx, key):
    m = re.search(rf'^{key} = (\d+)$', read_bytes(ctx.configs['ck']).decode(), re.M)
    return int(m.group(1))


def mem_total_kib(where):
    return int(where[3].split()[1])


def pod_replay(ctx):
    netns = netns_path(ctx.add_netns('pod'))
    sid = f'sbx-{ctx.token}'
    sized = ((CRI_TYPE, 'sandbox'), (CRI_SANDBOX, sid), (CRI_CPU_PERIOD, '100000'), (CRI_CPU_QUOTA, '100000'),
             ('io.kubernetes.cri.sandbox-cpu-shares', '1024'), (CRI_MEMORY, str(256 << 20)),
             ('io.kubernetes.cri.sandbox-name', 'pod'), ('io.kubernetes.cri.sandbox-namespace', 'default'))
    sb = PodCtr(ctx, sid, sized, netns)
    ctx.tap.must(sb.ok('the sandbox container (CRI annotations) runs'), 'the sandbox container runs')
    sb_pid = sb.pid()
    pod_ns = f'net:[{os.stat(netns).st_ino}]'
    ctx.tap.eq('the sandbox\'s task pid is in the pod\'s network namespace', pod_ns, host_netns(sb_pid))
    members = [sb]
    for name in ('app', 'side'):
        cid = f'{name}-{ctx.token}'
        c = PodCtr(ctx, cid, ((CRI_TYPE, 'container'), (CRI_SANDBOX, sid),
                              ('io.kubernetes.cri.container-name', name)), f'/proc/{sb_pid}/ns/net')
        c.ok(f'container {name} of the pod runs')
        members.append(c)
    wheres = [m.where for m in members if m.where]
    ctx.tap.must(len(wheres) == 3, 'the sandbox and both containers report where they run')
    ctx.tap.eq('one VM: the same guest boot id in all three', 1, len({w[0] for w in wheres}), wheres)
    ctx.tap.eq('one network namespace in the guest for all three', 1, len({w[1] for w in wheres}), wheres)
    ctx.tap.ok(all(w[4] != host_release() for w in wheres), 'all three on the guest\'s kernel', wheres)
    ctx.tap.eq('one QEMU for the pod, none for its containers', [1, 0, 0], [len(qemus(m.cid)) for m in members])
    # docs/cgroups.md, "Pod accounting": the pod pays for its VM
    qemu = (qemus(sid) or [None])[0]
    ctx.tap.ok(qemu is not None and cgroups_of(qemu) == cgroups_of(sb_pid) and cgroups_of(qemu),
               'the pod\'s QEMU is in the sandbox\'s cgroup (its task\'s, in every hierarchy)',
               f'QEMU {qemu}: {cgroups_of(qemu) if qemu else None}', f'sandbox task {sb_pid}: {cgroups_of(sb_pid)}')
    ctx.tap.eq('on the host, the containers\' pids are in the pod\'s network namespace',
               [pod_ns] * 2, [host_netns(m.pid()) for m in members[1:]])
    # the size containerd announced: one more vCPU, 256 MiB more
    vcpus, mem = config_value(ctx, 'default_vcpus'), config_value(ctx, 'default_memory')
    ctx.tap.eq('sized from containerd\'s annotations: default_vcpus + 1 vCPU', str(min(vcpus + 1, os.cpu_count())),
               wheres[0][2])
    kib = mem_total_kib(wheres[0])
    ctx.tap.ok((mem + 256) * 1024 * 0.8 < kib <= (mem + 256) * 1024, 'sized from containerd\'s annotations: '
               f'default_memory + 256 MiB (MemTotal {kib} kB)', wheres[0])
    return sid, members


def sandbox_gone(ctx, sid, members):
    """The sandbox stops: its containers with it; a new container of the pod
    fails, naming the sandbox; the same once it is deleted."""
    r = ctr(ctx, 'task', 'kill', '--signal', 'SIGKILL', sid)
    ctx.tap.eq('ctr task kill -s SIGKILL of the sandbox', 0, r.rc, *r.diag())
    ctx.tap.ok(wait_until(lambda: not qemus(sid), 60, 0.2), 'the pod\'s QEMU goes with its sandbox')
    late = f'late-{ctx.token}'
    fs = rootfs(ctx, late)
    annotations = ((CRI_TYPE, 'container'), (CRI_SANDBOX, sid))
    r = ctr(ctx, *run_args(ctx, late, fs, annotations), 'true', timeout=180)
    want = f'container {late}: the sandbox {sid} of its pod is not running: '
    ctx.tap.eq('a container of a stopped sandbox: ctr run fails', 1, r.rc, *r.diag())
    ctx.tap.ok(want.encode() in r.err, f'... saying "{want}..."', *r.diag())
    remove(ctx, late)
    for m in members:
        remove(ctx, m.cid)
    for m in members:
        gone(ctx, m.cid, f'pod member {m.cid} deleted')
    r = ctr(ctx, *run_args(ctx, late, fs, annotations), 'true', timeout=180)
    want = f'OCI runtime create failed: container {late}: the sandbox {sid} of its pod does not exist: unknown'
    ctx.tap.eq('a container of a deleted sandbox: ctr run fails', 1, r.rc, *r.diag())
    ctx.tap.ok(want.encode() in r.err, f'... saying "{want}"', *r.diag())
    remove(ctx, late)
    gone(ctx, late, 'the refused container')


def pod(ctx):
    sid, members = pod_replay(ctx)
    sandbox_gone(ctx, sid, members)


def trusted_pod(ctx):
    sid = f'trust-{ctx.token}'
    sb = PodCtr(ctx, sid, ((CRI_TYPE, 'sandbox'), (CRI_SANDBOX, sid), (TRUSTED_SANDBOX, 'true')), None, systemd=False)
    sb.ok('a trusted pod\'s sandbox runs')
    cid = f'tapp-{ctx.token}'
    c = PodCtr(ctx, cid, ((CRI_TYPE, 'container'), (CRI_SANDBOX, sid), (TRUSTED_SANDBOX, 'true')),
               f'/proc/{sb.pid()}/ns/net' if sb.pid() else None, systemd=False)
    c.ok('its container (carrying the pod\'s annotation, as containerd copies it) runs')
    for who, m in (('sandbox', sb), ('container', c)):
        ctx.tap.eq(f'trusted pod: the {who} runs on the host\'s kernel (runc)', host_release(),
                   m.where[4] if m.where else None)
        ctx.tap.eq(f'trusted pod: no QEMU for the {who}', [], qemus(m.cid))
    r = run_cmd([ctx.env.vmctl, '--root', os.path.join(vmctl_root(ctx), NAMESPACE), 'state', sid])
    st = r.json() or {}
    ctx.tap.eq('vmctl state: the decision', 'trusted: annotation io.kubernetes.cri-o.TrustedSandbox="true"',
               st.get('annotations', {}).get('io.conmon-kata.trust'), *r.diag())
    for m in (c, sb):
        remove(ctx, m.cid)
    for m in (c, sb):
        gone(ctx, m.cid, f'trusted {m.cid} deleted')


def annotated_pod(ctx):
    sid = f'anno-{ctx.token}'
    mem = config_value(ctx, 'default_memory') + 256
    sb = PodCtr(ctx, sid, ((CRI_TYPE, 'sandbox'), (CRI_SANDBOX, sid), (A_MEMORY, str(mem))), None)
    sb.ok(f'a pod with {A_MEMORY}={mem} runs')
    if sb.where:
        kib = mem_total_kib(sb.where)
        ctx.tap.ok(mem * 1024 * 0.8 < kib <= mem * 1024, f'its VM has {mem} MiB (MemTotal {kib} kB)', sb.where)
    members = [sb]
    cid = f'copy-{ctx.token}'
    c = PodCtr(ctx, cid, ((CRI_TYPE, 'container'), (CRI_SANDBOX, sid), (A_MEMORY, str(mem))), None)
    c.ok('a container carrying the pod\'s copy of the annotation runs')
    members.append(c)
    ctx.tap.eq('... in the pod\'s VM', sb.where[0] if sb.where else None, c.where[0] if c.where else 'none')
    cid = f'own-{ctx.token}'
    fs = rootfs(ctx, cid)
    r = ctr(ctx, *run_args(ctx, cid, fs, ((CRI_TYPE, 'container'), (CRI_SANDBOX, sid), (A_MEMORY, '1024'))), 'true')
    want = (f'OCI runtime create failed: container {cid}: annotation {A_MEMORY}: only the pod\'s sandbox can '
            'configure the VM: unknown')
    ctx.tap.eq('a container with a value of its own: ctr run fails', 1, r.rc, *r.diag())
    ctx.tap.ok(want.encode() in r.err, f'... saying "{want}"', *r.diag())
    remove(ctx, cid)
    for m in reversed(members):
        remove(ctx, m.cid)
    for m in members:
        gone(ctx, m.cid, f'{m.cid} deleted')


# --- the end -------------------------------------------------------------------------------------


def the_end(ctx, daemon):
    daemon.stop()
    ctx.systemd.stop()
    ctx.tap.ok(True, 'containerd and the private bus stopped')
    nothing_left(ctx, 'nothing mentioning the test\'s directories is left running', [ctx.root, ctx.tmp, ctx.token], 30)
    mounts = unmount_under(ctx.root) + unmount_under(ctx.tmp)
    ctx.tap.eq('nothing left mounted under the test\'s directories', [], mounts)
    ctx.tap.eq('no container cgroup left under the test\'s slice', [], cgroup_scopes(ctx))
    if daemon.shim_sockets_ours:
        ctx.tap.eq(f'no shim socket left in {SHIM_SOCKETS}', [], os.listdir(SHIM_SOCKETS)
                   if os.path.isdir(SHIM_SOCKETS) else [])


def cgroup_slices(ctx):
    return [d for name in (slice_name(ctx), cgroup_dir(ctx)) for d in glob.glob(f'/sys/fs/cgroup/{name}') +
            glob.glob(f'/sys/fs/cgroup/*/{name}')]


def cgroup_scopes(ctx):
    return [os.path.join(d, e) for d in cgroup_slices(ctx) for e in os.listdir(d)
            if os.path.isdir(os.path.join(d, e))]


def cleanup(ctx, daemon):
    """Whatever an early failure left: the tasks, containerd, the bus,
    then the rest (the namespaces and directories: the context's)."""
    if daemon.running():
        r = ctr(ctx, 'container', 'ls', '-q', timeout=30)
        for cid in r.out.decode().split():
            remove(ctx, cid)
    daemon.stop()
    if ctx.systemd is not None:
        ctx.systemd.stop()
    mentions = (ctx.root, ctx.tmp, ctx.token)
    for p, _, _ in [p for t in mentions for p in procs_mentioning(t)]:
        signal_quietly(p, signal.SIGKILL)
    wait_until(lambda: not any(procs_mentioning(t) for t in mentions), 10, 0.1)
    ctx.reaper.reap_all()
    unmount_under(ctx.root)
    unmount_under(ctx.tmp)
    # the scopes are vmctl's to remove (checked in the_end); the slice is
    # the test's: the first container's create made it, and with several
    # containers in it no one container's delete can take it away
    for d in cgroup_scopes(ctx) + cgroup_slices(ctx):
        try:
            os.rmdir(d)
        except OSError:
            pass
    if daemon.shim_sockets_ours:
        for d in (SHIM_SOCKETS, os.path.dirname(SHIM_SOCKETS)):
            try:
                os.rmdir(d)  # only when empty
            except OSError:
                pass


def main():
    def body(ctx):
        ctx.tap.must(shutil.which('containerd') and shutil.which('ctr'),
                     'containerd and ctr are installed (Debian\'s containerd, contrib/install-deps.sh)')
        daemon = Containerd()
        ctx.on_stop(lambda: cleanup(ctx, daemon))
        write_configs(ctx)
        ctx.systemd = PrivateSystemd(ctx.path('dbus'), ctx.env.systemd_peer)
        ctx.systemd.start(ctx.tap)
        daemon.start(ctx)
        ctx.tap.item('the drop-in', dropin_checks, ctx)
        ctx.tap.item('ctr run: exit code', run_exit_code, ctx)
        ctx.tap.item('a running container: exec, detached exec, kill', running_container, ctx)
        ctx.tap.item('ctr run -t', terminal_run, ctx)
        ctx.tap.item('a pod with containerd\'s CRI annotations', pod, ctx)
        ctx.tap.item('a trusted pod', trusted_pod, ctx)
        ctx.tap.item('a pod sized by annotation', annotated_pod, ctx)
        ctx.tap.item('the end', the_end, ctx, daemon)
    return run_suite('containerd-e2e', body)


if __name__ == '__main__':
    sys.exit(main())
