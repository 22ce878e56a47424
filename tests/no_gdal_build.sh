#!/usr/bin/env bash
# The tool of a build without GDAL (cmake -DTERRACL_WITH_GDAL=OFF), as
# tools/test.sh builds it: it links no GDAL, runs the sample model to the
# numbers of weights/sample/expected.h5, and refuses a GeoTIFF scene with a
# message naming the file and the build option, writing nothing.
#   tests/no_gdal_build.sh BUILD_DIR/terracl [PYTHON]
set -u
bin="$1"
python="${2:-}"
[ -n "$python" ] || python="$(command -v python3)"
sample="$(cd "$(dirname "$0")/../weights/sample" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }

if command -v ldd >/dev/null && ldd "$bin" | grep -q "libgdal"; then bad "links GDAL"; else ok; fi

if "$bin" run --weights "$sample/weights.h5" --input "$sample/input.h5" \
     --output "$work/out.h5" >"$work/run.txt" 2>&1; then ok; else
  bad "the sample model"; cat "$work/run.txt"; fi
if [ -f "$work/out.h5" ] && "$python" -c "import h5py, numpy" 2>/dev/null; then
  if "$python" - "$work/out.h5" "$sample/expected.h5" <<'PY'
import sys, h5py, numpy as np
got = h5py.File(sys.argv[1])["output"][()].astype(np.float64)
want = h5py.File(sys.argv[2])["output"][()].astype(np.float64)
assert got.shape == want.shape, (got.shape, want.shape)
err = np.linalg.norm(got - want) / np.linalg.norm(want)
assert err <= 1e-4, err
PY
  then ok; else bad "the sample model's output against expected.h5"; fi
fi

"$bin" predict --weights "$sample/scene_model.h5" --input "$sample/scene.tif" \
  --output-dir "$work/pred" >"$work/out.txt" 2>"$work/err.txt"
status=$?
if [ $status -ne 0 ] && grep -q "scene.tif: this terracl was built without GDAL (TERRACL_WITH_GDAL=OFF)" \
     "$work/err.txt"; then ok; else bad "predict on a GeoTIFF (exit $status)"; cat "$work/err.txt"; fi
if [ -z "$(find "$work/pred" -type f 2>/dev/null)" ]; then ok; else
  bad "files written by a refused predict: $(find "$work/pred" -type f)"; fi

echo "no_gdal_build: $passed passed, $failed failed"
[ $failed -eq 0 ]
