namespace Farm.Engine.Metrics;

/// <summary>Every threshold-free metric of one ranking, plus the thresholds at which F1 and IoU peak.</summary>
internal readonly record struct SweepResult(
    double Auroc,
    double AveragePrecision,
    double F1Max,
    double F1MaxThreshold,
    double IouMax,
    double IouMaxThreshold,
    double Aupro);

/// <summary>
/// One descending pass over sorted scores that visits each distinct score once (the operating points of
/// "predict anomalous iff score ≥ t") and folds every curve metric from the running counts, so the pooled pixels of a
/// test set are sorted once and never revisited per threshold.
/// </summary>
internal static class RankedSweep
{
    /// <param name="normalKeys">Sortable keys of the negatives, ascending.</param>
    /// <param name="positiveKeys">Sortable keys of the positives, ascending.</param>
    /// <param name="positiveRegions">Ground-truth region (0-based) of each positive in <paramref name="positiveKeys"/>
    /// order; null skips AUPRO.</param>
    /// <param name="regionSizes">Pixel count of each region.</param>
    /// <param name="proFprLimit">Upper FPR limit of the AUPRO integral, in (0, 1].</param>
    public static SweepResult Run(
        uint[] normalKeys, uint[] positiveKeys, int[]? positiveRegions, int[]? regionSizes, double proFprLimit)
    {
        long negatives = normalKeys.Length;
        long positives = positiveKeys.Length;

        // Weight of one region pixel in PRO = mean over regions of the covered fraction.
        double[]? regionWeights = null;
        if (positiveRegions is not null && regionSizes is { Length: > 0 })
        {
            regionWeights = new double[regionSizes.Length];
            for (var r = 0; r < regionSizes.Length; r++)
            {
                regionWeights[r] = 1.0 / regionSizes[r];
            }
        }

        var normalIndex = normalKeys.Length - 1;
        var positiveIndex = positiveKeys.Length - 1;
        long truePositives = 0, falsePositives = 0;

        // AUROC as an exact integer trapezoid sum: Σ Δfp · (tp_prev + tp), divided by 2·P·N at the end.
        long rocDoubledArea = 0;
        var precisionRecallSum = 0.0;
        double f1Max = 0, f1Threshold = double.NaN, iouMax = 0, iouThreshold = double.NaN;

        double proSum = 0, proArea = 0, previousFpr = 0, previousPro = 0;
        var proDone = false;

        while (normalIndex >= 0 || positiveIndex >= 0)
        {
            var key = normalIndex < 0 ? positiveKeys[positiveIndex]
                : positiveIndex < 0 ? normalKeys[normalIndex]
                : Math.Max(normalKeys[normalIndex], positiveKeys[positiveIndex]);

            var previousTruePositives = truePositives;
            var previousFalsePositives = falsePositives;
            while (normalIndex >= 0 && normalKeys[normalIndex] == key)
            {
                falsePositives++;
                normalIndex--;
            }

            while (positiveIndex >= 0 && positiveKeys[positiveIndex] == key)
            {
                truePositives++;
                if (regionWeights is not null)
                {
                    proSum += regionWeights[positiveRegions![positiveIndex]];
                }

                positiveIndex--;
            }

            rocDoubledArea += (falsePositives - previousFalsePositives) * (previousTruePositives + truePositives);

            // Step-wise average precision: Σ (R_k − R_{k−1}) · P_k, the sum divided by P at the end.
            precisionRecallSum += (truePositives - previousTruePositives)
                * ((double)truePositives / (truePositives + falsePositives));

            // F1 = 2TP / (2TP + FP + FN); IoU = TP / (TP + FP + FN). "≥" keeps the lowest threshold among equal
            // maxima, as argmax over scikit-learn's ascending thresholds does.
            var falseNegatives = positives - truePositives;
            var f1 = 2.0 * truePositives / (2 * truePositives + falsePositives + falseNegatives);
            if (f1 >= f1Max)
            {
                f1Max = f1;
                f1Threshold = SortableScoreKeys.ToScore(key);
            }

            var iou = (double)truePositives / (truePositives + falsePositives + falseNegatives);
            if (iou >= iouMax)
            {
                iouMax = iou;
                iouThreshold = SortableScoreKeys.ToScore(key);
            }

            if (regionWeights is not null && negatives > 0 && !proDone)
            {
                var fpr = (double)falsePositives / negatives;
                var pro = Math.Min(1.0, proSum / regionWeights.Length);
                proDone = AddProSegment(ref proArea, ref previousFpr, ref previousPro, fpr, pro, proFprLimit);
            }
        }

        if (regionWeights is not null && negatives > 0 && !proDone)
        {
            // The curve is closed at (1, 1), as in the MVTec AD evaluation code.
            AddProSegment(ref proArea, ref previousFpr, ref previousPro, 1.0, 1.0, proFprLimit);
        }

        var bothClasses = positives > 0 && negatives > 0;
        return new SweepResult(
            Auroc: bothClasses ? rocDoubledArea / (2.0 * positives * negatives) : double.NaN,
            AveragePrecision: positives > 0 ? precisionRecallSum / positives : double.NaN,
            F1Max: positives > 0 ? f1Max : double.NaN,
            F1MaxThreshold: positives > 0 ? f1Threshold : double.NaN,
            IouMax: positives > 0 ? iouMax : double.NaN,
            IouMaxThreshold: positives > 0 ? iouThreshold : double.NaN,
            Aupro: regionWeights is not null && negatives > 0 ? proArea / proFprLimit : double.NaN);
    }

    /// <summary>
    /// Adds the trapezoid from the previous point to (fpr, pro), cut at the limit with linear interpolation.
    /// Returns true once the limit has been reached.
    /// </summary>
    private static bool AddProSegment(
        ref double area, ref double previousFpr, ref double previousPro, double fpr, double pro, double limit)
    {
        if (fpr <= limit)
        {
            area += 0.5 * (previousPro + pro) * (fpr - previousFpr);
            previousFpr = fpr;
            previousPro = pro;
            return fpr == limit;
        }

        // previousFpr < limit < fpr here: interpolate PRO at the limit.
        var proAtLimit = previousPro + (pro - previousPro) * (limit - previousFpr) / (fpr - previousFpr);
        area += 0.5 * (previousPro + proAtLimit) * (limit - previousFpr);
        return true;
    }
}
