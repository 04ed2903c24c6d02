#!/usr/bin/env python3
"""Unit test of tests/summarize.py (TAP): the summary line and the FAILED
and SKIPPED lines for testlog.json files made up here, with allowed skips
and skips of suites that should have run, whole-suite skips included."""
import contextlib
import io
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import summarize  # noqa: E402

n = 0
failed = 0


def check(desc, ok, *diag):
    global n, failed
    n += 1
    print(f"{'ok' if ok else 'not ok'} {n} - {desc}")
    if not ok:
        failed += 1
        for d in diag:
            for line in str(d).splitlines():
                print(f"# {line}")


def summarize_entries(entries):
    """Runs summarize.main on a testlog.json of entries: (status, lines)."""
    with tempfile.TemporaryDirectory(prefix="ck-summarize-") as d:
        path = os.path.join(d, "testlog.json")
        with open(path, "w") as f:
            for e in entries:
                f.write(json.dumps(e) + "\n")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = summarize.main(path)
    return status, out.getvalue().splitlines()


def entry(name, result, stdout):
    return {"name": name, "result": result, "stdout": stdout}


def expect(desc, entries, status, last, present=(), absent=()):
    got_status, lines = summarize_entries(entries)
    check(f"{desc}: exit status {status}", got_status == status, f"got {got_status}", *lines)
    check(f"{desc}: last line '{last}'", lines[-1:] == [last], *lines)
    for p in present:
        check(f"{desc}: prints '{p}'", p in lines, *lines)
    for a in absent:
        check(f"{desc}: no line starts with '{a}'", not any(line.startswith(a) for line in lines), *lines)


# The allowed list itself: each entry matches the reason its test prints.
for reason, name in (("no journald", "no-journald"),
                     ("a live journald owns /run/systemd/journal/socket", "live-journald"),
                     ("no tzdata for Asia/Kolkata", "no-tzdata")):
    check(f"'{reason}' is the allowed skip {name}", summarize.allowed_skip(reason) == name,
          summarize.allowed_skip(reason))
for reason in ("needs root, the binaries and the CRI-O samples (samples: None)",
               "run through meson test (CK_BUILD_ROOT not set)", "cannot bind /run/systemd/journal/socket (not root?)",
               "ip netns add failed: permission denied", "", "(no reason given)", "please no journald"):
    check(f"'{reason}' is not an allowed skip", summarize.allowed_skip(reason) is None)

expect("all passing", [entry("frame", "OK", "ok 1 /a\nok 2 /b\n1..2\n")], 0, "2 passed, 0 failed, 0 skipped",
       absent=("FAILED", "SKIPPED"))

expect("an allowed skip among passes",
       [entry("podman", "OK", "ok 1 - run\nok 2 - journald # SKIP no journald\n1..2\n")],
       0, "1 passed, 0 failed, 1 skipped",
       present=("SKIPPED (no-journald): podman: journald: no journald",), absent=("FAILED",))

expect("a GLib skip of an allowed reason",
       [entry("conmon-logging", "OK", "ok 1 /log/tz # SKIP no tzdata for Asia/Kolkata\n1..1\n")],
       0, "0 passed, 0 failed, 1 skipped",
       present=("SKIPPED (no-tzdata): conmon-logging: /log/tz: no tzdata for Asia/Kolkata",))

expect("a skip that should have run",
       [entry("hooks", "OK", "ok 1 /hooks/a\nok 2 /hooks/netns # SKIP ip netns add failed: denied\n1..2\n")],
       1, "1 passed, 1 failed, 0 skipped",
       present=("FAILED: hooks: /hooks/netns: skipped (ip netns add failed: denied), not an allowed skip",))

expect("a whole suite skipped for want of fixtures (plan 1..0, SKIP directive)",
       [entry("crio-replay", "SKIP",
              "1..0 # SKIP needs root, the binaries and the CRI-O samples (samples: None)\n")],
       1, "0 passed, 1 failed, 0 skipped",
       present=("FAILED: crio-replay: the whole suite: skipped (needs root, the binaries and the CRI-O samples "
                "(samples: None)), not an allowed skip",))

expect("a whole suite skipped for an allowed reason",
       [entry("journal-only", "SKIP", "1..0 # SKIP no journald\n")],
       0, "0 passed, 0 failed, 1 skipped",
       present=("SKIPPED (no-journald): journal-only: the whole suite: no journald",))

expect("meson's SKIP with no TAP line and no reason",
       [entry("mystery", "SKIP", "")], 1, "0 passed, 1 failed, 0 skipped",
       present=("FAILED: mystery: the whole suite: skipped ((no reason given)), not an allowed skip",))

expect("a crash before any TAP line", [entry("boot", "FAIL", "")], 1, "0 passed, 1 failed, 0 skipped",
       present=("FAILED: boot (FAIL)",))

expect("a timeout after some passes", [entry("agent", "TIMEOUT", "ok 1 /a\nok 2 /b\n")],
       1, "2 passed, 1 failed, 0 skipped", present=("FAILED: agent (TIMEOUT)",))

expect("not ok and TODO",
       [entry("x", "FAIL", "ok 1 a\nnot ok 2 b\nnot ok 3 c # TODO later\n1..3\n")],
       1, "1 passed, 1 failed, 0 skipped", present=("FAILED: x (FAIL)",))

expect("both kinds of skips, summed over several tests",
       [entry("unit-a", "OK", "ok 1 /a\nok 2 /b # SKIP no tzdata for Europe/Paris\n1..2\n"),
        entry("podman", "OK", "ok 1 - j # SKIP no journald\nok 2 - r\n1..2\n"),
        entry("pod-policy", "SKIP", "1..0 # SKIP needs root, the binaries and the CRI-O samples\n"),
        entry("vmctl-oci", "SKIP", "1..0 # SKIP run through meson test (CK_TEST_CONFIG not set)\n")],
       1, "2 passed, 2 failed, 2 skipped",
       present=("FAILED: pod-policy: the whole suite: skipped (needs root, the binaries and the CRI-O samples), "
                "not an allowed skip",
                "FAILED: vmctl-oci: the whole suite: skipped (run through meson test (CK_TEST_CONFIG not set)), "
                "not an allowed skip"))



def summarize_builds(builds, missing=()):
    """Runs summarize.main on one testlog.json per build directory (a dict
    name -> entries) plus paths of builds that have none: (status, lines)."""
    with tempfile.TemporaryDirectory(prefix="ck-summarize-") as d:
        paths = []
        for build, entries in builds.items():
            os.makedirs(os.path.join(d, build, "meson-logs"))
            path = os.path.join(d, build, "meson-logs", "testlog.json")
            with open(path, "w") as f:
                for e in entries:
                    f.write(json.dumps(e) + "\n")
            paths.append(path)
        paths += [os.path.join(d, build, "meson-logs", "testlog.json") for build in missing]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = summarize.main(*paths)
    return status, [line.replace(d + "/", "") for line in out.getvalue().splitlines()]


def expect_builds(desc, builds, status, last, present=(), missing=()):
    got_status, lines = summarize_builds(builds, missing)
    check(f"{desc}: exit status {status}", got_status == status, f"got {got_status}", *lines)
    check(f"{desc}: last line '{last}'", lines[-1:] == [last], *lines)
    check(f"{desc}: one summary line", sum(1 for line in lines if " passed, " in line) == 1, *lines)
    for p in present:
        check(f"{desc}: prints '{p}'", p in lines, *lines)


expect_builds("two builds, all passing, summed into one line",
              {"build": [entry("frame", "OK", "ok 1 /a\nok 2 /b\n1..2\n"),
                         entry("podman", "OK", "ok 1 - j # SKIP no journald\n1..1\n")],
               "build-asan": [entry("frame", "OK", "ok 1 /a\nok 2 /b\n1..2\n"),
                              entry("boot", "OK", "ok 1 boots\n1..1\n")]},
              0, "5 passed, 0 failed, 1 skipped", present=("SKIPPED (no-journald): build/podman: j: no journald",))

expect_builds("a failure in the second build only is named with its build",
              {"build": [entry("frame", "OK", "ok 1 /a\n1..1\n")],
               "build-asan": [entry("frame", "FAIL", "ok 1 /a\nnot ok 2 /b\n1..2\n")]},
              1, "2 passed, 1 failed, 0 skipped", present=("FAILED: build-asan/frame (FAIL)",))

expect_builds("a build whose test log does not exist counts as a failure",
              {"build": [entry("frame", "OK", "ok 1 /a\n1..1\n")]},
              1, "1 passed, 1 failed, 0 skipped",
              present=("FAILED: build-asan/meson-logs/testlog.json: no test log (No such file or directory)",),
              missing=("build-asan",))

expect_builds("one file: names stay unprefixed", {"build": [entry("boot", "FAIL", "")]},
              1, "0 passed, 1 failed, 0 skipped", present=("FAILED: boot (FAIL)",))

print(f"1..{n}")
sys.exit(1 if failed else 0)
