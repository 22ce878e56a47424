#!/usr/bin/env python3
"""Parity fixtures for segmentation_models_pytorch (smp) decoders as TerraTorch
wraps them (decoder: smp_<Name> through EncoderDecoderFactory), made with the
real TerraTorch and smp by tools/make_fixtures.py's machinery (same layout,
same randomisation with BatchNorm/GroupNorm statistics, fixed seeds).

    python3 tools/make_smp_fixtures.py                  # the reduced smp_* fixtures
    python3 tools/make_smp_fixtures.py --only smp_fpn_resnet
    python3 tools/make_smp_fixtures.py --full --out DIR # also the full-size ones (big)

The committed ones live in tests/fixtures/smp_*; tools/check_full_smp.sh
makes and checks the full-size ones in a scratch folder.
"""

import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402

mf.FIXTURES.clear()
mf.DEBUG_MAX_ELEMENTS = 4096  # keeps the committed files small
fixture = mf.fixture
OD = collections.OrderedDict

# A narrowed timm ResNet-18 (timm's own layers/channels arguments): five
# features at 1/2 .. 1/32 of the input.
RESNET = list(mf._bb("timm_resnet18", in_chans=3, layers=[1, 1, 1, 1],
                     channels=[8, 16, 16, 24]).items())

# A small Prithvi with TerraTorch's usual necks: four maps at 4x, 2x, 1x and
# 1/2x of the patch grid.
PRITHVI = list(mf._bb("prithvi_eo_v2_300", img_size=32, num_frames=1,
                      embed_dim=32, depth=4, num_heads=2, patch_size=[1, 8, 8]).items()) + [
    ("necks", [{"name": "SelectIndices", "indices": [0, 1, 2, 3]},
               {"name": "ReshapeTokensToImage"},
               {"name": "LearnedInterpolateToPyramidal"}])]


def smp_model(name, seed, base, decoder, args, input, note, task="segmentation", **extra):
    fixture(name, kind="model", seed=seed, task=task,
            model_args=OD(base + [("decoder", decoder)] +
                          [("decoder_" + k, v) for k, v in args] +
                          ([("num_classes", 3)] if task == "segmentation" else [])),
            input=input, note=note, **extra)


smp_model("smp_unet_resnet", 501, RESNET, "smp_Unet",
          [("decoder_channels", [16, 12, 8, 8])], (2, 3, 31, 29),
          "timm ResNet-18 (narrowed) + smp Unet over its 5 features (4 blocks), batch 2 "
          "at 31x29")
smp_model("smp_unet_prithvi", 502, PRITHVI, "smp_Unet",
          [("decoder_channels", [32, 16, 16]), ("decoder_attention_type", "scse"),
           ("decoder_interpolation", "bilinear")], (2, 6, 29, 27),
          "Prithvi + necks (4 maps) + smp Unet (3 blocks) with SCSE attention and "
          "bilinear upsampling, batch 2 at 29x27 (padded to 32x32: grid 4x4)")
smp_model("smp_fpn_resnet", 503, RESNET, "smp_FPN",
          [("decoder_pyramid_channels", 16), ("decoder_segmentation_channels", 64)],
          (2, 3, 31, 29),
          "timm ResNet-18 (narrowed) + smp FPN (GroupNorm 32 groups of 2 channels), "
          "batch 2 at 31x29 (smp's 2x steps need such sizes)")
smp_model("smp_fpn_prithvi", 504, PRITHVI, "smp_FPN",
          [("decoder_pyramid_channels", 16), ("decoder_segmentation_channels", 32),
           ("decoder_merge_policy", "cat")], (2, 6, 29, 27),
          "Prithvi + necks + smp FPN, merge_policy cat, batch 2 at 29x27", task="regression")
smp_model("smp_deeplabv3_resnet", 505, RESNET, "smp_DeepLabV3",
          [("decoder_channels", 16), ("decoder_atrous_rates", [1, 2, 3])], (2, 3, 31, 29),
          "timm ResNet-18 (narrowed) + smp DeepLabV3 (plain ASPP, rates 1/2/3), batch 2 "
          "at 31x29")
smp_model("smp_deeplabv3_prithvi", 506, PRITHVI, "smp_DeepLabV3",
          [("decoder_channels", 16), ("decoder_aspp_separable", True)], (2, 6, 29, 27),
          "Prithvi + necks + smp DeepLabV3 with separable ASPP, default rates 12/24/36, "
          "batch 2 at 29x27")
smp_model("smp_deeplabv3plus_resnet", 507, RESNET, "smp_DeepLabV3Plus",
          [("decoder_channels", 16), ("decoder_atrous_rates", [1, 2, 3])], (2, 3, 31, 29),
          "timm ResNet-18 (narrowed) + smp DeepLabV3Plus (separable ASPP, 4x bilinear up "
          "onto the 1/8 feature), batch 2 at 31x29")
smp_model("smp_deeplabv3plus_prithvi", 508, PRITHVI, "smp_DeepLabV3Plus",
          [("decoder_channels", 16), ("decoder_aspp_separable", False)], (2, 6, 29, 27),
          "Prithvi + necks (4 maps: depth 3, 2x up) + smp DeepLabV3Plus without separable "
          "convolutions, batch 2 at 29x27")

# Full size (smp's default widths on a full ResNet-50): made in a scratch
# folder by tools/check_full_smp.sh, never committed.
FULL_RESNET = list(mf._bb("timm_resnet50", in_chans=6).items())
smp_model("full_smp_unet_resnet50", 531, FULL_RESNET, "smp_Unet",
          [("decoder_channels", [256, 128, 64, 32])], (2, 6, 97, 83),
          "full ResNet-50 + smp Unet (4 blocks), batch 2 at 97x83", full=True)
smp_model("full_smp_fpn_resnet50", 532, FULL_RESNET, "smp_FPN", [], (2, 6, 127, 95),
          "full ResNet-50 + smp FPN (defaults), batch 2 at 127x95", full=True)
smp_model("full_smp_deeplabv3plus_resnet50", 533, FULL_RESNET, "smp_DeepLabV3Plus", [],
          (2, 6, 127, 95), "full ResNet-50 + smp DeepLabV3Plus (defaults), batch 2 at 127x95",
          full=True)
smp_model("full_smp_deeplabv3_resnet50", 534, FULL_RESNET, "smp_DeepLabV3", [],
          (2, 6, 97, 83), "full ResNet-50 + smp DeepLabV3 (defaults), batch 2 at 97x83",
          full=True)

if __name__ == "__main__":
    sys.exit(mf.main())
