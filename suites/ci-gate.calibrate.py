#!/usr/bin/python3
"""Summarises ci-gate calibration (suites/ci-gate.calibrate.sh output) for several thresholds.

usage: /usr/bin/python3 suites/ci-gate.calibrate.py OUT_DIR [--reps N] [--metric wall|cpu]

For each threshold T and alpha 0.05 it counts:
  A/A pairs with a false alarm (any benchmark significantly slower by more than T %),
  benchmark-level false alarms (rows), and
  detection pairs in which every null benchmark was flagged (and rows flagged).
--reps N recomputes the U test from the first N repetitions of each side, to see what fewer
repetitions would have given; --metric cpu recomputes it on ops per CPU-second (1e9 /
cpu_time) instead of wall-clock ops/s. Both read the results files beside the compare JSON.
"""
import glob
import json
import math
import os
import sys
from itertools import combinations

THRESHOLDS = [0, 5, 10, 15, 20, 25, 30, 40, 50]


def u_exact_p(x, y):
    """Two-sided exact Mann-Whitney p without ties (enumeration; n <= 10 per side)."""
    n1, n2 = len(x), len(y)
    allv = x + y
    u_obs = sum((a > b) + 0.5 * (a == b) for a in x for b in y)
    big = max(u_obs, n1 * n2 - u_obs)
    count = total = 0
    for idx in combinations(range(n1 + n2), n1):
        s = set(idx)
        xs = [allv[i] for i in idx]
        ys = [allv[i] for i in range(n1 + n2) if i not in s]
        u = sum((a > b) + 0.5 * (a == b) for a in xs for b in ys)
        total += 1
        count += u >= big
    return min(1.0, 2 * count / total)


def hl_change(x, y):
    d = sorted(math.log(b) - math.log(a) for a in x for b in y)
    n = len(d)
    m = d[n // 2] if n % 2 else (d[n // 2 - 1] + d[n // 2]) / 2
    return (math.exp(m) - 1) * 100


def rows_from_results(base, new, reps, strip, metric):
    def load(p):
        d = json.load(open(p))
        out = {}
        for b in d["benchmarks"]:
            if b.get("run_type") != "iteration" or not b.get("items_per_second"):
                continue
            name = b["run_name"]
            if strip:
                name = name.replace("/" + b["engine_spec"] + "/", "/" + b["engine"] + "/")
            v = b["items_per_second"] if metric == "wall" else 1e9 / b["cpu_time"]
            out.setdefault(name, []).append(v)
        return out
    a, b = load(base), load(new)
    rows = []
    for name in a:
        if name in b:
            x, y = a[name][:reps] if reps else a[name], b[name][:reps] if reps else b[name]
            rows.append({"name": name, "p": u_exact_p(x, y), "change": hl_change(x, y)})
    return rows


def rows_from_json(path):
    j = json.load(open(path))
    return [{"name": r["name"], "p": r["throughput"]["p_value"],
             "change": r["throughput"]["change_pct"]} for r in j["rows"]]


def main():
    out = sys.argv[1]
    reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else None
    metric = sys.argv[sys.argv.index("--metric") + 1] if "--metric" in sys.argv else "wall"
    for kind, prefix, strip in (("A/A", "aa", False), ("detection", "det", True),
                                ("interleaved A/A", "abaa", False),
                                ("interleaved detection", "abdet", True)):
        pairs = []
        for path in sorted(glob.glob(os.path.join(out, prefix + "-*.json")),
                           key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0])):
            i = path.rsplit("-", 1)[1].split(".")[0]
            if (reps or metric != "wall") and not prefix.startswith("ab"):
                dirs = sorted(glob.glob(os.path.join(out, f"{prefix}-{i}-*")))
                dirs = [d for d in dirs if os.path.isdir(d)]
                if kind == "detection":
                    dirs = sorted(dirs, key=lambda d: int(d.rsplit("-", 1)[1]))
                pairs.append(rows_from_results(dirs[0] + "/results.json",
                                               dirs[1] + "/results.json", reps, strip, metric))
            elif prefix.startswith("ab"):
                pairs.append(rows_from_results(f"{out}/{prefix}-{i}/A.json",
                                               f"{out}/{prefix}-{i}/B.json", reps, strip, metric))
            else:
                pairs.append(rows_from_json(path))
        if not pairs:
            continue
        if "detection" in kind:
            # bulk-insert goes through the null adapter's batch path, which has no per-op
            # delay: only the per-op workloads carry the injected slowdown.
            pairs = [[r for r in p if not r["name"].startswith("bulk-insert")] for p in pairs]
        nrows = sum(len(p) for p in pairs)
        print(f"{kind}: {len(pairs)} pairs, {nrows} benchmark comparisons"
              + (f" (first {reps} repetitions)" if reps else "") + f", metric {metric}")
        changes = sorted(abs(r["change"]) for p in pairs for r in p)
        if "detection" in kind:
            est = sorted(r["change"] for p in pairs for r in p)
            print(f"  estimated change: median {est[len(est) // 2]:.1f}%, "
                  f"range {est[0]:.1f}% .. {est[-1]:.1f}%")
        elif changes:
            print(f"  |change| median {changes[len(changes) // 2]:.1f}%, "
                  f"90th pct {changes[int(0.9 * (len(changes) - 1))]:.1f}%, max {changes[-1]:.1f}%")
        for t in THRESHOLDS:
            flagged = [[r for r in p if r["p"] < 0.05 and r["change"] < -t] for p in pairs]
            any_pairs = sum(1 for f in flagged if f)
            rows = sum(len(f) for f in flagged)
            all_pairs = sum(1 for f, p in zip(flagged, pairs) if p and len(f) == len(p))
            print(f"  threshold {t:>4}%: pairs failing {any_pairs}/{len(pairs)}, rows flagged "
                  f"{rows}/{nrows}, pairs with every row flagged {all_pairs}/{len(pairs)}")


if __name__ == "__main__":
    main()
