"""Writes tests/fixtures/param_counts.tsv: the learnable parameter count of
every Prithvi, timm ResNet/ConvNeXt/ViT and TerraMind backbone terracl registers, with TerraTorch's defaults and a
few overrides, as PyTorch counts them (the fixed position table is a
buffer, so it is not counted). `terracl info backbone NAME` must print the
same numbers; tests/test_param_counts.c checks it.

    python3 tools/make_param_counts.py [OUT.tsv]
"""
import sys
from importlib.metadata import version

import torch
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
from terratorch_import import import_terratorch  # noqa: E402
import_terratorch()
from terratorch.registry import BACKBONE_REGISTRY  # noqa: E402

CASES = [
    ("prithvi_eo_tiny", {}),
    ("prithvi_eo_v1_100", {}),
    ("prithvi_eo_v2_tiny_tl", {}),
    ("prithvi_eo_v2_100_tl", {}),
    ("prithvi_eo_v2_300", {}),
    ("prithvi_eo_v2_300_tl", {}),
    ("prithvi_eo_v2_600", {}),
    ("prithvi_eo_v2_600_tl", {}),
    ("prithvi_eo_v2_300", {"num_frames": 4, "img_size": 512}),
    ("prithvi_eo_v2_100_tl", {"coords_encoding": []}),
    ("prithvi_eo_v1_100", {"bands": ["BLUE", "GREEN", "RED", "NIR_NARROW"]}),
    # timm source: features_only extractors (no classifier), truncated after
    # the last stage out_indices asks for.
    ("timm_resnet18", {}),
    ("timm_resnet34", {}),
    ("timm_resnet50", {}),
    ("timm_resnet101", {}),
    ("timm_resnet152", {}),
    ("timm_resnet18", {"in_chans": 13}),
    ("timm_resnet50", {"in_chans": 6, "out_indices": [0, 1, 2]}),
    ("timm_resnet34", {"out_indices": [-1]}),
    ("timm_resnet18d", {}),
    ("timm_resnet34d", {}),
    ("timm_resnet50d", {}),
    ("timm_resnet101d", {}),
    ("timm_resnet152d", {}),
    ("timm_resnet50d", {"in_chans": 12, "out_indices": [0, 2]}),
    ("timm_resnet50", {"stem_type": "deep", "stem_width": 48, "avg_down": True}),
    ("timm_convnext_tiny", {}),
    ("timm_convnext_small", {}),
    ("timm_convnext_base", {}),
    ("timm_convnext_large", {}),
    ("timm_convnext_xlarge", {}),
    ("timm_convnextv2_tiny", {}),
    ("timm_convnextv2_small", {}),
    ("timm_convnextv2_base", {}),
    ("timm_convnextv2_large", {}),
    ("timm_convnextv2_huge", {}),
    ("timm_convnext_atto", {}),
    ("timm_convnext_femto", {}),
    ("timm_convnext_pico", {}),
    ("timm_convnext_nano", {}),
    ("timm_convnextv2_atto", {}),
    ("timm_convnextv2_femto", {}),
    ("timm_convnextv2_pico", {}),
    ("timm_convnextv2_nano", {}),
    ("timm_convnext_tiny", {"in_chans": 13, "out_indices": [0, 1]}),
    ("timm_convnextv2_base", {"in_chans": 6, "out_indices": [-1]}),
    ("timm_vit_tiny_patch16_224", {}),
    ("timm_vit_small_patch16_224", {}),
    ("timm_vit_base_patch16_224", {}),
    ("timm_vit_large_patch16_224", {}),
    ("timm_vit_tiny_patch16_384", {}),
    ("timm_vit_small_patch16_384", {}),
    ("timm_vit_base_patch16_384", {}),
    ("timm_vit_large_patch16_384", {}),
    ("timm_vit_base_patch16_224.mae", {"in_chans": 6, "img_size": 96, "out_indices": [2, 5, 8, 11]}),
    ("timm_vit_large_patch16_224", {"out_indices": 1}),
    ("terramind_v1_tiny", {}),
    ("terramind_v1_small", {}),
    ("terramind_v1_base", {}),
    ("terramind_v1_large", {}),
    ("terramind_v1_tiny", {"modalities": ["S2L2A"]}),
    ("terramind_v1_small", {"modalities": ["S1GRD"]}),
    ("terramind_v1_base", {"modalities": ["S2L2A"]}),
    ("terramind_v1_base", {"modalities": ["S2L1C"], "img_size": 256}),
    ("terramind_v1_large", {"modalities": ["RGB"]}),
    ("terramind_v1_tiny", {"modalities": ["DEM"], "merge_method": "concat"}),
    ("terramind_v1_base", {"modalities": ["S2L2A"], "bands": {"S2L2A": ["BLUE", "GREEN", "RED"]}}),
    ("terramind_v1_base", {"modalities": ["S2L2A", "S1GRD", "DEM"], "merge_method": "concat"}),
    ("terramind_v1_small", {"modalities": ["RGB", {"extra": 5}], "merge_method": "dict"}),
    ("terramind_v01_base", {"modalities": ["S2L2A", "S1GRD"],
                            "bands": {"S2L2A": ["RED", "GREEN"], "S1GRD": ["VV"]}}),
]


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/param_counts.tsv"
    lines = ["# backbone\targuments (YAML flow map)\tlearnable parameters (terratorch "
             f"{version('terratorch')}, torch {torch.__version__})"]
    for name, kwargs in CASES:
        # TerraMind's constructor calls .item(), which meta tensors refuse.
        with torch.device("cpu" if name.startswith("terramind") else "meta"):
            model = BACKBONE_REGISTRY.build(name, **kwargs)
        count = sum(p.numel() for p in model.parameters())
        args = "{" + ", ".join(f"{k}: {v}" for k, v in kwargs.items()) + "}"
        lines.append(f"{name}\t{args}\t{count}")
        print(name, args, count, flush=True)
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
