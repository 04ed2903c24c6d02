"""Small helpers every other module uses: time, polling, reading files,
short diagnostics."""
import errno
import json
import shutil
import time


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


def json_compact(obj):
    return json.dumps(obj, separators=(',', ':'))


def rm_rf(path):
    shutil.rmtree(path, ignore_errors=True)


def errno_name(e):
    return errno.errorcode.get(e, str(e))
