#!/usr/bin/env python3
"""monitor_valgrind.py: the pod monitor under valgrind's memcheck (TAP).

Issue 14 item 7. A VM pod goes through a whole lifecycle the way CRI-O
drives it (the ckdriver package), with both of its conmon-kata processes started
under `valgrind --tool=memcheck --leak-check=full
--errors-for-leak-kinds=definite --error-exitcode=99`: the sandbox's
(the pod monitor: it starts QEMU, serves the agent channel and the
pod's control socket) and a container's (its output into the CRI log,
its exit code into the exit files). The container prints a line on each
stream and exits 3; then the pod is stopped (kill 15: the pause process
exits 0) and both are deleted.

Each valgrind process writes its own log (--log-file=vg.%p: P0, P1 once
forked, and each stand-in and child forked before its exec). The checks:
the lifecycle's own results (sync pipe, log lines, exit files, P1's
status: the container's code, never valgrind's 99), and for each
monitor's P0 and P1 a complete log ("ERROR SUMMARY" at its end) with no
error and no definitely lost byte; every other complete log (stand-ins,
forks) must have no error either. Possibly lost and still reachable
blocks are not errors: GLib's caches live until exit.

GLib is told to use plain malloc (G_SLICE=always-malloc) and to clear
what it frees (G_DEBUG=gc-friendly), as GLib recommends under valgrind.
QEMU and vmctl are not traced (--trace-children=no). valgrind.supp
holds valgrind's own false positives, each with its reason.

Environment (set by meson): CK_BUILD_ROOT, CK_SOURCE_ROOT, CK_TEST_CONFIG,
CK_TEST_ROOTFS.
"""

import os
import re
import shutil
import signal
import sys

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ckdriver.crio import (  # noqa: E402
    Ctr, Pod, await_exit, check_state, crio_create, delete, expect_pid_sync, run_crio_suite, start, wait_log)
from ckdriver.files import bad_k8s_lines  # noqa: E402
from ckdriver.procs import procs_mentioning  # noqa: E402
from ckdriver.util import read_bytes, short, wait_until  # noqa: E402

VALGRIND_EXIT = 99
# valgrind's own false positives, each with its reason
SUPPRESSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'valgrind.supp')
SUMMARY = re.compile(r'ERROR SUMMARY: ([0-9,]+) errors')
DEFINITELY = re.compile(r'definitely lost: ([0-9,]+) bytes')


def valgrind_argv(logdir):
    return [shutil.which('valgrind'), '--tool=memcheck', '--leak-check=full', '--errors-for-leak-kinds=definite',
            '--show-leak-kinds=definite', f'--error-exitcode={VALGRIND_EXIT}', '--trace-children=no',
            '--num-callers=40', f'--suppressions={SUPPRESSIONS}', f'--log-file={os.path.join(logdir, "vg.%p")}']


def read_log(logdir, pid):
    return (read_bytes(os.path.join(logdir, f'vg.{pid}')) or b'').decode(errors='replace')


def log_verdict(text):
    """(complete, errors, definitely lost bytes) of one valgrind log."""
    m = SUMMARY.search(text)
    if m is None:
        return False, None, None
    d = DEFINITELY.search(text)
    lost = int(d.group(1).replace(',', '')) if d else 0
    return True, int(m.group(1).replace(',', '')), lost


def findings(text, limit=12000):
    """What a log says beyond its banner: the errors and the leak records
    (the command line and copyright lines are left out)."""
    keep = [line for line in text.splitlines() if not re.match(r'==[0-9]+== (Command|Copyright|Using|Memcheck)', line)]
    return '\n'.join(keep)[-limit:]


def check_monitor_logs(ctx, c, logdir):
    """P0's and P1's logs: complete, no error, nothing definitely lost."""
    L = c.label()
    for what, pid in (('P0', c.mon.p0), ('P1 (the monitor)', c.p1)):
        text = read_log(logdir, pid)
        complete, errors, lost = log_verdict(text)
        ctx.tap.ok(complete and errors == 0 and lost == 0,
                   f'{L}: memcheck on {what}: a complete log, 0 errors, 0 bytes definitely lost',
                   f'log vg.{pid}: complete {complete}, errors {errors}, definitely lost {lost}', findings(text))


def lifecycle(ctx, logdir):
    vg = valgrind_argv(logdir)
    pod = Pod(ctx, 'vg-pod', 'vg-pod-uid-0001', netns_prefix='ckvg')
    sb = pod.sandbox.prepare()
    ctr = Ctr(pod, 'talker').prepare(['sh', '-c', 'echo out-line; echo err-line >&2; exit 3'])

    # RunPodSandbox under valgrind: the pod monitor boots the VM
    sync = crio_create(sb, wrapper=vg)
    expect_pid_sync(sb, sync)
    ctx.tap.ok('valgrind' in ' '.join(sb.mon.argv) and os.path.exists(os.path.join(logdir, f'vg.{sb.p1}')),
               'sandbox: the pod monitor (P1) runs under memcheck: it has its own log', f'P1 {sb.p1}',
               f'logs: {sorted(os.listdir(logdir))}')
    start(sb, 'sandbox: `start` exits 0')
    check_state(sb, 'sandbox: state says running', 'running', sb.pid)

    # CreateContainer + StartContainer under valgrind: output, exit 3
    sync = crio_create(ctr, wrapper=vg)
    expect_pid_sync(ctr, sync)
    start(ctr, 'talker: `start` exits 0')
    got = wait_log(ctr, b' stderr F err-line\n', 60) and wait_log(ctr, b' stdout F out-line\n', 5)
    log = read_bytes(ctr.log) or b''
    ctx.tap.ok(got and not bad_k8s_lines(log), 'talker: the CRI log has "stdout F out-line" and "stderr F err-line"',
               f'log: {short(log)}')
    await_exit(ctr, 3, timeout=120)
    check_state(ctr, 'talker: state says stopped', 'stopped')

    # StopPodSandbox: kill 15, the pause process exits 0
    r = sb.vmctl('kill', sb.id, '15')
    ctx.tap.ok(r.rc == 0, 'sandbox: `kill 15` exits 0', *r.diag())
    await_exit(sb, 0, timeout=120)
    delete(ctr)
    delete(sb)
    pod_dir = os.path.join(ctx.root, 'pods', sb.id)
    ctx.tap.ok(wait_until(lambda: not procs_mentioning(pod_dir), 30), 'the pod\'s QEMU is gone once it is deleted',
               *[f'{p} {comm}' for p, comm, _ in procs_mentioning(pod_dir)])

    # the verdicts: both monitors, then every other complete log
    for c in (sb, ctr):
        check_monitor_logs(ctx, c, logdir)
    monitors = {str(p) for c in (sb, ctr) for p in (c.mon.p0, c.p1)}
    others, bad = 0, []
    for name in sorted(os.listdir(logdir)):
        if name.split('.', 1)[1] in monitors:
            continue
        text = read_log(logdir, name.split('.', 1)[1])
        complete, errors, lost = log_verdict(text)
        if complete:
            others += 1
            if errors != 0:
                bad.append(f'{name}: {errors} errors, {lost} bytes definitely lost\n{findings(text, 4000)}')
    ctx.tap.ok(not bad, f'memcheck: the other {others} complete logs (stand-ins, children before exec) have 0 errors',
               *bad)


def main():
    if shutil.which('valgrind') is None:
        print('1..0 # SKIP valgrind is not installed (contrib/install-deps.sh installs it)')
        return 0

    def body(ctx):
        # what GLib asks for under valgrind; reaches both monitors' environments
        ctx.extra_env.update({'G_SLICE': 'always-malloc', 'G_DEBUG': 'gc-friendly'})
        logdir = ctx.mk('valgrind')
        ctx.tap.note(f'valgrind logs in {logdir}')
        ctx.tap.item('a VM pod\'s lifecycle with both monitors under memcheck', lambda: lifecycle(ctx, logdir))
    return run_crio_suite(body)


if __name__ == '__main__':
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
