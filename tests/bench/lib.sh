# tests/bench/lib.sh: what the benchmark scripts share.
#
# A benchmark sources this file, calls `bench_setup`, declares its metrics
# with `bench_metric`, runs its two variants with `bench_interleave` (ours,
# then the baseline, N times: A B A B ... so that drift in the machine's
# speed hits both alike), records each measurement with `bench_sample`, and
# ends with `bench_finish`, which prints the table and writes the JSON
# (report.py). Nothing here asserts on a time: a benchmark fails only when
# a run itself fails.
#
# Isolation and cleanup: every benchmark gets its own runtime root
# ($B_ROOT, short, under /run: the pod directory holds UNIX sockets) and
# scratch dir ($B_TMP). On exit, for any reason (a failed run, Ctrl-C,
# meson's timeout), the cleanup hooks run (Podman removes its containers),
# then every process whose command line mentions either directory (QEMU,
# monitors, stand-ins, conmon) is killed, their mounts are undone and both
# directories are removed.
#
# Environment (set by meson or run.sh): CK_BUILD_ROOT, CK_SOURCE_ROOT,
# CK_TEST_CONFIG (configuration for the build tree's guest image),
# CK_TEST_ROOTFS (the busybox-static rootfs), CK_BENCH_RESULTS (where the
# JSON goes). Knobs: BENCH_RUNS (measured runs per variant, default 5),
# BENCH_WARMUP (discarded runs per variant first, default 1).

set -u
export LC_ALL=C # EPOCHREALTIME and printf use '.' as the decimal point

: "${CK_BUILD_ROOT:?run through meson test --benchmark or tests/bench/run.sh}"
: "${CK_SOURCE_ROOT:?run through meson test --benchmark or tests/bench/run.sh}"
: "${CK_TEST_CONFIG:?}"
VMCTL="$CK_BUILD_ROOT/vmctl/vmctl"
CONMON_KATA="$CK_BUILD_ROOT/conmon-kata/conmon-kata"
BENCH_RESULTS=${CK_BENCH_RESULTS:-$CK_BUILD_ROOT/tests/bench/results}
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_WARMUP=${BENCH_WARMUP:-1}
BENCH_IMAGE=localhost/ck-bench-busybox
# Podman's default RLIMIT_NOFILE (1048576) is above this machine's hard
# limit, and runc refuses to raise limits; the same values go to both
# variants.
BENCH_ULIMITS=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
# Every single client call is bounded, so a hung run cannot hang the
# benchmark until meson's timeout.
BENCH_CALL_TIMEOUT=${BENCH_CALL_TIMEOUT:-300}

B_CLEANUP_HOOKS=()

bench_die() {
	echo "bench $B_NAME: $*" >&2
	exit 1
}

bench_log() { echo "# $*"; }

# ---------------------------------------------------------------------------
# set-up and cleanup

# bench_setup NAME TITLE OURS_LABEL BASELINE_LABEL
bench_setup() {
	B_NAME=$1
	case $BENCH_RUNS in '' | *[!0-9]* | 0) echo "BENCH_RUNS must be a positive integer" >&2; exit 1 ;; esac
	case $BENCH_WARMUP in '' | *[!0-9]*) echo "BENCH_WARMUP must be an integer" >&2; exit 1 ;; esac
	B_ROOT=$(mktemp -d /run/ckb.XXXXXX)
	B_TMP=$(mktemp -d /tmp/ck-bench.XXXXXX)
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	B_SAMPLES="$B_TMP/samples.tsv"
	mkdir -p "$BENCH_RESULTS"
	{
		printf 'meta\tbenchmark\t%s\n' "$1"
		printf 'meta\ttitle\t%s\n' "$2"
		printf 'meta\tours\t%s\n' "$3"
		printf 'meta\tbaseline\t%s\n' "$4"
		printf 'meta\truns\t%s\n' "$BENCH_RUNS"
		printf 'meta\twarmup\t%s\n' "$BENCH_WARMUP"
		printf 'meta\tcpus\t%s\n' "$(nproc)"
		printf 'meta\thost_kernel\t%s\n' "$(uname -r)"
		printf 'meta\taccel\t%s\n' "$(sed -n 's/^accel *= *"\(.*\)".*/\1/p' "$CK_TEST_CONFIG")"
		printf 'meta\tqemu\t%s\n' "$(qemu_version)"
		printf 'meta\tcommit\t%s\n' "$(git -C "$CK_SOURCE_ROOT" rev-parse --short=12 HEAD 2>/dev/null)"
		printf 'meta\tdate\t%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	} >"$B_SAMPLES"
	echo "== $B_NAME: $2"
	echo "   ours: $3; baseline: $4"
	echo "   $BENCH_RUNS measured runs of each, interleaved, after $BENCH_WARMUP discarded warm-up run(s) of each"
}

qemu_version() {
	local path
	path=$(sed -n 's/^path *= *"\(.*\)".*/\1/p' "$CK_TEST_CONFIG" | head -1)
	"${path:-qemu-system-x86_64}" --version 2>/dev/null | head -1
}

# bench_on_cleanup FUNCTION: runs FUNCTION first on exit (LIFO)
bench_on_cleanup() { B_CLEANUP_HOOKS=("$1" "${B_CLEANUP_HOOKS[@]}"); }

# pids of processes whose command line mentions one of our directories
our_pids() {
	{
		pgrep -f -- "$B_ROOT"
		pgrep -f -- "$B_TMP"
	} 2>/dev/null | sort -u | grep -vx -e "$$" -e "$BASHPID"
}

any_alive() { # PID...
	local p
	for p in "$@"; do
		kill -0 "$p" 2>/dev/null && return 0
	done
	return 1
}

bench_cleanup() {
	local status=$? hook pids i
	trap - INT TERM
	# a command still running (we were interrupted): TERM first, through
	# timeout(1), so that Podman or vmctl can end it properly
	pids=$(jobs -p)
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		kill -TERM $pids 2>/dev/null
		for i in $(seq 1 100); do
			# shellcheck disable=SC2086
			any_alive $pids || break
			sleep 0.1
		done
	fi
	for hook in "${B_CLEANUP_HOOKS[@]}"; do
		"$hook" >/dev/null 2>&1 || echo "bench $B_NAME: cleanup: $hook failed" >&2
	done
	pids=$(our_pids)
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		kill -KILL $pids 2>/dev/null
		for i in $(seq 1 100); do
			[ -z "$(our_pids)" ] && break
			sleep 0.05
		done
	fi
	grep -F -e " $B_ROOT/" -e " $B_TMP/" /proc/self/mountinfo | awk '{ print $5 }' | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf "$B_ROOT" "$B_TMP" || echo "bench $B_NAME: cleanup: could not remove $B_ROOT or $B_TMP" >&2
	exit $status
}

# ---------------------------------------------------------------------------
# measuring

# bench_metric KEY UNIT lower|higher DESCRIPTION: declares a metric (the
# table lists them in this order). A metric sampled for one variant only is
# context, shown without a ratio.
bench_metric() {
	printf 'metric\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$B_SAMPLES"
}

# bench_sample KEY ours|baseline VALUE
bench_sample() {
	printf 'sample\t%s\t%s\t%s\n' "$1" "$2" "$3" >>"$B_SAMPLES"
}

# bench_note TEXT: a line printed under the table and kept in the JSON
bench_note() {
	printf 'note\t%s\n' "$1" >>"$B_SAMPLES"
}

# seconds_between T0 T1 (EPOCHREALTIME values)
seconds_between() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", b - a }'
}

# timed VAR COMMAND...: runs COMMAND, its stdout in $B_TMP/out and stderr in
# $B_TMP/err, and sets VAR to its wall time in seconds. Returns COMMAND's
# status. The command runs in the background and is waited for, so that a
# signal reaches our trap at once rather than when the command ends.
timed() {
	local var=$1 t0 t1 rc
	shift
	t0=$EPOCHREALTIME
	timeout "$BENCH_CALL_TIMEOUT" "$@" >"$B_TMP/out" 2>"$B_TMP/err" &
	wait $!
	rc=$?
	t1=$EPOCHREALTIME
	printf -v "$var" '%s' "$(seconds_between "$t0" "$t1")"
	return $rc
}

# run_failed WHAT: ends the benchmark, showing the failed command's stderr
run_failed() {
	sed 's/^/#   /' "$B_TMP/err" >&2
	bench_die "$1 failed"
}

# bench_interleave FUNCTION: FUNCTION ours; FUNCTION baseline; ... first
# BENCH_WARMUP times with B_WARMUP=1 (the function records nothing then),
# then BENCH_RUNS times. FUNCTION gets the variant and the run number.
bench_interleave() {
	local fn=$1 i
	B_WARMUP=1
	for i in $(seq 1 "$BENCH_WARMUP"); do
		"$fn" ours "w$i"
		"$fn" baseline "w$i"
	done
	B_WARMUP=0
	for i in $(seq 1 "$BENCH_RUNS"); do
		"$fn" ours "$i"
		"$fn" baseline "$i"
	done
}

# record KEY VARIANT RUN VALUE [UNIT]: bench_sample unless warming up, and a
# progress line either way
record() {
	local tag=""
	[ "$B_WARMUP" = 1 ] && tag=" (warm-up, discarded)"
	[ "$B_WARMUP" = 1 ] || bench_sample "$1" "$2" "$4"
	printf '#   run %-3s %-8s %-22s %s %s%s\n' "$3" "$2" "$1" "$4" "${5:-}" "$tag"
}

bench_finish() {
	python3 "$CK_SOURCE_ROOT/tests/bench/report.py" "$B_SAMPLES" --json "$BENCH_RESULTS/$B_NAME.json" ||
		bench_die "report failed"
}

# ---------------------------------------------------------------------------
# Podman, as tests/e2e/podman.sh drives it: a Podman of our own (storage,
# runroot and tmpdir under our directories, cgroupfs, file events), the
# busybox-static test rootfs imported as an image. Two wrappers share that
# storage: $PM_OURS (vmctl as the runtime, conmon-kata as conmon) and
# $PM_BASE (Debian's runc and conmon).

write_podman_wrappers() { # storage driver
	local common=(podman --root "$B_TMP/storage" --runroot "$B_ROOT/runroot" --tmpdir "$B_ROOT/tmp"
		--cgroup-manager cgroupfs --events-backend file --storage-driver "$1")
	PM_OURS="$B_TMP/pm-ours"
	PM_BASE="$B_TMP/pm-baseline"
	write_wrapper "$PM_OURS" "${common[@]}" --runtime "$VMCTL" --conmon "$CONMON_KATA" \
		--runtime-flag "config=$CK_TEST_CONFIG" --runtime-flag "root=$B_ROOT/v"
	write_wrapper "$PM_BASE" "${common[@]}" --runtime "$(command -v runc)" --conmon "$(command -v conmon)"
}

write_wrapper() { # FILE COMMAND...
	local file=$1
	shift
	{
		echo '#!/bin/sh'
		printf 'exec'
		printf ' %q' "$@"
		echo ' "$@"'
	} >"$file"
	chmod +x "$file"
}

# pm_for ours|baseline: the wrapper for that variant
pm_for() { if [ "$1" = ours ]; then echo "$PM_OURS"; else echo "$PM_BASE"; fi; }

# each wrapper removes what it can; then nothing may be left
podman_cleanup() {
	timeout 120 "$PM_OURS" rm -af -t 0
	timeout 120 "$PM_BASE" rm -af -t 0
	[ -z "$(timeout 60 "$PM_BASE" ps -aq 2>&1)" ]
}

bench_podman_setup() {
	: "${CK_TEST_ROOTFS:?}"
	command -v podman >/dev/null || bench_die "podman is not installed"
	if ! command -v runc >/dev/null || ! command -v conmon >/dev/null; then
		bench_die "the baseline needs runc and conmon"
	fi
	write_podman_wrappers overlay
	bench_on_cleanup podman_cleanup
	if ! import_image; then
		# overlay on overlay (a container's /tmp) does not mount: vfs
		"$PM_OURS" system reset -f >/dev/null 2>&1
		rm -rf "$B_TMP/storage"
		write_podman_wrappers vfs
		import_image || { sed 's/^/#   /' "$B_TMP/import.log" >&2; bench_die "cannot import $CK_TEST_ROOTFS"; }
	fi
}

import_image() {
	tar -C "$CK_TEST_ROOTFS" -c . | "$PM_OURS" import - "$BENCH_IMAGE" >"$B_TMP/import.log" 2>&1
}

# inspect VARIANT CONTAINER FORMAT
inspect() { "$(pm_for "$1")" inspect --format "$3" "$2" 2>/dev/null; }

# ---------------------------------------------------------------------------
# memory

# pid_tree PID: PID and all its descendants, one per line
pid_tree() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			keep[root] = 1
			for (changed = 1; changed; ) {
				changed = 0
				for (p in parent)
					if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; changed = 1 }
			}
			for (p in keep) print p
		}'
}

# pss_kib PID: proportional set size in KiB (0 if the process is gone)
pss_kib() {
	local v
	v=$(awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null)
	echo "${v:-0}"
}

kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# ---------------------------------------------------------------------------
# the floor: bare QEMU with our command line and kernel, into an initrd
# whose /init (bare-init.c) only powers off. Needs CK_BENCH_BARE_INITRD.

# Boots once, unmeasured, and copies our QEMU's argv into QEMU_ARGV.
capture_qemu_argv() {
	local pid qpid i
	# a booted VM's (bench-template.sh runs podready with VMs restored
	# from a template, but the floor stays the boot path's)
	VMCTL_BOOT=("$VMCTL" --config "${CK_BENCH_FLOOR_CONFIG:-$CK_TEST_CONFIG}" --root "$B_ROOT/v" debug boot)
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

# bare_argv VAR [KERNEL]: QEMU_ARGV without our devices, monitors, share,
# pidfile and console; the bare initrd; KERNEL instead of ours when given;
# a console file of its own ($B_TMP/VAR.console), into the array VAR.
bare_argv() {
	local -n out=$1
	local i=0 opt
	out=()
	while [ "$i" -lt "${#QEMU_ARGV[@]}" ]; do
		opt=${QEMU_ARGV[i]}
		case $opt in
		-name | -device | -chardev | -mon | -fsdev | -netdev | -pidfile | -serial)
			i=$((i + 2))
			continue
			;;
		-initrd) out+=(-initrd "$CK_BENCH_BARE_INITRD") && i=$((i + 2)) && continue ;;
		-kernel) out+=(-kernel "${2:-${QEMU_ARGV[i + 1]}}") && i=$((i + 2)) && continue ;;
		esac
		out+=("$opt")
		i=$((i + 1))
	done
	out+=(-chardev "file,id=console0,path=$B_TMP/$1.console" -serial chardev:console0)
}

# run_floor VAR ARGV_NAME: boots the bare VM ARGV_NAME names, checks that
# its /init powered it off, and sets VAR to QEMU start -> exit in seconds.
run_floor() {
	local -n argv=$2
	local console="$B_TMP/$2.console"
	rm -f "$console"
	timed "$1" "${argv[@]}" || run_failed "bare QEMU ($2)"
	if ! grep -q -e 'Power down' -e 'Restarting system' "$console" || grep -q 'Kernel panic' "$console"; then
		sed 's/^/#   /' "$console" >&2
		bench_die "the bare VM ($2) did not power off through its /init"
	fi
}

# the kernel release of a vmlinux (its "Linux version X" string)
vmlinux_release() {
	LC_ALL=C grep -aom1 'Linux version [^ ]*' "$1" 2>/dev/null | cut -d' ' -f3
}
