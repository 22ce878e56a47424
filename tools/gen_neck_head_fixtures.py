#!/usr/bin/env python3
"""Parity fixtures for terracl's necks and heads, made with the real TerraTorch.

Each case builds one TerraTorch component (necks through
terratorch.registry.NECK_REGISTRY.build(name, channel_list, **args), heads
from terratorch.models.heads), fills every parameter and BatchNorm statistic
with seeded random values, runs it in eval mode on random inputs and writes
tests/fixtures/necks_heads/<case>.h5:

  /<state_dict key, dots as groups>   the component's state_dict
  /inputs/0, /inputs/1, ...           the input tensors (float32)
  /outputs/0, ...                     TerraTorch's outputs (float32)
  root attribute "config"             YAML: kind (neck|head), name, the
                                      channel list or in_channels, args and
                                      the image size passed to the neck

The C test (tests/test_necks.c, tests/test_heads.c) reads the config, builds
the same component with terracl and compares with relative L2 <= 1e-4.

Usage: python3 tools/gen_neck_head_fixtures.py [OUT_DIR] [--seed N]
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import terracl_h5  # noqa: E402

from terratorch_import import import_terratorch  # noqa: E402
import_terratorch()
from terratorch.models.heads import RegressionHead, ScalarHead, SegmentationHead  # noqa: E402
from terratorch.registry import NECK_REGISTRY  # noqa: E402

HEADS = {
    "SegmentationHead": SegmentationHead,
    "RegressionHead": RegressionHead,
    # TerraTorch 1.2's ScalarHead (classification and scalar regression) is
    # built by terracl's ClassificationHead constructor.
    "ClassificationHead": ScalarHead,
}

# name: (kind, component, channel_list or in_channels, args, input shapes, image size)
CASES = {
    "neck_select_indices": ("neck", "SelectIndices", [8, 8, 8, 8], {"indices": [1, -1]},
                            [(2, 5, 8)] * 4, None),
    "neck_permute_dims": ("neck", "PermuteDims", [6, 6], {"new_order": [0, 2, 3, 1]},
                          [(2, 3, 4, 5), (2, 3, 5, 2)], None),
    "neck_reshape_tokens_t2": ("neck", "ReshapeTokensToImage", [16, 16],
                               {"effective_time_dim": 2},
                               [(2, 1 + 2 * 16, 8), (2, 1 + 2 * 16, 8)], (64, 64)),
    "neck_reshape_tokens_h": ("neck", "ReshapeTokensToImage", [6],
                              {"remove_cls_token": False, "h": 3}, [(2, 15, 6)], None),
    "neck_reshape_tokens_images": ("neck", "ReshapeTokensToImage", [6, 6], {},
                                   [(2, 1 + 12, 6), (2, 6, 3, 4)], (48, 64)),
    "neck_aggregate_mean": ("neck", "AggregateTokens", [6, 8], {},
                            [(2, 13, 6), (2, 13, 8)], None),
    "neck_aggregate_cls_indices": ("neck", "AggregateTokens", [6, 6, 6],
                                   {"pooling": "CLS", "indices": [0, -1]},
                                   [(2, 9, 6), (2, 9, 6), (2, 9, 6)], None),
    "neck_aggregate_max_drop_cls": ("neck", "AggregateTokens", [5, 7],
                                    {"pooling": "max", "index": 0, "drop_cls": True},
                                    [(2, 11, 5), (2, 11, 7)], None),
    "neck_aggregate_min_image": ("neck", "AggregateTokens", [4], {"pooling": "min"},
                                 [(2, 4, 3, 5)], None),
    "neck_interpolate_nearest": ("neck", "InterpolateToPyramidal", [4, 4, 4], {},
                                 [(2, 4, 3, 5)] * 3, None),
    "neck_interpolate_bilinear": ("neck", "InterpolateToPyramidal", [3, 3],
                                  {"scale_factor": 3, "mode": "bilinear"},
                                  [(1, 3, 4, 3), (1, 3, 5, 2)], None),
    "neck_maxpool": ("neck", "MaxpoolToPyramidal", [3, 3, 3], {},
                     [(2, 3, 17, 13)] * 3, None),
    "neck_learned_interpolate": ("neck", "LearnedInterpolateToPyramidal", [16, 8, 6, 6], {},
                                 [(2, 16, 5, 7), (2, 8, 5, 7), (2, 6, 5, 7), (2, 6, 5, 7)], None),
    "neck_add_bottleneck": ("neck", "AddBottleneckLayer", [6, 10], {},
                            [(2, 6, 5, 5), (2, 10, 5, 5)], None),
    "head_segmentation": ("head", "SegmentationHead", 8, {"num_classes": 5},
                          [(2, 8, 9, 11)], None),
    "head_segmentation_list": ("head", "SegmentationHead", 8,
                               {"num_classes": 4, "channel_list": [6, 5], "dropout": 0.1},
                               [(2, 8, 7, 6)], None),
    "head_regression_upscale": ("head", "RegressionHead", 6,
                                {"learned_upscale_layers": 2, "channel_list": [5, 3],
                                 "final_act": "torch.nn.Sigmoid"},
                                [(2, 6, 5, 7)], None),
    "head_regression_list": ("head", "RegressionHead", 5,
                             {"channel_list": [4], "final_act": "torch.nn.ReLU", "dropout": 0.2},
                             [(2, 5, 9, 8)], None),
    "head_regression_plain": ("head", "RegressionHead", 4, {}, [(1, 4, 6, 10)], None),
    "head_regression_outputs": ("head", "RegressionHead", 4, {"num_outputs": 3},
                                [(2, 4, 5, 6)], None),
    "head_scalar_outputs": ("head", "ClassificationHead", 8,
                            {"num_outputs": 2, "dim_list": [5]}, [(2, 8, 3, 4)], None),
    "head_classification": ("head", "ClassificationHead", 8,
                            {"num_classes": 3, "dim_list": [6]}, [(2, 8, 4, 5)], None),
    "head_classification_after_pool": ("head", "ClassificationHead", 8,
                                       {"num_classes": 4, "dim_list": [7, 5],
                                        "linear_after_pool": True},
                                       [(2, 8, 3, 3)], None),
    "head_classification_flat": ("head", "ClassificationHead", 8, {"num_classes": 6},
                                 [(3, 8)], None),
}


def randomise(module, gen):
    """Seeded random values for every parameter and BatchNorm statistic."""
    with torch.no_grad():
        for mod in module.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                c = mod.num_features
                mod.weight.copy_(1 + 0.2 * torch.randn(c, generator=gen))
                mod.bias.copy_(0.2 * torch.randn(c, generator=gen))
                mod.running_mean.copy_(0.3 * torch.randn(c, generator=gen))
                mod.running_var.copy_(0.5 + torch.rand(c, generator=gen))
            else:
                for p in mod.parameters(recurse=False):
                    fan_in = p[0].numel() if p.dim() >= 2 else 4
                    p.copy_(torch.randn(p.shape, generator=gen) / fan_in ** 0.5)


def build(kind, name, channels, args):
    if kind == "neck":
        return NECK_REGISTRY.build(name, list(channels), **args)
    return HEADS[name](channels, **args)


def run_case(case, spec, out_dir, seed):
    kind, name, channels, args, shapes, image_size = spec
    gen = torch.Generator().manual_seed(seed)
    module = build(kind, name, channels, args)
    randomise(module, gen)
    module.eval()
    inputs = [torch.randn(s, generator=gen) for s in shapes]
    with torch.no_grad():
        if kind == "neck":
            kw = {"image_size": list(image_size)} if image_size else {}
            outputs = module([x.clone() for x in inputs], **kw)
        else:
            outputs = [module(inputs[0].clone())]
    tensors = {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}
    for i, x in enumerate(inputs):
        tensors["inputs.%d" % i] = x.numpy().astype(np.float32)
    for i, y in enumerate(outputs):
        tensors["outputs.%d" % i] = y.detach().numpy().astype(np.float32)
    config = {"kind": kind, "name": name, "args": args}
    config["channel_list" if kind == "neck" else "in_channels"] = channels
    if image_size:
        config["image_size"] = list(image_size)
    # JSON is valid YAML (flow style), which is what the C test parses.
    path = os.path.join(out_dir, case + ".h5")
    terracl_h5.write_state_dict(path, tensors, config_text=json.dumps(config))
    return path, [tuple(y.shape) for y in outputs]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "tests", "fixtures", "necks_heads")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", nargs="?", default=default_out)
    ap.add_argument("--seed", type=int, default=1234)
    opts = ap.parse_args()
    os.makedirs(opts.out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for i, (case, spec) in enumerate(sorted(CASES.items())):
        path, shapes = run_case(case, spec, opts.out_dir, opts.seed + i)
        print("%-34s %6d bytes  outputs %s" % (case, os.path.getsize(path), shapes))


if __name__ == "__main__":
    main()
