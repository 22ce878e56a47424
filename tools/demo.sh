#!/usr/bin/env bash
# The README's first command: set up, build, then run terracl on the default
# device (the first GPU, else the first OpenCL device; TERRACL_DEVICE picks
# another).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
build/terracl devices
build/terracl selftest
