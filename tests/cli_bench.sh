#!/usr/bin/env bash
# `terracl bench` output as tools read it: the JSON record of a GEMM and of
# a backbone carries the fields bench/ scripts use, and --profile lists the
# kernels that ran with their launches per run, and for a convolutional
# backbone its convolution layers at the model's arithmetic; a backbone without default
# bands (TerraTorch's torchgeo names) is timed with its weights' bands.
#   cli_bench.sh TERRACL_BINARY
set -euo pipefail
bin="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$bin" bench --gemm 33,40,17 --repeat 3 --format json --profile >"$work/gemm.json"
"$bin" bench --backbone prithvi_eo_tiny --size 32 --repeat 2 --format json --profile \
  >"$work/bb.json" 2>/dev/null
"$bin" bench --gemm 33,40,17 --repeat 2 --profile >"$work/table.txt"
# A torchgeo backbone has no default bands: bench uses its weights' bands
# (13 for this Sentinel-2 ResNet-18), as `terracl info` shows them.
"$bin" bench --backbone ssl4eos12_resnet18_sentinel2_all_moco --size 32 --repeat 1 --format json --profile \
  >"$work/tg.json" 2>/dev/null
grep -q "device time per run by kernel" "$work/table.txt"

"${TERRACL_PYTHON:-python3}" - "$work/gemm.json" "$work/bb.json" "$work/tg.json" <<'PY'
import json, sys
tg = json.load(open(sys.argv[3]))
assert tg["model"] == "ssl4eos12_resnet18_sentinel2_all_moco" and tg["gflop"] > 0, tg
# ResNet-18's layers by shape: the 7x7 stem on 13 bands at 32x32 once, its
# model arithmetic exact; the layers' time is part of the kernels' time.
ops = {(r["operation"], r["shape"]): r for r in tg["operations"]}
stem = ops[("Conv2d", "7x7 13->64 @32x32 s2")]
assert stem["calls_per_run"] == 1.0 and stem["model_flops_per_run"] == 2 * 64 * 16 * 16 * 13 * 49, stem
assert sum(r["calls_per_run"] for r in tg["operations"]) >= 20, tg["operations"]
kernel_ms = sum(r["device_ms_per_run"] for r in tg["profile"])
assert 0 < sum(r["device_ms_per_run"] for r in tg["operations"]) <= kernel_ms * (1 + 1e-9), tg
gemm = json.load(open(sys.argv[1]))
for key in ("device", "gemm", "warm_ms_median", "gflops", "peak_device_bytes", "profile"):
    assert key in gemm, key
rows = [r for r in gemm["profile"] if r["variant"].startswith("33x40x17")]
assert len(rows) == 1, gemm["profile"]
assert rows[0]["launches_per_run"] == 1.0, rows
bb = json.load(open(sys.argv[2]))
assert bb["model"] == "prithvi_eo_tiny" and bb["random_weights"] is True, bb
kernels = {r["kernel"] for r in bb["profile"]}
assert "tc_layernorm_rows_cpu" in kernels or "tc_layernorm_rows" in kernels, kernels
total = sum(r["device_ms_per_run"] for r in bb["profile"])
assert 0 < total, bb["profile"]
print("bench output ok:", len(bb["profile"]), "kernels profiled")
PY
