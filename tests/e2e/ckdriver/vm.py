"""The VMs as the host sees them: the QEMU processes of a pod, what their
command line says, the kernel a process runs on."""
import os
import re

from .procs import procs_mentioning
from .util import read_bytes


def qemu_processes(text):
    """Live QEMU processes whose command line mentions text: (pid, comm,
    cmdline)."""
    return [p for p in procs_mentioning(text) if 'qemu' in p[1]]


def pod_dir(ctx, pod_id):
    """The pod's folder under the runtime root (console.log, ctl.sock)."""
    return os.path.join(ctx.root, 'pods', pod_id)


def qemu_memory(cmdline):
    """QEMU's -m: (boot MiB, maxmem MiB or the boot size), or (None, None)."""
    m = re.search(r' -m ([0-9]+)M(?:,slots=[0-9]+,maxmem=([0-9]+)M)?', cmdline)
    if m is None:
        return None, None
    return int(m.group(1)), int(m.group(2) or m.group(1))


def host_kernel():
    """The host's /proc/version."""
    return read_bytes('/proc/version')


def host_release():
    """The host kernel's release (uname -r)."""
    return os.uname().release
