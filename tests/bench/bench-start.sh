#!/bin/bash
# bench-start.sh: container start latency through Podman.
#
# ours:     podman --runtime vmctl --conmon conmon-kata run --rm IMAGE true
#           (a VM booted for the container, the command run in it, the VM
#           shut down and everything removed)
# baseline: the same `podman run --rm IMAGE true` with Debian's conmon and
#           runc, same private storage, same image, same ulimits.
# Recorded: the wall time of the whole `podman run` command.
. "$CK_SOURCE_ROOT/tests/bench/lib.sh"

bench_setup start "container start: podman run --rm IMAGE true" \
	"Podman + conmon-kata + vmctl (a VM per container)" "Podman + conmon + runc"
bench_metric start_s s lower "podman run --rm IMAGE true, wall time"
bench_podman_setup

start_one() { # variant run
	local t
	timed t "$(pm_for "$1")" run --rm "${BENCH_ULIMITS[@]}" "$BENCH_IMAGE" true ||
		run_failed "$1: podman run --rm true"
	record start_s "$1" "$2" "$t" s
}

bench_interleave start_one
bench_finish
