#!/bin/bash
# bench-start.sh: container start latency through Podman.
#
# ours:     podman --runtime vmctl --conmon conmon-kata run --rm IMAGE true
#           (a VM booted for the container, the command run in it, the VM
#           shut down and everything removed)
# baseline: the same `podman run --rm IMAGE true` with Debian's conmon and
#           runc, same private storage, same image, same ulimits.
# Recorded: the wall time of the whole `podman run` command.
# With BENCH_START_PHASES=1 every run goes through tracing wrappers of the
# monitor and the runtime (a bash script each: a few ms more per call, so
# the wall times of such a run are not comparable with untraced ones), and
# the run is split into phases: Podman before the monitor, create (monitor
# spawned -> `start` called), `start`, the container's run and exit up to
# `delete`, `delete`, and Podman after it.
. "$CK_SOURCE_ROOT/tests/bench/lib.sh"

bench_setup start "container start: podman run --rm IMAGE true" \
	"Podman + conmon-kata + vmctl (a VM per container)" "Podman + conmon + runc"
bench_metric start_s s lower "podman run --rm IMAGE true, wall time"
bench_podman_setup

PHASES=${BENCH_START_PHASES:-0}
TRACE_LOG=$B_TMP/trace.log
if [ "$PHASES" = 1 ]; then
	bench_metric ph_pre_s s lower "  Podman: command -> monitor spawned"
	bench_metric ph_create_s s lower "  create: monitor spawned -> runtime start called"
	bench_metric ph_rt_create_s s lower "    of it, the runtime's create (runc; conmon-kata makes the VM itself)"
	bench_metric ph_start_s s lower "  runtime start"
	bench_metric ph_exit_s s lower "  start returned -> runtime delete called (run, exit, exit file, Podman)"
	bench_metric ph_delete_s s lower "  runtime delete"
	bench_metric ph_post_s s lower "  Podman: delete returned -> command exits"
	bench_note "phases: BENCH_START_PHASES=1, tracing wrappers around the monitor and the runtime (EPOCHREALTIME)"
fi

# trace_wrappers VARIANT RUNTIME MONITOR PODMAN_WRAPPER: a copy of the
# Podman wrapper whose runtime and monitor log their calls to TRACE_LOG
trace_wrappers() {
	local dir=$B_TMP/trace-$1
	mkdir -p "$dir"
	cat >"$dir/$(basename "$2")" <<-EOF
		#!/bin/bash
		verb=other
		for a in "\$@"; do case \$a in create|start|delete|kill|state) verb=\$a; break ;; esac; done
		echo "\$EPOCHREALTIME begin \$verb" >>$TRACE_LOG
		$2 "\$@"
		rc=\$?
		echo "\$EPOCHREALTIME end \$verb" >>$TRACE_LOG
		exit \$rc
	EOF
	cat >"$dir/$(basename "$3")" <<-EOF
		#!/bin/bash
		echo "\$EPOCHREALTIME begin monitor" >>$TRACE_LOG
		exec $3 "\$@"
	EOF
	chmod +x "$dir/$(basename "$2")" "$dir/$(basename "$3")"
	sed "s|$2|$dir/$(basename "$2")|; s|$3|$dir/$(basename "$3")|" "$4" >"$4-traced"
	chmod +x "$4-traced"
}

# record_phases VARIANT RUN T0 T1: the phases of one traced run
record_phases() {
	local k v
	awk -v t0="$3" -v t1="$4" '
		$2 == "begin" && !($3 in b) { b[$3] = $1 }
		$2 == "end" && !($3 in e) { e[$3] = $1 }
		END {
			if (!("monitor" in b) || !("start" in b) || !("start" in e) || !("delete" in b) || !("delete" in e))
				exit 1
			printf "ph_pre_s %.6f\nph_create_s %.6f\n", b["monitor"] - t0, b["start"] - b["monitor"]
			if (("create" in b) && ("create" in e))
				printf "ph_rt_create_s %.6f\n", e["create"] - b["create"]
			printf "ph_start_s %.6f\nph_exit_s %.6f\n", e["start"] - b["start"], b["delete"] - e["start"]
			printf "ph_delete_s %.6f\nph_post_s %.6f\n", e["delete"] - b["delete"], t1 - e["delete"]
		}' "$TRACE_LOG" >"$B_TMP/phases" || run_failed "$1: the trace lacks a monitor, start or delete call"
	while read -r k v; do
		record "$k" "$1" "$2" "$v" s
	done <"$B_TMP/phases"
}

if [ "$PHASES" = 1 ]; then
	trace_wrappers ours "$VMCTL" "$CONMON_KATA" "$PM_OURS"
	trace_wrappers baseline "$(command -v runc)" "$(command -v conmon)" "$PM_BASE"
fi

start_one() { # variant run
	local t t0 pm
	pm=$(pm_for "$1")
	[ "$PHASES" = 1 ] && pm=$pm-traced && : >"$TRACE_LOG"
	t0=$EPOCHREALTIME
	timed t "$pm" run --rm "${BENCH_ULIMITS[@]}" "$BENCH_IMAGE" true ||
		run_failed "$1: podman run --rm true"
	record start_s "$1" "$2" "$t" s
	[ "$PHASES" = 1 ] && record_phases "$1" "$2" "$t0" "$(awk -v a="$t0" -v b="$t" 'BEGIN { printf "%.6f", a + b }')"
	return 0
}

bench_interleave start_one
bench_finish
