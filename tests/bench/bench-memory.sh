#!/bin/bash
# bench-memory.sh: host memory of idle containers, ours against runc.
#
# Each run starts BENCH_MEMORY_PODS containers (default 1; the issue's
# target is per pod over 10) running `sleep`, one after the other, waits
# BENCH_SETTLE_S seconds (default 3) so that the boots are over, then, per
# container, sums the proportional
# set size (Pss in /proc/PID/smaps_rollup) of every host process that
# belongs to it: the monitor Podman reports (.State.ConmonPid) and all its
# descendants, plus anything else whose command line names the container.
#   ours:     the pod monitor (conmon-kata), QEMU, the stand-in process
#   baseline: conmon and the container's own processes (runc has exited)
# For ours it also splits QEMU's PSS (guest RAM touched so far, the kernel
# image QEMU keeps mapped, TCG's code buffer, the rest) and asks the guest
# for MemTotal and MemAvailable, for context. Every figure is the sum over
# the containers divided by their number. BENCH_GUEST_MIB sets the guests'
# memory (default_memory) for the run. The containers are removed before the
# next run.
. "$CK_SOURCE_ROOT/tests/bench/lib.sh"

BENCH_SETTLE_S=${BENCH_SETTLE_S:-3}
BENCH_MEMORY_PODS=${BENCH_MEMORY_PODS:-1}
case $BENCH_MEMORY_PODS in '' | *[!0-9]* | 0) echo "BENCH_MEMORY_PODS must be a positive integer" >&2; exit 1 ;; esac
KERNEL_PATH=$(sed -n 's/^kernel *= *"\(.*\)".*/\1/p' "$CK_TEST_CONFIG" | head -1)

bench_setup memory "host memory (PSS) per idle container (sleep), $BENCH_MEMORY_PODS at once, ${BENCH_SETTLE_S} s after the last start" \
	"Podman + conmon-kata + vmctl (a VM per container)" "Podman + conmon + runc"
bench_metric pss_total_mib MiB lower "PSS, all of the container's host processes"
bench_metric pss_procs_mib MiB lower "PSS without QEMU (monitor, stand-in / conmon, ctr)"
bench_metric pss_qemu_mib MiB lower "ours: PSS of QEMU"
bench_metric qemu_guest_ram_mib MiB lower "ours: QEMU: guest RAM touched"
bench_metric qemu_kernel_file_mib MiB lower "ours: QEMU: kernel image kept mapped"
bench_metric qemu_tcg_code_mib MiB lower "ours: QEMU: TCG translated code"
bench_metric guest_memtotal_mib MiB higher "ours: guest MemTotal"
bench_metric guest_memavailable_mib MiB higher "ours: guest MemAvailable"
# BENCH_GUEST_MIB: the guests' memory (default_memory) for this run
if [ -n "${BENCH_GUEST_MIB:-}" ]; then
	sed "s/^default_memory = .*/default_memory = $BENCH_GUEST_MIB/" "$CK_TEST_CONFIG" >"$B_TMP/config.toml"
	CK_TEST_CONFIG=$B_TMP/config.toml
fi
bench_note "guest memory: $(sed -n 's/^default_memory = //p' "$CK_TEST_CONFIG") MiB per VM; figures are per container, averaged over $BENCH_MEMORY_PODS running at once"
bench_podman_setup

# qemu_breakdown PID: "guest_ram kernel_file tcg_code" PSS in KiB, from
# smaps: big anonymous (or memfd: a memory backend; or a VM template's
# memory file, docs/templating.md) non-executable mappings are guest RAM,
# mappings of
# the kernel file are the image QEMU loaded it from, anonymous executable
# ones are TCG's translation buffer.
qemu_breakdown() {
	awk -v kernel="$KERNEL_PATH" '
		/^[0-9a-f]+-[0-9a-f]+ / { perms = $2; path = $6; cls = ""; next }
		/^Size:/ {
			if (path == kernel) cls = "kernel"
			else if (path == "" && perms ~ /x/) cls = "code"
			else if ((path == "" || path ~ /^\/memfd:/ || path ~ /\/factory\/[0-9a-f]+\/memory$/) && $2 >= 65536) cls = "ram"
		}
		/^Pss:/ && cls != "" { pss[cls] += $2 }
		END { printf "%d %d %d\n", pss["ram"], pss["kernel"], pss["code"] }
	' "/proc/$1/smaps" 2>/dev/null
}

# meminfo_mib FIELD: from $B_TMP/out (the guest's /proc/meminfo)
meminfo_mib() { awk -v f="$1:" '$1 == f { printf "%.1f", $2 / 1024 }' "$B_TMP/out"; }

# measure_one VARIANT NAME: adds the PSS (KiB) of container NAME's host
# processes to TOTAL and QEMU (and QEMU's split to RAM KFILE CODE); the
# guest's meminfo into GUEST_TOTAL and GUEST_AVAIL (MiB); their names to COMMS
measure_one() {
	local v=$1 name=$2 t conmon id pids p k qpid="" r kf c
	conmon=$(inspect "$v" "$name" '{{.State.ConmonPid}}')
	id=$(inspect "$v" "$name" '{{.Id}}')
	if ! [ "$conmon" -gt 0 ] 2>/dev/null; then
		bench_die "$v: no monitor pid for $name"
	fi
	pids=$({ pid_tree "$conmon"; pgrep -f -- "$id"; } | sort -un)
	for p in $pids; do
		k=$(pss_kib "$p")
		TOTAL=$((TOTAL + k))
		COMMS+=("$(cat "/proc/$p/comm" 2>/dev/null)")
		case ${COMMS[-1]} in qemu-system*)
			QEMU=$((QEMU + k))
			qpid=$p
			;;
		esac
	done
	[ "$v" = ours ] || return 0
	[ -n "$qpid" ] || bench_die "ours: no QEMU among the container's processes (${COMMS[*]})"
	read -r r kf c <<<"$(qemu_breakdown "$qpid")"
	RAM=$((RAM + r)) KFILE=$((KFILE + kf)) CODE=$((CODE + c))
	timed t "$PM_OURS" exec "$name" cat /proc/meminfo || run_failed "ours: exec cat /proc/meminfo"
	GUEST_TOTAL=$(meminfo_mib MemTotal) GUEST_AVAIL=$(meminfo_mib MemAvailable)
}

# per_pod KIB: MiB per pod
per_pod() { kib_to_mib $(($1 / BENCH_MEMORY_PODS)); }

mem_one() { # variant run
	local v=$1 t i names=()
	TOTAL=0 QEMU=0 RAM=0 KFILE=0 CODE=0 COMMS=()
	for i in $(seq 1 "$BENCH_MEMORY_PODS"); do
		names+=("mem-$v-$2-$i")
		timed t "$(pm_for "$v")" run -d --name "${names[-1]}" "${BENCH_ULIMITS[@]}" "$BENCH_IMAGE" sleep 100000 ||
			run_failed "$v: podman run -d"
	done
	sleep "$BENCH_SETTLE_S"
	for i in "${names[@]}"; do
		measure_one "$v" "$i"
	done
	record pss_total_mib "$v" "$2" "$(per_pod $TOTAL)" MiB
	record pss_procs_mib "$v" "$2" "$(per_pod $((TOTAL - QEMU)))" MiB
	if [ "$v" = ours ]; then
		record pss_qemu_mib ours "$2" "$(per_pod $QEMU)" MiB
		record qemu_guest_ram_mib ours "$2" "$(per_pod "$RAM")" MiB
		record qemu_kernel_file_mib ours "$2" "$(per_pod "$KFILE")" MiB
		record qemu_tcg_code_mib ours "$2" "$(per_pod "$CODE")" MiB
		record guest_memtotal_mib ours "$2" "$GUEST_TOTAL" MiB
		record guest_memavailable_mib ours "$2" "$GUEST_AVAIL" MiB
	fi
	[ "$2" = 1 ] && bench_note "$v counts: $(printf '%s\n' "${COMMS[@]}" | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')"
	timed t "$(pm_for "$v")" rm -f -t 0 "${names[@]}" || run_failed "$v: podman rm"
}

bench_interleave mem_one
bench_note "PSS splits pages shared between processes; QEMU's kernel-image pages are shared by every VM on the host, so per-pod PSS falls as pods are added"
bench_finish
