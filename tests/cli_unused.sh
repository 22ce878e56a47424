#!/usr/bin/env bash
# `terracl run` warns about checkpoint tensors the model leaves unused only
# when they are unexpected: BatchNorm counters, the recomputed pos_embed, an
# MAE checkpoint's decoder and mask_token (all ignored by TerraTorch too) and
# auxiliary heads (not part of the output) give no warning; any other unused tensor gives one line on stderr naming it.
#   cli_unused.sh TERRACL_BINARY FIXTURES_DIR
set -u
bin="$1"
fx="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python="${TERRACL_PYTHON:-$(command -v python3)}"
passed=0
failed=0

# run_case NAME EXPECTED(none|a tensor name) CONFIG WEIGHTS INPUT
run_case() {
  local name="$1" want="$2"
  "$bin" run --config "$3" --weights "$4" --input "$5" --output "$work/o.h5" >"$work/out.txt" 2>"$work/err.txt"
  local rc=$? warnings
  warnings=$(grep -c "unused tensor" "$work/err.txt")
  if [ "$rc" -ne 0 ]; then
    failed=$((failed + 1)); echo "FAIL $name: exit $rc"; cat "$work/err.txt"; return
  fi
  if [ "$want" = none ] && [ "$warnings" -eq 0 ]; then
    passed=$((passed + 1))
  elif [ "$want" != none ] && [ "$warnings" -eq 1 ] && [ "$(wc -l <"$work/err.txt")" -eq 1 ] &&
       grep -q "warning: 1 unused tensor: $want\$" "$work/err.txt"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); echo "FAIL $name: expected warning: $want; stderr:"; cat "$work/err.txt"
  fi
}

# Checkpoints with extra tensors, made from the fixtures with h5py.
"$python" - "$fx" "$work" <<'PY'
import sys, shutil, h5py, numpy as np
fx, work = sys.argv[1:3]
def edit(src, name, extra):
    shutil.copy(src, f"{work}/{name}.h5")
    with h5py.File(f"{work}/{name}.h5", "r+") as f:
        for key, value in extra.items():
            f[key.replace(".", "/")] = value
z = np.zeros((1, 1, 64), np.float32)
# A backbone alone: BatchNorm counter, MAE decoder, mask_token (flat layout).
edit(f"{fx}/bb_tiny/weights.h5", "bb_expected", {
    "extra_bn.num_batches_tracked": np.int64(7),
    "decoder.decoder_embed.weight": np.zeros((32, 64), np.float32),
    "decoder.decoder_pos_embed": z, "mask_token": z,
    "_timm_module.pos_embed": z})
edit(f"{fx}/bb_tiny/weights.h5", "bb_surprise", {"blocks.0.attn.surprise": z})
# A whole model: the decoder of a fine-tuned model is not an MAE decoder.
edit(f"{fx}/fm_seg_fcn/weights.h5", "fm_surprise", {"decoder.surprise": z})
edit(f"{fx}/fm_seg_fcn/weights.h5", "fm_expected", {"decoder.convs.0.1.num_batches_tracked": np.int64(3)})
PY
# A backbone-only config without ckpt_path, given the MAE checkpoint itself.
grep -v backbone_ckpt_path "$fx/bb_mae_ckpt/config.yaml" | sed 's/backbone_pretrained: true/backbone_pretrained: false/' >"$work/mae.yaml"

run_case "backbone fixture (pos_embed)" none "$fx/bb_tiny/config.yaml" "$fx/bb_tiny/weights.h5" "$fx/bb_tiny/input.h5"
run_case "backbone, expected extras" none "$fx/bb_tiny/config.yaml" "$work/bb_expected.h5" "$fx/bb_tiny/input.h5"
run_case "backbone, unexpected tensor" blocks.0.attn.surprise "$fx/bb_tiny/config.yaml" "$work/bb_surprise.h5" "$fx/bb_tiny/input.h5"
run_case "MAE checkpoint as weights" none "$work/mae.yaml" "$fx/bb_mae_ckpt/mae.h5" "$fx/bb_mae_ckpt/input.h5"
run_case "whole model (encoder.pos_embed)" none "$fx/fm_seg_fcn/config.yaml" "$fx/fm_seg_fcn/weights.h5" "$fx/fm_seg_fcn/input.h5"
run_case "whole model, BatchNorm counter" none "$fx/fm_seg_fcn/config.yaml" "$work/fm_expected.h5" "$fx/fm_seg_fcn/input.h5"
run_case "whole model, unexpected decoder tensor" decoder.surprise "$fx/fm_seg_fcn/config.yaml" "$work/fm_surprise.h5" "$fx/fm_seg_fcn/input.h5"
if [ -f "$fx/ex_sen1floods11/weights.h5" ]; then
  run_case "auxiliary heads" none "$fx/ex_sen1floods11/config.yaml" "$fx/ex_sen1floods11/weights.h5" "$fx/ex_sen1floods11/input.h5"
fi
run_case "UperNet with BatchNorm counters" none "$fx/fm_upernet_t3/config.yaml" "$fx/fm_upernet_t3/weights.h5" "$fx/fm_upernet_t3/input.h5"

echo "cli unused: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
