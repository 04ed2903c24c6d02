#!/usr/bin/env python3
"""Sums the results of a `meson test` run into the CI summary line.

Reads meson-logs/testlog.json. Each meson test is a TAP producer; its TAP
lines are counted one by one ("ok", "ok ... # SKIP", "not ok"). A test
that produced no TAP result lines at all (it crashed before its first
assertion, or timed out early) counts as one failure, so a broken suite
can never look green. The last line printed is

    N passed, N failed, N skipped
"""
import json
import re
import sys

TAP = re.compile(r"^(not ok|ok)\b(.*)$")


def count(stdout):
    passed = failed = skipped = 0
    for line in stdout.splitlines():
        m = TAP.match(line)
        if not m:
            continue
        directive = m.group(2)
        if m.group(1) == "not ok":
            if re.search(r"#\s*TODO", directive, re.I):
                continue
            failed += 1
        elif re.search(r"#\s*SKIP", directive, re.I):
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main(path):
    totals = [0, 0, 0]
    with open(path) as f:
        for raw in f:
            entry = json.loads(raw)
            p, fl, s = count(entry.get("stdout") or "")
            result = entry.get("result")
            if p + fl + s == 0:
                # nothing counted: the test's own verdict decides
                if result in ("OK", "EXPECTEDFAIL"):
                    p = 1
                elif result == "SKIP":
                    s = 1
                else:
                    fl = 1
            elif result not in ("OK", "EXPECTEDFAIL", "SKIP") and fl == 0:
                # e.g. a crash or timeout after some passing assertions
                fl = 1
            name = entry.get("name")
            if fl:
                print(f"FAILED: {name} ({result})")
            totals = [totals[0] + p, totals[1] + fl, totals[2] + s]
    print(f"{totals[0]} passed, {totals[1]} failed, {totals[2]} skipped")
    return 0 if totals[1] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "build/meson-logs/testlog.json"))
