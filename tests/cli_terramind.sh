#!/usr/bin/env bash
# `terracl run` with multimodal TerraMind models: one dataset per modality,
# named as the config names it; outputs match TerraTorch's (the tm_mm_*
# fixtures); a missing, misshaped or off-grid modality is one clear line
# naming it; merge_method dict writes output/<modality>.
#   cli_terramind.sh TERRACL_BINARY FIXTURES_DIR
set -u
bin="$1"
fx="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python="${TERRACL_PYTHON:-$(command -v python3)}"
if [ -z "$python" ] || ! "$python" -c "import h5py, numpy" 2>/dev/null; then
  echo "skipped: needs python3 with h5py and numpy"
  exit 77
fi
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL $*"; cat "$work/err.txt"; }

# close OUT.h5 EXPECTED.h5 DATASET[:EXPECTED_DATASET]...: relative L2 <= 1e-4 for each.
close() {
  "$python" - "$@" <<'PY'
import sys, h5py, numpy as np
out, want = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
for arg in sys.argv[3:]:  # DATASET, or OUT_DATASET:EXPECTED_DATASET
    name, _, other = arg.partition(":")
    a, b = np.asarray(out[name], np.float64), np.asarray(want[other or name], np.float64)
    assert a.shape == b.shape, (name, a.shape, b.shape)
    e = np.linalg.norm(a - b) / np.linalg.norm(b)
    print("  %s %s: relative L2 %.3g" % (sys.argv[1].rsplit("/", 1)[-1], name, e))
    assert e <= 1e-4, e
PY
}

# expect_fail NAME PATTERN -- terracl run args...: exit 1..127, one line naming PATTERN.
expect_fail() {
  local name="$1" pattern="$2"
  shift 3
  "$bin" run "$@" >"$work/out.txt" 2>"$work/err.txt"
  local rc=$?
  if [ "$rc" -ge 1 ] && [ "$rc" -le 127 ] && grep -q -- "$pattern" "$work/err.txt" &&
     [ "$(wc -l <"$work/err.txt")" -le 2 ] && [ ! -e "$work/never.h5" ]; then
    ok
  else
    bad "$name: exit $rc, expected a message matching '$pattern'"
  fi
}

run() { "$bin" run "$@" >"$work/out.txt" 2>"$work/err.txt"; }

m="$fx/tm_mm_upernet_mean_odd_b2"
if run --config "$m/config.yaml" --weights "$m/weights.h5" --input "$m/input.h5" \
     --output "$work/mean.h5" && close "$work/mean.h5" "$m/expected.h5" output; then ok; else bad "two modalities, UperNet"; fi

d="$fx/tm_mm_bb_dict"
if run --config "$d/config.yaml" --weights "$d/weights.h5" --input "$d/input.h5" \
     --output "$work/dict.h5" && close "$work/dict.h5" "$d/expected.h5" output/S2L2A output/S1GRD
then ok; else bad "merge_method dict"; fi

t="$fx/tm_mm_unet_tiled" # tiled_inference with a dict: modalities stacked, chips split back
if run --tiled --config "$t/config.yaml" --weights "$t/weights.h5" --input "$t/input.h5" \
     --output "$work/tiled.h5" && close "$work/tiled.h5" "$t/expected.h5" output:tiled
then ok; else bad "--tiled with two modalities"; fi

s="$fx/tm_bb_base" # one modality, the plain `input` dataset
if run --config "$s/config.yaml" --weights "$s/weights.h5" --input "$s/input.h5" \
     --output "$work/one.h5" && close "$work/one.h5" "$s/expected.h5" output; then ok; else bad "one modality, input"; fi

# The concat fixture was made without S2L2A: refused unless asked for.
c="$fx/tm_mm_bb_concat_missing"
expect_fail "absent modality" "no dataset for modality S2L2A" -- --config "$c/config.yaml" \
  --weights "$c/weights.h5" --input "$c/input.h5" --output "$work/never.h5"
if run --config "$c/config.yaml" --weights "$c/weights.h5" --input "$c/input.h5" \
     --allow-missing-modalities --output "$work/concat.h5" &&
   close "$work/concat.h5" "$c/expected.h5" output; then ok; else bad "--allow-missing-modalities"; fi

# Misshaped, off-grid and unnamed modalities, made from the good input.
"$python" - "$m/input.h5" "$work" <<'PY'
import sys, h5py, numpy as np
src, work = sys.argv[1:3]
with h5py.File(src, "r") as f:
    s2, s1 = np.asarray(f["S2L2A"]), np.asarray(f["S1GRD"])
def write(name, **ds):
    with h5py.File("%s/%s.h5" % (work, name), "w") as f:
        for k, v in ds.items():
            f[k] = v
write("channels", S2L2A=s2, S1GRD=np.zeros((2, 3) + s1.shape[2:], np.float32))
write("grid", S2L2A=s2, S1GRD=s1[:, :, :40])
write("batch", S2L2A=s2, S1GRD=s1[:1])
write("rank", S2L2A=s2, S1GRD=s1[:, 0])
write("plain", input=s2)
PY
args=(--config "$m/config.yaml" --weights "$m/weights.h5" --output "$work/never.h5")
expect_fail "channels" "modality S1GRD.*3 channels; the model expects 2" -- "${args[@]}" --input "$work/channels.h5"
expect_fail "grid" "modality S1GRD.*does not match modality S2L2A" -- "${args[@]}" --input "$work/grid.h5"
expect_fail "rank" "dataset S1GRD.*expected rank 4" -- "${args[@]}" --input "$work/rank.h5"
expect_fail "plain input" "no dataset for any modality of the model (S2L2A, S1GRD)" -- "${args[@]}" --input "$work/plain.h5"
expect_fail "dict to png" "one output per modality" -- --config "$d/config.yaml" \
  --weights "$d/weights.h5" --input "$d/input.h5" --output "$work/never.png"

# ckpt_path as TerraTorch loads it: TerraMindViT's own keys, bands picked
# from the pretrained ones; a whole model's checkpoint there is refused, a
# band the checkpoint has no weights for too, and pretrained without a file.
k="$fx/tm_mm_bb_ckpt_bands"
if run --config "$k/config.yaml" --input "$k/input.h5" --output "$work/ckpt.h5" &&
   close "$work/ckpt.h5" "$k/expected.h5" output; then ok; else bad "ckpt_path with bands"; fi
"$python" - "$k" "$m" "$work" <<'PY'
import sys, h5py
k, m, work = sys.argv[1:4]
cfg = open(k + "/config.yaml").read()
def config(name, text):
    open("%s/%s.yaml" % (work, name), "w").write(text)
with h5py.File(k + "/tm_ckpt.h5", "r") as src, h5py.File(work + "/whole.h5", "w") as dst:
    src.copy(src["/"], dst, name="encoder")  # every tensor under encoder.
config("whole", cfg.replace("tm_ckpt.h5", "whole.h5"))
config("badband", cfg.replace("tm_ckpt.h5", k + "/tm_ckpt.h5").replace("GREEN]", "NDWI]"))
config("pretrained", cfg.replace("backbone_ckpt_path: tm_ckpt.h5", "backbone_pretrained: true"))
config("tim", cfg.replace("terramind_v1_small", "terramind_v1_small_tim"))
# A backbone alone reads the encoder of a whole model's checkpoint.
mc = open(m + "/config.yaml").read()
config("bbonly", mc.split("  necks:")[0])
PY
expect_fail "ckpt_path of a whole model" "under 'encoder.'" -- --config "$work/whole.yaml" \
  --input "$k/input.h5" --output "$work/never.h5"
expect_fail "band not pretrained" "band NDWI of modality S2L2A is not among its pretrained bands" -- \
  --config "$work/badband.yaml" --input "$k/input.h5" --output "$work/never.h5"
expect_fail "pretrained without ckpt_path" "never downloads" -- --config "$work/pretrained.yaml" \
  --input "$k/input.h5" --output "$work/never.h5"
expect_fail "_tim" "thinking-in-modalities" -- --config "$work/tim.yaml" \
  --input "$k/input.h5" --output "$work/never.h5"
"$python" - "$m/input.h5" "$work/crop.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f, h5py.File(sys.argv[2], "w") as g:
    for k in f:
        g[k] = f[k][:, :, :32, :32]  # whole patches: a backbone alone does not pad
PY
if run --config "$work/bbonly.yaml" --weights "$m/weights.h5" --input "$work/crop.h5" \
     --output "$work/bbonly.h5" &&
   "$python" -c "import h5py,sys; assert h5py.File(sys.argv[1])['output'].shape == (2, 4, 32)" \
     "$work/bbonly.h5"; then ok; else bad "backbone alone from a whole model's checkpoint"; fi

# The benchmark makes a plain input of the first modality's channels.
if "$bin" bench --backbone terramind_v1_tiny --size 32 --repeat 1 --format json \
     >"$work/out.txt" 2>"$work/err.txt" && grep -q '"model": *"terramind_v1_tiny"' "$work/out.txt"
then ok; else bad "bench terramind_v1_tiny"; cat "$work/out.txt"; fi

# terracl predict with one plain scene for a model with several modalities:
# the scene is the first modality, and the missing one is named.
scene="$(dirname "$0")/../weights/sample/scene.tif"
if [ -f "$scene" ] && [ -z "${TERRACL_TEST_NO_GEOTIFF:-}" ]; then
  "$bin" predict --config "$m/config.yaml" --weights "$m/weights.h5" --input "$scene" \
    --output-dir "$work/pred" >"$work/out.txt" 2>"$work/err.txt"
  if [ $? -ne 0 ] && grep -q "no scene for modality S1GRD (the model's modalities: S2L2A, S1GRD)" \
       "$work/err.txt" && [ -z "$(ls -A "$work/pred" 2>/dev/null)" ]; then ok; else
    bad "predict with several modalities, one scene"; fi
fi

echo "cli_terramind: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
