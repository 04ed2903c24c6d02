"""Playing CRI-O 1.26 towards conmon-kata and vmctl: the run's CRI-O
state (exit dir, socket dir, temp files, one inotify queue), pods and
containers whose bundles are built from CRI-O's own config.json samples
(tests/data/crio-1.26), conmon-kata's command lines as CRI-O builds them
(conmon-cmdlines.txt), and the checks every driver makes on what comes
back (sync pipe, pidfiles, state, exit files), for VM pods and trusted
pods (runc on the host kernel) alike. A number in a check's description
is an item of docs/conmon-interface.md's conformance checks, a name one
of its headings.

Everything here reaches the run's Context through the object it is given
(Pod(ctx, ...), a container's pod, a Monitor's ctx) or an explicit ctx.
"""
import copy
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time

from .context import RUNTIME_PATH, Env, run_suite, skip_all
from .devlog import Syslog
from .files import IN_MOVED_TO, Inotify, file_type, unmount_under
from .oci import RFC3339, RUNC_STATE_KEYS
from .procs import (Result, cgroup_procs, children_of, cmdline, ns_pids, pid_alive, proc_stat, procs_mentioning,
                    run_fg, signal_quietly, spawn)
from .streams import recv_line, recv_to_eof
from .util import json_compact, now, read_bytes, short, wait_until
from .vm import host_kernel, pod_dir, qemu_processes

SAMPLE_SANDBOX_ID = 'd54772d694169b081263b0301e9134eb2f5a3123836a136c57b4e6ae6fae8ee9'
SAMPLE_CONTAINER_ID = '78a007265e711f8656c0a960c45bf7e5beb05711636ccbcfa9ef7a3d94c26fc4'
SAMPLE_NS_NAME = 'ab634329-117d-4ff2-b85f-ed6bd51073b3'
SAMPLE_NETNS = f'/var/run/netns/{SAMPLE_NS_NAME}'

# CRI-O's trust annotation (docs/configuration.md, [runtime]) and the decision
# vmctl records in the state's annotations (vmctl/lib/workload.h)
TRUSTED_SANDBOX = 'io.kubernetes.cri-o.TrustedSandbox'
TRUST_DECISION = 'io.conmon-kata.trust'

# what the pause image does: exit 0 on SIGTERM/SIGINT, after saying so
PAUSE_SCRIPT = '''#!/bin/sh
trap 'echo "Shutting down, got signal: Terminated" >&2; exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
'''

SAMPLE_NAMES = ('sandbox-config.json', 'container-config.json')


def samples_dir(env):
    """tests/data/crio-1.26 ($CK_CRIO_SAMPLES, set by meson), or None
    when a capture is missing."""
    d = env.samples
    if d and all(os.path.exists(os.path.join(d, n)) for n in SAMPLE_NAMES):
        return d
    return None


CAP_SYS_RESOURCE = 24


def oom_score_adj_floor():
    """The lowest oom_score_adj runc can give a container here: anything
    without CAP_SYS_RESOURCE (these test machines drop it), only what we
    have or more."""
    for line in (read_bytes('/proc/self/status') or b'').splitlines():
        if line.startswith(b'CapEff:') and int(line.split()[1], 16) & (1 << CAP_SYS_RESOURCE):
            return None
    return int(read_bytes('/proc/self/oom_score_adj') or b'0')


class Crio:
    """What CRI-O keeps for the run (ctx.crio): its directories under the
    context's scratch (its temp files are ctx.tmpfile()'s), the inotify
    queue on the exit dir, the persist dirs and the bundles, the pods,
    containers and monitors made (for the cleanup), the samples, the host
    cgroup parents the containers use."""

    def __init__(self, ctx, samples):
        self.exits = ctx.mk('exits')  # container_exits_dir
        self.sockdir = ctx.mk('crio')  # container_attach_socket_dir
        self.crio_cwd = ctx.mk('lib-crio')  # CRI-O's own cwd (/var/lib/crio)
        self.ino = Inotify()
        self.ino.watch(self.exits)
        self.ctrs = []
        self.pods = []
        self.monitors = []
        self.cgroup_parents = {}
        self.samples = {}
        for kind in ('sandbox', 'container'):
            with open(os.path.join(samples, f'{kind}-config.json')) as f:
                self.samples[kind] = f.read()


def open_world(ctx, syslog=True):
    """CRI-O's part of the context: ctx.crio, the runtime called from
    CRI-O's cwd, /dev/log held for the run (ctx.syslog; not with syslog
    False: a benchmark that binds its own), and the cleanup that stops
    every container and checks that nothing was left behind."""
    ctx.crio = Crio(ctx, samples_dir(ctx.env))
    ctx.cwd = ctx.crio.crio_cwd
    ctx.defer(lambda: release_pods(ctx))
    ctx.on_stop(lambda: teardown(ctx))
    if syslog:
        ctx.syslog = Syslog()
        ctx.syslog.open()
        ctx.on_stop(ctx.syslog.close)


def run_crio_suite(body, prefix='ckcr'):
    """The main of a driver that plays CRI-O: a TAP skip without root, the
    binaries or the CRI-O samples; else run_suite() with ctx.crio open."""
    env = Env(os.environ)
    missing = env.missing('build', 'config', 'rootfs')
    if missing:
        return skip_all(f'run through meson test ({", ".join(missing)} not set)')
    samples = samples_dir(env)
    if os.geteuid() != 0 or samples is None or not os.access(env.vmctl, os.X_OK) or \
            not os.access(env.conmon, os.X_OK):
        return skip_all(f'needs root, the binaries and the CRI-O samples (samples: {samples})')
    return run_suite(prefix, body, needs=('build', 'config', 'rootfs'), open_world=open_world)


# --- conmon-kata invocations ------------------------------------------------------------


class Monitor:
    """One conmon-kata run: P0 with the sync/start (and attach) socketpairs."""

    def __init__(self, ctx, argv, cwd, seqpacket=False, attach_pipe=False):
        self.ctx = ctx
        kind = socket.SOCK_SEQPACKET if seqpacket else socket.SOCK_STREAM
        self.argv = argv
        self.sync, sync_c = socket.socketpair(socket.AF_UNIX, kind)
        self.start, start_c = socket.socketpair(socket.AF_UNIX, kind)
        ends = [sync_c, start_c]
        env = {'PATH': RUNTIME_PATH, '_OCI_SYNCPIPE': '3', '_OCI_STARTPIPE': '4', **ctx.extra_env}
        self.attach = None
        if attach_pipe:
            self.attach, att_c = socket.socketpair(socket.AF_UNIX, kind)
            ends.append(att_c)
            env['_OCI_ATTACHPIPE'] = '5'
        self.stderr_path = ctx.tmpfile('conmon-stderr-', b'')
        self.p0 = spawn(argv, cwd, env, [s.fileno() for s in ends], self.stderr_path)
        for s in ends:
            s.close()
        self.t0 = now()
        self.p0_rc = None
        self.p0_secs = None
        ctx.crio.monitors.append(self)

    def write_start(self):
        self.start.send(b'\0')

    def p0_alive(self):
        return self.ctx.reaper.poll(self.p0) is None and pid_alive(self.p0)

    def wait_p0(self, timeout):
        rc = self.ctx.reaper.wait(self.p0, timeout)
        if rc is not None and self.p0_rc is None:
            self.p0_rc = rc
            self.p0_secs = now() - self.t0
        return rc

    def stderr(self):
        return read_bytes(self.stderr_path) or b''

    def diag(self):
        return [f"argv: {' '.join(self.argv)}", f'conmon-kata stderr: {short(self.stderr())}']


# --- pods and containers ------------------------------------------------------------------


class Pod:
    """A pod as CRI-O sets it up: its network namespace (ip netns) and its
    pinned ipc and uts namespaces, as CRI-O's pinns makes them (runc joins
    them; a VM pod's sandbox must name real namespaces of those types,
    which the guest's own then replace). `annotations` go on the sandbox's
    spec, `config` is the configuration its runtime calls use."""

    def __init__(self, ctx, name, uid, sandbox_label='sandbox', trusted=False, annotations=None, config=None,
                 netns_prefix='ckcr'):
        self.ctx = ctx
        self.name, self.uid, self.sandbox_label = name, uid, sandbox_label
        self.trusted = trusted
        self.annotations = dict(annotations or {})
        self.config = config or ctx.env.config
        self.netns = f'{netns_prefix}-{secrets.token_hex(4)}'
        r = subprocess.run(['ip', 'netns', 'add', self.netns], capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f'ip netns add {self.netns}: {r.stderr!r}')
        ctx.crio.pods.append(self)
        self.netns_path = f'/var/run/netns/{self.netns}'
        self.pinned = {}
        self.pin_namespaces()
        self.logdir = ctx.mk('log', 'pods', name)
        self.sandbox = Ctr(self, 'POD', sandbox=True)

    def pin_namespaces(self):
        d = self.ctx.mk('ns', self.netns)
        for kind in ('ipc', 'uts'):
            path = os.path.join(d, kind)
            open(path, 'w').close()
            self.pinned[kind] = path
        r = subprocess.run(['unshare', f'--ipc={self.pinned["ipc"]}', f'--uts={self.pinned["uts"]}', 'true'],
                           capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f'unshare (pin ipc, uts): {r.stderr!r}')

    def release(self):
        for path in self.pinned.values():
            subprocess.run(['umount', '-l', path], capture_output=True)
        subprocess.run(['ip', 'netns', 'del', self.netns], capture_output=True)

    def vmctl(self, *args, **kw):
        return self.ctx.vmctl(*args, config=self.config, **kw)


class Ctr:
    def __init__(self, pod, short_name, sandbox=False):
        ctx = self.ctx = pod.ctx
        self.pod, self.short, self.is_sandbox = pod, short_name, sandbox
        self.id = secrets.token_hex(32)
        self.bundle = ctx.mk('run', 'overlay-containers', self.id, 'userdata')
        self.persist = ctx.mk('lib', 'overlay-containers', self.id, 'userdata')
        if sandbox:
            self.name = f'k8s_POD_{pod.name}_default_{pod.uid}_1'
            self.log = os.path.join(pod.logdir, f'{self.id}.log')
        else:
            self.name = f'k8s_{short_name}_{pod.name}_default_{pod.uid}_0'
            self.log = os.path.join(pod.logdir, f'{short_name}.log')
        self.pidfile = os.path.join(self.bundle, 'pidfile')
        self.conmon_pidfile = os.path.join(self.bundle, 'conmon-pidfile')
        self.exit_file = os.path.join(ctx.crio.exits, self.id)
        self.mon = None
        self.p1 = None
        self.pid = None
        self.spec = None
        self.deleted = False
        ctx.crio.ctrs.append(self)

    def label(self):
        return self.pod.sandbox_label if self.is_sandbox else self.short

    def sample_text(self):
        ctx = self.ctx
        kind = 'sandbox' if self.is_sandbox else 'container'
        text = ctx.crio.samples[kind].replace(SAMPLE_SANDBOX_ID, self.pod.sandbox.id)
        if not self.is_sandbox:
            text = text.replace(SAMPLE_CONTAINER_ID, self.id)
        text = text.replace(SAMPLE_NETNS, self.pod.netns_path)
        for kind, path in self.pod.pinned.items():
            text = text.replace(f'/var/run/{kind}ns/{SAMPLE_NS_NAME}', path)
        text = text.replace('/run/containers/storage/overlay-containers/', ctx.tmp + '/run/overlay-containers/')
        return text.replace('/var/lib/containers/storage/overlay-containers/', ctx.tmp + '/lib/overlay-containers/')

    def prepare(self, args=None, terminal=False, stdin=False, stdin_once=False, memory=None, annotations=None,
                edit=None):
        """The bundle: CRI-O's sample config.json with our paths, the rootfs.
        `annotations` are added (a None value removes one); `edit(spec)`
        changes anything else."""
        ctx = self.ctx
        spec = json.loads(self.sample_text())
        rootfs = os.path.join(self.bundle, 'rootfs')
        spec['root']['path'] = rootfs
        ann = spec['annotations']
        ann['io.kubernetes.cri-o.MountPoint'] = rootfs
        ann['io.kubernetes.cri-o.LogPath'] = self.log
        if self.is_sandbox:
            ann['io.kubernetes.cri-o.ContainerName'] = self.name
            # the files CRI-O makes for the pod, which the samples bind-mount
            os.makedirs(os.path.join(self.bundle, 'shm'), exist_ok=True)
            with open(os.path.join(self.bundle, 'hostname'), 'w') as f:
                f.write(spec['hostname'] + '\n')
            open(os.path.join(self.persist, '.containerenv'), 'w').close()
        else:
            ann['io.kubernetes.cri-o.Name'] = self.name
            ann['io.kubernetes.cri-o.Metadata'] = json.dumps({'name': self.short})
            ann['io.kubernetes.cri-o.Stdin'] = str(stdin).lower()
            ann['io.kubernetes.cri-o.StdinOnce'] = str(stdin_once).lower()
            ann['io.kubernetes.cri-o.TTY'] = str(terminal).lower()
        extra = dict(self.pod.annotations) if self.is_sandbox else {}
        extra.update(annotations or {})
        for k, v in extra.items():
            if v is None:
                ann.pop(k, None)
            else:
                ann[k] = v
        if args is not None:
            spec['process']['args'] = args
        if terminal:
            spec['process']['terminal'] = True
        if memory is not None:
            spec['linux']['resources']['memory'] = {'limit': memory, 'swap': memory}
        floor = oom_score_adj_floor() if self.pod.trusted else None
        if floor is not None and spec['process'].get('oomScoreAdj', floor) < floor:
            # the sandbox sample's -998 (CRI-O's for the infra container)
            # is refused by the kernel without CAP_SYS_RESOURCE; the guest
            # agent of a VM pod has it
            spec['process']['oomScoreAdj'] = floor
        if edit is not None:
            edit(spec)
        r = subprocess.run(['cp', '-a', ctx.env.rootfs, rootfs], capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f'cp -a {ctx.env.rootfs} {rootfs}: {r.stderr!r}')
        if self.is_sandbox:
            with open(os.path.join(rootfs, 'pause'), 'w') as f:
                f.write(PAUSE_SCRIPT)
            os.chmod(os.path.join(rootfs, 'pause'), 0o755)
        with open(os.path.join(self.bundle, 'config.json'), 'w') as f:
            json.dump(spec, f, indent='\t')
        self.spec = spec
        ctx.crio.ino.watch(self.bundle)
        ctx.crio.ino.watch(self.persist)
        for ctrl in ('memory', 'cpu', 'pids', 'devices', 'freezer', 'blkio', 'cpuset', 'cpuacct', 'systemd',
                     'unified'):
            parent = f'/sys/fs/cgroup/{ctrl}/kubepods'
            ctx.crio.cgroup_parents.setdefault(parent, os.path.isdir(parent))
        return self

    def process(self, args, terminal=False):
        """The exec process spec CRI-O writes: the container's, other args."""
        proc = copy.deepcopy(self.spec['process'])
        proc['args'] = args
        proc['terminal'] = terminal
        return proc

    def vmctl(self, *args, **kw):
        return self.pod.vmctl(*args, **kw)


def conmon_create_argv(conmon, runtime, runtime_args, c, exit_dir, socket_dir, api=False, log_size_max=None,
                       extra=(), tail=(), wrapper=()):
    """CRI-O 1.26's create command line (conmon-cmdlines.txt sections 1
    and 4) for container c (its bundle, id, log, name, conmon_pidfile,
    pidfile, persist): runtime is the runtime_path, each of runtime_args a
    --runtime-arg; wrapper: a command conmon runs under (valgrind)."""
    argv = [*wrapper, conmon]
    if api:
        argv += ['--api-version', '1']
    argv += ['-b', c.bundle, '-c', c.id, '--exit-dir', exit_dir, '-l', c.log, '--log-level', 'debug', '-n', c.name,
             '-P', c.conmon_pidfile, '-p', c.pidfile, '--persist-dir', c.persist, '-r', runtime]
    for arg in runtime_args:
        argv += ['--runtime-arg', arg]
    argv += ['--socket-dir-path', socket_dir, '--syslog', '-u', c.id]
    if log_size_max is not None:
        argv += ['--log-size-max', str(log_size_max)]
    return argv + list(extra) + list(tail)


def conmon_exec_argv(conmon, runtime, runtime_args, cid, name, pidfile, log, socket_dir, spec, timeout_s=0,
                     terminal=False):
    """CRI-O 1.26's ExecSync command line (conmon-cmdlines.txt section 3,
    -T as CRI-O adds it for a timeout, -t for a terminal)."""
    argv = [conmon, '-c', cid, '-n', name, '-r', runtime, '-p', pidfile, '-e', '-l', log, '--socket-dir-path',
            socket_dir, '--log-level', 'debug', '--sync', '--log-global-size-max', '16777216']
    if timeout_s:
        argv += ['-T', str(timeout_s)]
    if terminal:
        argv += ['-t']
    argv += ['--exec-process-spec', spec]
    for arg in runtime_args:
        argv += ['--runtime-arg', arg]
    return argv


def runtime_args(c):
    """The --runtime-arg values CRI-O's runtime handler gives vmctl: the
    run's root and the pod's configuration."""
    return [f'--root={c.ctx.root}', f'--config={c.pod.config}']


def create_argv(c, tail=(), api=False, log_size_max=None, extra=(), runtime=None, wrapper=()):
    """conmon_create_argv() for c in its run: this build's conmon-kata,
    runtime the runtime_path (vmctl's by default); wrapper: a command
    conmon-kata runs under (valgrind, monitor_valgrind.py)."""
    ctx = c.ctx
    return conmon_create_argv(ctx.env.conmon, runtime or ctx.env.vmctl, runtime_args(c), c, ctx.crio.exits,
                              ctx.crio.sockdir, api, log_size_max, extra, tail, wrapper)


def pod_qemu(c):
    """The QEMU processes of c's pod: (pid, comm, cmdline)."""
    return qemu_processes(pod_dir(c.ctx, c.pod.sandbox.id))


def crio_create(c, tail=(), api=False, log_size_max=None, extra=(), full=False, runtime=None, before_start=None,
                wrapper=()):
    """RunPodSandbox/CreateContainer: conmon-kata, start byte, P0, sync pipe.
    full: check items 13 and 14 on the way. before_start(mon): what CRI-O
    does before the start byte (MoveConmonToCgroup). Returns the sync bytes."""
    ctx = c.ctx
    L = c.label()
    mon = Monitor(ctx, create_argv(c, tail, api, log_size_max, extra, runtime, wrapper), cwd=c.bundle)
    c.mon = mon
    if before_start is not None:
        before_start(mon)
    if full:
        time.sleep(0.4)
        alive = mon.p0_alive()
        kids = children_of(mon.p0)
        # the sandbox's monitor boots the VM: not before the byte
        qemu = pod_qemu(c) if c.is_sandbox else []
        ctx.tap.ok(alive and not kids and not qemu, f'{L}: before the start byte P0 is alive and has forked nothing'
                   f'{", no QEMU" if c.is_sandbox else ""} (13)', f'P0 alive: {alive}', f'children: {kids}',
                   f'qemu: {qemu}', *mon.diag())
    mon.write_start()
    rc = mon.wait_p0(30)
    ctx.tap.must(rc == 0, f'{L}: P0 exits 0 after the start byte (13)', f'exit status: {rc}', *mon.diag())
    text = read_bytes(c.conmon_pidfile)
    p1 = int(text) if text and re.fullmatch(rb'[1-9][0-9]*', text) else None
    if full:
        ctx.tap.ok(p1 is not None and proc_stat(p1) is not None,
                   f'{L}: -P holds P1\'s pid, no newline, and /proc/P1/stat exists (13)',
                   f'-P content: {text!r}', f'/proc/P1/stat: {proc_stat(p1) if p1 else None}')
    c.p1 = p1
    sync = recv_line(mon.sync, 150)
    return sync


def ns_cgroup(c):
    """(net namespace, whether a cgroup line names crio-<id>, the cgroup
    file) of c's pid: the stand-in, or a trusted container's process."""
    try:
        ns = os.readlink(f'/proc/{c.pid}/ns/net')
    except OSError as e:
        ns = f'readlink: {e}'
    cg = read_bytes(f'/proc/{c.pid}/cgroup') or b''
    return ns, any(line.endswith(f'/crio-{c.id}'.encode()) for line in cg.splitlines()), cg


def pid_identity(c, pid):
    """None when pid is what the container's pid must be, else why not: the
    stand-in (comm ck-standin) for a VM container; for a trusted one, runc's
    container process, pid 1 of its own pid namespace (the samples give
    each container one)."""
    st = proc_stat(pid)
    if c.pod.trusted:
        nspid = ns_pids(pid)
        if len(nspid) < 2 or nspid[-1] != 1:
            return f'pid {pid} ({st}) is not a container\'s init: NSpid {nspid}'
        return None
    if (st or {}).get('comm') != 'ck-standin':
        return f'pid {pid} is {st}, not the stand-in'
    return None


def expect_pid_sync(c, sync, key='pid', full=False):
    """Item 14's first half: exactly {"<key>": N}\\n with N a live stand-in
    (a VM pod) or the container's own process (a trusted pod)."""
    ctx = c.ctx
    L = c.label()
    m = re.fullmatch(rb'\{"' + key.encode() + rb'": ([1-9][0-9]*)\}\n', sync)
    ctx.tap.must(m, f'{L}: the sync pipe yields exactly {{"{key}": N}}\\n (14)', f'sync bytes: {sync!r}',
                 *c.mon.diag())
    c.pid = int(m.group(1))
    # what CRI-O and Podman read right after the sync message (what-callers-do-with-the-messages, the-container-pid)
    st = proc_stat(c.pid)
    ns, in_cg, cg = ns_cgroup(c)
    ctx.tap.ok(st is not None and st['state'] not in 'ZX',
               f'{L}: /proc/N/stat exists right away, not a zombie (14, SetInitPid)', f'/proc/{c.pid}/stat: {st}')
    if not full:
        return c.pid
    pod_ns = f'net:[{os.stat(c.pod.netns_path).st_ino}]'
    what = 'runc\'s container process, pid 1 of its own pid namespace' if c.pod.trusted else \
        'the stand-in: comm ck-standin'
    why = pid_identity(c, c.pid)
    ctx.tap.ok(st is not None and why is None and ns == pod_ns and in_cg,
               f'{L}: when N is reported it is already {what}, in the pod\'s network namespace and the container\'s '
               f'host cgroup (the-container-pid)', why, f'/proc/{c.pid}/stat: {st}',
               f'/proc/{c.pid}/ns/net: {ns}', f'pod netns {c.pod.netns_path}: {pod_ns}',
               f'host netns: {os.readlink("/proc/self/ns/net")}', f'/proc/{c.pid}/cgroup: {cg!r}')
    # and once it is set up, it stays there
    ok = wait_until(lambda: ns_cgroup(c)[0] == pod_ns and ns_cgroup(c)[1], 5)
    ns, in_cg, cg = ns_cgroup(c)
    ctx.tap.ok(ok, f'{L}: the {"container" if c.pod.trusted else "stand-in"} lives in the pod\'s network namespace '
               f'and the container\'s host cgroup (cgroupsPath) (the-container-pid)',
               f'/proc/{c.pid}/ns/net: {ns} (pod: {pod_ns})',
               f'/proc/{c.pid}/cgroup: {cg!r}')
    paths = dict(ln.split(':', 2)[1:] for ln in cg.decode(errors='replace').splitlines() if ln.count(':') >= 2)
    if 'cpuset' in paths and 'memory' in paths:
        # cgroup v1: nothing joins a new cpuset group before its cpus and mems are set (issue 17)
        ctx.tap.eq(f'{L}: the {"container" if c.pod.trusted else "stand-in"} is in the container\'s cpuset cgroup too '
                   f'(cgroup v1), as in its memory cgroup', paths['memory'], paths['cpuset'],
                   f'/proc/{c.pid}/cgroup: {cg!r}')
    if c.pod.trusted:
        # the runtime has exited: its container process is the monitor's
        # (the subreaper's), as under conmon
        st = proc_stat(c.pid)
        ctx.tap.ok(st is not None and st['ppid'] == c.p1,
                   f'{L}: the container process is a child of its conmon-kata (P1, the subreaper) (published-pids)',
                   f'/proc/{c.pid}/stat: {st}', f'P1: {c.p1}')
    return c.pid


def check_files_after_create(c):
    """Item 14's second half: pidfile, symlink, attach socket, FIFOs."""
    ctx = c.ctx
    L = c.label()
    text = read_bytes(c.pidfile)
    ctx.tap.eq(f'{L}: the -p file contains N (14)', str(c.pid).encode(), text)
    link = os.path.join(ctx.crio.sockdir, c.id)
    target = os.readlink(link) if os.path.islink(link) else None
    ctx.tap.eq(f'{L}: <socket-dir>/<id> is a symlink to the bundle (14)', c.bundle, target,
               f'lstat: {file_type(link)}')
    kind, mode = file_type(os.path.join(c.bundle, 'attach'))
    ctx.tap.eq(f'{L}: <bundle>/attach is a socket with mode 0700 (14)', ('socket', '0o700'),
               (kind, oct(mode) if mode is not None else None))
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(5)
        s.connect(os.path.join(link, 'attach'))
        s.close()
        err = None
    except OSError as e:
        err = e
    ctx.tap.ok(err is None, f'{L}: <socket-dir>/<id>/attach accepts a SEQPACKET connection (14)', f'connect: {err}')
    for fifo in ('ctl', 'winsz'):
        kind, mode = file_type(os.path.join(c.bundle, fifo))
        ctx.tap.eq(f'{L}: <bundle>/{fifo} is a FIFO (14)', 'fifo', kind)


def check_state(c, desc, status, pid=None):
    """`state <id>`: runc's shape, no other keys, the expected status and
    pid; returns the state."""
    ctx = c.ctx
    r = c.vmctl('state', c.id)
    problems = []
    js = None
    if r.rc != 0:
        problems.append(f'exit status {r.rc}')
    try:
        js = json.loads(r.out)
    except ValueError as e:
        problems.append(f'not JSON: {e}')
    if isinstance(js, dict):
        extra = set(js) - RUNC_STATE_KEYS
        if extra:
            problems.append(f'keys runc does not have: {sorted(extra)}')
        if not isinstance(js.get('ociVersion'), str) or not js.get('ociVersion'):
            problems.append(f"ociVersion: {js.get('ociVersion')!r}")
        if js.get('id') != c.id:
            problems.append(f"id: {js.get('id')!r}")
        if js.get('status') != status:
            problems.append(f"status: {js.get('status')!r}, expected {status!r}")
        jpid = js.get('pid')
        if status == 'stopped':
            if jpid != 0:
                problems.append(f'pid: {jpid!r}, expected 0 once stopped')
        else:
            if pid is not None and jpid != pid:
                problems.append(f'pid: {jpid!r}, expected {pid}')
            if not isinstance(jpid, int) or jpid <= 0 or not pid_alive(jpid):
                problems.append(f'pid {jpid!r} is not a live process')
            elif pid_identity(c, jpid) is not None:
                problems.append(pid_identity(c, jpid))
        if js.get('bundle') != c.bundle:
            problems.append(f"bundle: {js.get('bundle')!r}, expected {c.bundle!r}")
        if 'created' in js and not (isinstance(js['created'], str) and RFC3339.match(js['created'])):
            problems.append(f"created is not RFC 3339: {js['created']!r}")
    elif js is not None:
        problems.append('not a JSON object')
    ctx.tap.ok(not problems, desc, *problems, *r.diag())
    return js if isinstance(js, dict) else {}


def state_status(c):
    try:
        return json.loads(c.vmctl('state', c.id).out).get('status')
    except (ValueError, AttributeError):
        return None


def start(c, desc=None):
    ctx = c.ctx
    r = c.vmctl('start', c.id)
    ctx.tap.must(r.rc == 0, desc or f'{c.label()}: `start` exits 0', *r.diag())
    return r


def create_started(c, tail=(), **kw):
    """create + start without the detailed checks; returns the pid."""
    sync = crio_create(c, tail, **kw)
    expect_pid_sync(c, sync)
    start(c)
    return c.pid


def wait_log(c, needle, timeout=30, path=None):
    path = path or c.log
    return wait_until(lambda: needle in (read_bytes(path) or b''), timeout, 0.05)


def no_exit_diagnostics(c):
    """What an exit that never came leaves to read: the container's and
    its pod's monitor log lines, the stand-in's state, the last lines of
    its log, the tail of its pod's console."""
    ctx = c.ctx
    out = []
    if ctx.syslog.available:
        ids = {c.id[:20], c.pod.sandbox.id[:20]}
        out += [f'log: {m}' for m in ctx.syslog.lines() if any(i in m for i in ids)][-12:]
    out.append(f'stand-in {c.pid}: {proc_stat(c.pid) if c.pid else None}')
    out.append(f'its log ends: {short((read_bytes(c.log) or b"")[-400:], 400)}')
    console = os.path.join(pod_dir(ctx, c.pod.sandbox.id), 'console.log')
    out.append(f'console ends: {short((read_bytes(console) or b"")[-600:], 600)}')
    return out


def await_exit(c, code, timeout=60, full=False, oom=False, p1_status=True):
    """CRI-O's exit handling: inotify Create of exits/<id>, then state,
    then <persist>/exit. Checks item 15's exit-side promises (full) or the
    exit code, the file order and P1's status."""
    ctx = c.ctx
    L = c.label()
    # Orphans come to us, the subreaper, as they would come to init under
    # CRI-O: a process an ExecSync timeout killed and left unreaped (timeout)
    # holds up the exit of its pid namespace's init (a trusted container)
    # until somebody reaps it. No subprocess is pending here, so reaping
    # everything cannot take a status subprocess waits for.
    ev = ctx.crio.ino.wait(ctx.crio.exits, c.id, timeout, idle=ctx.reaper.reap_all)
    # what CRI-O does at once on the event
    alive_now = pid_alive(c.pid) if c.pid else None
    ctx.tap.must(ev is not None, f'{L}: <exit-dir>/<id> appears', f'waited {timeout} s',
                 f'events: {ctx.crio.ino.about(ctx.crio.exits, c.persist, c.bundle)[-12:]}',
                 *([] if ev is not None else no_exit_diagnostics(c)))
    if full:
        ctx.tap.ok(alive_now is False, f'{L}: when the exit-dir file appears, kill(N, 0) fails with ESRCH (15)',
                   f'process {c.pid}: {proc_stat(c.pid)}')
        check_state(c, f'{L}: when the exit-dir file appears, state says stopped with pid 0 '
                    '(15, how-cri-o-notices-an-exit)', 'stopped')
    code_b = str(code).encode()
    ctx.crio.ino.pump(0.2)
    ctx.tap.eq(f'{L}: <persist>/exit holds {code} without newline', code_b,
               read_bytes(os.path.join(c.persist, 'exit')))
    ctx.tap.eq(f'{L}: <exit-dir>/<id> holds {code} without newline', code_b, read_bytes(c.exit_file))
    pe = ctx.crio.ino.first(c.persist, 'exit')
    ctx.tap.ok(pe is not None and pe.seq < ev.seq,
               f'{L}: <persist>/exit appears before <exit-dir>/<id> (exit-sequence)',
               f'persist event: {pe}', f'exit-dir event: {ev}')
    if full or oom:
        ctx.tap.ok(ev.mask & IN_MOVED_TO and pe is not None and pe.mask & IN_MOVED_TO,
                   f'{L}: both exit files appear complete, by rename (exit-files)', f'persist: {pe}', f'exit-dir: {ev}')
    if oom:
        bo, po = ctx.crio.ino.first(c.bundle, 'oom'), ctx.crio.ino.first(c.persist, 'oom')
        ctx.tap.ok(bo is not None and po is not None and pe is not None and bo.seq < pe.seq and po.seq < pe.seq,
                   f'{L}: <bundle>/oom and <persist>/oom appear before the exit files (19)', f'bundle/oom: {bo}',
                   f'persist/oom: {po}', f'persist/exit: {pe}', f'exit-dir: {ev}')
    if full:
        link = os.path.join(ctx.crio.sockdir, c.id)
        gone = wait_until(lambda: not os.path.lexists(os.path.join(c.bundle, 'attach'))
                          and not os.path.lexists(link), 5)
        ctx.tap.ok(gone, f'{L}: <bundle>/attach and the <socket-dir>/<id> symlink are gone (15)',
                   f'attach: {file_type(os.path.join(c.bundle, "attach"))}', f'symlink: {file_type(link)}')
    if p1_status and c.p1:
        st = ctx.reaper.wait(c.p1, 15)
        ctx.tap.eq(f'{L}: P1 exits, with the container\'s status ({code & 0xff}) (15, process-sequence)',
                   code & 0xff, st, f'P1 {c.p1}: {proc_stat(c.p1)}')
    if full:
        rest, eof = recv_to_eof(c.mon.sync, 5)
        ctx.tap.ok(rest == b'' and eof,
                   f'{L}: nothing more on the sync pipe after {{"pid": N}}, then EOF (when-messages-are-sent)',
                   f'more bytes: {rest!r}', f'EOF: {eof}')
    return ev


def delete(c, desc=None):
    ctx = c.ctx
    r = c.vmctl('delete', '--force', c.id)
    ctx.tap.ok(r.rc == 0, desc or f'{c.label()}: `delete --force` exits 0', *r.diag())
    c.deleted = r.rc == 0
    return r


def kill_and_wait_stopped(c, sig, code, desc_kill=None):
    ctx = c.ctx
    r = c.vmctl('kill', c.id, sig)
    ctx.tap.ok(r.rc == 0, desc_kill or f'{c.label()}: `kill {sig}` exits 0', *r.diag())
    await_exit(c, code)


def stop_pod(pod, desc=None):
    """StopPodSandbox and RemovePodSandbox: kill 15 (pause exits 0), the
    exit files, delete --force."""
    ctx = pod.ctx
    sb = pod.sandbox
    r = sb.vmctl('kill', sb.id, '15')
    ctx.tap.ok(r.rc == 0, f'{desc or pod.name}: `kill <sandbox> 15` exits 0', *r.diag())
    await_exit(sb, 0)
    delete(sb)


# --- ExecSync and streaming exec -------------------------------------------------------------


def exec_sync(c, args, timeout_s=0, terminal=False):
    """CRI-O's ExecSync (conmon-cmdlines.txt section 3, -T as CRI-O adds it):
    temp files made first, --sync, cwd = CRI-O's. Returns (P0 status,
    sync bytes, log bytes, seconds, monitor)."""
    ctx = c.ctx
    pidfile = ctx.tmpfile('pidfile', b'')
    logf = ctx.tmpfile(f'crio-log-{c.id}', b'')
    spec = ctx.tmpfile('exec-process-', json_compact(c.process(args, terminal)).encode())
    argv = conmon_exec_argv(ctx.env.conmon, ctx.env.vmctl, runtime_args(c), c.id, c.name, pidfile, logf,
                            ctx.crio.sockdir, spec, timeout_s, terminal)
    mon = Monitor(ctx, argv, cwd=ctx.crio.crio_cwd)
    mon.write_start()
    rc = mon.wait_p0(120 + timeout_s)
    sync, _ = recv_to_eof(mon.sync, 5)
    return rc, sync, read_bytes(logf) or b'', mon.p0_secs, mon


def stream_exec(c, args, input=b'', close_stdin=True, timeout=60):
    """kubectl exec without a tty: `vmctl exec --process F <id>` in the
    foreground, its stdio the streams."""
    ctx = c.ctx
    spec = ctx.tmpfile('exec-process-', json_compact(c.process(args)).encode())
    cmd = ctx.vmctl_argv('exec', '--process', spec, c.id, config=c.pod.config)
    rc, out, err, secs = run_fg(cmd, input, close_stdin, timeout, cwd=ctx.crio.crio_cwd, env=ctx.runtime_env())
    return Result(cmd, rc, out, err, secs)


def check_kernel(c, desc):
    """The kernel c's processes run on: the guest's for a VM pod (its
    /proc/version differs from the host's), the host's for a trusted one."""
    ctx = c.ctx
    r = stream_exec(c, ['cat', '/proc/version'])
    host = host_kernel()
    good = r.rc == 0 and r.out.startswith(b'Linux version ') and (r.out != host) != c.pod.trusted
    ctx.tap.ok(good, desc, f'host: {host!r}', *r.diag())
    return r.out


# --- the end of a run ---------------------------------------------------------------------------


def trusted_leftovers(ctx):
    """Containers runc still knows under the trusted root vmctl gives it."""
    troot = os.path.join(ctx.root, 'trusted')
    if not os.path.isdir(troot):
        return []
    r = subprocess.run(['runc', '--root', troot, 'list', '-q'], capture_output=True, timeout=30)
    return r.stdout.decode(errors='replace').split()


def teardown(ctx):
    """Every container CRI-O knows is deleted and every process of the
    run stopped; the checks say whether that happened by itself."""
    for c in [c for c in ctx.crio.ctrs if not c.is_sandbox] + [c for c in ctx.crio.ctrs if c.is_sandbox]:
        if not c.deleted and os.path.exists(os.path.join(ctx.root, 'containers', c.id)):
            c.vmctl('delete', '--force', c.id, timeout=30)
    rest = check_nothing_runs(ctx)
    for p, _, _ in rest:
        signal_quietly(p, signal.SIGKILL)
    for pid in [mon.p0 for mon in ctx.crio.monitors] + [c.p1 for c in ctx.crio.ctrs if c.p1]:
        signal_quietly(pid, signal.SIGKILL, group=True)
    wait_until(lambda: not procs_mentioning(ctx.root), 10, 0.1)
    ctx.reaper.reap_all()
    remove_container_cgroups(ctx)


def check_nothing_runs(ctx):
    """The checks that nothing of the run's runs any more (nothing
    mentioning the runtime root, no runc container of a trusted pod);
    returns what still does."""
    def left():
        ctx.reaper.reap_all()
        return procs_mentioning(ctx.root)
    wait_until(lambda: not left(), 30, 0.1)
    rest = left()
    ctx.tap.ok(not rest, 'nothing mentioning the runtime root is left running (qemu-system, conmon-kata, ck-standin)',
               *[f'{p} {comm}: {cl[:300]}' for p, comm, cl in rest])
    if any(pod.trusted for pod in ctx.crio.pods):
        runc_left = trusted_leftovers(ctx)
        ctx.tap.ok(not runc_left, 'runc has no container left under the trusted root', *runc_left)
        for cid in runc_left:
            subprocess.run(['runc', '--root', os.path.join(ctx.root, 'trusted'), 'delete', '--force', cid],
                           capture_output=True, timeout=30)
    return rest


def remove_container_cgroups(ctx):
    """The containers' host cgroups (crio-<id> under each parent), and the
    parents the run made; the checks say whether any was left."""
    cg, procs = [], []
    for parent, existed in ctx.crio.cgroup_parents.items():
        for c in ctx.crio.ctrs:
            d = os.path.join(parent, f'crio-{c.id}')
            if os.path.isdir(d):
                cg.append(d)
                procs += empty_cgroup(d)
        if not existed:
            try:
                os.rmdir(parent)
            except OSError:
                pass
    ctx.tap.ok(not procs, 'no process is left in a container\'s host cgroup', *procs)
    ctx.tap.ok(not cg, 'no host cgroup of the containers is left behind', *cg)


def empty_cgroup(d):
    """Kills what is in cgroup d and removes it; returns what was there."""
    procs = []
    for p in cgroup_procs(d):
        procs.append(f'{p} in {d}: {cmdline(p)}')
        signal_quietly(p, signal.SIGKILL)
    wait_until(lambda: not cgroup_procs(d), 5)
    try:
        os.rmdir(d)
    except OSError:
        pass
    return procs


def release_pods(ctx):
    """Once nothing runs: what killed monitors left of their pods' shares,
    the pods' pinned namespaces and network namespaces."""
    unmount_under(ctx.root)
    for pod in ctx.crio.pods:
        pod.release()
