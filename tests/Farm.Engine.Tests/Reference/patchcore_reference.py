"""PatchCore reference (protocols.md) with torch ops: torchvision features in float32, coreset selection in float32,
distances, reweighting, upsampling and blur in float64.

usage: patchcore_reference.py ARCH WEIGHTS DATA OUTPUT RATIO K
ARCH: resnet18 | wide_resnet50_2. DATA holds train [N, 3, S, S] and test [M, 3, S, S] (preprocessed, F32), first
[1] (I64, the selection's start index), and when RATIO < 1 also projection [C, D] (F32) and farm_features [N*h*w, C]
(F32, Farm's training patch features: selecting on them checks the selection alone, free of backbone rounding).
OUTPUT gets features [N*h*w, C] (F32), indices (I64, selected on our features), farm_indices (I64, selected on
Farm's features, when RATIO < 1), patch_scores [M, h, w], maps [M, S, S] and scores [M] (F64).
"""
import sys

import torch
import torch.nn.functional as F
import torchvision

import st_io
from padim_reference import blur


def patch_features(model, x):
    with torch.no_grad():
        h = model.maxpool(model.relu(model.bn1(model.conv1(x))))
        l2 = model.layer2(model.layer1(h))
        l3 = model.layer3(l2)
    l2 = F.avg_pool2d(l2, kernel_size=3, stride=1, padding=1)
    l3 = F.avg_pool2d(l3, kernel_size=3, stride=1, padding=1)
    l3 = F.interpolate(l3, size=l2.shape[-2:], mode="bilinear", align_corners=False)
    e = torch.cat([l2, l3], 1)
    return e.permute(0, 2, 3, 1).reshape(-1, e.shape[1]), tuple(e.shape[-2:])


def k_center(points, count, first):
    """Greedy k-center: start at `first`, then repeatedly take the point farthest from its nearest selected point."""
    min_sq = torch.full((points.shape[0],), float("inf"), dtype=points.dtype, device=points.device)
    selected = [first]
    while len(selected) < count:
        centre = points[selected[-1]]
        min_sq = torch.minimum(min_sq, ((points - centre) ** 2).sum(1))
        min_sq[selected] = -1.0
        selected.append(int(torch.argmax(min_sq)))
    return torch.tensor(selected, dtype=torch.int64, device=points.device)


def exact_cdist(a, b):
    return torch.cdist(a, b, compute_mode="donot_use_mm_for_euclid_dist")


def main():
    arch, weights, data, output = sys.argv[1:5]
    ratio, k = float(sys.argv[5]), int(sys.argv[6])
    model = getattr(torchvision.models, arch)().eval()
    missing, unexpected = model.load_state_dict(st_io.load(weights), strict=False)
    assert not unexpected and all(k.startswith("fc.") or k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    tensors = st_io.load(data)
    train, test, first = tensors["train"], tensors["test"], int(tensors["first"][0])
    size = train.shape[-1]

    features, (h, w) = patch_features(model, train)
    n = features.shape[0]
    count = n if ratio >= 1 else max(1, int(n * ratio))
    result = {"features": features}
    if count == n:
        indices = torch.arange(n)
    else:
        projection = tensors["projection"]
        indices = k_center(features @ projection, count, first)
        result["farm_indices"] = k_center(tensors["farm_features"] @ projection, count, first)
    result["indices"] = indices
    bank = features[indices].double()

    queries, _ = patch_features(model, test)
    m = test.shape[0]
    distances = exact_cdist(queries.double(), bank)              # [M*h*w, bank]
    patch, nearest = distances.min(1)
    patch, nearest = patch.reshape(m, h * w), nearest.reshape(m, h * w)
    scores = torch.empty(m, dtype=torch.float64)
    for i in range(m):
        worst = int(patch[i].argmax())
        s_star = patch[i, worst]
        if k == 1:
            scores[i] = s_star
            continue
        m_star = bank[nearest[i, worst]]
        to_m_star = exact_cdist(m_star[None], bank)[0]
        support = torch.sort(to_m_star, stable=True).indices[:min(k, bank.shape[0])]
        d = exact_cdist(queries[i * h * w + worst].double()[None], bank[support])[0]
        scores[i] = (1 - torch.softmax(d, 0)[0]) * s_star
    up = F.interpolate(patch.reshape(m, 1, h, w), size=(size, size), mode="bilinear", align_corners=False)
    result.update(patch_scores=patch.reshape(m, h, w), maps=blur(up)[:, 0], scores=scores)
    st_io.save(output, result)


if __name__ == "__main__":
    main()
