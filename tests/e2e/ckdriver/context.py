"""The context of one suite's run: created once in the suite's main,
passed explicitly to every function that needs it, and taken down in
`__exit__` whatever happened.

A Context holds what used to be module globals of every driver: its TAP
stream (`tap`), its reaper of child statuses (`reaper`), the build's
paths (`env`), the variables every runtime call and monitor gets
(`extra_env`), the run's runtime root and scratch directory, the
configuration files it wrote, and two stacks of things to undo:

  * `on_stop(fn)`: what stops processes (containers, daemons); run first
    at exit, last registered first,
  * `defer(fn)`: what releases resources once nothing runs (network
    namespaces, cgroups, mounts, the suite's own); run next, last
    registered first; the directories go last of all.

`run_suite()` is every driver's main: it checks what the suite needs
(a TAP skip line otherwise), becomes the child subreaper, opens the
context, runs the body and prints the plan after the cleanup's checks.
"""
import json
import os
import re
import secrets
import signal
import subprocess
import tempfile
import traceback

from .procs import Reaper, Result, run_cmd, set_child_subreaper
from .tap import Abort, Tap
from .util import now, read_bytes, rm_rf

# the PATH CRI-O (and a runtime harness) runs the runtime with
RUNTIME_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'


class Env:
    """The build as meson describes it to a test (CK_BUILD_ROOT,
    CK_SOURCE_ROOT, CK_TEST_CONFIG, CK_TEST_ROOTFS, CK_CRIO_SAMPLES,
    CK_SYSTEMD_PEER)."""

    NAMES = {'build': 'CK_BUILD_ROOT', 'source': 'CK_SOURCE_ROOT', 'config': 'CK_TEST_CONFIG',
             'rootfs': 'CK_TEST_ROOTFS', 'samples': 'CK_CRIO_SAMPLES', 'systemd_peer': 'CK_SYSTEMD_PEER'}

    def __init__(self, environ):
        for attr, name in self.NAMES.items():
            setattr(self, attr, environ.get(name, ''))
        self.vmctl = os.path.join(self.build, 'vmctl', 'vmctl')
        self.conmon = os.path.join(self.build, 'conmon-kata', 'conmon-kata')
        # In a sanitized build the sanitizers' settings are passed on, so
        # that the monitors' and vmctl's reports land where
        # tests/meson.build says (docs/sanitizers.md).
        self.sanitizers = {k: v for k, v in environ.items() if k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS')}

    def missing(self, *attrs):
        """The variables among attrs that meson did not set."""
        return [self.NAMES[a] for a in attrs if not getattr(self, a)]

    def source_path(self, *parts):
        return os.path.join(self.source, *parts)


def toml_value(value):
    """A Python value as TOML: str, int, bool, list of str."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(json.dumps(s) for s in value) + ']'
    return json.dumps(value)


def set_toml_keys(text, where, **keys):
    """text with each `key = ...` line replaced; each key must be there once."""
    for key, value in keys.items():
        line = f'{key} = {toml_value(value)}'
        text, n = re.subn(rf'^{key} = .*$', lambda _m, kv=line: kv, text, flags=re.M)
        if n != 1:
            raise RuntimeError(f'{where}: {key} is set {n} times')
    return text


class Context:
    """One suite's run (see the module's description). prefix names what
    the run makes (/run/<prefix>.*, /tmp/<prefix>.*, network namespaces)."""

    def __init__(self, prefix, env=None, root=None):
        """root: a runtime root that outlives the run (a benchmark's pods
        share one, as CRI-O's share /run/vmctl); None: the run's own."""
        self.prefix = prefix
        self.kept_root = root
        self.env = env or Env(os.environ)
        self.tap = Tap()
        self.reaper = Reaper()
        self.token = secrets.token_hex(3)
        # variables a driver adds to the environment of every runtime call
        # and monitor (a private bus's address, valgrind's GLib settings)
        self.extra_env = dict(self.env.sanitizers)
        self.root = None  # the runtime root: short, <root>/pods/<64 hex>/ctl.sock must fit in sun_path
        self.tmp = None  # scratch
        self.cwd = None  # where the runtime is called from
        self.netns = []  # the network namespaces add_netns() made
        self.configs = {}  # the suite's configuration files, by its names for them
        self.crio = None  # the CRI-O stand-in's state (crio.Crio), when the suite plays CRI-O
        self.ctrs = []  # the containers a runtime harness made (vmctl_oci.py); CRI-O's are in crio.ctrs
        self.syslog = None  # /dev/log as the driver holds it (devlog.Syslog), when it does
        self.systemd = None  # a private bus answering as systemd (systemd.PrivateSystemd), when one runs
        self._stop = []
        self._undo = []

    def __enter__(self):
        self.root = self.kept_root or tempfile.mkdtemp(prefix=f'{self.prefix}.', dir='/run')
        self.tmp = tempfile.mkdtemp(prefix=f'{self.prefix}.', dir='/tmp')
        self.cwd = self.tmp
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def on_stop(self, fn):
        """fn() runs at exit before anything deferred: it stops processes."""
        self._stop.append(fn)
        return fn

    def defer(self, fn):
        """fn() runs at exit once every on_stop() has run."""
        self._undo.append(fn)
        return fn

    def close(self):
        """Stops, undoes, and removes the directories; an exception in one
        step is a failed check, and the next step runs."""
        while self._stop or self._undo:
            fn = (self._stop or self._undo).pop()
            try:
                fn()
            except Abort:
                pass
            except Exception as e:  # noqa: BLE001 - report and go on
                self.tap.ok(False, f'cleanup: {getattr(fn, "__name__", fn)} raised {type(e).__name__}',
                            *traceback.format_exc().splitlines())
        for d in (self.root, self.tmp):
            if d is not None and d != self.kept_root:
                rm_rf(d)
        self.root = self.tmp = None

    # --- files ---

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def mk(self, *parts):
        """A directory under scratch (made with its parents)."""
        d = self.path(*parts)
        os.makedirs(d, exist_ok=True)
        return d

    def tmpfile(self, prefix, content=None):
        """A file of a random name in scratch's tmp/ (CRI-O's temp files:
        exec specs, pidfiles), with content when given."""
        path = os.path.join(self.mk('tmp'), f'{prefix}{secrets.randbelow(10**10)}')
        if content is not None:
            with open(path, 'wb') as f:
                f.write(content)
        return path

    def config(self, name, **keys):
        """A configuration file: the test's, with `keys` set (Python values
        as TOML). Each key must be in it once."""
        text = set_toml_keys(read_bytes(self.env.config).decode(), self.env.config, **keys)
        path = self.path(name)
        with open(path, 'w') as f:
            f.write(text)
        return path

    # --- the runtime ---

    def runtime_env(self):
        return {'PATH': RUNTIME_PATH, **self.extra_env}

    def vmctl_argv(self, *args, config=None, root=None, log=None):
        """runtime_path as CRI-O calls it: --root R (two tokens), --config,
        runc's --log FILE --log-format json when asked, the verb."""
        cmd = [self.env.vmctl, '--root', root or self.root, '--config', config or self.env.config]
        if log is not None:
            cmd += ['--log', log, '--log-format', 'json']
        return cmd + list(args)

    def vmctl(self, *args, input=None, timeout=60, config=None, log=None, cwd=None):
        """A vmctl call whose stdio nothing inherits: stdout and stderr captured."""
        return run_cmd(self.vmctl_argv(*args, config=config, log=log), input=input, timeout=timeout,
                       cwd=cwd or self.cwd, env=self.runtime_env())

    def vmctl_files(self, name, *args, timeout=120, config=None, log=None, cwd=None):
        """A vmctl call whose stdio the container or exec'd process inherits
        (create, exec --detach; runc's model): stdout and stderr are files
        (<scratch>/<name>.out, .err), so vmctl's own exit is what is waited
        for. Result.out/err hold what the files had when vmctl exited."""
        out_path, err_path = self.path(f'{name}.out'), self.path(f'{name}.err')
        cmd = self.vmctl_argv(*args, config=config, log=log)
        t0 = now()
        with open(out_path, 'wb') as out, open(err_path, 'wb') as err:
            try:
                rc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=timeout,
                                    cwd=cwd or self.cwd, env=self.runtime_env()).returncode
            except subprocess.TimeoutExpired:
                rc = None
        r = Result(cmd, rc, read_bytes(out_path) or b'', read_bytes(err_path) or b'', now() - t0)
        r.out_path, r.err_path = out_path, err_path
        return r

    # --- network namespaces ---

    def add_netns(self, what):
        """A network namespace <prefix>-<what>-<token>, deleted at exit;
        returns its name."""
        from .netns import netns_add, netns_del
        name = f'{self.prefix}-{what}-{self.token}' if what else f'{self.prefix}-{self.token}'
        netns_add(name)
        self.netns.append(name)
        self.defer(lambda: netns_del(name))
        return name


def skip_all(reason):
    """The TAP line of a suite that cannot run here."""
    print(f'1..0 # SKIP {reason}')
    return 0


def check_environment(env, needs):
    """None when the suite can run, else why not (a TAP skip's reason)."""
    missing = env.missing(*needs)
    if missing:
        return f'run through meson test ({", ".join(missing)} not set)'
    if os.geteuid() != 0 or not os.access(env.vmctl, os.X_OK):
        return 'needs root and the built vmctl'
    return None


def run_suite(prefix, body, needs=('build', 'source', 'config', 'rootfs'), open_world=None):
    """A driver's main: a TAP skip when the environment does not allow the
    suite; else the child subreaper (the monitors that leave their parent
    come back to us), the context, body(ctx) (SIGTERM and SIGINT end it
    early), its cleanup whatever happened, then the run time, the failures
    and the plan. open_world(ctx), when given, sets up the suite's world
    (crio.open_world) inside the context before the body and returns a
    skip reason or None. Returns the exit status."""
    env = Env(os.environ)
    why = check_environment(env, needs)
    if why:
        return skip_all(why)

    def on_term(sig, frame):
        raise SystemExit(128 + sig)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    set_child_subreaper()
    t_start = now()
    ctx = Context(prefix, env)
    try:
        with ctx:
            if open_world is not None:
                open_world(ctx)
            ctx.tap.note(f'runtime root {ctx.root}, scratch {ctx.tmp}')
            body(ctx)
    finally:
        ctx.tap.note(f'run time: {now() - t_start:.1f} s')
        if ctx.tap.failed:
            ctx.tap.note(f'{len(ctx.tap.failed)} failed: ' + '; '.join(ctx.tap.failed))
        ctx.tap.done()
    return 0 if not ctx.tap.failed else 1
