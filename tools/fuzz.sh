#!/usr/bin/env bash
# A longer, random fuzz run of one target (the test suite runs each target
# briefly and reproducibly; this is for finding new bugs):
#   tools/fuzz.sh TARGET [SECONDS] [extra libFuzzer options...]
# TARGET is a name from tests/fuzz/fuzz_TARGET.c (yaml, safetensors, h5ckpt,
# h5tensor). The binary comes from the build folder (tools/setup.sh builds
# it when clang's fuzzer runtime is installed). The seed is random; inputs
# found are kept in build/tests/fuzz_TARGET_long/ between runs, and a crash
# is written to the current folder as crash-<hash>, which reproduces with
#   build/tests/fuzz_TARGET crash-<hash>
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: tools/fuzz.sh TARGET [SECONDS] [libFuzzer options...]}"
seconds="${2:-600}"
shift $(($# >= 2 ? 2 : 1))
bin="${BUILD_DIR:-build}/tests/fuzz_${target}"
if [ ! -x "$bin" ]; then
  echo "tools/fuzz.sh: $bin not built (needs clang and libclang-rt-14-dev; run tools/setup.sh)" >&2
  exit 2
fi
keep="${BUILD_DIR:-build}/tests/fuzz_${target}_long"
mkdir -p "$keep"
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  "$@" "$keep" "tests/fuzz/corpus_${target}"
