"""Plain PyTorch training epochs and scoring of the trained reconstruction-family models, timed on Farm's inputs.

usage: bench_recon.py MODEL WEIGHTS DATA BATCH EPOCHS THREADS
MODEL: vae (the tests' vae_reference.py network, loss and attention, loaded from WEIGHTS). DATA holds train and test
(preprocessed, F32). Trains EPOCHS epochs over train in order (Adam, lr 1e-3, fresh noise per batch), then computes
the attention maps of test. Prints one JSON line: first_epoch_s, epoch_s (mean of the later epochs), predict_img_s.
"""
import json
import sys
import time

import torch

import st_io
import vae_reference


def main():
    model_name, weights, data, batch, epochs, threads = sys.argv[1:7]
    batch, epochs = int(batch), int(epochs)
    torch.set_num_threads(int(threads))
    torch.manual_seed(0)
    tensors = st_io.load(data)
    train, test = tensors["train"], tensors["test"]
    if model_name != "vae":
        raise SystemExit(f"no PyTorch side for {model_name}")
    model = vae_reference.ConvVae(st_io.load(weights), train.shape[-1])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    latent = model.mu.weight.shape[0]
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for i in range(0, train.shape[0], batch):
            x = train[i:i + batch]
            optimizer.zero_grad()
            loss = model.loss(x, torch.randn(x.shape[0], latent))
            loss.backward()
            optimizer.step()
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(0, test.shape[0], batch):
        maps = model.attention(test[i:i + batch])
        maps.flatten(1).max(1)
    predict = time.perf_counter() - start
    steady = sum(times[1:]) / (len(times) - 1) if len(times) > 1 else times[0]
    print(json.dumps({"first_epoch_s": times[0], "epoch_s": steady, "predict_img_s": test.shape[0] / predict,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
