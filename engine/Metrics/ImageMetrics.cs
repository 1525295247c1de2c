namespace Farm.Engine.Metrics;

/// <summary>Image-level metrics of one test set; <see cref="double.NaN"/> marks a metric undefined for the set.</summary>
public sealed record ImageMetricValues(double Auroc, double Aupr, double F1Max, double Pg2, double Pb2);

/// <summary>
/// Image-level (binary) metrics from one score per image, as defined in docs/protocols.md. "Positive" is anomalous.
/// </summary>
/// <remarks>
/// Edge cases: with no anomalous images every metric is NaN. With no normal images AUROC, PG2 and PB2 are NaN, while
/// AUPR and F1max are 1 (every operating point has precision 1, which is what scikit-learn returns). With all scores
/// tied there is a single operating point: AUROC = 0.5, AUPR = P/(P+N), F1max = 2P/(2P+N). A NaN or infinite score
/// throws <see cref="FarmException"/> naming the image. Empty input gives NaN everywhere.
/// </remarks>
public static class ImageMetrics
{
    /// <summary>All five metrics from one sort.</summary>
    /// <param name="scores">One score per image; higher means more anomalous.</param>
    /// <param name="isAnomalous">Ground truth per image, index-aligned with scores.</param>
    /// <param name="imageNames">Names used in error messages, index-aligned with scores; null names images by index.</param>
    public static ImageMetricValues Compute(
        ReadOnlySpan<float> scores, ReadOnlySpan<bool> isAnomalous, IReadOnlyList<string>? imageNames = null)
    {
        var sweep = Sweep(scores, isAnomalous, imageNames, out var normalKeys, out var anomalousKeys);
        return new ImageMetricValues(
            sweep.Auroc, sweep.AveragePrecision, sweep.F1Max,
            PresortedGood(normalKeys, anomalousKeys), PresortedBad(normalKeys, anomalousKeys));
    }

    /// <summary>Area under the ROC curve with ties handled as scikit-learn's <c>roc_auc_score</c>.</summary>
    public static double Auroc(
        ReadOnlySpan<float> scores, ReadOnlySpan<bool> isAnomalous, IReadOnlyList<string>? imageNames = null) =>
        Sweep(scores, isAnomalous, imageNames, out _, out _).Auroc;

    /// <summary>Step-wise average precision, as scikit-learn's <c>average_precision_score</c>.</summary>
    public static double Aupr(
        ReadOnlySpan<float> scores, ReadOnlySpan<bool> isAnomalous, IReadOnlyList<string>? imageNames = null) =>
        Sweep(scores, isAnomalous, imageNames, out _, out _).AveragePrecision;

    /// <summary>Maximum F1 over the thresholds "score ≥ t", t every distinct score.</summary>
    public static double F1Max(
        ReadOnlySpan<float> scores, ReadOnlySpan<bool> isAnomalous, IReadOnlyList<string>? imageNames = null) =>
        Sweep(scores, isAnomalous, imageNames, out _, out _).F1Max;

    /// <summary>
    /// Presorted good at 2 %: k = ⌊0.02·n_bad⌋, t = the ascending bad scores' element k, PG2 = the fraction of good
    /// images scoring below t. NaN without good or without bad images.
    /// </summary>
    public static double Pg2(
        ReadOnlySpan<float> scores, ReadOnlySpan<bool> isAnomalous, IReadOnlyList<string>? imageNames = null)
    {
        SplitSortedKeys(scores, isAnomalous, imageNames, out var normalKeys, out var anomalousKeys);
        return PresortedGood(normalKeys, anomalousKeys);
    }

    /// <summary>
    /// Presorted bad at 2 %: k = ⌊0.02·n_good⌋, g = the descending good scores' element k, PB2 = the fraction of bad
    /// images scoring above g. NaN without good or without bad images.
    /// </summary>
    public static double Pb2(
        ReadOnlySpan<float> scores, ReadOnlySpan<bool> isAnomalous, IReadOnlyList<string>? imageNames = null)
    {
        SplitSortedKeys(scores, isAnomalous, imageNames, out var normalKeys, out var anomalousKeys);
        return PresortedBad(normalKeys, anomalousKeys);
    }

    internal static SweepResult Sweep(
        ReadOnlySpan<float> scores, ReadOnlySpan<bool> isAnomalous, IReadOnlyList<string>? imageNames,
        out uint[] normalKeys, out uint[] anomalousKeys)
    {
        SplitSortedKeys(scores, isAnomalous, imageNames, out normalKeys, out anomalousKeys);
        return RankedSweep.Run(normalKeys, anomalousKeys, positiveRegions: null, regionSizes: null, proFprLimit: 1);
    }

    /// <summary>Validates, then splits the scores by class into ascending sortable keys.</summary>
    internal static void SplitSortedKeys(
        ReadOnlySpan<float> scores, ReadOnlySpan<bool> isAnomalous, IReadOnlyList<string>? imageNames,
        out uint[] normalKeys, out uint[] anomalousKeys)
    {
        ScoreValidation.RequireSameLength(scores.Length, isAnomalous.Length);
        ScoreValidation.RequireFiniteImageScores(scores, imageNames);
        var anomalousCount = 0;
        foreach (var anomalous in isAnomalous)
        {
            anomalousCount += anomalous ? 1 : 0;
        }

        normalKeys = new uint[scores.Length - anomalousCount];
        anomalousKeys = new uint[anomalousCount];
        int normalAt = 0, anomalousAt = 0;
        for (var i = 0; i < scores.Length; i++)
        {
            if (isAnomalous[i])
            {
                anomalousKeys[anomalousAt++] = SortableScoreKeys.ToKey(scores[i]);
            }
            else
            {
                normalKeys[normalAt++] = SortableScoreKeys.ToKey(scores[i]);
            }
        }

        SortableScoreKeys.Sort(normalKeys);
        SortableScoreKeys.Sort(anomalousKeys);
    }

    private static double PresortedGood(uint[] ascendingGood, uint[] ascendingBad)
    {
        if (ascendingGood.Length == 0 || ascendingBad.Length == 0)
        {
            return double.NaN;
        }

        // ⌊0.02·n⌋ in integers, so that no n lands a hair below an integer in floating point.
        var k = ascendingBad.Length * 2 / 100;
        var threshold = ascendingBad[k];
        var below = LowerBound(ascendingGood, threshold);
        return (double)below / ascendingGood.Length;
    }

    private static double PresortedBad(uint[] ascendingGood, uint[] ascendingBad)
    {
        if (ascendingGood.Length == 0 || ascendingBad.Length == 0)
        {
            return double.NaN;
        }

        var k = ascendingGood.Length * 2 / 100;
        var goodScore = ascendingGood[ascendingGood.Length - 1 - k];
        var above = ascendingBad.Length - UpperBound(ascendingBad, goodScore);
        return (double)above / ascendingBad.Length;
    }

    /// <summary>Number of elements strictly below <paramref name="key"/>.</summary>
    internal static int LowerBound(uint[] ascending, uint key)
    {
        int low = 0, high = ascending.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (ascending[middle] < key)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    /// <summary>Number of elements at or below <paramref name="key"/>.</summary>
    internal static int UpperBound(uint[] ascending, uint key)
    {
        int low = 0, high = ascending.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (ascending[middle] <= key)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}
