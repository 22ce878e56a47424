"""Check the committed fixtures against TerraTorch, starting from the files alone.

For every tests/fixtures/<name>/ (and weights/sample/) this rebuilds the model
from config.yaml through TerraTorch's registries, loads weights.h5 (or, for a
backbone with backbone_ckpt_path, lets TerraTorch load the checkpoint, after
turning the HDF5 file back into a PyTorch state dict; ckpt_data likewise), runs input.h5 and
compares with expected.h5. So the config is known to be complete, the weights
file to be the model's state dict, and the expected output to be TerraTorch's.

    python3 -m pytest tests/python          (or: python3 tests/python/test_fixtures.py)

Skips when terratorch is not installed.
"""

import glob
import re
import logging
import os
import sys
import tempfile
import unittest
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

try:
    import h5py
    import torch
    import yaml
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    from terratorch_import import import_terratorch
    import_terratorch()
    import importlib.metadata
    TT_VERSION = importlib.metadata.version("terratorch")
    from terratorch.registry import BACKBONE_REGISTRY, MODEL_FACTORY_REGISTRY
    from make_fixtures import terramind_sizes
    terramind_sizes()  # the reduced TerraMind fixtures set dim, encoder_depth, num_heads
    HAVE_TT = True
except ImportError as e:  # pragma: no cover
    HAVE_TT = False
    WHY = str(e)

from terracl_h5 import read_state_dict  # noqa: E402

FOLDERS = sorted(glob.glob(os.path.join(ROOT, "tests", "fixtures", "*", "config.yaml")))
FOLDERS = [os.path.dirname(p) for p in FOLDERS]
SAMPLE = os.path.join(ROOT, "weights", "sample")
if os.path.exists(os.path.join(SAMPLE, "config.yaml")):
    FOLDERS.append(SAMPLE)


TASKS = {"SemanticSegmentationTask": "segmentation", "PixelwiseRegressionTask": "regression",
         "ClassificationTask": "classification", "ScalarRegressionTask": "scalar_regression"}


def rel_l2(a, b):
    return float(np.linalg.norm((a - b).ravel()) / max(np.linalg.norm(b.ravel()), 1e-30))


def made_with(folder):
    """The terratorch version named in the config's header comment, or None."""
    with open(os.path.join(folder, "config.yaml"), encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                break
            m = re.search(r"terratorch (\d+\.\d+(?:\.\d+)?)", line)
            if m:
                return m.group(1)
    return None


def run_fixture(folder):
    with open(os.path.join(folder, "config.yaml"), encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    if "model" in cfg and cfg["model"]["init_args"].get("aux_heads"):
        # Example configs with auxiliary heads: the task class builds them.
        import terratorch.tasks
        from make_example_fixtures import build_task
        init = dict(cfg["model"]["init_args"])
        init["model_args"] = dict(init["model_args"], backbone_pretrained=False)
        task_cls = getattr(terratorch.tasks, cfg["model"]["class_path"].rsplit(".", 1)[-1])
        cfg = {"task_model": task_cls(**build_task(init)).model}
    elif "model" in cfg:  # Lightning layout: model.class_path + model.init_args
        init = cfg["model"]["init_args"]
        cfg = {"model_factory": init["model_factory"], "model_args": init["model_args"],
               "task": TASKS[cfg["model"]["class_path"].rsplit(".", 1)[-1]]}
    args = dict(cfg.get("model_args", {}))
    with h5py.File(os.path.join(folder, "input.h5"), "r") as f:
        if "input" in f:
            x = torch.from_numpy(f["input"][()])
        else:  # multimodal: one dataset per modality, in the config's order
            names = [m if isinstance(m, str) else next(iter(m))
                     for m in args["backbone_modalities"]]
            x = {m: torch.from_numpy(f[m][()]) for m in names if m in f}
        kw = {k: torch.from_numpy(f[k][()]) for k in ("temporal_coords", "location_coords")
              if k in f}
    with h5py.File(os.path.join(folder, "expected.h5"), "r") as f:
        if isinstance(f["output"], h5py.Group):  # merge_method dict: output/<modality>
            expected = np.concatenate([f["output"][m][()] for m in x], axis=1)
        else:
            expected = f["output"][()]
    tmp = None
    if "task_model" in cfg:
        model = cfg["task_model"]
    elif "decoder" in args or cfg.get("model_factory") in ("SMPModelFactory", "TimmModelFactory"):
        if "aux_decoders" in args:  # jsonargparse's job in a Lightning run
            from terratorch.models.model import AuxiliaryHead
            args["aux_decoders"] = [AuxiliaryHead(**a) for a in args["aux_decoders"]]
        if args.get("backbone_pretrained"):
            args["backbone_pretrained"] = False  # weights.h5 replaces every weight
        if cfg["model_factory"] == "PrithviModelFactory" and "pretrained" not in args:
            # Its default (true) would download the published backbone; the
            # strict load below replaces every weight, so build without it.
            args["pretrained"] = False
        if cfg["model_factory"] == "TimmModelFactory":
            args["pretrained"] = False  # the same for timm's download
        model = MODEL_FACTORY_REGISTRY.build(cfg["model_factory"]).build_model(
            task=cfg["task"], **args)
    else:
        bkw = {k[len("backbone_"):]: v for k, v in args.items() if k.startswith("backbone_")}
        # ckpt_data: the torchgeo backbones' checkpoint argument.
        key = "ckpt_path" if bkw.get("ckpt_path") else "ckpt_data"
        if bkw.get(key):
            # TerraTorch reads PyTorch files: rebuild one from the converted HDF5.
            sd, _ = read_state_dict(os.path.join(folder, bkw[key]))
            tmp = tempfile.NamedTemporaryFile(suffix=".pt", delete=False)
            tmp.close()
            torch.save({k: torch.from_numpy(np.array(v)) for k, v in sd.items()}, tmp.name)
            bkw[key] = tmp.name
        model = BACKBONE_REGISTRY.build(args["backbone"], **bkw)
    try:
        if os.path.exists(os.path.join(folder, "weights.h5")):
            sd, config = read_state_dict(os.path.join(folder, "weights.h5"))
            # smp keeps every encoder stage whatever encoder_depth is; the
            # SMPModelFactory fixtures leave out the stages a shallow encoder
            # never runs (tools/make_smp_fixtures.py), and nothing else.
            smp = cfg.get("model_factory") == "SMPModelFactory"
            res = model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in sd.items()},
                                        strict=not smp)
            if smp and (res.unexpected_keys or any(
                    not re.match(r"smp_model\.encoder\.layer[234]\.", k) for k in res.missing_keys)):
                raise AssertionError("weights.h5 does not match the model: %s" % (res,))
        model.eval()
        with torch.no_grad():
            out = model(x, **kw)
        out = out.output if hasattr(out, "output") else out[-1]
        if isinstance(out, dict):
            out = torch.cat([out[m] for m in x], dim=1)
    finally:
        if tmp is not None:
            os.unlink(tmp.name)
    return out.numpy(), expected


@unittest.skipUnless(HAVE_TT, "terratorch not installed")
class FixtureTest(unittest.TestCase):
    def test_fixtures(self):
        self.assertTrue(FOLDERS, "no fixtures found")
        for folder in FOLDERS:
            with self.subTest(fixture=os.path.basename(folder)):
                made = made_with(folder)
                if made is not None and made != TT_VERSION:
                    self.skipTest("%s was made with terratorch %s (this is %s)"
                                  % (os.path.basename(folder), made, TT_VERSION))
                got, expected = run_fixture(folder)
                self.assertEqual(got.shape, expected.shape)
                self.assertLessEqual(rel_l2(got, expected), 1e-6)

    def test_sizes(self):
        for folder in FOLDERS:
            if folder == SAMPLE:
                continue
            size = sum(os.path.getsize(p) for p in glob.glob(os.path.join(folder, "*")))
            self.assertLess(size, 1000 * 1000, folder)


if __name__ == "__main__":
    unittest.main(verbosity=2)
