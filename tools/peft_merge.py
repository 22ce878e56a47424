"""Merge LoRA adapters of a PEFT state dict into plain weights (numpy only).

TerraTorch fine-tunes with `peft_config` in model_args:

    peft_config:
      method: LORA
      replace_qkv: qkv          # optional: split fused q/k/v linears first
      peft_config_kwargs: {r: 8, lora_alpha: 16, target_modules: [...], ...}

and wraps the backbone with the `peft` package. The saved state dict then
differs from the plain model's in three ways, all undone here:

  * the wrapped module sits under "base_model.model." (encoder.base_model.
    model.blocks.0... instead of encoder.blocks.0...);
  * every adapted layer L holds L.base_layer.{weight,bias} and the adapter
    L.lora_A.<adapter>.weight [r, in, k...], L.lora_B.<adapter>.weight
    [out, r, 1...] (and L.lora_B.<adapter>.bias with lora_bias); the merged
    layer is W = W0 + s * B @ A (over flattened kernels), b = b0 + s * bB,
    with s = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora;
  * with replace_qkv, each fused linear P.<qkv> became three linears
    P.<qkv>.q_linear / k_linear / v_linear holding the row blocks of the
    fused weight (and bias); they are concatenated back in q, k, v order.

Layers under modules_to_save keep their trained copy
(L.modules_to_save.<adapter>.*) and drop L.original_module.*.

Variants this does not merge (DoRA's magnitude vectors, embedding adapters,
several adapters at once, other PEFT methods) are refused with a message.
"""

import collections
import math
import re

import numpy as np

from terracl_h5 import CheckpointError

# LoraConfig's defaults (peft 0.x), used when peft_config_kwargs leaves them out.
DEFAULT_R = 8
DEFAULT_ALPHA = 8

WRAPPER = "base_model.model."
_ADAPTER_KEY = re.compile(r"^(?P<mod>.+)\.lora_(?P<ab>[AB])(?:\.(?P<ad>[^.]+))?\.(?P<p>weight|bias)$")
_UNSUPPORTED_SEGMENTS = {
    "lora_magnitude_vector": "DoRA (use_dora) adapters",
    "lora_embedding_A": "LoRA adapters on embedding layers",
    "lora_embedding_B": "LoRA adapters on embedding layers",
}
_PEFT_SEGMENTS = ("lora_A", "lora_B", "base_layer") + tuple(_UNSUPPORTED_SEGMENTS)
_QKV_PARTS = ("q_linear", "k_linear", "v_linear")


def _segments(key):
    return key.split(".")


def is_peft_state(state):
    """True when keys show PEFT adapter layers (LoRA matrices or wrapped base layers)."""
    for key in state:
        segs = _segments(key)
        if any(s in _PEFT_SEGMENTS for s in segs):
            return True
    return False


# ----------------------------------------------------------------- config

def find_peft_config(doc):
    """The peft_config mapping inside a TerraTorch config document (Lightning layout
    model.init_args.model_args, top-level model_args) or Lightning hyper_parameters
    (model_args); None when there is none."""
    if not isinstance(doc, dict):
        return None
    candidates = []
    model = doc.get("model")
    if isinstance(model, dict):
        init = model.get("init_args")
        if isinstance(init, dict):
            candidates.append(init.get("model_args"))
            candidates.append(init)
    candidates.append(doc.get("model_args"))
    candidates.append(doc)
    for c in candidates:
        if isinstance(c, dict) and isinstance(c.get("peft_config"), dict):
            return c["peft_config"]
    return None


class LoraSettings(object):
    """The parts of a peft_config that decide the merge."""

    def __init__(self, peft_config, source):
        self.source = source
        pc = peft_config or {}
        method = str(pc.get("method", "LORA"))
        if method.upper() != "LORA":
            raise CheckpointError("peft_config method '%s' (from %s): only LORA adapters can be "
                                  "merged" % (method, source))
        kw = pc.get("peft_config_kwargs") or {}
        if not isinstance(kw, dict):
            raise CheckpointError("peft_config_kwargs (from %s) is not a mapping" % source)
        self.replace_qkv = pc.get("replace_qkv")
        self.r = int(kw.get("r", DEFAULT_R))
        self.alpha = float(kw.get("lora_alpha", DEFAULT_ALPHA))
        self.rslora = bool(kw.get("use_rslora", False))
        self.fan_in_fan_out = bool(kw.get("fan_in_fan_out", False))
        self.rank_pattern = dict(kw.get("rank_pattern") or {})
        self.alpha_pattern = dict(kw.get("alpha_pattern") or {})
        if kw.get("use_dora"):
            raise CheckpointError("peft_config (from %s) uses DoRA (use_dora), which cannot be "
                                  "merged here" % source)

    @staticmethod
    def _pattern_key(patterns, module_key):
        # peft's rule: a pattern matches a module name ending in ".<pattern>" or equal to it.
        for pattern in patterns:
            if re.match(r"(.*\.)?(%s)$" % pattern, module_key):
                return pattern
        return None

    def scaling(self, module_key, rank):
        """alpha/r (or alpha/sqrt(r)) for the module named module_key inside the
        wrapped model; rank is the adapter's stored rank, checked against the config."""
        pk = self._pattern_key(self.rank_pattern, module_key)
        r = int(self.rank_pattern[pk]) if pk is not None else self.r
        if r != rank:
            raise CheckpointError(
                "LoRA adapter of '%s' has rank %d but the peft_config (from %s) says r=%d"
                % (module_key, rank, self.source, r))
        ak = self._pattern_key(self.alpha_pattern, module_key)
        alpha = float(self.alpha_pattern[ak]) if ak is not None else self.alpha
        return alpha / math.sqrt(r) if self.rslora else alpha / r


# ----------------------------------------------------------------- merge

def _strip_wrapper(key):
    """(plain key, key inside the wrapped model) for a key that may hold the wrapper."""
    i = key.find(WRAPPER)
    if i == 0 or (i > 0 and key[i - 1] == "."):
        return key[:i] + key[i + len(WRAPPER):], key[i + len(WRAPPER):]
    return key, key


def _delta(key, a, b, base, fan_in_fan_out):
    """B @ A reshaped like the base weight (linear, or conv with a 1x..x1 B kernel)."""
    if a.ndim != b.ndim or a.ndim < 2 or b.shape[1] != a.shape[0]:
        raise CheckpointError("LoRA tensors of '%s' do not fit together: A %s, B %s"
                              % (key, list(a.shape), list(b.shape)))
    if any(d != 1 for d in b.shape[2:]):
        raise CheckpointError("LoRA B of '%s' has a %s kernel; only 1x1 B kernels can be merged"
                              % (key, list(b.shape[2:])))
    prod = b.reshape(b.shape[0], b.shape[1]).astype(np.float64) @ \
        a.reshape(a.shape[0], -1).astype(np.float64)
    if fan_in_fan_out and a.ndim == 2:
        prod = prod.T
    if prod.size != base.size:
        raise CheckpointError("LoRA update of '%s' has shape %s, the base weight %s"
                              % (key, list(prod.shape), list(base.shape)))
    return prod.reshape(base.shape)


def merge_lora(state, settings):
    """Return (plain state dict, notes) with the adapters merged and the key layout of
    the model built without peft_config. `state` maps keys to numpy arrays."""
    for key in state:
        for seg in _segments(key):
            if seg in _UNSUPPORTED_SEGMENTS:
                raise CheckpointError("'%s': %s cannot be merged" % (key, _UNSUPPORTED_SEGMENTS[seg]))

    # Collect adapters per layer (names as stored, wrapper included).
    adapters = collections.OrderedDict()   # layer -> {"A": arr, "B": arr, "Bbias": arr}
    adapter_names = set()
    for key, arr in state.items():
        m = _ADAPTER_KEY.match(key)
        if not m:
            continue
        adapter_names.add(m.group("ad") or "")
        entry = adapters.setdefault(m.group("mod"), {})
        slot = m.group("ab") + ("bias" if m.group("p") == "bias" else "")
        entry[slot] = arr
    if len(adapter_names) > 1:
        raise CheckpointError("the checkpoint holds several LoRA adapters (%s); merge needs exactly one"
                              % ", ".join(sorted(n or "<unnamed>" for n in adapter_names)))

    out = collections.OrderedDict()
    merged = 0
    consumed = set()
    for layer, parts in adapters.items():
        if "A" not in parts or "B" not in parts or "Abias" in parts:
            raise CheckpointError("LoRA layer '%s' needs exactly lora_A.weight and lora_B.weight"
                                  % layer)
        wkey, bkey = layer + ".base_layer.weight", layer + ".base_layer.bias"
        if wkey not in state:
            raise CheckpointError("LoRA layer '%s' has adapters but no '%s'" % (layer, wkey))
        base = state[wkey]
        plain_layer, module_key = _strip_wrapper(layer)
        s = settings.scaling(module_key, int(parts["A"].shape[0]))
        w = base.astype(np.float64) + s * _delta(layer, parts["A"], parts["B"], base,
                                                  settings.fan_in_fan_out)
        out[plain_layer + ".weight"] = w.astype(base.dtype)
        consumed.add(wkey)
        if bkey in state:
            bias = state[bkey].astype(np.float64)
            if "Bbias" in parts:
                bias = bias + s * parts["Bbias"].astype(np.float64)
            out[plain_layer + ".bias"] = bias.astype(state[bkey].dtype)
            consumed.add(bkey)
        elif "Bbias" in parts:
            raise CheckpointError("LoRA layer '%s' has a lora_B bias but its base layer has none"
                                  % layer)
        merged += 1

    saved_copies = set()
    for key in state:
        if ".modules_to_save." in key:
            saved_copies.add(key.split(".modules_to_save.")[0])
    for key, arr in state.items():
        if key in consumed or _ADAPTER_KEY.match(key):
            continue
        new = key
        segs = _segments(key)
        if "base_layer" in segs:  # a wrapped layer whose adapter is absent: keep the base
            new = key.replace(".base_layer.", ".")
        if ".original_module." in new and new.split(".original_module.")[0] in saved_copies:
            continue
        if ".modules_to_save." in new:
            head, tail = new.split(".modules_to_save.", 1)
            new = head + "." + tail.split(".", 1)[1]
        new, _ = _strip_wrapper(new)
        if new in out:
            raise CheckpointError("two tensors map to '%s' after merging the adapters" % new)
        out[new] = arr
    out, fused = _fuse_qkv(out, settings.replace_qkv)
    return out, {"merged": merged, "fused": fused}


def _fuse_qkv(state, qkv_name):
    """Concatenate P.q_linear / k_linear / v_linear back into P.weight / P.bias."""
    parents = collections.OrderedDict()
    for key in state:
        segs = _segments(key)
        if len(segs) >= 3 and segs[-2] in _QKV_PARTS and segs[-1] in ("weight", "bias"):
            parents.setdefault(".".join(segs[:-2]), set()).add((segs[-2], segs[-1]))
    fused = {}
    for parent, have in parents.items():
        if qkv_name and not (parent == qkv_name or parent.endswith("." + qkv_name)):
            continue
        for p in ("weight", "bias"):
            present = [(part, p) in have for part in _QKV_PARTS]
            if not any(present):
                continue
            if not all(present):
                raise CheckpointError("'%s' has only some of q_linear/k_linear/v_linear %s"
                                      % (parent, p))
            if parent + "." + p in state:
                raise CheckpointError("'%s.%s' exists next to its q/k/v parts" % (parent, p))
            parts = [state["%s.%s.%s" % (parent, part, p)] for part in _QKV_PARTS]
            fused[parent + "." + p] = np.concatenate(parts, axis=0)
    if not fused:
        return state, 0
    out = collections.OrderedDict()
    for key, arr in state.items():
        segs = _segments(key)
        parent = ".".join(segs[:-2])
        if len(segs) >= 3 and segs[-2] in _QKV_PARTS and parent + "." + segs[-1] in fused:
            name = parent + "." + segs[-1]
            if name not in out:
                out[name] = fused[name]
            continue
        out[key] = arr
    return out, sum(1 for k in fused if k.endswith(".weight"))


# ----------------------------------------------------------------- config text

def strip_peft_config(text):
    """The YAML text without its model_args' peft_config entry, other lines (comments
    included) kept. Returns (new text, removed?). Needs PyYAML."""
    import yaml
    root = yaml.compose(text)
    spans = []

    def walk(node, path):
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                name = k.value if isinstance(k, yaml.ScalarNode) else None
                if name == "peft_config" and path and path[-1] == "model_args":
                    spans.append((k, v))
                walk(v, path + [name])
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                walk(v, path + [None])

    walk(root, [])
    if not spans:
        return text, False
    original = yaml.safe_load(text)
    lines = text.splitlines(True)
    drop = set()
    block = True
    for k, v in spans:
        first = k.start_mark.line
        last = _last_line(v)
        if lines[first][:k.start_mark.column].strip():
            block = False  # not the first thing on its line (flow mapping): use the dumper
        drop.update(range(first, max(first, last) + 1))
    expected = _without_peft(original)
    if block:
        new = "".join(line for i, line in enumerate(lines) if i not in drop)
        try:
            if yaml.safe_load(new) == expected:
                return new, True
        except yaml.YAMLError:
            pass
    # Unusual layout: write the document again (comments are lost).
    return yaml.safe_dump(expected, sort_keys=False), True


def _last_line(node):
    """Last line holding text of the node (block collections end where the next token
    starts, so look at their last leaf)."""
    import yaml
    if isinstance(node, yaml.MappingNode) and node.value and not node.flow_style:
        return _last_line(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and node.value and not node.flow_style:
        return _last_line(node.value[-1])
    end = node.end_mark
    return end.line if end.column > 0 else end.line - 1


def _without_peft(doc, name=None):
    if isinstance(doc, dict):
        return {k: _without_peft(v, k) for k, v in doc.items()
                if not (k == "peft_config" and name == "model_args")}
    if isinstance(doc, list):
        return [_without_peft(v) for v in doc]
    return doc
