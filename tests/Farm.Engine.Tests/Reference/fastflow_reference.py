"""FastFlow reference in plain PyTorch (Yu et al. 2021 as anomalib builds it), written from the method's equations:
torchvision resnet18 layer1..3 features, a LayerNorm over [C, H, W] per level, and per level a sequence of FrEIA-style
all-in-one coupling blocks (affine coupling with soft clamping, softplus global scaling, a fixed hard permutation
applied as a 1x1 convolution with a one-hot matrix, as FrEIA does).

usage: fastflow_reference.py BACKBONE FLOWS DATA OUTPUT CONFIG_JSON
BACKBONE: torchvision resnet18 state dict. FLOWS: the initial norms.* and flows.* tensors (C# names).
DATA: train [B, 3, S, S] and test [M, 3, S, S] (preprocessed, F32).
CONFIG_JSON: {"flow_steps", "conv3x3_only", "hidden_ratio", "clamp", "lr", "weight_decay", "float64"}; with float64
the backbone, flows and data are converted to float64 before anything runs.
OUTPUT: loss [1] (F64) of the training batch before the step; every parameter after one Adam step under its name;
maps [M, S, S] and scores [M] of the test batch after the step.
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

import st_io


class Coupling(nn.Module):
    def __init__(self, channels, kernel, hidden_ratio, clamp):
        super().__init__()
        self.len1 = channels - channels // 2
        self.len2 = channels // 2
        self.clamp = clamp
        hidden = int(self.len1 * hidden_ratio)
        self.subnet = nn.Sequential(
            nn.Conv2d(self.len1, hidden, kernel, padding=kernel // 2),
            nn.ReLU(),
            nn.Conv2d(hidden, 2 * self.len2, kernel, padding=kernel // 2))
        self.global_scale = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.global_offset = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.register_buffer("permutation", torch.zeros(channels, dtype=torch.int64))

    def forward(self, x):
        x1, x2 = x[:, :self.len1], x[:, self.len1:]
        a = 0.1 * self.subnet(x1)
        s = self.clamp * torch.tanh(a[:, :self.len2])
        y2 = x2 * torch.exp(s) + a[:, self.len2:]
        u = torch.cat([x1, y2], 1)
        gamma = 0.1 * (2.0 * torch.log1p(torch.exp(0.5 * self.global_scale)))   # 0.1 * softplus with beta 0.5
        c = x.shape[1]
        w = torch.zeros(c, c, dtype=x.dtype)
        w[torch.arange(c), self.permutation] = 1.0
        y = F.conv2d(u * gamma + self.global_offset, w[:, :, None, None])
        log_det = s.sum(dim=(1, 2, 3)) + x.shape[2] * x.shape[3] * torch.log(gamma).sum()
        return y, log_det


class Flow(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x):
        total = torch.zeros(x.shape[0], dtype=x.dtype)
        for block in self.blocks:
            x, log_det = block(x)
            total = total + log_det
        return x, total


class FastFlow(nn.Module):
    def __init__(self, levels, config):
        super().__init__()
        self.norms = nn.ModuleList([nn.LayerNorm([c, h, h]) for c, h in levels])
        self.flows = nn.ModuleList([
            Flow([Coupling(c, 1 if k % 2 == 1 and not config["conv3x3_only"] else 3, config["hidden_ratio"], config["clamp"])
                  for k in range(config["flow_steps"])])
            for c, _ in levels])

    def forward(self, features):
        outputs = [flow(norm(f)) for norm, flow, f in zip(self.norms, self.flows, features)]
        return [z for z, _ in outputs], [j for _, j in outputs]


def features(backbone, x):
    with torch.no_grad():
        h = backbone.maxpool(backbone.relu(backbone.bn1(backbone.conv1(x))))
        f1 = backbone.layer1(h)
        f2 = backbone.layer2(f1)
        f3 = backbone.layer3(f2)
    return [f1, f2, f3]


def main():
    backbone_path, flows_path, data_path, output, config_text = sys.argv[1:6]
    config = json.loads(config_text)
    backbone = torchvision.models.resnet18().eval()
    missing, unexpected = backbone.load_state_dict(st_io.load(backbone_path), strict=False)
    assert not unexpected and all(k.startswith("fc.") or k.endswith("num_batches_tracked") for k in missing)
    data = st_io.load(data_path)
    train, test = data["train"], data["test"]
    dtype = torch.float64 if config["float64"] else torch.float32
    backbone = backbone.to(dtype)
    train, test = train.to(dtype), test.to(dtype)
    size = train.shape[-1]

    train_features = features(backbone, train)
    model = FastFlow([(f.shape[1], f.shape[2]) for f in train_features], config)
    model = model.to(dtype)
    model.load_state_dict(st_io.load(flows_path), strict=True)
    model.train()

    optimizer = torch.optim.Adam(model.parameters(), lr=config["lr"], weight_decay=config["weight_decay"])
    optimizer.zero_grad()
    latents, log_dets = model(train_features)
    loss = sum(torch.mean(0.5 * torch.sum(z ** 2, dim=(1, 2, 3)) - j) for z, j in zip(latents, log_dets))
    loss.backward()
    optimizer.step()

    model.eval()
    with torch.no_grad():
        latents, _ = model(features(backbone, test))
        maps = []
        for z in latents:
            prob = torch.exp(-0.5 * torch.mean(z ** 2, dim=1, keepdim=True))
            maps.append(F.interpolate(-prob, size=(size, size), mode="bilinear", align_corners=False))
        anomaly = torch.stack(maps, -1).mean(-1)[:, 0]

    out = {"loss": torch.tensor([loss.item()], dtype=torch.float64), "maps": anomaly,
           "scores": anomaly.reshape(anomaly.shape[0], -1).max(1).values}
    for name, parameter in model.named_parameters():
        out["after." + name] = parameter.detach()
    st_io.save(output, out)


if __name__ == "__main__":
    main()
