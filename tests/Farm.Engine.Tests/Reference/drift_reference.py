"""Single drift transforms with torchvision.transforms.functional, on float images in [0, 1].

usage: drift_reference.py OP INPUT OUTPUT WIDTH HEIGHT VALUE...
  OP: blur (sigma, kernel 7), rotate (degrees), brightness, contrast, saturation (factor),
      crop (top left height width, resized back bilinearly), perspective (8 end-point coordinates x0 y0 ... x3 y3 for
      the corners top-left, top-right, bottom-right, bottom-left)
  INPUT: raw uint8 H x W x 3; OUTPUT: raw little-endian float32 3 x H x W.
"""
import sys

import numpy as np
import torch
import torchvision.transforms.functional as TF
from torchvision.transforms import InterpolationMode


def main():
    op, source, target, width, height = sys.argv[1:6]
    width, height = int(width), int(height)
    values = [float(v) for v in sys.argv[6:]]
    value = values[0]
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
    elif op == "crop":
        top, left, h, w = (int(v) for v in values)
        out = TF.resized_crop(image, top, left, h, w, [height, width], InterpolationMode.BILINEAR, antialias=False)
    elif op == "perspective":
        start = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
        end = [[values[2 * i], values[2 * i + 1]] for i in range(4)]
        out = TF.perspective(image, start, end, InterpolationMode.BILINEAR)
    else:
        raise SystemExit(f"unknown op {op}")
    out.contiguous().numpy().astype("<f4").tofile(target)


if __name__ == "__main__":
    main()
