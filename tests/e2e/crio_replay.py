#!/usr/bin/env python3
"""crio_replay.py: CRI-O's part, replayed against conmon-kata and vmctl (TAP).

The driver plays CRI-O 1.26 exactly as docs/conmon-interface.md and
tests/data/crio-1.26/conmon-cmdlines.txt describe it: it builds
the bundles from CRI-O's own config.json samples (host paths rewritten to
the test's directories, a real network namespace for the pod), starts
conmon-kata with CRI-O's argument order and fds (3 = sync, 4 = start:
AF_UNIX STREAM socketpairs, new process group, cwd = bundle), writes the
start byte, reads the sync pipe and the -P pidfile, attaches through
<socket-dir>/<id>/attach, writes ctl lines, calls vmctl as runtime_path
(`--root R start|state|kill|delete --force|exec --process`), and watches the
exit dir with inotify.

Pod 1 replays section 5 of conmon-cmdlines.txt in order (sandbox create,
start, state, container create, state, start, state, streaming exec,
ExecSync, kill KILL, state until stopped, delete --force, sandbox kill 15,
state, delete --force). Pod 2 runs items 13-27 of the conformance checks
(conmon-interface.md#conformance-checks), one container per item, in one
VM, plus CRI-O's other runtime calls (streaming exec on a pty, update
--resources -) and long lines. Pod 3 (VM mode only) loses its pod
monitor to kill -9 (docs/security.md).

Two modes, two meson tests: by default (crio-replay) every pod is
untrusted and runs in its own VM; with --trusted (crio-replay-trusted) the
sandboxes carry io.kubernetes.cri-o.TrustedSandbox: "true", conmon-kata
takes the runc path, and the same files and messages are checked. Where a
check is about the VM itself its trusted counterpart is made instead: the
pid CRI-O gets is runc's container process (pid 1 of its own pid
namespace, the monitor's child) rather than the stand-in, the container
runs on the host's kernel rather than the guest's, there is no QEMU and no
pod directory, cgroup limits are read from the container's cgroup v1
view, and the ipc/uts namespaces the samples name are pinned for real (as
CRI-O's pinns does), since runc joins them. Both modes check the trust
decision recorded in `state`'s annotations.

Busybox's `stty size` prints "stty: standard input" for a 0x0 pty where
coreutils prints "0 0"; item 23 reads it as 0 0.

Every check is a TAP line; failures carry the observed bytes. Everything
started is cleaned up at the end, even on failure, and the last checks are
that nothing mentioning the runtime root is left running, and no
container, process or cgroup of runc's.

Environment (set by meson): CK_BUILD_ROOT, CK_SOURCE_ROOT, CK_TEST_CONFIG,
CK_TEST_ROOTFS.
"""

import json
import os
import re
import secrets
import select
import signal
import struct
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ckdriver.crio import (  # noqa: E402
    TRUSTED_SANDBOX, TRUST_DECISION, Ctr, Monitor, Pod, await_exit, check_files_after_create, check_kernel,
    check_state, create_started, crio_create, delete, exec_sync, expect_pid_sync, kill_and_wait_stopped, pod_qemu,
    run_crio_suite, start, state_status, stream_exec, trusted_leftovers, wait_log)
from ckdriver.files import Inotify, bad_k8s_lines, file_type, k8s_parse, mounts_under, write_fifo  # noqa: E402
from ckdriver.oci import expect_error, not_found_error, unknown_id  # noqa: E402
from ckdriver.procs import pid_alive, proc_stat, procs_mentioning  # noqa: E402
from ckdriver.streams import AttachClient, recv_record  # noqa: E402
from ckdriver.util import json_compact, now, read_bytes, short, wait_until  # noqa: E402

# --trusted: every pod is trusted (TrustedSandbox "true"), so conmon-kata
# takes the runc path
TRUSTED = '--trusted' in sys.argv[1:]


def new_pod(ctx, name, uid, sandbox_label='sandbox'):
    ann = {TRUSTED_SANDBOX: 'true'} if TRUSTED else None
    return Pod(ctx, name, uid, sandbox_label, trusted=TRUSTED, annotations=ann)


def check_trust(ctx, c, js):
    """The decision in `state`'s annotations: the sandbox's own, every
    container following its sandbox."""
    want = ('trusted' if TRUSTED else 'untrusted') + ': '
    want += f'annotation {TRUSTED_SANDBOX}="true"' if TRUSTED and c.is_sandbox else \
        'default_workload_trust = "untrusted"' if c.is_sandbox else f'follows its sandbox {c.pod.sandbox.id}'
    ctx.tap.eq(f'{c.label()}: `state` annotations record the trust decision ({TRUST_DECISION})', want,
               (js.get('annotations') or {}).get(TRUST_DECISION))


def replay(ctx):
    pod = new_pod(ctx, 'lab-pod', 'lab-pod-uid-0001')
    sb = pod.sandbox.prepare()
    ctr = Ctr(pod, 'bb').prepare()  # the sample's own process: hello + tick loop

    ctx.tap.note('pod 1: replay of conmon-cmdlines.txt section 5 (runp, create, start, exec, exec -s, stop, rm, '
                 'stopp, rmp)')
    # RunPodSandbox: conmon ... create
    t0 = now()
    sync = crio_create(sb, full=True)
    expect_pid_sync(sb, sync, full=True)
    ctx.tap.note(f'sandbox create{"" if TRUSTED else " (VM boot included)"}: {now() - t0:.1f} s')
    check_files_after_create(sb)
    js = check_state(sb, 'sandbox: state after create: created, pid N, runc keys only (14)', 'created', sb.pid)
    check_trust(ctx, sb, js)
    # --root R start <sandbox>; --root R state <sandbox>
    qemu = pod_qemu(sb)
    if TRUSTED:
        pod_dir = os.path.join(ctx.root, 'pods', sb.id)
        ctx.tap.ok(not qemu and not os.path.exists(pod_dir), 'sandbox: a trusted pod has no QEMU and no pod directory',
                   f'qemu: {qemu}', f'{pod_dir}: {file_type(pod_dir)}')
    else:
        pod_ns = f'net:[{os.stat(pod.netns_path).st_ino}]'
        qns = [os.readlink(f'/proc/{p[0]}/ns/net') for p in qemu]
        ctx.tap.ok(len(qemu) == 1 and qns == [pod_ns], 'sandbox: the pod\'s QEMU runs in the pod\'s network namespace',
                   f'qemu: {[(p[0], p[1]) for p in qemu]}', f'their netns: {qns}', f'pod: {pod_ns}')
    start(sb, 'replay: `start <sandbox>` exits 0')
    check_state(sb, 'replay: `state <sandbox>`: running, pid N, runc keys only', 'running', sb.pid)

    # CreateContainer: conmon ... create; state
    sync = crio_create(ctr, full=True)
    expect_pid_sync(ctr, sync, full=True)
    check_files_after_create(ctr)
    js = check_state(ctr, 'replay: `state <ctr>` after create: created, pid N (14)', 'created', ctr.pid)
    check_trust(ctx, ctr, js)
    # start; state
    start(ctr, 'replay: `start <ctr>` exits 0')
    check_state(ctr, 'replay: `state <ctr>` after start: running, same pid', 'running', ctr.pid)
    got = wait_log(ctr, b' stdout F tick 0\n', 30)
    ctx.tap.ok(got and b' stdout F hello from lab-pod\n' in read_bytes(ctr.log),
               'replay: the container log has the sample\'s output (hello from lab-pod, tick 0)',
               f'log: {short(read_bytes(ctr.log))}')
    ctx.tap.eq('replay: every line of the container log has the CRI format (12)', [],
               bad_k8s_lines(read_bytes(ctr.log)))
    check_state(ctr, 'replay: `state <ctr>` before exec: running', 'running', ctr.pid)
    check_kernel(ctr, 'replay: the container runs on ' + ('the host\'s kernel' if TRUSTED else
                                                          'the guest\'s kernel, not the host\'s'))

    # streaming exec: --root R exec --process F <ctr>, in the foreground
    r = stream_exec(ctr, ['sh', '-c', 'echo out; echo err >&2; read x; echo "got $x"; exit 4'], b'hi\n')
    ctx.tap.ok(r.rc == 4 and r.out == b'out\ngot hi\n' and r.err == b'err\n',
               'replay: `exec --process F <ctr>` relays stdin, stdout, stderr and exits with the status (4)', *r.diag())

    # ExecSync: conmon -c <ctr> ... -e ... --sync ...
    rc, sync, log, secs, mon = exec_sync(ctr, ['sh', '-c', 'echo out; echo err >&2; exit 7'])
    ctx.tap.eq('replay: ExecSync: the sync pipe holds exactly {"exit_code": 7}\\n (25)', b'{"exit_code": 7}\n', sync,
               *mon.diag())
    ctx.tap.eq('replay: ExecSync: conmon-kata (--sync) exits 7 (25)', 7, rc, *mon.diag())
    parsed = k8s_parse(log)
    ctx.tap.ok(('stdout', 'F', b'out') in parsed and ('stderr', 'F', b'err') in parsed and not bad_k8s_lines(log),
               'replay: ExecSync: the -l file has "stdout F out" and "stderr F err" in CRI format (25, 12)',
               f'log: {log!r}')
    ctx.tap.ok(not os.path.exists(ctr.exit_file), 'replay: ExecSync: no exit-dir file, none was given (25)',
               f'{ctr.exit_file}: {read_bytes(ctr.exit_file)!r}')
    check_state(ctr, 'replay: the container still runs after the exec', 'running', ctr.pid)

    # StopContainer (timeout 0): kill <ctr> KILL, then state until stopped
    r = ctr.vmctl('kill', ctr.id, 'KILL')
    ctx.tap.ok(r.rc == 0, 'replay: `kill <ctr> KILL` exits 0', *r.diag())
    states, t0 = [], now()
    while now() - t0 < 20:
        r = ctr.vmctl('state', ctr.id)
        try:
            js = json.loads(r.out)
        except ValueError:
            js = {'unparsable': r.out}
        states.append((js.get('status'), js.get('pid'), r.rc))
        if js.get('status') == 'stopped':
            break
        time.sleep(0.02)
    ctx.tap.ok(states and states[-1][0] == 'stopped' and states[-1][1] == 0 and
               all(s[2] == 0 and (s[0] == 'stopped' or (s[0] == 'running' and s[1] == ctr.pid)) for s in states),
               'replay: `state <ctr>` repeated: running (pid N) until stopped (pid 0), all exit 0',
               f'(status, pid, rc) seen: {states}')
    ctx.tap.note(f'state calls until stopped: {len(states)}: {states}')
    await_exit(ctr, 137, full=True)
    # RemoveContainer
    delete(ctr, 'replay: `delete --force <ctr>` exits 0')
    r = ctr.vmctl('state', ctr.id)
    expect_error(ctx.tap, r, 'replay: `state <ctr>` after delete fails: status 1, "container <id> does not exist"',
                 unknown_id(ctr.id))

    # StopPodSandbox: kill <sandbox> 15, state, state; RemovePodSandbox
    r = sb.vmctl('kill', sb.id, '15')
    ctx.tap.ok(r.rc == 0, 'replay: `kill <sandbox> 15` exits 0', *r.diag())
    ok_stop = wait_until(lambda: state_status(sb) == 'stopped', 20, 0.05)
    ctx.tap.ok(ok_stop, 'replay: the sandbox stops on SIGTERM (pause exits 0)')
    await_exit(sb, 0, full=True)
    check_state(sb, 'replay: `state <sandbox>` once stopped: pid 0', 'stopped')
    delete(sb, 'replay: `delete --force <sandbox>` exits 0')
    if TRUSTED:
        left = [cid for cid in trusted_leftovers(ctx) if cid in (sb.id, ctr.id)]
        ctx.tap.ok(not left, 'replay: runc no longer knows the pod\'s containers once they are removed', *left)
    else:
        left = wait_until(lambda: not procs_mentioning(os.path.join(ctx.root, 'pods', sb.id)), 20, 0.1)
        ctx.tap.ok(left, 'replay: the pod\'s QEMU is gone once the sandbox is removed',
                   f'still running: {procs_mentioning(os.path.join(ctx.root, "pods", sb.id))}')
    ctx.tap.eq('replay: the pod\'s log lines have the CRI format (12)', [], bad_k8s_lines(read_bytes(sb.log)))
    r = ctx.vmctl('delete', '--force', secrets.token_hex(32))
    ctx.tap.ok(r.rc == 0, '`delete --force` of an unknown id exits 0 (CRI-O cleanup)', *r.diag())


# --- pod 2: the oracle, items 13-27 ---------------------------------------------------------------


def item15(ctx, pod):
    c = Ctr(pod, 'ab').prepare(["sh", "-c", "printf 'a\\nb'; echo err >&2; exit 3"])
    sync = crio_create(c, full=True)
    expect_pid_sync(c, sync, full=True)
    check_files_after_create(c)
    check_state(c, 'ab: state after create: created, pid N (14)', 'created', c.pid)
    start(c)
    await_exit(c, 3, full=True)
    parsed = k8s_parse(read_bytes(c.log))
    out = [(t, s) for st, t, s in parsed if st == 'stdout']
    err = [(t, s) for st, t, s in parsed if st == 'stderr']
    ctx.tap.ok(out == [('F', b'a'), ('P', b'b')] and err == [('F', b'err')],
               'ab: the log has "stdout F a", "stdout P b" and "stderr F err", in order (15)',
               f'log: {read_bytes(c.log)!r}')
    ctx.tap.eq('ab: every log line has the CRI format (12)', [], bad_k8s_lines(read_bytes(c.log)))
    delete(c)


def item16(ctx, pod):
    # vmctl kill KILL -> 137
    c = Ctr(pod, 'sleeper').prepare(['sleep', '1000'])
    create_started(c)
    check_state(c, 'sleeper: running', 'running', c.pid)
    kill_and_wait_stopped(c, 'KILL', 137)
    delete(c)

    # SIGPIPE to P1 is ignored; SIGTERM to P1 is forwarded
    c = Ctr(pod, 'trap').prepare(['sh', '-c', 'trap "echo got-term; exit 5" TERM; echo ready; '
                                              'while :; do sleep 0.1; done'])
    create_started(c)
    ctx.tap.must(wait_log(c, b' stdout F ready\n', 30), 'trap: the container is up (its trap is set)',
                 f'log: {read_bytes(c.log)!r}')
    os.kill(c.p1, signal.SIGPIPE)
    time.sleep(1.0)
    ctx.tap.ok(ctx.reaper.poll(c.p1) is None and pid_alive(c.p1) and pid_alive(c.pid),
               'trap: SIGPIPE to P1 is ignored: P1 and the stand-in live on (16, signals)',
               f'P1: {proc_stat(c.p1)} status {ctx.reaper.poll(c.p1)}', f'stand-in: {proc_stat(c.pid)}')
    check_state(c, 'trap: still running after SIGPIPE (16)', 'running', c.pid)
    os.kill(c.p1, signal.SIGTERM)
    await_exit(c, 5)
    ctx.tap.ok(b' stdout F got-term\n' in (read_bytes(c.log) or b''),
               'trap: SIGTERM to P1 reaches the container: "stdout F got-term" (16)', f'log: {read_bytes(c.log)!r}')
    delete(c)


def item17_18(ctx, pod):
    # 17: an impossible create
    c = Ctr(pod, 'missing').prepare(['no-such-binary-here'])
    sync = crio_create(c, full=False)
    m = re.fullmatch(rb'\{"pid": -1, "message": "(.*)"\}\n', sync, re.S)
    ctx.tap.ok(m and b'executable file not found' in m.group(1),
               'missing: the sync pipe yields {"pid": -1, "message": "...executable file not found..."}\\n (17)',
               f'sync bytes: {sync!r}', *c.mon.diag())
    try:
        msg = json.loads(sync).get('message', '')
    except ValueError:
        msg = None
    # the whole message, in runc's words, which Podman maps to 127: the
    # guest's, or (trusted) runc's own error line as vmctl passed it on
    words = 'exec: "no-such-binary-here": executable file not found in $PATH'
    if TRUSTED:
        good = msg is not None and re.fullmatch(
            r'time="[^"]+" level=error msg="runc create failed: unable to start container process: '
            + re.escape(words.replace('"', '\\"')) + r'"\n?', msg) is not None
    else:
        good = msg == f'unable to start container process: {words}'
    ctx.tap.ok(good, f'missing: the message is exactly runc\'s "{words}" (17, what-callers-do-with-the-messages)',
               f'message: {msg!r}')
    st = ctx.reaper.wait(c.p1, 15) if c.p1 else None
    ctx.tap.ok(c.p1 and ctx.reaper.gone(c.p1) and st == 1,
               'missing: P1 exits with status 1 after the failed create (17)',
               f'P1 {c.p1}: exit status {st}, {proc_stat(c.p1) if c.p1 else None}')
    time.sleep(0.3)
    ctx.crio.ino.pump(0)
    ctx.tap.ok(not os.path.exists(c.exit_file) and not os.path.exists(os.path.join(c.persist, 'exit')),
               'missing: no exit files after a failed create (17, things-the-monitor-never-does)',
               f'exit-dir: {read_bytes(c.exit_file)!r}', f'persist: {read_bytes(os.path.join(c.persist, "exit"))!r}')
    delete(c, 'missing: `delete --force` after the failed create exits 0 (CRI-O cleanup)')

    # the message's escaping (sync-pipe-messages): "/" is written as "\/"
    c = Ctr(pod, 'missing2').prepare(['/no/such/binary'])
    sync = crio_create(c, full=False)
    m = re.fullmatch(rb'\{"pid": -1, "message": "(.*)"\}\n', sync, re.S)
    ctx.tap.ok(m and rb'\/no\/such\/binary' in m.group(1) and b'/' not in m.group(1).replace(b'\\/', b''),
               'missing2: the sync message escapes "/" as "\\/", like conmon (sync-pipe-messages, 17)',
               f'sync bytes: {sync!r}')
    ctx.reaper.wait(c.p1, 15) if c.p1 else None
    delete(c, 'missing2: `delete --force` after the failed create exits 0')

    # 18: the same create with --api-version 1
    c = Ctr(pod, 'apiv1').prepare(['sleep', '1000'])
    sync = crio_create(c, api=True)
    expect_pid_sync(c, sync, key='data')
    check_state(c, 'apiv1: created, pid N (18)', 'created', c.pid)
    r = ctx.vmctl('delete', '--force', c.id)
    ctx.tap.ok(r.rc == 0, 'apiv1: `delete --force` of a created container exits 0', *r.diag())
    c.deleted = r.rc == 0
    st = ctx.reaper.wait(c.p1, 20)
    ctx.tap.ok(st is not None and not pid_alive(c.pid),
               'apiv1: after delete --force, P1 and the stand-in are gone', f'P1 status: {st}',
               f'stand-in: {proc_stat(c.pid)}')


def item19(ctx, pod):
    c = Ctr(pod, 'oom').prepare(['tail', '/dev/zero'], memory=32 * 1024 * 1024)
    create_started(c)
    await_exit(c, 137, oom=True, timeout=120)
    ctx.tap.ok(os.path.exists(os.path.join(c.bundle, 'oom')) and os.path.exists(os.path.join(c.persist, 'oom')),
               'oom: <bundle>/oom and <persist>/oom exist (19)')
    delete(c)


def item20(ctx, pod):
    c = Ctr(pod, 'lsm10').prepare(['sh', '-c', 'i=1; while [ $i -le 100 ]; do echo line$i; i=$((i+1)); done'])
    create_started(c, log_size_max=10)
    await_exit(c, 0)
    parsed = k8s_parse(read_bytes(c.log))
    ctx.tap.eq('lsm10: --log-size-max 10 and 100 lines: the log holds only the last line (20)',
               [('stdout', 'F', b'line100')], parsed, f'log: {short(read_bytes(c.log))}')
    delete(c)

    body = 'x' * 40
    c = Ctr(pod, 'lsm8k').prepare(['sh', '-c', f'i=1; while [ $i -le 400 ]; do echo "line$i-{body}"; '
                                               'i=$((i+1)); done'])
    create_started(c, log_size_max=8192)
    biggest = 0
    deadline = now() + 60
    while now() < deadline and not os.path.exists(c.exit_file):
        try:
            biggest = max(biggest, os.stat(c.log).st_size)
        except OSError:
            pass
        time.sleep(0.002)
        ctx.crio.ino.pump(0)
    await_exit(c, 0)
    biggest = max(biggest, os.stat(c.log).st_size if os.path.exists(c.log) else 0)
    line_cost = len(f'line400-{body}\n') + 45
    ctx.tap.ok(biggest <= 8192 + line_cost, 'lsm8k: --log-size-max 8192: the log never grew past 8192 bytes + one line '
               '(20)', f'largest size seen: {biggest}')
    parsed = k8s_parse(read_bytes(c.log))
    ctx.tap.ok(parsed and parsed[-1] == ('stdout', 'F', f'line400-{body}'.encode())
               and not bad_k8s_lines(read_bytes(c.log)),
               'lsm8k: the log ends with the last line, in CRI format (20)', f'last lines: {parsed[-2:]}')
    delete(c)


def item21(ctx, pod):
    # truncate mode: rm the log, "2 0 0" -> the path reappears
    script = 'echo before; read x; echo "after $x"'
    c = Ctr(pod, 'reopen').prepare(['sh', '-c', script], stdin=True, stdin_once=True)
    create_started(c, ['-i'])
    ctx.tap.must(wait_log(c, b' stdout F before\n'), 'reopen: first output logged', f'log: {read_bytes(c.log)!r}')
    ino = Inotify()
    ino.watch(pod.logdir)
    os.unlink(c.log)
    err = write_fifo(os.path.join(c.bundle, 'ctl'), b'2 0 0\n')
    ctx.tap.ok(err is None, 'reopen: `2 0 0` written to <bundle>/ctl without blocking (ctl-and-winsz-fifos)', err)
    ev = ino.wait(pod.logdir, os.path.basename(c.log), 10)
    ctx.tap.ok(ev is not None and os.path.exists(c.log),
               'reopen: after `2 0 0` the removed log path reappears (Create or MovedTo) (21, log-reopen)',
               f'events: {ino.events[-10:]}')
    a = AttachClient(os.path.join(ctx.crio.sockdir, c.id, 'attach'))
    a.send(b'one\n')
    got = wait_log(c, b' stdout F after one\n', 20)
    ctx.tap.ok(got and b'before' not in read_bytes(c.log), 'reopen: later output lands in the new log (21)',
               f'log: {read_bytes(c.log)!r}')
    a.close()
    await_exit(c, 0)
    delete(c)

    # --log-rotate: <log>.1 keeps the earlier output
    c = Ctr(pod, 'rotate').prepare(['sh', '-c', script], stdin=True, stdin_once=True)
    create_started(c, ['-i'], extra=['--log-rotate'])
    ctx.tap.must(wait_log(c, b' stdout F before\n'), 'rotate: first output logged', f'log: {read_bytes(c.log)!r}')
    err = write_fifo(os.path.join(c.bundle, 'ctl'), b'2 0 0\n')
    rotated = c.log + '.1'
    wait_until(lambda: os.path.exists(rotated), 10)
    a = AttachClient(os.path.join(ctx.crio.sockdir, c.id, 'attach'))
    a.send(b'one\n')
    wait_log(c, b' stdout F after one\n', 20)
    old, new = read_bytes(rotated) or b'', read_bytes(c.log) or b''
    ctx.tap.ok(err is None and b'before' in old and b'after' not in old and b'after one' in new
               and b'before' not in new,
               'rotate: with --log-rotate, <log>.1 holds the earlier output and <log> the later (21)',
               f'ctl: {err}', f'{rotated}: {old!r}', f'{c.log}: {new!r}')
    a.close()
    await_exit(c, 0)
    delete(c)


def item22(ctx, pod):
    c = Ctr(pod, 'cat').prepare(['cat'], stdin=True, stdin_once=True)
    create_started(c, ['-i'])
    a = AttachClient(os.path.join(ctx.crio.sockdir, c.id, 'attach'))
    a.send(b'hello\n')
    a.wait(lambda x: x.records, 20)
    ctx.tap.eq('cat: attach: `hello\\n` comes back as the record \\x02hello\\n (22)', [b'\x02hello\n'], a.records)
    a.shutdown_write()
    await_exit(c, 0)
    ctx.tap.ok(a.wait_eof(5), 'cat: attach: the client sees EOF once the container has exited (relay)')
    a.close()
    delete(c)

    c = Ctr(pod, 'keep').prepare(['sh', '-c', 'while read l; do echo "$l"; echo "e$l" >&2; done'], stdin=True)
    create_started(c, ['--leave-stdin-open', '-i'])
    a = AttachClient(os.path.join(ctx.crio.sockdir, c.id, 'attach'))
    a.send(b'one\n')
    a.wait(lambda x: b'\x02one\n' in x.records and b'\x03eone\n' in x.records, 20)
    ctx.tap.ok(b'\x02one\n' in a.records and b'\x03eone\n' in a.records,
               'keep: attach: stdout records start with \\x02, stderr records with \\x03 (22)', f'records: {a.records}')
    a.shutdown_write()
    time.sleep(1.0)
    check_state(c, 'keep: --leave-stdin-open: the container runs on after the client\'s SHUT_WR (22)', 'running',
                c.pid)
    a.close()
    b = AttachClient(os.path.join(ctx.crio.sockdir, c.id, 'attach'))
    b.send(b'two\n')
    b.wait(lambda x: b'\x02two\n' in x.records, 20)
    ctx.tap.ok(b'\x02two\n' in b.records, 'keep: a second client\'s input still arrives (22)', f'records: {b.records}')
    b.close()
    kill_and_wait_stopped(c, 'KILL', 137)
    delete(c)


def big_output(ctx, pod):
    """A 20000-byte line: attach records of at most 8193 bytes (attach-framing), k8s
    lines cut per chunk into P lines ending with an F line (k8s-file-format)."""
    c = Ctr(pod, 'big').prepare(['sh', '-c', 'read x; head -c 20000 /dev/zero | tr "\\0" a; echo'], stdin=True,
                                stdin_once=True)
    create_started(c, ['-i'])
    a = AttachClient(os.path.join(ctx.crio.sockdir, c.id, 'attach'))
    a.send(b'go\n')
    a.wait(lambda x: len(x.stream(2)) >= 20001, 30)
    sizes = [len(r) for r in a.records]
    ctx.tap.ok(a.stream(2) == b'a' * 20000 + b'\n' and sizes and max(sizes) <= 8193,
               'big: a 20000-byte line reaches the client in records of at most 8193 bytes (attach-framing)',
               f'record sizes: {sizes}', f'received {len(a.stream(2))} bytes')
    a.close()
    await_exit(c, 0)
    parsed = k8s_parse(read_bytes(c.log))
    tags = [t for _, t, _ in parsed]
    content = b''.join(x for _, _, x in parsed)
    ctx.tap.ok(content == b'a' * 20000 and tags and tags[-1] == 'F' and set(tags[:-1]) <= {'P'} and len(tags) >= 3
               and all(len(x) <= 8192 for _, _, x in parsed) and not bad_k8s_lines(read_bytes(c.log)),
               'big: the log has the line as P lines of at most 8192 bytes and a final F (k8s-file-format)',
               f'tags: {tags}', f'content length {len(content)}')
    delete(c)


CTL_REJECTED = [b'1 -1 -1', b'1 2', b'1', b'foo', b'999', b'999 2 2', b'1 10.5 20.3', b'1 0x10 0x20',
                b'1 100000 100000', b'1 1001 1000', b'1 1000 1001', b'1 65535 65535', b'1 2 2 ' + b'#' * 65535]
CTL_ACCEPTED = [(b'1 2 2', b'2 2'), (b'1 0010 0020', b'10 20'), (b'1 2 2 3', b'2 2'), (b'1 1000 1000', b'1000 1000')]


def item23(ctx, pod):
    c = Ctr(pod, 'tty').prepare(['sh', '-c', 'while read l; do stty size; done'], terminal=True)
    create_started(c, ['-t'])
    a = AttachClient(os.path.join(ctx.crio.sockdir, c.id, 'attach'))
    ctl = os.path.join(c.bundle, 'ctl')

    # busybox's `stty size` says "stty: standard input" for a 0x0 pty
    # where coreutils prints "0 0"
    size_re = re.compile(rb'(?:^|\n)(?:(\d+) (\d+)|stty: standard input[^\r\n]*)\r\n')

    def size_now():
        mark = len(a.stream(2))
        a.send(b'x\n')
        a.wait(lambda x: size_re.search(x.stream(2)[mark:]), 10)
        m = size_re.search(a.stream(2)[mark:])
        if m is None:
            return b'nothing: ' + a.stream(2)[mark:]
        return m.group(1) + b' ' + m.group(2) if m.group(1) else b'0 0'

    ctx.tap.eq('tty: a fresh pty reports `0 0` (5.5; busybox stty: no size information)', b'0 0', size_now())

    def label(line):
        return line.decode() if len(line) < 40 else f'1 2 2 + {len(line) - 6} hash signs'

    for line in CTL_REJECTED:
        err = write_fifo(ctl, line + b'\n')
        time.sleep(0.3)
        ctx.tap.eq(f'tty: ctl `{label(line)}` is rejected: still 0 0 (11, 23)', (None, b'0 0'), (err, size_now()))
    for line, want in CTL_ACCEPTED:
        err = write_fifo(ctl, line + b'\n')
        time.sleep(0.3)
        got = size_now()
        if got != want:  # a slow resize: ask again, but not forever
            got = wait_until(lambda: size_now() == want and want, 3, 0.2) or size_now()
        ctx.tap.eq(f'tty: ctl `{label(line)}` resizes to {want.decode()} (11, 23)', (None, want), (err, got))
    err = write_fifo(ctl, b'1 1001 1000\n')
    time.sleep(0.3)
    ctx.tap.eq('tty: a rejected resize after an accepted one leaves 1000 1000 (11)', (None, b'1000 1000'),
               (err, size_now()))
    ctx.tap.ok(a.records and all(r[:1] == b'\x02' for r in a.records),
               'tty: every attach record starts with \\x02 (22)', f'ids: {sorted(set(r[:1] for r in a.records))}')
    out = a.stream(2)
    ctx.tap.ok(b'\r\n' in out and b'\n' not in out.replace(b'\r\n', b''),
               'tty: lines end with \\r\\n (22)', f'output: {short(out)}')
    a.close()
    kill_and_wait_stopped(c, 'KILL', 137)
    delete(c)


def item24_26(ctx, pod, ex):
    rc, sync, log, secs, mon = exec_sync(ex, ['sleep', '10'], timeout_s=2)
    ctx.tap.eq('ExecSync -T 2 `sleep 10`: {"exit_code": -1, "message": "command timed out"}\\n (24)',
               b'{"exit_code": -1, "message": "command timed out"}\n', sync, *mon.diag())
    ctx.tap.ok(rc == 255 and secs is not None and 1.9 <= secs <= 8,
               'ExecSync -T 2: conmon-kata exits 255 after about 2 s (24)', f'took {secs or 0:.1f} s',
               f'exit status: {rc}', *mon.diag())

    def sleepers():
        prc, psync, plog, _, _ = exec_sync(ex, ['ps', '-o', 'pid,args'])
        out = b''.join(content + (b'\n' if tag == 'F' else b'') for _, tag, content in k8s_parse(plog))
        return [ln for ln in out.decode(errors='replace').splitlines() if 'sleep 10' in ln], psync, out

    gone = wait_until(lambda: not sleepers()[0], 5, 0.2)
    lines, psync, out = sleepers()
    ctx.tap.ok(gone and psync == b'{"exit_code": 0}\n', 'ExecSync -T 2: the timed-out process is gone (24)',
               f'ps (through ExecSync): {out!r}', f'sync: {psync!r}')

    rc, sync, log, secs, mon = exec_sync(ex, ['false'])
    ctx.tap.ok(sync == b'{"exit_code": 1}\n' and rc == 1, 'ExecSync `false`: {"exit_code": 1}\\n, status 1 (26)',
               f'sync: {sync!r}', f'status: {rc}', *mon.diag())
    rc, sync, log, secs, mon = exec_sync(ex, ['sleep', '5'], timeout_s=1)
    ctx.tap.ok(sync == b'{"exit_code": -1, "message": "command timed out"}\n' and rc == 255,
               'ExecSync -T 1 `sleep 5`: a timeout error (26)', f'sync: {sync!r}', f'status: {rc}', *mon.diag())
    rc, sync, log, secs, mon = exec_sync(ex, ['sh', '-c', 'kill -USR1 $$'])
    ctx.tap.ok(sync == b'{"exit_code": 138}\n' and rc == 138,
               'ExecSync `kill -USR1 $$` (not PID 1): 128 + 10 (16, exit-code)', f'sync: {sync!r}', f'status: {rc}',
               *mon.diag())
    r = stream_exec(ex, ['sh', '-c', 'echo quick'], close_stdin=False, timeout=30)
    ctx.tap.ok(r.rc == 0 and r.out == b'quick\n', 'streaming exec returns when the process exits with stdin still open',
               *r.diag())
    r = stream_exec(ex, ['no-such-binary-here'], timeout=30)
    # trusted: runc's own error line, as vmctl hands the exec to runc
    line = (re.compile(rb'time="[^"]+" level=error msg="exec failed: unable to start container process: '
                       rb'exec: \\"no-such-binary-here\\": executable file not found in \$PATH"')
            if TRUSTED else not_found_error('vmctl: exec failed: unable to start container process',
                                            'no-such-binary-here'))
    expect_error(ctx.tap, r, 'streaming exec of a missing binary fails at once: runc\'s status 255 and its words '
                 '("executable file not found in $PATH")', line, status=255)


def tty_exec(ctx, ex):
    """kubectl exec -t: vmctl exec on a pty CRI-O owns (its stdio, controlling
    terminal), following its window size."""
    import fcntl
    import termios
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 30, 100, 0, 0))
    spec = ctx.tmpfile('exec-process-', json_compact(ex.process(
        ['sh', '-c', 'stty size; read x; stty size; exit 6'], terminal=True)).encode())
    cmd = [ctx.env.vmctl, '--root', ctx.root, '--config', ctx.env.config, 'exec', '--process', spec, ex.id]

    def ctty():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, start_new_session=True, preexec_fn=ctty,
                         cwd=ctx.crio.crio_cwd, env=ctx.runtime_env())
    os.close(slave)
    out = b''

    def read_until(pattern, timeout):
        nonlocal out
        deadline = now() + timeout
        while not re.search(pattern, out) and now() < deadline:
            r, _, _ = select.select([master], [], [], 0.1)
            if r:
                try:
                    data = os.read(master, 65536)
                except OSError:
                    return False
                if not data:
                    return False
                out += data
        return bool(re.search(pattern, out))

    try:
        first = read_until(rb'30 100\r\n', 30)
        ctx.tap.ok(first, 'tty exec: the process sees the size of CRI-O\'s pty (30 100)', f'output: {out!r}',
                   f'rc so far: {p.poll()}')
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))  # SIGWINCH to vmctl
        time.sleep(0.5)
        os.write(master, b'x\n')
        second = read_until(rb'40 120\r\n', 15)
        ctx.tap.ok(second, 'tty exec: a resize of CRI-O\'s pty (SIGWINCH) reaches the process (40 120)',
                   f'output: {out!r}')
        try:
            rc = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            rc = None
        ctx.tap.eq('tty exec: vmctl exits with the process\'s status', 6, rc, f'output: {out!r}')
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)


def update_resources(ctx, ex):
    """UpdateContainerResources: `--root R update --resources - <id>`."""
    res = {'memory': {'limit': 64 * 1024 * 1024, 'swap': 64 * 1024 * 1024}, 'cpu': {'shares': 256}}
    r = ctx.vmctl('update', '--resources', '-', ex.id, input=json_compact(res).encode())
    ctx.tap.ok(r.rc == 0, '`update --resources - <id>` with LinuxResources on stdin exits 0', *r.diag())
    if TRUSTED:
        # runc on this host's cgroup v1: the container sees its own
        # memory cgroup at /sys/fs/cgroup/memory
        script = 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes'
    else:
        script = ('p=$(cut -d: -f3 /proc/self/cgroup | head -n1); cat /sys/fs/cgroup$p/memory.max 2>/dev/null || '
                  'cat /sys/fs/cgroup/memory.max')
    rc, sync, log, _, mon = exec_sync(ex, ['sh', '-c', script])
    ctx.tap.ok(b' stdout F 67108864\n' in log, f'update: the {"container" if TRUSTED else "guest"} cgroup has the new '
               'memory limit (64 MiB)', f'log: {log!r}', f'sync: {sync!r}')
    check_state(ex, 'update: the container runs on', 'running', ex.pid)


def item27(ctx, pod, ex):
    """Podman's exec: --api-version 1, --exec-attach, SEQPACKET pipes."""
    sid = secrets.token_hex(32)
    eb = os.path.join(ex.bundle, sid)
    os.makedirs(os.path.join(eb, 'exit'))
    os.makedirs(os.path.join(eb, 'persist', ex.id))
    spec = os.path.join(eb, f'exec-process-{secrets.randbelow(10**9)}')
    with open(spec, 'w') as f:
        f.write(json_compact(ex.process(['sh', '-c', 'read x; echo "got $x"; exit 3'], terminal=True)))
    argv = [ctx.env.conmon, '--api-version', '1', '-c', ex.id, '-u', sid, '-r', ctx.env.vmctl, '-b', eb, '-p',
            os.path.join(eb, 'exec_pid'), '-n', ex.name, '--exit-dir', os.path.join(eb, 'exit'), '--persist-dir',
            os.path.join(eb, 'persist', ex.id), '--full-attach', '-l', 'none', '--log-level', 'warning', '--syslog',
            '--runtime-arg', f'--root={ctx.root}', '--runtime-arg', f'--config={ctx.env.config}', '-t', '-i', '-e',
            '--exec-attach', '--exec-process-spec', spec]
    mon = Monitor(ctx, argv, cwd=eb, seqpacket=True, attach_pipe=True)
    mon.write_start()
    rc = mon.wait_p0(30)
    ctx.tap.must(rc == 0, 'podman exec: P0 exits 0', f'status: {rc}', *mon.diag())
    rec = recv_record(mon.attach, 60)
    kind, _ = file_type(os.path.join(eb, 'attach'))
    ctx.tap.eq('podman exec: the attach pipe yields {"data": 0}\\n (27)', b'{"data": 0}\n', rec, *mon.diag())
    ctx.tap.eq('podman exec: <eb>/attach exists when {"data": 0} arrives (27)', 'socket', kind)
    quiet = not select.select([mon.sync], [], [], 1.0)[0]
    ctx.tap.ok(quiet and not os.path.exists(os.path.join(eb, 'exec_pid')),
               'podman exec: nothing runs before the second start byte (27)',
               f'sync readable: {not quiet}', f'exec_pid: {read_bytes(os.path.join(eb, "exec_pid"))!r}')
    a = AttachClient(os.path.join(eb, 'attach'), via_proc_fd=True)
    mon.write_start()
    first = recv_record(mon.sync, 60)
    m = re.fullmatch(rb'\{"data": ([1-9][0-9]*)\}\n', first or b'')
    ctx.tap.ok(m, 'podman exec: the sync pipe yields {"data": P}\\n (27)', f'record: {first!r}', *mon.diag())
    a.send(b'yo\n')
    a.wait(lambda x: b'got yo\r\n' in x.stream(2), 20)
    ctx.tap.ok(b'got yo\r\n' in a.stream(2) and all(r[:1] == b'\x02' for r in a.records),
               'podman exec: the tty output reaches the attach client, records all \\x02 (27, 22)',
               f'records: {a.records}')
    second = recv_record(mon.sync, 30)
    ctx.tap.eq('podman exec: then the sync pipe yields {"data": 3}\\n (27)', b'{"data": 3}\n', second)
    ctx.tap.eq('podman exec: <eb>/exit/<cid> holds 3 (27)', b'3', read_bytes(os.path.join(eb, 'exit', ex.id)))
    ctx.tap.eq('podman exec: <eb>/persist/<cid>/exit holds 3 (27)', b'3',
               read_bytes(os.path.join(eb, 'persist', ex.id, 'exit')))
    a.close()
    p1 = read_bytes(os.path.join(eb, 'exec_pid'))
    ctx.tap.ok(p1 and re.fullmatch(rb'[0-9]+', p1), 'podman exec: -p holds the exec pid', f'{p1!r}')


STOP_REASON = 'io.conmon-kata.stop-reason'


def qemu_death(ctx, sb, ex):
    """QEMU killed under a running pod (issue 17): CRI-O sees every
    container of the pod exit with 137, and why is written where CRI-O and
    Podman show it: the last line of the container's log, its `state`
    annotations and its monitor's log, naming the console log."""
    qemu = pod_qemu(sb)
    ctx.tap.must(len(qemu) == 1, 'pod 2: one QEMU runs for it', f'QEMU: {qemu}')
    console = os.path.join(ctx.root, 'pods', sb.id, 'console.log')
    want = f"the pod's VM stopped: QEMU exited with signal 9 (console log: {console})"
    os.kill(qemu[0][0], signal.SIGKILL)
    for c in (ex, sb):
        L = c.label()
        await_exit(c, 137)
        last = (k8s_parse(read_bytes(c.log)) or [(None, None, b'')])[-1]
        ctx.tap.eq(f'{L}: the last line of its log is why, on stderr: "{want}"', ('stderr', 'F', want.encode()), last)
        js = check_state(c, f'{L}: state says stopped', 'stopped')
        ctx.tap.eq(f'{L}: its state\'s annotation {STOP_REASON} says why', want,
                   (js.get('annotations') or {}).get(STOP_REASON))
        if ctx.syslog.available:
            ctx.tap.ok(ctx.syslog.wait(c.id[:20], want), f'{L}: its monitor\'s log says why',
                       *[f'log: {m}' for m in ctx.syslog.lines(c.id[:20])][-6:])
        else:
            ctx.tap.skip(f'{L}: its monitor\'s log says why', f'{ctx.syslog.PATH} belongs to a syslog daemon here')
    ctx.tap.ok(os.path.isfile(console), 'pod 2: the console log it names is there', console)
    delete(ex)
    delete(sb)


def profile_sent_to_guest(ctx, pod, edit):
    """The pod monitor records in guest.json that its agent takes compiled
    seccomp programs. A pod whose record says it does not (an agent of a
    pod started before an upgrade), or that has no record (its monitor is
    asked), still gets the filter: the profile goes to the guest."""
    guest = os.path.join(ctx.root, 'pods', pod.sandbox.id, 'guest.json')
    recorded = read_bytes(guest)
    try:
        says = json.loads(recorded).get('seccomp_bpf') if recorded else None
    except ValueError:
        says = None
    ctx.tap.ok(says is True, 'guest.json: the pod monitor recorded that its agent takes compiled seccomp programs',
               f'guest.json: {recorded!r}')
    for name, content, what in (('oldagent', b'{"seccomp_bpf":false}', 'guest.json says the agent takes no programs'),
                                ('norecord', None, 'no guest.json, the agent asked')):
        if content is None:
            os.unlink(guest)
        else:
            with open(guest, 'wb') as f:
                f.write(content)
        c = Ctr(pod, name).prepare(['sh', '-c', 'mkdir /tmp/x; echo "mkdir=$?"; exec tail -f /dev/null'], edit=edit)
        create_started(c)
        wait_log(c, b'mkdir=')
        out = b''.join(content + (b'\n' if tag == 'F' else b'') for _, tag, content in k8s_parse(read_bytes(c.log)))
        ctx.tap.ok(b'Invalid cross-device link' in out and b'mkdir=1' in out,
                   f'{name}: {what}: the filter still holds (mkdir fails with EXDEV)', f'log: {out!r}')
        kill_and_wait_stopped(c, 'KILL', 137)
        delete(c)
    with open(guest, 'wb') as f:
        f.write(recorded)


def seccomp_profile(ctx, pod):
    """CRI-O's default profile (the sample's) with mkdir and mkdirat taken
    out of its allow list and refused with EXDEV (18), an errno nothing
    else gives: the filter holds in the container's init and in an
    ExecSync, as runc's does. conmon-kata compiles the profile on the host
    and the guest loads the program (docs/protocol.md, create_container).
    A profile with an unknown action fails the create naming the field."""
    def deny_mkdir(spec):
        sc = spec['linux']['seccomp']
        for entry in sc['syscalls']:
            entry['names'] = [n for n in entry['names'] if n not in ('mkdir', 'mkdirat')]
        sc['syscalls'] = [e for e in sc['syscalls'] if e['names']]
        sc['syscalls'].insert(0, {'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 18})

    c = Ctr(pod, 'nomkdir').prepare(['sh', '-c', 'grep Seccomp: /proc/self/status; mkdir /tmp/x; '
                                     'echo "mkdir=$?"; exec tail -f /dev/null'], edit=deny_mkdir)
    create_started(c)
    wait_log(c, b'mkdir=')
    out = b''.join(content + (b'\n' if tag == 'F' else b'') for _, tag, content in k8s_parse(read_bytes(c.log)))
    ctx.tap.ok(re.search(rb'^Seccomp:\s+2$', out, re.M) and b'Invalid cross-device link' in out and
               b'mkdir=1' in out, 'nomkdir: the init runs under the filter: Seccomp 2, mkdir fails with EXDEV',
               f'log: {out!r}')
    rc, sync, log, _, mon = exec_sync(c, ['mkdir', '/tmp/y'])
    text = b''.join(content for _, _, content in k8s_parse(log))
    ctx.tap.ok(sync == b'{"exit_code": 1}\n' and b'Invalid cross-device link' in text,
               'nomkdir: an ExecSync runs under the same filter: mkdir fails with EXDEV, exit code 1',
               f'sync: {sync!r}', f'output: {text!r}', *mon.diag())
    kill_and_wait_stopped(c, 'KILL', 137)
    delete(c)
    if not TRUSTED:
        profile_sent_to_guest(ctx, pod, deny_mkdir)

    def bogus_action(spec):
        spec['linux']['seccomp']['syscalls'][0]['action'] = 'SCMP_ACT_BOGUS'

    c = Ctr(pod, 'badprofile').prepare(['true'], edit=bogus_action)
    sync = crio_create(c, full=False)
    try:
        msg = json.loads(sync).get('message', '')
    except ValueError:
        msg = None
    if TRUSTED:
        good = msg is not None and 'SCMP_ACT_BOGUS' in msg
    else:
        good = msg == f"create container {c.id}: linux.seccomp.syscalls[0].action: unknown action 'SCMP_ACT_BOGUS'"
    ctx.tap.ok(re.match(rb'\{"pid": -1, ', sync) and good,
               'badprofile: the create fails with the field and the action named', f'sync bytes: {sync!r}',
               *c.mon.diag())
    if c.p1:
        ctx.reaper.wait(c.p1, 15)
    delete(c, 'badprofile: `delete --force` after the failed create exits 0')


def oracle(ctx):
    pod = new_pod(ctx, 'lab-pod2', 'lab-pod-uid-0002', 'sandbox2')
    sb = pod.sandbox.prepare()
    ctx.tap.note('pod 2: the conformance checks (conmon-interface.md#conformance-checks, items 13-27)')
    t0 = now()
    create_started(sb)
    ctx.tap.note(f'pod 2 sandbox up: {now() - t0:.1f} s')

    ex = Ctr(pod, 'ex').prepare(['tail', '-f', '/dev/null'])
    create_started(ex)
    items = [
        ('item 15: printf/exit 3, exit-side promises', lambda: item15(ctx, pod)),
        ('item 16: KILL, SIGPIPE, SIGTERM', lambda: item16(ctx, pod)),
        ('items 17, 18: failed create, api v1', lambda: item17_18(ctx, pod)),
        ('item 19: OOM', lambda: item19(ctx, pod)),
        ('item 20: log size', lambda: item20(ctx, pod)),
        ('item 21: log reopen', lambda: item21(ctx, pod)),
        ('item 22: attach', lambda: item22(ctx, pod)),
        ('item 23: tty resize through ctl', lambda: item23(ctx, pod)),
        ('long lines', lambda: big_output(ctx, pod)),
        ('items 24-26: ExecSync', lambda: item24_26(ctx, pod, ex)),
        ('item 27: Podman exec', lambda: item27(ctx, pod, ex)),
        ('streaming exec with a tty', lambda: tty_exec(ctx, ex)),
        ('update --resources', lambda: update_resources(ctx, ex)),
        ('seccomp profile', lambda: seccomp_profile(ctx, pod)),
    ]
    for name, fn in items:
        ctx.tap.item(name, fn)
    if TRUSTED:
        kill_and_wait_stopped(ex, 'KILL', 137)
        delete(ex)
        r = ctx.vmctl('kill', sb.id, '15')
        ctx.tap.ok(r.rc == 0, 'pod 2: `kill <sandbox> 15` exits 0', *r.diag())
        await_exit(sb, 0)
        delete(sb)
    else:
        ctx.tap.item('pod 2 ends: QEMU killed', lambda: qemu_death(ctx, sb, ex))
    bad = {c.short: bad_k8s_lines(read_bytes(c.log))[:3] for c in ctx.crio.ctrs
           if c.pod is pod and os.path.exists(c.log)}
    bad = {k: v for k, v in bad.items() if v}
    ctx.tap.ok(not bad, 'pod 2: every line of every container log has the CRI format (12)', f'bad lines: {bad}')


def pod_monitor_killed(ctx):
    """kill -9 of the pod monitor (issue 14, docs/security.md): QEMU goes
    with it (its parent-death signal), the other container's monitor sees
    the pod's connection close and writes its exit files (137), `vmctl`
    answers for both, and delete leaves nothing of the pod. The sandbox's
    own exit files are never written: their writer is the monitor that
    was killed (as with conmon)."""
    pod = new_pod(ctx, 'lab-pod3', 'lab-pod-uid-0003', 'sandbox3')
    sb = pod.sandbox.prepare()
    create_started(sb)
    c = Ctr(pod, 'victim').prepare(['tail', '-f', '/dev/null'])
    create_started(c)
    qemu = pod_qemu(sb)
    ctx.tap.must(len(qemu) == 1, 'pod 3: one QEMU runs for it', f'QEMU: {qemu}')
    qemu_pid = qemu[0][0]
    ctx.tap.eq('pod 3: QEMU\'s parent is the sandbox\'s monitor (the pod monitor)', sb.p1,
               (proc_stat(qemu_pid) or {}).get('ppid'))
    os.kill(sb.p1, signal.SIGKILL)
    ctx.tap.eq('sandbox3: its monitor died of SIGKILL', -9, ctx.reaper.wait(sb.p1, 10))
    ctx.tap.ok(wait_until(lambda: ctx.reaper.gone(qemu_pid), 5), 'pod 3: QEMU does not outlive the pod monitor (5 s)',
               f'{qemu_pid}: {proc_stat(qemu_pid)}')
    # orphaned, QEMU came to us (the subreaper, as a shim's would be): its status is ours to see
    ctx.tap.eq('pod 3: QEMU was killed by SIGKILL, its parent-death signal', -9, ctx.reaper.poll(qemu_pid))
    await_exit(c, 137)
    check_state(c, 'victim: state says stopped', 'stopped')
    check_state(sb, 'sandbox3: state says stopped', 'stopped')
    ctx.tap.ok(not os.path.lexists(sb.exit_file) and not os.path.lexists(os.path.join(sb.persist, 'exit')),
               'sandbox3: no exit file (its writer was the monitor killed)', f'exit dir: {file_type(sb.exit_file)}')
    r = sb.vmctl('kill', sb.id, 'KILL')
    expect_error(ctx.tap, r, 'sandbox3: `kill KILL` fails, one line ("not running")',
                 f'vmctl: container {sb.id}: container not running')
    delete(c)
    delete(sb)
    pod_dir = os.path.join(ctx.root, 'pods', sb.id)
    left = wait_until(lambda: not procs_mentioning(pod_dir) and not procs_mentioning(sb.bundle)
                      and not procs_mentioning(c.bundle), 10)
    ctx.tap.ok(left and not os.path.exists(pod_dir), 'pod 3: nothing of it is left running, nor its folder',
               *[f'{p} {comm}' for t in (pod_dir, sb.bundle, c.bundle) for p, comm, _ in procs_mentioning(t)])
    ctx.tap.eq('pod 3: no mount is left under its folder', [], mounts_under(pod_dir))
    ctx.tap.ok(not any(os.path.exists(os.path.join(ctx.root, 'containers', x.id)) for x in (sb, c)),
               'pod 3: the runtime root holds neither container')


def main():
    def body(ctx):
        ctx.tap.note('mode: ' + ('trusted: every pod runs with runc on the host kernel' if TRUSTED else
                                 'VM: every pod runs in its own VM'))
        ctx.tap.item('pod 1: CRI-O lifecycle replay', replay, ctx)
        ctx.tap.item('pod 2: oracle items', oracle, ctx)
        if not TRUSTED:
            ctx.tap.item('pod 3: kill -9 of the pod monitor', pod_monitor_killed, ctx)
    return run_crio_suite(body)


if __name__ == '__main__':
    sys.exit(main())
