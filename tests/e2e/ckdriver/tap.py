"""TAP output: numbered checks, items that stop at their first fatal
failure, and counting a TAP stream (summaries, tests/unit/test-ckdriver.py)."""
import re
import sys
import traceback

from .util import now, short


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

    def item(self, name, fn, *args):
        """Runs one group of checks, fn(*args): an Abort ends it quietly
        (its failure is already reported), anything else is reported as a
        failure; the run goes on with the next item either way."""
        t0 = now()
        try:
            fn(*args)
        except Abort:
            self.note(f'{name}: stopped after the failure above')
        except Exception as e:  # noqa: BLE001 - report and go on
            self.ok(False, f'{name}: the driver raised {type(e).__name__}', *traceback.format_exc().splitlines())
        self.note(f'{name}: {now() - t0:.1f} s')


TAP_RESULT = re.compile(r'^(ok|not ok)\b(?:\s+\d+)?[^#]*(#\s*(SKIP|TODO)\b.*)?$', re.I)


def count(text):
    """What a TAP stream says: {'ok', 'not ok', 'skip', 'plan'} (a
    skipped check counts as ok and as skip; plan is N of 1..N or None)."""
    counts = {'ok': 0, 'not ok': 0, 'skip': 0, 'plan': None}
    for line in text.splitlines():
        m = TAP_RESULT.match(line)
        if m:
            counts[m.group(1).lower()] += 1
            if m.group(3) and m.group(3).upper() == 'SKIP':
                counts['skip'] += 1
            continue
        p = re.match(r'^1\.\.(\d+)', line)
        if p:
            counts['plan'] = int(p.group(1))
    return counts
