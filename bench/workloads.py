"""The models bench/run_all.sh times, each built the way TerraTorch builds it.

One entry per workload: a backbone alone (BACKBONE_REGISTRY, as `terracl bench
--backbone` builds it) or a whole model through one of TerraTorch's model
factories from the `model_args` of a config (as `terracl bench --config` reads
it). bench/export_onnx.py turns each into an ONNX file and a YAML config in the
model cache (bench/models/ unless $TERRACL_BENCH_MODELS); bench/peer_bench.py
times the peers on them.

Weights are random with a fixed seed: speed does not depend on their values.
"""
import collections
import copy
import os

CACHE = os.environ.get("TERRACL_BENCH_MODELS",
                       os.path.join(os.path.dirname(os.path.abspath(__file__)), "models"))

# The model section of TerraTorch's examples/confs/burn_scars.yaml (1.2.13):
# Prithvi-EO-2.0 300M, necks to a 4-level pyramid, UNet decoder, one head layer.
BURN_SCARS = collections.OrderedDict([
    ("backbone", "prithvi_eo_v2_300"),
    ("backbone_pretrained", True),
    ("backbone_drop_path", 0.1),
    ("backbone_bands", ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2"]),
    ("necks", [{"name": "SelectIndices", "indices": [5, 11, 17, 23]},
               {"name": "ReshapeTokensToImage"},
               {"name": "LearnedInterpolateToPyramidal"}]),
    ("decoder", "UNetDecoder"),
    ("decoder_channels", [512, 256, 128, 64]),
    ("head_channel_list", [256]),
    ("head_dropout", 0.1),
    ("num_classes", 2),
])

# The same encoder and necks with TerraTorch's UperNet decoder (the decoder of
# its UperNet example configs, e.g. dofa_sen1floods11_uper.yaml), 256 channels.
PRITHVI_UPERNET = copy.deepcopy(BURN_SCARS)
for _k in ("decoder_channels", "head_channel_list"):
    del PRITHVI_UPERNET[_k]
PRITHVI_UPERNET["decoder"] = "UperNetDecoder"
PRITHVI_UPERNET["decoder_channels"] = 256

# TerraMind v1 base on one raw modality (Sentinel-2 L2A, 12 bands), backbone only.
TERRAMIND_BASE = collections.OrderedDict([
    ("backbone", "terramind_v1_base"),
    ("backbone_pretrained", False),
    ("backbone_modalities", ["S2L2A"]),
])

# Convolutional backbones with 6 input bands (timm through TerraTorch's registry).
RESNET50_UNET = collections.OrderedDict([   # smp's Unet on its ResNet-50 encoder
    ("model", "Unet"), ("backbone", "resnet50"), ("bands", [1, 2, 3, 4, 5, 6]),
    ("num_classes", 2), ("pretrained", False),
])
RESNET50_DEEPLABV3PLUS = collections.OrderedDict([
    ("model", "DeepLabV3Plus"), ("backbone", "resnet50"), ("bands", [1, 2, 3, 4, 5, 6]),
    ("num_classes", 2), ("pretrained", False),
])
CONVNEXT_T_UPERNET = collections.OrderedDict([
    ("backbone", "timm_convnext_tiny"), ("backbone_pretrained", False),
    ("backbone_in_chans", 6),
    ("decoder", "UperNetDecoder"), ("decoder_channels", 256), ("num_classes", 2),
])
# The same ResNet-50 with TerraTorch's own UNetDecoder (which terracl runs).
RESNET50_TT_UNET = collections.OrderedDict([
    ("backbone", "timm_resnet50"), ("backbone_pretrained", False), ("backbone_in_chans", 6),
    ("decoder", "UNetDecoder"), ("decoder_channels", [256, 128, 64, 32, 16]), ("num_classes", 2),
])


def _w(name, **kw):
    kw["name"] = name
    return name, kw


WORKLOADS = collections.OrderedDict([
    _w("prithvi_eo_v1_100_t1_224", kind="backbone", backbone="prithvi_eo_v1_100", frames=1,
       size=224, quick=True),
    _w("prithvi_eo_v1_100_t3_224", kind="backbone", backbone="prithvi_eo_v1_100", frames=3,
       size=224),
    _w("prithvi_eo_v2_300_t1_224", kind="backbone", backbone="prithvi_eo_v2_300", frames=1,
       size=224),
    _w("prithvi_eo_v2_300_t3_224", kind="backbone", backbone="prithvi_eo_v2_300", frames=3,
       size=224),
    _w("burn_scars_224", kind="model", factory="EncoderDecoderFactory", args=BURN_SCARS,
       size=224, quick=True),
    _w("burn_scars_512", kind="model", factory="EncoderDecoderFactory", args=BURN_SCARS,
       size=512),
    _w("prithvi_v2_300_upernet_224", kind="model", factory="EncoderDecoderFactory",
       args=PRITHVI_UPERNET, size=224),
    _w("prithvi_v2_300_upernet_512", kind="model", factory="EncoderDecoderFactory",
       args=PRITHVI_UPERNET, size=512),
    _w("terramind_v1_base_224", kind="model", factory="EncoderDecoderFactory",
       args=TERRAMIND_BASE, size=224, chans=12),
    _w("resnet50_unet_224", kind="model", factory="EncoderDecoderFactory", args=RESNET50_TT_UNET,
       size=224, quick=True),
    _w("resnet50_unet_512", kind="model", factory="EncoderDecoderFactory", args=RESNET50_TT_UNET,
       size=512),
    _w("resnet50_smp_unet_224", kind="model", factory="SMPModelFactory", args=RESNET50_UNET,
       size=224),
    _w("resnet50_smp_unet_512", kind="model", factory="SMPModelFactory", args=RESNET50_UNET,
       size=512),
    _w("convnext_t_upernet_224", kind="model", factory="EncoderDecoderFactory",
       args=CONVNEXT_T_UPERNET, size=224),
    _w("convnext_t_upernet_512", kind="model", factory="EncoderDecoderFactory",
       args=CONVNEXT_T_UPERNET, size=512),
    _w("resnet50_smp_deeplabv3plus_224", kind="model", factory="SMPModelFactory",
       args=RESNET50_DEEPLABV3PLUS, size=224),
    _w("resnet50_smp_deeplabv3plus_512", kind="model", factory="SMPModelFactory",
       args=RESNET50_DEEPLABV3PLUS, size=512),
])


def is_prithvi(w):
    name = w.get("backbone") or w["args"].get("backbone", "")
    return str(name).startswith("prithvi")


def model_args(w):
    """model_args for this workload at its size (the Prithvi encoders' img_size
    set to the input size, as a config for 512 x 512 chips does)."""
    args = copy.deepcopy(w["args"])
    if is_prithvi(w):
        args["backbone_img_size"] = w["size"]
    return args


def input_shape(w):
    frames = w.get("frames", 1)
    shape = [1, w.get("chans", 6), frames, w["size"], w["size"]]
    if frames == 1:
        del shape[2]
    return shape


def config_path(w):
    return os.path.join(CACHE, w["name"] + ".yaml")


def onnx_path(w):
    return os.path.join(CACHE, w["name"] + ".onnx")


def meta_path(w):
    return os.path.join(CACHE, w["name"] + ".json")


def import_terratorch():
    """TerraTorch's package, importable without its dataset-only dependencies."""
    import sys
    tools = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)
    from terratorch_import import import_terratorch as imp
    imp()


def build(w, seed=0):
    """The workload's TerraTorch module in eval mode, random weights (seed)."""
    import logging

    import torch
    import_terratorch()
    logging.disable(logging.WARNING)
    torch.manual_seed(seed)
    if w["kind"] == "backbone":
        from terratorch.registry import BACKBONE_REGISTRY
        model = BACKBONE_REGISTRY.build(w["backbone"], pretrained=False, num_frames=w["frames"],
                                        img_size=w["size"])
    elif "decoder" not in w["args"] and w["factory"] == "EncoderDecoderFactory":
        # A config without a decoder: the backbone alone (TerraTorch's
        # factory insists on a decoder; terracl runs such a config as one).
        from terratorch.registry import BACKBONE_REGISTRY
        args = model_args(w)
        kw = {k[len("backbone_"):]: v for k, v in args.items() if k.startswith("backbone_")}
        model = BACKBONE_REGISTRY.build(args["backbone"], **kw)
    else:
        from terratorch.registry import MODEL_FACTORY_REGISTRY
        factory = MODEL_FACTORY_REGISTRY.build(w["factory"])
        args = model_args(w)
        if "backbone_pretrained" in args:
            args["backbone_pretrained"] = False  # no download; weights are random anyway
        model = factory.build_model(task="segmentation", **args)
    return model.eval()


class Traceable:
    """Wraps a model so that its forward returns plain tensors: TerraTorch's
    models return a ModelOutput, its backbones a list of every block's tokens
    (the last one is what a user extracts)."""

    def __new__(cls, model):
        import torch

        class Wrapped(torch.nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, x):
                y = self.m(x)
                if hasattr(y, "output"):
                    return y.output
                if isinstance(y, dict):
                    y = list(y.values())
                if isinstance(y, (list, tuple)):
                    return y[-1]
                return y

        return Wrapped(model).eval()


def gflop(model, shape):
    """Work of one forward: 2 per multiply-add of every matrix product and
    convolution (PyTorch's FlopCounterMode), as terracl counts its GEMMs."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    x = torch.randn(*shape)
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        model(x)
    return fc.get_total_flops() * 1e-9


def terracl_args(w):
    """`terracl bench` arguments that time this workload."""
    if w["kind"] == "backbone":
        return ["--backbone", w["backbone"], "--frames", str(w["frames"]), "--size", str(w["size"])]
    return ["--config", os.path.relpath(config_path(w)), "--size", str(w["size"])]


def main():
    """`python3 bench/workloads.py [--quick] [--only a,b]`: one line per
    workload for bench/run_all.sh: name, approximate GFLOP (0 when not
    exported yet), then terracl bench's arguments, tab-separated."""
    import argparse
    import json
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only")
    args = ap.parse_args()
    names = list(WORKLOADS)
    if args.only:
        names = [n for n in args.only.split(",") if n]
        unknown = [n for n in names if n not in WORKLOADS]
        if unknown:
            raise SystemExit("unknown workloads: %s (known: %s)" % (unknown, ", ".join(WORKLOADS)))
    elif args.quick:
        names = [n for n in names if WORKLOADS[n].get("quick")]
    for n in names:
        w = WORKLOADS[n]
        g = 0.0
        if os.path.exists(meta_path(w)):
            with open(meta_path(w)) as f:
                g = json.load(f)["gflop"]
        print("\t".join([n, "%.1f" % g] + terracl_args(w)))


if __name__ == "__main__":
    main()
