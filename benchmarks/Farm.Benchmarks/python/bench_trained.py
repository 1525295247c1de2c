"""Plain PyTorch training and scoring of the trained models that have a test reference (FastFlow), timed on the inputs
and initial weights Farm times. The model is the tests' reference implementation (fastflow_reference.py), so both
sides time what the parity test compares.

usage: bench_trained.py MODEL BACKBONE WEIGHTS DATA INITIAL BATCH EPOCHS THREADS
Prints one JSON line: first_epoch_s, epoch_s (median of the epochs after the first), predict_s, images, threads, peak_rss_mb.
"""
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

import st_io
import fastflow_reference


def main():
    model_name, backbone_name, weights, data_path, initial, batch, epochs, threads = sys.argv[1:9]
    batch, epochs = int(batch), int(epochs)
    torch.set_num_threads(int(threads))
    if model_name != "fastflow":
        raise SystemExit(f"no PyTorch benchmark for {model_name}")
    backbone = getattr(torchvision.models, backbone_name)().eval()
    backbone.load_state_dict(st_io.load(weights), strict=False)
    for parameter in backbone.parameters():
        parameter.requires_grad_(False)
    data = st_io.load(data_path)
    train, test = data["train"], data["test"]
    size = train.shape[-1]

    levels = [(f.shape[1], f.shape[2]) for f in fastflow_reference.features(backbone, train[:1])]
    conv3x3_only = backbone_name != "wide_resnet50_2"
    config = {"flow_steps": 8, "conv3x3_only": conv3x3_only, "hidden_ratio": 1.0, "clamp": 2.0}
    model = fastflow_reference.FastFlow(levels, config)
    model.load_state_dict(st_io.load(initial), strict=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)

    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        for i in range(0, train.shape[0], batch):
            optimizer.zero_grad()
            latents, log_dets = model(fastflow_reference.features(backbone, train[i:i + batch]))
            loss = sum(torch.mean(0.5 * torch.sum(z ** 2, dim=(1, 2, 3)) - j) for z, j in zip(latents, log_dets))
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)

    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, test.shape[0], batch):
            latents, _ = model(fastflow_reference.features(backbone, test[i:i + batch]))
            maps = [F.interpolate(-torch.exp(-0.5 * torch.mean(z ** 2, dim=1, keepdim=True)), size=(size, size),
                                  mode="bilinear", align_corners=False) for z in latents]
            torch.stack(maps, -1).mean(-1).amax(dim=(1, 2, 3))
    predict = time.perf_counter() - start
    print(json.dumps({
        "first_epoch_s": times[0], "epoch_s": statistics.median(times[1:] if len(times) > 1 else times),
        "predict_s": predict, "images": test.shape[0], "threads": torch.get_num_threads(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
