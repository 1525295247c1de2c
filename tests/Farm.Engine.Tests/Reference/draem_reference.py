"""DRAEM reference in plain PyTorch (the official architecture, loss and optimiser): one Adam step, then the maps.

usage: draem_reference.py WEIGHTS DATA OUTPUT
WEIGHTS: the initial state dict (reconstructive.*, discriminative.*; the official sub-networks' names); base widths are
read from it and its dtype is the dtype everything runs in. DATA: target, augmented [B, 3, S, S] and mask [B, 1, S, S]
(one simulated training batch in [0, 1]), test [M, 3, S, S] (ImageNet-normalised), lr [1].
OUTPUT: loss [1] (F64), every parameter and batch-norm running statistic after the step (same names), maps [M, S, S]
(softmax anomaly channel, eval mode) and scores [M] (max of the 21x21 average-pooled map).
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

import draem_components_reference as components
import st_io

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def block(cin, mid, cout):
    return nn.Sequential(nn.Conv2d(cin, mid, 3, padding=1), nn.BatchNorm2d(mid), nn.ReLU(),
                         nn.Conv2d(mid, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


def up(cin, cout):
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
                         nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class Encoder(nn.Module):
    def __init__(self, cin, w, blocks):
        super().__init__()
        widths = [w, 2 * w, 4 * w, 8 * w, 8 * w, 8 * w][:blocks]
        prev = cin
        for i, width in enumerate(widths):
            setattr(self, f"block{i + 1}", block(prev, width, width))
            prev = width
        self.blocks = blocks

    def forward(self, x):
        outs = [self.block1(x)]
        for i in range(2, self.blocks + 1):
            outs.append(getattr(self, f"block{i}")(F.max_pool2d(outs[-1], 2)))
        return outs


class ReconstructiveDecoder(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.up1, self.db1 = up(8 * w, 8 * w), block(8 * w, 8 * w, 4 * w)
        self.up2, self.db2 = up(4 * w, 4 * w), block(4 * w, 4 * w, 2 * w)
        self.up3, self.db3 = up(2 * w, 2 * w), block(2 * w, 2 * w, w)
        self.up4, self.db4 = up(w, w), block(w, w, w)
        self.fin_out = nn.Sequential(nn.Conv2d(w, 3, 3, padding=1))

    def forward(self, x):
        for u, d in ((self.up1, self.db1), (self.up2, self.db2), (self.up3, self.db3), (self.up4, self.db4)):
            x = d(u(x))
        return self.fin_out(x)


class DiscriminativeDecoder(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.up_b, self.db_b = up(8 * w, 8 * w), block(16 * w, 8 * w, 8 * w)
        self.up1, self.db1 = up(8 * w, 4 * w), block(12 * w, 4 * w, 4 * w)
        self.up2, self.db2 = up(4 * w, 2 * w), block(6 * w, 2 * w, 2 * w)
        self.up3, self.db3 = up(2 * w, w), block(3 * w, w, w)
        self.up4, self.db4 = up(w, w), block(2 * w, w, w)
        self.fin_out = nn.Sequential(nn.Conv2d(w, 2, 3, padding=1))

    def forward(self, b1, b2, b3, b4, b5, b6):
        x = self.db_b(torch.cat((self.up_b(b6), b5), 1))
        x = self.db1(torch.cat((self.up1(x), b4), 1))
        x = self.db2(torch.cat((self.up2(x), b3), 1))
        x = self.db3(torch.cat((self.up3(x), b2), 1))
        x = self.db4(torch.cat((self.up4(x), b1), 1))
        return self.fin_out(x)


class Reconstructive(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.encoder, self.decoder = Encoder(3, w, 5), ReconstructiveDecoder(w)

    def forward(self, x):
        return self.decoder(self.encoder(x)[-1])


class Discriminative(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.encoder_segment, self.decoder_segment = Encoder(6, w, 6), DiscriminativeDecoder(w)

    def forward(self, x):
        return self.decoder_segment(*self.encoder_segment(x))


class Draem(nn.Module):
    def __init__(self, state):
        super().__init__()
        self.reconstructive = Reconstructive(state["reconstructive.encoder.block1.0.weight"].shape[0])
        self.discriminative = Discriminative(state["discriminative.encoder_segment.block1.0.weight"].shape[0])
        self.to(state["reconstructive.encoder.block1.0.weight"].dtype)
        missing, unexpected = self.load_state_dict(state, strict=False)
        assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)

    def segment(self, rec, image):
        return self.discriminative(torch.cat((rec, image), 1))


def main():
    weights, data, output = sys.argv[1:4]
    state = st_io.load(weights)
    t = st_io.load(data)
    model = Draem(state)
    dtype = state["reconstructive.encoder.block1.0.weight"].dtype
    target, augmented, mask = t["target"].to(dtype), t["augmented"].to(dtype), t["mask"].to(dtype)
    optimizer = torch.optim.Adam(model.parameters(), lr=float(t["lr"][0]))
    model.train()
    optimizer.zero_grad()
    rec = model.reconstructive(augmented)
    probabilities = torch.softmax(model.segment(rec, augmented), dim=1)
    loss = (F.mse_loss(rec, target) + 1 - components.ssim(rec, target).mean()
            + components.focal(probabilities, mask))
    loss.backward()
    optimizer.step()

    model.eval()
    with torch.no_grad():
        image = (t["test"] * STD + MEAN).clamp(0, 1).to(dtype)
        rec = model.reconstructive(image)
        maps = torch.softmax(model.segment(rec, image), dim=1)[:, 1:]
        scores = F.avg_pool2d(maps, 21, stride=1, padding=10).flatten(1).max(1).values
    out = {name: value.detach().clone() for name, value in model.state_dict().items() if not name.endswith("num_batches_tracked")}
    out["loss"] = loss.detach().double().view(1)
    out["maps"] = maps[:, 0]
    out["scores"] = scores
    st_io.save(output, out)


if __name__ == "__main__":
    main()
