#!/usr/bin/env bash
# `terracl predict` as a user meets it: a folder of scenes where some are
# bad. Each bad scene gets one line naming the file and the problem, leaves
# no output (nor temporary file) behind, the good scenes still run, and the
# exit status says that some failed. Also: --logits/--out-dtype, resuming a
# folder run, a non-georeferenced scene (runs, warns), bad options, and
# multimodal models (--input NAME=FILE per modality).
#   cli_predict.sh TERRACL_BINARY FIXTURES_DIR
set -u
bin="$1"
fx="$2/scenes/seg"
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() {
  failed=$((failed + 1))
  echo "FAIL $1"
  sed 's/^/  stderr: /' "$work/err.txt"
}

predict() {
  "$bin" predict --config "$fx/config.yaml" --weights "$fx/weights.h5" --quiet "$@" \
    >"$work/out.txt" 2>"$work/err.txt"
}

if ! command -v gdal_translate >/dev/null || ! command -v gdal_create >/dev/null; then
  echo "SKIP: gdal-bin (gdal_translate, gdal_create) is not installed"
  exit 77
fi

in="$work/in"
out="$work/out"
mkdir -p "$in" "$out"
cp "$fx/scene.tif" "$in/a_good.tif"
cp "$fx/scene.tif" "$in/e_good_too.TIFF"
# Fewer bands than dataset_bands names.
gdal_translate -q -b 1 -b 2 -b 3 "$fx/scene.tif" "$in/b_three_bands.tif"
# A complex band type.
gdal_create -q -of GTiff -outsize 40 40 -bands 7 -ot CFloat32 "$in/c_complex.tif"
# Truncated and not a TIFF at all.
head -c 3000 "$fx/scene.tif" >"$in/d_truncated.tif"
echo "not a raster" >"$in/f_text.tif"
echo "ignored: not a tif" >"$in/notes.txt"

predict --input "$in" --output-dir "$out"
rc=$?
if [ "$rc" -ge 1 ] && [ "$rc" -le 127 ]; then ok; else bad "folder with bad scenes: exit $rc, expected 1..127"; fi
for f in a_good e_good_too; do
  if [ -s "$out/${f}_pred.tif" ]; then ok; else bad "good scene $f was not predicted"; fi
done
for pat in "b_three_bands.tif: has 3 bands but dataset_bands names 7" \
           "c_complex.tif: band 1 has type CFloat32" \
           "d_truncated.tif" "f_text.tif: cannot open" "4 of 6 scenes failed"; do
  if grep -q -- "$pat" "$work/err.txt"; then ok; else bad "no line matching '$pat'"; fi
done
# One line per failed scene plus the summary; nothing else left behind.
if [ "$(grep -c '^terracl: ' "$work/err.txt")" -le 6 ]; then ok; else bad "more than one line per failure"; fi
if [ "$(ls -A "$out" | sort | tr '\n' ' ')" = "a_good_pred.tif e_good_too_pred.tif " ]; then ok; else
  bad "unexpected files in the output folder: $(ls -A "$out" | tr '\n' ' ')"; fi

# Resuming: existing outputs are kept (not rewritten) unless --overwrite.
before="$(stat -c %Y.%s "$out/a_good_pred.tif")"
sleep 1
predict --input "$in/a_good.tif" --output-dir "$out"
if [ $? -eq 0 ] && [ "$(stat -c %Y.%s "$out/a_good_pred.tif")" = "$before" ]; then ok; else bad "existing output not kept"; fi
predict --input "$in/a_good.tif" --output-dir "$out" --overwrite
if [ $? -eq 0 ] && [ "$(stat -c %Y.%s "$out/a_good_pred.tif")" != "$before" ]; then ok; else bad "--overwrite did not rewrite"; fi

# Input folder = output folder: a second run treats earlier predictions as
# outputs, not scenes, and keeps them.
mkdir -p "$work/same"
cp "$fx/scene.tif" "$work/same/s.tif"
predict --input "$work/same" --output-dir "$work/same"
predict --input "$work/same" --output-dir "$work/same"
if [ $? -eq 0 ] && [ "$(ls "$work/same" | tr '\n' ' ')" = "s.tif s_pred.tif " ]; then ok; else bad "same input and output folder"; fi

# --logits: one float32 band per class; --out-dtype int32.
predict --input "$in/a_good.tif" --output-dir "$out" --logits
if gdalinfo "$out/a_good_logits.tif" | grep -q "Band 3 Block=256x256 Type=Float32"; then ok; else bad "--logits output"; fi
predict --input "$in/a_good.tif" --output-dir "$work/i32" --out-dtype int32
if gdalinfo "$work/i32/a_good_pred.tif" | grep -q "Type=Int32" &&
   gdalinfo "$work/i32/a_good_pred.tif" | grep -q "NoData Value=-1" &&
   gdalinfo "$work/i32/a_good_pred.tif" | grep -q "COMPRESSION=LZW"; then ok; else bad "--out-dtype int32"; fi
predict --input "$in/a_good.tif" --output-dir "$out" --out-dtype uint8 --overwrite
if [ $? -ne 0 ] && grep -q "cannot hold the nodata value -1" "$work/err.txt"; then ok; else bad "uint8 accepted"; fi

# A scene without georeferencing runs and warns.
gdal_create -q -of GTiff -outsize 61 45 -bands 7 -ot Int16 -burn 1500 "$work/plain.tif"
predict --input "$work/plain.tif" --output-dir "$work/plain_out"
if [ $? -eq 0 ] && [ -s "$work/plain_out/plain_pred.tif" ] &&
   grep -q "warning: .*plain.tif has no georeferencing" "$work/err.txt"; then ok; else bad "non-georeferenced scene"; fi

# An output folder that is a file, or cannot be created.
touch "$work/file"
predict --input "$in/a_good.tif" --output-dir "$work/file"
if [ $? -ne 0 ] && grep -q "is not a folder" "$work/err.txt"; then ok; else bad "output folder that is a file"; fi
predict --input "$in/a_good.tif" --output-dir "$work/file/sub"
if [ $? -ne 0 ] && grep -q "cannot create the output folder" "$work/err.txt"; then ok; else bad "uncreatable output folder"; fi
# means/stds of another length than the model's bands: every scene says so.
sed -e 's/^    means: \[775.2, /    means: [/' -e 's/^    stds: \[1281.5, /    stds: [/' \
  "$fx/config.yaml" >"$work/short_means.yaml"
"$bin" predict --config "$work/short_means.yaml" --weights "$fx/weights.h5" --quiet \
  --input "$in/a_good.tif" --output-dir "$work/sm" >"$work/out.txt" 2>"$work/err.txt"
if [ $? -eq 1 ] && grep -q "a_good.tif: means/stds have 5 values but the model gets 6 bands" "$work/err.txt" &&
   [ -z "$(ls -A "$work/sm")" ]; then ok; else bad "means of the wrong length"; fi
# A malformed data section is reported with the config's file and line.
sed 's/^    constant_scale: 1.0/    constant_scale: big/' "$fx/config.yaml" >"$work/bad_scale.yaml"
"$bin" predict --config "$work/bad_scale.yaml" --weights "$fx/weights.h5" --quiet \
  --input "$in/a_good.tif" --output-dir "$work/bs" >"$work/out.txt" 2>"$work/err.txt"
if [ $? -eq 1 ] && grep -q "bad_scale.yaml:[0-9]*:[0-9]*: constant_scale must be a number" "$work/err.txt"; then
  ok; else bad "malformed constant_scale"; fi
# An output that is the input (through a link): refused, input untouched.
mkdir -p "$work/loop"
cp "$fx/scene.tif" "$work/loop/s.tif"
ln -s "$work/loop/s.tif" "$work/loop/s_pred.tif"
sum_before="$(md5sum <"$work/loop/s.tif")"
predict --input "$work/loop/s.tif" --output-dir "$work/loop" --overwrite
if [ $? -eq 1 ] && grep -q "would overwrite the input scene" "$work/err.txt" &&
   [ "$(md5sum <"$work/loop/s.tif")" = "$sum_before" ]; then ok; else bad "output equal to the input"; fi
# A missing input, and options.
predict --input "$work/nope.tif" --output-dir "$out"
if [ $? -ne 0 ] && grep -q "nope.tif: No such file" "$work/err.txt"; then ok; else bad "missing input"; fi
"$bin" predict --input x >"$work/out.txt" 2>"$work/err.txt"
if [ $? -eq 2 ] && grep -q "required" "$work/err.txt"; then ok; else bad "missing --output-dir"; fi
"$bin" predict --help >"$work/out.txt" 2>"$work/err.txt"
if [ $? -eq 0 ] && grep -q -- "--logits" "$work/out.txt"; then ok; else bad "--help"; fi

# Several modalities: one scene per modality (NAME=FILE) is one prediction,
# named after the first; the class map equals TerraTorch's (test_predict_multimodal
# checks the numbers), bad inputs are refused naming the modality.
mm="$2/scenes/mm"
mmp() {
  "$bin" predict --config "$mm/config.yaml" --weights "$mm/weights.h5" --quiet "$@" \
    >"$work/out.txt" 2>"$work/err.txt"
}
mmp --input "S2L2A=$mm/s2.tif" --input "S1GRD=$mm/s1.tif" --output-dir "$work/mm"
if [ $? -eq 0 ] && [ "$(ls "$work/mm" | tr '\n' ' ')" = "s2_pred.tif " ] &&
   gdalinfo "$work/mm/s2_pred.tif" | grep -q "NoData Value=-1"; then ok; else bad "multimodal predict"; fi
if "${TERRACL_PYTHON:-python3}" - "$mm/expected.h5" "$work/mm/s2_pred.tif" <<'PY' 2>/dev/null
import sys, h5py, numpy as np, rasterio
want = h5py.File(sys.argv[1])["pred"][()]
with rasterio.open(sys.argv[2]) as src:
    got = src.read(1)
sys.exit(0 if np.array_equal(want, got) else 1)
PY
then ok; elif "${TERRACL_PYTHON:-python3}" -c "import h5py, rasterio" 2>/dev/null; then
  bad "multimodal class map differs from TerraTorch's"; fi
mmp --input "S2L2A=$mm/s2.tif" --input "S1GRD=$mm/s1_shifted.tif" --output-dir "$work/mm2"
if [ $? -eq 1 ] && grep -q "modality S1GRD: .*s1_shifted.tif is not on the grid of modality S2L2A's" \
     "$work/err.txt" && [ -z "$(ls -A "$work/mm2")" ]; then ok; else bad "multimodal: off-grid scene"; fi
mmp --input "S2L2A=$mm/s2.tif" --output-dir "$work/mm2"
if [ $? -eq 1 ] && grep -q "no scene for modality S1GRD" "$work/err.txt"; then ok; else
  bad "multimodal: missing modality"; fi
mmp --input "S1GRD=$mm/s1.tif" --output-dir "$work/mm3" --allow-missing-modalities
if [ $? -eq 0 ] && [ -s "$work/mm3/s1_pred.tif" ]; then ok; else bad "--allow-missing-modalities"; fi
mmp --input "S2L2A=$mm/s2.tif" --input "S1RTC=$mm/s1.tif" --output-dir "$work/mm2"
if [ $? -eq 1 ] && grep -q "modality 'S1RTC' is not one of the model's modalities (S2L2A, S1GRD)" \
     "$work/err.txt"; then ok; else bad "multimodal: unknown modality"; fi
mmp --input "S2L2A=$mm/s2.tif" --input "S2L2A=$mm/s1.tif" --output-dir "$work/mm2"
if [ $? -eq 1 ] && grep -q "modality S2L2A is given twice" "$work/err.txt"; then ok; else
  bad "multimodal: modality given twice"; fi
mmp --input "S2L2A=$mm/s2.tif" --input "$mm/s1.tif" --output-dir "$work/mm2"
if [ $? -eq 2 ] && grep -q "not both" "$work/err.txt"; then ok; else bad "multimodal: plain and named inputs"; fi
mmp --input "S2L2A=$mm" --output-dir "$work/mm2"
if [ $? -eq 2 ] && grep -q "one scene file, not a folder" "$work/err.txt"; then ok; else
  bad "multimodal: a folder as a modality"; fi
sed 's/^    no_data_replace: 0/    concat_bands: true\n&/' "$mm/config.yaml" >"$work/mm_concat.yaml"
"$bin" predict --config "$work/mm_concat.yaml" --weights "$mm/weights.h5" --quiet \
  --input "S2L2A=$mm/s2.tif" --input "S1GRD=$mm/s1.tif" --output-dir "$work/mm2" >"$work/out.txt" 2>"$work/err.txt"
if [ $? -eq 1 ] && grep -q "mm_concat.yaml:[0-9]*:[0-9]*: concat_bands .* is not supported" "$work/err.txt"; then
  ok; else bad "multimodal: concat_bands"; fi

# run --tiled on an HDF5 batch: the tiled result has TerraTorch's shape.
"${TERRACL_PYTHON:-python3}" - "$2/scenes/seg/expected.h5" "$work/in.h5" <<'PY' 2>/dev/null
import sys, h5py
with h5py.File(sys.argv[1]) as f, h5py.File(sys.argv[2], "w") as g:
    g["input"] = f["input"][()]
PY
if [ -s "$work/in.h5" ]; then
  "$bin" run --config "$fx/config.yaml" --weights "$fx/weights.h5" --input "$work/in.h5" \
    --output "$work/tiled.h5" --tiled >"$work/out.txt" 2>"$work/err.txt"
  if [ $? -eq 0 ] && grep -q "output \[1, 3, 45, 61\]" "$work/out.txt"; then ok; else bad "run --tiled"; fi
fi

echo "cli_predict: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
