"""Independent reference values for the Farm metric tests (scikit-learn, numpy, scipy; brute force where possible).

Usage: metrics_reference.py <cases.json>. The JSON lists cases; each names raw little-endian files written by the
C# test (float32 scores, uint8 labels/masks) and its kind. Prints one JSON list of results, one entry per case.
"""
import json
import sys
import warnings

import numpy as np
from scipy import ndimage
from sklearn.metrics import (average_precision_score, f1_score, jaccard_score, precision_recall_curve,
                             precision_score, recall_score, roc_auc_score)

warnings.simplefilter("ignore")


def load(case, key, dtype, shape=None):
    data = np.fromfile(case[key], dtype=dtype)
    return data if shape is None else data.reshape(shape)


def f1max_sklearn(labels, scores):
    precision, recall, _ = precision_recall_curve(labels, scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = 2 * precision * recall / (precision + recall)
    return float(np.nanmax(f1))


def presorted(labels, scores):
    good = np.sort(scores[labels == 0])
    bad = np.sort(scores[labels == 1])
    k_bad = int(np.floor(0.02 * len(bad)))
    pg2 = float(np.mean(good < bad[k_bad]))
    k_good = int(np.floor(0.02 * len(good)))
    pb2 = float(np.mean(bad > good[::-1][k_good]))
    return pg2, pb2


def binary(case):
    scores = load(case, "scores", "<f4").astype(np.float64)
    labels = load(case, "labels", "u1")
    pg2, pb2 = presorted(labels, scores)
    return {
        "auroc": float(roc_auc_score(labels, scores)),
        "aupr": float(average_precision_score(labels, scores)),
        "f1max": f1max_sklearn(labels, scores),
        "pg2": pg2,
        "pb2": pb2,
    }


def brute_force_sweep(labels, scores):
    """F1 and IoU at every distinct threshold (predict score >= t), straight from the confusion counts."""
    thresholds = np.unique(scores)
    positives = labels.sum()
    f1s, ious = [], []
    for t in thresholds:
        predicted = scores >= t
        tp = np.sum(predicted & (labels == 1))
        fp = np.sum(predicted & (labels == 0))
        fn = positives - tp
        f1s.append(2 * tp / (2 * tp + fp + fn))
        ious.append(tp / (tp + fp + fn))
    f1s, ious = np.array(f1s), np.array(ious)
    # Lowest threshold among equal maxima: thresholds ascend, argmax returns the first.
    return thresholds, f1s, ious


def aupro_brute_force(maps, masks, limit):
    """MVTec AD per-region overlap, one threshold at a time: regions from scipy.ndimage.label (8-connected)."""
    regions = []
    for mask in masks:
        labelled, count = ndimage.label(mask, structure=np.ones((3, 3), dtype=int))
        regions.append((labelled, count))
    normal_scores = maps[masks == 0]
    region_scores = [m[lab == r] for m, (lab, n) in zip(maps, regions) for r in range(1, n + 1)]
    if not region_scores or normal_scores.size == 0:
        return None
    fprs, pros = [0.0], [0.0]
    for t in np.unique(maps)[::-1]:
        fprs.append(np.mean(normal_scores >= t))
        pros.append(np.mean([np.mean(s >= t) for s in region_scores]))
    fprs.append(1.0)
    pros.append(1.0)
    return pro_area(np.array(fprs), np.array(pros), limit)


def pro_area(x, y, limit):
    """Trapezoid area under the PRO curve (x = FPR ascending, from (0,0) to (1,1)) up to `limit`, over `limit`."""
    inside = x <= limit
    xs, ys = list(x[inside]), list(y[inside])
    if xs[-1] < limit:
        j = int(np.argmax(x > limit))
        ys.append(y[j - 1] + (y[j] - y[j - 1]) * (limit - x[j - 1]) / (x[j] - x[j - 1]))
        xs.append(limit)
    return float(np.trapz(ys, xs) / limit)


def aupro_sorted(maps, masks, limit):
    """The same AUPRO the way MVTec AD's official script computes it, for large inputs: one descending sort of all
    pixels, each pixel's FPR and PRO increment summed cumulatively, one point per distinct score (the last pixel of
    each run of equal scores). O(n log n) instead of one pass per threshold; checked against aupro_brute_force."""
    masks = np.asarray(masks).astype(bool)
    normal_count = np.count_nonzero(~masks)
    pro_step = np.zeros(masks.shape, dtype=np.float64)
    region_count = 0
    for image, mask in enumerate(masks):
        labelled, count = ndimage.label(mask, structure=np.ones((3, 3), dtype=int))
        if count:
            sizes = np.bincount(labelled.ravel())
            inside = labelled > 0
            pro_step[image][inside] = 1.0 / sizes[labelled[inside]]
            region_count += count
    if region_count == 0 or normal_count == 0:
        return None
    order = np.argsort(np.asarray(maps).ravel(), kind="stable")[::-1]
    scores = np.asarray(maps).ravel()[order]
    fpr = np.cumsum(~masks.ravel()[order]) / normal_count
    pro = np.cumsum(pro_step.ravel()[order]) / region_count
    del order, pro_step
    last_of_run = np.append(scores[1:] != scores[:-1], True)
    x = np.concatenate([[0.0], fpr[last_of_run], [1.0]])
    y = np.concatenate([[0.0], pro[last_of_run], [1.0]])
    return pro_area(x, y, limit)


def pixel(case):
    n, h, w = case["count"], case["height"], case["width"]
    maps = load(case, "maps", "<f4", (n, h, w)).astype(np.float64)
    masks = load(case, "masks", "u1", (n, h, w))
    scores, labels = maps.ravel(), masks.ravel()
    thresholds, f1s, ious = brute_force_sweep(labels, scores)
    return {
        "auroc": float(roc_auc_score(labels, scores)),
        "aupro": aupro_brute_force(maps, masks, case["limit"]),
        "aupro_sorted": aupro_sorted(maps, masks, case["limit"]),
        "f1max": float(f1s.max()),
        "f1max_sklearn": f1max_sklearn(labels, scores),
        "ioumax": float(ious.max()),
        "regions": int(sum(ndimage.label(m, structure=np.ones((3, 3), dtype=int))[1] for m in masks)),
    }


def fpr_bound(normal):
    """Lowest float32 threshold t (a score or the float just above one) with #(normal >= t) <= N/100."""
    normal = normal.astype(np.float32)
    candidates = np.unique(np.concatenate([normal, np.nextafter(normal, np.float32(np.inf))]))
    counts = np.array([np.sum(normal >= c) for c in candidates])
    return float(candidates[counts * 100 <= len(normal)].min())


def thresholds(case):
    scores = load(case, "scores", "<f4")
    labels = load(case, "labels", "u1")
    # Normal-image pool for normal-stats / percentile; normal samples (label 0) for fpr-bound.
    normal_pool = load(case, "normal_pool", "<f4")
    result = {
        "normal-stats": float(normal_pool.astype(np.float64).mean() + 3 * normal_pool.astype(np.float64).std()),
        "percentile": float(np.percentile(normal_pool, 99)),
        "fpr-bound": fpr_bound(scores[labels == 0]),
    }
    if labels.any():
        ts, f1s, ious = brute_force_sweep(labels, scores.astype(np.float64))
        result["f1max"] = float(ts[np.argmax(f1s)])
        result["iou"] = float(ts[np.argmax(ious)])
    return result


def inference(case):
    scores = load(case, "scores", "<f4")
    labels = load(case, "labels", "u1")
    predicted = (scores.astype(np.float64) >= case["threshold"]).astype(np.uint8)
    tn = int(np.sum((predicted == 0) & (labels == 0)))
    fp = int(np.sum((predicted == 1) & (labels == 0)))
    fn = int(np.sum((predicted == 0) & (labels == 1)))
    tp = int(np.sum((predicted == 1) & (labels == 1)))
    return {
        "precision": float(precision_score(labels, predicted)),
        "recall": float(recall_score(labels, predicted)),
        "f1": float(f1_score(labels, predicted)),
        "iou": float(jaccard_score(labels, predicted)),
        "accuracy": float(np.mean(predicted == labels)),
        "fpr": fp / (fp + tn),
        "fnr": fn / (fn + tp),
    }


KINDS = {"binary": binary, "pixel": pixel, "thresholds": thresholds, "inference": inference}

if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    print(json.dumps([KINDS[c["kind"]](c) for c in cases]))
