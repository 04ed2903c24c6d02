"""ckdriver: the e2e suites' driver package (tests/e2e/README.md).

Standard library only. One Context per suite run (context.py) replaces
module globals: it carries the TAP stream, the reaper, the build's paths,
the run's directories and what to undo at the end, and is passed
explicitly to whatever needs it. The modules, by concern:

  context  the Context, Env (what meson sets), run_suite() (every main)
  tap      TAP output: checks, items, counting a TAP stream
  procs    processes: spawn with fds 3, 4, 5, /proc, the reaper, commands
           with a deadline, nothing_left()
  files    inotify, k8s-file logs, file types, FIFOs, mounts
  streams  attach socket records, sync pipe reads, console socket, ptys
  oci      runc's words and state shape
  crio     playing CRI-O 1.26: Crio (ctx.crio), pods, containers, conmon
           command lines, the checks on what comes back, run_crio_suite()
  devlog   /dev/log held for the monitors' syslog lines
  netns    network namespaces, veth pairs, addresses
  vm       QEMU processes of a pod, their command line
"""
