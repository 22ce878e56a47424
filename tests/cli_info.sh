#!/usr/bin/env bash
# `terracl info` shows every registered decoder and neck: with no arguments
# (an argument without a default gets an example, named in a comment), with
# the input channels (--channels) and with the component's own arguments
# (KEY=VALUE, e.g. UNetDecoder's channels=...). The printed YAML says what
# was resolved.
#   cli_info.sh TERRACL_BINARY
set -u
bin="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

# check NAME EXPECTED_RC PATTERN(on stdout, or stderr when failing) -- args
check() {
  local name="$1" want="$2" pattern="$3"
  shift 4
  "$bin" info "$@" >"$work/out.txt" 2>"$work/err.txt"
  local rc=$? where="$work/out.txt"
  [ "$want" -ne 0 ] && where="$work/err.txt"
  if [ "$rc" -eq "$want" ] && grep -q -- "$pattern" "$where"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL $name: exit $rc (wanted $want), expected '$pattern'; stdout / stderr:"
    cat "$work/out.txt" "$work/err.txt"
  fi
}

decoders=$("$bin" list decoders)
necks=$("$bin" list necks)
[ -n "$decoders" ] && [ -n "$necks" ] || { echo "FAIL: terracl list printed no decoders or necks"; exit 1; }
for d in $decoders; do
  check "$d defaults" 0 "^embed_dim: \[768" -- decoder "$d"
  # The same with a pyramid of four inputs, which every decoder takes.
  check "$d --channels" 0 "^embed_dim: \[32, 64, 128, 256\]" -- decoder "$d" --channels 32,64,128,256
done
for n in $necks; do
  check "$n defaults" 0 "^output channels: \[" -- neck "$n"
done

# UNetDecoder: its own channel list, in both spellings, and the example.
check "unet channels" 0 "^channels: \[256, 128, 64, 32\]" -- decoder UNetDecoder --channels 32,64,128,256 channels=256,128,64,32
check "unet yaml list" 0 "^channels: \[64, 32\]" -- decoder UNetDecoder "channels=[64, 32]"
check "unet inputs follow channels" 0 "^embed_dim: \[768, 768\]" -- decoder UNetDecoder channels=64,32
check "unet example" 0 "^# UNetDecoder has no default for channels.*channels=" -- decoder UNetDecoder
check "unet example is used" 0 "^channels: \[512, 256, 128, 64\]" -- decoder UNetDecoder
check "unet length mismatch" 1 "same length" -- decoder UNetDecoder --channels 32,64 channels=8,8,8
check "other arguments" 0 "^num_convs: 2" -- decoder FCNDecoder num_convs=2
check "backbone arguments" 0 "^num_frames: 3" -- backbone prithvi_eo_tiny num_frames=3
check "unknown argument" 2 "does not take the argument 'chanels'" -- decoder FCNDecoder chanels=3
check "bad value" 2 "channels" -- decoder UNetDecoder "channels=[1,"
check "bad --channels" 2 "--channels" -- decoder FCNDecoder --channels 32,x
check "help" 0 "KEY=VALUE" -- --help

echo "cli info: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
