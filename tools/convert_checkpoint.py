#!/usr/bin/env python3
"""Convert a PyTorch / Lightning / safetensors checkpoint to terracl's HDF5 layout.

    python3 tools/convert_checkpoint.py IN OUT.h5 [--config CONFIG.yaml] [--compress]

IN may be
  * a PyTorch file (.pt / .pth / .bin) holding a state dict (or a dict with a
    "state_dict" or "model" entry, or a whole nn.Module),
  * a Lightning checkpoint (.ckpt): the state dict under "state_dict"; a
    leading "model." is stripped from its keys (TerraTorch task checkpoints),
  * a .safetensors file (read here with numpy; the safetensors package is not
    needed, and neither is torch).

Every tensor "a.b.c" becomes the HDF5 dataset "/a/b/c" with PyTorch's shape.
float16/32/64 keep their dtype, bfloat16 becomes float32, integer tensors stay
integers. Filtering (dropping MAE decoders, recomputing pos_embed, ...) is
left to the loader, as in TerraTorch. With --config the YAML text is stored in
the root attribute "config" so the checkpoint can run on its own.

LoRA checkpoints (TerraTorch models fine-tuned with `peft_config`) are
recognised by their keys (lora_A / lora_B / base_layer, the PEFT wrapper
"base_model.model.") and written as the plain model: every adapter is merged
into its layer (W += alpha/r * B @ A), q/k/v linears that TerraTorch split
for LoRA (replace_qkv) are fused again, and the stored config loses its
peft_config. r, lora_alpha, use_rslora, rank/alpha patterns and replace_qkv
come from the peft_config of --config or, failing that, of a Lightning
checkpoint's hyper_parameters. An HDF5 file that still holds adapters
(written without merging) is accepted as IN too, its stored config used when
there is no --config. See tools/peft_merge.py.

PyTorch files are first read with torch.load(weights_only=True). Files that
need arbitrary unpickling (for example Lightning checkpoints whose
hyper-parameters hold custom classes) are then read with weights_only=False,
which can run code from the file: a warning says so, and --safe-only refuses.

Errors are reported as one line on stderr with exit status 1; OUT is written
to a temporary file in its folder and renamed into place only on success.
Works with torch 1.13 (Debian 12's python3-torch) and newer.
"""

import argparse
import collections
import json
import os
import pickle
import re
import struct
import sys
import types

try:
    import numpy as np
except ImportError:
    sys.stderr.write("convert_checkpoint: error: numpy is not installed\n")
    sys.exit(1)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from terracl_h5 import CheckpointError, read_state_dict, write_state_dict  # noqa: E402
import peft_merge  # noqa: E402

PROG = "convert_checkpoint"

# safetensors dtype tag -> (numpy dtype, bytes per element)
_ST_DTYPES = {
    "F64": ("<f8", 8), "F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": (None, 2),
    "I64": ("<i8", 8), "I32": ("<i4", 4), "I16": ("<i2", 2), "I8": ("i1", 1),
    "U64": ("<u8", 8), "U32": ("<u4", 4), "U16": ("<u2", 2), "U8": ("u1", 1),
    "BOOL": ("?", 1),
}
_ST_MAX_HEADER = 100 * 1024 * 1024


def warn(msg):
    sys.stderr.write("%s: warning: %s\n" % (PROG, msg))


# ---------------------------------------------------------------- safetensors

def _bf16_to_f32(raw):
    bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
    return bits.view(np.float32)


def read_safetensors(path):
    """Parse a .safetensors file: u64 LE header size, JSON header, raw data."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise CheckpointError("'%s' is too short to be a safetensors file" % path)
            (n,) = struct.unpack("<Q", head)
            if n < 2 or n > _ST_MAX_HEADER or 8 + n > size:
                raise CheckpointError("'%s': invalid safetensors header length %d" % (path, n))
            header_bytes = f.read(n)
            data = f.read()
    except OSError as e:
        raise CheckpointError("cannot read '%s': %s" % (path, e.strerror or e))
    try:
        header = json.loads(header_bytes.decode("utf-8"),
                            object_pairs_hook=collections.OrderedDict)
    except (UnicodeDecodeError, ValueError) as e:
        raise CheckpointError("'%s': safetensors header is not valid JSON (%s)" % (path, e))
    if not isinstance(header, dict):
        raise CheckpointError("'%s': safetensors header is not a JSON object" % path)
    meta = header.pop("__metadata__", None)
    if meta is not None and not isinstance(meta, dict):
        raise CheckpointError("'%s': __metadata__ is not an object" % path)

    state = collections.OrderedDict()
    spans = []
    for key, info in header.items():
        where = "'%s': tensor '%s'" % (path, key)
        if not isinstance(info, dict) or set(info) - {"dtype", "shape", "data_offsets"} \
                or len(info) != 3:
            raise CheckpointError("%s: entry must hold exactly dtype, shape, data_offsets" % where)
        dtype, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in _ST_DTYPES:
            raise CheckpointError("%s: unsupported dtype %r" % (where, dtype))
        if not isinstance(shape, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise CheckpointError("%s: invalid shape %r" % (where, shape))
        if not (isinstance(offs, list) and len(offs) == 2 and all(
                isinstance(o, int) and not isinstance(o, bool) for o in offs)):
            raise CheckpointError("%s: invalid data_offsets %r" % (where, offs))
        begin, end = offs
        np_dtype, itemsize = _ST_DTYPES[dtype]
        count = 1
        for d in shape:
            count *= d
        if not (0 <= begin <= end <= len(data)):
            raise CheckpointError("%s: data_offsets %r outside the data (%d bytes)"
                                  % (where, offs, len(data)))
        if end - begin != count * itemsize:
            raise CheckpointError("%s: %d bytes for shape %r of %s (expected %d)"
                                  % (where, end - begin, shape, dtype, count * itemsize))
        raw = data[begin:end]
        if dtype == "BF16":
            arr = _bf16_to_f32(raw)
        else:
            arr = np.frombuffer(raw, dtype=np_dtype)
            arr = arr.astype(arr.dtype.newbyteorder("="))
        state[key] = arr.reshape(shape)
        if end > begin:
            spans.append((begin, end, key))
    spans.sort()
    for (b0, e0, k0), (b1, e1, k1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise CheckpointError("'%s': tensors '%s' and '%s' overlap in the data"
                                  % (path, k0, k1))
    return state


# ---------------------------------------------------------------- PyTorch

def _import_torch():
    try:
        import torch  # noqa: F401
    except ImportError:
        raise CheckpointError(
            "reading PyTorch files needs torch (pip install torch, or apt install python3-torch)")
    return torch


def _short(exc, limit=160):
    """First sentence of an exception message, without colour codes."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", " ".join(str(exc).split()))
    first = text.split(". ")[0]
    return first if len(first) <= limit else first[:limit] + "..."


class _MissingClass(dict):
    """Stands in for a class the checkpoint names but this Python cannot import
    (for example a Lightning hyper-parameter object); tensors never need it.
    A dict, so that the items of dict-like classes (Lightning's AttributeDict)
    survive."""

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        pass

    def __call__(self, *args, **kwargs):
        return _MissingClass()


class _LenientUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            return type(name, (_MissingClass,), {"__module__": "missing." + module})


# torch.load(pickle_module=...) wants a module-like object: pickle itself with
# a different Unpickler and load.
_lenient_pickle = types.ModuleType("pickle")
_lenient_pickle.__dict__.update(
    {k: v for k, v in pickle.__dict__.items() if not k.startswith("__")})
_lenient_pickle.Unpickler = _LenientUnpickler
_lenient_pickle.load = lambda f, **kw: _LenientUnpickler(f, **kw).load()


def _torch_load_lenient(torch, path):
    # torch 1.13 ignores pickle_module when weights_only=False and uses the
    # pickle module it imported itself, so swap that for the duration.
    ser = torch.serialization
    saved = getattr(ser, "pickle", None)
    if saved is not None:
        ser.pickle = _lenient_pickle
    try:
        return torch.load(path, map_location="cpu", weights_only=False,
                          pickle_module=_lenient_pickle)
    finally:
        if saved is not None:
            ser.pickle = saved


def _load_torch(path, safe_only):
    torch = _import_torch()
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError("cannot read '%s': no such file" % path)
    except pickle.UnpicklingError as first:  # weights_only refused something
        first_msg = _short(first)
        if safe_only:
            raise CheckpointError("'%s' cannot be read with weights_only=True (%s); "
                                  "--safe-only forbids the unrestricted fallback" % (path, first_msg))
    except Exception as e:  # truncated or foreign file
        raise CheckpointError("cannot read '%s' as a PyTorch checkpoint: %s" % (path, _short(e)))
    warn("'%s' needs unrestricted unpickling (weights_only=True failed: %s); "
         "retrying with weights_only=False, which can run code stored in the file: "
         "only convert checkpoints you trust" % (path, first_msg))
    try:
        return _torch_load_lenient(torch, path)
    except Exception as e:
        raise CheckpointError("cannot read '%s' as a PyTorch checkpoint: %s" % (path, _short(e)))


def _tensor_to_numpy(torch, key, t):
    if getattr(t, "is_quantized", False):
        raise CheckpointError("tensor '%s' is quantized; dequantize it first" % key)
    if t.layout != torch.strided:
        raise CheckpointError("tensor '%s' is not dense (layout %s)" % (key, t.layout))
    if t.is_complex():
        raise CheckpointError("tensor '%s' is complex (%s)" % (key, t.dtype))
    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        t = t.float()
    return t.contiguous().numpy()


def _pick_state_dict(obj, path, lightning):
    """Find the tensor mapping inside what torch.load returned."""
    torch = _import_torch()
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict(), False
    if not isinstance(obj, dict):
        raise CheckpointError("'%s' holds a %s, not a state dict" % (path, type(obj).__name__))
    if "state_dict" in obj and isinstance(obj["state_dict"], dict):
        return obj["state_dict"], True
    if lightning:
        raise CheckpointError("'%s' has no 'state_dict' entry (not a Lightning checkpoint?)" % path)
    if obj and not any(torch.is_tensor(v) for v in obj.values()) \
            and isinstance(obj.get("model"), dict):
        return obj["model"], False
    return obj, False


def read_torch(path, safe_only, extras=None):
    torch = _import_torch()
    lightning = path.lower().endswith(".ckpt")
    obj = _load_torch(path, safe_only)
    sd, nested = _pick_state_dict(obj, path, lightning)
    if extras is not None and nested and isinstance(obj.get("hyper_parameters"), dict):
        extras["hyper_parameters"] = obj["hyper_parameters"]
    state = collections.OrderedDict()
    skipped = []
    for key, value in sd.items():
        if not torch.is_tensor(value):
            skipped.append(str(key))
            continue
        if not isinstance(key, str):
            raise CheckpointError("'%s': state dict key %r is not a string" % (path, key))
        if nested and key.startswith("model."):
            key = key[len("model."):]
        if key in state:
            raise CheckpointError("'%s': two tensors map to '%s' after stripping 'model.'"
                                  % (path, key))
        state[key] = _tensor_to_numpy(torch, key, value)
    if skipped:
        warn("skipped %d non-tensor entr%s: %s" % (
            len(skipped), "y" if len(skipped) == 1 else "ies", ", ".join(skipped[:8])
            + (" ..." if len(skipped) > 8 else "")))
    if not state:
        raise CheckpointError("'%s' holds no tensors" % path)
    return state


# ---------------------------------------------------------------- driver

def _looks_like_safetensors(path):
    try:
        with open(path, "rb") as f:
            head = f.read(9)
    except OSError:
        return False
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 2 <= n <= _ST_MAX_HEADER and head[8:9] == b"{"


def read_hdf5_peft(path, extras):
    """An HDF5 checkpoint is already converted, unless it still holds LoRA adapters (written
    by a converter without LoRA support): then it is read back, with its stored config, to
    merge them."""
    try:
        state, config = read_state_dict(path)
    except Exception as e:
        raise CheckpointError("cannot read '%s' as HDF5: %s" % (path, _short(e)))
    if not peft_merge.is_peft_state(state):
        raise CheckpointError("'%s' is already an HDF5 file" % path)
    if extras is not None and config is not None:
        extras["stored_config"] = config
    return collections.OrderedDict(sorted(state.items()))


def read_checkpoint(path, safe_only=False, extras=None):
    """The state dict in `path`; a Lightning checkpoint's hyper_parameters go into
    extras["hyper_parameters"] when extras is a dict."""
    if not os.path.exists(path):
        raise CheckpointError("cannot read '%s': no such file" % path)
    if os.path.isdir(path):
        raise CheckpointError("'%s' is a folder, not a checkpoint file" % path)
    if not os.access(path, os.R_OK):
        raise CheckpointError("cannot read '%s': permission denied" % path)
    if path.lower().endswith(".safetensors") or _looks_like_safetensors(path):
        return read_safetensors(path)
    with open(path, "rb") as f:
        magic = f.read(8)
    if magic.startswith(b"\x89HDF"):
        return read_hdf5_peft(path, extras)
    if not (magic.startswith(b"PK\x03\x04") or magic[:1] == b"\x80"):
        raise CheckpointError("'%s' is neither a PyTorch file (zip or pickle) nor safetensors"
                              % path)
    return read_torch(path, safe_only, extras)


def read_config(path, text=None):
    """(text, parsed document or None when PyYAML is missing) of the config file `path`,
    or of `text` (a config stored in a checkpoint) named `path` in messages."""
    if text is None:
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError as e:
            raise CheckpointError("cannot read config '%s': %s" % (path, e.strerror or e))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CheckpointError("config '%s' is not UTF-8 text" % path)
    try:
        import yaml
    except ImportError:
        yaml = None
    if yaml is not None:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise CheckpointError("config '%s' is not valid YAML: %s"
                                  % (path, " ".join(str(e).split())))
        if not isinstance(doc, dict):
            raise CheckpointError("config '%s' is not a YAML mapping" % path)
    else:
        doc = None
    return text, doc


def merge_peft(state, config_doc, config_path, extras):
    """Merge LoRA adapters when the state dict holds them; returns (state, note)."""
    if not peft_merge.is_peft_state(state):
        return state, None
    pc = peft_merge.find_peft_config(config_doc) if config_doc is not None else None
    source = config_path
    if pc is None:
        pc = peft_merge.find_peft_config(extras.get("hyper_parameters"))
        source = "the checkpoint's hyper_parameters"
    if pc is None:
        raise CheckpointError(
            "the checkpoint holds LoRA/PEFT adapters but no peft_config was found to merge them "
            "(r, lora_alpha): pass the training config with --config"
            + ("" if config_doc is not None or config_path is None
               else " (reading it needs PyYAML)"))
    settings = peft_merge.LoraSettings(pc, source)
    state, info = peft_merge.merge_lora(state, settings)
    note = "merged %d LoRA adapter%s (peft_config from %s)" % (
        info["merged"], "" if info["merged"] == 1 else "s", source)
    if info["fused"]:
        note += ", fused %d split q/k/v layer%s" % (info["fused"], "" if info["fused"] == 1 else "s")
    return state, note


def config_to_store(text, doc):
    """The config text for the checkpoint: without peft_config (the weights are merged)."""
    if text is None or doc is None or not peft_merge.find_peft_config(doc):
        return text
    new, _ = peft_merge.strip_peft_config(text)
    return new


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog=PROG, description="Convert a PyTorch/Lightning/safetensors checkpoint to "
                               "terracl's HDF5 layout (dots in tensor names become groups).")
    ap.add_argument("input", metavar="IN", help=".pt/.pth, Lightning .ckpt or .safetensors")
    ap.add_argument("output", metavar="OUT.h5", help="HDF5 file to write")
    ap.add_argument("--config", metavar="FILE.yaml",
                    help="store this YAML config as the root attribute 'config'")
    ap.add_argument("--safe-only", action="store_true",
                    help="never fall back to torch.load(weights_only=False)")
    ap.add_argument("--compress", action="store_true",
                    help="store tensors chunked with shuffle + gzip (smaller, slower to load)")
    ap.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    args = ap.parse_args(argv)
    try:
        if os.path.abspath(args.input) == os.path.abspath(args.output):
            raise CheckpointError("input and output are the same file")
        config, doc = read_config(args.config) if args.config else (None, None)
        extras = {}
        state = read_checkpoint(args.input, args.safe_only, extras)
        config_name = args.config
        if config is None and extras.get("stored_config") is not None:
            config_name = args.input + " (stored config)"
            config, doc = read_config(config_name, extras["stored_config"])
        state, peft_note = merge_peft(state, doc, config_name, extras)
        config = config_to_store(config, doc)
        write_state_dict(args.output, state, config, compress=args.compress)
    except CheckpointError as e:
        sys.stderr.write("%s: error: %s\n" % (PROG, e))
        return 1
    except MemoryError:
        sys.stderr.write("%s: error: out of memory reading '%s'\n" % (PROG, args.input))
        return 1
    if not args.quiet:
        if peft_note:
            print("%s: %s" % (PROG, peft_note))
        n = sum(int(np.prod(a.shape)) for a in state.values())
        dtypes = sorted({str(a.dtype) for a in state.values()})
        print("%s: wrote %d tensors (%d values; %s)%s to %s" % (
            PROG, len(state), n, ", ".join(dtypes),
            " with config" if config is not None else "", args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
