#!/bin/bash
# bench-exec.sh: `podman exec CTR true` latency in a running container.
#
# ours:     a container running `sleep` in its VM (conmon-kata + vmctl);
#           each exec goes vmctl -> pod monitor -> agent -> guest process.
# baseline: a container running `sleep` under conmon + runc.
# Both containers run for the whole benchmark; the execs alternate
# between them.
. "$CK_SOURCE_ROOT/tests/bench/lib.sh"

bench_setup exec "exec latency: podman exec CTR true" \
	"Podman + conmon-kata + vmctl (a VM per container)" "Podman + conmon + runc"
bench_metric exec_s s lower "podman exec CTR true, wall time"
bench_podman_setup

for v in ours baseline; do
	"$(pm_for $v)" run -d --name "idle-$v" "${BENCH_ULIMITS[@]}" "$BENCH_IMAGE" sleep 100000 >"$B_TMP/out" 2>"$B_TMP/err" ||
		run_failed "$v: podman run -d"
done

exec_one() { # variant run
	local t
	timed t "$(pm_for "$1")" exec "idle-$1" true || run_failed "$1: podman exec true"
	record exec_s "$1" "$2" "$t" s
}

bench_interleave exec_one
bench_finish
