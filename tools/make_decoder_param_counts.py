"""Writes tests/fixtures/decoder_param_counts.tsv: the learnable parameter
count of decoders built through TerraTorch's DECODER_REGISTRY (its own
source and the smp source) for a channel list and keyword arguments, as
PyTorch counts them. `terracl info decoder NAME --channels ...` prints the
same numbers; tests/test_param_counts.c checks them.

    python3 tools/make_decoder_param_counts.py [OUT.tsv]
"""
import os
import sys
import warnings
from importlib.metadata import version

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from terratorch_import import import_terratorch  # noqa: E402

import_terratorch()
from terratorch.registry import DECODER_REGISTRY  # noqa: E402

RESNET34 = [3, 64, 64, 128, 256, 512]
RESNET50 = [3, 64, 256, 512, 1024, 2048]
PYRAMID = [768, 768, 768, 768]
CASES = [
    ("smp_Unet", RESNET34, {}),
    ("smp_Unet", RESNET50, {"decoder_attention_type": "scse"}),
    ("smp_Unet", PYRAMID, {"decoder_channels": [256, 128, 64], "decoder_use_norm": False}),
    ("smp_FPN", RESNET34, {}),
    ("smp_FPN", RESNET50, {"decoder_merge_policy": "cat", "decoder_segmentation_channels": 64}),
    ("smp_FPN", PYRAMID, {}),
    ("smp_DeepLabV3", RESNET34, {}),
    ("smp_DeepLabV3", RESNET50, {"decoder_aspp_separable": True}),
    ("smp_DeepLabV3Plus", RESNET34, {}),
    ("smp_DeepLabV3Plus", RESNET50, {"decoder_aspp_separable": False}),
    ("smp_DeepLabV3Plus", PYRAMID, {}),
    ("smp_PSPNet", RESNET34, {}),
    ("smp_PSPNet", PYRAMID, {"psp_out_channels": 256, "decoder_use_norm": False}),
    ("smp_Linknet", RESNET34, {}),
    ("smp_Linknet", RESNET50, {"decoder_use_norm": "identity"}),
    ("smp_UPerNet", RESNET34, {}),
    ("smp_UPerNet", PYRAMID, {"decoder_channels": 64, "decoder_use_norm": False}),
    ("smp_UnetPlusPlus", RESNET34, {}),
    ("smp_UnetPlusPlus", PYRAMID, {"decoder_channels": [128, 64, 32]}),
    ("smp_PAN", RESNET34, {}),
    ("smp_PAN", PYRAMID, {"decoder_channels": 64}),
    ("smp_MAnet", RESNET34, {}),
    ("smp_MAnet", PYRAMID, {"decoder_channels": [128, 64, 32], "decoder_pab_channels": 32}),
    ("smp_Segformer", RESNET34, {}),
    ("smp_Segformer", PYRAMID, {"decoder_segmentation_channels": 64}),
    ("ASPPHead", [1, 6, 12, 18], {"in_channels": 768, "channels": 256}),
    ("ASPPSegmentationHead", PYRAMID, {"in_channels": 768, "channels": 256, "num_classes": 4}),
    ("ASPPRegressionHead", PYRAMID, {"in_channels": 768, "channels": 128,
                                     "dilations": [1, 3, 5]}),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/decoder_param_counts.tsv"
    lines = ["# decoder\tchannel list\targuments (YAML flow map)\tlearnable parameters "
             f"(terratorch {version('terratorch')}, segmentation-models-pytorch "
             f"{version('segmentation-models-pytorch')}, torch {torch.__version__})"]
    warnings.simplefilter("ignore")
    for name, channels, kwargs in CASES:
        model = DECODER_REGISTRY.build(name, list(channels), **kwargs)
        count = sum(p.numel() for p in model.parameters())
        args = "{" + ", ".join(f"{k}: {v}" for k, v in kwargs.items()) + "}"
        args = args.replace("False", "false").replace("True", "true")
        lines.append(f"{name}\t{channels}\t{args}\t{count}")
        print(name, channels, args, count, flush=True)
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
