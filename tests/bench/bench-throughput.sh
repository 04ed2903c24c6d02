#!/bin/bash
# bench-throughput.sh: stdout throughput into the container log (k8s-file).
#
# Each run starts a detached container that first generates the payload
# into /dev/null, timing itself with /proc/uptime (how fast the container
# can produce it at all: under TCG the guest's CPU is emulated), then prints
# a start marker, the payload (BENCH_THROUGHPUT_MIB MiB, default 50, of
# 100-byte lines from `yes | head -c`), and an end marker to stdout, which
# the monitor writes to the k8s-file log.
#   ours:     guest process -> agent -> virtio-serial -> conmon-kata -> log
#   baseline: container process -> pipe -> conmon -> log
# Throughput is payload / (end marker's log timestamp - start marker's):
# both timestamps are taken by the monitor itself as it reads the data, so
# neither container start nor exit is in it. Every run checks that the log
# holds exactly the payload that was written (lost or duplicated bytes end
# the benchmark). The run time of the whole container is recorded too.
# Each run starts after a sync(1), so that writeback of the previous log
# does not land in it.
. "$CK_SOURCE_ROOT/tests/bench/lib.sh"

BENCH_THROUGHPUT_MIB=${BENCH_THROUGHPUT_MIB:-50}
PAYLOAD=$((BENCH_THROUGHPUT_MIB * 1024 * 1024))
LINE=$(printf '0123456789%.0s' {1..9})012345678 # 99 characters + newline

bench_setup throughput "stdout throughput of $BENCH_THROUGHPUT_MIB MiB into the k8s-file log" \
	"Podman + conmon-kata + vmctl (a VM per container)" "Podman + conmon + runc"
bench_metric log_mibps MiB/s higher "stdout to k8s-file log (monitor timestamps)"
bench_metric log_span_s s lower "time from start marker to end marker"
bench_metric produce_mibps MiB/s higher "producing the payload into /dev/null alone"
bench_metric cpu_s_per_mib s lower "monitor's own CPU time (user + system) per MiB of payload"
bench_metric log_vs_produce ratio higher "ours: log rate / produce rate (the relay's share of the in-VM ceiling)"
bench_metric vcpu_produce_s_per_mib s lower "ours: guest vCPU thread's CPU per MiB, producing into /dev/null"
bench_metric vcpu_relay_s_per_mib s lower "ours: guest vCPU thread's CPU per MiB, producing into the log"
bench_metric qemu_io_relay_s_per_mib s lower "ours: QEMU's other threads' CPU per MiB, producing into the log"
bench_metric run_s s lower "podman run -d + wait, whole container"
bench_metric records records lower "log records for the payload (P and F)"
bench_podman_setup

# The container's script. It measures the producer alone first, then
# writes the same payload to stdout between the markers.
SCRIPT="echo BENCH-READY
sleep 1
read u0 x </proc/uptime
yes $LINE | head -c $PAYLOAD >/dev/null
read u1 x </proc/uptime
echo BENCH-PRODUCE \$u0 \$u1
sleep 1
echo BENCH-START
yes $LINE | head -c $PAYLOAD
echo
echo BENCH-END
sleep 2"

# wait_log_tail LOG WORD: until a line of LOG's last 4 KiB ends with WORD
# (its first 4 KiB while shorter), polling; fails after BENCH_CALL_TIMEOUT
wait_log_tail() {
	local i
	for i in $(seq 1 $((BENCH_CALL_TIMEOUT * 10))); do
		tail -c 4096 "$1" 2>/dev/null | grep -q -- " $2\( \|\$\)" && return 0
		sleep 0.1
	done
	return 1
}

# cpu_seconds PID: user + system time of PID so far (its own, not its
# children's), from /proc/PID/stat
cpu_seconds() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat"
}

# qemu_cpu PID: "VCPU OTHER", the user + system seconds so far of QEMU's
# TCG vCPU thread(s) (named ".../TCG") and of all its other threads
qemu_cpu() {
	local t comm
	for t in /proc/"$1"/task/*; do
		comm=$(cat "$t/comm" 2>/dev/null) || continue
		case $comm in */TCG) printf 'vcpu ' ;; *) printf 'other ' ;; esac
		cat "$t/stat" 2>/dev/null || echo
	done | awk -v hz="$(getconf CLK_TCK)" '
		{ kind = $1; sub(/^[a-z]+ /, ""); sub(/.*\) /, ""); s[kind] += ($12 + $13) / hz }
		END { printf "%.2f %.2f\n", s["vcpu"], s["other"] }'
}

# per_mib A B: (B - A) / payload MiB
per_mib() { awk -v a="$1" -v b="$2" -v m="$BENCH_THROUGHPUT_MIB" 'BEGIN { printf "%.4f", (b - a) / m }'; }

tp_one() { # variant run
	local v=$1 pm t t0 t1 id log span bytes records u0 u1 mon c0 c1 qemu=""
	local q0=(0 0) q1=(0 0) q2=(0 0)
	pm=$(pm_for "$v")
	# the previous run's 70 MB log is still being written back: let that
	# finish now rather than during this run
	sync
	t0=$EPOCHREALTIME
	timed t "$pm" run -d "${BENCH_ULIMITS[@]}" "$BENCH_IMAGE" sh -c "$SCRIPT" || run_failed "$v: podman run -d"
	id=$(cat "$B_TMP/out")
	log=$(inspect "$v" "$id" '{{.HostConfig.LogConfig.Path}}')
	mon=$(inspect "$v" "$id" '{{.State.ConmonPid}}')
	# ours: the VM is the monitor's child
	[ "$v" = ours ] && qemu=$(pgrep -P "$mon" -x qemu-system-x86 | head -1)
	# the guest's CPU time producing (from the ready line, then 1 s of
	# sleep, to the produce line) and relaying; the monitor's own CPU time
	# over the payload: from the produce line (the container then sleeps
	# 1 s) to the end marker (then 2 s)
	wait_log_tail "$log" BENCH-READY || bench_die "$v: no BENCH-READY line in $log"
	[ -n "$qemu" ] && read -r -a q0 < <(qemu_cpu "$qemu")
	wait_log_tail "$log" BENCH-PRODUCE || bench_die "$v: no BENCH-PRODUCE line in $log"
	c0=$(cpu_seconds "$mon")
	[ -n "$qemu" ] && read -r -a q1 < <(qemu_cpu "$qemu")
	wait_log_tail "$log" BENCH-END || bench_die "$v: no BENCH-END line in $log"
	c1=$(cpu_seconds "$mon")
	[ -n "$qemu" ] && read -r -a q2 < <(qemu_cpu "$qemu")
	timed t "$pm" wait "$id" || run_failed "$v: podman wait"
	t1=$EPOCHREALTIME
	read -r span bytes records < <(python3 "$CK_SOURCE_ROOT/tests/bench/logspan.py" "$log" BENCH-START BENCH-END) ||
		bench_die "$v: cannot read the markers in $log"
	# `head -c` ends mid-line; the `echo` after it adds one newline
	[ "$bytes" = $((PAYLOAD + 1)) ] ||
		bench_die "$v: the log holds $bytes payload bytes, the container wrote $((PAYLOAD + 1))"
	read -r u0 u1 < <(sed -n 's/.* stdout F BENCH-PRODUCE \([0-9.]*\) \([0-9.]*\)$/\1 \2/p' "$log")
	record log_mibps "$v" "$2" "$(awk -v b="$PAYLOAD" -v s="$span" 'BEGIN { printf "%.3f", b / 1048576 / s }')" MiB/s
	record log_span_s "$v" "$2" "$span" s
	local produce
	produce=$(awk -v b="$PAYLOAD" -v a="$u0" -v z="$u1" 'BEGIN { d = z - a; if (d < 0.01) d = 0.01; printf "%.3f", b / 1048576 / d }')
	record produce_mibps "$v" "$2" "$produce" MiB/s
	[ "$v" = ours ] && record log_vs_produce ours "$2" "$(awk -v b="$PAYLOAD" -v s="$span" -v p="$produce" 'BEGIN { printf "%.3f", b / 1048576 / s / p }')"
	record run_s "$v" "$2" "$(seconds_between "$t0" "$t1")" s
	record cpu_s_per_mib "$v" "$2" "$(per_mib "$c0" "$c1")" s
	if [ -n "$qemu" ]; then
		record vcpu_produce_s_per_mib ours "$2" "$(per_mib "${q0[0]}" "${q1[0]}")" s
		record vcpu_relay_s_per_mib ours "$2" "$(per_mib "${q1[0]}" "${q2[0]}")" s
		record qemu_io_relay_s_per_mib ours "$2" "$(per_mib "${q1[1]}" "${q2[1]}")" s
	fi
	record records "$v" "$2" "$records"
	timed t "$pm" rm -f -t 0 "$id" || run_failed "$v: podman rm"
}

bench_interleave tp_one
bench_note "produce: the container's own /proc/uptime, 10 ms resolution (a floor of 0.01 s applies)"
bench_finish
