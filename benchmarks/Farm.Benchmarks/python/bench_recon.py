"""Plain PyTorch training epochs and scoring of the trained reconstruction-family models, timed on Farm's inputs.

usage: bench_recon.py MODEL WEIGHTS DATA BATCH EPOCHS THREADS
MODEL: vae (the tests' vae_reference.py network, loss and attention) or draem (draem_reference.py's networks and loss),
loaded from WEIGHTS. DATA holds train and test (preprocessed, F32). Trains EPOCHS epochs over train in order (Adam at the
model's learning rate; the VAE draws fresh noise per batch; DRAEM gets a random rectangle of noise blended into each
image as its "simulated anomaly": the network work of a step, without Farm's anomaly simulation), then scores test.
Prints one JSON line: first_epoch_s, epoch_s (mean of the later epochs), predict_img_s.
"""
import json
import sys
import time

import torch

import draem_components_reference
import draem_reference
import st_io
import vae_reference


def main():
    model_name, weights, data, batch, epochs, threads = sys.argv[1:7]
    batch, epochs = int(batch), int(epochs)
    torch.set_num_threads(int(threads))
    torch.manual_seed(0)
    tensors = st_io.load(data)
    train, test = tensors["train"], tensors["test"]
    if model_name == "vae":
        model = vae_reference.ConvVae(st_io.load(weights), train.shape[-1])
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        latent = model.mu.weight.shape[0]

        def step(x):
            return model.loss(x, torch.randn(x.shape[0], latent))

        def score(x):
            return model.attention(x).flatten(1).max(1)
    elif model_name == "draem":
        model = draem_reference.Draem(st_io.load(weights))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

        def unit(x):
            return (x * draem_reference.STD + draem_reference.MEAN).clamp(0, 1)

        def step(x):
            target = unit(x)
            size = x.shape[-1]
            mask = torch.zeros(x.shape[0], 1, size, size)
            mask[:, :, size // 4:size // 2, size // 3:2 * size // 3] = 1
            augmented = target * (1 - mask) + torch.rand_like(target) * mask
            rec = model.reconstructive(augmented)
            probabilities = torch.softmax(model.segment(rec, augmented), dim=1)
            return (torch.nn.functional.mse_loss(rec, target) + 1
                    - draem_components_reference.ssim(rec, target).mean()
                    + draem_components_reference.focal(probabilities, mask))

        def score(x):
            with torch.no_grad():
                image = unit(x)
                maps = torch.softmax(model.segment(model.reconstructive(image), image), dim=1)[:, 1:]
                return torch.nn.functional.avg_pool2d(maps, 21, stride=1, padding=10).flatten(1).max(1)
    else:
        raise SystemExit(f"no PyTorch side for {model_name}")
    times = []
    for _ in range(epochs):
        model.train()
        start = time.perf_counter()
        for i in range(0, train.shape[0], batch):
            optimizer.zero_grad()
            loss = step(train[i:i + batch])
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    model.eval()
    start = time.perf_counter()
    for i in range(0, test.shape[0], batch):
        score(test[i:i + batch])
    predict = time.perf_counter() - start
    steady = sum(times[1:]) / (len(times) - 1) if len(times) > 1 else times[0]
    print(json.dumps({"first_epoch_s": times[0], "epoch_s": steady, "predict_img_s": test.shape[0] / predict,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
