"""Tests for tools/convert_checkpoint.py.

    python3 -m pytest tests/python     (or: python3 tests/python/test_convert_checkpoint.py)

The safetensors and error-path tests need only numpy and h5py; the PyTorch
tests skip without torch (Debian 12's python3-torch 1.13 is enough).
"""

import collections
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "convert_checkpoint.py")
sys.path.insert(0, os.path.join(ROOT, "tools"))

import h5py  # noqa: E402

from terracl_h5 import read_state_dict  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


class HyperParams(object):
    """A hyper-parameter object the converter's process cannot import."""

    def __init__(self):
        self.lr = 1e-3


def run(*args):
    p = subprocess.run([sys.executable, TOOL] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def write_safetensors(path, tensors, meta=None, edit=None):
    header, data = collections.OrderedDict(), b""
    for key, (tag, arr) in tensors.items():
        if tag == "BF16":
            raw = (np.asarray(arr, np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()
        else:
            raw = arr.tobytes()
        header[key] = {"dtype": tag, "shape": list(arr.shape),
                       "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if meta:
        header["__metadata__"] = meta
    if edit:
        edit(header)
    blob = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob + data)


class ConverterTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def p(self, name):
        return os.path.join(self.d, name)

    def assert_fails(self, *args, msg=None):
        rc, out, err = run(*args)
        self.assertEqual(rc, 1, err)
        lines = [line for line in err.splitlines() if "error" in line]
        self.assertEqual(len(lines), 1, err)
        if msg:
            self.assertIn(msg, lines[0])
        return err

    # ---------------------------------------------------------- safetensors
    def test_safetensors_layout_and_dtypes(self):
        w = np.arange(6, dtype="<f4").reshape(2, 3)
        write_safetensors(self.p("m.safetensors"), collections.OrderedDict([
            ("encoder.blocks.0.w", ("F32", w)),
            ("encoder.h", ("F16", np.array([1.5, -2], "<f2"))),
            ("d", ("F64", np.array([[0.25]], "<f8"))),
            ("bn.num_batches_tracked", ("I64", np.array(7, "<i8"))),
            ("b", ("BF16", np.array([1.5, -3.0], np.float32))),
        ]), meta={"format": "pt"})
        rc, out, err = run(self.p("m.safetensors"), self.p("m.h5"))
        self.assertEqual(rc, 0, err)
        with h5py.File(self.p("m.h5"), "r") as f:
            self.assertTrue(np.array_equal(f["encoder/blocks/0/w"][()], w))
            self.assertEqual(f["encoder/h"].dtype, np.float16)
            self.assertEqual(f["d"].dtype, np.float64)
            self.assertEqual(f["bn/num_batches_tracked"].shape, ())
            self.assertEqual(f["bn/num_batches_tracked"][()], 7)
            self.assertEqual(f["b"].dtype, np.float32)
            self.assertEqual(list(f["b"][()]), [1.5, -3.0])
            self.assertNotIn("config", f.attrs)

    def test_config_attribute(self):
        write_safetensors(self.p("m.safetensors"), {"a": ("F32", np.ones(2, "<f4"))})
        text = "model_factory: EncoderDecoderFactory  # ü\nmodel_args:\n  backbone: prithvi_eo_tiny\n"
        with open(self.p("c.yaml"), "w", encoding="utf-8") as f:
            f.write(text)
        rc, out, err = run(self.p("m.safetensors"), self.p("m.h5"), "--config", self.p("c.yaml"))
        self.assertEqual(rc, 0, err)
        with h5py.File(self.p("m.h5"), "r") as f:
            attr = f.attrs.get_id("config")
            self.assertTrue(attr.get_type().is_variable_str())
            self.assertEqual(attr.get_type().get_cset(), h5py.h5t.CSET_UTF8)
            value = f.attrs["config"]
        self.assertEqual(value.decode() if isinstance(value, bytes) else value, text)

    def test_compress_roundtrip(self):
        w = np.random.default_rng(0).standard_normal((64, 32)).astype("<f4")
        write_safetensors(self.p("m.safetensors"), {"x.w": ("F32", w)})
        rc, out, err = run(self.p("m.safetensors"), self.p("m.h5"), "--compress")
        self.assertEqual(rc, 0, err)
        sd, _ = read_state_dict(self.p("m.h5"))
        self.assertTrue(np.array_equal(sd["x.w"], w))

    def test_errors_never_clobber_output(self):
        with open(self.p("out.h5"), "wb") as f:
            f.write(b"precious")
        write_safetensors(self.p("coll.safetensors"), collections.OrderedDict([
            ("a.b", ("F32", np.ones(2, "<f4"))), ("a.b.c", ("F32", np.ones(2, "<f4")))]))
        self.assert_fails(self.p("coll.safetensors"), self.p("out.h5"), msg="collision")

        def too_far(h):
            h["a"]["data_offsets"] = [0, 64]
        write_safetensors(self.p("far.safetensors"), {"a": ("F32", np.ones(2, "<f4"))},
                          edit=too_far)
        self.assert_fails(self.p("far.safetensors"), self.p("out.h5"), msg="outside")

        def bad_dtype(h):
            h["a"]["dtype"] = "C64"
        write_safetensors(self.p("dt.safetensors"), {"a": ("F32", np.ones(2, "<f4"))},
                          edit=bad_dtype)
        self.assert_fails(self.p("dt.safetensors"), self.p("out.h5"), msg="dtype")

        def bad_size(h):
            h["a"]["shape"] = [3]
        write_safetensors(self.p("sz.safetensors"), {"a": ("F32", np.ones(2, "<f4"))},
                          edit=bad_size)
        self.assert_fails(self.p("sz.safetensors"), self.p("out.h5"))

        with open(self.p("junk.pt"), "wb") as f:
            f.write(b"this is not a checkpoint at all")
        self.assert_fails(self.p("junk.pt"), self.p("out.h5"))
        with open(self.p("trunc.safetensors"), "wb") as f:
            f.write(struct.pack("<Q", 1000) + b"{")
        self.assert_fails(self.p("trunc.safetensors"), self.p("out.h5"))
        self.assert_fails(self.p("missing.pt"), self.p("out.h5"), msg="no such file")
        with open(self.p("bad.yaml"), "w") as f:
            f.write("a: [\n")
        write_safetensors(self.p("ok.safetensors"), {"a": ("F32", np.ones(2, "<f4"))})
        self.assert_fails(self.p("ok.safetensors"), self.p("out.h5"), "--config",
                          self.p("bad.yaml"), msg="YAML")
        self.assert_fails(self.p("ok.safetensors"), self.p("nodir/out.h5"))
        with open(self.p("out.h5"), "rb") as f:
            self.assertEqual(f.read(), b"precious")
        leftovers = [n for n in os.listdir(self.d) if n.endswith(".tmp")]
        self.assertEqual(leftovers, [])

    # ---------------------------------------------------------- PyTorch
    @unittest.skipIf(torch is None, "torch not installed")
    def test_pt_and_lightning(self):
        sd = collections.OrderedDict()
        sd["encoder.blocks.0.attn.qkv.weight"] = torch.randn(6, 2)
        sd["encoder.h"] = torch.randn(3).half()
        sd["encoder.bf"] = torch.randn(3).bfloat16()
        sd["neck.0.bn.num_batches_tracked"] = torch.tensor(5)
        torch.save(sd, self.p("m.pt"))
        rc, out, err = run(self.p("m.pt"), self.p("m.h5"))
        self.assertEqual(rc, 0, err)
        got, _ = read_state_dict(self.p("m.h5"))
        self.assertTrue(np.array_equal(got["encoder.blocks.0.attn.qkv.weight"],
                                       sd["encoder.blocks.0.attn.qkv.weight"].numpy()))
        self.assertEqual(got["encoder.h"].dtype, np.float16)
        self.assertEqual(got["encoder.bf"].dtype, np.float32)
        self.assertTrue(np.array_equal(got["encoder.bf"], sd["encoder.bf"].float().numpy()))
        self.assertEqual(got["neck.0.bn.num_batches_tracked"].dtype, np.int64)

        ckpt = {"epoch": 3, "global_step": 10,
                "state_dict": collections.OrderedDict(("model." + k, v) for k, v in sd.items())}
        torch.save(ckpt, self.p("m.ckpt"))
        rc, out, err = run(self.p("m.ckpt"), self.p("l.h5"))
        self.assertEqual(rc, 0, err)
        got2, _ = read_state_dict(self.p("l.h5"))
        self.assertEqual(sorted(got2), sorted(got))

        # Hyper-parameters holding objects: weights_only refuses, the fallback
        # (with a warning) stubs the class and still gets the tensors.
        ckpt["hyper_parameters"] = {"hp": HyperParams()}
        torch.save(ckpt, self.p("h.ckpt"))
        rc, out, err = run(self.p("h.ckpt"), self.p("h.h5"))
        self.assertEqual(rc, 0, err)
        self.assertIn("warning", err)
        got3, _ = read_state_dict(self.p("h.h5"))
        self.assertEqual(sorted(got3), sorted(got))
        self.assert_fails(self.p("h.ckpt"), self.p("h2.h5"), "--safe-only", msg="weights_only")

    @unittest.skipIf(torch is None, "torch not installed")
    def test_truncated_pt(self):
        torch.save({"a": torch.zeros(1000)}, self.p("m.pt"))
        with open(self.p("m.pt"), "rb") as f:
            head = f.read(500)
        with open(self.p("t.pt"), "wb") as f:
            f.write(head)
        self.assert_fails(self.p("t.pt"), self.p("o.h5"))
        self.assertFalse(os.path.exists(self.p("o.h5")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
