#!/usr/bin/env bash
# Full-size parity check on the timm ResNets, ConvNeXts and ViTs (the test suite runs narrowed
# ones): makes the full_* fixtures of tools/make_fixtures.py with the real
# TerraTorch and timm (random weights) in a scratch folder, then runs
# terracl's parity test on them.
#
#   tools/check_full_timm.sh [FIXTURE ...]     (default: every full_* fixture)
#
# Needs the packages of tools/requirements-fixtures.txt and about 300 MB of
# scratch space in ${TMPDIR:-/tmp}. Set TERRACL_GEMM=clblast to check the
# CLBlast GEMM path instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="$(mktemp -d "${TMPDIR:-/tmp}/terracl-full-timm.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
only=()
for name in "$@"; do only+=(--only "$name"); done
if [ ${#only[@]} -eq 0 ]; then
  while read -r name _; do
    case "$name" in full_timm_*) only+=(--only "$name") ;; esac
  done < <(python3 tools/make_fixtures.py --list)
fi
python3 tools/make_fixtures.py --out "$scratch" "${only[@]}"
[ -x build/tests/test_parity_backbones ] || tools/setup.sh
TERRACL_FIXTURES="$scratch" build/tests/test_parity_backbones full_
