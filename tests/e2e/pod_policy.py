#!/usr/bin/env python3
"""pod_policy.py: trust, VM sizing and annotation gating, played as CRI-O (TAP).

Issue 6's and issue 5's end-to-end part: the driver plays CRI-O 1.26 as
crio_replay.py does (the ckdriver package holds the shared pieces) and checks, on
real VMs under TCG and real runc containers:

  trust (docs/configuration.md [runtime], vmctl/lib/workload.h)
    a  a pod without TrustedSandbox boots a VM: its containers see the
       guest's kernel (uname -r, /proc/version differ from the host's) and
       QEMU is a child of the pod monitor; a pod with TrustedSandbox "true"
       runs with runc on the host's kernel, no QEMU; a pod with no
       annotation under default_workload_trust = "trusted" too; `vmctl
       state` shows each decision, and containers follow their sandbox;
       vmctl installed under another name (a copy, a wrapper script) is
       still vmctl: the container runs in the pod's VM and the monitor's
       log (syslog) names the mode;
    b  a privileged pod (host network namespace; PrivilegedRuntime "true")
       runs with runc unless privileged_in_vm = true, then in a VM;
  sizing (docs/configuration.md, vmctl/lib/sizing.h)
    c  io.katacontainers.config.hypervisor.default_memory, enabled by the
       test's enable_annotations, and separately CRI-O's
       pod-linux-resources.crio.io, change the guest's MemTotal (and the
       latter its CPUs) as a container reads them; MemTotal is compared
       with that of a default VM of the same run, never with a constant;
    d  a container with CPU and memory limits grows its pod's VM (CPUs,
       MemTotal), `update --resources -` grows it further, up to
       default_maxvcpus and the memory slots, and no further;
  gating (docs/configuration.md, Annotations)
    e  an io.katacontainers.config.* annotation outside enable_annotations
       (and an unsupported one) is refused at create: exactly one line on
       the sync pipe naming the annotation and why, no exit file, and
       nothing left: no QEMU (the pod directory never appears), no
       monitor, no stand-in, no state; a container's own
       io.katacontainers.* annotation in a running VM pod likewise, the
       pod running on; and a trusted pod's, though it gets no VM;
    f  a path annotation outside valid_kernel_paths or
       valid_hypervisor_paths, or not canonical, is refused the same way.

Every process started is stopped at the end, even on failure, and the
last checks say whether anything was left behind.
"""

import json
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ckdriver.crio import (  # noqa: E402
    TRUSTED_SANDBOX, TRUST_DECISION, Ctr, Pod, check_state, create_started, crio_create, delete, expect_pid_sync,
    kill_and_wait_stopped, pod_qemu, run_crio_suite, start, stop_pod, stream_exec)
from ckdriver.files import Inotify  # noqa: E402
from ckdriver.oci import expect_error, unknown_id  # noqa: E402
from ckdriver.procs import children_of, proc_stat, procs_mentioning  # noqa: E402
from ckdriver.streams import recv_to_eof  # noqa: E402
from ckdriver.util import json_compact, short, wait_until  # noqa: E402
from ckdriver.vm import host_kernel, host_release  # noqa: E402

A_HV = 'io.katacontainers.config.hypervisor.'
POD_RESOURCES = 'pod-linux-resources.crio.io'
MIB = 1024 * 1024
# MemTotal of a VM with N more MiB than another: N, less the page structs
# for them (64 bytes per 4 KiB page, 1/64) and what the kernel reserves
# besides; taken generously
MEM_SLACK_KIB = 16 * 1024


def configs(ctx):
    """The test's configurations: the build's, with annotations enabled
    (default_memory, kernel and path; the kernel allow-list the build's
    guest directory), 3 vCPUs and 2 memory slots at most; the same with
    privileged_in_vm; and one whose default trust is "trusted"."""
    guest = os.path.join(ctx.env.build, 'guest')
    policy = dict(enable_annotations=['default_memory', 'kernel', 'path'],
                  valid_kernel_paths=[os.path.join(guest, 'vmlinux*')], default_maxvcpus=3, memory_slots=2)
    ctx.configs['policy'] = ctx.config('policy.toml', **policy)
    ctx.configs['in_vm'] = ctx.config('privileged-in-vm.toml', privileged_in_vm=True, **policy)
    ctx.configs['trusted'] = ctx.config('trusted-default.toml', default_workload_trust='trusted', **policy)
    ctx.configs['kernel'] = os.path.join(guest, 'vmlinux')


# --- what a container sees ------------------------------------------------------------------


FACTS = ('uname -r; echo ---; cat /proc/version; echo ---; sed -n "s/^MemTotal: *\\([0-9]*\\) kB/\\1/p" '
         '/proc/meminfo; echo ---; grep -c ^processor /proc/cpuinfo; echo ---; nproc')


class Facts:
    """Kernel release and version, MemTotal (KiB) and CPUs as the
    processes of a container see them: the online ones (/proc/cpuinfo) and
    those it may run on (nproc); None for what could not be read."""

    def __init__(self, c):
        self.r = stream_exec(c, ['sh', '-c', FACTS], timeout=60)
        parts = self.r.out.decode(errors='replace').split('---\n')
        self.ok = self.r.rc == 0 and len(parts) == 5
        self.release = parts[0].strip() if self.ok else None
        self.version = parts[1].encode() if self.ok else None
        self.mem_kib = self.number(parts, 2)
        online, usable = self.number(parts, 3), self.number(parts, 4)
        # one count when both agree, so that a check of it covers both
        self.cpus = online if online == usable else (online, usable)

    def number(self, parts, i):
        return int(parts[i]) if self.ok and parts[i].strip().isdigit() else None

    def diag(self):
        return [f'release {self.release!r}, MemTotal {self.mem_kib} KiB, CPUs (online, nproc when they differ): '
                f'{self.cpus}'] + self.r.diag()


def check_kernel_facts(ctx, c, f, what):
    host = host_kernel()
    if c.pod.trusted:
        good = f.ok and f.release == host_release() and f.version == host
        desc = f'{what}: uname -r and /proc/version are the host\'s'
    else:
        good = f.ok and f.release != host_release() and f.version != host and f.version.startswith(b'Linux version')
        desc = f'{what}: uname -r and /proc/version are the guest\'s, not the host\'s'
    ctx.tap.ok(good, desc, f'host: {host_release()} / {host!r}', *f.diag())


def check_decision(ctx, c, want, what):
    js = check_state(c, f'{what}: `state` answers in runc\'s shape', 'running', c.pid)
    ctx.tap.eq(f'{what}: `state` annotations record the decision: {want}', want,
               (js.get('annotations') or {}).get(TRUST_DECISION))


def check_vm(ctx, sb, what):
    """QEMU runs for the pod, as a child of its pod monitor (the sandbox's P1)."""
    kids = [p for p in children_of(sb.p1) if (proc_stat(p) or {}).get('comm', '').startswith('qemu')]
    qemu = pod_qemu(sb)
    ctx.tap.ok(len(kids) == 1 and [q[0] for q in qemu] == kids,
               f'{what}: one QEMU for the pod, a child of the pod monitor (P1 {sb.p1})', f'children: {kids}',
               f'QEMU of the pod: {[(q[0], short(q[2], 200)) for q in qemu]}')


def check_no_vm(ctx, sb, what):
    pod_dir = os.path.join(ctx.root, 'pods', sb.id)
    ctx.tap.ok(not pod_qemu(sb) and not os.path.exists(pod_dir), f'{what}: no QEMU, no pod directory',
               f'qemu: {pod_qemu(sb)}', f'{pod_dir} exists: {os.path.exists(pod_dir)}')


# --- a: trust --------------------------------------------------------------------------------


def untrusted_pod(ctx):
    """The VM pod, kept for the later items: its baseline facts."""
    pod = Pod(ctx, 'vm-pod', 'uid-vm', config=ctx.configs['policy'])
    sb = pod.sandbox.prepare()
    create_started(sb)
    check_vm(ctx, sb, 'untrusted pod')
    base = Facts(sb)
    ctx.tap.note(f'default VM: MemTotal {base.mem_kib} KiB, {base.cpus} CPU(s), kernel {base.release}')
    check_kernel_facts(ctx, sb, base, 'untrusted pod\'s sandbox')
    check_decision(ctx, sb, 'untrusted: default_workload_trust = "untrusted"', 'untrusted pod\'s sandbox')
    ctr = Ctr(pod, 'app').prepare(['tail', '-f', '/dev/null'])
    sync = crio_create(ctr)
    expect_pid_sync(ctr, sync, full=True)
    start(ctr)
    check_decision(ctx, ctr, f'untrusted: follows its sandbox {sb.id}', 'untrusted pod\'s container')
    check_kernel_facts(ctx, ctr, Facts(ctr), 'untrusted pod\'s container')
    kill_and_wait_stopped(ctr, 'KILL', 137)
    delete(ctr)
    monitor_logged(ctx, ctr, f'mode conmon-kata: runtime {ctx.env.vmctl} is vmctl', 'untrusted pod\'s container')
    return pod, base


def monitor_logged(ctx, c, needle, what):
    """The container's monitor said `needle` in its log (syslog)."""
    if not ctx.syslog.available:
        ctx.tap.skip(f'{what}: the monitor log says {needle!r}', f'{ctx.syslog.PATH} belongs to a syslog daemon here')
        return
    ctx.tap.ok(ctx.syslog.wait(c.id[:20], needle), f'{what}: the monitor log says {needle!r}',
               *[f'log: {m}' for m in ctx.syslog.lines(c.id[:20])][-8:])


def renamed_runtime(ctx, pod, sb):
    """vmctl installed under another name, as an operator may: a copy
    (with conmon-kata beside it, where vmctl looks for its monitor), and a
    script that wraps it. The monitor asks the runtime what it is, so the
    container still runs in the pod's VM, and its log names the mode."""
    bindir = ctx.mk('renamed-bin')
    copied = os.path.join(bindir, 'oci-runtime')
    shutil.copy2(ctx.env.vmctl, copied)
    os.symlink(ctx.env.conmon, os.path.join(bindir, 'conmon-kata'))
    wrapper = os.path.join(bindir, 'runtime-wrapper')
    with open(wrapper, 'w') as f:
        f.write(f'#!/bin/sh\nexec {copied} "$@"\n')
    os.chmod(wrapper, 0o755)
    for name, path in (('copied', copied), ('wrapped', wrapper)):
        what = f'vmctl {name} as {os.path.basename(path)}'
        ctr = Ctr(pod, name).prepare(['tail', '-f', '/dev/null'])
        expect_pid_sync(ctr, crio_create(ctr, runtime=path))
        start(ctr)
        check_decision(ctx, ctr, f'untrusted: follows its sandbox {sb.id}', what)
        check_kernel_facts(ctx, ctr, Facts(ctr), what)
        monitor_logged(ctx, ctr, f'mode conmon-kata: runtime {path} is vmctl', what)
        kill_and_wait_stopped(ctr, 'KILL', 137)
        delete(ctr)


def trusted_pod(ctx, name, annotations, config, want, edit=None, check_ctr=True):
    """A pod that must run with runc: checks, then stops it."""
    pod = Pod(ctx, name, f'uid-{name}', trusted=True, annotations=annotations, config=config)
    sb = pod.sandbox.prepare(edit=edit)
    sync = crio_create(sb)
    # full: in the pod's network namespace, which a host-network pod is not
    expect_pid_sync(sb, sync, full=edit is None)
    start(sb)
    check_no_vm(ctx, sb, name)
    check_decision(ctx, sb, want, f'{name}\'s sandbox')
    check_kernel_facts(ctx, sb, Facts(sb), f'{name}\'s sandbox')
    if check_ctr:
        ctr = Ctr(pod, 'app').prepare(['tail', '-f', '/dev/null'])
        sync = crio_create(ctr)
        expect_pid_sync(ctr, sync, full=True)
        start(ctr)
        check_decision(ctx, ctr, f'trusted: follows its sandbox {sb.id}', f'{name}\'s container')
        check_kernel_facts(ctx, ctr, Facts(ctr), f'{name}\'s container')
        kill_and_wait_stopped(ctr, 'KILL', 137)
        delete(ctr)
    return pod


def trust(ctx):
    pod = trusted_pod(ctx, 'trusted-pod', {TRUSTED_SANDBOX: 'true'}, ctx.configs['policy'],
                      f'trusted: annotation {TRUSTED_SANDBOX}="true"')
    stop_pod(pod)
    pod = trusted_pod(ctx, 'trusted-default', None, ctx.configs['trusted'],
                      'trusted: default_workload_trust = "trusted"',
                      check_ctr=False)
    stop_pod(pod)


# --- b: privileged pods ---------------------------------------------------------------------------


def host_network(spec):
    """What CRI-O makes of hostNetwork: true: no network namespace."""
    spec['linux']['namespaces'] = [ns for ns in spec['linux']['namespaces'] if ns['type'] != 'network']
    spec['annotations']['io.kubernetes.cri-o.HostNetwork'] = 'true'


def privileged(ctx):
    pod = trusted_pod(ctx, 'host-net', None, ctx.configs['policy'],
                      'trusted: host network namespace (privileged_in_vm = false)',
                      edit=host_network, check_ctr=False)
    sb = pod.sandbox
    host_ns = os.readlink('/proc/self/ns/net')
    try:
        ns = os.readlink(f'/proc/{sb.pid}/ns/net')
    except OSError as e:
        ns = str(e)
    ctx.tap.eq('host-net: the sandbox\'s process is in the host\'s network namespace', host_ns, ns)
    stop_pod(pod)

    pod = trusted_pod(ctx, 'privileged', {'io.kubernetes.cri-o.PrivilegedRuntime': 'true'}, ctx.configs['policy'],
                      'trusted: privileged pod (privileged_in_vm = false)', check_ctr=False)
    stop_pod(pod)

    # privileged_in_vm = true: the same host-network pod gets a VM
    pod = Pod(ctx, 'host-net-vm', 'uid-host-net-vm', config=ctx.configs['in_vm'])
    sb = pod.sandbox.prepare(edit=host_network)
    create_started(sb)
    check_vm(ctx, sb, 'host-net-vm (privileged_in_vm = true)')
    check_decision(ctx, sb, 'untrusted: host network namespace, privileged_in_vm = true: default_workload_trust = '
                   '"untrusted"', 'host-net-vm')
    check_kernel_facts(ctx, sb, Facts(sb), 'host-net-vm\'s sandbox')
    stop_pod(pod)


# --- c: sizing at boot ------------------------------------------------------------------------------


def mem_grew(f, base, mib):
    """f's MemTotal is base's plus mib MiB, give or take the kernel's share."""
    if f.mem_kib is None or base.mem_kib is None:
        return False
    return abs(f.mem_kib - base.mem_kib - mib * 1024) <= MEM_SLACK_KIB


def no_limits(spec):
    """A container that adds nothing to its pod's size."""
    spec['linux']['resources'].pop('memory', None)
    spec['linux']['resources']['cpu'] = {'shares': 2}


def sizing_pod(ctx, name, annotations, base, mib, cpus):
    pod = Pod(ctx, name, f'uid-{name}', annotations=annotations, config=ctx.configs['policy'])
    sb = pod.sandbox.prepare()
    create_started(sb)
    check_vm(ctx, sb, name)
    ctr = Ctr(pod, 'app').prepare(['tail', '-f', '/dev/null'], edit=no_limits)
    create_started(ctr)
    f = Facts(ctr)
    ctx.tap.note(f'{name}: MemTotal {f.mem_kib} KiB, {f.cpus} CPU(s)')
    ctx.tap.ok(mem_grew(f, base, mib), f'{name}: the container sees MemTotal {mib} MiB above a default VM\'s',
               f'default VM: {base.mem_kib} KiB', *f.diag())
    ctx.tap.eq(f'{name}: the container sees {cpus} CPU(s)', cpus, f.cpus, *f.diag())
    kill_and_wait_stopped(ctr, 'KILL', 137)
    delete(ctr)
    stop_pod(pod)


def boot_sizing(ctx, base):
    # default_memory, enabled; with a kernel annotation in the allow-list
    sizing_pod(ctx, 'default-memory', {A_HV + 'default_memory': '768', A_HV + 'kernel': ctx.configs['kernel']}, base,
               256, 1)
    # CRI-O >= 1.28's pod-level resources: 256 MiB, one CPU more
    res = {'cpu_period': 100000, 'cpu_quota': 100000, 'memory_limit_in_bytes': 256 * MIB}
    sizing_pod(ctx, 'pod-resources', {POD_RESOURCES: json_compact(res)}, base, 256, 2)


# --- d: growing a running VM --------------------------------------------------------------------------


def limits(cpus, mem_mib):
    def edit(spec):
        spec['linux']['resources']['cpu'] = {'shares': 1024, 'quota': cpus * 100000, 'period': 100000}
        spec['linux']['resources']['memory'] = {'limit': mem_mib * MIB, 'swap': mem_mib * MIB}
    return edit


def wait_facts(ctx, c, pred, timeout=20):
    """Facts once pred holds (hot-added CPUs come online in the guest a
    moment after the request that needed them), or the last ones."""
    last = [None]

    def probe():
        last[0] = Facts(c)
        return pred(last[0])
    wait_until(probe, timeout, 0.5)
    ctx.tap.note(f'{c.label()}: MemTotal {last[0].mem_kib} KiB, {last[0].cpus} CPU(s)')
    return last[0]


def update(ctx, c, cpus, mem_mib):
    res = {'memory': {'limit': mem_mib * MIB, 'swap': mem_mib * MIB},
           'cpu': {'shares': 1024, 'quota': cpus * 100000, 'period': 100000}}
    r = c.vmctl('update', '--resources', '-', c.id, input=json_compact(res).encode())
    ctx.tap.ok(r.rc == 0, f'update to {cpus} CPUs, {mem_mib} MiB: `update --resources -` exits 0', *r.diag())


def guest_memory_max(c):
    r = stream_exec(c, ['sh', '-c', 'cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup | head -n1)/memory.max'])
    return r.out.strip()


def hotplug(ctx, base):
    pod = Pod(ctx, 'grow', 'uid-grow', config=ctx.configs['policy'])
    sb = pod.sandbox.prepare()
    create_started(sb)
    check_vm(ctx, sb, 'grow')
    boot = Facts(sb)
    ctx.tap.ok(mem_grew(boot, base, 0) and boot.cpus == 1, 'grow: the VM boots at the default size (1 CPU)',
               f'default VM: {base.mem_kib} KiB', *boot.diag())

    # 1 CPU and 256 MiB: 2 vCPUs, +256 MiB (one DIMM)
    ctr = Ctr(pod, 'app').prepare(['tail', '-f', '/dev/null'], edit=limits(1, 256))
    create_started(ctr)
    f = wait_facts(ctx, ctr, lambda f: f.cpus == 2 and mem_grew(f, base, 256))
    ctx.tap.ok(f.cpus == 2 and mem_grew(f, base, 256),
               'grow: a container limited to 1 CPU and 256 MiB grows the VM to 2 CPUs and MemTotal +256 MiB',
               f'default VM: {base.mem_kib} KiB', *f.diag())

    # 3 CPUs and 512 MiB: default_maxvcpus = 3 stops the CPUs at 3, a
    # second DIMM brings the memory to +512 MiB
    update(ctx, ctr, 3, 512)
    f = wait_facts(ctx, ctr, lambda f: f.cpus == 3 and mem_grew(f, base, 512))
    ctx.tap.ok(f.cpus == 3 and mem_grew(f, base, 512),
               'grow: `update` to 3 CPUs and 512 MiB: 3 CPUs (default_maxvcpus, not 1 + 3) and MemTotal +512 MiB',
               f'default VM: {base.mem_kib} KiB', *f.diag())
    ctx.tap.eq('grow: the guest cgroup has the new memory limit', str(512 * MIB).encode(), guest_memory_max(ctr))

    # 1 GiB: both memory slots are used, the VM stays as it is
    update(ctx, ctr, 3, 1024)
    time.sleep(2)
    f = Facts(ctr)
    ctx.tap.ok(f.cpus == 3 and mem_grew(f, base, 512),
               'grow: `update` to 1024 MiB with both memory slots used: the VM stays at +512 MiB, 3 CPUs',
               f'default VM: {base.mem_kib} KiB', *f.diag())
    ctx.tap.eq('grow: the guest cgroup still gets the new limit', str(1024 * MIB).encode(), guest_memory_max(ctr))
    check_state(ctr, 'grow: the container runs on', 'running', ctr.pid)
    kill_and_wait_stopped(ctr, 'KILL', 137)
    delete(ctr)
    stop_pod(pod)


# --- e, f: refused annotations ------------------------------------------------------------------------


def expect_refused(ctx, c, message, what, pods_ino=None):
    """A create refused before anything ran: one line on the sync pipe,
    then EOF; no exit file; nothing left; `delete --force` exits 0."""
    sync = crio_create(c)
    rest, eof = recv_to_eof(c.mon.sync, 10)
    try:
        msg = json.loads(sync)
    except ValueError:
        msg = None
    ctx.tap.ok(msg == {'pid': -1, 'message': message} and sync.endswith(b'\n') and sync.count(b'\n') == 1,
               f'{what}: the sync pipe carries one line, {{"pid": -1, "message": "{message}"}}',
               f'sync: {sync!r}', *c.mon.diag())
    ctx.tap.ok(rest == b'' and eof, f'{what}: then nothing more, and EOF', f'more: {rest!r}, EOF: {eof}')
    st = ctx.reaper.wait(c.p1, 15) if c.p1 else None
    ctx.tap.ok(c.p1 and st == 1, f'{what}: the monitor (P1) exits with status 1',
               f'P1 {c.p1}: status {st}, {proc_stat(c.p1) if c.p1 else None}')
    time.sleep(0.3)
    ctx.crio.ino.pump(0)
    exits = [e for e in ctx.crio.ino.about(ctx.crio.exits, c.persist)
             if e.name.startswith(c.id) or e.name.startswith('exit')]
    ctx.tap.ok(not exits and not os.path.exists(c.exit_file) and not os.path.exists(os.path.join(c.persist, 'exit')),
               f'{what}: no exit file, in the exit dir or the persist dir', f'events: {exits}')
    cg = [d for d in ctx.crio.cgroup_parents if os.path.isdir(os.path.join(d, f'crio-{c.id}'))]
    left = procs_mentioning(c.id) + (pod_qemu(c) if c.is_sandbox else [])
    pod_dir = os.path.join(ctx.root, 'pods', c.id)
    appeared = pods_ino.first(os.path.join(ctx.root, 'pods'), c.id) if pods_ino is not None else None
    ctx.tap.ok(not left and not cg and not os.path.exists(pod_dir) and appeared is None,
               f'{what}: nothing is left: no process mentions it, no QEMU, no host cgroup, no pod directory'
               f'{" (it never appeared)" if c.is_sandbox else ""}',
               *[f'{p} {comm}: {short(cl, 200)}' for p, comm, cl in left], f'cgroups: {cg}',
               f'pod directory event: {appeared}')
    r = c.vmctl('state', c.id)
    expect_error(ctx.tap, r, f'{what}: `state` does not know it: status 1, "container <id> does not exist"',
                 unknown_id(c.id))
    r = c.vmctl('delete', '--force', c.id)
    ctx.tap.ok(r.rc == 0, f'{what}: CRI-O\'s `delete --force` exits 0', *r.diag())
    c.deleted = r.rc == 0


def refused_pod(ctx, name, annotations, message, pods_ino):
    pod = Pod(ctx, name, f'uid-{name}', annotations=annotations, config=ctx.configs['policy'])
    expect_refused(ctx, pod.sandbox.prepare(), message, name, pods_ino)


def gating(ctx, vm_pod):
    pods = os.path.join(ctx.root, 'pods')
    ino = Inotify()
    ino.watch(pods)  # made by the VM pods before: the refused ones must add nothing
    not_enabled = "not enabled (enable_annotations in [hypervisor.qemu] does not match '{}')"
    # e: outside enable_annotations (default_memory, kernel, path)
    refused_pod(ctx, 'not-enabled', {A_HV + 'default_vcpus': '2'},
                f'annotation {A_HV}default_vcpus: ' + not_enabled.format('default_vcpus'), ino)
    rt = 'io.katacontainers.config.runtime.disable_guest_seccomp'
    refused_pod(ctx, 'not-enabled-runtime', {rt: 'true'},
                f'annotation {rt}: ' + not_enabled.format('runtime.disable_guest_seccomp'), ino)
    refused_pod(ctx, 'unsupported', {A_HV + 'enable_iommu': 'true'},
                f'annotation {A_HV}enable_iommu: not supported by conmon-kata', ino)
    # an enabled one with a bad value
    refused_pod(ctx, 'bad-value', {A_HV + 'default_memory': '1Gi'},
                f'annotation {A_HV}default_memory: \'1Gi\' is not a number of MiB', ino)

    # f: paths outside the allow-lists
    evil = os.path.join(ctx.tmp, 'evil', 'vmlinux')
    refused_pod(ctx, 'kernel-path', {A_HV + 'kernel': evil},
                f'annotation {A_HV}kernel: \'{evil}\' is not in valid_kernel_paths', ino)
    sneaky = os.path.join(ctx.env.build, 'guest', '..', 'guest', 'vmlinux')
    refused_pod(ctx, 'kernel-dotdot', {A_HV + 'kernel': sneaky},
                f'annotation {A_HV}kernel: \'{sneaky}\' is not a canonical path', ino)
    qemu = os.path.join(ctx.tmp, 'qemu-system-x86_64')
    refused_pod(ctx, 'hypervisor-path', {A_HV + 'path': qemu},
                f'annotation {A_HV}path: \'{qemu}\' is not in valid_hypervisor_paths', ino)

    # a trusted pod is held to the same gate
    pod = Pod(ctx, 'trusted-not-enabled', 'uid-tne', trusted=True, config=ctx.configs['policy'],
              annotations={TRUSTED_SANDBOX: 'true', A_HV + 'default_vcpus': '2'})
    expect_refused(ctx, pod.sandbox.prepare(),
                   f'annotation {A_HV}default_vcpus: ' + not_enabled.format('default_vcpus'),
                   'trusted-not-enabled', ino)

    # a container of a running VM pod may not configure the VM
    pod = vm_pod
    c = Ctr(pod, 'sizer').prepare(['tail', '-f', '/dev/null'], annotations={A_HV + 'default_memory': '1024'})
    expect_refused(ctx, c, f'annotation {A_HV}default_memory: only the pod\'s sandbox can configure the VM',
                   'container with a VM annotation')
    check_state(pod.sandbox, 'container with a VM annotation: its pod runs on', 'running', pod.sandbox.pid)
    check_vm(ctx, pod.sandbox, 'container with a VM annotation: its pod\'s VM runs on')


# --- main ---------------------------------------------------------------------------------------------


def main():
    def body(ctx):
        configs(ctx)
        state = {}

        def first():
            state['pod'], state['base'] = untrusted_pod(ctx)
        ctx.tap.item('a: an untrusted pod boots a VM', first)
        if 'base' not in state or state['base'].mem_kib is None:
            ctx.tap.ok(False, 'the untrusted pod gave the baseline the sizing items need')
            return
        ctx.tap.item('a: vmctl under another name', lambda: renamed_runtime(ctx, state['pod'], state['pod'].sandbox))
        ctx.tap.item('a: trusted pods run with runc', trust, ctx)
        ctx.tap.item('b: privileged pods', privileged, ctx)
        ctx.tap.item('c: sizing at boot', lambda: boot_sizing(ctx, state['base']))
        ctx.tap.item('d: growing a running VM', lambda: hotplug(ctx, state['base']))
        ctx.tap.item('e, f: refused annotations', lambda: gating(ctx, state['pod']))
        ctx.tap.item('the untrusted pod stops', lambda: stop_pod(state['pod']))
    return run_crio_suite(body)


if __name__ == '__main__':
    sys.exit(main())
