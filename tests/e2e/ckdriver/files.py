"""Files as the callers watch them: one inotify queue (the order in which
files appear), k8s-file log lines, file types, FIFOs, mounts."""
import ctypes
import ctypes.util
import os
import re
import select
import stat
import struct
import subprocess

from .oci import K8S_LINE
from .util import now, read_bytes

_libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6', use_errno=True)


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
