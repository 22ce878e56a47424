#!/usr/bin/env python3
"""Generate terracl's parity fixtures with the real TerraTorch package.

    python3 tools/make_fixtures.py                 # every fixture + the sample model
    python3 tools/make_fixtures.py --only bb_v1    # one (repeatable; "sample" = weights/sample)
    python3 tools/make_fixtures.py --list
    python3 tools/make_fixtures.py --out /tmp/fx   # somewhere else

Models are built through TerraTorch's own registries and factory (nothing is
re-implemented here), given random weights with fixed seeds (every parameter
and every buffer that is not a fixed table: norm weights and biases, BatchNorm
running statistics, learned coordinate scales, tokens, ...), and run in eval
mode, float32, on the CPU. Each fixture folder holds

  config.yaml    TerraTorch-style config (model_factory, model_args[, task])
  weights.h5     the model's state_dict in terracl's layout (tools/terracl_h5.py,
                 the same writer as tools/convert_checkpoint.py)
  input.h5       "input" [B,C,H,W] or [B,C,T,H,W]; optional "temporal_coords"
                 [B,T,2] (year, day of year) and "location_coords" [B,2] (lat, lon)
  expected.h5    "output": TerraTorch's ModelOutput.output (whole models) or the
                 backbone's last returned feature [B,1+N,D]; backbones also hold
                 every returned feature as "features/<i>"; whole models hold
                 intermediate results under "debug/" (encoder features, decoder
                 inputs after the necks, decoder output, head output).

Every random float tensor is rounded to MANTISSA_BITS significant bits and the
fixture checkpoints are stored with HDF5's shuffle+gzip filters, which keeps
the committed files small; the numbers are still arbitrary float32 weights.
"""

import argparse
import collections
import importlib.metadata
import logging
import os
import sys
import tempfile
import warnings

import numpy as np
import yaml

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

import convert_checkpoint  # noqa: E402
from terracl_h5 import read_state_dict, write_arrays, write_state_dict  # noqa: E402

MANTISSA_BITS = 4
SIZE_WARN_BYTES = 1000 * 1000
DEBUG_MAX_ELEMENTS = 32768  # larger intermediate results are left out of expected.h5

# ------------------------------------------------------------------ fixtures
#
# Each entry: kind ("backbone", "model", "mae_ckpt", "sample"), seed, the
# TerraTorch model_args, the task (whole models), the input shape and whether
# temporal/location coordinates are passed. `note` goes into the config header.

# The TerraTorch release terracl follows; tools/requirements-fixtures.txt pins the rest.
PINNED_TERRATORCH = "1.2.13"

FIXTURES = collections.OrderedDict()


def fixture(name, **spec):
    FIXTURES[name] = spec


def _bb(name, **over):
    args = collections.OrderedDict(backbone=name)
    for k, v in over.items():
        args["backbone_" + k] = v
    return args


fixture("bb_v1", kind="backbone", seed=101,
        model_args=_bb("prithvi_eo_v1_100", img_size=32, num_frames=1,
                       embed_dim=128, depth=2, num_heads=2),
        input=(1, 6, 32, 32),
        note="V1 ViT, one frame, head dim 64 (as in the real models)")
fixture("bb_tiny", kind="backbone", seed=102,
        model_args=_bb("prithvi_eo_tiny", img_size=32, num_frames=1,
                       embed_dim=64, depth=3, num_heads=2),
        input=(1, 6, 32, 32),
        note="tiny ViT, 3 blocks, head dim 32")
fixture("bb_v2_frames", kind="backbone", seed=103,
        model_args=_bb("prithvi_eo_v2_300", img_size=32, num_frames=3,
                       embed_dim=64, depth=2, num_heads=2),
        input=(1, 6, 3, 32, 32),
        note="V2 ViT on 3 frames (5-D input, t-major tokens)")
fixture("bb_tl_coords", kind="backbone", seed=104,
        model_args=_bb("prithvi_eo_v2_100_tl", img_size=32, num_frames=2,
                       embed_dim=64, depth=2, num_heads=2),
        input=(1, 6, 2, 32, 32), coords=True,
        note="_tl ViT on 2 frames with temporal_coords and location_coords, learned scales")
fixture("bb_batch2", kind="backbone", seed=105,
        model_args=_bb("prithvi_eo_v2_tiny_tl", img_size=32, num_frames=1,
                       embed_dim=64, depth=2, num_heads=2),
        input=(2, 6, 32, 32), coords=True,
        note="batch of 2 with per-sample coordinates, 4-D input into a _tl ViT")
fixture("bb_resize", kind="backbone", seed=106,
        model_args=_bb("prithvi_eo_v2_300", img_size=64, num_frames=1,
                       embed_dim=64, depth=2, num_heads=2),
        input=(1, 6, 96, 96),
        note="built for 64x64, run on 96x96: pos_embed bicubic-resized 4x4 -> 6x6")
fixture("bb_resize_rect", kind="backbone", seed=107,
        model_args=_bb("prithvi_eo_v2_300", img_size=32, num_frames=2,
                       embed_dim=64, depth=2, num_heads=2),
        input=(1, 6, 2, 48, 64),
        note="built for 32x32, run on 2 frames of 48x64: pos_embed resized 2x2 -> 3x4")
fixture("bb_600style", kind="backbone", seed=108,
        model_args=_bb("prithvi_eo_v2_600", img_size=56, num_frames=1,
                       embed_dim=160, depth=1, num_heads=2),
        input=(1, 6, 56, 56),
        note="600M layout: patch 14, head dim 80 (one block to stay small)")
fixture("bb_out_indices", kind="backbone", seed=109,
        model_args=_bb("prithvi_eo_tiny", img_size=32, num_frames=1,
                       embed_dim=64, depth=3, num_heads=2, out_indices=[0, 2]),
        input=(1, 6, 32, 32),
        note="out_indices [0, 2]: returns block 0 and the final-normed block 2")
fixture("bb_mae_ckpt", kind="mae_ckpt", seed=110,
        model_args=_bb("prithvi_eo_v2_300", pretrained=True, ckpt_path="mae.h5",
                       img_size=32, num_frames=1, embed_dim=64, depth=2, num_heads=2),
        mae_name="prithvi_eo_v2_300_mae",
        mae_extra=dict(decoder_embed_dim=32, decoder_depth=1, decoder_num_heads=2),
        input=(1, 6, 32, 32),
        note="backbone loaded through ckpt_path from a PrithviMAE state dict "
             "(encoder.*, decoder.*) converted by tools/convert_checkpoint.py --compress")

fixture("bb_mae_bands", kind="mae_ckpt", seed=111,
        model_args=_bb("prithvi_eo_v2_300", pretrained=True, ckpt_path="mae.h5",
                       bands=["RED", "GREEN", "BLUE", "SWIR_2"],
                       img_size=32, num_frames=1, embed_dim=64, depth=2, num_heads=2),
        mae_name="prithvi_eo_v2_300_mae",
        mae_extra=dict(decoder_embed_dim=32, decoder_depth=1, decoder_num_heads=2),
        input=(1, 4, 32, 32),
        note="ckpt_path from a 6-band MAE checkpoint into a model with 4 of those bands in "
             "another order: the patch embedding takes the matching pretrained columns")

fixture("fm_seg_fcn", kind="model", seed=201, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_v1_100", img_size=64, num_frames=1,
                     embed_dim=64, depth=2, num_heads=2).items()) + [
            ("decoder", "FCNDecoder"), ("decoder_channels", 32), ("decoder_num_convs", 2),
            ("num_classes", 3), ("head_dropout", 0.1)]),
        input=(1, 6, 64, 64),
        note="no necks (prepare_features_for_image_model), FCN 4x4 -> 16x16, "
             "bilinear rescale to 64x64")
fixture("fm_upernet_t3", kind="model", seed=202, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_v2_300", img_size=32, num_frames=3, patch_size=8,
                     embed_dim=32, depth=4, num_heads=2).items()) + [
            ("necks", [{"name": "SelectIndices", "indices": [0, 1, 2, 3]},
                       {"name": "ReshapeTokensToImage", "effective_time_dim": 3},
                       {"name": "LearnedInterpolateToPyramidal"}]),
            ("decoder", "UperNetDecoder"), ("decoder_channels", 32),
            ("num_classes", 4)]),
        input=(1, 6, 3, 32, 32),
        note="3 frames, patch 8 (grid 4x4), SelectIndices + ReshapeTokensToImage + "
             "LearnedInterpolateToPyramidal, UperNet, rescale 16x16 -> 32x32")
fixture("fm_unet_tl", kind="model", seed=203, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_v2_300_tl", img_size=32, num_frames=2,
                     embed_dim=32, depth=4, num_heads=2).items()) + [
            ("necks", [{"name": "SelectIndices", "indices": [0, 1, 2, 3]},
                       {"name": "ReshapeTokensToImage", "effective_time_dim": 2},
                       {"name": "InterpolateToPyramidal"}]),
            ("decoder", "UNetDecoder"), ("decoder_channels", [32, 16, 16, 8]),
            ("num_classes", 2), ("head_channel_list", [16])]),
        input=(1, 6, 2, 32, 32), coords=True,
        note="_tl backbone with coordinates, InterpolateToPyramidal, UNet, "
             "segmentation head with a conv pre-head")
fixture("fm_reg_pad", kind="model", seed=204, task="regression",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_v2_300", img_size=64, num_frames=1,
                     embed_dim=64, depth=2, num_heads=2).items()) + [
            ("decoder", "MLPDecoder"),
            ("head_learned_upscale_layers", 1), ("head_channel_list", [16]),
            ("head_dropout", 0.1)]),
        input=(1, 6, 50, 70),
        note="50x70 input: reflect-padded to 64x96 (grid 4x6, pos_embed resized), "
             "MLPDecoder, RegressionHead with PixelShuffle upscale, cropped back")
fixture("fm_cls", kind="model", seed=205, task="classification",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_v1_100", img_size=32, num_frames=1,
                     embed_dim=64, depth=2, num_heads=2).items()) + [
            ("decoder", "IdentityDecoder"), ("num_classes", 5),
            ("head_dim_list", [32]), ("head_dropout", 0.2)]),
        input=(2, 6, 48, 48),
        note="ScalarOutputModel: batch 2 at 48x48 (img_size 32; padded to 64x64, grid 4x4 "
             "so pos_embed is resized), IdentityDecoder, "
             "ClassificationHead with a hidden layer")
fixture("fm_unet_odd_b2", kind="model", seed=209, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_v2_300", img_size=32, num_frames=1, patch_size=8,
                     embed_dim=32, depth=4, num_heads=2).items()) + [
            ("necks", [{"name": "SelectIndices", "indices": [0, 1, 2, 3]},
                       {"name": "ReshapeTokensToImage"},
                       {"name": "LearnedInterpolateToPyramidal"}]),
            ("decoder", "UNetDecoder"), ("decoder_channels", [32, 16, 8, 8]),
            ("num_classes", 2)]),
        input=(2, 6, 45, 37),
        note="burn-scars layout on a batch of 2 at 45x37: padded symmetrically to 48x48 "
             "(1+2 rows, 5+6 columns), UNet, centre-cropped back (TerraTorch 1.2)")
fixture("fm_size_out", kind="model", seed=214, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_tiny", img_size=32, num_frames=1,
                     embed_dim=32, depth=2, num_heads=2, padding=None).items()) + [
            ("decoder", "FCNDecoder"), ("decoder_channels", 16),
            ("num_classes", 3), ("image_size_out", [40, 30])]),
        input=(2, 6, 64, 48),
        note="image_size_out [40, 30] (TerraTorch 1.2): the 64x48 output is centre-cropped to "
             "40x30; backbone_padding null (no padding; the input is a multiple of 16)")
fixture("fm_scalar_reg", kind="model", seed=210, task="scalar_regression",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_tiny", img_size=32, num_frames=1,
                     embed_dim=32, depth=2, num_heads=2).items()) + [
            ("decoder", "IdentityDecoder"), ("num_outputs", 3),
            ("head_dim_list", [16])]),
        input=(2, 6, 33, 47),
        note="scalar_regression (TerraTorch 1.2): ScalarHead with num_outputs 3 on a batch "
             "of 2 at 33x47 (padded to 64x64)")
fixture("fm_reg_outputs", kind="model", seed=211, task="regression",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_v1_100", img_size=32, num_frames=1,
                     embed_dim=32, depth=2, num_heads=2).items()) + [
            ("decoder", "FCNDecoder"), ("decoder_channels", 16),
            ("num_outputs", 2)]),
        input=(1, 6, 41, 30),
        note="regression with num_outputs 2 (TerraTorch 1.2): output [B, 2, H, W], "
             "41x30 padded to 64x32 and centre-cropped")
fixture("fm_aggregate_cls", kind="model", seed=212, task="classification",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_v2_300", img_size=32, num_frames=1,
                     embed_dim=32, depth=3, num_heads=2).items()) + [
            ("necks", [{"name": "AggregateTokens", "pooling": "mean", "drop_cls": True}]),
            ("decoder", "IdentityDecoder"), ("num_classes", 4),
            ("head_dim_list", [16])]),
        input=(2, 6, 40, 33),
        note="classification on pooled tokens: AggregateTokens (mean without the CLS token), "
             "IdentityDecoder, ScalarHead; batch 2 at 40x33")
fixture("fm_aggregate_mlp", kind="model", seed=213, task="classification",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_tiny", img_size=32, num_frames=1,
                     embed_dim=32, depth=2, num_heads=2).items()) + [
            ("necks", [{"name": "AggregateTokens", "pooling": "cls", "indices": [0, 1]}]),
            ("decoder", "MLPDecoder"), ("num_classes", 3)]),
        input=(2, 6, 32, 32),
        note="AggregateTokens' CLS vectors of two blocks into MLPDecoder's 2-D path "
             "(TerraTorch 1.2), ScalarHead")
fixture("fm_linear_permute", kind="model", seed=206, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_tiny", img_size=64, num_frames=1,
                     embed_dim=64, depth=2, num_heads=2).items()) + [
            ("necks", [{"name": "SelectIndices", "indices": [-1]},
                       {"name": "ReshapeTokensToImage"},
                       {"name": "PermuteDims", "new_order": [0, 1, 3, 2]}]),
            ("decoder", "LinearDecoder"), ("decoder_upsampling_size", 16),
            ("decoder_num_classes", 4), ("num_classes", 3)]),
        input=(1, 6, 64, 48),
        note="64x48 input padded to 64x64; PermuteDims swaps H and W; LinearDecoder "
             "with its own num_classes, then a SegmentationHead on its 4 channels (TerraTorch "
             "1.2's factory takes includes_head from the decoder source)")
fixture("fm_maxpool_bottleneck", kind="model", seed=207, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_v2_300", img_size=64, num_frames=1, patch_size=8,
                     embed_dim=64, depth=3, num_heads=2).items()) + [
            ("necks", [{"name": "SelectIndices", "indices": [0, 1, 2]},
                       {"name": "ReshapeTokensToImage"},
                       {"name": "MaxpoolToPyramidal"},
                       {"name": "AddBottleneckLayer"}]),
            ("decoder", "UperNetDecoder"), ("decoder_channels", 16),
            ("decoder_pool_scales", [1, 2]), ("decoder_align_corners", False),
            ("num_classes", 2)]),
        input=(1, 6, 64, 64),
        note="patch 8 (grid 8x8), MaxpoolToPyramidal 8/4/2 + AddBottleneckLayer, "
             "UperNet with pool scales [1, 2] and align_corners false")

fixture("fm_quirk_portrait", kind="model", seed=209, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_tiny", img_size=32, num_frames=1,
                     embed_dim=64, depth=2, num_heads=2).items()) + [
            ("decoder", "FCNDecoder"), ("decoder_channels", 16), ("decoder_num_convs", 2),
            ("num_classes", 2)]),
        input=(1, 6, 64, 32),
        note="TerraTorch quirk: no necks, 64x32 input -> token grid 4x2, but "
             "prepare_features_for_image_model takes h = floor(sqrt(8)) = 2 and reshapes the "
             "tokens as 2x4; the bilinear rescale then hides the shape change")
fixture("fm_lightning", kind="lightning", seed=208, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_v2_300", img_size=32, num_frames=1,
                     embed_dim=64, depth=2, num_heads=2).items()) + [
            ("necks", [{"name": "SelectIndices", "indices": [0, 1]},
                       {"name": "ReshapeTokensToImage"}]),
            ("decoder", "UperNetDecoder"), ("decoder_channels", 16),
            ("num_classes", 2)]),
        input=(1, 6, 32, 32),
        note="the user's path: a Lightning config (model.class_path + init_args, with trainer "
             "and data sections) and a Lightning .ckpt of SemanticSegmentationTask converted "
             "by tools/convert_checkpoint.py --config --compress (config embedded)")

# TerraTorch's deprecated PrithviModelFactory, with model_args as its users
# wrote them (bands, in_channels, num_frames, pretrained; no necks).
# TerraMind v1 (one raw image modality). TerraTorch's terramind_v1_* builders
# fix dim, encoder_depth and num_heads; the reduced models override them (see
# terramind_sizes below), everything else is the variant's own layout.
fixture("tm_bb_base", kind="backbone", seed=301,
        model_args=_bb("terramind_v1_base", modalities=["S2L2A"], img_size=32,
                       dim=32, encoder_depth=2, num_heads=2),
        input=(2, 12, 48, 32),
        note="TerraMind base layout (no biases, SwiGLU MLP), S2L2A, batch 2 at 48x32: "
             "pos_emb bicubic-resized 2x2 -> 3x2")
fixture("tm_bb_tiny_max", kind="backbone", seed=302,
        model_args=_bb("terramind_v1_tiny", modalities=["S1GRD"], img_size=32,
                       dim=48, encoder_depth=2, num_heads=2, merge_method="max"),
        input=(1, 2, 32, 32),
        note="TerraMind tiny layout (biases, GELU MLP), S1GRD, merge_method max, 32x32")
fixture("tm_bb_bands", kind="backbone", seed=303,
        model_args=_bb("terramind_v1_small", modalities=["S2L2A"], img_size=32,
                       dim=64, encoder_depth=1, num_heads=2,
                       bands={"S2L2A": ["BLUE", "GREEN", "RED", "NIR_NARROW"]}),
        input=(1, 4, 32, 48),
        note="TerraMind small layout, S2L2A with 4 selected bands, 32x48")
fixture("tm_bb_concat", kind="backbone", seed=306,
        model_args=_bb("terramind_v1_small", modalities=["S2RGB"], img_size=32,
                       dim=32, encoder_depth=1, num_heads=2, merge_method="concat"),
        input=(1, 3, 16, 48),
        note="TerraMind small layout, S2RGB, merge_method concat (its missing_mod_token "
             "is in the state dict, unused with the one modality given), 16x48")
fixture("tm_upernet_odd_b2", kind="model", seed=304, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("terramind_v1_base", modalities=["S2L2A"], img_size=32,
                     dim=32, encoder_depth=4, num_heads=2,
                     bands={"S2L2A": ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1",
                                      "SWIR_2"]}).items()) + [
            ("necks", [{"name": "SelectIndices", "indices": [0, 1, 2, 3]},
                       {"name": "ReshapeTokensToImage", "remove_cls_token": False},
                       {"name": "LearnedInterpolateToPyramidal"}]),
            ("decoder", "UperNetDecoder"), ("decoder_channels", 16),
            ("num_classes", 3)]),
        input=(2, 6, 45, 37),
        note="TerraMind base layout as TerraTorch's TerraMind configs: S2L2A with 6 bands, "
             "SelectIndices, "
             "ReshapeTokensToImage (no CLS), LearnedInterpolateToPyramidal, UperNet; "
             "batch 2 at 45x37 padded to 48x48")
fixture("tm_unet_odd_b2", kind="model", seed=305, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("terramind_v1_small", modalities=["RGB"], img_size=32,
                     dim=32, encoder_depth=4, num_heads=2).items()) + [
            ("necks", [{"name": "SelectIndices", "indices": [0, 1, 2, 3]},
                       {"name": "ReshapeTokensToImage", "remove_cls_token": False},
                       {"name": "LearnedInterpolateToPyramidal"}]),
            ("decoder", "UNetDecoder"), ("decoder_channels", [32, 16, 8, 8]),
            ("num_classes", 2)]),
        input=(2, 3, 33, 50),
        note="TerraMind small layout, RGB, UNet; batch 2 at 33x50 padded to 48x64")


# Full-size TerraMind encoders (--full-terramind; for a scratch folder, not the
# repository: up to 1.2 GB of weights each).
FULL_TERRAMIND = collections.OrderedDict()
for _i, _v in enumerate(("tiny", "small", "base", "large")):
    FULL_TERRAMIND["tmfull_" + _v] = dict(
        kind="backbone", seed=390 + _i,
        model_args=_bb("terramind_v1_" + _v, modalities=["S2L2A"]),
        input=(2, 12, 64, 48),
        note="full-size terramind_v1_%s, S2L2A, batch 2 at 64x48 (pos_emb 14x14 -> 4x3)" % _v)

PMF = dict(kind="model", factory="PrithviModelFactory")
fixture("fm_pmf_seg_fcn", seed=211, task="segmentation", **PMF,
        model_args=collections.OrderedDict([
            ("backbone", "prithvi_eo_v1_100"), ("decoder", "FCNDecoder"),
            ("bands", ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2"]),
            ("num_classes", 3), ("backbone_img_size", 32), ("backbone_embed_dim", 64),
            ("backbone_depth", 2), ("backbone_num_heads", 2), ("decoder_channels", 16),
            ("decoder_num_convs", 3), ("head_dropout", 0.1), ("head_channel_list", [16])]),
        build_extra=dict(pretrained=False),
        input=(2, 6, 32, 64),
        note="PrithviModelFactory as usually written: pretrained left at its default (true; "
             "TerraTorch was given pretrained=False to build offline, the checkpoint replaces "
             "those weights either way), in_channels from the 6 named bands; batch 2, 32x64 "
             "(pos_embed resized 2x2 -> 2x4), every block reshaped to an image, FCN, "
             "SegmentationHead with a hidden conv")
fixture("fm_pmf_upernet_t2", seed=212, task="segmentation", **dict(PMF, kind="lightning"),
        model_args=collections.OrderedDict([
            ("backbone", "prithvi_eo_v2_300"), ("decoder", "UperNetDecoder"),
            ("in_channels", 4), ("bands", [0, 1, 2, 3]), ("num_frames", 2),
            ("pretrained", False), ("num_classes", 4), ("backbone_img_size", 32),
            ("backbone_patch_size", [1, 8, 8]), ("backbone_embed_dim", 32), ("backbone_depth", 4),
            ("backbone_num_heads", 2), ("decoder_channels", 16), ("decoder_pool_scales", [1, 2])]),
        input=(2, 4, 2, 32, 32),
        note="PrithviModelFactory, 4 bands given as indices with in_channels 4, num_frames 2 "
             "(5-D input, features 2*32 channels), patch 8, UperNet over all 4 blocks "
             "(no necks), batch 2; as a Lightning config and a Lightning .ckpt converted by "
             "tools/convert_checkpoint.py --config --compress (config embedded)")
fixture("fm_pmf_reg_aux", seed=213, task="regression", **PMF,
        model_args=collections.OrderedDict([
            ("backbone", "prithvi_eo_tiny"), ("decoder", "FCNDecoder"),
            ("bands", ["RED", "GREEN", "BLUE"]), ("pretrained", False), ("rescale", True),
            ("backbone_img_size", 64), ("backbone_embed_dim", 64), ("backbone_depth", 2),
            ("backbone_num_heads", 2), ("decoder_channels", 16), ("decoder_num_convs", 2),
            ("head_channel_list", [8]),
            ("aux_decoders", [collections.OrderedDict([
                ("name", "aux_head"), ("decoder", "FCNDecoder"),
                ("decoder_args", collections.OrderedDict([
                    ("decoder_channels", 8), ("decoder_num_convs", 1)]))])])]),
        input=(2, 3, 50, 70),
        note="PrithviModelFactory regression with an auxiliary FCN head (aux_heads.* in the "
             "checkpoint, not used for the output), RegressionHead with a hidden conv, batch 2 "
             "at 50x70: padded symmetrically to 64x96 (grid 4x6), centre crop back")
fixture("fm_pmf_cls", seed=214, task="classification", **PMF,
        model_args=collections.OrderedDict([
            ("backbone", "prithvi_eo_v1_100"), ("decoder", "IdentityDecoder"),
            ("bands", ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2"]),
            ("in_channels", 6), ("pretrained", False), ("num_frames", 1), ("num_classes", 5),
            ("backbone_img_size", 32), ("backbone_embed_dim", 64), ("backbone_depth", 2),
            ("backbone_num_heads", 2), ("head_dim_list", [16])]),
        input=(2, 6, 32, 64),
        note="PrithviModelFactory classification (ScalarOutputModel): IdentityDecoder, "
             "ClassificationHead with a hidden layer, batch 2 at 32x64 (img_size 32)")

# timm source: ResNets as timm.create_model(features_only=True) builds them,
# narrowed through timm's own `layers`/`channels` arguments to stay small.
_RESNET18_SMALL = dict(in_chans=3, layers=[2, 1, 1, 1], channels=[8, 16, 16, 24])
fixture("bb_timm_resnet18", kind="backbone", seed=120,
        model_args=_bb("timm_resnet18", **_RESNET18_SMALL),
        input=(2, 3, 45, 37),
        note="timm ResNet-18 layout (BasicBlocks, projection shortcuts), narrowed; "
             "every feature (act1, layer1..4) on a batch of 2 at 45x37")
fixture("bb_timm_resnet50", kind="backbone", seed=121,
        model_args=_bb("timm_resnet50", in_chans=4, layers=[1, 2, 1, 1],
                       channels=[4, 8, 8, 8], out_indices=[1, 2, 4]),
        input=(2, 4, 45, 39),
        note="timm ResNet-50 layout (Bottlenecks, expansion 4, strided 3x3), narrowed, "
             "4 bands, out_indices [1, 2, 4] on a batch of 2 at 45x39")
fixture("fm_timm_resnet18_unet", kind="model", seed=220, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("timm_resnet18", **_RESNET18_SMALL).items()) + [
            ("decoder", "UNetDecoder"), ("decoder_channels", [32, 16, 16, 8, 8]),
            ("num_classes", 3)]),
        input=(2, 3, 61, 53),
        note="timm ResNet-18 (narrowed) + UNetDecoder over its five features, batch 2 at "
             "61x53 (no padding: the backbone has no patch size)")
fixture("fm_timm_resnet18_fcn", kind="model", seed=221, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("timm_resnet18", **_RESNET18_SMALL).items()) + [
            ("decoder", "FCNDecoder"), ("decoder_channels", 16), ("num_classes", 3)]),
        input=(2, 3, 61, 53),
        note="timm ResNet-18 (narrowed) + FCNDecoder on its last feature, batch 2 at 61x53")
fixture("bb_timm_resnet50d", kind="backbone", seed=126,
        model_args=_bb("timm_resnet50d", in_chans=4, layers=[1, 1, 2, 1],
                       channels=[4, 8, 8, 8], stem_width=16),
        input=(2, 4, 45, 39),
        note="timm ResNet-50d layout (deep 3-conv stem, average-pool shortcuts in ceil mode "
             "on odd maps), narrowed, 4 bands, every feature on a batch of 2 at 45x39")
fixture("fm_timm_resnet50d_upernet", kind="model", seed=225, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("timm_resnet50d", in_chans=3, layers=[1, 1, 1, 1], channels=[4, 8, 8, 8],
                     stem_width=8, out_indices=[1, 2, 3, 4]).items()) + [
            ("decoder", "UperNetDecoder"), ("decoder_channels", 16), ("num_classes", 3)]),
        input=(2, 3, 53, 43),
        note="timm ResNet-50d (narrowed), layer1..layer4 into UperNetDecoder, batch 2 at 53x43")
fixture("fm_timm_resnet50_upernet", kind="model", seed=226, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("timm_resnet50", in_chans=3, layers=[1, 1, 1, 1], channels=[4, 8, 8, 8],
                     out_indices=[1, 2, 3, 4]).items()) + [
            ("decoder", "UperNetDecoder"), ("decoder_channels", 16), ("num_classes", 3)]),
        input=(2, 3, 59, 47),
        note="timm ResNet-50 (plain stem and shortcuts, narrowed), layer1..layer4 into "
             "UperNetDecoder, batch 2 at 59x47")

fixture("fm_aspp_reg_resnet", kind="model", seed=222, task="regression",
        model_args=collections.OrderedDict(
            list(_bb("timm_resnet18", **_RESNET18_SMALL).items()) + [
            ("decoder", "ASPPRegressionHead"), ("decoder_in_channels", 24),
            ("decoder_channels", 8), ("decoder_dilations", [1, 2, 3]),
            ("decoder_out_channels", 2)]),
        input=(2, 3, 45, 37),
        note="timm ResNet-18 (narrowed) + ASPPRegressionHead on its last feature (2 outputs), "
             "then TerraTorch's RegressionHead on those, batch 2 at 45x37")
# ConvNeXt (V1: layer scale; V2: GRN, no layer scale), narrowed through
# timm's `depths`/`dims` arguments.
_CONVNEXT_SMALL = dict(depths=[1, 2, 1, 1], dims=[8, 16, 16, 24])
fixture("bb_timm_convnext_tiny", kind="backbone", seed=122,
        model_args=_bb("timm_convnext_tiny", in_chans=5, **_CONVNEXT_SMALL),
        input=(2, 5, 45, 39),
        note="timm ConvNeXt-T layout (patch-4 stem, depthwise 7x7, LayerNorm, GELU MLP, "
             "layer scale), narrowed, 5 bands, every stage on a batch of 2 at 45x39")
fixture("bb_timm_convnextv2_tiny", kind="backbone", seed=123,
        model_args=_bb("timm_convnextv2_tiny", in_chans=3, depths=[1, 1, 2, 1],
                       dims=[8, 16, 16, 24], out_indices=[1, 3]),
        input=(2, 3, 53, 47),
        note="timm ConvNeXt V2-T layout (GRN in the MLP, no layer scale), narrowed, "
             "out_indices [1, 3] on a batch of 2 at 53x47")
fixture("bb_timm_convnextv2_atto", kind="backbone", seed=127,
        model_args=_bb("timm_convnextv2_atto", in_chans=3, depths=[1, 1, 1, 1],
                       dims=[8, 8, 16, 16]),
        input=(2, 3, 41, 37),
        note="timm ConvNeXt V2-atto layout (conv_mlp: LayerNorm2d, 1x1-conv MLP, GRN over "
             "channels-first maps), narrowed, every stage on a batch of 2 at 41x37")
# Widths that are multiples of 16, which the CPU devices run channels-last
# between blocks; 16 -> 64 and 32 -> 64 downsample through the packed kernel
# reading that layout, 64 -> 32 (not a multiple of 64) through the planar one.
fixture("bb_timm_convnext_cl", kind="backbone", seed=128,
        model_args=_bb("timm_convnext_tiny", in_chans=4, depths=[1, 1, 1, 1],
                       dims=[16, 64, 32, 64]),
        input=(2, 4, 45, 39),
        note="timm ConvNeXt-T layout with widths 16/64/32/64 (the channels-last trunk, both "
             "downsample paths), every stage on a batch of 2 at 45x39")
fixture("fm_timm_convnext_upernet", kind="model", seed=222, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("timm_convnext_tiny", in_chans=3, **_CONVNEXT_SMALL).items()) + [
            ("decoder", "UperNetDecoder"), ("decoder_channels", 16), ("num_classes", 3)]),
        input=(2, 3, 57, 51),
        note="timm ConvNeXt-T (narrowed) + UperNetDecoder over its four stages, batch 2 at 57x51")
fixture("fm_timm_convnextv2_unet", kind="model", seed=223, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("timm_convnextv2_tiny", in_chans=3, **_CONVNEXT_SMALL).items()) + [
            ("decoder", "UNetDecoder"), ("decoder_channels", [24, 16, 8, 8]),
            ("num_classes", 2)]),
        input=(2, 3, 51, 61),
        note="timm ConvNeXt V2-T (narrowed) + UNetDecoder over its four stages, batch 2 at 51x61")
fixture("fm_timm_convnext_fcn", kind="model", seed=227, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("timm_convnext_tiny", in_chans=4, **_CONVNEXT_SMALL).items()) + [
            ("decoder", "FCNDecoder"), ("decoder_channels", 16), ("num_classes", 3)]),
        input=(2, 4, 55, 49),
        note="timm ConvNeXt-T (narrowed, 4 bands) + FCNDecoder on its last stage (stride 32, "
             "1x1 at 55x49), batch 2, bilinear rescale to the input size")

# Plain timm ViTs (FeatureGetterNet: block outputs without CLS or final norm,
# as [B, D, H/16, W/16]); timm fixes the input size to img_size.
_VIT_SMALL = dict(embed_dim=32, depth=4, num_heads=2)
fixture("bb_timm_vit_small", kind="backbone", seed=124,
        model_args=_bb("timm_vit_small_patch16_224", in_chans=4, img_size=[34, 50],
                       **_VIT_SMALL),
        input=(2, 4, 34, 50),
        note="timm ViT-S layout, narrowed, 4 bands, img_size 34x50 (grid 2x3, the remainder "
             "dropped by the patch conv), timm's default out_indices (the last 3 blocks)")
fixture("bb_timm_vit_tag", kind="backbone", seed=125,
        model_args=_bb("timm_vit_base_patch16_224.mae", img_size=48, out_indices=[0, -2],
                       embed_dim=48, depth=3, num_heads=3, mlp_ratio=2.0),
        input=(2, 3, 48, 48),
        note="a pretrained tag (.mae) resolved to its architecture; out_indices [0, -2], "
             "mlp_ratio 2, head dim 16")
fixture("fm_timm_vit_upernet", kind="model", seed=224, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("timm_vit_small_patch16_224", in_chans=3, img_size=[64, 64],
                     out_indices=[0, 1, 2, 3], embed_dim=24, depth=4, num_heads=2).items()) + [
            ("necks", [{"name": "LearnedInterpolateToPyramidal"}]),
            ("decoder", "UperNetDecoder"), ("decoder_channels", 16), ("num_classes", 3)]),
        input=(2, 3, 37, 41),
        note="timm ViT-S (narrowed, img_size 64x64), batch 2 at 37x41: the factory pads to "
             "twice the patch size (16, found on timm's PatchEmbed), so the padded 64x64 is the "
             "img_size timm insists on; four blocks through LearnedInterpolateToPyramidal "
             "into UperNetDecoder, centre-cropped back")
fixture("fm_timm_vit_fcn", kind="model", seed=228, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("timm_vit_small_patch16_224", in_chans=3, img_size=[64, 32],
                     embed_dim=24, depth=3, num_heads=2).items()) + [
            ("decoder", "FCNDecoder"), ("decoder_channels", 16), ("num_classes", 2)]),
        input=(2, 3, 45, 29),
        note="timm ViT-S (narrowed, img_size 64x32), batch 2 at 45x29 padded to 64x32 (grid "
             "4x2); FCNDecoder on the last of timm's default features, centre-cropped back")
fixture("fm_timm_vit_unet", kind="model", seed=229, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("timm_vit_small_patch16_224", in_chans=3, img_size=[64, 64],
                     out_indices=[0, 1, 2, 3, 4], embed_dim=24, depth=5, num_heads=2).items()) + [
            ("necks", [{"name": "SelectIndices", "indices": [1, 2, 3, 4]},
                       {"name": "LearnedInterpolateToPyramidal"}]),
            ("decoder", "UNetDecoder"), ("decoder_channels", [32, 16, 8, 8]),
            ("num_classes", 2)]),
        input=(2, 3, 51, 39),
        note="timm ViT-S (narrowed, img_size 64x64), batch 2 at 51x39 padded to 64x64; blocks "
             "0..4 returned, 1..4 kept by SelectIndices, through LearnedInterpolateToPyramidal (timm's features are "
             "already images, so no ReshapeTokensToImage) into UNetDecoder, centre-cropped back")


# Full-size ResNets, ConvNeXts and ViTs (timm's own depths and widths), alone and with
# UNet, UperNet and FCN decoders: too large to commit
# (tens of MB of weights each), so only made on request (--full or --only),
# into a scratch folder by tools/check_full_timm.sh.
fixture("full_timm_resnet50_unet", kind="model", seed=230, task="segmentation", full=True,
        model_args=collections.OrderedDict(
            list(_bb("timm_resnet50", in_chans=6).items()) + [
            ("decoder", "UNetDecoder"), ("decoder_channels", [256, 128, 64, 32, 16]),
            ("num_classes", 2)]),
        input=(2, 6, 97, 83),
        note="full ResNet-50 (6 bands) + UNetDecoder, batch 2 at 97x83")
fixture("full_timm_resnet34_fcn", kind="model", seed=231, task="segmentation", full=True,
        model_args=collections.OrderedDict(
            list(_bb("timm_resnet34", in_chans=4).items()) + [
            ("decoder", "FCNDecoder"), ("decoder_channels", 64), ("num_classes", 3)]),
        input=(2, 4, 77, 69),
        note="full ResNet-34 (4 bands) + FCNDecoder, batch 2 at 77x69")
fixture("full_timm_resnet18", kind="backbone", seed=232, full=True,
        model_args=_bb("timm_resnet18", in_chans=3),
        input=(2, 3, 65, 71),
        note="full ResNet-18 backbone, every feature, batch 2 at 65x71")

fixture("full_timm_convnext_tiny_upernet", kind="model", seed=233, task="segmentation",
        full=True,
        model_args=collections.OrderedDict(
            list(_bb("timm_convnext_tiny", in_chans=6).items()) + [
            ("decoder", "UperNetDecoder"), ("decoder_channels", 128), ("num_classes", 4)]),
        input=(2, 6, 99, 85),
        note="full ConvNeXt-T (6 bands) + UperNetDecoder, batch 2 at 99x85")
fixture("full_timm_convnextv2_tiny", kind="backbone", seed=234, full=True,
        model_args=_bb("timm_convnextv2_tiny", in_chans=3),
        input=(2, 3, 69, 77),
        note="full ConvNeXt V2-T backbone, every stage, batch 2 at 69x77")
fixture("full_timm_vit_small_upernet", kind="model", seed=235, task="segmentation", full=True,
        model_args=collections.OrderedDict(
            list(_bb("timm_vit_small_patch16_224", in_chans=6,
                     out_indices=[2, 5, 8, 11]).items()) + [
            ("necks", [{"name": "LearnedInterpolateToPyramidal"}]),
            ("decoder", "UperNetDecoder"), ("decoder_channels", 128), ("num_classes", 2)]),
        input=(2, 6, 211, 199),
        note="full ViT-S/16 (6 bands, img_size 224) + LearnedInterpolateToPyramidal + "
             "UperNetDecoder, batch 2 at 211x199 padded to 224x224")
fixture("full_timm_resnet50_upernet", kind="model", seed=237, task="segmentation", full=True,
        model_args=collections.OrderedDict(
            list(_bb("timm_resnet50", in_chans=6, out_indices=[1, 2, 3, 4]).items()) + [
            ("decoder", "UperNetDecoder"), ("decoder_channels", 256), ("num_classes", 3)]),
        input=(2, 6, 99, 83),
        note="full ResNet-50 (6 bands, layer1..layer4) + UperNetDecoder(256), batch 2 at 99x83")
fixture("full_timm_convnext_tiny_fcn", kind="model", seed=238, task="segmentation", full=True,
        model_args=collections.OrderedDict(
            list(_bb("timm_convnext_tiny", in_chans=4).items()) + [
            ("decoder", "FCNDecoder"), ("decoder_channels", 128), ("num_classes", 3)]),
        input=(2, 4, 101, 87),
        note="full ConvNeXt-T (4 bands) + FCNDecoder, batch 2 at 101x87")
fixture("full_timm_convnext_tiny_unet", kind="model", seed=239, task="segmentation", full=True,
        model_args=collections.OrderedDict(
            list(_bb("timm_convnext_tiny", in_chans=6).items()) + [
            ("decoder", "UNetDecoder"), ("decoder_channels", [256, 128, 64, 32]),
            ("num_classes", 2)]),
        input=(2, 6, 97, 89),
        note="full ConvNeXt-T (6 bands) + UNetDecoder over its four stages, batch 2 at 97x89")
fixture("full_timm_vit_small_unet", kind="model", seed=240, task="segmentation", full=True,
        model_args=collections.OrderedDict(
            list(_bb("timm_vit_small_patch16_224", in_chans=6,
                     out_indices=[2, 5, 8, 11]).items()) + [
            ("necks", [{"name": "LearnedInterpolateToPyramidal"}]),
            ("decoder", "UNetDecoder"), ("decoder_channels", [256, 128, 64, 32]),
            ("num_classes", 2)]),
        input=(2, 6, 209, 215),
        note="full ViT-S/16 (6 bands, img_size 224) + LearnedInterpolateToPyramidal + "
             "UNetDecoder, batch 2 at 209x215 padded to 224x224")
fixture("full_timm_vit_small_fcn", kind="model", seed=241, task="segmentation", full=True,
        model_args=collections.OrderedDict(
            list(_bb("timm_vit_small_patch16_224", in_chans=3).items()) + [
            ("decoder", "FCNDecoder"), ("decoder_channels", 128), ("num_classes", 4)]),
        input=(1, 3, 224, 224),
        note="full ViT-S/16 (3 bands) + FCNDecoder on its last block, 224x224")
fixture("full_timm_resnet50d", kind="backbone", seed=236, full=True,
        model_args=_bb("timm_resnet50d", in_chans=4),
        input=(2, 4, 67, 73),
        note="full ResNet-50d backbone, every feature, batch 2 at 67x73")


fixture("sample", kind="sample", seed=301, task="segmentation",
        model_args=collections.OrderedDict(
            list(_bb("prithvi_eo_v2_300", img_size=64, num_frames=1,
                     embed_dim=64, depth=4, num_heads=2).items()) + [
            ("necks", [{"name": "SelectIndices", "indices": [1, 3]},
                       {"name": "ReshapeTokensToImage"}]),
            ("decoder", "FCNDecoder"), ("decoder_channels", 32), ("decoder_num_convs", 4),
            ("num_classes", 2)]),
        input=(1, 6, 64, 64),
        note="README demo model. RANDOM WEIGHTS: its output means nothing; it only "
             "shows the pipeline running")


# ------------------------------------------------------------------ helpers

LIGHTNING_TASKS = {"segmentation": "SemanticSegmentationTask",
                   "scalar_regression": "ScalarRegressionTask",
                   "regression": "PixelwiseRegressionTask",
                   "classification": "ClassificationTask"}

def versions():
    out = collections.OrderedDict()
    for pkg in ("terratorch", "torch", "timm", "segmentation-models-pytorch", "numpy", "h5py"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "?"
    return out


def round_mantissa(t, bits=MANTISSA_BITS):
    """Round a float32 tensor in place to `bits` explicit mantissa bits."""
    import torch
    if t.dtype != torch.float32:
        return
    a = t.detach().cpu().numpy().copy()
    u = a.view(np.uint32)
    drop = 23 - bits
    u[:] = ((u + np.uint32(1 << (drop - 1))) >> np.uint32(drop)) << np.uint32(drop)
    t.copy_(torch.from_numpy(a))


def _fan_in(mod, p):
    import torch.nn as nn
    if isinstance(mod, nn.modules.conv._ConvTransposeNd):
        k = int(np.prod(p.shape[2:])) // max(1, int(np.prod(mod.stride)))
        return max(1, p.shape[0] * max(1, k))
    return max(1, int(np.prod(p.shape[1:])))


_NORMS = None


def _is_norm(mod):
    global _NORMS
    if type(mod).__name__ == "LayerNorm":  # TerraMind's own (optionally bias-free)
        return True
    if _NORMS is None:
        import torch.nn as nn
        _NORMS = (nn.LayerNorm, nn.GroupNorm, nn.modules.batchnorm._BatchNorm,
                  nn.modules.instancenorm._InstanceNorm)
    return isinstance(mod, _NORMS)


def randomise(model, seed):
    """Give every parameter and every non-fixed buffer random, O(1)-preserving values."""
    import torch
    g = torch.Generator().manual_seed(seed)
    done = set()

    def normal(t, std, mean=0.0):
        t.copy_(torch.randn(t.shape, generator=g) * std + mean)

    def uniform(t, lo, hi):
        t.copy_(torch.rand(t.shape, generator=g) * (hi - lo) + lo)

    with torch.no_grad():
        for mname, mod in model.named_modules():
            for name, p in mod.named_parameters(recurse=False):
                if id(p) in done:
                    continue
                done.add(id(p))
                full = (mname + "." if mname else "") + name
                if _is_norm(mod) and name == "weight":
                    uniform(p, 0.6, 1.4)
                elif _is_norm(mod) and name == "bias":
                    normal(p, 0.2)
                elif name == "scale":  # temporal/location encoders (coords_scale_learn)
                    uniform(p, 0.2, 0.6)
                elif name.endswith("token") or "prompt" in full:
                    normal(p, 0.5)
                elif name == "bias":
                    normal(p, 0.1)
                elif p.dim() >= 2:
                    normal(p, 1.0 / np.sqrt(_fan_in(mod, p)))
                else:
                    normal(p, 0.5)
                round_mantissa(p)
            for name, b in mod.named_buffers(recurse=False):
                if b is None or id(b) in done:
                    continue
                done.add(id(b))
                full = (mname + "." if mname else "") + name
                if "pos_embed" in name or name == "pos_emb" or not b.is_floating_point():
                    continue  # fixed sin-cos tables, num_batches_tracked
                if name == "bias" and _is_norm(mod):
                    continue  # the zero bias of TerraMind's bias-free LayerNorm
                if name == "running_mean":
                    normal(b, 0.2)
                elif name == "running_var":
                    uniform(b, 0.5, 1.5)
                elif name == "scale":  # constant 1.0 when coords_scale_learn is off
                    continue
                else:
                    raise RuntimeError("don't know how to randomise buffer '%s'" % full)
                round_mantissa(b)


def state_to_numpy(model):
    return collections.OrderedDict(
        (k, v.detach().cpu().contiguous().numpy()) for k, v in model.state_dict().items())


def make_inputs(spec, seed):
    import torch
    g = torch.Generator().manual_seed(seed + 7919)
    shape = spec["input"]
    x = torch.randn(shape, generator=g)
    arrays = collections.OrderedDict(input=x)
    kwargs = {}
    if spec.get("coords"):
        b = shape[0]
        t = shape[2] if len(shape) == 5 else 1
        year = torch.randint(2015, 2025, (b, t, 1), generator=g).float()
        doy = torch.randint(1, 366, (b, t, 1), generator=g).float()
        tc = torch.cat([year, doy], dim=2)
        lat = torch.round((torch.rand(b, 1, generator=g) * 120 - 60) * 100) / 100
        lon = torch.round((torch.rand(b, 1, generator=g) * 360 - 180) * 100) / 100
        lc = torch.cat([lat, lon], dim=1)
        arrays["temporal_coords"] = tc
        arrays["location_coords"] = lc
        kwargs = dict(temporal_coords=tc, location_coords=lc)
    return x, kwargs, collections.OrderedDict((k, v.numpy()) for k, v in arrays.items())


def backbone_kwargs(model_args, ckpt_override=None):
    kw = collections.OrderedDict()
    for k, v in model_args.items():
        if k.startswith("backbone_"):
            kw[k[len("backbone_"):]] = v
    if ckpt_override is not None:
        kw["ckpt_path"] = ckpt_override
    return kw


def build_backbone(model_args, ckpt_override=None):
    from terratorch.registry import BACKBONE_REGISTRY
    return BACKBONE_REGISTRY.build(model_args["backbone"],
                                   **backbone_kwargs(model_args, ckpt_override))


def build_model(task, model_args, factory_name="EncoderDecoderFactory", build_extra=None):
    """Build through TerraTorch's factory as its Lightning tasks do: aux_decoders
    written as maps in the config become AuxiliaryHead objects (jsonargparse's
    job in a real run); build_extra holds arguments given to TerraTorch but not
    written into the config (see the PrithviModelFactory fixtures)."""
    from terratorch.registry import MODEL_FACTORY_REGISTRY
    factory = MODEL_FACTORY_REGISTRY.build(factory_name)
    kwargs = dict(model_args)
    if "aux_decoders" in kwargs:
        from terratorch.models.model import AuxiliaryHead
        kwargs["aux_decoders"] = [AuxiliaryHead(**a) for a in kwargs["aux_decoders"]]
    kwargs.update(build_extra or {})
    return factory.build_model(task=task, **kwargs)


def spec_model(spec):
    return build_model(spec["task"], spec["model_args"],
                       spec.get("factory", "EncoderDecoderFactory"), spec.get("build_extra"))


def run_backbone(model, x, kwargs):
    import torch
    model.eval()
    with torch.no_grad():
        feats = model(x, **kwargs)
    out = collections.OrderedDict(output=feats[-1].numpy())
    for i, f in enumerate(feats):
        out["features/%d" % i] = f.numpy()
    return out


def run_model(model, x, kwargs):
    """Run a whole TerraTorch model, recording intermediate results through hooks."""
    import torch
    model.eval()
    debug = collections.OrderedDict()

    def listify(v):
        return list(v) if isinstance(v, (list, tuple)) else [v]

    def on_encoder(mod, inp, out):
        for i, f in enumerate(listify(out)):
            debug["debug/encoder/%d" % i] = f.detach().numpy().copy()

    def on_decoder_in(mod, inp):
        for i, f in enumerate(listify(inp[0])):
            debug["debug/neck/%d" % i] = f.detach().numpy().copy()

    def on_decoder(mod, inp, out):
        debug["debug/decoder"] = out.detach().numpy().copy()

    def on_head(mod, inp, out):
        debug["debug/head"] = out.detach().numpy().copy()

    hooks = [model.encoder.register_forward_hook(on_encoder),
             model.decoder.register_forward_pre_hook(on_decoder_in),
             model.decoder.register_forward_hook(on_decoder),
             model.head.register_forward_hook(on_head)]
    try:
        with torch.no_grad():
            result = model(x, **kwargs)
    finally:
        for h in hooks:
            h.remove()
    out = collections.OrderedDict(output=result.output.numpy())
    out.update((k, v) for k, v in debug.items() if v.size <= DEBUG_MAX_ELEMENTS)
    return out


def check_roundtrip(weights_path, fresh_model, x, kwargs, expected, runner):
    """Load weights.h5 into a freshly built (differently random) model and rerun."""
    import torch
    sd, _ = read_state_dict(weights_path)
    fresh_model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in sd.items()},
                                strict=True)
    again = runner(fresh_model, x, kwargs)["output"]
    if not np.array_equal(again, expected):
        raise RuntimeError("%s: output differs after reloading the weights (max |d| = %g)"
                           % (weights_path, float(np.max(np.abs(again - expected)))))


def config_text(name, spec, vers, shapes_note):
    doc = collections.OrderedDict()
    if spec["kind"] == "lightning":
        doc["seed_everything"] = spec["seed"]
        doc["trainer"] = collections.OrderedDict(
            [("accelerator", "cpu"), ("max_epochs", 1), ("precision", "32-true")])
        doc["data"] = collections.OrderedDict([
            ("class_path", "terratorch.datamodules.GenericNonGeoSegmentationDataModule"),
            ("init_args", collections.OrderedDict([
                ("batch_size", 1), ("num_classes", spec["model_args"]["num_classes"]),
                ("means", [0.0] * spec["input"][1]), ("stds", [1.0] * spec["input"][1]),
                ("train_data_root", "data/train"), ("val_data_root", "data/val")]))])
        init = collections.OrderedDict([
            ("model_factory", spec.get("factory", "EncoderDecoderFactory")),
            ("model_args", spec["model_args"]),
            ("loss", "ce"), ("freeze_backbone", False)])
        doc["model"] = collections.OrderedDict(
            [("class_path", "terratorch.tasks." + LIGHTNING_TASKS[spec["task"]]),
             ("init_args", init)])
        doc["optimizer"] = collections.OrderedDict(
            [("class_path", "torch.optim.AdamW"), ("init_args", {"lr": 1.0e-4})])
    else:
        doc["model_factory"] = spec.get("factory", "EncoderDecoderFactory")
        if spec["kind"] in ("model", "sample"):
            doc["task"] = spec["task"]
        doc["model_args"] = spec["model_args"]

    def plain(v):
        if isinstance(v, dict):
            return {k: plain(w) for k, w in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(w) for w in v]
        return v

    class Dumper(yaml.SafeDumper):
        pass

    Dumper.add_representer(dict, lambda d, data: d.represent_mapping(
        "tag:yaml.org,2002:map", data.items(), flow_style=False))
    # Lists of plain values inline ([0, 1, 2, 3]); lists of neck maps as blocks.
    Dumper.add_representer(list, lambda d, data: d.represent_sequence(
        "tag:yaml.org,2002:seq", data,
        flow_style=not any(isinstance(v, (dict, list)) for v in data)))
    body = yaml.dump(plain(doc), Dumper=Dumper, sort_keys=False, width=100)
    what = "sample model" if spec["kind"] == "sample" else "parity fixture"
    head = [
        "# terracl %s '%s', generated by tools/make_fixtures.py (do not edit by hand)." % (what, name),
        "# %s." % spec["note"],
        "# RANDOM weights (seed %d; every float tensor rounded to %d mantissa bits): "
        "not a trained model." % (spec["seed"], MANTISSA_BITS),
        "# Generated with " + ", ".join("%s %s" % kv for kv in vers.items())
        + "; CPU, float32, eval mode.",
        "# " + shapes_note,
    ]
    return "\n".join(head) + "\n" + body


def _shape(a):
    return "[" + ", ".join(str(d) for d in a.shape) + "]"


def dir_size(path):
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))


# ------------------------------------------------------------------ writers

def make_one(name, spec, out_root, sample_out, vers):
    import torch
    torch.manual_seed(spec["seed"])
    kind = spec["kind"]
    folder = sample_out if kind == "sample" else os.path.join(out_root, name)
    os.makedirs(folder, exist_ok=True)
    x, kwargs, inputs = make_inputs(spec, spec["seed"])
    tmp_holder = tempfile.TemporaryDirectory()
    try:
        return _make_one(name, spec, kind, folder, x, kwargs, inputs, vers, tmp_holder.name)
    finally:
        tmp_holder.cleanup()


def _make_one(name, spec, kind, folder, x, kwargs, inputs, vers, tmp):
    import torch
    weights = None
    lightning_ckpt = None
    # Build, randomise and run.
    if kind == "backbone":
        model = build_backbone(spec["model_args"])
        randomise(model, spec["seed"])
        expected = run_backbone(model, x, kwargs)
        weights = state_to_numpy(model)
        runner, rebuild = run_backbone, lambda: build_backbone(spec["model_args"])
    elif kind in ("model", "sample"):
        model = spec_model(spec)
        randomise(model, spec["seed"])
        expected = run_model(model, x, kwargs)
        if kind == "sample":
            expected = collections.OrderedDict(output=expected["output"])
        weights = state_to_numpy(model)
        runner, rebuild = run_model, lambda: spec_model(spec)
    elif kind == "lightning":
        import terratorch.tasks
        task_cls = getattr(terratorch.tasks, LIGHTNING_TASKS[spec["task"]])
        task = task_cls(model_factory=spec.get("factory", "EncoderDecoderFactory"),
                        model_args=dict(spec["model_args"]), loss="ce")
        model = task.model
        randomise(model, spec["seed"])
        expected = run_model(model, x, kwargs)
        ckpt = os.path.join(tmp, "epoch=0-step=0.ckpt")
        torch.save({"epoch": 0, "global_step": 0, "pytorch-lightning_version": "2.5.0",
                    "state_dict": task.state_dict(),
                    "hyper_parameters": dict(task.hparams)}, ckpt)
        lightning_ckpt = ckpt
        runner = rebuild = None
    elif kind == "mae_ckpt":
        from terratorch.registry import FULL_MODEL_REGISTRY
        mae_kw = backbone_kwargs(spec["model_args"])
        for k in ("pretrained", "ckpt_path", "bands"):  # the MAE keeps the pretrained bands
            mae_kw.pop(k, None)
        mae_kw.update(spec["mae_extra"])
        mae = FULL_MODEL_REGISTRY.build(spec["mae_name"], **mae_kw)
        randomise(mae, spec["seed"])
        pt = os.path.join(tmp, "mae.pt")
        torch.save(mae.state_dict(), pt)
        h5 = os.path.join(folder, spec["model_args"]["backbone_ckpt_path"])
        rc = convert_checkpoint.main([pt, h5, "--compress", "-q"])
        if rc != 0:
            raise RuntimeError("convert_checkpoint failed on %s" % pt)
        model = build_backbone(spec["model_args"], ckpt_override=pt)
        # The filter must have given the backbone the MAE encoder's weights.
        enc = mae.encoder.state_dict()
        remapped = set()
        if "backbone_bands" in spec["model_args"]:
            # TerraTorch picks the pretrained column of each model band.
            order = ["BLUE", "GREEN", "RED", "NIR_NARROW", "SWIR_1", "SWIR_2"]
            cols = [order.index(b) for b in spec["model_args"]["backbone_bands"]]
            w = model.state_dict()["patch_embed.proj.weight"]
            if not torch.equal(w, enc["patch_embed.proj.weight"][:, cols]):
                raise RuntimeError("%s: patch embedding columns were not selected" % name)
            remapped.add("patch_embed.proj.weight")
        for k, v in model.state_dict().items():
            if k != "pos_embed" and k not in remapped and not torch.equal(v, enc[k]):
                raise RuntimeError("bb_mae_ckpt: '%s' was not loaded from the checkpoint" % k)
        expected = run_backbone(model, x, kwargs)
        runner = rebuild = None
    else:
        raise ValueError(kind)

    shapes = "input.h5: " + ", ".join("%s %s" % (k, _shape(v)) for k, v in inputs.items()) \
        + "; expected.h5: output %s" % _shape(expected["output"])
    nfeat = sum(1 for k in expected if k.startswith("features/"))
    if nfeat:
        shapes += " (+ features/0..%d)" % (nfeat - 1)
    text = config_text(name, spec, vers, shapes)
    with open(os.path.join(folder, "config.yaml.tmp"), "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(os.path.join(folder, "config.yaml.tmp"), os.path.join(folder, "config.yaml"))

    written = ["config.yaml"]
    if lightning_ckpt is not None:
        wpath = os.path.join(folder, "weights.h5")
        rc = convert_checkpoint.main([lightning_ckpt, wpath, "--config",
                                      os.path.join(folder, "config.yaml"), "--compress", "-q"])
        if rc != 0:
            raise RuntimeError("convert_checkpoint failed on the Lightning checkpoint")
        written.append("weights.h5")
        fresh = spec_model(spec)
        check_roundtrip(wpath, fresh, x, kwargs, expected["output"], run_model)
    elif weights is not None:
        wpath = os.path.join(folder, "weights.h5")
        if kind == "sample":
            write_state_dict(wpath, weights, config_text=text)  # plain contiguous file
        else:
            write_state_dict(wpath, weights, compress=True)
        written.append("weights.h5")
        check_roundtrip(wpath, rebuild(), x, kwargs, expected["output"], runner)
    elif kind == "mae_ckpt":
        written.append(spec["model_args"]["backbone_ckpt_path"])
    write_arrays(os.path.join(folder, "input.h5"), inputs)
    write_arrays(os.path.join(folder, "expected.h5"), expected)
    written += ["input.h5", "expected.h5"]
    size = dir_size(folder)
    print("%-22s %-24s %-22s -> %-16s %4d KB  (%s)" % (
        name, spec["model_args"]["backbone"], _shape(inputs["input"]),
        _shape(expected["output"]), (size + 1023) // 1024, ", ".join(written)))
    if size > SIZE_WARN_BYTES and kind != "sample":
        print("  warning: %s is %d bytes (> %d)" % (folder, size, SIZE_WARN_BYTES))
    return folder


TM_SIZE_KEYS = ("dim", "encoder_depth", "num_heads")


def terramind_sizes():
    """Let the registered terramind_v1_* builders take dim, encoder_depth and
    num_heads (TerraTorch passes its own values and refuses them twice): the
    given ones replace the variant's, every other setting stays the variant's."""
    from terratorch.models.backbones.terramind.model import terramind_register as tr
    from terratorch.registry import TERRATORCH_BACKBONE_REGISTRY as reg
    real = tr.build_terrammind_vit
    for name in ("terramind_v1_tiny", "terramind_v1_small", "terramind_v1_base",
                 "terramind_v1_large"):
        def build(_orig=reg._registry[name], **kw):
            over = {k: kw.pop(k) for k in TM_SIZE_KEYS if k in kw}
            tr.build_terrammind_vit = lambda **d: real(**{**d, **over})
            try:
                return _orig(**kw)
            finally:
                tr.build_terrammind_vit = real
        build.__name__ = name
        reg._registry[name] = build


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", metavar="NAME",
                    help="generate only this fixture (repeatable); 'sample' is the demo model")
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures"),
                    help="folder for the fixture folders (default: tests/fixtures)")
    ap.add_argument("--sample-out", default=os.path.join(ROOT, "weights", "sample"),
                    help="folder for the sample model (default: weights/sample)")
    ap.add_argument("--list", action="store_true", help="list the fixtures and exit")
    ap.add_argument("--full", action="store_true",
                    help="also make the full-size fixtures (full_*; large, not committed)")
    ap.add_argument("--full-terramind", action="store_true",
                    help="the full-size TerraMind encoders instead (tmfull_*; large files, "
                         "for a scratch folder: see tools/check_full_terramind.sh)")
    ap.add_argument("--any-version", action="store_true",
                    help="run with a terratorch other than the pinned %s" % PINNED_TERRATORCH)
    ap.add_argument("-v", "--verbose", action="store_true", help="show TerraTorch's log output")
    args = ap.parse_args(argv)

    if args.full_terramind:
        FIXTURES.clear()
        FIXTURES.update(FULL_TERRAMIND)
    if args.list:
        for name, spec in FIXTURES.items():
            print("%-22s %s" % (name, spec["note"]))
        return 0
    names = args.only or [n for n, spec in FIXTURES.items()
                          if args.full or not spec.get("full")]
    unknown = [n for n in names if n not in FIXTURES]
    if unknown:
        sys.stderr.write("make_fixtures: error: unknown fixture(s) %s (see --list)\n"
                         % ", ".join(unknown))
        return 1
    if not args.verbose:
        logging.disable(logging.WARNING)
        warnings.filterwarnings("ignore")
    try:
        import torch
        from terratorch_import import import_terratorch
        import_terratorch()  # registers the models
        terramind_sizes()
    except ImportError as e:
        sys.stderr.write("make_fixtures: error: %s (pip install -r tools/requirements-fixtures.txt)\n"
                         % e)
        return 1
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    vers = versions()
    print("make_fixtures: " + ", ".join("%s %s" % kv for kv in vers.items()))
    if vers["terratorch"] != PINNED_TERRATORCH and not args.any_version:
        sys.stderr.write("make_fixtures: error: the fixtures follow terratorch %s, this is %s "
                         "(pip install -r tools/requirements-fixtures.txt, or --any-version)\n"
                         % (PINNED_TERRATORCH, vers["terratorch"]))
        return 1
    os.makedirs(args.out, exist_ok=True)
    for name in names:
        make_one(name, FIXTURES[name], args.out, args.sample_out, vers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
