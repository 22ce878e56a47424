#!/usr/bin/env bash
# terracl against its peers, side by side in one run, two threads everywhere:
#   * the fp32 FMA peak (bench/fma_peak: AVX-512 intrinsics, and an OpenCL
#     float16 kernel on the OpenCL devices), the anchor of every "% of peak";
#   * SGEMM: `terracl bench --gemm` against numpy's OpenBLAS, run with
#     OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for that command only (an
#     environment may force old AVX2 kernels through them; the kernel set that
#     ran is recorded);
#   * TerraTorch's models (bench/workloads.py, exported to ONNX by
#     bench/export_onnx.py): `terracl bench` against ONNX Runtime, OpenVINO
#     fp32, OpenVINO bf16 (labelled bf16: not an fp32 result) and PyTorch with
#     TerraTorch's own module (bench/peer_bench.py).
# Every round times terracl and then each peer once per workload, so slow
# spells of a shared machine fall on all of them; ROUNDS rounds (default 3);
# the summary gives medians over the rounds. A peer that is not installed, or
# a model terracl cannot build, is skipped with its reason in the results.
# Writes one JSON object per line to bench/results/<host>-<date>.jsonl and
# prints bench/summarize.py's tables (also written next to it as .md).
#
#   [ROUNDS=3] [QUICK=1] [ONLY=name,...] [REPEAT=N] [DEVICE=cpu]
#   [PEERS="ort ov-fp32 ov-bf16 torch"] [PYTHON=python3] bench/run_all.sh
#
# QUICK=1 times a subset (one encoder, burn_scars.yaml at 224, ResNet-50 +
# UNet at 224, one GEMM shape). REPEAT: warm runs per process (default by
# the workload's size: 5 below 200 GFLOP, 3 below 500, else 2), after one
# cold run that also serves as the warm-up. Needs a build (cmake --build
# build) and, for the peers, pip install -r bench/requirements.txt.
set -uo pipefail
cd "$(dirname "$0")/.."
rounds="${ROUNDS:-3}"
device="${DEVICE:-cpu}"
peers="${PEERS:-ort ov-fp32 ov-bf16 torch}"
py="${PYTHON:-python3}"
tc=build/terracl
fma=build/bench/fma_peak
export POCL_MAX_PTHREAD_COUNT=2 OPENBLAS_NUM_THREADS=2 OMP_NUM_THREADS=2 MKL_NUM_THREADS=2
for f in "$tc" "$fma"; do
  [ -x "$f" ] || { echo "run_all.sh: $f is missing: cmake -S . -B build && cmake --build build -j2" >&2; exit 1; }
done
mkdir -p bench/results
out="bench/results/$(hostname)-$(date +%Y%m%d-%H%M%S).jsonl"
errf="$(mktemp)"
trap 'rm -f "$errf"' EXIT
start=$SECONDS

select=()
if [ -n "${ONLY:-}" ]; then select=(--only "$ONLY"); elif [ "${QUICK:-0}" = 1 ]; then select=(--quick); fi
gemms="588,2304,768 197,2304,768 9216,256,576"
[ "${QUICK:-0}" = 1 ] && gemms="588,2304,768"

# Models the peers need, exported once into bench/models/ (kept across runs).
if "$py" -c "import torch, onnx" 2>/dev/null; then
  "$py" bench/export_onnx.py "${select[@]}" 2>&1 | grep -E "^[a-z0-9_]+ +([0-9.]+ GFLOP|kept|FAILED)" || true
else
  echo "run_all.sh: torch or onnx missing: models not exported; ONNX peers will be skipped" >&2
fi
mapfile -t workloads < <("$py" bench/workloads.py "${select[@]}")

# emit RUNNER ROUND WALL_S [WORKLOAD]: JSON lines (objects or lists) on stdin -> lines in $out.
emit() {
  "$py" -c '
import json, sys
runtime, rnd, wall = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
workload = sys.argv[4] if len(sys.argv) > 4 else None
for line in sys.stdin.read().splitlines():
    if not line.strip():
        continue
    d = json.loads(line)
    for r in (d if isinstance(d, list) else [d]):
        r["runner"], r["round"], r["wall_s"] = runtime, rnd, wall
        if workload:
            r["workload"] = workload
        print(json.dumps(r))' "$@" >>"$out"
}

# skip_record RUNTIME WORKLOAD REASON: one line saying what was not timed and why.
skip_record() {
  "$py" -c 'import json, sys
print(json.dumps({"runner": sys.argv[1], "workload": sys.argv[2], "skipped": sys.argv[3]}))' \
    "$1" "$2" "$3" >>"$out"
  echo "  skipped $1 on $2: $3" >&2
}

declare -A skipped
# timed RUNTIME WORKLOAD ROUND CMD...: runs CMD, records its JSON or the reason it gave none.
timed() {
  local runtime="$1" workload="$2" rnd="$3" t0 rc json
  shift 3
  [ -n "${skipped[$runtime/$workload]:-}" ] && return
  t0=$EPOCHREALTIME
  json="$("$@" 2>"$errf")"
  rc=$?
  local wall
  wall=$(awk "BEGIN { printf \"%.2f\", $EPOCHREALTIME - $t0 }")
  if [ $rc -eq 0 ] && [ -n "$json" ]; then
    echo "$json" | emit "$runtime" "$rnd" "$wall" "$workload"
    printf '  %-8s %-32s %-8s %6.1f s\n' "round $rnd" "$workload" "$runtime" "$wall" >&2
  else
    skipped[$runtime/$workload]=1
    local reason
    reason="$(grep -v -i "warning" "$errf" | grep . | tail -n 1)"
    skip_record "$runtime" "$workload" "${reason:-exit status $rc}"
  fi
}

echo "results: $out" >&2
for rnd in $(seq "$rounds"); do
  echo "round $rnd of $rounds ($((SECONDS - start)) s)" >&2
  timed fma_peak peak "$rnd" "$fma" --repeat 5 --format json
  for shape in $gemms; do
    timed terracl "gemm $shape" "$rnd" "$tc" bench --gemm "$shape" --repeat 20 --device "$device" --format json
    timed openblas "gemm $shape" "$rnd" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
      "$py" bench/openblas_gemm.py "$shape" --repeat 20
  done
  for line in "${workloads[@]}"; do
    IFS=$'\t' read -r -a f <<<"$line"
    name="${f[0]}" gflop="${f[1]}" targs=("${f[@]:2}")
    rep="${REPEAT:-$("$py" -c 'import sys; g = float(sys.argv[1]); print(5 if g < 200 else 3 if g < 500 else 2)' "$gflop")}"
    timed terracl "$name" "$rnd" "$tc" bench "${targs[@]}" --repeat "$rep" --device "$device" --format json
    for peer in $peers; do
      timed "$peer" "$name" "$rnd" "$py" bench/peer_bench.py "$name" --peer "$peer" --repeat "$rep" \
        --warmup 0 --threads 2
    done
  done
  # The peak again at the end of the round: on a shared machine one
  # measurement can land on a loaded spell (the summary takes the maximum).
  timed fma_peak peak "$rnd" "$fma" --repeat 5 --format json
done
echo "wall time: $((SECONDS - start)) s" >&2
"$py" -c 'import json, sys
print(json.dumps({"run_all": {"rounds": int(sys.argv[1]), "wall_s": int(sys.argv[2]),
                  "quick": sys.argv[3] == "1", "peers": sys.argv[4].split()}}))' \
  "$rounds" "$((SECONDS - start))" "${QUICK:-0}" "$peers" >>"$out"
"$py" bench/summarize.py "$out" | tee "${out%.jsonl}.md"
echo "results: $out"
