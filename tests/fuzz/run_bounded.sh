#!/bin/sh
# A reproducible bounded fuzz run, as the test suite does it:
#   run_bounded.sh FUZZER SCRATCH CORPUS RUNS MAX_LEN
# Fixed seed, fixed number of inputs, the committed corpus only (new inputs go
# to SCRATCH, emptied first). libFuzzer's comparison tracing records pointer
# values, so address-space randomisation alone changes which mutations it
# tries: the run disables it (setarch -R), or, where that is not permitted,
# turns comparison tracing off; -reload=0 stops the once-a-second re-reading
# of the scratch folder, which made the order of inputs depend on timing. The
# same command then explores the same inputs every time.
set -eu
fuzzer="$1" scratch="$2" corpus="$3" runs="$4" max_len="$5"
rm -rf "$scratch" "$scratch-files"
mkdir -p "$scratch" "$scratch-files"
# Targets that read files write each input under one fixed name here.
export TERRACL_FUZZ_SCRATCH="$scratch-files"
set -- -seed=1 -reload=0 -runs="$runs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$scratch" "$corpus"
if setarch "$(uname -m)" -R true 2>/dev/null; then
  exec setarch "$(uname -m)" -R "$fuzzer" "$@"
fi
exec "$fuzzer" -use_cmp=0 "$@"
