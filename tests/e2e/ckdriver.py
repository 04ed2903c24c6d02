"""ckdriver: shared pieces of the e2e drivers (crio_replay.py, vmctl_oci.py).

Standard library only. Everything here plays a caller's part towards
conmon-kata (the monitor) and vmctl (the OCI runtime), as
../shared/docs/conmon-contract.md describes it:

  * TAP output (Tap), with items that stop at their first fatal failure,
  * processes: fork/exec with fds 3, 4 (and 5) as socketpairs, a new
    process group, /proc inspection, reaping as the child subreaper (so
    the monitors P0 forks come back to us and their exit status can be
    checked), commands with a deadline (run_cmd, run_fg),
  * inotify through ctypes: one queue for the exit dir, the persist dirs
    and the bundles, so the order in which files appear can be asserted,
  * terminals: a console socket that receives a pty master over
    SCM_RIGHTS, and reading a pty until a pattern shows up,
  * the OCI state checks every driver makes (runc's keys, RFC 3339).
"""

import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import re
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
import traceback

CRIO_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

# runc's state keys (conmon-contract.md 8.4): nothing else may appear
RUNC_STATE_KEYS = {'ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner', 'annotations'}

# conmon-contract.md 10 item 12
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

    def wait(self, directory, name, timeout, mask=APPEAR):
        deadline = now() + timeout
        while True:
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


def unmount_under(path):
    """Detaches every mount at or below path, deepest first (what a monitor
    that was killed left of its pod's share); `umount -R` alone needs path
    itself to be a mount point. Only for a test's own scratch directories
    (under /run or /tmp). Returns the mount points it found."""
    if not re.match(r'^/(run|tmp)/[^/]+', path):
        raise ValueError(f'unmount_under: {path} is not a scratch directory under /run or /tmp')
    found = []
    for line in (read_bytes('/proc/self/mountinfo') or b'').decode(errors='replace').splitlines():
        fields = line.split(' ')
        if len(fields) > 4:
            point = re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), fields[4])
            if point == path or point.startswith(path.rstrip('/') + '/'):
                found.append(point)
    for point in sorted(set(found), key=len, reverse=True):
        subprocess.run(['umount', '-l', point], capture_output=True)
    return found


def json_compact(obj):
    return json.dumps(obj, separators=(',', ':'))


def rm_rf(path):
    shutil.rmtree(path, ignore_errors=True)


def errno_name(e):
    return errno.errorcode.get(e, str(e))
