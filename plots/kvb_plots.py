#!/usr/bin/python3
"""Draws the plots of a kvbench report from results files (results/SCHEMA.md).

Usage: /usr/bin/python3 kvb_plots.py --out DIR RESULTS.json [MORE.json ...]

Writes into DIR, as PNG and SVG:
  throughput   median ops/s per engine, one panel per workload, whiskers = min..max of reps
  latency      p50 / p90 / p99 / p99.9 of each panel's main op type, log scale
  disk         allocated bytes on disk after close, with space amplification
  scaling      ops/s against client threads (only when a thread sweep was run)
  timeseries   ops/s in each second of the measured phase (only for runs longer than 2 s)
and DIR/manifest.json, the list of files written. With several machines in the input
(`kvbench merge`), each figure is drawn per machine with the machine's name as a suffix.
Knows only the results schema. Exit 3 when matplotlib is missing, 2 on bad input.
"""

import argparse
import json
import math
import os
import re
import statistics
import sys
from collections import OrderedDict, defaultdict

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter
except ImportError as e:  # the report says plots were skipped
    print(f"kvb_plots: matplotlib is not available: {e}", file=sys.stderr)
    sys.exit(3)

PERCENTILES = [("p50", "p50_ns"), ("p90", "p90_ns"), ("p99", "p99_ns"), ("p99.9", "p99_9_ns")]
COLORS = plt.rcParams["axes.prop_cycle"].by_key()["color"]
ENGINE_COLORS = {}


def color(engine):
    """One colour per engine across every figure, in first-seen order."""
    if engine not in ENGINE_COLORS:
        ENGINE_COLORS[engine] = COLORS[len(ENGINE_COLORS) % len(COLORS)]
    return ENGINE_COLORS[engine]


def si(v, _pos=None):
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:g}{suffix}"
    return f"{v:g}"


def ns_label(v, _pos=None):
    for div, unit in ((1e9, "s"), (1e6, "ms"), (1e3, "µs")):
        if v >= div:
            return f"{v / div:g} {unit}"
    return f"{v:g} ns"


def load(paths):
    """Returns (contexts by machine, points by machine in first-seen order)."""
    contexts = OrderedDict()
    points = defaultdict(OrderedDict)
    for path in paths:
        with open(path) as f:
            doc = json.load(f)
        ctx = doc.get("context", {})
        if "benchmarks" not in doc or "schema_version" not in ctx:
            raise ValueError(f"{path} is not a kvbench results file")
        machines = ctx.get("machines") or {}
        own = ctx.get("host_name") or "unknown-host"
        for b in doc["benchmarks"]:
            if b.get("run_type", "iteration") != "iteration" or "skipped" in b:
                continue
            ips = b.get("items_per_second") or 0
            if ips <= 0:
                continue
            m = b.get("machine", own)
            contexts.setdefault(m, machines.get(m, ctx))
            name = b.get("run_name") or b["name"]
            p = points[m].setdefault(name, {
                "engine": b.get("engine_spec") or b.get("engine", "?"),
                "workload": b.get("workload", "?"),
                "threads": b.get("threads", 1),
                "keys": (b.get("params") or {}).get("keys", ""),
                "ips": [], "lat": defaultdict(lambda: defaultdict(list)),
                "disk": [], "amp": [], "series": [],
            })
            p["ips"].append(ips)
            for op, l in (b.get("latency") or {}).items():
                for label, key in PERCENTILES:
                    if key in l:
                        p["lat"][op][label].append(l[key])
                p["lat"][op]["count"].append(l.get("count", 0))
            if (b.get("bytes_on_disk") or 0) > 0:
                p["disk"].append(b["bytes_on_disk"])
                p["amp"].append(b.get("space_amp") or 0)
            s = b.get("throughput_series") or []
            # Keep the series of the repetition nearest the median throughput.
            med = statistics.median(p["ips"])
            if len(s) >= 2 and (not p["series"] or abs(ips - med) < abs(p["series_ips"] - med)):
                p["series"], p["series_ips"] = s, ips
    return contexts, points


def caption(ctx):
    rot = ctx.get("rotational")
    disk = f"{ctx.get('file_system', '?')} on {ctx.get('device', '?')}"
    if rot is not None:
        disk += " (HDD)" if rot else " (SSD)"
    load = ctx.get("load_avg_start") or []
    load_s = f", load {load[0]:.1f}" if load else ""
    return (f"{ctx.get('host_name', '?')}: {ctx.get('cpu_model', '?')} × {ctx.get('num_cpus', '?')}, "
            f"{ctx.get('kernel', '?')}, {disk}, {ctx.get('build_type', '?')} build, "
            f"{ctx.get('date', '?')}{load_s}")


def panel_key(p):
    keys = f"{p['keys']} keys, " if p["keys"] else ""
    t = p["threads"]
    return f"{p['workload']} ({keys}{t} thread{'s' if t != 1 else ''})"


def groups(points):
    g = OrderedDict()
    for p in points.values():
        g.setdefault(panel_key(p), []).append(p)
    return g


def main_op(ps):
    counts = defaultdict(float)
    for p in ps:
        for op, l in p["lat"].items():
            counts[op] += sum(l["count"])
    return max(counts, key=counts.get) if counts else None


def grid(n, width=6.4, height=3.0):
    cols = 1 if n == 1 else 2
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows + 0.9), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def finish(fig, title, ctx, out_dir, stem, written):
    fig.suptitle(title, fontsize=13, fontweight="bold")
    fig.text(0.5, 0.005, caption(ctx), ha="center", va="bottom", fontsize=7.5, color="#444")
    fig.tight_layout(rect=(0, 0.035, 1, 0.96))
    for ext in ("png", "svg"):
        name = f"{stem}.{ext}"
        fig.savefig(os.path.join(out_dir, name), dpi=110 if ext == "png" else None)
        written.append(name)
    plt.close(fig)


def plot_throughput(gs, ctx, out_dir, stem, written):
    fig, axes = grid(len(gs), height=max(2.2, 0.45 * max(len(v) for v in gs.values()) + 1.2))
    for ax, (title, ps) in zip(axes, gs.items()):
        ps = sorted(ps, key=lambda p: statistics.median(p["ips"]))
        meds = [statistics.median(p["ips"]) for p in ps]
        lo = [m - min(p["ips"]) for m, p in zip(meds, ps)]
        hi = [max(p["ips"]) - m for m, p in zip(meds, ps)]
        y = range(len(ps))
        ax.barh(y, meds, xerr=[lo, hi], color=[color(p["engine"]) for p in ps],
                capsize=3, alpha=0.85)
        ax.set_yticks(list(y), [f"{p['engine']} (n={len(p['ips'])})" for p in ps], fontsize=8)
        log = max(meds) / max(min(meds), 1e-9) > 100
        if log:
            ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FuncFormatter(si))
        top = max(max(p["ips"]) for p in ps)
        for yi, m, p in zip(y, meds, ps):
            # The label sits past the whisker so neither hides the other.
            ax.text(max(p["ips"]) * (1.05 if log else 1) + (0 if log else 0.01 * top), yi,
                    si(float(f"{m:.3g}")), va="center", fontsize=7.5)
        ax.set_xlim(right=top * (3 if log else 1.18))
        ax.set_xlabel("operations per second (median; whiskers: min–max of repetitions)")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    finish(fig, "Throughput by engine (higher is better)", ctx, out_dir, stem, written)


def plot_latency(gs, ctx, out_dir, stem, written):
    fig, axes = grid(len(gs))
    for ax, (title, ps) in zip(axes, gs.items()):
        op = main_op(ps)
        for i, p in enumerate(ps):
            l = p["lat"].get(op)
            if not l:
                continue
            xs = [lab for lab, _ in PERCENTILES if l.get(lab)]
            ys = [statistics.median(l[lab]) for lab in xs]
            ax.plot(xs, ys, marker="o", color=color(p["engine"]), label=p["engine"])
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FuncFormatter(ns_label))
        ax.set_ylabel(f"{op} latency (log scale)")
        ax.set_xlabel("percentile (median over repetitions)")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7.5, loc="upper left")
    finish(fig, "Latency percentiles (lower is better)", ctx, out_dir, stem, written)


def plot_disk(gs, ctx, out_dir, stem, written):
    gs = OrderedDict((k, [p for p in v if p["disk"]]) for k, v in gs.items())
    gs = OrderedDict((k, v) for k, v in gs.items() if v)
    if not gs:
        return
    fig, axes = grid(len(gs), height=max(2.2, 0.45 * max(len(v) for v in gs.values()) + 1.2))
    for ax, (title, ps) in zip(axes, gs.items()):
        ps = sorted(ps, key=lambda p: -statistics.median(p["disk"]))
        mib = [statistics.median(p["disk"]) / 2**20 for p in ps]
        y = range(len(ps))
        ax.barh(y, mib, color=[color(p["engine"]) for p in ps], alpha=0.85)
        ax.set_yticks(list(y), [p["engine"] for p in ps], fontsize=8)
        for yi, m, p in zip(y, mib, ps):
            amp = statistics.median(p["amp"]) if p["amp"] else 0
            ax.text(m, yi, f" {m:.1f} MiB" + (f" (amp {amp:.2f})" if amp else ""),
                    va="center", fontsize=7.5)
        ax.set_xlim(0, max(mib) * 1.45)
        ax.set_xlabel("MiB allocated on disk after close (amp = bytes on disk / live data)")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    finish(fig, "Bytes on disk (lower is better)", ctx, out_dir, stem, written)


def plot_scaling(points, ctx, out_dir, stem, written):
    sweeps = OrderedDict()
    for p in points.values():
        key = f"{p['workload']}" + (f" ({p['keys']} keys)" if p["keys"] else "")
        sweeps.setdefault(key, defaultdict(dict))[p["engine"]][p["threads"]] = p["ips"]
    sweeps = OrderedDict((k, v) for k, v in sweeps.items()
                         if any(len(t) >= 2 for t in v.values()))
    if not sweeps:
        return
    fig, axes = grid(len(sweeps))
    for ax, (title, engines) in zip(axes, sweeps.items()):
        for i, (engine, by_t) in enumerate(engines.items()):
            ts = sorted(by_t)
            meds = [statistics.median(by_t[t]) for t in ts]
            err = [[m - min(by_t[t]) for m, t in zip(meds, ts)],
                   [max(by_t[t]) - m for m, t in zip(meds, ts)]]
            ax.errorbar(ts, meds, yerr=err, marker="o", capsize=3,
                        color=color(engine), label=engine)
        ax.set_xlabel("client threads")
        ax.set_ylabel("operations per second")
        ax.yaxis.set_major_formatter(FuncFormatter(si))
        ax.set_xticks(sorted({t for e in engines.values() for t in e}))
        ax.set_ylim(bottom=0)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5)
    finish(fig, "Thread scaling (median, whiskers min–max)", ctx, out_dir, stem, written)


def plot_timeseries(gs, ctx, out_dir, stem, written):
    gs = OrderedDict((k, [p for p in v if len(p["series"]) >= 3]) for k, v in gs.items())
    gs = OrderedDict((k, v) for k, v in gs.items() if v)
    if not gs:
        return
    fig, axes = grid(len(gs))
    for ax, (title, ps) in zip(axes, gs.items()):
        for i, p in enumerate(ps):
            s = p["series"][:-1]  # the last bucket is a partial second
            ax.plot(range(1, len(s) + 1), s, marker=".", color=color(p["engine"]),
                    label=p["engine"])
        ax.set_xlabel("second of the measured phase")
        ax.set_ylabel("operations in that second")
        ax.yaxis.set_major_formatter(FuncFormatter(si))
        ax.set_ylim(bottom=0)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7.5)
    finish(fig, "Throughput over time (the repetition nearest the median)", ctx, out_dir, stem,
           written)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="folder for the PNG and SVG files")
    ap.add_argument("files", nargs="+", help="kvbench results files")
    a = ap.parse_args()
    try:
        contexts, points = load(a.files)
    except (OSError, ValueError, KeyError) as e:
        print(f"kvb_plots: {e}", file=sys.stderr)
        return 2
    os.makedirs(a.out, exist_ok=True)
    written = []
    many = len(points) > 1
    for machine, pts in points.items():
        ctx = contexts[machine]
        suffix = "-" + re.sub(r"[^A-Za-z0-9_.-]", "_", machine) if many else ""
        gs = groups(pts)
        plot_throughput(gs, ctx, a.out, "throughput" + suffix, written)
        plot_latency(gs, ctx, a.out, "latency" + suffix, written)
        plot_disk(gs, ctx, a.out, "disk" + suffix, written)
        plot_scaling(pts, ctx, a.out, "scaling" + suffix, written)
        plot_timeseries(gs, ctx, a.out, "timeseries" + suffix, written)
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(written, f, indent=1)
    print(f"kvb_plots: {len(written)} files in {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
