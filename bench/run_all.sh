#!/usr/bin/env bash
# Side-by-side benchmarks: terracl on every OpenCL device (or $DEVICE)
# against OpenBLAS (GEMM) and PyTorch (backbones) on the same machine in
# the same run, two threads everywhere. Writes one JSON object per line to
# bench/results/<host>-<date>.jsonl and prints a table; bench/plot.py turns
# the file into a PNG.
#   bench/run_all.sh [REPEAT]
set -euo pipefail
cd "$(dirname "$0")/.."
repeat="${1:-5}"
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
  "$tc" bench --gemm "$shape" --repeat 20 --device "$device" --format json | emit
  "$py" bench/openblas_gemm.py "$shape" --repeat 20 | emit
done
for frames in 1 3; do
  "$tc" bench --backbone prithvi_eo_v1_100 --frames "$frames" --size 224 --repeat "$repeat" \
    --device "$device" --format json 2>/dev/null | emit
  "$py" bench/pytorch_backbone.py --backbone prithvi_eo_v1_100 --frames "$frames" --size 224 \
    --repeat "$repeat" --threads 2 | emit
  if [ -n "$debian_py" ]; then
    "$debian_py" bench/pytorch_backbone.py --backbone prithvi_eo_v1_100 --frames "$frames" \
      --size 224 --repeat 2 --threads 2 | emit
  fi
done
"$tc" bench --backbone prithvi_eo_tiny --size 224 --repeat "$repeat" --device "$device" \
  --format json 2>/dev/null | emit
"$py" bench/pytorch_backbone.py --backbone prithvi_eo_tiny --size 224 --repeat "$repeat" | emit
if [ -n "$debian_py" ]; then
  "$debian_py" bench/pytorch_backbone.py --backbone prithvi_eo_tiny --size 224 --repeat 2 | emit
fi

"$py" - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'what':28} {'device':48} {'warm ms':>9} {'GFLOP/s':>8}")
for r in rows:
    what = r.get("gemm") or f"{r['model']} T={r.get('frames')}"
    print(f"{what:28} {r['device'][:48]:48} {r['warm_ms_median']:9.2f} {r['gflops']:8.1f}")
PY
echo "results: $out"
