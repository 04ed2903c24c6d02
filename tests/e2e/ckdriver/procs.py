"""Processes: fork/exec with fds 3, 4 (and 5), /proc inspection, reaping
as the child subreaper, commands with a deadline, and the last check of a
run (nothing left running)."""
import ctypes
import ctypes.util
import fcntl
import json
import os
import select
import signal
import subprocess

from .util import now, read_bytes, short, wait_until

_libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6', use_errno=True)


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


def signal_quietly(pid, sig, group=False):
    """kill(2) (killpg with group) of something that may be gone already."""
    try:
        (os.killpg if group else os.kill)(pid, sig)
    except OSError:
        pass


def nothing_left(ctx, desc, texts, timeout):
    """A driver's last check, on ctx.tap: waits until no live process
    mentions any of texts, reports those that still do, then ends them by
    pid (SIGKILL). Returns what was left."""
    def left():
        ctx.reaper.reap_all()
        return [p for t in texts for p in procs_mentioning(t)]
    wait_until(lambda: not left(), timeout, 0.1)
    rest = left()
    ctx.tap.ok(not rest, desc, *[f'{p} {comm}: {cl[:300]}' for p, comm, cl in rest])
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


def cgroup_lines(pid):
    """{controller list: path} from /proc/<pid>/cgroup."""
    out = {}
    for line in (read_bytes(f'/proc/{pid}/cgroup') or b'').decode().splitlines():
        parts = line.split(':', 2)
        if len(parts) == 3:
            out[parts[1]] = parts[2]
    return out


def ns_pids(pid):
    """The NSpid line of /proc/<pid>/status: its pid in each pid namespace."""
    for line in (read_bytes(f'/proc/{pid}/status') or b'').splitlines():
        if line.startswith(b'NSpid:'):
            return [int(x) for x in line.split()[1:]]
    return []


def cgroup_procs(d):
    data = read_bytes(os.path.join(d, 'cgroup.procs')) or b''
    return [int(x) for x in data.split()]
