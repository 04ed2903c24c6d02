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
#
# floor:    the baseline's bare VM (ours) against the same bare VM booting
#           Debian's packaged kernel instead (baseline), when one is at hand
#           (CK_BENCH_DEBIAN_KERNEL, or build-debian/guest/vmlinux).
. "$CK_SOURCE_ROOT/tests/bench/lib.sh"

: "${CK_BENCH_BARE_INITRD:?}"
[ -s "$CK_BENCH_BARE_INITRD" ] || { echo "missing $CK_BENCH_BARE_INITRD (meson compile bench-bare-initrd)" >&2; exit 1; }
OUR_KERNEL=$(sed -n 's/^kernel *= *"\(.*\)".*/\1/p' "$CK_TEST_CONFIG" | head -1)
# Debian's packaged kernel for the floor's baseline: CK_BENCH_DEBIAN_KERNEL,
# or the build directory build-debian/ beside ours (-Dguest_kernel=debian)
DEBIAN_KERNEL=${CK_BENCH_DEBIAN_KERNEL:-$CK_SOURCE_ROOT/build-debian/guest/vmlinux}
[ -s "$DEBIAN_KERNEL" ] || DEBIAN_KERNEL=""

bench_setup boot "VM boot: QEMU launch to agent handshake, against bare QEMU + the same kernel" \
	"vmctl debug boot (QEMU, guest kernel, agent)" \
	"bare QEMU, same command line and kernel, /init powers off"
bench_metric boot_s s lower "launch to ready (ours: agent answered; base: VM off)"
bench_metric wall_s s lower "whole command (ours incl. config, shutdown)"
bench_metric floor_s s lower "floor: bare QEMU + kernel + trivial /init (ours: our kernel; base: Debian's)"
bench_metric guest_kernel_s s lower "ours, guest clock: kernel start to /init"
bench_metric guest_init_s s lower "ours, guest clock: /init to agent ready"

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
		run_floor t FLOOR_OURS
		record boot_s baseline "$2" "$t" s
		record wall_s baseline "$2" "$t" s
		record floor_s ours "$2" "$t" s
		if [ -n "$DEBIAN_KERNEL" ]; then
			run_floor t FLOOR_DEBIAN
			record floor_s baseline "$2" "$t" s
		fi
	fi
}

capture_qemu_argv
bare_argv FLOOR_OURS
bench_log "baseline command: $(printf '%q ' "${FLOOR_OURS[@]}" | cut -c1-400)..."
if [ -n "$DEBIAN_KERNEL" ]; then
	bare_argv FLOOR_DEBIAN "$DEBIAN_KERNEL"
	bench_note "floor: our kernel $(vmlinux_release "$OUR_KERNEL") vs Debian's $(vmlinux_release "$DEBIAN_KERNEL") ($DEBIAN_KERNEL), same command line"
else
	bench_note "floor: no Debian kernel to compare (set CK_BENCH_DEBIAN_KERNEL to a PVH vmlinux, e.g. build-debian/guest/vmlinux)"
fi
bench_interleave boot_one
bench_note "baseline: launch to exit of QEMU with our command line, minus agent channel/QMP/share, and an /init that only powers off"
bench_note "guest clock rows: vmctl's report of the agent's own timestamps (ours only, context)"
bench_finish
