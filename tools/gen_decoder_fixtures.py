#!/usr/bin/env python3
"""Decoder parity fixtures made by the real TerraTorch (tests/test_decoders.c).

For every case below, builds the decoder through TerraTorch's
DECODER_REGISTRY with the listed channel list and keyword arguments, fills
every parameter and BatchNorm statistic with seeded random values, runs it
in eval mode on seeded random inputs and writes
tests/fixtures/decoders/<case>.h5 holding

  /<state_dict key, dots as groups>   the decoder's state_dict
  /inputs/0, /inputs/1, ...           the feature maps [B, C_i, H_i, W_i]
  /output                             TerraTorch's output
  attributes: decoder, channels, args (JSON), versions (JSON)

The C test builds the same decoder with the same arguments (its own table)
and compares. Usage: python3 tools/gen_decoder_fixtures.py [--out DIR] [--seed N] [case ...]
"""

import argparse
import importlib.metadata
import json
import math
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from terracl_h5 import write_arrays  # noqa: E402

# name: (registered decoder, channel list, kwargs, input shapes [B, C, H, W])
CASES = {
    "fcn": ("FCNDecoder", [32, 24], dict(channels=16, num_convs=2),
            [(2, 32, 4, 4), (2, 24, 3, 5)]),
    "fcn_index0": ("FCNDecoder", [12, 20], dict(channels=8, num_convs=1, in_index=0),
                   [(1, 12, 7, 5), (1, 20, 2, 2)]),
    "upernet": ("UperNetDecoder", [8, 16, 24, 32], dict(channels=12),
                [(1, 8, 16, 16), (1, 16, 8, 8), (1, 24, 4, 4), (1, 32, 3, 3)]),
    "upernet_noalign": ("UperNetDecoder", [8, 12, 16], dict(channels=8, pool_scales=[1, 3],
                                                             align_corners=False),
                        [(2, 8, 13, 11), (2, 12, 7, 6), (2, 16, 4, 3)]),
    # scale_modules exists only up to TerraTorch 1.1 (terracl keeps it for models trained
    # with it): this case is made with terratorch 1.1.1 and skipped by later releases.
    "upernet_scale": ("UperNetDecoder", [16, 16, 16, 16, 16], dict(channels=8, scale_modules=True),
                      [(1, 16, 4, 4)] * 4),
    "unet": ("UNetDecoder", [8, 16, 24], dict(channels=[16, 12, 8]),
             [(1, 8, 16, 16), (1, 16, 8, 8), (1, 24, 4, 4)]),
    "unet_nobn": ("UNetDecoder", [6, 10, 14], dict(channels=[12, 8, 4], use_batchnorm=False),
                  [(2, 6, 13, 11), (2, 10, 7, 6), (2, 14, 4, 3)]),
    "unet_scse": ("UNetDecoder", [16, 32], dict(channels=[32, 16], attention_type="scse"),
                  [(2, 16, 8, 7), (2, 32, 4, 4)]),
    "identity": ("IdentityDecoder", [8, 12], dict(out_index=0),
                 [(2, 8, 5, 7), (2, 12, 3, 3)]),
    "linear": ("LinearDecoder", [8, 12], dict(num_classes=3, upsampling_size=4),
               [(2, 8, 5, 5), (2, 12, 3, 5)]),
    "mlp": ("MLPDecoder", [8, 8, 8], dict(),
            [(2, 8, 5, 7)] * 3),
    "mlp_gelu": ("MLPDecoder", [6, 6], dict(activation="GELU", out_index=0),
                 [(1, 6, 7, 3)] * 2),
    # ASPPHead takes the channel list as its dilations (TerraTorch's signature).
    "aspp_head": ("ASPPHead", [3, 12], dict(in_channels=12, channels=8),
                  [(2, 3, 9, 7), (2, 12, 9, 7)]),
    "aspp_seg": ("ASPPSegmentationHead", [8, 12, 16],
                 dict(in_channels=16, channels=8, num_classes=3, dilations=[1, 2, 3]),
                 [(2, 8, 11, 9), (2, 12, 6, 5), (2, 16, 5, 3)]),
    "aspp_reg_concat": ("ASPPRegressionHead", [8, 12],
                        dict(in_channels=20, channels=8, out_channels=2,
                             input_transform="resize_concat", in_index=[0, 1],
                             align_corners=True),
                        [(2, 8, 9, 7), (2, 12, 5, 4)]),
}


def randomise(module, gen):
    """Seeded values for every parameter and buffer, sized so activations stay O(1)."""
    import torch

    def uniform(shape, lo, hi):
        return torch.rand(shape, generator=gen) * (hi - lo) + lo

    with torch.no_grad():
        for name, t in module.state_dict().items():
            if not t.is_floating_point():
                continue
            leaf = name.rsplit(".", 1)[-1]
            if leaf == "running_var":
                v = uniform(t.shape, 0.5, 2.0)
            elif leaf == "running_mean":
                v = uniform(t.shape, -0.5, 0.5)
            elif t.dim() == 1 and leaf == "weight":  # norm scales
                v = uniform(t.shape, 0.5, 1.5)
            elif leaf == "bias" or t.dim() == 1:
                v = uniform(t.shape, -0.5, 0.5)
            else:
                fan_in = t.numel() // t.shape[0]
                v = torch.randn(t.shape, generator=gen) * math.sqrt(2.0 / max(fan_in, 1))
            t.copy_(v)


def versions():
    out = {}
    for pkg in ("terratorch", "torch", "segmentation-models-pytorch"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def make(name, out_dir, seed):
    import torch
    from terratorch.registry import DECODER_REGISTRY

    decoder, channels, kwargs, shapes = CASES[name]
    tt = versions().get("terratorch", "")
    if kwargs.get("scale_modules") and not tt.startswith("1.1"):
        print("%-16s skipped: UperNetDecoder's scale_modules needs terratorch 1.1 (this is %s)"
              % (name, tt))
        return
    gen = torch.Generator().manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = DECODER_REGISTRY.build(decoder, list(channels), **kwargs)
    model.eval()
    randomise(model, gen)
    inputs = [torch.randn(s, generator=gen) for s in shapes]
    with torch.no_grad():
        output = model(inputs)
    arrays = {}
    for key, t in model.state_dict().items():
        arrays[key.replace(".", "/")] = t.detach().cpu().numpy()
    for i, x in enumerate(inputs):
        arrays["inputs/%d" % i] = x.numpy().astype(np.float32)
    arrays["output"] = output.detach().numpy().astype(np.float32)
    attrs = {"decoder": decoder, "channels": json.dumps(channels), "args": json.dumps(kwargs),
             "versions": json.dumps(versions()), "seed": seed}
    path = os.path.join(out_dir, name + ".h5")
    write_arrays(path, arrays, attrs=attrs)
    print("%-16s %-16s output %s  %6.1f KB" % (name, decoder, list(output.shape),
                                              os.path.getsize(path) / 1024))


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(root, "tests", "fixtures", "decoders"))
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("cases", nargs="*", help="cases to make (default: all): " + ", ".join(CASES))
    a = ap.parse_args()
    from terratorch_import import import_terratorch
    import_terratorch()
    import torch
    torch.set_num_threads(2)
    os.makedirs(a.out, exist_ok=True)
    names = list(CASES)
    for name in a.cases or names:
        if name not in CASES:
            sys.exit("unknown case %s (known: %s)" % (name, ", ".join(CASES)))
        make(name, a.out, a.seed + names.index(name))  # a case's seed does not depend on the others


if __name__ == "__main__":
    main()
