#!/bin/bash
# bench-template.sh: VM templating (docs/templating.md) against the boot
# path, in one run.
#
# 1. creating the template: `vmctl factory init` on an empty root, the
#    time it prints (a boot, pausing, saving the device state), BENCH_RUNS
#    times;
# 2. podready, start and memory (bench-podready.sh, bench-start.sh,
#    bench-memory.sh: each against conmon + runc, the way CRI-O and Podman
#    drive us) run twice back to back, with the build's configuration (the
#    boot path) and with configuration-template.toml (every VM restored
#    from a template; each benchmark's first, discarded warm-up pod makes
#    it: they share one template folder for the run), their results in
#    results/boot/ and results/template/
#    (BENCH_TEMPLATE_MODES="template" runs only the second, reusing the
#    boot path's results of an earlier run);
# 3. pod ready on the two paths again, interleaved pod by pod (a template
#    pod, a booted pod, ... after one warm-up of each, BENCH_RUNS pairs),
#    each path with its own runtime root kept for the run: the target's
#    ratio, which a drift of the machine between step 2's two podready runs
#    (minutes apart) would move;
# 4. the headline figures side by side: pod ready template/boot, podman run
#    template/conmon+runc, PSS per idle pod.
set -uo pipefail
: "${CK_SOURCE_ROOT:?}" "${CK_BUILD_ROOT:?}" "${CK_TEST_CONFIG:?}"
results=${CK_BENCH_RESULTS:-$CK_BUILD_ROOT/tests/bench/results}
boot_cfg=$CK_TEST_CONFIG
template_cfg=$CK_BUILD_ROOT/contrib/configuration-template.toml
vmctl=$CK_BUILD_ROOT/vmctl/vmctl
runs=${BENCH_RUNS:-5}
root=$(mktemp -d /run/ckbench-template.XXXXXX) || exit 1
trap 'rm -rf "$root"' EXIT

echo "== template: creating the VM template (vmctl factory init on an empty root), $runs runs"
made=()
for i in $(seq 1 "$runs"); do
	"$vmctl" --root "$root" --config "$template_cfg" factory destroy >/dev/null || exit 1
	line=$("$vmctl" --root "$root" --config "$template_cfg" factory init) || { echo "factory init failed" >&2; exit 1; }
	echo "#   run $i: $line"
	made+=("$(sed -n 's/.* made in \([0-9.]*\) s.*/\1/p' <<<"$line")")
done
"$vmctl" --root "$root" --config "$template_cfg" factory destroy >/dev/null
create_s=$(printf '%s\n' "${made[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')

# every benchmark of the template path restores from templates kept in one
# folder for the whole run (each benchmark's own runtime roots come and go)
sed "s|^template_path = .*|template_path = \"$root/factory\"|" "$template_cfg" >"$root/template.toml" || exit 1
template_cfg=$root/template.toml
"$vmctl" --root "$root" --config "$template_cfg" factory init || exit 1

status=0
export CK_BENCH_FLOOR_CONFIG=$boot_cfg
for mode in ${BENCH_TEMPLATE_MODES:-boot template}; do
	cfg=$boot_cfg
	[ $mode = template ] && cfg=$template_cfg
	mkdir -p "$results/$mode"
	for b in podready start memory; do
		echo "== template: $b, $mode path"
		rm -f "$results/$mode/$b.json"
		CK_TEST_CONFIG=$cfg CK_BENCH_RESULTS=$results/$mode bash "$CK_SOURCE_ROOT/tests/bench/bench-$b.sh" || status=1
	done
done
[ $status -eq 0 ] || { echo "bench-template: a benchmark failed" >&2; exit 1; }

echo "== template: pod ready, template and boot path interleaved, $runs pairs"
mkdir -p "$root/pair/boot" "$root/pair/template"
: >"$root/pair/samples"
for i in $(seq 0 "$runs"); do
	for mode in template boot; do
		cfg=$boot_cfg
		[ $mode = template ] && cfg=$template_cfg
		# the root in the environment: podready.py waits for every process
		# whose command line names it
		if ! CK_TEST_CONFIG=$cfg CK_BENCH_RUNTIME_ROOT=$root/pair/$mode unshare --mount --propagation private \
			python3 "$CK_SOURCE_ROOT/tests/bench/podready.py" ours "$root/pair/out" >"$root/pair/log" 2>&1; then
			sed 's/^/#   /' "$root/pair/log" >&2
			echo "bench-template: podready.py ($mode path) failed" >&2
			exit 1
		fi
		v=$(awk '$1 == "ready_s" { print $2 }' "$root/pair/out")
		if [ "$i" -eq 0 ]; then
			echo "#   warm-up: $mode $v"
		else
			echo "$mode $v" >>"$root/pair/samples"
			echo "#   pair $i: $mode $v"
		fi
	done
done

python3 - "$results" "$create_s" "$root/pair/samples" <<'PY'
import json, os, statistics, sys
res, create_s, pairs = sys.argv[1], sys.argv[2], sys.argv[3]


def med(mode, bench, key, variant):
    with open(os.path.join(res, mode, bench + '.json')) as f:
        doc = json.load(f)
    m = doc['metrics'][key]
    return m[variant]['median']


rows = [
    ('template creation (vmctl factory init), s', float(create_s), None),
    ('pod ready, boot path, s', med('boot', 'podready', 'ready_s', 'ours'), None),
    ('pod ready, from the template, s', med('template', 'podready', 'ready_s', 'ours'), None),
    ('pod ready, conmon + runc, s', med('template', 'podready', 'ready_s', 'baseline'), None),
    ('podman run --rm true, boot path, s', med('boot', 'start', 'start_s', 'ours'), None),
    ('podman run --rm true, from the template, s', med('template', 'start', 'start_s', 'ours'), None),
    ('podman run --rm true, conmon + runc, s', med('template', 'start', 'start_s', 'baseline'), None),
    ('PSS per idle pod, boot path, MiB', med('boot', 'memory', 'pss_total_mib', 'ours'), None),
    ('PSS per idle pod, from the template, MiB', med('template', 'memory', 'pss_total_mib', 'ours'), None),
]
samples = {'template': [], 'boot': []}
with open(pairs) as f:
    for line in f:
        mode, v = line.split()
        samples[mode].append(float(v))
pt, pb = statistics.median(samples['template']), statistics.median(samples['boot'])
rows += [('pod ready interleaved, boot path, s', pb, None), ('pod ready interleaved, from the template, s', pt, None)]
for name, v, _ in rows:
    print(f'{name:48s} {v:8.3f}')
t, b = rows[2][1], rows[1][1]
print(f'pod ready, separate runs: template / boot path = {t / b:.3f}')
print(f'pod ready, interleaved pairs: template / boot path = {pt / pb:.3f} (target <= 0.25), '
      f'template {pt:.3f} s (target <= 0.5 s)')
print(f'podman run --rm true: template / conmon+runc = {rows[5][1] / rows[6][1]:.2f} (target <= 1.5)')
print(f'PSS per idle pod from the template: {rows[8][1]:.1f} MiB (target <= 48)')
summary = {'bench': 'template', 'create_s': float(create_s), 'ready_template_s': t, 'ready_boot_s': b,
           'ready_pairs_template_s': pt, 'ready_pairs_boot_s': pb, 'ready_pairs': samples,
           'start_template_s': rows[5][1], 'start_runc_s': rows[6][1], 'pss_template_mib': rows[8][1],
           'pss_boot_mib': rows[7][1]}
with open(os.path.join(res, 'template.json'), 'w') as f:
    f.write(json.dumps(summary) + '\n')
PY
