"""ckdriver: the pieces of a CRI-O stand-in, shared by the e2e drivers
crio_replay.py, pod_policy.py and vmctl_oci.py.

Standard library only. Everything here plays a caller's part towards
conmon-kata (the monitor) and vmctl (the OCI runtime), as
docs/conmon-interface.md describes it (a number in a check's description
is an item of its conformance checks, a name one of its headings):

  * TAP output (Tap), with items that stop at their first fatal failure,
  * processes: fork/exec with fds 3, 4 (and 5) as socketpairs, a new
    process group, /proc inspection, reaping as the child subreaper (so
    the monitors P0 forks come back to us and their exit status can be
    checked), commands with a deadline (run_cmd, run_fg),
  * inotify through ctypes: one queue for the exit dir, the persist dirs
    and the bundles, so the order in which files appear can be asserted,
  * terminals: a console socket that receives a pty master over
    SCM_RIGHTS, and reading a pty until a pattern shows up,
  * the run's world (W: runtime root, scratch directories, configuration
    files), pods and containers whose bundles are built from CRI-O 1.26's
    own config.json samples, conmon-kata and vmctl called as CRI-O calls
    them, and the checks every driver makes on what comes back (sync
    pipe, pidfiles, state, exit files), for VM pods and for trusted pods
    (runc on the host kernel) alike,
  * run_driver(): the common main, and a cleanup that stops everything
    and says whether anything was left behind.

Environment (set by meson): CK_BUILD_ROOT, CK_SOURCE_ROOT, CK_TEST_CONFIG,
CK_TEST_ROOTFS, CK_CRIO_SAMPLES (tests/data/crio-1.26).
"""
import copy
import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

CRIO_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

# runc's state keys (conmon-interface.md#state-output): nothing else may appear
RUNC_STATE_KEYS = {'ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner', 'annotations'}

# conmon-interface.md#conformance-checks item 12
K8S_LINE = re.compile(rb'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}[+-][0-9]{2}:[0-9]{2} '
                      rb'(stdout|stderr) [PF] ')
RFC3339 = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$')

_libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6', use_errno=True)


def now():
    return time.monotonic()


def wait_until(pred, timeout, interval=0.02):
    """Polls pred() until it returns something true or the deadline passes;
    returns the last value."""
    deadline = now() + timeout
    while True:
        v = pred()
        if v or now() >= deadline:
            return v
        time.sleep(interval)


def read_bytes(path):
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError:
        return None


def short(data, limit=600):
    """repr of bytes, cut in the middle when long."""
    r = repr(data)
    if len(r) > limit:
        r = r[:limit // 2] + ' ... ' + r[-limit // 2:]
    return r


# --- TAP ------------------------------------------------------------------------------


class Abort(Exception):
    """A failure that was already reported; the item cannot go on."""


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = []
        self.skipped = 0

    def _emit(self, good, desc, diag):
        self.n += 1
        desc = desc.replace('#', 'hash')
        print(f"{'ok' if good else 'not ok'} {self.n} - {desc}")
        if not good:
            self.failed.append(f'{self.n} - {desc}')
            for d in diag:
                for line in str(d).splitlines() or ['']:
                    print('# ' + line)
        sys.stdout.flush()
        return good

    def ok(self, cond, desc, *diag):
        return self._emit(bool(cond), desc, diag)

    def eq(self, desc, expected, actual, *diag):
        return self._emit(expected == actual, desc,
                          (f'expected: {short(expected)}', f'actual:   {short(actual)}') + diag)

    def must(self, cond, desc, *diag):
        """ok(), and the item stops here when it fails."""
        if not self.ok(cond, desc, *diag):
            raise Abort(desc)

    def skip(self, desc, reason):
        self.n += 1
        self.skipped += 1
        print(f'ok {self.n} - {desc} # SKIP {reason}')
        sys.stdout.flush()

    def note(self, text):
        for line in str(text).splitlines():
            print('# ' + line)
        sys.stdout.flush()

    def done(self):
        print(f'1..{self.n}')
        sys.stdout.flush()
        return not self.failed

    def item(self, name, fn):
        """Runs one group of checks: an Abort ends it quietly (its failure
        is already reported), anything else is reported as a failure; the
        run goes on with the next item either way."""
        t0 = now()
        try:
            fn()
        except Abort:
            self.note(f'{name}: stopped after the failure above')
        except Exception as e:  # noqa: BLE001 - report and go on
            self.ok(False, f'{name}: the driver raised {type(e).__name__}', *traceback.format_exc().splitlines())
        self.note(f'{name}: {now() - t0:.1f} s')


# --- processes ------------------------------------------------------------------------


def set_child_subreaper():
    PR_SET_CHILD_SUBREAPER = 36
    return _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def proc_stat(pid):
    """comm, state, ppid and start time from /proc/<pid>/stat, or None."""
    data = read_bytes(f'/proc/{pid}/stat')
    if data is None:
        return None
    rp = data.rindex(b')')
    fields = data[rp + 2:].split()
    return {
        'comm': data[data.index(b'(') + 1:rp].decode(errors='replace'),
        'state': fields[0].decode(),
        'ppid': int(fields[1]),
        'start': int(fields[19]),
    }


def pid_alive(pid):
    """kill(pid, 0), as CRI-O and Podman probe a container."""
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def cmdline(pid):
    data = read_bytes(f'/proc/{pid}/cmdline')
    return data.replace(b'\0', b' ').decode(errors='replace').strip() if data else ''


def all_pids():
    return [int(p) for p in os.listdir('/proc') if p.isdigit()]


def children_of(pid):
    out = []
    for p in all_pids():
        st = proc_stat(p)
        if st is not None and st['ppid'] == pid:
            out.append(p)
    return out


def procs_mentioning(text):
    """Live processes whose command line mentions text (zombies have none)."""
    me = os.getpid()
    out = []
    for p in all_pids():
        if p == me:
            continue
        cl = cmdline(p)
        if text in cl:
            st = proc_stat(p)
            out.append((p, st['comm'] if st else '?', cl))
    return out


def drive(tap, body, cleanup):
    """A driver's main(): body() runs the checks (SIGTERM and SIGINT end it
    early), cleanup() runs whatever happened, then the run time, the
    failures and the plan line. As the child subreaper, the monitors that
    leave their parent come back to us. Returns the exit status."""
    t_start = now()

    def on_term(sig, frame):
        raise SystemExit(128 + sig)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    set_child_subreaper()
    try:
        body()
    finally:
        try:
            cleanup()
        finally:
            tap.note(f'run time: {now() - t_start:.1f} s')
            if tap.failed:
                tap.note(f'{len(tap.failed)} failed: ' + '; '.join(tap.failed))
            tap.done()
    return 0 if not tap.failed else 1


class Reaper:
    """Exit statuses of our children; as the child subreaper, the monitors
    (P1) that P0 leaves behind come back to us."""

    def __init__(self):
        self.status = {}

    def poll(self, pid):
        if pid in self.status:
            return self.status[pid]
        try:
            r, st = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if r == pid:
            self.status[pid] = os.waitstatus_to_exitcode(st)
            return self.status[pid]
        return None

    def gone(self, pid):
        """Exited (and reaped, or not ours and gone from /proc)."""
        if self.poll(pid) is not None:
            return True
        st = proc_stat(pid)
        return st is None or (st['state'] in 'ZX' and not self._is_child(pid))

    def _is_child(self, pid):
        st = proc_stat(pid)
        return st is not None and st['ppid'] == os.getpid()

    def wait(self, pid, timeout):
        """The exit status, or None if it did not exit in time (or is not ours)."""
        wait_until(lambda: self.gone(pid), timeout)
        return self.poll(pid)

    def reap_all(self):
        while True:
            try:
                r, st = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if r == 0:
                return
            self.status.setdefault(r, os.waitstatus_to_exitcode(st))


REAPER = Reaper()


def signal_quietly(pid, sig, group=False):
    """kill(2) (killpg with group) of something that may be gone already."""
    try:
        (os.killpg if group else os.kill)(pid, sig)
    except OSError:
        pass


def nothing_left(tap, desc, texts, timeout):
    """A driver's last check: waits until no live process mentions any of
    texts, reports those that still do, then ends them by pid (SIGKILL).
    Returns what was left."""
    def left():
        REAPER.reap_all()
        return [p for t in texts for p in procs_mentioning(t)]
    wait_until(lambda: not left(), timeout, 0.1)
    rest = left()
    tap.ok(not rest, desc, *[f'{p} {comm}: {cl[:300]}' for p, comm, cl in rest])
    for p, _, _ in rest:
        signal_quietly(p, signal.SIGKILL)
    wait_until(lambda: not left(), 10, 0.1)
    return rest


def spawn(argv, cwd, env, child_fds, stderr_path):
    """fork/exec argv in a new process group, cwd, exactly env, stdin and
    stdout /dev/null, stderr appended to stderr_path, and child_fds at 3, 4, ..."""
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100) for fd in child_fds]
    pid = os.fork()
    if pid == 0:
        try:
            os.setpgid(0, 0)
            os.chdir(cwd)
            nul = os.open('/dev/null', os.O_RDWR)
            err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            os.dup2(nul, 0)
            os.dup2(nul, 1)
            os.dup2(err, 2)
            for i, fd in enumerate(high):
                os.dup2(fd, 3 + i)  # dup2 clears FD_CLOEXEC on the copy
            os.closerange(3 + len(high), 1 << 16)
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
            os.execve(argv[0], argv, env)
        except BaseException as e:  # noqa: B902 - the child must never return
            try:
                os.write(2, f'spawn {argv[0]}: {e}\n'.encode())
            finally:
                os._exit(127)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass
    for fd in high:
        os.close(fd)
    return pid


class Result:
    """A finished command: exit status (None: killed at its deadline),
    stdout, stderr, seconds."""

    def __init__(self, cmd, rc, out, err, secs):
        self.cmd, self.rc, self.out, self.err, self.secs = cmd, rc, out, err, secs

    def diag(self):
        return [f"command: {' '.join(self.cmd)}", f'exit status: {self.rc}', f'stdout: {short(self.out)}',
                f'stderr: {short(self.err)}', f'took {self.secs:.2f} s']

    def err_lines(self):
        return self.err.decode(errors='replace').splitlines()

    def json(self):
        """stdout parsed as JSON, or None."""
        try:
            return json.loads(self.out)
        except ValueError:
            return None


def expect_error(t, r, desc, line, status=1):
    """A failure as runc reports it, on Tap t: its exit status (1; 255 for
    an exec whose process could not start) and exactly one line on stderr:
    line, a str, or a compiled bytes pattern the line must match in full.
    CRI-O reads the words ("container not running": already gone)."""
    if isinstance(line, str):
        good = r.err == (line + '\n').encode()
        shown = repr((line + '\n').encode())
    else:
        good = line.fullmatch(r.err.rstrip(b'\n')) is not None and r.err.count(b'\n') == 1
        shown = f'a line matching {line.pattern!r}'
    t.ok(r.rc == status and good, desc, f'expected: status {status}, stderr {shown}', *r.diag())


def ctr_error(cid, text):
    """vmctl's one error line about container cid."""
    return f'vmctl: container {cid}: {text}'


def unknown_id(cid):
    """vmctl's error for an id it does not know (runc's words)."""
    return ctr_error(cid, f'container {cid} does not exist')


def not_found_error(prefix, binary):
    """A missing program, in runc's words (Podman maps them to 127)."""
    return f'{prefix}: exec: "{binary}": executable file not found in $PATH'


def run_cmd(cmd, input=None, timeout=60, cwd=None, env=None):
    """Runs cmd to completion with stdout and stderr captured and stdin
    from input (or /dev/null); killed at the deadline."""
    t0 = now()
    try:
        p = subprocess.run(cmd, input=input, stdin=None if input is not None else subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, cwd=cwd, env=env)
        return Result(cmd, p.returncode, p.stdout, p.stderr, now() - t0)
    except subprocess.TimeoutExpired as e:
        return Result(cmd, None, e.stdout or b'', (e.stderr or b'') + b' [timed out]', now() - t0)


def run_fg(cmd, input=b'', close_stdin=True, timeout=60, cwd=None, env=None):
    """Runs cmd in the foreground with pipes, CRI-O's streaming exec style.
    Returns (rc or None on timeout, stdout, stderr, seconds)."""
    t0 = now()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         cwd=cwd, env=env)
    out, err = [], []
    try:
        if input:
            p.stdin.write(input)
            p.stdin.flush()
        if close_stdin:
            p.stdin.close()
        open_fds = {p.stdout.fileno(): out, p.stderr.fileno(): err}
        deadline = t0 + timeout
        while open_fds and now() < deadline:
            r, _, _ = select.select(list(open_fds), [], [], max(0.0, deadline - now()))
            for fd in r:
                data = os.read(fd, 65536)
                if data:
                    open_fds[fd].append(data)
                else:
                    del open_fds[fd]
        try:
            rc = p.wait(timeout=max(0.1, deadline - now()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = None
    finally:
        for f in (p.stdin, p.stdout, p.stderr):
            try:
                f.close()
            except (OSError, ValueError):
                pass
    return rc, b''.join(out), b''.join(err), now() - t0


# --- inotify --------------------------------------------------------------------------

IN_CLOSE_WRITE = 0x008
IN_MOVED_FROM = 0x040
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
APPEAR = IN_CREATE | IN_MOVED_TO


class Event:
    def __init__(self, seq, t, directory, name, mask):
        self.seq, self.t, self.dir, self.name, self.mask = seq, t, directory, name, mask

    def kind(self):
        names = [(IN_CREATE, 'IN_CREATE'), (IN_MOVED_TO, 'IN_MOVED_TO'), (IN_DELETE, 'IN_DELETE'),
                 (IN_MOVED_FROM, 'IN_MOVED_FROM'), (IN_CLOSE_WRITE, 'IN_CLOSE_WRITE')]
        return '|'.join(n for bit, n in names if self.mask & bit) or hex(self.mask)

    def __repr__(self):
        return f'#{self.seq} {self.kind()} {self.dir}/{self.name}'


class Inotify:
    """One inotify queue: the events of all watched directories, in order."""

    def __init__(self):
        self.fd = _libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), 'inotify_init1')
        self.dirs = {}
        self.events = []

    def watch(self, directory, mask=IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_CLOSE_WRITE):
        wd = _libc.inotify_add_watch(self.fd, os.fsencode(directory), mask)
        if wd < 0:
            raise OSError(ctypes.get_errno(), f'inotify_add_watch {directory}')
        self.dirs[wd] = directory

    def pump(self, timeout=0.0):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return
        while True:
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return
            off = 0
            while off < len(data):
                wd, mask, _cookie, length = struct.unpack_from('iIII', data, off)
                name = data[off + 16:off + 16 + length].rstrip(b'\0').decode(errors='replace')
                off += 16 + length
                if wd in self.dirs:
                    self.events.append(Event(len(self.events), now(), self.dirs[wd], name, mask))

    def first(self, directory, name, mask=APPEAR):
        for e in self.events:
            if e.dir == directory and e.name == name and e.mask & mask:
                return e
        return None

    def wait(self, directory, name, timeout, mask=APPEAR, idle=None):
        """The first event for name in directory, waiting up to timeout;
        idle() is called between looks."""
        deadline = now() + timeout
        while True:
            if idle is not None:
                idle()
            self.pump(0)
            e = self.first(directory, name, mask)
            if e is not None or now() >= deadline:
                return e
            self.pump(min(0.05, max(0.0, deadline - now())))

    def about(self, *dirs):
        return [e for e in self.events if e.dir in dirs]


# --- sockets --------------------------------------------------------------------------


def recv_record(sock, timeout):
    """One SEQPACKET record (b'' at EOF), or None on timeout."""
    r, _, _ = select.select([sock], [], [], timeout)
    if not r:
        return None
    return sock.recv(1 << 16)


def recv_line(sock, timeout, buf=b''):
    """STREAM: reads until a newline has arrived (or EOF/timeout); returns
    everything read, which must be exactly one line."""
    deadline = now() + timeout
    while b'\n' not in buf:
        r, _, _ = select.select([sock], [], [], max(0.0, deadline - now()))
        if not r:
            break
        data = sock.recv(65536)
        if not data:
            break
        buf += data
    return buf


def recv_to_eof(sock, timeout):
    """Everything until EOF; (data, saw_eof)."""
    deadline = now() + timeout
    buf = b''
    while True:
        r, _, _ = select.select([sock], [], [], max(0.0, deadline - now()))
        if not r:
            return buf, False
        data = sock.recv(65536)
        if not data:
            return buf, True
        buf += data


class AttachClient:
    """A CRI-O/Podman attach client: SEQPACKET, records of <stream id><data>."""

    def __init__(self, path, via_proc_fd=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        if via_proc_fd:
            # Podman: open the path O_PATH, connect through /proc/self/fd/N
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                self.sock.connect(f'/proc/self/fd/{fd}')
            finally:
                os.close(fd)
        else:
            self.sock.connect(path)
        self.records = []
        self.eof = False

    def send(self, data):
        self.sock.sendall(data)

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def close(self):
        self.sock.close()

    def pump(self, timeout):
        if self.eof:
            return
        r = recv_record(self.sock, timeout)
        if r == b'':
            self.eof = True
        elif r is not None:
            self.records.append(r)
            # drain what else is there without waiting
            while True:
                r = recv_record(self.sock, 0)
                if r is None:
                    break
                if r == b'':
                    self.eof = True
                    break
                self.records.append(r)

    def stream(self, sid):
        return b''.join(r[1:] for r in self.records if r[:1] == bytes([sid]))

    def wait(self, pred, timeout):
        deadline = now() + timeout
        while not pred(self) and not self.eof and now() < deadline:
            self.pump(min(0.1, max(0.0, deadline - now())))
        return pred(self)

    def wait_eof(self, timeout):
        deadline = now() + timeout
        while not self.eof and now() < deadline:
            self.pump(min(0.1, max(0.0, deadline - now())))
        return self.eof


# --- terminals ------------------------------------------------------------------------


class ConsoleSocket:
    """runc's --console-socket: a listening AF_UNIX stream socket on which
    the runtime sends the pty master as SCM_RIGHTS."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)

    def receive(self, timeout):
        """(master fd or None, the message's bytes, a note on what failed)."""
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return None, b'', f'no connection in {timeout} s'
        conn, _ = self.sock.accept()
        try:
            conn.settimeout(timeout)
            msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 4)
        except OSError as e:
            return None, b'', f'recvmsg: {e}'
        finally:
            conn.close()
        for extra in fds[1:]:
            os.close(extra)
        return (fds[0] if fds else None), msg, '' if fds else 'no fd in the message'

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


class PtyReader:
    """Everything read from a pty master so far, and waits for a pattern."""

    def __init__(self, fd):
        self.fd = fd
        self.out = b''
        self.eof = False

    def until(self, pattern, timeout):
        """True once pattern (a bytes regex) matches the output so far."""
        deadline = now() + timeout
        while not re.search(pattern, self.out) and not self.eof and now() < deadline:
            r, _, _ = select.select([self.fd], [], [], min(0.1, max(0.0, deadline - now())))
            if not r:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # EIO: the slave side is closed
                data = b''
            if not data:
                self.eof = True
            self.out += data
        return bool(re.search(pattern, self.out))


def set_winsize(fd, rows, cols):
    import termios
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))


# --- OCI state ------------------------------------------------------------------------


def state_shape_problems(js):
    """What makes js (a parsed `state` answer) differ from runc's shape;
    [] when nothing does. The caller checks the values."""
    if not isinstance(js, dict):
        return [f'not a JSON object: {short(js)}']
    problems = []
    extra = set(js) - RUNC_STATE_KEYS
    if extra:
        problems.append(f'keys runc does not have: {sorted(extra)}')
    if not isinstance(js.get('ociVersion'), str) or not js.get('ociVersion'):
        problems.append(f"ociVersion: {js.get('ociVersion')!r}")
    if not isinstance(js.get('pid'), int) or isinstance(js.get('pid'), bool) or js.get('pid') < 0:
        problems.append(f"pid: {js.get('pid')!r}")
    if 'created' in js and not (isinstance(js['created'], str) and RFC3339.match(js['created'])):
        problems.append(f"created is not RFC 3339: {js['created']!r}")
    if 'annotations' in js and not isinstance(js['annotations'], dict):
        problems.append(f"annotations: {js['annotations']!r}")
    return problems


# --- files ----------------------------------------------------------------------------


def k8s_lines(data):
    """The lines of a k8s-file log, each without its final newline."""
    if not data:
        return []
    lines = data.split(b'\n')
    if lines[-1] == b'':
        lines.pop()
    return lines


def k8s_parse(data):
    """[(stream, tag, content)]; content without the trailing newline."""
    out = []
    for line in k8s_lines(data):
        parts = line.split(b' ', 3)
        if len(parts) < 3:
            out.append((None, None, line))
            continue
        out.append((parts[1].decode(errors='replace'), parts[2].decode(errors='replace'),
                    parts[3] if len(parts) > 3 else b''))
    return out


def bad_k8s_lines(data):
    return [line for line in k8s_lines(data) if not K8S_LINE.match(line)]


def file_type(path):
    try:
        st = os.lstat(path)
    except OSError:
        return None, None
    kind = ('socket' if stat.S_ISSOCK(st.st_mode) else 'fifo' if stat.S_ISFIFO(st.st_mode) else
            'symlink' if stat.S_ISLNK(st.st_mode) else 'dir' if stat.S_ISDIR(st.st_mode) else
            'file' if stat.S_ISREG(st.st_mode) else 'other')
    return kind, stat.S_IMODE(st.st_mode)


def write_fifo(path, data, timeout=10):
    """Writes to a FIFO as CRI-O writes ctl, but refuses to hang: the open
    fails with ENXIO when nobody holds the read end. Returns None or an error."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        return f'open {path}: {os.strerror(e.errno)}'
    try:
        deadline = now() + timeout
        view = memoryview(data)
        while view:
            try:
                n = os.write(fd, view)
                view = view[n:]
            except BlockingIOError:
                if now() >= deadline:
                    return f'write {path}: still {len(view)} bytes unread after {timeout} s'
                select.select([], [fd], [], 0.05)
        return None
    finally:
        os.close(fd)


def mounts_under(path):
    """The mount points at or below path (/proc/self/mountinfo, octal
    escapes decoded)."""
    found = []
    for line in (read_bytes('/proc/self/mountinfo') or b'').decode(errors='replace').splitlines():
        fields = line.split(' ')
        if len(fields) > 4:
            point = re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), fields[4])
            if point == path or point.startswith(path.rstrip('/') + '/'):
                found.append(point)
    return found


def unmount_under(path):
    """Detaches every mount at or below path, deepest first (what a monitor
    that was killed left of its pod's share); `umount -R` alone needs path
    itself to be a mount point. Only for a test's own scratch directories
    (under /run or /tmp). Returns the mount points it found."""
    if not re.match(r'^/(run|tmp)/[^/]+', path):
        raise ValueError(f'unmount_under: {path} is not a scratch directory under /run or /tmp')
    found = mounts_under(path)
    for point in sorted(set(found), key=len, reverse=True):
        subprocess.run(['umount', '-l', point], capture_output=True)
    return found


def json_compact(obj):
    return json.dumps(obj, separators=(',', ':'))


def rm_rf(path):
    shutil.rmtree(path, ignore_errors=True)


def errno_name(e):
    return errno.errorcode.get(e, str(e))


# --- playing CRI-O: the run's world -----------------------------------------------------

BUILD = os.environ.get('CK_BUILD_ROOT', '')
SOURCE = os.environ.get('CK_SOURCE_ROOT', '')
CONFIG = os.environ.get('CK_TEST_CONFIG', '')
ROOTFS = os.environ.get('CK_TEST_ROOTFS', '')
VMCTL = os.path.join(BUILD, 'vmctl', 'vmctl')
CONMON = os.path.join(BUILD, 'conmon-kata', 'conmon-kata')

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

tap = Tap()


def samples_dir():
    """tests/data/crio-1.26 ($CK_CRIO_SAMPLES, set by meson), or None
    when a capture is missing."""
    d = os.environ.get('CK_CRIO_SAMPLES', '')
    names = ('sandbox-config.json', 'container-config.json')
    if d and all(os.path.exists(os.path.join(d, n)) for n in names):
        return d
    return None


def host_kernel():
    return read_bytes('/proc/version')


CAP_SYS_RESOURCE = 24


def oom_score_adj_floor():
    """The lowest oom_score_adj runc can give a container here: anything
    without CAP_SYS_RESOURCE (these test machines drop it), only what we
    have or more."""
    for line in (read_bytes('/proc/self/status') or b'').splitlines():
        if line.startswith(b'CapEff:') and int(line.split()[1], 16) & (1 << CAP_SYS_RESOURCE):
            return None
    return int(read_bytes('/proc/self/oom_score_adj') or b'0')


class World:
    """The run's directories and bookkeeping. W is the one of this run;
    run_driver() opens it and cleanup() takes it all down."""

    def __init__(self):
        self.root = None
        self.tmp = None

    def open(self, samples):
        # short paths: <root>/pods/<64 hex>/ctl.sock must fit in sun_path
        self.root = tempfile.mkdtemp(prefix='ckcr.', dir='/run')
        self.tmp = tempfile.mkdtemp(prefix='ckcr.', dir='/tmp')
        self.exits = self.mk('exits')  # container_exits_dir
        self.sockdir = self.mk('crio')  # container_attach_socket_dir
        self.crio_cwd = self.mk('lib-crio')  # CRI-O's own cwd (/var/lib/crio)
        self.files = self.mk('tmp')  # CRI-O's temp files (exec specs, pidfiles)
        self.ino = Inotify()
        self.ino.watch(self.exits)
        self.ctrs = []
        self.pods = []
        self.monitors = []
        self.samples = {}
        self.cgroup_parents = {}
        self.after_cleanup = []  # a driver's own, run last (its cgroups)
        for kind in ('sandbox', 'container'):
            with open(os.path.join(samples, f'{kind}-config.json')) as f:
                self.samples[kind] = f.read()

    def mk(self, *parts):
        d = os.path.join(self.tmp, *parts)
        os.makedirs(d, exist_ok=True)
        return d

    def tmpfile(self, prefix, content=None):
        path = os.path.join(self.files, f'{prefix}{secrets.randbelow(10**10)}')
        if content is not None:
            with open(path, 'wb') as f:
                f.write(content)
        return path

    def config(self, name, **keys):
        """A configuration file: the test's, with `keys` set (Python values
        as TOML: str, int, bool, list of str). Each key must be in it once."""
        text = read_bytes(CONFIG).decode()
        for key, value in keys.items():
            if isinstance(value, bool):
                v = 'true' if value else 'false'
            elif isinstance(value, (list, tuple)):
                v = '[' + ', '.join(json.dumps(s) for s in value) + ']'
            else:
                v = json.dumps(value)
            text, n = re.subn(rf'^{key} = .*$', lambda _m, kv=f'{key} = {v}': kv, text, flags=re.M)
            if n != 1:
                raise RuntimeError(f'{CONFIG}: {key} is set {n} times')
        path = os.path.join(self.tmp, name)
        with open(path, 'w') as f:
            f.write(text)
        return path


class Syslog:
    """The monitors' log as CRI-O sees it: conmon-kata, run with --syslog
    as CRI-O runs it, writes to syslog(3), i.e. datagrams on /dev/log.
    Where no syslog daemon owns that path (this machine has none), the
    driver binds it for the run and keeps every message (a socket file that
    nobody reads, left by a killed run, is replaced); where one does, the
    messages go to it and `available` is False. The socket is removed
    at cleanup, only when the driver made it."""

    PATH = '/dev/log'

    def __init__(self):
        self.sock = None
        self.messages = []
        self.lock = threading.Lock()

    @property
    def available(self):
        return self.sock is not None

    def _stale(self):
        """A socket file nobody reads (left by a driver that was killed
        before its cleanup): connecting to it is refused."""
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            probe.connect(self.PATH)
            return False
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
        finally:
            probe.close()

    def open(self):
        if os.path.lexists(self.PATH):
            if not self._stale():
                return
            os.unlink(self.PATH)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(self.PATH)
        except OSError:
            sock.close()
            return
        self.sock = sock
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            with self.lock:
                self.messages.append(data.decode(errors='replace'))

    def lines(self, *needles):
        """The messages so far that contain every needle."""
        with self.lock:
            return [m for m in self.messages if all(n in m for n in needles)]

    def wait(self, *needles, timeout=10):
        return wait_until(lambda: self.lines(*needles), timeout, 0.05)

    def close(self):
        if self.sock is None:
            return
        try:
            os.unlink(self.PATH)
        except OSError:
            pass
        self.sock.close()
        self.sock = None


SYSLOG = Syslog()


W = World()


# Variables a driver adds to the environment of every runtime call and
# monitor (systemd_cgroup.py: the private bus's DBUS_SYSTEM_BUS_ADDRESS).
# In a sanitized build the sanitizers' settings are passed on, so that the
# monitors' and vmctl's reports land where tests/meson.build says
# (docs/sanitizers.md).
EXTRA_ENV = {k: v for k, v in os.environ.items() if k in ('ASAN_OPTIONS', 'UBSAN_OPTIONS')}


def runtime_env():
    return {'PATH': CRIO_PATH, **EXTRA_ENV}


def vmctl(*args, input=None, timeout=60, config=None):
    """runtime_path as CRI-O calls it: --root R (two tokens), the verb."""
    cmd = [VMCTL, '--root', W.root, '--config', config or CONFIG, *args]
    t0 = now()
    try:
        p = subprocess.run(cmd, input=input, stdin=None if input is not None else subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, cwd=W.crio_cwd,
                           env=runtime_env())
        return Result(cmd, p.returncode, p.stdout, p.stderr, now() - t0)
    except subprocess.TimeoutExpired as e:
        return Result(cmd, None, e.stdout or b'', (e.stderr or b'') + b' [timed out]', now() - t0)


# --- conmon-kata invocations ------------------------------------------------------------


class Monitor:
    """One conmon-kata run: P0 with the sync/start (and attach) socketpairs."""

    def __init__(self, argv, cwd, seqpacket=False, attach_pipe=False):
        kind = socket.SOCK_SEQPACKET if seqpacket else socket.SOCK_STREAM
        self.argv = argv
        self.sync, sync_c = socket.socketpair(socket.AF_UNIX, kind)
        self.start, start_c = socket.socketpair(socket.AF_UNIX, kind)
        ends = [sync_c, start_c]
        env = {'PATH': CRIO_PATH, '_OCI_SYNCPIPE': '3', '_OCI_STARTPIPE': '4', **EXTRA_ENV}
        self.attach = None
        if attach_pipe:
            self.attach, att_c = socket.socketpair(socket.AF_UNIX, kind)
            ends.append(att_c)
            env['_OCI_ATTACHPIPE'] = '5'
        self.stderr_path = W.tmpfile('conmon-stderr-', b'')
        self.p0 = spawn(argv, cwd, env, [s.fileno() for s in ends], self.stderr_path)
        for s in ends:
            s.close()
        self.t0 = now()
        self.p0_rc = None
        self.p0_secs = None
        W.monitors.append(self)

    def write_start(self):
        self.start.send(b'\0')

    def p0_alive(self):
        return REAPER.poll(self.p0) is None and pid_alive(self.p0)

    def wait_p0(self, timeout):
        rc = REAPER.wait(self.p0, timeout)
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

    def __init__(self, name, uid, sandbox_label='sandbox', trusted=False, annotations=None, config=None,
                 netns_prefix='ckcr'):
        self.name, self.uid, self.sandbox_label = name, uid, sandbox_label
        self.trusted = trusted
        self.annotations = dict(annotations or {})
        self.config = config or CONFIG
        self.netns = f'{netns_prefix}-{secrets.token_hex(4)}'
        r = subprocess.run(['ip', 'netns', 'add', self.netns], capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f'ip netns add {self.netns}: {r.stderr!r}')
        W.pods.append(self)
        self.netns_path = f'/var/run/netns/{self.netns}'
        self.pinned = {}
        self.pin_namespaces()
        self.logdir = W.mk('log', 'pods', name)
        self.sandbox = Ctr(self, 'POD', sandbox=True)

    def pin_namespaces(self):
        d = W.mk('ns', self.netns)
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
        return vmctl(*args, config=self.config, **kw)


class Ctr:
    def __init__(self, pod, short_name, sandbox=False):
        self.pod, self.short, self.is_sandbox = pod, short_name, sandbox
        self.id = secrets.token_hex(32)
        self.bundle = W.mk('run', 'overlay-containers', self.id, 'userdata')
        self.persist = W.mk('lib', 'overlay-containers', self.id, 'userdata')
        if sandbox:
            self.name = f'k8s_POD_{pod.name}_default_{pod.uid}_1'
            self.log = os.path.join(pod.logdir, f'{self.id}.log')
        else:
            self.name = f'k8s_{short_name}_{pod.name}_default_{pod.uid}_0'
            self.log = os.path.join(pod.logdir, f'{short_name}.log')
        self.pidfile = os.path.join(self.bundle, 'pidfile')
        self.conmon_pidfile = os.path.join(self.bundle, 'conmon-pidfile')
        self.exit_file = os.path.join(W.exits, self.id)
        self.mon = None
        self.p1 = None
        self.pid = None
        self.spec = None
        self.deleted = False
        W.ctrs.append(self)

    def label(self):
        return self.pod.sandbox_label if self.is_sandbox else self.short

    def sample_text(self):
        kind = 'sandbox' if self.is_sandbox else 'container'
        text = W.samples[kind].replace(SAMPLE_SANDBOX_ID, self.pod.sandbox.id)
        if not self.is_sandbox:
            text = text.replace(SAMPLE_CONTAINER_ID, self.id)
        text = text.replace(SAMPLE_NETNS, self.pod.netns_path)
        for kind, path in self.pod.pinned.items():
            text = text.replace(f'/var/run/{kind}ns/{SAMPLE_NS_NAME}', path)
        text = text.replace('/run/containers/storage/overlay-containers/', W.tmp + '/run/overlay-containers/')
        return text.replace('/var/lib/containers/storage/overlay-containers/', W.tmp + '/lib/overlay-containers/')

    def prepare(self, args=None, terminal=False, stdin=False, stdin_once=False, memory=None, annotations=None,
                edit=None):
        """The bundle: CRI-O's sample config.json with our paths, the rootfs.
        `annotations` are added (a None value removes one); `edit(spec)`
        changes anything else."""
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
        r = subprocess.run(['cp', '-a', ROOTFS, rootfs], capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f'cp -a {ROOTFS} {rootfs}: {r.stderr!r}')
        if self.is_sandbox:
            with open(os.path.join(rootfs, 'pause'), 'w') as f:
                f.write(PAUSE_SCRIPT)
            os.chmod(os.path.join(rootfs, 'pause'), 0o755)
        with open(os.path.join(self.bundle, 'config.json'), 'w') as f:
            json.dump(spec, f, indent='\t')
        self.spec = spec
        W.ino.watch(self.bundle)
        W.ino.watch(self.persist)
        for ctrl in ('memory', 'cpu', 'pids', 'devices', 'freezer', 'blkio', 'cpuset', 'cpuacct', 'systemd',
                     'unified'):
            parent = f'/sys/fs/cgroup/{ctrl}/kubepods'
            W.cgroup_parents.setdefault(parent, os.path.isdir(parent))
        return self

    def process(self, args, terminal=False):
        """The exec process spec CRI-O writes: the container's, other args."""
        proc = copy.deepcopy(self.spec['process'])
        proc['args'] = args
        proc['terminal'] = terminal
        return proc

    def vmctl(self, *args, **kw):
        return self.pod.vmctl(*args, **kw)


def create_argv(c, tail=(), api=False, log_size_max=None, extra=(), runtime=None, wrapper=()):
    """CRI-O's create command line (conmon-cmdlines.txt sections 1 and 4);
    runtime: the runtime_path, vmctl's by default; wrapper: a command
    conmon-kata runs under (valgrind, monitor_valgrind.py)."""
    argv = [*wrapper, CONMON]
    if api:
        argv += ['--api-version', '1']
    argv += ['-b', c.bundle, '-c', c.id, '--exit-dir', W.exits, '-l', c.log, '--log-level', 'debug', '-n', c.name,
             '-P', c.conmon_pidfile, '-p', c.pidfile, '--persist-dir', c.persist, '-r', runtime or VMCTL,
             '--runtime-arg', f'--root={W.root}', '--runtime-arg', f'--config={c.pod.config}',
             '--socket-dir-path', W.sockdir, '--syslog', '-u', c.id]
    if log_size_max is not None:
        argv += ['--log-size-max', str(log_size_max)]
    argv += list(extra) + list(tail)
    return argv


def pod_qemu(c):
    """The QEMU processes of c's pod: (pid, comm, cmdline)."""
    return [p for p in procs_mentioning(os.path.join(W.root, 'pods', c.pod.sandbox.id)) if 'qemu' in p[1]]


def crio_create(c, tail=(), api=False, log_size_max=None, extra=(), full=False, runtime=None, before_start=None,
                wrapper=()):
    """RunPodSandbox/CreateContainer: conmon-kata, start byte, P0, sync pipe.
    full: check items 13 and 14 on the way. before_start(mon): what CRI-O
    does before the start byte (MoveConmonToCgroup). Returns the sync bytes."""
    L = c.label()
    mon = Monitor(create_argv(c, tail, api, log_size_max, extra, runtime, wrapper), cwd=c.bundle)
    c.mon = mon
    if before_start is not None:
        before_start(mon)
    if full:
        time.sleep(0.4)
        alive = mon.p0_alive()
        kids = children_of(mon.p0)
        # the sandbox's monitor boots the VM: not before the byte
        qemu = pod_qemu(c) if c.is_sandbox else []
        tap.ok(alive and not kids and not qemu, f'{L}: before the start byte P0 is alive and has forked nothing'
               f'{", no QEMU" if c.is_sandbox else ""} (13)', f'P0 alive: {alive}', f'children: {kids}',
               f'qemu: {qemu}', *mon.diag())
    mon.write_start()
    rc = mon.wait_p0(30)
    tap.must(rc == 0, f'{L}: P0 exits 0 after the start byte (13)', f'exit status: {rc}', *mon.diag())
    text = read_bytes(c.conmon_pidfile)
    p1 = int(text) if text and re.fullmatch(rb'[1-9][0-9]*', text) else None
    if full:
        tap.ok(p1 is not None and proc_stat(p1) is not None,
               f'{L}: -P holds P1\'s pid, no newline, and /proc/P1/stat exists (13)',
               f'-P content: {text!r}', f'/proc/P1/stat: {proc_stat(p1) if p1 else None}')
    c.p1 = p1
    sync = recv_line(mon.sync, 150)
    return sync


def cgroup_lines(pid):
    """{controller list: path} from /proc/<pid>/cgroup."""
    out = {}
    for line in (read_bytes(f'/proc/{pid}/cgroup') or b'').decode().splitlines():
        parts = line.split(':', 2)
        if len(parts) == 3:
            out[parts[1]] = parts[2]
    return out


def ns_cgroup(c):
    """(net namespace, whether a cgroup line names crio-<id>, the cgroup
    file) of c's pid: the stand-in, or a trusted container's process."""
    try:
        ns = os.readlink(f'/proc/{c.pid}/ns/net')
    except OSError as e:
        ns = f'readlink: {e}'
    cg = read_bytes(f'/proc/{c.pid}/cgroup') or b''
    return ns, any(line.endswith(f'/crio-{c.id}'.encode()) for line in cg.splitlines()), cg


def ns_pids(pid):
    """The NSpid line of /proc/<pid>/status: its pid in each pid namespace."""
    for line in (read_bytes(f'/proc/{pid}/status') or b'').splitlines():
        if line.startswith(b'NSpid:'):
            return [int(x) for x in line.split()[1:]]
    return []


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
    L = c.label()
    m = re.fullmatch(rb'\{"' + key.encode() + rb'": ([1-9][0-9]*)\}\n', sync)
    tap.must(m, f'{L}: the sync pipe yields exactly {{"{key}": N}}\\n (14)', f'sync bytes: {sync!r}',
             *c.mon.diag())
    c.pid = int(m.group(1))
    # what CRI-O and Podman read right after the sync message (what-callers-do-with-the-messages, the-container-pid)
    st = proc_stat(c.pid)
    ns, in_cg, cg = ns_cgroup(c)
    tap.ok(st is not None and st['state'] not in 'ZX',
           f'{L}: /proc/N/stat exists right away, not a zombie (14, SetInitPid)', f'/proc/{c.pid}/stat: {st}')
    if not full:
        return c.pid
    pod_ns = f'net:[{os.stat(c.pod.netns_path).st_ino}]'
    what = 'runc\'s container process, pid 1 of its own pid namespace' if c.pod.trusted else \
        'the stand-in: comm ck-standin'
    why = pid_identity(c, c.pid)
    tap.ok(st is not None and why is None and ns == pod_ns and in_cg,
           f'{L}: when N is reported it is already {what}, in the pod\'s network namespace and the container\'s '
           f'host cgroup (the-container-pid)', why, f'/proc/{c.pid}/stat: {st}',
           f'/proc/{c.pid}/ns/net: {ns}', f'pod netns {c.pod.netns_path}: {pod_ns}',
           f'host netns: {os.readlink("/proc/self/ns/net")}', f'/proc/{c.pid}/cgroup: {cg!r}')
    # and once it is set up, it stays there
    ok = wait_until(lambda: ns_cgroup(c)[0] == pod_ns and ns_cgroup(c)[1], 5)
    ns, in_cg, cg = ns_cgroup(c)
    tap.ok(ok, f'{L}: the {"container" if c.pod.trusted else "stand-in"} lives in the pod\'s network namespace '
           f'and the container\'s host cgroup (cgroupsPath) (the-container-pid)',
           f'/proc/{c.pid}/ns/net: {ns} (pod: {pod_ns})',
           f'/proc/{c.pid}/cgroup: {cg!r}')
    paths = dict(ln.split(':', 2)[1:] for ln in cg.decode(errors='replace').splitlines() if ln.count(':') >= 2)
    if 'cpuset' in paths and 'memory' in paths:
        # cgroup v1: nothing joins a new cpuset group before its cpus and mems are set (issue 17)
        tap.eq(f'{L}: the {"container" if c.pod.trusted else "stand-in"} is in the container\'s cpuset cgroup too '
               f'(cgroup v1), as in its memory cgroup', paths['memory'], paths['cpuset'],
               f'/proc/{c.pid}/cgroup: {cg!r}')
    if c.pod.trusted:
        # the runtime has exited: its container process is the monitor's
        # (the subreaper's), as under conmon
        st = proc_stat(c.pid)
        tap.ok(st is not None and st['ppid'] == c.p1,
               f'{L}: the container process is a child of its conmon-kata (P1, the subreaper) (published-pids)',
               f'/proc/{c.pid}/stat: {st}', f'P1: {c.p1}')
    return c.pid


def check_files_after_create(c):
    """Item 14's second half: pidfile, symlink, attach socket, FIFOs."""
    L = c.label()
    text = read_bytes(c.pidfile)
    tap.eq(f'{L}: the -p file contains N (14)', str(c.pid).encode(), text)
    link = os.path.join(W.sockdir, c.id)
    target = os.readlink(link) if os.path.islink(link) else None
    tap.eq(f'{L}: <socket-dir>/<id> is a symlink to the bundle (14)', c.bundle, target,
           f'lstat: {file_type(link)}')
    kind, mode = file_type(os.path.join(c.bundle, 'attach'))
    tap.eq(f'{L}: <bundle>/attach is a socket with mode 0700 (14)', ('socket', '0o700'),
           (kind, oct(mode) if mode is not None else None))
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(5)
        s.connect(os.path.join(link, 'attach'))
        s.close()
        err = None
    except OSError as e:
        err = e
    tap.ok(err is None, f'{L}: <socket-dir>/<id>/attach accepts a SEQPACKET connection (14)', f'connect: {err}')
    for fifo in ('ctl', 'winsz'):
        kind, mode = file_type(os.path.join(c.bundle, fifo))
        tap.eq(f'{L}: <bundle>/{fifo} is a FIFO (14)', 'fifo', kind)


def check_state(c, desc, status, pid=None):
    """`state <id>`: runc's shape, no other keys, the expected status and
    pid; returns the state."""
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
    tap.ok(not problems, desc, *problems, *r.diag())
    return js if isinstance(js, dict) else {}


def state_status(c):
    try:
        return json.loads(c.vmctl('state', c.id).out).get('status')
    except (ValueError, AttributeError):
        return None


def start(c, desc=None):
    r = c.vmctl('start', c.id)
    tap.must(r.rc == 0, desc or f'{c.label()}: `start` exits 0', *r.diag())
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


def await_exit(c, code, timeout=60, full=False, oom=False, p1_status=True):
    """CRI-O's exit handling: inotify Create of exits/<id>, then state,
    then <persist>/exit. Checks item 15's exit-side promises (full) or the
    exit code, the file order and P1's status."""
    L = c.label()
    # Orphans come to us, the subreaper, as they would come to init under
    # CRI-O: a process an ExecSync timeout killed and left unreaped (timeout)
    # holds up the exit of its pid namespace's init (a trusted container)
    # until somebody reaps it. No subprocess is pending here, so reaping
    # everything cannot take a status subprocess waits for.
    ev = W.ino.wait(W.exits, c.id, timeout, idle=REAPER.reap_all)
    # what CRI-O does at once on the event
    alive_now = pid_alive(c.pid) if c.pid else None
    tap.must(ev is not None, f'{L}: <exit-dir>/<id> appears', f'waited {timeout} s',
             f'events: {W.ino.about(W.exits, c.persist, c.bundle)[-12:]}')
    if full:
        tap.ok(alive_now is False, f'{L}: when the exit-dir file appears, kill(N, 0) fails with ESRCH (15)',
               f'process {c.pid}: {proc_stat(c.pid)}')
        check_state(c, f'{L}: when the exit-dir file appears, state says stopped with pid 0 '
                    '(15, how-cri-o-notices-an-exit)', 'stopped')
    code_b = str(code).encode()
    W.ino.pump(0.2)
    tap.eq(f'{L}: <persist>/exit holds {code} without newline', code_b,
           read_bytes(os.path.join(c.persist, 'exit')))
    tap.eq(f'{L}: <exit-dir>/<id> holds {code} without newline', code_b, read_bytes(c.exit_file))
    pe = W.ino.first(c.persist, 'exit')
    tap.ok(pe is not None and pe.seq < ev.seq, f'{L}: <persist>/exit appears before <exit-dir>/<id> (exit-sequence)',
           f'persist event: {pe}', f'exit-dir event: {ev}')
    if full or oom:
        tap.ok(ev.mask & IN_MOVED_TO and pe is not None and pe.mask & IN_MOVED_TO,
               f'{L}: both exit files appear complete, by rename (exit-files)', f'persist: {pe}', f'exit-dir: {ev}')
    if oom:
        bo, po = W.ino.first(c.bundle, 'oom'), W.ino.first(c.persist, 'oom')
        tap.ok(bo is not None and po is not None and pe is not None and bo.seq < pe.seq and po.seq < pe.seq,
               f'{L}: <bundle>/oom and <persist>/oom appear before the exit files (19)', f'bundle/oom: {bo}',
               f'persist/oom: {po}', f'persist/exit: {pe}', f'exit-dir: {ev}')
    if full:
        link = os.path.join(W.sockdir, c.id)
        gone = wait_until(lambda: not os.path.lexists(os.path.join(c.bundle, 'attach'))
                          and not os.path.lexists(link), 5)
        tap.ok(gone, f'{L}: <bundle>/attach and the <socket-dir>/<id> symlink are gone (15)',
               f'attach: {file_type(os.path.join(c.bundle, "attach"))}', f'symlink: {file_type(link)}')
    if p1_status and c.p1:
        st = REAPER.wait(c.p1, 15)
        tap.eq(f'{L}: P1 exits, with the container\'s status ({code & 0xff}) (15, process-sequence)', code & 0xff, st,
               f'P1 {c.p1}: {proc_stat(c.p1)}')
    if full:
        rest, eof = recv_to_eof(c.mon.sync, 5)
        tap.ok(rest == b'' and eof,
               f'{L}: nothing more on the sync pipe after {{"pid": N}}, then EOF (when-messages-are-sent)',
               f'more bytes: {rest!r}', f'EOF: {eof}')
    return ev


def delete(c, desc=None):
    r = c.vmctl('delete', '--force', c.id)
    tap.ok(r.rc == 0, desc or f'{c.label()}: `delete --force` exits 0', *r.diag())
    c.deleted = r.rc == 0
    return r


def kill_and_wait_stopped(c, sig, code, desc_kill=None):
    r = c.vmctl('kill', c.id, sig)
    tap.ok(r.rc == 0, desc_kill or f'{c.label()}: `kill {sig}` exits 0', *r.diag())
    await_exit(c, code)


def stop_pod(pod, desc=None):
    """StopPodSandbox and RemovePodSandbox: kill 15 (pause exits 0), the
    exit files, delete --force."""
    sb = pod.sandbox
    r = sb.vmctl('kill', sb.id, '15')
    tap.ok(r.rc == 0, f'{desc or pod.name}: `kill <sandbox> 15` exits 0', *r.diag())
    await_exit(sb, 0)
    delete(sb)


# --- ExecSync and streaming exec -------------------------------------------------------------


def exec_sync(c, args, timeout_s=0, terminal=False):
    """CRI-O's ExecSync (conmon-cmdlines.txt section 3, -T as CRI-O adds it):
    temp files made first, --sync, cwd = CRI-O's. Returns (P0 status,
    sync bytes, log bytes, seconds, monitor)."""
    pidfile = W.tmpfile('pidfile', b'')
    logf = W.tmpfile(f'crio-log-{c.id}', b'')
    spec = W.tmpfile('exec-process-', json_compact(c.process(args, terminal)).encode())
    argv = [CONMON, '-c', c.id, '-n', c.name, '-r', VMCTL, '-p', pidfile, '-e', '-l', logf,
            '--socket-dir-path', W.sockdir, '--log-level', 'debug', '--sync', '--log-global-size-max', '16777216']
    if timeout_s:
        argv += ['-T', str(timeout_s)]
    if terminal:
        argv += ['-t']
    argv += ['--exec-process-spec', spec, '--runtime-arg', f'--root={W.root}', '--runtime-arg',
             f'--config={c.pod.config}']
    mon = Monitor(argv, cwd=W.crio_cwd)
    mon.write_start()
    rc = mon.wait_p0(120 + timeout_s)
    sync, _ = recv_to_eof(mon.sync, 5)
    return rc, sync, read_bytes(logf) or b'', mon.p0_secs, mon


def stream_exec(c, args, input=b'', close_stdin=True, timeout=60):
    """kubectl exec without a tty: `vmctl exec --process F <id>` in the
    foreground, its stdio the streams."""
    spec = W.tmpfile('exec-process-', json_compact(c.process(args)).encode())
    cmd = [VMCTL, '--root', W.root, '--config', c.pod.config, 'exec', '--process', spec, c.id]
    rc, out, err, secs = run_fg(cmd, input, close_stdin, timeout, cwd=W.crio_cwd, env=runtime_env())
    return Result(cmd, rc, out, err, secs)


def check_kernel(c, desc):
    """The kernel c's processes run on: the guest's for a VM pod (its
    /proc/version differs from the host's), the host's for a trusted one."""
    r = stream_exec(c, ['cat', '/proc/version'])
    host = host_kernel()
    good = r.rc == 0 and r.out.startswith(b'Linux version ') and (r.out != host) != c.pod.trusted
    tap.ok(good, desc, f'host: {host!r}', *r.diag())
    return r.out


# --- running a driver -----------------------------------------------------------------------------


def trusted_leftovers():
    """Containers runc still knows under the trusted root vmctl gives it."""
    troot = os.path.join(W.root, 'trusted')
    if not os.path.isdir(troot):
        return []
    r = subprocess.run(['runc', '--root', troot, 'list', '-q'], capture_output=True, timeout=30)
    return r.stdout.decode(errors='replace').split()


def cgroup_procs(d):
    data = read_bytes(os.path.join(d, 'cgroup.procs')) or b''
    return [int(x) for x in data.split()]


def cleanup():
    """Everything started goes away, and the last checks say whether it did
    so by itself."""
    SYSLOG.close()
    if W.root is None:
        return
    for c in [c for c in W.ctrs if not c.is_sandbox] + [c for c in W.ctrs if c.is_sandbox]:
        if not c.deleted and os.path.exists(os.path.join(W.root, 'containers', c.id)):
            c.vmctl('delete', '--force', c.id, timeout=30)

    def left():
        REAPER.reap_all()
        return [p for p in procs_mentioning(W.root)]
    wait_until(lambda: not left(), 30, 0.1)
    rest = left()
    tap.ok(not rest, 'nothing mentioning the runtime root is left running (qemu-system, conmon-kata, ck-standin)',
           *[f'{p} {comm}: {cl[:300]}' for p, comm, cl in rest])
    if any(pod.trusted for pod in W.pods):
        runc_left = trusted_leftovers()
        tap.ok(not runc_left, 'runc has no container left under the trusted root', *runc_left)
        for cid in runc_left:
            subprocess.run(['runc', '--root', os.path.join(W.root, 'trusted'), 'delete', '--force', cid],
                           capture_output=True, timeout=30)
    for p, _, _ in rest:
        try:
            os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    for mon in W.monitors:
        for pid in (mon.p0,):
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
    for c in W.ctrs:
        if c.p1:
            try:
                os.killpg(c.p1, signal.SIGKILL)
            except OSError:
                pass
    wait_until(lambda: not procs_mentioning(W.root), 10, 0.1)
    REAPER.reap_all()
    cg, procs = [], []
    for parent, existed in W.cgroup_parents.items():
        for c in W.ctrs:
            d = os.path.join(parent, f'crio-{c.id}')
            if os.path.isdir(d):
                cg.append(d)
                for p in cgroup_procs(d):
                    procs.append(f'{p} in {d}: {cmdline(p)}')
                    try:
                        os.kill(p, signal.SIGKILL)
                    except OSError:
                        pass
                wait_until(lambda d=d: not cgroup_procs(d), 5)
                try:
                    os.rmdir(d)
                except OSError:
                    pass
        if not existed:
            try:
                os.rmdir(parent)
            except OSError:
                pass
    tap.ok(not procs, 'no process is left in a container\'s host cgroup', *procs)
    tap.ok(not cg, 'no host cgroup of the containers is left behind', *cg)
    for fn in W.after_cleanup:
        fn()
    unmount_under(W.root)  # what killed monitors left of their pods' shares
    for pod in W.pods:
        pod.release()
    rm_rf(W.root)
    rm_rf(W.tmp)


def run_standalone(driver_tap, body, cleanup):
    """The main of a driver of vmctl alone (no CRI-O samples): a TAP skip
    outside meson test, when not root or without vmctl; else drive()."""
    missing = [n for n, v in (('CK_BUILD_ROOT', BUILD), ('CK_SOURCE_ROOT', SOURCE), ('CK_TEST_CONFIG', CONFIG),
                              ('CK_TEST_ROOTFS', ROOTFS)) if not v]
    if missing:
        print(f'1..0 # SKIP run through meson test ({", ".join(missing)} not set)')
        return 0
    if os.geteuid() != 0 or not os.access(VMCTL, os.X_OK):
        print('1..0 # SKIP needs root and the built vmctl')
        return 0
    return drive(driver_tap, body, cleanup)


def run_driver(body):
    """A driver's main: checks what it needs, becomes the subreaper, opens
    W, runs body(), and cleans up whatever happens; prints the plan last.
    Returns the exit status."""
    missing = [n for n, v in (('CK_BUILD_ROOT', BUILD), ('CK_TEST_CONFIG', CONFIG), ('CK_TEST_ROOTFS', ROOTFS))
               if not v]
    if missing:
        print(f'1..0 # SKIP run through meson test ({", ".join(missing)} not set)')
        return 0
    samples = samples_dir()
    if os.geteuid() != 0 or samples is None or not os.access(VMCTL, os.X_OK) or not os.access(CONMON, os.X_OK):
        print(f'1..0 # SKIP needs root, the binaries and the CRI-O samples (samples: {samples})')
        return 0

    def opened_body():
        W.open(samples)
        SYSLOG.open()
        tap.note(f'runtime root {W.root}, scratch {W.tmp}')
        body()
    return drive(tap, opened_body, cleanup)
