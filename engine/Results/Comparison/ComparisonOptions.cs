namespace Farm.Engine.Results.Comparison;

/// <summary>
/// What <see cref="RunComparison"/> compares and how much of a drop it forgives. Tolerances are absolute, in the
/// metrics' own units (fractions in [0, 1]): 0.01 is one percentage point.
/// </summary>
public sealed record ComparisonOptions
{
    public const double DefaultTolerance = 0.01;

    /// <summary>The largest drop of a seed-averaged metric that is not a regression.</summary>
    public double Tolerance { get; init; } = DefaultTolerance;

    /// <summary>Per-metric tolerances that replace <see cref="Tolerance"/> for their metric.</summary>
    public IReadOnlyDictionary<string, double> MetricTolerances { get; init; } = new Dictionary<string, double>();

    /// <summary>Metrics to compare (column names); empty = every quality metric (<see cref="ComparedMetrics.All"/>).</summary>
    public IReadOnlyList<string> Metrics { get; init; } = [];

    public double ToleranceOf(string metric) =>
        MetricTolerances.TryGetValue(metric, out var tolerance) ? tolerance : Tolerance;

    /// <summary>The metrics to compare, in column order; throws a <see cref="FarmException"/> naming a bad option.</summary>
    public IReadOnlyList<string> Validate()
    {
        CheckTolerance(Tolerance, "tolerance");
        foreach (var (metric, tolerance) in MetricTolerances)
        {
            ComparedMetrics.Check(metric, "metric-tolerance");
            CheckTolerance(tolerance, $"metric-tolerance {metric}");
        }
        foreach (var metric in Metrics)
        {
            ComparedMetrics.Check(metric, "metric");
        }
        return Metrics.Count == 0
            ? ComparedMetrics.All
            : [.. ComparedMetrics.All.Where(Metrics.Contains)];
    }

    private static void CheckTolerance(double tolerance, string field)
    {
        if (!double.IsFinite(tolerance) || tolerance < 0)
        {
            throw new FarmException($"tolerance must be a finite number >= 0, not {tolerance}", field: field);
        }
    }
}

/// <summary>The quality metrics a comparison can look at, and which way is better for each.</summary>
public static class ComparedMetrics
{
    // Thresholds are in the model's score units and have no better direction: they are not compared.
    private static readonly HashSet<string> NotQualityMetrics = ["image_threshold", "pixel_threshold"];

    // Error rates: a rise is the regression.
    private static readonly HashSet<string> LowerIsBetterMetrics = ["image_fpr", "image_fnr"];

    /// <summary>Every metric column except the two thresholds, in file order.</summary>
    public static IReadOnlyList<string> All { get; } =
        [.. ResultColumns.All.Where(c => c.IsMetric && !NotQualityMetrics.Contains(c.Name)).Select(c => c.Name)];

    public static bool HigherIsBetter(string metric) => !LowerIsBetterMetrics.Contains(metric);

    public static bool IsThresholdIndependent(string metric) => ResultColumns.ThresholdIndependent.Contains(metric);

    internal static void Check(string metric, string field)
    {
        if (!All.Contains(metric))
        {
            throw new FarmException(
                $"'{metric}' is not a compared metric; metrics: {string.Join(", ", All)}", field: field);
        }
    }
}
