"""Plots bench/run_all.sh results: GFLOP/s per workload (median over the
rounds), one bar per device or peer, to a PNG.

    python3 bench/plot.py bench/results/HOST-DATE.jsonl [OUT.png]
"""
import collections
import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    path = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else path.rsplit(".", 1)[0] + ".png"
    rows = [json.loads(line) for line in open(path) if line.strip()]
    # Several rounds of the same workload on the same device: their median.
    runs = collections.OrderedDict()
    for r in rows:
        if "gflops" not in r or "fma_peak" in r:
            continue  # skipped runs, the FMA peak, the run's own record
        what = (r.get("gemm") and f"GEMM {r['gemm']}" or r.get("workload")
                or f"{r['model']} T={r.get('frames', 1)}")
        runs.setdefault((what, r["device"]), []).append(r)
    groups = collections.OrderedDict()
    for (what, device), rs in runs.items():
        merged = dict(rs[0], gflops=statistics.median(x["gflops"] for x in rs))
        groups.setdefault(what, []).append(merged)
    fig, axes = plt.subplots(1, len(groups), figsize=(4 * len(groups), 4), squeeze=False)
    for ax, (what, rs) in zip(axes[0], groups.items()):
        labels = [r["device"].replace("pthread-", "terracl ")[:28] for r in rs]
        ax.bar(range(len(rs)), [r["gflops"] for r in rs], color=["C0" if "terracl" in l else "C1" for l in labels])
        ax.set_xticks(range(len(rs)), labels, rotation=30, ha="right", fontsize=7)
        ax.set_title(what, fontsize=9)
        ax.set_ylabel("GFLOP/s (median warm run)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main()
