#!/bin/bash
# contrib/run-tests.sh: every test suite (unit, integration, end-to-end).
# Builds first if needed. Prints meson's per-test lines, then one summary
# line summed over every TAP result of every suite:
#     N passed, N failed, N skipped
# where "skipped" counts only the skips a host may cause (tests/summarize.py's
# ALLOWED_SKIPS); any other skip is a failure. Exit status 0 only when
# nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.."

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
python3 tests/summarize.py build/meson-logs/testlog.json
