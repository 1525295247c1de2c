"""torchvision ResNet reference: load weights written by the C# side, return layer taps.

usage: resnet_reference.py features ARCH WEIGHTS INPUT OUTPUT
       resnet_reference.py keys ARCH          (prints {key: shape} of torchvision's state dict as JSON)
ARCH: resnet18 | wide_resnet50_2 | bottleneck:B1,B2,B3,B4:WIDTH  (torchvision ResNet(Bottleneck, [...], width_per_group=WIDTH))
"""
import json
import sys

import torch
import torchvision
from torchvision.models.resnet import Bottleneck, ResNet

import st_io


def build(arch):
    if arch == "resnet18":
        return torchvision.models.resnet18()
    if arch == "wide_resnet50_2":
        return torchvision.models.wide_resnet50_2()
    if arch.startswith("bottleneck:"):
        _, blocks, width = arch.split(":")
        return ResNet(Bottleneck, [int(b) for b in blocks.split(",")], width_per_group=int(width))
    raise SystemExit("unknown arch " + arch)


def main():
    mode, arch = sys.argv[1], sys.argv[2]
    torch.manual_seed(0)
    model = build(arch).eval()
    if mode == "keys":
        print(json.dumps({k: list(v.shape) for k, v in model.state_dict().items()}))
        return
    weights, inputs, output = sys.argv[3:6]
    state = st_io.load(weights)
    missing, unexpected = model.load_state_dict(state, strict=False)
    # The C# file holds no classifier, and may leave out layers it does not compare.
    present_layers = {k.split(".")[0] for k in state}
    bad_missing = [k for k in missing
                   if not k.startswith("fc.") and not k.endswith("num_batches_tracked") and k.split(".")[0] in present_layers]
    if unexpected or bad_missing:
        raise SystemExit(f"names do not match torchvision: unexpected={unexpected} missing={bad_missing}")
    x = st_io.load(inputs)["input"]
    taps = {}
    with torch.no_grad():
        h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        for i in range(1, 5):
            name = f"layer{i}"
            if name not in present_layers:
                break
            h = getattr(model, name)(h)
            taps[name] = h
    st_io.save(output, taps)


if __name__ == "__main__":
    main()
