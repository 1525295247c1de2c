"""Preprocessing, mask-resize and blur references with torch ops.

usage: preprocess_reference.py images INPUT OUTPUT SIZE   (INPUT: image0..imageN as [H, W, 3] values 0..255, F32)
       preprocess_reference.py masks INPUT OUTPUT SIZE    (INPUT: mask0..maskN as [H, W] 0/1, F32)
       preprocess_reference.py blur INPUT OUTPUT SIGMA    (INPUT: map [B, C, H, W] F32)
"""
import sys

import torch
import torch.nn.functional as F

import st_io

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def ordered(tensors, prefix):
    return [tensors[f"{prefix}{i}"] for i in range(len(tensors))]


def images(tensors, size):
    out = []
    for image in ordered(tensors, "image"):
        x = image.to(torch.uint8).permute(2, 0, 1).unsqueeze(0).float()
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=False)
        out.append(x)
    batch = torch.cat(out) / 255.0
    return {"batch": (batch - MEAN) / STD}


def masks(tensors, size):
    out = {}
    for i, mask in enumerate(ordered(tensors, "mask")):
        resized = F.interpolate(mask[None, None], size=(size, size), mode="nearest")
        out[f"mask{i}"] = resized[0, 0]
    return out


def blur(tensors, sigma):
    x = tensors["map"].double()
    size = 2 * int(4 * sigma + 0.5) + 1
    coords = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-coords ** 2 / (2 * sigma ** 2))
    g = g / g.sum()
    kernel = torch.outer(g, g)[None, None]
    b, c, h, w = x.shape
    pad = size // 2
    padded = F.pad(x.reshape(b * c, 1, h, w), (pad, pad, pad, pad), mode="reflect")
    return {"blurred": F.conv2d(padded, kernel).reshape(b, c, h, w)}


def main():
    mode, source, target, arg = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    tensors = st_io.load(source)
    if mode == "images":
        result = images(tensors, int(arg))
    elif mode == "masks":
        result = masks(tensors, int(arg))
    elif mode == "blur":
        result = blur(tensors, float(arg))
    else:
        raise SystemExit("unknown mode " + mode)
    st_io.save(target, result)


if __name__ == "__main__":
    main()
