#!/usr/bin/env python3
"""Multimodal TerraMind parity fixtures, made with the real TerraTorch package.

    python3 tools/make_terramind_fixtures.py               # every tm_mm_* fixture
    python3 tools/make_terramind_fixtures.py --only tm_mm_bb_mean
    python3 tools/make_terramind_fixtures.py --full --out /tmp/fx   # full-size (tmmmfull_*)

The models are built through TerraTorch's registries and EncoderDecoderFactory
and randomised exactly as tools/make_fixtures.py does (its helpers are reused);
the difference is the input: a dict {modality: [B, C_m, H, W]}, which is what
TerraTorch's multimodal datamodules hand to the model. Each fixture folder holds

  config.yaml    TerraTorch-style config (model_factory, model_args[, task])
  weights.h5     the model's state_dict in terracl's layout
  input.h5       one dataset per modality given, named as in the config's
                 `modalities` (terracl's convention for multimodal inputs);
                 modalities left out are absent from the dict TerraTorch saw
  expected.h5    "output" (TerraTorch's ModelOutput.output, or the backbone's last
                 feature), or with merge_method dict "output/<modality>" per
                 modality given; backbones also keep "features/<i>"

The dict passed to TerraTorch follows the order of `modalities`.
"""

import argparse
import collections
import logging
import os
import sys
import tempfile
import warnings

import numpy as np

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

import make_fixtures as mf  # noqa: E402
from terracl_h5 import read_state_dict, write_arrays, write_state_dict  # noqa: E402

FIXTURES = collections.OrderedDict()
FULL = collections.OrderedDict()

NECKS = [{"name": "SelectIndices", "indices": [0, 1, 2, 3]},
         {"name": "ReshapeTokensToImage", "remove_cls_token": False},
         {"name": "LearnedInterpolateToPyramidal"}]


def bb(name, small=True, **over):
    args = mf._bb(name, **over)
    if small:
        for k, v in (("img_size", 32), ("dim", 32), ("encoder_depth", 2), ("num_heads", 2)):
            args.setdefault("backbone_" + k, v)
    return args


def model(backbone_args, decoder, **decoder_args):
    args = collections.OrderedDict(list(backbone_args.items()))
    args["necks"] = NECKS
    args["decoder"] = decoder
    args.update(decoder_args)
    return args


def fixture(name, table=FIXTURES, **spec):
    table[name] = spec


# Backbones alone (inputs in whole patches: TerraMind does not pad by itself).
fixture("tm_mm_bb_mean", kind="backbone", seed=401,
        model_args=bb("terramind_v1_base", modalities=["S2L2A", "S1GRD"]),
        inputs={"S2L2A": (2, 12, 48, 32), "S1GRD": (2, 2, 48, 32)},
        note="TerraMind base layout, S2L2A + S1GRD, merge_method mean (the default), "
             "batch 2 at 48x32")
fixture("tm_mm_bb_max", kind="backbone", seed=402,
        model_args=bb("terramind_v1_tiny", modalities=["S1GRD", "DEM", "RGB"],
                      merge_method="max", dim=48),
        inputs={"S1GRD": (2, 2, 32, 48), "DEM": (2, 1, 32, 48), "RGB": (2, 3, 32, 48)},
        note="TerraMind tiny layout, S1GRD + DEM + RGB, merge_method max, batch 2 at 32x48")
fixture("tm_mm_bb_concat_missing", kind="backbone", seed=403,
        model_args=bb("terramind_v1_small", modalities=["S2L2A", "S1RTC", "DEM"],
                      merge_method="concat"),
        inputs={"S1RTC": (2, 2, 32, 32), "DEM": (2, 1, 32, 32)},
        note="TerraMind small layout, modalities S2L2A + S1RTC + DEM, merge_method concat "
             "with S2L2A not given (missing_mod_token fills its place), batch 2 at 32x32")
fixture("tm_mm_bb_dict", kind="backbone", seed=404,
        model_args=bb("terramind_v1_base", modalities=["S2L2A", "S1GRD"], merge_method="dict",
                      bands={"S2L2A": ["RED", "NIR_NARROW"]}),
        inputs={"S2L2A": (2, 2, 32, 48), "S1GRD": (2, 2, 32, 48)},
        note="TerraMind base layout, S2L2A (2 bands) + S1GRD, merge_method dict (one output per "
             "modality), batch 2 at 32x48")
fixture("tm_mm_bb_null_new", kind="backbone", seed=405,
        model_args=bb("terramind_v1_small", modalities=["RGB", {"extra": 5}], merge_method=None,
                      bands={"RGB": ["RED", "GREEN", "BLUE"]}),
        inputs={"RGB": (2, 3, 32, 32), "extra": (2, 5, 32, 32)},
        note="TerraMind small layout, RGB + a new modality {extra: 5} (its own patch "
             "embedding and sin-cos table), merge_method null (the joint sequence), batch 2 "
             "at 32x32")
fixture("tm_mm_bb_one_of_two", kind="backbone", seed=406,
        model_args=bb("terramind_v1_tiny", modalities=["S2L1C", "S1GRD"], merge_method="mean"),
        inputs={"S1GRD": (1, 2, 16, 48)},
        note="TerraMind tiny layout, modalities S2L1C + S1GRD with only S1GRD given, merge "
             "mean, 16x48")

# ckpt_path: the encoder's weights come from a converted TerraMindViT state
# dict with the pretrained bands, which TerraTorch loads and then cuts down
# to `bands` (no weights.h5).
fixture("tm_mm_bb_ckpt_bands", kind="ckpt", seed=407,
        model_args=bb("terramind_v1_small", modalities=["S2L2A", "S1GRD"], merge_method="concat",
                      bands={"S2L2A": ["NIR_NARROW", "RED", "GREEN"]},
                      ckpt_path="tm_ckpt.h5"),
        inputs={"S2L2A": (2, 3, 32, 32), "S1GRD": (2, 2, 32, 32)},
        note="TerraMind small layout, S2L2A (3 of its bands, reordered) + S1GRD concatenated, "
             "weights from backbone_ckpt_path (a TerraMindViT state dict with all 12 S2L2A "
             "bands, converted to HDF5), batch 2 at 32x32")

# Whole models at odd sizes (padded per modality), batch 2.
fixture("tm_mm_upernet_mean_odd_b2", kind="model", seed=411, task="segmentation",
        model_args=model(bb("terramind_v1_base", modalities=["S2L2A", "S1GRD"], encoder_depth=4,
                            bands={"S2L2A": ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1",
                                             "SWIR_2"]}),
                         "UperNetDecoder", decoder_channels=16, num_classes=3),
        inputs={"S2L2A": (2, 6, 45, 37), "S1GRD": (2, 2, 45, 37)},
        note="TerraMind base layout, S2L2A (6 bands) + S1GRD merged by mean, UperNet; batch 2 "
             "at 45x37 padded to 48x48")
fixture("tm_mm_unet_max_odd_b2", kind="model", seed=412, task="segmentation",
        model_args=model(bb("terramind_v1_small", modalities=["RGB", "S1RTC", "DEM"],
                            encoder_depth=4, merge_method="max"),
                         "UNetDecoder", decoder_channels=[32, 16, 8, 8], num_classes=2),
        inputs={"RGB": (2, 3, 33, 50), "S1RTC": (2, 2, 33, 50), "DEM": (2, 1, 33, 50)},
        note="TerraMind small layout, RGB + S1RTC + DEM merged by max, UNet; batch 2 at "
             "33x50 padded to 48x64")
fixture("tm_mm_upernet_concat_missing_odd_b2", kind="model", seed=413, task="segmentation",
        model_args=model(bb("terramind_v1_tiny", modalities=["S2L2A", "S1GRD", "DEM"],
                            encoder_depth=4, merge_method="concat",
                            bands={"S2L2A": ["BLUE", "GREEN", "RED", "NIR_NARROW"]}),
                         "UperNetDecoder", decoder_channels=16, num_classes=4),
        inputs={"S2L2A": (2, 4, 31, 35), "DEM": (2, 1, 31, 35)},
        note="TerraMind tiny layout, S2L2A (4 bands) + S1GRD + DEM concatenated with S1GRD not given "
             "(missing_mod_token), UperNet; batch 2 at 31x35 padded to 32x64")
fixture("tm_mm_unet_concat_odd_b2", kind="model", seed=414, task="regression",
        model_args=model(bb("terramind_v1_base", modalities=["S2L1C", "S1GRD"], encoder_depth=4,
                            merge_method="concat",
                            bands={"S2L1C": ["CIRRUS", "RED", "GREEN", "BLUE", "SWIR_2"]}),
                         "UNetDecoder", decoder_channels=[32, 16, 8, 8]),
        inputs={"S2L1C": (2, 5, 35, 29), "S1GRD": (2, 2, 35, 29)},
        note="TerraMind base layout, S2L1C (5 bands) + S1GRD concatenated, UNet, regression; batch 2 at "
             "35x29 padded to 64x32")

# TerraTorch's tiled_inference with a dict input: it stacks the modalities
# along the channels, tiles that, and splits each chip back into the dict.
# expected.h5 holds the plain forward ("output") and the tiled one ("tiled").
fixture("tm_mm_unet_tiled", kind="model", seed=415, task="segmentation",
        model_args=model(bb("terramind_v1_small", modalities=["RGB", "S1GRD"], encoder_depth=4),
                         "UNetDecoder", decoder_channels=[32, 16, 8, 8], num_classes=3),
        inputs={"RGB": (2, 3, 70, 53), "S1GRD": (2, 2, 70, 53)},
        tiled=collections.OrderedDict([("h_crop", 32), ("h_stride", 24), ("w_crop", 32),
                                       ("w_stride", 24), ("delta", 4), ("batch_size", 3)]),
        note="TerraMind small layout, RGB + S1GRD merged by mean, UNet; batch 2 at 70x53, also "
             "through TerraTorch's tiled_inference (crops 32, stride 24)")

# Full size (--full; for a scratch folder: see tools/check_full_terramind.sh).
for _i, _v in enumerate(("tiny", "small", "base", "large")):
    fixture("tmmmfull_" + _v, table=FULL, kind="backbone", seed=490 + _i,
            model_args=mf._bb("terramind_v1_" + _v, modalities=["S2L2A", "S1GRD", "DEM"],
                              merge_method="concat"),
            inputs={"S2L2A": (2, 12, 64, 48), "DEM": (2, 1, 64, 48)},
            note="full-size terramind_v1_%s, S2L2A + S1GRD + DEM concatenated with S1GRD not "
                 "given, batch 2 at 64x48" % _v)
fixture("tmmmfull_base_upernet", table=FULL, kind="model", seed=495, task="segmentation",
        model_args=model(mf._bb("terramind_v1_base", modalities=["S2L2A", "S1GRD"]),
                         "UperNetDecoder", decoder_channels=256, num_classes=5),
        inputs={"S2L2A": (2, 12, 225, 223), "S1GRD": (2, 2, 225, 223)},
        note="full-size terramind_v1_base, S2L2A + S1GRD merged by mean, UperNet; batch 2 at "
             "225x223")
FULL["tmmmfull_base_upernet"]["model_args"]["necks"] = [
    {"name": "SelectIndices", "indices": [2, 5, 8, 11]},
    {"name": "ReshapeTokensToImage", "remove_cls_token": False},
    {"name": "LearnedInterpolateToPyramidal"}]


def make_inputs(spec):
    import torch
    g = torch.Generator().manual_seed(spec["seed"] + 7919)
    x = collections.OrderedDict()
    order = [m if isinstance(m, str) else next(iter(m))
             for m in spec["model_args"]["backbone_modalities"]]
    for name in order:
        if name in spec["inputs"]:
            x[name] = torch.randn(spec["inputs"][name], generator=g)
    return x


def build(spec):
    if spec["kind"] == "backbone":
        return mf.build_backbone(spec["model_args"])
    return mf.build_model(spec["task"], spec["model_args"])


def run(spec, net, x):
    import torch
    if spec["kind"] == "model":
        out = mf.run_model(net, dict(x), {})
        return collections.OrderedDict(output=out["output"])  # no intermediates: smaller files
    net.eval()
    with torch.no_grad():
        feats = net(dict(x))
    out = collections.OrderedDict()
    if isinstance(feats[-1], dict):
        for k, v in feats[-1].items():
            out["output/" + k] = v.numpy()
    else:
        out["output"] = feats[-1].numpy()
        for i, f in enumerate(feats):
            out["features/%d" % i] = f.numpy()
    return out


def make_one(name, spec, out_root, vers):
    import torch
    torch.manual_seed(spec["seed"])
    folder = os.path.join(out_root, name)
    os.makedirs(folder, exist_ok=True)
    x = make_inputs(spec)
    if spec["kind"] == "ckpt":
        return make_ckpt(name, spec, folder, x, vers)
    net = build(spec)
    mf.randomise(net, spec["seed"])
    expected = run(spec, net, x)
    if spec.get("tiled"):
        from terratorch.tasks.tiled_inference import tiled_inference
        with torch.no_grad():
            expected["tiled"] = tiled_inference(lambda d, **kw: net(d, **kw).output, dict(x),
                                                **spec["tiled"]).numpy()
    weights = mf.state_to_numpy(net)
    outs = [k for k in expected if k == "output" or k.startswith("output/")]
    shapes = ("input.h5: " + ", ".join("%s %s" % (k, mf._shape(v.numpy())) for k, v in x.items())
              + "; expected.h5: " + ", ".join("%s %s" % (k, mf._shape(expected[k])) for k in outs))
    text = mf.config_text(name, spec, vers, shapes).replace(
        "tools/make_fixtures.py", "tools/make_terramind_fixtures.py", 1)
    if spec.get("tiled"):
        text += "tiled_inference_parameters: {%s}\n" % ", ".join(
            "%s: %s" % kv for kv in spec["tiled"].items())
    with open(os.path.join(folder, "config.yaml"), "w", encoding="utf-8") as f:
        f.write(text)
    wpath = os.path.join(folder, "weights.h5")
    write_state_dict(wpath, weights, compress=True)
    # Reload the written weights into a fresh (differently random) model.
    fresh = build(spec)
    sd, _ = read_state_dict(wpath)
    fresh.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in sd.items()}, strict=True)
    again = run(spec, fresh, x)
    for k in outs:
        if not np.array_equal(again[k], expected[k]):
            raise RuntimeError("%s: %s differs after reloading the weights" % (name, k))
    write_arrays(os.path.join(folder, "input.h5"),
                 collections.OrderedDict((k, v.numpy()) for k, v in x.items()))
    write_arrays(os.path.join(folder, "expected.h5"), expected)
    size = mf.dir_size(folder)
    print("%-36s %-20s -> %-28s %4d KB" % (name, spec["model_args"]["backbone"],
                                          ", ".join(mf._shape(expected[k]) for k in outs),
                                          (size + 1023) // 1024))


def make_ckpt(name, spec, folder, x, vers):
    """A random TerraMindViT with the pretrained bands, saved and converted;
    TerraTorch builds the fixture's backbone from it through ckpt_path."""
    import torch
    import convert_checkpoint
    args = collections.OrderedDict(spec["model_args"])
    h5_name = args["backbone_ckpt_path"]
    source_args = collections.OrderedDict(
        (k, v) for k, v in args.items() if k not in ("backbone_bands", "backbone_ckpt_path"))
    source = mf.build_backbone(source_args)
    mf.randomise(source, spec["seed"])
    with tempfile.TemporaryDirectory() as tmp:
        pt = os.path.join(tmp, "ckpt.pt")
        torch.save(source.state_dict(), pt)
        if convert_checkpoint.main([pt, os.path.join(folder, h5_name), "--compress", "-q"]) != 0:
            raise RuntimeError("convert_checkpoint failed")
        net = mf.build_backbone(args, ckpt_override=pt)
    # TerraTorch must have taken every tensor from the file, the chosen band
    # columns of the S2L2A patch embedding included.
    src = source.state_dict()
    for k, v in net.state_dict().items():
        if k.endswith("proj.weight") and v.shape != src[k].shape:
            continue
        if not torch.equal(v, src[k]):
            raise RuntimeError("%s: %s was not loaded from ckpt_path" % (name, k))
    expected = run(spec, net, x)
    outs = ["output"]
    shapes = ("input.h5: " + ", ".join("%s %s" % (k, mf._shape(v.numpy())) for k, v in x.items())
              + "; expected.h5: output %s" % mf._shape(expected["output"]))
    text = mf.config_text(name, spec, vers, shapes).replace(
        "tools/make_fixtures.py", "tools/make_terramind_fixtures.py", 1)
    with open(os.path.join(folder, "config.yaml"), "w", encoding="utf-8") as f:
        f.write(text)
    write_arrays(os.path.join(folder, "input.h5"),
                 collections.OrderedDict((k, v.numpy()) for k, v in x.items()))
    write_arrays(os.path.join(folder, "expected.h5"), expected)
    print("%-36s %-20s -> %-28s %4d KB" % (name, args["backbone"],
                                          mf._shape(expected[outs[0]]),
                                          (mf.dir_size(folder) + 1023) // 1024))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", metavar="NAME")
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures"))
    ap.add_argument("--full", action="store_true",
                    help="the full-size fixtures instead (tmmmfull_*; large, for a scratch folder)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    table = FULL if args.full else FIXTURES
    if args.list:
        for name, spec in table.items():
            print("%-36s %s" % (name, spec["note"]))
        return 0
    names = args.only or list(table)
    unknown = [n for n in names if n not in table]
    if unknown:
        sys.stderr.write("make_terramind_fixtures: unknown fixture(s) %s\n" % ", ".join(unknown))
        return 1
    if not args.verbose:
        logging.disable(logging.WARNING)
        warnings.filterwarnings("ignore")
    try:
        import torch
        from terratorch_import import import_terratorch
        import_terratorch()
        mf.terramind_sizes()
    except ImportError as e:
        sys.stderr.write("make_terramind_fixtures: error: %s "
                         "(pip install -r tools/requirements-fixtures.txt)\n" % e)
        return 1
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    vers = mf.versions()
    if vers["terratorch"] != mf.PINNED_TERRATORCH:
        sys.stderr.write("make_terramind_fixtures: error: the fixtures follow terratorch %s, "
                         "this is %s\n" % (mf.PINNED_TERRATORCH, vers["terratorch"]))
        return 1
    os.makedirs(args.out, exist_ok=True)
    for name in names:
        make_one(name, table[name], args.out, vers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
