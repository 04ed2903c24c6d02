#!/usr/bin/env python3
"""netpeer.py: the peer end of a TCP transfer, run inside a peer network
namespace by the pod-network test and the network benchmark (ip netns
exec NS python3 netpeer.py ...). Only to the address it is given.

  put HOST PORT SIZE   connects (retrying for 60 s while nothing listens),
                       sends SIZE random bytes, closes its side, waits for
                       the other side to close; prints the bytes' sha256
                       and the seconds from connect to that close
  get HOST PORT PATH   fetches PATH over HTTP/1.0; prints the body's
                       length, its sha256 and the seconds the body took
"""
import hashlib
import os
import socket
import sys
import time


def connect(host, port):
    deadline = time.monotonic() + 60
    while True:
        try:
            return socket.create_connection((host, port), timeout=60)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def put(s, size):
    h = hashlib.sha256()
    t0 = time.monotonic()
    left = size
    while left:
        chunk = os.urandom(min(left, 65536))
        h.update(chunk)
        s.sendall(chunk)
        left -= len(chunk)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    print(h.hexdigest(), f'{time.monotonic() - t0:.6f}')


def get(s, path):
    s.sendall(b'GET ' + path.encode() + b' HTTP/1.0\r\n\r\n')
    head = b''
    while b'\r\n\r\n' not in head:
        b = s.recv(65536)
        if not b:
            break
        head += b
    _, _, body = head.partition(b'\r\n\r\n')
    h = hashlib.sha256(body)
    n = len(body)
    t0 = time.monotonic()
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        h.update(b)
        n += len(b)
    print(n, h.hexdigest(), f'{time.monotonic() - t0:.6f}')


def main():
    mode, host, port, arg = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    s = connect(host, port)
    if mode == 'put':
        put(s, int(arg))
    else:
        get(s, arg)
    return 0


if __name__ == '__main__':
    sys.exit(main())
