using Farm.Engine.Metrics;

namespace Farm.Engine.Thresholds;

/// <summary>
/// The threshold estimation methods of docs/protocols.md, by name. Each estimates, on the validation set only, a
/// threshold t for "predict anomalous iff score ≥ t", at image level (image scores) or pixel level (pooled pixels).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>f1max</c>: the distinct score maximising F1; among equal maxima the lowest (scikit-learn argmax order).</item>
/// <item><c>iou</c>: the distinct score maximising TP/(TP+FP+FN); among equal maxima the lowest.</item>
/// <item><c>normal-stats</c>: mean + 3·std (population std, ddof 0) of the normal images' scores (pixel level: every
/// pixel of the normal images), in double precision.</item>
/// <item><c>percentile</c>: the 99th percentile of the same scores with numpy's default linear interpolation.</item>
/// <item><c>fpr-bound</c>: the lowest float threshold at which at most 1 % of the normal scores (pixel level: the
/// normal pixels of every image, masks false) are ≥ t, i.e. the float just above the (⌊N/100⌋+1)-th largest normal
/// score.</item>
/// </list>
/// f1max and iou need anomalous validation data, the others need normal data; missing data throws
/// <see cref="FarmException"/>, as does an unknown name.
/// </remarks>
public static class ThresholdMethods
{
    public const string F1Max = "f1max";
    public const string Iou = "iou";
    public const string NormalStats = "normal-stats";
    public const string Percentile = "percentile";
    public const string FprBound = "fpr-bound";

    private const string Field = "threshold";

    public static IReadOnlyList<string> Names { get; } = [F1Max, Iou, NormalStats, Percentile, FprBound];

    /// <summary>True for the methods that need anomalous validation images or pixels.</summary>
    public static bool NeedsAnomalies(string name) => RequireKnown(name) is F1Max or Iou;

    /// <summary>Image-level threshold from validation image scores.</summary>
    public static double Estimate(
        string name, ReadOnlySpan<float> scores, ReadOnlySpan<bool> isAnomalous,
        IReadOnlyList<string>? imageNames = null)
    {
        RequireKnown(name);
        ImageMetrics.SplitSortedKeys(scores, isAnomalous, imageNames, out var normalKeys, out var anomalousKeys);
        switch (name)
        {
            case F1Max or Iou:
                RequireAnomalies(name, anomalousKeys.Length, "images");
                var sweep = RankedSweep.Run(normalKeys, anomalousKeys, null, null, proFprLimit: 1);
                return name == F1Max ? sweep.F1MaxThreshold : sweep.IouMaxThreshold;
            case NormalStats:
                RequireNormals(name, normalKeys.Length, "images");
                return MeanPlusThreeStd(normalKeys.Select(SortableScoreKeys.ToScore).ToArray());
            case Percentile:
                RequireNormals(name, normalKeys.Length, "images");
                return NinetyNinthPercentile(normalKeys);
            default:
                RequireNormals(name, normalKeys.Length, "images");
                return FprBoundThreshold(normalKeys);
        }
    }

    /// <summary>Pixel-level threshold from validation maps and masks.</summary>
    public static double Estimate(string name, PixelScoreMaps validation)
    {
        RequireKnown(name);
        switch (name)
        {
            case F1Max or Iou:
                var curve = PixelCurve.Build(validation);
                RequireAnomalies(name, curve.AnomalousKeys.Length, "pixels");
                // Region data is only for AUPRO; leaving it out skips that part of the sweep.
                var sweep = RankedSweep.Run(curve.NormalKeys, curve.AnomalousKeys, null, null, proFprLimit: 1);
                return name == F1Max ? sweep.F1MaxThreshold : sweep.IouMaxThreshold;
            case NormalStats:
                return MeanPlusThreeStd(NormalImagePixels(name, validation));
            case Percentile:
                var keys = Array.ConvertAll(NormalImagePixels(name, validation), SortableScoreKeys.ToKey);
                SortableScoreKeys.Sort(keys);
                return NinetyNinthPercentile(keys);
            default:
                var normalPixelKeys = NormalPixelKeys(validation);
                RequireNormals(name, normalPixelKeys.Length, "pixels");
                SortableScoreKeys.Sort(normalPixelKeys);
                return FprBoundThreshold(normalPixelKeys);
        }
    }

    /// <summary>Pixel-level threshold from validation maps and masks (see the <see cref="PixelScoreMaps"/> overload).</summary>
    public static double Estimate(
        string name, IReadOnlyList<float[]> maps, IReadOnlyList<bool[]> masks, int width, int height,
        IReadOnlyList<string>? imageNames = null) =>
        Estimate(name, new PixelScoreMaps(maps, masks, width, height, imageNames));

    private static string RequireKnown(string name) =>
        Names.Contains(name)
            ? name
            : throw new FarmException(
                $"unknown threshold method '{name}'; known: {string.Join(", ", Names)}", field: Field);

    private static void RequireAnomalies(string name, int count, string what)
    {
        if (count == 0)
        {
            throw new FarmException(
                $"threshold method '{name}' needs anomalous validation {what}, but the validation set has none; " +
                $"add anomalous validation images or use {NormalStats}, {Percentile} or {FprBound}",
                field: Field);
        }
    }

    private static void RequireNormals(string name, int count, string what)
    {
        if (count == 0)
        {
            throw new FarmException(
                $"threshold method '{name}' needs normal validation {what}, but the validation set has none",
                field: Field);
        }
    }

    private static float[] NormalImagePixels(string name, PixelScoreMaps validation)
    {
        var normalImages = Enumerable.Range(0, validation.ImageCount).Where(i => validation.IsNormalImage[i]).ToList();
        RequireNormals(name, normalImages.Count, "images");
        var pixels = new float[(long)normalImages.Count * validation.Width * validation.Height];
        var at = 0;
        foreach (var image in normalImages)
        {
            validation.Maps[image].CopyTo(pixels, at);
            at += validation.Maps[image].Length;
        }

        return pixels;
    }

    private static uint[] NormalPixelKeys(PixelScoreMaps validation)
    {
        // Counted first so that tens of millions of pooled pixels are not copied through a growing list.
        long anomalousPixels = validation.Masks.Sum(mask => (long)mask.Count(anomalous => anomalous));
        var keys = new uint[(long)validation.ImageCount * validation.Width * validation.Height - anomalousPixels];
        var at = 0;
        for (var image = 0; image < validation.ImageCount; image++)
        {
            var map = validation.Maps[image];
            var mask = validation.Masks[image];
            for (var pixel = 0; pixel < map.Length; pixel++)
            {
                if (!mask[pixel])
                {
                    keys[at++] = SortableScoreKeys.ToKey(map[pixel]);
                }
            }
        }

        return keys;
    }

    /// <summary>Mean + 3·population std, two-pass in double so that large pools do not lose precision.</summary>
    private static double MeanPlusThreeStd(float[] values)
    {
        var sum = 0.0;
        foreach (var value in values)
        {
            sum += value;
        }

        var mean = sum / values.Length;
        var squaredDeviations = 0.0;
        foreach (var value in values)
        {
            var deviation = value - mean;
            squaredDeviations += deviation * deviation;
        }

        return mean + 3 * Math.Sqrt(squaredDeviations / values.Length);
    }

    /// <summary>numpy's default ("linear") percentile at q = 99 of ascending keys.</summary>
    private static double NinetyNinthPercentile(uint[] ascendingKeys)
    {
        var position = 0.99 * (ascendingKeys.Length - 1);
        var lowerIndex = (int)Math.Floor(position);
        var upperIndex = Math.Min(lowerIndex + 1, ascendingKeys.Length - 1);
        var fraction = position - lowerIndex;
        double lower = SortableScoreKeys.ToScore(ascendingKeys[lowerIndex]);
        double upper = SortableScoreKeys.ToScore(ascendingKeys[upperIndex]);
        // numpy interpolates from the nearer end, which keeps the result inside [lower, upper] when rounding.
        var difference = upper - lower;
        return fraction >= 0.5 ? upper - difference * (1 - fraction) : lower + difference * fraction;
    }

    /// <summary>The float just above the (⌊N/100⌋+1)-th largest normal score: FP ≤ N/100 ⇔ FPR ≤ 1 %, exactly.</summary>
    private static double FprBoundThreshold(uint[] ascendingNormalKeys)
    {
        var allowedFalsePositives = ascendingNormalKeys.Length / 100;
        var firstRejected = SortableScoreKeys.ToScore(ascendingNormalKeys[^(allowedFalsePositives + 1)]);
        return MathF.BitIncrement(firstRejected);
    }
}
