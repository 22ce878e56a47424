#!/usr/bin/env python3
"""Scene-prediction benchmark: terracl predict next to TerraTorch's own tiled
inference in PyTorch, same model, same config, same scene.

    python3 bench/scene_bench.py prepare DIR [--size N] [--bands 7]
        DIR/config.yaml, DIR/weights.h5: prithvi_eo_tiny (TerraTorch's tiny ViT: 4 blocks of 256,
        random weights, seed 0) with a UNet decoder, tiled 224/192/8,
        batch 16; DIR/scene_N.tif: an N x N x bands float32 scene, written
        window by window (a 10240 scene is 2.9 GB and never held in memory).
    python3 bench/scene_bench.py torch DIR SCENE [--threads 2] [--compare PRED.tif]
        TerraTorch's path on SCENE: dataset-style read, Normalize,
        tiled_inference, argmax; prints megapixels per second.

Then time terracl on the same files:
    /usr/bin/time -v build/terracl predict --config DIR/config.yaml \\
        --weights DIR/weights.h5 --input DIR/scene_N.tif --output-dir DIR/out
"""

import argparse
import collections
import os
import sys
import time

import numpy as np

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")
sys.path.insert(0, TOOLS)

MODEL_ARGS = collections.OrderedDict([
    ("backbone", "prithvi_eo_tiny"), ("backbone_img_size", 224), ("backbone_num_frames", 1),
    ("backbone_bands", ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2"]),
    ("necks", [{"name": "SelectIndices", "indices": [0, 1, 2, 3]},
               {"name": "ReshapeTokensToImage"},
               {"name": "LearnedInterpolateToPyramidal"}]),
    ("decoder", "UNetDecoder"), ("decoder_channels", [256, 128, 64, 32]),
    ("num_classes", 2)])
DATA = collections.OrderedDict([
    ("dataset_bands", ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2", "CIRRUS"]),
    ("output_bands", ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2"]),
    ("constant_scale", 1.0), ("no_data_replace", 0),
    ("means", [0.1, 0.1, 0.1, 0.2, 0.2, 0.15]), ("stds", [0.05, 0.05, 0.05, 0.1, 0.1, 0.08])])
TILED = collections.OrderedDict([("crop", 224), ("stride", 192), ("delta", 8), ("batch_size", 16)])


def build_model():
    import make_fixtures
    import make_scene_fixtures as msf
    msf.import_terratorch()
    from terratorch.registry import MODEL_FACTORY_REGISTRY
    model = MODEL_FACTORY_REGISTRY.build("EncoderDecoderFactory").build_model(
        task="segmentation", **dict(MODEL_ARGS))
    make_fixtures.randomise(model, 0)
    return model.eval()


def prepare(args):
    import make_fixtures
    import make_scene_fixtures as msf
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window
    from terracl_h5 import write_state_dict
    os.makedirs(args.dir, exist_ok=True)
    model = build_model()
    write_state_dict(os.path.join(args.dir, "weights.h5"), make_fixtures.state_to_numpy(model))
    spec = dict(task="segmentation", seed=0, model_args=MODEL_ARGS, data=DATA, tiled=TILED)
    doc = msf.config_doc(spec, True)
    with open(os.path.join(args.dir, "config.yaml"), "w") as f:
        f.write(msf.dump_yaml(doc, "# terracl scene benchmark (random weights)\n"))
    n, bands = args.size, args.bands
    path = os.path.join(args.dir, "scene_%d.tif" % n)
    profile = dict(driver="GTiff", width=n, height=n, count=bands, dtype="float32",
                   nodata=-9999.0, crs="EPSG:32633", tiled=True, blockxsize=256, blockysize=256,
                   transform=from_origin(499980.0, 4200000.0, 30.0, 30.0), BIGTIFF="YES")
    rng = np.random.default_rng(0)
    step = 1024
    with rasterio.open(path, "w", **profile) as dst:
        for y in range(0, n, step):
            h = min(step, n - y)
            block = rng.random((bands, h, n), dtype=np.float32) * 0.3
            if y == 0:
                block[:, :100, :100] = -9999.0
            dst.write(block, window=Window(0, y, n, h))
    print("wrote", path)


def run_torch(args):
    import torch
    torch.set_num_threads(args.threads)
    import make_scene_fixtures as msf
    model = build_model()
    spec = dict(task="segmentation", data=DATA, tiled=TILED, model_args=MODEL_ARGS)
    t0 = time.perf_counter()
    image = msf.dataset_image(spec, args.scene)
    logits = msf.predict(spec, model, image, tiled=True)
    pred = logits.argmax(dim=1)
    dt = time.perf_counter() - t0
    mp = image.shape[-1] * image.shape[-2] / 1e6
    print("terratorch tiled_inference: %s, %.1f s, %.4f MP/s (%d threads)"
          % (tuple(image.shape), dt, mp / dt, args.threads))
    if args.compare:
        import rasterio
        with rasterio.open(args.compare) as src:
            got = src.read(1)
        want = pred[0].numpy()
        valid = got != -1
        print("terracl's %s: %.5f%% of valid pixels have TerraTorch's class (%d masked)"
              % (args.compare, 100.0 * float((got[valid] == want[valid]).mean()),
                 int((~valid).sum())))
    return pred


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("dir")
    p.add_argument("--size", type=int, default=10240)
    p.add_argument("--bands", type=int, default=7)
    t = sub.add_parser("torch")
    t.add_argument("dir")
    t.add_argument("scene")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--compare", help="a terracl prediction of the scene to check against")
    args = ap.parse_args()
    if args.cmd == "prepare":
        prepare(args)
    else:
        run_torch(args)


if __name__ == "__main__":
    main()
