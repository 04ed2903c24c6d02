#!/bin/bash
# bench-memory.sh: host memory of one idle container, ours against runc.
#
# Each run starts one container running `sleep`, waits BENCH_SETTLE_S
# seconds (default 3) so that the boot is over, then sums the proportional
# set size (Pss in /proc/PID/smaps_rollup) of every host process that
# belongs to it: the monitor Podman reports (.State.ConmonPid) and all its
# descendants, plus anything else whose command line names the container.
#   ours:     the pod monitor (conmon-kata), QEMU, the stand-in process
#   baseline: conmon and the container's own processes (runc has exited)
# For ours it also splits QEMU's PSS (guest RAM touched so far, the kernel
# image QEMU keeps mapped, TCG's code buffer, the rest) and asks the guest
# for MemTotal and MemAvailable, for context. The container is removed
# before the next run.
. "$CK_SOURCE_ROOT/tests/bench/lib.sh"

BENCH_SETTLE_S=${BENCH_SETTLE_S:-3}
KERNEL_PATH=$(sed -n 's/^kernel *= *"\(.*\)".*/\1/p' "$CK_TEST_CONFIG" | head -1)

bench_setup memory "host memory (PSS) of one idle container (sleep), ${BENCH_SETTLE_S} s after start" \
	"Podman + conmon-kata + vmctl (a VM per container)" "Podman + conmon + runc"
bench_metric pss_total_mib MiB lower "PSS, all of the container's host processes"
bench_metric pss_procs_mib MiB lower "PSS without QEMU (monitor, stand-in / conmon, ctr)"
bench_metric pss_qemu_mib MiB lower "ours: PSS of QEMU"
bench_metric qemu_guest_ram_mib MiB lower "ours: QEMU: guest RAM touched"
bench_metric qemu_kernel_file_mib MiB lower "ours: QEMU: kernel image kept mapped"
bench_metric qemu_tcg_code_mib MiB lower "ours: QEMU: TCG translated code"
bench_metric guest_memtotal_mib MiB higher "ours: guest MemTotal"
bench_metric guest_memavailable_mib MiB higher "ours: guest MemAvailable"
bench_podman_setup

# qemu_breakdown PID: "guest_ram kernel_file tcg_code" PSS in KiB, from
# smaps: big anonymous non-executable mappings are guest RAM, mappings of
# the kernel file are the image QEMU loaded it from, anonymous executable
# ones are TCG's translation buffer.
qemu_breakdown() {
	awk -v kernel="$KERNEL_PATH" '
		/^[0-9a-f]+-[0-9a-f]+ / { perms = $2; path = $6; cls = ""; next }
		/^Size:/ {
			if (path == kernel) cls = "kernel"
			else if (path == "" && perms ~ /x/) cls = "code"
			else if (path == "" && $2 >= 65536) cls = "ram"
		}
		/^Pss:/ && cls != "" { pss[cls] += $2 }
		END { printf "%d %d %d\n", pss["ram"], pss["kernel"], pss["code"] }
	' "/proc/$1/smaps" 2>/dev/null
}

# meminfo_mib FIELD: from $B_TMP/out (the guest's /proc/meminfo)
meminfo_mib() { awk -v f="$1:" '$1 == f { printf "%.1f", $2 / 1024 }' "$B_TMP/out"; }

mem_one() { # variant run
	local v=$1 name="mem-$1-$2" t conmon id pids p k total=0 qemu=0 comms=() qpid=""
	timed t "$(pm_for "$v")" run -d --name "$name" "${BENCH_ULIMITS[@]}" "$BENCH_IMAGE" sleep 100000 ||
		run_failed "$v: podman run -d"
	sleep "$BENCH_SETTLE_S"
	conmon=$(inspect "$v" "$name" '{{.State.ConmonPid}}')
	id=$(inspect "$v" "$name" '{{.Id}}')
	if ! [ "$conmon" -gt 0 ] 2>/dev/null; then
		bench_die "$v: no monitor pid for $name"
	fi
	pids=$({ pid_tree "$conmon"; pgrep -f -- "$id"; } | sort -un)
	for p in $pids; do
		k=$(pss_kib "$p")
		total=$((total + k))
		comms+=("$(cat "/proc/$p/comm" 2>/dev/null)")
		case ${comms[-1]} in qemu-system*)
			qemu=$((qemu + k))
			qpid=$p
			;;
		esac
	done
	record pss_total_mib "$v" "$2" "$(kib_to_mib $total)" MiB
	record pss_procs_mib "$v" "$2" "$(kib_to_mib $((total - qemu)))" MiB
	if [ "$v" = ours ]; then
		[ -n "$qpid" ] || bench_die "ours: no QEMU among the container's processes (${comms[*]})"
		local ram kfile code
		read -r ram kfile code <<<"$(qemu_breakdown "$qpid")"
		record pss_qemu_mib ours "$2" "$(kib_to_mib $qemu)" MiB
		record qemu_guest_ram_mib ours "$2" "$(kib_to_mib "$ram")" MiB
		record qemu_kernel_file_mib ours "$2" "$(kib_to_mib "$kfile")" MiB
		record qemu_tcg_code_mib ours "$2" "$(kib_to_mib "$code")" MiB
		timed t "$PM_OURS" exec "$name" cat /proc/meminfo || run_failed "ours: exec cat /proc/meminfo"
		record guest_memtotal_mib ours "$2" "$(meminfo_mib MemTotal)" MiB
		record guest_memavailable_mib ours "$2" "$(meminfo_mib MemAvailable)" MiB
	fi
	[ "$2" = 1 ] && bench_note "$v counts: $(printf '%s\n' "${comms[@]}" | sort | uniq -c | awk '{ printf "%s%s x%s", sep, $2, $1; sep = ", " }')"
	timed t "$(pm_for "$v")" rm -f -t 0 "$name" || run_failed "$v: podman rm"
}

bench_interleave mem_one
bench_note "PSS splits pages shared between processes; QEMU's kernel-image pages are shared by every VM on the host, so per-pod PSS falls as pods are added"
bench_finish
