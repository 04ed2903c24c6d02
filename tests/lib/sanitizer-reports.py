#!/usr/bin/env python3
"""What the sanitizers reported during a `meson test` run of a sanitized
build (-Db_sanitize=address,undefined, docs/sanitizers.md), as TAP.

tests/meson.build points ASAN_OPTIONS and UBSAN_OPTIONS of every test at
one folder (log_path), so that a report made by any process a test starts
(a daemonized monitor, a runtime call, a forked child whose stderr nobody
reads) lands in a file there rather than on a stream the test may not
read. This test runs last, alone (priority, is_parallel), and fails when
the folder holds any report, printing each; reports it printed are moved
into seen/, so each is reported once.

    sanitizer-reports.py DIR
"""
import os
import sys

MAX_LINES = 80


def main(directory):
    seen = os.path.join(directory, "seen")
    os.makedirs(seen, exist_ok=True)
    reports = sorted(name for name in os.listdir(directory) if os.path.isfile(os.path.join(directory, name)))
    if not reports:
        print(f"ok 1 - no sanitizer report in {directory}")
        print("1..1")
        return 0
    print(f"not ok 1 - {len(reports)} sanitizer report(s) in {directory}")
    for name in reports:
        path = os.path.join(directory, name)
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
        print(f"# --- {name} ({len(lines)} lines) ---")
        for line in lines[:MAX_LINES]:
            print(f"# {line}")
        if len(lines) > MAX_LINES:
            print(f"# ... {len(lines) - MAX_LINES} more lines in {os.path.join(seen, name)}")
        os.replace(path, os.path.join(seen, name))
    print("1..1")
    return 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: sanitizer-reports.py DIR")
    sys.exit(main(sys.argv[1]))
