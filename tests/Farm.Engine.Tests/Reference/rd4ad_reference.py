"""RD4AD reference (Deng & Li, CVPR 2022) in plain PyTorch: one training step, then anomaly maps. The student
(bottleneck and decoder) is built for resnet18 or wide_resnet50_2; this script's test uses resnet18, the benchmark
(benchmarks/Farm.Benchmarks/python/bench_trained.py) both.

usage: rd4ad_reference.py TEACHER STUDENT DATA OUTPUT
TEACHER: torchvision resnet18 weights. STUDENT: the initial bottleneck.* and decoder.* state (the names of the authors'
BN_layer and de_resnet18). DATA: train [B, 3, S, S] (one batch) and test [M, 3, S, S], float32. For float32 and float64 (prefixes f32. and f64.): the student in training mode takes one Adam step
(lr 0.005, betas (0.5, 0.999)) on the batch's loss; OUTPUT gets the loss, the student's state after the step
(state.<name>), and, in eval mode, the test images' anomaly maps [M, S, S] (the scales' distances added; multiply_maps:
multiplied) and scores [M].
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck

import st_io


# Per teacher: (block kind, channel expansion, blocks of the bottleneck's stage, blocks of decoder layers 1-3,
# width_per_group), as the authors' resnet18()/wide_resnet50_2() and de_resnet18()/de_wide_resnet50_2() build them.
ARCHITECTURES = {
    "resnet18": ("basic", 1, 2, (2, 2, 2), 64),
    "wide_resnet50_2": ("bottleneck", 4, 3, (3, 4, 6), 128),
}


class OneClassEmbedding(nn.Module):
    """layer1 and layer2 strided down to layer3's grid, concatenated with layer3, then one strided ResNet stage."""

    def __init__(self, arch):
        super().__init__()
        kind, e, blocks, _, width = ARCHITECTURES[arch]
        self.conv1 = nn.Conv2d(64 * e, 128 * e, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(128 * e)
        self.conv2 = nn.Conv2d(128 * e, 256 * e, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(256 * e)
        self.conv3 = nn.Conv2d(128 * e, 256 * e, 3, 2, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(256 * e)
        shortcut = nn.Sequential(nn.Conv2d(768 * e, 512 * e, 1, 2, bias=False), nn.BatchNorm2d(512 * e))
        if kind == "basic":
            stage = [BasicBlock(768, 512, 2, shortcut)] + [BasicBlock(512, 512) for _ in range(blocks - 1)]
        else:
            stage = [Bottleneck(768 * e, 512, 2, shortcut, base_width=width)]
            stage += [Bottleneck(512 * e, 512, base_width=width) for _ in range(blocks - 1)]
        self.bn_layer = nn.Sequential(*stage)

    def forward(self, f):
        a = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(f[0]))))))
        b = F.relu(self.bn3(self.conv3(f[1])))
        return self.bn_layer(torch.cat([a, b, f[2]], 1))


def up_or_same(cin, cout, up):
    """The 2x2 stride-2 transposed conv of an upsampling block, else a 3x3 conv keeping the size."""
    return nn.ConvTranspose2d(cin, cout, 2, 2, bias=False) if up else nn.Conv2d(cin, cout, 3, 1, 1, bias=False)


class UpBasic(nn.Module):
    """A reversed basic block."""

    def __init__(self, cin, planes, up, width):
        super().__init__()
        self.conv1 = up_or_same(cin, planes, up)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.upsample = nn.Sequential(nn.ConvTranspose2d(cin, planes, 2, 2, bias=False), nn.BatchNorm2d(planes)) if up else None

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (self.upsample(x) if self.upsample is not None else x))


class UpBottleneck(nn.Module):
    """A reversed bottleneck block: 1x1, then the upsampling (or 3x3) conv, then 1x1 to 4 x planes."""

    def __init__(self, cin, planes, up, width):
        super().__init__()
        inner = planes * width // 64
        self.conv1 = nn.Conv2d(cin, inner, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(inner)
        self.conv2 = up_or_same(inner, inner, up)
        self.bn2 = nn.BatchNorm2d(inner)
        self.conv3 = nn.Conv2d(inner, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.upsample = nn.Sequential(nn.ConvTranspose2d(cin, planes * 4, 2, 2, bias=False), nn.BatchNorm2d(planes * 4)) if up else None

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (self.upsample(x) if self.upsample is not None else x))


class Decoder(nn.Module):
    def __init__(self, arch):
        super().__init__()
        kind, e, _, blocks, width = ARCHITECTURES[arch]
        block = UpBasic if kind == "basic" else UpBottleneck
        cin = 512 * e
        for i, planes in enumerate((256, 128, 64)):
            layer = [block(cin, planes, True, width)] + [block(planes * e, planes, False, width) for _ in range(blocks[i] - 1)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*layer))
            cin = planes * e

    def forward(self, x):
        a = self.layer1(x)
        b = self.layer2(a)
        c = self.layer3(b)
        return [c, b, a]


class Student(nn.Module):
    def __init__(self, arch="resnet18"):
        super().__init__()
        self.bottleneck = OneClassEmbedding(arch)
        self.decoder = Decoder(arch)

    def forward(self, f):
        return self.decoder(self.bottleneck(f))


def taps(model, x):
    with torch.no_grad():
        h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        f1 = model.layer1(h)
        f2 = model.layer2(f1)
        return [f1, f2, model.layer3(f2)]


def blur(x, sigma=4.0):
    size = 2 * int(4 * sigma + 0.5) + 1
    coords = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-coords ** 2 / (2 * sigma ** 2))
    g = (g / g.sum()).to(x.dtype)
    pad = size // 2
    return F.conv2d(F.pad(x, (pad, pad, pad, pad), mode="reflect"), torch.outer(g, g)[None, None])


def run(teacher_state, student_state, train, test, dtype):
    teacher = torchvision.models.resnet18()
    missing, unexpected = teacher.load_state_dict(teacher_state, strict=False)
    assert not unexpected and all(k.startswith("fc.") for k in missing), (missing, unexpected)
    teacher = teacher.to(dtype).eval()
    student = Student()
    student.load_state_dict(student_state, strict=True)
    student = student.to(dtype).train()
    optimiser = torch.optim.Adam(student.parameters(), lr=0.005, betas=(0.5, 0.999))

    t = taps(teacher, train.to(dtype))
    s = student(t)
    n = train.shape[0]
    loss = sum(torch.mean(1 - F.cosine_similarity(a.reshape(n, -1), b.reshape(n, -1), dim=1)) for a, b in zip(t, s))
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()

    student.eval()
    with torch.no_grad():
        t = taps(teacher, test.to(dtype))
        s = student(t)
        size = test.shape[-1]
        distances = [F.interpolate((1 - F.cosine_similarity(a, b, dim=1))[:, None], size=(size, size), mode="bilinear",
                                   align_corners=True) for a, b in zip(t, s)]
        maps = blur(distances[0] + distances[1] + distances[2])[:, 0]
        product = blur(distances[0] * distances[1] * distances[2])[:, 0]
    prefix = "f32." if dtype == torch.float32 else "f64."
    out = {prefix + "loss": loss.detach().reshape(1), prefix + "maps": maps, prefix + "scores": maps.flatten(1).max(1).values,
           prefix + "multiply_maps": product}
    for name, value in student.state_dict().items():
        out[prefix + "state." + name] = value
    return out


def main():
    teacher_path, student_path, data_path, output = sys.argv[1:5]
    torch.set_num_threads(1)
    teacher_state = st_io.load(teacher_path)
    student_state = st_io.load(student_path)
    data = st_io.load(data_path)
    out = {}
    for dtype in (torch.float32, torch.float64):
        out.update(run(teacher_state, student_state, data["train"], data["test"], dtype))
    st_io.save(output, out)


if __name__ == "__main__":
    main()
