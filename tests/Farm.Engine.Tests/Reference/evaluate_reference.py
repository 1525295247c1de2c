"""Reference cases for `farm evaluate`: writes random anomaly maps (.npy), masks (.png) and CSVs with numpy and PIL,
and computes every metric with scikit-learn and the brute-force references of metrics_reference.py.

Usage: evaluate_reference.py <output folder> <seed>. Prints one JSON list; each case gives its folders and files and
the expected metrics per subset ("all", then each labelled defect category: its anomalous images + every normal one).
"""
import json
import os
import sys

import numpy as np
from PIL import Image
from scipy import ndimage
from sklearn.metrics import average_precision_score, roc_auc_score

from metrics_reference import aupro_brute_force, brute_force_sweep, f1max_sklearn, presorted

CATEGORIES = ["structural", "surface", "contamination", "combined"]


def random_mask(rng, height, width, kind):
    """Several rectangles; 'diagonal' adds two squares that touch only at a corner (one 8-connected region)."""
    mask = np.zeros((height, width), dtype=bool)
    for _ in range(rng.integers(1, 4)):
        h, w = rng.integers(1, 6), rng.integers(1, 6)
        r, c = rng.integers(0, height - h), rng.integers(0, width - w)
        mask[r:r + h, c:c + w] = True
    if kind == "diagonal":
        r, c = rng.integers(0, height - 4), rng.integers(0, width - 4)
        mask[r:r + 2, c:c + 2] = True
        mask[r + 2:r + 4, c + 2:c + 4] = True
    return mask


def random_map(rng, mask, dtype, levels):
    """Smooth noise plus a bump on the defect; optional quantisation to `levels` steps creates many ties."""
    noise = ndimage.gaussian_filter(rng.random(mask.shape), sigma=1.5)
    signal = ndimage.gaussian_filter(mask.astype(float), sigma=1.0) * rng.uniform(0.0, 1.5)
    values = noise + signal + 0.2 * rng.random(mask.shape)
    if levels:
        values = np.round(values * levels) / levels
    return values.astype(dtype)


def save_mask(path, mask, style):
    """Masks in the styles a user may have: 8-bit 255, 8-bit 1, red-only RGB, 1-bit."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if style == "L255":
        Image.fromarray(mask.astype(np.uint8) * 255, mode="L").save(path)
    elif style == "L1":
        Image.fromarray(mask.astype(np.uint8), mode="L").save(path)
    elif style == "rgb":
        rgb = np.zeros(mask.shape + (3,), dtype=np.uint8)
        rgb[..., 0] = mask * 200
        Image.fromarray(rgb, mode="RGB").save(path)
    else:
        Image.fromarray(mask).convert("1").save(path)


def metrics(maps, masks, scores):
    labels = np.array([m.any() for m in masks], dtype=np.uint8)
    pixel_scores = np.concatenate([m.ravel() for m in maps]).astype(np.float64)
    pixel_labels = np.concatenate([m.ravel() for m in masks]).astype(np.uint8)
    scores = np.asarray(scores, dtype=np.float64)
    pg2, pb2 = presorted(labels, scores)
    _, _, ious = brute_force_sweep(pixel_labels, pixel_scores)
    return {
        "image_auroc": float(roc_auc_score(labels, scores)),
        "image_aupr": float(average_precision_score(labels, scores)),
        "image_f1max": f1max_sklearn(labels, scores),
        "image_pg2": pg2,
        "image_pb2": pb2,
        "pixel_auroc": float(roc_auc_score(pixel_labels, pixel_scores)),
        "pixel_aupro": aupro_brute_force(np.stack(maps).astype(np.float64), np.stack(masks).astype(np.uint8), 0.3),
        "pixel_f1max": f1max_sklearn(pixel_labels, pixel_scores),
        "pixel_iou_max": float(ious.max()),
        "n_images": len(maps),
        "n_anomalous": int(labels.sum()),
    }


def make_case(root, name, rng, *, count, height, width, dtype, levels, nested, fortran, with_scores, with_labels):
    folder = os.path.join(root, name)
    maps_dir, masks_dir = os.path.join(folder, "maps"), os.path.join(folder, "masks")
    images = []
    for i in range(count):
        # Every third image is normal; of those, every other one has an all-zero mask file, the rest none.
        anomalous = i % 3 != 0
        category = CATEGORIES[i % len(CATEGORIES)] if anomalous else "good"
        stem = f"{i:03d}"
        image_name = f"{category}/{stem}" if nested else f"img_{stem}"
        mask = random_mask(rng, height, width, "diagonal" if i % 4 == 1 else "boxes") if anomalous \
            else np.zeros((height, width), dtype=bool)
        values = random_map(rng, mask, dtype, levels)
        map_path = os.path.join(maps_dir, image_name + ".npy")
        os.makedirs(os.path.dirname(map_path), exist_ok=True)
        np.save(map_path, np.asfortranarray(values) if fortran else values)
        if anomalous or i % 2 == 0:
            save_mask(os.path.join(masks_dir, image_name + ".png"), mask, ["L255", "L1", "rgb", "bilevel"][i % 4])
        score = float(np.round(rng.random() + 0.6 * anomalous, 1)) if with_scores else float(values.max())
        images.append({"name": image_name, "category": category, "anomalous": anomalous, "map": values,
                       "mask": mask, "score": score})

    case = {"name": name, "maps": maps_dir, "masks": masks_dir, "scores": None, "labels": None}
    if with_scores:
        case["scores"] = os.path.join(folder, "scores.csv")
        with open(case["scores"], "w") as f:
            f.write("name,score\n")
            # Rows in reverse order; names with and without the .npy extension.
            for k, image in enumerate(reversed(images)):
                suffix = ".npy" if k % 2 else ""
                f.write(f"{image['name']}{suffix},{image['score']!r}\n")

    subsets = {"all": list(range(count))}
    if with_labels:
        case["labels"] = os.path.join(folder, "labels.csv")
        with open(case["labels"], "w") as f:
            f.write("path,category,background\n")
            for i, image in enumerate(images):
                # One anomalous image stays unlabelled: it counts only in "all".
                if not image["anomalous"] or i == 2:
                    continue
                f.write(f"widget/test/{image['name']}.png,{image['category']},true\n")
                subsets.setdefault(image["category"], [j for j, other in enumerate(images) if not other["anomalous"]])
                subsets[image["category"]].append(i)
            # A label for an image that is not among the maps is ignored.
            f.write("widget/test/surface/999.png,surface,true\n")

    case["expected"] = {
        subset: metrics([images[i]["map"] for i in indices], [images[i]["mask"] for i in indices],
                        [images[i]["score"] for i in indices])
        for subset, indices in subsets.items()
    }
    return case


def main():
    root, seed = sys.argv[1], int(sys.argv[2])
    rng = np.random.default_rng(seed)
    cases = [
        make_case(root, "f4-ties-no-csv", rng, count=10, height=20, width=24, dtype=np.float32, levels=8,
                  nested=False, fortran=False, with_scores=False, with_labels=False),
        make_case(root, "f8-scores-labels", rng, count=12, height=18, width=22, dtype=np.float64, levels=0,
                  nested=False, fortran=False, with_scores=True, with_labels=True),
        make_case(root, "f4-fortran-nested-labels", rng, count=11, height=16, width=21, dtype=np.float32, levels=12,
                  nested=True, fortran=True, with_scores=True, with_labels=True),
        make_case(root, "f8-no-csv-labels", rng, count=9, height=17, width=15, dtype=np.float64, levels=0,
                  nested=True, fortran=False, with_scores=False, with_labels=True),
    ]
    print(json.dumps(cases))


if __name__ == "__main__":
    main()
