"""runc's words and shapes: the state keys, one-line errors, RFC 3339."""
import datetime
import re

from .util import short


CRIO_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

# runc's state keys (conmon-interface.md#state-output): nothing else may appear
RUNC_STATE_KEYS = {'ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner', 'annotations'}

# conmon-interface.md#conformance-checks item 12
K8S_LINE = re.compile(rb'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9}[+-][0-9]{2}:[0-9]{2} '
                      rb'(stdout|stderr) [PF] ')
RFC3339 = re.compile(r'^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$')


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


def parse_rfc3339(text):
    """RFC 3339 with up to nanoseconds, to a POSIX timestamp."""
    m = re.fullmatch(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)', text)
    base = datetime.datetime.fromisoformat(m.group(1) + (m.group(3).replace('Z', '+00:00')))
    return base.timestamp() + float('0.' + (m.group(2) or '0'))
