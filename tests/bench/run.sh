#!/bin/bash
# tests/bench/run.sh: runs the benchmarks by hand.
#
#   tests/bench/run.sh [-C BUILD_DIR] [BENCHMARK...]
#
# BENCHMARK is any of boot, podready, start, memory, throughput, exec, network, template (default: all,
# in that order). Builds what they need first (the binaries, the guest
# image, the test rootfs, the boot baseline's initrd), runs each with the
# same environment `meson test --benchmark` gives it, then prints the
# headline ratios of this run. Every benchmark prints its own table and a
# JSON line, and writes BUILD_DIR/tests/bench/results/NAME.json; this
# script also collects them into results/all.jsonl.
#
# Knobs (environment): BENCH_RUNS (measured runs per variant, default 5),
# BENCH_WARMUP (discarded runs per variant, default 1), BENCH_SETTLE_S
# (memory), BENCH_THROUGHPUT_MIB (throughput). Needs root, like the e2e
# tests. The numbers mean something only on an otherwise idle machine.
set -uo pipefail

ALL=(boot podready start memory throughput exec network template)
src=$(cd "$(dirname "$0")/../.." && pwd)
build="$src/build"

usage() {
	echo "usage: tests/bench/run.sh [-C BUILD_DIR] [boot|podready|start|memory|throughput|exec|network|template ...]" >&2
	exit 2
}

while getopts C:h opt; do
	case $opt in
	C) build=$(realpath -m "$OPTARG") ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
selected=("$@")
[ ${#selected[@]} -eq 0 ] && selected=("${ALL[@]}")
for b in "${selected[@]}"; do
	[[ " ${ALL[*]} " == *" $b "* ]] || { echo "run.sh: unknown benchmark '$b' (one of: ${ALL[*]})" >&2; exit 2; }
done

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$src" >&2 || exit 1
fi
meson compile -C "$build" >&2 &&
	meson compile -C "$build" guest-image test-rootfs bench-bare-initrd >&2 ||
	{ echo "run.sh: build failed" >&2; exit 1; }

# the environment tests/meson.build and tests/bench/meson.build give them
export CK_SOURCE_ROOT="$src" CK_BUILD_ROOT="$build"
export CK_TEST_CONFIG="$build/contrib/configuration-build.toml"
export CK_TEST_ROOTFS="$build/tests/lib/rootfs"
export CK_BENCH_BARE_INITRD="$build/tests/bench/bare-initrd.img"
export CK_BENCH_RESULTS="$build/tests/bench/results"
export CK_CRIO_SAMPLES="$src/tests/data/crio-1.26"
mkdir -p "$CK_BENCH_RESULTS"

start=$EPOCHSECONDS
failed=()
results=()
for b in "${selected[@]}"; do
	rm -f "$CK_BENCH_RESULTS/$b.json"
	bash "$src/tests/bench/bench-$b.sh"
	status=$?
	[ $status -eq 130 ] && { echo "run.sh: interrupted" >&2; exit 130; }
	if [ $status -ne 0 ] || [ ! -s "$CK_BENCH_RESULTS/$b.json" ]; then
		failed+=("$b")
	elif [ "$b" != template ]; then # its own summary, printed above
		results+=("$CK_BENCH_RESULTS/$b.json")
	fi
	echo
done

if [ ${#results[@]} -gt 0 ]; then
	cat "${results[@]}" >"$CK_BENCH_RESULTS/all.jsonl"
	echo "== summary: medians of ${BENCH_RUNS:-5} interleaved runs, ratio ours/baseline ($((EPOCHSECONDS - start)) s in all)"
	python3 "$src/tests/bench/report.py" --summary "${results[@]}"
	echo "results: $CK_BENCH_RESULTS/all.jsonl"
fi
if [ ${#failed[@]} -gt 0 ]; then
	echo "run.sh: failed: ${failed[*]}" >&2
	exit 1
fi
