#!/bin/bash
# contrib/run-tests.sh [--sanitized] [MESON TEST ARGS...]: every test suite
# (unit, integration, end-to-end, fuzz). Builds first if needed. Prints
# meson's per-test lines, then one summary line summed over every TAP
# result of every suite:
#     N passed, N failed, N skipped
# where "skipped" counts only the skips a host may cause (tests/summarize.py's
# ALLOWED_SKIPS); any other skip is a failure. Exit status 0 only when
# nothing failed.
#
# --sanitized (CI, .ci/run): then also builds build-asan, the same tree
# with AddressSanitizer and UndefinedBehaviorSanitizer (docs/sanitizers.md),
# runs its unit and integration suites, and sums both builds into the one
# summary line.
set -uo pipefail
cd "$(dirname "$0")/.."

sanitized=0
if [ "${1:-}" = --sanitized ]; then
	sanitized=1
	shift
fi

if ! contrib/install-deps.sh >&2; then
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
if ! { [ -f build/build.ninja ] || meson setup build >&2; } || ! meson compile -C build >&2; then
	echo "build failed"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
rm -f build/meson-logs/testlog.json
meson test -C build --print-errorlogs "$@" >&2
logs=(build/meson-logs/testlog.json)

# The sanitized build shares the guest kernel cache of the first; a build
# that fails leaves no test log, which the summary counts as a failure.
if [ $sanitized -eq 1 ]; then
	rm -f build-asan/meson-logs/testlog.json
	if { [ -f build-asan/build.ninja ] ||
		meson setup build-asan -Db_sanitize=address,undefined -Dfuzzing=disabled \
			-Dguest_cache="$PWD/build/guest/cache" >&2; } && meson compile -C build-asan >&2; then
		meson test -C build-asan --suite unit --suite integration --print-errorlogs >&2
	else
		echo "build-asan: build failed" >&2
	fi
	logs+=(build-asan/meson-logs/testlog.json)
fi
python3 tests/summarize.py "${logs[@]}"
