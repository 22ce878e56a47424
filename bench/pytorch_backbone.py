"""Times a Prithvi backbone in PyTorch (TerraTorch's own model) on the CPU,
so terracl's `bench` figures can be compared side by side in one run.

    python3 bench/pytorch_backbone.py --backbone prithvi_eo_v1_100 --frames 3 \
        --size 224 --batch 1 --repeat 5 --threads 2

Prints one JSON object with the same fields as `terracl bench --format json`
(device, model, batch, frames, size, cold_ms, warm_ms_median, warm_ms_min,
gflop, gflops). Weights are random; `gflop` counts the same GEMM work as
terracl (2 per multiply-add of every matrix product).
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--backbone", default="prithvi_eo_v1_100")
    ap.add_argument("--frames", type=int, default=1)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    logging.disable(logging.WARNING)
    from terratorch.registry import BACKBONE_REGISTRY

    model = BACKBONE_REGISTRY.build(args.backbone, num_frames=args.frames,
                                    img_size=args.size).eval()
    shape = [args.batch, 6, args.frames, args.size, args.size]
    if args.frames == 1:
        del shape[2]
    x = torch.randn(*shape)
    times = []
    with torch.inference_mode():
        t0 = time.perf_counter()
        model(x)
        cold = (time.perf_counter() - t0) * 1e3
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - t0) * 1e3)
    gflop = vit_gflop(model, args.batch, args.frames, args.size)
    med = statistics.median(times)
    print(json.dumps({
        "device": f"PyTorch {torch.__version__} CPU, {args.threads} threads",
        "model": args.backbone, "batch": args.batch, "frames": args.frames, "size": args.size,
        "cold_ms": round(cold, 3), "warm_ms_median": round(med, 3),
        "warm_ms_min": round(min(times), 3), "gflop": round(gflop, 4),
        "gflops": round(gflop / (med * 1e-3), 2), "repeat": args.repeat,
    }))


if __name__ == "__main__":
    main()
