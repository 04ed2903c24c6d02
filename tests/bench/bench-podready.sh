#!/bin/bash
# bench-podready.sh: a pod started the way CRI-O starts it, and its timeline.
#
# ours:     conmon-kata with CRI-O's sandbox command line (start pipe, sync
#           pipe; tests/e2e/ckdriver/crio.py), vmctl the runtime: pod ready is
#           spawning the monitor -> {"pid": N} on the sync pipe (the VM is
#           booted and the sandbox created in it);
# baseline: Debian's conmon with the same command line and runc.
# Each run then starts the sandbox, creates and starts a container in the
# pod (CRI-O's container command line) and waits for its first log line:
# every phase is a row, on the host's clock from spawning the sandbox's
# monitor, and for ours the guest's own phases (QEMU exec -> kernel ->
# /init -> agent ready) as the pod monitor reports them (podready.py).
# The floor (bare QEMU with our command line and kernel, a trivial /init
# that powers off: bench-boot.sh's baseline) is measured in the same runs,
# so "pod ready / floor" is a ratio of this run too.
# All pods of a variant share one runtime root, as a node's pods share
# CRI-O's /run/vmctl: what vmctl measures once and caches there (the host's
# TSC frequency, the KVM verdict) is the warm-up pod's to pay.
. "$CK_SOURCE_ROOT/tests/bench/lib.sh"

: "${CK_BENCH_BARE_INITRD:?}" "${CK_CRIO_SAMPLES:?}"
command -v conmon >/dev/null && command -v runc >/dev/null || { echo "the baseline needs conmon and runc" >&2; exit 1; }

bench_setup podready "pod ready as CRI-O drives it: monitor spawned -> {\"pid\": N} on the sync pipe" \
	"conmon-kata + vmctl (a VM per pod)" "conmon + runc"
bench_metric ready_s s lower "pod ready: monitor spawned -> {\"pid\": N}"
bench_metric ready_floor_s s lower "pod ready (ours) against the floor (base: bare QEMU, our kernel, trivial /init)"
bench_metric qemu_exec_at_s s lower "timeline, host clock: QEMU exec"
bench_metric guest_exec_to_kernel_s s lower "  guest clock: QEMU exec -> kernel start"
bench_metric guest_kernel_to_init_s s lower "  guest clock: kernel start -> /init"
bench_metric guest_init_to_ready_s s lower "  guest clock: /init -> agent ready"
bench_metric guest_ready_to_answer_s s lower "  agent ready -> its answer on the host"
bench_metric sb_to_create_s s lower "sandbox, host clock: monitor spawned -> its create begins"
bench_metric sb_monitor_s s lower "  monitor set-up (annotations, I/O)"
bench_metric sb_pod_setup_s s lower "  pod set-up (share, namespaces, taps)"
bench_metric sb_vm_boot_s s lower "  VM boot (QEMU exec -> the agent's answer)"
bench_metric sb_network_s s lower "  guest network (setup_network)"
bench_metric sb_create_sandbox_s s lower "  create_sandbox"
bench_metric sb_serving_s s lower "  control socket, port forwarding"
bench_metric sb_share_s s lower "  sandbox container: bundle into the share, spec for the guest"
bench_metric sb_guest_ctr_s s lower "  sandbox container: create_container in the guest"
bench_metric gc_call_s s lower "    the agent's steps (guest clock): create_container's round trip"
bench_metric gc_spec_s s lower "    spec parsed"
bench_metric gc_stdio_s s lower "    stdio pipes"
bench_metric gc_cgroup_s s lower "    cgroup made, limits set"
bench_metric gc_plan_s s lower "    plan: namespaces, mounts, seccomp filter compiled"
bench_metric gc_namespaces_s s lower "    stage 1: cgroup joined, namespaces, fork"
bench_metric gc_setup_s s lower "    stage 2 to READY: rootfs, mounts, ids"
bench_metric gc_done_s s lower "    bookkeeping"
bench_metric sb_standin_s s lower "  stand-in, pidfile, state, hooks -> {\"pid\": N}"
bench_metric sandbox_started_at_s s lower "timeline, host clock: sandbox started"
bench_metric ctr_created_at_s s lower "timeline, host clock: container created ({\"pid\": N})"
bench_metric ctr_started_at_s s lower "timeline, host clock: container started"
bench_metric first_log_at_s s lower "timeline, host clock: container's first log byte"

pod_one() { # variant run
	local t k v
	rm -f "$B_TMP/pod.out"
	# in the environment, not on a command line: podready.py waits for
	# every process whose command line names the root to be gone
	export CK_BENCH_RUNTIME_ROOT=$B_ROOT/$1
	mkdir -p "$CK_BENCH_RUNTIME_ROOT"
	timed t unshare --mount --propagation private python3 "$CK_SOURCE_ROOT/tests/bench/podready.py" "$1" \
		"$B_TMP/pod.out" || run_failed "$1: podready.py"
	while read -r k v; do
		case $k in
		guest_boot_s) continue ;;
		esac
		record "$k" "$1" "$2" "$v" s
	done <"$B_TMP/pod.out"
	if [ "$1" = ours ]; then
		record ready_floor_s ours "$2" "$(awk '$1 == "ready_s" { print $2 }' "$B_TMP/pod.out")" s
	else
		run_floor t FLOOR
		record ready_floor_s baseline "$2" "$t" s
	fi
}

capture_qemu_argv
bare_argv FLOOR
bench_interleave pod_one
bench_note "timeline rows: seconds from spawning the sandbox's monitor (host CLOCK_BOOTTIME); the first log byte is the log record's own timestamp; QEMU exec is its /proc start time (10 ms)"
bench_note "guest rows: the pod monitor's \"VM up\" line: the agent's CLOCK_BOOTTIME, placed on the host's clock by when its answer arrived"
bench_note "sandbox rows: the sandbox monitor's \"sandbox ready\" line, its own monotonic clock, step by step to {\"pid\": N}"
bench_note "the agent's steps: create_container's reply (steps_us), logged by the sandbox monitor with the call's round trip on its clock"
bench_finish
