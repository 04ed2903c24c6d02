#!/usr/bin/env python3
"""Writes the generated part of the fuzz targets' seed corpora, and their dictionaries.

The seeds that are copies of real files (configuration.toml, CRI-O's
config.json samples, conmon command lines) and the binary ones (protocol
frame streams, ctl and log operation programs) are produced here, so that
they can be regenerated when a format changes:

    tests/fuzz/make-seeds.py [--samples DIR] [--build DIR]

--samples names CRI-O's captured samples (default tests/data/crio-1.26,
the captures kept in the repository); --build a build directory holding the
generated contrib/configuration*.toml. Seeds written by hand, and inputs
that once crashed a target (regression seeds, named crash-*, leak-*,
timeout-*), live next to the generated ones and are never touched.
The dictionaries (dict/<target>.dict) take their names from the sources'
own tables (configuration keys, OCI fields, seccomp names, options).
"""
import argparse
import json
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    """Writes a seed, unless another file of the target holds the same bytes."""
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    for other in os.listdir(d):
        if other != name and open(os.path.join(d, other), "rb").read() == data:
            return
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def copy(target, name, path):
    if os.path.exists(path):
        with open(path, "rb") as f:
            write(target, name, f.read())
        return True
    return False


# ---- toml -------------------------------------------------------------------


def toml_seeds(build):
    for name in ("configuration.toml", "configuration-build.toml"):
        p = os.path.join(build, "contrib", name)
        if os.path.exists(p):
            # the build tree's own paths would name a place outside the
            # repository: the seed keeps a neutral one instead
            with open(p, "rb") as f:
                text = f.read().replace(os.path.abspath(build).encode(), b"/build")
            write("toml", name, text)
    copy("toml", "configuration.toml.in", os.path.join(ROOT, "contrib", "configuration.toml.in"))
    copy("toml", "crio-drop-in.conf", os.path.join(ROOT, "crio-conf", "50-conmon-kata.conf"))
    copy("toml", "containers.conf", os.path.join(ROOT, "crio-conf", "containers.conf.d", "50-conmon-kata.conf"))
    write("toml", "syntax.toml",
          "# every form the subset has\n"
          "top = 'literal'\n"
          "[hypervisor.qemu]\n"
          "path = \"/usr/bin/qemu-system-x86_64\"\n"
          "kernel_params = \"a=\\\"b\\\" \\u00e9\\U0001F600 \\t\\n\\\\\"\n"
          "default_memory = 1_024\n"
          "default_vcpus = +1\n"
          "enable_debug = false\n"
          "enable_annotations = [\n  \"default_memory\", # comment\n  'kernel_params',\n]\n"
          "valid_kernel_paths = []\r\n"
          "[agent . kata]\n"
          "kernel_modules = [\"a b=1\",]\n"
          "[runtime]\n"
          "create_container_timeout = 3600\n")
    write("toml", "bom-crlf.toml", "\ufeff[runtime]\r\nenable_debug = true\r\n")


# ---- config.json ------------------------------------------------------------


def spec_seeds(samples):
    specs = []
    for name in ("sandbox-config.json", "container-config.json"):
        p = os.path.join(samples, name)
        if os.path.exists(p):
            with open(p) as f:
                specs.append((name, json.load(f)))
            copy("oci-spec", name, p)
            copy("agent-plan", name, p)
    copy("oci-spec", "config-default.json", os.path.join(ROOT, "tests", "data", "config-default.json"))
    copy("agent-plan", "config-default.json", os.path.join(ROOT, "tests", "data", "config-default.json"))

    small = {
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "h",
        "process": {
            "terminal": True, "consoleSize": {"height": 24, "width": 80},
            "user": {"uid": 1, "gid": 2, "umask": 18, "additionalGids": [3, 4]},
            "args": ["sh", "-c", "echo"], "env": ["A=1"], "cwd": "/",
            "capabilities": {"bounding": ["CAP_CHOWN"], "ambient": ["CAP_KILL"]},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True, "oomScoreAdj": -999,
        },
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro", "nosuid"]},
            {"destination": "/etc/hosts", "type": "bind", "source": "/etc/hosts", "options": ["rbind", "ro"]},
            {"destination": "/tmp", "source": "/tmp", "options": ["bind", "rshared"]},
        ],
        "hooks": {"prestart": [{"path": "/bin/true", "args": ["true"], "env": ["X=1"], "timeout": 5}],
                  "poststop": [{"path": "/bin/true"}]},
        "annotations": {"io.kubernetes.cri-o.ContainerType": "container"},
        "linux": {
            "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "network", "path": "/proc/1/ns/net"}],
            "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
            "sysctl": {"net.ipv4.ip_forward": "1"},
            "resources": {
                "memory": {"limit": 536870912, "reservation": 1048576, "swap": 1073741824, "swappiness": 0,
                           "disableOOMKiller": False},
                "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0-1"},
                "pids": {"limit": 100},
                "unified": {"memory.high": "max"},
            },
            "cgroupsPath": "/kubepods/x", "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"],
            "rootfsPropagation": "rslave", "mountLabel": "",
            "devices": [{"type": "c", "path": "/dev/null", "major": 1, "minor": 3}],
            "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"],
                        "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                                     {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                                      "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
                                               {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]},
        },
    }
    write("oci-spec", "small.json", json.dumps(small, indent=1))
    write("agent-plan", "small.json", json.dumps(small, indent=1))
    write("oci-spec", "minimal.json", '{"ociVersion":"1.0.2"}')
    write("oci-spec", "nulls.json",
          '{"ociVersion":"1.0.2","root":null,"process":null,"mounts":null,"hooks":null,"annotations":null,'
          '"linux":{"namespaces":null,"resources":{"memory":null,"cpu":null},"seccomp":null}}')

    # seccomp objects alone
    profiles = [small["linux"]["seccomp"]]
    for name, spec in specs:
        if "seccomp" in spec.get("linux", {}):
            profiles.append(spec["linux"]["seccomp"])
    for i, p in enumerate(profiles):
        write("seccomp", "profile-%d.json" % i, json.dumps(p))
    write("seccomp", "actions.json", json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW", "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG"],
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "syscalls": [
            {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
            {"names": ["uname"], "action": "SCMP_ACT_TRACE", "errnoRet": 3},
            {"names": ["getpid"], "action": "SCMP_ACT_KILL_PROCESS"},
            {"names": ["getcwd"], "action": "SCMP_ACT_TRAP"},
            {"names": ["kill"], "action": "SCMP_ACT_LOG"},
            {"names": ["dup3"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 2, "value": 0, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"},
                      {"index": 1, "value": 10, "op": "SCMP_CMP_GT"}]},
            {"names": ["no_such_syscall"], "action": "SCMP_ACT_KILL"},
        ]}))
    write("seccomp", "notify.json", '{"defaultAction":"SCMP_ACT_NOTIFY","listenerPath":"/run/x"}')


# ---- the wire protocol -----------------------------------------------------------

REQ, RESP, EVENT, DATA, CREDIT, EOF = 1, 2, 3, 4, 5, 6


def frame(ftype, fid, payload=b"", stream=0):
    if isinstance(payload, (dict, list)):
        payload = json.dumps(payload, separators=(",", ":")).encode()
    elif isinstance(payload, str):
        payload = payload.encode()
    return struct.pack(">BBBBII", 0xC7, ftype, stream, 0, fid, len(payload)) + payload


def proto_seeds():
    # ids of fuzz-proto.c: 1 wait_process (handle 5), 2 version, 3 exec_process from the mux's client
    ready = frame(EVENT, 0, {"event": "ready", "protocol": 1})
    version = frame(RESP, 2, {"result": {"protocol": 1, "agent_version": "0.1.0", "agent_commit": "abc",
                                         "kernel_release": "6.1.0", "kernel_version": "#1 SMP", "machine": "x86_64",
                                         "uptime_us": 5000000, "init_start_us": 1, "ready_us": 2,
                                         "mem_total_kib": 250000, "cpus_online": 1,
                                         "modules_loaded": ["virtio_console"]}})
    exec_reply = frame(RESP, 3, {"result": {"handle": 9, "pid": 42}})
    output = (frame(DATA, 5, "hello\n", 1) + frame(DATA, 5, "oops\n", 2) + frame(DATA, 9, "exec out", 1)
              + frame(CREDIT, 5, struct.pack(">I", 5), 0) + frame(EOF, 5, b"", 1) + frame(EOF, 5, b"", 2))
    exits = (frame(EVENT, 0, {"event": "exit", "container": "c1", "exec_id": None, "handle": 5, "exit_code": 0,
                              "signal": 0, "oom_killed": False})
             + frame(EVENT, 0, {"event": "exit", "container": "c1", "exec_id": "e1", "handle": 9,
                                "exit_code": 137, "signal": 9, "oom_killed": True})
             + frame(EVENT, 0, {"event": "oom", "container": "c1"}))
    wait = frame(RESP, 1, {"result": {"exit_code": 0, "signal": 0, "oom_killed": False, "pid": 42}})
    write("proto", "session", ready + version + exec_reply + output + exits + wait)
    write("proto", "ready", ready)
    write("proto", "errors",
          frame(RESP, 2, {"error": {"code": "unsupported", "errno": 0, "message": "protocol 2"}})
          + frame(RESP, 1, {"error": {"code": "not_found", "errno": 2, "message": "no such process"}})
          + frame(RESP, 3, {"error": {"code": "invalid", "errno": 0, "message": "exec: \"x\": not found"}}))
    write("proto", "unknown-ids", frame(RESP, 77, {"result": {}}) + frame(DATA, 1234, "x", 1)
          + frame(CREDIT, 9, struct.pack(">I", 65536), 0) + frame(REQ, 5, {"op": "ping"}))
    write("proto", "split-credit", frame(CREDIT, 5, struct.pack(">I", 0xFFFFFFFF), 0)
          + frame(CREDIT, 5, struct.pack(">I", 1), 0))
    write("proto", "bad-magic", b"\xc8" + frame(EVENT, 0, {"event": "ready"})[1:])
    write("proto", "truncated", (ready + version)[:-7])
    write("proto", "big-data", frame(DATA, 5, b"A" * 65536, 1) + frame(DATA, 9, b"\n" * 1000, 2))
    # the port connection on handle 11 (ck-sock-relay.h): the guest's bytes on stream 1, credit for
    # stream 0, its end of stream, then its reset on stream 2; and one beyond its window
    write("proto", "port", ready + frame(DATA, 11, "reply", 1) + frame(CREDIT, 11, struct.pack(">I", 7), 0)
          + frame(EOF, 11, b"", 1) + frame(EOF, 11, b"", 2))
    write("proto", "port-window", b"".join(frame(DATA, 11, b"w" * 65536, 1) for _ in range(5)))
    # the text form (fuzz-proto.c, stream_from_text): one frame a line, lengths computed
    write("proto", "session.txt",
          'E00 {"event":"ready","protocol":1}\n'
          'R02 {"result":{"protocol":1,"kernel_release":"6.1.0","cpus_online":1,"modules_loaded":["9p"]}}\n'
          'R03 {"result":{"handle":9,"pid":42}}\n'
          'D15 hello\\n\n'
          'D29 err\\001\\n\n'
          'D19 exec output\n'
          'C05 4096\n'
          'O15 \n'
          'E00 {"event":"exit","container":"c1","exec_id":null,"handle":5,"exit_code":0,"signal":0,'
          '"oom_killed":false}\n'
          'E00 {"event":"oom","container":"c1","detail":{"a":[1,{"b":[2]}]}}\n'
          'R01 {"result":{"exit_code":137,"signal":9,"oom_killed":true,"pid":42}}\n')
    write("proto", "errors.txt",
          'R02 {"error":{"code":"unsupported","errno":0,"message":"protocol 2"}}\n'
          'R01 {"error":{"code":"not_found","errno":2,"message":"no such process"}}\n'
          'R03 {"error":{"code":"timeout","errno":4096,"message":"slow"}}\n'
          'Q07 {"op":"ping"}\n')


# ---- annotations ----------------------------------------------------------------

def annotation_seeds():
    hv = "io.katacontainers.config.hypervisor."
    write("annotations", "all",
          hv + "default_memory=2048\n" + hv + "default_vcpus=2\n" + hv + "default_maxvcpus=4\n"
          + hv + "kernel_params=quiet console=hvc0\n" + hv + "path=/usr/bin/qemu-system-x86_64\n"
          + hv + "kernel=/opt/kata/share/vmlinux\n" + hv + "initrd=/opt/kata/share/initrd.img\n"
          + hv + "enable_debug=True\n" + hv + "msize_9p=8192\n" + hv + "accel=tcg\n"
          + hv + "shared_fs=virtio-9p\n" + hv + "guest_hook_path=/usr/share/oci/hooks\n"
          + "io.katacontainers.config.agent.kernel_modules=e1000e InterruptThrottleRate=3000;i915\n"
          + "io.katacontainers.config.agent.dial_timeout=30\n"
          + "io.katacontainers.config.runtime.disable_guest_seccomp=false\n"
          + "io.kubernetes.cri-o.ContainerType=sandbox\n")
    write("annotations", "gated",
          "enable default_memory|default_vcpus\nenable agent\\..*\nkernel /boot/*\nparams quiet\n--\n"
          + hv + "default_memory=512\n" + hv + "kernel=/boot/../etc/shadow\n"
          + "io.katacontainers.config.agent.enable_debug=1\n")
    write("annotations", "escapes",
          "enable .*\n--\n" + hv + "kernel_params=a\\nb\n" + hv + "machine_type=q35\\001\n"
          + "io.katacontainers.pkg.oci.bundle_path=/x\n")
    write("annotations", "ceilings",
          "--\n" + hv + "default_memory=4096\n" + hv + "default_maxmemory=1024\n" + hv + "default_max_vcpus=1\n"
          + hv + "default_vcpus=8\n")


# ---- conmon ---------------------------------------------------------------------

def cli_seeds(samples):
    p = os.path.join(samples, "conmon-cmdlines.txt")
    n = 0
    if os.path.exists(p):
        with open(p) as f:
            for line in f:
                words = line.split()
                if "/usr/bin/conmon" not in words:
                    continue
                args = words[words.index("/usr/bin/conmon") + 1:]
                n += 1
                write("conmon-cli", "crio-%02d" % n, "\0".join(args))
    write("conmon-cli", "podman",
          "\0".join(["--api-version", "1", "-c", "0123456789abcdef0123", "-u", "0123456789abcdef0123",
                     "-r", "/usr/bin/true", "-b", "/tmp", "-p", "pidfile", "-n", "name", "--exit-dir", "/tmp",
                     "--persist-dir", "/tmp", "--full-attach", "-s", "-l", "journald:", "-l", "k8s-file:ctr.log",
                     "--log-level", "warning", "--syslog", "--log-tag", "tag", "--log-label", "A_B=1",
                     "--runtime-arg", "--log-format=json", "--runtime-arg", "--root", "--runtime-arg", "/run/x",
                     "--exit-command", "/usr/bin/podman", "--exit-command-arg", "--rm", "--exit-delay", "5",
                     "--log-rotate", "--log-max-files", "3", "--log-size-max", "1024", "-t", "-i"]))
    write("conmon-cli", "exec",
          "\0".join(["-c", "0123456789abcdef0123", "-r", "/usr/bin/true", "-e", "--exec-process-spec", "/p",
                     "-l", "none", "-l", "off:x", "-l", ":journald", "--sync", "-T", "10"]))


def ctl_seeds():
    def writes(*chunks, flag=1):
        out = bytes([flag])
        for c in chunks:
            if isinstance(c, str):
                c = c.encode()
            out += bytes([len(c)]) + c
        return out
    write("conmon-ctl", "resizes", writes("1 24 80\n", "1 0010 0020\n2 0 0\n", "  1   7\t9\n", "1 5 6 junk\n"))
    write("conmon-ctl", "rejects", writes("1 -1 -1\n1 2 2\n", "999 2 2\n", "1 1001 1000\n", "1 2 2\n"))
    write("conmon-ctl", "late-arm", writes("1 1 1\n", "1 2 2\n", flag=0))
    long_line = b"1 2 2 " + b"#" * 120
    write("conmon-ctl", "long-line",
          bytes([1, 0x80 | 126]) + long_line + bytes([126]) + b"#" * 125 + b"\n" + bytes([8]) + b"1 3 3\n")
    write("conmon-ctl", "split", writes("1 4", "0 4", "0\n"))


def log_seeds():
    def op(kind, data=b""):
        if isinstance(data, str):
            data = data.encode()
        return bytes([kind]) + struct.pack(">H", len(data)) + data
    write("k8s-log", "lines", bytes([3, 0, 0, 0]) + op(0, "hello\nworld\n") + op(1, "err\r\n") + op(0, "partial")
          + op(0, " line\n"))
    write("k8s-log", "priorities", bytes([2 | 16, 0, 0, 0]) + op(0, "<3>bad\n<7>debug\n<8>no\n") + op(1, "<")
          + op(1, "5>split\n") + op(0, "x" * 8190) + op(0, "yyyy\n"))
    write("k8s-log", "rotate", bytes([1 | 4, 2, 0, 1]) + op(0, "a" * 100 + "\n") + op(2) + op(1, "b\n" * 30))
    write("k8s-log", "truncate", bytes([1 | 2, 3, 4, 0]) + op(0, "line\n" * 100) + op(2) + op(0, "more\n"))


# ---- dictionaries (libFuzzer/AFL format; the driver reads them too) ------------


def dict_escape(t):
    """A token in the dictionary syntax; text up to U+00FF is taken as bytes."""
    raw = t.encode("latin-1") if all(ord(c) < 256 for c in t) else t.encode()
    out = ""
    for b in raw:
        c = chr(b)
        if c in '"\\':
            out += "\\" + c
        elif 0x20 <= b < 0x7F:
            out += c
        else:
            out += "\\x%02x" % b
    return '"' + out + '"'


def write_dict(name, header, tokens):
    seen, lines = set(), []
    for t in tokens:
        if t not in seen:
            seen.add(t)
            lines.append(dict_escape(t))
    with open(os.path.join(HERE, "dict", name + ".dict"), "w") as f:
        f.write("".join("# " + h + "\n" for h in header))
        f.write("\n".join(lines) + "\n")


def source(path):
    with open(os.path.join(ROOT, path)) as f:
        return f.read()


def dictionaries():
    os.makedirs(os.path.join(HERE, "dict"), exist_ok=True)
    toml_keys = re.findall(r'\.name = "([a-z0-9_]+)"', source("vmctl/lib/config.c"))
    toml_values = ["virtio-9p", "virtio-fs", "none", "auto", "kvm", "tcg", "vsock", "virtio-serial", "qmp", "hmp",
                   "qmp-pretty", "tcfilter", "macvtap", "bridged", "trusted", "untrusted", "q35",
                   "/usr/bin/qemu-system-x86_64", "/usr/bin/runc"]
    write_dict("toml", ["fuzz-toml: TOML syntax of the subset and its refusals, and configuration.toml's names.",
                        "Generated by make-seeds.py; libFuzzer/AFL dictionary format, read by driver.c too."],
               ["[", "]", "[[", "]]", "=", " = ", '"', "'", '"' * 3, "'" * 3, "\\", "\\u", "\\U", '\\"', "\\\\",
                "\\n", "\\t", "\\u0000", "\\uD800", "\\U0010FFFF", "\\U00110000", "#", "\n", "\r\n", "\r", "\t", ",",
                ".", "{", "}", "_", "+", "-", "true", "false", "inf", "nan", "+inf", "-nan", "0x10", "0o7", "0b1",
                "1e3", "1.5", "1979-05-27", "07:32:00", "1979-05-27T07:32:00Z", "9223372036854775807",
                "-9223372036854775808", "9223372036854775808", "\ufeff", "\xc3\xa9", "\xff", "\x00", "\x7f",
                "[hypervisor.qemu]", "[agent.kata]", "[runtime]", "[hypervisor]", "[agent]", "hypervisor.qemu",
                "agent.kata", "runtime"] + toml_keys + toml_values)

    json_common = ["{", "}", "[", "]", ":", ",", '"', "\\", "\\u", "\\u0000", "\\ud800", '\\"', "null", "true",
                   "false", "-", "0", "1e400", "-1", "4294967296", "18446744073709551615", "18446744073709551616",
                   "9223372036854775808", "/*", "*/", "//", '{"', '":', '":{', '":[', '"},', "[[[[", '{"a":']
    oci_keys = sorted(set(re.findall(r'\{"([A-Za-z]+)", CK_JSON', source("agent/oci/oci-spec.c"))))
    oci_values = ["RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_CORE", "RLIMIT_BOGUS", "pid", "network", "mount", "ipc",
                  "uts", "user", "cgroup", "time", "CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_KILL", "CAP_LAST_CAP", "CAP_41",
                  "bind", "rbind", "ro", "rw", "nosuid", "rprivate", "rshared", "rslave", "tmpcopyup", "idmap",
                  "proc", "tmpfs", "cgroup2", "/proc", "/dev", "/", "..", "/../", "//", "rootfs",
                  "io.katacontainers.config.hypervisor.default_memory", "io.kubernetes.cri-o.ContainerType",
                  "sandbox"]
    sec_tokens = sorted(set(re.findall(r'"(SCMP_[A-Z0-9_]+|SECCOMP_[A-Z_]+)"', source("agent/seccomp-filter.c"))))
    sec_tokens += ["defaultAction", "defaultErrnoRet", "architectures", "flags", "listenerPath", "listenerMetadata",
                   "syscalls", "names", "action", "errnoRet", "args", "index", "value", "valueTwo", "op",
                   "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_NATIVE",
                   "SCMP_ARCH_BOGUS", "read", "write", "personality", "clone", "socket", "mkdir", "no_such_syscall"]
    write_dict("oci-spec", ["fuzz-oci-spec: JSON syntax (yajl, comments allowed) and config.json's names."],
               json_common + oci_keys + oci_values + sec_tokens[:8])
    write_dict("agent-plan", ["fuzz-agent-plan: config.json's names, mount options, capabilities, seccomp, cgroup."],
               json_common + oci_keys + oci_values + sec_tokens +
               ["memory.max", "cpu.weight", "cpu.max", "pids.max", "max", "memory.swap.max", "memory.low", "262144",
                "2", "-1"])
    write_dict("seccomp", ["fuzz-seccomp: a linux.seccomp object's names and values."], json_common + sec_tokens)

    write_dict("proto", ["fuzz-proto: frame headers (magic, types 1-6, streams, ids) and docs/protocol.md's JSON."],
               ["\xc7", "\xc7\x01\x00\x00", "\xc7\x02\x00\x00\x00\x00\x00\x01", "\xc7\x02\x00\x00\x00\x00\x00\x02",
                "\xc7\x02\x00\x00\x00\x00\x00\x03", "\xc7\x03\x00\x00\x00\x00\x00\x00",
                "\xc7\x04\x01\x00\x00\x00\x00\x05", "\xc7\x04\x02\x00\x00\x00\x00\x09",
                "\xc7\x05\x00\x00\x00\x00\x00\x05\x00\x00\x00\x04",
                "\xc7\x06\x01\x00\x00\x00\x00\x05\x00\x00\x00\x00", "\x00\x00\x00\x04", "\x00\x01\x00\x00",
                "\x00\x10\x00\x00", "\x00\x10\x00\x01", "\xff\xff\xff\xff", "\x00\x00\x00\x00"] + json_common +
               ["result", "error", "code", "errno", "message", "event", "ready", "exit", "oom", "op", "protocol",
                "handle", "pid", "exit_code", "signal", "oom_killed", "container", "exec_id", "failed", "invalid",
                "not_found", "exists", "timeout", "disconnected", "unsupported", "permission", "cpus_online",
                "pids"])

    suffixes = sorted(set(re.findall(r'\{"([a-z0-9_]+)", "(?:hypervisor|agent|runtime)',
                                     source("vmctl/lib/annotations.c"))))
    write_dict("annotations", ["fuzz-annotations: annotation names, configuration lines, values, regex syntax."],
               ["io.katacontainers.", "io.katacontainers.config.", "io.katacontainers.config.hypervisor.",
                "io.katacontainers.config.agent.", "io.katacontainers.config.runtime.", "=", "\n", "--\n",
                "enable ", "hypervisor ", "kernel ", "initrd ", "params ", "\\n", "\\001", "\\\\", ".*", "(", ")",
                "|", "\\", "^", "$", "?:", "[a-z]", "*", "**", "/", "/..", "/./", "//",
                "/usr/bin/qemu-system-x86_64", "/opt/kata/share/vmlinux", "/opt/kata/bin/qemu", "true", "false",
                "True", "T", "1", "0", "-1", "4294967295", ";", " ", "agent.", "runtime."] + suffixes)
    write_dict("conmon-ctl", ['fuzz-conmon-ctl: write-length bytes and ctl lines (sscanf "%d %d %d").'],
               ["\x06", "\x86", "\x7f", "\xff", "1 ", "2 ", " 0 0\n", "\n", "1 1000 1000\n", "2 0 0\n", "1001", "-1",
                "+", "0x10", "10.5", " ", "\t", "2147483648", "#" * 16])
    opts = sorted(set(re.findall(r'OPT\("([a-z-]+)"', source("conmon-kata/cli.c"))))
    write_dict("conmon-cli", ["fuzz-conmon-cli: conmon's options (arguments are NUL-separated) and values."],
               ["\x00", "\x00-", "\x00--"] + ["--" + o for o in opts] + ["--" + o + "=" for o in opts] +
               ["-b", "-c", "-u", "-n", "-r", "-P", "-p", "-0", "-e", "-t", "-i", "-l", "-s", "-T", "-ti", "--",
                "k8s-file:", "journald:", "passthrough", "none", "off", "null", ":", "::", "debug", "trace",
                "fatal", "A_B=1", "a=b=c", "=x", "0123456789abcdef0123", "/usr/bin/true", "/tmp", "-1",
                "2147483648"])
    write_dict("k8s-log", ["fuzz-k8s-log: operation bytes, lengths, and what containers print."],
               ["\x00\x00\x10", "\x01\x00\x10", "\x02\x00\x00", "\x00\x20\x00", "\x00\x1f\xff", "\n", "\r\n", "<0>",
                "<3>", "<7>", "<8>", "<", ">", "\x00", "\x1b[0m", "x" * 32])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", default=os.path.join(ROOT, "tests", "data", "crio-1.26"))
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    for name in ("sandbox-config.json", "container-config.json", "conmon-cmdlines.txt"):
        if not os.path.exists(os.path.join(a.samples, name)):
            ap.error(f"--samples: {os.path.join(a.samples, name)} is missing")
    toml_seeds(a.build)
    spec_seeds(a.samples)
    proto_seeds()
    annotation_seeds()
    cli_seeds(a.samples)
    ctl_seeds()
    log_seeds()
    dictionaries()
    return 0


if __name__ == "__main__":
    sys.exit(main())
