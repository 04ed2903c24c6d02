#!/usr/bin/env python3
"""Turns one benchmark's samples into a readable table and a JSON record.

    report.py SAMPLES.tsv --json OUT.json     one benchmark (lib.sh's bench_finish)
    report.py --summary RESULT.json...        the headline rows of several (run.sh)

SAMPLES.tsv is what tests/bench/lib.sh writes, one record a line, fields
separated by tabs:

    meta    KEY VALUE                       benchmark name, labels, host facts
    metric  KEY UNIT lower|higher DESCRIPTION
    sample  KEY ours|baseline VALUE
    note    TEXT

For every metric and variant it reports the median, the minimum, the
maximum and the number of runs, and for a metric measured on both variants
the ratio ours / baseline of the medians (for "lower is better" metrics a
ratio above 1 means we are slower or bigger; for "higher is better" ones a
ratio below 1 means we are slower). The JSON is a single line, printed last
and written to OUT.json.
"""
import argparse
import json
import os
import statistics
import sys

VARIANTS = ("ours", "baseline")
DECIMALS = {"s": 3, "ms": 1, "MiB": 1, "MiB/s": 1, "KiB": 0, "records": 0}


def read_samples(path):
    meta, metrics, notes = {}, {}, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            kind, rest = fields[0], fields[1:]
            if kind == "meta":
                meta[rest[0]] = rest[1] if len(rest) > 1 else ""
            elif kind == "metric":
                key, unit, better, desc = rest
                metrics[key] = {"unit": unit, "better": better, "description": desc,
                                "ours": [], "baseline": []}
            elif kind == "sample":
                key, variant, value = rest
                if key not in metrics:
                    raise SystemExit(f"report.py: sample for undeclared metric '{key}'")
                metrics[key][variant].append(float(value))
            elif kind == "note":
                notes.append(rest[0])
    return meta, metrics, notes


def stats(values):
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "n": len(values), "samples": values}


def summarise(meta, metrics, notes):
    out = {"benchmark": meta.get("benchmark"), "title": meta.get("title"),
           "ours": meta.get("ours"), "baseline": meta.get("baseline"),
           "runs": int(meta.get("runs", 0)), "warmup_runs": int(meta.get("warmup", 0)),
           "order": "interleaved: ours, baseline, ours, baseline, ... after the warm-up runs",
           "host": {k: meta.get(k) for k in ("cpus", "host_kernel", "accel", "qemu")},
           "commit": meta.get("commit"), "date": meta.get("date"),
           "metrics": {}, "notes": notes}
    for key, m in metrics.items():
        entry = {"unit": m["unit"], "better": m["better"], "description": m["description"]}
        for v in VARIANTS:
            entry[v] = stats(m[v])
        o, b = entry["ours"], entry["baseline"]
        entry["ratio"] = o["median"] / b["median"] if o and b and b["median"] else None
        out["metrics"][key] = entry
    return out


def fmt(value, unit):
    return f"{value:.{DECIMALS.get(unit, 3)}f}"


def print_table(result):
    width = max([len(m["description"]) for m in result["metrics"].values()] + [10])
    print(f"   {'metric':<{width}}  {'unit':<6} {'variant':<9} {'median':>10} {'min':>10} {'max':>10} {'n':>3}")
    for m in result["metrics"].values():
        first = True
        for v in VARIANTS:
            s = m[v]
            if s is None:
                continue
            name = m["description"] if first else ""
            unit = m["unit"] if first else ""
            print(f"   {name:<{width}}  {unit:<6} {v:<9} {fmt(s['median'], m['unit']):>10} "
                  f"{fmt(s['min'], m['unit']):>10} {fmt(s['max'], m['unit']):>10} {s['n']:>3}")
            first = False
        if m["ratio"] is not None:
            direction = "lower is better" if m["better"] == "lower" else "higher is better"
            print(f"   {'':<{width}}  {'':<6} {'ours/base':<9} {m['ratio']:>9.2f}x   ({direction})")
    for note in result["notes"]:
        print(f"   note: {note}")


def summary(paths):
    """One line per ratio metric of each result file: the headline numbers."""
    rows = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                r = json.load(f)
        except (OSError, ValueError) as e:
            print(f"report.py: {path}: {e}", file=sys.stderr)
            continue
        for m in r["metrics"].values():
            if m["ratio"] is None:
                continue
            rows.append((r["benchmark"], m["description"], m["unit"],
                         fmt(m["ours"]["median"], m["unit"]), fmt(m["baseline"]["median"], m["unit"]),
                         f"{m['ratio']:.2f}x", m["ours"]["n"]))
    head = ("benchmark", "metric", "unit", "ours", "baseline", "ours/base", "n")
    widths = [max(len(str(row[i])) for row in rows + [head]) for i in range(len(head))]
    for row in [head] + rows:
        print("  ".join(str(c).ljust(w) if i < 3 else str(c).rjust(w)
                        for i, (c, w) in enumerate(zip(row, widths))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+", help="SAMPLES.tsv, or result JSON files with --summary")
    ap.add_argument("--json", help="write the JSON record here")
    ap.add_argument("--summary", action="store_true", help="headline rows of result JSON files")
    args = ap.parse_args()
    if args.summary:
        summary(args.inputs)
        return 0
    result = summarise(*read_samples(args.inputs[0]))
    print_table(result)
    line = json.dumps(result, sort_keys=False)
    if args.json:
        with open(args.json + ".tmp", "w", encoding="utf-8") as f:
            f.write(line + "\n")
        os.replace(args.json + ".tmp", args.json)
        print(f"   json: {args.json}")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
