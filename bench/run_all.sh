#!/usr/bin/env bash
# Side-by-side benchmarks: terracl on every OpenCL device (or $DEVICE)
# against OpenBLAS (GEMM) and PyTorch (backbones) on the same machine in
# the same run, two threads everywhere. terracl and its peer take turns,
# ROUNDS times each (default 3), so that slow spells of a shared machine
# fall on both sides; the summary gives the median over the rounds. Writes
# one JSON object per line to bench/results/<host>-<date>.jsonl and prints
# a table; bench/plot.py turns the file into a PNG.
#   [ROUNDS=3] bench/run_all.sh [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/.."
repeat="${1:-5}"
rounds="${ROUNDS:-3}"
device="${DEVICE:-all}"
export POCL_MAX_PTHREAD_COUNT=2 OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2
mkdir -p bench/results
out="bench/results/$(hostname)-$(date +%Y%m%d-%H%M%S).jsonl"
tc=build/terracl
py="${PYTHON:-python3}"
# Debian's own python3-torch, when it is there and is another Python.
debian_py=""
if [ -x /usr/bin/python3 ] && [ "$(command -v "$py")" != /usr/bin/python3 ] &&
   /usr/bin/python3 -c "import torch" 2>/dev/null; then
  debian_py=/usr/bin/python3
fi

emit() { # a JSON object or list on stdin -> one object per line in $out
  "$py" -c 'import json,sys
d=json.load(sys.stdin)
for r in (d if isinstance(d,list) else [d]): print(json.dumps(r))' >>"$out"
}

for shape in 588,2304,768 197,2304,768; do
  for _ in $(seq "$rounds"); do
    "$tc" bench --gemm "$shape" --repeat 20 --device "$device" --format json | emit
    "$py" bench/openblas_gemm.py "$shape" --repeat 20 | emit
  done
done
for frames in 1 3; do
  for _ in $(seq "$rounds"); do
    "$tc" bench --backbone prithvi_eo_v1_100 --frames "$frames" --size 224 --repeat "$repeat" \
      --device "$device" --format json 2>/dev/null | emit
    "$py" bench/pytorch_backbone.py --backbone prithvi_eo_v1_100 --frames "$frames" --size 224 \
      --repeat "$repeat" --threads 2 | emit
  done
  if [ -n "$debian_py" ]; then # about 100x slower: once
    "$debian_py" bench/pytorch_backbone.py --backbone prithvi_eo_v1_100 --frames "$frames" \
      --size 224 --repeat 2 --threads 2 | emit
  fi
done
for _ in $(seq "$rounds"); do
  "$tc" bench --backbone prithvi_eo_tiny --size 224 --repeat "$repeat" --device "$device" \
    --format json 2>/dev/null | emit
  "$py" bench/pytorch_backbone.py --backbone prithvi_eo_tiny --size 224 --repeat "$repeat" | emit
done
if [ -n "$debian_py" ]; then
  "$debian_py" bench/pytorch_backbone.py --backbone prithvi_eo_tiny --size 224 --repeat 2 | emit
fi

"$py" - "$out" <<'PY'
import collections, json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
runs = collections.OrderedDict()
for r in rows:
    what = r.get("gemm") or f"{r['model']} T={r.get('frames')}"
    runs.setdefault((what, r["device"]), []).append(r)
print(f"{'what':28} {'device':48} {'rounds':>6} {'warm ms':>9} {'GFLOP/s':>8}  (median over rounds)")
for (what, device), rs in runs.items():
    ms = statistics.median(r["warm_ms_median"] for r in rs)
    gf = statistics.median(r["gflops"] for r in rs)
    print(f"{what:28} {device[:48]:48} {len(rs):6d} {ms:9.2f} {gf:8.1f}")
PY
echo "results: $out"
