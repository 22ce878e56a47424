"""PyTorch on a CUDA GPU, fp32 with TF32 off, on the timm models that
`terracl bench --backbone timm_resnet50` / `timm_vit_base_patch16_224` build
(3 bands, 224 x 224, batch 1; ResNet-50 as `features_only`): the GPU peer of
those benchmarks. Prints one JSON line per model with the median and minimum
of 50 timed runs after 10 warm-up runs (each run synchronised).

    python3 bench/pytorch_cuda_timm.py
"""
import json
import time

import timm
import torch

RUNS = 50


def main():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    for name, kw in (("resnet50", {"features_only": True}), ("vit_base_patch16_224", {})):
        model = timm.create_model(name, pretrained=False, in_chans=3, **kw).cuda().eval()
        x = torch.randn(1, 3, 224, 224, device="cuda")
        with torch.inference_mode():
            for _ in range(10):
                model(x)
            torch.cuda.synchronize()
            times = []
            for _ in range(RUNS):
                t = time.perf_counter()
                model(x)
                torch.cuda.synchronize()
                times.append(time.perf_counter() - t)
        times.sort()
        print(json.dumps({"peer": "pytorch-cuda-fp32", "model": name,
                          "warm_ms_median": 1e3 * times[RUNS // 2],
                          "warm_ms_min": 1e3 * times[0], "torch": torch.__version__}))


if __name__ == "__main__":
    main()
