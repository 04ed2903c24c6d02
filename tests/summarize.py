#!/usr/bin/env python3
"""Sums the results of a `meson test` run into the CI summary line.

Reads one or more meson-logs/testlog.json files (CI reads two: the
build's and the sanitized build's, docs/sanitizers.md) and sums them all
into one line; with more than one file, each test is named after its build
directory too ("build-asan/frame"), and a file that does not exist (a
build that failed before its tests ran) counts as one failure. Each meson test is a TAP producer; its TAP
lines are counted one by one ("ok", "ok ... # SKIP", "not ok"). A test
that produced no TAP result lines at all (it crashed before its first
assertion, or timed out early) counts as one failure, so a broken suite
can never look green.

Skips. A skip is allowed only when its reason is one of ALLOWED_SKIPS
below: something this kind of host may lack without the project being at
fault. Every other skip (not root, a missing fixture, binary, guest image
or Podman, "run through meson test", no reason at all) is a suite that
should have run, and counts as a failure, named with its reason. A whole
suite that skipped (`1..0 # SKIP <reason>`, or meson's SKIP with no TAP
line) is judged by the same rule, and counts as one result.

The last line printed is

    N passed, N failed, N skipped

where "skipped" counts allowed skips only.
"""
import json
import os
import re
import sys

TAP = re.compile(r"^(not ok|ok)\b\s*(?:\d+\b)?\s*-?\s*(.*)$")
PLAN_SKIP = re.compile(r"^1\.\.0\s*#\s*SKIP\b\s*(.*)$", re.I)
SKIP = re.compile(r"#\s*SKIP\b\s*(.*)$", re.I)
TODO = re.compile(r"#\s*TODO\b", re.I)

# The skips a host may cause, by name: (pattern the reason must match from
# its start, why it is the host's and not the project's).
ALLOWED_SKIPS = {
    "no-journald": (r"no journald\b",
                    "the host runs no systemd-journald, so there is no journal to read back "
                    "(tests/e2e/podman.sh, --log-driver journald)"),
    "live-journald": (r"a live journald owns /run/systemd/journal/socket\b",
                      "the host's own journald holds the socket the unit test would stand in for "
                      "(tests/unit/test-conmon-logging.c)"),
    "no-tzdata": (r"no tzdata for \S+",
                  "the host has no tzdata for a named zone (tests/unit/test-conmon-logging.c); "
                  "POSIX TZ strings are still tested"),
}


def allowed_skip(reason):
    """The name of the ALLOWED_SKIPS entry reason matches, or None."""
    for name, (pattern, _) in ALLOWED_SKIPS.items():
        if re.match(pattern, reason.strip()):
            return name
    return None


class Counts:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.bad_skips = []    # (description, reason): skips that count as failures
        self.good_skips = []   # (description, reason, allowed name)

    def skip(self, desc, reason):
        name = allowed_skip(reason)
        if name is None:
            self.failed += 1
            self.bad_skips.append((desc, reason))
        else:
            self.skipped += 1
            self.good_skips.append((desc, reason, name))


def count(stdout):
    """Counts one test's TAP output. Returns (Counts, plan skip reason or None)."""
    c = Counts()
    plan_skip = None
    for line in stdout.splitlines():
        m = PLAN_SKIP.match(line)
        if m:
            plan_skip = m.group(1).strip()
            continue
        m = TAP.match(line)
        if not m:
            continue
        directive = m.group(2)
        if m.group(1) == "not ok":
            if TODO.search(directive):
                continue
            c.failed += 1
            continue
        s = SKIP.search(directive)
        if s:
            c.skip(directive[:s.start()].strip(), s.group(1).strip())
        else:
            c.passed += 1
    return c, plan_skip


def judge(entry):
    """Counts of one testlog.json entry, its verdict taken into account."""
    c, plan_skip = count(entry.get("stdout") or "")
    result = entry.get("result")
    if c.passed + c.failed + c.skipped + len(c.bad_skips) == 0:
        # nothing counted: the test's own verdict decides
        if plan_skip is not None or result == "SKIP":
            c.skip("the whole suite", plan_skip or "(no reason given)")
        elif result in ("OK", "EXPECTEDFAIL"):
            c.passed = 1
        else:
            c.failed = 1
    elif result not in ("OK", "EXPECTEDFAIL", "SKIP") and c.failed == 0:
        # e.g. a crash or timeout after some passing assertions
        c.failed = 1
    return c, result


def build_label(path):
    """The build directory of a testlog.json path: build-asan for
    build-asan/meson-logs/testlog.json."""
    parts = os.path.normpath(path).split(os.sep)
    if len(parts) >= 3 and parts[-2] == "meson-logs":
        return parts[-3]
    return path


def summarize_log(path, label, totals):
    """Adds one testlog.json's counts to totals, printing its FAILED and
    SKIPPED lines; test names are prefixed with label when it is set."""
    try:
        f = open(path)
    except OSError as e:
        print(f"FAILED: {path}: no test log ({e.strerror})")
        totals[1] += 1
        return
    with f:
        for raw in f:
            entry = json.loads(raw)
            c, result = judge(entry)
            name = entry.get("name")
            if label:
                name = f"{label}/{name}"
            for desc, reason, allowed in c.good_skips:
                print(f"SKIPPED ({allowed}): {name}: {desc}: {reason}")
            for desc, reason in c.bad_skips:
                print(f"FAILED: {name}: {desc}: skipped ({reason}), not an allowed skip")
            if c.failed > len(c.bad_skips):
                print(f"FAILED: {name} ({result})")
            totals[0] += c.passed
            totals[1] += c.failed
            totals[2] += c.skipped


def main(*paths):
    paths = paths or ("build/meson-logs/testlog.json",)
    totals = [0, 0, 0]
    for path in paths:
        summarize_log(path, build_label(path) if len(paths) > 1 else None, totals)
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 0 if totals[1] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
