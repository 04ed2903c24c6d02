#!/usr/bin/env python3
"""Unit test of the e2e driver package's pure parts (TAP): counting and
writing TAP, CRI-O 1.26's conmon command lines against the captured ones
(tests/data/crio-1.26/conmon-cmdlines.txt), configuration edits, k8s-file
log parsing, runc's state shape and one-line errors, and the order in
which a Context undoes things."""
import contextlib
import io
import os
import re
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.join(HERE, '..', 'e2e'))

from ckdriver import context, crio, files, oci, tap  # noqa: E402
from ckdriver.procs import Result  # noqa: E402

CMDLINES = os.path.join(HERE, '..', 'data', 'crio-1.26', 'conmon-cmdlines.txt')

# the report of this test; test_tap() checks Tap itself on a Tap of its own
T = tap.Tap()


def check(desc, ok, *diag):
    T.ok(ok, desc, *diag)


def eq(desc, want, got):
    T.eq(desc, want, got)


def captured(section_prefix):
    """The command lines of conmon-cmdlines.txt that start with prefix
    (after a ps pid column or a log tag), split on spaces."""
    out = []
    for line in open(CMDLINES).read().splitlines():
        m = re.search(r'(/usr/bin/conmon .*)$', line)
        if m and line.lstrip().startswith(section_prefix):
            out.append(m.group(1).split())
    return out


def tap_output(fn):
    """What fn(Tap) prints, and the Tap."""
    t = tap.Tap()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        fn(t)
    return out.getvalue(), t


def test_tap():
    def run(t):
        t.ok(True, 'first')
        t.eq('a # in it', 1, 2)
        t.skip('skipped', 'a reason')
        t.item('an item', lambda: t.must(False, 'fatal'))
        t.item('raises', lambda: 1 / 0)
        t.item('with arguments', t.ok, True, 'passed on')
        t.done()
    text, t = tap_output(run)
    lines = [ln for ln in text.splitlines() if not ln.startswith('#')]
    eq('Tap: numbered ok/not ok lines, a skip, an Abort stops an item, a raise is a failure, the plan last',
       ['ok 1 - first', 'not ok 2 - a hash in it', 'ok 3 - skipped # SKIP a reason', 'not ok 4 - fatal',
        'not ok 5 - raises: the driver raised ZeroDivisionError', 'ok 6 - passed on', '1..6'], lines)
    check('Tap: a failed eq shows expected and actual', '# expected: 1' in text and '# actual:   2' in text, text)
    eq('Tap: failed lists the failures', ['2 - a hash in it', '4 - fatal', '5 - raises: the driver raised '
                                          'ZeroDivisionError'], t.failed)
    eq('tap.count: what the stream says', {'ok': 3, 'not ok': 3, 'skip': 1, 'plan': 6}, tap.count(text))
    eq('tap.count: a whole-suite skip', {'ok': 0, 'not ok': 0, 'skip': 0, 'plan': 0},
       tap.count('1..0 # SKIP not root\n'))
    eq('tap.count: "not ok" is not counted as "ok", a TODO is a result, notes are not',
       {'ok': 1, 'not ok': 1, 'skip': 0, 'plan': None}, tap.count('not ok 1 - x # TODO later\nok 2\n# ok 3\n'))


def test_cmdlines():
    ctrs = captured('23686') + captured('24114')
    check('conmon-cmdlines.txt section 1 has the sandbox\'s and the container\'s line', len(ctrs) == 2)
    for want in ctrs:
        cid = want[want.index('-c') + 1]
        c = types.SimpleNamespace(bundle=want[want.index('-b') + 1], id=cid, log=want[want.index('-l') + 1],
                                  name=want[want.index('-n') + 1], conmon_pidfile=want[want.index('-P') + 1],
                                  pidfile=want[want.index('-p') + 1], persist=want[want.index('--persist-dir') + 1])
        got = crio.conmon_create_argv('/usr/bin/conmon', '/usr/bin/runc', ['--root=/run/runc'], c,
                                      '/var/run/crio/exits', '/var/run/crio')
        eq(f'conmon_create_argv: CRI-O 1.26\'s create line for {cid[:12]}', want, got)
    c = types.SimpleNamespace(bundle='B', id='I', log='L', name='N', conmon_pidfile='P1', pidfile='P', persist='D')
    got = crio.conmon_create_argv('conmon', 'rt', ['a', 'b'], c, 'E', 'S', api=True, log_size_max=10, extra=['-x'],
                                  tail=['-t'], wrapper=['valgrind'])
    eq('conmon_create_argv: the wrapper first, --api-version 1, each runtime arg, --log-size-max, extra, tail',
       ['valgrind', 'conmon', '--api-version', '1', '-b', 'B', '-c', 'I', '--exit-dir', 'E', '-l', 'L', '--log-level',
        'debug', '-n', 'N', '-P', 'P1', '-p', 'P', '--persist-dir', 'D', '-r', 'rt', '--runtime-arg', 'a',
        '--runtime-arg', 'b', '--socket-dir-path', 'S', '--syslog', '-u', 'I', '--log-size-max', '10', '-x', '-t'],
       got)
    execs = [ln for ln in captured('/usr/bin/conmon -c')]
    check('conmon-cmdlines.txt section 3 has the ExecSync line', len(execs) == 1)
    for want in execs[:1]:
        def arg(flag):
            return want[want.index(flag) + 1]
        got = crio.conmon_exec_argv('/usr/bin/conmon', '/usr/bin/runc', ['--root=/run/runc'], arg('-c'), arg('-n'),
                                    arg('-p'), arg('-l'), arg('--socket-dir-path'), arg('--exec-process-spec'))
        eq('conmon_exec_argv: CRI-O 1.26\'s ExecSync line', want, got)
    got = crio.conmon_exec_argv('c', 'r', [], 'I', 'N', 'P', 'L', 'S', 'F', timeout_s=5, terminal=True)
    check('conmon_exec_argv: -T N and -t before --exec-process-spec',
          got[got.index('-T'):] == ['-T', '5', '-t', '--exec-process-spec', 'F'], got)


def test_config():
    text = 'a = 1\n[x]\nkernel = "k"\nlist = []\n'
    eq('set_toml_keys: str, bool, list as TOML', 'a = true\n[x]\nkernel = "/v"\nlist = ["p", "q"]\n',
       context.set_toml_keys(text, 'f', a=True, kernel='/v', list=['p', 'q']))
    for keys, want in (({'missing': 1}, 'f: missing is set 0 times'), ({'a': 2}, 'f: a is set 2 times')):
        try:
            context.set_toml_keys(text + 'a = 3\n' if 'a' in keys else text, 'f', **keys)
            got = None
        except RuntimeError as e:
            got = str(e)
        eq(f'set_toml_keys: {want}', want, got)


def test_logs():
    good = b'2026-11-23T10:00:00.123456789+00:00 stdout F hello\n2026-11-23T10:00:00.123456789+00:00 stderr P par\n'
    eq('k8s_parse: stream, tag, content', [('stdout', 'F', b'hello'), ('stderr', 'P', b'par')], files.k8s_parse(good))
    eq('bad_k8s_lines: a line without the timestamp', [b'nope stdout F x'],
       files.bad_k8s_lines(good + b'nope stdout F x\n'))
    eq('k8s_lines: no trailing empty line', [b'a', b'b'], files.k8s_lines(b'a\nb\n'))


def test_oci():
    eq('state_shape_problems: runc\'s shape passes', [], oci.state_shape_problems(
        {'ociVersion': '1.0.2', 'id': 'x', 'pid': 1, 'status': 'running', 'bundle': '/b',
         'created': '2026-11-23T10:00:00.5Z'}))
    eq('state_shape_problems: extra keys, a bad pid, a bad time',
       ["keys runc does not have: ['extra']", 'pid: -1', "created is not RFC 3339: 'yesterday'"],
       oci.state_shape_problems({'ociVersion': '1', 'pid': -1, 'created': 'yesterday', 'extra': 1}))
    eq('parse_rfc3339: nanoseconds and an offset', 3600.5, oci.parse_rfc3339('1970-01-01T02:00:00.500000000+01:00'))

    def outcome(r, line, status=1):
        text, t = tap_output(lambda t: oci.expect_error(t, r, 'e', line, status))
        return not t.failed
    line = oci.ctr_error('c1', 'container not running')
    eq('ctr_error: vmctl\'s words', 'vmctl: container c1: container not running', line)
    eq('unknown_id: runc\'s words', 'vmctl: container g: container g does not exist', oci.unknown_id('g'))
    r = Result(['x'], 1, b'', (line + '\n').encode(), 0.1)
    check('expect_error: status 1 and exactly the line', outcome(r, line))
    check('expect_error: a pattern matching the whole line', outcome(r, re.compile(rb'vmctl: container c1: .*')))
    check('expect_error: another status fails', not outcome(Result(['x'], 2, b'', r.err, 0.1), line))
    check('expect_error: a second line fails', not outcome(Result(['x'], 1, b'', r.err + b'more\n', 0.1), line))


def test_context_order():
    ctx = context.Context('ckunit', context.Env({}))
    seen = []
    ctx.defer(lambda: seen.append('undo 1'))
    ctx.on_stop(lambda: seen.append('stop 1'))
    ctx.defer(lambda: seen.append('undo 2'))
    ctx.on_stop(lambda: 1 / 0)
    ctx.on_stop(lambda: seen.append('stop 3'))
    text, _ = tap_output(lambda t: ctx.close())
    eq('Context.close: the stops last registered first, then the undos last registered first',
       ['stop 3', 'stop 1', 'undo 2', 'undo 1'], seen)
    check('Context.close: a step that raises is a failed check, and the rest still runs',
          ctx.tap.failed and 'raised ZeroDivisionError' in ctx.tap.failed[0], ctx.tap.failed)
    eq('Env: the variables meson did not set', ['CK_BUILD_ROOT', 'CK_TEST_ROOTFS'],
       context.Env({'CK_TEST_CONFIG': 'c'}).missing('build', 'config', 'rootfs'))
    env = context.Env({'CK_BUILD_ROOT': '/b', 'ASAN_OPTIONS': 'x', 'HOME': '/h'})
    eq('Env: the binaries under the build, the sanitizers\' settings passed on',
       ('/b/vmctl/vmctl', '/b/conmon-kata/conmon-kata', {'ASAN_OPTIONS': 'x'}),
       (env.vmctl, env.conmon, env.sanitizers))


def main():
    for fn in (test_tap, test_cmdlines, test_config, test_logs, test_oci, test_context_order):
        fn()
    return 0 if T.done() else 1


if __name__ == '__main__':
    sys.exit(main())
