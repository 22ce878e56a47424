"""Regenerate the tiny checkpoints test_checkpoint.c reads to check that the
C reader understands exactly what tools/terracl_h5.py (the converter's
writer) produces: h5py's float16 type, creation-order-tracked groups, the
gzip+shuffle layout of --compress and the variable-length UTF-8 config.

    python3 tests/data/io/make_io_data.py

Values follow v(i) = (i % 13) * 0.125 - 0.5, exact in every float dtype, so
the test recomputes them instead of storing them twice.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "tools"))
import terracl_h5  # noqa: E402


def values(shape, dtype):
    n = int(np.prod(shape)) if shape else 1
    v = (np.arange(n) % 13) * 0.125 - 0.5
    return v.reshape(shape).astype(dtype)


def main():
    state = {
        "encoder.patch_embed.proj.weight": values((4, 2, 1, 2, 2), np.float32),
        "encoder.blocks.0.norm1.bias": values((16,), np.float16),
        "encoder.big": values((20, 15), np.float32),  # >= 256 elements: gzip with --compress
        "decoder.head.weight": values((3,), np.float64),
        "encoder.bn.num_batches_tracked": np.array(7, dtype=np.int64),
        "mask": np.array([True, False, True, True]),
    }
    config = "model_args:\n  backbone: prithvi_eo_v2_300  # r\u00e9sum\u00e9\n"
    for name, compress in (("converter_plain.h5", False), ("converter_gzip.h5", True)):
        terracl_h5.write_state_dict(os.path.join(HERE, name), state, config, compress=compress)


if __name__ == "__main__":
    main()
