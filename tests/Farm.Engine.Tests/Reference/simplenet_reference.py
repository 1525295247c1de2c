"""SimpleNet reference (Liu et al., CVPR 2023) in plain PyTorch: one training step, then anomaly maps.

usage: simplenet_reference.py BACKBONE MODULE DATA OUTPUT DIM
BACKBONE: torchvision resnet18 weights. MODULE: the initial adaptor.* and discriminator.* state. DATA: train [B, 3, S, S]
(one batch), noise [B*h*w, DIM] (the Gaussian noise of that batch's synthetic anomalous features) and test [M, 3, S, S],
float32. For float32 and float64 (prefixes f32. and f64.): the patch features of the batch (as the authors' code
builds them: 3x3 neighbourhoods unfolded per layer, layer3's resized to layer2's grid value by value, each layer's
flattened neighbourhood adaptive-average-pooled to DIM, both layers' vectors pooled to DIM), one step of AdamW
(adaptor, lr 1e-4, weight decay 0.01) and Adam (discriminator, lr 2e-4, weight decay 1e-5) on the truncated L1 loss
with margin 0.5; OUTPUT gets the loss, the features (features), the module state after the step (state.<name>), and in
eval mode the test images' maps [M, S, S] (minus the discriminator's score per patch, bilinear, blur sigma 4) and
scores [M] (the largest patch score).
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

import st_io


class Discriminator(nn.Module):
    def __init__(self, dim, hidden=1024):
        super().__init__()
        self.hidden = nn.Linear(dim, hidden)
        self.norm = nn.BatchNorm1d(hidden)
        self.tail = nn.Linear(hidden, 1, bias=False)

    def forward(self, x):
        return self.tail(F.leaky_relu(self.norm(self.hidden(x)), 0.2))[:, 0]


class Module(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.adaptor = nn.Linear(dim, dim)
        self.discriminator = Discriminator(dim)


def patch_features(model, x, dim):
    """The authors' order: unfold, resize the unfolded layer3 values to layer2's grid, pool each layer, pool both."""
    with torch.no_grad():
        h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        layer2 = model.layer2(model.layer1(h))
        layer3 = model.layer3(layer2)
    b, _, gh, gw = layer2.shape
    per_layer = []
    for feature in (layer2, layer3):
        c, fh, fw = feature.shape[1:]
        unfolded = F.unfold(feature, kernel_size=3, padding=1)                  # [B, C*9, fh*fw]
        values = unfolded.reshape(b, c * 9, fh, fw)
        if (fh, fw) != (gh, gw):
            values = F.interpolate(values, size=(gh, gw), mode="bilinear", align_corners=False)
        rows = values.permute(0, 2, 3, 1).reshape(b * gh * gw, 1, c * 9)
        per_layer.append(F.adaptive_avg_pool1d(rows, dim)[:, 0])               # [N, dim]
    stacked = torch.stack(per_layer, 1).reshape(b * gh * gw, 1, -1)
    return F.adaptive_avg_pool1d(stacked, dim)[:, 0], (gh, gw)


def blur(x, sigma=4.0):
    size = 2 * int(4 * sigma + 0.5) + 1
    coords = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-coords ** 2 / (2 * sigma ** 2))
    g = (g / g.sum()).to(x.dtype)
    pad = size // 2
    return F.conv2d(F.pad(x, (pad, pad, pad, pad), mode="reflect"), torch.outer(g, g)[None, None])


def run(backbone_state, module_state, train, noise, test, dim, dtype):
    model = torchvision.models.resnet18()
    missing, unexpected = model.load_state_dict(backbone_state, strict=False)
    assert not unexpected and all(k.startswith("fc.") for k in missing), (missing, unexpected)
    model = model.to(dtype).eval()
    module = Module(dim)
    module.load_state_dict(module_state, strict=True)
    module = module.to(dtype).train()
    adaptor_opt = torch.optim.AdamW(module.adaptor.parameters(), lr=1e-4, weight_decay=0.01)
    discriminator_opt = torch.optim.Adam(module.discriminator.parameters(), lr=2e-4, weight_decay=1e-5)

    features, _ = patch_features(model, train.to(dtype), dim)
    true_feats = module.adaptor(features)
    fake_feats = true_feats + noise.to(dtype)
    scores = module.discriminator(torch.cat([true_feats, fake_feats]))
    n = true_feats.shape[0]
    loss = torch.clip(-scores[:n] + 0.5, min=0).mean() + torch.clip(scores[n:] + 0.5, min=0).mean()
    adaptor_opt.zero_grad()
    discriminator_opt.zero_grad()
    loss.backward()
    adaptor_opt.step()
    discriminator_opt.step()

    module.eval()
    with torch.no_grad():
        test_features, (gh, gw) = patch_features(model, test.to(dtype), dim)
        patch_scores = -module.discriminator(module.adaptor(test_features)).reshape(test.shape[0], 1, gh, gw)
        size = test.shape[-1]
        maps = blur(F.interpolate(patch_scores, size=(size, size), mode="bilinear", align_corners=False))[:, 0]
    prefix = "f32." if dtype == torch.float32 else "f64."
    out = {prefix + "loss": loss.detach().reshape(1), prefix + "features": features, prefix + "maps": maps,
           prefix + "scores": patch_scores.flatten(1).max(1).values}
    for name, value in module.state_dict().items():
        out[prefix + "state." + name] = value
    return out


def main():
    backbone_path, module_path, data_path, output, dim = sys.argv[1:6]
    torch.set_num_threads(1)
    backbone_state = st_io.load(backbone_path)
    module_state = st_io.load(module_path)
    data = st_io.load(data_path)
    out = {}
    for dtype in (torch.float32, torch.float64):
        out.update(run(backbone_state, module_state, data["train"], data["noise"], data["test"], int(dim), dtype))
    st_io.save(output, out)


if __name__ == "__main__":
    main()
