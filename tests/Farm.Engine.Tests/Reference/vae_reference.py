"""Attention VAE reference (Liu et al., CVPR 2020) in plain PyTorch: one Adam step, then the anomaly attention maps.

usage: vae_reference.py WEIGHTS DATA OUTPUT
WEIGHTS: the initial state dict (encoder.{i}, hidden, mu, logvar, decoder_input.{0,1}, decoder.{i}); the layer sizes are
read from it, and its dtype (F32 or F64) is the dtype everything runs in. DATA holds train [B, 3, S, S]
(ImageNet-normalised, F32), epsilon [B, n] (the reparameterisation noise of that step), test [M, 3, S, S] and lr [1].
OUTPUT gets loss [1] (F64, the loss of the step), every parameter after the step (same names), maps_initial [M, S, S]
(the attention of the initial weights), and maps [M, S, S] and scores [M] (the attention after the step).
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

import st_io

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


class ConvVae(nn.Module):
    """Encoder convs (4x4, stride 2, pad 1) with ReLU, fully connected head, mirrored transposed-conv decoder."""

    def __init__(self, state, size):
        super().__init__()
        depth = sum(1 for k in state if k.startswith("encoder.") and k.endswith(".weight"))
        enc = [state[f"encoder.{i}.weight"].shape for i in range(depth)]
        self.encoder = nn.ModuleList(nn.Conv2d(s[1], s[0], 4, 2, 1) for s in enc)
        hidden, flat = state["hidden.weight"].shape
        latent = state["mu.weight"].shape[0]
        self.hidden = nn.Linear(flat, hidden)
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.decoder_input = nn.ModuleList([nn.Linear(latent, hidden), nn.Linear(hidden, flat)])
        dec = [state[f"decoder.{i}.weight"].shape for i in range(depth)]
        self.decoder = nn.ModuleList(nn.ConvTranspose2d(s[0], s[1], 4, 2, 1) for s in dec)
        self.size = size
        self.to(state["hidden.weight"].dtype)  # before loading: load_state_dict casts to the parameters' dtype
        self.load_state_dict(state, strict=True)

    def features(self, x):
        for i, conv in enumerate(self.encoder):
            x = conv(x if i == 0 else F.relu(x))
        return x

    def head(self, f):
        h = F.relu(self.hidden(torch.flatten(F.relu(f), 1)))
        return self.mu(h), self.logvar(h)

    def decode(self, z, grid_channels, grid):
        h = F.relu(self.decoder_input[1](F.relu(self.decoder_input[0](z))))
        h = h.view(z.shape[0], grid_channels, grid, grid)
        for i, deconv in enumerate(self.decoder):
            h = deconv(h if i == 0 else F.relu(h))
        if h.shape[-1] != self.size:
            h = F.interpolate(h, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return h

    def loss(self, x, eps):
        x = x.to(self.hidden.weight.dtype)
        f = self.features(x)
        mu, logvar = self.head(f)
        z = mu + eps * torch.exp(0.5 * logvar)
        recon = torch.sigmoid(self.decode(z, f.shape[1], f.shape[-1]))
        target = (x * STD.to(x.dtype) + MEAN.to(x.dtype)).clamp(0, 1)
        bce = F.binary_cross_entropy(recon, target, reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (bce + kld) / x.shape[0]

    def attention(self, x):
        """Per latent dimension i: alpha = spatial mean of d mu_i / dF, M_i = ReLU(sum_k alpha_k F_k); mean over i."""
        f = self.features(x.to(self.hidden.weight.dtype))
        mu, _ = self.head(f)
        maps = []
        for i in range(mu.shape[1]):
            (grad,) = torch.autograd.grad(mu[:, i].sum(), f, retain_graph=True)
            alpha = grad.mean(dim=(2, 3), keepdim=True)
            maps.append(F.relu((alpha * f).sum(1, keepdim=True)))
        m = torch.stack(maps).mean(0).detach()
        return F.interpolate(m, size=(self.size, self.size), mode="bilinear", align_corners=False)[:, 0]


def main():
    weights, data, output = sys.argv[1:4]
    state = st_io.load(weights)
    tensors = st_io.load(data)
    train, eps, test = tensors["train"], tensors["epsilon"], tensors["test"]
    model = ConvVae(state, train.shape[-1])
    maps_initial = model.attention(test)
    optimizer = torch.optim.Adam(model.parameters(), lr=float(tensors["lr"][0]))
    optimizer.zero_grad()
    loss = model.loss(train, eps.to(state["hidden.weight"].dtype))
    loss.backward()
    optimizer.step()
    maps = model.attention(test)
    out = {name: p.detach().clone() for name, p in model.named_parameters()}
    out["loss"] = loss.detach().double().view(1)
    out["maps_initial"] = maps_initial
    out["maps"] = maps
    out["scores"] = maps.flatten(1).max(1).values
    st_io.save(output, out)


if __name__ == "__main__":
    main()
