#!/usr/bin/env python3
"""Generate the LoRA/PEFT checkpoint fixture with the real TerraTorch and peft packages.

    python3 tools/make_lora_fixture.py                  # writes tests/fixtures/lora_peft/
    python3 tools/make_lora_fixture.py --out /tmp/lora

A small segmentation model is built the way a user fine-tuning with LoRA builds
it: TerraTorch's SemanticSegmentationTask with EncoderDecoderFactory and a
`peft_config` in model_args (LoRA with replace_qkv, so TerraTorch splits each
fused qkv linear into q/k/v linears before peft wraps the backbone). Every
parameter gets a random value with a fixed seed, the LoRA A and B matrices
included (so the adapters change the output), and the model is run in eval mode.
The folder holds

  config_lora.yaml  the Lightning config, peft_config included (what the user trained with)
  model.ckpt        Lightning-style checkpoint: state_dict with "model." keys, hyper_parameters
  model.pt          the model's state dict (torch.save(model.state_dict()))
  input.h5          "input" [B, C, H, W]
  expected.h5       "output": TerraTorch's ModelOutput.output

Before writing, the checkpoint is converted with tools/convert_checkpoint.py and
loaded strictly into the same model built without peft_config; its output must
match the LoRA model's, which checks the merge against TerraTorch and peft.
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

TOOLS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TOOLS)
sys.path.insert(0, TOOLS)

import convert_checkpoint  # noqa: E402
import make_fixtures as mf  # noqa: E402
from terracl_h5 import read_state_dict, write_arrays  # noqa: E402
from terratorch_import import import_terratorch  # noqa: E402

NAME = "lora_peft"
PINNED = collections.OrderedDict([("terratorch", "1.2.13"), ("peft", "0.21.2")])
SEED = 401

PEFT_CONFIG = collections.OrderedDict([
    ("method", "LORA"),
    ("replace_qkv", "qkv"),
    ("peft_config_kwargs", collections.OrderedDict([
        ("r", 4), ("lora_alpha", 12), ("lora_dropout", 0.1),
        ("target_modules", ["qkv.q_linear", "qkv.v_linear", "attn.proj",
                            "mlp.fc1", "mlp.fc2", "patch_embed.proj"])]))])

MODEL_ARGS = collections.OrderedDict(
    list(mf._bb("prithvi_eo_v2_300", img_size=32, patch_size=8, num_frames=1,
                bands=["BLUE", "GREEN", "RED"], embed_dim=32, depth=2,
                num_heads=2).items()) + [
        ("necks", [{"name": "SelectIndices", "indices": [-1]},
                   {"name": "ReshapeTokensToImage"}]),
        ("decoder", "FCNDecoder"), ("decoder_channels", 16), ("decoder_num_convs", 2),
        ("num_classes", 2), ("peft_config", PEFT_CONFIG)])

SPEC = dict(kind="lightning", seed=SEED, task="segmentation", model_args=MODEL_ARGS,
            input=(1, 3, 32, 32),
            note="LoRA fine-tuning (peft_config: r 4, lora_alpha 12, replace_qkv) on a 2-block "
                 "v2 ViT with patch 8 and 3 bands, FCN decoder; the adapters (patch embedding "
                 "conv included) hold non-zero random values")


def versions():
    out = collections.OrderedDict()
    for pkg in ("terratorch", "peft", "torch", "timm", "segmentation-models-pytorch",
                "numpy", "h5py"):
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "?"
    return out


def plain_args():
    args = collections.OrderedDict(MODEL_ARGS)
    del args["peft_config"]
    return args


def rel_l2(a, b):
    return float(np.linalg.norm((a - b).ravel()) / max(np.linalg.norm(b.ravel()), 1e-30))


def check_converted(h5, x, expected, label):
    """Load the converted file strictly into the model built without peft_config."""
    import torch
    sd, config = read_state_dict(h5)
    model = mf.build_model("segmentation", plain_args())
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in sd.items()},
                          strict=True)
    got = mf.run_model(model, x, {})["output"]
    err = rel_l2(got, expected)
    print("  %s: converted checkpoint in the plain TerraTorch model: rel L2 %.2e" % (label, err))
    if err > 1e-5:  # float32 rounding of W0 + s*B@A, nothing more
        raise RuntimeError("%s: merged weights do not reproduce the LoRA model (rel L2 %g)"
                           % (label, err))
    return config


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", NAME))
    ap.add_argument("--seed", type=int, default=SEED,
                    help="another seed (to check that the merge does not depend on one fixture)")
    ap.add_argument("--any-version", action="store_true",
                    help="run with other terratorch/peft versions than the pinned ones")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args(argv)
    if not args.verbose:
        logging.disable(logging.WARNING)
        warnings.filterwarnings("ignore")
    try:
        import torch
        placeholders = import_terratorch()
        import peft  # noqa: F401
        import terratorch.tasks
    except ImportError as e:
        sys.stderr.write("make_lora_fixture: error: %s (needs terratorch %s and peft %s)\n"
                         % (e, PINNED["terratorch"], PINNED["peft"]))
        return 1
    vers = versions()
    print("make_lora_fixture: " + ", ".join("%s %s" % kv for kv in vers.items()))
    if placeholders:
        print("make_lora_fixture: placeholders for dataset-only packages: "
              + ", ".join(placeholders))
    wrong = [p for p, v in PINNED.items() if vers[p] != v]
    if wrong and not args.any_version:
        sys.stderr.write("make_lora_fixture: error: pinned %s, found %s (--any-version to go on)\n"
                         % (", ".join("%s %s" % kv for kv in PINNED.items()),
                            ", ".join("%s %s" % (p, vers[p]) for p in wrong)))
        return 1
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    seed = args.seed
    SPEC["seed"] = seed
    torch.manual_seed(seed)

    task = terratorch.tasks.SemanticSegmentationTask(
        model_factory="EncoderDecoderFactory", model_args=dict(MODEL_ARGS), loss="ce")
    model = task.model
    lora = [n for n, _ in model.named_parameters() if ".lora_A." in n or ".lora_B." in n]
    if not lora:
        raise RuntimeError("TerraTorch built no LoRA layers")
    mf.randomise(model, seed)
    for n, p in model.named_parameters():
        if (".lora_A." in n or ".lora_B." in n) and not bool(torch.any(p != 0)):
            raise RuntimeError("adapter %s is zero" % n)
    x, kwargs, inputs = mf.make_inputs(SPEC, seed)
    expected = mf.run_model(model, x, kwargs)
    out = expected["output"]

    # The adapters must matter: the same weights without them give another output.
    with model.encoder.disable_adapter():
        base_only = mf.run_model(model, x, kwargs)["output"]
    print("  LoRA changes the output by rel L2 %.3f" % rel_l2(base_only, out))

    os.makedirs(args.out, exist_ok=True)
    shapes = "input.h5: input %s; expected.h5: output %s" % (
        mf._shape(inputs["input"]), mf._shape(out))
    text = mf.config_text(NAME, SPEC, vers, shapes)
    text = text.replace("generated by tools/make_fixtures.py", "generated by "
                        "tools/make_lora_fixture.py").replace(
        "\n# Generated with", "\n# Saved as model.ckpt (Lightning) and model.pt; convert with "
        "tools/convert_checkpoint.py.\n# Generated with", 1)
    text = text.replace("[0.0, 0.0, 0.0, 0.0, 0.0, 0.0]", "[0.0, 0.0, 0.0]").replace(
        "[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]", "[1.0, 1.0, 1.0]")  # 3 bands
    cfg = os.path.join(args.out, "config_lora.yaml")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(text)
    ckpt = os.path.join(args.out, "model.ckpt")
    torch.save({"epoch": 0, "global_step": 0, "pytorch-lightning_version": "2.6.6",
                "state_dict": task.state_dict(),
                "hyper_parameters": dict(task.hparams)}, ckpt)
    pt = os.path.join(args.out, "model.pt")
    torch.save(model.state_dict(), pt)
    write_arrays(os.path.join(args.out, "input.h5"), inputs)
    write_arrays(os.path.join(args.out, "expected.h5"), collections.OrderedDict(output=out))

    with tempfile.TemporaryDirectory() as tmp:
        h5 = os.path.join(tmp, "a.h5")
        if convert_checkpoint.main([ckpt, h5, "--config", cfg, "-q"]) != 0:
            raise RuntimeError("convert_checkpoint failed on model.ckpt")
        stored = check_converted(h5, x, out, "model.ckpt --config")
        import peft_merge
        import yaml
        if stored is None or peft_merge.find_peft_config(yaml.safe_load(stored)) is not None:
            raise RuntimeError("the converted checkpoint should carry the config without peft_config")
        h5 = os.path.join(tmp, "b.h5")
        if convert_checkpoint.main([ckpt, h5, "-q"]) != 0:  # peft_config from hyper_parameters
            raise RuntimeError("convert_checkpoint failed on model.ckpt without --config")
        check_converted(h5, x, out, "model.ckpt (hyper_parameters)")
        h5 = os.path.join(tmp, "c.h5")
        if convert_checkpoint.main([pt, h5, "--config", cfg, "-q"]) != 0:
            raise RuntimeError("convert_checkpoint failed on model.pt")
        check_converted(h5, x, out, "model.pt --config")
    size = mf.dir_size(args.out)
    print("%s: %d LoRA tensors, output %s, %d KB in %s" % (
        NAME, len(lora), mf._shape(out), (size + 1023) // 1024, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
