#!/usr/bin/env bash
# Full-size parity check of the TerraMind v1 encoders (the test suite runs
# reduced-depth variants): makes terramind_v1_tiny, _small, _base and _large
# at full depth and width with the real TerraTorch (random weights) and runs
# terracl's parity test on them:
#   tmfull_*    one modality (S2L2A), batch 2 at 64x48
#   tmmmfull_*  S2L2A + S1GRD + DEM concatenated with S1GRD not given
#               (missing_mod_token), batch 2 at 64x48; for base also a whole
#               UperNet model on S2L2A + S1GRD (mean) at 225x223
#
#   tools/check_full_terramind.sh [tiny|small|base|large ...]
#
# Needs the packages of tools/requirements-fixtures.txt and a few GB of
# scratch space in ${TMPDIR:-/tmp}.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="$(mktemp -d "${TMPDIR:-/tmp}/terracl-full-terramind.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
only=()
multi=()
for v in "$@"; do
  only+=(--only "tmfull_$v")
  multi+=(--only "tmmmfull_$v")
  [ "$v" = base ] && multi+=(--only tmmmfull_base_upernet)
done
python3 tools/make_fixtures.py --full-terramind --out "$scratch" "${only[@]}"
python3 tools/make_terramind_fixtures.py --full --out "$scratch" "${multi[@]}"
[ -x build/tests/test_parity_backbones ] || tools/setup.sh
TERRACL_FIXTURES="$scratch" build/tests/test_parity_backbones tm
