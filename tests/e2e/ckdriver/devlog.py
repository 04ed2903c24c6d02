"""/dev/log as CRI-O's monitors see it (conmon-kata --syslog)."""
import os
import socket
import threading

from .util import wait_until


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
