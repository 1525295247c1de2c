"""Phase times of the float32 PaDiM in bench_models.py, the counterpart of `Farm.Benchmarks models-profile padim`.

usage: profile_padim.py [BACKBONE] [THREADS] [REPS]   (defaults: resnet18 2 3)
Same shapes as the models benchmark (16 + 16 standard-normal images, 256 px, batch 8), random torchvision weights,
a seeded channel subset; prints each phase's best time over REPS fits and predicts. A diagnosis tool: the ratios in
BENCHMARKS.md come from the models benchmark.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "..", "..", "tests", "Farm.Engine.Tests", "Reference")]

import torch  # noqa: E402
import torchvision  # noqa: E402

import bench_models as bm  # noqa: E402


def main():
    arch = sys.argv[1] if len(sys.argv) > 1 else "resnet18"
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    channels, total = (100, 448) if arch == "resnet18" else (550, 1792)
    model = getattr(torchvision.models, arch)().eval()
    train, test = torch.randn(16, 3, 256, 256), torch.randn(16, 3, 256, 256)
    padim = bm.Padim(model, {"index": torch.randperm(total)[:channels].sort().values}, 256)
    best = {}

    def timed(name, work):
        start = time.perf_counter()
        result = work()
        times[name] = times.get(name, 0.0) + time.perf_counter() - start
        return result

    with torch.no_grad():
        bm.taps(model, test[:1], [1, 2, 3])
        for _ in range(reps):
            times = {}
            e = torch.cat([timed("fit: backbone + embedding", lambda b=b: padim.embed(b)) for b in train.split(8)])
            n, c, h, w = e.shape
            x = e.reshape(n, c, h * w).permute(2, 0, 1)
            mean = timed("fit: mean", lambda: x.mean(1))

            def covariance():
                centred = x - mean[:, None]
                cov = torch.bmm(centred.transpose(1, 2), centred).div_(n - 1)
                cov += 0.01 * torch.eye(c)
                return cov

            cov = timed("fit: covariance", covariance)
            padim.inv = timed("fit: inverse", lambda: torch.linalg.inv(cov))
            padim.mean, padim.grid = mean, (h, w)
            for part in test.split(8):
                emb = timed("predict: backbone + embedding", lambda: padim.embed(part))
                b = emb.shape[0]

                def mahalanobis():
                    delta = emb.reshape(b, c, -1).permute(2, 1, 0) - padim.mean[:, :, None]
                    return (torch.bmm(padim.inv, delta) * delta).sum(1).clamp(min=0).sqrt()

                d = timed("predict: Mahalanobis", mahalanobis)
                timed("predict: upsample + blur", lambda: bm.upsample_blur(d.t().reshape(b, 1, h, w), 256))
            print("run:", "; ".join(f"{k} {v:.3f}" for k, v in times.items()))
            for k, v in times.items():
                best[k] = min(best.get(k, v), v)
    print(f"# python padim {arch} 256 px, 16 + 16 images, batch 8, {torch.get_num_threads()} torch threads; best of {reps} per phase")
    for k, v in best.items():
        print(f"{k:40} {v:8.3f} s")


if __name__ == "__main__":
    main()
