#!/usr/bin/env bash
# Full-size parity check of the TerraMind v1 encoders (the test suite runs
# reduced-depth variants): makes terramind_v1_tiny, _small, _base and _large
# at full depth and width with the real TerraTorch (random weights, S2L2A,
# batch 2 at 64x48), then runs terracl's parity test on them.
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
for v in "$@"; do only+=(--only "tmfull_$v"); done
python3 tools/make_fixtures.py --full-terramind --out "$scratch" "${only[@]}"
[ -x build/tests/test_parity_backbones ] || tools/setup.sh
TERRACL_FIXTURES="$scratch" build/tests/test_parity_backbones tmfull_
