#!/usr/bin/env bash
# Full-size parity check on the timm ResNets, ConvNeXts and ViTs and on
# TerraTorch's torchgeo backbones built from them (the test suite runs
# narrowed ones): makes the full_timm_* fixtures of tools/make_fixtures.py
# and the full_torchgeo_* ones of tools/make_torchgeo_fixtures.py with the
# real TerraTorch, timm and torchgeo (random weights) in a scratch folder,
# then runs terracl's parity test on them.
#
#   tools/check_full_timm.sh [FIXTURE ...]     (default: every one of them)
#
# Needs the packages of tools/requirements-fixtures.txt and about 400 MB of
# scratch space in ${TMPDIR:-/tmp}. Set TERRACL_GEMM=clblast to check the
# CLBlast GEMM path instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="$(mktemp -d "${TMPDIR:-/tmp}/terracl-full-timm.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
timm=()
torchgeo=()
for name in "$@"; do
  case "$name" in
    full_torchgeo_*) torchgeo+=(--only "$name") ;;
    *) timm+=(--only "$name") ;;
  esac
done
if [ $# -eq 0 ]; then
  while read -r name _; do
    case "$name" in full_timm_*) timm+=(--only "$name") ;; esac
  done < <(python3 tools/make_fixtures.py --list)
  while read -r name _; do
    case "$name" in full_torchgeo_*) torchgeo+=(--only "$name") ;; esac
  done < <(python3 tools/make_torchgeo_fixtures.py --list)
fi
[ ${#timm[@]} -eq 0 ] || python3 tools/make_fixtures.py --out "$scratch" "${timm[@]}"
[ ${#torchgeo[@]} -eq 0 ] || python3 tools/make_torchgeo_fixtures.py --out "$scratch" "${torchgeo[@]}"
[ -x build/tests/test_parity_backbones ] || tools/setup.sh
TERRACL_FIXTURES="$scratch" build/tests/test_parity_backbones full_
