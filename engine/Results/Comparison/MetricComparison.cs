namespace Farm.Engine.Results.Comparison;

/// <summary>How a seed-averaged metric moved from the previous run to the current one.</summary>
public enum ComparisonOutcome
{
    /// <summary>Changed by no more than the tolerance (either way).</summary>
    WithinTolerance,

    /// <summary>Better by more than the tolerance.</summary>
    Improved,

    /// <summary>Worse by more than the tolerance: lower, or higher for an error rate.</summary>
    Regressed,

    /// <summary>Defined before, null (undefined for every seed) now: counted as a regression.</summary>
    BecameUndefined,

    /// <summary>Null before, defined now.</summary>
    BecameDefined,
}

/// <summary>
/// One metric of one group in both runs: the means over seeds (NaN when no seed has a value), how many seeds had a
/// value, and the tolerance applied.
/// </summary>
public sealed record MetricComparison(
    ComparisonGroup Group,
    string Metric,
    double Previous,
    double Current,
    int PreviousSeeds,
    int CurrentSeeds,
    double Tolerance)
{
    // Differences of means carry rounding noise of a few ulps: a drop of exactly the tolerance (0.90 -> 0.89 at 0.01)
    // must stay within it.
    private const double RoundingSlack = 1e-12;

    public bool HigherIsBetter => ComparedMetrics.HigherIsBetter(Metric);

    /// <summary>Current minus previous; NaN when either is undefined.</summary>
    public double Change => Current - Previous;

    public ComparisonOutcome Outcome => (double.IsNaN(Previous), double.IsNaN(Current)) switch
    {
        (false, true) => ComparisonOutcome.BecameUndefined,
        (true, false) => ComparisonOutcome.BecameDefined,
        _ when Worsening > Tolerance + RoundingSlack => ComparisonOutcome.Regressed,
        _ when -Worsening > Tolerance + RoundingSlack => ComparisonOutcome.Improved,
        _ => ComparisonOutcome.WithinTolerance,
    };

    public bool IsRegression => Outcome is ComparisonOutcome.Regressed or ComparisonOutcome.BecameUndefined;

    /// <summary>How much worse the metric got (negative when it got better), in the metric's units.</summary>
    public double Worsening => HigherIsBetter ? Previous - Current : Current - Previous;
}
