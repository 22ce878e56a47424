"""Times one SGEMM with numpy's BLAS (OpenBLAS in PyPI's numpy) as the
reference for `terracl bench --gemm M,N,K`.

    OPENBLAS_NUM_THREADS=2 python3 bench/openblas_gemm.py 588,2304,768 [--repeat 20]

Prints one JSON object with terracl bench's fields.
"""
import argparse
import json
import statistics
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("shape")
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    m, n, k = (int(v) for v in args.shape.split(","))
    rng = np.random.default_rng(0)
    a = rng.random((m, k), dtype=np.float32)
    b = rng.random((k, n), dtype=np.float32)
    t0 = time.perf_counter()
    a @ b
    cold = (time.perf_counter() - t0) * 1e3
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        a @ b
        times.append((time.perf_counter() - t0) * 1e3)
    gflop = 2.0 * m * n * k * 1e-9
    med = statistics.median(times)
    blas = np.__config__.CONFIG.get("Build Dependencies", {}).get("blas", {}).get("name", "BLAS") \
        if hasattr(np.__config__, "CONFIG") else "BLAS"
    print(json.dumps({
        "device": f"numpy {np.__version__} ({blas})", "gemm": f"{m}x{n}x{k}", "batch": 1,
        "cold_ms": round(cold, 3), "warm_ms_median": round(med, 3),
        "warm_ms_min": round(min(times), 3), "gflop": round(gflop, 4),
        "gflops": round(gflop / (med * 1e-3), 2), "repeat": args.repeat,
    }))


if __name__ == "__main__":
    main()
