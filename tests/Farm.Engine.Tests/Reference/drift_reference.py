"""Single drift transforms with torchvision.transforms.functional, on float images in [0, 1].

usage: drift_reference.py OP INPUT OUTPUT WIDTH HEIGHT VALUE
  OP: blur (VALUE = sigma, kernel 7), rotate (VALUE = degrees), brightness, contrast, saturation (VALUE = factor)
  INPUT: raw uint8 H x W x 3; OUTPUT: raw little-endian float32 3 x H x W.
"""
import sys

import numpy as np
import torch
import torchvision.transforms.functional as TF
from torchvision.transforms import InterpolationMode


def main():
    op, source, target, width, height, value = sys.argv[1:7]
    width, height, value = int(width), int(height), float(value)
    pixels = np.fromfile(source, dtype=np.uint8).reshape(height, width, 3)
    image = torch.from_numpy(pixels.copy()).permute(2, 0, 1).float() / 255
    if op == "blur":
        out = TF.gaussian_blur(image, [7, 7], [value, value])
    elif op == "rotate":
        out = TF.rotate(image, value, interpolation=InterpolationMode.BILINEAR)
    elif op == "brightness":
        out = TF.adjust_brightness(image, value)
    elif op == "contrast":
        out = TF.adjust_contrast(image, value)
    elif op == "saturation":
        out = TF.adjust_saturation(image, value)
    else:
        raise SystemExit(f"unknown op {op}")
    out.contiguous().numpy().astype("<f4").tofile(target)


if __name__ == "__main__":
    main()
