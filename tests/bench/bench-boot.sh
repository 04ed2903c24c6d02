#!/bin/bash
# bench-boot.sh: how long our VM takes to boot, against bare QEMU booting
# the same kernel.
#
# ours:     `vmctl debug boot` with the build's configuration: QEMU starts,
#           the guest kernel boots, the agent (/init) loads its modules and
#           answers the handshake, then the VM is shut down. Recorded:
#           vmctl's own "boot time" (QEMU started -> agent answered, its
#           monotonic clock) and the wall time of the whole command.
# baseline: the very QEMU command line our VM ran (read once from /proc
#           while an unmeasured `vmctl debug boot` runs): same binary,
#           machine, accelerator, CPU model, memory, kernel and kernel
#           command line; without the agent channel, the QMP monitors and
#           the shared folder; with an initrd whose /init only powers the
#           guest off (bare-init.c). Timed from starting QEMU to its exit.
#
# So "boot" compares launch -> agent handshake with launch -> a trivial
# init has run and the VM is gone: the ratio is what our devices, agent,
# modules and handshake add on top of booting the kernel at all.
. "$CK_SOURCE_ROOT/tests/bench/lib.sh"

: "${CK_BENCH_BARE_INITRD:?}"
[ -s "$CK_BENCH_BARE_INITRD" ] || { echo "missing $CK_BENCH_BARE_INITRD (meson compile bench-bare-initrd)" >&2; exit 1; }

bench_setup boot "VM boot: QEMU launch to agent handshake, against bare QEMU + the same kernel" \
	"vmctl debug boot (QEMU, guest kernel, agent)" \
	"bare QEMU, same command line and kernel, /init powers off"
bench_metric boot_s s lower "launch to ready (ours: agent answered; base: VM off)"
bench_metric wall_s s lower "whole command (ours incl. config, shutdown)"
bench_metric guest_kernel_s s lower "ours, guest clock: kernel start to /init"
bench_metric guest_init_s s lower "ours, guest clock: /init to agent ready"

VMCTL_BOOT=("$VMCTL" --config "$CK_TEST_CONFIG" --root "$B_ROOT/v" debug boot)

# Boots once, unmeasured, and copies our QEMU's argv into QEMU_ARGV.
capture_qemu_argv() {
	local pid qpid i
	"${VMCTL_BOOT[@]}" >"$B_TMP/capture.out" 2>&1 &
	pid=$!
	for i in $(seq 1 1500); do
		qpid=$(pgrep -f -- "^[^ ]*qemu-system[^ ]* .*$B_ROOT/v/debug/" | head -1)
		[ -n "$qpid" ] && mapfile -d '' QEMU_ARGV <"/proc/$qpid/cmdline" 2>/dev/null && [ ${#QEMU_ARGV[@]} -gt 0 ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	wait "$pid" || { cat "$B_TMP/capture.out" >&2; bench_die "vmctl debug boot failed"; }
	[ "${#QEMU_ARGV[@]}" -gt 0 ] || bench_die "could not read our QEMU's command line"
}

# QEMU_ARGV -> BARE_ARGV: drop our devices, monitors, share, pidfile and
# console; the bare initrd; a console file of our own.
build_bare_argv() {
	local i=0 opt
	BARE_ARGV=()
	while [ "$i" -lt "${#QEMU_ARGV[@]}" ]; do
		opt=${QEMU_ARGV[i]}
		case $opt in
		-name | -device | -chardev | -mon | -fsdev | -netdev | -pidfile | -serial)
			i=$((i + 2))
			continue
			;;
		-initrd)
			BARE_ARGV+=(-initrd "$CK_BENCH_BARE_INITRD")
			i=$((i + 2))
			continue
			;;
		esac
		BARE_ARGV+=("$opt")
		i=$((i + 1))
	done
	BARE_CONSOLE="$B_TMP/bare-console.log"
	BARE_ARGV+=(-chardev "file,id=console0,path=$BARE_CONSOLE" -serial chardev:console0)
}

# value after LABEL in vmctl's report, e.g. "boot time:     2.32 s ..." -> 2.32
report_value() { # SED_REGEX
	sed -n "s/$1/\1/p" "$B_TMP/out" | head -1
}

boot_one() { # variant run
	local t v
	if [ "$1" = ours ]; then
		timed t "${VMCTL_BOOT[@]}" || run_failed "vmctl debug boot"
		v=$(report_value '^boot time: *\([0-9.]*\) s.*')
		[ -n "$v" ] || { cat "$B_TMP/out" >&2; bench_die "no boot time in vmctl's report"; }
		record boot_s ours "$2" "$v" s
		record wall_s ours "$2" "$t" s
		record guest_kernel_s ours "$2" "$(report_value '.*kernel to \/init *\([0-9.]*\) s.*')" s
		record guest_init_s ours "$2" "$(report_value '.*\/init to ready *\([0-9.]*\) s.*')" s
	else
		rm -f "$BARE_CONSOLE"
		timed t "${BARE_ARGV[@]}" || run_failed "bare QEMU"
		if ! grep -q -e 'Power down' -e 'Restarting system' "$BARE_CONSOLE" || grep -q 'Kernel panic' "$BARE_CONSOLE"; then
			sed 's/^/#   /' "$BARE_CONSOLE" >&2
			bench_die "the bare VM did not power off through its /init"
		fi
		record boot_s baseline "$2" "$t" s
		record wall_s baseline "$2" "$t" s
	fi
}

capture_qemu_argv
build_bare_argv
bench_log "baseline command: $(printf '%q ' "${BARE_ARGV[@]}" | cut -c1-400)..."
bench_interleave boot_one
bench_note "baseline: launch to exit of QEMU with our command line, minus agent channel/QMP/share, and an /init that only powers off"
bench_note "guest clock rows: vmctl's report of the agent's own timestamps (ours only, context)"
bench_finish
