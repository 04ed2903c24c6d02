# tests/lib/tap.sh: a small TAP library for the black-box shell tests.
#
# Source it, call `tap_setup` once, then use the assertions; end with
# `tap_done`. Every test gets its own runtime root ($T_ROOT) and scratch
# dir ($T_TMP); on exit, for any reason, every process whose command line
# mentions them (QEMU, monitors, stand-ins) is killed and both are removed,
# so a failing test cannot leak a VM. Waits poll a condition against a
# deadline; nothing sleeps and hopes.
#
# Environment (set by meson): CK_BUILD_ROOT, CK_SOURCE_ROOT,
# CK_TEST_CONFIG (configuration for the build tree's guest image).

set -u

T_COUNT=0
T_FAILED=0
T_SKIPPED=0

: "${CK_BUILD_ROOT:?run through meson test}"
: "${CK_SOURCE_ROOT:?run through meson test}"
VMCTL="$CK_BUILD_ROOT/vmctl/vmctl"
CONMON_KATA="$CK_BUILD_ROOT/conmon-kata/conmon-kata"

tap_cleanup() {
	local status=$?
	if [ -n "${T_ROOT:-}" ]; then
		pkill -KILL -f -- "$T_ROOT" 2>/dev/null
		# wait until they are really gone before removing their files
		local i
		for i in $(seq 1 100); do
			pgrep -f -- "$T_ROOT" >/dev/null 2>&1 || break
			sleep 0.05
		done
		umount -R -l "$T_ROOT" 2>/dev/null
		rm -rf "$T_ROOT"
	fi
	[ -n "${T_TMP:-}" ] && rm -rf "$T_TMP"
	return $status
}

tap_setup() {
	T_ROOT=$(mktemp -d /run/ck-test-root.XXXXXX)
	T_TMP=$(mktemp -d /tmp/ck-test-tmp.XXXXXX)
	trap tap_cleanup EXIT
	trap 'exit 130' INT TERM
}

_tap_result() { # ok|not ok, description, [diagnostics...]
	local verdict=$1 desc=$2
	shift 2
	T_COUNT=$((T_COUNT + 1))
	echo "$verdict $T_COUNT - $desc"
	if [ "$verdict" != ok ]; then
		T_FAILED=$((T_FAILED + 1))
		local line
		for line in "$@"; do
			printf '%s\n' "$line" | sed 's/^/# /'
		done
	fi
}

pass() { _tap_result ok "$1"; }
fail() { _tap_result "not ok" "$@"; }

skip() { # description, reason
	T_COUNT=$((T_COUNT + 1))
	T_SKIPPED=$((T_SKIPPED + 1))
	echo "ok $T_COUNT - $1 # SKIP $2"
}

# assert_eq DESC EXPECTED ACTUAL
assert_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected: $2" "actual:   $3"; fi
}

# assert_ne DESC UNEXPECTED ACTUAL
assert_ne() {
	if [ "$2" != "$3" ]; then pass "$1"; else fail "$1" "both were: $2"; fi
}

# assert_match DESC REGEX TEXT (extended regex, whole text)
assert_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then pass "$1"; else fail "$1" "pattern: $2" "text: $3"; fi
}

# assert_no_match DESC REGEX TEXT
assert_no_match() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then fail "$1" "pattern matched: $2" "text: $3"; else pass "$1"; fi
}

# assert_lines DESC N TEXT: TEXT has exactly N lines
assert_lines() {
	local n
	n=$(printf '%s\n' "$3" | grep -c '')
	[ -z "$3" ] && n=0
	assert_eq "$1" "$2" "$n"
}

# wait_for TIMEOUT_S COMMAND...: polls COMMAND every 50 ms
wait_for() {
	local timeout=$1
	shift
	local deadline=$(($(date +%s%N) + timeout * 1000000000))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
}

# no_qemu_for DESC PATTERN: no QEMU process mentions PATTERN
assert_no_qemu() {
	local left
	left=$(pgrep -af "qemu-system.*$2" || true)
	if [ -z "$left" ]; then pass "$1"; else fail "$1" "still running: $left"; fi
}

# run_capture VAR_PREFIX COMMAND...: sets ${P}_out, ${P}_err, ${P}_rc
run_capture() {
	local prefix=$1
	shift
	local out err rc
	out=$("$@" 2>"$T_TMP/.stderr")
	rc=$?
	err=$(cat "$T_TMP/.stderr")
	printf -v "${prefix}_out" '%s' "$out"
	printf -v "${prefix}_err" '%s' "$err"
	printf -v "${prefix}_rc" '%s' "$rc"
}

tap_done() {
	echo "1..$T_COUNT"
	[ "$T_FAILED" -eq 0 ]
}
