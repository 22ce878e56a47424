"""Turns a bench/run_all.sh results file into the Markdown tables of
bench/RESULTS.md: the FMA peak, SGEMM against OpenBLAS, and every workload on
terracl and each peer, medians over the rounds, with GFLOP/s as % of the
peak measured in the same run and ratios against the strongest fp32 peer.

    python3 bench/summarize.py bench/results/HOST-DATE.jsonl [> tables.md]
"""
import collections
import json
import statistics
import sys

FP32_PEERS = ("ov-fp32", "ort", "torch")  # the strongest of these is the bar
COLUMNS = ("terracl", "ort", "ov-fp32", "ov-bf16", "torch")


def load(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    return rows


def runner_of(r):
    # Files written before run_all.sh recorded the runner: tell from the device.
    if "runner" in r:
        return r["runner"]
    if "fma_peak" in r:
        return "fma_peak"
    d = r.get("device", "")
    if d.startswith("numpy"):
        return "openblas"
    if d.startswith("PyTorch"):
        return "torch"
    return "terracl"


def label(runner, rows):
    r = rows[0] if rows else {}
    v = str(r.get("version", "")).split("-")[0].split("+")[0]
    return {"terracl": "terracl", "ort": "ONNX Runtime %s" % v,
            "ov-fp32": "OpenVINO %s fp32" % v, "ov-bf16": "OpenVINO %s **bf16**" % v,
            "torch": "PyTorch %s" % v, "openblas": "OpenBLAS"}.get(runner, runner)


def workload_gflop(by_runner):
    """The workload's arithmetic as the peers' exported model counts it
    (direct convolutions); terracl's own count is what its kernels issue,
    which Winograd convolutions make smaller, so it serves only when no peer
    ran."""
    for runner, recs in by_runner.items():
        if runner != "terracl" and recs:
            return recs[0]["gflop"]
    return next(iter(by_runner.values()))[0]["gflop"]


def pct(gflops, peak):
    return "%.0f%%" % (100.0 * gflops / peak) if peak else "-"


def main():
    path = sys.argv[1]
    rows = load(path)
    out = []
    p = out.append
    peaks = [r for r in rows if "fma_peak" in r]
    cpu = [r for r in peaks if r["fma_peak"].startswith("cpu")]
    peak = max((r["gflops"] for r in (cpu or peaks)), default=0.0)
    rounds = max((r.get("round", 1) for r in rows if "round" in r), default=1)
    meta = next((r["run_all"] for r in rows if "run_all" in r), {})

    p("Results file: `%s`; %d round(s)%s." % (
        path.split("/")[-1], rounds,
        ", %d s of wall time" % meta["wall_s"] if meta.get("wall_s") else ""))
    p("")
    p("### fp32 FMA peak (`build/bench/fma_peak`), best of each round, max over rounds")
    p("")
    p("| how | device | threads | GFLOP/s | median over runs |")
    p("|---|---|---|---|---|")
    by = collections.OrderedDict()
    for r in peaks:
        by.setdefault((r["fma_peak"], r["device"], r["how"], r["threads"]), []).append(r)
    for (kind, dev, how, th), rs in by.items():
        p("| %s | %s | %d | %.1f | %.1f |" % (how, dev, th, max(x["gflops"] for x in rs),
                                              statistics.median(x["gflops_median"] for x in rs)))
    p("")
    p("Percentages below are of %.1f GFLOP/s (%s)." % (
        peak, "the CPU intrinsics figure" if cpu else "the OpenCL figure; no CPU figure in this file")
      if peak else "No peak in this file: no percentages.")
    p("")
    # bf16 runs can pass the fp32 peak (bf16 dot products do twice the work per
    # instruction); any fp32 figure above it means the peak was measured badly.
    top = max((r["gflops"] for r in rows if "gflops" in r and "fma_peak" not in r
               and r.get("precision") != "bf16"), default=0.0)
    if peak and top > peak:
        p("**Warning:** a figure below (%.1f GFLOP/s) is above the measured peak: the peak runs "
          "landed on loaded spells of the machine, so the percentages are not meaningful. "
          "Measure on a quiet machine." % top)
        p("")

    gemm = collections.OrderedDict()
    for r in rows:
        if "gemm" in r and "gflops" in r:
            gemm.setdefault(r["gemm"], collections.defaultdict(list))[runner_of(r)].append(r)
    if gemm:
        p("### SGEMM (row-major A·B, M x N x K), median over rounds")
        p("")
        p("| shape | terracl GFLOP/s | OpenBLAS GFLOP/s | OpenBLAS kernels | terracl / OpenBLAS |")
        p("|---|---|---|---|---|")
        for shape, by_runner in gemm.items():
            t = statistics.median(x["gflops"] for x in by_runner["terracl"]) if by_runner["terracl"] else 0
            o = statistics.median(x["gflops"] for x in by_runner["openblas"]) if by_runner["openblas"] else 0
            kern = ", ".join(sorted({"%s (CORETYPE=%s)" % (x.get("blas", {}).get("architecture", "?"),
                                                          x.get("coretype_env"))
                                     for x in by_runner["openblas"]}))
            p("| %s | %s | %s | %s | %s |" % (
                shape, "%.1f (%s)" % (t, pct(t, peak)) if t else "-",
                "%.1f (%s)" % (o, pct(o, peak)) if o else "-", kern or "-",
                "%.2fx" % (t / o) if t and o else "-"))
        p("")

    work = collections.OrderedDict()
    for r in rows:
        if "workload" in r and "warm_ms_median" in r and "gemm" not in r:
            work.setdefault(r["workload"], collections.defaultdict(list))[runner_of(r)].append(r)
    if work:
        all_runners = collections.defaultdict(list)
        for by_runner in work.values():
            for k, v in by_runner.items():
                all_runners[k] += v
        cols = [c for c in COLUMNS if c in all_runners]
        p("### Whole models and encoders: warm ms per forward, batch 1, median over rounds")
        p("")
        p("Ratio = the strongest fp32 peer's time / terracl's time (above 1: terracl is faster). "
          "bf16 is not an fp32 result and is not in the ratio.")
        p("")
        p("| workload | GFLOP | " + " | ".join(label(c, all_runners[c]) for c in cols)
          + " | strongest fp32 peer | ratio |")
        p("|---|---|" + "---|" * len(cols) + "---|---|")
        med = {}
        for w, by_runner in work.items():
            cells = []
            gf = workload_gflop(by_runner)
            for c in cols:
                if by_runner.get(c):
                    m = statistics.median(x["warm_ms_median"] for x in by_runner[c])
                    med[(w, c)] = m
                    lo = min(x["warm_ms_median"] for x in by_runner[c])
                    hi = max(x["warm_ms_median"] for x in by_runner[c])
                    spread = " (%.0f-%.0f)" % (lo, hi) if len(by_runner[c]) > 1 else ""
                    cells.append("%.1f%s" % (m, spread))
                else:
                    cells.append("-")
            fp32 = [(med[(w, c)], c) for c in FP32_PEERS if (w, c) in med]
            best = min(fp32) if fp32 else None
            ratio = "%.2fx" % (best[0] / med[(w, "terracl")]) if best and (w, "terracl") in med else "-"
            p("| %s | %.1f | %s | %s | %s |" % (w, gf, " | ".join(cells),
                                               label(best[1], all_runners[best[1]]) if best else "-",
                                               ratio))
        p("")
        p("(min-max over rounds in brackets.)")
        p("")
        p("### The same as GFLOP/s and % of the fp32 FMA peak")
        p("")
        p("(bf16 can pass 100%: its dot products do twice the work per instruction.)")
        p("")
        p("| workload | " + " | ".join(label(c, all_runners[c]) for c in cols) + " |")
        p("|---|" + "---|" * len(cols))
        for w, by_runner in work.items():
            gf = workload_gflop(by_runner)
            cells = []
            for c in cols:
                if (w, c) in med:
                    g = gf / (med[(w, c)] * 1e-3)
                    cells.append("%.0f (%s)" % (g, pct(g, peak)))
                else:
                    cells.append("-")
            p("| %s | %s |" % (w, " | ".join(cells)))
        p("")
        p("Devices and versions: " + "; ".join(
            "%s = %s" % (c, all_runners[c][0]["device"]) for c in cols) + ".")
        p("")

    skips = [r for r in rows if "skipped" in r]
    if skips:
        p("### Not timed")
        p("")
        p("| runner | workload | reason |")
        p("|---|---|---|")
        for r in skips:
            p("| %s | %s | %s |" % (r["runner"], r["workload"], r["skipped"].replace("|", "/")))
        p("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
