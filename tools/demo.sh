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
# A whole georeferenced scene (97 x 131 pixels, 7 bands) through the sample
# scene model with TerraTorch's tiled inference: build/sample-scene/scene_pred.tif
# keeps the scene's CRS and geotransform (random weights again).
build/terracl predict --weights weights/sample/scene_model.h5 --input weights/sample/scene.tif \
  --output-dir build/sample-scene --overwrite
