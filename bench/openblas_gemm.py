"""Times one SGEMM with numpy's BLAS (OpenBLAS in PyPI's numpy) as the
reference for `terracl bench --gemm M,N,K`.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=2 \
        python3 bench/openblas_gemm.py 588,2304,768 [--repeat 20]

Prints one JSON object with terracl bench's fields, plus what threadpoolctl
reports of the BLAS that ran: library, version, kernel set (OpenBLAS's
"architecture", i.e. its core type), threads, and the OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE it saw. Some environments set OPENBLAS_CORETYPE=Haswell for
old OpenBLAS builds, which forces AVX2 kernels on AVX-512 machines: unset it
for this command only, as bench/run_all.sh does.
"""
import os
import argparse
import json
import statistics
import time

import numpy as np


def blas_info():
    """threadpoolctl's view of numpy's BLAS (which kernels it picked)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {"architecture": "unknown (pip install threadpoolctl)"}
    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            return {k: lib.get(k) for k in ("internal_api", "version", "architecture",
                                             "num_threads", "threading_layer")}
    return {"architecture": "unknown (no BLAS seen by threadpoolctl)"}


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
    info = blas_info()
    kernel = info.get("architecture", "?")
    print(json.dumps({
        "device": f"numpy {np.__version__} ({blas} {info.get('version', '')}, {kernel} kernels)",
        "runtime": "openblas", "blas": info, "coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
        "l2_size_env": os.environ.get("OPENBLAS_L2_SIZE"), "gemm": f"{m}x{n}x{k}", "batch": 1,
        "cold_ms": round(cold, 3), "warm_ms_median": round(med, 3),
        "warm_ms_min": round(min(times), 3), "gflop": round(gflop, 4),
        "gflops": round(gflop / (med * 1e-3), 2), "repeat": args.repeat,
    }))


if __name__ == "__main__":
    main()
