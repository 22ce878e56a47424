#!/usr/bin/env bash
# A config naming a component terracl does not have fails with one line that
# names the component and the registry it was looked up in, and suggests
# known names only when they are near (a slip), never far-fetched ones.
#   cli_components.sh TERRACL_BINARY FIXTURES_DIR
set -u
bin="$1"
fx="$2/fm_seg_fcn"
pyr="$2/fm_upernet_t3"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

# check NAME FROM TO REGISTRY SUGGESTION(the first; or "none") [FIXTURE]
check() {
  local name="$1" from="$2" to="$3" registry="$4" want="$5" dir="${6:-$fx}"
  sed "s/$from/$to/" "$dir/config.yaml" >"$work/c.yaml"
  "$bin" run --config "$work/c.yaml" --weights "$dir/weights.h5" --input "$dir/input.h5" \
    --output "$work/o.h5" >"$work/out.txt" 2>"$work/err.txt"
  local rc=$? ok=1 component="${to##*: }"
  [ "$rc" -ge 1 ] && [ "$rc" -le 127 ] || ok=0
  [ "$(wc -l <"$work/err.txt")" -eq 1 ] || ok=0
  grep -Eq "'$component' is not in the $registry registry \(sources: terratorch(, (timm|smp))?\)" "$work/err.txt" || ok=0
  if [ "$want" = none ]; then
    grep -q "did you mean" "$work/err.txt" && ok=0
  else
    grep -q "did you mean $want[,?]" "$work/err.txt" || ok=0
  fi
  [ -e "$work/o.h5" ] && ok=0
  if [ "$ok" -eq 1 ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL $name: exit $rc; stderr:"; cat "$work/err.txt"
  fi
}

check "other factory" "model_factory: EncoderDecoderFactory" "model_factory: GenericUnetModelFactory" MODEL_FACTORY none
check "factory typo" "model_factory: EncoderDecoderFactory" "model_factory: EncoderDecoderFactroy" MODEL_FACTORY EncoderDecoderFactory
# timm has a source now, with ResNets, ConvNeXts and plain ViTs only.
check "timm backbone" "backbone: prithvi_eo_v1_100" "backbone: timm_efficientnet_b0" BACKBONE none
check "backbone typo" "backbone: prithvi_eo_v1_100" "backbone: prithvi_eo_v1_10" BACKBONE prithvi_eo_v1_100
# smp has a source now, without Segformer and DPT.
check "smp decoder" "decoder: FCNDecoder" "decoder: smp_DPT" DECODER none
check "unknown decoder" "decoder: FCNDecoder" "decoder: SETRUPHead" DECODER none
check "decoder typo" "decoder: FCNDecoder" "decoder: FCNDecodr" DECODER FCNDecoder
check "unknown neck" "name: ReshapeTokensToImage" "name: FeaturePyramid" NECK none "$pyr"
check "neck typo" "name: ReshapeTokensToImage" "name: ReshapeTokensToImages" NECK ReshapeTokensToImage "$pyr"
# Sources TerraTorch has and terracl lacks are named.
sed "s/decoder: FCNDecoder/decoder: mmseg_UPerHead/" "$fx/config.yaml" >"$work/c.yaml"
"$bin" run --config "$work/c.yaml" --weights "$fx/weights.h5" --input "$fx/input.h5" --output "$work/o.h5" 2>"$work/err.txt"
if grep -q "terracl has no 'mmseg' source" "$work/err.txt"; then passed=$((passed + 1)); else
  failed=$((failed + 1)); echo "FAIL mmseg source not named:"; cat "$work/err.txt"
fi

echo "cli components: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
