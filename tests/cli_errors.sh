#!/usr/bin/env bash
# `terracl run` on bad input, as a user would meet it: every failure exits
# with a status in 1..127, prints one clear line on stderr naming what is
# wrong, never crashes, and never clobbers an existing output file.
#   cli_errors.sh TERRACL_BINARY FIXTURES_DIR
set -u
bin="$1"
fx="$2/bb_tiny"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python="${TERRACL_PYTHON:-$(command -v python3)}"
passed=0
failed=0

# expect_fail NAME PATTERN -- terracl args...
expect_fail() {
  local name="$1" pattern="$2"
  shift 3
  "$bin" "$@" >"$work/out.txt" 2>"$work/err.txt"
  local rc=$?
  local lines
  lines=$(wc -l <"$work/err.txt")
  if [ "$rc" -ge 1 ] && [ "$rc" -le 127 ] && grep -q -- "$pattern" "$work/err.txt" && [ "$lines" -ge 1 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name: exit $rc, expected a message matching '$pattern'; stderr was:"
    cat "$work/err.txt"
  fi
}

run_ok() {
  "$bin" run "$@" >"$work/out.txt" 2>"$work/err.txt"
}

# Bad files made from the good fixture with h5py.
"$python" - "$fx/weights.h5" "$fx/input.h5" "$work" <<'PY'
import sys, shutil, h5py, numpy as np
weights, inp, work = sys.argv[1:4]
def edit(name, fn):
    shutil.copy(weights, f"{work}/{name}.h5")
    with h5py.File(f"{work}/{name}.h5", "r+") as f:
        fn(f)
edit("missing", lambda f: f.__delitem__("blocks/1/mlp/fc1/weight"))
def misshape(f):
    del f["blocks/0/attn/qkv/weight"]
    f["blocks/0/attn/qkv/weight"] = np.zeros((192, 32), np.float32)
edit("misshaped", misshape)
def inttype(f):
    del f["norm/weight"]
    f["norm/weight"] = np.zeros((64,), np.int64)
edit("inttype", inttype)
data = open(weights, "rb").read()
open(f"{work}/truncated.h5", "wb").write(data[: len(data) // 2])
open(f"{work}/text.h5", "w").write("this is not a checkpoint\n")
# A checkpoint carrying a config whose image size would wrap the token count.
cfg = open(weights.rsplit("/", 1)[0] + "/config.yaml").read()
edit("hugeconfig", lambda f: f.attrs.__setitem__(
    "config", cfg.replace("backbone_img_size: 32", "backbone_img_size: 1099511627776")))
with h5py.File(inp, "r") as f:
    x = f["input"][()]
with h5py.File(f"{work}/channels.h5", "w") as f:
    f["input"] = x[:, :4]
with h5py.File(f"{work}/noinput.h5", "w") as f:
    f["image"] = x
# A 1.4 KB file declaring a 100 GiB input (compressed chunks never written).
with h5py.File(f"{work}/declared.h5", "w") as f:
    f.create_dataset("input", shape=(1, 6, 65536, 65536), dtype="f4", chunks=(1, 6, 256, 256),
                     compression="gzip")
PY
cfg="$fx/config.yaml"
good=(--config "$cfg" --weights "$fx/weights.h5" --input "$fx/input.h5")
printf 'model_args:\n  backbone: [unclosed\n' >"$work/broken.yaml"
sed 's/backbone: prithvi_eo_tiny/backbone: prithvi_eo_tinny/' "$cfg" >"$work/unknown.yaml"

expect_fail "missing config" "no-such.yaml" -- run --config "$work/no-such.yaml" --weights "$fx/weights.h5" --input "$fx/input.h5" --output "$work/o.h5"
expect_fail "broken yaml" "broken.yaml:[0-9]*:[0-9]*" -- run --config "$work/broken.yaml" --weights "$fx/weights.h5" --input "$fx/input.h5" --output "$work/o.h5"
expect_fail "unknown backbone" "prithvi_eo_tiny" -- run --config "$work/unknown.yaml" --weights "$fx/weights.h5" --input "$fx/input.h5" --output "$work/o.h5"
expect_fail "missing tensor" "blocks.1.mlp.fc1.weight" -- run --config "$cfg" --weights "$work/missing.h5" --input "$fx/input.h5" --output "$work/o.h5"
expect_fail "misshaped tensor" "expected \[192, 64\], found \[192, 32\]" -- run --config "$cfg" --weights "$work/misshaped.h5" --input "$fx/input.h5" --output "$work/o.h5"
expect_fail "integer tensor" "norm.weight" -- run --config "$cfg" --weights "$work/inttype.h5" --input "$fx/input.h5" --output "$work/o.h5"
expect_fail "truncated checkpoint" "truncated.h5" -- run --config "$cfg" --weights "$work/truncated.h5" --input "$fx/input.h5" --output "$work/o.h5"
expect_fail "not a checkpoint" "text.h5" -- run --config "$cfg" --weights "$work/text.h5" --input "$fx/input.h5" --output "$work/o.h5"
expect_fail "missing weights" "nothing-here.h5" -- run --config "$cfg" --weights "$work/nothing-here.h5" --input "$fx/input.h5" --output "$work/o.h5"
expect_fail "wrong channel count" "4 channels" -- run "${good[@]:0:4}" --input "$work/channels.h5" --output "$work/o.h5"
expect_fail "no input dataset" "input" -- run "${good[@]:0:4}" --input "$work/noinput.h5" --output "$work/o.h5"
expect_fail "declared huge input" "input \[1, 6, 65536, 65536\] needs an estimated" -- run "${good[@]:0:4}" --input "$work/declared.h5" --output "$work/o.h5"
# libhdf5 reads freed memory decoding this file (fatal under AddressSanitizer,
# where the probe in a child process reports it; silent otherwise).
expect_fail "HDF5 library fault" "malformed HDF5\|channels" -- run "${good[@]:0:4}" --input "$2/../data/hdf5_reads_freed_memory.h5" --output "$work/o.h5"
expect_fail "output folder missing" "no-such-folder" -- run "${good[@]}" --output "$work/no-such-folder/o.h5"
expect_fail "unknown device" "devices found" -- run "${good[@]}" --output "$work/o.h5" --device no-such-device
expect_fail "usage" "usage" -- run --config "$cfg"
expect_fail "huge img_size in a checkpoint's config" "img_size.*out of range" -- run --weights "$work/hugeconfig.h5" --input "$fx/input.h5" --output "$work/o.h5"
sed 's/backbone_num_frames: 1/backbone_num_frames: 4611686018427387904/' "$cfg" >"$work/frames.yaml"
expect_fail "huge num_frames" "num_frames" -- run --config "$work/frames.yaml" --weights "$fx/weights.h5" --input "$fx/input.h5" --output "$work/o.h5"

# ckpt_path with a band the pretrained checkpoint does not have.
mae="$(cd "$2/bb_mae_bands" && pwd)"
sed "s#backbone_ckpt_path: mae.h5#backbone_ckpt_path: $mae/mae.h5#; s/SWIR_2\]/COASTAL_AEROSOL]/" "$mae/config.yaml" >"$work/bands.yaml"
expect_fail "band not pretrained" "band COASTAL_AEROSOL" -- run --config "$work/bands.yaml" --input "$mae/input.h5" --output "$work/o.h5"

# Outputs that would destroy something: an input of the run (directly, through
# a symbolic or a hard link), a FIFO or device, a read-only file (also as root).
cp "$fx/weights.h5" "$work/w.h5"
cp "$fx/input.h5" "$work/in.h5"
cp "$cfg" "$work/c.yaml"
sums_before="$(cksum "$work/w.h5" "$work/in.h5" "$work/c.yaml")"
own=(--config "$work/c.yaml" --weights "$work/w.h5" --input "$work/in.h5")
ln -s "$work/w.h5" "$work/link.h5"
ln "$work/in.h5" "$work/hard.h5"
expect_fail "output is the weights" "is the run's input" -- run "${own[@]}" --output "$work/w.h5"
expect_fail "output is the input" "is the run's input" -- run "${own[@]}" --output "$work/in.h5"
expect_fail "output is the config" "is the run's input" -- run "${own[@]}" --output "$work/c.yaml"
expect_fail "output links to the weights" "is the run's input" -- run "${own[@]}" --output "$work/link.h5"
expect_fail "output is a hard link to the input" "is the run's input" -- run "${own[@]}" --output "$work/hard.h5"
if [ "$(cksum "$work/w.h5" "$work/in.h5" "$work/c.yaml")" = "$sums_before" ] && [ -L "$work/link.h5" ]; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAIL: an input was modified by a run writing onto it"
fi
rm -f "$work/link.h5" "$work/hard.h5"
mkfifo "$work/fifo.h5"
expect_fail "output is a FIFO" "not a regular file" -- run "${good[@]}" --output "$work/fifo.h5"
if [ -p "$work/fifo.h5" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: the FIFO was replaced"; fi
rm -f "$work/fifo.h5"
# FIFOs as inputs are refused at once instead of waiting for a writer.
mkfifo "$work/fifo_in.h5"
expect_fail "weights are a FIFO" "not a regular file" -- run --config "$cfg" --weights "$work/fifo_in.h5" --input "$fx/input.h5" --output "$work/o.h5"
expect_fail "input is a FIFO" "not a regular file" -- run "${good[@]:0:4}" --input "$work/fifo_in.h5" --output "$work/o.h5"
rm -f "$work/fifo_in.h5"
# A device node of our own (never /dev/null: a regression would replace it).
if mknod "$work/null.h5" c 1 3 2>/dev/null; then
  expect_fail "output is a device" "not a regular file" -- run "${good[@]}" --output "$work/null.h5"
  if [ -c "$work/null.h5" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: the device node was replaced"; fi
  rm -f "$work/null.h5"
fi
expect_fail "output is a folder" "not a regular file" -- run "${good[@]}" --output "$work"
echo "read-only" >"$work/ro.h5"
chmod 0444 "$work/ro.h5"
expect_fail "read-only output" "read-only" -- run "${good[@]}" --output "$work/ro.h5"
if [ "$(cat "$work/ro.h5")" = "read-only" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: a read-only output was replaced"; fi
rm -f "$work/ro.h5"

# A failed run leaves an existing output untouched.
echo "precious" >"$work/keep.h5"
expect_fail "no clobber" "norm.weight" -- run --config "$cfg" --weights "$work/inttype.h5" --input "$fx/input.h5" --output "$work/keep.h5"
if [ "$(cat "$work/keep.h5")" = "precious" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: existing output was modified"; fi
if ls -A "$work" | grep -q '^\.'; then failed=$((failed + 1)); echo "FAIL: temporary files left behind"; ls -A "$work"; else passed=$((passed + 1)); fi

# A good run writes the output, and replaces an old one.
if run_ok "${good[@]}" --output "$work/keep.h5" && "$python" -c "import h5py,sys; f=h5py.File(sys.argv[1]); assert f['output'].shape==(1,5,64)" "$work/keep.h5"; then
  passed=$((passed + 1))
else
  failed=$((failed + 1)); echo "FAIL: good run"; cat "$work/err.txt"
fi

echo "cli errors: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
