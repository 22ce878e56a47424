#!/usr/bin/env bash
# Full-size parity check on the smp decoders and SMPModelFactory (the test
# suite runs reduced ones): makes the full_smp_* fixtures of
# tools/make_smp_fixtures.py with the real TerraTorch and
# segmentation-models-pytorch (random weights; full ResNet-34/50 encoders and
# smp's default decoder widths) in a scratch folder, then runs terracl's
# parity test on them.
#
#   tools/check_full_smp.sh [FIXTURE ...]     (default: every full_smp_* fixture)
#
# Needs the packages of tools/requirements-fixtures.txt and about 1 GB of
# scratch space in ${TMPDIR:-/tmp}. Set TERRACL_GEMM=clblast to check the
# CLBlast GEMM path instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="$(mktemp -d "${TMPDIR:-/tmp}/terracl-full-smp.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
only=()
for name in "$@"; do only+=(--only "$name"); done
if [ ${#only[@]} -eq 0 ]; then
  while read -r name _; do
    case "$name" in full_smp_*) only+=(--only "$name") ;; esac
  done < <(python3 tools/make_smp_fixtures.py --list)
fi
python3 tools/make_smp_fixtures.py --out "$scratch" "${only[@]}"
[ -x build/tests/test_parity_backbones ] || tools/setup.sh
TERRACL_FIXTURES="$scratch" build/tests/test_parity_backbones full_
