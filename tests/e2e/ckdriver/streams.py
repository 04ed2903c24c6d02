"""Sockets and terminals: the attach socket's records, sync pipe reads, a
console socket receiving a pty master over SCM_RIGHTS, reading a pty."""
import fcntl
import os
import re
import select
import socket
import struct

from .util import now


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
