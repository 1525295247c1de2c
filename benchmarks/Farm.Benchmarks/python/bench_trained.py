"""Plain-PyTorch training and scoring of the trained models that have a test reference, timed on the inputs and initial
weights Farm times. Each model is the tests' reference implementation (fastflow_reference.py, rd4ad_reference.py,
vae_reference.py, draem_reference.py, simplenet_reference.py), so both sides time what the parity tests compare, in
the loop Farm's trainer runs: per batch zero_grad, loss, backward, step; then scoring of the test images in batches.
DRAEM's side does the network work of a step on a fixed blended rectangle, without Farm's anomaly simulation (which
Farm's epochs include).

usage: bench_trained.py MODEL BACKBONE WEIGHTS DATA INITIAL BATCH EPOCHS THREADS [DEVICE]
MODEL: fastflow, rd4ad, vae, draem or simplenet. BACKBONE, WEIGHTS: the frozen torchvision backbone (RD4AD's teacher) and its weights;
'-' for models without one (vae). DATA holds train and test (preprocessed, F32). INITIAL: Farm's initial state of the
trained module (FastFlow's norms and flows; RD4AD's student, bottleneck.* and decoder.*; the whole VAE or DRAEM;
SimpleNet's adaptor and discriminator). DEVICE: cpu (default) or cuda[:N]: on a GPU every tensor the references
create is made there (torch.set_default_device, PyTorch 2.0 or later), batches are moved per step and scores come
back to the CPU, as on the Farm side.
Prints one JSON line: first_epoch_s, epoch_s (median of the epochs after the first), predict_s, images, threads,
peak_rss_mb (VmHWM) and, on a GPU, gpu_memory_mb (nvidia-smi, as bench_models.py).
"""
import json
import statistics
import sys
import time
from collections import namedtuple

import torch
import torch.nn.functional as F
import torchvision

from bench_models import gpu_memory_mb, require_cuda  # makes no tensors at import

DEVICE = torch.device(sys.argv[9] if len(sys.argv) > 9 else "cpu")
require_cuda(DEVICE)
if DEVICE.type == "cuda":
    if not hasattr(torch, "set_default_device"):
        sys.exit(f"device {DEVICE}: needs PyTorch 2.0 or later (torch.set_default_device), found {torch.__version__}")
    # Before the references are imported: their module-level constants are then made on the GPU too.
    torch.set_default_device(DEVICE)

import fastflow_reference  # noqa: E402  (after the default device, which the references' constants follow)
import rd4ad_reference
import st_io
import draem_components_reference
import draem_reference
import simplenet_reference
import vae_reference

# What the timed loop needs of a model: the module that trains, its optimiser, a batch's loss, a batch's image scores.
Setup = namedtuple("Setup", "module optimizer loss score")


def frozen_backbone(name, weights):
    backbone = getattr(torchvision.models, name)().eval()
    missing, unexpected = backbone.load_state_dict(st_io.load(weights), strict=False)
    assert not unexpected and all(k.startswith("fc.") or k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    for parameter in backbone.parameters():
        parameter.requires_grad_(False)
    return backbone


def fastflow(backbone_name, weights, initial, train):
    backbone = frozen_backbone(backbone_name, weights)
    levels = [(f.shape[1], f.shape[2]) for f in fastflow_reference.features(backbone, train[:1])]
    # Farm's defaults: 8 steps, 3x3 subnets except for wide_resnet50_2, hidden ratio 1, clamp 2; Adam lr 1e-3, wd 1e-5.
    config = {"flow_steps": 8, "conv3x3_only": backbone_name != "wide_resnet50_2", "hidden_ratio": 1.0, "clamp": 2.0}
    model = fastflow_reference.FastFlow(levels, config)
    model.load_state_dict(initial, strict=True)
    size = train.shape[-1]

    def loss(x):
        latents, log_dets = model(fastflow_reference.features(backbone, x))
        return sum(torch.mean(0.5 * torch.sum(z ** 2, dim=(1, 2, 3)) - j) for z, j in zip(latents, log_dets))

    def score(x):
        with torch.no_grad():
            latents, _ = model(fastflow_reference.features(backbone, x))
            maps = [F.interpolate(-torch.exp(-0.5 * torch.mean(z ** 2, dim=1, keepdim=True)), size=(size, size),
                                  mode="bilinear", align_corners=False) for z in latents]
            return torch.stack(maps, -1).mean(-1).amax(dim=(1, 2, 3))

    return Setup(model, torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5), loss, score)


def rd4ad(backbone_name, weights, initial, train):
    teacher = frozen_backbone(backbone_name, weights)
    student = rd4ad_reference.Student(backbone_name)
    student.load_state_dict(initial, strict=True)
    size = train.shape[-1]

    def loss(x):
        t = rd4ad_reference.taps(teacher, x)
        s = student(t)
        n = x.shape[0]
        return sum(torch.mean(1 - F.cosine_similarity(a.reshape(n, -1), b.reshape(n, -1), dim=1)) for a, b in zip(t, s))

    def score(x):
        with torch.no_grad():
            t = rd4ad_reference.taps(teacher, x)
            s = student(t)
            total = sum(F.interpolate((1 - F.cosine_similarity(a, b, dim=1))[:, None], size=(size, size),
                                      mode="bilinear", align_corners=True) for a, b in zip(t, s))
            return rd4ad_reference.blur(total).flatten(1).amax(1)

    return Setup(student, torch.optim.Adam(student.parameters(), lr=0.005, betas=(0.5, 0.999)), loss, score)


def vae(backbone_name, weights, initial, train):
    model = vae_reference.ConvVae(initial, train.shape[-1])
    latent = model.mu.weight.shape[0]

    def loss(x):
        return model.loss(x, torch.randn(x.shape[0], latent, device=x.device))

    def score(x):
        # The attention needs gradients of mu with respect to the features: no torch.no_grad here.
        return model.attention(x).flatten(1).amax(1)

    return Setup(model, torch.optim.Adam(model.parameters(), lr=1e-3), loss, score)


def draem(backbone_name, weights, initial, train):
    model = draem_reference.Draem(initial)

    def unit(x):
        return (x * draem_reference.STD + draem_reference.MEAN).clamp(0, 1)

    def loss(x):
        target = unit(x)
        size = x.shape[-1]
        mask = torch.zeros(x.shape[0], 1, size, size, device=x.device)
        mask[:, :, size // 4:size // 2, size // 3:2 * size // 3] = 1
        augmented = target * (1 - mask) + torch.rand_like(target) * mask
        rec = model.reconstructive(augmented)
        probabilities = torch.softmax(model.segment(rec, augmented), dim=1)
        return (F.mse_loss(rec, target) + 1 - draem_components_reference.ssim(rec, target).mean()
                + draem_components_reference.focal(probabilities, mask))

    def score(x):
        with torch.no_grad():
            image = unit(x)
            maps = torch.softmax(model.segment(model.reconstructive(image), image), dim=1)[:, 1:]
            return F.avg_pool2d(maps, 21, stride=1, padding=10).flatten(1).amax(1)

    return Setup(model, torch.optim.Adam(model.parameters(), lr=1e-4), loss, score)


def simplenet(backbone_name, weights, initial, train):
    backbone = frozen_backbone(backbone_name, weights)
    dim = initial["adaptor.weight"].shape[0]
    module = simplenet_reference.Module(dim)
    module.load_state_dict(initial, strict=True)
    # Farm's two optimisers stepped together: AdamW for the adaptor, Adam for the discriminator.
    adaptor = torch.optim.AdamW(module.adaptor.parameters(), lr=1e-4, weight_decay=0.01)
    discriminator = torch.optim.Adam(module.discriminator.parameters(), lr=2e-4, weight_decay=1e-5)

    class Both:
        def zero_grad(self):
            adaptor.zero_grad()
            discriminator.zero_grad()

        def step(self):
            adaptor.step()
            discriminator.step()

    def loss(x):
        features, _ = simplenet_reference.patch_features(backbone, x, dim)
        normal = module.adaptor(features)
        scores = module.discriminator(torch.cat([normal, normal + 0.015 * torch.randn_like(normal)]))
        n = normal.shape[0]
        return torch.clip(0.5 - scores[:n], min=0).mean() + torch.clip(scores[n:] + 0.5, min=0).mean()

    def score(x):
        with torch.no_grad():
            features, _ = simplenet_reference.patch_features(backbone, x, dim)
            return (-module.discriminator(module.adaptor(features))).reshape(x.shape[0], -1).amax(1)

    return Setup(module, Both(), loss, score)


MODELS = {"fastflow": fastflow, "rd4ad": rd4ad, "vae": vae, "draem": draem, "simplenet": simplenet}


def peak_rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    model_name, backbone_name, weights, data_path, initial_path, batch, epochs, threads = sys.argv[1:9]
    batch, epochs = int(batch), int(epochs)
    if model_name not in MODELS:
        raise SystemExit(f"no PyTorch counterpart for {model_name}; known: {', '.join(MODELS)}")
    torch.set_num_threads(int(threads))
    torch.manual_seed(0)
    data = st_io.load(data_path)
    train, test = data["train"], data["test"]
    gpu = DEVICE.type == "cuda"
    initial = {name: value.to(DEVICE) for name, value in st_io.load(initial_path).items()}
    setup = MODELS[model_name](backbone_name, weights, initial, train[:1].to(DEVICE))

    def sync():
        if gpu:
            torch.cuda.synchronize(DEVICE)

    times = []
    for _ in range(epochs):
        sync()
        start = time.perf_counter()
        setup.module.train()
        for i in range(0, train.shape[0], batch):
            setup.optimizer.zero_grad()
            loss = setup.loss(train[i:i + batch].to(DEVICE))
            loss.backward()
            setup.optimizer.step()
        sync()
        times.append(time.perf_counter() - start)

    setup.module.eval()
    start = time.perf_counter()
    for i in range(0, test.shape[0], batch):
        setup.score(test[i:i + batch].to(DEVICE)).cpu()
    predict = time.perf_counter() - start
    result = {
        "first_epoch_s": times[0], "epoch_s": statistics.median(times[1:] if len(times) > 1 else times),
        "predict_s": predict, "images": test.shape[0], "threads": torch.get_num_threads(), "peak_rss_mb": peak_rss_mib(),
    }
    if gpu:
        result["gpu_memory_mb"] = gpu_memory_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
