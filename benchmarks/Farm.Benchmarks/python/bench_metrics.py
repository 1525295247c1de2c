"""Times the Python reference pixel metrics on data Farm.Benchmarks wrote; only the metric computation is timed.

Usage: bench_metrics.py <data folder> <runs>. The folder holds maps.npy (N×H×W float32) and masks.u8 (N×H×W bytes).
Prints JSON: per metric the best time in seconds over the runs, the values (to check both sides agree) and the peak
resident memory.
"""
import json
import resource
import sys
import time

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.metrics._ranking import _binary_clf_curve

from metrics_reference import aupro_sorted


def f1_and_iou_max(labels, scores):
    """F1max and IoU-max over the thresholds of scikit-learn's ranking (its internal curve of FP/TP per distinct score)."""
    fps, tps, _ = _binary_clf_curve(labels, scores)
    positives = tps[-1]
    return float(np.max(2 * tps / (tps + fps + positives))), float(np.max(tps / (fps + positives)))


def best(runs, compute):
    times, value = [], None
    for _ in range(runs):
        start = time.perf_counter()
        value = compute()
        times.append(time.perf_counter() - start)
    return min(times), value


def main():
    folder, runs = sys.argv[1], int(sys.argv[2])
    maps = np.load(f"{folder}/maps.npy")
    masks = np.fromfile(f"{folder}/masks.u8", dtype=np.uint8).reshape(maps.shape).astype(bool)
    scores, labels = maps.ravel(), masks.ravel()
    auroc_s, auroc = best(runs, lambda: float(roc_auc_score(labels, scores)))
    aupro_s, aupro = best(runs, lambda: aupro_sorted(maps, masks, 0.3))
    f1_iou_s, (f1max, iou_max) = best(runs, lambda: f1_and_iou_max(labels, scores))
    print(json.dumps({
        "seconds": {"auroc": auroc_s, "aupro": aupro_s, "f1_iou": f1_iou_s},
        "values": {"auroc": auroc, "aupro": aupro, "f1max": f1max, "iou_max": iou_max},
        "numpy": np.__version__,
        # ru_maxrss is in KiB on Linux: the process's peak, data loading included.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6,
    }))


if __name__ == "__main__":
    main()
