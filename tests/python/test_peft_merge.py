"""Tests for tools/peft_merge.py (LoRA merge used by tools/convert_checkpoint.py).

    python3 tests/python/test_peft_merge.py

The layout and arithmetic tests need only numpy (and PyYAML for the config
text). Where torch and peft are installed, the merge is also compared with
peft's own merge_and_unload on a small model (rsLoRA, rank and alpha patterns,
a conv adapter, lora_bias); that case skips otherwise.
"""

import collections
import math
import os
import sys
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import peft_merge  # noqa: E402
from terracl_h5 import CheckpointError  # noqa: E402

try:
    import yaml
except ImportError:
    yaml = None
try:
    import torch
    import peft
except ImportError:
    torch = peft = None

RNG = np.random.default_rng(5)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def settings(**kw):
    pc = {"method": "LORA", "peft_config_kwargs": kw}
    if "replace_qkv" in kw:
        pc["replace_qkv"] = kw.pop("replace_qkv")
    return peft_merge.LoraSettings(pc, "test")


class MergeTest(unittest.TestCase):
    def test_linear_scaling_and_wrapper(self):
        w0, b0, a, b = rand(6, 5), rand(6), rand(2, 5), rand(6, 2)
        sd = collections.OrderedDict([
            ("encoder.base_model.model.fc.base_layer.weight", w0),
            ("encoder.base_model.model.fc.base_layer.bias", b0),
            ("encoder.base_model.model.fc.lora_A.default.weight", a),
            ("encoder.base_model.model.fc.lora_B.default.weight", b),
            ("encoder.base_model.model.norm.weight", rand(6)),
            ("head.weight", rand(3, 6))])
        self.assertTrue(peft_merge.is_peft_state(sd))
        out, info = peft_merge.merge_lora(sd, settings(r=2, lora_alpha=6))
        self.assertEqual(sorted(out), ["encoder.fc.bias", "encoder.fc.weight",
                                       "encoder.norm.weight", "head.weight"])
        np.testing.assert_allclose(out["encoder.fc.weight"], w0 + 3.0 * b @ a, rtol=1e-6)
        np.testing.assert_array_equal(out["encoder.fc.bias"], b0)
        self.assertEqual(info["merged"], 1)
        out, _ = peft_merge.merge_lora(sd, settings(r=2, lora_alpha=6, use_rslora=True))
        np.testing.assert_allclose(out["encoder.fc.weight"], w0 + 6 / math.sqrt(2) * b @ a,
                                   rtol=1e-6)

    def test_patterns_and_rank_check(self):
        sd = collections.OrderedDict()
        for name, r in (("blocks.0.fc1", 2), ("blocks.0.fc2", 4)):
            sd["base_model.model.%s.base_layer.weight" % name] = rand(3, 3)
            sd["base_model.model.%s.lora_A.default.weight" % name] = rand(r, 3)
            sd["base_model.model.%s.lora_B.default.weight" % name] = rand(3, r)
        s = settings(r=2, lora_alpha=4, rank_pattern={"fc2": 4}, alpha_pattern={"fc2": 2})
        out, _ = peft_merge.merge_lora(sd, s)
        a, b = (sd["base_model.model.blocks.0.fc2.lora_%s.default.weight" % x] for x in "AB")
        np.testing.assert_allclose(out["blocks.0.fc2.weight"],
                                   sd["base_model.model.blocks.0.fc2.base_layer.weight"]
                                   + 0.5 * b @ a, rtol=1e-6)
        with self.assertRaisesRegex(CheckpointError, "rank 4 but .* r=2"):
            peft_merge.merge_lora(sd, settings(r=2))

    def test_conv_bias_and_qkv_fusion(self):
        d = 4
        sd = collections.OrderedDict()
        sd["m.patch.proj.base_layer.weight"] = rand(d, 3, 1, 2, 2)
        sd["m.patch.proj.base_layer.bias"] = rand(d)
        sd["m.patch.proj.lora_A.default.weight"] = rand(2, 3, 1, 2, 2)
        sd["m.patch.proj.lora_B.default.weight"] = rand(d, 2, 1, 1, 1)
        sd["m.patch.proj.lora_B.default.bias"] = rand(d)
        parts = {}
        for p in ("q", "k", "v"):
            parts[p] = (rand(d, d), rand(d))
            if p == "k":
                sd["m.attn.qkv.k_linear.weight"], sd["m.attn.qkv.k_linear.bias"] = parts[p]
                continue
            sd["m.attn.qkv.%s_linear.base_layer.weight" % p] = parts[p][0]
            sd["m.attn.qkv.%s_linear.base_layer.bias" % p] = parts[p][1]
            sd["m.attn.qkv.%s_linear.lora_A.default.weight" % p] = rand(2, d)
            sd["m.attn.qkv.%s_linear.lora_B.default.weight" % p] = rand(d, 2)
        out, info = peft_merge.merge_lora(sd, settings(r=2, lora_alpha=2, replace_qkv="qkv"))
        self.assertEqual(info["fused"], 1)
        self.assertEqual(sorted(out), ["m.attn.qkv.bias", "m.attn.qkv.weight",
                                       "m.patch.proj.bias", "m.patch.proj.weight"])
        a = sd["m.patch.proj.lora_A.default.weight"]
        b = sd["m.patch.proj.lora_B.default.weight"]
        delta = np.einsum("or,rikl->oikl", b[:, :, 0, 0, 0], a[:, :, 0]).reshape(d, 3, 1, 2, 2)
        np.testing.assert_allclose(out["m.patch.proj.weight"],
                                   sd["m.patch.proj.base_layer.weight"] + delta, rtol=1e-5)
        np.testing.assert_allclose(out["m.patch.proj.bias"], sd["m.patch.proj.base_layer.bias"]
                                   + sd["m.patch.proj.lora_B.default.bias"], rtol=1e-6)
        w = out["m.attn.qkv.weight"]
        self.assertEqual(w.shape, (3 * d, d))
        np.testing.assert_array_equal(w[d:2 * d], parts["k"][0])  # k had no adapter
        qa, qb = (sd["m.attn.qkv.q_linear.lora_%s.default.weight" % x] for x in "AB")
        np.testing.assert_allclose(w[:d], parts["q"][0] + qb @ qa, rtol=1e-6)
        np.testing.assert_array_equal(out["m.attn.qkv.bias"],
                                      np.concatenate([parts[p][1] for p in "qkv"]))

    def test_modules_to_save(self):
        sd = collections.OrderedDict([
            ("base_model.model.fc.base_layer.weight", rand(2, 2)),
            ("base_model.model.fc.lora_A.default.weight", rand(1, 2)),
            ("base_model.model.fc.lora_B.default.weight", rand(2, 1)),
            ("base_model.model.head.original_module.weight", rand(2, 2)),
            ("base_model.model.head.modules_to_save.default.weight", rand(2, 2))])
        out, _ = peft_merge.merge_lora(sd, settings(r=1))
        np.testing.assert_array_equal(
            out["head.weight"], sd["base_model.model.head.modules_to_save.default.weight"])
        self.assertEqual(sorted(out), ["fc.weight", "head.weight"])

    def test_refusals(self):
        base = collections.OrderedDict([("fc.base_layer.weight", rand(2, 2)),
                                        ("fc.lora_A.default.weight", rand(1, 2)),
                                        ("fc.lora_B.default.weight", rand(2, 1))])
        two = collections.OrderedDict(base)
        two["fc.lora_A.other.weight"] = rand(1, 2)
        two["fc.lora_B.other.weight"] = rand(2, 1)
        with self.assertRaisesRegex(CheckpointError, "several LoRA adapters"):
            peft_merge.merge_lora(two, settings(r=1))
        dora = collections.OrderedDict(base)
        dora["fc.lora_magnitude_vector.default.weight"] = rand(2)
        with self.assertRaisesRegex(CheckpointError, "DoRA"):
            peft_merge.merge_lora(dora, settings(r=1))
        with self.assertRaisesRegex(CheckpointError, "only LORA"):
            peft_merge.LoraSettings({"method": "IA3"}, "test")
        self.assertFalse(peft_merge.is_peft_state({"a.lora.weight": 1, "base.weight": 2}))

    def test_find_peft_config(self):
        pc = {"method": "LORA"}
        self.assertIs(peft_merge.find_peft_config(
            {"model": {"init_args": {"model_args": {"peft_config": pc}}}}), pc)
        self.assertIs(peft_merge.find_peft_config({"model_args": {"peft_config": pc}}), pc)
        self.assertIsNone(peft_merge.find_peft_config({"model_args": {"backbone": "x"}}))

    @unittest.skipIf(yaml is None, "PyYAML not installed")
    def test_strip_peft_config_keeps_the_rest(self):
        text = ("# comment kept\nmodel:\n  init_args:\n    model_args:\n      backbone: x  # mine\n"
                "      peft_config:\n        method: LORA\n        peft_config_kwargs:\n"
                "          target_modules:\n          - qkv.q_linear\n"
                "      # about the decoder\n      decoder: FCNDecoder\n    loss: ce\n")
        new, removed = peft_merge.strip_peft_config(text)
        self.assertTrue(removed)
        self.assertIn("# comment kept", new)
        self.assertIn("# about the decoder", new)
        self.assertEqual(yaml.safe_load(new), {"model": {"init_args": {
            "model_args": {"backbone": "x", "decoder": "FCNDecoder"}, "loss": "ce"}}})
        flow = "model_args: {backbone: x, peft_config: {method: LORA}}\n"
        self.assertEqual(yaml.safe_load(peft_merge.strip_peft_config(flow)[0]),
                         {"model_args": {"backbone": "x"}})
        self.assertEqual(peft_merge.strip_peft_config("a: 1\n"), ("a: 1\n", False))


@unittest.skipIf(peft is None, "torch and peft not installed")
class AgainstPeftTest(unittest.TestCase):
    def test_merge_and_unload(self):
        nn = torch.nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                self.blocks = nn.ModuleList(
                    nn.ModuleDict({"fc1": nn.Linear(8, 16), "fc2": nn.Linear(16, 8)})
                    for _ in range(2))

        torch.manual_seed(0)
        kw = dict(r=4, lora_alpha=10, use_rslora=True, lora_bias=True,
                  target_modules=["conv", "fc1", "fc2"],
                  rank_pattern={"blocks.1.fc1": 2}, alpha_pattern={"fc2": 3})
        model = peft.get_peft_model(Net(), peft.LoraConfig(**kw))
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "lora_" in name:
                    p.normal_()
        sd = collections.OrderedDict((k, v.detach().numpy().copy())
                                     for k, v in model.state_dict().items())
        out, info = peft_merge.merge_lora(
            sd, peft_merge.LoraSettings({"method": "LORA", "peft_config_kwargs": kw}, "test"))
        self.assertEqual(info["merged"], 5)
        want = model.merge_and_unload().state_dict()
        self.assertEqual(sorted(out), sorted(want))
        for k, v in want.items():
            np.testing.assert_allclose(out[k], v.numpy(), rtol=1e-5, atol=1e-5, err_msg=k)


if __name__ == "__main__":
    unittest.main(verbosity=2)
