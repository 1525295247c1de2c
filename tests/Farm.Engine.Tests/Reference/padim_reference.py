"""PaDiM reference (protocols.md) with torch ops: torchvision resnet18 features in float32, statistics, distances,
upsampling and blur in float64.

usage: padim_reference.py WEIGHTS DATA OUTPUT [LAYERS]
LAYERS: comma-separated backbone layers, default 1,2,3; the first sets the grid.
DATA holds train [N, 3, S, S], test [M, 3, S, S] (preprocessed, F32) and index [C] (I64, channel subset).
OUTPUT gets maps [M, S, S] and scores [M] (F64).
"""
import sys

import torch
import torch.nn.functional as F
import torchvision

import st_io


def embed(model, x, index, layers):
    with torch.no_grad():
        h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        outputs = []
        for block in (model.layer1, model.layer2, model.layer3, model.layer4):
            h = block(h)
            outputs.append(h)
    taps = [outputs[layer - 1] for layer in layers]
    grid = taps[0].shape[-2:]
    e = torch.cat([taps[0]] + [F.interpolate(t, size=grid, mode="nearest") for t in taps[1:]], 1)
    return e.double()[:, index]


def blur(x, sigma=4.0):
    size = 2 * int(4 * sigma + 0.5) + 1
    coords = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-coords ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    pad = size // 2
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    return F.conv2d(padded, torch.outer(g, g)[None, None])


def main():
    weights, data, output = sys.argv[1:4]
    layers = [int(layer) for layer in sys.argv[4].split(",")] if len(sys.argv) > 4 else [1, 2, 3]
    model = torchvision.models.resnet18().eval()
    missing, unexpected = model.load_state_dict(st_io.load(weights), strict=False)
    assert not unexpected and all(k.startswith("fc.") or k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    tensors = st_io.load(data)
    train, test, index = tensors["train"], tensors["test"], tensors["index"]
    size = train.shape[-1]

    e = embed(model, train, index, layers)                       # [N, C, h, w]
    n, c, h, w = e.shape
    x = e.reshape(n, c, h * w).permute(2, 0, 1)           # [P, N, C]
    mean = x.mean(1)                                      # [P, C]
    centred = x - mean[:, None]
    cov = centred.transpose(1, 2) @ centred / (n - 1) + 0.01 * torch.eye(c, dtype=torch.float64)
    inv = torch.linalg.inv(cov)                           # [P, C, C]

    t = embed(model, test, index, layers)
    m = t.shape[0]
    delta = t.reshape(m, c, h * w).permute(2, 0, 1) - mean[:, None]   # [P, M, C]
    d2 = torch.einsum("pmc,pcd,pmd->pm", delta, inv, delta)
    dist = d2.clamp(min=0).sqrt().t().reshape(m, 1, h, w)
    up = F.interpolate(dist, size=(size, size), mode="bilinear", align_corners=False)
    maps = blur(up)[:, 0]
    st_io.save(output, {"maps": maps, "scores": maps.reshape(m, -1).max(1).values})


if __name__ == "__main__":
    main()
