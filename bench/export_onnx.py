"""Exports the benchmark workloads (bench/workloads.py) from TerraTorch's own
modules to ONNX, for the runtimes that take ONNX (ONNX Runtime, OpenVINO).

    python3 bench/export_onnx.py [--quick] [--only NAME,...] [--force]
        [--terratorch-confs DIR]     # check burn_scars.yaml's model against ours

For each workload it writes, into the model cache (bench/models/, ignored by
git; $TERRACL_BENCH_MODELS elsewhere):
  NAME.onnx   the model, fixed input shape, opset 17 (which ONNX Runtime and
              OpenVINO both read; 18 where torch.export's exporter
              is needed), random weights (seed 0), eval mode;
  NAME.yaml   for whole models: the same model as a TerraTorch config, for
              `terracl bench --config`;
  NAME.json   input shape, GFLOP per forward (PyTorch's FlopCounterMode: 2 per
              multiply-add of matrix products and convolutions), versions.
Files already there are kept unless --force. Needs torch, terratorch, onnx.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads as W  # noqa: E402

OPSET = 17


def write_config(w):
    import yaml
    doc = {"model": {"class_path": "terratorch.tasks.SemanticSegmentationTask",
                     "init_args": {"model_factory": w["factory"],
                                   "model_args": json.loads(json.dumps(W.model_args(w)))}}}
    with open(W.config_path(w), "w") as f:
        f.write("# bench workload %s, written by bench/export_onnx.py\n" % w["name"])
        yaml.safe_dump(doc, f, sort_keys=False)


def check_burn_scars(confs):
    import yaml
    with open(os.path.join(confs, "burn_scars.yaml")) as f:
        theirs = yaml.safe_load(f)["model"]["init_args"]["model_args"]
    ours = json.loads(json.dumps(W.BURN_SCARS))
    if theirs != ours:
        sys.exit("burn_scars.yaml's model_args differ from bench/workloads.py's BURN_SCARS:\n"
                 "%s\n%s" % (theirs, ours))
    print("burn_scars.yaml: model_args match bench/workloads.py")


def ort_check(model, path, x):
    """Relative L2 distance between ONNX Runtime's output of the exported file
    and PyTorch's of the module (None without ONNX Runtime): the file is the
    same model."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    import numpy as np
    import torch
    with torch.no_grad():
        want = model(x).numpy()
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    got = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"]).run(
        None, {"input": x.numpy()})[0]
    return float(np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-30))


def export(w, force):
    import torch
    path = W.onnx_path(w)
    if w["kind"] == "model":
        write_config(w)
    if os.path.exists(path) and os.path.exists(W.meta_path(w)) and not force:
        print("%-34s kept (%s)" % (w["name"], path))
        return
    t0 = time.time()
    model = W.Traceable(W.build(w, seed=0))
    shape = W.input_shape(w)
    gflop = W.gflop(model, shape)
    x = torch.randn(*shape)
    tmp = path + ".part"
    # TorchScript-based exporter first (quick, plain graphs); the torch.export
    # one where it refuses an operator (UperNet's adaptive pooling to 3x3 and
    # 6x6 of a map those sizes do not divide).
    exporter = "torchscript"
    with torch.no_grad():
        try:
            torch.onnx.export(model, (x,), tmp, opset_version=OPSET, dynamo=False,
                              input_names=["input"], output_names=["output"],
                              do_constant_folding=True)
        except Exception as e:
            print("%-34s TorchScript exporter: %s; trying torch.export" % (
                w["name"], str(e).splitlines()[0][:120]), flush=True)
            exporter = "dynamo"
            torch.onnx.export(model, (x,), tmp, opset_version=max(OPSET, 18), dynamo=True,
                              external_data=False, input_names=["input"],
                              output_names=["output"])
    os.replace(tmp, path)
    check = ort_check(model, path, x)
    import importlib.metadata as md
    meta = {"workload": w["name"], "input_shape": shape, "gflop": round(gflop, 4),
            "opset": OPSET if exporter == "torchscript" else max(OPSET, 18),
            "exporter": exporter, "seed": 0, "ort_rel_l2": check,
            "terratorch": md.version("terratorch"), "torch": torch.__version__}
    if w["kind"] == "model":
        meta["config"] = W.config_path(w)
    with open(W.meta_path(w), "w") as f:
        json.dump(meta, f)
    print("%-34s %6.1f GFLOP  %6.1f MB  %5.1f s  ONNX Runtime vs PyTorch: rel. L2 %s" % (
        w["name"], gflop, os.path.getsize(path) / 1e6, time.time() - t0,
        "%.1e" % check if check is not None else "not checked"), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="only the QUICK=1 subset")
    ap.add_argument("--only", help="comma-separated workload names")
    ap.add_argument("--force", action="store_true", help="export again over existing files")
    ap.add_argument("--terratorch-confs", help="TerraTorch's examples/confs folder")
    args = ap.parse_args()
    if args.terratorch_confs:
        check_burn_scars(args.terratorch_confs)
    names = list(W.WORKLOADS)
    if args.only:
        names = args.only.split(",")
        unknown = [n for n in names if n not in W.WORKLOADS]
        if unknown:
            sys.exit("unknown workloads: %s (known: %s)" % (unknown, ", ".join(W.WORKLOADS)))
    elif args.quick:
        names = [n for n in names if W.WORKLOADS[n].get("quick")]
    os.makedirs(W.CACHE, exist_ok=True)
    import torch
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    failed = []
    for n in names:
        try:
            export(W.WORKLOADS[n], args.force)
        except Exception as e:  # one model that fails to export does not stop the rest
            print("%-34s FAILED: %s: %s" % (n, type(e).__name__, str(e).splitlines()[0][:200]),
                  flush=True)
            failed.append(n)
    if failed:
        sys.exit("export failed for: " + ", ".join(failed))


if __name__ == "__main__":
    main()
