"""DRAEM's building blocks in plain numpy/PyTorch, written from the formulas (DRAEM's loss.py and perlin.py define them).

usage: draem_components_reference.py DATA OUTPUT
DATA: a, b [B, C, H, W] (SSIM inputs, F64); probabilities [B, K, H, W] and target [B, 1, H, W] (focal loss, F64);
perlin_angles_{i} [resY + 1, resX + 1] with perlin_size_{i} [2] (height, width; I64) for i = 0, 1, ...
OUTPUT: ssim_map, ssim (mean), focal, perlin_{i} (F64).
"""
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

import st_io


def ssim(a, b, window=11, sigma=1.5, data_range=1.0):
    x = torch.arange(window, dtype=torch.float64) - window // 2
    g = torch.exp(-x ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    w = (g[:, None] * g[None, :]).expand(a.shape[1], 1, window, window).to(a.dtype)

    def local(t):
        return F.conv2d(t, w, padding=window // 2, groups=a.shape[1])

    mu_a, mu_b = local(a), local(b)
    var_a = local(a * a) - mu_a ** 2
    var_b = local(b * b) - mu_b ** 2
    cov = local(a * b) - mu_a * mu_b
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    return ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))


def focal(p, target, gamma=2.0, smooth=1e-5):
    k = p.shape[1]
    flat = p.permute(0, 2, 3, 1).reshape(-1, k)
    idx = target.reshape(-1).long()
    one_hot = torch.zeros_like(flat).scatter_(1, idx[:, None], 1.0).clamp(smooth / (k - 1), 1.0 - smooth)
    pt = (one_hot * flat).sum(1) + smooth
    return (-(1 - pt) ** gamma * torch.log(pt)).mean()


def perlin(shape, angles):
    """DRAEM's rand_perlin_2d_np with the gradient angles given instead of drawn."""
    res = (angles.shape[0] - 1, angles.shape[1] - 1)
    delta = (res[0] / shape[0], res[1] / shape[1])
    d = (shape[0] // res[0], shape[1] // res[1])
    grid = np.mgrid[0:res[0]:delta[0], 0:res[1]:delta[1]].transpose(1, 2, 0) % 1
    gradients = np.stack((np.cos(angles), np.sin(angles)), axis=-1)

    def tile(rows, cols):
        return np.repeat(np.repeat(gradients[rows[0]:rows[1], cols[0]:cols[1]], d[0], axis=0), d[1], axis=1)

    def dot(grad, shift):
        offsets = np.stack((grid[:shape[0], :shape[1], 0] + shift[0], grid[:shape[0], :shape[1], 1] + shift[1]), axis=-1)
        return (offsets * grad[:shape[0], :shape[1]]).sum(axis=-1)

    def fade(t):
        return 6 * t ** 5 - 15 * t ** 4 + 10 * t ** 3

    n00 = dot(tile([0, -1], [0, -1]), [0, 0])
    n10 = dot(tile([1, None], [0, -1]), [-1, 0])
    n01 = dot(tile([0, -1], [1, None]), [0, -1])
    n11 = dot(tile([1, None], [1, None]), [-1, -1])
    t = fade(grid[:shape[0], :shape[1]])

    def lerp(x, y, w):
        return (y - x) * w + x

    return math.sqrt(2) * lerp(lerp(n00, n10, t[..., 0]), lerp(n01, n11, t[..., 0]), t[..., 1])


def main():
    data, output = sys.argv[1:3]
    t = st_io.load(data)
    out = {}
    m = ssim(t["a"], t["b"])
    out["ssim_map"] = m
    out["ssim"] = m.mean().view(1)
    out["focal"] = focal(t["probabilities"], t["target"]).view(1)
    i = 0
    while f"perlin_angles_{i}" in t:
        h, w = (int(v) for v in t[f"perlin_size_{i}"])
        out[f"perlin_{i}"] = torch.from_numpy(perlin((h, w), t[f"perlin_angles_{i}"].numpy()))
        i += 1
    st_io.save(output, out)


if __name__ == "__main__":
    main()
