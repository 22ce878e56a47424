"""Times one benchmark workload (bench/workloads.py) on one peer runtime, for
side-by-side comparison with `terracl bench` in the same run.

    python3 bench/peer_bench.py WORKLOAD --peer ort|ov-fp32|ov-bf16|torch \
        [--repeat 5] [--warmup 1] [--threads 2]

Peers, all on the CPU with --threads threads (default 2) and batch 1:
  ort      ONNX Runtime, CPU execution provider, intra-op threads = --threads,
           one inter-op thread, all graph optimisations;
  ov-fp32  OpenVINO CPU plugin, INFERENCE_PRECISION_HINT f32, latency hint,
           INFERENCE_NUM_THREADS = --threads, one stream (compiled models
           cached in the model cache's openvino_cache/);
  ov-bf16  the same with INFERENCE_PRECISION_HINT bf16 (lower precision: not
           an fp32 result; labelled bf16 everywhere);
  torch    PyTorch with TerraTorch's own module (torch.set_num_threads).
ort and ov-* read the ONNX file bench/export_onnx.py wrote; torch builds the
model itself. A peer that is not installed (or a workload not exported) is
skipped: a message on stderr, exit status 3, nothing on stdout.

Prints one JSON object with the fields of `terracl bench --format json`
(device, model, batch, frames, size, cold_ms = first inference after loading,
warm_ms_median, warm_ms_min over --repeat runs after --warmup more, gflop,
gflops, peak_device_bytes: null, repeat) plus workload, runtime, version,
precision, threads, load_ms and peak_rss_bytes. gflop is the workload's work
counted by PyTorch's FlopCounterMode at export (2 per multiply-add).
"""
import argparse
import json
import logging
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads as W  # noqa: E402

SKIPPED = 3


def skip(msg):
    print("peer_bench: skipped: " + msg, file=sys.stderr)
    sys.exit(SKIPPED)


def ort_runner(w, threads):
    try:
        import onnxruntime as ort
    except ImportError:
        skip("ONNX Runtime is not installed (pip install -r bench/requirements.txt)")
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(W.onnx_path(w), so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    label = "ONNX Runtime %s CPU EP, %d threads" % (ort.__version__, threads)
    return (lambda x: sess.run(None, {name: x})), label, "onnxruntime", ort.__version__, "fp32"


def ov_runner(w, threads, precision):
    try:
        import openvino as ov
    except ImportError:
        skip("OpenVINO is not installed (pip install -r bench/requirements.txt)")
    core = ov.Core()
    if precision == "bf16":
        caps = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        if "BF16" not in caps:
            skip("this CPU has no bf16 support in OpenVINO (capabilities: %s)" % ", ".join(caps))
    hint = {"fp32": "f32", "bf16": "bf16"}[precision]
    config = {"INFERENCE_PRECISION_HINT": hint, "PERFORMANCE_HINT": "LATENCY",
              "INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1}
    # Compiled models are cached next to the ONNX files: a round after the
    # first loads the compiled blob instead of reading and compiling the ONNX
    # file again (seconds for the 300M models). Inference is the same.
    core.set_property({"CACHE_DIR": os.path.join(W.CACHE, "openvino_cache")})
    compiled = core.compile_model(W.onnx_path(w), "CPU", config)
    # The plugin may not honour the hint (bf16 without hardware support):
    # say what it reports then.
    got = str(compiled.get_property("INFERENCE_PRECISION_HINT")).lower()
    spelled = {"fp32": ("f32", "float32"), "bf16": ("bf16", "bfloat16")}[precision]
    label_note = "" if any(s in got for s in spelled) else " (plugin reports %s)" % got
    req = compiled.create_infer_request()
    label = "OpenVINO %s CPU %s, %d threads%s" % (ov.__version__.split("-")[0], precision,
                                                   threads, label_note)
    return (lambda x: req.infer({0: x})), label, "openvino", ov.__version__, precision


def torch_runner(w, threads):
    try:
        import torch
    except ImportError:
        skip("PyTorch is not installed")
    try:
        W.import_terratorch()
    except ImportError:
        skip("terratorch is not installed (pip install terratorch)")
    torch.set_num_threads(threads)
    model = W.build(w, seed=0)

    def run(x):
        with torch.no_grad():
            return model(torch.from_numpy(x))
    label = "PyTorch %s CPU, %d threads (TerraTorch's model)" % (torch.__version__, threads)
    return run, label, "pytorch", torch.__version__, "fp32"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload", choices=list(W.WORKLOADS))
    ap.add_argument("--peer", required=True, choices=["ort", "ov-fp32", "ov-bf16", "torch"])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    w = W.WORKLOADS[args.workload]
    meta = None
    if os.path.exists(W.meta_path(w)):
        with open(W.meta_path(w)) as f:
            meta = json.load(f)
    if args.peer != "torch" and (meta is None or not os.path.exists(W.onnx_path(w))):
        skip("%s is not exported (python3 bench/export_onnx.py --only %s)" % (w["name"], w["name"]))

    import numpy as np
    t0 = time.perf_counter()
    if args.peer == "ort":
        run, label, runtime, version, precision = ort_runner(w, args.threads)
    elif args.peer == "torch":
        run, label, runtime, version, precision = torch_runner(w, args.threads)
    else:
        run, label, runtime, version, precision = ov_runner(w, args.threads, args.peer[3:])
    load_ms = (time.perf_counter() - t0) * 1e3
    shape = W.input_shape(w)
    x = np.random.default_rng(7).standard_normal(shape, dtype=np.float32)

    t0 = time.perf_counter()
    run(x)
    cold = (time.perf_counter() - t0) * 1e3
    for _ in range(args.warmup):
        run(x)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        run(x)
        times.append((time.perf_counter() - t0) * 1e3)
    if meta is not None:
        gflop = meta["gflop"]
    else:  # torch without an export: count the work here (one more forward)
        gflop = W.gflop(W.Traceable(W.build(w, seed=0)), shape)
    med = statistics.median(times)
    print(json.dumps({
        "device": label, "model": w["name"], "batch": shape[0],
        "frames": w.get("frames", 1), "size": w["size"],
        "cold_ms": round(cold, 3), "warm_ms_median": round(med, 3),
        "warm_ms_min": round(min(times), 3), "gflop": round(gflop, 4),
        "gflops": round(gflop / (med * 1e-3), 2), "peak_device_bytes": None,
        "repeat": args.repeat, "workload": w["name"], "runtime": runtime, "version": version,
        "precision": precision, "threads": args.threads, "load_ms": round(load_ms, 1),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


if __name__ == "__main__":
    main()
