"""Times a Prithvi backbone in PyTorch (TerraTorch's own model) on the CPU,
so terracl's `bench` figures can be compared side by side in one run.

    python3 bench/pytorch_backbone.py --backbone prithvi_eo_v1_100 --frames 3 \
        --size 224 --batch 1 --repeat 5 --threads 2

Prints one JSON object with the same fields as `terracl bench --format json`
(device, model, batch, frames, size, cold_ms, warm_ms_median, warm_ms_min,
gflop, gflops). Weights are random; `gflop` counts the same GEMM work as
terracl (2 per multiply-add of every matrix product).

The model is TerraTorch's own when the terratorch package imports. Where it
does not (Debian's python3-torch has no terratorch), `--impl plain` (chosen
automatically) runs an equivalent encoder written here with the same layers
(Conv3d patch embedding, pre-norm blocks with qkv attention and an exact-GELU
MLP, final LayerNorm), which does the same arithmetic.
"""
import argparse
import json
import logging
import statistics
import time

import torch


def vit_gflop(model, batch, frames, size):
    d = model.embed_dim
    depth = len(model.blocks)
    pt, ph, pw = model.patch_embed.patch_size
    n = (frames // pt) * (size // ph) * (size // pw)
    l = n + 1
    heads = model.blocks[0].attn.num_heads
    hidden = model.blocks[0].mlp.fc1.out_features
    c = model.patch_embed.proj.in_channels
    per_block = 2 * l * d * (3 * d + d + 2 * hidden) + 2 * 2 * heads * l * l * (d // heads)
    patch = 2 * n * d * c * pt * ph * pw
    return batch * (depth * per_block + patch) * 1e-9


class PlainBlock(torch.nn.Module):
    def __init__(self, d, heads, hidden):
        super().__init__()
        self.heads = heads
        self.norm1 = torch.nn.LayerNorm(d)
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.proj = torch.nn.Linear(d, d)
        self.norm2 = torch.nn.LayerNorm(d)
        self.fc1 = torch.nn.Linear(d, hidden)
        self.fc2 = torch.nn.Linear(hidden, d)

    def forward(self, x):
        b, n, d = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, d // self.heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-2, -1) * (d // self.heads) ** -0.5, dim=-1)
        x = x + self.proj((att @ v).transpose(1, 2).reshape(b, n, d))
        return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.norm2(x))))


class PlainPrithvi(torch.nn.Module):
    """The Prithvi ViT encoder's computation in plain torch (no terratorch)."""
    SIZES = {"prithvi_eo_tiny": (256, 4, 4, 16), "prithvi_eo_v1_100": (768, 12, 12, 16),
             "prithvi_eo_v2_tiny_tl": (192, 12, 3, 16), "prithvi_eo_v2_100_tl": (768, 12, 12, 16),
             "prithvi_eo_v2_300": (1024, 24, 16, 16), "prithvi_eo_v2_300_tl": (1024, 24, 16, 16),
             "prithvi_eo_v2_600": (1280, 32, 16, 14), "prithvi_eo_v2_600_tl": (1280, 32, 16, 14)}

    def __init__(self, name):
        super().__init__()
        d, depth, heads, p = self.SIZES[name]
        self.embed_dim = d
        self.proj = torch.nn.Conv3d(6, d, (1, p, p), (1, p, p))
        self.cls = torch.nn.Parameter(torch.zeros(1, 1, d))
        self.blocks = torch.nn.ModuleList(PlainBlock(d, heads, 4 * d) for _ in range(depth))
        self.norm = torch.nn.LayerNorm(d)

    def forward(self, x):
        if x.dim() == 4:
            x = x.unsqueeze(2)
        t = self.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(t.shape[0], -1, -1), t], dim=1)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x)


def plain_gflop(name, batch, frames, size):
    d, depth, heads, p = PlainPrithvi.SIZES[name]
    n = frames * (size // p) ** 2
    l = n + 1
    per_block = 2 * l * d * (3 * d + d + 8 * d) + 2 * 2 * heads * l * l * (d // heads)
    return batch * (depth * per_block + 2 * n * d * 6 * p * p) * 1e-9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backbone", default="prithvi_eo_v1_100")
    ap.add_argument("--frames", type=int, default=1)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--impl", choices=["auto", "terratorch", "plain"], default="auto")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    logging.disable(logging.WARNING)
    impl = args.impl
    if impl == "auto":
        try:
            import terratorch  # noqa: F401
            impl = "terratorch"
        except Exception:
            impl = "plain"
    if impl == "terratorch":
        from terratorch.registry import BACKBONE_REGISTRY

        model = BACKBONE_REGISTRY.build(args.backbone, num_frames=args.frames,
                                        img_size=args.size).eval()
        gflop = vit_gflop(model, args.batch, args.frames, args.size)
    else:
        model = PlainPrithvi(args.backbone).eval()
        gflop = plain_gflop(args.backbone, args.batch, args.frames, args.size)
    shape = [args.batch, 6, args.frames, args.size, args.size]
    if args.frames == 1:
        del shape[2]
    x = torch.randn(*shape)
    times = []
    with torch.no_grad():
        t0 = time.perf_counter()
        model(x)
        cold = (time.perf_counter() - t0) * 1e3
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3)
    med = statistics.median(times)
    print(json.dumps({
        "device": f"PyTorch {torch.__version__} CPU, {args.threads} threads"
                  + ("" if impl == "terratorch" else " (plain encoder)"),
        "model": args.backbone, "batch": args.batch, "frames": args.frames, "size": args.size,
        "cold_ms": round(cold, 3), "warm_ms_median": round(med, 3),
        "warm_ms_min": round(min(times), 3), "gflop": round(gflop, 4),
        "gflops": round(gflop / (med * 1e-3), 2), "repeat": args.repeat,
    }))


if __name__ == "__main__":
    main()
