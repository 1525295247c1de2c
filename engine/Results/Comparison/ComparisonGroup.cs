using System.Globalization;

namespace Farm.Engine.Results.Comparison;

/// <summary>
/// The identity of one measurement across runs of a spec: the columns that say what was measured, without the ones
/// that say which run did it (sweep id and name, cell id, config hash, timings, creation time, Farm version) and
/// without the seeds, which are averaged over. <see cref="ThresholdMethod"/> is null for threshold-independent metrics:
/// they are equal on every threshold-method row of a cell, so they are compared once per cell, not once per method.
/// A sweep runs each model name once (the spec loader refuses a second entry), so model options need no column here.
/// </summary>
public sealed record ComparisonGroup(
    string Dataset,
    string Category,
    string DefectCategory,
    string Experiment,
    string? ConditionParameter,
    int ImageSize,
    string Model,
    string Backbone,
    string? ThresholdMethod)
{
    /// <summary>The columns of the key, in the order <see cref="Values"/> gives them.</summary>
    public static IReadOnlyList<string> Columns { get; } =
    [
        "dataset", "category", "defect_category", "experiment", "condition_parameter", "image_size", "model",
        "backbone", "threshold_method",
    ];

    /// <summary>Orders groups by model, then dataset, category, defect category, condition, size and method.</summary>
    public static IComparer<ComparisonGroup> Order { get; } = Comparer<ComparisonGroup>.Create((a, b) =>
    {
        foreach (var (x, y) in a.SortKeys().Zip(b.SortKeys()))
        {
            var order = string.CompareOrdinal(x, y);
            if (order != 0)
            {
                return order;
            }
        }
        return a.ImageSize.CompareTo(b.ImageSize);
    });

    public static ComparisonGroup Of(ResultRow row) => new(
        row.Dataset, row.Category, row.DefectCategory, row.Experiment, row.ConditionParameter, row.ImageSize,
        row.Model, row.Backbone, row.ThresholdMethod);

    /// <summary>The group of the cell's threshold-independent metrics.</summary>
    public ComparisonGroup AnyThreshold => this with { ThresholdMethod = null };

    /// <summary>The key's values as text, in <see cref="Columns"/> order (null where the column is null).</summary>
    public IReadOnlyList<string?> Values =>
    [
        Dataset, Category, DefectCategory, Experiment, ConditionParameter,
        ImageSize.ToString(CultureInfo.InvariantCulture), Model, Backbone, ThresholdMethod,
    ];

    /// <summary>One readable line, e.g. <c>padim/resnet18 mvtec/bottle/all none 256 f1max</c>.</summary>
    public string Label =>
        $"{Model}/{Backbone} {Dataset}/{Category}/{DefectCategory} {Condition} " +
        string.Create(CultureInfo.InvariantCulture, $"{ImageSize}") + $" {ThresholdMethod ?? "any-threshold"}";

    /// <summary>The experiment with its parameter, e.g. <c>noisy-labels=0.08</c>.</summary>
    public string Condition => ConditionParameter is null ? Experiment : $"{Experiment}={ConditionParameter}";

    private IEnumerable<string> SortKeys() =>
        [Model, Backbone, Dataset, Category, DefectCategory, Experiment, ConditionParameter ?? "", ThresholdMethod ?? ""];
}
