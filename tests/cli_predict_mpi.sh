#!/usr/bin/env bash
# `terracl predict` under mpirun with two ranks on this machine (loopback
# only): a folder of scenes gives the same files as one process, every
# output is written once, a rerun keeps what is done, and broken scenes
# fail only themselves.
#   cli_predict_mpi.sh TERRACL_BINARY FIXTURES_DIR MPIEXEC
set -u
bin="$1"
fx="$2/scenes/seg"
mpiexec="${3:-}"
if [ -z "$mpiexec" ] || ! command -v "$mpiexec" >/dev/null; then
  echo "SKIP: mpirun is not installed (Debian: openmpi-bin)"
  exit 77
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL $1"
  sed 's/^/  stderr: /' "$work/err.txt"
  sed 's/^/  stdout: /' "$work/out.txt"
}

# Containers: shared memory without the kernel's cross-memory attach,
# root allowed, more ranks than cores allowed.
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_hwloc_base_binding_policy=none
mpi2() { "$mpiexec" --allow-run-as-root --oversubscribe -np 2 "$@"; }
common=(predict --config "$fx/config.yaml" --weights "$fx/weights.h5")
one() { "$bin" "${common[@]}" "$@" >"$work/out.txt" 2>"$work/err.txt"; }
two() { mpi2 "$bin" "${common[@]}" "$@" >"$work/out.txt" 2>"$work/err.txt"; }
args() { echo --input "$work/in" --output-dir "$1"; }

mkdir -p "$work/in"
for s in c d e f g h; do cp "$fx/scene.tif" "$work/in/$s.tif"; done
# Broken scenes at both ends of the list, so both ranks are likely to meet one.
echo "not a raster" >"$work/in/a_text.tif"
head -c 3000 "$fx/scene.tif" >"$work/in/z_truncated.tif"

one $(args "$work/one")
if [ $? -eq 1 ]; then ok; else bad "one process: expected exit 1"; fi
two $(args "$work/two")
rc=$?
if [ "$rc" -ne 0 ]; then ok; else bad "two ranks with broken scenes: exit 0"; fi
for s in c d e f g h; do
  if cmp -s "$work/one/${s}_pred.tif" "$work/two/${s}_pred.tif"; then ok; else bad "$s: differs from one process"; fi
done
if [ "$(ls -A "$work/two" | tr '\n' ' ')" = "c_pred.tif d_pred.tif e_pred.tif f_pred.tif g_pred.tif h_pred.tif " ]; then ok; else
  bad "unexpected files: $(ls -A "$work/two" | tr '\n' ' ')"; fi
# Every scene predicted by exactly one rank, each broken one reported once.
if [ "$(grep -c '_pred.tif: 45 x 61' "$work/out.txt")" -eq 6 ]; then ok; else bad "not 6 predicted lines"; fi
for s in a_text z_truncated; do
  if [ "$(grep -c "$s.tif" "$work/err.txt")" -eq 1 ]; then ok; else bad "$s not reported once"; fi
done
if grep -q '^terracl predict: 2 ranks, 8 scenes (6 predicted, 0 kept, 2 failed).*MP/s overall; per rank MP/s: 0:[0-9.]* 1:[0-9.]*$' "$work/out.txt"; then ok; else
  bad "no summary line"; fi

# A rerun keeps every output and still reports the broken scenes.
before="$(stat -c %Y.%s "$work/two/"*)"
sleep 1
two $(args "$work/two")
if [ $? -ne 0 ] && [ "$(stat -c %Y.%s "$work/two/"*)" = "$before" ]; then ok; else bad "rerun rewrote outputs"; fi
if grep -q '^terracl predict: 2 ranks, 8 scenes (0 predicted, 6 kept, 2 failed)' "$work/out.txt"; then ok; else bad "rerun summary"; fi

# Good scenes only: exit 0, --device cpu:local resolves on every rank.
rm "$work/in/a_text.tif" "$work/in/z_truncated.tif"
two $(args "$work/three") --device cpu:local
if [ $? -eq 0 ] && [ "$(ls "$work/three" | wc -l)" -eq 6 ]; then ok; else bad "good scenes with --device cpu:local"; fi

echo "cli_predict_mpi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
