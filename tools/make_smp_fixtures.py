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

smp_model("smp_pspnet_resnet", 509, RESNET, "smp_PSPNet", [("psp_out_channels", 16)],
          (2, 3, 31, 29), "timm ResNet-18 (narrowed) + smp PSPNet on its last feature, batch 2 "
          "at 31x29")
smp_model("smp_pspnet_prithvi", 510, PRITHVI, "smp_PSPNet",
          [("psp_out_channels", 16), ("decoder_use_norm", False)], (2, 6, 29, 27),
          "Prithvi + necks + smp PSPNet without BatchNorm, batch 2 at 29x27")
smp_model("smp_linknet_resnet", 513, RESNET, "smp_Linknet", [], (2, 3, 31, 29),
          "timm ResNet-18 (narrowed) + smp Linknet (4 blocks, transposed convolutions), batch 2 "
          "at 31x29")
smp_model("smp_linknet_prithvi", 514, PRITHVI, "smp_Linknet", [], (2, 6, 29, 27),
          "Prithvi + necks + smp Linknet (3 blocks), batch 2 at 29x27")

smp_model("smp_upernet_resnet", 517, RESNET, "smp_UPerNet", [("decoder_channels", 16)],
          (2, 3, 31, 29), "timm ResNet-18 (narrowed) + smp UPerNet (LayerNorms, PSP, FPN on "
          "layer2..layer4), batch 2 at 31x29")
smp_model("smp_upernet_prithvi", 518, PRITHVI, "smp_UPerNet",
          [("decoder_channels", 16), ("decoder_use_norm", "identity")], (2, 6, 29, 27),
          "Prithvi + necks + smp UPerNet without BatchNorm (its PSP output conv keeps one), "
          "batch 2 at 29x27")

smp_model("smp_unetplusplus_resnet", 519, RESNET, "smp_UnetPlusPlus",
          [("decoder_channels", [16, 12, 8, 8])], (2, 3, 31, 29),
          "timm ResNet-18 (narrowed) + smp UnetPlusPlus (nested blocks over layer1..layer4), "
          "batch 2 at 31x29")
smp_model("smp_unetplusplus_prithvi", 520, PRITHVI, "smp_UnetPlusPlus",
          [("decoder_channels", [16, 8, 8]), ("decoder_interpolation", "bilinear")],
          (2, 6, 29, 27), "Prithvi + necks + smp UnetPlusPlus with bilinear upsampling, batch 2 "
          "at 29x27")

# PAN pools its last feature three times by 2: it needs that feature at 8x8
# or more, so this ResNet stops at layer3 (1/16) and the image has one band.
RESNET_L3 = list(mf._bb("timm_resnet18", in_chans=1, layers=[1, 1, 1, 1],
                        channels=[8, 16, 16, 24], out_indices=[0, 1, 2, 3]).items())
smp_model("smp_pan_resnet", 521, RESNET_L3, "smp_PAN", [("decoder_channels", 16)],
          (2, 1, 127, 121), "timm ResNet-18 (narrowed, up to layer3, one band) + smp PAN "
          "(feature pyramid attention on layer3, GAUs on layer2 and layer1), one output "
          "(regression), batch 2 at 127x121", task="regression")

# On Prithvi the pooled feature is the neck's last map, at half the patch
# grid: with 4x4 patches, 63x61 (reflect-padded to 64x64, a 16x16 grid)
# gives it 8x8.
PRITHVI_P4 = list(mf._bb("prithvi_eo_v2_300", img_size=32, num_frames=1,
                         embed_dim=32, depth=4, num_heads=2, patch_size=[1, 4, 4]).items()) + \
    PRITHVI[-1:]
smp_model("smp_pan_prithvi", 522, PRITHVI_P4, "smp_PAN", [("decoder_channels", 16)],
          (2, 6, 63, 61), "Prithvi (4x4 patches) + necks + smp PAN (feature pyramid "
          "attention on the last map, GAUs on the others), batch 2 at 63x61")

smp_model("smp_manet_resnet", 523, RESNET_L3, "smp_MAnet",
          [("decoder_channels", [16, 8, 8]), ("decoder_pab_channels", 8)], (2, 1, 63, 61),
          "timm ResNet-18 (narrowed, up to layer3, one band) + smp MAnet: position attention "
          "over layer3's 4x4 positions, MFAB blocks, batch 2 at 63x61")
smp_model("smp_manet_prithvi", 524, PRITHVI, "smp_MAnet",
          [("decoder_channels", [16, 16, 8]), ("decoder_pab_channels", 8),
           ("decoder_interpolation", "bilinear")], (2, 6, 29, 27),
          "Prithvi + necks + smp MAnet with bilinear upsampling, batch 2 at 29x27")

smp_model("smp_segformer_resnet", 525, RESNET, "smp_Segformer",
          [("decoder_segmentation_channels", 16)], (2, 3, 31, 29),
          "timm ResNet-18 (narrowed) + smp Segformer (per-pixel Linears, all resized to a "
          "quarter of act1's size), batch 2 at 31x29")
smp_model("smp_segformer_prithvi", 526, PRITHVI, "smp_Segformer",
          [("decoder_segmentation_channels", 16)], (2, 6, 29, 27),
          "Prithvi + necks + smp Segformer, batch 2 at 29x27")

# SMPModelFactory: smp's own models on smp's ResNet encoders (torchvision's
# layout). smp keeps every encoder stage in the state_dict whatever
# encoder_depth is; `strip` drops the stages a shallow encoder never runs,
# so the committed files stay small (terracl ignores such tensors anyway).
def smp_factory(name, seed, model, backbone, args, input, note, strip=(), **extra):
    fixture(name, kind="model", seed=seed, task="segmentation", factory="SMPModelFactory",
            model_args=OD([("model", model), ("backbone", backbone),
                           ("bands", list(range(input[1]))), ("pretrained", False),
                           ("num_classes", 3)] + [("smp_" + k, v) for k, v in args]),
            input=input, note=note, strip=strip, **extra)


smp_factory("smp_factory_unet_r18", 511, "Unet", "resnet18",
            [("encoder_depth", 2), ("decoder_channels", [16, 8])], (2, 4, 29, 23),
            "SMPModelFactory: smp Unet on smp's resnet18 encoder cut at depth 2 (stem and "
            "layer1), 4 bands, batch 2 at 29x23 (Unet takes any size)",
            strip=("smp_model.encoder.layer2.", "smp_model.encoder.layer3.",
                   "smp_model.encoder.layer4."))
smp_factory("smp_factory_deeplabv3_r18", 512, "DeepLabV3", "resnet18",
            [("encoder_depth", 2), ("decoder_channels", 16), ("decoder_atrous_rates", [1, 2, 3])],
            (2, 3, 28, 20),
            "SMPModelFactory: smp DeepLabV3 on smp's resnet18 at depth 2 (segmentation head "
            "upsampling 4x, align_corners), batch 2 at 28x20 (multiples of 4, as smp requires)",
            strip=("smp_model.encoder.layer2.", "smp_model.encoder.layer3.",
                   "smp_model.encoder.layer4."))

smp_factory("smp_factory_pspnet_r18", 515, "PSPNet", "resnet18",
            [("encoder_depth", 2), ("psp_out_channels", 16)], (2, 3, 28, 20),
            "SMPModelFactory: smp PSPNet on smp's resnet18 at depth 2: the head's 8x upsampling "
            "overshoots and SMPModelWrapper resizes back to 28x20, batch 2",
            strip=("smp_model.encoder.layer2.", "smp_model.encoder.layer3.",
                   "smp_model.encoder.layer4."))
smp_factory("smp_factory_linknet_r18", 516, "Linknet", "resnet18", [("encoder_depth", 2)],
            (2, 5, 28, 20),
            "SMPModelFactory: smp Linknet on smp's resnet18 at depth 2, 5 bands, batch 2 at 28x20",
            strip=("smp_model.encoder.layer2.", "smp_model.encoder.layer3.",
                   "smp_model.encoder.layer4."))

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
smp_model("full_smp_deeplabv3plus_resnet50_512", 535, FULL_RESNET, "smp_DeepLabV3Plus", [],
          (1, 6, 512, 512), "full ResNet-50 + smp DeepLabV3Plus (defaults) at 512x512: layer4's "
          "1x1 convolutions on 32x32 maps (2048 channels) sum in several blocks", full=True)
smp_model("full_smp_deeplabv3_resnet50", 534, FULL_RESNET, "smp_DeepLabV3", [],
          (2, 6, 97, 83), "full ResNet-50 + smp DeepLabV3 (defaults), batch 2 at 97x83",
          full=True)

smp_factory("full_smp_factory_unet_r34", 541, "Unet", "resnet34", [], (2, 6, 97, 83),
            "SMPModelFactory (burnscars_smp.yaml layout): smp Unet on resnet34, 6 bands, "
            "batch 2 at 97x83", full=True)
smp_factory("full_smp_factory_fpn_r50", 542, "FPN", "resnet50", [], (2, 6, 96, 64),
            "SMPModelFactory: smp FPN on resnet50, batch 2 at 96x64", full=True)
smp_factory("full_smp_factory_deeplabv3_r34", 543, "DeepLabV3", "resnet34", [], (2, 6, 64, 96),
            "SMPModelFactory: smp DeepLabV3 on resnet34 (output stride 8: layer3/layer4 "
            "dilated 2/4), batch 2 at 64x96", full=True)
smp_factory("full_smp_factory_deeplabv3plus_r50", 544, "DeepLabV3Plus", "resnet50", [],
            (2, 6, 96, 64), "SMPModelFactory: smp DeepLabV3Plus on resnet50 (output stride 16: "
            "layer4 dilated 2), batch 2 at 96x64", full=True)

smp_factory("full_smp_factory_upernet_r34", 545, "UPerNet", "resnet34", [], (2, 6, 64, 96),
            "SMPModelFactory: smp UPerNet on resnet34, batch 2 at 64x96", full=True)
smp_factory("full_smp_factory_pspnet_r50", 546, "PSPNet", "resnet50", [], (2, 6, 64, 96),
            "SMPModelFactory: smp PSPNet on resnet50 (depth 3), batch 2 at 64x96", full=True)
smp_factory("full_smp_factory_unetplusplus_r34", 548, "UnetPlusPlus", "resnet34", [],
            (2, 6, 64, 96), "SMPModelFactory: smp UnetPlusPlus on resnet34, batch 2 at 64x96",
            full=True)
smp_factory("full_smp_factory_pan_r34", 549, "PAN", "resnet34", [], (2, 6, 128, 128),
            "SMPModelFactory: smp PAN on resnet34 (output stride 16: layer4 dilated 2), batch 2 "
            "at 128x128 (its attention pools the 8x8 last feature three times)", full=True)
smp_factory("full_smp_factory_manet_r34", 550, "MAnet", "resnet34", [], (2, 6, 128, 96),
            "SMPModelFactory: smp MAnet on resnet34, batch 2 at 128x96", full=True)
smp_factory("full_smp_factory_segformer_r50", 551, "Segformer", "resnet50", [], (2, 6, 64, 96),
            "SMPModelFactory: smp Segformer on resnet50, batch 2 at 64x96", full=True)
smp_factory("full_smp_factory_linknet_r34", 547, "Linknet", "resnet34", [], (2, 6, 64, 96),
            "SMPModelFactory: smp Linknet on resnet34, batch 2 at 64x96", full=True)

def run_model(model, x, kwargs, _plain=mf.run_model):
    """SMPModelWrapper has no encoder/decoder/head attributes to hook."""
    if not hasattr(model, "smp_model"):
        return _plain(model, x, kwargs)
    import torch
    model.eval()
    with torch.no_grad():
        return OD(output=model(x, **kwargs).output.numpy())


def make_one(name, spec, out_root, sample_out, vers, _plain=mf.make_one):
    folder = _plain(name, spec, out_root, sample_out, vers)
    if spec.get("strip"):
        path = os.path.join(folder, "weights.h5")
        sd, _ = mf.read_state_dict(path)
        kept = OD((k, v) for k, v in sd.items() if not k.startswith(tuple(spec["strip"])))
        mf.write_state_dict(path, kept, compress=True)
    return folder


mf.run_model = run_model
mf.make_one = make_one

if __name__ == "__main__":
    sys.exit(mf.main())
