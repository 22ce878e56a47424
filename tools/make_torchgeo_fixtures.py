#!/usr/bin/env python3
"""Generate terracl's fixtures of TerraTorch's torchgeo backbones with the real packages.

    python3 tools/make_torchgeo_fixtures.py              # every fixture + the parameter counts
    python3 tools/make_torchgeo_fixtures.py --only bb_torchgeo_vit_small
    python3 tools/make_torchgeo_fixtures.py --list

The ssl4eol_*, ssl4eos12_*, seco_*, fmow_* and satlas_* backbones of
TerraTorch's registry wrap whole timm models that torchgeo creates, so these
fixtures need the real torchgeo (0.8.x, `pip install --no-deps torchgeo`
plus what it imports), not the placeholder tools/terratorch_import.py puts
in its place. The folders have the layout and the random, rounded weights of
tools/make_fixtures.py (whose helpers this script uses). One fixture more:
bb_torchgeo_resnet18_ckpt loads a torchgeo-layout state dict through
TerraTorch's ckpt_data (pretrained=True), so it holds ckpt.h5 (that state
dict, converted by tools/convert_checkpoint.py) and no weights.h5.

It also writes tests/fixtures/torchgeo_param_counts.tsv: the learnable
parameter count of every torchgeo ResNet/ViT name, full size, as PyTorch
counts it (the classifier head of the whole timm model included).
"""

import argparse
import collections
import os
import sys
import tempfile
from importlib.metadata import version

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402
import convert_checkpoint  # noqa: E402
from terracl_h5 import write_arrays  # noqa: E402

FIXTURES = collections.OrderedDict()


def fixture(name, **spec):
    FIXTURES[name] = spec


def _with_decoder(backbone_args, *decoder_args):
    return collections.OrderedDict(list(backbone_args.items()) + list(decoder_args))


# Reduced through timm's own keyword arguments (layers/channels, embed_dim/
# depth/num_heads, num_classes of the unused classifier head).
fixture("bb_torchgeo_resnet50", kind="backbone", seed=131,
        model_args=mf._bb("ssl4eos12_resnet50_sentinel2_all_moco",
                          model_bands=["BLUE", "GREEN", "RED", "NIR_BROAD"],
                          out_indices=[2, 0, -1], layers=[1, 2, 1, 1], channels=[8, 8, 16, 16],
                          num_classes=7),
        input=(2, 4, 45, 39),
        note="torchgeo ResNet-50 (ResNetEncoderWrapper over the whole timm model), narrowed, "
             "4 model_bands, out_indices [2, 0, -1] (returned in feature order) on a batch of 2 "
             "at 45x39")
fixture("bb_torchgeo_vit_small", kind="backbone", seed=132,
        model_args=mf._bb("ssl4eol_vit_small_patch16_224_landsat_tm_toa_moco",
                          model_bands=["BLUE", "GREEN", "RED"], img_size=[32, 48], embed_dim=32,
                          depth=3, num_heads=2, num_classes=5),
        input=(2, 3, 32, 48),
        note="torchgeo ViT-S/16 (ViTEncoderWrapper: every block, no final norm), narrowed, "
             "img_size 32x48, batch 2")
fixture("fm_torchgeo_resnet18_unet", kind="model", seed=231, task="segmentation",
        model_args=_with_decoder(
            mf._bb("seco_resnet18_sentinel2_rgb_seco", model_bands=["RED", "GREEN", "BLUE"],
                   out_indices=[0, 1, 2, 3, 4], layers=[2, 1, 1, 1], channels=[8, 16, 16, 24],
                   num_classes=4),
            ("decoder", "UNetDecoder"), ("decoder_channels", [32, 16, 16, 8, 8]),
            ("num_classes", 3)),
        input=(2, 3, 61, 53),
        note="torchgeo ResNet-18 (SeCo name, narrowed) + UNetDecoder over its five features, "
             "batch 2 at 61x53")
fixture("fm_torchgeo_vit_upernet", kind="model", seed=232, task="segmentation",
        model_args=_with_decoder(
            mf._bb("ssl4eos12_vit_small_patch16_224_sentinel2_all_dino",
                   model_bands=["BLUE", "GREEN", "RED"], img_size=[64, 64], embed_dim=24,
                   depth=4, num_heads=2, num_classes=5),
            ("necks", [{"name": "LearnedInterpolateToPyramidal"}]),
            ("decoder", "UperNetDecoder"), ("decoder_channels", 16), ("num_classes", 3)),
        input=(2, 3, 45, 43),
        note="torchgeo ViT-S/16 (narrowed, img_size 64) + UperNetDecoder, batch 2 at 45x43: the "
             "factory pads to twice the patch size (16, found on timm's PatchEmbed inside the "
             "wrapper), so the padded 64x64 is the img_size timm insists on, and crops back")
fixture("bb_torchgeo_resnet18_ckpt", kind="ckpt", seed=133,
        model_args=mf._bb("ssl4eos12_resnet18_sentinel2_all_moco",
                          model_bands=["RED", "NIR_BROAD", "BLUE"], pretrained=True,
                          ckpt_data="ckpt.h5", out_indices=[1, 4], layers=[1, 1, 1, 1],
                          channels=[8, 8, 16, 16]),
        ckpt_classes=10,
        input=(2, 3, 41, 37),
        note="torchgeo ResNet-18 loaded with pretrained=True from ckpt_data: a 13-band torchgeo "
             "state dict (timm keys, a 10-class fc that TerraTorch drops), conv1 columns picked "
             "for model_bands [RED, NIR_BROAD, BLUE]")

# Full size (not committed; tools/check_full_timm.sh makes and checks them
# in a scratch folder): the whole ResNet-50 on all 13 Sentinel-2 bands of its
# weights, and the whole ViT-S/16 at 224 with UperNet.
S2_ALL = ["COASTAL_AEROSOL", "BLUE", "GREEN", "RED", "RED_EDGE_1", "RED_EDGE_2", "RED_EDGE_3",
          "NIR_BROAD", "NIR_NARROW", "WATER_VAPOR", "CIRRUS", "SWIR_1", "SWIR_2"]
fixture("full_torchgeo_resnet50", kind="backbone", seed=134, full=True,
        model_args=mf._bb("ssl4eos12_resnet50_sentinel2_all_moco", model_bands=S2_ALL,
                          out_indices=[0, 1, 2, 3, 4]),
        input=(2, 13, 97, 83),
        note="torchgeo ResNet-50 (SSL4EO-S12 MoCo name) at full size, all 13 bands, five "
             "features, batch 2 at 97x83")
fixture("full_torchgeo_vit_small_upernet", kind="model", seed=233, task="segmentation", full=True,
        model_args=_with_decoder(
            mf._bb("ssl4eos12_vit_small_patch16_224_sentinel2_all_dino", model_bands=S2_ALL),
            ("necks", [{"name": "SelectIndices", "indices": [2, 5, 8, 11]},
                       {"name": "LearnedInterpolateToPyramidal"}]),
            ("decoder", "UperNetDecoder"), ("decoder_channels", 256), ("num_classes", 4)),
        input=(1, 13, 224, 224),
        note="torchgeo ViT-S/16 (SSL4EO-S12 DINO name) at full size, 13 bands, blocks 2/5/8/11 "
             "+ UperNetDecoder(256), 224x224")

# Every torchgeo ResNet/ViT name at full size, model_bands as many as its
# pretrained weights have, and a few overrides.
COUNT_OVERRIDES = [
    ("ssl4eos12_resnet50_sentinel2_all_moco", {"num_classes": 0}),
    ("seco_resnet18_sentinel2_rgb_seco", {"in_chans": 5, "out_indices": [0]}),
    ("satlas_resnet152_sentinel2_si_rgb_satlas", {"num_classes": 12}),
    ("ssl4eos12_vit_small_patch16_224_sentinel2_all_moco", {"num_classes": 0, "img_size": 96}),
]


def rename_header(folder):
    """make_fixtures writes its own name into the header; say who made these."""
    path = os.path.join(folder, "config.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace("tools/make_fixtures.py", "tools/make_torchgeo_fixtures.py", 1))


def make_ckpt(name, spec, out_root, vers):
    """A torchgeo-layout state dict loaded through ckpt_data, as TerraTorch loads it."""
    import numpy as np
    import timm
    import torch
    args = spec["model_args"]
    kw = mf.backbone_kwargs(args)
    folder = os.path.join(out_root, name)
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(spec["seed"])
    x, kwargs, inputs = mf.make_inputs(spec, spec["seed"])
    arch = "resnet18" if "resnet18" in args["backbone"] else "resnet50"
    source = timm.create_model(arch, in_chans=13, layers=kw["layers"], channels=kw["channels"],
                               num_classes=spec["ckpt_classes"])
    mf.randomise(source, spec["seed"])
    sd = source.state_dict()
    with tempfile.TemporaryDirectory() as tmp:
        pth = os.path.join(tmp, "ckpt.pth")
        torch.save(sd, pth)
        if convert_checkpoint.main([pth, os.path.join(folder, kw["ckpt_data"]), "--compress",
                                    "-q"]) != 0:
            raise RuntimeError("convert_checkpoint failed on %s" % pth)
        kw["ckpt_data"] = pth
        from terratorch.registry import BACKBONE_REGISTRY
        model = BACKBONE_REGISTRY.build(args["backbone"], **kw)
    # TerraTorch must have taken every tensor but fc, conv1 by band.
    order = ["COASTAL_AEROSOL", "BLUE", "GREEN", "RED", "RED_EDGE_1", "RED_EDGE_2", "RED_EDGE_3",
             "NIR_BROAD", "NIR_NARROW", "WATER_VAPOR", "CIRRUS", "SWIR_1", "SWIR_2"]
    cols = [order.index(b) for b in kw["model_bands"]]
    got = model.resnet_model.state_dict()
    if not torch.equal(got["conv1.weight"], sd["conv1.weight"][:, cols]):
        raise RuntimeError("%s: conv1 columns were not selected by band" % name)
    for k, v in sd.items():
        if k not in ("conv1.weight", "fc.weight", "fc.bias") and not torch.equal(got[k], v):
            raise RuntimeError("%s: '%s' was not loaded from ckpt_data" % (name, k))
    expected = mf.run_backbone(model, x, kwargs)
    shapes = "input.h5: input %s; expected.h5: output %s (+ features/0..%d)" % (
        mf._shape(inputs["input"]), mf._shape(expected["output"]),
        sum(1 for k in expected if k.startswith("features/")) - 1)
    with open(os.path.join(folder, "config.yaml"), "w", encoding="utf-8") as f:
        f.write(mf.config_text(name, dict(spec, kind="backbone"), vers, shapes))
    rename_header(folder)
    write_arrays(os.path.join(folder, "input.h5"), inputs)
    write_arrays(os.path.join(folder, "expected.h5"), expected)
    print("%-26s %-40s -> %s  (%d KB)" % (name, args["backbone"], mf._shape(expected["output"]),
                                          (mf.dir_size(folder) + 1023) // 1024))
    np.testing.assert_equal(expected["output"].dtype, np.float32)


def write_counts(path):
    import torch  # noqa: F401
    from terratorch.registry import BACKBONE_REGISTRY, TERRATORCH_BACKBONE_REGISTRY
    import terratorch.models.backbones.torchgeo_resnet as tr
    import terratorch.models.backbones.torchgeo_vit as tv
    cases = []
    for module in (tr, tv):
        for name in TERRATORCH_BACKBONE_REGISTRY._registry:
            fn = getattr(module, name, None)
            if fn is None or not callable(fn):
                continue
            weights = fn.__defaults__[2]  # (pretrained, ckpt_data, weights, out_indices)
            n = weights.meta["in_chans"]
            cases.append((name, {"model_bands": ["B%d" % i for i in range(n)]}))
    for name, over in COUNT_OVERRIDES:
        n = len(dict(cases)[name]["model_bands"])
        cases.append((name, dict({"model_bands": ["B%d" % i for i in range(n)]}, **over)))
    lines = ["# backbone\targuments (YAML flow map)\tlearnable parameters (terratorch %s, "
             "torchgeo %s, timm %s, torch %s)" % (version("terratorch"), version("torchgeo"),
                                                  version("timm"), version("torch"))]
    for name, kw in cases:
        model = BACKBONE_REGISTRY.build(name, **kw)
        count = sum(p.numel() for p in model.parameters())
        flow = "{" + ", ".join("%s: %s" % (k, v if not isinstance(v, list) else
                                           "[" + ", ".join(str(x) for x in v) + "]")
                               for k, v in kw.items()) + "}"
        lines.append("%s\t%s\t%d" % (name, flow, count))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("%s: %d backbones" % (path, len(cases)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", metavar="NAME", help="this fixture only (repeatable)")
    ap.add_argument("--out", default=os.path.join(mf.ROOT, "tests", "fixtures"))
    ap.add_argument("--list", action="store_true", help="list the fixtures and exit")
    ap.add_argument("--no-counts", action="store_true", help="skip torchgeo_param_counts.tsv")
    ap.add_argument("--full", action="store_true",
                    help="also the full-size full_* fixtures (big; tools/check_full_timm.sh)")
    args = ap.parse_args(argv)
    if args.list:
        for name, spec in FIXTURES.items():
            print("%-26s %s" % (name, spec["note"]))
        return 0
    names = args.only or [n for n, spec in FIXTURES.items() if args.full or not spec.get("full")]
    unknown = [n for n in names if n not in FIXTURES]
    if unknown:
        sys.stderr.write("make_torchgeo_fixtures: error: unknown fixture(s) %s\n" % ", ".join(unknown))
        return 1
    import logging
    import warnings
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    try:
        import torch
        import torchgeo.models  # noqa: F401  (the real package, not a placeholder)
        from terratorch_import import import_terratorch
        import_terratorch()
    except ImportError as e:
        sys.stderr.write("make_torchgeo_fixtures: error: %s (pip install --no-deps torchgeo==0.8.1 "
                         "and what it imports)\n" % e)
        return 1
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    vers = mf.versions()
    vers["torchgeo"] = version("torchgeo")
    if vers["terratorch"] != mf.PINNED_TERRATORCH:
        sys.stderr.write("make_torchgeo_fixtures: error: the fixtures follow terratorch %s, this "
                         "is %s\n" % (mf.PINNED_TERRATORCH, vers["terratorch"]))
        return 1
    os.makedirs(args.out, exist_ok=True)
    for name in names:
        spec = FIXTURES[name]
        if spec["kind"] == "ckpt":
            make_ckpt(name, spec, args.out, vers)
        else:
            rename_header(mf.make_one(name, spec, args.out, None, vers))
    if not args.no_counts and not args.only:
        write_counts(os.path.join(args.out, "torchgeo_param_counts.tsv"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
