#!/usr/bin/env python3
"""Parity fixtures from TerraTorch's own example configs, made with the real TerraTorch.

    python3 tools/make_example_fixtures.py --terratorch-repo DIR            # every example
    python3 tools/make_example_fixtures.py --terratorch-repo DIR --only ex_burn_scars
    python3 tools/make_example_fixtures.py --terratorch-repo DIR --full --out /tmp/full
    python3 tools/make_example_fixtures.py --list

TerraTorch ships its example configs only in its source repository (examples/confs/,
examples/tutorials/, and the TerraMind test configs in tests/resources/configs/), not in
the wheel: DIR is a checkout of it. Each example's
Lightning config is read as TerraTorch users have it; the model is reduced unless
--full is given (4 blocks, width 32, decoder and head widths divided by 8, neck indices
mapped onto the 4 blocks), the Lightning task named by the config's
model.class_path is built from model.init_args (aux_heads included), every weight and
BatchNorm statistic is randomised with a fixed seed, and the model runs in eval mode on
an input whose height and width are not multiples of 32 (batch 2). Each fixture folder
holds the config (the example's whole YAML with the reduced model_args), weights.h5
converted from the task's Lightning checkpoint by tools/convert_checkpoint.py, input.h5
and expected.h5 (TerraTorch's ModelOutput.output), the same layout tests/test_parity.c
reads for the other fixtures.

The fixtures follow terratorch 1.2.13 (make_fixtures.PINNED_TERRATORCH). One example,
prithvi_tiny_finetune_chesapeake.yaml, uses decoder_scale_modules, which TerraTorch 1.2
removed (its UperNetDecoder refuses the argument): that fixture is made with terratorch
1.1.1, the last release that builds it (`--reference 1.1.1`, see tools/README.md).
"""

import argparse
import collections
import copy
import importlib.metadata
import logging
import os
import sys
import tempfile
import warnings

import numpy as np
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert_checkpoint  # noqa: E402
import make_fixtures as mf  # noqa: E402
from terracl_h5 import write_arrays  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name: (config path in TerraTorch's repository, seed, input [B, C, (T,) H, W],
#        TerraTorch version that must build it, note)
EXAMPLES = collections.OrderedDict([
    ("ex_burn_scars", ("examples/confs/burn_scars.yaml", 301, (2, 6, 45, 37), "1.2.13",
                       "v2_300 + SelectIndices/ReshapeTokensToImage/LearnedInterpolateToPyramidal "
                       "+ UNet + segmentation head with a conv pre-head")),
    ("ex_sen1floods11", ("examples/confs/sen1floods11_vit.yaml", 302, (2, 6, 50, 33), "1.2.13",
                         "as burn scars, plus an FCN auxiliary head (trained only; not in the "
                         "output)")),
    ("ex_multi_temporal_crop", ("examples/confs/multi_temporal_crop.yaml", 303,
                                (2, 6, 3, 40, 36), "1.2.13",
                                "3 frames, no necks, FCN, rescale false, 13 classes")),
    ("ex_eurosat", ("examples/confs/eurosat.yaml", 304, (2, 6, 37, 41), "1.2.13",
                    "classification: IdentityDecoder + ScalarHead with two hidden layers")),
    ("ex_multimodal_sen1floods11", ("examples/confs/multimodal_prithvi_sen1floods11.yaml", 305,
                                    (2, 14, 33, 35), "1.2.13",
                                    "14 bands (S2 L1C + S1 GRD stacked into one tensor), FCN")),
    ("ex_v2_tl_agb", ("examples/tutorials/PrithviEOv2/configs/prithvi_v2_eo_300_tl_unet_agb.yaml",
                      306, (2, 6, 47, 39), "1.2.13",
                      "PrithviEOv2 tutorial: pixel-wise regression (biomass), img_size 512, "
                      "UNet, no head arguments")),
    ("ex_v2_tl_burnscars", (
        "examples/tutorials/PrithviEOv2/configs/prithvi_v2_eo_300_tl_unet_burnscars.yaml",
        307, (2, 6, 41, 35), "1.2.13", "PrithviEOv2 tutorial: _tl backbone, UNet, burn scars")),
    ("ex_v2_tl_crop", (
        "examples/tutorials/PrithviEOv2/configs/prithvi_v2_eo_300_tl_unet_multitemporal_crop.yaml",
        308, (2, 6, 3, 35, 43), "1.2.13",
        "PrithviEOv2 tutorial: _tl backbone on 3 frames with coords_encoding [], "
        "effective_time_dim 3, UNet")),
    ("ex_sen1floods11_dual_lr", ("examples/confs/sen1floods11_vit_dual_lr.yaml", 310,
                                 (2, 6, 39, 44), "1.2.13",
                                 "v1_100 + FCN with an auxiliary FCN head (per-part learning "
                                 "rates only matter for training)")),
    ("ex_forestnet_timm", ("examples/confs/forestnet_timm.yaml", 311, (2, 6, 50, 70), "1.2.13",
                           "TimmModelFactory: a .mae-tagged ViT-B classifier on 6 bands, 12 "
                           "classes; timm fixes the input size, so img_size is the input's")),
    ("ex_chesapeake", ("examples/confs/prithvi_tiny_finetune_chesapeake.yaml", 309,
                       (2, 4, 64, 96), "1.1.1",
                       "prithvi_eo_tiny with out_indices and UperNet's scale_modules "
                       "(TerraTorch 1.1; 1.2 refuses scale_modules). The input is a multiple "
                       "of 32: 1.1 padded bottom/right where 1.2 pads both sides")),
    # TerraTorch's own TerraMind test configs (tests/resources/configs/): a
    # GenericMultiModalDataModule with one modality, so the input is written as
    # the dataset named after it (terracl's multimodal input convention).
    ("ex_tm_v1_base_manufactured", (
        "tests/resources/configs/manufactured-finetune_terramind_v1_base.yaml", 311,
        (2, 6, 45, 37), "1.2.13",
        "terramind_v1_base, S2L2A with 6 bands, ReshapeTokensToImage before SelectIndices, "
        "UNet, pixel-wise regression")),
    ("ex_tm_v1_small_manufactured", (
        "tests/resources/configs/manufactured-finetune_terramind_v1_small.yaml", 312,
        (2, 6, 39, 50), "1.2.13",
        "terramind_v1_small, S2L2A with 6 bands, ReshapeTokensToImage with its default "
        "remove_cls_token (TerraTorch retries without it), UNet, segmentation")),
])

REDUCED_DEPTH = 4
REDUCED_WIDTH = 32
REDUCED_HEADS = 2
WIDTH_DIVISOR = 8


def _depth_of(name, model_args):
    """Blocks of the named Prithvi backbone (the config may override)."""
    if "backbone_depth" in model_args:
        return int(model_args["backbone_depth"])
    if name.startswith("terramind"):
        return 24 if "large" in name else 12
    if "tiny" in name:
        return 12
    if "600" in name:
        return 32
    if "300" in name:
        return 24
    return 12


def _map_index(i, depth):
    """Block i of a depth-block model -> the same relative block of the reduced model."""
    if i < 0:
        return i
    return max(0, min(REDUCED_DEPTH - 1, round((i + 1) * REDUCED_DEPTH / depth) - 1))


def _narrow(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return max(4, v // WIDTH_DIVISOR)
    if isinstance(v, list):
        return [_narrow(w) for w in v]
    return v


def _pretrained_key(factory):
    """TimmModelFactory asks with `pretrained`, EncoderDecoderFactory with backbone_pretrained."""
    return "pretrained" if factory == "TimmModelFactory" else "backbone_pretrained"


def reduce_model_args(model_args, factory="EncoderDecoderFactory", shape=None):
    """The example's model at test size: same structure, fewer and narrower layers."""
    args = copy.deepcopy(model_args)
    depth = _depth_of(args["backbone"], args)
    args[_pretrained_key(factory)] = False
    if factory == "TimmModelFactory":  # timm's ViT takes only its img_size
        args["backbone_img_size"] = list(shape[-2:])
    args.pop("backbone_ckpt_path", None)
    if args["backbone"].startswith("terramind"):  # TerraMind's names for the same sizes
        args["backbone_encoder_depth"] = REDUCED_DEPTH
        args["backbone_dim"] = REDUCED_WIDTH
    else:
        args["backbone_depth"] = REDUCED_DEPTH
        args["backbone_embed_dim"] = REDUCED_WIDTH
    args["backbone_num_heads"] = REDUCED_HEADS
    if "backbone_out_indices" in args:
        args["backbone_out_indices"] = [_map_index(i, depth) for i in args["backbone_out_indices"]]
    for neck in args.get("necks") or []:
        if neck.get("name") == "SelectIndices" and "indices" in neck:
            neck["indices"] = [_map_index(i, depth) for i in neck["indices"]]
    for key in ("decoder_channels", "head_channel_list", "head_dim_list"):
        if key in args:
            args[key] = _narrow(args[key])
    return args


def reduce_aux_heads(aux_heads):
    aux_heads = copy.deepcopy(aux_heads or [])
    for head in aux_heads:
        dargs = head.get("decoder_args") or {}
        for key in ("decoder_channels", "head_channel_list", "head_dim_list"):
            if key in dargs:
                dargs[key] = _narrow(dargs[key])
    return aux_heads


def build_task(init_args):
    """The Lightning task the config names, built by TerraTorch from its init_args."""
    import terratorch.tasks
    from terratorch.models.model import AuxiliaryHead
    kw = dict(model_factory=init_args.get("model_factory", "EncoderDecoderFactory"),
              model_args=copy.deepcopy(init_args["model_args"]))
    aux = init_args.get("aux_heads")
    if aux:
        kw["aux_heads"] = [AuxiliaryHead(h["name"], h["decoder"], h.get("decoder_args"))
                           for h in aux]
        kw["aux_loss"] = init_args.get("aux_loss")
    return kw


def make_one(name, repo, out_dir, full, vers):
    import torch
    import terratorch.tasks
    rel, seed, shape, reference, note = EXAMPLES[name]
    with open(os.path.join(repo, rel), encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    init = doc["model"]["init_args"]
    # TerraTorch would download the published backbone for `backbone_pretrained: true`
    # (the fine-tuned checkpoint then replaces it): the model is built without, and the
    # fixture's config keeps the example's own value, as a user's config has it.
    factory = init.get("model_factory", "EncoderDecoderFactory")
    pkey = _pretrained_key(factory)
    pretrained = init["model_args"].get(pkey)
    if not full:
        init["model_args"] = reduce_model_args(init["model_args"], factory, shape)
        if init.get("aux_heads"):
            init["aux_heads"] = reduce_aux_heads(init["aux_heads"])
    else:
        init["model_args"][pkey] = False
    task_cls = getattr(terratorch.tasks, doc["model"]["class_path"].split(".")[-1])
    task = task_cls(**build_task(init))
    model = task.model
    mf.randomise(model, seed)
    g = torch.Generator().manual_seed(seed + 7919)
    if shape[1] == 0:  # as many channels as the config's bands
        bands = init["model_args"].get("backbone_bands") or [0] * 6
        shape = (shape[0], len(bands)) + tuple(shape[2:])
    x = torch.randn(shape, generator=g)
    kwargs = {}
    arrays = collections.OrderedDict(input=x.numpy())
    model_args = init["model_args"]
    data_class = str((doc.get("data") or {}).get("class_path", ""))
    if data_class.endswith("GenericMultiModalDataModule"):
        # The multimodal datamodule hands the model a dict {modality: tensor}.
        mods = model_args["backbone_modalities"]
        assert len(mods) == 1, "one modality: the example's input shape is for it"
        x = {mods[0]: x}
        arrays = collections.OrderedDict([(mods[0], x[mods[0]].numpy())])
    if model_args["backbone"].endswith("_tl") and model_args.get("backbone_coords_encoding", None) != []:
        b, t = shape[0], (shape[2] if len(shape) == 5 else 1)
        tc = torch.cat([torch.randint(2015, 2025, (b, t, 1), generator=g).float(),
                        torch.randint(1, 366, (b, t, 1), generator=g).float()], dim=2)
        lc = torch.cat([torch.round((torch.rand(b, 1, generator=g) * 120 - 60) * 100) / 100,
                        torch.round((torch.rand(b, 1, generator=g) * 360 - 180) * 100) / 100], 1)
        kwargs = dict(temporal_coords=tc, location_coords=lc)
        arrays["temporal_coords"] = tc.numpy()
        arrays["location_coords"] = lc.numpy()
    model.eval()
    with torch.no_grad():
        out = model(x, **kwargs).output
    if pretrained is not None:
        init["model_args"][pkey] = pretrained
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    header = ("# TerraTorch's %s (%s), %s: made by tools/make_example_fixtures.py with %s.\n"
              "# %s. Random weights (seed %d); input %s.\n"
              % (os.path.basename(rel), "full size" if full else "reduced: %d blocks, width %d, "
                 "decoder/head widths / %d" % (REDUCED_DEPTH, REDUCED_WIDTH, WIDTH_DIVISOR),
                 "model section as TerraTorch reads it",
                 ", ".join("%s %s" % kv for kv in vers.items()), note, seed, list(shape)))
    cfg_path = os.path.join(folder, "config.yaml")
    with open(cfg_path, "w", encoding="utf-8") as f:
        f.write(header)
        yaml.safe_dump(doc, f, sort_keys=False, default_flow_style=None)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = os.path.join(tmp, "example.ckpt")
        torch.save({"epoch": 0, "global_step": 0, "state_dict": task.state_dict(),
                    "hyper_parameters": dict(task.hparams)}, ckpt)
        rc = convert_checkpoint.main([ckpt, os.path.join(folder, "weights.h5"),
                                      "--compress", "-q"])
        if rc != 0:
            raise RuntimeError("%s: convert_checkpoint failed" % name)
    write_arrays(os.path.join(folder, "input.h5"), arrays)
    write_arrays(os.path.join(folder, "expected.h5"),
                 collections.OrderedDict(output=out.numpy()))
    size = mf.dir_size(folder)
    print("%-28s %-22s %-20s -> %-16s %5d KB" % (name, model_args["backbone"], list(shape),
                                                list(out.shape), (size + 1023) // 1024))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--terratorch-repo", metavar="DIR",
                    help="a checkout of TerraTorch's source repository (its examples/)")
    ap.add_argument("--only", action="append", metavar="NAME", help="one example (repeatable)")
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures"))
    ap.add_argument("--full", action="store_true",
                    help="full-size models (large files: for a scratch folder, not the repository)")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    if args.list:
        for name, (rel, _, shape, ref, note) in EXAMPLES.items():
            print("%-28s %-10s %s: %s" % (name, ref, rel, note))
        return 0
    if not args.terratorch_repo:
        ap.error("--terratorch-repo is required")
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    from terratorch_import import import_terratorch
    import_terratorch()
    mf.terramind_sizes()  # the reduced TerraMind configs set dim, encoder_depth, num_heads
    import torch
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    vers = mf.versions()
    print("make_example_fixtures: " + ", ".join("%s %s" % kv for kv in vers.items()))
    names = args.only or list(EXAMPLES)
    for name in names:
        if name not in EXAMPLES:
            sys.stderr.write("make_example_fixtures: unknown example '%s' (see --list)\n" % name)
            return 1
        if EXAMPLES[name][3] != vers["terratorch"]:
            print("%-28s skipped: needs terratorch %s (this is %s)"
                  % (name, EXAMPLES[name][3], vers["terratorch"]))
            continue
        make_one(name, args.terratorch_repo, args.out, args.full, vers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
