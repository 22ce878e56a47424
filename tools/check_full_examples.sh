#!/usr/bin/env bash
# Full-size parity check on TerraTorch's example configs (the test suite runs
# reduced variants): makes each example's model at its real size with the
# real TerraTorch (random weights), then runs terracl's parity test on it.
#
#   tools/check_full_examples.sh TERRATORCH_REPO [EXAMPLE ...]
#
# TERRATORCH_REPO is a checkout of TerraTorch's source repository (its
# examples/ folder); EXAMPLE names come from
# `python3 tools/make_example_fixtures.py --list` (default: all that the
# installed terratorch builds). Needs the packages of tools/requirements-fixtures.txt
# and a few GB of scratch space in ${TMPDIR:-/tmp}.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 1 ]; then
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
repo="$1"
shift
scratch="$(mktemp -d "${TMPDIR:-/tmp}/terracl-full-examples.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
only=()
for name in "$@"; do only+=(--only "$name"); done
python3 tools/make_example_fixtures.py --terratorch-repo "$repo" --full --out "$scratch" "${only[@]}"
[ -x build/tests/test_parity_backbones ] || tools/setup.sh
TERRACL_FIXTURES="$scratch" build/tests/test_parity_backbones ex_
