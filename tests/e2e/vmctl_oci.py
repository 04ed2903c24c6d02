#!/usr/bin/env python3
"""vmctl_oci.py: vmctl as an OCI runtime, black box, through its binary (TAP).

A runtime test harness's view (runc's integration tests, runtime-tools'
validation), written from the OCI runtime spec and runc's command line:
bundles of our own (busybox rootfs, tests/data/config-default.json), vmctl
called standalone as `vmctl --root R create|start|state|kill|delete|exec|
ps|pause|resume|update|list|features|--version`, where `create` and `exec`
run in shim mode (vmctl starts conmon-kata as the container's process).

What is checked, in groups (each a TAP item that goes on after a failure):
  * the command line: --version, features, list, errors of every verb on
    an unknown id (one line on stderr naming the id; runc's JSON log lines
    with --log --log-format json), delete --force of an unknown id;
  * the lifecycle (spec "Lifecycle", "State"): create -> created (every
    state field) -> the program has not run -> start -> running -> start
    again fails; the pid-file's pid is a live host process in the spec's
    network namespace and host cgroup for exactly the container's life;
  * exec: status propagation, signals, a missing binary, stdin open or
    closed, --detach with --pid-file, --tty with --console-socket (pty
    master over SCM_RIGHTS, resize), --env, --cwd, --user, args after the
    id, --process FILE, two concurrent execs;
  * ps, pause/resume (a paused container makes no progress), update
    (LinuxResources on stdin and runc's single-value flags, read back from
    the guest cgroup);
  * kill by name, by number and --all (spec "kill"), delete of a created,
    a running (needs --force) and a stopped container, a terminal
    container through --console-socket;
  * hooks (runtime-spec "Lifecycle", runc's order): prestart then
    createRuntime during create, poststart after start, poststop after
    delete, each with the state on stdin, in the spec's network namespace
    where it applies; a failing poststart/poststop hook is a warning and
    its list goes on; a failing or timed-out prestart/createRuntime hook
    fails create, one line, and leaves nothing;
  * QEMU killed with SIGKILL: state says stopped with pid 0 promptly, the
    pid exits, delete cleans up;
  * the end: the container's own exit status on its pid, kill of a stopped
    container fails, delete, nothing mentioning the runtime root runs.

Boots: pod A (most checks; some containers join it with CRI-O's pod
annotations, which saves a boot each), one VM for the hooks' life, one
whose prestart hook fails, VM B (QEMU killed). About 35 s. Every process
started is stopped at the end, even on failure.

Environment (set by meson): CK_BUILD_ROOT, CK_SOURCE_ROOT, CK_TEST_CONFIG,
CK_TEST_ROOTFS.
"""

import json
import os
import re
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ckdriver.context import RUNTIME_PATH, run_suite  # noqa: E402
from ckdriver.files import mounts_under, unmount_under  # noqa: E402
from ckdriver.netns import links_in, netns_del, netns_path, run  # noqa: E402
from ckdriver.oci import (  # noqa: E402
    RFC3339, ctr_error, expect_error, not_found_error, parse_rfc3339, state_shape_problems, unknown_id)
from ckdriver.procs import (  # noqa: E402
    cgroup_lines, nothing_left, pid_alive, proc_stat, procs_mentioning, run_cmd, run_fg, signal_quietly)
from ckdriver.streams import ConsoleSocket, PtyReader, set_winsize  # noqa: E402
from ckdriver.util import json_compact, now, read_bytes, short, wait_until  # noqa: E402

BASE_SPEC = ('tests', 'data', 'config-default.json')  # under the source root

# The main container's program: what it receives and how far it got are
# files in its rootfs, which the host sees through the 9p share.
INIT_SCRIPT = '''#!/bin/sh
trap 'echo USR1 >> /tmp/signals' USR1
trap 'echo USR2 >> /tmp/signals' USR2
trap 'echo TERM >> /tmp/signals; exit 3' TERM
echo started > /tmp/started
echo "init running"
i=0
while :; do
	i=$((i + 1))
	# a rename, so that a reader (or a pause) never meets a half-written file
	echo $i > /tmp/tick.new && mv /tmp/tick.new /tmp/tick
	sleep 0.2
done
'''

# kill --all: the init traps TERM (and lives on); its background sleeper
# has the default action (handlers are not inherited across exec).
MULTI_SCRIPT = '''#!/bin/sh
trap 'echo TERM >> /tmp/init-signals' TERM
sleep 1000 &
echo $! > /tmp/sleeper
while :; do sleep 0.2; done
'''

# An OCI hook on the host: what it saw goes to $HOOK_LOG, one line
# "<stage> <id> <pid> <status> <pid alive|dead> <its netns>" and then the
# state JSON it read on stdin; it exits with $2 (after $3 seconds), saying
# why on stderr.
HOOK_SCRIPT = r'''#!/bin/sh
stage=$1
state=$(cat)
field() { printf '%s' "$state" | sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"; }
pid=$(field pid)
alive=dead
if [ "$pid" -gt 0 ] 2>/dev/null && kill -0 "$pid" 2>/dev/null; then alive=alive; fi
{ echo "$stage $(field id) $pid $(field status) $alive $(readlink /proc/self/ns/net)"
  printf '%s\n' "$state"; } >> "$HOOK_LOG"
if [ -n "$3" ]; then sleep "$3"; fi
if [ "${2:-0}" != 0 ]; then echo "$stage says no" >&2; fi
exit "${2:-0}"
'''

# --- containers -------------------------------------------------------------------------


class Ctr:
    """A bundle of our own and what the test learns about its container."""

    def __init__(self, ctx, name, args, pod=None, terminal=False, netns=None, cgroup=None, script=None, hooks=None,
                 config=None):
        self.ctx = ctx
        self.config = config  # the configuration its create and start use (None: the test's)
        self.name = name
        self.id = f'{name}-{ctx.token}'
        self.bundle = ctx.path('bundles', self.id)
        self.rootfs = os.path.join(self.bundle, 'rootfs')
        self.pidfile = ctx.path(f'{self.id}.pid')
        os.makedirs(self.bundle)
        r = subprocess.run(['cp', '-a', ctx.env.rootfs, self.rootfs], capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f'cp -a {ctx.env.rootfs} {self.rootfs}: {r.stderr!r}')
        if script is not None:
            with open(os.path.join(self.rootfs, 'init.sh'), 'w') as f:
                f.write(script)
            os.chmod(os.path.join(self.rootfs, 'init.sh'), 0o755)
        with open(ctx.env.source_path(*BASE_SPEC)) as f:
            spec = json.load(f)
        spec['process']['args'] = args
        spec['process']['terminal'] = terminal
        spec['root']['path'] = 'rootfs'
        spec['hostname'] = name
        self.annotations = {'org.example.vmctl-oci.name': name}
        if pod is not None:
            # CRI-O's pod annotations: this container joins pod's VM
            self.annotations.update({'io.kubernetes.cri-o.ContainerType': 'container',
                                     'io.kubernetes.cri-o.SandboxID': pod.id})
        spec['annotations'] = self.annotations
        if netns is not None:
            for ns in spec['linux']['namespaces']:
                if ns['type'] == 'network':
                    ns['path'] = netns
        if cgroup is not None:
            spec['linux']['cgroupsPath'] = cgroup
        self.hook_log = ctx.path(f'{self.id}.hooks')
        if hooks is not None:
            spec['hooks'] = {stage: [self.hook_entry(*h) for h in entries] for stage, entries in hooks.items()}
        self.spec = spec
        self.write_spec()
        self.pid = None
        self.created = False
        self.deleted = False
        ctx.ctrs.append(self)

    def hook_entry(self, name, status=0, sleep=None, timeout=None):
        """A hook running HOOK_SCRIPT as `name`, with an environment of its own."""
        args = ['hook.sh', name, str(status)] + ([str(sleep)] if sleep is not None else [])
        entry = {'path': hook_path(self.ctx), 'args': args, 'env': ['PATH=/usr/bin:/bin', f'HOOK_LOG={self.hook_log}']}
        if timeout is not None:
            entry['timeout'] = timeout
        return entry

    def hooks_seen(self):
        """[(fields of the hook's line, the state it read or None)]."""
        lines = (read_bytes(self.hook_log) or b'').decode(errors='replace').splitlines()
        out = []
        for head, body in zip(lines[0::2], lines[1::2]):
            try:
                js = json.loads(body)
            except ValueError:
                js = None
            out.append((head.split(' ', 5), js))
        return out

    def write_spec(self):
        with open(os.path.join(self.bundle, 'config.json'), 'w') as f:
            json.dump(self.spec, f, indent='\t')

    def file(self, rel):
        """A file of the container's rootfs, as the host sees it."""
        return read_bytes(os.path.join(self.rootfs, rel.lstrip('/')))

    def create(self, *extra, tag='create', log=None):
        r = self.ctx.vmctl_files(f'{self.id}.{tag}', 'create', '--bundle', self.bundle, '--pid-file', self.pidfile,
                                 *extra, self.id, log=log, config=self.config)
        self.created = self.created or r.rc == 0
        if r.rc == 0:
            text = read_bytes(self.pidfile) or b''
            self.pid = int(text) if re.fullmatch(rb'[1-9][0-9]*', text) else None
        return r

    def must_create_start(self, *extra):
        r = self.create(*extra)
        self.ctx.tap.must(r.rc == 0 and self.pid, f'{self.name}: create exits 0 and writes the pid file', *r.diag())
        r = self.ctx.vmctl('start', self.id, config=self.config)
        self.ctx.tap.must(r.rc == 0, f'{self.name}: start exits 0', *r.diag())


def state(ctx, c_or_id):
    """(Result, parsed JSON or None)."""
    cid = c_or_id if isinstance(c_or_id, str) else c_or_id.id
    r = ctx.vmctl('state', cid, timeout=20)
    return r, r.json()


def status_of(ctx, c):
    _, js = state(ctx, c)
    return js.get('status') if isinstance(js, dict) else None


def check_state(ctx, c, desc, status, pid=None):
    """`state`: runc's shape and the expected id, status, pid and bundle."""
    r, js = state(ctx, c)
    problems = [] if r.rc == 0 else [f'exit status {r.rc}']
    problems += state_shape_problems(js)
    if isinstance(js, dict):
        if js.get('id') != c.id:
            problems.append(f"id: {js.get('id')!r}")
        if js.get('status') != status:
            problems.append(f"status: {js.get('status')!r}, expected {status!r}")
        if status == 'stopped' and js.get('pid') != 0:
            problems.append(f"pid: {js.get('pid')!r}, expected 0 once stopped")
        if status != 'stopped':
            if pid is not None and js.get('pid') != pid:
                problems.append(f"pid: {js.get('pid')!r}, expected {pid}")
            if not isinstance(js.get('pid'), int) or js['pid'] <= 0 or not pid_alive(js['pid']):
                problems.append(f"pid {js.get('pid')!r} is not a live process")
        if js.get('bundle') != c.bundle:
            problems.append(f"bundle: {js.get('bundle')!r}, expected {c.bundle!r}")
    ctx.tap.ok(not problems, desc, *problems, *r.diag())
    return js if isinstance(js, dict) else {}


def one_line_error(ctx, r, desc, line, status=1):
    expect_error(ctx.tap, r, desc, line, status)


def gone(ctx, pid):
    """The pid has exited: reaped by us (the child subreaper), or not ours
    and no longer in /proc."""
    return ctx.reaper.gone(pid)


def guest_sh(ctx, c, script, timeout=30):
    return ctx.vmctl('exec', c.id, 'sh', '-c', script, timeout=timeout)


def tick(c):
    """The main container's progress counter (None before the first one)."""
    text = (c.file('/tmp/tick') or b'').strip()
    return int(text) if text.isdigit() else None


def netns_of(pid):
    try:
        return os.readlink(f'/proc/{pid}/ns/net')
    except OSError as e:
        return f'readlink: {e.strerror}'


# --- the command line without a container ---------------------------------------------------


def no_container(ctx):
    r = ctx.vmctl('--version')
    lines = r.out.decode(errors='replace').splitlines()
    ctx.tap.ok(r.rc == 0 and lines and re.fullmatch(r'vmctl version \d+\.\d+\.\d+\S*', lines[0])
               and any(re.fullmatch(r'commit: \S+', ln) for ln in lines) and 'spec: 1.0.2' in lines,
               '--version: runc\'s lines: "<name> version X.Y.Z", "commit: ...", "spec: 1.0.2"', *r.diag())

    # runc's other global options, meaningless for a VM, are not errors
    r = run_cmd([ctx.env.vmctl, '--rootless=false', '--criu', '/usr/sbin/criu', '--systemd-cgroup', '--debug',
                 *ctx.vmctl_argv('list')[1:]], timeout=60, cwd=ctx.tmp, env=ctx.runtime_env())
    ctx.tap.ok(r.rc == 0 and b'ID' in r.out, 'runc\'s global options --rootless, --criu, --systemd-cgroup, --debug '
               'are accepted', *r.diag())

    r = ctx.vmctl('features')
    f = r.json()
    problems = []
    if not isinstance(f, dict):
        problems.append('not a JSON object')
    else:
        for key in ('ociVersionMin', 'ociVersionMax'):
            if not re.fullmatch(r'1\.\d+\.\d+\S*', str(f.get(key))):
                problems.append(f'{key}: {f.get(key)!r}')
        hooks = f.get('hooks')
        if not isinstance(hooks, list) or not {'prestart', 'createRuntime', 'poststart', 'poststop'} <= set(hooks):
            problems.append(f'hooks: {hooks!r}')
        if not isinstance(f.get('mountOptions'), list) or 'bind' not in f.get('mountOptions', []):
            problems.append(f"mountOptions: {short(f.get('mountOptions'))}")
        lx = f.get('linux')
        if not isinstance(lx, dict):
            problems.append(f'linux: {lx!r}')
        else:
            if not {'mount', 'pid', 'network', 'ipc', 'uts'} <= set(lx.get('namespaces') or []):
                problems.append(f"linux.namespaces: {lx.get('namespaces')!r}")
            caps = lx.get('capabilities')
            if not isinstance(caps, list) or not {'CAP_CHOWN', 'CAP_KILL', 'CAP_SYS_ADMIN'} <= set(caps):
                problems.append(f'linux.capabilities (the ones it knows): {short(caps)}')
            for key in ('cgroup', 'seccomp', 'apparmor', 'selinux'):
                if not isinstance(lx.get(key), dict):
                    problems.append(f'linux.{key}: {lx.get(key)!r}')
            sc = lx.get('seccomp') or {}
            if not isinstance(sc.get('enabled'), bool) or 'SCMP_ACT_ERRNO' not in (sc.get('actions') or []):
                problems.append(f'linux.seccomp: {short(sc)}')
        if not isinstance(f.get('annotations', {}), dict):
            problems.append(f"annotations: {f.get('annotations')!r}")
    ctx.tap.ok(r.rc == 0 and not problems, 'features: runc\'s JSON shape (ociVersionMin/Max, hooks, mountOptions, '
               'linux.{namespaces, capabilities, cgroup, seccomp, apparmor, selinux}, annotations)', *problems,
               *r.diag())

    r = ctx.vmctl('list', '--format', 'json')
    ctx.tap.eq('`list --format json` with no containers: "null" as runc prints it', b'null\n', r.out, *r.diag())

    ghost = f'ghost-{ctx.token}'
    r = ctx.vmctl('state', ghost)
    one_line_error(ctx, r, 'state of an unknown id fails with one line naming the id', unknown_id(ghost))
    ctx.tap.eq('state of an unknown id prints nothing on stdout', b'', r.out)
    for verb in (['start'], ['kill'], ['kill', '--all'], ['delete'], ['pause'], ['resume'], ['ps'],
                 ['exec'], ['update', '--memory', '64m']):
        tail = ['true'] if verb == ['exec'] else []
        r = ctx.vmctl(*verb, ghost, *tail)
        one_line_error(ctx, r, f'`{" ".join(verb)}` of an unknown id fails with one line naming the id',
                       unknown_id(ghost))
    r = ctx.vmctl('delete', '--force', ghost)
    ctx.tap.ok(r.rc == 0 and r.err == b'', '`delete --force` of an unknown id exits 0, silently (runc)', *r.diag())

    log = ctx.path('errors.json')
    r = ctx.vmctl('state', ghost, log=log)
    one_line_error(ctx, r, 'with --log FILE --log-format json the error still reaches stderr, one line',
                   unknown_id(ghost))
    check_json_log(ctx, log, ghost, 'state of an unknown id')

    r = ctx.vmctl('create', '--bundle', ctx.path('no-such-bundle'), f'nobundle-{ctx.token}')
    one_line_error(ctx, r, 'create with a bundle that does not exist fails, one line naming the id and config.json',
                   ctr_error(f'nobundle-{ctx.token}',
                             f'{ctx.path("no-such-bundle")}/config.json: No such file or directory'))
    r = ctx.vmctl('create', '--bundle', ctx.tmp, 'bad/id')
    one_line_error(ctx, r, 'create with an id runc refuses ("bad/id") fails, one line naming it',
                   ctr_error('bad/id', "invalid container id 'bad/id'"))


def json_lines(path):
    out = []
    for ln in (read_bytes(path) or b'').decode(errors='replace').splitlines():
        try:
            out.append(json.loads(ln))
        except ValueError:
            out.append({'unparsable': ln})
    return out


def check_json_log(ctx, path, needle, what, count=None):
    """runc's log format: one JSON object a line, level, msg, time; an
    error line naming needle (count: exactly that many error lines)."""
    objs = json_lines(path)
    errors = [o for o in objs if o.get('level') == 'error']
    good = [o for o in errors if needle in str(o.get('msg')) and isinstance(o.get('time'), str)
            and RFC3339.match(o['time'])]
    ctx.tap.ok(objs and all(set(o) >= {'level', 'msg', 'time'} for o in objs) and good
               and (count is None or len(errors) == count),
               f'{what}: the --log file has runc\'s JSON line {{"level":"error","msg":"...{needle}...",'
               f'"time":"<RFC 3339>"}}{"" if count is None else f", {count} error line(s) in all"}',
               f'log lines: {objs[-6:]}')
    return good


# --- pod A: lifecycle ------------------------------------------------------------------------


def lifecycle(ctx, main, netns):
    t0 = time.time()
    r = main.create()
    t1 = time.time()
    ctx.tap.note(f'create of the main container (VM boot included): {r.secs:.1f} s')
    ctx.tap.must(r.rc == 0, 'main: create exits 0', *r.diag())
    ctx.tap.ok(r.err == b'' and r.out == b'', 'main: create prints nothing (and the program has not written yet)',
               *r.diag())
    text = read_bytes(main.pidfile)
    ctx.tap.must(main.pid is not None, 'main: --pid-file holds a decimal pid', f'pid file: {text!r}')
    st = proc_stat(main.pid)
    ctx.tap.ok(st is not None and st['state'] not in 'ZX', 'main: the pid-file\'s pid is a live host process',
               f'/proc/{main.pid}/stat: {st}')

    js = check_state(ctx, main, 'main: state after create: created, the pid-file\'s pid, runc\'s keys only',
                     'created', main.pid)
    problems = []
    if js.get('ociVersion') != main.spec['ociVersion']:
        problems.append(f"ociVersion {js.get('ociVersion')!r}, the bundle's is {main.spec['ociVersion']!r}")
    if js.get('rootfs') != main.rootfs:
        problems.append(f"rootfs {js.get('rootfs')!r}, expected {main.rootfs!r}")
    created = js.get('created')
    if not (isinstance(created, str) and RFC3339.match(created)):
        problems.append(f'created: {created!r}')
    elif not t0 - 1 <= parse_rfc3339(created) <= t1 + 1:
        problems.append(f'created {created} is not within the create call ({t0:.3f} .. {t1:.3f})')
    ann = js.get('annotations')
    if not isinstance(ann, dict) or any(ann.get(k) != v for k, v in main.annotations.items()):
        problems.append(f'annotations {ann!r} do not hold the bundle\'s {main.annotations!r}')
    if js.get('owner') != '':
        problems.append(f"owner: {js.get('owner')!r} (runc: \"\" for root)")
    ctx.tap.ok(not problems, 'main: state fields: ociVersion, rootfs, created (RFC 3339, during create), '
               'annotations, owner', *problems, f'state: {js}')

    pod_ns = f'net:[{os.stat(netns).st_ino}]'
    ns = netns_of(main.pid)
    ctx.tap.eq('main: the pid lives in the spec\'s network namespace', pod_ns, ns)
    cg = cgroup_lines(main.pid)
    want = {k: main_cgroup(ctx) for k in cg if k in ('memory', 'pids')}
    ctx.tap.ok(want and all(cg[k] == main_cgroup(ctx) for k in want), 'main: the pid lives in the spec\'s cgroupsPath '
               '(memory and pids hierarchies)', f'/proc/{main.pid}/cgroup: {cg}', f'cgroupsPath: {main_cgroup(ctx)}')
    if 'cpuset' in cg:
        # cgroup v1: a new cpuset group is empty until cpus and mems are copied in (issue 17, item 5)
        cpus = (read_bytes(f'/sys/fs/cgroup/cpuset{main_cgroup(ctx)}/cpuset.cpus') or b'').strip()
        ctx.tap.ok(cg['cpuset'] == main_cgroup(ctx) and cpus != b'',
                   'main: the pid joined the cpuset hierarchy too (v1: '
                   'cpuset.cpus and cpuset.mems copied from the parent)', f'/proc/{main.pid}/cgroup: {cg}',
                   f'cpuset.cpus: {cpus!r}')

    time.sleep(1.0)
    ctx.tap.ok(main.file('/tmp/started') is None and main.file('/tmp/tick') is None,
               'main: created, not started: the program has not run (spec: create MUST NOT run it)',
               f'/tmp/started: {main.file("/tmp/started")!r}')
    r = ctx.vmctl('list', '--format', 'json')
    try:
        listed = {c['id']: c for c in r.json()}
    except (TypeError, KeyError):
        listed = {}
    ent = listed.get(main.id, {})
    ctx.tap.ok(r.rc == 0 and ent.get('status') == 'created' and ent.get('pid') == main.pid
               and ent.get('bundle') == main.bundle, '`list --format json` lists it: created, its pid and bundle',
               *r.diag())
    r = ctx.vmctl('list', '-q')
    ctx.tap.ok(r.rc == 0 and main.id in r.out.decode().split(), '`list -q` prints its id', *r.diag())
    r = ctx.vmctl('list')
    row = [ln for ln in r.out.decode().splitlines() if ln.split()[:1] == [main.id]]
    ctx.tap.ok(r.rc == 0 and row and 'created' in row[0].split() and str(main.pid) in row[0].split(),
               '`list` has a row with its id, pid and status', *r.diag())

    r = ctx.vmctl('start', main.id)
    ctx.tap.must(r.rc == 0, 'main: start exits 0', *r.diag())
    check_state(ctx, main, 'main: state after start: running, same pid', 'running', main.pid)
    ran = wait_until(lambda: main.file('/tmp/started') == b'started\n', 20)
    ctx.tap.ok(ran, 'main: after start the program runs (it wrote /tmp/started)')
    out_path = ctx.path(f'{main.id}.create.out')
    ctx.tap.ok(wait_until(lambda: b'init running\n' in (read_bytes(out_path) or b''), 10),
               'main: the program\'s stdout is create\'s stdout (runc without a terminal)',
               f'create stdout: {read_bytes(out_path)!r}')
    r = ctx.vmctl('start', main.id)
    one_line_error(ctx, r, 'main: start of a running container fails, one line naming it',
                   ctr_error(main.id, 'cannot start a container that has already been started'))
    check_state(ctx, main, 'main: still running after the second start', 'running', main.pid)


# --- pod A: runc's layout -----------------------------------------------------------------------


RUNC = '/usr/bin/runc'


def go_layout(obj, indent=None):
    """The text Go's encoding/json writes for obj, as runc prints it:
    MarshalIndent's layout (or compact), keys in their order, <, >, & and
    U+2028/9 escaped. Checked against runc's own output first."""
    if indent is None:
        text = json.dumps(obj, ensure_ascii=False, separators=(',', ':'))
    else:
        text = json.dumps(obj, ensure_ascii=False, indent=indent, separators=(',', ': '))
    for c in '<>&\u2028\u2029':
        text = text.replace(c, f'\\u{ord(c):04x}')
    return text.encode()


def runc(ctx, *args, timeout=60):
    return run_cmd([RUNC, '--root', ctx.path('runc-root'), *args], timeout=timeout, cwd=ctx.tmp, env=ctx.runtime_env())


def volatile_out(text):
    """The values that differ between two runtimes for the same bundle
    (its pid, when it was created, the spec version the runtime speaks)
    replaced by X; everything else is kept byte for byte."""
    return re.sub(rb'("(?:pid|created|ociVersion)": ?)("[^"]*"|[0-9]+)', rb'\1X', text)


def keys_tree(obj):
    """The object keys at every level, in order (lists by their first item)."""
    if isinstance(obj, dict):
        return [(k, keys_tree(v)) for k, v in obj.items()]
    if isinstance(obj, list) and obj:
        return [keys_tree(obj[0])]
    return None


def same_text(ctx, desc, ours, theirs, *diag):
    ctx.tap.ok(volatile_out(ours) == volatile_out(theirs), desc, f'vmctl: {ours!r}', f'runc:  {theirs!r}', *diag)


def layout_state(ctx, c, stage):
    rv, rr = ctx.vmctl('state', c.id), runc(ctx, 'state', c.id)
    ctx.tap.ok(rr.rc == 0 and rr.out == go_layout(rr.json(), 2), f'runc\'s own {stage} state is in the layout the '
               'test expects (MarshalIndent, two spaces, no final newline)', *rr.diag())
    same_text(ctx, f'layout: `state` of a {stage} container is runc\'s text byte for byte (but pid, created, '
              'ociVersion)', rv.out, rr.out, *rv.diag())


def layout_list(ctx, c):
    rv, rr = ctx.vmctl('list', '--format', 'json'), runc(ctx, 'list', '--format', 'json')
    theirs = [e for e in (rr.json() or []) if e.get('id') == c.id]
    ours = [e for e in (rv.json() or []) if e.get('id') == c.id]
    ctx.tap.ok(rr.out == go_layout(rr.json()) + b'\n' and rv.out == go_layout(rv.json()) + b'\n',
               'layout: `list --format json` is one compact line, as runc\'s', *rv.diag(), *rr.diag())
    same_text(ctx, 'layout: the container\'s entry in `list --format json` is runc\'s (owner included)',
              go_layout(ours), go_layout(theirs))


def error_text(r):
    """The message of a one-line error on stderr: runc's logrus line
    (time="..." level=error msg="...", without --log), its bare line (with
    --log), or vmctl's "vmctl: <message>"."""
    m = re.fullmatch(rb'time="[^"]*" level=error msg="((?:[^"\\]|\\.)*)"\n', r.err)
    if m:
        return json.loads(b'"' + m.group(1) + b'"')
    m = re.fullmatch(rb'(?:vmctl: )?([^\n]+)\n', r.err)
    return m.group(1).decode(errors='replace') if m else None


def last_logged(path):
    """The msg of the last error record of a --log-format json file."""
    recs = [js for js in json_lines(path) if isinstance(js, dict) and js.get('level') == 'error']
    return recs[-1].get('msg') if recs else None


# runc's exec failures (issue 17): what CRI-O and Podman pass on and match
EXEC_FAILURES = (
    ('a missing binary', [], ['/no/such/binary']),
    ('a binary not in $PATH', [], ['no-such-command']),
    ('a directory as the binary (permission denied)', [], ['/etc']),
    ('a cwd that is a file', ['--cwd', '/etc/passwd'], ['true']),
    ('a user that is not a number', ['--user', 'nobodyx'], ['true']),
)


def runc_words(ctx, c):
    """Exec failures in the same running bundle: vmctl's stderr message and
    status are runc's."""
    for i, (what, flags, args) in enumerate(EXEC_FAILURES):
        rv, rr = ctx.vmctl('exec', *flags, c.id, *args), runc(ctx, 'exec', *flags, c.id, *args)
        ctx.tap.ok(rv.rc == rr.rc == 255 and error_text(rr) is not None and error_text(rv) == error_text(rr),
                   f'words: exec with {what} fails as runc\'s does: status 255 and its message on stderr',
                   f'vmctl: {rv.rc} {error_text(rv)!r}', f'runc:  {rr.rc} {error_text(rr)!r}', *rv.diag())
        # with --log --log-format json, as CRI-O and Podman call a runtime
        logs = ctx.path(f'words-{i}.vmctl.json'), ctx.path(f'words-{i}.runc.json')
        rv = ctx.vmctl('exec', *flags, c.id, *args, log=logs[0])
        rr = run_cmd([RUNC, '--root', ctx.path('runc-root'), '--log', logs[1], '--log-format', 'json', 'exec', *flags,
                      c.id, *args], timeout=60, cwd=ctx.tmp, env=ctx.runtime_env())
        ctx.tap.ok(rv.rc == rr.rc == 255 and last_logged(logs[1]) is not None
                   and last_logged(logs[0]) == last_logged(logs[1]) and error_text(rv) == error_text(rr),
                   f'words: with --log, exec with {what}: the same message in the log and on stderr as runc\'s',
                   f'vmctl: {rv.rc} {last_logged(logs[0])!r} {rv.err!r}',
                   f'runc:  {rr.rc} {last_logged(logs[1])!r} {rr.err!r}')


def create_words(ctx, main):
    """A create whose process cannot start: vmctl's message gives the cause
    in runc's words."""
    c = Ctr(ctx, 'nobinary', ['/no/such/binary'], pod=main)
    rv = c.create()
    with open(ctx.path('runc-nobinary.err'), 'wb') as err:
        rc = subprocess.run([RUNC, '--root', ctx.path('runc-root'), 'create', '--bundle', c.bundle, c.id],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, timeout=60, cwd=ctx.tmp,
                            env=ctx.runtime_env()).returncode
    theirs = json.loads(b'"' + re.sub(rb'.*msg="runc create failed: |"\n$', b'',
                                      read_bytes(ctx.path('runc-nobinary.err')) or b'') + b'"')
    ours = error_text(rv) or ''
    ctx.tap.ok(rv.rc != 0 and rc != 0 and theirs.startswith('unable to start container process: ')
               and ours.endswith(': ' + theirs), 'words: create of a missing binary fails with runc\'s cause: '
               '"unable to start container process: exec: ..."', f'vmctl: {rv.rc} {ours!r}', f'runc:  {rc} {theirs!r}',
               *rv.diag())
    runc(ctx, 'delete', '--force', c.id)
    c.deleted = ctx.vmctl('delete', '--force', c.id).rc == 0


def in_order(ours, theirs):
    """ours is theirs with some keys left out (runc's omitempty), in order."""
    it = iter(theirs)
    return all(k in it for k in ours)


def layout_events(ctx, c):
    """`events --stats`: one compact line, {"type":"stats","id":...,"data":
    {...}} with runc's keys in runc's order; `events --interval` repeats it."""
    rv, rr = ctx.vmctl('events', '--stats', c.id), runc(ctx, 'events', '--stats', c.id)
    ev, er = rv.json() or {}, rr.json() or {}
    ctx.tap.ok(rv.rc == rr.rc == 0 and rv.out == go_layout(ev) + b'\n' and rr.out == go_layout(er) + b'\n'
               and list(ev) == list(er) == ['type', 'id', 'data'] and ev.get('type') == er.get('type') == 'stats'
               and ev.get('id') == c.id, 'events: `events --stats` is one compact line of runc\'s shape '
               '({"type":"stats","id":...,"data":...})', *rv.diag(), *rr.diag())
    dv, dr = ev.get('data') or {}, er.get('data') or {}
    problems = [] if list(dv) == list(dr) else [f'data: {list(dv)} vs runc\'s {list(dr)}']
    # the fields' order in runc's types.Stats; empty omitempty ones are left out
    for path, order in (('cpu', ['usage', 'throttling']),
                        ('cpu.usage', ['total', 'percpu', 'percpu_kernel', 'percpu_user', 'kernel', 'user']),
                        ('memory', ['cache', 'usage', 'swap', 'kernel', 'kernelTCP', 'raw']),
                        ('pids', ['current', 'limit']),
                        ('cpuset', ['cpus', 'cpu_exclusive', 'mems', 'mem_hardwall', 'mem_exclusive',
                                    'memory_migrate', 'memory_spread_page', 'memory_spread_slab', 'memory_pressure',
                                    'sched_load_balance', 'sched_relax_domain_level'])):
        ours, theirs = dv, dr
        for part in path.split('.'):
            ours, theirs = (ours or {}).get(part), (theirs or {}).get(part)
        if not isinstance(ours, dict) or not in_order(list(ours), order) or not in_order(list(theirs or {}), order):
            problems.append(f'data.{path}: {list(ours or {})}, runc\'s {list(theirs or {})}, order {order}')
    usage = ((dv.get('cpu') or {}).get('usage') or {})
    if not usage.get('total'):
        problems.append(f'data.cpu.usage: {usage}')
    if not (dv.get('pids') or {}).get('current') or not ((dv.get('memory') or {}).get('usage') or {}).get('usage'):
        problems.append(f"pids, memory: {dv.get('pids')}, {(dv.get('memory') or {}).get('usage')}")
    ctx.tap.ok(not problems, 'events: the data has runc\'s keys in runc\'s order, and the guest\'s CPU time, memory '
               'usage and process count', *problems, f'vmctl: {short(dv, 600)}')
    r = ctx.vmctl('events', '--interval', '1s', c.id, timeout=3.5)
    lines = [ln for ln in r.out.split(b'\n') if ln]
    good = [ln for ln in lines if (json.loads(ln) or {}).get('type') == 'stats']
    ctx.tap.ok(r.rc is None and len(lines) >= 2 and good == lines, '`events --interval 1s` prints the stats again each '
               'second until stopped', f'lines: {len(lines)}', *r.diag())


def runc_layout(ctx, main):
    """The same bundle under vmctl (in pod A's VM) and under runc (its own
    --root): state, list, ps and features print the same text."""
    c = Ctr(ctx, 'layout', ['sleep', '1000'], pod=main)
    c.spec['annotations'].update({'org.example.html': '<a href="x">&</a>', 'org.example.text': 'é/"q\\\t'})
    c.write_spec()
    ctx.tap.must(c.create().rc == 0, 'layout: vmctl create exits 0')
    trust = (ctx.vmctl('state', c.id).json() or {}).get('annotations', {}).get('io.conmon-kata.trust')
    if trust is not None:  # what vmctl records; runc then shows it too
        c.spec['annotations']['io.conmon-kata.trust'] = trust
        c.write_spec()
    # the container keeps runc's stdio: files, not pipes, as for vmctl_files
    with open(ctx.path('runc-create.err'), 'wb') as err:
        rc = subprocess.run([RUNC, '--root', ctx.path('runc-root'), 'create', '--bundle', c.bundle, c.id],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, timeout=60, cwd=ctx.tmp,
                            env=ctx.runtime_env()).returncode
    ctx.on_stop(lambda: runc(ctx, 'delete', '--force', c.id))
    ctx.tap.must(rc == 0, 'layout: runc create of the same bundle exits 0', f'exit status {rc}',
                 f"stderr: {read_bytes(ctx.path('runc-create.err'))!r}")
    layout_state(ctx, c, 'created')
    layout_list(ctx, c)
    ctx.tap.must(ctx.vmctl('start', c.id).rc == 0 and runc(ctx, 'start', c.id).rc == 0, 'layout: both start')
    layout_state(ctx, c, 'running')
    layout_events(ctx, c)
    runc_words(ctx, c)
    rv, rr = ctx.vmctl('ps', '--format', 'json', c.id), runc(ctx, 'ps', '--format', 'json', c.id)
    shape = rb'\[[0-9]+(,[0-9]+)*\]\n'
    ctx.tap.ok(re.fullmatch(shape, rv.out) and re.fullmatch(shape, rr.out), 'layout: `ps --format json` is runc\'s '
               'compact array and newline', f'vmctl: {rv.out!r}', f'runc: {rr.out!r}')
    for r in (ctx.vmctl('kill', c.id, 'KILL'), runc(ctx, 'kill', c.id, 'KILL')):
        ctx.tap.must(r.rc == 0, 'layout: kill -9 exits 0', *r.diag())
    wait_until(lambda: status_of(ctx, c) == 'stopped'
               and (runc(ctx, 'state', c.id).json() or {}).get('status') == 'stopped', 15)
    layout_state(ctx, c, 'stopped')
    for r in (ctx.vmctl('delete', c.id), runc(ctx, 'delete', c.id)):
        ctx.tap.ok(r.rc == 0, 'layout: delete exits 0', *r.diag())
    c.deleted = True

    rv, rr = ctx.vmctl('features'), runc(ctx, 'features')
    fv, fr = rv.json(), rr.json()
    ctx.tap.ok(rr.out == go_layout(fr, 4) + b'\n' and rv.out == go_layout(fv, 4) + b'\n', 'layout: `features` is '
               'indented by four spaces and ends with a newline, as runc\'s', *rv.diag())
    for js in (fv, fr):
        js.pop('annotations', None)  # runc's own version and commit
    ctx.tap.eq('layout: `features` has runc 1.1\'s keys in runc\'s order', keys_tree(fr), keys_tree(fv))


# --- pod A: exec --------------------------------------------------------------------------------


def exec_basics(ctx, main):
    r = ctx.vmctl('exec', main.id, 'sh', '-c', 'echo out; echo err >&2; exit 7')
    ctx.tap.ok(r.rc == 7 and r.out == b'out\n' and r.err == b'err\n',
               'exec: stdout and stderr apart, the exit status propagates (sh -c "exit 7" -> 7)', *r.diag())
    r = ctx.vmctl('exec', main.id, 'sh', '-c', 'kill -9 $$')
    ctx.tap.eq('exec: a process killed by SIGKILL -> 137 (128 + 9)', 137, r.rc, *r.diag())
    r = ctx.vmctl('exec', main.id, 'true')
    ctx.tap.ok(r.rc == 0 and r.out == b'' and r.err == b'', 'exec: `true` -> 0, no output', *r.diag())

    # CRI-O runs start, state, kill, delete, exec, update without its
    # monitor_env: they must not need the configuration at all
    env = {'PATH': RUNTIME_PATH, 'CONMON_KATA_CONFIG': ctx.path('no-such-config.toml')}
    for verb in (['state', main.id], ['ps', main.id], ['exec', main.id, 'true']):
        r = run_cmd([ctx.env.vmctl, '--root', ctx.root, *verb], timeout=60, cwd=ctx.tmp, env=env)
        ctx.tap.ok(r.rc == 0, f'`{verb[0]}` needs no configuration (CONMON_KATA_CONFIG names a missing file)',
                   *r.diag())

    r = ctx.vmctl('exec', main.id, 'no-such-binary-here', timeout=30)
    one_line_error(ctx, r, 'exec of a missing binary: runc\'s status 255, one line naming the binary and "not found"',
                   not_found_error('vmctl: exec failed: unable to start container process', 'no-such-binary-here'),
                   status=255)
    ctx.tap.ok(r.secs < 15, 'exec of a missing binary: fails at once (no hang)', *r.diag())

    cmd = ctx.vmctl_argv('exec', main.id, 'cat')
    rc, out, err, secs = run_fg(cmd, b'hello\n', close_stdin=True, timeout=30, env=ctx.runtime_env())
    ctx.tap.ok(rc == 0 and out == b'hello\n', 'exec: stdin reaches the process; EOF on stdin ends `cat`',
               f'rc {rc}, out {out!r}, err {err!r}, {secs:.1f} s')
    cmd = ctx.vmctl_argv('exec', main.id, 'sh', '-c', 'echo quick')
    rc, out, err, secs = run_fg(cmd, b'', close_stdin=False, timeout=30, env=ctx.runtime_env())
    ctx.tap.ok(rc == 0 and out == b'quick\n' and secs < 15,
               'exec: returns when the process exits although vmctl\'s stdin is still open',
               f'rc {rc}, out {out!r}, err {err!r}, {secs:.1f} s')
    cmd = ctx.vmctl_argv('exec', main.id, 'sh', '-c', 'read x; echo "got $x"; exit 2')
    rc, out, err, secs = run_fg(cmd, b'yo\n', close_stdin=False, timeout=30, env=ctx.runtime_env())
    ctx.tap.ok(rc == 2 and out == b'got yo\n', 'exec: reads a line from an open stdin, answers, exits 2',
               f'rc {rc}, out {out!r}, err {err!r}, {secs:.1f} s')

    r = ctx.vmctl('exec', '--env', 'FOO=bar', '-e', 'BAZ=qux', main.id, 'sh', '-c', 'echo "$FOO-$BAZ-$HOME"')
    ctx.tap.eq('exec --env: added to the spec\'s environment (HOME from the spec)', (0, b'bar-qux-/root\n'),
               (r.rc, r.out), *r.diag())
    r = ctx.vmctl('exec', '--cwd', '/tmp', main.id, 'pwd')
    ctx.tap.eq('exec --cwd /tmp: the process starts there', (0, b'/tmp\n'), (r.rc, r.out), *r.diag())
    r = ctx.vmctl('exec', '--user', '1000:1000', '--additional-gids', '2000', main.id, 'sh', '-c',
                  'id -u; id -g; id -G')
    lines = r.out.decode().split('\n')
    ctx.tap.ok(r.rc == 0 and lines[:2] == ['1000', '1000'] and '2000' in lines[2].split(),
               'exec --user 1000:1000 --additional-gids 2000: uid, gid and the extra group', *r.diag())
    r = ctx.vmctl('exec', main.id, 'echo', '-n', '--user', 'x', '--tty')
    ctx.tap.eq('exec: options after the id are the command\'s (echo -n --user x --tty)', (0, b'--user x --tty'),
               (r.rc, r.out), *r.diag())
    proc = dict(main.spec['process'], args=['sh', '-c', 'echo "$P"; pwd; id -u'], cwd='/home/user',
                env=[f'PATH={RUNTIME_PATH}', 'P=from-the-process-file'], user={'uid': 1000, 'gid': 1000})
    pfile = ctx.path('process.json')
    with open(pfile, 'w') as f:
        json.dump(proc, f)
    r = ctx.vmctl('exec', '--process', pfile, main.id)
    ctx.tap.eq('exec --process FILE: args, env, cwd and user from the file', (0, b'from-the-process-file\n/home/user\n'
                                                                              b'1000\n'), (r.rc, r.out), *r.diag())


def exec_detached(ctx, main):
    pidfile = ctx.path('detached.pid')
    r = ctx.vmctl_files('detached', 'exec', '--detach', '--pid-file', pidfile, main.id, 'sh', '-c',
                        'echo detached-out; sleep 2; echo detached-err >&2; exit 9')
    text = read_bytes(pidfile) or b''
    pid = int(text) if re.fullmatch(rb'[1-9][0-9]*', text) else None
    alive = pid is not None and pid_alive(pid) and not gone(ctx, pid)
    ctx.tap.ok(r.rc == 0 and pid is not None and alive, 'exec --detach --pid-file: vmctl exits 0 while the process '
               'runs; the pid file holds a live pid', f'pid file: {text!r}', *r.diag())
    if pid is None:
        return
    status = ctx.reaper.wait(pid, 30)
    ctx.tap.eq('exec --detach: that pid exits with the process\'s status (9)', 9, status,
               f'/proc/{pid}/stat: {proc_stat(pid)}')
    ctx.tap.ok(read_bytes(r.out_path) == b'detached-out\n' and read_bytes(r.err_path) == b'detached-err\n',
               'exec --detach: the process\'s stdout and stderr are vmctl\'s (runc without a terminal)',
               f'stdout: {read_bytes(r.out_path)!r}', f'stderr: {read_bytes(r.err_path)!r}')


def exec_concurrent(ctx, main):
    """Two execs at once: the first can only finish once the second ran."""
    try:
        os.unlink(os.path.join(main.rootfs, 'tmp', 'b-was-here'))
    except FileNotFoundError:
        pass
    scripts = {'A': 'while [ ! -e /tmp/b-was-here ]; do sleep 0.1; done; echo A; echo a-err >&2; exit 3',
               'B': 'sleep 0.5; touch /tmp/b-was-here; sleep 1; echo B; exit 4'}
    results = {}

    def one(key):
        results[key] = run_fg(ctx.vmctl_argv('exec', main.id, 'sh', '-c', scripts[key]), timeout=60,
                              env=ctx.runtime_env())
    threads = [threading.Thread(target=one, args=(k,)) for k in scripts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    a, b = results.get('A'), results.get('B')
    ctx.tap.ok(a and b and a[:3] == (3, b'A\n', b'a-err\n') and b[:3] == (4, b'B\n', b''),
               'two concurrent execs both complete, each with its own output and status (A: 3, B: 4)',
               f'A: {a}', f'B: {b}')


def exec_tty(ctx, main):
    """exec --tty --console-socket: the pty master arrives over SCM_RIGHTS."""
    cs = ConsoleSocket(ctx.path('console.sock'))
    ctx.defer(cs.close)
    pidfile = ctx.path('tty.pid')
    r = ctx.vmctl_files('tty-exec', 'exec', '--detach', '--tty', '--console-socket', cs.path, '--pid-file', pidfile,
                        main.id, 'sh')
    ctx.tap.must(r.rc == 0, 'exec --tty --console-socket --detach exits 0', *r.diag())
    master, msg, why = cs.receive(10)
    ctx.tap.must(master is not None, 'exec --tty: a pty master arrives on the console socket (SCM_RIGHTS)', why)
    text = read_bytes(pidfile) or b''
    pid = int(text) if re.fullmatch(rb'[1-9][0-9]*', text) else None
    pty = PtyReader(master)
    try:
        set_winsize(master, 33, 101)
        time.sleep(0.3)
        os.write(master, b'stty size\n')
        ctx.tap.ok(pty.until(rb'33 101\r\n', 20), 'exec --tty: a command written to the master runs; its output '
                   'comes back (stty size: 33 101, the size set on the master)', f'output: {pty.out!r}')
        set_winsize(master, 44, 120)
        time.sleep(0.5)
        os.write(master, b'stty size; tty\n')
        ctx.tap.ok(pty.until(rb'44 120\r\n/dev/pts/\d+\r\n', 20), 'exec --tty: a resize of the master reaches the '
                   'process (44 120); its stdin is a terminal', f'output: {pty.out!r}')
        os.write(master, b'exit 5\n')
        status = ctx.reaper.wait(pid, 20) if pid else None
        ctx.tap.eq('exec --tty: the pid-file\'s pid exits with the shell\'s status (5)', 5, status,
                   f'pid file: {text!r}', f'output: {pty.out!r}')
    finally:
        os.close(master)


# --- pod A: ps, pause, resume, update ----------------------------------------------------------------


def ps_pids(ctx, c):
    r = ctx.vmctl('ps', '--format', 'json', c.id)
    return r, r.json()


def ps_pause(ctx, main):
    r, base = ps_pids(ctx, main)
    ctx.tap.ok(r.rc == 0 and isinstance(base, list) and base and all(isinstance(p, int) and p > 0 for p in base),
               'ps --format json: a JSON array of the container\'s pids', *r.diag())
    pidfile = ctx.path('sleeper.pid')
    r = ctx.vmctl_files('sleeper', 'exec', '--detach', '--pid-file', pidfile, main.id, 'sleep', '300')
    text = read_bytes(pidfile) or b''
    spid = int(text) if re.fullmatch(rb'[1-9][0-9]*', text) else None
    n0 = len(base or [])
    grew = wait_until(lambda: len(ps_pids(ctx, main)[1] or []) == n0 + 1, 10, 0.2)
    ctx.tap.ok(r.rc == 0 and grew, 'ps: an exec\'d `sleep 300` shows up as one more pid',
               f'before: {base}', f'after: {ps_pids(ctx, main)[1]}', *r.diag())
    r = ctx.vmctl('ps', main.id)
    ctx.tap.ok(r.rc == 0 and b'PID' in r.out.split(b'\n')[0].split(), 'ps (table): a header line naming PID',
               *r.diag())
    if spid is not None:
        os.kill(spid, signal.SIGTERM)
        status = ctx.reaper.wait(spid, 20)
        ctx.tap.eq('exec --detach: SIGTERM to its pid reaches the process (status 143), as Podman stops exec '
                   'sessions', 128 + signal.SIGTERM, status)
        ctx.tap.ok(wait_until(lambda: len(ps_pids(ctx, main)[1] or []) == n0, 10, 0.2),
                   'ps: the sleeper is gone from the list', f'ps: {ps_pids(ctx, main)[1]}')

    ctx.tap.must(wait_until(lambda: tick(main), 10), 'main: its tick counter runs', f'tick: {main.file("/tmp/tick")!r}')
    r = ctx.vmctl('pause', main.id)
    ctx.tap.ok(r.rc == 0, 'pause exits 0', *r.diag())
    check_state(ctx, main, 'state after pause: paused, same pid', 'paused', main.pid)
    time.sleep(0.5)
    t1 = tick(main)
    time.sleep(1.5)
    t2 = tick(main)
    ctx.tap.ok(t1 is not None and t1 == t2, 'a paused container makes no progress (its tick stays put for 1.5 s)',
               f'tick: {t1} then {t2}')
    r = ctx.vmctl('pause', main.id)
    one_line_error(ctx, r, 'pause of a paused container fails, one line naming it',
                   ctr_error(main.id, 'container not running'))
    r = ctx.vmctl('resume', main.id)
    ctx.tap.ok(r.rc == 0, 'resume exits 0', *r.diag())
    check_state(ctx, main, 'state after resume: running, same pid', 'running', main.pid)
    moved = wait_until(lambda: (tick(main) or 0) > (t2 or 0), 5)
    ctx.tap.ok(moved, 'a resumed container makes progress again', f'tick: {t2} then {tick(main)}')
    r = ctx.vmctl('resume', main.id)
    one_line_error(ctx, r, 'resume of a running container fails, one line naming it',
                   ctr_error(main.id, 'container not paused'))


CGROUP_READ = ('cd /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup | head -n1) 2>/dev/null || cd /sys/fs/cgroup; '
               'cat memory.max cpu.max pids.max')


def guest_cgroup(ctx, c):
    r = guest_sh(ctx, c, CGROUP_READ)
    return r, r.out.decode(errors='replace').splitlines()


def update(ctx, main):
    res = {'memory': {'limit': 96 * 1024 * 1024}, 'cpu': {'quota': 50000, 'period': 100000},
           'pids': {'limit': 77}}
    r = ctx.vmctl('update', '--resources', '-', main.id, input=json_compact(res).encode())
    ctx.tap.ok(r.rc == 0, 'update --resources - (LinuxResources on stdin) exits 0', *r.diag())
    g, lines = guest_cgroup(ctx, main)
    ctx.tap.eq('update --resources -: the guest cgroup has memory.max, cpu.max and pids.max from it',
               [str(96 * 1024 * 1024), '50000 100000', '77'], lines, *g.diag())

    rfile = ctx.path('resources.json')
    with open(rfile, 'w') as f:
        json.dump({'memory': {'limit': 112 * 1024 * 1024}}, f)
    r = ctx.vmctl('update', '--resources', rfile, main.id)
    g, lines = guest_cgroup(ctx, main)
    ctx.tap.eq('update --resources FILE: memory.max from the file, the cpu and pids limits left alone',
               (0, [str(112 * 1024 * 1024), '50000 100000', '77']), (r.rc, lines), *r.diag(), *g.diag())

    r = ctx.vmctl('update', '--memory', '80m', '--cpu-period', '200000', '--cpu-quota', '30000', '--pids-limit', '55',
                  main.id)
    g, lines = guest_cgroup(ctx, main)
    ctx.tap.eq('update --memory 80m --cpu-period 200000 --cpu-quota 30000 --pids-limit 55: in the guest cgroup',
               (0, [str(80 * 1024 * 1024), '30000 200000', '55']), (r.rc, lines), *r.diag(), *g.diag())
    r = ctx.vmctl('update', '--cpu-quota', '20000', main.id)
    g, lines = guest_cgroup(ctx, main)
    ctx.tap.eq('update --cpu-quota 20000 alone: the quota changes; the period, memory and pids limits stay',
               (0, [str(80 * 1024 * 1024), '20000 200000', '55']), (r.rc, lines), *r.diag(), *g.diag())
    r = ctx.vmctl('update', '--memory', 'lots', main.id)
    one_line_error(ctx, r, 'update --memory lots: fails, one line naming the flag',
                   ctr_error(main.id, "--memory: 'lots' is not a valid number"))
    check_state(ctx, main, 'main: running on after the updates', 'running', main.pid)


# --- pod A: kill and delete ----------------------------------------------------------------------------


def signals_seen(c):
    return (c.file('/tmp/signals') or b'').decode().split()


def kill_semantics(ctx, main, pod):
    for args, want in ((['USR1'], ['USR1']), (['12'], ['USR1', 'USR2']), (['SIGUSR1'], ['USR1', 'USR2', 'USR1'])):
        r = ctx.vmctl('kill', main.id, *args)
        got = wait_until(lambda: signals_seen(main) == want, 10)
        ctx.tap.ok(r.rc == 0 and got, f'kill {args[0]}: exits 0 and the process gets it', f'signals: '
                   f'{signals_seen(main)}', *r.diag())
    r = ctx.vmctl('kill', main.id, 'NOSUCHSIG')
    one_line_error(ctx, r, 'kill with an unknown signal name fails, one line naming the signal',
                   ctr_error(main.id, "invalid signal 'NOSUCHSIG'"))
    check_state(ctx, main, 'main: running on after the signals it traps', 'running', main.pid)

    multi = Ctr(ctx, 'multi', ['/init.sh'], pod=pod, script=MULTI_SCRIPT)
    multi.must_create_start()
    ctx.tap.must(wait_until(lambda: (multi.file('/tmp/sleeper') or b'').strip().isdigit(), 20),
                 'multi: up, with its background sleeper')

    def sleeper_alive():
        return guest_sh(ctx, multi, 'kill -0 $(cat /tmp/sleeper)').rc == 0

    def init_terms():
        return (multi.file('/tmp/init-signals') or b'').decode().split()
    r = ctx.vmctl('kill', multi.id, 'TERM')
    trapped = wait_until(lambda: init_terms() == ['TERM'], 10)
    ctx.tap.ok(r.rc == 0 and trapped and sleeper_alive(), 'kill TERM (no --all): the init gets it (its trap ran), the '
               'sleeper does not', f'init: {init_terms()}', *r.diag())
    r = ctx.vmctl('kill', '--all', multi.id, 'TERM')
    trapped = wait_until(lambda: init_terms() == ['TERM', 'TERM'], 10)
    died = wait_until(lambda: not sleeper_alive(), 10, 0.2)
    ctx.tap.ok(r.rc == 0 and trapped and died, 'kill --all TERM: every process gets it: the init traps it again, the '
               'sleeper dies', f'init: {init_terms()}', f'sleeper dead: {died}', *r.diag())
    check_state(ctx, multi, 'multi: running after kill --all TERM (its init traps TERM)', 'running', multi.pid)
    r = ctx.vmctl('kill', '--all', multi.id, 'KILL')
    stopped = wait_until(lambda: status_of(ctx, multi) == 'stopped', 15)
    ctx.tap.ok(r.rc == 0 and stopped, 'kill --all KILL: exits 0 and the container stops', *r.diag())
    check_state(ctx, multi, 'multi: state: stopped, pid 0', 'stopped')
    ctx.tap.ok(wait_until(lambda: gone(ctx, multi.pid), 10), 'multi: its pid has exited with it',
               f'{multi.pid}: {proc_stat(multi.pid)}')
    r = ctx.vmctl('kill', multi.id, 'KILL')
    one_line_error(ctx, r, 'kill of a stopped container fails like runc ("container not running"), one line',
                   ctr_error(multi.id, 'container not running'))
    r = ctx.vmctl('delete', multi.id)
    ctx.tap.ok(r.rc == 0 and r.err == b'', 'delete of a stopped container (no --force) exits 0', *r.diag())
    multi.deleted = r.rc == 0
    r, _ = state(ctx, multi)
    one_line_error(ctx, r, 'state after delete fails, one line naming the id', unknown_id(multi.id))


def delete_semantics(ctx, main, pod):
    victim = Ctr(ctx, 'victim', ['sleep', '1000'], pod=pod)
    victim.must_create_start()
    r = ctx.vmctl('delete', victim.id)
    one_line_error(ctx, r, 'delete of a running container without --force fails, one line naming it and its status',
                   ctr_error(victim.id, f'cannot delete container {victim.id} that is not stopped: running'))
    check_state(ctx, victim, 'victim: still running after the refused delete', 'running', victim.pid)
    r = ctx.vmctl('delete', '--force', victim.id)
    ctx.tap.ok(r.rc == 0 and r.err == b'', 'delete --force of a running container exits 0', *r.diag())
    victim.deleted = r.rc == 0
    ctx.tap.ok(wait_until(lambda: gone(ctx, victim.pid), 10), 'victim: its pid has exited',
               f'{victim.pid}: {proc_stat(victim.pid)}')
    r, _ = state(ctx, victim)
    one_line_error(ctx, r, 'victim: state after delete --force fails, one line', unknown_id(victim.id))
    r = ctx.vmctl('list', '-q')
    ctx.tap.ok(r.rc == 0 and victim.id not in r.out.decode().split(), 'victim: no longer listed', *r.diag())

    held = Ctr(ctx, 'held', ['sh', '-c', 'echo ran > /tmp/ran'], pod=pod)
    r = held.create()
    ctx.tap.must(r.rc == 0 and held.pid, 'held: create exits 0', *r.diag())
    r = ctx.vmctl('delete', held.id)
    ctx.tap.ok(r.rc == 0, 'delete of a created (never started) container without --force exits 0 (runc)', *r.diag())
    held.deleted = r.rc == 0
    ctx.tap.ok(wait_until(lambda: gone(ctx, held.pid), 10) and held.file('/tmp/ran') is None,
               'held: its pid exits and its program never ran', f'{held.pid}: {proc_stat(held.pid)}')

    r = main.create(tag='again')
    one_line_error(ctx, r, 'create with the id of an existing container fails, one line naming the id',
                   ctr_error(main.id, 'a container with this id already exists'))
    check_state(ctx, main, 'main: untouched by the refused create', 'running', main.pid)


def errors_logged(ctx, main, pod):
    """Failures inside the shim (conmon-kata reports them to vmctl): one
    line on stderr, one error line in the --log file, nothing left."""
    log = ctx.path('pod-errors.json')
    bad = Ctr(ctx, 'badbin', ['no-such-binary-here'], pod=pod)
    r = bad.create(log=log)
    one_line_error(ctx, r, 'create of a program that does not exist fails, one line naming the id and the program',
                   not_found_error(ctr_error(bad.id, 'unable to start container process'), 'no-such-binary-here'))
    check_json_log(ctx, log, 'no-such-binary-here', 'that create', count=1)
    r, _ = state(ctx, bad)
    # the shim answers vmctl, then exits: a moment, not a leftover
    wait_until(lambda: not procs_mentioning(bad.bundle), 10, 0.05)
    left = procs_mentioning(bad.bundle)
    ctx.tap.ok(r.rc == 1 and r.err == (unknown_id(bad.id) + '\n').encode() and not left
               and (bad.pid is None or gone(ctx, bad.pid)),
               'after the failed create nothing is left: no state, no process', f'state: {r.rc} {short(r.out)}',
               f'running: {left}')
    r = ctx.vmctl('exec', main.id, 'no-such-binary-here', log=log)
    one_line_error(ctx, r, 'exec of a missing binary with --log: still one line on stderr, in runc\'s words (which '
                   'do not name the container)',
                   'vmctl: ' + not_found_error('exec failed: unable to start container process', 'no-such-binary-here'),
                   status=255)
    check_json_log(ctx, log, 'no-such-binary-here', 'that exec', count=2)


def terminal_container(ctx, pod):
    """create --console-socket of a spec with process.terminal."""
    c = Ctr(ctx, 'ttyc', ['sh', '-c', 'tty; stty size; read x; echo "got $x"; exit 4'], pod=pod, terminal=True)
    cs = ConsoleSocket(ctx.path('ttyc.sock'))
    ctx.defer(cs.close)
    r = c.create('--console-socket', cs.path)
    ctx.tap.must(r.rc == 0 and c.pid, 'ttyc: create --console-socket exits 0', *r.diag())
    master, msg, why = cs.receive(10)
    ctx.tap.must(master is not None, 'ttyc: the pty master arrives on the console socket before create returns',
                 why)

    # as runc's: the terminal is all the container has, so a caller that
    # reads create's output to EOF (containerd's runc shim) gets it
    def stdio():
        return [os.readlink(f'/proc/{c.pid}/fd/{n}') if os.path.exists(f'/proc/{c.pid}/fd/{n}') else None
                for n in (0, 1, 2)]
    wait_until(lambda: stdio() == ['/dev/null'] * 3, 10, 0.05)
    ctx.tap.eq('ttyc: its pid keeps none of create\'s stdin, stdout, stderr', ['/dev/null'] * 3, stdio())
    pty = PtyReader(master)
    try:
        set_winsize(master, 25, 90)
        r = ctx.vmctl('start', c.id)
        ctx.tap.ok(r.rc == 0, 'ttyc: start exits 0', *r.diag())
        ctx.tap.ok(pty.until(rb'/dev/pts/\d+\r\n25 90\r\n', 20), 'ttyc: the process has the terminal (tty, stty '
                   'size 25 90) and writes to it', f'output: {pty.out!r}')
        os.write(master, b'hi\n')
        ctx.tap.ok(pty.until(rb'got hi\r\n', 20), 'ttyc: input written to the master reaches it',
                   f'output: {pty.out!r}')
        status = ctx.reaper.wait(c.pid, 20)
        ctx.tap.eq('ttyc: its pid exits with the process\'s status (4)', 4, status)
        check_state(ctx, c, 'ttyc: stopped, pid 0', 'stopped')
    finally:
        os.close(master)
    r = ctx.vmctl('delete', c.id)
    ctx.tap.ok(r.rc == 0, 'ttyc: delete exits 0', *r.diag())
    c.deleted = r.rc == 0


# --- hooks ---------------------------------------------------------------------------------------------


def hook_problems(c, seen, stage, status, pid, netns=None):
    """What is wrong with one hook run as a hooks_seen() entry."""
    (head, js) = seen
    problems = []
    want = [stage, c.id, str(pid), status, 'alive' if pid else 'dead']
    if head[:5] != want:
        problems.append(f'{stage}: saw {head[:5]}, expected {want}')
    if netns is not None and (head[5:] or [''])[0] != netns:
        problems.append(f'{stage}: ran in {head[5:]}, expected {netns}')
    if not isinstance(js, dict):
        problems.append(f'{stage}: its stdin was not a JSON state: {js!r}')
    else:
        if js.get('id') != c.id or js.get('pid') != pid or js.get('status') != status:
            problems.append(f'{stage}: state id/pid/status {js.get("id")}/{js.get("pid")}/{js.get("status")}')
        if js.get('bundle') != c.bundle or not isinstance(js.get('ociVersion'), str):
            problems.append(f'{stage}: state bundle/ociVersion {js.get("bundle")!r}/{js.get("ociVersion")!r}')
        if any((js.get('annotations') or {}).get(k) != v for k, v in c.annotations.items()):
            problems.append(f'{stage}: state annotations {js.get("annotations")!r}')
    return problems


def hooks_lifecycle(ctx, netns):
    """createRuntime, prestart, poststart, poststop around a whole life;
    a failing poststart and poststop hook each come first in their list."""
    hooks = {'prestart': [('prestart',)], 'createRuntime': [('createRuntime',)],
             'poststart': [('poststart-failing', 3), ('poststart',)],
             'poststop': [('poststop-failing', 4), ('poststop',)]}
    c = Ctr(ctx, 'hooked', ['sleep', '1000'], netns=netns, hooks=hooks)
    pod_ns = f'net:[{os.stat(netns).st_ino}]'
    log = ctx.path('hooks-log.json')
    r = c.create(log=log)
    at_create = c.hooks_seen()
    ctx.tap.must(r.rc == 0 and c.pid, 'hooked: create exits 0', *r.diag())
    names = [h[0][0] for h in at_create]
    ctx.tap.eq('hooks: prestart, then createRuntime, both run before create returns (runc\'s order; none of the '
               'later stages)', ['prestart', 'createRuntime'], names)
    problems = []
    for seen, stage in zip(at_create, ('prestart', 'createRuntime')):
        problems += hook_problems(c, seen, stage, 'creating', c.pid, pod_ns)
    ctx.tap.ok(not problems and len(at_create) == 2, 'hooks: prestart and createRuntime read the state on stdin (id, '
               'status "creating", the pid-file\'s pid, alive, bundle, annotations) in the spec\'s network namespace',
               *problems)

    r = ctx.vmctl('start', c.id, log=log)
    seen = c.hooks_seen()
    ctx.tap.ok(r.rc == 0 and r.err == b'', 'hooked: start exits 0 although a poststart hook fails', *r.diag())
    ctx.tap.eq('hooks: after start, poststart ran, every hook of it: the failing one did not stop the list',
               ['prestart', 'createRuntime', 'poststart-failing', 'poststart'], [h[0][0] for h in seen])
    problems = []
    for h, stage in zip(seen[2:], ('poststart-failing', 'poststart')):
        problems += hook_problems(c, h, stage, 'running', c.pid, pod_ns)
    ctx.tap.ok(not problems, 'hooks: poststart read the state: status "running", the live pid', *problems)
    warned = [o for o in json_lines(log) if o.get('level') == 'warning' and 'poststart' in str(o.get('msg'))]
    ctx.tap.ok(warned and hook_path(ctx) in str(warned[0].get('msg')),
               'hooks: the failing poststart hook is a warning in '
               'the --log file, naming the hook', f'log: {json_lines(log)}')

    n = len(seen)
    r = ctx.vmctl('kill', c.id, 'KILL')
    stopped = wait_until(lambda: status_of(ctx, c) == 'stopped', 15)
    ctx.tap.ok(stopped and len(c.hooks_seen()) == n, 'hooks: none runs when the container stops, before delete',
               f'new: {[h[0] for h in c.hooks_seen()[n:]]}', *r.diag())
    r = ctx.vmctl('delete', c.id, log=log)
    c.deleted = r.rc == 0
    seen = c.hooks_seen()
    ctx.tap.ok(r.rc == 0 and r.err == b'', 'hooked: delete exits 0 although a poststop hook fails', *r.diag())
    ctx.tap.eq('hooks: after delete, poststop ran, every hook of it', ['poststop-failing', 'poststop'],
               [h[0][0] for h in seen[n:]])
    problems = []
    for h, stage in zip(seen[n:], ('poststop-failing', 'poststop')):
        problems += hook_problems(c, h, stage, 'stopped', 0)
    ctx.tap.ok(not problems, 'hooks: poststop read the state: status "stopped", pid 0', *problems)
    r, _ = state(ctx, c)
    one_line_error(ctx, r, 'hooked: gone after delete', unknown_id(c.id))


def hooks_failing(ctx, netns, pod):
    """A failing prestart hook (own VM) and a createRuntime hook past its
    timeout (in pod A) each fail create and leave nothing behind."""
    c = Ctr(ctx, 'nohook', ['sleep', '1000'], netns=netns,
            hooks={'prestart': [('prestart', 7)], 'createRuntime': [('createRuntime',)]})
    r = c.create()
    one_line_error(ctx, r, 'a prestart hook that exits 7: create fails, one line naming the container, the hook and '
                   'its status',
                   ctr_error(c.id, f'prestart hook {hook_path(ctx)} exited with status 7: prestart says no'))
    seen = c.hooks_seen()
    ctx.tap.ok([h[0][:5] for h in seen] == [['prestart', c.id, str(seen[0][0][2]) if seen else '', 'creating',
                                             'alive']], 'the failing prestart hook ran once, with a live pid; '
               'createRuntime did not run', f'seen: {[h[0] for h in seen]}')
    pod_dir = os.path.join(ctx.root, 'pods', c.id)
    hook_pid = int(seen[0][0][2]) if seen and seen[0][0][2].isdigit() else None
    clean = wait_until(lambda: not procs_mentioning(c.bundle) and not procs_mentioning(pod_dir)
                       and (hook_pid is None or gone(ctx, hook_pid)), 15)
    r2, _ = state(ctx, c)
    ctx.tap.ok(clean and r2.rc == 1 and r2.err == (unknown_id(c.id) + '\n').encode() and not os.path.exists(pod_dir),
               'after the failed prestart: no state (status 1, "does not exist"), no QEMU, '
               'no pid, no pod directory', f'running: {procs_mentioning(c.bundle) + procs_mentioning(pod_dir)}',
               f'state: {r2.rc}', f'pod dir: {os.path.exists(pod_dir)}')

    slow = Ctr(ctx, 'slowhook', ['sleep', '1000'], pod=pod,
               hooks={'prestart': [('prestart',)], 'createRuntime': [('createRuntime', 0, 31.7, 1)]})
    r = slow.create()
    one_line_error(ctx, r, 'a createRuntime hook past its 1 s timeout: create fails, one line naming the hook and the '
                   'timeout', ctr_error(slow.id, f'createRuntime hook {hook_path(ctx)} timed out after 1 s'))
    ctx.tap.ok(r.secs < 20, 'the timed-out hook is killed: create fails within seconds, not after the hook\'s 31.7 s',
               f'took {r.secs:.1f} s')
    ctx.tap.ok(wait_until(lambda: not procs_mentioning('31.7') and not procs_mentioning(slow.bundle), 10),
               'the hook and what it started are gone; nothing of the container runs',
               f'running: {procs_mentioning("31.7") + procs_mentioning(slow.bundle)}')
    r, _ = state(ctx, slow)
    one_line_error(ctx, r, 'no state is left of it', unknown_id(slow.id))
    check_state(ctx, pod, 'pod A runs on', 'running', pod.pid)


# --- pod A: fidelity with runc (issue 17) -------------------------------------------------------


def mountinfo(text):
    """{mount point: (root, optional fields)} of /proc/self/mountinfo."""
    out = {}
    for line in text.splitlines():
        left, _, _ = line.partition(' - ')
        f = left.split()
        if len(f) >= 6:
            out[f[4]] = (f[3], f[6:])
    return out


def devices_created(ctx, pod):
    """linux.devices: each node made as runc makes it (type, major:minor,
    mode without the umask, owner), a FIFO too, in a folder of its own."""
    c = Ctr(ctx, 'devs', ['sleep', '1000'], pod=pod)
    c.spec['linux']['devices'] = [
        {'path': '/dev/test', 'type': 'c', 'major': 1, 'minor': 3, 'fileMode': 0o640, 'uid': 1234, 'gid': 5678},
        {'path': '/dev/sub/blk', 'type': 'b', 'major': 7, 'minor': 0, 'fileMode': 0o600, 'uid': 0, 'gid': 6},
        {'path': '/dev/fifo', 'type': 'p', 'fileMode': 0o622},
        {'path': '/dev/unb', 'type': 'u', 'major': 1, 'minor': 5}]
    c.write_spec()
    c.must_create_start()
    r = guest_sh(ctx, c, 'umask; for d in /dev/test /dev/sub/blk /dev/fifo /dev/unb; do '
                 'stat -c "%n %F %t:%T %a %u:%g" $d; done; echo x > /dev/test && echo written')
    want = ['0022', '/dev/test character special file 1:3 640 1234:5678',
            '/dev/sub/blk block special file 7:0 600 0:6', '/dev/fifo fifo 0:0 622 0:0',
            '/dev/unb character special file 1:5 666 0:0', 'written']
    ctx.tap.eq('devices: /dev/test is a char device 1:3, mode 0640, owner 1234:5678 (runc\'s mknod); a block device '
               'in a new folder, a FIFO, "u" as a char device with the default mode 0666', want,
               r.out.decode(errors='replace').splitlines(), *r.diag())

    bad = Ctr(ctx, 'baddev', ['true'], pod=pod)
    bad.spec['linux']['devices'] = [{'path': '/etc/test', 'type': 'c', 'major': 1, 'minor': 3}]
    bad.write_spec()
    r = bad.create()
    one_line_error(ctx, r, 'devices: a node outside /dev is refused, one line naming linux.devices[0].path',
                   ctr_error(bad.id, f"create container {bad.id}: linux.devices[0].path: '/etc/test' is not under "
                             "/dev (device nodes are made only on the container's /dev, a tmpfs of the guest)"))
    bad = Ctr(ctx, 'baddev2', ['true'], pod=pod)
    bad.spec['linux']['devices'] = [{'path': '/dev/x', 'type': 'q', 'major': 1, 'minor': 3}]
    bad.write_spec()
    r = bad.create()
    one_line_error(ctx, r, 'devices: an unknown type is refused, one line naming linux.devices[0].type',
                   ctr_error(bad.id, f"create container {bad.id}: linux.devices[0].type: unknown device type 'q'"))
    return c


def mounts_fidelity(ctx, pod):
    """Propagation (a bind,shared mount stays shared under the default
    rslave root) and mount sources that keep their base name."""
    src = ctx.path('prop-src', 'shared-vol')
    plain = ctx.path('prop-src', 'plain-vol')
    conf = ctx.path('prop-src', 'app.conf')
    for d in (src, plain):
        os.makedirs(d, exist_ok=True)
    with open(conf, 'w') as f:
        f.write('conf\n')
    c = Ctr(ctx, 'mnts', ['sleep', '1000'], pod=pod)
    c.spec['mounts'] += [
        # no base name: shared as "<i>", never as "<i>/.." (the share's own mounts folder)
        {'destination': '/mnt/up', 'type': 'bind', 'source': os.path.join(plain, '..'), 'options': ['rbind']},
        {'destination': '/mnt/shared', 'type': 'bind', 'source': src, 'options': ['bind', 'shared']},
        {'destination': '/mnt/plain', 'type': 'bind', 'source': plain, 'options': ['rbind']},
        {'destination': '/etc/app.conf', 'type': 'bind', 'source': conf, 'options': ['bind', 'ro']}]
    c.write_spec()
    c.must_create_start()
    r = guest_sh(ctx, c, 'cat /proc/self/mountinfo')
    mi = mountinfo(r.out.decode(errors='replace'))
    shared = mi.get('/mnt/shared', ('', []))
    ctx.tap.ok(any(o.startswith('shared:') for o in shared[1]), 'propagation: the "bind,shared" mount is shared '
               '(shared:N in mountinfo), not overwritten by the root\'s rslave', f'/mnt/shared: {shared}',
               *r.diag())
    root = mi.get('/', ('', []))
    plain_mi = mi.get('/mnt/plain', ('', []))
    ctx.tap.ok(root[1] and not any(o.startswith('shared:') for o in root[1] + plain_mi[1])
               and any(o.startswith('master:') for o in root[1]),
               'propagation: the root is rslave (master:N, not shared), as is a mount without its own',
               f'/: {root}', f'/mnt/plain: {plain_mi}')
    names = {d: mi.get(d, ('', []))[0] for d in ('/mnt/shared', '/mnt/plain', '/etc/app.conf')}
    ctx.tap.ok(names['/mnt/shared'].endswith('/shared-vol') and names['/mnt/plain'].endswith('/plain-vol')
               and names['/etc/app.conf'].endswith('/app.conf'),
               'mount sources keep their base name in mountinfo ("N/shared-vol", not "N-shared-vol")',
               f'roots: {names}')
    r = guest_sh(ctx, c, 'ls /mnt/up')
    want = ['app.conf', 'plain-vol', 'shared-vol']
    ctx.tap.ok(r.out.decode(errors='replace').split() == want and sorted(os.listdir(os.path.dirname(src))) == want,
               'a source ending in ".." is mounted as the folder it names, and nothing is made in that folder',
               f'/mnt/up: {r.out!r}', f'host: {sorted(os.listdir(os.path.dirname(src)))}', *r.diag())

    rs = Ctr(ctx, 'rshared', ['sleep', '1000'], pod=pod)
    rs.spec['linux']['rootfsPropagation'] = 'rshared'
    rs.write_spec()
    rs.must_create_start()
    r = guest_sh(ctx, rs, 'cat /proc/self/mountinfo')
    root = mountinfo(r.out.decode(errors='replace')).get('/', ('', []))
    ctx.tap.ok(any(o.startswith('shared:') for o in root[1]), 'propagation: rootfsPropagation "rshared" makes the root '
               'shared', f'/: {root}', *r.diag())


def fidelity(ctx, pod):
    for c in (devices_created(ctx, pod),):
        r = ctx.vmctl('delete', '--force', c.id)
        c.deleted = r.rc == 0
    mounts_fidelity(ctx, pod)
    for c in ctx.ctrs:
        if c.name in ('mnts', 'rshared') and c.created and not c.deleted:
            r = ctx.vmctl('delete', '--force', c.id)
            c.deleted = r.rc == 0


def chown_tree(top, uid, gid):
    for d, dirs, files in os.walk(top):
        for name in [d] + [os.path.join(d, n) for n in dirs + files]:
            os.lchown(name, uid, gid)


def user_namespace(ctx, pod):
    """A user namespace with the spec's mappings (Podman's --uidmap, CRI-O's
    userns annotations, Kubernetes' hostUsers: false): the rootfs belongs
    to the chosen host range, as those tools prepare it, and appears as
    root's inside, as under runc."""
    c = Ctr(ctx, 'userns', ['sleep', '1000'], pod=pod)
    c.spec['linux']['namespaces'].append({'type': 'user'})
    c.spec['linux']['uidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
    c.spec['linux']['gidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 1000},
                                      {'containerID': 1000, 'hostID': 201000, 'size': 64536}]
    c.spec['linux']['devices'] = [{'path': '/dev/test', 'type': 'c', 'major': 1, 'minor': 3, 'uid': 1000,
                                   'gid': 1000}]
    c.spec['process']['oomScoreAdj'] = -500  # lowering it needs the guest's root, outside the namespace
    c.write_spec()
    chown_tree(c.rootfs, 100000, 100000)
    with open(os.path.join(c.rootfs, 'host-root-file'), 'w') as f:
        f.write('x\n')  # the host's root: outside the mapping
    c.must_create_start()
    r = guest_sh(ctx, c, 'id; cat /proc/self/uid_map /proc/self/gid_map; stat -c "%n %u:%g" /bin/busybox /etc '
                 '/host-root-file; touch /tmp/made-by-root; mkdir -p /home/u && chown 1000:1000 /home/u')
    lines = [ln.split() for ln in r.out.decode(errors='replace').splitlines()]
    want = [['0', '100000', '65536'], ['0', '100000', '1000'], ['1000', '201000', '64536'],
            ['/bin/busybox', '0:0'], ['/etc', '0:0'], ['/host-root-file', '65534:65534']]
    ctx.tap.ok(r.rc == 0 and lines[:1] and lines[0][:2] == ['uid=0(root)', 'gid=0(root)'] and lines[1:] == want,
               'user namespace: `id` says root, /proc/self/uid_map and gid_map are the spec\'s mappings, the rootfs '
               '(host 100000) is root\'s inside, a file of the host\'s root is the overflow id 65534',
               f'lines: {lines}',
               *r.diag())
    made = os.stat(os.path.join(c.rootfs, 'tmp', 'made-by-root'), follow_symlinks=False) \
        if os.path.exists(os.path.join(c.rootfs, 'tmp', 'made-by-root')) else None
    home = os.stat(os.path.join(c.rootfs, 'home', 'u')) if os.path.isdir(os.path.join(c.rootfs, 'home', 'u')) \
        else None
    ctx.tap.ok(made and (made.st_uid, made.st_gid) == (100000, 100000) and home
               and (home.st_uid, home.st_gid) == (101000, 201000),
               'user namespace: files the container makes belong to the mapped host ids (root -> 100000, '
               '1000:1000 -> 101000:201000)', f'made-by-root: {made}', f'home/u: {home}')
    r = guest_sh(ctx, c, 'stat -c "%n %u:%g" /dev /dev/shm /dev/test; touch /dev/by-root && echo written')
    ctx.tap.eq('user namespace: the tmpfs mounts (/dev, /dev/shm) belong to the container\'s root, which can write '
               'there; a device node has the spec\'s owner', ['/dev 0:0', '/dev/shm 0:0', '/dev/test 1000:1000',
                                                              'written'],
               r.out.decode(errors='replace').splitlines(), *r.diag())
    r = guest_sh(ctx, c, 'cat /proc/1/oom_score_adj')
    ctx.tap.eq('user namespace: the init has the spec\'s negative oomScoreAdj (written before the namespace is '
               'entered, as runc\'s parent writes it)', '-500', r.out.decode(errors='replace').strip(), *r.diag())
    r = ctx.vmctl('exec', '--user', '1000:1000', c.id, 'sh', '-c', 'id -u; id -g; cat /proc/self/uid_map')
    ctx.tap.ok(r.rc == 0 and r.out.decode().split()[:5] == ['1000', '1000', '0', '100000', '65536'],
               'user namespace: exec --user 1000:1000 joins the container\'s user namespace', *r.diag())
    r = ctx.vmctl('delete', '--force', c.id)
    c.deleted = r.rc == 0

    bad = Ctr(ctx, 'userns-nomap', ['true'], pod=pod)
    bad.spec['linux']['namespaces'].append({'type': 'user'})
    bad.write_spec()
    r = bad.create()
    one_line_error(ctx, r, 'user namespace without uidMappings: create fails, one line naming linux.uidMappings',
                   ctr_error(bad.id, f'create container {bad.id}: linux.uidMappings: required for a new user '
                             'namespace'))
    rr = runc_create(ctx, bad)
    ctx.tap.ok(rr.rc not in (0, None) and b'no uid mappings' in rr.err, 'user namespace without uidMappings: runc '
               'refuses the same bundle', *rr.diag())


# --- a sandbox's namespace paths (issue 17, item 2) ---------------------------------------------


def runc_create(ctx, c):
    """runc's verdict on the same bundle: (exit status, stderr)."""
    root = ctx.path('runc-root')
    r = run_cmd(['runc', '--root', root, 'create', c.id + '-runc'], timeout=30, cwd=c.bundle, env=ctx.runtime_env())
    run_cmd(['runc', '--root', root, 'delete', '--force', c.id + '-runc'], timeout=30, env=ctx.runtime_env())
    return r


def sandbox_namespaces(ctx):
    """A sandbox (its own VM) whose namespace paths are wrong: refused
    before any VM starts, one line naming the type and the path; runc
    refuses the same bundles."""
    holder = subprocess.Popen(['sleep', '1000'])
    ctx.on_stop(lambda: end_holder(holder))
    other_mnt = f'/proc/{holder.pid}/ns/mnt'
    missing = ctx.path('no-such-ns')
    fifo = ctx.path('ns-fifo')
    os.mkfifo(fifo)

    def host_ns(kind):
        return (f"the host's own {kind} namespace; a VM cannot join it (its containers' namespaces live in the "
                'guest kernel)')

    cases = [('ipc-wrong-type', 'ipc', other_mnt, 'the path is a mount namespace, not ipc', True),
             ('ipc-missing', 'ipc', missing, 'No such file or directory', True),
             ('net-wrong-type', 'network', f'/proc/{holder.pid}/ns/uts', 'the path is a uts namespace, not network',
              True),
             ('net-missing', 'network', missing, 'No such file or directory', True),
             ('ipc-host', 'ipc', f'/proc/{os.getpid()}/ns/ipc', host_ns('ipc'), False),
             ('uts-host', 'uts', '/proc/self/ns/uts', host_ns('uts'), False),
             # runc would block opening it: not compared
             ('ipc-fifo', 'ipc', fifo, 'not a namespace', False)]
    for name, kind, path, reason, runc_refuses in cases:
        c = Ctr(ctx, f'ns-{name}', ['true'])
        entries = [ns for ns in c.spec['linux']['namespaces'] if ns['type'] == kind]
        if entries:
            entries[0]['path'] = path
        else:
            c.spec['linux']['namespaces'].append({'type': kind, 'path': path})
        c.write_spec()
        r = c.create()
        one_line_error(ctx, r, f'sandbox with {kind} path {path}: create fails, one line naming the type and the path',
                       ctr_error(c.id, f'{kind} namespace {path}: {reason}'))
        pod_dir = os.path.join(ctx.root, 'pods', c.id)
        ctx.tap.ok(r.secs < 10 and not os.path.exists(pod_dir) and not procs_mentioning(pod_dir),
                   f'{name}: refused before a VM starts; nothing is left', f'took {r.secs:.1f} s')
        if runc_refuses:
            rr = runc_create(ctx, c)
            ctx.tap.ok(rr.rc not in (0, None), f'{name}: runc refuses the same bundle too', *rr.diag())


# --- confinement (docs/security.md) ----------------------------------------------------------------------

SANDBOX = 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny'
# CAP_CHOWN 0, CAP_DAC_OVERRIDE 1, CAP_FOWNER 3, CAP_FSETID 4: what QEMU keeps to serve the 9p share
SHARE_CAPS = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 4)
QEMU_DEVICES = ('/dev/null', '/dev/kvm', '/dev/net/tun', '/dev/vhost-net', '/dev/vhost-vsock')
NOBODY = 65534


def qemu_of(ctx, c):
    pod_dir = os.path.join(ctx.root, 'pods', c.id)
    return [p for p, comm, _ in procs_mentioning(pod_dir) if comm.startswith('qemu')]


def proc_status(pid):
    fields = {}
    for line in (read_bytes(f'/proc/{pid}/status') or b'').decode(errors='replace').splitlines():
        key, _, value = line.partition(':')
        fields[key] = value.strip()
    return fields


def open_devices(pid):
    out = set()
    for fd in os.listdir(f'/proc/{pid}/fd'):
        try:
            target = os.readlink(f'/proc/{pid}/fd/{fd}')
        except OSError:
            continue
        if target.startswith('/dev/'):
            out.add(target)
    return out


def qemu_confined(ctx, main):
    qemu = qemu_of(ctx, main)
    ctx.tap.must(len(qemu) == 1, 'main: one QEMU runs for its pod', f'QEMU: {qemu}')
    st = proc_status(qemu[0])
    sets = {k: int(st[k], 16) if k in st else None for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb')}
    ctx.tap.eq('QEMU keeps only what the 9p share needs (CHOWN, DAC_OVERRIDE, FOWNER, FSETID) in its permitted, '
               'effective and bounding sets; nothing inheritable or ambient',
               {'CapInh': 0, 'CapPrm': SHARE_CAPS, 'CapEff': SHARE_CAPS, 'CapBnd': SHARE_CAPS, 'CapAmb': 0},
               sets, {k: hex(v) if v is not None else v for k, v in sets.items()})
    ctx.tap.eq('QEMU runs with no_new_privs and a seccomp filter (Seccomp: 2)', ('1', '2'),
               (st.get('NoNewPrivs'), st.get('Seccomp')))
    argv = (read_bytes(f'/proc/{qemu[0]}/cmdline') or b'').split(b'\0')
    sandbox = argv[argv.index(b'-sandbox') + 1].decode() if b'-sandbox' in argv[:-1] else None
    ctx.tap.eq('QEMU\'s command line has -sandbox with Kata\'s recommended value', SANDBOX, sandbox)
    devices = open_devices(qemu[0])
    ctx.tap.ok(devices <= set(QEMU_DEVICES), 'QEMU holds no host device open but /dev/null, /dev/kvm, /dev/net/tun and '
               '/dev/vhost-*', f'open: {sorted(devices)}')
    pod_dir = os.path.join(ctx.root, 'pods', main.id)
    modes = tuple(oct(stat.S_IMODE(os.lstat(p).st_mode)) for p in (pod_dir, os.path.join(pod_dir, 'ctl.sock')))
    ctx.tap.eq('the pod\'s folder is 0700, its control socket 0600', ('0o700', '0o600'), modes)


def share_with_fewer_caps(ctx, main):
    """The capabilities QEMU keeps are the ones the guest's root needs on
    a rootfs whose files belong to someone else (security_model=none):
    each operation below fails without one of them (measured:
    docs/security.md). mknod over the share fails (ENXIO) even with every
    capability, so QEMU keeps no CAP_MKNOD."""
    top = os.path.join(main.rootfs, 'owned')
    os.makedirs(top, mode=0o755)
    for name in ('f', 'g'):
        with open(os.path.join(top, name), 'w') as f:
            f.write('x\n')
        os.chmod(os.path.join(top, name), 0o755)
    chown_tree(top, 1000, 1000)
    r = guest_sh(ctx, main, 'echo new > /owned/new && chown 1000:1000 /owned/new && chmod 0600 /owned/f && '
                 'chmod 2755 /owned/g && echo done')
    ctx.tap.ok(r.rc == 0 and r.out == b'done\n', 'in the guest, root writes into a folder of uid 1000, chowns, '
               'chmods another\'s file and keeps a set-gid bit on it', *r.diag())
    seen = {}
    for name in ('new', 'f', 'g'):
        try:
            sb = os.lstat(os.path.join(top, name))
            seen[name] = (sb.st_uid, oct(stat.S_IMODE(sb.st_mode)), stat.S_ISCHR(sb.st_mode))
        except OSError as e:
            seen[name] = str(e)
    ctx.tap.eq('the host sees each change on the real files',
               {'new': (1000, '0o644', False), 'f': (1000, '0o600', False), 'g': (1000, '0o2755', False)}, seen)


def libc_setfsuid(uid):
    import ctypes
    return ctypes.CDLL(None, use_errno=True).setfsuid(uid)


def peer_says(ctx, path, uid, fsuid=None, request=None):
    """What a peer of another uid reads from the socket at path: a forked
    child with effective uid `uid` (SO_PEERCRED reports it) and, for the
    lookup, file-system uid `fsuid`. The bytes it read before EOF, or the
    error it met."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            os.setgroups([])
            os.setegid(uid)
            os.seteuid(uid)
            if fsuid is not None:
                libc_setfsuid(fsuid)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(10)
            s.connect(path)
            try:
                if request is not None:
                    s.sendall(request)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused (and closed) before the request went: the line is still there to read
            got = b''
            try:
                while len(got) < 4096:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
            except ConnectionResetError:
                pass  # the line came; then the close of a socket with our request unread
            os.write(w, got)
        except BaseException as e:  # noqa: B036 (the child must reach _exit)
            os.write(w, f'error: {e}'.encode())
        finally:
            os._exit(0)
    os.close(w)
    out = b''
    with os.fdopen(r, 'rb') as f:
        out = f.read()
    ctx.reaper.wait(pid, 15)
    return out


def version_request(rid):
    body = json.dumps({'op': 'version', 'protocol': 1}).encode()
    return struct.pack('>BBBBII', 0xC7, 1, 0, 0, rid, len(body)) + body


def root_asks_version(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    try:
        s.connect(path)
        s.sendall(version_request(7))
        head = b''
        while len(head) < 12:
            chunk = s.recv(12 - len(head))
            if not chunk:
                return head
            head += chunk
        magic, kind, _, _, rid, length = struct.unpack('>BBBBII', head)
        payload = b''
        while len(payload) < length:
            payload += s.recv(length - len(payload))
        return (magic, kind, rid, 'result' in json.loads(payload))
    finally:
        s.close()


def control_socket_peers(ctx, main):
    path = os.path.join(ctx.root, 'pods', main.id, 'ctl.sock')
    got = peer_says(ctx, path, NOBODY)
    ctx.tap.eq(f'uid {NOBODY} cannot even reach the control socket (0700 folder)',
               b'error: [Errno 13] Permission denied', got)
    # file-system uid 0 for the lookup; SO_PEERCRED reports the effective uid
    got = peer_says(ctx, path, NOBODY, fsuid=0, request=version_request(1))
    ctx.tap.eq(f'a peer of uid {NOBODY} that gets to the socket and sends a request is refused: one line, then the end',
               f'control socket: uid {NOBODY} refused: only root may connect\n'.encode(), got)
    ctx.tap.eq('root still gets an answer from the same monitor (a version response)', (0xC7, 2, 7, True),
               root_asks_version(path))
    ctx.tap.eq('main runs on', 'running', status_of(ctx, main))


# --- kill -9 of a per-container monitor ----------------------------------------------------------------------


def ticks(c):
    t = c.file('/tmp/tick')
    return int(t) if t and t.strip().isdigit() else None


def still_ticking(c, secs=1.5):
    before = ticks(c)
    time.sleep(secs)
    return before is not None and ticks(c) != before


def container_monitor_killed(ctx, main):
    """The monitor of a container that joined pod A dies (SIGKILL): the
    pod monitor sees its connection close and kills the container's
    process in the guest; vmctl answers for it as a stopped container."""
    c = Ctr(ctx, 'side', ['/init.sh'], script=INIT_SCRIPT, pod=main)
    c.must_create_start()
    ctx.tap.ok(wait_until(lambda: still_ticking(c), 20), 'side: its program runs in the guest', f'tick: {ticks(c)}')
    comm = (proc_stat(c.pid) or {}).get('comm')
    ctx.tap.eq('side: the pid-file\'s pid is its monitor', 'conmon-kata', comm)
    os.kill(c.pid, signal.SIGKILL)
    ctx.tap.eq('side: its monitor died of SIGKILL', -9, ctx.reaper.wait(c.pid, 10))
    stopped = wait_until(lambda: status_of(ctx, c) == 'stopped', 15)
    check_state(ctx, c, 'side: state answers: stopped, pid 0', 'stopped')
    ctx.tap.ok(stopped and wait_until(lambda: not still_ticking(c, 1), 10),
               'side: its program no longer runs in the guest (the tick stopped)', f'tick: {ticks(c)}')
    r = ctx.vmctl('kill', c.id, 'KILL')
    one_line_error(ctx, r, 'side: kill fails, one line ("not running")', ctr_error(c.id, 'container not running'))
    r = ctx.vmctl('delete', c.id)
    ctx.tap.ok(r.rc == 0 and r.err == b'', 'side: delete exits 0', *r.diag())
    c.deleted = r.rc == 0
    ctx.tap.ok(not os.path.exists(os.path.join(ctx.root, 'containers', c.id)) and not procs_mentioning(c.bundle),
               'side: nothing of it is left in the runtime root or running', f'running: {procs_mentioning(c.bundle)}')
    ctx.tap.ok(still_ticking(main), 'main, in the same pod, runs on')


# --- VM D: kill -9 of the pod monitor ---------------------------------------------------------------------


def add_veth(netns, host_name):
    """An interface for the pod's namespace `netns` (a name), so that the pod makes a tap."""
    for cmd in (['ip', 'link', 'add', host_name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns],
                ['ip', '-n', netns, 'addr', 'add', '192.0.2.2/24', 'dev', 'eth0'],
                ['ip', '-n', netns, 'link', 'set', 'eth0', 'up']):
        r = subprocess.run(cmd, capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f'{" ".join(cmd)}: {r.stderr!r}')


def pod_monitor_killed(ctx):
    """The pod monitor (the sandbox container's monitor, QEMU's parent)
    dies (SIGKILL): QEMU goes with it (PR_SET_PDEATHSIG), the other
    container's monitor sees the pod connection close and ends, vmctl
    reports both stopped and delete leaves nothing."""
    name = f'{ctx.prefix}-d-{ctx.token}'
    rc, _, err = run('ip', 'netns', 'add', name)
    ctx.tap.must(rc == 0, f'ip netns add {name}', err)
    ctx.defer(lambda: netns_del(name))
    add_veth(name, f'ckd-{ctx.token}')
    cgroup = f'{main_cgroup(ctx)}-d'
    ctx.defer(lambda: remove_cgroup(cgroup))
    d = Ctr(ctx, 'vmd', ['/init.sh'], script=INIT_SCRIPT, netns=f'/var/run/netns/{name}', cgroup=cgroup)
    d.must_create_start()
    d2 = Ctr(ctx, 'vmd2', ['/init.sh'], script=INIT_SCRIPT, pod=d, netns=f'/var/run/netns/{name}')
    d2.must_create_start()
    pod_dir = os.path.join(ctx.root, 'pods', d.id)
    qemu = qemu_of(ctx, d)
    ctx.tap.must(len(qemu) == 1, 'vmd: one QEMU runs for its pod', f'QEMU: {qemu}')
    taps = [n for n in links_in(name) if n not in ('lo', 'eth0')]
    ctx.tap.ok(len(taps) == 1 and wait_until(lambda: still_ticking(d2), 20),
               'vmd: the pod has its tap, and both containers run', f'links: {links_in(name)}')
    ctx.tap.eq('vmd: the pid-file\'s pid is the pod monitor, QEMU\'s parent', d.pid,
               (proc_stat(qemu[0]) or {}).get('ppid'))
    os.kill(d.pid, signal.SIGKILL)
    ctx.tap.eq('vmd: the pod monitor died of SIGKILL', -9, ctx.reaper.wait(d.pid, 10))
    ctx.tap.ok(wait_until(lambda: gone(ctx, qemu[0]), 5), 'vmd: QEMU does not outlive it (gone within 5 s)',
               f'{qemu[0]}: {proc_stat(qemu[0])}')
    # orphaned, QEMU came to us (the child subreaper): its status is ours to see
    ctx.tap.eq('vmd: QEMU was killed by SIGKILL, its parent-death signal', -9, ctx.reaper.poll(qemu[0]))
    status = ctx.reaper.wait(d2.pid, 20)
    ctx.tap.ok(status is not None, 'vmd2: its monitor sees the pod go and exits', f'{d2.pid}: {proc_stat(d2.pid)}',
               f'status {status}')
    ctx.tap.note(f'vmd2: its monitor exited with {status}')
    for c in (d, d2):
        check_state(ctx, c, f'{c.name}: state answers: stopped, pid 0', 'stopped')
        r = ctx.vmctl('kill', c.id, 'KILL')
        one_line_error(ctx, r, f'{c.name}: kill fails, one line ("not running")',
                       ctr_error(c.id, 'container not running'))
    for c in (d2, d):
        r = ctx.vmctl('delete', c.id)
        ctx.tap.ok(r.rc == 0, f'{c.name}: delete exits 0', *r.diag())
        c.deleted = r.rc == 0
    left = wait_until(lambda: not procs_mentioning(pod_dir) and not procs_mentioning(d.bundle)
                      and not procs_mentioning(d2.bundle), 10)
    ctx.tap.ok(left, 'vmd: no process of the pod is left',
               *[f'{p} {comm}' for t in (pod_dir, d.bundle, d2.bundle) for p, comm, _ in procs_mentioning(t)])
    ctx.tap.eq('vmd: no mount is left under its pod folder or bundles', [],
               mounts_under(pod_dir) + mounts_under(d.bundle) + mounts_under(d2.bundle))
    ctx.tap.ok(not os.path.exists(pod_dir) and not any(os.path.exists(os.path.join(ctx.root, 'containers', c.id))
                                                       for c in (d, d2)),
               'vmd: the runtime root holds nothing of the pod or its containers',
               f'pod dir: {os.path.exists(pod_dir)}')
    ctx.tap.eq('vmd: no tap is left in the pod\'s network namespace', ['eth0', 'lo'], links_in(name))
    cg = [os.path.join('/sys/fs/cgroup', c, cgroup.lstrip('/')) for c in os.listdir('/sys/fs/cgroup')]
    ctx.tap.eq('vmd: no host cgroup is left', [], [p for p in cg if os.path.isdir(p)])


# --- VM B: QEMU killed -------------------------------------------------------------------------------


def qemu_killed(ctx):
    b = Ctr(ctx, 'vmb', ['sleep', '1000'])
    b.must_create_start()
    pod_dir = os.path.join(ctx.root, 'pods', b.id)
    qemu = [p for p, comm, _ in procs_mentioning(pod_dir) if comm.startswith('qemu')]
    ctx.tap.must(len(qemu) == 1, 'vmb: one QEMU runs for its pod', f'QEMU: {qemu}')
    os.kill(qemu[0], signal.SIGKILL)
    t0 = now()
    seen = []
    while now() - t0 < 15:
        r, js = state(ctx, b)
        seen.append((js.get('status') if isinstance(js, dict) else None,
                     js.get('pid') if isinstance(js, dict) else None, r.rc, round(r.secs, 2)))
        if seen[-1][0] == 'stopped':
            break
        time.sleep(0.1)
    took = now() - t0
    ctx.tap.ok(seen and seen[-1][:3] == ('stopped', 0, 0) and took < 10
               and all(s[2] == 0 and s[3] < 5 and s[0] in ('running', 'stopped') for s in seen),
               'after kill -9 of QEMU, state says stopped with pid 0 within 10 s; every state call answers at once, '
               'exit 0', f'took {took:.1f} s', f'(status, pid, rc, secs): {seen[-10:]}')
    ctx.tap.ok(wait_until(lambda: gone(ctx, b.pid), 10), 'vmb: the pid-file\'s pid exits too',
               f'{b.pid}: {proc_stat(b.pid)} status {ctx.reaper.poll(b.pid)}')
    console = os.path.join(pod_dir, 'console.log')
    want = f"the pod's VM stopped: QEMU exited with signal 9 (console log: {console})"
    _, js = state(ctx, b)
    ctx.tap.eq('vmb: `state` says why in the annotation io.conmon-kata.stop-reason', want,
               ((js or {}).get('annotations') or {}).get('io.conmon-kata.stop-reason'))
    r = ctx.vmctl('kill', b.id, 'KILL')
    one_line_error(ctx, r, 'vmb: kill after the VM died fails, one line ("not running")',
                   ctr_error(b.id, 'container not running'))
    r = ctx.vmctl('delete', b.id)
    ctx.tap.ok(r.rc == 0, 'vmb: delete (no --force) of the dead container exits 0', *r.diag())
    b.deleted = r.rc == 0
    left = wait_until(lambda: not procs_mentioning(pod_dir) and not procs_mentioning(b.bundle), 10)
    ctx.tap.ok(left and not os.path.exists(pod_dir), 'vmb: nothing of its pod is left running or on disk',
               f'running: {procs_mentioning(pod_dir) + procs_mentioning(b.bundle)}',
               f'pod dir exists: {os.path.exists(pod_dir)}')
    r, _ = state(ctx, b)
    one_line_error(ctx, r, 'vmb: state after delete fails, one line', unknown_id(b.id))


# --- VM C: a wedged VM (the agent watchdog) ------------------------------------------------------------------


def agent_wedged(ctx):
    """QEMU stopped (SIGSTOP: it runs no vCPU and answers nothing, as a
    wedged guest): with keepalive_timeout = 3 the pod monitor gives up on
    the agent, stops QEMU, and the container ends as when QEMU dies."""
    config = ctx.config('keepalive.toml', keepalive_timeout=3)
    c = Ctr(ctx, 'vmc', ['sleep', '1000'], config=config)
    c.must_create_start()
    pod_dir = os.path.join(ctx.root, 'pods', c.id)
    qemu = [p for p, comm, _ in procs_mentioning(pod_dir) if comm.startswith('qemu')]
    ctx.tap.must(len(qemu) == 1, 'vmc: one QEMU runs for its pod', f'QEMU: {qemu}')
    time.sleep(4)  # longer than the timeout: a healthy agent keeps the pod alive
    r, js = state(ctx, c)
    ctx.tap.ok(isinstance(js, dict) and js.get('status') == 'running', 'vmc: a healthy pod outlives keepalive_timeout',
               *r.diag())
    os.kill(qemu[0], signal.SIGSTOP)
    t0 = now()
    stopped = wait_until(lambda: status_of(ctx, c) == 'stopped', 20)
    took = now() - t0
    ctx.tap.ok(stopped and 2 <= took <= 15, 'vmc: with QEMU frozen, the watchdog ends the pod after about '
               'keepalive_timeout (3 s): state says stopped', f'took {took:.1f} s', f'status: {status_of(ctx, c)}')
    ctx.tap.ok(wait_until(lambda: not pid_alive(qemu[0]), 10), 'vmc: the frozen QEMU is gone',
               f'{qemu[0]}: {proc_stat(qemu[0])}')
    ctx.tap.ok(wait_until(lambda: gone(ctx, c.pid), 10), 'vmc: the pid-file\'s pid exits too',
               f'{c.pid}: {proc_stat(c.pid)}')
    r = ctx.vmctl('delete', c.id)
    ctx.tap.ok(r.rc == 0, 'vmc: delete exits 0', *r.diag())
    c.deleted = r.rc == 0
    ctx.tap.ok(wait_until(lambda: not procs_mentioning(pod_dir), 10) and not os.path.exists(pod_dir),
               'vmc: nothing of its pod is left running or on disk', f'running: {procs_mentioning(pod_dir)}')


# --- pod A: the end -----------------------------------------------------------------------------------------


def the_end(ctx, main):
    r = ctx.vmctl('kill', main.id)
    ctx.tap.ok(r.rc == 0, 'kill without a signal (SIGTERM) exits 0', *r.diag())
    stopped = wait_until(lambda: status_of(ctx, main) == 'stopped', 15)
    ctx.tap.ok(stopped and 'TERM' in signals_seen(main), 'main: its trap ran and it stopped',
               f'signals: {signals_seen(main)}')
    check_state(ctx, main, 'main: state after its exit: stopped, pid 0', 'stopped')
    status = ctx.reaper.wait(main.pid, 10)
    ctx.tap.eq('main: the pid-file\'s pid exits with the program\'s status (3)', 3, status,
               f'{main.pid}: {proc_stat(main.pid)}')
    r = ctx.vmctl('kill', main.id, 'KILL')
    one_line_error(ctx, r, 'main: kill of the stopped container fails, one line',
                   ctr_error(main.id, 'container not running'))
    r = ctx.vmctl('exec', main.id, 'true')
    one_line_error(ctx, r, 'main: exec in the stopped container fails, one line',
                   ctr_error(main.id, 'cannot exec in a stopped container'))
    r = ctx.vmctl('start', main.id)
    one_line_error(ctx, r, 'main: start of the stopped container fails, one line',
                   ctr_error(main.id, 'cannot start a container that has stopped'))
    r = ctx.vmctl('delete', main.id)
    ctx.tap.ok(r.rc == 0 and r.err == b'', 'main: delete exits 0', *r.diag())
    main.deleted = r.rc == 0
    pod_dir = os.path.join(ctx.root, 'pods', main.id)
    left = wait_until(lambda: not procs_mentioning(pod_dir), 15)
    ctx.tap.ok(left and not os.path.exists(pod_dir), 'main: its VM is gone, and its pod directory',
               f'running: {procs_mentioning(pod_dir)}')

    def cgroup_dirs():
        return [d for d in (os.path.join('/sys/fs/cgroup', c, main_cgroup(ctx).lstrip('/'))
                            for c in os.listdir('/sys/fs/cgroup')) if os.path.isdir(d)]
    ctx.tap.ok(wait_until(lambda: not cgroup_dirs(), 5), 'main: the host cgroup made for its cgroupsPath is removed '
               '(its pid left it first)', f'left: {cgroup_dirs()}')
    r = ctx.vmctl('list', '--format', 'json')
    ctx.tap.eq('`list --format json` is "null" again', b'null\n', r.out, *r.diag())


# --- cleanup -------------------------------------------------------------------------------------------------


def hook_path(ctx):
    """The hook script every hook of the run runs (HOOK_SCRIPT)."""
    return ctx.path('hook.sh')


def main_cgroup(ctx):
    """The cgroupsPath of pod A's main container."""
    return f'/ckoci-{ctx.token}'


def end_holder(p):
    p.kill()
    p.wait()


def remove_cgroup(cgroup):
    """A cgroupsPath's folder in every hierarchy (once empty)."""
    for ctrl in os.listdir('/sys/fs/cgroup'):
        try:
            os.rmdir(os.path.join('/sys/fs/cgroup', ctrl, cgroup.lstrip('/')))
        except OSError:
            pass


def teardown(ctx):
    """Every container made goes away (runc's, sockets, holders: their own
    on_stop and defer); the last checks say whether it went by itself."""
    for c in reversed(ctx.ctrs):
        if c.created and not c.deleted:
            ctx.vmctl('delete', '--force', c.id, timeout=30)


def last_checks(ctx):
    """Once everything was stopped: nothing runs, nothing is mounted."""
    nothing_left(ctx, 'nothing mentioning the runtime root or the bundles is left running', [ctx.root, ctx.tmp], 20)
    for c in ctx.ctrs:
        if c.pid and not gone(ctx, c.pid):
            signal_quietly(c.pid, signal.SIGKILL)
    ctx.reaper.reap_all()
    left = unmount_under(ctx.root)
    ctx.tap.ok(not left, 'no mount is left under the runtime root (the pods\' shares)', *left)


def pod_a(ctx):
    netns = netns_path(ctx.add_netns(''))
    main = Ctr(ctx, 'main', ['/init.sh'], script=INIT_SCRIPT, cgroup=main_cgroup(ctx), netns=netns)
    ctx.tap.item('lifecycle', lambda: lifecycle(ctx, main, netns))
    if not main.created or status_of(ctx, main) != 'running':
        ctx.tap.ok(False, 'pod A is not running: the checks that need it were not made')
        return
    for name, fn in (('QEMU confined', lambda: qemu_confined(ctx, main)),
                     ('the 9p share with QEMU\'s few capabilities', lambda: share_with_fewer_caps(ctx, main)),
                     ('control socket: peers of another uid', lambda: control_socket_peers(ctx, main)),
                     ('runc\'s layout', lambda: runc_layout(ctx, main)),
                     ('runc\'s words for a create that cannot start', lambda: create_words(ctx, main)),
                     ('exec', lambda: exec_basics(ctx, main)),
                     ('exec --detach', lambda: exec_detached(ctx, main)),
                     ('concurrent execs', lambda: exec_concurrent(ctx, main)),
                     ('exec --tty', lambda: exec_tty(ctx, main)),
                     ('ps, pause, resume', lambda: ps_pause(ctx, main)),
                     ('update', lambda: update(ctx, main)),
                     ('fidelity with runc: devices, propagation, mount names', lambda: fidelity(ctx, main)),
                     ('user namespace', lambda: user_namespace(ctx, main)),
                     ('kill', lambda: kill_semantics(ctx, main, main)),
                     ('delete', lambda: delete_semantics(ctx, main, main)),
                     ('errors in the shim', lambda: errors_logged(ctx, main, main)),
                     ('terminal container', lambda: terminal_container(ctx, main)),
                     ('hooks through a life', lambda: hooks_lifecycle(ctx, netns)),
                     ('failing hooks', lambda: hooks_failing(ctx, netns, main))):
        ctx.tap.item(name, fn)
    ctx.tap.item('a per-container monitor killed', lambda: container_monitor_killed(ctx, main))
    ctx.tap.item('VM D: the pod monitor killed', pod_monitor_killed, ctx)
    ctx.tap.item('VM B: QEMU killed', qemu_killed, ctx)
    ctx.tap.item('VM C: a wedged VM', agent_wedged, ctx)
    ctx.tap.item('the end of pod A', lambda: the_end(ctx, main))


def main():
    def body(ctx):
        with open(hook_path(ctx), 'w') as f:
            f.write(HOOK_SCRIPT)
        os.chmod(hook_path(ctx), 0o755)
        ctx.on_stop(lambda: last_checks(ctx))
        ctx.defer(lambda: remove_cgroup(main_cgroup(ctx)))
        ctx.on_stop(lambda: teardown(ctx))
        ctx.tap.item('the command line', no_container, ctx)
        ctx.tap.item('a sandbox\'s namespace paths', sandbox_namespaces, ctx)
        ctx.tap.item('pod A', pod_a, ctx)
    return run_suite('ckoci', body)


if __name__ == '__main__':
    sys.exit(main())
