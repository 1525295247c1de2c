"""Plain PyTorch PaDiM and PatchCore (float32, batched, as anomalib computes them) timed on the inputs Farm times.

usage: bench_models.py MODEL BACKBONE WEIGHTS DATA EXTRA BATCH THREADS [STATS] [DEVICE]
DATA holds train and test (preprocessed, F32). EXTRA holds what Farm chose, so that both do the same work: PaDiM's
channel index; PatchCore's projection, first (start index), ratio and neighbors. STATS (PaDiM only): float32 (default,
anomalib's arithmetic) or float64 (mean, covariance and inverse in float64, stored as float32: Farm's default
arithmetic). DEVICE: cpu (default) or cuda[:N]; inputs arrive as CPU batches and maps and scores go back to the CPU,
as on the Farm side. Prints one JSON line: fit_s, predict_s, threads, peak_rss_mb and, on a GPU, gpu_memory_mb (the
process's memory on the GPU as nvidia-smi reports it after predict: CUDA context and allocator cache included).
"""
import json
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

import st_io
from patchcore_reference import k_center


def taps(model, x, layers):
    out = {}
    h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    for i in range(1, max(layers) + 1):
        h = getattr(model, f"layer{i}")(h)
        if i in layers:
            out[i] = h
    return [out[i] for i in layers]


def blur(x, sigma=4.0):
    size = 2 * int(4 * sigma + 0.5) + 1
    coords = torch.arange(size, dtype=torch.float32, device=x.device) - size // 2
    g = torch.exp(-coords ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    pad = size // 2
    x = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    return F.conv2d(F.conv2d(x, g.view(1, 1, 1, size)), g.view(1, 1, size, 1))


def upsample_blur(scores, size):
    return blur(F.interpolate(scores, size=(size, size), mode="bilinear", align_corners=False))


class Padim:
    # Positions per float64 chunk: Wide-ResNet-50-2's [4096, 550, 550] covariances would take 9.9 GB per copy in float64.
    CHUNK = 512

    def __init__(self, model, extra, size, stats="float32"):
        self.model, self.index, self.size, self.stats = model, extra["index"], size, stats

    def embed(self, x):
        l1, l2, l3 = taps(self.model, x, [1, 2, 3])
        grid = l1.shape[-2:]
        e = torch.cat([l1, F.interpolate(l2, size=grid, mode="nearest"), F.interpolate(l3, size=grid, mode="nearest")], 1)
        return e.index_select(1, self.index)

    def fit(self, batches):
        e = torch.cat([self.embed(b) for b in batches])          # [N, C, h, w]
        n, c, h, w = e.shape
        x = e.reshape(n, c, h * w).permute(2, 0, 1)             # [P, N, C]
        self.grid = (h, w)
        if self.stats == "float64":
            self.mean = torch.empty(h * w, c, device=e.device)
            self.inv = torch.empty(h * w, c, c, device=e.device)
            eye = torch.eye(c, dtype=torch.float64, device=e.device)
            for start in range(0, h * w, self.CHUNK):
                part = x[start:start + self.CHUNK].double()
                mean = part.mean(1)
                centred = part - mean[:, None]
                cov = torch.bmm(centred.transpose(1, 2), centred).div_(n - 1) + 0.01 * eye
                self.mean[start:start + self.CHUNK] = mean
                self.inv[start:start + self.CHUNK] = torch.linalg.inv(cov)
            return
        self.mean = x.mean(1)                                    # [P, C]
        centred = x - self.mean[:, None]
        cov = torch.bmm(centred.transpose(1, 2), centred).div_(n - 1)
        cov += 0.01 * torch.eye(c, device=e.device)
        self.inv = torch.linalg.inv(cov)                         # [P, C, C]
        del cov

    def predict(self, x):
        e = self.embed(x)
        b, c = e.shape[:2]
        delta = e.reshape(b, c, -1).permute(2, 1, 0) - self.mean[:, :, None]    # [P, C, B]
        d = (torch.bmm(self.inv, delta) * delta).sum(1).clamp(min=0).sqrt()     # [P, B]
        maps = upsample_blur(d.t().reshape(b, 1, *self.grid), self.size)
        return maps, maps.reshape(b, -1).amax(1)


class PatchCore:
    def __init__(self, model, extra, size, stats=None):
        self.model, self.size = model, size
        self.projection, self.first = extra["projection"], int(extra["first"][0])
        self.ratio, self.k = float(extra["ratio"][0]), int(extra["neighbors"][0])

    def features(self, x):
        l2, l3 = taps(self.model, x, [2, 3])
        l2, l3 = F.avg_pool2d(l2, 3, 1, 1), F.avg_pool2d(l3, 3, 1, 1)
        e = torch.cat([l2, F.interpolate(l3, size=l2.shape[-2:], mode="bilinear", align_corners=False)], 1)
        self.grid = tuple(e.shape[-2:])
        return e.permute(0, 2, 3, 1).reshape(-1, e.shape[1])

    def fit(self, batches):
        f = torch.cat([self.features(b) for b in batches])
        n = f.shape[0]
        count = n if self.ratio >= 1 else max(1, int(n * self.ratio))
        self.bank = f if count == n else f[k_center(f @ self.projection, count, self.first)]

    @staticmethod
    def distances(a, b):
        # anomalib's euclidean_dist: ‖a‖² + ‖b‖² − 2ab, clamped, square root.
        return (a.pow(2).sum(1, keepdim=True) + b.pow(2).sum(1)[None] - 2 * a @ b.t()).clamp(min=0).sqrt()

    def predict(self, x):
        f = self.features(x)
        b, p = x.shape[0], self.grid[0] * self.grid[1]
        patch, nearest = self.distances(f, self.bank).min(1)
        patch, nearest = patch.reshape(b, p), nearest.reshape(b, p)
        s_star, worst = patch.max(1)
        rows = torch.arange(b, device=x.device)
        m_star = self.bank[nearest[rows, worst]]
        support = self.distances(m_star, self.bank).topk(min(self.k, self.bank.shape[0]), largest=False).indices
        d = (f.reshape(b, p, -1)[rows, worst][:, None] - self.bank[support]).pow(2).sum(2).sqrt()
        scores = (1 - torch.softmax(d, 1)[:, 0]) * s_star
        return upsample_blur(patch.reshape(b, 1, *self.grid), self.size), scores


def peak_rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def require_cuda(device):
    """Stops with one line when DEVICE asks for a GPU this PyTorch cannot use (bench_trained.py shares it)."""
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit(f"device {device}: this PyTorch ({torch.__version__}) has no CUDA (Debian's python3-torch is CPU-only; "
                 "pass --python with a CUDA build's interpreter)")


def gpu_memory_mb():
    """This process's memory on the GPUs, as nvidia-smi lists it (the same query the Farm side makes)."""
    out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                         capture_output=True, text=True, check=True).stdout
    rows = [line.split(",") for line in out.splitlines() if line.strip()]
    return float(sum(float(used) for pid, used in rows if int(pid) == os.getpid()))


def main():
    name, arch, weights, data, extra, batch, threads = sys.argv[1:8]
    stats = sys.argv[8] if len(sys.argv) > 8 else "float32"
    device = torch.device(sys.argv[9] if len(sys.argv) > 9 else "cpu")
    require_cuda(device)
    gpu = device.type == "cuda"
    batch, threads = int(batch), int(threads)
    torch.set_num_threads(threads)
    model = getattr(torchvision.models, arch)().eval()
    model.load_state_dict(st_io.load(weights), strict=False)
    model.to(device)
    tensors = st_io.load(data)
    train, test = tensors["train"], tensors["test"]
    shared = {key: value.to(device) for key, value in st_io.load(extra).items()}
    detector = {"padim": Padim, "patchcore": PatchCore}[name](model, shared, train.shape[-1], stats)

    def sync():
        if gpu:
            torch.cuda.synchronize(device)

    with torch.no_grad():
        taps(model, test[:1].to(device), [1, 2, 3])             # warm-up, as on the Farm side
        sync()
        start = time.perf_counter()
        detector.fit([part.to(device) for part in train.split(batch)])
        sync()
        fit = time.perf_counter() - start
        start = time.perf_counter()
        for part in test.split(batch):
            maps, scores = detector.predict(part.to(device))
            maps.cpu(), scores.cpu()                            # Farm's maps and scores leave as arrays
        predict = time.perf_counter() - start
    result = {"fit_s": fit, "predict_s": predict, "threads": torch.get_num_threads(), "peak_rss_mb": peak_rss_mb()}
    if gpu:
        result["gpu_memory_mb"] = gpu_memory_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
