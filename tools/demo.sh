#!/usr/bin/env bash
# The README's first command: set up, build, then run terracl on the default
# device (the first GPU, else the first OpenCL device; TERRACL_DEVICE picks
# another).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
build/terracl devices
build/terracl selftest
# The sample model (random weights: the picture shows the pipeline, not a
# prediction); its checkpoint carries its TerraTorch config.
build/terracl run --weights weights/sample/weights.h5 --input weights/sample/input.h5 \
  --output build/sample-segmentation.png
