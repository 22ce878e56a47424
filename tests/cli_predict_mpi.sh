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
# Under AddressSanitizer, Open MPI's own start-up allocations show up as
# leaks LeakSanitizer cannot attribute: ranks check memory errors, not leaks
# (the single-process runs here still check both).
mpin() {
  local np="$1"
  shift
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    "$mpiexec" --allow-run-as-root --oversubscribe -np "$np" "$@"
}
mpi2() { mpin 2 "$@"; }
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

# One scene split across ranks: the same output as one process (class maps
# identical, logits within 1e-6 relative L2), with nodata, with averaging and
# with average_patches false (the later chip wins), on 2 and 3 ranks.
rel_l2() { # FILE_A FILE_B: largest relative L2 distance over the bands
  local bands k worst=0 r
  bands="$(gdalinfo "$1" | grep -c '^Band ')"
  for k in $(seq 1 "$bands"); do
    r="$(paste <(gdal_translate -q -of XYZ -b "$k" "$1" /vsistdout/) \
               <(gdal_translate -q -of XYZ -b "$k" "$2" /vsistdout/) |
         awk '{d = $3 - $6; s += d * d; n += $3 * $3} END {printf("%.3g", (n > 0) ? sqrt(s / n) : sqrt(s))}')"
    worst="$(awk -v a="$worst" -v b="$r" 'BEGIN {print ((b > a) ? b : a)}')"
  done
  echo "$worst"
}
mkdir -p "$work/tall"
gdal_translate -q -outsize 61 150 -r near "$fx/scene.tif" "$work/tall/tall.tif"
sed 's/^\( *\)batch_size: 5/&\n\1average_patches: false/' "$fx/config.yaml" >"$work/last_wins.yaml"
grep -q 'average_patches: false' "$work/last_wins.yaml" || bad "could not write the average_patches: false config"
for cfg in "$fx/config.yaml" "$work/last_wins.yaml"; do
  nps="2 3"
  [ "$cfg" = "$fx/config.yaml" ] || nps=2
  for np in $nps; do
    rm -rf "$work/s1" "$work/s2"
    common=(predict --config "$cfg" --weights "$fx/weights.h5")
    one --input "$work/tall/tall.tif" --output-dir "$work/s1" --logits &&
      one --input "$work/tall/tall.tif" --output-dir "$work/s1"
    # One scene and more ranks: split without asking; --split-scene asks.
    mpin "$np" "$bin" "${common[@]}" \
      --input "$work/tall/tall.tif" --output-dir "$work/s2" --logits >"$work/out.txt" 2>"$work/err.txt" &&
      two --input "$work/tall/tall.tif" --output-dir "$work/s2" --split-scene
    if [ $? -eq 0 ]; then ok; else bad "$(basename "$cfg") -np $np: split scene failed"; fi
    if cmp -s "$work/s1/tall_pred.tif" "$work/s2/tall_pred.tif"; then ok; else bad "$(basename "$cfg") -np $np: class map differs"; fi
    d="$(rel_l2 "$work/s1/tall_logits.tif" "$work/s2/tall_logits.tif")"
    if awk -v d="$d" 'BEGIN {exit !(d <= 1e-6)}'; then ok; else bad "$(basename "$cfg") -np $np: logits rel L2 $d"; fi
    if [ "$(ls -A "$work/s2" | tr '\n' ' ')" = "tall_logits.tif tall_pred.tif " ]; then ok; else
      bad "split left files behind: $(ls -A "$work/s2" | tr '\n' ' ')"; fi
    if gdalinfo "$work/s2/tall_pred.tif" | grep -q 'Size is 61, 150'; then ok; else bad "joined size"; fi
  done
done
common=(predict --config "$fx/config.yaml" --weights "$fx/weights.h5")
# Georeferencing of the joined file is the scene's.
if [ "$(gdalinfo "$work/s2/tall_pred.tif" | grep -E 'Origin|Pixel Size')" = \
     "$(gdalinfo "$work/tall/tall.tif" | grep -E 'Origin|Pixel Size')" ]; then ok; else bad "joined georeferencing"; fi
# A scene with too few chip rows for the ranks fails on every rank, no hang.
gdal_translate -q -srcwin 0 0 61 24 "$fx/scene.tif" "$work/small.tif"
two --input "$work/small.tif" --output-dir "$work/small" --split-scene
if [ $? -ne 0 ] && grep -q 'cannot be shared by 2 parts' "$work/err.txt" && [ -z "$(ls -A "$work/small")" ]; then ok; else
  bad "too small a scene to split"; fi

echo "cli_predict_mpi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
