#!/usr/bin/env python3
"""Each convolution layer of a model against the roof it can reach.

    python3 bench/roofline.py CONFIG.yaml [--size S] [--repeat N] [--rounds R]
                              [--peak GFLOPS] [--cache-gbs G] [--dram-gbs G]

Runs `terracl bench --config CONFIG --profile --format json` and takes its
table by operation (convolution layers at the model's arithmetic). For each
layer shape it works out the least data the layer must move: its weight,
read once from DRAM (the weights of these models do not fit the last-level
cache, so every run streams them again), and its input and output, which at
these sizes can stay in the cache between layers. The layer cannot take less
than the larger of its multiply-adds at the FMA peak and that traffic at
the measured read bandwidths, so its attainable GFLOP/s is the model
arithmetic over that time. A layer whose roof is below the FMA peak is
bound by memory ("memory"); the others can reach the peak ("compute").

With --rounds R the model is profiled R times, one process each, and
each layer is judged by its best round (its median over the rounds is
shown beside it): on a shared machine one round's layer can run 20-30%
slower than the next for reasons outside the kernel.

The peak and the bandwidths are measured in the same run by
build/bench/fma_peak and build/bench/mem_bandwidth unless given. The roof
leaves out what every kernel launch costs on top (tens of microseconds on a
CPU driver), which is what bounds the smallest layers.
"""
import argparse
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHAPE = re.compile(
    r"(?P<kh>\d+)x(?P<kw>\d+) (?P<cin>\d+)->(?P<cout>\d+) @(?P<h>\d+)x(?P<w>\d+)"
    r"(?: s(?P<sh>\d+)(?:x(?P<sw>\d+))?)?(?: d\d+(?:x\d+)?)?(?: x(?P<b>\d+))?$")


def measured(cmd, key, pick):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return pick([r for r in rows if key in r])


def layer_bytes(op, shape, flops):
    """(weight bytes, activation bytes) one call moves at least, or None
    when the shape is not a convolution's."""
    m = SHAPE.match(shape)
    if not m:
        return None
    kh, kw, cin, cout = (int(m[k]) for k in ("kh", "kw", "cin", "cout"))
    h, w, b = int(m["h"]), int(m["w"]), int(m["b"] or 1)
    weight = 4 * cin * cout * kh * kw
    x = 4 * b * cin * h * w
    if op.startswith("ConvTranspose2d"):
        y = flops // (2 * cin) * 4  # every input pixel meets every tap
    else:
        y = flops // (2 * cin * kh * kw) * 4
    act = x + y + (y if "+residual" in op else 0)  # the residual is read too
    return weight, act


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("config")
    ap.add_argument("--size", type=int)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=1,
                    help="profile the model this many times; each layer's best round counts")
    ap.add_argument("--peak", type=float, help="fp32 FMA peak, GFLOP/s")
    ap.add_argument("--cache-gbs", type=float, help="read bandwidth from the cache, GB/s")
    ap.add_argument("--dram-gbs", type=float, help="read bandwidth from DRAM, GB/s")
    ap.add_argument("--terracl", default=str(ROOT / "build" / "terracl"))
    a = ap.parse_args()

    bench = ROOT / "build" / "bench"
    peak = a.peak or measured([str(bench / "fma_peak"), "--cpu", "--format", "json"], "fma_peak",
                              lambda r: max(x["gflops"] for x in r))
    if a.cache_gbs is None or a.dram_gbs is None:
        bw = measured([str(bench / "mem_bandwidth"), "--format", "json"], "mem_bandwidth",
                      lambda r: {x["mem_bandwidth"]: x["gbs"] for x in r})
    cache = a.cache_gbs or bw["cache"]
    dram = a.dram_gbs or bw["dram"]

    cmd = [a.terracl, "bench", "--config", a.config, "--profile", "--format", "json",
           "--repeat", str(a.repeat)]
    if a.size:
        cmd += ["--size", str(a.size)]
    runs = [json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            for _ in range(max(1, a.rounds))]
    run = runs[0]
    totals = sorted(r["warm_ms_median"] for r in runs)
    total = statistics.median(totals)
    rounds = f", median of {len(runs)} rounds ({totals[0]:.2f}-{totals[-1]:.2f})" if len(runs) > 1 else ""
    print(f"{run['model']} at {run['size']}: {total:.2f} ms a run (median{rounds}); FMA peak "
          f"{peak:.1f} GFLOP/s, reads {cache:.1f} GB/s from the cache and {dram:.1f} from DRAM")
    # Each layer shape's per-run times over the rounds: the best one is judged.
    times = {}
    for r in runs:
        for o in r["operations"]:
            times.setdefault((o["operation"], o["shape"]), []).append(o["device_ms_per_run"])
    med_col = f" {'med ms':>8}" if len(runs) > 1 else ""
    print(f"{'ms':>8}{med_col} {'GFLOP/s':>8} {'%peak':>6} {'flop/B':>7} {'roof':>7} {'%roof':>6}  "
          f"{'bound':7} operation")
    under = []
    for o in run["operations"]:
        calls = o["calls_per_run"] or 1
        seen = times[(o["operation"], o["shape"])]
        ms, flops = min(seen), o["model_flops_per_run"]
        med = f" {statistics.median(seen):8.3f}" if len(runs) > 1 else ""
        per_call = int(flops / calls)
        moved = layer_bytes(o["operation"], o["shape"], per_call)
        if moved is None or ms <= 0 or flops <= 0:
            continue
        weight, act = moved
        t_compute = per_call / (peak * 1e9)
        t_memory = weight / (dram * 1e9) + act / (cache * 1e9)
        roof = per_call / max(t_compute, t_memory) * 1e-9
        gflops = flops / (ms * 1e-3) * 1e-9
        bound = "compute" if t_compute >= t_memory else "memory"
        print(f"{ms:8.3f}{med} {gflops:8.1f} {100 * gflops / peak:6.1f} "
              f"{per_call / (weight + act):7.1f} {roof:7.1f} {100 * gflops / roof:6.1f}  "
              f"{bound:7} {o['operation']} {o['shape']}")
        if gflops < 0.8 * roof:
            under.append((ms, o["operation"], o["shape"], bound, 100 * gflops / roof))
    if under:
        share = sum(u[0] for u in under)
        print(f"\nunder 80% of their roof: {len(under)} layer shapes, {share:.2f} ms of the "
              f"profile ({100 * share / total:.1f}% of a run)")
        for ms, op, shape, bound, pct in sorted(under, reverse=True):
            print(f"  {ms:8.3f} ms  {pct:5.1f}% of the roof  {bound:7} {op} {shape}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
