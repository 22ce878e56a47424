#!/usr/bin/env bash
# A LoRA fine-tuned TerraTorch model, as its user meets terracl: the Lightning
# .ckpt (and the plain .pt) made by TerraTorch + peft (tests/fixtures/lora_peft,
# tools/make_lora_fixture.py) is converted by tools/convert_checkpoint.py,
# which merges the adapters; terracl then matches TerraTorch's output
#   (a) with the converted checkpoint alone (the config stored in it),
#   (b) with the user's original config, peft_config included,
# and (c) refuses a checkpoint whose adapters were not merged, saying how to
# convert it. Needs numpy, h5py and torch in PYTHON (Debian's python3-torch
# is enough); skips (77) without them.
#   lora_checkpoint.sh TERRACL_BINARY FIXTURES_DIR TOOLS_DIR PYTHON
set -u
bin="$1"
fx="$2/lora_peft"
tools="$3"
python="$4"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

if ! "$python" -c "import numpy, h5py, torch" 2>/dev/null; then
  echo "SKIP: $python lacks numpy, h5py or torch (apt install python3-torch python3-h5py)"
  exit 77
fi
cfg="$fx/config_lora.yaml"

fail() {
  failed=$((failed + 1))
  echo "FAIL $1"
  [ -f "$work/err.txt" ] && cat "$work/err.txt"
}

convert() {  # convert NAME ARGS...
  local name="$1"
  shift
  if "$python" "$tools/convert_checkpoint.py" "$@" >"$work/out.txt" 2>"$work/err.txt"; then
    if grep -q "merged 11 LoRA adapters" "$work/out.txt" && grep -q "fused 2 split q/k/v" "$work/out.txt"; then
      passed=$((passed + 1))
      return 0
    fi
    fail "convert $name: expected 'merged 11 LoRA adapters ... fused 2 split q/k/v', got: $(cat "$work/out.txt")"
    return 1
  fi
  fail "convert $name: exit status $?"
  return 1
}

# matches NAME terracl-run-args...: runs terracl and compares with TerraTorch (rel L2 <= 1e-4).
matches() {
  local name="$1"
  shift
  rm -f "$work/o.h5"
  if ! "$bin" run "$@" --input "$fx/input.h5" --output "$work/o.h5" >"$work/out.txt" 2>"$work/err.txt"; then
    fail "$name: terracl run failed"
    return
  fi
  local msg
  if msg=$("$python" - "$work/o.h5" "$fx/expected.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    got = f["output"][()].astype(np.float64)
with h5py.File(sys.argv[2], "r") as f:
    want = f["output"][()].astype(np.float64)
if got.shape != want.shape:
    print("shape %s, expected %s" % (got.shape, want.shape)); sys.exit(1)
err = np.linalg.norm(got - want) / np.linalg.norm(want)
print("rel L2 %.2e" % err)
sys.exit(0 if err <= 1e-4 else 1)
PY
  ); then
    passed=$((passed + 1))
    echo "ok $name: $msg"
  else
    fail "$name: $msg"
  fi
}

# (a) Lightning .ckpt + the training config -> one file that runs alone.
if convert "model.ckpt --config" "$fx/model.ckpt" "$work/merged.h5" --config "$cfg"; then
  if "$python" - "$work/merged.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    cfg = f.attrs["config"]
    names = []
    f.visit(names.append)
cfg = cfg.decode() if isinstance(cfg, bytes) else cfg
bad = [n for n in names if "lora_" in n or "base_layer" in n or "base_model" in n or "_linear" in n]
sys.exit(1 if "peft_config" in cfg.split("model_args:")[1] or bad else 0)
PY
  then passed=$((passed + 1)); else fail "merged.h5 still has peft_config or adapter tensors"; fi
  matches "(a) converted .ckpt alone" --weights "$work/merged.h5"
  # (b) the user's original config, which still names peft_config
  matches "(b) original config + converted .ckpt" --config "$cfg" --weights "$work/merged.h5"
fi
# The .ckpt without --config: r and lora_alpha come from its hyper_parameters.
if convert "model.ckpt (hyper_parameters)" "$fx/model.ckpt" "$work/hp.h5"; then
  matches "(b) original config + .ckpt converted without --config" --config "$cfg" --weights "$work/hp.h5"
fi
# The plain .pt state dict with the config.
if convert "model.pt --config" "$fx/model.pt" "$work/pt.h5" --config "$cfg"; then
  matches "(a) converted .pt alone" --weights "$work/pt.h5"
fi
# A .pt has no hyper_parameters: without --config the converter cannot know lora_alpha.
if "$python" "$tools/convert_checkpoint.py" "$fx/model.pt" "$work/nocfg.h5" >"$work/out.txt" 2>"$work/err.txt"; then
  fail "model.pt without a config should not convert"
elif grep -q "no peft_config" "$work/err.txt" && [ ! -e "$work/nocfg.h5" ]; then
  passed=$((passed + 1))
else
  fail "model.pt without a config: unclear message"
fi

# (c) adapters not merged: the state dict written as it is (what a converter
# without LoRA support would have produced).
"$python" - "$fx/model.pt" "$work/raw.h5" "$tools" <<'PY'
import sys, torch
sys.path.insert(0, sys.argv[3])
from terracl_h5 import write_state_dict
sd = torch.load(sys.argv[1], map_location="cpu")
write_state_dict(sys.argv[2], {k: v.numpy() for k, v in sd.items()})
PY
echo "stale" >"$work/o.h5"
"$bin" run --config "$cfg" --weights "$work/raw.h5" --input "$fx/input.h5" --output "$work/o.h5" \
  >"$work/out.txt" 2>"$work/err.txt"
rc=$?
if [ "$rc" -ge 1 ] && [ "$rc" -le 127 ] && grep -q "unmerged LoRA/PEFT adapter" "$work/err.txt" &&
   grep -q "lora_A" "$work/err.txt" && grep -q "tools/convert_checkpoint.py" "$work/err.txt" &&
   [ "$(cat "$work/o.h5")" = "stale" ]; then
  passed=$((passed + 1))
  echo "ok (c) unmerged adapters refused: $(tail -1 "$work/err.txt")"
else
  fail "(c) unmerged checkpoint: exit $rc"
fi

# ... and that file converts too (it is read back and merged).
if convert "unmerged .h5 --config" "$work/raw.h5" "$work/remerged.h5" --config "$cfg"; then
  matches "(b) original config + re-converted unmerged .h5" --config "$cfg" --weights "$work/remerged.h5"
fi

echo "lora_checkpoint: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
